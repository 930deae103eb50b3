/*
 * Unit tests for relay_connect.c, in process on a libevent base, with
 * loopback listeners as targets: a target that accepts later is reported
 * connected without asking SO_ERROR (epoll said writable, with no error);
 * so is a target that sent bytes first (readable and writable, no
 * EPOLLERR), with its bytes there; a refused target is reported with its
 * error, and the next target of the list is tried; a whole forwarded
 * connection (connect, relay_tcp.c, both ends closing) makes two
 * epoll_ctl calls, one ADD per socket, and no DEL or MOD.  getsockopt is
 * wrapped at link time (Makefile.am) to count the SO_ERROR calls, and
 * epoll_ctl is defined here over the system call to count every call of
 * the process, libevent's too.  Every wait has a deadline; nothing
 * sleeps.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
#include "relay_epoll.h"
#include "relay_tcp.h"

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

static int	ctl_calls[4];	/* by op: ADD 1, DEL 2, MOD 3 */

/* Every epoll_ctl of the process, libevent's too, counted. */
int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (op >= 1 && op <= 3)
		ctl_calls[op]++;
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
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
	memset(&sc, 0, sizeof(sc));
	sc.sc_redirect = &rt;
	sc.sc_nredirect = 1;
	sc.sc_connect_timeout = 10;
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
	relay_epoll_free(base);
	event_base_free(base);
}

/*
 * The target spoke before the loop looked: readable and writable without
 * EPOLLERR, so no SO_ERROR is asked (libevent's EV_READ made it ask, as
 * an error looks the same there); connected, and the target's bytes wait
 * on the socket.
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
	memset(&sc, 0, sizeof(sc));
	sc.sc_redirect = &rt;
	sc.sc_nredirect = 1;
	sc.sc_connect_timeout = 10;
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
	assert_int_equal(so_error_calls, 0);
	assert_int_equal(recv(r.r_fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	(void)close(a);
	(void)close(r.r_fd);
	(void)close(l);
	relay_epoll_free(base);
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
	memset(&sc, 0, sizeof(sc));
	sc.sc_redirect = rt;
	sc.sc_connect_timeout = 10;
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
	relay_epoll_free(base);
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
	memset(&sc, 0, sizeof(sc));
	sc.sc_redirect = &rt;
	sc.sc_nredirect = 1;
	sc.sc_connect_timeout = 10;
	l = target(&rt, 1);
	assert_non_null(base = event_base_new());
	assert_non_null(cn = start(base, &sc, &r));
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	relay_connect_cancel(cn);
	assert_true(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) >= 0);
	assert_false(r.r_called);
	(void)close(l);
	relay_epoll_free(base);
	event_base_free(base);
}

/* A forwarded connection: the client's end and the relay's. */
struct fwd {
	struct event_base	*f_base;
	struct service_conf	*f_sc;
	int			 f_cr;		/* the relay's client socket */
	struct relay		*f_rl;
	int			 f_ended;
	enum relay_end		 f_end;
	uint64_t		 f_in;
	uint64_t		 f_out;
};

static void
fwd_done(void *arg, enum relay_end end, const char *why, uint64_t in,
    uint64_t out)
{
	struct fwd	*f = arg;

	(void)why;
	f->f_ended = 1;
	f->f_end = end;
	f->f_in = in;
	f->f_out = out;
}

/* Connected: relay the client with the target, as session_backend.c. */
static void
fwd_connected(void *arg, int fd, const char *why)
{
	struct fwd	*f = arg;

	(void)why;
	assert_true(fd >= 0);
	assert_non_null(f->f_rl = relay_tcp_start(f->f_base, f->f_cr, fd,
	    f->f_sc, fwd_done, f));
}

/* Run <base> for up to 10 ms, or until <f> ended. */
static void
fwd_turn(struct fwd *f, int64_t deadline)
{
	struct timeval	tv = { 0, 10000 };

	assert_true(now_ms() < deadline);
	if (!f->f_ended) {
		assert_int_equal(event_base_loopexit(f->f_base, &tv), 0);
		assert_int_equal(event_base_dispatch(f->f_base), 0);
	}
}

