/*
 * The configuration lexer.  xinetd.conf is line oriented: a line whose
 * first non-blank character is '#' is a comment, blank lines are skipped,
 * and the rest is split into words on blanks with no quoting.  include and
 * includedir push files on a stack so that their lines come in place.
 *
 * A word that begins with '#' after a blank may start a comment to the
 * end of the line: conf_comment.c has the rule (and the warnings, since
 * xinetd reads such words as values).
 *
 * A configuration names programs that run as other users, so every file
 * and include directory must be one that only root (or, for a check run
 * by another user, that user) may change: conf_lex_trusted() is the one
 * rule, applied to the main file, included files, include directories and
 * the symbolic links found in them (THREATS.md rule 6, relayd's
 * check_file_secrecy).
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

#include "conf_comment.h"
#include "conf_lex.h"
#include "xmalloc.h"

#define LEX_MAXDEPTH	16
#define LEX_MAXLINE	65536

/* A file of an includedir, to be read in its turn. */
struct lex_entry {
	char		*le_path;	/* "<dir>/<name>", for messages */
	const char	*le_name;	/* in le_path, opened in the dir */
	int		 le_follow;	/* a symbolic link that was checked */
};

/* A file being read, or an includedir whose files are read in turn. */
struct lex_file {
	FILE		*lf_fp;		/* NULL for an includedir */
	const char	*lf_name;
	char		*lf_real;	/* realpath, to catch include loops */
	int		 lf_line;
	int		 lf_dirfd;	/* includedir: the directory, or -1 */
	struct lex_entry *lf_pending;	/* includedir: files still to read */
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
 * May the file, directory or symbolic link <path> that <st> describes be
 * part of the configuration?  It must be of type <type> (S_IFREG, S_IFDIR
 * or S_IFLNK), not writable by others, and owned by root, or when not
 * running as root by root or the user running portgate.  A file or
 * directory its group may write is accepted with a warning.  Returns 0,
 * or -1 after recording an error at <from>:<line>.
 */
static int
conf_lex_trusted(struct conf_lex *lx, const struct stat *st, mode_t type,
    const char *path, const char *from, int line)
{
	uid_t	euid = geteuid();

	if ((st->st_mode & S_IFMT) != type) {
		conf_error(lx->lx_diag, from, line, "%s is not a %s", path,
		    type == S_IFDIR ? "directory" : "regular file");
		return -1;
	}
	if (st->st_uid != 0 && (euid == 0 || st->st_uid != euid)) {
		if (euid == 0)
			conf_error(lx->lx_diag, from, line, "%s%s is not owned "
			    "by root: refusing it when running as root",
			    type == S_IFLNK ? "symbolic link " : "", path);
		else
			conf_error(lx->lx_diag, from, line, "%s%s is owned by "
			    "uid %lu, neither root nor you: refusing it",
			    type == S_IFLNK ? "symbolic link " : "", path,
			    (unsigned long)st->st_uid);
		return -1;
	}
	/* A link's own mode means nothing; its target is checked on open. */
	if (type == S_IFLNK)
		return 0;
	if (st->st_mode & S_IWOTH) {
		conf_error(lx->lx_diag, from, line, "%s is writable by anyone: "
		    "refusing it (chmod o-w)", path);
		return -1;
	}
	if (st->st_mode & S_IWGRP)
		conf_warn(lx->lx_diag, from, line, "%s is writable by its "
		    "group (chmod g-w)", path);
	return 0;
}

/*
 * Whether the directory holding <path> may be written by someone else than
 * its trusted owner: then a symbolic link found there may have been
 * planted, and <path> is opened with O_NOFOLLOW.  A directory that cannot
 * be looked at counts as shared.
 */
static int
conf_lex_dir_shared(const char *path)
{
	struct stat	 st;
	const char	*slash;
	char		*dir;
	int		 rc;
	uid_t		 euid = geteuid();

	if ((slash = strrchr(path, '/')) == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 : slash - path);
	rc = stat(dir, &st);
	free(dir);
	if (rc == -1)
		return 1;
	return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (st.st_uid != 0 && (euid == 0 || st.st_uid != euid));
}

/*
 * Open <name> in <dirfd> (<path> in messages) with <flags> added to
 * O_RDONLY.  O_NONBLOCK: a FIFO must not block the open (it is refused
 * next).  Returns the descriptor, or -1 after recording an error.
 */
static int
conf_lex_openat(struct conf_lex *lx, int dirfd, const char *name,
    const char *path, int flags, const char *what, const char *from,
    int line)
{
	int	fd;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | flags);
	if (fd != -1)
		return fd;
	if (errno == ELOOP && (flags & O_NOFOLLOW))
		conf_error(lx->lx_diag, from, line, "%s%s is a symbolic link "
		    "in a directory others may write: refusing it", what,
		    path);
	else
		conf_error(lx->lx_diag, from, line, "cannot read %s%s%s: %s",
		    what, path, errno == ENOENT ? " on this machine" : "",
		    strerror(errno));
	return -1;
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
	lf->lf_dirfd = -1;
	lf->lf_name = conf_lex_intern(lx, path);
	return lf;
}

