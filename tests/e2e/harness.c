/*
 * End-to-end test harness; see harness.h.  Linux only, like portgate: the
 * test process is made a child subreaper so that a daemon which detached
 * from its parent is still reaped here with its exit status.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <regex.h>
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "harness.h"

#define PG_MAXARGS	32	/* arguments of one command line */
#define PG_MAXLIVE	16	/* daemons running at once */
#define PG_MAXPORTS	512	/* ports handed out by one process */
#define PG_FILEMAX	(64 * 1024 * 1024)	/* largest file read */
#define PG_NAP_MAX_MS	20	/* longest sleep between two polls */

static const char	*pg_binpath;
static pid_t		 pg_live[PG_MAXLIVE];
static int		 pg_ports[PG_MAXPORTS];
static int		 pg_nports;

long long
pg_now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep before poll number <i>: 1 ms, doubling up to PG_NAP_MAX_MS. */
static void
pg_nap(int i)
{
	struct timespec	ts;
	long		ms = i < 5 ? 1L << i : PG_NAP_MAX_MS;

	if (ms > PG_NAP_MAX_MS)
		ms = PG_NAP_MAX_MS;
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

int
pg_left(long long deadline)
{
	long long	left = deadline - pg_now_ms();

	return left > 0 ? (int)left : 0;
}

/* Remember a running daemon so that pg_atexit() can kill it. */
static void
pg_live_add(pid_t pid)
{
	int	i;

	for (i = 0; i < PG_MAXLIVE; i++)
		if (pg_live[i] == 0) {
			pg_live[i] = pid;
			return;
		}
}

static void
pg_live_del(pid_t pid)
{
	int	i;

	for (i = 0; i < PG_MAXLIVE; i++)
		if (pg_live[i] == pid)
			pg_live[i] = 0;
}

/* Leave no daemon behind, whatever ended the test program. */
static void
pg_atexit(void)
{
	int	i;

	for (i = 0; i < PG_MAXLIVE; i++)
		if (pg_live[i] > 0) {
			(void)kill(pg_live[i], SIGKILL);
			(void)waitpid(pg_live[i], NULL, 0);
			pg_live[i] = 0;
		}
}

void
pg_init(void)
{
	const char	*bin = getenv("PORTGATE_BIN");

	if (bin == NULL || *bin == '\0') {
		fprintf(stderr, "e2e: PORTGATE_BIN is not set; run the tests "
		    "with \"make check\" or set it to the path of "
		    "src/portgate\n");
		exit(1);
	}
	if (access(bin, X_OK) == -1) {
		fprintf(stderr, "e2e: PORTGATE_BIN=%s: %s\n", bin,
		    strerror(errno));
		exit(1);
	}
	pg_binpath = bin;
	/* The daemons of tests share no ban state file unless they ask. */
	(void)setenv("PORTGATE_BAN_STATE_FILE", "none", 0);
	/*
	 * Nor the default control socket: a daemon started by pg_launch()
	 * gets its own (-control), one started otherwise none.
	 */
	(void)setenv("PORTGATE_CONTROL_SOCKET", "none", 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
		fprintf(stderr, "e2e: PR_SET_CHILD_SUBREAPER: %s\n",
		    strerror(errno));
		exit(1);
	}
	/* Writes to closed sockets must fail, not kill the test. */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)atexit(pg_atexit);
	srandom((unsigned)getpid() ^ (unsigned)pg_now_ms());
}

const char *
pg_bin(void)
{
	return pg_binpath;
}

const char *
pg_data(void)
{
	return getenv("PORTGATE_DATA");
}

