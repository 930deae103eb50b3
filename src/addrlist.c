/*
 * Address lists of only_from and no_access.  The words are parsed once,
 * when the configuration is loaded, into two 16-way tries (IPv4 clients,
 * that is ::ffff:0:0/96, and the rest of the IPv6 space) and a hash table
 * of .domain suffixes.  A trie node consumes four address bits; a prefix
 * whose length is not a multiple of four fills every slot it covers
 * (controlled prefix expansion), a longer prefix overriding a shorter
 * one.  A match reads at most 8 (IPv4) or 32 (IPv6) slots and probes the
 * table once per label of the reverse name, whatever the length of the
 * list; the deepest rule on the walk is the most specific one.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"

#define AL_NONE			(-1)
#define AL_STRIDE		4	/* address bits per trie node */
#define AL_FANOUT		(1 << AL_STRIDE)
#define AL_SLOT_EMPTY		UINT32_MAX
#define AL_MAXRULES		(1 << 24)	/* rule index in 24 bits */
#define AL_V4_DEPTH		96	/* depth of ::ffff:0:0/96 in IPv6 */
#define AL_SPEC_DOMAIN		120	/* a .domain ranks above an IPv4 /24 */
#define AL_SPEC_DOMAIN_MAX	127	/* and below a single host */
#define AL_FNV_OFFSET		2166136261U
#define AL_FNV_PRIME		16777619U

/*
 * One slot of a trie node: the child for these four bits (0: none, the
 * root is never a child) and the longest rule ending in them, packed as
 * prefix length << 24 | rule index (AL_SLOT_EMPTY: none).
 */
struct al_slot {
	uint32_t	 as_child;
	uint32_t	 as_rule;
};

struct al_node {
	struct al_slot	 an_slot[AL_FANOUT];
};

struct al_trie {
	struct al_node	*at_nodes;
	size_t		 at_count;
	size_t		 at_cap;
	int		 at_root;	/* rule of prefix length 0, or AL_NONE */
};

/* One .domain rule: lower case, leading dot, no trailing dot. */
struct al_domain {
	char		*ad_suffix;
	size_t		 ad_len;
	uint32_t	 ad_hash;
	int		 ad_rule;
	int		 ad_spec;
};

struct addrlist {
	char		**al_text;	/* rule text as written, by index */
	int		  al_nrules;
	struct al_trie	  al_v4;	/* below ::ffff:0:0/96, 8 levels */
	struct al_trie	  al_v6;	/* the IPv6 space, 32 levels */
	int		  al_v4base;	/* best IPv6 rule covering all IPv4 */
	int		  al_v4basespec;
	struct al_domain *al_dom;
	size_t		  al_ndom;
	int32_t		 *al_domtab;	/* open addressing, AL_NONE empty */
	size_t		  al_domsize;	/* power of two */
};

/* The prefix ::ffff:0:0/96 of IPv4-mapped addresses. */
static const uint8_t al_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Lower-case an ASCII letter without looking at the locale. */
static inline unsigned char
al_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Bit <i> (0 is the most significant) of a 16-byte address. */
static inline int
al_bit6(const uint8_t *a, int i)
{
	return (a[i >> 3] >> (7 - (i & 7))) & 1;
}

/* The four bits <i>..<i>+3 (<i> a multiple of 4) of a 16-byte address. */
static inline unsigned int
al_nibble6(const uint8_t *a, int i)
{
	return (i & 4) ? a[i >> 3] & 0xf : a[i >> 3] >> 4;
}

/* Format an error naming <word> into <err>; always returns -1. */
static int
al_err(char *err, size_t errlen, const char *word, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "\"%s\": %s", word, msg);
	return (-1);
}

