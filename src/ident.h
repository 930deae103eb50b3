/*
 * Ident (RFC 1413) queries for USERID logging: who, on the client's host,
 * owns the connection.  A query connects from the address the client
 * reached to port 113 of the client, asks about the pair of ports and
 * reads one line, all without blocking the loop, under a time limit.
 */
#ifndef PORTGATE_IDENT_H
#define PORTGATE_IDENT_H

#include <sys/types.h>
#include <sys/socket.h>

struct event_base;
struct ident;

#define IDENT_PORT	113
#define IDENT_TIMEOUT	30	/* seconds, as xinetd */
#define IDENT_LINEMAX	1024	/* RFC 1413 allows 1000 */

/*
 * Called once, from the loop: <reply> is the text after "USERID :" ("UNIX :
 * alice"), or NULL with <why> saying what failed, in xinetd's words ("no
 * server", "timeout", "bad response", ...).
 */
typedef void	(*ident_cb)(void *arg, const char *reply, const char *why);

/*
 * Ask the ident server of <peer> about the connection from <peer> to
 * <local>.  Returns NULL (with errno) when no query could be started;
 * <cb> is never called from inside this function.
 */
struct ident	*ident_start(struct event_base *base,
		    const struct sockaddr *local, const struct sockaddr *peer,
		    int timeout, ident_cb cb, void *arg);
/* Give up a query; <cb> is not called.  NULL is accepted. */
void		 ident_cancel(struct ident *);

/*
 * Check one reply line (no CR LF) to a query about <rport>, <lport>:
 * "rport , lport : USERID : OS : user".  Returns a pointer into <line> at
 * the text after "USERID :", or NULL if the line is not such a reply
 * (an ERROR reply, other ports, bad syntax).  Pure, for the unit tests.
 */
const char	*ident_parse(const char *line, int rport, int lport);

#endif
