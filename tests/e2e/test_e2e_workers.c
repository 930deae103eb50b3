/*
 * End-to-end tests of workers = N (issue 14), against a TCP or UDP echo
 * target that is a thread of this program, through a redirect service:
 *
 * - limits: workers = 2, per_source = 2, instances = 15; three rounds of
 *   50 clients from each of 20 sources at once.  No source ever holds
 *   more than 2 sessions, the daemon never holds more than 15 connections
 *   to the target (sampled in /proc/net/tcp while the round runs), exactly
 *   15 clients are served, every other one is refused with a FAIL record
 *   saying per_source_limit or service_limit, both reasons occur, both
 *   workers serve, and each START names the worker reuseport_pick() gives
 *   its source;
 * - udp: workers = 2, 40 client sockets on 20 sources, 5 datagrams each:
 *   every reply comes back to the socket that sent it, from the service's
 *   address and port, with its own payload, none lost; the flows are on
 *   both workers, each on the one its source hashes to;
 * - kill: workers = 2, instances = 6 held by both workers; one worker is
 *   killed (SIGKILL) while the other's sessions keep echoing: those lose
 *   nothing, the dead one's clients are closed, a replacement serves a
 *   new client in under a second, and exactly the dead worker's 4 slots
 *   come back (6 held again, the 7th refused);
 * - one: workers = 1 serves as before, with one worker and one socket per
 *   service in the master and no reuseport group (a socket with
 *   SO_REUSEPORT cannot join it); workers = 2 has two per service.
 *
 * Every wait is on a condition with a deadline; loopback only.
 */
#include <sys/types.h>
#include <sys/socket.h>
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "echo_target.h"
#include "harness.h"

#include "reuseport.h"

#define CONF		"workers.conf"


#define LIM_SOURCES	20		/* 127.0.0.10 .. 127.0.0.29 */
#define LIM_FIRST	10
#define LIM_PER_SOURCE	50		/* clients of each at once */
#define LIM_CLIENTS	(LIM_SOURCES * LIM_PER_SOURCE)
#define LIM_PERSRC	2		/* per_source */
#define LIM_INSTANCES	15		/* instances */
#define LIM_ROUNDS	3
#define LIM_ROUND_MS	30000		/* a round, SYNs resent */
#define LIM_SAMPLE_MS	5		/* between samples, at least */

#define UDP_SOURCES	20		/* 127.0.0.40 .. 127.0.0.59 */
#define UDP_FIRST	40
#define UDP_CLIENTS	40		/* two sockets a source */
#define UDP_ROUNDS	5

#define KILL_INSTANCES	6
#define KILL_FIRST	60		/* sources looked for from here */
#define REPLACE_MS	1000		/* a replacement's bound */

/* The worker (0-based) reuseport_pick() gives 127.0.0.<last> of 2. */
static int
pick(int last)
{
	unsigned char	a[4] = { 127, 0, 0, (unsigned char)last };

	return reuseport_pick(2, 64, a, 4);
}

/* Wait until <c>'s master has <n> workers (they start after it), or fail. */
static void
workers_wait(const struct pg_ctx *c, int n)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int		got;

	while ((got = pg_workers(c->pc_pid, NULL, 0)) != n) {
		if (pg_left(deadline) == 0)
			fail_msg("%d workers, not %d", got, n);
		pg_sleep_ms(5);
	}
}

/*
 * Connections in /proc/net/tcp to 127.0.0.1 port <port> that are open or
 * opening (SYN_SENT, ESTABLISHED): the daemon's to the target.
 */
static int
tcp_to_port(int port)
{
	FILE		*fp;
	char		 line[512];
	unsigned	 raddr, rport, st;
	int		 n = 0;

	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		fail_msg("/proc/net/tcp: %s", strerror(errno));
	/* An address is its s_addr printed in hex (0100007F here). */
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, " %*u: %*x:%*x %x:%x %x", &raddr, &rport,
		    &st) == 3 && raddr == htonl(INADDR_LOOPBACK) &&
		    (int)rport == port && (st == 1 || st == 2))
			n++;
	(void)fclose(fp);
	return n;
}

/* Wait until tcp_to_port(<port>) is <want>, or fail the test. */
static void
tcp_to_port_wait(int port, int want)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int		n;

	while ((n = tcp_to_port(port)) != want) {
		if (pg_left(deadline) == 0)
			fail_msg("%d connections to port %d, not %d", n, port,
			    want);
		pg_sleep_ms(5);
	}
}

