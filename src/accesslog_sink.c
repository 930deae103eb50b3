/*
 * The destinations of access records: shared, reference-counted sinks.  A
 * FILE is opened with O_NOFOLLOW in its directory and must be a regular
 * file no other user may write; it has soft and hard size limits and is
 * reopened on SIGHUP.  SYSLOG goes to syslog(3) with its facility and
 * level; the default destination is syslog, or standard error in the
 * foreground.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "accesslog_int.h"
#include "log.h"

/* A destination, shared by every service that names the same one. */
struct accesslog {
	struct accesslog	*al_next;
	int			 al_refs;
	unsigned		 al_id;		/* names it to the master */
	enum logtype_kind	 al_kind;
	int			 al_facility;	/* SYSLOG */
	int			 al_level;	/* SYSLOG */
	char			*al_path;	/* FILE */
	int			 al_fd;		/* FILE */
	uint64_t		 al_size;	/* FILE: bytes in the file */
	uint64_t		 al_soft;	/* FILE: 0 for none */
	uint64_t		 al_hard;	/* FILE: 0 for none */
	int			 al_soft_warned;
	int			 al_stopped;	/* hard limit reached */
	int			 al_write_failed;
};

static struct accesslog	*accesslog_sinks;
static int		 accesslog_foreground;
static unsigned		 accesslog_next_id = 1;
static accesslog_forward_fn accesslog_forward;	/* a worker's */

/*
 * Whether the log file <path> that <st> describes may take our records: a
 * regular file that no other user may write or own (THREATS.md rule 6).
 * 0, or -1 with the reason in <err>.  A file its group may write is
 * logged, not refused.
 */
static int
accesslog_file_trusted(const struct stat *st, const char *path, char *err,
    size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		accesslog_seterr(err, errlen, "log file %s is not a regular "
		    "file", path);
		return -1;
	}
	if (st->st_mode & S_IWOTH) {
		accesslog_seterr(err, errlen, "log file %s is writable by "
		    "anyone: refusing it (chmod o-w)", path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		accesslog_seterr(err, errlen, "log file %s is owned by another "
		    "user (uid %lu): refusing it", path,
		    (unsigned long)st->st_uid);
		return -1;
	}
	if (st->st_mode & S_IWGRP)
		log_warnx("log file %s is writable by its group (chmod g-w)",
		    path);
	return 0;
}

/*
 * Open the file of a FILE sink and learn its size; the descriptor, or -1
 * with the reason in <err>.  The last component is opened with O_NOFOLLOW
 * in its directory: in a directory others may write (a 1777 log
 * directory), a symbolic link planted there must not make the daemon
 * append to the file it points to.  O_NONBLOCK keeps a FIFO from blocking
 * the open; it is then refused as not a regular file.
 */
static int
accesslog_file_open(const char *path, uint64_t *size, char *err,
    size_t errlen)
{
	struct stat	 st;
	const char	*base;
	char		*dir = NULL;
	int		 dfd = -1, fd = -1;

	if ((base = strrchr(path, '/')) == NULL || base[1] == '\0') {
		accesslog_seterr(err, errlen, "log file %s is not an absolute "
		    "path to a file", path);
		return -1;
	}
	if ((dir = strndup(path, base == path ? 1 : (size_t)(base - path))) ==
	    NULL) {
		accesslog_seterr(err, errlen, "%s", strerror(errno));
		return -1;
	}
	base++;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		accesslog_seterr(err, errlen, "cannot open log file %s: %s",
		    path, strerror(errno));
		goto fail;
	}
	fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd == -1) {
		if (errno == ELOOP)
			accesslog_seterr(err, errlen, "log file %s is a "
			    "symbolic link: refusing it (log files are opened "
			    "without following links)", path);
		else if (errno == EISDIR || errno == ENXIO)
			accesslog_seterr(err, errlen, "log file %s is not a "
			    "regular file", path);
		else
			accesslog_seterr(err, errlen, "cannot open log file "
			    "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		accesslog_seterr(err, errlen, "cannot stat log file %s: %s",
		    path, strerror(errno));
		goto fail;
	}
	if (accesslog_file_trusted(&st, path, err, errlen) == -1)
		goto fail;
	*size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	(void)close(dfd);
	free(dir);
	return fd;