/*
 * Read the file open on <fd> (<path>) next, if it may be trusted and is
 * not already being read.  Takes <fd> in any case.  Returns 0, or -1
 * after recording an error at <from>:<line>.
 */
static int
conf_lex_push_fd(struct conf_lex *lx, int fd, const char *path,
    const char *from, int line)
{
	struct lex_file	*lf;
	struct stat	 st;
	FILE		*fp;
	char		*real = NULL;

	if (fstat(fd, &st) == -1) {
		conf_error(lx->lx_diag, from, line, "cannot stat %s: %s", path,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (conf_lex_trusted(lx, &st, S_IFREG, path, from, line) == -1) {
		(void)close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read %s: %s", path,
		    strerror(errno));
		(void)close(fd);
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

/* Push an already resolved path named by the configuration. */
static int
conf_lex_push(struct conf_lex *lx, const char *path, const char *from,
    int line)
{
	int	fd;

	fd = conf_lex_openat(lx, AT_FDCWD, path, path,
	    conf_lex_dir_shared(path) ? O_NOFOLLOW : 0, "", from, line);
	if (fd == -1)
		return -1;
	return conf_lex_push_fd(lx, fd, path, from, line);
}

/* Push the next file of the includedir frame <lf>. */
static int
conf_lex_push_entry(struct conf_lex *lx, struct lex_file *lf)
{
	struct lex_entry	*le = &lf->lf_pending[lf->lf_next++];
	int			 fd;

	/* O_NOFOLLOW: an entry must still be what the listing found. */
	fd = conf_lex_openat(lx, lf->lf_dirfd, le->le_name, le->le_path,
	    le->le_follow ? 0 : O_NOFOLLOW, "", lf->lf_from, lf->lf_fromline);
	if (fd == -1)
		return -1;
	return conf_lex_push_fd(lx, fd, le->le_path, lf->lf_from,
	    lf->lf_fromline);
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
conf_lex_entcmp(const void *a, const void *b)
{
	const struct lex_entry	*x = a, *y = b;

	return strcmp(x->le_path, y->le_path);
}

/* Free <n> entries of <ents> and the array. */
static void
conf_lex_entries_free(struct lex_entry *ents, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(ents[i].le_path);
	free(ents);
}

/*
 * Look at the entry <name> of the includedir open on <dfd> (<dir>): 1 to
 * read it (with <*follow> set for a symbolic link, which is followed only
 * when the link is trusted, its target being checked when it is opened),
 * 0 to skip it as xinetd does (not a regular file), -1 after recording an
 * error.
 */
static int
conf_lex_dirent_check(struct conf_lex *lx, int dfd, const char *dir,
    const char *name, int *follow, const char *from, int line)
{
	struct stat	 st;
	char		*path;
	int		 rc = 0;

	*follow = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		xasprintf(&path, "%s/%s", dir, name);
		rc = conf_lex_trusted(lx, &st, S_IFLNK, path, from, line);
		free(path);
		if (rc == -1)
			return -1;
		if (fstatat(dfd, name, &st, 0) == -1)
			return 0;
		*follow = 1;
	}
	return S_ISREG(st.st_mode) ? 1 : 0;
}

int
conf_lex_includedir(struct conf_lex *lx, const char *dir, const char *from,
    int line)
{
	DIR		 *d = NULL;
	struct dirent	 *de;
	struct stat	  st;
	struct lex_file	 *lf;
	struct lex_entry *ents = NULL;
	char		 *full;
	int		  n = 0, dfd, dfd2 = -1, follow, rc, bad = 0;

	full = conf_lex_resolve(dir, from);
	dfd = conf_lex_openat(lx, AT_FDCWD, full, full, O_DIRECTORY |
	    (conf_lex_dir_shared(full) ? O_NOFOLLOW : 0), "includedir ",
	    from, line);
	if (dfd == -1)
		goto fail;
	if (fstat(dfd, &st) == -1) {
		conf_error(lx->lx_diag, from, line, "cannot stat includedir "
		    "%s: %s", full, strerror(errno));
		goto fail;
	}
	if (conf_lex_trusted(lx, &st, S_IFDIR, full, from, line) == -1)
		goto fail;
	/* fdopendir() takes <dfd>; the entries are opened in a copy. */
	if ((dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		conf_error(lx->lx_diag, from, line, "cannot read includedir "
		    "%s: %s", full, strerror(errno));
		goto fail;
	}
	dfd = -1;
	while ((de = readdir(d)) != NULL) {
		if (!conf_lex_dirent_wanted(de->d_name))
			continue;
		rc = conf_lex_dirent_check(lx, dirfd(d), full, de->d_name,
		    &follow, from, line);
		if (rc == -1)
			bad = 1;
		if (rc != 1)
			continue;
		ents = xreallocarray(ents, n + 1, sizeof(*ents));
		xasprintf(&ents[n].le_path, "%s/%s", full, de->d_name);
		ents[n].le_name = ents[n].le_path + strlen(full) + 1;
		ents[n].le_follow = follow;
		n++;
	}
	(void)closedir(d);
	d = NULL;
	if (bad)
		goto fail;
	if (n > 0)
		qsort(ents, n, sizeof(*ents), conf_lex_entcmp);
	/* The files are opened one at a time, as the frame is read. */
	if ((lf = conf_lex_frame(lx, full, from, line)) == NULL)
		goto fail;
	free(full);
	lf->lf_dirfd = dfd2;
	lf->lf_pending = ents;
	lf->lf_npending = n;
	lf->lf_from = from;
	lf->lf_fromline = line;
	return 0;

fail:
	if (d != NULL)
		(void)closedir(d);
	if (dfd != -1)
		(void)close(dfd);
	if (dfd2 != -1)
		(void)close(dfd2);
	conf_lex_entries_free(ents, n);
	free(full);
	return -1;
}

/* Close the top frame. */
static void
conf_lex_pop(struct conf_lex *lx)
{
	struct lex_file	*lf = &lx->lx_stack[--lx->lx_depth];

	if (lf->lf_fp != NULL)
		(void)fclose(lf->lf_fp);
	if (lf->lf_dirfd != -1)
		(void)close(lf->lf_dirfd);
	conf_lex_entries_free(lf->lf_pending, lf->lf_npending);
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

/*
 * Split lx_buf, a line of <lf>, into words, up to a comment; returns the
 * count (0 for a blank or comment line).
 */
static int
conf_lex_split(struct conf_lex *lx, const struct lex_file *lf,
    char ***wordsp)
{
	char	*p = lx->lx_buf, *start, **words = NULL;
	int	 n = 0, hash = 0;

	p += strspn(p, " \t\r\n\f\v");
	if (*p == '#' || *p == '\0')
		return 0;
	while (*p != '\0') {
		start = p;
		p += strcspn(p, " \t\r\n\f\v");
		words = xreallocarray(words, n + 2, sizeof(char *));
		words[n] = xstrndup(start, p - start);
		words[n + 1] = NULL;
		/* Only the first '#' word of a line may start a comment. */
		if (words[n][0] == '#' && !hash++ &&
		    conf_comment_starts(lx->lx_diag, lf->lf_name, lf->lf_line,
		    words, n)) {
			free(words[n]);
			words[n] = NULL;
			break;
		}
		n++;
		p += strspn(p, " \t\r\n\f\v");
	}
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
				(void)conf_lex_push_entry(lx, lf);
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
		cl->cl_nwords = conf_lex_split(lx, lf, &cl->cl_words);
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