/* A non-blocking TCP connection begun from <src> to 127.0.0.1:<port>. */
static int
tcp_begin(const char *src, int port)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		fail_msg("connect from %s: %s", src, strerror(errno));
	return fd;
}

/*
 * A client from <src> sends <msg> and waits: 1 when the echo comes back
 * (the descriptor in *<fdp>, kept open), 0 when the daemon closes it (a
 * refusal).  Fails the test at the deadline.
 */
static int
client_try(const char *src, int port, const char *msg, int *fdp)
{
	char	buf[128];
	size_t	len = strlen(msg);
	ssize_t	n;
	int	fd;

	*fdp = -1;
	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect from %s: %s", src, strerror(errno));
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len) {
		(void)close(fd);
		return 0;
	}
	n = pg_recv_n(fd, buf, len);
	if (n == (ssize_t)len && memcmp(buf, msg, len) == 0) {
		*fdp = fd;
		return 1;
	}
	(void)close(fd);
	if (n == -1 && errno != ECONNRESET)
		fail_msg("client from %s: no echo and no refusal", src);
	return 0;
}

/* <msg> through held session <fd> comes back whole; 0 or -1. */
static int
echo_on(int fd, const char *msg)
{
	char	buf[128];
	size_t	len = strlen(msg);

	if (pg_send_all(fd, msg, len) == -1 ||
	    pg_recv_n(fd, buf, len) != (ssize_t)len)
		return -1;
	return memcmp(buf, msg, len) == 0 ? 0 : -1;
}

/* --- limits ------------------------------------------------------------ */

enum lim_state { LIM_CONNECTING, LIM_SENT, LIM_HELD, LIM_REFUSED };

struct lim_client {
	int		lc_fd;
	int		lc_src;		/* 0 .. LIM_SOURCES - 1 */
	enum lim_state	lc_state;
};

/* Move client <lc> on after poll() said <rev>; 1 once it is settled. */
static int
lim_step(struct lim_client *lc, short rev)
{
	char		c;
	int		err = 0;
	socklen_t	len = sizeof(err);
	ssize_t		n;

	if (lc->lc_state == LIM_CONNECTING) {
		assert_int_equal(getsockopt(lc->lc_fd, SOL_SOCKET, SO_ERROR,
		    &err, &len), 0);
		if (err != 0 && err != ECONNRESET)
			fail_msg("connect from 127.0.0.%d: %s",
			    LIM_FIRST + lc->lc_src, strerror(err));
		if (err == 0 && send(lc->lc_fd, "x", 1, MSG_NOSIGNAL) == 1) {
			lc->lc_state = LIM_SENT;
			return 0;
		}
	} else if ((rev & (POLLIN | POLLHUP | POLLERR)) != 0) {
		n = recv(lc->lc_fd, &c, 1, MSG_DONTWAIT);
		if (n == 1 && c == 'x') {
			lc->lc_state = LIM_HELD;
			return 1;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == -1 && errno != ECONNRESET && errno != EPIPE)
			fail_msg("client from 127.0.0.%d: %s",
			    LIM_FIRST + lc->lc_src, strerror(errno));
	} else
		return 0;
	(void)close(lc->lc_fd);
	lc->lc_fd = -1;
	lc->lc_state = LIM_REFUSED;
	return 1;
}

/*
 * One round: LIM_CLIENTS connections at once, source by source from
 * source <first> on, each client sending a byte; wait until each is held
 * (echoed) or refused, sampling the daemon's connections to the target.
 * Returns the clients held, their number per source in <held>; the most
 * connections seen in <peak>.
 */
