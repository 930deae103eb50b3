/*
 * Admission.  Everything here works on a struct arrival on the stack
 * (admit_int.h): the client's address as the gate sees it (IPv4-mapped
 * addresses unmapped), its country, its per-source keys and the time.
 * Only an admitted client becomes a struct session.  This file runs the
 * gate and makes sessions; the reverse-name wait and libwrap are in
 * admit_name.c, tcpmux in admit_mux.c, PROXY headers in admit_proxy.c,
 * datagrams and hand-offs in admit_dgram.c.
 */
#include <sys/types.h>
#include <sys/sysinfo.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "admit.h"
#include "admit_ident.h"
#include "admit_int.h"
#include "banner.h"
#include "config.h"
#include "failrate.h"
#include "gate.h"
#include "geoip.h"
#include "libwrap.h"
#include "quota.h"
#include "log.h"
#include "revname.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"
#include "spawn.h"
#include "tcpmux.h"

static struct event_base	*admit_evbase;

void
admit_init(struct event_base *base)
{
	admit_evbase = base;
}

struct event_base *
admit_base(void)
{
	return admit_evbase;
}

/* The current time, whole and with sub-second precision. */
static void
admit_clock(time_t *now, double *fnow)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		ts.tv_sec = time(NULL);
		ts.tv_nsec = 0;
	}
	*now = ts.tv_sec;
	*fnow = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The 1-minute load average, read at most once a second, from sysinfo(2):
 * glibc's getloadavg() reads /proc/loadavg, which a worker's chroot hides.
 */
static double
admit_loadavg(time_t now)
{
	static time_t	when;
	static double	load = -1;
	struct sysinfo	si;

	if (now != when) {
		when = now;
		load = sysinfo(&si) == 0 ?
		    (double)si.loads[0] / (double)(1 << SI_LOAD_SHIFT) : -1;
	}
	return load;
}

/* Fill <a> for a client at <sa> of service <sc>. */
void
admit_arrival(struct arrival *a, const struct service_conf *sc,
    const struct sockaddr *sa, socklen_t salen)
{
	enum geoip_change	 gc;
	char			 msg[GEOIP_MSGMAX];

	memset(a, 0, sizeof(*a));
	if (salen > sizeof(a->ar_peer))
		salen = sizeof(a->ar_peer);
	memcpy(&a->ar_peer, sa, salen);
	a->ar_peerlen = salen;
	a->ar_libwrap = -1;
	sockaddr_unmap(&a->ar_peer, &a->ar_peerlen);
	(void)sockaddr_ntop((struct sockaddr *)&a->ar_peer, a->ar_addr,
	    sizeof(a->ar_addr));
	a->ar_client.gc_sa = (struct sockaddr *)&a->ar_peer;
	quota_key(sc, a->ar_client.gc_sa, &a->ar_client.gc_key);
	quota_key(NULL, a->ar_client.gc_sa, &a->ar_client.gc_fullkey);
	admit_clock(&a->ar_now, &a->ar_fnow);
	if (sc->sc_geoip != NULL) {
		if ((gc = geoip_check(sc->sc_geoip, a->ar_now, 0, msg,
		    sizeof(msg))) == GEOIP_RELOADED)
			log_info("%s", msg);
		else if (gc == GEOIP_KEPT)
			log_warnx("%s", msg);
		a->ar_client.gc_country = geoip_country(sc->sc_geoip,
		    a->ar_client.gc_sa, a->ar_country);
	}
}

/* Log a FAIL record with <reason> for <a>. */
void
admit_fail(const struct service_conf *sc, const struct arrival *a,
    const char *reason)
{
	struct access_rec	rec;

	memset(&rec, 0, sizeof(rec));
	rec.ar_id = sc->sc_id;
	rec.ar_addr = a->ar_addr;
	rec.ar_port = sockaddr_port((const struct sockaddr *)&a->ar_peer);
	rec.ar_country = a->ar_client.gc_country;
	rec.ar_reason = reason;
	accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
}

/*
 * Is the FAIL record of datagram sender <a> of <sv> to be left out?  Its
 * address may be forged and change with every datagram: failrate.c
 * writes one record per address a minute, a bounded number a second, and
 * a summary of the rest.  Stream clients are always recorded.
 */
int
admit_fail_repeated(struct service *sv, const struct arrival *a)
{
	struct fail_seen	*seen = service_admit(sv);
	enum failrate_verdict	 v;

	if (service_conf(sv)->sc_socktype != SOCK_DGRAM)
		return 0;
	/* The table is made on first use: most services never need one. */
	v = failrate_take(&seen, &a->ar_client.gc_fullkey, a->ar_now,
	    a->ar_fnow);
	service_set_admit(sv, seen);
	if (v == FAILRATE_LOG)
		return 0;
	failrate_arm(admit_evbase);
	return 1;
}

/* Run the gate for <a> at <sv>; on refusal log FAIL.  1 if admitted. */
int
admit_gate(struct service *sv, struct arrival *a)
{
	const struct service_conf	*sc = service_conf(sv);
	struct verdict			 v;
	double				 load = -1;
	int				 tripped;

	if ((tripped = quota_cps_arrival(service_quota(sv), sc,
	    a->ar_now)) != 0)
		service_cps_tripped(sv, sc->sc_cps_wait, tripped == 2);
	if (sc->sc_max_load > 0)
		load = admit_loadavg(a->ar_now);
	if (gate_check(sc, service_quota(sv), &a->ar_client, a->ar_now,
	    a->ar_fnow, load, &v) &&
	    gate_libwrap(libwrap_daemon(sc), admit_libwrap(sc, a), &v))
		return 1;
	service_count_refused(sv, metrics_gate_reason(v.v_reason, v.v_rule));
	log_debug("service %s refused %s: %s", sc->sc_id, a->ar_addr,
	    v.v_rule);
	if (!admit_fail_repeated(sv, a))
		admit_fail(sc, a, gate_reason_name(v.v_reason));
	return 0;
}

