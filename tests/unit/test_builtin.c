/*
 * Unit tests for builtin.c: the pure helpers; the stream services on one
 * end of a socketpair, driven through a real event_base while the test
 * plays the client on the other end; the datagram replies on loopback UDP;
 * which senders dgram.c takes for this host (the loop check).  Every loop
 * is bounded by a deadline so that a bug fails instead of hangs.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "builtin.h"
#include "dgram.h"

#define LINE		74		/* chargen line with CR LF */
#define NCHARGEN_DGRAMS	300		/* datagrams asked in a test */
#define DEADLINE	20.0		/* seconds for any one wait */
/* builtin.c queues at most 64 KiB plus one read or one refill batch. */
#define OUTPUT_BOUND	(96 * 1024)

struct fixture {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct builtin_session	*bs;
	int			 peer;	/* the client's end */
	int			 ndone;
	int			 error;
	uint64_t		 in;
	uint64_t		 out;
};

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The caller's done(): record it and free the bufferevent, as the server. */
static void
fixture_done(void *arg, int error, uint64_t in, uint64_t out)
{
	struct fixture	*f = arg;

	f->ndone++;
	f->error = error;
	f->in = in;
	f->out = out;
	bufferevent_free(f->bev);
	f->bev = NULL;
	f->bs = NULL;
}

/* A socketpair: the built-in's end in a bufferevent, the client's raw. */
static int
fixture_setup(void **state)
{
	struct fixture	*f;
	int		 sv[2];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[1]), 0);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->bev = bufferevent_socket_new(f->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(f->bev);
	f->peer = sv[1];
	*state = f;
	return 0;
}

/* Free whatever the test left. */
static int
fixture_teardown(void **state)
{
	struct fixture	*f = *state;

	builtin_stream_free(f->bs);
	if (f->bev != NULL)
		bufferevent_free(f->bev);
	if (f->peer != -1)
		close(f->peer);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Start <kind> on the fixture's bufferevent. */
static void
fixture_start(struct fixture *f, enum builtin_kind kind)
{
	f->bs = builtin_stream_start(f->bev, kind, fixture_done, f);
	assert_non_null(f->bs);
}

/* Run the callbacks that are ready, without blocking. */
static void
pump(struct fixture *f)
{
	assert_int_not_equal(event_base_loop(f->base, EVLOOP_NONBLOCK), -1);
}

/* Bytes queued in the built-in's output buffer, 0 once it is freed. */
static size_t
output_length(const struct fixture *f)
{
	if (f->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(f->bev));
}

/*
 * Read what the client has without blocking into <buf>+*<got>, up to
 * <cap>.  Returns 1 at EOF, else 0.
 */
static int
peer_read(struct fixture *f, unsigned char *buf, size_t cap, size_t *got)
{
	ssize_t	n;

	while (*got < cap) {
		n = read(f->peer, buf + *got, cap - *got);
		if (n == 0)
			return 1;
		if (n == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			return 0;
		}
		*got += (size_t)n;
	}
	return 0;
}

/* Pump until done() ran and the client saw EOF; collect the reply. */
static size_t
run_to_eof(struct fixture *f, unsigned char *buf, size_t cap)
{
	double	deadline = now() + DEADLINE;
	size_t	got = 0;
	int	eof = 0;

	while (!eof || f->ndone == 0) {
		assert_true(now() < deadline);
		pump(f);
		eof = peer_read(f, buf, cap, &got);
		if (got == cap)
			break;
		if (!eof)
			(void)poll(NULL, 0, 1);
	}
	return got;
}

/* Byte <i> of the echo test pattern. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)((i * 31) ^ (i >> 11));
}

/* Check that <buf> is the chargen stream from its first byte. */
static void
check_chargen_stream(const unsigned char *buf, size_t len)
{
	char	line[LINE];
	size_t	off;

	for (off = 0; off < len; off += LINE) {
		builtin_chargen_line(line, (unsigned)(off / LINE));
		assert_memory_equal(buf + off, line,
		    len - off < LINE ? len - off : LINE);
	}
}

/* Names map to kinds and back; anything else is BUILTIN_NONE or NULL. */
static void
test_lookup_name(void **state)
{
	static const char *const names[] = {
		"echo", "discard", "daytime", "time", "chargen"
	};
	enum builtin_kind	k;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		k = builtin_lookup(names[i]);
		assert_int_not_equal(k, BUILTIN_NONE);
		assert_string_equal(builtin_name(k), names[i]);
	}
	assert_int_equal(builtin_lookup("echo"), BUILTIN_ECHO);
	assert_int_equal(builtin_lookup("chargen"), BUILTIN_CHARGEN);
	assert_int_equal(builtin_lookup("ECHO"), BUILTIN_NONE);
	/* The mux is a built-in by name, served by tcpmux.c. */
	assert_int_equal(builtin_lookup("tcpmux"), BUILTIN_TCPMUX);
	assert_string_equal(builtin_name(BUILTIN_TCPMUX), "tcpmux");
	assert_int_equal(builtin_lookup("TCPMUX"), BUILTIN_NONE);
	assert_int_equal(builtin_lookup("echo "), BUILTIN_NONE);
	assert_int_equal(builtin_lookup(""), BUILTIN_NONE);
	assert_int_equal(builtin_lookup(NULL), BUILTIN_NONE);
	assert_null(builtin_name(BUILTIN_NONE));
	assert_null(builtin_name((enum builtin_kind)99));
}

