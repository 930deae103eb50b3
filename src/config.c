/*
 * Build a struct config from the parsed files: merge defaults into services
 * with xinetd's rules, run every attribute's setter, check what attributes
 * require of each other, resolve ports and addresses, and refuse the whole
 * configuration if anything is wrong.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accesslog.h"
#include "addrlist.h"
#include "conf_attr.h"
#include "conf_parse.h"
#include "conf_suggest.h"
#include "config.h"
#include "config_audit.h"
#include "geoip.h"
#include "spawn.h"
#include "timewin.h"
#include "tls.h"
#include "xmalloc.h"

static int	config_root = 1;

/*
 * What portgate logs when no log_on_success / log_on_failure is set (the
 * words of config_seed_log_fields()).
 */
#define DEFAULT_LOG_SUCCESS	(ALOG_HOST | ALOG_PID | ALOG_EXIT | ALOG_DURATION)
#define DEFAULT_LOG_FAILURE	(ALOG_HOST)

void
config_set_root(int root)
{
	config_root = root;
}

/* Empty one merged value. */
static void
av_clear(struct attr_val *av)
{
	int	i;

	for (i = 0; i < av->av_n; i++)
		free(av->av_words[i]);
	free(av->av_words);
	free(av->av_files);
	free(av->av_lines);
	memset(av, 0, sizeof(*av));
}

/* Append words written at <file>:<line>. */
static void
av_append(struct attr_val *av, char *const *words, int n, const char *file,
    int line)
{
	int	i;

	av->av_words = xreallocarray(av->av_words, av->av_n + n + 1,
	    sizeof(char *));
	av->av_files = xreallocarray(av->av_files, av->av_n + n + 1,
	    sizeof(char *));
	av->av_lines = xreallocarray(av->av_lines, av->av_n + n + 1,
	    sizeof(int));
	for (i = 0; i < n; i++) {
		av->av_words[av->av_n] = xstrdup(words[i]);
		av->av_files[av->av_n] = file;
		av->av_lines[av->av_n] = line;
		av->av_n++;
	}
	av->av_words[av->av_n] = NULL;
	av->av_file = file;
	av->av_line = line;
	av->av_set = 1;
}

/* Remove every word equal (ignoring case) to one of <words>. */
static void
av_remove(struct attr_val *av, char *const *words, int n)
{
	int	i, j, k = 0;

	for (i = 0; i < av->av_n; i++) {
		for (j = 0; j < n; j++)
			if (strcasecmp(av->av_words[i], words[j]) == 0)
				break;
		if (j < n) {
			free(av->av_words[i]);
			continue;
		}
		av->av_words[k] = av->av_words[i];
		av->av_files[k] = av->av_files[i];
		av->av_lines[k] = av->av_lines[i];
		k++;
	}
	av->av_n = k;
	if (av->av_words != NULL)
		av->av_words[k] = NULL;
}

/* Copy <src> into an empty <dst>. */
static void
av_copy(struct attr_val *dst, const struct attr_val *src)
{
	int	i;

	for (i = 0; i < src->av_n; i++)
		av_append(dst, &src->av_words[i], 1, src->av_files[i],
		    src->av_lines[i]);
	dst->av_file = src->av_file;
	dst->av_line = src->av_line;
	dst->av_set = src->av_set;
	dst->av_bad = src->av_bad;
	dst->av_inherited = 1;
	if (dst->av_words == NULL)
		dst->av_words = xcalloc(1, sizeof(char *));
}

static struct attr_val *
vals_new(void)
{
	return xcalloc(attr_count, sizeof(struct attr_val));
}

static void
vals_free(struct attr_val *vals)
{
	int	i;

	if (vals == NULL)
		return;
	for (i = 0; i < attr_count; i++)
		av_clear(&vals[i]);
	free(vals);
}

/*
 * Apply one statement to <vals>: scope, operator and value count are
 * checked here for every attribute, the value itself later by its setter.
 */
