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

/*
 * Load again every open database whose file changed (inode, size or
 * modification time; checked at most once a second: pass the current
 * time), or every one
 * when <force> (SIGHUP).  A database that cannot be reopened keeps the old
 * one and is reported through log_warnx(), once until its file changes
 * again; a reopen is reported through log_info().  Look-ups never see a
 * half-open database.
 */
void		 geoip_refresh(time_t now, int force);

#endif