int
pg_ctx_init(struct pg_ctx *c)
{
	const char	*tmp = getenv("TMPDIR");

	memset(c, 0, sizeof(*c));
	c->pc_status = -1;
	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(c->pc_dir, sizeof(c->pc_dir),
	    "%s/portgate-e2e.XXXXXX", tmp) >= sizeof(c->pc_dir))
		return -1;
	if (mkdtemp(c->pc_dir) == NULL) {
		fprintf(stderr, "e2e: mkdtemp %s: %s\n", c->pc_dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* nftw() callback removing one entry. */
static int
pg_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void
pg_ctx_clear(struct pg_ctx *c)
{
	if (c->pc_pid > 0)
		(void)pg_stop(c);
	if (c->pc_dir[0] == '\0')
		return;
	if (getenv("PORTGATE_E2E_KEEP") != NULL)
		fprintf(stderr, "e2e: kept %s\n", c->pc_dir);
	else
		(void)nftw(c->pc_dir, pg_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	c->pc_dir[0] = '\0';
}

int
pg_setup(void **state)
{
	struct pg_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if (pg_ctx_init(c) == -1) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

int
pg_teardown(void **state)
{
	struct pg_ctx	*c = *state;

	if (c != NULL) {
		pg_ctx_clear(c);
		free(c);
	}
	*state = NULL;
	return 0;
}

const char *
pg_path(const struct pg_ctx *c, const char *name, char *buf)
{
	int	n;

	if (name[0] == '/')
		n = snprintf(buf, PG_PATH_MAX, "%s", name);
	else
		n = snprintf(buf, PG_PATH_MAX, "%s/%s", c->pc_dir, name);
	/* An empty path fails every use loudly rather than a wrong one. */
	if (n < 0 || n >= PG_PATH_MAX)
		buf[0] = '\0';
	return buf;
}

int
pg_file_write(const struct pg_ctx *c, const char *name, const char *fmt, ...)
{
	char	 path[PG_PATH_MAX], tmp[PG_PATH_MAX + 8];
	FILE	*fp;
	va_list	 ap;
	int	 rv;

	/* Write aside and rename, so the daemon never reads half a file. */
	(void)pg_path(c, name, path);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	va_start(ap, fmt);
	rv = vfprintf(fp, fmt, ap);
	va_end(ap);
	if (fclose(fp) == EOF || rv < 0 || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

char *
pg_file_read(const struct pg_ctx *c, const char *name)
{
	char	 path[PG_PATH_MAX];
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(pg_path(c, name, path), O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= PG_FILEMAX)
				break;
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL)
				break;
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return NULL;
	buf[len] = '\0';
	return buf;
}

int
pg_file_count(const struct pg_ctx *c, const char *name, const char *needle)
{
	char		*buf, *p;
	int		 n = 0;
	size_t		 nlen = strlen(needle);

	if (nlen == 0 || (buf = pg_file_read(c, name)) == NULL)
		return 0;
	for (p = buf; (p = strstr(p, needle)) != NULL; p += nlen)
		n++;
	free(buf);
	return n;
}

int
pg_file_count_re(const struct pg_ctx *c, const char *name, const char *re)
{
	regex_t	 rx;
	char	*buf, *line, *next;
	int	 n = 0;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "e2e: bad regular expression '%s'\n", re);
		return -1;
	}
	if ((buf = pg_file_read(c, name)) == NULL) {
		regfree(&rx);
		return 0;
	}
	for (line = buf; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (regexec(&rx, line, 0, NULL, 0) == 0)
			n++;
	}
	free(buf);
	regfree(&rx);
	return n;
}

/* Print the file to standard error, to explain a failed wait. */
static void
pg_file_show(const struct pg_ctx *c, const char *name, const char *what)
{
	char	*buf = pg_file_read(c, name);

	fprintf(stderr, "e2e: timed out waiting for %s in %s/%s, which "
	    "holds:\n%s\n-- end of %s\n", what, c->pc_dir, name,
	    buf != NULL ? buf : "(nothing: cannot be read)", name);
	free(buf);
}

int
pg_file_wait(const struct pg_ctx *c, const char *name, const char *needle,
    int count)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int		i;

	for (i = 0; i < PG_TIMEOUT_MS; i++) {
		if (pg_file_count(c, name, needle) >= count)
			return 0;
		if (pg_left(deadline) == 0)
			break;
		pg_nap(i);
	}
	fprintf(stderr, "e2e: wanted %d x '%s'\n", count, needle);
	pg_file_show(c, name, needle);
	return -1;
}

int
pg_file_wait_re(const struct pg_ctx *c, const char *name, const char *re,
    int count)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	int		i, n;

	for (i = 0; i < PG_TIMEOUT_MS; i++) {
		if ((n = pg_file_count_re(c, name, re)) >= count)
			return 0;
		if (n == -1 || pg_left(deadline) == 0)
			break;
		pg_nap(i);
	}
	fprintf(stderr, "e2e: wanted %d line(s) matching '%s'\n", count, re);
	pg_file_show(c, name, re);
	return -1;
}

/* Fill <ss> with <addr> (numeric IPv4 or IPv6) and <port>; length or 0. */
static socklen_t
pg_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	return 0;
}

