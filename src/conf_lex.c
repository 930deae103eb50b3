/*
 * The configuration lexer.  xinetd.conf is line oriented: a line whose
 * first non-blank character is '#' is a comment, blank lines are skipped,
 * and the rest is split into words on blanks with no quoting.  A '#' later
 * in a line is an ordinary character, as in xinetd.  include and includedir
 * push files on a stack so that their lines come in place.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_lex.h"
#include "xmalloc.h"

#define LEX_MAXDEPTH	16
#define LEX_MAXLINE	65536

/* A file being read, or an includedir whose files are read in turn. */
struct lex_file {
	FILE		*lf_fp;		/* NULL for an includedir */
	const char	*lf_name;
	char		*lf_real;	/* realpath, to catch include loops */
	int		 lf_line;
	char		**lf_pending;	/* includedir: files still to read */
	int		 lf_npending;
	int		 lf_next;
	const char	*lf_from;	/* where the includedir was */
	int		 lf_fromline;
};

struct conf_lex {
	struct conf_diag	*lx_diag;
	struct lex_file		 lx_stack[LEX_MAXDEPTH];
	int			 lx_depth;
	char			**lx_files;	/* every name, NULL-terminated */
	int			 lx_nfiles;
	char			 lx_buf[LEX_MAXLINE + 2];
};

struct conf_lex *
conf_lex_new(struct conf_diag *cd)
{
	struct conf_lex	*lx;

	lx = xcalloc(1, sizeof(*lx));
	lx->lx_diag = cd;
	lx->lx_files = xcalloc(1, sizeof(char *));
	return lx;
}

/* Keep <name> for as long as the configuration lives; return the copy. */
static const char *
conf_lex_intern(struct conf_lex *lx, const char *name)
{
	lx->lx_files = xreallocarray(lx->lx_files, lx->lx_nfiles + 2,
	    sizeof(char *));
	lx->lx_files[lx->lx_nfiles] = xstrdup(name);
	lx->lx_files[lx->lx_nfiles + 1] = NULL;
	return lx->lx_files[lx->lx_nfiles++];
}

/* Resolve <path> against the directory of <from>. */
static char *
conf_lex_resolve(const char *path, const char *from)
{
	const char	*slash;
	char		*full;

	if (path[0] == '/' || from == NULL ||
	    (slash = strrchr(from, '/')) == NULL)
		return xstrdup(path);
	xasprintf(&full, "%.*s/%s", (int)(slash - from), from, path);
	return full;
}

/* Is the file <real> already open on the stack (an include loop)? */
static int
conf_lex_onstack(struct conf_lex *lx, const char *real)
{
	int	i;

	for (i = 0; i < lx->lx_depth; i++)
		if (lx->lx_stack[i].lf_real != NULL &&
		    strcmp(lx->lx_stack[i].lf_real, real) == 0)
			return 1;
	return 0;
}

/*
 * A configuration names programs run as other users: refuse a file that
 * others may write (relayd's check_file_secrecy).
 */
static int
conf_lex_secrecy(struct conf_lex *lx, FILE *fp, const char *path,
    const char *from, int line)
{
	struct stat	st;

	if (fstat(fileno(fp), &st) == -1) {
		conf_error(lx->lx_diag, from, line, "cannot stat %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(lx->lx_diag, from, line, "%s is not a regular file",
		    path);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		conf_error(lx->lx_diag, from, line, "%s is writable by anyone: "
		    "refusing it (chmod o-w)", path);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		conf_error(lx->lx_diag, from, line, "%s is not owned by root: "
		    "refusing it when running as root", path);
		return -1;
	}
	return 0;
}

/* Make room for one more frame; -1 (reported) when too deep. */
static struct lex_file *
conf_lex_frame(struct conf_lex *lx, const char *path, const char *from,
    int line)
{
	struct lex_file	*lf;

	if (lx->lx_depth == LEX_MAXDEPTH) {
		conf_error(lx->lx_diag, from, line,
		    "include %s: includes nested more than %d deep", path,
		    LEX_MAXDEPTH);
		return NULL;
	}
	lf = &lx->lx_stack[lx->lx_depth++];
	memset(lf, 0, sizeof(*lf));
	lf->lf_name = conf_lex_intern(lx, path);
	return lf;
}

/* Push an already resolved path. */
static int
conf_lex_push(struct conf_lex *lx, const char *path, const char *from,
    int line)
{
	struct lex_file	*lf;
	FILE		*fp;
	char		*real;
	int		 fd;

	/* O_NONBLOCK: a FIFO must not block the open (it is refused next). */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read %s%s: %s", path,
		    errno == ENOENT ? " on this machine" : "", strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	if (conf_lex_secrecy(lx, fp, path, from, line) == -1) {
		(void)fclose(fp);
		return -1;
	}
	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	if (conf_lex_onstack(lx, real)) {
		conf_error(lx->lx_diag, from, line,
		    "include %s: the file includes itself", path);
		goto fail;
	}
	if ((lf = conf_lex_frame(lx, path, from, line)) == NULL)
		goto fail;
	lf->lf_fp = fp;
	lf->lf_real = real;
	return 0;
fail:
	free(real);
	(void)fclose(fp);
	return -1;
}

int
conf_lex_include(struct conf_lex *lx, const char *path, const char *from,
    int line)
{
	char	*full;
	int	 rc;

	full = conf_lex_resolve(path, from);
	rc = conf_lex_push(lx, full, from, line);
	free(full);
	return rc;
}

