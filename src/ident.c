/*
 * Ident (RFC 1413) queries, as xinetd makes them for USERID (its ident.c):
 * bind to the address the client reached, connect to port 113 of the
 * client, send "rport,lport\r\n", read one line ending in CR LF, accept it
 * only if it names the same ports and says USERID.  Here it is one
 * non-blocking socket and one event: connecting, then reading, with one
 * deadline for the whole query.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ident.h"
#include "sockaddr.h"

struct ident {
	struct event_base *id_base;
	struct event	*id_ev;
	int		 id_fd;
	time_t		 id_deadline;	/* CLOCK_MONOTONIC seconds */
	const char	*id_why;	/* failed before the loop ran */
	int		 id_connected;
	int		 id_rport;	/* the client's port */
	int		 id_lport;	/* ours */
	size_t		 id_len;
	char		 id_line[IDENT_LINEMAX + 1];
	ident_cb	 id_cb;
	void		*id_arg;
};

void
ident_cancel(struct ident *id)
{
	if (id == NULL)
		return;
	event_free(id->id_ev);
	(void)close(id->id_fd);
	free(id);
}

static void	ident_event(evutil_socket_t, short, void *);
static int	ident_wait(struct ident *, short);

/* Report <reply> or <why> and free the query. */
static void
ident_done(struct ident *id, const char *reply, const char *why)
{
	ident_cb	 cb = id->id_cb;
	void		*arg = id->id_arg;

	/* The line lives in <id>: report before freeing, nothing after. */
	(void)event_del(id->id_ev);
	cb(arg, reply, why);
	ident_cancel(id);
}

/* Skip white space. */
static const char *
ident_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A port number followed by <sep>; the character after it, or NULL. */
static const char *
ident_port(const char *p, int want, int sep)
{
	long	n = 0;

	p = ident_skip(p);
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p) && n <= 65535)
		n = n * 10 + (*p++ - '0');
	p = ident_skip(p);
	return n == want && *p == sep ? p + 1 : NULL;
}

const char *
ident_parse(const char *line, int rport, int lport)
{
	const char	*p;

	if ((p = ident_port(line, rport, ',')) == NULL ||
	    (p = ident_port(p, lport, ':')) == NULL)
		return NULL;
	p = ident_skip(p);
	if (strncmp(p, "USERID", 6) != 0)
		return NULL;
	p = ident_skip(p + 6);
	if (*p != ':')
		return NULL;
	p = ident_skip(p + 1);
	return *p != '\0' ? p : NULL;
}

/* Read what the server sent; done at the first CR LF. */
static void
ident_read(struct ident *id)
{
	const char	*reply;
	char		*eol;
	ssize_t		 n;

	n = read(id->id_fd, id->id_line + id->id_len, IDENT_LINEMAX -
	    id->id_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		if (ident_wait(id, EV_READ) == -1)
			ident_done(id, NULL, "system error");
		return;
	}
	if (n <= 0) {
		ident_done(id, NULL, "error while receiving response");
		return;
	}
	id->id_len += (size_t)n;
	id->id_line[id->id_len] = '\0';
	if ((eol = strstr(id->id_line, "\r\n")) == NULL) {
		if (id->id_len == IDENT_LINEMAX || memchr(id->id_line, '\0',
		    id->id_len) != NULL)
			ident_done(id, NULL, "bad response");
		else if (ident_wait(id, EV_READ) == -1)
			ident_done(id, NULL, "system error");
		return;
	}
	*eol = '\0';
	if ((reply = ident_parse(id->id_line, id->id_rport, id->id_lport)) ==
	    NULL)
		ident_done(id, NULL, "bad response");
	else
		ident_done(id, reply, NULL);
}

/* Wait for <what> on the socket until the deadline; 0 or -1. */
static int
ident_wait(struct ident *id, short what)
{
	struct timespec	now;
	struct timeval	tv = { 0, 0 };

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return -1;
	if (id->id_deadline > now.tv_sec)
		tv.tv_sec = id->id_deadline - now.tv_sec;
	if (event_assign(id->id_ev, id->id_base, id->id_fd, what, ident_event,
	    id) == -1)
		return -1;
	return event_add(id->id_ev, &tv);
}

/* The socket is ready (connected, or readable), or time is up. */
static void
ident_event(evutil_socket_t fd, short what, void *arg)
{
	struct ident	*id = arg;
	char		 req[32];
	socklen_t	 len = sizeof(int);
	int		 err = 0, n;

	if (id->id_why != NULL) {
		ident_done(id, NULL, id->id_why);
		return;
	}
	if (what & EV_TIMEOUT) {
		ident_done(id, NULL, "timeout");
		return;
	}
	if (id->id_connected) {
		ident_read(id);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		ident_done(id, NULL, "no server");
		return;
	}
	/* A few bytes on a fresh socket: they go in one write or not. */
	n = snprintf(req, sizeof(req), "%d,%d\r\n", id->id_rport,
	    id->id_lport);
	if (write(fd, req, (size_t)n) != n) {
		ident_done(id, NULL, "system error");
		return;
	}
	id->id_connected = 1;
	if (ident_wait(id, EV_READ) == -1)
		ident_done(id, NULL, "system error");
}

/* The length of an AF_INET or AF_INET6 address. */
static socklen_t
ident_salen(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

struct ident *
ident_start(struct event_base *base, const struct sockaddr *local,
    const struct sockaddr *peer, int timeout, ident_cb cb, void *arg)
{
	struct sockaddr_storage	 from, to;
	struct timespec		 now;
	struct ident		*id;
	int			 saved;

	if (local->sa_family != peer->sa_family ||
	    (peer->sa_family != AF_INET && peer->sa_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1 ||
	    (id = calloc(1, sizeof(*id))) == NULL)
		return NULL;
	id->id_base = base;
	id->id_deadline = now.tv_sec + timeout;
	id->id_rport = sockaddr_port(peer);
	id->id_lport = sockaddr_port(local);
	id->id_cb = cb;
	id->id_arg = arg;
	memcpy(&from, local, ident_salen(local));
	memcpy(&to, peer, ident_salen(peer));
	/* From the address the client reached, any port; to port 113. */
	if (from.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&from)->sin6_port = 0;
		((struct sockaddr_in6 *)&to)->sin6_port = htons(IDENT_PORT);
	} else {
		((struct sockaddr_in *)&from)->sin_port = 0;
		((struct sockaddr_in *)&to)->sin_port = htons(IDENT_PORT);
	}
	id->id_fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (id->id_fd == -1 || (id->id_ev = event_new(base, -1, 0, ident_event,
	    id)) == NULL || bind(id->id_fd, (struct sockaddr *)&from,
	    ident_salen(local)) == -1)
		goto fail;
	/* Refused at once (loopback): reported from the loop all the same. */
	if (connect(id->id_fd, (struct sockaddr *)&to, ident_salen(peer)) ==
	    -1 && errno != EINPROGRESS)
		id->id_why = "no server";
	if (ident_wait(id, EV_WRITE) == -1)
		goto fail;
	return id;
fail:
	saved = errno;
	if (id->id_ev != NULL)
		event_free(id->id_ev);
	if (id->id_fd != -1)
		(void)close(id->id_fd);
	free(id);
	errno = saved;
	return NULL;
}
