/*
 * Reaching a redirect target.  Targets given with `redirect +=` are tried
 * in order when a connect fails or times out.  The socket is registered in
 * the worker's epoll set of the relays (relay_epoll.c) at its connect, and
 * the registration is handed to relay_tcp.c with the socket: one
 * epoll_ctl for the target's side of a forwarded connection.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "metrics.h"
#include "proxyproto.h"
#include "relay_connect.h"
#include "relay_epoll.h"

struct relay_connector {
	struct event_base		*cn_base;
	struct relay_epoll		*cn_ep;
	const struct service_conf	*cn_conf;
	struct sockaddr_storage		 cn_from;
	struct sockaddr_storage		 cn_to;
	int				 cn_target;	/* being tried */
	int				 cn_fd;
	uint64_t			 cn_since;	/* its connect() */
	struct metrics_service		*cn_metrics;
	uint64_t			 cn_id;		/* cn_fd's registration */
	struct event			*cn_ev;		/* first turn, timeout */
	relay_connect_cb			 cn_cb;
	void				*cn_arg;
	char				 cn_why[160];
};

static void	relay_connect_next(struct relay_connector *);

/* Close the socket being tried, and forget its registration. */
static void
relay_connect_forget(struct relay_connector *cn)
{
	if (cn->cn_ev != NULL)
		(void)evtimer_del(cn->cn_ev);
	if (cn->cn_id != 0)
		relay_epoll_forget(cn->cn_ep, cn->cn_id);
	cn->cn_id = 0;
	if (cn->cn_fd != -1)
		(void)close(cn->cn_fd);
	cn->cn_fd = -1;
}

void
relay_connect_cancel(struct relay_connector *cn)
{
	if (cn == NULL)
		return;
	if (cn->cn_ev != NULL)
		event_free(cn->cn_ev);
	if (cn->cn_id != 0)
		relay_epoll_forget(cn->cn_ep, cn->cn_id);
	if (cn->cn_fd != -1)
		(void)close(cn->cn_fd);
	free(cn);
}

/*
 * Report <fd> (or failure) and free the connector.  <fd>'s registration
 * in the epoll set is offered to whoever <cb> gives the socket to:
 * relay_tcp_start() takes it over; if nobody does (TLS and banners go
 * through libevent, or <cb> closed the socket), it leaves the set.
 */
static void
relay_connect_done(struct relay_connector *cn, int fd)
{
	relay_connect_cb	 cb = cn->cn_cb;
	void		*arg = cn->cn_arg;
	struct relay_epoll	*ep = cn->cn_ep;
	uint64_t	 id = cn->cn_id;
	char		 why[sizeof(cn->cn_why)];

	(void)strlcpy(why, cn->cn_why, sizeof(why));
	cn->cn_fd = -1;
	cn->cn_id = 0;
	relay_connect_cancel(cn);
	if (id != 0)
		relay_epoll_offer(ep, id);
	cb(arg, fd, why);
	if (id != 0)
		relay_epoll_offer_end(ep);
}

