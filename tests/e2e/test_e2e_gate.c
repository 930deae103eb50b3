/*
 * End-to-end tests of the gate: portgate serves built-in echo on
 * 127.0.0.1 and clients bound to 127.0.0.2, 127.0.0.3 ... act as other
 * hosts.  Address rules (CIDR, trailing zero, factorised, host name, the
 * more specific rule winning, ties and an empty only_from), banners,
 * FAIL records and their fields, access_times and access_tz from the
 * current time, country rules with a MaxMind DB written by the test, cps,
 * instances, per_source, per_source_cps, max_load, SENSOR, UDP refusals,
 * .domain rules through a DNS responder run by the test, --explain, and a
 * flood of refused clients beside a served one.
 *
 * Every stream service sends banner_success "OK\n" to admitted clients and
 * banner_fail "NO\n" to refused ones (set in defaults), so a client knows
 * the verdict from its first three bytes.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "harness.h"

#define ACCESS_LOG	PG_ACCESS_LOG
#define CONF		"gate.conf"
#define OK_BANNER	"OK\n"
#define NO_BANNER	"NO\n"
#define BANNER_LEN	3
#define FLOOD_COUNT	2000
/* Deadline of the whole flood, on a slow machine. */
#define FLOOD_MS	120000
/*
 * test_cps: the block in seconds, the experiment's tries, and the pace of
 * its probes (fewer than three a second, the cps rate it sets).
 */
#define CPS_WAIT	3
#define CPS_TRIES	5
#define CPS_PACE_MS	600
/* How long a client waits for the answer a refused datagram never gets. */
#define UDP_QUIET_MS	300

/* xinetd's time stamp of a FILE log line, "YY/M/D@HH:MM:SS: ". */
#define TS_RE		"^[0-9]{2}/[0-9]{1,2}/[0-9]{1,2}@" \
			"[0-9]{2}:[0-9]{2}:[0-9]{2}: "

static const char *const daynames[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

/* Helper processes of a test (DNS responder, flood), killed at its end. */
static pid_t	helpers[4];


/*
 * Start <cf> with the defaults of every test: the access log of <c>, the
 * OK/NO banners, no cps limit, then the attribute lines <extra> (or NULL).
 */
static void
conf_begin(struct pg_conf *cf, const struct pg_ctx *c, const char *extra)
{
	char	log[PG_PATH_MAX], ok[PG_PATH_MAX], no[PG_PATH_MAX];

	pg_conf_init(cf);
	assert_int_equal(pg_file_write(c, "ok.txt", OK_BANNER), 0);
	assert_int_equal(pg_file_write(c, "no.txt", NO_BANNER), 0);
	pg_conf_add(cf, "defaults\n{\n\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= HOST EXIT\n\tlog_on_failure\t= HOST\n"
	    "\tbanner_success\t= %s\n\tbanner_fail\t= %s\n"
	    "\tcps\t\t= 0 1\n%s}\n", pg_path(c, ACCESS_LOG, log),
	    pg_path(c, "ok.txt", ok), pg_path(c, "no.txt", no),
	    extra != NULL ? extra : "");
}

/* A stream echo on 127.0.0.1 <port> with id <id> and lines <extra>. */
static void
conf_stream(struct pg_conf *cf, const char *id, int port, const char *extra)
{
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n",
	    id, port, extra != NULL ? extra : "");
}

/* A dgram echo on 127.0.0.1 <port> with id <id> and lines <extra>. */
static void
conf_dgram(struct pg_conf *cf, const char *id, int port, const char *extra)
{
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= dgram\n"
	    "\twait\t\t= yes\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n",
	    id, port, extra != NULL ? extra : "");
}

/* Connect from <src> to 127.0.0.1 <p>; the descriptor or the test fails. */
static int
dial(const char *src, int p)
{
	int	fd = pg_tcp_connect(src, "127.0.0.1", p);

	if (fd == -1)
		fail_msg("connect %s -> 127.0.0.1:%d: %s", src, p,
		    strerror(errno));
	return fd;
}

/*
 * Read the verdict banner of <fd> (from <src> to port <p>): 1 for "OK\n",
 * 0 for "NO\n" (then EOF must follow).  Anything else fails the test.
 */
static int
verdict_of(int fd, const char *src, int p)
{
	char	buf[64];
	ssize_t	n;

	n = pg_recv_n(fd, buf, BANNER_LEN);
	if (n == BANNER_LEN && memcmp(buf, OK_BANNER, BANNER_LEN) == 0)
		return 1;
	if (n != BANNER_LEN || memcmp(buf, NO_BANNER, BANNER_LEN) != 0)
		fail_msg("%s -> port %d: no verdict banner (%zd bytes: "
		    "'%.*s')", src, p, n, n > 0 ? (int)n : 0, buf);
	n = pg_recv_eof(fd, buf, sizeof(buf));
	if (n != 0)
		fail_msg("%s -> port %d: refused, but %zd more bytes came "
		    "before EOF", src, p, n);
	return 0;
}

/*
 * One client from <src>: 1 if admitted (and the echo works), 0 if refused
 * with banner_fail and EOF.
 */
static int
probe(const char *src, int p)
{
	char	buf[64];
	int	fd, ok;

	fd = dial(src, p);
	ok = verdict_of(fd, src, p);
	if (ok) {
		if (pg_tcp_exchange(fd, "ping\n", 5, buf, sizeof(buf)) != 5 ||
		    memcmp(buf, "ping\n", 5) != 0)
			fail_msg("%s -> port %d: admitted but no echo", src,
			    p);
	}
	(void)close(fd);
	return ok;
}

static void
expect_ok(const char *src, int p, const char *why)
{
	if (!probe(src, p))
		fail_msg("%s -> port %d refused; expected admitted (%s)", src,
		    p, why);
}

static void
expect_no(const char *src, int p, const char *why)
{
	if (probe(src, p))
		fail_msg("%s -> port %d admitted; expected refused (%s)", src,
		    p, why);
}

/* An admitted session from <src> held open: its descriptor. */
static int
hold(const char *src, int p)
{
	int	fd = dial(src, p);

	if (!verdict_of(fd, src, p))
		fail_msg("%s -> port %d refused; expected a session", src, p);
	return fd;
}

/* A FAIL record of <id> for <reason> from <src>, exactly, is logged. */
static void
fail_logged(const struct pg_ctx *c, const char *id, const char *reason,
    const char *src)
{
	pg_log_wait(c, 1, "FAIL: %s %s from=%s\n", id, reason, src);
}

