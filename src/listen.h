/*
 * Listening sockets: create and bind the socket a service listens on, with
 * its address, family, v6only and flags.
 */
#ifndef PORTGATE_LISTEN_H
#define PORTGATE_LISTEN_H

#include <stddef.h>

struct service_conf;

/*
 * Create, bind and (for stream services) listen on the socket of <sc>.
 * <nonblock> makes it non-blocking (not for a socket handed to a wait = yes
 * server); <group> > 1 makes it one of a reuseport group of that many,
 * and -<group> the first of one, which may retake a socket passed before.
 * Returns the descriptor (close-on-exec), or -1 with a message in <err>.
 */
int	listen_socket(const struct service_conf *sc, int nonblock, int group,
	    char *err, size_t errlen);
/* "tcp 127.0.0.1:7" or "udp [::]:7" for <fd>, for logs. */
const char *listen_describe(int fd, const struct service_conf *sc, char *buf,
	    size_t len);

#endif
