/*
 * Unit tests of bans_sync.c: sets of bans (sorted, extended never
 * shortened, bounded), the diff that tells Redis what changed while
 * connected, and the reconciliation after a time cut off (every rule of
 * bans_int.h, one case each).
 */
#include <sys/types.h>

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

#include "bans_int.h"
#include "banstate.h"

#define NOW	((time_t)1800000000)

/* What the decisions asked for, as text: "push 10.0.0.1 0;" ... */
static char	ops[1024];

static struct srckey
key(const char *a)
{
	struct srckey	k;

	assert_int_equal(banstate_addr_parse(a, &k), 0);
	return k;
}

static void
put(struct bans_set *s, const char *a, time_t until)
{
	struct srckey	k = key(a);

	assert_int_equal(bans_set_put(s, &k, until), 0);
}

static void
op_cb(enum bans_op op, const struct srckey *k, time_t until, void *arg)
{
	static const char *const names[] = {
		[BANS_PUSH_BAN] = "push", [BANS_PUSH_UNBAN] = "unban",
		[BANS_APPLY_BAN] = "apply", [BANS_LIFT] = "lift"
	};
	char	a[BANSTATE_ADDR_MAX], one[96];

	(void)arg;
	(void)snprintf(one, sizeof(one), "%s %s %lld;", names[op],
	    banstate_addr(k, a, sizeof(a)),
	    until == 0 ? 0LL : (long long)(until - NOW));
	(void)strlcat(ops, one, sizeof(ops));
}

/* Sorted, each address once, extended never shortened, bounded. */
static void
test_set(void **state)
{
	struct bans_set	s;
	struct srckey	k = key("10.0.0.2");

	(void)state;
	bans_set_init(&s, 3);
	put(&s, "10.0.0.2", NOW + 5);
	put(&s, "10.0.0.1", NOW + 5);
	put(&s, "10.0.0.2", NOW + 1);
	assert_int_equal(s.bs_n, 2);
	assert_int_equal(bans_set_find(&s, &k)->be_until, NOW + 5);
	put(&s, "10.0.0.2", 0);
	put(&s, "10.0.0.2", NOW + 50);
	assert_int_equal(bans_set_find(&s, &k)->be_until, 0);
	assert_true(memcmp(&s.bs_v[0].be_key, &s.bs_v[1].be_key,
	    sizeof(k)) < 0);
	put(&s, "::1", NOW);
	k = key("::2");
	assert_int_equal(bans_set_put(&s, &k, NOW), -1);
	assert_int_equal(bans_set_del(&s, &k), 0);
	k = key("10.0.0.1");
	assert_int_equal(bans_set_del(&s, &k), 1);
	assert_null(bans_set_find(&s, &k));
	assert_int_equal(s.bs_n, 2);
	bans_set_clear(&s);
	assert_true(bans_later(0, NOW));
	assert_false(bans_later(NOW, 0));
	assert_false(bans_later(0, 0));
	assert_true(bans_later(NOW + 1, NOW));
}

/* Connected: new and longer bans pushed, lifts told, expiry not. */
static void
test_diff(void **state)
{
	struct bans_set	local, known;

	(void)state;
	bans_set_init(&local, 100);
	bans_set_init(&known, 100);
	put(&local, "10.0.0.1", NOW + 60);	/* new */
	put(&local, "10.0.0.2", NOW + 120);	/* longer */
	put(&known, "10.0.0.2", NOW + 60);
	put(&local, "10.0.0.3", NOW + 60);	/* the same */
	put(&known, "10.0.0.3", NOW + 60);
	put(&known, "10.0.0.4", 0);		/* lifted */
	put(&known, "10.0.0.5", NOW);		/* expired */
	ops[0] = '\0';
	bans_diff(&local, &known, NOW, op_cb, NULL);
	assert_string_equal(ops, "push 10.0.0.1 60;push 10.0.0.2 120;"
	    "unban 10.0.0.4 0;");
	bans_set_clear(&local);
	bans_set_clear(&known);
}

/* Back from a time cut off: every rule once. */
static void
test_reconcile(void **state)
{
	struct bans_set	local, known, remote, tombs;

	(void)state;
	bans_set_init(&local, 100);
	bans_set_init(&known, 100);
	bans_set_init(&remote, 100);
	bans_set_init(&tombs, 100);
	/* .1: another gate banned it meanwhile: applied. */
	put(&remote, "10.0.0.1", NOW + 60);
	/* .2: banned here meanwhile: pushed. */
	put(&local, "10.0.0.2", NOW + 60);
	/* .3: known, lifted elsewhere meanwhile (a trace): lifted here. */
	put(&local, "10.0.0.3", NOW + 60);
	put(&known, "10.0.0.3", NOW + 60);
	put(&tombs, "10.0.0.3", 0);
	/* .4: known, Redis lost it (no trace): pushed again. */
	put(&local, "10.0.0.4", 0);
	put(&known, "10.0.0.4", 0);
	/* .5: lifted here meanwhile: lifted in Redis, not applied. */
	put(&known, "10.0.0.5", NOW + 60);
	put(&remote, "10.0.0.5", NOW + 60);
	/* .6: lifted here, but banned again elsewhere for longer: applied. */
	put(&known, "10.0.0.6", NOW + 60);
	put(&remote, "10.0.0.6", NOW + 600);
	/* .7: longer here than in Redis: pushed; .8 longer there: applied. */
	put(&local, "10.0.0.7", NOW + 600);
	put(&remote, "10.0.0.7", NOW + 60);
	put(&local, "10.0.0.8", NOW + 60);
	put(&remote, "10.0.0.8", 0);
	/* .9: known and expired: nothing. */
	put(&known, "10.0.0.9", NOW - 1);
	ops[0] = '\0';
	bans_reconcile(&local, &known, &remote, &tombs, NOW, op_cb, NULL);
	assert_string_equal(ops,
	    "unban 10.0.0.5 60;"
	    "apply 10.0.0.1 60;apply 10.0.0.6 600;apply 10.0.0.8 0;"
	    "push 10.0.0.2 60;lift 10.0.0.3 60;push 10.0.0.4 0;"
	    "push 10.0.0.7 600;");
	bans_set_clear(&local);
	bans_set_clear(&known);
	bans_set_clear(&remote);
	bans_set_clear(&tombs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_reconcile),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