/* Remember a helper process so that the teardown kills it. */
static void
helper_add(pid_t pid)
{
	size_t	i;

	for (i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (helpers[i] == 0) {
			helpers[i] = pid;
			return;
		}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	fail_msg("too many helper processes");
}

/* A helper that was reaped by the test itself. */
static void
helper_forget(pid_t pid)
{
	size_t	i;

	for (i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (helpers[i] == pid)
			helpers[i] = 0;
}

/*
 * Stop the test's daemon, which must exit 0 on SIGTERM (a sanitizer
 * report makes it fail), remove its directory and kill any helper still
 * running.
 */
static int
teardown(void **state)
{
	struct pg_ctx	*c = *state;
	char		*err;
	size_t		 i;
	int		 st, rv = 0;

	for (i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (helpers[i] > 0) {
			(void)kill(helpers[i], SIGKILL);
			(void)waitpid(helpers[i], NULL, 0);
			helpers[i] = 0;
		}
	(void)unsetenv("PORTGATE_RESOLV_CONF");
	if (c != NULL && c->pc_pid > 0 && (st = pg_stop(c)) != -1 &&
	    pg_exit_code(st) != 0) {
		err = pg_file_read(c, PG_ERRLOG);
		fprintf(stderr, "e2e: portgate exited with %d:\n%s\n",
		    pg_exit_code(st), err != NULL ? err : "");
		free(err);
		rv = -1;
	}
	if (pg_teardown(state) == -1)
		rv = -1;
	return rv;
}

/* Run <argv> (a program on PATH) with output to <out>; its exit code. */
static int
run_tool(const struct pg_ctx *c, char *const argv[], const char *out)
{
	char		 path[PG_PATH_MAX];
	long long	 deadline = pg_now_ms() + 4 * PG_TIMEOUT_MS;
	pid_t		 pid;
	int		 fd, st;

	(void)pg_path(c, out, path);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return pg_exit_code(st);
		if (pg_now_ms() > deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			return -1;
		}
		(void)poll(NULL, 0, 10);
	}
}

/*
 * Write the test MaxMind DB (tests/data/geoip/countries.txt: 127.0.0.2 FR,
 * 127.0.0.3 DE, 127.0.0.128/25 no country, the rest of 127.0.0.0/24 US,
 * 127.0.1.1 absent) as countries.mmdb in the test directory.
 */
static void
make_mmdb(const struct pg_ctx *c, char *db)
{
	char		 script[PG_PATH_MAX], data[PG_PATH_MAX];
	char		*argv[6];
	const char	*dir = pg_data();

	if (dir == NULL)
		fail_msg("PORTGATE_DATA is not set: run the test with "
		    "\"make check\"");
	(void)snprintf(script, sizeof(script), "%s/geoip/make-mmdb.pl", dir);
	(void)snprintf(data, sizeof(data), "%s/geoip/countries.txt", dir);
	argv[0] = (char *)(uintptr_t)"perl";
	argv[1] = (char *)(uintptr_t)"-MMaxMind::DB::Writer::Tree";
	argv[2] = (char *)(uintptr_t)"-e";
	argv[3] = (char *)(uintptr_t)"1";
	argv[4] = NULL;
	if (run_tool(c, argv, "perl.out") != 0)
		fail_msg("perl with MaxMind::DB::Writer::Tree cannot run: "
		    "install the Debian package libmaxmind-db-writer-perl");
	argv[1] = script;
	argv[2] = data;
	argv[3] = (char *)(uintptr_t)pg_path(c, "countries.mmdb", db);
	argv[4] = NULL;
	if (run_tool(c, argv, "perl.out") != 0) {
		char	*out = pg_file_read(c, "perl.out");

		fail_msg("%s failed (Debian package "
		    "libmaxmind-db-writer-perl):\n%s", script,
		    out != NULL ? out : "");
	}
}

/* only_from and no_access in every form, over TCP. */
static void
test_address_rules(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 p[9], i;

	for (i = 0; i < 9; i++)
		p[i] = pg_fresh_port();
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "cidr", p[0],
	    "\tonly_from\t= 127.0.0.2/32 127.0.0.8/29\n");
	conf_stream(&cf, "zero", p[1],
	    "\tonly_from\t= 127.0.0.0\n\tno_access\t= 127.0.0.3\n");
	conf_stream(&cf, "fact", p[2], "\tonly_from\t= 127.0.0.{2,4}\n");
	conf_stream(&cf, "host", p[3], "\tonly_from\t= localhost\n");
	conf_stream(&cf, "allow-in", p[4],
	    "\tonly_from\t= 127.0.0.2\n\tno_access\t= 127.0.0.0/24\n");
	conf_stream(&cf, "tie", p[5],
	    "\tonly_from\t= 127.0.0.2 127.0.0.0/24\n"
	    "\tno_access\t= 127.0.0.2/32 127.0.0.{4}\n");
	conf_stream(&cf, "empty", p[6], "\tonly_from\t=\n");
	conf_stream(&cf, "deny", p[7], "\tno_access\t= 127.0.0.0/30\n");
	conf_stream(&cf, "plus", p[8], "\tonly_from\t= 127.0.0.2\n"
	    "\tonly_from\t+= 127.0.0.3\n\tonly_from\t-= 127.0.0.2\n");
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.2", p[0], "127.0.0.2/32");
	expect_ok("127.0.0.9", p[0], "127.0.0.8/29");
	expect_ok("127.0.0.15", p[0], "127.0.0.8/29");
	expect_no("127.0.0.3", p[0], "no rule");
	expect_no("127.0.0.16", p[0], "past 127.0.0.8/29");
	fail_logged(c, "cidr", "address", "127.0.0.3");
	fail_logged(c, "cidr", "address", "127.0.0.16");

	expect_ok("127.0.0.2", p[1], "127.0.0.0 is 127/8");
	expect_ok("127.0.1.1", p[1], "127.0.0.0 is 127/8");
	expect_no("127.0.0.3", p[1], "no_access host beats only_from /8");
	fail_logged(c, "zero", "address", "127.0.0.3");

	expect_ok("127.0.0.2", p[2], "127.0.0.{2,4}");
	expect_ok("127.0.0.4", p[2], "127.0.0.{2,4}");
	expect_no("127.0.0.3", p[2], "not in 127.0.0.{2,4}");

	expect_ok("127.0.0.1", p[3], "localhost is 127.0.0.1");
	expect_no("127.0.0.2", p[3], "localhost is not 127.0.0.2");
	fail_logged(c, "host", "address", "127.0.0.2");

	expect_ok("127.0.0.2", p[4], "only_from host beats no_access /24");
	expect_no("127.0.0.3", p[4], "no_access /24");

	expect_no("127.0.0.2", p[5], "127.0.0.2 and 127.0.0.2/32 tie");
	expect_no("127.0.0.4", p[5], "127.0.0.{4} ties with nothing: /32 "
	    "beats /24");
	expect_ok("127.0.0.5", p[5], "only_from 127.0.0.0/24");
	fail_logged(c, "tie", "address", "127.0.0.2");

	expect_no("127.0.0.1", p[6], "empty only_from");
	expect_no("127.0.0.2", p[6], "empty only_from");
	fail_logged(c, "empty", "address", "127.0.0.1");

	expect_no("127.0.0.2", p[7], "no_access 127.0.0.0/30");
	expect_ok("127.0.0.5", p[7], "outside 127.0.0.0/30");

	expect_ok("127.0.0.3", p[8], "only_from += 127.0.0.3");
	expect_no("127.0.0.2", p[8], "only_from -= 127.0.0.2");

	/* A refused client never gets a START record. */
	assert_int_equal(pg_log_count(c, "START: cidr from=127.0.0.3\n"), 0);
	assert_int_equal(pg_log_count(c, "START: tie from=127.0.0.2\n"), 0);
	pg_log_wait(c, 1, "START: cidr from=127.0.0.2\n");
}

/* UDP: a refused datagram is dropped, logged, and never answered. */
static void
test_udp_refused(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[256], from[64];
	int		 p = pg_fresh_port(), a, b, d, e;

	conf_begin(&cf, c, NULL);
	conf_dgram(&cf, "uecho", p, "\tonly_from\t= 127.0.0.0/24\n"
	    "\tno_access\t= 127.0.0.3 127.0.0.4\n\tonly_from\t+= 127.0.0.4\n");
	pg_conf_start(c, &cf, CONF);

	assert_true((a = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	assert_true((b = pg_udp_open("127.0.0.3", AF_INET)) >= 0);
	assert_true((d = pg_udp_open("127.0.0.4", AF_INET)) >= 0);
	/*
	 * The refused datagrams first; the daemon reads one socket in
	 * order, so the admitted answer proves it has handled them.
	 */
	assert_int_equal(pg_udp_send(b, "127.0.0.1", p, "refused", 7), 0);
	assert_int_equal(pg_udp_send(d, "127.0.0.1", p, "tie", 3), 0);
	assert_int_equal(pg_udp_send(a, "127.0.0.1", p, "admitted", 8), 0);
	assert_int_equal(pg_udp_recv(a, buf, sizeof(buf), PG_TIMEOUT_MS, from,
	    sizeof(from)), 8);
	assert_memory_equal(buf, "admitted", 8);
	assert_string_equal(from, "127.0.0.1");
	assert_int_equal(pg_udp_recv(b, buf, sizeof(buf), UDP_QUIET_MS, NULL,
	    0), -1);
	assert_int_equal(pg_udp_recv(d, buf, sizeof(buf), UDP_QUIET_MS, NULL,
	    0), -1);
	fail_logged(c, "uecho", "address", "127.0.0.3");
	fail_logged(c, "uecho", "address", "127.0.0.4");
	pg_log_wait(c, 1, "START: uecho from=127.0.0.2\n");
	assert_int_equal(pg_log_count(c, "START: uecho from=127.0.0.3"), 0);
	/*
	 * Each datagram goes through the gate and is refused again, but a
	 * repeat from the same address within a minute is not
	 * logged again (xinetd); the admitted answer after it proves that
	 * the daemon has handled it.
	 */
	assert_int_equal(pg_udp_send(b, "127.0.0.1", p, "again", 5), 0);
	assert_int_equal(pg_udp_send(a, "127.0.0.1", p, "order", 5), 0);
	assert_int_equal(pg_udp_recv(a, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0), 5);
	assert_int_equal(pg_udp_pending(b, buf, sizeof(buf)), -1);
	assert_int_equal(pg_log_count(c, "FAIL: uecho address "
	    "from=127.0.0.3\n"), 1);
	/*
	 * Another port of the same address is the same sender: forged
	 * datagrams may change the port every time.
	 */
	assert_true((e = pg_udp_open("127.0.0.3", AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(e, "127.0.0.1", p, "other", 5), 0);
	assert_int_equal(pg_udp_send(a, "127.0.0.1", p, "order", 5), 0);
	assert_int_equal(pg_udp_recv(a, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0), 5);
	assert_int_equal(pg_udp_pending(e, buf, sizeof(buf)), -1);
	assert_int_equal(pg_log_count(c, "FAIL: uecho address "
	    "from=127.0.0.3\n"), 1);
	(void)close(a);
	(void)close(b);
	(void)close(d);
	(void)close(e);
}

/*
 * banner goes first to every client; then banner_success to an admitted
 * one (before any echoed byte) or banner_fail to a refused one, then EOF.
 */
static void
test_banners(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 extra[3 * PG_PATH_MAX + 256], buf[256];
	char		 b[PG_PATH_MAX], s[PG_PATH_MAX], f[PG_PATH_MAX];
	static const char ban[] = "220 portgate test\r\n";
	static const char suc[] = "welcome, friend\n";
	static const char fai[] = "go away\n";
	size_t		 bl = strlen(ban), sl = strlen(suc);
	size_t		 fl = strlen(fai);
	int		 p1 = pg_fresh_port(), p2 = pg_fresh_port();
	int		 p3 = pg_fresh_port(), fd, held;

	assert_int_equal(pg_file_write(c, "b.txt", "%s", ban), 0);
	assert_int_equal(pg_file_write(c, "s.txt", "%s", suc), 0);
	assert_int_equal(pg_file_write(c, "f.txt", "%s", fai), 0);
	(void)snprintf(extra, sizeof(extra), "\tbanner\t\t= %s\n"
	    "\tbanner_success\t= %s\n\tbanner_fail\t= %s\n",
	    pg_path(c, "b.txt", b), pg_path(c, "s.txt", s),
	    pg_path(c, "f.txt", f));
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "ban", p1, extra);
	pg_conf_add(&cf, "\nservice echo\n{\n\tid\t\t= ban-inst\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tinstances\t= 1\n%s\tonly_from\t= 127.0.0.2\n}\n", p2, extra);
	/* Only banner_fail: a refused client gets just that. */
	conf_stream(&cf, "failonly", p3, "\tno_access\t= 127.0.0.3\n");
	pg_conf_start(c, &cf, CONF);

	/* Admitted: banner, banner_success, then the echo and nothing else. */
	fd = dial("127.0.0.2", p1);
	assert_int_equal(pg_recv_n(fd, buf, bl + sl), (ssize_t)(bl + sl));
	assert_memory_equal(buf, ban, bl);
	assert_memory_equal(buf + bl, suc, sl);
	assert_int_equal(pg_tcp_exchange(fd, "data\n", 5, buf, sizeof(buf)),
	    5);
	assert_memory_equal(buf, "data\n", 5);
	(void)close(fd);

	/* Every source passes ban: banner and banner_success again. */
	fd = dial("127.0.0.3", p1);
	assert_int_equal(pg_recv_n(fd, buf, bl + sl), (ssize_t)(bl + sl));
	assert_memory_equal(buf + bl, suc, sl);
	(void)close(fd);

	/* ban-inst: 127.0.0.3 is refused by address, 127.0.0.2 by count. */
	fd = dial("127.0.0.3", p2);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), (ssize_t)(bl +
	    fl));
	assert_memory_equal(buf, ban, bl);
	assert_memory_equal(buf + bl, fai, fl);
	(void)close(fd);
	fail_logged(c, "ban-inst", "address", "127.0.0.3");

	held = dial("127.0.0.2", p2);
	assert_int_equal(pg_recv_n(held, buf, bl + sl), (ssize_t)(bl + sl));
	assert_memory_equal(buf, ban, bl);
	assert_memory_equal(buf + bl, suc, sl);
	fd = dial("127.0.0.2", p2);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), (ssize_t)(bl +
	    fl));
	assert_memory_equal(buf, ban, bl);
	assert_memory_equal(buf + bl, fai, fl);
	(void)close(fd);
	fail_logged(c, "ban-inst", "service_limit", "127.0.0.2");
	(void)close(held);

	/* The defaults' banner_fail alone. */
	fd = dial("127.0.0.3", p3);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), BANNER_LEN);
	assert_memory_equal(buf, NO_BANNER, BANNER_LEN);
	(void)close(fd);
}

