/*
 * End-to-end tests of privilege separation (issue 13), as root (skipped
 * otherwise: the master must be root to have something to give up).
 *
 * - test_proc_evidence: sessions of every kind open at once (forwarded
 *   TCP, a UDP flow, TLS to a built-in, a spawned server, a spawned server
 *   behind TLS, a built-in, accept_proxy), then /proc/PID/status and
 *   /proc/PID/fd of the master and its workers: every process that holds
 *   a connected client socket runs as a user other than root with no
 *   capabilities, no_new_privs and seccomp filtering; the master holds
 *   only listening TCP sockets, unconnected UDP sockets, UNIX sockets,
 *   files, pipes and anonymous inodes.  What was found is printed.
 * - test_kill_worker: SIGKILL to the worker under a loop of short
 *   connections and 4 MiB checksummed transfers through spawned servers:
 *   the transfers complete intact, a new connection is served within a
 *   second, the log says what happened, a new worker serves.
 * - test_reloads: 20 SIGHUPs while a spawned and a forwarded session
 *   stream and short connections arrive: no failure, no byte lost, one
 *   worker left in the end.
 * - test_instances_reload: instances keeps counting the sessions of the
 *   worker of the generation before.
 * - test_upgrade (SIGUSR2): no connection fails while the binary restarts.
 *
 * The echo targets of the forwarding services, the loop of short
 * connections and the transfers are threads of this program; they record
 * what went wrong and the main thread checks it.  Every wait is bounded.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../test_skip.h"

#include "harness.h"

#define CONF		"portgate.conf"
#define ACCESS_LOG	PG_ACCESS_LOG
/* No connection rate limit: the loops would trip the default one. */
#define NO_CPS		"\tcps\t\t= 0 1\n"
#define CAT_LINES	"\ttype\t\t= UNLISTED\n\tuser\t\t= nobody\n" \
			"\tserver\t\t= /bin/cat\n" NO_CPS
#define ECHO_LINES	"\ttype\t\t= INTERNAL UNLISTED\n" NO_CPS

#define CHUNK		(64 * 1024)	/* one write of a transfer */
#define KILL_XFERS	3		/* transfers across the kill */
#define KILL_CHUNKS	64		/* 4 MiB each */
#define RELOADS		20
#define RELOAD_CHUNKS	4		/* streamed between two reloads */
#define RELOAD_CONNS	5		/* short connections between two */
#define LOOP_MAX	20000		/* short connections of a loop */
#define LOOP_MS		120000		/* and how long it may run */
#define XFER_WAIT_MS	60000		/* a transfer waiting for its step */
#define RECOVERY_MS	1000		/* a dead worker is replaced within */
#define INSTANCES	2
#define MAX_WORKERS	32
#define TG_CONNS	16		/* connections of an echo target */
#define EVIDENCE_MAX	8192

/* Skip the test unless root. */
static void
need_root(void)
{
	if (geteuid() != 0) {
		print_message("not root: privilege separation needs a root "
		    "master\n");
		TEST_SKIP();
	}
}

/*
 * An echo target of the forwarding services: TCP (a buffer per
 * connection, read only once it is sent back) and UDP, on 127.0.0.1.
 */
struct tconn {
	int	 tc_fd;
	size_t	 tc_off;
	size_t	 tc_len;
	char	 tc_buf[CHUNK];
};

struct target {
	pthread_t	 tg_thread;
	int		 tg_lfd;
	int		 tg_ufd;
	int		 tg_stop[2];
	int		 tg_port;	/* TCP */
	int		 tg_uport;	/* UDP */
	struct tconn	 tg_conns[TG_CONNS];
};

static void
target_drop(struct tconn *tc)
{
	(void)close(tc->tc_fd);
	tc->tc_fd = -1;
	tc->tc_off = tc->tc_len = 0;
}

