/*
 * Unit tests for relay_epoll.c, in process on a libevent base with
 * socketpairs: a registered socket's events reach its callback (EPOLLOUT
 * at once, EPOLLIN when bytes come, once per edge); a socket forgotten
 * and closed by a callback while its event waits in the same batch gets
 * no callback, not even when a new registration takes its slot and its
 * descriptor number in that callback; a post runs the callback again
 * with 0 on the next turn, after the loop has polled, once however often
 * posted, and not after a forget; a socket offered and not claimed
 * leaves the set, one claimed stays with what was seen.  epoll_ctl is
 * defined here over the system call, so that the test counts every call
 * of the process (libevent's too), and the set's registrations are read
 * from /proc/self/fdinfo.  Every wait has a deadline; nothing sleeps.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
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

#include <event2/event.h>

#include "relay_epoll.h"

#define DEADLINE_MS	30000

static int	ctl_calls[4];	/* by op: ADD 1, DEL 2, MOD 3 */

/* Every epoll_ctl of the process, libevent's too, counted. */
int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (op >= 1 && op <= 3)
		ctl_calls[op]++;
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is <fd> in an epoll set of this process (/proc/self/fdinfo)? */
static int
registered(int fd)
{
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	char		 path[300], line[256], want[32];
	int		 found = 0;

	(void)snprintf(want, sizeof(want), "tfd: %8d ", fd);
	assert_non_null(d = opendir("/proc/self/fdinfo"));
	while (!found && (de = readdir(d)) != NULL) {
		(void)snprintf(path, sizeof(path), "/proc/self/fdinfo/%s",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = strncmp(line, want, strlen(want)) == 0;
		(void)fclose(f);
	}
	(void)closedir(d);
	return found;
}

/* One registered end of a socketpair, and what its callback saw. */
struct end {
	struct relay_epoll	*e_ep;
	uint64_t		 e_id;
	int			 e_fd;
	int			 e_peer;
	int			 e_calls;
	uint32_t		 e_events;	/* all reported */
	int			 e_zero;	/* calls with 0 */
	int			 e_turn;	/* the turn of the last call */
	struct end		*e_kill;	/* forget and close it */
	struct end		*e_new;		/* then register it */
	int			 e_repost;	/* post again, so often */
};

static void
end_cb(void *arg, uint32_t events)
{
	struct end	*e = arg;
	struct end	*k = e->e_kill;
	int		 fd[2];

	e->e_calls++;
	e->e_events |= events;
	if (events == 0)
		e->e_zero++;
	if (k != NULL && k->e_fd != -1) {
		relay_epoll_forget(k->e_ep, k->e_id);
		(void)close(k->e_fd);
		k->e_fd = -1;
		if (e->e_new != NULL) {
			/* The lowest free number: the one just closed. */
			assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM |
			    SOCK_NONBLOCK, 0, fd), 0);
			e->e_new->e_ep = e->e_ep;
			e->e_new->e_fd = fd[0];
			e->e_new->e_peer = fd[1];
			e->e_new->e_id = relay_epoll_add(e->e_ep, fd[0],
			    end_cb, e->e_new);
			assert_true(e->e_new->e_id != 0);
		}
	}
	if (e->e_repost > 0) {
		e->e_repost--;
		relay_epoll_post(e->e_ep, e->e_id);
		relay_epoll_post(e->e_ep, e->e_id);
	}
}

static void
end_open(struct relay_epoll *ep, struct end *e)
{
	int	fd[2];

	memset(e, 0, sizeof(*e));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	e->e_ep = ep;
	e->e_fd = fd[0];
	e->e_peer = fd[1];
	e->e_id = relay_epoll_add(ep, e->e_fd, end_cb, e);
	assert_true(e->e_id != 0);
}

static void
end_close(struct end *e)
{
	if (e->e_fd != -1) {
		relay_epoll_forget(e->e_ep, e->e_id);
		(void)close(e->e_fd);
	}
	(void)close(e->e_peer);
}

/* One turn of the loop that waits for something. */
static void
once(struct event_base *base)
{
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
}

/* Run <base> until <e> was called <n> times, by the deadline. */
static void
until_calls(struct event_base *base, struct end *e, int n)
{
	int64_t	deadline = now_ms() + DEADLINE_MS;

	while (e->e_calls < n) {
		assert_true(now_ms() < deadline);
		once(base);
	}
}

/*
 * Events reach the callback: EPOLLOUT after the ADD, EPOLLIN (with
 * EPOLLOUT: the mask of the moment) when bytes come, and nothing more
 * without a new edge, though the bytes stay unread.  One epoll_ctl for
 * the socket, one for the set in libevent's.
 */
