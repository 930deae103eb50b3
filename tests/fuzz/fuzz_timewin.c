/*
 * libFuzzer target for access_times and access_tz (timewin.c).  The input
 * is an optional first line "TZ=Area/City" (the access_tz value; without
 * it, local time, which the target sets to UTC) and then the words of
 * access_times, separated by white space.
 *
 * The oracle is a second, plain reading of timewin.h: a reference parser
 * of the same grammar must accept exactly the lists timewin_parse()
 * accepts (an error names the bad word or zone), and then every minute of
 * one week (chosen from the input) must match exactly when the reference
 * says, naming the first window that holds it with its day words.  The
 * reference turns an instant into week day and minute with the offset of
 * tzfile.c, which fuzz_tzfile checks on its own.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timewin.h"
#include "tzfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAXINPUT	4096
#define FZ_MAXWORDS	64
#define FZ_WEEK		(7 * 1440)
#define FZ_DAYTEXT	256		/* timewin.c's room for day words */
#define FZ_MON2024	1704067200LL	/* Monday 2024-01-01T00:00:00Z */

/* One window as the reference reads it. */
struct ref_win {
	unsigned int	 rw_days;	/* bit 0 Sunday */
	int		 rw_start;
	int		 rw_end;
	char		 rw_text[FZ_DAYTEXT + FZ_MAXINPUT];
};

static const char *const ref_days[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

/* Is <s> (<len> bytes) a day name, three letters or in full?  Day or -1. */
static int
ref_day(const char *s, size_t len)
{
	size_t	 i;
	int	 d;
	char	 c;

	for (d = 0; d < 7; d++) {
		if (len != 3 && len != strlen(ref_days[d]))
			continue;
		for (i = 0; i < len; i++) {
			c = s[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != ref_days[d][i])
				break;
		}
		if (i == len)
			return (d);
	}
	return (-1);
}

/* Days of day word <w> ("Mon", "Fri-Mon"), or 0. */
static unsigned int
ref_dayword(const char *w)
{
	const char	*dash = strchr(w, '-');
	unsigned int	 mask = 0;
	int		 a, b;

	if (dash == NULL)
		return ((a = ref_day(w, strlen(w))) < 0 ? 0 : 1U << a);
	a = ref_day(w, (size_t)(dash - w));
	b = ref_day(dash + 1, strlen(dash + 1));
	if (a < 0 || b < 0)
		return (0);
	for (;;) {
		mask |= 1U << a;
		if (a == b)
			return (mask);
		a = (a + 1) % 7;
	}
}

/* One or two digits at *<s>, advanced; -1 if not. */
static int
ref_num(const char **s)
{
	const char	*p = *s;
	int		 v;

	if (p[0] < '0' || p[0] > '9')
		return (-1);
	v = p[0] - '0';
	if (p[1] >= '0' && p[1] <= '9') {
		v = v * 10 + (p[1] - '0');
		p++;
		if (p[1] >= '0' && p[1] <= '9')
			return (-1);
	}
	*s = p + 1;
	return (v);
}

/* Window word "H:MM-H:MM" into <rw>; 0 or -1. */
static int
ref_window(const char *w, struct ref_win *rw)
{
	int	 h1, m1, h2, m2;

	if ((h1 = ref_num(&w)) < 0 || *w++ != ':' || (m1 = ref_num(&w)) < 0 ||
	    *w++ != '-' || (h2 = ref_num(&w)) < 0 || *w++ != ':' ||
	    (m2 = ref_num(&w)) < 0 || *w != '\0')
		return (-1);
	if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 == 24 && m2 != 0))
		return (-1);
	rw->rw_start = h1 * 60 + m1;
	rw->rw_end = h2 == 24 ? 1439 : h2 * 60 + m2;
	return (0);
}

/*
 * Read the words as timewin.h describes.  Returns the number of windows,
 * or -1 with the index of the word to blame in *<bad>.
 */
static int
ref_parse(char **words, int nwords, struct ref_win *win, int *bad)
{
	char		 daytext[FZ_DAYTEXT + FZ_MAXINPUT];
	unsigned int	 days = 0, d;
	int		 i, n = 0, taken = 1;

	daytext[0] = '\0';
	*bad = nwords - 1;
	if (nwords == 0)
		return (-1);
	for (i = 0; i < nwords; i++) {
		*bad = i;
		if (words[i][0] >= '0' && words[i][0] <= '9') {
			if (ref_window(words[i], &win[n]) != 0)
				return (-1);
			win[n].rw_days = days == 0 ? 0x7f : days;
			snprintf(win[n].rw_text, sizeof(win[n].rw_text),
			    "%s%s%s", daytext, daytext[0] ? " " : "",
			    words[i]);
			n++;
			taken = 1;
			continue;
		}
		if ((d = ref_dayword(words[i])) == 0)
			return (-1);
		if (taken) {
			days = 0;
			daytext[0] = '\0';
			taken = 0;
		}
		days |= d;
		if (daytext[0] != '\0')
			strcat(daytext, " ");
		strcat(daytext, words[i]);
		/* timewin.c keeps the day words in 256 bytes. */
		if (strlen(daytext) + 1 > FZ_DAYTEXT)
			return (-1);
	}
	*bad = nwords - 1;
	return (taken ? n : -1);
}

