/*
 * End-to-end tests of documented behaviour that had none: -logprocs (the
 * test plays the refused client's ident server on port 113 of 127.0.0.21),
 * v6only at run time, flags NODELAY and KEEPALIVE as a spawned server sees
 * its socket, rlimit_as/data/rss/stack as a spawned server sees them,
 * access records over log_type SYSLOG (the daemon runs in a mount
 * namespace of the test where /dev/log is a socket the test reads), log
 * files reopened on SIGHUP after rotation, -t and --check, and the xinetd
 * options -cc and -inetd_compat that are accepted and ignored.
 *
 * Port 113, spawning as root and mounting need root, as in CI; elsewhere
 * those cases are skipped (exit 77).
 */
#include <sys/types.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "harness.h"

#ifndef SPAWN_HELPER
#error "SPAWN_HELPER must name the built tests/e2e/spawn/spawn_helper"
#endif

#define CONF		"options.conf"
#define IDENT_ADDR	"127.0.0.21"	/* no other program uses it */
#define REPLY_MAX	4096
#define DIAG_LOG	"diag.log"
#define LIMITS_ARGS	"\tserver_args\t= /proc/self/limits\n"
/* A syslog(3) datagram of glibc: "<PRI>Mmm dd hh:mm:ss portgate[PID]: ". */
#define SYSLOG_RE	"^<%d>[A-Z][a-z]{2} [ 0-9][0-9] " \
			"[0-9]{2}:[0-9]{2}:[0-9]{2} portgate\\[%ld\\]: %s$"

/* The mount namespace the test left for test_syslog, or -1. */
static int	saved_mntns = -1;

/* Skip the running test unless this is root. */
static int
need_root(const char *why)
{
	if (geteuid() == 0)
		return 1;
	print_message("not root: skipped (%s)\n", why);
	TEST_SKIP();
	return 0;
}

/* Fail the test: the daemon did not start on <cf>; show why. */
static void
start_failed(const struct pg_ctx *c, const struct pg_conf *cf)
{
	char	*err = pg_file_read(c, PG_ERRLOG);

	fail_msg("portgate did not start (status %d):\n%s\n%s",
	    pg_exit_code(c->pc_status), err != NULL ? err : "", cf->cf_buf);
}

/* Connect from <src> to <dst> <p>, or fail the test. */
static int
dial(const char *src, const char *dst, int p)
{
	int	fd = pg_tcp_connect(src, dst, p);

	if (fd == -1)
		fail_msg("connect %s -> [%s]:%d: %s", src != NULL ? src : "*",
		    dst, p, strerror(errno));
	return fd;
}

/* One echo round trip to [<dst>]:<p> from <src>, with half-close. */
static void
echo_ok(const char *src, const char *dst, int p)
{
	char	buf[64];
	int	fd = dial(src, dst, p);

	if (pg_tcp_exchange(fd, "ping\n", 5, buf, sizeof(buf)) != 5 ||
	    memcmp(buf, "ping\n", 5) != 0)
		fail_msg("no echo from [%s]:%d", dst, p);
	(void)close(fd);
}

/* A whole session to 127.0.0.1 <p> that only reads, into <buf>. */
static void
fetch(int p, char *buf, size_t cap)
{
	int	fd = dial("127.0.0.2", "127.0.0.1", p);
	ssize_t	n = pg_recv_eof(fd, buf, cap - 1);

	(void)close(fd);
	if (n < 0)
		fail_msg("reading port %d to EOF: %s", p, strerror(errno));
	buf[n] = '\0';
}

/* A stream echo <id> on <bind> <port> with lines <extra>. */
static void
conf_echo(struct pg_conf *cf, const char *id, const char *bind, int port,
    const char *extra)
{
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= %s\n\tport\t\t= %d\n%s}\n", id,
	    bind, port, extra != NULL ? extra : "");
}

/* A stream service <id> on 127.0.0.1 <port> spawning <server> as root. */
static void
conf_spawn(struct pg_conf *cf, const char *id, int port, const char *server,
    const char *extra)
{
	pg_conf_add(cf, "\nservice %s\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tuser\t\t= root\n"
	    "\tserver\t\t= %s\n%s}\n", id, port, server,
	    extra != NULL ? extra : "");
}

/*
 * The next ident query on <lfd>, asked about service port <lport>: its
 * descriptor, and the client port it asks about in <rport>.
 */
