/*
 * End-to-end tests of the daemon's life: the command line (-t, --help,
 * -version, unknown options), the pid file, stopping on SIGTERM and SIGINT
 * with a session open, SIGHUP reloads (good and broken), the SIGUSR1 dump,
 * ports that cannot be bound (with and without -stayalive, in the
 * foreground and detached, where the command says why on its standard
 * error) and -filelog.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <regex.h>
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

#include <event2/event.h>
#include <openssl/opensslv.h>
#include <seccomp.h>

#include "../test_skip.h"

#include "build-config.h"

#include "harness.h"

#define ACCESS_LOG	"access.log"
#define FILELOG		"portgate.log"
#define CONF		"portgate.conf"
/*
 * A stop "promptly" ends well within this, even on a loaded machine: the
 * master's grace is 3 + 2 seconds at the most (servers, then workers),
 * and a worker of a coverage build writes every counter file as it exits.
 */
#define STOP_MS		8000

/* xinetd's time stamp, "YY/M/D@HH:MM:SS". */
#define TS_RE		"[0-9]{2}/[0-9]{1,2}/[0-9]{1,2}@" \
			"[0-9]{2}:[0-9]{2}:[0-9]{2}"

/*
 * An EXIT duration.  "-?" because of a bug: a session can be logged with
 * "duration=-1(sec)" (see test_duration_not_negative in
 * test_e2e_builtin.c); drop it once that is fixed.
 */
#define DURATION_RE	"duration=-?[0-9]+\\(sec\\)"


/* Start <cf> with defaults logging to the access log of <c>. */
static void
conf_begin(struct pg_conf *cf, const struct pg_ctx *c, const char *success)
{
	pg_conf_begin(cf, c, ACCESS_LOG, success, NULL);
}

/*
 * A TCP built-in on 127.0.0.1 <port>: service <name>, id <id> (NULL:
 * the name), with <extra> attribute lines (NULL: none).
 */
static void
conf_service(struct pg_conf *cf, const char *name, const char *id, int port,
    const char *extra)
{
	pg_conf_add(cf, "\nservice %s\n{\n", name);
	if (id != NULL)
		pg_conf_add(cf, "\tid\t\t= %s\n", id);
	pg_conf_add(cf, "\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n%s}\n",
	    port, extra != NULL ? extra : "");
}

/* Echo <msg> on an open session <fd>; the reply must be the same. */
static void
echo_once(int fd, const char *msg)
{
	char	buf[256];
	size_t	len = strlen(msg);

	assert_true(len <= sizeof(buf));
	assert_int_equal(pg_send_all(fd, msg, len), 0);
	assert_int_equal(pg_recv_n(fd, buf, len), len);
	assert_memory_equal(buf, msg, len);
}

