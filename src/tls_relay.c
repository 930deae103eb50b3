/*
 * The relay of a TLS client to a plain target, on the SSL and the two
 * sockets directly.  An OpenSSL bufferevent costs a connection about 20
 * epoll_ctl calls (its events are enabled and disabled around every
 * write, which also waits a loop turn for EPOLLOUT) and two read calls per
 * record; a client that makes one short request per connection (wrk with
 * "Connection: close", resuming its session each time) paid that on every
 * request.  Here each direction is written as soon as it is read, with
 * OpenSSL's read-ahead (one read per flight: the loop reads until OpenSSL
 * wants more from the socket, so nothing waits in its buffer); a socket is
 * watched for writing only while a write is blocked, and a direction stops
 * reading while its pending bytes (at most one read) are not out.
 * Pending bytes live in a buffer allocated only then: an idle session
 * holds none.  What OpenSSL writes during one turn (a response, then the
 * close_notify after the target's EOF; the records of a 64 KiB read) is
 * gathered by our own BIO and sent in one write at the end of the turn:
 * one segment, one wake-up of the client, rather than one per record.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "tls.h"
#include "tls_relay.h"

#define TLS_RELAY_READ	16384	/* a TLS record's worth */
#define TLS_RELAY_WHY	128
#define TLS_RELAY_WIRE	(2 * RELAY_BUFSZ)	/* gathered before a send */

struct tr_pending {
	char	*tp_buf;	/* NULL when nothing is pending */
	size_t	 tp_off;
	size_t	 tp_len;
};

struct tls_relay {
	SSL			*tr_ssl;
	int			 tr_cfd;
	int			 tr_sfd;
	struct event		*tr_cr, *tr_cw;	/* the client socket */
	struct event		*tr_sr, *tr_sw;	/* the target socket */
	struct event		*tr_idle;
	int			 tr_idlesecs;
	time_t			 tr_last;
	struct tr_pending	 tr_up;		/* client → target */
	struct tr_pending	 tr_down;	/* target → client */
	struct tr_pending	 tr_wire;	/* TLS records to send */
	short			 tr_rwant;	/* what SSL_read waits for */
	short			 tr_wwant;	/* what SSL_write waits for */
	int			 tr_ceof;	/* close_notify or EOF read */
	int			 tr_seof;
	int			 tr_cshut;	/* close_notify sent */
	int			 tr_sshut;	/* shutdown(SHUT_WR) done */
	uint64_t		 tr_in;
	uint64_t		 tr_out;
	relay_done_cb		 tr_done;
	void			*tr_arg;
};

static void
tls_relay_pending_free(struct tr_pending *tp)
{
	free(tp->tp_buf);
	tp->tp_buf = NULL;
	tp->tp_off = tp->tp_len = 0;
}

/* Keep <len> bytes of <data> for later; 0 or -1. */
static int
tls_relay_keep(struct tr_pending *tp, const char *data, size_t len)
{
	if ((tp->tp_buf = malloc(len)) == NULL)
		return -1;
	memcpy(tp->tp_buf, data, len);
	tp->tp_off = 0;
	tp->tp_len = len;
	return 0;
}

/* <n> bytes of <tp> went out. */
static void
tls_relay_sent(struct tr_pending *tp, size_t n)
{
	tp->tp_off += n;
	tp->tp_len -= n;
	if (tp->tp_len == 0)
		tls_relay_pending_free(tp);
}

/* Free the events (before the sockets close), then the buffers. */
static void
tls_relay_release(struct tls_relay *tr, int events)
{
	struct event	**evs[] = { &tr->tr_cr, &tr->tr_cw, &tr->tr_sr,
			    &tr->tr_sw, &tr->tr_idle };
	size_t		  i;

	if (events) {
		for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
			if (*evs[i] != NULL) {
				event_free(*evs[i]);
				*evs[i] = NULL;
			}
		return;
	}
	tls_relay_pending_free(&tr->tr_up);
	tls_relay_pending_free(&tr->tr_down);
	tls_relay_pending_free(&tr->tr_wire);
}