static int
identd_take(int lfd, int lport, int *rport)
{
	char	 got[64];
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, lp;

	if (pg_poll(lfd, POLLIN, PG_TIMEOUT_MS) != 1)
		fail_msg("no ident query came");
	assert_true((fd = accept(lfd, NULL, NULL)) != -1);
	while (len == 0 || got[len - 1] != '\n') {
		assert_int_equal(pg_poll(fd, POLLIN, PG_TIMEOUT_MS), 1);
		n = read(fd, got + len, sizeof(got) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	got[len] = '\0';
	if (sscanf(got, "%d,%d\r\n", rport, &lp) != 2 || lp != lport)
		fail_msg("ident query '%s': expected 'PORT,%d'", got, lport);
	return fd;
}

/* Answer the query on <fd> about <rport>, <lport> with <user>; close it. */
static void
identd_answer(int fd, int rport, int lport, const char *user)
{
	char	out[128];

	(void)snprintf(out, sizeof(out), "%d , %d : USERID : UNIX : %s\r\n",
	    rport, lport, user);
	assert_int_equal(pg_send_all(fd, out, strlen(out)), 0);
	(void)close(fd);
}

/*
 * A client from IDENT_ADDR refused by service "deny" on <p>: it sees EOF
 * at once, and its FAIL record is the <nth>.  Returns its descriptor, and
 * its port in <port>.
 */
static int
refused_client(const struct pg_ctx *c, int p, int nth, int *port)
{
	char	buf[8];
	int	fd = dial(IDENT_ADDR, "127.0.0.1", p);

	*port = pg_local_port(fd);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	pg_log_wait(c, nth, "FAIL: deny address from=" IDENT_ADDR "\n");
	return fd;
}

/*
 * -logprocs 2: two refused clients are asked about and held while their
 * ident server keeps silent; two more are closed without a query.  Once
 * one answer frees a slot, the next refused client is asked about again,
 * and its query is the next one the ident server sees: a query about
 * either of the two in between would have come before it.
 */
static void
test_logprocs(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 cl[5], port[5], q[3], qport[3], lfd, i;
	int		 p = pg_fresh_port();

	if (!need_root("port 113"))
		return;
	lfd = pg_identd_listen(IDENT_ADDR);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST USERID");
	conf_echo(&cf, "deny", "127.0.0.1", p, "\tonly_from\t= 127.0.0.2\n");
	pg_conf_write(&cf, c, CONF);
	if (pg_start(c, CONF, PG_FOREGROUND, "-logprocs", "2", NULL) != 0)
		start_failed(c, &cf);

	for (i = 0; i < 4; i++)
		cl[i] = refused_client(c, p, i + 1, &port[i]);
	for (i = 0; i < 2; i++) {
		q[i] = identd_take(lfd, p, &qport[i]);
		if (qport[i] != port[i])
			fail_msg("query %d is about port %d; expected the "
			    "refused client on port %d", i + 1, qport[i],
			    port[i]);
	}

	identd_answer(q[0], qport[0], p, "alice");
	pg_log_wait(c, 1, "USERID: deny UNIX : alice\n");
	cl[4] = refused_client(c, p, 5, &port[4]);
	q[2] = identd_take(lfd, p, &qport[2]);
	if (qport[2] != port[4])
		fail_msg("the query after a slot was freed is about port %d, "
		    "not the new client's %d (clients beyond -logprocs 2 "
		    "were on %d and %d)", qport[2], port[4], port[2],
		    port[3]);
	identd_answer(q[2], qport[2], p, "eve");
	identd_answer(q[1], qport[1], p, "bob");
	pg_log_wait(c, 1, "USERID: deny UNIX : eve\n");
	pg_log_wait(c, 1, "USERID: deny UNIX : bob\n");
	assert_int_equal(pg_log_count(c, "USERID:"), 3);
	for (i = 0; i < 5; i++)
		(void)close(cl[i]);
	(void)close(lfd);
	pg_stop_ok(c);
}

/*
 * v6only on a service bound to "::": yes refuses IPv4 clients (nothing
 * listens on their address), no and the default take them, logged with
 * their IPv4 address; IPv6 clients are taken by all three.
 */
static void
test_v6only(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 pyes = pg_fresh_port(), pno = pg_fresh_port();
	int		 pdef = pg_fresh_port(), fd;

	if (!pg_have_ipv6()) {
		print_message("no IPv6 here: skipped\n");
		TEST_SKIP();
		return;
	}
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "v6yes", "::", pyes, "\tv6only\t\t= yes\n");
	conf_echo(&cf, "v6no", "::", pno, "\tv6only\t\t= no\n");
	conf_echo(&cf, "v6def", "::", pdef, NULL);
	pg_conf_start(c, &cf, CONF);

	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", pyes);
	if (fd != -1 || errno != ECONNREFUSED)
		fail_msg("an IPv4 client reached the v6only = yes service "
		    "(%s)", fd != -1 ? "connected" : strerror(errno));
	echo_ok("::1", "::1", pyes);
	pg_log_wait(c, 1, "START: v6yes from=::1\n");

	echo_ok("127.0.0.2", "127.0.0.1", pno);
	pg_log_wait(c, 1, "START: v6no from=127.0.0.2\n");
	echo_ok("::1", "::1", pno);
	pg_log_wait(c, 1, "START: v6no from=::1\n");
	echo_ok("127.0.0.3", "127.0.0.1", pdef);
	pg_log_wait(c, 1, "START: v6def from=127.0.0.3\n");
	assert_int_equal(pg_log_count(c, "from=::ffff:"), 0);
	pg_stop_ok(c);
}

/*
 * flags NODELAY and KEEPALIVE: the spawned server finds TCP_NODELAY and
 * SO_KEEPALIVE set on its client socket as asked, and neither without
 * the flags.
 */
static void
test_sockopts(void **state)
{
	static const struct {
		const char	*id;
		const char	*flags;
		const char	*want;
	} t[] = {
		{ "plain", NULL, "nodelay 0 keepalive 0\n" },
		{ "nodelay", "NODELAY", "nodelay 1 keepalive 0\n" },
		{ "keepalive", "KEEPALIVE", "nodelay 0 keepalive 1\n" },
		{ "both", "NODELAY KEEPALIVE", "nodelay 1 keepalive 1\n" },
	};
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 extra[128], buf[REPLY_MAX];
	int		 p[4];
	size_t		 i;

	if (!need_root("servers spawned as root"))
		return;
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	for (i = 0; i < 4; i++) {
		p[i] = pg_fresh_port();
		(void)snprintf(extra, sizeof(extra),
		    "\tenv\t\t= SPAWN_HELPER=sockopt\n%s%s%s",
		    t[i].flags != NULL ? "\tflags\t\t= " : "",
		    t[i].flags != NULL ? t[i].flags : "",
		    t[i].flags != NULL ? "\n" : "");
		conf_spawn(&cf, t[i].id, p[i], SPAWN_HELPER, extra);
	}
	pg_conf_start(c, &cf, CONF);
	for (i = 0; i < 4; i++) {
		fetch(p[i], buf, sizeof(buf));
		if (strcmp(buf, t[i].want) != 0)
			fail_msg("service %s: the server saw '%s', expected "
			    "'%s'", t[i].id, buf, t[i].want);
		pg_log_wait(c, 1, "EXIT: %s status=0", t[i].id);
	}
	pg_stop_ok(c);
}

/*
 * The soft and hard values of limit <name> ("Max stack size") in the
 * /proc/PID/limits text <text>, into <soft> and <hard> (32 bytes each).
 */
static void
limit_of(const char *text, const char *name, char *soft, char *hard)
{
	const char	*l;

	for (l = text; l != NULL && *l != '\0'; l = strchr(l, '\n'),
	    l = l != NULL ? l + 1 : NULL)
		if (strncmp(l, name, strlen(name)) == 0 &&
		    l[strlen(name)] == ' ' &&
		    sscanf(l + strlen(name), " %31s %31s", soft, hard) == 2)
			return;
	fail_msg("no '%s' line in:\n%s", name, text);
}

/*
 * rlimit_as, rlimit_data, rlimit_rss and rlimit_stack, soft and hard, in
 * a spawned server's /proc/self/limits, with the K and M suffixes and
 * UNLIMITED (raising the soft RSS limit the daemon has); a service
 * without them leaves the daemon's limits (the test's, with a soft RSS
 * limit set for the start) unchanged.
 */
static void
test_rlimits(void **state)
{
	static const struct {
		const char	*name;
		const char	*want;	/* NULL: as the test's own */
	} t[] = {
		{ "Max address space", "268435456" },
		{ "Max data size", "134217728" },
		{ "Max resident set", "unlimited" },
		{ "Max stack size", "2097152" },
	};
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct rlimit	 rss, low;
	char		 set[REPLY_MAX], unset[REPLY_MAX];
	char		*own, soft[32], hard[32], s0[32], h0[32];
	int		 p = pg_fresh_port(), pdef = pg_fresh_port(), rv;
	size_t		 i;

	if (!need_root("servers spawned as root"))
		return;
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT", "HOST");
	conf_spawn(&cf, "limited", p, "/bin/cat", LIMITS_ARGS
	    "\trlimit_as\t= 256M\n\trlimit_data\t= 131072K\n"
	    "\trlimit_rss\t= UNLIMITED\n\trlimit_stack\t= 2097152\n");
	conf_spawn(&cf, "inherited", pdef, "/bin/cat", LIMITS_ARGS);
	pg_conf_write(&cf, c, CONF);
	/* Only the soft limit: root may lack CAP_SYS_RESOURCE to go back. */
	assert_int_equal(getrlimit(RLIMIT_RSS, &rss), 0);
	low = rss;
	low.rlim_cur = 1 << 30;
	assert_true(low.rlim_max == RLIM_INFINITY);
	assert_int_equal(setrlimit(RLIMIT_RSS, &low), 0);
	own = pg_file_read(c, "/proc/self/limits");
	rv = pg_start(c, CONF, PG_FOREGROUND, NULL);
	assert_int_equal(setrlimit(RLIMIT_RSS, &rss), 0);
	assert_non_null(own);
	if (rv != 0)
		start_failed(c, &cf);

	fetch(p, set, sizeof(set));
	fetch(pdef, unset, sizeof(unset));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		limit_of(set, t[i].name, soft, hard);
		if (strcmp(soft, t[i].want) != 0 ||
		    strcmp(hard, t[i].want) != 0)
			fail_msg("%s: %s %s, expected %s for both:\n%s",
			    t[i].name, soft, hard, t[i].want, set);
		limit_of(own, t[i].name, s0, h0);
		limit_of(unset, t[i].name, soft, hard);
		if (strcmp(soft, s0) != 0 || strcmp(hard, h0) != 0)
			fail_msg("%s without rlimit_*: %s %s, expected the "
			    "daemon's %s %s", t[i].name, soft, hard, s0, h0);
	}
	/* The soft RSS limit the daemon was started with shows through. */
	limit_of(unset, "Max resident set", soft, hard);
	assert_string_equal(soft, "1073741824");
	assert_string_equal(hard, "unlimited");
	free(own);
	pg_log_wait(c, 1, "EXIT: limited status=0");
	pg_stop_ok(c);
}

