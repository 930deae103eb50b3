/*
 * Access records: parse log_on_success, log_on_failure and log_type,
 * format the START, EXIT, FAIL and TRAFFIC lines exactly as xinetd does,
 * and write them to shared, reference-counted sinks (a FILE with soft and
 * hard size limits, syslog, or the default destination).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "log.h"

/* xinetd's LOGBUF_SIZE: a record is at most this long, NUL included. */
#define ACCESSLOG_LINEMAX	1024
/* Bounds of the default gap between the soft and the hard limit. */
#define ACCESSLOG_EXTRA_MIN	(5 * 1024)
#define ACCESSLOG_EXTRA_MAX	(20 * 1024)

#define ALOG_SUCCESS_ALL	(ALOG_PID | ALOG_HOST | ALOG_USERID | \
	    ALOG_EXIT | ALOG_DURATION | ALOG_TRAFFIC | ALOG_COUNTRY | \
	    ALOG_PORT | ALOG_TLS)
#define ALOG_FAILURE_ALL	(ALOG_HOST | ALOG_USERID | ALOG_ATTEMPT | \
	    ALOG_COUNTRY | ALOG_PORT)

/* One log_on_success/log_on_failure word. */
struct accesslog_field {
	const char	*af_name;
	unsigned	 af_bit;
	int		 af_success;	/* legal in log_on_success */
	int		 af_failure;	/* legal in log_on_failure */
};

static const struct accesslog_field accesslog_fields[] = {
	{ .af_name = "PID", .af_bit = ALOG_PID, .af_success = 1 },
	{ .af_name = "HOST", .af_bit = ALOG_HOST, .af_success = 1,
	    .af_failure = 1 },
	{ .af_name = "USERID", .af_bit = ALOG_USERID, .af_success = 1,
	    .af_failure = 1 },
	{ .af_name = "EXIT", .af_bit = ALOG_EXIT, .af_success = 1 },
	{ .af_name = "DURATION", .af_bit = ALOG_DURATION, .af_success = 1 },
	{ .af_name = "TRAFFIC", .af_bit = ALOG_TRAFFIC, .af_success = 1 },
	{ .af_name = "ATTEMPT", .af_bit = ALOG_ATTEMPT, .af_failure = 1 },
	{ .af_name = "COUNTRY", .af_bit = ALOG_COUNTRY, .af_success = 1,
	    .af_failure = 1 },
	{ .af_name = "PORT", .af_bit = ALOG_PORT, .af_success = 1,
	    .af_failure = 1 },
	{ .af_name = "TLS", .af_bit = ALOG_TLS, .af_success = 1 },
};

/* A syslog facility or level name. */
struct accesslog_name {
	const char	*an_name;
	int		 an_value;
};

static const struct accesslog_name accesslog_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
	{ "mail", LOG_MAIL }, { "lpr", LOG_LPR }, { "news", LOG_NEWS },
	{ "uucp", LOG_UUCP }, { "ftp", LOG_FTP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

static const struct accesslog_name accesslog_levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ NULL, 0 }
};

