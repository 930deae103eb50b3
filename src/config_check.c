/*
 * What the attributes of a service require of each other, checked once
 * every setter ran: a socket type and a protocol that agree, a port from
 * `port` or /etc/services, a bind address that resolves, a back end that
 * is complete, extensions that go together; and no two services on one
 * socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "localaddr.h"
#include "tcpmux.h"
#include "xmalloc.h"

static int	config_root = 1;

void
config_set_root(int root)
{
	config_root = root;
}

int
config_get_root(void)
{
	return config_root;
}

/*
 * The port written as a service name ("port = rsync"): its number for
 * <sc>'s protocol.  Returns 1 when this machine has no such name (the
 * service is disabled), else 0; a word its setter refused is left alone.
 */
static int
config_check_port_name(struct service_conf *sc, struct attr_val *port,
    struct conf_diag *cd)
{
	const char	*w = port->av_words[0];
	struct servent	*se;

	if (w[strspn(w, "0123456789")] == '\0' || !isalnum((unsigned char)w[0])
	    || w[strspn(w, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+")] != '\0')
		return 0;
	if ((se = getservbyname(w, sc->sc_protoname)) == NULL) {
		conf_disable(cd, port->av_file, port->av_line, "service %s: "
		    "port %s: '%s/%s' is not in /etc/services on this machine",
		    sc->sc_name, w, w, sc->sc_protoname);
		return 1;
	}
	sc->sc_port = ntohs((uint16_t)se->s_port);
	return 0;
}

/*
 * Find <sc>'s port: from `port` (a number or a name) or /etc/services, as
 * xinetd does.  Returns the number of findings that disable the service.
 */
static int
config_check_port(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*port = config_val(vals, "port");
	struct servent	*se;
	int		 listed;

	if (sc->sc_type & (STYPE_TCPMUX | STYPE_TCPMUXPLUS)) {
		sc->sc_port = 0;	/* not listened on: see tcpmux */
		return 0;
	}
	if (port->av_set && config_check_port_name(sc, port, cd) != 0)
		return 1;
	if (sc->sc_type & STYPE_UNLISTED) {
		if (!port->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: missing port (required with type = "
			    "UNLISTED)", sc->sc_name);
		return 0;
	}
	se = getservbyname(sc->sc_name, sc->sc_protoname);
	listed = se != NULL ? ntohs((uint16_t)se->s_port) : -1;
	if (listed == -1 && port->av_set) {
		conf_disable(cd, port->av_file, port->av_line,
		    "service %s: '%s/%s' is not in /etc/services on this "
		    "machine (add it there, or set type = UNLISTED)", sc->sc_name,
		    sc->sc_name, sc->sc_protoname);
		return 1;
	} else if (listed == -1) {
		conf_disable(cd, sc->sc_file, sc->sc_line,
		    "service %s: no port: '%s/%s' is not in /etc/services on "
		    "this machine and no port is given", sc->sc_name,
		    sc->sc_name, sc->sc_protoname);
		return 1;
	} else if (port->av_set && sc->sc_port >= 0 && listed != sc->sc_port)
		conf_error(cd, port->av_file, port->av_line,
		    "service %s: port %s differs from /etc/services (%s/%s is "
		    "port %d); use type = UNLISTED for another port",
		    sc->sc_name, port->av_words[0], sc->sc_name,
		    sc->sc_protoname, listed);
	else
		sc->sc_port = listed;
	return 0;
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

/* Is <path> (a sysctl of /proc) "1"? */
static int
config_sysctl_on(const char *path)
{
	FILE	*f;
	int	 c;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	c = fgetc(f);
	(void)fclose(f);
	return c == '1';
}

/*
 * Can a socket be bound to <ss> here?  The wildcard and multicast groups
 * can; so can an address of an interface, any address of a loopback
 * interface's network (127.0.0.0/8 on Linux) and any address at all when
 * ip_nonlocal_bind is set.  When the interfaces cannot be listed, yes:
 * the bind will tell.
 */
static int
config_addr_local(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		if (sin->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) ||
		    config_sysctl_on("/proc/sys/net/ipv4/ip_nonlocal_bind"))
			return 1;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) ||
		    config_sysctl_on("/proc/sys/net/ipv6/ip_nonlocal_bind"))
			return 1;
	} else
		return 1;
	return localaddr_held((const struct sockaddr *)ss) != 0;
}

/*
 * Resolve bind/interface into sc_bindaddr.  Returns the number of
 * findings that disable the service (an address not on this machine).
 */
static int
config_check_bind(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*av = config_val(vals, "bind");
	struct addrinfo	 hints, *res;
	char		 host[NI_MAXHOST];
	int		 family = AF_UNSPEC, rc;

	if (sc->sc_bind == NULL)
		return 0;
	if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV4)
		family = AF_INET;
	else if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV6)
		family = AF_INET6;
	if (if_nametoindex(sc->sc_bind) != 0) {
		if (config_ifaddr(sc->sc_bind, family, &sc->sc_bindaddr,
		    &sc->sc_bindaddrlen) == 0)
			return 0;
		conf_disable(cd, av->av_file, av->av_line,
		    "interface %s has no address on this machine",
		    sc->sc_bind);
		return 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = sc->sc_socktype;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(sc->sc_bind, NULL, &hints, &res)) != 0) {
		conf_disable(cd, av->av_file, av->av_line,
		    "cannot resolve bind address '%s' on this machine: %s",
		    sc->sc_bind, gai_strerror(rc));
		return 1;
	}
	memcpy(&sc->sc_bindaddr, res->ai_addr, res->ai_addrlen);
	sc->sc_bindaddrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (family != AF_UNSPEC && sc->sc_bindaddr.ss_family != family) {
		conf_error(cd, av->av_file, av->av_line,
		    "bind address %s does not match flags IPv4/IPv6",
		    sc->sc_bind);
		return 0;
	}
	/* freebind: a standby listens on an address it will get (VRRP). */
	if (sc->sc_freebind || config_addr_local(&sc->sc_bindaddr))
		return 0;
	if (getnameinfo((struct sockaddr *)&sc->sc_bindaddr,
	    sc->sc_bindaddrlen, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0)
		(void)strlcpy(host, "?", sizeof(host));
	conf_disable(cd, av->av_file, av->av_line, "bind address %s%s%s%s is "
	    "not an address of this machine (reload once it is)", sc->sc_bind,
	    strcmp(host, sc->sc_bind) != 0 ? " (" : "",
	    strcmp(host, sc->sc_bind) != 0 ? host : "",
	    strcmp(host, sc->sc_bind) != 0 ? ")" : "");
	return 1;
}

