/*
 * A loop of short TCP connections for test_e2e_keepalived.sh: each one
 * connects to ADDRESS PORT, sends "ping N\n", and must read the same line
 * back (an echo behind the gate) within TIMEOUT-MS.  One line per
 * connection on standard output: "START-MS ok|fail", START-MS in
 * milliseconds of the real-time clock (the clock of bash's
 * $EPOCHREALTIME, which the script reads).  Connections start at most
 * every CONNLOOP_PACE_MS, so that a refused one (a reset comes back at
 * once) does not spin.  The loop ends after COUNT
 * connections, after SECONDS, or once the file STOP exists.
 *
 * usage: connloop ADDRESS PORT COUNT SECONDS TIMEOUT-MS STOP
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONNLOOP_PACE_MS	10

/* Milliseconds of <clock>. */
static long long
clock_ms(clockid_t clock)
{
	struct timespec	ts;

	if (clock_gettime(clock, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for <events> on <fd> until <deadline> (monotonic); 1 ready, 0 not. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	long long	left;
	int		n;

	for (;;) {
		if ((left = deadline - clock_ms(CLOCK_MONOTONIC)) <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		return n == 1;
	}
}

/* Sleep until <when> (monotonic milliseconds), if it is ahead. */
static void
pace(long long when)
{
	struct timespec	ts;
	long long	left = when - clock_ms(CLOCK_MONOTONIC);

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000;
	(void)nanosleep(&ts, NULL);
}

/* One connection and one echoed line; 1 ok, 0 failed. */
static int
one(const struct sockaddr_in *sin, int i, int timeout_ms)
{
	long long	deadline = clock_ms(CLOCK_MONOTONIC) + timeout_ms;
	char		out[32], in[32];
	size_t		got = 0;
	socklen_t	elen = sizeof(int);
	ssize_t		n;
	int		fd, err = 0, len, ok = 0;

	len = snprintf(out, sizeof(out), "ping %d\n", i);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return 0;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1) {
		if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline) ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0)
			goto done;
	}
	if (write(fd, out, (size_t)len) != len)
		goto done;
	while (got < (size_t)len && wait_fd(fd, POLLIN, deadline)) {
		if ((n = read(fd, in + got, (size_t)len - got)) <= 0)
			break;
		got += (size_t)n;
	}
	ok = got == (size_t)len && memcmp(in, out, (size_t)len) == 0;
done:
	(void)close(fd);
	return ok;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	sin;
	long long		end, start, next;
	int			i, count, timeout_ms;

	if (argc != 7) {
		fprintf(stderr, "usage: connloop ADDRESS PORT COUNT SECONDS "
		    "TIMEOUT-MS STOP\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "connloop: bad address %s\n", argv[1]);
		return 2;
	}
	count = atoi(argv[3]);
	end = clock_ms(CLOCK_MONOTONIC) + 1000LL * atoi(argv[4]);
	timeout_ms = atoi(argv[5]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < count && clock_ms(CLOCK_MONOTONIC) < end &&
	    access(argv[6], F_OK) == -1; i++) {
		start = clock_ms(CLOCK_REALTIME);
		next = clock_ms(CLOCK_MONOTONIC) + CONNLOOP_PACE_MS;
		printf("%lld %s\n", start, one(&sin, i, timeout_ms) ?
		    "ok" : "fail");
		pace(next);
	}
	return 0;
}