static void
config_apply_stmt(struct attr_val *vals, const struct conf_stmt *cs,
    int in_defaults, struct conf_diag *cd)
{
	const struct attr_def	*ad;
	struct attr_val		*av;
	int			 idx, list;

	if ((idx = attr_lookup(cs->cs_name)) == -1) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "unknown attribute '%s'%s", cs->cs_name,
		    conf_suggest_hint(cs->cs_name));
		return;
	}
	ad = &attr_table[idx];
	av = &vals[idx];
	list = (ad->ad_flags & ATTR_LIST) != 0;
	if (in_defaults && !(ad->ad_flags & ATTR_DEFAULTS)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "%s is not allowed in defaults", ad->ad_name);
		return;
	}
	if (!in_defaults && !(ad->ad_flags & ATTR_SERVICE)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "%s is only allowed in defaults", ad->ad_name);
		return;
	}
	if (cs->cs_op != OP_SET && !list) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "operator '%s' cannot be used with %s, which takes a single "
		    "value: use '='", conf_op_name(cs->cs_op), ad->ad_name);
		return;
	}
	if (cs->cs_op == OP_DEL && (ad->ad_flags & ATTR_NODEL)) {
		conf_error(cd, cs->cs_file, cs->cs_line,
		    "operator '-=' cannot be used with %s", ad->ad_name);
		return;
	}
	if (cs->cs_op != OP_DEL && (cs->cs_nvals < ad->ad_min ||
	    (ad->ad_max >= 0 && cs->cs_nvals > ad->ad_max))) {
		if (cs->cs_nvals == 0)
			conf_error(cd, cs->cs_file, cs->cs_line,
			    "%s expects a value: %s", ad->ad_name,
			    ad->ad_values);
		else
			conf_error(cd, cs->cs_file, cs->cs_line,
			    "%s expects %s, found %d value%s", ad->ad_name,
			    ad->ad_values, cs->cs_nvals,
			    cs->cs_nvals == 1 ? "" : "s");
		return;
	}
	av->av_inherited = 0;
	if (!list) {
		if (av->av_set) {
			conf_warn(cd, cs->cs_file, cs->cs_line,
			    "%s is already set at %s:%d; the first value is "
			    "kept (as xinetd does)", ad->ad_name, av->av_file,
			    av->av_line);
			return;
		}
		av_append(av, cs->cs_vals, cs->cs_nvals, cs->cs_file,
		    cs->cs_line);
		return;
	}
	/* In defaults, '=' adds to what earlier lines set (xinetd). */
	if (cs->cs_op == OP_SET && !in_defaults)
		av_clear(av);
	if (cs->cs_op == OP_DEL) {
		av_remove(av, cs->cs_vals, cs->cs_nvals);
		av->av_file = cs->cs_file;
		av->av_line = cs->cs_line;
		av->av_set = 1;
	} else
		av_append(av, cs->cs_vals, cs->cs_nvals, cs->cs_file,
		    cs->cs_line);
}

/* Fresh service with portgate's defaults for unset attributes. */
static struct service_conf *
config_service_new(const struct conf_entry *ce)
{
	struct service_conf	*sc;

	sc = xcalloc(1, sizeof(*sc));
	sc->sc_name = xstrdup(ce->ce_name);
	sc->sc_file = ce->ce_file;
	sc->sc_line = ce->ce_line;
	sc->sc_port = -1;
	sc->sc_v6only = -1;
	sc->sc_umask = -1;
	sc->sc_instances = LIMIT_UNLIMITED;
	sc->sc_per_source = LIMIT_UNLIMITED;
	sc->sc_per_source_prefix6 = 64;
	sc->sc_cps_rate = 50;
	sc->sc_cps_wait = 10;
	sc->sc_connect_timeout = 10;
	sc->sc_idle_timeout = -1;
	sc->sc_tls_handshake_timeout = 10;
	sc->sc_log_success = DEFAULT_LOG_SUCCESS;
	sc->sc_log_failure = DEFAULT_LOG_FAILURE;
	return sc;
}

