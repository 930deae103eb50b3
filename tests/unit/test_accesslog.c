/*
 * Unit tests of accesslog.c: field and log_type parsing, the exact text of
 * every record kind, and FILE sinks (prefix, limits, sharing, reopen) in a
 * scratch directory.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "accesslog.h"
#include "log.h"

#define NWORDS(a)	((int)(sizeof(a) / sizeof((a)[0])))
/* A word list entry: the API takes char ** as the config lexer gives. */
#define W(s)		((char *)(uintptr_t)(s))

static char	 tmpdir[] = "/tmp/test_accesslog.XXXXXX";
static char	 diagpath[PATH_MAX];

/* Build "<tmpdir>/<name>" into <buf>. */
static void
tmppath(char *buf, size_t len, const char *name)
{
	int	 n;

	n = snprintf(buf, len, "%s/%s", tmpdir, name);
	assert_true(n > 0 && (size_t)n < len);
}

/* Read a whole (small) file into <buf>; returns its length. */
static size_t
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	fd = open(path, O_RDONLY);
	assert_int_not_equal(fd, -1);
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	assert_int_equal(close(fd), 0);
	buf[off] = '\0';
	return off;
}

/* Size of the file at <path>. */
static off_t
file_size(const char *path)
{
	struct stat	 st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Count the occurrences of <needle> in <hay>. */
static int
count_str(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Count the lines of the diagnostics file that contain <needle>. */
static int
diag_count(const char *needle)
{
	static char	 buf[65536];

	(void)slurp(diagpath, buf, sizeof(buf));
	return count_str(buf, needle);
}

/*
 * Check that <line> is "<timestamp>: <want>" with the timestamp of a time
 * in [t0, t1].
 */
static void
assert_record(const char *line, const char *want, time_t t0, time_t t1)
{
	char	 ts[64], exp[2048];
	time_t	 t;
	int	 found = 0;

	for (t = t0; t <= t1 && !found; t++) {
		(void)log_timestamp(ts, sizeof(ts), t);
		(void)snprintf(exp, sizeof(exp), "%s: %s", ts, want);
		if (strcmp(line, exp) == 0)
			found = 1;
	}
	if (!found)
		fail_msg("record \"%s\" is not \"<ts>: %s\"", line, want);
}

/* Split <buf> into at most <max> lines; returns how many. */
static int
split_lines(char *buf, char **lines, int max)
{
	char	*p = buf, *nl;
	int	 n = 0;

	while (*p != '\0' && n < max) {
		nl = strchr(p, '\n');
		assert_non_null(nl);	/* every record ends in a newline */
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	assert_true(*p == '\0');
	return n;
}

/* Open a FILE sink on <name> in the scratch directory. */
static struct accesslog *
open_file_sink(const char *name, uint64_t soft, uint64_t hard, char *path,
    size_t pathlen)
{
	struct logtype		 lt;
	struct accesslog	*al;
	char			 err[256];

	tmppath(path, pathlen, name);
	memset(&lt, 0, sizeof(lt));
	lt.lt_kind = LOGTYPE_FILE;
	lt.lt_path = path;
	lt.lt_soft = soft;
	lt.lt_hard = hard;
	al = accesslog_open(&lt, err, sizeof(err));
	if (al == NULL)
		fail_msg("accesslog_open %s: %s", path, err);
	return al;
}

/* A typical record with every field filled. */
static struct access_rec
full_rec(void)
{
	struct access_rec	 r;

	memset(&r, 0, sizeof(r));
	r.ar_id = "echo";
	r.ar_pid = 8014;
	r.ar_addr = "127.0.0.1";
	r.ar_port = 40000;
	r.ar_country = "DE";
	r.ar_reason = "address";
	r.ar_exited = 1;
	r.ar_status = 0;
	r.ar_duration = 3;
	r.ar_in = 16;
	r.ar_out = 0;
	r.ar_tls = "TLSv1.3/TLS_AES_256_GCM_SHA384";
	return r;
}

/* Format and compare with <want>, checking the returned length too. */
static void
assert_format(enum access_kind kind, unsigned mask,
    const struct access_rec *r, const char *want)
{
	char	 buf[1024];
	int	 n;

	memset(buf, 'X', sizeof(buf));
	n = accesslog_format(buf, sizeof(buf), kind, mask, r);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

/* START with pid= and from=, as xinetd writes them. */
static void
test_start_pid_host(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	assert_format(ACCESS_START, ALOG_PID | ALOG_HOST, &r,
	    "START: echo pid=8014 from=127.0.0.1");
	r.ar_pid = 0;
	r.ar_id = "daytime";
	assert_format(ACCESS_START, ALOG_PID | ALOG_HOST, &r,
	    "START: daytime pid=0 from=127.0.0.1");
	r.ar_addr = "::ffff:127.0.0.1";
	assert_format(ACCESS_START, ALOG_HOST, &r,
	    "START: daytime from=::ffff:127.0.0.1");
	assert_format(ACCESS_START, ALOG_PID, &r, "START: daytime pid=0");
}

/* START with no field that adds text is just the id. */
static void
test_start_bare(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	/* Fields that add nothing to START leave just the id. */
	assert_format(ACCESS_START, ALOG_USERID, &r, "START: echo");
	assert_format(ACCESS_START, ALOG_EXIT | ALOG_DURATION | ALOG_TRAFFIC,
	    &r, "START: echo");
	assert_format(ACCESS_START, 0, &r, "START: echo");
}

/* A wait=yes stream session has no client address. */
static void
test_start_no_address(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_addr = NULL;
	r.ar_port = 0;
	assert_format(ACCESS_START, ALOG_PID | ALOG_HOST | ALOG_PORT, &r,
	    "START: echo pid=8014 from=<no address>");
}

/* port=, country= and tls= follow from= in that order. */
static void
test_start_extensions(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_addr = "::1";
	assert_format(ACCESS_START, ALOG_PID | ALOG_HOST | ALOG_PORT |
	    ALOG_COUNTRY | ALOG_TLS, &r, "START: echo pid=8014 from=::1 "
	    "port=40000 country=DE tls=TLSv1.3/TLS_AES_256_GCM_SHA384");
	assert_format(ACCESS_START, ALOG_HOST | ALOG_COUNTRY, &r,
	    "START: echo from=::1 country=DE");
	assert_format(ACCESS_START, ALOG_HOST | ALOG_PORT, &r,
	    "START: echo from=::1 port=40000");
	assert_format(ACCESS_START, ALOG_TLS, &r,
	    "START: echo tls=TLSv1.3/TLS_AES_256_GCM_SHA384");
	r.ar_country = "--";
	assert_format(ACCESS_START, ALOG_HOST | ALOG_COUNTRY, &r,
	    "START: echo from=::1 country=--");
	/* WORKER: the worker that served it; nothing from the master. */
	assert_format(ACCESS_START, ALOG_HOST | ALOG_WORKER, &r,
	    "START: echo from=::1");
	r.ar_worker = 2;
	assert_format(ACCESS_START, ALOG_HOST | ALOG_WORKER, &r,
	    "START: echo from=::1 worker=2");
	assert_format(ACCESS_FAIL, ALOG_HOST | ALOG_WORKER, &r,
	    "FAIL: echo address from=::1 worker=2");
}

/* Extensions asked for but unknown are left out. */
static void
test_start_extensions_absent(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_country = NULL;
	r.ar_tls = NULL;
	r.ar_port = 0;
	assert_format(ACCESS_START, ALOG_PID | ALOG_HOST | ALOG_PORT |
	    ALOG_COUNTRY | ALOG_TLS, &r, "START: echo pid=8014 from=127.0.0.1");
}

/* Fields the mask does not ask for are ignored. */
static void
test_start_ignores_unasked(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	/* Everything is filled in; only PID is asked for. */
	assert_format(ACCESS_START, ALOG_PID, &r, "START: echo pid=8014");
}

/* EXIT with status=, pid= and duration=. */
static void
test_exit_status(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_id = "echo-stream";
	r.ar_duration = 0;
	assert_format(ACCESS_EXIT, ALOG_PID | ALOG_HOST | ALOG_EXIT |
	    ALOG_DURATION, &r,
	    "EXIT: echo-stream status=0 pid=8014 duration=0(sec)");
	r.ar_status = 3;
	assert_format(ACCESS_EXIT, ALOG_EXIT, &r, "EXIT: echo-stream status=3");
}

/* EXIT of a server killed by a signal. */
static void
test_exit_signal(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_id = "waity";
	r.ar_pid = 11554;
	r.ar_exited = 0;
	r.ar_signaled = 1;
	r.ar_status = 13;
	r.ar_duration = 0;
	assert_format(ACCESS_EXIT, ALOG_PID | ALOG_EXIT | ALOG_DURATION, &r,
	    "EXIT: waity signal=13 pid=11554 duration=0(sec)");
}

/* EXIT with neither an exit status nor a signal. */
static void
test_exit_unknown_status(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	/* Neither exited nor signalled: xinetd prints no status at all. */
	r.ar_exited = 0;
	r.ar_signaled = 0;
	assert_format(ACCESS_EXIT, ALOG_PID | ALOG_EXIT, &r,
	    "EXIT: echo pid=8014");
}

/* Each EXIT field on its own, and those EXIT never shows. */
static void
test_exit_fields(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_duration = 4242;
	assert_format(ACCESS_EXIT, ALOG_DURATION, &r,
	    "EXIT: echo duration=4242(sec)");
	assert_format(ACCESS_EXIT, ALOG_PID, &r, "EXIT: echo pid=8014");
	/* EXIT has no from= and so none of its extensions. */
	assert_format(ACCESS_EXIT, ALOG_EXIT | ALOG_HOST | ALOG_PORT |
	    ALOG_COUNTRY, &r, "EXIT: echo status=0");
	assert_format(ACCESS_EXIT, ALOG_EXIT | ALOG_TLS, &r,
	    "EXIT: echo status=0 tls=TLSv1.3/TLS_AES_256_GCM_SHA384");
	r.ar_tls = NULL;
	assert_format(ACCESS_EXIT, ALOG_EXIT | ALOG_TLS, &r,
	    "EXIT: echo status=0");
}

/* FAIL with every reason of xinetd's access_code_names. */
static void
test_fail_reasons(void **state)
{
	static const char	*reasons[] = { "address", "time", "fork",
	    "service_limit", "per_source_limit", "process_limit", "libwrap",
	    "load", "connections per second", "UNKNOWN" };
	struct access_rec	 r = full_rec();
	char			 want[256];
	int			 i;

	(void)state;
	for (i = 0; i < NWORDS(reasons); i++) {
		r.ar_reason = reasons[i];
		(void)snprintf(want, sizeof(want), "FAIL: echo %s from=127.0.0.1",
		    reasons[i]);
		assert_format(ACCESS_FAIL, ALOG_HOST, &r, want);
	}
	r.ar_id = "a5";
	r.ar_reason = "address";
	assert_format(ACCESS_FAIL, ALOG_ATTEMPT, &r, "FAIL: a5 address");
	assert_format(ACCESS_FAIL, ALOG_USERID, &r, "FAIL: a5 address");
	r.ar_reason = NULL;
	assert_format(ACCESS_FAIL, ALOG_ATTEMPT, &r, "FAIL: a5 UNKNOWN");
}

/* FAIL with from= and its extensions. */
static void
test_fail_extensions(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_id = "cps";
	r.ar_reason = "connections per second";
	r.ar_addr = "10.0.0.1";
	r.ar_country = "--";
	assert_format(ACCESS_FAIL, ALOG_HOST | ALOG_PORT | ALOG_COUNTRY, &r,
	    "FAIL: cps connections per second from=10.0.0.1 port=40000 "
	    "country=--");
	/* No pid= and no tls= on FAIL lines. */
	assert_format(ACCESS_FAIL, ALOG_HOST | ALOG_PID | ALOG_TLS, &r,
	    "FAIL: cps connections per second from=10.0.0.1");
	r.ar_addr = NULL;
	assert_format(ACCESS_FAIL, ALOG_HOST, &r,
	    "FAIL: cps connections per second from=<no address>");
}

/* TRAFFIC byte counts, up to the largest 64-bit value. */
static void
test_traffic(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_id = "redir";
	assert_format(ACCESS_TRAFFIC, ALOG_TRAFFIC, &r,
	    "TRAFFIC: redir in=16(bytes) out=0(bytes)");
	r.ar_in = UINT64_MAX;
	r.ar_out = 5000000000ULL;
	assert_format(ACCESS_TRAFFIC, ALOG_TRAFFIC | ALOG_TLS | ALOG_HOST, &r,
	    "TRAFFIC: redir in=18446744073709551615(bytes) "
	    "out=5000000000(bytes)");
}

/* USERID and NOID records, as xinetd writes them. */
static void
test_ident_records(void **state)
{
	struct access_rec	 r = full_rec();

	(void)state;
	r.ar_id = "ftp";
	r.ar_ident = "UNIX : alice";
	assert_format(ACCESS_USERID, 0, &r, "USERID: ftp UNIX : alice");
	assert_format(ACCESS_USERID, ALOG_HOST | ALOG_PID | ALOG_TLS, &r,
	    "USERID: ftp UNIX : alice");
	r.ar_ident = "no server";
	assert_format(ACCESS_NOID, 0, &r, "NOID: ftp 127.0.0.1 no server");
	r.ar_addr = NULL;
	r.ar_ident = NULL;
	assert_format(ACCESS_NOID, 0, &r, "NOID: ftp <no address> UNKNOWN");
}

/* Over-long records are cut but report their full length. */
static void
test_format_truncation(void **state)
{
	struct access_rec	 r = full_rec();
	char			 id[2001], buf[1024], small[8];
	int			 n;

	(void)state;
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	r.ar_id = id;
	n = accesslog_format(buf, sizeof(buf), ACCESS_START,
	    ALOG_PID | ALOG_HOST, &r);
	/* "START: " + id + " pid=8014" + " from=127.0.0.1" */
	assert_int_equal(n, 7 + 2000 + 9 + 15);
	assert_int_equal(strlen(buf), 1023);
	assert_memory_equal(buf, "START: aaaa", 11);
	assert_int_equal(buf[1022], 'a');

	n = accesslog_format(small, sizeof(small), ACCESS_FAIL, ALOG_HOST, &r);
	assert_int_equal(n, 6 + 2000 + 8 + 15);
	assert_string_equal(small, "FAIL: a");

	/* Asking only for the length, as snprintf(NULL, 0). */
	r.ar_id = "redir";
	assert_int_equal(accesslog_format(NULL, 0, ACCESS_TRAFFIC, 0, &r),
	    (int)strlen("TRAFFIC: redir in=16(bytes) out=0(bytes)"));
}

/* A 1023-byte record fits in 1024 bytes, a 1024-byte one does not. */
static void
test_format_exact_fit(void **state)
{
	struct access_rec	 r = full_rec();
	char			 id[1024], buf[1024];
	int			 n;

	(void)state;
	/* "START: " + 1016 characters = 1023: fits exactly. */
	memset(id, 'b', 1016);
	id[1016] = '\0';
	r.ar_id = id;
	n = accesslog_format(buf, sizeof(buf), ACCESS_START, ALOG_USERID, &r);
	assert_int_equal(n, 1023);
	assert_int_equal(strlen(buf), 1023);
	/* One more does not. */
	id[1016] = 'b';
	id[1017] = '\0';
	n = accesslog_format(buf, sizeof(buf), ACCESS_START, ALOG_USERID, &r);
	assert_int_equal(n, 1024);
	assert_int_equal(strlen(buf), 1023);
}

/* Every log_on_success word, in any case. */
static void
test_fields_success(void **state)
{
	char		*all[] = { W("PID"), W("HOST"), W("USERID"), W("EXIT"),
	    W("DURATION"), W("TRAFFIC"), W("COUNTRY"), W("PORT"), W("TLS") };
	char		*mixed[] = { W("pid"), W("Host"), W("eXiT"),
	    W("duration"), W("tls") };
	unsigned	 mask = 0xdead;
	int		 bad = -7;

	(void)state;
	assert_int_equal(accesslog_parse_fields(all, NWORDS(all), 0, &mask,
	    &bad), 0);
	assert_int_equal(mask, ALOG_PID | ALOG_HOST | ALOG_USERID | ALOG_EXIT |
	    ALOG_DURATION | ALOG_TRAFFIC | ALOG_COUNTRY | ALOG_PORT | ALOG_TLS);
	assert_int_equal(bad, -7);
	assert_int_equal(accesslog_parse_fields(mixed, NWORDS(mixed), 0,
	    &mask, &bad), 0);
	assert_int_equal(mask, ALOG_PID | ALOG_HOST | ALOG_EXIT |
	    ALOG_DURATION | ALOG_TLS);
	mask = 0xdead;
	assert_int_equal(accesslog_parse_fields(NULL, 0, 0, &mask, &bad), 0);
	assert_int_equal(mask, 0);
}

/* Every log_on_failure word, in any case. */
static void
test_fields_failure(void **state)
{
	char		*all[] = { W("HOST"), W("USERID"), W("ATTEMPT"), W("COUNTRY"),
	    W("PORT") };
	char		*lower[] = { W("attempt"), W("host"), W("Host") };
	unsigned	 mask = 0;
	int		 bad = -1;

	(void)state;
	assert_int_equal(accesslog_parse_fields(all, NWORDS(all), 1, &mask,
	    &bad), 0);
	assert_int_equal(mask, ALOG_HOST | ALOG_USERID | ALOG_ATTEMPT |
	    ALOG_COUNTRY | ALOG_PORT);
	assert_int_equal(accesslog_parse_fields(lower, NWORDS(lower), 1,
	    &mask, &bad), 0);
	assert_int_equal(mask, ALOG_HOST | ALOG_ATTEMPT);
}

/* Unknown or misplaced words are reported by index. */
static void
test_fields_bad(void **state)
{
	char		*s_attempt[] = { W("PID"), W("ATTEMPT") };
	char		*s_unknown[] = { W("PID"), W("HOST"), W("RECORD") };
	char		*f_exit[] = { W("EXIT") };
	char		*f_tls[] = { W("HOST"), W("TLS") };
	char		*f_pid[] = { W("ATTEMPT"), W("HOST"), W("PID") };
	char		*s_empty[] = { W("") };
	char		*s_prefix[] = { W("PIDS") };
	unsigned	 mask = 0x1234;
	int		 bad = -1;

	(void)state;
	assert_int_equal(accesslog_parse_fields(s_attempt, 2, 0, &mask, &bad),
	    -1);
	assert_int_equal(bad, 1);
	assert_int_equal(mask, 0x1234);	/* untouched on error */
	assert_int_equal(accesslog_parse_fields(s_unknown, 3, 0, &mask, &bad),
	    -1);
	assert_int_equal(bad, 2);
	assert_int_equal(accesslog_parse_fields(f_exit, 1, 1, &mask, &bad), -1);
	assert_int_equal(bad, 0);
	assert_int_equal(accesslog_parse_fields(f_tls, 2, 1, &mask, &bad), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(accesslog_parse_fields(f_pid, 3, 1, &mask, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(accesslog_parse_fields(s_empty, 1, 0, &mask, &bad),
	    -1);
	assert_int_equal(bad, 0);
	assert_int_equal(accesslog_parse_fields(s_prefix, 1, 0, &mask, &bad),
	    -1);
	assert_int_equal(bad, 0);
	/* A NULL <bad> is allowed. */
	assert_int_equal(accesslog_parse_fields(s_prefix, 1, 0, &mask, NULL),
	    -1);
}

/* Names of single fields; NULL for anything else. */
static void
test_field_names(void **state)
{
	(void)state;
	assert_string_equal(accesslog_field_name(ALOG_PID), "PID");
	assert_string_equal(accesslog_field_name(ALOG_HOST), "HOST");
	assert_string_equal(accesslog_field_name(ALOG_USERID), "USERID");
	assert_string_equal(accesslog_field_name(ALOG_EXIT), "EXIT");
	assert_string_equal(accesslog_field_name(ALOG_DURATION), "DURATION");
	assert_string_equal(accesslog_field_name(ALOG_TRAFFIC), "TRAFFIC");
	assert_string_equal(accesslog_field_name(ALOG_ATTEMPT), "ATTEMPT");
	assert_string_equal(accesslog_field_name(ALOG_COUNTRY), "COUNTRY");
	assert_string_equal(accesslog_field_name(ALOG_PORT), "PORT");
	assert_string_equal(accesslog_field_name(ALOG_TLS), "TLS");
	assert_null(accesslog_field_name(0));
	assert_null(accesslog_field_name(ALOG_PID | ALOG_HOST));
	assert_null(accesslog_field_name(0x8000));
}

/* Every syslog facility name, and some that are not. */
static void
test_facilities(void **state)
{
	static const struct {
		const char	*name;
		int		 value;
	} t[] = {
		{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
		{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
		{ "mail", LOG_MAIL }, { "lpr", LOG_LPR }, { "news", LOG_NEWS },
		{ "uucp", LOG_UUCP }, { "ftp", LOG_FTP },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
		{ "LOCAL4", LOG_LOCAL4 }, { "Daemon", LOG_DAEMON },
	};
	int	 i;

	(void)state;
	for (i = 0; i < NWORDS(t); i++)
		assert_int_equal(accesslog_facility(t[i].name), t[i].value);
	assert_int_equal(accesslog_facility("local8"), -1);
	assert_int_equal(accesslog_facility("kern"), -1);
	assert_int_equal(accesslog_facility(""), -1);
}

/* SYSLOG with a facility and each level. */
static void
test_logtype_syslog(void **state)
{
	static const struct {
		const char	*level;
		int		 value;
	} levels[] = {
		{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT },
		{ "crit", LOG_CRIT }, { "err", LOG_ERR },
		{ "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
		{ "DEBUG", LOG_DEBUG },
	};
	struct logtype	 lt;
	char		*w2[] = { W("SYSLOG"), W("daemon") };
	char		*w3[] = { W("syslog"), W("local7"), NULL };
	char		 err[256];
	int		 i;

	(void)state;
	assert_int_equal(logtype_parse(&lt, w2, 2, err, sizeof(err)), 0);
	assert_int_equal(lt.lt_kind, LOGTYPE_SYSLOG);
	assert_int_equal(lt.lt_facility, LOG_DAEMON);
	assert_int_equal(lt.lt_level, LOG_INFO);
	assert_null(lt.lt_path);
	logtype_clear(&lt);
	for (i = 0; i < NWORDS(levels); i++) {
		w3[2] = W(levels[i].level);
		assert_int_equal(logtype_parse(&lt, w3, 3, err, sizeof(err)),
		    0);
		assert_int_equal(lt.lt_kind, LOGTYPE_SYSLOG);
		assert_int_equal(lt.lt_facility, LOG_LOCAL7);
		assert_int_equal(lt.lt_level, levels[i].value);
		logtype_clear(&lt);
	}
}

/* FILE with and without limits, and the default hard limit. */
static void
test_logtype_file(void **state)
{
	static const struct {
		const char	*soft;
		const char	*hard;
		uint64_t	 s;
		uint64_t	 h;
	} t[] = {
		/* 1% of 10 KiB is below 5 KiB: hard = soft + 5 KiB. */
		{ "10K", NULL, 10240, 10240 + 5120 },
		{ "10k", NULL, 10240, 10240 + 5120 },
		{ "100", NULL, 100, 100 + 5120 },
		/* 1% of 1 MiB is 10485 bytes, inside the bounds. */
		{ "1M", NULL, 1048576, 1048576 + 10485 },
		{ "1m", NULL, 1048576, 1048576 + 10485 },
		/* 1% of 10 MiB is above 20 KiB: hard = soft + 20 KiB. */
		{ "10M", NULL, 10485760, 10485760 + 20480 },
		{ "10k", "20k", 10240, 20480 },
		{ "2m", "3M", 2097152, 3145728 },
		{ "100", "100", 100, 100 },
		{ "512000", "1M", 512000, 1048576 },
	};
	struct logtype	 lt;
	char		*w[4] = { W("FILE"), W("/var/log/portgate/echo.log") };
	char		*wf[] = { W("file"), W("/var/log/x") };
	char		 err[256];
	int		 i;

	(void)state;
	assert_int_equal(logtype_parse(&lt, w, 2, err, sizeof(err)), 0);
	assert_int_equal(lt.lt_kind, LOGTYPE_FILE);
	assert_string_equal(lt.lt_path, "/var/log/portgate/echo.log");
	assert_true(lt.lt_path != w[1]);	/* a copy */
	assert_int_equal(lt.lt_soft, 0);
	assert_int_equal(lt.lt_hard, 0);
	logtype_clear(&lt);
	assert_null(lt.lt_path);
	assert_int_equal(lt.lt_kind, LOGTYPE_NONE);

	assert_int_equal(logtype_parse(&lt, wf, 2, err, sizeof(err)), 0);
	assert_string_equal(lt.lt_path, "/var/log/x");
	logtype_clear(&lt);

	for (i = 0; i < NWORDS(t); i++) {
		w[2] = W(t[i].soft);
		w[3] = W(t[i].hard);
		if (logtype_parse(&lt, w, t[i].hard != NULL ? 4 : 3, err,
		    sizeof(err)) != 0)
			fail_msg("FILE %s %s: %s", t[i].soft,
			    t[i].hard != NULL ? t[i].hard : "", err);
		assert_int_equal(lt.lt_kind, LOGTYPE_FILE);
		assert_int_equal(lt.lt_soft, t[i].s);
		assert_int_equal(lt.lt_hard, t[i].h);
		logtype_clear(&lt);
	}
}

/* Every kind of log_type error, with a message naming the word. */
static void
test_logtype_bad(void **state)
{
	static const struct {
		const char	*words[6];
		int		 nwords;
		const char	*expect[3];	/* substrings of the message */
	} t[] = {
		{ { NULL }, 0, { "SYSLOG or FILE" } },
		{ { "NONE" }, 1, { "\"NONE\"", "SYSLOG or FILE" } },
		{ { "SYSLOGX", "daemon" }, 2, { "\"SYSLOGX\"" } },
		{ { "SYSLOG" }, 1, { "facility", "0 words" } },
		{ { "SYSLOG", "daemon", "info", "x" }, 4,
		    { "facility", "3 words" } },
		{ { "SYSLOG", "kern" }, 2, { "\"kern\"", "local0" } },
		{ { "SYSLOG", "daemon", "loud" }, 3,
		    { "\"loud\"", "warning" } },
		{ { "SYSLOG", "daemon", "warn" }, 3, { "\"warn\"" } },
		{ { "FILE" }, 1, { "path", "0 words" } },
		{ { "FILE", "/x", "1", "2", "3" }, 5, { "path", "4 words" } },
		{ { "FILE", "log/x" }, 2, { "\"log/x\"", "absolute" } },
		{ { "FILE", "" }, 2, { "absolute" } },
		{ { "FILE", "/x", "10X" }, 3, { "soft limit \"10X\"", "k, K" } },
		{ { "FILE", "/x", "k" }, 3, { "soft limit \"k\"" } },
		{ { "FILE", "/x", "" }, 3, { "soft limit \"\"" } },
		{ { "FILE", "/x", "-1" }, 3, { "soft limit \"-1\"" } },
		{ { "FILE", "/x", "+1" }, 3, { "soft limit \"+1\"" } },
		{ { "FILE", "/x", " 1" }, 3, { "soft limit \" 1\"" } },
		{ { "FILE", "/x", "0" }, 3, { "soft limit \"0\"" } },
		{ { "FILE", "/x", "10KK" }, 3, { "soft limit \"10KK\"" } },
		{ { "FILE", "/x", "1.5M" }, 3, { "soft limit \"1.5M\"" } },
		{ { "FILE", "/x", "99999999999999999999" }, 3,
		    { "soft limit \"99999999999999999999\"" } },
		{ { "FILE", "/x", "18014398509481984M" }, 3,
		    { "soft limit \"18014398509481984M\"" } },
		{ { "FILE", "/x", "18446744073709551615" }, 3,
		    { "\"18446744073709551615\"", "too large" } },
		{ { "FILE", "/x", "10K", "abc" }, 4,
		    { "hard limit \"abc\"" } },
		{ { "FILE", "/x", "10K", "0" }, 4, { "hard limit \"0\"" } },
		{ { "FILE", "/x", "10K", "5K" }, 4,
		    { "hard limit \"5K\" (5120 bytes) is less than soft limit "
		    "\"10K\" (10240 bytes)" } },
		{ { "FILE", "/x", "1M", "1023K" }, 4, { "less than" } },
	};
	struct logtype	 lt;
	char		*w[6];
	char		 err[512];
	int		 i, j;

	(void)state;
	for (i = 0; i < NWORDS(t); i++) {
		for (j = 0; j < 6; j++)
			w[j] = W(t[i].words[j]);
		err[0] = '\0';
		if (logtype_parse(&lt, w, t[i].nwords, err, sizeof(err)) != -1)
			fail_msg("case %d (%s ...) was accepted", i,
			    t[i].nwords > 0 ? w[0] : "");
		assert_int_equal(lt.lt_kind, LOGTYPE_NONE);
		assert_null(lt.lt_path);
		for (j = 0; j < 3 && t[i].expect[j] != NULL; j++)
			if (strstr(err, t[i].expect[j]) == NULL)
				fail_msg("case %d: \"%s\" lacks \"%s\"", i,
				    err, t[i].expect[j]);
		logtype_clear(&lt);
	}
	/* No room for a message is not an error of its own. */
	w[0] = W("NONE");
	assert_int_equal(logtype_parse(&lt, w, 1, NULL, 0), -1);
}

/* Records are appended with the xinetd FILE prefix. */
static void
test_file_sink_records(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], buf[8192], *lines[8];
	time_t			 t0, t1;
	int			 fd;

	(void)state;
	/* An existing file is appended to, never truncated. */
	tmppath(path, sizeof(path), "records.log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, "old\n", 4), 4);
	assert_int_equal(close(fd), 0);

	al = open_file_sink("records.log", 0, 0, path, sizeof(path));
	t0 = time(NULL);
	accesslog_start(al, ALOG_PID | ALOG_HOST, &r);
	r.ar_reason = "address";
	r.ar_id = "a5";
	accesslog_fail(al, ALOG_HOST, &r);
	r.ar_id = "echo";
	r.ar_duration = 0;
	accesslog_exit(al, ALOG_PID | ALOG_EXIT | ALOG_DURATION, &r);
	t1 = time(NULL);
	accesslog_unref(al);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 8), 4);
	assert_string_equal(lines[0], "old");
	assert_record(lines[1], "START: echo pid=8014 from=127.0.0.1", t0, t1);
	assert_record(lines[2], "FAIL: a5 address from=127.0.0.1", t0, t1);
	assert_record(lines[3], "EXIT: echo status=0 pid=8014 duration=0(sec)",
	    t0, t1);
}

/* A FILE is created 0644, append-only and close-on-exec. */
static void
test_file_sink_mode(void **state)
{
	struct accesslog	*al;
	struct stat		 st;
	char			 path[PATH_MAX];
	mode_t			 old;
	int			 flags;

	(void)state;
	old = umask(022);
	al = open_file_sink("mode.log", 0, 0, path, sizeof(path));
	(void)umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* The descriptor must not leak into exec'ed servers. */
	for (flags = 3; flags < 1024; flags++) {
		struct stat	 fst;

		if (fstat(flags, &fst) == 0 && fst.st_ino == st.st_ino &&
		    fst.st_dev == st.st_dev)
			break;
	}
	assert_true(flags < 1024);
	assert_true(fcntl(flags, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(flags, F_GETFL) & O_APPEND);
	accesslog_unref(al);
}

/* Which calls write which records, for each mask. */
static void
test_file_sink_rules(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], buf[8192], *lines[16];
	time_t			 t0, t1;

	(void)state;
	al = open_file_sink("rules.log", 0, 0, path, sizeof(path));
	t0 = time(NULL);
	accesslog_start(al, 0, &r);		/* nothing asked: no START */
	accesslog_start(al, ALOG_ATTEMPT, &r);	/* not a success field */
	accesslog_start(al, ALOG_USERID, &r);	/* 1: bare START */
	accesslog_exit(al, ALOG_PID, &r);	/* PID alone: no EXIT */
	accesslog_exit(al, ALOG_PID | ALOG_HOST, &r);	/* still none */
	accesslog_exit(al, ALOG_DURATION, &r);	/* 2 */
	r.ar_id = "redir";
	accesslog_exit(al, ALOG_TRAFFIC, &r);	/* 3: TRAFFIC only */
	accesslog_exit(al, ALOG_TRAFFIC | ALOG_EXIT | ALOG_PID, &r); /* 4, 5 */
	accesslog_fail(al, 0, &r);		/* nothing asked: no FAIL */
	accesslog_fail(al, ALOG_ATTEMPT, &r);	/* 6 */
	accesslog_fail(al, ALOG_PID, &r);	/* not a failure field */
	accesslog_start(NULL, ALOG_PID, &r);	/* no sink: ignored */
	accesslog_start(al, ALOG_PID, NULL);	/* no record: ignored */
	t1 = time(NULL);
	accesslog_unref(al);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 16), 6);
	assert_record(lines[0], "START: echo", t0, t1);
	assert_record(lines[1], "EXIT: echo duration=3(sec)", t0, t1);
	assert_record(lines[2], "TRAFFIC: redir in=16(bytes) out=0(bytes)", t0,
	    t1);
	assert_record(lines[3], "TRAFFIC: redir in=16(bytes) out=0(bytes)", t0,
	    t1);
	assert_record(lines[4], "EXIT: redir status=0 pid=8014", t0, t1);
	assert_record(lines[5], "FAIL: redir address", t0, t1);
}

/* Long records are cut at 1023 bytes; control characters are masked. */
static void
test_file_sink_long_and_dirty(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], buf[8192], *lines[4];
	char			 id[3000], want[1024];
	time_t			 t0, t1;

	(void)state;
	memset(id, 'z', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	al = open_file_sink("long.log", 0, 0, path, sizeof(path));
	t0 = time(NULL);
	r.ar_id = id;
	accesslog_start(al, ALOG_PID, &r);
	r.ar_id = "evil\nFAIL: forged\r";
	accesslog_start(al, ALOG_PID, &r);
	t1 = time(NULL);
	accesslog_unref(al);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 2);
	/* The record is cut at 1023 bytes, as xinetd's 1024-byte buffer. */
	memcpy(want, "START: ", 7);
	memset(want + 7, 'z', 1023 - 7);
	want[1023] = '\0';
	assert_record(lines[0], want, t0, t1);
	assert_record(lines[1], "START: evil?FAIL: forged? pid=8014", t0, t1);
}

/* Soft limit warns once; writing stops before the hard limit. */
static void
test_file_sink_limits(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], ts[64], msg[PATH_MAX + 64];
	char			 buf[8192], *lines[64];
	size_t			 reclen;
	off_t			 size, last;
	int			 i;

	(void)state;
	/*
	 * Each record is "<ts>: START: echo pid=8014\n"; with soft 100 and
	 * hard 250 the soft limit is crossed by the third record and the
	 * hard limit leaves room for a whole number of records only.
	 */
	reclen = log_timestamp(ts, sizeof(ts), time(NULL)) + 2 +
	    strlen("START: echo pid=8014") + 1;
	al = open_file_sink("limits.log", 100, 250, path, sizeof(path));
	(void)snprintf(msg, sizeof(msg), "log file %s reached its soft limit "
	    "of 100 bytes", path);
	assert_int_equal(diag_count(msg), 0);

	last = 0;
	for (i = 0; i < 20; i++) {
		accesslog_start(al, ALOG_PID, &r);
		size = file_size(path);
		if ((uint64_t)last < 100 && (uint64_t)size >= 100)
			assert_int_equal(diag_count(msg), 1);
		else if ((uint64_t)size < 100)
			assert_int_equal(diag_count(msg), 0);
		last = size;
	}
	/* The soft limit is reported once only. */
	assert_int_equal(diag_count(msg), 1);
	/* Writing stopped before the hard limit would be passed. */
	size = file_size(path);
	assert_true(size <= 250);
	assert_true((size_t)size > 250 - reclen);
	assert_int_equal(size % (off_t)reclen, 0);
	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 64), (int)(size / reclen));
	(void)snprintf(msg, sizeof(msg), "log file %s reached its hard limit "
	    "of 250 bytes", path);
	assert_int_equal(diag_count(msg), 1);
	accesslog_unref(al);
}

/* The size of an existing file counts against the limits. */
static void
test_file_sink_limits_existing(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], msg[PATH_MAX + 64];
	char			 fill[300];
	int			 fd;

	(void)state;
	/* The size of an existing file counts from the start. */
	tmppath(path, sizeof(path), "full.log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_not_equal(fd, -1);
	memset(fill, '.', sizeof(fill));
	assert_int_equal(write(fd, fill, sizeof(fill)), (ssize_t)sizeof(fill));
	assert_int_equal(close(fd), 0);

	al = open_file_sink("full.log", 100, 250, path, sizeof(path));
	accesslog_start(al, ALOG_PID, &r);
	accesslog_start(al, ALOG_PID, &r);
	assert_int_equal(file_size(path), 300);
	(void)snprintf(msg, sizeof(msg), "log file %s reached its hard limit "
	    "of 250 bytes", path);
	assert_int_equal(diag_count(msg), 1);

	/* Rotation empties it: writing resumes, warnings are re-armed. */
	assert_int_equal(truncate(path, 0), 0);
	accesslog_reopen_all();
	accesslog_start(al, ALOG_PID, &r);
	assert_true(file_size(path) > 0);
	assert_true(file_size(path) < 100);
	accesslog_unref(al);
}

/* A soft limit alone never stops writing. */
static void
test_file_sink_soft_only(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], msg[PATH_MAX + 64];
	int			 i;

	(void)state;
	/* A soft limit without a hard one warns but never stops. */
	al = open_file_sink("softonly.log", 50, 0, path, sizeof(path));
	for (i = 0; i < 10; i++)
		accesslog_start(al, ALOG_PID, &r);
	(void)snprintf(msg, sizeof(msg), "log file %s reached its soft limit "
	    "of 50 bytes", path);
	assert_int_equal(diag_count(msg), 1);
	(void)snprintf(msg, sizeof(msg), "log file %s reached its hard limit",
	    path);
	assert_int_equal(diag_count(msg), 0);
	assert_true(file_size(path) > 200);
	accesslog_unref(al);
}

/* Two opens of one path share one refcounted sink. */
static void
test_file_sink_shared(void **state)
{
	struct accesslog	*a, *b, *c;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], pathc[PATH_MAX];
	char			 buf[8192], *lines[8];

	(void)state;
	a = open_file_sink("shared.log", 0, 0, path, sizeof(path));
	b = open_file_sink("shared.log", 0, 0, path, sizeof(path));
	c = open_file_sink("other.log", 0, 0, pathc, sizeof(pathc));
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);

	/* The first release leaves the sink working for the other user. */
	accesslog_unref(a);
	accesslog_start(b, ALOG_PID, &r);
	accesslog_ref(b);
	accesslog_unref(b);
	accesslog_start(b, ALOG_PID, &r);
	accesslog_unref(b);
	accesslog_unref(c);
	accesslog_unref(NULL);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 8), 2);
	assert_int_equal(file_size(pathc), 0);

	/* Once released, opening the path gives a fresh working sink. */
	a = open_file_sink("shared.log", 0, 0, path, sizeof(path));
	accesslog_start(a, ALOG_PID, &r);
	accesslog_unref(a);
	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 8), 3);
}

