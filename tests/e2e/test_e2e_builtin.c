/*
 * End-to-end tests of the built-in services: one portgate serves echo,
 * discard, daytime, time and chargen over TCP and UDP on 127.0.0.1, plus
 * echo in dual stack (no bind), to clients on 127.0.0.2, 127.0.0.3 and
 * ::1; the access log (log_type = FILE) is read back.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "harness.h"

#define ACCESS_LOG	PG_ACCESS_LOG
#define ECHO_BIG	(1024 * 1024)
#define CHARGEN_READ	(8 * 1024)
#define LINE_LEN	74		/* 72 characters, CR, LF */
#define TIME_OFFSET	2208988800U	/* RFC 868: 1900 to 1970 */
#define CLOCK_SLACK	5		/* seconds of clock skew allowed */
/* Seconds a daytime reply may stray outside the request's own span. */
#define DAYTIME_SLACK	2
/* A zone with an offset that is no whole hour, known without tzdata. */
#define DAYTIME_TZ	"PGT-5:30"
#define UDP_WAIT_MS	PG_TIMEOUT_MS

/* xinetd's -filelog / log_type FILE time stamp, "YY/M/D@HH:MM:SS: ". */
#define TS_RE		"^[0-9]{2}/[0-9]{1,2}/[0-9]{1,2}@" \
			"[0-9]{2}:[0-9]{2}:[0-9]{2}: "
/*
 * An EXIT duration.  "-?" because of a bug: a session can be logged with
 * "duration=-1(sec)" (see test_duration_not_negative in
 * test_e2e_builtin.c); drop it once that is fixed.
 */
#define DURATION_RE	"duration=[0-9]+\\(sec\\)"
#define DAYTIME_RE	"^[0-9]{2} (JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|" \
			"SEP|OCT|NOV|DEC) [0-9]{4} " \
			"[0-9]{2}:[0-9]{2}:[0-9]{2} [A-Za-z0-9+-]+\r\n$"

/* The daemon shared by every test of the group, and its ports. */
struct bt {
	struct pg_ctx	bt_c;
	int		bt_echo;
	int		bt_discard;
	int		bt_daytime;
	int		bt_time;
	int		bt_chargen;
	int		bt_dual;	/* echo without bind */
	int		bt_any4;	/* dgram echo, IPv4 wildcard */
};

static const char *const sources[] = { "127.0.0.2", "127.0.0.3" };
#define NSOURCES	(sizeof(sources) / sizeof(sources[0]))

/* One stream and one dgram service named <name>/<port>, bound to <bind>. */
static int
conf_pair(char *buf, size_t len, const char *name, int port,
    const char *bind, const char *extra)
{
	return snprintf(buf, len,
	    "service %s\n{\n\tid\t\t= %s-tcp\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n%s%s%s\tport\t\t= %d\n"
	    "%s}\n\n"
	    "service %s\n{\n\tid\t\t= %s-udp\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= dgram\n\twait\t\t= yes\n%s%s%s\tport\t\t= %d\n"
	    "}\n\n",
	    name, name, bind != NULL ? "\tbind\t\t= " : "",
	    bind != NULL ? bind : "", bind != NULL ? "\n" : "", port,
	    extra != NULL ? extra : "",
	    name, name, bind != NULL ? "\tbind\t\t= " : "",
	    bind != NULL ? bind : "", bind != NULL ? "\n" : "", port);
}

