/*
 * Unit tests of the importers: rinetd rules and inetd lines translated to
 * portgate services, rinetd's wildcards as networks (or an error naming
 * the line), the allow and deny semantics kept, bad lines.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

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

/* More rinetd error lines: each names its line and what was expected. */
static void
test_rinetd_more_errors(void **state)
{
	char	text[256];
	size_t	len;
	int	i;

	(void)state;
	rinetd_fails("127.0.0.1 1 127.0.0.1 2/udp\n", "r.conf:1: this rule "
	    "forwards TCP to UDP; portgate forwards TCP to TCP and UDP to "
	    "UDP only");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 /udp 127.0.0.1 2/udp\n", "r.conf:1: expected "
	    "a port as NUMBER or NAME");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1/udp 127.0.0.1 2/udp [timeout=0]\n",
	    "r.conf:1: timeout: expected a number of seconds, found '0'");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [timeout=5x]\n",
	    "found '5x'");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [\n", "r.conf:1: expected "
	    "options in brackets after the connect port, such as "
	    "[timeout=1200], found '['");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 [timeout=5,src=::1]\n",
	    "r.conf:1: src=::1: portgate cannot choose the source address");
	import_result_free(&ir);
	rinetd_fails("deny\n", "r.conf:1: deny expects one pattern");
	import_result_free(&ir);
	rinetd_fails("logfile\n", "r.conf:1: logfile expects one absolute "
	    "path");
	import_result_free(&ir);
	rinetd_fails("logfile /a /b\n", "r.conf:1: logfile expects");
	import_result_free(&ir);
	/* Seventeen words on one line. */
	len = 0;
	for (i = 0; i < 17; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "w%d ",
		    i);
	(void)snprintf(text + len, sizeof(text) - len, "\n");
	rinetd_fails(text, "r.conf:1: too many words\n");
	assert_int_equal(ir.ir_errors, 1);
	import_result_free(&ir);
	/* Sixteen words are a rule with bad options, not too many. */
	rinetd_fails("127.0.0.1 1 127.0.0.1 2 a b c d e f g h i j k l\n",
	    "r.conf:1: expected options in brackets");
	/* Every error counted, no rule printed, no "no rule" warning. */
	assert_int_equal(ir.ir_warnings, 0);
}

/*
 * A TCP rule's timeout is kept as a comment; IPv6 binds; the global
 * header; per-rule denies; logfile with logcommon; pidlogfile alone;
 * CRLF line ends; a repeated logfile keeps the last.
 */
static void
test_rinetd_more_forms(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("logfile /var/log/a.log\r\nlogfile /var/log/b.log\r\n"
	    "logcommon\r\npidlogfile\r\nallow 10.*\r\n"
	    "::  8080/tcp  ::1 80/tcp  [timeout=99]\r\n"
	    "deny 10.9.*\r\ndeny ::1\r\n"
	    "\t127.0.0.1 8080 127.0.0.1 81\t\r\n");
	assert_string_equal(out, "# Imported from the rinetd configuration "
	    "r.conf by portgate --import rinetd.\n"
	    "# rinetd's global allow and deny rules are part of each "
	    "service's only_from and no_access.\n"
	    "\n# r.conf:2: logfile /var/log/b.log\n"
	    "# r.conf:3: logcommon: portgate's own record format\n"
	    "defaults\n{\n\tlog_type\t= FILE /var/log/b.log\n"
	    "\tlog_on_success\t= HOST PORT DURATION TRAFFIC\n"
	    "\tlog_on_failure\t= HOST PORT\n}\n"
	    "\n# r.conf:6: ::  8080/tcp  ::1 80/tcp  [timeout=99]\n"
	    "service rinetd-tcp-8080\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= 8080\n\tbind\t\t= ::\n\tredirect\t= ::1 80\n"
	    "\t# timeout=99: rinetd applies it to UDP only\n"
	    "\tonly_from\t= 10.0.0.0/8\n"
	    "\tno_access\t= 10.9.0.0/16 ::1\n}\n"
	    "\n# r.conf:9: 127.0.0.1 8080 127.0.0.1 81\n"
	    "service rinetd-tcp-8080-2\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= 8080\n\tbind\t\t= 127.0.0.1\n"
	    "\tredirect\t= 127.0.0.1 81\n"
	    "\tonly_from\t= 10.0.0.0/8\n}\n");
	assert_string_equal(ir.ir_msgs.ib_data, "r.conf:3: warning: "
	    "logcommon: portgate writes its own record format (the same "
	    "facts: client, port, duration, bytes), not Apache's common log "
	    "format\n"
	    "r.conf:4: warning: pidlogfile: give portgate -pidfile FILE on "
	    "its command line instead\n");
	assert_int_equal(ir.ir_warnings, 2);
}

