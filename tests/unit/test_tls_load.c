/*
 * Unit tests of the certificate checks of tls.c at load time: a file that
 * is not a PEM certificate or key says so (not OpenSSL's "PEM lib"), and a
 * certificate that has expired or is not valid yet is a warning with the
 * file and line of its tls_cert.  The certificates are made here with the
 * OpenSSL API, which can date them in the past or the future.
 */
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../test_skip.h"
#include "conf_diag.h"
#include "config.h"
#include "tls.h"
#include "unit_util.h"

#define DAY	(24L * 3600)

static char	tmpdir[] = "/tmp/test_tls_load.XXXXXX";

/* "<tmpdir>/<name>" in one of a few rotating static buffers. */
static const char *
tpath(const char *name)
{
	static char	 bufs[8][PATH_MAX];
	static int	 next;
	char		*b = bufs[next++ % 8];

	assert_true(snprintf(b, PATH_MAX, "%s/%s", tmpdir, name) < PATH_MAX);
	return b;
}

/* Write <len> bytes of <data> to <tmpdir>/<name>. */
static void
put(const char *name, const void *data, size_t len)
{
	FILE	*fp;

	assert_non_null(fp = fopen(tpath(name), "w"));
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/*
 * A self-signed P-256 certificate for localhost valid from <from> to <to>
 * seconds from now, as <name>.pem and <name>.key (and <name>.der); 0 or -1.
 */
static int
make_cert(const char *name, long from, long to)
{
	char		 file[64];
	X509		*x = NULL;
	EVP_PKEY	*key;
	FILE		*fp;
	int		 rv = -1;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		goto out;
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), from) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), to) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		goto out;
	(void)snprintf(file, sizeof(file), "%s.pem", name);
	if ((fp = fopen(tpath(file), "w")) == NULL)
		goto out;
	rv = PEM_write_X509(fp, x) == 1 ? 0 : -1;
	if (fclose(fp) == EOF || rv == -1)
		goto fail;
	(void)snprintf(file, sizeof(file), "%s.key", name);
	if ((fp = fopen(tpath(file), "w")) == NULL)
		goto fail;
	rv = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1 ?
	    0 : -1;
	if (fclose(fp) == EOF || rv == -1)
		goto fail;
	(void)snprintf(file, sizeof(file), "%s.der", name);
	if ((fp = fopen(tpath(file), "w")) == NULL)
		goto fail;
	rv = i2d_X509_fp(fp, x) == 1 ? 0 : -1;
	if (fclose(fp) == EOF)
		goto fail;
	goto out;
fail:
	rv = -1;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rv;
}

static int
setup(void **state)
{
	static const char garbage[] = "-----BEGIN CERTIFICATE-----\n"
	    "bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (make_cert("good", -3600, 7 * DAY) == -1 ||
	    make_cert("expired", -30 * DAY, -DAY) == -1 ||
	    make_cert("future", DAY, 30 * DAY) == -1)
		return -1;
	put("garbage.pem", garbage, sizeof(garbage) - 1);
	put("text.pem", "hello\n", 6);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmpdir);
}

/* Dates: valid, expired, not yet valid; unreadable files are -1. */
static void
test_cert_check(void **state)
{
	char	warn[512];
	time_t	now = time(NULL);

	(void)state;
	assert_int_equal(tls_cert_check(tpath("good.pem"), now, warn,
	    sizeof(warn)), 0);
	assert_string_equal(warn, "");

	assert_int_equal(tls_cert_check(tpath("expired.pem"), now, warn,
	    sizeof(warn)), 1);
	assert_non_null(strstr(warn, "expired.pem: the certificate expired "
	    "on 20"));
	assert_non_null(strstr(warn, " UTC: clients will refuse it"));

	assert_int_equal(tls_cert_check(tpath("future.pem"), now, warn,
	    sizeof(warn)), 1);
	assert_non_null(strstr(warn, "future.pem: the certificate is not "
	    "valid before 20"));

	/* The same certificate, seen from later or earlier. */
	assert_int_equal(tls_cert_check(tpath("good.pem"), now + 8 * DAY,
	    warn, sizeof(warn)), 1);
	assert_non_null(strstr(warn, "expired on"));
	assert_int_equal(tls_cert_check(tpath("good.pem"), now - DAY, warn,
	    sizeof(warn)), 1);
	assert_non_null(strstr(warn, "not valid before"));
	assert_int_equal(tls_cert_check(tpath("future.pem"), now + 2 * DAY,
	    warn, sizeof(warn)), 0);

	assert_int_equal(tls_cert_check(tpath("garbage.pem"), now, warn,
	    sizeof(warn)), -1);
	assert_int_equal(tls_cert_check(tpath("good.der"), now, warn,
	    sizeof(warn)), -1);
	assert_int_equal(tls_cert_check(tpath("missing.pem"), now, warn,
	    sizeof(warn)), -1);
}

/*
 * Load a configuration with one TLS echo service using <cert> and <key>
 * (names in tmpdir) at lines 7 and 8; the diagnostics stay in <cd>.
 */
static struct config *
load_tls(struct conf_diag *cd, const char *cert, const char *key)
{
	char	text[4 * PATH_MAX];
	int	n;

	n = snprintf(text, sizeof(text),
	    "service echo\n"				/* 1 */
	    "{\n"					/* 2 */
	    "\ttype\t\t= INTERNAL UNLISTED\n"		/* 3 */
	    "\tsocket_type\t= stream\n"			/* 4 */
	    "\tport\t\t= 10007\n"			/* 5 */
	    "\ttls\t\t= yes\n"				/* 6 */
	    "\ttls_cert\t= %s\n"			/* 7 */
	    "\ttls_key\t\t= %s\n"			/* 8 */
	    "\twait\t\t= no\n"				/* 9 */
	    "}\n", tpath(cert), tpath(key));
	assert_true(n > 0 && (size_t)n < sizeof(text));
	put("t.conf", text, (size_t)n);
	conf_diag_init(cd);
	return config_load(tpath("t.conf"), CONF_CHECK_ONLY, cd);
}

