/*
 * Trust checks of a built service.  config_check.c checks that a
 * configuration means something; this file checks that it does not mean
 * more than the admin may think: a PROXY header believed from anyone, the
 * daemon's environment handed to an unprivileged server, address rules on
 * a service that never sees an address, a user or group that cannot be
 * taken without root.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrlist.h"
#include "conf_attr.h"
#include "conf_diag.h"
#include "config.h"
#include "config_audit.h"
#include "tls.h"

/* The merged value of attribute <name> (which must exist). */
static struct attr_val *
audit_val(struct attr_val *vals, const char *name)
{
	return &vals[attr_lookup(name)];
}

/*
 * accept_proxy believes the header only from the fronts of proxy_from:
 * no list is an error (never trust everyone by default), and so is a list
 * that cannot be matched before the header is read.
 */
static void
audit_proxy_from(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val		*pf = audit_val(vals, "proxy_from");
	struct attr_val		*ap = audit_val(vals, "accept_proxy");
	struct sockaddr_in	 sin;
	struct addrmatch	 m;
	int			 yes;

	if (sc->sc_proxy_from == NULL) {
		/* A bad list was reported by its setter. */
		if (sc->sc_accept_proxy && !pf->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: accept_proxy = yes needs proxy_from, "
			    "the addresses of the fronts whose PROXY header is "
			    "believed", sc->sc_name);
		return;
	}
	if (!sc->sc_accept_proxy) {
		/* After a bad accept_proxy value, its error says enough. */
		if (!pf->av_inherited && (!ap->av_set ||
		    conf_value_bool(ap->av_words[0], &yes) == 0))
			conf_warn(cd, pf->av_file, pf->av_line, "service %s: "
			    "proxy_from means nothing without accept_proxy = "
			    "yes", sc->sc_name);
		return;
	}
	if (addrlist_needs_name(sc->sc_proxy_from)) {
		conf_error(cd, pf->av_file, pf->av_line, "service %s: "
		    "proxy_from takes addresses and networks, not .domain "
		    "names: the peer is checked before any look-up",
		    sc->sc_name);
		return;
	}
	if (addrlist_count(sc->sc_proxy_from) == 0) {
		conf_warn(cd, pf->av_file, pf->av_line, "service %s: "
		    "proxy_from is empty: every connection is refused",
		    sc->sc_name);
		return;
	}
	/* A rule as wide as all of IPv4 (specificity 96) believes anyone. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	if (addrlist_match(sc->sc_proxy_from, (struct sockaddr *)&sin, NULL,
	    &m) && m.am_specificity <= 96)
		conf_warn(cd, pf->av_file, pf->av_line, "service %s: "
		    "proxy_from %s believes the PROXY header of any client",
		    sc->sc_name, m.am_rule);
}

/*
 * Without passenv a spawned server gets the daemon's whole environment
 * (as with xinetd): kept for compatibility, but worth a warning when the
 * server runs as another user than root, who should not see it.
 */
static void
audit_passenv(const struct service_conf *sc, struct conf_diag *cd)
{
	if (sc->sc_server == NULL || sc->sc_nredirect > 0 ||
	    sc->sc_builtin != BUILTIN_NONE || (sc->sc_flags & SFLAG_SENSOR) ||
	    !sc->sc_has_uid || sc->sc_uid == 0 || sc->sc_has_passenv)
		return;
	conf_warn(cd, sc->sc_file, sc->sc_line, "service %s: no passenv: "
	    "server %s runs as user %s with portgate's whole environment; "
	    "list the variables it needs with passenv (empty: none)",
	    sc->sc_name, sc->sc_server, sc->sc_user != NULL ? sc->sc_user :
	    "?");
}

/*
 * A wait = yes stream server accepts its clients itself: the gate never
 * sees their addresses, so address and country rules never apply.
 */
static void
audit_wait_rules(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	static const char *const rules[] = {
		"only_from", "no_access", "only_from_country",
		"no_access_country"
	};
	struct attr_val	*av;
	size_t		 i;

	if (sc->sc_socktype != SOCK_STREAM || !sc->sc_wait)
		return;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		av = audit_val(vals, rules[i]);
		if (!av->av_set)
			continue;
		conf_warn(cd, av->av_file, av->av_line, "service %s: %s never "
		    "applies to a wait = yes stream service (its server "
		    "accepts the clients, the gate never sees their "
		    "addresses)", sc->sc_name, rules[i]);
	}
}

/*
 * A certificate that has expired or is not valid yet loads, and every
 * client refuses it: a warning, so that -t says so before clients do.
 */
static void
audit_tls_certs(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*av = audit_val(vals, "tls_cert");
	char		 warn[1024];
	time_t		 now = time(NULL);
	int		 i;

	if (!sc->sc_tls)
		return;
	for (i = 0; i < av->av_n; i++)
		if (tls_cert_check(av->av_words[i], now, warn,
		    sizeof(warn)) == 1)
			conf_warn(cd, av->av_files[i], av->av_lines[i], "%s",
			    warn);
}

/*
 * user and group take effect only when portgate runs as root (cred.c);
 * otherwise a spawned server runs as whoever started portgate, which the
 * file does not say.
 */
static void
audit_not_root(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	static const char *const attrs[] = { "user", "group" };
	struct attr_val	*av;
	struct passwd	*pw;
	char		 self[64];
	size_t		 i;

	if (config_get_root() || sc->sc_server == NULL ||
	    sc->sc_nredirect > 0 || sc->sc_builtin != BUILTIN_NONE ||
	    (sc->sc_flags & SFLAG_SENSOR))
		return;
	if ((pw = getpwuid(geteuid())) != NULL)
		(void)snprintf(self, sizeof(self), "%s", pw->pw_name);
	else
		(void)snprintf(self, sizeof(self), "uid %u",
		    (unsigned)geteuid());
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		av = audit_val(vals, attrs[i]);
		if (!av->av_set || av->av_file == NULL)
			continue;
		conf_warn(cd, av->av_file, av->av_line, "service %s: %s %s is "
		    "ignored: portgate does not run as root, so server %s runs "
		    "as %s", sc->sc_name, attrs[i], av->av_words[0],
		    sc->sc_server, self);
	}
}

void
config_audit(const struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	audit_proxy_from(sc, vals, cd);
	audit_passenv(sc, cd);
	audit_wait_rules(sc, vals, cd);
	audit_tls_certs(sc, vals, cd);
	audit_not_root(sc, vals, cd);
}
