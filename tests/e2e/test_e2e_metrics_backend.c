/*
 * End-to-end tests of the metrics of reaching back ends, with real traffic
 * through a daemon of the default number of workers (the counts are
 * totals over them all), clients from several sources:
 * - connects: a forward whose first target is a closed port and whose
 *   second is an echo target counts one failure of the first target per
 *   client, none of the second, and one connect duration per client; a
 *   forward to a closed port alone counts its failures and no duration;
 * - TLS: completed handshakes of a TLS echo service show in the handshake
 *   histogram, exactly, and a failed one does not (it is a refusal);
 * and promtool check metrics passes on the text with all of it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../test_skip.h"

#include "echo_target.h"
#include "harness.h"
#include "metrics_util.h"

#define CONF		"metrics.conf"
#define NCLIENTS	3		/* of each kind */

/* The clients' sources: a worker each, or not, as the kernel hashes. */
static const char *const sources[NCLIENTS] = {
	"127.0.0.2", "127.0.0.3", "127.0.0.4"
};

/* The metrics service, only 127.0.0.1 admitted. */
static void
conf_metrics(struct pg_conf *cf, int port)
{
	pg_conf_add(cf, "\nservice metrics\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", port);
}

/* A forward <id> on <port> with the redirect lines <targets>. */
static void
conf_forward(struct pg_conf *cf, const char *id, int port,
    const char *targets)
{
	pg_conf_add(cf, "\nservice %s\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n", id, port,
	    targets);
}

/* Echo <msg> from <src> through <port>, or fail. */
static void
echo_once(const char *src, int port, const char *msg)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	n = pg_tcp_exchange(fd, msg, strlen(msg), buf, sizeof(buf));
	(void)close(fd);
	assert_int_equal(n, (ssize_t)strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
}

/* A client from <src> to <port> that gets no byte back, only a close. */
static void
closed_once(const char *src, int port, const char *send)
{
	char	buf[64];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	(void)pg_send_all(fd, send, strlen(send));
	assert_true(pg_recv_eof(fd, buf, sizeof(buf)) <= 0);
	(void)close(fd);
}

/*
 * Connect failures by target and connect durations, exact, over the
 * workers; the targets of a service are there before any failure.
 */
