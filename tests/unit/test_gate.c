/*
 * Unit tests of gate.c: the verdict and the rule text of every rule, the
 * order in which they are asked (the first refusal wins), the more
 * specific of only_from and no_access deciding with ties refusing, an
 * empty only_from, a client without an address (a wait = yes stream
 * service) and country rules with "--".  Services are built here as plain
 * struct service_conf values; no network, no clock.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "addrlist.h"
#include "config.h"
#include "gate.h"
#include "quota.h"
#include "timewin.h"
#include "unit_util.h"

/* Monday 2024-01-01 12:00 UTC. */
#define T0		((time_t)1704110400)
#define MAXWORDS	32
/* The load average is unknown. */
#define NOLOAD		(-1.0)

/* One test's service and its counts. */
/* A client as admit.c builds it. */
struct client {
	struct sockaddr_storage	 ss;
	struct gate_client	 gc;
};

/* Split <list> at blanks into <buf>/<words>; returns the count. */
static int
split(const char *list, char *buf, size_t len, char **words)
{
	char	*p;
	int	 n = 0;

	snprintf(buf, len, "%s", list);
	for (p = strtok(buf, " "); p != NULL && n < MAXWORDS;
	    p = strtok(NULL, " "))
		words[n++] = p;
	return n;
}

/* Compile an address list ("" for an empty one), or fail the test. */
static struct addrlist *
alist(const char *list)
{
	char		 buf[512], *words[MAXWORDS], err[256];
	struct addrlist	*al;
	int		 n, bad;

	n = split(list, buf, sizeof(buf), words);
	if ((al = addrlist_parse(words, n, err, sizeof(err), &bad)) == NULL)
		fail_msg("addrlist \"%s\": %s", list, err);
	return al;
}

/* Compile access_times in UTC, or fail the test. */
static struct timewin *
twin(const char *list)
{
	char		 buf[512], *words[MAXWORDS], err[256];
	struct timewin	*tw;
	int		 n;

	n = split(list, buf, sizeof(buf), words);
	if ((tw = timewin_parse(words, n, "UTC", err, sizeof(err))) == NULL)
		fail_msg("access_times \"%s\": %s", list, err);
	return tw;
}

/* Country lists point at these: the wordlist holds no copies. */
static char	cc_fr[] = "FR", cc_de[] = "DE", cc_none[] = "--";
static char	*w_fr[] = { cc_fr, NULL };
static char	*w_de[] = { cc_de, NULL };
static char	*w_fr_none[] = { cc_fr, cc_none, NULL };
static char	*w_none[] = { cc_none, NULL };

static void
set_words(struct wordlist *wl, char **words)
{
	int	n = 0;

	while (words != NULL && words[n] != NULL)
		n++;
	wl->wl_words = n > 0 ? words : NULL;
	wl->wl_n = n;
}

/* portgate's defaults, but cps off: it trips only where a test asks. */
static int
setup(void **state)
{
	struct unit_fx	*fx;

	if ((fx = unit_fx_new()) == NULL)
		return -1;
	fx->sc.sc_name = fx->sc.sc_id = (char *)(uintptr_t)"svc";
	fx->sc.sc_socktype = SOCK_STREAM;
	fx->sc.sc_cps_rate = 0;
	fx->sc.sc_cps_wait = 10;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct unit_fx	*fx = *state;

	addrlist_free(fx->sc.sc_only_from);
	addrlist_free(fx->sc.sc_no_access);
	timewin_free(fx->sc.sc_access_times);
	quota_free(fx->li);
	quota_deny_clear();
	free(fx);
	return 0;
}

/* Fill <cl> for numeric <addr> arriving at <sc>; returns its gate_client. */
static struct gate_client *
client(struct client *cl, const struct service_conf *sc, const char *addr)
{
	memset(cl, 0, sizeof(*cl));
	cl->gc.gc_sa = unit_sockaddr(&cl->ss, addr, 0);
	quota_key(sc, cl->gc.gc_sa, &cl->gc.gc_key);
	quota_key(NULL, cl->gc.gc_sa, &cl->gc.gc_fullkey);
	return &cl->gc;
}

