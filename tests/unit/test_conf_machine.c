/*
 * One broken service does not take the others down.  Findings about this
 * machine (a server, user, group, banner, /etc/services name, built-in or
 * bind address that is not there) and services that repeat another's
 * socket leave out their service only, with an error (DIAG_DISABLE), as
 * xinetd drops them; errors of the language still refuse the file.  Also:
 * a service name as the port, the warnings of config_compat.c (clients
 * that xinetd would treat otherwise) and user/group without root.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <netdb.h>
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

#include "conf_diag.h"
#include "config.h"
#include "unit_util.h"

#define TPATH_MAX	4096

static char		 tmpdir[] = "/tmp/test_conf_machine.XXXXXX";
static struct conf_diag	 cd;
static struct config	*cf;

/* A service every test keeps beside the broken one: it must stay. */
#define GOOD_SVC \
	"service echo\n" \
	"{\n" \
	"\ttype = INTERNAL UNLISTED\n" \
	"\tsocket_type = stream\n" \
	"\twait = no\n" \
	"\tport = 10007\n" \
	"}\n"

/* "<tmpdir>/<name>" (unit_path()). */
static const char *
tpath(const char *name)
{
	return unit_path(tmpdir, name);
}

/* Write <text> (with each '@' replaced by the scratch directory). */
static void
put(const char *name, const char *text)
{
	FILE	*f;

	assert_non_null(f = fopen(tpath(name), "w"));
	for (; *text != '\0'; text++) {
		if (*text == '@')
			(void)fputs(tmpdir, f);
		else
			(void)fputc(*text, f);
	}
	assert_int_equal(fclose(f), 0);
}

/* Print every diagnostic (shown when a test fails). */
static void
dump_diags(void)
{
	unit_dump_diags(&cd);
}

/* Load <text> as t.conf; the result stays in cf and cd. */
static void
load(const char *text)
{
	config_unref(cf);
	conf_diag_clear(&cd);
	put("t.conf", text);
	cf = config_load(tpath("t.conf"), CONF_CHECK_ONLY, &cd);
}

/* Load a file by path. */
static void
load_path(const char *path)
{
	config_unref(cf);
	conf_diag_clear(&cd);
	cf = config_load(path, CONF_CHECK_ONLY, &cd);
}

/* The enabled service with id <id>, or NULL. */
static struct service_conf *
svc(const char *id)
{
	int	i;

	for (i = 0; cf != NULL && i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_id, id) == 0)
			return cf->cf_services[i];
	return NULL;
}

/* Is <id> among the services left out? */
static int
is_off(const char *id)
{
	int	i;

	for (i = 0; cf != NULL && i < cf->cf_noff; i++)
		if (strcmp(cf->cf_off[i], id) == 0)
			return 1;
	return 0;
}

/* The diagnostics containing <needle> with level <level>. */
static int
count_diag(enum diag_level level, const char *needle)
{
	int	i, n = 0;

	for (i = 0; i < cd.cd_nmsgs; i++)
		if (cd.cd_msgs[i].dm_level == level &&
		    strstr(cd.cd_msgs[i].dm_text, needle) != NULL)
			n++;
	return n;
}

/*
 * The file loaded, echo runs, <id> is left out with <n> findings that
 * contain <needle>, and nothing else is an error.
 */
static void
expect_off(const char *id, int n, const char *needle)
{
	if (cf == NULL || cd.cd_errors != 0 || cd.cd_disables != n ||
	    count_diag(DIAG_DISABLE, needle) < 1)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_disables, n);
	assert_true(count_diag(DIAG_DISABLE, needle) >= 1);
	assert_non_null(svc("echo"));
	assert_null(svc(id));
	assert_true(is_off(id));
	assert_int_equal(cf->cf_noff, 1);
}

/* A service whose server is missing (a stale conffile, like tangdx). */
static void
test_server_missing(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service tangdx\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tport = 10080\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "\tserver = /usr/libexec/no-such-tangdx-pg\n"	/* 15 */
	    "}\n");
	expect_off("tangdx", 1, ":15: error: server "
	    "/usr/libexec/no-such-tangdx-pg: not found on this machine");
	/* The text says error, as in the log. */
	assert_true(count_diag(DIAG_DISABLE, ": error: ") == 1);
}

