/*
 * End-to-end tests of --import: a rinetd.conf translated by the real
 * binary, checked with -t, then run, with a client echoed through the
 * forward to a backend of the test (a thread on 127.0.0.1); the gate of
 * the translated allow rules; Debian's rinetd.conf; a pattern with no
 * exact translation; an inetd.conf.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "harness.h"

/* A TCP echo on 127.0.0.1 that serves one connection. */
struct echo {
	int		e_fd;
	int		e_port;
	pthread_t	e_thread;
};

static void *
echo_main(void *arg)
{
	struct echo	*e = arg;
	char		 buf[4096];
	ssize_t		 n;
	int		 fd;

	if (pg_poll(e->e_fd, POLLIN, PG_TIMEOUT_MS) <= 0 ||
	    (fd = accept(e->e_fd, NULL, NULL)) == -1)
		return NULL;
	while (pg_poll(fd, POLLIN, PG_TIMEOUT_MS) > 0 &&
	    (n = read(fd, buf, sizeof(buf))) > 0)
		if (pg_send_all(fd, buf, (size_t)n) == -1)
			break;
	(void)close(fd);
	return NULL;
}

static void
echo_start(struct echo *e)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(e->e_fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(e->e_fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(e->e_fd, 4), 0);
	assert_true((e->e_port = pg_local_port(e->e_fd)) > 0);
	assert_int_equal(pthread_create(&e->e_thread, NULL, echo_main, e), 0);
}

static void
echo_stop(struct echo *e)
{
	/* Its accept waits at most PG_TIMEOUT_MS. */
	(void)shutdown(e->e_fd, SHUT_RDWR);
	(void)pthread_join(e->e_thread, NULL);
	(void)close(e->e_fd);
}

/* Translate <name> of the test's directory into portgate.conf. */
static void
import_to_conf(struct pg_ctx *c, const char *kind, const char *name)
{
	struct pg_result	r;
	char			path[PG_PATH_MAX];

	assert_int_equal(pg_run(c, &r, "--import", kind, pg_path(c, name,
	    path), NULL), 0);
	assert_int_equal(pg_file_write(c, "portgate.conf", "%s", r.pr_out), 0);
	pg_result_clear(&r);
	assert_int_equal(pg_run(c, &r, "-t", "-f", pg_path(c, "portgate.conf",
	    path), NULL), 0);
	assert_non_null(strstr(r.pr_out, "configuration OK"));
	pg_result_clear(&r);
}

/* A rinetd rule, run: the client is echoed through the forward. */
static void
test_rinetd_forward(void **state)
{
	struct pg_ctx	*c = *state;
	struct echo	 e;
	char		 in[64], path[PG_PATH_MAX];
	int		 port = pg_fresh_port(), fd;

	echo_start(&e);
	assert_int_equal(pg_file_write(c, "rinetd.conf", "# test\n"
	    "allow 127.0.0.*\n127.0.0.1 %d 127.0.0.1 %d\nlogfile %s\n", port,
	    e.e_port, pg_path(c, "rinetd.log", path)), 0);
	import_to_conf(c, "rinetd", "rinetd.conf");
	assert_int_equal(pg_file_count(c, "portgate.conf", "rinetd.conf:3: "
	    "127.0.0.1"), 1);
	assert_int_equal(pg_start(c, "portgate.conf", PG_FOREGROUND, NULL), 0);
	assert_int_not_equal(fd = pg_tcp_connect(NULL, "127.0.0.1", port), -1);
	assert_int_equal(pg_tcp_exchange(fd, "through rinetd", 14, in,
	    sizeof(in)), 14);
	assert_memory_equal(in, "through rinetd", 14);
	(void)close(fd);
	assert_int_equal(pg_file_wait(c, "rinetd.log", "START: rinetd-tcp-",
	    1), 0);
	assert_int_equal(pg_stop(c), 0);
	echo_stop(&e);
}

