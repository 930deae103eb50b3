/*
 * The pure half of the tcpmux built-in (RFC 1078): reading a client's
 * line and making the HELP reply.  No I/O, no state: tcpmux.c does the
 * waiting, the caps and the answers.
 */
#include <sys/types.h>

#include <string.h>
#include <strings.h>

#include "tcpmux.h"

/* Can <c> be in a service name?  Printable ASCII but space. */
static int
tcpmux_namechar(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

enum tcpmux_line
tcpmux_parse(const char *buf, size_t len, char name[TCPMUX_NAME_MAX + 1],
    size_t *used)
{
	const char	*lf;
	size_t		 n, i;

	if ((lf = memchr(buf, '\n', len)) == NULL)
		return len > TCPMUX_NAME_MAX + 1 ? TCPMUX_TOOLONG : TCPMUX_MORE;
	*used = (size_t)(lf - buf) + 1;
	n = (size_t)(lf - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return TCPMUX_EMPTY;
	if (n > TCPMUX_NAME_MAX)
		return TCPMUX_TOOLONG;
	for (i = 0; i < n; i++)
		if (!tcpmux_namechar((unsigned char)buf[i]))
			return TCPMUX_BAD;
	if (n == 4 && strncasecmp(buf, "HELP", 4) == 0)
		return TCPMUX_HELP;
	memcpy(name, buf, n);
	name[n] = '\0';
	return TCPMUX_NAME;
}

size_t
tcpmux_help_text(char *buf, size_t cap, const char *const *names, size_t n)
{
	size_t	i, len = 0, l;

	for (i = 0; i < n; i++) {
		l = strlen(names[i]);
		if (l > cap - len || cap - len - l < 2)
			continue;
		memcpy(buf + len, names[i], l);
		memcpy(buf + len + l, "\r\n", 2);
		len += l + 2;
	}
	return len;
}
