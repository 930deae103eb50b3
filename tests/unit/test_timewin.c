/*
 * Unit tests of timewin.c: inclusive minute ends, midnight crossing,
 * 24:00, day words and ranges, time zones, and refused forms.  Every time
 * is explicit; the process TZ is set by the tests that use local time.
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

#include "timewin.h"

#define MON2024		1704067200LL	/* Monday 2024-01-01T00:00:00Z */
#define MAXWORDS	32

enum { MON, TUE, WED, THU, FRI, SAT, SUN };

/* Instant of week day <d> (MON..SUN, or later) at h:m:s UTC. */
static time_t
at(int d, int h, int m, int s)
{
	return ((time_t)(MON2024 + d * 86400LL + h * 3600 + m * 60 + s));
}

/* Compile the space-separated words of <list> in zone <tz>, or fail. */
static struct timewin *
build(const char *list, const char *tz)
{
	char		 buf[512], *words[MAXWORDS], *p, err[256];
	struct timewin	*tw;
	int		 n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (p = strtok(buf, " "); p != NULL; p = strtok(NULL, " "))
		words[n++] = p;
	if ((tw = timewin_parse(words, n, tz, err, sizeof(err))) == NULL)
		fail_msg("parse \"%s\": %s", list, err);
	return (tw);
}

/* Expect <t> inside the window whose text is <rule>, or outside (NULL). */
static void
expect(const struct timewin *tw, time_t t, const char *rule)
{
	char	 got[64];
	int	 rc;

	memset(got, 'x', sizeof(got));
	rc = timewin_match(tw, t, got, sizeof(got));
	if (rule == NULL && (rc != 0 || got[0] != '\0'))
		fail_msg("%lld inside \"%s\", expected outside",
		    (long long)t, got);
	if (rule != NULL && (rc != 1 || strcmp(got, rule) != 0))
		fail_msg("%lld: %d \"%s\", expected inside \"%s\"",
		    (long long)t, rc, rc ? got : "", rule);
}

/* Parse <word> alone and expect an error naming it. */
static void
refuse(const char *list, const char *word, const char *msg)
{
	char		 buf[256], *words[MAXWORDS], *p, err[256];
	struct timewin	*tw;
	int		 n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (p = strtok(buf, " "); p != NULL; p = strtok(NULL, " "))
		words[n++] = p;
	err[0] = '\0';
	if ((tw = timewin_parse(words, n, "UTC", err, sizeof(err))) != NULL) {
		timewin_free(tw);
		fail_msg("\"%s\" was accepted", list);
	}
	if (strstr(err, word) == NULL || strstr(err, msg) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\" or \"%s\"", list,
		    err, word, msg);
}

/* Both ends are inclusive at minute resolution. */
static void
test_inclusive(void **state)
{
	struct timewin	*tw;

	(void)state;
	tw = build("08:00-18:00", "UTC");
	expect(tw, at(MON, 7, 59, 59), NULL);
	expect(tw, at(MON, 8, 0, 0), "08:00-18:00");
	expect(tw, at(TUE, 12, 0, 0), "08:00-18:00");
	expect(tw, at(SUN, 18, 0, 0), "08:00-18:00");
	expect(tw, at(SUN, 18, 0, 59), "08:00-18:00");
	expect(tw, at(SUN, 18, 1, 0), NULL);
	expect(tw, at(SUN, 23, 0, 0), NULL);
	timewin_free(tw);

	tw = build("20:00-20:59 9:5-9:07", "UTC");
	expect(tw, at(WED, 20, 59, 59), "20:00-20:59");
	expect(tw, at(WED, 21, 0, 0), NULL);
	expect(tw, at(WED, 19, 59, 59), NULL);
	expect(tw, at(WED, 9, 4, 59), NULL);
	expect(tw, at(WED, 9, 5, 0), "9:5-9:07");
	expect(tw, at(WED, 9, 7, 59), "9:5-9:07");
	expect(tw, at(WED, 9, 8, 0), NULL);
	timewin_free(tw);

	tw = build("10:00-10:00", "UTC");
	expect(tw, at(FRI, 10, 0, 30), "10:00-10:00");
	expect(tw, at(FRI, 10, 1, 0), NULL);
	timewin_free(tw);
}

