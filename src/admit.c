/*
 * Admission.  Everything here works on a struct arrival on the stack:
 * the client's address as the gate sees it (IPv4-mapped addresses
 * unmapped), its country, its per-source keys and the time.  Only an
 * admitted client becomes a struct session.
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

#include "accesslog.h"
#include "addrlist.h"
#include "admit.h"
#include "admit_ident.h"
#include "banner.h"
#include "config.h"
#include "dgram.h"
#include "failrate.h"
#include "gate.h"
#include "geoip.h"
#include "libwrap.h"
#include "quota.h"
#include "log.h"
#include "proxyproto_accept.h"
#include "relay_udp.h"
#include "revname.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"
#include "spawn.h"
#include "tcpmux.h"

/* A client on its way through the gate. */
struct arrival {
	struct sockaddr_storage	 ar_peer;
	socklen_t		 ar_peerlen;
	char			 ar_addr[SOCKADDR_STRLEN];
	char			 ar_country[3];
	struct gate_client	 ar_client;
	time_t			 ar_now;
	double			 ar_fnow;
	int			 ar_mux;	/* came through tcpmux */
	int			 ar_named;	/* its name was looked up */
	int			 ar_libwrap;	/* -1: not asked yet */
	int			 ar_libwrap_name; /* the answer read the name */
};

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
static struct event_base	*admit_evbase;

static void	admit_gated(struct service *, int, struct arrival *);
static void	admit_muxed(struct service *, int, const struct sockaddr *,
		    socklen_t);
static void	admit_wait_name(struct service *, int, const struct arrival *);

void
admit_init(struct event_base *base)
{
	admit_evbase = base;
}

/* A copied arrival must point into itself, not into the original. */
static void
admit_arrival_fix(struct arrival *a)
{
	a->ar_client.gc_sa = (struct sockaddr *)&a->ar_peer;
	if (a->ar_client.gc_country != NULL)
		a->ar_client.gc_country = a->ar_country;
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

/* The 1-minute load average, read at most once a second. */
static double
admit_loadavg(time_t now)
{
	static time_t	when;
	static double	load = -1;

	if (now != when) {
		when = now;
		if (getloadavg(&load, 1) != 1)
			load = -1;
	}
	return load;
}

/* Fill <a> for a client at <sa> of service <sc>. */
static void
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
static void
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
static int
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

/*
 * hosts.allow and hosts.deny for <a> of <sc>: 1 if they admit it.  Asked
 * again only when a rule read the name and the name is now known.
 */
static int
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

/* Run the gate for <a> at <sv>; on refusal log FAIL.  1 if admitted. */
static int
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
	service_count_refused(sv);
	log_debug("service %s refused %s: %s", sc->sc_id, a->ar_addr,
	    v.v_rule);
	if (!admit_fail_repeated(sv, a))
		admit_fail(sc, a, gate_reason_name(v.v_reason));
	return 0;
}