static void
target_accept(struct target *tg)
{
	int	i, fd;

	if ((fd = accept4(tg->tg_lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	for (i = 0; i < TG_CONNS; i++)
		if (tg->tg_conns[i].tc_fd == -1) {
			tg->tg_conns[i].tc_fd = fd;
			return;
		}
	(void)close(fd);
}

static void
target_io(struct tconn *tc)
{
	ssize_t	n;

	if (tc->tc_off < tc->tc_len) {
		n = send(tc->tc_fd, tc->tc_buf + tc->tc_off,
		    tc->tc_len - tc->tc_off, MSG_NOSIGNAL);
		if (n > 0)
			tc->tc_off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			target_drop(tc);
		return;
	}
	n = recv(tc->tc_fd, tc->tc_buf, sizeof(tc->tc_buf), 0);
	if (n > 0) {
		tc->tc_off = 0;
		tc->tc_len = (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		target_drop(tc);
}

static void *
target_main(void *arg)
{
	struct target		*tg = arg;
	struct pollfd		 pfd[3 + TG_CONNS];
	int			 map[3 + TG_CONNS];
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 dgram[2048];
	ssize_t			 n;
	int			 i, np;

	for (;;) {
		pfd[0].fd = tg->tg_stop[0];
		pfd[1].fd = tg->tg_lfd;
		pfd[2].fd = tg->tg_ufd;
		for (np = 0; np < 3; np++)
			pfd[np].events = POLLIN;
		for (i = 0; i < TG_CONNS; i++) {
			if (tg->tg_conns[i].tc_fd == -1)
				continue;
			pfd[np].fd = tg->tg_conns[i].tc_fd;
			pfd[np].events = tg->tg_conns[i].tc_off <
			    tg->tg_conns[i].tc_len ? POLLOUT : POLLIN;
			map[np++] = i;
		}
		if (poll(pfd, (nfds_t)np, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents & POLLIN)
			target_accept(tg);
		if (pfd[2].revents & POLLIN) {
			sl = sizeof(ss);
			n = recvfrom(tg->tg_ufd, dgram, sizeof(dgram), 0,
			    (struct sockaddr *)&ss, &sl);
			if (n >= 0)
				(void)sendto(tg->tg_ufd, dgram, (size_t)n, 0,
				    (struct sockaddr *)&ss, sl);
		}
		for (i = 3; i < np; i++)
			if (pfd[i].revents != 0)
				target_io(&tg->tg_conns[map[i]]);
	}
	for (i = 0; i < TG_CONNS; i++)
		if (tg->tg_conns[i].tc_fd != -1)
			target_drop(&tg->tg_conns[i]);
	return NULL;
}

/* A socket of <type> bound to 127.0.0.1, an ephemeral port. */
static int
target_socket(int type)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, type | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 128), 0);
	return fd;
}

static struct target *
target_start(void)
{
	struct target	*tg;
	int		 i;

	assert_non_null(tg = calloc(1, sizeof(*tg)));
	for (i = 0; i < TG_CONNS; i++)
		tg->tg_conns[i].tc_fd = -1;
	tg->tg_lfd = target_socket(SOCK_STREAM);
	tg->tg_ufd = target_socket(SOCK_DGRAM);
	tg->tg_port = pg_local_port(tg->tg_lfd);
	tg->tg_uport = pg_local_port(tg->tg_ufd);
	assert_int_equal(pipe2(tg->tg_stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&tg->tg_thread, NULL, target_main,
	    tg), 0);
	return tg;
}

static void
target_stop(struct target *tg)
{
	assert_int_equal(write(tg->tg_stop[1], "", 1), 1);
	assert_int_equal(pthread_join(tg->tg_thread, NULL), 0);
	(void)close(tg->tg_stop[0]);
	(void)close(tg->tg_stop[1]);
	(void)close(tg->tg_lfd);
	(void)close(tg->tg_ufd);
	free(tg);
}

/*
 * A loop of short connections (connect, a line echoed, close) to a
 * service; what each one did and when it began, for the main thread.
 */
struct loop {
	pthread_t	 lp_thread;
	int		 lp_port;
	atomic_int	 lp_stop;
	atomic_int	 lp_n;			/* connections made */
	int		 lp_failed;
	long long	 lp_max_ms;		/* the longest connection */
	char		 lp_err[160];		/* the first failure */
	long long	 lp_start[LOOP_MAX];
	char		 lp_ok[LOOP_MAX];
};

/* One short connection to <port>: 1 if its line came back, else 0. */
static int
short_echo(int port, int i, char *err, size_t errlen)
{
	char	msg[64], buf[64];
	ssize_t	n;
	int	fd, len;

	len = snprintf(msg, sizeof(msg), "short connection %d\n", i);
	if ((fd = pg_tcp_connect(NULL, "127.0.0.1", port)) == -1) {
		(void)snprintf(err, errlen, "connect: %s", strerror(errno));
		return 0;
	}
	n = pg_tcp_exchange(fd, msg, (size_t)len, buf, sizeof(buf));
	if (n == -1)
		(void)snprintf(err, errlen, "exchange: %s", strerror(errno));
	(void)close(fd);
	if (n != len || memcmp(buf, msg, (size_t)len) != 0) {
		if (n != -1)
			(void)snprintf(err, errlen, "%zd bytes back, not %d",
			    n, len);
		return 0;
	}
	return 1;
}

static void *
loop_main(void *arg)
{
	struct loop	*lp = arg;
	long long	 end = pg_now_ms() + LOOP_MS;
	char		 err[128];
	int		 i;

	for (i = 0; i < LOOP_MAX && !atomic_load(&lp->lp_stop) &&
	    pg_now_ms() < end; i++) {
		lp->lp_start[i] = pg_now_ms();
		lp->lp_ok[i] = (char)short_echo(lp->lp_port, i, err,
		    sizeof(err));
		if (pg_now_ms() - lp->lp_start[i] > lp->lp_max_ms)
			lp->lp_max_ms = pg_now_ms() - lp->lp_start[i];
		if (!lp->lp_ok[i] && lp->lp_failed++ == 0)
			(void)snprintf(lp->lp_err, sizeof(lp->lp_err),
			    "connection %d: %s", i, err);
		atomic_store(&lp->lp_n, i + 1);
	}
	return NULL;
}

static struct loop *
loop_start(int port)
{
	struct loop	*lp;

	assert_non_null(lp = calloc(1, sizeof(*lp)));
	lp->lp_port = port;
	assert_int_equal(pthread_create(&lp->lp_thread, NULL, loop_main, lp),
	    0);
	return lp;
}

/* Wait until the loop made <n> connections (or ended); 0 or -1. */
static int
loop_wait(struct loop *lp, int n)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;

	while (atomic_load(&lp->lp_n) < n) {
		if (pg_left(deadline) == 0 || atomic_load(&lp->lp_n) ==
		    LOOP_MAX)
			return -1;
		pg_sleep_ms(2);
	}
	return 0;
}

static void
loop_stop(struct loop *lp)
{
	atomic_store(&lp->lp_stop, 1);
	assert_int_equal(pthread_join(lp->lp_thread, NULL), 0);
}

/*
 * Transfers: a client thread sends pseudo-random chunks and reads each
 * back before the next, with a SHA-256 of all it sent and of all it got.
 * The main thread moves them in steps: a transfer sends <per_tick>
 * chunks a step, then waits for the next step (or the stop).
 */
struct xsync {
	pthread_mutex_t	 sy_mtx;
	pthread_cond_t	 sy_cond;
	int		 sy_tick;
	int		 sy_stop;
};

struct xfer {
	pthread_t	 xf_thread;
	struct xsync	*xf_sync;
	int		 xf_port;
	int		 xf_per_tick;
	int		 xf_total;		/* chunks; 0: until stopped */
	uint64_t	 xf_seed;
	/* Under sy_mtx. */
	int		 xf_chunks;		/* echoed back */
	int		 xf_done;
	/* Once done. */
	unsigned long long xf_sent;
	unsigned long long xf_got;
	unsigned char	 xf_md_out[EVP_MAX_MD_SIZE];
	unsigned char	 xf_md_in[EVP_MAX_MD_SIZE];
	char		 xf_err[160];
};

static void
xsync_init(struct xsync *sy)
{
	memset(sy, 0, sizeof(*sy));
	assert_int_equal(pthread_mutex_init(&sy->sy_mtx, NULL), 0);
	assert_int_equal(pthread_cond_init(&sy->sy_cond, NULL), 0);
}

static void
xsync_set(struct xsync *sy, int tick, int stop)
{
	(void)pthread_mutex_lock(&sy->sy_mtx);
	sy->sy_tick = tick;
	sy->sy_stop = stop;
	(void)pthread_cond_broadcast(&sy->sy_cond);
	(void)pthread_mutex_unlock(&sy->sy_mtx);
}

/* Wait on <sy> until <abs_ms> of CLOCK_REALTIME; 0, or -1 at it. */
static int
xsync_timedwait(struct xsync *sy, long long abs_ms)
{
	struct timespec	ts;

	ts.tv_sec = abs_ms / 1000;
	ts.tv_nsec = (abs_ms % 1000) * 1000000;
	return pthread_cond_timedwait(&sy->sy_cond, &sy->sy_mtx, &ts) == 0 ?
	    0 : -1;
}

static long long
realtime_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
xfer_fill(uint64_t *s, unsigned char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		/* xorshift64 */
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		buf[i] = (unsigned char)(*s >> 32);
	}
}

/* Chunk the transfer may send now (waiting for its step); 0: finish. */
static int
xfer_may_go(struct xfer *xf)
{
	struct xsync	*sy = xf->xf_sync;
	long long	 end = realtime_ms() + XFER_WAIT_MS;
	int		 go = -1;

	(void)pthread_mutex_lock(&sy->sy_mtx);
	while (go == -1) {
		if (sy->sy_stop || (xf->xf_total != 0 &&
		    xf->xf_chunks >= xf->xf_total))
			go = 0;
		else if (xf->xf_chunks < xf->xf_per_tick * (sy->sy_tick + 1))
			go = 1;
		else if (xsync_timedwait(sy, end) == -1 &&
		    realtime_ms() >= end) {
			(void)snprintf(xf->xf_err, sizeof(xf->xf_err),
			    "no step after %d chunks", xf->xf_chunks);
			go = 0;
		}
	}
	(void)pthread_mutex_unlock(&sy->sy_mtx);
	return go;
}

static void *
xfer_main(void *arg)
{
	struct xfer	*xf = arg;
	struct xsync	*sy = xf->xf_sync;
	EVP_MD_CTX	*out = EVP_MD_CTX_new(), *in = EVP_MD_CTX_new();
	unsigned char	*buf = malloc(CHUNK), *back = malloc(CHUNK);
	uint64_t	 s = xf->xf_seed;
	ssize_t		 n;
	int		 fd = -1;

	if (out == NULL || in == NULL || buf == NULL || back == NULL ||
	    EVP_DigestInit_ex(out, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(in, EVP_sha256(), NULL) != 1) {
		(void)snprintf(xf->xf_err, sizeof(xf->xf_err), "no memory");
		goto done;
	}
	if ((fd = pg_tcp_connect(NULL, "127.0.0.1", xf->xf_port)) == -1) {
		(void)snprintf(xf->xf_err, sizeof(xf->xf_err), "connect: %s",
		    strerror(errno));
		goto done;
	}
	while (xfer_may_go(xf)) {
		xfer_fill(&s, buf, CHUNK);
		(void)EVP_DigestUpdate(out, buf, CHUNK);
		if (pg_send_all(fd, buf, CHUNK) == -1) {
			(void)snprintf(xf->xf_err, sizeof(xf->xf_err),
			    "send after %llu bytes: %s", xf->xf_sent,
			    strerror(errno));
			goto done;
		}
		xf->xf_sent += CHUNK;
		n = pg_recv_n(fd, back, CHUNK);
		if (n > 0) {
			(void)EVP_DigestUpdate(in, back, (size_t)n);
			xf->xf_got += (unsigned long long)n;
		}
		if (n != CHUNK) {
			(void)snprintf(xf->xf_err, sizeof(xf->xf_err),
			    "%zd bytes back after %llu, not %d", n,
			    xf->xf_got, CHUNK);
			goto done;
		}
		(void)pthread_mutex_lock(&sy->sy_mtx);
		xf->xf_chunks++;
		(void)pthread_cond_broadcast(&sy->sy_cond);
		(void)pthread_mutex_unlock(&sy->sy_mtx);
	}
	if (xf->xf_err[0] != '\0')
		goto done;
	/* The end: nothing more comes back, and then EOF. */
	if (pg_shut_wr(fd) == -1 || (n = pg_recv_eof(fd, back, 1)) != 0)
		(void)snprintf(xf->xf_err, sizeof(xf->xf_err),
		    "no clean EOF at the end");
done:
	if (out != NULL && in != NULL) {
		(void)EVP_DigestFinal_ex(out, xf->xf_md_out, NULL);
		(void)EVP_DigestFinal_ex(in, xf->xf_md_in, NULL);
	}
	EVP_MD_CTX_free(out);
	EVP_MD_CTX_free(in);
	free(buf);
	free(back);
	if (fd != -1)
		(void)close(fd);
	(void)pthread_mutex_lock(&sy->sy_mtx);
	xf->xf_done = 1;
	(void)pthread_cond_broadcast(&sy->sy_cond);
	(void)pthread_mutex_unlock(&sy->sy_mtx);
	return NULL;
}

static void
xfer_start(struct xfer *xf, struct xsync *sy, int port, int per_tick,
    int total, uint64_t seed)
{
	memset(xf, 0, sizeof(*xf));
	xf->xf_sync = sy;
	xf->xf_port = port;
	xf->xf_per_tick = per_tick;
	xf->xf_total = total;
	xf->xf_seed = seed;
	assert_int_equal(pthread_create(&xf->xf_thread, NULL, xfer_main, xf),
	    0);
}

/* Wait until every transfer echoed <chunks> chunks; fail if one ends. */
static void
xfer_wait(struct xsync *sy, struct xfer *xf, int nxf, int chunks)
{
	long long	end = realtime_ms() + 3 * PG_TIMEOUT_MS;
	int		i, behind;

	(void)pthread_mutex_lock(&sy->sy_mtx);
	for (;;) {
		for (i = behind = 0; i < nxf; i++) {
			if (xf[i].xf_done && xf[i].xf_chunks < chunks) {
				(void)pthread_mutex_unlock(&sy->sy_mtx);
				fail_msg("transfer %d ended after %d chunks: "
				    "%s", i, xf[i].xf_chunks, xf[i].xf_err);
			}
			if (xf[i].xf_chunks < chunks)
				behind++;
		}
		if (behind == 0)
			break;
		if (xsync_timedwait(sy, end) == -1 && realtime_ms() >= end) {
			(void)pthread_mutex_unlock(&sy->sy_mtx);
			fail_msg("transfers not at %d chunks in time", chunks);
		}
	}
	(void)pthread_mutex_unlock(&sy->sy_mtx);
}

/* Join the transfers and check every byte came back, in order. */
static void
xfer_check(struct xfer *xf, int nxf, const char *what)
{
	char	hex[2 * 8 + 1];
	int	i, j;

	for (i = 0; i < nxf; i++)
		assert_int_equal(pthread_join(xf[i].xf_thread, NULL), 0);
	for (i = 0; i < nxf; i++) {
		if (xf[i].xf_err[0] != '\0')
			fail_msg("%s transfer %d: %s", what, i, xf[i].xf_err);
		assert_true(xf[i].xf_sent > 0);
		assert_true(xf[i].xf_got == xf[i].xf_sent);
		assert_memory_equal(xf[i].xf_md_in, xf[i].xf_md_out, 32);
		for (j = 0; j < 8; j++)
			(void)snprintf(hex + 2 * j, 3, "%02x",
			    xf[i].xf_md_in[j]);
		print_message("%s transfer %d: %llu bytes sent, %llu back, "
		    "SHA-256 %s... both ways\n", what, i, xf[i].xf_sent,
		    xf[i].xf_got, hex);
	}
}

/* <msg> over the open connection <fd> comes back, or fail the test. */
static void
held_echo(int fd, const char *msg)
{
	char	buf[256];
	size_t	len = strlen(msg);

	assert_true(len <= sizeof(buf));
	assert_int_equal(pg_send_all(fd, msg, len), 0);
	assert_int_equal(pg_recv_n(fd, buf, len), (ssize_t)len);
	assert_memory_equal(buf, msg, len);
}

/* A connection to <port> whose first line is echoed, held open. */
static int
held_open(int port, const char *msg)
{
	int	fd;

	assert_true((fd = pg_tcp_connect(NULL, "127.0.0.1", port)) >= 0);
	held_echo(fd, msg);
	return fd;
}

/* A service <name> (with id <id>) on 127.0.0.1 <port>, stream, wait no. */
static void
conf_svc(struct pg_conf *cf, const char *name, const char *id, int port,
    const char *fmt, ...)
{
	char	body[2048];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(body));
	pg_conf_add(cf, "\nservice %s\n{\n\tid\t\t= %s\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n", name, id, port,
	    body);
}

/* Wait until <c>'s master has <n> workers; the first in <pid>. */
static void
workers_wait(const struct pg_ctx *c, int n, pid_t *pid)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	pid_t		pids[MAX_WORKERS];
	int		got;

	while ((got = pg_workers(c->pc_pid, pids, MAX_WORKERS)) != n) {
		if (pg_left(deadline) == 0)
			fail_msg("%d workers, not %d", got, n);
		pg_sleep_ms(5);
	}
	if (pid != NULL && n > 0)
		*pid = pids[0];
}

