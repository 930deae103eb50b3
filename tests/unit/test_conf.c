/*
 * Unit tests of the configuration language: the lexer (conf_lex.c), the
 * parser (conf_parse.c), the attribute table (conf_attr.c) and the merge
 * and checks of config.c.  Every test writes small files into a scratch
 * directory, reads them with config_load(CONF_CHECK_ONLY) or conf_parse()
 * and checks the struct config and the exact diagnostics, file:line and
 * text.  In an expected diagnostic '@' stands for the scratch directory and
 * "{...}" for any text (a message of the C library).  The tests marked
 * "Regression" describe bugs these tests found, now fixed.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../test_skip.h"

#include "accesslog.h"
#include "addrlist.h"
#include "conf_attr.h"
#include "conf_diag.h"
#include "conf_parse.h"
#include "config.h"
#include "timewin.h"
#include "unit_util.h"

/* src/limits.h can shadow <limits.h> (GCC's include_next): be safe. */
#ifndef PATH_MAX
#define PATH_MAX	4096
#endif


/* The body of a valid internal service, lines 3 to 5 of its entry. */
#define ECHO_BODY \
	"\ttype = INTERNAL\n" \
	"\tsocket_type = stream\n" \
	"\twait = no\n"

/* A whole valid "service <name>" entry of six lines. */
#define INTERNAL_SVC(name) \
	"service " name "\n" \
	"{\n" \
	ECHO_BODY \
	"}\n"

#define DIAGS(...) \
	check_diags((const char *const []){ __VA_ARGS__, NULL })
#define NO_DIAGS()	check_diags((const char *const []){ NULL })

/*
 * Two self-signed certificates (EC P-256, CN portgate-test and
 * portgate-test2, valid for 100 years) with their keys, made for these
 * tests only.
 */
static const char cert1_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhzCCAS2gAwIBAgIUOdqUvVAXpoKblSxU4TeuSo/U09gwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNcG9ydGdhdGUtdGVzdDAgFw0yNjExMjYwMDMxMjFaGA8yMTI2\n"
    "MTEwMjAwMzEyMVowGDEWMBQGA1UEAwwNcG9ydGdhdGUtdGVzdDBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABLy6rbaNGWfQJ+YkT+U/Vet61BTbiKpM3Y4eGWdnygFX\n"
    "VI5wHsnXUUO2fEgKsXvA3sEc9pLWTMob7MJh9my13GmjUzBRMB0GA1UdDgQWBBTY\n"
    "R/+/+kdxj2YiOyaDRLIYclCPOzAfBgNVHSMEGDAWgBTYR/+/+kdxj2YiOyaDRLIY\n"
    "clCPOzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDBTitYj/1i\n"
    "l/0+lEH3Avy6NxqxG+Yj2tIKXIbyOwLBWgIgJLV/IAxYtTlFHhuldLvs7dlHMqfT\n"
    "t6ZCwqc5NUOZytc=\n"
    "-----END CERTIFICATE-----\n";

static const char key1_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKneLkWDjLc2IaHo/\n"
    "Xr8FUyUT/zGmnxTECe9dt0VCc7+hRANCAAS8uq22jRln0CfmJE/lP1XretQU24iq\n"
    "TN2OHhlnZ8oBV1SOcB7J11FDtnxICrF7wN7BHPaS1kzKG+zCYfZstdxp\n"
    "-----END PRIVATE KEY-----\n";

static const char cert2_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBiTCCAS+gAwIBAgIUKT3ScsFX9IMsb37AdfW1i7dnVikwCgYIKoZIzj0EAwIw\n"
    "GTEXMBUGA1UEAwwOcG9ydGdhdGUtdGVzdDIwIBcNMjYxMTI2MDAzMTIxWhgPMjEy\n"
    "NjExMDIwMDMxMjFaMBkxFzAVBgNVBAMMDnBvcnRnYXRlLXRlc3QyMFkwEwYHKoZI\n"
    "zj0CAQYIKoZIzj0DAQcDQgAEmzNb5jlgQnlw+H/3VuSsMtYmtLX0OXZ/IeFqNpbC\n"
    "y3f4BoqWpr3ENHodQVp3dpYcW3Vk0/Ht6c+XMSZVSDW066NTMFEwHQYDVR0OBBYE\n"
    "FBtvRe14rTUiY+0qe3gINSk3bDRgMB8GA1UdIwQYMBaAFBtvRe14rTUiY+0qe3gI\n"
    "NSk3bDRgMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgEqAB/bKB\n"
    "YzxBjXIutUF9aEyGoPwyZsggJ3fp5LKeEYYCIQDkUbcvn1piGWX3INbxRp3n/6+N\n"
    "fiZABJsScTUpPo1nSQ==\n"
    "-----END CERTIFICATE-----\n";

static const char key2_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYBTtaywWOCx7/czQ\n"
    "6+gOMBOoGlErcU2kjK6MF4UTn2yhRANCAASbM1vmOWBCeXD4f/dW5Kwy1ia0tfQ5\n"
    "dn8h4Wo2lsLLd/gGipamvcQ0eh1BWnd2lhxbdWTT8e3pz5cxJlVINbTr\n"
    "-----END PRIVATE KEY-----\n";

static char		 tmpdir[] = "/tmp/test_conf.XXXXXX";
static struct conf_diag	 cd;
static struct config	*cf;

/* "<tmpdir>/<name>" (unit_path()). */
static const char *
tpath(const char *name)
{
	return unit_path(tmpdir, name);
}

/* Copy <pat> into <out> with every '@' replaced by the scratch directory. */
static void
expand(const char *pat, char *out, size_t len)
{
	unit_expand(tmpdir, pat, out, len);
}

/* Does <s> match <pat>, where "{...}" in <pat> matches any text? */
static int
glob_match(const char *pat, const char *s)
{
	if (strncmp(pat, "{...}", 5) == 0) {
		for (;; s++) {
			if (glob_match(pat + 5, s))
				return 1;
			if (*s == '\0')
				return 0;
		}
	}
	if (*pat == '\0')
		return *s == '\0';
	return *pat == *s && glob_match(pat + 1, s + 1);
}

/* Write <text> (with '@' expanded) to <tmpdir>/<name> with <mode>. */
static void
put_mode(const char *name, const char *text, mode_t mode)
{
	static char	 buf[65536];
	const char	*path = tpath(name);
	size_t		 len;
	int		 fd;

	expand(text, buf, sizeof(buf));
	len = strlen(buf);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
put(const char *name, const char *text)
{
	put_mode(name, text, 0644);
}

/*
 * Write the smallest valid MaxMind DB (IPv4, one node, no data) to
 * <tmpdir>/<name>, so that geoip_db has a database to open.
 */
static void
put_mmdb(const char *name)
{
	static const unsigned char	db[] =
	    "\x00\x00\x01\x00\x00\x01"		/* node 0: "no data" */
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"	/* separator */
	    "\xab\xcd\xefMaxMind.com"		/* metadata marker */
	    "\xe9"					/* map of 9 */
	    "\x4anode_count" "\xc1\x01"
	    "\x4brecord_size" "\xa1\x18"
	    "\x4aip_version" "\xa1\x04"
	    "\x4d" "database_type" "\x44Test"
	    "\x5b" "binary_format_major_version" "\xa1\x02"
	    "\x5b" "binary_format_minor_version" "\xa0"
	    "\x4b" "build_epoch" "\x01\x02\x01"
	    "\x49languages" "\x00\x04"
	    "\x4b" "description" "\xe0";
	const char			*path = tpath(name);
	int				 fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, db, sizeof(db) - 1),
	    (ssize_t)sizeof(db) - 1);
	assert_int_equal(close(fd), 0);
}

/* Create the directory <tmpdir>/<name> if it is not there. */
static void
mkdir_t(const char *name)
{
	if (mkdir(tpath(name), 0755) == -1)
		assert_int_equal(errno, EEXIST);
}

/* Print every diagnostic (shown when a test fails). */
static void
dump_diags(void)
{
	unit_dump_diags(&cd);
}

/* Assert that the diagnostics are exactly <exp> (NULL-terminated). */
static void
check_diags(const char *const *exp)
{
	char	buf[4096];
	int	n, i, errors = 0;

	for (n = 0; exp[n] != NULL; n++)
		;
	if (n != cd.cd_nmsgs) {
		dump_diags();
		for (i = 0; i < n; i++)
			print_message("  expected: %s\n", exp[i]);
		fail_msg("expected %d diagnostics, got %d", n, cd.cd_nmsgs);
	}
	for (i = 0; i < n; i++) {
		expand(exp[i], buf, sizeof(buf));
		if (!glob_match(buf, cd.cd_msgs[i].dm_text)) {
			dump_diags();
			fail_msg("diagnostic %d:\n  expected: %s\n"
			    "  got:      %s", i, buf, cd.cd_msgs[i].dm_text);
		}
		/* DIAG_DISABLE: an error that leaves out its service only. */
		if (cd.cd_msgs[i].dm_level != DIAG_WARNING)
			errors++;
		assert_true((cd.cd_msgs[i].dm_level != DIAG_WARNING) ==
		    (strstr(cd.cd_msgs[i].dm_text, ": error: ") != NULL ||
		    strncmp(cd.cd_msgs[i].dm_text, "error: ", 7) == 0));
	}
	assert_int_equal(cd.cd_errors + cd.cd_disables, errors);
	assert_int_equal(cd.cd_warnings, n - errors);
}

/* How many diagnostics match <pat> ('@' and "{...}" as above)? */
static int
count_diags(const char *pat)
{
	char	buf[4096];
	int	i, n = 0;

	expand(pat, buf, sizeof(buf));
	for (i = 0; i < cd.cd_nmsgs; i++)
		if (glob_match(buf, cd.cd_msgs[i].dm_text))
			n++;
	return n;
}

/* Assert that exactly one diagnostic matches <pat>. */
static void
assert_diag(const char *pat)
{
	if (count_diags(pat) != 1) {
		dump_diags();
		fail_msg("expected one diagnostic like: %s", pat);
	}
}

/* Load <tmpdir>/<name>; the result stays in cf and cd. */
static struct config *
load_file(const char *name)
{
	config_unref(cf);
	conf_diag_clear(&cd);
	cf = config_load(tpath(name), CONF_CHECK_ONLY, &cd);
	return cf;
}

/* Write <text> to <tmpdir>/t.conf and load it. */
static struct config *
load(const char *text)
{
	put("t.conf", text);
	return load_file("t.conf");
}

/* Load <text> and assert that it is valid with no diagnostic at all. */
static struct config *
load_ok(const char *text)
{
	load(text);
	NO_DIAGS();
	assert_non_null(cf);
	return cf;
}

/* The enabled service with id <id>, or NULL. */
static struct service_conf *
svc(const char *id)
{
	int	i;

	if (cf == NULL)
		return NULL;
	for (i = 0; i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_id, id) == 0)
			return cf->cf_services[i];
	return NULL;
}

/* Like svc(), failing the test if there is no such service. */
static struct service_conf *
need_svc(const char *id)
{
	struct service_conf	*sc = svc(id);

	if (sc == NULL)
		fail_msg("no enabled service with id %s", id);
	return sc;
}

/* Does address list <al> let <addr> (IPv4 or IPv6 text) match? */
static int
al_match(const struct addrlist *al, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct addrmatch	 m;

	return addrlist_match(al, unit_sockaddr(&ss, addr, 0), NULL, &m);
}

/* Skip the test when /etc/services lacks the standard echo entries. */
static void
need_etc_services(void)
{
	struct servent	*se;

	se = getservbyname("echo", "tcp");
	if (se == NULL || ntohs((uint16_t)se->s_port) != 7 ||
	    getservbyname("echo", "udp") == NULL ||
	    getservbyname("discard", "tcp") == NULL) {
		print_message("no echo/discard in /etc/services: skipped\n");
		TEST_SKIP();
	}
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	conf_diag_init(&cd);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmpdir);
}

/* Fresh state and the helper files every test may use. */
static int
setup(void **state)
{
	(void)state;
	config_set_root(1);
	conf_diag_init(&cd);
	cf = NULL;
	put_mode("srv", "#!/bin/sh\nexit 0\n", 0755);
	put_mode("noexec", "#!/bin/sh\nexit 0\n", 0644);
	put("banner.txt", "hello\n");
	put("cert.pem", cert1_pem);
	put("key.pem", key1_pem);
	put("cert2.pem", cert2_pem);
	put("key2.pem", key2_pem);
	put("ca.pem", cert1_pem);
	put_mmdb("geo.mmdb");
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
	return 0;
}

/*
 * The lexer.
 */

/* Comments at line start, blank lines, tabs and CR line ends are skipped. */
static void
test_lex_blank_comment_tab_cr(void **state)
{
	struct service_conf	*sc;
	static const char	 text[] =
	    "# a comment\n"				/* 1 */
	    "   \t# an indented comment\n"		/* 2 */
	    "\n"					/* 3 */
	    "\t \t\n"					/* 4 */
	    "service echo\r\n"				/* 5 */
	    "{\r\n"					/* 6 */
	    "\t# a comment in an entry\r\n"		/* 7 */
	    "\ttype\t=\tINTERNAL\r\n"			/* 8 */
	    "  socket_type = stream  \t\r\n"		/* 9 */
	    "\r\n"					/* 10 */
	    "\twait =no\r\n"				/* 11 */
	    "\tserver_args\t= a\tb\r\n"			/* 12 */
	    "}\r\n";					/* 13 */

	(void)state;
	load_ok(text);
	assert_int_equal(cf->cf_nservices, 1);
	sc = need_svc("echo");
	assert_string_equal(sc->sc_name, "echo");
	assert_int_equal(sc->sc_line, 5);
	assert_int_equal(sc->sc_type, STYPE_INTERNAL);
	assert_int_equal(sc->sc_socktype, SOCK_STREAM);
	assert_int_equal(sc->sc_wait, 0);
	assert_int_equal(sc->sc_server_args.wl_n, 2);
	assert_string_equal(sc->sc_server_args.wl_words[0], "a");
	assert_string_equal(sc->sc_server_args.wl_words[1], "b");

	/* Line numbers count comments, blank lines and CR-ended lines. */
	load("# 1\n"
	    "\n"
	    "service echo\r\n"
	    "{\r\n"
	    "\r\n"
	    "   # 6\r\n"
	    ECHO_BODY
	    "\tinstances = x\r\n"			/* 10 */
	    "}\r\n");
	DIAGS("@/t.conf:10: error: instances: bad value 'x': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED");
	assert_null(cf);
}

/* A '#' after a value is part of the value, with a warning. */
static void
test_lex_hash_after_value(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tserver_args = -l #not-a-comment\n"	/* 6 */
	    "}\n");
	DIAGS("@/t.conf:6: warning: '#' after a value is not a comment: "
	    "'#not-a-comment' is read as part of the value of server_args");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_server_args.wl_n, 2);
	assert_string_equal(sc->sc_server_args.wl_words[1], "#not-a-comment");

	/*
	 * xinetd's example: xinetd gives port three values and ignores it;
	 * portgate reads the comment (test_lex_comment_after_value).
	 */
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tport = 7 # seven\n"			/* 6 */
	    "}\n");
	DIAGS("@/t.conf:6: warning: port: '#' starts a comment here; xinetd "
	    "would ignore the whole attribute");
	assert_int_equal(need_svc("echo")->sc_port, 7);
}

/* A line of an entry without an operator is an error; the line is lost. */
static void
test_lex_no_operator(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tnice 5\n"				/* 6 */
	    "\tinstances\n"				/* 7 */
	    "\tnice x= 5\n"				/* 8 */
	    "\t=5\n"					/* 9 */
	    "\t+= 5\n"					/* 10 */
	    "}\n");
	DIAGS("@/t.conf:6: error: expected '=', '+=' or '-=' after 'nice'",
	    "@/t.conf:7: error: expected '=', '+=' or '-=' after 'instances'",
	    "@/t.conf:8: error: expected '=', '+=' or '-=' after 'nice'",
	    "@/t.conf:9: error: expected an attribute name before '=5'",
	    "@/t.conf:10: error: expected an attribute name before '+='");
	assert_null(cf);
}

