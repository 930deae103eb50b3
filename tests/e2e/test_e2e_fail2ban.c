/*
 * End-to-end tests of contrib/fail2ban/filter.d/portgate.conf: the real
 * portgate refuses clients from 127.0.0.2 and 127.0.0.3 and logs them,
 * then Debian's fail2ban-regex reads that log with the filter and must
 * find exactly those hosts, as many times as they were refused.  The log
 * is the FILE format, with and without PORT, and syslog's, written by
 * portgate's own syslog(3) calls to a /dev/log that the test owns (in a
 * mount namespace of the daemon's) and stored as a syslog daemon stores
 * it ("MMM dd hh:mm:ss host portgate[pid]: ...").
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "harness.h"

#define CONF		"portgate.conf"
#define SYSLOG_FILE	"syslog.log"
#define F2B_REGEX	"/usr/bin/fail2ban-regex"
#define F2B_COMMON	"/etc/fail2ban/filter.d/common.conf"
/* fail2ban-regex is a Python program: slow to start on a loaded machine. */
#define F2B_TIMEOUT_MS	60000
/* Refusals of each client; the first is the one fail2ban must count. */
#define REFUSED_2	3
#define REFUSED_3	2

/* The contrib directory, from $PORTGATE_DATA (tests/data). */
static const char *
contrib_filter(char *buf, size_t len)
{
	const char	*data = pg_data();

	assert_non_null(data);
	(void)snprintf(buf, len, "%s/../../contrib/fail2ban/filter.d/"
	    "portgate.conf", data);
	return buf;
}

/* fail2ban-regex and the common.conf the filter includes, or skip. */
static void
need_fail2ban(void)
{
	if (access(F2B_REGEX, X_OK) == -1 || access(F2B_COMMON, R_OK) == -1) {
		fprintf(stderr, "fail2ban-regex: install the Debian package "
		    "fail2ban\n");
		TEST_SKIP();
	}
}

/* An echo built-in on 127.0.0.1 <p> that admits 127.0.0.1 alone. */
static void
conf_service(struct pg_conf *cf, int p)
{
	pg_conf_add(cf, "\nservice echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", p);
}

/* One connection from <src> to echo on <p>, closed by portgate or us. */
static void
client(const char *src, int p)
{
	char	buf[16];
	int	fd;

	fd = pg_tcp_connect(src, "127.0.0.1", p);
	assert_true(fd >= 0);
	/* Refused: portgate closes; admitted: we close after one echo. */
	if (strcmp(src, "127.0.0.1") == 0) {
		assert_int_equal(pg_send_all(fd, "x", 1), 0);
		assert_int_equal(pg_recv_n(fd, buf, 1), 1);
	} else
		assert_true(pg_recv_eof(fd, buf, sizeof(buf)) == 0);
	assert_int_equal(close(fd), 0);
}

/* The refusals every test makes, and one admitted client. */
static void
clients(int p)
{
	int	i;

	for (i = 0; i < REFUSED_2; i++)
		client("127.0.0.2", p);
	for (i = 0; i < REFUSED_3; i++)
		client("127.0.0.3", p);
	client("127.0.0.1", p);
}

/*
 * Run fail2ban-regex on <log> with the filter, printing the address of
 * each match; its output in DIR/f2b.out.  The filter goes in a directory
 * of its own next to the system's common.conf, as it would be installed.
 */
static char *
fail2ban_run(struct pg_ctx *c, const char *log)
{
	char		 dir[PG_PATH_MAX], fdir[PG_PATH_MAX], path[PG_PATH_MAX];
	char		 filter[PG_PATH_MAX], lpath[PG_PATH_MAX];
	char		 out[PG_PATH_MAX];
	long long	 deadline;
	pid_t		 pid;
	int		 fd, st = -1;

	assert_int_equal(mkdir(pg_path(c, "f2b", dir), 0755), 0);
	assert_int_equal(mkdir(pg_path(c, "f2b/filter.d", fdir), 0755), 0);
	assert_int_equal(symlink(F2B_COMMON,
	    pg_path(c, "f2b/filter.d/common.conf", path)), 0);
	(void)pg_path(c, "f2b/filter.d/portgate.conf", path);
	assert_int_equal(symlink(contrib_filter(filter, sizeof(filter)),
	    path), 0);
	(void)pg_path(c, log, lpath);
	(void)pg_path(c, "f2b.out", out);

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		execl(F2B_REGEX, F2B_REGEX, "--config", dir, "-o", "ip",
		    lpath, "portgate", (char *)NULL);
		_exit(127);
	}
	deadline = pg_now_ms() + F2B_TIMEOUT_MS;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (pg_left(deadline) == 0) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			fail_msg("fail2ban-regex did not finish");
		}
		pg_sleep_ms(20);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("fail2ban-regex failed:\n%s", pg_file_read(c,
		    "f2b.out"));
	return pg_file_read(c, "f2b.out");
}

