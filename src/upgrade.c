/*
 * Binary upgrade; see upgrade.h.  The readiness line is the one the
 * detaching parent reads (daemon.c): "!0\n" when the new master serves.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "build-config.h"

#include "coverage.h"
#include "log.h"
#include "upgrade.h"
#include "xmalloc.h"

#define UPGRADE_ENV	"PORTGATE_UPGRADE_FD"
#define UPGRADE_FDMAX	1024	/* listening sockets passed at most */

static char		 upgrade_exe[PATH_MAX];
static char		**upgrade_argv;
static int		 upgrade_notify = -1;	/* new master: to the old */
static struct event	*upgrade_ev;		/* old master: from the new */
static void		(*upgrade_done)(int);

int
upgrade_child(void)
{
	return upgrade_notify != -1;
}

void
upgrade_init(int argc, char **argv)
{
	const char	*s;
	char		*end;
	ssize_t		 n;
	long		 fd;
	int		 i;

	/* The path of the binary, now: the file there later is the new one. */
	if ((n = readlink("/proc/self/exe", upgrade_exe,
	    sizeof(upgrade_exe) - 1)) > 0)
		upgrade_exe[n] = '\0';
	else
		upgrade_exe[0] = '\0';
	upgrade_argv = xcalloc((size_t)argc + 1, sizeof(*upgrade_argv));
	for (i = 0; i < argc; i++)
		upgrade_argv[i] = xstrdup(argv[i]);
	if ((s = getenv(UPGRADE_ENV)) == NULL)
		return;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno == 0 && *end == '\0' && fd > STDERR_FILENO && fd < INT_MAX &&
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0)
		upgrade_notify = (int)fd;
	(void)unsetenv(UPGRADE_ENV);
}

void
upgrade_ready(void)
{
	if (upgrade_notify == -1)
		return;
	if (write(upgrade_notify, "!0\n", 3) != 3)
		log_warn("cannot tell the old master that this one serves");
	(void)close(upgrade_notify);
	upgrade_notify = -1;
}

/* The new master said something, or closed the pipe (it died). */
static void
upgrade_read_cb(evutil_socket_t fd, short what, void *arg)
{
	char	buf[16];
	ssize_t	n;
	int	ok;

	(void)what;
	(void)arg;
	if ((n = read(fd, buf, sizeof(buf))) == -1 && (errno == EINTR ||
	    errno == EAGAIN))
		return;
	ok = n >= 2 && buf[0] == '!' && buf[1] == '0';
	event_free(upgrade_ev);
	upgrade_ev = NULL;
	(void)close(fd);
	upgrade_done(ok);
}

/*
 * In the child: put <fds> on 3, 4, ... (what sd_listen_fds() expects),
 * the pipe after them, say so in the environment, and run the binary.
 */
static void __attribute__((noreturn))
upgrade_exec(const int *fds, int n, int notify)
{
	int	high[UPGRADE_FDMAX + 1], i;
	char	num[32];

	/* Out of the way first: a target number may be one of the sources. */
	for (i = 0; i < n; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n + 4)) == -1)
			_exit(127);
	if ((high[n] = fcntl(notify, F_DUPFD_CLOEXEC, n + 4)) == -1)
		_exit(127);
	/* dup2() leaves close-on-exec off: these are the ones passed. */
	for (i = 0; i <= n; i++)
		if (dup2(high[i], 3 + i) == -1)
			_exit(127);
	(void)snprintf(num, sizeof(num), "%d", n);
	if (setenv("LISTEN_FDS", num, 1) == -1)
		_exit(127);
	(void)snprintf(num, sizeof(num), "%ld", (long)getpid());
	if (setenv("LISTEN_PID", num, 1) == -1)
		_exit(127);
	(void)unsetenv("LISTEN_FDNAMES");
	(void)snprintf(num, sizeof(num), "%d", 3 + n);
	if (setenv(UPGRADE_ENV, num, 1) == -1)
		_exit(127);
	COVERAGE_DUMP();
	(void)execv(upgrade_exe, upgrade_argv);
	_exit(127);
}

int
upgrade_start(struct event_base *base, const int *fds, int n,
    void (*done)(int ok))
{
	int	p[2];
	pid_t	pid;

	if (upgrade_ev != NULL) {
		log_warnx("upgrade: one is under way already");
		return -1;
	}
	if (upgrade_exe[0] == '\0' || n > UPGRADE_FDMAX) {
		log_warnx("upgrade: %s", upgrade_exe[0] == '\0' ?
		    "the path of the binary is not known" :
		    "too many listening sockets");
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("upgrade: pipe");
		return -1;
	}
	log_info("upgrade: starting %s with %d listening socket%s",
	    upgrade_exe, n, n == 1 ? "" : "s");
	switch ((pid = fork())) {
	case -1:
		log_warn("upgrade: fork");
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	case 0:
		(void)close(p[0]);
		upgrade_exec(fds, n, p[1]);
	}
	(void)close(p[1]);
	upgrade_done = done;
	if ((upgrade_ev = event_new(base, p[0], EV_READ | EV_PERSIST,
	    upgrade_read_cb, NULL)) == NULL || event_add(upgrade_ev,
	    NULL) == -1) {
		log_warnx("upgrade: cannot watch the new master; it runs "
		    "beside this one");
		if (upgrade_ev != NULL)
			event_free(upgrade_ev);
		upgrade_ev = NULL;
		(void)close(p[0]);
		return -1;
	}
	return 0;
}