/* A rule's allow that leaves 127.0.0.1 out: the client gets nothing. */
static void
test_rinetd_allow_refuses(void **state)
{
	struct pg_ctx	*c = *state;
	struct echo	 e;
	char		 in[64];
	int		 port = pg_fresh_port(), fd;

	echo_start(&e);
	assert_int_equal(pg_file_write(c, "rinetd.conf", "127.0.0.1 %d "
	    "127.0.0.1 %d\nallow 10.*.*.*\n", port, e.e_port), 0);
	import_to_conf(c, "rinetd", "rinetd.conf");
	assert_int_equal(pg_file_count(c, "portgate.conf",
	    "only_from\t= 10.0.0.0/8"), 1);
	assert_int_equal(pg_start(c, "portgate.conf", PG_FOREGROUND, NULL), 0);
	assert_int_not_equal(fd = pg_tcp_connect(NULL, "127.0.0.1", port), -1);
	/* Closed or reset without a byte of the echo. */
	(void)pg_send_all(fd, "x", 1);
	assert_true(pg_recv_eof(fd, in, sizeof(in)) <= 0);
	(void)close(fd);
	assert_int_equal(pg_stop(c), 0);
	echo_stop(&e);
}

/* Debian's rinetd.conf with rules added passes -t unchanged. */
static void
test_rinetd_debian(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX], conf[PG_PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/import/rinetd.conf", pg_data());
	assert_int_equal(pg_run(c, &r, "--import", "rinetd", path, NULL), 0);
	assert_non_null(strstr(r.pr_out, "no_access\t= 127.0.0.2 127.0.0.9"));
	assert_int_equal(pg_file_write(c, "portgate.conf", "%s", r.pr_out), 0);
	pg_result_clear(&r);
	assert_int_equal(pg_run(c, &r, "-t", "-f", pg_path(c, "portgate.conf",
	    conf), NULL), 0);
	assert_non_null(strstr(r.pr_out, "5 services enabled"));
	pg_result_clear(&r);
}

/* No exact CIDR: exit 1, the line named, nothing on standard output. */
static void
test_rinetd_error(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX];

	assert_int_equal(pg_file_write(c, "rinetd.conf", "\n"
	    "allow 192.168.1.1?\n127.0.0.1 1 127.0.0.1 2\n"), 0);
	assert_int_equal(pg_run(c, &r, "--import", "rinetd", pg_path(c,
	    "rinetd.conf", path), NULL), 1);
	assert_string_equal(r.pr_out, "");
	assert_non_null(strstr(r.pr_err, "rinetd.conf:2: allow 192.168.1.1?: "
	    "no list"));
	pg_result_clear(&r);
}

/* An inetd line spawning /bin/cat as an echo, run: the client's bytes. */
static void
test_inetd_spawn(void **state)
{
	struct pg_ctx	*c = *state;
	struct passwd	*pw;
	char		 in[64];
	int		 port = pg_fresh_port(), fd;

	assert_non_null(pw = getpwuid(geteuid()));
	assert_int_equal(pg_file_write(c, "inetd.conf", "# test\n"
	    "#<off># 127.0.0.1:%d stream tcp nowait %s /bin/false false\n"
	    "127.0.0.1:%d stream tcp nowait %s /bin/cat cat\n", port,
	    pw->pw_name, port, pw->pw_name), 0);
	import_to_conf(c, "inetd", "inetd.conf");
	assert_int_equal(pg_file_count(c, "portgate.conf", "disable\t\t= yes"),
	    1);
	assert_int_equal(pg_start(c, "portgate.conf", PG_FOREGROUND, NULL), 0);
	assert_int_not_equal(fd = pg_tcp_connect(NULL, "127.0.0.1", port), -1);
	assert_int_equal(pg_tcp_exchange(fd, "through inetd", 13, in,
	    sizeof(in)), 13);
	assert_memory_equal(in, "through inetd", 13);
	(void)close(fd);
	assert_int_equal(pg_stop(c), 0);
}