/* gate_check() at <now> must admit <c>, deciding by <rule>. */
static void
admitted_at(struct unit_fx *fx, const struct gate_client *c, time_t now,
    double load, const char *rule)
{
	struct verdict	v;

	memset(&v, 0x55, sizeof(v));
	if (!gate_check(&fx->sc, fx->li, c, now, (double)now, load, &v))
		fail_msg("refused (%s: %s), expected admitted by \"%s\"",
		    gate_reason_name(v.v_reason), v.v_rule, rule);
	assert_int_equal(v.v_ok, 1);
	assert_int_equal(v.v_reason, GATE_OK);
	assert_string_equal(v.v_rule, rule);
}

/* gate_check() at <now> must refuse <c> for <reason> by <rule>. */
static void
refused_at(struct unit_fx *fx, const struct gate_client *c, time_t now,
    double load, enum gate_reason reason, const char *rule)
{
	struct verdict	v;

	memset(&v, 0x55, sizeof(v));
	if (gate_check(&fx->sc, fx->li, c, now, (double)now, load, &v))
		fail_msg("admitted (%s), expected refused by \"%s\"",
		    v.v_rule, rule);
	assert_int_equal(v.v_ok, 0);
	if (v.v_reason != reason)
		fail_msg("refused for %s (%s), expected %s (%s)",
		    gate_reason_name(v.v_reason), v.v_rule,
		    gate_reason_name(reason), rule);
	assert_string_equal(v.v_rule, rule);
}

static void
admitted(struct unit_fx *fx, const struct gate_client *c, const char *rule)
{
	admitted_at(fx, c, T0, NOLOAD, rule);
}

static void
refused(struct unit_fx *fx, const struct gate_client *c, enum gate_reason reason,
    const char *rule)
{
	refused_at(fx, c, T0, NOLOAD, reason, rule);
}

/* A service without rules admits everyone, even a client without address. */
static void
test_no_rules(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	struct gate_client nobody;

	admitted(fx, client(&cl, &fx->sc, "127.0.0.3"), "no rule refuses");
	admitted(fx, client(&cl, &fx->sc, "2001:db8::1"), "no rule refuses");
	memset(&nobody, 0, sizeof(nobody));
	admitted(fx, &nobody, "no rule refuses");
}

/* only_from: a match names the rule; no match refuses. */
static void
test_only_from(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;

	fx->sc.sc_only_from = alist("10.0.0.0/8 127.0.0.2 127.0.1.{1,2} "
	    "2001:db8::/32");
	admitted(fx, client(&cl, &fx->sc, "127.0.0.2"), "only_from 127.0.0.2");
	admitted(fx, client(&cl, &fx->sc, "10.9.8.7"),
	    "only_from 10.0.0.0/8");
	admitted(fx, client(&cl, &fx->sc, "127.0.1.2"),
	    "only_from 127.0.1.{1,2}");
	admitted(fx, client(&cl, &fx->sc, "2001:db8:5::1"),
	    "only_from 2001:db8::/32");
	/* An IPv4-mapped client is matched as IPv4. */
	admitted(fx, client(&cl, &fx->sc, "::ffff:127.0.0.2"),
	    "only_from 127.0.0.2");
	refused(fx, client(&cl, &fx->sc, "127.0.0.3"), GATE_ADDRESS,
	    "only_from: no rule matches");
	refused(fx, client(&cl, &fx->sc, "127.0.1.3"), GATE_ADDRESS,
	    "only_from: no rule matches");
	refused(fx, client(&cl, &fx->sc, "2001:db9::1"), GATE_ADDRESS,
	    "only_from: no rule matches");
}

/* no_access alone refuses what it matches and nothing else. */
static void
test_no_access(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;

	fx->sc.sc_no_access = alist("127.0.0.0/24 ::1");
	refused(fx, client(&cl, &fx->sc, "127.0.0.3"), GATE_ADDRESS,
	    "no_access 127.0.0.0/24");
	refused(fx, client(&cl, &fx->sc, "::1"), GATE_ADDRESS, "no_access ::1");
	admitted(fx, client(&cl, &fx->sc, "127.0.1.3"), "no rule refuses");
	admitted(fx, client(&cl, &fx->sc, "::2"), "no rule refuses");
}