fail:
	if (fd != -1)
		(void)close(fd);
	if (dfd != -1)
		(void)close(dfd);
	free(dir);
	return -1;
}

/* Take new limits for FILE sink <al> and re-arm their warnings. */
static void
accesslog_set_limits(struct accesslog *al, uint64_t soft, uint64_t hard)
{
	al->al_soft = soft;
	al->al_hard = hard;
	al->al_soft_warned = 0;
	al->al_stopped = 0;
}

/* Find an open sink equal to what <lt> describes. */
static struct accesslog *
accesslog_find(const struct logtype *lt)
{
	struct accesslog	*al;

	for (al = accesslog_sinks; al != NULL; al = al->al_next) {
		if (al->al_kind != lt->lt_kind)
			continue;
		switch (lt->lt_kind) {
		case LOGTYPE_FILE:
			if (strcmp(al->al_path, lt->lt_path) == 0)
				return al;
			break;
		case LOGTYPE_SYSLOG:
			if (al->al_facility == lt->lt_facility &&
			    al->al_level == lt->lt_level)
				return al;
			break;
		default:
			return al;
		}
	}
	return NULL;
}

/*
 * Open the sink for <lt>; see accesslog.h.  A FILE already open gets one
 * more reference and, if they differ, takes the limits of <lt>: the newest
 * configuration wins, and its limits are checked afresh.
 */
