/*
 * Suggestions for misspelt words of a configuration: the attribute of the
 * table nearest to an unknown name, for "did you mean" in its error.
 */
#ifndef PORTGATE_CONF_SUGGEST_H
#define PORTGATE_CONF_SUGGEST_H

/* Names longer than this get no suggestion. */
#define CONF_SUGGEST_MAXLEN	64

/*
 * The edit distance between <a> and <b>, ignoring case: insertions,
 * deletions, substitutions and transpositions of two neighbours (optimal
 * string alignment) each count 1.  Returns -1 when either is longer than
 * CONF_SUGGEST_MAXLEN.
 */
int	conf_suggest_distance(const char *a, const char *b);
/*
 * The attribute nearest to the unknown <name>, or NULL when none is close
 * enough: at most 1 edit for names of up to 4 characters, 2 up to 8, 3
 * beyond.  Of several at the same distance, the first of the table.
 */
const char *conf_suggest_attr(const char *name);
/*
 * " (did you mean 'NAME'?)" for <name>, or "" when there is no suggestion,
 * to append to a message.  The text lives until the next call.
 */
const char *conf_suggest_hint(const char *name);

#endif
