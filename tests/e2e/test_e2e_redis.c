/*
 * End-to-end tests of the ban list shared through Redis (redis in
 * defaults): a private redis-server on 127.0.0.1 (no persistence) and two
 * daemons sharing it.  A SENSOR touch on gate 1 is refused by gate 2
 * within a second; the ban is in Redis with a TTL of its deny time and
 * portgate_redis_connected says 1.  With redis-server stopped each gate
 * keeps its own bans, says so in its log and in the metric, and a ban
 * made then stays local; when Redis returns (empty), the gates reconcile
 * and each refuses what the other banned meanwhile.  Over a UNIX socket
 * with a password (requirepass): the right one connects, a wrong one is
 * refused and said so, and that gate serves on its own list.  What a
 * gate reads when it connects: good bans applied, malformed keys and
 * values skipped, a lift made in Redis while it was cut off applied.
 * Skipped (77) when redis-server is not installed (Debian: redis-server).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

#define REDIS_SERVER	"/usr/bin/redis-server"
#define REDIS_CLI	"/usr/bin/redis-cli"
#define CONF		"redis.conf"
#define DENY_MINUTES	10
#define SHARE_MS	1000	/* a ban reaches the other gate within */
#define RECONNECT_MS	45000	/* the back-off is at most 30 s */

static pid_t		redis_pid;
static int		redis_port;
static struct pg_ctx	gate2;
static char		prefix[32];

struct ports {
	int	trap, echo, metrics;
};

/* Start redis-server on 127.0.0.1 redis_port, without persistence. */
static void
redis_start(const struct pg_ctx *c)
{
	char	portstr[16], log[PG_PATH_MAX];
	long long deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int	fd;

	(void)snprintf(portstr, sizeof(portstr), "%d", redis_port);
	(void)pg_path(c, "redis.log", log);
	fflush(NULL);
	if ((redis_pid = fork()) == 0) {
		execl(REDIS_SERVER, REDIS_SERVER, "--port", portstr,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--logfile", log, "--dir", c->pc_dir,
		    (char *)NULL);
		_exit(127);
	}
	assert_true(redis_pid > 0);
	/* Ready when it accepts. */
	while ((fd = pg_tcp_connect(NULL, "127.0.0.1", redis_port)) == -1) {
		if (pg_left(deadline) == 0)
			fail_msg("redis-server did not listen on %d", redis_port);
		pg_sleep_ms(20);
	}
	(void)close(fd);
}

/* redis-server on the UNIX socket <sock> only, with password <pass>. */
static void
redis_start_unix(const struct pg_ctx *c, const char *sock, const char *pass)
{
	char		 log[PG_PATH_MAX];
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;

	(void)pg_path(c, "redis.log", log);
	fflush(NULL);
	if ((redis_pid = fork()) == 0) {
		execl(REDIS_SERVER, REDIS_SERVER, "--port", "0",
		    "--unixsocket", sock, "--unixsocketperm", "700",
		    "--requirepass", pass, "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--logfile", log, "--dir", c->pc_dir,
		    (char *)NULL);
		_exit(127);
	}
	assert_true(redis_pid > 0);
	while (access(sock, F_OK) == -1) {
		if (pg_left(deadline) == 0)
			fail_msg("redis-server made no socket %s", sock);
		pg_sleep_ms(20);
	}
}

static void
redis_stop(void)
{
	if (redis_pid <= 0)
		return;
	(void)kill(redis_pid, SIGKILL);
	(void)waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
}

/* "redis-cli -p PORT ARGV..." : its first line of output, or "". */
static void
redis_cmd(char *out, size_t len, const char *const *argv)
{
	char	*args[16], portstr[16];
	int	 p[2], st;
	size_t	 i;
	ssize_t	 n;
	pid_t	 pid;

	(void)snprintf(portstr, sizeof(portstr), "%d", redis_port);
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* Copies: execv() takes no const strings. */
		args[0] = strdup(REDIS_CLI);
		args[1] = strdup("-h");
		args[2] = strdup("127.0.0.1");
		args[3] = strdup("-p");
		args[4] = portstr;
		for (i = 0; argv[i] != NULL &&
		    i + 6 < sizeof(args) / sizeof(args[0]); i++)
			args[i + 5] = strdup(argv[i]);
		args[i + 5] = NULL;
		(void)dup2(p[1], STDOUT_FILENO);
		(void)close(p[0]);
		execv(REDIS_CLI, args);
		_exit(127);
	}
	(void)close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	(void)close(p[0]);
	(void)waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("redis-cli %s: status %d", argv[0], st);
}

