/*
 * Address lists of only_from and no_access: the list object and its
 * words, read once when the configuration is loaded.  Each word is parsed
 * by its form (address, CIDR, xinetd's trailing-zero and factorised
 * a.b.{x,y} networks, host name, .domain, /etc/networks name) into
 * prefixes and .domain rules, which addrlist_match.c compiles and
 * matches.
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

#include "addrlist_int.h"

/* Format an error naming <word> into <err>; always returns -1. */
static int
al_err(char *err, size_t errlen, const char *word, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "\"%s\": %s", word, msg);
	return (-1);
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
		return (addrlist_add_everyone(al, rule) == 0 ? 0 :
		    al_err(err, errlen, w, "out of memory"));
	if (inet_pton(AF_INET, w, &v4) != 1)
		return (al_err(err, errlen, w,
		    "not an IPv4 address (expected a.b.c.d)"));
	if (v4.s_addr == 0)
		return (addrlist_add_everyone(al, rule) == 0 ? 0 :
		    al_err(err, errlen, w, "out of memory"));
	if (addrlist_add_v4(al, &v4, al_trailing_zero(ntohl(v4.s_addr)), rule) != 0)
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
	if (addrlist_add_prefix(al, a, IN6_IS_ADDR_UNSPECIFIED(&v6) ? 0 : 128,
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
		if (addrlist_add_prefix(al, a, (int)plen, rule) != 0)
			return (al_err(err, errlen, w, "out of memory"));
		return (0);
	}
	if (inet_pton(AF_INET, addr, &v4) != 1)
		return (al_err(err, errlen, w,
		    "not an IPv4 address before '/' (expected a.b.c.d/n)"));
	if (addrlist_add_v4(al, &v4, (int)plen, rule) != 0)
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
		if (addrlist_add_v4(al, &v4, 8 * (nbefore + 1), rule) != 0)
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
	if (addrlist_add_v4(al, &v4, plen, rule) != 0)
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
			rc = addrlist_add_v4(al,
			    &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			    32, rule);
		else if (ai->ai_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, sizeof(a));
			rc = addrlist_add_prefix(al, a, 128, rule);
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
	if (addrlist_build_domains(al) != 0)
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
