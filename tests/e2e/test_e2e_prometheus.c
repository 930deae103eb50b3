/*
 * End-to-end: Debian's real Prometheus server scrapes portgate's metrics
 * service.  A daemon with an echo service and a metrics service (both
 * only_from = 127.0.0.1); prometheus (/usr/bin/prometheus, package
 * prometheus) runs as the user of the test, with its storage in the test
 * directory, on a free port of 127.0.0.1, scraping every second.  Once it
 * has scraped, clients are admitted and refused (only_from), and the test
 * polls Prometheus' HTTP API until it reports exactly those counts, under
 * a deadline.  Without the binary the test is a SKIP (exit 77), never a
 * pass.  Prometheus is killed at the end, on failure too (teardown), and
 * by the kernel if this program dies (PR_SET_PDEATHSIG).
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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

#define PROMETHEUS	"/usr/bin/prometheus"
#define CONF		"portgate.conf"
#define PROM_CONF	"prometheus.yml"
#define PROM_LOG	"prometheus.log"
#define RESP_MAX	65536
/*
 * Here prometheus answers within 0.3 s of its start and scrapes first after
 * about 5 s (its target discovery sends updates at most every 5 s), then
 * every second: a wide margin for a loaded machine.
 */
#define PROM_DEADLINE_MS	30000
#define NACCEPTED	2
#define NREFUSED	3

/* The refused clients' sources (only_from = 127.0.0.1). */
static const char *const refused_from[NREFUSED] = {
	"127.0.0.2", "127.0.0.3", "127.0.0.4"
};

static pid_t	prom_pid;	/* running prometheus, 0 if none */

/* Stop prometheus: SIGTERM, a bounded wait, then SIGKILL. */
static void
prom_stop(void)
{
	long long	deadline;
	int		st;

	if (prom_pid <= 0)
		return;
	(void)kill(prom_pid, SIGTERM);
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	while (waitpid(prom_pid, &st, WNOHANG) == 0) {
		if (!pg_left(deadline)) {
			(void)kill(prom_pid, SIGKILL);
			(void)waitpid(prom_pid, &st, 0);
			break;
		}
		pg_sleep_ms(20);
	}
	prom_pid = 0;
}

static int
teardown(void **state)
{
	prom_stop();
	return pg_teardown(state);
}

