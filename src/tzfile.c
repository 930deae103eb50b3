/*
 * Named time zones: TZif files (RFC 8536, RFC 9636) parsed once into a
 * sorted table of transitions with the UTC offset in force after each,
 * plus the footer TZ rule for instants after the last transition.  Only
 * offsets are kept: access_times needs local wall-clock time, not zone
 * abbreviations or the DST flag.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tzfile.h"

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZ_MAXFILE	(1024 * 1024)
#define TZ_HEADER	44
#define TZ_SECSPERDAY	86400L

/* A date rule of the footer: Jn, n or Mm.w.d. */
enum tz_datekind {
	TZ_JULIAN,		/* Jn: 1-365, February 29 never counted */
	TZ_ZERO,		/* n: 0-365, February 29 counted */
	TZ_MWD			/* Mm.w.d: day d of week w of month m */
};

struct tz_date {
	enum tz_datekind td_kind;
	int		 td_day;	/* Jn, n; or d (0 Sunday) for Mm.w.d */
	int		 td_week;	/* 1-5, 5 the last */
	int		 td_month;	/* 1-12 */
	long		 td_time;	/* local seconds after midnight */
};

/* The footer: standard time, and DST between two dates if tr_dst. */
struct tz_rule {
	long		 tr_std;	/* seconds east of UTC */
	long		 tr_dstoff;
	int		 tr_dst;
	struct tz_date	 tr_start;
	struct tz_date	 tr_end;
};

struct tzfile {
	int64_t		*tz_times;	/* ascending transition instants */
	long		*tz_offs;	/* offset in force from tz_times[i] */
	size_t		 tz_count;
	long		 tz_first;	/* offset before the first one */
	int		 tz_hasrule;
	struct tz_rule	 tz_rule;
};

/* Format an error into <err>; returns NULL for the caller to pass on. */
static struct tzfile *
tz_err(char *err, size_t errlen, const char *msg, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s", msg, what);
	return (NULL);
}

/* Big-endian 32-bit signed value at <p>. */
static int32_t
tz_be32(const unsigned char *p)
{
	return ((int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]));
}

/* Big-endian 64-bit signed value at <p>. */
static int64_t
tz_be64(const unsigned char *p)
{
	return ((int64_t)((uint64_t)(uint32_t)tz_be32(p) << 32 |
	    (uint32_t)tz_be32(p + 4)));
}

/* Days from 1970-01-01 to <y>-<m>-<d> (proleptic Gregorian). */
static int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* The year of day <days> since 1970-01-01. */
static int64_t
tz_year_of_days(int64_t days)
{
	int64_t	 z, era, doe, yoe, doy, mp;

	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return (yoe + era * 400 + (mp >= 10 ? 1 : 0));
}

/* Floor division of <a> by positive <b>. */
static int64_t
tz_floordiv(int64_t a, int64_t b)
{
	return (a >= 0 ? a / b : -((-a + b - 1) / b));
}

/* Is <y> a leap year? */
static int
tz_leap(int64_t y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/* Days since 1970-01-01 of the day that <td> names in year <y>. */
static int64_t
tz_rule_day(const struct tz_date *td, int64_t y)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t	 first;
	int	 wday, day, len;

	switch (td->td_kind) {
	case TZ_JULIAN:
		return (tz_days_from_civil(y, 1, 1) + td->td_day - 1 +
		    (tz_leap(y) && td->td_day >= 60));
	case TZ_ZERO:
		return (tz_days_from_civil(y, 1, 1) + td->td_day);
	default:
		break;
	}
	first = tz_days_from_civil(y, td->td_month, 1);
	wday = (int)(((first + 4) % 7 + 7) % 7);	/* 1970-01-01: Thu */
	day = 1 + (td->td_day - wday + 7) % 7 + (td->td_week - 1) * 7;
	len = mdays[td->td_month - 1] + (td->td_month == 2 && tz_leap(y));
	while (day > len)
		day -= 7;
	return (first + day - 1);
}

/* The offset the footer rule gives at instant <t>. */
static long
tz_rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t	 y, start, end;

	if (!r->tr_dst)
		return (r->tr_std);
	y = tz_year_of_days(tz_floordiv(t + r->tr_std, TZ_SECSPERDAY));
	start = tz_rule_day(&r->tr_start, y) * TZ_SECSPERDAY +
	    r->tr_start.td_time - r->tr_std;
	end = tz_rule_day(&r->tr_end, y) * TZ_SECSPERDAY +
	    r->tr_end.td_time - r->tr_dstoff;
	if (start < end)
		return (t >= start && t < end ? r->tr_dstoff : r->tr_std);
	return (t >= end && t < start ? r->tr_std : r->tr_dstoff);
}

/* Parse an unsigned number of at most <max> into *<v>. */
static const char *
tz_num(const char *s, long max, long *v)
{
	const char	*p;

	*v = 0;
	for (p = s; *p >= '0' && *p <= '9'; p++)
		if ((*v = *v * 10 + (*p - '0')) > max)
			return (NULL);
	return (p == s ? NULL : p);
}

