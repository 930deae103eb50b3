/*
 * Sessions.  session_accept() puts a client through the gate before
 * anything is allocated, so that a refused client costs its socket and a
 * log line only; an admitted one gets a struct session, its limit slots
 * and a back end.  session_close() is the one way a session ends, whatever
 * ends it: it writes the EXIT record, releases the slots and frees
 * everything, once.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "accesslog.h"
#include "banner.h"
#include "builtin.h"
#include "config.h"
#include "gate.h"
#include "geoip.h"
#include "limits.h"
#include "log.h"
#include "service.h"
#include "session.h"
#include "proxy_accept.h"
#include "relay_tcp.h"
#include "relay_udp.h"
#include "sockaddr.h"
#include "spawn.h"

struct session {
	TAILQ_ENTRY(session)	 se_entry;
	struct service		*se_service;
	struct config		*se_cf;		/* holds se_conf */
	const struct service_conf *se_conf;
	int			 se_fd;		/* until a bufferevent owns it */
	struct sockaddr_storage	 se_peer;
	char			 se_addr[SOCKADDR_STRLEN];
	char			 se_country[3];
	struct srckey		 se_key;	/* the limit slot it holds */
	time_t			 se_start;
	struct bufferevent	*se_bev;
	struct builtin_session	*se_builtin;
	struct relay		*se_relay;
	struct udp_flow		*se_flow;
	pid_t			 se_pid;	/* spawned server, until reaped */
	int			 se_status;	/* its waitpid() status */
	int			 se_handoff;	/* the server has the listener */
	uint64_t		 se_in;
	uint64_t		 se_out;
};

/* A client on its way through the gate, on the stack. */
struct arrival {
	struct sockaddr_storage	 ar_peer;
	socklen_t		 ar_peerlen;
	char			 ar_addr[SOCKADDR_STRLEN];
	char			 ar_country[3];
	struct gate_client	 ar_client;
	time_t			 ar_now;
	double			 ar_fnow;
};

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;

static void	session_close(struct session *, const char *, int);

/* The current time, whole and with sub-second precision. */
static void
session_clock(time_t *now, double *fnow)
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
session_loadavg(time_t now)
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
session_arrival(struct arrival *a, const struct service_conf *sc,
    const struct sockaddr *sa, socklen_t salen)
{
	memset(a, 0, sizeof(*a));
	if (salen > sizeof(a->ar_peer))
		salen = sizeof(a->ar_peer);
	memcpy(&a->ar_peer, sa, salen);
	a->ar_peerlen = salen;
	sockaddr_unmap(&a->ar_peer, &a->ar_peerlen);
	(void)sockaddr_ntop((struct sockaddr *)&a->ar_peer, a->ar_addr,
	    sizeof(a->ar_addr));
	a->ar_client.gc_sa = (struct sockaddr *)&a->ar_peer;
	limits_key(sc, a->ar_client.gc_sa, &a->ar_client.gc_key);
	limits_key(NULL, a->ar_client.gc_sa, &a->ar_client.gc_fullkey);
	session_clock(&a->ar_now, &a->ar_fnow);
	if (sc->sc_geoip != NULL) {
		geoip_refresh(a->ar_now, 0);
		a->ar_client.gc_country = geoip_country(sc->sc_geoip,
		    a->ar_client.gc_sa, a->ar_country);
	}
}

/* An access record for an arrival. */
static void
session_arrival_rec(const struct arrival *a, const struct service_conf *sc,
    struct access_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ar_id = sc->sc_id;
	rec->ar_addr = a->ar_addr;
	rec->ar_port = sockaddr_port((const struct sockaddr *)&a->ar_peer);
	rec->ar_country = a->ar_client.gc_country;
}

/*
 * Run the gate for arrival <a> at <sv>; on refusal log the FAIL record.
 * Returns 1 if admitted.
 */
static int
session_gate(struct service *sv, struct arrival *a)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct verdict			 v;
	struct access_rec		 rec;
	double				 load = -1;

	if (limits_cps_arrival(sv->sv_limits, sc, a->ar_now))
		service_cps_tripped(sv, sc->sc_cps_wait);
	if (sc->sc_max_load > 0)
		load = session_loadavg(a->ar_now);
	if (gate_check(sc, sv->sv_limits, &a->ar_client, a->ar_now,
	    a->ar_fnow, load, &v))
		return 1;
	sv->sv_refused++;
	log_debug("service %s refused %s: %s", sc->sc_id, a->ar_addr,
	    v.v_rule);
	session_arrival_rec(a, sc, &rec);
	rec.ar_reason = gate_reason_name(v.v_reason);
	accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
	return 0;
}