/*
 * One request and answer through connect and relay, then the target
 * closes, then the client: what wrk -H 'Connection: close' makes.  The
 * test's own ends use no events, so every epoll_ctl counted is the
 * relay's.  Returns the calls by op in <calls>.
 */
static void
forward_one(struct event_base *base, struct service_conf *sc, int l,
    int calls[4])
{
	struct fwd		 f;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int64_t			 deadline = now_ms() + DEADLINE_MS;
	char			 buf[64];
	ssize_t			 n;
	int			 cl, c, a;

	memset(&f, 0, sizeof(f));
	f.f_base = base;
	f.f_sc = sc;
	/* The client's connection to the "listener": c to f_cr. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(cl = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(cl, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(cl, 1), 0);
	assert_int_equal(getsockname(cl, (struct sockaddr *)&sin, &len), 0);
	assert_int_not_equal(c = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_not_equal(f.f_cr = accept4(cl, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC), -1);
	(void)close(cl);
	assert_int_equal(send(c, "GET", 3, 0), 3);

	memset(ctl_calls, 0, sizeof(ctl_calls));
	assert_non_null(relay_connect_start(base, sc,
	    (struct sockaddr *)&sin, NULL, NULL, fwd_connected, &f));
	while (f.f_rl == NULL)
		fwd_turn(&f, deadline);
	/* The target hears the request and answers, then closes. */
	assert_int_not_equal(a = accept(l, NULL, NULL), -1);
	for (len = 0; len < 3; len += (socklen_t)n) {
		fwd_turn(&f, deadline);
		if ((n = recv(a, buf + len, 3 - len, MSG_DONTWAIT)) <= 0)
			n = 0;
	}
	assert_memory_equal(buf, "GET", 3);
	assert_int_equal(send(a, "200 OK", 6, 0), 6);
	(void)close(a);
	/* The client reads the answer to its EOF, then closes. */
	for (len = 0; (n = recv(c, buf + len, sizeof(buf) - len,
	    MSG_DONTWAIT)) != 0; ) {
		if (n > 0)
			len += (socklen_t)n;
		fwd_turn(&f, deadline);
	}
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "200 OK", 6);
	(void)close(c);
	while (!f.f_ended)
		fwd_turn(&f, deadline);
	assert_int_equal(f.f_end, RELAY_DONE);
	assert_int_equal(f.f_in, 3);
	assert_int_equal(f.f_out, 6);
	memcpy(calls, ctl_calls, sizeof(ctl_calls));
}

/*
 * A forwarded connection costs two epoll_ctl: the target's socket is
 * registered at its connect and the relay takes the registration over,
 * the client's at the relay's start, and neither is deleted before its
 * close.  (libevent made five: ADD, ADD, MOD, DEL, DEL.)  The first
 * connection of a loop also registers the relays' set in libevent's.
 */
static void
test_epoll_ctl_per_forward(void **state)
{
	struct event_base	*base;
	struct service_conf	 sc;
	struct redirect_target	 rt;
	int			 l, calls[4], i;

	(void)state;
	memset(&sc, 0, sizeof(sc));
	sc.sc_redirect = &rt;
	sc.sc_nredirect = 1;
	sc.sc_connect_timeout = 10;
	l = target(&rt, 1);
	assert_non_null(base = event_base_new());
	forward_one(base, &sc, l, calls);
	for (i = 0; i < 3; i++) {
		forward_one(base, &sc, l, calls);
		print_message("epoll_ctl per forwarded connection: ADD %d, "
		    "DEL %d, MOD %d\n", calls[EPOLL_CTL_ADD],
		    calls[EPOLL_CTL_DEL], calls[EPOLL_CTL_MOD]);
		assert_int_equal(calls[EPOLL_CTL_ADD], 2);
		assert_int_equal(calls[EPOLL_CTL_DEL], 0);
		assert_int_equal(calls[EPOLL_CTL_MOD], 0);
	}
	(void)close(l);
	relay_epoll_free(base);
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
		cmocka_unit_test(test_epoll_ctl_per_forward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
