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
 *
 * The sockets are in the worker's own epoll set (relay_epoll.c), each
 * registered once, edge-triggered, for reading and writing; the target's
 * since its connect (relay_connect.c hands the registration over), and
 * neither is deleted before its close: two epoll_ctl per forwarded
 * connection in all.  Each socket keeps what epoll said of it: readable
 * until a read says EAGAIN or comes back short (unless the peer's FIN was
 * reported: then the next read gives the EOF), writable until a write
 * does.  A splice into the pipe that comes back short or says EAGAIN
 * proves nothing (the pipe may be full), so the source stays readable
 * then.  A direction that ends its RELAY_ROUNDS with work left, or whose
 * short read left only the peer's EOF to read, posts itself for the next
 * turn of the loop (relay_epoll_post()), since no new edge would come.
 */
#include <sys/types.h>
#include <sys/epoll.h>
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
#include "relay_epoll.h"
#include "relay_tcp.h"
#include "sockaddr.h"

#define RELAY_ROUNDS	16	/* transfers per wake-up, then yield */

/* What epoll said of one socket, until a call said otherwise. */
struct relay_sock {
	struct relay	*rs_relay;
	uint64_t	 rs_id;		/* its registration, or 0 */
	int		 rs_fd;
	int		 rs_in;		/* a read will not block */
	int		 rs_out;	/* a write will not block */
	int		 rs_fin;	/* the peer's FIN (or an error) came */
};

struct relay_dir {
	struct relay	*rd_relay;
	struct relay_sock *rd_in;	/* the source */
	struct relay_sock *rd_out;	/* the destination */
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
	struct event	*rd_fin;	/* the half-close, run later */
};

struct relay {
	struct event_base		*rl_base;
	struct relay_epoll		*rl_ep;
	const struct service_conf	*rl_conf;
	struct relay_sock		 rl_client;
	struct relay_sock		 rl_server;
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
	if (rd->rd_fin != NULL)
		event_free(rd->rd_fin);
	if (rd->rd_pipe[0] != -1) {
		(void)close(rd->rd_pipe[0]);
		(void)close(rd->rd_pipe[1]);
		fdbudget_release(2);
	}
	free(rd->rd_buf);
}

/*
 * Close a socket of the relay.  Its registration is only forgotten: the
 * close takes it out of the epoll set, as nothing else refers to it.
 */
