/*
 * End-to-end tests of the descriptor budget (THREATS.md rules 1 and 2),
 * each with the daemon under "ulimit -n 128" (pc_nofile):
 *
 * - a flood of datagrams from 3,000 source ports at a UDP redirect: the
 *   flows are bounded and the oldest evicted, a TCP service of the same
 *   daemon answers between bursts, a new UDP client is still forwarded,
 *   and the diagnostic log grows by one summary line per interval, not a
 *   line per datagram;
 * - 500 clients of a TCP redirect held, then closed: no client is dropped
 *   for want of its back-end socket, accept never meets EMFILE, and once
 *   the daemon has let go of them a new client is served within 0.5 s
 *   (accepting resumes when descriptors are released, not on a timer).
 *
 * The redirect targets are threads of this program (TCP and UDP echo on
 * 127.0.0.1 ports chosen by the kernel).  Every wait has a deadline.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

#include "echo_target.h"
#include "harness.h"

#include "fdbudget.h"

#define CONF		"limits.conf"
#define NOFILE		128		/* the daemon's ulimit -n */


#define FLOOD_PORTS	3000		/* source ports of the UDP flood */
#define FLOOD_BURST	300		/* datagrams between TCP probes */
#define FLOOD_ADDR	"127.0.0.5"	/* the flood's source address */
#define FLOOD_PORT0	20000		/* first source port tried */
/*
 * Lines the daemon may log besides one summary per interval.  (cps is
 * off in these tests: its block would hide what they look at.)
 */
#define FLOOD_LOG_SLACK	2

#define HOLD_CLIENTS	500		/* clients of the TCP redirect */
#define SERVE_MS	500		/* a new client's bound once they left */


/* Descriptors the workers of <c> have open now (they hold the clients'). */
static int
daemon_fds(const struct pg_ctx *c)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	pid_t		 workers[8];
	int		 i, nw, n = 0;

	if ((nw = pg_workers(c->pc_pid, workers, 8)) < 1 || nw > 8)
		return -1;
	for (i = 0; i < nw; i++) {
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd",
		    (long)workers[i]);
		if ((d = opendir(path)) == NULL)
			return -1;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		(void)closedir(d);
	}
	return n;
}

/* Lines of the diagnostic log now. */
static int
errlog_lines(const struct pg_ctx *c)
{
	return pg_file_count(c, PG_ERRLOG, "\n");
}

/* <msg> through TCP port <port> comes back whole, or fail the test. */
static void
tcp_echo_ok(int port, const char *msg)
{
	char	buf[256];
	ssize_t	n;
	int	fd;

	fd = pg_tcp_connect(NULL, "127.0.0.1", port);
	assert_true(fd >= 0);
	n = pg_tcp_exchange(fd, msg, strlen(msg), buf, sizeof(buf));
	(void)close(fd);
	assert_int_equal(n, (ssize_t)strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
}

/*
 * <msg> from UDP socket <fd> to <port> comes back, or fail the test.  A
 * flood may fill the daemon's socket buffer: a lost datagram is sent
 * again, and late replies to other messages are skipped.
 */
static void
udp_echo_ok(int fd, int port, const char *msg)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	char		buf[256];
	ssize_t		n;
	int		tries = 0;

	while (pg_left(deadline) > 0) {
		assert_int_equal(pg_udp_send(fd, "127.0.0.1", port, msg,
		    strlen(msg)), 0);
		tries++;
		while ((n = pg_udp_recv(fd, buf, sizeof(buf), 250, NULL, 0)) >=
		    0)
			if ((size_t)n == strlen(msg) &&
			    memcmp(buf, msg, (size_t)n) == 0)
				return;
	}
	fail_msg("no echo of \"%s\" after %d tries", msg, tries);
}

/*
 * Send one datagram to <port> from each of <count> source ports of
 * FLOOD_ADDR from *<next> on (ports that cannot be bound are skipped).
 */
static void
flood_burst(int port, int count, int *next)
{
	struct sockaddr_in	sin;
	int			fd, sent = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, FLOOD_ADDR, &sin.sin_addr), 1);
	while (sent < count) {
		assert_true(*next < 65536);
		sin.sin_port = htons((uint16_t)(*next)++);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    pg_udp_send(fd, "127.0.0.1", port, "flood", 5) == 0)
			sent++;
		(void)close(fd);
	}
}

/*
 * 3,000 source ports at a UDP redirect of a daemon with 128 descriptors:
 * the TCP echo service of the same daemon answers after every burst of
 * 300, a client with a port of its own is forwarded after each burst
 * (its echo also shows the daemon has read the burst), flows were
 * evicted, and the diagnostic log grew by one summary line per interval.
 */
