/*
 * Unit tests of quota.c: the cps window and its block, running and
 * per-source counts taken and given back once, source keys (IPv4 /32,
 * IPv6 per_source_prefix6, IPv4-mapped as IPv4), token buckets (refill,
 * burst, datagrams, the default of dgram built-ins), the bounded source
 * table (least recently idle source evicted, busy ones never, a full
 * table of busy sources refusing) and the global deny list (minutes,
 * forever, expiry, extension, capacity; the master's calls: a ban until a
 * time, lifting one, walking the list, the change counter).
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

#include "config.h"
#include "quota.h"
#include "unit_util.h"

#define T0	((time_t)1704110400)	/* Mon 2024-01-01 12:00 UTC */

/* A service with no limit set, per_source_prefix6 at its default. */
static int
setup(void **state)
{
	struct unit_fx	*fx;

	if ((fx = unit_fx_new()) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct unit_fx	*fx = *state;

	quota_free(fx->li);
	quota_deny_clear();
	free(fx);
	return 0;
}

/* The key of numeric <addr> for <sc> (NULL: the full address). */
static struct srckey
key(const struct service_conf *sc, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct srckey		 k;

	quota_key(sc, unit_sockaddr(&ss, addr, 0), &k);
	return k;
}

/* The key of IPv4 address 10.x.y.z for number <n>. */
static struct srckey
key_n(const struct service_conf *sc, unsigned n)
{
	char	addr[32];

	(void)snprintf(addr, sizeof(addr), "10.%u.%u.%u", (n >> 16) & 0xff,
	    (n >> 8) & 0xff, n & 0xff);
	return key(sc, addr);
}

static int
same(struct srckey a, struct srckey b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* cps: more than <rate> arrivals in one second trips it for <wait> s. */
static void
test_cps_window(void **state)
{
	struct unit_fx	*fx = *state;
	int		 i;

	fx->sc.sc_cps_rate = 3;
	fx->sc.sc_cps_wait = 5;
	assert_int_equal(quota_cps_blocked(fx->li, T0), 0);
	/* Three a second for a while is within the rate. */
	for (i = 0; i < 30; i++) {
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + i), 0);
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + i), 0);
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + i), 0);
	}
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 30), 0);
	/* The fourth in one second trips it. */
	for (i = 0; i < 3; i++)
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 40),
		    0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 40), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 40), 5);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 44), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 45), 0);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 1000), 0);
}

/* Arrivals while blocked keep counting: a flood keeps the service off. */
static void
test_cps_block_extends(void **state)
{
	struct unit_fx	*fx = *state;
	int		 i;

	fx->sc.sc_cps_rate = 2;
	fx->sc.sc_cps_wait = 2;
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0), 2);
	/* Two a second during the block: it ends on time. */
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 1), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 1), 0);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 2), 0);
	/* Three in a second again: blocked anew from then. */
	for (i = 0; i < 2; i++)
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 3), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 3), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 4), 1);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 4), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 4), 0);
	/* Tripped while still blocked: an extension, not a new block. */
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0 + 4), 2);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 5), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0 + 6), 0);
}

/* cps rate 0 is off: nothing trips it. */
static void
test_cps_off(void **state)
{
	struct unit_fx	*fx = *state;
	int		 i;

	fx->sc.sc_cps_rate = 0;
	fx->sc.sc_cps_wait = 10;
	for (i = 0; i < 10000; i++)
		assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	assert_int_equal(quota_cps_blocked(fx->li, T0), 0);
}

/* Each service has its own window. */
static void
test_cps_per_quota(void **state)
{
	struct unit_fx	*fx = *state;
	struct quota	*other;

	assert_non_null(other = quota_new());
	fx->sc.sc_cps_rate = 1;
	fx->sc.sc_cps_wait = 3;
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 1);
	assert_int_equal(quota_cps_blocked(fx->li, T0), 3);
	assert_int_equal(quota_cps_blocked(other, T0), 0);
	assert_int_equal(quota_cps_arrival(other, &fx->sc, T0), 0);
	quota_free(other);
}

