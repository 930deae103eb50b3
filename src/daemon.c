/*
 * The daemon's life.  Detaching keeps the parent until the child has bound
 * its sockets, so that "portgate" exits non-zero when it cannot start
 * (xinetd's parent exits 0 before reading its configuration), and the
 * parent prints the child's errors until then, so that the admin who typed
 * the command reads why, not only syslog.  Signals are libevent events,
 * handled in the loop like any other.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "build-config.h"

#include "accesslog.h"
#include "admit.h"
#include "conf_diag.h"
#include "coverage.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "geoip.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "proxyproto_accept.h"
#include "sdnotify.h"
#include "service.h"
#include "session.h"
#include "spawn.h"
#include "upgrade.h"

static int		 daemon_readyfd = -1;
static char		*daemon_pidpath;
static char		*daemon_cfpath;
static struct config	*daemon_cf;
static struct event_base *daemon_base;
static struct event	*daemon_sigev[6];
static struct event	*daemon_grace;	/* stop: wait for servers */
static int		 daemon_stopping;
static int		 daemon_workers_killed;	/* the grace's second step */
static int		 daemon_retiring;	/* a new master serves */
static int		 daemon_reload_failed;	/* services of the last reload */
/* portgatectl reload: who waits for the outcome. */
static void		(*daemon_ctl_cb)(void *, const struct reload_outcome *);
static void		*daemon_ctl_arg;
static struct conf_diag	 daemon_ctl_diag;	/* of its reload, applied */
static int		 daemon_ctl_hasdiag;

#define DAEMON_GRACE	3	/* seconds servers get to exit on stop */
#define DAEMON_GRACE_WORKERS 2	/* then the workers, to log their exits */
#define DAEMON_UPGRADE_FDS 1024	/* listening sockets an upgrade passes */
#define DAEMON_REPORT_MAX 4096	/* longest start-up line the parent buffers */

