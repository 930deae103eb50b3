/*
 * End-to-end tests of the ban list's state file (ban_state_file): a
 * SENSOR ban survives a restart of the daemon, with its expiry; at start a
 * malformed file is reported line by line (file:line) and what is valid
 * of it is loaded, expired bans are dropped; a file that cannot be read
 * or written is reported and the daemon serves all the same.
 */
#include <sys/types.h>
#include <sys/stat.h>

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

#include "../test_skip.h"

#include "harness.h"

#define CONF		"bans.conf"
#define STATE		"bans"
#define DENY_MINUTES	10

static void
expect_admitted(const char *src, int port, const char *why)
{
	if (!pg_echoed(src, port))
		fail_msg("%s refused; expected admitted (%s)", src, why);
}

/* Refused, and the FAIL record says why: the deny list. */
static void
expect_banned(const struct pg_ctx *c, const char *src, int port,
    const char *why)
{
	if (pg_echoed(src, port))
		fail_msg("%s admitted; expected refused (%s)", src, why);
	pg_log_wait(c, 1, "FAIL: echo address from=%s\n", src);
}

/* A trap (SENSOR, deny_time DENY_MINUTES) and an echo service. */
static void
conf_write(struct pg_ctx *c, struct pg_conf *cf, const char *state,
    int trap, int echo)
{
	char	path[PG_PATH_MAX];

	pg_conf_begin(cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_add(cf, "defaults\n{\n\tban_state_file\t= %s\n}\n",
	    state[0] == '/' || strcmp(state, "none") == 0 ? state :
	    pg_path(c, state, path));
	pg_conf_add(cf, "\nservice trap\n{\n\ttype\t\t= UNLISTED\n"
	    "\tflags\t\t= SENSOR\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tdeny_time\t= %d\n}\n",
	    trap, DENY_MINUTES);
	pg_conf_add(cf, "\nservice echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n}\n", echo);
}

/* Touch the trap from <src>: the connection closes at once. */
static void
touch(const struct pg_ctx *c, const char *src, int trap)
{
	char	buf[16], want[128];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", trap)) == -1)
		fail_msg("connect %s -> trap: %s", src, strerror(errno));
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	(void)snprintf(want, sizeof(want), "adding %s to the global deny list "
	    "for %d minutes", src, DENY_MINUTES);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
}

/* The expiry the state file gives <addr>; fails the test if none. */
static long long
state_expiry(const struct pg_ctx *c, const char *addr)
{
	char		*text, *line, want[64];
	long long	 until = -1;

	assert_non_null(text = pg_file_read(c, STATE));
	(void)snprintf(want, sizeof(want), "\n%s ", addr);
	if ((line = strstr(text, want)) == NULL ||
	    sscanf(line + strlen(want), "%lld", &until) != 1)
		fail_msg("no line for %s in the state file:\n%s", addr, text);
	free(text);
	return until;
}

/*
 * A SENSOR ban survives a clean restart with its expiry; the first start
 * finds no file and says so; other addresses pass.
 */
static void
test_restart_keeps_bans(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	int		 trap = pg_fresh_port(), echo = pg_fresh_port();
	long long	 until, before;

	conf_write(c, &cf, STATE, trap, echo);
	pg_conf_start(c, &cf, CONF);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "none yet, no ban kept",
	    1), 0);
	expect_admitted("127.0.0.5", echo, "not banned yet");
	before = (long long)time(NULL);
	touch(c, "127.0.0.5", trap);
	expect_banned(c, "127.0.0.5", echo, "touched the trap");
	/* Written within a second of the ban, before any stop. */
	assert_int_equal(pg_file_wait(c, STATE, "\n127.0.0.5 ", 1), 0);
	pg_stop_ok(c);
	until = state_expiry(c, "127.0.0.5");
	assert_true(until >= before + DENY_MINUTES * 60);
	assert_true(until <= (long long)time(NULL) + DENY_MINUTES * 60);

	pg_conf_start(c, &cf, CONF);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "1 ban loaded", 1), 0);
	expect_banned(c, "127.0.0.5", echo, "banned before the restart");
	expect_admitted("127.0.0.6", echo, "another address");
	pg_stop_ok(c);
	/* Nothing changed: the file is the same. */
	assert_int_equal(state_expiry(c, "127.0.0.5"), until);

	/* Without a state file, a restart forgets. */
	conf_write(c, &cf, "none", trap, echo);
	pg_conf_start(c, &cf, CONF);
	expect_admitted("127.0.0.5", echo, "ban_state_file = none");
	pg_stop_ok(c);
}

/*
 * A malformed file: each bad line reported as file:line, the good ones
 * loaded, expired ones dropped; the daemon serves.
 */
static void
test_malformed_file(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 path[PG_PATH_MAX], want[PG_PATH_MAX + 64];
	char		 longline[200];
	int		 trap = pg_fresh_port(), echo = pg_fresh_port();

	memset(longline, '1', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(pg_file_write(c, STATE, "# a comment\n"
	    "127.0.0.7 0\n"
	    "not an address 5\n"
	    "127.0.0.8 12x\n"
	    "127.0.0.9 %lld\n"
	    "\n"
	    "%s\n"
	    "2001:db8::1 0\n"
	    "127.0.0.11 %lld",
	    (long long)time(NULL) - 10, longline,
	    (long long)time(NULL) + 3600), 0);
	conf_write(c, &cf, STATE, trap, echo);
	pg_conf_start(c, &cf, CONF);
	(void)pg_path(c, STATE, path);
	(void)snprintf(want, sizeof(want), "%s:3: expected ADDRESS EXPIRY",
	    path);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
	(void)snprintf(want, sizeof(want), "%s:4: expected an expiry", path);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
	(void)snprintf(want, sizeof(want), "%s:7: a line longer than 128",
	    path);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, want, 1), 0);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "3 bans loaded", 1), 0);
	expect_banned(c, "127.0.0.7", echo, "for ever in the file");
	expect_banned(c, "127.0.0.11", echo, "for an hour in the file");
	expect_admitted("127.0.0.9", echo, "expired in the file");
	expect_admitted("127.0.0.8", echo, "its line was malformed");
	pg_stop_ok(c);
}

/*
 * A state file that is a directory: it can be neither read nor replaced;
 * both are reported, the daemon serves and bans in memory.
 */
static void
test_unusable_file(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 path[PG_PATH_MAX];
	int		 trap = pg_fresh_port(), echo = pg_fresh_port();

	assert_int_equal(mkdir(pg_path(c, STATE, path), 0700), 0);
	conf_write(c, &cf, STATE, trap, echo);
	pg_conf_start(c, &cf, CONF);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "read error", 1), 0);
	expect_admitted("127.0.0.5", echo, "nothing was loaded");
	touch(c, "127.0.0.5", trap);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, "cannot write it", 1), 0);
	expect_banned(c, "127.0.0.5", echo, "banned in memory");
	pg_stop_ok(c);
	/* Reported once, not at every try. */
	assert_int_equal(pg_file_count(c, PG_ERRLOG, "cannot write it"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_keeps_bans,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_file, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_unusable_file, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
