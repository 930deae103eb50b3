/*
 * End-to-end attacks on the UDP built-ins (THREATS.md rules 1 and 3).
 * Forged datagrams, written through a raw socket (root only; skipped
 * otherwise), claim to come from another built-in of the same daemon, or
 * from the service itself: one of them used to set two services
 * answering each other for ever.  A burst from one source gets only the
 * per-source rate's worth of replies.  A flood of refused datagrams from
 * many ports and addresses writes a bounded number of FAIL records and a
 * summary line that counts the rest.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

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

#include "failrate.h"
#include "harness.h"
#include "quota.h"

#define CONF		"udp.conf"
/* The access log may hold this many lines after a forged datagram. */
#define LOOP_LINES	20
/* How long the daemon is watched after it, and the CPU it may use. */
#define LOOP_WATCH_MS	1000
#define LOOP_CPU_MS	150
/* A burst from one source, well above QUOTA_DGRAM_BURST. */
#define BURST_COUNT	60
/* Datagrams sent before each check that the daemon has read them all. */
#define FLOOD_BATCH	50
#define FLOOD_PORTS	100	/* ports of each address */
#define FLOOD_ADDRS	4	/* 127.0.0.2 ... */
#define FLOOD_MANY	150	/* addresses 127.0.1.1 ... */
/* The address the refused service admits, to tell when it caught up. */
#define SYNC_ADDR	"127.0.0.250"
/* What the summary line of failrate.c says before its count. */
#define SUMMARY		"refused datagrams: "

/* The services of the loop tests. */
struct loop_conf {
	int	lc_echo;	/* id echo-udp */
	int	lc_chargen;	/* id chargen-udp */
	int	lc_echo2;	/* id echo2-udp */
};

/*
 * A dgram built-in <name> with <id> on 127.0.0.1 <port>, lines <extra>;
 * without the default cps (50 a second), which would shut the whole
 * service during a flood.
 */
static void
conf_dgram(struct pg_conf *cf, const char *name, const char *id, int port,
    const char *extra)
{
	pg_conf_add(cf, "\nservice %s\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= dgram\n"
	    "\twait\t\t= yes\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tcps\t\t= 0 1\n%s}\n", name, id, port,
	    extra != NULL ? extra : "");
}

/* Start echo-udp, chargen-udp and echo2-udp on fresh ports. */
static void
loop_start(struct pg_ctx *c, struct loop_conf *lc)
{
	struct pg_conf	cf;

	lc->lc_echo = pg_fresh_port();
	lc->lc_chargen = pg_fresh_port();
	lc->lc_echo2 = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_dgram(&cf, "echo", "echo-udp", lc->lc_echo, NULL);
	conf_dgram(&cf, "chargen", "chargen-udp", lc->lc_chargen, NULL);
	conf_dgram(&cf, "echo", "echo2-udp", lc->lc_echo2, NULL);
	pg_conf_start(c, &cf, CONF);
}

/* The Internet checksum of <len> bytes, folded into <sum>. */
static uint32_t
cksum_add(uint32_t sum, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * A raw IPv4 socket that writes its own headers, or skip the test: only
 * root (CAP_NET_RAW) may forge a source.
 */
static int
raw_open(void)
{
	int	fd;

	if (geteuid() != 0)
		TEST_SKIP();
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) == -1) {
		assert_true(errno == EPERM || errno == EACCES);
		TEST_SKIP();
	}
	return fd;
}