/* A global allow inside the rule's allow: the narrower global wins. */
static void
test_rinetd_global_narrower(void **state)
{
	const char	*out;

	(void)state;
	out = rinetd_ok("allow 10.1.2.3\nallow fe80:1:*\n"
	    "127.0.0.1 1 127.0.0.1 2\nallow 10.*\nallow fe80:*\n"
	    "allow 192.168.*\n");
	contains(out, "\tonly_from\t= 10.1.2.3 fe80:1::/32\n}");
	import_result_free(&ir);
	/* The other families never intersect. */
	out = rinetd_ok("allow ::1\n127.0.0.1 1 127.0.0.1 2\nallow 127.*\n");
	contains(out, "\t# rinetd's allow and deny rules admit no client "
	    "here\n\tonly_from\t=\n}");
	import_result_free(&ir);
	/* A whole IPv4 pattern of four octets; a full IPv6 prefix. */
	out = rinetd_ok("127.0.0.1 1 127.0.0.1 2\nallow 0.0.0.0\n"
	    "allow 1:2:3:4:5:6:7:*\n");
	contains(out, "\tonly_from\t= 0.0.0.0 1:2:3:4:5:6:7:0/112\n");
	import_result_free(&ir);
	/* "*" alone is not a prefix of groups; eight groups then '*' is. */
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow 1:2:3:4:5:6:7:8:*\n",
	    "r.conf:2: allow 1:2:3:4:5:6:7:8:*: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow 1.2.3.256\n",
	    "r.conf:2: allow 1.2.3.256: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow 1.2.3.\n",
	    "r.conf:2: allow 1.2.3.: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow 1.x.3.4\n",
	    "r.conf:2: allow 1.x.3.4: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow 12345:*\n",
	    "r.conf:2: allow 12345:*: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow fg:*\n",
	    "r.conf:2: allow fg:*: no list");
	import_result_free(&ir);
	rinetd_fails("127.0.0.1 1 127.0.0.1 2\nallow :*\n",
	    "r.conf:2: allow :*: no list");
}

/* More inetd errors, each with its line. */
static void
test_inetd_more_errors(void **state)
{
	char	text[512];
	size_t	len;
	int	i;

	(void)state;
	inetd_fails("echo stream tcp nowait.0 root internal\n", "i.conf:1: "
	    "'nowait.0': expected wait or nowait, optionally followed by "
	    ".max (a number)");
	inetd_fails("echo stream tcp nowait.5x root internal\n", "i.conf:1: "
	    "'nowait.5x'");
	inetd_fails("echo stream tcp nowait. root internal\n", "i.conf:1: "
	    "'nowait.'");
	inetd_fails("echo dgram tcp wait root internal\n", "i.conf:1: dgram "
	    "with tcp: expected stream with tcp, dgram with udp");
	inetd_fails("echo dgram udp46 waiting root internal\n", "i.conf:1: "
	    "'waiting'");
	inetd_fails("x stream tcp7 nowait root /bin/x\n", "i.conf:1: protocol "
	    "'tcp7': expected tcp, udp, tcp6, udp6, tcp46 or udp46\n");
	inetd_fails("127.0.0.1:gopher stream tcp nowait root internal\n",
	    "i.conf:1: internal service 'gopher': portgate's built-ins are "
	    "echo, discard, chargen, daytime, time and tcpmux");
	/* A line of 65 words. */
	len = (size_t)snprintf(text, sizeof(text), "x stream tcp nowait root "
	    "/bin/x");
	for (i = 6; i < 65; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, " a");
	(void)snprintf(text + len, sizeof(text) - len, "\n");
	inetd_fails(text, "i.conf:1: more than 64 words\n");
	/* An error anywhere drops the whole translation; errors add up. */
	assert_int_equal(import_inetd("echo stream tcp nowait root internal\n"
	    "x\n#<off># y\n", "i.conf", &ir), -1);
	assert_int_equal(ir.ir_errors, 2);
	assert_true(ir.ir_out.ib_len == 0);
	contains(ir.ir_msgs.ib_data, "i.conf:2: expected 'service");
	contains(ir.ir_msgs.ib_data, "i.conf:3: expected 'service");
}

/*
 * udp46 and tcp46 (both families, no flags), udp6 (v6only), wait.max,
 * an internal dgram service (wait = no: a built-in answers itself), a
 * user without group, a server without arguments, tcpd alone, "*:" and
 * ":" addresses, comment and blank lines, CRLF and trailing blanks.
 */
