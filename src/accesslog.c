/*
 * Access records: parse log_on_success, log_on_failure and log_type,
 * format the START, EXIT, FAIL, TRAFFIC, USERID and NOID lines exactly as
 * xinetd does, and hand each record as one line to its sink
 * (accesslog_sink.c).
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "accesslog_int.h"

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
	{ .af_name = "WORKER", .af_bit = ALOG_WORKER, .af_success = 1,
	    .af_failure = 1 },
};

static int	accesslog_worker;	/* 1..N in a worker */

void
accesslog_set_worker(int n)
{
	accesslog_worker = n;
}

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

/* A bounded string being built, remembering its untruncated length. */
struct accesslog_buf {
	char		*ab_buf;
	size_t		 ab_len;
	size_t		 ab_used;	/* as snprintf would have written */
	int		 ab_error;
};

static void	accesslog_add(struct accesslog_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

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

/* Store a formatted message in <err>; see accesslog_int.h. */
void
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
	if ((kind == ACCESS_START || kind == ACCESS_EXIT ||
	    kind == ACCESS_FAIL) && (mask & ALOG_WORKER) && rec->ar_worker > 0)
		accesslog_add(&ab, " worker=%d", rec->ar_worker);
	if (ab.ab_error || ab.ab_used > INT_MAX) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return (int)ab.ab_used;
}

/* Format a record of <kind> and send it to <al>. */
static void
accesslog_emit(struct accesslog *al, enum access_kind kind, unsigned mask,
    const struct access_rec *rec)
{
	struct access_rec	 r = *rec;
	char			 line[ACCESSLOG_LINEMAX];
	char			*p;

	r.ar_worker = accesslog_worker;
	if (accesslog_format(line, sizeof(line), kind, mask, &r) < 0)
		return;
	/* A record is one line whatever its fields hold. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	accesslog_sink_write(al, line);
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