/* --- /proc ------------------------------------------------------------ */

enum sk_proto {
	SK_TCP,
	SK_UDP,
	SK_UNIX,
	SK_NETLINK
};

struct sk {
	unsigned long	 sk_ino;
	enum sk_proto	 sk_proto;
	int		 sk_state;
	int		 sk_lport;
	int		 sk_rport;
	int		 sk_rzero;	/* no remote address */
	char		 sk_laddr[40];
	char		 sk_raddr[40];
};

struct sktab {
	struct sk	*st_sk;
	int		 st_n;
	int		 st_cap;
};

#define TCP_LISTEN	0x0a

static struct sk *
sktab_add(struct sktab *t)
{
	if (t->st_n == t->st_cap) {
		t->st_cap = t->st_cap == 0 ? 256 : 2 * t->st_cap;
		assert_non_null(t->st_sk = realloc(t->st_sk,
		    (size_t)t->st_cap * sizeof(*t->st_sk)));
	}
	memset(&t->st_sk[t->st_n], 0, sizeof(t->st_sk[0]));
	return &t->st_sk[t->st_n++];
}

/* The lines of /proc/net/{tcp,tcp6,udp,udp6}. */
static void
sktab_inet(struct sktab *t, const char *file, enum sk_proto proto)
{
	char		 line[512], la[40], ra[40];
	unsigned	 lp, rp, st;
	unsigned long	 ino;
	struct sk	*sk;
	FILE		*fp;

	assert_non_null(fp = fopen(file, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x "
		    "%x %*s %*s %*s %*u %*u %lu", la, &lp, ra, &rp, &st,
		    &ino) != 6)
			continue;
		sk = sktab_add(t);
		sk->sk_ino = ino;
		sk->sk_proto = proto;
		sk->sk_state = (int)st;
		sk->sk_lport = (int)lp;
		sk->sk_rport = (int)rp;
		sk->sk_rzero = strspn(ra, "0") == strlen(ra) && rp == 0;
		(void)snprintf(sk->sk_laddr, sizeof(sk->sk_laddr), "%s", la);
		(void)snprintf(sk->sk_raddr, sizeof(sk->sk_raddr), "%s", ra);
	}
	(void)fclose(fp);
}