/* Running and per-source counts up to the limits and back to zero. */
static void
test_take_release(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a = key(&fx->sc, "127.0.0.2");
	struct srckey	 b = key(&fx->sc, "127.0.0.3");
	int		 i;

	fx->sc.sc_instances = 5;
	fx->sc.sc_per_source = 3;
	assert_int_equal(quota_running(fx->li), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(quota_take(fx->li, &fx->sc, &a, T0), 0);
		assert_int_equal(quota_running(fx->li), i);
		assert_int_equal(quota_source_count(fx->li, &a), i);
	}
	for (i = 1; i <= 2; i++) {
		assert_int_equal(quota_take(fx->li, &fx->sc, &b, T0), 0);
		assert_int_equal(quota_source_count(fx->li, &b), i);
	}
	assert_int_equal(quota_running(fx->li), 5);
	assert_int_equal(quota_source_count(fx->li, &a), 3);

	quota_release(fx->li, &a);
	assert_int_equal(quota_running(fx->li), 4);
	assert_int_equal(quota_source_count(fx->li, &a), 2);
	assert_int_equal(quota_source_count(fx->li, &b), 2);
	quota_release(fx->li, &a);
	quota_release(fx->li, &a);
	quota_release(fx->li, &b);
	quota_release(fx->li, &b);
	assert_int_equal(quota_running(fx->li), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 0);
	assert_int_equal(quota_source_count(fx->li, &b), 0);

	/* Counts do not depend on the limits being set. */
	fx->sc.sc_instances = LIMIT_UNLIMITED;
	fx->sc.sc_per_source = LIMIT_UNLIMITED;
	assert_int_equal(quota_take(fx->li, &fx->sc, &a, T0), 0);
	assert_int_equal(quota_running(fx->li), 1);
	assert_int_equal(quota_source_count(fx->li, &a), 1);
	quota_release(fx->li, &a);
	assert_int_equal(quota_running(fx->li), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 0);
}

/* Source keys: IPv4 /32, IPv6 by per_source_prefix6, mapped as IPv4. */
static void
test_keys(void **state)
{
	struct unit_fx	*fx = *state;
	struct service_conf *sc = &fx->sc;

	assert_false(same(key(sc, "127.0.0.2"), key(sc, "127.0.0.3")));
	assert_true(same(key(sc, "127.0.0.2"), key(sc, "::ffff:127.0.0.2")));
	assert_true(same(key(NULL, "127.0.0.2"), key(sc, "127.0.0.2")));
	/* An IPv4 key never meets an IPv6 one. */
	assert_false(same(key(sc, "0.0.0.0"), key(sc, "::")));

	/* /64 by default. */
	assert_true(same(key(sc, "2001:db8:1:2::1"),
	    key(sc, "2001:db8:1:2:ffff:ffff:ffff:ffff")));
	assert_true(same(key(sc, "2001:db8:1:2::1"),
	    key(sc, "2001:db8:1:2::")));
	assert_false(same(key(sc, "2001:db8:1:2::1"),
	    key(sc, "2001:db8:1:3::1")));
	/* The full address without a service. */
	assert_false(same(key(NULL, "2001:db8:1:2::1"),
	    key(NULL, "2001:db8:1:2::2")));
	assert_true(same(key(NULL, "2001:db8:1:2::"),
	    key(sc, "2001:db8:1:2::9")));
	/* The mapped range is not cut to a prefix. */
	assert_false(same(key(sc, "::ffff:127.0.0.2"),
	    key(sc, "::ffff:127.0.0.3")));

	sc->sc_per_source_prefix6 = 128;
	assert_false(same(key(sc, "2001:db8:1:2::1"),
	    key(sc, "2001:db8:1:2::2")));
	assert_true(same(key(sc, "2001:db8:1:2::1"),
	    key(NULL, "2001:db8:1:2::1")));

	/* A prefix inside a byte. */
	sc->sc_per_source_prefix6 = 60;
	assert_true(same(key(sc, "2001:db8:0:10::1"),
	    key(sc, "2001:db8:0:1f::")));
	assert_false(same(key(sc, "2001:db8:0:10::1"),
	    key(sc, "2001:db8:0:20::")));
	sc->sc_per_source_prefix6 = 1;
	assert_true(same(key(sc, "2001:db8::1"), key(sc, "::1")));
	assert_false(same(key(sc, "::1"), key(sc, "8000::1")));

	sc->sc_per_source_prefix6 = 0;
	assert_true(same(key(sc, "2001:db8::1"), key(sc, "fe80::1")));
	assert_true(same(key(sc, "2001:db8::1"), key(sc, "::")));
	/* IPv4 stays per address whatever the IPv6 prefix. */
	assert_false(same(key(sc, "10.0.0.1"), key(sc, "10.0.0.2")));
}