/* Start prometheus on <c>'s PROM_CONF, listening on 127.0.0.1 <port>. */
static void
prom_start(const struct pg_ctx *c, int port)
{
	char	conf[PG_PATH_MAX], data[PG_PATH_MAX], log[PG_PATH_MAX];
	char	confarg[PG_PATH_MAX + 16], dataarg[PG_PATH_MAX + 32];
	char	listen[64];
	pid_t	parent = getpid();
	int	fd;

	(void)snprintf(confarg, sizeof(confarg), "--config.file=%s",
	    pg_path(c, PROM_CONF, conf));
	(void)snprintf(dataarg, sizeof(dataarg), "--storage.tsdb.path=%s",
	    pg_path(c, "prometheus-data", data));
	(void)snprintf(listen, sizeof(listen),
	    "--web.listen-address=127.0.0.1:%d", port);
	(void)pg_path(c, PROM_LOG, log);
	if ((prom_pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (prom_pid == 0) {
		/* Never outlive the test. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(126);
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		execl(PROMETHEUS, "prometheus", confarg, dataarg, listen,
		    (char *)NULL);
		_exit(127);
	}
}

/*
 * GET <path> from prometheus on <port>: the whole answer (the caller
 * frees it) if its status is 200, else NULL (not up yet, or an error).
 */
static char *
prom_get(int port, const char *path)
{
	char	req[1024], *resp;
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect("127.0.0.1", "127.0.0.1", port)) == -1)
		return NULL;
	if (snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", path) >=
	    (int)sizeof(req))
		fail_msg("request too long: %s", path);
	assert_non_null(resp = malloc(RESP_MAX + 1));
	/*
	 * Not pg_tcp_exchange(): Go's server takes the half-close that
	 * follows the request for a client gone, and cancels the query.
	 */
	n = pg_send_all(fd, req, strlen(req)) == 0 ?
	    pg_recv_eof(fd, resp, RESP_MAX) : -1;
	(void)close(fd);
	if (n <= 0 || strncmp(resp, "HTTP/1.1 200 ", 13) != 0) {
		free(resp);
		return NULL;
	}
	resp[n] = '\0';
	return resp;
}

/*
 * The value of instant query <q> (URL-encoded) as Prometheus reports it:
 * the number of its one sample, -1 if there is none (not scraped yet, or
 * the series does not exist), -2 if there are several.
 */
static long long
prom_query(int port, const char *q, char **last)
{
	char		 path[512], *resp, *v, *second;
	long long	 val = -1;

	(void)snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	if ((resp = prom_get(port, path)) == NULL)
		return -1;
	if ((v = strstr(resp, "\"value\":[")) != NULL &&
	    (v = strchr(v, ',')) != NULL && v[1] == '"') {
		val = strtoll(v + 2, NULL, 10);
		if ((second = strstr(v, "\"value\":[")) != NULL)
			val = -2;
	}
	free(*last);
	*last = resp;
	return val;
}

/* Wait until query <q> reports <want>, or fail with what it said. */
static void
prom_wait(const struct pg_ctx *c, int port, const char *q, long long want)
{
	long long	 deadline = pg_now_ms() + PROM_DEADLINE_MS, t0;
	long long	 got = -1;
	char		*last = NULL, *log;

	t0 = pg_now_ms();
	while ((got = prom_query(port, q, &last)) != want &&
	    pg_left(deadline))
		pg_sleep_ms(200);
	if (got != want) {
		log = pg_file_read(c, PROM_LOG);
		print_message("prometheus log:\n%s\n", log != NULL ? log : "");
		free(log);
		fail_msg("query %s: %lld, not %lld, after %d ms; last answer:\n"
		    "%s", q, got, want, PROM_DEADLINE_MS,
		    last != NULL ? last : "(none)");
	}
	print_message("%s = %lld after %lld ms\n", q, got, pg_now_ms() - t0);
	free(last);
}

/* A client from <src> that the gate refuses: closed, no data. */
static void
refused(const char *src, int port)
{
	char	buf[64];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	(void)pg_send_all(fd, "x\n", 2);
	assert_true(pg_recv_eof(fd, buf, sizeof(buf)) <= 0);
	(void)close(fd);
}

/* Prometheus scrapes the metrics service and reports the gate's counts. */
static void
test_scrape(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 pe, pm, pp, i;

	if (access(PROMETHEUS, X_OK) == -1) {
		print_message("no %s (Debian package prometheus)\n",
		    PROMETHEUS);
		TEST_SKIP();
	}
	pe = pg_fresh_port();
	pm = pg_fresh_port();
	pp = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	pg_conf_add(&cf, "\nservice echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", pe);
	pg_conf_add(&cf, "\nservice metrics\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", pm);
	pg_conf_start(c, &cf, CONF);
	assert_int_equal(pg_file_write(c, PROM_CONF, "global:\n"
	    "  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	    "scrape_configs:\n  - job_name: portgate\n"
	    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n", pm),
	    0);
	prom_start(c, pp);

	/* Scraped, and healthy, before any client. */
	prom_wait(c, pp, "up%7Bjob%3D%22portgate%22%7D", 1);
	prom_wait(c, pp, "portgate_build_info", 1);
	prom_wait(c, pp, "portgate_connections_accepted_total"
	    "%7Bservice%3D%22echo%22%7D", 0);

	for (i = 0; i < NACCEPTED; i++)
		pg_echo_once(pe, "hello");
	for (i = 0; i < NREFUSED; i++)
		refused(refused_from[i], pe);
	pg_log_wait(c, NACCEPTED, "EXIT: echo ");
	pg_log_wait(c, NREFUSED, "FAIL: echo address from=");

	prom_wait(c, pp, "portgate_connections_refused_total"
	    "%7Breason%3D%22only_from%22%7D", NREFUSED);
	prom_wait(c, pp, "portgate_connections_accepted_total"
	    "%7Bservice%3D%22echo%22%7D", NACCEPTED);
	prom_stop();
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scrape, pg_setup,
		    teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
