/*
 * The configuration parser.  It knows the structure of xinetd.conf (entry
 * headers, braces, attribute lines, include directives) but nothing of the
 * attributes themselves: conf_attr.c and config.c give them meaning.  Every
 * error is recorded and parsing goes on with the next line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_lex.h"
#include "conf_parse.h"
#include "xmalloc.h"

enum parse_state {
	PS_TOP,
	PS_BRACE,		/* after an entry header, before '{' */
	PS_BODY
};

struct parser {
	struct conf_lex		*p_lex;
	struct conf_diag	*p_diag;
	struct conf_tree	*p_tree;
	enum parse_state	 p_state;
	struct conf_entry	*p_entry;	/* the open entry */
};

const char *
conf_op_name(enum conf_op op)
{
	switch (op) {
	case OP_SET:
		return "=";
	case OP_ADD:
		return "+=";
	case OP_DEL:
		return "-=";
	}
	return "?";
}

/* Start a new entry at the end of the tree and make it the open one. */
static void
parser_open_entry(struct parser *p, enum conf_entry_kind kind,
    const char *name, const struct conf_line *cl)
{
	struct conf_tree	*t = p->p_tree;
	struct conf_entry	*ce;

	t->ct_entries = xreallocarray(t->ct_entries, t->ct_nentries + 1,
	    sizeof(*t->ct_entries));
	ce = &t->ct_entries[t->ct_nentries++];
	memset(ce, 0, sizeof(*ce));
	ce->ce_kind = kind;
	ce->ce_name = name != NULL ? xstrdup(name) : NULL;
	ce->ce_file = cl->cl_file;
	ce->ce_line = cl->cl_line;
	p->p_entry = ce;
	p->p_state = PS_BRACE;
}

/* Name of the open entry for messages. */
static const char *
parser_entry_desc(const struct conf_entry *ce)
{
	return ce->ce_kind == ENTRY_DEFAULTS ? "defaults" : ce->ce_name;
}

/* Report an entry left open at <file>:<line> and close it. */
static void
parser_unterminated(struct parser *p, const char *file, int line)
{
	conf_error(p->p_diag, file, line,
	    "missing '}' for %s%s opened at %s:%d",
	    p->p_entry->ce_kind == ENTRY_SERVICE ? "service " : "",
	    parser_entry_desc(p->p_entry), p->p_entry->ce_file,
	    p->p_entry->ce_line);
	p->p_entry = NULL;
	p->p_state = PS_TOP;
}

/* A top-level line: entry header, include, includedir. */
static void
parser_top(struct parser *p, const struct conf_line *cl)
{
	char	**w = cl->cl_words;
	int	  n = cl->cl_nwords;

	if (strcasecmp(w[0], "defaults") == 0 ||
	    strcasecmp(w[0], "service") == 0) {
		int svc = strcasecmp(w[0], "service") == 0;
		int name = svc ? 1 : 0;

		if (svc && n < 2) {
			conf_error(p->p_diag, cl->cl_file, cl->cl_line,
			    "expected a service name after 'service'");
			return;
		}
		parser_open_entry(p, svc ? ENTRY_SERVICE : ENTRY_DEFAULTS,
		    svc ? w[1] : NULL, cl);
		if (n > name + 1 && strcmp(w[name + 1], "{") == 0) {
			conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
			    "'{' should be on its own line (xinetd drops "
			    "this entry)");
			p->p_state = PS_BODY;
			name++;
		}
		if (n > name + 1)
			conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
			    "ignoring '%s' after the entry name", w[name + 1]);
		return;
	}
	if (strcasecmp(w[0], "include") == 0 ||
	    strcasecmp(w[0], "includedir") == 0) {
		if (n != 2) {
			conf_error(p->p_diag, cl->cl_file, cl->cl_line,
			    "%s expects one path", w[0]);
			return;
		}
		if (strcasecmp(w[0], "include") == 0)
			(void)conf_lex_include(p->p_lex, w[1], cl->cl_file,
			    cl->cl_line);
		else
			(void)conf_lex_includedir(p->p_lex, w[1], cl->cl_file,
			    cl->cl_line);
		return;
	}
	if (strcmp(w[0], "}") == 0 && n == 1) {
		conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
		    "stray '}' ignored (xinetd rejects the file)");
		return;
	}
	conf_error(p->p_diag, cl->cl_file, cl->cl_line,
	    "expected 'service', 'defaults', 'include' or 'includedir', "
	    "found '%s'", w[0]);
}