/* A client touched a SENSOR service: deny it everywhere for a while. */
static void
admit_sensor(struct service *sv, struct arrival *a)
{
	const struct service_conf	*sc = service_conf(sv);

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
static struct session *
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
static void
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
static void
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
	nw->nw_req = revname_lookup(admit_evbase, a->ar_client.gc_sa,
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
admit_shutdown(void)
{
	struct name_wait	*nw;

	while ((nw = TAILQ_FIRST(&name_waits)) != NULL) {
		TAILQ_REMOVE(&name_waits, nw, nw_entry);
		revname_cancel(nw->nw_req);
		(void)close(nw->nw_fd);
		service_unref(nw->nw_service);
		free(nw);
	}
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

/*
 * Tell refused client <fd> of <sc>: banner_fail, or for a client of the
 * mux the "-" line that RFC 1078 asks for instead.
 */
static void
admit_banner_fail(const struct service_conf *sc, int fd,
    const struct arrival *a)
{
	if (a->ar_mux)
		tcpmux_send_refused(fd);
	else if (!sc->sc_tls)
		banner_send_fd(fd, &sc->sc_banner_fail);
}

/* A client that the gate of tcpmux service <sv> admitted: read its line. */
static void
admit_mux(struct service *sv, int fd, const struct arrival *a)
{
	struct tcpmux_client	c;

	c.tc_peer = (const struct sockaddr *)&a->ar_peer;
	c.tc_peerlen = a->ar_peerlen;
	c.tc_addr = a->ar_addr;
	c.tc_country = a->ar_client.gc_country;
	c.tc_key = &a->ar_client.gc_key;
	c.tc_fnow = a->ar_fnow;
	tcpmux_start(admit_evbase, sv, fd, &c, admit_muxed);
}

/*
 * A client of the mux asked for <sv>: it goes through <sv>'s gate as if
 * it had connected to it (no banner: the mux's reply lines take its
 * place).
 */
static void
admit_muxed(struct service *sv, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	struct arrival	a;

	admit_arrival(&a, service_conf(sv), sa, salen);
	a.ar_mux = 1;
	if (gate_needs_name(service_conf(sv))) {
		admit_wait_name(sv, fd, &a);
		return;
	}
	admit_gated(sv, fd, &a);
}

/* A stream client of <sv> with everything the gate needs. */
static void
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
	if (a->ar_mux && (sc->sc_type & STYPE_TCPMUXPLUS) &&
	    tcpmux_send_go(fd) == -1) {
		log_debug("service %s: +Go to %s not sent", sc->sc_id,
		    a->ar_addr);
		(void)close(fd);
		return;
	}
	if ((s = admit_session(sv, fd, a)) != NULL)
		session_start(s);
}

/* The PROXY header of a client of <arg> (a service) was read, or not. */
static void
admit_proxy_cb(void *arg, int fd, const struct sockaddr *client,
    socklen_t len, const char *err)
{
	struct service		*sv = arg;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen = sizeof(peer);
	struct arrival		 a;

	if (err == NULL)
		admit_client(sv, fd, client, len);
	else {
		if (getpeername(fd, (struct sockaddr *)&peer, &peerlen) == -1) {
			memset(&peer, 0, sizeof(peer));
			peerlen = sizeof(peer);
		}
		admit_arrival(&a, service_conf(sv), (struct sockaddr *)&peer,
		    peerlen);
		log_warnx("service %s: %s from %s", service_conf(sv)->sc_id,
		    err, a.ar_addr);
		admit_fail(service_conf(sv), &a, "proxy");
		(void)close(fd);
	}
	service_unref(sv);
}

/*
 * A connection to accept_proxy service <sv> from <a> refused before its
 * header is read, for <reason>.
 */
static void
admit_proxy_refuse(struct service *sv, int fd, const struct arrival *a,
    const char *reason)
{
	service_count_refused(sv);
	log_debug("service %s refused %s: %s", service_conf(sv)->sc_id,
	    a->ar_addr, reason);
	admit_fail(service_conf(sv), a, reason);
	(void)close(fd);
}

/*
 * A client of accept_proxy service <sv>: the header is read only from a
 * TCP peer on proxy_from, and only while the caps on headers awaited
 * allow; anyone else is refused before a byte of it is read.
 */
static void
admit_proxy(struct service *sv, int fd, struct sockaddr *sa, socklen_t salen)
{
	const struct service_conf	*sc = service_conf(sv);
	struct arrival			 a;
	struct addrmatch		 m;

	admit_arrival(&a, sc, sa, salen);
	if (!addrlist_match(sc->sc_proxy_from, a.ar_client.gc_sa, NULL, &m)) {
		admit_proxy_refuse(sv, fd, &a, "proxy_from");
		return;
	}
	service_ref(sv);
	switch (proxyproto_accept_start(admit_evbase, fd, sa, salen,
	    admit_proxy_cb, sv)) {
	case PROXYPROTO_ACCEPT_STARTED:
		return;
	case PROXYPROTO_ACCEPT_SOURCE_FULL:
		admit_proxy_refuse(sv, fd, &a, "proxy_per_source");
		break;
	case PROXYPROTO_ACCEPT_FULL:
		admit_proxy_refuse(sv, fd, &a, "proxy_limit");
		break;
	case PROXYPROTO_ACCEPT_ERROR:
		log_warn("service %s: accept_proxy", sc->sc_id);
		(void)close(fd);
		break;
	}
	service_unref(sv);
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

void
admit_handoff(struct service *sv)
{
	const struct service_conf	*sc = service_conf(sv);
	struct sockaddr_storage		 from;
	socklen_t			 fromlen = sizeof(from);
	struct arrival			 a;
	struct session			*s;
	char				 byte;
	int				 fd = service_fd(sv), admitted;

	memset(&from, 0, sizeof(from));
	if (sc->sc_socktype == SOCK_DGRAM && recvfrom(fd, &byte, 1,
	    MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen) == -1)
		return;
	admit_arrival(&a, sc, (struct sockaddr *)&from, fromlen);
	if (sc->sc_socktype == SOCK_STREAM) {
		a.ar_client.gc_sa = NULL;	/* no client address yet */
		(void)strlcpy(a.ar_addr, "<no address>", sizeof(a.ar_addr));
	}
	admitted = admit_gate(sv, &a);
	if (admitted && spawn_full()) {
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "process_limit");
		admitted = 0;
	}
	if (!admitted) {
		/* Drop the datagram, so that the socket is not readable. */
		if (sc->sc_socktype == SOCK_DGRAM)
			(void)recv(fd, &byte, 1, MSG_DONTWAIT);
		else
			service_pause(sv, 1);
		return;
	}
	/* Failing here, pause: the socket would stay readable. */
	if ((fd = dup(fd)) == -1) {
		log_warn("service %s: hand-off", sc->sc_id);
		service_pause(sv, 1);
		return;
	}
	if ((s = admit_session(sv, fd, &a)) == NULL) {
		service_pause(sv, 1);
		return;
	}
	service_pause(sv, 0);
	session_start_handoff(s);
}

/*
 * Would a reply to <from> reach a UDP service of this daemon: a served
 * port on an address of this host (a wildcard socket takes every one)?
 * One forged datagram would set the two answering each other for ever.
 */
static int
admit_dgram_loop(const struct sockaddr *from, const struct dgram_dst *dst)
{
	return service_dgram_port(sockaddr_port(from)) &&
	    dgram_source_local(from, dst);
}

void
admit_dgram(struct service *sv, const void *data, size_t len,
    struct sockaddr *from, socklen_t fromlen, const struct dgram_dst *dst)
{
	const struct service_conf	*sc = service_conf(sv);
	struct arrival			 a;
	struct access_rec		 rec;
	struct udp_flow			*flow;
	struct session			*s;

	if (service_flows(sv) != NULL &&
	    (flow = relay_udp_find(service_flows(sv), from)) != NULL) {
		relay_udp_send(flow, data, len);
		return;
	}
	admit_arrival(&a, sc, from, fromlen);
	if (sc->sc_flags & SFLAG_SENSOR) {
		admit_sensor(sv, &a);
		return;
	}
	if (admit_dgram_loop(from, dst)) {
		service_count_refused(sv);
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "address");
		return;
	}
	if (!admit_gate(sv, &a))
		return;
	if (service_flows(sv) != NULL) {
		if ((s = admit_session(sv, -1, &a)) != NULL)
			session_start_flow(s, service_flows(sv),
			    service_fd(sv), from, fromlen, dst, data, len);
		return;
	}
	if (quota_spend(service_quota(sv), sc, &a.ar_client.gc_key,
	    a.ar_fnow) == -1)
		return;
	if (builtin_dgram(service_fd(sv), sc->sc_builtin, from, fromlen, dst,
	    data, len) == -1 && errno == EACCES) {
		/* A reply to a service port could start a loop. */
		service_count_refused(sv);
		if (!admit_fail_repeated(sv, &a))
			admit_fail(sc, &a, "address");
		return;
	}
	service_count_accepted(sv);
	memset(&rec, 0, sizeof(rec));
	rec.ar_id = sc->sc_id;
	rec.ar_addr = a.ar_addr;
	rec.ar_port = sockaddr_port((struct sockaddr *)&a.ar_peer);
	rec.ar_country = a.ar_client.gc_country;
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
}
