/*
 * The master and its workers; see master.h.  A worker is forked from the
 * master with the configuration, sockets, TLS contexts and GeoIP databases
 * already loaded, so nothing is serialised.  What comes back from a worker
 * is treated as hostile (THREATS.md rule 8): a spawn request only names a
 * service of the worker's own generation, and everything the server gets
 * (program, user, limits) comes from the master's copy of it.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <sched.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "build-config.h"

#include "accesslog.h"
#include "bans.h"
#include "config.h"
#include "geoip.h"
#include "libwrap_tables.h"
#include "log.h"
#include "master.h"
#include "master_int.h"
#include "metrics.h"
#include "privsep_chan.h"
#include "sandbox.h"
#include "shared.h"
#include "sockaddr.h"
#include "spawn.h"
#include "worker.h"

#define MASTER_FASTDEATHS	5	/* worker deaths in a row ... */
#define MASTER_FASTDEATH_SECS	10	/* ... this close together ... */
#define MASTER_RESPAWN_PAUSE	1	/* ... wait this long to respawn */
#define MASTER_GEOIP_SECS	1	/* how often the databases are looked at */

static TAILQ_HEAD(mworker_list, mworker) master_list =
				    TAILQ_HEAD_INITIALIZER(master_list);
static struct event_base	*master_base;
static void			(*master_forget_cb)(void);
static struct config		*master_cf;	/* the generation serving */
static uint32_t			 master_genno;
static uint64_t			 master_serial;
static int			 master_stopping;
static int			 master_nworkers;
static struct event		*master_respawn_ev;
static struct event		*master_geoip_ev;
static time_t			 master_death_first;
static int			 master_deaths;
static uint64_t			 master_respawns;	/* indexes to fork */
static int			 master_nslots = 1;	/* workers a generation */
static int			 master_newgen;		/* to fork */
static int			 master_unacked;	/* old workers */
static char			 master_root[PATH_MAX];	/* the workers' */
static void			(*master_reloaded_cb)(void);

static int	master_fork(int);

struct mworker *
master_next(struct mworker *w)
{
	return w == NULL ? TAILQ_FIRST(&master_list) : TAILQ_NEXT(w, mw_entry);
}

struct mworker *
master_find_serial(uint64_t serial)
{
	struct mworker	*w;

	TAILQ_FOREACH(w, &master_list, mw_entry)
		if (w->mw_serial == serial)
			return w;
	return NULL;
}

void
master_send(struct mworker *w, const struct privsep_msg *m)
{
	if (w->mw_chan != NULL && chan_send(w->mw_chan, m) == -1)
		log_warnx("worker %ld: cannot send it a message",
		    (long)w->mw_pid);
}

/* No worker of an older generation accepts: the reload is done. */
static void
master_reload_check(void)
{
	void	(*cb)(void) = master_reloaded_cb;

	if (master_unacked > 0 || cb == NULL)
		return;
	master_reloaded_cb = NULL;
	cb();
}

/* An old worker accepts no more (or died): is the reload complete? */
static void
master_acked(struct mworker *w)
{
	if (!w->mw_unacked)
		return;
	w->mw_unacked = 0;
	master_unacked--;
	master_reload_check();
}

static void
master_msg_cb(struct chan *ch, struct privsep_msg *m, void *arg)
{
	struct mworker	*w = arg;

	(void)ch;
	switch (m->pm_type) {
	case PRIVSEP_SPAWN_REQ:
		master_spawn(w, &m->pm_u.spawn_req, m->pm_fd);
		break;
	case PRIVSEP_LOG:
		if (m->pm_u.log.lg_kind == PRIVSEP_LOG_ACCESS)
			accesslog_write_id(m->pm_u.log.lg_service,
			    m->pm_u.log.lg_text);
		else
			log_put(m->pm_u.log.lg_level, m->pm_u.log.lg_text);
		break;
	case PRIVSEP_DRAINING:
		master_acked(w);
		break;
	case PRIVSEP_SESSION:
	case PRIVSEP_CTL_DONE:
		master_ctl_msg(w, m);
		break;
	default:
		break;
	}
	if (m->pm_fd != -1)
		(void)close(m->pm_fd);
}

/* The worker closed its end: it is dying; its status comes by SIGCHLD. */
static void
master_eof_cb(struct chan *ch, void *arg)
{
	struct mworker	*w = arg;

	chan_free(ch);
	w->mw_chan = NULL;
}

