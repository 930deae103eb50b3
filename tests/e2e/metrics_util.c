/* The helpers of the metrics end-to-end tests; see metrics_util.h. */
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
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "metrics_util.h"

#define RESP_MAX	262144

char *
mu_ask(int port, const char *req, const char *status, const char **body)
{
	char		*resp, *cl, *b;
	ssize_t		 n;
	int		 fd;

	assert_non_null(resp = malloc(RESP_MAX + 1));
	if ((fd = pg_tcp_connect("127.0.0.1", "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	n = pg_tcp_exchange(fd, req, strlen(req), resp, RESP_MAX);
	(void)close(fd);
	assert_true(n > 0);
	resp[n] = '\0';
	if (strncmp(resp, status, strlen(status)) != 0)
		fail_msg("expected %s, got: %.200s", status, resp);
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
	assert_non_null(b = strstr(resp, "\r\n\r\n"));
	b += 4;
	assert_non_null(cl = strstr(resp, "\r\nContent-Length: "));
	assert_true(cl < b);
	assert_int_equal(strtoul(cl + 18, NULL, 10), strlen(b));
	if (body != NULL)
		*body = b;
	return resp;
}

void
mu_has_line(const char *body, const char *line)
{
	const char	*p = body;
	size_t		 len = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[len] == '\n')
			return;
		p += len;
	}
	fail_msg("no line \"%s\" in:\n%s", line, body);
}

void
mu_no_line(const char *body, const char *start)
{
	const char	*p = body;

	while ((p = strstr(p, start)) != NULL) {
		if (p == body || p[-1] == '\n')
			fail_msg("a line \"%s...\" in:\n%s", start, body);
		p++;
	}
}

int
mu_promtool(struct pg_ctx *c, const char *text)
{
	char		 in[PG_PATH_MAX], out[PG_PATH_MAX];
	long long	 deadline;
	pid_t		 pid, w;
	int		 st, fd;

	assert_int_equal(pg_file_write(c, "scrape.txt", "%s", text), 0);
	(void)pg_path(c, "scrape.txt", in);
	(void)pg_path(c, "promtool.out", out);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((fd = open(in, O_RDONLY)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		execl(MU_PROMTOOL, "promtool", "check", "metrics",
		    (char *)NULL);
		_exit(127);
	}
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && pg_left(deadline))
		pg_sleep_ms(20);
	if (w == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		fail_msg("promtool did not finish");
	}
	assert_int_equal(w, pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char	*o = pg_file_read(c, "promtool.out");

		print_message("promtool says:\n%s\n", o != NULL ? o : "");
		free(o);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	}
	return 0;
}
