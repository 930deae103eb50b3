/*
 * TCP forwarding: move bytes both ways between a client and a connected
 * target with bounded buffers, passing half-closes on, until both
 * directions are done.
 */
#ifndef PORTGATE_RELAY_TCP_H
#define PORTGATE_RELAY_TCP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

struct event_base;
struct service_conf;

enum relay_end {
	RELAY_DONE,		/* both directions closed in order */
	RELAY_IDLE,		/* idle_timeout */
	RELAY_ERROR		/* a reset or an error on either side */
};

/* Called once when the relay ends; <why> says more for the log. */
typedef void	(*relay_done_cb)(void *arg, enum relay_end end, const char *why,
		    uint64_t in, uint64_t out);

struct relay;

/*
 * Relay between <client> and <server> (connected, non-blocking; the relay
 * owns both from now on) for service <sc>.  <done> is never called from
 * inside this function.  Returns NULL on allocation failure (the sockets
 * are then still the caller's).
 */
struct relay	*relay_tcp_start(struct event_base *base, int client,
		    int server, const struct service_conf *sc,
		    relay_done_cb done, void *arg);
/* Stop without calling done (shutdown); closes both sockets. */
void		 relay_tcp_free(struct relay *);
/* Bytes each way so far. */
void		 relay_tcp_counts(const struct relay *, uint64_t *in,
		    uint64_t *out);
/* The bytes a relay buffers at most per direction. */
#define RELAY_BUFSZ	65536

#endif