/* "port=1", "x+=y", "x-=y" are read with a warning; "port =1" is fine. */
static void
test_lex_operator_spacing(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tonly_from = 127.0.0.1\n"
	    "\tlog_on_success = HOST PID EXIT\n"
	    "}\n"
	    "service echo\n"				/* 6 */
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport=10007\n"				/* 11 */
	    "\tonly_from+=10.0.0.1\n"			/* 12 */
	    "\tlog_on_success-=EXIT\n"			/* 13 */
	    "\tnice =5\n"				/* 14 */
	    "\tinstances +=3\n"				/* 15 */
	    "}\n");
	DIAGS("@/t.conf:11: warning: no space between 'port' and its operator "
	    "(xinetd drops this entry)",
	    "@/t.conf:12: warning: no space between 'only_from' and its "
	    "operator (xinetd drops this entry)",
	    "@/t.conf:13: warning: no space between 'log_on_success' and its "
	    "operator (xinetd drops this entry)",
	    "@/t.conf:15: error: operator '+=' cannot be used with instances, "
	    "which takes a single value: use '='");
	assert_null(cf);

	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport=10007\n"				/* 6 */
	    "\tonly_from+=10.0.0.1\n"			/* 7 */
	    "\tnice =5\n"
	    "\tserver_args =a b\n"
	    "}\n");
	DIAGS("@/t.conf:6: warning: no space between 'port' and its operator "
	    "(xinetd drops this entry)",
	    "@/t.conf:7: warning: no space between 'only_from' and its "
	    "operator (xinetd drops this entry)");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_port, 10007);
	assert_int_equal(sc->sc_nice, 5);
	assert_int_equal(addrlist_count(sc->sc_only_from), 1);
	assert_true(al_match(sc->sc_only_from, "10.0.0.1"));
	assert_int_equal(sc->sc_server_args.wl_n, 2);
	assert_string_equal(sc->sc_server_args.wl_words[0], "a");
}

/* Keywords, attribute names and enumerated values ignore case. */
static void
test_lex_case_insensitive(void **state)
{
	struct service_conf	*sc;

	(void)state;
	put("inc.conf", INTERNAL_SVC("discard"));
	mkdir_t("cased");
	put("cased/daytime", INTERNAL_SVC("daytime"));
	load_ok("DEFAULTS\n"
	    "{\n"
	    "\tLOG_ON_SUCCESS = host pid\n"
	    "\tLog_On_Failure = Host Attempt\n"
	    "}\n"
	    "SERVICE echo\n"
	    "{\n"
	    "\tTYPE = internal unlisted\n"
	    "\tSocket_Type = DGRAM\n"
	    "\tPROTOCOL = UDP\n"
	    "\tWAIT = YES\n"
	    "\tPort = 10007\n"
	    "\tFLAGS = reuse ipv4 NoDelay\n"
	    "\tInstances = unlimited\n"
	    "\tper_source = Unlimited\n"
	    "\tdeny_time = forever\n"
	    "\tgroups = Yes\n"
	    "\tv6only = NO\n"
	    "\ttls_protocols = tlsv1.2 TLSV1.3\n"
	    "\trlimit_as = 1k\n"
	    "\trlimit_cpu = unlimited\n"
	    "\tlog_type = syslog DAEMON Info\n"
	    "}\n"
	    "Include inc.conf\n"
	    "INCLUDEDIR cased\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_type, STYPE_INTERNAL | STYPE_UNLISTED);
	assert_int_equal(sc->sc_socktype, SOCK_DGRAM);
	assert_int_equal(sc->sc_protocol, IPPROTO_UDP);
	assert_string_equal(sc->sc_protoname, "udp");
	assert_int_equal(sc->sc_wait, 1);
	assert_int_equal(sc->sc_port, 10007);
	assert_int_equal(sc->sc_flags, SFLAG_REUSE | SFLAG_IPV4 |
	    SFLAG_NODELAY);
	assert_int_equal(sc->sc_instances, LIMIT_UNLIMITED);
	assert_int_equal(sc->sc_per_source, LIMIT_UNLIMITED);
	assert_int_equal(sc->sc_deny_time, DENY_FOREVER);
	assert_int_equal(sc->sc_groups, 1);
	assert_int_equal(sc->sc_v6only, 0);
	assert_int_equal(sc->sc_tls_protocols.wl_n, 2);
	assert_int_equal(sc->sc_rlimit[CRL_AS], 1024);
	assert_true(sc->sc_rlimit[CRL_CPU] == RLIM_INFINITY);
	assert_int_equal(sc->sc_rlimit_set, (1u << CRL_AS) | (1u << CRL_CPU));
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_PID);
	assert_int_equal(sc->sc_log_failure, ALOG_HOST | ALOG_ATTEMPT);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_SYSLOG);
	assert_non_null(need_svc("discard"));
	assert_non_null(need_svc("daytime"));
	assert_int_equal(cf->cf_nservices, 3);

	/* Service names and ids keep their case. */
	load_ok("service Echo\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "\tredirect = 127.0.0.1 7\n"
	    "}\n");
	assert_null(svc("echo"));
	assert_string_equal(need_svc("Echo")->sc_name, "Echo");

	/* So are the names of built-ins. */
	load("service ECHO\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service ECHO: no internal service of that "
	    "name (portgate has echo, discard, daytime, time, chargen, metrics, "
	    "tcpmux)");
}

/*
 * The parser.
 */

/* conf_parse() gives entries and statements with their file and line. */
static void
test_parse_tree(void **state)
{
	struct conf_tree	 tree;
	struct conf_entry	*ce;
	struct conf_stmt	*cs;

	(void)state;
	put("t.conf",
	    "defaults\n"				/* 1 */
	    "{\n"
	    "\tinstances = 5\n"				/* 3 */
	    "\tonly_from += 10.0.0.1 10.0.0.2\n"	/* 4 */
	    "}\n"
	    "\n"
	    "service echo\n"				/* 7 */
	    "{\n"
	    "\tport -= 1 2\n"				/* 9 */
	    "\tserver_args =\n"				/* 10 */
	    "\tbogus = x\n"				/* 11 */
	    "}\n");
	conf_parse(tpath("t.conf"), &tree, &cd);
	NO_DIAGS();
	assert_int_equal(tree.ct_nentries, 2);
	assert_string_equal(tree.ct_files[0], tpath("t.conf"));
	assert_null(tree.ct_files[1]);

	ce = &tree.ct_entries[0];
	assert_int_equal(ce->ce_kind, ENTRY_DEFAULTS);
	assert_null(ce->ce_name);
	assert_int_equal(ce->ce_line, 1);
	assert_string_equal(ce->ce_file, tpath("t.conf"));
	assert_int_equal(ce->ce_nstmts, 2);
	cs = &ce->ce_stmts[0];
	assert_string_equal(cs->cs_name, "instances");
	assert_int_equal(cs->cs_op, OP_SET);
	assert_int_equal(cs->cs_nvals, 1);
	assert_string_equal(cs->cs_vals[0], "5");
	assert_null(cs->cs_vals[1]);
	assert_int_equal(cs->cs_line, 3);
	cs = &ce->ce_stmts[1];
	assert_string_equal(cs->cs_name, "only_from");
	assert_int_equal(cs->cs_op, OP_ADD);
	assert_int_equal(cs->cs_nvals, 2);
	assert_string_equal(cs->cs_vals[1], "10.0.0.2");
	assert_int_equal(cs->cs_line, 4);

	ce = &tree.ct_entries[1];
	assert_int_equal(ce->ce_kind, ENTRY_SERVICE);
	assert_string_equal(ce->ce_name, "echo");
	assert_int_equal(ce->ce_line, 7);
	assert_int_equal(ce->ce_nstmts, 3);
	cs = &ce->ce_stmts[0];
	assert_int_equal(cs->cs_op, OP_DEL);
	assert_int_equal(cs->cs_nvals, 2);
	assert_int_equal(cs->cs_line, 9);
	cs = &ce->ce_stmts[1];
	assert_string_equal(cs->cs_name, "server_args");
	assert_int_equal(cs->cs_nvals, 0);
	assert_null(cs->cs_vals[0]);
	/* The parser knows nothing of attribute names. */
	assert_string_equal(ce->ce_stmts[2].cs_name, "bogus");
	conf_tree_free(&tree);

	assert_string_equal(conf_op_name(OP_SET), "=");
	assert_string_equal(conf_op_name(OP_ADD), "+=");
	assert_string_equal(conf_op_name(OP_DEL), "-=");
}

/* defaults and several services; '{' and '}' alone on their lines. */
static void
test_parse_entries(void **state)
{
	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\tinstances = 7\n"
	    "}\n"
	    INTERNAL_SVC("echo")
	    "\n"
	    INTERNAL_SVC("discard")
	    "defaults\n"
	    "{\n"
	    "}\n");
	assert_int_equal(cf->cf_nservices, 2);
	assert_int_equal(cf->cf_ndisabled, 0);
	assert_int_equal(need_svc("echo")->sc_instances, 7);
	assert_int_equal(need_svc("discard")->sc_line, 12);
	assert_string_equal(cf->cf_path, tpath("t.conf"));
	assert_string_equal(cf->cf_files[0], tpath("t.conf"));
	assert_null(cf->cf_files[1]);

	/* An empty file is a valid configuration with no service. */
	load_ok("");
	assert_int_equal(cf->cf_nservices, 0);
	load_ok("# nothing\n\n");
	assert_int_equal(cf->cf_nservices, 0);
}

/* "service x {" on one line is accepted with a warning. */
static void
test_parse_brace_on_header(void **state)
{
	(void)state;
	load("defaults {\n"
	    "\tinstances = 3\n"
	    "}\n"
	    "service echo {\n"				/* 4 */
	    ECHO_BODY
	    "}\n"
	    "service discard { extra\n"			/* 9 */
	    ECHO_BODY
	    "}\n");
	DIAGS("@/t.conf:1: warning: '{' should be on its own line (xinetd "
	    "drops this entry)",
	    "@/t.conf:4: warning: '{' should be on its own line (xinetd "
	    "drops this entry)",
	    "@/t.conf:9: warning: '{' should be on its own line (xinetd "
	    "drops this entry)",
	    "@/t.conf:9: warning: ignoring 'extra' after the entry name");
	assert_non_null(cf);
	assert_int_equal(need_svc("echo")->sc_instances, 3);
	assert_int_equal(need_svc("discard")->sc_instances, 3);

	load("service echo extra\n"
	    "{\n"
	    ECHO_BODY
	    "} extra\n");
	DIAGS("@/t.conf:1: warning: ignoring 'extra' after the entry name",
	    "@/t.conf:6: warning: ignoring 'extra' after '}'");
	assert_non_null(need_svc("echo"));
}

/* A '}' outside any entry is ignored with a warning. */
static void
test_parse_stray_brace(void **state)
{
	(void)state;
	load("}\n"
	    INTERNAL_SVC("echo")
	    "}\n");				/* 8 */
	DIAGS("@/t.conf:1: warning: stray '}' ignored (xinetd rejects the "
	    "file)",
	    "@/t.conf:8: warning: stray '}' ignored (xinetd rejects the "
	    "file)");
	assert_non_null(need_svc("echo"));
}

/* An entry still open at the end of the file. */
static void
test_parse_missing_brace_eof(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY);
	DIAGS("@/t.conf:5: error: missing '}' for service echo opened at "
	    "@/t.conf:1");
	assert_null(cf);

	load("defaults\n"
	    "{\n"
	    "\tinstances = 1\n"
	    "\n"
	    "# end\n");
	DIAGS("@/t.conf:5: error: missing '}' for defaults opened at "
	    "@/t.conf:1");
	assert_null(cf);

	/* A header on the last line. */
	load(INTERNAL_SVC("echo")
	    "service discard\n");
	DIAGS("@/t.conf:7: error: missing '}' for service discard opened at "
	    "@/t.conf:7",
	    "@/t.conf:7: error: service discard: missing socket_type",
	    "@/t.conf:7: error: service discard: missing wait",
	    "@/t.conf:7: error: service discard: missing server (or type = "
	    "INTERNAL, or redirect)");
	assert_null(cf);
}

/* An entry not closed before the next header, include or includedir. */
static void
test_parse_unclosed_entry(void **state)
{
	struct conf_tree	tree;

	(void)state;
	put("inc.conf", INTERNAL_SVC("daytime"));
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "service discard\n"				/* 6 */
	    "{\n"
	    ECHO_BODY
	    "defaults\n"				/* 11 */
	    "{\n"
	    "include inc.conf\n"			/* 13 */
	    "service time\n"				/* 14 */
	    "{\n"
	    ECHO_BODY
	    "includedir nodir\n");			/* 19 */
	DIAGS("@/t.conf:6: error: missing '}' for service echo opened at "
	    "@/t.conf:1",
	    "@/t.conf:11: error: missing '}' for service discard opened at "
	    "@/t.conf:6",
	    "@/t.conf:13: error: missing '}' for defaults opened at "
	    "@/t.conf:11",
	    "@/t.conf:19: error: missing '}' for service time opened at "
	    "@/t.conf:14",
	    "@/t.conf:19: error: cannot read includedir @/nodir on this "
	    "machine: No such file or directory");
	assert_null(cf);

	/* The statements before the error are kept in the tree. */
	conf_diag_clear(&cd);
	conf_parse(tpath("t.conf"), &tree, &cd);
	assert_int_equal(tree.ct_nentries, 5);
	assert_string_equal(tree.ct_entries[0].ce_name, "echo");
	assert_int_equal(tree.ct_entries[0].ce_nstmts, 3);
	assert_string_equal(tree.ct_entries[3].ce_name, "daytime");
	assert_string_equal(tree.ct_entries[3].ce_file, tpath("inc.conf"));
	assert_int_equal(tree.ct_entries[3].ce_nstmts, 3);
	assert_string_equal(tree.ct_entries[4].ce_name, "time");
	conf_tree_free(&tree);
}

/* Other structural errors, each with its line. */
static void
test_parse_structure_errors(void **state)
{
	(void)state;
	load("service\n"				/* 1 */
	    "bogus line\n"				/* 2 */
	    "service echo\n"				/* 3 */
	    "\ttype = INTERNAL\n"			/* 4: no '{' */
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "}\n"
	    "service discard\n"				/* 8 */
	    "{ x\n"					/* 9 */
	    ECHO_BODY
	    "\t{\n"					/* 13 */
	    "}\n"
	    "include\n"					/* 15 */
	    "includedir a b\n"				/* 16 */
	    "} }\n");					/* 17 */
	DIAGS("@/t.conf:1: error: expected a service name after 'service'",
	    "@/t.conf:2: error: expected 'service', 'defaults', 'include' or "
	    "'includedir', found 'bogus'",
	    "@/t.conf:4: error: expected '{' on the line after service echo",
	    "@/t.conf:9: error: expected nothing after '{'",
	    "@/t.conf:13: error: expected '=', '+=' or '-=' after '{'",
	    "@/t.conf:15: error: include expects one path",
	    "@/t.conf:16: error: includedir expects one path",
	    "@/t.conf:17: error: expected 'service', 'defaults', 'include' or "
	    "'includedir', found '}'");
	assert_null(cf);

	/* The main file itself cannot be read. */
	load_file("no-such.conf");
	DIAGS("error: cannot read @/no-such.conf on this machine: No such "
	    "file or directory");
	assert_null(cf);
}

/* include: relative to the including file, absolute, nested. */
static void
test_include_relative(void **state)
{
	struct service_conf	*sc;

	(void)state;
	mkdir_t("sub");
	mkdir_t("sub/deeper");
	put("sub/a.conf", "include deeper/b.conf\n"
	    INTERNAL_SVC("discard"));
	put("sub/deeper/b.conf", INTERNAL_SVC("echo"));
	put("abs.conf", INTERNAL_SVC("daytime"));
	load_ok("include sub/a.conf\n"
	    "include @/abs.conf\n");
	assert_int_equal(cf->cf_nservices, 3);
	sc = need_svc("echo");
	assert_string_equal(sc->sc_file, tpath("sub/deeper/b.conf"));
	assert_int_equal(sc->sc_line, 1);
	sc = need_svc("discard");
	assert_string_equal(sc->sc_file, tpath("sub/a.conf"));
	assert_int_equal(sc->sc_line, 2);
	assert_string_equal(need_svc("daytime")->sc_file, tpath("abs.conf"));
	/* In file order: the included lines come in place. */
	assert_string_equal(cf->cf_services[0]->sc_id, "echo");
	assert_string_equal(cf->cf_services[1]->sc_id, "discard");
	assert_string_equal(cf->cf_services[2]->sc_id, "daytime");
	assert_string_equal(cf->cf_files[0], tpath("t.conf"));
	assert_string_equal(cf->cf_files[1], tpath("sub/a.conf"));
	assert_string_equal(cf->cf_files[2], tpath("sub/deeper/b.conf"));
	assert_string_equal(cf->cf_files[3], tpath("abs.conf"));
	assert_null(cf->cf_files[4]);

	/* Diagnostics name the included file and its line. */
	put("sub/deeper/b.conf", "service echo\n{\n" ECHO_BODY
	    "\tnice = 99\n}\n");
	load("include sub/a.conf\n");
	DIAGS("@/sub/deeper/b.conf:6: error: nice: bad value '99': expected "
	    "an integer from -20 to 19");
}

