/*
 * Spawning local servers.  The child resets its signals, becomes a session
 * leader, puts the socket on 0, 1 and 2, closes every other descriptor,
 * applies limits, nice, umask and environment, drops privileges through
 * cred_drop() and execs the server without a shell.  What goes wrong in the
 * child is written to a pipe that the parent reads when it reaps, so the
 * parent never waits for the exec.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"

#include "config.h"
#include "cred.h"
#include "log.h"
#include "rbtree.h"
#include "spawn.h"

extern char	**environ;

struct child {
	RB_ENTRY(child)	 ch_node;
	pid_t		 ch_pid;
	spawn_exit_cb	 ch_exited;
	void		*ch_arg;
};

RB_HEAD(child_tree, child);

static int
child_cmp(struct child *a, struct child *b)
{
	return a->ch_pid < b->ch_pid ? -1 : a->ch_pid > b->ch_pid;
}

PG_RB_GENERATE_STATIC(child_tree, child, ch_node, child_cmp)

static struct child_tree	children = RB_INITIALIZER(&children);
static int			nchildren;
static int			spawn_limit;
static int			spawn_errpipe[2] = { -1, -1 };

static const int	rlimit_resource[CRL_COUNT] = {
	RLIMIT_AS, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_RSS, RLIMIT_STACK,
	RLIMIT_NOFILE
};

int
spawn_init(int limit)
{
	spawn_limit = limit;
	if (spawn_errpipe[0] == -1 &&
	    pipe2(spawn_errpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
spawn_full(void)
{
	return spawn_limit > 0 && nchildren >= spawn_limit;
}

int
spawn_running(void)
{
	return nchildren;
}

/* In the child: report <what> and errno to the parent, then exit. */
static void __attribute__((noreturn))
spawn_child_fail(const struct service_conf *sc, const char *what, int err)
{
	char	msg[512];
	int	len;

	len = snprintf(msg, sizeof(msg), "%ld service %s: %s: %s\n",
	    (long)getpid(), sc->sc_id, what, strerror(err));
	if (len > 0)
		(void)write(spawn_errpipe[1], msg, (size_t)len < sizeof(msg) ?
		    (size_t)len : sizeof(msg) - 1);
	_exit(127);
}

/* In the child: <entry> ("NAME=value") replaces or joins <envp>. */
static void
spawn_env_put(char **envp, int *n, char *entry)
{
	size_t	len = strcspn(entry, "=") + 1;
	int	i;

	for (i = 0; i < *n; i++) {
		if (strncmp(envp[i], entry, len) == 0) {
			envp[i] = entry;
			return;
		}
	}
	envp[(*n)++] = entry;
	envp[*n] = NULL;
}

/* In the child: the environment of the server. */
static char **
spawn_env(const struct spawn_req *rq)
{
	const struct service_conf	*sc = rq->sq_conf;
	char				**envp, *e;
	size_t				  len;
	int				  n = 0, max, i, j;

	for (max = 0; environ[max] != NULL; max++)
		;
	max += sc->sc_env.wl_n + 8;
	for (i = 0; rq->sq_extra_env != NULL && rq->sq_extra_env[i]; i++)
		max++;
	if ((envp = calloc(max + 1, sizeof(char *))) == NULL)
		spawn_child_fail(sc, "environment", errno);
	for (i = 0; environ[i] != NULL; i++) {
		if (sc->sc_has_passenv) {
			len = strcspn(environ[i], "=");
			for (j = 0; j < sc->sc_passenv.wl_n; j++)
				if (strlen(sc->sc_passenv.wl_words[j]) == len &&
				    strncmp(environ[i],
				    sc->sc_passenv.wl_words[j], len) == 0)
					break;
			if (j == sc->sc_passenv.wl_n)
				continue;
		}
		spawn_env_put(envp, &n, environ[i]);
	}
	for (i = 0; i < sc->sc_env.wl_n; i++)
		spawn_env_put(envp, &n, sc->sc_env.wl_words[i]);
	if (rq->sq_addr != NULL && asprintf(&e, "REMOTE_HOST=%s",
	    rq->sq_addr) != -1)
		spawn_env_put(envp, &n, e);
	if (rq->sq_port > 0 && asprintf(&e, "REMOTE_PORT=%d", rq->sq_port) != -1)
		spawn_env_put(envp, &n, e);
	if (rq->sq_country != NULL && asprintf(&e, "REMOTE_COUNTRY=%s",
	    rq->sq_country) != -1)
		spawn_env_put(envp, &n, e);
	for (i = 0; rq->sq_extra_env != NULL && rq->sq_extra_env[i]; i++)
		spawn_env_put(envp, &n, rq->sq_extra_env[i]);
	return envp;
}

