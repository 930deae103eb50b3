/*
 * Configuration diagnostics: every error and warning found while reading
 * and checking a configuration, each as "file:line: message", kept in the
 * order found and sorted by file and line to be listed (-t, start-up and
 * reload), so that an admin reads them top to bottom like the files.
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
	char		*dm_file;	/* NULL: about no file */
	int		 dm_line;	/* 0: about the whole file */
	int		 dm_seq;	/* order found */
};

struct conf_diag {
	struct conf_diag_msg	*cd_msgs;
	int			 cd_nmsgs;
	int			 cd_errors;
	int			 cd_warnings;
	int			 cd_disables;	/* DIAG_DISABLE */
	char			**cd_files;	/* in the order read */
	int			 cd_nfiles;
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
/*
 * Record the files of a configuration in the order they were read
 * (NULL-terminated <files>); a name already recorded keeps its place.
 */
void	conf_diag_files(struct conf_diag *, const char *const *files);
/*
 * Sort the messages by file, in the order the files were read (files not
 * recorded come after them, in the order first named; messages about no
 * file last), then by line (a message about the whole file first), keeping
 * the order found among messages of the same line.
 */
void	conf_diag_sort(struct conf_diag *);
/* Sort, then send every message to the diagnostic log (reload). */
void	conf_diag_log(struct conf_diag *);

#endif
