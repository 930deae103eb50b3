/*
 * The physical limit of spawning a server per connection on this machine:
 * no daemon, no configuration, no logging, only the system calls that any
 * inetd must make.  Two modes:
 *
 *   spawn_loop -s SERVER [-u USER] [-c CONC] [-t SECS] [-n MAX]
 *	The driver is its own client: it keeps CONC connections in flight,
 *	each one a loopback TCP connection to its own listener (connect,
 *	accept), fork, and in the child dup2 of the accepted socket on 0, 1
 *	and 2, setgid/setuid USER, exec SERVER; the parent reads its end to
 *	EOF, as bench/conn_rate.c does.  Prints conn_rate's line:
 *		cps=.. ok=.. empty=.. fail=.. p50_ms=.. p99_ms=..
 *
 *   spawn_loop -s SERVER [-u USER] -l PORT [-T SECS]
 *	The least an inetd can be: accept on 127.0.0.1:PORT, fork, exec,
 *	close, nothing else (measured by bench/conn_rate.c like the
 *	daemons); exits after SECS (default 3600).
 *
 * -v: vfork() instead of fork() (the parent waits until the child has
 * exec'd, but copies no page tables).  Children are reaped by the kernel
 * (SIGCHLD ignored).  Every loop is bounded by SECS and MAX.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timing.h"

#define MAXCONC		4096
#define TIMEOUT_US	5e6
#define MAXSAMPLES	(4 << 20)

struct slot {
	int	fd;
	double	start;
	long	got;
};

static const char	*server;
static uid_t		 uid;
static gid_t		 gid;
static int		 drop, use_vfork;
static long		 ok, empty, fail, started, nsamp;
static float		*samples;

/* Fork SERVER on the connected socket <fd>; the parent closes it. */
static int
spawn(int fd)
{
	char	*argv[2];
	pid_t	 pid;

	pid = use_vfork ? vfork() : fork();
	if (pid == -1) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		/*
		 * Raw system calls only: after vfork() the child shares the
		 * parent's memory (and glibc's setuid() would signal threads).
		 * SIGCHLD ignored is kept across exec: harmless for a server
		 * that forks nothing.
		 */
		if (syscall(SYS_dup2, fd, 0) == -1 ||
		    syscall(SYS_dup2, fd, 1) == -1 ||
		    syscall(SYS_dup2, fd, 2) == -1)
			_exit(126);
		if (fd > 2)
			syscall(SYS_close, fd);
		if (drop && (syscall(SYS_setgroups, 0, NULL) == -1 ||
		    syscall(SYS_setgid, gid) == -1 ||
		    syscall(SYS_setuid, uid) == -1))
			_exit(126);
		argv[0] = (char *)server;
		argv[1] = NULL;
		execv(server, argv);
		_exit(127);
	}
	close(fd);
	return 0;
}

static int
listener(unsigned short port, struct sockaddr_in *sin)
{
	socklen_t	len = sizeof(*sin);
	int		fd, one = 1;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1) {
		perror("spawn_loop: listener");
		exit(1);
	}
	return fd;
}

/* -l: accept, spawn, until SECS have passed. */
static int
serve(unsigned short port, double secs)
{
	struct sockaddr_in	sin;
	double			end = now_us() + secs * 1e6;
	int			lfd, fd;

	lfd = listener(port, &sin);
	while (now_us() < end) {
		fd = accept4(lfd, NULL, NULL, 0);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				usleep(1000);
				continue;
			}
			perror("spawn_loop: accept");
			return 1;
		}
		(void)spawn(fd);
	}
	return 0;
}

/* Start one: connect to our own listener, accept, spawn on the far end. */
static int
slot_start(struct slot *s, int idx, int lfd, struct sockaddr_in *sin, int ep)
{
	struct epoll_event	ev;
	int			fd, sfd;

	started++;
	s->fd = -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1)
		goto fail;
	s->start = now_us();
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    (sfd = accept4(lfd, NULL, NULL, 0)) == -1)
		goto fail;
	if (spawn(sfd) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t)idx;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	s->fd = fd;
	s->got = 0;
	return 0;
fail:
	if (fd != -1)
		close(fd);
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

/* The self-driven mode; the same loop as bench/conn_rate.c. */
static int
drive(int conc, double secs, long max)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 evs[256];
	struct slot		*slots;
	char			 buf[4096];
	double			 start, t;
	int			 ep, lfd, i, n, idle;

	lfd = listener(0, &sin);
	samples = calloc(MAXSAMPLES, sizeof(*samples));
	slots = calloc((size_t)conc, sizeof(*slots));
	if (samples == NULL || slots == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	for (i = 0; i < conc; i++)
		slots[i].fd = -1;
	start = now_us();
	for (;;) {
		t = now_us();
		idle = 0;
		for (i = 0; i < conc; i++) {
			if (slots[i].fd != -1) {
				if (t - slots[i].start <= TIMEOUT_US)
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, slots[i].fd, NULL);
				slot_end(&slots[i], 2);
			}
			if ((t - start) / 1e6 >= secs || started >= max) {
				idle++;
				continue;
			}
			if (slot_start(&slots[i], i, lfd, &sin, ep) == -1)
				usleep(1000);
		}
		if (idle == conc)
			break;
		n = epoll_wait(ep, evs, 256, 100);
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
				if (r == -1 && errno == EAGAIN)
					break;
				if (r == 0 || errno == ECONNRESET)
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
}

int
main(int argc, char **argv)
{
	struct passwd	*pw;
	const char	*user = NULL;
	double		 secs = 3, life = 3600;
	long		 max = 10000000;
	int		 conc = 16, port = -1, c;

	while ((c = getopt(argc, argv, "s:u:c:t:n:l:T:v")) != -1) {
		switch (c) {
		case 'v': use_vfork = 1; break;
		case 's': server = optarg; break;
		case 'u': user = optarg; break;
		case 'c': conc = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'n': max = atol(optarg); break;
		case 'l': port = atoi(optarg); break;
		case 'T': life = atof(optarg); break;
		default: goto usage;
		}
	}
	if (server == NULL || optind != argc || conc < 1 || conc > MAXCONC ||
	    secs <= 0 || secs > 300 || life <= 0 || life > 86400 ||
	    port > 65535)
		goto usage;
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "spawn_loop: no user %s\n", user);
			return 2;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		drop = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* the kernel reaps */
	if (port >= 0)
		return serve((unsigned short)port, life);
	return drive(conc, secs, max);
usage:
	fprintf(stderr, "usage: spawn_loop [-v] -s SERVER [-u USER] [-c CONC] "
	    "[-t SECS] [-n MAX]\n"
	    "       spawn_loop [-v] -s SERVER [-u USER] -l PORT [-T SECS]\n");
	return 2;
}
