/*
 * Refused clients held open for an ident query (log_on_failure USERID):
 * the part of admission that outlives the refusal.  For admit.c only.
 */
#ifndef PORTGATE_ADMIT_IDENT_H
#define PORTGATE_ADMIT_IDENT_H

#include <sys/types.h>
#include <sys/socket.h>

#define IDENT_REFUSED_MAX	15	/* xinetd's -logprocs default */

struct config;
struct event_base;
struct service_conf;

/*
 * Close refused client <fd> (at <peer>, numeric <addr>) of <sc>, held by
 * <cf>: at once, or after asking its ident server, on <base>, when
 * log_on_failure has USERID, the address is not a PROXY one and fewer
 * than the maximum are held (admit_set_ident_max()).
 */
void	admit_ident_refused(struct event_base *base, struct config *cf,
	    const struct service_conf *sc, int fd, const struct sockaddr *peer,
	    const char *addr);
/* Drop every query still under way, closing the clients (stop). */
void	admit_ident_shutdown(void);

#endif