/* The first window holding each minute of the week (0 Sunday 00:00). */
static void
ref_week(const struct ref_win *win, int nwin, int16_t *first)
{
	int	 i, d, m, end;

	for (m = 0; m < FZ_WEEK; m++)
		first[m] = -1;
	for (i = nwin - 1; i >= 0; i--) {
		for (d = 0; d < 7; d++) {
			if ((win[i].rw_days & (1U << d)) == 0)
				continue;
			end = win[i].rw_end >= win[i].rw_start ?
			    win[i].rw_end : 1439;
			for (m = win[i].rw_start; m <= end; m++)
				first[d * 1440 + m] = (int16_t)i;
			if (win[i].rw_end >= win[i].rw_start)
				continue;
			for (m = 0; m <= win[i].rw_end; m++)
				first[(d + 1) % 7 * 1440 + m] = (int16_t)i;
		}
	}
}

/* Minute of the week of <t> at UTC offset <off> (0 Sunday 00:00). */
static int
ref_minute(time_t t, long off)
{
	int64_t	 local = (int64_t)t + off, days, sec;

	days = local / 86400;
	sec = local % 86400;
	if (sec < 0) {
		sec += 86400;
		days--;
	}
	/* 1970-01-01 was a Thursday. */
	return ((int)(((days + 4) % 7 + 7) % 7) * 1440 + (int)(sec / 60));
}

/* Split <buf> in place into at most FZ_MAXWORDS words. */
static int
fz_split(char *buf, char **words)
{
	char	*p;
	int	 n = 0;

	for (p = strtok(buf, " \t\r\n\v\f"); p != NULL && n < FZ_MAXWORDS;
	    p = strtok(NULL, " \t\r\n\v\f"))
		words[n++] = p;
	return (n);
}

/* Check timewin_match() against <first> for every minute of a week. */
static void
fz_check_week(const struct timewin *tw, const struct tzfile *z,
    const struct ref_win *win, const int16_t *first, time_t base)
{
	char	 rule[sizeof(win[0].rw_text)];
	time_t	 t;
	int	 k, m, got;

	for (k = 0; k < FZ_WEEK; k++) {
		t = base + (time_t)k * 60 + (k * 7) % 60;
		m = ref_minute(t, z != NULL ? tzfile_offset(z, t) : 0);
		got = timewin_match(tw, t, rule, sizeof(rule));
		if (got != (first[m] >= 0))
			abort();
		if (got ? strcmp(rule, win[first[m]].rw_text) != 0 :
		    rule[0] != '\0')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_win	 win[FZ_MAXWORDS];
	static int16_t		 first[FZ_WEEK];
	static int		 init;
	struct timewin		*tw;
	struct tzfile		*z = NULL;
	char			 buf[FZ_MAXINPUT + 1], *words[FZ_MAXWORDS];
	char			*text = buf, *nl, *tz = NULL, err[512];
	uint32_t		 h = 2166136261U;
	size_t			 i;
	int			 nwords, nwin, bad;

	if (!init) {
		/* Local time is UTC, so the reference needs no zone. */
		if (setenv("TZ", "UTC", 1) != 0)
			abort();
		tzset();
		init = 1;
	}
	if (size > FZ_MAXINPUT)
		return (0);
	for (i = 0; i < size; i++) {
		buf[i] = data[i] == '\0' ? ' ' : (char)data[i];
		h = (h ^ data[i]) * 16777619U;
	}
	buf[size] = '\0';
	if (strncmp(buf, "TZ=", 3) == 0) {
		tz = buf + 3;
		if ((nl = strchr(tz, '\n')) == NULL)
			return (0);
		*nl = '\0';
		text = nl + 1;
	}
	nwords = fz_split(text, words);
	nwin = ref_parse(words, nwords, win, &bad);
	if (nwin >= 0 && tz != NULL && (z = tzfile_load(tz, NULL, 0)) == NULL)
		nwin = -1;
	err[0] = 'x';
	err[1] = '\0';
	tw = timewin_parse(words, nwords, tz, err, sizeof(err));
	if ((tw != NULL) != (nwin >= 0))
		abort();
	if (tw == NULL) {
		/*
		 * The error names the bad word, or the zone (each checked only
		 * if it can fit in the message).
		 */
		if (nwords > 0 && strlen(words[bad]) < 256 &&
		    strstr(err, words[bad]) == NULL &&
		    (tz == NULL || (strlen(tz) < 256 &&
		    strstr(err, tz) == NULL)))
			abort();
		tzfile_free(z);
		return (0);
	}
	ref_week(win, nwin, first);
	/* Some week of 2024, so that zones change to and from DST. */
	fz_check_week(tw, z, win, first,
	    (time_t)(FZ_MON2024 + (int64_t)(h % 53) * 7 * 86400));
	timewin_free(tw);
	tzfile_free(z);
	return (0);
}
