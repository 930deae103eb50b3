/*
 * A Prometheus-like scraper for bench/scrape.sh: every INTERVAL ms, one
 * connection sends "GET /metrics" and reads the answer to EOF (portgate
 * closes after one), for SECS seconds; ticks are on an absolute schedule,
 * a late one is not made up for.  Prints one line:
 *	scrapes=.. fail=.. bytes=.. max_ms=..
 * fail: a connect error, no "200" status, or 5 s without EOF.
 *
 * usage: scrape_loop [-i INTERVAL_MS] [-t SECS] HOST PORT
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

static const char	req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\n"
			    "User-Agent: scrape_loop\r\n\r\n";

/* One scrape: the bytes of the answer, or -1. */
static long
scrape(const struct sockaddr_in *dst)
{
	struct timeval	tv = { 5, 0 };
	char		buf[65536];
	long		total = 0;
	ssize_t		n;
	int		fd, ok = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (total == 0 && n >= 12 && memcmp(buf + 9, "200", 3) == 0)
			ok = 1;
		total += n;
	}
	close(fd);
	return n == 0 && ok ? total : -1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	dst;
	struct timespec		next;
	double			secs = 10, interval_ms = 100, t0, t, max = 0;
	long			scrapes = 0, fail = 0, bytes = 0, b;
	int			ch;

	while ((ch = getopt(argc, argv, "i:t:")) != -1) {
		switch (ch) {
		case 'i': interval_ms = atof(optarg); break;
		case 't': secs = atof(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2 || interval_ms < 1 || secs <= 0 || secs > 3600)
		goto usage;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1)
		goto usage;
	clock_gettime(CLOCK_MONOTONIC, &next);
	t0 = now_us();
	while (now_us() - t0 < secs * 1e6) {
		t = now_us();
		if ((b = scrape(&dst)) == -1)
			fail++;
		else {
			scrapes++;
			bytes += b;
		}
		if ((now_us() - t) / 1e3 > max)
			max = (now_us() - t) / 1e3;
		next.tv_nsec += (long)(interval_ms * 1e6);
		next.tv_sec += next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
	}
	printf("scrapes=%ld fail=%ld bytes=%ld max_ms=%.1f\n", scrapes, fail,
	    bytes, max);
	return 0;
usage:
	fprintf(stderr, "usage: scrape_loop [-i INTERVAL_MS] [-t SECS] "
	    "HOST PORT\n");
	return 2;
}