/*
 * Parse "[+-]hh[:mm[:ss]]", hours up to <maxh>, into seconds *<v>.
 * Returns the end, or NULL.
 */
static const char *
tz_hms(const char *s, long maxh, long *v)
{
	long	 h, m = 0, sec = 0;
	int	 neg = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if ((s = tz_num(s, maxh, &h)) == NULL)
		return (NULL);
	if (*s == ':' && (s = tz_num(s + 1, 59, &m)) != NULL && *s == ':')
		s = tz_num(s + 1, 59, &sec);
	if (s == NULL)
		return (NULL);
	*v = (h * 3600 + m * 60 + sec) * (neg ? -1 : 1);
	return (s);
}

/* Skip a zone abbreviation: "<...>" or three or more letters. */
static const char *
tz_name(const char *s)
{
	const char	*p;

	if (*s == '<') {
		p = strchr(s, '>');
		return (p == NULL || p - s < 4 ? NULL : p + 1);
	}
	for (p = s; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
	    p++)
		;
	return (p - s < 3 ? NULL : p);
}

/* Parse ",date[/time]" into <td>.  Returns the end, or NULL. */
static const char *
tz_date(const char *s, struct tz_date *td)
{
	long	 a, b, c;

	if (*s++ != ',')
		return (NULL);
	td->td_time = 2 * 3600;
	if (*s == 'J') {
		if ((s = tz_num(s + 1, 365, &a)) == NULL || a < 1)
			return (NULL);
		td->td_kind = TZ_JULIAN;
		td->td_day = (int)a;
	} else if (*s == 'M') {
		if ((s = tz_num(s + 1, 12, &a)) == NULL || a < 1 ||
		    *s != '.' || (s = tz_num(s + 1, 5, &b)) == NULL || b < 1 ||
		    *s != '.' || (s = tz_num(s + 1, 6, &c)) == NULL)
			return (NULL);
		td->td_kind = TZ_MWD;
		td->td_month = (int)a;
		td->td_week = (int)b;
		td->td_day = (int)c;
	} else {
		if ((s = tz_num(s, 365, &a)) == NULL)
			return (NULL);
		td->td_kind = TZ_ZERO;
		td->td_day = (int)a;
	}
	if (*s == '/')
		s = tz_hms(s + 1, 167, &td->td_time);
	return (s);
}

/*
 * Parse the footer TZ string <s> into <r>: "std offset [dst [offset]
 * [,start[/time],end[/time]]]"; without dates, the US rules of POSIX.
 * Returns 0, or -1 when it is not of that form.
 */
static int
tz_parse_rule(const char *s, struct tz_rule *r)
{
	long	 off;

	memset(r, 0, sizeof(*r));
	if ((s = tz_name(s)) == NULL || (s = tz_hms(s, 24, &off)) == NULL)
		return (-1);
	r->tr_std = -off;
	if (*s == '\0')
		return (0);
	if ((s = tz_name(s)) == NULL)
		return (-1);
	r->tr_dst = 1;
	r->tr_dstoff = r->tr_std + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = tz_hms(s, 24, &off)) == NULL)
			return (-1);
		r->tr_dstoff = -off;
	}
	if (*s == '\0')
		s = ",M3.2.0,M11.1.0";
	if ((s = tz_date(s, &r->tr_start)) == NULL ||
	    (s = tz_date(s, &r->tr_end)) == NULL || *s != '\0')
		return (-1);
	return (0);
}

/* Read the footer "\n...\n" at <p> (<len> bytes left) into <tz>. */
static void
tz_footer(struct tzfile *tz, const unsigned char *p, size_t len)
{
	const unsigned char	*nl;
	char			 buf[256];
	size_t			 n;

	if (len < 2 || p[0] != '\n')
		return;
	if ((nl = memchr(p + 1, '\n', len - 1)) == NULL)
		return;
	n = (size_t)(nl - p - 1);
	if (n == 0 || n >= sizeof(buf) || memchr(p + 1, '\0', n) != NULL)
		return;
	memcpy(buf, p + 1, n);
	buf[n] = '\0';
	tz->tz_hasrule = tz_parse_rule(buf, &tz->tz_rule) == 0;
}

