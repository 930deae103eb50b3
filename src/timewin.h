/*
 * access_times windows: "HH:MM-HH:MM", optionally preceded by days
 * ("Mon-Fri 08:00-18:00 Sat 10:00-12:00"), in local time or in the time
 * zone of access_tz.
 */
#ifndef PORTGATE_TIMEWIN_H
#define PORTGATE_TIMEWIN_H

#include <stddef.h>
#include <time.h>

struct timewin;

/*
 * Compile the words of access_times, to be evaluated in time zone <tz>
 * (an Area/City name, loaded now from the zoneinfo directory, or NULL for
 * local time).  A window "H:MM-H:MM" (hours 0-23, minutes 0-59, one or
 * two digits each) includes both ends at minute resolution, as xinetd:
 * "20:00-20:59" lasts until 20:59:59.  "24:00" may end a window and means
 * the end of the day (through 23:59:59).  A window whose end is before its
 * start crosses midnight ("22:00-02:00").  Windows add up.
 * Day words (Mon ... Sun or Monday ... Sunday, any case; ranges "Mon-Fri"
 * and wrapping "Fri-Mon") apply to the windows that follow them, up to the
 * next day word; consecutive day words add up ("Mon Wed 10:00-11:00");
 * windows before any day word apply to every day.  The after-midnight
 * part of a crossing window belongs to the following day ("Fri
 * 22:00-02:00" covers Saturday 00:00-02:00:59).
 * Returns NULL with a message in <err> naming the bad word and the
 * expected form, or the bad zone; <nwords> == 0 is an error.
 */
struct timewin *timewin_parse(char **words, int nwords, const char *tz,
	    char *err, size_t errlen);
/* Free <tw>; NULL is allowed. */
void	timewin_free(struct timewin *tw);
/*
 * Is <now> inside one of the windows?  Pure (no process-wide TZ change):
 * a named zone uses the table loaded by timewin_parse, local time uses
 * localtime_r(3).  Returns 1 inside, 0 outside (also for a NULL <tw>);
 * <rule> (if not NULL, <rulelen> bytes) receives the text of the first
 * matching window, with its day words ("Mon-Fri 08:00-18:00"), or "".
 */
int	timewin_match(const struct timewin *tw, time_t now, char *rule,
	    size_t rulelen);
/*
 * Is <tz> a known time zone name (safe relative name without "..", and
 * its TZif file loads)?  1 or 0.
 */
int	timewin_tz_valid(const char *tz);

#endif
