/*
 * TLS load client for bench/tls.sh (OpenSSL 3, pthreads).
 *
 *   tls_client hs HOST PORT SECS MAXCONNS THREADS http|echo full|resume
 *	THREADS threads, each one connection at a time: connect, TLS
 *	handshake, one small request and its response, close.  "full":
 *	every connection is a full handshake (no session offered); "resume":
 *	each thread offers the session (TLS 1.3 ticket) of its previous
 *	connection.  "http": GET of a tiny file, read to EOF; "echo": 32
 *	bytes out and back.  Stops after SECS seconds or MAXCONNS
 *	connections, whichever comes first.
 *	Prints: conns= secs= rate= fails= resumed= proto= cipher=
 *
 *   tls_client bulk HOST PORT MIB SECS THREADS
 *	THREADS connections to a TLS-terminated echo service, each sending
 *	MIB MiB in 16 KiB writes with at most 256 KiB in flight and reading
 *	the echo back; stops after SECS seconds if not done.
 *	Prints: mib= secs= mibps= fails=
 *
 * Certificates are not verified (the server's signature is still made
 * and sent: the server-side cost is the same).  Sockets have 10 s
 * send/receive timeouts: nothing blocks for ever.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port, secs, threads, http, resume, mib;
static long maxconns;
static SSL_CTX *ctx;
static double t_end;
static atomic_long n_conns, n_fails, n_resumed, n_started;
static atomic_llong n_bytes;
static char proto_name[32] = "?", cipher_name[64] = "?";
static pthread_mutex_t name_mu = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
tcp_connect(void)
{
	struct sockaddr_in sin;
	struct timeval tv = { 10, 0 };
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, host, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
note_names(SSL *ssl)
{
	pthread_mutex_lock(&name_mu);
	if (proto_name[0] == '?') {
		snprintf(proto_name, sizeof(proto_name), "%s",
		    SSL_get_version(ssl));
		snprintf(cipher_name, sizeof(cipher_name), "%s",
		    SSL_get_cipher_name(ssl));
	}
	pthread_mutex_unlock(&name_mu);
}

/* One connection: 0 ok, -1 failed.  *sess: in, the session to offer;
 * out, the newest session of this connection. */
static int
one_conn(SSL_SESSION **sess)
{
	static const char req[] = "GET /t.txt HTTP/1.0\r\nHost: bench\r\n\r\n";
	char buf[4096];
	SSL *ssl;
	int fd, n, got = 0, ok = -1, want;

	if ((fd = tcp_connect()) == -1)
		return -1;
	if ((ssl = SSL_new(ctx)) == NULL) {
		close(fd);
		return -1;
	}
	SSL_set_fd(ssl, fd);
	if (resume && *sess != NULL)
		SSL_set_session(ssl, *sess);
	if (SSL_connect(ssl) != 1)
		goto out;
	note_names(ssl);
	if (SSL_session_reused(ssl))
		atomic_fetch_add(&n_resumed, 1);
	if (http) {
		if (SSL_write(ssl, req, sizeof(req) - 1) != sizeof(req) - 1)
			goto out;
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
			got += n;
		/* EOF, clean or not, after a response is a success. */
		ok = got > 0 && memcmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 :
		    got > 0 ? 0 : -1;
	} else {
		memset(buf, 'x', 32);
		if (SSL_write(ssl, buf, 32) != 32)
			goto out;
		for (want = 32; got < want; got += n)
			if ((n = SSL_read(ssl, buf, want - got)) <= 0)
				goto out;
		ok = 0;
	}
	/* A session is resumable only after a shutdown (else SSL_free marks
	 * it bad); the server has closed already in http mode: no I/O. */
	if (http)
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	else
		SSL_shutdown(ssl);
	if (resume) {
		SSL_SESSION *s = SSL_get1_session(ssl);

		if (s != NULL) {
			if (*sess != NULL)
				SSL_SESSION_free(*sess);
			*sess = s;
		}
	}
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ok;
}

static void *
hs_thread(void *arg)
{
	SSL_SESSION *sess = NULL;

	(void)arg;
	while (now() < t_end && atomic_fetch_add(&n_started, 1) < maxconns) {
		if (one_conn(&sess) == 0)
			atomic_fetch_add(&n_conns, 1);
		else
			atomic_fetch_add(&n_fails, 1);
	}
	if (sess != NULL)
		SSL_SESSION_free(sess);
	return NULL;
}

static void *
bulk_thread(void *arg)
{
	static const long chunk = 16384, window = 262144;
	char wbuf[16384], rbuf[16384];
	long long total = (long long)mib << 20, sent = 0, recvd = 0;
	SSL *ssl;
	int fd, n;

	(void)arg;
	memset(wbuf, 'b', sizeof(wbuf));
	if ((fd = tcp_connect()) == -1)
		goto fail0;
	if ((ssl = SSL_new(ctx)) == NULL)
		goto fail1;
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto fail2;
	note_names(ssl);
	while (recvd < total && now() < t_end) {
		if (sent < total && sent - recvd + chunk <= window) {
			if ((n = SSL_write(ssl, wbuf, chunk)) <= 0)
				goto fail2;
			sent += n;
		} else {
			if ((n = SSL_read(ssl, rbuf, sizeof(rbuf))) <= 0)
				goto fail2;
			recvd += n;
			atomic_fetch_add(&n_bytes, n);
		}
	}
	SSL_free(ssl);
	close(fd);
	return NULL;
fail2:
	SSL_free(ssl);
fail1:
	close(fd);
fail0:
	atomic_fetch_add(&n_fails, 1);
	ERR_clear_error();
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tls_client hs HOST PORT SECS MAXCONNS THREADS "
	    "http|echo full|resume\n"
	    "       tls_client bulk HOST PORT MIB SECS THREADS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pthread_t tid[64];
	double t0, el;
	int i, bulk;

	if (argc < 2)
		usage();
	bulk = strcmp(argv[1], "bulk") == 0;
	if (bulk ? argc != 7 : argc != 9 || strcmp(argv[1], "hs") != 0)
		usage();
	host = argv[2];
	port = atoi(argv[3]);
	if (bulk) {
		mib = atoi(argv[4]);
		secs = atoi(argv[5]);
		threads = atoi(argv[6]);
	} else {
		secs = atoi(argv[4]);
		maxconns = atol(argv[5]);
		threads = atoi(argv[6]);
		http = strcmp(argv[7], "http") == 0;
		resume = strcmp(argv[8], "resume") == 0;
	}
	if (threads < 1 || threads > 64 || secs < 1 || secs > 120)
		usage();
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (getenv("TLS_MAX") != NULL && strcmp(getenv("TLS_MAX"), "1.2") == 0)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	t0 = now();
	t_end = t0 + secs;
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, bulk ? bulk_thread : hs_thread,
		    NULL);
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	el = now() - t0;
	if (bulk)
		printf("mib=%.1f secs=%.3f mibps=%.1f fails=%ld proto=%s "
		    "cipher=%s\n", n_bytes / 1048576.0, el,
		    n_bytes / 1048576.0 / el, (long)n_fails, proto_name,
		    cipher_name);
	else
		printf("conns=%ld secs=%.3f rate=%.0f fails=%ld resumed=%ld "
		    "proto=%s cipher=%s\n", (long)n_conns, el, n_conns / el,
		    (long)n_fails, (long)n_resumed, proto_name, cipher_name);
	SSL_CTX_free(ctx);
	return 0;
}