/* A client touched a SENSOR service: deny it everywhere for a while. */
static void
session_sensor(struct service *sv, struct arrival *a)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct access_rec		 rec;

	if (sc->sc_deny_time != 0) {
		limits_deny(&a->ar_client.gc_fullkey, sc->sc_deny_time,
		    a->ar_now);
		log_warnx("service %s: adding %s to the global deny list for "
		    "%s%d minutes", sc->sc_id, a->ar_addr,
		    sc->sc_deny_time < 0 ? "ever (" : "", sc->sc_deny_time);
	}
	session_arrival_rec(a, sc, &rec);
	rec.ar_reason = "address";
	accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
}

/* The access record of <s>, as far as it is known. */
static void
session_rec(const struct session *s, struct access_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ar_id = s->se_conf->sc_id;
	rec->ar_addr = s->se_addr;
	rec->ar_port = sockaddr_port((const struct sockaddr *)&s->se_peer);
	rec->ar_country = s->se_country[0] != '\0' ? s->se_country : NULL;
	rec->ar_pid = s->se_pid;
	rec->ar_in = s->se_in;
	rec->ar_out = s->se_out;
}

/* A stream built-in finished. */
static void
session_builtin_done(void *arg, int error, uint64_t in, uint64_t out)
{
	struct session	*s = arg;

	s->se_builtin = NULL;
	s->se_in = in;
	s->se_out = out;
	session_close(s, error ? "error" : "done", error);
}

/* The relay of <s> ended. */
static void
session_relay_done(void *arg, enum relay_end end, const char *why,
    uint64_t in, uint64_t out)
{
	struct session		*s = arg;
	struct access_rec	 rec;

	s->se_relay = NULL;
	s->se_fd = -1;		/* the relay closed it */
	s->se_in = in;
	s->se_out = out;
	if (end == RELAY_CONNECT) {
		log_warnx("service %s: cannot reach any redirect target for "
		    "%s: %s", s->se_conf->sc_id, s->se_addr, why);
		session_rec(s, &rec);
		rec.ar_reason = "redirect";
		accesslog_fail(s->se_conf->sc_log, s->se_conf->sc_log_failure,
		    &rec);
	}
	session_close(s, why, end != RELAY_DONE);
}

/* Forward <s> to its redirect targets. */
static void
session_relay(struct session *s)
{
	struct sockaddr_storage	local;
	socklen_t		locallen = sizeof(local);

	banner_send_fd(s->se_fd, &s->se_conf->sc_banner_success);
	if (getsockname(s->se_fd, (struct sockaddr *)&local, &locallen) == -1)
		memset(&local, 0, sizeof(local));
	sockaddr_unmap(&local, &locallen);
	s->se_relay = relay_tcp_start(service_base(), s->se_fd, s->se_conf,
	    (struct sockaddr *)&s->se_peer, (struct sockaddr *)&local,
	    session_relay_done, s);
	if (s->se_relay == NULL) {
		session_close(s, "out of memory", 1);
		return;
	}
	s->se_fd = -1;
}

/* The spawned server of <s> was reaped. */
static void
session_child_exited(void *arg, pid_t pid, int status)
{
	struct session	*s = arg;

	s->se_status = status;
	s->se_pid = pid;	/* kept for the EXIT record */
	session_close(s, "server exited", 0);
}

/*
 * Spawn the server of <s> on <fd> (the client, or the listening socket for
 * a hand-off).  Returns 0, or -1 after closing the session.
 */