/* Make the node /dev/<name> of device <maj>, <min>, or fail the test. */
static void
dev_node(const char *name, unsigned maj, unsigned min)
{
	char	path[64];

	(void)snprintf(path, sizeof(path), "/dev/%s", name);
	if (mknod(path, S_IFCHR | 0666, makedev(maj, min)) == -1 ||
	    chmod(path, 0666) == -1)
		fail_msg("mknod %s: %s", path, strerror(errno));
}

/*
 * Enter a mount namespace of our own whose /dev is a fresh tmpfs holding
 * the usual character devices and, as /dev/log, a datagram socket that
 * this process reads: syslog(3) of the daemon started from here writes to
 * it.  The namespace is left in the teardown.  Returns the socket.
 */
static int
syslog_capture(void)
{
	struct sockaddr_un	sun;
	int			fd;

	if ((saved_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		fail_msg("open /proc/self/ns/mnt: %s", strerror(errno));
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") == -1)
		fail_msg("a private /dev: %s", strerror(errno));
	dev_node("null", 1, 3);
	dev_node("zero", 1, 5);
	dev_node("random", 1, 8);
	dev_node("urandom", 1, 9);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "/dev/log");
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail_msg("bind /dev/log: %s", strerror(errno));
	return fd;
}

/* Back to the mount namespace the test started in. */
static int
options_teardown(void **state)
{
	int	rv = pg_teardown(state);

	if (saved_mntns != -1) {
		if (setns(saved_mntns, CLONE_NEWNS) == -1) {
			fprintf(stderr, "e2e: setns: %s\n", strerror(errno));
			rv = -1;
		}
		(void)close(saved_mntns);
		saved_mntns = -1;
	}
	return rv;
}

/*
 * Wait for a datagram on <fd> matching SYSLOG_RE with priority <pri>,
 * pid <pid> and message <msg> (an ERE); every datagram before it must be
 * a syslog line of the daemon as well.
 */
static void
syslog_wait(int fd, int pri, long pid, const char *msg)
{
	char		 re[512], buf[2048];
	regex_t		 rx, any;
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	ssize_t		 n;

	(void)snprintf(re, sizeof(re), SYSLOG_RE, pri, pid, msg);
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&any, "^<[0-9]+>[A-Z][a-z]{2} [ 0-9][0-9] "
	    "[0-9:]{8} portgate\\[[0-9]+\\]: [A-Z]+: ", REG_EXTENDED |
	    REG_NOSUB), 0);
	for (;;) {
		if (pg_poll(fd, POLLIN, pg_left(deadline)) != 1)
			fail_msg("no syslog record /%s/", msg);
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n >= 0);
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		print_message("syslog: %s\n", buf);
		if (regexec(&any, buf, 0, NULL, 0) != 0)
			fail_msg("not a syslog record of portgate: '%s'", buf);
		if (regexec(&rx, buf, 0, NULL, 0) == 0)
			break;
	}
	regfree(&rx);
	regfree(&any);
}

