/*
 * The helpers the importers share: a growing text for the output and the
 * findings, the "file:line: message" formatter, line and word splitting,
 * and reading the file to translate.  The importers run once, from the
 * command line, so an allocation failure ends the program (xmalloc).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "xmalloc.h"

/* Larger files are not configurations. */
#define IMPORT_MAX_SIZE	(4 * 1024 * 1024)

void
import_result_init(struct import_result *ir)
{
	memset(ir, 0, sizeof(*ir));
}

void
import_result_free(struct import_result *ir)
{
	free(ir->ir_out.ib_data);
	free(ir->ir_msgs.ib_data);
	memset(ir, 0, sizeof(*ir));
}

static void	import_vprintf(struct import_buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
import_vprintf(struct import_buf *ib, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("%s: bad format", __func__);
	if (ib->ib_len + (size_t)n + 1 > ib->ib_cap) {
		size_t cap = ib->ib_cap == 0 ? 1024 : ib->ib_cap;

		while (ib->ib_len + (size_t)n + 1 > cap)
			cap *= 2;
		ib->ib_data = xreallocarray(ib->ib_data, cap, 1);
		ib->ib_cap = cap;
	}
	(void)vsnprintf(ib->ib_data + ib->ib_len, (size_t)n + 1, fmt, ap);
	ib->ib_len += (size_t)n;
}

/* Append printf-style text to <ib>. */
void
import_printf(struct import_buf *ib, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	import_vprintf(ib, fmt, ap);
	va_end(ap);
}

static void	import_msg(struct import_result *, const char *, int,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));

static void
import_msg(struct import_result *ir, const char *file, int line,
    const char *kind, const char *fmt, va_list ap)
{
	if (line > 0)
		import_printf(&ir->ir_msgs, "%s:%d: %s", file, line, kind);
	else
		import_printf(&ir->ir_msgs, "%s: %s", file, kind);
	import_vprintf(&ir->ir_msgs, fmt, ap);
	import_printf(&ir->ir_msgs, "\n");
}

/* An error at <file>:<line>: the translation is not printed. */
void
import_error(struct import_result *ir, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	import_msg(ir, file, line, "", fmt, ap);
	va_end(ap);
	ir->ir_errors++;
}

/* A warning at <file>:<line>: the translation stands, with a caveat. */
void
import_warn(struct import_result *ir, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	import_msg(ir, file, line, "warning: ", fmt, ap);
	va_end(ap);
	ir->ir_warnings++;
}

/*
 * The next line of *<pos>, NUL-terminated in place (without its newline),
 * or NULL at the end of the text.
 */
char *
import_next_line(char **pos)
{
	char	*line = *pos, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*pos = nl + 1;
	} else
		*pos = line + strlen(line);
	if (nl != NULL && nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	return line;
}

/*
 * Split <line> in place into at most <max> words separated by blanks;
 * returns the number of words, or max + 1 when there are more.
 */
int
import_split(char *line, char **words, int max)
{
	int	n = 0;

	for (;;) {
		line += strspn(line, " \t");
		if (*line == '\0')
			return n;
		if (n == max)
			return max + 1;
		words[n++] = line;
		line += strcspn(line, " \t");
		if (*line != '\0')
			*line++ = '\0';
	}
}

/* The contents of <path>, NUL-terminated, or NULL with errno set. */
static char *
import_read(const char *path)
{
	struct stat	 st;
	char		*text = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > IMPORT_MAX_SIZE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	text = xcalloc((size_t)st.st_size + 1, 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		errno = EINVAL;		/* a NUL byte: not a text file */
		goto fail;
	}
	(void)close(fd);
	return text;
fail:
	saved = errno;
	free(text);
	(void)close(fd);
	errno = saved;
	return NULL;
}

int
import_file(const char *kind, const char *path, struct import_result *ir)
{
	char	*text;
	int	 rc;

	if (strcmp(kind, "rinetd") != 0 && strcmp(kind, "inetd") != 0) {
		import_error(ir, kind, 0, "unknown format: expected rinetd "
		    "or inetd");
		return -1;
	}
	if ((text = import_read(path)) == NULL) {
		import_error(ir, path, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (strcmp(kind, "rinetd") == 0)
		rc = import_rinetd(text, path, ir);
	else
		rc = import_inetd(text, path, ir);
	free(text);
	return rc;
}
