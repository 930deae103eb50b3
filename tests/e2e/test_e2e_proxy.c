/*
 * End-to-end tests of accept_proxy as an attack surface: headers without
 * an address (v1 UNKNOWN, v2 LOCAL, UNSPEC, AF_UNIX) from a front the
 * rules refuse, the trusted fronts of proxy_from checked on the real peer,
 * and the caps on connections still sending their header beside a
 * service that must go on serving.  portgate serves built-in echo on
 * 127.0.0.1; clients bound to 127.0.0.2, 127.0.0.3 ... are other hosts.
 *
 * Every service sends banner_success "OK\n" and banner_fail "NO\n", so
 * a client reads the gate's verdict; a connection refused before its
 * header (proxy_from, the caps) gets no banner, only EOF.  Freed memory
 * of the daemon is filled (poison_freed_memory), so that a read after
 * free changes what the gate sees; built with --enable-sanitizers, a
 * use after free that ASan catches ends the daemon with a report in its
 * standard error, which every test checks.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
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

#define CONF		"proxy.conf"
#define OK_BANNER	"OK\n"
#define NO_BANNER	"NO\n"
#define BANNER_LEN	3
/* xinetd's time stamp of a FILE log line, "YY/M/D@HH:MM:SS: ". */
#define TS_RE		"^[0-9]{2}/[0-9]{1,2}/[0-9]{1,2}@" \
			"[0-9]{2}:[0-9]{2}:[0-9]{2}: "
/* The daemon's descriptors in the cap test: a quarter is 16. */
#define CAP_NOFILE	64
#define CAP_TOTAL	(CAP_NOFILE / 4)
#define CAP_SOURCE	8

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Defaults of every test, then an echo "ap" on <port> with <extra>. */
static void
conf_ap(struct pg_conf *cf, const struct pg_ctx *c, int port,
    const char *extra)
{
	char	log[PG_PATH_MAX], ok[PG_PATH_MAX], no[PG_PATH_MAX];

	pg_conf_init(cf);
	assert_int_equal(pg_file_write(c, "ok.txt", OK_BANNER), 0);
	assert_int_equal(pg_file_write(c, "no.txt", NO_BANNER), 0);
	pg_conf_add(cf, "defaults\n{\n\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= HOST\n\tlog_on_failure\t= HOST\n"
	    "\tbanner_success\t= %s\n\tbanner_fail\t= %s\n\tcps\t\t= 0 1\n}\n",
	    pg_path(c, PG_ACCESS_LOG, log), pg_path(c, "ok.txt", ok),
	    pg_path(c, "no.txt", no));
	/* The caps of awaited headers are each worker's. */
	pg_conf_workers(cf, 1);
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= ap\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\taccept_proxy\t= yes\n%s}\n", port, extra);
}

/* A plain echo "plain" on <port>, beside "ap". */
static void
conf_plain(struct pg_conf *cf, int port)
{
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= plain\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n}\n",
	    port);
}

/* Connect from <src> to 127.0.0.1 <p>; the descriptor or the test fails. */
static int
dial(const char *src, int p)
{
	int	fd = pg_tcp_connect(src, "127.0.0.1", p);

	if (fd == -1)
		fail_msg("connect %s -> 127.0.0.1:%d: %s", src, p,
		    strerror(errno));
	return fd;
}

/*
 * Send <len> bytes of <out> from <src> to port <p>, half-close, and read
 * to EOF into <in> (at least 64 bytes); the number of bytes read.
 */
static ssize_t
exchange(const char *src, int p, const void *out, size_t len, char *in,
    size_t cap)
{
	ssize_t	n;
	int	fd = dial(src, p);

	n = pg_tcp_exchange(fd, out, len, in, cap - 1);
	(void)close(fd);
	if (n < 0)
		fail_msg("%s -> %d: no EOF in time", src, p);
	in[n] = '\0';
	return n;
}

/*
 * Send <len> bytes of <out> from <src> to port <p> and expect the
 * connection to end without a byte for the client (FIN or, for bytes it
 * never read, RST).
 */