static void
relay_sock_close(struct relay *rl, struct relay_sock *rs)
{
	if (rs->rs_id != 0)
		relay_epoll_forget(rl->rl_ep, rs->rs_id);
	if (rs->rs_fd != -1)
		(void)close(rs->rs_fd);
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
	relay_sock_close(rl, &rl->rl_client);
	relay_sock_close(rl, &rl->rl_server);
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
	rd->rd_out->rs_out = 0;		/* full: EPOLLOUT will say */
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

/* Shut <rd>'s destination down for writing. */
static void
relay_dir_fin(struct relay_dir *rd)
{
	(void)shutdown(rd->rd_dst, SHUT_WR);
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
 * the half-close waits until the events that the same epoll_wait()
 * reported have run: when the other
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
	event_active(rd->rd_fin, EV_TIMEOUT, 1);
}

/* Could <rd> move something now? */
static int
relay_dir_busy(struct relay_dir *rd)
{
	if (rd->rd_pending > 0 && rd->rd_out->rs_out)
		return 1;
	if (rd->rd_eof)
		return rd->rd_pending == 0 && !rd->rd_done;
	return rd->rd_in->rs_in && relay_room(rd) > 0;
}

/*
 * Move what can be moved in direction <rd>: flush while the destination
 * takes bytes, read while the source has some and there is room.  Returns
 * -1 if the relay ended (it is freed then).
 */
static int
relay_pump(struct relay_dir *rd)
{
	struct relay	*rl = rd->rd_relay;
	ssize_t		 n;
	size_t		 want, asked;
	int		 round, moved = 0, spliced, drained = 0;

	for (round = 0; round < RELAY_ROUNDS; round++) {
		if (rd->rd_pending > 0 && rd->rd_out->rs_out) {
			want = rd->rd_pending;
			if ((n = relay_flush(rd)) > 0) {
				rd->rd_pending -= (size_t)n;
				moved = 1;
				/* Short: the destination is full. */
				if ((size_t)n < want)
					rd->rd_out->rs_out = 0;
				if (rd->rd_pending == 0 && rd->rd_unsplice &&
				    relay_dir_unsplice(rd) == -1)
					goto fail;
				if (rd->rd_pending == 0 && drained)
					break;
				continue;
			}
			if (errno == EAGAIN)
				rd->rd_out->rs_out = 0;
			else if (errno != EINTR)
				goto fail;
			/* The destination is full: read while there is room. */
		}
		if (rd->rd_eof) {
			if (rd->rd_pending == 0 && !rd->rd_done)
				relay_dir_done(rd);
			break;
		}
		if (!rd->rd_in->rs_in || (want = relay_room(rd)) == 0)
			break;
		spliced = 0;
		asked = want;
		if (!rd->rd_bulk && rd->rd_pending == 0) {
			asked = RELAY_BUFSZ;
			n = relay_copy(rd);
		} else if ((n = relay_fill(rd)) == -1 && errno == EINVAL &&
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
		} else {
			spliced = rd->rd_pipe[0] != -1;
			if (n > 0) {
				rd->rd_pending += (size_t)n;
				rd->rd_bytes += (uint64_t)n;
			}
		}
		if (n > 0) {
			moved = 1;
			/*
			 * A short read emptied the socket: the next would
			 * only say EAGAIN, or EOF if the peer's FIN came.  A
			 * short splice may mean a full pipe instead.
			 */
			if ((size_t)n < asked && !spliced) {
				drained = 1;
				rd->rd_in->rs_in = rd->rd_in->rs_fin;
				if (rd->rd_pending == 0)
					break;
			}
		} else if (n == 0)
			rd->rd_eof = 1;
		else if (errno != EAGAIN && errno != EINTR)
			goto fail;
		else {
			/* Into a pipe that holds bytes, EAGAIN proves nothing. */
			if (errno == EAGAIN && (!spliced || rd->rd_pending == 0))
				rd->rd_in->rs_in = 0;
			break;
		}
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
	/*
	 * Work left that no new edge would bring back: out of rounds, or
	 * the EOF behind a short read.  That EOF is read on the next turn,
	 * after the loop has polled again, as it was when libevent reported
	 * the source again: the other side's EOF, when a client closes at
	 * the end of a response, comes with that wake-up, and the relay
	 * ends without a shutdown(2) (relay_dir_done()).
	 */
	if ((round == RELAY_ROUNDS || drained) && relay_dir_busy(rd))
		relay_epoll_post(rl->rl_ep, rd->rd_in->rs_id);
	return 0;
fail:
	relay_end(rl, RELAY_ERROR, "%s: %s", rd == &rl->rl_up ?
	    "client to server" : "server to client", strerror(errno));
	return -1;
}

/*
 * epoll reported <events> on a socket (0: the relay posted itself): note
 * them, then pump the direction it is the source of, and the other.
 */
static void
relay_sock_cb(void *arg, uint32_t events)
{
	struct relay_sock	*rs = arg;
	struct relay		*rl = rs->rs_relay;
	struct relay_dir	*first;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		rs->rs_in = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		rs->rs_fin = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		rs->rs_out = 1;
	first = rs == &rl->rl_client ? &rl->rl_up : &rl->rl_down;
	if (relay_pump(first) == -1)
		return;
	(void)relay_pump(first == &rl->rl_up ? &rl->rl_down : &rl->rl_up);
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
static void
relay_dir_init(struct relay *rl, struct relay_dir *rd, struct relay_sock *src,
    struct relay_sock *dst)
{
	rd->rd_relay = rl;
	rd->rd_in = src;
	rd->rd_out = dst;
	rd->rd_src = src->rs_fd;
	rd->rd_dst = dst->rs_fd;
	rd->rd_pipe[0] = rd->rd_pipe[1] = -1;
}

/*
 * A socket of the relay: writable until a write says otherwise, readable
 * once epoll says so (its ADD reports what is there already).
 */
static void
relay_sock_init(struct relay *rl, struct relay_sock *rs, int fd)
{
	rs->rs_relay = rl;
	rs->rs_fd = fd;
	rs->rs_out = 1;
}

/*
 * Register the sockets: the target's registration from its connect if
 * relay_connect.c offers it (with what epoll reported meanwhile: the
 * target may have spoken), else a new one; the client's.  0 or -1.
 */
static int
relay_register(struct relay *rl)
{
	struct relay_sock	*srv = &rl->rl_server, *cli = &rl->rl_client;
	uint32_t		 seen = 0;

	srv->rs_id = relay_epoll_claim(rl->rl_ep, srv->rs_fd, relay_sock_cb,
	    srv, &seen);
	if (srv->rs_id == 0 && (srv->rs_id = relay_epoll_add(rl->rl_ep,
	    srv->rs_fd, relay_sock_cb, srv)) == 0)
		return -1;
	srv->rs_in = (seen & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
	    EPOLLERR)) != 0;
	srv->rs_fin = (seen & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
	cli->rs_id = relay_epoll_add(rl->rl_ep, cli->rs_fd, relay_sock_cb,
	    cli);
	return cli->rs_id == 0 ? -1 : 0;
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
	rl->rl_done = done;
	rl->rl_arg = arg;
	rl->rl_last = relay_now(rl);
	relay_sock_init(rl, &rl->rl_client, client);
	relay_sock_init(rl, &rl->rl_server, server);
	relay_dir_init(rl, &rl->rl_up, &rl->rl_client, &rl->rl_server);
	relay_dir_init(rl, &rl->rl_down, &rl->rl_server, &rl->rl_client);
	(void)setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((rl->rl_ep = relay_epoll_get(base)) == NULL)
		goto fail;
	if (sc->sc_idle_timeout > 0 && ((rl->rl_idle = evtimer_new(base,
	    relay_idle_cb, rl)) == NULL || evtimer_add(rl->rl_idle, &tv) == -1))
		goto fail;
	/* Events come from the loop only: done runs after this returns. */
	if (relay_register(rl) == -1)
		goto fail;
	return rl;
fail:
	/* The sockets stay the caller's, out of the set. */
	if (rl->rl_ep != NULL) {
		relay_epoll_del(rl->rl_ep, rl->rl_client.rs_id);
		relay_epoll_del(rl->rl_ep, rl->rl_server.rs_id);
	}
	rl->rl_client.rs_id = rl->rl_server.rs_id = 0;
	rl->rl_client.rs_fd = rl->rl_server.rs_fd = -1;
	relay_tcp_free(rl);
	return NULL;
}