/* 1 if a <type> socket can bind <addr> port <port> right now. */
static int
pg_bind_ok(const char *addr, int type, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, ok, zero = 0;

	if ((len = pg_sockaddr(addr, port, &ss)) == 0)
		return 0;
	if ((fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	/* The daemon binds the IPv6 wildcard in dual stack. */
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	(void)close(fd);
	return ok;
}

int
pg_have_ipv6(void)
{
	return pg_bind_ok("::1", SOCK_STREAM, 0);
}

/* The lowest ephemeral port: ports below it are never a client's. */
static int
pg_ephemeral_low(void)
{
	FILE	*fp;
	int	 lo = 0, hi = 0;

	if ((fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) ==
	    NULL)
		return 0;
	if (fscanf(fp, "%d %d", &lo, &hi) != 2)
		lo = 0;
	(void)fclose(fp);
	return lo;
}

/* A port from the kernel (bind to port 0), or -1. */
static int
pg_port_kernel(void)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, port = -1;

	len = pg_sockaddr("127.0.0.1", 0, &ss);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	(void)close(fd);
	return port;
}

/*
 * Candidates come from below the ephemeral range when it leaves room, so
 * that no client socket of this or another test can hold one; otherwise
 * from the kernel.  Each is checked free for TCP and UDP on 127.0.0.1 and
 * on the dual-stack IPv6 wildcard.
 */
int
pg_port(void)
{
	int	i, j, port, low = pg_ephemeral_low(), v6 = pg_have_ipv6();

	for (i = 0; i < 200; i++) {
		if (low > 21024)
			port = 20000 + (int)(random() % (low - 21024));
		else
			port = pg_port_kernel();
		if (port <= 0)
			continue;
		for (j = 0; j < pg_nports; j++)
			if (pg_ports[j] == port)
				break;
		if (j < pg_nports)
			continue;
		if (!pg_bind_ok("127.0.0.1", SOCK_STREAM, port) ||
		    !pg_bind_ok("127.0.0.1", SOCK_DGRAM, port))
			continue;
		if (v6 && (!pg_bind_ok("::", SOCK_STREAM, port) ||
		    !pg_bind_ok("::", SOCK_DGRAM, port)))
			continue;
		if (pg_nports < PG_MAXPORTS)
			pg_ports[pg_nports++] = port;
		return port;
	}
	return -1;
}

/*
 * Fork and exec the binary with <argv>; the child's standard output and
 * error go to <out> and <err> (appended), its input comes from /dev/null,
 * and its RLIMIT_NOFILE is <nofile> (soft and hard, as "ulimit -n") unless
 * that is 0.
 */
static pid_t
pg_spawn(const char *const argv[], const char *out, const char *err,
    long nofile)
{
	struct rlimit	 rl;
	char		*args[PG_MAXARGS];
	sigset_t	 none;
	pid_t		 pid;
	int		 fd, i;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) != 0)
		return pid;
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		_exit(126);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1)
		_exit(126);
	if ((fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	rl.rlim_cur = rl.rlim_max = (rlim_t)nofile;
	if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(126);
	/* execv() wants writable strings: give it copies. */
	for (i = 0; i < PG_MAXARGS - 1 && argv[i] != NULL; i++)
		if ((args[i] = strdup(argv[i])) == NULL)
			_exit(126);
	args[i] = NULL;
	execv(args[0], args);
	_exit(127);
}

/* Append the NULL-terminated arguments of <ap> to <argv> from <n>. */
static int
pg_args(const char **argv, int n, va_list ap)
{
	const char	*a;

	while ((a = va_arg(ap, const char *)) != NULL) {
		if (n >= PG_MAXARGS - 1)
			return -1;
		argv[n++] = a;
	}
	argv[n] = NULL;
	return n;
}

pid_t
pg_pidfile_read(const struct pg_ctx *c, const char *name)
{
	char	*buf, *end;
	long	 pid;

	if ((buf = pg_file_read(c, name)) == NULL)
		return -1;
	/* Only a whole line counts: the file may be half written. */
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\n' || pid <= 0)
		pid = -1;
	free(buf);
	return (pid_t)pid;
}

int
pg_exit_code(int status)
{
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Start the daemon without waiting; see pg_launch(). */
static int
pg_vlaunch(struct pg_ctx *c, const char *conf, enum pg_mode mode,
    va_list ap)
{
	const char	*argv[PG_MAXARGS];
	char		 confpath[PG_PATH_MAX], pidpath[PG_PATH_MAX];
	char		 outpath[PG_PATH_MAX], errpath[PG_PATH_MAX];
	char		 ctlpath[PG_PATH_MAX], *text;
	pid_t		 pid;
	int		 n = 6;

	if (c->pc_pid > 0) {
		fprintf(stderr, "e2e: a daemon already runs in %s\n",
		    c->pc_dir);
		return -1;
	}
	(void)pg_path(c, PG_PIDFILE, pidpath);
	(void)unlink(pidpath);
	argv[0] = pg_binpath;
	argv[1] = mode == PG_DEBUG ? "-d" : "-dontfork";
	argv[2] = "-f";
	argv[3] = pg_path(c, conf, confpath);
	argv[4] = "-pidfile";
	argv[5] = pidpath;
	/*
	 * Each daemon its own control socket (portgatectl -s), unless the
	 * test sets one in the configuration.
	 */
	text = pg_file_read(c, conf);
	if (text == NULL || strstr(text, "control_socket") == NULL) {
		argv[n++] = "-control";
		argv[n++] = pg_path(c, PG_CTLSOCK, ctlpath);
	}
	free(text);
	if (pg_args(argv, n, ap) == -1)
		return -1;
	c->pc_status = -1;
	pid = pg_spawn(argv, pg_path(c, "portgate.out", outpath),
	    pg_path(c, PG_ERRLOG, errpath), c->pc_nofile);
	if (pid == -1)
		return -1;
	c->pc_pid = pid;
	pg_live_add(pid);
	return 0;
}

int
pg_launch(struct pg_ctx *c, const char *conf, enum pg_mode mode, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, mode);
	rv = pg_vlaunch(c, conf, mode, ap);
	va_end(ap);
	return rv;
}

int
pg_wait_ready(struct pg_ctx *c)
{
	long long	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	pid_t		pid = c->pc_pid;
	int		i, st;

	if (pid <= 0)
		return -1;
	for (i = 0; i < PG_TIMEOUT_MS; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pg_live_del(pid);
			c->pc_pid = 0;
			c->pc_status = st;
			return -1;
		}
		if (pg_pidfile_read(c, PG_PIDFILE) == pid)
			return 0;
		if (pg_left(deadline) == 0)
			break;
		pg_nap(i);
	}
	pg_file_show(c, PG_ERRLOG, "the pid file");
	(void)kill(pid, SIGKILL);
	(void)pg_wait_exit(c, PG_TIMEOUT_MS);
	return -1;
}

