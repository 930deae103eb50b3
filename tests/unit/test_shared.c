/*
 * Unit tests for shared.c.  First without shared_init(): counters in
 * private memory, which a child's counts do not reach.  Then with the
 * shared mapping: add, sum and mine, never below zero, a take refused at
 * its limit, a child process counting in a row of its own (the parent
 * sees the sum; releasing the row takes its counts away), a freed cell not
 * handed out again while a row still counts in it, the rate over all
 * processes, and the rows 1 .. SHARED_ROWS - 1.  The cases run in order:
 * the private ones before shared_init().
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "shared.h"

/* Run <fn>(<c>, <arg>) in a child in row <row>; its exit status. */
static int
in_child(int row, int (*fn)(struct shared_counter *, int),
    struct shared_counter *c, int arg)
{
	pid_t	pid;
	int	status;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (row > 0)
			shared_row_set(row);
		_exit(fn(c, arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Add <n>; 0 if the child's own part and the sum say so. */
static int
child_add(struct shared_counter *c, int n)
{
	int	sum = shared_counter_sum(c), mine = shared_counter_mine(c);

	shared_counter_add(c, n);
	return shared_counter_mine(c) == mine + n &&
	    shared_counter_sum(c) == sum + n ? 0 : 1;
}

/* Take at the limit <limit>: once, then refused.  0 if so. */
static int
child_take(struct shared_counter *c, int limit)
{
	int	mine = shared_counter_mine(c);

	if (shared_counter_take(c, limit) != 0)
		return 1;
	if (shared_counter_take(c, limit) != -1)
		return 2;
	return shared_counter_mine(c) == mine + 1 ? 0 : 3;
}

/* Two arrivals at second 200 for a rate of 2: both within it. */
static int
child_arrive(struct shared_counter *c, int rate)
{
	return shared_rate_arrival(c, 200, rate, 5) == 0 &&
	    shared_rate_arrival(c, 200, rate, 5) == 0 ? 0 : 1;
}

/*
 * Without shared_init(): private memory, the same arithmetic, and a
 * child's counts stay its own.
 */
static void
test_private(void **state)
{
	struct shared_counter	*c;

	(void)state;
	assert_non_null(c = shared_counter_new());
	assert_int_equal(shared_counter_sum(c), 0);
	shared_counter_add(c, 3);
	assert_int_equal(shared_counter_sum(c), 3);
	assert_int_equal(shared_counter_mine(c), 3);
	shared_counter_add(c, -5);
	assert_int_equal(shared_counter_sum(c), 0);
	assert_int_equal(shared_counter_mine(c), 0);
	assert_int_equal(shared_counter_take(c, 2), 0);
	assert_int_equal(shared_counter_take(c, 2), 0);
	assert_int_equal(shared_counter_take(c, 2), -1);
	assert_int_equal(shared_counter_sum(c), 2);
	/* The child adds to its copy; this process does not see it. */
	assert_int_equal(in_child(0, child_add, c, 4), 0);
	assert_int_equal(shared_counter_sum(c), 2);
	assert_int_equal(shared_rate_arrival(c, 10, 1, 2), 0);
	assert_int_equal(shared_rate_arrival(c, 10, 1, 2), 1);
	assert_int_equal(shared_rate_blocked(c, 10), 2);
	/* No rows without the mapping: releasing one changes nothing. */
	shared_row_release(1);
	assert_int_equal(shared_counter_sum(c), 2);
	shared_counter_free(c);
	shared_counter_free(NULL);
}

static void
test_init(void **state)
{
	(void)state;
	assert_int_equal(shared_init(), 0);
	/* Once only: a second call keeps the mapping. */
	assert_int_equal(shared_init(), 0);
}

/* add, sum, mine; a count never goes below zero. */
static void
test_add(void **state)
{
	struct shared_counter	*c;

	(void)state;
	assert_non_null(c = shared_counter_new());
	assert_int_equal(shared_counter_sum(c), 0);
	shared_counter_add(c, 2);
	shared_counter_add(c, 3);
	assert_int_equal(shared_counter_sum(c), 5);
	assert_int_equal(shared_counter_mine(c), 5);
	shared_counter_add(c, -1);
	assert_int_equal(shared_counter_sum(c), 4);
	shared_counter_add(c, -10);
	assert_int_equal(shared_counter_sum(c), 0);
	assert_int_equal(shared_counter_mine(c), 0);
	shared_counter_add(c, 1);
	assert_int_equal(shared_counter_sum(c), 1);
	shared_counter_add(c, -1);
	shared_counter_free(c);
}

/* A take at the limit is refused; a slot given back can be taken. */
static void
test_take(void **state)
{
	struct shared_counter	*c;

	(void)state;
	assert_non_null(c = shared_counter_new());
	assert_int_equal(shared_counter_take(c, 3), 0);
	assert_int_equal(shared_counter_take(c, 3), 0);
	assert_int_equal(shared_counter_take(c, 3), 0);
	assert_int_equal(shared_counter_take(c, 3), -1);
	assert_int_equal(shared_counter_sum(c), 3);
	assert_int_equal(shared_counter_mine(c), 3);
	shared_counter_add(c, -1);
	assert_int_equal(shared_counter_take(c, 3), 0);
	assert_int_equal(shared_counter_take(c, 0), -1);
	shared_counter_add(c, -3);
	assert_int_equal(shared_counter_sum(c), 0);
	shared_counter_free(c);
}

/*
 * A child counts in its own row: the parent sees the sum but not as its
 * own; the limit holds over both; releasing the row subtracts it.
 */
static void
test_fork_rows(void **state)
{
	struct shared_counter	*c;
	int			 row;

	(void)state;
	assert_non_null(c = shared_counter_new());
	assert_true((row = shared_row_take()) > 0);
	shared_counter_add(c, 2);
	assert_int_equal(in_child(row, child_add, c, 4), 0);
	assert_int_equal(shared_counter_sum(c), 6);
	assert_int_equal(shared_counter_mine(c), 2);
	/* Limit 7: the child takes the last slot, then is refused. */
	assert_int_equal(in_child(row, child_take, c, 7), 0);
	assert_int_equal(shared_counter_sum(c), 7);
	assert_int_equal(shared_counter_take(c, 7), -1);
	/* The child's worker died: its 5 go. */
	shared_row_release(row);
	assert_int_equal(shared_counter_sum(c), 2);
	assert_int_equal(shared_counter_mine(c), 2);
	assert_int_equal(shared_counter_take(c, 3), 0);
	shared_counter_add(c, -3);
	assert_int_equal(shared_counter_sum(c), 0);
	shared_counter_free(c);
}

/* Take every free cell; the count, with <want> among them or not. */
static int
take_all(struct shared_counter **all, const struct shared_counter *want,
    int *found)
{
	int	n = 0;

	*found = 0;
	while ((all[n] = shared_counter_new()) != NULL) {
		*found |= all[n] == want;
		n++;
		assert_true(n <= SHARED_CELLS);
	}
	assert_int_equal(errno, ENOSPC);
	return n;
}

static void
free_all(struct shared_counter **all, int n)
{
	while (n-- > 0)
		shared_counter_free(all[n]);
}

/*
 * A cell freed while a draining worker still counts in it is not handed
 * out again until its row is released; then it is, at zero.
 */
static void
test_cell_not_reused(void **state)
{
	struct shared_counter	**all, *c;
	int			  row, n, m, found;

	(void)state;
	assert_non_null(all = calloc(SHARED_CELLS + 1, sizeof(*all)));
	assert_non_null(c = shared_counter_new());
	assert_true((row = shared_row_take()) > 0);
	assert_int_equal(in_child(row, child_add, c, 1), 0);
	shared_counter_free(c);
	n = take_all(all, c, &found);
	assert_false(found);
	free_all(all, n);
	shared_row_release(row);
	m = take_all(all, c, &found);
	assert_true(found);
	assert_int_equal(m, n + 1);
	assert_int_equal(shared_counter_sum(c), 0);
	free_all(all, m);
	free(all);
}

/*
 * Rate 2 a second, 3 seconds' wait: the third arrival of a second goes
 * over (1) and blocks; going over while blocked is 2; a new second counts
 * from zero; arrivals of a child count too.
 */
static void
test_rate(void **state)
{
	struct shared_counter	*c;

	(void)state;
	assert_non_null(c = shared_counter_new());
	assert_int_equal(shared_rate_blocked(c, 100), 0);
	assert_int_equal(shared_rate_arrival(c, 100, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 100, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 100, 2, 3), 1);
	assert_int_equal(shared_rate_blocked(c, 100), 3);
	assert_int_equal(shared_rate_blocked(c, 102), 1);
	assert_int_equal(shared_rate_blocked(c, 103), 0);
	/* Over again within the block: 2, and the block restarts. */
	assert_int_equal(shared_rate_arrival(c, 101, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 101, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 101, 2, 3), 2);
	assert_int_equal(shared_rate_blocked(c, 101), 3);
	/* A new second: the count starts again. */
	assert_int_equal(shared_rate_arrival(c, 102, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 102, 2, 3), 0);
	/* After the block, going over is 1 again. */
	assert_int_equal(shared_rate_arrival(c, 110, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 110, 2, 3), 0);
	assert_int_equal(shared_rate_arrival(c, 110, 2, 3), 1);
	/* Two arrivals of a child at second 200, then the parent's third. */
	assert_int_equal(in_child(0, child_arrive, c, 2), 0);
	assert_int_equal(shared_rate_arrival(c, 200, 2, 5), 1);
	assert_int_equal(shared_rate_blocked(c, 200), 5);
	shared_counter_free(c);
}

/*
 * Rows 1 .. SHARED_ROWS - 1 for workers (0 is the master's), then none;
 * a released row is handed out again.  Rows out of range are ignored.
 */
static void
test_rows(void **state)
{
	struct shared_counter	*c;
	int			 r, seen[SHARED_ROWS];

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (r = 1; r < SHARED_ROWS; r++) {
		int	got = shared_row_take();

		assert_true(got >= 1 && got < SHARED_ROWS);
		assert_false(seen[got]);
		seen[got] = 1;
	}
	assert_int_equal(shared_row_take(), -1);
	shared_row_release(17);
	assert_int_equal(shared_row_take(), 17);
	assert_int_equal(shared_row_take(), -1);
	for (r = 1; r < SHARED_ROWS; r++)
		shared_row_release(r);
	shared_row_release(0);
	shared_row_release(SHARED_ROWS);
	shared_row_release(-1);
	assert_int_equal(shared_row_take(), 1);
	shared_row_release(1);

	/* This process stays in row 0 when told of a row out of range. */
	assert_non_null(c = shared_counter_new());
	shared_row_set(0);
	shared_row_set(SHARED_ROWS);
	shared_counter_add(c, 1);
	assert_int_equal(shared_counter_mine(c), 1);
	/* Releasing row 0 would free the master's counts: ignored. */
	shared_row_release(0);
	assert_int_equal(shared_counter_sum(c), 1);
	shared_counter_add(c, -1);
	shared_counter_free(c);
}

int
main(void)
{
	/* In this order: test_private before shared_init(). */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_fork_rows),
		cmocka_unit_test(test_cell_not_reused),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rows),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
