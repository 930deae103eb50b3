/*
 * Merge the statements of the files into one value per attribute and per
 * service, with xinetd's rules: scope, operators and value counts checked
 * for every attribute here, lists of defaults that += and -= extend,
 * scalars of defaults that fill what a service leaves unset, and the
 * defaults of the attribute table under both.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_suggest.h"
#include "config_int.h"
#include "xmalloc.h"

/* Empty one merged value. */
static void
av_clear(struct attr_val *av)
{
	int	i;

	for (i = 0; i < av->av_n; i++)
		free(av->av_words[i]);
	free(av->av_words);
	free(av->av_files);
	free(av->av_lines);
	memset(av, 0, sizeof(*av));
}

/* Append words written at <file>:<line>. */
static void
av_append(struct attr_val *av, char *const *words, int n, const char *file,
    int line)
{
	int	i;

	av->av_words = xreallocarray(av->av_words, av->av_n + n + 1,
	    sizeof(char *));
	av->av_files = xreallocarray(av->av_files, av->av_n + n + 1,
	    sizeof(char *));
	av->av_lines = xreallocarray(av->av_lines, av->av_n + n + 1,
	    sizeof(int));
	for (i = 0; i < n; i++) {
		av->av_words[av->av_n] = xstrdup(words[i]);
		av->av_files[av->av_n] = file;
		av->av_lines[av->av_n] = line;
		av->av_n++;
	}
	av->av_words[av->av_n] = NULL;
	av->av_file = file;
	av->av_line = line;
	av->av_set = 1;
}

/* Remove every word equal (ignoring case) to one of <words>. */
static void
av_remove(struct attr_val *av, char *const *words, int n)
{
	int	i, j, k = 0;

	for (i = 0; i < av->av_n; i++) {
		for (j = 0; j < n; j++)
			if (strcasecmp(av->av_words[i], words[j]) == 0)
				break;
		if (j < n) {
			free(av->av_words[i]);
			continue;
		}
		av->av_words[k] = av->av_words[i];
		av->av_files[k] = av->av_files[i];
		av->av_lines[k] = av->av_lines[i];
		k++;
	}
	av->av_n = k;
	if (av->av_words != NULL)
		av->av_words[k] = NULL;
}

/* Copy <src> into an empty <dst>. */
static void
av_copy(struct attr_val *dst, const struct attr_val *src)
{
	int	i;

	for (i = 0; i < src->av_n; i++)
		av_append(dst, &src->av_words[i], 1, src->av_files[i],
		    src->av_lines[i]);
	dst->av_file = src->av_file;
	dst->av_line = src->av_line;
	dst->av_set = src->av_set;
	dst->av_bad = src->av_bad;
	dst->av_inherited = 1;
	if (dst->av_words == NULL)
		dst->av_words = xcalloc(1, sizeof(char *));
}

struct attr_val *
config_vals_new(void)
{
	return xcalloc(attr_count, sizeof(struct attr_val));
}

void
config_vals_free(struct attr_val *vals)
{
	int	i;

	if (vals == NULL)
		return;
	for (i = 0; i < attr_count; i++)
		av_clear(&vals[i]);
	free(vals);
}

struct attr_val *
config_val(struct attr_val *vals, const char *name)
{
	return &vals[attr_lookup(name)];
}

/*
 * Apply one statement to <vals>: scope, operator and value count are
 * checked here for every attribute, the value itself later by its setter.
 */
static void
config_apply_stmt(struct attr_val *vals, const struct conf_stmt *cs,
    int in_defaults, struct conf_diag *cd)
{
	const struct attr_def	*ad;
	struct attr_val		*av;
	int			 idx, list;

	if ((idx = attr_lookup(cs->cs_name)) == -1) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "unknown attribute '%s'%s", cs->cs_name,
		    conf_suggest_hint(cs->cs_name));
		return;
	}
	ad = &attr_table[idx];
	av = &vals[idx];
	list = (ad->flags & ATTR_LIST) != 0;
	if (in_defaults && !(ad->scope & ATTR_DEFAULTS)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "%s is not allowed in defaults", ad->name);
		return;
	}
	if (!in_defaults && !(ad->scope & ATTR_SERVICE)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "%s is only allowed in defaults", ad->name);
		return;
	}
	if (cs->cs_op != OP_SET && !list) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "operator '%s' cannot be used with %s, which takes a single "
		    "value: use '='", conf_op_name(cs->cs_op), ad->name);
		return;
	}
	if (cs->cs_op == OP_DEL && (ad->flags & ATTR_NODEL)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "operator '-=' cannot be used with %s", ad->name);
		return;
	}
	if (cs->cs_op != OP_DEL && (cs->cs_nvals < ad->min_values ||
	    (ad->max_values >= 0 && cs->cs_nvals > ad->max_values))) {
		if (cs->cs_nvals == 0)
			conf_error(cd, cs->cs_file, cs->cs_line,
			    "%s expects a value: %s", ad->name,
			    ad->values);
		else
			conf_error(cd, cs->cs_file, cs->cs_line,
			    "%s expects %s, found %d value%s", ad->name,
			    ad->values, cs->cs_nvals,
			    cs->cs_nvals == 1 ? "" : "s");
		return;
	}
	av->av_inherited = 0;
	if (!list) {
		if (av->av_set) {
			conf_warn(cd, cs->cs_file, cs->cs_line,
			    "%s is already set at %s:%d; the first value is "
			    "kept (as xinetd does)", ad->name, av->av_file,
			    av->av_line);
			return;
		}
		av_append(av, cs->cs_vals, cs->cs_nvals, cs->cs_file,
		    cs->cs_line);
		return;
	}
	/* In defaults, '=' adds to what earlier lines set (xinetd). */
	if (cs->cs_op == OP_SET && !in_defaults)
		av_clear(av);
	if (cs->cs_op == OP_DEL) {
		av_remove(av, cs->cs_vals, cs->cs_nvals);
		av->av_file = cs->cs_file;
		av->av_line = cs->cs_line;
		av->av_set = 1;
	} else
		av_append(av, cs->cs_vals, cs->cs_nvals, cs->cs_file,
		    cs->cs_line);
}

