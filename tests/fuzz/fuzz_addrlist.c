/*
 * libFuzzer target for address lists (addrlist.c): only_from and
 * no_access words and the matcher.  The first input line is the list;
 * each further line is a probe "ADDRESS [REVNAME]" ("-" for no address).
 * More probes are made from the rules themselves: the first and last
 * address of each prefix and their neighbours outside it, IPv4 ones both
 * as AF_INET and IPv4-mapped AF_INET6, and names inside and outside each
 * .domain.
 *
 * The oracle is a reference matcher written from addrlist.h: a plain list
 * of (prefix of the IPv6 space, specificity) and (.domain suffix,
 * 120 + labels up to 127) scanned linearly, the most specific match
 * winning and the first written among equals.  Numeric and .domain words
 * must be accepted or refused as the reference says, and every probe must
 * match the same rule with the same specificity.  Host, network and
 * factorised words are not modelled: a list holding one is checked only
 * for consistency (a modelled rule is named only if it is the best
 * modelled match, nothing less specific than it is named).  Run it in a
 * network namespace (unshare -n): host names are resolved.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAXINPUT	4096
#define FZ_MAXWORDS	64
#define FZ_MAXNAMES	64

enum ref_kind {
	RK_PREFIX,		/* modelled: a prefix of the IPv6 space */
	RK_DOMAIN,		/* modelled: a .domain suffix */
	RK_OTHER,		/* host, network or factorised: not modelled */
	RK_BAD			/* refused */
};

struct ref_rule {
	enum ref_kind	 rr_kind;
	uint8_t		 rr_addr[16];	/* RK_PREFIX, host bits cleared */
	int		 rr_plen;
	int		 rr_spec;
	char		 rr_suffix[256];	/* RK_DOMAIN, lower case */
	size_t		 rr_slen;
};

static const uint8_t ref_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* ASCII lower case, whatever the locale. */
static int
ref_lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Clear the bits of <a> after the first <plen>. */
static void
ref_mask(uint8_t *a, int plen)
{
	int	 i;

	for (i = plen; i < 128; i++)
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* A prefix rule from <a>/<plen>. */
static enum ref_kind
ref_prefix(struct ref_rule *r, const uint8_t *a, int plen)
{
	memcpy(r->rr_addr, a, 16);
	ref_mask(r->rr_addr, plen);
	r->rr_plen = plen;
	r->rr_spec = plen;
	return (RK_PREFIX);
}

/* IPv4 <v4> as a prefix /<plen> of the IPv4 space. */
static enum ref_kind
ref_prefix4(struct ref_rule *r, const struct in_addr *v4, int plen)
{
	uint8_t	 a[16];

	memcpy(a, ref_mapped, 12);
	memcpy(a + 12, &v4->s_addr, 4);
	return (ref_prefix(r, a, 96 + plen));
}

/* Only digits and dots? */
static int
ref_numeric(const char *s)
{
	return (strspn(s, "0123456789.") == strlen(s));
}

/* "addr/n": n of one to three digits, 0-32 (IPv4) or 0-128 (IPv6). */
static enum ref_kind
ref_cidr(const char *w, struct ref_rule *r)
{
	char		 addr[64];
	const char	*slash = strchr(w, '/'), *n = slash + 1;
	struct in6_addr	 v6;
	struct in_addr	 v4;
	size_t		 len = (size_t)(slash - w), nd;
	int		 v6form, plen;

	nd = strspn(n, "0123456789");
	if (len == 0 || len >= sizeof(addr) || nd < 1 || nd > 3 ||
	    n[nd] != '\0')
		return (RK_BAD);
	memcpy(addr, w, len);
	addr[len] = '\0';
	plen = atoi(n);
	v6form = strchr(addr, ':') != NULL;
	if (plen > (v6form ? 128 : 32))
		return (RK_BAD);
	if (v6form)
		return (inet_pton(AF_INET6, addr, &v6) == 1 ?
		    ref_prefix(r, v6.s6_addr, plen) : RK_BAD);
	return (inet_pton(AF_INET, addr, &v4) == 1 ?
	    ref_prefix4(r, &v4, plen) : RK_BAD);
}

/*
 * ".domain": one trailing dot ignored, then labels of letters, digits,
 * '-' and '_' (not all digits), none empty, 2 to 254 characters in all.
 */
static enum ref_kind
ref_domain(const char *w, struct ref_rule *r)
{
	size_t	 len = strlen(w), i;
	int	 dots = 0;

	if (len > 1 && w[len - 1] == '.')
		len--;
	if (len < 2 || len > 254 || ref_numeric(w))
		return (RK_BAD);
	for (i = 0; i < len; i++) {
		if (w[i] == '.') {
			if (i + 1 == len || w[i + 1] == '.')
				return (RK_BAD);
			dots++;
		} else if (strchr("-_", w[i]) == NULL &&
		    !(w[i] >= '0' && w[i] <= '9') &&
		    !(ref_lower(w[i]) >= 'a' && ref_lower(w[i]) <= 'z'))
			return (RK_BAD);
		r->rr_suffix[i] = (char)ref_lower((unsigned char)w[i]);
	}
	r->rr_suffix[len] = '\0';
	r->rr_slen = len;
	r->rr_spec = 120 + dots > 127 ? 127 : 120 + dots;
	return (RK_DOMAIN);
}

/* Read word <w> as addrlist.h describes it. */
static enum ref_kind
ref_word(const char *w, struct ref_rule *r)
{
	static const uint8_t	 zero[16];
	struct in6_addr		 v6;
	struct in_addr		 v4;
	uint32_t		 host;
	int			 plen;

	memset(r, 0, sizeof(*r));
	if (strpbrk(w, "{}") != NULL)
		return (RK_OTHER);
	if (strchr(w, ',') != NULL)
		return (RK_BAD);
	if (strchr(w, '/') != NULL)
		return (ref_cidr(w, r));
	if (strchr(w, ':') != NULL) {
		if (inet_pton(AF_INET6, w, &v6) != 1)
			return (RK_BAD);
		return (ref_prefix(r, v6.s6_addr,
		    memcmp(v6.s6_addr, zero, 16) == 0 ? 0 : 128));
	}
	if (w[0] == '.')
		return (ref_domain(w, r));
	if (!ref_numeric(w))
		return (RK_OTHER);
	if (strcmp(w, "0") == 0)
		return (ref_prefix(r, zero, 0));
	if (inet_pton(AF_INET, w, &v4) != 1)
		return (RK_BAD);
	if (v4.s_addr == 0)
		return (ref_prefix(r, zero, 0));
	/* Trailing zero bytes make a network: 10.0.0.0 is 10/8. */
	host = ntohl(v4.s_addr);
	for (plen = 32; plen > 0 && (host & 0xff) == 0; plen -= 8)
		host >>= 8;
	return (ref_prefix4(r, &v4, plen));
}

/* Does rule <r> hold client <a> (16 bytes, IPv4 mapped) or <name>? */
static int
ref_holds(const struct ref_rule *r, const uint8_t *a, const char *name)
{
	uint8_t	 c[16];
	size_t	 len, i;

	if (r->rr_kind == RK_PREFIX) {
		if (a == NULL)
			return (0);
		memcpy(c, a, 16);
		ref_mask(c, r->rr_plen);
		return (memcmp(c, r->rr_addr, 16) == 0);
	}
	if (r->rr_kind != RK_DOMAIN || name == NULL)
		return (0);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len <= r->rr_slen)
		return (0);
	for (i = 0; i < r->rr_slen; i++)
		if (ref_lower((unsigned char)name[len - r->rr_slen + i]) !=
		    r->rr_suffix[i])
			return (0);
	return (1);
}