/* The fields of FAIL records: HOST, PORT, ATTEMPT, none. */
static void
test_fail_fields(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 re[256];
	int			 p[4], i, fd, cport;

	for (i = 0; i < 4; i++)
		p[i] = pg_fresh_port();
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "f-host", p[0], "\tno_access\t= 127.0.0.3\n");
	conf_stream(&cf, "f-port", p[1], "\tno_access\t= 127.0.0.3\n"
	    "\tlog_on_failure\t+= PORT\n");
	conf_stream(&cf, "f-attempt", p[2], "\tno_access\t= 127.0.0.3\n"
	    "\tlog_on_failure\t= ATTEMPT\n");
	conf_stream(&cf, "f-none", p[3], "\tno_access\t= 127.0.0.3\n"
	    "\tlog_on_failure\t=\n");
	pg_conf_start(c, &cf, CONF);

	expect_no("127.0.0.3", p[3], "no_access");
	expect_no("127.0.0.3", p[0], "no_access");
	expect_no("127.0.0.3", p[2], "no_access");
	fd = dial("127.0.0.3", p[1]);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	cport = ntohs(sin.sin_port);
	assert_int_equal(verdict_of(fd, "127.0.0.3", p[1]), 0);
	(void)close(fd);

	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, TS_RE
	    "FAIL: f-host address from=127\\.0\\.0\\.3$", 1), 0);
	(void)snprintf(re, sizeof(re), TS_RE "FAIL: f-port address "
	    "from=127\\.0\\.0\\.3 port=%d$", cport);
	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, re, 1), 0);
	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, TS_RE
	    "FAIL: f-attempt address$", 1), 0);
	/* f-none was refused first and logged nothing. */
	assert_int_equal(pg_log_count(c, "f-none"), 0);
}

/* Now plus <min> minutes in local time as "HH:MM" into <buf>. */
static void
local_hhmm(time_t now, int min, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = now + (time_t)min * 60;

	assert_non_null(localtime_r(&t, &tm));
	assert_true(strftime(buf, len, "%H:%M", &tm) > 0);
}

/* access_times in local time: a window around now and one without now. */
static void
test_access_times_local(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 a[8], b[8], d[8], e[8], line[128];
	time_t		 now = time(NULL);
	int		 pin = pg_fresh_port(), pout = pg_fresh_port();
	int		 pmany = pg_fresh_port();

	local_hhmm(now, -60, a, sizeof(a));
	local_hhmm(now, 60, b, sizeof(b));
	local_hhmm(now, 61, d, sizeof(d));
	local_hhmm(now, 120, e, sizeof(e));
	conf_begin(&cf, c, NULL);
	(void)snprintf(line, sizeof(line), "\taccess_times\t= %s-%s\n", a, b);
	conf_stream(&cf, "t-in", pin, line);
	(void)snprintf(line, sizeof(line), "\taccess_times\t= %s-%s\n", d, e);
	conf_stream(&cf, "t-out", pout, line);
	/* Several windows add up. */
	(void)snprintf(line, sizeof(line), "\taccess_times\t= %s-%s %s-%s\n",
	    d, e, a, b);
	conf_stream(&cf, "t-many", pmany, line);
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.2", pin, "inside now-1h..now+1h");
	expect_no("127.0.0.2", pout, "outside now+61m..now+2h");
	expect_ok("127.0.0.3", pmany, "inside the second window");
	fail_logged(c, "t-out", "time", "127.0.0.2");
}

/* The Etc zone <off> hours east of UTC ("Etc/GMT-5" is UTC+5). */
static void
zone_name(int off, char *buf, size_t len)
{
	if (off == 0)
		(void)snprintf(buf, len, "Etc/UTC");
	else if (off > 0)
		(void)snprintf(buf, len, "Etc/GMT-%d", off);
	else
		(void)snprintf(buf, len, "Etc/GMT+%d", -off);
}

/* An offset (-9..14 hours) whose clock shows hour <hour> at <now>. */
static int
zone_for_hour(time_t now, int hour)
{
	struct tm	tm;
	int		off;

	assert_non_null(gmtime_r(&now, &tm));
	off = ((hour - tm.tm_hour) % 24 + 24) % 24;
	return off > 14 ? off - 24 : off;
}

/* The clock of zone <off> at <now> + <min> minutes, as "HH:MM". */
static void
zone_hhmm(time_t now, int off, int min, char *buf, size_t len,
    int *wday)
{
	struct tm	tm;
	time_t		t = now + (time_t)off * 3600 + (time_t)min * 60;

	assert_non_null(gmtime_r(&t, &tm));
	assert_true(strftime(buf, len, "%H:%M", &tm) > 0);
	if (wday != NULL)
		*wday = tm.tm_wday;
}

/*
 * access_tz: in a zone where it is about 23:xx, the window now-1h..now+1h
 * crosses midnight and is open; the same window in a zone twelve hours
 * away is closed.  Day words are checked in a zone where it is noon.
 */
static void
test_access_tz(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 za[32], zb[32], zn[32], a[8], b[8], line[256];
	time_t		 now = time(NULL);
	int		 offa, offb, offn, wday, p[5], i;

	for (i = 0; i < 5; i++)
		p[i] = pg_fresh_port();
	offa = zone_for_hour(now, 23);
	offb = zone_for_hour(now, 11);
	offn = zone_for_hour(now, 12);
	zone_name(offa, za, sizeof(za));
	zone_name(offb, zb, sizeof(zb));
	zone_name(offn, zn, sizeof(zn));
	conf_begin(&cf, c, NULL);

	zone_hhmm(now, offa, -60, a, sizeof(a), NULL);
	zone_hhmm(now, offa, 60, b, sizeof(b), NULL);
	/* 22:xx-00:xx: the window crosses midnight. */
	assert_true(strcmp(a, b) > 0);
	(void)snprintf(line, sizeof(line), "\taccess_tz\t= %s\n"
	    "\taccess_times\t= %s-%s\n", za, a, b);
	conf_stream(&cf, "tz-open", p[0], line);
	(void)snprintf(line, sizeof(line), "\taccess_tz\t= %s\n"
	    "\taccess_times\t= %s-%s\n", zb, a, b);
	conf_stream(&cf, "tz-closed", p[1], line);

	zone_hhmm(now, offn, -60, a, sizeof(a), &wday);
	zone_hhmm(now, offn, 60, b, sizeof(b), NULL);
	(void)snprintf(line, sizeof(line), "\taccess_tz\t= %s\n"
	    "\taccess_times\t= %s %s-%s\n", zn, daynames[wday], a, b);
	conf_stream(&cf, "day-today", p[2], line);
	(void)snprintf(line, sizeof(line), "\taccess_tz\t= %s\n"
	    "\taccess_times\t= %s %s-%s\n", zn, daynames[(wday + 1) % 7], a,
	    b);
	conf_stream(&cf, "day-tomorrow", p[3], line);
	/* A range of days around today, written as in the man page. */
	(void)snprintf(line, sizeof(line), "\taccess_tz\t= %s\n"
	    "\taccess_times\t= %s-%s %s-%s\n", zn, daynames[(wday + 6) % 7],
	    daynames[(wday + 1) % 7], a, b);
	conf_stream(&cf, "day-range", p[4], line);
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.2", p[0], "23:xx inside 22:xx-00:xx");
	expect_no("127.0.0.2", p[1], "11:xx outside 22:xx-00:xx");
	fail_logged(c, "tz-closed", "time", "127.0.0.2");
	expect_ok("127.0.0.2", p[2], "today, noon");
	expect_no("127.0.0.2", p[3], "tomorrow only");
	fail_logged(c, "day-tomorrow", "time", "127.0.0.2");
	expect_ok("127.0.0.2", p[4], "yesterday to tomorrow");
}