int
pg_start(struct pg_ctx *c, const char *conf, enum pg_mode mode, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, mode);
	if ((rv = pg_vlaunch(c, conf, mode, ap)) == 0)
		rv = pg_wait_ready(c);
	va_end(ap);
	return rv;
}

int
pg_adopt(struct pg_ctx *c, const char *name)
{
	pid_t	pid;

	if (c->pc_pid > 0 || (pid = pg_pidfile_read(c, name)) == -1)
		return -1;
	c->pc_pid = pid;
	c->pc_status = -1;
	pg_live_add(pid);
	return 0;
}

int
pg_signal(struct pg_ctx *c, int sig)
{
	if (c->pc_pid <= 0)
		return -1;
	return kill(c->pc_pid, sig);
}

int
pg_wait_exit(struct pg_ctx *c, int ms)
{
	long long	deadline = pg_now_ms() + ms;
	pid_t		r;
	int		i, st;

	if (c->pc_pid <= 0)
		return c->pc_status;
	for (i = 0; i <= ms; i++) {
		r = waitpid(c->pc_pid, &st, WNOHANG);
		if (r == c->pc_pid || (r == -1 && errno == ECHILD)) {
			if (r == -1) {
				fprintf(stderr, "e2e: pid %ld is not a child; "
				    "exit status unknown\n", (long)c->pc_pid);
				st = -1;
			}
			pg_live_del(c->pc_pid);
			c->pc_pid = 0;
			c->pc_status = st;
			return st;
		}
		if (pg_left(deadline) == 0)
			break;
		pg_nap(i);
	}
	return -1;
}