/* fail2ban-regex found .2 and .3 as often as they were refused, no other. */
static void
fail2ban_check(struct pg_ctx *c, const char *log)
{
	char	*out;

	out = fail2ban_run(c, log);
	assert_non_null(out);
	if (pg_count_lines(out, "^127\\.0\\.0\\.2$") != REFUSED_2 ||
	    pg_count_lines(out, "^127\\.0\\.0\\.3$") != REFUSED_3 ||
	    pg_count_lines(out, ".") != REFUSED_2 + REFUSED_3)
		fail_msg("fail2ban-regex on %s found:\n%s\nthe log:\n%s", log,
		    out, pg_file_read(c, log));
	free(out);
}

/* log_type = FILE, log_on_failure = <failure>: fail2ban reads the file. */
static void
file_case(struct pg_ctx *c, const char *failure, const char *fail_re)
{
	struct pg_conf	 cf;
	int		 p = pg_fresh_port();

	need_fail2ban();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", failure);
	conf_service(&cf, p);
	pg_conf_start(c, &cf, CONF);
	clients(p);
	pg_log_wait_re(c, REFUSED_2 + REFUSED_3, "%s", fail_re);
	pg_log_wait(c, 1, "START: echo from=127.0.0.1");
	pg_stop_ok(c);
	fail2ban_check(c, PG_ACCESS_LOG);
}

/* FILE records with PORT: "...: FAIL: echo address from=A port=N". */
static void
test_file_with_port(void **state)
{
	file_case(*state, "HOST PORT", "^[^ ]+: FAIL: echo address "
	    "from=127\\.0\\.0\\.[23] port=[0-9]+$");
}

/* FILE records without PORT: "...: FAIL: echo address from=A". */
static void
test_file_without_port(void **state)
{
	file_case(*state, "HOST", "^[^ ]+: FAIL: echo address "
	    "from=127\\.0\\.0\\.[23]$");
}

/* A bound datagram socket at <path>, the test's /dev/log. */
static int
devlog_open(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	(void)strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/*
 * In the child, before exec: a mount namespace whose /dev is a tmpfs with
 * the few devices a daemon opens and "log", a link to the test's socket.
 * Exits 77 when namespaces cannot be made here.
 */
static void
child_devlog(const char *newdev, const char *sock)
{
	static const char *const	 devs[] = { "null", "zero", "full",
	    "random", "urandom" };
	char				 from[64], to[PG_PATH_MAX + 64];
	size_t				 i;
	int				 fd;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", newdev, "tmpfs", MS_NOSUID, "mode=0755") == -1)
		_exit(77);
	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		(void)snprintf(from, sizeof(from), "/dev/%s", devs[i]);
		(void)snprintf(to, sizeof(to), "%s/%s", newdev, devs[i]);
		if ((fd = open(to, O_WRONLY | O_CREAT, 0666)) == -1 ||
		    close(fd) == -1 ||
		    mount(from, to, NULL, MS_BIND, NULL) == -1)
			_exit(78);
	}
	(void)snprintf(to, sizeof(to), "%s/log", newdev);
	if (symlink(sock, to) == -1 ||
	    mount(newdev, "/dev", NULL, MS_BIND | MS_REC, NULL) == -1)
		_exit(78);
}

