/*
 * portgate -T: the configuration as it was read, for an admin to see
 * what defaults, includes, += and -= made of each service.  config_load()
 * calls these with CONF_DUMP while it merges; the text is kept in the
 * configuration (cf_dump) and printed by main().  Each attribute carries
 * the file:line of the statements its words came from.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "xmalloc.h"

/* Append printf-style text to cf_dump. */
void
config_dump_printf(struct config *cf, const char *fmt, ...)
{
	va_list	 ap;
	char	*add, *all;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) == -1)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
	if (cf->cf_dump == NULL) {
		cf->cf_dump = add;
		return;
	}
	(void)xasprintf(&all, "%s%s", cf->cf_dump, add);
	free(cf->cf_dump);
	free(add);
	cf->cf_dump = all;
}

/* Where the words of <av> came from: "f:3" or "f:3 (A B), g:7 (C)". */
static void
config_dump_origin(struct config *cf, const struct attr_val *av,
    const char *entry_file, int entry_line)
{
	int	i, j, groups = 0;

	for (i = 0; i < av->av_n; i = j) {
		for (j = i; j < av->av_n && av->av_lines[j] ==
		    av->av_lines[i] && av->av_files[j] == av->av_files[i]; j++)
			;
		groups++;
	}
	config_dump_printf(cf, "\t# ");
	if (av->av_n == 0)
		config_dump_printf(cf, "%s:%d", av->av_file, av->av_line);
	else if (groups == 1)
		config_dump_printf(cf, "%s:%d", av->av_files[0],
		    av->av_lines[0]);
	else
		for (i = 0; i < av->av_n; i = j) {
			config_dump_printf(cf, "%s%s:%d (", i > 0 ? ", " : "",
			    av->av_files[i], av->av_lines[i]);
			for (j = i; j < av->av_n && av->av_lines[j] ==
			    av->av_lines[i] && av->av_files[j] ==
			    av->av_files[i]; j++)
				config_dump_printf(cf, "%s%s", j > i ? " " : "",
				    av->av_words[j]);
			config_dump_printf(cf, ")");
		}
	if (av->av_file == entry_file && av->av_line == entry_line)
		config_dump_printf(cf, " (built-in default)");
	else if (av->av_inherited)
		config_dump_printf(cf, " (defaults)");
	if (av->av_n > 0 && (av->av_line != av->av_lines[av->av_n - 1] ||
	    av->av_file != av->av_files[av->av_n - 1]))
		config_dump_printf(cf, ", last changed at %s:%d", av->av_file,
		    av->av_line);
}

/*
 * One entry: "service NAME" or "defaults" (<head>), written at
 * <file>:<line>, with its merged <vals> and, when it does not run, why
 * (<state>).
 */
void
config_dump_entry(struct config *cf, const char *head, const char *file,
    int line, const struct attr_val *vals, const char *state)
{
	const struct attr_val	*av;
	int			 i, j;

	if (line > 0)
		config_dump_printf(cf, "\n# %s:%d\n", file, line);
	else
		config_dump_printf(cf, "\n# every defaults entry, merged\n");
	if (state != NULL)
		config_dump_printf(cf, "# %s\n", state);
	config_dump_printf(cf, "%s\n{\n", head);
	for (i = 0; i < attr_count; i++) {
		av = &vals[i];
		if (!av->av_set)
			continue;
		config_dump_printf(cf, "\t%-15s =", attr_table[i].name);
		for (j = 0; j < av->av_n; j++)
			config_dump_printf(cf, " %s", av->av_words[j]);
		config_dump_origin(cf, av, file, line);
		config_dump_printf(cf, "\n");
	}
	config_dump_printf(cf, "}\n");
}

/* Why <vals> of service <id> are switched off, in <buf>. */
const char *
config_dump_off_reason(struct attr_val *vals, struct attr_val *defs,
    const char *id, char *buf, size_t len)
{
	struct attr_val	*av = config_val(vals, "disable");
	struct attr_val	*en = config_val(defs, "enabled");
	struct attr_val	*dis = config_val(defs, "disabled");
	int		 i;

	for (i = 0; i < dis->av_n; i++)
		if (strcmp(dis->av_words[i], id) == 0) {
			(void)snprintf(buf, len, "disabled: listed in "
			    "'disabled' at %s:%d", dis->av_files[i],
			    dis->av_lines[i]);
			return buf;
		}
	if (en->av_set) {
		for (i = 0; i < en->av_n; i++)
			if (strcmp(en->av_words[i], id) == 0)
				break;
		if (i == en->av_n) {
			(void)snprintf(buf, len, "disabled: not listed in "
			    "'enabled' at %s:%d", en->av_file, en->av_line);
			return buf;
		}
	}
	(void)snprintf(buf, len, "disabled: disable = %s at %s:%d",
	    av->av_set ? av->av_words[0] : "?", av->av_file, av->av_line);
	return buf;
}