/* Add a node to <t>, its index in *<idx>; returns 0, or -1 (no memory). */
static int
al_trie_node(struct al_trie *t, uint32_t *idx)
{
	struct al_node	*n;
	size_t		 cap;
	int		 s;

	if (t->at_count == t->at_cap) {
		cap = t->at_cap == 0 ? 16 : t->at_cap * 2;
		if (cap > UINT32_MAX / 2)
			return (-1);
		n = realloc(t->at_nodes, cap * sizeof(*n));
		if (n == NULL)
			return (-1);
		t->at_nodes = n;
		t->at_cap = cap;
	}
	n = &t->at_nodes[t->at_count];
	for (s = 0; s < AL_FANOUT; s++) {
		n->an_slot[s].as_child = 0;
		n->an_slot[s].as_rule = AL_SLOT_EMPTY;
	}
	*idx = (uint32_t)t->at_count++;
	return (0);
}

/*
 * Insert the first <plen> bits of <a>, starting at bit <from> (a multiple
 * of 4), for <rule>.  The rule goes into every slot of the last node that
 * it covers, unless a longer (or an earlier, equally long) prefix is
 * there.  Returns 0, or -1 when out of memory.
 */
static int
al_trie_insert(struct al_trie *t, const uint8_t *a, int from, int plen,
    int rule)
{
	struct al_slot	*sl;
	uint32_t	 i = 0, c, packed;
	unsigned int	 first, s;
	int		 d;

	if (plen == 0) {
		if (t->at_root == AL_NONE)
			t->at_root = rule;
		return (0);
	}
	if (t->at_count == 0 && al_trie_node(t, &i) != 0)
		return (-1);
	for (d = 0; plen - d > AL_STRIDE; d += AL_STRIDE) {
		sl = &t->at_nodes[i].an_slot[al_nibble6(a, from + d)];
		if (sl->as_child == 0) {
			if (al_trie_node(t, &c) != 0)
				return (-1);
			/* realloc may have moved the nodes */
			sl = &t->at_nodes[i].an_slot[al_nibble6(a, from + d)];
			sl->as_child = c;
		}
		i = sl->as_child;
	}
	packed = (uint32_t)plen << 24 | (uint32_t)rule;
	first = al_nibble6(a, from + d) & ~((1U << (AL_STRIDE - (plen - d))) -
	    1);
	for (s = first; s < first + (1U << (AL_STRIDE - (plen - d))); s++) {
		sl = &t->at_nodes[i].an_slot[s];
		if (sl->as_rule == AL_SLOT_EMPTY ||
		    (int)(sl->as_rule >> 24) < plen)
			sl->as_rule = packed;
	}
	return (0);
}

/*
 * Add the IPv6-space prefix <a>/<plen> for <rule>.  Prefixes inside
 * ::ffff:0:0/96 go to the IPv4 trie; a shorter one that covers it is also
 * remembered as the base rule for every IPv4 client.  Returns 0 or -1.
 */
static int
al_add_prefix(struct addrlist *al, uint8_t *a, int plen, int rule)
{
	int	 d, covers;

	for (d = plen; d < 128; d++)
		a[d >> 3] &= ~(0x80 >> (d & 7));
	if (plen >= AL_V4_DEPTH && memcmp(a, al_mapped, 12) == 0)
		return (al_trie_insert(&al->al_v4, a, AL_V4_DEPTH,
		    plen - AL_V4_DEPTH, rule));
	covers = plen < AL_V4_DEPTH;
	for (d = 0; d < plen && covers; d++)
		if (al_bit6(a, d) != al_bit6(al_mapped, d))
			covers = 0;
	if (covers && (al->al_v4base == AL_NONE || plen > al->al_v4basespec)) {
		al->al_v4base = rule;
		al->al_v4basespec = plen;
	}
	return (al_trie_insert(&al->al_v6, a, 0, plen, rule));
}

/* Add IPv4 <v4> (network byte order) as prefix /<plen> for <rule>. */
static int
al_add_v4(struct addrlist *al, const struct in_addr *v4, int plen, int rule)
{
	uint8_t	 a[16];

	memcpy(a, al_mapped, 12);
	memcpy(a + 12, &v4->s_addr, 4);
	return (al_add_prefix(al, a, AL_V4_DEPTH + plen, rule));
}