/* Set but empty, only_from refuses everybody; no_access empty refuses none. */
static void
test_empty_lists(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;

	fx->sc.sc_no_access = alist("");
	admitted(fx, client(&cl, &fx->sc, "127.0.0.2"), "no rule refuses");
	fx->sc.sc_only_from = alist("");
	refused(fx, client(&cl, &fx->sc, "127.0.0.2"), GATE_ADDRESS,
	    "only_from: no rule matches");
	refused(fx, client(&cl, &fx->sc, "::1"), GATE_ADDRESS,
	    "only_from: no rule matches");
}

/* The more specific match decides, whichever list it is in. */
static void
test_more_specific_wins(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;

	/* A host allowed inside a refused network. */
	fx->sc.sc_only_from = alist("127.0.0.2");
	fx->sc.sc_no_access = alist("127.0.0.0/24");
	admitted(fx, client(&cl, &fx->sc, "127.0.0.2"),
	    "only_from 127.0.0.2 (more specific than no_access "
	    "127.0.0.0/24)");
	refused(fx, client(&cl, &fx->sc, "127.0.0.3"), GATE_ADDRESS,
	    "no_access 127.0.0.0/24");
	addrlist_free(fx->sc.sc_only_from);
	addrlist_free(fx->sc.sc_no_access);

	/* A host refused inside an allowed network (trailing-zero /8). */
	fx->sc.sc_only_from = alist("127.0.0.0");
	fx->sc.sc_no_access = alist("127.0.0.3");
	refused(fx, client(&cl, &fx->sc, "127.0.0.3"), GATE_ADDRESS,
	    "no_access 127.0.0.3 (more specific than only_from 127.0.0.0)");
	admitted(fx, client(&cl, &fx->sc, "127.0.0.2"),
	    "only_from 127.0.0.0");
	addrlist_free(fx->sc.sc_only_from);
	addrlist_free(fx->sc.sc_no_access);

	/* Networks in both lists, nested three deep. */
	fx->sc.sc_only_from = alist("10.0.0.0/8 10.1.2.0/24");
	fx->sc.sc_no_access = alist("10.1.0.0/16");
	admitted(fx, client(&cl, &fx->sc, "10.1.2.3"),
	    "only_from 10.1.2.0/24 (more specific than no_access "
	    "10.1.0.0/16)");
	refused(fx, client(&cl, &fx->sc, "10.1.3.3"), GATE_ADDRESS,
	    "no_access 10.1.0.0/16 (more specific than only_from "
	    "10.0.0.0/8)");
	admitted(fx, client(&cl, &fx->sc, "10.2.0.1"), "only_from 10.0.0.0/8");
}

/* Equal specificity in both lists refuses. */
static void
test_tie_refuses(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;

	fx->sc.sc_only_from = alist("127.0.0.2 192.168.0.0/16");
	fx->sc.sc_no_access = alist("127.0.0.2/32 192.168.0.0");
	refused(fx, client(&cl, &fx->sc, "127.0.0.2"), GATE_ADDRESS,
	    "no_access 127.0.0.2/32 (as specific as only_from 127.0.0.2)");
	/* "192.168.0.0" is the trailing-zero /16. */
	refused(fx, client(&cl, &fx->sc, "192.168.7.7"), GATE_ADDRESS,
	    "no_access 192.168.0.0 (as specific as only_from "
	    "192.168.0.0/16)");
	addrlist_free(fx->sc.sc_only_from);
	addrlist_free(fx->sc.sc_no_access);

	/* Everyone in both. */
	fx->sc.sc_only_from = alist("0.0.0.0");
	fx->sc.sc_no_access = alist("::");
	refused(fx, client(&cl, &fx->sc, "127.0.0.2"), GATE_ADDRESS,
	    "no_access :: (as specific as only_from 0.0.0.0)");
}

/*
 * .domain rules: matched on the verified reverse name only, ranked
 * 120 + number of dots: ".example.com" (122) beats an IPv4 /24 (120),
 * ties with a /26 (122), loses to a host (128).
 */
