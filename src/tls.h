/*
 * TLS termination: one SSL_CTX per service built when the configuration is
 * loaded (with a context per extra certificate, chosen by SNI), and the
 * server side handshake of a client under a timeout.
 */
#ifndef PORTGATE_TLS_H
#define PORTGATE_TLS_H

#include <stddef.h>
#include <time.h>

struct bufferevent;
struct ssl_st;
struct event_base;
struct service_conf;
struct tls_ctx;
struct tls_accept;

/*
 * Build the TLS context of <sc> (tls_cert, tls_key, tls_ca, tls_protocols,
 * tls_ciphers, tls_ciphersuites, tls_alpn).  Returns NULL with a message in
 * <err> for an unreadable file, a bad certificate, a key that does not
 * match, or a bad cipher or protocol setting.
 */
struct tls_ctx	*tls_ctx_new(const struct service_conf *sc, char *err,
		    size_t errlen);
/*
 * Check the first certificate of PEM file <file> at time <now>: returns 1
 * with a warning in <warn> when it has expired or is not valid yet, 0 when
 * it is valid, -1 when it cannot be read (tls_ctx_new() says why).
 */
int		 tls_cert_check(const char *file, time_t now, char *warn,
		    size_t len);
/* Another user of <tc> (a service with the same settings); returns it. */
struct tls_ctx	*tls_ctx_ref(struct tls_ctx *tc);
/* Drop one user; the last frees the context. */
void		 tls_ctx_free(struct tls_ctx *);
/* A new server-side SSL for a client of <tc>; NULL when out of memory. */
struct ssl_st	*tls_ssl_new(struct tls_ctx *tc);

/*
 * Called once: the SSL and its socket after the handshake (both the
 * callee's), or NULL, -1 and why.
 */
typedef void	(*tls_accept_cb)(void *arg, struct ssl_st *ssl, int fd,
		    const char *err);

/*
 * Start the handshake on client socket <fd> (owned from now on; closed on
 * failure).  <readahead>: OpenSSL may read past the handshake (one read
 * for a whole flight), for a caller that then reads with SSL_read() until
 * it wants the socket (tls_relay.c), not for tls_bev_new(), whose
 * bufferevent would leave such bytes unread.  <cb> is never called from
 * inside this function.  Returns NULL on allocation failure (<fd> is then
 * still the caller's).
 */
struct tls_accept *tls_accept_start(struct event_base *base, int fd,
		    struct tls_ctx *ctx, int timeout, int readahead,
		    tls_accept_cb cb, void *arg);
/* Abandon a handshake (closes the socket); <cb> is not called. */
void		 tls_accept_cancel(struct tls_accept *);

/*
 * An OpenSSL bufferevent for the established <ssl> on <fd> (both owned by
 * it from now on, unless it returns NULL).
 */
struct bufferevent *tls_bev_new(struct event_base *base, struct ssl_st *ssl,
		    int fd);
/* Free <ssl> (after close_notify if <notify>) and close <fd> (-1: none). */
void	tls_free(struct ssl_st *ssl, int fd, int notify);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384" for an established session. */
void	tls_describe(struct ssl_st *ssl, char *buf, size_t len);
/*
 * The verified client certificate's subject and issuer (RFC 2253 form).
 * Returns 1 when the client presented a certificate that verified and both
 * names fit, else 0 (the strings are then empty).
 */
int	tls_client_cert(struct bufferevent *bev, char *subject, size_t slen,
	    char *issuer, size_t ilen);
int	tls_ssl_client_cert(struct ssl_st *ssl, char *subject, size_t slen,
	    char *issuer, size_t ilen);
/* Send close_notify now (the output must already be flushed). */
void	tls_close_notify(struct bufferevent *bev);

#endif