/* Country rules, "--" for no country, and the COUNTRY and PORT fields. */
static void
test_country(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 db[PG_PATH_MAX], extra[PG_PATH_MAX + 256];
	char			 re[256];
	int			 p[4], i, fd, cport;

	make_mmdb(c, db);
	for (i = 0; i < 4; i++)
		p[i] = pg_fresh_port();
	(void)snprintf(extra, sizeof(extra), "\tgeoip_db\t= %s\n"
	    "\tlog_on_success\t+= COUNTRY\n"
	    "\tlog_on_failure\t+= PORT COUNTRY\n", db);
	conf_begin(&cf, c, extra);
	conf_stream(&cf, "c-only-fr", p[0], "\tonly_from_country\t= FR\n");
	conf_stream(&cf, "c-no-de", p[1], "\tno_access_country\t= DE\n");
	conf_stream(&cf, "c-no-none", p[2], "\tno_access_country\t= --\n");
	conf_stream(&cf, "c-only-none", p[3],
	    "\tonly_from_country\t= -- FR\n");
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.2", p[0], "FR");
	expect_no("127.0.0.3", p[0], "DE");
	expect_no("127.0.0.4", p[0], "US");
	pg_log_wait(c, 1, "FAIL: c-only-fr country from=127.0.0.4 port=");
	pg_log_wait(c, 1, "START: c-only-fr from=127.0.0.2 country=FR\n");

	fd = dial("127.0.0.3", p[1]);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	cport = ntohs(sin.sin_port);
	assert_int_equal(verdict_of(fd, "127.0.0.3", p[1]), 0);
	(void)close(fd);
	(void)snprintf(re, sizeof(re), TS_RE "FAIL: c-no-de country "
	    "from=127\\.0\\.0\\.3 port=%d country=DE$", cport);
	assert_int_equal(pg_file_wait_re(c, ACCESS_LOG, re, 1), 0);
	expect_ok("127.0.0.2", p[1], "FR");
	expect_ok("127.0.0.4", p[1], "US");
	expect_ok("127.0.1.1", p[1], "not in the database");

	expect_no("127.0.0.130", p[2], "a record without country");
	expect_no("127.0.1.1", p[2], "not in the database");
	expect_ok("127.0.0.2", p[2], "FR");
	pg_log_wait(c, 1, "FAIL: c-no-none country from=127.0.1.1 port=");
	pg_log_wait(c, 2, " country=--\n");

	expect_ok("127.0.1.1", p[3], "--");
	expect_ok("127.0.0.2", p[3], "FR");
	expect_no("127.0.0.3", p[3], "DE");
}

/* Country codes in lower case mean the capitals the database holds. */
static void
test_country_lower_case(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 db[PG_PATH_MAX], extra[PG_PATH_MAX + 256];
	int		 p = pg_fresh_port(), q = pg_fresh_port();

	make_mmdb(c, db);
	(void)snprintf(extra, sizeof(extra), "\tgeoip_db\t= %s\n", db);
	conf_begin(&cf, c, extra);
	conf_stream(&cf, "c-lower", p, "\tno_access_country\t= de\n");
	conf_stream(&cf, "c-lower-only", q, "\tonly_from_country\t= fr\n");
	pg_conf_start(c, &cf, CONF);
	expect_no("127.0.0.3", p, "no_access_country = de is DE");
	expect_ok("127.0.0.2", p, "FR");
	expect_ok("127.0.0.2", q, "only_from_country = fr is FR");
	expect_no("127.0.0.3", q, "DE");
}

/* The DNS names the responder knows. */
struct dns_name {
	const char	*dn_name;
	int		 dn_type;	/* 1 A, 12 PTR */
	const char	*dn_value;	/* dotted quad or name */
};

static const struct dns_name dns_names[] = {
	{ "2.0.0.127.in-addr.arpa", 12, "good.example.test" },
	{ "good.example.test", 1, "127.0.0.2" },
	{ "3.0.0.127.in-addr.arpa", 12, "liar.example.test" },
	{ "liar.example.test", 1, "127.0.0.99" },
	{ "5.0.0.127.in-addr.arpa", 12, "host.other.test" },
	{ "host.other.test", 1, "127.0.0.5" },
	{ "6.0.0.127.in-addr.arpa", 12, "h6.example.test" },
	{ "h6.example.test", 1, "127.0.0.6" },
	/* 127.0.0.4 has no PTR record. */
};

/* Append <name> in DNS labels to <out> at <*n> (of <cap>); 0 or -1. */
static int
dns_put_name(unsigned char *out, size_t cap, size_t *n, const char *name)
{
	const char	*p = name, *dot;
	size_t		 l;

	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || *n + 1 + l >= cap)
			return -1;
		out[(*n)++] = (unsigned char)l;
		memcpy(out + *n, p, l);
		*n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (*n + 1 > cap)
		return -1;
	out[(*n)++] = 0;
	return 0;
}

/*
 * Answer the query <q> of <qlen> bytes into <out>; the answer's length,
 * or 0 to ignore the query.
 */
static size_t
dns_answer(const unsigned char *q, size_t qlen, unsigned char *out,
    size_t cap)
{
	char		 name[256];
	const struct dns_name *dn = NULL;
	struct in_addr	 a;
	size_t		 i = 12, n = 0, rdpos, j;
	unsigned	 qtype;
	int		 rcode = 3;

	if (qlen < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1)
		return 0;
	while (i < qlen && q[i] != 0) {
		if (q[i] > 63 || i + 1 + q[i] >= qlen || n + q[i] + 1 >=
		    sizeof(name))
			return 0;
		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, q + i + 1, q[i]);
		n += q[i];
		i += 1 + q[i];
	}
	name[n] = '\0';
	if (i + 5 > qlen)
		return 0;
	qtype = (unsigned)q[i + 1] << 8 | q[i + 2];
	i += 5;			/* the root label, type, class */
	if (i > cap)
		return 0;
	for (j = 0; j < sizeof(dns_names) / sizeof(dns_names[0]); j++)
		if (strcasecmp(dns_names[j].dn_name, name) == 0) {
			rcode = 0;
			if ((unsigned)dns_names[j].dn_type == qtype)
				dn = &dns_names[j];
		}
	memcpy(out, q, i);
	out[2] = (unsigned char)(0x84 | (q[2] & 0x79));	/* QR AA, RD */
	out[3] = (unsigned char)(0x80 | rcode);		/* RA */
	out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
	n = i;
	if (dn == NULL)
		return n;
	if (n + 12 > cap)
		return 0;
	out[7] = 1;
	out[n++] = 0xc0;		/* the question's name */
	out[n++] = 0x0c;
	out[n++] = 0;
	out[n++] = (unsigned char)dn->dn_type;
	out[n++] = 0;
	out[n++] = 1;			/* IN */
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 60;			/* TTL */
	rdpos = n;
	n += 2;
	if (dn->dn_type == 1) {
		if (inet_pton(AF_INET, dn->dn_value, &a) != 1 || n + 4 > cap)
			return 0;
		memcpy(out + n, &a, 4);
		n += 4;
	} else if (dns_put_name(out, cap, &n, dn->dn_value) == -1)
		return 0;
	out[rdpos] = (unsigned char)((n - rdpos - 2) >> 8);
	out[rdpos + 1] = (unsigned char)(n - rdpos - 2);
	return n;
}

/* The responder's loop on <fd>: at most a minute, then it exits. */
static void
dns_serve(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	unsigned char		 q[512], a[512];
	long long		 end = pg_now_ms() + 60000;
	struct pollfd		 pfd;
	ssize_t			 n;
	size_t			 alen;

	while (pg_now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		sslen = sizeof(ss);
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&ss,
		    &sslen);
		if (n <= 0)
			continue;
		if ((alen = dns_answer(q, (size_t)n, a, sizeof(a))) > 0)
			(void)sendto(fd, a, alen, 0, (struct sockaddr *)&ss,
			    sslen);
	}
}

/* Start the DNS responder on 127.0.0.1; its port. */
static int
dns_start(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	pid_t			pid;
	int			fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		dns_serve(fd);
		_exit(0);
	}
	(void)close(fd);
	helper_add(pid);
	return ntohs(sin.sin_port);
}

/*
 * .domain rules through a resolver run here: a verified name is admitted,
 * a PTR that the forward look-up does not confirm and a missing PTR are
 * refused; a verified .domain beats a /24 and loses to nothing else.
 */
static void
test_domain(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 rc[PG_PATH_MAX];
	int		 dns, p1 = pg_fresh_port(), p2 = pg_fresh_port();
	int		 fds[4], i;

	dns = dns_start();
	assert_int_equal(pg_file_write(c, "resolv.conf", "nameserver "
	    "127.0.0.1:%d\noptions timeout:2 attempts:3\n", dns), 0);
	assert_int_equal(setenv("PORTGATE_RESOLV_CONF",
	    pg_path(c, "resolv.conf", rc), 1), 0);
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "dom", p1, "\tonly_from\t= .example.test\n");
	conf_stream(&cf, "dom-deny", p2, "\tonly_from\t= 127.0.0.0/24\n"
	    "\tno_access\t= .example.test\n");
	pg_conf_start(c, &cf, CONF);
	(void)unsetenv("PORTGATE_RESOLV_CONF");

	expect_ok("127.0.0.2", p1, "good.example.test, confirmed");
	expect_no("127.0.0.3", p1, "liar.example.test is 127.0.0.99");
	expect_no("127.0.0.4", p1, "no PTR record");
	expect_no("127.0.0.5", p1, "host.other.test");
	fail_logged(c, "dom", "address", "127.0.0.3");
	fail_logged(c, "dom", "address", "127.0.0.4");
	pg_log_wait(c, 1, "START: dom from=127.0.0.2\n");

	expect_no("127.0.0.2", p2, ".example.test (122) beats /24 (120)");
	expect_ok("127.0.0.3", p2, "unconfirmed name: only the /24");
	expect_ok("127.0.0.4", p2, "no name: only the /24");
	fail_logged(c, "dom-deny", "address", "127.0.0.2");

	/* Several clients waiting for their names at once. */
	fds[0] = dial("127.0.0.2", p1);
	fds[1] = dial("127.0.0.3", p1);
	fds[2] = dial("127.0.0.6", p1);
	fds[3] = dial("127.0.0.4", p1);
	assert_int_equal(verdict_of(fds[0], "127.0.0.2", p1), 1);
	assert_int_equal(verdict_of(fds[1], "127.0.0.3", p1), 0);
	assert_int_equal(verdict_of(fds[2], "127.0.0.6", p1), 1);
	assert_int_equal(verdict_of(fds[3], "127.0.0.4", p1), 0);
	for (i = 0; i < 4; i++)
		(void)close(fds[i]);
}