/* Assert that <cd> holds exactly one message, <level> at <line>: <text>. */
static void
assert_one(const struct conf_diag *cd, enum diag_level level, int line,
    const char *text)
{
	char	exp[2 * PATH_MAX];
	int	i;

	(void)snprintf(exp, sizeof(exp), "%s:%d: %s: service echo: %s",
	    tpath("t.conf"), line, level == DIAG_ERROR ? "error" : "warning",
	    text);
	if (level == DIAG_WARNING)	/* warnings name no service */
		(void)snprintf(exp, sizeof(exp), "%s:%d: warning: %s",
		    tpath("t.conf"), line, text);
	if (cd->cd_nmsgs == 1 && cd->cd_msgs[0].dm_level == level &&
	    strcmp(cd->cd_msgs[0].dm_text, exp) == 0)
		return;
	for (i = 0; i < cd->cd_nmsgs; i++)
		print_message("  got:      %s\n", cd->cd_msgs[i].dm_text);
	fail_msg("expected only: %s", exp);
}

/* Files that are not PEM certificates or keys say what they are. */
static void
test_not_pem(void **state)
{
	struct conf_diag	 cd;
	char			 text[2 * PATH_MAX];

	(void)state;
	assert_null(load_tls(&cd, "good.der", "good.key"));
	(void)snprintf(text, sizeof(text), "tls_cert %s: not a PEM "
	    "certificate (no -----BEGIN CERTIFICATE----- line)",
	    tpath("good.der"));
	assert_one(&cd, DIAG_ERROR, 7, text);
	conf_diag_clear(&cd);

	assert_null(load_tls(&cd, "text.pem", "good.key"));
	(void)snprintf(text, sizeof(text), "tls_cert %s: not a PEM "
	    "certificate (no -----BEGIN CERTIFICATE----- line)",
	    tpath("text.pem"));
	assert_one(&cd, DIAG_ERROR, 7, text);
	conf_diag_clear(&cd);

	assert_null(load_tls(&cd, "good.key", "good.pem"));
	(void)snprintf(text, sizeof(text), "tls_cert %s: not a PEM "
	    "certificate: it holds a PRIVATE KEY (are tls_cert and tls_key "
	    "swapped?)", tpath("good.key"));
	assert_one(&cd, DIAG_ERROR, 7, text);
	conf_diag_clear(&cd);

	assert_null(load_tls(&cd, "garbage.pem", "good.key"));
	(void)snprintf(text, sizeof(text), "tls_cert %s: not a PEM "
	    "certificate: its CERTIFICATE block does not decode",
	    tpath("garbage.pem"));
	assert_one(&cd, DIAG_ERROR, 7, text);
	conf_diag_clear(&cd);

	assert_null(load_tls(&cd, "good.pem", "good.pem"));
	(void)snprintf(text, sizeof(text), "tls_key %s: not a PEM private "
	    "key: it holds a CERTIFICATE", tpath("good.pem"));
	assert_one(&cd, DIAG_ERROR, 8, text);
	conf_diag_clear(&cd);

	assert_null(load_tls(&cd, "good.pem", "text.pem"));
	(void)snprintf(text, sizeof(text), "tls_key %s: not a PEM private "
	    "key (no -----BEGIN PRIVATE KEY----- line)", tpath("text.pem"));
	assert_one(&cd, DIAG_ERROR, 8, text);
	conf_diag_clear(&cd);
}

/* Dates out of range are warnings at the tls_cert line; the rest loads. */
static void
test_dates_warned(void **state)
{
	struct conf_diag	 cd;
	struct config		*cf;
	char			 pre[PATH_MAX + 64];

	(void)state;
	assert_non_null(cf = load_tls(&cd, "good.pem", "good.key"));
	assert_int_equal(cd.cd_nmsgs, 0);
	config_unref(cf);
	conf_diag_clear(&cd);

	assert_non_null(cf = load_tls(&cd, "expired.pem", "expired.key"));
	assert_int_equal(cd.cd_nmsgs, 1);
	assert_int_equal(cd.cd_warnings, 1);
	(void)snprintf(pre, sizeof(pre), "%s:7: warning: tls_cert %s: the "
	    "certificate expired on ", tpath("t.conf"), tpath("expired.pem"));
	assert_memory_equal(cd.cd_msgs[0].dm_text, pre, strlen(pre));
	config_unref(cf);
	conf_diag_clear(&cd);

	assert_non_null(cf = load_tls(&cd, "future.pem", "future.key"));
	assert_int_equal(cd.cd_nmsgs, 1);
	(void)snprintf(pre, sizeof(pre), "%s:7: warning: tls_cert %s: the "
	    "certificate is not valid before ", tpath("t.conf"),
	    tpath("future.pem"));
	assert_memory_equal(cd.cd_msgs[0].dm_text, pre, strlen(pre));
	config_unref(cf);
	conf_diag_clear(&cd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_check),
		cmocka_unit_test(test_not_pem),
		cmocka_unit_test(test_dates_warned),
	};

	return test_status(cmocka_run_group_tests(tests, setup, teardown));
}
