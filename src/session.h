/*
 * Sessions: one admitted client of a service, from admission to close,
 * holding its configuration, its limit slot, its counts and its back end
 * (built-in, spawned server, TCP or UDP relay, TLS in front).  It knows
 * its service only through what session_new() is given, and tells the end
 * through so_done.  A session is freed once, by session_close().
 */
#ifndef PORTGATE_SESSION_H
#define PORTGATE_SESSION_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "quota.h"

struct config;
struct dgram_dst;
struct event_base;
struct metrics_service;
struct service_conf;
struct session;
struct udp_flows;

/*
 * The session ended after <seconds> (<handoff>: its server held the
 * listening socket; <refused>: the client was refused after all, its TLS
 * handshake failed): what it was given by its owner can go.
 */
typedef void	(*session_done_cb)(void *arg, long seconds, int handoff,
		    int refused);

/* Who an admitted client is, as the gate saw it, and whose it is. */
struct session_origin {
	const struct sockaddr	*so_peer;	/* unmapped */
	const char		*so_addr;	/* numeric */
	const char		*so_country;	/* NULL without geoip_db */
	const struct srckey	*so_key;
	time_t			 so_now;
	double			 so_fnow;
	/* The service: its settings and limits, valid until so_done. */
	struct config		*so_cf;		/* holds so_conf: referenced */
	const struct service_conf *so_conf;
	struct quota		*so_quota;	/* the limit slot is taken in */
	session_done_cb		 so_done;	/* called once, at the end */
	void			*so_done_arg;
	struct metrics_service	*so_metrics;	/* NULL: not counted */
};

/* Start back ends on <base>. */
void		 session_init(struct event_base *base);
/*
 * Descriptors a stream session of <sc> holds at most at once, beside
 * splice pipes (which it does without when none are free): the client,
 * the back-end socket of a forward or the socketpair end of a server
 * behind TLS, and an ident query.
 */
int		 session_fds(const struct service_conf *sc);
/*
 * Take a limit slot in <o>'s quota and make a session for <fd> (-1 for a
 * UDP flow), charged with session_fds() descriptors (a flow charges its
 * own).  Returns NULL after logging (and closing <fd>) on failure; then
 * so_done is never called.
 */
struct session	*session_new(int fd, const struct session_origin *o);
/* Start the back end of a stream session (TLS first if configured). */
void		 session_start(struct session *);
/* Spawn the server of a hand-off session on its socket. */
void		 session_start_handoff(struct session *);
/*
 * Open the UDP flow, in table <flows>, of a new client <from> of a
 * forwarding service listening on <lfd>, whose datagram was sent to
 * <dst>, and send that first datagram.
 */
void		 session_start_flow(struct session *, struct udp_flows *flows,
		    int lfd, const struct sockaddr *from, socklen_t fromlen,
		    const struct dgram_dst *dst, const void *data, size_t len);
/* What portgatectl sessions shows of one session (session_walk()). */
struct session_info {
	const char		*sn_service;	/* its id */
	const struct sockaddr	*sn_peer;
	char			 sn_backend[128];
	const char		*sn_tls;	/* "" without TLS */
	pid_t			 sn_pid;	/* spawned server, or 0 */
	long long		 sn_age;	/* seconds */
	uint64_t		 sn_in;		/* bytes from the client */
	uint64_t		 sn_out;	/* bytes to the client */
};
/*
 * Call <cb> for every session until it returns non-zero.  Returns the
 * number of sessions <cb> was not called for.
 */
int		 session_walk(int (*cb)(const struct session_info *, void *),
		    void *arg);
/* Close every session without a running server (shutdown). */
void		 session_close_all(void);
/* Log every session (SIGUSR1). */
void		 session_dump(void);
/* Number of sessions open. */
int		 session_count(void);

#endif
