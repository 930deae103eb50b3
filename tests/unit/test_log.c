/*
 * Unit tests of log.c: the xinetd timestamp, the -filelog and standard
 * error line formats, verbosity, errno handling, reopening and fatal().
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
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

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "log.h"

static char	 tmpdir[] = "/tmp/test_log.XXXXXX";

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

/* Split <buf> into at most <max> newline-terminated lines. */
static int
split_lines(char *buf, char **lines, int max)
{
	char	*p = buf, *nl;
	int	 n = 0;

	while (*p != '\0' && n < max) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	assert_true(*p == '\0');
	return n;
}

/*
 * Check that <line> is "<ts> portgate[<pid>]: <want>" for the timestamp
 * of a time in [t0, t1].
 */
static void
assert_diag(const char *line, const char *want, pid_t pid, time_t t0,
    time_t t1)
{
	char	 ts[64], exp[4096];
	time_t	 t;

	for (t = t0; t <= t1; t++) {
		(void)log_timestamp(ts, sizeof(ts), t);
		(void)snprintf(exp, sizeof(exp), "%s portgate[%ld]: %s", ts,
		    (long)pid, want);
		if (strcmp(line, exp) == 0)
			return;
	}
	fail_msg("line \"%s\" is not \"<ts> portgate[%ld]: %s\"", line,
	    (long)pid, want);
}

/* Set the time zone for log_timestamp(). */
static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* The xinetd timestamp: 2-digit year, unpadded month and day. */
static void
test_timestamp_utc(void **state)
{
	static const struct {
		time_t		 t;
		const char	*want;
	} t[] = {
		{ 1795638286, "26/11/25@20:24:46" },	/* the doc's sample */
		{ 1231124645, "09/1/5@03:04:05" },	/* unpadded M and D */
		{ 946684800, "00/1/1@00:00:00" },	/* year 2000 -> 00 */
		{ 946684799, "99/12/31@23:59:59" },
		{ 0, "70/1/1@00:00:00" },
		{ 4102444800, "00/1/1@00:00:00" },	/* 2100 */
	};
	char	 buf[64];
	size_t	 i, n;

	(void)state;
	set_tz("UTC");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		n = log_timestamp(buf, sizeof(buf), t[i].t);
		assert_string_equal(buf, t[i].want);
		assert_int_equal(n, strlen(t[i].want));
	}
}

/* The timestamp is in local time. */
static void
test_timestamp_local(void **state)
{
	char	 buf[64];

	(void)state;
	/* POSIX "UTC-2" is two hours east of Greenwich. */
	set_tz("UTC-2");
	(void)log_timestamp(buf, sizeof(buf), 1231124645);
	assert_string_equal(buf, "09/1/5@05:04:05");
	set_tz("UTC+5");
	(void)log_timestamp(buf, sizeof(buf), 1231124645);
	assert_string_equal(buf, "09/1/4@22:04:05");
	set_tz("UTC");
}

/* A short buffer gets a terminated prefix of the timestamp. */
static void
test_timestamp_truncated(void **state)
{
	char	 buf[64];

	(void)state;
	set_tz("UTC");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(log_timestamp(buf, 8, 1795638286), 7);
	assert_string_equal(buf, "26/11/2");
	assert_int_equal(buf[8], 'X');
	assert_int_equal(log_timestamp(buf, 1, 1795638286), 0);
	assert_string_equal(buf, "");
	buf[0] = 'X';
	assert_int_equal(log_timestamp(buf, 0, 1795638286), 0);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(log_timestamp(buf, 18, 1795638286), 17);
	assert_string_equal(buf, "26/11/25@20:24:46");
}

