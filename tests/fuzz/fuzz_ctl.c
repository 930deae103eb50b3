/*
 * libFuzzer target for the control socket's request lines: ctl_parse()
 * on any bytes up to the first NUL (what evbuffer_readln() hands over).
 *
 * Oracles, from the rule rather than the code: a line with a control
 * character other than tab (or DEL) is refused; otherwise the words are
 * the maximal runs of bytes other than space and tab, in order, none
 * empty, at most the maximum (else refused), and none when the line is
 * blank (refused).  Every refusal says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_parse.h"

#define MAXW	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*line, *copy, *argv[MAXW];
	const char	*why = NULL;
	size_t		 i, len, pos;
	int		 n, k, bad = 0, words = 0, inword = 0;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);
	if ((copy = strdup(line)) == NULL) {
		free(line);
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char	ch = (unsigned char)copy[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			bad = 1;
		if (ch == ' ' || ch == '\t')
			inword = 0;
		else if (!inword) {
			inword = 1;
			words++;
		}
	}
	n = ctl_parse(line, argv, MAXW, &why);
	if (bad || words == 0 || words > MAXW) {
		if (n != -1 || why == NULL)
			abort();
		goto out;
	}
	if (n != words)
		abort();
	/* Each word is the next run of non-blanks of the copy. */
	for (k = 0, pos = 0; k < n; k++) {
		while (copy[pos] == ' ' || copy[pos] == '\t')
			pos++;
		len = strlen(argv[k]);
		if (len == 0 || strncmp(copy + pos, argv[k], len) != 0 ||
		    (copy[pos + len] != '\0' && copy[pos + len] != ' ' &&
		    copy[pos + len] != '\t') || strpbrk(argv[k], " \t") != NULL)
			abort();
		pos += len;
	}
out:
	free(copy);
	free(line);
	return 0;
}