/* Send the gathered records: 1 when all went, 0 when blocked, -1. */
static int
tls_relay_flush(struct tls_relay *tr)
{
	struct tr_pending	*tp = &tr->tr_wire;
	ssize_t			 n;

	if (tp->tp_len == 0)
		return 1;
	if ((n = write(tr->tr_cfd, tp->tp_buf + tp->tp_off, tp->tp_len)) ==
	    -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	tls_relay_sent(tp, (size_t)n);
	return tp->tp_len == 0;
}

/* OpenSSL writes a record: gathered, sent at the end of the turn. */
static int
tls_relay_bio_write(BIO *bio, const char *data, int len)
{
	struct tls_relay	*tr = BIO_get_data(bio);
	struct tr_pending	*tp = &tr->tr_wire;
	char			*nb;

	BIO_clear_retry_flags(bio);
	if (len <= 0)
		return 0;
	if (tp->tp_len >= TLS_RELAY_WIRE) {
		if (tls_relay_flush(tr) == -1)
			return -1;
		if (tp->tp_len >= TLS_RELAY_WIRE) {
			BIO_set_retry_write(bio);
			return -1;
		}
	}
	if (tp->tp_off > 0) {
		memmove(tp->tp_buf, tp->tp_buf + tp->tp_off, tp->tp_len);
		tp->tp_off = 0;
	}
	if ((nb = realloc(tp->tp_buf, tp->tp_len + (size_t)len)) == NULL)
		return -1;
	memcpy(nb + tp->tp_len, data, (size_t)len);
	tp->tp_buf = nb;
	tp->tp_len += (size_t)len;
	return len;
}

static long
tls_relay_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct tls_relay	*tr = BIO_get_data(bio);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* at the end of the turn */
	case BIO_CTRL_WPENDING:
		return (long)tr->tr_wire.tp_len;
	default:
		return 0;
	}
}

/* The BIO method of the client socket's writes, made once. */
static BIO_METHOD *
tls_relay_bio_method(void)
{
	static BIO_METHOD	*meth;

	if (meth != NULL)
		return meth;
	if ((meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "portgate relay")) == NULL)
		return NULL;
	if (BIO_meth_set_write(meth, tls_relay_bio_write) != 1 ||
	    BIO_meth_set_ctrl(meth, tls_relay_bio_ctrl) != 1) {
		BIO_meth_free(meth);
		meth = NULL;
	}
	return meth;
}

void
tls_relay_free(struct tls_relay *tr, int notify)
{
	if (tr == NULL)
		return;
	tls_relay_release(tr, 1);
	if (notify && !tr->tr_cshut && tr->tr_down.tp_len == 0) {
		(void)SSL_shutdown(tr->tr_ssl);
		ERR_clear_error();
	}
	(void)tls_relay_flush(tr);	/* one try: the socket closes now */
	tls_free(tr->tr_ssl, tr->tr_cfd, 0);
	(void)close(tr->tr_sfd);
	tls_relay_release(tr, 0);
	free(tr);
}

void
tls_relay_counts(const struct tls_relay *tr, uint64_t *in, uint64_t *out)
{
	*in = tr->tr_in;
	*out = tr->tr_out;
}

/* End: report, then free. */
static void
tls_relay_end(struct tls_relay *tr, enum relay_end end, const char *why)
{
	relay_done_cb	 done = tr->tr_done;
	void		*arg = tr->tr_arg;
	uint64_t	 in = tr->tr_in, out = tr->tr_out;

	tls_relay_free(tr, end == RELAY_IDLE);
	done(arg, end, why, in, out);
}

/* Watch <ev> or not. */
static void
tls_relay_watch(struct event *ev, int on)
{
	if (on && !event_pending(ev, EV_READ | EV_WRITE, NULL))
		(void)event_add(ev, NULL);
	else if (!on && event_pending(ev, EV_READ | EV_WRITE, NULL))
		(void)event_del(ev);
}