static void
test_inetd_more_forms(void **state)
{
	const char	*out;

	(void)state;
	out = inetd_ok("   # comment\r\n\t\r\n"
	    "time dgram udp46 wait root internal\r\n"
	    "*:echo stream tcp46 nowait root internal  \r\n"
	    ":discard dgram udp6 wait.20 root internal\n"
	    "ntalk dgram udp wait.3 nobody /usr/sbin/in.ntalkd\n"
	    "w stream tcp nowait root /usr/sbin/tcpd\n"
	    "z stream tcp nowait root /bin/z /usr/lib/zz\n");
	contains(out, "service time\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= dgram\n\tprotocol\t= udp\n\twait\t\t= no\n"
	    "\tport\t\t= time\n}\n");
	contains(out, "# i.conf:4: *:echo stream tcp46 nowait root internal\n"
	    "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= echo\n}\n");
	contains(out, "service discard\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= dgram\n\tprotocol\t= udp\n\twait\t\t= no\n"
	    "\tport\t\t= discard\n\tflags\t\t= IPv6\n\tv6only\t\t= yes\n"
	    "\t# wait.20: inetd spawns at most 20 servers in 60 seconds, "
	    "then stops the service for 600; portgate counts per second, "
	    "and this never refuses a client inetd would admit (but admits "
	    "up to 20 a second)\n\tcps\t\t= 20 600\n}\n");
	contains(out, "service ntalk\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= dgram\n\tprotocol\t= udp\n\twait\t\t= yes\n"
	    "\tport\t\t= ntalk\n\tflags\t\t= IPv4\n"
	    "\t# wait.3: inetd spawns at most 3 servers");
	contains(out, "\tcps\t\t= 3 600\n\tuser\t\t= nobody\n"
	    "\tgroups\t\t= yes\n\tserver\t\t= /usr/sbin/in.ntalkd\n}\n");
	/* tcpd with no daemon to run stays tcpd, with no warning. */
	contains(out, "service w\n");
	contains(out, "\tserver\t\t= /usr/sbin/tcpd\n}\n");
	/* argv[0] a path to another program: NAMEINARGS, argv kept. */
	contains(out, "\tserver\t\t= /bin/z\n\tflags\t\t+= NAMEINARGS\n"
	    "\tserver_args\t= /usr/lib/zz\n}\n");
	assert_null(strstr(out, "bind"));
	assert_null(strstr(out, "\tid\t"));
	assert_int_equal(ir.ir_warnings, 0);
	assert_int_equal(ir.ir_msgs.ib_len, 0);
}

/* tcpd with argv[0] a path, user.group; a file of comments only warns. */
static void
test_inetd_tcpd_path(void **state)
{
	const char	*out;

	(void)state;
	out = inetd_ok("#<off>#\tident stream tcp nowait identd.nogroup "
	    "/usr/sbin/tcpd /usr/local/sbin/identd -l\n");
	assert_string_equal(out, "# Imported from the inetd configuration "
	    "i.conf by portgate --import inetd.\n\n# i.conf:1: ident stream "
	    "tcp nowait identd.nogroup /usr/sbin/tcpd /usr/local/sbin/identd "
	    "-l\nservice ident\n{\n\t# update-inetd's #<off>#\n"
	    "\tdisable\t\t= yes\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\tprotocol\t= tcp\n\twait\t\t= no\n"
	    "\tport\t\t= ident\n\tflags\t\t= IPv4\n\tuser\t\t= identd\n"
	    "\tgroup\t\t= nogroup\n\tgroups\t\t= yes\n"
	    "\t# /usr/sbin/tcpd unwrapped: portgate applies hosts.allow and "
	    "hosts.deny itself (libwrap)\n"
	    "\tserver\t\t= /usr/local/sbin/identd\n\tserver_args\t= -l\n}\n");
	assert_string_equal(ir.ir_msgs.ib_data, "i.conf:1: warning: ident: "
	    "tcpd unwrapped to /usr/local/sbin/identd; portgate checks "
	    "/etc/hosts.allow and /etc/hosts.deny itself through libwrap, "
	    "for every client it admits, under the daemon name identd (as "
	    "tcpd did), so their rules still apply\n");
	import_result_free(&ir);
	out = inetd_ok("# nothing\n\n#<off>\n");
	assert_string_equal(out, "# Imported from the inetd configuration "
	    "i.conf by portgate --import inetd.\n");
	assert_string_equal(ir.ir_msgs.ib_data, "i.conf: warning: no service "
	    "line: the translation has no service\n");
	import_result_free(&ir);
	(void)inetd_ok("");
	assert_int_equal(ir.ir_warnings, 1);
}

