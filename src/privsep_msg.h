/*
 * The messages between the master (root) and its workers, over a
 * SOCK_SEQPACKET socketpair: one message per packet, a fixed header (type,
 * total length) and a fixed-size body per type, at most one descriptor
 * (SCM_RIGHTS).  Encoding and decoding are pure and check everything; the
 * master treats every message from a worker as hostile (THREATS.md rule 8):
 * a worker can only ask to spawn service #N of a configuration generation
 * for a descriptor, the master takes all else from its own configuration.
 */
#ifndef PORTGATE_PRIVSEP_MSG_H
#define PORTGATE_PRIVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>
#include <sys/socket.h>

#define PRIVSEP_HDRLEN		8	/* type, total length: 32 bits each */
#define PRIVSEP_MSGMAX		8192	/* more than any message */
#define PRIVSEP_COUNTRYLEN	4	/* "US", "--" or "", NUL included */
#define PRIVSEP_IDENTLEN	256	/* an escaped ident reply */
#define PRIVSEP_DNLEN		2048	/* an RFC 2253 name (session.c) */
#define PRIVSEP_TEXTLEN		1024	/* a record: xinetd's 1023 bytes */
#define PRIVSEP_NOSERVICE	UINT32_MAX
#define PRIVSEP_IDLEN		256	/* a service id (portgatectl) */
#define PRIVSEP_BACKENDLEN	256	/* what a session talks to */
#define PRIVSEP_TLSLEN		96	/* "TLSv1.3 TLS_AES_256_GCM_SHA384" */

enum privsep_type {
	PRIVSEP_SPAWN_REQ = 1,	/* worker -> master, with the client */
	PRIVSEP_SPAWN_OK,	/* master -> worker */
	PRIVSEP_SPAWN_FAIL,	/* master -> worker */
	PRIVSEP_CHILD_EXIT,	/* master -> worker */
	PRIVSEP_LOG,		/* worker -> master */
	PRIVSEP_RELOAD,		/* master -> worker */
	PRIVSEP_DRAINING,	/* worker -> master: RELOAD done */
	PRIVSEP_CTL,		/* master -> worker: portgatectl asks */
	PRIVSEP_SESSION,	/* worker -> master: one session (CTL) */
	PRIVSEP_CTL_DONE,	/* worker -> master: CTL answered */
	PRIVSEP_NTYPES
};

#define PRIVSEP_BIT(t)		(1u << (t))
/* What each side accepts. */
#define PRIVSEP_TO_MASTER	(PRIVSEP_BIT(PRIVSEP_SPAWN_REQ) |	\
	    PRIVSEP_BIT(PRIVSEP_LOG) | PRIVSEP_BIT(PRIVSEP_DRAINING) |	\
	    PRIVSEP_BIT(PRIVSEP_SESSION) | PRIVSEP_BIT(PRIVSEP_CTL_DONE))
#define PRIVSEP_TO_WORKER	(PRIVSEP_BIT(PRIVSEP_SPAWN_OK) |	\
	    PRIVSEP_BIT(PRIVSEP_SPAWN_FAIL) |				\
	    PRIVSEP_BIT(PRIVSEP_CHILD_EXIT) | PRIVSEP_BIT(PRIVSEP_RELOAD) |	\
	    PRIVSEP_BIT(PRIVSEP_CTL))

/* sr_flags */
#define PRIVSEP_F_TLS		0x1	/* the descriptor is TLS's pair end */
#define PRIVSEP_F_VERIFIED	0x2	/* a verified client certificate */

/*
 * "Spawn the server of service <sr_service> of generation <sr_gen> for the
 * descriptor."  Strings are printable ASCII (escaped by the worker), NUL
 * terminated; the addresses are AF_INET or AF_INET6, both of one family.
 */
struct privsep_spawn_req {
	uint64_t		sr_session;
	uint32_t		sr_service;	/* index in that config */
	uint32_t		sr_gen;
	unsigned		sr_flags;
	struct sockaddr_storage	sr_peer;
	struct sockaddr_storage	sr_local;
	char			sr_country[PRIVSEP_COUNTRYLEN];
	char			sr_ident[PRIVSEP_IDENTLEN];
	char			sr_subject[PRIVSEP_DNLEN];	/* VERIFIED */
	char			sr_issuer[PRIVSEP_DNLEN];	/* VERIFIED */
};

struct privsep_spawn_ok {
	uint64_t		so_session;
	pid_t			so_pid;		/* > 0 */
};

enum privsep_fail {
	PRIVSEP_FAIL_SERVICE = 1,	/* no such spawning service */
	PRIVSEP_FAIL_LIMIT,		/* the -limit on servers is reached */
	PRIVSEP_FAIL_FORK,		/* fork failed */
	PRIVSEP_FAIL_DESCRIPTOR,	/* not a connected stream socket */
	PRIVSEP_FAIL_MAX
};

struct privsep_spawn_fail {
	uint64_t		sf_session;
	enum privsep_fail	sf_reason;
};

