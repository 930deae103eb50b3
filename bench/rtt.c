/*
 * Round-trip latency on one kept-alive TCP connection: N round trips of
 * SIZE bytes (default 20000 of 32), after a warm-up of 1000, each timed
 * with CLOCK_MONOTONIC.  Prints one line:
 *	p50_us=.. p99_us=.. mean_us=.. n=..
 * Bounded: 2 s per reply, 60 s in all.
 * usage: rtt HOST PORT [N [SIZE]]
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#define WARMUP	1000
#define LIMIT_S	60

static int
roundtrip(int fd, char *buf, size_t size)
{
	size_t	got = 0;
	ssize_t	r;

	if (write(fd, buf, size) != (ssize_t)size)
		return -1;
	while (got < size) {
		if ((r = read(fd, buf + got, size - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 2, 0 };
	int			fd, one = 1, n, i;
	size_t			size;
	double			 t0, start, sum = 0;
	float			*lat;
	char			*buf;

	if (argc < 3) {
		fprintf(stderr, "usage: rtt HOST PORT [N [SIZE]]\n");
		return 2;
	}
	n = argc > 3 ? atoi(argv[3]) : 20000;
	size = argc > 4 ? (size_t)atoi(argv[4]) : 32;
	if (n <= 0 || size == 0 || size > 65536)
		return 2;
	lat = calloc((size_t)n, sizeof(*lat));
	buf = calloc(1, size);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fprintf(stderr, "rtt: connect: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	start = now_us();
	for (i = 0; i < WARMUP; i++)
		if (roundtrip(fd, buf, size) == -1) {
			fprintf(stderr, "rtt: warm-up failed at %d\n", i);
			return 1;
		}
	for (i = 0; i < n; i++) {
		memset(buf, 'a' + i % 26, size);
		t0 = now_us();
		if (roundtrip(fd, buf, size) == -1) {
			fprintf(stderr, "rtt: round trip %d failed\n", i);
			return 1;
		}
		lat[i] = (float)(now_us() - t0);
		sum += lat[i];
		if (buf[0] != 'a' + i % 26) {
			fprintf(stderr, "rtt: bad echo at %d\n", i);
			return 1;
		}
		if (t0 - start > LIMIT_S * 1e6) {
			n = i + 1;
			break;
		}
	}
	close(fd);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_float);
	printf("p50_us=%.1f p99_us=%.1f mean_us=%.1f n=%d\n", lat[n / 2],
	    lat[(size_t)(n * 0.99)], sum / n, n);
	return 0;
}