/*
 * log_type SYSLOG: START and FAIL records reach syslog with the
 * configured facility and level (info when none is given), the ident
 * portgate and the daemon's pid, and no FILE time stamp.
 */
static void
test_syslog(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[8];
	int		 fd, lfd, p = pg_fresh_port(), pa = pg_fresh_port();

	if (!need_root("a mount namespace"))
		return;
	lfd = syslog_capture();
	pg_conf_init(&cf);
	pg_conf_add(&cf, "defaults\n{\n\tlog_type\t= SYSLOG local3 notice\n"
	    "\tlog_on_success\t= HOST\n\tlog_on_failure\t= HOST\n}\n");
	conf_echo(&cf, "sys", "127.0.0.1", p, "\tonly_from\t= 127.0.0.2\n");
	conf_echo(&cf, "sysauth", "127.0.0.1", pa,
	    "\tlog_type\t= SYSLOG authpriv\n");
	pg_conf_start(c, &cf, CONF);

	echo_ok("127.0.0.2", "127.0.0.1", p);
	syslog_wait(lfd, LOG_LOCAL3 | LOG_NOTICE, (long)c->pc_pid,
	    "START: sys from=127\\.0\\.0\\.2");
	fd = dial("127.0.0.3", "127.0.0.1", p);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	syslog_wait(lfd, LOG_LOCAL3 | LOG_NOTICE, (long)c->pc_pid,
	    "FAIL: sys address from=127\\.0\\.0\\.3");
	echo_ok("127.0.0.4", "127.0.0.1", pa);
	syslog_wait(lfd, LOG_AUTHPRIV | LOG_INFO, (long)c->pc_pid,
	    "START: sysauth from=127\\.0\\.0\\.4");
	(void)close(lfd);
	pg_stop_ok(c);
}