/* -filelog lines: timestamp, pid, level, text; debug only when verbose. */
static void
test_filelog_format(void **state)
{
	char	 path[PATH_MAX], buf[8192], *lines[16];
	time_t	 t0, t1;
	pid_t	 pid = getpid();

	(void)state;
	tmppath(path, sizeof(path), "format.log");
	t0 = time(NULL);
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	log_setverbose(0);
	log_warnx("plain %d", 42);
	log_info("started %s", "ok");
	log_debug("hidden");
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	/* errno survives logging. */
	assert_int_equal(errno, ENOENT);
	log_setverbose(1);
	log_debug("shown %u", 7u);
	log_setverbose(0);
	log_debug("hidden again");
	log_info("bad\nline\r\tend");
	t1 = time(NULL);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 16), 5);
	assert_diag(lines[0], "ERROR: plain 42", pid, t0, t1);
	assert_diag(lines[1], "INFO: started ok", pid, t0, t1);
	assert_diag(lines[2], "ERROR: open /nonexistent: No such file or "
	    "directory", pid, t0, t1);
	assert_diag(lines[3], "DEBUG: shown 7", pid, t0, t1);
	assert_diag(lines[4], "INFO: bad?line??end", pid, t0, t1);
}

/* An over-long message is cut but stays one line. */
static void
test_filelog_long_line(void **state)
{
	char	 path[PATH_MAX], buf[16384], *lines[4], *big;
	size_t	 len;

	(void)state;
	tmppath(path, sizeof(path), "long.log");
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	big = malloc(10000);
	assert_non_null(big);
	memset(big, 'q', 9999);
	big[9999] = '\0';
	log_warnx("%s", big);
	log_info("after");
	free(big);

	len = slurp(path, buf, sizeof(buf));
	assert_true(len < 4096);
	/* Truncated, yet still one line followed by the next message. */
	assert_int_equal(split_lines(buf, lines, 4), 2);
	assert_true(strlen(lines[0]) > 1000);
	assert_int_equal(lines[0][strlen(lines[0]) - 1], 'q');
	assert_non_null(strstr(lines[1], "INFO: after"));
}

/* An unopenable -filelog fails and keeps the old destination. */
static void
test_filelog_open_error(void **state)
{
	char	 path[PATH_MAX], bad[PATH_MAX], buf[4096], *lines[4];

	(void)state;
	tmppath(path, sizeof(path), "keep.log");
	tmppath(bad, sizeof(bad), "no/such/dir.log");
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	errno = 0;
	assert_int_equal(log_init(0, LOG_DAEMON, bad), -1);
	assert_int_equal(errno, ENOENT);
	/* The previous destination is kept. */
	log_info("still here");
	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 1);
	assert_non_null(strstr(lines[0], "INFO: still here"));
}

/* A failing write is ignored and does not change errno. */
static void
test_write_error(void **state)
{
	(void)state;
	/* A failing write is ignored and does not change errno. */
	if (access("/dev/full", W_OK) == -1)
		TEST_SKIP();
	assert_int_equal(log_init(0, LOG_DAEMON, "/dev/full"), 0);
	errno = ENOENT;
	log_warn("lost");
	assert_int_equal(errno, ENOENT);
	errno = EINTR;
	log_info("lost too");
	assert_int_equal(errno, EINTR);
}

/* log_reopen() follows a renamed (rotated) -filelog file. */
static void
test_filelog_reopen(void **state)
{
	char	 path[PATH_MAX], rotated[PATH_MAX], buf[4096], *lines[4];

	(void)state;
	tmppath(path, sizeof(path), "rotate.log");
	tmppath(rotated, sizeof(rotated), "rotate.log.1");
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	log_info("one");
	assert_int_equal(rename(path, rotated), 0);
	log_info("two");
	log_reopen();
	log_info("three");

	(void)slurp(rotated, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 2);
	assert_non_null(strstr(lines[0], "INFO: one"));
	assert_non_null(strstr(lines[1], "INFO: two"));
	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 1);
	assert_non_null(strstr(lines[0], "INFO: three"));
}