/*
 * Regression (fixed):
 * a client of a service with a .domain rule waits for its reverse name in
 * a copy of its struct arrival (admit_wait_name() in src/admit.c), but
 * only gc_sa is re-pointed at the copy (in admit_name_cb()); gc_country still points at ar_country inside the
 * arrival on the stack of admit_client(), long returned when the name
 * comes back.  The gate and the log then read whatever the stack holds
 * there: "FAIL: dom-fr country from=127.0.0.2 country=?V" for a French
 * client of only_from_country = FR.  Fix: in admit_name_cb() also set
 * a->ar_client.gc_country = a->ar_client.gc_country != NULL ?
 * a->ar_country : NULL (better, one helper that re-points both pointers
 * after every copy of a struct arrival, also used on the no-resolver path
 * of admit_wait_name()).
 *
 * A .domain rule and a country rule together: the country found when the
 * client arrived must still be the one used once its name is known.
 */
static void
test_domain_with_country(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 rc[PG_PATH_MAX], db[PG_PATH_MAX];
	char		 extra[PG_PATH_MAX + 256];
	int		 dns, p = pg_fresh_port(), i;

	make_mmdb(c, db);
	dns = dns_start();
	assert_int_equal(pg_file_write(c, "resolv.conf", "nameserver "
	    "127.0.0.1:%d\noptions timeout:2 attempts:3\n", dns), 0);
	assert_int_equal(setenv("PORTGATE_RESOLV_CONF",
	    pg_path(c, "resolv.conf", rc), 1), 0);
	(void)snprintf(extra, sizeof(extra), "\tgeoip_db\t= %s\n"
	    "\tlog_on_success\t+= COUNTRY\n"
	    "\tlog_on_failure\t+= COUNTRY\n", db);
	conf_begin(&cf, c, extra);
	conf_stream(&cf, "dom-fr", p, "\tonly_from\t= .example.test\n"
	    "\tonly_from_country\t= FR US\n");
	pg_conf_start(c, &cf, CONF);
	(void)unsetenv("PORTGATE_RESOLV_CONF");

	for (i = 0; i < 3; i++) {
		expect_ok("127.0.0.2", p, "good.example.test in FR");
		expect_ok("127.0.0.6", p, "h6.example.test in US");
		expect_no("127.0.0.3", p, "unconfirmed name");
	}
	pg_log_wait(c, 3, "START: dom-fr from=127.0.0.2 country=FR\n");
	pg_log_wait(c, 3, "START: dom-fr from=127.0.0.6 country=US\n");
	pg_log_wait(c, 3, "FAIL: dom-fr address from=127.0.0.3 country=DE\n");
}


/* Until the second of the realtime clock changes; its new value. */
static time_t
next_second(void)
{
	struct timespec	ts, nap;
	time_t		sec;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	sec = ts.tv_sec;
	while (ts.tv_sec == sec) {
		nap.tv_sec = 0;
		nap.tv_nsec = 1000000000L - ts.tv_nsec;
		if (nap.tv_nsec > 2000000)
			nap.tv_nsec = 2000000;
		(void)nanosleep(&nap, NULL);
		assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	}
	return ts.tv_sec;
}

/* Sleep <ms> milliseconds: paces clients, waits for nothing. */
static void
nap_ms(int ms)
{
	(void)poll(NULL, 0, ms);
}

/* The second of the realtime clock now. */
static time_t
now_sec(void)
{
	struct timespec	ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return ts.tv_sec;
}

/*
 * One probe from <src> of the cps service on <p>: 1 if admitted.  With
 * <pace>, it starts CPS_PACE_MS after the end of the previous one, so
 * that the daemon accepts fewer than three a second and never renews the
 * block.  The realtime seconds around it go to <t0> and <t1>: the daemon
 * decided within them.
 */
static int
cps_probe(const char *src, int p, int pace, time_t *t0, time_t *t1)
{
	int	ok;

	if (pace)
		nap_ms(CPS_PACE_MS);
	*t0 = now_sec();
	ok = probe(src, p);
	*t1 = now_sec();
	return ok;
}

/*
 * Probe from 127.0.0.3 until the cps service on <p> admits again, and
 * check every verdict against a block that began in a second of the
 * daemon's clock from <first> to <last>, lasting until second + CPS_WAIT:
 * admitted only once it may have ended, refused only while it may last.
 */
static void
cps_until_served(int p, time_t first, time_t last)
{
	long long	deadline;
	time_t		t0, t1;
	int		polls;

	deadline = pg_now_ms() + PG_TIMEOUT_MS + CPS_WAIT * 1000;

	for (polls = 1;; polls++) {
		if (cps_probe("127.0.0.3", p, 1, &t0, &t1)) {
			if (t1 < first + CPS_WAIT)
				fail_msg("admitted in second %lld, before the "
				    "block of second %lld or later ended",
				    (long long)t1, (long long)first);
			return;
		}
		if (t0 >= last + CPS_WAIT)
			fail_msg("refused in second %lld, after the block of "
			    "second %lld at the latest ended", (long long)t0,
			    (long long)last);
		if (pg_now_ms() > deadline)
			fail_msg("still refused %d polls after cps tripped",
			    polls);
	}
}

/*
 * cps = 2 CPS_WAIT: a third connection within one second of the daemon's
 * clock trips the limit; the service then refuses everyone, from any
 * source, until second CPS_WAIT after that one begins, and serves again.
 * Each verdict is judged by the realtime clock read around it, never by
 * how fast the test runs on a loaded machine: when the probe meant to
 * land inside the block lands after it, the experiment is run again.
 */
static void
test_cps(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 extra[128];
	time_t		 sec, last, t0, t1;
	int		 p = pg_fresh_port(), fd[3], v[3], i, tries;

	(void)snprintf(extra, sizeof(extra), "\tcps\t\t= 2 %d\n", CPS_WAIT);
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "cps", p, extra);
	pg_conf_start(c, &cf, CONF);

	for (tries = 0;; tries++) {
		if (tries == CPS_TRIES)
			fail_msg("the block was never seen in %d tries",
			    CPS_TRIES);
		/*
		 * Three connections at once, in a fresh second: they reach
		 * the daemon's accept queue together.
		 */
		sec = next_second();
		for (i = 0; i < 3; i++)
			fd[i] = dial("127.0.0.2", p);
		for (i = 0; i < 3; i++)
			v[i] = verdict_of(fd[i], "127.0.0.2", p);
		last = now_sec();
		for (i = 0; i < 3; i++)
			(void)close(fd[i]);
		if (v[0] + v[1] + v[2] == 3) {
			/* Across a second boundary: no trip, try again. */
			if (last == sec)
				fail_msg("three connections in second %lld "
				    "were all admitted", (long long)sec);
			continue;
		}
		assert_int_equal(v[0], 1);
		assert_int_equal(v[1], 1);
		assert_int_equal(v[2], 0);

		/*
		 * Everyone is refused during the block, from any source.
		 * The trip reset the count: no pace needed.
		 */
		if (!cps_probe("127.0.0.3", p, 0, &t0, &t1))
			break;
		/* Admitted: only right if the block may have ended. */
		if (t1 < sec + CPS_WAIT)
			fail_msg("admitted in second %lld, during the block "
			    "of second %lld or later", (long long)t1,
			    (long long)sec);
		print_message("cps: the probe came after the block; again\n");
	}
	fail_logged(c, "cps", "connections per second", "127.0.0.2");
	fail_logged(c, "cps", "connections per second", "127.0.0.3");
	(void)snprintf(extra, sizeof(extra), "Deactivating service cps due to "
	    "excessive incoming connections.  Restarting in %d seconds.",
	    CPS_WAIT);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, extra, 1), 0);

	cps_until_served(p, sec, last);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "Activating service cps",
	    1), 0);
	expect_ok("127.0.0.2", p, "served again");
}

/* instances: the third of two is refused; a closed session frees a slot. */
static void
test_instances(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 p = pg_fresh_port(), a, b;
	char		 buf[64];

	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "inst", p, "\tinstances\t= 2\n");
	pg_conf_start(c, &cf, CONF);

	a = hold("127.0.0.2", p);
	b = hold("127.0.0.3", p);
	expect_no("127.0.0.4", p, "instances 2 with 2 open");
	expect_no("127.0.0.2", p, "instances 2 with 2 open");
	fail_logged(c, "inst", "service_limit", "127.0.0.4");
	(void)close(a);
	pg_log_wait(c, 1, "EXIT: inst ");
	expect_ok("127.0.0.4", p, "a slot was freed");
	pg_log_wait(c, 2, "EXIT: inst ");
	/* The held session still works. */
	assert_int_equal(pg_tcp_exchange(b, "held\n", 5, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "held\n", 5);
	(void)close(b);
}

/* per_source: one source at its limit is refused, others are served. */
static void
test_per_source(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 p = pg_fresh_port(), a, b, d;

	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "persrc", p, "\tper_source\t= 2\n");
	pg_conf_start(c, &cf, CONF);

	a = hold("127.0.0.2", p);
	b = hold("127.0.0.2", p);
	expect_no("127.0.0.2", p, "per_source 2 with 2 open");
	fail_logged(c, "persrc", "per_source_limit", "127.0.0.2");
	d = hold("127.0.0.3", p);
	expect_ok("127.0.0.4", p, "another source");
	(void)close(a);
	pg_log_wait(c, 1, "EXIT: persrc ");
	expect_ok("127.0.0.2", p, "one of its sessions ended");
	(void)close(b);
	(void)close(d);
}