/* What an SSL call that returned <r> waits for: EV_READ, EV_WRITE or 0. */
static short
tls_relay_want(struct tls_relay *tr, int r)
{
	switch (SSL_get_error(tr->tr_ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return EV_READ;
	case SSL_ERROR_WANT_WRITE:
		return EV_WRITE;
	default:
		ERR_clear_error();
		return 0;
	}
}

/* Why the relay ends, into <why>: "<side>: <errno's text>". */
static void
tls_relay_why(char *why, const char *side)
{
	(void)snprintf(why, TLS_RELAY_WHY, "%s: %s", side, errno != 0 ?
	    strerror(errno) : "TLS error");
}

/* Client to target; <why> set when the relay must end. */
static void
tls_relay_up(struct tls_relay *tr, char *why)
{
	char	 buf[TLS_RELAY_READ];
	ssize_t	 w;
	int	 n, err;

	if (tr->tr_up.tp_len > 0) {
		w = write(tr->tr_sfd, tr->tr_up.tp_buf + tr->tr_up.tp_off,
		    tr->tr_up.tp_len);
		if (w == -1 && errno != EAGAIN && errno != EINTR) {
			tls_relay_why(why, "server");
			return;
		}
		if (w > 0)
			tls_relay_sent(&tr->tr_up, (size_t)w);
	}
	while (tr->tr_up.tp_len == 0 && !tr->tr_ceof) {
		errno = 0;
		if ((n = SSL_read(tr->tr_ssl, buf, sizeof(buf))) <= 0) {
			err = SSL_get_error(tr->tr_ssl, n);
			if (err == SSL_ERROR_ZERO_RETURN)
				tr->tr_ceof = 1;
			else if ((tr->tr_rwant = tls_relay_want(tr, n)) == 0)
				tls_relay_why(why, "client");
			break;
		}
		tr->tr_in += (uint64_t)n;
		tr->tr_last = time(NULL);
		if ((w = write(tr->tr_sfd, buf, (size_t)n)) == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				tls_relay_why(why, "server");
				return;
			}
			w = 0;
		}
		if (w < n && tls_relay_keep(&tr->tr_up, buf + w,
		    (size_t)(n - w)) == -1) {
			(void)strlcpy(why, "out of memory", TLS_RELAY_WHY);
			return;
		}
	}
	if (tr->tr_ceof && tr->tr_up.tp_len == 0 && !tr->tr_sshut) {
		tr->tr_sshut = 1;
		/* Unless the relay ends now: close() says it then. */
		if (!tr->tr_seof || !tr->tr_cshut)
			(void)shutdown(tr->tr_sfd, SHUT_WR);
	}
}

/* SSL_write of <len> bytes of <data>: how many went; -1 sets <why>. */
static ssize_t
tls_relay_write(struct tls_relay *tr, const char *data, size_t len,
    char *why)
{
	int	n;

	if ((n = SSL_write(tr->tr_ssl, data, (int)len)) > 0)
		return n;
	if ((tr->tr_wwant = tls_relay_want(tr, n)) == 0) {
		(void)strlcpy(why, "client gone", TLS_RELAY_WHY);
		return -1;
	}
	return 0;
}

/* Target to client; <why> set when the relay must end. */
static void
tls_relay_down(struct tls_relay *tr, char *why)
{
	char	 buf[RELAY_BUFSZ];
	ssize_t	 n, w;

	if (tr->tr_down.tp_len > 0) {
		if ((w = tls_relay_write(tr, tr->tr_down.tp_buf +
		    tr->tr_down.tp_off, tr->tr_down.tp_len, why)) == -1)
			return;
		tls_relay_sent(&tr->tr_down, (size_t)w);
	}
	while (tr->tr_down.tp_len == 0 && !tr->tr_seof) {
		if ((n = read(tr->tr_sfd, buf, sizeof(buf))) == 0)
			tr->tr_seof = 1;
		else if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				tls_relay_why(why, "server");
			break;
		} else {
			tr->tr_out += (uint64_t)n;
			tr->tr_last = time(NULL);
			if ((w = tls_relay_write(tr, buf, (size_t)n, why)) ==
			    -1)
				return;
			/* A retry may pass the same bytes from elsewhere. */
			if (w < n && tls_relay_keep(&tr->tr_down, buf + w,
			    (size_t)(n - w)) == -1) {
				(void)strlcpy(why, "out of memory",
				    TLS_RELAY_WHY);
				return;
			}
		}
	}
	if (tr->tr_seof && tr->tr_down.tp_len == 0 && !tr->tr_cshut) {
		tr->tr_cshut = 1;
		(void)SSL_shutdown(tr->tr_ssl);
		ERR_clear_error();
	}
}