/* socket_type and protocol imply each other; one is required. */
static void
config_check_socket(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*st = config_val(vals, "socket_type");
	struct attr_val	*pr = config_val(vals, "protocol");

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
	if (!config_val(vals, "wait")->av_set)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: missing wait", sc->sc_name);
}

/*
 * What the back end requires: builtin, redirect or server.  Returns the
 * number of findings that disable the service (a built-in portgate does
 * not have).
 */
static int
config_check_backend(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*rd = config_val(vals, "redirect");

	if (sc->sc_flags & SFLAG_SENSOR)
		return 0;
	if (sc->sc_type & STYPE_INTERNAL) {
		if (sc->sc_socktype == SOCK_STREAM && sc->sc_wait) {
			conf_warn(cd, sc->sc_file, sc->sc_line,
			    "service %s: wait = yes means nothing for a "
			    "built-in stream service; served as wait = no",
			    sc->sc_name);
			sc->sc_wait = 0;
		}
		sc->sc_builtin = builtin_lookup(sc->sc_name);
		if (sc->sc_builtin == BUILTIN_NONE) {
			conf_disable(cd, sc->sc_file, sc->sc_line,
			    "service %s: no internal service of that name "
			    "(portgate has echo, discard, daytime, time, "
			    "chargen, metrics, tcpmux)", sc->sc_name);
			return 1;
		}
		if (sc->sc_builtin == BUILTIN_METRICS &&
		    sc->sc_socktype != SOCK_STREAM) {
			conf_disable(cd, sc->sc_file, sc->sc_line,
			    "service %s: metrics is served over HTTP: it needs "
			    "socket_type = stream", sc->sc_name);
			return 1;
		}
		return 0;
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
		return 0;
	}
	if (sc->sc_server == NULL) {
		if (!config_val(vals, "server")->av_set && !rd->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: missing server (or type = INTERNAL, or "
			    "redirect)", sc->sc_name);
		return 0;
	}
	if (config_root && !sc->sc_has_uid && !config_val(vals, "user")->av_set)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: missing user (a spawned server never runs as "
		    "root by default)", sc->sc_name);
	if ((sc->sc_flags & SFLAG_NAMEINARGS) && sc->sc_server_args.wl_n == 0)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: NAMEINARGS needs server_args", sc->sc_name);
	return 0;
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
		if (!config_val(vals, "tls_cert")->av_set ||
		    !config_val(vals, "tls_key")->av_set)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: tls = yes needs tls_cert and tls_key",
			    sc->sc_name);
		else if (sc->sc_tls_cert.wl_n > 0 && sc->sc_tls_key.wl_n > 0 &&
		    sc->sc_tls_cert.wl_n != sc->sc_tls_key.wl_n)
			conf_error(cd, config_val(vals, "tls_key")->av_file,
			    config_val(vals, "tls_key")->av_line,
			    "service %s: tls_cert and tls_key must list as many "
			    "files", sc->sc_name);
		if (sc->sc_socktype != SOCK_STREAM || sc->sc_wait)
			conf_error(cd, sc->sc_file, sc->sc_line,
			    "service %s: tls needs socket_type = stream and "
			    "wait = no", sc->sc_name);
	}
}

