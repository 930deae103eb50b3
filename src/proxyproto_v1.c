/*
 * The PROXY protocol, version 1: one text line ("PROXY TCP4 src dst sport
 * dport\r\n", or "PROXY UNKNOWN ...\r\n"), decoded incrementally and
 * strictly (haproxy doc/proxy-protocol.txt section 2.1), and encoded.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"
#include "proxyproto_int.h"

#define PP_V1_ADDRMAX	45	/* INET6_ADDRSTRLEN - 1 */
#define PP_V1_PORTMAX	5
#define PP_V1_WORDMAX	7	/* "UNKNOWN" */
#define PP_V1_ADDRCHARS	"0123456789abcdefABCDEF:."

/* A version 1 line being parsed: the bytes left, and whether CRLF ends them. */
struct pp_cursor {
	const uint8_t	*pc_p;
	const uint8_t	*pc_end;
	int		 pc_complete;	/* pc_end is just past the CRLF */
};

/* Match the literal <s>: PP_OK, PP_MORE (the input ran out) or PP_BAD. */
static int
pp_v1_literal(struct pp_cursor *c, const char *s)
{
	for (; *s != '\0'; s++, c->pc_p++) {
		if (c->pc_p == c->pc_end)
			return (PP_MORE);
		if (*c->pc_p != (uint8_t)*s)
			return (PP_BAD);
	}
	return (PP_OK);
}

/* Expect the separator <sep> after the field <what>. */
static int
pp_v1_expect(struct pp_cursor *c, const char *sep, const char *what,
    char *err, size_t errlen)
{
	int	r;

	if ((r = pp_v1_literal(c, sep)) == PP_BAD)
		return (proxyproto_fail(err, errlen, "PROXY v1: expected %s after "
		    "the %s", sep[0] == ' ' ? "a single space" : "CRLF", what));
	return (r);
}

/*
 * Copy the bytes up to the next space or CR into <tok> (at most <max>,
 * NUL-terminated), leaving the delimiter: PP_OK, PP_MORE when the input
 * ends first (<tok> then holds the partial field), or PP_BAD for an empty
 * field, a byte outside <chars> or a field longer than <max>.
 */
static int
pp_v1_token(struct pp_cursor *c, const char *chars, size_t max,
    const char *what, char *tok, char *err, size_t errlen)
{
	size_t	n = 0;
	uint8_t	ch;

	for (;; c->pc_p++) {
		tok[n] = '\0';
		if (c->pc_p == c->pc_end)
			return (PP_MORE);
		ch = *c->pc_p;
		if (ch == ' ' || ch == '\r')
			break;
		if (ch == '\0' || strchr(chars, ch) == NULL)
			return (proxyproto_fail(err, errlen, "PROXY v1: bad character "
			    "0x%02x in the %s", ch, what));
		if (n == max)
			return (proxyproto_fail(err, errlen, "PROXY v1: %s "
			    "\"%s...\" is too long", what, tok));
		tok[n++] = (char)ch;
	}
	if (n == 0)
		return (proxyproto_fail(err, errlen, "PROXY v1: missing %s", what));
	return (PP_OK);
}

/*
 * Parse dotted-quad <s> into <out>: four decimal numbers 0-255 without
 * leading zeros.  With <partial>, accept any prefix of such an address.
 * Returns PP_OK or PP_BAD.
 */
static int
pp_v1_ipv4(const char *s, int partial, uint8_t out[4])
{
	unsigned int	v = 0;
	int		octet = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			if (digits == 1 && v == 0)
				return (PP_BAD);
			v = v * 10 + (unsigned int)(*s - '0');
			if (v > 255)
				return (PP_BAD);
			digits++;
		} else if (*s == '.') {
			if (digits == 0 || octet == 3)
				return (PP_BAD);
			out[octet++] = (uint8_t)v;
			v = 0;
			digits = 0;
		} else if (*s == '\0') {
			if (partial)
				return (PP_OK);
			if (digits == 0 || octet != 3)
				return (PP_BAD);
			out[3] = (uint8_t)v;
			return (PP_OK);
		} else
			return (PP_BAD);
	}
}

/*
 * Parse IPv6 text <s> into <out>: colon-separated groups of one to four
 * hex digits, at most one "::", and optionally a dotted-quad tail as
 * inet_ntop(3) writes for IPv4-mapped addresses; 128 bits in all.  With
 * <partial>, only reject what no continuation can mend.
 */
