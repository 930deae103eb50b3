/*
 * "Did you mean": the nearest attribute name by edit distance.  An admin
 * who types "only_form" or "log_on_sucess" is told the name portgate
 * knows, instead of only that the word is unknown.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conf_attr.h"
#include "conf_suggest.h"

/* Words may differ by this much in length and still be compared. */
#define SUGGEST_MAXEDITS	3

int
conf_suggest_distance(const char *a, const char *b)
{
	int	rows[3][CONF_SUGGEST_MAXLEN + 1];
	int	*pp, *prev, *cur, *tmp;
	size_t	la = strlen(a), lb = strlen(b), i, j;
	int	cost, d;

	if (la > CONF_SUGGEST_MAXLEN || lb > CONF_SUGGEST_MAXLEN)
		return -1;
	pp = rows[0];
	prev = rows[1];
	cur = rows[2];
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			d = prev[j - 1] + cost;
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			/* "fmor" for "from": two neighbours swapped. */
			if (i > 1 && j > 1 && cost &&
			    tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		tmp = pp;
		pp = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb];
}

const char *
conf_suggest_attr(const char *name)
{
	const char	*best = NULL;
	size_t		 len = strlen(name);
	int		 i, d, limit, bestd;

	if (len == 0)
		return NULL;
	limit = len <= 4 ? 1 : len <= 8 ? 2 : SUGGEST_MAXEDITS;
	bestd = limit + 1;
	for (i = 0; i < attr_count; i++) {
		d = conf_suggest_distance(name, attr_table[i].name);
		if (d >= 0 && d < bestd) {
			bestd = d;
			best = attr_table[i].name;
		}
	}
	return best;
}

const char *
conf_suggest_hint(const char *name)
{
	static char	 hint[CONF_SUGGEST_MAXLEN + 32];
	const char	*best;

	if ((best = conf_suggest_attr(name)) == NULL)
		return "";
	(void)snprintf(hint, sizeof(hint), " (did you mean '%s'?)", best);
	return hint;
}