/* A banner file that is not there. */
static void
test_banner_missing(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service greet\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = greet\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10008\n"
	    "\tbanner = @/no-such-banner\n"		/* 15 */
	    "}\n");
	/* The name is no built-in either: two findings, one service. */
	assert_true(count_diag(DIAG_DISABLE, ":15: error: banner: ") == 1);
	expect_off("greet", 2, "on this machine");

	/* In defaults: every service that inherits it is left out. */
	load("defaults\n{\n\tbanner = @/no-such-banner\n}\n" GOOD_SVC);
	assert_non_null(cf);
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_disables, 1);
	assert_int_equal(cf->cf_nservices, 0);
	assert_true(is_off("echo"));
}

/* A user, or a group, that does not exist here. */
static void
test_user_group_missing(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service spawned\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tport = 10081\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = no-such-user-pg\n"		/* 14 */
	    "\tserver = /bin/true\n"
	    "}\n");
	expect_off("spawned", 1, ":14: error: user 'no-such-user-pg' does "
	    "not exist on this machine");

	load(GOOD_SVC
	    "service spawned\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tport = 10081\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "\tgroup = no-such-group-pg\n"		/* 15 */
	    "\tserver = /bin/true\n"
	    "}\n");
	expect_off("spawned", 1, ":15: error: group 'no-such-group-pg' does "
	    "not exist on this machine");
}

/* A service name not in /etc/services, as the port or as the service. */
static void
test_service_name_missing(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service named\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = named\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = no-such-port-pg\n"		/* 14 */
	    "}\n");
	/* The service name is no built-in: a second finding. */
	assert_int_equal(count_diag(DIAG_DISABLE, ":14: error: service named: "
	    "port no-such-port-pg: 'no-such-port-pg/tcp' is not in "
	    "/etc/services on this machine"), 1);
	expect_off("named", 2, "no-such-port-pg");

	load(GOOD_SVC
	    "service no-such-service-pg\n"		/* 8 */
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tredirect = 127.0.0.1 7\n"
	    "}\n");
	expect_off("no-such-service-pg", 1, ":8: error: service "
	    "no-such-service-pg: no port: 'no-such-service-pg/tcp' is not in "
	    "/etc/services on this machine");
}

/* A built-in portgate (and xinetd since 2.3.12) does not have. */
static void
test_builtin_missing(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service servers\n"				/* 8 */
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tport = 9099\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "}\n");
	expect_off("servers", 1, ":8: error: service servers: no internal "
	    "service of that name");
}

/* A bind address that is not on this machine; 127.0.0.0/8 always is. */
static void
test_bind_not_here(void **state)
{
	(void)state;
	/* TEST-NET-2: on no interface of a test machine. */
	load(GOOD_SVC
	    "service far\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = far\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10009\n"
	    "\tbind = 198.51.100.7\n"			/* 15 */
	    "}\n");
	/* echo is no built-in name for "far": two findings. */
	assert_int_equal(count_diag(DIAG_DISABLE, ":15: error: bind address "
	    "198.51.100.7 is not an address of this machine"), 1);
	expect_off("far", 2, "198.51.100.7");

	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "\tbind = 127.0.0.5\n"
	    "}\n");
	assert_non_null(cf);
	assert_int_equal(cd.cd_nmsgs, 0);
	assert_non_null(svc("echo"));
}

/*
 * freebind = yes: a bind address not on this machine (a virtual address
 * keepalived will move here) keeps the service, from the service or from
 * defaults; freebind = no in the service overrides the defaults and leaves
 * it out.  An interface name still stands for its address.
 */