/* Add everyone (all of the IPv6 space, IPv4 included) for <rule>. */
static int
al_add_everyone(struct addrlist *al, int rule)
{
	uint8_t	 a[16];

	memset(a, 0, sizeof(a));
	return (al_add_prefix(al, a, 0, rule));
}

/* Parse a decimal number of at most <maxdigits> digits into *<v>. */
static const char *
al_number(const char *s, int maxdigits, unsigned long *v)
{
	int	 n;

	*v = 0;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == maxdigits)
			return (NULL);
		*v = *v * 10 + (unsigned long)(s[n] - '0');
	}
	return (n == 0 ? NULL : s + n);
}

/* Prefix length of an IPv4 network by xinetd's trailing-zero rule. */
static int
al_trailing_zero(uint32_t host)
{
	int	 plen = 32;

	while (plen > 0 && (host & 0xff) == 0) {
		host >>= 8;
		plen -= 8;
	}
	return (plen);
}

/* A plain numeric IPv4 address: "0", "0.0.0.0" or the trailing-zero rule. */
static int
al_parse_v4(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	struct in_addr	 v4;

	if (strcmp(w, "0") == 0)
		return (al_add_everyone(al, rule) == 0 ? 0 :
		    al_err(err, errlen, w, "out of memory"));
	if (inet_pton(AF_INET, w, &v4) != 1)
		return (al_err(err, errlen, w,
		    "not an IPv4 address (expected a.b.c.d)"));
	if (v4.s_addr == 0)
		return (al_add_everyone(al, rule) == 0 ? 0 :
		    al_err(err, errlen, w, "out of memory"));
	if (al_add_v4(al, &v4, al_trailing_zero(ntohl(v4.s_addr)), rule) != 0)
		return (al_err(err, errlen, w, "out of memory"));
	return (0);
}

/* A plain IPv6 address: "::" is everyone, anything else one host. */
static int
al_parse_v6(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	struct in6_addr	 v6;
	uint8_t		 a[16];

	if (inet_pton(AF_INET6, w, &v6) != 1)
		return (al_err(err, errlen, w, "not an IPv6 address"));
	memcpy(a, &v6, sizeof(a));
	if (al_add_prefix(al, a, IN6_IS_ADDR_UNSPECIFIED(&v6) ? 0 : 128,
	    rule) != 0)
		return (al_err(err, errlen, w, "out of memory"));
	return (0);
}

/* A CIDR word: "a.b.c.d/n" (n 0-32) or "v6addr/n" (n 0-128). */
static int
al_parse_cidr(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	char		 addr[INET6_ADDRSTRLEN];
	const char	*slash, *end;
	unsigned long	 plen;
	struct in_addr	 v4;
	struct in6_addr	 v6;
	uint8_t		 a[16];
	int		 v6form;

	slash = strchr(w, '/');
	if (slash == w || (size_t)(slash - w) >= sizeof(addr))
		return (al_err(err, errlen, w, "bad address before '/'"));
	memcpy(addr, w, slash - w);
	addr[slash - w] = '\0';
	v6form = strchr(addr, ':') != NULL;
	end = al_number(slash + 1, 3, &plen);
	if (end == NULL || *end != '\0' || plen > (v6form ? 128UL : 32UL))
		return (al_err(err, errlen, w, v6form ?
		    "prefix length must be 0-128" :
		    "prefix length must be 0-32"));
	if (v6form) {
		if (inet_pton(AF_INET6, addr, &v6) != 1)
			return (al_err(err, errlen, w,
			    "not an IPv6 address before '/'"));
		memcpy(a, &v6, sizeof(a));
		if (al_add_prefix(al, a, (int)plen, rule) != 0)
			return (al_err(err, errlen, w, "out of memory"));
		return (0);
	}
	if (inet_pton(AF_INET, addr, &v4) != 1)
		return (al_err(err, errlen, w,
		    "not an IPv4 address before '/' (expected a.b.c.d/n)"));
	if (al_add_v4(al, &v4, (int)plen, rule) != 0)
		return (al_err(err, errlen, w, "out of memory"));
	return (0);
}

