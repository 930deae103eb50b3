/*
 * The tcpmux built-in (RFC 1078): a client of the service named tcpmux
 * (type = INTERNAL) sends the name of a service and CR LF; a service of
 * type TCPMUX or TCPMUXPLUS with that name (case-insensitive) then serves
 * the connection as if it had been accepted on its own port, gate first.
 * HELP lists the names.  The name is read under a deadline, with waiting
 * clients capped per source and in all, and only the line is consumed:
 * whatever the client sent after it stays in the socket for the server.
 */
#ifndef PORTGATE_TCPMUX_H
#define PORTGATE_TCPMUX_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define TCPMUX_NAME_MAX		64	/* longest name a client may send */
#define TCPMUX_LINE_MAX		(TCPMUX_NAME_MAX + 2)	/* with CR LF */
#define TCPMUX_TIMEOUT		5	/* seconds to send the line */
#define TCPMUX_PENDING_SOURCE	8	/* lines awaited from one address */
#define TCPMUX_PENDING_MAX	1024	/* in all, at most (RLIMIT_NOFILE/4) */
#define TCPMUX_LOG_SECS		60	/* one summary line per interval */
#define TCPMUX_HELP_MAX		16384	/* the most HELP sends */

/* What a client's line says: tcpmux_parse(). */
enum tcpmux_line {
	TCPMUX_MORE,		/* no end of line yet: read on */
	TCPMUX_NAME,		/* a service name */
	TCPMUX_HELP,		/* "HELP", any case */
	TCPMUX_EMPTY,		/* an empty line */
	TCPMUX_BAD,		/* a byte that cannot be in a name */
	TCPMUX_TOOLONG		/* more than TCPMUX_NAME_MAX bytes */
};

struct event_base;
struct service;
struct srckey;

/*
 * Read the first line of <buf>/<len>: a name of 1 to TCPMUX_NAME_MAX
 * printable ASCII characters other than space, ended by CR LF or by a
 * bare LF.  For TCPMUX_NAME the name goes to <name> (NUL-terminated); for
 * every value but TCPMUX_MORE, <*used> is the length of the line with its
 * end.  TCPMUX_TOOLONG comes as soon as <len> shows the line cannot fit,
 * end or no end.  Pure: no I/O.
 */
enum tcpmux_line tcpmux_parse(const char *buf, size_t len,
	    char name[TCPMUX_NAME_MAX + 1], size_t *used);
/*
 * The HELP reply: the name of each service listed in <names> (<n> of
 * them), one a line ended by CR LF, into <buf> of <cap> bytes; names that
 * do not fit whole are left out.  Returns the length (no NUL).
 */
size_t	tcpmux_help_text(char *buf, size_t cap, const char *const *names,
	    size_t n);

/* A client of the mux, as the admission saw it past the mux's gate. */
struct tcpmux_client {
	const struct sockaddr	*tc_peer;	/* unmapped */
	socklen_t		 tc_peerlen;
	const char		*tc_addr;	/* numeric */
	const char		*tc_country;	/* NULL without geoip_db */
	const struct srckey	*tc_key;	/* its slot in the mux's quota */
	double			 tc_fnow;
};

/*
 * The client on <fd> asked for service <target>: the caller puts it
 * through <target>'s gate and serves it, and owns <fd> from now on.  The
 * mux has sent nothing yet (tcpmux_send_go(), tcpmux_send_refused()).
 */
typedef void	(*tcpmux_found_cb)(struct service *target, int fd,
		    const struct sockaddr *peer, socklen_t peerlen);

/*
 * Serve client <fd> of mux service <mux>, which its gate admitted: read
 * its line, then call <found> for a known name, or answer and close it
 * (HELP, an unknown name, a bad line, the deadline).  <fd> is the mux's
 * from now on, whatever happens; what goes wrong is logged (a FAIL record
 * of the mux, reason "tcpmux", or "tcpmux_limit" at the caps).  The
 * client holds a slot of the mux's quota (instances, per_source) until
 * its line is read.
 */
void	tcpmux_start(struct event_base *base, struct service *mux, int fd,
	    const struct tcpmux_client *client, tcpmux_found_cb found);
/*
 * Tell client <fd> of a TCPMUXPLUS service that its server starts
 * ("+Go" CR LF); or that it is refused ("-Access denied" CR LF).  One
 * non-blocking write of a few bytes on a socket that has sent at most a
 * banner.  tcpmux_send_go() returns 0, or -1 if it did not go whole.
 */
int	tcpmux_send_go(int fd);
void	tcpmux_send_refused(int fd);
/* Lines awaited and replies being sent now. */
int	tcpmux_pending(void);
/* Set the cap in all (tests; 0: from RLIMIT_NOFILE again). */
void	tcpmux_set_max(int total);
/* Drop every client of the mux, closing its socket (shutdown). */
void	tcpmux_shutdown(void);

#endif
