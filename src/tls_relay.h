/*
 * Relaying between a TLS client (an SSL on its socket, after the
 * handshake) and a plain target socket, without bufferevents: bounded
 * buffers, half-close, idle timeout.
 */
#ifndef PORTGATE_TLS_RELAY_H
#define PORTGATE_TLS_RELAY_H

#include <stdint.h>

#include "relay_tcp.h"

struct event_base;
struct ssl_st;
struct tls_relay;

/*
 * Relay between <ssl> on <cfd> and the target socket <sfd> (all owned
 * from now on, also on failure) with <idle> seconds of idle timeout (0:
 * none).  <done> is never called from inside this function.  Returns NULL
 * on allocation failure.
 */
struct tls_relay *tls_relay_start(struct event_base *base, struct ssl_st *ssl,
		    int cfd, int sfd, int idle, relay_done_cb done, void *arg);
/*
 * Stop without calling done.  <notify>: an end that is no error
 * (shutdown): close_notify first when everything was sent to the client.
 * NULL is accepted.
 */
void		 tls_relay_free(struct tls_relay *, int notify);
void		 tls_relay_counts(const struct tls_relay *, uint64_t *in,
		    uint64_t *out);

#endif
