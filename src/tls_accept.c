/*
 * The server side of a TLS handshake, on a plain event of the client
 * socket rather than an OpenSSL bufferevent, under a deadline; then the
 * SSL goes to a relay on the sockets (tls_relay.c) or into a bufferevent
 * (tls_bev_new()) for the other back ends.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "tls.h"

struct tls_accept {
	SSL			*ta_ssl;
	int			 ta_fd;
	struct event		*ta_ev;		/* the socket, read or write */
	short			 ta_want;	/* what ta_ev waits for */
	struct event		*ta_timer;
	tls_accept_cb		 ta_cb;
	void			*ta_arg;
};

/* Finish a handshake attempt: hand the session on, or drop it. */
static void
tls_accept_done(struct tls_accept *ta, const char *err)
{
	tls_accept_cb	 cb = ta->ta_cb;
	void		*arg = ta->ta_arg;
	SSL		*ssl = ta->ta_ssl;
	int		 fd = ta->ta_fd;

	event_free(ta->ta_timer);
	event_free(ta->ta_ev);
	free(ta);
	if (err != NULL) {
		tls_free(ssl, fd, 0);
		ssl = NULL;
		fd = -1;
	}
	cb(arg, ssl, fd, err);
}

/* Wait for <what> (EV_READ or EV_WRITE) on the socket; 0 or -1. */
static int
tls_accept_wait(struct tls_accept *ta, short what)
{
	if (ta->ta_want == what)
		return 0;
	if (ta->ta_want != 0)
		(void)event_del(ta->ta_ev);
	ta->ta_want = what;
	if (event_assign(ta->ta_ev, event_get_base(ta->ta_ev), ta->ta_fd,
	    what | EV_PERSIST, event_get_callback(ta->ta_ev), ta) == -1)
		return -1;
	return event_add(ta->ta_ev, NULL);
}

/*
 * One step of the handshake, on our own event rather than an OpenSSL
 * bufferevent: the relay that follows works on the SSL and the socket
 * directly (tls_relay.c), and a bufferevent is made for the other back
 * ends once the handshake is over (tls_bev_new()).
 */
static void
tls_accept_step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_accept	*ta = arg;
	char			 buf[256];
	unsigned long		 e;
	int			 r, err;

	(void)fd;
	(void)what;
	if ((r = SSL_do_handshake(ta->ta_ssl)) == 1) {
		tls_accept_done(ta, NULL);
		return;
	}
	err = SSL_get_error(ta->ta_ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		if (tls_accept_wait(ta, err == SSL_ERROR_WANT_READ ? EV_READ :
		    EV_WRITE) == -1)
			tls_accept_done(ta, "TLS handshake: cannot wait");
		return;
	}
	if ((e = ERR_peek_last_error()) != 0 && err == SSL_ERROR_SSL) {
		(void)strlcpy(buf, "TLS handshake: ", sizeof(buf));
		ERR_error_string_n(e, buf + strlen(buf),
		    sizeof(buf) - strlen(buf));
	} else
		(void)snprintf(buf, sizeof(buf), "TLS handshake: %s",
		    err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL &&
		    (ERR_peek_last_error() != 0 || errno == 0)) ?
		    "client closed" : "socket error");
	ERR_clear_error();
	tls_accept_done(ta, buf);
}

/* The handshake took too long. */
static void
tls_accept_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tls_accept_done(arg, "TLS handshake: timed out");
}

struct tls_accept *
tls_accept_start(struct event_base *base, int fd, struct tls_ctx *tc,
    int timeout, int readahead, tls_accept_cb cb, void *arg)
{
	struct tls_accept	*ta;
	struct timeval		 tv = { timeout, 0 };
	int			 one = 1;

	if ((ta = calloc(1, sizeof(*ta))) == NULL)
		return NULL;
	/*
	 * Handshake messages, tickets and close_notify are separate small
	 * writes: without this, Nagle holds each until the client's delayed
	 * ACK (40 ms).
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ta->ta_fd = fd;
	ta->ta_cb = cb;
	ta->ta_arg = arg;
	if ((ta->ta_ssl = tls_ssl_new(tc)) == NULL ||
	    SSL_set_fd(ta->ta_ssl, fd) != 1 ||
	    (ta->ta_ev = event_new(base, fd, EV_READ | EV_PERSIST,
	    tls_accept_step_cb, ta)) == NULL ||
	    (ta->ta_timer = evtimer_new(base, tls_accept_timeout_cb, ta)) ==
	    NULL || evtimer_add(ta->ta_timer, &tv) == -1)
		goto fail;
	SSL_set_accept_state(ta->ta_ssl);
	if (readahead)
		SSL_set_read_ahead(ta->ta_ssl, 1);
	/*
	 * The ClientHello is often there already: the first step runs from
	 * the loop (never from here), without waiting for the socket.
	 */
	event_active(ta->ta_ev, EV_READ, 0);
	return ta;
fail:
	if (ta->ta_timer != NULL)
		event_free(ta->ta_timer);
	if (ta->ta_ev != NULL)
		event_free(ta->ta_ev);
	SSL_free(ta->ta_ssl);	/* <fd> is still the caller's */
	ERR_clear_error();
	free(ta);
	return NULL;
}

void
tls_accept_cancel(struct tls_accept *ta)
{
	if (ta == NULL)
		return;
	event_free(ta->ta_timer);
	event_free(ta->ta_ev);
	tls_free(ta->ta_ssl, ta->ta_fd, 0);
	free(ta);
}

struct bufferevent *
tls_bev_new(struct event_base *base, struct ssl_st *ssl, int fd)
{
	struct bufferevent	*bev;

	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_OPEN, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void
tls_free(struct ssl_st *ssl, int fd, int notify)
{
	if (ssl != NULL) {
		if (notify)
			(void)SSL_shutdown(ssl);
		SSL_free(ssl);
		ERR_clear_error();
	}
	if (fd != -1)
		(void)close(fd);
}