/* A whole echo session from <src> to 127.0.0.1 <p>. */
static void
echo_session(const char *src, int p)
{
	char	buf[64];
	int	fd;

	fd = pg_tcp_connect(src, "127.0.0.1", p);
	assert_true(fd >= 0);
	assert_int_equal(pg_tcp_exchange(fd, "hello", 5, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	(void)close(fd);
}

/* 127.0.0.1 <p> answers like a time service. */
static void
time_answers(int p)
{
	unsigned char	buf[16];
	int		fd;

	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", p);
	assert_true(fd >= 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 4);
	(void)close(fd);
}

/* Nothing listens on 127.0.0.1 <p>. */
static void
refused(int p)
{
	int	fd;

	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", p);
	if (fd >= 0)
		(void)close(fd);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ECONNREFUSED);
}

/*
 * Occupy TCP 127.0.0.1 <p> with a listening socket, with SO_REUSEPORT
 * when <reuseport> (as a second daemon of this user would hold it); its
 * descriptor.
 */
static int
occupy(int p, int reuseport)
{
	struct sockaddr_in	sin;
	int			fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (reuseport)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
		    sizeof(on)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

/* -t on a good file: exit 0, "configuration OK". */
static void
test_check_good(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	struct pg_conf		 cf;
	char			 path[PG_PATH_MAX];

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pg_fresh_port(), NULL);
	conf_service(&cf, "daytime", NULL, pg_fresh_port(), NULL);
	pg_conf_write(&cf, c, "good.conf");
	assert_int_equal(pg_run(c, &r, "-t", "-f",
	    pg_path(c, "good.conf", path), NULL), 0);
	assert_non_null(strstr(r.pr_out, "configuration OK"));
	assert_non_null(strstr(r.pr_out, "2 services"));
	pg_result_clear(&r);
}

/* -t on a file with three different errors lists each with file:line. */
static void
test_check_bad(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX], re[PG_PATH_MAX + 64];
	static const int	 lines[] = { 10, 11, 19 };
	size_t			 i;

	assert_int_equal(pg_file_write(c, "bad.conf",
	    "defaults\n"				/* 1 */
	    "{\n"
	    "\tlog_on_success\t= HOST\n"
	    "}\n"
	    "\n"					/* 5 */
	    "service echo\n"
	    "{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n"
	    "\twait\t\t= maybe\n"			/* 10: bad value */
	    "\tport\t\t= 70000\n"			/* 11: out of range */
	    "}\n"
	    "\n"
	    "service daytime\n"
	    "{\n"					/* 15 */
	    "\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n"
	    "\tfrobnicate\t= yes\n"			/* 19: unknown */
	    "\tport\t\t= %d\n"
	    "}\n", pg_fresh_port()), 0);
	assert_int_equal(pg_run(c, &r, "-t", "-f",
	    pg_path(c, "bad.conf", path), NULL), 1);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		(void)snprintf(re, sizeof(re), "^%s:%d: error: ", path,
		    lines[i]);
		if (pg_count_lines(r.pr_err, re) != 1)
			fail_msg("no error for line %d in:\n%s", lines[i],
			    r.pr_err);
	}
	/* Those three, and no other. */
	(void)snprintf(re, sizeof(re), "^%s:[0-9]+: error: ", path);
	assert_int_equal(pg_count_lines(r.pr_err, re), 3);
	assert_int_equal(pg_count_lines(r.pr_err, ": 3 errors, "), 1);
	assert_null(strstr(r.pr_out, "configuration OK"));
	pg_result_clear(&r);
}

/* An unknown option: exit 2, naming it. */
static void
test_unknown_option(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;

	assert_int_equal(pg_run(c, &r, "-frobnicate", NULL), 2);
	assert_non_null(strstr(r.pr_err, "-frobnicate"));
	pg_result_clear(&r);
}

/* --help lists the xinetd options. */
static void
test_help(void **state)
{
	static const char *const opts[] = { "-f", "-t", "-dontfork",
	    "-pidfile", "-stayalive", "-syslog", "-filelog", "-limit",
	    "-version" };
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 re[64];
	size_t			 i;

	assert_int_equal(pg_run(c, &r, "--help", NULL), 0);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		(void)snprintf(re, sizeof(re), "^ +%s[ ,]", opts[i]);
		if (pg_count_lines(r.pr_out, re) == 0)
			fail_msg("--help does not list %s:\n%s", opts[i],
			    r.pr_out);
	}
	pg_result_clear(&r);
}

/*
 * -version, --version and -V print the version (the first line, as
 * xinetd's -version), the libraries at run time and at build time, what
 * is not built in, the configure options and the default paths.
 */
