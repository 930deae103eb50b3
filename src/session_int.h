/*
 * What the two halves of a session share: the struct (session.c makes,
 * asks ident, counts and closes it; session_backend.c starts and frees its
 * back ends).  Not for other modules.
 */
#ifndef PORTGATE_SESSION_INT_H
#define PORTGATE_SESSION_INT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <time.h>

#include "quota.h"
#include "session.h"
#include "sockaddr.h"

#define SESSION_TLS_INFO_LEN	96
#define SESSION_DN_LEN		2048	/* RFC 2253 name; longer: not passed */

struct access_rec;

struct session {
	TAILQ_ENTRY(session)	 se_entry;
	struct event_base	*se_base;
	struct config		*se_cf;		/* holds se_conf */
	const struct service_conf *se_conf;
	struct quota		*se_quota;	/* of the service: held by it */
	session_done_cb		 se_done;	/* the service lets go */
	void			*se_done_arg;
	struct metrics_service	*se_metrics;	/* NULL: not counted */
	int			 se_fd;		/* until something owns it */
	struct sockaddr_storage	 se_peer;
	char			 se_addr[SOCKADDR_STRLEN];
	char			 se_country[3];
	struct srckey		 se_key;	/* the limit slot it holds */
	int			 se_fds;	/* descriptors charged to it */
	int			 se_identfd;	/* one is the ident query's */
	time_t			 se_start;
	int			 se_handoff;	/* its server has the socket */
	int			 se_started;	/* START logged: EXIT will be */
	int			 se_refused;	/* TLS handshake failed */
	/* Back ends: at most one of each is live. */
	struct tls_accept	*se_tls;	/* handshake under way */
	uint64_t		 se_tls_since;	/* its start: metrics_clock() */
	struct bufferevent	*se_bev;	/* client side: TLS, built-in */
	char			 se_tlsinfo[SESSION_TLS_INFO_LEN];
	struct builtin_session	*se_builtin;
	struct relay_connector	*se_connector;
	struct relay		*se_relay;	/* splice relay */
	struct bev_relay	*se_bevrelay;	/* TLS relay, bufferevents */
	struct ssl_st		*se_ssl;	/* TLS client on se_fd, unwrapped */
	struct tls_relay	*se_tlsrelay;	/* TLS relay to a target */
	struct udp_flow		*se_flow;
	struct ident		*se_ident;	/* USERID query under way */
	pid_t			 se_pid;	/* spawned server */
	int			 se_running;	/* not reaped yet */
	int			 se_status;	/* its waitpid() status */
	uint64_t		 se_in;
	uint64_t		 se_out;
};

/* session.c */
/*
 * End <s>: log, release, free.  <reason> says why, for debugging; <error>
 * is non-zero when the session ended abnormally.
 */
void	session_close(struct session *s, const char *reason, int error);
/*
 * <s> closed <n> of the descriptors it was charged for, besides the ident
 * query's; with <ident>, that one too.
 */
void	session_fds_release(struct session *s, int n, int ident);
/* The access record of <s>, as far as it is known. */
void	session_rec(const struct session *s, struct access_rec *rec);
/* Log START for <s>; FAIL with <reason>. */
void	session_log_start(struct session *s);
void	session_log_fail(const struct session *s, const char *reason);

/* session_backend.c */
/* Start TLS, or the back end at once. */
void	session_front(struct session *s);
/* Bring the byte counts of a live back end into <s>. */
void	session_backend_counts(struct session *s);
/* Free every back end <s> still holds, and its descriptor. */
void	session_backend_free(struct session *s);

#endif