/* Apply every statement of the defaults entries to <defs>. */
void
config_merge_defaults(struct attr_val *defs, const struct conf_tree *tree,
    struct conf_diag *cd)
{
	const struct conf_entry	*ce;
	int			 i, j;

	for (i = 0; i < tree->ct_nentries; i++) {
		ce = &tree->ct_entries[i];
		if (ce->ce_kind != ENTRY_DEFAULTS)
			continue;
		for (j = 0; j < ce->ce_nstmts; j++)
			config_apply_stmt(defs, &ce->ce_stmts[j], 1, cd);
	}
}

/*
 * The default of a list that defaults leave unset, as words written at the
 * entry, so that += and -= in the service apply to it.
 */
static void
config_seed_default(struct attr_val *av, const struct attr_def *ad,
    const struct conf_entry *ce)
{
	char	buf[64], *words[ATTR_DEFAULT_MAX];
	int	n;

	if ((n = attr_default_words(ad, buf, sizeof(buf), words,
	    ATTR_DEFAULT_MAX)) > 0)
		av_append(av, words, n, ce->ce_file, ce->ce_line);
}

void
config_merge_service(struct attr_val *vals, struct attr_val *defs,
    const struct conf_entry *ce, struct conf_diag *cd)
{
	const struct attr_def	*ad;
	int			 i;

	/* Lists from defaults, or the table's, first, so that += adds. */
	for (i = 0; i < attr_count; i++) {
		ad = &attr_table[i];
		if (!(ad->flags & ATTR_LIST) || !(ad->scope & ATTR_SERVICE))
			continue;
		if (defs[i].av_set)
			av_copy(&vals[i], &defs[i]);
		else
			config_seed_default(&vals[i], ad, ce);
	}
	for (i = 0; i < ce->ce_nstmts; i++)
		config_apply_stmt(vals, &ce->ce_stmts[i], 0, cd);
	/* Scalars from defaults fill what the service leaves unset. */
	for (i = 0; i < attr_count; i++) {
		ad = &attr_table[i];
		if (!(ad->flags & ATTR_LIST) && defs[i].av_set &&
		    !vals[i].av_set && (ad->scope & ATTR_SERVICE))
			av_copy(&vals[i], &defs[i]);
	}
}

int
config_is_disabled(struct attr_val *vals, struct attr_val *defs,
    const char *name, struct conf_diag *cd)
{
	struct attr_val	*av = config_val(vals, "disable");
	struct attr_val	*en = config_val(defs, "enabled");
	struct attr_val	*dis = config_val(defs, "disabled");
	const char	*id = name;
	int		 off = 0, i;

	if (config_val(vals, "id")->av_set)
		id = config_val(vals, "id")->av_words[0];
	if (av->av_set && conf_value_bool(av->av_words[0], &off) == -1)
		conf_error(cd, av->av_file, av->av_line,
		    "disable: bad value '%s': expected yes or no",
		    av->av_words[0]);
	for (i = 0; i < dis->av_n; i++)
		if (strcmp(dis->av_words[i], id) == 0)
			off = 1;
	if (en->av_set) {
		for (i = 0; i < en->av_n; i++)
			if (strcmp(en->av_words[i], id) == 0)
				break;
		if (i == en->av_n)
			off = 1;
	}
	return off;
}

int
config_is_rpc(struct attr_val *vals)
{
	struct attr_val	*av = config_val(vals, "type");
	int		 i;

	for (i = 0; i < av->av_n; i++)
		if (strcasecmp(av->av_words[i], "RPC") == 0)
			return 1;
	return 0;
}
