/*
 * The attribute table: one row per attribute of the configuration language,
 * with where it may appear, how many values it takes, whether += and -=
 * apply, and the function that checks and stores its value.
 */
#ifndef PORTGATE_CONF_ATTR_H
#define PORTGATE_CONF_ATTR_H

#include <stddef.h>

#include "conf_diag.h"
#include "config.h"

#define ATTR_SERVICE	0x01	/* allowed in a service entry */
#define ATTR_DEFAULTS	0x02	/* allowed in defaults */
#define ATTR_LIST	0x04	/* += and -= apply; repeats accumulate */
#define ATTR_NODEL	0x08	/* a list without -= */
#define ATTR_IGNORED	0x10	/* accepted with a warning, no effect */
#define ATTR_LATE	0x20	/* set after every other attribute */
#define ATTR_EXTENSION	0x40	/* not in xinetd */

/* The merged value of one attribute for one service. */
struct attr_val {
	char		**av_words;
	int		  av_n;
	const char	**av_files;	/* where each word was written */
	int		 *av_lines;
	const char	 *av_file;	/* the last statement that set it */
	int		  av_line;
	int		  av_set;
	int		  av_inherited;	/* copied from defaults, unchanged */
	int		  av_bad;	/* its setter failed (in defaults) */
};

struct attr_def;
typedef int	(*attr_set_fn)(const struct attr_def *, struct service_conf *,
		    const struct attr_val *, struct conf_diag *);

struct attr_def {
	const char	*ad_name;
	unsigned	 ad_flags;
	int		 ad_min;	/* fewest values */
	int		 ad_max;	/* most values, -1: any */
	attr_set_fn	 ad_set;
	size_t		 ad_off;	/* field, for the generic setters */
	long long	 ad_lo;		/* bounds, for the generic setters */
	long long	 ad_hi;
	const char	*ad_values;	/* the values, as in the man page */
};

extern const struct attr_def	attr_table[];
extern const int		attr_count;

/* The index of attribute <name> (case-insensitive), or -1. */
int	attr_lookup(const char *name);

#endif
