/*
 * UDP forwarding.  Flows are kept in a red-black tree keyed by the client's
 * address and port; each has a connected socket to the target, so the
 * kernel routes replies to the flow, and an idle timer checked lazily (the
 * timer is re-armed only when it fires, not on every datagram).
 *
 * A client chooses its source port, and a spoofer any number of them: each
 * new one costs a descriptor.  Flows take theirs from the descriptor
 * budget as spares (a quarter of the budget stays for TCP accepts), and
 * when none is left the flow idle longest, of any service, makes room
 * (least recently used first: every datagram either way moves its flow to
 * the end of the lists).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "dgram.h"
#include "fdbudget.h"
#include "proxyproto.h"
#include "rbtree.h"
#include "relay_udp.h"

#define UDP_MAXDGRAM	65536
#define UDP_EVICT_MAX	2	/* flows ended to make room for one */

struct udp_flow {
	RB_ENTRY(udp_flow)		 uf_node;
	TAILQ_ENTRY(udp_flow)		 uf_lru;	/* every flow */
	TAILQ_ENTRY(udp_flow)		 uf_tlru;	/* its table's */
	struct udp_flows		*uf_table;
	const struct service_conf	*uf_conf;
	struct sockaddr_storage		 uf_from;
	socklen_t			 uf_fromlen;
	struct sockaddr_storage		 uf_local;
	struct dgram_dst		 uf_dst;	/* reply from here */
	int				 uf_listenfd;
	int				 uf_fd;		/* connected upstream */
	struct event			*uf_ev;
	struct event			*uf_idle;
	int64_t				 uf_last;	/* ms */
	uint64_t			 uf_in;
	uint64_t			 uf_out;
	udp_flow_done_cb		 uf_done;
	void				*uf_arg;
};

RB_HEAD(flow_tree, udp_flow);
TAILQ_HEAD(flow_lru, udp_flow);

struct udp_flows {
	struct flow_tree	ft_tree;
	struct flow_lru		ft_lru;		/* least recently used first */
	int			ft_n;
};

/* The flows of every service, least recently used first. */
static struct flow_lru	flow_lru = TAILQ_HEAD_INITIALIZER(flow_lru);

