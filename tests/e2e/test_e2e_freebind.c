/*
 * End-to-end tests of freebind: a service bound to an address this machine
 * does not hold yet (the virtual address a standby gate of a keepalived
 * pair will get) listens at start-up, says so in the log, and serves once
 * the address arrives, without a restart or a reload.  Without freebind
 * such an address leaves the service out, as a typo should.
 *
 * Each case runs in a network namespace of its own that has only lo
 * (unshare(CLONE_NEWNET) in the fixture), where the test adds the address
 * with ip(8); the daemon, started by the test, shares it.  Making a
 * namespace needs root: elsewhere the program is skipped (exit 77).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
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
/* Documentation addresses (RFC 5737, RFC 3849): on no interface here. */
#define VIP4		"192.0.2.10"
#define VIP6		"2001:db8::10"

/* Run ip(8) with the formatted arguments in the test's namespace. */
static void
ip_cmd(const char *fmt, ...)
{
	char	cmd[256];
	va_list	ap;
	int	n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("'%s' failed (status %d)", cmd, st);
}

/* A fresh network namespace with lo up, then the usual directory. */
static int
ns_setup(void **state)
{
	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	if (system("ip link set lo up") != 0)
		return -1;
	return pg_setup(state);
}

/* An echo service on <addr> port <port>, stream and dgram, <freebind>. */
static void
conf_echo(struct pg_conf *cf, const char *id, const char *addr, int port,
    const char *freebind)
{
	static const char *const	types[] = { "stream", "dgram" };
	size_t				i;

	for (i = 0; i < 2; i++) {
		pg_conf_add(cf, "service echo\n{\n\tid\t\t= %s-%s\n"
		    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= %s\n"
		    "\twait\t\t= %s\n\tport\t\t= %d\n\tbind\t\t= %s\n",
		    id, types[i], types[i], i == 0 ? "no" : "yes", port, addr);
		if (freebind != NULL)
			pg_conf_add(cf, "\tfreebind\t= %s\n", freebind);
		pg_conf_add(cf, "}\n");
	}
}

/* A stream echo exchange with <addr> port <port> gives back "ping". */
static void
echo_ok(const char *addr, int port)
{
	char	buf[16];
	int	fd;

	if ((fd = pg_tcp_connect(NULL, addr, port)) == -1)
		fail_msg("connect to %s port %d: %s", addr, port,
		    strerror(errno));
	assert_int_equal(pg_tcp_exchange(fd, "ping", 4, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	(void)close(fd);
}

/* A datagram to <addr> port <port> comes back from <addr>. */
static void
udp_echo_ok(const char *addr, int port, int family)
{
	char	buf[16], from[64];
	int	fd;

	assert_true((fd = pg_udp_open(NULL, family)) >= 0);
	assert_int_equal(pg_udp_send(fd, addr, port, "pong", 4), 0);
	assert_int_equal(pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS,
	    from, sizeof(from)), 4);
	assert_memory_equal(buf, "pong", 4);
	assert_string_equal(from, addr);
	(void)close(fd);
}

/*
 * freebind = yes on an address of neither lo nor any other interface:
 * both sockets are bound at start-up with the log line, nothing reaches
 * them while the address is absent, and once it is added to lo (as
 * keepalived adds a VIP) the same daemon serves stream and dgram.
 */
static void
freebind_case(struct pg_ctx *c, const char *vip, int family,
    const char *addcmd)
{
	struct pg_conf	 cf;
	char		 line[256];
	pid_t		 pid;
	int		 p = pg_fresh_port(), fd;

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "vip", vip, p, "yes");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, NULL), 0);
	pid = c->pc_pid;
	(void)snprintf(line, sizeof(line), "service vip-stream listens on tcp "
	    "%s%s%s:%d, an address this machine does not hold yet",
	    family == AF_INET6 ? "[" : "", vip, family == AF_INET6 ? "]" : "",
	    p);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, line, 1), 0);
	(void)snprintf(line, sizeof(line), "service vip-dgram listens on udp "
	    "%s%s%s:%d, an address this machine does not hold yet",
	    family == AF_INET6 ? "[" : "", vip, family == AF_INET6 ? "]" : "",
	    p);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, line, 1), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "not an address of this "
	    "machine"), 0);

	/* No route to it yet: no client can be served before it arrives. */
	fd = pg_tcp_connect(NULL, vip, p);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ENETUNREACH);

	ip_cmd("%s", addcmd);
	echo_ok(vip, p);
	udp_echo_ok(vip, p, family);
	/* The same daemon, never reloaded. */
	assert_int_equal(c->pc_pid, pid);
	assert_int_equal(pg_pidfile_read(c, PG_PIDFILE), pid);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "reload"), 0);
	pg_stop_ok(c);
}

static void
test_freebind_ipv4(void **state)
{
	freebind_case(*state, VIP4, AF_INET,
	    "ip addr add " VIP4 "/32 dev lo");
}

static void
test_freebind_ipv6(void **state)
{
	/* nodad: usable at once, as keepalived's VIPs are. */
	freebind_case(*state, VIP6, AF_INET6,
	    "ip -6 addr add " VIP6 "/128 dev lo nodad");
}

/*
 * Without freebind (the default, and an explicit no) the address leaves
 * its services out, loudly; the service beside them on an address of lo
 * runs and says nothing of freebind.
 */
static void
test_freebind_off(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 line[256];
	int		 p = pg_fresh_port(), q = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "typo", VIP4, p, NULL);
	conf_echo(&cf, "off", "192.0.2.11", p, "no");
	conf_echo(&cf, "here", "127.0.0.1", q, "yes");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, NULL), 0);
	(void)snprintf(line, sizeof(line), "service here-stream listening on "
	    "tcp 127.0.0.1:%d", q);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, line, 1), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "bind address " VIP4
	    " is not an address of this machine"), 2);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "bind address 192.0.2.11 "
	    "is not an address of this machine"), 2);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "does not hold yet"), 0);
	echo_ok("127.0.0.1", q);
	udp_echo_ok("127.0.0.1", q, AF_INET);
	/* Once the address is here, the services left out still are. */
	ip_cmd("ip addr add " VIP4 "/32 dev lo");
	assert_int_equal(pg_tcp_connect(NULL, VIP4, p), -1);
	assert_int_equal(errno, ECONNREFUSED);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_freebind_ipv4, ns_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_freebind_ipv6, ns_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_freebind_off, ns_setup,
		    pg_teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_e2e_freebind: not root: skipped (it makes "
		    "network namespaces)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr, "test_e2e_freebind: no network namespace here "
		    "(%s): skipped\n", strerror(errno));
		return 77;
	}
	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
