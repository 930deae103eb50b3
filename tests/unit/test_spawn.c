/*
 * Unit tests for spawn.c, spawn_job.c and spawn_child.c: the child that
 * starts without the parent waiting for its exec.  It shares the parent's
 * memory until then, so each case checks what a careless child would
 * break: every child reads its own job even when many are started at
 * once (one plan shared by all would hand a later client's variables to
 * an earlier server), a failing child leaves the parent's errno alone
 * (glibc's wrappers would write it), every job is freed once its child
 * has exec'd or died, and a clone the kernel refuses leaves nothing
 * counted.  The servers are /bin/sh one-liners on a
 * socketpair; SIGCHLD is blocked and waited for with a deadline.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "config.h"
#include "spawn.h"
#include "spawn_job.h"

#define W(s)		((char *)(uintptr_t)(s))
#define NCHILD		32
#define BIG		100000	/* bytes of one variable: past the pooled size */

struct reaped {
	int	r_done;
	pid_t	r_pid;
	int	r_status;
};

static char	*base_env[] = { W("PATH=/usr/bin:/bin"), NULL };

static void
exited(void *arg, pid_t pid, int status)
{
	struct reaped	*r = arg;

	r->r_done++;
	r->r_pid = pid;
	r->r_status = status;
}

/* A service that runs "/bin/sh -c <script>" (or <server> if not NULL). */
static void
service(struct service_conf *sc, const char *server, const char *script,
    char **words)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_id = W("test");
	sc->sc_server = W(server != NULL ? server : "/bin/sh");
	words[0] = W("-c");
	words[1] = W(script);
	words[2] = NULL;
	sc->sc_server_args.wl_words = words;
	sc->sc_server_args.wl_n = 2;
	sc->sc_spawn_env = base_env;
	sc->sc_umask = -1;
}

/* A request for <sc> on a new socketpair <sp> (the child gets sp[1]). */
static void
request(struct spawn_req *rq, struct service_conf *sc, int *sp,
    struct reaped *r)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sp), 0);
	memset(rq, 0, sizeof(*rq));
	memset(r, 0, sizeof(*r));
	rq->sq_conf = sc;
	rq->sq_fd = sp[1];
	rq->sq_exited = exited;
	rq->sq_arg = r;
}

/* Wait (at most 10 s) until every one of <r>[<n>] is reaped. */
static void
reap_all(struct reaped *r, int n)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	sigset_t	 chld;
	time_t		 end = time(NULL) + 10;
	int		 i, left;

	(void)sigemptyset(&chld);
	(void)sigaddset(&chld, SIGCHLD);
	for (;;) {
		spawn_reap();
		for (i = left = 0; i < n; i++)
			left += r[i].r_done == 0;
		if (left == 0)
			return;
		assert_true(time(NULL) < end);
		(void)sigtimedwait(&chld, NULL, &ts);
	}
}