/*
 * SIGHUP after rotation: the access log and the -filelog file are
 * reopened at their paths; the renamed files keep the older lines only.
 */
static void
test_reopen(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 diag[PG_PATH_MAX], from[PG_PATH_MAX], to[PG_PATH_MAX];
	int		 p = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "rot", "127.0.0.1", p, NULL);
	pg_conf_write(&cf, c, CONF);
	if (pg_start(c, CONF, PG_FOREGROUND, "-filelog", pg_path(c, DIAG_LOG,
	    diag), NULL) != 0)
		start_failed(c, &cf);
	echo_ok("127.0.0.2", "127.0.0.1", p);
	pg_log_wait(c, 1, "START: rot from=127.0.0.2\n");
	assert_int_equal(pg_file_wait(c, DIAG_LOG, "started with", 1), 0);

	assert_int_equal(rename(pg_path(c, PG_ACCESS_LOG, from),
	    pg_path(c, PG_ACCESS_LOG ".1", to)), 0);
	assert_int_equal(rename(pg_path(c, DIAG_LOG, from),
	    pg_path(c, DIAG_LOG ".1", to)), 0);
	assert_int_equal(pg_signal(c, SIGHUP), 0);
	assert_int_equal(pg_file_wait(c, DIAG_LOG, "reload done", 1), 0);
	echo_ok("127.0.0.3", "127.0.0.1", p);
	pg_log_wait(c, 1, "START: rot from=127.0.0.3\n");

	assert_int_equal(pg_log_count(c, "from=127.0.0.2"), 0);
	assert_int_equal(pg_file_count(c, PG_ACCESS_LOG ".1",
	    "START: rot from=127.0.0.2\n"), 1);
	assert_int_equal(pg_file_count(c, PG_ACCESS_LOG ".1", "127.0.0.3"), 0);
	assert_int_equal(pg_file_count(c, DIAG_LOG ".1", "reloading"), 1);
	assert_int_equal(pg_file_count(c, DIAG_LOG ".1", "reload done"), 0);
	assert_int_equal(pg_file_count(c, DIAG_LOG, "started with"), 0);
	pg_stop_ok(c);
}