/* Reopening a shared path takes the newest limits. */
static void
test_file_sink_shared_limits(void **state)
{
	struct accesslog	*a, *b, *c;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], msg[PATH_MAX + 64];
	off_t			 size;
	int			 i;

	(void)state;
	a = open_file_sink("sharedlim.log", 0, 60, path, sizeof(path));
	for (i = 0; i < 5; i++)
		accesslog_start(a, ALOG_PID, &r);
	size = file_size(path);
	assert_true(size <= 60);
	/* Same limits: still stopped, and no second warning. */
	b = open_file_sink("sharedlim.log", 0, 60, path, sizeof(path));
	assert_ptr_equal(a, b);
	accesslog_start(a, ALOG_PID, &r);
	assert_int_equal(file_size(path), size);
	(void)snprintf(msg, sizeof(msg), "log file %s reached its hard limit",
	    path);
	assert_int_equal(diag_count(msg), 1);
	/* New limits: writing resumes. */
	c = open_file_sink("sharedlim.log", 0, 0, path, sizeof(path));
	assert_ptr_equal(a, c);
	accesslog_start(a, ALOG_PID, &r);
	assert_true(file_size(path) > size);
	accesslog_unref(a);
	accesslog_unref(b);
	accesslog_unref(c);
}

/* accesslog_reopen_all() follows a renamed (rotated) file. */
static void
test_file_sink_reopen(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], rotated[PATH_MAX];
	char			 buf[8192], *lines[8];
	time_t			 t0, t1;

	(void)state;
	al = open_file_sink("rotate.log", 0, 0, path, sizeof(path));
	tmppath(rotated, sizeof(rotated), "rotate.log.1");
	t0 = time(NULL);
	accesslog_start(al, ALOG_PID, &r);
	assert_int_equal(rename(path, rotated), 0);
	/* Until reopened, records follow the renamed file. */
	r.ar_pid = 2;
	accesslog_start(al, ALOG_PID, &r);
	accesslog_reopen_all();
	r.ar_pid = 3;
	accesslog_start(al, ALOG_PID, &r);
	t1 = time(NULL);
	accesslog_unref(al);

	(void)slurp(rotated, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 8), 2);
	assert_record(lines[0], "START: echo pid=8014", t0, t1);
	assert_record(lines[1], "START: echo pid=2", t0, t1);
	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 8), 1);
	assert_record(lines[0], "START: echo pid=3", t0, t1);
}