/* per_source_cps: only the source that goes too fast is refused. */
static void
test_per_source_cps(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 p = pg_fresh_port(), pu = pg_fresh_port(), a, b, i;
	char		 buf[64];

	conf_begin(&cf, c, NULL);
	/* A burst of 2, then one every 20 s. */
	conf_stream(&cf, "rate", p, "\tper_source_cps\t= 0.05 2\n");
	conf_dgram(&cf, "rate-udp", pu, "\tper_source_cps\t= 0.05 2\n");
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.2", p, "burst 1");
	expect_ok("127.0.0.2", p, "burst 2");
	expect_no("127.0.0.2", p, "burst spent");
	fail_logged(c, "rate", "per_source_rate", "127.0.0.2");
	expect_ok("127.0.0.3", p, "another source, burst 1");
	expect_no("127.0.0.2", p, "still no token");
	expect_ok("127.0.0.3", p, "another source, burst 2");
	expect_no("127.0.0.3", p, "its burst spent too");
	expect_ok("127.0.0.4", p, "a third source");

	/* Every datagram of a built-in counts. */
	a = pg_udp_open("127.0.0.2", AF_INET);
	b = pg_udp_open("127.0.0.3", AF_INET);
	assert_true(a >= 0 && b >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pg_udp_send(a, "127.0.0.1", pu, "x", 1), 0);
		assert_int_equal(pg_udp_recv(a, buf, sizeof(buf),
		    PG_TIMEOUT_MS, NULL, 0), 1);
	}
	assert_int_equal(pg_udp_send(a, "127.0.0.1", pu, "x", 1), 0);
	assert_int_equal(pg_udp_send(b, "127.0.0.1", pu, "y", 1), 0);
	assert_int_equal(pg_udp_recv(b, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0), 1);
	assert_int_equal(pg_udp_recv(a, buf, sizeof(buf), UDP_QUIET_MS, NULL,
	    0), -1);
	fail_logged(c, "rate-udp", "per_source_rate", "127.0.0.2");
	(void)close(a);
	(void)close(b);
}

/*
 * The 1-minute load average, made at least <min> first if it is lower:
 * busy children run until the kernel's next updates raise it (it moves
 * every 5 s), for at most 60 s.  Returns the load, or fails the test.
 */
static double
load_at_least(double min)
{
	pid_t		 kids[2];
	double		 load = 0;
	long long	 deadline = pg_now_ms() + 60000;
	size_t		 i;

	assert_int_equal(getloadavg(&load, 1), 1);
	if (load >= min)
		return load;
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		if ((kids[i] = fork()) == 0) {
			(void)alarm(61);
			for (;;)
				continue;
		}
		assert_true(kids[i] > 0);
	}
	while (getloadavg(&load, 1) == 1 && load < min &&
	    pg_now_ms() < deadline)
		pg_sleep_ms(200);
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		(void)kill(kids[i], SIGKILL);
		(void)waitpid(kids[i], NULL, 0);
	}
	assert_true(load >= min);
	return load;
}

/*
 * max_load: a service whose threshold is half the load now refuses with
 * reason "load"; one whose threshold is well above it admits.  The test
 * sets the thresholds from the load it reads (and raises the load first
 * on an idle machine), so both sides are tested on any machine.  The load
 * average falls by less than a tenth between two of the kernel's updates,
 * 5 s apart.
 */
static void
test_max_load(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 low[64], high[64];
	double		 load = load_at_least(0.1);
	int		 p = pg_fresh_port(), pn = pg_fresh_port();

	(void)snprintf(low, sizeof(low), "\tmax_load\t= %.3f\n", load / 2);
	(void)snprintf(high, sizeof(high), "\tmax_load\t= %.3f\n",
	    load * 4 + 1);
	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "load", p, low);
	conf_stream(&cf, "noload", pn, high);
	pg_conf_start(c, &cf, CONF);

	print_message("load %.3f: max_load %.3f refuses, %.3f admits\n", load,
	    load / 2, load * 4 + 1);
	expect_no("127.0.0.2", p, "the load is twice max_load");
	fail_logged(c, "load", "load", "127.0.0.2");
	expect_ok("127.0.0.2", pn, "the load is far below max_load");
}

/*
 * SENSOR with deny_time = 1: a client that touches the sensor (TCP or
 * UDP) is refused by every other service, other clients are not; with
 * deny_time = NEVER the contact is only logged.
 */
