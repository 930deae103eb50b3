/*
 * Spawning local servers.  The parent makes the argument vector, the
 * environment (spawn_env.c) and the group list, then vfork()s: the child
 * borrows the parent's memory until its exec, so no page is copied and no
 * copy-on-write fault follows, and it may only make system calls.  fork()
 * would let the master go back to its loop before the exec, but costs it
 * about 1.3 ms more CPU per spawn on the benchmark machine: measured on
 * 2026-12-06, 0.4 of vfork's rate quiet and 1.15-1.26 times it with both
 * cores busy (bench/RESULTS.md, "perf-notes-2026-12-06").  The child
 * resets its signals, becomes a session leader, puts the socket on 0, 1
 * and 2, closes every other descriptor, applies limits, nice and umask,
 * drops privileges through cred_drop() and execs the server without a
 * shell.  What goes wrong in the child is written to a pipe that the
 * parent reads when it reaps; the parent waits only until the exec has
 * begun.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"

#include "config.h"
#include "cred.h"
#include "log.h"
#include "rbtree.h"
#include "shared.h"
#include "spawn.h"
#include "spawn_env.h"
#include "xmalloc.h"

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
static struct shared_counter	*spawn_count;	/* nchildren, for workers */
static int			spawn_limit;
static int			spawn_errpipe[2] = { -1, -1 };
static spawn_exit_cb		spawn_other;	/* reaps what it did not spawn */
static void			*spawn_other_arg;

static const int	rlimit_resource[CRL_COUNT] = {
	RLIMIT_AS, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_RSS, RLIMIT_STACK,
	RLIMIT_NOFILE
};

