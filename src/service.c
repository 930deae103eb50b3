/*
 * Running services.  A reload reconciles the running list with the new
 * configuration by mark and sweep (inetd's config()): a service whose
 * identity is unchanged keeps its socket and counters and takes the new
 * settings; a removed one stops listening while its sessions finish; a new
 * one starts listening.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "dgram.h"
#include "fdbudget.h"
#include "quota.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "relay_udp.h"
#include "reuseport.h"
#include "sdlisten.h"
#include "service.h"
#include "service_int.h"

#define DGRAM_MAX	65536	/* largest datagram read */
#define FASTEXIT_MAX	5	/* hand-off servers dying at once in a row */
#define FASTEXIT_PAUSE	10	/* then the service rests this long */
#define DGRAM_BATCH	64	/* datagrams read per wake-up */
/*
 * Connections accepted per wake-up: the loop must get back to everything
 * else (reaping, relays, other services) even while clients keep coming.
 */
#define ACCEPT_BATCH	32


struct service_list	services = TAILQ_HEAD_INITIALIZER(services);
static struct event_base	*service_evbase;
static const struct service_hooks *service_hooks;
static enum service_role	 service_role = SERVICE_ALL;
static struct reconcile_counts	 service_last;	/* service_reconciled() */
static int			 service_nworkers = 1;	/* sockets a group */

static void	service_retire(struct service *);
static void	service_close_group(struct service *);

void
service_init(struct event_base *base, const struct service_hooks *hooks)
{
	service_evbase = base;
	service_hooks = hooks;
	if (fdbudget_init(base) == -1)
		fatal("cannot watch the descriptor budget");
}











/* Same identity: the socket can be kept across a reload. */
static int
service_same(const struct service_conf *a, const struct service_conf *b)
{
	const char	*ba = a->sc_bind != NULL ? a->sc_bind : "";
	const char	*bb = b->sc_bind != NULL ? b->sc_bind : "";

	return strcmp(a->sc_id, b->sc_id) == 0 &&
	    a->sc_socktype == b->sc_socktype &&
	    a->sc_protocol == b->sc_protocol &&
	    a->sc_port == b->sc_port && strcmp(ba, bb) == 0 &&
	    a->sc_wait == b->sc_wait && a->sc_v6only == b->sc_v6only &&
	    a->sc_freebind == b->sc_freebind && (a->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) ==
	    (b->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6));
}

/* Descriptors were released: accept again. */
static void
service_fds_freed(void *arg)
{
	service_resume(arg);
}

/*
 * Stop accepting on <sv> until descriptors for <need> more clients'
 * sessions are released, or after <seconds> at the latest (when the
 * kernel, not the budget, said no).
 */
static void
service_wait_fds(struct service *sv, int need, int seconds)
{
	service_pause(sv, seconds);
	fdbudget_wait(&sv->sv_fdwait, need, service_fds_freed, sv);
}

/*
 * Stream clients arrived: accept a bounded batch (the socket stays
 * readable for the rest), each only while the descriptors of its session
 * are there (a forward needs its back-end socket too); otherwise pause
 * until sessions give some back (relayd pauses on EMFILE; here the budget
 * sees it coming, and a release resumes at once).
 */
static void
service_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct service		*sv = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, i, need;

	(void)what;
	service_ref(sv);
	need = service_hooks->sh_fds(sv->sv_conf);
	for (i = 0; i < ACCEPT_BATCH && !sv->sv_retired && !sv->sv_paused &&
	    !sv->sv_disabled;
	    i++) {
		if (!fdbudget_can(need, FDB_SESSION)) {
			fdbudget_note(FDB_DEFERRED);
			service_wait_fds(sv, need, 1);
			break;
		}
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			service_hooks->sh_stream(sv, fd, (struct sockaddr *)&ss,
			    len);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			/* Something uncounted holds descriptors. */
			fdbudget_note(FDB_EXHAUSTED);
			fdbudget_recount();
			service_wait_fds(sv, need, 1);
		} else if (errno == ENOBUFS || errno == ENOMEM) {
			log_warnx("service %s: accept: %s; pausing for 1 "
			    "second", sv->sv_conf->sc_id, strerror(errno));
			service_pause(sv, 1);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			log_warnx("service %s: accept: %s", sv->sv_conf->sc_id,
			    strerror(errno));
		break;
	}
	service_unref(sv);
}