/* Parse a TZif file; see tzfile.h. */
struct tzfile *
tzfile_parse(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	struct tzfile		*tz;
	const unsigned char	*p, *idx, *types, *foot;
	uint32_t		 cnt[6];
	size_t			 tsize = 4, need, i;
	int			 v;

	if (len < TZ_HEADER || memcmp(buf, "TZif", 4) != 0)
		return (tz_err(err, errlen, "not a TZif file", ""));
	v = buf[4] == '\0' ? 1 : buf[4] - '0';
	p = buf;
	for (;;) {
		if ((size_t)(p - buf) + TZ_HEADER > len ||
		    memcmp(p, "TZif", 4) != 0)
			return (tz_err(err, errlen, "truncated TZif file", ""));
		for (i = 0; i < 6; i++)
			cnt[i] = (uint32_t)tz_be32(p + 20 + 4 * i);
		/* isut, isstd, leap, time, type, char */
		if (cnt[3] > 100000 || cnt[4] > 256 || cnt[2] > 100000 ||
		    cnt[5] > 65536 || cnt[0] > 256 || cnt[1] > 256)
			return (tz_err(err, errlen, "corrupt TZif file", ""));
		need = cnt[3] * (tsize + 1) + cnt[4] * 6 + cnt[5] +
		    cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if ((size_t)(p - buf) + TZ_HEADER + need > len)
			return (tz_err(err, errlen, "truncated TZif file", ""));
		if (v < 2 || tsize == 8)
			break;
		p += TZ_HEADER + need;	/* skip the 32-bit data */
		tsize = 8;
	}
	if (cnt[4] == 0)
		return (tz_err(err, errlen, "TZif file without time types",
		    ""));
	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return (tz_err(err, errlen, "out of memory", ""));
	p += TZ_HEADER;
	idx = p + cnt[3] * tsize;
	types = idx + cnt[3];
	if (cnt[3] > 0 &&
	    ((tz->tz_times = calloc(cnt[3], sizeof(*tz->tz_times))) == NULL ||
	    (tz->tz_offs = calloc(cnt[3], sizeof(*tz->tz_offs))) == NULL)) {
		tzfile_free(tz);
		return (tz_err(err, errlen, "out of memory", ""));
	}
	for (i = 0; i < cnt[3]; i++) {
		tz->tz_times[i] = tsize == 8 ? tz_be64(p + 8 * i) :
		    tz_be32(p + 4 * i);
		if (idx[i] >= cnt[4] ||
		    (i > 0 && tz->tz_times[i] <= tz->tz_times[i - 1])) {
			tzfile_free(tz);
			return (tz_err(err, errlen, "corrupt TZif file", ""));
		}
		tz->tz_offs[i] = tz_be32(types + 6 * idx[i]);
	}
	tz->tz_count = cnt[3];
	tz->tz_first = tz_be32(types);
	if (tsize == 8) {
		foot = types + cnt[4] * 6 + cnt[5] + cnt[2] * 12 + cnt[1] +
		    cnt[0];
		tz_footer(tz, foot, len - (size_t)(foot - buf));
	}
	return (tz);
}

/* Is <name> a safe relative zone name? */
int
tzfile_name_valid(const char *name)
{
	const char	*p;

	if (name == NULL || *name == '\0' || *name == '/' ||
	    strlen(name) > 255 || strstr(name, "..") != NULL)
		return (0);
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-.", *p) != NULL))
			return (0);
	return (1);
}

/* Load a zone by name; see tzfile.h. */
struct tzfile *
tzfile_load(const char *name, char *err, size_t errlen)
{
	struct tzfile	*tz;
	struct stat	 st;
	unsigned char	*buf;
	const char	*dir;
	char		 path[1024], msg[64];
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if (!tzfile_name_valid(name))
		return (tz_err(err, errlen, "bad time zone name: ",
		    name == NULL ? "(null)" : name));
	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] != '/')
		dir = TZ_DEFAULT_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return (tz_err(err, errlen, "time zone name too long: ", name));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(msg, sizeof(msg), "%s: ", strerror(errno));
		return (tz_err(err, errlen, msg, path));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TZ_MAXFILE) {
		close(fd);
		return (tz_err(err, errlen, "not a time zone file: ", path));
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return (tz_err(err, errlen, "out of memory", ""));
	}
	while (off < (size_t)st.st_size &&
	    (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	tz = tzfile_parse(buf, off, err, errlen);
	free(buf);
	if (tz == NULL && err != NULL && errlen > 0 &&
	    strlen(err) + strlen(path) + 3 < errlen) {
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
	}
	return (tz);
}

/* Free a zone. */
void
tzfile_free(struct tzfile *tz)
{
	if (tz == NULL)
		return;
	free(tz->tz_times);
	free(tz->tz_offs);
	free(tz);
}

/* UTC offset at <t>: binary search, then the footer past the end. */
long
tzfile_offset(const struct tzfile *tz, time_t t)
{
	size_t	 lo, hi, mid;

	if (tz->tz_count == 0)
		return (tz->tz_hasrule ? tz_rule_offset(&tz->tz_rule, t) :
		    tz->tz_first);
	if ((int64_t)t < tz->tz_times[0])
		return (tz->tz_first);
	if ((int64_t)t >= tz->tz_times[tz->tz_count - 1])
		return (tz->tz_hasrule ? tz_rule_offset(&tz->tz_rule, t) :
		    tz->tz_offs[tz->tz_count - 1]);
	lo = 0;
	hi = tz->tz_count - 1;		/* times[lo] <= t < times[hi] */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->tz_times[mid] <= (int64_t)t)
			lo = mid;
		else
			hi = mid;
	}
	return (tz->tz_offs[lo]);
}
