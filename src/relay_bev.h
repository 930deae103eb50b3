/*
 * Relaying between two bufferevents (a TLS client and a plain target or a
 * spawned server's socketpair), with bounded buffers and half-close.
 */
#ifndef PORTGATE_RELAY_BEV_H
#define PORTGATE_RELAY_BEV_H

#include <stdint.h>

#include "relay_tcp.h"

struct bufferevent;
struct event_base;
struct bev_relay;

/*
 * Relay between <client> and <server> (both owned from now on) with
 * <idle> seconds of idle timeout (0: none).  <done> is never called from
 * inside this function.  Returns NULL on allocation failure.
 */
struct bev_relay *relay_bev_start(struct event_base *base,
		    struct bufferevent *client, struct bufferevent *server,
		    int idle, relay_done_cb done, void *arg);
/* Stop without calling done; frees both bufferevents. */
void		 relay_bev_free(struct bev_relay *);
/*
 * relay_bev_free() for an end that is no error (shutdown): close_notify
 * first to a client whose output is empty.  NULL is accepted.
 */
void		 relay_bev_close(struct bev_relay *);
void		 relay_bev_counts(const struct bev_relay *, uint64_t *in,
		    uint64_t *out);

#endif