/* "redis-cli -p PORT A1 A2" : its first line of output, or "". */
static void
redis_cli(char *out, size_t len, const char *a1, const char *a2)
{
	const char	*argv[] = { a1, a2, NULL };

	redis_cmd(out, len, argv);
}

/* SET PREFIX:<kind>:<what> <value>, and OK back. */
static void
redis_set(const char *kind, const char *what, const char *value)
{
	char		 key[128], out[64];
	const char	*argv[] = { "SET", key, value, NULL };

	(void)snprintf(key, sizeof(key), "%s:%s:%s", prefix, kind, what);
	redis_cmd(out, sizeof(out), argv);
	assert_string_equal(out, "OK");
}

/* Wait until <key> is in Redis, up to <ms>. */
static void
redis_wait_exists(const char *key, int ms)
{
	long long	deadline = pg_now_ms() + ms;
	char		out[64];

	for (;;) {
		redis_cli(out, sizeof(out), "EXISTS", key);
		if (strcmp(out, "1") == 0)
			return;
		if (pg_left(deadline) == 0)
			fail_msg("no %s in Redis within %d ms", key, ms);
		pg_sleep_ms(20);
	}
}

/* The daemon of <c>, with its trap, echo and metrics services. */
static void
gate_start(struct pg_ctx *c, const struct ports *p)
{
	struct pg_conf	cf;

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	pg_conf_add(&cf, "defaults\n{\n\tban_state_file\t= none\n"
	    "\tredis\t\t= 127.0.0.1:%d\n\tredis_prefix\t= %s\n}\n",
	    redis_port, prefix);
	pg_conf_add(&cf, "\nservice trap\n{\n\ttype\t\t= UNLISTED\n"
	    "\tflags\t\t= SENSOR\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tdeny_time\t= %d\n}\n",
	    p->trap, DENY_MINUTES);
	pg_conf_add(&cf, "\nservice echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n}\n", p->echo);
	pg_conf_add(&cf, "\nservice metrics\n{\n\ttype\t\t= INTERNAL UNLISTED"
	    "\n\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
	    "\tonly_from\t= 127.0.0.1\n}\n", p->metrics);
	pg_conf_start(c, &cf, CONF);
}

/* Wait until <c>'s log holds <needle> <count> times, up to <ms>. */
static void
log_wait(const struct pg_ctx *c, const char *needle, int count, int ms)
{
	long long	deadline = pg_now_ms() + ms;

	while (pg_file_count(c, PG_ERRLOG, needle) < count) {
		if (pg_left(deadline) == 0) {
			char	*text = pg_file_read(c, PG_ERRLOG);

			fail_msg("%s: no '%s' (x%d) within %d ms:\n%s",
			    c->pc_dir, needle, count, ms,
			    text != NULL ? text : "");
		}
		pg_sleep_ms(50);
	}
}

/* The value of portgate_redis_connected in <port>'s metrics. */
static int
redis_metric(int port)
{
	static const char	req[] = "GET /metrics HTTP/1.1\r\n"
				    "Host: x\r\nConnection: close\r\n\r\n";
	static char		resp[65536];
	const char		*m;
	ssize_t			 n;
	int			 fd;

	if ((fd = pg_tcp_connect("127.0.0.1", "127.0.0.1", port)) == -1)
		fail_msg("connect metrics: %s", strerror(errno));
	n = pg_tcp_exchange(fd, req, sizeof(req) - 1, resp, sizeof(resp) - 1);
	(void)close(fd);
	assert_true(n > 0);
	resp[n] = '\0';
	if ((m = strstr(resp, "\nportgate_redis_connected ")) == NULL)
		fail_msg("no portgate_redis_connected:\n%s", resp);
	return atoi(m + strlen("\nportgate_redis_connected "));
}

