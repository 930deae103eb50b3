/*
 * End-to-end test of portgate behind an L4 balancer: Debian's haproxy in
 * tcp mode with send-proxy-v2 in front of a service with accept_proxy and
 * proxy_from naming the balancer.  Every rule then applies to the real
 * client the header names (only_from, per_source, a ban), the access log
 * shows that client, and a client that goes around the balancer is not
 * believed.  Without /usr/sbin/haproxy the program is skipped (exit 77).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
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
#define HAPROXY		"/usr/sbin/haproxy"

static pid_t	haproxy_pid;

/* haproxy in tcp mode on <front>, to 127.0.0.1 port <port> with PROXY v2. */
static void
haproxy_start(struct pg_ctx *c, int front, int port)
{
	char		 cfg[PG_PATH_MAX], out[PG_PATH_MAX];
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int		 fd;

	assert_int_equal(pg_file_write(c, "haproxy.cfg",
	    "global\n\tmaxconn 200\n"
	    "defaults\n\tmode tcp\n\ttimeout connect 5s\n"
	    "\ttimeout client 30s\n\ttimeout server 30s\n"
	    "frontend fe\n\tbind 127.0.0.1:%d\n\tdefault_backend be\n"
	    "backend be\n\tserver gate 127.0.0.1:%d send-proxy-v2\n",
	    front, port), 0);
	(void)pg_path(c, "haproxy.cfg", cfg);
	(void)pg_path(c, "haproxy.out", out);
	if ((haproxy_pid = fork()) == 0) {
		if (freopen(out, "w", stdout) == NULL ||
		    freopen(out, "a", stderr) == NULL)
			_exit(126);
		execl(HAPROXY, "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	assert_true(haproxy_pid > 0);
	/* Listening once a connection is taken (and dropped unused). */
	for (;;) {
		if ((fd = pg_tcp_connect(NULL, "127.0.0.1", front)) >= 0) {
			(void)close(fd);
			return;
		}
		if (pg_left(deadline) == 0)
			fail_msg("haproxy does not listen on port %d", front);
		pg_sleep_ms(20);
	}
}

static int
l4_teardown(void **state)
{
	if (haproxy_pid > 0) {
		(void)kill(haproxy_pid, SIGTERM);
		(void)waitpid(haproxy_pid, NULL, 0);
		haproxy_pid = 0;
	}
	return pg_teardown(state);
}

/* An echo through <port> from <src>: 1 when echoed, 0 when closed. */
static int
echo_through(const char *src, int port, int *keep)
{
	char	buf[8];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect from %s: %s", src, strerror(errno));
	if (pg_send_all(fd, "ping", 4) == -1 ||
	    pg_recv_n(fd, buf, 4) != 4) {
		(void)close(fd);
		return 0;
	}
	assert_memory_equal(buf, "ping", 4);
	if (keep != NULL)
		*keep = fd;
	else
		(void)close(fd);
	return 1;
}

static void
l4_real_client(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct pg_result r;
	int		 port = pg_fresh_port(), front = pg_fresh_port();
	int		 held;

	if (access(HAPROXY, X_OK) == -1) {
		print_message("no %s (Debian package haproxy)\n", HAPROXY);
		TEST_SKIP();
	}
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n\taccept_proxy\t= yes\n"
	    "\tproxy_from\t= 127.0.0.1\n"
	    "\tonly_from\t= 127.0.0.2 127.0.0.3 127.0.0.5\n"
	    "\tper_source\t= 1\n}\n", port);
	pg_conf_start(c, &cf, CONF);
	haproxy_start(c, front, port);
	/* only_from sees the client, not haproxy's 127.0.0.1. */
	assert_int_equal(echo_through("127.0.0.2", front, NULL), 1);
	pg_log_wait(c, 1, "START: echo from=127.0.0.2\n");
	assert_int_equal(echo_through("127.0.0.4", front, NULL), 0);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.4\n");
	/* per_source counts the client: a second from .3 is refused... */
	assert_int_equal(echo_through("127.0.0.3", front, &held), 1);
	assert_int_equal(echo_through("127.0.0.3", front, NULL), 0);
	pg_log_wait(c, 1, "FAIL: echo per_source_limit from=127.0.0.3\n");
	/* ... while another client through the same balancer is not. */
	assert_int_equal(echo_through("127.0.0.5", front, NULL), 1);
	(void)close(held);
	/* A ban names the client too. */
	assert_int_equal(pg_ctl(c, &r, "ban", "127.0.0.5", (char *)NULL), 0);
	pg_result_clear(&r);
	assert_int_equal(echo_through("127.0.0.5", front, NULL), 0);
	assert_int_equal(echo_through("127.0.0.2", front, NULL), 1);
	/* Around the balancer: not a trusted front, refused. */
	assert_int_equal(echo_through("127.0.0.2", port, NULL), 0);
	pg_log_wait(c, 1, "FAIL: echo proxy_from from=127.0.0.2");
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(l4_real_client, pg_setup,
		    l4_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
