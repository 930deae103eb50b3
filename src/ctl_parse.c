/*
 * A request of the control socket as words (ctl.c): pure, for the fuzz
 * target.
 */
#include <string.h>

#include "ctl_parse.h"

int
ctl_parse(char *line, char **argv, int max, const char **why)
{
	char		*p, *w;
	int		 n = 0;

	for (p = line; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') ||
		    (unsigned char)*p == 0x7f) {
			*why = "a request is one line of printable text";
			return -1;
		}
	p = line;
	while ((w = strsep(&p, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		argv[n++] = w;
	}
	if (n == 0) {
		*why = "empty request";
		return -1;
	}
	return n;
}
