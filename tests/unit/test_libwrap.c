/*
 * Unit tests of libwrap.c: the daemon name of a service as xinetd has it,
 * and libwrap's answer for rules written by the test into its own
 * hosts.allow and hosts.deny (libwrap's hosts_allow_table and
 * hosts_deny_table point at them; the machine's files are never read):
 * addresses, unknown addresses, name rules and the hook that says a rule
 * wanted the name, IPv6, and the options of hosts_options(5) that must not
 * act on the daemon (twist, spawn, umask) or must decide (allow, deny).
 */
#include <sys/types.h>
#include <sys/stat.h>

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
#include <tcpd.h>

#include "../test_skip.h"

#include "config.h"
#include "libwrap.h"
#include "unit_util.h"

/* libwrap's verification mode; libwrap.c must leave it cleared. */
extern int	dry_run;

static char	dir[64];
static char	allow_path[128];
static char	deny_path[128];

/* Write <text> to <path>, or fail the test. */
static void
put(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* hosts.allow and hosts.deny of the test hold <allow> and <deny>. */
static void
rules(const char *allow, const char *deny)
{
	put(allow_path, allow);
	put(deny_path, deny);
}

/* libwrap_check() for <daemon>, <addr>, <name>: its answer and wanted. */
static void
expect(const char *daemon, const char *addr, const char *name, int ok,
    int wanted)
{
	int	w = -1, got;

	got = libwrap_check(daemon, addr, name, &w);
	if (got != ok || w != wanted)
		fail_msg("%s %s %s: got %d wanted %d, expected %d wanted %d",
		    daemon, addr != NULL ? addr : "(no address)",
		    name != NULL ? name : "(not looked up)", got, w, ok,
		    wanted);
	assert_int_equal(dry_run, 0);
}

static int
setup(void **state)
{
	(void)state;
	(void)strlcpy(dir, "/tmp/test_libwrap.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(allow_path, sizeof(allow_path), "%s/hosts.allow", dir);
	(void)snprintf(deny_path, sizeof(deny_path), "%s/hosts.deny", dir);
	hosts_allow_table = allow_path;
	hosts_deny_table = deny_path;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rm_tree(dir);
}

/* A hosts.deny line refuses its address for its daemon only. */
static void
test_deny_address(void **state)
{
	(void)state;
	rules("", "echo: 127.0.0.2\n");
	expect("echo", "127.0.0.2", NULL, 0, 0);
	expect("echo", "127.0.0.3", NULL, 1, 0);
	expect("daytime", "127.0.0.2", NULL, 1, 0);
	/* A network, and an address the client does not have. */
	rules("", "echo: 127.0.0.0/255.255.255.0, 10.\n");
	expect("echo", "127.0.0.9", NULL, 0, 0);
	expect("echo", "10.1.2.3", NULL, 0, 0);
	expect("echo", "127.0.1.9", NULL, 1, 0);
	/* No files: everyone is admitted, as with libwrap everywhere. */
	assert_int_equal(unlink(allow_path), 0);
	assert_int_equal(unlink(deny_path), 0);
	expect("echo", "127.0.0.2", NULL, 1, 0);
}

/*
 * libwrap_recheck(): files with comments only admit everyone without
 * libwrap; a rule written then is not seen until the interval has passed
 * (here: until it is set back to 0, look at every check).
 */
static void
test_recheck(void **state)
{
	(void)state;
	rules("# comments only\n", "# none\n");
	libwrap_recheck(60000);
	expect("echo", "127.0.0.2", NULL, 1, 0);
	rules("", "echo: 127.0.0.2\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	libwrap_recheck(0);
	expect("echo", "127.0.0.2", NULL, 0, 0);
	rules("# comments only\n", "# none\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
}

/* hosts.allow first: what it admits, ALL: ALL in hosts.deny cannot refuse. */
static void
test_allow_first(void **state)
{
	(void)state;
	rules("echo: 127.0.0.2\n", "ALL: ALL\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	expect("echo", "127.0.0.3", NULL, 0, 0);
	expect("other", "127.0.0.2", NULL, 0, 0);
	rules("ALL EXCEPT echo: ALL\n", "ALL: ALL\n");
	expect("echo", "127.0.0.2", NULL, 0, 0);
	expect("other", "127.0.0.2", NULL, 1, 0);
}

/*
 * A rule on names: without a name the hook says it was wanted and the
 * name is "unknown"; with the verified name, or LIBWRAP_NO_NAME after a
 * look-up found none, the answer is final.
 */
static void
test_names(void **state)
{
	(void)state;
	rules("echo: .example.org\n", "ALL: ALL\n");
	expect("echo", "127.0.0.2", NULL, 0, 1);
	expect("echo", "127.0.0.2", "host.example.org", 1, 0);
	expect("echo", "127.0.0.2", "host.example.com", 0, 0);
	expect("echo", "127.0.0.2", LIBWRAP_NO_NAME, 0, 0);
	/* An address rule decides before the name is read. */
	rules("echo: 127.0.0.2 .example.org\n", "ALL: ALL\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	/* UNKNOWN: refused until a name is known. */
	rules("", "ALL: UNKNOWN\n");
	expect("echo", "127.0.0.2", NULL, 0, 1);
	expect("echo", "127.0.0.2", "localhost", 1, 0);
	expect("echo", "127.0.0.2", LIBWRAP_NO_NAME, 0, 0);
	/* No user is ever looked up: user@host sees "unknown". */
	rules("", "ALL: root@ALL\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
}

/* A client with no known address (wait = yes stream) is "unknown". */
static void
test_unknown_address(void **state)
{
	(void)state;
	rules("", "echo: 127.0.0.2\n");
	expect("echo", NULL, NULL, 1, 0);
	rules("", "echo: ALL\n");
	expect("echo", NULL, NULL, 0, 0);
	rules("echo: 127.0.0.2\n", "ALL: ALL\n");
	expect("echo", NULL, NULL, 0, 0);
}

/* IPv6 addresses in brackets, with and without a prefix length. */
static void
test_ipv6(void **state)
{
	(void)state;
	rules("echo: [::1] [fd00::]/8\n", "ALL: ALL\n");
	expect("echo", "::1", NULL, 1, 0);
	/* libwrap tries a bracketed address that did not match as a name. */
	expect("echo", "fd12::5", NULL, 1, 1);
	expect("echo", "fd12::5", LIBWRAP_NO_NAME, 1, 0);
	expect("echo", "::2", NULL, 0, 1);
	expect("echo", "::2", "two.example.org", 0, 0);
}

/*
 * Options of hosts_options(5): allow and deny decide; twist refuses
 * without replacing this process; spawn runs nothing; umask is put back.
 */
static void
test_options(void **state)
{
	char		path[160], cmd[256];
	struct stat	st;
	mode_t		mask;

	(void)state;
	rules("ALL: 127.0.0.2: DENY\n", "");
	expect("echo", "127.0.0.2", NULL, 0, 0);
	expect("echo", "127.0.0.3", NULL, 1, 0);
	rules("", "ALL: 127.0.0.2: ALLOW\n");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	rules("ALL: ALL: twist /bin/echo refused\n", "");
	expect("echo", "127.0.0.2", NULL, 0, 0);
	(void)snprintf(path, sizeof(path), "%s/spawned", dir);
	(void)snprintf(cmd, sizeof(cmd), "ALL: ALL: spawn /usr/bin/touch "
	    "%s\n", path);
	rules(cmd, "");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	assert_int_equal(stat(path, &st), -1);
	mask = umask(022);
	rules("ALL: ALL: umask 077\n", "");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	assert_int_equal(umask(mask), 022);
	/* libwrap applies setenv even so: portgate.conf(5) warns of it. */
	rules("ALL: ALL: setenv PORTGATE_TEST_LIBWRAP yes\n", "");
	expect("echo", "127.0.0.2", NULL, 1, 0);
	assert_non_null(getenv("PORTGATE_TEST_LIBWRAP"));
	assert_int_equal(unsetenv("PORTGATE_TEST_LIBWRAP"), 0);
	/* A bad option refuses, as libwrap does. */
	rules("ALL: ALL: nosuchoption\n", "");
	expect("echo", "127.0.0.2", NULL, 0, 0);
}

/* The daemon name of a service, as xinetd's access_control() makes it. */
static void
test_daemon_name(void **state)
{
	struct service_conf	 sc;
	char			 name[] = "ftp", id[] = "ftp-v6";
	char			 telnetd[] = "/usr/sbin/in.telnetd";
	char			 tcpd[] = "/usr/sbin/tcpd";
	char			 ftpd[] = "/usr/sbin/in.ftpd", l[] = "-l";
	char			 bareftpd[] = "in.ftpd";
	char			*args[] = { ftpd, l }, *bare[] = { bareftpd, l };

	(void)state;
	memset(&sc, 0, sizeof(sc));
	sc.sc_name = name;
	sc.sc_id = id;
	/* Neither server nor built-in: the id. */
	assert_string_equal(libwrap_daemon(&sc), "ftp-v6");
	sc.sc_server = telnetd;
	assert_string_equal(libwrap_daemon(&sc), "in.telnetd");
	sc.sc_flags = SFLAG_NAMEINARGS;
	sc.sc_server = tcpd;
	wordlist_set(&sc.sc_server_args, args, 2);
	assert_string_equal(libwrap_daemon(&sc), "in.ftpd");
	wordlist_set(&sc.sc_server_args, bare, 2);
	assert_string_equal(libwrap_daemon(&sc), "in.ftpd");
	wordlist_clear(&sc.sc_server_args);
	assert_string_equal(libwrap_daemon(&sc), "ftp-v6");
	sc.sc_flags = 0;
	/* A redirect or a built-in: the service name, not the id. */
	sc.sc_nredirect = 1;
	assert_string_equal(libwrap_daemon(&sc), "ftp");
	sc.sc_nredirect = 0;
	sc.sc_server = NULL;
	sc.sc_builtin = BUILTIN_ECHO;
	assert_string_equal(libwrap_daemon(&sc), "ftp");
	/* The attribute wins; NOLIBWRAP wins over everything. */
	(void)strlcpy(sc.sc_libwrap, "other", sizeof(sc.sc_libwrap));
	assert_string_equal(libwrap_daemon(&sc), "other");
	sc.sc_flags = SFLAG_NOLIBWRAP;
	assert_null(libwrap_daemon(&sc));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deny_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recheck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test(test_daemon_name),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
