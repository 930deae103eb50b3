/*
 * UDP request/response rate: one socket, ping-pong of SIZE-byte datagrams
 * (default 32) for SECS seconds (default 3), each reply awaited at most
 * 100 ms (then counted as lost, and the next request goes out).  Prints:
 *	rate=.. ok=.. lost=.. p50_us=.. p99_us=..
 * usage: udp_rr HOST PORT [SECS [SIZE]]
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#define MAXSAMPLES	(4 << 20)

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 0, 100000 };
	double			secs, start, t0, t;
	size_t			size;
	uint64_t		seq = 0, got;
	long			ok = 0, lost = 0, ns = 0;
	float			*lat;
	char			buf[65536];
	ssize_t			r;
	int			fd;

	if (argc < 3) {
		fprintf(stderr, "usage: udp_rr HOST PORT [SECS [SIZE]]\n");
		return 2;
	}
	secs = argc > 3 ? atof(argv[3]) : 3;
	size = argc > 4 ? (size_t)atoi(argv[4]) : 32;
	if (secs <= 0 || secs > 120 || size < sizeof(seq) || size > 1400)
		return 2;
	lat = calloc(MAXSAMPLES, sizeof(*lat));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("udp_rr");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(buf, 'x', sizeof(buf));
	start = now_us();
	while ((t0 = now_us()) - start < secs * 1e6) {
		seq++;
		memcpy(buf, &seq, sizeof(seq));
		if (send(fd, buf, size, 0) != (ssize_t)size) {
			lost++;
			usleep(1000);
			continue;
		}
		for (;;) {
			r = recv(fd, buf, sizeof(buf), 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				lost++;		/* timeout or ICMP error */
				if (errno == ECONNREFUSED)
					usleep(10000);
				break;
			}
			if ((size_t)r < sizeof(got))
				continue;
			memcpy(&got, buf, sizeof(got));
			if (got != seq)
				continue;	/* a late reply */
			t = now_us();
			ok++;
			if (ns < MAXSAMPLES)
				lat[ns++] = (float)(t - t0);
			break;
		}
	}
	t = now_us();
	close(fd);
	if (ns > 0)
		qsort(lat, (size_t)ns, sizeof(*lat), cmp_float);
	printf("rate=%.0f ok=%ld lost=%ld p50_us=%.1f p99_us=%.1f\n",
	    ok / ((t - start) / 1e6), ok, lost, ns ? lat[ns / 2] : 0.0,
	    ns ? lat[(size_t)(ns * 0.99)] : 0.0);
	return 0;
}
