/*
 * access_times windows.  The words are compiled once into a list of
 * windows, each a set of week days and an inclusive range of minutes of
 * the day; a match converts the instant to (week day, minute) in the
 * configured zone and scans the windows, of which there are a handful.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timewin.h"
#include "tzfile.h"

#define TW_ALLDAYS	0x7f		/* bit 0 Sunday ... bit 6 Saturday */
#define TW_DAYMINUTES	(24 * 60)
#define TW_FORM		"expected H:MM-H:MM (hours 0-23, minutes 0-59, " \
			    "24:00 only as an end) or a day Mon..Sun, " \
			    "Mon-Fri"

struct tw_window {
	unsigned int	 ww_days;	/* days the window starts on */
	int		 ww_start;	/* minute of the day, inclusive */
	int		 ww_end;	/* inclusive; < ww_start: next day */
	char		*ww_text;	/* "Mon-Fri 08:00-18:00" */
};

struct timewin {
	struct tw_window *tw_win;
	int		  tw_count;
	struct tzfile	 *tw_tz;	/* NULL: local time */
};

static const char *const tw_daynames[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

/* Format an error about word <w> into <err>; always returns -1. */
static int
tw_err(char *err, size_t errlen, const char *w, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "access_times \"%s\": %s", w, msg);
	return (-1);
}

/* Lower-case an ASCII letter without looking at the locale. */
static int
tw_lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/*
 * Day name in <s> of <len> characters: three letters or the full English
 * name, any case.  Returns 0 (Sunday) to 6, or -1.
 */
static int
tw_dayname(const char *s, size_t len)
{
	size_t	 i;
	int	 d;

	for (d = 0; d < 7; d++) {
		if (len != 3 && len != strlen(tw_daynames[d]))
			continue;
		for (i = 0; i < len; i++)
			if (tw_lower((unsigned char)s[i]) != tw_daynames[d][i])
				break;
		if (i == len)
			return (d);
	}
	return (-1);
}

/* Days of a day word "Mon" or "Fri-Mon" as a mask, or 0 if not one. */
static unsigned int
tw_dayword(const char *w)
{
	const char	*dash;
	unsigned int	 mask = 0;
	int		 a, b;

	if ((dash = strchr(w, '-')) == NULL) {
		a = tw_dayname(w, strlen(w));
		return (a < 0 ? 0 : 1U << a);
	}
	a = tw_dayname(w, (size_t)(dash - w));
	b = tw_dayname(dash + 1, strlen(dash + 1));
	if (a < 0 || b < 0)
		return (0);
	for (;; a = (a + 1) % 7) {
		mask |= 1U << a;
		if (a == b)
			break;
	}
	return (mask);
}

/*
 * Parse one or two decimal digits at <s> into *<v>.  The length is checked
 * before any digit is added up, so a long run of digits cannot overflow.
 * Returns the end, or NULL.
 */
static const char *
tw_num2(const char *s, int *v)
{
	int	 n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
		continue;
	if (n < 1 || n > 2)
		return (NULL);
	*v = n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
	return (s + n);
}

/*
 * Parse "H:MM" (one or two digits each) at <s> into hours and minutes.
 * Returns the end, or NULL.
 */
static const char *
tw_hm(const char *s, int *h, int *m)
{
	if ((s = tw_num2(s, h)) == NULL || *s != ':')
		return (NULL);
	return (tw_num2(s + 1, m));
}

/* Parse window word <w> into <ww> (not its text).  Returns 0 or -1. */
static int
tw_window(const char *w, struct tw_window *ww, char *err, size_t errlen)
{
	const char	*p;
	int		 h1, m1, h2, m2;

	if ((p = tw_hm(w, &h1, &m1)) == NULL || *p != '-' ||
	    (p = tw_hm(p + 1, &h2, &m2)) == NULL || *p != '\0')
		return (tw_err(err, errlen, w, TW_FORM));
	if (m1 > 59 || m2 > 59)
		return (tw_err(err, errlen, w, "minutes must be 0-59"));
	if (h1 > 23)
		return (tw_err(err, errlen, w, h1 == 24 && m1 == 0 ?
		    "24:00 can only end a window (write 00:00)" :
		    "hours must be 0-23"));
	if (h2 > 24 || (h2 == 24 && m2 != 0))
		return (tw_err(err, errlen, w,
		    "hours must be 0-23, or 24:00 to end the day"));
	ww->ww_start = h1 * 60 + m1;
	ww->ww_end = h2 == 24 ? TW_DAYMINUTES - 1 : h2 * 60 + m2;
	return (0);
}

/* Append window <ww> with text "<days> <w>" to <tw>.  Returns 0 or -1. */
static int
tw_add(struct timewin *tw, struct tw_window *ww, const char *days,
    const char *w)
{
	size_t	 len;

	len = strlen(days) + strlen(w) + 2;
	if ((ww->ww_text = malloc(len)) == NULL)
		return (-1);
	snprintf(ww->ww_text, len, "%s%s%s", days, *days ? " " : "", w);
	tw->tw_win[tw->tw_count++] = *ww;
	return (0);
}

/*
 * Parse the words into <tw>: day words gather in <days> (their text in
 * <daytext>) until a window takes them.  Returns 0 or -1.
 */
