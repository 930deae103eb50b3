/*
 * End-to-end: one broken service does not take the others down.  A
 * server, banner, user, /etc/services name or bind address that this
 * machine lacks leaves out that service, and a good service of the same
 * daemon answers; a language error still stops the start; a reload that
 * finds a service broken stops it alone and brings it back once fixed;
 * and Debian's stock xinetd.d with every service switched on runs its ten
 * built-ins on their real ports.
 *
 * The whole program runs in a network namespace of its own (as root, or
 * in a user namespace), where the low ports of the stock files are free
 * and no address but loopback exists.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"
#include "harness.h"

#define CONF	"broken.conf"

/* Did main() get a network namespace of our own? */
static int	own_netns;

/* Write <text> to /proc/self/<name>; 0 or -1. */
static int
proc_write(const char *name, const char *text)
{
	char	path[64];
	int	fd, rc;

	(void)snprintf(path, sizeof(path), "/proc/self/%s", name);
	if ((fd = open(path, O_WRONLY)) == -1)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	(void)close(fd);
	return rc;
}

/*
 * A network namespace with lo up: as root directly, else inside a user
 * namespace mapping us to root.  0 or -1.
 */
static int
enter_netns(void)
{
	struct ifreq	ifr;
	char		map[64];
	uid_t		uid = geteuid();
	gid_t		gid = getegid();
	int		fd, rc;

	if (unshare(CLONE_NEWNET) == -1) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1)
			return -1;
		(void)proc_write("setgroups", "deny");
		(void)snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
		if (proc_write("uid_map", map) == -1)
			return -1;
		(void)snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		if (proc_write("gid_map", map) == -1)
			return -1;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	(void)strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	(void)close(fd);
	return rc;
}

/* A built-in stream echo on 127.0.0.1 <port>, with <extra> lines. */
static void
conf_echo(struct pg_conf *cf, const char *id, int port, const char *extra)
{
	pg_conf_add(cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tid\t\t= %s\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n", id, port,
	    extra != NULL ? extra : "");
}

/* The stream service on 127.0.0.1 <port> echoes; or fail. */
static void
echo_ok(int port)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect(NULL, "127.0.0.1", port)) == -1)
		fail_msg("connect to port %d: %s", port, strerror(errno));
	n = pg_tcp_exchange(fd, "hello\n", 6, buf, sizeof(buf));
	(void)close(fd);
	if (n != 6 || memcmp(buf, "hello\n", 6) != 0)
		fail_msg("port %d did not echo (%zd bytes)", port, n);
}

/* Nothing listens on TCP 127.0.0.1 <port>; or fail. */
static void
refused(int port)
{
	int	fd;

	if ((fd = pg_tcp_connect(NULL, "127.0.0.1", port)) != -1) {
		(void)close(fd);
		fail_msg("port %d accepts", port);
	}
	assert_int_equal(errno, ECONNREFUSED);
}

/*
 * Five services, each missing something of this machine, and one good
 * echo: the daemon starts, the echo answers, each broken one is named in
 * an error and listens nowhere; -t exits 3.
 */
static void
test_broken_ones_left_out(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX];
	int			 good = pg_fresh_port(), p[4], i;

	for (i = 0; i < 4; i++)
		p[i] = pg_fresh_port();
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "good", good, NULL);
	pg_conf_add(&cf, "service tangdx\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= root\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tserver\t\t= /usr/libexec/no-such-tangdx-pg\n}\n", p[0]);
	conf_echo(&cf, "banner", p[1], "\tbanner\t\t= /no-such-banner-pg\n");
	pg_conf_add(&cf, "service who\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tuser\t\t= no-such-user-pg\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n\tserver\t\t= /bin/cat\n}\n", p[2]);
	conf_echo(&cf, "named", p[3], NULL);
	/* The same built-in again, by a port name and by a far address. */
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tid\t\t= byname\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tport\t\t= no-such-port-pg\n}\n");
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tid\t\t= far\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 198.51.100.7\n\tport\t\t= %d\n}\n", p[3]);
	pg_conf_write(&cf, c, CONF);

	assert_int_equal(pg_run(c, &r, "-t", "-f", pg_path(c, CONF, path),
	    NULL), 3);
	assert_non_null(strstr(r.pr_out, "configuration OK, 2 services "
	    "enabled; 5 left out on this machine: tangdx, banner, who, "
	    "byname, far"));
	assert_int_equal(pg_count_lines(r.pr_err, ": error: "), 5);
	pg_result_clear(&r);

	pg_conf_start(c, &cf, CONF);
	echo_ok(good);
	echo_ok(p[3]);
	refused(p[0]);
	refused(p[1]);
	refused(p[2]);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "5 services not started, "
	    "the others run: tangdx, banner, who, byname, far", 1), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "not found on this "
	    "machine"), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "198.51.100.7 is not an "
	    "address of this machine"), 1);
	pg_stop_ok(c);
}

