/*
 * Comments after values: which '#' word starts one, and the warning that
 * says how xinetd would read the line.  xinetd's own attribute table
 * (parse.c) decides the wording: an attribute of a fixed number of values
 * is ignored whole when a comment adds words; one of any number takes the
 * comment's words as values.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_attr.h"
#include "conf_comment.h"
#include "xmalloc.h"

/* Does xinetd take any number of values for attribute <name>? */
static int
conf_comment_variadic(const char *name)
{
	static const char *const variadic[] = {
		"access_times", "disabled", "enabled", "env", "flags",
		"log_on_failure", "log_on_success", "log_type", "no_access",
		"only_from", "passenv", "server_args", "type", NULL
	};
	int	i;

	for (i = 0; variadic[i] != NULL; i++)
		if (strcasecmp(name, variadic[i]) == 0)
			return 1;
	return 0;
}

int
conf_comment_starts(struct conf_diag *cd, const char *file, int line,
    char *const *words, int at)
{
	const struct attr_def	*ad;
	const char		*w0 = words[0];
	char			*name;
	size_t			 len;
	int			 idx;

	/* xinetd ignores what follows these, comment or not. */
	if (strcasecmp(w0, "service") == 0 || strcasecmp(w0, "defaults") == 0 ||
	    strcasecmp(w0, "include") == 0 ||
	    strcasecmp(w0, "includedir") == 0)
		return 1;
	if (strcmp(w0, "{") == 0 || strcmp(w0, "}") == 0) {
		conf_warn(cd, file, line, "'%s': '#' starts a comment here; "
		    "xinetd wants '%s' alone on its line and would drop this "
		    "entry", w0, w0);
		return 1;
	}
	/* The attribute name, from "name", "name=", "name+=" or "name-=". */
	len = strcspn(w0, "=");
	if (len > 0 && w0[len] == '=' && (w0[len - 1] == '+' ||
	    w0[len - 1] == '-'))
		len--;
	name = xstrndup(w0, len);
	idx = attr_lookup(name);
	free(name);
	if (idx == -1)
		return 1;
	ad = &attr_table[idx];
	if (strcasecmp(ad->name, "server_args") == 0)
		return 0;
	/* Not in xinetd: nothing it would do differently. */
	if (ad->flags & ATTR_EXTENSION)
		return 1;
	if (conf_comment_variadic(ad->name))
		conf_warn(cd, file, line, "%s: '#' starts a comment here; "
		    "xinetd would read '%s' and the words after it as values",
		    ad->name, words[at]);
	else
		conf_warn(cd, file, line, "%s: '#' starts a comment here; "
		    "xinetd would ignore the whole attribute", ad->name);
	return 1;
}
