/*
 * The descriptor budget (see fdbudget.h).  Sized as nginx and haproxy
 * size their connection limits: from RLIMIT_NOFILE at start, less a
 * reserve, less what the daemon holds for itself.  The counts are plain
 * integers kept by the callers' take and release; the daemon's own
 * descriptors are counted from /proc/self/fd only when they change (start,
 * reload) or when EMFILE shows the count is wrong.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fdbudget.h"
#include "log.h"

#define FDB_RESERVE_MIN	16	/* never keep less back */
#define FDB_RESERVE_MAX	256	/* nor more: enough for every transient */
#define FDB_UNLIMITED	(1L << 20)	/* RLIM_INFINITY counts as this */
#define FDB_SCAN_MAX	65536	/* descriptors probed without /proc */
#define FDB_RECOUNT_SECS 1	/* short of descriptors: count again after */

static long	fdb_limit = FDB_UNLIMITED;
static int	fdb_reserve = FDB_RESERVE_MIN;
static int	fdb_own;		/* the daemon's, not charged */
static int	fdb_used;		/* charged to clients */
static int	fdb_stale;		/* fdb_own must be counted again */
static time_t	fdb_counted;		/* when it was, monotonic seconds */
static int	fdb_given;		/* fdb_own was given, not counted */

static struct event	*fdb_wake_ev;
static struct event	*fdb_log_ev;
static TAILQ_HEAD(fdb_waitq, fdbudget_waiter) fdb_waiters =
    TAILQ_HEAD_INITIALIZER(fdb_waiters);
static struct fdb_waitq	fdb_waking = TAILQ_HEAD_INITIALIZER(fdb_waking);
static unsigned long long fdb_counts[FDB_NEVENTS];
static time_t		fdb_logged;	/* the last summary */

static const char *const fdb_names[FDB_NEVENTS] = {
	[FDB_DEFERRED] = "accepts deferred",
	[FDB_EXHAUSTED] = "accepts failed",
	[FDB_EVICTED] = "UDP flows evicted",
	[FDB_REFUSED] = "UDP flows refused",
};

static void	fdbudget_wake(void);

/* Descriptors open in this process now. */
static int
fdbudget_count_open(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, n = 0;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		(void)closedir(d);
		return n - 1;	/* the directory's own */
	}
	/* No /proc (or no descriptor to read it with): probe. */
	for (fd = 0; fd < fdb_limit && fd < FDB_SCAN_MAX; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* Seconds of the monotonic clock. */
static time_t
fdbudget_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return time(NULL);
	return ts.tv_sec;
}

/* Count the daemon's own descriptors if they changed. */
static void
fdbudget_fresh(void)
{
	int	open;

	if (!fdb_stale)
		return;
	fdb_stale = 0;
	fdb_counted = fdbudget_now();
	/*
	 * A client charged for a descriptor it has not opened yet makes
	 * this low; one between accept and admission makes it high.
	 */
	open = fdbudget_count_open();
	fdb_own = open - fdb_used;
	if (fdb_own < 3)
		fdb_own = 3;
}

void
fdbudget_size(long limit, int own)
{
	long	r;

	if (limit <= 0 || limit > FDB_UNLIMITED)
		limit = FDB_UNLIMITED;
	fdb_limit = limit;
	r = limit / 16;
	if (r < FDB_RESERVE_MIN)
		r = FDB_RESERVE_MIN;
	if (r > FDB_RESERVE_MAX)
		r = FDB_RESERVE_MAX;
	fdb_reserve = (int)r;
	fdb_own = own;
	fdb_stale = 0;
	fdb_given = 1;
}

void
fdbudget_recount(void)
{
	fdb_stale = 1;
	fdb_given = 0;
}

/* Waiters that fit are called from the loop. */
static void
fdbudget_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fdbudget_wake();
}

static void	fdbudget_log_cb(evutil_socket_t, short, void *);