static void
test_version(void **state)
{
	static const char *const opts[] = { "-version", "--version", "-V" };
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 line[512];
	const struct scmp_version	*sv;
	char			 seccomp[160];
	size_t			 i, j;
	const char		*want[6];

	(void)snprintf(line, sizeof(line), "libevent %s (built with %s)\n",
	    event_get_version(), LIBEVENT_VERSION);
	want[0] = line;
	want[1] = "\nOpenSSL " OPENSSL_VERSION_STR " (built with "
	    OPENSSL_VERSION_STR ")\n";
	want[2] = "\nlibwrap: built in (/etc/hosts.allow and /etc/hosts.deny "
	    "are read at each check)\n";
	sv = seccomp_version();
	(void)snprintf(seccomp, sizeof(seccomp), "\nlibseccomp %u.%u.%u "
	    "(built with %d.%d.%d; it confines the workers)\n", sv->major,
	    sv->minor, sv->micro, SCMP_VER_MAJOR, SCMP_VER_MINOR,
	    SCMP_VER_MICRO);
	want[3] = seccomp;
	want[4] = "\nconfiguration file: " PORTGATE_CONF "\n";
	want[5] = "\nconfigured with: ";
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		assert_int_equal(pg_run(c, &r, opts[i], NULL), 0);
		assert_true(strncmp(r.pr_out, "portgate " PACKAGE_VERSION "\n",
		    strlen("portgate " PACKAGE_VERSION "\n")) == 0);
		for (j = 0; j < sizeof(want) / sizeof(want[0]); j++)
			if (strstr(r.pr_out, want[j]) == NULL)
				fail_msg("%s lacks \"%s\":\n%s", opts[i],
				    want[j], r.pr_out);
		assert_int_equal(pg_count_lines(r.pr_out, "^libmaxminddb "
		    "[0-9.]+ \\(built with [0-9.]+\\)$"), 1);
		assert_string_equal(r.pr_err, "");
		pg_result_clear(&r);
	}
}

/* The pid file names the daemon and goes away on SIGTERM. */
static void
test_pidfile(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		*text, want[32];
	int		 p = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_start(c, &cf, CONF);
	/* Every socket is bound once the pid file is there. */
	echo_session("127.0.0.2", p);
	assert_non_null(text = pg_file_read(c, PG_PIDFILE));
	(void)snprintf(want, sizeof(want), "%ld\n", (long)c->pc_pid);
	assert_string_equal(text, want);
	free(text);
	pg_stop_ok(c);
	assert_null(text = pg_file_read(c, PG_PIDFILE));
}

/*
 * <sig> with an echo session open: the daemon exits 0 promptly and the
 * client sees EOF.
 */
static void
stop_with_session(struct pg_ctx *c, int sig)
{
	struct pg_conf	 cf;
	char		 buf[64];
	long long	 t0;
	int		 fd, st, p = pg_fresh_port();

	conf_begin(&cf, c, "HOST EXIT");
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_start(c, &cf, CONF);
	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", p);
	assert_true(fd >= 0);
	echo_once(fd, "still there?");
	t0 = pg_now_ms();
	assert_int_equal(pg_signal(c, sig), 0);
	st = pg_wait_exit(c, PG_TIMEOUT_MS);
	assert_int_not_equal(st, -1);
	assert_true(pg_now_ms() - t0 < STOP_MS);
	assert_int_equal(pg_exit_code(st), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "portgate stopped", 1), 0);
	assert_null(pg_file_read(c, PG_PIDFILE));
	refused(p);
}

static void
test_sigterm_with_session(void **state)
{
	stop_with_session(*state, SIGTERM);
}

static void
test_sigint_with_session(void **state)
{
	stop_with_session(*state, SIGINT);
}

/*
 * SIGHUP adds a service (its port answers), removes two (their ports
 * refuse; an open session of one goes on) and changes the log fields of a
 * third while an echo session to it stays open and keeps working.
 */
