/*
 * Named time zones (access_tz): a TZif file (RFC 8536, versions 1 to 3)
 * read once, at load, into a table of transitions, so that the UTC offset
 * of any instant is found by a binary search without touching the
 * process-wide TZ.
 */
#ifndef PORTGATE_TZFILE_H
#define PORTGATE_TZFILE_H

#include <stddef.h>
#include <time.h>

struct tzfile;

/*
 * Is <name> acceptable as a zone name: not empty, relative, made of
 * letters, digits and "/_+-.", without ".."?  Says nothing about whether
 * the zone exists.  Returns 1 or 0.
 */
int	tzfile_name_valid(const char *name);

/*
 * Load zone <name> from $TZDIR (when set to an absolute path) or
 * /usr/share/zoneinfo.  Returns the zone, or NULL with a message in <err>.
 */
struct tzfile *tzfile_load(const char *name, char *err, size_t errlen);

/*
 * Parse the TZif data <buf> of <len> bytes.  The 64-bit data of version 2
 * and 3 files is used when present.  The footer TZ string
 * ("std offset [dst [offset] [,start[/time],end[/time]]]", start and end
 * as Mm.w.d, Jn or n) is parsed if possible and then gives the offset
 * after the last transition (and at every time when there is none); when
 * it is missing or cannot be parsed, the offset of the last transition
 * stays in force.  Leap-second records are ignored.  Returns the zone, or
 * NULL with a message in <err>.
 */
struct tzfile *tzfile_parse(const unsigned char *buf, size_t len, char *err,
	    size_t errlen);

/* Free <tz>; NULL is allowed. */
void	tzfile_free(struct tzfile *tz);

/*
 * The offset of local time from UTC, in seconds east of Greenwich, at
 * instant <t> in zone <tz>.  Pure.
 */
long	tzfile_offset(const struct tzfile *tz, time_t t);

#endif