/* A destination, shared by every service that names the same one. */
struct accesslog {
	struct accesslog	*al_next;
	int			 al_refs;
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

/* A bounded string being built, remembering its untruncated length. */
struct accesslog_buf {
	char		*ab_buf;
	size_t		 ab_len;
	size_t		 ab_used;	/* as snprintf would have written */
	int		 ab_error;
};

static void	accesslog_add(struct accesslog_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	accesslog_seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Parse a list of field names into a mask; see accesslog.h. */
int
accesslog_parse_fields(char **words, int nwords, int failure,
    unsigned *mask, int *bad)
{
	const struct accesslog_field	*f;
	size_t				 j;
	unsigned			 m = 0;
	int				 i;

	for (i = 0; i < nwords; i++) {
		f = NULL;
		for (j = 0; j < sizeof(accesslog_fields) /
		    sizeof(accesslog_fields[0]); j++) {
			if (strcasecmp(words[i],
			    accesslog_fields[j].af_name) == 0) {
				f = &accesslog_fields[j];
				break;
			}
		}
		if (f == NULL || !(failure ? f->af_failure : f->af_success)) {
			if (bad != NULL)
				*bad = i;
			return -1;
		}
		m |= f->af_bit;
	}
	*mask = m;
	return 0;
}

/* The name of field <bit>, or NULL if it is not exactly one field. */
const char *
accesslog_field_name(unsigned bit)
{
	size_t	 j;

	for (j = 0; j < sizeof(accesslog_fields) / sizeof(accesslog_fields[0]);
	    j++)
		if (accesslog_fields[j].af_bit == bit)
			return accesslog_fields[j].af_name;
	return NULL;
}

/* Look <name> up in <table>, ignoring case; -1 if absent. */
static int
accesslog_lookup(const struct accesslog_name *table, const char *name)
{
	for (; table->an_name != NULL; table++)
		if (strcasecmp(table->an_name, name) == 0)
			return table->an_value;
	return -1;
}

/* Parse a syslog facility name; see accesslog.h. */
int
accesslog_facility(const char *name)
{
	return accesslog_lookup(accesslog_facilities, name);
}

/* Store a formatted message in <err> if there is room for one. */
static void
accesslog_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/*
 * Parse a size limit: decimal digits with an optional k/K (KiB) or m/M
 * (MiB) suffix, greater than zero.  Returns 0, or -1 if malformed, zero or
 * too large.
 */
static int
accesslog_parse_size(const char *s, uint64_t *res)
{
	uint64_t	 v = 0, mult = 1;
	const char	*p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	if (*p == 'k' || *p == 'K')
		mult = 1024;
	else if (*p == 'm' || *p == 'M')
		mult = 1024 * 1024;
	else if (*p != '\0')
		return -1;
	if (mult != 1 && p[1] != '\0')
		return -1;
	if (v == 0 || v > UINT64_MAX / mult)
		return -1;
	*res = v * mult;
	return 0;
}

/* Parse the words after "SYSLOG" into <lt>. */
static int
logtype_parse_syslog(struct logtype *lt, char **words, int nwords,
    char *err, size_t errlen)
{
	if (nwords < 2 || nwords > 3) {
		accesslog_seterr(err, errlen, "SYSLOG expects a facility and "
		    "an optional level, not %d word%s", nwords - 1,
		    nwords == 2 ? "" : "s");
		return -1;
	}
	if ((lt->lt_facility = accesslog_facility(words[1])) == -1) {
		accesslog_seterr(err, errlen, "unknown syslog facility \"%s\": "
		    "expected daemon, auth, authpriv, user, mail, lpr, news, "
		    "uucp, ftp or local0 to local7", words[1]);
		return -1;
	}
	if (nwords == 3 &&
	    (lt->lt_level = accesslog_lookup(accesslog_levels, words[2])) ==
	    -1) {
		accesslog_seterr(err, errlen, "unknown syslog level \"%s\": "
		    "expected emerg, alert, crit, err, warning, notice, info or "
		    "debug", words[2]);
		return -1;
	}
	lt->lt_kind = LOGTYPE_SYSLOG;
	return 0;
}

/* Parse the words after "FILE" into <lt>. */
static int
logtype_parse_file(struct logtype *lt, char **words, int nwords,
    char *err, size_t errlen)
{
	uint64_t	 extra;

	if (nwords < 2 || nwords > 4) {
		accesslog_seterr(err, errlen, "FILE expects a path and optional "
		    "soft and hard size limits, not %d word%s", nwords - 1,
		    nwords == 2 ? "" : "s");
		return -1;
	}
	if (words[1][0] != '/') {
		accesslog_seterr(err, errlen, "log file \"%s\" is not an "
		    "absolute path", words[1]);
		return -1;
	}
	if (nwords >= 3 && accesslog_parse_size(words[2], &lt->lt_soft) == -1) {
		accesslog_seterr(err, errlen, "bad soft limit \"%s\": expected "
		    "a number of bytes greater than 0, optionally followed by "
		    "k, K, m or M", words[2]);
		return -1;
	}
	if (nwords == 4) {
		if (accesslog_parse_size(words[3], &lt->lt_hard) == -1) {
			accesslog_seterr(err, errlen, "bad hard limit \"%s\": "
			    "expected a number of bytes greater than 0, "
			    "optionally followed by k, K, m or M", words[3]);
			return -1;
		}
		if (lt->lt_hard < lt->lt_soft) {
			accesslog_seterr(err, errlen, "hard limit \"%s\" "
			    "(%" PRIu64 " bytes) is less than soft limit \"%s\" "
			    "(%" PRIu64 " bytes)", words[3], lt->lt_hard,
			    words[2], lt->lt_soft);
			return -1;
		}
	} else if (nwords == 3) {
		extra = lt->lt_soft / 100;
		if (extra < ACCESSLOG_EXTRA_MIN)
			extra = ACCESSLOG_EXTRA_MIN;
		else if (extra > ACCESSLOG_EXTRA_MAX)
			extra = ACCESSLOG_EXTRA_MAX;
		if (lt->lt_soft > UINT64_MAX - extra) {
			accesslog_seterr(err, errlen, "soft limit \"%s\" is too "
			    "large", words[2]);
			return -1;
		}
		lt->lt_hard = lt->lt_soft + extra;
	}
	if ((lt->lt_path = strdup(words[1])) == NULL) {
		accesslog_seterr(err, errlen, "%s", strerror(errno));
		return -1;
	}
	lt->lt_kind = LOGTYPE_FILE;
	return 0;
}

/* Parse log_type words into <lt>; see accesslog.h. */
int
logtype_parse(struct logtype *lt, char **words, int nwords, char *err,
    size_t errlen)
{
	int	 rv;

	memset(lt, 0, sizeof(*lt));
	lt->lt_facility = LOG_DAEMON;
	lt->lt_level = LOG_INFO;
	if (nwords < 1) {
		accesslog_seterr(err, errlen, "log_type expects SYSLOG or FILE "
		    "and their arguments");
		return -1;
	}
	if (strcasecmp(words[0], "SYSLOG") == 0)
		rv = logtype_parse_syslog(lt, words, nwords, err, errlen);
	else if (strcasecmp(words[0], "FILE") == 0)
		rv = logtype_parse_file(lt, words, nwords, err, errlen);
	else {
		accesslog_seterr(err, errlen, "unknown log type \"%s\": "
		    "expected SYSLOG or FILE", words[0]);
		rv = -1;
	}
	if (rv == -1)
		logtype_clear(lt);
	return rv;
}

/* Free what logtype_parse() allocated and reset <lt>. */
void
logtype_clear(struct logtype *lt)
{
	free(lt->lt_path);
	memset(lt, 0, sizeof(*lt));
}

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

/* Append to <ab>, as snprintf would, truncating at its end. */
static void
accesslog_add(struct accesslog_buf *ab, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	if (ab->ab_used < ab->ab_len)
		n = vsnprintf(ab->ab_buf + ab->ab_used,
		    ab->ab_len - ab->ab_used, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		ab->ab_error = 1;
	else
		ab->ab_used += (size_t)n;
}

/* Append from= and the extensions that follow it. */
static void
accesslog_add_from(struct accesslog_buf *ab, unsigned mask,
    const struct access_rec *rec)
{
	if (mask & ALOG_HOST)
		accesslog_add(ab, " from=%s",
		    rec->ar_addr != NULL ? rec->ar_addr : "<no address>");
	if ((mask & ALOG_PORT) && rec->ar_port > 0)
		accesslog_add(ab, " port=%d", rec->ar_port);
	if ((mask & ALOG_COUNTRY) && rec->ar_country != NULL)
		accesslog_add(ab, " country=%s", rec->ar_country);
}

/* Append the EXIT fields. */
static void
accesslog_add_exit(struct accesslog_buf *ab, unsigned mask,
    const struct access_rec *rec)
{
	if (mask & ALOG_EXIT) {
		if (rec->ar_exited)
			accesslog_add(ab, " status=%d", rec->ar_status);
		else if (rec->ar_signaled)
			accesslog_add(ab, " signal=%d", rec->ar_status);
	}
	if (mask & ALOG_PID)
		accesslog_add(ab, " pid=%ld", (long)rec->ar_pid);
	if (mask & ALOG_DURATION)
		accesslog_add(ab, " duration=%lld(sec)",
		    (long long)rec->ar_duration);
}

/* Format one record without timestamp; see accesslog.h. */
int
accesslog_format(char *buf, size_t len, enum access_kind kind,
    unsigned mask, const struct access_rec *rec)
{
	struct accesslog_buf	 ab = { .ab_buf = buf, .ab_len = len };
	const char		*id;

	if (len > 0)
		buf[0] = '\0';
	if (rec == NULL)
		return -1;
	id = rec->ar_id != NULL ? rec->ar_id : "";
	switch (kind) {
	case ACCESS_START:
		accesslog_add(&ab, "START: %s", id);
		if (mask & ALOG_PID)
			accesslog_add(&ab, " pid=%ld", (long)rec->ar_pid);
		accesslog_add_from(&ab, mask, rec);
		break;
	case ACCESS_EXIT:
		accesslog_add(&ab, "EXIT: %s", id);
		accesslog_add_exit(&ab, mask, rec);
		break;
	case ACCESS_FAIL:
		accesslog_add(&ab, "FAIL: %s %s", id,
		    rec->ar_reason != NULL ? rec->ar_reason : "UNKNOWN");
		accesslog_add_from(&ab, mask, rec);
		break;
	case ACCESS_TRAFFIC:
		accesslog_add(&ab, "TRAFFIC: %s in=%" PRIu64 "(bytes) out=%"
		    PRIu64 "(bytes)", id, rec->ar_in, rec->ar_out);
		break;
	case ACCESS_USERID:
		accesslog_add(&ab, "USERID: %s %s", id,
		    rec->ar_ident != NULL ? rec->ar_ident : "");
		break;
	case ACCESS_NOID:
		accesslog_add(&ab, "NOID: %s %s %s", id,
		    rec->ar_addr != NULL ? rec->ar_addr : "<no address>",
		    rec->ar_ident != NULL ? rec->ar_ident : "UNKNOWN");
		break;
	default:
		ab.ab_error = 1;
		break;
	}
	if ((kind == ACCESS_START || kind == ACCESS_EXIT) &&
	    (mask & ALOG_TLS) && rec->ar_tls != NULL)
		accesslog_add(&ab, " tls=%s", rec->ar_tls);
	if (ab.ab_error || ab.ab_used > INT_MAX) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return (int)ab.ab_used;
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

/* Format a record of <kind> and send it to <al>. */
static void
accesslog_emit(struct accesslog *al, enum access_kind kind, unsigned mask,
    const struct access_rec *rec)
{
	char	 line[ACCESSLOG_LINEMAX];
	char	*p;

	if (accesslog_format(line, sizeof(line), kind, mask, rec) < 0)
		return;
	/* A record is one line whatever its fields hold. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
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

/* Write a START record if <mask> holds any log_on_success field. */
void
accesslog_start(struct accesslog *al, unsigned mask,
    const struct access_rec *rec)
{
	if (al == NULL || rec == NULL || (mask & ALOG_SUCCESS_ALL) == 0)
		return;
	accesslog_emit(al, ACCESS_START, mask, rec);
}

/*
 * Write the end of a session: TRAFFIC with ALOG_TRAFFIC, then EXIT with
 * ALOG_EXIT or ALOG_DURATION.  TRAFFIC comes first because xinetd's
 * forwarding child writes it before the parent reaps that child.
 */
void
accesslog_exit(struct accesslog *al, unsigned mask,
    const struct access_rec *rec)
{
	if (al == NULL || rec == NULL)
		return;
	if (mask & ALOG_TRAFFIC)
		accesslog_emit(al, ACCESS_TRAFFIC, mask, rec);
	if (mask & (ALOG_EXIT | ALOG_DURATION))
		accesslog_emit(al, ACCESS_EXIT, mask, rec);
}

/* Write a FAIL record if <mask> holds any log_on_failure field. */
void
accesslog_fail(struct accesslog *al, unsigned mask,
    const struct access_rec *rec)
{
	if (al == NULL || rec == NULL || (mask & ALOG_FAILURE_ALL) == 0)
		return;
	accesslog_emit(al, ACCESS_FAIL, mask, rec);
}

void
accesslog_ident(struct accesslog *al, enum access_kind kind,
    const struct access_rec *rec)
{
	if (al == NULL || rec == NULL ||
	    (kind != ACCESS_USERID && kind != ACCESS_NOID))
		return;
	accesslog_emit(al, kind, 0, rec);
}