static void
test_domain_rules(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	struct gate_client *c;

	fx->sc.sc_only_from = alist(".example.com");
	assert_int_equal(gate_needs_name(&fx->sc), 1);
	c = client(&cl, &fx->sc,
	    "127.0.0.2");
	refused(fx, c, GATE_ADDRESS, "only_from: no rule matches");
	c->gc_revname = "host.example.com";
	admitted(fx, c, "only_from .example.com");
	c->gc_revname = "HOST.Example.COM.";
	admitted(fx, c, "only_from .example.com");
	c->gc_revname = "host.example.com.evil.test";
	refused(fx, c, GATE_ADDRESS, "only_from: no rule matches");
	c->gc_revname = "notexample.com";
	refused(fx, c, GATE_ADDRESS, "only_from: no rule matches");

	fx->sc.sc_no_access = alist("127.0.0.0/24");
	c->gc_revname = "host.example.com";
	admitted(fx, c, "only_from .example.com (more specific than "
	    "no_access 127.0.0.0/24)");
	addrlist_free(fx->sc.sc_no_access);
	fx->sc.sc_no_access = alist("127.0.0.0/26");
	refused(fx, c, GATE_ADDRESS, "no_access 127.0.0.0/26 (as specific "
	    "as only_from .example.com)");
	addrlist_free(fx->sc.sc_no_access);
	fx->sc.sc_no_access = alist("127.0.0.2");
	refused(fx, c, GATE_ADDRESS, "no_access 127.0.0.2 (more specific "
	    "than only_from .example.com)");
}

/* Does the service need the reverse name?  Only for a .domain rule. */
static void
test_needs_name(void **state)
{
	struct unit_fx	*fx = *state;

	assert_int_equal(gate_needs_name(&fx->sc), 0);
	fx->sc.sc_only_from = alist("127.0.0.1 localhost");
	assert_int_equal(gate_needs_name(&fx->sc), 0);
	fx->sc.sc_no_access = alist(".example.org");
	assert_int_equal(gate_needs_name(&fx->sc), 1);
	addrlist_free(fx->sc.sc_only_from);
	fx->sc.sc_only_from = NULL;
	assert_int_equal(gate_needs_name(&fx->sc), 1);
}

/* Country rules; a client without a country counts as "--". */
static void
test_country(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	struct gate_client *c;

	c = client(&cl, &fx->sc,
	    "127.0.0.2");
	set_words(&fx->sc.sc_no_access_country, w_de);
	c->gc_country = "DE";
	refused(fx, c, GATE_COUNTRY, "no_access_country DE");
	c->gc_country = "FR";
	admitted(fx, c, "no rule refuses");
	c->gc_country = NULL;
	admitted(fx, c, "no rule refuses");

	set_words(&fx->sc.sc_no_access_country, w_none);
	c->gc_country = NULL;
	refused(fx, c, GATE_COUNTRY, "no_access_country --");
	c->gc_country = "--";
	refused(fx, c, GATE_COUNTRY, "no_access_country --");
	c->gc_country = "FR";
	admitted(fx, c, "no rule refuses");

	set_words(&fx->sc.sc_no_access_country, NULL);
	set_words(&fx->sc.sc_only_from_country, w_fr);
	fx->sc.sc_has_only_from_country = 1;
	c->gc_country = "FR";
	admitted(fx, c, "no rule refuses");
	c->gc_country = "DE";
	refused(fx, c, GATE_COUNTRY, "only_from_country: DE is not listed");
	c->gc_country = NULL;
	refused(fx, c, GATE_COUNTRY, "only_from_country: -- is not listed");

	set_words(&fx->sc.sc_only_from_country, w_fr_none);
	c->gc_country = NULL;
	admitted(fx, c, "no rule refuses");
	c->gc_country = "--";
	admitted(fx, c, "no rule refuses");

	/* no_access_country is asked first. */
	set_words(&fx->sc.sc_no_access_country, w_fr);
	c->gc_country = "FR";
	refused(fx, c, GATE_COUNTRY, "no_access_country FR");

	/* only_from_country set and empty: nobody. */
	set_words(&fx->sc.sc_no_access_country, NULL);
	set_words(&fx->sc.sc_only_from_country, NULL);
	c->gc_country = "FR";
	refused(fx, c, GATE_COUNTRY, "only_from_country: FR is not listed");
}

