/*
 * Unit tests of tzfile.c: offsets of real zones against glibc's
 * localtime_r(3) over 1990-2040 (every transition found exactly), footer
 * rules against glibc's own POSIX TZ parser, hand-made version 1 and 2
 * files, and corrupt files.
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

#include "tzfile.h"

#define T1990	631152000LL		/* 1990-01-01T00:00:00Z */
#define T2041	2240611200LL		/* 2041-01-01T00:00:00Z */

/* Offset glibc gives at <t> under the current TZ. */
static long
glibc_offset(time_t t)
{
	struct tm	 tm;

	assert_non_null(localtime_r(&t, &tm));
	return (tm.tm_gmtoff);
}

/* Set TZ to <value> for glibc. */
static void
set_tz(const char *value)
{
	assert_int_equal(setenv("TZ", value, 1), 0);
	tzset();
}

/*
 * Compare <tz> with glibc (TZ already set) from 1990 to 2040: at samples
 * a few hours apart, and at both sides of every transition, found by
 * bisection.  Returns the number of transitions seen.
 */
static int
compare_range(const struct tzfile *tz, const char *what)
{
	int64_t	 t, prev, lo, hi, mid;
	long	 po, o;
	int	 transitions = 0;

	prev = T1990;
	po = glibc_offset((time_t)prev);
	for (t = T1990 + 21601; t < T2041; t += 21601) {
		o = glibc_offset((time_t)t);
		if (tzfile_offset(tz, (time_t)t) != o)
			fail_msg("%s at %lld: %ld, glibc %ld", what,
			    (long long)t, tzfile_offset(tz, (time_t)t), o);
		if (o != po) {
			lo = prev;	/* offset po at lo, o at hi */
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (glibc_offset((time_t)mid) == po)
					lo = mid;
				else
					hi = mid;
			}
			if (tzfile_offset(tz, (time_t)lo) != po ||
			    tzfile_offset(tz, (time_t)hi) !=
			    glibc_offset((time_t)hi))
				fail_msg("%s transition at %lld: %ld/%ld, "
				    "glibc %ld/%ld", what, (long long)hi,
				    tzfile_offset(tz, (time_t)lo),
				    tzfile_offset(tz, (time_t)hi), po,
				    glibc_offset((time_t)hi));
			transitions++;
		}
		prev = t;
		po = o;
	}
	return (transitions);
}

/* Real zones agree with glibc, transitions included. */
static void
test_zones_vs_glibc(void **state)
{
	static const struct {
		const char	*name;
		int		 min, max;	/* transitions 1990-2040 */
	} zones[] = {
		{ "Europe/Paris", 100, 104 },
		{ "America/New_York", 100, 104 },
		{ "Australia/Lord_Howe", 98, 104 },
		{ "Asia/Kolkata", 0, 0 },
		{ "UTC", 0, 0 },
		{ "America/Sao_Paulo", 40, 80 },
		{ "Europe/Moscow", 30, 50 },
	};
	struct tzfile	*tz;
	char		 err[256];
	size_t		 i;
	int		 n;

	(void)state;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		tz = tzfile_load(zones[i].name, err, sizeof(err));
		if (tz == NULL)
			fail_msg("%s: %s", zones[i].name, err);
		set_tz(zones[i].name);
		n = compare_range(tz, zones[i].name);
		if (n < zones[i].min || n > zones[i].max)
			fail_msg("%s: %d transitions", zones[i].name, n);
		tzfile_free(tz);
	}
	set_tz("UTC");
}

/* Fixed points that do not depend on glibc. */
static void
test_known_offsets(void **state)
{
	struct tzfile	*tz;

	(void)state;
	tz = tzfile_load("Europe/Paris", NULL, 0);
	assert_non_null(tz);
	/* 2024-03-31T00:59:59Z CET, 01:00:00Z CEST. */
	assert_int_equal(tzfile_offset(tz, 1711846799), 3600);
	assert_int_equal(tzfile_offset(tz, 1711846800), 7200);
	/* 2039-10-30T00:59:59Z CEST, 01:00:00Z CET (footer rule). */
	assert_int_equal(tzfile_offset(tz, 2203549199LL), 7200);
	assert_int_equal(tzfile_offset(tz, 2203549200LL), 3600);
	tzfile_free(tz);

	tz = tzfile_load("Asia/Kolkata", NULL, 0);
	assert_non_null(tz);
	assert_int_equal(tzfile_offset(tz, 1700000000), 19800);
	assert_int_equal(tzfile_offset(tz, 2200000000LL), 19800);
	tzfile_free(tz);

	tz = tzfile_load("Australia/Lord_Howe", NULL, 0);
	assert_non_null(tz);
	/* 2040-01-14 +11, 2040-07-12 +10:30. */
	assert_int_equal(tzfile_offset(tz, 2210112000LL), 39600);
	assert_int_equal(tzfile_offset(tz, 2225664000LL), 37800);
	tzfile_free(tz);
}