struct privsep_child_exit {
	uint64_t		ce_session;
	pid_t			ce_pid;		/* > 0 */
	int			ce_status;	/* waitpid(): ended */
	uint64_t		ce_msecs;	/* how long it ran */
};

enum privsep_logkind {
	PRIVSEP_LOG_ACCESS = 1,	/* a record for the service's access log */
	PRIVSEP_LOG_DIAG	/* a diagnostic line of the worker */
};

/*
 * A line to log: ACCESS for the access log numbered <lg_service>
 * (accesslog_write_id(): the master writes it to that log if it is still
 * open; <lg_gen> is the worker's generation, level 0), or DIAG
 * (PRIVSEP_NOSERVICE, generation 0) at a level from LOG_ERR to LOG_DEBUG.
 */
struct privsep_log {
	uint32_t		lg_service;
	uint32_t		lg_gen;
	enum privsep_logkind	lg_kind;
	int			lg_level;
	char			lg_text[PRIVSEP_TEXTLEN];	/* printable */
};

/*
 * RELOAD: "configuration generation <rl_gen> is live": stop accepting,
 * drain.  DRAINING, the answer: "I accept no more" (the reload is done).
 */
struct privsep_reload {
	uint32_t		rl_gen;
};

enum privsep_ctl_op {
	PRIVSEP_CTL_SESSIONS = 1,	/* send a SESSION for each, then DONE */
	PRIVSEP_CTL_DISABLE,		/* stop accepting on service ct_id */
	PRIVSEP_CTL_ENABLE,		/* accept again on service ct_id */
	PRIVSEP_CTL_MAX
};

/* CTL: request <ct_req> of the control socket (ctl.c). */
struct privsep_ctl {
	uint64_t		ct_req;
	enum privsep_ctl_op	ct_op;
	char			ct_id[PRIVSEP_IDLEN];	/* "" for SESSIONS */
};

/*
 * SESSION: one session of the worker, for request <ss_req>.  Strings are
 * printable ASCII; the worker is not believed, only shown.
 */
struct privsep_session {
	uint64_t		ss_req;
	uint64_t		ss_in;		/* bytes from the client */
	uint64_t		ss_out;		/* bytes to the client */
	uint64_t		ss_age;		/* seconds */
	uint32_t		ss_pid;		/* spawned server, or 0 */
	struct sockaddr_storage	ss_peer;
	char			ss_service[PRIVSEP_IDLEN];
	char			ss_backend[PRIVSEP_BACKENDLEN];
	char			ss_tls[PRIVSEP_TLSLEN];
};

/* CTL_DONE: request <cd_req> answered; <cd_more> sessions not sent. */
struct privsep_ctl_done {
	uint64_t		cd_req;
	uint32_t		cd_more;
};

struct privsep_msg {
	enum privsep_type	pm_type;
	int			pm_fd;		/* SPAWN_REQ's, else -1 */
	union {
		struct privsep_spawn_req	spawn_req;
		struct privsep_spawn_ok		spawn_ok;
		struct privsep_spawn_fail	spawn_fail;
		struct privsep_child_exit	child_exit;
		struct privsep_log		log;
		struct privsep_reload		reload;
		struct privsep_ctl		ctl;
		struct privsep_session		session;
		struct privsep_ctl_done		ctl_done;
	}			pm_u;
};

/* Descriptors a message of <type> carries: 0 or 1; -1 if no such type. */
int	privsep_msg_nfds(enum privsep_type type);
/*
 * Encode <m> into <buf> of <len> bytes.  Returns the length of the
 * message, or -1 with the reason in *<why> if <m> is not valid (what
 * the decoder would refuse) or does not fit.
 */
ssize_t	privsep_msg_encode(const struct privsep_msg *m, uint8_t *buf,
	    size_t len, const char **why);
/*
 * Decode the <len> bytes of <buf>, received with <nfds> descriptors, into
 * <m> (pm_fd -1: the caller owns the descriptor).  Only the types in the
 * mask <allowed> (PRIVSEP_BIT()s) are accepted.  Returns 0, or -1 with the
 * reason in *<why>.  Accepts exactly what privsep_msg_encode() makes.
 */
int	privsep_msg_decode(const uint8_t *buf, size_t len, int nfds,
	    unsigned allowed, struct privsep_msg *m, const char **why);
/*
 * Send <m> on <sock>, with its descriptor.  Returns 0; -1 with errno set
 * (EAGAIN on a full non-blocking socket); -2 if <m> is invalid (*<why>).
 */
int	privsep_msg_send(int sock, const struct privsep_msg *m,
	    const char **why);
/*
 * Receive one message of a type in <allowed> from <sock> into <m>.
 * Returns 1, the descriptor (if any) in pm_fd for the caller to close;
 * 0 at end of file (or an empty packet); -1 with errno set (EAGAIN on an
 * empty non-blocking socket); -2 for an invalid message (*<why>), every
 * descriptor that came with it closed.
 */
int	privsep_msg_recv(int sock, unsigned allowed, struct privsep_msg *m,
	    const char **why);

#endif
