/*
 * Configuration diagnostics: every error and warning found while reading
 * and checking a configuration, each as "file:line: message", kept in order
 * so that -t, start-up and reload can list them all.
 */
#ifndef PORTGATE_CONF_DIAG_H
#define PORTGATE_CONF_DIAG_H

#include "log.h"

enum diag_level {
	DIAG_WARNING,
	DIAG_ERROR,
	/*
	 * An error that keeps one service from starting and not the others,
	 * as xinetd drops it: a finding about this machine (a server, user,
	 * group, banner, /etc/services name, built-in or bind address that is
	 * not there) or a service that repeats another's id or socket.
	 */
	DIAG_DISABLE
};

struct conf_diag_msg {
	enum diag_level	 dm_level;
	char		*dm_text;	/* "file:line: error: message" */
};

struct conf_diag {
	struct conf_diag_msg	*cd_msgs;
	int			 cd_nmsgs;
	int			 cd_errors;
	int			 cd_warnings;
	int			 cd_disables;	/* DIAG_DISABLE */
};

void	conf_diag_init(struct conf_diag *);
void	conf_diag_clear(struct conf_diag *);
/* Record an error (or warning) at <file>:<line>; <file> may be NULL. */
void	conf_error(struct conf_diag *, const char *file, int line,
	    const char *fmt, ...) LOG_PRINTF(4, 5);
void	conf_warn(struct conf_diag *, const char *file, int line,
	    const char *fmt, ...) LOG_PRINTF(4, 5);
/* Record an error that disables one service only (DIAG_DISABLE). */
void	conf_disable(struct conf_diag *, const char *file, int line,
	    const char *fmt, ...) LOG_PRINTF(4, 5);
/* Send every message to the diagnostic log (reload, start-up). */
void	conf_diag_log(const struct conf_diag *);

#endif
