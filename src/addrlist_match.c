/*
 * Matching address lists, and the compiled form that makes it fast: two
 * 16-way tries (IPv4 clients, that is ::ffff:0:0/96, and the rest of the
 * IPv6 space) and a hash table of .domain suffixes.  A trie node consumes
 * four address bits; a prefix whose length is not a multiple of four
 * fills every slot it covers (controlled prefix expansion), a longer
 * prefix overriding a shorter one.  A match reads at most 8 (IPv4) or 32
 * (IPv6) slots and probes the table once per label of the reverse name,
 * whatever the length of the list; the deepest rule on the walk is the
 * most specific one, and the first written wins among equals.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist_int.h"

#define AL_STRIDE		4	/* address bits per trie node */
#define AL_FANOUT		(1 << AL_STRIDE)
#define AL_SLOT_EMPTY		UINT32_MAX
#define AL_V4_DEPTH		96	/* depth of ::ffff:0:0/96 in IPv6 */
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

/* The prefix ::ffff:0:0/96 of IPv4-mapped addresses. */
static const uint8_t al_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

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
 * Add the IPv6-space prefix <a>/<plen> for <rule>; see addrlist_int.h.
 * Prefixes inside ::ffff:0:0/96 go to the IPv4 trie; a shorter one that
 * covers it is also remembered as the base rule for every IPv4 client.
 */
int
addrlist_add_prefix(struct addrlist *al, uint8_t *a, int plen, int rule)
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
int
addrlist_add_v4(struct addrlist *al, const struct in_addr *v4, int plen,
    int rule)
{
	uint8_t	 a[16];

	memcpy(a, al_mapped, 12);
	memcpy(a + 12, &v4->s_addr, 4);
	return (addrlist_add_prefix(al, a, AL_V4_DEPTH + plen, rule));
}

/* Add everyone (all of the IPv6 space, IPv4 included) for <rule>. */
int
addrlist_add_everyone(struct addrlist *al, int rule)
{
	uint8_t	 a[16];

	memset(a, 0, sizeof(a));
	return (addrlist_add_prefix(al, a, 0, rule));
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

/*
 * Build the open-addressing table of .domain rules, keyed by the hash of
 * each suffix read from its end (as a match reads the reverse name); see
 * addrlist_int.h.
 */
int
addrlist_build_domains(struct addrlist *al)
{
	struct al_domain	*d;
	const struct al_domain	*o;
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
		d->ad_hash = al_hash_rev(d->ad_suffix, d->ad_len);
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