static void
test_events(void **state)
{
	struct event_base	*base;
	struct relay_epoll	*ep;
	struct end		 e;
	int			 i;

	(void)state;
	assert_non_null(base = event_base_new());
	memset(ctl_calls, 0, sizeof(ctl_calls));
	assert_non_null(ep = relay_epoll_get(base));
	assert_ptr_equal(relay_epoll_get(base), ep);
	end_open(ep, &e);
	assert_int_equal(ctl_calls[EPOLL_CTL_ADD], 2);
	assert_true(registered(e.e_fd));
	until_calls(base, &e, 1);
	assert_true(e.e_events & EPOLLOUT);
	assert_false(e.e_events & EPOLLIN);
	assert_int_equal(send(e.e_peer, "abc", 3, 0), 3);
	until_calls(base, &e, 2);
	assert_true(e.e_events & EPOLLIN);
	/* Edge-triggered: unread bytes do not report again. */
	for (i = 0; i < 20; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(e.e_calls, 2);
	/* The peer's close: EPOLLRDHUP. */
	(void)close(e.e_peer);
	e.e_peer = -1;
	until_calls(base, &e, 3);
	assert_true(e.e_events & EPOLLRDHUP);
	end_close(&e);
	assert_int_equal(ctl_calls[EPOLL_CTL_DEL], 0);
	assert_int_equal(ctl_calls[EPOLL_CTL_MOD], 0);
	relay_epoll_free(base);
	event_base_free(base);
}

/*
 * Two sockets with events in one batch: whichever callback runs first
 * forgets and closes the other, and registers a new socket in its slot
 * (and under its number): the closed one's event, still in the batch,
 * reaches nobody; the new socket's own comes on the next turn.  The
 * close took the socket out of the set without a DEL.
 */
static void
test_closed_mid_batch(void **state)
{
	struct event_base	*base;
	struct relay_epoll	*ep;
	struct end		 a, b, na, nb, *n;
	int			 i, afd, bfd;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(ep = relay_epoll_get(base));
	for (i = 0; i < 2; i++) {
		end_open(ep, &a);
		end_open(ep, &b);
		memset(&na, 0, sizeof(na));
		memset(&nb, 0, sizeof(nb));
		na.e_fd = nb.e_fd = na.e_peer = nb.e_peer = -1;
		a.e_kill = &b;
		b.e_kill = &a;
		if (i == 1) {
			a.e_new = &na;
			b.e_new = &nb;
		}
		afd = a.e_fd;
		bfd = b.e_fd;
		memset(ctl_calls, 0, sizeof(ctl_calls));
		/* Both writable since the ADD: one batch, one wake-up. */
		once(base);
		assert_int_equal(a.e_calls + b.e_calls, 1);
		assert_int_equal(na.e_calls + nb.e_calls, 0);
		assert_int_equal(ctl_calls[EPOLL_CTL_DEL], 0);
		assert_false(registered(a.e_calls ? bfd : afd) &&
		    i == 0);
		if (i == 1) {
			n = a.e_calls ? &na : &nb;
			/* The dead one's number, and its slot. */
			assert_int_equal(n->e_fd, a.e_calls ? bfd : afd);
			until_calls(base, n, 1);
			assert_true(n->e_events & EPOLLOUT);
			end_close(n);
		}
		assert_int_equal(a.e_calls + b.e_calls, 1);
		end_close(&a);
		end_close(&b);
	}
	relay_epoll_free(base);
	event_base_free(base);
}

/*
 * A post runs the callback again with 0 on the next turn of the loop
 * (not in the turn that posted: the loop polls in between), once however
 * often it was posted in a call; a forget drops a post.
 */
static void
test_post(void **state)
{
	struct event_base	*base;
	struct relay_epoll	*ep;
	struct end		 e, f;
	int			 i;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(ep = relay_epoll_get(base));
	end_open(ep, &e);
	e.e_repost = 3;
	until_calls(base, &e, 1);		/* EPOLLOUT; it posts */
	assert_int_equal(e.e_zero, 0);
	for (i = 2; i <= 4; i++) {
		once(base);
		assert_int_equal(e.e_calls, i);
		assert_int_equal(e.e_zero, i - 1);
	}
	for (i = 0; i < 20; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(e.e_calls, 4);
	/* Posted, then forgotten: no call. */
	end_open(ep, &f);
	until_calls(base, &f, 1);
	relay_epoll_post(ep, f.e_id);
	relay_epoll_forget(ep, f.e_id);
	(void)close(f.e_fd);
	f.e_fd = -1;
	for (i = 0; i < 20; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(f.e_calls, 1);
	end_close(&e);
	end_close(&f);
	relay_epoll_free(base);
	event_base_free(base);
}

/*
 * Offered and not claimed: the socket leaves the set (one DEL) and stays
 * open.  Offered and claimed by its number: it keeps its registration
 * (no call), the claimer gets what was reported, and its callback the
 * next events; a claim of another number gets nothing.
 */
static void
test_offer_claim(void **state)
{
	struct event_base	*base;
	struct relay_epoll	*ep;
	struct end		 e, g;
	uint32_t		 seen = 0;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(ep = relay_epoll_get(base));
	end_open(ep, &e);
	until_calls(base, &e, 1);
	memset(ctl_calls, 0, sizeof(ctl_calls));
	relay_epoll_offer(ep, e.e_id);
	relay_epoll_offer_end(ep);
	assert_int_equal(ctl_calls[EPOLL_CTL_DEL], 1);
	assert_false(registered(e.e_fd));
	assert_int_equal(send(e.e_peer, "x", 1, 0), 1);
	e.e_fd = -1;			/* nothing to forget */
	end_close(&e);

	end_open(ep, &e);
	end_open(ep, &g);
	until_calls(base, &e, 1);
	memset(ctl_calls, 0, sizeof(ctl_calls));
	relay_epoll_offer(ep, e.e_id);
	assert_int_equal(relay_epoll_claim(ep, g.e_fd, end_cb, &g, &seen), 0);
	assert_true(relay_epoll_claim(ep, e.e_fd, end_cb, &g, &seen) ==
	    e.e_id);
	assert_true(seen & EPOLLOUT);
	relay_epoll_offer_end(ep);
	assert_int_equal(ctl_calls[EPOLL_CTL_DEL], 0);
	assert_true(registered(e.e_fd));
	g.e_calls = 0;
	assert_int_equal(send(e.e_peer, "x", 1, 0), 1);
	until_calls(base, &g, 1);
	assert_true(g.e_events & EPOLLIN);
	assert_int_equal(e.e_calls, 1);
	end_close(&e);
	end_close(&g);
	relay_epoll_free(base);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_closed_mid_batch),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_offer_claim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
