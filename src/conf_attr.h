/*
 * The attribute table: one row per attribute of the configuration language,
 * and the one place an attribute is described: where it may appear, how
 * many values it takes, whether += and -= apply, the function that checks
 * and stores its value, its default, what it must be set after, and the
 * line of portgate.conf(5) that says what it is.
 */
#ifndef PORTGATE_CONF_ATTR_H
#define PORTGATE_CONF_ATTR_H

#include <stddef.h>

#include "conf_diag.h"
#include "config.h"

/* attr_def.scope */
#define ATTR_SERVICE	0x01	/* allowed in a service entry */
#define ATTR_DEFAULTS	0x02	/* allowed in defaults */
#define ATTR_BOTH	(ATTR_SERVICE | ATTR_DEFAULTS)

/* attr_def.flags */
#define ATTR_LIST	0x01	/* += and -= apply; repeats accumulate */
#define ATTR_NODEL	0x02	/* a list without -= */
#define ATTR_IGNORED	0x04	/* accepted with a warning, no effect */
#define ATTR_EXTENSION	0x08	/* not in xinetd */

/* The merged value of one attribute for one service. */
struct attr_val {
	char		**av_words;
	int		  av_n;
	const char	**av_files;	/* where each word was written */
	int		 *av_lines;
	const char	 *av_file;	/* the last statement that set it */
	int		  av_line;
	int		  av_set;	/* written, inherited, a default */
	int		  av_inherited;	/* from defaults, unchanged */
	int		  av_bad;	/* its setter failed (defaults) */
};

struct attr_def;
typedef int	(*attr_set_fn)(const struct attr_def *,
		    struct service_conf *, const struct attr_val *,
		    struct conf_diag *);

struct attr_def {
	const char		*name;
	const char		*alias;		/* another name */
	unsigned		 scope;		/* ATTR_SERVICE, ... */
	unsigned		 flags;		/* ATTR_LIST, ... */
	int			 min_values;
	int			 max_values;	/* -1: any */
	attr_set_fn		 set;
	size_t			 offset;	/* the setter's field */
	long long		 minimum;	/* bounds of an integer */
	long long		 maximum;
	const char *const	*keywords;	/* bits of a mask */
	enum conf_rlimit	 rlimit;	/* which rlimit_* */
	int			 size_suffix;	/* K and M apply */
	const char		*after;		/* set after it */
	/*
	 * The value when neither the service nor defaults set it, as it
	 * would be written: a list starts from it (so += and -= apply),
	 * a scalar is stored by the setter into every new service.
	 */
	const char		*default_text;
	int			 unset;		/* int field, unset */
	const char		*values;	/* for messages */
	const char		*summary;	/* from the man page */
};

extern const struct attr_def	attr_table[];
extern const int		attr_count;

/* The index of attribute <name> or its alias (case-insensitive), or -1. */
int	attr_lookup(const char *name);

/*
 * Fill <order> with the <n> indexes of <table> so that each row comes
 * after the row its .after names; rows without a dependency keep their
 * place.  A name that is not in <table>, or a cycle, is ignored (the unit
 * tests check that the real table has neither).
 */
void	attr_order(const struct attr_def *table, int n, int *order);

/* The order in which to run the setters of attr_table (attr_order). */
const int	*attr_setter_order(void);

#define ATTR_DEFAULT_MAX	8	/* words of a default_text */

/*
 * Split the default_text of <ad> into at most <max> words in <buf>;
 * returns the number of words (0 without a default, or if it does not
 * fit in <buf>).
 */
int	attr_default_words(const struct attr_def *ad, char *buf, size_t len,
	    char **words, int max);

/*
 * Give a fresh service the value of every attribute while unset: the
 * .unset of int fields, then the default_text of every scalar row through
 * its setter.  A default refused is an error in <cd> at <file>:<line>, a
 * bug of the table that the unit tests rule out.  The setters of these
 * defaults allocate nothing.
 */
void	attr_init_service(struct service_conf *sc, const char *file,
	    int line, struct conf_diag *cd);

#endif