struct accesslog *
accesslog_open(const struct logtype *lt, char *err, size_t errlen)
{
	static const struct logtype	 none = { .lt_kind = LOGTYPE_NONE };
	struct accesslog		*al;

	if (lt == NULL)
		lt = &none;
	if (lt->lt_kind == LOGTYPE_FILE && lt->lt_path == NULL) {
		accesslog_seterr(err, errlen, "log file without a path");
		return NULL;
	}
	if ((al = accesslog_find(lt)) != NULL) {
		al->al_refs++;
		if (lt->lt_kind == LOGTYPE_FILE && (al->al_soft != lt->lt_soft ||
		    al->al_hard != lt->lt_hard))
			accesslog_set_limits(al, lt->lt_soft, lt->lt_hard);
		return al;
	}
	if ((al = calloc(1, sizeof(*al))) == NULL) {
		accesslog_seterr(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	al->al_refs = 1;
	al->al_id = accesslog_next_id++;
	al->al_kind = lt->lt_kind;
	al->al_facility = lt->lt_facility;
	al->al_level = lt->lt_level;
	al->al_fd = -1;
	if (lt->lt_kind == LOGTYPE_FILE) {
		if ((al->al_path = strdup(lt->lt_path)) == NULL) {
			accesslog_seterr(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		al->al_fd = accesslog_file_open(al->al_path, &al->al_size,
		    err, errlen);
		if (al->al_fd == -1)
			goto fail;
		accesslog_set_limits(al, lt->lt_soft, lt->lt_hard);
	}
	al->al_next = accesslog_sinks;
	accesslog_sinks = al;
	return al;

fail:
	free(al->al_path);
	free(al);
	return NULL;
}

/* Take one more reference on <al>. */
void
accesslog_ref(struct accesslog *al)
{
	if (al != NULL)
		al->al_refs++;
}

/* Drop a reference on <al>; the last one closes and frees it. */
void
accesslog_unref(struct accesslog *al)
{
	struct accesslog	**alp;

	if (al == NULL || --al->al_refs > 0)
		return;
	for (alp = &accesslog_sinks; *alp != NULL; alp = &(*alp)->al_next) {
		if (*alp == al) {
			*alp = al->al_next;
			break;
		}
	}
	if (al->al_fd != -1)
		(void)close(al->al_fd);
	free(al->al_path);
	free(al);
}

/* Send LOGTYPE_NONE records to standard error (1) or syslog (0). */
void
accesslog_set_foreground(int foreground)
{
	accesslog_foreground = foreground;
}

/*
 * Reopen every FILE sink with the checks of the first open, keeping the
 * old descriptor on failure.
 */
void
accesslog_reopen_all(void)
{
	struct accesslog	*al;
	uint64_t		 size;
	char			 err[PATH_MAX + 128];
	int			 fd;

	for (al = accesslog_sinks; al != NULL; al = al->al_next) {
		if (al->al_kind != LOGTYPE_FILE)
			continue;
		if ((fd = accesslog_file_open(al->al_path, &size, err,
		    sizeof(err))) == -1) {
			log_warnx("cannot reopen log file %s, writing on to "
			    "the file already open: %s", al->al_path, err);
			continue;
		}
		(void)close(al->al_fd);
		al->al_fd = fd;
		al->al_size = size;
		al->al_write_failed = 0;
		accesslog_set_limits(al, al->al_soft, al->al_hard);
	}
}

/* Write one record to a FILE sink, honouring its size limits. */
static void
accesslog_write_file(struct accesslog *al, const char *line)
{
	char	 rec[64 + ACCESSLOG_LINEMAX];
	size_t	 len;
	ssize_t	 w;
	int	 n;

	if (al->al_stopped)
		return;
	len = log_timestamp(rec, sizeof(rec), time(NULL));
	n = snprintf(rec + len, sizeof(rec) - len, ": %s\n", line);
	if (n < 0 || (size_t)n >= sizeof(rec) - len)
		return;
	len += (size_t)n;
	if (al->al_hard != 0 && al->al_size + len > al->al_hard) {
		al->al_stopped = 1;
		log_warnx("log file %s reached its hard limit of %" PRIu64
		    " bytes: no more records are written to it", al->al_path,
		    al->al_hard);
		return;
	}
	while ((w = write(al->al_fd, rec, len)) == -1 && errno == EINTR)
		continue;
	if (w == -1) {
		if (!al->al_write_failed)
			log_warn("cannot write to log file %s", al->al_path);
		al->al_write_failed = 1;
		return;
	}
	al->al_write_failed = 0;
	al->al_size += (uint64_t)w;
	if (al->al_soft != 0 && !al->al_soft_warned &&
	    al->al_size >= al->al_soft) {
		al->al_soft_warned = 1;
		log_warnx("log file %s reached its soft limit of %" PRIu64
		    " bytes", al->al_path, al->al_soft);
	}
}

/* Write <line> to standard error with a single write(2). */
static void
accesslog_write_stderr(const char *line)
{
	char	 rec[ACCESSLOG_LINEMAX + 1];
	int	 n;

	n = snprintf(rec, sizeof(rec), "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof(rec))
		return;
	while (write(STDERR_FILENO, rec, (size_t)n) == -1 && errno == EINTR)
		continue;
}

void
accesslog_set_forward(accesslog_forward_fn fn)
{
	struct accesslog	*al;

	accesslog_forward = fn;
	/* The master keeps the files: a worker could truncate them. */
	for (al = accesslog_sinks; al != NULL; al = al->al_next)
		if (al->al_fd != -1) {
			(void)close(al->al_fd);
			al->al_fd = -1;
		}
}

void
accesslog_write_id(unsigned id, const char *line)
{
	struct accesslog	*al;

	for (al = accesslog_sinks; al != NULL; al = al->al_next)
		if (al->al_id == id) {
			accesslog_sink_write(al, line);
			return;
		}
	log_debug("access record for a log no longer open: %s", line);
}

/* Write one record to sink <al>; see accesslog_int.h. */
void
accesslog_sink_write(struct accesslog *al, const char *line)
{
	if (accesslog_forward != NULL) {
		accesslog_forward(al->al_id, line);
		return;
	}
	switch (al->al_kind) {
	case LOGTYPE_FILE:
		accesslog_write_file(al, line);
		break;
	case LOGTYPE_SYSLOG:
		syslog(al->al_facility | al->al_level, "%s", line);
		break;
	default:
		if (accesslog_foreground)
			accesslog_write_stderr(line);
		else
			syslog(LOG_DAEMON | LOG_INFO, "%s", line);
		break;
	}
}