/* The inodes of /proc/net/unix or /proc/net/netlink (column <col>). */
static void
sktab_other(struct sktab *t, const char *file, int col, enum sk_proto proto)
{
	char		 line[1024], *p, *save;
	unsigned long	 ino;
	struct sk	*sk;
	FILE		*fp;
	int		 i;

	if ((fp = fopen(file, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		for (i = 0, p = strtok_r(line, " \t\n", &save); p != NULL &&
		    i < col; i++)
			p = strtok_r(NULL, " \t\n", &save);
		if (p == NULL || (ino = strtoul(p, NULL, 10)) == 0)
			continue;
		sk = sktab_add(t);
		sk->sk_ino = ino;
		sk->sk_proto = proto;
	}
	(void)fclose(fp);
}

static void
sktab_load(struct sktab *t)
{
	memset(t, 0, sizeof(*t));
	sktab_inet(t, "/proc/net/tcp", SK_TCP);
	sktab_inet(t, "/proc/net/tcp6", SK_TCP);
	sktab_inet(t, "/proc/net/udp", SK_UDP);
	sktab_inet(t, "/proc/net/udp6", SK_UDP);
	sktab_other(t, "/proc/net/unix", 6, SK_UNIX);
	sktab_other(t, "/proc/net/netlink", 9, SK_NETLINK);
}

static const struct sk *
sktab_find(const struct sktab *t, unsigned long ino)
{
	int	i;

	for (i = 0; i < t->st_n; i++)
		if (t->st_sk[i].sk_ino == ino)
			return &t->st_sk[i];
	return NULL;
}

/* What /proc/PID/status says of the process's privileges. */
struct pstat {
	long	ps_uid[4];
	char	ps_uidline[64];
	char	ps_capeff[32];
	int	ps_nnp;
	int	ps_seccomp;
};

static void
pstat_read(pid_t pid, struct pstat *ps)
{
	char	 path[64], line[256];
	FILE	*fp;
	int	 got = 0;

	memset(ps, 0, sizeof(*ps));
	ps->ps_nnp = ps->ps_seccomp = -1;
	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "Uid:", 4) == 0) {
			got += sscanf(line + 4, "%ld %ld %ld %ld",
			    &ps->ps_uid[0], &ps->ps_uid[1], &ps->ps_uid[2],
			    &ps->ps_uid[3]) == 4;
			(void)snprintf(ps->ps_uidline, sizeof(ps->ps_uidline),
			    "%s", line + 4 + strspn(line + 4, " \t"));
		} else if (strncmp(line, "CapEff:", 7) == 0)
			got += sscanf(line + 7, " %31s", ps->ps_capeff) == 1;
		else if (strncmp(line, "NoNewPrivs:", 11) == 0)
			got += sscanf(line + 11, "%d", &ps->ps_nnp) == 1;
		else if (strncmp(line, "Seccomp:", 8) == 0)
			got += sscanf(line + 8, "%d", &ps->ps_seccomp) == 1;
	}
	(void)fclose(fp);
	assert_int_equal(got, 4);
}

/* What a process's descriptors are. */
struct fdsum {
	int	fs_listen;		/* TCP, listening */
	int	fs_tcp;			/* TCP, not listening */
	int	fs_client;		/* of those, a service's port's */
	int	fs_udp;			/* UDP, no remote address */
	int	fs_udp_conn;		/* UDP, connected */
	int	fs_unix;
	int	fs_netlink;
	int	fs_sock_other;		/* a socket in no table */
	int	fs_reg;
	int	fs_pipe;
	int	fs_anon;
	int	fs_devnull;
	int	fs_other;
	char	fs_detail[EVIDENCE_MAX];
};

