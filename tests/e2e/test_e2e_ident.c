/*
 * End-to-end tests of USERID logging (ident, RFC 1413): the test plays the
 * client's ident server on port 113 of the client's own loopback address
 * (127.0.0.5, .6, .7: one per test, so that they never share a socket),
 * which needs root, as the daemon's spawn tests do.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "harness.h"

#define ACCESS_LOG	PG_ACCESS_LOG
#define CONF		"ident.conf"
#define WAIT_MS		10000

/*
 * Take the daemon's query on <lfd>, check it asks about <rport>, <lport>
 * and answer that the pair <rp>, <lp> is <user> ("UNIX : alice"); the
 * query's descriptor is closed.
 */
static void
identd_answer(int lfd, int rport, int lport, int rp, int lp,
    const char *user)
{
	char	 want[32], got[64], out[128];
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	assert_int_equal(pg_poll(lfd, POLLIN, WAIT_MS), 1);
	assert_true((fd = accept(lfd, NULL, NULL)) != -1);
	(void)snprintf(want, sizeof(want), "%d,%d\r\n", rport, lport);
	while (len < strlen(want)) {
		assert_int_equal(pg_poll(fd, POLLIN, WAIT_MS), 1);
		n = read(fd, got + len, sizeof(got) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	got[len] = '\0';
	assert_string_equal(got, want);
	(void)snprintf(out, sizeof(out), "%d , %d : USERID : %s\r\n", rp, lp,
	    user);
	assert_int_equal(pg_send_all(fd, out, strlen(out)), 0);
	(void)close(fd);
}

/* Defaults with <success> and <failure>, and a stream echo on <port>. */
static void
conf_echo(struct pg_conf *cf, const struct pg_ctx *c, int port,
    const char *success, const char *failure, const char *extra)
{
	pg_conf_begin(cf, c, ACCESS_LOG, success, failure);
	pg_conf_add(cf, "\nservice echo\n{\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n%s}\n",
	    port, extra);
}

/* One echo round trip on <fd>. */
static void
echo_once(int fd, const char *msg)
{
	char	buf[64];

	assert_int_equal(pg_send_all(fd, msg, strlen(msg)), 0);
	assert_int_equal(pg_recv_n(fd, buf, strlen(msg)), (ssize_t)strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
}

/*
 * log_on_success USERID: the reply's text after "USERID :" is logged as
 * xinetd does, while the session goes on; a reply about other ports is
 * not logged.
 */
static void
test_userid_logged(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[8];
	int		 lfd, fd, p = pg_fresh_port();

	lfd = pg_identd_listen("127.0.0.5");
	conf_echo(&cf, c, p, "HOST USERID EXIT", NULL, "");
	pg_conf_start(c, &cf, CONF);
	fd = pg_tcp_connect("127.0.0.5", "127.0.0.1", p);
	echo_once(fd, "before the reply\n");
	identd_answer(lfd, pg_local_port(fd), p, pg_local_port(fd), p,
	    "UNIX : alice");
	pg_log_wait(c, 1, "USERID: echo UNIX : alice");
	echo_once(fd, "after the reply\n");
	assert_int_equal(pg_shut_wr(fd), 0);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	pg_log_wait(c, 1, "EXIT: echo status=0");

	/* Not the ports asked about: nothing is logged. */
	fd = pg_tcp_connect("127.0.0.5", "127.0.0.1", p);
	identd_answer(lfd, pg_local_port(fd), p, 1, 2, "UNIX : mallory");
	echo_once(fd, "still served\n");
	(void)close(fd);
	pg_log_wait(c, 2, "EXIT: echo status=0");
	assert_int_equal(pg_log_count(c, "mallory"), 0);
	assert_int_equal(pg_log_count(c, "USERID:"), 1);
	(void)close(lfd);
	pg_stop_ok(c);
}

/*
 * flags = IDONLY: the session waits for the reply; without one (no ident
 * server) the client is closed unserved with a NOID record.
 */
static void
test_idonly(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[64];
	int		 lfd, fd, p = pg_fresh_port();

	conf_echo(&cf, c, p, "HOST USERID", NULL, "\tflags\t\t= IDONLY\n");
	pg_conf_start(c, &cf, CONF);

	/* No ident server on 127.0.0.6 yet: refused at once. */
	fd = pg_tcp_connect("127.0.0.6", "127.0.0.1", p);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	pg_log_wait(c, 1, "NOID: echo 127.0.0.6 no server");
	assert_int_equal(pg_log_count(c, "START:"), 0);

	/* With one, the echo starts only once it has answered. */
	lfd = pg_identd_listen("127.0.0.6");
	fd = pg_tcp_connect("127.0.0.6", "127.0.0.1", p);
	assert_int_equal(pg_send_all(fd, "early\n", 6), 0);
	assert_int_equal(pg_poll(fd, POLLIN, 300), 0);
	identd_answer(lfd, pg_local_port(fd), p, pg_local_port(fd), p,
	    "UNIX,UTF-8:bob");
	assert_int_equal(pg_recv_n(fd, buf, 6), 6);
	assert_memory_equal(buf, "early\n", 6);
	pg_log_wait(c, 1, "USERID: echo UNIX,UTF-8:bob");
	pg_log_wait(c, 1, "START: echo from=127.0.0.6");
	(void)close(fd);
	(void)close(lfd);
	pg_stop_ok(c);
}

/*
 * log_on_failure USERID: a refused client sees its refusal (EOF) at once
 * and is asked about all the same, while its connection lives.
 */
static void
test_userid_on_failure(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 buf[8];
	int		 lfd, fd, p = pg_fresh_port();

	lfd = pg_identd_listen("127.0.0.7");
	conf_echo(&cf, c, p, "HOST", "HOST USERID",
	    "\tonly_from\t= 127.0.0.1\n");
	pg_conf_start(c, &cf, CONF);
	fd = pg_tcp_connect("127.0.0.7", "127.0.0.1", p);
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	pg_log_wait(c, 1, "FAIL: echo address from=127.0.0.7");
	identd_answer(lfd, pg_local_port(fd), p, pg_local_port(fd), p,
	    "UNIX : eve");
	pg_log_wait(c, 1, "USERID: echo UNIX : eve");
	(void)close(fd);
	(void)close(lfd);
	pg_stop_ok(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_userid_logged, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_idonly, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_userid_on_failure,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