static void
config_service_free(struct service_conf *sc)
{
	int	i;

	if (sc == NULL)
		return;
	free(sc->sc_name);
	free(sc->sc_id);
	free(sc->sc_protoname);
	free(sc->sc_bind);
	free(sc->sc_server);
	wordlist_clear(&sc->sc_server_args);
	free(sc->sc_user);
	free(sc->sc_group);
	wordlist_clear(&sc->sc_env);
	wordlist_clear(&sc->sc_passenv);
	free(sc->sc_spawn_env);
	for (i = 0; i < sc->sc_nredirect; i++) {
		free(sc->sc_redirect[i].rt_host);
		free(sc->sc_redirect[i].rt_port);
	}
	free(sc->sc_redirect);
	addrlist_free(sc->sc_only_from);
	addrlist_free(sc->sc_no_access);
	addrlist_free(sc->sc_proxy_from);
	timewin_free(sc->sc_access_times);
	free(sc->sc_access_tz);
	free(sc->sc_geoip_db);
	if (sc->sc_geoip != NULL)
		geoip_unref(sc->sc_geoip);
	wordlist_clear(&sc->sc_only_from_country);
	wordlist_clear(&sc->sc_no_access_country);
	banner_clear(&sc->sc_banner);
	banner_clear(&sc->sc_banner_success);
	banner_clear(&sc->sc_banner_fail);
	wordlist_clear(&sc->sc_tls_cert);
	wordlist_clear(&sc->sc_tls_key);
	free(sc->sc_tls_ca);
	wordlist_clear(&sc->sc_tls_protocols);
	free(sc->sc_tls_ciphers);
	free(sc->sc_tls_ciphersuites);
	tls_ctx_free(sc->sc_tlsctx);
	wordlist_clear(&sc->sc_tls_alpn);
	logtype_clear(&sc->sc_logtype);
	if (sc->sc_log != NULL)
		accesslog_unref(sc->sc_log);
	free(sc);
}

/* The merged value of attribute <name> (which must exist). */
static struct attr_val *
vals_get(struct attr_val *vals, const char *name)
{
	return &vals[attr_lookup(name)];
}

/*
 * Run every setter, the ATTR_LATE ones last.  Returns the number of values
 * that failed, those inherited from a bad defaults value included (the
 * diagnostics do not count them: a message is recorded once).
 */
static int
config_run_setters(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	const struct attr_def	*ad;
	int			 pass, i, failed = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < attr_count; i++) {
			ad = &attr_table[i];
			if (!vals[i].av_set ||
			    ((ad->ad_flags & ATTR_LATE) != 0) != pass)
				continue;
			/* A bad value of defaults is reported once, there. */
			if (vals[i].av_inherited && vals[i].av_bad) {
				failed++;
				continue;
			}
			/* So is the warning of an ignored one. */
			if (vals[i].av_inherited &&
			    (ad->ad_flags & ATTR_IGNORED))
				continue;
			if (ad->ad_set(ad, sc, &vals[i], cd) == -1)
				failed++;
		}
	}
	return failed;
}

/* Find <sc>'s port: from `port` or /etc/services, as xinetd does. */
static void
config_check_port(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*port = vals_get(vals, "port");
	struct servent	*se;
	int		 listed;

	if (sc->sc_type & STYPE_UNLISTED) {
		if (!port->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: missing port (required with type = "
			    "UNLISTED)", sc->sc_name);
		return;
	}
	se = getservbyname(sc->sc_name, sc->sc_protoname);
	listed = se != NULL ? ntohs((uint16_t)se->s_port) : -1;
	if (listed == -1 && port->av_set)
		conf_error(cd, port->av_file, port->av_line,
		    "service %s: '%s/%s' is not in /etc/services on this machine "
		    "(add it there, or set type = UNLISTED)", sc->sc_name,
		    sc->sc_name, sc->sc_protoname);
	else if (listed == -1)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: no port: '%s/%s' is not in /etc/services on "
		    "this machine and no port is given", sc->sc_name,
		    sc->sc_name, sc->sc_protoname);
	else if (port->av_set && sc->sc_port >= 0 && listed != sc->sc_port)
		conf_error(cd, port->av_file, port->av_line,
		    "service %s: port %d differs from /etc/services (%s/%s is "
		    "port %d); use type = UNLISTED for another port",
		    sc->sc_name, sc->sc_port, sc->sc_name, sc->sc_protoname,
		    listed);
	else
		sc->sc_port = listed;
}

