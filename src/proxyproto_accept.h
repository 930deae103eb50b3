/*
 * accept_proxy: read the PROXY header a front load balancer sends before
 * anything else, under a short timeout, and hand the client on with the
 * address the header gives.  Headers still awaited are capped per source
 * and in all, so that silent connections cannot hold every descriptor.
 */
#ifndef PORTGATE_PROXYPROTO_ACCEPT_H
#define PORTGATE_PROXYPROTO_ACCEPT_H

#include <sys/types.h>
#include <sys/socket.h>

#define PROXYPROTO_ACCEPT_TIMEOUT	5	/* seconds to send the header */
#define PROXY_PENDING_SOURCE	8	/* headers awaited from one address */
#define PROXY_PENDING_MAX	1024	/* in all, at most (RLIMIT_NOFILE/4) */
#define PROXY_PENDING_LOG_SECS	60	/* one summary line per interval */

/* What proxyproto_accept_start() did with a connection. */
enum proxyproto_accept_rc {
	PROXYPROTO_ACCEPT_ERROR = -1,	/* allocation or event failure */
	PROXYPROTO_ACCEPT_STARTED = 0,	/* the callback is (or was) called */
	PROXYPROTO_ACCEPT_SOURCE_FULL,	/* this source has too many pending */
	PROXYPROTO_ACCEPT_FULL		/* too many pending in all */
};

struct event_base;

/*
 * Called once: <client> is the address from the header (or the peer's own
 * for a LOCAL/UNKNOWN header) and <err> is NULL; or <err> says why the
 * header was missing or malformed, and the caller closes <fd>.  <client>
 * and <err> are valid during the call only.
 */
typedef void	(*proxyproto_accept_cb)(void *arg, int fd,
		    const struct sockaddr *client, socklen_t len,
		    const char *err);

/*
 * Read the header of <fd> (peer <peer>).  The bytes after the header stay
 * in the socket.  A header already there is read at once and <cb> is
 * called before this returns; otherwise the connection waits, if the caps
 * allow.  Returns PROXYPROTO_ACCEPT_STARTED, or another value with <cb>
 * never called and <fd> left to the caller (PROXYPROTO_ACCEPT_ERROR sets
 * errno).
 */
enum proxyproto_accept_rc proxyproto_accept_start(struct event_base *base,
	    int fd, const struct sockaddr *peer, socklen_t peerlen,
	    proxyproto_accept_cb cb, void *arg);
/* The caps in force: per source and in all. */
void	proxyproto_accept_caps(int *per_source, int *total);
/* Set the cap in all (tests; 0: from RLIMIT_NOFILE again). */
void	proxyproto_accept_set_max(int total);
/* Headers awaited now. */
int	proxyproto_accept_pending(void);
/* Drop every header still awaited, closing its socket (shutdown). */
void	proxyproto_accept_abort_all(void);

#endif
