/*
 * Sessions.  A session starts its back end (optionally behind TLS): a
 * built-in, a spawned server, a TCP relay (splice, or bufferevents behind
 * TLS) or a UDP flow.  session_close() is the one way a session ends,
 * whatever ends it: it writes the EXIT record, releases the limit slot and
 * frees everything, once.  A session with a spawned server waits for both
 * the server's exit and the end of its relay, if it has one.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "accesslog.h"
#include "banner.h"
#include "builtin.h"
#include "config.h"
#include "dgram.h"
#include "fdbudget.h"
#include "ident.h"
#include "quota.h"
#include "log.h"
#include "relay_bev.h"
#include "relay_connect.h"
#include "relay_tcp.h"
#include "relay_udp.h"
#include "service.h"
#include "session.h"
#include "sockaddr.h"
#include "spawn.h"
#include "tls.h"

#define TLS_INFO_LEN	96
#define DN_LEN		2048	/* an RFC 2253 name; longer ones are not passed */

struct session {
	TAILQ_ENTRY(session)	 se_entry;
	struct service		*se_service;
	struct config		*se_cf;		/* holds se_conf */
	const struct service_conf *se_conf;
	int			 se_fd;		/* until something owns it */
	struct sockaddr_storage	 se_peer;
	char			 se_addr[SOCKADDR_STRLEN];
	char			 se_country[3];
	struct srckey		 se_key;	/* the limit slot it holds */
	int			 se_fds;	/* descriptors charged to it */
	int			 se_identfd;	/* one of them is the ident query's */
	time_t			 se_start;
	int			 se_handoff;	/* the server has the listener */
	int			 se_started;	/* START logged: EXIT will be */
	/* Back ends: at most one of each is live. */
	struct tls_accept	*se_tls;	/* handshake under way */
	struct bufferevent	*se_bev;	/* client side, TLS or built-in */
	char			 se_tlsinfo[TLS_INFO_LEN];
	struct builtin_session	*se_builtin;
	struct relay_connector	*se_connector;
	struct relay		*se_relay;	/* splice relay */
	struct bev_relay	*se_bevrelay;	/* TLS relay */
	struct udp_flow		*se_flow;
	struct ident		*se_ident;	/* USERID query under way */
	pid_t			 se_pid;	/* spawned server */
	int			 se_running;	/* not reaped yet */
	int			 se_status;	/* its waitpid() status */
	uint64_t		 se_in;
	uint64_t		 se_out;
};

static TAILQ_HEAD(, session)	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static int			nsessions;

static void	session_close(struct session *, const char *, int);

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

/*
 * <s> closed <n> of the descriptors it was charged for, besides the ident
 * query's; with <ident>, that one too.
 */
