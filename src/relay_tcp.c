/*
 * TCP forwarding between two connected sockets.  A direction starts by
 * copying: what it reads goes straight out through one static buffer, which
 * costs two system calls per message and no memory per session.  Bytes the
 * destination does not take at once are held in a pipe made then (or, if
 * none can be had, a buffer), and a direction whose reads fill the whole
 * buffer is bulk: from then on it moves bytes with splice(2) through its
 * pipe, so that they never enter user space.  A direction stops reading
 * while it holds RELAY_BUFSZ bytes (back-pressure: a slow reader stalls its
 * writer), and on EOF it drains what it holds, then shuts the destination
 * down for writing: half-closes pass through.  The relay ends when both
 * directions are done, on an error, or after idle_timeout without traffic.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "fdbudget.h"
#include "relay_tcp.h"
#include "sockaddr.h"

#define RELAY_ROUNDS	16	/* transfers per wake-up, then yield */

struct relay_dir {
	struct relay	*rd_relay;
	int		 rd_src;
	int		 rd_dst;
	int		 rd_pipe[2];	/* -1: none yet */
	char		*rd_buf;	/* when no pipe can be had */
	int		 rd_bulk;	/* splice from the source */
	int		 rd_unsplice;	/* splice refused: drain the pipe */
	size_t		 rd_off;	/* rd_buf: first byte not yet sent */
	size_t		 rd_pending;	/* bytes held */
	int		 rd_eof;	/* the source said EOF */
	int		 rd_done;	/* the destination is shut down */
	uint64_t	 rd_bytes;
	struct event	*rd_rev;	/* source readable */
	struct event	*rd_wev;	/* destination writable */
	struct event	*rd_fin;	/* the half-close, run later */
	int		 rd_rev_on;
	int		 rd_wev_on;
	int		 rd_fin_wait;	/* rd_fin is active */
};

struct relay {
	struct event_base		*rl_base;
	const struct service_conf	*rl_conf;
	int				 rl_client;
	int				 rl_server;
	struct event			*rl_idle;
	int64_t				 rl_last;	/* last traffic, ms */
	struct relay_dir		 rl_up;		/* client to server */
	struct relay_dir		 rl_down;	/* server to client */
	relay_done_cb			 rl_done;
	void				*rl_arg;
	char				 rl_why[128];
};

