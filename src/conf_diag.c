/*
 * Configuration diagnostics: collect "file:line: level: message" lines in
 * the order they are found.
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

	for (i = 0; i < cd->cd_nmsgs; i++)
		free(cd->cd_msgs[i].dm_text);
	free(cd->cd_msgs);
	conf_diag_init(cd);
}

/* Append one formatted message. */
static void __attribute__((format(printf, 5, 0)))
conf_diag_add(struct conf_diag *cd, enum diag_level level, const char *file,
    int line, const char *fmt, va_list ap)
{
	char	 msg[1024];
	char	*text;
	int	 i;

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
	cd->cd_msgs[cd->cd_nmsgs].dm_level = level;
	cd->cd_msgs[cd->cd_nmsgs].dm_text = text;
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

void
conf_diag_log(const struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < cd->cd_nmsgs; i++)
		log_warnx("%s", cd->cd_msgs[i].dm_text);
}
