/*
 * End-to-end: TLS session resumption with wrk's pattern through a TLS
 * forward.  wrk with "Connection: close" keeps one SSL object per
 * connection slot: connect, handshake, request, read the response (not to
 * EOF), SSL_shutdown() without waiting for the peer's, SSL_clear() (which
 * keeps the session after a shutdown it sent), close, and the next
 * connection offers that session again.  Every connection after the first
 * must be resumed (SSL_session_reused), in TLS 1.3 and TLS 1.2, and carry
 * its request and response; the variant that reads on also gets the
 * close_notify that follows the target's EOF.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "harness.h"

#define ACCESS_LOG	"access.log"
#define CONF		"portgate.conf"
#define ROUNDS		6
#define REQUEST		"GET /t.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
			"Connection: close\r\n\r\n"
#define RESPONSE	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" \
			"Connection: close\r\n\r\nok\n"

static struct pg_ctx	pki;	/* the certificate of this run */

/* A self-signed P-256 certificate for localhost: srv.pem, srv.key. */
static int
pki_setup(void **state)
{
	char		 path[PG_PATH_MAX];
	X509		*x = NULL;
	EVP_PKEY	*key;
	FILE		*fp;
	int		 ok = 0;

	(void)state;
	if (pg_ctx_init(&pki) == -1 || (key = EVP_EC_gen("P-256")) == NULL)
		return -1;
	if ((x = X509_new()) != NULL &&
	    X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
	    X509_sign(x, key, EVP_sha256()) != 0 &&
	    (fp = fopen(pg_path(&pki, "srv.pem", path), "w")) != NULL) {
		ok = PEM_write_X509(fp, x);
		ok = fclose(fp) == 0 && ok == 1;
		if (ok && (fp = fopen(pg_path(&pki, "srv.key", path), "w")) !=
		    NULL) {
			ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
			    NULL);
			ok = fclose(fp) == 0 && ok == 1;
		} else
			ok = 0;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	if (!ok) {
		fprintf(stderr, "e2e: cannot make the certificate\n");
		pg_ctx_clear(&pki);
		return -1;
	}
	return 0;
}

static int
pki_teardown(void **state)
{
	(void)state;
	pg_ctx_clear(&pki);
	return 0;
}

/* A listening target on 127.0.0.1, non-blocking; its port. */
static int
target_listen(int *fdp)
{
	struct sockaddr_in	sin;
	int			fd, one = 1, p = pg_fresh_port();

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	*fdp = fd;
	return p;
}

/* The target's side of one request: read it, answer, close (nginx's). */
static void
target_serve(int lfd)
{
	char	buf[sizeof(REQUEST)];
	int	fd;

	if (pg_poll(lfd, POLLIN, PG_TIMEOUT_MS) != 1)
		fail_msg("portgate did not connect to the redirect target");
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pg_recv_n(fd, buf, sizeof(REQUEST) - 1),
	    (ssize_t)sizeof(REQUEST) - 1);
	assert_memory_equal(buf, REQUEST, sizeof(REQUEST) - 1);
	assert_int_equal(pg_send_all(fd, RESPONSE, sizeof(RESPONSE) - 1), 0);
	(void)close(fd);
}

/*
 * Wait until the SSL call that returned <r> on <fd> can go on; 1 to retry,
 * 0 for an end (SSL_ERROR_ZERO_RETURN), or fail the test.
 */
static int
ssl_wait(SSL *ssl, int fd, int r, long long deadline, const char *what)
{
	int	err = SSL_get_error(ssl, r);

	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;
	if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
	    pg_left(deadline) == 0) {
		ERR_print_errors_fp(stderr);
		fail_msg("%s: SSL error %d (errno %d)", what, err, errno);
	}
	(void)pg_poll(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
	    pg_left(deadline));
	return 1;
}

/*
 * wrk's connections through port <port> to the target on <lfd>, TLS
 * <version> at most; with <eof>, each also reads on to the close_notify.
 */
