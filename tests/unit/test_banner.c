/*
 * Unit tests for banner.c: files read once at load time (missing, not a
 * regular file, empty, small, larger than BANNER_MAX), what a failed load
 * leaves, and what goes to a client: queued on a bufferevent, or written
 * once to a socket about to be closed.  Files live in a scratch directory
 * removed at the end.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "banner.h"
#include "unit_util.h"

#define BIG	(3 * BANNER_MAX + 17)	/* a file larger than what is sent */

struct fx {
	char	dir[64];
	char	path[128];
};

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	(void)strlcpy(fx->dir, "/tmp/test_banner.XXXXXX", sizeof(fx->dir));
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	int		 rv;

	rv = unit_rm_tree(fx->dir);
	free(fx);
	return rv;
}

/* The byte at <off> of every test file: not periodic in 64 KiB. */
static unsigned char
pattern(size_t off)
{
	return (unsigned char)((off * 7 + off / 251) & 0xff);
}

/* Write <len> pattern bytes to <name> in the scratch directory. */
static const char *
file_make(struct fx *fx, const char *name, size_t len)
{
	unsigned char	*buf;
	size_t		 i;
	int		 fd;

	(void)snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
	assert_non_null(buf = malloc(len + 1));
	for (i = 0; i < len; i++)
		buf[i] = pattern(i);
	fd = open(fx->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	free(buf);
	return fx->path;
}

/* <b> holds the first <len> pattern bytes. */
static void
banner_is(const struct banner *b, size_t len)
{
	size_t	i;

	assert_int_equal(b->b_len, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)b->b_data[i] != pattern(i))
			fail_msg("byte %zu of the banner differs", i);
}

/* A missing file: an error naming it and why, and the banner untouched. */
static void
test_load_missing(void **state)
{
	struct fx	*fx = *state;
	struct banner	 b;
	char		 err[256], want[256], path[160];

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, file_make(fx, "old", 5), err,
	    sizeof(err)), 0);
	(void)snprintf(path, sizeof(path), "%s/absent", fx->dir);
	assert_int_equal(banner_load(&b, path, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "cannot read %s: %s", path,
	    strerror(ENOENT));
	assert_string_equal(err, want);
	/* What was loaded before stays, as a failed reload applies nothing. */
	banner_is(&b, 5);
	assert_string_equal(b.b_path, fx->path);
	banner_clear(&b);
}

/* A directory is refused (and so is anything else not a regular file). */
static void
test_load_not_regular(void **state)
{
	struct fx	*fx = *state;
	struct banner	 b;
	char		 err[256], want[256];

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, fx->dir, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "%s is not a regular file",
	    fx->dir);
	assert_string_equal(err, want);
	assert_null(b.b_path);
	assert_null(b.b_data);
	assert_int_equal(banner_load(&b, "/dev/null", err, sizeof(err)), -1);
	assert_string_equal(err, "/dev/null is not a regular file");
	/* A short error buffer is cut, not overrun. */
	memset(want, 'X', sizeof(want));
	assert_int_equal(banner_load(&b, "/dev/null", want, 5), -1);
	assert_string_equal(want, "/dev");
	assert_int_equal((unsigned char)want[5], 'X');
}

/* An empty file loads as an empty banner, which sends and queues nothing. */
static void
test_load_empty(void **state)
{
	struct fx		*fx = *state;
	struct banner		 b;
	struct event_base	*base;
	struct bufferevent	*bev;
	char			 err[256], c;
	int			 sv[2];

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, file_make(fx, "empty", 0), err,
	    sizeof(err)), 0);
	assert_int_equal(b.b_len, 0);
	assert_string_equal(b.b_path, fx->path);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	banner_send_fd(sv[0], &b);
	assert_int_equal(recv(sv[1], &c, 1, 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_non_null(base = event_base_new());
	assert_non_null(bev = bufferevent_socket_new(base, sv[0], 0));
	assert_int_equal(banner_queue(bev, &b), 0);
	assert_int_equal(evbuffer_get_length(bufferevent_get_output(bev)), 0);
	bufferevent_free(bev);
	event_base_free(base);
	(void)close(sv[0]);
	(void)close(sv[1]);
	banner_clear(&b);
}

/* Up to BANNER_MAX bytes whole; a larger file is cut to BANNER_MAX. */
static void
test_load_sizes(void **state)
{
	struct fx	*fx = *state;
	struct banner	 b;
	char		 err[256];
	const size_t	 len[] = { 1, 4095, 4096, 4097, BANNER_MAX - 1,
	    BANNER_MAX, BANNER_MAX + 1, BIG };
	size_t		 i, want;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		assert_int_equal(banner_load(&b, file_make(fx, "sized", len[i]),
		    err, sizeof(err)), 0);
		want = len[i] < BANNER_MAX ? len[i] : BANNER_MAX;
		banner_is(&b, want);
	}
	banner_clear(&b);
}

