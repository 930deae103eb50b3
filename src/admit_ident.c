/*
 * A refused client whose ident server is asked who it is (log_on_failure
 * USERID): the answer is only valid while the connection lives, so the
 * client is held open, refused (its side shut for writing), until the
 * reply or the deadline.  At most IDENT_REFUSED_MAX at a time, as
 * xinetd's -logprocs: refusals must stay cheap.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "admit.h"
#include "admit_ident.h"
#include "config.h"
#include "ident.h"
#include "log.h"
#include "sockaddr.h"

struct refused_ident {
	TAILQ_ENTRY(refused_ident) ri_entry;
	struct config		*ri_cf;		/* holds ri_conf */
	const struct service_conf *ri_conf;
	int			 ri_fd;
	char			 ri_addr[SOCKADDR_STRLEN];
	struct ident		*ri_ident;
};

static TAILQ_HEAD(, refused_ident) refused_idents =
    TAILQ_HEAD_INITIALIZER(refused_idents);
static int			nrefused_idents;
static int			refused_ident_max = IDENT_REFUSED_MAX;

void
admit_set_ident_max(int n)
{
	refused_ident_max = n;
}

/* Free a refused client's ident query and close it. */
static void
admit_ident_free(struct refused_ident *ri)
{
	TAILQ_REMOVE(&refused_idents, ri, ri_entry);
	nrefused_idents--;
	ident_cancel(ri->ri_ident);
	(void)close(ri->ri_fd);
	config_unref(ri->ri_cf);
	free(ri);
}

/* The ident server of a refused client answered, or not. */
static void
admit_ident_done(void *arg, const char *reply, const char *why)
{
	struct refused_ident	*ri = arg;
	struct access_rec	 rec;

	(void)why;
	ri->ri_ident = NULL;
	if (reply != NULL) {
		memset(&rec, 0, sizeof(rec));
		rec.ar_id = ri->ri_conf->sc_id;
		rec.ar_addr = ri->ri_addr;
		rec.ar_ident = reply;
		accesslog_ident(ri->ri_conf->sc_log, ACCESS_USERID, &rec);
	}
	admit_ident_free(ri);
}

void
admit_ident_refused(struct event_base *base, struct config *cf,
    const struct service_conf *sc, int fd, const struct sockaddr *peer,
    const char *addr)
{
	struct refused_ident		*ri;
	struct sockaddr_storage		 local;
	socklen_t			 len = sizeof(local);

	if (!(sc->sc_log_failure & ALOG_USERID) || sc->sc_accept_proxy ||
	    nrefused_idents >= refused_ident_max ||
	    getsockname(fd, (struct sockaddr *)&local, &len) == -1 ||
	    (ri = calloc(1, sizeof(*ri))) == NULL) {
		(void)close(fd);
		return;
	}
	sockaddr_unmap(&local, &len);
	ri->ri_ident = ident_start(base, (struct sockaddr *)&local, peer,
	    IDENT_TIMEOUT, admit_ident_done, ri);
	if (ri->ri_ident == NULL) {
		log_warn("service %s: ident query for %s", sc->sc_id, addr);
		free(ri);
		(void)close(fd);
		return;
	}
	/* The client sees the refusal now; the connection lives on. */
	(void)shutdown(fd, SHUT_WR);
	ri->ri_fd = fd;
	ri->ri_cf = cf;
	config_ref(ri->ri_cf);
	ri->ri_conf = sc;
	(void)strlcpy(ri->ri_addr, addr, sizeof(ri->ri_addr));
	TAILQ_INSERT_TAIL(&refused_idents, ri, ri_entry);
	nrefused_idents++;
}

void
admit_ident_shutdown(void)
{
	while (!TAILQ_EMPTY(&refused_idents))
		admit_ident_free(TAILQ_FIRST(&refused_idents));
}
