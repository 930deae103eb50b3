/*
 * The epoll set of the plain TCP relays (relay_tcp.c, and the connect of
 * relay_connect.c), driven directly as nginx does, beside libevent's.
 * libevent cannot forget a descriptor without epoll_ctl(DEL), two system
 * calls per forwarded connection; here each socket is registered once for
 * EPOLLIN | EPOLLOUT | EPOLLRDHUP, edge-triggered, its owner keeps the
 * readiness (reading until EAGAIN), and a socket's close takes it out of
 * the set by itself: the file's last reference is the one closed, as the
 * relays neither dup() nor pass their sockets on (one that is given away
 * leaves with relay_epoll_del()).
 *
 * The set is one persistent EV_READ event of the loop; each wake-up takes
 * up to RELAY_EPOLL_BATCH events with one epoll_wait() (more wait in the
 * set, which stays readable for the next turn).  A registration is a slot
 * whose id carries a generation: a socket closed while events of the same
 * batch are still to be delivered bumps it, and those events are dropped.
 * An owner that stops with work left (bounded rounds) posts itself: its
 * callback runs again on the next turn, after the loop has polled, from a
 * zero timeout, since an edge-triggered set would not report it again.
 */
#include <sys/types.h>
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "relay_epoll.h"

#define RELAY_EPOLL_BATCH	64	/* events per epoll_wait() */
#define RELAY_EPOLL_SLOTS	64	/* slots at first, then doubled */

struct relay_epoll_slot {
	relay_epoll_cb	 sl_cb;		/* NULL: free, or offered */
	void		*sl_arg;
	int		 sl_fd;		/* -1: free */
	uint32_t	 sl_gen;
	uint32_t	 sl_seen;	/* events reported so far */
	uint32_t	 sl_next;	/* the free list */
	int		 sl_posted;
};

struct relay_epoll {
	struct relay_epoll	*ep_next;	/* of the process */
	struct event_base	*ep_base;
	int			 ep_fd;
	struct event		*ep_ev;		/* ep_fd readable */
	struct event		*ep_post_ev;	/* the posted, next turn */
	struct relay_epoll_slot	*ep_slots;
	uint32_t		 ep_nslots;
	uint32_t		 ep_free;	/* first free slot, or nslots */
	uint64_t		*ep_post;	/* ids to call again */
	size_t			 ep_npost;
	size_t			 ep_postcap;
	uint64_t		 ep_offer;	/* being handed over, or 0 */
	struct epoll_event	 ep_evs[RELAY_EPOLL_BATCH];
};

static struct relay_epoll	*relay_epolls;

#define ID_SLOT(id)	((uint32_t)((id) & 0xffffffffu))
#define ID_GEN(id)	((uint32_t)((id) >> 32))

/* The slot of <id> if it is still that registration, else NULL. */
static struct relay_epoll_slot *
relay_epoll_slot(struct relay_epoll *ep, uint64_t id)
{
	struct relay_epoll_slot	*sl;

	if (ID_SLOT(id) >= ep->ep_nslots)
		return NULL;
	sl = &ep->ep_slots[ID_SLOT(id)];
	if (sl->sl_fd == -1 || sl->sl_gen != ID_GEN(id))
		return NULL;
	return sl;
}

/* The events of one wake-up. */
static void
relay_epoll_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct relay_epoll	*ep = arg;
	struct relay_epoll_slot	*sl;
	uint32_t		 events;
	int			 i, n;

	(void)fd;
	(void)what;
	if ((n = epoll_wait(ep->ep_fd, ep->ep_evs, RELAY_EPOLL_BATCH, 0)) ==
	    -1) {
		if (errno != EINTR)
			log_warn("relay: epoll_wait");
		return;
	}
	for (i = 0; i < n; i++) {
		/* Closed by an earlier callback of this batch: dropped. */
		if ((sl = relay_epoll_slot(ep, ep->ep_evs[i].data.u64)) ==
		    NULL)
			continue;
		events = ep->ep_evs[i].events;
		sl->sl_seen |= events;
		if (sl->sl_cb != NULL)
			sl->sl_cb(sl->sl_arg, events);
	}
}