/* The xinetd daytime format, in UTC and in a zone east of it. */
static void
test_daytime_format(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(builtin_daytime(buf, sizeof(buf), 1795638287), 26);
	assert_string_equal(buf, "25 NOV 2026 20:24:47 UTC\r\n");
	assert_int_equal(builtin_daytime(buf, sizeof(buf), 1709622489), 26);
	assert_string_equal(buf, "05 MAR 2024 07:08:09 UTC\r\n");
	assert_int_equal(builtin_daytime(buf, sizeof(buf), 0), 26);
	assert_string_equal(buf, "01 JAN 1970 00:00:00 UTC\r\n");

	assert_int_equal(setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1), 0);
	tzset();
	assert_int_equal(builtin_daytime(buf, sizeof(buf), 0), 26);
	assert_string_equal(buf, "01 JAN 1970 01:00:00 CET\r\n");
	assert_int_equal(builtin_daytime(buf, sizeof(buf), 1782000000), 27);
	assert_string_equal(buf, "21 JUN 2026 02:00:00 CEST\r\n");
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();

	/* Too small: nothing, not a truncated line. */
	assert_int_equal(builtin_daytime(buf, 26, 0), 0);
	assert_int_equal(builtin_daytime(buf, 10, 0), 0);
	assert_int_equal(builtin_daytime(buf, 0, 0), 0);
	assert_int_equal(builtin_daytime(buf, 27, 0), 26);
}

/* RFC 868 values, including the wrap at 2^32. */
static void
test_time_values(void **state)
{
	static const unsigned char epoch[4] = { 0x83, 0xaa, 0x7e, 0x80 };
	static const unsigned char zero[4] = { 0, 0, 0, 0 };
	static const unsigned char ones[4] = { 0xff, 0xff, 0xff, 0xff };
	static const unsigned char y2026[4] = { 0xee, 0xb1, 0xc2, 0x8f };
	unsigned char		out[4];

	(void)state;
	builtin_time(out, 0);
	assert_memory_equal(out, epoch, 4);
	builtin_time(out, (time_t)-2208988800LL);
	assert_memory_equal(out, zero, 4);
	builtin_time(out, (time_t)2085978495LL);
	assert_memory_equal(out, ones, 4);
	builtin_time(out, (time_t)2085978496LL);
	assert_memory_equal(out, zero, 4);
	builtin_time(out, (time_t)1795638287LL);
	assert_memory_equal(out, y2026, 4);
}

