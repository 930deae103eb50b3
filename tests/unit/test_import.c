/*
 * Unit tests of the importers: rinetd rules and inetd lines translated to
 * portgate services, rinetd's wildcards as networks (or an error naming
 * the line), the allow and deny semantics kept, bad lines.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "import.h"

static struct import_result	ir;

static int
ir_setup(void **state)
{
	(void)state;
	import_result_init(&ir);
	return 0;
}

static int
ir_teardown(void **state)
{
	(void)state;
	import_result_free(&ir);
	return 0;
}

/* rinetd <text>, expected to translate; the output. */
static const char *
rinetd_ok(const char *text)
{
	if (import_rinetd(text, "r.conf", &ir) != 0)
		fail_msg("import failed: %s", ir.ir_msgs.ib_data);
	assert_int_equal(ir.ir_errors, 0);
	assert_non_null(ir.ir_out.ib_data);
	return ir.ir_out.ib_data;
}

/* rinetd <text>, expected to fail with <msg> and print nothing. */
static void
rinetd_fails(const char *text, const char *msg)
{
	assert_int_equal(import_rinetd(text, "r.conf", &ir), -1);
	assert_true(ir.ir_out.ib_len == 0);
	assert_non_null(ir.ir_msgs.ib_data);
	if (strstr(ir.ir_msgs.ib_data, msg) == NULL)
		fail_msg("expected '%s' in '%s'", msg, ir.ir_msgs.ib_data);
}

static void
contains(const char *out, const char *want)
{
	if (strstr(out, want) == NULL)
		fail_msg("expected '%s' in:\n%s", want, out);
}

/* A TCP rule: the whole service, with the comment naming the line. */
static void
test_rinetd_tcp_rule(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("# c\n\n  0.0.0.0 80   192.168.1.2 8080  # web\n");
	assert_string_equal(out, "# Imported from the rinetd configuration "
	    "r.conf by portgate --import rinetd.\n"
	    "\n# r.conf:3: 0.0.0.0 80   192.168.1.2 8080\n"
	    "service rinetd-tcp-80\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= 80\n\tbind\t\t= 0.0.0.0\n"
	    "\tredirect\t= 192.168.1.2 8080\n}\n");
}

/* UDP with rinetd's timeout (default 72 s), IPv6, names, duplicates. */
static void
test_rinetd_udp_ipv6(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("127.0.0.1 53/udp ::1 5353/udp [timeout=30]\n"
	    ":: 53/udp 127.0.0.1 53/udp\n"
	    "::1 http/tcp fe80::1 http/tcp\n");
	contains(out, "service rinetd-udp-53\n");
	contains(out, "service rinetd-udp-53-2\n");
	contains(out, "\tsocket_type\t= dgram\n\tprotocol\t= udp\n"
	    "\twait\t\t= yes\n\tport\t\t= 53\n\tbind\t\t= 127.0.0.1\n"
	    "\tredirect\t= ::1 5353\n\tidle_timeout\t= 30\n");
	contains(out, "\tbind\t\t= ::\n\tredirect\t= 127.0.0.1 53\n"
	    "\tidle_timeout\t= 72\n");
	contains(out, "service rinetd-tcp-http\n");
	contains(out, "\tbind\t\t= ::1\n\tredirect\t= fe80::1 http\n}");
}

/* Wildcards with an exact network; global allows and denies. */
static void
test_rinetd_wildcards(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("allow 192.168.1.*\nallow 10.*.*.*\nallow 172.16.*\n"
	    "allow 192.0.2.7\nallow fe80:*\nallow 2001:db8:*\nallow ::1\n"
	    "deny 10.1.*\n127.0.0.1 1 127.0.0.1 2\n");
	contains(out, "\tonly_from\t= 192.168.1.0/24 10.0.0.0/8 172.16.0.0/16 "
	    "192.0.2.7 fe80::/16 2001:db8::/32 ::1\n");
	contains(out, "\tno_access\t= 10.1.0.0/16\n");
}

/* "*" is every address of both families. */
static void
test_rinetd_star(void **state)
{
	(void)state;
	contains(rinetd_ok("127.0.0.1 1 127.0.0.1 2\ndeny *\n"),
	    "\tno_access\t= 0.0.0.0/0 ::/0\n");
}

/* Patterns no list of networks matches exactly. */
static void
test_rinetd_inexact(void **state)
{
	static const char *const pats[] = {
		"192.168.1.1?", "192.168.*.1", "192.168.1*", "10.*.1.*",
		"192.168", "1.2.3.4.5", "1.2.3.04", "2001:618:*:e43f",
		"0:1:*", "FE80:*", "2001:db8::01", "host.example",
	};
	char	text[128], want[64];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		import_result_free(&ir);
		(void)snprintf(text, sizeof(text), "127.0.0.1 1 127.0.0.1 2\n"
		    "deny %s\n", pats[i]);
		(void)snprintf(want, sizeof(want), "r.conf:2: deny %s: no list",
		    pats[i]);
		rinetd_fails(text, want);
	}
}