/* Find the address of interface <name>, of <family> or any; 0 or -1. */
static int
config_ifaddr(const char *name, int family, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct ifaddrs	*ifa, *i;
	int		 rc = -1;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL && rc == -1; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, name) != 0)
			continue;
		if (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (family != AF_UNSPEC && i->ifa_addr->sa_family != family)
			continue;
		*len = i->ifa_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		memcpy(ss, i->ifa_addr, *len);
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}

/* Resolve bind/interface into sc_bindaddr. */
static void
config_check_bind(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*av = vals_get(vals, "bind");
	struct addrinfo	 hints, *res;
	int		 family = AF_UNSPEC, rc;

	if (sc->sc_bind == NULL)
		return;
	if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV4)
		family = AF_INET;
	else if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV6)
		family = AF_INET6;
	if (if_nametoindex(sc->sc_bind) != 0) {
		if (config_ifaddr(sc->sc_bind, family, &sc->sc_bindaddr,
		    &sc->sc_bindaddrlen) == -1)
			conf_error(cd, av->av_file, av->av_line,
			    "interface %s has no address on this machine",
			    sc->sc_bind);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = sc->sc_socktype;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(sc->sc_bind, NULL, &hints, &res)) != 0) {
		conf_error(cd, av->av_file, av->av_line,
		    "cannot resolve bind address '%s' on this machine: %s",
		    sc->sc_bind, gai_strerror(rc));
		return;
	}
	memcpy(&sc->sc_bindaddr, res->ai_addr, res->ai_addrlen);
	sc->sc_bindaddrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (family != AF_UNSPEC && sc->sc_bindaddr.ss_family != family)
		conf_error(cd, av->av_file, av->av_line,
		    "bind address %s does not match flags IPv4/IPv6",
		    sc->sc_bind);
}

/* socket_type and protocol imply each other; one is required. */
static void
config_check_socket(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*st = vals_get(vals, "socket_type");
	struct attr_val	*pr = vals_get(vals, "protocol");

	if (!st->av_set && !pr->av_set) {
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: missing socket_type", sc->sc_name);
		sc->sc_socktype = SOCK_STREAM;
	} else if (!st->av_set)
		sc->sc_socktype = sc->sc_protocol == IPPROTO_UDP ?
		    SOCK_DGRAM : SOCK_STREAM;
	if (!pr->av_set || sc->sc_protoname == NULL) {
		sc->sc_protocol = sc->sc_socktype == SOCK_DGRAM ?
		    IPPROTO_UDP : IPPROTO_TCP;
		free(sc->sc_protoname);
		sc->sc_protoname = xstrdup(sc->sc_protocol == IPPROTO_UDP ?
		    "udp" : "tcp");
	}
	if ((sc->sc_socktype == SOCK_DGRAM) !=
	    (sc->sc_protocol == IPPROTO_UDP))
		conf_error(cd, pr->av_file, pr->av_line,
		    "service %s: protocol %s does not go with socket_type %s",
		    sc->sc_name, sc->sc_protoname,
		    sc->sc_socktype == SOCK_DGRAM ? "dgram" : "stream");
	if (!vals_get(vals, "wait")->av_set)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: missing wait", sc->sc_name);
}

