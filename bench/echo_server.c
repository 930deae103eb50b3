/*
 * Back end for the benchmarks: one thread, one epoll loop.
 *   -t PORT	TCP echo (any number of kept-alive connections)
 *   -u PORT	UDP echo (each datagram sent back to its sender)
 *   -l PORT	TCP line server: writes one line to each client and closes
 *		(the persistent counterpart of tiny_server)
 *   -a PORT	TCP refuser: accepts each client and closes it at once (the
 *		cost of a refused connection without any gate, for comparison)
 *   -b ADDR	address to bind (default 127.0.0.1)
 *   -T SECS	exit after SECS seconds (default 3600): never runs unbounded
 * Any combination of -t, -u, -l, -a.  Runs until SIGTERM/SIGINT or -T.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAG_TCP_LISTEN	(1ULL << 32)
#define TAG_UDP		(2ULL << 32)
#define TAG_LINE_LISTEN	(3ULL << 32)
#define TAG_CONN	(4ULL << 32)
#define TAG_CLOSE_LISTEN	(5ULL << 32)

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
listener(const char *addr, int port, int type)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		perror("socket");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		exit(1);
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fprintf(stderr, "bind %s:%d: %s\n", addr, port, strerror(errno));
		exit(1);
	}
	if (type == SOCK_STREAM && listen(fd, 4096) == -1) {
		perror("listen");
		exit(1);
	}
	return fd;
}

static void
add(int ep, int fd, uint64_t tag)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag | (uint32_t)fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("epoll_ctl");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char		*addr = "127.0.0.1";
	int			 tport = 0, uport = 0, lport = 0, aport = 0;
	int			 secs = 3600;
	int			 ep, c, i, n, one = 1;
	struct epoll_event	 evs[256];
	static char		 buf[65536];
	static const char	 line[] = "hello from the persistent server\n";
	struct timespec		 t0, t;

	while ((c = getopt(argc, argv, "a:b:t:u:l:T:")) != -1) {
		switch (c) {
		case 'a': aport = atoi(optarg); break;
		case 'b': addr = optarg; break;
		case 't': tport = atoi(optarg); break;
		case 'u': uport = atoi(optarg); break;
		case 'l': lport = atoi(optarg); break;
		case 'T': secs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: echo_server [-b addr] [-t port] "
			    "[-u port] [-l port] [-a port] [-T secs]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll_create1");
		return 1;
	}
	if (tport)
		add(ep, listener(addr, tport, SOCK_STREAM), TAG_TCP_LISTEN);
	if (uport)
		add(ep, listener(addr, uport, SOCK_DGRAM), TAG_UDP);
	if (lport)
		add(ep, listener(addr, lport, SOCK_STREAM), TAG_LINE_LISTEN);
	if (aport)
		add(ep, listener(addr, aport, SOCK_STREAM), TAG_CLOSE_LISTEN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= secs)
			break;
		if ((n = epoll_wait(ep, evs, 256, 1000)) == -1) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t	tag = evs[i].data.u64 & ~0xffffffffULL;
			int		fd = (int)(evs[i].data.u64 & 0xffffffffULL);
			int		cfd, k;
			ssize_t		r;

			if (tag == TAG_TCP_LISTEN || tag == TAG_LINE_LISTEN ||
			    tag == TAG_CLOSE_LISTEN) {
				for (k = 0; k < 64; k++) {
					cfd = accept4(fd, NULL, NULL,
					    SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (cfd == -1)
						break;
					if (tag == TAG_CLOSE_LISTEN) {
						close(cfd);
						continue;
					}
					if (tag == TAG_LINE_LISTEN) {
						(void)write(cfd, line,
						    sizeof(line) - 1);
						close(cfd);
						continue;
					}
					(void)setsockopt(cfd, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					add(ep, cfd, TAG_CONN);
				}
			} else if (tag == TAG_UDP) {
				for (k = 0; k < 64; k++) {
					struct sockaddr_storage	from;
					socklen_t		fl = sizeof(from);

					r = recvfrom(fd, buf, sizeof(buf), 0,
					    (struct sockaddr *)&from, &fl);
					if (r < 0)
						break;
					(void)sendto(fd, buf, (size_t)r, 0,
					    (struct sockaddr *)&from, fl);
				}
			} else {
				r = read(fd, buf, sizeof(buf));
				if (r > 0) {
					/* Small echoes: a blocking-ish write
					 * of what was read is enough. */
					ssize_t off = 0, w;

					while (off < r) {
						w = write(fd, buf + off,
						    (size_t)(r - off));
						if (w > 0)
							off += w;
						else if (w == -1 &&
						    errno == EAGAIN)
							continue;
						else
							break;
					}
					if (off < r)
						close(fd);
				} else if (r == 0 || errno != EAGAIN)
					close(fd);
			}
		}
	}
	return 0;
}