static int
group_setup(void **state)
{
	struct bt	*bt;
	char		 conf[8192], log[PG_PATH_MAX];
	size_t		 n;

	if ((bt = calloc(1, sizeof(*bt))) == NULL ||
	    pg_ctx_init(&bt->bt_c) == -1)
		return -1;
	*state = bt;
	bt->bt_echo = pg_port();
	bt->bt_discard = pg_port();
	bt->bt_daytime = pg_port();
	bt->bt_time = pg_port();
	bt->bt_chargen = pg_port();
	bt->bt_dual = pg_port();
	bt->bt_any4 = pg_port();
	if (bt->bt_echo == -1 || bt->bt_discard == -1 ||
	    bt->bt_daytime == -1 || bt->bt_time == -1 ||
	    bt->bt_chargen == -1 || bt->bt_dual == -1 || bt->bt_any4 == -1)
		return -1;
	n = (size_t)snprintf(conf, sizeof(conf), "defaults\n{\n"
	    "\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= PID HOST EXIT DURATION\n"
	    "\tlog_on_failure\t= HOST\n}\n\n",
	    pg_path(&bt->bt_c, ACCESS_LOG, log));
	n += (size_t)conf_pair(conf + n, sizeof(conf) - n, "echo",
	    bt->bt_echo, "127.0.0.1", "\tlog_on_success\t+= TRAFFIC\n");
	n += (size_t)conf_pair(conf + n, sizeof(conf) - n, "discard",
	    bt->bt_discard, "127.0.0.1", NULL);
	n += (size_t)conf_pair(conf + n, sizeof(conf) - n, "daytime",
	    bt->bt_daytime, "127.0.0.1", NULL);
	n += (size_t)conf_pair(conf + n, sizeof(conf) - n, "time",
	    bt->bt_time, "127.0.0.1", NULL);
	n += (size_t)conf_pair(conf + n, sizeof(conf) - n, "chargen",
	    bt->bt_chargen, "127.0.0.1", NULL);
	/* Ids echo-dual-tcp and echo-dual-udp, no bind: dual stack. */
	n += (size_t)snprintf(conf + n, sizeof(conf) - n,
	    "service echo\n{\n\tid\t\t= echo-dual-tcp\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tport\t\t= %d\n}\n\n"
	    "service echo\n{\n\tid\t\t= echo-dual-udp\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= dgram\n"
	    "\twait\t\t= yes\n\tport\t\t= %d\n}\n\n"
	    "service echo\n{\n\tid\t\t= echo-wildcard-udp\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= dgram\n"
	    "\twait\t\t= yes\n\tflags\t\t= IPv4\n\tport\t\t= %d\n}\n",
	    bt->bt_dual, bt->bt_dual, bt->bt_any4);
	if (n >= sizeof(conf) ||
	    pg_file_write(&bt->bt_c, "builtin.conf", "%s", conf) == -1)
		return -1;
	if (pg_start(&bt->bt_c, "builtin.conf", PG_FOREGROUND, NULL) == -1) {
		fprintf(stderr, "e2e: portgate did not start (status %d)\n",
		    pg_exit_code(bt->bt_c.pc_status));
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	struct bt	*bt = *state;
	int		 st;

	if (bt == NULL)
		return 0;
	st = pg_stop(&bt->bt_c);
	pg_ctx_clear(&bt->bt_c);
	free(bt);
	if (st != -1 && pg_exit_code(st) != 0) {
		fprintf(stderr, "e2e: portgate exited with %d\n",
		    pg_exit_code(st));
		return -1;
	}
	return 0;
}

/* 1 if <s> matches the extended regular expression <re>. */
static int
matches(const char *s, const char *re)
{
	regex_t	rx;
	int	m;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

/*
 * The daytime line for <t> in the local time of this process, which the
 * daemon shares (same TZ): "05 MAR 2024 07:08:09 UTC\r\n" as xinetd, in
 * <buf> of <len> bytes.
 */
static void
daytime_line(time_t t, char *buf, size_t len)
{
	struct tm	tm;
	size_t		i;

	assert_non_null(localtime_r(&t, &tm));
	assert_true(strftime(buf, len, "%d %b %Y %H:%M:%S %Z\r\n", &tm) >
	    6);
	for (i = 3; i < 6; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

/*
 * <reply> is a daytime line, zone included, for a second between
 * <before> and <after> (the client's clock around its request), give or
 * take DAYTIME_SLACK.
 */
static void
check_daytime(const char *reply, time_t before, time_t after)
{
	char	want[128], first[128];
	time_t	t;

	assert_true(matches(reply, DAYTIME_RE));
	daytime_line(before - DAYTIME_SLACK, first, sizeof(first));
	for (t = before - DAYTIME_SLACK; t <= after + DAYTIME_SLACK; t++) {
		daytime_line(t, want, sizeof(want));
		if (strcmp(reply, want) == 0)
			return;
	}
	fail_msg("daytime reply '%.*s' is not the time of the request: "
	    "'%.*s' to '%.*s'", (int)strcspn(reply, "\r"), reply,
	    (int)strcspn(first, "\r"), first, (int)strcspn(want, "\r"),
	    want);
}

/* <b> is an RFC 868 time for about now. */
static void
check_time(const unsigned char b[4])
{
	uint32_t	v, want;
	int32_t		diff;

	v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
	want = (uint32_t)((uint64_t)time(NULL) + TIME_OFFSET);
	diff = (int32_t)(v - want);
	assert_true(diff >= -CLOCK_SLACK && diff <= CLOCK_SLACK);
}

/* The character after <ch> in the RFC 864 cycle of 95 printables. */
static char
chargen_next(char ch)
{
	return ch == '~' ? ' ' : (char)(ch + 1);
}

/*
 * <buf> holds <nlines> chargen lines: 72 consecutive printables then CR
 * LF, each line starting one character after the previous one.
 */
static void
check_chargen(const char *buf, size_t nlines)
{
	const char	*l;
	size_t		 i, j;

	for (i = 0; i < nlines; i++) {
		l = buf + i * LINE_LEN;
		assert_true(l[0] >= ' ' && l[0] <= '~');
		for (j = 1; j < 72; j++)
			assert_int_equal(l[j], chargen_next(l[j - 1]));
		assert_int_equal(l[72], '\r');
		assert_int_equal(l[73], '\n');
		if (i > 0)
			assert_int_equal(l[0], chargen_next(l[-LINE_LEN]));
	}
}

/*
 * <buf> holds <len> bytes cut anywhere from the chargen stream: runs of at
 * most 72 consecutive printables, each line ended by CR LF.
 */
static void
check_chargen_slice(const char *buf, size_t len)
{
	size_t	i, run = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\r') {
			assert_true(i + 1 == len || buf[i + 1] == '\n');
			run = 0;
		} else if (buf[i] == '\n') {
			assert_true(i == 0 || buf[i - 1] == '\r');
		} else {
			assert_true(buf[i] >= ' ' && buf[i] <= '~');
			assert_true(++run <= 72);
			if (i > 0 && buf[i - 1] != '\n')
				assert_int_equal(buf[i], chargen_next(buf[i - 1]));
		}
	}
}

/* A pseudo-random pattern, different for every <seed>. */
static void
fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761U + 1;
	size_t		i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

/* TCP echo: 1 MiB each way while sending, everything back after SHUT_WR. */
static void
test_echo_tcp(void **state)
{
	struct bt	*bt = *state;
	unsigned char	*out, *in;
	ssize_t		 n;
	size_t		 i;
	int		 fd, exits;

	assert_non_null(out = malloc(ECHO_BIG));
	assert_non_null(in = malloc(ECHO_BIG));
	for (i = 0; i < NSOURCES; i++) {
		exits = pg_log_count_re(&bt->bt_c, "EXIT: echo-tcp ");
		fill_pattern(out, ECHO_BIG, (uint32_t)i + 1);
		fd = pg_tcp_connect(sources[i], "127.0.0.1", bt->bt_echo);
		assert_true(fd >= 0);
		n = pg_tcp_exchange(fd, out, ECHO_BIG, in, ECHO_BIG);
		assert_int_equal(n, ECHO_BIG);
		assert_true(memcmp(in, out, ECHO_BIG) == 0);
		(void)close(fd);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: echo-tcp pid=0 from=%s$", sources[i]);
		pg_log_wait_re(&bt->bt_c, exits + 1,
		    TS_RE "EXIT: echo-tcp status=0 pid=0 " DURATION_RE "$");
	}
	/* TRAFFIC was asked for: it counts every byte both ways. */
	pg_log_wait_re(&bt->bt_c, (int)NSOURCES,
	    TS_RE "TRAFFIC: echo-tcp in=%d\\(bytes\\) out=%d\\(bytes\\)$",
	    ECHO_BIG, ECHO_BIG);
	free(out);
	free(in);
}

/* TCP discard: takes everything, answers nothing, closes after EOF. */
static void
test_discard_tcp(void **state)
{
	struct bt	*bt = *state;
	unsigned char	*out, in[16];
	size_t		 i;
	int		 fd, exits;

	assert_non_null(out = malloc(256 * 1024));
	fill_pattern(out, 256 * 1024, 7);
	for (i = 0; i < NSOURCES; i++) {
		exits = pg_log_count_re(&bt->bt_c, "EXIT: discard-tcp ");
		fd = pg_tcp_connect(sources[i], "127.0.0.1", bt->bt_discard);
		assert_true(fd >= 0);
		assert_int_equal(pg_send_all(fd, out, 256 * 1024), 0);
		assert_int_equal(pg_shut_wr(fd), 0);
		assert_int_equal(pg_recv_eof(fd, in, sizeof(in)), 0);
		(void)close(fd);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: discard-tcp pid=0 from=%s$", sources[i]);
		pg_log_wait_re(&bt->bt_c, exits + 1,
		    TS_RE "EXIT: discard-tcp status=0 pid=0 " DURATION_RE "$");
	}
	/* TRAFFIC was not asked for. */
	assert_int_equal(pg_log_count_re(&bt->bt_c, "TRAFFIC: discard"), 0);
	free(out);
}

/*
 * TCP daytime: one line, upper-case month, the daemon's local time of the
 * request with its zone, then EOF.
 */
static void
test_daytime_tcp(void **state)
{
	struct bt	*bt = *state;
	char		 buf[128];
	ssize_t		 n;
	size_t		 i;
	time_t		 before;
	int		 fd;

	for (i = 0; i < NSOURCES; i++) {
		before = time(NULL);
		fd = pg_tcp_connect(sources[i], "127.0.0.1", bt->bt_daytime);
		assert_true(fd >= 0);
		n = pg_recv_eof(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		assert_true(n > 0);
		buf[n] = '\0';
		check_daytime(buf, before, time(NULL));
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: daytime-tcp pid=0 from=%s$", sources[i]);
	}
}

/* TZ before test_daytime_zone changed it, restored by its teardown. */
static char	*daytime_tz;

/* A daemon of its own for test_daytime_zone, started under DAYTIME_TZ. */
static int
daytime_zone_setup(void **state)
{
	const char	*tz = getenv("TZ");

	if (tz != NULL && (daytime_tz = strdup(tz)) == NULL)
		return -1;
	if (setenv("TZ", DAYTIME_TZ, 1) == -1)
		return -1;
	tzset();
	return pg_setup(state);
}

static int
daytime_zone_teardown(void **state)
{
	struct pg_ctx	*c = *state;
	int		 rv = 0;

	if (c->pc_pid > 0 && pg_exit_code(pg_stop(c)) != 0)
		rv = -1;
	if (daytime_tz != NULL ? setenv("TZ", daytime_tz, 1) :
	    unsetenv("TZ"))
		rv = -1;
	free(daytime_tz);
	daytime_tz = NULL;
	tzset();
	if (pg_teardown(state) == -1)
		rv = -1;
	return rv;
}

/*
 * Daytime is the local time of the daemon's TZ, with that zone's name: in
 * a zone 5:30 east of UTC (which no UTC clock matches), TCP and UDP.
 */
static void
test_daytime_zone(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[128], pair[1024];
	time_t		 before;
	ssize_t		 n;
	int		 fd, p = pg_fresh_port();

	assert_true(conf_pair(pair, sizeof(pair), "daytime", p, "127.0.0.1",
	    NULL) < (int)sizeof(pair));
	pg_conf_begin(&cf, c, ACCESS_LOG, "HOST", NULL);
	pg_conf_add(&cf, "%s", pair);
	pg_conf_start(c, &cf, "zone.conf");

	before = time(NULL);
	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", p);
	assert_true(fd >= 0);
	n = pg_recv_eof(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	check_daytime(buf, before, time(NULL));
	assert_non_null(strstr(buf, " PGT\r\n"));

	assert_true((fd = pg_udp_open("127.0.0.2", AF_INET)) >= 0);
	before = time(NULL);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", p, "x", 1), 0);
	n = pg_udp_recv(fd, buf, sizeof(buf) - 1, UDP_WAIT_MS, NULL, 0);
	(void)close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	check_daytime(buf, before, time(NULL));
	assert_non_null(strstr(buf, " PGT\r\n"));
}

/* TCP time: 4 bytes, now + 2208988800, then EOF. */
static void
test_time_tcp(void **state)
{
	struct bt	*bt = *state;
	unsigned char	 buf[16];
	size_t		 i;
	int		 fd;

	for (i = 0; i < NSOURCES; i++) {
		fd = pg_tcp_connect(sources[i], "127.0.0.1", bt->bt_time);
		assert_true(fd >= 0);
		assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 4);
		(void)close(fd);
		check_time(buf);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: time-tcp pid=0 from=%s$", sources[i]);
	}
}

/* TCP chargen: read some KiB of the rotating pattern, then close. */
static void
test_chargen_tcp(void **state)
{
	struct bt	*bt = *state;
	char		 buf[CHARGEN_READ];
	size_t		 i;
	int		 fd, exits;

	for (i = 0; i < NSOURCES; i++) {
		exits = pg_log_count_re(&bt->bt_c, "EXIT: chargen-tcp ");
		fd = pg_tcp_connect(sources[i], "127.0.0.1", bt->bt_chargen);
		assert_true(fd >= 0);
		assert_int_equal(pg_recv_n(fd, buf, sizeof(buf)), sizeof(buf));
		check_chargen(buf, sizeof(buf) / LINE_LEN);
		(void)close(fd);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: chargen-tcp pid=0 from=%s$", sources[i]);
		/* The session ends once portgate sees the close. */
		pg_log_wait_re(&bt->bt_c, exits + 1,
		    TS_RE "EXIT: chargen-tcp status=[01] "
		    "pid=0 " DURATION_RE "$");
	}
}

/* One datagram to <port>, one answer from 127.0.0.1; its length. */
static ssize_t
udp_ask(int fd, int port, const void *q, size_t qlen, void *buf, size_t cap)
{
	char	from[64];
	ssize_t	n;

	assert_int_equal(pg_udp_send(fd, "127.0.0.1", port, q, qlen), 0);
	n = pg_udp_recv(fd, buf, cap, UDP_WAIT_MS, from, sizeof(from));
	assert_true(n >= 0);
	assert_string_equal(from, "127.0.0.1");
	return n;
}

/* UDP echo, daytime, time and chargen answer each source. */
static void
test_udp_answers(void **state)
{
	struct bt	*bt = *state;
	char		 q[64], buf[2048];
	ssize_t		 n;
	size_t		 i, j;
	time_t		 before;
	int		 fd;

	for (i = 0; i < NSOURCES; i++) {
		fd = pg_udp_open(sources[i], AF_INET);
		assert_true(fd >= 0);
		(void)snprintf(q, sizeof(q), "hello from %s", sources[i]);
		n = udp_ask(fd, bt->bt_echo, q, strlen(q), buf, sizeof(buf));
		assert_int_equal(n, strlen(q));
		assert_memory_equal(buf, q, strlen(q));

		before = time(NULL);
		n = udp_ask(fd, bt->bt_daytime, "x", 1, buf, sizeof(buf) - 1);
		buf[n] = '\0';
		check_daytime(buf, before, time(NULL));

		n = udp_ask(fd, bt->bt_time, "x", 1, buf, sizeof(buf));
		assert_int_equal(n, 4);
		check_time((unsigned char *)buf);

		/* A random length from 0 to 512 bytes (RFC 864). */
		for (j = 0; j < 7; j++) {
			n = udp_ask(fd, bt->bt_chargen, "x", 1, buf,
			    sizeof(buf));
			assert_true(n >= 0 && n <= 512);
			check_chargen_slice(buf, (size_t)n);
		}
		(void)close(fd);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: echo-udp pid=0 from=%s$", sources[i]);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: daytime-udp pid=0 from=%s$", sources[i]);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: time-udp pid=0 from=%s$", sources[i]);
		pg_log_wait_re(&bt->bt_c, 7,
		    TS_RE "START: chargen-udp pid=0 from=%s$", sources[i]);
	}
}

/*
 * UDP discard answers nothing.  Once its START line is written, an echo
 * round trip on the same single-threaded daemon proves the discard
 * callback has ended; only then is "nothing came back" a fact.
 */
static void
test_udp_discard(void **state)
{
	struct bt	*bt = *state;
	char		 buf[2048];
	size_t		 i;
	int		 fd, echofd;

	for (i = 0; i < NSOURCES; i++) {
		fd = pg_udp_open(sources[i], AF_INET);
		echofd = pg_udp_open(sources[i], AF_INET);
		assert_true(fd >= 0 && echofd >= 0);
		assert_int_equal(pg_udp_send(fd, "127.0.0.1", bt->bt_discard,
		    "drop me", 7), 0);
		pg_log_wait_re(&bt->bt_c, 1,
		    TS_RE "START: discard-udp pid=0 from=%s$", sources[i]);
		assert_int_equal(udp_ask(echofd, bt->bt_echo, "sync", 4, buf,
		    sizeof(buf)), 4);
		assert_int_equal(pg_udp_pending(fd, buf, sizeof(buf)), -1);
		(void)close(fd);
		(void)close(echofd);
	}
}

/* A UDP socket on <src> port <port>; root may take a reserved one. */
static int
udp_open_port(const char *src, int port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * Loop protection: a datagram from a reserved port (another host's echo
 * or chargen, or a forged source) gets no answer.  An echo round trip
 * from another socket afterwards proves the daemon has handled it.
 */
static void
test_udp_reserved_port(void **state)
{
	struct bt	*bt = *state;
	char		 buf[1024];
	int		 fd, syncfd;

	if ((fd = udp_open_port("127.0.0.4", 1007)) == -1)
		TEST_SKIP();		/* not root, or the port is taken */
	syncfd = pg_udp_open("127.0.0.2", AF_INET);
	assert_true(syncfd >= 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", bt->bt_echo, "loop?",
	    5), 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", bt->bt_chargen, "loop?",
	    5), 0);
	assert_int_equal(udp_ask(syncfd, bt->bt_echo, "sync", 4, buf,
	    sizeof(buf)), 4);
	assert_true(udp_ask(syncfd, bt->bt_chargen, "sync", 4, buf,
	    sizeof(buf)) <= 512);
	assert_int_equal(pg_udp_pending(fd, buf, sizeof(buf)), -1);
	/*
	 * Refused, and logged as such: never as a START.  The master writes
	 * the worker's records a moment later, in the order they were made.
	 */
	assert_int_equal(pg_file_wait(&bt->bt_c, ACCESS_LOG,
	    "FAIL: echo-udp address from=127.0.0.4", 1), 0);
	assert_int_equal(pg_file_count(&bt->bt_c, ACCESS_LOG,
	    "START: echo-udp pid=0 from=127.0.0.4"), 0);
	(void)close(fd);
	(void)close(syncfd);
}


/*
 * Without bind a service listens in dual stack: ::1 reaches it, and an
 * IPv4 client is logged as plain 127.0.0.x, not ::ffff:127.0.0.x.
 */
static void
test_dual_stack(void **state)
{
	struct bt	*bt = *state;
	char		 buf[64], from[64];
	ssize_t		 n;
	int		 fd;

	if (!pg_have_ipv6())
		TEST_SKIP();
	fd = pg_tcp_connect("::1", "::1", bt->bt_dual);
	assert_true(fd >= 0);
	assert_int_equal(pg_tcp_exchange(fd, "six", 3, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "six", 3);
	(void)close(fd);
	fd = pg_tcp_connect("127.0.0.2", "127.0.0.1", bt->bt_dual);
	assert_true(fd >= 0);
	assert_int_equal(pg_tcp_exchange(fd, "four", 4, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "four", 4);
	(void)close(fd);

	fd = pg_udp_open("::1", AF_INET6);
	assert_true(fd >= 0);
	assert_int_equal(pg_udp_send(fd, "::1", bt->bt_dual, "u6", 2), 0);
	n = pg_udp_recv(fd, buf, sizeof(buf), UDP_WAIT_MS, from, sizeof(from));
	assert_int_equal(n, 2);
	assert_string_equal(from, "::1");
	(void)close(fd);
	fd = pg_udp_open("127.0.0.3", AF_INET);
	assert_true(fd >= 0);
	n = udp_ask(fd, bt->bt_dual, "u4", 2, buf, sizeof(buf));
	assert_int_equal(n, 2);
	(void)close(fd);

	pg_log_wait_re(&bt->bt_c, 1,
	    TS_RE "START: echo-dual-tcp pid=0 from=::1$");
	pg_log_wait_re(&bt->bt_c, 1, TS_RE "START: echo-dual-tcp pid=0 "
	    "from=127\\.0\\.0\\.2$");
	pg_log_wait_re(&bt->bt_c, 1,
	    TS_RE "START: echo-dual-udp pid=0 from=::1$");
	pg_log_wait_re(&bt->bt_c, 1, TS_RE "START: echo-dual-udp pid=0 "
	    "from=127\\.0\\.0\\.3$");
	assert_int_equal(pg_file_count(&bt->bt_c, ACCESS_LOG, "::ffff:"), 0);
}

/*
 * A dgram service on a wildcard socket (IPv4, and dual stack) answers
 * from the address the client sent to: a client of 127.0.0.9 hears from
 * 127.0.0.9, not from 127.0.0.1, which the kernel would pick.
 */
static void
test_udp_reply_source(void **state)
{
	struct bt	*bt = *state;
	const int	 ports[] = { bt->bt_any4, bt->bt_dual };
	char		 buf[64], from[64];
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		assert_true((fd = pg_udp_open("127.0.0.3", AF_INET)) >= 0);
		assert_int_equal(pg_udp_send(fd, "127.0.0.9", ports[i], "src",
		    3), 0);
		assert_int_equal(pg_udp_recv(fd, buf, sizeof(buf), UDP_WAIT_MS,
		    from, sizeof(from)), 3);
		assert_memory_equal(buf, "src", 3);
		assert_string_equal(from, "127.0.0.9");
		(void)close(fd);
	}
}

/*
 * Durations are never negative: start and end are read from the same
 * clock.  time(NULL) reads Linux's coarse clock, up to a tick behind
 * clock_gettime(), so mixing the two gave "duration=-1(sec)" for short
 * sessions starting just after a second boundary.  Short sessions run
 * right after second boundaries while two spinning children keep the CPUs
 * busy (an idle CPU brings the coarse clock up to date when it wakes).
 */
static void
test_duration_not_negative(void **state)
{
	struct bt	*bt = *state;
	struct timespec	 ts;
	unsigned char	 buf[16];
	pid_t		 spin[2];
	time_t		 sec;
	long long	 limit;
	size_t		 k;
	int		 fd, i, j, exits;

	for (k = 0; k < 2; k++) {
		if ((spin[k] = fork()) == 0) {
			/* Spins for at most 10 s; killed long before. */
			for (limit = pg_now_ms() + 10000; pg_now_ms() < limit;)
				continue;
			_exit(0);
		}
		assert_true(spin[k] > 0);
	}
	exits = pg_log_count_re(&bt->bt_c, "EXIT: time-tcp ");
	for (i = 0; i < 5; i++) {
		/* Spin, too, up to the next second of the precise clock. */
		assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
		sec = ts.tv_sec;
		limit = pg_now_ms() + 1500;
		while (ts.tv_sec == sec && pg_now_ms() < limit)
			(void)clock_gettime(CLOCK_REALTIME, &ts);
		for (j = 0; j < 10; j++) {
			fd = pg_tcp_connect("127.0.0.2", "127.0.0.1",
			    bt->bt_time);
			assert_true(fd >= 0);
			assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 4);
			(void)close(fd);
		}
	}
	for (k = 0; k < 2; k++) {
		(void)kill(spin[k], SIGKILL);
		(void)waitpid(spin[k], NULL, 0);
	}
	pg_log_wait_re(&bt->bt_c, exits + 50, "EXIT: time-tcp ");
	assert_int_equal(pg_file_count(&bt->bt_c, ACCESS_LOG,
	    "duration=-"), 0);
}

/*
 * Every line of the access log is one of xinetd's records with its time
 * stamp; one echo session writes START, TRAFFIC and EXIT in that order.
 */
static void
test_access_log_format(void **state)
{
	struct bt	*bt = *state;
	char		*log, *line, *next, *last[3] = { NULL, NULL, NULL };
	char		 buf[16];
	int		 fd, exits, nlines = 0;

	exits = pg_log_count_re(&bt->bt_c, "EXIT: echo-tcp ");
	fd = pg_tcp_connect("127.0.0.3", "127.0.0.1", bt->bt_echo);
	assert_true(fd >= 0);
	assert_int_equal(pg_tcp_exchange(fd, "12345", 5, buf, sizeof(buf)), 5);
	(void)close(fd);
	pg_log_wait_re(&bt->bt_c, exits + 1, "EXIT: echo-tcp ");

	assert_non_null(log = pg_file_read(&bt->bt_c, ACCESS_LOG));
	for (line = log; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			fail_msg("unterminated line '%s'", line);
		*next++ = '\0';
		if (!matches(line, TS_RE
		    "(START: [a-z-]+ pid=0 from=[0-9a-f.:]+"
		    "|FAIL: [a-z-]+ address from=[0-9a-f.:]+"
		    "|EXIT: [a-z-]+ status=[01] pid=0 " DURATION_RE
		    "|TRAFFIC: echo-tcp in=[0-9]+\\(bytes\\) out=[0-9]+"
		    "\\(bytes\\))$"))
			fail_msg("not an xinetd record: '%s'", line);
		last[0] = last[1];
		last[1] = last[2];
		last[2] = line;
		nlines++;
	}
	assert_true(nlines >= 3);
	assert_true(matches(last[0], TS_RE "START: echo-tcp pid=0 "
	    "from=127\\.0\\.0\\.3$"));
	assert_true(matches(last[1], TS_RE "TRAFFIC: echo-tcp in=5\\(bytes\\) "
	    "out=5\\(bytes\\)$"));
	assert_true(matches(last[2], TS_RE "EXIT: echo-tcp status=0 pid=0 "
	    DURATION_RE "$"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_tcp),
		cmocka_unit_test(test_discard_tcp),
		cmocka_unit_test(test_daytime_tcp),
		cmocka_unit_test_setup_teardown(test_daytime_zone,
		    daytime_zone_setup, daytime_zone_teardown),
		cmocka_unit_test(test_time_tcp),
		cmocka_unit_test(test_chargen_tcp),
		cmocka_unit_test(test_udp_answers),
		cmocka_unit_test(test_udp_discard),
		cmocka_unit_test(test_udp_reserved_port),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_udp_reply_source),
		cmocka_unit_test(test_access_log_format),
		cmocka_unit_test(test_duration_not_negative),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
