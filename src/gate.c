/*
 * The gate.  Where only_from and no_access both match, the more specific
 * rule decides, as xinetd.conf(5) promises (the xinetd binary refuses);
 * equal specificity refuses.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addrlist.h"
#include "config.h"
#include "gate.h"
#include "quota.h"
#include "timewin.h"

/* Refuse with <reason> and a formatted rule text; returns 0. */
static int
gate_refuse(struct verdict *v, enum gate_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
gate_refuse(struct verdict *v, enum gate_reason reason, const char *fmt, ...)
{
	va_list	ap;

	v->v_ok = 0;
	v->v_reason = reason;
	va_start(ap, fmt);
	(void)vsnprintf(v->v_rule, sizeof(v->v_rule), fmt, ap);
	va_end(ap);
	return 0;
}

/* only_from and no_access; 1 if the client may pass. */
static int
gate_address(const struct service_conf *sc, const struct gate_client *c,
    struct verdict *v)
{
	struct addrmatch	allow, deny;

	memset(&allow, 0, sizeof(allow));
	memset(&deny, 0, sizeof(deny));
	if (sc->sc_only_from != NULL)
		(void)addrlist_match(sc->sc_only_from, c->gc_sa, c->gc_revname,
		    &allow);
	if (sc->sc_no_access != NULL)
		(void)addrlist_match(sc->sc_no_access, c->gc_sa, c->gc_revname,
		    &deny);
	if (deny.am_matched && allow.am_matched) {
		if (allow.am_specificity > deny.am_specificity) {
			(void)snprintf(v->v_rule, sizeof(v->v_rule),
			    "only_from %s (more specific than no_access %s)",
			    allow.am_rule, deny.am_rule);
			return 1;
		}
		return gate_refuse(v, GATE_ADDRESS, "no_access %s (%s only_from "
		    "%s)", deny.am_rule, allow.am_specificity ==
		    deny.am_specificity ? "as specific as" :
		    "more specific than", allow.am_rule);
	}
	if (deny.am_matched)
		return gate_refuse(v, GATE_ADDRESS, "no_access %s",
		    deny.am_rule);
	if (sc->sc_only_from != NULL && !allow.am_matched)
		return gate_refuse(v, GATE_ADDRESS, "only_from: no rule "
		    "matches");
	if (allow.am_matched)
		(void)snprintf(v->v_rule, sizeof(v->v_rule), "only_from %s",
		    allow.am_rule);
	return 1;
}

/* only_from_country and no_access_country; 1 if the client may pass. */
static int
gate_country(const struct service_conf *sc, const struct gate_client *c,
    struct verdict *v)
{
	const char	*cc = c->gc_country != NULL ? c->gc_country : "--";

	if (wordlist_has(&sc->sc_no_access_country, cc))
		return gate_refuse(v, GATE_COUNTRY, "no_access_country %s", cc);
	if (sc->sc_has_only_from_country &&
	    !wordlist_has(&sc->sc_only_from_country, cc))
		return gate_refuse(v, GATE_COUNTRY, "only_from_country: %s is "
		    "not listed", cc);
	return 1;
}

/* cps, max_load, instances, per_source, per_source_cps. */
static int
gate_limits(const struct service_conf *sc, const struct quota *li,
    const struct gate_client *c, time_t now, double fnow, double load,
    struct verdict *v)
{
	double	rate, burst;
	int	n;

	if ((n = quota_cps_blocked(li, now)) > 0)
		return gate_refuse(v, GATE_CPS, "cps %d %d: service disabled "
		    "for %d more second%s", sc->sc_cps_rate, sc->sc_cps_wait, n,
		    n == 1 ? "" : "s");
	if (sc->sc_max_load > 0 && load >= sc->sc_max_load)
		return gate_refuse(v, GATE_LOAD, "max_load %.2f: load is %.2f",
		    sc->sc_max_load, load);
	if (sc->sc_instances != LIMIT_UNLIMITED &&
	    (n = quota_running(li)) >= sc->sc_instances)
		return gate_refuse(v, GATE_INSTANCES, "instances %d: %d "
		    "running", sc->sc_instances, n);
	if (c->gc_sa == NULL)
		return 1;
	if (sc->sc_per_source != LIMIT_UNLIMITED &&
	    (n = quota_source_count(li, &c->gc_key)) >= sc->sc_per_source)
		return gate_refuse(v, GATE_PER_SOURCE, "per_source %d: %d "
		    "running from this source", sc->sc_per_source, n);
	if (!quota_rate_ok(li, sc, &c->gc_key, fnow)) {
		/* A dgram built-in has a rate even when none is set. */
		quota_rate(sc, &rate, &burst);
		return gate_refuse(v, GATE_RATE, "per_source_cps %g %g: no "
		    "token left for this source", rate, burst);
	}
	return 1;
}

int
gate_check(const struct service_conf *sc, const struct quota *li,
    const struct gate_client *c, time_t now, double fnow, double load,
    struct verdict *v)
{
	char	window[128];

	memset(v, 0, sizeof(*v));
	if (sc->sc_access_times != NULL &&
	    !timewin_match(sc->sc_access_times, now, window, sizeof(window)))
		return gate_refuse(v, GATE_TIME, "access_times: outside every "
		    "window");
	/* A wait = yes stream service knows no client address. */
	if (c->gc_sa != NULL) {
		if (quota_denied(&c->gc_fullkey, now))
			return gate_refuse(v, GATE_SENSOR, "deny_time: the "
			    "address touched a SENSOR service");
		if (!gate_address(sc, c, v) || !gate_country(sc, c, v))
			return 0;
	}
	if (!gate_limits(sc, li, c, now, fnow, load, v))
		return 0;
	v->v_ok = 1;
	v->v_reason = GATE_OK;
	if (v->v_rule[0] == '\0' && sc->sc_access_times != NULL)
		(void)snprintf(v->v_rule, sizeof(v->v_rule), "access_times %s",
		    window);
	if (v->v_rule[0] == '\0')
		(void)strlcpy(v->v_rule, "no rule refuses", sizeof(v->v_rule));
	return 1;
}

int
gate_libwrap(const char *daemon, int allowed, struct verdict *v)
{
	if (daemon == NULL || allowed)
		return v->v_ok;
	return gate_refuse(v, GATE_LIBWRAP, "libwrap %s: refused by "
	    "hosts.allow and hosts.deny", daemon);
}

const char *
gate_reason_name(enum gate_reason r)
{
	switch (r) {
	case GATE_OK:
		return "ok";
	case GATE_TIME:
		return "time";
	case GATE_SENSOR:
	case GATE_ADDRESS:
		return "address";
	case GATE_COUNTRY:
		return "country";
	case GATE_CPS:
		return "connections per second";
	case GATE_LOAD:
		return "load";
	case GATE_INSTANCES:
		return "service_limit";
	case GATE_PER_SOURCE:
		return "per_source_limit";
	case GATE_RATE:
		return "per_source_rate";
	case GATE_LIBWRAP:
		return "libwrap";
	}
	return "UNKNOWN";
}

int
gate_needs_name(const struct service_conf *sc)
{
	return (sc->sc_only_from != NULL &&
	    addrlist_needs_name(sc->sc_only_from)) ||
	    (sc->sc_no_access != NULL && addrlist_needs_name(sc->sc_no_access));
}