/* Global and per-rule allows must both hold: their intersection. */
static void
test_rinetd_intersection(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("allow 10.*\nallow 192.168.1.5\n"
	    "127.0.0.1 1 127.0.0.1 2\nallow 10.1.2.*\nallow 172.16.*\n"
	    "127.0.0.1 3 127.0.0.1 4\n"
	    "127.0.0.1 5 127.0.0.1 6\nallow 172.16.*\n");
	contains(out, "\tport\t\t= 1\n\tbind\t\t= 127.0.0.1\n"
	    "\tredirect\t= 127.0.0.1 2\n\tonly_from\t= 10.1.2.0/24\n}");
	contains(out, "\tredirect\t= 127.0.0.1 4\n"
	    "\tonly_from\t= 10.0.0.0/8 192.168.1.5\n}");
	contains(out, "\tredirect\t= 127.0.0.1 6\n"
	    "\t# rinetd's allow and deny rules admit no client here\n"
	    "\tonly_from\t=\n}");
}

/* An allow inside a deny would win in portgate; rinetd refuses it. */
static void
test_rinetd_allow_inside_deny(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("deny 10.*\n127.0.0.1 1 127.0.0.1 2\n"
	    "allow 10.1.*\nallow 10.*\nallow 192.168.*\ndeny 192.168.0.1\n");
	contains(out, "\tonly_from\t= 192.168.0.0/16\n"
	    "\tno_access\t= 10.0.0.0/8 192.168.0.1\n");
}

/* logfile, logcommon and pidlogfile. */
static void
test_rinetd_logging(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("logfile /var/log/rinetd.log\nlogcommon\n"
	    "pidlogfile /run/r.pid\n127.0.0.1 1 127.0.0.1 2\n");
	contains(out, "defaults\n{\n\tlog_type\t= FILE /var/log/rinetd.log\n"
	    "\tlog_on_success\t= HOST PORT DURATION TRAFFIC\n"
	    "\tlog_on_failure\t= HOST PORT\n}\n");
	contains(ir.ir_msgs.ib_data, "r.conf:2: warning: logcommon");
	contains(ir.ir_msgs.ib_data, "r.conf:3: warning: pidlogfile: give "
	    "portgate -pidfile /run/r.pid");
	assert_int_equal(ir.ir_warnings, 2);
}

/* Bad lines: every error, each with its line. */
static void
test_rinetd_errors(void **state)
{
	(void)state;
	rinetd_fails("127.0.0.1 1 127.0.0.1\n", "r.conf:1: expected a "
	    "forwarding rule");
	import_result_free(&ir);
	rinetd_fails("\n127.0.0.1 1/udp 127.0.0.1 2\n", "r.conf:2: this rule "
	    "forwards UDP to TCP");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1/sctp 127.0.0.1 2\n", "r.conf:1: expected a "
	    "port");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [src=10.0.0.1]\n",
	    "r.conf:1: src=10.0.0.1: portgate cannot");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [timeout=x]\n",
	    "r.conf:1: timeout: expected");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [colour=red]\n",
	    "r.conf:1: unknown option 'colour=red'");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 timeout=1\n",
	    "r.conf:1: expected options in brackets");
	import_result_free(&ir);
	rinetd_fails("logfile rel.log\nallow\nallow 1.2.3.?\n",
	    "r.conf:1: logfile expects one absolute path\n"
	    "r.conf:2: allow expects one pattern\n"
	    "r.conf:3: allow 1.2.3.?");
	assert_int_equal(ir.ir_errors, 3);
}

/* Options may hold blanks; a file without rules warns. */
static void
test_rinetd_options_blanks(void **state)
{
	(void)state;
	contains(rinetd_ok("127.0.0.1 1/udp 127.0.0.1 2/udp [ timeout=5 ]\n"),
	    "\tidle_timeout\t= 5\n");
	import_result_free(&ir);
	(void)rinetd_ok("# nothing\n");
	contains(ir.ir_msgs.ib_data, "r.conf: warning: no forwarding rule");
}

/* inetd <text>, expected to translate; the output. */
static const char *
inetd_ok(const char *text)
{
	if (import_inetd(text, "i.conf", &ir) != 0)
		fail_msg("import failed: %s", ir.ir_msgs.ib_data);
	return ir.ir_out.ib_data;
}

static void
inetd_fails(const char *text, const char *msg)
{
	assert_int_equal(import_inetd(text, "i.conf", &ir), -1);
	assert_true(ir.ir_out.ib_len == 0);
	if (strstr(ir.ir_msgs.ib_data, msg) == NULL)
		fail_msg("expected '%s' in '%s'", msg, ir.ir_msgs.ib_data);
	import_result_free(&ir);
}