/* Split "name=value", "name+=", "=value" forms; returns op length or 0. */
static size_t
parser_find_op(const char *s, enum conf_op *op)
{
	const char	*eq;

	if ((eq = strchr(s, '=')) == NULL)
		return 0;
	if (eq > s && (eq[-1] == '+' || eq[-1] == '-')) {
		*op = eq[-1] == '+' ? OP_ADD : OP_DEL;
		return eq - s - 1;
	}
	*op = OP_SET;
	return eq - s;
}

/* Append value words to a statement. */
static void
parser_add_vals(struct conf_stmt *cs, char *const *w, int n)
{
	int	i;

	cs->cs_vals = xreallocarray(cs->cs_vals, cs->cs_nvals + n + 1,
	    sizeof(char *));
	for (i = 0; i < n; i++)
		if (w[i][0] != '\0')
			cs->cs_vals[cs->cs_nvals++] = xstrdup(w[i]);
	cs->cs_vals[cs->cs_nvals] = NULL;
}

/* Parse "name OP values" into <cs>; 0 or -1 on error (recorded). */
static int
parser_stmt(struct parser *p, const struct conf_line *cl, struct conf_stmt *cs)
{
	char	**w = cl->cl_words;
	size_t	  pos, oplen;
	char	 *after;
	int	  i;

	memset(cs, 0, sizeof(*cs));
	cs->cs_file = cl->cl_file;
	cs->cs_line = cl->cl_line;
	pos = parser_find_op(w[0], &cs->cs_op);
	if (pos > 0) {
		/* "port=1" or "port+=": xinetd drops the whole entry. */
		conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
		    "no space between '%.*s' and its operator (xinetd drops "
		    "this entry)", (int)pos, w[0]);
		cs->cs_name = xstrndup(w[0], pos);
		oplen = cs->cs_op == OP_SET ? 1 : 2;
		after = w[0] + pos + oplen;
		parser_add_vals(cs, &after, 1);
		parser_add_vals(cs, w + 1, cl->cl_nwords - 1);
	} else if (strchr(w[0], '=') != NULL) {
		conf_error(p->p_diag, cl->cl_file, cl->cl_line,
		    "expected an attribute name before '%s'", w[0]);
		return -1;
	} else {
		if (cl->cl_nwords < 2 ||
		    (pos = parser_find_op(w[1], &cs->cs_op)) != 0 ||
		    strchr(w[1], '=') == NULL) {
			conf_error(p->p_diag, cl->cl_file, cl->cl_line,
			    "expected '=', '+=' or '-=' after '%s'", w[0]);
			return -1;
		}
		cs->cs_name = xstrdup(w[0]);
		oplen = cs->cs_op == OP_SET ? 1 : 2;
		after = w[1] + oplen;
		parser_add_vals(cs, &after, 1);
		parser_add_vals(cs, w + 2, cl->cl_nwords - 2);
	}
	for (i = 0; i < cs->cs_nvals; i++) {
		if (cs->cs_vals[i][0] == '#') {
			conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
			    "'#' after a value is not a comment: '%s' is read "
			    "as part of the value of %s", cs->cs_vals[i],
			    cs->cs_name);
			break;
		}
	}
	return 0;
}

