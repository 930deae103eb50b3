/*
 * Diagnostics: the daemon's own messages (start, reload, errors), kept
 * apart from the access records of accesslog.c.
 */
#ifndef PORTGATE_LOG_H
#define PORTGATE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#define LOG_PRINTF(a, b)	__attribute__((format(printf, a, b)))

/*
 * Where diagnostics go: <filelog> if not NULL (xinetd -filelog format),
 * else standard error when <foreground>, else syslog with <facility>.
 * May be called again (after the configuration is read, on -d).
 * Returns 0, or -1 with errno set when <filelog> cannot be opened (the
 * previous destination is then kept).
 */
int	log_init(int foreground, int facility, const char *filelog);
/* Show log_debug() messages when <verbose> is non-zero. */
void	log_setverbose(int verbose);
/*
 * "<3>" and the like for syslog priority <pri> when standard error is the
 * journal (JOURNAL_STREAM names it; see sd-daemon(3)), "" otherwise: for
 * lines others print on standard error.
 */
const char *log_journal_prefix(int pri);
/*
 * Also write errors and warnings, as standard error lines, to <fd> (the
 * pipe to the parent that waits for a detached start); -1 stops it.
 */
void	log_tee(int fd);
/* Reopen the -filelog file (after rotation); no-op for other sinks. */
void	log_reopen(void);

void	log_warn(const char *, ...) LOG_PRINTF(1, 2);	/* appends errno */
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * Format a -filelog line prefix "YY/M/D@HH:MM:SS" for <t> (local time)
 * into <buf>; shared with accesslog.c.  Returns the length written.
 */
/* Log the line <msg> (a worker's, already formatted) at <pri>. */
void	log_put(int pri, const char *msg);

size_t	log_timestamp(char *buf, size_t len, time_t t);

/*
 * A worker has no log of its own: every message goes to <fn> (the
 * channel to the master) instead, with its priority.  NULL: log here.
 */
typedef void	(*log_forward_fn)(int pri, const char *msg);
void	log_set_forward(log_forward_fn fn);

#endif