/* Lines 0, 1, 94 and 95 (which is line 0 again). */
static void
test_chargen_lines(void **state)
{
	static const char l0[] = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEF"
	    "GHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n";
	static const char l1[] = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFG"
	    "HIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";
	static const char l94[] = "~ !\"#$%&'()*+,-./0123456789:;<=>?@ABCDE"
	    "FGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef\r\n";
	char	line[LINE], l5[LINE];

	(void)state;
	assert_int_equal(sizeof(l0) - 1, LINE);
	builtin_chargen_line(line, 0);
	assert_memory_equal(line, l0, LINE);
	builtin_chargen_line(line, 1);
	assert_memory_equal(line, l1, LINE);
	builtin_chargen_line(line, 94);
	assert_memory_equal(line, l94, LINE);
	builtin_chargen_line(line, 95);
	assert_memory_equal(line, l0, LINE);
	builtin_chargen_line(line, 95 * 1000 + 1);
	assert_memory_equal(line, l1, LINE);
	builtin_chargen_line(l5, 5);
	assert_int_equal(l5[0], '%');
	builtin_chargen_line(line, 4294967295U);	/* % 95 == 5, no overflow */
	assert_memory_equal(line, l5, LINE);
}

/* Echo returns 1 MiB across a half-close, then reports done once. */
static void
test_stream_echo_halfclose(void **state)
{
	struct fixture	*f = *state;
	const size_t	 total = 1024 * 1024;
	unsigned char	*back;
	size_t		 sent = 0, got = 0, i, maxout = 0, chunk;
	double		 deadline = now() + DEADLINE;
	ssize_t		 n;
	int		 eof = 0, shut = 0;
	unsigned char	 buf[16384];

	back = malloc(total + 1);
	assert_non_null(back);
	fixture_start(f, BUILTIN_ECHO);
	while (!eof || f->ndone == 0) {
		assert_true(now() < deadline);
		if (sent < total) {
			chunk = total - sent < sizeof(buf) ?
			    total - sent : sizeof(buf);
			for (i = 0; i < chunk; i++)
				buf[i] = pattern(sent + i);
			n = write(f->peer, buf, chunk);
			if (n > 0)
				sent += (size_t)n;
			else
				assert_true(errno == EAGAIN);
		} else if (!shut) {
			assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
			shut = 1;
		}
		pump(f);
		if (output_length(f) > maxout)
			maxout = output_length(f);
		eof = peer_read(f, back, total + 1, &got);
		assert_true(f->ndone == 0 || shut);
	}
	assert_int_equal(got, total);
	for (i = 0; i < total; i++) {
		if (back[i] != pattern(i))
			fail_msg("byte %zu: %u, want %u", i, back[i],
			    pattern(i));
	}
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->in, total);
	assert_int_equal(f->out, total);
	assert_true(maxout <= OUTPUT_BOUND);
	for (i = 0; i < 10; i++)
		pump(f);
	assert_int_equal(f->ndone, 1);
	free(back);
}

/*
 * A client that writes and never reads: echo stops reading once 64 KiB
 * wait, its output stays bounded, and all comes back once the client reads.
 */
static void
test_stream_echo_backpressure(void **state)
{
	struct fixture	*f = *state;
	const size_t	 cap = 16 * 1024 * 1024;
	unsigned char	*back, buf[4096];
	size_t		 sent = 0, got = 0, i, maxout = 0;
	double		 deadline = now() + DEADLINE;
	ssize_t		 n;
	int		 stalls = 0, eof = 0;

	fixture_start(f, BUILTIN_ECHO);
	while (stalls < 50 && sent < cap) {
		assert_true(now() < deadline);
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(sent + i);
		n = write(f->peer, buf, sizeof(buf));
		if (n > 0) {
			sent += (size_t)n;
			stalls = 0;
		} else {
			assert_true(errno == EAGAIN);
			stalls++;
		}
		pump(f);
		if (output_length(f) > maxout)
			maxout = output_length(f);
	}
	assert_true(sent < cap);	/* the client was stopped */
	assert_true(maxout > 64 * 1024);
	assert_true(maxout <= OUTPUT_BOUND);
	assert_int_equal(bufferevent_get_enabled(f->bev) & EV_READ, 0);
	assert_int_equal(f->ndone, 0);

	/* Drain: reading resumes and every byte comes back in order. */
	back = malloc(sent + 1);
	assert_non_null(back);
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	while (!eof || f->ndone == 0) {
		assert_true(now() < deadline);
		pump(f);
		assert_true(output_length(f) <= OUTPUT_BOUND);
		eof = peer_read(f, back, sent + 1, &got);
	}
	assert_int_equal(got, sent);
	for (i = 0; i < sent; i++) {
		if (back[i] != pattern(i))
			fail_msg("byte %zu: %u, want %u", i, back[i],
			    pattern(i));
	}
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->in, sent);
	assert_int_equal(f->out, sent);
	free(back);
}

