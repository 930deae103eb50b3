/*
 * The configuration parser: lines of words into entries (defaults, service)
 * holding attribute statements, with include and includedir followed.
 */
#ifndef PORTGATE_CONF_PARSE_H
#define PORTGATE_CONF_PARSE_H

#include "conf_diag.h"

enum conf_op {
	OP_SET,			/* = */
	OP_ADD,			/* += */
	OP_DEL			/* -= */
};

/* One "attribute OP values..." line. */
struct conf_stmt {
	const char	 *cs_file;
	int		  cs_line;
	char		 *cs_name;
	enum conf_op	  cs_op;
	char		**cs_vals;	/* NULL-terminated */
	int		  cs_nvals;
};

enum conf_entry_kind {
	ENTRY_DEFAULTS,
	ENTRY_SERVICE
};

struct conf_entry {
	enum conf_entry_kind	 ce_kind;
	char			*ce_name;	/* NULL for defaults */
	const char		*ce_file;
	int			 ce_line;
	struct conf_stmt	*ce_stmts;
	int			 ce_nstmts;
};

struct conf_tree {
	struct conf_entry	 *ct_entries;
	int			  ct_nentries;
	char			**ct_files;	/* names statements point into */
};

/*
 * Parse <path> and everything it includes into <tree>.  Every problem is
 * recorded in <cd>; the tree holds what could be read.  Free the tree with
 * conf_tree_free() in any case.
 */
void	conf_parse(const char *path, struct conf_tree *tree,
	    struct conf_diag *cd);
void	conf_tree_free(struct conf_tree *);
const char *conf_op_name(enum conf_op);

#endif