/*
 * Forks happen between two turns of the loop (master_run_pending()): a
 * child forked inside a callback would inherit a loop that is running,
 * which it cannot run again.
 */
static void
master_want_fork(void)
{
	(void)event_base_loopbreak(master_base);
}

static void
master_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	master_want_fork();
}

/*
 * Worker <index> of the generation serving died: start another at once,
 * unless they keep dying.
 */
static void
master_replace(int index)
{
	struct timeval	tv = { MASTER_RESPAWN_PAUSE, 0 };
	time_t		now = time(NULL);

	if (now - master_death_first > MASTER_FASTDEATH_SECS) {
		master_death_first = now;
		master_deaths = 0;
	}
	master_respawns |= (uint64_t)1 << index;
	if (++master_deaths < MASTER_FASTDEATHS) {
		master_respawn_cb(-1, 0, NULL);
		return;
	}
	log_warnx("workers keep dying; the next starts in %d second%s",
	    MASTER_RESPAWN_PAUSE, MASTER_RESPAWN_PAUSE == 1 ? "" : "s");
	if (master_respawn_ev == NULL || evtimer_add(master_respawn_ev,
	    &tv) == -1)
		master_respawn_cb(-1, 0, NULL);
}

/* spawn.c reaped a pid it did not spawn: one of ours, or nothing. */
static void
master_reaped(void *arg, pid_t pid, int status)
{
	struct mworker	*w;

	(void)arg;
	TAILQ_FOREACH(w, &master_list, mw_entry)
		if (w->mw_pid == pid)
			break;
	if (w == NULL)
		return;
	if (WIFSIGNALED(status))
		log_warnx("worker %ld (generation %u) killed by signal %d "
		    "(%s)%s", (long)pid, (unsigned)w->mw_gen, WTERMSIG(status),
		    strsignal(WTERMSIG(status)), WTERMSIG(status) == SIGSYS ?
		    ": it made a system call outside its seccomp allow-list" :
		    "");
	else if (WEXITSTATUS(status) != 0)
		log_warnx("worker %ld (generation %u) exited with status %d",
		    (long)pid, (unsigned)w->mw_gen, WEXITSTATUS(status));
	else
		log_info("worker %ld (generation %u) exited", (long)pid,
		    (unsigned)w->mw_gen);
	/* Its last records may still wait in the channel. */
	chan_read_all(w->mw_chan);
	master_acked(w);
	TAILQ_REMOVE(&master_list, w, mw_entry);
	master_nworkers--;
	metrics_workers(master_nworkers);
	shared_row_release(w->mw_row);
	chan_free(w->mw_chan);
	config_unref(w->mw_cf);
	if (!w->mw_draining && !master_stopping) {
		log_warnx("starting a worker in its place; the listening "
		    "sockets stayed open");
		master_replace(w->mw_index);
	}
	free(w);
}

/* In a new worker: none of the master's channels or events stay. */
static void
master_forget(void)
{
	struct mworker	*w;

	while ((w = TAILQ_FIRST(&master_list)) != NULL) {
		TAILQ_REMOVE(&master_list, w, mw_entry);
		chan_free(w->mw_chan);
		free(w);
	}
	if (master_respawn_ev != NULL)
		event_free(master_respawn_ev);
	if (master_geoip_ev != NULL)
		event_free(master_geoip_ev);
	master_respawn_ev = master_geoip_ev = NULL;
	spawn_set_other(NULL, NULL);
	bans_forget();
	if (master_forget_cb != NULL)
		master_forget_cb();
}

