/*
 * Connection rate: keep up to CONC connections in flight, each one
 * connect, read to EOF, close, as fast as possible (or at most RATE new
 * connections per second) for SECS seconds, bounded by MAX connections.
 * Prints one line:
 *	cps=.. ok=.. empty=.. fail=.. p50_ms=.. p99_ms=..
 * ok: some bytes then EOF; empty: EOF (or a reset) before any byte, as a
 * refused client sees it; fail: connect error or 5 s without EOF.
 * p50/p99: connect to EOF of the ok connections.
 *
 * usage: conn_rate [-b SRCADDR] [-c CONC] [-t SECS] [-r RATE] [-n MAX]
 *		    HOST PORT
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAXCONC		4096
#define TIMEOUT_US	5e6
#define MAXSAMPLES	(4 << 20)

struct slot {
	int	fd;
	double	start;
	long	got;
};

static struct sockaddr_in	dst, src;
static int			use_src;
static long			ok, empty, fail, started, nsamp;
static float			*samples;
static int			ep;

/* Start a connection in slot <s>; 0, or -1 (counted as a failure). */
static int
slot_start(struct slot *s, int idx)
{
	struct epoll_event	ev;
	int			fd, one = 1;

	started++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (use_src) {
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t)idx;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	s->fd = fd;
	s->start = now_us();
	s->got = 0;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	s->fd = -1;
	fail++;
	return -1;
}

static void
slot_end(struct slot *s, int how)
{
	close(s->fd);
	s->fd = -1;
	if (how == 0) {
		ok++;
		if (nsamp < MAXSAMPLES)
			samples[nsamp++] = (float)((now_us() - s->start) / 1e3);
	} else if (how == 1)
		empty++;
	else
		fail++;
}

int
main(int argc, char **argv)
{
	struct slot		*slots;
	struct epoll_event	 evs[256];
	char			 buf[4096];
	double			 secs = 3, rate = 0, start, t, elapsed;
	long			 max = 10000000;
	int			 conc = 16, c, i, n, idle;

	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	while ((c = getopt(argc, argv, "b:c:t:r:n:")) != -1) {
		switch (c) {
		case 'b':
			if (inet_pton(AF_INET, optarg, &src.sin_addr) != 1)
				return 2;
			use_src = 1;
			break;
		case 'c': conc = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'n': max = atol(optarg); break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || conc < 1 || conc > MAXCONC || secs <= 0 ||
	    secs > 300)
		goto usage;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	samples = calloc(MAXSAMPLES, sizeof(*samples));
	slots = calloc((size_t)conc, sizeof(*slots));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	for (i = 0; i < conc; i++)
		slots[i].fd = -1;
	start = now_us();
	for (;;) {
		t = now_us();
		elapsed = (t - start) / 1e6;
		idle = 0;
		/* Refill free slots, as the time, MAX and RATE allow. */
		for (i = 0; i < conc; i++) {
			if (slots[i].fd != -1) {
				if (t - slots[i].start > TIMEOUT_US) {
					epoll_ctl(ep, EPOLL_CTL_DEL,
					    slots[i].fd, NULL);
					slot_end(&slots[i], 2);
				} else
					continue;
			}
			if (elapsed >= secs || started >= max) {
				idle++;
				continue;
			}
			if (rate > 0 && started >= rate * elapsed + 1)
				continue;
			if (slot_start(&slots[i], i) == -1)
				usleep(1000);	/* e.g. no free port */
		}
		if (idle == conc)	/* all done, nothing more to start */
			break;
		n = epoll_wait(ep, evs, 256, rate > 0 ? 1 : 100);
		for (i = 0; i < n; i++) {
			struct slot	*s = &slots[evs[i].data.u32];
			ssize_t		 r;

			if (s->fd == -1)
				continue;
			for (;;) {
				r = read(s->fd, buf, sizeof(buf));
				if (r > 0) {
					s->got += r;
					continue;
				}
				if (r == 0)
					slot_end(s, s->got > 0 ? 0 : 1);
				else if (errno == EAGAIN)
					break;
				else if (errno == ECONNRESET ||
				    errno == EPIPE)
					slot_end(s, s->got > 0 ? 0 : 1);
				else
					slot_end(s, 2);
				break;
			}
		}
	}
	t = now_us();
	if (nsamp > 0)
		qsort(samples, (size_t)nsamp, sizeof(*samples), cmp_float);
	printf("cps=%.0f ok=%ld empty=%ld fail=%ld p50_ms=%.3f p99_ms=%.3f\n",
	    (ok + empty) / ((t - start) / 1e6), ok, empty, fail,
	    nsamp ? samples[nsamp / 2] : 0.0,
	    nsamp ? samples[(size_t)(nsamp * 0.99)] : 0.0);
	return 0;
usage:
	fprintf(stderr, "usage: conn_rate [-b SRCADDR] [-c CONC] [-t SECS] "
	    "[-r RATE] [-n MAX] HOST PORT\n");
	return 2;
}