/* The helpers: line splitting, word splitting, the message format. */
static void
test_import_helpers(void **state)
{
	char	 text[] = "a\r\nb\n\nc", *pos = text, *w[3];
	char	 words[] = " one\ttwo  three four ";
	char	 two[] = "x y";
	char	 blank[] = " \t ";

	(void)state;
	assert_string_equal(import_next_line(&pos), "a");
	assert_string_equal(import_next_line(&pos), "b");
	assert_string_equal(import_next_line(&pos), "");
	assert_string_equal(import_next_line(&pos), "c");
	assert_null(import_next_line(&pos));
	pos = NULL;
	assert_null(import_next_line(&pos));
	assert_int_equal(import_split(words, w, 3), 4);
	assert_string_equal(w[0], "one");
	assert_string_equal(w[2], "three");
	assert_int_equal(import_split(two, w, 2), 2);
	assert_string_equal(w[1], "y");
	assert_int_equal(import_split(blank, w, 2), 0);
	import_error(&ir, "f", 7, "bad %s", "thing");
	import_warn(&ir, "g", 0, "odd %d", 3);
	assert_string_equal(ir.ir_msgs.ib_data, "f:7: bad thing\n"
	    "g: warning: odd 3\n");
	assert_int_equal(ir.ir_errors, 1);
	assert_int_equal(ir.ir_warnings, 1);
}

/* The buffer grows past its first 1024 bytes and keeps every byte. */
static void
test_import_buf_grows(void **state)
{
	char	big[3000];
	int	i;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	import_printf(&ir.ir_out, "<");
	for (i = 0; i < 3; i++)
		import_printf(&ir.ir_out, "%s", big);
	import_printf(&ir.ir_out, ">");
	assert_int_equal(ir.ir_out.ib_len, 3 * (sizeof(big) - 1) + 2);
	assert_int_equal(strlen(ir.ir_out.ib_data), ir.ir_out.ib_len);
	assert_true(ir.ir_out.ib_cap > ir.ir_out.ib_len);
	assert_int_equal(ir.ir_out.ib_data[0], '<');
	assert_int_equal(ir.ir_out.ib_data[ir.ir_out.ib_len - 1], '>');
}

/* Write <text> to a new temporary file; its path in <path>. */
static void
tmp_write(char *path, size_t len, const char *text, size_t n)
{
	int	fd;

	(void)snprintf(path, len, "/tmp/test_import.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* import_file: both kinds, an unknown kind, unreadable and binary files. */
static void
test_import_file(void **state)
{
	char	path[64], want[128];

	(void)state;
	tmp_write(path, sizeof(path), "127.0.0.1 1 127.0.0.1 2\n", 24);
	assert_int_equal(import_file("rinetd", path, &ir), 0);
	contains(ir.ir_out.ib_data, "service rinetd-tcp-1\n");
	import_result_free(&ir);
	/* The same file as inetd: one line of four words. */
	assert_int_equal(import_file("inetd", path, &ir), -1);
	(void)snprintf(want, sizeof(want), "%s:1: expected 'service", path);
	contains(ir.ir_msgs.ib_data, want);
	import_result_free(&ir);
	assert_int_equal(import_file("xinetd", path, &ir), -1);
	assert_string_equal(ir.ir_msgs.ib_data, "xinetd: unknown format: "
	    "expected rinetd or inetd\n");
	import_result_free(&ir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(import_file("inetd", path, &ir), -1);
	(void)snprintf(want, sizeof(want), "%s: cannot read: %s\n", path,
	    strerror(ENOENT));
	assert_string_equal(ir.ir_msgs.ib_data, want);
	import_result_free(&ir);
	/* A directory is not a configuration. */
	assert_int_equal(import_file("inetd", "/tmp", &ir), -1);
	(void)snprintf(want, sizeof(want), "/tmp: cannot read: %s\n",
	    strerror(EINVAL));
	assert_string_equal(ir.ir_msgs.ib_data, want);
	import_result_free(&ir);
	/* A NUL byte: not a text file. */
	tmp_write(path, sizeof(path), "echo\0stream", 11);
	assert_int_equal(import_file("inetd", path, &ir), -1);
	(void)snprintf(want, sizeof(want), "%s: cannot read: %s\n", path,
	    strerror(EINVAL));
	assert_string_equal(ir.ir_msgs.ib_data, want);
	assert_int_equal(unlink(path), 0);
	import_result_free(&ir);
	/* An empty file reads as an empty text. */
	tmp_write(path, sizeof(path), "", 0);
	assert_int_equal(import_file("inetd", path, &ir), 0);
	assert_int_equal(ir.ir_warnings, 1);
	assert_int_equal(unlink(path), 0);
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
		T(test_rinetd_more_errors),
		T(test_rinetd_more_forms),
		T(test_rinetd_global_narrower),
		T(test_inetd_more_errors),
		T(test_inetd_more_forms),
		T(test_inetd_tcpd_path),
		T(test_import_helpers),
		T(test_import_buf_grows),
		T(test_import_file),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