/* per_source counts IPv6 clients by their /64 (or the prefix set). */
static void
test_per_source_prefix6(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a, b, c;

	fx->sc.sc_per_source = 2;
	a = key(&fx->sc, "2001:db8:0:1::a");
	b = key(&fx->sc, "2001:db8:0:1::b");
	c = key(&fx->sc, "2001:db8:0:2::a");
	assert_int_equal(quota_take(fx->li, &fx->sc, &a, T0), 0);
	assert_int_equal(quota_take(fx->li, &fx->sc, &b, T0), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 2);
	assert_int_equal(quota_source_count(fx->li, &b), 2);
	assert_int_equal(quota_source_count(fx->li, &c), 0);
	quota_release(fx->li, &b);
	assert_int_equal(quota_source_count(fx->li, &a), 1);
	quota_release(fx->li, &a);

	fx->sc.sc_per_source_prefix6 = 48;
	a = key(&fx->sc, "2001:db8:0:1::a");
	c = key(&fx->sc, "2001:db8:0:2::a");
	assert_int_equal(quota_take(fx->li, &fx->sc, &a, T0), 0);
	assert_int_equal(quota_source_count(fx->li, &c), 1);
	quota_release(fx->li, &c);
	assert_int_equal(quota_source_count(fx->li, &a), 0);
	assert_int_equal(quota_running(fx->li), 0);
}

/* Token buckets: full at first, one token per take, refill at the rate. */
static void
test_token_bucket(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a = key(&fx->sc, "127.0.0.2");
	struct srckey	 b = key(&fx->sc, "127.0.0.3");
	double		 t = (double)T0;
	int		 i;

	fx->sc.sc_per_source_cps_rate = 2;
	fx->sc.sc_per_source_cps_burst = 3;
	/* A source never seen has a full bucket. */
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
		assert_int_equal(quota_take(fx->li, &fx->sc, &a, t), 0);
		quota_release(fx->li, &a);
	}
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &b, t), 1);
	/* 2 per second: one token after half a second. */
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 0.49), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 0.5), 1);
	assert_int_equal(quota_take(fx->li, &fx->sc, &a, t + 0.5), 0);
	quota_release(fx->li, &a);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 0.5), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 1.0), 1);

	/* A long pause refills up to the burst, not beyond. */
	t += 1000;
	for (i = 0; i < 3; i++) {
		assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
		assert_int_equal(quota_take(fx->li, &fx->sc, &a, t), 0);
		quota_release(fx->li, &a);
	}
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 0);

	/* Sessions held open spend tokens too. */
	t += 1000;
	for (i = 0; i < 3; i++)
		assert_int_equal(quota_take(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 3);
	for (i = 0; i < 3; i++)
		quota_release(fx->li, &a);
}

/* A slow rate: one token every two seconds, shared by a /64. */
static void
test_token_bucket_slow(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a = key(&fx->sc, "2001:db8::1");
	struct srckey	 a2 = key(&fx->sc, "2001:db8::2");
	double		 t = (double)T0;

	fx->sc.sc_per_source_cps_rate = 0.5;
	fx->sc.sc_per_source_cps_burst = 1;
	assert_int_equal(quota_take(fx->li, &fx->sc, &a, t), 0);
	quota_release(fx->li, &a);
	/* The same /64 shares the bucket. */
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a2, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 1.9), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 2.0), 1);
	/* Rate off: always a token. */
	fx->sc.sc_per_source_cps_rate = 0;
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
}

