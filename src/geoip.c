/*
 * Country look-ups in MaxMind DB files through libmaxminddb.  Each file is
 * opened once however many services name it (a short list keyed by path,
 * with reference counts) and reopened when it is replaced or on SIGHUP.
 * A reopen builds the new MMDB_s completely before it takes the place of
 * the old one, so a look-up sees either database, never a half-open one;
 * a file that fails to open leaves the old database in service.
 *
 * libmaxminddb maps the file it opens (MMDB_MODE_MMAP is its only mode),
 * and a look-up in a mapped file that was truncated or rewritten in place
 * dies of SIGBUS or reads garbage.  So the daemon never maps the admin's
 * file: it reads it into a private, sealed memory file (memfd_create(2))
 * and opens that through /proc/self/fd.  Whatever then happens to the
 * file on disk, the loaded copy does not change.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <maxminddb.h>

#include "geoip.h"

#define GEOIP_ERRMAX	1024	/* a message from geoip_load() */
/* Largest database copied (GeoIP2 City is about 70 MB, Enterprise 1 GB). */
#define GEOIP_MAXSIZE	((off_t)4 << 30)
#define GEOIP_COPYBUF	65536
#define GEOIP_SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
	    F_SEAL_SEAL)

/* Identity of a database file, to notice that it has been replaced. */
struct geoip_stamp {
	dev_t		 gs_dev;
	ino_t		 gs_ino;
	off_t		 gs_size;
	struct timespec	 gs_mtim;
};

/* One database file, shared by every service that names its path. */
struct geoip {
	struct geoip		*gi_next;
	char			*gi_path;
	MMDB_s			*gi_db;		/* fully open, not NULL */
	struct geoip_stamp	 gi_stamp;	/* file last tried */
	time_t			 gi_checked;	/* when geoip_check() looked */
	int			 gi_refs;
	int			 gi_gone;	/* stat(2) failed, reported */
};

/* Every open database; few, so a list searched by path. */
static int	geoip_frozen;	/* a worker: the master checks the files */
static struct geoip	*geoip_list;

/* The identity of the file that <sb> describes. */
static void
geoip_stamp_set(struct geoip_stamp *gs, const struct stat *sb)
{
	memset(gs, 0, sizeof(*gs));
	gs->gs_dev = sb->st_dev;
	gs->gs_ino = sb->st_ino;
	gs->gs_size = sb->st_size;
	gs->gs_mtim = sb->st_mtim;
}

/* Whether <a> and <b> name the same version of a file. */
static int
geoip_stamp_equal(const struct geoip_stamp *a, const struct geoip_stamp *b)
{
	return a->gs_dev == b->gs_dev && a->gs_ino == b->gs_ino &&
	    a->gs_size == b->gs_size &&
	    a->gs_mtim.tv_sec == b->gs_mtim.tv_sec &&
	    a->gs_mtim.tv_nsec == b->gs_mtim.tv_nsec;
}

/*
 * Copy the file open on <fd> into a new memory file, sealed so that
 * nothing can change its size or content any more.  The file is read with
 * read(2), which sees a concurrent truncation as an early end of file
 * (MMDB_open() then refuses the copy) instead of a SIGBUS.  Returns the
 * memory file, or -1 with errno set (EFBIG past GEOIP_MAXSIZE).
 */
static int
geoip_copy(int fd)
{
	char	 buf[GEOIP_COPYBUF];
	off_t	 total = 0;
	ssize_t	 n, w, off;
	int	 mfd, saved;

	if ((mfd = memfd_create("portgate-geoip", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if ((total += n) > GEOIP_MAXSIZE) {
			errno = EFBIG;
			goto fail;
		}
		for (off = 0; off < n; off += w) {
			if ((w = write(mfd, buf + off, n - off)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				goto fail;
			}
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, GEOIP_SEALS) == -1)
		goto fail;
	return mfd;

fail:
	saved = errno;
	(void)close(mfd);
	errno = saved;
	return -1;
}

/*
 * Open the database at <path> into a new MMDB_s and record its file in
 * <gs>.  The file is looked at before it is copied: if it is replaced in
 * between, <gs> is older than the database and the next check reopens it
 * once more, which is harmless (the other order could miss the change).
 * Returns the database, or NULL with a message in <err>.
 */
static MMDB_s *
geoip_load(const char *path, struct geoip_stamp *gs, char *err,
    size_t errlen)
{
	struct stat	 sb;
	MMDB_s		*db = NULL;
	char		 copy[64];
	int		 fd, mfd = -1, rc;

	/* O_NONBLOCK: a FIFO must not block the open (it is refused next). */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s: %s", path,
		    MMDB_strerror(MMDB_FILE_OPEN_ERROR), strerror(errno));
		goto done;
	}
	geoip_stamp_set(gs, &sb);
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		snprintf(err, errlen, "%s: not a valid MaxMind DB: %s", path,
		    S_ISREG(sb.st_mode) ? "empty file" : "not a regular file");
		goto done;
	}
	if ((mfd = geoip_copy(fd)) == -1) {
		snprintf(err, errlen, "%s: cannot make a private copy: %s",
		    path, strerror(errno));
		goto done;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "%s: %s", path,
		    MMDB_strerror(MMDB_OUT_OF_MEMORY_ERROR));
		goto done;
	}
	(void)snprintf(copy, sizeof(copy), "/proc/self/fd/%d", mfd);
	if ((rc = MMDB_open(copy, MMDB_MODE_MMAP, db)) != MMDB_SUCCESS) {
		/* MMDB_open() keeps errno across its own clean-up. */
		if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
			snprintf(err, errlen, "%s: %s: its private copy %s: "
			    "%s (is /proc mounted?)", path, MMDB_strerror(rc),
			    copy, strerror(errno));
		else
			snprintf(err, errlen, "%s: not a valid MaxMind DB: %s",
			    path, MMDB_strerror(rc));
		free(db);
		db = NULL;
	}
