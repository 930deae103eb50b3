/*
 * Hold N idle forwarded connections: connect N times, send one byte on
 * each and wait for its echo (so that the whole path, proxy and back end,
 * is set up), print "held=K failed=F", then keep them open, idle, until
 * SIGTERM or SECS seconds (default 60).
 * usage: hold_conns HOST PORT N [SECS]
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 3, 0 };
	int			n, secs, i, fd, held = 0, failed = 0;
	char			c;
	time_t			t0;

	if (argc < 4) {
		fprintf(stderr, "usage: hold_conns HOST PORT N [SECS]\n");
		return 2;
	}
	n = atoi(argv[3]);
	secs = argc > 4 ? atoi(argv[4]) : 60;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	t0 = time(NULL);
	for (i = 0; i < n && !stop && time(NULL) - t0 < secs; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
			failed++;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		c = 'x';
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 ||
		    c != 'x') {
			failed++;
			close(fd);
			continue;
		}
		held++;
	}
	printf("held=%d failed=%d\n", held, failed);
	fflush(stdout);
	while (!stop && time(NULL) - t0 < secs)
		usleep(100000);
	return 0;
}