/* A missing include file and include loops. */
static void
test_include_errors(void **state)
{
	(void)state;
	load("\n"
	    "include nope.conf\n"
	    INTERNAL_SVC("echo"));
	DIAGS("@/t.conf:2: error: cannot read @/nope.conf on this machine: "
	    "No such file or directory");
	assert_null(cf);

	put("loop.conf", "include t.conf\n");
	load("include loop.conf\n");
	DIAGS("@/loop.conf:1: error: include @/t.conf: the file includes "
	    "itself");
	assert_null(cf);

	load("include t.conf\n");
	DIAGS("@/t.conf:1: error: include @/t.conf: the file includes itself");

	/* Including the same file twice (not nested) is no loop. */
	put("svc.conf", INTERNAL_SVC("echo"));
	load("include svc.conf\n"
	    "include svc.conf\n");
	DIAGS("@/svc.conf:1: error: duplicate service: id echo on tcp port 7 "
	    "address * is already defined at @/svc.conf:1");

	/* A loop through another path to the same file is seen as one. */
	load("include ./t.conf\n");
	DIAGS("@/t.conf:1: error: include @/./t.conf: the file includes "
	    "itself");
}

/* includedir: names with '.' or a trailing '~' skipped, strcmp order. */
static void
test_includedir_names(void **state)
{
	static const char	*const names[] = { "B", "UPPER", "a10", "a9",
				    "good" };
	struct conf_tree	 tree;
	char			 name[64];
	int			 i;

	(void)state;
	mkdir_t("d");
	mkdir_t("d/subdir");
	put("d/good", "service good_svc\n{\n}\n");
	put("d/UPPER", "service upper_svc\n{\n}\n");
	put("d/B", "service b_svc\n{\n}\n");
	put("d/a9", "service a9_svc\n{\n}\n");
	put("d/a10", "service a10_svc\n{\n}\n");
	put("d/with.dot", "service dot_svc\n{\n}\n");
	put("d/.hidden", "service hidden_svc\n{\n}\n");
	put("d/tilde~", "service tilde_svc\n{\n}\n");
	put("d/subdir/inner", "service inner_svc\n{\n}\n");
	put("t.conf", "includedir d\n");
	conf_parse(tpath("t.conf"), &tree, &cd);
	NO_DIAGS();
	assert_int_equal(tree.ct_nentries, 5);
	for (i = 0; i < 5; i++) {
		(void)snprintf(name, sizeof(name), "d/%s", names[i]);
		assert_string_equal(tree.ct_entries[i].ce_file, tpath(name));
		(void)snprintf(name, sizeof(name), "%s_svc", names[i]);
		assert_true(strcasecmp(tree.ct_entries[i].ce_name, name) == 0);
	}
	conf_tree_free(&tree);

	/* An absolute includedir. */
	put("t.conf", "includedir @/d\n");
	conf_parse(tpath("t.conf"), &tree, &cd);
	NO_DIAGS();
	assert_int_equal(tree.ct_nentries, 5);
	conf_tree_free(&tree);
}

/*
 * Regression (conf_lex_includedir() in src/conf_lex.c, fixed): a directory with no file
 * to read leaves <names> NULL, and qsort(NULL, 0, ...) is undefined
 * behaviour: UBSan stops the --enable-sanitizers build with "null pointer
 * passed as argument 1, which is declared to never be null".
 */
static void
test_includedir_empty(void **state)
{
	(void)state;
	mkdir_t("empty");
	put("empty/skipped.conf", INTERNAL_SVC("echo"));
	load_ok("includedir empty\n");
	assert_int_equal(cf->cf_nservices, 0);
}

/* A missing includedir, an entry left open at the end of one of its files. */
static void
test_includedir_errors(void **state)
{
	(void)state;
	load("includedir nodir\n");
	DIAGS("@/t.conf:1: error: cannot read includedir @/nodir on this "
	    "machine: No such file or directory");
	assert_null(cf);

	mkdir_t("open");
	put("open/a", "service echo\n{\n" ECHO_BODY);
	put("open/b", INTERNAL_SVC("discard"));
	load("includedir open\n");
	DIAGS("@/open/a:5: error: missing '}' for service echo opened at "
	    "@/open/a:1");
	assert_null(cf);
}

/*
 * Regression (conf_lex_includedir() in src/conf_lex.c, fixed): every file of the
 * directory is pushed on the include stack at once, so a directory of more
 * than 15 files fails with "includes nested more than 16 deep" and its
 * first files (in strcmp order) are dropped.  A stock /etc/xinetd.d easily
 * has that many files.
 */
static void
test_includedir_many_files(void **state)
{
	char	name[32];
	int	i;

	(void)state;
	mkdir_t("many");
	for (i = 0; i < 40; i++) {
		(void)snprintf(name, sizeof(name), "many/f%02d", i);
		put(name, "service echo\n{\n\tdisable = yes\n}\n");
	}
	load_ok("includedir many\n");
	assert_int_equal(cf->cf_ndisabled, 40);
}

/*
 * Operators.
 */

/* = += -= on lists in services on top of defaults; '=' accumulates there. */
static void
test_op_lists_on_defaults(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\tlog_on_success = HOST PID EXIT\n"
	    "\tlog_on_success = DURATION\n"
	    "\tonly_from = 127.0.0.1\n"
	    "\tonly_from = 10.0.0.0/8\n"
	    "\tpassenv = PATH\n"
	    "\tpassenv += HOME\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tlog_on_success -= EXIT\n"
	    "\tonly_from += 192.168.0.0/16\n"
	    "\tonly_from -= 127.0.0.1\n"
	    "\tpassenv -= path\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\tonly_from = 127.0.0.2\n"
	    "\tlog_on_success += USERID\n"
	    "\tpassenv =\n"
	    "}\n"
	    INTERNAL_SVC("daytime"));
	sc = need_svc("echo");
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_PID |
	    ALOG_DURATION);
	assert_int_equal(addrlist_count(sc->sc_only_from), 2);
	assert_false(al_match(sc->sc_only_from, "127.0.0.1"));
	assert_true(al_match(sc->sc_only_from, "10.1.2.3"));
	assert_true(al_match(sc->sc_only_from, "192.168.1.1"));
	/* -= compares words without case, as xinetd. */
	assert_int_equal(sc->sc_passenv.wl_n, 1);
	assert_string_equal(sc->sc_passenv.wl_words[0], "HOME");

	sc = need_svc("discard");
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_PID |
	    ALOG_EXIT | ALOG_DURATION | ALOG_USERID);
	assert_int_equal(addrlist_count(sc->sc_only_from), 1);
	assert_false(al_match(sc->sc_only_from, "10.1.2.3"));
	assert_true(al_match(sc->sc_only_from, "127.0.0.2"));
	assert_int_equal(sc->sc_passenv.wl_n, 0);
	assert_int_equal(sc->sc_has_passenv, 1);

	sc = need_svc("daytime");
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_PID |
	    ALOG_EXIT | ALOG_DURATION);
	assert_int_equal(addrlist_count(sc->sc_only_from), 2);
	assert_int_equal(sc->sc_passenv.wl_n, 2);

	/* Without defaults: portgate's own defaults, no only_from. */
	load_ok(INTERNAL_SVC("echo"));
	sc = need_svc("echo");
	assert_int_equal(sc->sc_log_success, ALOG_HOST | ALOG_PID |
	    ALOG_EXIT | ALOG_DURATION);
	assert_int_equal(sc->sc_log_failure, ALOG_HOST);
	assert_null(sc->sc_only_from);
	assert_null(sc->sc_no_access);
	assert_int_equal(sc->sc_has_passenv, 0);

	/* An empty only_from is a list that matches nobody. */
	load_ok("service echo\n{\n" ECHO_BODY "\tonly_from =\n}\n");
	sc = need_svc("echo");
	assert_non_null(sc->sc_only_from);
	assert_int_equal(addrlist_count(sc->sc_only_from), 0);
	assert_false(al_match(sc->sc_only_from, "127.0.0.1"));
}

/* In a service '=' on a list replaces, repeated '=' lines too. */
static void
test_op_set_replaces_in_service(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tenv = A=1 B=2\n"
	    "\tenv = C=3\n"
	    "\tenv += D=4\n"
	    "\tno_access = 10.0.0.1\n"
	    "\tno_access = 10.0.0.2\n"
	    "}\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_env.wl_n, 2);
	assert_string_equal(sc->sc_env.wl_words[0], "C=3");
	assert_string_equal(sc->sc_env.wl_words[1], "D=4");
	assert_int_equal(addrlist_count(sc->sc_no_access), 1);
	assert_true(al_match(sc->sc_no_access, "10.0.0.2"));
}

/* += and -= on a scalar, -= on env and redirect. */
static void
test_op_errors(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tport += 7\n"				/* 6 */
	    "\tnice -= 1\n"				/* 7 */
	    "\tenv = A=1\n"
	    "\tenv -= A=1\n"				/* 9 */
	    "\tredirect -= 127.0.0.1 7\n"		/* 10 */
	    "\ttype += UNLISTED\n"			/* 11 */
	    "}\n");
	DIAGS("@/t.conf:6: error: operator '+=' cannot be used with port, "
	    "which takes a single value: use '='",
	    "@/t.conf:7: error: operator '-=' cannot be used with nice, "
	    "which takes a single value: use '='",
	    "@/t.conf:9: error: operator '-=' cannot be used with env",
	    "@/t.conf:10: error: operator '-=' cannot be used with redirect",
	    "@/t.conf:11: error: operator '+=' cannot be used with type, "
	    "which takes a single value: use '='");
	assert_null(cf);
}

/* A scalar given twice keeps the first value, with a warning. */
static void
test_op_scalar_twice(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tinstances = 4\n"
	    "\tinstances = 5\n"				/* 4 */
	    "\tlog_type = SYSLOG daemon\n"
	    "\tlog_type = SYSLOG auth\n"		/* 6 */
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tper_source = 3\n"			/* 13 */
	    "\tper_source = 9\n"			/* 14 */
	    "\tid = first\n"				/* 15 */
	    "\tid = second\n"				/* 16 */
	    "}\n");
	DIAGS("@/t.conf:4: warning: instances is already set at @/t.conf:3; "
	    "the first value is kept (as xinetd does)",
	    "@/t.conf:6: warning: log_type is already set at @/t.conf:5; "
	    "the first value is kept (as xinetd does)",
	    "@/t.conf:14: warning: per_source is already set at "
	    "@/t.conf:13; the first value is kept (as xinetd does)",
	    "@/t.conf:16: warning: id is already set at @/t.conf:15; the "
	    "first value is kept (as xinetd does)");
	sc = need_svc("first");
	assert_int_equal(sc->sc_instances, 4);
	assert_int_equal(sc->sc_per_source, 3);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_SYSLOG);
	assert_int_equal(sc->sc_logtype.lt_facility, LOG_DAEMON);
	assert_null(svc("second"));
}

/* Scope: not allowed in defaults, only allowed in defaults, unknown. */
static void
test_op_scope_and_unknown(void **state)
{
	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tflags = REUSE\n"				/* 3 */
	    "\tserver = @/srv\n"			/* 4 */
	    "\tbogus2 = x\n"				/* 5 */
	    "\tmdns = yes\n"				/* 6 */
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tbogus = 1\n"				/* 13 */
	    "\tenabled = echo\n"			/* 14 */
	    "\tdisabled = echo\n"			/* 15 */
	    "\tLibWrap = x\n"				/* 16 */
	    "}\n");
	/* Defaults are checked once, before the services. */
	DIAGS("@/t.conf:3: error: flags is not allowed in defaults",
	    "@/t.conf:4: error: server is not allowed in defaults",
	    "@/t.conf:5: error: unknown attribute 'bogus2'",
	    "@/t.conf:6: warning: mdns is accepted for compatibility and "
	    "ignored",
	    "@/t.conf:13: error: unknown attribute 'bogus'",
	    "@/t.conf:14: error: enabled is only allowed in defaults",
	    "@/t.conf:15: error: disabled is only allowed in defaults");
	assert_null(cf);
}

/* libwrap: the daemon name is kept; one longer than libwrap's is refused. */
static void
test_libwrap_name(void **state)
{
	char	text[512], name[129];

	(void)state;
	load_ok("service echo\n{\n" ECHO_BODY "\tlibwrap = in.echod\n}\n");
	assert_string_equal(need_svc("echo")->sc_libwrap, "in.echod");
	load_ok(INTERNAL_SVC("echo"));
	assert_string_equal(need_svc("echo")->sc_libwrap, "");
	memset(name, 'x', 128);
	name[128] = '\0';
	(void)snprintf(text, sizeof(text), "service echo\n{\n" ECHO_BODY
	    "\tlibwrap = %s\n}\n", name);
	load(text);
	DIAGS("@/t.conf:6: error: libwrap: bad value '{...}': expected a name "
	    "of at most 127 characters");
	assert_null(cf);
}

/* Too few or too many values for an attribute. */
static void
test_op_value_counts(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tid =\n"					/* 6 */
	    "\tcps = 1\n"				/* 7 */
	    "\tlog_type = SYSLOG\n"			/* 8 */
	    "\tlog_type = FILE /x 1 2 3\n"		/* 9 */
	    "\tper_source_cps = 1 2 3\n"		/* 10 */
	    "\tredirect = 127.0.0.1\n"			/* 11 */
	    "\tuser = a b\n"				/* 12 */
	    "\tenv =\n"					/* 13 */
	    "\taccess_times =\n"			/* 14 */
	    "\ttls_cert +=\n"				/* 15 */
	    "}\n");
	DIAGS("@/t.conf:6: error: id expects a value: NAME",
	    "@/t.conf:7: error: cps expects RATE SECONDS, found 1 value",
	    "@/t.conf:8: error: log_type expects SYSLOG FACILITY [LEVEL] | "
	    "FILE PATH [SOFT [HARD]], found 1 value",
	    "@/t.conf:9: error: log_type expects SYSLOG FACILITY [LEVEL] | "
	    "FILE PATH [SOFT [HARD]], found 5 values",
	    "@/t.conf:10: error: per_source_cps expects RATE [BURST], found 3 "
	    "values",
	    "@/t.conf:11: error: redirect expects HOST PORT, found 1 value",
	    "@/t.conf:12: error: user expects NAME | UID, found 2 values",
	    "@/t.conf:13: error: env expects a value: NAME=VALUE ...",
	    "@/t.conf:14: error: access_times expects a value: [DAYS] "
	    "HH:MM-HH:MM ...",
	    "@/t.conf:15: error: tls_cert expects a value: PEM ...");
	assert_null(cf);

	/* wait = yes no: the line is dropped, so wait is missing too. */
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = stream\n"
	    "\twait = yes no\n"				/* 5 */
	    "}\n");
	DIAGS("@/t.conf:5: error: wait expects yes | no, found 2 values",
	    "@/t.conf:1: error: service echo: missing wait");
}

/*
 * Every attribute of the table: a good value, a bad value, where it may
 * be written and which operators apply.  The rows are written from the
 * documentation (xinetd.conf(5), DESIGN.md section 4), not from attr_table,
 * so that a change of the table shows here.
 */
struct attr_case {
	const char	*ac_name;
	const char	*ac_scope;	/* "S", "D" or "SD" */
	int		 ac_list;	/* 0 scalar, 1 list, 2 no -= */
	const char	*ac_good;
	const char	*ac_good_diag;	/* expected for ac_good */
	const char	*ac_bad;	/* NULL: any value is accepted */
	const char	*ac_err[3];	/* expected for the bad value */
	const char	*ac_body;	/* other lines; NULL: ECHO_BODY */
};

#define BODY_NOTYPE	"\tsocket_type = stream\n\twait = no\n"
#define BODY_SPAWN	"\tsocket_type = stream\n\twait = no\n\tuser = root\n"
#define BODY_UNLISTED	"\ttype = INTERNAL UNLISTED\n" \
			"\tsocket_type = stream\n\twait = no\n"
#define BODY_REDIRECT	"\tsocket_type = stream\n\twait = no\n" \
			"\tredirect = 127.0.0.1 7\n"

