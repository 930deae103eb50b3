/*
 * The worker's side of privilege separation (doc/DESIGN.md, section 8).
 * The master forks it with everything loaded (configuration, listening
 * sockets, TLS contexts, GeoIP databases); it gives up what it must not
 * keep (log files, the master's channels), confines itself and serves.
 * Spawning and logging go to the master as messages.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "build-config.h"

#include "accesslog.h"
#include "admit.h"
#include "config.h"
#include "geoip.h"
#include "libwrap_tables.h"
#include "log.h"
#include "privsep_chan.h"
#include "proxyproto_accept.h"
#include "rbtree.h"
#include "revname.h"
#include "sandbox.h"
#include "service.h"
#include "session.h"
#include "shared.h"
#include "worker.h"

#define WORKER_DRAIN_MSECS	100	/* how often a draining worker looks */

/* A spawn the master was asked for, until its server is reaped. */
struct pending {
	RB_ENTRY(pending)	 pd_node;
	uint64_t		 pd_id;
	worker_spawn_cb		 pd_cb;
	void			*pd_arg;
};

RB_HEAD(pending_tree, pending);

static int
pending_cmp(struct pending *a, struct pending *b)
{
	return a->pd_id < b->pd_id ? -1 : a->pd_id > b->pd_id;
}

PG_RB_GENERATE_STATIC(pending_tree, pending, pd_node, pending_cmp)

static struct pending_tree	 worker_pending =
				    RB_INITIALIZER(&worker_pending);
static struct chan		*worker_chan;
static struct event_base	*worker_base;
static struct event		*worker_sigev[4];
static struct event		*worker_drain_ev;
static uint32_t			 worker_gen;
static int			 worker_index;	/* in its generation */
static uint64_t			 worker_next_id = 1;
static int			 worker_on;
static int			 worker_logging;	/* no loop through logs */
static uint64_t			 worker_ctl_req;	/* SESSIONS being answered */

/*
 * The end of a worker: without the master's atexit handlers (OpenSSL's
 * and libevent's clean-ups would run under the filter for nothing), but
 * with gcov's in a coverage build.
 */
static void __attribute__((noreturn))
worker_exit(void)
{
#ifdef PORTGATE_COVERAGE
	exit(0);
#else
	_exit(0);
#endif
}

int
worker_active(void)
{
	return worker_on;
}

/* Make <s> one printable line of <len> bytes at most, for the master. */
static void
worker_text(char *dst, size_t len, const char *s)
{
	size_t	i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	dst[i] = '\0';
	if (i == 0 && len > 1) {
		dst[0] = '-';
		dst[1] = '\0';
	}
}

static void
worker_send_log(enum privsep_logkind kind, uint32_t service, int level,
    const char *line)
{
	struct privsep_msg	m;

	if (worker_chan == NULL || worker_logging)
		return;
	worker_logging = 1;
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_LOG;
	m.pm_fd = -1;
	m.pm_u.log.lg_kind = kind;
	m.pm_u.log.lg_service = service;
	m.pm_u.log.lg_gen = kind == PRIVSEP_LOG_ACCESS ? worker_gen : 0;
	m.pm_u.log.lg_level = level;
	worker_text(m.pm_u.log.lg_text, sizeof(m.pm_u.log.lg_text), line);
	(void)chan_send(worker_chan, &m);
	worker_logging = 0;
}

/* log.c's messages: a worker cannot raise alerts, only errors. */
static void
worker_log_forward(int pri, const char *msg)
{
	if (pri < LOG_ERR)
		pri = LOG_ERR;
	worker_send_log(PRIVSEP_LOG_DIAG, PRIVSEP_NOSERVICE, pri, msg);
}

static void
worker_access_forward(unsigned id, const char *line)
{
	if (id == PRIVSEP_NOSERVICE)
		return;
	worker_send_log(PRIVSEP_LOG_ACCESS, id, 0, line);
}

/* The index of <sc> in <cf>, or PRIVSEP_NOSERVICE. */
static uint32_t
worker_service_index(const struct config *cf,
    const struct service_conf *sc)
{
	int	i;

	for (i = 0; i < cf->cf_nservices; i++)
		if (cf->cf_services[i] == sc)
			return (uint32_t)i;
	return PRIVSEP_NOSERVICE;
}

