/*
 * The setters that a row of the attribute table parametrises: a string, a
 * path, a readable file, words, yes/no, an integer within the row's
 * bounds, a limit, a keyword mask; and the message of a bad value that
 * every setter shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_attr_int.h"
#include "xmalloc.h"

/* Record a bad value of <ad> at the line of word <i> (-1: the statement). */
int
attr_bad(const struct attr_def *ad, const struct attr_val *av, int i,
    struct conf_diag *cd, const char *expected)
{
	const char	*file = av->av_file;
	int		 line = av->av_line;

	if (i >= 0 && i < av->av_n) {
		file = av->av_files[i];
		line = av->av_lines[i];
		conf_error(cd, file, line, "%s: bad value '%s': expected %s",
		    ad->name, av->av_words[i], expected);
	} else
		conf_error(cd, file, line, "%s: expected %s", ad->name,
		    expected);
	return -1;
}

/* Match word <w> against a NULL-terminated name table; index or -1. */
int
attr_keyword(const char *w, const char *const *names)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcasecmp(w, names[i]) == 0)
			return i;
	return -1;
}

/* A string, copied. */
int
attr_set_string(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	**field = ATTR_FIELD(sc, ad->offset, char *);

	(void)cd;
	free(*field);
	*field = xstrdup(av->av_words[0]);
	return 0;
}

/* An absolute path. */
int
attr_set_path(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (av->av_words[0][0] != '/')
		return attr_bad(ad, av, 0, cd, "an absolute path");
	return attr_set_string(ad, sc, av, cd);
}

/* Words kept as a list. */
int
attr_set_words(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)cd;
	wordlist_set(ATTR_FIELD(sc, ad->offset, struct wordlist), av->av_words,
	    av->av_n);
	return 0;
}

/* A readable file (banner, certificate, database), checked now. */
int
attr_set_file(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < av->av_n; i++) {
		if (access(av->av_words[i], R_OK) == -1) {
			conf_error(cd, av->av_files[i], av->av_lines[i],
			    "%s: cannot read %s on this machine: %s",
			    ad->name, av->av_words[i], strerror(errno));
			return -1;
		}
	}
	if (ad->flags & ATTR_LIST)
		return attr_set_words(ad, sc, av, cd);
	return attr_set_string(ad, sc, av, cd);
}

/* yes or no. */
int
attr_set_bool(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (conf_value_bool(av->av_words[0],
	    ATTR_FIELD(sc, ad->offset, int)) == -1)
		return attr_bad(ad, av, 0, cd, "yes or no");
	return 0;
}

/* An integer within the row's bounds. */
int
attr_set_int(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;
	char		expected[96];

	if (conf_value_int(av->av_words[0], ad->minimum, ad->maximum,
	    &v) == -1) {
		(void)snprintf(expected, sizeof(expected),
		    "an integer from %lld to %lld", ad->minimum, ad->maximum);
		return attr_bad(ad, av, 0, cd, expected);
	}
	*ATTR_FIELD(sc, ad->offset, int) = (int)v;
	return 0;
}

/* An integer or UNLIMITED (instances, per_source). */
int
attr_set_limit(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	if (strcasecmp(av->av_words[0], "UNLIMITED") == 0)
		v = LIMIT_UNLIMITED;
	else if (conf_value_int(av->av_words[0], ad->minimum, ad->maximum,
	    &v) == -1)
		return attr_bad(ad, av, 0, cd,
		    "an integer from 0 to 2147483647 or UNLIMITED");
	*ATTR_FIELD(sc, ad->offset, int) = (int)v;
	return 0;
}

/* Accepted for compatibility, with no effect. */
int
attr_set_ignored(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)sc;
	conf_warn(cd, av->av_file, av->av_line,
	    "%s is accepted for compatibility and ignored", ad->name);
	return 0;
}

/* Validated by config.c before the setters run (disable, enabled...). */
int
attr_set_none(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)ad;
	(void)sc;
	(void)av;
	(void)cd;
	return 0;
}

/* A set of keywords into a bit mask (type, flags). */
int
attr_set_mask(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char *const	*names = ad->keywords;
	unsigned		*mask = ATTR_FIELD(sc, ad->offset, unsigned);
	char			 expected[256];
	int			 i, k, rv = 0;

	*mask = 0;
	(void)strlcpy(expected, "one or more of", sizeof(expected));
	for (k = 0; names[k] != NULL; k++) {
		(void)strlcat(expected, " ", sizeof(expected));
		(void)strlcat(expected, names[k], sizeof(expected));
	}
	for (i = 0; i < av->av_n; i++) {
		if ((k = attr_keyword(av->av_words[i], names)) == -1)
			rv = attr_bad(ad, av, i, cd, expected);
		else
			*mask |= 1u << k;
	}
	return rv;
}