/* Datagrams spend tokens without holding a slot. */
static void
test_spend(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a = key(&fx->sc, "127.0.0.2");
	double		 t = (double)T0;

	/* Nothing to track: no entry, always 0. */
	assert_int_equal(quota_spend(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);

	fx->sc.sc_per_source_cps_rate = 1;
	fx->sc.sc_per_source_cps_burst = 2;
	assert_int_equal(quota_spend(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
	assert_int_equal(quota_spend(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 0);
	assert_int_equal(quota_running(fx->li), 0);
	assert_int_equal(quota_source_count(fx->li, &a), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t + 1), 1);
}

/*
 * A dgram built-in that answers has QUOTA_DGRAM_RATE / QUOTA_DGRAM_BURST
 * without per_source_cps; discard, stream built-ins, forwarding and a
 * per_source_cps of its own do not.
 */
static void
test_dgram_default_rate(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 a = key(&fx->sc, "127.0.0.2");
	struct srckey	 b = key(&fx->sc, "127.0.0.3");
	double		 rate, burst, t = (double)T0;
	int		 i;

	fx->sc.sc_socktype = SOCK_DGRAM;
	fx->sc.sc_builtin = BUILTIN_ECHO;
	quota_rate(&fx->sc, &rate, &burst);
	assert_true(rate == QUOTA_DGRAM_RATE && burst == QUOTA_DGRAM_BURST);
	for (i = 0; i < QUOTA_DGRAM_BURST; i++) {
		assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 1);
		assert_int_equal(quota_spend(fx->li, &fx->sc, &a, t), 0);
	}
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a, t), 0);
	/* Another source has its own bucket. */
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &b, t), 1);
	/* One token every 1 / QUOTA_DGRAM_RATE seconds (t is not exact). */
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a,
	    t + 0.5 / QUOTA_DGRAM_RATE), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &a,
	    t + 1.01 / QUOTA_DGRAM_RATE), 1);

	fx->sc.sc_per_source_cps_rate = 1000;
	fx->sc.sc_per_source_cps_burst = 1000;
	quota_rate(&fx->sc, &rate, &burst);
	assert_true(rate == 1000 && burst == 1000);
	fx->sc.sc_per_source_cps_rate = fx->sc.sc_per_source_cps_burst = 0;
	fx->sc.sc_builtin = BUILTIN_DISCARD;
	quota_rate(&fx->sc, &rate, &burst);
	assert_true(rate == 0);
	fx->sc.sc_builtin = BUILTIN_CHARGEN;
	fx->sc.sc_socktype = SOCK_STREAM;
	quota_rate(&fx->sc, &rate, &burst);
	assert_true(rate == 0);
	fx->sc.sc_socktype = SOCK_DGRAM;
	fx->sc.sc_nredirect = 1;
	quota_rate(&fx->sc, &rate, &burst);
	assert_true(rate == 0);
}

/*
 * Add <n> sources, numbers <from> onwards, each taken and released: idle,
 * oldest first, each having spent one token.
 */
static void
fill_idle(struct unit_fx *fx, unsigned from, unsigned n, double t)
{
	struct srckey	k;
	unsigned	i;

	for (i = from; i < from + n; i++) {
		k = key_n(&fx->sc, i);
		if (quota_take(fx->li, &fx->sc, &k, t) != 0)
			fail_msg("take %u refused", i);
		quota_release(fx->li, &k);
	}
}

/*
 * At QUOTA_MAX_SOURCES the source idle the longest is forgotten for a new
 * one (its bucket starts full again); a busy source is never forgotten.
 */
static void
test_lru_eviction(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 busy = key(&fx->sc, "192.0.2.1");
	struct srckey	 k0, k1, k2, fresh;
	double		 t = (double)T0;

	/* A token every 1000 s: a spent bucket shows the entry is there. */
	fx->sc.sc_per_source_cps_rate = 0.001;
	fx->sc.sc_per_source_cps_burst = 1;
	k0 = key_n(&fx->sc, 0);
	k1 = key_n(&fx->sc, 1);
	k2 = key_n(&fx->sc, 2);

	assert_int_equal(quota_take(fx->li, &fx->sc, &busy, t), 0);
	fill_idle(fx, 0, QUOTA_MAX_SOURCES - 1, t);
	assert_int_equal(quota_running(fx->li), 1);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k0, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k1, t), 0);

	/* Full: a new source evicts the oldest idle one, k0. */
	fresh = key_n(&fx->sc, 100000);
	assert_int_equal(quota_take(fx->li, &fx->sc, &fresh, t), 0);
	quota_release(fx->li, &fresh);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k0, t), 1);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k1, t), 0);
	assert_int_equal(quota_source_count(fx->li, &busy), 1);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &busy, t), 0);

	/* A datagram makes k1 the most recently used: k2 goes next. */
	assert_int_equal(quota_spend(fx->li, &fx->sc, &k1, t), 0);
	fresh = key_n(&fx->sc, 100001);
	assert_int_equal(quota_take(fx->li, &fx->sc, &fresh, t), 0);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k2, t), 1);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &k1, t), 0);
	quota_release(fx->li, &fresh);

	/* The busy source is still counted after many more evictions. */
	fill_idle(fx, 200000, QUOTA_MAX_SOURCES, t);
	assert_int_equal(quota_source_count(fx->li, &busy), 1);
	assert_int_equal(quota_rate_ok(fx->li, &fx->sc, &busy, t), 0);
	quota_release(fx->li, &busy);
	assert_int_equal(quota_running(fx->li), 0);
}