/* Windows that cross midnight, and 24:00. */
static void
test_midnight(void **state)
{
	struct timewin	*tw;

	(void)state;
	tw = build("22:00-02:00", "UTC");
	expect(tw, at(MON, 21, 59, 59), NULL);
	expect(tw, at(MON, 22, 0, 0), "22:00-02:00");
	expect(tw, at(MON, 23, 59, 59), "22:00-02:00");
	expect(tw, at(TUE, 0, 0, 0), "22:00-02:00");
	expect(tw, at(MON, 0, 30, 0), "22:00-02:00");
	expect(tw, at(TUE, 2, 0, 59), "22:00-02:00");
	expect(tw, at(TUE, 2, 1, 0), NULL);
	expect(tw, at(TUE, 12, 0, 0), NULL);
	timewin_free(tw);

	tw = build("12:00-24:00", "UTC");
	expect(tw, at(THU, 11, 59, 59), NULL);
	expect(tw, at(THU, 12, 0, 0), "12:00-24:00");
	expect(tw, at(THU, 23, 59, 59), "12:00-24:00");
	expect(tw, at(FRI, 0, 0, 0), NULL);
	timewin_free(tw);

	tw = build("00:00-24:00", "UTC");
	expect(tw, at(SAT, 0, 0, 0), "00:00-24:00");
	expect(tw, at(SAT, 23, 59, 59), "00:00-24:00");
	expect(tw, at(SUN, 12, 0, 0), "00:00-24:00");
	timewin_free(tw);

	tw = build("0:00-0:00", "UTC");
	expect(tw, at(SAT, 0, 0, 59), "0:00-0:00");
	expect(tw, at(SAT, 0, 1, 0), NULL);
	expect(tw, at(SAT, 23, 59, 59), NULL);
	timewin_free(tw);
}