static const struct attr_case attr_cases[] = {
	{ "id", "S", 0, "echo-stream", NULL, "a b",
	    { "@/t.conf:3: error: id expects NAME, found 2 values" }, NULL },
	{ "type", "S", 0, "INTERNAL", NULL, "INTERNAL BOGUS",
	    { "@/t.conf:3: error: type: bad value 'BOGUS': expected one or "
	    "more of RPC INTERNAL UNLISTED TCPMUX TCPMUXPLUS SPECIAL" },
	    BODY_NOTYPE },
	{ "flags", "S", 0, "REUSE NODELAY KEEPALIVE", NULL, "REUSE BOGUS",
	    { "@/t.conf:3: error: flags: bad value 'BOGUS': expected one or "
	    "more of REUSE INTERCEPT NORETRY IDONLY NAMEINARGS NODELAY "
	    "KEEPALIVE NOLIBWRAP SENSOR IPv4 IPv6 LABELED" }, NULL },
	{ "disable", "S", 0, "no", NULL, "maybe",
	    { "@/t.conf:3: error: disable: bad value 'maybe': expected yes or "
	    "no" }, NULL },
	{ "socket_type", "S", 0, "stream", NULL, "bogus",
	    { "@/t.conf:3: error: socket_type: bad value 'bogus': expected "
	    "stream or dgram" }, "\ttype = INTERNAL\n\twait = no\n" },
	{ "protocol", "S", 0, "tcp", NULL, "bogus",
	    { "@/t.conf:3: error: protocol: bad value 'bogus': expected tcp "
	    "or udp" }, NULL },
	{ "wait", "S", 0, "no", NULL, "maybe",
	    { "@/t.conf:3: error: wait: bad value 'maybe': expected yes or "
	    "no" }, "\ttype = INTERNAL\n\tsocket_type = stream\n" },
	{ "user", "S", 0, "root", NULL, "no-such-user-pg",
	    { "@/t.conf:3: error: user 'no-such-user-pg' does not exist on "
	    "this machine" }, NULL },
	{ "group", "S", 0, "0", NULL, "no-such-group-pg",
	    { "@/t.conf:3: error: group 'no-such-group-pg' does not exist on "
	    "this machine" }, NULL },
	{ "groups", "SD", 0, "yes", NULL, "maybe",
	    { "@/t.conf:3: error: groups: bad value 'maybe': expected yes or "
	    "no" }, NULL },
	{ "instances", "SD", 0, "UNLIMITED", NULL, "-1",
	    { "@/t.conf:3: error: instances: bad value '-1': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED" }, NULL },
	{ "per_source", "SD", 0, "10", NULL, "ten",
	    { "@/t.conf:3: error: per_source: bad value 'ten': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED" }, NULL },
	{ "nice", "S", 0, "-20", NULL, "20",
	    { "@/t.conf:3: error: nice: bad value '20': expected an integer "
	    "from -20 to 19" }, NULL },
	{ "server", "S", 0, "@/srv", NULL, "srv",
	    { "@/t.conf:3: error: server: bad value 'srv': expected an "
	    "absolute path" }, BODY_SPAWN },
	{ "server_args", "S", 0, "-l x", NULL, NULL, { NULL }, NULL },
	{ "only_from", "SD", 1, "127.0.0.1 ::1 10.0.0.0/8 localhost", NULL,
	    "10.0.0.0 bad!word",
	    { "@/t.conf:3: error: only_from: \"bad!word\": not an address, "
	    "network, host or .domain name" }, NULL },
	{ "no_access", "SD", 1, "10.0.0.{1,2} .example.org", NULL,
	    "10.0.0.1,10.0.0.2",
	    { "@/t.conf:3: error: no_access: {...}" }, NULL },
	{ "access_times", "S", 1, "2:00-8:59 12:00-23:59", NULL,
	    "25:00-26:00",
	    { "@/t.conf:3: error: access_times "
	    "\"25:00-26:00\": hours must be 0-23" }, NULL },
	{ "log_type", "SD", 0, "FILE /var/log/portgate-test.log 10K 20K",
	    NULL, "SYSLOG nofacility",
	    { "@/t.conf:3: error: log_type: unknown syslog facility "
	    "\"nofacility\": expected daemon, auth, authpriv, user, mail, "
	    "lpr, news, uucp, ftp or local0 to local7" }, NULL },
	{ "log_on_success", "SD", 1, "PID HOST USERID EXIT DURATION", NULL,
	    "HOST BOGUS",
	    { "@/t.conf:3: error: log_on_success: bad value 'BOGUS': expected "
	    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT or "
	    "TLS" }, NULL },
	{ "log_on_failure", "SD", 1, "HOST USERID ATTEMPT", NULL, "PID",
	    { "@/t.conf:3: error: log_on_failure: bad value 'PID': expected "
	    "HOST, USERID, ATTEMPT, COUNTRY or PORT" }, NULL },
	{ "rpc_version", "S", 0, "2-4", NULL, "4-2",
	    { "@/t.conf:3: error: rpc_version: bad value '4-2': expected a "
	    "version N or a range N-M" }, NULL },
	{ "rpc_number", "S", 0, "100001", NULL, "x",
	    { "@/t.conf:3: error: rpc_number: bad value 'x': expected a "
	    "program number" }, NULL },
	{ "env", "S", 2, "A=1 B=", NULL, "A=1 B",
	    { "@/t.conf:3: error: env: bad value 'B': expected NAME=value" },
	    NULL },
	{ "passenv", "SD", 1, "PATH TZ", NULL, "PATH=/bin",
	    { "@/t.conf:3: error: passenv: bad value 'PATH=/bin': expected a "
	    "variable name" }, NULL },
	{ "port", "S", 0, "10007", NULL, "65536",
	    { "@/t.conf:3: error: port: bad value '65536': expected an integer "
	    "from 0 to 65535" }, BODY_UNLISTED },
	{ "redirect", "S", 2, "127.0.0.1 7", NULL, "127.0.0.1 0",
	    { "@/t.conf:3: error: redirect: bad value '0': expected a port "
	    "number from 1 to 65535 or a service name" }, NULL },
	{ "bind", "SD", 0, "127.0.0.1", NULL, "::1",
	    { "@/t.conf:3: error: cannot resolve bind address '::1' on this "
	    "machine: {...}" }, ECHO_BODY "\tflags = IPv4\n" },
	{ "banner", "SD", 0, "@/banner.txt", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: banner: cannot read @/nonexistent{...}"
	    "on this machine{...}" }, NULL },
	{ "banner_success", "SD", 0, "@/banner.txt", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: banner_success: cannot read @/nonexistent"
	    "{...}on this machine{...}" }, NULL },
	{ "banner_fail", "SD", 0, "@/banner.txt", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: banner_fail: cannot read @/nonexistent{...}"
	    "on this machine{...}" }, NULL },
	{ "umask", "SD", 0, "027", NULL, "999",
	    { "@/t.conf:3: error: umask: bad value '999': expected an octal "
	    "mask from 0 to 0777" }, NULL },
	{ "workers", "D", 0, "2", NULL, "0",
	    { "@/t.conf:3: error: workers: bad value '0': expected auto or a "
	    "number of workers from 1 to 32" }, NULL },
	{ "worker_cpus", "D", 0, "0 1", NULL, "0 x",
	    { "@/t.conf:3: error: worker_cpus: bad value 'x': expected CPU "
	    "numbers from 0 to 1023" }, NULL },
	{ "worker_user", "D", 0, "nobody", NULL, "root",
	    { "@/t.conf:3: error: worker_user: bad value 'root': expected an "
	    "existing user other than root" }, NULL },
	{ "control_socket", "D", 0, "/run/portgate-test.sock", NULL,
	    "run/portgate.sock",
	    { "@/t.conf:3: error: control_socket: bad value "
	    "'run/portgate.sock': expected none or an absolute path of at "
	    "most 107 bytes" }, NULL },
	{ "enabled", "D", 1, "echo other", NULL, NULL, { NULL }, NULL },
	{ "disabled", "D", 1, "other", NULL, NULL, { NULL }, NULL },
	{ "cps", "SD", 0, "0 1", NULL, "10 0",
	    { "@/t.conf:3: error: cps: bad value '0': expected seconds from 1 "
	    "to 86400" }, NULL },
	{ "max_load", "SD", 0, "2.5", NULL, "0",
	    { "@/t.conf:3: error: max_load: bad value '0': expected a load "
	    "average above 0" }, NULL },
	{ "rlimit_as", "S", 0, "64M", NULL, "1G",
	    { "@/t.conf:3: error: rlimit_as: bad value '1G': expected a number "
	    "with an optional K or M suffix, or UNLIMITED" }, NULL },
	{ "rlimit_cpu", "S", 0, "30", NULL, "1K",
	    { "@/t.conf:3: error: rlimit_cpu: bad value '1K': expected a "
	    "number or UNLIMITED" }, NULL },
	{ "rlimit_data", "S", 0, "UNLIMITED", NULL, "-1",
	    { "@/t.conf:3: error: rlimit_data: bad value '-1': expected a "
	    "number with an optional K or M suffix, or UNLIMITED" }, NULL },
	{ "rlimit_rss", "S", 0, "100K", NULL, "1.5M",
	    { "@/t.conf:3: error: rlimit_rss: bad value '1.5M': expected a "
	    "number with an optional K or M suffix, or UNLIMITED" }, NULL },
	{ "rlimit_stack", "S", 0, "8M", NULL, "M",
	    { "@/t.conf:3: error: rlimit_stack: bad value 'M': expected a "
	    "number with an optional K or M suffix, or UNLIMITED" }, NULL },
	{ "rlimit_files", "S", 0, "1K", NULL, "many",
	    { "@/t.conf:3: error: rlimit_files: bad value 'many': expected a "
	    "number with an optional K or M suffix, or UNLIMITED" }, NULL },
	{ "deny_time", "S", 0, "NEVER", NULL, "soon",
	    { "@/t.conf:3: error: deny_time: bad value 'soon': expected "
	    "minutes, FOREVER or NEVER" }, NULL },
	{ "v6only", "SD", 0, "yes", NULL, "2",
	    { "@/t.conf:3: error: v6only: bad value '2': expected yes or no" },
	    NULL },
	{ "freebind", "SD", 0, "yes", NULL, "always",
	    { "@/t.conf:3: error: freebind: bad value 'always': expected yes "
	    "or no" }, NULL },
	{ "mdns", "SD", 0, "yes", "@/t.conf:3: warning: mdns is accepted for "
	    "compatibility and ignored", "yes no",
	    { "@/t.conf:3: error: mdns expects yes | no, found 2 values" },
	    NULL },
	{ "libwrap", "S", 0, "in.telnetd", NULL, "a b",
	    { "@/t.conf:3: error: libwrap expects NAME, found 2 values" },
	    NULL },
	{ "connect_timeout", "SD", 0, "3600", NULL, "0",
	    { "@/t.conf:3: error: connect_timeout: bad value '0': expected an "
	    "integer from 1 to 3600" }, NULL },
	{ "idle_timeout", "SD", 0, "0", NULL, "-1",
	    { "@/t.conf:3: error: idle_timeout: bad value '-1': expected an "
	    "integer from 0 to 2147483" }, NULL },
	{ "proxy_protocol", "S", 0, "v2", NULL, "v3",
	    { "@/t.conf:3: error: proxy_protocol: bad value 'v3': expected v1, "
	    "v2 or none" }, BODY_REDIRECT },
	{ "accept_proxy", "SD", 0, "yes", NULL, "on",
	    { "@/t.conf:3: error: accept_proxy: bad value 'on': expected yes "
	    "or no" }, ECHO_BODY "\tproxy_from = 127.0.0.1\n" },
	{ "proxy_from", "SD", 1, "127.0.0.1 10.0.0.0/8 ::1", NULL,
	    "127.0.0.1 10.0.0.0/33",
	    { "@/t.conf:3: error: proxy_from: {...}10.0.0.0/33{...}" },
	    ECHO_BODY "\taccept_proxy = yes\n" },
	{ "tls", "S", 0, "no", NULL, "true",
	    { "@/t.conf:3: error: tls: bad value 'true': expected yes or no" },
	    NULL },
	{ "tls_cert", "SD", 1, "@/cert.pem @/cert2.pem", NULL,
	    "@/cert.pem @/nonexistent",
	    { "@/t.conf:3: error: tls_cert: cannot read @/nonexistent on this "
	    "machine: No such file or directory" }, NULL },
	{ "tls_key", "SD", 1, "@/key.pem", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: tls_key: cannot read @/nonexistent on this "
	    "machine: No such file or directory" }, NULL },
	{ "tls_ca", "SD", 0, "@/ca.pem", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: tls_ca: cannot read @/nonexistent on this "
	    "machine: No such file or directory" }, NULL },
	{ "tls_protocols", "SD", 1, "TLSv1.2 TLSv1.3", NULL, "TLSv1.3 SSLv3",
	    { "@/t.conf:3: error: tls_protocols: bad value 'SSLv3': expected "
	    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" }, NULL },
	{ "tls_ciphers", "SD", 0, "HIGH:!aNULL", NULL, "HIGH MEDIUM",
	    { "@/t.conf:3: error: tls_ciphers expects OPENSSL-CIPHER-LIST, "
	    "found 2 values" }, NULL },
	{ "tls_ciphersuites", "SD", 0, "TLS_AES_256_GCM_SHA384", NULL,
	    "A B", { "@/t.conf:3: error: tls_ciphersuites expects "
	    "TLS1.3-CIPHERSUITES, found 2 values" }, NULL },
	{ "tls_alpn", "S", 1, "h2 http/1.1", NULL, NULL, { NULL }, NULL },
	{ "tls_handshake_timeout", "SD", 0, "1", NULL, "3601",
	    { "@/t.conf:3: error: tls_handshake_timeout: bad value '3601': "
	    "expected an integer from 1 to 3600" }, NULL },
	{ "geoip_db", "SD", 0, "@/geo.mmdb", NULL, "@/nonexistent",
	    { "@/t.conf:3: error: geoip_db: {...}@/nonexistent{...}" }, NULL },
	{ "only_from_country", "SD", 1, "FR DE --", NULL, "FR FRA",
	    { "@/t.conf:3: error: only_from_country: bad value 'FRA': expected "
	    "ISO 3166-1 alpha-2 country codes such as FR, or --" },
	    ECHO_BODY "\tgeoip_db = @/geo.mmdb\n" },
	{ "no_access_country", "SD", 1, "RU", NULL, "R1",
	    { "@/t.conf:3: error: no_access_country: bad value 'R1': expected "
	    "ISO 3166-1 alpha-2 country codes such as FR, or --" },
	    ECHO_BODY "\tgeoip_db = @/geo.mmdb\n" },
	{ "access_tz", "SD", 0, "Europe/Paris", NULL, "Nowhere/Special",
	    { "@/t.conf:3: error: access_tz: bad value 'Nowhere/Special': "
	    "expected a time zone name such as Europe/Paris" }, NULL },
	{ "per_source_cps", "SD", 0, "0.5 4", NULL, "1 0.5",
	    { "@/t.conf:3: error: per_source_cps: bad value '0.5': expected a "
	    "burst size of at least 1" }, NULL },
	{ "per_source_prefix6", "SD", 0, "128", NULL, "129",
	    { "@/t.conf:3: error: per_source_prefix6: bad value '129': "
	    "expected an integer from 0 to 128" }, NULL },
};

#define NCASES	((int)(sizeof(attr_cases) / sizeof(attr_cases[0])))

/* Write a configuration with "<name> <op> <val>" at line 3 and load it. */
static void
attr_load(const struct attr_case *ac, int in_defaults, const char *op,
    const char *val, const char *body)
{
	static char	 text[4096];
	int		 n;

	if (body == NULL)
		body = ac->ac_body != NULL ? ac->ac_body : ECHO_BODY;
	if (in_defaults)
		n = snprintf(text, sizeof(text), "defaults\n{\n\t%s %s %s\n}\n"
		    "service echo\n{\n%s}\n", ac->ac_name, op, val, body);
	else
		n = snprintf(text, sizeof(text), "service echo\n{\n\t%s %s %s\n"
		    "%s}\n", ac->ac_name, op, val, body);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	load(text);
}

/* Fail with the case's name when the diagnostics are not <exp>. */
static void
attr_expect(const struct attr_case *ac, const char *what,
    const char *const *exp)
{
	print_message("[ %s: %s ]\n", ac->ac_name, what);
	check_diags(exp);
}

/* Every row of attr_table has a case, every case names an attribute. */
static void
test_attr_table_covered(void **state)
{
	int	i, j;

	(void)state;
	for (i = 0; i < attr_count; i++) {
		for (j = 0; j < NCASES; j++)
			if (strcmp(attr_cases[j].ac_name,
			    attr_table[i].name) == 0)
				break;
		if (j == NCASES)
			fail_msg("attribute %s has no test case",
			    attr_table[i].name);
	}
	for (j = 0; j < NCASES; j++)
		if (attr_lookup(attr_cases[j].ac_name) == -1)
			fail_msg("%s is not an attribute",
			    attr_cases[j].ac_name);
	assert_int_equal(NCASES, attr_count);
	assert_int_equal(attr_lookup("ONLY_FROM"), attr_lookup("only_from"));
	/* interface is another name of bind. */
	assert_int_equal(attr_lookup("Interface"), attr_lookup("bind"));
	assert_int_equal(attr_lookup("nosuch"), -1);
}

/* A good value: accepted, where the attribute belongs, and in defaults. */
static void
test_attr_good_values(void **state)
{
	const struct attr_case	*ac;
	const char		*exp[2];
	int			 i;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		ac = &attr_cases[i];
		exp[0] = ac->ac_good_diag;
		exp[1] = NULL;
		attr_load(ac, strchr(ac->ac_scope, 'S') == NULL, "=",
		    ac->ac_good, NULL);
		attr_expect(ac, "good value", exp);
		assert_non_null(cf);
		assert_non_null(svc(strcmp(ac->ac_name, "id") == 0 ?
		    "echo-stream" : "echo"));
		if (strcmp(ac->ac_scope, "SD") == 0) {
			attr_load(ac, 1, "=", ac->ac_good, NULL);
			attr_expect(ac, "good value in defaults", exp);
			assert_non_null(svc("echo"));
		}
	}
}