/* Echo with the client gone and its data unsent ends with an error. */
static void
test_stream_echo_error(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 buf[1000];
	double		 deadline = now() + DEADLINE;

	memset(buf, 'e', sizeof(buf));
	fixture_start(f, BUILTIN_ECHO);
	assert_int_equal(write(f->peer, buf, sizeof(buf)), sizeof(buf));
	close(f->peer);
	f->peer = -1;
	while (f->ndone == 0) {
		assert_true(now() < deadline);
		pump(f);
		(void)poll(NULL, 0, 1);
	}
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 1);
	assert_int_equal(f->in, sizeof(buf));
	assert_int_equal(f->out, 0);
}

/* Discard counts what it drops, sends nothing, and ends at EOF. */
static void
test_stream_discard(void **state)
{
	struct fixture	*f = *state;
	const size_t	 total = 300000;
	unsigned char	 buf[8192], back[16];
	size_t		 sent = 0, got;
	double		 deadline = now() + DEADLINE;
	ssize_t		 n;

	memset(buf, 'd', sizeof(buf));
	fixture_start(f, BUILTIN_DISCARD);
	while (sent < total) {
		assert_true(now() < deadline);
		n = write(f->peer, buf, total - sent < sizeof(buf) ?
		    total - sent : sizeof(buf));
		if (n > 0)
			sent += (size_t)n;
		else
			assert_true(errno == EAGAIN);
		pump(f);
	}
	assert_int_equal(f->ndone, 0);
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	got = run_to_eof(f, back, sizeof(back));
	assert_int_equal(got, 0);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->in, total);
	assert_int_equal(f->out, 0);
}

/* Daytime answers at once and finishes without waiting for the client. */
static void
test_stream_daytime(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 back[128];
	char		 want[64];
	size_t		 got, len;
	time_t		 t, t0, t1;
	int		 match = 0;

	t0 = time(NULL);
	fixture_start(f, BUILTIN_DAYTIME);
	got = run_to_eof(f, back, sizeof(back));
	t1 = time(NULL);
	for (t = t0; t <= t1; t++) {
		len = builtin_daytime(want, sizeof(want), t);
		if (len == got && memcmp(back, want, len) == 0)
			match = 1;
	}
	assert_true(match);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->in, 0);
	assert_int_equal(f->out, got);
}

/* Output queued before the start (a banner) goes first, uncounted. */
static void
test_stream_daytime_banner(void **state)
{
	struct fixture	*f = *state;
	static const char banner[] = "portgate says hello\r\n";
	unsigned char	 back[128];
	char		 want[64];
	size_t		 got, blen = sizeof(banner) - 1;

	assert_int_equal(bufferevent_write(f->bev, banner, blen), 0);
	fixture_start(f, BUILTIN_DAYTIME);
	got = run_to_eof(f, back, sizeof(back));
	assert_true(got > blen);
	assert_memory_equal(back, banner, blen);
	assert_int_equal(got - blen, builtin_daytime(want, sizeof(want),
	    time(NULL)));
	assert_int_equal(f->out, got - blen);
	assert_int_equal(f->error, 0);
}

