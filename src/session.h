/*
 * Sessions: one admitted client of a service, from admission to close,
 * holding its service and configuration, its limit slot, its counts and
 * its back end (built-in, spawned server, TCP or UDP relay, TLS in front).
 * A session is freed once, by session_close().
 */
#ifndef PORTGATE_SESSION_H
#define PORTGATE_SESSION_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

#include "quota.h"

struct dgram_dst;
struct service;
struct service_conf;
struct session;

/* Who an admitted client is, as the gate saw it. */
struct session_origin {
	const struct sockaddr	*so_peer;	/* unmapped */
	const char		*so_addr;	/* numeric */
	const char		*so_country;	/* NULL without geoip_db */
	const struct srckey	*so_key;
	time_t			 so_now;
	double			 so_fnow;
};

/*
 * Descriptors a stream session of <sc> holds at most at once, beside
 * splice pipes (which it does without when none are free): the client,
 * the back-end socket of a forward or the socketpair end of a server
 * behind TLS, and an ident query.
 */
int		 session_fds(const struct service_conf *sc);
/*
 * Take a limit slot and make a session of <sv> for <fd> (-1 for a UDP
 * flow), charged with session_fds() descriptors (a flow charges its own).
 * Returns NULL after logging (and closing <fd>) on failure.
 */
struct session	*session_new(struct service *sv, int fd,
		    const struct session_origin *o);
/* Start the back end of a stream session (TLS first if configured). */
void		 session_start(struct session *);
/* Spawn the server of a hand-off session on its socket. */
void		 session_start_handoff(struct session *);
/*
 * Open the UDP flow of a new client <from> of a forwarding service, whose
 * datagram was sent to <dst>, and send that first datagram.
 */
void		 session_start_flow(struct session *, const struct sockaddr *from,
		    socklen_t fromlen, const struct dgram_dst *dst,
		    const void *data, size_t len);
/* Close every session without a running server (shutdown). */
void		 session_close_all(void);
/* Log every session (SIGUSR1). */
void		 session_dump(void);
/* Number of sessions open. */
int		 session_count(void);

#endif