static void
test_sensor(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[64];
	int		 trap = pg_fresh_port(), trapu = pg_fresh_port();
	int		 trap0 = pg_fresh_port();
	int		 p = pg_fresh_port(), pu = pg_fresh_port(), fd;

	conf_begin(&cf, c, NULL);
	pg_conf_add(&cf, "\nservice trap\n{\n\ttype\t\t= UNLISTED\n"
	    "\tflags\t\t= SENSOR\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tdeny_time\t= 1\n}\n",
	    trap);
	pg_conf_add(&cf, "\nservice trap-udp\n{\n\ttype\t\t= UNLISTED\n"
	    "\tflags\t\t= SENSOR\n\tsocket_type\t= dgram\n\twait\t\t= yes\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tdeny_time\t= 1\n}\n",
	    trapu);
	pg_conf_add(&cf, "\nservice trap0\n{\n\ttype\t\t= UNLISTED\n"
	    "\tflags\t\t= SENSOR\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tdeny_time\t= NEVER\n}\n",
	    trap0);
	conf_stream(&cf, "guarded", p, NULL);
	conf_dgram(&cf, "guarded-udp", pu, NULL);
	pg_conf_start(c, &cf, CONF);

	expect_ok("127.0.0.5", p, "before the sensor");
	/* The sensor closes at once, sending nothing. */
	fd = dial("127.0.0.5", trap);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	fail_logged(c, "trap", "address", "127.0.0.5");
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "adding 127.0.0.5 to the "
	    "global deny list for 1 minutes", 1), 0);
	expect_no("127.0.0.5", p, "on the deny list");
	fail_logged(c, "guarded", "address", "127.0.0.5");
	expect_ok("127.0.0.6", p, "another address");

	/* A datagram to the UDP sensor lists its sender too. */
	fd = pg_udp_open("127.0.0.7", AF_INET);
	assert_true(fd >= 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", trapu, "hi", 2), 0);
	fail_logged(c, "trap-udp", "address", "127.0.0.7");
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", pu, "echo?", 5), 0);
	fail_logged(c, "guarded-udp", "address", "127.0.0.7");
	assert_int_equal(pg_udp_pending(fd, buf, sizeof(buf)), -1);
	(void)close(fd);
	expect_no("127.0.0.7", p, "listed by the UDP sensor");

	/* deny_time = NEVER: logged, not listed. */
	fd = dial("127.0.0.8", trap0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	fail_logged(c, "trap0", "address", "127.0.0.8");
	expect_ok("127.0.0.8", p, "deny_time NEVER");
}

/* Run --explain; checks the exit code and the whole standard output. */
static void
explain(struct pg_ctx *c, int code, const char *out, const char *svc,
    const char *addr, const char *when, const char *when2)
{
	struct pg_result	r;
	char			conf[PG_PATH_MAX];

	(void)pg_run(c, &r, "-f", pg_path(c, CONF, conf), "--explain", svc,
	    addr, when, when2, NULL);
	if (r.pr_code != code || (out != NULL && strcmp(r.pr_out, out) != 0))
		fail_msg("--explain %s %s %s %s: exit %d (expected %d)\n"
		    "out: %s(expected: %s)err: %s", svc, addr,
		    when != NULL ? when : "", when2 != NULL ? when2 : "",
		    r.pr_code, code, r.pr_out, out != NULL ? out : "any\n",
		    r.pr_err);
	pg_result_clear(&r);
}

/* Run --explain; checks the exit code and a pattern of standard output. */
static void
explain_re(struct pg_ctx *c, int code, const char *re, const char *svc,
    const char *addr, const char *when)
{
	struct pg_result	r;
	regex_t			rx;
	char			conf[PG_PATH_MAX];
	int			m;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	(void)pg_run(c, &r, "-f", pg_path(c, CONF, conf), "--explain", svc,
	    addr, when, NULL);
	m = regexec(&rx, r.pr_out, 0, NULL, 0) == 0;
	regfree(&rx);
	if (r.pr_code != code || !m)
		fail_msg("--explain %s %s %s: exit %d (expected %d)\nout: %s"
		    "(expected /%s/)\nerr: %s", svc, addr,
		    when != NULL ? when : "", r.pr_code, code, r.pr_out, re,
		    r.pr_err);
	pg_result_clear(&r);
}

/* --explain: verdicts, rules, [DAY] HH:MM, and usage errors (exit 2). */
static void
test_explain(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct pg_result r;
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 conf[PG_PATH_MAX], re[256], today[8];
	int		 weekday;

	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "ex-addr", pg_fresh_port(),
	    "\tonly_from\t= 127.0.0.0/24\n\tno_access\t= 127.0.0.3\n");
	pg_conf_add(&cf, "\nservice daytime\n{\n\tid\t\t= ex-time\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\taccess_times\t= Mon-Fri 09:00-17:00\n}\n", pg_fresh_port());
	conf_stream(&cf, "ex-zero", pg_fresh_port(), "\tinstances\t= 0\n");
	conf_stream(&cf, "ex-cps", pg_fresh_port(), "\tcps\t\t= 1 10\n"
	    "\tper_source\t= 1\n");
	conf_stream(&cf, "ex-empty", pg_fresh_port(), "\tonly_from\t=\n");
	conf_stream(&cf, "ex-tie", pg_fresh_port(), "\tonly_from\t= 127.0.0.2\n"
	    "\tno_access\t= 127.0.0.2/32\n");
	assert_false(cf.cf_overflow);
	assert_int_equal(pg_file_write(c, CONF, "%s", cf.cf_buf), 0);

	explain(c, 0, "service ex-addr, client 127.0.0.2, Sat 10:00: "
	    "admitted: only_from 127.0.0.0/24\n", "ex-addr", "127.0.0.2",
	    "Sat 10:00", NULL);
	explain(c, 1, "service ex-addr, client 127.0.0.3, Tue 23:59: "
	    "refused: no_access 127.0.0.3 (more specific than only_from "
	    "127.0.0.0/24)\n", "ex-addr", "127.0.0.3", "Tue", "23:59");
	explain(c, 1, "service ex-addr, client ::ffff:127.0.0.3, Tue 23:59: "
	    "refused: no_access 127.0.0.3 (more specific than only_from "
	    "127.0.0.0/24)\n", "ex-addr", "::ffff:127.0.0.3", "Tue 23:59",
	    NULL);
	explain(c, 1, "service ex-addr, client 10.0.0.1, Sun 00:00: refused: "
	    "only_from: no rule matches\n", "ex-addr", "10.0.0.1", "sun",
	    "0:00");
	explain(c, 1, "service ex-addr, client ::1, Sun 00:00: refused: "
	    "only_from: no rule matches\n", "ex-addr", "::1", "Sun 00:00",
	    NULL);

	/* access_times with days, and the service found by its name. */
	explain(c, 1, "service ex-time, client 127.0.0.2, Sat 10:00: refused: "
	    "access_times: outside every window\n", "ex-time", "127.0.0.2",
	    "Sat", "10:00");
	explain(c, 0, "service ex-time, client 127.0.0.2, Wed 17:00: "
	    "admitted: access_times Mon-Fri 09:00-17:00\n", "daytime",
	    "127.0.0.2",
	    "Wed 17:00", NULL);
	explain(c, 1, "service ex-time, client 127.0.0.2, Wed 17:01: refused: "
	    "access_times: outside every window\n", "ex-time", "127.0.0.2",
	    "Wed 17:01", NULL);
	explain(c, 1, "service ex-time, client 127.0.0.2, Mon 08:59: refused: "
	    "access_times: outside every window\n", "ex-time", "127.0.0.2",
	    "Monday", "08:59");
	/* Without a day: today. */
	assert_non_null(localtime_r(&now, &tm));
	weekday = tm.tm_wday >= 1 && tm.tm_wday <= 5;
	(void)strftime(today, sizeof(today), "%a", &tm);
	(void)snprintf(re, sizeof(re), "^service ex-time, client 127\\.0\\.0"
	    "\\.2, %s 12:00: %s\n$", today, weekday ?
	    "admitted: access_times Mon-Fri 09:00-17:00" :
	    "refused: access_times: outside every window");
	explain_re(c, weekday ? 0 : 1, re, "ex-time", "127.0.0.2", "12:00");
	/* Without a time: now. */
	explain_re(c, 0, "^service ex-addr, client 127\\.0\\.0\\.9, "
	    "(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [0-2][0-9]:[0-5][0-9]: admitted: "
	    "only_from 127\\.0\\.0\\.0/24\n$", "ex-addr", "127.0.0.9", NULL);

	/* Counts start empty: rates show only how they are set. */
	explain(c, 1, "service ex-zero, client 127.0.0.2, Sat 10:00: refused: "
	    "instances 0: 0 running\n", "ex-zero", "127.0.0.2", "Sat 10:00",
	    NULL);
	explain(c, 0, "service ex-cps, client 127.0.0.2, Sat 10:00: admitted: "
	    "no rule refuses\n", "ex-cps", "127.0.0.2", "Sat 10:00", NULL);
	explain(c, 1, "service ex-empty, client 127.0.0.1, Sat 10:00: "
	    "refused: only_from: no rule matches\n", "ex-empty", "127.0.0.1",
	    "Sat 10:00", NULL);
	explain(c, 1, "service ex-tie, client 127.0.0.2, Sat 10:00: refused: "
	    "no_access 127.0.0.2/32 (as specific as only_from 127.0.0.2)\n",
	    "ex-tie", "127.0.0.2", "Sat 10:00", NULL);

	/* Usage errors: exit 2, a message, nothing on standard output. */
	explain(c, 2, "", "nosuch", "127.0.0.2", NULL, NULL);
	explain(c, 2, "", "ex-addr", "localhost", NULL, NULL);
	explain(c, 2, "", "ex-addr", "127.0.0.2", "25:00", NULL);
	explain(c, 2, "", "ex-addr", "127.0.0.2", "Xyz", "10:00");
	explain(c, 2, "", "ex-addr", "127.0.0.2", "10:60", NULL);
	(void)pg_run(c, &r, "-f", pg_path(c, CONF, conf), "--explain",
	    "nosuch", "127.0.0.2", NULL);
	assert_non_null(strstr(r.pr_err, "no enabled service nosuch"));
	pg_result_clear(&r);
	(void)pg_run(c, &r, "-f", pg_path(c, CONF, conf), "--explain",
	    "ex-addr", "127.0.0.2", "25:00", NULL);
	assert_non_null(strstr(r.pr_err, "25:00"));
	pg_result_clear(&r);
	(void)pg_run(c, &r, "-f", pg_path(c, CONF, conf), "--explain",
	    "ex-addr", NULL);
	assert_int_equal(r.pr_code, 2);
	pg_result_clear(&r);
}

/* --explain with the country of the test database. */
static void
test_explain_country(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 db[PG_PATH_MAX], extra[PG_PATH_MAX + 256];

	make_mmdb(c, db);
	(void)snprintf(extra, sizeof(extra), "\tgeoip_db\t= %s\n", db);
	conf_begin(&cf, c, extra);
	conf_stream(&cf, "ex-c", pg_fresh_port(),
	    "\tonly_from_country\t= FR --\n");
	assert_false(cf.cf_overflow);
	assert_int_equal(pg_file_write(c, CONF, "%s", cf.cf_buf), 0);

	explain(c, 1, "service ex-c, client 127.0.0.3 country DE, Fri 08:00: "
	    "refused: only_from_country: DE is not listed\n", "ex-c",
	    "127.0.0.3", "Fri 08:00", NULL);
	explain(c, 0, "service ex-c, client 127.0.0.2 country FR, Fri 08:00: "
	    "admitted: no rule refuses\n", "ex-c", "127.0.0.2", "Fri 08:00",
	    NULL);
	explain(c, 0, "service ex-c, client 127.0.1.1 country --, Fri 08:00: "
	    "admitted: no rule refuses\n", "ex-c", "127.0.1.1", "Fri 08:00",
	    NULL);
	explain(c, 1, "service ex-c, client 127.0.0.4 country US, Fri 08:00: "
	    "refused: only_from_country: US is not listed\n", "ex-c",
	    "127.0.0.4", "Fri 08:00", NULL);
}

/* The flood: <FLOOD_COUNT> refused clients; the number of surprises. */
static int
flood(int p)
{
	char	buf[16];
	int	i, fd, bad = 0;
	ssize_t	n;

	for (i = 0; i < FLOOD_COUNT; i++) {
		if ((fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", p)) == -1) {
			bad++;
			continue;
		}
		n = pg_recv_eof(fd, buf, sizeof(buf));
		if (n != BANNER_LEN || memcmp(buf, NO_BANNER, BANNER_LEN) != 0)
			bad++;
		(void)close(fd);
	}
	return bad;
}

/*
 * 2000 refused connections from 127.0.0.2 while 127.0.0.3 keeps being
 * served: every admitted session works, every refusal is logged.
 */
static void
test_flood(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	unsigned char	 out[512], in[512];
	long long	 deadline;
	pid_t		 pid;
	size_t		 i;
	int		 p = pg_fresh_port(), st = 0, served = 0, fd, done = 0;

	conf_begin(&cf, c, NULL);
	conf_stream(&cf, "flood", p, "\tno_access\t= 127.0.0.2\n");
	pg_conf_start(c, &cf, CONF);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		st = flood(p);
		_exit(st > 255 ? 255 : st);
	}
	helper_add(pid);
	deadline = pg_now_ms() + FLOOD_MS;
	while (!done) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			helper_forget(pid);
			done = 1;
		}
		if (pg_now_ms() > deadline)
			fail_msg("the flood did not end in %d ms", FLOOD_MS);
		for (i = 0; i < sizeof(out); i++)
			out[i] = (unsigned char)(served + i);
		fd = dial("127.0.0.3", p);
		if (!verdict_of(fd, "127.0.0.3", p))
			fail_msg("127.0.0.3 refused during the flood "
			    "(after %d sessions)", served);
		if (pg_tcp_exchange(fd, out, sizeof(out), in, sizeof(in)) !=
		    (ssize_t)sizeof(out) || memcmp(in, out, sizeof(out)) != 0)
			fail_msg("session %d of 127.0.0.3 failed during the "
			    "flood", served + 1);
		(void)close(fd);
		served++;
	}
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("%d flood connections were not refused with "
		    "banner_fail and EOF", WEXITSTATUS(st));
	pg_log_wait(c, FLOOD_COUNT, "FAIL: flood address from=127.0.0.2\n");
	assert_int_equal(pg_log_count(c, "START: flood from=127.0.0.2\n"), 0);
	pg_log_wait(c, served, "START: flood from=127.0.0.3\n");
	print_message("flood: %d refused, %d served alongside\n",
	    FLOOD_COUNT, served);
}

/*
 * Write <len> bytes of <buf> over <path> in place (same inode, from offset
 * 0, no truncation), as cp(1) over an existing file or a careless script
 * does.
 */