/* Reopening resets the size and re-arms the limit warnings. */
static void
test_file_sink_reopen_resets_size(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], rotated[PATH_MAX];
	char			 msg[PATH_MAX + 64];
	int			 i;

	(void)state;
	al = open_file_sink("rotlim.log", 40, 80, path, sizeof(path));
	tmppath(rotated, sizeof(rotated), "rotlim.log.1");
	for (i = 0; i < 10; i++)
		accesslog_start(al, ALOG_PID, &r);
	assert_true(file_size(path) <= 80);
	assert_int_equal(rename(path, rotated), 0);
	accesslog_reopen_all();
	accesslog_start(al, ALOG_PID, &r);
	assert_true(file_size(path) > 0);
	for (i = 0; i < 10; i++)
		accesslog_start(al, ALOG_PID, &r);
	assert_true(file_size(path) <= 80);
	/* One warning of each kind per file generation. */
	(void)snprintf(msg, sizeof(msg), "log file %s reached its soft limit",
	    path);
	assert_int_equal(diag_count(msg), 2);
	(void)snprintf(msg, sizeof(msg), "log file %s reached its hard limit",
	    path);
	assert_int_equal(diag_count(msg), 2);
	accesslog_unref(al);
}

/* A failed reopen keeps writing to the old file. */
static void
test_file_sink_reopen_fails(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	char			 dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char			 msg[PATH_MAX + 64], buf[4096], *lines[4];

	(void)state;
	/* When the file cannot be reopened the old descriptor is kept. */
	tmppath(dir, sizeof(dir), "sub");
	assert_int_equal(mkdir(dir, 0755), 0);
	tmppath(path, sizeof(path), "sub/x.log");
	al = open_file_sink("sub/x.log", 0, 0, path, sizeof(path));
	tmppath(moved, sizeof(moved), "x.log.moved");
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(rmdir(dir), 0);
	accesslog_reopen_all();
	(void)snprintf(msg, sizeof(msg), "cannot reopen log file %s", path);
	assert_int_equal(diag_count(msg), 1);
	accesslog_start(al, ALOG_PID, &r);
	accesslog_unref(al);
	(void)slurp(moved, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 1);
}