/* The current time of the loop in milliseconds, cheaply. */
static int64_t
relay_now(struct relay *rl)
{
	struct timeval	tv;

	if (event_base_gettimeofday_cached(rl->rl_base, &tv) == -1)
		(void)gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Free everything, close both sockets. */
static void
relay_dir_clear(struct relay_dir *rd)
{
	if (rd->rd_rev != NULL)
		event_free(rd->rd_rev);
	if (rd->rd_wev != NULL)
		event_free(rd->rd_wev);
	if (rd->rd_fin != NULL)
		event_free(rd->rd_fin);
	if (rd->rd_pipe[0] != -1) {
		(void)close(rd->rd_pipe[0]);
		(void)close(rd->rd_pipe[1]);
		fdbudget_release(2);
	}
	free(rd->rd_buf);
}

void
relay_tcp_free(struct relay *rl)
{
	if (rl == NULL)
		return;
	relay_dir_clear(&rl->rl_up);
	relay_dir_clear(&rl->rl_down);
	if (rl->rl_idle != NULL)
		event_free(rl->rl_idle);
	if (rl->rl_client != -1)
		(void)close(rl->rl_client);
	if (rl->rl_server != -1)
		(void)close(rl->rl_server);
	free(rl);
}

void
relay_tcp_counts(const struct relay *rl, uint64_t *in, uint64_t *out)
{
	*in = rl->rl_up.rd_bytes;
	*out = rl->rl_down.rd_bytes;
}

/* End the relay: report, then free. */
static void
relay_end(struct relay *rl, enum relay_end end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
relay_end(struct relay *rl, enum relay_end end, const char *fmt, ...)
{
	relay_done_cb	 done = rl->rl_done;
	void		*arg = rl->rl_arg;
	uint64_t	 in = rl->rl_up.rd_bytes, out = rl->rl_down.rd_bytes;
	va_list		 ap;

	va_start(ap, fmt);
	(void)vsnprintf(rl->rl_why, sizeof(rl->rl_why), fmt, ap);
	va_end(ap);
	done(arg, end, rl->rl_why, in, out);
	relay_tcp_free(rl);
}

/* Watch (or stop watching) an event, without redundant syscalls. */
static void
relay_watch(struct event *ev, int *on, int want)
{
	if (*on == want)
		return;
	*on = want;
	if (want)
		(void)event_add(ev, NULL);
	else
		(void)event_del(ev);
}

/*
 * Somewhere to hold bytes: a pipe, else a buffer; 0 or -1.  A pipe costs
 * two descriptors, taken only while the budget has them to spare: a new
 * client's session needs them more than splice does.
 */
static int
relay_dir_store(struct relay_dir *rd)
{
	if (rd->rd_pipe[0] != -1 || rd->rd_buf != NULL)
		return 0;
	if (fdbudget_take(2, FDB_SPARE) == 0) {
		if (pipe2(rd->rd_pipe, O_NONBLOCK | O_CLOEXEC) == 0)
			return 0;
		fdbudget_release(2);
	}
	rd->rd_pipe[0] = rd->rd_pipe[1] = -1;
	return (rd->rd_buf = malloc(RELAY_BUFSZ)) != NULL ? 0 : -1;
}

/*
 * Copy: read into the static buffer and send it on; what the destination
 * does not take is held.  Returns bytes read, 0 at EOF, or -1 (errno).
 */
static ssize_t
relay_copy(struct relay_dir *rd)
{
	static char	buf[RELAY_BUFSZ];
	ssize_t		n, sent;

	if ((n = recv(rd->rd_src, buf, sizeof(buf), 0)) <= 0)
		return n;
	rd->rd_bytes += (uint64_t)n;
	if ((sent = send(rd->rd_dst, buf, (size_t)n, MSG_NOSIGNAL)) == -1) {
		if (errno != EAGAIN)
			return -1;
		sent = 0;
	}
	if (n == (ssize_t)sizeof(buf))
		rd->rd_bulk = 1;
	if (sent == n)
		return n;
	if (relay_dir_store(rd) == -1)
		return -1;
	/* An empty pipe or buffer takes RELAY_BUFSZ bytes. */
	if (rd->rd_pipe[0] != -1) {
		if (write(rd->rd_pipe[1], buf + sent, (size_t)(n - sent)) !=
		    n - sent)
			return -1;
	} else
		memcpy(rd->rd_buf, buf + sent, (size_t)(n - sent));
	rd->rd_off = 0;
	rd->rd_pending = (size_t)(n - sent);
	return n;
}

/* Move bytes from the source into the pipe or buffer; bytes, 0, -1. */
static ssize_t
relay_fill(struct relay_dir *rd)
{
	ssize_t	n;

	if (relay_dir_store(rd) == -1)
		return -1;
	if (rd->rd_pipe[0] != -1)
		return splice(rd->rd_src, NULL, rd->rd_pipe[1], NULL,
		    RELAY_BUFSZ - rd->rd_pending, SPLICE_F_MOVE |
		    SPLICE_F_NONBLOCK);
	n = recv(rd->rd_src, rd->rd_buf + rd->rd_off + rd->rd_pending,
	    RELAY_BUFSZ - rd->rd_off - rd->rd_pending, 0);
	return n;
}

/* Move held bytes to the destination; bytes, or -1. */
static ssize_t
relay_flush(struct relay_dir *rd)
{
	ssize_t	n;

	if (rd->rd_pipe[0] != -1)
		return splice(rd->rd_pipe[0], NULL, rd->rd_dst, NULL,
		    rd->rd_pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	n = send(rd->rd_dst, rd->rd_buf + rd->rd_off, rd->rd_pending,
	    MSG_NOSIGNAL);
	if (n > 0) {
		rd->rd_off += (size_t)n;
		if ((size_t)n == rd->rd_pending)
			rd->rd_off = 0;
	}
	return n;
}

/*
 * splice(2) refused these sockets: use a buffer from now on, once the
 * pipe is empty; 0 or -1.
 */
static int
relay_dir_unsplice(struct relay_dir *rd)
{
	rd->rd_unsplice = 0;
	if ((rd->rd_buf = malloc(RELAY_BUFSZ)) == NULL)
		return -1;
	(void)close(rd->rd_pipe[0]);
	(void)close(rd->rd_pipe[1]);
	rd->rd_pipe[0] = rd->rd_pipe[1] = -1;
	fdbudget_release(2);
	return 0;
}

/* Room left to hold bytes read from the source. */
static size_t
relay_room(struct relay_dir *rd)
{
	/* Nothing more goes into a pipe that splice can no longer fill. */
	if (rd->rd_unsplice)
		return 0;
	if (rd->rd_buf != NULL && rd->rd_off > 0 &&
	    rd->rd_off + rd->rd_pending == RELAY_BUFSZ) {
		memmove(rd->rd_buf, rd->rd_buf + rd->rd_off, rd->rd_pending);
		rd->rd_off = 0;
	}
	return RELAY_BUFSZ - rd->rd_off - rd->rd_pending;
}

/* Shut <rd>'s destination down for writing and stop watching its source. */
static void
relay_dir_fin(struct relay_dir *rd)
{
	rd->rd_fin_wait = 0;
	(void)shutdown(rd->rd_dst, SHUT_WR);
	relay_watch(rd->rd_rev, &rd->rd_rev_on, 0);
}

/* The half-close of a direction, after the events of the same wake-up. */
static void
relay_fin_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_dir_fin(arg);
}

/*
 * <rd> has moved all it will: pass its EOF on.  When the other direction
 * is done too, the relay ends now and relay_tcp_free() closes both
 * sockets, which sends the same FIN (every byte of <rd>'s destination
 * was read to its EOF, so none is left unread to turn it into a reset):
 * no shutdown(2) then, one system call less per connection.  Otherwise
 * the half-close (and the end of watching the source) waits until the
 * events that the same epoll_wait() reported have run: when the other
 * side's EOF is among them, as it often is when a client closes at the
 * end of a response, the relay ends first and no shutdown(2) is made.
 */
static void
relay_dir_done(struct relay_dir *rd)
{
	struct relay		*rl = rd->rd_relay;
	const struct relay_dir	*other = rd == &rl->rl_up ? &rl->rl_down :
				    &rl->rl_up;

	rd->rd_done = 1;
	if (other->rd_done)
		return;
	if (rd->rd_fin == NULL)
		rd->rd_fin = event_new(rl->rl_base, -1, 0, relay_fin_cb, rd);
	if (rd->rd_fin == NULL) {
		relay_dir_fin(rd);
		return;
	}
	rd->rd_fin_wait = 1;
	event_active(rd->rd_fin, EV_TIMEOUT, 1);
}

/*
 * Move what can be moved in direction <rd>, then watch what it waits for:
 * the destination while bytes are held, the source while there is room.
 * Returns -1 if the relay ended (it is freed then).
 */
static int
relay_pump(struct relay_dir *rd)
{
	struct relay	*rl = rd->rd_relay;
	ssize_t		 n;
	size_t		 want;
	int		 round, moved = 0, drained = 0;

	for (round = 0; round < RELAY_ROUNDS; round++) {
		if (rd->rd_pending > 0) {
			if ((n = relay_flush(rd)) > 0) {
				rd->rd_pending -= (size_t)n;
				moved = 1;
				if (rd->rd_pending == 0 && rd->rd_unsplice &&
				    relay_dir_unsplice(rd) == -1)
					goto fail;
				/*
				 * A short read emptied the source: the next
				 * read would only say EAGAIN.  Save the call;
				 * the source stays watched.
				 */
				if (rd->rd_pending == 0 && drained)
					break;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				goto fail;
			/* The destination is full: read while there is room. */
		}
		if (rd->rd_eof) {
			if (rd->rd_pending == 0 && !rd->rd_done)
				relay_dir_done(rd);
			break;
		}
		if ((want = relay_room(rd)) == 0)
			break;
		if (!rd->rd_bulk && rd->rd_pending == 0)
			n = relay_copy(rd);
		else if ((n = relay_fill(rd)) == -1 && errno == EINVAL &&
		    rd->rd_pipe[0] != -1) {
			/*
			 * splice(2) refused the source.  Bytes it already
			 * moved stay in the pipe until the destination has
			 * taken them (the flush above); a buffer takes over
			 * then, or now if the pipe is empty.
			 */
			rd->rd_unsplice = 1;
			if (rd->rd_pending == 0 && relay_dir_unsplice(rd) == -1)
				goto fail;
			continue;
		} else if (n > 0) {
			rd->rd_pending += (size_t)n;
			rd->rd_bytes += (uint64_t)n;
		}
		if (n > 0) {
			moved = 1;
			drained = (size_t)n < want;
			if (rd->rd_pending == 0 && drained)
				break;
		} else if (n == 0)
			rd->rd_eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			goto fail;
		else
			break;
	}
	if (moved)
		rl->rl_last = relay_now(rl);
	/* EOF may have come on the last round. */
	if (rd->rd_eof && rd->rd_pending == 0 && !rd->rd_done)
		relay_dir_done(rd);
	if (rl->rl_up.rd_done && rl->rl_down.rd_done) {
		relay_end(rl, RELAY_DONE, "done");
		return -1;
	}
	relay_watch(rd->rd_wev, &rd->rd_wev_on, rd->rd_pending > 0);
	if (!rd->rd_fin_wait)
		relay_watch(rd->rd_rev, &rd->rd_rev_on, !rd->rd_eof &&
		    relay_room(rd) > 0);
	return 0;
fail:
	relay_end(rl, RELAY_ERROR, "%s: %s", rd == &rl->rl_up ?
	    "client to server" : "server to client", strerror(errno));
	return -1;
}

/* A source is readable or a destination writable. */
static void
relay_io_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)relay_pump(arg);
}

/* The periodic idle check. */
static void
relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay	*rl = arg;
	struct timeval	 tv;
	int64_t		 idle, left;

	(void)fd;
	(void)what;
	idle = relay_now(rl) - rl->rl_last;
	left = (int64_t)rl->rl_conf->sc_idle_timeout * 1000 - idle;
	if (left <= 0) {
		relay_end(rl, RELAY_IDLE, "idle for %lld ms", (long long)idle);
		return;
	}
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	(void)evtimer_add(rl->rl_idle, &tv);
}

