/*
 * Relaying between bufferevents, for the sessions that TLS terminates.
 * A side stops reading while the other side's output holds RELAY_BUFSZ
 * bytes and resumes when it has drained below half (le-proxy's watermark
 * scheme).  EOF on one side is passed on once its data is out: shutdown()
 * for a plain socket, close_notify for TLS.  The relay ends when both
 * directions are done.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "relay_bev.h"
#include "tls.h"

struct bev_side {
	struct bev_relay	*bs_relay;
	struct bufferevent	*bs_bev;
	struct bev_side		*bs_peer;
	struct event		*bs_rev;	/* plain side: our own reads */
	int			 bs_eof;	/* read EOF from this side */
	int			 bs_shut;	/* this side's write end closed */
	uint64_t		 bs_bytes;	/* read from this side */
};

struct bev_relay {
	struct bev_side	 br_client;
	struct bev_side	 br_server;
	struct event	*br_idle;
	int		 br_idlesecs;
	time_t		 br_last;
	relay_done_cb	 br_done;
	void		*br_arg;
};

void
relay_bev_free(struct bev_relay *br)
{
	if (br == NULL)
		return;
	if (br->br_idle != NULL)
		event_free(br->br_idle);
	if (br->br_server.bs_rev != NULL)
		event_free(br->br_server.bs_rev);
	bufferevent_free(br->br_client.bs_bev);
	bufferevent_free(br->br_server.bs_bev);
	free(br);
}

void
relay_bev_counts(const struct bev_relay *br, uint64_t *in, uint64_t *out)
{
	*in = br->br_client.bs_bytes;
	*out = br->br_server.bs_bytes;
}

static void	relay_bev_shut(struct bev_side *);

/*
 * An end decided here (idle, shutdown) rather than by an error: a TLS
 * client that has been sent everything gets close_notify, so that it can
 * tell this end from a cut.
 */
static void
relay_bev_notify(struct bev_relay *br)
{
	struct bev_side	*bs = &br->br_client;

	if (!bs->bs_shut &&
	    evbuffer_get_length(bufferevent_get_output(bs->bs_bev)) == 0)
		relay_bev_shut(bs);
}

void
relay_bev_close(struct bev_relay *br)
{
	if (br == NULL)
		return;
	relay_bev_notify(br);
	relay_bev_free(br);
}

/* End: report, then free. */
static void
relay_bev_end(struct bev_relay *br, enum relay_end end, const char *why)
{
	relay_done_cb	 done = br->br_done;
	void		*arg = br->br_arg;
	uint64_t	 in = br->br_client.bs_bytes, out = br->br_server.bs_bytes;

	if (end == RELAY_IDLE)
		relay_bev_notify(br);
	relay_bev_free(br);
	done(arg, end, why, in, out);
}

/* Start or stop reading from <bs>. */
static void
relay_bev_reading(struct bev_side *bs, int on)
{
	if (bs->bs_rev != NULL) {
		if (on)
			(void)event_add(bs->bs_rev, NULL);
		else
			(void)event_del(bs->bs_rev);
	} else if (on)
		(void)bufferevent_enable(bs->bs_bev, EV_READ);
	else
		(void)bufferevent_disable(bs->bs_bev, EV_READ);
}

/* Close the write end of <bs>: close_notify for TLS, else shutdown(). */
static void
relay_bev_shut(struct bev_side *bs)
{
	bs->bs_shut = 1;
	if (bufferevent_openssl_get_ssl(bs->bs_bev) != NULL)
		tls_close_notify(bs->bs_bev);
	else
		(void)shutdown(bufferevent_getfd(bs->bs_bev), SHUT_WR);
}

/* Pass an EOF of <bs> on once the peer's output is empty; 1 if ended. */
static int
relay_bev_settle(struct bev_relay *br, struct bev_side *bs)
{
	struct bev_side	*peer = bs->bs_peer;

	if (bs->bs_eof && !peer->bs_shut &&
	    evbuffer_get_length(bufferevent_get_output(peer->bs_bev)) == 0)
		relay_bev_shut(peer);
	if (br->br_client.bs_eof && br->br_server.bs_eof &&
	    br->br_client.bs_shut && br->br_server.bs_shut) {
		relay_bev_end(br, RELAY_DONE, "done");
		return 1;
	}
	return 0;
}

/* <len> bytes from <bs> were queued on the peer: pause if it is full. */
static void
relay_bev_queued(struct bev_side *bs, size_t len)
{
	struct bufferevent	*peer = bs->bs_peer->bs_bev;

	bs->bs_bytes += len;
	bs->bs_relay->br_last = time(NULL);
	if (evbuffer_get_length(bufferevent_get_output(peer)) >= RELAY_BUFSZ) {
		relay_bev_reading(bs, 0);
		bufferevent_setwatermark(peer, EV_WRITE, RELAY_BUFSZ / 2, 0);
	}
}

/* Data from <bs>: move it to the peer. */
static void
relay_bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct bev_side	*bs = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 len = evbuffer_get_length(in);

	(void)evbuffer_add_buffer(bufferevent_get_output(bs->bs_peer->bs_bev),
	    in);
	relay_bev_queued(bs, len);
}

/* The output of <bs> drained (below its low mark, or empty). */
static void
relay_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct bev_side	*bs = arg;

	(void)bev;
	if (!bs->bs_peer->bs_eof)
		relay_bev_reading(bs->bs_peer, 1);
	bufferevent_setwatermark(bs->bs_bev, EV_WRITE, 0, 0);
	(void)relay_bev_settle(bs->bs_relay, bs->bs_peer);
}

