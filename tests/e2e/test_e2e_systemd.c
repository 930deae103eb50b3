/*
 * End-to-end tests of portgate under systemd: readiness notification
 * (READY, RELOADING, STOPPING and STATUS on NOTIFY_SOCKET, as sd_notify(3)
 * sends them) and socket activation (the listening sockets that
 * systemd-socket-activate(1) passes are taken by the services that bind
 * them; one that no service wants is reported and closed), and that
 * spawned servers do not inherit NOTIFY_SOCKET.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
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

#define CONF		"portgate.conf"
#define ACTIVATE	"/usr/bin/systemd-socket-activate"
#define ACTIVATE_LOG	"activate.err"

/* An echo built-in on 127.0.0.1 <port> with id <id>. */
static void
conf_echo(struct pg_conf *cf, const struct pg_ctx *c, const char *id,
    int port)
{
	pg_conf_begin(cf, c, PG_ACCESS_LOG, "HOST", NULL);
	pg_conf_add(cf, "\nservice echo\n{\n\tid\t\t= %s\n"
	    "\ttype\t\t= INTERNAL UNLISTED\n\tsocket_type\t= stream\n"
	    "\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n}\n",
	    id, port);
}

/* A whole echo session to 127.0.0.1 <p>. */
static void
echo_session(int p)
{
	char	buf[64];
	int	fd;

	fd = pg_tcp_connect(NULL, "127.0.0.1", p);
	assert_true(fd >= 0);
	assert_int_equal(pg_tcp_exchange(fd, "hello", 5, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	(void)close(fd);
}

/*
 * An abstract AF_UNIX datagram socket for the notifications, its name
 * ("@...", as NOTIFY_SOCKET gives it) in <name>.
 */
static int
notify_open(char *name, size_t len)
{
	struct sockaddr_un	sun;
	socklen_t		sunlen;
	int			fd;

	(void)snprintf(name, len, "@portgate-e2e-notify-%ld", (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Abstract: a NUL, then the name without its "@". */
	memcpy(sun.sun_path + 1, name + 1, strlen(name + 1));
	sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name + 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sunlen), 0);
	return fd;
}

/* The next notification must be <want>, within the harness deadline. */
static void
notify_expect(int fd, const char *want)
{
	char	buf[512];
	ssize_t	n;

	assert_int_equal(pg_poll(fd, POLLIN, PG_TIMEOUT_MS), 1);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/*
 * READY=1 with the counts once the sockets are bound; RELOADING=1 then
 * READY=1 around a reload, good or broken (STATUS says it failed);
 * STOPPING=1 on SIGTERM.
 */
static void
test_notify(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 name[64];
	int		 fd, p = pg_fresh_port();

	fd = notify_open(name, sizeof(name));
	conf_echo(&cf, c, "echo", p);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	pg_conf_start(c, &cf, CONF);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	notify_expect(fd, "READY=1\nSTATUS=1 service, 0 sessions");
	echo_session(p);

	assert_int_equal(pg_signal(c, SIGHUP), 0);
	notify_expect(fd, "RELOADING=1\nSTATUS=reloading");
	notify_expect(fd, "READY=1\nSTATUS=1 service, 0 sessions");

	assert_int_equal(pg_file_write(c, CONF, "service {\n"), 0);
	assert_int_equal(pg_signal(c, SIGHUP), 0);
	notify_expect(fd, "RELOADING=1\nSTATUS=reloading");
	notify_expect(fd, "READY=1\nSTATUS=reload failed, running "
	    "configuration kept: 1 service, 0 sessions");
	echo_session(p);

	assert_int_equal(pg_signal(c, SIGTERM), 0);
	notify_expect(fd, "STOPPING=1\nSTATUS=stopping");
	pg_stop_ok(c);
	(void)close(fd);
}

/*
 * A spawned server does not inherit NOTIFY_SOCKET (it would speak for
 * portgate), while the rest of portgate's environment reaches it.
 */
static void
test_notify_not_inherited(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	struct passwd	*pw;
	char		 name[64], out[16384];
	ssize_t		 n;
	int		 fd, cfd, p = pg_fresh_port();

	assert_non_null(pw = getpwuid(geteuid()));
	fd = notify_open(name, sizeof(name));
	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", NULL);
	pg_conf_add(&cf, "\nservice env\n{\n\ttype\t\t= UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n"
	    "\tbind\t\t= 127.0.0.1\n\tport\t\t= %d\n\tuser\t\t= %s\n"
	    "\tserver\t\t= /usr/bin/env\n}\n", p, pw->pw_name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	pg_conf_start(c, &cf, CONF);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	notify_expect(fd, "READY=1\nSTATUS=1 service, 0 sessions");
	cfd = pg_tcp_connect(NULL, "127.0.0.1", p);
	assert_true(cfd >= 0);
	n = pg_recv_eof(cfd, out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = '\0';
	(void)close(cfd);
	assert_non_null(strstr(out, "PORTGATE_BIN="));
	assert_null(strstr(out, "NOTIFY_SOCKET"));
	pg_stop_ok(c);
	(void)close(fd);
}

/*
 * Run portgate on <conf> under systemd-socket-activate listening on
 * 127.0.0.1 <p> and <q>, its messages (and portgate's) in ACTIVATE_LOG.
 * The program execs portgate in place at the first connection.
 */
static pid_t
activate(const struct pg_ctx *c, int p, int q)
{
	char	 conf[PG_PATH_MAX], pidfile[PG_PATH_MAX], log[PG_PATH_MAX];
	char	 l1[32], l2[32];
	pid_t	 pid;
	int	 fd;

	(void)snprintf(l1, sizeof(l1), "127.0.0.1:%d", p);
	(void)snprintf(l2, sizeof(l2), "127.0.0.1:%d", q);
	(void)pg_path(c, CONF, conf);
	(void)pg_path(c, PG_PIDFILE, pidfile);
	(void)pg_path(c, ACTIVATE_LOG, log);
	if ((pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		execl(ACTIVATE, ACTIVATE, "-l", l1, "-l", l2, pg_bin(),
		    "-dontfork", "-f", conf, "-pidfile", pidfile, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

/*
 * The service on the first passed socket takes it and serves a client,
 * the second socket is reported and closed, and after a reload a new
 * service for the address takes the passed socket again.
 */
static void
test_socket_activation(void **state)
{
	struct pg_ctx	*c = *state;
	struct pg_conf	 cf;
	char		 want[128];
	pid_t		 pid;
	int		 p = pg_fresh_port(), q = pg_fresh_port(), fd, st;

	if (access(ACTIVATE, X_OK) == -1) {
		print_message("no %s (Debian package systemd)\n", ACTIVATE);
		TEST_SKIP();
	}
	conf_echo(&cf, c, "echo", p);
	pg_conf_write(&cf, c, CONF);
	pid = activate(c, p, q);
	(void)snprintf(want, sizeof(want), "Listening on 127.0.0.1:%d as 4",
	    q);
	if (pg_file_wait(c, ACTIVATE_LOG, want, 1) == -1) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		fail_msg("systemd-socket-activate did not listen");
	}
	/* Queued by the kernel until portgate accepts it. */
	echo_session(p);
	assert_int_equal(pg_file_wait(c, ACTIVATE_LOG, "started with 1 "
	    "service", 1), 0);
	/* Exec'd in place: the daemon is our child. */
	assert_int_equal(pg_adopt(c, PG_PIDFILE), 0);
	assert_int_equal(c->pc_pid, pid);
	(void)snprintf(want, sizeof(want), "service echo takes the socket "
	    "passed by systemd (tcp 127.0.0.1:%d)", p);
	assert_int_equal(pg_file_count(c, ACTIVATE_LOG, want), 1);
	(void)snprintf(want, sizeof(want), "socket 127.0.0.1:%d passed by "
	    "systemd (descriptor 4): no service binds it; closed", q);
	assert_int_equal(pg_file_count(c, ACTIVATE_LOG, want), 1);
	fd = pg_tcp_connect(NULL, "127.0.0.1", q);
	assert_true(fd == -1 && errno == ECONNREFUSED);

	/* A new service (another id) for the address takes it again. */
	conf_echo(&cf, c, "echo-again", p);
	pg_conf_write(&cf, c, CONF);
	assert_int_equal(pg_reload(c, ACTIVATE_LOG, "reload done"), 0);
	(void)snprintf(want, sizeof(want), "service echo-again takes the "
	    "socket passed by systemd (tcp 127.0.0.1:%d)", p);
	assert_int_equal(pg_file_count(c, ACTIVATE_LOG, want), 1);
	assert_int_equal(pg_file_count(c, ACTIVATE_LOG, "cannot bind"), 0);
	echo_session(p);
	st = pg_stop(c);
	assert_int_equal(pg_exit_code(st), 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup_teardown(test_notify, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(test_notify_not_inherited,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation,
		    pg_setup, pg_teardown),
	};

	pg_init();
	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