/* Fork worker <index> of the generation serving.  0, or -1 (logged). */
static int
master_fork(int index)
{
	struct mworker	*w;
	struct worker_args wa;
	int		 sp[2], row;
	pid_t		 pid, self = getpid();

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("worker");
		return -1;
	}
	if ((row = shared_row_take()) == -1) {
		log_warnx("worker: %d workers alive already", SHARED_ROWS - 1);
		free(w);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("worker: socketpair");
		shared_row_release(row);
		free(w);
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("worker: fork");
		(void)close(sp[0]);
		(void)close(sp[1]);
		shared_row_release(row);
		free(w);
		return -1;
	case 0:
		(void)close(sp[0]);
		free(w);
		if (event_reinit(master_base) == -1)
			fatalx("worker: cannot re-make the event loop");
		master_forget();
		wa.wa_chanfd = sp[1];
		wa.wa_row = row;
		wa.wa_gen = master_genno;
		wa.wa_index = index;
		wa.wa_master = self;
		wa.wa_root = master_root;
		worker_main(master_base, master_cf, &wa);
	}
	(void)close(sp[1]);
	w->mw_serial = ++master_serial;
	w->mw_pid = pid;
	w->mw_row = row;
	w->mw_gen = master_genno;
	w->mw_index = index;
	w->mw_cf = master_cf;
	config_ref(master_cf);
	if ((w->mw_chan = chan_new(master_base, sp[0], PRIVSEP_TO_MASTER,
	    master_msg_cb, master_eof_cb, w)) == NULL) {
		log_warn("worker %ld: channel", (long)pid);
		(void)close(sp[0]);
		(void)kill(pid, SIGKILL);	/* reaped as a death */
	}
	TAILQ_INSERT_TAIL(&master_list, w, mw_entry);
	master_nworkers++;
	metrics_workers(master_nworkers);
	log_debug("worker %ld (%d of generation %u) started", (long)pid,
	    index + 1, (unsigned)master_genno);
	return 0;
}

/*
 * The copies of the TCP wrappers files in the workers' chroot (a worker
 * that is not root reads the originals).  Returns what
 * libwrap_tables_copy() does.
 */
static int
master_wrap_tables(void)
{
	char	err[256 + PATH_MAX];
	int	fd, rc;

	if (geteuid() != 0)
		return 0;
	if ((fd = sandbox_root(master_root, err, sizeof(err))) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	rc = libwrap_tables_copy(fd);
	(void)close(fd);
	return rc;
}

/*
 * Files the workers cannot see: a GeoIP database changed on disk (workers
 * of a new generation load it), the TCP wrappers files (copied).
 */
static void
master_geoip_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { MASTER_GEOIP_SECS, 0 };
	struct geoip	*g;
	char		 msg[GEOIP_MSGMAX];
	int		 changed = 0;

	(void)fd;
	(void)what;
	(void)arg;
	(void)master_wrap_tables();
	for (g = geoip_next(NULL); g != NULL; g = geoip_next(g)) {
		switch (geoip_check(g, time(NULL), 0, msg, sizeof(msg))) {
		case GEOIP_RELOADED:
			log_info("%s", msg);
			changed = 1;
			break;
		case GEOIP_KEPT:
			log_warnx("%s", msg);
			break;
		default:
			break;
		}
	}
	if (changed && master_cf != NULL && !master_stopping)
		(void)master_generation(master_cf, NULL);
	(void)evtimer_add(master_geoip_ev, &tv);
}

/*
 * Remove the workers' directories of masters that are gone (killed, so
 * that they could not remove their own): PORTGATE_EMPTYDIR.PID.
 */
static void
master_sweep(void)
{
	char		 dir[PATH_MAX], path[2 * PATH_MAX], *slash, *end;
	const char	*base;
	DIR		*d;
	struct dirent	*de;
	size_t		 len;
	long		 pid;

	if (geteuid() != 0)
		return;
	(void)snprintf(dir, sizeof(dir), "%s", PORTGATE_EMPTYDIR);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	base = slash + 1;
	len = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, len) != 0 ||
		    de->d_name[len] != '.')
			continue;
		errno = 0;
		pid = strtol(de->d_name + len + 1, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0 ||
		    pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		libwrap_tables_remove(path);
		if (rmdir(path) == -1)
			log_warn("rmdir %s", path);
	}
	(void)closedir(d);
}

void
master_init(struct event_base *base, int nworkers, void (*forget)(void))
{
	struct timeval	tv = { MASTER_GEOIP_SECS, 0 };

	master_base = base;
	master_nslots = nworkers;
	/*
	 * The workers' root is this master's: its copies of the TCP
	 * wrappers files are its own (another master, or the new one of an
	 * upgrade, may read other files).
	 */
	(void)snprintf(master_root, sizeof(master_root), "%s.%ld",
	    PORTGATE_EMPTYDIR, (long)getpid());
	master_sweep();
	master_forget_cb = forget;
	spawn_set_other(master_reaped, NULL);
	/* Without the copies a worker would read no rule: admit everyone. */
	if (master_wrap_tables() == -1)
		fatalx("cannot copy the TCP wrappers files for the workers");
	master_respawn_ev = evtimer_new(base, master_respawn_cb, NULL);
	master_geoip_ev = evtimer_new(base, master_geoip_cb, NULL);
	if (master_respawn_ev == NULL || master_geoip_ev == NULL ||
	    evtimer_add(master_geoip_ev, &tv) == -1)
		fatalx("master: cannot create its timers");
}