static void
test_reload(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[8];
	int		 fd, gonefd, pecho = pg_fresh_port();
	int		 pgone = pg_fresh_port();
	int		 pday = pg_fresh_port(), ptime = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pecho, NULL);
	conf_service(&cf, "echo", "echo-gone", pgone, NULL);
	conf_service(&cf, "daytime", NULL, pday, NULL);
	pg_conf_start(c, &cf, CONF);
	refused(ptime);
	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", pecho);
	assert_true(fd >= 0);
	echo_once(fd, "before the reload");
	gonefd = pg_tcp_connect("127.0.0.3", "127.0.0.1", pgone);
	assert_true(gonefd >= 0);
	echo_once(gonefd, "soon without a service");
	assert_int_equal(pg_file_wait(c, ACCESS_LOG,
	    "START: echo from=127.0.0.2", 1), 0);

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pecho,
	    "\tlog_on_success\t= PID HOST EXIT DURATION\n");
	conf_service(&cf, "time", NULL, ptime, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "service daytime "
	    "removed"), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "service echo-gone "
	    "removed"), 1);

	time_answers(ptime);
	refused(pday);
	refused(pgone);
	/* Sessions from before the reload go on, even without a service. */
	echo_once(fd, "after the reload");
	echo_once(gonefd, "still served");
	/* New sessions of the kept service take its new log fields. */
	echo_session("127.0.0.3", pecho);
	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, ": START: echo pid=0 "
	    "from=127\\.0\\.0\\.3$", 1), 0);
	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, ": EXIT: echo "
	    "status=0 pid=0 " DURATION_RE "$", 1), 0);
	echo_once(fd, "and still");
	assert_int_equal(pg_shut_wr(fd), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	assert_int_equal(pg_shut_wr(gonefd), 0);
	assert_int_equal(pg_recv_eof(gonefd, buf, sizeof(buf)), 0);
	(void)close(gonefd);
	pg_stop_ok(c);
}

/*
 * A reload with a broken file logs its errors with file:line, keeps the
 * running configuration (the valid service it adds is not started) and
 * the old services answer; a fixed file then loads.
 */
static void
test_reload_broken(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 path[PG_PATH_MAX], want[PG_PATH_MAX + 32];
	int		 pecho = pg_fresh_port(), ptime = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pecho, NULL);
	pg_conf_start(c, &cf, CONF);
	/* Served once: the loop runs (see test_signal_at_readiness). */
	echo_session("127.0.0.2", pecho);

	/* A valid new service, and an error in another one. */
	conf_service(&cf, "time", NULL, ptime, NULL);
	conf_service(&cf, "daytime", NULL, pg_fresh_port(),
	    "\tinstances\t= lots\n");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "running configuration is "
	    "kept"), 0);
	(void)snprintf(want, sizeof(want), "%s:%d: error: ",
	    pg_path(c, CONF, path), pg_conf_line(&cf, "= lots"));
	if (pg_file_count(c, PG_ERRLOG, want) != 1)
		fail_msg("no '%s' in the log:\n%s", want,
		    pg_file_read(c, PG_ERRLOG));
	echo_session("127.0.0.2", pecho);
	refused(ptime);

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pecho, NULL);
	conf_service(&cf, "time", NULL, ptime, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	time_answers(ptime);
	echo_session("127.0.0.3", pecho);
	pg_stop_ok(c);
}

/* SIGUSR1 logs "dump:" lines for every service and session. */
static void
test_sigusr1_dump(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 re[128];
	int		 fd, pecho = pg_fresh_port(), pday = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", "echo-dumped", pecho, NULL);
	conf_service(&cf, "daytime", NULL, pday, NULL);
	pg_conf_start(c, &cf, CONF);
	fd = pg_tcp_connect("127.0.0.3", "127.0.0.1", pecho);
	assert_true(fd >= 0);
	echo_once(fd, "dump me");
	assert_int_equal(pg_signal(c, SIGUSR1), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG,
	    "dump: 2 services, 1 sessions", 1), 0);
	(void)snprintf(re, sizeof(re), "dump: service echo-dumped .* "
	    "127\\.0\\.0\\.1:%d: 1 running, 1 accepted", pecho);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, re, 1), 0);
	(void)snprintf(re, sizeof(re), "dump: service daytime .* "
	    "127\\.0\\.0\\.1:%d: 0 running", pday);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, re, 1), 0);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, "dump: session "
	    "echo-dumped from 127\\.0\\.0\\.3 port [0-9]+", 1), 0);
	(void)close(fd);
	pg_stop_ok(c);
}

/*
 * A port in use: without -stayalive start-up fails with status 1 and a
 * message naming the port, in the foreground (-dontfork) as with -d; with
 * -stayalive the other services run.  (xinetd's -dontfork implies
 * -stayalive; portgate's no longer does since b22efde, while the draft
 * portgate(8) still says it does: see the report.)
 */