/* The -filelog file is created 0644. */
static void
test_filelog_mode(void **state)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	mode_t		 old;

	(void)state;
	tmppath(path, sizeof(path), "mode.log");
	old = umask(022);
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	(void)umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/* Run <fn> in a child with diagnostics in <path>; returns its status. */
static int
run_child(const char *path, int foreground, void (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	/* The child's exit() must not flush our buffered output again. */
	(void)fflush(stdout);
	(void)fflush(stderr);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		if (log_init(foreground, LOG_DAEMON,
		    foreground ? NULL : path) == -1)
			_exit(99);
		fn();
		_exit(98);	/* fatal() did not exit */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* Child body: fatal() with errno. */
static void
child_fatal(void)
{
	errno = EACCES;
	fatal("cannot bind %s", "[::]:7");
}

/* Child body: fatalx(). */
static void
child_fatalx(void)
{
	fatalx("bad configuration, %d errors", 3);
}

/* fatal() and fatalx() log at CRITICAL and exit with 1. */
static void
test_fatal(void **state)
{
	char	 path[PATH_MAX], buf[4096], *lines[4];
	int	 status;

	(void)state;
	tmppath(path, sizeof(path), "fatal.log");
	status = run_child(path, 0, child_fatal);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	status = run_child(path, 0, child_fatalx);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);

	(void)slurp(path, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 2);
	assert_non_null(strstr(lines[0], "]: CRITICAL: cannot bind [::]:7: "
	    "Permission denied"));
	assert_non_null(strstr(lines[1], "]: CRITICAL: bad configuration, "
	    "3 errors"));
}

/*
 * Run the stderr messages of the tests below with standard error on file
 * <name>, JOURNAL_STREAM set to that file's "dev:ino" when <journal> is 1,
 * to another file's when it is 2, unset when 0; the output into <buf>.
 */
static void
stderr_messages(const char *name, int journal, char *buf, size_t len)
{
	struct stat	 st;
	char		 path[PATH_MAX], js[64];
	int		 fd, saved, status;

	tmppath(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_not_equal(fd, -1);
	saved = dup(STDERR_FILENO);
	assert_int_not_equal(saved, -1);
	assert_int_not_equal(dup2(fd, STDERR_FILENO), -1);
	assert_int_equal(fstat(journal == 2 ? saved : fd, &st), 0);
	(void)snprintf(js, sizeof(js), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino);
	if (journal)
		assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
	else
		assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);

	assert_int_equal(log_init(1, LOG_DAEMON, NULL), 0);
	log_setverbose(1);
	log_info("listening on %s", "[::]:7");
	log_debug("shown %d", 1);
	errno = EADDRINUSE;
	log_warn("bind");
	log_warnx("service %s disabled", "echo");
	status = run_child(NULL, 1, child_fatalx);
	log_setverbose(0);

	assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
	assert_int_not_equal(dup2(saved, STDERR_FILENO), -1);
	assert_int_equal(close(saved), 0);
	assert_int_equal(close(fd), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	(void)slurp(path, buf, len);
}

/*
 * In the foreground messages go to standard error as "portgate: text",
 * errors as "portgate: error: text"; also when JOURNAL_STREAM names
 * another file than standard error (a unit's output sent elsewhere).
 */
static void
test_stderr_format(void **state)
{
	static const char	 want[] =
	    "portgate: listening on [::]:7\n"
	    "portgate: shown 1\n"
	    "portgate: error: bind: Address already in use\n"
	    "portgate: error: service echo disabled\n"
	    "portgate: fatal: bad configuration, 3 errors\n";
	char			 buf[4096];

	(void)state;
	stderr_messages("stderr.out", 0, buf, sizeof(buf));
	assert_string_equal(buf, want);
	stderr_messages("stderr2.out", 2, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_string_equal(log_journal_prefix(LOG_ERR), "");
}

/*
 * When JOURNAL_STREAM names standard error, each line starts with its
 * sd-daemon(3) level, without the name the journal adds itself.
 */
static void
test_journal_format(void **state)
{
	char	 buf[4096];

	(void)state;
	stderr_messages("journal.out", 1, buf, sizeof(buf));
	assert_string_equal(buf,
	    "<6>listening on [::]:7\n"
	    "<7>shown 1\n"
	    "<3>bind: Address already in use\n"
	    "<3>service echo disabled\n"
	    "<2>fatal: bad configuration, 3 errors\n");
	assert_string_equal(log_journal_prefix(LOG_WARNING), "<4>");
	assert_string_equal(log_journal_prefix(LOG_DAEMON | LOG_NOTICE),
	    "<5>");
	/* Back to words once log_init() sees no journal. */
	assert_int_equal(log_init(1, LOG_DAEMON, NULL), 0);
	assert_string_equal(log_journal_prefix(LOG_ERR), "");
}

/* A JOURNAL_STREAM that is not exactly "dev:ino" of stderr is no journal. */
static void
test_journal_malformed(void **state)
{
	/* Around and between the numbers: a prefix, the separator, a tail. */
	static const struct {
		const char	*pre, *sep, *post;
		int		 dev, ino;
	} t[] = {
		{ "", ":", "", 1, 1 },		/* well formed: the journal */
		{ "", ":", "x", 1, 1 },
		{ "", ":", ":1", 1, 1 },
		{ "", ":", "0", 1, 1 },
		{ " ", ":", "", 1, 1 },
		{ "", ":", "", 1, 0 },
		{ "", ":", "", 0, 1 },
		{ "", ".", "", 1, 1 },
	};
	struct stat	 st;
	char		 js[64], dev[32], ino[32];
	size_t		 i;

	(void)state;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	(void)snprintf(dev, sizeof(dev), "%ju", (uintmax_t)st.st_dev);
	(void)snprintf(ino, sizeof(ino), "%ju", (uintmax_t)st.st_ino);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(js, sizeof(js), "%s%s%s%s%s", t[i].pre,
		    t[i].dev ? dev : "", t[i].sep, t[i].ino ? ino : "",
		    t[i].post);
		assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
		assert_int_equal(log_init(1, LOG_DAEMON, NULL), 0);
		/* The first, well formed, proves the others are refused. */
		assert_string_equal(log_journal_prefix(LOG_ERR),
		    i == 0 ? "<3>" : "");
	}
	assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
	assert_int_equal(log_init(1, LOG_DAEMON, NULL), 0);
}

/*
 * log_reopen() that cannot open the file again (its directory is gone)
 * keeps writing to the file it has, and says why there.
 */
static void
test_filelog_reopen_fails(void **state)
{
	char	 dir[PATH_MAX], moved[PATH_MAX], path[PATH_MAX], old[PATH_MAX];
	char	 buf[4096], want[PATH_MAX + 128], *lines[4];

	(void)state;
	tmppath(dir, sizeof(dir), "gone");
	tmppath(moved, sizeof(moved), "gone.old");
	tmppath(path, sizeof(path), "gone/r.log");
	tmppath(old, sizeof(old), "gone.old/r.log");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(log_init(0, LOG_DAEMON, path), 0);
	log_info("one");
	assert_int_equal(rename(dir, moved), 0);
	log_reopen();
	log_info("two");
	(void)log_init(1, LOG_DAEMON, NULL);

	(void)slurp(old, buf, sizeof(buf));
	assert_int_equal(split_lines(buf, lines, 4), 3);
	assert_non_null(strstr(lines[0], "INFO: one"));
	(void)snprintf(want, sizeof(want), "ERROR: cannot reopen log file "
	    "%s: No such file or directory", path);
	assert_non_null(strstr(lines[1], want));
	assert_non_null(strstr(lines[2], "INFO: two"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(unlink(old), 0);
	assert_int_equal(rmdir(moved), 0);
}

/* Make the scratch directory. */
static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
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
		cmocka_unit_test(test_timestamp_utc),
		cmocka_unit_test(test_timestamp_local),
		cmocka_unit_test(test_timestamp_truncated),
		cmocka_unit_test(test_filelog_format),
		cmocka_unit_test(test_filelog_long_line),
		cmocka_unit_test(test_filelog_open_error),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_filelog_reopen),
		cmocka_unit_test(test_filelog_mode),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_stderr_format),
		cmocka_unit_test(test_journal_format),
		cmocka_unit_test(test_journal_malformed),
		cmocka_unit_test(test_filelog_reopen_fails),
	};

	return test_status(cmocka_run_group_tests(tests, setup, teardown));
}