/* Move what can be moved both ways, then watch what blocks. */
static void
tls_relay_pump(struct tls_relay *tr)
{
	char	why[TLS_RELAY_WHY] = "";
	short	c = 0;
	int	flushed = 0;

	tls_relay_up(tr, why);
	if (why[0] == '\0')
		tls_relay_down(tr, why);
	if (why[0] == '\0' && (flushed = tls_relay_flush(tr)) == -1)
		tls_relay_why(why, "client");
	if (why[0] != '\0') {
		tls_relay_end(tr, RELAY_ERROR, why);
		return;
	}
	if (tr->tr_ceof && tr->tr_seof && tr->tr_cshut && tr->tr_sshut &&
	    flushed) {
		tls_relay_end(tr, RELAY_DONE, "done");
		return;
	}
	if (!tr->tr_ceof && tr->tr_up.tp_len == 0)
		c |= tr->tr_rwant;
	if (tr->tr_down.tp_len > 0)
		c |= tr->tr_wwant;
	if (!flushed)
		c |= EV_WRITE;
	tls_relay_watch(tr->tr_cr, c & EV_READ);
	tls_relay_watch(tr->tr_cw, c & EV_WRITE);
	tls_relay_watch(tr->tr_sr, !tr->tr_seof && tr->tr_down.tp_len == 0);
	tls_relay_watch(tr->tr_sw, tr->tr_up.tp_len > 0);
}

static void
tls_relay_io_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tls_relay_pump(arg);
}

/* The periodic idle check. */
static void
tls_relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_relay	*tr = arg;
	struct timeval		 tv = { 0, 0 };
	time_t			 idle = time(NULL) - tr->tr_last;

	(void)fd;
	(void)what;
	if (idle >= tr->tr_idlesecs) {
		tls_relay_end(tr, RELAY_IDLE, "idle timeout");
		return;
	}
	tv.tv_sec = tr->tr_idlesecs - idle;
	(void)evtimer_add(tr->tr_idle, &tv);
}

struct tls_relay *
tls_relay_start(struct event_base *base, struct ssl_st *ssl, int cfd,
    int sfd, int idle, relay_done_cb done, void *arg)
{
	struct tls_relay	*tr;
	struct timeval		 tv = { idle, 0 };
	BIO_METHOD		*meth;
	BIO			*bio;

	if ((meth = tls_relay_bio_method()) == NULL ||
	    (tr = calloc(1, sizeof(*tr))) == NULL)
		goto fail;
	tr->tr_ssl = ssl;
	tr->tr_cfd = cfd;
	tr->tr_sfd = sfd;
	tr->tr_done = done;
	tr->tr_arg = arg;
	tr->tr_idlesecs = idle;
	tr->tr_last = time(NULL);
	tr->tr_rwant = EV_READ;
	tr->tr_wwant = EV_WRITE;
	if ((tr->tr_cr = event_new(base, cfd, EV_READ | EV_PERSIST,
	    tls_relay_io_cb, tr)) == NULL ||
	    (tr->tr_cw = event_new(base, cfd, EV_WRITE | EV_PERSIST,
	    tls_relay_io_cb, tr)) == NULL ||
	    (tr->tr_sr = event_new(base, sfd, EV_READ | EV_PERSIST,
	    tls_relay_io_cb, tr)) == NULL ||
	    (tr->tr_sw = event_new(base, sfd, EV_WRITE | EV_PERSIST,
	    tls_relay_io_cb, tr)) == NULL ||
	    (idle > 0 && ((tr->tr_idle = evtimer_new(base, tls_relay_idle_cb,
	    tr)) == NULL || evtimer_add(tr->tr_idle, &tv) == -1))) {
		tls_relay_release(tr, 1);
		free(tr);
		goto fail;
	}
	/*
	 * Read-ahead is safe here (not under a bufferevent): SSL_read is
	 * called until it wants the socket.  A half-closed client (EOF
	 * without close_notify) is an EOF, as it was under the bufferevent.
	 */
	if ((bio = BIO_new(meth)) == NULL) {
		tls_relay_release(tr, 1);
		free(tr);
		goto fail;
	}
	BIO_set_data(bio, tr);
	BIO_set_init(bio, 1);
	SSL_set0_wbio(ssl, bio);	/* the socket BIO still reads */
	SSL_set_read_ahead(ssl, 1);
	(void)SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	(void)SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* The request may have come with the handshake: start from the loop. */
	event_active(tr->tr_cr, EV_READ, 0);
	return tr;
fail:
	tls_free(ssl, cfd, 0);
	(void)close(sfd);
	return NULL;
}
