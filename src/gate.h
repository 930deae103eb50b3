/*
 * The gate: whether a client may pass, decided in a fixed order with the
 * rule behind the verdict.  Pure: no I/O, no logging, no allocation, so
 * that live traffic and --explain take the same path.
 */
#ifndef PORTGATE_GATE_H
#define PORTGATE_GATE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <time.h>

#include "quota.h"

struct service_conf;

enum gate_reason {
	GATE_OK = 0,
	GATE_TIME,		/* access_times */
	GATE_SENSOR,		/* on the deny list of a SENSOR service */
	GATE_ADDRESS,		/* only_from / no_access */
	GATE_COUNTRY,		/* only_from_country / no_access_country */
	GATE_CPS,		/* the service is disabled by cps */
	GATE_LOAD,		/* max_load */
	GATE_INSTANCES,
	GATE_PER_SOURCE,
	GATE_RATE,		/* per_source_cps */
	GATE_LIBWRAP		/* hosts.allow / hosts.deny (libwrap.c) */
};

/* What the gate knows of a client. */
struct gate_client {
	const struct sockaddr	*gc_sa;		/* unmapped; NULL: not known */
	const char		*gc_revname;	/* verified reverse name, or NULL */
	const char		*gc_country;	/* "FR", "--", or NULL */
	struct srckey		 gc_key;	/* per-source key (quota_key) */
	struct srckey		 gc_fullkey;	/* full address (deny list) */
};

struct verdict {
	int			 v_ok;
	enum gate_reason	 v_reason;
	char			 v_rule[320];	/* the rule that decided */
};

/*
 * Decide for <c> arriving at <sc> at <now> (<fnow> with sub-second
 * precision, for token buckets) with counts <li> and 1-minute load
 * average <load> (negative when unknown).  Order: access_times, sensor
 * deny list, only_from/no_access, country, cps, max_load, instances,
 * per_source, per_source_cps; the first refusal wins; gate_libwrap()
 * comes after them.  Returns v->v_ok.
 */
int	gate_check(const struct service_conf *sc, const struct quota *li,
	    const struct gate_client *c, time_t now, double fnow, double load,
	    struct verdict *v);
/*
 * The last step, after gate_check() admitted a client: the answer
 * <allowed> of hosts.allow and hosts.deny for daemon name <daemon> (NULL:
 * not consulted, flags = NOLIBWRAP), made a verdict in <v>, which keeps
 * the rule gate_check() admitted by.  Returns v->v_ok.  The files are read
 * by the caller (libwrap_check()), so that this stays free of I/O.
 */
int	gate_libwrap(const char *daemon, int allowed, struct verdict *v);
/* The FAIL reason of xinetd's log for <r> ("address", "time", ...). */
const char *gate_reason_name(enum gate_reason r);
/* Does <sc> need the client's reverse name (a .domain rule)? */
int	gate_needs_name(const struct service_conf *sc);

#endif
