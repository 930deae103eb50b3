/*
 * Unit tests of failrate.c: one FAIL record per address (whatever the
 * port) and service a minute, the daemon-wide rate with its burst and
 * refill, the counts of what was left out, and the bounded table that
 * forgets its oldest entries under a flood of addresses.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "failrate.h"
#include "quota.h"
#include "unit_util.h"

#define T0	((time_t)1704110400)	/* Mon 2024-01-01 12:00 UTC */

/* The full-address key of numeric <addr> with <port>. */
static struct srckey
key(const char *addr, uint16_t port)
{
	struct sockaddr_storage	ss;
	struct srckey		k;

	quota_key(NULL, unit_sockaddr(&ss, addr, port), &k);
	return k;
}

/* The key of IPv4 address 10.x.y.z for number <n>. */
static struct srckey
key_n(unsigned n)
{
	char	addr[32];

	(void)snprintf(addr, sizeof(addr), "10.%u.%u.%u", (n >> 16) & 0xff,
	    (n >> 8) & 0xff, n & 0xff);
	return key(addr, 0);
}

static int
teardown(void **state)
{
	struct fail_seen	**tab = *state;

	free(tab[0]);
	free(tab[1]);
	free(tab);
	failrate_shutdown();
	return 0;
}

static int
setup(void **state)
{
	if ((*state = calloc(2, sizeof(struct fail_seen *))) == NULL)
		return -1;
	failrate_shutdown();
	return 0;
}

/* A repeat of an address within a minute is left out, on any port. */
static void
test_per_address(void **state)
{
	struct fail_seen	**tab = *state;
	struct srckey		  a = key("127.0.0.2", 40000);
	struct srckey		  a2 = key("127.0.0.2", 40001);
	struct srckey		  b = key("::1", 40000);
	uint64_t		  rep, lim;
	double			  t = (double)T0;

	/* quota_key() keeps no port: the same sender. */
	assert_memory_equal(&a, &a2, sizeof(a));
	assert_int_equal(failrate_take(&tab[0], &a, T0, t), FAILRATE_LOG);
	assert_non_null(tab[0]);
	assert_int_equal(failrate_take(&tab[0], &a2, T0, t), FAILRATE_REPEATED);
	assert_int_equal(failrate_take(&tab[0], &a, T0 + FAILRATE_REPEAT_SECS -
	    1, t + 1), FAILRATE_REPEATED);
	assert_int_equal(failrate_take(&tab[0], &b, T0, t), FAILRATE_LOG);
	/* Another service has its own table. */
	assert_int_equal(failrate_take(&tab[1], &a, T0, t), FAILRATE_LOG);
	/* A minute later the address is recorded again. */
	assert_int_equal(failrate_take(&tab[0], &a, T0 + FAILRATE_REPEAT_SECS,
	    t + FAILRATE_REPEAT_SECS), FAILRATE_LOG);
	/* A clock set back does not silence it for ever. */
	assert_int_equal(failrate_take(&tab[0], &b, T0 - 3600, t + 61),
	    FAILRATE_LOG);
	failrate_counts(&rep, &lim);
	assert_int_equal(rep, 2);
	assert_int_equal(lim, 0);
	failrate_counts(&rep, &lim);
	assert_int_equal(rep + lim, 0);
}

/*
 * FAILRATE_BURST records at once across the daemon, then FAILRATE_RATE
 * a second; an address left out by the rate is recorded when it comes
 * back with a token available.
 */
static void
test_rate(void **state)
{
	struct fail_seen	**tab = *state;
	struct srckey		  k;
	uint64_t		  rep, lim;
	double			  t = (double)T0;
	unsigned		  i, logged = 0;

	for (i = 0; i < 100; i++) {
		k = key_n(i);
		if (failrate_take(&tab[i % 2], &k, T0, t) == FAILRATE_LOG)
			logged++;
	}
	assert_int_equal(logged, FAILRATE_BURST);
	failrate_counts(&rep, &lim);
	assert_int_equal(rep, 0);
	assert_int_equal(lim, 100 - FAILRATE_BURST);
	/* The last address was left out: not silenced, but no token yet. */
	k = key_n(99);
	assert_int_equal(failrate_take(&tab[1], &k, T0, t), FAILRATE_LIMITED);
	/* One second refills FAILRATE_RATE tokens. */
	for (i = 0, logged = 0; i < 100; i++) {
		k = key_n(1000 + i);
		if (failrate_take(&tab[0], &k, T0 + 1, t + 1) == FAILRATE_LOG)
			logged++;
	}
	assert_int_equal(logged, FAILRATE_RATE);
	/* And a long pause no more than the burst. */
	for (i = 0, logged = 0; i < 100; i++) {
		k = key_n(2000 + i);
		if (failrate_take(&tab[0], &k, T0 + 30, t + 30) == FAILRATE_LOG)
			logged++;
	}
	assert_int_equal(logged, FAILRATE_BURST);
	k = key_n(99);
	assert_int_equal(failrate_take(&tab[1], &k, T0 + 31, t + 31),
	    FAILRATE_LOG);
}

/*
 * A flood of addresses fills the fixed table, which forgets the oldest:
 * an address recorded before the flood is recorded again, one recorded
 * after it is still known.
 */
static void
test_table_bounded(void **state)
{
	struct fail_seen	**tab = *state;
	struct srckey		  old = key("192.0.2.1", 0);
	struct srckey		  young = key("192.0.2.2", 0);
	struct srckey		  k;
	unsigned		  i, known = 0;

	assert_int_equal(failrate_seen(&tab[0], &old, T0, 1), 0);
	assert_int_equal(failrate_seen(&tab[0], &old, T0 + 1, 0), 1);
	/* Far more addresses than the table holds, later than <old>. */
	for (i = 0; i < 64 * FAILRATE_SETS * FAILRATE_WAYS; i++) {
		k = key_n(i);
		assert_int_equal(failrate_seen(&tab[0], &k, T0 + 2, 1), 0);
	}
	assert_int_equal(failrate_seen(&tab[0], &young, T0 + 3, 1), 0);
	assert_int_equal(failrate_seen(&tab[0], &old, T0 + 4, 0), 0);
	assert_int_equal(failrate_seen(&tab[0], &young, T0 + 4, 0), 1);
	/* No more than the table's size remain known. */
	for (i = 0; i < 64 * FAILRATE_SETS * FAILRATE_WAYS; i++) {
		k = key_n(i);
		known += failrate_seen(&tab[0], &k, T0 + 4, 0) == 1;
	}
	assert_true(known > 0);
	assert_true(known < FAILRATE_SETS * FAILRATE_WAYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_bounded, setup,
		    teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
