/*
 * The built-in services: RFC 862 echo, 863 discard, 864 chargen, 867
 * daytime and 868 time.  A stream session runs on a bufferevent the caller
 * owns, inside the event loop, with bounded buffers and no blocking call;
 * a datagram is answered with one non-blocking sendto().  Nothing here
 * logs: errors go back to the caller through done() or a -1 return.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "builtin.h"
#include "dgram.h"
#include "metrics_http.h"

/* RFC 868: seconds from 1900-01-01 to 1970-01-01. */
#define TIME_OFFSET		2208988800U

#define CHARGEN_NCHARS		95	/* printable ASCII, ' ' to '~' */
#define CHARGEN_WIDTH		72
#define CHARGEN_LINE		(CHARGEN_WIDTH + 2)
#define CHARGEN_BATCH		32	/* lines per evbuffer_add() */
#define CHARGEN_DGRAM_MAX	512	/* RFC 864 */

/* Echo stops reading above ECHO_HIGH queued bytes and resumes at ECHO_LOW. */
#define ECHO_HIGH		(64 * 1024)
#define ECHO_LOW		(16 * 1024)
/* Chargen refills up to CHARGEN_FILL once the output drops to CHARGEN_LOW. */
#define CHARGEN_FILL		(64 * 1024)
#define CHARGEN_LOW		(16 * 1024)
/* The most the input buffer may hold before libevent stops reading. */
#define READ_HIGH		(64 * 1024)

/* Large enough for any daytime or time reply. */
#define REPLY_MAX		128

enum builtin_state {
	BS_RUNNING,		/* serving the client */
	BS_PAUSED,		/* echo: output above ECHO_HIGH, not reading */
	BS_FLUSHING		/* finished: done() once the output is empty */
};

struct builtin_session {
	struct bufferevent	*bs_bev;
	enum builtin_kind	 bs_kind;
	enum builtin_state	 bs_state;
	builtin_done_cb		 bs_done;
	void			*bs_arg;
	uint64_t		 bs_in;		/* bytes taken from the input */
	uint64_t		 bs_queued;	/* bytes added to the output */
	unsigned		 bs_line;	/* chargen: next line number */
};

static const char *const builtin_names[] = {
	[BUILTIN_ECHO] = "echo",
	[BUILTIN_DISCARD] = "discard",
	[BUILTIN_DAYTIME] = "daytime",
	[BUILTIN_TIME] = "time",
	[BUILTIN_CHARGEN] = "chargen",
	[BUILTIN_METRICS] = "metrics"
};

#define BUILTIN_NKINDS	(sizeof(builtin_names) / sizeof(builtin_names[0]))
/* The mux is a built-in by name only: tcpmux.c serves it. */
#define BUILTIN_TCPMUX_NAME	"tcpmux"
_Static_assert(BUILTIN_NKINDS == BUILTIN_TCPMUX,
    "the kinds served here come before BUILTIN_TCPMUX");

static void	builtin_readcb(struct bufferevent *, void *);
static void	builtin_writecb(struct bufferevent *, void *);
static void	builtin_eventcb(struct bufferevent *, short, void *);

/* Map a service name to its built-in; names are case-sensitive, as xinetd. */
enum builtin_kind
builtin_lookup(const char *name)
{
	size_t	i;

	if (name == NULL)
		return BUILTIN_NONE;
	if (strcmp(name, BUILTIN_TCPMUX_NAME) == 0)
		return BUILTIN_TCPMUX;
	for (i = 1; i < BUILTIN_NKINDS; i++) {
		if (builtin_names[i] != NULL &&
		    strcmp(builtin_names[i], name) == 0)
			return (enum builtin_kind)i;
	}
	return BUILTIN_NONE;
}

