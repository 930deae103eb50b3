/*
 * The back ends of a session: a built-in, a spawned server, a TCP relay
 * (splice, or bufferevents behind TLS) or a UDP flow, with TLS in front
 * when configured.  Each tells its end through a callback that closes the
 * session (session.c), and session_backend_free() frees whatever is left.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "banner.h"
#include "builtin.h"
#include "config.h"
#include "dgram.h"
#include "fdbudget.h"
#include "ident.h"
#include "log.h"
#include "metrics.h"
#include "relay_bev.h"
#include "relay_connect.h"
#include "relay_tcp.h"
#include "relay_udp.h"
#include "session.h"
#include "session_int.h"
#include "sockaddr.h"
#include "spawn.h"
#include "worker.h"
#include "tls.h"
#include "tls_relay.h"

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
		s->se_bev = bufferevent_socket_new(s->se_base, s->se_fd,
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
	s->se_tlsrelay = NULL;
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

	if (s->se_ssl != NULL) {
		s->se_tlsrelay = tls_relay_start(s->se_base, s->se_ssl,
		    s->se_fd, fd, s->se_conf->sc_idle_timeout,
		    session_relay_done, s);
		s->se_ssl = NULL;
		s->se_fd = -1;
		if (s->se_tlsrelay == NULL)
			session_close(s, "out of memory", 1);
		return;
	}
	if (s->se_bev == NULL) {
		s->se_relay = relay_tcp_start(s->se_base, s->se_fd, fd,
		    s->se_conf, session_relay_done, s);
		if (s->se_relay == NULL) {
			(void)close(fd);
			session_close(s, "out of memory", 1);
			return;
		}
		s->se_fd = -1;
		return;
	}
	if ((server = bufferevent_socket_new(s->se_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		(void)close(fd);
		session_close(s, "out of memory", 1);
		return;
	}
	s->se_bevrelay = relay_bev_start(s->se_base, s->se_bev, server,
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
	if (s->se_ssl == NULL && session_banner_success(s) == -1) {
		session_close(s, "out of memory", 1);
		return;
	}
	session_log_start(s);
	s->se_connector = relay_connect_start(s->se_base, s->se_conf,
	    (struct sockaddr *)&s->se_peer, (struct sockaddr *)&local,
	    s->se_metrics, session_connected, s);
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
	char	subject[SESSION_DN_LEN], issuer[SESSION_DN_LEN];

	env[0] = NULL;
	if (s->se_bev == NULL || bufferevent_openssl_get_ssl(s->se_bev) ==
	    NULL)
		return;
	if (tls_client_cert(s->se_bev, subject, sizeof(subject), issuer,
	    sizeof(issuer)))
		spawn_env_tls(subject, issuer, env, buf, len);
	else
		spawn_env_tls(NULL, NULL, env, buf, len);
}

/* What the master says of the server a worker asked it to spawn for <s>. */
static void
session_remote_cb(void *arg, enum worker_spawn_event ev, pid_t pid,
    int status, const char *why)
{
	struct session	*s = arg;

	switch (ev) {
	case WORKER_SPAWNED:
		s->se_pid = pid;
		session_log_start(s);
		break;
	case WORKER_SPAWN_FAILED:
		s->se_running = 0;
		session_log_fail(s, why);
		metrics_spawn_failure(s->se_metrics);
		session_close(s, "spawn failed", 1);
		break;
	case WORKER_EXITED:
		session_child_exited(s, pid, status);
		break;
	}
}

/*
 * A worker spawns nothing itself: the master does, on the descriptor the
 * request carries (privsep_msg.h).  START waits for the master's answer,
 * which has the pid.
 */