/*
 * A failing write is reported once, not once per record.  Log files must
 * be regular files (no /dev/full): the write fails with EFBIG past an
 * RLIMIT_FSIZE below the sink's size but above the diagnostics file's.
 */
static void
test_file_sink_write_error(void **state)
{
	struct accesslog	*al;
	struct access_rec	 r = full_rec();
	struct rlimit		 old, lim;
	struct sigaction	 sa, oldsa;
	char			 path[PATH_MAX], msg[PATH_MAX + 64];
	int			 fd;

	(void)state;
	tmppath(path, sizeof(path), "big.log");
	assert_int_not_equal(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0644), -1);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	assert_int_equal(close(fd), 0);
	assert_true(file_size(diagpath) < (1 << 20));
	al = open_file_sink("big.log", 0, 0, path, sizeof(path));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGXFSZ, &sa, &oldsa), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 2 << 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	accesslog_start(al, ALOG_PID, &r);
	accesslog_start(al, ALOG_PID, &r);
	accesslog_fail(al, ALOG_HOST, &r);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &oldsa, NULL), 0);

	(void)snprintf(msg, sizeof(msg), "cannot write to log file %s: ",
	    path);
	assert_int_equal(diag_count(msg), 1);
	assert_int_equal(file_size(path), 4 << 20);
	accesslog_unref(al);
}

