/*
 * What the worker's seccomp filter (src/sandbox.c) costs per system call:
 * the calls of a forwarded connection timed in a loop, without the filter
 * and then, in a child, under it.  A call that the filter allows whatever
 * its arguments skips the filter on a kernel with the seccomp action cache
 * (5.11 and later): it costs the same either way.  A call with an
 * argument rule (socket, fcntl) runs the filter.
 *
 * usage: make bench/bench_seccomp && bench/bench_seccomp [ROUNDS]
 * (as any user: the filter needs only no_new_privs).
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define CALLS	200000

static double
now_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Time each call in a loop; print one line. */
static void
bench_calls(const char *label)
{
	struct epoll_event	ev = { .events = EPOLLIN };
	socklen_t		len;
	double			t[5];
	int			i, s, ep, err;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    (ep = epoll_create1(0)) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == -1) {
		printf("%s: set-up failed\n", label);
		exit(1);
	}
	t[0] = now_ns();
	for (i = 0; i < CALLS; i++) {
		len = sizeof(err);
		(void)getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	}
	t[1] = now_ns();
	for (i = 0; i < CALLS; i++)
		(void)epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
	t[2] = now_ns();
	for (i = 0; i < CALLS / 4; i++)
		(void)close(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0));
	t[3] = now_ns();
	for (i = 0; i < CALLS; i++)
		(void)fcntl(s, F_GETFL);
	t[4] = now_ns();
	printf("%-9s getsockopt %5.0f ns  epoll_ctl %5.0f ns  "
	    "socket+close %5.0f ns  fcntl %5.0f ns\n", label,
	    (t[1] - t[0]) / CALLS, (t[2] - t[1]) / CALLS,
	    (t[3] - t[2]) / (CALLS / 4), (t[4] - t[3]) / CALLS);
	(void)close(ep);
	(void)close(s);
}

int
main(int argc, char *argv[])
{
	char	err[256];
	int	r, rounds = argc > 1 ? atoi(argv[1]) : 3, status;
	pid_t	pid;

	for (r = 0; r < rounds; r++) {
		bench_calls("no filter");
		(void)fflush(stdout);
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			if (sandbox_seccomp(err, sizeof(err)) == -1) {
				printf("%s\n", err);
				_exit(1);
			}
			bench_calls("filter");
			(void)fflush(stdout);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
	}
	return 0;
}
