/*
 * Country look-ups in a MaxMind DB (GeoIP2/GeoLite2 Country or City, or any
 * database with country.iso_code), isolating libmaxminddb.  Databases are
 * shared by path, looked up in a private in-memory copy (the file may be
 * rewritten in place) and loaded again when their file changes.
 */
#ifndef PORTGATE_GEOIP_H
#define PORTGATE_GEOIP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

struct geoip;

/*
 * Open the database at <path>, or take another reference on the one
 * already open at that same path string.  Returns NULL with a message
 * "<path>: <reason>" in <err> when the file is missing or not a valid
 * MaxMind DB.
 */
struct geoip	*geoip_open(const char *path, char *err, size_t errlen);
/* Drop a reference (NULL is ignored); the last one closes the database. */
void		 geoip_unref(struct geoip *);

/*
 * The ISO 3166-1 alpha-2 country of <sa> (an IPv4-mapped IPv6 address is
 * looked up as IPv4) into <cc>: "FR", or "--" when the database has no
 * country for it.  Returns <cc>.  Never blocks, never allocates.
 */
const char	*geoip_country(struct geoip *, const struct sockaddr *sa,
		    char cc[3]);

/* What geoip_check() did. */
enum geoip_change {
	GEOIP_SAME = 0,		/* not due, or the file unchanged: no message */
	GEOIP_RELOADED,		/* the new file is in service (a notice) */
	GEOIP_KEPT		/* the file cannot be loaded: the old copy
				   stays in service (a warning) */
};

/* Room for a message of geoip_check(). */
#define GEOIP_MSGMAX	1152

/*
 * Load <g> again if its file changed (inode, size or modification time;
 * looked at once a second at most: pass the current time), or in any case
 * when <force> (SIGHUP).  A file that cannot be loaded leaves the old
 * database in service and is reported once, until it changes again or
 * <force>; with <force> the result is never GEOIP_SAME.  Look-ups never
 * see a half-open database.  Never logs: for GEOIP_RELOADED and
 * GEOIP_KEPT, <msg> holds the line for the caller to log ("geoip_db PATH
 * reloaded", "geoip_db PATH: REASON; keeping the database already
 * loaded").
 */
enum geoip_change geoip_check(struct geoip *g, time_t now, int force,
		    char *msg, size_t msglen);
/*
 * Every open database in turn, for a check of them all: the first when
 * <g> is NULL, NULL after the last.
 */
struct geoip	*geoip_next(const struct geoip *g);
/*
 * A worker cannot see the files: geoip_check() says GEOIP_SAME from now
 * on, and the master starts new workers when a database changes.
 */
void		 geoip_freeze(void);

#endif
