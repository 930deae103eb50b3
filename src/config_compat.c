/*
 * Differences from xinetd's meaning.  portgate reads xinetd's files, but a
 * few lines mean something else on purpose (doc/portgate.conf.5, section
 * DIFFERENCES FROM XINETD): an admin moving a file over must learn which
 * clients are now admitted or refused, at the line concerned and with a
 * concrete case, not from the manual.  Only the differences that change
 * who is admitted are reported:
 *
 *  - only_from and no_access both match: the more specific rule decides
 *    here, xinetd always refuses (an address of the only_from rule that
 *    the no_access rule covers is named);
 *  - an IPv6 /128 rule, which xinetd never matches;
 *  - access_times windows across midnight, ending at 24:00 or with days,
 *    which xinetd rejects (it disables the service);
 *  - an explicit v6only = no, which xinetd turns into an IPv6-only socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"
#include "conf_attr.h"
#include "conf_diag.h"
#include "config.h"
#include "config_compat.h"

/* At most this many notes about one list of one service. */
#define COMPAT_MAX_NOTES	8
/* The addresses of one rule tried against the other list. */
#define COMPAT_MAX_CANDIDATES	4

/* The merged value of attribute <name> (which must exist). */
static struct attr_val *
compat_val(struct attr_val *vals, const char *name)
{
	return &vals[attr_lookup(name)];
}

/* Was <av> written in the service or its defaults (not a table default)? */
static int
compat_written(const struct attr_val *av)
{
	return av->av_set && av->av_file != NULL;
}

/*
 * The numeric rule <word> ("a.b.c.d", "a.b.c.0", "a.b.c.d/n", "a.b.{x,y}",
 * "v6addr", "v6addr/n") as its base address <ss> and prefix length; 0, or
 * -1 for a word that is no numeric rule (names, .domain) or everyone.
 */
static int
compat_rule(const char *word, struct sockaddr_storage *ss, int *plen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[128], *p, *q;
	const char		*slash;
	uint32_t		 a;
	int			 n = -1;

	if (strlen(word) >= sizeof(buf))
		return -1;
	(void)strlcpy(buf, word, sizeof(buf));
	if ((slash = strchr(word, '/')) != NULL) {
		n = atoi(slash + 1);
		buf[slash - word] = '\0';
	}
	/* a.b.{x,y}.0: the first of the braces. */
	if ((p = strchr(buf, '{')) != NULL) {
		if ((q = strchr(p, '}')) == NULL)
			return -1;
		p[strcspn(p, ",}")] = '\0';
		memmove(p, p + 1, strlen(p + 1) + 1);
		memmove(p + strlen(p), q + 1, strlen(q + 1) + 1);
	}
	memset(ss, 0, sizeof(*ss));
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		*plen = n == -1 ? 128 : n;
		return *plen > 0 && *plen <= 128 ? 0 : -1;
	}
	if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	if (n == -1) {
		/* xinetd's trailing zero octets are wildcards. */
		a = ntohl(sin->sin_addr.s_addr);
		for (n = 32; n > 0 && (a & 0xff) == 0; n -= 8)
			a >>= 8;
	}
	*plen = n;
	return n > 0 && n <= 32 ? 0 : -1;
}

/*
 * Candidate <k> (0 to COMPAT_MAX_CANDIDATES - 1) of the rule <base>/<plen>:
 * its first, second, second-to-last and last addresses.
 */
static void
compat_candidate(const struct sockaddr_storage *base, int plen, int k,
    struct sockaddr_storage *out)
{
	uint8_t	*b;
	int	 len, i, bit, carry;

	*out = *base;
	if (out->ss_family == AF_INET) {
		b = (uint8_t *)&((struct sockaddr_in *)out)->sin_addr;
		len = 4;
	} else {
		b = (uint8_t *)&((struct sockaddr_in6 *)out)->sin6_addr;
		len = 16;
	}
	/* The first address, then set the host bits for the last ones. */
	for (i = 0; i < len * 8; i++) {
		bit = 0x80 >> (i % 8);
		if (i >= plen) {
			if (k >= 2)
				b[i / 8] |= bit;
			else
				b[i / 8] &= ~bit;
		}
	}
	if (plen == len * 8 || (k != 1 && k != 2))
		return;
	/* One step in from either end. */
	for (i = len - 1, carry = 1; i >= 0 && carry; i--) {
		if (k == 1)
			carry = ++b[i] == 0;
		else
			carry = b[i]-- == 0;
	}
}

/* The numeric text of address <ss>. */
static void
compat_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, len) == NULL)
		(void)strlcpy(buf, "?", len);
}

/*
 * only_from and no_access both match an address: portgate lets the more
 * specific rule decide, xinetd refuses.  For each numeric only_from rule,
 * find an address of it that no_access covers less specifically.
 */
