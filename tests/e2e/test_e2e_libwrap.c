/*
 * End-to-end tests of the TCP wrappers files: a rule of hosts.deny refuses
 * its client (FAIL reason libwrap, counted refused in the SIGUSR1 dump),
 * stream and datagram alike; hosts.allow comes first; flags = NOLIBWRAP
 * ignores the files; libwrap = NAME changes the daemon name the rules are
 * written for; --explain says libwrap, and looks a name up for a rule by
 * name.
 *
 * The daemon reads /etc/hosts.allow and /etc/hosts.deny, and no test may
 * touch the machine's: each case enters a mount namespace of its own
 * (root, as in CI; elsewhere the cases are skipped) where the test's files
 * are bind-mounted over them, and leaves it in the teardown.
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
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

#define CONF		"libwrap.conf"
#define ALLOW		"hosts.allow"
#define DENY		"hosts.deny"
/* How long a client waits for the answer a refused datagram never gets. */
#define UDP_QUIET_MS	300
#define OK_BANNER	"OK\n"
#define NO_BANNER	"NO\n"
#define BANNER_LEN	3

/* The mount namespace the test started in, while a case is in its own. */
static int	saved_mntns = -1;

/* Write <text> to <name> of <c> in place (a bind mount holds the inode). */
static void
rules_file(const struct pg_ctx *c, const char *name, const char *text)
{
	char	path[PG_PATH_MAX];
	FILE	*f;

	if ((f = fopen(pg_path(c, name, path), "w")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/*
 * The daemon started from here reads <allow> and <deny>: enter a mount
 * namespace of our own where the test's files are bind-mounted over
 * /etc/hosts.allow and /etc/hosts.deny.  Skips the case unless root.
 */
static int
rules(const struct pg_ctx *c, const char *allow, const char *deny)
{
	char	path[PG_PATH_MAX];

	if (geteuid() != 0) {
		print_message("not root: skipped (a mount namespace for "
		    "hosts.allow and hosts.deny)\n");
		TEST_SKIP();
		return 0;
	}
	rules_file(c, ALLOW, allow);
	rules_file(c, DENY, deny);
	if ((saved_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		fail_msg("open /proc/self/ns/mnt: %s", strerror(errno));
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		fail_msg("a mount namespace: %s", strerror(errno));
	if (mount(pg_path(c, ALLOW, path), "/etc/hosts.allow", NULL, MS_BIND,
	    NULL) == -1 || mount(pg_path(c, DENY, path), "/etc/hosts.deny",
	    NULL, MS_BIND, NULL) == -1)
		fail_msg("bind %s over /etc (the files must exist): %s", path,
		    strerror(errno));
	return 1;
}

/* Stop the daemon, then go back to the mount namespace we started in. */
static int
teardown(void **state)
{
	int	rv = pg_teardown(state);

	if (saved_mntns != -1) {
		if (setns(saved_mntns, CLONE_NEWNS) == -1)
			rv = -1;
		(void)close(saved_mntns);
		saved_mntns = -1;
	}
	return rv;
}

/*
 * Defaults: the access log of <c>, START and FAIL with HOST, and banners
 * that tell an admitted client from a refused one.
 */
static void
conf_begin(struct pg_conf *cf, const struct pg_ctx *c)
{
	char	log[PG_PATH_MAX], ok[PG_PATH_MAX], no[PG_PATH_MAX];

	assert_int_equal(pg_file_write(c, "ok.txt", OK_BANNER), 0);
	assert_int_equal(pg_file_write(c, "no.txt", NO_BANNER), 0);
	pg_conf_init(cf);
	pg_conf_add(cf, "defaults\n{\n\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= HOST\n\tlog_on_failure\t= HOST\n"
	    "\tbanner_success\t= %s\n\tbanner_fail\t= %s\n}\n",
	    pg_path(c, PG_ACCESS_LOG, log), pg_path(c, "ok.txt", ok),
	    pg_path(c, "no.txt", no));
}

/* An echo built-in of <socktype> on 127.0.0.1 <port>, id <id>, <extra>. */
static void
conf_echo(struct pg_conf *cf, const char *socktype, const char *id, int port,
    const char *extra)
{
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= %s\n"
	    "\twait\t\t= %s\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tcps\t\t= 0 1\n%s}\n", id, socktype,
	    strcmp(socktype, "dgram") == 0 ? "yes" : "no", port,
	    extra != NULL ? extra : "");
}

/*
 * One stream client from <src> to port <p>: 1 if admitted (banner_success
 * and an echo), 0 if refused (banner_fail, then EOF).
 */
static int
probe(const char *src, int p)
{
	char	buf[64];
	ssize_t	n;
	int	fd, ok = 0;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", p)) == -1)
		fail_msg("connect %s -> port %d: %s", src, p, strerror(errno));
	n = pg_recv_n(fd, buf, BANNER_LEN);
	if (n == BANNER_LEN && memcmp(buf, OK_BANNER, BANNER_LEN) == 0) {
		if (pg_tcp_exchange(fd, "ping\n", 5, buf, sizeof(buf)) != 5 ||
		    memcmp(buf, "ping\n", 5) != 0)
			fail_msg("%s -> port %d: admitted but no echo", src,
			    p);
		ok = 1;
	} else if (n != BANNER_LEN || memcmp(buf, NO_BANNER, BANNER_LEN) != 0 ||
	    pg_recv_eof(fd, buf, sizeof(buf)) != 0)
		fail_msg("%s -> port %d: neither admitted nor refused (%zd "
		    "bytes)", src, p, n);
	(void)close(fd);
	return ok;
}

static void
expect_ok(const char *src, int p)
{
	if (!probe(src, p))
		fail_msg("%s -> port %d: refused, expected an echo", src, p);
}

static void
expect_refused(const struct pg_ctx *c, const char *id, const char *src,
    int p)
{
	if (probe(src, p))
		fail_msg("%s -> port %d: echoed, expected a refusal", src, p);
	pg_log_wait(c, 1, "FAIL: %s libwrap from=%s\n", id, src);
}

/*
 * hosts.deny "echo: 127.0.0.2" refuses .2 and admits .3, over TCP and
 * UDP (xinetd checks every kind of service); the refusals are counted.
 */
static void
test_deny(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[64], re[256];
	int		 p = pg_fresh_port(), u = pg_fresh_port(), a, b;

	if (!rules(c, "", "# the test's\necho: 127.0.0.2\n"))
		return;
	conf_begin(&cf, c);
	conf_echo(&cf, "stream", "echo-stream", p, NULL);
	conf_echo(&cf, "dgram", "echo-dgram", u, NULL);
	pg_conf_start(c, &cf, CONF);
	expect_refused(c, "echo-stream", "127.0.0.2", p);
	expect_ok("127.0.0.3", p);
	pg_log_wait(c, 1, "START: echo-stream from=127.0.0.3\n");
	assert_int_equal(pg_log_count(c, "START: echo-stream "
	    "from=127.0.0.2"), 0);

	/* The refused datagram first: the answer to .3 shows it was read. */
	assert_true((a = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	assert_true((b = pg_udp_open("127.0.0.3", AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(a, "127.0.0.1", u, "refused", 7), 0);
	assert_int_equal(pg_udp_send(b, "127.0.0.1", u, "admitted", 8), 0);
	assert_int_equal(pg_udp_recv(b, buf, sizeof(buf), PG_TIMEOUT_MS, NULL,
	    0), 8);
	assert_int_equal(pg_udp_recv(a, buf, sizeof(buf), UDP_QUIET_MS, NULL,
	    0), -1);
	pg_log_wait(c, 1, "FAIL: echo-dgram libwrap from=127.0.0.2\n");
	(void)close(a);
	(void)close(b);

	assert_int_equal(pg_signal(c, SIGUSR1), 0);
	(void)snprintf(re, sizeof(re), "dump: service echo-stream .* "
	    "127\\.0\\.0\\.1:%d: [0-9]+ running, 1 accepted, 1 refused", p);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, re, 1), 0);
	(void)snprintf(re, sizeof(re), "dump: service echo-dgram .* "
	    "127\\.0\\.0\\.1:%d: [0-9]+ running, 1 accepted, 1 refused", u);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, re, 1), 0);
	pg_stop_ok(c);
}

/* hosts.allow first: "echo: 127.0.0.2" with ALL: ALL denied admits .2. */
static void
test_allow_first(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 p = pg_fresh_port();

	if (!rules(c, "echo: 127.0.0.2\n", "ALL: ALL\n"))
		return;
	conf_begin(&cf, c);
	conf_echo(&cf, "stream", "echo-stream", p, NULL);
	pg_conf_start(c, &cf, CONF);
	expect_ok("127.0.0.2", p);
	expect_refused(c, "echo-stream", "127.0.0.3", p);
	expect_refused(c, "echo-stream", "127.0.0.4", p);
	pg_stop_ok(c);
}

/*
 * flags = NOLIBWRAP ignores the files; libwrap = NAME looks the rules up
 * under NAME instead of the service name.
 */
static void
test_flags_and_name(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 pw = pg_fresh_port(), pn = pg_fresh_port();
	int		 po = pg_fresh_port();

	if (!rules(c, "other: 127.0.0.2\n", "echo: ALL\nother: ALL\n"))
		return;
	conf_begin(&cf, c);
	conf_echo(&cf, "stream", "wrapped", pw, NULL);
	conf_echo(&cf, "stream", "unwrapped", pn, "\tflags\t\t= NOLIBWRAP\n");
	conf_echo(&cf, "stream", "named", po, "\tlibwrap\t\t= other\n");
	pg_conf_start(c, &cf, CONF);
	/* The files are read: the same client is refused by "echo". */
	expect_refused(c, "wrapped", "127.0.0.2", pw);
	expect_ok("127.0.0.2", pn);
	expect_ok("127.0.0.3", pn);
	expect_ok("127.0.0.2", po);
	expect_refused(c, "named", "127.0.0.3", po);
	assert_int_equal(pg_log_count(c, "FAIL: unwrapped"), 0);
	pg_stop_ok(c);
}

/*
 * portgate -f CONF --explain <id> <addr> Mon 10:00: exit <rc> and the line
 * "service <id>, client <addr>, Mon 10:00: <verdict>".
 */
static void
explain(struct pg_ctx *c, const char *id, const char *addr, int rc,
    const char *verdict)
{
	struct pg_result	r;
	char			conf[PG_PATH_MAX], want[512];

	pg_path(c, CONF, conf);
	assert_int_equal(pg_run(c, &r, "-f", conf, "--explain", id, addr,
	    "Mon", "10:00", NULL), rc);
	(void)snprintf(want, sizeof(want), "service %s, client %s, Mon "
	    "10:00: %s\n", id, addr, verdict);
	assert_string_equal(r.pr_out, want);
	pg_result_clear(&r);
}

/* --explain gives the libwrap verdict after the gate's. */
static void
test_explain(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct sockaddr_in	 sin;
	char			 name[NI_MAXHOST];
	char			 rule[NI_MAXHOST + 16];
	int			 p = pg_fresh_port();

	if (!rules(c, "", "echo: 127.0.0.2\n"))
		return;
	conf_begin(&cf, c);
	conf_echo(&cf, "stream", "echo-stream", p, NULL);
	conf_echo(&cf, "stream", "echo-free", pg_fresh_port(),
	    "\tflags\t\t= NOLIBWRAP\n");
	conf_echo(&cf, "stream", "echo-first", pg_fresh_port(),
	    "\tonly_from\t= 127.0.0.3\n");
	pg_conf_write(&cf, c, CONF);
	explain(c, "echo-stream", "127.0.0.2", 1,
	    "refused: libwrap echo: refused by hosts.allow and hosts.deny");
	explain(c, "echo-stream", "127.0.0.3", 0,
	    "admitted: no rule refuses");
	explain(c, "echo-free", "127.0.0.2", 0, "admitted: no rule refuses");
	/* The gate's own refusal comes first. */
	explain(c, "echo-first", "127.0.0.2", 1,
	    "refused: only_from: no rule matches");

	/*
	 * A rule by name: --explain looks the client's name up (and
	 * confirms it) as the daemon would.  The name is the one this
	 * machine gives 127.0.0.1 (localhost in /etc/hosts, usually).
	 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (getnameinfo((struct sockaddr *)&sin, sizeof(sin), name,
	    sizeof(name), NULL, 0, NI_NAMEREQD) != 0) {
		print_message("127.0.0.1 has no name here: no name rule\n");
		return;
	}
	(void)snprintf(rule, sizeof(rule), "echo: %s\n", name);
	rules_file(c, DENY, rule);
	explain(c, "echo-stream", "127.0.0.1", 1,
	    "refused: libwrap echo: refused by hosts.allow and hosts.deny");
	/* Another name: no rule refuses it. */
	rules_file(c, DENY, "echo: no-such-name.invalid\n");
	explain(c, "echo-stream", "127.0.0.1", 0,
	    "admitted: no rule refuses");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deny, pg_setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_first, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flags_and_name, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain, pg_setup,
		    teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
