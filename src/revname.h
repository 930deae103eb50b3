/*
 * The verified reverse name of a client, looked up with evdns so that the
 * event loop never waits: the PTR name, confirmed by a forward look-up
 * that gives the client's address back.
 */
#ifndef PORTGATE_REVNAME_H
#define PORTGATE_REVNAME_H

#include <sys/types.h>
#include <sys/socket.h>

struct event_base;
struct revname_req;

/* Called once: the verified name, or NULL when there is none. */
typedef void	(*revname_cb)(void *arg, const char *name);

/*
 * Look up <sa> (IPv4 or IPv6).  The resolver is set up on first use from
 * /etc/resolv.conf, or the file named by the environment variable
 * PORTGATE_RESOLV_CONF.  <cb> is never called from inside this function.
 * Returns NULL if no look-up could be started.
 */
struct revname_req *revname_lookup(struct event_base *base,
		    const struct sockaddr *sa, revname_cb cb, void *arg);
/* Forget a look-up; <cb> is not called. */
void		 revname_cancel(struct revname_req *);
/* Free the resolver (shutdown). */
void		 revname_shutdown(void);
/*
 * Read the resolver's settings now, before a worker's chroot hides
 * /etc/resolv.conf.
 */
void		 revname_prepare(struct event_base *base);

#endif