static int
lim_round(struct lim_client *cl, int port, int tport, int first,
    int *held, int *peak)
{
	static struct pollfd	 pfd[LIM_CLIENTS];
	static int		 idx[LIM_CLIENTS];
	char			 src[32];
	long long		 deadline, sampled = 0;
	int			 i, j, s, n, open, settled = 0, total = 0;

	for (i = 0; i < LIM_CLIENTS; i++) {
		s = (first + i / LIM_PER_SOURCE) % LIM_SOURCES;
		(void)snprintf(src, sizeof(src), "127.0.0.%d", LIM_FIRST + s);
		cl[i].lc_src = s;
		cl[i].lc_state = LIM_CONNECTING;
		cl[i].lc_fd = tcp_begin(src, port);
	}
	deadline = pg_now_ms() + LIM_ROUND_MS;
	while (settled < LIM_CLIENTS) {
		if (pg_now_ms() - sampled >= LIM_SAMPLE_MS) {
			if ((n = tcp_to_port(tport)) > *peak)
				*peak = n;
			assert_true(n <= LIM_INSTANCES);
			sampled = pg_now_ms();
		}
		for (i = open = 0; i < LIM_CLIENTS; i++) {
			if (cl[i].lc_state == LIM_HELD ||
			    cl[i].lc_state == LIM_REFUSED)
				continue;
			pfd[open].fd = cl[i].lc_fd;
			pfd[open].events = cl[i].lc_state == LIM_CONNECTING ?
			    POLLOUT : POLLIN;
			pfd[open].revents = 0;
			idx[open++] = i;
		}
		if (pg_left(deadline) == 0)
			fail_msg("%d of %d clients neither served nor refused",
			    open, LIM_CLIENTS);
		if ((n = poll(pfd, (nfds_t)open, 20)) == -1 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		for (j = 0; n > 0 && j < open; j++)
			if (pfd[j].revents != 0)
				settled += lim_step(&cl[idx[j]],
				    pfd[j].revents);
	}
	if ((n = tcp_to_port(tport)) > *peak)
		*peak = n;
	for (s = 0; s < LIM_SOURCES; s++)
		held[s] = 0;
	for (i = 0; i < LIM_CLIENTS; i++)
		if (cl[i].lc_state == LIM_HELD) {
			held[cl[i].lc_src]++;
			total++;
		}
	return total;
}

static void
test_limits(void **state)
{
	static struct lim_client	 cl[LIM_CLIENTS];
	struct pg_ctx			*c = *state;
	struct echo_target			 tg;
	struct pg_conf			 cf;
	int				 port = pg_fresh_port();
	int				 held[LIM_SOURCES], w[2];
	int				 peak = 0, served = 0, refused = 0;
	int				 r, s, i, n, persrc, svc;

	echo_target_start(&tg, SOCK_STREAM);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT WORKER",
	    "HOST WORKER");
	pg_conf_add(&cf, "defaults\n{\n\tworkers\t\t= 2\n}\n");
	pg_conf_add(&cf, "service fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\tcps\t\t= 0 1\n"
	    "\tper_source\t= %d\n\tinstances\t= %d\n}\n", port, tg.tg_port,
	    LIM_PERSRC, LIM_INSTANCES);
	pg_conf_start(c, &cf, CONF);
	workers_wait(c, 2);

	for (r = 0; r < LIM_ROUNDS; r++) {
		n = lim_round(cl, port, tg.tg_port, 7 * r, held, &peak);
		/* No source over per_source, the service at instances. */
		for (s = 0; s < LIM_SOURCES; s++)
			assert_true(held[s] <= LIM_PERSRC);
		assert_int_equal(n, LIM_INSTANCES);
		served += n;
		refused += LIM_CLIENTS - n;
		tcp_to_port_wait(tg.tg_port, LIM_INSTANCES);
		pg_log_wait_re(c, served, "START: fwd "
		    "from=127\\.0\\.0\\.[0-9]+ worker=[12]$");
		pg_log_wait_re(c, refused, "FAIL: fwd (per_source|service)_"
		    "limit from=127\\.0\\.0\\.[0-9]+ worker=[12]$");
		printf("# round %d: %d served, %d refused, sources held:",
		    r + 1, n, LIM_CLIENTS - n);
		for (s = 0; s < LIM_SOURCES; s++)
			printf(" %d", held[s]);
		printf("\n");
		/* Let go; every slot comes back before the next round. */
		for (i = 0; i < LIM_CLIENTS; i++)
			if (cl[i].lc_fd != -1)
				(void)close(cl[i].lc_fd);
		pg_log_wait_re(c, served, "EXIT: fwd .*worker=[12]$");
		tcp_to_port_wait(tg.tg_port, 0);
	}
	/* Nothing refused for another reason, nothing logged twice. */
	assert_int_equal(pg_log_count_re(c, "FAIL: "), refused);
	assert_int_equal(pg_log_count_re(c, "START: "), served);
	persrc = pg_log_count_re(c, "FAIL: fwd per_source_limit ");
	svc = pg_log_count_re(c, "FAIL: fwd service_limit ");
	assert_int_equal(persrc + svc, refused);
	assert_true(persrc > 0);
	assert_true(svc > 0);
	/* Each source served by the worker its address hashes to. */
	w[0] = w[1] = 0;
	for (s = 0; s < LIM_SOURCES; s++) {
		n = pg_log_count_re(c, "START: fwd from=127\\.0\\.0\\.%d "
		    "worker=%d$", LIM_FIRST + s, pick(LIM_FIRST + s) + 1);
		assert_int_equal(n, pg_log_count_re(c, "START: fwd "
		    "from=127\\.0\\.0\\.%d ", LIM_FIRST + s));
		w[pick(LIM_FIRST + s)] += n;
	}
	printf("# %d rounds: %d served (worker 1: %d, worker 2: %d), %d "
	    "refused (per_source %d, instances %d), at most %d connections "
	    "to the target\n", LIM_ROUNDS, served, w[0], w[1], refused, persrc,
	    svc, peak);
	assert_true(w[0] > 0 && w[1] > 0);
	assert_true(peak <= LIM_INSTANCES);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

/* --- udp --------------------------------------------------------------- */

static void
test_udp(void **state)
{
	struct pg_ctx		*c = *state;
	struct echo_target		 tg;
	struct pg_conf		 cf;
	struct sockaddr_in	 from;
	socklen_t		 flen;
	struct pollfd		 pfd[UDP_CLIENTS];
	char			 src[32], msg[64], buf[128];
	long long		 deadline;
	int			 port = pg_fresh_port(), fds[UDP_CLIENTS];
	int			 got[UDP_CLIENTS], w[2] = { 0 };
	int			 r, i, n, left;
	ssize_t			 len;

	echo_target_start(&tg, SOCK_DGRAM);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST WORKER", "HOST WORKER");
	pg_conf_add(&cf, "defaults\n{\n\tworkers\t\t= 2\n}\n");
	pg_conf_add(&cf, "service udpfwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= dgram\n\twait\t\t= yes\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\tcps\t\t= 0 1\n}\n", port,
	    tg.tg_port);
	pg_conf_start(c, &cf, CONF);
	workers_wait(c, 2);
	for (i = 0; i < UDP_CLIENTS; i++) {
		(void)snprintf(src, sizeof(src), "127.0.0.%d",
		    UDP_FIRST + i / 2);
		assert_true((fds[i] = pg_udp_open(src, AF_INET)) >= 0);
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	for (r = 0; r < UDP_ROUNDS; r++) {
		for (i = 0; i < UDP_CLIENTS; i++) {
			(void)snprintf(msg, sizeof(msg), "client %d round %d",
			    i, r);
			assert_int_equal(pg_udp_send(fds[i], "127.0.0.1", port,
			    msg, strlen(msg)), 0);
			got[i] = 0;
		}
		deadline = pg_now_ms() + PG_TIMEOUT_MS;
		for (left = UDP_CLIENTS; left > 0;) {
			if (pg_left(deadline) == 0)
				fail_msg("round %d: %d of %d replies lost", r,
				    left, UDP_CLIENTS);
			for (i = 0; i < UDP_CLIENTS; i++)
				pfd[i].revents = 0;
			if (poll(pfd, UDP_CLIENTS, 50) <= 0)
				continue;
			for (i = 0; i < UDP_CLIENTS; i++) {
				if (pfd[i].revents == 0)
					continue;
				flen = sizeof(from);
				len = recvfrom(fds[i], buf, sizeof(buf) - 1,
				    MSG_DONTWAIT, (struct sockaddr *)&from,
				    &flen);
				if (len < 0)
					continue;
				buf[len] = '\0';
				(void)snprintf(msg, sizeof(msg),
				    "client %d round %d", i, r);
				/* From the service, this client's bytes. */
				assert_int_equal(from.sin_family, AF_INET);
				assert_int_equal(ntohl(from.sin_addr.s_addr),
				    INADDR_LOOPBACK);
				assert_int_equal(ntohs(from.sin_port), port);
				assert_string_equal(buf, msg);
				assert_int_equal(got[i], 0);
				got[i] = 1;
				left--;
			}
		}
	}
	/* One flow a client, on the worker its source hashes to. */
	pg_log_wait_re(c, UDP_CLIENTS, "START: udpfwd from=127\\.0\\.0\\.");
	for (i = 0; i < UDP_SOURCES; i++) {
		n = pg_log_count_re(c, "START: udpfwd from=127\\.0\\.0\\.%d "
		    "worker=%d$", UDP_FIRST + i, pick(UDP_FIRST + i) + 1);
		assert_int_equal(n, 2);
		w[pick(UDP_FIRST + i)] += n;
	}
	assert_int_equal(pg_log_count_re(c, "START: "), UDP_CLIENTS);
	assert_int_equal(pg_log_count_re(c, "FAIL: "), 0);
	printf("# %d datagrams of %d clients all echoed; flows on worker 1: "
	    "%d, worker 2: %d\n", UDP_CLIENTS * UDP_ROUNDS, UDP_CLIENTS, w[0],
	    w[1]);
	assert_true(w[0] > 0 && w[1] > 0);
	for (i = 0; i < UDP_CLIENTS; i++)
		(void)close(fds[i]);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

/* --- kill -------------------------------------------------------------- */

struct loader {
	int			 ld_fds[2];
	volatile int		 ld_stop;
	volatile long		 ld_done;	/* echoes come back */
	volatile long		 ld_errors;
	pthread_t		 ld_thread;
};

/* Echo over the survivor's sessions, one after the other, until told. */
static void *
loader_main(void *arg)
{
	struct loader	*ld = arg;
	char		 msg[64];
	long		 k;

	for (k = 0; !ld->ld_stop; k++) {
		(void)snprintf(msg, sizeof(msg), "load %ld", k);
		if (echo_on(ld->ld_fds[k % 2], msg) == 0)
			ld->ld_done++;
		else {
			ld->ld_errors++;
			break;
		}
	}
	return NULL;
}

/* Wait until <ld> has had <n> echoes (or an error), or fail the test. */
static void
loader_wait(const struct loader *ld, long n)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;

	while (ld->ld_done < n && ld->ld_errors == 0) {
		if (pg_left(deadline) == 0)
			fail_msg("%ld echoes of the load, not %ld",
			    ld->ld_done, n);
		pg_sleep_ms(1);
	}
}

/* The pid of worker <n> (1-based) of <c>, from the SIGUSR1 dump. */
static pid_t
worker_pid(struct pg_ctx *c, int n)
{
	char	 needle[64], *log, *p;
	int	 before;
	long	 pid = -1;

	(void)snprintf(needle, sizeof(needle), "dump: worker %d (pid ", n);
	before = pg_file_count(c, PG_ERRLOG, needle);
	assert_int_equal(pg_signal(c, SIGUSR1), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, needle, before + 1), 0);
	assert_non_null(log = pg_file_read(c, PG_ERRLOG));
	for (p = log; (p = strstr(p, needle)) != NULL; p++)
		pid = strtol(p + strlen(needle), NULL, 10);
	free(log);
	assert_true(pid > 1);
	return (pid_t)pid;
}

/* The first source from 127.0.0.<*next> on that worker <w> gets. */
static int
source_of(int w, int *next)
{
	while (pick(*next) != w)
		(*next)++;
	return (*next)++;
}

static void
test_kill(void **state)
{
	struct pg_ctx	*c = *state;
	struct echo_target	 tg;
	struct pg_conf	 cf;
	struct loader	 ld;
	char		 src[32], msg[64], buf[16];
	int		 port = pg_fresh_port(), next = KILL_FIRST;
	int		 keep[2], lose[2], held[KILL_INSTANCES], extra[3];
	int		 fd, i, nheld = 0, probe, *s;
	pid_t		 victim, pids[4];
	long		 done_at_kill;
	long long	 t0, ms;

	/* Sources that worker 1 (kept) and worker 2 (killed) get. */
	keep[0] = source_of(0, &next);
	keep[1] = source_of(0, &next);
	lose[0] = source_of(1, &next);
	lose[1] = source_of(1, &next);
	echo_target_start(&tg, SOCK_STREAM);
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST EXIT WORKER",
	    "HOST WORKER");
	pg_conf_add(&cf, "defaults\n{\n\tworkers\t\t= 2\n}\n");
	pg_conf_add(&cf, "service fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\tcps\t\t= 0 1\n"
	    "\tinstances\t= %d\n}\n", port, tg.tg_port, KILL_INSTANCES);
	pg_conf_start(c, &cf, CONF);

	/* instances held: 2 sessions on worker 1, 4 on worker 2. */
	for (i = 0; i < KILL_INSTANCES; i++) {
		s = i < 2 ? &keep[i] : &lose[i % 2];
		(void)snprintf(src, sizeof(src), "127.0.0.%d", *s);
		(void)snprintf(msg, sizeof(msg), "hold %d", i);
		assert_int_equal(client_try(src, port, msg, &held[i]), 1);
		nheld++;
	}
	(void)snprintf(src, sizeof(src), "127.0.0.%d", keep[0]);
	assert_int_equal(client_try(src, port, "one too many", &fd), 0);
	pg_log_wait(c, 1, "FAIL: fwd service_limit from=%s worker=1", src);
	pg_log_wait_re(c, 2, "START: fwd .* worker=1$");
	pg_log_wait_re(c, 4, "START: fwd .* worker=2$");

	victim = worker_pid(c, 2);
	ld.ld_fds[0] = held[0];
	ld.ld_fds[1] = held[1];
	ld.ld_stop = 0;
	ld.ld_done = ld.ld_errors = 0;
	assert_int_equal(pthread_create(&ld.ld_thread, NULL, loader_main, &ld),
	    0);
	loader_wait(&ld, 20);		/* the load is running */
	done_at_kill = ld.ld_done;
	t0 = pg_now_ms();
	assert_int_equal(kill(victim, SIGKILL), 0);
	/* A new client of the dead worker's socket waits for its heir. */
	(void)snprintf(src, sizeof(src), "127.0.0.%d", lose[0]);
	probe = client_try(src, port, "probe", &fd);
	ms = pg_now_ms() - t0;
	printf("# worker 2 killed: a new client of its socket served %lld ms "
	    "later\n", ms);
	assert_int_equal(probe, 1);
	assert_true(ms < REPLACE_MS);
	extra[0] = fd;
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "killed by signal 9", 1),
	    0);

	/* Its clients were closed; the survivor's were not. */
	for (i = 2; i < KILL_INSTANCES; i++) {
		assert_int_equal(pg_poll(held[i], POLLIN, PG_TIMEOUT_MS), 1);
		assert_true(recv(held[i], buf, sizeof(buf), 0) <= 0);
		(void)close(held[i]);
	}
	loader_wait(&ld, done_at_kill + 100);
	ld.ld_stop = 1;
	(void)pthread_join(ld.ld_thread, NULL);
	printf("# %ld echoes over worker 1's sessions, %ld after the kill, %ld "
	    "lost\n", ld.ld_done, ld.ld_done - done_at_kill, ld.ld_errors);
	assert_int_equal(ld.ld_errors, 0);
	assert_int_equal(pg_log_count_re(c, "EXIT: fwd .* worker=1$"), 0);

	/* Its 4 slots came back, and only those: 6 held again, not 7. */
	(void)snprintf(src, sizeof(src), "127.0.0.%d", keep[1]);
	assert_int_equal(client_try(src, port, "again 1", &extra[1]), 1);
	(void)snprintf(src, sizeof(src), "127.0.0.%d", lose[1]);
	assert_int_equal(client_try(src, port, "again 2", &extra[2]), 1);
	assert_int_equal(client_try(src, port, "again 3", &fd), 1);
	assert_int_equal(client_try(src, port, "over", &i), 0);
	pg_log_wait(c, 1, "FAIL: fwd service_limit from=%s worker=2", src);
	(void)snprintf(src, sizeof(src), "127.0.0.%d", keep[0]);
	assert_int_equal(client_try(src, port, "over", &i), 0);
	pg_log_wait(c, 2, "FAIL: fwd service_limit from=%s worker=1", src);
	tcp_to_port_wait(tg.tg_port, KILL_INSTANCES);

	/* Two workers again, the dead one not among them. */
	assert_int_equal(pg_workers(c->pc_pid, pids, 4), 2);
	assert_true(pids[0] != victim && pids[1] != victim);
	assert_int_equal(echo_on(held[0], "still here"), 0);
	assert_int_equal(echo_on(held[1], "still here"), 0);
	(void)close(fd);
	for (i = 0; i < 3; i++)
		(void)close(extra[i]);
	(void)close(held[0]);
	(void)close(held[1]);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

