/*
 * Diagnostics: the daemon's own messages, written to the -filelog file in
 * xinetd's format, to standard error in the foreground, or to syslog.
 * On standard error each line says its level: in words on a terminal, as
 * an sd-daemon(3) "<N>" prefix when standard error is the journal.
 * Every message is formatted into one bounded buffer and written with a
 * single write(2) or syslog(3) call; a failing write is ignored, since
 * there is nowhere left to report it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longest diagnostic line, prefix and newline included. */
#define LOG_LINEMAX	2048

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_FILE,
	LOG_DEST_SYSLOG
};

/* Until log_init() runs, start-up errors go to standard error. */
static log_forward_fn	log_forward;	/* a worker: to the master */
static enum log_dest	 log_dest = LOG_DEST_STDERR;
static int		 log_verbose;
static int		 log_fd = -1;
static char		*log_path;
static int		 log_journal;	/* standard error is the journal */
static int		 log_tee_fd = -1;	/* errors also go there */

static void	log_vwrite(int, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* Open <path> for appending, as the -filelog file. */
static int
log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/*
 * Whether standard error is a journal stream: systemd sets JOURNAL_STREAM
 * to its "device:inode" (systemd.exec(5)).  Comparing them, rather than
 * trusting INVOCATION_ID alone, keeps the words when a unit sends
 * standard error to a file or a shell script redirects it.
 */
static int
log_stderr_is_journal(void)
{
	struct stat	 st;
	const char	*js;
	char		*end;
	uintmax_t	 dev, ino;

	if ((js = getenv("JOURNAL_STREAM")) == NULL ||
	    *js < '0' || *js > '9')
		return 0;
	dev = strtoumax(js, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoumax(end + 1, &end, 10);
	if (*end != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

/* Choose the destination of diagnostics; see log.h. */
int
log_init(int foreground, int facility, const char *filelog)
{
	char	*path = NULL;
	int	 fd = -1, saved;

	if (filelog != NULL) {
		if ((fd = log_open_file(filelog)) == -1)
			return -1;
		if ((path = strdup(filelog)) == NULL) {
			saved = errno;
			(void)close(fd);
			errno = saved;
			return -1;
		}
	}
	if (log_fd != -1)
		(void)close(log_fd);
	free(log_path);
	log_fd = fd;
	log_path = path;
	log_journal = log_stderr_is_journal();
	if (filelog != NULL)
		log_dest = LOG_DEST_FILE;
	else if (foreground)
		log_dest = LOG_DEST_STDERR;
	else
		log_dest = LOG_DEST_SYSLOG;

	/* Load the time zone now, before any chroot hides it. */
	tzset();
	/*
	 * Set the ident even when syslog is not the destination: syslog
	 * access-log sinks (accesslog.c) share it.
	 */
	openlog("portgate", LOG_PID |
	    (log_dest == LOG_DEST_SYSLOG ? LOG_NDELAY : 0), facility);
	return 0;
}

/* Show or hide log_debug() messages. */
void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

/* Reopen the -filelog file after rotation, keeping the old one on error. */
void
log_reopen(void)
{
	int	 fd;

	if (log_dest != LOG_DEST_FILE || log_path == NULL)
		return;
	if ((fd = log_open_file(log_path)) == -1) {
		log_warn("cannot reopen log file %s", log_path);
		return;
	}
	(void)close(log_fd);
	log_fd = fd;
}

/* Also write errors and warnings to <fd> (-1: stop); see log.h. */
void
log_tee(int fd)
{
	log_tee_fd = fd;
}

/* Format <t> as "YY/M/D@HH:MM:SS"; returns the length stored in <buf>. */
size_t
log_timestamp(char *buf, size_t len, time_t t)
{
	struct tm	 tm;
	int		 n;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	n = snprintf(buf, len, "%02d/%d/%d@%02d:%02d:%02d",
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	if ((size_t)n >= len)
		return len - 1;
	return (size_t)n;
}

/* The -filelog name of syslog priority <pri>. */
static const char *
log_level_name(int pri)
{
	switch (pri) {
	case LOG_EMERG:
		return "EMERG";
	case LOG_ALERT:
		return "ALERT";
	case LOG_CRIT:
		return "CRITICAL";
	case LOG_ERR:
		return "ERROR";
	case LOG_WARNING:
		return "WARNING";
	case LOG_NOTICE:
		return "NOTICE";
	case LOG_INFO:
		return "INFO";
	default:
		return "DEBUG";
	}
}

/* The sd-daemon(3) prefix of <pri> when standard error is the journal. */
const char *
log_journal_prefix(int pri)
{
	static const char *const	 prefix[] = {
		"<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>"
	};

	if (!log_journal)
		return "";
	return prefix[LOG_PRI(pri)];
}

/* The words that give <pri> on a terminal. */
static const char *
log_level_words(int pri)
{
	switch (LOG_PRI(pri)) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* Replace control characters so that one message stays one line. */
static void
log_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* Write <len> bytes of <line> with one write(2), retrying on EINTR. */
static void
log_write_fd(int fd, const char *line, size_t len)
{
	while (write(fd, line, len) == -1 && errno == EINTR)
		continue;
}

/*
 * Write <msg> to <fd> as a standard error line: "portgate: error: ..." on
 * a terminal, "<3>..." into the journal.
 */
static void
log_emit_stderr(int fd, int pri, const char *msg)
{
	char	 line[LOG_LINEMAX];
	int	 n;

	/* The journal names the process itself. */
	if (log_journal)
		n = snprintf(line, sizeof(line) - 1, "%s%s%s",
		    log_journal_prefix(pri), LOG_PRI(pri) <= LOG_CRIT ?
		    "fatal: " : "", msg);
	else
		n = snprintf(line, sizeof(line) - 1, "portgate: %s%s",
		    log_level_words(pri), msg);
	if (n < 0)
		return;
	/* Keep the newline of a truncated line. */
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	log_write_fd(fd, line, (size_t)n);
}

void
log_set_forward(log_forward_fn fn)
{
	log_forward = fn;
	if (fn == NULL)
		return;
	/* The master keeps the log: a worker could truncate it. */
	if (log_dest == LOG_DEST_FILE && log_fd > STDERR_FILENO) {
		(void)close(log_fd);
		log_fd = -1;
	}
	closelog();
}

/* Send <msg> at priority <pri> to the current destination. */
static void
log_emit(int pri, const char *msg)
{
	char	 line[LOG_LINEMAX], ts[32];
	int	 n;

	if (log_forward != NULL) {
		log_forward(LOG_PRI(pri), msg);
		return;
	}
	if (log_tee_fd != -1 && LOG_PRI(pri) <= LOG_WARNING)
		log_emit_stderr(log_tee_fd, pri, msg);
	switch (log_dest) {
	case LOG_DEST_SYSLOG:
		syslog(pri, "%s", msg);
		return;
	case LOG_DEST_FILE:
		break;
	default:
		log_emit_stderr(STDERR_FILENO, pri, msg);
		return;
	}
	(void)log_timestamp(ts, sizeof(ts), time(NULL));
	n = snprintf(line, sizeof(line) - 1, "%s portgate[%ld]: %s: %s",
	    ts, (long)getpid(), log_level_name(pri), msg);
	if (n < 0)
		return;
	/* Keep the newline of a truncated line. */
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	log_write_fd(log_fd, line, (size_t)n);
}

/*
 * Format and emit one message at <pri>; <errnum> >= 0 appends its
 * strerror().  errno is preserved for the caller.
 */
static void
log_vwrite(int pri, int errnum, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINEMAX];
	size_t	 len;
	int	 saved = errno, n;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		(void)snprintf(msg, sizeof(msg), "(unformattable message)");
	if (errnum >= 0) {
		len = strlen(msg);
		(void)snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(errnum));
	}
	log_sanitize(msg);
	log_emit(pri, msg);
	errno = saved;
}

void
log_put(int pri, const char *msg)
{
	char	line[LOG_LINEMAX];

	if (LOG_PRI(pri) == LOG_DEBUG && !log_verbose)
		return;
	(void)snprintf(line, sizeof(line), "%s", msg);
	log_sanitize(line);
	log_emit(pri, line);
}

/* Log an error followed by the strerror() of errno. */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, errno, fmt, ap);
	va_end(ap);
}

/* Log an error. */
void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, -1, fmt, ap);
	va_end(ap);
}

/* Log an informational message. */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, -1, fmt, ap);
	va_end(ap);
}

/* Log a debugging message, shown only when verbose. */
void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, -1, fmt, ap);
	va_end(ap);
}

/* Log a critical error with the strerror() of errno and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, errno, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log a critical error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, -1, fmt, ap);
	va_end(ap);
	exit(1);
}
