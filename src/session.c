/*
 * Sessions: their life.  A session is made for an admitted client with a
 * limit slot and its descriptors charged, may ask the client's ident
 * server first, then starts its back end (session_backend.c).
 * session_close() is the one way a session ends, whatever ends it: it
 * writes the EXIT record, releases the limit slot and the descriptors,
 * tells its owner and frees everything, once.  A session with a spawned
 * server waits for both the server's exit and the end of its relay, if it
 * has one.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "builtin.h"
#include "config.h"
#include "fdbudget.h"
#include "ident.h"
#include "log.h"
#include "metrics.h"
#include "quota.h"
#include "session.h"
#include "session_int.h"
#include "sockaddr.h"

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;
static struct event_base	*session_evbase;

void
session_init(struct event_base *base)
{
	session_evbase = base;
}

/* Now, on the clock admission used for the start time. */
static time_t
session_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return time(NULL);
	return ts.tv_sec;
}

/* Does a session of <sc> ask the client's ident server?  1 or 0. */
static int
session_fds_ident(const struct service_conf *sc)
{
	return (sc->sc_log_success & ALOG_USERID) && !sc->sc_accept_proxy;
}

int
session_fds(const struct service_conf *sc)
{
	int	n = 1;		/* the client */

	if (sc->sc_nredirect > 0)
		n++;		/* the back-end socket */
	else if (sc->sc_tls && sc->sc_builtin == BUILTIN_NONE)
		n++;		/* our end of the server's socketpair */
	return n + session_fds_ident(sc);
}

void
session_fds_release(struct session *s, int n, int ident)
{
	if (ident && s->se_identfd) {
		s->se_identfd = 0;
		n++;
	}
	if (n > s->se_fds - s->se_identfd)
		n = s->se_fds - s->se_identfd;
	s->se_fds -= n;
	fdbudget_release(n);
}