int
fdbudget_init(struct event_base *base)
{
	struct rlimit	rl;
	long		limit = FDB_UNLIMITED;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && rl.rlim_cur < (rlim_t)FDB_UNLIMITED)
		limit = (long)rl.rlim_cur;
	fdbudget_size(limit, 0);
	fdbudget_recount();
	fdbudget_fresh();
	fdbudget_shutdown();
	fdb_wake_ev = evtimer_new(base, fdbudget_wake_cb, NULL);
	fdb_log_ev = evtimer_new(base, fdbudget_log_cb, NULL);
	if (fdb_wake_ev == NULL || fdb_log_ev == NULL)
		return -1;
	if (fdbudget_free(FDB_SESSION) < FDB_RESERVE_MIN)
		log_warnx("descriptors: the limit of %ld leaves %d for "
		    "clients; raise it (ulimit -n)", fdb_limit,
		    fdbudget_free(FDB_SESSION));
	else
		log_debug("%s: limit %ld, reserve %d, daemon %d", __func__,
		    fdb_limit, fdb_reserve, fdb_own);
	return 0;
}

void
fdbudget_shutdown(void)
{
	struct fdbudget_waiter	*fw;

	while ((fw = TAILQ_FIRST(&fdb_waiters)) != NULL)
		fdbudget_unwait(fw);
	while ((fw = TAILQ_FIRST(&fdb_waking)) != NULL)
		fdbudget_unwait(fw);
	if (fdb_wake_ev != NULL)
		event_free(fdb_wake_ev);
	fdb_wake_ev = NULL;
	if (fdb_log_ev != NULL)
		event_free(fdb_log_ev);
	fdb_log_ev = NULL;
}

long
fdbudget_limit(void)
{
	return fdb_limit;
}

int
fdbudget_reserve(void)
{
	return fdb_reserve;
}

int
fdbudget_own(void)
{
	fdbudget_fresh();
	return fdb_own;
}

int
fdbudget_used(void)
{
	return fdb_used;
}

int
fdbudget_free(enum fdbudget_class cl)
{
	long	budget, left;

	fdbudget_fresh();
	budget = fdb_limit - fdb_reserve - fdb_own;
	left = budget - fdb_used;
	/* What can do without leaves a quarter for TCP accepts. */
	if (cl == FDB_SPARE)
		left -= budget / 4;
	if (left > FDB_UNLIMITED)
		left = FDB_UNLIMITED;
	return (int)left;
}

int
fdbudget_can(int n, enum fdbudget_class cl)
{
	if (cl == FDB_SESSION && fdb_used == 0)
		return 1;
	if (n <= fdbudget_free(cl))
		return 1;
	/*
	 * Short: make sure of it.  What is held for clients outside the
	 * counts (a PROXY header or a name awaited) comes and goes; a count
	 * now and then, only while short, follows it both ways.
	 */
	if (!fdb_given && fdb_limit < FDB_UNLIMITED &&
	    fdbudget_now() - fdb_counted >= FDB_RECOUNT_SECS) {
		fdbudget_recount();
		return n <= fdbudget_free(cl);
	}
	return 0;
}

int
fdbudget_take(int n, enum fdbudget_class cl)
{
	if (!fdbudget_can(n, cl))
		return -1;
	fdb_used += n;
	return 0;
}

void
fdbudget_charge(int n)
{
	fdb_used += n;
}

void
fdbudget_release(int n)
{
	struct fdbudget_waiter	*fw;
	int			 left;

	fdb_used -= n;
	if (fdb_used < 0) {
		log_warnx("%s: more descriptors given back than taken",
		    __func__);
		fdb_used = 0;
	}
	if (n <= 0 || TAILQ_EMPTY(&fdb_waiters))
		return;
	left = fdbudget_free(FDB_SESSION);
	TAILQ_FOREACH(fw, &fdb_waiters, fw_entry) {
		if (fw->fw_need > left && fdb_used > 0)
			continue;
		/* From the loop: the caller may be in the middle of a close. */
		if (fdb_wake_ev != NULL)
			event_active(fdb_wake_ev, EV_TIMEOUT, 1);
		else
			fdbudget_wake();
		return;
	}
}