/* access_times: inside a window admitted, outside refused. */
static void
test_access_times(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	const struct gate_client *c = client(&cl, &fx->sc, "127.0.0.2");

	fx->sc.sc_access_times = twin("08:00-11:59 13:00-14:00");
	refused_at(fx, c, T0, NOLOAD, GATE_TIME,
	    "access_times: outside every window");
	admitted_at(fx, c, T0 - 60, NOLOAD, "access_times 08:00-11:59");
	admitted_at(fx, c, T0 - 1, NOLOAD, "access_times 08:00-11:59");
	admitted_at(fx, c, T0 + 3600, NOLOAD, "access_times 13:00-14:00");
	admitted_at(fx, c, T0 + 2 * 3600 + 59, NOLOAD,
	    "access_times 13:00-14:00");
	refused_at(fx, c, T0 + 2 * 3600 + 60, NOLOAD, GATE_TIME,
	    "access_times: outside every window");
	timewin_free(fx->sc.sc_access_times);

	/* Days: T0 is a Monday, 12:00 is in the crossing window of Sunday. */
	fx->sc.sc_access_times = twin("Tue-Fri 11:00-13:00 Sun 23:00-12:30");
	admitted_at(fx, c, T0, NOLOAD, "access_times Sun 23:00-12:30");
	refused_at(fx, c, T0 + 3600, NOLOAD, GATE_TIME,
	    "access_times: outside every window");
	admitted_at(fx, c, T0 + 86400, NOLOAD,
	    "access_times Tue-Fri 11:00-13:00");
	refused_at(fx, c, T0 + 5 * 86400, NOLOAD, GATE_TIME,
	    "access_times: outside every window");

	/* No address needed: a wait = yes stream client is refused too. */
	memset(&cl.gc, 0, sizeof(cl.gc));
	refused_at(fx, &cl.gc, T0 + 3600, NOLOAD, GATE_TIME,
	    "access_times: outside every window");
}

/* cps: once tripped, refused until the wait is over. */
static void
test_cps(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	const struct gate_client *c = client(&cl, &fx->sc, "127.0.0.2");

	fx->sc.sc_cps_rate = 2;
	fx->sc.sc_cps_wait = 5;
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	admitted(fx, c, "no rule refuses");
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	admitted(fx, c, "no rule refuses");
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 1);
	refused_at(fx, c, T0, NOLOAD, GATE_CPS,
	    "cps 2 5: service disabled for 5 more seconds");
	refused_at(fx, c, T0 + 4, NOLOAD, GATE_CPS,
	    "cps 2 5: service disabled for 1 more second");
	admitted_at(fx, c, T0 + 5, NOLOAD, "no rule refuses");
	/* Every client, from anywhere. */
	refused_at(fx, client(&cl, &fx->sc, "2001:db8::9"), T0 + 2, NOLOAD,
	    GATE_CPS, "cps 2 5: service disabled for 3 more seconds");
}

/* max_load: at or above refuses; unknown load (negative) admits. */
static void
test_max_load(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl;
	const struct gate_client *c = client(&cl, &fx->sc, "127.0.0.2");

	admitted_at(fx, c, T0, 1000.0, "no rule refuses");
	fx->sc.sc_max_load = 0.5;
	refused_at(fx, c, T0, 0.75, GATE_LOAD, "max_load 0.50: load is 0.75");
	refused_at(fx, c, T0, 0.5, GATE_LOAD, "max_load 0.50: load is 0.50");
	admitted_at(fx, c, T0, 0.49, "no rule refuses");
	admitted_at(fx, c, T0, 0.0, "no rule refuses");
	admitted_at(fx, c, T0, NOLOAD, "no rule refuses");
	fx->sc.sc_max_load = 0.0001;
	refused_at(fx, c, T0, 0.01, GATE_LOAD, "max_load 0.00: load is 0.01");
}