/* What the back end requires: builtin, redirect or server. */
static void
config_check_backend(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*rd = vals_get(vals, "redirect");

	if (sc->sc_flags & SFLAG_SENSOR)
		return;
	if (sc->sc_type & STYPE_INTERNAL) {
		if (sc->sc_socktype == SOCK_STREAM && sc->sc_wait) {
			conf_warn(cd, sc->sc_file, sc->sc_line,
			    "service %s: wait = yes means nothing for a "
			    "built-in stream service; served as wait = no",
			    sc->sc_name);
			sc->sc_wait = 0;
		}
		sc->sc_builtin = builtin_lookup(sc->sc_name);
		if (sc->sc_builtin == BUILTIN_NONE)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: no internal service of that name "
			    "(portgate has echo, discard, daytime, time, "
			    "chargen)", sc->sc_name);
		return;
	}
	if (sc->sc_nredirect > 0) {
		if (sc->sc_socktype == SOCK_STREAM && sc->sc_wait)
			conf_error(cd, rd->av_file, rd->av_line,
			    "service %s: redirect needs wait = no for a stream "
			    "service", sc->sc_name);
		if (sc->sc_flags & SFLAG_NAMEINARGS)
			conf_error(cd, rd->av_file, rd->av_line,
			    "service %s: redirect cannot go with NAMEINARGS",
			    sc->sc_name);
		if (sc->sc_idle_timeout < 0 && sc->sc_socktype == SOCK_DGRAM)
			sc->sc_idle_timeout = 60;
		return;
	}
	if (sc->sc_server == NULL) {
		if (!vals_get(vals, "server")->av_set && !rd->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: missing server (or type = INTERNAL, or "
			    "redirect)", sc->sc_name);
		return;
	}
	if (config_root && !sc->sc_has_uid && !vals_get(vals, "user")->av_set)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: missing user (a spawned server never runs as "
		    "root by default)", sc->sc_name);
	if ((sc->sc_flags & SFLAG_NAMEINARGS) && sc->sc_server_args.wl_n == 0)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: NAMEINARGS needs server_args", sc->sc_name);
}

/* Checks between the extension attributes. */
static void
config_check_extensions(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	if (sc->sc_idle_timeout < 0)
		sc->sc_idle_timeout = 0;
	if (sc->sc_proxy_protocol != PROXY_NONE && sc->sc_nredirect == 0)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: proxy_protocol needs redirect", sc->sc_name);
	if (sc->sc_proxy_protocol == PROXY_V1 && sc->sc_socktype == SOCK_DGRAM)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: proxy_protocol v1 is for stream services; use "
		    "v2 for dgram", sc->sc_name);
	if (sc->sc_accept_proxy && sc->sc_socktype != SOCK_STREAM)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: accept_proxy needs socket_type = stream",
		    sc->sc_name);
	if ((sc->sc_has_only_from_country ||
	    sc->sc_no_access_country.wl_n > 0) && sc->sc_geoip_db == NULL)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: country rules need geoip_db", sc->sc_name);
	if (sc->sc_tls) {
		if (!vals_get(vals, "tls_cert")->av_set ||
		    !vals_get(vals, "tls_key")->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: tls = yes needs tls_cert and tls_key",
			    sc->sc_name);
		else if (sc->sc_tls_cert.wl_n > 0 && sc->sc_tls_key.wl_n > 0 &&
		    sc->sc_tls_cert.wl_n != sc->sc_tls_key.wl_n)
			conf_error(cd, vals_get(vals, "tls_key")->av_file,
			    vals_get(vals, "tls_key")->av_line,
			    "service %s: tls_cert and tls_key must list as many "
			    "files", sc->sc_name);
		if (sc->sc_socktype != SOCK_STREAM || sc->sc_wait)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: tls needs socket_type = stream and "
			    "wait = no", sc->sc_name);
	}
}

/* Same words in the same order? */
static int
wordlist_equal(const struct wordlist *a, const struct wordlist *b)
{
	int	i;

	if (a->wl_n != b->wl_n)
		return 0;
	for (i = 0; i < a->wl_n; i++)
		if (strcmp(a->wl_words[i], b->wl_words[i]) != 0)
			return 0;
	return 1;
}