/* The service name of <kind>, or NULL for BUILTIN_NONE and unknown kinds. */
const char *
builtin_name(enum builtin_kind kind)
{
	if (kind == BUILTIN_TCPMUX)
		return BUILTIN_TCPMUX_NAME;
	if ((size_t)kind >= BUILTIN_NKINDS)
		return NULL;
	return builtin_names[kind];
}

/*
 * Format <t> as xinetd's daytime does, "%02d %s %d %02d:%02d:%02d" then
 * strftime(" %Z\r\n"), e.g. "05 MAR 2024 07:08:09 UTC\r\n".  Returns the
 * length (the text is NUL-terminated), or 0 if it does not fit in <len>.
 */
size_t
builtin_daytime(char *buf, size_t len, time_t t)
{
	static const char *const months[] = {
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
		"JUL", "AUG", "SEP", "OCT", "NOV", "DEC"
	};
	struct tm	 tm;
	size_t		 zone;
	int		 n;

	if (localtime_r(&t, &tm) == NULL || tm.tm_mon < 0 || tm.tm_mon > 11)
		return 0;
	n = snprintf(buf, len, "%02d %s %d %02d:%02d:%02d", tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	if (n < 0 || (size_t)n >= len)
		return 0;
	zone = strftime(buf + n, len - (size_t)n, " %Z\r\n", &tm);
	if (zone == 0)
		return 0;
	return (size_t)n + zone;
}

/* Store <t> + TIME_OFFSET, modulo 2^32, big-endian. */
void
builtin_time(unsigned char out[4], time_t t)
{
	uint32_t	v;

	v = (uint32_t)((uint64_t)t + TIME_OFFSET);
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

/* Line <n> starts at ' ' + n mod 95 and runs through the printables. */
void
builtin_chargen_line(char line[74], unsigned n)
{
	unsigned	first, i;

	first = n % CHARGEN_NCHARS;
	for (i = 0; i < CHARGEN_WIDTH; i++)
		line[i] = (char)(' ' + (first + i) % CHARGEN_NCHARS);
	line[CHARGEN_WIDTH] = '\r';
	line[CHARGEN_WIDTH + 1] = '\n';
}

/* The daytime or time reply for <now> into <buf>; returns 0 on failure. */
static size_t
builtin_reply(enum builtin_kind kind, char *buf, size_t len, time_t now)
{
	if (kind == BUILTIN_TIME) {
		if (len < 4)
			return 0;
		builtin_time((unsigned char *)buf, now);
		return 4;
	}
	return builtin_daytime(buf, len, now);
}

/*
 * Give <bev> back as libevent made it: no callbacks, default watermarks.
 * Clearing the callbacks also drops any deferred callback still pending.
 */
static void
builtin_release(struct builtin_session *s)
{
	bufferevent_setcb(s->bs_bev, NULL, NULL, NULL, NULL);
	bufferevent_setwatermark(s->bs_bev, EV_READ | EV_WRITE, 0, 0);
	free(s);
}

/* Bytes taken from the client and sent to it so far. */
static void
builtin_counts_now(const struct builtin_session *s, uint64_t *in,
    uint64_t *out)
{
	uint64_t	left;

	left = evbuffer_get_length(bufferevent_get_output(s->bs_bev));
	*in = s->bs_in;
	*out = s->bs_queued - (left < s->bs_queued ? left : s->bs_queued);
}

void
builtin_stream_counts(const struct builtin_session *s, uint64_t *in,
    uint64_t *out)
{
	builtin_counts_now(s, in, out);
}

/*
 * End the session and report it.  <out> counts only what left the output
 * buffer: bytes of ours still queued there are not sent.  The session is
 * freed before done() runs, which may free the bufferevent.
 */
static void
builtin_finish(struct builtin_session *s, int error)
{
	builtin_done_cb	 done = s->bs_done;
	void		*arg = s->bs_arg;
	uint64_t	 in, out;

	builtin_counts_now(s, &in, &out);
	builtin_release(s);
	if (done != NULL)
		done(arg, error, in, out);
}

/* Wait for the output to drain, then finish; returns after any done(). */
static void
builtin_flush(struct builtin_session *s)
{
	s->bs_state = BS_FLUSHING;
	if (evbuffer_get_length(bufferevent_get_output(s->bs_bev)) == 0) {
		builtin_finish(s, 0);
		return;
	}
	bufferevent_setwatermark(s->bs_bev, EV_WRITE, 0, 0);
	if (bufferevent_enable(s->bs_bev, EV_WRITE) == -1)
		builtin_finish(s, 1);
}

/* Queue chargen lines until CHARGEN_FILL bytes wait; -1 on failure. */
static int
builtin_chargen_fill(struct builtin_session *s)
{
	struct evbuffer	*output = bufferevent_get_output(s->bs_bev);
	char		 buf[CHARGEN_LINE * CHARGEN_BATCH];
	size_t		 i;

	while (evbuffer_get_length(output) < CHARGEN_FILL) {
		for (i = 0; i < CHARGEN_BATCH; i++) {
			builtin_chargen_line(buf + i * CHARGEN_LINE,
			    s->bs_line);
			s->bs_line = (s->bs_line + 1) % CHARGEN_NCHARS;
		}
		if (evbuffer_add(output, buf, sizeof(buf)) == -1)
			return -1;
		s->bs_queued += sizeof(buf);
	}
	return 0;
}

/*
 * Metrics: answer once the request is in, then flush (the write callback
 * finishes).  Returns -1 on failure.
 */
static int
builtin_metrics(struct builtin_session *s)
{
	struct evbuffer	*input = bufferevent_get_input(s->bs_bev);
	struct evbuffer	*output = bufferevent_get_output(s->bs_bev);
	size_t		 before = evbuffer_get_length(output), n;
	int		 rv;

	if ((rv = metrics_http_answer(input, output)) <= 0)
		return rv;
	s->bs_queued += evbuffer_get_length(output) - before;
	n = evbuffer_get_length(input);
	s->bs_in += n;
	s->bs_state = BS_FLUSHING;
	return evbuffer_drain(input, n);
}

/*
 * Take what the client sent: echo moves it to the output (an O(1) chain
 * move) and stops reading once more than ECHO_HIGH bytes are queued; the
 * other services drop it.  Returns -1 on failure.
 */
static int
builtin_input(struct builtin_session *s)
{
	struct bufferevent	*bev = s->bs_bev;
	struct evbuffer		*input = bufferevent_get_input(bev);
	struct evbuffer		*output = bufferevent_get_output(bev);
	size_t			 n;

	if ((n = evbuffer_get_length(input)) == 0)
		return 0;
	if (s->bs_kind == BUILTIN_METRICS && s->bs_state == BS_RUNNING)
		return builtin_metrics(s);
	s->bs_in += n;
	if (s->bs_kind != BUILTIN_ECHO || s->bs_state == BS_FLUSHING)
		return evbuffer_drain(input, n);
	if (evbuffer_add_buffer(output, input) == -1)
		return -1;
	s->bs_queued += n;
	if (s->bs_state == BS_RUNNING &&
	    evbuffer_get_length(output) > ECHO_HIGH) {
		s->bs_state = BS_PAUSED;
		bufferevent_setwatermark(bev, EV_WRITE, ECHO_LOW, 0);
		if (bufferevent_disable(bev, EV_READ) == -1)
			return -1;
	}
	return 0;
}

/* Input arrived. */
static void
builtin_readcb(struct bufferevent *bev, void *arg)
{
	struct builtin_session	*s = arg;

	(void)bev;
	if (builtin_input(s) == -1)
		builtin_finish(s, 1);
}

/*
 * The output dropped to the write low watermark: finish a flush, resume a
 * paused echo, or refill chargen.
 */
static void
builtin_writecb(struct bufferevent *bev, void *arg)
{
	struct builtin_session	*s = arg;
	size_t			 left;

	left = evbuffer_get_length(bufferevent_get_output(bev));
	switch (s->bs_state) {
	case BS_FLUSHING:
		if (left == 0)
			builtin_finish(s, 0);
		break;
	case BS_PAUSED:
		if (left > ECHO_LOW)
			break;
		s->bs_state = BS_RUNNING;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		if (bufferevent_enable(bev, EV_READ) == -1)
			builtin_finish(s, 1);
		break;
	case BS_RUNNING:
		if (s->bs_kind == BUILTIN_CHARGEN &&
		    builtin_chargen_fill(s) == -1)
			builtin_finish(s, 1);
		break;
	}
}

/*
 * Error or timeout ends the session with error; client EOF ends chargen at
 * once (its output is endless) and flushes the others first, so echo
 * still returns what the client sent before half-closing.
 */
static void
builtin_eventcb(struct bufferevent *bev, short events, void *arg)
{
	struct builtin_session	*s = arg;

	(void)bev;
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		builtin_finish(s, 1);
		return;
	}
	if (!(events & BEV_EVENT_EOF))
		return;
	if (builtin_input(s) == -1) {
		builtin_finish(s, 1);
		return;
	}
	if (s->bs_kind == BUILTIN_CHARGEN)
		builtin_finish(s, 0);
	else
		builtin_flush(s);
}

/*
 * Start <kind> on <bev>.  done() is never called from here, only from the
 * event loop; daytime and time queue their reply now and finish when it has
 * left the output buffer.
 */
struct builtin_session *
builtin_stream_start(struct bufferevent *bev, enum builtin_kind kind,
    builtin_done_cb done, void *arg)
{
	static const struct timeval metrics_tv = { METRICS_HTTP_TIMEOUT, 0 };
	struct builtin_session	*s;
	struct evbuffer		*output = bufferevent_get_output(bev);
	char			 reply[REPLY_MAX];
	size_t			 len;

	if (kind <= BUILTIN_NONE || (size_t)kind >= BUILTIN_NKINDS) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->bs_bev = bev;
	s->bs_kind = kind;
	s->bs_state = BS_RUNNING;
	s->bs_done = done;
	s->bs_arg = arg;

	bufferevent_setcb(bev, builtin_readcb, builtin_writecb,
	    builtin_eventcb, s);
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	switch (kind) {
	case BUILTIN_DAYTIME:
	case BUILTIN_TIME:
		len = builtin_reply(kind, reply, sizeof(reply), time(NULL));
		if (len == 0 || evbuffer_add(output, reply, len) == -1)
			goto fail;
		s->bs_queued = len;
		s->bs_state = BS_FLUSHING;
		break;
	case BUILTIN_CHARGEN:
		bufferevent_setwatermark(bev, EV_WRITE, CHARGEN_LOW, 0);
		if (builtin_chargen_fill(s) == -1)
			goto fail;
		break;
	case BUILTIN_METRICS:
		/* A scraper that stalls must not hold a session for ever. */
		if (bufferevent_set_timeouts(bev, &metrics_tv,
		    &metrics_tv) == -1)
			goto fail;
		break;
	default:
		break;
	}
	/* Reading also drains what daytime and time clients send. */
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		goto fail;
	/* Input read before the start gets no read callback of its own. */
	if (builtin_input(s) == -1)
		goto fail;
	return s;

fail:
	builtin_release(s);
	return NULL;
}

/* Detach from the bufferevent and free the session; done() is not called. */
void
builtin_stream_free(struct builtin_session *s)
{
	if (s == NULL)
		return;
	builtin_release(s);
}

/*
 * Refuse to answer a source that may itself be a UDP service, so that one
 * forged datagram cannot start two servers answering each other forever
 * (echo to chargen, echo to echo) or make us flood a broadcast or multicast
 * group: reserved ports (0 and every built-in included), and unspecified,
 * broadcast and multicast addresses, as OpenBSD inetd's dg_badinput().
 * Returns 1 to refuse.
 */
static int
builtin_dgram_refuse(const struct sockaddr *from, socklen_t fromlen)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	in_addr_t		 a;

	switch (from->sa_family) {
	case AF_INET:
		if (fromlen < (socklen_t)sizeof(sin))
			return 1;
		memcpy(&sin, from, sizeof(sin));
		a = ntohl(sin.sin_addr.s_addr);
		return ntohs(sin.sin_port) < IPPORT_RESERVED ||
		    a == INADDR_ANY || a == INADDR_BROADCAST || IN_MULTICAST(a);
	case AF_INET6:
		if (fromlen < (socklen_t)sizeof(sin6))
			return 1;
		memcpy(&sin6, from, sizeof(sin6));
		if (ntohs(sin6.sin6_port) < IPPORT_RESERVED ||
		    IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&sin6.sin6_addr))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			memcpy(&a, &sin6.sin6_addr.s6_addr[12], sizeof(a));
			a = ntohl(a);
			return a == INADDR_ANY || a == INADDR_BROADCAST ||
			    IN_MULTICAST(a);
		}
		return 0;
	default:
		return 0;
	}
}

