/*
 * accept_proxy.  Only bytes known to belong to the header are consumed, so
 * that the client's own data stays in the socket for the back end (splice
 * included).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy_accept.h"
#include "proxyproto.h"

struct proxy_wait {
	TAILQ_ENTRY(proxy_wait)	 pw_entry;
	int			 pw_fd;
	struct sockaddr_storage	 pw_peer;
	socklen_t		 pw_peerlen;
	struct event		*pw_ev;
	time_t			 pw_deadline;
	uint8_t			 pw_buf[PROXY_MAXLEN];	/* header so far */
	size_t			 pw_len;
	proxy_accept_cb		 pw_cb;
	void			*pw_arg;
};

static TAILQ_HEAD(, proxy_wait)	waits = TAILQ_HEAD_INITIALIZER(waits);

/* Forget <pw>; its socket now belongs to whoever gets it. */
static void
proxy_wait_free(struct proxy_wait *pw)
{
	TAILQ_REMOVE(&waits, pw, pw_entry);
	event_free(pw->pw_ev);
	free(pw);
}

/* Finish <pw> with <client> or <err>. */
static void
proxy_wait_done(struct proxy_wait *pw, const struct sockaddr *client,
    socklen_t len, const char *err)
{
	proxy_accept_cb	 cb = pw->pw_cb;
	void		*arg = pw->pw_arg;
	int		 fd = pw->pw_fd;

	proxy_wait_free(pw);
	cb(arg, fd, client, len, err);
}

/* Bytes arrived, or the time is up. */
static void
proxy_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait	*pw = arg;
	struct proxy_hdr	 hdr;
	uint8_t			 buf[PROXY_MAXLEN];
	char			 err[128], msg[160];
	struct timeval		 tv = { 1, 0 };
	ssize_t			 n, len, take;
	time_t			 now = time(NULL);

	if ((what & EV_TIMEOUT) || now >= pw->pw_deadline) {
		proxy_wait_done(pw, NULL, 0, "no PROXY header in time");
		return;
	}
	if ((n = recv(fd, pw->pw_buf + pw->pw_len, sizeof(pw->pw_buf) -
	    pw->pw_len, MSG_PEEK)) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			goto again;
		proxy_wait_done(pw, NULL, 0, n == 0 ? "closed before the PROXY "
		    "header" : strerror(errno));
		return;
	}
	if ((len = proxyproto_decode(pw->pw_buf, pw->pw_len + (size_t)n, &hdr,
	    err, sizeof(err))) < 0) {
		(void)snprintf(msg, sizeof(msg), "bad PROXY header: %s", err);
		proxy_wait_done(pw, NULL, 0, msg);
		return;
	}
	/*
	 * An incomplete header is longer than what came: every byte so far
	 * is part of it, so take them all (the socket is then readable again
	 * only when more come); a complete one, exactly its own bytes.
	 */
	take = len == 0 ? n : len - (ssize_t)pw->pw_len;
	if (recv(fd, buf, (size_t)take, 0) != take) {
		proxy_wait_done(pw, NULL, 0, "cannot consume the PROXY header");
		return;
	}
	pw->pw_len += (size_t)take;
	if (len == 0) {
		if (pw->pw_len == sizeof(pw->pw_buf)) {
			proxy_wait_done(pw, NULL, 0, "PROXY header too long");
			return;
		}
		goto again;	/* wait for the rest, within the deadline */
	}
	if (hdr.ph_local)
		proxy_wait_done(pw, (struct sockaddr *)&pw->pw_peer,
		    pw->pw_peerlen, NULL);
	else
		proxy_wait_done(pw, (struct sockaddr *)&hdr.ph_src,
		    hdr.ph_srclen, NULL);
	return;
again:
	tv.tv_sec = pw->pw_deadline - now;
	if (event_add(pw->pw_ev, &tv) == -1)
		proxy_wait_done(pw, NULL, 0, "event_add failed");
}

int
proxy_accept_start(struct event_base *base, int fd, const struct sockaddr *peer,
    socklen_t peerlen, proxy_accept_cb cb, void *arg)
{
	struct proxy_wait	*pw;
	struct timeval		 tv = { PROXY_ACCEPT_TIMEOUT, 0 };

	if ((pw = calloc(1, sizeof(*pw))) == NULL)
		return -1;
	pw->pw_fd = fd;
	if (peerlen > sizeof(pw->pw_peer))
		peerlen = sizeof(pw->pw_peer);
	memcpy(&pw->pw_peer, peer, peerlen);
	pw->pw_peerlen = peerlen;
	pw->pw_cb = cb;
	pw->pw_arg = arg;
	pw->pw_deadline = time(NULL) + PROXY_ACCEPT_TIMEOUT;
	pw->pw_ev = event_new(base, fd, EV_READ, proxy_wait_cb, pw);
	if (pw->pw_ev == NULL || event_add(pw->pw_ev, &tv) == -1) {
		if (pw->pw_ev != NULL)
			event_free(pw->pw_ev);
		free(pw);
		return -1;
	}
	TAILQ_INSERT_TAIL(&waits, pw, pw_entry);
	return 0;
}

void
proxy_accept_abort_all(void)
{
	struct proxy_wait	*pw;

	while ((pw = TAILQ_FIRST(&waits)) != NULL)
		proxy_wait_done(pw, NULL, 0, "shutdown");
}