/* --- workers = 1 ------------------------------------------------------- */

/*
 * Sockets of process <pid> bound to local port <port> in
 * /proc/net/<table> (tcp, udp, ...).
 */
static int
proc_sockets(pid_t pid, const char *table, int port)
{
	char		 path[PG_PATH_MAX], link[64], line[512];
	unsigned long	 inodes[256], ino;
	unsigned	 lport;
	struct dirent	*de;
	DIR		*d;
	FILE		*fp;
	ssize_t		 len;
	int		 n = 0, k, count = 0;

	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL && n < 256) {
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%s",
		    (long)pid, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1)
			inodes[n++] = ino;
	}
	(void)closedir(d);
	(void)snprintf(path, sizeof(path), "/proc/net/%s", table);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*x:%*x %*x %*x:%*x "
		    "%*x:%*x %*x %*u %*u %lu", &lport, &ino) != 2 ||
		    (int)lport != port)
			continue;
		for (k = 0; k < n; k++)
			count += inodes[k] == ino;
	}
	(void)fclose(fp);
	return count;
}

/* Start <nw> workers with a TCP redirect and the UDP echo built-in. */
static void
one_start(struct pg_ctx *c, int nw, int tport, int port, int uport)
{
	struct pg_conf	cf;

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST WORKER", "HOST WORKER");
	pg_conf_add(&cf, "defaults\n{\n\tworkers\t\t= %d\n}\n", nw);
	pg_conf_add(&cf, "service fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n}\n", port, tport);
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= dgram\n\twait\t\t= yes\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n}\n", uport);
	pg_conf_start(c, &cf, CONF);
}