static int
port_in(int port, const int *ports, int nports)
{
	int	i;

	for (i = 0; i < nports; i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

static void
fdsum_note(struct fdsum *fs, const char *fmt, ...)
{
	size_t	len = strlen(fs->fs_detail);
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(fs->fs_detail + len, sizeof(fs->fs_detail) - len, fmt,
	    ap);
	va_end(ap);
}

/* One descriptor <target> (readlink of fd <fd> of <pid>), counted. */
static void
fdsum_one(struct fdsum *fs, pid_t pid, int fd, const char *target,
    const struct sktab *t, const int *ports, int nports)
{
	const struct sk	*sk;
	struct stat	 sb;
	char		 path[64];
	unsigned long	 ino;

	if (sscanf(target, "socket:[%lu]", &ino) == 1) {
		if ((sk = sktab_find(t, ino)) == NULL) {
			fs->fs_sock_other++;
			fdsum_note(fs, "    fd %d: %s (in no /proc/net table: "
			    "not bound)\n", fd, target);
			return;
		}
		switch (sk->sk_proto) {
		case SK_TCP:
			if (sk->sk_state == TCP_LISTEN) {
				fs->fs_listen++;
				return;
			}
			fs->fs_tcp++;
			if (port_in(sk->sk_lport, ports, nports))
				fs->fs_client++;
			fdsum_note(fs, "    fd %d: TCP %s:%d -> %s:%d state "
			    "%02X%s\n", fd, sk->sk_laddr, sk->sk_lport,
			    sk->sk_raddr, sk->sk_rport, sk->sk_state,
			    port_in(sk->sk_lport, ports, nports) ?
			    " (a client of a service)" : "");
			return;
		case SK_UDP:
			if (sk->sk_rzero) {
				fs->fs_udp++;
				return;
			}
			fs->fs_udp_conn++;
			fdsum_note(fs, "    fd %d: UDP %s:%d -> %s:%d "
			    "(connected)\n", fd, sk->sk_laddr, sk->sk_lport,
			    sk->sk_raddr, sk->sk_rport);
			return;
		case SK_UNIX:
			fs->fs_unix++;
			return;
		case SK_NETLINK:
			fs->fs_netlink++;
			fdsum_note(fs, "    fd %d: netlink\n", fd);
			return;
		}
	}
	if (strncmp(target, "pipe:", 5) == 0) {
		fs->fs_pipe++;
		return;
	}
	if (strncmp(target, "anon_inode:", 11) == 0) {
		fs->fs_anon++;
		return;
	}
	(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		fs->fs_reg++;
		fdsum_note(fs, "    fd %d: file %s\n", fd, target);
	} else if (strcmp(target, "/dev/null") == 0) {
		fs->fs_devnull++;
	} else {
		fs->fs_other++;
		fdsum_note(fs, "    fd %d: %s (other)\n", fd, target);
	}
}

static void
fdsum_read(pid_t pid, struct fdsum *fs, const struct sktab *t,
    const int *ports, int nports)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[PG_PATH_MAX], target[PG_PATH_MAX];
	ssize_t		 n;

	memset(fs, 0, sizeof(*fs));
	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%s",
		    (long)pid, de->d_name);
		if ((n = readlink(path, target, sizeof(target) - 1)) == -1)
			continue;	/* closed meanwhile */
		target[n] = '\0';
		fdsum_one(fs, pid, atoi(de->d_name), target, t, ports, nports);
	}
	(void)closedir(d);
}

/* Print one process's evidence. */
static void
evidence_print(const char *role, pid_t pid, const struct pstat *ps,
    const struct fdsum *fs)
{
	print_message("%s pid %ld: Uid %s, CapEff %s, NoNewPrivs %d, "
	    "Seccomp %d\n", role, (long)pid, ps->ps_uidline, ps->ps_capeff,
	    ps->ps_nnp, ps->ps_seccomp);
	print_message("  fds: %d listening TCP, %d connected TCP (%d of "
	    "clients), %d unconnected UDP, %d connected UDP, %d UNIX, "
	    "%d netlink, %d unknown sockets, %d files, %d pipes, %d anon "
	    "inodes, %d /dev/null, %d other\n", fs->fs_listen, fs->fs_tcp,
	    fs->fs_client, fs->fs_udp, fs->fs_udp_conn, fs->fs_unix,
	    fs->fs_netlink, fs->fs_sock_other, fs->fs_reg, fs->fs_pipe,
	    fs->fs_anon, fs->fs_devnull, fs->fs_other);
	if (fs->fs_detail[0] != '\0')
		print_message("%s", fs->fs_detail);
}

/* <pid> is confined as a worker must be. */
static void
assert_confined(pid_t pid, const struct pstat *ps)
{
	int	i;

	for (i = 0; i < 4; i++)
		if (ps->ps_uid[i] == 0)
			fail_msg("worker %ld runs with uid field %d 0 (Uid "
			    "%s)", (long)pid, i, ps->ps_uidline);
	assert_string_equal(ps->ps_capeff, "0000000000000000");
	assert_int_equal(ps->ps_nnp, 1);
	assert_int_equal(ps->ps_seccomp, 2);
}

/* The children of <master> that are not workers: spawned servers. */
static void
evidence_children(pid_t master)
{
	struct dirent	*de;
	DIR		*d;
	char		 buf[512], path[64], cmd[128];
	const char	*f;
	struct pstat	 ps;
	long		 ppid;
	pid_t		 pid;
	FILE		*fp;
	size_t		 n;

	assert_non_null(d = opendir("/proc"));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(de->d_name);
		if ((f = pg_proc_stat(pid, buf, sizeof(buf))) == NULL ||
		    sscanf(f, " %*c %ld", &ppid) != 1 || ppid != master ||
		    pg_is_worker(pid))
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/cmdline",
		    (long)pid);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, fp);
		(void)fclose(fp);
		cmd[n] = '\0';
		/* Another process of portgate's own would need the checks. */
		if (strncmp(cmd, "portgate", 8) == 0)
			fail_msg("pid %ld, a child of the master, is \"%s\"",
			    (long)pid, cmd);
		pstat_read(pid, &ps);
		print_message("spawned server pid %ld (%s, excluded: the "
		    "client's program): Uid %s\n", (long)pid, cmd,
		    ps.ps_uidline);
	}
	(void)closedir(d);
}

/* --- TLS -------------------------------------------------------------- */

/* A TLS client on a blocking socket with timeouts. */
struct tlsc {
	SSL_CTX	*tc_ctx;
	SSL	*tc_ssl;
	int	 tc_fd;
};