static void
test_bind_not_here_freebind(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load(GOOD_SVC
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-vip\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10009\n"
	    "\tbind = 198.51.100.7\n"
	    "\tfreebind = yes\n"
	    "}\n");
	if (cf == NULL || cd.cd_nmsgs != 0)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cd.cd_nmsgs, 0);
	assert_non_null(sc = svc("echo-vip"));
	assert_int_equal(sc->sc_freebind, 1);
	assert_int_equal(sc->sc_bindaddr.ss_family, AF_INET);
	assert_int_equal(svc("echo")->sc_freebind, 0);

	load("defaults\n"
	    "{\n"
	    "\tfreebind = yes\n"
	    "}\n"
	    GOOD_SVC
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-vip6\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10009\n"
	    "\tbind = 2001:db8::7\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-typo\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10011\n"
	    "\tbind = 198.51.100.8\n"
	    "\tfreebind = no\n"
	    "}\n");
	assert_non_null(sc = svc("echo-vip6"));
	assert_int_equal(sc->sc_freebind, 1);
	assert_int_equal(sc->sc_bindaddr.ss_family, AF_INET6);
	expect_off("echo-typo", 1, "bind address 198.51.100.8 is not an "
	    "address of this machine");

	load(GOOD_SVC
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-lo\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10009\n"
	    "\tinterface = lo\n"
	    "\tflags = IPv4\n"
	    "\tfreebind = yes\n"
	    "}\n");
	assert_non_null(cf);
	assert_non_null(sc = svc("echo-lo"));
	assert_int_equal(sc->sc_bindaddr.ss_family, AF_INET);
}

/* A language error still refuses the whole file. */
static void
test_language_error_stops(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service servers\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tport = 9099\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "}\n"
	    "service daytime\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = maybe\n"				/* 19 */
	    "\tport = 10013\n"
	    "}\n");
	assert_null(cf);
	assert_int_equal(cd.cd_errors, 1);
	assert_int_equal(count_diag(DIAG_ERROR, ":19: error: wait: bad value "
	    "'maybe'"), 1);
	/* The finding about the machine is still listed. */
	assert_int_equal(cd.cd_disables, 1);
}

/* A service that repeats another's socket: the later one is left out. */
static void
test_duplicate_later_left_out(void **state)
{
	(void)state;
	load(GOOD_SVC
	    "service echo\n"				/* 8 */
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo-again\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "}\n");
	expect_off("echo-again", 1, ":8: error: service echo-again would "
	    "listen on tcp port 10007 address * like service echo at ");
}

/* port = rsync: the number from /etc/services for the protocol. */
static void
test_port_name(void **state)
{
	struct servent	*se;

	(void)state;
	if ((se = getservbyname("rsync", "tcp")) == NULL) {
		print_message("no rsync/tcp in /etc/services\n");
		TEST_SKIP();
	}
	load("service rsync\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "\tserver = /bin/true\n"
	    "\tport = rsync\n"
	    "}\n"
	    "service mirror\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = rsync\n"
	    "\tbind = 127.0.0.2\n"
	    "}\n");
	/* "mirror" is no built-in, which is not what this is about. */
	assert_non_null(svc("rsync"));
	assert_int_equal(svc("rsync")->sc_port, 873);

	/* The name must agree with the service's own (echo is 7). */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = rsync\n"				/* 6 */
	    "}\n");
	assert_null(cf);
	assert_int_equal(count_diag(DIAG_ERROR, ":6: error: service echo: "
	    "port rsync differs from /etc/services (echo/tcp is port 7)"), 1);

	/* UNLISTED takes any name of /etc/services for its protocol. */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = rsync\n"
	    "}\n");
	assert_non_null(cf);
	assert_int_equal(svc("echo")->sc_port, 873);

	/* A word that is no name is an error of the language. */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = -7\n"
	    "}\n");
	assert_null(cf);
	assert_int_equal(count_diag(DIAG_ERROR, "port: bad value '-7': "
	    "expected a port number from 0 to 65535 or a service name"), 1);
}

/*
 * xinetd's own sample.conf: what it names that this machine lacks
 * (servers under /usr/etc, "name" and "irc" in /etc/services, the bind
 * addresses 192.168.1.30 and 192.231.139.175) is left out, and the eight
 * built-ins run (and systat, whose server is /usr/bin/ps).
 */
