/*
 * Reaching a redirect target.  Targets given with `redirect +=` are tried
 * in order when a connect fails or times out.
 */
#include <sys/types.h>
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

struct relay_connector {
	struct event_base		*cn_base;
	const struct service_conf	*cn_conf;
	struct sockaddr_storage		 cn_from;
	struct sockaddr_storage		 cn_to;
	int				 cn_target;	/* being tried */
	int				 cn_fd;
	uint64_t			 cn_since;	/* its connect() */
	struct metrics_service		*cn_metrics;
	struct event			*cn_ev;
	relay_connect_cb			 cn_cb;
	void				*cn_arg;
	char				 cn_why[160];
};

static void	relay_connect_next(struct relay_connector *);

void
relay_connect_cancel(struct relay_connector *cn)
{
	if (cn == NULL)
		return;
	if (cn->cn_ev != NULL)
		event_free(cn->cn_ev);
	if (cn->cn_fd != -1)
		(void)close(cn->cn_fd);
	free(cn);
}

/*
 * Report <fd> (or failure) and free the connector.  <ev>, the connect's
 * event of <fd> if not NULL, is freed only once <cb> has returned: the
 * relay's read event on <fd> then finds EPOLLIN already watched, and
 * freeing <ev> turns the watch into EPOLLIN alone with one epoll_ctl(MOD)
 * instead of a DEL and an ADD.  Should <cb> close <fd>, libevent ignores
 * the failed DEL (and a MOD that fails with ENOENT is retried as ADD).
 */
static void
relay_connect_done(struct relay_connector *cn, int fd, struct event *ev)
{
	relay_connect_cb	 cb = cn->cn_cb;
	void		*arg = cn->cn_arg;
	char		 why[sizeof(cn->cn_why)];

	(void)strlcpy(why, cn->cn_why, sizeof(why));
	cn->cn_fd = -1;
	relay_connect_cancel(cn);
	cb(arg, fd, why);
	if (ev != NULL)
		event_free(ev);
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

/*
 * The connect of the current target completed or timed out.  The event
 * watches EV_READ too: libevent reports EPOLLERR and EPOLLHUP as EV_READ
 * | EV_WRITE, and a socket still connecting is neither readable nor
 * writable, so EV_WRITE alone means connected, with no error to ask for.
 * EV_READ (an error, or bytes the server sent first) asks SO_ERROR.
 */
static void
relay_connect_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_connector		*cn = arg;
	const struct redirect_target	*rt;
	struct event			*ev = cn->cn_ev;
	socklen_t			 len = sizeof(int);
	int				 err = 0;

	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if ((what & EV_READ) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	cn->cn_ev = NULL;
	if (err == 0) {
		metrics_connect_time(cn->cn_metrics, cn->cn_since);
		if (relay_connect_ready(cn) == 0) {
			relay_connect_done(cn, cn->cn_fd, ev);
			return;
		}
	} else {
		rt = &cn->cn_conf->sc_redirect[cn->cn_target];
		metrics_connect_failure(cn->cn_metrics, rt->rt_host,
		    rt->rt_port);
		(void)snprintf(cn->cn_why, sizeof(cn->cn_why), "%s port %s: "
		    "%s", rt->rt_host, rt->rt_port, strerror(err));
	}
	event_free(ev);
	(void)close(cn->cn_fd);
	cn->cn_fd = -1;
	cn->cn_target++;
	relay_connect_next(cn);
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
			/* Persistent: it stays watched through the report. */
			cn->cn_ev = event_new(cn->cn_base, cn->cn_fd, EV_READ |
			    EV_WRITE | EV_PERSIST, relay_connect_io_cb, cn);
			if (cn->cn_ev != NULL &&
			    event_add(cn->cn_ev, &tv) == 0)
				return;
			(void)snprintf(cn->cn_why, sizeof(cn->cn_why),
			    "out of memory");
			break;
		}
		(void)snprintf(cn->cn_why, sizeof(cn->cn_why), "%s port %s: "
		    "%s", rt->rt_host, rt->rt_port, strerror(errno));
		metrics_connect_failure(cn->cn_metrics, rt->rt_host,
		    rt->rt_port);
		(void)close(cn->cn_fd);
		cn->cn_fd = -1;
	}
	relay_connect_done(cn, -1, NULL);
}

/* The first connect, from the loop. */
static void
relay_connect_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_connector	*cn = arg;

	(void)fd;
	(void)what;
	event_free(cn->cn_ev);
	cn->cn_ev = NULL;
	relay_connect_next(cn);
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
	cn->cn_ev = evtimer_new(base, relay_connect_start_cb, cn);
	if (cn->cn_ev == NULL) {
		free(cn);
		return NULL;
	}
	event_active(cn->cn_ev, EV_TIMEOUT, 1);
	return cn;
}