static void
overwrite_in_place(const char *path, const void *buf, size_t len)
{
	int	fd;

	assert_int_not_equal(fd = open(path, O_WRONLY | O_CLOEXEC), -1);
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Send SIGHUP; wait until the reload is done and <needle> logged once more. */
static void
reload_logs(struct pg_ctx *c, const char *needle)
{
	int	n = pg_file_count(c, PG_ERRLOG, needle);

	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	if (pg_file_wait(c, PG_ERRLOG, needle, n + 1) == -1)
		fail_msg("no new \"%s\" after SIGHUP", needle);
}

/*
 * The GeoIP database is a private copy (THREATS.md rule 6): truncating the
 * file under the daemon, or overwriting it in place with garbage, leaves
 * the daemon alive and deciding with the database it loaded (a mapped file
 * died of SIGBUS at the next look-up); a reload with the broken file logs
 * it and keeps the copy; a good file written in place is taken on reload.
 */
static void
test_country_db_rewritten(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct stat	 sb;
	char		 db[PG_PATH_MAX], extra[PG_PATH_MAX + 256];
	char		 reloaded[PG_PATH_MAX + 32], *good, *junk;
	size_t		 len, i;
	int		 fd, n, p = pg_fresh_port();

	make_mmdb(c, db);
	assert_int_equal(stat(db, &sb), 0);
	len = (size_t)sb.st_size;
	assert_true(len > 0);
	assert_non_null(good = malloc(len));
	assert_non_null(junk = malloc(len));
	assert_int_not_equal(fd = open(db, O_RDONLY | O_CLOEXEC), -1);
	assert_int_equal(read(fd, good, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	for (i = 0; i < len; i++)
		junk[i] = (char)(i * 13 + 5);
	(void)snprintf(reloaded, sizeof(reloaded), "geoip_db %s reloaded", db);

	(void)snprintf(extra, sizeof(extra), "\tgeoip_db\t= %s\n", db);
	conf_begin(&cf, c, extra);
	conf_stream(&cf, "c-copy", p, "\tonly_from_country\t= FR\n");
	pg_conf_start(c, &cf, CONF);
	expect_ok("127.0.0.2", p, "FR");
	expect_no("127.0.0.3", p, "DE");

	/* Truncated under the daemon. */
	assert_int_equal(truncate(db, 0), 0);
	expect_ok("127.0.0.2", p, "FR, from the loaded copy");
	expect_no("127.0.0.3", p, "DE, from the loaded copy");
	reload_logs(c, "empty file; keeping the database already loaded");
	expect_ok("127.0.0.2", p, "FR after a reload with an empty file");
	expect_no("127.0.0.4", p, "US after a reload with an empty file");

	/* The good database written back in place: reloaded. */
	overwrite_in_place(db, good, len);
	reload_logs(c, reloaded);
	expect_ok("127.0.0.2", p, "FR from the database written back");
	expect_no("127.0.0.3", p, "DE from the database written back");

	/* Garbage of the same size over it, in place. */
	n = pg_file_count(c, PG_ERRLOG, reloaded);
	overwrite_in_place(db, junk, len);
	expect_ok("127.0.0.2", p, "FR, after garbage in place");
	expect_no("127.0.0.3", p, "DE, after garbage in place");
	reload_logs(c, "not a valid MaxMind DB: ");
	assert_int_equal(pg_file_count(c, PG_ERRLOG, reloaded), n);
	expect_ok("127.0.0.2", p, "FR after a reload with garbage");
	expect_no("127.0.0.3", p, "DE after a reload with garbage");
	free(good);
	free(junk);
}

/*
 * The next query to the resolver socket <fd>, within the deadline: its
 * length, with its name in <name> and its type in <*qtype>.
 */
static size_t
dns_take(int fd, unsigned char *q, size_t cap, char *name, size_t namecap,
    unsigned *qtype, struct sockaddr_storage *from, socklen_t *fromlen)
{
	size_t	i = 12, n = 0;
	ssize_t	len;

	if (pg_poll(fd, POLLIN, PG_TIMEOUT_MS) != 1)
		fail_msg("portgate asked the resolver nothing");
	*fromlen = sizeof(*from);
	len = recvfrom(fd, q, cap, 0, (struct sockaddr *)from, fromlen);
	assert_true(len > 12);
	while (i < (size_t)len && q[i] != 0) {
		assert_true(i + 1 + q[i] < (size_t)len &&
		    n + q[i] + 2 < namecap);
		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, q + i + 1, q[i]);
		n += q[i];
		i += 1 + q[i];
	}
	name[n] = '\0';
	assert_true(i + 5 <= (size_t)len);
	*qtype = (unsigned)q[i + 1] << 8 | q[i + 2];
	return i + 5;
}

/*
 * Answer the query <q> (<qlen> bytes, up to the end of its question) with
 * one record of <type> holding <rdata>.
 */
static void
dns_give(int fd, const unsigned char *q, size_t qlen, unsigned type,
    const void *rdata, size_t rdlen, const struct sockaddr_storage *to,
    socklen_t tolen)
{
	unsigned char	a[512];
	size_t		n = qlen;

	assert_true(qlen + 12 + rdlen <= sizeof(a));
	memcpy(a, q, qlen);
	a[2] = (unsigned char)(0x84 | (q[2] & 0x01));	/* QR AA, RD */
	a[3] = 0x80;					/* RA, NOERROR */
	a[6] = 0;
	a[7] = 1;
	a[8] = a[9] = a[10] = a[11] = 0;
	a[n++] = 0xc0;
	a[n++] = 0x0c;
	a[n++] = 0;
	a[n++] = (unsigned char)type;
	a[n++] = 0;
	a[n++] = 1;
	a[n++] = 0;
	a[n++] = 0;
	a[n++] = 0;
	a[n++] = 60;
	a[n++] = (unsigned char)(rdlen >> 8);
	a[n++] = (unsigned char)rdlen;
	memcpy(a + n, rdata, rdlen);
	n += rdlen;
	assert_int_equal(sendto(fd, a, n, 0, (const struct sockaddr *)to,
	    tolen), (ssize_t)n);
}

/*
 * .domain rules for an IPv6 client: the PTR of ::1 (ip6.arpa) names
 * v6.example.test, whose AAAA record confirms it, and the client is
 * admitted.  Then a client whose PTR query goes unanswered is still
 * waiting when the daemon stops: it is dropped without a verdict, and
 * the daemon exits at once, cleanly.
 */
static void
test_domain_ipv6_and_pending(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct sockaddr_storage	 from;
	struct sockaddr_in	 sin;
	socklen_t		 fromlen, len = sizeof(sin);
	unsigned char		 q[512], rd[64];
	struct in6_addr		 a6;
	char			 name[256], rc[PG_PATH_MAX], buf[64];
	size_t			 qlen, rdlen = 0;
	unsigned		 qtype;
	int			 dfd, fd, p6 = pg_fresh_port(), p4 = pg_fresh_port();

	if (!pg_have_ipv6())
		TEST_SKIP();
	dfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(dfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(dfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(dfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(pg_file_write(c, "resolv.conf", "nameserver "
	    "127.0.0.1:%d\noptions timeout:30 attempts:1\n",
	    ntohs(sin.sin_port)), 0);
	assert_int_equal(setenv("PORTGATE_RESOLV_CONF",
	    pg_path(c, "resolv.conf", rc), 1), 0);
	conf_begin(&cf, c, NULL);
	pg_conf_add(&cf, "\nservice echo\n{\n\tid\t\t= dom6\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= ::1\n\tport\t\t= %d\n"
	    "\tonly_from\t= .example.test\n}\n", p6);
	conf_stream(&cf, "dom4", p4, "\tonly_from\t= .example.test\n");
	pg_conf_start(c, &cf, CONF);
	(void)unsetenv("PORTGATE_RESOLV_CONF");

	fd = pg_tcp_connect("::1", "::1", p6);
	assert_true(fd >= 0);
	qlen = dns_take(dfd, q, sizeof(q), name, sizeof(name), &qtype, &from,
	    &fromlen);
	assert_int_equal(qtype, 12);
	/* evdns mixes the case of names (0x20 bits): compare without it. */
	assert_int_equal(strcasecmp(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"), 0);
	assert_int_equal(dns_put_name(rd, sizeof(rd), &rdlen,
	    "v6.example.test"), 0);
	dns_give(dfd, q, qlen, 12, rd, rdlen, &from, fromlen);
	qlen = dns_take(dfd, q, sizeof(q), name, sizeof(name), &qtype, &from,
	    &fromlen);
	assert_int_equal(qtype, 28);
	assert_int_equal(strcasecmp(name, "v6.example.test"), 0);
	assert_int_equal(inet_pton(AF_INET6, "::1", &a6), 1);
	dns_give(dfd, q, qlen, 28, &a6, sizeof(a6), &from, fromlen);
	if (!verdict_of(fd, "::1", p6))
		fail_msg("::1 named v6.example.test and confirmed: refused");
	(void)close(fd);
	pg_log_wait(c, 1, "START: dom6 from=::1\n");

	/* A client whose name never comes, when the daemon stops. */
	fd = dial("127.0.0.2", p4);
	(void)dns_take(dfd, q, sizeof(q), name, sizeof(name), &qtype, &from,
	    &fromlen);
	assert_int_equal(qtype, 12);
	assert_int_equal(strcasecmp(name, "2.0.0.127.in-addr.arpa"), 0);
	assert_int_equal(pg_signal(c, SIGTERM), 0);
	assert_int_equal(pg_exit_code(pg_wait_exit(c, PG_TIMEOUT_MS)), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	assert_int_equal(pg_log_count(c, "dom4"), 0);
	(void)close(fd);
	(void)close(dfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_address_rules, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_udp_refused, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_banners, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fail_fields, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_access_times_local,
		    pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_tz, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_country, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_country_lower_case,
		    pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_domain_with_country,
		    pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_cps, pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_instances, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_source, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_source_cps, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_max_load, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sensor, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain_country, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flood, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_country_db_rewritten,
		    pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_ipv6_and_pending,
		    pg_setup, teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