/* NULL-safe string equality. */
static int
config_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Would <a> and <b> build the same TLS context? */
static int
config_same_tls(const struct service_conf *a, const struct service_conf *b)
{
	return wordlist_equal(&a->sc_tls_cert, &b->sc_tls_cert) &&
	    wordlist_equal(&a->sc_tls_key, &b->sc_tls_key) &&
	    wordlist_equal(&a->sc_tls_protocols, &b->sc_tls_protocols) &&
	    wordlist_equal(&a->sc_tls_alpn, &b->sc_tls_alpn) &&
	    config_streq(a->sc_tls_ca, b->sc_tls_ca) &&
	    config_streq(a->sc_tls_ciphers, b->sc_tls_ciphers) &&
	    config_streq(a->sc_tls_ciphersuites, b->sc_tls_ciphersuites);
}

/*
 * The TLS context of <sc>, whose files and settings are checked here; one
 * context serves every service of <cf> with the same settings.
 */
static void
config_build_tls(struct config *cf, struct service_conf *sc,
    struct attr_val *vals, struct conf_diag *cd)
{
	struct attr_val	*av = vals_get(vals, "tls_cert");
	char		 err[512], name[32];
	int		 idx, i;

	for (i = 0; i < cf->cf_nservices; i++) {
		if (cf->cf_services[i]->sc_tlsctx != NULL &&
		    config_same_tls(cf->cf_services[i], sc)) {
			sc->sc_tlsctx = tls_ctx_ref(
			    cf->cf_services[i]->sc_tlsctx);
			return;
		}
	}
	if ((sc->sc_tlsctx = tls_ctx_new(sc, err, sizeof(err))) != NULL)
		return;
	/* The message starts with the attribute at fault: point at it. */
	(void)snprintf(name, sizeof(name), "%.*s", (int)strcspn(err, " :"),
	    err);
	if ((idx = attr_lookup(name)) != -1 && vals[idx].av_set)
		av = &vals[idx];
	conf_error(cd, av->av_file, av->av_line, "service %s: %s",
	    sc->sc_name, err);
}

/* Build one enabled service; NULL after errors. */
static struct service_conf *
config_build_service(struct config *cf, const struct conf_entry *ce,
    struct attr_val *vals, struct conf_diag *cd)
{
	struct service_conf	*sc;
	int			 before = cd->cd_errors, bad;

	sc = config_service_new(ce);
	bad = config_run_setters(sc, vals, cd);
	if (sc->sc_id == NULL)
		sc->sc_id = xstrdup(sc->sc_name);
	config_check_socket(sc, vals, cd);
	config_check_port(sc, vals, cd);
	config_check_bind(sc, vals, cd);
	config_check_backend(sc, vals, cd);
	config_check_extensions(sc, vals, cd);
	config_audit(sc, vals, cd);
	if (cd->cd_errors == before && sc->sc_tls)
		config_build_tls(cf, sc, vals, cd);
	if (sc->sc_server != NULL)
		sc->sc_spawn_env = spawn_env_base(sc);
	if (cd->cd_errors != before || bad > 0) {
		config_service_free(sc);
		return NULL;
	}
	return sc;
}

/* Is this service switched off by disable, enabled or disabled? */
static int
config_is_disabled(struct attr_val *vals, struct attr_val *defs,
    const char *name, struct conf_diag *cd)
{
	struct attr_val	*av = vals_get(vals, "disable");
	struct attr_val	*en = vals_get(defs, "enabled");
	struct attr_val	*dis = vals_get(defs, "disabled");
	const char	*id = name;
	int		 off = 0, i;

	if (vals_get(vals, "id")->av_set)
		id = vals_get(vals, "id")->av_words[0];
	if (av->av_set && conf_value_bool(av->av_words[0], &off) == -1)
		conf_error(cd, av->av_file, av->av_line,
		    "disable: bad value '%s': expected yes or no",
		    av->av_words[0]);
	for (i = 0; i < dis->av_n; i++)
		if (strcmp(dis->av_words[i], id) == 0)
			off = 1;
	if (en->av_set) {
		for (i = 0; i < en->av_n; i++)
			if (strcmp(en->av_words[i], id) == 0)
				break;
		if (i == en->av_n)
			off = 1;
	}
	return off;
}