/* Several windows add up; the first matching one is reported. */
static void
test_several(void **state)
{
	struct timewin	*tw;
	char		 small[6];

	(void)state;
	tw = build("08:00-09:00 12:00-13:00 08:30-12:30", "UTC");
	expect(tw, at(MON, 8, 15, 0), "08:00-09:00");
	expect(tw, at(MON, 8, 45, 0), "08:00-09:00");
	expect(tw, at(MON, 10, 0, 0), "08:30-12:30");
	expect(tw, at(MON, 12, 45, 0), "12:00-13:00");
	expect(tw, at(MON, 13, 1, 0), NULL);
	expect(tw, at(MON, 7, 0, 0), NULL);
	/* A short rule buffer is cut, never overrun. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(timewin_match(tw, at(MON, 8, 15, 0), small,
	    sizeof(small)), 1);
	assert_string_equal(small, "08:00");
	assert_int_equal(timewin_match(tw, at(MON, 8, 15, 0), NULL, 0), 1);
	timewin_free(tw);
}

/* Day words and ranges apply to the following windows. */
static void
test_days(void **state)
{
	struct timewin	*tw;

	(void)state;
	tw = build("Mon-Fri 08:00-18:00 Sat 10:00-12:00", "UTC");
	expect(tw, at(MON, 9, 0, 0), "Mon-Fri 08:00-18:00");
	expect(tw, at(FRI, 17, 0, 0), "Mon-Fri 08:00-18:00");
	expect(tw, at(WED, 18, 1, 0), NULL);
	expect(tw, at(SAT, 11, 0, 0), "Sat 10:00-12:00");
	expect(tw, at(SAT, 9, 0, 0), NULL);
	expect(tw, at(SAT, 12, 1, 0), NULL);
	expect(tw, at(SUN, 11, 0, 0), NULL);
	expect(tw, at(SUN + 1, 9, 0, 0), "Mon-Fri 08:00-18:00");
	timewin_free(tw);

	/* Wrapping range Fri-Mon: Fri, Sat, Sun, Mon. */
	tw = build("fri-MON 10:00-11:00", "UTC");
	expect(tw, at(FRI, 10, 30, 0), "fri-MON 10:00-11:00");
	expect(tw, at(SAT, 10, 30, 0), "fri-MON 10:00-11:00");
	expect(tw, at(SUN, 10, 30, 0), "fri-MON 10:00-11:00");
	expect(tw, at(MON, 10, 30, 0), "fri-MON 10:00-11:00");
	expect(tw, at(TUE, 10, 30, 0), NULL);
	expect(tw, at(WED, 10, 30, 0), NULL);
	expect(tw, at(THU, 10, 30, 0), NULL);
	timewin_free(tw);

	/* Consecutive day words add up; full names; a later group resets. */
	tw = build("Mon WEDNESDAY 10:00-11:00 12:00-12:30 Fri 12:00-13:00",
	    "UTC");
	expect(tw, at(WED, 10, 30, 0), "Mon WEDNESDAY 10:00-11:00");
	expect(tw, at(MON, 12, 15, 0), "Mon WEDNESDAY 12:00-12:30");
	expect(tw, at(TUE, 10, 30, 0), NULL);
	expect(tw, at(FRI, 10, 30, 0), NULL);
	expect(tw, at(WED, 12, 45, 0), NULL);
	expect(tw, at(FRI, 12, 45, 0), "Fri 12:00-13:00");
	timewin_free(tw);

	/* Windows before any day word hold every day. */
	tw = build("07:00-07:30 Sun 08:00-09:00", "UTC");
	expect(tw, at(TUE, 7, 15, 0), "07:00-07:30");
	expect(tw, at(SUN, 7, 15, 0), "07:00-07:30");
	expect(tw, at(SUN, 8, 15, 0), "Sun 08:00-09:00");
	expect(tw, at(SAT, 8, 15, 0), NULL);
	timewin_free(tw);

	/* A one-day range. */
	tw = build("Tue-Tue 01:00-02:00", "UTC");
	expect(tw, at(TUE, 1, 30, 0), "Tue-Tue 01:00-02:00");
	expect(tw, at(WED, 1, 30, 0), NULL);
	timewin_free(tw);
}

/* After midnight, a window with days counts on the following day. */
static void
test_days_midnight(void **state)
{
	struct timewin	*tw;

	(void)state;
	tw = build("Fri 22:00-02:00", "UTC");
	expect(tw, at(FRI, 21, 59, 0), NULL);
	expect(tw, at(FRI, 22, 0, 0), "Fri 22:00-02:00");
	expect(tw, at(SAT, 1, 0, 0), "Fri 22:00-02:00");
	expect(tw, at(SAT, 2, 0, 59), "Fri 22:00-02:00");
	expect(tw, at(SAT, 2, 1, 0), NULL);
	expect(tw, at(FRI, 1, 0, 0), NULL);	/* Thursday's night */
	expect(tw, at(SAT, 22, 30, 0), NULL);
	timewin_free(tw);

	/* Sunday night runs into Monday, across the week's end. */
	tw = build("Sun 23:00-01:00", "UTC");
	expect(tw, at(SUN, 23, 30, 0), "Sun 23:00-01:00");
	expect(tw, at(SUN + 1, 0, 30, 0), "Sun 23:00-01:00");
	expect(tw, at(MON, 0, 30, 0), "Sun 23:00-01:00");	/* Dec 31 */
	expect(tw, at(TUE, 0, 30, 0), NULL);
	expect(tw, at(SUN, 0, 30, 0), NULL);
	expect(tw, at(SAT, 23, 30, 0), NULL);
	timewin_free(tw);
}

/* Named zones: the window is in the zone's wall-clock time. */
static void
test_timezones(void **state)
{
	struct timewin	*tw;

	(void)state;
	tw = build("09:00-17:00", "Asia/Kolkata");	/* +05:30 */
	expect(tw, at(MON, 3, 29, 59), NULL);
	expect(tw, at(MON, 3, 30, 0), "09:00-17:00");
	expect(tw, at(MON, 11, 30, 59), "09:00-17:00");
	expect(tw, at(MON, 11, 31, 0), NULL);
	timewin_free(tw);

	/* New York: 13:00Z is 08:00 EST in January, 09:00 EDT in July. */
	tw = build("09:00-10:00", "America/New_York");
	expect(tw, (time_t)1705323600, NULL);		/* 2024-01-15 13:00Z */
	expect(tw, (time_t)1705327200, "09:00-10:00");	/* 14:00Z */
	expect(tw, (time_t)1719838800, "09:00-10:00");	/* 2024-07-01 13:00Z */
	expect(tw, (time_t)2225710800LL, "09:00-10:00"); /* 2040-07-12 */
	expect(tw, (time_t)2225707200LL, NULL);		/* 12:00Z */
	timewin_free(tw);

	/* The week day is the zone's: Monday 00:30Z is Sunday in New York. */
	tw = build("Sun 19:00-20:00", "America/New_York");
	expect(tw, at(MON, 0, 30, 0), "Sun 19:00-20:00");
	expect(tw, at(SUN, 0, 30, 0), NULL);
	timewin_free(tw);

	/* Lord Howe: +11 in January, +10:30 in July. */
	tw = build("12:00-12:29", "Australia/Lord_Howe");
	expect(tw, (time_t)1704848400, "12:00-12:29");	/* 2024-01-10 01:00Z */
	expect(tw, (time_t)1704850200, NULL);		/* 01:30Z */
	expect(tw, (time_t)1720573200, NULL);		/* 2024-07-10 01:00Z */
	expect(tw, (time_t)1720575000, "12:00-12:29");	/* 01:30Z */
	timewin_free(tw);

	/* Before 1970 too. */
	tw = build("Wed 23:00-23:59", "UTC");
	expect(tw, (time_t)-1, "Wed 23:00-23:59");	/* 1969-12-31 */
	expect(tw, (time_t)0, NULL);
	timewin_free(tw);
}

/* tz NULL is the process's local time through localtime_r(3). */
static void
test_localtime(void **state)
{
	struct timewin	*tw;
	char		 old[256];
	int		 hadtz;

	(void)state;
	if ((hadtz = getenv("TZ") != NULL))
		snprintf(old, sizeof(old), "%s", getenv("TZ"));
	assert_int_equal(setenv("TZ", "Asia/Kolkata", 1), 0);
	tzset();
	tw = build("Mon 09:00-17:00", NULL);
	expect(tw, at(MON, 3, 29, 59), NULL);
	expect(tw, at(MON, 3, 30, 0), "Mon 09:00-17:00");
	timewin_free(tw);
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	tw = build("Mon 09:00-17:00", NULL);
	expect(tw, at(MON, 3, 30, 0), NULL);
	expect(tw, at(MON, 9, 0, 0), "Mon 09:00-17:00");
	timewin_free(tw);
	if (hadtz)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	assert_int_equal(timewin_match(NULL, at(MON, 9, 0, 0), NULL, 0), 0);
}

/* Bad forms name the word and the expected form. */
static void
test_bad_forms(void **state)
{
	static const char *bad[] = {
		"10-11", "10:00", "10:00-", "-10:00-11:00", "10:00-11:00-12:00",
		"1000-1100", "10:000-11:00", "100:00-11:00", "10.00-11.00",
		"10:00 -11:00", "ab", "Funday", "Mon-", "-Mon", "Mon-Foo",
		"Mo", "Mond", "Mon,Tue", "10:0a-11:00", "10:00-11:00x",
		"10:00-11", "10h-11h",
	};
	char		 err[256], *words[1];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strchr(bad[i], ' ') != NULL)
			refuse(bad[i], "\"10:00\"", "H:MM-H:MM");
		else
			refuse(bad[i], bad[i], "H:MM-H:MM");
	}
	refuse("25:00-26:00", "25:00-26:00", "0-23");
	refuse("24:00-10:00", "24:00-10:00", "only end");
	refuse("10:60-11:00", "10:60-11:00", "0-59");
	refuse("10:00-11:60", "10:00-11:60", "0-59");
	refuse("10:00-24:01", "10:00-24:01", "24:00");
	refuse("10:00-25:00", "10:00-25:00", "0-23");
	refuse("08:00-09:00 Mon", "Mon", "followed by a window");
	refuse("Mon Tue", "Tue", "followed by a window");
	refuse("Mon-Fri 08:00-09:00 Sat-Foo 10:00-11:00", "Sat-Foo",
	    "Mon..Sun");

	words[0] = NULL;
	assert_null(timewin_parse(words, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "H:MM-H:MM"));
}