/* A table full of busy sources refuses a new source, and only that. */
static void
test_all_busy(void **state)
{
	struct unit_fx	*fx = *state;
	struct srckey	 k, fresh = key(&fx->sc, "192.0.2.9");
	unsigned	 i;

	fx->sc.sc_per_source = 5;
	for (i = 0; i < QUOTA_MAX_SOURCES; i++) {
		k = key_n(&fx->sc, i);
		assert_int_equal(quota_take(fx->li, &fx->sc, &k, T0), 0);
	}
	assert_int_equal(quota_running(fx->li), QUOTA_MAX_SOURCES);
	assert_int_equal(quota_take(fx->li, &fx->sc, &fresh, T0), -1);
	/* The refused take left nothing behind to release. */
	assert_int_equal(quota_running(fx->li), QUOTA_MAX_SOURCES);
	assert_int_equal(quota_source_count(fx->li, &fresh), 0);
	/* A source already in the table still gets a slot. */
	k = key_n(&fx->sc, 7);
	assert_int_equal(quota_take(fx->li, &fx->sc, &k, T0), 0);
	assert_int_equal(quota_source_count(fx->li, &k), 2);
	quota_release(fx->li, &k);
	/* Datagrams from a new source find no room either. */
	fx->sc.sc_per_source_cps_rate = 10;
	fx->sc.sc_per_source_cps_burst = 10;
	assert_int_equal(quota_spend(fx->li, &fx->sc, &fresh, T0), -1);

	/* Once one source is idle, the new one takes its place. */
	k = key_n(&fx->sc, 42);
	quota_release(fx->li, &k);
	assert_int_equal(quota_take(fx->li, &fx->sc, &fresh, T0), 0);
	assert_int_equal(quota_source_count(fx->li, &fresh), 1);
	assert_int_equal(quota_take(fx->li, &fx->sc, &k, T0), -1);
	quota_release(fx->li, &fresh);
	for (i = 0; i < QUOTA_MAX_SOURCES; i++) {
		if (i == 42)
			continue;
		k = key_n(&fx->sc, i);
		quota_release(fx->li, &k);
	}
	assert_int_equal(quota_running(fx->li), 0);
}

/* The deny list: minutes, expiry at the minute, forever, other keys. */
static void
test_deny_minutes(void **state)
{
	struct srckey	a = key(NULL, "127.0.0.5");
	struct srckey	b = key(NULL, "127.0.0.6");

	(void)state;
	assert_int_equal(quota_denied(&a, T0), 0);
	quota_deny(&a, 1, T0);
	assert_int_equal(quota_denied(&a, T0), 1);
	assert_int_equal(quota_denied(&b, T0), 0);
	assert_int_equal(quota_denied(&a, T0 + 59), 1);
	assert_int_equal(quota_denied(&a, T0 + 60), 0);
	/* Expired entries are gone, not revived by an earlier clock. */
	assert_int_equal(quota_denied(&a, T0 + 10), 0);

	quota_deny(&b, DENY_FOREVER, T0);
	assert_int_equal(quota_denied(&b, T0 + 100LL * 365 * 86400), 1);
	quota_deny_clear();
	assert_int_equal(quota_denied(&b, T0), 0);
}

/* Denying again extends, never shortens; forever stays forever. */
static void
test_deny_extend(void **state)
{
	struct srckey	a = key(NULL, "2001:db8::5");
	struct srckey	a2 = key(NULL, "2001:db8::6");

	(void)state;
	quota_deny(&a, 1, T0);
	quota_deny(&a, 5, T0 + 30);
	assert_int_equal(quota_denied(&a, T0 + 329), 1);
	quota_deny(&a, 1, T0 + 31);
	assert_int_equal(quota_denied(&a, T0 + 329), 1);
	assert_int_equal(quota_denied(&a, T0 + 330), 0);
	/* Keyed by the full IPv6 address. */
	quota_deny(&a, 10, T0);
	assert_int_equal(quota_denied(&a2, T0), 0);

	quota_deny(&a, DENY_FOREVER, T0);
	quota_deny(&a, 1, T0);
	assert_int_equal(quota_denied(&a, T0 + 86400 * 1000LL), 1);
}