/* xinetd reads a file of an includedir only if it has no '.' and no '~' end. */
static int
conf_lex_dirent_wanted(const char *name)
{
	size_t	len = strlen(name);

	return len > 0 && strchr(name, '.') == NULL && name[len - 1] != '~';
}

static int
conf_lex_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
conf_lex_includedir(struct conf_lex *lx, const char *dir, const char *from,
    int line)
{
	DIR		 *d;
	struct dirent	 *de;
	struct stat	  st;
	struct lex_file	 *lf;
	char		 *full, *path, **names = NULL;
	int		  n = 0, i;

	full = conf_lex_resolve(dir, from);
	if ((d = opendir(full)) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read includedir %s "
		    "on this machine: %s", full, strerror(errno));
		free(full);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!conf_lex_dirent_wanted(de->d_name))
			continue;
		xasprintf(&path, "%s/%s", full, de->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = path;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(char *), conf_lex_strcmp);
	/* The files are opened one at a time, as the frame is read. */
	if ((lf = conf_lex_frame(lx, full, from, line)) == NULL) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		free(full);
		return -1;
	}
	free(full);
	lf->lf_pending = names;
	lf->lf_npending = n;
	lf->lf_from = from;
	lf->lf_fromline = line;
	return 0;
}

/* Close the top frame. */
static void
conf_lex_pop(struct conf_lex *lx)
{
	struct lex_file	*lf = &lx->lx_stack[--lx->lx_depth];
	int		 i;

	if (lf->lf_fp != NULL)
		(void)fclose(lf->lf_fp);
	for (i = 0; i < lf->lf_npending; i++)
		free(lf->lf_pending[i]);
	free(lf->lf_pending);
	free(lf->lf_real);
}

/*
 * Read one line of the top file into lx_buf; 0 at end of file.  A line
 * longer than LEX_MAXLINE is an error and is skipped.
 */
static int
conf_lex_getline(struct conf_lex *lx, struct lex_file *lf)
{
	size_t	len;
	int	c;

	if (fgets(lx->lx_buf, sizeof(lx->lx_buf), lf->lf_fp) == NULL)
		return 0;
	lf->lf_line++;
	len = strlen(lx->lx_buf);
	if (len > LEX_MAXLINE && lx->lx_buf[len - 1] != '\n') {
		conf_error(lx->lx_diag, lf->lf_name, lf->lf_line,
		    "line longer than %d bytes", LEX_MAXLINE);
		while ((c = getc(lf->lf_fp)) != EOF && c != '\n')
			;
		lx->lx_buf[0] = '\0';
	}
	return 1;
}

/* Split lx_buf into words; returns the count (0 for blank or comment). */
static int
conf_lex_split(struct conf_lex *lx, char ***wordsp)
{
	char	*p = lx->lx_buf, *start, **words = NULL;
	int	 n = 0;

	p += strspn(p, " \t\r\n\f\v");
	if (*p == '#' || *p == '\0')
		return 0;
	while (*p != '\0') {
		start = p;
		p += strcspn(p, " \t\r\n\f\v");
		words = xreallocarray(words, n + 2, sizeof(char *));
		words[n++] = xstrndup(start, p - start);
		p += strspn(p, " \t\r\n\f\v");
	}
	words[n] = NULL;
	*wordsp = words;
	return n;
}

enum conf_lex_result
conf_lex_next(struct conf_lex *lx, struct conf_line *cl)
{
	struct lex_file	*lf;

	memset(cl, 0, sizeof(*cl));
	while (lx->lx_depth > 0) {
		lf = &lx->lx_stack[lx->lx_depth - 1];
		if (lf->lf_fp == NULL) {
			/* An includedir: its next file, or done. */
			if (lf->lf_next < lf->lf_npending)
				(void)conf_lex_push(lx,
				    lf->lf_pending[lf->lf_next++], lf->lf_from,
				    lf->lf_fromline);
			else
				conf_lex_pop(lx);
			continue;
		}
		if (!conf_lex_getline(lx, lf)) {
			if (ferror(lf->lf_fp))
				conf_error(lx->lx_diag, lf->lf_name, lf->lf_line,
				    "read error");
			cl->cl_file = lf->lf_name;
			cl->cl_line = lf->lf_line;
			conf_lex_pop(lx);
			return LEX_ENDFILE;
		}
		cl->cl_nwords = conf_lex_split(lx, &cl->cl_words);
		if (cl->cl_nwords > 0) {
			cl->cl_file = lf->lf_name;
			cl->cl_line = lf->lf_line;
			return LEX_LINE;
		}
	}
	return LEX_EOF;
}

void
conf_line_clear(struct conf_line *cl)
{
	int	i;

	for (i = 0; i < cl->cl_nwords; i++)
		free(cl->cl_words[i]);
	free(cl->cl_words);
	memset(cl, 0, sizeof(*cl));
}

char **
conf_lex_take_files(struct conf_lex *lx)
{
	char	**files = lx->lx_files;

	lx->lx_files = xcalloc(1, sizeof(char *));
	lx->lx_nfiles = 0;
	return files;
}

void
conf_lex_free(struct conf_lex *lx)
{
	int	i;

	if (lx == NULL)
		return;
	while (lx->lx_depth > 0)
		conf_lex_pop(lx);
	for (i = 0; i < lx->lx_nfiles; i++)
		free(lx->lx_files[i]);
	free(lx->lx_files);
	free(lx);
}