/* Socket options and the PROXY header on a connected socket; 0 or -1. */
static int
relay_connect_ready(struct relay_connector *cn)
{
	const struct service_conf	*sc = cn->cn_conf;
	uint8_t				 hdr[PROXY_V2_MAXLEN];
	ssize_t				 len;
	int				 one = 1;

	(void)setsockopt(cn->cn_fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	if (sc->sc_flags & SFLAG_KEEPALIVE)
		(void)setsockopt(cn->cn_fd, SOL_SOCKET, SO_KEEPALIVE, &one,
		    sizeof(one));
	if (sc->sc_proxy_protocol == PROXY_NONE)
		return 0;
	len = proxyproto_encode(sc->sc_proxy_protocol == PROXY_V1 ? 1 : 2,
	    SOCK_STREAM, (struct sockaddr *)&cn->cn_from,
	    (struct sockaddr *)&cn->cn_to, hdr, sizeof(hdr));
	if (len < 0 || send(cn->cn_fd, hdr, (size_t)len, MSG_NOSIGNAL) !=
	    len) {
		(void)snprintf(cn->cn_why, sizeof(cn->cn_why), "PROXY header: "
		    "%s", len < 0 ? "cannot encode" : strerror(errno));
		return -1;
	}
	return 0;
}

/* The current target failed with <err>: on to the next. */
static void
relay_connect_failed(struct relay_connector *cn, int err)
{
	const struct redirect_target	*rt;

	rt = &cn->cn_conf->sc_redirect[cn->cn_target];
	metrics_connect_failure(cn->cn_metrics, rt->rt_host, rt->rt_port);
	(void)snprintf(cn->cn_why, sizeof(cn->cn_why), "%s port %s: %s",
	    rt->rt_host, rt->rt_port, strerror(err));
	relay_connect_forget(cn);
	cn->cn_target++;
	relay_connect_next(cn);
}

/*
 * epoll reported the connect's socket.  A socket still connecting is
 * neither readable nor writable (tcp_poll gives nothing before the
 * handshake), so EPOLLOUT or EPOLLIN without EPOLLERR or EPOLLHUP means
 * connected, with no error to ask for; EPOLLIN alone is a target that
 * spoke first.  An error asks SO_ERROR for its errno.
 */
static void
relay_connect_io_cb(void *arg, uint32_t events)
{
	struct relay_connector	*cn = arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (events & (EPOLLERR | EPOLLHUP)) {
		if (getsockopt(cn->cn_fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
	} else if ((events & (EPOLLOUT | EPOLLIN)) == 0)
		return;
	if (err != 0) {
		relay_connect_failed(cn, err);
		return;
	}
	metrics_connect_time(cn->cn_metrics, cn->cn_since);
	if (relay_connect_ready(cn) == 0) {
		relay_connect_done(cn, cn->cn_fd);
		return;
	}
	relay_connect_forget(cn);
	cn->cn_target++;
	relay_connect_next(cn);
}

/* The first turn (no socket yet), or connect_timeout of the current one. */
static void
relay_connect_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_connector	*cn = arg;

	(void)fd;
	(void)what;
	if (cn->cn_fd == -1)
		relay_connect_next(cn);
	else
		relay_connect_failed(cn, ETIMEDOUT);
}

/* Try the targets from cn_target on; report failure when none is left. */
static void
relay_connect_next(struct relay_connector *cn)
{
	const struct service_conf	*sc = cn->cn_conf;
	const struct redirect_target	*rt;
	struct timeval			 tv = { sc->sc_connect_timeout, 0 };

	for (; cn->cn_target < sc->sc_nredirect; cn->cn_target++) {
		rt = &sc->sc_redirect[cn->cn_target];
		cn->cn_fd = socket(rt->rt_addr.ss_family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (cn->cn_fd == -1) {
			(void)snprintf(cn->cn_why, sizeof(cn->cn_why),
			    "socket: %s", strerror(errno));
			break;
		}
		cn->cn_since = metrics_clock();
		if (connect(cn->cn_fd, (const struct sockaddr *)&rt->rt_addr,
		    rt->rt_addrlen) == 0 || errno == EINPROGRESS) {
			/* Registered once: relay_tcp.c takes it over. */
			cn->cn_id = relay_epoll_add(cn->cn_ep, cn->cn_fd,
			    relay_connect_io_cb, cn);
			if (cn->cn_id != 0 && event_add(cn->cn_ev, &tv) == 0)
				return;
			(void)snprintf(cn->cn_why, sizeof(cn->cn_why),
			    "cannot watch the connect: %s", strerror(errno));
			relay_connect_forget(cn);
			break;
		}
		(void)snprintf(cn->cn_why, sizeof(cn->cn_why), "%s port %s: "
		    "%s", rt->rt_host, rt->rt_port, strerror(errno));
		metrics_connect_failure(cn->cn_metrics, rt->rt_host,
		    rt->rt_port);
		(void)close(cn->cn_fd);
		cn->cn_fd = -1;
	}
	relay_connect_done(cn, -1);
}

struct relay_connector *
relay_connect_start(struct event_base *base, const struct service_conf *sc,
    const struct sockaddr *client, const struct sockaddr *local,
    struct metrics_service *ms, relay_connect_cb cb, void *arg)
{
	struct relay_connector	*cn;

	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return NULL;
	cn->cn_base = base;
	cn->cn_conf = sc;
	cn->cn_fd = -1;
	cn->cn_metrics = ms;
	cn->cn_cb = cb;
	cn->cn_arg = arg;
	memcpy(&cn->cn_from, client, client->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (local != NULL && (local->sa_family == AF_INET ||
	    local->sa_family == AF_INET6))
		memcpy(&cn->cn_to, local, local->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if ((cn->cn_ep = relay_epoll_get(base)) == NULL ||
	    (cn->cn_ev = evtimer_new(base, relay_connect_timer_cb, cn)) ==
	    NULL) {
		free(cn);
		return NULL;
	}
	/* The first connect runs from the loop. */
	event_active(cn->cn_ev, EV_TIMEOUT, 1);
	return cn;
}