/* Write all of <buf> to standard error; there is nowhere to report a failure. */
static void
daemon_say(const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(STDERR_FILENO, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * The parent's side of the start-up pipe: copy the child's error lines to
 * standard error until the status line ("!N") or EOF (the child died:
 * fatal() or a signal), then exit with that status.
 */
static void __attribute__((noreturn))
daemon_wait_child(int fd)
{
	char	 buf[DAEMON_REPORT_MAX], *nl, *line;
	size_t	 used = 0;
	ssize_t	 n;
	int	 status = 1;

	for (;;) {
		n = read(fd, buf + used, sizeof(buf) - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		line = buf;
		while ((nl = memchr(line, '\n', used - (size_t)(line - buf)))
		    != NULL) {
			if (line[0] == '!') {
				status = atoi(line + 1);
				COVERAGE_DUMP();
				_exit(status);
			}
			daemon_say(line, (size_t)(nl - line) + 1);
			line = nl + 1;
		}
		used -= (size_t)(line - buf);
		memmove(buf, line, used);
		/* A line longer than the buffer: pass on what came. */
		if (used == sizeof(buf)) {
			daemon_say(buf, used);
			used = 0;
		}
	}
	COVERAGE_DUMP();
	_exit(status);
}

int
daemon_detach(void)
{
	int	p[2];
	pid_t	pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	switch ((pid = fork())) {
	case -1:
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	case 0:
		(void)close(p[0]);
		daemon_readyfd = p[1];
		/* Until daemon_ready(), errors are also the parent's to say. */
		log_tee(p[1]);
		if (setsid() == -1)
			return -1;
		return 0;
	}
	(void)close(p[1]);
	daemon_wait_child(p[0]);
}

void
daemon_ready(int status)
{
	char	buf[32];
	int	fd, len;

	if (daemon_readyfd == -1)
		return;
	log_tee(-1);
	if ((fd = open(_PATH_DEVNULL, O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
	len = snprintf(buf, sizeof(buf), "!%d\n", status);
	if (write(daemon_readyfd, buf, (size_t)len) != len)
		log_warn("cannot report start-up to the parent");
	(void)close(daemon_readyfd);
	daemon_readyfd = -1;
}

int
daemon_pidfile_write(const char *path)
{
	char	buf[32];
	int	fd, len;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, len) != len) {
		(void)close(fd);
		(void)unlink(path);
		return -1;
	}
	if (close(fd) == -1)
		return -1;
	free(daemon_pidpath);
	if ((daemon_pidpath = strdup(path)) == NULL)
		return -1;
	return 0;
}

void
daemon_pidfile_remove(void)
{
	if (daemon_pidpath != NULL && unlink(daemon_pidpath) == -1)
		log_warn("unlink %s", daemon_pidpath);
	free(daemon_pidpath);
	daemon_pidpath = NULL;
}

/* Tell portgatectl how its reload went (<cd>: the diagnostics). */
static void
daemon_ctl_tell(int ok, const struct conf_diag *cd)
{
	struct reload_outcome	 ro;
	struct reconcile_counts	 rc;
	void			(*cb)(void *, const struct reload_outcome *) =
				    daemon_ctl_cb;
	char			*msgs[64];
	int			 i;

	if (cb == NULL)
		return;
	daemon_ctl_cb = NULL;
	memset(&ro, 0, sizeof(ro));
	ro.ro_ok = ok;
	ro.ro_services = service_count();
	if (ok) {
		service_reconciled(&rc);
		ro.ro_added = rc.rc_added;
		ro.ro_kept = rc.rc_kept;
		ro.ro_removed = rc.rc_removed;
		ro.ro_failed = rc.rc_failed;
	}
	for (i = 0; cd != NULL && i < cd->cd_nmsgs &&
	    ro.ro_nmsgs < (int)(sizeof(msgs) / sizeof(msgs[0])); i++)
		msgs[ro.ro_nmsgs++] = cd->cd_msgs[i].dm_text;
	ro.ro_msgs = msgs;
	cb(daemon_ctl_arg, &ro);
	if (daemon_ctl_hasdiag) {
		conf_diag_clear(&daemon_ctl_diag);
		daemon_ctl_hasdiag = 0;
	}
}

/* The new workers serve, the old ones accept no more. */
static void
daemon_reloaded(void)
{
	if (daemon_reload_failed > 0)
		log_warnx("reload: %d service%s could not start",
		    daemon_reload_failed, daemon_reload_failed == 1 ? "" : "s");
	else
		log_info("reload done: %d service%s", service_count(),
		    service_count() == 1 ? "" : "s");
	sdnotify_reloaded(1);
	/* The warnings of the configuration go with the outcome. */
	daemon_ctl_tell(1, daemon_ctl_hasdiag ? &daemon_ctl_diag : NULL);
}

/* What a reload does not change: say so when it was edited. */
static void
daemon_reload_fixed(const struct config *old, const struct config *cf)
{
	const char	*a = old->cf_control_socket, *b = cf->cf_control_socket;

	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		log_warnx("control_socket takes effect at the next start; the "
		    "control socket stays where it is");
}

/* SIGHUP: read the configuration again; apply it only if it is valid. */
static void
daemon_reload(void)
{
	struct conf_diag	 cd;
	struct config		*cf;
	struct geoip		*g;
	char			 msg[GEOIP_MSGMAX];
	int			 failed;

	if (daemon_stopping) {
		log_warnx("not reloading: this master is stopping%s",
		    daemon_retiring ? " (a new one serves)" : "");
		return;
	}
	log_info("reloading %s", daemon_cfpath);
	sdnotify_reloading();
	accesslog_reopen_all();
	log_reopen();
	for (g = geoip_next(NULL); g != NULL; g = geoip_next(g)) {
		if (geoip_check(g, time(NULL), 1, msg, sizeof(msg)) ==
		    GEOIP_KEPT)
			log_warnx("%s", msg);
		else
			log_info("%s", msg);
	}
	conf_diag_init(&cd);
	cf = config_load(daemon_cfpath, 0, &cd);
	conf_diag_log(&cd);
	if (cf == NULL) {
		log_warnx("reload failed: %d error%s in %s; the running "
		    "configuration is kept", cd.cd_errors,
		    cd.cd_errors == 1 ? "" : "s", daemon_cfpath);
		daemon_ctl_tell(0, &cd);
		conf_diag_clear(&cd);
		metrics_reload(0, time(NULL));
		sdnotify_reloaded(0);
		return;
	}
	if ((failed = service_reconcile(cf)) == -1) {
		log_warnx("reload failed: the running configuration is kept");
		daemon_ctl_tell(0, &cd);
		conf_diag_clear(&cd);
		config_unref(cf);
		metrics_reload(0, time(NULL));
		sdnotify_reloaded(0);
		return;
	}
	daemon_reload_fixed(daemon_cf, cf);
	/* Kept for portgatectl until the reload is done. */
	if (daemon_ctl_cb != NULL && !daemon_ctl_hasdiag) {
		daemon_ctl_diag = cd;
		daemon_ctl_hasdiag = 1;
	} else
		conf_diag_clear(&cd);
	config_unref(daemon_cf);
	daemon_cf = cf;
	metrics_reload(1, time(NULL));
	daemon_reload_failed = failed;
	/* Done when the old workers accept no more: daemon_reloaded(). */
	(void)master_generation(cf, daemon_reloaded);
}

int
daemon_reload_request(void (*cb)(void *, const struct reload_outcome *),
    void *arg)
{
	if (daemon_ctl_cb != NULL || daemon_stopping)
		return -1;
	daemon_ctl_cb = cb;
	daemon_ctl_arg = arg;
	log_info("reload asked for by portgatectl");
	daemon_reload();
	return 0;
}

const char *
daemon_config_path(void)
{
	return daemon_cfpath != NULL ? daemon_cfpath : "";
}

/* Leave the loop once every spawned server and worker has been reaped. */
static void
daemon_stop_check(void)
{
	if (daemon_stopping && spawn_running() == 0 && master_workers() == 0)
		(void)event_base_loopexit(daemon_base, NULL);
}

/* The grace period of a stop ran out: kill what is left. */
static void
daemon_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { DAEMON_GRACE_WORKERS, 0 };

	(void)fd;
	(void)what;
	(void)arg;
	if (spawn_running() > 0) {
		log_warnx("%d server%s still running after %d seconds; "
		    "killing them", spawn_running(),
		    spawn_running() == 1 ? "" : "s", DAEMON_GRACE);
		spawn_signal_all(SIGKILL);
	}
	/* The workers log the EXIT of those servers, then go. */
	if (master_workers() > 0 && !daemon_workers_killed) {
		daemon_workers_killed = 1;
		(void)evtimer_add(daemon_grace, &tv);
		return;
	}
	if (master_workers() > 0) {
		log_warnx("%d worker%s still running; killing them",
		    master_workers(), master_workers() == 1 ? "" : "s");
		master_signal(SIGKILL);
	}
}

/* SIGTERM, SIGINT: stop listening, end sessions, let servers exit. */
static void
daemon_stop(int sig)
{
	struct timeval	tv = { DAEMON_GRACE, 0 };

	/* A master retiring after an upgrade may still be told to stop. */
	if (daemon_stopping && !daemon_retiring)
		return;
	daemon_stopping = 1;
	daemon_retiring = 0;
	log_info("stopping on signal %d", sig);
	sdnotify_stopping();
	ctl_close();
	service_shutdown();
	proxyproto_accept_abort_all();
	admit_shutdown();
	session_close_all();
	master_stop();
	spawn_signal_all(SIGTERM);
	daemon_grace = evtimer_new(daemon_base, daemon_grace_cb, NULL);
	if (daemon_grace == NULL || evtimer_add(daemon_grace, &tv) == -1)
		spawn_signal_all(SIGKILL);
	daemon_stop_check();
}

/* The new binary serves, or failed to start. */
static void
daemon_upgraded(int ok)
{
	if (!ok) {
		log_warnx("upgrade failed: the new binary did not start; this "
		    "master goes on");
		return;
	}
	log_info("upgrade: the new master serves; this one stops accepting "
	    "and exits once its sessions are finished");
	/* The pid file is the new master's now. */
	free(daemon_pidpath);
	daemon_pidpath = NULL;
	daemon_stopping = 1;
	daemon_retiring = 1;
	service_shutdown();
	master_retire();
	daemon_stop_check();
}

/* SIGUSR2: start the binary again, on the same sockets. */
static void
daemon_upgrade(void)
{
	int	fds[DAEMON_UPGRADE_FDS], n;

	if (daemon_stopping) {
		log_warnx("upgrade: not while stopping");
		return;
	}
	n = service_listen_fds(fds, DAEMON_UPGRADE_FDS);
	(void)upgrade_start(daemon_base, fds, n, daemon_upgraded);
}

/* Every signal portgate handles arrives here, inside the loop. */
static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		daemon_reload();
		break;
	case SIGTERM:
	case SIGINT:
		daemon_stop((int)sig);
		break;
	case SIGCHLD:
		spawn_reap();
		daemon_stop_check();
		break;
	case SIGUSR2:
		daemon_upgrade();
		break;
	case SIGUSR1:
		log_info("dump: %d services, %lld sessions, %d servers, "
		    "%d workers, configuration %s", service_count(),
		    metrics_sessions_all(), spawn_running(), master_workers(),
		    daemon_cfpath);
		service_dump();
		session_dump();
		master_signal(SIGUSR1);
		break;
	}
}

void
daemon_forget(void)
{
	size_t	i;

	for (i = 0; i < sizeof(daemon_sigev) / sizeof(daemon_sigev[0]); i++)
		if (daemon_sigev[i] != NULL) {
			event_free(daemon_sigev[i]);
			daemon_sigev[i] = NULL;
		}
	if (daemon_grace != NULL)
		event_free(daemon_grace);
	daemon_grace = NULL;
	if (daemon_readyfd != -1)
		(void)close(daemon_readyfd);
	daemon_readyfd = -1;
	log_tee(-1);
	free(daemon_pidpath);
	daemon_pidpath = NULL;
	ctl_forget();
}

/*
 * Who calls whom: the services hand their clients to the admission, which
 * makes sessions; each gets the loop here rather than reaching for it.
 */
void
daemon_wire(struct event_base *base)
{
	static const struct service_hooks	hooks = {
		.sh_stream = admit_stream,
		.sh_dgram = admit_dgram,
		.sh_handoff = admit_handoff,
		.sh_fds = session_fds,
		.sh_admit_free = admit_service_free,
	};

	session_init(base);
	admit_init(base);
	service_init(base, &hooks);
}

int
daemon_signals(struct event_base *base, const char *path, struct config *cf)
{
	static const int	sigs[] = {
		SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGCHLD
	};
	size_t			i;

	daemon_base = base;
	daemon_cf = cf;
	metrics_config_loaded(time(NULL));
	if ((daemon_cfpath = strdup(path)) == NULL)
		return -1;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		daemon_sigev[i] = evsignal_new(base, sigs[i], daemon_signal_cb,
		    NULL);
		if (daemon_sigev[i] == NULL ||
		    evsignal_add(daemon_sigev[i], NULL) == -1)
			return -1;
	}
	return 0;
}

void
daemon_cleanup(void)
{
	size_t	i;

	service_shutdown();
	proxyproto_accept_abort_all();
	admit_shutdown();
	session_close_all();
	if (daemon_grace != NULL)
		event_free(daemon_grace);
	for (i = 0; i < sizeof(daemon_sigev) / sizeof(daemon_sigev[0]); i++)
		if (daemon_sigev[i] != NULL)
			event_free(daemon_sigev[i]);
	config_unref(daemon_cf);
	daemon_cf = NULL;
	if (daemon_ctl_hasdiag)
		conf_diag_clear(&daemon_ctl_diag);
	daemon_ctl_hasdiag = 0;
	free(daemon_cfpath);
	daemon_cfpath = NULL;
	daemon_pidfile_remove();
}