static void
worker_copy(char *dst, size_t len, const char *src)
{
	if (src != NULL)
		worker_text(dst, len, src);
	else
		dst[0] = '\0';
	if (src != NULL && src[0] == '\0')
		dst[0] = '\0';
}

int
worker_spawn(const struct worker_spawn *ws)
{
	struct privsep_msg	 m;
	struct privsep_spawn_req *sr = &m.pm_u.spawn_req;
	struct pending		*pd;

	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_SPAWN_REQ;
	m.pm_fd = ws->ws_fd;
	sr->sr_session = worker_next_id;
	sr->sr_gen = worker_gen;
	if ((sr->sr_service = worker_service_index(ws->ws_cf,
	    ws->ws_conf)) == PRIVSEP_NOSERVICE) {
		log_warnx("service %s: not in the configuration of this worker",
		    ws->ws_conf->sc_id);
		return -1;
	}
	sr->sr_peer = ws->ws_peer;
	sr->sr_local = ws->ws_local;
	if (sr->sr_local.ss_family != sr->sr_peer.ss_family) {
		memset(&sr->sr_local, 0, sizeof(sr->sr_local));
		sr->sr_local.ss_family = sr->sr_peer.ss_family;
	}
	worker_copy(sr->sr_country, sizeof(sr->sr_country), ws->ws_country);
	if (ws->ws_tls) {
		sr->sr_flags |= PRIVSEP_F_TLS;
		if (ws->ws_subject != NULL) {
			sr->sr_flags |= PRIVSEP_F_VERIFIED;
			worker_copy(sr->sr_subject, sizeof(sr->sr_subject),
			    ws->ws_subject);
			worker_copy(sr->sr_issuer, sizeof(sr->sr_issuer),
			    ws->ws_issuer);
		}
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL)
		return -1;
	if (worker_chan == NULL || chan_send(worker_chan, &m) == -1) {
		free(pd);
		return -1;
	}
	pd->pd_id = worker_next_id++;
	pd->pd_cb = ws->ws_cb;
	pd->pd_arg = ws->ws_arg;
	RB_INSERT(pending_tree, &worker_pending, pd);
	return 0;
}

static struct pending *
worker_pending_find(uint64_t id)
{
	struct pending	find;

	find.pd_id = id;
	return RB_FIND(pending_tree, &worker_pending, &find);
}

/* What the FAIL record says when the master could not spawn. */
static const char *
worker_fail_reason(enum privsep_fail why)
{
	switch (why) {
	case PRIVSEP_FAIL_LIMIT:
		return "process_limit";
	default:
		return "fork";
	}
}

/* Every draining look: leave once the last session is gone. */
static void
worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (session_count() == 0)
		(void)event_base_loopexit(worker_base, NULL);
}

/* RELOAD: a newer generation serves; finish the sessions and go. */
static void
worker_drain(void)
{
	struct timeval		tv = { 0, WORKER_DRAIN_MSECS * 1000 };
	struct privsep_msg	m;

	if (worker_drain_ev != NULL)
		return;
	log_debug("worker %ld: a newer configuration serves; finishing %d "
	    "session%s", (long)getpid(), session_count(),
	    session_count() == 1 ? "" : "s");
	service_shutdown();
	proxyproto_accept_abort_all();
	/* The master says "reload done" once every old worker said this. */
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_DRAINING;
	m.pm_fd = -1;
	m.pm_u.reload.rl_gen = worker_gen;
	(void)chan_send(worker_chan, &m);
	worker_drain_ev = event_new(worker_base, -1, EV_PERSIST,
	    worker_drain_cb, NULL);
	if (worker_drain_ev == NULL || event_add(worker_drain_ev, &tv) == -1)
		(void)event_base_loopexit(worker_base, NULL);
}