/* Time sends its four bytes and finishes. */
static void
test_stream_time(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 back[16];
	size_t		 got;
	uint32_t	 v, v0, v1;

	v0 = (uint32_t)((uint64_t)time(NULL) + 2208988800U);
	fixture_start(f, BUILTIN_TIME);
	got = run_to_eof(f, back, sizeof(back));
	v1 = (uint32_t)((uint64_t)time(NULL) + 2208988800U);
	assert_int_equal(got, 4);
	v = (uint32_t)back[0] << 24 | (uint32_t)back[1] << 16 |
	    (uint32_t)back[2] << 8 | back[3];
	assert_true(v >= v0 && v <= v1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->out, 4);
}

/*
 * Chargen sends the rotating lines, keeps its output bounded while the
 * client does not read, and stops at the client's EOF.
 */
static void
test_stream_chargen(void **state)
{
	struct fixture	*f = *state;
	const size_t	 cap = 4 * 1024 * 1024;
	unsigned char	*back;
	size_t		 got = 0, i;
	double		 deadline = now() + DEADLINE;
	int		 eof = 0;

	back = malloc(cap);
	assert_non_null(back);
	fixture_start(f, BUILTIN_CHARGEN);
	assert_true(output_length(f) <= OUTPUT_BOUND);
	/* What the client sends is read and dropped, never echoed. */
	assert_int_equal(write(f->peer, "ignored\r\n", 9), 9);
	while (got < 300 * LINE) {
		assert_true(now() < deadline);
		pump(f);
		assert_false(peer_read(f, back, cap, &got));
	}
	check_chargen_stream(back, got);

	/* The client stops reading: the output stays bounded. */
	for (i = 0; i < 200; i++) {
		pump(f);
		assert_true(output_length(f) <= OUTPUT_BOUND);
	}
	assert_int_equal(f->ndone, 0);

	/* EOF from the client ends the session; what was sent is whole. */
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	while (!eof || f->ndone == 0) {
		assert_true(now() < deadline);
		assert_true(got < cap);
		pump(f);
		eof = peer_read(f, back, cap, &got);
	}
	check_chargen_stream(back, got);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->in, 9);
	assert_int_equal(f->out, got);
	free(back);
}

/* Chargen whose client vanishes ends exactly once. */
static void
test_stream_chargen_close(void **state)
{
	struct fixture	*f = *state;
	double		 deadline = now() + DEADLINE;
	int		 i;

	fixture_start(f, BUILTIN_CHARGEN);
	pump(f);
	close(f->peer);
	f->peer = -1;
	while (f->ndone == 0) {
		assert_true(now() < deadline);
		pump(f);
	}
	for (i = 0; i < 10; i++)
		pump(f);
	assert_int_equal(f->ndone, 1);
}

/* builtin_stream_free() lets go of the bufferevent without done(). */
static void
test_stream_free(void **state)
{
	struct fixture		*f = *state;
	bufferevent_data_cb	 r, w;
	bufferevent_event_cb	 e;
	void			*a;
	unsigned char		 back[16];
	size_t			 got = 0;
	int			 i;

	fixture_start(f, BUILTIN_ECHO);
	builtin_stream_free(f->bs);
	f->bs = NULL;
	bufferevent_getcb(f->bev, &r, &w, &e, &a);
	assert_null(r);
	assert_null(w);
	assert_null(e);
	assert_null(a);
	assert_int_equal(write(f->peer, "x", 1), 1);
	for (i = 0; i < 20; i++)
		pump(f);
	assert_false(peer_read(f, back, sizeof(back), &got));
	assert_int_equal(got, 0);
	assert_int_equal(f->ndone, 0);
	builtin_stream_free(NULL);
}

/* A bad kind is refused. */
static void
test_stream_badkind(void **state)
{
	struct fixture	*f = *state;

	assert_null(builtin_stream_start(f->bev, BUILTIN_NONE, fixture_done,
	    f));
	assert_null(builtin_stream_start(f->bev, (enum builtin_kind)42,
	    fixture_done, f));
}

