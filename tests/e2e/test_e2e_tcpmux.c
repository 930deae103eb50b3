/*
 * End-to-end tests of the tcpmux built-in (RFC 1078), in the shape of
 * xinetd's contrib/xinetd.d/tcpmux-server: a tcpmux INTERNAL service (on a
 * free port instead of 1), a TCPMUX service whose script says "+OK" itself
 * and a TCPMUXPLUS one that portgate announces with "+Go".  A known name
 * (any case) runs the server with the bytes after the line; an unknown
 * name gets "-" and a FAIL record; HELP lists the names; the target's own
 * only_from refuses; a client that never sends its line is dropped at the
 * deadline while others are served, and one that closes first at once;
 * more than 8 clients of one address waiting for their line are refused
 * with one log line; -t reads xinetd's example and refuses what cannot
 * work.  Servers run as nobody, so the program needs root.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
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
#define REPLY_MAX	4096
#define MUX_ID		"tcpmux-server"
#define DEADLINE_MS	5000	/* TCPMUX_TIMEOUT of src/tcpmux.h */
/* The earliest a silent client may be dropped: the clock is in seconds. */
#define DEADLINE_MIN_MS	(DEADLINE_MS - 1000)

/* A test's daemon: its context and the mux's port. */
struct mux {
	struct pg_ctx	*m_c;
	int		 m_port;
};

/* Write the executable script <name> with <body>; its path in <path>. */
static const char *
script(const struct pg_ctx *c, const char *name, char *path,
    const char *body)
{
	assert_int_equal(pg_file_write(c, name, "#!/bin/sh\n%s", body), 0);
	assert_int_equal(chmod(pg_path(c, name, path), 0755), 0);
	return path;
}

/*
 * Start xinetd's example shape: the mux on a free port, "echoer"
 * (TCPMUX: the script says "+OK", then echoes one line with its client's
 * address) and "plusser" (TCPMUXPLUS), with <extra> lines for plusser.
 */
static void
mux_start(struct mux *m, struct pg_ctx *c, const char *extra)
{
	struct pg_conf	cf;
	char		p1[PG_PATH_MAX], p2[PG_PATH_MAX];

	m->m_c = c;
	m->m_port = pg_fresh_port();
	script(c, "echoer.sh", p1, "read line\n"
	    "printf '+OK\\r\\n%s from %s\\r\\n' \"$line\" \"$REMOTE_HOST\"\n");
	script(c, "plusser.sh", p2, "printf 'plus from %s\\r\\n' "
	    "\"$REMOTE_HOST\"\n");
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "PID HOST EXIT", "HOST");
	pg_conf_add(&cf, "\nservice tcpmux\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\twait\t\t= no\n"
	    "\tsocket_type\t= stream\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n}\n", MUX_ID, m->m_port);
	pg_conf_add(&cf, "\nservice echoer\n{\n\ttype\t\t= TCPMUX\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n"
	    "\tpassenv\t\t=\n\tserver\t\t= %s\n}\n", p1);
	pg_conf_add(&cf, "\nservice plusser\n{\n\ttype\t\t= TCPMUXPLUS\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n"
	    "\tpassenv\t\t=\n\tserver\t\t= %s\n%s}\n", p2,
	    extra != NULL ? extra : "");
	pg_conf_start(c, &cf, CONF);
}

/*
 * Connect from <src> (NULL: any), send <line> and read to EOF into <buf>
 * (NUL-terminated); returns the length.
 */