/* One probe: the matcher against the reference. */
static void
fz_probe(const struct addrlist *al, char **words, const struct ref_rule *rr,
    int nwords, int modelled, const struct sockaddr *sa, const char *name)
{
	const struct sockaddr_in	*sin;
	struct addrmatch		 m;
	uint8_t				 a[16], *ap = NULL;
	int				 i, best = -1, rc, known;

	if (sa != NULL && sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a, ref_mapped, 12);
		memcpy(a + 12, &sin->sin_addr, 4);
		ap = a;
	} else if (sa != NULL) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		ap = a;
	}
	for (i = 0; i < nwords; i++)
		if (ref_holds(&rr[i], ap, name) &&
		    (best < 0 || rr[i].rr_spec > rr[best].rr_spec))
			best = i;
	memset(&m, 0x5a, sizeof(m));
	rc = addrlist_match(al, sa, name, &m);
	if (rc != m.am_matched || (rc != 0 && rc != 1))
		abort();
	if (rc == 0) {
		if (best >= 0 || m.am_specificity != -1 || m.am_rule[0] != '\0')
			abort();
		return;
	}
	if (m.am_specificity < 0 || m.am_specificity > 128 ||
	    strnlen(m.am_rule, sizeof(m.am_rule)) == sizeof(m.am_rule))
		abort();
	/* Is the rule named a modelled one? */
	known = 1;
	for (i = 0; i < nwords; i++)
		if (rr[i].rr_kind == RK_OTHER &&
		    strncmp(words[i], m.am_rule, sizeof(m.am_rule) - 1) == 0)
			known = 0;
	if (modelled || known) {
		if (best < 0 || m.am_specificity != rr[best].rr_spec ||
		    strncmp(words[best], m.am_rule, sizeof(m.am_rule) - 1) != 0)
			abort();
	} else if (best >= 0 && m.am_specificity < rr[best].rr_spec)
		abort();
}

/* Probe <a> (16 bytes) as it is and, if IPv4-mapped, as AF_INET. */
static void
fz_probe_addr(const struct addrlist *al, char **words,
    const struct ref_rule *rr, int nwords, int modelled, const uint8_t *a,
    const char *name)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, a, 16);
	fz_probe(al, words, rr, nwords, modelled,
	    (struct sockaddr *)&sin6, name);
	if (memcmp(a, ref_mapped, 12) != 0)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, a + 12, 4);
	fz_probe(al, words, rr, nwords, modelled, (struct sockaddr *)&sin,
	    name);
}