struct tzbuf {
	unsigned char	 b[4096];
	size_t		 len;
};

/* Append big-endian <v> of <n> bytes. */
static void
put(struct tzbuf *tb, int64_t v, int n)
{
	while (n-- > 0)
		tb->b[tb->len++] = (unsigned char)((uint64_t)v >> (8 * n));
}

/* Append one header and data block with <tsize>-byte times. */
static void
put_block(struct tzbuf *tb, int version, int tsize, const int64_t *times,
    const unsigned char *idx, int n, const int32_t *offs, int ntypes)
{
	int	 i;

	memcpy(tb->b + tb->len, "TZif", 4);
	tb->len += 4;
	tb->b[tb->len++] = version == 1 ? 0 : (unsigned char)('0' + version);
	memset(tb->b + tb->len, 0, 15);
	tb->len += 15;
	put(tb, 0, 4);		/* isutcnt */
	put(tb, 0, 4);		/* isstdcnt */
	put(tb, 0, 4);		/* leapcnt */
	put(tb, n, 4);
	put(tb, ntypes, 4);
	put(tb, 4, 4);		/* charcnt */
	for (i = 0; i < n; i++)
		put(tb, times[i], tsize);
	for (i = 0; i < n; i++)
		tb->b[tb->len++] = idx[i];
	for (i = 0; i < ntypes; i++) {
		put(tb, offs[i], 4);
		tb->b[tb->len++] = i > 0;
		tb->b[tb->len++] = 0;
	}
	memcpy(tb->b + tb->len, "XXX", 4);
	tb->len += 4;
}

/* Build a TZif file; <footer> NULL for version 1. */
static void
make_tzif(struct tzbuf *tb, const int64_t *times, const unsigned char *idx,
    int n, const int32_t *offs, int ntypes, const char *footer)
{
	tb->len = 0;
	if (footer == NULL) {
		put_block(tb, 1, 4, times, idx, n, offs, ntypes);
		return;
	}
	put_block(tb, 2, 4, times, idx, n, offs, ntypes);
	put_block(tb, 2, 8, times, idx, n, offs, ntypes);
	tb->len += (size_t)snprintf((char *)tb->b + tb->len,
	    sizeof(tb->b) - tb->len, "\n%s\n", footer);
}

/* A version 1 file: 32-bit data only, last offset kept at the end. */
static void
test_version1(void **state)
{
	static const int64_t	 times[] = { 1000000, 2000000, 3000000 };
	static const unsigned char idx[] = { 1, 2, 1 };
	static const int32_t	 offs[] = { -3600, 7200, 3600 };
	struct tzbuf		 tb;
	struct tzfile		*tz;
	char			 err[128];

	(void)state;
	make_tzif(&tb, times, idx, 3, offs, 3, NULL);
	tz = tzfile_parse(tb.b, tb.len, err, sizeof(err));
	if (tz == NULL)
		fail_msg("%s", err);
	assert_int_equal(tzfile_offset(tz, -5000000000LL), -3600);
	assert_int_equal(tzfile_offset(tz, 999999), -3600);
	assert_int_equal(tzfile_offset(tz, 1000000), 7200);
	assert_int_equal(tzfile_offset(tz, 1999999), 7200);
	assert_int_equal(tzfile_offset(tz, 2000000), 3600);
	assert_int_equal(tzfile_offset(tz, 2999999), 3600);
	assert_int_equal(tzfile_offset(tz, 3000000), 7200);
	assert_int_equal(tzfile_offset(tz, 5000000000LL), 7200);
	tzfile_free(tz);
}

/* Version 2: the 64-bit block is used, an unparsable footer ignored. */
static void
test_version2(void **state)
{
	static const int64_t	 times[] = { -3000000000LL, 100, 4000000000LL };
	static const unsigned char idx[] = { 1, 0, 1 };
	static const int32_t	 offs[] = { 0, 1800 };
	struct tzbuf		 tb;
	struct tzfile		*tz;
	char			 err[128];

	(void)state;
	/* The 32-bit block would truncate these times: use 64-bit. */
	make_tzif(&tb, times, idx, 3, offs, 2, "not a tz string");
	tz = tzfile_parse(tb.b, tb.len, err, sizeof(err));
	if (tz == NULL)
		fail_msg("%s", err);
	assert_int_equal(tzfile_offset(tz, -3000000001LL), 0);
	assert_int_equal(tzfile_offset(tz, -3000000000LL), 1800);
	assert_int_equal(tzfile_offset(tz, 99), 1800);
	assert_int_equal(tzfile_offset(tz, 100), 0);
	assert_int_equal(tzfile_offset(tz, 3999999999LL), 0);
	assert_int_equal(tzfile_offset(tz, 4000000000LL), 1800);
	assert_int_equal(tzfile_offset(tz, 9000000000LL), 1800);
	tzfile_free(tz);

	/* An empty footer: the same. */
	make_tzif(&tb, times, idx, 3, offs, 2, "");
	tz = tzfile_parse(tb.b, tb.len, NULL, 0);
	assert_non_null(tz);
	assert_int_equal(tzfile_offset(tz, 9000000000LL), 1800);
	tzfile_free(tz);
}