static void
test_connect(void **state)
{
	struct pg_ctx		*c = *state;
	struct echo_target	 tg;
	struct pg_conf		 cf;
	const char		*body;
	char			*resp, targets[256], line[256];
	int			 pm, pf, pd, dead, dead2, i;

	echo_target_start(&tg, SOCK_STREAM);
	pm = pg_fresh_port();
	pf = pg_fresh_port();
	pd = pg_fresh_port();
	dead = pg_fresh_port();		/* nothing listens there */
	dead2 = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	conf_metrics(&cf, pm);
	(void)snprintf(targets, sizeof(targets), "\tredirect\t= 127.0.0.1 %d\n"
	    "\tredirect\t+= 127.0.0.1 %d\n", dead, tg.tg_port);
	conf_forward(&cf, "fwd", pf, targets);
	(void)snprintf(targets, sizeof(targets),
	    "\tredirect\t= 127.0.0.1 %d\n", dead2);
	conf_forward(&cf, "fwd-dead", pd, targets);
	pg_conf_start(c, &cf, CONF);

	/* Before any traffic: every target at 0, no duration yet. */
	resp = mu_ask(pm, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	(void)snprintf(line, sizeof(line), "portgate_connect_failures_total"
	    "{service=\"fwd\",target=\"127.0.0.1:%d\"} 0", tg.tg_port);
	mu_has_line(body, line);
	mu_no_line(body, "portgate_connect_duration_seconds_count");
	free(resp);

	for (i = 0; i < NCLIENTS; i++) {
		echo_once(sources[i], pf, "through");
		if (i < NCLIENTS - 1)
			closed_once(sources[i], pd, "");
	}
	pg_log_wait(c, NCLIENTS, "EXIT: fwd ");
	pg_log_wait(c, NCLIENTS - 1, "FAIL: fwd-dead redirect");

	resp = mu_ask(pm, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	(void)snprintf(line, sizeof(line), "portgate_connect_failures_total"
	    "{service=\"fwd\",target=\"127.0.0.1:%d\"} %d", dead, NCLIENTS);
	mu_has_line(body, line);
	(void)snprintf(line, sizeof(line), "portgate_connect_failures_total"
	    "{service=\"fwd\",target=\"127.0.0.1:%d\"} 0", tg.tg_port);
	mu_has_line(body, line);
	(void)snprintf(line, sizeof(line), "portgate_connect_failures_total"
	    "{service=\"fwd-dead\",target=\"127.0.0.1:%d\"} %d", dead2,
	    NCLIENTS - 1);
	mu_has_line(body, line);
	mu_no_line(body, "portgate_connect_failures_total{service=\"fwd\","
	    "target=\"other\"}");
	(void)snprintf(line, sizeof(line), "portgate_connect_duration_seconds_"
	    "count{service=\"fwd\"} %d", NCLIENTS);
	mu_has_line(body, line);
	(void)snprintf(line, sizeof(line), "portgate_connect_duration_seconds_"
	    "bucket{service=\"fwd\",le=\"+Inf\"} %d", NCLIENTS);
	mu_has_line(body, line);
	mu_no_line(body, "portgate_connect_duration_seconds_count"
	    "{service=\"fwd-dead\"}");
	/* Only TCP forwards and TLS services have these. */
	mu_no_line(body, "portgate_connect_failures_total{service=\"metrics\"");
	mu_no_line(body, "portgate_tls_handshake_duration_seconds_count");
	if (access(MU_PROMTOOL, X_OK) == 0)
		assert_int_equal(mu_promtool(c, body), 0);
	free(resp);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

/* One TLS echo from <src> to <port>: handshake, <msg> back, close. */
static void
tls_echo_once(const char *src, int port, const char *msg)
{
	struct timeval	 tv = { PG_TIMEOUT_MS / 1000, 0 };
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 buf[64];
	size_t		 got = 0;
	int		 fd, n;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	/* Blocking, under the harness's deadline. */
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK),
	    0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_non_null(ctx = SSL_CTX_new(TLS_client_method()));
	assert_non_null(ssl = SSL_new(ctx));
	assert_int_equal(SSL_set_fd(ssl, fd), 1);
	if (SSL_connect(ssl) != 1)
		fail_msg("TLS handshake with port %d failed", port);
	assert_int_equal(SSL_write(ssl, msg, (int)strlen(msg)),
	    (int)strlen(msg));
	while (got < strlen(msg) &&
	    (n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got))) > 0)
		got += (size_t)n;
	assert_int_equal(got, strlen(msg));
	assert_memory_equal(buf, msg, got);
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	(void)close(fd);
	ERR_clear_error();
}

/* Completed handshakes, and only those, show in the TLS histogram. */
static void
test_tls(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	const char	*body;
	char		*resp, line[128], a[PG_PATH_MAX], b[PG_PATH_MAX];
	int		 pm, pt, i;

	pg_cert_make(c);
	pm = pg_fresh_port();
	pt = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	conf_metrics(&cf, pm);
	pg_conf_add(&cf, "\nservice echo\n{\n\tid\t\t= tls-echo\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\ttls\t\t= yes\n\ttls_cert\t= %s\n\ttls_key\t\t= %s\n}\n", pt,
	    pg_path(c, "srv.pem", a), pg_path(c, "srv.key", b));
	pg_conf_start(c, &cf, CONF);

	for (i = 0; i < NCLIENTS; i++)
		tls_echo_once(sources[i], pt, "sealed");
	/* Not TLS: the handshake fails, a refusal. */
	closed_once(sources[0], pt, "GET / HTTP/1.0\r\n\r\n");
	pg_log_wait(c, NCLIENTS, "EXIT: tls-echo ");
	pg_log_wait(c, 1, "FAIL: tls-echo tls from=%s", sources[0]);

	resp = mu_ask(pm, MU_GET, "HTTP/1.1 200 OK\r\n", &body);
	(void)snprintf(line, sizeof(line), "portgate_tls_handshake_duration_"
	    "seconds_count{service=\"tls-echo\"} %d", NCLIENTS);
	mu_has_line(body, line);
	(void)snprintf(line, sizeof(line), "portgate_tls_handshake_duration_"
	    "seconds_bucket{service=\"tls-echo\",le=\"+Inf\"} %d", NCLIENTS);
	mu_has_line(body, line);
	mu_has_line(body, "portgate_connections_refused_total"
	    "{service=\"tls-echo\",reason=\"tls_handshake\"} 1");
	mu_no_line(body, "portgate_tls_handshake_duration_seconds_count"
	    "{service=\"metrics\"}");
	if (access(MU_PROMTOOL, X_OK) == 0)
		assert_int_equal(mu_promtool(c, body), 0);
	free(resp);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_tls, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
