/*
 * Unit tests for metrics.c and metrics_hist.c (the counters, histograms
 * and their exposition text, to the byte, with label escaping; the bound
 * on target labels) and metrics_http.c (the answers to whole,
 * partial, oversized and wrong requests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "../test_skip.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_int.h"

/* The label of a service id with every character that needs escaping. */
#define ODD	"service=\"a\\\"b\\\\c\\nd\""

/* The text of <buf> as a NUL-terminated string (the caller frees it). */
static char *
buf_text(struct evbuffer *buf)
{
	size_t	 len = evbuffer_get_length(buf);
	char	*s;

	s = malloc(len + 1);
	assert_non_null(s);
	assert_int_equal(evbuffer_copyout(buf, s, len), (ssize_t)len);
	s[len] = '\0';
	return s;
}

static int
clear_setup(void **state)
{
	(void)state;
	metrics_clear();
	return 0;
}

/* A known state formats to exactly this text; label values are escaped. */
static void
test_format_exact(void **state)
{
	static const char	 want[] =
	    "# HELP portgate_connections_accepted_total Clients admitted by "
	    "the gate.\n"
	    "# TYPE portgate_connections_accepted_total counter\n"
	    "portgate_connections_accepted_total{service=\"echo\"} 2\n"
	    "portgate_connections_accepted_total{" ODD "} 0\n"
	    "# HELP portgate_connections_refused_total Clients refused, by "
	    "the rule that refused them.\n"
	    "# TYPE portgate_connections_refused_total counter\n"
	    "portgate_connections_refused_total{service=\"echo\","
	    "reason=\"only_from\"} 1\n"
	    "portgate_connections_refused_total{service=\"echo\","
	    "reason=\"tls_handshake\"} 3\n"
	    "# HELP portgate_sessions Sessions open.\n"
	    "# TYPE portgate_sessions gauge\n"
	    "portgate_sessions{service=\"echo\"} 1\n"
	    "portgate_sessions{" ODD "} 0\n"
	    "# HELP portgate_bytes_total Bytes from (in) and to (out) clients "
	    "of ended sessions.\n"
	    "# TYPE portgate_bytes_total counter\n"
	    "portgate_bytes_total{service=\"echo\",direction=\"in\"} 5\n"
	    "portgate_bytes_total{service=\"echo\",direction=\"out\"} 7\n"
	    "portgate_bytes_total{" ODD ",direction=\"in\"} 0\n"
	    "portgate_bytes_total{" ODD ",direction=\"out\"} 0\n"
	    "# HELP portgate_spawn_failures_total Servers that could not be "
	    "started.\n"
	    "# TYPE portgate_spawn_failures_total counter\n"
	    "portgate_spawn_failures_total{service=\"echo\"} 1\n"
	    "portgate_spawn_failures_total{" ODD "} 0\n"
	    "# HELP portgate_session_duration_seconds Length of ended "
	    "sessions.\n"
	    "# TYPE portgate_session_duration_seconds histogram\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"1\"} 0\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"10\"} 1\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"60\"} 1\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"300\"} 1\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"3600\"} 1\n"
	    "portgate_session_duration_seconds_bucket{service=\"echo\","
	    "le=\"+Inf\"} 2\n"
	    "portgate_session_duration_seconds_sum{service=\"echo\"} 7202\n"
	    "portgate_session_duration_seconds_count{service=\"echo\"} 2\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"1\"} 0\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"10\"} 0\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"60\"} 0\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"300\"} 0\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"3600\"} 0\n"
	    "portgate_session_duration_seconds_bucket{" ODD ","
	    "le=\"+Inf\"} 0\n"
	    "portgate_session_duration_seconds_sum{" ODD "} 0\n"
	    "portgate_session_duration_seconds_count{" ODD "} "
	    "0\n"
	    "# HELP portgate_connect_failures_total Failed connects to a "
	    "redirect target, by target.\n"
	    "# TYPE portgate_connect_failures_total counter\n"
	    "portgate_connect_failures_total{service=\"echo\","
	    "target=\"127.0.0.1:7\"} 2\n"
	    "portgate_connect_failures_total{service=\"echo\","
	    "target=\"[::1]:8\"} 0\n"
	    "portgate_connect_failures_total{service=\"echo\","
	    "target=\"other\"} 1\n"
	    "portgate_connect_failures_total{" ODD ",target=\"a\\\"b:p\"} "
	    "0\n"
	    "# HELP portgate_connect_duration_seconds Time to connect to a "
	    "redirect target, of those reached.\n"
	    "# TYPE portgate_connect_duration_seconds histogram\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.001\"} 1\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.005\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.01\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.05\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.1\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.5\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"1\"} 2\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"5\"} 3\n"
	    "portgate_connect_duration_seconds_bucket{service=\"echo\","
	    "le=\"+Inf\"} 4\n"
	    "portgate_connect_duration_seconds_sum{service=\"echo\"} "
	    "9.00605\n"
	    "portgate_connect_duration_seconds_count{service=\"echo\"} 4\n"
	    "# HELP portgate_tls_handshake_duration_seconds Time of completed "
	    "TLS handshakes with clients.\n"
	    "# TYPE portgate_tls_handshake_duration_seconds histogram\n"
	    "# HELP portgate_config_reloads_total Configuration reloads, by "
	    "result.\n"
	    "# TYPE portgate_config_reloads_total counter\n"
	    "portgate_config_reloads_total{result=\"success\"} 1\n"
	    "portgate_config_reloads_total{result=\"failure\"} 2\n"
	    "# HELP portgate_config_last_reload_success_timestamp_seconds When "
	    "the running configuration was loaded.\n"
	    "# TYPE portgate_config_last_reload_success_timestamp_seconds "
	    "gauge\n"
	    "portgate_config_last_reload_success_timestamp_seconds 2000\n"
	    "# HELP portgate_workers Processes serving clients.\n"
	    "# TYPE portgate_workers gauge\n"
	    "portgate_workers 1\n"
	    "# HELP portgate_build_info Always 1; the version is a label.\n"
	    "# TYPE portgate_build_info gauge\n"
	    "portgate_build_info{version=\"1.0\\\"x\"} 1\n";
	struct metrics_service	*echo, *odd;
	struct evbuffer		*buf;
	char			*got;

	(void)state;
	echo = metrics_service("echo");
	odd = metrics_service("a\"b\\c\nd");
	assert_non_null(echo);
	assert_non_null(odd);
	assert_ptr_equal(metrics_service("echo"), echo);	/* kept by id */
	metrics_accepted(echo);
	metrics_accepted(echo);
	metrics_refused(echo, METRICS_ONLY_FROM);
	metrics_refused(echo, METRICS_TLS_HANDSHAKE);
	metrics_refused(echo, METRICS_TLS_HANDSHAKE);
	metrics_refused(echo, METRICS_TLS_HANDSHAKE);
	metrics_refused(echo, METRICS_NREASONS);		/* ignored */
	metrics_refused(echo, (enum metrics_reason)-1);		/* ignored */
	metrics_session_start(echo);
	metrics_session_start(echo);
	metrics_session_start(echo);
	metrics_session_end(echo, 2, 3, 2);
	metrics_session_end(echo, 3, 4, 7200);
	metrics_spawn_failure(echo);
	/* Targets: a duplicate is one; an unknown one is "other". */
	metrics_target(echo, "127.0.0.1", "7");
	metrics_target(echo, "::1", "8");
	metrics_target(echo, "127.0.0.1", "7");
	metrics_target(odd, "a\"b", "p");
	metrics_connect_failure(echo, "127.0.0.1", "7");
	metrics_connect_failure(echo, "127.0.0.1", "7");
	metrics_connect_failure(echo, "127.0.0.1", "8");
	/* 1 ms, 5 ms (bounds are inclusive), 2.00005 s, 7 s. */
	metrics_hist_add(&echo->ms_connect, &metrics_hist_fast, 1000);
	metrics_hist_add(&echo->ms_connect, &metrics_hist_fast, 5000);
	metrics_hist_add(&echo->ms_connect, &metrics_hist_fast, 2000050);
	metrics_hist_add(&echo->ms_connect, &metrics_hist_fast, 7000000);
	metrics_config_loaded(1000);
	metrics_reload(0, 1500);
	metrics_reload(1, 2000);
	metrics_reload(0, 2500);
	/* NULL handles are ignored. */
	metrics_accepted(NULL);
	metrics_refused(NULL, METRICS_CPS);
	metrics_session_start(NULL);
	metrics_session_end(NULL, 1, 1, 1);
	metrics_spawn_failure(NULL);
	metrics_target(NULL, "h", "1");
	metrics_connect_failure(NULL, "h", "1");
	metrics_connect_time(NULL, 0);
	metrics_tls_time(NULL, 0);

	assert_non_null(buf = evbuffer_new());
	assert_int_equal(metrics_format(buf, "1.0\"x"), 0);
	got = buf_text(buf);
	assert_string_equal(got, want);
	free(got);
	evbuffer_free(buf);
}