struct udp {
	int			srv;
	int			cli;
	struct sockaddr_in	from;
	socklen_t		fromlen;
};

/* A socket bound to 127.0.0.1 on a free port. */
static int
udp_socket(void)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_not_equal(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Two loopback UDP sockets: the service's and the client's. */
static int
udp_setup(void **state)
{
	struct udp		*u;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	u = calloc(1, sizeof(*u));
	assert_non_null(u);
	u->srv = udp_socket();
	u->cli = udp_socket();
	assert_int_equal(getsockname(u->srv, (struct sockaddr *)&sin, &len),
	    0);
	assert_int_equal(connect(u->cli, (struct sockaddr *)&sin, len), 0);
	*state = u;
	return 0;
}

/* Close both sockets. */
static int
udp_teardown(void **state)
{
	struct udp	*u = *state;

	close(u->srv);
	close(u->cli);
	free(u);
	return 0;
}

/*
 * Send <req> from the client, answer it with builtin_dgram() <kind>, and
 * read the reply, waiting <ms> at most.  Returns the reply's length, or -1
 * if none came; *<sent> is builtin_dgram()'s return.
 */
static ssize_t
udp_exchange(struct udp *u, enum builtin_kind kind, const char *req,
    unsigned char *reply, size_t cap, int ms, ssize_t *sent)
{
	unsigned char	 in[2048];
	struct pollfd	 pfd;
	ssize_t		 n;

	assert_int_equal(send(u->cli, req, strlen(req), 0), strlen(req));
	u->fromlen = sizeof(u->from);
	n = recvfrom(u->srv, in, sizeof(in), 0, (struct sockaddr *)&u->from,
	    &u->fromlen);
	assert_int_equal(n, strlen(req));
	*sent = builtin_dgram(u->srv, kind, (struct sockaddr *)&u->from,
	    u->fromlen, NULL, in, (size_t)n);
	pfd.fd = u->cli;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return recv(u->cli, reply, cap, 0);
}

/* Datagram echo returns the datagram. */
static void
test_dgram_echo(void **state)
{
	struct udp	*u = *state;
	unsigned char	 reply[2048];
	ssize_t		 n, sent;

	n = udp_exchange(u, BUILTIN_ECHO, "hello, datagram", reply,
	    sizeof(reply), 2000, &sent);
	assert_int_equal(n, 15);
	assert_int_equal(sent, 15);
	assert_memory_equal(reply, "hello, datagram", 15);
}

/* Datagram time and daytime reply with the time now. */
static void
test_dgram_time_daytime(void **state)
{
	struct udp	*u = *state;
	unsigned char	 reply[2048];
	char		 want[64];
	ssize_t		 n, sent;
	uint32_t	 v, v0, v1;
	time_t		 t, t0, t1;
	int		 match = 0;

	v0 = (uint32_t)((uint64_t)time(NULL) + 2208988800U);
	n = udp_exchange(u, BUILTIN_TIME, "?", reply, sizeof(reply), 2000,
	    &sent);
	v1 = (uint32_t)((uint64_t)time(NULL) + 2208988800U);
	assert_int_equal(n, 4);
	assert_int_equal(sent, 4);
	v = (uint32_t)reply[0] << 24 | (uint32_t)reply[1] << 16 |
	    (uint32_t)reply[2] << 8 | reply[3];
	assert_true(v >= v0 && v <= v1);

	t0 = time(NULL);
	n = udp_exchange(u, BUILTIN_DAYTIME, "?", reply, sizeof(reply), 2000,
	    &sent);
	t1 = time(NULL);
	assert_int_equal(n, sent);
	for (t = t0; t <= t1; t++) {
		if ((size_t)n == builtin_daytime(want, sizeof(want), t) &&
		    memcmp(reply, want, (size_t)n) == 0)
			match = 1;
	}
	assert_true(match);
}

/* Datagram discard sends nothing. */
static void
test_dgram_discard(void **state)
{
	struct udp	*u = *state;
	unsigned char	 reply[2048];
	ssize_t		 n, sent;

	n = udp_exchange(u, BUILTIN_DISCARD, "drop me", reply, sizeof(reply),
	    200, &sent);
	assert_int_equal(n, -1);
	assert_int_equal(sent, 0);
}

/* Where byte 0 of <buf> (<len> bytes of the chargen stream) lies in it. */
static uint64_t
chargen_pos(const unsigned char *buf, size_t len)
{
	const uint64_t	period = (uint64_t)LINE * 95;
	size_t		i;

	/* The byte after the first LF starts line <its character - ' '>. */
	for (i = 0; i + 1 < len && buf[i] != '\n'; i++)
		;
	assert_true(i + 1 < len);
	assert_true(buf[i + 1] >= ' ' && buf[i + 1] <= '~');
	return ((uint64_t)(buf[i + 1] - ' ') * LINE + period - (i + 1)) %
	    period;
}

/*
 * Datagram chargen (RFC 864): a random length from 0 to 512, not the same
 * every time, and each datagram goes on with the pattern where the
 * previous one stopped.
 */
static void
test_dgram_chargen(void **state)
{
	struct udp	*u = *state;
	unsigned char	 reply[2048], *all, *want;
	ssize_t		 n, sent;
	size_t		 total = 0;
	int		 i, seen[513] = { 0 }, distinct = 0, lo = 512, hi = 0;

	assert_non_null(all = malloc(NCHARGEN_DGRAMS * 512));
	for (i = 0; i < NCHARGEN_DGRAMS; i++) {
		n = udp_exchange(u, BUILTIN_CHARGEN, "", reply, sizeof(reply),
		    2000, &sent);
		assert_int_equal(n, sent);
		assert_true(n >= 0 && n <= 512);
		distinct += !seen[n]++;
		lo = n < lo ? (int)n : lo;
		hi = n > hi ? (int)n : hi;
		memcpy(all + total, reply, (size_t)n);
		total += (size_t)n;
	}
	/* 300 draws of 513 lengths: about 227 distinct, both halves seen. */
	if (distinct < 100 || lo >= 128 || hi <= 384)
		fail_msg("lengths not spread over 0..512: %d distinct, %d to "
		    "%d", distinct, lo, hi);
	assert_true(total > 2 * LINE);
	assert_non_null(want = malloc(total));
	builtin_chargen_bytes((char *)want, total, chargen_pos(all, total));
	assert_memory_equal(all, want, total);
	free(want);
	free(all);
}

/* Any stretch of the stream, across line ends and the 95-line period. */
static void
test_chargen_bytes(void **state)
{
	char		stream[LINE * 200], got[LINE * 3];
	uint64_t	pos;
	unsigned	i;
	size_t		len;

	(void)state;
	for (i = 0; i < 200; i++)
		builtin_chargen_line(stream + i * LINE, i);
	for (pos = 0; pos < (uint64_t)LINE * 100; pos += 37) {
		for (len = 0; len <= sizeof(got); len += 53) {
			builtin_chargen_bytes(got, len, pos);
			assert_memory_equal(got, stream + pos, len);
		}
	}
	/* Far positions: line numbers past 2^32 wrap like the pattern. */
	pos = (uint64_t)LINE * 95 * 1000003 + 5 * LINE + 7;
	builtin_chargen_bytes(got, 100, pos);
	assert_memory_equal(got, stream + 5 * LINE + 7, 100);
	builtin_chargen_bytes(got, 0, pos);
}

/* No reply to reserved ports, broadcast or multicast; bad kinds fail. */
static void
test_dgram_refused(void **state)
{
	struct udp		*u = *state;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(7);
	errno = 0;
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	assert_int_equal(errno, EACCES);
	sin.sin_port = htons(19);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_CHARGEN,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	sin.sin_port = htons(0);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_TIME,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_DAYTIME,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	sin.sin_addr.s_addr = inet_addr("224.0.0.1");
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	assert_int_equal(errno, EACCES);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(9);
	sin6.sin6_addr = in6addr_loopback;
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin6, sizeof(sin6), NULL, "x", 1), -1);
	sin6.sin6_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET6, "ff02::1", &sin6.sin6_addr), 1);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin6, sizeof(sin6), NULL, "x", 1), -1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:255.255.255.255",
	    &sin6.sin6_addr), 1);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin6, sizeof(sin6), NULL, "x", 1), -1);
	assert_int_equal(errno, EACCES);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_NONE,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_TCPMUX,
	    (struct sockaddr *)&sin, sizeof(sin), NULL, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO, NULL, 0, NULL, "x",
	    1),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(builtin_dgram(u->srv, BUILTIN_ECHO,
	    (struct sockaddr *)&sin, sizeof(sin) - 1, NULL, "x", 1), -1);
}