static void
test_port_in_use(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 want[64];
	int		 blocker, pbusy = pg_fresh_port();
	int		 ptime = pg_fresh_port();

	blocker = occupy(pbusy, 0);
	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pbusy, NULL);
	conf_service(&cf, "time", NULL, ptime, NULL);
	pg_conf_write(&cf, c, CONF);
	(void)snprintf(want, sizeof(want), "127.0.0.1:%d", pbusy);

	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, NULL), -1);
	assert_int_equal(pg_exit_code(c->pc_status), 1);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "could not start"), 1);
	assert_null(pg_file_read(c, PG_PIDFILE));

	assert_int_equal(pg_start(c, CONF, PG_DEBUG, NULL), -1);
	assert_int_equal(pg_exit_code(c->pc_status), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "could not start"), 2);

	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, "-stayalive", NULL),
	    0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 3), 0);
	time_answers(ptime);
	pg_stop_ok(c);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "could not start"), 2);
	(void)close(blocker);
}

/*
 * Two workers bind a port with SO_REUSEPORT; a socket of another process
 * of this user with SO_REUSEPORT on that port would take a share of the
 * clients without any error at bind: the port is found in use instead.
 */
static void
test_port_in_use_reuseport(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 want[96];
	int		 blocker, p = pg_fresh_port();

	blocker = occupy(p, 1);
	conf_begin(&cf, c, "HOST");
	pg_conf_workers(&cf, 2);
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, NULL), -1);
	assert_int_equal(pg_exit_code(c->pc_status), 1);
	(void)snprintf(want, sizeof(want), "cannot bind tcp 127.0.0.1:%d: "
	    "Address already in use", p);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
	(void)close(blocker);
}

/*
 * Detached, portgate returns 0 only once every socket is bound: the port
 * answers as soon as the command has returned.
 */
static void
test_detached(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	struct pg_conf		 cf;
	char			 conf[PG_PATH_MAX], pid[PG_PATH_MAX];
	int			 p = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-f", pg_path(c, CONF, conf),
	    "-pidfile", pg_path(c, PG_PIDFILE, pid), NULL), 0);
	/* Adopted first, so that teardown stops it whatever fails next. */
	assert_int_equal(pg_adopt(c, PG_PIDFILE), 0);
	assert_string_equal(r.pr_err, "");
	pg_result_clear(&r);
	assert_int_not_equal(c->pc_pid, getpid());
	echo_session("127.0.0.2", p);
	assert_int_equal(pg_file_wait(c, ACCESS_LOG,
	    "START: echo from=127.0.0.2", 1), 0);
	pg_stop_ok(c);
	assert_null(pg_file_read(c, PG_PIDFILE));
}

/*
 * Detached, a port that cannot be bound makes the command return 1 and
 * say why on its standard error, as well as in the -filelog file.
 */
static void
test_detached_bind_failure(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	struct pg_conf		 cf;
	char			 conf[PG_PATH_MAX], pid[PG_PATH_MAX];
	char			 log[PG_PATH_MAX], want[64];
	int			 blocker, pbusy = pg_fresh_port();

	blocker = occupy(pbusy, 0);
	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pbusy, NULL);
	conf_service(&cf, "time", NULL, pg_fresh_port(), NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-f", pg_path(c, CONF, conf),
	    "-pidfile", pg_path(c, PG_PIDFILE, pid),
	    "-filelog", pg_path(c, FILELOG, log), NULL), 1);
	(void)snprintf(want, sizeof(want), "127.0.0.1:%d", pbusy);
	assert_non_null(strstr(r.pr_err, want));
	pg_result_clear(&r);
	assert_int_equal(pg_file_wait(c, FILELOG, want, 1), 0);
	assert_null(pg_file_read(c, PG_PIDFILE));
	(void)close(blocker);
}

/*
 * Detached with its messages going to syslog, a start that fails still
 * says why on the standard error of the command: the port taken (an error
 * the daemon reports), then a pid file it cannot write (fatal()).
 */
