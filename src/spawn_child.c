/*
 * The spawned child from clone (or vfork) to exec.  It shares the parent's
 * memory, errno included, while the parent runs on, so it makes only the
 * kernel's own calls (rawsys.h) and reads only its job (spawn_job.h).  It
 * resets its signals, becomes a session leader, puts the socket on 0, 1
 * and 2, closes every other descriptor, applies limits, nice and umask,
 * drops privileges (cred_drop()) and execs the server without a shell.
 * What fails is written to the parent's error pipe, then it exits 127.
 *
 * Not instrumented by AddressSanitizer: its stack is not a thread's that
 * the sanitizer knows, and it never returns to clean what it would mark.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>

#include "rawsys.h"
#include "spawn_job.h"

#define SPAWN_NO_ASAN	__attribute__((no_sanitize_address))

/* The kernel's signal numbers and sigset size (not glibc's sigset_t). */
#define SPAWN_NSIG	64
#define SPAWN_SIGSETSZ	8

static const int	spawn_rlimit_res[CRL_COUNT] = {
	RLIMIT_AS, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_RSS, RLIMIT_STACK,
	RLIMIT_NOFILE
};

/* Append the decimal <v> at <p>; the end. */
static SPAWN_NO_ASAN char *
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
static SPAWN_NO_ASAN char *
spawn_put_str(char *p, const char *s, size_t max)
{
	while (max-- > 0 && *s != '\0')
		*p++ = *s++;
	return p;
}

/* Report "PID ERRNO service ID: WHAT [ARG]" to the parent, exit 127. */
static SPAWN_NO_ASAN void __attribute__((noreturn))
spawn_child_fail(const struct spawn_job *j, const char *what,
    const char *arg, int err)
{
	char	msg[640], *p = msg;	/* room for all the parts below */

	p = spawn_put_num(p, rawsys0(SYS_getpid));
	*p++ = ' ';
	p = spawn_put_num(p, err);
	p = spawn_put_str(p, " service ", 16);
	p = spawn_put_str(p, j->sj_id, sizeof(j->sj_id));
	p = spawn_put_str(p, ": ", 2);
	p = spawn_put_str(p, what, 64);
	if (arg != NULL) {
		*p++ = ' ';
		p = spawn_put_str(p, arg, 256);
	}
	*p++ = '\n';
	/* A failed report leaves the exit status. */
	(void)rawsys3(SYS_write, j->sj_errfd, msg, p - msg);
	for (;;)
		(void)rawsys1(SYS_exit_group, 127);
}

/* Default handlers, then no signal blocked (the parent blocked them all). */
static SPAWN_NO_ASAN void
spawn_child_signals(void)
{
	unsigned long	act[8] = { 0 };	/* SIG_DFL, no flags, empty mask */
	unsigned long	mask = 0;
	int		sig;

	for (sig = 1; sig <= SPAWN_NSIG; sig++)
		(void)rawsys4(SYS_rt_sigaction, sig, act, NULL,
		    SPAWN_SIGSETSZ);
	(void)rawsys4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL,
	    SPAWN_SIGSETSZ);
}

/* The socket on 0, 1 and 2, blocking; every other descriptor closed. */
static SPAWN_NO_ASAN void
spawn_child_fds(const struct spawn_job *j)
{
	long	r;
	int	fd;

	for (fd = 0; fd <= 2; fd++) {
		r = fd == j->sj_fd ? rawsys3(SYS_fcntl, fd, F_SETFD, 0) :
		    rawsys3(SYS_dup3, j->sj_fd, fd, 0);
		if (r < 0)
			spawn_child_fail(j, "dup2", NULL, RAWSYS_ERR(r));
	}
	/* The error pipe stays open until the exec closes it. */
	r = -1;
#ifdef SYS_close_range
	r = 0;
	if (j->sj_errfd > 3)
		r = rawsys3(SYS_close_range, 3, j->sj_errfd - 1, 0);
	if (r == 0)
		r = rawsys3(SYS_close_range, j->sj_errfd + 1, ~0U, 0);
#endif
	if (r < 0)
		for (fd = 3; fd < 65536; fd++)
			if (fd != j->sj_errfd)
				(void)rawsys1(SYS_close, fd);
	if ((r = rawsys2(SYS_fcntl, 0, F_GETFL)) >= 0)
		(void)rawsys3(SYS_fcntl, 0, F_SETFL, r & ~O_NONBLOCK);
}

/* Resource limits, nice and umask of the service. */
static SPAWN_NO_ASAN void
spawn_child_limits(const struct spawn_job *j)
{
	struct {
		uint64_t	cur, max;
	}	rl;
	long	r;
	int	i;

	for (i = 0; i < CRL_COUNT; i++) {
		if (!(j->sj_rlimit_set & (1u << i)))
			continue;
		rl.cur = rl.max = (uint64_t)j->sj_rlimit[i];
		if ((r = rawsys4(SYS_prlimit64, 0, spawn_rlimit_res[i], &rl,
		    NULL)) < 0)
			spawn_child_fail(j, "setrlimit", NULL, RAWSYS_ERR(r));
	}
	if (j->sj_has_nice) {
		/* The kernel's getpriority() answers 20 - nice. */
		if ((r = rawsys2(SYS_getpriority, PRIO_PROCESS, 0)) >= 0)
			r = rawsys3(SYS_setpriority, PRIO_PROCESS, 0,
			    20 - r + j->sj_nice);
		if (r < 0)
			spawn_child_fail(j, "nice", NULL, RAWSYS_ERR(r));
	}
	if (j->sj_umask != -1)
		(void)rawsys1(SYS_umask, j->sj_umask);
}

SPAWN_NO_ASAN int
spawn_child_main(void *arg)
{
	const struct spawn_job	*j = arg;
	const char		*what;
	long			 r;
	int			 err;

	spawn_child_signals();
	(void)rawsys0(SYS_setsid);
	spawn_child_fds(j);
	spawn_child_limits(j);
	if ((err = cred_drop(&j->sj_cred, &what)) != 0)
		spawn_child_fail(j, what, NULL, err);
	r = rawsys3(SYS_execve, j->sj_path, j->sj_argv, j->sj_envp);
	spawn_child_fail(j, "exec", j->sj_path, RAWSYS_ERR(r));
}
