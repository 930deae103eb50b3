/*
 * libFuzzer target for the TZif reader (tzfile.c).  The input is a TZif
 * file.  The oracle is a second, plain reading of RFC 8536 as tzfile.h
 * narrows it: tzfile_parse() must accept exactly the files whose header
 * counts are within its limits and whose data blocks are all there, with
 * at least one time type, every transition naming an existing type and
 * transition times strictly ascending (the 64-bit block when the version
 * is 2 or later).  For an accepted file, the offset at and around every
 * transition (up to 256 of them) must be the one of the type the latest
 * transition at or before that instant names (the first type's before
 * them all), for instants within 2^40 seconds of 1970.  After the last transition the footer decides: a version 1
 * file has none, so the last offset stays; otherwise the offset is either
 * the last one (no usable footer) or one a footer can give (within 25
 * hours of UTC).
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tzfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REF_HEADER	44
#define REF_MAXCHECK	256
/*
 * The footer's offsets: a POSIX TZ offset is at most 24:59:59, and a DST
 * offset left out is one hour ahead of standard time (up to 25:59:59).
 */
#define REF_FOOTERMAX	(26 * 3600L)
/*
 * Instants checked: within 2^40 s (35 000 years) of 1970.  The footer
 * arithmetic of tzfile.c overflows near the ends of time_t, which no clock
 * reading reaches.
 */
#define REF_TMAX	(1LL << 40)

/* The block of a TZif file the reference reads. */
struct ref_tz {
	const uint8_t	*rt_times;
	const uint8_t	*rt_idx;
	const uint8_t	*rt_types;
	uint32_t	 rt_timecnt;
	uint32_t	 rt_typecnt;
	size_t		 rt_tsize;	/* 4 or 8 */
	int		 rt_footer;	/* version 2 or later */
};

/* Unsigned big-endian value of <n> bytes at <p>. */
static uint64_t
ref_be(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return (v);
}

/* Transition <i> as a signed instant. */
static int64_t
ref_time(const struct ref_tz *r, size_t i)
{
	uint64_t	 v = ref_be(r->rt_times + i * r->rt_tsize, r->rt_tsize);

	if (r->rt_tsize == 4)
		return ((int32_t)(uint32_t)v);
	return ((int64_t)v);
}

/* UT offset of time type <t>. */
static long
ref_utoff(const struct ref_tz *r, size_t t)
{
	return ((int32_t)(uint32_t)ref_be(r->rt_types + 6 * t, 4));
}

/*
 * Check one header and its data at <p> (<left> bytes from there): the
 * limits of tzfile.c (at most 100000 transitions and leap records, 256
 * types and indicators, 65536 bytes of abbreviations).  Returns the size
 * of header and data, or 0 if the file is to be refused.
 */
static size_t
ref_block(const uint8_t *p, size_t left, size_t tsize, struct ref_tz *r)
{
	uint64_t	 isut, isstd, leap, timecnt, typecnt, charcnt, need;

	if (left < REF_HEADER || memcmp(p, "TZif", 4) != 0)
		return (0);
	isut = ref_be(p + 20, 4);
	isstd = ref_be(p + 24, 4);
	leap = ref_be(p + 28, 4);
	timecnt = ref_be(p + 32, 4);
	typecnt = ref_be(p + 36, 4);
	charcnt = ref_be(p + 40, 4);
	if (isut > 256 || isstd > 256 || leap > 100000 || timecnt > 100000 ||
	    typecnt > 256 || charcnt > 65536)
		return (0);
	need = timecnt * tsize + timecnt + typecnt * 6 + charcnt +
	    leap * (tsize + 4) + isstd + isut;
	if (REF_HEADER + need > left)
		return (0);
	r->rt_times = p + REF_HEADER;
	r->rt_idx = r->rt_times + timecnt * tsize;
	r->rt_types = r->rt_idx + timecnt;
	r->rt_timecnt = (uint32_t)timecnt;
	r->rt_typecnt = (uint32_t)typecnt;
	r->rt_tsize = tsize;
	return ((size_t)(REF_HEADER + need));
}

/*
 * Read <buf> as the reference does.  The version is byte 4: NUL is 1,
 * any byte from '2' up means the 64-bit block follows the 32-bit one.
 * Returns 0, or -1 if the file is to be refused.
 */
static int
ref_read(const uint8_t *buf, size_t len, struct ref_tz *r)
{
	size_t	 n, i;

	memset(r, 0, sizeof(*r));
	if ((n = ref_block(buf, len, 4, r)) == 0)
		return (-1);
	if (buf[4] >= '2') {
		if (ref_block(buf + n, len - n, 8, r) == 0)
			return (-1);
		r->rt_footer = 1;
	}
	if (r->rt_typecnt == 0)
		return (-1);
	for (i = 0; i < r->rt_timecnt; i++)
		if (r->rt_idx[i] >= r->rt_typecnt ||
		    (i > 0 && ref_time(r, i) <= ref_time(r, i - 1)))
			return (-1);
	return (0);
}

/* The offset at <t> by a linear scan; *<after> says past the last one. */
static long
ref_offset(const struct ref_tz *r, int64_t t, int *after)
{
	size_t	 i, last = 0;
	int	 any = 0;

	for (i = 0; i < r->rt_timecnt && ref_time(r, i) <= t; i++) {
		last = i;
		any = 1;
	}
	*after = r->rt_timecnt == 0 || (any && last == r->rt_timecnt - 1);
	return (any ? ref_utoff(r, r->rt_idx[last]) : ref_utoff(r, 0));
}

/* Compare tzfile_offset() at <t> with the reference. */
static void
ref_check(const struct tzfile *tz, const struct ref_tz *r, int64_t t)
{
	long	 want, got;
	int	 after;

	if (t > REF_TMAX || t < -REF_TMAX)
		return;
	want = ref_offset(r, t, &after);
	got = tzfile_offset(tz, (time_t)t);
	if (!after || !r->rt_footer) {
		if (got != want)
			abort();
		return;
	}
	if (got != want && (got > REF_FOOTERMAX || got < -REF_FOOTERMAX))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t	 fixed[] = {
		-REF_TMAX, INT32_MIN, -1, 0, 1, 1704067200, 1719792000,
		INT32_MAX, REF_TMAX
	};
	struct ref_tz		 r;
	struct tzfile		*tz;
	uint8_t			*copy;
	char			 err[128];
	size_t			 i, step;
	int64_t			 t;
	int			 ok;

	/* An exact-size heap copy, so a read past <size> is caught. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(copy, data, size);
	ok = ref_read(copy, size, &r) == 0;
	err[0] = '\0';
	tz = tzfile_parse(copy, size, err, sizeof(err));
	if ((tz != NULL) != ok || (tz == NULL && err[0] == '\0'))
		abort();
	if (tz != NULL) {
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			ref_check(tz, &r, fixed[i]);
		step = r.rt_timecnt / REF_MAXCHECK + 1;
		for (i = 0; i < r.rt_timecnt; i += step) {
			t = ref_time(&r, i);
			ref_check(tz, &r, t);
			if (t > INT64_MIN)
				ref_check(tz, &r, t - 1);
			if (t < INT64_MAX)
				ref_check(tz, &r, t + 1);
		}
		if (r.rt_timecnt > 0)
			ref_check(tz, &r, ref_time(&r, r.rt_timecnt - 1));
		tzfile_free(tz);
	}
	free(copy);
	return (0);
}
