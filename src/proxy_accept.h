/*
 * accept_proxy: read the PROXY header a front load balancer sends before
 * anything else, under a short timeout, and hand the client on with the
 * address the header gives.
 */
#ifndef PORTGATE_PROXY_ACCEPT_H
#define PORTGATE_PROXY_ACCEPT_H

#include <sys/types.h>
#include <sys/socket.h>

#define PROXY_ACCEPT_TIMEOUT	5	/* seconds to send the header */

struct event_base;

/*
 * Called once: <client> is the address from the header (or the peer's own
 * for a LOCAL/UNKNOWN header) and <err> is NULL; or <err> says why the
 * header was missing or malformed, and the caller closes <fd>.
 */
typedef void	(*proxy_accept_cb)(void *arg, int fd,
		    const struct sockaddr *client, socklen_t len,
		    const char *err);

/*
 * Read the header of <fd> (peer <peer>).  The bytes after the header stay
 * in the socket.  Returns 0, or -1 on allocation failure (nothing called).
 */
int	proxy_accept_start(struct event_base *base, int fd,
	    const struct sockaddr *peer, socklen_t peerlen, proxy_accept_cb cb,
	    void *arg);
/* Drop every header still awaited, closing its socket (shutdown). */
void	proxy_accept_abort_all(void);

#endif