static void
wrk_rounds(int port, int lfd, int version, int eof)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 buf[256];
	size_t		 got;
	long long	 deadline;
	int		 fd, r, i;

	assert_non_null(ctx = SSL_CTX_new(TLS_client_method()));
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, version), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	assert_non_null(ssl = SSL_new(ctx));
	for (i = 0; i < ROUNDS; i++) {
		deadline = pg_now_ms() + PG_TIMEOUT_MS;
		fd = pg_tcp_connect("127.0.0.1", "127.0.0.1", port);
		assert_true(fd >= 0);
		assert_int_equal(SSL_set_fd(ssl, fd), 1);
		(void)SSL_set_tlsext_host_name(ssl, "localhost");
		while ((r = SSL_connect(ssl)) != 1)
			assert_int_equal(ssl_wait(ssl, fd, r, deadline,
			    "handshake"), 1);
		/* The request goes with the client's Finished, as wrk's. */
		while ((r = SSL_write(ssl, REQUEST, sizeof(REQUEST) - 1)) <= 0)
			assert_int_equal(ssl_wait(ssl, fd, r, deadline,
			    "request"), 1);
		target_serve(lfd);
		for (got = 0; got < sizeof(RESPONSE) - 1; got += (size_t)r)
			while ((r = SSL_read(ssl, buf + got, (int)(sizeof(buf) -
			    got))) <= 0)
				assert_int_equal(ssl_wait(ssl, fd, r,
				    deadline, "response"), 1);
		assert_int_equal(got, sizeof(RESPONSE) - 1);
		assert_memory_equal(buf, RESPONSE, got);
		if (i > 0 && !SSL_session_reused(ssl))
			fail_msg("connection %d of %d (%s) was not resumed", i +
			    1, ROUNDS, SSL_get_version(ssl));
		if (eof)
			while ((r = SSL_read(ssl, buf, sizeof(buf))) <= 0 &&
			    ssl_wait(ssl, fd, r, deadline, "close_notify"))
				;
		if (eof && r > 0)
			fail_msg("data after the response: %d bytes", r);
		/* wrk: SSL_shutdown() once, SSL_clear(), close. */
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
		assert_int_equal(SSL_clear(ssl), 1);
		(void)close(fd);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* A TLS forward to a target of this test; its port. */
static int
forward_start(struct pg_ctx *c, int *lfd)
{
	struct pg_conf	cf;
	char		a[PG_PATH_MAX], b[PG_PATH_MAX];
	int		tp = target_listen(lfd), p = pg_fresh_port();

	pg_conf_begin(&cf, c, ACCESS_LOG, "HOST EXIT TRAFFIC", "HOST");
	pg_conf_add(&cf, "\nservice fwd\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tredirect\t= 127.0.0.1 %d\n\ttls\t\t= yes\n"
	    "\ttls_cert\t= %s\n\ttls_key\t\t= %s\n}\n", p, tp,
	    pg_path(&pki, "srv.pem", a), pg_path(&pki, "srv.key", b));
	pg_conf_start(c, &cf, CONF);
	return p;
}

/* Both directions were relayed whole on every connection. */
static void
traffic_logged(struct pg_ctx *c)
{
	pg_log_wait_re(c, ROUNDS, ": TRAFFIC: fwd in=%zu\\(bytes\\) "
	    "out=%zu\\(bytes\\)$", sizeof(REQUEST) - 1, sizeof(RESPONSE) - 1);
}

static void
test_wrk_tls13(void **state)
{
	struct pg_ctx	*c = *state;
	int		 lfd, p = forward_start(c, &lfd);

	wrk_rounds(p, lfd, TLS1_3_VERSION, 0);
	traffic_logged(c);
	(void)close(lfd);
	pg_stop_ok(c);
}

static void
test_wrk_tls12(void **state)
{
	struct pg_ctx	*c = *state;
	int		 lfd, p = forward_start(c, &lfd);

	wrk_rounds(p, lfd, TLS1_2_VERSION, 0);
	traffic_logged(c);
	(void)close(lfd);
	pg_stop_ok(c);
}

/* The same, reading on to the close_notify sent after the target's EOF. */
static void
test_wrk_tls13_close_notify(void **state)
{
	struct pg_ctx	*c = *state;
	int		 lfd, p = forward_start(c, &lfd);

	wrk_rounds(p, lfd, TLS1_3_VERSION, 1);
	traffic_logged(c);
	(void)close(lfd);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrk_tls13, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_wrk_tls12, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_wrk_tls13_close_notify,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, pki_setup,
	    pki_teardown));
}