/* EOF or error on <bs>. */
static void
relay_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bev_side	*bs = arg;
	char		 why[128];

	/* Writing to a side that is gone (EPIPE is reported as EOF). */
	if ((what & BEV_EVENT_EOF) && ((what & BEV_EVENT_WRITING) ||
	    bs->bs_eof)) {
		relay_bev_end(bs->bs_relay, RELAY_ERROR, bs ==
		    &bs->bs_relay->br_client ? "client gone" : "server gone");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		bs->bs_eof = 1;
		relay_bev_reading(bs, 0);
		/*
		 * The OpenSSL bufferevent stops writing when it reports EOF:
		 * what is still queued for this side must go out all the same.
		 */
		if (!bs->bs_shut)
			(void)bufferevent_enable(bev, EV_WRITE);
		(void)relay_bev_settle(bs->bs_relay, bs);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		(void)snprintf(why, sizeof(why), "%s: %s",
		    bs == &bs->bs_relay->br_client ? "client" : "server",
		    (what & BEV_EVENT_TIMEOUT) ? "timeout" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		relay_bev_end(bs->bs_relay, RELAY_ERROR, why);
	}
}

/*
 * The plain side is read here rather than by its bufferevent, which
 * libevent 2.1 limits to 4 KiB a read (and so to 4 KiB TLS records the
 * other way): up to RELAY_BUFSZ straight into the peer's output.
 */
static void
relay_bev_plain_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bev_side		*bs = arg;
	struct evbuffer		*out = bufferevent_get_output(bs->bs_peer->bs_bev);
	struct evbuffer_iovec	 vec[2];
	ssize_t			 n;
	int			 nvec;

	(void)what;
	if ((nvec = evbuffer_reserve_space(out, RELAY_BUFSZ, vec, 2)) <= 0) {
		relay_bev_end(bs->bs_relay, RELAY_ERROR, "out of memory");
		return;
	}
	n = readv(fd, (struct iovec *)vec, nvec);
	if (n > 0) {
		if (vec[0].iov_len >= (size_t)n) {
			vec[0].iov_len = (size_t)n;
			nvec = 1;
		} else
			vec[1].iov_len = (size_t)n - vec[0].iov_len;
		if (evbuffer_commit_space(out, vec, nvec) == -1) {
			relay_bev_end(bs->bs_relay, RELAY_ERROR,
			    "out of memory");
			return;
		}
		relay_bev_queued(bs, (size_t)n);
	} else if (n == 0)
		relay_bev_event_cb(bs->bs_bev, BEV_EVENT_READING |
		    BEV_EVENT_EOF, bs);
	else if (errno != EAGAIN && errno != EINTR)
		relay_bev_event_cb(bs->bs_bev, BEV_EVENT_READING |
		    BEV_EVENT_ERROR, bs);
}

/* The periodic idle check. */
static void
relay_bev_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bev_relay	*br = arg;
	struct timeval		 tv = { 0, 0 };
	time_t			 idle = time(NULL) - br->br_last;

	(void)fd;
	(void)what;
	if (idle >= br->br_idlesecs) {
		relay_bev_end(br, RELAY_IDLE, "idle timeout");
		return;
	}
	tv.tv_sec = br->br_idlesecs - idle;
	(void)evtimer_add(br->br_idle, &tv);
}

struct bev_relay *
relay_bev_start(struct event_base *base, struct bufferevent *client,
    struct bufferevent *server, int idle, relay_done_cb done, void *arg)
{
	struct bev_relay	*br;
	struct timeval		 tv = { idle, 0 };

	if ((br = calloc(1, sizeof(*br))) == NULL)
		return NULL;
	br->br_client.bs_relay = br->br_server.bs_relay = br;
	br->br_client.bs_bev = client;
	br->br_server.bs_bev = server;
	br->br_client.bs_peer = &br->br_server;
	br->br_server.bs_peer = &br->br_client;
	br->br_done = done;
	br->br_arg = arg;
	br->br_idlesecs = idle;
	br->br_last = time(NULL);
	if ((idle > 0 && ((br->br_idle = evtimer_new(base, relay_bev_idle_cb,
	    br)) == NULL || evtimer_add(br->br_idle, &tv) == -1)) ||
	    (bufferevent_openssl_get_ssl(server) == NULL &&
	    (br->br_server.bs_rev = event_new(base, bufferevent_getfd(server),
	    EV_READ | EV_PERSIST, relay_bev_plain_read_cb,
	    &br->br_server)) == NULL)) {
		if (br->br_idle != NULL)
			event_free(br->br_idle);
		free(br);
		return NULL;
	}
	/* Full TLS records (16 KiB) rather than libevent's 4 KiB reads. */
	(void)bufferevent_set_max_single_read(client, RELAY_BUFSZ);
	(void)bufferevent_set_max_single_read(server, RELAY_BUFSZ);
	(void)bufferevent_set_max_single_write(client, RELAY_BUFSZ);
	(void)bufferevent_set_max_single_write(server, RELAY_BUFSZ);
	bufferevent_setcb(client, relay_bev_read_cb, relay_bev_write_cb,
	    relay_bev_event_cb, &br->br_client);
	bufferevent_setcb(server, relay_bev_read_cb, relay_bev_write_cb,
	    relay_bev_event_cb, &br->br_server);
	(void)bufferevent_enable(client, EV_READ | EV_WRITE);
	if (bufferevent_openssl_get_ssl(server) == NULL) {
		(void)bufferevent_disable(server, EV_READ);
		(void)bufferevent_enable(server, EV_WRITE);
		relay_bev_reading(&br->br_server, 1);
	} else
		(void)bufferevent_enable(server, EV_READ | EV_WRITE);
	/* Data that came with the handshake is moved from the loop. */
	if (evbuffer_get_length(bufferevent_get_input(client)) > 0)
		bufferevent_trigger(client, EV_READ, BEV_OPT_DEFER_CALLBACKS);
	return br;
}
