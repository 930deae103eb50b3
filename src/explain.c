/*
 * --explain.  Counts start empty (no session is running in this process),
 * so rate and count rules show how they are set rather than whether they
 * would trip now, and the SENSOR deny list of the running daemon is not
 * seen; every rule about the client itself (time, address, country,
 * hosts.allow and hosts.deny) answers as for live traffic.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addrlist.h"
#include "config.h"
#include "explain.h"
#include "gate.h"
#include "geoip.h"
#include "libwrap.h"
#include "quota.h"
#include "sockaddr.h"

static const char *const explain_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

/* The service called <name>: by id first, then by name. */
const struct service_conf *
explain_find(const struct config *cf, const char *name)
{
	int	i;

	for (i = 0; i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_id, name) == 0)
			return cf->cf_services[i];
	for (i = 0; i < cf->cf_nservices; i++)
		if (strcmp(cf->cf_services[i]->sc_name, name) == 0)
			return cf->cf_services[i];
	return NULL;
}

/* "[DAY] HH:MM" into a time this week (local time); -1 if malformed. */
static time_t
explain_when(const char *when)
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 day[16];
	int		 h, m, wday = -1, i, n;

	if (when == NULL)
		return now;
	if (sscanf(when, "%15s %d:%d%n", day, &h, &m, &n) == 3 &&
	    when[n] == '\0') {
		for (i = 0; i < 7; i++)
			if (strncasecmp(day, explain_days[i], 3) == 0)
				wday = i;
		if (wday == -1)
			return -1;
	} else if (sscanf(when, "%d:%d%n", &h, &m, &n) != 2 || when[n] != '\0')
		return -1;
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	if (localtime_r(&now, &tm) == NULL)
		return -1;
	if (wday != -1)
		tm.tm_mday += (wday - tm.tm_wday + 7) % 7;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* The verified reverse name of <sa> into <name>; NULL if none. */
static const char *
explain_revname(const struct sockaddr *sa, socklen_t len, char *name,
    size_t namelen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 a[SOCKADDR_STRLEN], b[SOCKADDR_STRLEN];
	int		 ok = 0;

	if (getnameinfo(sa, len, name, namelen, NULL, 0, NI_NAMEREQD) != 0)
		return NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return NULL;
	(void)sockaddr_ntop(sa, a, sizeof(a));
	for (ai = res; ai != NULL && !ok; ai = ai->ai_next)
		ok = strcmp(sockaddr_ntop(ai->ai_addr, b, sizeof(b)), a) == 0;
	freeaddrinfo(res);
	return ok ? name : NULL;
}

/*
 * After the gate admitted client <c> at <sslen> bytes of address: the
 * answer of hosts.allow and hosts.deny, with its name looked up if a rule
 * reads it (this process may wait), into <v>.
 */
static void
explain_libwrap(const struct service_conf *sc, struct gate_client *c,
    socklen_t sslen, char *rev, size_t revlen, struct verdict *v)
{
	const char	*daemon = libwrap_daemon(sc), *name = c->gc_revname;
	char		 addr[SOCKADDR_STRLEN];
	int		 ok, wanted;

	if (daemon == NULL)
		return;
	(void)sockaddr_ntop(c->gc_sa, addr, sizeof(addr));
	if (name == NULL && gate_needs_name(sc))
		name = LIBWRAP_NO_NAME;
	ok = libwrap_check(daemon, addr, name, &wanted);
	if (wanted) {
		if ((name = explain_revname(c->gc_sa, sslen, rev, revlen)) ==
		    NULL)
			name = LIBWRAP_NO_NAME;
		ok = libwrap_check(daemon, addr, name, &wanted);
	}
	(void)gate_libwrap(daemon, ok, v);
}

/*
 * With accept_proxy the address above is the one a header claims; say
 * whether <addr> (at <sa>) would be believed as the front sending it.
 */
static void
explain_proxy_from(FILE *out, const struct service_conf *sc,
    const struct sockaddr *sa, const char *addr)
{
	struct addrmatch	m;

	if (!sc->sc_accept_proxy || sc->sc_proxy_from == NULL)
		return;
	if (addrlist_match(sc->sc_proxy_from, sa, NULL, &m))
		fprintf(out, "accept_proxy: a connection from %s itself is a "
		    "trusted front: proxy_from %s\n", addr, m.am_rule);
	else
		fprintf(out, "accept_proxy: a connection from %s itself is "
		    "refused before its PROXY header: not on proxy_from\n",
		    addr);
}

