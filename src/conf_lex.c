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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_lex.h"
#include "xmalloc.h"

#define LEX_MAXDEPTH	16
#define LEX_MAXLINE	65536

struct lex_file {
	FILE		*lf_fp;
	const char	*lf_name;
	int		 lf_line;
};

struct conf_lex {
	struct conf_diag	*lx_diag;
	struct lex_file		 lx_stack[LEX_MAXDEPTH];
	int			 lx_depth;
	char			**lx_files;	/* every name, NULL-terminated */
	int			 lx_nfiles;
	char			*lx_buf;
	size_t			 lx_bufsz;
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

/* Is <path> already open on the stack (an include loop)? */
static int
conf_lex_onstack(struct conf_lex *lx, const char *path)
{
	int	i;

	for (i = 0; i < lx->lx_depth; i++)
		if (strcmp(lx->lx_stack[i].lf_name, path) == 0)
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

/* Push an already resolved path. */
static int
conf_lex_push(struct conf_lex *lx, const char *path, const char *from,
    int line)
{
	struct lex_file	*lf;
	FILE		*fp;

	if (lx->lx_depth == LEX_MAXDEPTH) {
		conf_error(lx->lx_diag, from, line,
		    "include %s: includes nested more than %d deep", path,
		    LEX_MAXDEPTH);
		return -1;
	}
	if (conf_lex_onstack(lx, path)) {
		conf_error(lx->lx_diag, from, line,
		    "include %s: the file includes itself", path);
		return -1;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (conf_lex_secrecy(lx, fp, path, from, line) == -1) {
		(void)fclose(fp);
		return -1;
	}
	lf = &lx->lx_stack[lx->lx_depth++];
	lf->lf_fp = fp;
	lf->lf_name = conf_lex_intern(lx, path);
	lf->lf_line = 0;
	return 0;
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
	char		 *full, *path, **names = NULL;
	int		  n = 0, i, rc = 0;

	full = conf_lex_resolve(dir, from);
	if ((d = opendir(full)) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read includedir %s on this machine: %s",
		    full, strerror(errno));
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
	free(full);
	qsort(names, n, sizeof(char *), conf_lex_strcmp);
	/* Push in reverse so that the first name is read first. */
	for (i = n - 1; i >= 0; i--) {
		if (conf_lex_push(lx, names[i], from, line) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Read one physical line of the top file into lx_buf; 0 at end of file. */
static int
conf_lex_getline(struct conf_lex *lx, struct lex_file *lf)
{
	ssize_t	 len;

	len = getline(&lx->lx_buf, &lx->lx_bufsz, lf->lf_fp);
	if (len == -1)
		return 0;
	lf->lf_line++;
	if (len > LEX_MAXLINE) {
		conf_error(lx->lx_diag, lf->lf_name, lf->lf_line,
		    "line longer than %d bytes", LEX_MAXLINE);
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
		if (!conf_lex_getline(lx, lf)) {
			if (ferror(lf->lf_fp))
				conf_error(lx->lx_diag, lf->lf_name, lf->lf_line,
				    "read error");
			fclose(lf->lf_fp);
			lx->lx_depth--;
			cl->cl_file = lf->lf_name;
			cl->cl_line = lf->lf_line;
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
		fclose(lx->lx_stack[--lx->lx_depth].lf_fp);
	for (i = 0; i < lx->lx_nfiles; i++)
		free(lx->lx_files[i]);
	free(lx->lx_files);
	free(lx->lx_buf);
	free(lx);
}
