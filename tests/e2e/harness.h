/*
 * End-to-end test harness: start src/portgate with a configuration written
 * by the test into a temporary directory, and talk to it over loopback with
 * real sockets.  Every wait polls with short sleeps under a deadline
 * (PG_TIMEOUT_MS) and returns as soon as its condition holds; no result
 * depends on a fixed sleep.
 *
 * The binary comes from $PORTGATE_BIN and test data from $PORTGATE_DATA,
 * both set by "make check".
 */
#ifndef PORTGATE_E2E_HARNESS_H
#define PORTGATE_E2E_HARNESS_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Not PATH_MAX: src/limits.h shadows the C library's <limits.h> (through
 * GCC's #include_next) in every file built with the project's flags.
 */
#define PG_PATH_MAX	4096
#define PG_NAME_MAX	255

/* Deadline of every wait, generous for a loaded two-core machine. */
#define PG_TIMEOUT_MS	10000

/* Name of the daemon's standard error inside the test directory. */
#define PG_ERRLOG	"portgate.err"
/* Name of the pid file inside the test directory. */
#define PG_PIDFILE	"portgate.pid"
#define PG_CTLSOCK	"ctl.sock"	/* the daemon's control socket */

/* How pg_start() runs the daemon. */
enum pg_mode {
	PG_FOREGROUND,		/* -dontfork */
	PG_DEBUG		/* -d: foreground with debug messages */
};

/* One test: its directory and the daemon started in it. */
struct pg_ctx {
	char	pc_dir[PG_PATH_MAX];
	pid_t	pc_pid;		/* running daemon, 0 if none */
	int	pc_status;	/* wait status once reaped, -1 before */
	int	pc_nruns;	/* pg_run() calls, to name their files */
	long	pc_nofile;	/* RLIMIT_NOFILE of what it starts; 0: ours */
};

/* What pg_run() captured. */
struct pg_result {
	int	 pr_code;	/* exit code, 128 + signal, -1 on timeout */
	char	*pr_out;	/* standard output, NUL-terminated */
	char	*pr_err;	/* standard error, NUL-terminated */
};

/*
 * Check the environment ($PORTGATE_BIN must name an executable), make this
 * process a subreaper so that detached daemons stay its children, and
 * arrange for any daemon still running at exit to be killed.  Exits with
 * status 1 and a message when the environment is wrong.
 */
void	 pg_init(void);
const char *pg_bin(void);
/* $PORTGATE_DATA, or NULL when unset. */
const char *pg_data(void);

/* cmocka fixtures: a fresh pg_ctx with its own directory, and its end. */
int	 pg_setup(void **state);
int	 pg_teardown(void **state);

/* Make <c>'s temporary directory; 0 or -1. */
int	 pg_ctx_init(struct pg_ctx *c);
/* Stop any daemon, then remove the directory (kept if $PORTGATE_E2E_KEEP). */
void	 pg_ctx_clear(struct pg_ctx *c);

/*
 * <name> inside the test directory (unchanged when absolute), in <buf> of
 * PG_PATH_MAX bytes.
 */