static int
pp_v1_ipv6(const char *s, int partial, uint8_t out[16])
{
	const char	*p, *tail;
	uint8_t		 quad[4];
	int		 hex = 0;

	if (strstr(s, ":::") != NULL ||
	    ((p = strstr(s, "::")) != NULL && strstr(p + 1, "::") != NULL))
		return (PP_BAD);
	for (p = s; *p != '\0'; p++) {
		if (*p == ':' || *p == '.')
			hex = 0;
		else if (++hex > 4)
			return (PP_BAD);
	}
	if ((tail = strrchr(s, ':')) != NULL && strchr(tail, '.') != NULL &&
	    pp_v1_ipv4(tail + 1, partial, quad) == PP_BAD)
		return (PP_BAD);
	if (partial)
		return (PP_OK);
	return (inet_pton(AF_INET6, s, out) == 1 ? PP_OK : PP_BAD);
}

/* The address field <what> of a TCP4 or TCP6 line into <out>. */
static int
pp_v1_addr(struct pp_cursor *c, int family, const char *what, uint8_t *out,
    char *err, size_t errlen)
{
	char	tok[PP_V1_ADDRMAX + 1];
	int	r, partial;

	r = pp_v1_token(c, PP_V1_ADDRCHARS, PP_V1_ADDRMAX, what, tok, err,
	    errlen);
	if (r == PP_BAD)
		return (r);
	partial = r == PP_MORE;
	if (family == AF_INET && strchr(tok, ':') != NULL)
		return (proxyproto_fail(err, errlen, "PROXY v1: address family "
		    "mismatch: IPv6 %s \"%s\" in a TCP4 header", what, tok));
	if (family == AF_INET6 && strchr(tok, ':') == NULL &&
	    strchr(tok, '.') != NULL)
		return (proxyproto_fail(err, errlen, "PROXY v1: address family "
		    "mismatch: IPv4 %s \"%s\" in a TCP6 header", what, tok));
	if (family == AF_INET)
		r = pp_v1_ipv4(tok, partial, out);
	else
		r = pp_v1_ipv6(tok, partial, out);
	if (r == PP_BAD)
		return (proxyproto_fail(err, errlen, "PROXY v1: bad %s \"%s\"", what,
		    tok));
	return (partial ? PP_MORE : PP_OK);
}

/* The port field <what>: decimal 0-65535 without leading zeros. */
static int
pp_v1_port(struct pp_cursor *c, const char *what, uint16_t *port,
    char *err, size_t errlen)
{
	char		 tok[PP_V1_PORTMAX + 1];
	const char	*p;
	unsigned long	 v = 0;
	int		 r;

	r = pp_v1_token(c, "0123456789", PP_V1_PORTMAX, what, tok, err,
	    errlen);
	if (r == PP_BAD)
		return (r);
	if (tok[0] == '0' && tok[1] != '\0')
		return (proxyproto_fail(err, errlen, "PROXY v1: %s \"%s\" has a "
		    "leading zero", what, tok));
	for (p = tok; *p != '\0'; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v > 65535)
		return (proxyproto_fail(err, errlen, "PROXY v1: %s \"%s\" is out of "
		    "range", what, tok));
	*port = (uint16_t)v;
	return (r);
}

/* The rest of a TCP4 or TCP6 line, after the protocol word. */
static int
pp_v1_tcp(struct pp_cursor *c, int family, struct proxy_hdr *h, char *err,
    size_t errlen)
{
	uint8_t		src[16], dst[16];
	uint16_t	sport, dport;
	int		r;

	if ((r = pp_v1_expect(c, " ", "protocol", err, errlen)) != PP_OK ||
	    (r = pp_v1_addr(c, family, "source address", src, err,
	    errlen)) != PP_OK ||
	    (r = pp_v1_expect(c, " ", "source address", err, errlen)) !=
	    PP_OK ||
	    (r = pp_v1_addr(c, family, "destination address", dst, err,
	    errlen)) != PP_OK ||
	    (r = pp_v1_expect(c, " ", "destination address", err, errlen)) !=
	    PP_OK ||
	    (r = pp_v1_port(c, "source port", &sport, err, errlen)) != PP_OK ||
	    (r = pp_v1_expect(c, " ", "source port", err, errlen)) != PP_OK ||
	    (r = pp_v1_port(c, "destination port", &dport, err, errlen)) !=
	    PP_OK ||
	    (r = pp_v1_expect(c, "\r\n", "destination port", err, errlen)) !=
	    PP_OK)
		return (r);
	proxyproto_sockaddr(&h->ph_src, &h->ph_srclen, family, src, sport);
	proxyproto_sockaddr(&h->ph_dst, &h->ph_dstlen, family, dst, dport);
	return (PP_OK);
}

