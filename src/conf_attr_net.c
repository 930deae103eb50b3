/*
 * Setters of how a service meets the network: socket type and protocol,
 * address lists, redirect targets, the PROXY header it sends, TLS
 * versions, and the RPC attributes that are only checked.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrlist.h"
#include "conf_attr_int.h"
#include "xmalloc.h"

/* socket_type: stream or dgram (raw and seqpacket are not served). */
int
attr_set_socktype(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];

	if (strcasecmp(w, "stream") == 0)
		sc->sc_socktype = SOCK_STREAM;
	else if (strcasecmp(w, "dgram") == 0)
		sc->sc_socktype = SOCK_DGRAM;
	else if (strcasecmp(w, "raw") == 0 || strcasecmp(w, "seqpacket") == 0) {
		conf_error(cd, av->av_file, av->av_line,
		    "socket_type %s is not supported by portgate", w);
		return -1;
	} else
		return attr_bad(ad, av, 0, cd, "stream or dgram");
	return 0;
}

/* protocol: a name of /etc/protocols; tcp and udp are served. */
int
attr_set_protocol(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];

	if (strcasecmp(w, "tcp") == 0)
		sc->sc_protocol = IPPROTO_TCP;
	else if (strcasecmp(w, "udp") == 0)
		sc->sc_protocol = IPPROTO_UDP;
	else if (getprotobyname(w) != NULL) {
		conf_error(cd, av->av_file, av->av_line,
		    "protocol %s is not supported by portgate (tcp or udp)", w);
		return -1;
	} else
		return attr_bad(ad, av, 0, cd, "tcp or udp");
	free(sc->sc_protoname);
	sc->sc_protoname = xstrdup(sc->sc_protocol == IPPROTO_TCP ?
	    "tcp" : "udp");
	return 0;
}

/* Report word <i> of an address list if it is bad on its own. */
static void
attr_addrlist_word(const struct attr_def *ad, const struct attr_val *av,
    int i, struct conf_diag *cd)
{
	struct addrlist	*al;
	char		 err[256];

	if ((al = addrlist_parse(&av->av_words[i], 1, err, sizeof(err),
	    NULL)) == NULL)
		conf_error(cd, av->av_files[i], av->av_lines[i], "%s: %s",
		    ad->name, err);
	addrlist_free(al);
}

/* only_from, no_access, proxy_from: compiled address lists. */
int
attr_set_addrlist(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct addrlist	**field;
	char		  err[256];
	int		  bad = -1;

	field = ATTR_FIELD(sc, ad->offset, struct addrlist *);
	addrlist_free(*field);
	*field = addrlist_parse(av->av_words, av->av_n, err, sizeof(err), &bad);
	if (*field != NULL)
		return 0;
	if (bad < 0 || bad >= av->av_n) {
		conf_error(cd, av->av_file, av->av_line, "%s: %s", ad->name,
		    err);
		return -1;
	}
	conf_error(cd, av->av_files[bad], av->av_lines[bad], "%s: %s",
	    ad->name, err);
	/* Every other bad word too, each on its own, so one -t shows all. */
	while (++bad < av->av_n)
		attr_addrlist_word(ad, av, bad, cd);
	return -1;
}

/* A port number or a service name of /etc/services for <proto>. */
static int
attr_port(const char *w, const char *proto)
{
	struct servent	*se;
	long long	 v;

	if (conf_value_int(w, 0, 65535, &v) == 0)
		return (int)v;
	if ((se = getservbyname(w, proto)) != NULL)
		return ntohs((uint16_t)se->s_port);
	return -1;
}

/*
 * port: a number, or a service name that config_check.c looks up in
 * /etc/services once the protocol is known (sc_port stays -1 until then).
 */
int
attr_set_port(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];

	if (w[strspn(w, "0123456789")] == '\0')
		return attr_set_int(ad, sc, av, cd);
	/* The characters of service names (RFC 6335), and '_', '.', '+'. */
	if (!isalnum((unsigned char)w[0]) || w[strspn(w, "abcdefghijklmnopq"
	    "rstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+")] != '\0')
		return attr_bad(ad, av, 0, cd,
		    "a port number from 0 to 65535 or a service name");
	return 0;
}

/* redirect: HOST PORT pairs, tried in order (+= adds targets). */
int
attr_set_redirect(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct redirect_target	*rt;
	struct addrinfo		 hints, *res;
	char			 portstr[16];
	int			 i, port, rc;

	if (av->av_n % 2 != 0)
		return attr_bad(ad, av, -1, cd, "HOST PORT (pairs)");
	sc->sc_redirect = xcalloc(av->av_n / 2, sizeof(*sc->sc_redirect));
	for (i = 0; i < av->av_n; i += 2) {
		if ((port = attr_port(av->av_words[i + 1], "tcp")) <= 0)
			return attr_bad(ad, av, i + 1, cd,
			    "a port number from 1 to 65535 or a service name");
		rt = &sc->sc_redirect[sc->sc_nredirect++];
		rt->rt_host = xstrdup(av->av_words[i]);
		rt->rt_port = xstrdup(av->av_words[i + 1]);
		(void)snprintf(portstr, sizeof(portstr), "%d", port);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = strchr(rt->rt_host, ':') != NULL ?
		    AF_INET6 : AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(rt->rt_host, portstr, &hints, &res);
		if (rc != 0) {
			conf_error(cd, av->av_files[i], av->av_lines[i],
			    "redirect: cannot resolve '%s' on this machine: %s",
			    rt->rt_host, gai_strerror(rc));
			return -1;
		}
		memcpy(&rt->rt_addr, res->ai_addr, res->ai_addrlen);
		rt->rt_addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	return 0;
}

/* proxy_protocol: v1 or v2 (or none). */
int
attr_set_proxy_protocol(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	static const char *const names[] = { "none", "v1", "v2", NULL };
	int	k;

	if ((k = attr_keyword(av->av_words[0], names)) == -1)
		return attr_bad(ad, av, 0, cd, "v1, v2 or none");
	sc->sc_proxy_protocol = (enum proxy_proto)k;
	return 0;
}

/* tls_protocols: TLS version names. */
int
attr_set_tls_protocols(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	static const char *const names[] = {
		"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL
	};
	int	i;

	for (i = 0; i < av->av_n; i++)
		if (attr_keyword(av->av_words[i], names) == -1)
			return attr_bad(ad, av, i, cd,
			    "TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3");
	return attr_set_words(ad, sc, av, cd);
}

/* rpc_version: N or N-M. */
int
attr_set_rpc_version(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];
	char		*end;
	unsigned long	 lo, hi;

	(void)sc;
	lo = strtoul(w, &end, 10);
	hi = lo;
	if (end != w && *end == '-')
		hi = strtoul(end + 1, &end, 10);
	if (end == w || *end != '\0' || hi < lo)
		return attr_bad(ad, av, 0, cd, "a version N or a range N-M");
	return 0;
}

/* rpc_number: checked, not used (RPC services are not served). */
int
attr_set_rpc_number(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	(void)sc;
	if (conf_value_int(av->av_words[0], 0, INT_MAX, &v) == -1)
		return attr_bad(ad, av, 0, cd, "a program number");
	return 0;
}