/*
 * A factorised word "a.b.{x,y,z}", optionally followed by ".0" groups:
 * one IPv4 network per braced value, significant through the braced group
 * (as xinetd), later zero groups being wildcards.
 */
static int
al_parse_factorised(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	static const char *form = "bad factorised address "
	    "(expected a.b.{x,y,...} with values 0-255)";
	const char	*p, *list;
	unsigned long	 v, prefix = 0;
	int		 nbefore = 0, nafter = 0;
	struct in_addr	 v4;

	for (p = w; *p != '{'; p++) {
		if ((p = al_number(p, 3, &v)) == NULL || v > 255 ||
		    *p != '.' || ++nbefore > 3)
			return (al_err(err, errlen, w, form));
		prefix = prefix << 8 | v;
	}
	list = ++p;
	do {
		if ((p = al_number(p, 3, &v)) == NULL || v > 255)
			return (al_err(err, errlen, w, form));
	} while (*p++ == ',');
	if (p[-1] != '}')
		return (al_err(err, errlen, w, form));
	for (; *p != '\0'; p += 2, nafter++)
		if (p[0] != '.' || p[1] != '0')
			return (al_err(err, errlen, w, "bad factorised address "
			    "(only .0 groups may follow the braces)"));
	if (nbefore + 1 + nafter > 4)
		return (al_err(err, errlen, w, "bad factorised address "
		    "(more than four groups)"));
	for (p = list;; p++) {
		p = al_number(p, 3, &v);
		v4.s_addr = htonl((uint32_t)((prefix << 8 | v) <<
		    (8 * (3 - nbefore))));
		if (al_add_v4(al, &v4, 8 * (nbefore + 1), rule) != 0)
			return (al_err(err, errlen, w, "out of memory"));
		if (*p == '}')
			break;
	}
	return (0);
}

/* Is <s> made of host name characters, with no empty label inside? */
static int
al_namechars(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '.' && (p == s || p[-1] == '.'))
			return (0);
		if (*p != '.' && *p != '-' && *p != '_' &&
		    !(*p >= '0' && *p <= '9') && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z'))
			return (0);
	}
	return (p != s);
}

/* Only digits and dots (an address, never a name)? */
static int
al_numeric(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '.' && !(*s >= '0' && *s <= '9'))
			return (0);
	return (1);
}

/* FNV-1a of <s>[0..<len>), lower-cased, read from the end. */
static uint32_t
al_hash_rev(const char *s, size_t len)
{
	uint32_t	 h = AL_FNV_OFFSET;

	while (len-- > 0)
		h = (h ^ al_lower((unsigned char)s[len])) * AL_FNV_PRIME;
	return (h);
}

/* A ".domain" word: kept for the reverse-name table built later. */
static int
al_parse_domain(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	struct al_domain	*d;
	size_t			 len, i;
	int			 labels = 0;

	len = strlen(w);
	if (len > 1 && w[len - 1] == '.')
		len--;
	if (len < 2 || len > 254 || w[1] == '.')
		return (al_err(err, errlen, w, "bad domain (expected "
		    ".example.com)"));
	for (i = 1; i < len; i++)
		if (w[i] == '.' && w[i - 1] == '.')
			return (al_err(err, errlen, w, "bad domain (empty "
			    "label)"));
	if (!al_namechars(w + 1) || al_numeric(w))
		return (al_err(err, errlen, w, "bad domain (expected "
		    ".example.com)"));
	d = &al->al_dom[al->al_ndom];	/* sized by addrlist_parse */
	if ((d->ad_suffix = malloc(len + 1)) == NULL)
		return (al_err(err, errlen, w, "out of memory"));
	for (i = 0; i < len; i++) {
		d->ad_suffix[i] = (char)al_lower((unsigned char)w[i]);
		labels += w[i] == '.';
	}
	d->ad_suffix[len] = '\0';
	d->ad_len = len;
	d->ad_hash = al_hash_rev(d->ad_suffix, len);
	d->ad_rule = rule;
	d->ad_spec = AL_SPEC_DOMAIN + labels;
	if (d->ad_spec > AL_SPEC_DOMAIN_MAX)
		d->ad_spec = AL_SPEC_DOMAIN_MAX;
	al->al_ndom++;
	return (0);
}