/* A FILE that cannot be opened gives NULL and a message. */
static void
test_file_sink_open_error(void **state)
{
	struct logtype		 lt;
	char			 path[PATH_MAX], err[PATH_MAX + 128];

	(void)state;
	tmppath(path, sizeof(path), "missing/dir/x.log");
	memset(&lt, 0, sizeof(lt));
	lt.lt_kind = LOGTYPE_FILE;
	lt.lt_path = path;
	assert_null(accesslog_open(&lt, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));
	lt.lt_path = NULL;
	assert_null(accesslog_open(&lt, err, sizeof(err)));
}

/* The default sink writes bare lines to standard error in the foreground. */
static void
test_none_sink_foreground(void **state)
{
	struct accesslog	*a, *b;
	struct access_rec	 r = full_rec();
	char			 path[PATH_MAX], buf[4096];
	int			 fd, saved;

	(void)state;
	tmppath(path, sizeof(path), "stderr.out");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_not_equal(fd, -1);
	saved = dup(STDERR_FILENO);
	assert_int_not_equal(saved, -1);
	assert_int_not_equal(dup2(fd, STDERR_FILENO), -1);

	accesslog_set_foreground(1);
	a = accesslog_open(NULL, NULL, 0);
	b = accesslog_open(&(struct logtype){ .lt_kind = LOGTYPE_NONE },
	    NULL, 0);
	accesslog_start(a, ALOG_PID | ALOG_HOST, &r);
	accesslog_exit(b, ALOG_EXIT, &r);
	accesslog_set_foreground(0);

	assert_int_not_equal(dup2(saved, STDERR_FILENO), -1);
	assert_int_equal(close(saved), 0);
	assert_int_equal(close(fd), 0);
	assert_ptr_equal(a, b);
	accesslog_unref(a);
	accesslog_unref(b);

	(void)slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "START: echo pid=8014 from=127.0.0.1\n"
	    "EXIT: echo status=0\n");
}

