/*
 * Configuration diagnostics: collect "file:line: level: message" lines in
 * the order they are found, and sort them by file and line to be listed.
 * Checks run attribute by attribute and service by service after the files
 * are read, so the order found jumps around the files; an admin fixing a
 * configuration reads it top to bottom.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_diag.h"
#include "xmalloc.h"

/* Prepare an empty list. */
void
conf_diag_init(struct conf_diag *cd)
{
	memset(cd, 0, sizeof(*cd));
}

/* Free every message. */
void
conf_diag_clear(struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < cd->cd_nmsgs; i++) {
		free(cd->cd_msgs[i].dm_text);
		free(cd->cd_msgs[i].dm_file);
	}
	free(cd->cd_msgs);
	for (i = 0; i < cd->cd_nfiles; i++)
		free(cd->cd_files[i]);
	free(cd->cd_files);
	conf_diag_init(cd);
}

/* Append one formatted message. */
static void __attribute__((format(printf, 5, 0)))
conf_diag_add(struct conf_diag *cd, enum diag_level level, const char *file,
    int line, const char *fmt, va_list ap)
{
	struct conf_diag_msg	*dm;
	char			 msg[1024];
	char			*text;
	int			 i;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (file != NULL && line > 0)
		xasprintf(&text, "%s:%d: %s: %s", file, line,
		    level != DIAG_WARNING ? "error" : "warning", msg);
	else if (file != NULL)
		xasprintf(&text, "%s: %s: %s", file,
		    level != DIAG_WARNING ? "error" : "warning", msg);
	else
		xasprintf(&text, "%s: %s",
		    level != DIAG_WARNING ? "error" : "warning", msg);
	/* A value inherited by several services is reported once. */
	for (i = 0; i < cd->cd_nmsgs; i++) {
		if (strcmp(cd->cd_msgs[i].dm_text, text) == 0) {
			free(text);
			return;
		}
	}
	cd->cd_msgs = xreallocarray(cd->cd_msgs, cd->cd_nmsgs + 1,
	    sizeof(*cd->cd_msgs));
	dm = &cd->cd_msgs[cd->cd_nmsgs];
	dm->dm_level = level;
	dm->dm_text = text;
	dm->dm_file = file != NULL ? xstrdup(file) : NULL;
	dm->dm_line = file != NULL && line > 0 ? line : 0;
	dm->dm_seq = cd->cd_nmsgs;
	cd->cd_nmsgs++;
	if (level == DIAG_ERROR)
		cd->cd_errors++;
	else if (level == DIAG_DISABLE)
		cd->cd_disables++;
	else
		cd->cd_warnings++;
}

void
conf_error(struct conf_diag *cd, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_diag_add(cd, DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
}

void
conf_warn(struct conf_diag *cd, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_diag_add(cd, DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

void
conf_disable(struct conf_diag *cd, const char *file, int line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_diag_add(cd, DIAG_DISABLE, file, line, fmt, ap);
	va_end(ap);
}

/* The place of <file> among the recorded files, or -1. */
static int
conf_diag_file_index(const struct conf_diag *cd, const char *file)
{
	int	i;

	for (i = 0; i < cd->cd_nfiles; i++)
		if (strcmp(cd->cd_files[i], file) == 0)
			return i;
	return -1;
}

void
conf_diag_files(struct conf_diag *cd, const char *const *files)
{
	int	i;

	for (i = 0; files != NULL && files[i] != NULL; i++) {
		if (conf_diag_file_index(cd, files[i]) != -1)
			continue;
		cd->cd_files = xreallocarray(cd->cd_files, cd->cd_nfiles + 1,
		    sizeof(*cd->cd_files));
		cd->cd_files[cd->cd_nfiles++] = xstrdup(files[i]);
	}
}

/* A message with the rank of its file, for sorting. */
struct diag_key {
	int			 dk_rank;
	struct conf_diag_msg	 dk_msg;
};

static int
conf_diag_cmp(const void *a, const void *b)
{
	const struct diag_key	*x = a, *y = b;

	if (x->dk_rank != y->dk_rank)
		return x->dk_rank < y->dk_rank ? -1 : 1;
	if (x->dk_msg.dm_line != y->dk_msg.dm_line)
		return x->dk_msg.dm_line < y->dk_msg.dm_line ? -1 : 1;
	/* qsort is not stable: the order found decides last. */
	return x->dk_msg.dm_seq < y->dk_msg.dm_seq ? -1 :
	    x->dk_msg.dm_seq > y->dk_msg.dm_seq;
}

void
conf_diag_sort(struct conf_diag *cd)
{
	struct diag_key	*keys;
	int		 i, j, rank;

	if (cd->cd_nmsgs < 2)
		return;
	keys = xcalloc(cd->cd_nmsgs, sizeof(*keys));
	for (i = 0; i < cd->cd_nmsgs; i++) {
		keys[i].dk_msg = cd->cd_msgs[i];
		if (cd->cd_msgs[i].dm_file == NULL)
			rank = cd->cd_nfiles + cd->cd_nmsgs;
		else if ((rank = conf_diag_file_index(cd,
		    cd->cd_msgs[i].dm_file)) == -1) {
			/* An unrecorded file ranks by its first message. */
			rank = cd->cd_msgs[i].dm_seq;
			for (j = 0; j < cd->cd_nmsgs; j++)
				if (cd->cd_msgs[j].dm_seq < rank &&
				    cd->cd_msgs[j].dm_file != NULL &&
				    strcmp(cd->cd_msgs[j].dm_file,
				    cd->cd_msgs[i].dm_file) == 0)
					rank = cd->cd_msgs[j].dm_seq;
			rank += cd->cd_nfiles;
		}
		keys[i].dk_rank = rank;
	}
	qsort(keys, cd->cd_nmsgs, sizeof(*keys), conf_diag_cmp);
	for (i = 0; i < cd->cd_nmsgs; i++)
		cd->cd_msgs[i] = keys[i].dk_msg;
	free(keys);
}

void
conf_diag_log(struct conf_diag *cd)
{
	int	i;

	conf_diag_sort(cd);
	for (i = 0; i < cd->cd_nmsgs; i++)
		log_warnx("%s", cd->cd_msgs[i].dm_text);
}