static ssize_t
mux_ask(const struct mux *m, const char *src, const char *line, char *buf)
{
	ssize_t	n;
	int	fd;

	fd = pg_tcp_connect(src, "127.0.0.1", m->m_port);
	assert_true(fd != -1);
	assert_int_equal(pg_send_all(fd, line, strlen(line)), 0);
	n = pg_recv_eof(fd, buf, REPLY_MAX - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	(void)close(fd);
	return n;
}

/*
 * A known name, in any case, runs its server, which says "+" itself and
 * gets what the client sent after the line; its records are its own.
 */
static void
test_known_name(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];

	mux_start(&m, c, NULL);
	mux_ask(&m, NULL, "echoer\r\nhello\n", buf);
	assert_string_equal(buf, "+OK\r\nhello from 127.0.0.1\r\n");
	mux_ask(&m, NULL, "ECHOER\nagain\n", buf);
	assert_string_equal(buf, "+OK\r\nagain from 127.0.0.1\r\n");
	pg_log_wait_re(c, 2, "START: echoer pid=[0-9]+ from=127\\.0\\.0\\.1$");
	pg_log_wait_re(c, 2, "EXIT: echoer status=0 pid=[0-9]+$");
	assert_int_equal(pg_log_count(c, "FAIL:"), 0);
	pg_stop_ok(c);
}

/* TCPMUXPLUS: "+Go" from portgate, then the server. */
static void
test_plus(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];

	mux_start(&m, c, NULL);
	mux_ask(&m, NULL, "PlUsSeR\r\n", buf);
	assert_string_equal(buf, "+Go\r\nplus from 127.0.0.1\r\n");
	pg_log_wait_re(c, 1, "EXIT: plusser status=0 pid=[0-9]+$");
	pg_stop_ok(c);
}

/* An unknown name, or a line that is no name: "-", FAIL, closed. */
static void
test_unknown(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];

	mux_start(&m, c, NULL);
	mux_ask(&m, NULL, "nosuch\r\n", buf);
	assert_int_equal(buf[0], '-');
	assert_non_null(strstr(buf, "\r\n"));
	pg_log_wait(c, 1, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	mux_ask(&m, NULL, "two words\r\n", buf);
	assert_int_equal(buf[0], '-');
	pg_log_wait(c, 2, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	/* The mux itself is no name to ask for. */
	mux_ask(&m, NULL, "tcpmux\r\n", buf);
	assert_int_equal(buf[0], '-');
	pg_log_wait(c, 3, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	assert_int_equal(pg_log_count(c, "START:"), 0);
	pg_stop_ok(c);
}

/* HELP lists the names reached through the mux, one a line. */
static void
test_help(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];

	mux_start(&m, c, NULL);
	mux_ask(&m, NULL, "help\r\n", buf);
	assert_string_equal(buf, "echoer\r\nplusser\r\n");
	pg_log_wait(c, 1, "START: " MUX_ID " pid=0 from=127.0.0.1");
	pg_log_wait(c, 1, "EXIT: " MUX_ID " status=0 pid=0");
	pg_stop_ok(c);
}

/* The target's only_from applies to a client of the mux. */
static void
test_target_only_from(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];

	mux_start(&m, c, "\tonly_from\t= 127.0.0.2\n");
	mux_ask(&m, NULL, "plusser\r\n", buf);
	assert_string_equal(buf, "-Access denied\r\n");
	pg_log_wait(c, 1, "FAIL: plusser address from=127.0.0.1");
	mux_ask(&m, "127.0.0.2", "plusser\r\n", buf);
	assert_string_equal(buf, "+Go\r\nplus from 127.0.0.2\r\n");
	/* Other targets keep their own rules. */
	mux_ask(&m, NULL, "echoer\r\nx\n", buf);
	assert_string_equal(buf, "+OK\r\nx from 127.0.0.1\r\n");
	assert_int_equal(pg_log_count(c, "START: plusser"), 1);
	pg_stop_ok(c);
}

/*
 * A client that never sends its line is dropped at the deadline, with a
 * FAIL record; others are served meanwhile.
 */