/* Add <d> (+1 or -1) to the 128-bit number <a>, wrapping. */
static void
fz_add(uint8_t *a, int d)
{
	int	 i;

	for (i = 15; i >= 0; i--) {
		a[i] = (uint8_t)(a[i] + d);
		if ((d > 0 && a[i] != 0) || (d < 0 && a[i] != 0xff))
			break;
	}
}

/* Probes made from the rules: prefix edges, names in and out of domains. */
static void
fz_rule_probes(const struct addrlist *al, char **words,
    const struct ref_rule *rr, int nwords, int modelled)
{
	uint8_t	 a[16];
	char	 name[300];
	int	 i, b;

	for (i = 0; i < nwords; i++) {
		if (rr[i].rr_kind == RK_DOMAIN) {
			snprintf(name, sizeof(name), "X%s.", rr[i].rr_suffix);
			fz_probe(al, words, rr, nwords, modelled, NULL, name);
			fz_probe(al, words, rr, nwords, modelled, NULL,
			    rr[i].rr_suffix);
			fz_probe(al, words, rr, nwords, modelled, NULL,
			    rr[i].rr_suffix + 1);
			continue;
		}
		if (rr[i].rr_kind != RK_PREFIX)
			continue;
		memcpy(a, rr[i].rr_addr, 16);
		fz_probe_addr(al, words, rr, nwords, modelled, a, NULL);
		fz_add(a, -1);
		fz_probe_addr(al, words, rr, nwords, modelled, a, NULL);
		memcpy(a, rr[i].rr_addr, 16);
		for (b = rr[i].rr_plen; b < 128; b++)
			a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		fz_probe_addr(al, words, rr, nwords, modelled, a, NULL);
		fz_add(a, 1);
		fz_probe_addr(al, words, rr, nwords, modelled, a, NULL);
	}
}

/* Probe line "ADDRESS [NAME]" or "- NAME". */
static void
fz_line_probe(const struct addrlist *al, char **words,
    const struct ref_rule *rr, int nwords, int modelled, char *line)
{
	struct sockaddr_in	 sin;
	struct in6_addr		 v6;
	char			*addr, *name;
	uint8_t			 a[16];

	if ((addr = strtok(line, " \t")) == NULL)
		return;
	name = strtok(NULL, " \t");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		memcpy(a, ref_mapped, 12);
		memcpy(a + 12, &sin.sin_addr, 4);
		fz_probe_addr(al, words, rr, nwords, modelled, a, name);
	} else if (inet_pton(AF_INET6, addr, &v6) == 1)
		fz_probe_addr(al, words, rr, nwords, modelled, v6.s6_addr,
		    name);
	else
		fz_probe(al, words, rr, nwords, modelled, NULL, name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_rule	 rr[FZ_MAXWORDS];
	struct addrlist		*al;
	char			 buf[FZ_MAXINPUT + 1], *words[FZ_MAXWORDS];
	char			*lines[FZ_MAXNAMES], *p, *save, err[512];
	size_t			 i;
	int			 nwords = 0, nlines = 0, bad, modelled = 1, j;

	if (size > FZ_MAXINPUT)
		return (0);
	for (i = 0; i < size; i++)
		buf[i] = data[i] == '\0' ? ' ' : (char)data[i];
	buf[size] = '\0';
	for (p = strtok_r(buf, "\n", &save); p != NULL && nlines < FZ_MAXNAMES;
	    p = strtok_r(NULL, "\n", &save))
		lines[nlines++] = p;
	if (nlines == 0 || buf[0] == '\n')
		return (0);
	for (p = strtok_r(lines[0], " \t\r\v\f", &save);
	    p != NULL && nwords < FZ_MAXWORDS;
	    p = strtok_r(NULL, " \t\r\v\f", &save))
		words[nwords++] = p;
	for (j = 0; j < nwords; j++) {
		rr[j].rr_kind = ref_word(words[j], &rr[j]);
		if (rr[j].rr_kind == RK_OTHER)
			modelled = 0;
	}
	bad = -2;
	al = addrlist_parse(words, nwords, err, sizeof(err), &bad);
	if (al == NULL) {
		/* The word refused: the first the reference refuses. */
		if (bad < 0 || bad >= nwords || (strlen(words[bad]) < 256 &&
		    strstr(err, words[bad]) == NULL))
			abort();
		for (j = 0; j < bad; j++)
			if (rr[j].rr_kind == RK_BAD)
				abort();
		if (rr[bad].rr_kind != RK_BAD && rr[bad].rr_kind != RK_OTHER)
			abort();
		return (0);
	}
	for (j = 0; j < nwords; j++)
		if (rr[j].rr_kind == RK_BAD)
			abort();
	if (addrlist_count(al) != nwords)
		abort();
	fz_rule_probes(al, words, rr, nwords, modelled);
	for (j = 1; j < nlines; j++)
		fz_line_probe(al, words, rr, nwords, modelled, lines[j]);
	addrlist_free(al);
	return (0);
}
