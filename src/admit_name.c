/*
 * The admission's wait for a verified reverse name (a .domain rule, or a
 * rule of hosts.allow or hosts.deny, needs it) and the libwrap step that
 * is asked again once the name is known.  A waiting client holds a
 * reference on its service; admit_name_shutdown() drops them all.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit_int.h"
#include "config.h"
#include "libwrap.h"
#include "log.h"
#include "revname.h"
#include "service.h"

/* A client waiting for its reverse name (a .domain rule needs it). */
struct name_wait {
	TAILQ_ENTRY(name_wait)	 nw_entry;
	struct service		*nw_service;	/* a reference */
	int			 nw_fd;
	struct arrival		 nw_arrival;
	char			 nw_name[256];
	struct revname_req	*nw_req;
};

static TAILQ_HEAD(, name_wait)	name_waits = TAILQ_HEAD_INITIALIZER(name_waits);

/* A copied arrival must point into itself, not into the original. */
static void
admit_arrival_fix(struct arrival *a)
{
	a->ar_client.gc_sa = (struct sockaddr *)&a->ar_peer;
	if (a->ar_client.gc_country != NULL)
		a->ar_client.gc_country = a->ar_country;
}

/*
 * hosts.allow and hosts.deny for <a> of <sc>: 1 if they admit it.  Asked
 * again only when a rule read the name and the name is now known.
 */
int
admit_libwrap(const struct service_conf *sc, struct arrival *a)
{
	const char	*daemon = libwrap_daemon(sc), *name = NULL, *addr;

	if (daemon == NULL)
		return 1;
	if (a->ar_named)
		name = a->ar_client.gc_revname != NULL ?
		    a->ar_client.gc_revname : LIBWRAP_NO_NAME;
	addr = a->ar_client.gc_sa != NULL ? a->ar_addr : NULL;
	if (a->ar_libwrap == -1 || (a->ar_libwrap_name && name != NULL))
		a->ar_libwrap = libwrap_check(daemon, addr, name,
		    &a->ar_libwrap_name);
	return a->ar_libwrap;
}

/* The reverse name of a waiting client is known (or not). */
static void
admit_name_cb(void *arg, const char *name)
{
	struct name_wait	*nw = arg;
	struct arrival		*a = &nw->nw_arrival;

	TAILQ_REMOVE(&name_waits, nw, nw_entry);
	admit_arrival_fix(a);
	a->ar_named = 1;
	if (name != NULL) {
		(void)strlcpy(nw->nw_name, name, sizeof(nw->nw_name));
		a->ar_client.gc_revname = nw->nw_name;
	}
	admit_gated(nw->nw_service, nw->nw_fd, a);
	service_unref(nw->nw_service);
	free(nw);
}

/* Look up the reverse name of <a> before the gate. */
void
admit_wait_name(struct service *sv, int fd, const struct arrival *a)
{
	struct name_wait	*nw;

	if ((nw = calloc(1, sizeof(*nw))) == NULL) {
		log_warn("service %s: name look-up", service_conf(sv)->sc_id);
		(void)close(fd);
		return;
	}
	nw->nw_service = sv;
	nw->nw_fd = fd;
	nw->nw_arrival = *a;
	nw->nw_req = revname_lookup(admit_base(), a->ar_client.gc_sa,
	    admit_name_cb, nw);
	if (nw->nw_req == NULL) {
		/* No resolver: .domain rules cannot match this client. */
		admit_arrival_fix(&nw->nw_arrival);
		nw->nw_arrival.ar_named = 1;
		admit_gated(sv, fd, &nw->nw_arrival);
		free(nw);
		return;
	}
	service_ref(sv);
	TAILQ_INSERT_TAIL(&name_waits, nw, nw_entry);
}

void
admit_name_shutdown(void)
{
	struct name_wait	*nw;

	while ((nw = TAILQ_FIRST(&name_waits)) != NULL) {
		TAILQ_REMOVE(&name_waits, nw, nw_entry);
		revname_cancel(nw->nw_req);
		(void)close(nw->nw_fd);
		service_unref(nw->nw_service);
		free(nw);
	}
}