static int
session_spawn(struct session *s, int fd)
{
	const struct service_conf	*sc = s->se_conf;
	struct spawn_req		 rq;
	struct access_rec		 rec;
	pid_t				 pid;

	memset(&rq, 0, sizeof(rq));
	rq.sq_conf = sc;
	rq.sq_fd = fd;
	rq.sq_addr = s->se_handoff ? NULL : s->se_addr;
	rq.sq_port = s->se_handoff ? 0 :
	    sockaddr_port((struct sockaddr *)&s->se_peer);
	rq.sq_country = s->se_country[0] != '\0' ? s->se_country : NULL;
	rq.sq_exited = session_child_exited;
	rq.sq_arg = s;
	if ((pid = spawn_start(&rq)) == -1) {
		session_rec(s, &rec);
		rec.ar_reason = "fork";
		accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
		session_close(s, "fork failed", 1);
		return -1;
	}
	s->se_pid = pid;
	session_rec(s, &rec);
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
	return 0;
}

/* Start the back end of an admitted stream session. */
static void
session_start_backend(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;
	struct access_rec		 rec;

	if (sc->sc_server != NULL && sc->sc_nredirect == 0) {
		banner_send_fd(s->se_fd, &sc->sc_banner_success);
		if (session_spawn(s, s->se_fd) == 0) {
			(void)close(s->se_fd);
			s->se_fd = -1;
		}
		return;
	}
	session_rec(s, &rec);
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
	if (sc->sc_builtin != BUILTIN_NONE) {
		s->se_bev = bufferevent_socket_new(service_base(), s->se_fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (s->se_bev == NULL) {
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_fd = -1;
		if (banner_queue(s->se_bev, &sc->sc_banner_success) == -1) {
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_builtin = builtin_stream_start(s->se_bev, sc->sc_builtin,
		    session_builtin_done, s);
		if (s->se_builtin == NULL)
			session_close(s, "out of memory", 1);
		return;
	}
	session_relay(s);
}

/* Make the session of an admitted arrival; NULL (fd closed) on failure. */
static struct session *
session_new(struct service *sv, int fd, struct arrival *a)
{
	struct session	*s;

	if (limits_take(sv->sv_limits, sv->sv_conf, &a->ar_client.gc_key,
	    a->ar_fnow) == -1) {
		log_warnx("service %s: source table full, refusing %s",
		    sv->sv_conf->sc_id, a->ar_addr);
		(void)close(fd);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("service %s: session", sv->sv_conf->sc_id);
		limits_release(sv->sv_limits, &a->ar_client.gc_key);
		(void)close(fd);
		return NULL;
	}
	s->se_fd = fd;
	s->se_service = sv;
	service_ref(sv);
	s->se_cf = sv->sv_cf;
	config_ref(s->se_cf);
	s->se_conf = sv->sv_conf;
	s->se_start = a->ar_now;
	s->se_peer = a->ar_peer;
	s->se_key = a->ar_client.gc_key;
	memcpy(s->se_addr, a->ar_addr, sizeof(s->se_addr));
	memcpy(s->se_country, a->ar_country, sizeof(s->se_country));
	TAILQ_INSERT_TAIL(&sessions, s, se_entry);
	nsessions++;
	sv->sv_accepted++;
	return s;
}

/* A client of <sv>, known to come from <sa>: the gate, then a back end. */
static void
session_admit(struct service *sv, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct arrival			 a;
	struct session			*s;
	struct access_rec		 rec;

	session_arrival(&a, sc, sa, salen);
	banner_send_fd(fd, &sc->sc_banner);
	if (sc->sc_flags & SFLAG_SENSOR) {
		session_sensor(sv, &a);
		(void)close(fd);
		return;
	}
	if (!session_gate(sv, &a)) {
		banner_send_fd(fd, &sc->sc_banner_fail);
		(void)close(fd);
		return;
	}
	if (sc->sc_server != NULL && sc->sc_nredirect == 0 && spawn_full()) {
		session_arrival_rec(&a, sc, &rec);
		rec.ar_reason = "process_limit";
		accesslog_fail(sc->sc_log, sc->sc_log_failure, &rec);
		banner_send_fd(fd, &sc->sc_banner_fail);
		(void)close(fd);
		return;
	}
	if ((s = session_new(sv, fd, &a)) == NULL)
		return;
	session_start_backend(s);
}

/* The PROXY header of a client of <arg> (a service) was read, or not. */
static void
session_proxy_cb(void *arg, int fd, const struct sockaddr *client,
    socklen_t len, const char *err)
{
	struct service		*sv = arg;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen = sizeof(peer);
	struct arrival		 a;
	struct access_rec	 rec;

	if (err == NULL)
		session_admit(sv, fd, client, len);
	else {
		if (getpeername(fd, (struct sockaddr *)&peer, &peerlen) == -1)
			memset(&peer, 0, peerlen = sizeof(peer));
		session_arrival(&a, sv->sv_conf, (struct sockaddr *)&peer,
		    peerlen);
		log_warnx("service %s: %s from %s", sv->sv_conf->sc_id, err,
		    a.ar_addr);
		session_arrival_rec(&a, sv->sv_conf, &rec);
		rec.ar_reason = "proxy";
		accesslog_fail(sv->sv_conf->sc_log, sv->sv_conf->sc_log_failure,
		    &rec);
		(void)close(fd);
	}
	service_unref(sv);
}

void
session_accept(struct service *sv, int fd, struct sockaddr *sa,
    socklen_t salen)
{
	if (!sv->sv_conf->sc_accept_proxy) {
		session_admit(sv, fd, sa, salen);
		return;
	}
	service_ref(sv);
	if (proxy_accept_start(service_base(), fd, sa, salen,
	    session_proxy_cb, sv) == -1) {
		log_warn("service %s: accept_proxy", sv->sv_conf->sc_id);
		service_unref(sv);
		(void)close(fd);
	}
}

/*
 * A wait = yes service (or a dgram service that spawns a server per
 * datagram) is readable: the listening socket goes to a new server and is
 * not watched until that server exits.  For a datagram, the gate sees the
 * sender of the first datagram, which is left in the socket.
 */
void
session_handoff(struct service *sv)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct sockaddr_storage		 from;
	socklen_t			 fromlen = sizeof(from);
	struct arrival			 a;
	struct session			*s;
	char				 byte;
	int				 fd = service_fd(sv);

	memset(&from, 0, sizeof(from));
	if (sc->sc_socktype == SOCK_DGRAM && recvfrom(fd, &byte, 1,
	    MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen) == -1)
		return;
	session_arrival(&a, sc, (struct sockaddr *)&from, fromlen);
	if (sc->sc_socktype == SOCK_STREAM)
		a.ar_client.gc_sa = NULL;
	if (!session_gate(sv, &a) || spawn_full()) {
		/* Drop the datagram so that the socket does not stay readable. */
		if (sc->sc_socktype == SOCK_DGRAM)
			(void)recv(fd, &byte, 1, MSG_DONTWAIT);
		else
			service_pause(sv, 1);
		return;
	}
	if ((fd = dup(fd)) == -1 || (s = session_new(sv, fd, &a)) == NULL) {
		log_warn("service %s: hand-off", sc->sc_id);
		return;
	}
	s->se_handoff = 1;
	if (sc->sc_socktype == SOCK_STREAM)
		(void)strlcpy(s->se_addr, "<no address>", sizeof(s->se_addr));
	service_pause(sv, 0);
	if (session_spawn(s, s->se_fd) == 0) {
		(void)close(s->se_fd);
		s->se_fd = -1;
	}
}

/* A UDP flow ended. */
static void
session_flow_done(void *arg, const char *why, uint64_t in, uint64_t out)
{
	struct session	*s = arg;

	s->se_flow = NULL;
	s->se_in = in;
	s->se_out = out;
	session_close(s, why, 0);
}

/* A datagram of a new client of a UDP forwarding service. */
static void
session_flow_new(struct service *sv, struct arrival *a, const void *data,
    size_t len, struct sockaddr *from, socklen_t fromlen)
{
	struct session		*s;
	struct sockaddr_storage	 local;
	socklen_t		 locallen = sizeof(local);
	struct access_rec	 rec;

	if ((s = session_new(sv, -1, a)) == NULL)
		return;
	if (getsockname(sv->sv_fd, (struct sockaddr *)&local, &locallen) == -1)
		memset(&local, 0, sizeof(local));
	sockaddr_unmap(&local, &locallen);
	s->se_flow = relay_udp_open(sv->sv_flows, service_base(), s->se_conf,
	    sv->sv_fd, from, fromlen, (struct sockaddr *)&local,
	    session_flow_done, s);
	if (s->se_flow == NULL) {
		log_warn("service %s: flow for %s", s->se_conf->sc_id,
		    s->se_addr);
		session_close(s, "no flow", 1);
		return;
	}
	session_rec(s, &rec);
	accesslog_start(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
	relay_udp_send(s->se_flow, data, len);
}

void
session_dgram(struct service *sv, const void *data, size_t len,
    struct sockaddr *from, socklen_t fromlen)
{
	const struct service_conf	*sc = sv->sv_conf;
	struct arrival			 a;
	struct access_rec		 rec;
	struct udp_flow			*flow;

	if (sv->sv_flows != NULL) {
		if ((flow = relay_udp_find(sv->sv_flows, from)) != NULL) {
			relay_udp_send(flow, data, len);
			return;
		}
		session_arrival(&a, sc, from, fromlen);
		if (session_gate(sv, &a))
			session_flow_new(sv, &a, data, len, from, fromlen);
		return;
	}
	if (sc->sc_builtin == BUILTIN_NONE && !(sc->sc_flags & SFLAG_SENSOR))
		return;
	session_arrival(&a, sc, from, fromlen);
	if (sc->sc_flags & SFLAG_SENSOR) {
		session_sensor(sv, &a);
		return;
	}
	if (!session_gate(sv, &a))
		return;
	if (limits_spend(sv->sv_limits, sc, &a.ar_client.gc_key, a.ar_fnow) ==
	    -1)
		return;
	sv->sv_accepted++;
	session_arrival_rec(&a, sc, &rec);
	accesslog_start(sc->sc_log, sc->sc_log_success, &rec);
	(void)builtin_dgram(sv->sv_fd, sc->sc_builtin, from, fromlen, data,
	    len);
}

/*
 * End <s>: log, release, free.  <reason> says why, for debugging; <error>
 * is non-zero when the session ended abnormally.
 */
static void
session_close(struct session *s, const char *reason, int error)
{
	struct service		*sv = s->se_service;
	struct access_rec	 rec;

	log_debug("session %s from %s closed: %s", s->se_conf->sc_id,
	    s->se_addr, reason);
	if (s->se_builtin != NULL)
		builtin_stream_free(s->se_builtin);
	if (s->se_relay != NULL) {
		relay_tcp_counts(s->se_relay, &s->se_in, &s->se_out);
		relay_tcp_free(s->se_relay);
	}
	if (s->se_flow != NULL) {
		relay_udp_counts(s->se_flow, &s->se_in, &s->se_out);
		relay_udp_close(s->se_flow);
	}
	if (s->se_bev != NULL)
		bufferevent_free(s->se_bev);
	if (s->se_fd != -1)
		(void)close(s->se_fd);
	session_rec(s, &rec);
	if (s->se_pid > 0 && WIFSIGNALED(s->se_status)) {
		rec.ar_signaled = 1;
		rec.ar_status = WTERMSIG(s->se_status);
	} else {
		rec.ar_exited = 1;
		rec.ar_status = s->se_pid > 0 ? WEXITSTATUS(s->se_status) :
		    error != 0;
	}
	rec.ar_duration = time(NULL) - s->se_start;
	if (s->se_handoff)
		service_handoff_done(sv, rec.ar_duration);
	accesslog_exit(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
	limits_release(sv->sv_limits, &s->se_key);
	TAILQ_REMOVE(&sessions, s, se_entry);
	nsessions--;
	config_unref(s->se_cf);
	service_unref(sv);
	free(s);
}

void
session_close_all(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, se_entry);
		if (s->se_pid == 0)	/* spawned ones end when reaped */
			session_close(s, "shutdown", 0);
	}
}

void
session_dump(void)
{
	struct session	*s;
	time_t		 now = time(NULL);

	TAILQ_FOREACH(s, &sessions, se_entry) {
		if (s->se_relay != NULL)
			relay_tcp_counts(s->se_relay, &s->se_in, &s->se_out);
		if (s->se_flow != NULL)
			relay_udp_counts(s->se_flow, &s->se_in, &s->se_out);
		log_info("dump: session %s from %s port %d, %lld s, "
		    "in %llu out %llu", s->se_conf->sc_id, s->se_addr,
		    sockaddr_port((struct sockaddr *)&s->se_peer),
		    (long long)(now - s->se_start),
		    (unsigned long long)s->se_in,
		    (unsigned long long)s->se_out);
	}
}

int
session_count(void)
{
	return nsessions;
}