/* instances: refused at the limit, admitted again after a release. */
static void
test_instances(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 a, b;
	const struct gate_client *ca = client(&a, &fx->sc, "127.0.0.2");
	const struct gate_client *cb = client(&b, &fx->sc, "127.0.0.3");

	fx->sc.sc_instances = 2;
	admitted(fx, ca, "no rule refuses");
	assert_int_equal(quota_take(fx->li, &fx->sc, &ca->gc_key, T0), 0);
	admitted(fx, cb, "no rule refuses");
	assert_int_equal(quota_take(fx->li, &fx->sc, &cb->gc_key, T0), 0);
	refused(fx, ca, GATE_INSTANCES, "instances 2: 2 running");
	refused(fx, cb, GATE_INSTANCES, "instances 2: 2 running");
	quota_release(fx->li, &ca->gc_key);
	admitted(fx, cb, "no rule refuses");
	quota_release(fx->li, &cb->gc_key);

	fx->sc.sc_instances = 0;
	refused(fx, ca, GATE_INSTANCES, "instances 0: 0 running");
}

/* per_source: the source at its limit is refused, others pass. */
static void
test_per_source(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 a, b, a6, b6, c6;

	fx->sc.sc_per_source = 1;
	(void)client(&a, &fx->sc, "127.0.0.2");
	(void)client(&b, &fx->sc, "127.0.0.3");
	assert_int_equal(quota_take(fx->li, &fx->sc, &a.gc.gc_key, T0), 0);
	refused(fx, &a.gc, GATE_PER_SOURCE,
	    "per_source 1: 1 running from this source");
	admitted(fx, &b.gc, "no rule refuses");

	/* IPv6 sources are /64s by default. */
	(void)client(&a6, &fx->sc, "2001:db8:0:1::1");
	(void)client(&b6, &fx->sc, "2001:db8:0:1:ffff::2");
	(void)client(&c6, &fx->sc, "2001:db8:0:2::1");
	assert_int_equal(quota_take(fx->li, &fx->sc, &a6.gc.gc_key, T0), 0);
	refused(fx, &b6.gc, GATE_PER_SOURCE,
	    "per_source 1: 1 running from this source");
	admitted(fx, &c6.gc, "no rule refuses");

	/* per_source_prefix6 = 128: every address apart. */
	fx->sc.sc_per_source_prefix6 = 128;
	(void)client(&b6, &fx->sc, "2001:db8:0:1:ffff::2");
	admitted(fx, &b6.gc, "no rule refuses");

	quota_release(fx->li, &a.gc.gc_key);
	admitted(fx, &a.gc, "no rule refuses");
}

/* per_source_cps: a token bucket per source. */
static void
test_per_source_rate(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 a, b;
	struct verdict	 v;

	fx->sc.sc_per_source_cps_rate = 1;
	fx->sc.sc_per_source_cps_burst = 2;
	(void)client(&a, &fx->sc, "127.0.0.2");
	(void)client(&b, &fx->sc, "127.0.0.3");
	assert_int_equal(quota_take(fx->li, &fx->sc, &a.gc.gc_key, T0), 0);
	quota_release(fx->li, &a.gc.gc_key);
	assert_int_equal(quota_take(fx->li, &fx->sc, &a.gc.gc_key, T0), 0);
	quota_release(fx->li, &a.gc.gc_key);
	refused(fx, &a.gc, GATE_RATE,
	    "per_source_cps 1 2: no token left for this source");
	admitted(fx, &b.gc, "no rule refuses");
	/* Half a second later still nothing, one second later one token. */
	assert_int_equal(gate_check(&fx->sc, fx->li, &a.gc, T0, T0 + 0.5,
	    NOLOAD, &v), 0);
	assert_int_equal(v.v_reason, GATE_RATE);
	assert_int_equal(gate_check(&fx->sc, fx->li, &a.gc, T0 + 1, T0 + 1.0,
	    NOLOAD, &v), 1);

	fx->sc.sc_per_source_cps_rate = 0.5;
	fx->sc.sc_per_source_cps_burst = 1.5;
	refused(fx, &a.gc, GATE_RATE,
	    "per_source_cps 0.5 1.5: no token left for this source");
}

/*
 * A wait = yes stream service knows no client address: the deny list,
 * address, country, per_source and per_source_cps rules are skipped; time,
 * cps, load and instances still apply.
 */