static void
tlsc_open(struct tlsc *t, int port)
{
	struct timeval	tv = { PG_TIMEOUT_MS / 1000, 0 };
	int		fl;

	assert_true((t->tc_fd = pg_tcp_connect(NULL, "127.0.0.1", port)) >=
	    0);
	assert_true((fl = fcntl(t->tc_fd, F_GETFL)) != -1);
	assert_int_equal(fcntl(t->tc_fd, F_SETFL, fl & ~O_NONBLOCK), 0);
	assert_int_equal(setsockopt(t->tc_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(setsockopt(t->tc_fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_non_null(t->tc_ctx = SSL_CTX_new(TLS_client_method()));
	/* Not what is tested here: any certificate will do. */
	SSL_CTX_set_verify(t->tc_ctx, SSL_VERIFY_NONE, NULL);
	assert_non_null(t->tc_ssl = SSL_new(t->tc_ctx));
	assert_int_equal(SSL_set_fd(t->tc_ssl, t->tc_fd), 1);
	assert_int_equal(SSL_connect(t->tc_ssl), 1);
}

static void
tlsc_echo(struct tlsc *t, const char *msg)
{
	char	buf[256];
	int	len = (int)strlen(msg), got = 0, n;

	assert_int_equal(SSL_write(t->tc_ssl, msg, len), len);
	while (got < len) {
		n = SSL_read(t->tc_ssl, buf + got, (int)sizeof(buf) - got);
		assert_true(n > 0);
		got += n;
	}
	assert_int_equal(got, len);
	assert_memory_equal(buf, msg, (size_t)len);
}

static void
tlsc_close(struct tlsc *t)
{
	SSL_free(t->tc_ssl);
	SSL_CTX_free(t->tc_ctx);
	(void)close(t->tc_fd);
}

/* --- the tests -------------------------------------------------------- */

enum {
	P_FWD,
	P_UDP,
	P_TLS,
	P_SPAWN,
	P_TLSSPAWN,
	P_ECHO,
	P_PROXY,
	P_N
};

/*
 * The defaults of these tests, with one worker: the process model of
 * privilege separation, whatever the CPUs (test_e2e_workers has more).
 */
static void
conf_begin_one(struct pg_conf *cf, const struct pg_ctx *c)
{
	char	path[PG_PATH_MAX];

	pg_conf_init(cf);
	pg_conf_add(cf, "defaults\n{\n\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= PID HOST EXIT\n\tlog_on_failure\t= HOST\n"
	    "\tworkers\t\t= 1\n}\n", pg_path(c, ACCESS_LOG, path));
}

/*
 * Sessions of every kind at once, then what /proc says of every portgate
 * process.
 */
static void
test_proc_evidence(void **state)
{
	struct pg_ctx	*c = *state;
	struct target	*tg;
	struct pg_conf	 cf;
	struct tlsc	 tls, tlsspawn;
	struct sktab	 t;
	struct pstat	 ps;
	struct fdsum	*fs;
	char		 a[PG_PATH_MAX], b[PG_PATH_MAX], hdr[128], buf[64];
	pid_t		 workers[MAX_WORKERS];
	int		 p[P_N], fd[P_N], i, nw, clients = 0, udp_flows = 0;
	int		 holders = 0, ufd;

	need_root();
	tg = target_start();
	pg_cert_make(c);
	for (i = 0; i < P_N; i++)
		p[i] = pg_fresh_port();
	pg_conf_begin(&cf, c, ACCESS_LOG, "PID HOST EXIT", "HOST");
	conf_svc(&cf, "fwd", "fwd", p[P_FWD], "\ttype\t\t= UNLISTED\n"
	    "\tredirect\t= 127.0.0.1 %d\n", tg->tg_port);
	pg_conf_add(&cf, "\nservice udpfwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= dgram\n\twait\t\t= yes\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n}\n", p[P_UDP], tg->tg_uport);
	conf_svc(&cf, "echo", "tls-echo", p[P_TLS], ECHO_LINES
	    "\ttls\t\t= yes\n\ttls_cert\t= %s\n\ttls_key\t\t= %s\n",
	    pg_path(c, "srv.pem", a), pg_path(c, "srv.key", b));
	conf_svc(&cf, "cat", "cat", p[P_SPAWN], CAT_LINES);
	conf_svc(&cf, "tlscat", "tlscat", p[P_TLSSPAWN], CAT_LINES
	    "\ttls\t\t= yes\n\ttls_cert\t= %s\n\ttls_key\t\t= %s\n",
	    pg_path(c, "srv.pem", a), pg_path(c, "srv.key", b));
	conf_svc(&cf, "echo", "echo", p[P_ECHO], ECHO_LINES);
	conf_svc(&cf, "ap", "ap", p[P_PROXY], "\ttype\t\t= UNLISTED\n"
	    "\tredirect\t= 127.0.0.1 %d\n\taccept_proxy\t= yes\n"
	    "\tproxy_from\t= 127.0.0.1\n", tg->tg_port);
	pg_conf_start(c, &cf, CONF);

	/* Every session is established end to end, and stays open. */
	fd[P_FWD] = held_open(p[P_FWD], "forwarded\n");
	assert_true((ufd = pg_udp_open("127.0.0.1", AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(ufd, "127.0.0.1", p[P_UDP], "flow", 4),
	    0);
	assert_int_equal(pg_udp_recv(ufd, buf, sizeof(buf), PG_TIMEOUT_MS,
	    NULL, 0), 4);
	assert_memory_equal(buf, "flow", 4);
	tlsc_open(&tls, p[P_TLS]);
	tlsc_echo(&tls, "terminated\n");
	fd[P_SPAWN] = held_open(p[P_SPAWN], "spawned\n");
	tlsc_open(&tlsspawn, p[P_TLSSPAWN]);
	tlsc_echo(&tlsspawn, "spawned behind TLS\n");
	fd[P_ECHO] = held_open(p[P_ECHO], "built-in\n");
	assert_true((fd[P_PROXY] = pg_tcp_connect(NULL, "127.0.0.1",
	    p[P_PROXY])) >= 0);
	(void)snprintf(hdr, sizeof(hdr),
	    "PROXY TCP4 192.0.2.7 127.0.0.1 4242 %d\r\n", p[P_PROXY]);
	assert_int_equal(pg_send_all(fd[P_PROXY], hdr, strlen(hdr)), 0);
	held_echo(fd[P_PROXY], "behind a balancer\n");
	pg_log_wait(c, 1, "START: ap pid=0 from=192.0.2.7");

	/* What /proc says, with every session open. */
	sktab_load(&t);
	assert_non_null(fs = malloc(sizeof(*fs)));
	nw = pg_workers(c->pc_pid, workers, MAX_WORKERS);
	assert_true(nw >= 1 && nw <= MAX_WORKERS);
	print_message("--- /proc evidence: master %ld, %d worker%s; client "
	    "ports fwd %d, udp %d, tls %d, spawn %d, tls+spawn %d, echo %d, "
	    "proxy %d; targets TCP %d, UDP %d\n", (long)c->pc_pid, nw,
	    nw == 1 ? "" : "s", p[P_FWD], p[P_UDP], p[P_TLS], p[P_SPAWN],
	    p[P_TLSSPAWN], p[P_ECHO], p[P_PROXY], tg->tg_port, tg->tg_uport);

	pstat_read(c->pc_pid, &ps);
	fdsum_read(c->pc_pid, fs, &t, p, P_N);
	evidence_print("master", c->pc_pid, &ps, fs);
	/* The master: listening sockets, its own, logs, pipes; no client. */
	assert_int_equal(fs->fs_tcp, 0);
	assert_int_equal(fs->fs_udp_conn, 0);
	assert_int_equal(fs->fs_sock_other, 0);
	assert_int_equal(fs->fs_other, 0);
	assert_true(fs->fs_listen >= P_N - 1);
	assert_true(fs->fs_udp >= 1);
	assert_true(fs->fs_reg >= 1);

	for (i = 0; i < nw; i++) {
		pstat_read(workers[i], &ps);
		fdsum_read(workers[i], fs, &t, p, P_N);
		evidence_print("worker", workers[i], &ps, fs);
		/* Every worker is confined, holding clients or not. */
		assert_confined(workers[i], &ps);
		if (fs->fs_client > 0)
			holders++;
		clients += fs->fs_client;
		udp_flows += fs->fs_udp_conn;
	}
	evidence_children(c->pc_pid);
	print_message("--- %d client sockets held, all by the %d confined "
	    "worker%s; %d connected UDP socket%s (flows) in workers; none in "
	    "the master\n", clients, holders, holders == 1 ? "" : "s",
	    udp_flows, udp_flows == 1 ? "" : "s");
	/* fwd, tls, tls+spawn, echo, ap: the plain spawn's is the server's. */
	assert_true(clients >= 5);
	assert_true(holders >= 1);
	assert_true(udp_flows >= 1);
	free(fs);
	free(t.st_sk);

	tlsc_close(&tls);
	tlsc_close(&tlsspawn);
	(void)close(ufd);
	(void)close(fd[P_FWD]);
	(void)close(fd[P_SPAWN]);
	(void)close(fd[P_ECHO]);
	(void)close(fd[P_PROXY]);
	pg_stop_ok(c);
	target_stop(tg);
}

/* Wait until <pid> is dead (a zombie, or gone). */
static void
dead_wait(pid_t pid)
{
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	char		 buf[512];
	const char	*f;
	char		 st;

	while ((f = pg_proc_stat(pid, buf, sizeof(buf))) != NULL &&
	    sscanf(f, " %c", &st) == 1 && st != 'Z' && st != 'X') {
		if (pg_left(deadline) == 0)
			fail_msg("pid %ld still runs", (long)pid);
		pg_sleep_ms(1);
	}
}

/*
 * SIGKILL to the worker: the spawned servers' transfers go on, a new
 * worker serves within a second, the log says what happened.
 */
static void
test_kill_worker(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct xsync	 sy;
	struct xfer	 xf[KILL_XFERS];
	struct loop	*lp;
	char		 line[128], err[128];
	long long	 t_kill, t_dead, t_ok = 0, deadline;
	pid_t		 old, new;
	int		 pecho = pg_fresh_port(), pcat = pg_fresh_port();
	int		 i, n_dead, before = 0, after = 0, tries = 0;

	need_root();
	conf_begin_one(&cf, c);
	conf_svc(&cf, "echo", "short", pecho, ECHO_LINES);
	conf_svc(&cf, "cat", "cat", pcat, CAT_LINES);
	pg_conf_start(c, &cf, CONF);
	workers_wait(c, 1, &old);
	assert_true(short_echo(pecho, -1, err, sizeof(err)));

	xsync_init(&sy);
	for (i = 0; i < KILL_XFERS; i++)
		xfer_start(&xf[i], &sy, pcat, KILL_CHUNKS / 2, KILL_CHUNKS,
		    0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
	lp = loop_start(pecho);
	/* Half of every transfer is through, the loop runs: now. */
	xfer_wait(&sy, xf, KILL_XFERS, KILL_CHUNKS / 2);
	assert_int_equal(loop_wait(lp, 20), 0);
	assert_int_equal(kill(old, SIGKILL), 0);
	t_kill = pg_now_ms();
	dead_wait(old);
	t_dead = pg_now_ms();
	n_dead = atomic_load(&lp->lp_n);

	/* A new connection is served: how long after the kill. */
	deadline = t_kill + PG_TIMEOUT_MS;
	while (pg_left(deadline) > 0) {
		tries++;
		if (short_echo(pecho, -2, err, sizeof(err))) {
			t_ok = pg_now_ms();
			break;
		}
	}
	assert_true(t_ok != 0);
	print_message("worker %ld killed; dead %lld ms after kill(); a new "
	    "connection served %lld ms after kill() (attempt %d)\n",
	    (long)old, t_dead - t_kill, t_ok - t_kill, tries);
	assert_true(t_ok - t_kill < RECOVERY_MS);

	(void)snprintf(line, sizeof(line), "worker %ld (generation 1) killed "
	    "by signal 9", (long)old);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, line, 1), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "starting a worker in "
	    "its place; the listening sockets stayed open", 1), 0);
	workers_wait(c, 1, &new);
	assert_true(new != old);
	assert_true(pg_is_worker(new));
	print_message("new worker %ld\n", (long)new);

	/* The second halves of the transfers, through the same servers. */
	xsync_set(&sy, 1, 0);
	xfer_check(xf, KILL_XFERS, "spawned /bin/cat");
	assert_int_equal(loop_wait(lp, atomic_load(&lp->lp_n) + 20), 0);
	loop_stop(lp);
	/* Only connections begun before the worker was dead may fail. */
	for (i = 0; i < atomic_load(&lp->lp_n); i++) {
		if (lp->lp_ok[i])
			continue;
		if (lp->lp_start[i] >= t_dead)
			fail_msg("short connection %d, begun %lld ms after the "
			    "worker died, failed (first failure: %s)", i,
			    lp->lp_start[i] - t_dead, lp->lp_err);
		if (lp->lp_start[i] < t_kill)
			before++;
		else
			after++;
	}
	print_message("short connections: %d, %d begun after the worker "
	    "died, all served, the longest %lld ms; %d failed (in the killed "
	    "worker: %d begun before kill(), %d between kill() and its "
	    "death)\n", atomic_load(&lp->lp_n), atomic_load(&lp->lp_n) -
	    n_dead, lp->lp_max_ms, lp->lp_failed, before, after);
	free(lp);
	pg_stop_ok(c);
}

/*
 * 20 reloads while a spawned and a forwarded session stream and short
 * connections arrive: nothing fails, nothing is lost, and one worker is
 * left in the end.
 */
static void
test_reloads(void **state)
{
	struct pg_ctx	*c = *state;
	struct target	*tg;
	struct pg_conf	 cf;
	struct xsync	 sy;
	struct xfer	 xf[2];
	struct loop	*lp;
	pid_t		 pids[MAX_WORKERS];
	int		 pecho = pg_fresh_port(), pcat = pg_fresh_port();
	int		 pfwd = pg_fresh_port(), i, n, most = 0;
	long long	 t0, t1, slowest = 0;

	need_root();
	tg = target_start();
	conf_begin_one(&cf, c);
	conf_svc(&cf, "echo", "short", pecho, ECHO_LINES);
	conf_svc(&cf, "cat", "cat", pcat, CAT_LINES);
	conf_svc(&cf, "fwd", "fwd", pfwd, "\ttype\t\t= UNLISTED\n"
	    "\tredirect\t= 127.0.0.1 %d\n" NO_CPS, tg->tg_port);
	pg_conf_start(c, &cf, CONF);
	workers_wait(c, 1, NULL);

	xsync_init(&sy);
	xfer_start(&xf[0], &sy, pcat, RELOAD_CHUNKS, 0, 0x1234567ULL);
	xfer_start(&xf[1], &sy, pfwd, RELOAD_CHUNKS, 0, 0x7654321ULL);
	lp = loop_start(pecho);
	xfer_wait(&sy, xf, 2, RELOAD_CHUNKS);
	for (i = 1; i <= RELOADS; i++) {
		n = atomic_load(&lp->lp_n);
		t0 = pg_now_ms();
		assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
		t1 = pg_now_ms();
		if (t1 - t0 > slowest)
			slowest = t1 - t0;
		/* Both sessions and new connections go on after each. */
		xsync_set(&sy, i, 0);
		xfer_wait(&sy, xf, 2, RELOAD_CHUNKS * (i + 1));
		assert_int_equal(loop_wait(lp, n + RELOAD_CONNS), 0);
		n = pg_workers(c->pc_pid, pids, MAX_WORKERS);
		if (n > most)
			most = n;
	}
	xsync_set(&sy, RELOADS, 1);
	xfer_check(xf, 2, "reload");
	loop_stop(lp);
	if (lp->lp_failed != 0)
		fail_msg("%d of %d short connections failed; the first: %s",
		    lp->lp_failed, atomic_load(&lp->lp_n), lp->lp_err);
	print_message("%d reloads (the slowest %lld ms to \"reload done\"): "
	    "%d short connections, none failed, the longest %lld ms; %d "
	    "workers at most at once\n", RELOADS, slowest,
	    atomic_load(&lp->lp_n), lp->lp_max_ms, most);
	free(lp);
	assert_int_equal(pg_file_count(c, ACCESS_LOG, "FAIL:"), 0);
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "killed by signal"), 0);
	/* The old sessions are over: the newest worker alone is left. */
	workers_wait(c, 1, NULL);
	pg_stop_ok(c);
	target_stop(tg);
}

/*
 * instances counts across a reload: with the limit held by sessions of
 * the worker before, the new worker refuses until one of them ends.
 */
static void
test_instances_reload(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 line[128], err[128], buf[64];
	pid_t		 old;
	ssize_t		 n;
	int		 p = pg_fresh_port(), fd[INSTANCES], i, x;

	need_root();
	conf_begin_one(&cf, c);
	conf_svc(&cf, "echo", "lim", p, ECHO_LINES "\tinstances\t= %d\n",
	    INSTANCES);
	pg_conf_write(&cf, c, CONF);
	/* -d: the workers' generations and drains are in the log. */
	assert_int_equal(pg_start(c, CONF, PG_DEBUG, NULL), 0);
	workers_wait(c, 1, &old);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "of generation 1 "
	    "serving", 1), 0);
	for (i = 0; i < INSTANCES; i++)
		fd[i] = held_open(p, "held\n");
	/* One more is refused by the same worker. */
	assert_true((x = pg_tcp_connect(NULL, "127.0.0.1", p)) >= 0);
	n = pg_tcp_exchange(x, "over\n", 5, buf, sizeof(buf));
	assert_true(n <= 0);
	(void)close(x);
	pg_log_wait(c, 1, "FAIL: lim service_limit");

	assert_int_equal(pg_reload(c, PG_ERRLOG, "reload done"), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "of generation 2 "
	    "serving", 1), 0);
	(void)snprintf(line, sizeof(line), "worker %ld: a newer configuration "
	    "serves", (long)old);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, line, 1), 0);
	/* The new worker counts the old one's sessions. */
	assert_true((x = pg_tcp_connect(NULL, "127.0.0.1", p)) >= 0);
	n = pg_tcp_exchange(x, "over\n", 5, buf, sizeof(buf));
	assert_true(n <= 0);
	(void)close(x);
	pg_log_wait(c, 2, "FAIL: lim service_limit");
	/* One of them ends: a new client is served. */
	(void)close(fd[0]);
	pg_log_wait(c, 1, "EXIT: lim");
	assert_true(short_echo(p, 0, err, sizeof(err)));
	assert_int_equal(pg_log_count(c, "FAIL: lim service_limit"), 2);
	(void)close(fd[1]);
	pg_log_wait(c, 3, "EXIT: lim");
	/* The old worker, drained, is gone. */
	workers_wait(c, 1, NULL);
	pg_stop_ok(c);
}

