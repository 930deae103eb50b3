/*
 * Comments after values.  xinetd.conf knows only comment lines: xinetd
 * reads "per_source = 10 # per address" as four values and ignores the
 * attribute.  Its authors meant a comment, and portgate reads one, with a
 * warning that says what xinetd would do instead.
 */
#ifndef PORTGATE_CONF_COMMENT_H
#define PORTGATE_CONF_COMMENT_H

#include "conf_diag.h"

/*
 * The line <file>:<line> of <words> has a word beginning with '#' (after
 * a blank) at index <at> > 0, the first such word of the line.  Returns 1
 * if that word starts a comment to the end of the line, after warning
 * where xinetd would read the line otherwise, or 0 if it is a value
 * (server_args: xinetd gives every word to the server, and so does
 * portgate).
 */
int	conf_comment_starts(struct conf_diag *, const char *file, int line,
	    char *const *words, int at);

#endif