/* A bad value: the attribute, the word and what was expected, at line 3. */
static void
test_attr_bad_values(void **state)
{
	const struct attr_case	*ac;
	int			 i;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		ac = &attr_cases[i];
		if (ac->ac_bad == NULL)
			continue;
		attr_load(ac, strchr(ac->ac_scope, 'S') == NULL, "=",
		    ac->ac_bad, NULL);
		attr_expect(ac, "bad value", ac->ac_err);
		/* A finding about this machine leaves out the service only. */
		if (cd.cd_errors == 0) {
			assert_true(cd.cd_disables > 0);
			assert_non_null(cf);
			assert_null(svc("echo"));
		} else
			assert_null(cf);
	}
}

/* Where each attribute may be written. */
static void
test_attr_scope(void **state)
{
	const struct attr_case	*ac;
	char			 msg[256];
	const char		*exp[2] = { msg, NULL };
	int			 i;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		ac = &attr_cases[i];
		if (strchr(ac->ac_scope, 'D') == NULL) {
			(void)snprintf(msg, sizeof(msg), "@/t.conf:3: error: "
			    "%s is not allowed in defaults", ac->ac_name);
			attr_load(ac, 1, "=", ac->ac_good, ECHO_BODY);
			attr_expect(ac, "in defaults", exp);
		}
		if (strchr(ac->ac_scope, 'S') == NULL) {
			(void)snprintf(msg, sizeof(msg), "@/t.conf:3: error: "
			    "%s is only allowed in defaults", ac->ac_name);
			attr_load(ac, 0, "=", ac->ac_good, ECHO_BODY);
			attr_expect(ac, "in a service", exp);
		}
	}
}

/* += and -= on lists; += and -= on scalars are errors. */
static void
test_attr_operators(void **state)
{
	const struct attr_case	*ac;
	char			 msg[256];
	const char		*exp[2];
	int			 i, in_defaults;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		ac = &attr_cases[i];
		in_defaults = strchr(ac->ac_scope, 'S') == NULL;
		attr_load(ac, in_defaults, "+=", ac->ac_good, NULL);
		if (ac->ac_list != 0) {
			exp[0] = ac->ac_good_diag;
			exp[1] = NULL;
			attr_expect(ac, "+= good value", exp);
		} else {
			(void)snprintf(msg, sizeof(msg), "@/t.conf:3: error: "
			    "operator '+=' cannot be used with %s, which takes "
			    "a single value: use '='", ac->ac_name);
			print_message("[ %s: += ]\n", ac->ac_name);
			assert_diag(msg);
		}
		attr_load(ac, in_defaults, "-=", ac->ac_good, NULL);
		if (ac->ac_list == 0)
			(void)snprintf(msg, sizeof(msg), "@/t.conf:3: error: "
			    "operator '-=' cannot be used with %s, which takes "
			    "a single value: use '='", ac->ac_name);
		else
			(void)snprintf(msg, sizeof(msg), "@/t.conf:3: error: "
			    "operator '-=' cannot be used with %s",
			    ac->ac_name);
		print_message("[ %s: -= ]\n", ac->ac_name);
		assert_int_equal(count_diags(msg), ac->ac_list != 1);
	}
}

/* Values land in the right fields. */
static void
test_attr_values_stored(void **state)
{
	struct service_conf	*sc;

	(void)state;
	need_etc_services();
	load_ok("service echo\n"
	    "{\n"
	    "\tid = my-echo\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = 0\n"
	    "\tgroup = 0\n"
	    "\tgroups = yes\n"
	    "\tserver = @/srv\n"
	    "\tserver_args = -a -b\n"
	    "\tflags = KEEPALIVE\n"
	    "\tinstances = 25\n"
	    "\tper_source = 5\n"
	    "\tnice = -3\n"
	    "\tumask = 027\n"
	    "\tcps = 30 5\n"
	    "\tmax_load = 2.5\n"
	    "\tper_source_cps = 0.5 4\n"
	    "\tper_source_prefix6 = 48\n"
	    "\trlimit_as = 64M\n"
	    "\trlimit_files = 1K\n"
	    "\trlimit_stack = 100\n"
	    "\tdeny_time = 30\n"
	    "\tconnect_timeout = 5\n"
	    "\tidle_timeout = 60\n"
	    "\taccept_proxy = yes\n"
	    "\tproxy_from = 192.0.2.1 10.0.0.0/8\n"
	    "\tenv = A=1 B=x=y\n"
	    "\tpassenv = PATH\n"
	    "\tlog_type = FILE /var/log/portgate-test.log 10K\n"
	    "\tlog_on_failure = HOST ATTEMPT PORT\n"
	    "\ttls_protocols = TLSv1.3\n"
	    "\ttls_ciphers = HIGH\n"
	    "\ttls_ciphersuites = TLS_AES_128_GCM_SHA256\n"
	    "\ttls_handshake_timeout = 7\n"
	    "\tv6only = yes\n"
	    "\tfreebind = yes\n"
	    "}\n");
	sc = need_svc("my-echo");
	assert_string_equal(sc->sc_name, "echo");
	assert_int_equal(sc->sc_port, 7);
	assert_int_equal(sc->sc_type, 0);
	assert_int_equal(sc->sc_builtin, BUILTIN_NONE);
	assert_int_equal(sc->sc_flags, SFLAG_KEEPALIVE);
	assert_string_equal(sc->sc_user, "0");
	assert_int_equal(sc->sc_has_uid, 1);
	assert_int_equal(sc->sc_uid, 0);
	assert_string_equal(sc->sc_group, "0");
	assert_int_equal(sc->sc_has_gid, 1);
	assert_int_equal(sc->sc_gid, 0);
	assert_int_equal(sc->sc_groups, 1);
	assert_string_equal(sc->sc_server, tpath("srv"));
	assert_int_equal(sc->sc_server_args.wl_n, 2);
	assert_string_equal(sc->sc_server_args.wl_words[1], "-b");
	assert_null(sc->sc_server_args.wl_words[2]);
	assert_int_equal(sc->sc_instances, 25);
	assert_int_equal(sc->sc_per_source, 5);
	assert_int_equal(sc->sc_nice, -3);
	assert_int_equal(sc->sc_umask, 027);
	assert_int_equal(sc->sc_cps_rate, 30);
	assert_int_equal(sc->sc_cps_wait, 5);
	assert_true(sc->sc_max_load == 2.5);
	assert_true(sc->sc_per_source_cps_rate == 0.5);
	assert_true(sc->sc_per_source_cps_burst == 4.0);
	assert_int_equal(sc->sc_per_source_prefix6, 48);
	assert_int_equal(sc->sc_rlimit[CRL_AS], 64 * 1024 * 1024);
	assert_int_equal(sc->sc_rlimit[CRL_FILES], 1024);
	assert_int_equal(sc->sc_rlimit[CRL_STACK], 100);
	assert_int_equal(sc->sc_rlimit_set, (1u << CRL_AS) |
	    (1u << CRL_FILES) | (1u << CRL_STACK));
	assert_int_equal(sc->sc_deny_time, 30);
	assert_int_equal(sc->sc_connect_timeout, 5);
	assert_int_equal(sc->sc_idle_timeout, 60);
	assert_int_equal(sc->sc_accept_proxy, 1);
	assert_int_equal(sc->sc_env.wl_n, 2);
	assert_string_equal(sc->sc_env.wl_words[1], "B=x=y");
	assert_int_equal(sc->sc_passenv.wl_n, 1);
	assert_int_equal(sc->sc_has_passenv, 1);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_FILE);
	assert_string_equal(sc->sc_logtype.lt_path,
	    "/var/log/portgate-test.log");
	assert_int_equal(sc->sc_logtype.lt_soft, 10240);
	assert_int_equal(sc->sc_log_failure, ALOG_HOST | ALOG_ATTEMPT |
	    ALOG_PORT);
	assert_int_equal(sc->sc_tls_protocols.wl_n, 1);
	assert_string_equal(sc->sc_tls_ciphers, "HIGH");
	assert_string_equal(sc->sc_tls_ciphersuites, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(sc->sc_tls_handshake_timeout, 7);
	assert_int_equal(sc->sc_v6only, 1);
	assert_int_equal(sc->sc_freebind, 1);
	assert_int_equal(sc->sc_tls, 0);
	/* CONF_CHECK_ONLY opens no log. */
	assert_null(sc->sc_log);
}

/* Is <order> a permutation of 0..<n>-1?  Returns the position of each. */
static void
order_positions(const int *order, int n, int *pos)
{
	int	i;

	for (i = 0; i < n; i++)
		pos[i] = -1;
	for (i = 0; i < n; i++) {
		assert_in_range(order[i], 0, n - 1);
		assert_int_equal(pos[order[i]], -1);
		pos[order[i]] = i;
	}
}

/*
 * attr_order() puts each row after the one its .after names, whatever the
 * order of the rows; it ignores an unknown name and ends on a cycle.
 */
static void
test_attr_order(void **state)
{
	static const struct attr_def	chain[] = {
		{ .name = "c", .after = "b" },
		{ .name = "b", .after = "a" },
		{ .name = "a" },
		{ .name = "d", .after = "nosuch" },
	};
	static const struct attr_def	cycle[] = {
		{ .name = "x", .after = "y" },
		{ .name = "y", .after = "x" },
		{ .name = "z", .after = "x" },
	};
	int		 order[128], pos[128], i, dep, ndeps = 0;
	const int	*real;

	(void)state;
	attr_order(chain, 4, order);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 3);
	attr_order(cycle, 3, order);
	order_positions(order, 3, pos);
	assert_true(pos[2] > pos[0]);

	/* The real table: every .after names a row that runs before. */
	assert_true(attr_count <= 128);
	real = attr_setter_order();
	order_positions(real, attr_count, pos);
	for (i = 0; i < attr_count; i++) {
		if (attr_table[i].after == NULL)
			continue;
		dep = attr_lookup(attr_table[i].after);
		if (dep == -1)
			fail_msg("%s: .after names no attribute",
			    attr_table[i].name);
		assert_true(pos[dep] < pos[i]);
		ndeps++;
	}
	assert_true(ndeps >= 2);
	assert_true(pos[attr_lookup("group")] < pos[attr_lookup("user")]);
	assert_true(pos[attr_lookup("access_tz")] <
	    pos[attr_lookup("access_times")]);
}

/*
 * The dependencies that .after declares are real: a user without a
 * password entry takes the group given, wherever it is written, and the
 * windows of access_times are in the zone of access_tz.
 */
static void
test_attr_declared_order(void **state)
{
	struct service_conf	*sc;
	time_t			 t = 1767573000;	/* Mon 2026-01-05 00:30 UTC */

	(void)state;
	config_set_root(1);
	load_ok("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = 3999999999\n"
	    "\tpassenv = PATH\n"
	    "\tserver = @/srv\n"
	    "\tgroup = 0\n"
	    "}\n");
	sc = need_svc("echo");
	assert_true(sc->sc_uid == (uid_t)3999999999u);
	assert_int_equal(sc->sc_has_gid, 1);
	assert_int_equal(sc->sc_gid, 0);

	/* 09:30 in Tokyo (UTC+9, no summer time), 00:30 in UTC. */
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	load_ok("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\taccess_times = 09:00-10:00\n"
	    "\taccess_tz = Asia/Tokyo\n"
	    "}\n");
	sc = need_svc("echo");
	assert_int_equal(timewin_match(sc->sc_access_times, t, NULL, 0), 1);
	assert_int_equal(timewin_match(sc->sc_access_times, t + 3600, NULL,
	    0), 0);
	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
}

/* What each row says of itself holds together. */
static void
test_attr_rows(void **state)
{
	const struct attr_def	*ad;
	char			 buf[64], *words[ATTR_DEFAULT_MAX];
	unsigned		 rlimits = 0;
	int			 i, n, ndefaults = 0;

	(void)state;
	for (i = 0; i < attr_count; i++) {
		ad = &attr_table[i];
		print_message("[ %s ]\n", ad->name);
		assert_int_equal(attr_lookup(ad->name), i);
		if (ad->alias != NULL)
			assert_int_equal(attr_lookup(ad->alias), i);
		assert_non_null(ad->set);
		assert_non_null(ad->values);
		assert_non_null(ad->summary);
		assert_true(ad->scope != 0 &&
		    (ad->scope & ~(unsigned)ATTR_BOTH) == 0);
		assert_true(ad->max_values == -1 ||
		    ad->max_values >= ad->min_values);
		/* A list without -= is still a list. */
		if (ad->flags & ATTR_NODEL)
			assert_true(ad->flags & ATTR_LIST);
		/* Offset 0 is sc_name: an unset value needs a real field. */
		if (ad->unset != 0)
			assert_true(ad->offset != 0);
		if (ad->default_text != NULL) {
			n = attr_default_words(ad, buf, sizeof(buf), words,
			    ATTR_DEFAULT_MAX);
			assert_in_range(n, ad->min_values, ad->max_values ==
			    -1 ? ATTR_DEFAULT_MAX : ad->max_values);
			assert_true(ad->scope & ATTR_SERVICE);
			ndefaults++;
		}
		if (strncmp(ad->name, "rlimit_", 7) == 0) {
			assert_in_range(ad->rlimit, 0, CRL_COUNT - 1);
			assert_false(rlimits & (1u << ad->rlimit));
			rlimits |= 1u << ad->rlimit;
			/* Only the CPU time takes no K or M. */
			assert_int_equal(ad->size_suffix, ad->rlimit != CRL_CPU);
		}
	}
	assert_int_equal(rlimits, (1u << CRL_COUNT) - 1);
	assert_int_equal(ndefaults, 9);
	assert_int_equal(attr_lookup("interface"), attr_lookup("bind"));
}

/*
 * Required attributes and checks between attributes.
 */

/* socket_type and protocol imply each other; one of them is required. */
static void
test_req_socket_protocol(void **state)
{
	struct service_conf	*sc;

	(void)state;
	need_etc_services();
	load_ok("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tprotocol = udp\n"
	    "\twait = yes\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = dgram\n"
	    "\twait = yes\n"
	    "}\n"
	    INTERNAL_SVC("daytime"));
	sc = need_svc("echo");
	assert_int_equal(sc->sc_socktype, SOCK_DGRAM);
	assert_int_equal(sc->sc_protocol, IPPROTO_UDP);
	assert_string_equal(sc->sc_protoname, "udp");
	assert_int_equal(sc->sc_port, 7);
	sc = need_svc("discard");
	assert_int_equal(sc->sc_socktype, SOCK_DGRAM);
	assert_int_equal(sc->sc_protocol, IPPROTO_UDP);
	assert_string_equal(sc->sc_protoname, "udp");
	assert_int_equal(sc->sc_port, 9);
	sc = need_svc("daytime");
	assert_int_equal(sc->sc_protocol, IPPROTO_TCP);
	assert_string_equal(sc->sc_protoname, "tcp");

	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\twait = no\n"
	    "}\n"
	    "service discard\n"				/* 6 */
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = stream\n"
	    "\tprotocol = udp\n"			/* 10 */
	    "\twait = no\n"
	    "}\n"
	    "service daytime\n"				/* 13 */
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = raw\n"			/* 16 */
	    "\tprotocol = icmp\n"			/* 17 */
	    "\twait = no\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: missing socket_type",
	    "@/t.conf:10: error: service discard: protocol udp does not go "
	    "with socket_type stream",
	    "@/t.conf:16: error: socket_type raw is not supported by portgate",
	    getprotobyname("icmp") != NULL ?
	    "@/t.conf:17: error: protocol icmp is not supported by portgate "
	    "(tcp or udp)" :
	    "@/t.conf:17: error: protocol: bad value 'icmp': expected tcp or "
	    "udp");
	assert_null(cf);
}

