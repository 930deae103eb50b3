/*
 * A privsep channel in the event loop; see privsep_chan.h.  Messages are
 * sent at once when the socket takes them; otherwise they wait, in order,
 * in a queue that the socket's write event drains.  A full queue refuses
 * the message rather than growing: the caller decides what that means (a
 * log line is dropped, a spawn fails).
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "privsep_chan.h"

#define CHAN_READ_BATCH	64	/* messages read per wake-up */
#define CHAN_SNDBUF	(1024 * 1024)	/* bytes in flight on the socket */

struct chan_out {
	STAILQ_ENTRY(chan_out)	 co_entry;
	struct privsep_msg	 co_msg;	/* co_msg.pm_fd: our dup */
};

struct chan {
	int			 ch_fd;
	unsigned		 ch_allowed;
	struct event		*ch_rev;
	struct event		*ch_wev;
	chan_msg_cb		 ch_msg;
	chan_eof_cb		 ch_eof;
	void			*ch_arg;
	STAILQ_HEAD(, chan_out)	 ch_queue;
	int			 ch_nqueued;
	int			 ch_busy;	/* in a callback */
	int			 ch_dead;	/* freed during it */
	int			 ch_full_logged;
	unsigned long		 ch_refused;
};

static void	chan_read_cb(evutil_socket_t, short, void *);
static void	chan_write_cb(evutil_socket_t, short, void *);

struct chan *
chan_new(struct event_base *base, int fd, unsigned allowed, chan_msg_cb msg,
    chan_eof_cb eof, void *arg)
{
	struct chan	*ch;
	int		 fl, sndbuf = CHAN_SNDBUF;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return NULL;
	/* Room for bursts of log lines before the queue is needed. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	ch->ch_fd = fd;
	ch->ch_allowed = allowed;
	ch->ch_msg = msg;
	ch->ch_eof = eof;
	ch->ch_arg = arg;
	STAILQ_INIT(&ch->ch_queue);
	ch->ch_rev = event_new(base, fd, EV_READ | EV_PERSIST, chan_read_cb,
	    ch);
	ch->ch_wev = event_new(base, fd, EV_WRITE, chan_write_cb, ch);
	if (ch->ch_rev == NULL || ch->ch_wev == NULL ||
	    event_add(ch->ch_rev, NULL) == -1) {
		if (ch->ch_rev != NULL)
			event_free(ch->ch_rev);
		if (ch->ch_wev != NULL)
			event_free(ch->ch_wev);
		free(ch);
		return NULL;
	}
	return ch;
}

static void
chan_destroy(struct chan *ch)
{
	struct chan_out	*co;

	while ((co = STAILQ_FIRST(&ch->ch_queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&ch->ch_queue, co_entry);
		if (co->co_msg.pm_fd != -1)
			(void)close(co->co_msg.pm_fd);
		free(co);
	}
	event_free(ch->ch_rev);
	event_free(ch->ch_wev);
	(void)close(ch->ch_fd);
	free(ch);
}

void
chan_free(struct chan *ch)
{
	if (ch == NULL)
		return;
	if (ch->ch_busy) {
		ch->ch_dead = 1;
		(void)event_del(ch->ch_rev);
		(void)event_del(ch->ch_wev);
		return;
	}
	chan_destroy(ch);
}

/* Send what waits, in order, until the socket is full again. */
static int
chan_drain(struct chan *ch)
{
	struct chan_out	*co;
	const char	*why;
	int		 rc;

	while ((co = STAILQ_FIRST(&ch->ch_queue)) != NULL) {
		rc = privsep_msg_send(ch->ch_fd, &co->co_msg, &why);
		if (rc == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS))
			return 0;
		if (rc == -1 && errno == EINTR)
			continue;
		STAILQ_REMOVE_HEAD(&ch->ch_queue, co_entry);
		ch->ch_nqueued--;
		if (co->co_msg.pm_fd != -1)
			(void)close(co->co_msg.pm_fd);
		free(co);
		if (rc == -1)
			return -1;	/* the peer is gone: EOF comes */
	}
	ch->ch_full_logged = 0;
	return 0;
}

static void
chan_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chan	*ch = arg;

	(void)fd;
	(void)what;
	if (chan_drain(ch) == 0 && !STAILQ_EMPTY(&ch->ch_queue))
		(void)event_add(ch->ch_wev, NULL);
}

int
chan_send(struct chan *ch, const struct privsep_msg *m)
{
	struct chan_out	*co;
	const char	*why;
	int		 rc;

	if (ch->ch_dead)
		return -1;
	if (STAILQ_EMPTY(&ch->ch_queue)) {
		while ((rc = privsep_msg_send(ch->ch_fd, m, &why)) == -1 &&
		    errno == EINTR)
			continue;
		if (rc == 0)
			return 0;
		if (rc == -2) {
			log_warnx("privsep: not sent: %s", why);
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -1;	/* the peer is gone: EOF comes */
	}
	if (ch->ch_nqueued >= CHAN_QUEUE_MAX ||
	    (co = calloc(1, sizeof(*co))) == NULL) {
		if (!ch->ch_full_logged)
			log_warnx("privsep: %d messages wait for the other "
			    "side; dropping", ch->ch_nqueued);
		ch->ch_full_logged = 1;
		return -1;
	}
	co->co_msg = *m;
	if (m->pm_fd != -1 &&
	    (co->co_msg.pm_fd = fcntl(m->pm_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(co);
		return -1;
	}
	STAILQ_INSERT_TAIL(&ch->ch_queue, co, co_entry);
	ch->ch_nqueued++;
	(void)event_add(ch->ch_wev, NULL);
	return 0;
}

int
chan_queued(const struct chan *ch)
{
	return ch->ch_nqueued;
}

unsigned long
chan_refused(const struct chan *ch)
{
	return ch->ch_refused;
}

void
chan_flush(struct chan *ch, int msecs)
{
	struct pollfd	pfd;
	struct timespec	start, now;
	int		left;

	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		return;
	while (!STAILQ_EMPTY(&ch->ch_queue)) {
		if (chan_drain(ch) == -1 || STAILQ_EMPTY(&ch->ch_queue))
			return;
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			return;
		left = msecs - (int)((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return;
		pfd.fd = ch->ch_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			return;
	}
}

/* Read at most <max> messages (-1: all there are) and hand them on. */
static void
chan_read(struct chan *ch, int max)
{
	struct privsep_msg	 m;
	const char		*why;
	int			 i, rc, fd = ch->ch_fd;

	ch->ch_busy = 1;
	for (i = 0; (max == -1 || i < max) && !ch->ch_dead; i++) {
		rc = privsep_msg_recv(fd, ch->ch_allowed, &m, &why);
		if (rc == 1) {
			ch->ch_msg(ch, &m, ch->ch_arg);
			continue;
		}
		if (rc == -2) {
			/* The descriptors that came with it are closed. */
			if (ch->ch_refused++ == 0)
				log_warnx("privsep: message refused: %s", why);
			continue;
		}
		if (rc == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			break;
		/* End of file, or the socket failed. */
		ch->ch_eof(ch, ch->ch_arg);
		break;
	}
	ch->ch_busy = 0;
	if (ch->ch_dead)
		chan_destroy(ch);
}

static void
chan_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	chan_read(arg, CHAN_READ_BATCH);
}

void
chan_read_all(struct chan *ch)
{
	if (ch != NULL)
		chan_read(ch, -1);
}