struct session *
session_new(int fd, const struct session_origin *o)
{
	const struct service_conf	*sc = o->so_conf;
	struct session			*s;
	int				 rc;

	if ((rc = quota_take(o->so_quota, sc, o->so_key, o->so_fnow)) < 0) {
		if (rc == -1)
			log_warnx("service %s: source table full, refusing %s",
			    sc->sc_id, o->so_addr);
		else
			log_debug("service %s: instances %d reached by another "
			    "worker, refusing %s", sc->sc_id, sc->sc_instances,
			    o->so_addr);
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("service %s: session", sc->sc_id);
		quota_release(o->so_quota, o->so_key);
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	s->se_fd = fd;
	/* A flow charges its own socket: it can be evicted. */
	if (fd != -1) {
		s->se_fds = session_fds(sc);
		s->se_identfd = session_fds_ident(sc);
		fdbudget_charge(s->se_fds);
	}
	s->se_base = session_evbase;
	s->se_cf = o->so_cf;
	config_ref(s->se_cf);
	s->se_conf = sc;
	s->se_quota = o->so_quota;
	s->se_done = o->so_done;
	s->se_done_arg = o->so_done_arg;
	s->se_metrics = o->so_metrics;
	metrics_session_start(s->se_metrics);
	s->se_start = o->so_now;
	memcpy(&s->se_peer, o->so_peer, o->so_peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	s->se_key = *o->so_key;
	(void)strlcpy(s->se_addr, o->so_addr, sizeof(s->se_addr));
	if (o->so_country != NULL)
		(void)strlcpy(s->se_country, o->so_country,
		    sizeof(s->se_country));
	TAILQ_INSERT_TAIL(&sessions, s, se_entry);
	nsessions++;
	return s;
}

void
session_rec(const struct session *s, struct access_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ar_id = s->se_conf->sc_id;
	rec->ar_addr = s->se_addr;
	rec->ar_port = sockaddr_port((const struct sockaddr *)&s->se_peer);
	rec->ar_country = s->se_country[0] != '\0' ? s->se_country : NULL;
	rec->ar_tls = s->se_tlsinfo[0] != '\0' ? s->se_tlsinfo : NULL;
	rec->ar_pid = s->se_pid;
	rec->ar_in = s->se_in;
	rec->ar_out = s->se_out;
}

void
session_log_start(struct session *s)
{
	struct access_rec	rec;

	s->se_started = 1;
	session_rec(s, &rec);
	accesslog_start(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
}

void
session_log_fail(const struct session *s, const char *reason)
{
	struct access_rec	rec;

	session_rec(s, &rec);
	rec.ar_reason = reason;
	accesslog_fail(s->se_conf->sc_log, s->se_conf->sc_log_failure, &rec);
}

/* The ident query of <s> ended: USERID, or NOID and no service. */
static void
session_ident_done(void *arg, const char *reply, const char *why)
{
	struct session		*s = arg;
	struct access_rec	 rec;
	int			 idonly = s->se_conf->sc_flags & SFLAG_IDONLY;

	s->se_ident = NULL;
	session_fds_release(s, 0, 1);
	session_rec(s, &rec);
	rec.ar_ident = reply != NULL ? reply : why;
	if (reply != NULL || idonly)
		accesslog_ident(s->se_conf->sc_log, reply != NULL ?
		    ACCESS_USERID : ACCESS_NOID, &rec);
	if (!idonly)
		return;
	if (reply == NULL)
		session_close(s, "no ident reply", 1);
	else
		session_front(s);
}

/*
 * Ask who the client of <s> is (log_on_success USERID): alongside the
 * session, or before it with flags IDONLY.  Not for a PROXY address,
 * whose connection is the load balancer's.  0, or -1 if IDONLY could not
 * ask (the session is closed).
 */
static int
session_ident(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;
	struct sockaddr_storage		 local;
	socklen_t			 len = sizeof(local);

	if (!(sc->sc_log_success & ALOG_USERID) || sc->sc_accept_proxy ||
	    s->se_fd == -1)
		return 0;
	if (getsockname(s->se_fd, (struct sockaddr *)&local, &len) == 0) {
		sockaddr_unmap(&local, &len);
		s->se_ident = ident_start(s->se_base,
		    (struct sockaddr *)&local, (struct sockaddr *)&s->se_peer,
		    IDENT_TIMEOUT, session_ident_done, s);
	}
	if (s->se_ident == NULL) {
		session_fds_release(s, 0, 1);
		log_warn("service %s: ident query for %s", sc->sc_id,
		    s->se_addr);
		if (sc->sc_flags & SFLAG_IDONLY) {
			session_ident_done(s, NULL, "system error");
			return -1;
		}
	}
	return 0;
}

void
session_start(struct session *s)
{
	if (session_ident(s) == -1)
		return;
	if (s->se_ident != NULL && (s->se_conf->sc_flags & SFLAG_IDONLY))
		return;		/* the reply starts the session */
	session_front(s);
}

void
session_close(struct session *s, const char *reason, int error)
{
	struct access_rec	rec;

	log_debug("session %s from %s closed: %s", s->se_conf->sc_id,
	    s->se_addr, reason);
	session_backend_free(s);
	session_rec(s, &rec);
	if (s->se_pid > 0 && WIFSIGNALED(s->se_status)) {
		rec.ar_signaled = 1;
		rec.ar_status = WTERMSIG(s->se_status);
	} else {
		rec.ar_exited = 1;
		rec.ar_status = s->se_pid > 0 ? WEXITSTATUS(s->se_status) :
		    error != 0;
	}
	rec.ar_duration = session_now() - s->se_start;
	if (rec.ar_duration < 0)
		rec.ar_duration = 0;
	/*
	 * The slot first: the master writes EXIT in another process, and a
	 * client who read it may come back at once to another worker.
	 */
	quota_release(s->se_quota, &s->se_key);
	metrics_session_end(s->se_metrics, rec.ar_in, rec.ar_out,
	    (long)rec.ar_duration);
	if (s->se_started)
		accesslog_exit(s->se_conf->sc_log, s->se_conf->sc_log_success,
		    &rec);
	session_fds_release(s, s->se_fds, 1);
	TAILQ_REMOVE(&sessions, s, se_entry);
	nsessions--;
	config_unref(s->se_cf);
	/* Last: the owner may free what the quota lives in. */
	s->se_done(s->se_done_arg, rec.ar_duration, s->se_handoff,
	    s->se_refused);
	free(s);
}

void
session_close_all(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, se_entry);
		if (!s->se_running)	/* spawned ones end when reaped */
			session_close(s, "shutdown", 0);
	}
}

void
session_dump(void)
{
	struct session	*s;
	time_t		 now = session_now();

	TAILQ_FOREACH(s, &sessions, se_entry) {
		session_backend_counts(s);
		log_info("dump: session %s from %s port %d, %lld s, pid %ld, "
		    "in %llu out %llu%s%s", s->se_conf->sc_id, s->se_addr,
		    sockaddr_port((struct sockaddr *)&s->se_peer),
		    (long long)(now - s->se_start), (long)s->se_pid,
		    (unsigned long long)s->se_in,
		    (unsigned long long)s->se_out,
		    s->se_tlsinfo[0] != '\0' ? ", " : "", s->se_tlsinfo);
	}
}

/* What <s> talks to: its server, its built-in, or its target. */
static void
session_backend_name(const struct session *s, char *buf, size_t len)
{
	const struct service_conf	*sc = s->se_conf;

	if (s->se_pid > 0)
		(void)snprintf(buf, len, "server %s", sc->sc_server != NULL ?
		    sc->sc_server : "");
	else if (sc->sc_nredirect > 0)
		(void)snprintf(buf, len, "%s:%s%s", sc->sc_redirect[0].rt_host,
		    sc->sc_redirect[0].rt_port, sc->sc_nredirect > 1 ?
		    " (or another target)" : "");
	else if (sc->sc_type & STYPE_INTERNAL)
		(void)snprintf(buf, len, "built-in %s",
		    builtin_name(sc->sc_builtin));
	else
		(void)snprintf(buf, len, "server %s", sc->sc_server != NULL ?
		    sc->sc_server : "");
}

int
session_walk(int (*cb)(const struct session_info *, void *), void *arg)
{
	struct session		*s;
	struct session_info	 sn;
	time_t			 now = session_now();
	int			 left = nsessions;

	TAILQ_FOREACH(s, &sessions, se_entry) {
		session_backend_counts(s);
		memset(&sn, 0, sizeof(sn));
		sn.sn_service = s->se_conf->sc_id;
		sn.sn_peer = (const struct sockaddr *)&s->se_peer;
		session_backend_name(s, sn.sn_backend, sizeof(sn.sn_backend));
		sn.sn_tls = s->se_tlsinfo;
		sn.sn_pid = s->se_pid;
		sn.sn_age = (long long)(now - s->se_start);
		sn.sn_in = s->se_in;
		sn.sn_out = s->se_out;
		left--;
		if (cb(&sn, arg) != 0)
			break;
	}
	return left;
}

int
session_count(void)
{
	return nsessions;
}