int
pg_stop(struct pg_ctx *c)
{
	int	st;

	if (c->pc_pid <= 0)
		return -1;
	(void)kill(c->pc_pid, SIGTERM);
	if ((st = pg_wait_exit(c, PG_TIMEOUT_MS)) != -1)
		return st;
	fprintf(stderr, "e2e: pid %ld ignored SIGTERM; killing it\n",
	    (long)c->pc_pid);
	(void)kill(c->pc_pid, SIGKILL);
	return pg_wait_exit(c, PG_TIMEOUT_MS);
}

int
pg_reload(struct pg_ctx *c, const char *log, const char *expect)
{
	int	before = pg_file_count(c, log, expect);

	if (pg_signal(c, SIGHUP) == -1)
		return -1;
	return pg_file_wait(c, log, expect, before + 1);
}

/* pg_run() of <argv> (<n> set), <ap> after them. */
static int
pg_vrun(struct pg_ctx *c, struct pg_result *r, const char **argv, int n,
    va_list ap)
{
	char		 out[PG_PATH_MAX], err[PG_PATH_MAX], name[64];
	long long	 deadline;
	pid_t		 pid;
	int		 i, st = -1;

	memset(r, 0, sizeof(*r));
	r->pr_code = -1;
	if (pg_args(argv, n, ap) == -1)
		return -1;
	c->pc_nruns++;
	(void)snprintf(name, sizeof(name), "run%d.out", c->pc_nruns);
	(void)pg_path(c, name, out);
	(void)snprintf(name, sizeof(name), "run%d.err", c->pc_nruns);
	(void)pg_path(c, name, err);
	if ((pid = pg_spawn(argv, out, err, c->pc_nofile)) == -1)
		return -1;
	deadline = pg_now_ms() + PG_TIMEOUT_MS;
	for (i = 0; i < PG_TIMEOUT_MS; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		st = -1;
		if (pg_left(deadline) == 0) {
			fprintf(stderr, "e2e: %s did not finish; killing it\n",
			    argv[0]);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			break;
		}
		pg_nap(i);
	}
	r->pr_code = pg_exit_code(st);
	r->pr_out = pg_file_read(c, out);
	r->pr_err = pg_file_read(c, err);
	if (r->pr_out == NULL)
		r->pr_out = strdup("");
	if (r->pr_err == NULL)
		r->pr_err = strdup("");
	return r->pr_code;
}

int
pg_run(struct pg_ctx *c, struct pg_result *r, ...)
{
	const char	*argv[PG_MAXARGS];
	va_list		 ap;
	int		 rc;

	argv[0] = pg_binpath;
	va_start(ap, r);
	rc = pg_vrun(c, r, argv, 1, ap);
	va_end(ap);
	return rc;
}

int
pg_echoed(const char *src, int port)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect(src, "127.0.0.1", port)) == -1)
		fail_msg("connect %s -> %d: %s", src, port, strerror(errno));
	n = pg_tcp_exchange(fd, "ping\n", 5, buf, sizeof(buf));
	(void)close(fd);
	if (n == 5 && memcmp(buf, "ping\n", 5) == 0)
		return 1;
	if (n > 0)
		fail_msg("%s -> %d: %zd unexpected bytes", src, port, n);
	return 0;
}

void
pg_echo_once(int port, const char *msg)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = pg_tcp_connect("127.0.0.1", "127.0.0.1", port)) == -1)
		fail_msg("connect: %s", strerror(errno));
	n = pg_tcp_exchange(fd, msg, strlen(msg), buf, sizeof(buf));
	(void)close(fd);
	assert_int_equal(n, (ssize_t)strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
}

