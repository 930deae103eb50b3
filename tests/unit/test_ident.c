/*
 * Unit tests of ident_parse(): which ident (RFC 1413) replies are taken
 * and what of them is logged; and of ident_start() on a real loop against
 * an ident server played here on port 113 of 127.0.1.13x and ::1 (root):
 * replies in pieces, broken replies, silence, refusal, bad arguments.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "../test_skip.h"

#include "ident.h"

/* Replies about 6193, 23 that are taken, and what is kept of them. */
static void
test_good_replies(void **state)
{
	(void)state;
	assert_string_equal(ident_parse("6193, 23 : USERID : UNIX : stjohns",
	    6193, 23), "UNIX : stjohns");
	assert_string_equal(ident_parse("6193,23:USERID:UNIX:stjohns", 6193,
	    23), "UNIX:stjohns");
	assert_string_equal(ident_parse("  6193 ,\t23 : USERID : OTHER,"
	    "UTF-8 : x y", 6193, 23), "OTHER,UTF-8 : x y");
}

/* Errors, other ports and broken lines are not. */
static void
test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"6193, 23 : ERROR : NO-USER",
		"6193, 23 : ERROR : HIDDEN-USER",
		"6194, 23 : USERID : UNIX : mallory",
		"6193, 24 : USERID : UNIX : mallory",
		"61930, 23 : USERID : UNIX : mallory",
		"6193 23 : USERID : UNIX : x",
		"6193, 23 USERID : UNIX : x",
		"6193, 23 : USERID UNIX : x",
		"6193, 23 : USERID :",
		"6193, 23 : USERID :   ",
		"6193, 23 : userid : UNIX : x",
		", 23 : USERID : UNIX : x",
		"99999999999999999999, 23 : USERID : UNIX : x",
		"",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ident_parse(bad[i], 6193, 23) != NULL)
			fail_msg("taken: \"%s\"", bad[i]);
}

/* The ports of the connection a query asks about. */
#define Q_RPORT		5000	/* the client's */
#define Q_LPORT		4000	/* ours */

/* What the callback saw. */
struct qres {
	int	 qr_calls;
	char	 qr_reply[IDENT_LINEMAX + 1];
	char	 qr_why[64];
};

static void
query_cb(void *arg, const char *reply, const char *why)
{
	struct qres	*r = arg;

	r->qr_calls++;
	if (reply != NULL)
		(void)snprintf(r->qr_reply, sizeof(r->qr_reply), "%s", reply);
	if (why != NULL)
		(void)snprintf(r->qr_why, sizeof(r->qr_why), "%s", why);
}

/* An ident server on <addr> port 113; skips the test when not root. */
static int
identd_listen(const char *addr)
{
	struct sockaddr_storage	ss;
	int			fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(IDENT_PORT);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(IDENT_PORT);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == -1) {
		if (errno == EACCES) {
			(void)close(fd);
			TEST_SKIP();	/* port 113 needs root */
		}
		fail_msg("bind %s:113: %s", addr, strerror(errno));
	}
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Start a query from 127.0.0.1 (or ::1) to client <peer>. */
static struct ident *
query_start(struct event_base *base, const char *local, const char *peer,
    int timeout, struct qres *r)
{
	struct sockaddr_storage	 l, p;
	struct ident		*id;

	memset(r, 0, sizeof(*r));
	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	if (strchr(local, ':') != NULL) {
		((struct sockaddr_in6 *)&l)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&l)->sin6_port = htons(Q_LPORT);
		assert_int_equal(inet_pton(AF_INET6, local,
		    &((struct sockaddr_in6 *)&l)->sin6_addr), 1);
	} else {
		((struct sockaddr_in *)&l)->sin_family = AF_INET;
		((struct sockaddr_in *)&l)->sin_port = htons(Q_LPORT);
		assert_int_equal(inet_pton(AF_INET, local,
		    &((struct sockaddr_in *)&l)->sin_addr), 1);
	}
	if (strchr(peer, ':') != NULL) {
		((struct sockaddr_in6 *)&p)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&p)->sin6_port = htons(Q_RPORT);
		assert_int_equal(inet_pton(AF_INET6, peer,
		    &((struct sockaddr_in6 *)&p)->sin6_addr), 1);
	} else {
		((struct sockaddr_in *)&p)->sin_family = AF_INET;
		((struct sockaddr_in *)&p)->sin_port = htons(Q_RPORT);
		assert_int_equal(inet_pton(AF_INET, peer,
		    &((struct sockaddr_in *)&p)->sin_addr), 1);
	}
	id = ident_start(base, (struct sockaddr *)&l, (struct sockaddr *)&p,
	    timeout, query_cb, r);
	/* Never from inside ident_start(). */
	assert_int_equal(r->qr_calls, 0);
	return id;
}

