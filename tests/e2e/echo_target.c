/* The echo target of the end-to-end tests; see echo_target.h. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo_target.h"
#include "harness.h"

/* Serve TCP echo on tg_fd: each connection gets back what it sent. */
static void *
target_tcp_main(void *arg)
{
	struct echo_target	*tg = arg;
	static struct pollfd pfd[ECHO_TARGET_MAXCONN + 2];
	char		 buf[4096];
	nfds_t		 n = 2, i;
	ssize_t		 r;
	int		 fd;

	pfd[0].fd = tg->tg_stop[0];
	pfd[1].fd = tg->tg_fd;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, n, -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents != 0)
			while (n < ECHO_TARGET_MAXCONN + 2 && (fd = accept4(tg->tg_fd,
			    NULL, NULL, SOCK_CLOEXEC)) != -1) {
				pfd[n].fd = fd;
				pfd[n].events = POLLIN;
				pfd[n++].revents = 0;
			}
		for (i = 2; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if ((r = recv(pfd[i].fd, buf, sizeof(buf), 0)) > 0 &&
			    send(pfd[i].fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			(void)close(pfd[i].fd);
			pfd[i--] = pfd[--n];
		}
	}
	for (i = 2; i < n; i++)
		(void)close(pfd[i].fd);
	return NULL;
}

/* Serve UDP echo on tg_fd. */
static void *
target_udp_main(void *arg)
{
	struct echo_target		*tg = arg;
	struct pollfd		 pfd[2];
	struct sockaddr_storage	 from;
	socklen_t		 len;
	char			 buf[2048];
	ssize_t			 r;

	pfd[0].fd = tg->tg_stop[0];
	pfd[1].fd = tg->tg_fd;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		len = sizeof(from);
		while ((r = recvfrom(tg->tg_fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &len)) >= 0) {
			(void)sendto(tg->tg_fd, buf, (size_t)r, 0,
			    (struct sockaddr *)&from, len);
			len = sizeof(from);
		}
	}
	return NULL;
}

/* Start an echo target of <socktype> on 127.0.0.1, or fail the test. */
void
echo_target_start(struct echo_target *tg, int socktype)
{
	struct sockaddr_in	sin;

	memset(tg, 0, sizeof(*tg));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tg->tg_fd = socket(AF_INET, socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	assert_true(tg->tg_fd >= 0);
	assert_int_equal(bind(tg->tg_fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	if (socktype == SOCK_STREAM)
		assert_int_equal(listen(tg->tg_fd, 1024), 0);
	tg->tg_port = pg_local_port(tg->tg_fd);
	assert_int_equal(pipe2(tg->tg_stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&tg->tg_thread, NULL,
	    socktype == SOCK_STREAM ? target_tcp_main : target_udp_main, tg),
	    0);
}

void
echo_target_stop(struct echo_target *tg)
{
	assert_int_equal(write(tg->tg_stop[1], "", 1), 1);
	(void)pthread_join(tg->tg_thread, NULL);
	(void)close(tg->tg_stop[0]);
	(void)close(tg->tg_stop[1]);
	(void)close(tg->tg_fd);
}
