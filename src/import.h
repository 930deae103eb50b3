/*
 * Import another daemon's configuration: rinetd.conf and inetd.conf are
 * translated, text to text, into portgate's xinetd-style syntax.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stddef.h>

#include "log.h"

/* A growing NUL-terminated text. */
struct import_buf {
	char	*ib_data;
	size_t	 ib_len;
	size_t	 ib_cap;
};

/* What an import made: the configuration, the findings, their count. */
struct import_result {
	struct import_buf	 ir_out;	/* portgate configuration */
	struct import_buf	 ir_msgs;	/* "file:line: ..." lines */
	int			 ir_errors;
	int			 ir_warnings;
};

void	import_result_init(struct import_result *);
void	import_result_free(struct import_result *);
void	import_printf(struct import_buf *, const char *, ...)
	    LOG_PRINTF(2, 3);
void	import_error(struct import_result *, const char *, int,
	    const char *, ...) LOG_PRINTF(4, 5);
void	import_warn(struct import_result *, const char *, int,
	    const char *, ...) LOG_PRINTF(4, 5);
char	*import_next_line(char **);
int	 import_split(char *, char **, int);

/*
 * Translate <text>, the contents of <file>, into <ir>; 0 when it holds no
 * error, -1 when it does (<ir>'s messages say which).
 */
int	import_rinetd(const char *, const char *, struct import_result *);
int	import_inetd(const char *, const char *, struct import_result *);

/* Read <path> and translate it as <kind> ("rinetd" or "inetd"). */
int	import_file(const char *, const char *, struct import_result *);

#endif