/*
 * The tcpmux built-in, and the services reached through it (type TCPMUX or
 * TCPMUXPLUS): stream, wait = no, plain text on the mux's connection.
 */
static void
config_check_tcpmux(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	struct attr_val	*port = config_val(vals, "port");
	int		 muxed = sc->sc_type & (STYPE_TCPMUX | STYPE_TCPMUXPLUS);

	if (sc->sc_builtin != BUILTIN_TCPMUX && !muxed)
		return;
	if (sc->sc_socktype != SOCK_STREAM || sc->sc_wait)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: tcpmux needs socket_type = stream and wait = "
		    "no", sc->sc_name);
	if (sc->sc_tls)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: tls cannot go with tcpmux (the service name "
		    "and the reply are plain text)", sc->sc_name);
	if (!muxed)
		return;
	if (sc->sc_builtin == BUILTIN_TCPMUX)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: the tcpmux built-in cannot be of type TCPMUX "
		    "or TCPMUXPLUS", sc->sc_name);
	if (strlen(sc->sc_name) > TCPMUX_NAME_MAX)
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: a name reached through tcpmux has at most %d "
		    "characters", sc->sc_name, TCPMUX_NAME_MAX);
	if (sc->sc_accept_proxy || (sc->sc_flags & SFLAG_SENSOR))
		conf_error(cd, sc->sc_file, sc->sc_line,
		    "service %s: accept_proxy and flags SENSOR cannot go with "
		    "type = TCPMUX (they belong to the tcpmux service)",
		    sc->sc_name);
	if (port->av_set)
		conf_warn(cd, port->av_file, port->av_line,
		    "service %s: port is ignored: a service of type TCPMUX is "
		    "reached through the tcpmux service, not on a port of its "
		    "own", sc->sc_name);
}

/*
 * Names reached through tcpmux are matched without case: two that differ
 * only in case are an error; with no tcpmux service none can be reached.
 */
void
config_check_tcpmux_names(struct config *cf, struct conf_diag *cd)
{
	struct service_conf	*a, *b;
	int			 i, j, mux = 0;

	for (i = 0; i < cf->cf_nservices; i++)
		if (cf->cf_services[i]->sc_builtin == BUILTIN_TCPMUX)
			mux = 1;
	for (i = 0; i < cf->cf_nservices; i++) {
		a = cf->cf_services[i];
		if (!(a->sc_type & (STYPE_TCPMUX | STYPE_TCPMUXPLUS)))
			continue;
		if (!mux)
			conf_warn(cd, a->sc_file, a->sc_line, "service %s: "
			    "type = TCPMUX but no tcpmux service is enabled: "
			    "it cannot be reached", a->sc_name);
		for (j = 0; j < i; j++) {
			b = cf->cf_services[j];
			if ((b->sc_type & (STYPE_TCPMUX | STYPE_TCPMUXPLUS)) &&
			    strcasecmp(a->sc_name, b->sc_name) == 0)
				conf_error(cd, a->sc_file, a->sc_line,
				    "service %s: tcpmux already reaches service "
				    "%s (%s:%d) by that name (names are matched "
				    "without case)", a->sc_name, b->sc_name,
				    b->sc_file, b->sc_line);
		}
	}
}

int
config_check_service(struct service_conf *sc, struct attr_val *vals,
    struct conf_diag *cd)
{
	int	off = 0;

	config_check_socket(sc, vals, cd);
	off += config_check_port(sc, vals, cd);
	off += config_check_bind(sc, vals, cd);
	off += config_check_backend(sc, vals, cd);
	config_check_extensions(sc, vals, cd);
	config_check_tcpmux(sc, vals, cd);
	return off;
}
int
config_check_duplicate(const struct config *cf, const struct service_conf *a,
    struct conf_diag *cd)
{
	const struct service_conf	*b;
	const char			*ba, *bb;
	int				 j;

	ba = a->sc_bind != NULL ? a->sc_bind : "*";
	for (j = 0; j < cf->cf_nservices; j++) {
		b = cf->cf_services[j];
		bb = b->sc_bind != NULL ? b->sc_bind : "*";
		if (a->sc_protocol != b->sc_protocol ||
		    a->sc_port != b->sc_port || strcmp(ba, bb) != 0 ||
		    a->sc_port == 0)
			continue;
		if (strcmp(a->sc_id, b->sc_id) == 0)
			conf_disable(cd, a->sc_file, a->sc_line,
			    "duplicate service: id %s on %s port %d "
			    "address %s is already defined at %s:%d",
			    a->sc_id, a->sc_protoname, a->sc_port, ba,
			    b->sc_file, b->sc_line);
		else
			conf_disable(cd, a->sc_file, a->sc_line,
			    "service %s would listen on %s port %d "
			    "address %s like service %s at %s:%d",
			    a->sc_id, a->sc_protoname, a->sc_port, ba,
			    b->sc_id, b->sc_file, b->sc_line);
		return 1;
	}
	return 0;
}