/* At QUOTA_MAX_DENIED new addresses are dropped until some expire. */
static void
test_deny_capacity(void **state)
{
	struct srckey	 k, extra = key(NULL, "192.0.2.77");
	struct srckey	 forever = key(NULL, "192.0.2.78");
	unsigned	 i;

	(void)state;
	quota_deny(&forever, DENY_FOREVER, T0);
	for (i = 1; i < QUOTA_MAX_DENIED; i++) {
		k = key_n(NULL, i);
		quota_deny(&k, 1, T0);
	}
	quota_deny(&extra, 1, T0);
	assert_int_equal(quota_denied(&extra, T0), 0);
	k = key_n(NULL, QUOTA_MAX_DENIED - 1);
	assert_int_equal(quota_denied(&k, T0), 1);
	/* A minute later the list makes room by dropping expired entries. */
	quota_deny(&extra, 1, T0 + 60);
	assert_int_equal(quota_denied(&extra, T0 + 60), 1);
	assert_int_equal(quota_denied(&forever, T0 + 60), 1);
	k = key_n(NULL, 1);
	assert_int_equal(quota_denied(&k, T0 + 60), 0);
}

/* quota_deny_until(): forever, extension only, past times, a full list. */
static void
test_deny_until(void **state)
{
	struct srckey	a = key(NULL, "192.0.2.10");
	struct srckey	b = key(NULL, "2001:db8::10");
	struct srckey	k;
	time_t		now = time(NULL);
	unsigned	i;

	(void)state;
	assert_int_equal(quota_deny_until(&a, now + 100), 0);
	assert_int_equal(quota_denied(&a, now + 99), 1);
	/* Never shortened; later extends; forever stays. */
	assert_int_equal(quota_deny_until(&a, now + 50), 0);
	assert_int_equal(quota_denied(&a, now + 99), 1);
	assert_int_equal(quota_deny_until(&a, now + 200), 0);
	assert_int_equal(quota_denied(&a, now + 199), 1);
	assert_int_equal(quota_denied(&b, now), 0);
	assert_int_equal(quota_deny_until(&b, now + 100), 0);
	assert_int_equal(quota_denied(&b, now + 100), 0);
	/* Asking about a later time (explain) lifts nothing now. */
	assert_int_equal(quota_denied(&b, now), 1);
	assert_int_equal(quota_undeny(&b), 1);
	assert_int_equal(quota_deny_until(&a, 0), 0);
	assert_int_equal(quota_deny_until(&a, now + 300), 0);
	assert_int_equal(quota_denied(&a, now + 86400 * 1000LL), 1);
	/* A time past adds nothing. */
	assert_int_equal(quota_deny_until(&b, now - 1), 0);
	assert_int_equal(quota_denied(&b, now), 0);
	/* A full list says so. */
	for (i = 1; i < QUOTA_MAX_DENIED; i++) {
		k = key_n(NULL, i);
		assert_int_equal(quota_deny_until(&k, now + 1000), 0);
	}
	assert_int_equal(quota_deny_until(&b, now + 1000), -1);
	assert_int_equal(quota_denied(&b, now), 0);
}

/* quota_undeny(): 1 when a ban was lifted, 0 when none (or expired). */
static void
test_undeny(void **state)
{
	struct srckey	a = key(NULL, "192.0.2.11");
	struct srckey	b = key(NULL, "192.0.2.12");
	time_t		now = time(NULL);

	(void)state;
	assert_int_equal(quota_undeny(&a), 0);
	assert_int_equal(quota_deny_until(&a, 0), 0);
	assert_int_equal(quota_deny_until(&b, now + 100), 0);
	assert_int_equal(quota_undeny(&a), 1);
	assert_int_equal(quota_denied(&a, now), 0);
	assert_int_equal(quota_denied(&b, now), 1);
	assert_int_equal(quota_undeny(&a), 0);
	/* Lifted means gone: a new ban starts afresh, not "forever". */
	assert_int_equal(quota_deny_until(&a, now + 10), 0);
	assert_int_equal(quota_denied(&a, now + 10), 0);
	/* An expired ban is nothing to lift. */
	quota_deny(&b, 1, now - 120);
	assert_int_equal(quota_undeny(&b), 1);
	quota_deny(&b, 1, now - 120);
	assert_int_equal(quota_undeny(&b), 0);
}