/* A line inside an entry: '}' or an attribute statement. */
static void
parser_body(struct parser *p, const struct conf_line *cl)
{
	struct conf_entry	*ce = p->p_entry;
	struct conf_stmt	 cs;

	if (strcmp(cl->cl_words[0], "}") == 0) {
		if (cl->cl_nwords > 1)
			conf_warn(p->p_diag, cl->cl_file, cl->cl_line,
			    "ignoring '%s' after '}'", cl->cl_words[1]);
		p->p_entry = NULL;
		p->p_state = PS_TOP;
		return;
	}
	if (strcasecmp(cl->cl_words[0], "service") == 0 ||
	    strcasecmp(cl->cl_words[0], "defaults") == 0 ||
	    strcasecmp(cl->cl_words[0], "include") == 0 ||
	    strcasecmp(cl->cl_words[0], "includedir") == 0) {
		parser_unterminated(p, cl->cl_file, cl->cl_line);
		parser_top(p, cl);
		return;
	}
	if (parser_stmt(p, cl, &cs) == -1)
		return;
	ce->ce_stmts = xreallocarray(ce->ce_stmts, ce->ce_nstmts + 1,
	    sizeof(*ce->ce_stmts));
	ce->ce_stmts[ce->ce_nstmts++] = cs;
}

/* One line, whatever the state. */
static void
parser_line(struct parser *p, const struct conf_line *cl)
{
	switch (p->p_state) {
	case PS_TOP:
		parser_top(p, cl);
		break;
	case PS_BRACE:
		if (strcmp(cl->cl_words[0], "{") == 0) {
			p->p_state = PS_BODY;
			if (cl->cl_nwords > 1)
				conf_error(p->p_diag, cl->cl_file, cl->cl_line,
				    "expected nothing after '{'");
			break;
		}
		conf_error(p->p_diag, cl->cl_file, cl->cl_line,
		    "expected '{' on the line after %s%s",
		    p->p_entry->ce_kind == ENTRY_SERVICE ? "service " : "",
		    parser_entry_desc(p->p_entry));
		p->p_state = PS_BODY;
		parser_body(p, cl);
		break;
	case PS_BODY:
		parser_body(p, cl);
		break;
	}
}

void
conf_parse(const char *path, struct conf_tree *tree, struct conf_diag *cd)
{
	struct parser		p;
	struct conf_line	cl;
	enum conf_lex_result	r;

	memset(tree, 0, sizeof(*tree));
	memset(&p, 0, sizeof(p));
	p.p_diag = cd;
	p.p_tree = tree;
	p.p_lex = conf_lex_new(cd);
	p.p_state = PS_TOP;
	if (conf_lex_include(p.p_lex, path, NULL, 0) == 0) {
		while ((r = conf_lex_next(p.p_lex, &cl)) != LEX_EOF) {
			if (r == LEX_ENDFILE) {
				/* An entry may not span files. */
				if (p.p_entry != NULL &&
				    p.p_entry->ce_file == cl.cl_file)
					parser_unterminated(&p, cl.cl_file,
					    cl.cl_line);
				continue;
			}
			parser_line(&p, &cl);
			conf_line_clear(&cl);
		}
	}
	tree->ct_files = conf_lex_take_files(p.p_lex);
	/* The lexer names the files as it opens them: the order read. */
	conf_diag_files(cd, (const char *const *)tree->ct_files);
	conf_lex_free(p.p_lex);
}

/* Free one statement's strings. */
static void
conf_stmt_clear(struct conf_stmt *cs)
{
	int	i;

	for (i = 0; i < cs->cs_nvals; i++)
		free(cs->cs_vals[i]);
	free(cs->cs_vals);
	free(cs->cs_name);
}

void
conf_tree_free(struct conf_tree *t)
{
	int	i, j;

	for (i = 0; i < t->ct_nentries; i++) {
		for (j = 0; j < t->ct_entries[i].ce_nstmts; j++)
			conf_stmt_clear(&t->ct_entries[i].ce_stmts[j]);
		free(t->ct_entries[i].ce_stmts);
		free(t->ct_entries[i].ce_name);
	}
	free(t->ct_entries);
	if (t->ct_files != NULL)
		for (i = 0; t->ct_files[i] != NULL; i++)
			free(t->ct_files[i]);
	free(t->ct_files);
	memset(t, 0, sizeof(*t));
}
