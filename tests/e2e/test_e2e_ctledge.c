/*
 * End-to-end tests of the edges of the control socket and of portgatectl
 * (test_e2e_ctl has the verbs): portgatectl against a socket that is not
 * portgate's (a fake server the test plays: junk, JSON that is not an
 * answer, a close without a word), a socket path or a request too long
 * for it; the daemon with a client that asks nothing, with every client
 * slot taken (the next client waits in the backlog and is answered when
 * one leaves), and with a control path it cannot use (too long, or a file
 * already there), where it runs on without one.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

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

#include "harness.h"

#define CONF		"portgate.conf"
#define CLIENTS_MAX	16	/* ctl.c's CTL_CLIENTS_MAX */

/* The address of the daemon's control socket, and a socket for it. */
static int
ctl_socket(struct pg_ctx *c, struct sockaddr_un *sun)
{
	char	path[PG_PATH_MAX];
	int	fd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	(void)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
	    pg_path(c, PG_CTLSOCK, path));
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	return fd;
}

/* A UNIX stream socket connected to the daemon's control socket. */
static int
ctl_dial(struct pg_ctx *c)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = ctl_socket(c, &sun);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return fd;
}

/* Everything until EOF (at most 64 KiB), NUL-terminated, to free(). */
static char *
read_answer(int fd)
{
	char	*buf;
	ssize_t	 n;

	assert_non_null(buf = calloc(1, 65536));
	n = pg_recv_eof(fd, buf, 65535);
	assert_true(n >= 0);
	return buf;
}

/*
 * Play a control socket at the daemon's path: accept one client, read
 * its line, answer <answer> (may be empty), close.  Returns the child.
 */
static pid_t
fake_server(struct pg_ctx *c, const char *answer)
{
	struct sockaddr_un	sun;
	char			line[2048];
	pid_t			pid;
	size_t			off = 0;
	ssize_t			n;
	int			lfd, fd;

	lfd = ctl_socket(c, &sun);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_true((pid = fork()) != -1);
	if (pid != 0) {
		(void)close(lfd);
		return pid;
	}
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	while (off < sizeof(line) && (n = read(fd, line + off,
	    sizeof(line) - off)) > 0) {
		off += (size_t)n;
		if (memchr(line, '\n', off) != NULL)
			break;
	}
	if (pg_send_all(fd, answer, strlen(answer)) == -1)
		_exit(1);
	_exit(close(fd) == 0 ? 0 : 1);
}