static void
test_sample_conf_runs_rest(void **state)
{
	static const char *const runs[] = {
		"echo-stream", "echo-dgram", "chargen-stream",
		"chargen-dgram", "daytime-stream", "daytime-dgram",
		"time-stream", "time-dgram"
	};
	static const char *const off[] = {
		"login", "shell", "exec", "comsat", "talk", "ntalk", "telnet",
		"ftp", "name", "tftp", "finger", "systat", "netstat", "irc"
	};
	int		 nrun;
	const char	*data = getenv("PORTGATE_DATA");
	char		 path[TPATH_MAX];
	struct stat	 st;
	size_t		 i;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/compat/examples/sample.conf",
	    data != NULL ? data : "tests/data");
	if (stat("/usr/etc/in.rlogind", &st) == 0 ||
	    getservbyname("irc", "tcp") != NULL) {
		print_message("this machine has what sample.conf names\n");
		TEST_SKIP();
	}
	load_path(path);
	if (cf == NULL)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cd.cd_errors, 0);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (svc(runs[i]) == NULL)
			fail_msg("%s does not run", runs[i]);
	/* systat's server is /usr/bin/ps, which this machine may have. */
	nrun = 8 + (access("/usr/bin/ps", X_OK) == 0);
	if (nrun == 9 && svc("systat") == NULL)
		fail_msg("systat does not run");
	if (cf->cf_nservices != nrun)
		for (i = 0; i < (size_t)cf->cf_nservices; i++)
			print_message("runs: %s\n", cf->cf_services[i]->sc_id);
	assert_int_equal(cf->cf_nservices, nrun);
	/* tftp is in "disabled"; the five RPC services are not started. */
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (strcmp(off[i], "tftp") != 0 &&
		    strcmp(off[i], "systat") != 0 && !is_off(off[i]))
			fail_msg("%s is not left out", off[i]);
	assert_int_equal(count_diag(DIAG_DISABLE, "bind address 192.168.1.30 "
	    "is not an address of this machine"), 1);
	assert_int_equal(count_diag(DIAG_DISABLE, "'name/udp' is not in "
	    "/etc/services on this machine"), 1);
}

/*
 * Stock Debian xinetd.d with every service switched on: servers and
 * services (removed built-ins) and the five *-udp files (the id and
 * socket of the dgram entry of their pair) are left out, the ten run.
 */
static void
test_debian_all_enabled(void **state)
{
	static const char *const files[] = {
		"chargen", "chargen-udp", "daytime", "daytime-udp", "discard",
		"discard-udp", "echo", "echo-udp", "servers", "services",
		"time", "time-udp"
	};
	const char	*data = getenv("PORTGATE_DATA");
	char		 src[TPATH_MAX], cmd[3 * TPATH_MAX];
	size_t		 i;

	(void)state;
	if (getservbyname("echo", "udp") == NULL) {
		print_message("no echo/udp in /etc/services\n");
		TEST_SKIP();
	}
	assert_int_equal(mkdir(tpath("xinetd.d"), 0755), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(src, sizeof(src), "%s/compat/xinetd.d/%s",
		    data != NULL ? data : "tests/data", files[i]);
		(void)snprintf(cmd, sizeof(cmd), "sed 's/disable[[:space:]]*="
		    "[[:space:]]*yes/disable = no/' '%s' > '%s/xinetd.d/%s'",
		    src, tmpdir, files[i]);
		assert_int_equal(system(cmd), 0);
	}
	load("defaults\n{\n}\nincludedir @/xinetd.d\n");
	if (cf == NULL)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 10);
	assert_int_equal(cf->cf_noff, 7);
	assert_int_equal(cd.cd_disables, 7);
	assert_true(is_off("servers"));
	assert_true(is_off("services"));
	assert_int_equal(count_diag(DIAG_DISABLE, "echo-udp:4: error: "
	    "duplicate service: id echo-dgram on udp port 7"), 1);
	assert_non_null(svc("echo-dgram"));
	assert_int_equal(svc("echo-dgram")->sc_port, 7);
}

/* user and group are ignored without root: a warning at each. */
static void
test_not_root(void **state)
{
	static const char text[] =
	    "service spawned\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tport = 10081\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = nobody\n"				/* 7 */
	    "\tgroup = 0\n"				/* 8 */
	    "\tpassenv =\n"
	    "\tserver = /bin/true\n"
	    "}\n"
	    "service redir\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tport = 10082\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = nobody\n"
	    "\tredirect = 127.0.0.1 7\n"
	    "}\n";

	(void)state;
	load(text);
	assert_non_null(cf);
	assert_int_equal(cd.cd_nmsgs, 0);

	config_set_root(0);
	load(text);
	config_set_root(1);
	if (cd.cd_warnings != 2)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(cd.cd_warnings, 2);
	assert_int_equal(count_diag(DIAG_WARNING, ":7: warning: service "
	    "spawned: user nobody is ignored: portgate does not run as root, "
	    "so server /bin/true runs as "), 1);
	assert_int_equal(count_diag(DIAG_WARNING, ":8: warning: service "
	    "spawned: group 0 is ignored: portgate does not run as root"), 1);
}