/* The representative inetd.conf: valid, servers absent here left out. */
static void
test_inetd_debian(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX], conf[PG_PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/import/inetd.conf", pg_data());
	assert_int_equal(pg_run(c, &r, "--import", "inetd", path, NULL), 0);
	assert_non_null(strstr(r.pr_err, "inetd.conf:31: warning: ftp: tcpd "
	    "unwrapped"));
	assert_int_equal(pg_file_write(c, "portgate.conf", "%s", r.pr_out), 0);
	pg_result_clear(&r);
	assert_int_not_equal(pg_run(c, &r, "-t", "-f", pg_path(c,
	    "portgate.conf", conf), NULL), -1);
	/* 3: a server of the file is missing on this machine. */
	assert_true(r.pr_code == 0 || r.pr_code == 3);
	assert_non_null(strstr(r.pr_out, "configuration OK"));
	pg_result_clear(&r);
}

/*
 * -T: each service merged, with the file:line of each word, the defaults
 * entry, and why a service is off (disabled, or left out on this machine).
 */
static void
test_dump(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX], inc[PG_PATH_MAX];
	int			 port = pg_fresh_port();

	assert_int_equal(pg_file_write(c, "more.conf", "service b\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tport\t\t= %d\n\tdisable\t\t= yes\n}\n"
	    "service c\n{\n\ttype\t\t= UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tport\t\t= %d\n\tuser\t\t= root\n"
	    "\tserver\t\t= /nonexistent/pg\n}\n", port, port), 0);
	assert_int_equal(pg_file_write(c, "t.conf", "defaults\n{\n"
	    "\tonly_from\t= 127.0.0.1\n\tlog_on_success\t= PID HOST\n}\n"
	    "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tport\t\t= %d\n"
	    "\tonly_from\t+= 10.0.0.0/8\n\tlog_on_success\t-= PID\n}\n"
	    "include %s\n", port, pg_path(c, "more.conf", inc)), 0);
	assert_int_equal(pg_run(c, &r, "-T", "-f", pg_path(c, "t.conf", path),
	    NULL), 3);
	assert_non_null(strstr(r.pr_out, "defaults\n{\n"));
	assert_non_null(strstr(r.pr_out, "service echo\n{\n"));
	/* += keeps each word's line; -= says where it last changed. */
	assert_int_equal(pg_count_lines(r.pr_out, "only_from += 127\\.0\\.0"
	    "\\.1 10\\.0\\.0\\.0/8\t# .*t\\.conf:3 \\(127\\.0\\.0\\.1\\), "
	    ".*t\\.conf:12 \\(10\\.0\\.0\\.0/8\\)$"), 1);
	assert_int_equal(pg_count_lines(r.pr_out, "log_on_success += HOST\t# "
	    ".*t\\.conf:4, last changed at .*t\\.conf:13$"), 1);
	assert_int_equal(pg_count_lines(r.pr_out, "^# disabled: disable = yes "
	    "at .*more\\.conf:7$"), 1);
	assert_int_equal(pg_count_lines(r.pr_out, "^# left out on this "
	    "machine: .*more\\.conf:.*/nonexistent/pg"), 1);
	assert_int_equal(pg_count_lines(r.pr_out, "^service [bc]$"), 2);
	assert_int_equal(pg_count_lines(r.pr_out, "log_on_failure += HOST\t# "
	    ".*t\\.conf:6 \\(built-in default\\)$"), 1);
	assert_non_null(strstr(r.pr_out, "configuration OK, 1 service enabled; "
	    "1 left out on this machine: c"));
	pg_result_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rinetd_forward,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_rinetd_allow_refuses,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_rinetd_debian,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_rinetd_error,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_inetd_spawn,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_inetd_debian,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_dump,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
