/*
 * The PROXY protocol header (haproxy doc/proxy-protocol.txt, versions 1
 * and 2).  Decoding is incremental: the caller hands over whatever it has
 * read so far and learns whether that is a whole header, a prefix of one
 * or something that can never become one.  Every read is bounded by the
 * length given; nothing here logs or touches a socket.
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

#define PP_BAD		(-1)	/* can never be a valid header */
#define PP_MORE		0	/* a prefix of a valid header so far */
#define PP_OK		1

#define PP_V2_HDRLEN	16	/* signature, ver/cmd, family, length */
#define PP_V2_SIGLEN	12
#define PP_V2_VERSION	0x20
#define PP_V2_LOCAL	0x0
#define PP_V2_PROXY	0x1
#define PP_V2_TLVHDR	3	/* type, 16-bit length */

#define PP_AF_UNSPEC	0x0
#define PP_AF_INET	0x1
#define PP_AF_INET6	0x2
#define PP_AF_UNIX	0x3
#define PP_TR_UNSPEC	0x0
#define PP_TR_STREAM	0x1
#define PP_TR_DGRAM	0x2

#define PP_V1_ADDRMAX	45	/* INET6_ADDRSTRLEN - 1 */
#define PP_V1_PORTMAX	5
#define PP_V1_WORDMAX	7	/* "UNKNOWN" */
#define PP_V1_ADDRCHARS	"0123456789abcdefABCDEF:."

static const uint8_t pp_v2sig[PP_V2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A version 1 line being parsed: the bytes left, and whether CRLF ends them. */
struct pp_cursor {
	const uint8_t	*pc_p;
	const uint8_t	*pc_end;
	int		 pc_complete;	/* pc_end is just past the CRLF */
};

/* One endpoint as it travels in a header. */
struct pp_addr {
	int		 pa_family;	/* AF_INET or AF_INET6 */
	uint8_t		 pa_addr[16];	/* network order, 4 bytes for IPv4 */
	uint16_t	 pa_port;	/* host order */
};

static int	pp_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Format the reason for a rejection into <err>; always returns -1. */
static int
pp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (PP_BAD);
}

/* Address bytes (with ports) a version 2 family carries, 0 for UNSPEC. */
static size_t
pp_v2_addrlen(int fam)
{
	switch (fam >> 4) {
	case PP_AF_INET:
		return (2 * 4 + 2 * 2);
	case PP_AF_INET6:
		return (2 * 16 + 2 * 2);
	case PP_AF_UNIX:
		return (2 * 108);
	}
	return (0);
}

/*
 * Whether <fam> is one of the family/transport bytes the specification
 * lists (0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32).
 */
static int
pp_v2_famvalid(int fam)
{
	int	af = fam >> 4, tr = fam & 0x0f;

	if (af == PP_AF_UNSPEC)
		return (tr == PP_TR_UNSPEC);
	return (af <= PP_AF_UNIX && (tr == PP_TR_STREAM || tr == PP_TR_DGRAM));
}

/* Fill <ss> with an <family> address and host-order <port>. */
static void
pp_sockaddr(struct sockaddr_storage *ss, socklen_t *sslen, int family,
    const uint8_t *addr, uint16_t port)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, addr, 4);
		memcpy(ss, &sin, sizeof(sin));
		*sslen = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&sin6.sin6_addr, addr, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		*sslen = sizeof(sin6);
	}
}

/*
 * Walk the TLVs in <p>..<end> without interpreting them: 0 if each one
 * fits in the header, -1 (with the reason) if one runs past its end.
 */
static int
pp_v2_tlvs(const uint8_t *p, const uint8_t *end, char *err, size_t errlen)
{
	size_t	tlen;

	while (p < end) {
		if ((size_t)(end - p) < PP_V2_TLVHDR)
			return (pp_fail(err, errlen, "PROXY v2: truncated TLV "
			    "header (%zu bytes left)", (size_t)(end - p)));
		tlen = (size_t)p[1] << 8 | p[2];
		if ((size_t)(end - p) - PP_V2_TLVHDR < tlen)
			return (pp_fail(err, errlen, "PROXY v2: TLV type "
			    "0x%02x of %zu bytes runs past the header", p[0],
			    tlen));
		p += PP_V2_TLVHDR + tlen;
	}
	return (0);
}