/* Footer rules agree with glibc's reading of the same TZ string. */
static void
test_footer_vs_glibc(void **state)
{
	static const char *rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"IST-5:30",
		"UTC0",
		"<-03>3",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"AAA3BBB,M3.2.0/01:30,M11.1.0/02:15:45",
		"EET-2EEST,M3.5.0/-1,M10.5.0/25",
		"AAA-2BBB,J60/2,J300/2",
		"AAA-2BBB,59,299",
		"AAA+4BBB+3:30,M2.5.6,M10.1.1/4",
		"EST5EDT",	/* POSIX default rules: see below */
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
	};
	static const int32_t	 offs[] = { 0 };
	struct tzbuf		 tb;
	struct tzfile		*tz;
	char			 err[128];
	size_t			 i;
	int			 n;

	(void)state;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		make_tzif(&tb, NULL, NULL, 0, offs, 1, rules[i]);
		tz = tzfile_parse(tb.b, tb.len, err, sizeof(err));
		if (tz == NULL)
			fail_msg("%s: %s", rules[i], err);
		/* glibc would read the file EST5EDT: spell the default. */
		set_tz(strcmp(rules[i], "EST5EDT") == 0 ?
		    "EST5EDT,M3.2.0,M11.1.0" : rules[i]);
		n = compare_range(tz, rules[i]);
		if ((strchr(rules[i], ',') != NULL ||
		    strcmp(rules[i], "EST5EDT") == 0) && n < 100)
			fail_msg("%s: only %d transitions", rules[i], n);
		tzfile_free(tz);
	}
	set_tz("UTC");
}

/* Corrupt or truncated data is refused with a message. */
static void
test_corrupt(void **state)
{
	static const int64_t	 times[] = { 100, 200 };
	static const unsigned char idx[] = { 0, 1 };
	static const unsigned char badidx[] = { 0, 5 };
	static const int64_t	 badtimes[] = { 200, 100 };
	static const int32_t	 offs[] = { 0, 3600 };
	struct tzbuf		 tb;
	char			 err[128];
	size_t			 cut;

	(void)state;
	assert_null(tzfile_parse((const unsigned char *)"TZ", 2, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "TZif"));
	make_tzif(&tb, times, idx, 2, offs, 2, "UTC0");
	memcpy(tb.b, "TZiF", 4);
	assert_null(tzfile_parse(tb.b, tb.len, err, sizeof(err)));
	make_tzif(&tb, times, idx, 2, offs, 2, "UTC0");
	for (cut = 0; cut < tb.len - 6; cut++)	/* footer may be cut */
		if (tzfile_parse(tb.b, cut, err, sizeof(err)) != NULL)
			fail_msg("accepted a file cut at %zu", cut);
	make_tzif(&tb, times, badidx, 2, offs, 2, "UTC0");
	assert_null(tzfile_parse(tb.b, tb.len, err, sizeof(err)));
	make_tzif(&tb, badtimes, idx, 2, offs, 2, "UTC0");
	assert_null(tzfile_parse(tb.b, tb.len, err, sizeof(err)));
	make_tzif(&tb, times, idx, 0, offs, 0, "UTC0");
	assert_null(tzfile_parse(tb.b, tb.len, err, sizeof(err)));
}

/* Names: relative, no "..", and the file must exist. */
static void
test_names(void **state)
{
	static const char *good[] = {
		"Europe/Paris", "UTC", "Etc/GMT+5", "America/Port-au-Prince",
		"America/Argentina/Buenos_Aires",
	};
	static const char *bad[] = {
		"", "/etc/passwd", "../etc/passwd", "Europe/../UTC", "Europe/..",
		"Europe/Paris ", "Europe\\Paris", "Europe/Par$s",
	};
	struct tzfile	*tz;
	char		 err[256];
	size_t		 i;

	(void)state;
	assert_int_equal(tzfile_name_valid(NULL), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(tzfile_name_valid(good[i]), 1);
		tz = tzfile_load(good[i], err, sizeof(err));
		if (tz == NULL)
			fail_msg("%s: %s", good[i], err);
		tzfile_free(tz);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tzfile_name_valid(bad[i]), 0);
		assert_null(tzfile_load(bad[i], err, sizeof(err)));
	}
	assert_null(tzfile_load("Nowhere/Atlantis", err, sizeof(err)));
	assert_non_null(strstr(err, "Nowhere/Atlantis"));
	assert_null(tzfile_load("Europe", err, sizeof(err)));	/* a dir */
	assert_null(tzfile_load("zone.tab", err, sizeof(err)));	/* text */
	tzfile_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zones_vs_glibc),
		cmocka_unit_test(test_known_offsets),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_version2),
		cmocka_unit_test(test_footer_vs_glibc),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_names),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