/* The TCP and the UDP service answer a client from 127.0.0.<last>. */
static void
one_serve(struct pg_ctx *c, int port, int uport, int last, int worker)
{
	char	src[32], buf[64];
	ssize_t	n;
	int	fd;

	(void)snprintf(src, sizeof(src), "127.0.0.%d", last);
	assert_int_equal(client_try(src, port, "through", &fd), 1);
	(void)close(fd);
	assert_true((fd = pg_udp_open(src, AF_INET)) >= 0);
	assert_int_equal(pg_udp_send(fd, "127.0.0.1", uport, "dgram", 5), 0);
	n = pg_udp_recv(fd, buf, sizeof(buf), PG_TIMEOUT_MS, NULL, 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "dgram", 5);
	(void)close(fd);
	pg_log_wait(c, 1, "START: fwd from=%s worker=%d", src, worker);
}

static void
test_one(void **state)
{
	struct pg_ctx		*c = *state;
	struct echo_target		 tg;
	struct sockaddr_in	 sin;
	int			 port = pg_fresh_port();
	int			 uport = pg_fresh_port();
	int			 fd, on = 1, rc, saved;

	echo_target_start(&tg, SOCK_STREAM);
	one_start(c, 1, tg.tg_port, port, uport);
	workers_wait(c, 1);
	one_serve(c, port, uport, 9, 1);
	/* One socket a service in the master, as before workers = N. */
	assert_int_equal(proc_sockets(c->pc_pid, "tcp", port), 1);
	assert_int_equal(proc_sockets(c->pc_pid, "udp", uport), 1);
	/* Not in a reuseport group: no other socket can join it. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	(void)close(fd);
	assert_int_equal(rc, -1);
	assert_int_equal(saved, EADDRINUSE);
	pg_stop_ok(c);

	/* Against workers = 2: two sockets each, both workers serving. */
	one_start(c, 2, tg.tg_port, port, uport);
	workers_wait(c, 2);
	assert_int_equal(proc_sockets(c->pc_pid, "tcp", port), 2);
	assert_int_equal(proc_sockets(c->pc_pid, "udp", uport), 2);
	fd = KILL_FIRST;
	one_serve(c, port, uport, source_of(0, &fd), 1);
	one_serve(c, port, uport, source_of(1, &fd), 2);
	pg_stop_ok(c);
	echo_target_stop(&tg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_udp, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_kill, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_one, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