/* A client touched a SENSOR service: deny it everywhere for a while. */
void
admit_sensor(struct service *sv, struct arrival *a)
{
	const struct service_conf	*sc = service_conf(sv);

	/* Not in service_dump()'s refused count, as before. */
	metrics_refused(service_metrics(sv), METRICS_SENSOR);
	if (sc->sc_deny_time != 0)
		quota_deny(&a->ar_client.gc_fullkey, sc->sc_deny_time,
		    a->ar_now);
	/* A flood of forged datagrams gets no line each. */
	if (admit_fail_repeated(sv, a))
		return;
	if (sc->sc_deny_time != 0) {
		if (sc->sc_deny_time < 0)
			log_warnx("service %s: adding %s to the global deny "
			    "list for ever", sc->sc_id, a->ar_addr);
		else
			log_warnx("service %s: adding %s to the global deny "
			    "list for %d minutes", sc->sc_id, a->ar_addr,
			    sc->sc_deny_time);
	}
	admit_fail(sc, a, "address");
}

/* A session of service <arg> ended: let the service go. */
static void
admit_session_done(void *arg, long seconds, int handoff, int refused)
{
	struct service	*sv = arg;

	if (refused)
		service_count_unaccepted(sv);
	if (handoff)
		service_handoff_done(sv, seconds);
	service_unref(sv);
}

/*
 * The session of an admitted arrival, holding a reference on <sv> until
 * it ends; or NULL (<fd> closed).
 */
struct session *
admit_session(struct service *sv, int fd, const struct arrival *a)
{
	struct session_origin	 o;
	struct session		*s;

	o.so_peer = (const struct sockaddr *)&a->ar_peer;
	o.so_addr = a->ar_addr;
	o.so_country = a->ar_client.gc_country;
	o.so_key = &a->ar_client.gc_key;
	o.so_now = a->ar_now;
	o.so_fnow = a->ar_fnow;
	o.so_cf = service_config(sv);
	o.so_conf = service_conf(sv);
	o.so_quota = service_quota(sv);
	o.so_done = admit_session_done;
	o.so_done_arg = sv;
	o.so_metrics = service_metrics(sv);
	if ((s = session_new(fd, &o)) == NULL)
		return NULL;
	service_ref(sv);
	service_count_accepted(sv);
	return s;
}

/* Does <sc> spawn a server per client? */
static int
admit_spawns(const struct service_conf *sc)
{
	return sc->sc_server != NULL && sc->sc_nredirect == 0 &&
	    sc->sc_builtin == BUILTIN_NONE;
}

/* A stream client of <sv> known to come from <sa>. */
void
admit_client(struct service *sv, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	const struct service_conf	*sc = service_conf(sv);
	struct arrival			 a;

	admit_arrival(&a, sc, sa, salen);
	/* Behind TLS, banners are sent inside it, after the handshake. */
	if (!sc->sc_tls)
		banner_send_fd(fd, &sc->sc_banner);
	if (sc->sc_flags & SFLAG_SENSOR) {
		admit_sensor(sv, &a);
		(void)close(fd);
		return;
	}
	/* A name rule of hosts.allow or hosts.deny needs it too. */
	(void)admit_libwrap(sc, &a);
	if (gate_needs_name(sc) || a.ar_libwrap_name) {
		admit_wait_name(sv, fd, &a);
		return;
	}
	admit_gated(sv, fd, &a);
}

void
admit_shutdown(void)
{
	admit_name_shutdown();
	admit_ident_shutdown();
	tcpmux_shutdown();
	revname_shutdown();
	failrate_shutdown();
}

void
admit_service_free(void *data)
{
	free(data);	/* the FAIL-seen table of failrate.c */
}

/* Close refused client <fd> of <sv>, maybe after an ident query. */
static void
admit_refused(struct service *sv, int fd, const struct arrival *a)
{
	admit_ident_refused(admit_evbase, service_config(sv), service_conf(sv),
	    fd, (const struct sockaddr *)&a->ar_peer, a->ar_addr);
}

/* A stream client of <sv> with everything the gate needs. */
void
admit_gated(struct service *sv, int fd, struct arrival *a)
{
	const struct service_conf	*sc = service_conf(sv);
	struct session			*s;

	if (!admit_gate(sv, a)) {
		admit_banner_fail(sc, fd, a);
		admit_refused(sv, fd, a);
		return;
	}
	if (admit_spawns(sc) && spawn_full()) {
		admit_fail(sc, a, "process_limit");
		admit_banner_fail(sc, fd, a);
		admit_refused(sv, fd, a);
		return;
	}
	if (sc->sc_builtin == BUILTIN_TCPMUX) {
		admit_mux(sv, fd, a);
		return;
	}
	/* TCPMUXPLUS: the mux says "+" for the server, before it starts. */
	if (admit_mux_go(sc, fd, a) == -1)
		return;
	if ((s = admit_session(sv, fd, a)) != NULL)
		session_start(s);
}

void
admit_stream(struct service *sv, int fd, struct sockaddr *sa,
    socklen_t salen)
{
	if (service_conf(sv)->sc_accept_proxy)
		admit_proxy(sv, fd, sa, salen);
	else
		admit_client(sv, fd, sa, salen);
}