/*
 * A network name from /etc/networks.  A number written short ("10",
 * "172.16") is a /8, /16 or /24 as in xinetd; a full one ("127.0.0.0")
 * follows the trailing-zero rule.  Returns 0, 1 if unknown, or -1.
 */
static int
al_parse_network(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	struct netent	*ne;
	uint32_t	 net;
	struct in_addr	 v4;
	int		 plen;

	ne = getnetbyname(w);
	if (ne == NULL || ne->n_addrtype != AF_INET)
		return (1);
	net = (uint32_t)ne->n_net;
	if (net == 0)
		return (al_err(err, errlen, w, "network number is 0 "
		    "(write 0.0.0.0 to mean everyone)"));
	if (net <= 0xff) {
		net <<= 24;
		plen = 8;
	} else if (net <= 0xffff) {
		net <<= 16;
		plen = 16;
	} else if (net <= 0xffffff) {
		net <<= 8;
		plen = 24;
	} else
		plen = al_trailing_zero(net);
	v4.s_addr = htonl(net);
	if (al_add_v4(al, &v4, plen, rule) != 0)
		return (al_err(err, errlen, w, "out of memory"));
	return (0);
}

/* A host name (every address it resolves to) or else a network name. */
static int
al_parse_name(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	uint8_t		 a[16];
	char		 msg[256];
	int		 rc, net;

	if (!al_namechars(w))
		return (al_err(err, errlen, w, "not an address, network, "
		    "host or .domain name"));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(w, NULL, &hints, &res)) != 0) {
		if ((net = al_parse_network(al, w, rule, err, errlen)) <= 0)
			return (net);
		snprintf(msg, sizeof(msg), "host name does not resolve (%s) "
		    "and is not a network name", gai_strerror(rc));
		return (al_err(err, errlen, w, msg));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			rc = al_add_v4(al,
			    &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			    32, rule);
		else if (ai->ai_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, sizeof(a));
			rc = al_add_prefix(al, a, 128, rule);
		}
		if (rc != 0)
			break;
	}
	freeaddrinfo(res);
	return (rc == 0 ? 0 : al_err(err, errlen, w, "out of memory"));
}

/* Parse word <w>, rule number <rule>, by its form.  Returns 0 or -1. */
static int
al_parse_word(struct addrlist *al, const char *w, int rule, char *err,
    size_t errlen)
{
	if (*w == '\0')
		return (al_err(err, errlen, w, "empty address"));
	if (strchr(w, '{') != NULL || strchr(w, '}') != NULL)
		return (al_parse_factorised(al, w, rule, err, errlen));
	if (strchr(w, ',') != NULL)
		return (al_err(err, errlen, w, "comma outside braces "
		    "(separate addresses with spaces)"));
	if (strchr(w, '/') != NULL)
		return (al_parse_cidr(al, w, rule, err, errlen));
	if (strchr(w, ':') != NULL)
		return (al_parse_v6(al, w, rule, err, errlen));
	if (w[0] == '.')
		return (al_parse_domain(al, w, rule, err, errlen));
	if (al_numeric(w))
		return (al_parse_v4(al, w, rule, err, errlen));
	return (al_parse_name(al, w, rule, err, errlen));
}

/*
 * Build the open-addressing table of .domain rules; a suffix written
 * twice keeps its first rule.  Returns 0 or -1.
 */
