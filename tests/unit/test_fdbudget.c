/*
 * Unit tests of fdbudget.c: the reserve sized from the limit, the two
 * classes (a quarter of the budget kept from UDP flows and pipes for TCP
 * sessions), take and release counted once, a session allowed while no
 * client holds anything, the daemon's own descriptors counted again on
 * demand, waiters woken from the loop once their need fits (and not
 * before, not twice, not after they stopped waiting), and the summary
 * line: one for a burst of events, not one per event.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include <event2/event.h>

#include "fdbudget.h"
#include "log.h"

/* Everything back to a budget of <limit> with <own> descriptors. */
static void
reset(long limit, int own)
{
	fdbudget_release(fdbudget_used());
	fdbudget_size(limit, own);
}

static int
setup(void **state)
{
	(void)state;
	reset(128, 14);
	return 0;
}

/* The reserve: limit / 16, at least 16, at most 256. */
static void
test_reserve(void **state)
{
	(void)state;
	fdbudget_size(128, 14);
	assert_int_equal(fdbudget_reserve(), 16);
	assert_int_equal(fdbudget_limit(), 128);
	fdbudget_size(1024, 14);
	assert_int_equal(fdbudget_reserve(), 64);
	fdbudget_size(65536, 14);
	assert_int_equal(fdbudget_reserve(), 256);
	fdbudget_size(0, 14);	/* unlimited */
	assert_int_equal(fdbudget_reserve(), 256);
	assert_true(fdbudget_limit() >= 65536);
}

/*
 * 128 - 16 reserved - 14 own = 98 for clients; flows and pipes stop
 * while a quarter of them (24) is left.
 */
static void
test_classes(void **state)
{
	(void)state;
	assert_int_equal(fdbudget_free(FDB_SESSION), 98);
	assert_int_equal(fdbudget_free(FDB_SPARE), 74);
	assert_int_equal(fdbudget_take(74, FDB_SPARE), 0);
	assert_int_equal(fdbudget_take(1, FDB_SPARE), -1);
	assert_int_equal(fdbudget_used(), 74);
	/* TCP sessions still have their quarter... */
	assert_true(fdbudget_can(2, FDB_SESSION));
	assert_int_equal(fdbudget_take(24, FDB_SESSION), 0);
	/* ...down to the reserve, not into it. */
	assert_false(fdbudget_can(1, FDB_SESSION));
	assert_int_equal(fdbudget_take(1, FDB_SESSION), -1);
	assert_int_equal(fdbudget_used(), 98);
	fdbudget_release(2);
	assert_true(fdbudget_can(2, FDB_SESSION));
	assert_false(fdbudget_can(3, FDB_SESSION));
}

/* A charge goes through whatever is left, and is given back whole. */
static void
test_charge(void **state)
{
	(void)state;
	fdbudget_charge(100);
	assert_int_equal(fdbudget_used(), 100);
	assert_int_equal(fdbudget_free(FDB_SESSION), -2);
	fdbudget_release(100);
	assert_int_equal(fdbudget_used(), 0);
	/* Giving back more than was taken does not go negative. */
	fdbudget_release(1);
	assert_int_equal(fdbudget_used(), 0);
}

/*
 * A limit too small for any budget still lets a TCP session try while no
 * client holds a descriptor (nothing would ever wake it); flows never.
 */
static void
test_tiny_limit(void **state)
{
	(void)state;
	reset(24, 14);
	assert_true(fdbudget_free(FDB_SESSION) <= 0);
	assert_true(fdbudget_can(2, FDB_SESSION));
	assert_false(fdbudget_can(1, FDB_SPARE));
	fdbudget_charge(2);
	assert_false(fdbudget_can(2, FDB_SESSION));
	fdbudget_release(2);
}

/* recount: the daemon's own descriptors are counted again, once. */
static void
test_recount(void **state)
{
	int	fds[5], before, i;

	(void)state;
	fdbudget_recount();
	before = fdbudget_own();
	for (i = 0; i < 5; i++)
		assert_true((fds[i] = open("/dev/null", O_RDONLY)) >= 0);
	assert_int_equal(fdbudget_own(), before);	/* not yet told */
	fdbudget_recount();
	assert_int_equal(fdbudget_own(), before + 5);
	/* Charged descriptors are the clients', not the daemon's. */
	fdbudget_charge(3);
	fdbudget_recount();
	assert_int_equal(fdbudget_own(), before + 2);
	fdbudget_release(3);
	for (i = 0; i < 5; i++)
		(void)close(fds[i]);
}

static int	woken;

static void
wake_cb(void *arg)
{
	(void)arg;
	woken++;
}

/* A callback that waits again at once: woken once per release. */
static void
rewait_cb(void *arg)
{
	woken++;
	fdbudget_wait(arg, 1, rewait_cb, arg);
}

/* Waiters are called from the loop once what they need is free. */
static void
test_wait(void **state)
{
	struct event_base	*base;
	struct fdbudget_waiter	 a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_non_null(base = event_base_new());
	assert_int_equal(fdbudget_init(base), 0);
	reset(128, 14);
	woken = 0;
	fdbudget_charge(98);
	fdbudget_wait(&a, 2, wake_cb, NULL);
	fdbudget_release(1);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 0);		/* 1 free, 2 needed */
	fdbudget_release(1);
	assert_int_equal(woken, 0);		/* not from the release */
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 1);
	fdbudget_release(2);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 1);		/* once per wait */

	/* One that stopped waiting is not called. */
	fdbudget_charge(4);
	fdbudget_wait(&a, 1, wake_cb, NULL);
	fdbudget_unwait(&a);
	fdbudget_release(1);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 1);

	/* Waiting again from the callback waits for the next release. */
	fdbudget_wait(&b, 1, rewait_cb, &b);
	fdbudget_release(1);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 2);
	fdbudget_release(1);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(woken, 3);
	fdbudget_unwait(&b);
	fdbudget_shutdown();
	event_base_free(base);
}

/* 1,000 evictions in a burst make one line, not 1,000. */
static void
test_summary(void **state)
{
	struct event_base	*base;
	char			 path[] = "/tmp/test_fdbudget.XXXXXX", buf[4096];
	ssize_t			 n;
	int			 fd, i, lines = 0;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(log_init(1, LOG_DAEMON, path), 0);
	assert_non_null(base = event_base_new());
	assert_int_equal(fdbudget_init(base), 0);
	for (i = 0; i < 1000; i++)
		fdbudget_note(FDB_EVICTED);
	assert_int_equal(log_init(1, LOG_DAEMON, NULL), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 1);
	assert_non_null(strstr(buf, "descriptors short: UDP flows evicted 1 "));
	fdbudget_shutdown();
	event_base_free(base);
	(void)close(fd);
	(void)unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reserve, setup),
		cmocka_unit_test_setup(test_classes, setup),
		cmocka_unit_test_setup(test_charge, setup),
		cmocka_unit_test_setup(test_tiny_limit, setup),
		cmocka_unit_test_setup(test_recount, setup),
		cmocka_unit_test_setup(test_wait, setup),
		cmocka_unit_test_setup(test_summary, setup),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
