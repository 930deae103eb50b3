/*
 * Sessions: one admitted or refused client of a service, from accept to
 * close, holding its service and configuration, its counts and its back
 * end.  A session is freed once, by session_close().
 */
#ifndef PORTGATE_SESSION_H
#define PORTGATE_SESSION_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct service;

/*
 * A stream client accepted on <sv>: read its PROXY header if the service
 * wants one, then the gate, the log and the back end.
 */
void	session_accept(struct service *sv, int fd, struct sockaddr *sa,
	    socklen_t salen);
/* A datagram for a built-in service of <sv>. */
void	session_dgram(struct service *sv, const void *data, size_t len,
	    struct sockaddr *from, socklen_t fromlen);
/* A wait = yes service is readable: hand its socket to a server. */
void	session_handoff(struct service *sv);
/* Close every session without a running server (shutdown). */
void	session_close_all(void);
/* Log every session (SIGUSR1). */
void	session_dump(void);
/* Number of sessions open. */
int	session_count(void);

#endif