static void
test_detached_reason_on_stderr(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	struct pg_conf		 cf;
	char			 conf[PG_PATH_MAX], pid[PG_PATH_MAX], re[160];
	int			 blocker, pbusy = pg_fresh_port();

	blocker = occupy(pbusy, 0);
	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pbusy, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-f", pg_path(c, CONF, conf),
	    "-pidfile", pg_path(c, PG_PIDFILE, pid), NULL), 1);
	(void)snprintf(re, sizeof(re), "^portgate: error: .*127\\.0\\.0\\."
	    "1:%d.*Address already in use$", pbusy);
	if (pg_count_lines(r.pr_err, re) != 1 ||
	    pg_count_lines(r.pr_err, "^portgate: error: 1 service could not "
	    "start; exiting") != 1)
		fail_msg("standard error does not say why:\n%s", r.pr_err);
	assert_string_equal(r.pr_out, "");
	pg_result_clear(&r);
	assert_null(pg_file_read(c, PG_PIDFILE));
	(void)close(blocker);

	/* The port is free now; the pid file cannot be written. */
	assert_int_equal(pg_run(c, &r, "-f", conf, "-pidfile",
	    pg_path(c, "no/such/dir/portgate.pid", pid), NULL), 1);
	if (pg_count_lines(r.pr_err, "^portgate: fatal: cannot write pid "
	    "file .*/no/such/dir/portgate.pid: No such file or directory$")
	    != 1)
		fail_msg("standard error does not say why:\n%s", r.pr_err);
	pg_result_clear(&r);
	/* The child died, and freed the port. */
	refused(pbusy);
}

/* -filelog: diagnostics in xinetd's format, "... portgate[PID]: INFO: ". */
static void
test_filelog(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 log[PG_PATH_MAX], re[256];
	long		 pid;
	int		 p = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, "-filelog",
	    pg_path(c, FILELOG, log), NULL), 0);
	pid = (long)c->pc_pid;
	(void)snprintf(re, sizeof(re), "^" TS_RE " portgate\\[%ld\\]: INFO: "
	    "portgate %s started with 1 service$", pid, PACKAGE_VERSION);
	assert_int_equal(pg_file_wait_re(c, FILELOG, re, 1), 0);
	(void)snprintf(re, sizeof(re), "^" TS_RE " portgate\\[%ld\\]: INFO: "
	    "service echo listening on tcp 127\\.0\\.0\\.1:%d$", pid, p);
	assert_int_equal(pg_file_count_re(c, FILELOG, re), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "started with"), 0);
	pg_stop_ok(c);
	(void)snprintf(re, sizeof(re), "^" TS_RE " portgate\\[%ld\\]: INFO: "
	    "portgate stopped$", pid);
	assert_int_equal(pg_file_count_re(c, FILELOG, re), 1);
}

/*
 * A SIGHUP sent as soon as the pid file exists (systemd ExecReload,
 * logrotate) reloads rather than kills: the signal events are installed
 * before the pid file is written.
 */
/*
 * Wait, with inotify, for the pid file to be closed after writing; 0, or
 * -1 at the deadline.
 */
static int
pidfile_written(int ifd)
{
	union {
		struct inotify_event	ev;
		char			buf[sizeof(struct inotify_event) +
					    PG_NAME_MAX + 1];
	}			 u;
	const char		*buf = u.buf;
	const struct inotify_event *ev;
	struct pollfd		 pfd = { .fd = ifd, .events = POLLIN };
	long long		 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	ssize_t			 n, off;
	int			 left;

	while ((left = (int)(deadline - pg_now_ms())) > 0) {
		if (poll(&pfd, 1, left) != 1)
			continue;
		if ((n = read(ifd, u.buf, sizeof(u.buf))) <= 0)
			continue;
		for (off = 0; off < n; off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)
			    (const void *)(buf + off);
			if (ev->len > 0 && strcmp(ev->name, PG_PIDFILE) == 0)
				return 0;
		}
	}
	return -1;
}

/*
 * The pid file is the readiness signal: once it is written, SIGHUP must
 * reload, not kill.  Send SIGHUP the moment the file is closed, a few
 * times over.
 */