/*
 * Parse a version 1 line at the cursor.  After "UNKNOWN" the receiver
 * must ignore anything up to the CRLF.
 */
static int
pp_v1_parse(struct pp_cursor *c, struct proxy_hdr *h, char *err,
    size_t errlen)
{
	static const char *const words[] = { "TCP4", "TCP6", "UNKNOWN" };
	char	word[PP_V1_WORDMAX + 1];
	size_t	i;
	int	r;

	if ((r = pp_v1_literal(c, "PROXY ")) != PP_OK)
		return (r == PP_MORE ? r : proxyproto_fail(err, errlen,
		    "not a PROXY protocol header"));
	r = pp_v1_token(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	    PP_V1_WORDMAX, "protocol", word, err, errlen);
	if (r == PP_BAD)
		return (r);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (r == PP_MORE &&
		    strncmp(word, words[i], strlen(word)) == 0)
			return (PP_MORE);
		if (r == PP_OK && strcmp(word, words[i]) == 0)
			break;
	}
	if (i == sizeof(words) / sizeof(words[0]))
		return (proxyproto_fail(err, errlen, "PROXY v1: bad protocol \"%s\"",
		    word));
	h->ph_version = 1;
	h->ph_socktype = SOCK_STREAM;
	if (i == 0 || i == 1)
		return (pp_v1_tcp(c, i == 0 ? AF_INET : AF_INET6, h, err,
		    errlen));
	h->ph_local = 1;
	if (*c->pc_p == '\r')
		return (pp_v1_expect(c, "\r\n", "protocol", err, errlen));
	c->pc_p = c->pc_end;
	return (c->pc_complete ? PP_OK : PP_MORE);
}

/*
 * Decode a version 1 line.  The CRLF must end within PROXY_V1_MAXLEN
 * bytes and a lone LF never ends it.
 */
ssize_t
proxyproto_v1_decode(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
    char *err, size_t errlen)
{
	struct proxy_hdr	 h;
	struct pp_cursor	 c;
	const uint8_t		*lf;
	size_t			 scan;
	int			 r;

	scan = len < PROXY_V1_MAXLEN ? len : PROXY_V1_MAXLEN;
	if ((lf = memchr(buf, '\n', scan)) != NULL &&
	    (lf == buf || lf[-1] != '\r'))
		return (proxyproto_fail(err, errlen, "PROXY v1: line ends with a bare "
		    "LF"));
	c.pc_p = buf;
	c.pc_end = lf != NULL ? lf + 1 : buf + scan;
	c.pc_complete = lf != NULL;
	memset(&h, 0, sizeof(h));
	if ((r = pp_v1_parse(&c, &h, err, errlen)) == PP_BAD)
		return (PP_BAD);
	if (r == PP_MORE) {
		if (lf != NULL)
			return (proxyproto_fail(err, errlen, "PROXY v1: line ends "
			    "early"));
		if (scan == PROXY_V1_MAXLEN)
			return (proxyproto_fail(err, errlen, "PROXY v1: no CRLF in the "
			    "first %d bytes", PROXY_V1_MAXLEN));
		return (PP_MORE);
	}
	*hdr = h;
	return ((ssize_t)(c.pc_end - buf));
}

/* Write a version 1 line for <src>/<dst> (NULL: UNKNOWN) into <buf>. */
ssize_t
proxyproto_v1_encode(const struct pp_addr *src, const struct pp_addr *dst,
    uint8_t *buf, size_t len)
{
	char	line[PROXY_V1_MAXLEN + 1];
	char	sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	int	n;

	if (src == NULL)
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	else {
		if (inet_ntop(src->pa_family, src->pa_addr, sa,
		    sizeof(sa)) == NULL ||
		    inet_ntop(dst->pa_family, dst->pa_addr, da,
		    sizeof(da)) == NULL)
			return (-1);
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
		    src->pa_family == AF_INET ? "TCP4" : "TCP6", sa, da,
		    (unsigned int)src->pa_port, (unsigned int)dst->pa_port);
	}
	if (n < 0 || (size_t)n >= sizeof(line) || (size_t)n > len)
		return (-1);
	memcpy(buf, line, (size_t)n);
	return (n);
}
