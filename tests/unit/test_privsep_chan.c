/*
 * Unit tests for privsep_chan.c over a real SOCK_SEQPACKET socketpair and
 * a libevent loop: messages arrive in order both ways (SPAWN_REQ with a
 * working descriptor of its own); a full socket queues, the queue drains
 * in order, is bounded (CHAN_QUEUE_MAX, logged once) and keeps its own
 * duplicate of a queued descriptor; chan_flush() sends within its time
 * bound; chan_read_all() delivers what a dead peer sent, then EOF; invalid
 * and wrong-direction messages are refused and counted while valid ones
 * still arrive; a channel may be freed from inside its own callback.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "log.h"
#include "privsep_chan.h"
#include "privsep_msg.h"

#define MAXGOT		8192	/* messages a case records */
#define LOOP_MSECS	10000	/* a bounded wait for the loop */

/* What a callback saw. */
struct got {
	enum privsep_type	type;
	uint64_t		key;	/* session, generation or seq */
	int			fd;
};

static struct event_base	*base;
static int			 sp[2];	/* [0] the worker's, [1] the master's */
static int			 chfd[2];	/* sp[] once a channel's */
static struct got		 got[MAXGOT];
static int			 ngot;
static int			 neof;
static int			 free_in_cb;	/* chan_free() on a message */
static int			 send_after_free;	/* its chan_send() */
static int			 nlogged_full, nlogged_refused, nlogged_unsent;

static void
capture_log(int pri, const char *msg)
{
	(void)pri;
	if (strstr(msg, "messages wait for the other side") != NULL)
		nlogged_full++;
	if (strstr(msg, "message refused") != NULL)
		nlogged_refused++;
	if (strstr(msg, "not sent") != NULL)
		nlogged_unsent++;
}

static int
setup(void **state)
{
	(void)state;
	ngot = neof = free_in_cb = nlogged_full = nlogged_refused = 0;
	nlogged_unsent = 0;
	send_after_free = 0;
	log_set_forward(capture_log);
	if ((base = event_base_new()) == NULL)
		return -1;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int
teardown(void **state)
{
	int	i;

	(void)state;
	for (i = 0; i < ngot; i++)
		if (got[i].fd != -1)
			(void)close(got[i].fd);
	/* Either may be owned (and closed) by a channel already. */
	if (sp[0] != -1)
		(void)close(sp[0]);
	if (sp[1] != -1)
		(void)close(sp[1]);
	event_base_free(base);
	log_set_forward(NULL);
	return 0;
}

/* Descriptors open in this process. */
static int
open_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	(void)closedir(d);
	return n - 1;	/* opendir's own */
}