const char *pg_path(const struct pg_ctx *c, const char *name, char *buf);
/* Write a file from a format; returns 0 or -1. */
int	 pg_file_write(const struct pg_ctx *c, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The whole file, NUL-terminated, to free(); NULL if it cannot be read. */
char	*pg_file_read(const struct pg_ctx *c, const char *name);
/* Occurrences of <needle> in the file now (0 when absent). */
int	 pg_file_count(const struct pg_ctx *c, const char *name,
	    const char *needle);
/* Lines of the file matching the extended regular expression <re>. */
int	 pg_file_count_re(const struct pg_ctx *c, const char *name,
	    const char *re);
/*
 * Wait until the file holds <needle> at least <count> times (or has at
 * least <count> lines matching <re>).  0 once it does; -1 at the deadline,
 * after printing the file to standard error.
 */
int	 pg_file_wait(const struct pg_ctx *c, const char *name,
	    const char *needle, int count);
int	 pg_file_wait_re(const struct pg_ctx *c, const char *name,
	    const char *re, int count);

/*
 * A port free on 127.0.0.1 and on the IPv6 wildcard, for TCP and UDP
 * both, and not handed out before by this process; -1 if none was found.
 */
int	 pg_port(void);
/* 1 if ::1 can be bound here. */
int	 pg_have_ipv6(void);

/*
 * Start "portgate -dontfork (or -d) -f CONF -pidfile DIR/portgate.pid",
 * then the NULL-terminated extra arguments, with standard error going to
 * DIR/portgate.err, and wait for the pid file to name it.  Returns 0 when
 * ready; -1 if it exited first (its wait status in pc_status) or did not
 * get ready in time (then it is killed).  Until the bug shown by
 * test_signal_at_readiness is fixed, serve one client before sending the
 * first signal: the pid file comes before the signal handlers.
 */
int	 pg_start(struct pg_ctx *c, const char *conf, enum pg_mode mode,
	    ...) __attribute__((sentinel));
/* pg_start() in two halves: start without waiting, then wait. */
int	 pg_launch(struct pg_ctx *c, const char *conf, enum pg_mode mode,
	    ...) __attribute__((sentinel));
int	 pg_wait_ready(struct pg_ctx *c);
/* Take the daemon named by pid file <name> (a detached one) as c's. */
int	 pg_adopt(struct pg_ctx *c, const char *name);
/* Send <sig> to the daemon; 0 or -1. */
int	 pg_signal(struct pg_ctx *c, int sig);
/*
 * Wait up to <ms> for the daemon to exit; its wait status, or -1 if it is
 * still running.
 */
int	 pg_wait_exit(struct pg_ctx *c, int ms);
/*
 * SIGTERM, wait up to PG_TIMEOUT_MS, SIGKILL as a last resort.  Returns
 * the daemon's wait status, or -1 if there was none to stop.
 */
int	 pg_stop(struct pg_ctx *c);
/*
 * Send SIGHUP and wait until the diagnostic log <log> holds one more
 * <expect> line than before.  0 or -1.
 */
int	 pg_reload(struct pg_ctx *c, const char *log, const char *expect);
/* The pid in pid file <name>, or -1. */
pid_t	 pg_pidfile_read(const struct pg_ctx *c, const char *name);
/* The exit code of wait status <status>: 0-255, or 128 + signal. */
int	 pg_exit_code(int status);
/* Milliseconds of the monotonic clock. */
long long pg_now_ms(void);
/* Milliseconds left before <deadline>, at least 0. */
int	 pg_left(long long deadline);
/*
 * Wait up to <ms> for <events> on <fd>, restarting on EINTR; 1 ready,
 * 0 timeout, -1 error.
 */
int	 pg_poll(int fd, short events, int ms);

/*
 * Run the binary with the NULL-terminated arguments, wait for it (with the
 * deadline; killed after it) and capture its output.  Returns pr_code.
 */
int	 pg_run(struct pg_ctx *c, struct pg_result *r, ...)
	    __attribute__((sentinel));
void	 pg_result_clear(struct pg_result *r);
/*
 * One client from <src> that sends "ping\n" to 127.0.0.1 port <port> and
 * half-closes: 1 when it is echoed, 0 when the connection ends with
 * nothing (refused, or reset); anything else fails the test.
 */
int	 pg_echoed(const char *src, int port);
/* <msg> echoed through 127.0.0.1 port <port> from 127.0.0.1, or fail. */
void	 pg_echo_once(int port, const char *msg);
/* A self-signed P-256 certificate for localhost: srv.pem, srv.key. */
void	 pg_cert_make(const struct pg_ctx *c);
/* src/portgatectl, beside the binary under test. */
const char *pg_ctl_bin(void);
/*
 * pg_run() of portgatectl -s <the daemon's control socket> and the
 * NULL-terminated arguments.
 */
int	 pg_ctl(struct pg_ctx *c, struct pg_result *r, ...)
	    __attribute__((sentinel));

/*
 * Connect by TCP to <dst> port <port> from <src> (NULL for any), with the
 * deadline.  Returns a non-blocking descriptor, or -1 with errno set
 * (ECONNREFUSED, ETIMEDOUT...).
 */
int	 pg_tcp_connect(const char *src, const char *dst, int port);
/* Send everything; 0 or -1. */
int	 pg_send_all(int fd, const void *buf, size_t len);
/* shutdown(SHUT_WR); 0 or -1. */
int	 pg_shut_wr(int fd);
/*
 * Read until <want> bytes or EOF; returns the bytes read (less than
 * <want> only at EOF), -1 on error or at the deadline.
 */
ssize_t	 pg_recv_n(int fd, void *buf, size_t want);
/*
 * Read until EOF; returns the bytes read, -1 on error, at the deadline or
 * when more than <cap> bytes arrive.
 */
ssize_t	 pg_recv_eof(int fd, void *buf, size_t cap);
/*
 * Send <len> bytes while reading what comes back, half-close once all is
 * sent, and read on until EOF.  Returns the bytes received (at most <cap>),
 * -1 on error, at the deadline or on overflow.
 */
ssize_t	 pg_tcp_exchange(int fd, const void *out, size_t len, void *in,
	    size_t cap);

/* A UDP socket bound to <src> (NULL: the wildcard of <family>); or -1. */
int	 pg_udp_open(const char *src, int family);
int	 pg_udp_send(int fd, const char *dst, int port, const void *buf,
	    size_t len);
/*
 * Wait up to <ms> for one datagram; its length, -1 on timeout or error.
 * The sender's numeric address goes to <from> (of <fromlen>) if not NULL.
 */
ssize_t	 pg_udp_recv(int fd, void *buf, size_t cap, int ms, char *from,
	    size_t fromlen);
/* A datagram already queued on <fd>: its length, or -1 (none). */
ssize_t	 pg_udp_pending(int fd, void *buf, size_t cap);

/* Size of a configuration a test builds in a struct pg_conf. */
#define PG_CONF_MAX	32768

/* A configuration being written. */
struct pg_conf {
	char	cf_buf[PG_CONF_MAX];
	size_t	cf_len;
	int	cf_overflow;	/* set once an addition did not fit */
};

/*
 * The helpers below fail the running cmocka test (they do not return)
 * when what they need does not hold.
 */
/* Empty <cf>. */
void	 pg_conf_init(struct pg_conf *cf);
/* Append formatted text to <cf>; sets cf_overflow when it does not fit. */
void	 pg_conf_add(struct pg_conf *cf, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Empty <cf>, then defaults: FILE <log>, <success>, <failure> (or none). */
void	 pg_conf_begin(struct pg_conf *cf, const struct pg_ctx *c,
	    const char *log, const char *success, const char *failure);
/*
 * Another defaults block with workers = <n>: for a test of what one worker
 * counts (limits of descriptors and log rates hold per worker).
 */
void	 pg_conf_workers(struct pg_conf *cf, int n);
/* Write <cf> as <name> in the directory of <c>, or fail the test. */
void	 pg_conf_write(const struct pg_conf *cf, const struct pg_ctx *c,
	    const char *name);
/* The number of the first line of <cf> holding <text>, or 0. */
int	 pg_conf_line(const struct pg_conf *cf, const char *text);
/*
 * A TCP socket listening on <addr> (IPv4) port 113, as an ident server
 * the test plays (root only), or fail the test.
 */
int	 pg_identd_listen(const char *addr);
/* pg_port(), or fail the test when there is no free port. */
int	 pg_fresh_port(void);
/* The local port of the bound IPv4 socket <fd>, or fail the test. */
int	 pg_local_port(int fd);
/* Lines of <s> matching the extended regular expression <re>. */
int	 pg_count_lines(const char *s, const char *re);

/* Name of the access log the tests configure, inside the test directory. */
#define PG_ACCESS_LOG	"access.log"
/* Wait for the formatted <fmt> <count> times in PG_ACCESS_LOG, or fail. */
void	 pg_log_wait(const struct pg_ctx *c, int count, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Wait for <count> PG_ACCESS_LOG lines matching ERE <fmt>, or fail. */
void	 pg_log_wait_re(const struct pg_ctx *c, int count, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Occurrences of the formatted <fmt> in PG_ACCESS_LOG now. */
int	 pg_log_count(const struct pg_ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* PG_ACCESS_LOG lines matching the formatted ERE <fmt> now. */
int	 pg_log_count_re(const struct pg_ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Sleep <ms> milliseconds: only to watch what happens over a stretch. */
void	 pg_sleep_ms(long ms);

/*
 * Write <cf> as <name> in the directory of <c> and start the daemon on it
 * in the foreground, or fail the test with its standard error.
 */
void	 pg_conf_start(struct pg_ctx *c, const struct pg_conf *cf,
	    const char *name);
/* pg_stop(), or fail the test unless the daemon exits with status 0. */
void	 pg_stop_ok(struct pg_ctx *c);

/*
 * The fields of /proc/<pid>/stat that follow the command name (" S ..."),
 * read into <buf> of <cap> bytes; NULL if it cannot be read.
 */
const char *pg_proc_stat(pid_t pid, char *buf, size_t cap);
/* Is <pid> a worker of portgate ("portgate: worker" in ps)?  1 or 0. */
int	 pg_is_worker(pid_t pid);
/*
 * The workers whose parent is <master>: their number, the first <max>
 * pids in <pids>.
 */
int	 pg_workers(pid_t master, pid_t *pids, int max);

#endif