/* In the child: the argument vector (argv[0] as xinetd sets it). */
static char **
spawn_argv(const struct service_conf *sc)
{
	char	**argv, *base, *copy;
	int	  i, n = 0;

	if ((argv = calloc(sc->sc_server_args.wl_n + 2, sizeof(char *))) ==
	    NULL)
		spawn_child_fail(sc, "arguments", errno);
	if (!(sc->sc_flags & SFLAG_NAMEINARGS)) {
		if ((copy = strdup(sc->sc_server)) == NULL)
			spawn_child_fail(sc, "arguments", errno);
		base = basename(copy);
		argv[n++] = base;
	}
	for (i = 0; i < sc->sc_server_args.wl_n; i++)
		argv[n++] = sc->sc_server_args.wl_words[i];
	argv[n] = NULL;
	return argv;
}

/* In the child: close every descriptor from 3 up except the error pipe. */
static void
spawn_closefrom(void)
{
	int	keep = spawn_errpipe[1], fd;

#ifdef HAVE_CLOSE_RANGE
	if (close_range(3, keep - 1, 0) == 0 &&
	    close_range(keep + 1, ~0U, 0) == 0)
		return;
#endif
	for (fd = 3; fd < 65536; fd++)
		if (fd != keep)
			(void)close(fd);
}

/* In the child: resource limits of the service. */
static void
spawn_rlimits(const struct service_conf *sc)
{
	struct rlimit	rl;
	int		i;

	for (i = 0; i < CRL_COUNT; i++) {
		if (!(sc->sc_rlimit_set & (1u << i)))
			continue;
		rl.rlim_cur = rl.rlim_max = sc->sc_rlimit[i];
		if (setrlimit(rlimit_resource[i], &rl) == -1)
			spawn_child_fail(sc, "setrlimit", errno);
	}
}

/* The child: from fork to exec. */
static void __attribute__((noreturn))
spawn_child(const struct spawn_req *rq)
{
	const struct service_conf	*sc = rq->sq_conf;
	sigset_t			 set;
	char				 err[256];
	char				**argv, **envp;
	int				 sig, fl;

	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	(void)setsid();
	if (dup2(rq->sq_fd, STDIN_FILENO) == -1 ||
	    dup2(rq->sq_fd, STDOUT_FILENO) == -1 ||
	    dup2(rq->sq_fd, STDERR_FILENO) == -1)
		spawn_child_fail(sc, "dup2", errno);
	spawn_closefrom();
	if ((fl = fcntl(STDIN_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
	spawn_rlimits(sc);
	errno = 0;
	if (sc->sc_has_nice && nice(sc->sc_nice) == -1 && errno != 0)
		spawn_child_fail(sc, "nice", errno);
	if (sc->sc_umask != -1)
		(void)umask((mode_t)sc->sc_umask);
	envp = spawn_env(rq);
	argv = spawn_argv(sc);
	if (cred_drop(sc, err, sizeof(err)) == -1) {
		errno = EPERM;
		spawn_child_fail(sc, err, EPERM);
	}
	execve(sc->sc_server, argv, envp);
	(void)snprintf(err, sizeof(err), "exec %s", sc->sc_server);
	spawn_child_fail(sc, err, errno);
}

pid_t
spawn_start(const struct spawn_req *rq)
{
	struct child	*ch;
	sigset_t	 all, old;
	pid_t		 pid;

	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("service %s: spawn", rq->sq_conf->sc_id);
		return -1;
	}
	/*
	 * A signal between fork and the child's reset of its handlers would
	 * reach the daemon's handler in the child and be lost: block them
	 * all until the child has reset (spawn_child unblocks).
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	switch ((pid = fork())) {
	case -1:
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		log_warn("service %s: fork", rq->sq_conf->sc_id);
		free(ch);
		return -1;
	case 0:
		spawn_child(rq);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	ch->ch_pid = pid;
	ch->ch_exited = rq->sq_exited;
	ch->ch_arg = rq->sq_arg;
	RB_INSERT(child_tree, &children, ch);
	nchildren++;
	return pid;
}

/* Log what failed children wrote before exiting. */
static void
spawn_read_errors(void)
{
	char	buf[4096], *line, *next;
	ssize_t	n;

	while ((n = read(spawn_errpipe[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (line = buf; *line != '\0'; line = next) {
			next = line + strcspn(line, "\n");
			if (*next != '\0')
				*next++ = '\0';
			log_warnx("server pid %s", line);
		}
	}
}

void
spawn_reap(void)
{
	struct child	 find, *ch;
	pid_t		 pid;
	int		 status;

	spawn_read_errors();
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		find.ch_pid = pid;
		if ((ch = RB_FIND(child_tree, &children, &find)) == NULL)
			continue;
		RB_REMOVE(child_tree, &children, ch);
		nchildren--;
		ch->ch_exited(ch->ch_arg, pid, status);
		free(ch);
	}
}

void
spawn_signal_all(int sig)
{
	struct child	*ch;

	RB_FOREACH(ch, child_tree, &children)
		if (kill(-ch->ch_pid, sig) == -1)
			(void)kill(ch->ch_pid, sig);
}