static void
refused_silently(const char *src, int p, const void *out, size_t len)
{
	char	b;
	ssize_t	n;
	int	fd = dial(src, p);

	assert_int_equal(pg_send_all(fd, out, len), 0);
	for (;;) {
		if (pg_poll(fd, POLLIN, PG_TIMEOUT_MS) != 1)
			fail_msg("%s -> %d: still open", src, p);
		n = recv(fd, &b, 1, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		break;
	}
	if (n > 0)
		fail_msg("%s -> %d: got a byte, expected the end", src, p);
	(void)close(fd);
}

/* A v2 header of command <cmd> and family <fam> with <alen> zero bytes. */
static size_t
make_v2(unsigned char *h, int cmd, int fam, size_t alen)
{
	memcpy(h, v2_sig, sizeof(v2_sig));
	h[12] = (unsigned char)(0x20 | cmd);
	h[13] = (unsigned char)fam;
	h[14] = (unsigned char)(alen >> 8);
	h[15] = (unsigned char)alen;
	memset(h + 16, 0, alen);
	return 16 + alen;
}

/* No sanitizer report in the daemon's standard error. */
static void
no_sanitizer_report(const struct pg_ctx *c)
{
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "Sanitizer"), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "runtime error"), 0);
}

/*
 * Regression (src/proxyproto_accept.c proxy_wait_done, fixed): for a header
 * without addresses the callback got a pointer into the freed waiter,
 * and the gate read the front's address from freed memory (ASan:
 * heap-use-after-free; with poisoned memory a refused front was
 * admitted).  Each such header from 127.0.0.2, trusted by proxy_from but
 * refused by no_access, must be refused under the front's own address,
 * and a header naming another client must still be admitted.
 */
static void
test_header_without_address_refused(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	unsigned char	 h[4][16 + 216 + 16];
	size_t		 hlen[4];
	char		 in[64], hdr[128];
	size_t		 i;
	int		 p = pg_fresh_port();

	conf_ap(&cf, c, p, "\tproxy_from\t= 127.0.0.2\n"
	    "\tno_access\t= 127.0.0.2\n");
	pg_conf_start(c, &cf, CONF);

	hlen[0] = strlen("PROXY UNKNOWN\r\n");
	memcpy(h[0], "PROXY UNKNOWN\r\n", hlen[0]);
	hlen[1] = make_v2(h[1], 0, 0x11, 12);	/* LOCAL (addresses ignored) */
	hlen[2] = make_v2(h[2], 1, 0x00, 0);	/* PROXY, UNSPEC */
	hlen[3] = make_v2(h[3], 1, 0x31, 216);	/* PROXY, AF_UNIX stream */
	/*
	 * The header alone: bytes after it would be unread at the close,
	 * and a reset could overtake the banner.
	 */
	for (i = 0; i < 4; i++) {
		if (exchange("127.0.0.2", p, h[i], hlen[i], in,
		    sizeof(in)) != BANNER_LEN || strcmp(in, NO_BANNER) != 0)
			fail_msg("header %zu: expected the refusal, got '%s'",
			    i, in);
		pg_log_wait_re(c, (int)i + 1, TS_RE "FAIL: ap address "
		    "from=127\\.0\\.0\\.2$");
	}
	/* The same front speaking for another client: admitted. */
	(void)snprintf(hdr, sizeof(hdr), "PROXY TCP4 10.1.2.3 127.0.0.1 "
	    "4000 %d\r\nhello\n", p);
	assert_int_equal(exchange("127.0.0.2", p, hdr, strlen(hdr), in,
	    sizeof(in)), BANNER_LEN + 6);
	assert_string_equal(in, OK_BANNER "hello\n");
	pg_log_wait_re(c, 1, TS_RE "START: ap from=10\\.1\\.2\\.3$");
	assert_int_equal(pg_log_count_re(c, "START: "), 1);
	no_sanitizer_report(c);
	pg_stop_ok(c);
}