/* A language error beside them still stops the whole start. */
static void
test_language_error_stops(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX];
	int			 good = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "good", good, NULL);
	conf_echo(&cf, "banner", pg_fresh_port(),
	    "\tbanner\t\t= /no-such-banner-pg\n");
	conf_echo(&cf, "bad", pg_fresh_port(), "\tinstances\t= many\n");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-t", "-f", pg_path(c, CONF, path),
	    NULL), 1);
	assert_null(strstr(r.pr_out, "configuration OK"));
	pg_result_clear(&r);
	assert_int_equal(pg_start(c, CONF, PG_FOREGROUND, NULL), -1);
	assert_int_equal(pg_exit_code(c->pc_status), 1);
	refused(good);
}

/*
 * A reload that finds a service's banner gone stops that service only;
 * once the file is back, the next reload starts it again.
 */
static void
test_reload_leaves_out_one(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 banner[PG_PATH_MAX], extra[PG_PATH_MAX + 32];
	int		 good = pg_fresh_port(), other = pg_fresh_port();

	assert_int_equal(pg_file_write(c, "banner.txt", "hi\n"), 0);
	(void)snprintf(extra, sizeof(extra), "\tbanner_fail\t= %s\n",
	    pg_path(c, "banner.txt", banner));
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	conf_echo(&cf, "good", good, NULL);
	conf_echo(&cf, "other", other, extra);
	pg_conf_start(c, &cf, CONF);
	echo_ok(good);
	echo_ok(other);

	assert_int_equal(unlink(banner), 0);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "banner_fail: "), 1);
	refused(other);
	echo_ok(good);

	assert_int_equal(pg_file_write(c, "banner.txt", "hi\n"), 0);
	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	echo_ok(other);
	echo_ok(good);
	pg_stop_ok(c);
}

/*
 * One UDP datagram to 127.0.0.1 <port> is answered; or fail.  An empty
 * datagram is an answer too (chargen sends 0 to 512 bytes, RFC 864).
 */
static void
udp_answers(int port, const char *what)
{
	char	buf[600];
	int	fd;

	assert_true((fd = pg_udp_open("127.0.0.1", AF_INET)) != -1);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", port, "x\n", 2), 0);
	if (pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS, NULL, 0) < 0)
		fail_msg("%s: no answer on udp port %d", what, port);
	(void)close(fd);
}

/*
 * Debian's xinetd.d as shipped, every "disable = yes" made "no", under
 * Debian's own xinetd.conf: servers, services and the five *-udp files
 * are left out, the ten built-ins answer on ports 7, 9, 13, 19 and 37.
 */
static void
test_debian_stock_all_enabled(void **state)
{
	static const char *const files[] = {
		"chargen", "chargen-udp", "daytime", "daytime-udp", "discard",
		"discard-udp", "echo", "echo-udp", "servers", "services",
		"time", "time-udp"
	};
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 dir[PG_PATH_MAX], cmd[4 * PG_PATH_MAX];
	char			 path[PG_PATH_MAX], buf[128];
	size_t			 i;
	ssize_t			 n;
	int			 fd;

	if (!own_netns) {
		print_message("no network namespace of our own: the ports "
		    "below 1024 may be taken\n");
		TEST_SKIP();
	}
	assert_non_null(pg_data());
	assert_int_equal(mkdir(pg_path(c, "xinetd.d", dir), 0755), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(cmd, sizeof(cmd), "sed 's/disable[[:space:]]*="
		    "[[:space:]]*yes/disable = no/' '%s/compat/xinetd.d/%s' "
		    ">'%s/%s'", pg_data(), files[i], dir, files[i]);
		assert_int_equal(system(cmd), 0);
	}
	(void)snprintf(cmd, sizeof(cmd), "sed 's|^includedir "
	    "/etc/xinetd.d$|includedir %s|' '%s/compat/xinetd.conf' >'%s'",
	    dir, pg_data(), pg_path(c, "xinetd.conf", path));
	assert_int_equal(system(cmd), 0);

	assert_int_equal(pg_run(c, &r, "-t", "-f", path, NULL), 3);
	assert_non_null(strstr(r.pr_out, "10 services enabled; 7 left out"));
	pg_result_clear(&r);

	if (pg_start(c, "xinetd.conf", PG_FOREGROUND, NULL) != 0)
		fail_msg("portgate did not start on Debian's files");
	echo_ok(7);
	udp_answers(7, "echo-dgram");
	/* daytime, time and chargen speak first. */
	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", 13)) != -1);
	n = pg_recv_eof(fd, buf, sizeof(buf));
	(void)close(fd);
	assert_true(n > 10 && buf[n - 1] == '\n');
	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", 37)) != -1);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 4);
	(void)close(fd);
	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", 19)) != -1);
	assert_int_equal(pg_recv_n(fd, buf, 74), 74);
	(void)close(fd);
	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", 9)) != -1);
	(void)close(fd);
	udp_answers(13, "daytime-dgram");
	udp_answers(37, "time-dgram");
	udp_answers(19, "chargen-dgram");
	/* The removed built-ins listen nowhere. */
	refused(9099);
	refused(9098);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "7 services not started",
	    1), 0);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_broken_ones_left_out,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_language_error_stops,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_reload_leaves_out_one,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_debian_stock_all_enabled,
		    pg_setup, pg_teardown),
	};

	own_netns = enter_netns() == 0;
	if (!own_netns)
		fprintf(stderr, "no network namespace: %s\n", strerror(errno));
	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