/* Set up one direction from <src> to <dst>. */
static int
relay_dir_init(struct relay *rl, struct relay_dir *rd, int src, int dst)
{
	rd->rd_relay = rl;
	rd->rd_src = src;
	rd->rd_dst = dst;
	rd->rd_rev = event_new(rl->rl_base, src, EV_READ | EV_PERSIST,
	    relay_io_cb, rd);
	rd->rd_wev = event_new(rl->rl_base, dst, EV_WRITE | EV_PERSIST,
	    relay_io_cb, rd);
	if (rd->rd_rev == NULL || rd->rd_wev == NULL)
		return -1;
	return 0;
}

struct relay *
relay_tcp_start(struct event_base *base, int client, int server,
    const struct service_conf *sc, relay_done_cb done, void *arg)
{
	struct relay	*rl;
	struct timeval	 tv = { sc->sc_idle_timeout, 0 };
	int		 one = 1;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	rl->rl_base = base;
	rl->rl_conf = sc;
	rl->rl_client = client;
	rl->rl_server = server;
	rl->rl_up.rd_pipe[0] = rl->rl_up.rd_pipe[1] = -1;
	rl->rl_down.rd_pipe[0] = rl->rl_down.rd_pipe[1] = -1;
	rl->rl_done = done;
	rl->rl_arg = arg;
	rl->rl_last = relay_now(rl);
	(void)setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (relay_dir_init(rl, &rl->rl_up, client, server) == -1 ||
	    relay_dir_init(rl, &rl->rl_down, server, client) == -1)
		goto fail;
	if (sc->sc_idle_timeout > 0 && ((rl->rl_idle = evtimer_new(base,
	    relay_idle_cb, rl)) == NULL || evtimer_add(rl->rl_idle, &tv) == -1))
		goto fail;
	/* Only watch here: done must not run before the caller has <rl>. */
	relay_watch(rl->rl_up.rd_rev, &rl->rl_up.rd_rev_on, 1);
	relay_watch(rl->rl_down.rd_rev, &rl->rl_down.rd_rev_on, 1);
	return rl;
fail:
	rl->rl_client = rl->rl_server = -1;
	relay_tcp_free(rl);
	return NULL;
}