/*
 * proxy_from is checked on the real peer before the header: 127.0.0.2,
 * on it, is believed; 127.0.0.3 sending the same valid header is refused
 * with FAIL proxy_from under its own address, gets no banner, and is
 * counted as refused.
 */
static void
test_proxy_from(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 hdr[128], in[64];
	int		 p = pg_fresh_port();

	conf_ap(&cf, c, p, "\tproxy_from\t= 127.0.0.2 192.0.2.0/24\n");
	pg_conf_start(c, &cf, CONF);
	(void)snprintf(hdr, sizeof(hdr), "PROXY TCP4 10.9.9.9 127.0.0.1 "
	    "4000 %d\r\nhi\n", p);

	assert_int_equal(exchange("127.0.0.2", p, hdr, strlen(hdr), in,
	    sizeof(in)), BANNER_LEN + 3);
	assert_string_equal(in, OK_BANNER "hi\n");
	pg_log_wait_re(c, 1, TS_RE "START: ap from=10\\.9\\.9\\.9$");

	refused_silently("127.0.0.3", p, hdr, strlen(hdr));
	pg_log_wait_re(c, 1, TS_RE "FAIL: ap proxy_from from=127\\.0\\.0\\.3$");
	assert_int_equal(pg_log_count_re(c, "START: "), 1);
	assert_int_equal(pg_log_count_re(c, "10\\.9\\.9\\.9"), 1);

	/* Counted with the service's refusals (SIGUSR1 dump). */
	assert_int_equal(pg_signal(c, SIGUSR1), 0);
	assert_int_equal(pg_file_wait_re(c, PG_ERRLOG, "dump: service ap "
	    ".* 1 accepted, 1 refused", 1), 0);
	no_sanitizer_report(c);
	pg_stop_ok(c);
}

/* -t refuses accept_proxy without proxy_from; --explain names it. */
static void
test_proxy_from_check_explain(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_conf		 cf;
	struct pg_result	 r;
	char			 path[PG_PATH_MAX];
	int			 p = pg_fresh_port();

	conf_ap(&cf, c, p, "");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-t", "-f", pg_path(c, CONF, path),
	    NULL), 1);
	if (strstr(r.pr_err, "service echo: accept_proxy = yes needs "
	    "proxy_from") == NULL)
		fail_msg("-t said: %s", r.pr_err);
	pg_result_clear(&r);

	conf_ap(&cf, c, p, "\tproxy_from\t= 127.0.0.2\n");
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_run(c, &r, "-f", pg_path(c, CONF, path),
	    "--explain", "ap", "127.0.0.2", NULL), 0);
	assert_int_equal(pg_count_lines(r.pr_out, "^accept_proxy: a "
	    "connection from 127\\.0\\.0\\.2 itself is a trusted front: "
	    "proxy_from 127\\.0\\.0\\.2$"), 1);
	pg_result_clear(&r);
	assert_int_equal(pg_run(c, &r, "-f", pg_path(c, CONF, path),
	    "--explain", "ap", "127.0.0.3", NULL), 0);
	assert_int_equal(pg_count_lines(r.pr_out, "^accept_proxy: a "
	    "connection from 127\\.0\\.0\\.3 itself is refused before its "
	    "PROXY header: not on proxy_from$"), 1);
	pg_result_clear(&r);
}

/* Open <n> silent connections from <src> to <p> into <fds> from <at>. */
static void
open_silent(int *fds, int at, int n, const char *src, int p)
{
	int	i;

	for (i = 0; i < n; i++)
		fds[at + i] = dial(src, p);
}

/*
 * Silent connections from trusted fronts, with the daemon limited to
 * CAP_NOFILE descriptors: at most CAP_SOURCE wait per source and
 * CAP_TOTAL in all; the rest are refused at once with their reason and
 * one log line, while a client of another service is served; once the
 * silent ones go, their places are free again.
 */