/* Addresses of a complete PROXY command for an INET or INET6 family. */
static void
pp_v2_addrs(const uint8_t *p, int fam, struct proxy_hdr *h)
{
	size_t	alen = (fam >> 4) == PP_AF_INET ? 4 : 16;
	int	family = alen == 4 ? AF_INET : AF_INET6;

	pp_sockaddr(&h->ph_src, &h->ph_srclen, family, p,
	    (uint16_t)(p[2 * alen] << 8 | p[2 * alen + 1]));
	pp_sockaddr(&h->ph_dst, &h->ph_dstlen, family, p + alen,
	    (uint16_t)(p[2 * alen + 2] << 8 | p[2 * alen + 3]));
}

/*
 * Decode a version 2 header whose first bytes match the signature as far
 * as they go.  LOCAL discards the address block whatever the family (the
 * specification has the receiver ignore it); so does PROXY with the
 * UNSPEC or UNIX family, which the caller treats like LOCAL.  TLVs are
 * walked only where the end of the addresses is known.
 */
static ssize_t
pp_decode_v2(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
    char *err, size_t errlen)
{
	struct proxy_hdr	 h;
	size_t			 n, blen, alen;
	int			 cmd, fam;

	n = len < PP_V2_SIGLEN ? len : PP_V2_SIGLEN;
	if (memcmp(buf, pp_v2sig, n) != 0)
		return (pp_fail(err, errlen, "PROXY v2: bad signature"));
	if (len <= PP_V2_SIGLEN)
		return (PP_MORE);
	if ((buf[12] & 0xf0) != PP_V2_VERSION)
		return (pp_fail(err, errlen, "PROXY v2: bad version %d",
		    buf[12] >> 4));
	cmd = buf[12] & 0x0f;
	if (cmd != PP_V2_LOCAL && cmd != PP_V2_PROXY)
		return (pp_fail(err, errlen, "PROXY v2: bad command 0x%x",
		    cmd));
	if (len < 14)
		return (PP_MORE);
	fam = buf[13];
	if ((fam >> 4) > PP_AF_UNIX)
		return (pp_fail(err, errlen, "PROXY v2: bad address family "
		    "0x%x", fam >> 4));
	if ((fam & 0x0f) > PP_TR_DGRAM)
		return (pp_fail(err, errlen, "PROXY v2: bad transport protocol "
		    "0x%x", fam & 0x0f));
	if (cmd == PP_V2_PROXY && !pp_v2_famvalid(fam))
		return (pp_fail(err, errlen, "PROXY v2: bad family and "
		    "transport 0x%02x", fam));
	if (len < PP_V2_HDRLEN)
		return (PP_MORE);
	blen = (size_t)buf[14] << 8 | buf[15];
	if (PP_V2_HDRLEN + blen > PROXY_MAXLEN)
		return (pp_fail(err, errlen, "PROXY v2: header of %zu bytes is "
		    "longer than %d", PP_V2_HDRLEN + blen, PROXY_MAXLEN));
	alen = pp_v2_addrlen(fam);
	if (cmd == PP_V2_PROXY && blen < alen)
		return (pp_fail(err, errlen, "PROXY v2: length %zu is too "
		    "short for family 0x%02x (%zu)", blen, fam, alen));
	if (len < PP_V2_HDRLEN + blen)
		return (PP_MORE);

	memset(&h, 0, sizeof(h));
	h.ph_version = 2;
	h.ph_socktype = (fam & 0x0f) == PP_TR_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	if (cmd == PP_V2_LOCAL || alen == 0 || (fam >> 4) == PP_AF_UNIX)
		h.ph_local = 1;
	if (cmd == PP_V2_PROXY && alen != 0) {
		if (pp_v2_tlvs(buf + PP_V2_HDRLEN + alen,
		    buf + PP_V2_HDRLEN + blen, err, errlen) == -1)
			return (PP_BAD);
		if (!h.ph_local)
			pp_v2_addrs(buf + PP_V2_HDRLEN, fam, &h);
	}
	*hdr = h;
	return ((ssize_t)(PP_V2_HDRLEN + blen));
}

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
		return (pp_fail(err, errlen, "PROXY v1: expected %s after "
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
			return (pp_fail(err, errlen, "PROXY v1: bad character "
			    "0x%02x in the %s", ch, what));
		if (n == max)
			return (pp_fail(err, errlen, "PROXY v1: %s "
			    "\"%s...\" is too long", what, tok));
		tok[n++] = (char)ch;
	}
	if (n == 0)
		return (pp_fail(err, errlen, "PROXY v1: missing %s", what));
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
		return (pp_fail(err, errlen, "PROXY v1: address family "
		    "mismatch: IPv6 %s \"%s\" in a TCP4 header", what, tok));
	if (family == AF_INET6 && strchr(tok, ':') == NULL &&
	    strchr(tok, '.') != NULL)
		return (pp_fail(err, errlen, "PROXY v1: address family "
		    "mismatch: IPv4 %s \"%s\" in a TCP6 header", what, tok));
	if (family == AF_INET)
		r = pp_v1_ipv4(tok, partial, out);
	else
		r = pp_v1_ipv6(tok, partial, out);
	if (r == PP_BAD)
		return (pp_fail(err, errlen, "PROXY v1: bad %s \"%s\"", what,
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
		return (pp_fail(err, errlen, "PROXY v1: %s \"%s\" has a "
		    "leading zero", what, tok));
	for (p = tok; *p != '\0'; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (v > 65535)
		return (pp_fail(err, errlen, "PROXY v1: %s \"%s\" is out of "
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
	pp_sockaddr(&h->ph_src, &h->ph_srclen, family, src, sport);
	pp_sockaddr(&h->ph_dst, &h->ph_dstlen, family, dst, dport);
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
		return (r == PP_MORE ? r : pp_fail(err, errlen,
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
		return (pp_fail(err, errlen, "PROXY v1: bad protocol \"%s\"",
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
static ssize_t
pp_decode_v1(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
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
		return (pp_fail(err, errlen, "PROXY v1: line ends with a bare "
		    "LF"));
	c.pc_p = buf;
	c.pc_end = lf != NULL ? lf + 1 : buf + scan;
	c.pc_complete = lf != NULL;
	memset(&h, 0, sizeof(h));
	if ((r = pp_v1_parse(&c, &h, err, errlen)) == PP_BAD)
		return (PP_BAD);
	if (r == PP_MORE) {
		if (lf != NULL)
			return (pp_fail(err, errlen, "PROXY v1: line ends "
			    "early"));
		if (scan == PROXY_V1_MAXLEN)
			return (pp_fail(err, errlen, "PROXY v1: no CRLF in the "
			    "first %d bytes", PROXY_V1_MAXLEN));
		return (PP_MORE);
	}
	*hdr = h;
	return ((ssize_t)(c.pc_end - buf));
}

ssize_t
proxyproto_decode(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
    char *err, size_t errlen)
{
	if (len == 0)
		return (PP_MORE);
	if (buf[0] == pp_v2sig[0])
		return (pp_decode_v2(buf, len, hdr, err, errlen));
	if (buf[0] == 'P')
		return (pp_decode_v1(buf, len, hdr, err, errlen));
	return (pp_fail(err, errlen, "not a PROXY protocol header"));
}

/* Read <sa> into <pa>, an IPv4-mapped IPv6 address as IPv4: 0, or -1. */
static int
pp_addr_get(const struct sockaddr *sa, struct pp_addr *pa)
{
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(pa, 0, sizeof(*pa));
	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		pa->pa_family = AF_INET;
		memcpy(pa->pa_addr, &sin.sin_addr, 4);
		pa->pa_port = ntohs(sin.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		pa->pa_port = ntohs(sin6.sin6_port);
		if (memcmp(&sin6.sin6_addr, mapped, sizeof(mapped)) == 0) {
			pa->pa_family = AF_INET;
			memcpy(pa->pa_addr, (uint8_t *)&sin6.sin6_addr + 12, 4);
		} else {
			pa->pa_family = AF_INET6;
			memcpy(pa->pa_addr, &sin6.sin6_addr, 16);
		}
	} else
		return (-1);
	return (0);
}

/* Turn an IPv4 <pa> into its IPv4-mapped IPv6 form. */
static void
pp_addr_map(struct pp_addr *pa)
{
	if (pa->pa_family != AF_INET)
		return;
	memmove(pa->pa_addr + 12, pa->pa_addr, 4);
	memset(pa->pa_addr, 0, 10);
	pa->pa_addr[10] = pa->pa_addr[11] = 0xff;
	pa->pa_family = AF_INET6;
}

/* Write a version 1 line for <src>/<dst> (NULL: UNKNOWN) into <buf>. */
static ssize_t
pp_encode_v1(const struct pp_addr *src, const struct pp_addr *dst,
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

/* Write a version 2 header (NULL <src>: LOCAL) into <buf>. */
static ssize_t
pp_encode_v2(int socktype, const struct pp_addr *src,
    const struct pp_addr *dst, uint8_t *buf, size_t len)
{
	size_t	alen = 0, n;
	uint8_t	*p;

	if (src != NULL)
		alen = src->pa_family == AF_INET ? 4 : 16;
	n = PP_V2_HDRLEN + (alen != 0 ? 2 * alen + 4 : 0);
	if (n > len)
		return (-1);
	memcpy(buf, pp_v2sig, PP_V2_SIGLEN);
	buf[12] = PP_V2_VERSION | (src == NULL ? PP_V2_LOCAL : PP_V2_PROXY);
	buf[13] = 0;
	if (src != NULL)
		buf[13] = (alen == 4 ? PP_AF_INET : PP_AF_INET6) << 4 |
		    (socktype == SOCK_DGRAM ? PP_TR_DGRAM : PP_TR_STREAM);
	buf[14] = (uint8_t)((n - PP_V2_HDRLEN) >> 8);
	buf[15] = (uint8_t)(n - PP_V2_HDRLEN);
	if (src != NULL) {
		p = buf + PP_V2_HDRLEN;
		memcpy(p, src->pa_addr, alen);
		memcpy(p + alen, dst->pa_addr, alen);
		p += 2 * alen;
		p[0] = (uint8_t)(src->pa_port >> 8);
		p[1] = (uint8_t)src->pa_port;
		p[2] = (uint8_t)(dst->pa_port >> 8);
		p[3] = (uint8_t)dst->pa_port;
	}
	return ((ssize_t)n);
}

ssize_t
proxyproto_encode(int version, int socktype, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len)
{
	struct pp_addr	s, d;

	if (socktype != SOCK_STREAM && (version != 2 || socktype != SOCK_DGRAM))
		return (-1);
	if ((src == NULL) != (dst == NULL))
		return (-1);
	if (src != NULL) {
		if (pp_addr_get(src, &s) == -1 || pp_addr_get(dst, &d) == -1)
			return (-1);
		if (s.pa_family != d.pa_family) {
			pp_addr_map(&s);
			pp_addr_map(&d);
		}
	}
	if (version == 1)
		return (pp_encode_v1(src != NULL ? &s : NULL,
		    dst != NULL ? &d : NULL, buf, len));
	if (version == 2)
		return (pp_encode_v2(socktype, src != NULL ? &s : NULL,
		    dst != NULL ? &d : NULL, buf, len));
	return (-1);
}