static void
test_signal_at_readiness(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	long long	 deadline;
	int		 i, j, ifd, st;

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, pg_fresh_port(), NULL);
	pg_conf_write(&cf, c, CONF);
	for (i = 0; i < 20; i++) {
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		assert_true(ifd >= 0);
		assert_true(inotify_add_watch(ifd, c->pc_dir,
		    IN_CLOSE_WRITE) >= 0);
		assert_int_equal(pg_launch(c, CONF, PG_FOREGROUND, NULL), 0);
		assert_int_equal(pidfile_written(ifd), 0);
		assert_int_equal(pg_signal(c, SIGHUP), 0);
		(void)close(ifd);
		deadline = pg_now_ms() + PG_TIMEOUT_MS;
		for (j = 0; pg_file_count(c, PG_ERRLOG, "reload done") <= i;
		    j++) {
			st = pg_wait_exit(c, 5);
			if (st != -1)
				fail_msg("round %d: SIGHUP right after the pid "
				    "file killed portgate (status %d)", i,
				    pg_exit_code(st));
			assert_true(pg_now_ms() < deadline);
		}
		pg_stop_ok(c);
	}
}


/* SIGUSR1 dumps a running session with the bytes it has moved so far. */
static void
test_sigusr1_dump_counts(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 fd, p = pg_fresh_port();

	conf_begin(&cf, c, "HOST");
	conf_service(&cf, "echo", NULL, p, NULL);
	pg_conf_start(c, &cf, CONF);
	fd = pg_tcp_connect("127.0.0.3", "127.0.0.1", p);
	assert_true(fd >= 0);
	echo_once(fd, "seven b");
	assert_int_equal(pg_signal(c, SIGUSR1), 0);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, "dump: session echo "
	    "from 127\\.0\\.0\\.3 port [0-9]+, [0-9]+ s, pid 0, in 7 out 7$",
	    1), 0);
	(void)close(fd);
	pg_stop_ok(c);
}

/*
 * Option values that are wrong: a -limit or -logprocs that is no number
 * or too small, an unknown -syslog facility, -filelog with -syslog.  Each
 * exits 2 before reading the configuration, naming what is wrong.
 */
static void
test_bad_option_values(void **state)
{
	static const struct {
		const char	*opt;
		const char	*val;
		const char	*opt2;
		const char	*val2;
		const char	*err;
	} bad[] = {
		{ "-limit", "0", NULL, NULL, "portgate: -limit: expected a "
		    "number of at least 1, found '0'\n" },
		{ "-limit", "12x", NULL, NULL, "portgate: -limit: expected a "
		    "number of at least 1, found '12x'\n" },
		{ "-logprocs", "-1", NULL, NULL, "portgate: -logprocs: "
		    "expected a number of at least 0, found '-1'\n" },
		{ "-logprocs", "99999999999", NULL, NULL, "portgate: "
		    "-logprocs: expected a number of at least 0, found "
		    "'99999999999'\n" },
		{ "-syslog", "local9", NULL, NULL, "portgate: -syslog: "
		    "unknown facility 'local9'\n" },
		{ "-filelog", "x.log", "-syslog", "local0", "portgate: "
		    "-filelog and -syslog exclude each other\n" },
	};
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)pg_run(c, &r, "-f", "/nonexistent/portgate.conf",
		    bad[i].opt, bad[i].val, bad[i].opt2, bad[i].val2, NULL);
		if (r.pr_code != 2 || strcmp(r.pr_err, bad[i].err) != 0)
			fail_msg("%s %s: exit %d, said '%s'", bad[i].opt,
			    bad[i].val, r.pr_code, r.pr_err);
		pg_result_clear(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_good, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_check_bad, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_option, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_help, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_version, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_pidfile, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_with_session,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_sigint_with_session,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_reload, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_reload_broken, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_sigusr1_dump, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use_reuseport,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_detached, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_detached_bind_failure,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_detached_reason_on_stderr,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_filelog, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_signal_at_readiness,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_sigusr1_dump_counts,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_bad_option_values,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