/* Datagrams arrived: read a bounded batch and hand each on. */
static void
service_dgram_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service		*sv = arg;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	struct dgram_dst	 dst;
	static unsigned char	 buf[DGRAM_MAX];
	ssize_t			 n;
	int			 i;

	(void)what;
	service_ref(sv);
	for (i = 0; i < DGRAM_BATCH && !sv->sv_retired && !sv->sv_paused &&
	    !sv->sv_disabled;
	    i++) {
		fromlen = sizeof(from);
		n = dgram_recv(fd, buf, sizeof(buf), (struct sockaddr *)&from,
		    &fromlen, &dst);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("service %s: recvmsg",
				    sv->sv_conf->sc_id);
			break;
		}
		service_hooks->sh_dgram(sv, buf, (size_t)n,
		    (struct sockaddr *)&from, fromlen, &dst);
	}
	service_unref(sv);
}

/* A wait = yes service is readable. */
static void
service_handoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	service_hooks->sh_handoff(arg);
}

int
service_hands_off(const struct service_conf *sc)
{
	return sc->sc_server != NULL && sc->sc_nredirect == 0 &&
	    sc->sc_builtin == BUILTIN_NONE && !(sc->sc_flags & SFLAG_SENSOR) &&
	    (sc->sc_wait || sc->sc_socktype == SOCK_DGRAM);
}

int
service_fd(const struct service *sv)
{
	return sv->sv_fd;
}

void
service_handoff_done(struct service *sv, long seconds)
{
	if (seconds >= 1)
		sv->sv_fastexits = 0;
	else if (++sv->sv_fastexits >= FASTEXIT_MAX) {
		log_warnx("service %s: its server exited at once %d times in "
		    "a row; pausing the service for %d seconds",
		    sv->sv_conf->sc_id, sv->sv_fastexits, FASTEXIT_PAUSE);
		sv->sv_fastexits = 0;
		service_pause(sv, FASTEXIT_PAUSE);
		return;
	}
	service_resume(sv);
}

/* The timer of service_pause() ran out. */
static void
service_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	service_resume(arg);
}

/* The cps block of a service ended. */
static void
service_cps_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service	*sv = arg;

	(void)fd;
	(void)what;
	log_warnx("Activating service %s", sv->sv_conf->sc_id);
}

void
service_cps_tripped(struct service *sv, int seconds, int extended)
{
	struct timeval	tv = { seconds, 0 };

	/* A flood extends the block every second: say so once. */
	if (extended)
		log_debug("service %s: cps block extended by %d seconds",
		    sv->sv_conf->sc_id, seconds);
	else
		log_warnx("Deactivating service %s due to excessive incoming "
		    "connections.  Restarting in %d seconds.",
		    sv->sv_conf->sc_id, seconds);
	if (sv->sv_cps_timer != NULL)
		(void)evtimer_add(sv->sv_cps_timer, &tv);
}

/*
 * Does this process watch the socket of <sc>?  The master only those it
 * hands to a server (it reads no client byte); a worker all the others.
 */
static int
service_owned(const struct service_conf *sc)
{
	switch (service_role) {
	case SERVICE_MASTER:
		return service_hands_off(sc);
	case SERVICE_WORKER:
		return !service_hands_off(sc);
	default:
		return 1;
	}
}

void
service_set_role(enum service_role role, int index)
{
	struct service	*sv;
	int		 i, keep;

	service_role = role;
	TAILQ_FOREACH(sv, &services, sv_entry) {
		if (sv->sv_fd == -1)
			continue;
		if (!service_owned(sv->sv_conf)) {
			/* A worker keeps no socket it does not serve. */
			if (sv->sv_ev != NULL)
				event_free(sv->sv_ev);
			sv->sv_ev = NULL;
			service_close_group(sv);
			continue;
		}
		/* Worker <index> serves its socket of the group alone. */
		if (role == SERVICE_WORKER && sv->sv_ngroup > 1) {
			keep = sv->sv_group[index % sv->sv_ngroup];
			for (i = 0; i < sv->sv_ngroup; i++)
				if (sv->sv_group[i] != keep)
					(void)close(sv->sv_group[i]);
			sv->sv_fd = sv->sv_group[0] = keep;
			sv->sv_ngroup = 1;
		}
		if (sv->sv_ev != NULL)
			continue;
		sv->sv_ev = event_new(service_evbase, sv->sv_fd,
		    EV_READ | EV_PERSIST, sv->sv_conf->sc_socktype ==
		    SOCK_STREAM ? service_accept_cb : service_dgram_cb, sv);
		if (sv->sv_ev == NULL)
			fatalx("service %s: cannot watch its socket",
			    sv->sv_conf->sc_id);
		if (!sv->sv_paused && !sv->sv_disabled &&
		    event_add(sv->sv_ev, NULL) == -1)
			fatalx("service %s: cannot watch its socket",
			    sv->sv_conf->sc_id);
	}
}