/* portgatectl status against fake_server(<answer>): exit 1, <err>. */
static void
against_fake(struct pg_ctx *c, const char *answer, const char *err)
{
	struct pg_result	r;
	char			path[PG_PATH_MAX];
	pid_t			pid;
	int			st;

	pid = fake_server(c, answer);
	(void)pg_ctl(c, &r, "status", (char *)NULL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(pg_exit_code(st), 0);
	if (r.pr_code != 1 || strstr(r.pr_err, err) == NULL)
		fail_msg("answer \"%s\": exit %d, stderr %s", answer,
		    r.pr_code, r.pr_err);
	pg_result_clear(&r);
	assert_int_equal(unlink(pg_path(c, PG_CTLSOCK, path)), 0);
}

static void
client_not_portgate(void **state)
{
	struct pg_ctx	*c = *state;

	against_fake(c, "220 mail.example.org ESMTP\r\n",
	    "not an answer of portgate");
	against_fake(c, "[true]\n", "not an answer of portgate");
	against_fake(c, "{\"okay\":true}\n", "not an answer of portgate");
	against_fake(c, "", "not an answer of portgate");
}

static void
client_too_long(void **state)
{
	struct pg_ctx		*c = *state;
	struct pg_result	 r;
	char			 path[300], word[1100];

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	(void)pg_ctl(c, &r, "-s", path, "status", (char *)NULL);
	assert_int_equal(r.pr_code, 1);
	assert_non_null(strstr(r.pr_err, "path too long"));
	pg_result_clear(&r);
	memset(word, 'w', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	(void)pg_ctl(c, &r, "explain", word, "127.0.0.1", (char *)NULL);
	assert_int_equal(r.pr_code, 2);
	assert_non_null(strstr(r.pr_err, "arguments too long"));
	pg_result_clear(&r);
}

/* A daemon with one built-in echo service, <defaults> in its defaults. */
static int
start_echo(struct pg_ctx *c, const char *defaults)
{
	struct pg_conf	cf;
	int		port = pg_fresh_port();

	pg_conf_begin(&cf, c, PG_ACCESS_LOG, "HOST", "HOST");
	if (defaults != NULL)
		pg_conf_add(&cf, "defaults\n{\n\t%s\n}\n", defaults);
	pg_conf_add(&cf, "service echo\n{\n\ttype\t\t= INTERNAL UNLISTED\n"
	    "\tsocket_type\t= stream\n\twait\t\t= no\n\tbind\t\t= 127.0.0.1\n"
	    "\tport\t\t= %d\n}\n", port);
	pg_conf_start(c, &cf, CONF);
	return port;
}

static void
daemon_no_request(void **state)
{
	struct pg_ctx	*c = *state;
	char		*ans;
	int		 fd;

	(void)start_echo(c, NULL);
	/* Nothing at all, then the end of the client's side. */
	fd = ctl_dial(c);
	assert_int_equal(pg_shut_wr(fd), 0);
	ans = read_answer(fd);
	assert_non_null(strstr(ans, "no request"));
	free(ans);
	(void)close(fd);
	/* A last line without its newline is no request either. */
	fd = ctl_dial(c);
	assert_int_equal(pg_send_all(fd, "status", 6), 0);
	assert_int_equal(pg_shut_wr(fd), 0);
	ans = read_answer(fd);
	assert_non_null(strstr(ans, "no request"));
	free(ans);
	(void)close(fd);
	pg_stop_ok(c);
}

static void
daemon_clients_full(void **state)
{
	struct pg_ctx	*c = *state;
	char		*ans, buf[64];
	int		 fds[CLIENTS_MAX], late, i;

	(void)start_echo(c, NULL);
	for (i = 0; i < CLIENTS_MAX; i++)
		fds[i] = ctl_dial(c);
	late = ctl_dial(c);
	assert_int_equal(pg_send_all(late, "status\n", 7), 0);
	/* The 17th waits in the backlog: no answer while all are held. */
	assert_int_equal(pg_poll(late, POLLIN, 300), 0);
	assert_int_equal(recv(late, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* One leaves: the late one is answered. */
	(void)close(fds[0]);
	ans = read_answer(late);
	assert_non_null(strstr(ans, "\"ok\":true"));
	free(ans);
	(void)close(late);
	for (i = 1; i < CLIENTS_MAX; i++)
		(void)close(fds[i]);
	pg_stop_ok(c);
}

/* The daemon runs on without a control socket, and says why. */
static void
daemon_runs_without(struct pg_ctx *c, const char *defaults, const char *why)
{
	int	port;

	port = start_echo(c, defaults);
	assert_int_equal(pg_file_wait(c, PG_ERRLOG, why, 1), 0);
	pg_echo_once(port, "still served\n");
	pg_stop_ok(c);
}

static void
daemon_path_too_long(void **state)
{
	struct pg_ctx	*c = *state;
	char		 line[300];

	/* 104 bytes: a valid path, with no room for its ".PID" while bound. */
	(void)snprintf(line, sizeof(line), "control_socket = /tmp/%099d",
	    0);
	daemon_runs_without(c, line, "path too long");
}

static void
daemon_path_taken(void **state)
{
	struct pg_ctx	*c = *state;

	/* A regular file where the socket would be: not ours to replace. */
	assert_int_equal(pg_file_write(c, PG_CTLSOCK, "a file\n"), 0);
	daemon_runs_without(c, NULL, "something else is there");
	assert_int_equal(pg_file_count(c, PG_CTLSOCK, "a file"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(client_not_portgate, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(client_too_long, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(daemon_no_request, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(daemon_clients_full, pg_setup,
		    pg_teardown),
		cmocka_unit_test_setup_teardown(daemon_path_too_long,
		    pg_setup, pg_teardown),
		cmocka_unit_test_setup_teardown(daemon_path_taken, pg_setup,
		    pg_teardown),
	};

	pg_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
