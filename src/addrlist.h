/*
 * Address lists of only_from and no_access: parsed and compiled once when
 * the configuration is loaded, matched for every client.
 *
 * Every rule is a prefix of the IPv6 address space; an IPv4 rule a.b.c.d/n
 * is the prefix ::ffff:a.b.c.d/(96+n), and an IPv4 client (AF_INET or
 * IPv4-mapped AF_INET6) is looked up as ::ffff:a.b.c.d.  Specificity, the
 * number that decides between two matching rules (larger wins):
 *
 *	rule					specificity
 *	"0", "0.0.0.0", "::", "::/0" (everyone)	0
 *	IPv6 v6addr/n				n (0-128)
 *	IPv6 address (no prefix)		128
 *	IPv4 a.b.c.d/n, trailing-zero network,	96 + n (96-128): /8 = 104,
 *	    factorised, /etc/networks name	    /16 = 112, /24 = 120
 *	IPv4 address a.b.c.d			128
 *	host name (all its addresses)		128
 *	.domain with k labels ("." count)	120 + k, at most 127
 *
 * So a .domain rule ranks above every network of /24 or shorter (IPv4) or
 * /120 or shorter (IPv6) and below every single host; ".a.example.com"
 * (123) ranks above ".example.com" (122).  A .domain rule can tie with an
 * IPv4 /25-/31 or IPv6 /121-/127 network; within one list the rule written
 * first wins a tie, and across lists the caller decides (gate.c refuses).
 * An IPv4 "0.0.0.0/0" is all IPv4 clients only (specificity 96), whereas
 * "0.0.0.0" and "0" keep xinetd's meaning "everyone" and match IPv6
 * clients too.  An IPv6 rule that covers ::ffff:0:0/96 (::/0 ... ::/80)
 * matches IPv4 clients as well.
 */
#ifndef PORTGATE_ADDRLIST_H
#define PORTGATE_ADDRLIST_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct addrlist;

/*
 * Compile the words of one list.  Accepts every form of xinetd.conf(5):
 * IPv4/IPv6 addresses, CIDR ("10.0.0.0/8", "2001:db8::/32", "::1/128"),
 * trailing-zero IPv4 networks ("128.138.0.0" is /16, "0.0.0.0" and "0"
 * everyone), factorised "a.b.{x,y}" or "a.b.{x,y}.0" (IPv4, braces in the
 * last non-zero group; the braced group always counts, later ".0" groups
 * are wildcards), host names (resolved now with getaddrinfo(3); every
 * address kept as a host rule), ".domain" suffixes (matched
 * case-insensitively on the client's reverse name) and /etc/networks
 * names (getnetbyname(3)).  A word is tried as a host name before a
 * network name, as xinetd does.  An empty list (<nwords> == 0) is valid
 * and matches nothing.  May block on DNS: call only at load time.
 * Returns the list, or NULL with a message in <err> naming the bad word
 * and its index in *<badword> (-1 for an allocation failure); <badword>
 * may be NULL.
 */
struct addrlist *addrlist_parse(char **words, int nwords, char *err,
	    size_t errlen, int *badword);
/* Free <al> and everything it holds; NULL is allowed. */
void	addrlist_free(struct addrlist *al);
/* Does the list hold a ".domain" rule (then the reverse name is needed)? */
int	addrlist_needs_name(const struct addrlist *al);
/* Number of words the list was built from. */
int	addrlist_count(const struct addrlist *al);

/* Result of one match. */
struct addrmatch {
	int		 am_matched;	/* 1 if a rule matched */
	int		 am_specificity; /* larger is more specific; -1 if none */
	char		 am_rule[128];	/* the rule's text, as written */
};

/*
 * Match client <sa> (AF_INET or AF_INET6; an IPv4-mapped IPv6 address is
 * matched as IPv4; NULL or another family matches address rules never)
 * against <al>; <revname> is the client's verified reverse name or NULL
 * (then no .domain rule matches).  Fills <m> with the most specific
 * matching rule (the first written among equals), or am_matched 0,
 * am_specificity -1 and an empty am_rule.  Pure: no DNS, no logging, no
 * allocation; the cost does not grow with the length of the list.
 * Returns m->am_matched.
 */
int	addrlist_match(const struct addrlist *al, const struct sockaddr *sa,
	    const char *revname, struct addrmatch *m);

#endif