/*
 * Call every waiter that fits now.  They move to a list of their own
 * first: a callback may wait again (for the next release, not this one)
 * or stop another waiter from waiting.
 */
static void
fdbudget_wake(void)
{
	struct fdbudget_waiter	*fw, *next;
	int			 left = fdbudget_free(FDB_SESSION);

	for (fw = TAILQ_FIRST(&fdb_waiters); fw != NULL; fw = next) {
		next = TAILQ_NEXT(fw, fw_entry);
		if (fw->fw_need > left && fdb_used > 0)
			continue;
		TAILQ_REMOVE(&fdb_waiters, fw, fw_entry);
		TAILQ_INSERT_TAIL(&fdb_waking, fw, fw_entry);
		fw->fw_queued = 2;
	}
	while ((fw = TAILQ_FIRST(&fdb_waking)) != NULL) {
		fdbudget_unwait(fw);
		fw->fw_cb(fw->fw_arg);
	}
}

void
fdbudget_wait(struct fdbudget_waiter *fw, int need, void (*cb)(void *),
    void *arg)
{
	fdbudget_unwait(fw);
	fw->fw_need = need;
	fw->fw_cb = cb;
	fw->fw_arg = arg;
	fw->fw_queued = 1;
	TAILQ_INSERT_TAIL(&fdb_waiters, fw, fw_entry);
}

void
fdbudget_unwait(struct fdbudget_waiter *fw)
{
	if (fw->fw_queued == 1)
		TAILQ_REMOVE(&fdb_waiters, fw, fw_entry);
	else if (fw->fw_queued == 2)
		TAILQ_REMOVE(&fdb_waking, fw, fw_entry);
	fw->fw_queued = 0;
}

/* Log the counts since the last line, and start a new interval. */
static void
fdbudget_flush(time_t now)
{
	char	list[256];
	size_t	off = 0;
	int	i, n;

	list[0] = '\0';
	for (i = 0; i < FDB_NEVENTS; i++) {
		if (fdb_counts[i] == 0)
			continue;
		n = snprintf(list + off, sizeof(list) - off, "%s%s %llu",
		    off > 0 ? ", " : "", fdb_names[i], fdb_counts[i]);
		if (n > 0 && (size_t)n < sizeof(list) - off)
			off += (size_t)n;
		fdb_counts[i] = 0;
	}
	if (fdb_logged != 0)
		log_warnx("descriptors short in the last %lld s: %s (limit "
		    "%ld, reserve %d, daemon %d, clients %d)",
		    (long long)(now - fdb_logged), list, fdb_limit,
		    fdb_reserve, fdb_own, fdb_used);
	else
		log_warnx("descriptors short: %s (limit %ld, reserve %d, "
		    "daemon %d, clients %d); counted for %d s from now",
		    list, fdb_limit, fdb_reserve, fdb_own, fdb_used,
		    FDBUDGET_LOG_SECS);
	fdb_logged = now;
}

/* The interval of the summary line ended: log it if anything happened. */
static void
fdbudget_log_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { FDBUDGET_LOG_SECS, 0 };
	int		i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < FDB_NEVENTS; i++)
		if (fdb_counts[i] > 0)
			break;
	if (i == FDB_NEVENTS) {
		fdb_logged = 0;		/* quiet: the next event logs at once */
		return;
	}
	fdbudget_flush(time(NULL));
	(void)evtimer_add(fdb_log_ev, &tv);
}

void
fdbudget_note(enum fdbudget_event ev)
{
	struct timeval	tv = { FDBUDGET_LOG_SECS, 0 };

	if (ev < 0 || ev >= FDB_NEVENTS)
		return;
	fdb_counts[ev]++;
	if (fdb_log_ev == NULL || evtimer_pending(fdb_log_ev, NULL))
		return;
	fdb_logged = 0;
	fdbudget_flush(time(NULL));
	(void)evtimer_add(fdb_log_ev, &tv);
}
