/*
 * libFuzzer target for the words of log_on_success, log_on_failure and
 * log_type (accesslog.c).  The first input byte chooses the attribute
 * (0 log_on_success, 1 log_on_failure, 2 log_type, modulo 3); the rest is
 * its words, separated by white space.
 *
 * The oracle is portgate.conf(5) read a second time: the fields each list
 * takes, any case; the mask is the union of the fields, and the first word
 * that is not a field of that list is the one refused.  Each field's name
 * parses back to its bit, and a START, FAIL or EXIT record shows a field
 * exactly when the mask holds it.  log_type is SYSLOG with a facility and
 * an optional level (info by default), or FILE with an absolute path and
 * optional soft and hard limits (bytes greater than 0, suffix k, K, m or
 * M; hard defaults to soft plus 1% of it, between 5 KiB and 20 KiB more;
 * hard below soft is an error): the parsed value must be the reference's,
 * and a refused one leaves nothing behind and says why.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "accesslog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAXINPUT	4096
#define FZ_MAXWORDS	64

/* A field of the lists, as portgate.conf(5) lists them. */
struct ref_field {
	const char	*rf_name;
	unsigned	 rf_bit;
	int		 rf_success;
	int		 rf_failure;
	const char	*rf_shows;	/* in START (success) or FAIL */
};

static const struct ref_field ref_fields[] = {
	{ "PID", ALOG_PID, 1, 0, " pid=" },
	{ "HOST", ALOG_HOST, 1, 1, " from=" },
	{ "USERID", ALOG_USERID, 1, 1, NULL },
	{ "EXIT", ALOG_EXIT, 1, 0, NULL },
	{ "DURATION", ALOG_DURATION, 1, 0, NULL },
	{ "TRAFFIC", ALOG_TRAFFIC, 1, 0, NULL },
	{ "ATTEMPT", ALOG_ATTEMPT, 0, 1, NULL },
	{ "COUNTRY", ALOG_COUNTRY, 1, 1, " country=" },
	{ "PORT", ALOG_PORT, 1, 1, " port=" },
	{ "TLS", ALOG_TLS, 1, 0, " tls=" },
	{ "WORKER", ALOG_WORKER, 1, 1, " worker=" },
};
#define REF_NFIELDS	(sizeof(ref_fields) / sizeof(ref_fields[0]))

/* A syslog name and its value. */
struct ref_name {
	const char	*rn_name;
	int		 rn_value;
};

static const struct ref_name ref_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
	{ "mail", LOG_MAIL }, { "lpr", LOG_LPR }, { "news", LOG_NEWS },
	{ "uucp", LOG_UUCP }, { "ftp", LOG_FTP }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { NULL, 0 }
};

static const struct ref_name ref_levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 }
};

/* <name> in <t>, any case; its value or -1. */
static int
ref_lookup(const struct ref_name *t, const char *name)
{
	for (; t->rn_name != NULL; t++)
		if (strcasecmp(t->rn_name, name) == 0)
			return (t->rn_value);
	return (-1);
}

/* Check accesslog_parse_fields() on <words>. */
static void
fz_fields(char **words, int nwords, int failure)
{
	static const struct access_rec rec = {
		.ar_id = "fz", .ar_pid = 7, .ar_addr = "192.0.2.1",
		.ar_port = 9, .ar_country = "ZZ", .ar_reason = "why",
		.ar_exited = 1, .ar_tls = "TLSv1.3/X", .ar_worker = 3
	};
	const struct ref_field	*f;
	char			 line[1024];
	unsigned		 want = 0, mask = 0xdead, bit;
	size_t			 j;
	int			 i, bad = -2, rc, shown;

	for (i = 0; i < nwords; i++) {
		for (j = 0; j < REF_NFIELDS; j++)
			if (strcasecmp(words[i], ref_fields[j].rf_name) == 0)
				break;
		if (j == REF_NFIELDS || !(failure ? ref_fields[j].rf_failure :
		    ref_fields[j].rf_success))
			break;
		want |= ref_fields[j].rf_bit;
	}
	rc = accesslog_parse_fields(words, nwords, failure, &mask, &bad);
	if (i < nwords) {
		if (rc != -1 || bad != i)
			abort();
		return;
	}
	if (rc != 0 || mask != want)
		abort();
	for (bit = 1; bit != 0 && bit <= mask; bit <<= 1) {
		if ((mask & bit) == 0)
			continue;
		/* The name of the bit reads back as the bit. */
		for (f = ref_fields; f < ref_fields + REF_NFIELDS; f++)
			if (f->rf_bit == bit)
				break;
		if (f == ref_fields + REF_NFIELDS ||
		    accesslog_field_name(bit) == NULL ||
		    strcmp(accesslog_field_name(bit), f->rf_name) != 0)
			abort();
	}
	if (accesslog_format(line, sizeof(line), failure ? ACCESS_FAIL :
	    ACCESS_START, mask, &rec) < 0)
		abort();
	for (f = ref_fields; f < ref_fields + REF_NFIELDS; f++) {
		if (f->rf_shows == NULL || (failure && !f->rf_failure) ||
		    (!failure && !f->rf_success))
			continue;
		shown = strstr(line, f->rf_shows) != NULL;
		if (shown != ((mask & f->rf_bit) != 0))
			abort();
	}
	if (accesslog_format(line, sizeof(line), ACCESS_EXIT, mask, &rec) < 0)
		abort();
	if ((strstr(line, " status=") != NULL) != ((mask & ALOG_EXIT) != 0) ||
	    (strstr(line, " duration=") != NULL) !=
	    ((mask & ALOG_DURATION) != 0))
		abort();
}