/* Start portgate -dontfork with /dev/log on <sock>; skips without root. */
static void
start_with_devlog(struct pg_ctx *c, const char *sock)
{
	char		 newdev[PG_PATH_MAX], conf[PG_PATH_MAX];
	char		 pidf[PG_PATH_MAX], err[PG_PATH_MAX];
	long long	 deadline;
	pid_t		 pid;
	int		 fd, st, i;

	(void)pg_path(c, "dev", newdev);
	assert_int_equal(mkdir(newdev, 0755), 0);
	(void)pg_path(c, CONF, conf);
	(void)pg_path(c, PG_PIDFILE, pidf);
	(void)pg_path(c, PG_ERRLOG, err);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if ((fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		child_devlog(newdev, sock);
		execl(pg_bin(), pg_bin(), "-dontfork", "-f", conf, "-pidfile",
		    pidf, (char *)NULL);
		_exit(127);
	}
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	for (i = 0; pg_pidfile_read(c, PG_PIDFILE) != pid; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
				fprintf(stderr, "no mount namespace here: "
				    "run as root\n");
				TEST_SKIP();
			}
			fail_msg("portgate exited, status %d:\n%s",
			    pg_exit_code(st), pg_file_read(c, PG_ERRLOG));
		}
		if (pg_left(deadline) == 0) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			fail_msg("portgate did not start");
		}
		pg_sleep_ms(i < 10 ? 5 : 20);
	}
	assert_int_equal(pg_adopt(c, PG_PIDFILE), 0);
}

/*
 * Read the syslog(3) datagrams "<PRI>MMM dd hh:mm:ss portgate[pid]: text"
 * into <log> as a syslog daemon writes them, with the host name after the
 * time stamp, until <want> FAIL records have come; fails at the deadline.
 */
static void
devlog_collect(struct pg_ctx *c, int fd, const char *log, int want)
{
	char		 dgram[2048], path[PG_PATH_MAX];
	const char	*p;
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	ssize_t		 n;
	FILE		*fp;
	int		 fails = 0;

	fp = fopen(pg_path(c, log, path), "w");
	assert_non_null(fp);
	while (fails < want) {
		if (pg_poll(fd, POLLIN, pg_left(deadline)) != 1)
			fail_msg("%d of %d FAIL records came to /dev/log",
			    fails, want);
		n = recv(fd, dgram, sizeof(dgram) - 1, 0);
		assert_true(n > 0);
		dgram[n] = '\0';
		if (n > 0 && dgram[n - 1] == '\n')
			dgram[n - 1] = '\0';
		/* "<30>" then the 15 characters of "MMM dd hh:mm:ss ". */
		assert_int_equal(dgram[0], '<');
		p = strchr(dgram, '>');
		assert_non_null(p);
		assert_true(strlen(p + 1) > 16);
		assert_int_equal(p[16], ' ');
		fprintf(fp, "%.15s testhost %s\n", p + 1, p + 17);
		if (strstr(p, "]: FAIL: ") != NULL)
			fails++;
	}
	assert_int_equal(fclose(fp), 0);
}

/*
 * log_type = SYSLOG: the records portgate sends to /dev/log, stored as
 * syslog stores them, with and without PORT.
 */
static void
test_syslog(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 sock[PG_PATH_MAX];
	int		 fd, p = pg_fresh_port();

	need_fail2ban();
	fd = devlog_open(pg_path(c, "devlog", sock));
	pg_conf_init(&cf);
	pg_conf_add(&cf, "defaults\n{\n\tlog_type\t= SYSLOG daemon info\n"
	    "\tlog_on_success\t= HOST\n\tlog_on_failure\t= HOST PORT\n}\n");
	conf_service(&cf, p);
	pg_conf_write(&cf, c, CONF);
	start_with_devlog(c, sock);
	clients(p);
	devlog_collect(c, fd, SYSLOG_FILE, REFUSED_2 + REFUSED_3);
	pg_stop_ok(c);
	assert_int_equal(close(fd), 0);
	assert_int_equal(pg_file_count_re(c, SYSLOG_FILE, "^[A-Z][a-z]{2} "
	    "[ 0-9][0-9] [0-9:]{8} testhost portgate\\[[0-9]+\\]: FAIL: echo "
	    "address from=127\\.0\\.0\\.[23] port=[0-9]+$"),
	    REFUSED_2 + REFUSED_3);
	fail2ban_check(c, SYSLOG_FILE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_with_port, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_file_without_port,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_syslog, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