static int
session_spawn_remote(struct session *s, int fd)
{
	struct worker_spawn	ws;
	char			subject[SESSION_DN_LEN], issuer[SESSION_DN_LEN];
	socklen_t		len = sizeof(ws.ws_local);
	int			cfd;

	memset(&ws, 0, sizeof(ws));
	ws.ws_cf = s->se_cf;
	ws.ws_conf = s->se_conf;
	ws.ws_fd = fd;
	ws.ws_peer = s->se_peer;
	cfd = s->se_bev != NULL ? bufferevent_getfd(s->se_bev) : s->se_fd;
	if (getsockname(cfd, (struct sockaddr *)&ws.ws_local, &len) == -1)
		ws.ws_local.ss_family = s->se_peer.ss_family;
	else
		sockaddr_unmap(&ws.ws_local, &len);
	ws.ws_country = s->se_country;
	if (s->se_bev != NULL && bufferevent_openssl_get_ssl(s->se_bev) !=
	    NULL) {
		ws.ws_tls = 1;
		if (tls_client_cert(s->se_bev, subject, sizeof(subject),
		    issuer, sizeof(issuer))) {
			ws.ws_subject = subject;
			ws.ws_issuer = issuer;
		}
	}
	ws.ws_cb = session_remote_cb;
	ws.ws_arg = s;
	s->se_running = 1;	/* the session ends when the server does */
	if (worker_spawn(&ws) == -1) {
		s->se_running = 0;
		session_log_fail(s, "fork");
		metrics_spawn_failure(s->se_metrics);
		session_close(s, "cannot ask the master to spawn", 1);
		return -1;
	}
	return 0;
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
	char				*env[4], buf[2 * SESSION_DN_LEN + 96];

	if (worker_active())
		return session_spawn_remote(s, fd);
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
		metrics_spawn_failure(s->se_metrics);
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
session_log_client_cert(const struct session *s, struct ssl_st *ssl)
{
	char	subject[SESSION_DN_LEN], issuer[SESSION_DN_LEN];

	if (s->se_conf->sc_tls_ca != NULL && tls_ssl_client_cert(ssl,
	    subject, sizeof(subject), issuer, sizeof(issuer)))
		log_info("service %s: client %s certificate subject \"%s\" "
		    "issuer \"%s\"", s->se_conf->sc_id, s->se_addr, subject,
		    issuer);
}

/*
 * A forward without banners relays on the SSL itself (tls_relay.c); the
 * other back ends get an OpenSSL bufferevent.
 */
static int
session_tls_direct(const struct service_conf *sc)
{
	return sc->sc_builtin == BUILTIN_NONE && sc->sc_nredirect > 0 &&
	    sc->sc_banner.b_len == 0 && sc->sc_banner_success.b_len == 0;
}

/* The TLS handshake of <s> finished. */
static void
session_tls_ready(void *arg, struct ssl_st *ssl, int fd, const char *err)
{
	struct session			*s = arg;
	const struct service_conf	*sc = s->se_conf;

	s->se_tls = NULL;
	if (ssl == NULL) {
		log_warnx("service %s: %s from %s", s->se_conf->sc_id, err,
		    s->se_addr);
		session_log_fail(s, "tls");
		s->se_refused = 1;
		session_close(s, err, 1);
		return;
	}
	metrics_tls_time(s->se_metrics, s->se_tls_since);
	tls_describe(ssl, s->se_tlsinfo, sizeof(s->se_tlsinfo));
	session_log_client_cert(s, ssl);
	if (session_tls_direct(sc)) {
		s->se_ssl = ssl;
		s->se_fd = fd;
	} else if ((s->se_bev = tls_bev_new(s->se_base, ssl, fd)) == NULL) {
		tls_free(ssl, fd, 0);
		session_close(s, "out of memory", 1);
		return;
	}
	session_backend(s);
}

void
session_front(struct session *s)
{
	const struct service_conf	*sc = s->se_conf;

	if (!sc->sc_tls) {
		session_backend(s);
		return;
	}
	s->se_tls_since = metrics_clock();
	s->se_tls = tls_accept_start(s->se_base, s->se_fd, sc->sc_tlsctx,
	    sc->sc_tls_handshake_timeout, session_tls_direct(sc),
	    session_tls_ready, s);
	if (s->se_tls == NULL) {
		session_close(s, "out of memory", 1);
		return;
	}
	s->se_fd = -1;
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
session_start_flow(struct session *s, struct udp_flows *flows, int lfd,
    const struct sockaddr *from, socklen_t fromlen,
    const struct dgram_dst *dst, const void *data, size_t len)
{
	struct sockaddr_storage	 local;
	socklen_t		 locallen = sizeof(local);

	/* The address the client sent to (PROXY header), if known. */
	if (getsockname(lfd, (struct sockaddr *)&local, &locallen) == -1)
		memset(&local, 0, sizeof(local));
	else if (dst->dd_family != 0)
		(void)dgram_dst_sockaddr(dst, sockaddr_port((struct sockaddr *)
		    &local), &local, &locallen);
	sockaddr_unmap(&local, &locallen);
	s->se_flow = relay_udp_open(flows, s->se_base, s->se_conf, lfd, from,
	    fromlen, (struct sockaddr *)&local, dst, session_flow_done, s);
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

void
session_backend_counts(struct session *s)
{
	if (s->se_builtin != NULL)
		builtin_stream_counts(s->se_builtin, &s->se_in, &s->se_out);
	if (s->se_relay != NULL)
		relay_tcp_counts(s->se_relay, &s->se_in, &s->se_out);
	if (s->se_bevrelay != NULL)
		relay_bev_counts(s->se_bevrelay, &s->se_in, &s->se_out);
	if (s->se_tlsrelay != NULL)
		tls_relay_counts(s->se_tlsrelay, &s->se_in, &s->se_out);
	if (s->se_flow != NULL)
		relay_udp_counts(s->se_flow, &s->se_in, &s->se_out);
}

void
session_backend_free(struct session *s)
{
	session_backend_counts(s);
	tls_accept_cancel(s->se_tls);
	ident_cancel(s->se_ident);
	relay_connect_cancel(s->se_connector);
	if (s->se_builtin != NULL)
		builtin_stream_free(s->se_builtin);
	relay_tcp_free(s->se_relay);
	tls_relay_free(s->se_tlsrelay, 1);
	if (s->se_ssl != NULL)		/* the socket is closed below */
		tls_free(s->se_ssl, -1, 1);
	if (s->se_bevrelay != NULL)
		relay_bev_close(s->se_bevrelay);
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
