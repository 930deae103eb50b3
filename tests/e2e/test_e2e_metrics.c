/*
 * End-to-end tests of the metrics built-in: a daemon with an echo service
 * and a metrics service, both behind only_from; admitted and refused
 * clients of echo show in GET /metrics; other paths and methods get 404
 * and 405; a client the gate refuses gets no answer from metrics itself;
 * and the text passes `promtool check metrics` (Debian's prometheus).
 */
#include <sys/types.h>

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
#include "metrics_util.h"

#define CONF		"metrics.conf"

/* The ports of the echo and metrics services. */
struct ports {
	int	p_echo;
	int	p_metrics;
};

/* Start a daemon with echo and metrics, only 127.0.0.1 admitted to both. */
static void
start(struct pg_ctx *c, struct ports *p)
{
	struct pg_conf	cf;

	p->p_echo = pg_fresh_port();
	p->p_metrics = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	pg_conf_add(&cf, "\nservice echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", p->p_echo);
	pg_conf_add(&cf, "\nservice metrics\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", p->p_metrics);
	pg_conf_start(c, &cf, CONF);
}

/* A client from <src> to <port> that the gate refuses: closed, no data. */
static void
refused(const char *src, int port)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	(void)pg_send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	n = pg_recv_eof(fd, buf, sizeof(buf));
	(void)close(fd);
	/* A reset is a refusal too; an answer is not. */
	assert_true(n <= 0);
}

/* Admitted and refused clients of echo are counted by service and rule. */
static void
test_counts(void **state)
{
	struct pg_ctx	*c = *state;
	struct ports	 p;
	const char	*body;
	char		*resp, line[64];
	pid_t		 workers[64];

	start(c, &p);
	pg_echo_once(p.p_echo, "hello");
	pg_echo_once(p.p_echo, "world");
	refused("127.0.0.2", p.p_echo);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.2\n");
	pg_log_wait(c, 2, "EXIT: echo ");

	resp = mu_ask(p.p_metrics, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	mu_has_line(body,
	    "portgate_connections_accepted_total{service=\"echo\"} 2");
	mu_has_line(body, "portgate_connections_refused_total{service=\"echo\","
	    "reason=\"only_from\"} 1");
	mu_has_line(body, "portgate_sessions{service=\"echo\"} 0");
	mu_has_line(body, "portgate_bytes_total{service=\"echo\","
	    "direction=\"in\"} 10");
	mu_has_line(body, "portgate_bytes_total{service=\"echo\","
	    "direction=\"out\"} 10");
	mu_has_line(body, "portgate_session_duration_seconds_count"
	    "{service=\"echo\"} 2");
	/* This scrape is a session of its own, open while it is answered. */
	mu_has_line(body, "portgate_sessions{service=\"metrics\"} 1");
	(void)snprintf(line, sizeof(line), "portgate_workers %d",
	    pg_workers(c->pc_pid, workers, 64));
	mu_has_line(body, line);
	mu_has_line(body,
	    "portgate_config_reloads_total{result=\"success\"} 0");
	assert_non_null(strstr(body, "\nportgate_build_info{version=\""));
	free(resp);
	pg_stop_ok(c);
}

/* Other paths get 404, other methods 405; refused clients get nothing. */
static void
test_errors(void **state)
{
	struct pg_ctx	*c = *state;
	struct ports	 p;
	const char	*body;
	char		*resp;

	start(c, &p);
	free(mu_ask(p.p_metrics, "GET / HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 404 Not Found\r\n", NULL));
	free(mu_ask(p.p_metrics, "GET /metrics/x HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 404 Not Found\r\n", NULL));
	resp = mu_ask(p.p_metrics, "POST /metrics HTTP/1.1\r\n\r\n",
	    "HTTP/1.1 405 Method Not Allowed\r\n", NULL);
	assert_non_null(strstr(resp, "\r\nAllow: GET\r\n"));
	free(resp);

	/* The metrics service sits behind its own gate. */
	refused("127.0.0.2", p.p_metrics);
	pg_log_wait(c, 1, "FAIL: metrics address from=127.0.0.2\n");
	resp = mu_ask(p.p_metrics, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	mu_has_line(body, "portgate_connections_refused_total"
	    "{service=\"metrics\",reason=\"only_from\"} 1");
	/* The three error answers and this one. */
	mu_has_line(body,
	    "portgate_connections_accepted_total{service=\"metrics\"} 4");
	free(resp);
	pg_stop_ok(c);
}

/* Reloads are counted by result; service counters survive them. */
static void
test_reload(void **state)
{
	struct pg_ctx	*c = *state;
	struct ports	 p;
	const char	*body, *ts;
	char		*resp;

	start(c, &p);
	pg_echo_once(p.p_echo, "hello");
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	assert_int_equal(pg_file_write(c, CONF, "service echo\n{\n"
	    "\tno_such_attribute = 1\n}\n"), 0);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload failed"), 0);
	resp = mu_ask(p.p_metrics, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	mu_has_line(body,
	    "portgate_config_reloads_total{result=\"success\"} 1");
	mu_has_line(body,
	    "portgate_config_reloads_total{result=\"failure\"} 1");
	mu_has_line(body,
	    "portgate_connections_accepted_total{service=\"echo\"} 1");
	assert_non_null(ts = strstr(body, "\nportgate_config_last_reload_"
	    "success_timestamp_seconds "));
	assert_true(strtoll(strchr(ts + 1, ' ') + 1, NULL, 10) > 1000000000);
	free(resp);
	pg_stop_ok(c);
}

/* The exposition text, with refusals and sessions in it, passes promtool. */
static void
test_promtool(void **state)
{
	struct pg_ctx	*c = *state;
	struct ports	 p;
	const char	*body;
	char		*resp;

	if (access(MU_PROMTOOL, X_OK) == -1) {
		print_message("no %s (Debian package prometheus)\n",
		    MU_PROMTOOL);
		TEST_SKIP();
	}
	start(c, &p);
	pg_echo_once(p.p_echo, "hello");
	refused("127.0.0.2", p.p_echo);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.2\n");
	pg_log_wait(c, 1, "EXIT: echo ");
	resp = mu_ask(p.p_metrics, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	assert_int_equal(mu_promtool(c, body), 0);
	/* promtool does fail on a broken text. */
	assert_int_not_equal(mu_promtool(c,
	    "# TYPE x counter\nx{a=\"b} 1\n"), 0);
	free(resp);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_errors, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_reload, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_promtool, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