/* Touch the trap at <port> from <src>. */
static void
touch(const char *src, int port)
{
	char	buf[16];
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect %s -> trap: %s", src, strerror(errno));
	assert_int_equal(pg_recv_eof(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
}

/* Milliseconds until <src> is refused by <port>; fails after <ms>. */
static long long
until_refused(const char *src, int port, int ms)
{
	long long	start = pg_now_ms(), deadline = start + ms;

	while (pg_echoed(src, port)) {
		if (pg_left(deadline) == 0)
			fail_msg("%s still admitted by %d after %d ms", src,
			    port, ms);
		pg_sleep_ms(20);
	}
	return pg_now_ms() - start;
}

static void
test_shared_bans(void **state)
{
	struct pg_ctx	*g1 = *state;
	struct ports	 p1, p2;
	char		 out[256], key[128];
	long long	 ms;
	long		 ttl;

	if (access(REDIS_SERVER, X_OK) == -1 || access(REDIS_CLI,
	    X_OK) == -1) {
		print_message("redis-server or redis-cli is not installed "
		    "(Debian: redis-server)\n");
		TEST_SKIP();
	}
	(void)snprintf(prefix, sizeof(prefix), "pgtest%ld", (long)getpid());
	redis_port = pg_fresh_port();
	p1.trap = pg_fresh_port();
	p1.echo = pg_fresh_port();
	p1.metrics = pg_fresh_port();
	p2.trap = pg_fresh_port();
	p2.echo = pg_fresh_port();
	p2.metrics = pg_fresh_port();
	assert_int_equal(pg_ctx_init(&gate2), 0);
	redis_start(g1);
	gate_start(g1, &p1);
	gate_start(&gate2, &p2);
	log_wait(g1, "connected; ban lists reconciled", 1, PG_TIMEOUT_MS);
	log_wait(&gate2, "connected; ban lists reconciled", 1, PG_TIMEOUT_MS);
	assert_int_equal(redis_metric(p1.metrics), 1);

	/* A scanner touches gate 1; gate 2 refuses it within a second. */
	assert_int_equal(pg_echoed("127.0.0.5", p2.echo), 1);
	touch("127.0.0.5", p1.trap);
	ms = until_refused("127.0.0.5", p2.echo, SHARE_MS);
	print_message("gate 2 refused the scanner %lld ms after its touch on "
	    "gate 1\n", ms);
	assert_int_equal(pg_echoed("127.0.0.6", p2.echo), 1);
	/* In Redis, with a TTL of the deny time. */
	(void)snprintf(key, sizeof(key), "%s:ban:127.0.0.5", prefix);
	redis_cli(out, sizeof(out), "TTL", key);
	ttl = atol(out);
	assert_true(ttl > DENY_MINUTES * 60 - 30 && ttl <= DENY_MINUTES * 60);

	/* Redis stops: each gate keeps its bans and says so. */
	redis_stop();
	log_wait(g1, "keeping the local ban list", 1, PG_TIMEOUT_MS);
	log_wait(&gate2, "keeping the local ban list", 1, PG_TIMEOUT_MS);
	assert_int_equal(redis_metric(p2.metrics), 0);
	assert_int_equal(pg_echoed("127.0.0.5", p1.echo), 0);
	assert_int_equal(pg_echoed("127.0.0.5", p2.echo), 0);
	touch("127.0.0.6", p2.trap);
	(void)until_refused("127.0.0.6", p2.echo, SHARE_MS);
	/* Cut off: gate 1 does not know of it. */
	assert_int_equal(pg_echoed("127.0.0.6", p1.echo), 1);

	/* Redis returns, empty: the gates reconcile. */
	redis_start(g1);
	log_wait(g1, "connected; ban lists reconciled", 2, RECONNECT_MS);
	log_wait(&gate2, "connected; ban lists reconciled", 2, RECONNECT_MS);
	(void)until_refused("127.0.0.6", p1.echo, SHARE_MS);
	assert_int_equal(pg_echoed("127.0.0.5", p2.echo), 0);
	assert_int_equal(pg_echoed("127.0.0.7", p1.echo), 1);
	redis_cli(out, sizeof(out), "EXISTS", key);
	assert_string_equal(out, "1");
	assert_int_equal(redis_metric(p1.metrics), 1);
	/* Each change of state logged once, not once per try. */
	assert_int_equal(pg_file_count(g1, PG_ERRLOG,
	    "keeping the local ban list"), 1);
	pg_stop_ok(&gate2);
	pg_stop_ok(g1);
}

/*
 * A UNIX socket and a password: the gate with the right one shares, the
 * one with a wrong one says AUTH was refused, keeps trying, and serves
 * with its own list.
 */
static void
test_unix_password(void **state)
{
	struct pg_ctx	*g1 = *state;
	struct pg_conf	 cf;
	char		 sock[PG_PATH_MAX], pw[PG_PATH_MAX], bad[PG_PATH_MAX];
	int		 trap1 = pg_fresh_port(), echo1 = pg_fresh_port();
	int		 echo2 = pg_fresh_port(), g;

	if (access(REDIS_SERVER, X_OK) == -1) {
		print_message("redis-server is not installed\n");
		TEST_SKIP();
	}
	assert_int_equal(pg_ctx_init(&gate2), 0);
	(void)pg_path(g1, "redis.sock", sock);
	redis_start_unix(g1, sock, "s3cret-pw");
	assert_int_equal(pg_file_write(g1, "pw", "s3cret-pw\n"), 0);
	assert_int_equal(pg_file_write(&gate2, "pw", "wrong\n"), 0);
	(void)pg_path(g1, "pw", pw);
	(void)pg_path(&gate2, "pw", bad);
	for (g = 1; g <= 2; g++) {
		struct pg_ctx	*c = g == 1 ? g1 : &gate2;

		pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
		pg_conf_add(&cf, "defaults\n{\n\tban_state_file\t= none\n"
		    "\tredis\t\t= %s\n\tredis_password_file = %s\n}\n",
		    sock, g == 1 ? pw : bad);
		if (g == 1)
			pg_conf_add(&cf, "\nservice trap\n{\n"
			    "\ttype\t\t= UNLISTED\n\tflags\t\t= SENSOR\n"
			    "\tsocket_type\t= stream\n\twait\t\t= no\n"
			    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n"
			    "\tdeny_time\t= %d\n}\n", trap1, DENY_MINUTES);
		pg_conf_add(&cf, "\nservice echo\n{\n"
		    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
		    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
		    "\tport\t\t= %d\n}\n", g == 1 ? echo1 : echo2);
		pg_conf_start(c, &cf, CONF);
	}
	log_wait(g1, "connected; ban lists reconciled", 1, PG_TIMEOUT_MS);
	log_wait(&gate2, "AUTH refused", 1, PG_TIMEOUT_MS);
	log_wait(&gate2, "keeping the local ban list", 1, PG_TIMEOUT_MS);
	/* The password is nowhere in the log. */
	assert_int_equal(pg_file_count(g1, PG_ERRLOG, "s3cret"), 0);
	touch("127.0.0.5", trap1);
	(void)until_refused("127.0.0.5", echo1, SHARE_MS);
	/* Not shared with the gate Redis refused; it serves all the same. */
	assert_int_equal(pg_echoed("127.0.0.5", echo2), 1);
	assert_int_equal(pg_file_count(&gate2, PG_ERRLOG,
	    "connected; ban lists reconciled"), 0);
	pg_stop_ok(&gate2);
	pg_stop_ok(g1);
}

/*
 * What a gate reads from Redis when it connects: good bans (forever, and
 * with a TTL) are applied; an expired value, a malformed one, an overlong
 * one, a key of another type, a key whose address is no address, a key
 * of another kind and a lift's trace are not bans.  Then a ban the gate
 * made is lifted in Redis and another made there, unpublished, while
 * the gate's connection is cut: reconnected, it lifts the one and applies
 * the other.
 */
static void
test_reconcile_keys(void **state)
{
	struct pg_ctx	*g1 = *state;
	struct ports	 p;
	char		 out[256], later[32], key[128];
	const char	*rpush[] = { "RPUSH", key, "0", NULL };
	const char	*kill_cmd[] = { "CLIENT", "KILL", "TYPE", "normal",
			    NULL };
	const char	*admitted[] = { "127.0.0.10", "127.0.0.11",
			    "127.0.0.12", "127.0.0.13", "127.0.0.14",
			    "127.0.0.15" };
	size_t		 i;

	if (access(REDIS_SERVER, X_OK) == -1 || access(REDIS_CLI,
	    X_OK) == -1) {
		print_message("redis-server or redis-cli is not installed "
		    "(Debian: redis-server)\n");
		TEST_SKIP();
	}
	(void)snprintf(prefix, sizeof(prefix), "pgrec%ld", (long)getpid());
	redis_port = pg_fresh_port();
	p.trap = pg_fresh_port();
	p.echo = pg_fresh_port();
	p.metrics = pg_fresh_port();
	redis_start(g1);
	(void)snprintf(later, sizeof(later), "%lld",
	    (long long)time(NULL) + 3600);
	redis_set("ban", "127.0.0.8", "0");
	redis_set("ban", "127.0.0.9", later);
	redis_set("ban", "127.0.0.10", "5");		/* long expired */
	redis_set("ban", "127.0.0.11", "soon");
	redis_set("ban", "127.0.0.12", "000000000000000000000000");
	redis_set("ban", "not-an-address", "0");
	redis_set("unban", "127.0.0.14", "1");
	redis_set("xban", "127.0.0.15", "0");
	(void)snprintf(key, sizeof(key), "%s:ban:127.0.0.13", prefix);
	redis_cmd(out, sizeof(out), rpush);
	assert_string_equal(out, "1");
	gate_start(g1, &p);
	log_wait(g1, "ban lists reconciled: 2 bans from Redis applied, "
	    "0 pushed", 1, PG_TIMEOUT_MS);
	assert_int_equal(pg_echoed("127.0.0.8", p.echo), 0);
	assert_int_equal(pg_echoed("127.0.0.9", p.echo), 0);
	for (i = 0; i < sizeof(admitted) / sizeof(admitted[0]); i++)
		if (!pg_echoed(admitted[i], p.echo))
			fail_msg("%s refused", admitted[i]);

	/* A ban of this gate's, lifted elsewhere; a ban made elsewhere. */
	touch("127.0.0.16", p.trap);
	(void)until_refused("127.0.0.16", p.echo, SHARE_MS);
	(void)snprintf(key, sizeof(key), "%s:ban:127.0.0.16", prefix);
	redis_wait_exists(key, SHARE_MS);
	redis_cli(out, sizeof(out), "DEL", key);
	assert_string_equal(out, "1");
	redis_set("unban", "127.0.0.16", "1");
	redis_set("ban", "127.0.0.17", "0");
	assert_int_equal(pg_echoed("127.0.0.17", p.echo), 1);
	/* Cut off: the gate's command connection goes. */
	redis_cmd(out, sizeof(out), kill_cmd);
	assert_true(atoi(out) >= 1);
	log_wait(g1, "ban lists reconciled: 1 ban from Redis applied, "
	    "0 pushed", 1, RECONNECT_MS);
	assert_int_equal(pg_echoed("127.0.0.16", p.echo), 1);
	assert_int_equal(pg_echoed("127.0.0.17", p.echo), 0);
	assert_int_equal(pg_echoed("127.0.0.8", p.echo), 0);
	/* The lift stays lifted: the gate did not push the ban back. */
	redis_cli(out, sizeof(out), "EXISTS", key);
	assert_string_equal(out, "0");
	pg_stop_ok(g1);
}

/* The second gate and redis-server go, whatever happened. */
static int
teardown(void **state)
{
	pg_ctx_clear(&gate2);
	redis_stop();
	return pg_teardown(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_bans, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unix_password, pg_setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_keys, pg_setup,
		    teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
