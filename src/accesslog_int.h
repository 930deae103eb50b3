/*
 * What the two halves of the access records share: accesslog.c (the
 * words of the attributes, the record formats and the entry points) and
 * accesslog_sink.c (the destinations).  Not for other modules.
 */
#ifndef PORTGATE_ACCESSLOG_INT_H
#define PORTGATE_ACCESSLOG_INT_H

#include <stddef.h>

#include "accesslog.h"

/* xinetd's LOGBUF_SIZE: a record is at most this long, NUL included. */
#define ACCESSLOG_LINEMAX	1024

/* Store a formatted message in <err> if there is room for one. */
void	accesslog_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Write one record <line> (formatted, without timestamp, one line, shorter
 * than ACCESSLOG_LINEMAX) to sink <al>.
 */
void	accesslog_sink_write(struct accesslog *al, const char *line);

#endif