static void
test_deadline(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];
	long long	 t0, waited;
	ssize_t		 n;
	int		 silent, partial;

	mux_start(&m, c, NULL);
	t0 = pg_now_ms();
	silent = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
	partial = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
	assert_true(silent != -1 && partial != -1);
	assert_int_equal(pg_send_all(partial, "echo", 4), 0);
	mux_ask(&m, NULL, "echoer\r\nmeanwhile\n", buf);
	assert_string_equal(buf, "+OK\r\nmeanwhile from 127.0.0.1\r\n");
	assert_true(pg_now_ms() - t0 < DEADLINE_MIN_MS);
	n = pg_recv_eof(silent, buf, sizeof(buf));
	waited = pg_now_ms() - t0;
	assert_int_equal(n, 0);
	assert_true(waited >= DEADLINE_MIN_MS);
	assert_int_equal(pg_recv_eof(partial, buf, sizeof(buf)), 0);
	pg_log_wait(c, 2, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	(void)close(silent);
	(void)close(partial);
	pg_stop_ok(c);
}

/* -t on <text>: its exit code, and its output in <out> (to free). */
static int
check_conf(struct pg_ctx *c, const char *text, char **out)
{
	struct pg_result	r;
	char			path[PG_PATH_MAX];
	int			code;

	assert_int_equal(pg_file_write(c, "t.conf", "%s", text), 0);
	code = pg_run(c, &r, "-t", "-f", pg_path(c, "t.conf", path), NULL);
	if (asprintf(out, "%s%s", r.pr_out, r.pr_err) == -1)
		*out = NULL;
	assert_non_null(*out);
	pg_result_clear(&r);
	return code;
}

/*
 * xinetd's contrib/xinetd.d/tcpmux-server, enabled, with a TCPMUX service:
 * accepted.  What cannot work is refused, with the line.
 */
static void
test_config(void **state)
{
	struct pg_ctx	*c = *state;
	char		*out;

	assert_int_equal(check_conf(c, "service tcpmux\n{\n"
	    "\tdisable\t\t= no\n\tid\t\t= tcpmux-server\n"
	    "\ttype\t\t= INTERNAL\n\twait\t\t= no\n"
	    "\tsocket_type\t= stream\n#\tprotocol\t=  socket type is usually "
	    "enough\n}\nservice mine\n{\n\ttype\t\t= TCPMUX\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n"
	    "\tpassenv\t\t=\n\tserver\t\t= /bin/cat\n}\n", &out), 0);
	free(out);
	/* Same name but for case; a dgram one; TLS in front of the mux. */
	assert_int_equal(check_conf(c, "service tcpmux\n{\n"
	    "\ttype\t\t= INTERNAL\n\twait\t\t= no\n\tsocket_type\t= dgram\n"
	    "}\nservice a\n{\n\ttype\t\t= TCPMUX\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/cat\n}\n"
	    "service A\n{\n\ttype\t\t= TCPMUXPLUS\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tuser\t\t= nobody\n\tserver\t\t= /bin/cat\n}\n",
	    &out), 1);
	assert_non_null(strstr(out, "t.conf:1: error: service tcpmux: tcpmux "
	    "needs socket_type = stream"));
	assert_non_null(strstr(out, "t.conf:15: error: service A: tcpmux "
	    "already reaches service a"));
	free(out);
	/* A TCPMUX service and no mux: a warning only. */
	assert_int_equal(check_conf(c, "service a\n{\n\ttype\t\t= TCPMUX\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= nobody\n"
	    "\tpassenv\t\t=\n\tserver\t\t= /bin/cat\n}\n", &out), 0);
	assert_non_null(strstr(out, "t.conf:1: warning: service a: type = "
	    "TCPMUX but no tcpmux service is enabled"));
	free(out);
}

/*
 * A client that closes before the end of its line: no answer, a FAIL
 * record, long before the deadline; the mux serves on.
 */