void
pg_cert_make(const struct pg_ctx *c)
{
	char		 path[PG_PATH_MAX];
	EVP_PKEY	*key;
	X509		*x;
	X509_NAME	*name;
	FILE		*fp;

	assert_non_null(key = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	name = X509_get_subject_name(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) != 0);
	assert_non_null(fp = fopen(pg_path(c, "srv.pem", path), "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(fp = fopen(pg_path(c, "srv.key", path), "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
	    NULL), 1);
	assert_int_equal(fclose(fp), 0);
	X509_free(x);
	EVP_PKEY_free(key);
}

const char *
pg_ctl_bin(void)
{
	static char	path[PG_PATH_MAX];
	char		*slash;

	if (path[0] == '\0') {
		(void)snprintf(path, sizeof(path), "%s", pg_binpath);
		if ((slash = strrchr(path, '/')) != NULL)
			(void)snprintf(slash + 1, sizeof(path) -
			    (size_t)(slash + 1 - path), "portgatectl");
		else
			(void)snprintf(path, sizeof(path), "portgatectl");
	}
	return path;
}

int
pg_ctl(struct pg_ctx *c, struct pg_result *r, ...)
{
	const char	*argv[PG_MAXARGS];
	char		 sock[PG_PATH_MAX];
	va_list		 ap;
	int		 rc;

	argv[0] = pg_ctl_bin();
	argv[1] = "-s";
	argv[2] = pg_path(c, PG_CTLSOCK, sock);
	va_start(ap, r);
	rc = pg_vrun(c, r, argv, 3, ap);
	va_end(ap);
	return rc;
}

void
pg_result_clear(struct pg_result *r)
{
	free(r->pr_out);
	free(r->pr_err);
	memset(r, 0, sizeof(*r));
}

int
pg_poll(int fd, short events, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		n;

	while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		continue;
	return n;
}

