/*
 * Helpers of the sandbox tests (sandbox_child.h).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "sandbox.h"
#include "sandbox_child.h"

char		sbtest_root[] = "/tmp/test_sandbox.XXXXXX";
struct passwd	sbtest_nobody;

int
sbtest_setup(void **state)
{
	struct passwd	*pw;

	(void)state;
	/* 0755, as the real one: the worker may look, and find nothing. */
	if (mkdtemp(sbtest_root) == NULL || chmod(sbtest_root, 0755) == -1)
		return -1;
	if ((pw = getpwnam("nobody")) == NULL)
		return -1;
	sbtest_nobody = *pw;
	return 0;
}

int
sbtest_teardown(void **state)
{
	(void)state;
	return rmdir(sbtest_root);
}

void
sbtest_need_root(void)
{
	if (geteuid() != 0)
		TEST_SKIP();
}

void
sbtest_confine(void)
{
	struct sandbox_conf	sb = { .sb_user = "nobody",
	    .sb_root = sbtest_root };

	(void)alarm(SBTEST_SECS);
	sandbox_worker(&sb);
}

int
sbtest_run(sbtest_fn fn, void *arg)
{
	pid_t	pid;
	int	status;

	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		sbtest_confine();
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

void
sbtest_exit0(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}
