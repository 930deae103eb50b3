/*
 * Unit tests for relay_connect.c, in process on a libevent base, with
 * loopback listeners as targets: a target that accepts later is reported
 * connected without asking SO_ERROR (the event said writable, not
 * readable: no error); a target that sent bytes first is asked SO_ERROR
 * and reported connected with its bytes there; a refused target is
 * reported with its error, and the next target of the list is tried.
 * getsockopt is wrapped at link time (Makefile.am) to count the SO_ERROR
 * calls.  Every wait has a deadline; nothing sleeps.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/sockios.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "config.h"
#include "relay_connect.h"

#define DEADLINE_MS	30000	/* for sanitizer builds on a busy machine */

int	__real_getsockopt(int, int, int, void *, socklen_t *);
int	__wrap_getsockopt(int, int, int, void *, socklen_t *);

static int	so_error_calls;

int
__wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_ERROR)
		so_error_calls++;
	return __real_getsockopt(fd, level, name, val, len);
}

/* What the connector reported. */
struct report {
	int	r_called;
	int	r_fd;
	char	r_why[160];
};

static void
report_cb(void *arg, int fd, const char *why)
{
	struct report	*r = arg;

	assert_false(r->r_called);
	r->r_called = 1;
	r->r_fd = fd;
	(void)strlcpy(r->r_why, why, sizeof(r->r_why));
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A listening loopback socket in <rt> (listen(2) only if <listen_too>:
 * a port bound but not listening refuses), its descriptor.
 */
static int
target(struct redirect_target *rt, int listen_too)
{
	static char		 host[] = "127.0.0.1", port[] = "test";
	struct sockaddr_in	*sin = (struct sockaddr_in *)&rt->rt_addr;
	socklen_t		 len = sizeof(*sin);
	int			 fd;

	memset(rt, 0, sizeof(*rt));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	if (listen_too)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	rt->rt_addrlen = len;
	rt->rt_host = host;
	rt->rt_port = port;
	return fd;
}

/* Run <base> until <r> is reported, by the deadline. */
static void
run_until_reported(struct event_base *base, struct report *r)
{
	int64_t	deadline = now_ms() + DEADLINE_MS;

	while (!r->r_called) {
		assert_true(now_ms() < deadline);
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	}
}

/* A service forwarding to the <n> targets of <rt>. */
static void
service(struct service_conf *sc, struct redirect_target *rt, int n)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_redirect = rt;
	sc->sc_nredirect = n;
	sc->sc_connect_timeout = 10;
}

static struct relay_connector *
start(struct event_base *base, struct service_conf *sc, struct report *r)
{
	struct sockaddr_in	 from;

	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(r, 0, sizeof(*r));
	r->r_fd = -2;
	return relay_connect_start(base, sc, (struct sockaddr *)&from, NULL,
	    NULL, report_cb, r);
}

/* Connected and writable: reported with no SO_ERROR asked. */
static void
test_connected_no_so_error(void **state)
{
	struct event_base	*base;
	struct service_conf	 sc;
	struct redirect_target	 rt;
	struct report		 r;
	int			 l, a;

	(void)state;
	service(&sc, &rt, 1);
	l = target(&rt, 1);
	assert_non_null(base = event_base_new());
	so_error_calls = 0;
	assert_non_null(start(base, &sc, &r));
	run_until_reported(base, &r);
	assert_true(r.r_fd >= 0);
	assert_int_equal(so_error_calls, 0);
	/* It is the real connection: the target accepts it and hears it. */
	assert_int_not_equal(a = accept(l, NULL, NULL), -1);
	assert_int_equal(send(r.r_fd, "x", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(recv(a, r.r_why, 1, 0), 1);
	assert_int_equal(r.r_why[0], 'x');
	(void)close(a);
	(void)close(r.r_fd);
	(void)close(l);
	event_base_free(base);
}

/*
 * The target spoke before the loop looked: readable and writable, which
 * an error would look like too, so SO_ERROR is asked; connected, and the
 * target's bytes wait on the socket.
 */
static void
test_target_speaks_first(void **state)
{
	struct event_base	*base;
	struct service_conf	 sc;
	struct redirect_target	 rt;
	struct report		 r;
	struct pollfd		 pfd;
	int64_t			 deadline = now_ms() + DEADLINE_MS;
	int			 l, a, unacked = 1;
	char			 buf[8];

	(void)state;
	service(&sc, &rt, 1);
	l = target(&rt, 1);
	assert_non_null(base = event_base_new());
	so_error_calls = 0;
	assert_non_null(start(base, &sc, &r));
	/* The first turn runs the connect (an active event, no waiting). */
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	pfd.fd = l;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 10) == 0)
		assert_true(now_ms() < deadline);
	/* The loop has not looked at the connect's event yet. */
	assert_false(r.r_called);
	assert_int_not_equal(a = accept(l, NULL, NULL), -1);
	assert_int_equal(send(a, "hello", 5, MSG_NOSIGNAL), 5);
	/* Acknowledged: in the connector's socket before the loop looks. */
	while (unacked > 0) {
		assert_true(now_ms() < deadline);
		assert_int_equal(ioctl(a, SIOCOUTQ, &unacked), 0);
	}
	run_until_reported(base, &r);
	assert_true(r.r_fd >= 0);
	assert_int_equal(so_error_calls, 1);
	assert_int_equal(recv(r.r_fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	(void)close(a);
	(void)close(r.r_fd);
	(void)close(l);
	event_base_free(base);
}

/*
 * A refused target is reported with its error when it is the last; with
 * another target after it, that one is reached.
 */
static void
test_refused_then_next(void **state)
{
	struct event_base	*base;
	struct service_conf	 sc;
	struct redirect_target	 rt[2];
	struct report		 r;
	int			 closed, l, a;

	(void)state;
	service(&sc, rt, 2);
	closed = target(&rt[0], 0);
	l = target(&rt[1], 1);
	assert_non_null(base = event_base_new());

	sc.sc_nredirect = 1;
	assert_non_null(start(base, &sc, &r));
	run_until_reported(base, &r);
	assert_int_equal(r.r_fd, -1);
	assert_non_null(strstr(r.r_why, strerror(ECONNREFUSED)));

	sc.sc_nredirect = 2;
	assert_non_null(start(base, &sc, &r));
	run_until_reported(base, &r);
	assert_true(r.r_fd >= 0);
	assert_int_not_equal(a = accept(l, NULL, NULL), -1);
	(void)close(a);
	(void)close(r.r_fd);
	(void)close(l);
	(void)close(closed);
	event_base_free(base);
}

/* Cancelled while connecting: nothing is reported, nothing leaks. */
static void
test_cancel_while_connecting(void **state)
{
	struct event_base	*base;
	struct service_conf	 sc;
	struct redirect_target	 rt;
	struct relay_connector	*cn;
	struct report		 r;
	int			 l;

	(void)state;
	service(&sc, &rt, 1);
	l = target(&rt, 1);
	assert_non_null(base = event_base_new());
	assert_non_null(cn = start(base, &sc, &r));
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	relay_connect_cancel(cn);
	assert_true(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) >= 0);
	assert_false(r.r_called);
	(void)close(l);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connected_no_so_error),
		cmocka_unit_test(test_target_speaks_first),
		cmocka_unit_test(test_refused_then_next),
		cmocka_unit_test(test_cancel_while_connecting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