/*
 * Read at load time: the file may change or go afterwards, and what is
 * sent is what was loaded.  A second load replaces the first.
 */
static void
test_load_once(void **state)
{
	struct fx	*fx = *state;
	struct banner	 b;
	char		 err[256];

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, file_make(fx, "a", 100), err,
	    sizeof(err)), 0);
	(void)file_make(fx, "a", 3);
	assert_int_equal(unlink(fx->path), 0);
	banner_is(&b, 100);
	assert_int_equal(banner_load(&b, file_make(fx, "b", 10), err,
	    sizeof(err)), 0);
	banner_is(&b, 10);
	assert_string_equal(b.b_path, fx->path);
	banner_clear(&b);
	assert_null(b.b_path);
	assert_null(b.b_data);
	assert_int_equal(b.b_len, 0);
	banner_clear(&b);
}

/* Queued on a bufferevent: exactly the banner, once, and it arrives. */
static void
test_queue(void **state)
{
	struct fx		*fx = *state;
	struct banner		 b;
	struct event_base	*base;
	struct bufferevent	*bev;
	struct evbuffer		*out;
	unsigned char		*got;
	char			 err[256];
	size_t			 n = 0, i;
	ssize_t			 r;
	int			 sv[2], rounds;

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, file_make(fx, "q", BIG), err,
	    sizeof(err)), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	assert_non_null(base = event_base_new());
	assert_non_null(bev = bufferevent_socket_new(base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE));
	assert_int_equal(banner_queue(bev, &b), 0);
	out = bufferevent_get_output(bev);
	assert_int_equal(evbuffer_get_length(out), BANNER_MAX);
	assert_memory_equal(evbuffer_pullup(out, -1), b.b_data, BANNER_MAX);
	/* The loop writes it; the client reads every byte and no more. */
	assert_non_null(got = malloc(BANNER_MAX + 1));
	for (rounds = 0; rounds < 10000 && n <= BANNER_MAX; rounds++) {
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		while ((r = recv(sv[1], got + n, BANNER_MAX + 1 - n, 0)) > 0)
			n += (size_t)r;
		if (n == BANNER_MAX && evbuffer_get_length(out) == 0)
			break;
	}
	assert_int_equal(n, BANNER_MAX);
	for (i = 0; i < n; i++)
		if (got[i] != pattern(i))
			fail_msg("byte %zu received differs", i);
	free(got);
	bufferevent_free(bev);
	event_base_free(base);
	(void)close(sv[1]);
	banner_clear(&b);
}

/*
 * Written to a closing client: one non-blocking write, so a full socket
 * takes a prefix and the call does not wait; a peer gone raises no
 * SIGPIPE.
 */
static void
test_send_fd(void **state)
{
	struct fx	*fx = *state;
	struct banner	 b;
	unsigned char	*got;
	char		 err[256];
	size_t		 n = 0, i;
	ssize_t		 r;
	int		 sv[2], small = 4096;

	memset(&b, 0, sizeof(b));
	assert_int_equal(banner_load(&b, file_make(fx, "s", BANNER_MAX), err,
	    sizeof(err)), 0);
	/* Blocking on purpose: banner_send_fd() must not block anyway. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	banner_send_fd(sv[0], &b);
	assert_non_null(got = malloc(BANNER_MAX));
	while ((r = recv(sv[1], got + n, BANNER_MAX - n, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	assert_true(n > 0 && n < BANNER_MAX);
	for (i = 0; i < n; i++)
		if (got[i] != pattern(i))
			fail_msg("byte %zu received differs", i);
	free(got);
	(void)close(sv[1]);
	banner_send_fd(sv[0], &b);
	(void)close(sv[0]);
	banner_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_not_regular, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_sizes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_fd, setup, teardown),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