static int
al_build_domains(struct addrlist *al)
{
	const struct al_domain	*d, *o;
	size_t			 i, j, size = 8;

	if (al->al_ndom == 0)
		return (0);
	while (size < al->al_ndom * 2)
		size *= 2;
	if ((al->al_domtab = calloc(size, sizeof(*al->al_domtab))) == NULL)
		return (-1);
	for (j = 0; j < size; j++)
		al->al_domtab[j] = AL_NONE;
	al->al_domsize = size;
	for (i = 0; i < al->al_ndom; i++) {
		d = &al->al_dom[i];
		for (j = d->ad_hash & (size - 1); al->al_domtab[j] != AL_NONE;
		    j = (j + 1) & (size - 1)) {
			o = &al->al_dom[al->al_domtab[j]];
			if (o->ad_len == d->ad_len &&
			    strcmp(o->ad_suffix, d->ad_suffix) == 0)
				break;
		}
		if (al->al_domtab[j] == AL_NONE)
			al->al_domtab[j] = (int32_t)i;
	}
	return (0);
}

/* Compile the words of one list; see addrlist.h. */
struct addrlist *
addrlist_parse(char **words, int nwords, char *err, size_t errlen,
    int *badword)
{
	struct addrlist	*al;
	int		 i, ndom = 0;

	if (badword != NULL)
		*badword = -1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((al = calloc(1, sizeof(*al))) == NULL)
		goto nomem;
	al->al_v4base = AL_NONE;
	al->al_v4.at_root = al->al_v6.at_root = AL_NONE;
	if (nwords >= AL_MAXRULES) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "too many addresses (%d)",
			    nwords);
		goto fail;
	}
	if (nwords > 0 &&
	    (al->al_text = calloc((size_t)nwords, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < nwords; i++)
		ndom += words[i][0] == '.';
	if (ndom > 0 &&
	    (al->al_dom = calloc((size_t)ndom, sizeof(*al->al_dom))) == NULL)
		goto nomem;
	for (i = 0; i < nwords; i++) {
		if ((al->al_text[i] = strdup(words[i])) == NULL)
			goto nomem;
		al->al_nrules = i + 1;
		if (al_parse_word(al, words[i], i, err, errlen) != 0) {
			if (badword != NULL)
				*badword = i;
			goto fail;
		}
	}
	if (al_build_domains(al) != 0)
		goto nomem;
	return (al);
nomem:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory");
fail:
	addrlist_free(al);
	return (NULL);
}

/* Free a list and everything it holds. */
void
addrlist_free(struct addrlist *al)
{
	size_t	 i;
	int	 r;

	if (al == NULL)
		return;
	for (r = 0; r < al->al_nrules; r++)
		free(al->al_text[r]);
	free(al->al_text);
	free(al->al_v4.at_nodes);
	free(al->al_v6.at_nodes);
	for (i = 0; i < al->al_ndom; i++)
		free(al->al_dom[i].ad_suffix);
	free(al->al_dom);
	free(al->al_domtab);
	free(al);
}

/* Does the list hold a .domain rule? */
int
addrlist_needs_name(const struct addrlist *al)
{
	return (al != NULL && al->al_ndom > 0);
}

/* Number of words the list was built from. */
int
addrlist_count(const struct addrlist *al)
{
	return (al == NULL ? 0 : al->al_nrules);
}

/* Keep (<rule>, <spec>) in *<best> if it beats what is there. */
static inline void
al_better(int rule, int spec, int *best, int *bestspec)
{
	if (*best == AL_NONE || spec > *bestspec ||
	    (spec == *bestspec && rule < *best)) {
		*best = rule;
		*bestspec = spec;
	}
}

/* Longest match of IPv4 <host> (host byte order) in the IPv4 trie. */
static void
al_match_v4(const struct addrlist *al, uint32_t host, int *best,
    int *bestspec)
{
	const struct al_node	*n = al->al_v4.at_nodes;
	const struct al_slot	*sl;
	uint32_t		 i = 0, r = AL_SLOT_EMPTY;
	int			 shift;

	if (al->al_v4base != AL_NONE)
		al_better(al->al_v4base, al->al_v4basespec, best, bestspec);
	if (al->al_v4.at_root != AL_NONE)
		al_better(al->al_v4.at_root, AL_V4_DEPTH, best, bestspec);
	if (n == NULL)
		return;
	for (shift = 32 - AL_STRIDE;; shift -= AL_STRIDE) {
		sl = &n[i].an_slot[(host >> shift) & (AL_FANOUT - 1)];
		if (sl->as_rule != AL_SLOT_EMPTY)
			r = sl->as_rule;
		if ((i = sl->as_child) == 0)
			break;
	}
	if (r != AL_SLOT_EMPTY)
		al_better((int)(r & (AL_MAXRULES - 1)),
		    AL_V4_DEPTH + (int)(r >> 24), best, bestspec);
}

/* Longest match of IPv6 <a> in the IPv6 trie. */
static void
al_match_v6(const struct addrlist *al, const uint8_t *a, int *best,
    int *bestspec)
{
	const struct al_node	*n = al->al_v6.at_nodes;
	const struct al_slot	*sl;
	uint32_t		 i = 0, r = AL_SLOT_EMPTY;
	int			 d;

	if (al->al_v6.at_root != AL_NONE)
		al_better(al->al_v6.at_root, 0, best, bestspec);
	if (n == NULL)
		return;
	for (d = 0;; d += AL_STRIDE) {
		sl = &n[i].an_slot[al_nibble6(a, d)];
		if (sl->as_rule != AL_SLOT_EMPTY)
			r = sl->as_rule;
		if ((i = sl->as_child) == 0)
			break;
	}
	if (r != AL_SLOT_EMPTY)
		al_better((int)(r & (AL_MAXRULES - 1)), (int)(r >> 24), best,
		    bestspec);
}

/*
 * Longest .domain suffix of <name> (one trailing dot ignored, at least
 * one character before the suffix), probing the table at each dot.
 */
static void
al_match_domain(const struct addrlist *al, const char *name, int *best,
    int *bestspec)
{
	const struct al_domain	*d;
	size_t			 len, i, j, k;
	uint32_t		 h = AL_FNV_OFFSET;

	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = len; i-- > 1;) {
		h = (h ^ al_lower((unsigned char)name[i])) * AL_FNV_PRIME;
		if (name[i] != '.')
			continue;
		for (j = h & (al->al_domsize - 1);
		    al->al_domtab[j] != AL_NONE;
		    j = (j + 1) & (al->al_domsize - 1)) {
			d = &al->al_dom[al->al_domtab[j]];
			if (d->ad_hash != h || d->ad_len != len - i)
				continue;
			for (k = 0; k < d->ad_len; k++)
				if (al_lower((unsigned char)name[i + k]) !=
				    (unsigned char)d->ad_suffix[k])
					break;
			/*
			 * Every matching suffix is offered, not only the
			 * longest: specificity is capped, so a longer suffix
			 * can tie with a shorter one written before it.
			 */
			if (k == d->ad_len) {
				al_better(d->ad_rule, d->ad_spec, best,
				    bestspec);
				break;
			}
		}
	}
}