done:
	/* The mapping MMDB_open() made keeps the copy alive. */
	if (mfd != -1)
		(void)close(mfd);
	if (fd != -1)
		(void)close(fd);
	return db;
}

/* Close and free a database from geoip_load(). */
static void
geoip_db_free(MMDB_s *db)
{
	if (db == NULL)
		return;
	MMDB_close(db);
	free(db);
}

/* Open <path> or share the database already open there; see geoip.h. */
struct geoip *
geoip_open(const char *path, char *err, size_t errlen)
{
	struct geoip	*g;

	for (g = geoip_list; g != NULL; g = g->gi_next) {
		if (strcmp(g->gi_path, path) == 0) {
			g->gi_refs++;
			return g;
		}
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->gi_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path,
		    MMDB_strerror(MMDB_OUT_OF_MEMORY_ERROR));
		goto fail;
	}
	if ((g->gi_db = geoip_load(path, &g->gi_stamp, err, errlen)) == NULL)
		goto fail;
	g->gi_checked = (time_t)-1;
	g->gi_refs = 1;
	g->gi_next = geoip_list;
	geoip_list = g;
	return g;

fail:
	if (g != NULL)
		free(g->gi_path);
	free(g);
	return NULL;
}

/* Drop a reference; the last one closes the database. */
void
geoip_unref(struct geoip *g)
{
	struct geoip	**gp;

	if (g == NULL || --g->gi_refs > 0)
		return;
	for (gp = &geoip_list; *gp != NULL; gp = &(*gp)->gi_next) {
		if (*gp == g) {
			*gp = g->gi_next;
			break;
		}
	}
	geoip_db_free(g->gi_db);
	free(g->gi_path);
	free(g);
}

/* Whether <c> is an ASCII letter, whatever the locale. */
static int
geoip_isalpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * Country of <sa> in <g>, with IPv4-mapped IPv6 addresses turned into
 * IPv4 ones first; see geoip.h.  MMDB_aget_value() with a fixed path is
 * used because MMDB_get_value() allocates the path array on every call.
 */
const char *
geoip_country(struct geoip *g, const struct sockaddr *sa, char cc[3])
{
	static const char *const	 path[] = { "country", "iso_code",
					    NULL };
	const struct sockaddr_in6	*sin6;
	struct sockaddr_in		 sin;
	MMDB_lookup_result_s		 res;
	MMDB_entry_data_s		 val;
	const char			*s;
	int				 mmerr;

	memcpy(cc, "--", 3);
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12],
			    sizeof(sin.sin_addr));
			sa = (const struct sockaddr *)&sin;
		}
	} else if (sa->sa_family != AF_INET)
		return cc;

	res = MMDB_lookup_sockaddr(g->gi_db, sa, &mmerr);
	if (mmerr != MMDB_SUCCESS || !res.found_entry)
		return cc;
	if (MMDB_aget_value(&res.entry, &val, path) != MMDB_SUCCESS ||
	    !val.has_data || val.type != MMDB_DATA_TYPE_UTF8_STRING ||
	    val.data_size != 2)
		return cc;
	/* Only two ASCII letters: the code ends up in logs and matches. */
	s = val.utf8_string;
	if (!geoip_isalpha(s[0]) || !geoip_isalpha(s[1]))
		return cc;
	cc[0] = (char)(s[0] & ~0x20);
	cc[1] = (char)(s[1] & ~0x20);
	return cc;
}

/*
 * Reopen <g> if its file changed, or in any case when <force>; see
 * geoip.h.  A file that cannot be opened is remembered, so that it is
 * reported once and tried again only when it changes once more (or on the
 * next SIGHUP).
 */
enum geoip_change
geoip_check(struct geoip *g, time_t now, int force, char *msg,
    size_t msglen)
{
	struct geoip_stamp	 gs;
	struct stat		 sb;
	MMDB_s			*db, *old;
	char			 err[GEOIP_ERRMAX];
	int			 gone;

	if (geoip_frozen || (!force && now == g->gi_checked))
		return GEOIP_SAME;
	g->gi_checked = now;
	if (stat(g->gi_path, &sb) == -1) {
		gone = g->gi_gone;
		g->gi_gone = 1;
		if (!force && gone)
			return GEOIP_SAME;
		snprintf(msg, msglen, "geoip_db %s: %s; keeping the database "
		    "already loaded", g->gi_path, strerror(errno));
		return GEOIP_KEPT;
	}
	g->gi_gone = 0;
	geoip_stamp_set(&gs, &sb);
	if (!force && geoip_stamp_equal(&gs, &g->gi_stamp))
		return GEOIP_SAME;
	if ((db = geoip_load(g->gi_path, &gs, err, sizeof(err))) == NULL) {
		snprintf(msg, msglen, "geoip_db %s; keeping the database "
		    "already loaded", err);
		g->gi_stamp = gs;
		return GEOIP_KEPT;
	}
	old = g->gi_db;
	g->gi_db = db;
	g->gi_stamp = gs;
	geoip_db_free(old);
	snprintf(msg, msglen, "geoip_db %s reloaded", g->gi_path);
	return GEOIP_RELOADED;
}

/* The open database after <g>, or the first; see geoip.h. */
void
geoip_freeze(void)
{
	geoip_frozen = 1;
}

struct geoip *
geoip_next(const struct geoip *g)
{
	return g == NULL ? geoip_list : g->gi_next;
}