static int
tw_parse_words(struct timewin *tw, char **words, int nwords, char *err,
    size_t errlen)
{
	struct tw_window ww;
	char		 daytext[256];
	unsigned int	 days = 0, d;
	int		 i, taken = 1;

	daytext[0] = '\0';
	for (i = 0; i < nwords; i++) {
		if (words[i][0] >= '0' && words[i][0] <= '9') {
			if (tw_window(words[i], &ww, err, errlen) != 0)
				return (-1);
			ww.ww_days = days == 0 ? TW_ALLDAYS : days;
			if (tw_add(tw, &ww, daytext, words[i]) != 0)
				return (tw_err(err, errlen, words[i],
				    "out of memory"));
			taken = 1;
			continue;
		}
		if ((d = tw_dayword(words[i])) == 0)
			return (tw_err(err, errlen, words[i], TW_FORM));
		if (taken) {
			days = 0;
			daytext[0] = '\0';
			taken = 0;
		}
		days |= d;
		if (strlen(daytext) + strlen(words[i]) + 2 > sizeof(daytext))
			return (tw_err(err, errlen, words[i],
			    "too many day words"));
		if (daytext[0] != '\0')
			strncat(daytext, " ", sizeof(daytext) - strlen(daytext)
			    - 1);
		strncat(daytext, words[i], sizeof(daytext) - strlen(daytext) -
		    1);
	}
	if (!taken)
		return (tw_err(err, errlen, words[nwords - 1],
		    "day words must be followed by a window H:MM-H:MM"));
	return (0);
}

/* Compile access_times; see timewin.h. */
struct timewin *
timewin_parse(char **words, int nwords, const char *tz, char *err,
    size_t errlen)
{
	struct timewin	*tw;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (nwords <= 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "access_times needs at least "
			    "one window H:MM-H:MM");
		return (NULL);
	}
	if ((tw = calloc(1, sizeof(*tw))) == NULL ||
	    (tw->tw_win = calloc((size_t)nwords, sizeof(*tw->tw_win))) ==
	    NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tw_parse_words(tw, words, nwords, err, errlen) != 0)
		goto fail;
	if (tz != NULL && (tw->tw_tz = tzfile_load(tz, err, errlen)) == NULL)
		goto fail;
	return (tw);
fail:
	timewin_free(tw);
	return (NULL);
}

/* Free a compiled access_times. */
void
timewin_free(struct timewin *tw)
{
	int	 i;

	if (tw == NULL)
		return;
	for (i = 0; i < tw->tw_count; i++)
		free(tw->tw_win[i].ww_text);
	free(tw->tw_win);
	tzfile_free(tw->tw_tz);
	free(tw);
}

/*
 * Week day (0 Sunday) and minute of the day of <now> in the zone of <tw>.
 * Returns 0, or -1 if local time cannot be had.
 */
static int
tw_localtime(const struct timewin *tw, time_t now, int *wday, int *minute)
{
	struct tm	 tm;
	int64_t		 local, days;

	if (tw->tw_tz == NULL) {
		if (localtime_r(&now, &tm) == NULL)
			return (-1);
		*wday = tm.tm_wday;
		*minute = tm.tm_hour * 60 + tm.tm_min;
		return (0);
	}
	local = (int64_t)now + tzfile_offset(tw->tw_tz, now);
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	*wday = (int)(((days + 4) % 7 + 7) % 7);	/* 1970-01-01: Thu */
	*minute = (int)((local - days * 86400) / 60);
	return (0);
}

/* Does window <ww> hold minute <minute> of week day <wday>? */
static int
tw_holds(const struct tw_window *ww, int wday, int minute)
{
	int	 yesterday = (wday + 6) % 7;

	if (ww->ww_start <= ww->ww_end)
		return ((ww->ww_days & (1U << wday)) != 0 &&
		    minute >= ww->ww_start && minute <= ww->ww_end);
	return (((ww->ww_days & (1U << wday)) != 0 &&
	    minute >= ww->ww_start) ||
	    ((ww->ww_days & (1U << yesterday)) != 0 && minute <= ww->ww_end));
}

/* Is <now> inside a window?  See timewin.h. */
int
timewin_match(const struct timewin *tw, time_t now, char *rule,
    size_t rulelen)
{
	size_t	 n;
	int	 i, wday, minute;

	if (rule != NULL && rulelen > 0)
		rule[0] = '\0';
	if (tw == NULL || tw_localtime(tw, now, &wday, &minute) != 0)
		return (0);
	for (i = 0; i < tw->tw_count; i++) {
		if (!tw_holds(&tw->tw_win[i], wday, minute))
			continue;
		if (rule != NULL && rulelen > 0) {
			n = strlen(tw->tw_win[i].ww_text);
			if (n >= rulelen)
				n = rulelen - 1;
			memcpy(rule, tw->tw_win[i].ww_text, n);
			rule[n] = '\0';
		}
		return (1);
	}
	return (0);
}

/* Is <tz> a loadable zone name? */
int
timewin_tz_valid(const char *tz)
{
	struct tzfile	*z;

	if (!tzfile_name_valid(tz) || (z = tzfile_load(tz, NULL, 0)) == NULL)
		return (0);
	tzfile_free(z);
	return (1);
}