static void
test_no_address(void **state)
{
	struct unit_fx		*fx = *state;
	struct gate_client	 c;
	struct srckey		 zero;

	memset(&c, 0, sizeof(c));
	memset(&zero, 0, sizeof(zero));
	fx->sc.sc_only_from = alist("10.0.0.1");
	fx->sc.sc_no_access = alist("0.0.0.0");
	set_words(&fx->sc.sc_only_from_country, w_fr);
	fx->sc.sc_has_only_from_country = 1;
	fx->sc.sc_per_source = 0;
	fx->sc.sc_per_source_cps_rate = 0.001;
	fx->sc.sc_per_source_cps_burst = 1;
	quota_deny(&zero, DENY_FOREVER, T0);
	admitted(fx, &c, "no rule refuses");

	/* The slot taken for it counts toward instances. */
	fx->sc.sc_instances = 1;
	assert_int_equal(quota_take(fx->li, &fx->sc, &c.gc_key, T0), 0);
	refused(fx, &c, GATE_INSTANCES, "instances 1: 1 running");
	quota_release(fx->li, &c.gc_key);
	admitted(fx, &c, "no rule refuses");

	fx->sc.sc_max_load = 0.5;
	refused_at(fx, &c, T0, 3.0, GATE_LOAD, "max_load 0.50: load is 3.00");
	fx->sc.sc_max_load = 0;
	fx->sc.sc_cps_rate = 1;
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, T0), 1);
	refused(fx, &c, GATE_CPS,
	    "cps 1 10: service disabled for 10 more seconds");
	fx->sc.sc_cps_rate = 0;
	fx->sc.sc_access_times = twin("00:00-11:00");
	refused(fx, &c, GATE_TIME, "access_times: outside every window");
}

/* The deny list of SENSOR services: full address, every service. */
static void
test_sensor_deny_list(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 a, b, a6, b6;

	(void)client(&a, &fx->sc, "127.0.0.5");
	(void)client(&b, &fx->sc, "127.0.0.6");
	quota_deny(&a.gc.gc_fullkey, 1, T0);
	refused(fx, &a.gc, GATE_SENSOR,
	    "deny_time: the address touched a SENSOR service");
	admitted(fx, &b.gc, "no rule refuses");
	refused_at(fx, &a.gc, T0 + 59, NOLOAD, GATE_SENSOR,
	    "deny_time: the address touched a SENSOR service");
	admitted_at(fx, &a.gc, T0 + 60, NOLOAD, "no rule refuses");

	/* The full IPv6 address, not its /64. */
	(void)client(&a6, &fx->sc, "2001:db8::5");
	(void)client(&b6, &fx->sc, "2001:db8::6");
	quota_deny(&a6.gc.gc_fullkey, DENY_FOREVER, T0);
	refused_at(fx, &a6.gc, T0 + 86400 * 365, NOLOAD, GATE_SENSOR,
	    "deny_time: the address touched a SENSOR service");
	admitted(fx, &b6.gc, "no rule refuses");

	/* Listed but also allowed by only_from: the deny list comes first. */
	fx->sc.sc_only_from = alist("2001:db8::5");
	refused(fx, &a6.gc, GATE_SENSOR,
	    "deny_time: the address touched a SENSOR service");
}

/*
 * The order: a client that every rule would refuse is refused by
 * access_times; take that rule away and the next one refuses, and so on.
 */