/* Attach the socket of <sv> to the event loop. */
static int
service_listen(struct service *sv)
{
	struct service_conf	*sc = sv->sv_conf;

	sv->sv_timer = evtimer_new(service_evbase, service_timer_cb, sv);
	sv->sv_cps_timer = evtimer_new(service_evbase, service_cps_timer_cb,
	    sv);
	if ((sv->sv_quota = quota_new()) == NULL || sv->sv_timer == NULL ||
	    sv->sv_cps_timer == NULL)
		return -1;
	if (sc->sc_socktype == SOCK_DGRAM && sc->sc_nredirect > 0 &&
	    (sv->sv_flows = relay_udp_table_new()) == NULL)
		return -1;
	if (sv->sv_fd == -1 || !service_owned(sc))
		return 0;	/* tcpmux's, or the other process's */
	sv->sv_ev = event_new(service_evbase, sv->sv_fd, EV_READ | EV_PERSIST,
	    service_hands_off(sc) ? service_handoff_cb :
	    sc->sc_socktype == SOCK_STREAM ? service_accept_cb :
	    service_dgram_cb, sv);
	if (sv->sv_ev == NULL || event_add(sv->sv_ev, NULL) == -1)
		return -1;
	return 0;
}

/*
 * The sockets of <sv>: one, or <n> in a reuseport group with the program
 * that gives each source to one worker (reuseport.h).  A group that cannot
 * be made (a socket passed by systemd without SO_REUSEPORT) is one socket
 * that every worker accepts on.  0, or -1 with <err>.
 */
static int
service_group(struct service *sv, int n, char *err, size_t errlen)
{
	const struct service_conf	*sc = sv->sv_conf;
	socklen_t			 len = sizeof(int);
	int				 i, fd, on = 0;

	/* The first may be a socket passed again (a service back). */
	if ((fd = listen_socket(sc, n == 1 ? !service_hands_off(sc) : 1,
	    n == 1 ? 1 : -n, err, errlen)) == -1)
		return -1;
	sv->sv_fd = sv->sv_group[0] = fd;
	sv->sv_ngroup = 1;
	if (n > 1 && sdlisten_passed(fd) && (getsockopt(fd, SOL_SOCKET,
	    SO_REUSEPORT, &on, &len) == -1 || on == 0)) {
		log_info("service %s: the socket passed by systemd has no "
		    "SO_REUSEPORT (ReusePort=yes in the .socket unit): its %d "
		    "workers share it, and per-source limits count per worker",
		    sc->sc_id, n);
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((fd = listen_socket(sc, 1, n, err, errlen)) == -1) {
			log_warnx("service %s: %s; its %d workers share one "
			    "socket, and per-source limits count per worker",
			    sc->sc_id, err, n);
			while (sv->sv_ngroup > 1)
				(void)close(sv->sv_group[--sv->sv_ngroup]);
			return 0;
		}
		sv->sv_group[sv->sv_ngroup++] = fd;
	}
	if (n > 1 && reuseport_attach(sv->sv_group[0], n,
	    sc->sc_per_source_prefix6, err, errlen) == -1)
		log_warnx("service %s: %s; the kernel spreads clients over "
		    "the workers, and per-source limits count per worker",
		    sc->sc_id, err);
	return 0;
}

/* Close every socket of <sv> that this process holds. */
static void
service_close_group(struct service *sv)
{
	int	i;

	for (i = 0; i < sv->sv_ngroup; i++)
		if (sv->sv_group[i] != -1 && sv->sv_group[i] != sv->sv_fd)
			(void)close(sv->sv_group[i]);
	if (sv->sv_fd != -1)
		(void)close(sv->sv_fd);
	sv->sv_fd = -1;
	sv->sv_ngroup = 0;
}

void
service_set_workers(int n)
{
	service_nworkers = n < 1 ? 1 : n > CONF_WORKERS_MAX ?
	    CONF_WORKERS_MAX : n;
}

/* Open the socket of a new service; NULL after logging why. */
static struct service *
service_new(struct config *cf, struct service_conf *sc)
{
	struct service	*sv;
	char		 err[256], desc[128];
	int		 handed = service_hands_off(sc);

	if ((sv = calloc(1, sizeof(*sv))) == NULL) {
		log_warn("service %s", sc->sc_id);
		return NULL;
	}
	sv->sv_conf = sc;
	sv->sv_cf = cf;
	sv->sv_refcnt = 1;
	sv->sv_started = time(NULL);
	if ((sv->sv_metrics = metrics_service(sc->sc_id)) == NULL)
		log_warnx("service %s: not counted in the metrics (out of "
		    "memory or %d services counted)", sc->sc_id,
		    METRICS_SERVICES_MAX);
	service_count_targets(sv);
	if (service_muxed(sc))
		sv->sv_fd = -1;		/* tcpmux hands it its clients */
	else if (service_group(sv, handed ? 1 : service_nworkers, err,
	    sizeof(err)) == -1) {
		log_warnx("service %s (%s:%d): %s", sc->sc_id, sc->sc_file,
		    sc->sc_line, err);
		free(sv);
		return NULL;
	}
	config_ref(cf);
	if (service_listen(sv) == -1) {
		log_warnx("service %s: cannot watch its socket", sc->sc_id);
		TAILQ_INSERT_TAIL(&services, sv, sv_entry);
		service_retire(sv);
		return NULL;
	}
	if (sv->sv_fd == -1)
		log_info("service %s reached through tcpmux as %s", sc->sc_id,
		    sc->sc_name);
	else
		log_info("service %s listening on %s", sc->sc_id,
		    listen_describe(sv->sv_fd, sc, desc, sizeof(desc)));
	return sv;
}