/* wait, server and user are required; user only when running as root. */
static void
test_req_wait_server_user(void **state)
{
	struct service_conf	*sc;
	static const char	 spawned[] =
	    "service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tserver = @/srv\n"
	    "}\n";

	(void)state;
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = stream\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: missing wait",
	    "@/t.conf:6: error: service discard: missing server (or type = "
	    "INTERNAL, or redirect)");
	assert_null(cf);

	load(spawned);
	DIAGS("@/t.conf:1: error: service echo: missing user (a spawned "
	    "server never runs as root by default)");
	assert_null(cf);

	config_set_root(0);
	load_ok(spawned);
	sc = need_svc("echo");
	assert_string_equal(sc->sc_server, tpath("srv"));
	assert_int_equal(sc->sc_has_uid, 0);
	assert_null(sc->sc_user);

	/* A server that is not executable. */
	load("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tserver = @/noexec\n"			/* 5 */
	    "}\n");
	DIAGS("@/t.conf:5: error: server @/noexec: not an executable file on "
	    "this machine");
	load("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tserver = @/nonexistent\n"		/* 5 */
	    "}\n");
	DIAGS("@/t.conf:5: error: server @/nonexistent: not found on this "
	    "machine: No such file or directory");

	/* NAMEINARGS needs server_args. */
	config_set_root(1);
	load("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "\tflags = NAMEINARGS\n"
	    "\tserver = @/srv\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: NAMEINARGS needs server_args");
	load_ok("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tuser = root\n"
	    "\tflags = NAMEINARGS\n"
	    "\tserver = @/srv\n"
	    "\tserver_args = in.echod -v\n"
	    "}\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_has_uid, 1);
	assert_int_equal(sc->sc_uid, 0);
	/* The group is the user's, unless `group` says otherwise. */
	assert_int_equal(sc->sc_has_gid, 1);
	assert_int_equal(sc->sc_gid, 0);

	/* A SENSOR needs no server. */
	load_ok("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tflags = SENSOR\n"
	    "\tdeny_time = 10\n"
	    "}\n");
	assert_int_equal(need_svc("echo")->sc_deny_time, 10);
}

/* type INTERNAL looks the built-in up by service name. */
static void
test_req_internal(void **state)
{
	(void)state;
	need_etc_services();
	load_ok(INTERNAL_SVC("echo")
	    INTERNAL_SVC("discard")
	    INTERNAL_SVC("daytime")
	    INTERNAL_SVC("time")
	    INTERNAL_SVC("chargen"));
	assert_int_equal(need_svc("echo")->sc_builtin, BUILTIN_ECHO);
	assert_int_equal(need_svc("discard")->sc_builtin, BUILTIN_DISCARD);
	assert_int_equal(need_svc("daytime")->sc_builtin, BUILTIN_DAYTIME);
	assert_int_equal(need_svc("time")->sc_builtin, BUILTIN_TIME);
	assert_int_equal(need_svc("chargen")->sc_builtin, BUILTIN_CHARGEN);

	load("service servers\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tid = echo\n"
	    "\tport = 9099\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service servers: no internal service of "
	    "that name (portgate has echo, discard, daytime, time, chargen, "
	    "metrics, tcpmux)");
	/* xinetd removed it too: the service is left out, not the file. */
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 0);
	assert_int_equal(cf->cf_noff, 1);
}

/* The port: from `port` with UNLISTED, else from /etc/services. */
static void
test_req_port(void **state)
{
	struct service_conf	*sc;

	(void)state;
	need_etc_services();
	load_ok(INTERNAL_SVC("echo")
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\tport = 9\n"
	    "}\n"
	    "service chargen\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 0\n"
	    "}\n");
	assert_int_equal(need_svc("echo")->sc_port, 7);
	assert_int_equal(need_svc("discard")->sc_port, 9);
	sc = need_svc("chargen");
	assert_int_equal(sc->sc_port, 0);

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tport = 8\n"				/* 6 */
	    "}\n"
	    "service chargen\n"				/* 8 */
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "}\n"
	    "service no-such-service-pg\n"		/* 14 */
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tredirect = 127.0.0.1 7\n"
	    "}\n"
	    "service no-such-service-pg2\n"		/* 20 */
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10000\n"				/* 24 */
	    "\tredirect = 127.0.0.1 7\n"
	    "}\n");
	DIAGS("@/t.conf:6: error: service echo: port 8 differs from "
	    "/etc/services (echo/tcp is port 7); use type = UNLISTED for "
	    "another port",
	    "@/t.conf:8: error: service chargen: missing port (required with "
	    "type = UNLISTED)",
	    "@/t.conf:14: error: service no-such-service-pg: no port: "
	    "'no-such-service-pg/tcp' is not in /etc/services on this machine "
	    "and no port is given",
	    "@/t.conf:24: error: service no-such-service-pg2: "
	    "'no-such-service-pg2/tcp' is not in /etc/services on this "
	    "machine (add it there, or set type = UNLISTED)");
	assert_null(cf);
}

/*
 * Regression (config_check_port() in src/config.c, fixed): when the port setter has
 * already rejected the value, sc_port is still -1 and a second, wrong
 * error "port -1 differs from /etc/services" follows.
 */
static void
test_req_port_no_cascade(void **state)
{
	(void)state;
	need_etc_services();
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tport = ab!c\n"
	    "}\n");
	DIAGS("@/t.conf:6: error: port: bad value 'ab!c': expected a port "
	    "number from 0 to 65535 or a service name");
}

/* disable = yes, and the enabled and disabled lists of defaults. */
static void
test_disable(void **state)
{
	(void)state;
	/* The values of a disabled service are not checked. */
	load_ok("service echo\n"
	    "{\n"
	    "\tdisable = yes\n"
	    "\tinstances = lots\n"
	    "\tserver = relative\n"
	    "\tuser = no-such-user-pg\n"
	    "}\n"
	    INTERNAL_SVC("discard"));
	assert_int_equal(cf->cf_nservices, 1);
	assert_int_equal(cf->cf_ndisabled, 1);
	assert_null(svc("echo"));
	assert_non_null(svc("discard"));

	/* But its statements still are. */
	load("service echo\n"
	    "{\n"
	    "\tdisable = YES\n"
	    "\tbogus = 1\n"
	    "\tport += 1\n"
	    "}\n");
	DIAGS("@/t.conf:4: error: unknown attribute 'bogus'",
	    "@/t.conf:5: error: operator '+=' cannot be used with port, which "
	    "takes a single value: use '='");

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tdisable = maybe\n"
	    "}\n");
	DIAGS("@/t.conf:6: error: disable: bad value 'maybe': expected yes or "
	    "no");
	assert_null(cf);

	/* disabled names ids; it accumulates in defaults. */
	load_ok("defaults\n"
	    "{\n"
	    "\tdisabled = echo-stream\n"
	    "\tdisabled = time\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    "\tid = echo-stream\n"
	    ECHO_BODY
	    "\tinstances = bad\n"
	    "}\n"
	    INTERNAL_SVC("time")
	    INTERNAL_SVC("discard"));
	assert_int_equal(cf->cf_nservices, 1);
	assert_int_equal(cf->cf_ndisabled, 2);
	assert_non_null(svc("discard"));

	/* enabled: every service not listed is disabled. */
	load_ok("defaults\n"
	    "{\n"
	    "\tenabled = discard\n"
	    "\tenabled += daytime\n"
	    "\tdisabled = daytime\n"
	    "}\n"
	    INTERNAL_SVC("echo")
	    INTERNAL_SVC("discard")
	    INTERNAL_SVC("daytime"));
	assert_int_equal(cf->cf_nservices, 1);
	assert_int_equal(cf->cf_ndisabled, 2);
	assert_non_null(svc("discard"));

	/* An empty enabled list disables everything. */
	load_ok("defaults\n{\n\tenabled =\n}\n" INTERNAL_SVC("echo"));
	assert_int_equal(cf->cf_nservices, 0);
	assert_int_equal(cf->cf_ndisabled, 1);
}

/* Two services on one socket: same id, or two ids. */
static void
test_duplicates(void **state)
{
	(void)state;
	need_etc_services();
	load(INTERNAL_SVC("echo")
	    "service echo\n"				/* 7 */
	    "{\n"
	    ECHO_BODY
	    "}\n"
	    "service echo\n"				/* 13 */
	    "{\n"
	    "\tid = echo-two\n"
	    ECHO_BODY
	    "}\n");
	/* As xinetd: the later ones are left out, the first runs. */
	DIAGS("@/t.conf:7: error: duplicate service: id echo on tcp port 7 "
	    "address * is already defined at @/t.conf:1",
	    "@/t.conf:13: error: service echo-two would listen on tcp port 7 "
	    "address * like service echo at @/t.conf:1");
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 1);
	assert_int_equal(cf->cf_noff, 2);

	/* Same id on another protocol, address or port is fine. */
	load_ok(INTERNAL_SVC("echo")
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = dgram\n"
	    "\twait = yes\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tbind = 127.0.0.1\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    "\ttype = INTERNAL UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tport = 10007\n"
	    "}\n");
	assert_int_equal(cf->cf_nservices, 4);

	/* Two ephemeral ports never collide. */
	load_ok("service echo\n"
	    "{\n"
	    BODY_UNLISTED
	    "\tport = 0\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    BODY_UNLISTED
	    "\tport = 0\n"
	    "}\n");
	assert_int_equal(cf->cf_nservices, 2);

	/* A disabled duplicate is no duplicate. */
	load_ok(INTERNAL_SVC("echo")
	    "service echo\n{\n" ECHO_BODY "\tdisable = yes\n}\n");
	assert_int_equal(cf->cf_nservices, 1);
}

/* RPC services are read, then skipped with a warning. */
static void
test_rpc_skipped(void **state)
{
	(void)state;
	load_ok("service echo\n{\n" ECHO_BODY "}\n");
	load("service rstatd\n"
	    "{\n"
	    "\ttype = RPC\n"
	    "\tflags = INTERCEPT\n"
	    "\trpc_version = 2-4\n"
	    "\tsocket_type = dgram\n"
	    "\tprotocol = udp\n"
	    "\tserver = /usr/etc/rpc.rstatd\n"
	    "\twait = yes\n"
	    "\tuser = root\n"
	    "}\n"
	    INTERNAL_SVC("echo"));
	DIAGS("@/t.conf:1: warning: service rstatd: RPC services are not "
	    "supported; it is not started");
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 1);
	assert_int_equal(cf->cf_ndisabled, 1);
}

/* redirect: HOST PORT pairs, resolved now, with its own checks. */
static void
test_redirect(void **state)
{
	struct service_conf	*sc;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	(void)state;
	need_etc_services();
	load_ok("service echo\n"
	    "{\n"
	    BODY_NOTYPE
	    "\tredirect = 127.0.0.1 7\n"
	    "\tredirect += ::1 echo\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    "\tsocket_type = dgram\n"
	    "\twait = no\n"
	    "\tredirect = 127.0.0.1 9\n"
	    "}\n"
	    "service daytime\n"
	    "{\n"
	    "\tsocket_type = dgram\n"
	    "\twait = no\n"
	    "\tidle_timeout = 5\n"
	    "\tredirect = 127.0.0.1 13\n"
	    "\tproxy_protocol = v2\n"
	    "}\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_nredirect, 2);
	assert_string_equal(sc->sc_redirect[0].rt_host, "127.0.0.1");
	assert_string_equal(sc->sc_redirect[0].rt_port, "7");
	sin = (struct sockaddr_in *)&sc->sc_redirect[0].rt_addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 7);
	assert_int_equal(sc->sc_redirect[0].rt_addrlen, sizeof(*sin));
	assert_string_equal(sc->sc_redirect[1].rt_port, "echo");
	sin6 = (struct sockaddr_in6 *)&sc->sc_redirect[1].rt_addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 7);
	assert_int_equal(sc->sc_idle_timeout, 0);
	assert_int_equal(sc->sc_connect_timeout, 10);
	assert_int_equal(sc->sc_proxy_protocol, PROXY_NONE);
	/* UDP flows expire after 60 s unless told otherwise. */
	assert_int_equal(need_svc("discard")->sc_idle_timeout, 60);
	sc = need_svc("daytime");
	assert_int_equal(sc->sc_idle_timeout, 5);
	assert_int_equal(sc->sc_proxy_protocol, PROXY_V2);

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tredirect = 127.0.0.1 7 x\n"		/* 6 */
	    "}\n"
	    "service discard\n"				/* 8 */
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = yes\n"
	    "\tredirect = 127.0.0.1 9\n"		/* 12 */
	    "\tredirect += ::1\n"			/* 13 */
	    "}\n"
	    "service daytime\n"				/* 15 */
	    "{\n"
	    BODY_NOTYPE
	    "\tredirect = 127.0.0.1 13\n"		/* 19 */
	    "\tredirect += 127.0.0.1 no-such-service-pg\n"	/* 20 */
	    "}\n"
	    "service chargen\n"				/* 22 */
	    "{\n"
	    BODY_NOTYPE
	    "\tflags = NAMEINARGS\n"
	    "\tredirect = 127.0.0.1 19\n"		/* 27 */
	    "}\n");
	DIAGS("@/t.conf:6: error: redirect: expected HOST PORT (pairs)",
	    "@/t.conf:13: error: redirect expects HOST PORT, found 1 value",
	    "@/t.conf:12: error: service discard: redirect needs wait = no for "
	    "a stream service",
	    "@/t.conf:20: error: redirect: bad value 'no-such-service-pg': "
	    "expected a port number from 1 to 65535 or a service name",
	    "@/t.conf:27: error: service chargen: redirect cannot go with "
	    "NAMEINARGS");
	assert_null(cf);

	/* proxy_protocol without redirect; v1 over UDP. */
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tproxy_protocol = v2\n"
	    "}\n"
	    "service discard\n"				/* 8 */
	    "{\n"
	    "\tsocket_type = dgram\n"
	    "\twait = no\n"
	    "\tredirect = 127.0.0.1 9\n"
	    "\tproxy_protocol = v1\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: proxy_protocol needs redirect",
	    "@/t.conf:8: error: service discard: proxy_protocol v1 is for "
	    "stream services; use v2 for dgram");
}

/*
 * Regression (src/config.c, config_check_backend, fixed): a redirect that its setter
 * rejected leaves sc_nredirect at 0, and a second, wrong error "missing
 * server (or type = INTERNAL, or redirect)" follows.
 */
static void
test_redirect_no_cascade(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    BODY_NOTYPE
	    "\tredirect = 127.0.0.1 7 x\n"
	    "}\n");
	DIAGS("@/t.conf:5: error: redirect: expected HOST PORT (pairs)");
}

/* Services with the same TLS settings share one context. */
static void
test_tls_shared_context(void **state)
{
	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\ttls_cert = @/cert.pem\n"
	    "\ttls_key = @/key.pem\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "}\n"
	    "service daytime\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_protocols = TLSv1.3\n"
	    "}\n");
	assert_non_null(need_svc("echo")->sc_tlsctx);
	assert_ptr_equal(need_svc("echo")->sc_tlsctx,
	    need_svc("discard")->sc_tlsctx);
	assert_ptr_not_equal(need_svc("echo")->sc_tlsctx,
	    need_svc("daytime")->sc_tlsctx);
}

/* tls needs certificates and keys in pairs, and a stream socket. */
static void
test_tls_checks(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\ttls_cert = @/cert.pem\n"
	    "\ttls_key = @/key.pem\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_ca = @/ca.pem\n"
	    "\ttls_alpn = h2 http/1.1\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_cert += @/cert2.pem\n"
	    "\ttls_key += @/key2.pem\n"
	    "\ttls_protocols = TLSv1.3\n"
	    "\ttls_ciphersuites = TLS_AES_128_GCM_SHA256\n"
	    "}\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_tls, 1);
	assert_int_equal(sc->sc_tls_cert.wl_n, 1);
	assert_string_equal(sc->sc_tls_cert.wl_words[0], tpath("cert.pem"));
	assert_string_equal(sc->sc_tls_ca, tpath("ca.pem"));
	assert_int_equal(sc->sc_tls_alpn.wl_n, 2);
	assert_int_equal(sc->sc_tls_handshake_timeout, 10);
	assert_non_null(sc->sc_tlsctx);
	sc = need_svc("discard");
	assert_int_equal(sc->sc_tls_cert.wl_n, 2);
	assert_int_equal(sc->sc_tls_key.wl_n, 2);
	assert_non_null(sc->sc_tlsctx);
	/* No context without tls = yes. */
	load_ok(INTERNAL_SVC("echo"));
	assert_null(need_svc("echo")->sc_tlsctx);

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "}\n"
	    "service discard\n"				/* 8 */
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_cert = @/cert.pem @/cert2.pem\n"
	    "\ttls_key = @/key.pem\n"			/* 15 */
	    "}\n"
	    "service daytime\n"				/* 17 */
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = dgram\n"
	    "\twait = yes\n"
	    "\ttls = yes\n"
	    "\ttls_cert = @/cert.pem\n"
	    "\ttls_key = @/key.pem\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: tls = yes needs tls_cert and "
	    "tls_key",
	    "@/t.conf:15: error: service discard: tls_cert and tls_key must "
	    "list as many files",
	    "@/t.conf:17: error: service daytime: tls needs socket_type = "
	    "stream and wait = no");
	assert_null(cf);

	/* The files and settings go through OpenSSL at load time. */
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_cert = @/cert.pem\n"		/* 7 */
	    "\ttls_key = @/key2.pem\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_cert = @/banner.txt\n"		/* 16 */
	    "\ttls_key = @/key.pem\n"
	    "}\n"
	    "service daytime\n"
	    "{\n"
	    ECHO_BODY
	    "\ttls = yes\n"
	    "\ttls_cert = @/cert.pem\n"		/* 25 */
	    "\ttls_key = @/key.pem\n"
	    "\ttls_ciphers = NO-SUCH-CIPHER\n"
	    "}\n");
	DIAGS("@/t.conf:8: error: service echo: tls_key @/key2.pem{...}",
	    "@/t.conf:16: error: service discard: tls_cert @/banner.txt{...}",
	    "@/t.conf:27: error: service daytime: tls_ciphers "
	    "NO-SUCH-CIPHER{...}");
	assert_null(cf);
}