/*
 * SIGUSR2: the master starts the same binary with the listening sockets
 * inherited; the new one writes the pid file, the old one's worker
 * drains and the old master exits.  No connection fails meanwhile.
 */
static void
test_upgrade(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct xsync	 sy;
	struct xfer	 xf[1];
	struct loop	*lp;
	long long	 deadline;
	pid_t		 old, next;
	int		 pecho = pg_fresh_port(), pcat = pg_fresh_port(), st;

	need_root();
	conf_begin_one(&cf, c);
	conf_svc(&cf, "echo", "short", pecho, ECHO_LINES);
	conf_svc(&cf, "cat", "cat", pcat, CAT_LINES);
	pg_conf_start(c, &cf, CONF);
	workers_wait(c, 1, NULL);
	old = c->pc_pid;

	xsync_init(&sy);
	xfer_start(&xf[0], &sy, pcat, RELOAD_CHUNKS, 2 * RELOAD_CHUNKS,
	    0xabcdefULL);
	lp = loop_start(pecho);
	xfer_wait(&sy, xf, 1, RELOAD_CHUNKS);
	assert_int_equal(loop_wait(lp, 20), 0);
	assert_int_equal(pg_signal(c, SIGUSR2), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "upgrade:", 1), 0);
	/* The new master names itself in the pid file. */
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	while ((next = pg_pidfile_read(c, PG_PIDFILE)) == old || next == -1) {
		if (pg_left(deadline) == 0)
			fail_msg("the pid file still names %ld", (long)old);
		pg_sleep_ms(5);
	}
	/* The old master goes once its worker has drained. */
	xsync_set(&sy, 1, 0);
	xfer_check(xf, 1, "upgrade");
	st = pg_wait_exit(c, 3 * PG_TIMEOUT_MS);
	assert_int_equal(pg_exit_code(st), 0);
	assert_int_equal(pg_adopt(c, PG_PIDFILE), 0);
	assert_true(c->pc_pid == next);
	assert_int_equal(loop_wait(lp, atomic_load(&lp->lp_n) + 20), 0);
	loop_stop(lp);
	if (lp->lp_failed != 0)
		fail_msg("%d of %d short connections failed; the first: %s",
		    lp->lp_failed, atomic_load(&lp->lp_n), lp->lp_err);
	free(lp);
	workers_wait(c, 1, NULL);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#ifndef PRIVSEP_LIFECYCLE
		cmocka_unit_test_setup_teardown(test_proc_evidence, pg_setup,
		    pg_teardown),
#endif
		cmocka_unit_test_setup_teardown(test_kill_worker, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_reloads, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_instances_reload,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, pg_setup,
		    pg_teardown),
	};

#ifdef PRIVSEP_LIFECYCLE
	(void)test_proc_evidence;	/* in test_e2e_privsep only */
#endif
	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