static void
test_order(void **state)
{
	struct unit_fx	*fx = *state;
	struct client	 cl, other;
	struct gate_client *c;
	time_t		 now = T0;

	fx->sc.sc_access_times = twin("08:00-09:00");
	fx->sc.sc_only_from = alist("127.0.0.2");
	set_words(&fx->sc.sc_no_access_country, w_de);
	fx->sc.sc_cps_rate = 1;
	fx->sc.sc_cps_wait = 10;
	fx->sc.sc_max_load = 0.1;
	fx->sc.sc_instances = 2;
	fx->sc.sc_per_source = 1;
	fx->sc.sc_per_source_cps_rate = 0.001;
	fx->sc.sc_per_source_cps_burst = 1;
	c = client(&cl, &fx->sc,
	    "127.0.0.3");
	c->gc_country = "DE";
	(void)client(&other, &fx->sc, "127.0.0.9");
	quota_deny(&c->gc_fullkey, 10, now);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, now), 0);
	assert_int_equal(quota_cps_arrival(fx->li, &fx->sc, now), 1);
	assert_int_equal(quota_take(fx->li, &fx->sc, &c->gc_key, now), 0);
	assert_int_equal(quota_take(fx->li, &fx->sc, &other.gc.gc_key, now),
	    0);

	refused_at(fx, c, now, 1.0, GATE_TIME,
	    "access_times: outside every window");
	timewin_free(fx->sc.sc_access_times);
	fx->sc.sc_access_times = NULL;
	refused_at(fx, c, now, 1.0, GATE_SENSOR,
	    "deny_time: the address touched a SENSOR service");
	quota_deny_clear();
	refused_at(fx, c, now, 1.0, GATE_ADDRESS,
	    "only_from: no rule matches");
	addrlist_free(fx->sc.sc_only_from);
	fx->sc.sc_only_from = NULL;
	refused_at(fx, c, now, 1.0, GATE_COUNTRY, "no_access_country DE");
	set_words(&fx->sc.sc_no_access_country, NULL);
	refused_at(fx, c, now, 1.0, GATE_CPS,
	    "cps 1 10: service disabled for 10 more seconds");
	now += 10;
	refused_at(fx, c, now, 1.0, GATE_LOAD, "max_load 0.10: load is 1.00");
	refused_at(fx, c, now, 0.1, GATE_LOAD, "max_load 0.10: load is 0.10");
	refused_at(fx, c, now, 0.01, GATE_INSTANCES, "instances 2: 2 running");
	fx->sc.sc_instances = LIMIT_UNLIMITED;
	refused_at(fx, c, now, 0.01, GATE_PER_SOURCE,
	    "per_source 1: 1 running from this source");
	fx->sc.sc_per_source = LIMIT_UNLIMITED;
	refused_at(fx, c, now, 0.01, GATE_RATE,
	    "per_source_cps 0.001 1: no token left for this source");
	fx->sc.sc_per_source_cps_rate = 0;
	admitted_at(fx, c, now, 0.01, "no rule refuses");
	quota_release(fx->li, &c->gc_key);
	quota_release(fx->li, &other.gc.gc_key);
}

/*
 * The libwrap step: refuses with its own reason and the daemon name only
 * when the files refuse; keeps the admitting rule otherwise.
 */
static void
test_libwrap_step(void **state)
{
	struct verdict	v;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.v_ok = 1;
	(void)strlcpy(v.v_rule, "only_from 127.0.0.2", sizeof(v.v_rule));
	assert_int_equal(gate_libwrap("echo", 1, &v), 1);
	assert_string_equal(v.v_rule, "only_from 127.0.0.2");
	assert_int_equal(gate_libwrap(NULL, 0, &v), 1);
	assert_int_equal(v.v_reason, GATE_OK);
	assert_int_equal(gate_libwrap("in.telnetd", 0, &v), 0);
	assert_int_equal(v.v_ok, 0);
	assert_int_equal(v.v_reason, GATE_LIBWRAP);
	assert_string_equal(v.v_rule, "libwrap in.telnetd: refused by "
	    "hosts.allow and hosts.deny");
}

/* The FAIL reasons of the log. */
static void
test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(gate_reason_name(GATE_OK), "ok");
	assert_string_equal(gate_reason_name(GATE_TIME), "time");
	assert_string_equal(gate_reason_name(GATE_SENSOR), "address");
	assert_string_equal(gate_reason_name(GATE_ADDRESS), "address");
	assert_string_equal(gate_reason_name(GATE_COUNTRY), "country");
	assert_string_equal(gate_reason_name(GATE_CPS),
	    "connections per second");
	assert_string_equal(gate_reason_name(GATE_LOAD), "load");
	assert_string_equal(gate_reason_name(GATE_INSTANCES), "service_limit");
	assert_string_equal(gate_reason_name(GATE_PER_SOURCE),
	    "per_source_limit");
	assert_string_equal(gate_reason_name(GATE_RATE), "per_source_rate");
	assert_string_equal(gate_reason_name(GATE_LIBWRAP), "libwrap");
	assert_string_equal(gate_reason_name((enum gate_reason)99), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_from, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_access, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_lists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_more_specific_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tie_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_domain_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_needs_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_country, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_times, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_instances, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_source, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_source_rate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sensor_deny_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test(test_libwrap_step),
		cmocka_unit_test(test_reason_names),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