/*
 * The live counts the master sees: per_source is counted by the worker of
 * the source, so the master counts that source's sessions instead.
 */
static void
explain_live_counts(FILE *out, const struct service_conf *sc,
    const struct explain_live *live, time_t now, struct verdict *v)
{
	int	n;

	fprintf(out, "now: %d session%s of this service", quota_running(
	    live->el_quota), quota_running(live->el_quota) == 1 ? "" : "s");
	if (sc->sc_instances != LIMIT_UNLIMITED)
		fprintf(out, " (instances %d)", sc->sc_instances);
	fprintf(out, ", %d from this source", live->el_source_now);
	if (sc->sc_per_source != LIMIT_UNLIMITED)
		fprintf(out, " (per_source %d)", sc->sc_per_source);
	if ((n = quota_cps_blocked(live->el_quota, now)) > 0)
		fprintf(out, ", disabled by cps for %d s", n);
	fprintf(out, "\n");
	if (v->v_ok && sc->sc_per_source != LIMIT_UNLIMITED &&
	    live->el_source_now >= sc->sc_per_source) {
		v->v_ok = 0;
		v->v_reason = GATE_PER_SOURCE;
		(void)snprintf(v->v_rule, sizeof(v->v_rule), "per_source %d: "
		    "%d running from this source", sc->sc_per_source,
		    live->el_source_now);
	}
}

int
explain_run(const struct config *cf, const char *name, const char *addr,
    const char *when)
{
	return explain_write(stdout, stderr, cf, name, addr, when, NULL);
}

int
explain_write(FILE *out, FILE *err, const struct config *cf,
    const char *name, const char *addr, const char *when,
    const struct explain_live *live)
{
	const struct service_conf	*sc;
	struct gate_client		 c;
	struct sockaddr_storage		 ss;
	struct addrinfo			 hints, *res;
	struct quota			*li = NULL;
	struct verdict			 v;
	struct tm			 tm;
	socklen_t			 sslen;
	char				 rev[NI_MAXHOST], stamp[32], cc[3];
	time_t				 t;

	if ((sc = explain_find(cf, name)) == NULL) {
		fprintf(err, "portgate: --explain: no enabled service %s\n",
		    name);
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &res) != 0) {
		fprintf(err, "portgate: --explain: '%s' is not a numeric "
		    "address\n", addr);
		return 2;
	}
	memcpy(&ss, res->ai_addr, res->ai_addrlen);
	sslen = res->ai_addrlen;
	freeaddrinfo(res);
	sockaddr_unmap(&ss, &sslen);
	if ((t = explain_when(when)) == -1) {
		fprintf(err, "portgate: --explain: expected [DAY] HH:MM, "
		    "found '%s'\n", when);
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.gc_sa = (struct sockaddr *)&ss;
	quota_key(sc, c.gc_sa, &c.gc_key);
	quota_key(NULL, c.gc_sa, &c.gc_fullkey);
	if (sc->sc_geoip != NULL)
		c.gc_country = geoip_country(sc->sc_geoip, c.gc_sa, cc);
	if (gate_needs_name(sc))
		c.gc_revname = explain_revname(c.gc_sa, sslen, rev, sizeof(rev));
	if (live == NULL && (li = quota_new()) == NULL) {
		fprintf(err, "portgate: --explain: out of memory\n");
		return 2;
	}
	if (gate_check(sc, live != NULL ? live->el_quota : li, &c, t,
	    (double)t, -1, &v))
		explain_libwrap(sc, &c, sslen, rev, sizeof(rev), &v);
	if (live == NULL)
		quota_free(li);
	else
		explain_live_counts(out, sc, live, t, &v);
	(void)localtime_r(&t, &tm);
	(void)strftime(stamp, sizeof(stamp), "%a %H:%M", &tm);
	fprintf(out, "service %s, client %s%s%s, %s: %s: %s\n", sc->sc_id, addr,
	    c.gc_country != NULL ? " country " : "",
	    c.gc_country != NULL ? c.gc_country : "", stamp,
	    v.v_ok ? "admitted" : "refused", v.v_rule);
	explain_proxy_from(out, sc, c.gc_sa, addr);
	return v.v_ok ? 0 : 1;
}