/* One session for request <arg> of the control socket. */
static int
worker_ctl_session(const struct session_info *sn, void *arg)
{
	struct privsep_msg	 m;
	uint32_t		*more = arg;
	socklen_t		 len = sizeof(m.pm_u.session.ss_peer);

	/* Keep room in the queue for the records that matter more. */
	if (chan_queued(worker_chan) > CHAN_QUEUE_MAX / 2 ||
	    (sn->sn_peer->sa_family != AF_INET &&
	    sn->sn_peer->sa_family != AF_INET6)) {
		(*more)++;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_SESSION;
	m.pm_fd = -1;
	m.pm_u.session.ss_req = worker_ctl_req;
	m.pm_u.session.ss_in = sn->sn_in;
	m.pm_u.session.ss_out = sn->sn_out;
	m.pm_u.session.ss_age = sn->sn_age < 0 ? 0 : (uint64_t)sn->sn_age;
	m.pm_u.session.ss_pid = sn->sn_pid > 0 ? (uint32_t)sn->sn_pid : 0;
	if (sn->sn_peer->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else
		len = sizeof(struct sockaddr_in6);
	memcpy(&m.pm_u.session.ss_peer, sn->sn_peer, len);
	worker_text(m.pm_u.session.ss_service,
	    sizeof(m.pm_u.session.ss_service), sn->sn_service);
	worker_text(m.pm_u.session.ss_backend,
	    sizeof(m.pm_u.session.ss_backend), sn->sn_backend);
	if (sn->sn_tls[0] != '\0')	/* "": no TLS */
		worker_text(m.pm_u.session.ss_tls,
		    sizeof(m.pm_u.session.ss_tls), sn->sn_tls);
	if (chan_send(worker_chan, &m) == -1)
		(*more)++;
	return 0;
}

/* What the master asks for portgatectl. */
static void
worker_ctl(const struct privsep_ctl *ct)
{
	struct privsep_msg	 m;
	struct service		*sv;
	uint32_t		 more = 0;

	switch (ct->ct_op) {
	case PRIVSEP_CTL_SESSIONS:
		worker_ctl_req = ct->ct_req;
		(void)session_walk(worker_ctl_session, &more);
		memset(&m, 0, sizeof(m));
		m.pm_type = PRIVSEP_CTL_DONE;
		m.pm_fd = -1;
		m.pm_u.ctl_done.cd_req = ct->ct_req;
		m.pm_u.ctl_done.cd_more = more;
		(void)chan_send(worker_chan, &m);
		break;
	case PRIVSEP_CTL_DISABLE:
	case PRIVSEP_CTL_ENABLE:
		if ((sv = service_find_id(ct->ct_id)) != NULL)
			service_set_disabled(sv,
			    ct->ct_op == PRIVSEP_CTL_DISABLE);
		break;
	default:
		break;
	}
}

static void
worker_msg_cb(struct chan *ch, struct privsep_msg *m, void *arg)
{
	struct pending	*pd = NULL;

	(void)ch;
	(void)arg;
	switch (m->pm_type) {
	case PRIVSEP_SPAWN_OK:
		if ((pd = worker_pending_find(m->pm_u.spawn_ok.so_session)) !=
		    NULL)
			pd->pd_cb(pd->pd_arg, WORKER_SPAWNED,
			    m->pm_u.spawn_ok.so_pid, 0, NULL);
		return;
	case PRIVSEP_SPAWN_FAIL:
		if ((pd = worker_pending_find(m->pm_u.spawn_fail.sf_session)) ==
		    NULL)
			return;
		RB_REMOVE(pending_tree, &worker_pending, pd);
		pd->pd_cb(pd->pd_arg, WORKER_SPAWN_FAILED, 0, 0,
		    worker_fail_reason(m->pm_u.spawn_fail.sf_reason));
		break;
	case PRIVSEP_CHILD_EXIT:
		if ((pd = worker_pending_find(m->pm_u.child_exit.ce_session)) ==
		    NULL)
			return;
		RB_REMOVE(pending_tree, &worker_pending, pd);
		pd->pd_cb(pd->pd_arg, WORKER_EXITED, m->pm_u.child_exit.ce_pid,
		    m->pm_u.child_exit.ce_status, NULL);
		break;
	case PRIVSEP_RELOAD:
		worker_drain();
		return;
	case PRIVSEP_CTL:
		worker_ctl(&m->pm_u.ctl);
		return;
	default:
		return;
	}
	free(pd);
}

/* The master is gone: nobody spawns, logs or counts for us any more. */
static void
worker_eof_cb(struct chan *ch, void *arg)
{
	(void)ch;
	(void)arg;
	worker_exit();
}

/* SIGTERM, SIGINT from the master: stop now. */
static void
worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (sig) {
	case SIGUSR1:
		log_info("dump: worker %d (pid %ld), generation %u, %d "
		    "sessions", worker_index + 1, (long)getpid(),
		    (unsigned)worker_gen, session_count());
		session_dump();
		break;
	default:
		/*
		 * The master ends the spawned servers: their sessions stay
		 * until it says they were reaped, to write their EXIT.
		 */
		admit_shutdown();
		session_close_all();
		worker_drain();
		break;
	}
}

/*
 * Standard input, output and error are the master's (a terminal, the log
 * of -d): a worker's lines go through the master, which is where a forged
 * one could not be told apart.
 */
static void
worker_stdio(void)
{
	int	fd, i;

	if ((fd = open(_PATH_DEVNULL, O_RDWR | O_CLOEXEC)) == -1)
		fatal("worker: %s", _PATH_DEVNULL);
	for (i = STDIN_FILENO; i <= STDERR_FILENO; i++) {
#ifdef PORTGATE_SANITIZERS
		if (i == STDERR_FILENO)
			break;		/* the sanitizers report there */
#endif
		if (dup2(fd, i) == -1)
			fatal("worker: dup2");
	}
	(void)close(fd);
}

/* worker_cpus: worker <index> runs on the CPU its turn gives it. */
static void
worker_pin(const struct config *cf, int index)
{
	cpu_set_t	set;
	int		cpu;

	if (cf->cf_nworker_cpus == 0)
		return;
	cpu = cf->cf_worker_cpus[index % cf->cf_nworker_cpus];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		log_warn("worker %d: worker_cpus %d", index + 1, cpu);
}

/* Confine this process (sandbox.c); a failure ends it. */
static void
worker_confine(const struct config *cf, const char *root)
{
	struct sandbox_conf	sb = { .sb_user = cf->cf_worker_user,
				    .sb_root = root };
	char			err[256];

#ifdef PORTGATE_COVERAGE
	/* gcov writes this process's counters at exit: see Makefile.am. */
	(void)sb;
	(void)err;
	log_debug("coverage build: the worker is not confined");
	return;
#endif

	/* What the chroot will hide: zone files, the resolver's settings. */
	tzset();
	revname_prepare(worker_base);
	if (geteuid() == 0) {
		libwrap_tables_use();
		sandbox_worker(&sb);
		return;
	}
	/* Not root: there is no identity to give up, no chroot to enter. */
	if (sandbox_seccomp(err, sizeof(err)) == -1)
		fatalx("worker sandbox: %s", err);
}

void
worker_main(struct event_base *base, struct config *cf,
    const struct worker_args *wa)
{
	static const int	sigs[] = { SIGTERM, SIGINT, SIGUSR1 };
	size_t			i;

	/* Without its master a worker can neither log nor spawn: it goes. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
	    getppid() != wa->wa_master)
		_exit(1);
	worker_base = base;
	worker_gen = wa->wa_gen;
	worker_index = wa->wa_index;
	worker_on = 1;
	setproctitle("worker");
	worker_pin(cf, wa->wa_index);
	shared_row_set(wa->wa_row);
	geoip_freeze();
	if ((worker_chan = chan_new(base, wa->wa_chanfd, PRIVSEP_TO_WORKER,
	    worker_msg_cb, worker_eof_cb, NULL)) == NULL)
		fatal("worker: channel");
	log_set_forward(worker_log_forward);
	accesslog_set_forward(worker_access_forward);
	worker_stdio();
	accesslog_set_worker(wa->wa_index + 1);
	if (signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    signal(SIGUSR2, SIG_IGN) == SIG_ERR ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		fatal("worker: signals");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		worker_sigev[i] = evsignal_new(base, sigs[i], worker_signal_cb,
		    NULL);
		if (worker_sigev[i] == NULL ||
		    evsignal_add(worker_sigev[i], NULL) == -1)
			fatalx("worker: signal events");
	}
	service_set_role(SERVICE_WORKER, wa->wa_index);
	worker_confine(cf, wa->wa_root);
	log_debug("worker %ld of generation %u serving", (long)getpid(),
	    (unsigned)wa->wa_gen);
	if (event_base_dispatch(base) == -1)
		log_warnx("worker: event loop failed");
	chan_flush(worker_chan, 1000);
	worker_exit();
}