/* Read <fd> to EOF (at most <len> - 1 bytes, 10 s) into <buf>. */
static void
read_all(int fd, char *buf, size_t len)
{
	struct timeval	tv = { 10, 0 };
	size_t		off = 0;
	ssize_t		n;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	while (off < len - 1 &&
	    (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
}

/* NCHILD servers at once, each with its own REMOTE_PORT. */
static void
test_each_child_its_own_job(void **state)
{
	struct service_conf	sc;
	struct spawn_req	rq;
	struct reaped		r[NCHILD];
	char			*words[3], buf[64], want[16];
	int			sp[NCHILD][2], i;

	(void)state;
	service(&sc, NULL, "echo \"$REMOTE_HOST $REMOTE_PORT $0\"", words);
	for (i = 0; i < NCHILD; i++) {
		request(&rq, &sc, sp[i], &r[i]);
		rq.sq_addr = "192.0.2.7";
		rq.sq_port = 1000 + i;
		assert_true(spawn_start(&rq) > 0);
		/* The parent's copy goes at once, as the daemon's does. */
		assert_int_equal(close(sp[i][1]), 0);
	}
	for (i = 0; i < NCHILD; i++) {
		read_all(sp[i][0], buf, sizeof(buf));
		(void)snprintf(want, sizeof(want), "%d", 1000 + i);
		assert_non_null(strstr(buf, "192.0.2.7 "));
		assert_non_null(strstr(buf, want));
		assert_non_null(strstr(buf, " sh\n"));	/* argv[0] */
		assert_int_equal(close(sp[i][0]), 0);
	}
	reap_all(r, NCHILD);
	for (i = 0; i < NCHILD; i++) {
		assert_int_equal(r[i].r_done, 1);
		assert_true(WIFEXITED(r[i].r_status));
		assert_int_equal(WEXITSTATUS(r[i].r_status), 0);
	}
	assert_int_equal(spawn_running(), 0);
	spawn_job_sweep();
	assert_int_equal(spawn_job_parked(), 0);
}

/* A child whose exec fails exits 127 and leaves the parent's errno. */
static void
test_failure_leaves_errno(void **state)
{
	struct service_conf	sc;
	struct spawn_req	rq;
	struct reaped		r;
	char			*words[3], buf[16];
	int			sp[2], seen;

	(void)state;
	service(&sc, "/nonexistent/portgate-test-server", "x", words);
	sc.sc_has_nice = 1;
	sc.sc_nice = 1;
	request(&rq, &sc, sp, &r);
	errno = 4242;
	assert_true(spawn_start(&rq) > 0);
	assert_int_equal(close(sp[1]), 0);
	/*
	 * EOF: the child made its failing calls (sigaction of SIGKILL,
	 * execve) and exited; nothing of the parent's own failed meanwhile.
	 */
	read_all(sp[0], buf, sizeof(buf));
	assert_string_equal(buf, "");
	seen = errno;
	reap_all(&r, 1);
	assert_int_equal(seen, 4242);
	assert_true(WIFEXITED(r.r_status));
	assert_int_equal(WEXITSTATUS(r.r_status), 127);
	(void)close(sp[0]);
}

/* An environment too big for a pooled mapping gets one of its own. */
static void
test_big_environment(void **state)
{
	struct service_conf	 sc;
	struct spawn_req	 rq;
	struct reaped		 r;
	char			*words[3], *extra[2], *big, buf[64];
	int			 sp[2];

	(void)state;
	service(&sc, NULL, "echo ${#BIG}", words);
	assert_non_null(big = malloc(BIG + 5));
	memcpy(big, "BIG=", 4);
	memset(big + 4, 'x', BIG);
	big[BIG + 4] = '\0';
	extra[0] = big;
	extra[1] = NULL;
	request(&rq, &sc, sp, &r);
	rq.sq_extra_env = extra;
	assert_true(spawn_start(&rq) > 0);
	free(big);	/* the job has its own copy */
	assert_int_equal(close(sp[1]), 0);
	read_all(sp[0], buf, sizeof(buf));
	assert_string_equal(buf, "100000\n");
	reap_all(&r, 1);
	assert_int_equal(WEXITSTATUS(r.r_status), 0);
	spawn_job_sweep();
	assert_int_equal(spawn_job_parked(), 0);
	(void)close(sp[0]);
}

/* A refused clone (RLIMIT_NPROC of a user): -1, nothing counted or kept. */
static void
test_clone_refused(void **state)
{
	struct service_conf	 sc;
	struct spawn_req	 rq;
	struct reaped		 r;
	struct rlimit		 rl;
	char			*words[3];
	pid_t			 pid;
	int			 sp[2], st, ok;

	(void)state;
	if (geteuid() != 0)
		TEST_SKIP();	/* root only: become a user with no process left */
	service(&sc, NULL, "exit 0", words);
	request(&rq, &sc, sp, &r);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (getrlimit(RLIMIT_NPROC, &rl) == -1)
			exit(2);
		rl.rlim_cur = 0;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1 ||
		    setgid(65534) == -1 || setuid(65534) == -1)
			exit(2);
		ok = spawn_start(&rq) == -1 && spawn_running() == 0 &&
		    spawn_job_parked() == 0;
		/* Room again for LeakSanitizer's own thread at exit. */
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			exit(3);
		exit(ok ? 0 : 1);	/* exit(): the coverage counters too */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	(void)close(sp[0]);
	(void)close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_child_its_own_job),
		cmocka_unit_test(test_failure_leaves_errno),
		cmocka_unit_test(test_big_environment),
		cmocka_unit_test(test_clone_refused),
	};
	sigset_t	chld;

	(void)sigemptyset(&chld);
	(void)sigaddset(&chld, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &chld, NULL);
	if (spawn_init(0) == -1)
		return 1;
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