int
spawn_init(int limit)
{
	spawn_limit = limit;
	/* The workers ask spawn_full() before they ask the master to spawn. */
	if (spawn_count == NULL && (spawn_count = shared_counter_new()) ==
	    NULL)
		return -1;
	if (spawn_errpipe[0] == -1 &&
	    pipe2(spawn_errpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
spawn_full(void)
{
	return spawn_limit > 0 && (spawn_count != NULL ?
	    shared_counter_sum(spawn_count) : nchildren) >= spawn_limit;
}

int
spawn_running(void)
{
	return nchildren;
}

/*
 * What the child needs, made in the parent before the fork, so that the
 * child only makes system calls (it is a vfork child): argument vector,
 * environment and groups.  One plan serves every spawn (the parent does
 * nothing else until the child has exec'd); its arrays only grow.
 */
struct spawn_plan {
	char			**sp_argv;
	size_t			  sp_argvcap;
	struct spawn_env	  sp_env;
	struct cred_groups	  sp_groups;
};

static struct spawn_plan	spawn_plan;

/* Make room for <n> pointers in *<v> of capacity *<cap>; 0 or -1. */
static int
spawn_grow(char ***v, size_t *cap, size_t n)
{
	char	**nv;

	if (n <= *cap)
		return 0;
	if ((nv = reallocarray(*v, n, sizeof(char *))) == NULL)
		return -1;
	*v = nv;
	*cap = n;
	return 0;
}

/* Append the decimal <v> at <p>; the end. */
static char *
spawn_put_num(char *p, long v)
{
	char	digits[24];
	int	n = 0;

	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Append at most <max> bytes of <s> at <p>; the end. */
static char *
spawn_put_str(char *p, const char *s, size_t max)
{
	size_t	len = strnlen(s, max);

	memcpy(p, s, len);
	return p + len;
}

/*
 * In the child: report "PID ERRNO service ID: WHAT [ARG]" to the parent
 * (no stdio, no strerror: system calls only), then exit 127.
 */
static void __attribute__((noreturn))
spawn_child_fail(const struct service_conf *sc, const char *what,
    const char *arg, int err)
{
	char	msg[640], *p = msg;	/* room for all the parts below */

	p = spawn_put_num(p, (long)getpid());
	*p++ = ' ';
	p = spawn_put_num(p, err);
	p = spawn_put_str(p, " service ", 16);
	p = spawn_put_str(p, sc->sc_id, 128);
	p = spawn_put_str(p, ": ", 2);
	p = spawn_put_str(p, what, 64);
	if (arg != NULL) {
		*p++ = ' ';
		p = spawn_put_str(p, arg, 256);
	}
	*p++ = '\n';
	/* The child can only exit: a failed report leaves the exit status. */
	if (write(spawn_errpipe[1], msg, (size_t)(p - msg)) == -1)
		_exit(127);
	_exit(127);
}

/* The argument vector (argv[0] as xinetd sets it), in <sp>; 0 or -1. */
static int
spawn_argv(const struct service_conf *sc, struct spawn_plan *sp)
{
	const char	*base;
	int		 i, n = 0;

	if (spawn_grow(&sp->sp_argv, &sp->sp_argvcap,
	    (size_t)sc->sc_server_args.wl_n + 2) == -1)
		return -1;
	if (!(sc->sc_flags & SFLAG_NAMEINARGS)) {
		base = strrchr(sc->sc_server, '/');
		sp->sp_argv[n++] = (char *)(uintptr_t)(base != NULL ?
		    base + 1 : sc->sc_server);
	}
	for (i = 0; i < sc->sc_server_args.wl_n; i++)
		sp->sp_argv[n++] = sc->sc_server_args.wl_words[i];
	sp->sp_argv[n] = NULL;
	return 0;
}

/* Everything the child of <rq> needs; NULL after logging. */
static const struct spawn_plan *
spawn_plan_make(const struct spawn_req *rq)
{
	const struct service_conf	*sc = rq->sq_conf;
	struct spawn_plan		*sp = &spawn_plan;
	char				 err[256];

	if (spawn_env_make(&sp->sp_env, sc->sc_spawn_env, rq->sq_addr,
	    rq->sq_port, rq->sq_country, rq->sq_extra_env) == -1 ||
	    spawn_argv(sc, sp) == -1) {
		log_warn("service %s: spawn", sc->sc_id);
		return NULL;
	}
	if (cred_groups(sc, &sp->sp_groups, err, sizeof(err)) == -1) {
		log_warnx("service %s: %s", sc->sc_id, err);
		return NULL;
	}
	return sp;
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
			spawn_child_fail(sc, "setrlimit", NULL, errno);
	}
}

/* The child: from fork to exec, system calls only. */
static void __attribute__((noreturn))
spawn_child(const struct spawn_req *rq, const struct spawn_plan *sp)
{
	const struct service_conf	*sc = rq->sq_conf;
	struct sigaction		 dfl;
	sigset_t			 set;
	const char			*what;
	int				 sig, fl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	(void)setsid();
	if (dup2(rq->sq_fd, STDIN_FILENO) == -1 ||
	    dup2(rq->sq_fd, STDOUT_FILENO) == -1 ||
	    dup2(rq->sq_fd, STDERR_FILENO) == -1)
		spawn_child_fail(sc, "dup2", NULL, errno);
	spawn_closefrom();
	if ((fl = fcntl(STDIN_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
	spawn_rlimits(sc);
	errno = 0;
	if (sc->sc_has_nice && nice(sc->sc_nice) == -1 && errno != 0)
		spawn_child_fail(sc, "nice", NULL, errno);
	if (sc->sc_umask != -1)
		(void)umask((mode_t)sc->sc_umask);
	if (cred_drop(sc, &sp->sp_groups, &what) == -1)
		spawn_child_fail(sc, what, NULL, errno);
	execve(sc->sc_server, sp->sp_argv, sp->sp_env.se_envp);
	spawn_child_fail(sc, "exec", sc->sc_server, errno);
}

/*
 * Start the child of <rq>: the parent gets its pid (or -1).  Apart so
 * that nothing of spawn_start() lives across the fork.
 */
static pid_t __attribute__((noinline))
spawn_fork(const struct spawn_req *rq, const struct spawn_plan *sp)
{
	pid_t	pid;

	if ((pid = vfork()) == 0)
		spawn_child(rq, sp);
	return pid;
}

pid_t
spawn_start(const struct spawn_req *rq)
{
	const struct spawn_plan	*sp;
	struct child		*ch;
	sigset_t		 all, old;
	pid_t			 pid;

	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("service %s: spawn", rq->sq_conf->sc_id);
		return -1;
	}
	if ((sp = spawn_plan_make(rq)) == NULL) {
		free(ch);
		return -1;
	}
	/*
	 * A signal between fork and the child's reset of its handlers would
	 * reach the daemon's handler in the child and be lost: block them
	 * all until the child has reset (spawn_child unblocks).
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	/* Counted before it runs: a worker asks before its client can. */
	if (spawn_count != NULL)
		shared_counter_add(spawn_count, 1);
	pid = spawn_fork(rq, sp);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_warn("service %s: fork", rq->sq_conf->sc_id);
		if (spawn_count != NULL)
			shared_counter_add(spawn_count, -1);
		free(ch);
		return -1;
	}
	ch->ch_pid = pid;
	ch->ch_exited = rq->sq_exited;
	ch->ch_arg = rq->sq_arg;
	RB_INSERT(child_tree, &children, ch);
	nchildren++;
	return pid;
}

/* Log one "PID ERRNO service ID: WHAT" line of a failed child. */
static void
spawn_log_error(const char *line)
{
	char	*end;
	long	 pid, err;

	pid = strtol(line, &end, 10);
	if (*end == ' ') {
		err = strtol(end + 1, &end, 10);
		if (*end == ' ' && err > 0 && err < 4096) {
			log_warnx("server pid %ld%s: %s", pid, end,
			    strerror((int)err));
			return;
		}
	}
	log_warnx("server pid %s", line);
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
			spawn_log_error(line);
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
		if ((ch = RB_FIND(child_tree, &children, &find)) == NULL) {
			if (spawn_other != NULL)
				spawn_other(spawn_other_arg, pid, status);
			continue;
		}
		RB_REMOVE(child_tree, &children, ch);
		nchildren--;
		if (spawn_count != NULL)
			shared_counter_add(spawn_count, -1);
		ch->ch_exited(ch->ch_arg, pid, status);
		free(ch);
	}
}

void
spawn_set_other(spawn_exit_cb cb, void *arg)
{
	spawn_other = cb;
	spawn_other_arg = arg;
}

void
spawn_signal_all(int sig)
{
	struct child	*ch;

	RB_FOREACH(ch, child_tree, &children)
		if (kill(-ch->ch_pid, sig) == -1)
			(void)kill(ch->ch_pid, sig);
}