int
pg_tcp_connect(const char *src, const char *dst, int port)
{
	struct sockaddr_storage	ss, sss;
	socklen_t		len, slen, elen;
	int			fd, err, saved;

	if ((len = pg_sockaddr(dst, port, &ss)) == 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (src != NULL) {
		if ((slen = pg_sockaddr(src, 0, &sss)) == 0) {
			errno = EINVAL;
			goto fail;
		}
		if (bind(fd, (struct sockaddr *)&sss, slen) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if (pg_poll(fd, POLLOUT, PG_TIMEOUT_MS) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	elen = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

int
pg_send_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	ssize_t		 n;

	while (len > 0) {
		if (pg_now_ms() > deadline)
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (pg_poll(fd, POLLOUT, pg_left(deadline)) != 1)
			return -1;
	}
	return 0;
}

int
pg_shut_wr(int fd)
{
	return shutdown(fd, SHUT_WR);
}

/* Read until <want> bytes, or EOF when <eof>; see pg_recv_n(). */
static ssize_t
pg_recv(int fd, void *buf, size_t want, int eof)
{
	char		*p = buf, spare;
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	size_t		 got = 0;
	ssize_t		 n;

	for (;;) {
		if (got == want && !eof)
			return (ssize_t)got;
		if (pg_now_ms() > deadline)
			return -1;
		/* At <cap>, one more byte would be an overflow. */
		n = got < want ? recv(fd, p + got, want - got, 0) :
		    recv(fd, &spare, 1, 0);
		if (n == 0)
			return (ssize_t)got;
		if (n > 0 && got == want)
			return -1;
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (pg_poll(fd, POLLIN, pg_left(deadline)) != 1)
			return -1;
	}
}

ssize_t
pg_recv_n(int fd, void *buf, size_t want)
{
	return pg_recv(fd, buf, want, 0);
}

ssize_t
pg_recv_eof(int fd, void *buf, size_t cap)
{
	return pg_recv(fd, buf, cap, 1);
}

ssize_t
pg_tcp_exchange(int fd, const void *out, size_t len, void *in, size_t cap)
{
	struct pollfd	 pfd;
	const char	*op = out;
	char		*ip = in, spare;
	long long	 deadline = pg_now_ms() + PG_TIMEOUT_MS;
	size_t		 sent = 0, got = 0;
	ssize_t		 n;
	int		 shut = 0;

	for (;;) {
		if (pg_now_ms() > deadline)
			return -1;
		if (sent == len && !shut) {
			if (shutdown(fd, SHUT_WR) == -1)
				return -1;
			shut = 1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN | (shut ? 0 : POLLOUT);
		pfd.revents = 0;
		n = poll(&pfd, 1, pg_left(deadline));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (!shut && (pfd.revents & POLLOUT)) {
			n = send(fd, op + sent, len - sent, MSG_NOSIGNAL);
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				return -1;
			if (n > 0)
				sent += (size_t)n;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			/* At <cap>, one more byte would be an overflow. */
			n = got < cap ? recv(fd, ip + got, cap - got, 0) :
			    recv(fd, &spare, 1, 0);
			if (n == 0)
				return shut ? (ssize_t)got : -1;
			if (n > 0 && got == cap)
				return -1;
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				return -1;
			if (n > 0)
				got += (size_t)n;
		}
	}
}

int
pg_udp_open(const char *src, int family)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, saved;

	if (src == NULL)
		src = family == AF_INET6 ? "::" : "0.0.0.0";
	if ((len = pg_sockaddr(src, 0, &ss)) == 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
pg_udp_send(int fd, const char *dst, int port, const void *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	ssize_t			n;

	if ((sslen = pg_sockaddr(dst, port, &ss)) == 0) {
		errno = EINVAL;
		return -1;
	}
	n = sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sslen);
	return n == (ssize_t)len ? 0 : -1;
}

/* Read one queued datagram, noting its sender; -1 if none. */
static ssize_t
pg_udp_take(int fd, void *buf, size_t cap, char *from, size_t fromlen)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);
	const void		*a;
	ssize_t			n;

	n = recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&ss,
	    &sslen);
	if (n == -1 || from == NULL)
		return n;
	if (ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)(void *)&ss)->sin_addr;
	else
		a = &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr;
	if (inet_ntop(ss.ss_family, a, from, (socklen_t)fromlen) == NULL)
		(void)snprintf(from, fromlen, "?");
	return n;
}

ssize_t
pg_udp_recv(int fd, void *buf, size_t cap, int ms, char *from,
    size_t fromlen)
{
	if (pg_poll(fd, POLLIN, ms) != 1)
		return -1;
	return pg_udp_take(fd, buf, cap, from, fromlen);
}

ssize_t
pg_udp_pending(int fd, void *buf, size_t cap)
{
	return pg_udp_take(fd, buf, cap, NULL, 0);
}

void
pg_conf_init(struct pg_conf *cf)
{
	memset(cf, 0, sizeof(*cf));
}

void
pg_conf_add(struct pg_conf *cf, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(cf->cf_buf + cf->cf_len, sizeof(cf->cf_buf) -
	    cf->cf_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cf->cf_buf) - cf->cf_len)
		cf->cf_overflow = 1;
	else
		cf->cf_len += (size_t)n;
}

void
pg_conf_begin(struct pg_conf *cf, const struct pg_ctx *c, const char *log,
    const char *success, const char *failure)
{
	char	path[PG_PATH_MAX];

	pg_conf_init(cf);
	pg_conf_add(cf, "defaults\n{\n\tlog_type\t= FILE %s\n"
	    "\tlog_on_success\t= %s\n", pg_path(c, log, path), success);
	if (failure != NULL)
		pg_conf_add(cf, "\tlog_on_failure\t= %s\n", failure);
	pg_conf_add(cf, "}\n");
}

void
pg_conf_workers(struct pg_conf *cf, int n)
{
	pg_conf_add(cf, "defaults\n{\n\tworkers\t\t= %d\n}\n", n);
}

void
pg_conf_write(const struct pg_conf *cf, const struct pg_ctx *c,
    const char *name)
{
	assert_false(cf->cf_overflow);
	assert_int_equal(pg_file_write(c, name, "%s", cf->cf_buf), 0);
}

int
pg_conf_line(const struct pg_conf *cf, const char *text)
{
	const char	*p, *at = strstr(cf->cf_buf, text);
	int		 line = 1;

	if (at == NULL)
		return 0;
	for (p = cf->cf_buf; p < at; p++)
		line += *p == '\n';
	return line;
}

int
pg_fresh_port(void)
{
	int	p = pg_port();

	assert_true(p > 0);
	return p;
}