/* Lines that admit other clients than in xinetd say so, with a case. */
static void
test_compat_meaning(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "\tonly_from = 127.0.0.1 10.1.0.0/16 192.168.0.0\n"	/* 7 */
	    "\tno_access = 127.0.0.0/8 10.0.0.0\n"
	    "\tno_access += 192.168.0.0/24\n"
	    "\taccess_times = 22:00-02:00 12:00-24:00 8:00-9:00\n"	/* 10 */
	    "\tv6only = no\n"					/* 11 */
	    "}\n");
	if (cf == NULL)
		dump_diags();
	assert_non_null(cf);
	assert_int_equal(count_diag(DIAG_WARNING, ":7: warning: service echo: "
	    "xinetd would refuse 127.0.0.1 here, portgate admits it "
	    "(only_from 127.0.0.1 is more specific than no_access "
	    "127.0.0.0/8: the more specific rule wins)"), 1);
	assert_int_equal(count_diag(DIAG_WARNING, ":7: warning: service echo: "
	    "xinetd would refuse 10.1.0.0 here, portgate admits it "
	    "(only_from 10.1.0.0/16 is more specific than no_access "
	    "10.0.0.0"), 1);
	/* 192.168.0.0 (/16) is less specific than the /24: no difference. */
	assert_int_equal(count_diag(DIAG_WARNING, "192.168."), 0);
	assert_int_equal(count_diag(DIAG_WARNING, ":10: warning: service "
	    "echo: xinetd rejects 22:00-02:00, a window across midnight: it "
	    "would disable the service and refuse every client, portgate "
	    "admits clients from 22:00 to 02:00"), 1);
	assert_int_equal(count_diag(DIAG_WARNING, ":10: warning: service "
	    "echo: xinetd rejects the end 24:00 of 12:00-24:00"), 1);
	assert_int_equal(count_diag(DIAG_WARNING, "8:00-9:00"), 0);
	assert_int_equal(count_diag(DIAG_WARNING, ":11: warning: service "
	    "echo: xinetd makes the socket IPv6-only for any v6only line: it "
	    "would refuse IPv4 clients such as 127.0.0.1 here"), 1);
	assert_int_equal(cd.cd_warnings, 5);

	/* The same meaning in both: no word. */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "\tbind = 127.0.0.1\n"
	    "\tonly_from = 127.0.0.0/8\n"
	    "\tno_access = 127.0.0.3\n"
	    "\taccess_times = 2:00-8:59 12:00-23:59\n"
	    "\tv6only = no\n"
	    "}\n");
	assert_non_null(cf);
	assert_int_equal(cd.cd_nmsgs, 0);

	/* IPv6 /128, which xinetd never matches. */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "\tonly_from = ::1/128\n"
	    "\taccess_times = Mon-Fri 08:00-18:00\n"
	    "}\n");
	assert_non_null(cf);
	assert_int_equal(count_diag(DIAG_WARNING, ":7: warning: service echo: "
	    "xinetd never matches only_from ::1/128 (an IPv6 /128): it would "
	    "refuse ::1 here, portgate admits it"), 1);
	assert_int_equal(count_diag(DIAG_WARNING, ":8: warning: service echo: "
	    "xinetd knows no days (Mon-Fri)"), 1);
	assert_int_equal(cd.cd_warnings, 2);
}

static int
setup(void **state)
{
	(void)state;
	config_set_root(1);
	conf_diag_init(&cd);
	cf = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_unref(cf);
	cf = NULL;
	conf_diag_clear(&cd);
	config_set_root(1);
	(void)unit_rm_tree(tpath("xinetd.d"));
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_server_missing),
		T(test_banner_missing),
		T(test_user_group_missing),
		T(test_service_name_missing),
		T(test_builtin_missing),
		T(test_bind_not_here),
		T(test_bind_not_here_freebind),
		T(test_language_error_stops),
		T(test_duplicate_later_left_out),
		T(test_port_name),
		T(test_sample_conf_runs_rest),
		T(test_debian_all_enabled),
		T(test_not_root),
		T(test_compat_meaning),
#undef T
	};

	return test_status(cmocka_run_group_tests(tests, group_setup,
	    group_teardown));
}