/* Does `type` say RPC? */
static int
config_is_rpc(struct attr_val *vals)
{
	struct attr_val	*av = vals_get(vals, "type");
	int		 i;

	for (i = 0; i < av->av_n; i++)
		if (strcasecmp(av->av_words[i], "RPC") == 0)
			return 1;
	return 0;
}

/* Two services that would listen on the same socket are an error. */
static void
config_check_duplicates(struct config *cf, struct conf_diag *cd)
{
	struct service_conf	*a, *b;
	const char		*ba, *bb;
	int			 i, j;

	for (i = 0; i < cf->cf_nservices; i++) {
		a = cf->cf_services[i];
		ba = a->sc_bind != NULL ? a->sc_bind : "*";
		for (j = 0; j < i; j++) {
			b = cf->cf_services[j];
			bb = b->sc_bind != NULL ? b->sc_bind : "*";
			if (a->sc_protocol != b->sc_protocol ||
			    a->sc_port != b->sc_port || strcmp(ba, bb) != 0 ||
			    a->sc_port == 0)
				continue;
			if (strcmp(a->sc_id, b->sc_id) == 0)
				conf_error(cd, a->sc_file, a->sc_line,
				    "duplicate service: id %s on %s port %d "
				    "address %s is already defined at %s:%d",
				    a->sc_id, a->sc_protoname, a->sc_port, ba,
				    b->sc_file, b->sc_line);
			else
				conf_error(cd, a->sc_file, a->sc_line,
				    "service %s would listen on %s port %d "
				    "address %s like service %s at %s:%d",
				    a->sc_id, a->sc_protoname, a->sc_port, ba,
				    b->sc_id, b->sc_file, b->sc_line);
		}
	}
}

/*
 * Check every value of defaults once, on a scratch service, so that a bad
 * one is reported once (and even when no service uses it); services that
 * inherit it then skip it.
 */
static void
config_check_defaults(struct attr_val *defs, struct conf_diag *cd)
{
	static char		 name[] = "defaults";
	struct conf_entry	 ce;
	struct service_conf	*sc;
	const struct attr_def	*ad;
	int			 i;

	memset(&ce, 0, sizeof(ce));
	ce.ce_name = name;
	sc = config_service_new(&ce);
	for (i = 0; i < attr_count; i++) {
		ad = &attr_table[i];
		if (!defs[i].av_set || !(ad->ad_flags & ATTR_SERVICE))
			continue;
		defs[i].av_bad = ad->ad_set(ad, sc, &defs[i], cd) == -1;
	}
	config_service_free(sc);
}

/* portgate's own log fields, so that += and -= in a service apply to them. */
static void
config_seed_log_fields(struct attr_val *vals, struct attr_val *defs,
    const struct conf_entry *ce)
{
	static char	 host[] = "HOST", pid[] = "PID", exit_[] = "EXIT";
	static char	 duration[] = "DURATION";
	char		*success[] = { host, pid, exit_, duration };
	char		*failure[] = { host };
	struct attr_val	*av;

	av = vals_get(vals, "log_on_success");
	if (!vals_get(defs, "log_on_success")->av_set && !av->av_set)
		av_append(av, success, 4, ce->ce_file, ce->ce_line);
	av = vals_get(vals, "log_on_failure");
	if (!vals_get(defs, "log_on_failure")->av_set && !av->av_set)
		av_append(av, failure, 1, ce->ce_file, ce->ce_line);
}

/* Merge defaults into a service entry and build it if enabled. */
static void
config_add_service(struct config *cf, const struct conf_entry *ce,
    struct attr_val *defs, struct conf_diag *cd)
{
	struct attr_val		*vals;
	struct service_conf	*sc;
	int			 i;