/* Send <msg> from <src>:<sport> to <dst>:<dport> through raw socket <fd>. */
static void
forge(int fd, const char *src, int sport, const char *dst, int dport,
    const char *msg)
{
	unsigned char		 pkt[sizeof(struct ip) + sizeof(struct udphdr) +
				     64];
	struct ip		 ip;
	struct udphdr		 uh;
	struct sockaddr_in	 to;
	size_t			 len = strlen(msg);
	uint16_t		 ulen = (uint16_t)(sizeof(uh) + len);
	uint32_t		 sum;
	unsigned char		 pseudo[4];

	assert_true(len <= 64);
	memset(&ip, 0, sizeof(ip));
	ip.ip_v = 4;
	ip.ip_hl = sizeof(ip) / 4;
	ip.ip_len = htons((uint16_t)(sizeof(ip) + ulen));
	ip.ip_ttl = 64;
	ip.ip_p = IPPROTO_UDP;
	assert_int_equal(inet_pton(AF_INET, src, &ip.ip_src), 1);
	assert_int_equal(inet_pton(AF_INET, dst, &ip.ip_dst), 1);
	memset(&uh, 0, sizeof(uh));
	uh.uh_sport = htons((uint16_t)sport);
	uh.uh_dport = htons((uint16_t)dport);
	uh.uh_ulen = htons(ulen);
	/* The checksum over the pseudo-header, the header and the data. */
	sum = cksum_add(0, &ip.ip_src, 4);
	sum = cksum_add(sum, &ip.ip_dst, 4);
	pseudo[0] = 0;
	pseudo[1] = IPPROTO_UDP;
	pseudo[2] = (unsigned char)(ulen >> 8);
	pseudo[3] = (unsigned char)ulen;
	sum = cksum_add(sum, pseudo, 4);
	sum = cksum_add(sum, &uh, sizeof(uh));
	sum = cksum_add(sum, msg, len);
	uh.uh_sum = htons(cksum_fold(sum));
	if (uh.uh_sum == 0)
		uh.uh_sum = 0xffff;
	memcpy(pkt, &ip, sizeof(ip));
	memcpy(pkt + sizeof(ip), &uh, sizeof(uh));
	memcpy(pkt + sizeof(ip) + sizeof(uh), msg, len);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = ip.ip_dst;
	assert_int_equal(sendto(fd, pkt, sizeof(ip) + ulen, 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)(sizeof(ip) + ulen));
}

/* CPU time the daemon of <c> has used, in milliseconds. */
static long
daemon_cpu_ms(const struct pg_ctx *c)
{
	const char	*f;
	char		 buf[1024];
	unsigned long	 ut, st;
	long		 hz = sysconf(_SC_CLK_TCK);

	/* Fields 14 and 15, counted after the ")" that ends field 2. */
	assert_non_null(f = pg_proc_stat(c->pc_pid, buf, sizeof(buf)));
	assert_true(hz > 0);
	assert_int_equal(sscanf(f, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &st), 2);
	return (long)((ut + st) * 1000 / (unsigned long)hz);
}

/*
 * Send <msg> from <fd> to the echo on <port> and wait for it to come
 * back: the daemon has then read what was sent to that port before.
 */
static void
echo_sync(int fd, int port, const char *msg)
{
	char	buf[64];

	assert_int_equal(pg_udp_send(fd, "127.0.0.1", port, msg, strlen(msg)),
	    0);
	assert_int_equal(pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0), (ssize_t)strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
}

/*
 * One forged datagram from 127.0.0.1 <sport> (a port of one of our
 * services) to 127.0.0.1 <dport>, served as <id>.  It must be refused
 * once, with a FAIL record, and not start two services answering each
 * other: the access log stays short and the daemon idle over a second.
 */