/* A socket address for numeric <addr> (IPv6 if it has a colon). */
static socklen_t
sa_of(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	return sizeof(*sin);
}

/* Is numeric <addr> local, for a datagram sent to <dst>? */
static int
local(const char *addr, const struct dgram_dst *dst)
{
	struct sockaddr_storage	ss;

	(void)sa_of(&ss, addr);
	return dgram_source_local((struct sockaddr *)&ss, dst);
}

/*
 * Which senders are this host, for the loop check: loopback in every
 * form, the datagram's own destination, and the interfaces' addresses.
 */
static void
test_dgram_source_local(void **state)
{
	struct dgram_dst	 dst;
	struct ifaddrs		*ifa, *i;
	struct sockaddr_in	 sin;
	char			 addr[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(local("127.0.0.1", NULL), 1);
	assert_int_equal(local("127.3.2.1", NULL), 1);
	assert_int_equal(local("::1", NULL), 1);
	assert_int_equal(local("::ffff:127.0.0.9", NULL), 1);
	/* TEST-NET addresses, on no interface here. */
	assert_int_equal(local("192.0.2.7", NULL), 0);
	assert_int_equal(local("2001:db8::7", NULL), 0);

	memset(&dst, 0, sizeof(dst));
	assert_int_equal(local("192.0.2.7", &dst), 0);
	dst.dd_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", dst.dd_addr), 1);
	assert_int_equal(local("192.0.2.7", &dst), 1);
	assert_int_equal(local("::ffff:192.0.2.7", &dst), 1);
	assert_int_equal(local("192.0.2.8", &dst), 0);
	/* An IPv4 datagram on a dual-stack socket. */
	dst.dd_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.7", dst.dd_addr),
	    1);
	assert_int_equal(local("192.0.2.7", &dst), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", dst.dd_addr), 1);
	assert_int_equal(local("2001:db8::7", &dst), 1);
	assert_int_equal(local("2001:db8::8", &dst), 0);

	/* Every IPv4 address of an interface. */
	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		memcpy(&sin, i->ifa_addr, sizeof(sin));
		assert_non_null(inet_ntop(AF_INET, &sin.sin_addr, addr,
		    sizeof(addr)));
		assert_int_equal(local(addr, NULL), 1);
	}
	freeifaddrs(ifa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_name),
		cmocka_unit_test(test_daytime_format),
		cmocka_unit_test(test_time_values),
		cmocka_unit_test(test_chargen_lines),
		cmocka_unit_test(test_chargen_bytes),
		cmocka_unit_test_setup_teardown(test_stream_echo_halfclose,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_echo_backpressure,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_echo_error,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_discard,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_daytime,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_daytime_banner,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_time,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_chargen,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_chargen_close,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_free,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stream_badkind,
		    fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_dgram_echo,
		    udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_dgram_time_daytime,
		    udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_dgram_discard,
		    udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_dgram_chargen,
		    udp_setup, udp_teardown),
		cmocka_unit_test_setup_teardown(test_dgram_refused,
		    udp_setup, udp_teardown),
		cmocka_unit_test(test_dgram_source_local),
	};

	/* The client side writes to closed sockets on purpose. */
	signal(SIGPIPE, SIG_IGN);
	if (setenv("TZ", "UTC", 1) == -1)
		return 1;
	tzset();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
