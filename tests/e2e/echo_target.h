/*
 * An echo target for the end-to-end tests: a TCP or UDP socket on
 * 127.0.0.1 served by a thread, each connection or datagram getting back
 * what it sent.
 */
#ifndef PORTGATE_ECHO_TARGET_H
#define PORTGATE_ECHO_TARGET_H

#include <pthread.h>

#define ECHO_TARGET_MAXCONN	1024	/* connections served at once */

struct echo_target {
	int		tg_fd;
	int		tg_port;
	int		tg_stop[2];	/* a byte on [1] stops the thread */
	pthread_t	tg_thread;
};

/* Start an echo target of <socktype> on 127.0.0.1, or fail the test. */
void	echo_target_start(struct echo_target *tg, int socktype);
/* Stop its thread and close its sockets. */
void	echo_target_stop(struct echo_target *tg);

#endif