static void
loop_attack(struct pg_ctx *c, int sport, int dport, const char *id,
    int echo_port)
{
	long long	 deadline;
	long		 cpu0, cpu1;
	char		 buf[1024];
	int		 raw = raw_open(), fd, lines;

	assert_true((fd = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	forge(raw, "127.0.0.1", sport, "127.0.0.1", dport, "loop?");
	/*
	 * The daemon reads a socket in order: once an ordinary client is
	 * answered, the forged datagram has been handled.
	 */
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", dport, "sync", 4), 0);
	assert_true(pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0) > 0);

	/* Watch for a second, or until the log or the CPU time runs away. */
	cpu0 = daemon_cpu_ms(c);
	deadline = pg_now_ms() + LOOP_WATCH_MS;
	while ((lines = pg_file_count_re(c, PG_ACCESS_LOG, ".")) <
	    LOOP_LINES && (cpu1 = daemon_cpu_ms(c)) - cpu0 < LOOP_CPU_MS &&
	    pg_left(deadline) > 0)
		pg_sleep_ms(20);
	cpu1 = daemon_cpu_ms(c);
	print_message("access log: %d lines; daemon CPU over %d ms: %ld ms\n",
	    lines, LOOP_WATCH_MS - pg_left(deadline), cpu1 - cpu0);
	assert_true(lines < LOOP_LINES);
	assert_true(cpu1 - cpu0 < LOOP_CPU_MS);
	assert_int_equal(pg_log_count(c, "FAIL: %s address from=127.0.0.1\n",
	    id), 1);
	assert_int_equal(pg_log_count(c, "START: %s from=127.0.0.1\n", id), 0);
	/* An ordinary client is still answered. */
	echo_sync(fd, echo_port, "after");
	(void)close(raw);
	(void)close(fd);
	pg_stop_ok(c);
}

/* Echo to itself: source and destination are its own socket. */
static void
test_loop_echo_self(void **state)
{
	struct pg_ctx		*c = *state;
	struct loop_conf	 lc;

	loop_start(c, &lc);
	loop_attack(c, lc.lc_echo, lc.lc_echo, "echo-udp", lc.lc_echo);
}

/* Chargen answering echo, which would answer chargen ... */
static void
test_loop_chargen_echo(void **state)
{
	struct pg_ctx		*c = *state;
	struct loop_conf	 lc;

	loop_start(c, &lc);
	loop_attack(c, lc.lc_echo, lc.lc_chargen, "chargen-udp", lc.lc_echo);
}

/* One echo answering another. */
static void
test_loop_echo_echo(void **state)
{
	struct pg_ctx		*c = *state;
	struct loop_conf	 lc;

	loop_start(c, &lc);
	loop_attack(c, lc.lc_echo2, lc.lc_echo, "echo-udp", lc.lc_echo);
}

/* An ordinary client gets its echo, from the address it asked. */
static void
test_echo_client(void **state)
{
	struct pg_ctx		*c = *state;
	struct loop_conf	 lc;
	char			 buf[64], from[64];
	int			 fd;

	loop_start(c, &lc);
	assert_true((fd = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", lc.lc_echo, "hello", 5),
	    0);
	assert_int_equal(pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS, from,
	    sizeof(from)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_string_equal(from, "127.0.0.1");
	pg_log_wait(c, 1, "START: echo-udp from=127.0.0.2\n");
	(void)close(fd);
	pg_stop_ok(c);
}

/*
 * BURST_COUNT datagrams at once from one source get the default bucket's
 * burst (QUOTA_DGRAM_BURST) and what it refills while they are read
 * (QUOTA_DGRAM_RATE a second), no more; the rest is refused with one
 * FAIL record.  Another source is not affected.
 */
static void
test_burst_rate(void **state)
{
	struct pg_ctx		*c = *state;
	struct loop_conf	 lc;
	long long		 t0, ms;
	char			 buf[64];
	int			 fd, other, i, replies = 0;

	loop_start(c, &lc);
	assert_true((fd = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	assert_true((other = pg_udp_open("127.0.0.3", AF_INET)) >= 0);
	t0 = pg_now_ms();
	for (i = 0; i < BURST_COUNT; i++)
		assert_int_equal(pg_udp_send(fd, "127.0.0.1", lc.lc_echo, "b",
		    1), 0);
	echo_sync(other, lc.lc_echo, "other source");
	ms = pg_now_ms() - t0;
	while (pg_udp_pending(fd, buf, sizeof(buf)) == 1)
		replies++;
	print_message("%d replies to %d datagrams in %lld ms\n", replies,
	    BURST_COUNT, ms);
	assert_true(replies >= QUOTA_DGRAM_BURST);
	assert_true(replies <= QUOTA_DGRAM_BURST + QUOTA_DGRAM_RATE * ms /
	    1000 + 1);
	pg_log_wait(c, 1, "FAIL: echo-udp per_source_rate from=127.0.0.2\n");
	assert_int_equal(pg_log_count(c, "FAIL: echo-udp per_source_rate "
	    "from=127.0.0.2\n"), 1);
	assert_int_equal(pg_log_count(c, "START: echo-udp from=127.0.0.2\n"),
	    replies);
	(void)close(fd);
	(void)close(other);
	pg_stop_ok(c);
}

/*
 * Start the service "shut": an echo that refuses every address but
 * SYNC_ADDR, with a rate high enough for the syncs.  Returns its port.
 */
static int
shut_start(struct pg_ctx *c)
{
	struct pg_conf	cf;
	int		port = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	/* The rate of FAIL records is each worker's. */
	pg_conf_workers(&cf, 1);
	conf_dgram(&cf, "echo", "shut", port, "\tonly_from\t= " SYNC_ADDR
	    "\n\tper_source_cps\t= 100000 100000\n");
	pg_conf_start(c, &cf, CONF);
	return port;
}

/* One datagram from a new socket (so a new port) on <src> to <port>. */
static void
send_from(const char *src, int port)
{
	int	fd;

	assert_true((fd = pg_udp_open(src, AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", port, "x", 1), 0);
	(void)close(fd);
}

/* The FAIL records left out, as the summary lines of the daemon say. */
static long
summary_count(const struct pg_ctx *c)
{
	char		*log, *p;
	long		 n = 0;
	unsigned long	 v;

	if ((log = pg_file_read(c, PG_ERRLOG)) == NULL)
		return 0;
	for (p = log; (p = strstr(p, SUMMARY)) != NULL; p++)
		if (sscanf(p + strlen(SUMMARY), "%lu FAIL records not written",
		    &v) == 1)
			n += (long)v;
	free(log);
	return n;
}

/*
 * Wait until the summary lines count <want> records left out; they come
 * FAILRATE_SUMMARY_SECS after the first one.
 */
static void
summary_wait(const struct pg_ctx *c, long want)
{
	long long	deadline;
	long		n;

	deadline = pg_now_ms() + FAILRATE_SUMMARY_SECS * 1000 + PG_TIMEOUT_MS;
	while ((n = summary_count(c)) < want && pg_left(deadline) > 0)
		pg_sleep_ms(50);
	print_message("summary: %ld FAIL records not written\n", n);
	assert_int_equal(n, want);
}

/*
 * FLOOD_ADDRS addresses send FLOOD_PORTS datagrams each, every one from
 * another port, to a service that refuses them: one FAIL record per
 * address, and the summary counts all the others.
 */
static void
test_flood_ports(void **state)
{
	struct pg_ctx	*c = *state;
	char		 src[32];
	int		 port = shut_start(c), sync, a, i;

	assert_true((sync = pg_udp_open(SYNC_ADDR, AF_INET)) >= 0);
	for (a = 0; a < FLOOD_ADDRS; a++) {
		(void)snprintf(src, sizeof(src), "127.0.0.%d", 2 + a);
		for (i = 0; i < FLOOD_PORTS; i++) {
			send_from(src, port);
			if ((i + 1) % FLOOD_BATCH == 0)
				echo_sync(sync, port, "sync");
		}
	}
	for (a = 0; a < FLOOD_ADDRS; a++)
		assert_int_equal(pg_log_count(c, "FAIL: shut address "
		    "from=127.0.0.%d\n", 2 + a), 1);
	assert_int_equal(pg_log_count(c, "FAIL: "), FLOOD_ADDRS);
	summary_wait(c, FLOOD_ADDRS * FLOOD_PORTS - FLOOD_ADDRS);
	(void)close(sync);
	pg_stop_ok(c);
}

/*
 * FLOOD_MANY addresses send one datagram each: at most FAILRATE_BURST
 * records and FAILRATE_RATE a second after them, across the daemon; the
 * summary counts the rest.
 */
static void
test_flood_addresses(void **state)
{
	struct pg_ctx	*c = *state;
	long long	 t0, ms;
	char		 src[32];
	int		 port = shut_start(c), sync, i, fails;

	assert_true((sync = pg_udp_open(SYNC_ADDR, AF_INET)) >= 0);
	t0 = pg_now_ms();
	for (i = 0; i < FLOOD_MANY; i++) {
		(void)snprintf(src, sizeof(src), "127.0.1.%d", 1 + i);
		send_from(src, port);
		if ((i + 1) % FLOOD_BATCH == 0)
			echo_sync(sync, port, "sync");
	}
	ms = pg_now_ms() - t0;
	fails = pg_log_count(c, "FAIL: shut address from=127.0.1.");
	print_message("%d FAIL records for %d addresses in %lld ms\n", fails,
	    FLOOD_MANY, ms);
	assert_true(fails >= FAILRATE_BURST);
	assert_true(fails <= FAILRATE_BURST + FAILRATE_RATE * ms / 1000 + 1);
	summary_wait(c, FLOOD_MANY - fails);
	(void)close(sync);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loop_echo_self,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_loop_chargen_echo,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_loop_echo_echo,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_echo_client,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_burst_rate,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_flood_ports,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_flood_addresses,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
