/*
 * The built-in services of RFC 862 (echo), 863 (discard), 867 (daytime),
 * 868 (time) and 864 (chargen), for stream and datagram sockets, run inside
 * the event loop.
 */
#ifndef PORTGATE_BUILTIN_H
#define PORTGATE_BUILTIN_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct bufferevent;
struct dgram_dst;

enum builtin_kind {
	BUILTIN_NONE = 0,
	BUILTIN_ECHO,
	BUILTIN_DISCARD,
	BUILTIN_DAYTIME,
	BUILTIN_TIME,
	BUILTIN_CHARGEN,
	BUILTIN_METRICS,	/* HTTP GET /metrics (metrics_http.c), stream */
	BUILTIN_TCPMUX		/* served by tcpmux.c, not here */
};

/*
 * The built-in for a service name ("echo", ..., "tcpmux"; case-sensitive,
 * as xinetd), or BUILTIN_NONE (also for NULL).  The functions below serve
 * the kinds before BUILTIN_TCPMUX only (EINVAL for it).
 */
enum builtin_kind builtin_lookup(const char *name);
/* The service name of a built-in, or NULL for BUILTIN_NONE or no kind. */
const char	*builtin_name(enum builtin_kind);

/*
 * Called exactly once, from the event loop, when a stream built-in is done
 * with its client: echo and discard after the client's EOF once the output
 * buffer is empty; daytime and time once their reply has left the output
 * buffer (they do not wait for the client); chargen at the client's EOF
 * (what it still has queued is dropped); metrics once its answer has
 * left (it reads one request).  <error> is 1 after a read or
 * write error or a bufferevent timeout, else 0.  Before the call the
 * built-in has cleared the bufferevent's callbacks, reset its watermarks
 * and freed its session, so done may free the bufferevent; the handle is
 * invalid from then on (do not pass it to builtin_stream_free()).  <in>
 * counts bytes read from the client, <out> the built-in's own bytes that
 * left the output buffer (not a banner queued before the start).
 */
typedef void	(*builtin_done_cb)(void *arg, int error, uint64_t in,
		    uint64_t out);

/*
 * Serve <kind> on <bev>, which the caller owns and keeps (it may be a TLS
 * bufferevent, and may already hold queued output such as a banner).  The
 * built-in sets <bev>'s callbacks and watermarks and enables EV_READ and
 * EV_WRITE; input already in <bev> is served.  Timeouts are the caller's
 * to set, but for metrics, which sets METRICS_HTTP_TIMEOUT both ways.  done is never called from inside this function.  Returns an
 * opaque handle, or NULL when <kind> is not a built-in (errno EINVAL) or
 * on failure (allocation); <bev> then has none of the built-in's callbacks.
 */
struct builtin_session *builtin_stream_start(struct bufferevent *bev,
	    enum builtin_kind kind, builtin_done_cb done, void *arg);
/*
 * Forget a stream session whose done has not run, without calling it
 * (shutdown path): <bev>'s callbacks are cleared and its watermarks reset,
 * and the caller still frees it.  NULL is ignored.
 */
void	builtin_stream_free(struct builtin_session *);
/* Bytes taken from and sent to the client so far (state dumps). */
void	builtin_stream_counts(const struct builtin_session *, uint64_t *in,
	    uint64_t *out);

/*
 * Answer one datagram <data>/<len> that arrived on <fd> from <from> for
 * <dst> (NULL: not known), from that address: echo returns it, daytime/time send their reply,
 * chargen a random number of bytes from 0 to 512 (RFC 864), discard sends
 * nothing.  No reply goes to a source port below 1024 or to an unspecified,
 * broadcast or multicast address, so that a forged datagram cannot set two
 * UDP services answering each other.  Errors drop the reply.  Returns the
 * bytes sent (0 for discard), or -1 with errno: EACCES for a refused
 * source, EINVAL for a bad kind or argument, or sendto()'s (EAGAIN, ...).
 */
ssize_t	builtin_dgram(int fd, enum builtin_kind kind,
	    const struct sockaddr *from, socklen_t fromlen,
	    const struct dgram_dst *dst, const void *data, size_t len);

/* Pure helpers, unit-tested. */
/*
 * "25 NOV 2026 20:24:47 UTC\r\n" for <t> in local time, with the day
 * zero-padded as xinetd prints it ("05 MAR 2024 ...").  Returns the length
 * (the text is NUL-terminated), or 0 if it does not fit in <len>.
 */
size_t	builtin_daytime(char *buf, size_t len, time_t t);
/* RFC 868: seconds since 1900 modulo 2^32, big-endian, into <out>. */
void	builtin_time(unsigned char out[4], time_t t);
/*
 * RFC 864 line <n>: the 72 printable characters from ' ' + <n> mod 95,
 * wrapping after '~', then CR LF, into <line>[74] (not NUL-terminated).
 */
void	builtin_chargen_line(char line[74], unsigned n);
/*
 * <n> bytes of the endless chargen stream (line 0, line 1, ... each with
 * its CR LF) from byte <pos> of it, into <buf> (not NUL-terminated).
 */
void	builtin_chargen_bytes(char *buf, size_t n, uint64_t pos);

#endif