int
pg_local_port(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

int
pg_count_lines(const char *s, const char *re)
{
	regex_t		 rx;
	const char	*line, *end;
	char		 buf[4096];
	size_t		 len;
	int		 n = 0;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		fail_msg("bad regular expression '%s'", re);
	for (line = s; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		len = (size_t)(end - line);
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		n += regexec(&rx, buf, 0, NULL, 0) == 0;
	}
	regfree(&rx);
	return n;
}

/*
 * Wait for PG_ACCESS_LOG to hold the text <fmt> makes, as a regular
 * expression when <re>; fail the test at the deadline.
 */
static void
pg_log_vwait(const struct pg_ctx *c, int re, int count, const char *fmt,
    va_list ap)
{
	char	text[1024];

	(void)vsnprintf(text, sizeof(text), fmt, ap);
	if ((re ? pg_file_wait_re(c, PG_ACCESS_LOG, text, count) :
	    pg_file_wait(c, PG_ACCESS_LOG, text, count)) != 0)
		fail_msg("fewer than %d access log lines have '%s'", count,
		    text);
}

void
pg_log_wait(const struct pg_ctx *c, int count, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pg_log_vwait(c, 0, count, fmt, ap);
	va_end(ap);
}

void
pg_log_wait_re(const struct pg_ctx *c, int count, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pg_log_vwait(c, 1, count, fmt, ap);
	va_end(ap);
}

/* The occurrences (or matching lines when <re>) of <fmt> in the log. */
static int
pg_log_vcount(const struct pg_ctx *c, int re, const char *fmt, va_list ap)
{
	char	text[1024];

	(void)vsnprintf(text, sizeof(text), fmt, ap);
	return re ? pg_file_count_re(c, PG_ACCESS_LOG, text) :
	    pg_file_count(c, PG_ACCESS_LOG, text);
}

int
pg_log_count(const struct pg_ctx *c, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = pg_log_vcount(c, 0, fmt, ap);
	va_end(ap);
	return n;
}

int
pg_log_count_re(const struct pg_ctx *c, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = pg_log_vcount(c, 1, fmt, ap);
	va_end(ap);
	return n;
}

void
pg_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

void
pg_conf_start(struct pg_ctx *c, const struct pg_conf *cf, const char *name)
{
	char	*err;

	pg_conf_write(cf, c, name);
	if (pg_start(c, name, PG_FOREGROUND, NULL) == -1) {
		err = pg_file_read(c, PG_ERRLOG);
		fail_msg("portgate did not start (status %d):\n%s\n%s",
		    pg_exit_code(c->pc_status), err != NULL ? err : "",
		    cf->cf_buf);
	}
}

void
pg_stop_ok(struct pg_ctx *c)
{
	assert_int_equal(pg_exit_code(pg_stop(c)), 0);
}

const char *
pg_proc_stat(pid_t pid, char *buf, size_t cap)
{
	char	 path[64], *p;
	FILE	*fp;
	size_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (cap == 0 || (fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, cap - 1, fp);
	(void)fclose(fp);
	buf[n] = '\0';
	/* The command name may hold anything: fields follow its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return NULL;
	return p + 1;
}

int
pg_is_worker(pid_t pid)
{
	static const char	 title[] = "portgate: worker";
	char			 path[64], buf[sizeof(title)];
	FILE			*fp;
	size_t			 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	(void)fclose(fp);
	buf[n] = '\0';
	return strcmp(buf, title) == 0;
}

int
pg_workers(pid_t master, pid_t *pids, int max)
{
	struct dirent	*de;
	DIR		*d;
	char		 buf[512];
	const char	*f;
	long		 ppid;
	pid_t		 pid;
	int		 n = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(de->d_name);
		if ((f = pg_proc_stat(pid, buf, sizeof(buf))) == NULL ||
		    sscanf(f, " %*c %ld", &ppid) != 1 || ppid != master ||
		    !pg_is_worker(pid))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	(void)closedir(d);
	return n;
}

int
pg_identd_listen(const char *addr)
{
	struct sockaddr_in	sin;
	int			fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(113);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fail_msg("bind %s:113: %s (the ident tests run as root)",
		    addr, strerror(errno));
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}