static void
test_pending_caps(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct rlimit	 saved, low;
	char		 hdr[128], in[64];
	int		 fds[12 + 10 + 3], nfds = 0, i, rc;
	int		 p = pg_fresh_port(), q = pg_fresh_port();

	conf_ap(&cf, c, p, "\tproxy_from\t= 127.0.0.0/24\n");
	conf_plain(&cf, q);
	pg_conf_write(&cf, c, CONF);
	/* The daemon inherits the limit; this process gets its own back. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = CAP_NOFILE;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = pg_start(c, CONF, PG_FOREGROUND, NULL);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_int_equal(rc, 0);

	/* 12 from one source: 8 wait, 4 refused. */
	open_silent(fds, nfds, 12, "127.0.0.2", p);
	nfds += 12;
	pg_log_wait_re(c, 12 - CAP_SOURCE, TS_RE "FAIL: ap proxy_per_source "
	    "from=127\\.0\\.0\\.2$");
	/* 10 from another: 8 wait (16 in all), 2 refused. */
	open_silent(fds, nfds, 10, "127.0.0.3", p);
	nfds += 10;
	pg_log_wait_re(c, 10 - CAP_SOURCE, TS_RE "FAIL: ap proxy_per_source "
	    "from=127\\.0\\.0\\.3$");
	/* The cap in all: a third source is refused. */
	open_silent(fds, nfds, 3, "127.0.0.4", p);
	nfds += 3;
	pg_log_wait_re(c, 3, TS_RE "FAIL: ap proxy_limit "
	    "from=127\\.0\\.0\\.4$");

	/* Meanwhile another service serves its clients. */
	assert_int_equal(exchange("127.0.0.5", q, "ping\n", 5, in,
	    sizeof(in)), BANNER_LEN + 5);
	assert_string_equal(in, OK_BANNER "ping\n");
	pg_log_wait_re(c, 1, TS_RE "START: plain from=127\\.0\\.0\\.5$");

	/* One line when the cap is hit, the rest for the summary. */
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "accept_proxy: "
	    "127.0.0.2 has 8 PROXY headers awaited, the cap per source"), 1);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "PROXY headers "
	    "awaited"), 1);
	assert_int_equal(pg_log_count_re(c, "START: ap "), 0);

	/* The waiting ones leave: their places are free again. */
	for (i = 0; i < nfds; i++)
		(void)close(fds[i]);
	pg_log_wait_re(c, 2 * CAP_SOURCE, TS_RE "FAIL: ap proxy "
	    "from=127\\.0\\.0\\.[23]$");
	(void)snprintf(hdr, sizeof(hdr), "PROXY TCP4 10.7.7.7 127.0.0.1 "
	    "4000 %d\r\nback\n", p);
	assert_int_equal(exchange("127.0.0.2", p, hdr, strlen(hdr), in,
	    sizeof(in)), BANNER_LEN + 5);
	assert_string_equal(in, OK_BANNER "back\n");
	pg_log_wait_re(c, 1, TS_RE "START: ap from=10\\.7\\.7\\.7$");
	no_sanitizer_report(c);
	pg_stop_ok(c);
}

/*
 * Fill freed memory in the daemon, so that a read after free sees junk
 * rather than the old bytes: glibc's MALLOC_PERTURB_, and ASan's own fill
 * in a sanitizer build (which does not check every inlined copy).
 */
static void
poison_freed_memory(void)
{
	const char	*old = getenv("ASAN_OPTIONS");
	char		 buf[1024];

	(void)snprintf(buf, sizeof(buf), "%s%smax_free_fill_size=4096:"
	    "free_fill_byte=165", old != NULL ? old : "",
	    old != NULL && *old != '\0' ? ":" : "");
	if (setenv("MALLOC_PERTURB_", "165", 1) == -1 ||
	    setenv("ASAN_OPTIONS", buf, 1) == -1)
		fail_msg("setenv: %s", strerror(errno));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_header_without_address_refused, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_proxy_from, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_proxy_from_check_explain,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_pending_caps, pg_setup,
		    pg_teardown),
	};

	pg_init();
	poison_freed_memory();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