/* The gate's reasons map to their labels; no_access is told from only_from. */
static void
test_reasons(void **state)
{
	size_t	i, j;

	(void)state;
	assert_int_equal(metrics_gate_reason(GATE_ADDRESS,
	    "only_from 10.0.0.0/8 (more specific than no_access 10.0.0.0/7)"),
	    METRICS_ONLY_FROM);
	assert_int_equal(metrics_gate_reason(GATE_ADDRESS, "no_access 1.2.3.4"),
	    METRICS_NO_ACCESS);
	assert_int_equal(metrics_gate_reason(GATE_ADDRESS, NULL),
	    METRICS_ONLY_FROM);
	assert_int_equal(metrics_gate_reason(GATE_TIME, ""),
	    METRICS_ACCESS_TIMES);
	assert_int_equal(metrics_gate_reason(GATE_RATE, ""),
	    METRICS_PER_SOURCE_CPS);
	assert_int_equal(metrics_gate_reason(GATE_LIBWRAP, ""),
	    METRICS_LIBWRAP);
	assert_int_equal(metrics_gate_reason(GATE_LOAD, ""), METRICS_LOAD);
	assert_int_equal(metrics_reason_word("proxy_from"),
	    METRICS_PROXY_FROM);
	assert_int_equal(metrics_reason_word("proxy_limit"),
	    METRICS_PROXY_LIMIT);
	assert_int_equal(metrics_reason_word("nope"), -1);
	assert_null(metrics_reason_name(METRICS_NREASONS));
	/* Every reason has a distinct name that maps back to it. */
	for (i = 0; i < METRICS_NREASONS; i++) {
		assert_non_null(metrics_reason_name(i));
		assert_int_equal(metrics_reason_word(metrics_reason_name(i)),
		    (int)i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(metrics_reason_name(i),
			    metrics_reason_name(j));
	}
}

/* The table stops at METRICS_SERVICES_MAX services. */
static void
test_bound(void **state)
{
	char	id[32];
	int	i;

	(void)state;
	for (i = 0; i < METRICS_SERVICES_MAX; i++) {
		(void)snprintf(id, sizeof(id), "s%d", i);
		assert_non_null(metrics_service(id));
	}
	assert_null(metrics_service("one-more"));
	assert_non_null(metrics_service("s0"));		/* known ids still */
	assert_null(metrics_service(NULL));
	metrics_clear();
	assert_non_null(metrics_service("one-more"));
}

/*
 * METRICS_TARGETS_MAX targets get a label; the next ones, and failures of
 * a target never named, count as "other".  Names survive until cleared.
 */
static void
test_targets(void **state)
{
	struct metrics_service	*ms;
	struct evbuffer		*buf;
	char			 port[16], line[128], *got;
	int			 i;

	(void)state;
	assert_non_null(ms = metrics_service("fwd"));
	for (i = 0; i <= METRICS_TARGETS_MAX; i++) {
		(void)snprintf(port, sizeof(port), "%d", 1000 + i);
		metrics_target(ms, "127.0.0.1", port);
		metrics_connect_failure(ms, "127.0.0.1", port);
	}
	metrics_connect_failure(ms, "localhost", "1000");
	assert_non_null(buf = evbuffer_new());
	assert_int_equal(metrics_format(buf, "1"), 0);
	got = buf_text(buf);
	for (i = 0; i < METRICS_TARGETS_MAX; i++) {
		(void)snprintf(line, sizeof(line), "\nportgate_connect_"
		    "failures_total{service=\"fwd\",target=\"127.0.0.1:%d\"} "
		    "1\n",
		    1000 + i);
		assert_non_null(strstr(got, line));
	}
	assert_null(strstr(got, "target=\"127.0.0.1:1008\""));
	assert_non_null(strstr(got, "\nportgate_connect_failures_total"
	    "{service=\"fwd\",target=\"other\"} 2\n"));
	free(got);
	evbuffer_free(buf);
}

/*
 * The clock-driven observations: a connect that took two seconds lands in
 * the bucket of 5 s (a stall of 3 s in between would be needed to miss);
 * a start in the future (never, on a monotonic clock) counts as 0 s.
 */
static void
test_durations(void **state)
{
	struct metrics_service	*ms;
	struct evbuffer		*buf;
	uint64_t		 now;
	char			*got, *p;
	static const char	 first[] = "\nportgate_tls_handshake_duration_"
	    "seconds_bucket{service=\"fwd\",le=\"0.001\"} ";

	(void)state;
	assert_non_null(ms = metrics_service("fwd"));
	assert_true((now = metrics_clock()) > 2000000);
	metrics_connect_time(ms, now - 2000000);
	metrics_tls_time(ms, metrics_clock());
	metrics_tls_time(ms, now + 1000000);	/* not yet: counted as 0 */
	assert_non_null(buf = evbuffer_new());
	assert_int_equal(metrics_format(buf, "1"), 0);
	got = buf_text(buf);
	assert_non_null(strstr(got, "\nportgate_connect_duration_seconds_"
	    "bucket{service=\"fwd\",le=\"1\"} 0\n"));
	assert_non_null(strstr(got, "\nportgate_connect_duration_seconds_"
	    "bucket{service=\"fwd\",le=\"5\"} 1\n"));
	assert_non_null(strstr(got, "\nportgate_connect_duration_seconds_"
	    "count{service=\"fwd\"} 1\n"));
	assert_non_null(strstr(got, "\nportgate_connect_duration_seconds_"
	    "sum{service=\"fwd\"} 2"));
	assert_non_null(strstr(got, "\nportgate_tls_handshake_duration_"
	    "seconds_count{service=\"fwd\"} 2\n"));
	assert_non_null(p = strstr(got, first));
	assert_true(strtoul(p + sizeof(first) - 1, NULL, 10) >= 1);
	free(got);
	evbuffer_free(buf);
}

/* Feed <req> and return the answer (NULL: none yet); <rv> gets the return. */
static char *
http(const char *req, size_t len, int *rv)
{
	struct evbuffer	*in, *out;
	char		*s = NULL;

	assert_non_null(in = evbuffer_new());
	assert_non_null(out = evbuffer_new());
	assert_int_equal(evbuffer_add(in, req, len), 0);
	*rv = metrics_http_answer(in, out);
	if (evbuffer_get_length(out) > 0)
		s = buf_text(out);
	evbuffer_free(in);
	evbuffer_free(out);
	return s;
}

/* The status line of <resp> is <status>. */
static void
assert_status(const char *resp, const char *status)
{
	assert_non_null(resp);
	assert_memory_equal(resp, status, strlen(status));
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
}

static void
test_http(void **state)
{
	static const char	 get[] =
	    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	char			*r, *body, big[METRICS_HTTP_MAX + 10];
	unsigned long		 clen;
	int			 rv;

	(void)state;
	metrics_accepted(metrics_service("echo"));
	/* Not whole yet: no answer. */
	assert_null(http(get, sizeof(get) - 3, &rv));
	assert_int_equal(rv, 0);

	r = http(get, sizeof(get) - 1, &rv);
	assert_int_equal(rv, 1);
	assert_status(r, "HTTP/1.1 200 OK\r\n");
	assert_non_null(strstr(r, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(body = strstr(r, "\r\n\r\n"));
	body += 4;
	assert_non_null(strstr(r, "Content-Length: "));
	clen = strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10);
	assert_int_equal(clen, strlen(body));
	assert_non_null(strstr(body,
	    "portgate_connections_accepted_total{service=\"echo\"} 1\n"));
	free(r);

	/* A query is ignored; bare LF ends lines too. */
	r = http("GET /metrics?x=1 HTTP/1.0\n\n", 27, &rv);
	assert_status(r, "HTTP/1.1 200 OK\r\n");
	free(r);

	r = http("GET / HTTP/1.1\r\n\r\n", 18, &rv);
	assert_int_equal(rv, 1);
	assert_status(r, "HTTP/1.1 404 Not Found\r\n");
	free(r);
	r = http("GET /metricsx HTTP/1.1\r\n\r\n", 26, &rv);
	assert_status(r, "HTTP/1.1 404 Not Found\r\n");
	free(r);

	r = http("POST /metrics HTTP/1.1\r\n\r\n", 26, &rv);
	assert_status(r, "HTTP/1.1 405 Method Not Allowed\r\n");
	assert_non_null(strstr(r, "\r\nAllow: GET\r\n"));
	free(r);
	r = http("HEAD /metrics HTTP/1.1\r\n\r\n", 26, &rv);
	assert_status(r, "HTTP/1.1 405 Method Not Allowed\r\n");
	free(r);

	r = http("hello\r\n\r\n", 9, &rv);
	assert_status(r, "HTTP/1.1 400 Bad Request\r\n");
	free(r);
	r = http("GET /metrics SMTP/1.1\r\n\r\n", 25, &rv);
	assert_status(r, "HTTP/1.1 400 Bad Request\r\n");
	free(r);

	/* Headers past the bound are refused, not read on. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\n", 23);
	assert_null(http(big, METRICS_HTTP_MAX - 1, &rv));
	assert_int_equal(rv, 0);
	r = http(big, sizeof(big), &rv);
	assert_int_equal(rv, 1);
	assert_status(r, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup(test_format_exact, clear_setup),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test_setup(test_bound, clear_setup),
		cmocka_unit_test_setup(test_targets, clear_setup),
		cmocka_unit_test_setup(test_durations, clear_setup),
		cmocka_unit_test_setup(test_http, clear_setup),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
