/*
 * Values of attributes: yes/no, bounded integers and word lists.
 */
#ifndef PORTGATE_CONF_VALUE_H
#define PORTGATE_CONF_VALUE_H

/* A list of words as written (env, passenv, country codes, ...). */
struct wordlist {
	char	**wl_words;	/* NULL-terminated, or NULL when empty */
	int	  wl_n;
};

int	conf_value_bool(const char *, int *out);
int	conf_value_int(const char *, long long min, long long max,
	    long long *out);
void	wordlist_set(struct wordlist *, char **words, int n);
void	wordlist_clear(struct wordlist *);
int	wordlist_has(const struct wordlist *, const char *);

#endif
