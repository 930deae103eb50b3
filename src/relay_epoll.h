/*
 * A worker's own epoll set for the plain TCP relays: each socket is
 * registered once, edge-triggered, and forgotten at its close without a
 * system call.  The set is one persistent EV_READ event of the loop.
 */
#ifndef PORTGATE_RELAY_EPOLL_H
#define PORTGATE_RELAY_EPOLL_H

#include <stdint.h>

struct event_base;
struct relay_epoll;

/*
 * A socket's callback: <events> are what epoll reported (EPOLLIN,
 * EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR), or 0 when the callback runs
 * because the owner posted it (relay_epoll_post()).
 */
typedef void	(*relay_epoll_cb)(void *arg, uint32_t events);

/* The set of <base>, made at the first call; NULL with errno. */
struct relay_epoll	*relay_epoll_get(struct event_base *base);
/* Free the set of <base>, if any, before the base (no socket in it). */
void		 relay_epoll_free(struct event_base *base);

/*
 * Register <fd> (a socket that no other descriptor refers to) for
 * EPOLLIN | EPOLLOUT | EPOLLRDHUP, edge-triggered; its id, or 0 with
 * errno.  One epoll_ctl(ADD).
 */
uint64_t	 relay_epoll_add(struct relay_epoll *, int fd, relay_epoll_cb,
		    void *arg);
/* Forget <id> just before its socket is closed: no system call. */
void		 relay_epoll_forget(struct relay_epoll *, uint64_t id);
/* Forget <id> and take its socket out of the set (it lives on). */
void		 relay_epoll_del(struct relay_epoll *, uint64_t id);
/* Call <id>'s callback with 0 on the next turn of the loop. */
void		 relay_epoll_post(struct relay_epoll *, uint64_t id);

/*
 * Hand a registered socket over: relay_epoll_offer() before the socket
 * is given away (events are then only noted), relay_epoll_claim() by the
 * new owner (the id if <fd> is the one offered, else 0; <seen> gets what
 * epoll reported since the registration), relay_epoll_offer_end() after:
 * a socket nobody claimed leaves the set (epoll_ctl(DEL)).
 */
void		 relay_epoll_offer(struct relay_epoll *, uint64_t id);
uint64_t	 relay_epoll_claim(struct relay_epoll *, int fd,
		    relay_epoll_cb, void *arg, uint32_t *seen);
void		 relay_epoll_offer_end(struct relay_epoll *);

#endif