/* The posted callbacks: those posted while they run wait a turn more. */
static void
relay_epoll_posted(evutil_socket_t fd, short what, void *arg)
{
	struct relay_epoll	*ep = arg;
	struct relay_epoll_slot	*sl;
	size_t			 i, n = ep->ep_npost;

	(void)fd;
	(void)what;
	for (i = 0; i < n; i++) {
		if ((sl = relay_epoll_slot(ep, ep->ep_post[i])) == NULL)
			continue;
		sl->sl_posted = 0;
		if (sl->sl_cb != NULL)
			sl->sl_cb(sl->sl_arg, 0);
	}
	ep->ep_npost -= n;
	memmove(ep->ep_post, ep->ep_post + n, ep->ep_npost *
	    sizeof(*ep->ep_post));
}

struct relay_epoll *
relay_epoll_get(struct event_base *base)
{
	struct relay_epoll	*ep;

	for (ep = relay_epolls; ep != NULL; ep = ep->ep_next)
		if (ep->ep_base == base)
			return ep;
	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return NULL;
	ep->ep_base = base;
	if ((ep->ep_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(ep);
		return NULL;
	}
	ep->ep_ev = event_new(base, ep->ep_fd, EV_READ | EV_PERSIST,
	    relay_epoll_dispatch, ep);
	ep->ep_post_ev = evtimer_new(base, relay_epoll_posted, ep);
	if (ep->ep_ev == NULL || ep->ep_post_ev == NULL ||
	    event_add(ep->ep_ev, NULL) == -1) {
		if (ep->ep_ev != NULL)
			event_free(ep->ep_ev);
		if (ep->ep_post_ev != NULL)
			event_free(ep->ep_post_ev);
		(void)close(ep->ep_fd);
		free(ep);
		errno = ENOMEM;
		return NULL;
	}
	ep->ep_next = relay_epolls;
	relay_epolls = ep;
	return ep;
}

void
relay_epoll_free(struct event_base *base)
{
	struct relay_epoll	*ep, **pp;

	for (pp = &relay_epolls; (ep = *pp) != NULL; pp = &ep->ep_next)
		if (ep->ep_base == base)
			break;
	if (ep == NULL)
		return;
	*pp = ep->ep_next;
	event_free(ep->ep_ev);
	event_free(ep->ep_post_ev);
	(void)close(ep->ep_fd);
	free(ep->ep_slots);
	free(ep->ep_post);
	free(ep);
}

/* A free slot (the table doubled when full); its index, or -1. */
static int64_t
relay_epoll_alloc(struct relay_epoll *ep)
{
	struct relay_epoll_slot	*slots;
	uint32_t		 i, n;

	if (ep->ep_free == ep->ep_nslots) {
		n = ep->ep_nslots == 0 ? RELAY_EPOLL_SLOTS : ep->ep_nslots * 2;
		if (n <= ep->ep_nslots || (slots = reallocarray(ep->ep_slots,
		    n, sizeof(*slots))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		for (i = ep->ep_nslots; i < n; i++) {
			memset(&slots[i], 0, sizeof(slots[i]));
			slots[i].sl_fd = -1;
			slots[i].sl_gen = 1;
			slots[i].sl_next = i + 1;
		}
		ep->ep_slots = slots;
		ep->ep_free = ep->ep_nslots;
		ep->ep_nslots = n;
	}
	i = ep->ep_free;
	ep->ep_free = ep->ep_slots[i].sl_next;
	return i;
}

/* Give the slot of <id> back; its pending events and posts are dropped. */
static void
relay_epoll_release(struct relay_epoll *ep, uint64_t id)
{
	struct relay_epoll_slot	*sl;

	if ((sl = relay_epoll_slot(ep, id)) == NULL)
		return;
	if (ep->ep_offer == id)
		ep->ep_offer = 0;
	sl->sl_cb = NULL;
	sl->sl_arg = NULL;
	sl->sl_fd = -1;
	sl->sl_seen = 0;
	sl->sl_posted = 0;
	if (++sl->sl_gen == 0)
		sl->sl_gen = 1;
	sl->sl_next = ep->ep_free;
	ep->ep_free = ID_SLOT(id);
}

uint64_t
relay_epoll_add(struct relay_epoll *ep, int fd, relay_epoll_cb cb, void *arg)
{
	struct relay_epoll_slot	*sl;
	struct epoll_event	 ev;
	int64_t			 i;
	uint64_t		 id;

	if ((i = relay_epoll_alloc(ep)) == -1)
		return 0;
	sl = &ep->ep_slots[i];
	id = (uint64_t)sl->sl_gen << 32 | (uint64_t)i;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = id;
	if (epoll_ctl(ep->ep_fd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		sl->sl_next = ep->ep_free;
		ep->ep_free = (uint32_t)i;
		return 0;
	}
	sl->sl_fd = fd;
	sl->sl_cb = cb;
	sl->sl_arg = arg;
	return id;
}

void
relay_epoll_forget(struct relay_epoll *ep, uint64_t id)
{
	relay_epoll_release(ep, id);
}

void
relay_epoll_del(struct relay_epoll *ep, uint64_t id)
{
	struct relay_epoll_slot	*sl;

	if ((sl = relay_epoll_slot(ep, id)) == NULL)
		return;
	/* Fails (EBADF) only if the socket was closed: gone anyway. */
	(void)epoll_ctl(ep->ep_fd, EPOLL_CTL_DEL, sl->sl_fd, NULL);
	relay_epoll_release(ep, id);
}

void
relay_epoll_post(struct relay_epoll *ep, uint64_t id)
{
	static const struct timeval	 now = { 0, 0 };
	struct relay_epoll_slot		*sl;
	uint64_t			*post;
	size_t				 n;

	if ((sl = relay_epoll_slot(ep, id)) == NULL || sl->sl_posted)
		return;
	if (ep->ep_npost == ep->ep_postcap) {
		n = ep->ep_postcap == 0 ? 16 : ep->ep_postcap * 2;
		if ((post = reallocarray(ep->ep_post, n, sizeof(*post))) ==
		    NULL) {
			/* Rare: the owner's next event will do instead. */
			log_warn("relay: post");
			return;
		}
		ep->ep_post = post;
		ep->ep_postcap = n;
	}
	ep->ep_post[ep->ep_npost++] = id;
	sl->sl_posted = 1;
	if (!evtimer_pending(ep->ep_post_ev, NULL))
		(void)evtimer_add(ep->ep_post_ev, &now);
}

void
relay_epoll_offer(struct relay_epoll *ep, uint64_t id)
{
	struct relay_epoll_slot	*sl;

	if ((sl = relay_epoll_slot(ep, id)) == NULL)
		return;
	sl->sl_cb = NULL;
	sl->sl_arg = NULL;
	ep->ep_offer = id;
}

uint64_t
relay_epoll_claim(struct relay_epoll *ep, int fd, relay_epoll_cb cb,
    void *arg, uint32_t *seen)
{
	struct relay_epoll_slot	*sl;
	uint64_t		 id = ep->ep_offer;

	if (id == 0 || (sl = relay_epoll_slot(ep, id)) == NULL ||
	    sl->sl_fd != fd)
		return 0;
	ep->ep_offer = 0;
	sl->sl_cb = cb;
	sl->sl_arg = arg;
	*seen = sl->sl_seen;
	return id;
}

void
relay_epoll_offer_end(struct relay_epoll *ep)
{
	if (ep->ep_offer != 0)
		relay_epoll_del(ep, ep->ep_offer);
	ep->ep_offer = 0;
}
