/*
 * TLS termination with OpenSSL 3: the contexts of the services, and what
 * is read from an established session (the handshake is tls_accept.c's,
 * the relay of a forward tls_relay.c's).  The gate has decided before the
 * handshake starts, so a refused client costs no handshake.  Session tickets stay on (OpenSSL's default), which lets
 * returning clients resume without a full handshake; one ticket per
 * handshake (not two) and no server-side session cache, which a ticket
 * makes useless and which costs memory and a flush every 255 sessions.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tls.h"

struct tls_ctx {
	int		  tc_refcnt;	/* services sharing it */
	SSL_CTX		**tc_ctx;	/* [0] the default, then one per cert */
	int		  tc_n;
	unsigned char	 *tc_alpn;	/* wire format */
	size_t		  tc_alpnlen;
};

/* The last OpenSSL error as text, into <err>; returns -1. */
static int
tls_error(char *err, size_t errlen, const char *what, const char *file)
{
	char		 buf[256];
	unsigned long	 e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		(void)strlcpy(buf, "unknown error", sizeof(buf));
	ERR_clear_error();
	(void)snprintf(err, errlen, "%s%s%s: %s", what, file != NULL ? " " : "",
	    file != NULL ? file : "", buf);
	return -1;
}

/*
 * The label of the first PEM block of <file> ("CERTIFICATE", "PRIVATE
 * KEY") into <label>; 0, or -1 when the file holds no PEM block.
 */
static int
tls_pem_label(const char *file, char *label, size_t len)
{
	BIO		*bio;
	char		*name = NULL, *header = NULL;
	unsigned char	*data = NULL;
	long		 dlen;
	int		 rc = -1;

	label[0] = '\0';
	if ((bio = BIO_new_file(file, "r")) == NULL)
		return -1;
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		(void)strlcpy(label, name, len);
		rc = 0;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/*
 * A certificate (<key> 0) or private key (<key> 1) file that OpenSSL
 * refused, into <err>; returns -1.  OpenSSL says "PEM lib" for all of
 * a DER file, a key given as certificate and a damaged block: say which.
 */
static int
tls_pem_error(char *err, size_t errlen, const char *what, const char *file,
    int key)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*kind = key ? "PEM private key" : "PEM certificate";
	char		 label[64];
	int		 wanted;

	if (ERR_GET_LIB(e) != ERR_LIB_SSL || ERR_GET_REASON(e) != ERR_R_PEM_LIB)
		return tls_error(err, errlen, what, file);
	ERR_clear_error();
	if (tls_pem_label(file, label, sizeof(label)) == -1) {
		(void)snprintf(err, errlen, "%s %s: not a %s (no -----BEGIN "
		    "%s----- line)", what, file, kind, key ? "PRIVATE KEY" :
		    "CERTIFICATE");
		return -1;
	}
	wanted = key ? strstr(label, "PRIVATE KEY") != NULL :
	    strcmp(label, "CERTIFICATE") == 0 ||
	    strcmp(label, "TRUSTED CERTIFICATE") == 0;
	if (!wanted)
		(void)snprintf(err, errlen, "%s %s: not a %s: it holds a %s%s",
		    what, file, kind, label, key ? "" :
		    " (are tls_cert and tls_key swapped?)");
	else if (key && strstr(label, "ENCRYPTED") != NULL)
		(void)snprintf(err, errlen, "%s %s: an encrypted private key: "
		    "portgate reads keys without a passphrase", what, file);
	else
		(void)snprintf(err, errlen, "%s %s: not a %s: its %s block "
		    "does not decode", what, file, kind, label);
	return -1;
}

/* <t> as "2024-05-01 12:00:00 UTC" into <buf>. */
static void
tls_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)strlcpy(buf, "(unreadable date)", len);
}

int
tls_cert_check(const char *file, time_t now, char *warn, size_t len)
{
	BIO	*bio;
	X509	*x;
	char	 when[64];
	int	 rc = 0;

	warn[0] = '\0';
	if ((bio = BIO_new_file(file, "r")) == NULL) {
		ERR_clear_error();
		return -1;
	}
	x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		return -1;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		tls_time_text(X509_get0_notAfter(x), when, sizeof(when));
		(void)snprintf(warn, len, "tls_cert %s: the certificate "
		    "expired on %s: clients will refuse it", file, when);
		rc = 1;
	} else if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
		tls_time_text(X509_get0_notBefore(x), when, sizeof(when));
		(void)snprintf(warn, len, "tls_cert %s: the certificate is "
		    "not valid before %s: clients will refuse it until then",
		    file, when);
		rc = 1;
	}
	X509_free(x);
	return rc;
}