/* SYSLOG sinks are shared by facility and level. */
static void
test_syslog_sinks(void **state)
{
	struct logtype		 lt;
	struct accesslog	*a, *b, *c;
	char			 err[256];

	(void)state;
	memset(&lt, 0, sizeof(lt));
	lt.lt_kind = LOGTYPE_SYSLOG;
	lt.lt_facility = LOG_LOCAL3;
	lt.lt_level = LOG_INFO;
	a = accesslog_open(&lt, err, sizeof(err));
	b = accesslog_open(&lt, err, sizeof(err));
	lt.lt_level = LOG_NOTICE;
	c = accesslog_open(&lt, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(c);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	accesslog_unref(a);
	accesslog_unref(b);
	accesslog_unref(c);
}

/* Make the scratch directory and send diagnostics to a file in it. */
static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(diagpath, sizeof(diagpath), "%s/diag.log", tmpdir);
	if (log_init(1, LOG_DAEMON, diagpath) == -1)
		return -1;
	return 0;
}

/* Remove the scratch directory and everything in it. */
static int
teardown(void **state)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;

	(void)state;
	(void)log_init(1, LOG_DAEMON, NULL);
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", tmpdir,
		    de->d_name);
		(void)unlink(path);
	}
	(void)closedir(d);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_pid_host),
		cmocka_unit_test(test_ident_records),
		cmocka_unit_test(test_start_bare),
		cmocka_unit_test(test_start_no_address),
		cmocka_unit_test(test_start_extensions),
		cmocka_unit_test(test_start_extensions_absent),
		cmocka_unit_test(test_start_ignores_unasked),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_exit_signal),
		cmocka_unit_test(test_exit_unknown_status),
		cmocka_unit_test(test_exit_fields),
		cmocka_unit_test(test_fail_reasons),
		cmocka_unit_test(test_fail_extensions),
		cmocka_unit_test(test_traffic),
		cmocka_unit_test(test_format_truncation),
		cmocka_unit_test(test_format_exact_fit),
		cmocka_unit_test(test_fields_success),
		cmocka_unit_test(test_fields_failure),
		cmocka_unit_test(test_fields_bad),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_facilities),
		cmocka_unit_test(test_logtype_syslog),
		cmocka_unit_test(test_logtype_file),
		cmocka_unit_test(test_logtype_bad),
		cmocka_unit_test(test_file_sink_records),
		cmocka_unit_test(test_file_sink_mode),
		cmocka_unit_test(test_file_sink_rules),
		cmocka_unit_test(test_file_sink_long_and_dirty),
		cmocka_unit_test(test_file_sink_limits),
		cmocka_unit_test(test_file_sink_limits_existing),
		cmocka_unit_test(test_file_sink_soft_only),
		cmocka_unit_test(test_file_sink_shared),
		cmocka_unit_test(test_file_sink_shared_limits),
		cmocka_unit_test(test_file_sink_reopen),
		cmocka_unit_test(test_file_sink_reopen_resets_size),
		cmocka_unit_test(test_file_sink_reopen_fails),
		cmocka_unit_test(test_file_sink_write_error),
		cmocka_unit_test(test_file_sink_open_error),
		cmocka_unit_test(test_none_sink_foreground),
		cmocka_unit_test(test_syslog_sinks),
	};

	return test_status(cmocka_run_group_tests(tests, setup, teardown));
}
