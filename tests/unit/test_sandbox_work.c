/*
 * Unit tests for sandbox.c: what a worker does runs under the filter, for
 * real, in a confined child (sandbox_child.h): a libevent loop that
 * accepts a TCP client on a listening socket made before (as the
 * master's), connects to it and echoes, and echoes over a socketpair; and
 * a TLS 1.3 handshake with OpenSSL.  A call missing from the list kills
 * the child with SIGSYS.  Needs root: skipped (status 77) otherwise.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sandbox_child.h"

/* The echo of the libevent test: what comes in goes back. */
static void
echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	(void)bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void
echo_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	(void)sa;
	(void)salen;
	(void)arg;
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, echo_read, NULL, NULL, NULL);
	(void)bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* The client side: count the echoed bytes, stop at all of them. */
static void
client_read(struct bufferevent *bev, void *arg)
{
	int	*left = arg;

	*left -= (int)evbuffer_get_length(bufferevent_get_input(bev));
	(void)evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
	if (*left <= 0)
		(void)event_base_loopexit(bufferevent_get_base(bev), NULL);
}

/*
 * In the confined child: a libevent loop that accepts a TCP client on a
 * listening socket made before (as the master's), connects to it, echoes
 * over it and over a socketpair; the timer bounds it.
 */
static int
child_libevent(void *arg)
{
	struct timeval		 tv = { SBTEST_SECS / 2, 0 };
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct event_base	*base;
	struct evconnlistener	*l;
	struct bufferevent	*c, *a, *b;
	evutil_socket_t		 sp[2];
	int			 lfd = *(int *)arg, left = 2 * 4096;
	char			 buf[4096];

	memset(buf, 'x', sizeof(buf));
	if ((base = event_base_new()) == NULL ||
	    (l = evconnlistener_new(base, echo_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, lfd)) == NULL ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (c = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL || bufferevent_socket_connect(c, (struct sockaddr *)&sin,
	    (int)len) == -1)
		return 1;
	bufferevent_setcb(c, client_read, NULL, NULL, &left);
	(void)bufferevent_enable(c, EV_READ | EV_WRITE);
	(void)bufferevent_write(c, buf, sizeof(buf));
	/* A socketpair echo as well (a TLS session's pair to its server). */
	if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    evutil_make_socket_nonblocking(sp[0]) == -1 ||
	    evutil_make_socket_nonblocking(sp[1]) == -1 ||
	    (a = bufferevent_socket_new(base, sp[0], BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL ||
	    (b = bufferevent_socket_new(base, sp[1], BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return 2;
	bufferevent_setcb(a, echo_read, NULL, NULL, NULL);
	bufferevent_setcb(b, client_read, NULL, NULL, &left);
	(void)bufferevent_enable(a, EV_READ | EV_WRITE);
	(void)bufferevent_enable(b, EV_READ | EV_WRITE);
	(void)bufferevent_write(b, buf, sizeof(buf));
	(void)event_base_loopexit(base, &tv);
	if (event_base_dispatch(base) == -1)
		return 3;
	return left == 0 ? 0 : 4;
}

static void
test_libevent(void **state)
{
	struct sockaddr_in	sin;
	int			lfd;

	(void)state;
	sbtest_need_root();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
	    0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	sbtest_exit0(sbtest_run(child_libevent, &lfd));
	(void)close(lfd);
}

/* A server context with a fresh P-256 key and a self-signed certificate. */
static SSL_CTX *
tls_server_ctx(void)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*key;
	X509		*cert;
	X509_NAME	*name;

	assert_non_null(key = EVP_EC_gen("P-256"));
	assert_non_null(cert = X509_new());
	assert_int_equal(X509_set_version(cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 3600));
	name = X509_get_subject_name(cert);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"sandbox", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(cert, name), 1);
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

/* Step the non-blocking handshake of <ssl>: 1 done, 0 wants more, -1. */
static int
tls_step(SSL *ssl)
{
	int	rc;

	if ((rc = SSL_do_handshake(ssl)) == 1)
		return 1;
	rc = SSL_get_error(ssl, rc);
	return rc == SSL_ERROR_WANT_READ || rc == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/*
 * In the confined child: a TLS 1.3 handshake between a client and the
 * server of <arg> over a socketpair made here, then one record each way.
 * OpenSSL reseeds its generator after the fork (getrandom).
 */
static int
child_tls(void *arg)
{
	SSL_CTX	*sctx = arg, *cctx;
	SSL	*srv, *cli;
	char	 buf[16];
	int	 sp[2], i, s = 0, c = 0;

	if ((cctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == -1 ||
	    (srv = SSL_new(sctx)) == NULL || (cli = SSL_new(cctx)) == NULL ||
	    SSL_set_fd(srv, sp[0]) != 1 || SSL_set_fd(cli, sp[1]) != 1)
		return 1;
	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	/* Each step moves the handshake on; a few dozen are plenty. */
	for (i = 0; i < 100 && (s != 1 || c != 1); i++) {
		if ((c != 1 && (c = tls_step(cli)) == -1) ||
		    (s != 1 && (s = tls_step(srv)) == -1))
			return 2;
	}
	if (s != 1 || c != 1 || SSL_version(cli) != TLS1_3_VERSION)
		return 3;
	if (SSL_write(cli, "ping", 4) != 4 || SSL_read(srv, buf, 4) != 4 ||
	    memcmp(buf, "ping", 4) != 0)
		return 4;
	SSL_free(srv);
	SSL_free(cli);
	SSL_CTX_free(cctx);
	return 0;
}

static void
test_tls(void **state)
{
	SSL_CTX	*ctx;

	(void)state;
	sbtest_need_root();
	ctx = tls_server_ctx();
	sbtest_exit0(sbtest_run(child_tls, ctx));
	SSL_CTX_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libevent),
		cmocka_unit_test(test_tls),
	};

	return test_status(cmocka_run_group_tests(tests, sbtest_setup,
	    sbtest_teardown));
}