/* Stop listening; the service goes once its last session is gone. */
static void
service_retire(struct service *sv)
{
	sv->sv_retired = 1;
	fdbudget_unwait(&sv->sv_fdwait);
	if (sv->sv_ev != NULL)
		event_free(sv->sv_ev);
	sv->sv_ev = NULL;
	if (sv->sv_timer != NULL)
		event_free(sv->sv_timer);
	sv->sv_timer = NULL;
	if (sv->sv_cps_timer != NULL)
		event_free(sv->sv_cps_timer);
	sv->sv_cps_timer = NULL;
	/* Flows need the socket for their replies: they end with it. */
	relay_udp_table_free(sv->sv_flows);
	sv->sv_flows = NULL;
	service_close_group(sv);
	TAILQ_REMOVE(&services, sv, sv_entry);
	service_unref(sv);
}

int
service_reconcile(struct config *cf)
{
	struct service	*sv, *next;
	struct config	*old;
	char		*keep;
	int		 i, failed = 0, kept = 0, added = 0, removed = 0;

	/* A reload must not end the daemon: without memory, change nothing. */
	if ((keep = calloc(cf->cf_nservices + 1, 1)) == NULL) {
		log_warn("services");
		return -1;
	}
	/* Mark: services that stay take their new settings. */
	TAILQ_FOREACH_SAFE(sv, &services, sv_entry, next) {
		for (i = 0; i < cf->cf_nservices; i++)
			if (!keep[i] && service_same(sv->sv_conf,
			    cf->cf_services[i]))
				break;
		if (i == cf->cf_nservices) {
			log_info("service %s removed", sv->sv_conf->sc_id);
			/*
			 * The workers have the socket too, until they drain:
			 * a listening socket shut down refuses in them all.
			 */
			if (service_role == SERVICE_MASTER &&
			    sv->sv_conf->sc_socktype == SOCK_STREAM)
				for (i = 0; i < sv->sv_ngroup; i++)
					if (!sdlisten_passed(sv->sv_group[i]))
						(void)shutdown(sv->sv_group[i],
						    SHUT_RDWR);
			service_retire(sv);
			removed++;
			continue;
		}
		keep[i] = 1;
		old = sv->sv_cf;
		sv->sv_conf = cf->cf_services[i];
		sv->sv_cf = cf;
		service_count_targets(sv);
		config_ref(cf);
		config_unref(old);
		kept++;
	}
	/* Sweep in: new services start listening. */
	for (i = 0; i < cf->cf_nservices; i++) {
		if (keep[i])
			continue;
		if ((sv = service_new(cf, cf->cf_services[i])) == NULL) {
			failed++;
			continue;
		}
		TAILQ_INSERT_TAIL(&services, sv, sv_entry);
		added++;
	}
	free(keep);
	fdbudget_recount();	/* listeners came and went */
	log_info("services: %d new, %d kept, %d removed, %d failed", added,
	    kept, removed, failed);
	service_last.rc_added = added;
	service_last.rc_kept = kept;
	service_last.rc_removed = removed;
	service_last.rc_failed = failed;
	return failed;
}

void
service_reconciled(struct reconcile_counts *rc)
{
	*rc = service_last;
}

void
service_shutdown(void)
{
	struct service	*sv;

	while ((sv = TAILQ_FIRST(&services)) != NULL)
		service_retire(sv);
	fdbudget_shutdown();
}

void
service_ref(struct service *sv)
{
	sv->sv_refcnt++;
}

void
service_unref(struct service *sv)
{
	if (--sv->sv_refcnt > 0)
		return;
	fdbudget_unwait(&sv->sv_fdwait);
	quota_free(sv->sv_quota);
	if (sv->sv_admit != NULL)
		service_hooks->sh_admit_free(sv->sv_admit);
	config_unref(sv->sv_cf);
	free(sv);
}