/* Match a client against a list; see addrlist.h. */
int
addrlist_match(const struct addrlist *al, const struct sockaddr *sa,
    const char *revname, struct addrmatch *m)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*b;
	int				 best = AL_NONE, spec = -1;
	size_t				 n;

	m->am_matched = 0;
	m->am_specificity = -1;
	m->am_rule[0] = '\0';
	if (al == NULL)
		return (0);
	if (sa != NULL && sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		al_match_v4(al, ntohl(sin->sin_addr.s_addr), &best, &spec);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		b = sin6->sin6_addr.s6_addr;
		if (memcmp(b, al_mapped, 12) == 0)
			al_match_v4(al, (uint32_t)b[12] << 24 |
			    (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15],
			    &best, &spec);
		else
			al_match_v6(al, b, &best, &spec);
	}
	if (revname != NULL && al->al_ndom > 0)
		al_match_domain(al, revname, &best, &spec);
	if (best == AL_NONE)
		return (0);
	m->am_matched = 1;
	m->am_specificity = spec;
	n = strlen(al->al_text[best]);
	if (n >= sizeof(m->am_rule))
		n = sizeof(m->am_rule) - 1;
	memcpy(m->am_rule, al->al_text[best], n);
	m->am_rule[n] = '\0';
	return (1);
}