/* TLS version names of tls_protocols. */
static int
tls_version(const char *name)
{
	if (strcasecmp(name, "TLSv1") == 0)
		return TLS1_VERSION;
	if (strcasecmp(name, "TLSv1.1") == 0)
		return TLS1_1_VERSION;
	if (strcasecmp(name, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	return TLS1_3_VERSION;
}

/* Protocol range from tls_protocols (default TLS 1.2 and up). */
static int
tls_set_versions(SSL_CTX *ctx, const struct service_conf *sc)
{
	int	lo = TLS1_2_VERSION, hi = TLS1_3_VERSION, v, i;

	if (sc->sc_tls_protocols.wl_n > 0) {
		lo = TLS1_3_VERSION;
		hi = TLS1_VERSION;
		for (i = 0; i < sc->sc_tls_protocols.wl_n; i++) {
			v = tls_version(sc->sc_tls_protocols.wl_words[i]);
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
	}
	/* TLS 1.0 and 1.1 need security level 0 in OpenSSL 3. */
	if (lo < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	return SSL_CTX_set_min_proto_version(ctx, lo) == 1 &&
	    SSL_CTX_set_max_proto_version(ctx, hi) == 1 ? 0 : -1;
}

/* ALPN: pick the first of our protocols that the client offers. */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_ctx	*tc = arg;
	unsigned char	*sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, tc->tc_alpn,
	    (unsigned int)tc->tc_alpnlen, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* SNI: switch to the context whose certificate names the server name. */
static int
tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx	*tc = arg;
	const char	*name;
	X509		*cert;
	int		 i;

	(void)alert;
	if ((name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) ==
	    NULL)
		return SSL_TLSEXT_ERR_OK;
	for (i = 1; i < tc->tc_n; i++) {
		cert = SSL_CTX_get0_certificate(tc->tc_ctx[i]);
		if (cert != NULL && X509_check_host(cert, name, 0, 0, NULL) ==
		    1) {
			if (SSL_set_SSL_CTX(ssl, tc->tc_ctx[i]) == NULL)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			/* Keep the client-certificate settings of this one. */
			SSL_set_verify(ssl, SSL_CTX_get_verify_mode(
			    tc->tc_ctx[i]), NULL);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

/* An encrypted key is an error at load time, not a prompt on a terminal. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* One SSL_CTX with certificate <i> of <sc>; NULL with <err>. */
static SSL_CTX *
tls_ctx_one(struct tls_ctx *tc, const struct service_conf *sc, int i,
    char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	const char	*cert = sc->sc_tls_cert.wl_words[i];
	const char	*key = sc->sc_tls_key.wl_words[i];

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		(void)tls_error(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		(void)tls_pem_error(err, errlen, "tls_cert", cert, 0);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		(void)tls_pem_error(err, errlen, "tls_key", key, 1);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)snprintf(err, errlen, "tls_key %s does not match "
		    "tls_cert %s", key, cert);
		ERR_clear_error();
		goto fail;
	}
	if (tls_set_versions(ctx, sc) == -1) {
		(void)tls_error(err, errlen, "tls_protocols", NULL);
		goto fail;
	}
	if (sc->sc_tls_ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, sc->sc_tls_ciphers) != 1) {
		(void)tls_error(err, errlen, "tls_ciphers", sc->sc_tls_ciphers);
		goto fail;
	}
	if (sc->sc_tls_ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, sc->sc_tls_ciphersuites) != 1) {
		(void)tls_error(err, errlen, "tls_ciphersuites",
		    sc->sc_tls_ciphersuites);
		goto fail;
	}
	if (sc->sc_tls_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, sc->sc_tls_ca, NULL) !=
		    1) {
			(void)tls_error(err, errlen, "tls_ca", sc->sc_tls_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx,
		    SSL_load_client_CA_file(sc->sc_tls_ca));
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	(void)SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)sc->sc_id, (unsigned)strnlen(sc->sc_id,
	    SSL_MAX_SID_CTX_LENGTH));
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_num_tickets(ctx, 1);
	if (tc->tc_alpn != NULL)
		SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, tc);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ALPN protocol list in wire format; 0 or -1. */
static int
tls_alpn_wire(struct tls_ctx *tc, const struct service_conf *sc, char *err,
    size_t errlen)
{
	size_t	len = 0, n;
	int	i;

	for (i = 0; i < sc->sc_tls_alpn.wl_n; i++)
		len += 1 + strlen(sc->sc_tls_alpn.wl_words[i]);
	if (len == 0)
		return 0;
	if ((tc->tc_alpn = malloc(len)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < sc->sc_tls_alpn.wl_n; i++) {
		n = strlen(sc->sc_tls_alpn.wl_words[i]);
		if (n == 0 || n > 255) {
			(void)snprintf(err, errlen, "tls_alpn: bad protocol "
			    "name '%s'", sc->sc_tls_alpn.wl_words[i]);
			return -1;
		}
		tc->tc_alpn[tc->tc_alpnlen++] = (unsigned char)n;
		memcpy(tc->tc_alpn + tc->tc_alpnlen,
		    sc->sc_tls_alpn.wl_words[i], n);
		tc->tc_alpnlen += n;
	}
	return 0;
}

struct tls_ctx *
tls_ctx_new(const struct service_conf *sc, char *err, size_t errlen)
{
	struct tls_ctx	*tc;
	int		 i;

	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (tc->tc_ctx = calloc(sc->sc_tls_cert.wl_n, sizeof(SSL_CTX *))) ==
	    NULL) {
		free(tc);
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tc->tc_refcnt = 1;
	if (tls_alpn_wire(tc, sc, err, errlen) == -1)
		goto fail;
	for (i = 0; i < sc->sc_tls_cert.wl_n; i++) {
		if ((tc->tc_ctx[i] = tls_ctx_one(tc, sc, i, err, errlen)) ==
		    NULL)
			goto fail;
		tc->tc_n++;
	}
	if (tc->tc_n > 1) {
		SSL_CTX_set_tlsext_servername_callback(tc->tc_ctx[0],
		    tls_sni_cb);
		SSL_CTX_set_tlsext_servername_arg(tc->tc_ctx[0], tc);
	}
	return tc;
fail:
	tls_ctx_free(tc);
	return NULL;
}

struct ssl_st *
tls_ssl_new(struct tls_ctx *tc)
{
	return SSL_new(tc->tc_ctx[0]);
}

struct tls_ctx *
tls_ctx_ref(struct tls_ctx *tc)
{
	tc->tc_refcnt++;
	return tc;
}

void
tls_ctx_free(struct tls_ctx *tc)
{
	int	i;

	if (tc == NULL || --tc->tc_refcnt > 0)
		return;
	for (i = 0; i < tc->tc_n; i++)
		SSL_CTX_free(tc->tc_ctx[i]);
	free(tc->tc_ctx);
	free(tc->tc_alpn);
	free(tc);
}

void
tls_describe(struct ssl_st *ssl, char *buf, size_t len)
{
	if (ssl == NULL) {
		(void)strlcpy(buf, "-", len);
		return;
	}
	(void)snprintf(buf, len, "%s/%s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
}

/* <name> in RFC 2253 form into <buf>; 0, or -1 if it does not fit. */
static int
tls_name(X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	int	 n, rc = -1;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(bio, buf, (int)len)) >= 0 && (size_t)n < len &&
	    BIO_pending(bio) == 0) {
		buf[n] = '\0';
		rc = 0;
	} else
		buf[0] = '\0';
	BIO_free(bio);
	return rc;
}

int
tls_client_cert(struct bufferevent *bev, char *subject, size_t slen,
    char *issuer, size_t ilen)
{
	return tls_ssl_client_cert(bufferevent_openssl_get_ssl(bev), subject,
	    slen, issuer, ilen);
}

int
tls_ssl_client_cert(struct ssl_st *ssl, char *subject, size_t slen,
    char *issuer, size_t ilen)
{
	X509	*cert;
	int	 ok = 0;

	subject[0] = issuer[0] = '\0';
	if (ssl == NULL || (cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return 0;
	if (SSL_get_verify_result(ssl) == X509_V_OK &&
	    tls_name(X509_get_subject_name(cert), subject, slen) == 0 &&
	    tls_name(X509_get_issuer_name(cert), issuer, ilen) == 0)
		ok = 1;
	X509_free(cert);
	if (!ok)
		subject[0] = issuer[0] = '\0';
	return ok;
}

void
tls_close_notify(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl != NULL) {
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
}