struct walk_seen {
	int		ws_calls;
	int		ws_stop;	/* return 1 at this call */
	int		ws_forever;
	time_t		ws_until[4];
	struct srckey	ws_key[4];
};

static int
walk_cb(const struct srckey *k, time_t until, void *arg)
{
	struct walk_seen	*ws = arg;

	if (ws->ws_calls < 4) {
		ws->ws_key[ws->ws_calls] = *k;
		ws->ws_until[ws->ws_calls] = until;
	}
	if (until == 0)
		ws->ws_forever++;
	/* The list is not locked: the callback may change it. */
	(void)quota_undeny(k);
	return ++ws->ws_calls == ws->ws_stop;
}

/* quota_deny_walk(): live bans only, with their expiry; stops on request. */
static void
test_deny_walk(void **state)
{
	struct srckey		a = key(NULL, "192.0.2.13");
	struct srckey		b = key(NULL, "2001:db8::13");
	struct srckey		c = key(NULL, "192.0.2.14");
	struct walk_seen	ws;

	(void)state;
	memset(&ws, 0, sizeof(ws));
	assert_int_equal(quota_deny_walk(T0, walk_cb, &ws), 0);
	assert_int_equal(ws.ws_calls, 0);
	quota_deny(&a, 1, T0);
	quota_deny(&b, DENY_FOREVER, T0);
	quota_deny(&c, 1, T0 - 120);		/* expired at T0 */
	assert_int_equal(quota_deny_walk(T0, walk_cb, &ws), 2);
	assert_int_equal(ws.ws_calls, 2);
	assert_int_equal(ws.ws_forever, 1);
	if (ws.ws_until[0] == 0) {
		assert_memory_equal(&ws.ws_key[0], &b, sizeof(b));
		assert_memory_equal(&ws.ws_key[1], &a, sizeof(a));
		assert_int_equal(ws.ws_until[1], T0 + 60);
	} else {
		assert_memory_equal(&ws.ws_key[0], &a, sizeof(a));
		assert_int_equal(ws.ws_until[0], T0 + 60);
		assert_memory_equal(&ws.ws_key[1], &b, sizeof(b));
	}
	/* The callback lifted both. */
	assert_int_equal(quota_denied(&a, T0), 0);
	assert_int_equal(quota_denied(&b, T0), 0);

	memset(&ws, 0, sizeof(ws));
	ws.ws_stop = 1;
	quota_deny(&a, 1, T0);
	quota_deny(&b, 1, T0);
	assert_int_equal(quota_deny_walk(T0, walk_cb, &ws), 1);
	assert_int_equal(ws.ws_calls, 1);
}

/* quota_deny_version(): moves on every change, not on a look or no-op. */
static void
test_deny_version(void **state)
{
	struct srckey	a = key(NULL, "192.0.2.15");
	time_t		now = time(NULL);
	uint64_t	v, v2;

	(void)state;
	v = quota_deny_version();
	assert_int_equal(quota_denied(&a, now), 0);
	assert_true(quota_deny_version() == v);
	assert_int_equal(quota_deny_until(&a, now + 100), 0);
	v2 = quota_deny_version();
	assert_true(v2 != v);
	/* Shorter, equal, past: no change. */
	assert_int_equal(quota_deny_until(&a, now + 50), 0);
	assert_int_equal(quota_deny_until(&a, now + 100), 0);
	assert_int_equal(quota_deny_until(&a, now - 1), 0);
	quota_deny(&a, 1, now - 120);
	assert_int_equal(quota_denied(&a, now), 1);
	assert_true(quota_deny_version() == v2);
	/* Extended, lifted, lifted again (no-op). */
	assert_int_equal(quota_deny_until(&a, now + 200), 0);
	v = quota_deny_version();
	assert_true(v != v2);
	assert_int_equal(quota_undeny(&a), 1);
	v2 = quota_deny_version();
	assert_true(v2 != v);
	assert_int_equal(quota_undeny(&a), 0);
	assert_true(quota_deny_version() == v2);
	/* A ban by a SENSOR service moves it too. */
	quota_deny(&a, 5, now);
	assert_true(quota_deny_version() != v2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cps_window, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cps_block_extends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cps_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cps_per_quota, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_take_release, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_source_prefix6, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_bucket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_bucket_slow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dgram_default_rate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_all_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deny_minutes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deny_extend, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deny_capacity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deny_until, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_undeny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deny_walk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deny_version, setup,
		    teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
