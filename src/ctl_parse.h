/*
 * The control socket's requests (ctl_parse.c): one line, words separated
 * by spaces or tabs.
 */
#ifndef PORTGATE_CTL_PARSE_H
#define PORTGATE_CTL_PARSE_H

/*
 * Split the NUL-terminated <line> in place into at most <max> words in
 * <argv>.  Returns their number (at least 1), or -1 with the reason in
 * *<why>: a control character, no word, more than <max>.
 */
int	ctl_parse(char *line, char **argv, int max, const char **why);

#endif
