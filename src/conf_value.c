/*
 * Values of attributes: yes/no, bounded integers and word lists, shared by
 * the attribute setters (conf_attr_*.c), the loader (config*.c) and the
 * gate.
 * Pure parsing; nothing here knows the attribute table.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_value.h"
#include "xmalloc.h"

/* "yes" or "no", any case, into *<out>: 0, or -1 for another word. */
int
conf_value_bool(const char *w, int *out)
{
	if (strcasecmp(w, "yes") == 0)
		*out = 1;
	else if (strcasecmp(w, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A decimal integer in [<min>, <max>] into *<out>: 0, or -1. */
int
conf_value_int(const char *w, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (w[0] == '\0')
		return -1;
	errno = 0;
	v = strtoll(w, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Replace <wl> with copies of the <n> <words>. */
void
wordlist_set(struct wordlist *wl, char **words, int n)
{
	int	i;

	wordlist_clear(wl);
	wl->wl_words = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		wl->wl_words[i] = xstrdup(words[i]);
	wl->wl_n = n;
}

/* Free the words of <wl> and make it empty. */
void
wordlist_clear(struct wordlist *wl)
{
	int	i;

	for (i = 0; i < wl->wl_n; i++)
		free(wl->wl_words[i]);
	free(wl->wl_words);
	wl->wl_words = NULL;
	wl->wl_n = 0;
}

/* Whether <w> is one of the words of <wl> (case matters). */
int
wordlist_has(const struct wordlist *wl, const char *w)
{
	int	i;

	for (i = 0; i < wl->wl_n; i++)
		if (strcmp(wl->wl_words[i], w) == 0)
			return 1;
	return 0;
}