/* Run the loop until the callback has been called (the query's deadline). */
static void
query_finish(struct event_base *base, struct qres *r)
{
	int	i;

	for (i = 0; i < 10000 && r->qr_calls == 0; i++)
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	assert_int_equal(r->qr_calls, 1);
}

/*
 * Let the query send its request, take the connection on <lfd> and check
 * the request; the server's side of the connection.
 */
static int
identd_take(struct event_base *base, int lfd)
{
	char	req[64];
	size_t	n = 0;
	ssize_t	k;
	int	fd;

	assert_int_equal(poll(&(struct pollfd){ lfd, POLLIN, 0 }, 1, 10000),
	    1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	/* The request is written once the loop sees the connection. */
	while (n < 2 || memcmp(req + n - 2, "\r\n", 2) != 0) {
		if (poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, 0) == 0) {
			assert_int_not_equal(event_base_loop(base,
			    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
			assert_int_equal(poll(&(struct pollfd){ fd, POLLIN, 0 },
			    1, 10000), 1);
		}
		k = read(fd, req + n, sizeof(req) - 1 - n);
		assert_true(k > 0);
		n += (size_t)k;
		assert_true(n < sizeof(req) - 1);
	}
	req[n] = '\0';
	assert_string_equal(req, "5000,4000\r\n");
	return fd;
}

/* Write <s> (<len> bytes) on <fd>. */
static void
identd_say(int fd, const void *s, size_t len)
{
	assert_int_equal(write(fd, s, len), (ssize_t)len);
}

/* Wait until the query's socket holds <fd>'s bytes, by one loop turn. */
static void
query_turn(struct event_base *base)
{
	assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
}

/* A reply that comes in two pieces is read whole. */
static void
test_query_split_reply(void **state)
{
	struct event_base	*base = event_base_new();
	struct qres		 r;
	int			 lfd, fd;

	(void)state;
	assert_non_null(base);
	lfd = identd_listen("127.0.1.131");
	assert_non_null(query_start(base, "127.0.0.1", "127.0.1.131", 10, &r));
	fd = identd_take(base, lfd);
	identd_say(fd, "5000 , 4000 : USE", 17);
	query_turn(base);
	assert_int_equal(r.qr_calls, 0);	/* half a line: wait on */
	identd_say(fd, "RID : UNIX : alice\r\n", 20);
	query_finish(base, &r);
	assert_string_equal(r.qr_reply, "UNIX : alice");
	assert_string_equal(r.qr_why, "");
	(void)close(fd);
	(void)close(lfd);
	event_base_free(base);
}

/*
 * Broken replies: a NUL before the end of the line, a line longer than
 * IDENT_LINEMAX, a USERID for other ports, the server closing first.
 */
static void
test_query_bad_replies(void **state)
{
	static const struct {
		const char	*what;
		size_t		 len;	/* 0: strlen; -1: IDENT_LINEMAX of x */
		const char	*why;
	} cases[] = {
		{ "5000, 4000 : USERID : UNIX : a\0b\r\n", 34,
		    "bad response" },
		{ NULL, 0, "bad response" },
		{ "5001, 4000 : USERID : UNIX : mallory\r\n", 0,
		    "bad response" },
		{ "5000, 4000 : USERID : UNIX : bob", 0,
		    "error while receiving response" },
	};
	struct event_base	*base = event_base_new();
	struct qres		 r;
	char			 longline[IDENT_LINEMAX + 8];
	size_t			 i;
	int			 lfd, fd;

	(void)state;
	assert_non_null(base);
	lfd = identd_listen("127.0.1.132");
	memset(longline, 'x', sizeof(longline));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(query_start(base, "127.0.0.1", "127.0.1.132",
		    10, &r));
		fd = identd_take(base, lfd);
		if (cases[i].what == NULL)
			identd_say(fd, longline, sizeof(longline));
		else
			identd_say(fd, cases[i].what, cases[i].len != 0 ?
			    cases[i].len : strlen(cases[i].what));
		if (strstr(cases[i].why, "receiving") != NULL)
			(void)shutdown(fd, SHUT_WR);
		query_finish(base, &r);
		if (strcmp(r.qr_why, cases[i].why) != 0 || r.qr_reply[0] != 0)
			fail_msg("case %zu: why \"%s\", reply \"%s\"", i,
			    r.qr_why, r.qr_reply);
		(void)close(fd);
	}
	(void)close(lfd);
	event_base_free(base);
}

/* A server that takes the query and says nothing: "timeout" at the end. */
static void
test_query_timeout(void **state)
{
	struct event_base	*base = event_base_new();
	struct timespec		 t0, t1;
	struct qres		 r;
	int			 lfd, fd;

	(void)state;
	assert_non_null(base);
	lfd = identd_listen("127.0.1.133");
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	assert_non_null(query_start(base, "127.0.0.1", "127.0.1.133", 1, &r));
	fd = identd_take(base, lfd);
	query_finish(base, &r);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	assert_string_equal(r.qr_why, "timeout");
	assert_string_equal(r.qr_reply, "");
	/* Not before its time: the deadline is whole seconds from the start. */
	assert_true(t1.tv_sec - t0.tv_sec >= 1);
	(void)close(fd);
	(void)close(lfd);
	event_base_free(base);
}

/* A query over IPv6, to [::1]:113. */
static void
test_query_ipv6(void **state)
{
	struct event_base	*base = event_base_new();
	struct qres		 r;
	int			 lfd, fd;

	(void)state;
	assert_non_null(base);
	lfd = identd_listen("::1");
	assert_non_null(query_start(base, "::1", "::1", 10, &r));
	fd = identd_take(base, lfd);
	identd_say(fd, "5000,4000:USERID:UNIX:carol\r\n", 29);
	query_finish(base, &r);
	assert_string_equal(r.qr_reply, "UNIX:carol");
	(void)close(fd);
	(void)close(lfd);
	event_base_free(base);
}

/*
 * No query at all: a client of another family than the address it
 * reached, or an address to query from that is not this host's; and a
 * client that cannot be reached at once, told from the loop.
 */
static void
test_query_not_started(void **state)
{
	struct event_base	*base = event_base_new();
	struct qres		 r;

	(void)state;
	assert_non_null(base);
	errno = 0;
	assert_null(query_start(base, "127.0.0.1", "::1", 10, &r));
	assert_int_equal(errno, EAFNOSUPPORT);
	errno = 0;
	assert_null(query_start(base, "192.0.2.1", "127.0.0.1", 10, &r));
	assert_int_equal(errno, EADDRNOTAVAIL);
	/* The limited broadcast address refuses a stream connect at once. */
	assert_non_null(query_start(base, "127.0.0.1", "255.255.255.255", 10,
	    &r));
	query_finish(base, &r);
	assert_string_equal(r.qr_why, "no server");
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_replies),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_query_split_reply),
		cmocka_unit_test(test_query_bad_replies),
		cmocka_unit_test(test_query_timeout),
		cmocka_unit_test(test_query_ipv6),
		cmocka_unit_test(test_query_not_started),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