static void
test_closed_early(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];
	long long	 t0;
	int		 fd;

	mux_start(&m, c, NULL);
	t0 = pg_now_ms();
	fd = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
	assert_true(fd != -1);
	assert_int_equal(pg_send_all(fd, "echo", 4), 0);
	/* Served after it: the mux has taken the first one in by then. */
	mux_ask(&m, "127.0.0.2", "echoer\r\nfirst\n", buf);
	assert_string_equal(buf, "+OK\r\nfirst from 127.0.0.2\r\n");
	assert_int_equal(pg_shut_wr(fd), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	/* Nothing at all, then the end. */
	fd = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
	assert_true(fd != -1);
	assert_int_equal(pg_shut_wr(fd), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	assert_true(pg_now_ms() - t0 < DEADLINE_MIN_MS);
	pg_log_wait(c, 2, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	mux_ask(&m, NULL, "echoer\r\nafter\n", buf);
	assert_string_equal(buf, "+OK\r\nafter from 127.0.0.1\r\n");
	pg_log_wait(c, 2, "START: echoer");
	assert_int_equal(pg_log_count(c, "START: echoer"), 2);
	pg_stop_ok(c);
}

#define CAP_SOURCE	8	/* TCPMUX_PENDING_SOURCE of src/tcpmux.h */
#define CAP_LINE	"tcpmux: too many clients sending their service " \
			"name (127.0.0.1 was refused; caps: 8 per source"

/*
 * More than CAP_SOURCE clients of one address waiting to send their
 * line: the next ones are closed at once with a FAIL record and one log
 * line for the interval, not one each; other addresses are served, and
 * the address is served again once its clients are gone.
 */
static void
test_source_cap(void **state)
{
	struct pg_ctx	*c = *state;
	struct mux	 m;
	char		 buf[REPLY_MAX];
	long long	 t0;
	int		 fds[CAP_SOURCE], fd, i;

	mux_start(&m, c, NULL);
	t0 = pg_now_ms();
	for (i = 0; i < CAP_SOURCE; i++) {
		fds[i] = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
		assert_true(fds[i] != -1);
		assert_int_equal(pg_send_all(fds[i], "ech", 3), 0);
	}
	/* Another address is within its own cap. */
	mux_ask(&m, "127.0.0.2", "echoer\r\nother\n", buf);
	assert_string_equal(buf, "+OK\r\nother from 127.0.0.2\r\n");
	for (i = 0; i < 2; i++) {
		fd = pg_tcp_connect(NULL, "127.0.0.1", m.m_port);
		assert_true(fd != -1);
		assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
		(void)close(fd);
		pg_log_wait(c, i + 1, "FAIL: " MUX_ID " tcpmux_limit "
		    "from=127.0.0.1");
	}
	assert_true(pg_now_ms() - t0 < DEADLINE_MIN_MS);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, CAP_LINE, 1), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "too many clients"), 1);
	/* The waiting ones go: each a FAIL record, and room again. */
	for (i = 0; i < CAP_SOURCE; i++)
		(void)close(fds[i]);
	pg_log_wait(c, CAP_SOURCE, "FAIL: " MUX_ID " tcpmux from=127.0.0.1");
	mux_ask(&m, NULL, "echoer\r\nagain\n", buf);
	assert_string_equal(buf, "+OK\r\nagain from 127.0.0.1\r\n");
	assert_int_equal(pg_log_count(c, "tcpmux_limit"), 2);
	pg_stop_ok(c);
}

/* Root only; a directory that nobody may enter. */
static int
mux_setup(void **state)
{
	struct pg_ctx	*c;

	if (pg_setup(state) == -1)
		return -1;
	c = *state;
	if (chmod(c->pc_dir, 0755) == -1) {
		fprintf(stderr, "e2e: %s: %s\n", c->pc_dir, strerror(errno));
		return -1;
	}
	return 0;
}

#define MUX_TEST(f)	cmocka_unit_test_setup_teardown(f, mux_setup, \
			    pg_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		MUX_TEST(test_known_name),
		MUX_TEST(test_plus),
		MUX_TEST(test_unknown),
		MUX_TEST(test_help),
		MUX_TEST(test_target_only_from),
		MUX_TEST(test_deadline),
		MUX_TEST(test_config),
		MUX_TEST(test_closed_early),
		MUX_TEST(test_source_cap),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_e2e_tcpmux: not root: skipped (servers "
		    "run as nobody)\n");
		return 77;
	}
	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