static void
test_udp_flood(void **state)
{
	struct pg_ctx	*c = *state;
	struct echo_target	 tg;
	struct pg_conf	 cf;
	long long	 start;
	int		 up = pg_fresh_port(), tp = pg_fresh_port();
	int		 next = FLOOD_PORT0, lines, grown, bound, i, fd;
	char		 msg[64];

	echo_target_start(&tg, SOCK_DGRAM);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "PID HOST EXIT", "HOST");
	pg_conf_add(&cf, "service udpfwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= dgram\n\twait\t\t= yes\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\tcps\t\t= 0 1\n}\n", up,
	    tg.tg_port);
	pg_conf_add(&cf, "service echo\n{\n\tid\t\t= echo-tcp\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tcps\t\t= 0 1\n}\n", tp);
	c->pc_nofile = NOFILE;
	pg_conf_start(c, &cf, CONF);
	fd = pg_udp_open("127.0.0.1", AF_INET);
	assert_true(fd >= 0);
	udp_echo_ok(fd, up, "before");
	tcp_echo_ok(tp, "before");
	lines = errlog_lines(c);
	start = pg_now_ms();

	for (i = 0; i < FLOOD_PORTS / FLOOD_BURST; i++) {
		flood_burst(up, FLOOD_BURST, &next);
		(void)snprintf(msg, sizeof(msg), "udp after burst %d", i);
		udp_echo_ok(fd, up, msg);
		(void)snprintf(msg, sizeof(msg), "tcp after burst %d", i);
		tcp_echo_ok(tp, msg);
	}
	/* The budget, not the kernel, stopped the flows. */
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "UDP flows evicted", 1),
	    0);
	assert_true(daemon_fds(c) < NOFILE);
	grown = errlog_lines(c) - lines;
	bound = FLOOD_LOG_SLACK + 1 +
	    (int)((pg_now_ms() - start) / 1000 / FDBUDGET_LOG_SECS);
	if (grown > bound)
		fail_msg("%d lines logged during the flood, more than %d:\n%s",
		    grown, bound, pg_file_read(c, PG_ERRLOG));
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "flow for"), 0);
	(void)close(fd);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

/*
 * 500 clients of a TCP redirect of a daemon with 128 descriptors, held:
 * the daemon defers accepts rather than meet EMFILE, and never takes a
 * client it cannot give a back-end socket (no FAIL record).  Closed: once
 * the daemon holds no more descriptors than when idle, a new client is
 * served within SERVE_MS, and every client was forwarded and logged.
 */
static void
test_accept_recovers(void **state)
{
	struct pg_ctx	*c = *state;
	struct echo_target	 tg;
	struct pg_conf	 cf;
	static int	 fds[HOLD_CLIENTS];
	char		 buf[4];
	long long	 deadline, t0, took;
	int		 p = pg_fresh_port(), i, idle, n;

	echo_target_start(&tg, SOCK_STREAM);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "PID HOST EXIT", "HOST");
	pg_conf_add(&cf, "service fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\tcps\t\t= 0 1\n}\n", p,
	    tg.tg_port);
	c->pc_nofile = NOFILE;
	pg_conf_start(c, &cf, CONF);
	tcp_echo_ok(p, "warm up");
	pg_log_wait(c, 1, "EXIT: fwd");
	idle = daemon_fds(c);
	assert_true(idle > 0);

	/* The listen queue holds those the daemon has no room for. */
	for (i = 0; i < HOLD_CLIENTS; i++) {
		fds[i] = pg_tcp_connect(NULL, "127.0.0.1", p);
		assert_true(fds[i] >= 0);
	}
	/* Three quarters of its descriptors: the daemon is short of them. */
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	while ((n = daemon_fds(c)) < NOFILE * 3 / 4 && pg_left(deadline) > 0)
		pg_sleep_ms(1);
	if (n < NOFILE * 3 / 4)
		fail_msg("the daemon holds only %d descriptors", n);
	assert_int_equal(pg_send_all(fds[0], "held", 4), 0);
	assert_int_equal(pg_recv_n(fds[0], buf, sizeof(buf)), 4);
	for (i = 0; i < HOLD_CLIENTS; i++)
		(void)close(fds[i]);

	/* The daemon has let go of them all when it is back to idle. */
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	while ((n = daemon_fds(c)) > idle && pg_left(deadline) > 0)
		pg_sleep_ms(1);
	if (n > idle)
		fail_msg("the daemon still holds %d descriptors (%d idle)", n,
		    idle);
	t0 = pg_now_ms();
	tcp_echo_ok(p, "served at once");
	took = pg_now_ms() - t0;
	print_message("a new client was served in %lld ms\n", took);
	if (took >= SERVE_MS)
		fail_msg("a new client waited %lld ms after the others left",
		    took);

	assert_true(pg_file_count(c, PG_ERRLOG, "accepts deferred") >= 1);
	pg_log_wait(c, HOLD_CLIENTS + 2, "EXIT: fwd");
	assert_int_equal(pg_log_count(c, "FAIL"), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "accepts failed"), 0);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_flood, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_accept_recovers,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