/* Run the daemon with <opt> on <conf>: exit <code>, output as given. */
static void
check_run(struct pg_ctx *c, const char *opt, const char *conf, int code,
    const char *out, const char *err_has)
{
	struct pg_result	r;
	char			path[PG_PATH_MAX];

	(void)pg_run(c, &r, opt, "-f", pg_path(c, conf, path), NULL);
	if (r.pr_code != code || strcmp(r.pr_out, out) != 0 ||
	    (err_has != NULL && strstr(r.pr_err, err_has) == NULL))
		fail_msg("%s -f %s: exit %d (expected %d)\nout: %s(expected: "
		    "%s)err: %s(expected to hold: %s)", opt, path, r.pr_code,
		    code, r.pr_out, out, r.pr_err,
		    err_has != NULL ? err_has : "-");
	pg_result_clear(&r);
}

/*
 * -t and --check: a valid file exits 0 with "configuration OK", binding
 * nothing and opening no log; an invalid one exits 1 naming file:line.
 */
static void
test_check(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 path[PG_PATH_MAX], out[PG_PATH_MAX + 64];
	char		 err[PG_PATH_MAX + 64];
	const char	*opts[] = { "-t", "--check" };
	int		 p = pg_fresh_port(), line;
	size_t		 i;

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "good", "127.0.0.1", p, NULL);
	pg_conf_write(&cf, c, "good.conf");
	(void)snprintf(out, sizeof(out), "%s: configuration OK, 1 service "
	    "enabled\n", pg_path(c, "good.conf", path));
	conf_echo(&cf, "bad", "127.0.0.1", pg_fresh_port(),
	    "\tinstances\t= many\n");
	pg_conf_write(&cf, c, "bad.conf");
	assert_true((line = pg_conf_line(&cf, "= many")) > 0);
	(void)snprintf(err, sizeof(err), "%s:%d: ", pg_path(c, "bad.conf",
	    path), line);

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		check_run(c, opts[i], "good.conf", 0, out, NULL);
		check_run(c, opts[i], "bad.conf", 1, "", err);
	}
	/* No log file was opened. */
	assert_null(pg_file_read(c, PG_ACCESS_LOG));
}

/* -cc N and -inetd_compat are accepted with a notice, and ignored. */
static void
test_ignored_options(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct pg_result r;
	char		 path[PG_PATH_MAX];
	int		 p = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "compat", "127.0.0.1", p, NULL);
	pg_conf_write(&cf, c, CONF);
	if (pg_start(c, CONF, PG_FOREGROUND, "-cc", "5", "-inetd_compat",
	    NULL) != 0)
		start_failed(c, &cf);
	echo_ok("127.0.0.2", "127.0.0.1", p);
	pg_log_wait(c, 1, "START: compat from=127.0.0.2\n");
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "portgate: -cc is "
	    "accepted for xinetd compatibility and ignored\n"), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "portgate: "
	    "-inetd_compat is accepted for xinetd compatibility and "
	    "ignored\n"), 1);
	pg_stop_ok(c);

	/* -cc takes its value as xinetd does. */
	(void)pg_run(c, &r, "-t", "-f", pg_path(c, CONF, path), "-cc", NULL);
	assert_int_equal(r.pr_code, 2);
	assert_non_null(strstr(r.pr_err, "-cc needs a value"));
	pg_result_clear(&r);
}

#define OPT_TEST(f)	cmocka_unit_test_setup_teardown(f, pg_setup, \
			    options_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		OPT_TEST(test_logprocs),
		OPT_TEST(test_v6only),
		OPT_TEST(test_sockopts),
		OPT_TEST(test_rlimits),
		OPT_TEST(test_syslog),
		OPT_TEST(test_reopen),
		OPT_TEST(test_check),
		OPT_TEST(test_ignored_options),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