int
master_generation(struct config *cf, void (*done)(void))
{
	if (master_cf != NULL && master_count(cf) != master_nslots)
		log_warnx("workers = %d takes effect at the next start; %d "
		    "workers go on (the services have a socket each)",
		    master_count(cf), master_nslots);
	master_reloaded_cb = done;
	config_ref(cf);
	config_unref(master_cf);
	master_cf = cf;
	master_genno++;
	master_newgen = 1;
	master_want_fork();
	return 0;
}

/* The workers of the generations before this one stop and drain. */
static void
master_drain_old(void)
{
	struct privsep_msg	 m;
	struct mworker		*w;

	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_RELOAD;
	m.pm_fd = -1;
	m.pm_u.reload.rl_gen = master_genno;
	TAILQ_FOREACH(w, &master_list, mw_entry)
		if (!w->mw_draining && w->mw_gen != master_genno) {
			w->mw_draining = 1;
			w->mw_unacked = 1;
			master_unacked++;
			master_send(w, &m);
		}
	master_reload_check();
}

int
master_run_pending(void)
{
	int	done = 0, i, started = 0;

	if (master_stopping || master_cf == NULL)
		return 0;
	if (master_newgen) {
		master_newgen = 0;
		master_respawns = 0;	/* the new generation replaces all */
		for (i = 0; i < master_nslots; i++, done++)
			if (master_fork(i) == 0)
				started++;
			else
				master_replace(i);
		/* The new ones accept already: then the old ones drain. */
		if (started > 0)
			master_drain_old();
		else
			log_warnx("no worker of generation %u could start; "
			    "the workers before it go on", (unsigned)master_genno);
		return done;
	}
	for (i = 0; i < master_nslots; i++)
		if (master_respawns & ((uint64_t)1 << i)) {
			master_respawns &= ~((uint64_t)1 << i);
			done++;
			if (master_fork(i) == -1) {
				log_warnx("cannot start a worker; clients "
				    "wait in the listening queues");
				master_replace(i);
				break;
			}
			/* A generation none of whose workers had started. */
			master_drain_old();
		}
	return done;
}

int
master_count(const struct config *cf)
{
	cpu_set_t	set;
	int		n;

	if (cf->cf_workers > 0)
		return cf->cf_workers;
	/* auto: the CPUs this process may run on. */
	if (sched_getaffinity(0, sizeof(set), &set) == -1 ||
	    (n = CPU_COUNT(&set)) < 1)
		return 1;
	return n > CONF_WORKERS_MAX ? CONF_WORKERS_MAX : n;
}

void
master_stop(void)
{
	struct mworker	*w;

	master_stopping = 1;
	TAILQ_FOREACH(w, &master_list, mw_entry)
		(void)kill(w->mw_pid, SIGTERM);
	config_unref(master_cf);
	master_cf = NULL;
}

void
master_retire(void)
{
	struct privsep_msg	 m;
	struct mworker		*w;

	master_stopping = 1;
	memset(&m, 0, sizeof(m));
	m.pm_type = PRIVSEP_RELOAD;
	m.pm_fd = -1;
	m.pm_u.reload.rl_gen = master_genno + 1;
	TAILQ_FOREACH(w, &master_list, mw_entry)
		if (!w->mw_draining) {
			w->mw_draining = 1;
			master_send(w, &m);
		}
}

void
master_cleanup(void)
{
	if (master_root[0] == '\0' || geteuid() != 0)
		return;
	libwrap_tables_remove(master_root);
	if (rmdir(master_root) == -1 && errno != ENOENT)
		log_warn("rmdir %s", master_root);
}

void
master_signal(int sig)
{
	struct mworker	*w;

	TAILQ_FOREACH(w, &master_list, mw_entry)
		(void)kill(w->mw_pid, sig);
}

int
master_workers(void)
{
	return master_nworkers;
}
