/*
 * A small server for the spawn tests (test_e2e_spawn.c), for what a shell
 * script cannot do: see its own argv[0], accept() on a listening socket
 * handed to it on descriptor 0 (stream, wait = yes), or read one datagram
 * from descriptor 0 with its sender and answer it (dgram).  The mode comes
 * from $SPAWN_HELPER (set with `env` in the service), so that server_args
 * stay free for the argv test:
 *
 *	argv	(or unset) "[ARG]\n" for each of argv[0..argc-1]
 *	accept	accept a client on 0, send it "pid PID\n", exit 0
 *	udp	read a datagram on 0, answer "pid PID: DATA", exit 0
 *	fds	"pid P pgid G sid S ppid PP", then "fd N TARGET" for each
 *		open descriptor
 *	sockopt	"nodelay N keepalive N": TCP_NODELAY and SO_KEEPALIVE of
 *		the socket on descriptor 0 (test_e2e_options.c)
 *
 * Any failure exits 1 with nothing more said: the test sees what is
 * missing.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DGRAM_MAX	2048

/* Write <len> bytes of <buf> to <fd>; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Print each argument in brackets, one a line. */
static int
helper_argv(int argc, char **argv)
{
	int	i;

	for (i = 0; i < argc; i++)
		if (printf("[%s]\n", argv[i]) < 0)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Serve one client of the listening socket on descriptor 0. */
static int
helper_accept(void)
{
	char	buf[64];
	int	fd, len;

	if ((fd = accept(0, NULL, NULL)) == -1)
		return 1;
	len = snprintf(buf, sizeof(buf), "pid %ld\n", (long)getpid());
	if (write_all(fd, buf, (size_t)len) == -1)
		return 1;
	(void)close(fd);
	return 0;
}

/* Answer one datagram of the socket on descriptor 0. */
static int
helper_udp(void)
{
	struct sockaddr_storage	from;
	socklen_t		fromlen = sizeof(from);
	char			in[DGRAM_MAX], out[DGRAM_MAX + 64];
	ssize_t			n;
	int			len;

	n = recvfrom(0, in, sizeof(in) - 1, 0, (struct sockaddr *)&from,
	    &fromlen);
	if (n < 0)
		return 1;
	in[n] = '\0';
	len = snprintf(out, sizeof(out), "pid %ld: %s", (long)getpid(), in);
	if (len < 0 || (size_t)len >= sizeof(out))
		return 1;
	if (sendto(0, out, (size_t)len, 0, (struct sockaddr *)&from,
	    fromlen) != len)
		return 1;
	return 0;
}

/* Say who we are and list the open descriptors but the one listing them. */
static int
helper_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[300], target[256];
	ssize_t		 n;

	if (printf("pid %ld pgid %ld sid %ld ppid %ld\n", (long)getpid(),
	    (long)getpgrp(), (long)getsid(0), (long)getppid()) < 0)
		return 1;
	if ((d = opendir("/proc/self/fd")) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%s",
		    de->d_name);
		if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
			n = 0;
		target[n] = '\0';
		(void)printf("fd %s %s\n", de->d_name, target);
	}
	(void)closedir(d);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Report two options of the client's socket on descriptor 0. */
static int
helper_sockopt(void)
{
	socklen_t	len;
	int		nodelay = -1, keepalive = -1;

	len = sizeof(nodelay);
	if (getsockopt(0, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == -1)
		return 1;
	len = sizeof(keepalive);
	if (getsockopt(0, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len) == -1)
		return 1;
	if (printf("nodelay %d keepalive %d\n", nodelay != 0,
	    keepalive != 0) < 0)
		return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char	*mode = getenv("SPAWN_HELPER");

	if (mode == NULL || strcmp(mode, "argv") == 0)
		return helper_argv(argc, argv);
	if (strcmp(mode, "accept") == 0)
		return helper_accept();
	if (strcmp(mode, "udp") == 0)
		return helper_udp();
	if (strcmp(mode, "fds") == 0)
		return helper_fds();
	if (strcmp(mode, "sockopt") == 0)
		return helper_sockopt();
	return 1;
}
