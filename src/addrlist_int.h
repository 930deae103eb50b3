/*
 * What the two halves of the address lists share: the list object, built
 * by addrlist.c from the words, and the compiled tries and .domain table
 * that addrlist_match.c fills and reads.  Not for other modules.
 */
#ifndef PORTGATE_ADDRLIST_INT_H
#define PORTGATE_ADDRLIST_INT_H

#include <sys/types.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "addrlist.h"

#define AL_NONE			(-1)
#define AL_MAXRULES		(1 << 24)	/* rule index in 24 bits */
#define AL_SPEC_DOMAIN		120	/* a .domain ranks above an IPv4 /24 */
#define AL_SPEC_DOMAIN_MAX	127	/* and below a single host */

struct al_node;

/* A 16-way trie of prefixes (addrlist_match.c). */
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
	uint32_t	 ad_hash;	/* set by addrlist_build_domains() */
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

/* Lower-case an ASCII letter without looking at the locale. */
static inline unsigned char
al_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/*
 * Add the IPv6-space prefix <a>/<plen> (bits past <plen> are cleared in
 * <a>), IPv4 <v4> (network byte order) as prefix /<plen>, or everyone, for
 * rule <rule>: a longer prefix wins over a shorter one, and the first rule
 * added over a later one of the same length.  0, or -1 when out of memory.
 */
int	addrlist_add_prefix(struct addrlist *al, uint8_t *a, int plen,
	    int rule);
int	addrlist_add_v4(struct addrlist *al, const struct in_addr *v4,
	    int plen, int rule);
int	addrlist_add_everyone(struct addrlist *al, int rule);
/*
 * Build the table of the al_ndom .domain rules once they are all parsed;
 * a suffix written twice keeps its first rule.  0, or -1 (no memory).
 */
int	addrlist_build_domains(struct addrlist *al);

#endif