/*
 * A size: decimal digits, an optional k, K, m or M, greater than 0 and
 * at most 2^64 - 1 bytes.  Returns 0, or -1.
 */
static int
ref_size(const char *s, uint64_t *v)
{
	uint64_t	 n = 0, mult = 1;

	if (*s < '0' || *s > '9')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			return (-1);
	if (*s != '\0') {
		if (*s == 'k' || *s == 'K')
			mult = 1024;
		else if (*s == 'm' || *s == 'M')
			mult = 1024 * 1024;
		else
			return (-1);
		if (s[1] != '\0')
			return (-1);
	}
	if (n == 0 || __builtin_mul_overflow(n, mult, v))
		return (-1);
	return (0);
}

/* The reference reading of log_type; 0, or -1 if it is refused. */
static int
ref_logtype(char **words, int nwords, struct logtype *lt)
{
	uint64_t	 extra;

	memset(lt, 0, sizeof(*lt));
	lt->lt_facility = LOG_DAEMON;
	lt->lt_level = LOG_INFO;
	if (nwords >= 2 && nwords <= 3 && strcasecmp(words[0], "SYSLOG") == 0) {
		if ((lt->lt_facility = ref_lookup(ref_facilities, words[1])) ==
		    -1 || (nwords == 3 &&
		    (lt->lt_level = ref_lookup(ref_levels, words[2])) == -1))
			return (-1);
		lt->lt_kind = LOGTYPE_SYSLOG;
		return (0);
	}
	if (nwords < 2 || nwords > 4 || strcasecmp(words[0], "FILE") != 0 ||
	    words[1][0] != '/')
		return (-1);
	if (nwords >= 3 && ref_size(words[2], &lt->lt_soft) != 0)
		return (-1);
	if (nwords == 4 && (ref_size(words[3], &lt->lt_hard) != 0 ||
	    lt->lt_hard < lt->lt_soft))
		return (-1);
	if (nwords == 3) {
		extra = lt->lt_soft / 100;
		if (extra < 5 * 1024)
			extra = 5 * 1024;
		if (extra > 20 * 1024)
			extra = 20 * 1024;
		if (__builtin_add_overflow(lt->lt_soft, extra, &lt->lt_hard))
			return (-1);
	}
	lt->lt_kind = LOGTYPE_FILE;
	lt->lt_path = words[1];
	return (0);
}

/* Check logtype_parse() on <words>. */
static void
fz_logtype(char **words, int nwords)
{
	struct logtype	 lt, want;
	char		 err[512];
	int		 rc, ok;

	ok = ref_logtype(words, nwords, &want) == 0;
	memset(&lt, 0x5a, sizeof(lt));
	err[0] = '\0';
	rc = logtype_parse(&lt, words, nwords, err, sizeof(err));
	if (!ok) {
		if (rc != -1 || err[0] == '\0' || lt.lt_kind != LOGTYPE_NONE ||
		    lt.lt_path != NULL)
			abort();
		return;
	}
	if (rc != 0 || lt.lt_kind != want.lt_kind ||
	    lt.lt_facility != want.lt_facility ||
	    lt.lt_level != want.lt_level || lt.lt_soft != want.lt_soft ||
	    lt.lt_hard != want.lt_hard ||
	    (want.lt_path == NULL) != (lt.lt_path == NULL) ||
	    (want.lt_path != NULL && strcmp(want.lt_path, lt.lt_path) != 0))
		abort();
	logtype_clear(&lt);
	if (lt.lt_path != NULL || lt.lt_kind != LOGTYPE_NONE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 buf[FZ_MAXINPUT + 1], *words[FZ_MAXWORDS], *p;
	size_t	 i;
	int	 n = 0;

	if (size < 1 || size > FZ_MAXINPUT)
		return (0);
	for (i = 1; i < size; i++)
		buf[i - 1] = data[i] == '\0' ? ' ' : (char)data[i];
	buf[size - 1] = '\0';
	for (p = strtok(buf, " \t\r\n\v\f"); p != NULL && n < FZ_MAXWORDS;
	    p = strtok(NULL, " \t\r\n\v\f"))
		words[n++] = p;
	switch (data[0] % 3) {
	case 0:
	case 1:
		fz_fields(words, n, data[0] % 3);
		break;
	default:
		fz_logtype(words, n);
		break;
	}
	return (0);
}