/* A spawned server: user.group, argv[0] dropped, the comment line. */
static void
test_inetd_server(void **state)
{
	(void)state;
	assert_string_equal(inetd_ok("# c\n\ntalk dgram udp wait "
	    "nobody.tty /usr/sbin/in.talkd in.talkd -q\n"),
	    "# Imported from the inetd configuration i.conf by portgate "
	    "--import inetd.\n\n# i.conf:3: talk dgram udp wait nobody.tty "
	    "/usr/sbin/in.talkd in.talkd -q\nservice talk\n{\n"
	    "\ttype\t\t= UNLISTED\n\tsocket_type\t= dgram\n"
	    "\tprotocol\t= udp\n\twait\t\t= yes\n\tport\t\t= talk\n"
	    "\tflags\t\t= IPv4\n\tuser\t\t= nobody\n\tgroup\t\t= tty\n"
	    "\tgroups\t\t= yes\n\tserver\t\t= /usr/sbin/in.talkd\n"
	    "\tserver_args\t= -q\n}\n");
}

/* tcpd unwrapped with a warning; nowait.N as cps; tcp6; user:group. */
static void
test_inetd_tcpd(void **state)
{
	const char	*out;

	(void)state;
	out = inetd_ok("finger stream tcp6 nowait.40 nobody:nogroup "
	    "/usr/sbin/tcpd in.fingerd -w\n"
	    "finger stream tcp nowait root /usr/sbin/tcpd /opt/fingerd\n");
	contains(out, "\tflags\t\t= IPv6\n\tv6only\t\t= yes\n");
	contains(out, "\tcps\t\t= 40 600\n");
	contains(out, "\tuser\t\t= nobody\n\tgroup\t\t= nogroup\n");
	contains(out, "\tserver\t\t= /usr/sbin/in.fingerd\n"
	    "\tserver_args\t= -w\n}");
	contains(out, "\tid\t\t= finger-tcp-2\n");
	contains(out, "\tserver\t\t= /opt/fingerd\n}");
	contains(ir.ir_msgs.ib_data, "i.conf:1: warning: finger: tcpd "
	    "unwrapped to /usr/sbin/in.fingerd; portgate checks "
	    "/etc/hosts.allow");
	assert_int_equal(ir.ir_warnings, 2);
}

/* Built-ins, #<off># lines, address:service, another argument zero. */
static void
test_inetd_internal_off(void **state)
{
	const char	*out;

	(void)state;
	out = inetd_ok("echo stream tcp nowait root internal\n"
	    "#<off># 127.0.0.1:daytime\tdgram udp wait root internal\n"
	    "#discard stream tcp nowait root internal\n"
	    "8007 stream tcp46 nowait root /bin/cat xcat -u\n");
	contains(out, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= echo\n\tflags\t\t= IPv4\n}");
	contains(out, "service daytime\n{\n\t# update-inetd's #<off>#\n"
	    "\tdisable\t\t= yes\n");
	contains(out, "\tbind\t\t= 127.0.0.1\n}");
	assert_null(strstr(out, "discard"));
	contains(out, "service inetd-8007\n");
	contains(out, "\tport\t\t= 8007\n\tuser");
	contains(out, "\tflags\t\t+= NAMEINARGS\n\tserver_args\t= xcat -u\n");
	import_result_free(&ir);
	/* One name on two addresses: two ids. */
	out = inetd_ok("127.0.0.1:echo stream tcp nowait root internal\n"
	    "127.0.0.2:echo stream tcp nowait root internal\n");
	contains(out, "\tid\t\t= echo-tcp-2\n");
}

/* Bad lines, each with its line. */
static void
test_inetd_errors(void **state)
{
	(void)state;
	inetd_fails("echo stream tcp nowait root\n", "i.conf:1: expected "
	    "'service socket_type");
	inetd_fails("\necho raw tcp nowait root internal\n", "i.conf:2: "
	    "socket type 'raw'");
	inetd_fails("echo stream sctp nowait root internal\n", "i.conf:1: "
	    "protocol 'sctp'");
	inetd_fails("x stream rpc/tcp wait root /bin/x\n", "(RPC services "
	    "are not imported)");
	inetd_fails("echo stream udp nowait root internal\n", "i.conf:1: "
	    "stream with udp");
	inetd_fails("echo stream tcp nowait.x root internal\n", "i.conf:1: "
	    "'nowait.x': expected");
	inetd_fails("echo stream tcp often root internal\n", "'often'");
	inetd_fails("gopher stream tcp nowait root internal\n", "internal "
	    "service 'gopher'");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, ir_setup, ir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rinetd_tcp_rule),
		T(test_rinetd_udp_ipv6),
		T(test_rinetd_wildcards),
		T(test_rinetd_star),
		T(test_rinetd_inexact),
		T(test_rinetd_intersection),
		T(test_rinetd_allow_inside_deny),
		T(test_rinetd_logging),
		T(test_rinetd_errors),
		T(test_rinetd_options_blanks),
		T(test_inetd_server),
		T(test_inetd_tcpd),
		T(test_inetd_internal_off),
		T(test_inetd_errors),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