/* accept_proxy needs a stream; country rules need geoip_db. */
static void
test_extension_checks(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("service echo\n"
	    "{\n"
	    "\ttype = INTERNAL\n"
	    "\tsocket_type = dgram\n"
	    "\twait = yes\n"
	    "\taccept_proxy = yes\n"
	    "}\n"
	    "service discard\n"				/* 8 */
	    "{\n"
	    ECHO_BODY
	    "\tonly_from_country = FR\n"
	    "}\n"
	    "service daytime\n"				/* 15 */
	    "{\n"
	    ECHO_BODY
	    "\tno_access_country = RU\n"
	    "}\n");
	DIAGS("@/t.conf:1: error: service echo: accept_proxy needs socket_type "
	    "= stream",
	    "@/t.conf:1: error: service echo: accept_proxy = yes needs "
	    "proxy_from, the addresses of the fronts whose PROXY header is "
	    "believed",
	    "@/t.conf:8: error: service discard: country rules need geoip_db",
	    "@/t.conf:15: error: service daytime: country rules need geoip_db");
	assert_null(cf);

	/* geoip_db must be a MaxMind DB, named by an absolute path. */
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tgeoip_db = @/banner.txt\n"
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\tgeoip_db = geo.mmdb\n"			/* 13 */
	    "}\n");
	DIAGS("@/t.conf:6: error: geoip_db: @/banner.txt: {...}",
	    "@/t.conf:13: error: geoip_db: bad value 'geo.mmdb': expected an "
	    "absolute path");

	/* An empty only_from_country still is a rule (nobody passes). */
	load("service echo\n{\n" ECHO_BODY "\tonly_from_country =\n}\n");
	DIAGS("@/t.conf:1: error: service echo: country rules need geoip_db");

	load_ok("defaults\n"
	    "{\n"
	    "\tgeoip_db = @/geo.mmdb\n"
	    "\tno_access_country = RU\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tonly_from_country = FR DE\n"
	    "\tno_access_country += CN\n"
	    "\taccept_proxy = yes\n"
	    "\tproxy_from = 127.0.0.1\n"
	    "}\n");
	sc = need_svc("echo");
	assert_string_equal(sc->sc_geoip_db, tpath("geo.mmdb"));
	assert_non_null(sc->sc_geoip);
	assert_int_equal(sc->sc_has_only_from_country, 1);
	assert_int_equal(sc->sc_only_from_country.wl_n, 2);
	assert_int_equal(sc->sc_no_access_country.wl_n, 2);
	assert_int_equal(sc->sc_accept_proxy, 1);
}

/*
 * accept_proxy believes the header only from proxy_from: without it the
 * configuration is refused, never trusted to everyone; the list takes
 * addresses and networks, matched on the real peer as only_from is.
 */
static void
test_proxy_from(void **state)
{
	struct service_conf	*sc;
	struct sockaddr_storage	 ss;
	struct addrmatch	 m;

	(void)state;
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n}\n");
	DIAGS("@/t.conf:1: error: service echo: accept_proxy = yes needs "
	    "proxy_from, the addresses of the fronts whose PROXY header is "
	    "believed");
	assert_null(cf);

	/* accept_proxy from defaults needs it as much. */
	load("defaults\n{\n\taccept_proxy = yes\n}\n" INTERNAL_SVC("echo"));
	DIAGS("@/t.conf:5: error: service echo: accept_proxy = yes needs "
	    "proxy_from, the addresses of the fronts whose PROXY header is "
	    "believed");
	assert_null(cf);

	/* A bad word is reported once, by the list, not as a missing list. */
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from = 10.0.0.0/8 300.1.1.1\n}\n");
	assert_int_equal(cd.cd_errors, 1);
	assert_diag("@/t.conf:7: error: proxy_from: {...}300.1.1.1{...}");
	assert_null(cf);

	/* A .domain cannot be checked before the header is read. */
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from = 10.0.0.1 .example.com\n}\n");
	DIAGS("@/t.conf:7: error: service echo: proxy_from takes addresses "
	    "and networks, not .domain names: the peer is checked before any "
	    "look-up");
	assert_null(cf);

	/* Empty: valid, nobody is believed; everyone: valid, but said. */
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from =\n}\n");
	DIAGS("@/t.conf:7: warning: service echo: proxy_from is empty: every "
	    "connection is refused");
	assert_non_null(cf);
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from = 10.0.0.1 0.0.0.0/0\n}\n");
	DIAGS("@/t.conf:7: warning: service echo: proxy_from 0.0.0.0/0 "
	    "believes the PROXY header of any client");
	load("service echo\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from = ::/0\n}\n");
	DIAGS("@/t.conf:7: warning: service echo: proxy_from ::/0 believes "
	    "the PROXY header of any client");

	/* Without accept_proxy: said where written, not where inherited. */
	load("service echo\n{\n" ECHO_BODY "\tproxy_from = 10.0.0.1\n}\n");
	DIAGS("@/t.conf:6: warning: service echo: proxy_from means nothing "
	    "without accept_proxy = yes");
	load_ok("defaults\n{\n\tproxy_from = 10.0.0.1\n}\n"
	    INTERNAL_SVC("echo")
	    "service discard\n{\n" ECHO_BODY "\taccept_proxy = yes\n"
	    "\tproxy_from += 192.0.2.0/24 2001:db8::1\n}\n");
	/* The defaults list reaches echo too (no warning: inherited). */
	assert_non_null(need_svc("echo")->sc_proxy_from);
	sc = need_svc("discard");
	assert_non_null(sc->sc_proxy_from);
	assert_int_equal(addrlist_count(sc->sc_proxy_from), 3);
	assert_int_equal(addrlist_match(sc->sc_proxy_from,
	    unit_sockaddr(&ss, "192.0.2.77", 0), NULL, &m), 1);
	assert_string_equal(m.am_rule, "192.0.2.0/24");
	assert_int_equal(addrlist_match(sc->sc_proxy_from,
	    unit_sockaddr(&ss, "10.0.0.2", 0), NULL, &m), 0);
	assert_int_equal(addrlist_match(sc->sc_proxy_from,
	    unit_sockaddr(&ss, "2001:db8::1", 0), NULL, &m), 1);
}

/*
 * Without passenv a server gets portgate's whole environment (as with
 * xinetd): kept, but a server running as another user than root is
 * warned about.
 */
static void
test_passenv_warning(void **state)
{
	static const char	*body =
	    "\tsocket_type = stream\n"
	    "\twait = no\n"
	    "\tserver = @/srv\n";
	char			 text[1024];

	(void)state;
	(void)snprintf(text, sizeof(text), "service echo\n{\n%s"
	    "\tuser = nobody\n}\n", body);
	load(text);
	DIAGS("@/t.conf:1: warning: service echo: no passenv: server @/srv "
	    "runs as user nobody with portgate's whole environment; list the "
	    "variables it needs with passenv (empty: none)");
	assert_non_null(cf);
	/* passenv in the service, empty, or in defaults: nothing to say. */
	(void)snprintf(text, sizeof(text), "service echo\n{\n%s"
	    "\tuser = nobody\n\tpassenv = PATH LANG\n}\n", body);
	load_ok(text);
	(void)snprintf(text, sizeof(text), "service echo\n{\n%s"
	    "\tuser = nobody\n\tpassenv =\n}\n", body);
	load_ok(text);
	(void)snprintf(text, sizeof(text), "defaults\n{\n\tpassenv = PATH\n}\n"
	    "service echo\n{\n%s\tuser = nobody\n}\n", body);
	load_ok(text);
	/* root, a forward, a built-in: no server of another user. */
	(void)snprintf(text, sizeof(text), "service echo\n{\n%s"
	    "\tuser = root\n}\n", body);
	load_ok(text);
	load_ok("service echo\n{\n" BODY_REDIRECT "\tuser = nobody\n}\n");
	load_ok("service echo\n{\n" ECHO_BODY "\tuser = nobody\n}\n");
}

/*
 * A wait = yes stream server accepts its own clients: address and
 * country rules never apply there, and -t says so at their lines.
 */
static void
test_wait_stream_rules_warning(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = yes\n"
	    "\tuser = root\n"
	    "\tserver = @/srv\n"
	    "\tonly_from = 127.0.0.1\n"			/* 7 */
	    "\tno_access = 127.0.0.2\n"			/* 8 */
	    "}\n");
	DIAGS("@/t.conf:7: warning: service echo: only_from never applies to "
	    "a wait = yes stream service (its server accepts the clients, the "
	    "gate never sees their addresses)",
	    "@/t.conf:8: warning: service echo: no_access never applies to a "
	    "wait = yes stream service (its server accepts the clients, the "
	    "gate never sees their addresses)");
	assert_non_null(cf);
	/* From defaults: said at the defaults line. */
	load("defaults\n{\n\tno_access = 10.0.0.0/8\n}\n"
	    "service echo\n"
	    "{\n"
	    "\tsocket_type = stream\n"
	    "\twait = yes\n"
	    "\tuser = root\n"
	    "\tserver = @/srv\n"
	    "}\n");
	DIAGS("@/t.conf:3: warning: service echo: no_access never applies to a "
	    "wait = yes stream service (its server accepts the clients, the "
	    "gate never sees their addresses)");
	/* wait = no stream, and wait = yes dgram (a sender address): fine. */
	load_ok("service echo\n{\n" ECHO_BODY "\tonly_from = 127.0.0.1\n}\n");
	load_ok("service echo\n"
	    "{\n"
	    "\tsocket_type = dgram\n"
	    "\twait = yes\n"
	    "\tuser = root\n"
	    "\tserver = @/srv\n"
	    "\tonly_from = 127.0.0.1\n"
	    "}\n");
}

/* A bad word of a list is reported at the line that wrote it. */
static void
test_word_lines(void **state)
{
	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tonly_from = 127.0.0.1 bad!word\n"	/* 3 */
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tonly_from += 10.0.0.1\n"			/* 10 */
	    "}\n"
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\tonly_from = 127.0.0.1 also!bad\n"	/* 17 */
	    "}\n");
	DIAGS("@/t.conf:3: error: only_from: \"bad!word\": not an address, "
	    "network, host or .domain name",
	    "@/t.conf:17: error: only_from: \"also!bad\": not an address, "
	    "network, host or .domain name");
	assert_null(cf);

	load("defaults\n"
	    "{\n"
	    "\tno_access = 127.0.0.1\n"
	    "\tno_access = 10.0.0.1\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tno_access += 10.0.0.2\n"
	    "\tno_access += 10.0.0.3 bad!word\n"	/* 12 */
	    "\tlog_on_success += HOST\n"
	    "\tlog_on_success += BOGUS\n"		/* 14 */
	    "}\n");
	DIAGS("@/t.conf:12: error: no_access: \"bad!word\": not an address, "
	    "network, host or .domain name",
	    "@/t.conf:14: error: log_on_success: bad value 'BOGUS': expected "
	    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT or "
	    "TLS");
}

/* bind and interface from the service or from defaults. */
static void
test_bind(void **state)
{
	struct service_conf	*sc;
	struct sockaddr_in	*sin;

	(void)state;
	need_etc_services();
	load_ok("defaults\n"
	    "{\n"
	    "\tbind = 127.0.0.1\n"
	    "}\n"
	    INTERNAL_SVC("echo")
	    "service discard\n"
	    "{\n"
	    ECHO_BODY
	    "\tbind = 127.0.0.2\n"
	    "}\n"
	    "service daytime\n"
	    "{\n"
	    ECHO_BODY
	    "\tinterface = ::1\n"
	    "}\n");
	sc = need_svc("echo");
	assert_string_equal(sc->sc_bind, "127.0.0.1");
	sin = (struct sockaddr_in *)&sc->sc_bindaddr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sc->sc_bindaddrlen, sizeof(*sin));
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_string_equal(need_svc("discard")->sc_bind, "127.0.0.2");
	sc = need_svc("daytime");
	assert_string_equal(sc->sc_bind, "::1");
	assert_int_equal(sc->sc_bindaddr.ss_family, AF_INET6);

	/* No bind: the wildcard. */
	load_ok(INTERNAL_SVC("echo"));
	sc = need_svc("echo");
	assert_null(sc->sc_bind);
	assert_int_equal(sc->sc_bindaddr.ss_family, 0);

	/* An interface name gives its address. */
	load_ok("service echo\n{\n" ECHO_BODY "\tflags = IPv4\n"
	    "\tinterface = lo\n}\n");
	sc = need_svc("echo");
	sin = (struct sockaddr_in *)&sc->sc_bindaddr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);

	load("service echo\n{\n" ECHO_BODY "\tflags = IPv6\n"
	    "\tbind = 127.0.0.1\n}\n");			/* 7 */
	DIAGS("@/t.conf:7: error: cannot resolve bind address '127.0.0.1' on "
	    "this machine: {...}");
}

/*
 * interface is another name of bind: a service's bind wins over
 * interface in defaults, and both in one service keep the first.
 */
static void
test_bind_interface_alias(void **state)
{
	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\tinterface = 127.0.0.1\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tbind = 127.0.0.2\n"
	    "}\n");
	assert_string_equal(need_svc("echo")->sc_bind, "127.0.0.2");

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tbind = 127.0.0.2\n"
	    "\tinterface = 127.0.0.3\n"
	    "}\n");
	DIAGS("@/t.conf:7: warning: bind is already set at "
	    "@/t.conf:6; the first value is kept (as xinetd does)");
	assert_string_equal(need_svc("echo")->sc_bind, "127.0.0.2");
}

/* Scalars from defaults fill what the service leaves unset. */
static void
test_defaults_scalars(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("defaults\n"
	    "{\n"
	    "\tinstances = 30\n"
	    "\tper_source = 10\n"
	    "\tcps = 50 10\n"
	    "\tgroups = yes\n"
	    "\tumask = 002\n"
	    "\tv6only = no\n"
	    "\tlog_type = SYSLOG daemon info\n"
	    "\tmax_load = 3\n"
	    "\tconnect_timeout = 4\n"
	    "\taccess_tz = UTC\n"
	    "}\n"
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tinstances = 5\n"
	    "\tumask = 077\n"
	    "\taccess_times = 8:00-17:00\n"
	    "}\n"
	    INTERNAL_SVC("discard"));
	sc = need_svc("echo");
	assert_int_equal(sc->sc_instances, 5);
	assert_int_equal(sc->sc_per_source, 10);
	assert_int_equal(sc->sc_cps_rate, 50);
	assert_int_equal(sc->sc_cps_wait, 10);
	assert_int_equal(sc->sc_groups, 1);
	assert_int_equal(sc->sc_umask, 077);
	assert_int_equal(sc->sc_v6only, 0);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_SYSLOG);
	assert_true(sc->sc_max_load == 3.0);
	assert_int_equal(sc->sc_connect_timeout, 4);
	assert_string_equal(sc->sc_access_tz, "UTC");
	assert_non_null(sc->sc_access_times);
	sc = need_svc("discard");
	assert_int_equal(sc->sc_instances, 30);
	assert_int_equal(sc->sc_umask, 002);
	assert_null(sc->sc_access_times);

	/* portgate's own defaults. */
	load_ok(INTERNAL_SVC("echo"));
	sc = need_svc("echo");
	assert_int_equal(sc->sc_instances, LIMIT_UNLIMITED);
	assert_int_equal(sc->sc_per_source, LIMIT_UNLIMITED);
	assert_int_equal(sc->sc_cps_rate, 50);
	assert_int_equal(sc->sc_cps_wait, 10);
	assert_int_equal(sc->sc_umask, -1);
	assert_int_equal(sc->sc_v6only, -1);
	assert_int_equal(sc->sc_per_source_prefix6, 64);
	assert_int_equal(sc->sc_connect_timeout, 10);
	assert_int_equal(sc->sc_idle_timeout, 0);
	assert_int_equal(sc->sc_logtype.lt_kind, LOGTYPE_NONE);
	assert_int_equal(sc->sc_tls_handshake_timeout, 10);
	assert_int_equal(sc->sc_log_success, ALOG_PID | ALOG_HOST |
	    ALOG_EXIT | ALOG_DURATION);
	assert_int_equal(sc->sc_log_failure, ALOG_HOST);
	assert_string_equal(sc->sc_id, "echo");
	assert_int_equal(sc->sc_flags, 0);
	assert_int_equal(sc->sc_rlimit_set, 0);
	assert_int_equal(sc->sc_has_nice, 0);
}

