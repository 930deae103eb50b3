/*
 * Verified reverse names.  A PTR answer alone proves nothing (whoever owns
 * the reverse zone writes it), so the name counts only if its forward
 * look-up contains the client's address.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "revname.h"

#define REVNAME_MAX	256

struct revname_req {
	struct event_base	*rr_base;
	struct evdns_request	*rr_dns;	/* the query under way */
	struct event		*rr_ev;		/* reports from the loop */
	struct sockaddr_storage	 rr_addr;
	char			 rr_name[REVNAME_MAX];
	int			 rr_ok;
	revname_cb		 rr_cb;
	void			*rr_arg;
};

static struct evdns_base	*revname_dns;

/* The resolver, set up on first use; NULL if it cannot be. */
static struct evdns_base *
revname_resolver(struct event_base *base)
{
	const char	*conf;

	if (revname_dns != NULL)
		return revname_dns;
	if ((revname_dns = evdns_base_new(base, 0)) == NULL)
		return NULL;
	if ((conf = getenv("PORTGATE_RESOLV_CONF")) == NULL)
		conf = "/etc/resolv.conf";
	if (evdns_base_resolv_conf_parse(revname_dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_MISC, conf) != 0)
		log_warnx("cannot read every setting of %s for reverse "
		    "look-ups", conf);
	return revname_dns;
}

void
revname_prepare(struct event_base *base)
{
	(void)revname_resolver(base);
}

/* Report the result from the loop, then free. */
static void
revname_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct revname_req	*rr = arg;
	revname_cb		 cb = rr->rr_cb;
	void			*cbarg = rr->rr_arg;
	char			 name[REVNAME_MAX];
	int			 ok = rr->rr_ok;

	(void)fd;
	(void)what;
	(void)strlcpy(name, rr->rr_name, sizeof(name));
	event_free(rr->rr_ev);
	free(rr);
	cb(cbarg, ok ? name : NULL);
}

/* End the look-up with <ok>. */
static void
revname_finish(struct revname_req *rr, int ok)
{
	rr->rr_dns = NULL;
	rr->rr_ok = ok;
	event_active(rr->rr_ev, EV_TIMEOUT, 1);
}

/* The forward answer: does it contain the client's address? */
static void
revname_forward_cb(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	struct revname_req		*rr = arg;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	int				 i, ok = 0;

	(void)ttl;
	if (result == DNS_ERR_CANCEL)
		return;
	for (i = 0; result == DNS_ERR_NONE && i < count && !ok; i++) {
		if (type == DNS_IPv4_A) {
			sin = (const struct sockaddr_in *)(void *)&rr->rr_addr;
			ok = memcmp((const char *)addrs + 4 * i,
			    &sin->sin_addr, 4) == 0;
		} else if (type == DNS_IPv6_AAAA) {
			sin6 = (const struct sockaddr_in6 *)(void *)
			    &rr->rr_addr;
			ok = memcmp((const char *)addrs + 16 * i,
			    &sin6->sin6_addr, 16) == 0;
		}
	}
	revname_finish(rr, ok);
}

/* The PTR answer: confirm it forward. */
static void
revname_ptr_cb(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	struct revname_req	*rr = arg;

	(void)ttl;
	if (result == DNS_ERR_CANCEL)
		return;
	if (result != DNS_ERR_NONE || type != DNS_PTR || count < 1) {
		revname_finish(rr, 0);
		return;
	}
	(void)strlcpy(rr->rr_name, *(char **)addrs, sizeof(rr->rr_name));
	if (rr->rr_addr.ss_family == AF_INET)
		rr->rr_dns = evdns_base_resolve_ipv4(revname_dns, rr->rr_name,
		    DNS_QUERY_NO_SEARCH, revname_forward_cb, rr);
	else
		rr->rr_dns = evdns_base_resolve_ipv6(revname_dns, rr->rr_name,
		    DNS_QUERY_NO_SEARCH, revname_forward_cb, rr);
	if (rr->rr_dns == NULL)
		revname_finish(rr, 0);
}

struct revname_req *
revname_lookup(struct event_base *base, const struct sockaddr *sa,
    revname_cb cb, void *arg)
{
	struct revname_req	*rr;
	struct evdns_base	*dns;

	if ((dns = revname_resolver(base)) == NULL ||
	    (rr = calloc(1, sizeof(*rr))) == NULL)
		return NULL;
	rr->rr_base = base;
	rr->rr_cb = cb;
	rr->rr_arg = arg;
	if ((rr->rr_ev = evtimer_new(base, revname_report_cb, rr)) == NULL)
		goto fail;
	if (sa->sa_family == AF_INET) {
		memcpy(&rr->rr_addr, sa, sizeof(struct sockaddr_in));
		rr->rr_dns = evdns_base_resolve_reverse(dns,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    DNS_QUERY_NO_SEARCH, revname_ptr_cb, rr);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&rr->rr_addr, sa, sizeof(struct sockaddr_in6));
		rr->rr_dns = evdns_base_resolve_reverse_ipv6(dns,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    DNS_QUERY_NO_SEARCH, revname_ptr_cb, rr);
	}
	if (rr->rr_dns == NULL)
		goto fail;
	return rr;
fail:
	if (rr->rr_ev != NULL)
		event_free(rr->rr_ev);
	free(rr);
	return NULL;
}

void
revname_cancel(struct revname_req *rr)
{
	if (rr == NULL)
		return;
	if (rr->rr_dns != NULL)
		evdns_cancel_request(revname_dns, rr->rr_dns);
	event_free(rr->rr_ev);
	free(rr);
}

void
revname_shutdown(void)
{
	if (revname_dns != NULL)
		evdns_base_free(revname_dns, 0);
	revname_dns = NULL;
}
