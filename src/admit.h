/*
 * Admission: the way from a listener to a session.  A client is put
 * through the gate before anything is allocated, so that a refused client
 * costs its socket and a log line only.
 */
#ifndef PORTGATE_ADMIT_H
#define PORTGATE_ADMIT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct dgram_dst;
struct event_base;
struct service;

/* Run queries, timers and PROXY header reads on <base>. */
void	admit_init(struct event_base *base);

/*
 * A stream client accepted on <sv>: its PROXY header first if the service
 * wants one, then the sensor, the gate, the banners and a session.
 */
void	admit_stream(struct service *sv, int fd, struct sockaddr *sa,
	    socklen_t salen);
/*
 * A datagram for a built-in, sensor or UDP forwarding service, sent to
 * <dst> (see dgram.h).
 */
void	admit_dgram(struct service *sv, const void *data, size_t len,
	    struct sockaddr *from, socklen_t fromlen,
	    const struct dgram_dst *dst);
/*
 * A service that hands its socket to a server is readable: gate the
 * sender of the first datagram (no address for a stream), then a session
 * that spawns the server on the socket.
 */
void	admit_handoff(struct service *sv);

/*
 * Free what the admission hung on a service (its FAIL-seen table), when
 * the service goes: the sh_admit_free hook of service.h.
 */
void	admit_service_free(void *data);
/* Drop clients waiting for a name look-up, free the resolver (stop). */
void	admit_shutdown(void);
/*
 * At most <n> refused clients held for an ident query at once (log_on_failure
 * USERID; xinetd's -logprocs); 0: none.  Default IDENT_REFUSED_MAX.
 */
void	admit_set_ident_max(int n);

#endif