static void
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
session_new(struct service *sv, int fd, const struct session_origin *o)
{
	struct session	*s;

	if (quota_take(sv->sv_quota, sv->sv_conf, o->so_key, o->so_fnow) ==
	    -1) {
		log_warnx("service %s: source table full, refusing %s",
		    sv->sv_conf->sc_id, o->so_addr);
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("service %s: session", sv->sv_conf->sc_id);
		quota_release(sv->sv_quota, o->so_key);
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	s->se_fd = fd;
	/* A flow charges its own socket: it can be evicted. */
	if (fd != -1) {
		s->se_fds = session_fds(sv->sv_conf);
		s->se_identfd = session_fds_ident(sv->sv_conf);
		fdbudget_charge(s->se_fds);
	}
	s->se_service = sv;
	service_ref(sv);
	s->se_cf = sv->sv_cf;
	config_ref(s->se_cf);
	s->se_conf = sv->sv_conf;
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
	sv->sv_accepted++;
	return s;
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
	rec->ar_tls = s->se_tlsinfo[0] != '\0' ? s->se_tlsinfo : NULL;
	rec->ar_pid = s->se_pid;
	rec->ar_in = s->se_in;
	rec->ar_out = s->se_out;
}

/* Log START for <s>. */
static void
session_log_start(struct session *s)
{
	struct access_rec	rec;

	s->se_started = 1;
	session_rec(s, &rec);
	accesslog_start(s->se_conf->sc_log, s->se_conf->sc_log_success, &rec);
}

/* Log FAIL with <reason> for <s>. */
static void
session_log_fail(const struct session *s, const char *reason)
{
	struct access_rec	rec;

	session_rec(s, &rec);
	rec.ar_reason = reason;
	accesslog_fail(s->se_conf->sc_log, s->se_conf->sc_log_failure, &rec);
}

/* Send banner_success on the client side, plain or TLS; 0 or -1. */
static int
session_banner_success(struct session *s)
{
	/* Behind TLS, `banner` waited for the handshake too. */
	if (s->se_bev != NULL && s->se_tlsinfo[0] != '\0' &&
	    banner_queue(s->se_bev, &s->se_conf->sc_banner) == -1)
		return -1;
	if (s->se_bev != NULL)
		return banner_queue(s->se_bev, &s->se_conf->sc_banner_success);
	banner_send_fd(s->se_fd, &s->se_conf->sc_banner_success);
	return 0;
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

/* Serve a built-in on the client side. */
static void
session_builtin(struct session *s)
{
	if (s->se_bev == NULL) {
		s->se_bev = bufferevent_socket_new(service_base(), s->se_fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (s->se_bev == NULL) {
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_fd = -1;
	}
	if (session_banner_success(s) == -1) {
		session_close(s, "out of memory", 1);
		return;
	}
	session_log_start(s);
	s->se_builtin = builtin_stream_start(s->se_bev, s->se_conf->sc_builtin,
	    session_builtin_done, s);
	if (s->se_builtin == NULL)
		session_close(s, "out of memory", 1);
}

/* A relay of <s> ended: the session ends too, once its server is gone. */
static void
session_relay_done(void *arg, enum relay_end end, const char *why,
    uint64_t in, uint64_t out)
{
	struct session	*s = arg;

	s->se_relay = NULL;
	s->se_bevrelay = NULL;
	s->se_bev = NULL;	/* the relays free what they own */
	session_fds_release(s, s->se_fds, 0);
	s->se_in = in;
	s->se_out = out;
	log_debug("service %s: relay for %s ended: %s", s->se_conf->sc_id,
	    s->se_addr, why);
	if (s->se_running)
		return;		/* the server's exit closes the session */
	session_close(s, why, end != RELAY_DONE);
}

/* Relay the client side of <s> (plain fd or TLS bufferevent) with <fd>. */
static void
session_relay(struct session *s, int fd)
{
	struct bufferevent	*server;

	if (s->se_bev == NULL) {
		s->se_relay = relay_tcp_start(service_base(), s->se_fd, fd,
		    s->se_conf, session_relay_done, s);
		if (s->se_relay == NULL) {
			(void)close(fd);
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_fd = -1;
		return;
	}
	if ((server = bufferevent_socket_new(service_base(), fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		(void)close(fd);
		session_close(s, "out of memory", 1);
		return;
	}
	s->se_bevrelay = relay_bev_start(service_base(), s->se_bev, server,
	    s->se_conf->sc_idle_timeout, session_relay_done, s);
	if (s->se_bevrelay == NULL) {
		bufferevent_free(server);
		session_close(s, "out of memory", 1);
	}
}

/* A redirect target was reached, or none could be. */
static void
session_connected(void *arg, int fd, const char *why)
{
	struct session	*s = arg;

	s->se_connector = NULL;
	if (fd == -1) {
		log_warnx("service %s: cannot reach any redirect target for "
		    "%s: %s", s->se_conf->sc_id, s->se_addr, why);
		session_log_fail(s, "redirect");
		session_close(s, why, 1);
		return;
	}
	session_relay(s, fd);
}

/* Forward <s> to its redirect targets. */
static void
session_forward(struct session *s)
{
	struct sockaddr_storage	local;
	socklen_t		locallen = sizeof(local);
	int			fd;

	/* The address the client reached: only a PROXY header needs it. */
	memset(&local, 0, sizeof(local));
	fd = s->se_bev != NULL ? bufferevent_getfd(s->se_bev) : s->se_fd;
	if (s->se_conf->sc_proxy_protocol != PROXY_NONE &&
	    getsockname(fd, (struct sockaddr *)&local, &locallen) == 0)
		sockaddr_unmap(&local, &locallen);
	if (session_banner_success(s) == -1) {
		session_close(s, "out of memory", 1);
		return;
	}
	session_log_start(s);
	s->se_connector = relay_connect_start(service_base(), s->se_conf,
	    (struct sockaddr *)&s->se_peer, (struct sockaddr *)&local,
	    session_connected, s);
	if (s->se_connector == NULL)
		session_close(s, "out of memory", 1);
}

/* The spawned server of <s> was reaped. */
static void
session_child_exited(void *arg, pid_t pid, int status)
{
	struct session	*s = arg;

	(void)pid;
	s->se_status = status;
	s->se_running = 0;
	/* Behind TLS the relay drains what the server wrote, then ends. */
	if (s->se_bevrelay == NULL)
		session_close(s, "server exited", 0);
}

/* The SSL_CLIENT_* variables of a TLS client, for a spawned server. */
static void
session_tls_env(struct session *s, char **env, char *buf, size_t len)
{
	char	subject[DN_LEN], issuer[DN_LEN];
	int	n = 0, off;

	env[0] = NULL;
	if (s->se_bev == NULL || bufferevent_openssl_get_ssl(s->se_bev) ==
	    NULL)
		return;
	if (tls_client_cert(s->se_bev, subject, sizeof(subject), issuer,
	    sizeof(issuer))) {
		off = snprintf(buf, len, "SSL_CLIENT_S_DN=%s", subject);
		env[n++] = buf;
		buf += off + 1;
		len -= (size_t)off + 1;
		off = snprintf(buf, len, "SSL_CLIENT_I_DN=%s", issuer);
		env[n++] = buf;
		buf += off + 1;
		len -= (size_t)off + 1;
		(void)snprintf(buf, len, "SSL_CLIENT_VERIFY=SUCCESS");
	} else
		(void)snprintf(buf, len, "SSL_CLIENT_VERIFY=NONE");
	env[n++] = buf;
	env[n] = NULL;
}

/*
 * Spawn the server of <s> with <fd> on its descriptors 0, 1 and 2.
 * Returns 0, or -1 after closing the session.
 */
static int
session_spawn(struct session *s, int fd)
{
	const struct service_conf	*sc = s->se_conf;
	struct spawn_req		 rq;
	char				*env[4], buf[2 * DN_LEN + 96];

	session_tls_env(s, env, buf, sizeof(buf));
	memset(&rq, 0, sizeof(rq));
	rq.sq_conf = sc;
	rq.sq_fd = fd;
	rq.sq_addr = s->se_handoff ? NULL : s->se_addr;
	rq.sq_port = s->se_handoff ? 0 :
	    sockaddr_port((struct sockaddr *)&s->se_peer);
	rq.sq_country = s->se_country[0] != '\0' ? s->se_country : NULL;
	rq.sq_extra_env = env;
	rq.sq_exited = session_child_exited;
	rq.sq_arg = s;
	if ((s->se_pid = spawn_start(&rq)) == -1) {
		s->se_pid = 0;
		session_log_fail(s, "fork");
		session_close(s, "fork failed", 1);
		return -1;
	}
	s->se_running = 1;
	session_log_start(s);
	return 0;
}

/* Spawn the server of a stream session: on the socket, or behind TLS. */
static void
session_server(struct session *s)
{
	int	sp[2];

	if (session_banner_success(s) == -1) {
		session_close(s, "out of memory", 1);
		return;
	}
	if (s->se_bev == NULL) {
		if (session_spawn(s, s->se_fd) == 0) {
			(void)close(s->se_fd);
			s->se_fd = -1;
			session_fds_release(s, 1, 0);
		}
		return;
	}
	/* Behind TLS the server talks plain text over a socketpair. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("service %s: socketpair", s->se_conf->sc_id);
		session_close(s, "socketpair", 1);
		return;
	}
	if (session_spawn(s, sp[1]) == -1) {
		(void)close(sp[0]);
		(void)close(sp[1]);
		return;
	}
	(void)close(sp[1]);
	(void)evutil_make_socket_nonblocking(sp[0]);
	session_relay(s, sp[0]);
}

/* Start the back end on the client side of <s> (plain or TLS). */
static void
session_backend(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;

	if (sc->sc_builtin != BUILTIN_NONE)
		session_builtin(s);
	else if (sc->sc_nredirect > 0)
		session_forward(s);
	else
		session_server(s);
}

/* A verified client certificate goes to the diagnostic log. */
static void
session_log_client_cert(const struct session *s)
{
	char	subject[DN_LEN], issuer[DN_LEN];

	if (s->se_conf->sc_tls_ca != NULL && tls_client_cert(s->se_bev,
	    subject, sizeof(subject), issuer, sizeof(issuer)))
		log_info("service %s: client %s certificate subject \"%s\" "
		    "issuer \"%s\"", s->se_conf->sc_id, s->se_addr, subject,
		    issuer);
}

/* The TLS handshake of <s> finished. */
static void
session_tls_ready(void *arg, struct bufferevent *bev, const char *err)
{
	struct session	*s = arg;

	s->se_tls = NULL;
	if (bev == NULL) {
		log_warnx("service %s: %s from %s", s->se_conf->sc_id, err,
		    s->se_addr);
		session_log_fail(s, "tls");
		session_close(s, err, 1);
		return;
	}
	s->se_bev = bev;
	tls_describe(bev, s->se_tlsinfo, sizeof(s->se_tlsinfo));
	session_log_client_cert(s);
	session_backend(s);
}

/* Start TLS, or the back end at once. */
static void
session_front(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;

	if (!sc->sc_tls) {
		session_backend(s);
		return;
	}
	s->se_tls = tls_accept_start(service_base(), s->se_fd, sc->sc_tlsctx,
	    sc->sc_tls_handshake_timeout, session_tls_ready, s);
	if (s->se_tls == NULL) {
		session_close(s, "out of memory", 1);
		return;
	}
	s->se_fd = -1;
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
		s->se_ident = ident_start(service_base(),
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
session_start_handoff(struct session *s)
{
	s->se_handoff = 1;
	if (s->se_conf->sc_socktype == SOCK_STREAM)
		(void)strlcpy(s->se_addr, "<no address>", sizeof(s->se_addr));
	if (session_spawn(s, s->se_fd) == 0) {
		(void)close(s->se_fd);
		s->se_fd = -1;
		session_fds_release(s, s->se_fds, 1);
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

void
session_start_flow(struct session *s, const struct sockaddr *from,
    socklen_t fromlen, const struct dgram_dst *dst, const void *data,
    size_t len)
{
	struct service		*sv = s->se_service;
	struct sockaddr_storage	 local;
	socklen_t		 locallen = sizeof(local);

	/* The address the client sent to (PROXY header), if known. */
	if (getsockname(service_fd(sv), (struct sockaddr *)&local,
	    &locallen) == -1)
		memset(&local, 0, sizeof(local));
	else if (dst->dd_family != 0)
		(void)dgram_dst_sockaddr(dst, sockaddr_port((struct sockaddr *)
		    &local), &local, &locallen);
	sockaddr_unmap(&local, &locallen);
	s->se_flow = relay_udp_open(sv->sv_flows, service_base(), s->se_conf,
	    service_fd(sv), from, fromlen, (struct sockaddr *)&local, dst,
	    session_flow_done, s);
	if (s->se_flow == NULL) {
		/* A flood would make a line per datagram: summed instead. */
		log_debug("service %s: flow for %s: %s", s->se_conf->sc_id,
		    s->se_addr, strerror(errno));
		fdbudget_note(FDB_REFUSED);
		session_close(s, "no flow", 1);
		return;
	}
	session_log_start(s);
	relay_udp_send(s->se_flow, data, len);
}

/* Bring the byte counts of a live relay into <s>. */
static void
session_counts(struct session *s)
{
	if (s->se_builtin != NULL)
		builtin_stream_counts(s->se_builtin, &s->se_in, &s->se_out);
	if (s->se_relay != NULL)
		relay_tcp_counts(s->se_relay, &s->se_in, &s->se_out);
	if (s->se_bevrelay != NULL)
		relay_bev_counts(s->se_bevrelay, &s->se_in, &s->se_out);
	if (s->se_flow != NULL)
		relay_udp_counts(s->se_flow, &s->se_in, &s->se_out);
}

/* Free every back end <s> still holds. */
static void
session_free_backends(struct session *s)
{
	session_counts(s);
	tls_accept_cancel(s->se_tls);
	ident_cancel(s->se_ident);
	relay_connect_cancel(s->se_connector);
	if (s->se_builtin != NULL)
		builtin_stream_free(s->se_builtin);
	relay_tcp_free(s->se_relay);
	if (s->se_bevrelay != NULL)
		relay_bev_free(s->se_bevrelay);
	else if (s->se_bev != NULL) {
		if (evbuffer_get_length(bufferevent_get_output(s->se_bev)) == 0)
			tls_close_notify(s->se_bev);
		bufferevent_free(s->se_bev);
	}
	if (s->se_flow != NULL)
		relay_udp_close(s->se_flow);
	if (s->se_fd != -1)
		(void)close(s->se_fd);
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
	session_free_backends(s);
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
	if (s->se_started)
		accesslog_exit(s->se_conf->sc_log, s->se_conf->sc_log_success,
		    &rec);
	if (s->se_handoff)
		service_handoff_done(sv, rec.ar_duration);
	quota_release(sv->sv_quota, &s->se_key);
	session_fds_release(s, s->se_fds, 1);
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
		session_counts(s);
		log_info("dump: session %s from %s port %d, %lld s, pid %ld, "
		    "in %llu out %llu%s%s", s->se_conf->sc_id, s->se_addr,
		    sockaddr_port((struct sockaddr *)&s->se_peer),
		    (long long)(now - s->se_start), (long)s->se_pid,
		    (unsigned long long)s->se_in,
		    (unsigned long long)s->se_out,
		    s->se_tlsinfo[0] != '\0' ? ", " : "", s->se_tlsinfo);
	}
}

int
session_count(void)
{
	return nsessions;
}