/*
 * Runs of digits far longer than two are refused as a bad form, and
 * without summing them first: under --enable-sanitizers a sum into an int
 * (the old tw_hm) stops this test at "signed integer overflow".
 */
static void
test_long_digits(void **state)
{
	static const char *bad[] = {
		"99999999999:00-10:00", "10:00-99999999999:00",
		"10:99999999999-11:00", "10:00-11:99999999999",
		"000000000000000000000000000000000000000001:00-02:00",
		"4294967296:4294967296-4294967296:4294967296",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse(bad[i], bad[i], "H:MM-H:MM");
}

/* Zones: validity, and a bad one is an error of timewin_parse. */
static void
test_tz_valid(void **state)
{
	char		 err[256], w[] = "08:00-09:00", *words[1];

	(void)state;
	assert_int_equal(timewin_tz_valid("Europe/Paris"), 1);
	assert_int_equal(timewin_tz_valid("UTC"), 1);
	assert_int_equal(timewin_tz_valid("America/Argentina/Buenos_Aires"),
	    1);
	assert_int_equal(timewin_tz_valid("Nowhere/Atlantis"), 0);
	assert_int_equal(timewin_tz_valid("../../etc/passwd"), 0);
	assert_int_equal(timewin_tz_valid("Europe/../UTC"), 0);
	assert_int_equal(timewin_tz_valid("/usr/share/zoneinfo/UTC"), 0);
	assert_int_equal(timewin_tz_valid("Europe"), 0);
	assert_int_equal(timewin_tz_valid(""), 0);
	assert_int_equal(timewin_tz_valid(NULL), 0);

	words[0] = w;
	assert_null(timewin_parse(words, 1, "Nowhere/Atlantis", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "Nowhere/Atlantis"));
	assert_null(timewin_parse(words, 1, "../etc/passwd", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "../etc/passwd"));
	timewin_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inclusive),
		cmocka_unit_test(test_midnight),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_days_midnight),
		cmocka_unit_test(test_timezones),
		cmocka_unit_test(test_localtime),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_long_digits),
		cmocka_unit_test(test_tz_valid),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