static void
compat_overlap(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val		*of = compat_val(vals, "only_from");
	struct sockaddr_storage	 base, cand;
	struct addrmatch	 allow, deny;
	char			 addr[INET6_ADDRSTRLEN];
	int			 i, k, plen, notes = 0;

	if (sc->sc_only_from == NULL || sc->sc_no_access == NULL)
		return;
	for (i = 0; i < of->av_n && notes < COMPAT_MAX_NOTES; i++) {
		if (compat_rule(of->av_words[i], &base, &plen) == -1)
			continue;
		for (k = 0; k < COMPAT_MAX_CANDIDATES; k++) {
			compat_candidate(&base, plen, k, &cand);
			if (!addrlist_match(sc->sc_only_from,
			    (struct sockaddr *)&cand, NULL, &allow) ||
			    !addrlist_match(sc->sc_no_access,
			    (struct sockaddr *)&cand, NULL, &deny) ||
			    allow.am_specificity <= deny.am_specificity)
				continue;
			compat_ntop(&cand, addr, sizeof(addr));
			conf_warn(cd, of->av_files[i], of->av_lines[i],
			    "service %s: xinetd would refuse %s here, portgate "
			    "admits it (only_from %s is more specific than "
			    "no_access %s: the more specific rule wins)",
			    sc->sc_name, addr, allow.am_rule, deny.am_rule);
			notes++;
			break;
		}
	}
}

/* An IPv6 /128 rule, which xinetd stores as a host name never matched. */
static void
compat_v6_host(const struct service_conf *sc, struct attr_val *vals,
    const char *name, struct conf_diag *cd)
{
	struct attr_val	*av = compat_val(vals, name);
	const char	*w;
	size_t		 len;
	int		 i, notes = 0;

	if (!compat_written(av))
		return;
	for (i = 0; i < av->av_n && notes < COMPAT_MAX_NOTES; i++) {
		w = av->av_words[i];
		len = strlen(w);
		if (strchr(w, ':') == NULL || len < 5 ||
		    strcmp(w + len - 4, "/128") != 0)
			continue;
		conf_warn(cd, av->av_files[i], av->av_lines[i], "service %s: "
		    "xinetd never matches %s %s (an IPv6 /128): it would %s "
		    "%.*s here, portgate %s it", sc->sc_name, name, w,
		    strcmp(name, "only_from") == 0 ? "refuse" : "admit",
		    (int)(len - 4), w,
		    strcmp(name, "only_from") == 0 ? "admits" : "refuses");
		notes++;
	}
}

/* "H:MM" into minutes of the day (24:00 is 1440); -1 if it is not one. */
static int
compat_minutes(const char *s, size_t len)
{
	int	h, m, n;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || (size_t)n != len)
		return -1;
	return h * 60 + m;
}

/*
 * access_times that xinetd rejects, disabling the service (so it refuses
 * every client): days, a window across midnight, and the end 24:00.
 */
static void
compat_times(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*av = compat_val(vals, "access_times");
	const char	*w, *dash;
	int		 i, start, end, notes = 0;

	if (sc->sc_access_times == NULL || !compat_written(av))
		return;
	for (i = 0; i < av->av_n && notes < COMPAT_MAX_NOTES; i++) {
		w = av->av_words[i];
		if (isalpha((unsigned char)w[0])) {
			conf_warn(cd, av->av_files[i], av->av_lines[i],
			    "service %s: xinetd knows no days (%s): it would "
			    "disable the service and refuse every client, "
			    "portgate admits clients on those days",
			    sc->sc_name, w);
			notes++;
			continue;
		}
		if ((dash = strchr(w, '-')) == NULL ||
		    (start = compat_minutes(w, dash - w)) == -1 ||
		    (end = compat_minutes(dash + 1, strlen(dash + 1))) == -1)
			continue;
		if (end == 24 * 60)
			conf_warn(cd, av->av_files[i], av->av_lines[i],
			    "service %s: xinetd rejects the end 24:00 of %s: "
			    "it would disable the service and refuse every "
			    "client, portgate admits clients from %.*s to "
			    "23:59:59",
			    sc->sc_name, w, (int)(dash - w), w);
		else if (end < start)
			conf_warn(cd, av->av_files[i], av->av_lines[i],
			    "service %s: xinetd rejects %s, a window across "
			    "midnight: it would disable the service and refuse "
			    "every client, portgate admits clients from %.*s "
			    "to %s", sc->sc_name, w, (int)(dash - w), w,
			    dash + 1);
		else
			continue;
		notes++;
	}
}

/* xinetd makes any v6only line of a service, even "no", IPv6-only. */
static void
compat_v6only(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*av = compat_val(vals, "v6only");

	if (!compat_written(av) || av->av_inherited || sc->sc_v6only != 0 ||
	    sc->sc_bindaddr.ss_family == AF_INET ||
	    (sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV4)
		return;
	conf_warn(cd, av->av_file, av->av_line, "service %s: xinetd makes the "
	    "socket IPv6-only for any v6only line: it would refuse IPv4 "
	    "clients such as 127.0.0.1 here, portgate admits them (v6only = no "
	    "is dual stack)", sc->sc_name);
}

void
config_compat(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	/* Its server accepts the clients: no address rule ever applies. */
	if (sc->sc_socktype != SOCK_STREAM || !sc->sc_wait) {
		compat_overlap(sc, vals, cd);
		compat_v6_host(sc, vals, "only_from", cd);
		compat_v6_host(sc, vals, "no_access", cd);
	}
	compat_times(sc, vals, cd);
	compat_v6only(sc, vals, cd);
}