/* Monotonic time in milliseconds, for idle expiry. */
static int64_t
relay_udp_now(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Order of client addresses: family, port, address. */
static int
flow_cmp(struct udp_flow *a, struct udp_flow *b)
{
	const struct sockaddr_storage	*x = &a->uf_from, *y = &b->uf_from;
	const struct sockaddr_in	*x4, *y4;
	const struct sockaddr_in6	*x6, *y6;

	if (x->ss_family != y->ss_family)
		return x->ss_family < y->ss_family ? -1 : 1;
	if (x->ss_family == AF_INET) {
		x4 = (const struct sockaddr_in *)(const void *)x;
		y4 = (const struct sockaddr_in *)(const void *)y;
		if (x4->sin_port != y4->sin_port)
			return x4->sin_port < y4->sin_port ? -1 : 1;
		return memcmp(&x4->sin_addr, &y4->sin_addr, 4);
	}
	x6 = (const struct sockaddr_in6 *)(const void *)x;
	y6 = (const struct sockaddr_in6 *)(const void *)y;
	if (x6->sin6_port != y6->sin6_port)
		return x6->sin6_port < y6->sin6_port ? -1 : 1;
	return memcmp(&x6->sin6_addr, &y6->sin6_addr, 16);
}

PG_RB_GENERATE_STATIC(flow_tree, udp_flow, uf_node, flow_cmp)

struct udp_flows *
relay_udp_table_new(void)
{
	struct udp_flows	*ft;

	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	RB_INIT(&ft->ft_tree);
	TAILQ_INIT(&ft->ft_lru);
	return ft;
}

/* Traffic on <uf>: it becomes the most recently used. */
static void
relay_udp_touch(struct udp_flow *uf)
{
	uf->uf_last = relay_udp_now();
	if (TAILQ_NEXT(uf, uf_lru) != NULL) {
		TAILQ_REMOVE(&flow_lru, uf, uf_lru);
		TAILQ_INSERT_TAIL(&flow_lru, uf, uf_lru);
	}
	if (TAILQ_NEXT(uf, uf_tlru) != NULL) {
		TAILQ_REMOVE(&uf->uf_table->ft_lru, uf, uf_tlru);
		TAILQ_INSERT_TAIL(&uf->uf_table->ft_lru, uf, uf_tlru);
	}
}

/* End <uf>: done callback, then free. */
static void
relay_udp_end(struct udp_flow *uf, const char *why)
{
	udp_flow_done_cb	 done = uf->uf_done;
	void			*arg = uf->uf_arg;
	uint64_t		 in = uf->uf_in, out = uf->uf_out;

	relay_udp_close(uf);
	done(arg, why, in, out);
}

void
relay_udp_table_free(struct udp_flows *ft)
{
	struct udp_flow	*uf;

	if (ft == NULL)
		return;
	while ((uf = RB_MIN(flow_tree, &ft->ft_tree)) != NULL)
		relay_udp_end(uf, "service removed");
	free(ft);
}

int
relay_udp_count(const struct udp_flows *ft)
{
	return ft->ft_n;
}

struct udp_flow *
relay_udp_find(struct udp_flows *ft, const struct sockaddr *from)
{
	struct udp_flow	find;

	if (ft->ft_n == 0)
		return NULL;
	find.uf_from.ss_family = from->sa_family;
	memcpy(&find.uf_from, from, from->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	return RB_FIND(flow_tree, &ft->ft_tree, &find);
}

/* A reply from the target: send it to the client. */
static void
relay_udp_reply_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_flow		*uf = arg;
	static unsigned char	 buf[UDP_MAXDGRAM];
	ssize_t			 n;
	int			 i;

	(void)what;
	for (i = 0; i < 64; i++) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* ICMP unreachable and the like: the flow ends. */
			relay_udp_end(uf, strerror(errno));
			return;
		}
		if (i == 0)
			relay_udp_touch(uf);
		if (dgram_reply(uf->uf_listenfd, buf, (size_t)n,
		    (struct sockaddr *)&uf->uf_from, uf->uf_fromlen,
		    &uf->uf_dst) == n)
			uf->uf_out += (uint64_t)n;
	}
}

/* The idle check of a flow. */
static void
relay_udp_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_flow	*uf = arg;
	struct timeval	 tv;
	int64_t		 left;

	(void)fd;
	(void)what;
	left = (int64_t)uf->uf_conf->sc_idle_timeout * 1000 -
	    (relay_udp_now() - uf->uf_last);
	if (left <= 0) {
		relay_udp_end(uf, "idle");
		return;
	}
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	(void)evtimer_add(uf->uf_idle, &tv);
}

/* End <uf> to make room for a new flow; 0, or -1 if there is none. */
static int
relay_udp_evict(struct udp_flow *uf)
{
	if (uf == NULL)
		return -1;
	fdbudget_note(FDB_EVICTED);
	relay_udp_end(uf, "evicted");
	return 0;
}