void
builtin_chargen_bytes(char *buf, size_t n, uint64_t pos)
{
	char		line[CHARGEN_LINE];
	uint64_t	lineno = pos / CHARGEN_LINE;
	size_t		col = (size_t)(pos % CHARGEN_LINE), k, done = 0;

	while (done < n) {
		builtin_chargen_line(line, (unsigned)(lineno % CHARGEN_NCHARS));
		k = CHARGEN_LINE - col;
		if (k > n - done)
			k = n - done;
		memcpy(buf + done, line + col, k);
		done += k;
		col = 0;
		lineno++;
	}
}

/*
 * One chargen datagram, as RFC 864 asks and xinetd does: a random number
 * of characters from 0 to 512, the pattern going on where the previous
 * datagram stopped.  Returns the length.
 */
static size_t
builtin_chargen_dgram(char buf[CHARGEN_DGRAM_MAX])
{
	static uint64_t	 pos;
	size_t		 n;

	n = arc4random_uniform(CHARGEN_DGRAM_MAX + 1);
	builtin_chargen_bytes(buf, n, pos);
	/* Kept below one period of the pattern: no overflow, ever. */
	pos = (pos + n) % ((uint64_t)CHARGEN_LINE * CHARGEN_NCHARS);
	return n;
}

/*
 * Answer one datagram.  Returns the bytes sent (0 for discard), or -1 with
 * errno set: EINVAL for a bad kind or argument, EACCES for a refused
 * source, or sendto()'s own error (EAGAIN when the socket buffer is full).
 */
ssize_t
builtin_dgram(int fd, enum builtin_kind kind, const struct sockaddr *from,
    socklen_t fromlen, const struct dgram_dst *dst, const void *data,
    size_t len)
{
	char		 buf[CHARGEN_DGRAM_MAX];
	const void	*reply = buf;
	size_t		 n;

	if (kind == BUILTIN_DISCARD)
		return 0;
	if (kind <= BUILTIN_NONE || (size_t)kind >= BUILTIN_NKINDS ||
	    kind == BUILTIN_METRICS || from == NULL ||
	    (data == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (builtin_dgram_refuse(from, fromlen)) {
		errno = EACCES;
		return -1;
	}
	switch (kind) {
	case BUILTIN_ECHO:
		reply = data;
		n = len;
		break;
	case BUILTIN_CHARGEN:
		n = builtin_chargen_dgram(buf);
		break;
	default:
		n = builtin_reply(kind, buf, sizeof(buf), time(NULL));
		if (n == 0) {
			errno = EINVAL;
			return -1;
		}
		break;
	}
	return dgram_reply(fd, reply, n, from, fromlen, dst);
}