	vals = vals_new();
	/* Lists from defaults are copied first, so that += adds to them. */
	for (i = 0; i < attr_count; i++)
		if ((attr_table[i].ad_flags & ATTR_LIST) && defs[i].av_set &&
		    (attr_table[i].ad_flags & ATTR_SERVICE))
			av_copy(&vals[i], &defs[i]);
	config_seed_log_fields(vals, defs, ce);
	for (i = 0; i < ce->ce_nstmts; i++)
		config_apply_stmt(vals, &ce->ce_stmts[i], 0, cd);
	/* Scalars from defaults fill what the service leaves unset. */
	for (i = 0; i < attr_count; i++)
		if (!(attr_table[i].ad_flags & ATTR_LIST) && defs[i].av_set &&
		    !vals[i].av_set && (attr_table[i].ad_flags & ATTR_SERVICE))
			av_copy(&vals[i], &defs[i]);
	if (config_is_disabled(vals, defs, ce->ce_name, cd)) {
		cf->cf_ndisabled++;
		vals_free(vals);
		return;
	}
	if (config_is_rpc(vals)) {
		conf_warn(cd, ce->ce_file, ce->ce_line, "service %s: RPC "
		    "services are not supported; it is not started",
		    ce->ce_name);
		cf->cf_ndisabled++;
	} else if ((sc = config_build_service(cf, ce, vals, cd)) != NULL) {
		cf->cf_services = xreallocarray(cf->cf_services,
		    cf->cf_nservices + 1, sizeof(sc));
		cf->cf_services[cf->cf_nservices++] = sc;
	}
	vals_free(vals);
}

/* Open the access log of every service; returns -1 after errors. */
static int
config_open_logs(struct config *cf, struct conf_diag *cd)
{
	struct service_conf	*sc;
	char			 err[256];
	int			 i, rc = 0;

	for (i = 0; i < cf->cf_nservices; i++) {
		sc = cf->cf_services[i];
		if ((sc->sc_log = accesslog_open(&sc->sc_logtype, err,
		    sizeof(err))) == NULL) {
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: log_type: %s", sc->sc_id, err);
			rc = -1;
		}
	}
	return rc;
}

struct config *
config_load(const char *path, int flags, struct conf_diag *cd)
{
	struct conf_tree	 tree;
	struct config		*cf;
	struct attr_val		*defs;
	int			 i, j;

	conf_parse(path, &tree, cd);
	cf = xcalloc(1, sizeof(*cf));
	cf->cf_refcnt = 1;
	cf->cf_path = xstrdup(path);
	defs = vals_new();
	for (i = 0; i < tree.ct_nentries; i++)
		if (tree.ct_entries[i].ce_kind == ENTRY_DEFAULTS)
			for (j = 0; j < tree.ct_entries[i].ce_nstmts; j++)
				config_apply_stmt(defs,
				    &tree.ct_entries[i].ce_stmts[j], 1, cd);
	config_check_defaults(defs, cd);
	for (i = 0; i < tree.ct_nentries; i++)
		if (tree.ct_entries[i].ce_kind == ENTRY_SERVICE)
			config_add_service(cf, &tree.ct_entries[i], defs, cd);
	vals_free(defs);
	config_check_duplicates(cf, cd);
	/* Statements point into the file names: the config keeps them. */
	cf->cf_files = tree.ct_files;
	tree.ct_files = NULL;
	conf_tree_free(&tree);
	if (cd->cd_errors == 0 && !(flags & CONF_CHECK_ONLY))
		(void)config_open_logs(cf, cd);
	if (cd->cd_errors > 0) {
		config_unref(cf);
		return NULL;
	}
	return cf;
}

void
config_ref(struct config *cf)
{
	cf->cf_refcnt++;
}

void
config_unref(struct config *cf)
{
	int	i;

	if (cf == NULL || --cf->cf_refcnt > 0)
		return;
	for (i = 0; i < cf->cf_nservices; i++)
		config_service_free(cf->cf_services[i]);
	free(cf->cf_services);
	for (i = 0; cf->cf_files != NULL && cf->cf_files[i] != NULL; i++)
		free(cf->cf_files[i]);
	free(cf->cf_files);
	free(cf->cf_path);
	free(cf);
}