/* A bad value in defaults is reported at its line, for each service. */
static void
test_defaults_bad_value(void **state)
{
	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tinstances = abc\n"
	    "}\n"
	    INTERNAL_SVC("echo"));
	DIAGS("@/t.conf:3: error: instances: bad value 'abc': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED");
	assert_null(cf);
}

/*
 * Regression (config_load() in src/config.c, fixed): the values of defaults are
 * checked only through the services that inherit them.  With no enabled
 * service a bad defaults value is accepted silently; with two services the
 * same error is reported twice.
 */
static void
test_defaults_bad_value_once(void **state)
{
	(void)state;
	load("defaults\n"
	    "{\n"
	    "\tinstances = abc\n"
	    "}\n");
	DIAGS("@/t.conf:3: error: instances: bad value 'abc': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED");
	assert_null(cf);

	load("defaults\n"
	    "{\n"
	    "\tinstances = abc\n"
	    "}\n"
	    INTERNAL_SVC("echo")
	    INTERNAL_SVC("discard"));
	DIAGS("@/t.conf:3: error: instances: bad value 'abc': expected an "
	    "integer from 0 to 2147483647 or UNLIMITED");
	assert_null(cf);
}

/*
 * Regression (attr_parse_size() in src/conf_attr.c, fixed): the K and M suffixes
 * multiply without an overflow check, so 17592186044416M (2^64 bytes)
 * wraps to an address-space limit of 0.
 */
static void
test_rlimit_overflow(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\trlimit_as = 17592186044416M\n"
	    "}\n");
	DIAGS("@/t.conf:6: error: rlimit_as: bad value '17592186044416M': "
	    "expected a number with an optional K or M suffix, or UNLIMITED");
}

/*
 * Regression (src/conf_attr.c, the "nice" row uses attr_set_int, fixed): nothing sets
 * sc_has_nice, and spawn.c calls nice() only when it is set, so `nice` is
 * never applied to a spawned server.
 */
static void
test_nice_applied(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("service echo\n{\n" ECHO_BODY "\tnice = 5\n}\n");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_nice, 5);
	assert_int_equal(sc->sc_has_nice, 1);
}

/* per_source_cps: RATE [BURST]; the burst defaults to the rate. */
static void
test_per_source_cps(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("service echo\n{\n" ECHO_BODY "\tper_source_cps = 5\n}\n");
	sc = need_svc("echo");
	assert_true(sc->sc_per_source_cps_rate == 5.0);
	assert_true(sc->sc_per_source_cps_burst == 5.0);
	load_ok(INTERNAL_SVC("echo"));
	assert_true(need_svc("echo")->sc_per_source_cps_rate == 0.0);
}

/*
 * Regression (src/conf_attr.c, attr_set_per_source_cps, fixed): without a BURST the
 * burst is the rate, so "per_source_cps = 0.5" makes a bucket of half a
 * token, and limits.c, which needs a whole token, refuses every
 * connection of a source after its first one.
 */
static void
test_per_source_cps_burst(void **state)
{
	(void)state;
	load_ok("service echo\n{\n" ECHO_BODY "\tper_source_cps = 0.5\n}\n");
	assert_true(need_svc("echo")->sc_per_source_cps_burst >= 1.0);
}

/* conf_diag formats file:line, file alone, or nothing. */
static void
test_diag_format(void **state)
{
	struct conf_diag	d;

	(void)state;
	conf_diag_init(&d);
	conf_error(&d, "f.conf", 3, "one %d", 1);
	conf_warn(&d, "f.conf", 0, "two");
	conf_error(&d, NULL, 7, "three");
	assert_int_equal(d.cd_nmsgs, 3);
	assert_int_equal(d.cd_errors, 2);
	assert_int_equal(d.cd_warnings, 1);
	assert_string_equal(d.cd_msgs[0].dm_text, "f.conf:3: error: one 1");
	assert_string_equal(d.cd_msgs[1].dm_text, "f.conf: warning: two");
	assert_int_equal(d.cd_msgs[1].dm_level, DIAG_WARNING);
	assert_string_equal(d.cd_msgs[2].dm_text, "error: three");
	conf_diag_clear(&d);
	assert_int_equal(d.cd_nmsgs, 0);
	assert_null(d.cd_msgs);
}

/* A config is reference counted; warnings alone do not refuse it. */
static void
test_config_refcount(void **state)
{
	struct config	*c;

	(void)state;
	load("}\n" INTERNAL_SVC("echo"));
	assert_int_equal(cd.cd_warnings, 1);
	assert_int_equal(cd.cd_errors, 0);
	c = cf;
	assert_non_null(c);
	assert_int_equal(c->cf_refcnt, 1);
	config_ref(c);
	assert_int_equal(c->cf_refcnt, 2);
	config_unref(c);
	assert_int_equal(c->cf_refcnt, 1);
	config_unref(NULL);
}

/*
 * A '#' word after values starts a comment, as the authors of the most
 * copied CTF template meant: the limits apply, with a warning that xinetd
 * ignores each of these attributes.
 */
static void
test_lex_comment_after_value(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("service echo # the echo service\n"	/* 1 */
	    "{\n"
	    ECHO_BODY
	    "\tper_source\t= 10 # the maximum instances of this service "
	    "per source IP address\n"			/* 6 */
	    "\tinstances = 5 #\n"			/* 7 */
	    "\tonly_from = 127.0.0.1 #local net\n"	/* 8 */
	    "\tid=echo-id # no blank before '='\n"	/* 9 */
	    "\tlog_on_failure += HOST # and # more\n"	/* 10 */
	    "}\n");
	DIAGS("@/t.conf:6: warning: per_source: '#' starts a comment here; "
	    "xinetd would ignore the whole attribute",
	    "@/t.conf:7: warning: instances: '#' starts a comment here; "
	    "xinetd would ignore the whole attribute",
	    "@/t.conf:8: warning: only_from: '#' starts a comment here; "
	    "xinetd would read '#local' and the words after it as values",
	    "@/t.conf:9: warning: id: '#' starts a comment here; xinetd "
	    "would ignore the whole attribute",
	    "@/t.conf:9: warning: no space between 'id' and its operator "
	    "(xinetd drops this entry)",
	    "@/t.conf:10: warning: log_on_failure: '#' starts a comment "
	    "here; xinetd would read '#' and the words after it as values");
	sc = need_svc("echo-id");
	assert_string_equal(sc->sc_name, "echo");
	assert_int_equal(sc->sc_per_source, 10);
	assert_int_equal(sc->sc_instances, 5);
	assert_non_null(sc->sc_only_from);
	assert_true(al_match(sc->sc_only_from, "127.0.0.1"));
	assert_false(al_match(sc->sc_only_from, "127.0.0.2"));
	assert_true(sc->sc_log_failure & ALOG_HOST);
}

/* rlimit_cpu of the CTF template: the limit is set. */
static void
test_lex_comment_rlimit(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load("service ctf\n"
	    "{\n"
	    "\ttype = UNLISTED\n"
	    "\tsocket_type = stream\n"
	    "\twait = no\n"				/* 5 */
	    "\tuser = root\n"
	    "\tport = 9999\n"
	    "\tserver = /bin/sh\n"
	    "\tpassenv =\n"
	    "\trlimit_cpu\t= 20 # the maximum number of CPU seconds that "
	    "the service may use\n"			/* 10 */
	    "\t#rlimit_as  = 1024M # the Address Space resource limit\n"
	    "}\n");
	DIAGS("@/t.conf:10: warning: rlimit_cpu: '#' starts a comment here; "
	    "xinetd would ignore the whole attribute");
	sc = need_svc("ctf");
	assert_true(sc->sc_rlimit_set & (1u << CRL_CPU));
	assert_int_equal(sc->sc_rlimit[CRL_CPU], 20);
	assert_false(sc->sc_rlimit_set & (1u << CRL_AS));
}

/*
 * The exceptions: a '#' inside a word is a character, and server_args
 * keeps its '#' words, as xinetd gives them to the server (the parser
 * warns that they are not a comment); only the first '#' word of a line
 * counts.
 */
static void
test_lex_comment_exceptions(void **state)
{
	struct service_conf	*sc;

	(void)state;
	load_ok("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tserver_args = a#b c#\n"
	    "\tid = x#y\n"
	    "}\n");
	sc = need_svc("x#y");
	assert_int_equal(sc->sc_server_args.wl_n, 2);
	assert_string_equal(sc->sc_server_args.wl_words[0], "a#b");
	assert_string_equal(sc->sc_server_args.wl_words[1], "c#");

	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tserver_args = -c #foo # bar\n"		/* 6 */
	    "}\n");
	assert_int_equal(cd.cd_errors, 0);
	assert_int_equal(cd.cd_warnings, 1);
	assert_diag("@/t.conf:6: warning: {...}'#foo'{...}server_args");
	sc = need_svc("echo");
	assert_int_equal(sc->sc_server_args.wl_n, 4);
	assert_string_equal(sc->sc_server_args.wl_words[1], "#foo");
	assert_string_equal(sc->sc_server_args.wl_words[3], "bar");
}

/*
 * Comments after braces and keywords.  xinetd ignores words after a
 * service name or an include path, so those need no warning; it wants a
 * brace alone on its line, so a comment there is one.
 */
static void
test_lex_comment_braces(void **state)
{
	(void)state;
	put("inc.conf", INTERNAL_SVC("discard"));
	load("include inc.conf # the discard service\n"	/* 1 */
	    "defaults # nothing\n"
	    "{ # open\n"				/* 3 */
	    "} # close\n"				/* 4 */
	    "service echo\n"
	    "{\n"
	    ECHO_BODY
	    "}\n");
	DIAGS("@/t.conf:3: warning: '{': '#' starts a comment here; xinetd "
	    "wants '{' alone on its line and would drop this entry",
	    "@/t.conf:4: warning: '}': '#' starts a comment here; xinetd "
	    "wants '}' alone on its line and would drop this entry");
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 2);
	need_svc("echo");
	need_svc("discard");
}

/*
 * disable = yes with a comment: disabled, as its author meant (xinetd
 * ignores the line and runs the service: the warning says so).  A
 * portgate extension gets no warning: xinetd does not know it anyway.
 */
static void
test_lex_comment_disable(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tdisable = yes # for now\n"		/* 6 */
	    "}\n");
	DIAGS("@/t.conf:6: warning: disable: '#' starts a comment here; "
	    "xinetd would ignore the whole attribute");
	assert_non_null(cf);
	assert_int_equal(cf->cf_nservices, 0);
	assert_int_equal(cf->cf_ndisabled, 1);

	load_ok("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tper_source_cps = 5 # a second\n"
	    "}\n");
	assert_true(need_svc("echo")->sc_per_source_cps_rate == 5.0);
}

/*
 * Every bad word of a list is reported, each at its line, not only the
 * first: one -t shows all there is to fix.
 */
static void
test_every_bad_word(void **state)
{
	(void)state;
	load("service echo\n"
	    "{\n"
	    ECHO_BODY
	    "\tonly_from = 10.0.0.1 bad..name ::1\n"		/* 6 */
	    "\tonly_from += 300.1.1.1/8\n"			/* 7 */
	    "\tlog_on_success = PID NOPE HOST ALSO\n"		/* 8 */
	    "\tenv = A=1 B C\n"				/* 9 */
	    "\tpassenv = PATH X=1 Y=2\n"			/* 10 */
	    "\tflags = NODELAY BOGUS1 BOGUS2\n"			/* 11 */
	    "\tonly_from_country = FR XYZ 1\n"			/* 12 */
	    "}\n");
	assert_null(cf);
	/* In the order the setters run (-t prints them by line). */
	DIAGS(
	    "@/t.conf:11: error: flags: bad value 'BOGUS1': expected one or "
	    "more of REUSE INTERCEPT NORETRY IDONLY NAMEINARGS NODELAY "
	    "KEEPALIVE NOLIBWRAP SENSOR IPv4 IPv6 LABELED",
	    "@/t.conf:11: error: flags: bad value 'BOGUS2': expected one or "
	    "more of REUSE INTERCEPT NORETRY IDONLY NAMEINARGS NODELAY "
	    "KEEPALIVE NOLIBWRAP SENSOR IPv4 IPv6 LABELED",
	    "@/t.conf:6: error: only_from: \"bad..name\": not an address, "
	    "network, host or .domain name",
	    "@/t.conf:7: error: only_from: \"300.1.1.1/8\": not an IPv4 "
	    "address before '/' (expected a.b.c.d/n)",
	    "@/t.conf:8: error: log_on_success: bad value 'NOPE': expected "
	    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT or TLS",
	    "@/t.conf:8: error: log_on_success: bad value 'ALSO': expected "
	    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT or TLS",
	    "@/t.conf:9: error: env: bad value 'B': expected NAME=value",
	    "@/t.conf:9: error: env: bad value 'C': expected NAME=value",
	    "@/t.conf:10: error: passenv: bad value 'X=1': expected a variable "
	    "name",
	    "@/t.conf:10: error: passenv: bad value 'Y=2': expected a variable "
	    "name",
	    "@/t.conf:12: error: only_from_country: bad value 'XYZ': expected "
	    "ISO 3166-1 alpha-2 country codes such as FR, or --",
	    "@/t.conf:12: error: only_from_country: bad value '1': expected "
	    "ISO 3166-1 alpha-2 country codes such as FR, or --");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_every_bad_word),
		T(test_lex_blank_comment_tab_cr),
		T(test_lex_hash_after_value),
		T(test_lex_no_operator),
		T(test_lex_operator_spacing),
		T(test_lex_case_insensitive),
		T(test_parse_tree),
		T(test_parse_entries),
		T(test_parse_brace_on_header),
		T(test_parse_stray_brace),
		T(test_parse_missing_brace_eof),
		T(test_parse_unclosed_entry),
		T(test_parse_structure_errors),
		T(test_include_relative),
		T(test_include_errors),
		T(test_includedir_names),
		T(test_includedir_errors),
		T(test_includedir_empty),
		T(test_includedir_many_files),
		T(test_op_lists_on_defaults),
		T(test_op_set_replaces_in_service),
		T(test_op_errors),
		T(test_op_scalar_twice),
		T(test_op_scope_and_unknown),
		T(test_libwrap_name),
		T(test_op_value_counts),
		T(test_attr_table_covered),
		T(test_attr_good_values),
		T(test_attr_bad_values),
		T(test_attr_scope),
		T(test_attr_operators),
		T(test_attr_values_stored),
		T(test_attr_order),
		T(test_attr_declared_order),
		T(test_attr_rows),
		T(test_req_socket_protocol),
		T(test_req_wait_server_user),
		T(test_req_internal),
		T(test_req_port),
		T(test_req_port_no_cascade),
		T(test_disable),
		T(test_duplicates),
		T(test_rpc_skipped),
		T(test_redirect),
		T(test_redirect_no_cascade),
		T(test_tls_checks),
		T(test_tls_shared_context),
		T(test_extension_checks),
		T(test_proxy_from),
		T(test_passenv_warning),
		T(test_wait_stream_rules_warning),
		T(test_word_lines),
		T(test_bind),
		T(test_bind_interface_alias),
		T(test_defaults_scalars),
		T(test_defaults_bad_value),
		T(test_defaults_bad_value_once),
		T(test_rlimit_overflow),
		T(test_nice_applied),
		T(test_per_source_cps),
		T(test_per_source_cps_burst),
		T(test_diag_format),
		T(test_config_refcount),
		T(test_lex_comment_after_value),
		T(test_lex_comment_rlimit),
		T(test_lex_comment_exceptions),
		T(test_lex_comment_braces),
		T(test_lex_comment_disable),
#undef T
	};

	return test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