static long long
msecs_now(void)
{
	struct timespec	ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_msg(struct chan *ch, struct privsep_msg *m, void *arg)
{
	struct got	*g;

	(void)arg;
	if (ngot == MAXGOT) {
		if (m->pm_fd != -1)
			(void)close(m->pm_fd);
		return;
	}
	g = &got[ngot++];
	g->type = m->pm_type;
	g->fd = m->pm_fd;
	switch (m->pm_type) {
	case PRIVSEP_SPAWN_REQ:
		g->key = m->pm_u.spawn_req.sr_session;
		break;
	case PRIVSEP_SPAWN_OK:
		g->key = m->pm_u.spawn_ok.so_session;
		break;
	case PRIVSEP_SPAWN_FAIL:
		g->key = m->pm_u.spawn_fail.sf_session;
		break;
	case PRIVSEP_CHILD_EXIT:
		g->key = m->pm_u.child_exit.ce_session;
		break;
	case PRIVSEP_LOG:
		g->key = strtoull(m->pm_u.log.lg_text + 4, NULL, 10);
		break;
	default:
		g->key = m->pm_u.reload.rl_gen;
		break;
	}
	if (free_in_cb) {
		chan_free(ch);
		/* The channel is gone for its user: nothing more is sent. */
		send_after_free = chan_send(ch, m);
	}
}

static void
on_eof(struct chan *ch, void *arg)
{
	(void)arg;
	/* EOF comes after every message, once. */
	neof++;
	chan_free(ch);
}

/* A diagnostic whose text is "seq <n>". */
static void
mk_log(struct privsep_msg *m, uint64_t n)
{
	memset(m, 0, sizeof(*m));
	m->pm_type = PRIVSEP_LOG;
	m->pm_fd = -1;
	m->pm_u.log.lg_kind = PRIVSEP_LOG_DIAG;
	m->pm_u.log.lg_service = PRIVSEP_NOSERVICE;
	m->pm_u.log.lg_level = LOG_INFO;
	(void)snprintf(m->pm_u.log.lg_text, sizeof(m->pm_u.log.lg_text),
	    "seq %llu", (unsigned long long)n);
}

static void
mk_spawn_req(struct privsep_msg *m, uint64_t session, int fd)
{
	struct privsep_spawn_req	*sr = &m->pm_u.spawn_req;

	memset(m, 0, sizeof(*m));
	m->pm_type = PRIVSEP_SPAWN_REQ;
	m->pm_fd = fd;
	sr->sr_session = session;
	sr->sr_service = 1;
	sr->sr_gen = 1;
	sr->sr_peer.ss_family = AF_INET;
	sr->sr_local.ss_family = AF_INET;
	(void)snprintf(sr->sr_country, sizeof(sr->sr_country), "--");
}

static void
mk_simple(struct privsep_msg *m, enum privsep_type type, uint64_t key)
{
	memset(m, 0, sizeof(*m));
	m->pm_type = type;
	m->pm_fd = -1;
	switch (type) {
	case PRIVSEP_SPAWN_OK:
		m->pm_u.spawn_ok.so_session = key;
		m->pm_u.spawn_ok.so_pid = 1234;
		break;
	case PRIVSEP_SPAWN_FAIL:
		m->pm_u.spawn_fail.sf_session = key;
		m->pm_u.spawn_fail.sf_reason = PRIVSEP_FAIL_LIMIT;
		break;
	case PRIVSEP_CHILD_EXIT:
		m->pm_u.child_exit.ce_session = key;
		m->pm_u.child_exit.ce_pid = 1234;
		m->pm_u.child_exit.ce_status = 0;
		m->pm_u.child_exit.ce_msecs = 5;
		break;
	default:
		m->pm_u.reload.rl_gen = (uint32_t)key;
		break;
	}
}

/* Run the loop without blocking until <ngot> reaches <n> (bounded). */
static void
loop_until(int n)
{
	long long	end = msecs_now() + LOOP_MSECS;

	while (ngot < n && neof == 0) {
		assert_int_not_equal(event_base_loop(base,
		    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
		if (ngot >= n)
			break;
		if (msecs_now() > end)
			fail_msg("%d messages of %d after %d ms", ngot, n,
			    LOOP_MSECS);
		(void)poll(NULL, 0, 1);
	}
}

/* Run the loop a few times more: what did not come by then is not coming. */
static void
loop_idle(void)
{
	int	i;

	for (i = 0; i < 20; i++) {
		assert_int_not_equal(event_base_loop(base,
		    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
		(void)poll(NULL, 0, 1);
	}
}

/* A channel on sp[<i>] that now owns it (its number stays in chfd[i]). */
static struct chan *
chan_on(int i, unsigned allowed)
{
	struct chan	*ch;

	assert_non_null(ch = chan_new(base, sp[i], allowed, on_msg, on_eof,
	    NULL));
	chfd[i] = sp[i];
	sp[i] = -1;
	return ch;
}

/* Shrink the send buffer of <fd> (the channel set 1 MiB). */
static void
small_sndbuf(int fd)
{
	int	sz = 4096;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
}

/*
 * Send "seq 0", "seq 1" ... on <ch> (whose peer does not read) until one
 * is queued; returns how many were sent, the queued one included.
 */
static int
fill(struct chan *ch)
{
	struct privsep_msg	m;
	int			n;

	for (n = 0; n < 100000 && chan_queued(ch) == 0; n++) {
		mk_log(&m, (uint64_t)n);
		assert_int_equal(chan_send(ch, &m), 0);
	}
	assert_int_equal(chan_queued(ch), 1);
	return n;
}

static void
assert_seq(int from, int to)
{
	int	i;

	for (i = from; i < to; i++) {
		assert_int_equal(got[i].type, PRIVSEP_LOG);
		assert_int_equal(got[i].key, (uint64_t)i);
	}
}

/* Master to worker: SPAWN_OK, CHILD_EXIT, SPAWN_FAIL, RELOAD in order. */
static void
test_order_to_worker(void **state)
{
	struct chan		*master, *worker;
	struct privsep_msg	 m;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	master = chan_on(1, PRIVSEP_TO_MASTER);
	mk_simple(&m, PRIVSEP_SPAWN_OK, 11);
	assert_int_equal(chan_send(master, &m), 0);
	mk_simple(&m, PRIVSEP_CHILD_EXIT, 12);
	assert_int_equal(chan_send(master, &m), 0);
	mk_simple(&m, PRIVSEP_SPAWN_FAIL, 13);
	assert_int_equal(chan_send(master, &m), 0);
	mk_simple(&m, PRIVSEP_RELOAD, 14);
	assert_int_equal(chan_send(master, &m), 0);
	assert_int_equal(chan_queued(master), 0);
	loop_until(4);
	assert_int_equal(ngot, 4);
	assert_int_equal(got[0].type, PRIVSEP_SPAWN_OK);
	assert_int_equal(got[0].key, 11);
	assert_int_equal(got[1].type, PRIVSEP_CHILD_EXIT);
	assert_int_equal(got[1].key, 12);
	assert_int_equal(got[2].type, PRIVSEP_SPAWN_FAIL);
	assert_int_equal(got[2].key, 13);
	assert_int_equal(got[3].type, PRIVSEP_RELOAD);
	assert_int_equal(got[3].key, 14);
	assert_int_equal(got[3].fd, -1);
	assert_int_equal(chan_refused(worker), 0);
	chan_free(master);
	chan_free(worker);
}

/* Worker to master: LOG, DRAINING, SPAWN_REQ with a new, working fd. */
static void
test_order_to_master_fd(void **state)
{
	struct chan		*master, *worker;
	struct privsep_msg	 m;
	struct stat		 a, b;
	int			 p[2];
	char			 c;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	master = chan_on(1, PRIVSEP_TO_MASTER);
	mk_log(&m, 0);
	assert_int_equal(chan_send(worker, &m), 0);
	mk_simple(&m, PRIVSEP_DRAINING, 7);
	assert_int_equal(chan_send(worker, &m), 0);
	mk_spawn_req(&m, 99, p[1]);
	assert_int_equal(chan_send(worker, &m), 0);
	loop_until(3);
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].type, PRIVSEP_LOG);
	assert_int_equal(got[0].key, 0);
	assert_int_equal(got[1].type, PRIVSEP_DRAINING);
	assert_int_equal(got[1].key, 7);
	assert_int_equal(got[2].type, PRIVSEP_SPAWN_REQ);
	assert_int_equal(got[2].key, 99);
	/* A new descriptor for the same pipe. */
	assert_true(got[2].fd >= 0 && got[2].fd != p[1]);
	assert_int_equal(fstat(got[2].fd, &a), 0);
	assert_int_equal(fstat(p[1], &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(write(got[2].fd, "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	(void)close(p[0]);
	(void)close(p[1]);
	chan_free(master);
	chan_free(worker);
}

/*
 * A full socket queues; once the peer reads, the queue drains and every
 * message arrives, in order.
 */
static void
test_queue_drains_in_order(void **state)
{
	struct chan		*master, *worker;
	struct privsep_msg	 m;
	int			 i, n, total;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	n = fill(worker);
	for (i = n; i < n + 50; i++) {
		mk_log(&m, (uint64_t)i);
		assert_int_equal(chan_send(worker, &m), 0);
	}
	total = n + 50;
	assert_int_equal(chan_queued(worker), 51);
	/* Nobody reads: the loop sends nothing more. */
	loop_idle();
	assert_int_equal(chan_queued(worker), 51);
	/* The master starts to read. */
	master = chan_on(1, PRIVSEP_TO_MASTER);
	loop_until(total);
	assert_int_equal(ngot, total);
	assert_seq(0, total);
	assert_int_equal(chan_queued(worker), 0);
	assert_int_equal(chan_refused(master), 0);
	assert_int_equal(nlogged_full, 0);
	chan_free(master);
	chan_free(worker);
}

/*
 * At CHAN_QUEUE_MAX messages waiting chan_send() refuses, and says so
 * once; freeing the channel drops the queue.
 */
static void
test_queue_max(void **state)
{
	struct chan		*worker;
	struct privsep_msg	 m;
	int			 i, n;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	n = fill(worker);
	for (i = 1; i < CHAN_QUEUE_MAX; i++) {
		mk_log(&m, (uint64_t)(n + i));
		assert_int_equal(chan_send(worker, &m), 0);
	}
	assert_int_equal(chan_queued(worker), CHAN_QUEUE_MAX);
	for (i = 0; i < 3; i++) {
		mk_log(&m, 1);
		assert_int_equal(chan_send(worker, &m), -1);
	}
	assert_int_equal(chan_queued(worker), CHAN_QUEUE_MAX);
	assert_int_equal(nlogged_full, 1);
	chan_free(worker);
}

/*
 * A queued SPAWN_REQ holds its own duplicate: the caller's descriptor is
 * closed at once, the peer still gets a working one, and once it is sent
 * the queue's duplicate is closed too (the pipe sees EOF when the peer
 * closes its copy).
 */
static void
test_queued_fd_dup(void **state)
{
	struct chan		*master, *worker;
	struct privsep_msg	 m;
	struct pollfd		 pfd;
	int			 p[2], n, fd;
	char			 c;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	n = fill(worker);
	mk_spawn_req(&m, 4242, p[1]);
	assert_int_equal(chan_send(worker, &m), 0);
	assert_int_equal(chan_queued(worker), 2);
	(void)close(p[1]);
	master = chan_on(1, PRIVSEP_TO_MASTER);
	loop_until(n + 1);
	assert_int_equal(ngot, n + 1);
	assert_seq(0, n);
	assert_int_equal(got[n].type, PRIVSEP_SPAWN_REQ);
	assert_int_equal(got[n].key, 4242);
	fd = got[n].fd;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "q", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'q');
	/* Only the received descriptor writes to the pipe now. */
	(void)close(fd);
	got[n].fd = -1;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(p[0], &c, 1), 0);
	(void)close(p[0]);
	chan_free(master);
	chan_free(worker);
}

/*
 * chan_free() of a channel with a queued descriptor closes the duplicate:
 * no descriptor is left behind.
 */
static void
test_free_closes_queued_fd(void **state)
{
	struct chan		*worker;
	struct privsep_msg	 m;
	int			 p[2], before;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	(void)fill(worker);
	mk_spawn_req(&m, 1, p[1]);
	assert_int_equal(chan_send(worker, &m), 0);
	(void)close(p[1]);
	before = open_fds();
	chan_free(worker);
	/* Its socket and the pipe's duplicate. */
	assert_int_equal(open_fds(), before - 2);
	(void)close(p[0]);
}

/* chan_flush() sends what waits while a child reads; bounded otherwise. */
static void
test_flush(void **state)
{
	struct chan		*worker;
	struct privsep_msg	 m;
	const char		*why;
	long long		 t0, dt;
	pid_t			 pid;
	int			 n, i, status, rc;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	n = fill(worker);
	for (i = n; i < n + 20; i++) {
		mk_log(&m, (uint64_t)i);
		assert_int_equal(chan_send(worker, &m), 0);
	}
	/* Nobody reads: flush gives up after its time. */
	t0 = msecs_now();
	chan_flush(worker, 200);
	dt = msecs_now() - t0;
	assert_true(dt >= 190 && dt < 5000);
	assert_int_equal(chan_queued(worker), 21);
	assert_int_equal(ngot, 0);
	n += 20;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		/* Read everything, in order, until EOF. */
		(void)close(chfd[0]);
		for (i = 0;; i++) {
			rc = privsep_msg_recv(sp[1], PRIVSEP_TO_MASTER, &m,
			    &why);
			if (rc == 0)
				break;
			if (rc != 1 || m.pm_type != PRIVSEP_LOG ||
			    strtol(m.pm_u.log.lg_text + 4, NULL, 10) != i)
				_exit(2);
		}
		_exit(i == n ? 0 : 3);
	}
	(void)close(sp[1]);
	sp[1] = -1;
	chan_flush(worker, 10000);
	assert_int_equal(chan_queued(worker), 0);
	chan_free(worker);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * The peer is gone: chan_send() fails at once, and a queue that cannot be
 * sent is dropped by chan_flush() without waiting.
 */
static void
test_peer_gone(void **state)
{
	struct chan		*worker;
	struct privsep_msg	 m;
	long long		 t0;
	int			 n;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	small_sndbuf(chfd[0]);
	n = fill(worker);
	assert_true(n > 1);
	(void)close(sp[1]);
	sp[1] = -1;
	t0 = msecs_now();
	chan_flush(worker, 10000);
	assert_true(msecs_now() - t0 < 5000);
	assert_int_equal(chan_queued(worker), 0);
	mk_log(&m, 0);
	assert_int_equal(chan_send(worker, &m), -1);
	chan_free(worker);
}

/* Invalid messages are refused by chan_send(), and logged. */
static void
test_send_invalid(void **state)
{
	struct chan		*worker;
	struct privsep_msg	 m;

	(void)state;
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	mk_simple(&m, PRIVSEP_SPAWN_OK, 1);
	m.pm_u.spawn_ok.so_pid = 0;
	assert_int_equal(chan_send(worker, &m), -1);
	/* A SPAWN_REQ without its descriptor. */
	mk_spawn_req(&m, 1, -1);
	assert_int_equal(chan_send(worker, &m), -1);
	assert_int_equal(nlogged_unsent, 2);
	assert_int_equal(chan_queued(worker), 0);
	chan_free(worker);
	/* And a descriptor that is not a socket cannot make a channel. */
	assert_null(chan_new(base, -1, PRIVSEP_TO_WORKER, on_msg, on_eof,
	    NULL));
	chan_free(NULL);
	chan_read_all(NULL);
}

/*
 * The worker died after it sent: chan_read_all() hands on every message,
 * then the EOF (whose callback frees the channel).
 */
static void
test_read_all_after_close(void **state)
{
	struct chan		*master;
	struct privsep_msg	 m;
	const char		*why;
	int			 i, n = 150;

	(void)state;
	master = chan_on(1, PRIVSEP_TO_MASTER);
	/* Small messages: the blocking socket's buffer takes them all. */
	for (i = 0; i < n; i++) {
		mk_simple(&m, PRIVSEP_DRAINING, (uint64_t)i);
		assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	}
	(void)close(sp[0]);
	sp[0] = -1;
	/* More than one read batch (64), without the loop. */
	chan_read_all(master);
	assert_int_equal(ngot, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(got[i].type, PRIVSEP_DRAINING);
		assert_int_equal(got[i].key, (uint64_t)i);
	}
	assert_int_equal(neof, 1);
}

/* The loop, too, sees EOF once the messages before it are read. */
static void
test_eof_in_loop(void **state)
{
	struct chan		*master;
	struct privsep_msg	 m;
	const char		*why;
	long long		 end;

	(void)state;
	master = chan_on(1, PRIVSEP_TO_MASTER);
	(void)master;
	mk_log(&m, 0);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	(void)close(sp[0]);
	sp[0] = -1;
	end = msecs_now() + LOOP_MSECS;
	while (neof == 0 && msecs_now() < end) {
		assert_int_not_equal(event_base_loop(base,
		    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
		(void)poll(NULL, 0, 1);
	}
	assert_int_equal(ngot, 1);
	assert_int_equal(neof, 1);
}

/* Send <len> bytes of <buf> on sp[0] with descriptor <fd> if not -1. */
static void
send_raw(const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sp[0], &msg, 0), (ssize_t)len);
}

/*
 * Raw packets of the wrong length or type (one with a descriptor) are
 * refused and counted, their descriptors closed, one log line; the valid
 * messages around them arrive.
 */
static void
test_refused_invalid(void **state)
{
	struct chan		*master;
	struct privsep_msg	 m;
	const char		*why;
	uint8_t			 buf[PRIVSEP_MSGMAX];
	ssize_t			 len;
	int			 p[2], before;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	master = chan_on(1, PRIVSEP_TO_MASTER);
	mk_log(&m, 0);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	/* A DRAINING one byte too long. */
	mk_simple(&m, PRIVSEP_DRAINING, 1);
	assert_true((len = privsep_msg_encode(&m, buf, sizeof(buf),
	    &why)) > 0);
	send_raw(buf, (size_t)len + 1, -1);
	/* A LOG cut short. */
	mk_log(&m, 5);
	assert_true((len = privsep_msg_encode(&m, buf, sizeof(buf),
	    &why)) > 0);
	send_raw(buf, (size_t)len - 8, -1);
	/* A type that does not exist, with a descriptor. */
	memset(buf, 0, 16);
	buf[3] = 77;
	buf[0] = 77;
	send_raw(buf, 16, p[1]);
	(void)close(p[1]);
	mk_log(&m, 1);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	mk_simple(&m, PRIVSEP_DRAINING, 2);
	assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	before = open_fds();
	loop_until(3);
	loop_idle();
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].type, PRIVSEP_LOG);
	assert_int_equal(got[0].key, 0);
	assert_int_equal(got[1].type, PRIVSEP_LOG);
	assert_int_equal(got[1].key, 1);
	assert_int_equal(got[2].type, PRIVSEP_DRAINING);
	assert_int_equal(got[2].key, 2);
	assert_int_equal(chan_refused(master), 3);
	assert_int_equal(nlogged_refused, 1);
	/* The descriptor of the refused packet was closed: the pipe is. */
	assert_int_equal(open_fds(), before);
	assert_int_equal(read(p[0], buf, 1), 0);
	(void)close(p[0]);
	chan_free(master);
}

/* Valid messages of a type the side does not take are refused. */
static void
test_type_not_allowed(void **state)
{
	struct chan		*master, *worker;
	struct privsep_msg	 m;
	const char		*why;

	(void)state;
	master = chan_on(1, PRIVSEP_TO_MASTER);
	worker = chan_on(0, PRIVSEP_TO_WORKER);
	/* A worker that claims to be the master. */
	mk_simple(&m, PRIVSEP_SPAWN_OK, 1);
	assert_int_equal(privsep_msg_send(chfd[0], &m, &why), 0);
	mk_simple(&m, PRIVSEP_RELOAD, 2);
	assert_int_equal(chan_send(worker, &m), 0);
	mk_simple(&m, PRIVSEP_DRAINING, 3);
	assert_int_equal(chan_send(worker, &m), 0);
	/* And a master that sends a worker's message. */
	mk_log(&m, 4);
	assert_int_equal(chan_send(master, &m), 0);
	loop_until(1);
	loop_idle();
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].type, PRIVSEP_DRAINING);
	assert_int_equal(got[0].key, 3);
	assert_int_equal(chan_refused(master), 2);
	assert_int_equal(chan_refused(worker), 1);
	chan_free(master);
	chan_free(worker);
}

/*
 * The callback frees the channel on the first message: nothing after it
 * is handed on, chan_send() on it fails, and ASan sees no use after free.
 */
static void
test_free_in_callback(void **state)
{
	struct chan		*master;
	struct privsep_msg	 m;
	const char		*why;
	int			 i;

	(void)state;
	master = chan_on(1, PRIVSEP_TO_MASTER);
	(void)master;
	for (i = 0; i < 3; i++) {
		mk_simple(&m, PRIVSEP_DRAINING, (uint64_t)i);
		assert_int_equal(privsep_msg_send(sp[0], &m, &why), 0);
	}
	free_in_cb = 1;
	loop_until(1);
	loop_idle();
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].key, 0);
	assert_int_equal(send_after_free, -1);
	assert_int_equal(neof, 0);
	/* The channel closed its socket: the worker sees the end. */
	assert_int_equal(send(sp[0], "x", 1, MSG_NOSIGNAL), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_to_worker,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_to_master_fd,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_drains_in_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_max,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_fd_dup,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_closes_queued_fd,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_gone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_invalid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all_after_close,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_in_loop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_invalid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_not_allowed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_callback,
		    setup, teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
