/*
 * Copies of the TCP wrappers rule files for the workers; see
 * libwrap_tables.h.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tcpd.h>

#include "libwrap.h"
#include "libwrap_tables.h"
#include "log.h"

/* How often a worker looks at its copies (libwrap_recheck()). */
#define LIBWRAP_TABLES_RECHECK_MS	100

struct wrap_table {
	const char	*wt_name;	/* of the copy */
	char		*wt_orig;	/* libwrap's own path */
	struct stat	 wt_st;		/* of the original copied */
	int		 wt_copied;	/* 1: a copy, -1: none, 0: unknown */
};

static struct wrap_table	wrap_tables[2] = {
	{ .wt_name = "hosts.allow" },
	{ .wt_name = "hosts.deny" },
};

static void
libwrap_tables_init(void)
{
	if (wrap_tables[0].wt_orig == NULL)
		wrap_tables[0].wt_orig = hosts_allow_table;
	if (wrap_tables[1].wt_orig == NULL)
		wrap_tables[1].wt_orig = hosts_deny_table;
}

int
libwrap_tables_name(const char *name)
{
	return strcmp(name, wrap_tables[0].wt_name) == 0 ||
	    strcmp(name, wrap_tables[1].wt_name) == 0;
}

/* Has the original of <wt>, as <st> says, changed since it was copied? */
static int
libwrap_tables_changed(const struct wrap_table *wt, const struct stat *st)
{
	return wt->wt_copied != 1 || st->st_ino != wt->wt_st.st_ino ||
	    st->st_dev != wt->wt_st.st_dev || st->st_size != wt->wt_st.st_size ||
	    st->st_mtim.tv_sec != wt->wt_st.st_mtim.tv_sec ||
	    st->st_mtim.tv_nsec != wt->wt_st.st_mtim.tv_nsec ||
	    st->st_ctim.tv_sec != wt->wt_st.st_ctim.tv_sec ||
	    st->st_ctim.tv_nsec != wt->wt_st.st_ctim.tv_nsec;
}

/* Write all of <len> bytes; 0 or -1. */
static int
libwrap_tables_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy the file open on <in> to <name> in <dirfd>, by rename.  0 or -1. */
static int
libwrap_tables_put(int dirfd, const char *name, int in)
{
	char	 tmp[64], *buf;
	ssize_t	 n;
	size_t	 used = 0;
	int	 out, rc = -1;

	if ((buf = malloc(LIBWRAP_TABLE_MAX)) == NULL)
		return -1;
	while (used < LIBWRAP_TABLE_MAX && (n = read(in, buf + used,
	    LIBWRAP_TABLE_MAX - used)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -1;
		}
		used += (size_t)n;
	}
	(void)snprintf(tmp, sizeof(tmp), ".%s.new", name);
	(void)unlinkat(dirfd, tmp, 0);
	if ((out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
		free(buf);
		return -1;
	}
	if (fchmod(out, 0644) == 0 && libwrap_tables_write(out, buf,
	    used) == 0 && close(out) == 0) {
		out = -1;
		rc = renameat(dirfd, tmp, dirfd, name);
	}
	if (out != -1)
		(void)close(out);
	if (rc == -1)
		(void)unlinkat(dirfd, tmp, 0);
	free(buf);
	return rc;
}

int
libwrap_tables_copy(int dirfd)
{
	struct wrap_table	*wt;
	struct stat		 st;
	size_t			 i;
	int			 fd, changed = 0, failed = 0;

	libwrap_tables_init();
	for (i = 0; i < sizeof(wrap_tables) / sizeof(wrap_tables[0]); i++) {
		wt = &wrap_tables[i];
		fd = open(wt->wt_orig, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT) {
			if (wt->wt_copied != -1) {
				if (unlinkat(dirfd, wt->wt_name, 0) == -1 &&
				    errno != ENOENT) {
					log_warn("%s: cannot remove the copy",
					    wt->wt_name);
					failed = 1;
					continue;
				}
				wt->wt_copied = -1;
				changed = 1;
			}
			continue;
		}
		if (fd == -1 || fstat(fd, &st) == -1) {
			log_warn("%s", wt->wt_orig);
			if (fd != -1)
				(void)close(fd);
			failed = 1;
			continue;
		}
		if (libwrap_tables_changed(wt, &st)) {
			if (!S_ISREG(st.st_mode) || libwrap_tables_put(dirfd,
			    wt->wt_name, fd) == -1) {
				log_warn("%s: cannot copy it for the workers; "
				    "the copy they read stays", wt->wt_orig);
				failed = 1;
			} else {
				wt->wt_st = st;
				wt->wt_copied = 1;
				changed = 1;
			}
		}
		(void)close(fd);
	}
	return failed ? -1 : changed;
}

void
libwrap_tables_use(void)
{
	static char	allow[] = "/hosts.allow", deny[] = "/hosts.deny";

	libwrap_tables_init();
	hosts_allow_table = allow;
	hosts_deny_table = deny;
	/*
	 * The master replaces these copies at most once a second: a stat()
	 * of each at every client (two of a connection's twenty-odd system
	 * calls) would mostly find them unchanged.  A tenth of a second
	 * adds little to the second a change already takes to arrive.
	 */
	libwrap_recheck(LIBWRAP_TABLES_RECHECK_MS);
}

void
libwrap_tables_remove(const char *dir)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(wrap_tables) / sizeof(wrap_tables[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    wrap_tables[i].wt_name);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink %s", path);
	}
}