struct udp_flow *
relay_udp_open(struct udp_flows *ft, struct event_base *base,
    const struct service_conf *sc, int listenfd, const struct sockaddr *from,
    socklen_t fromlen, const struct sockaddr *local,
    const struct dgram_dst *dst, udp_flow_done_cb done, void *arg)
{
	const struct redirect_target	*rt = &sc->sc_redirect[0];
	struct timeval			 tv = { sc->sc_idle_timeout, 0 };
	struct udp_flow			*uf;
	int				 n;

	if (ft->ft_n >= RELAY_UDP_MAXFLOWS &&
	    relay_udp_evict(TAILQ_FIRST(&ft->ft_lru)) == -1) {
		errno = ENOSPC;
		return NULL;
	}
	/*
	 * Two at most: the flows shrink, one by one, while TCP sessions
	 * need more of the budget, but no burst empties the table at once.
	 */
	for (n = 0; fdbudget_take(1, FDB_SPARE) == -1; n++)
		if (n == UDP_EVICT_MAX ||
		    relay_udp_evict(TAILQ_FIRST(&flow_lru)) == -1) {
			errno = EMFILE;
			return NULL;
		}
	if ((uf = calloc(1, sizeof(*uf))) == NULL) {
		fdbudget_release(1);
		return NULL;
	}
	uf->uf_table = ft;
	uf->uf_conf = sc;
	uf->uf_listenfd = listenfd;
	memcpy(&uf->uf_from, from, fromlen);
	uf->uf_fromlen = fromlen;
	if (local != NULL)
		memcpy(&uf->uf_local, local, local->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	uf->uf_dst = *dst;
	uf->uf_done = done;
	uf->uf_arg = arg;
	uf->uf_last = relay_udp_now();
	uf->uf_fd = socket(rt->rt_addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (uf->uf_fd == -1 && (errno == EMFILE || errno == ENFILE))
		fdbudget_recount();	/* something uncounted holds them */
	if (uf->uf_fd == -1 || connect(uf->uf_fd,
	    (const struct sockaddr *)&rt->rt_addr, rt->rt_addrlen) == -1)
		goto fail;
	uf->uf_ev = event_new(base, uf->uf_fd, EV_READ | EV_PERSIST,
	    relay_udp_reply_cb, uf);
	uf->uf_idle = evtimer_new(base, relay_udp_idle_cb, uf);
	if (uf->uf_ev == NULL || uf->uf_idle == NULL ||
	    event_add(uf->uf_ev, NULL) == -1 ||
	    evtimer_add(uf->uf_idle, &tv) == -1)
		goto fail;
	RB_INSERT(flow_tree, &ft->ft_tree, uf);
	TAILQ_INSERT_TAIL(&flow_lru, uf, uf_lru);
	TAILQ_INSERT_TAIL(&ft->ft_lru, uf, uf_tlru);
	ft->ft_n++;
	return uf;
fail:
	if (uf->uf_ev != NULL)
		event_free(uf->uf_ev);
	if (uf->uf_idle != NULL)
		event_free(uf->uf_idle);
	if (uf->uf_fd != -1)
		(void)close(uf->uf_fd);
	free(uf);
	fdbudget_release(1);
	return NULL;
}

void
relay_udp_send(struct udp_flow *uf, const void *data, size_t len)
{
	static unsigned char	 buf[PROXY_V2_MAXLEN + UDP_MAXDGRAM];
	ssize_t			 hlen = 0;

	relay_udp_touch(uf);
	if (uf->uf_conf->sc_proxy_protocol == PROXY_V2) {
		hlen = proxyproto_encode(2, SOCK_DGRAM,
		    (struct sockaddr *)&uf->uf_from,
		    (struct sockaddr *)&uf->uf_local, buf, PROXY_V2_MAXLEN);
		if (hlen < 0 || len > UDP_MAXDGRAM)
			return;
		memcpy(buf + hlen, data, len);
		data = buf;
	}
	if (send(uf->uf_fd, data, (size_t)hlen + len, MSG_DONTWAIT) ==
	    (ssize_t)((size_t)hlen + len))
		uf->uf_in += len;
}

void
relay_udp_close(struct udp_flow *uf)
{
	RB_REMOVE(flow_tree, &uf->uf_table->ft_tree, uf);
	TAILQ_REMOVE(&flow_lru, uf, uf_lru);
	TAILQ_REMOVE(&uf->uf_table->ft_lru, uf, uf_tlru);
	uf->uf_table->ft_n--;
	event_free(uf->uf_ev);
	event_free(uf->uf_idle);
	(void)close(uf->uf_fd);
	free(uf);
	fdbudget_release(1);
}

void
relay_udp_counts(const struct udp_flow *uf, uint64_t *in, uint64_t *out)
{
	*in = uf->uf_in;
	*out = uf->uf_out;
}
