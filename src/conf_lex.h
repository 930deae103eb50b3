/*
 * The configuration lexer: turns the files of a configuration (the main
 * file and everything it includes) into lines of words, each with the file
 * and line it came from, following xinetd's lexical rules.
 */
#ifndef PORTGATE_CONF_LEX_H
#define PORTGATE_CONF_LEX_H

#include "conf_diag.h"

struct conf_line {
	const char	 *cl_file;	/* owned by the lexer's file list */
	int		  cl_line;
	char		**cl_words;
	int		  cl_nwords;
};

enum conf_lex_result {
	LEX_EOF = 0,		/* no more input */
	LEX_LINE,		/* a line of at least one word */
	LEX_ENDFILE		/* one file ended (cl_file names it) */
};

struct conf_lex;

struct conf_lex *conf_lex_new(struct conf_diag *);
/*
 * Read <path> next, before the rest of the current file.  A relative path
 * is taken relative to the directory of <from> (the including file), or
 * the working directory when <from> is NULL.  Returns 0, or -1 after
 * recording an error at <from>:<line>.
 */
int	conf_lex_include(struct conf_lex *, const char *path, const char *from,
	    int line);
/*
 * Read every regular file of <dir> whose name has no '.' and does not end
 * in '~', in strcmp order (xinetd's rule).  Returns 0 or -1 as above.
 */
int	conf_lex_includedir(struct conf_lex *, const char *dir, const char *from,
	    int line);
/* The next line into <cl> (free its words with conf_line_clear()). */
enum conf_lex_result conf_lex_next(struct conf_lex *, struct conf_line *cl);
void	conf_line_clear(struct conf_line *);
/*
 * Hand over the list of file names that lines point into; the lexer then
 * no longer frees them.  Returns a NULL-terminated array.
 */
char	**conf_lex_take_files(struct conf_lex *);
void	conf_lex_free(struct conf_lex *);

#endif
