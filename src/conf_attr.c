/*
 * The attribute table and the functions that turn an attribute's words into
 * typed values of a struct service_conf.  Generic code in config.c handles
 * scope, operators, value counts and the merge of defaults; a row here says
 * what is allowed and a setter checks one value.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "accesslog.h"
#include "addrlist.h"
#include "banner.h"
#include "conf_attr.h"
#include "config.h"
#include "geoip.h"
#include "timewin.h"
#include "xmalloc.h"

#define FIELD(sc, off, type)	((type *)(void *)((char *)(sc) + (off)))
#define OFF(member)		offsetof(struct service_conf, member)

/* Record a bad value of <ad> at the line of word <i> (-1: the statement). */
static int
attr_bad(const struct attr_def *ad, const struct attr_val *av, int i,
    struct conf_diag *cd, const char *expected)
{
	const char	*file = av->av_file;
	int		 line = av->av_line;

	if (i >= 0 && i < av->av_n) {
		file = av->av_files[i];
		line = av->av_lines[i];
		conf_error(cd, file, line, "%s: bad value '%s': expected %s",
		    ad->ad_name, av->av_words[i], expected);
	} else
		conf_error(cd, file, line, "%s: expected %s", ad->ad_name,
		    expected);
	return -1;
}

/* A string, copied. */
static int
attr_set_string(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	**field = FIELD(sc, ad->ad_off, char *);

	(void)cd;
	free(*field);
	*field = xstrdup(av->av_words[0]);
	return 0;
}

/* An absolute path. */
static int
attr_set_path(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (av->av_words[0][0] != '/')
		return attr_bad(ad, av, 0, cd, "an absolute path");
	return attr_set_string(ad, sc, av, cd);
}

/* Words kept as a list. */
static int
attr_set_words(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)cd;
	wordlist_set(FIELD(sc, ad->ad_off, struct wordlist), av->av_words,
	    av->av_n);
	return 0;
}

/* A readable file (banner, certificate, database), checked now. */
static int
attr_set_file(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < av->av_n; i++) {
		if (access(av->av_words[i], R_OK) == -1) {
			conf_error(cd, av->av_files[i], av->av_lines[i],
			    "%s: cannot read %s on this machine: %s",
			    ad->ad_name, av->av_words[i], strerror(errno));
			return -1;
		}
	}
	if (ad->ad_flags & ATTR_LIST)
		return attr_set_words(ad, sc, av, cd);
	return attr_set_string(ad, sc, av, cd);
}

/* banner, banner_success, banner_fail: read now. */
static int
attr_set_banner(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];

	if (av->av_words[0][0] != '/')
		return attr_bad(ad, av, 0, cd, "an absolute path");
	if (banner_load(FIELD(sc, ad->ad_off, struct banner), av->av_words[0],
	    err, sizeof(err)) == -1) {
		conf_error(cd, av->av_file, av->av_line,
		    "%s: %s on this machine", ad->ad_name, err);
		return -1;
	}
	return 0;
}

/* yes or no. */
static int
attr_set_bool(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (conf_value_bool(av->av_words[0], FIELD(sc, ad->ad_off, int)) == -1)
		return attr_bad(ad, av, 0, cd, "yes or no");
	return 0;
}

/* An integer within the row's bounds. */
static int
attr_set_int(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;
	char		expected[96];

	if (conf_value_int(av->av_words[0], ad->ad_lo, ad->ad_hi, &v) == -1) {
		(void)snprintf(expected, sizeof(expected),
		    "an integer from %lld to %lld", ad->ad_lo, ad->ad_hi);
		return attr_bad(ad, av, 0, cd, expected);
	}
	*FIELD(sc, ad->ad_off, int) = (int)v;
	return 0;
}

/* An integer or UNLIMITED (instances, per_source). */
static int
attr_set_limit(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	if (strcasecmp(av->av_words[0], "UNLIMITED") == 0)
		v = LIMIT_UNLIMITED;
	else if (conf_value_int(av->av_words[0], ad->ad_lo, ad->ad_hi, &v) ==
	    -1)
		return attr_bad(ad, av, 0, cd,
		    "an integer from 0 to 2147483647 or UNLIMITED");
	*FIELD(sc, ad->ad_off, int) = (int)v;
	return 0;
}

/* nice: also remembers that it was given. */
static int
attr_set_nice(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_set_int(ad, sc, av, cd) == -1)
		return -1;
	sc->sc_has_nice = 1;
	return 0;
}

/* Accepted for compatibility, with no effect. */
static int
attr_set_ignored(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)sc;
	conf_warn(cd, av->av_file, av->av_line,
	    "%s is accepted for compatibility and ignored", ad->ad_name);
	return 0;
}

/* Validated by config.c before the setters run (disable, enabled...). */
static int
attr_set_none(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	(void)ad;
	(void)sc;
	(void)av;
	(void)cd;
	return 0;
}

/* Match word <w> against a NULL-terminated name table; bit or -1. */
static int
attr_keyword(const char *w, const char *const *names)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcasecmp(w, names[i]) == 0)
			return i;
	return -1;
}

static const char *const type_names[] = {
	"RPC", "INTERNAL", "UNLISTED", "TCPMUX", "TCPMUXPLUS", "SPECIAL", NULL
};

static const char *const flag_names[] = {
	"REUSE", "INTERCEPT", "NORETRY", "IDONLY", "NAMEINARGS", "NODELAY",
	"KEEPALIVE", "NOLIBWRAP", "SENSOR", "IPv4", "IPv6", "LABELED", NULL
};

/* A set of keywords into a bit mask (type, flags). */
static int
attr_set_mask(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char *const	*names;
	unsigned		*mask = FIELD(sc, ad->ad_off, unsigned);
	char			 expected[256];
	int			 i, k;

	names = ad->ad_off == OFF(sc_type) ? type_names : flag_names;
	*mask = 0;
	for (i = 0; i < av->av_n; i++) {
		if ((k = attr_keyword(av->av_words[i], names)) == -1) {
			(void)strlcpy(expected, "one or more of", sizeof(expected));
			for (k = 0; names[k] != NULL; k++) {
				(void)strlcat(expected, " ", sizeof(expected));
				(void)strlcat(expected, names[k], sizeof(expected));
			}
			return attr_bad(ad, av, i, cd, expected);
		}
		*mask |= 1u << k;
	}
	return 0;
}

/* socket_type: stream or dgram (raw and seqpacket are not served). */
static int
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
static int
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

/* user: a name of the password database or a number. */
static int
attr_set_user(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct passwd	*pw;
	long long	 v;

	(void)ad;
	free(sc->sc_user);
	sc->sc_user = xstrdup(av->av_words[0]);
	if (conf_value_int(av->av_words[0], 0, UINT_MAX - 1, &v) == 0)
		pw = getpwuid((uid_t)v);
	else if ((pw = getpwnam(av->av_words[0])) == NULL) {
		conf_error(cd, av->av_file, av->av_line,
		    "user '%s' does not exist on this machine",
		    av->av_words[0]);
		return -1;
	}
	if (pw == NULL && !sc->sc_has_gid) {
		/* Never fall back to the daemon's own group (root). */
		conf_error(cd, av->av_file, av->av_line, "user %s has no entry "
		    "in the password database on this machine: give a group "
		    "too", av->av_words[0]);
		return -1;
	}
	sc->sc_uid = pw != NULL ? pw->pw_uid : (uid_t)v;
	/* The group, unless `group` says otherwise, is the user's. */
	if (pw != NULL && !sc->sc_has_gid) {
		sc->sc_gid = pw->pw_gid;
		sc->sc_has_gid = 1;
	}
	sc->sc_has_uid = 1;
	return 0;
}

/* group: a name of the group database or a number. */
static int
attr_set_group(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct group	*gr;
	long long	 v;

	(void)ad;
	free(sc->sc_group);
	sc->sc_group = xstrdup(av->av_words[0]);
	if (conf_value_int(av->av_words[0], 0, UINT_MAX - 1, &v) == 0)
		sc->sc_gid = (gid_t)v;
	else if ((gr = getgrnam(av->av_words[0])) != NULL)
		sc->sc_gid = gr->gr_gid;
	else {
		conf_error(cd, av->av_file, av->av_line,
		    "group '%s' does not exist on this machine",
		    av->av_words[0]);
		return -1;
	}
	sc->sc_has_gid = 1;
	return 0;
}

/* server: an absolute path to an executable. */
static int
attr_set_server(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct stat	st;

	if (attr_set_path(ad, sc, av, cd) == -1)
		return -1;
	if (stat(sc->sc_server, &st) == -1) {
		conf_error(cd, av->av_file, av->av_line,
		    "server %s: not found on this machine: %s", sc->sc_server,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(sc->sc_server, X_OK) == -1) {
		conf_error(cd, av->av_file, av->av_line,
		    "server %s: not an executable file on this machine",
		    sc->sc_server);
		return -1;
	}
	return 0;
}

/* only_from, no_access, proxy_from: compiled address lists. */
static int
attr_set_addrlist(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct addrlist	**field = FIELD(sc, ad->ad_off, struct addrlist *);
	char		  err[256];
	int		  bad = -1;

	addrlist_free(*field);
	*field = addrlist_parse(av->av_words, av->av_n, err, sizeof(err), &bad);
	if (*field == NULL) {
		if (bad >= 0 && bad < av->av_n)
			conf_error(cd, av->av_files[bad], av->av_lines[bad],
			    "%s: %s", ad->ad_name, err);
		else
			conf_error(cd, av->av_file, av->av_line, "%s: %s",
			    ad->ad_name, err);
		return -1;
	}
	return 0;
}

/* access_times, after access_tz. */
static int
attr_set_access_times(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];

	(void)ad;
	timewin_free(sc->sc_access_times);
	sc->sc_access_times = timewin_parse(av->av_words, av->av_n,
	    sc->sc_access_tz, err, sizeof(err));
	if (sc->sc_access_times == NULL) {
		/* The message names access_times already. */
		conf_error(cd, av->av_file, av->av_line, "%s", err);
		return -1;
	}
	return 0;
}

/* geoip_db: a MaxMind database, opened now. */
static int
attr_set_geoip(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[512];

	if (attr_set_path(ad, sc, av, cd) == -1)
		return -1;
	if ((sc->sc_geoip = geoip_open(sc->sc_geoip_db, err, sizeof(err))) ==
	    NULL) {
		conf_error(cd, av->av_file, av->av_line, "geoip_db: %s%s", err,
		    access(sc->sc_geoip_db, R_OK) == -1 ? " (on this machine)" :
		    "");
		return -1;
	}
	return 0;
}

/* access_tz: a zone of the time zone database. */
static int
attr_set_tz(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (!timewin_tz_valid(av->av_words[0]))
		return attr_bad(ad, av, 0, cd,
		    "a time zone name such as Europe/Paris");
	return attr_set_string(ad, sc, av, cd);
}

/* log_type. */
static int
attr_set_logtype(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];

	logtype_clear(&sc->sc_logtype);
	if (logtype_parse(&sc->sc_logtype, av->av_words, av->av_n, err,
	    sizeof(err)) == -1) {
		conf_error(cd, av->av_file, av->av_line, "%s: %s", ad->ad_name,
		    err);
		return -1;
	}
	return 0;
}

/* log_on_success, log_on_failure. */
static int
attr_set_logfields(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	failure = ad->ad_off == OFF(sc_log_failure), bad = -1;

	if (accesslog_parse_fields(av->av_words, av->av_n, failure,
	    FIELD(sc, ad->ad_off, unsigned), &bad) == -1)
		return attr_bad(ad, av, bad, cd, failure ?
		    "HOST, USERID, ATTEMPT, COUNTRY or PORT" :
		    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT "
		    "or TLS");
	return 0;
}

/* env: NAME=value words. */
static int
attr_set_env(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < av->av_n; i++)
		if (strchr(av->av_words[i], '=') == NULL ||
		    av->av_words[i][0] == '=')
			return attr_bad(ad, av, i, cd, "NAME=value");
	return attr_set_words(ad, sc, av, cd);
}

/* passenv: variable names. */
static int
attr_set_passenv(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i;

	for (i = 0; i < av->av_n; i++)
		if (strchr(av->av_words[i], '=') != NULL)
			return attr_bad(ad, av, i, cd, "a variable name");
	sc->sc_has_passenv = 1;
	return attr_set_words(ad, sc, av, cd);
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

/* redirect: HOST PORT pairs, tried in order (+= adds targets). */
static int
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
		if ((rc = getaddrinfo(rt->rt_host, portstr, &hints, &res)) != 0) {
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

/* umask: octal 0 to 0777. */
static int
attr_set_umask(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(av->av_words[0], &end, 8);
	if (errno != 0 || *end != '\0' || end == av->av_words[0] || v < 0 ||
	    v > 0777)
		return attr_bad(ad, av, 0, cd, "an octal mask from 0 to 0777");
	sc->sc_umask = (int)v;
	return 0;
}

/* cps: RATE WAIT. */
static int
attr_set_cps(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	rate, wait;

	if (conf_value_int(av->av_words[0], 0, INT_MAX, &rate) == -1)
		return attr_bad(ad, av, 0, cd, "connections per second (>= 0)");
	if (conf_value_int(av->av_words[1], 1, 86400, &wait) == -1)
		return attr_bad(ad, av, 1, cd, "seconds from 1 to 86400");
	sc->sc_cps_rate = (int)rate;
	sc->sc_cps_wait = (int)wait;
	return 0;
}

/* A positive decimal number. */
static int
attr_parse_double(const char *w, double lo, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(w, &end);
	if (errno != 0 || *end != '\0' || end == w || !isfinite(v) || v < lo)
		return -1;
	*out = v;
	return 0;
}

/* max_load: a load average above 0. */
static int
attr_set_max_load(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_parse_double(av->av_words[0], 0, &sc->sc_max_load) == -1 ||
	    sc->sc_max_load <= 0)
		return attr_bad(ad, av, 0, cd, "a load average above 0");
	return 0;
}

/* per_source_cps: RATE [BURST]. */
static int
attr_set_per_source_cps(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_parse_double(av->av_words[0], 0, &sc->sc_per_source_cps_rate)
	    == -1 || sc->sc_per_source_cps_rate <= 0)
		return attr_bad(ad, av, 0, cd, "a rate per second above 0");
	/* A bucket must hold at least one whole token. */
	sc->sc_per_source_cps_burst = sc->sc_per_source_cps_rate < 1 ? 1 :
	    sc->sc_per_source_cps_rate;
	if (av->av_n > 1 && (attr_parse_double(av->av_words[1], 1,
	    &sc->sc_per_source_cps_burst) == -1))
		return attr_bad(ad, av, 1, cd, "a burst size of at least 1");
	return 0;
}

/* Parse a size with an optional K or M suffix, or UNLIMITED. */
static int
attr_parse_size(const char *w, int suffixes, rlim_t *out)
{
	unsigned long long	 v, factor = 1;
	char			*end;

	if (strcasecmp(w, "UNLIMITED") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)w[0]))
		return -1;
	errno = 0;
	v = strtoull(w, &end, 10);
	if (errno != 0)
		return -1;
	if (suffixes && (*end == 'k' || *end == 'K'))
		factor = 1024;
	else if (suffixes && (*end == 'm' || *end == 'M'))
		factor = 1024 * 1024;
	if (factor > 1)
		end++;
	if (*end != '\0' || v > ULLONG_MAX / factor ||
	    v * factor >= (unsigned long long)RLIM_INFINITY)
		return -1;
	v *= factor;
	*out = (rlim_t)v;
	return 0;
}

/* rlimit_*: ad_lo is the enum conf_rlimit, ad_hi whether K/M apply. */
static int
attr_set_rlimit(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_parse_size(av->av_words[0], (int)ad->ad_hi,
	    &sc->sc_rlimit[ad->ad_lo]) == -1)
		return attr_bad(ad, av, 0, cd, ad->ad_hi ?
		    "a number with an optional K or M suffix, or UNLIMITED" :
		    "a number or UNLIMITED");
	sc->sc_rlimit_set |= 1u << ad->ad_lo;
	return 0;
}

/* deny_time: minutes, FOREVER or NEVER. */
static int
attr_set_deny_time(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	if (strcasecmp(av->av_words[0], "FOREVER") == 0)
		sc->sc_deny_time = DENY_FOREVER;
	else if (strcasecmp(av->av_words[0], "NEVER") == 0)
		sc->sc_deny_time = 0;
	else if (conf_value_int(av->av_words[0], 0, ad->ad_hi, &v) == 0)
		sc->sc_deny_time = (int)v;
	else
		return attr_bad(ad, av, 0, cd, "minutes, FOREVER or NEVER");
	return 0;
}

/* rpc_version: N or N-M. */
static int
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
static int
attr_set_rpc_number(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	(void)sc;
	if (conf_value_int(av->av_words[0], 0, INT_MAX, &v) == -1)
		return attr_bad(ad, av, 0, cd, "a program number");
	return 0;
}

/* proxy_protocol: v1 or v2 (or none). */
static int
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
static int
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

/* Country codes: two letters (ISO 3166-1 alpha-2) or "--". */
static int
attr_set_countries(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char		*w;
	int		 i;

	for (i = 0; i < av->av_n; i++) {
		w = av->av_words[i];
		if (strcmp(w, "--") != 0 && (strlen(w) != 2 ||
		    !isalpha((unsigned char)w[0]) ||
		    !isalpha((unsigned char)w[1])))
			return attr_bad(ad, av, i, cd,
			    "ISO 3166-1 alpha-2 country codes such as FR, or --");
	}
	if (ad->ad_off == OFF(sc_only_from_country))
		sc->sc_has_only_from_country = 1;
	if (attr_set_words(ad, sc, av, cd) == -1)
		return -1;
	/* The database writes codes in capitals. */
	for (i = 0; i < av->av_n; i++) {
		w = FIELD(sc, ad->ad_off, struct wordlist)->wl_words[i];
		w[0] = (char)toupper((unsigned char)w[0]);
		w[1] = (char)toupper((unsigned char)w[1]);
	}
	return 0;
}

#define S	ATTR_SERVICE
#define D	ATTR_DEFAULTS
#define SD	(ATTR_SERVICE | ATTR_DEFAULTS)
#define L	ATTR_LIST
#define X	ATTR_EXTENSION

const struct attr_def attr_table[] = {
	{ "id", S, 1, 1, attr_set_string, OFF(sc_id), 0, 0, "NAME" },
	{ "type", S, 1, -1, attr_set_mask, OFF(sc_type), 0, 0,
	    "RPC INTERNAL UNLISTED TCPMUX TCPMUXPLUS SPECIAL" },
	{ "flags", S, 0, -1, attr_set_mask, OFF(sc_flags), 0, 0,
	    "REUSE INTERCEPT NORETRY IDONLY NAMEINARGS NODELAY KEEPALIVE "
	    "NOLIBWRAP SENSOR IPv4 IPv6 LABELED" },
	{ "disable", S, 1, 1, attr_set_none, 0, 0, 0, "yes | no" },
	{ "socket_type", S, 1, 1, attr_set_socktype, 0, 0, 0,
	    "stream | dgram" },
	{ "protocol", S, 1, 1, attr_set_protocol, 0, 0, 0, "tcp | udp" },
	{ "wait", S, 1, 1, attr_set_bool, OFF(sc_wait), 0, 0, "yes | no" },
	/* group before user: the user's own group is the default. */
	{ "group", S, 1, 1, attr_set_group, 0, 0, 0, "NAME | GID" },
	{ "user", S, 1, 1, attr_set_user, 0, 0, 0, "NAME | UID" },
	{ "groups", SD, 1, 1, attr_set_bool, OFF(sc_groups), 0, 0, "yes | no" },
	{ "instances", SD, 1, 1, attr_set_limit, OFF(sc_instances), 0,
	    INT_MAX, "N | UNLIMITED" },
	{ "per_source", SD, 1, 1, attr_set_limit, OFF(sc_per_source), 0,
	    INT_MAX, "N | UNLIMITED" },
	{ "nice", S, 1, 1, attr_set_nice, OFF(sc_nice), -20, 19, "-20..19" },
	{ "server", S, 1, 1, attr_set_server, OFF(sc_server), 0, 0, "PATH" },
	{ "server_args", S, 0, -1, attr_set_words, OFF(sc_server_args), 0, 0,
	    "WORD ..." },
	{ "only_from", SD | L, 0, -1, attr_set_addrlist, OFF(sc_only_from), 0,
	    0, "ADDRESS ..." },
	{ "no_access", SD | L, 0, -1, attr_set_addrlist, OFF(sc_no_access), 0,
	    0, "ADDRESS ..." },
	{ "access_times", S | L | ATTR_LATE, 1, -1, attr_set_access_times, 0,
	    0, 0, "[DAYS] HH:MM-HH:MM ..." },
	{ "log_type", SD, 2, 4, attr_set_logtype, 0, 0, 0,
	    "SYSLOG FACILITY [LEVEL] | FILE PATH [SOFT [HARD]]" },
	{ "log_on_success", SD | L, 0, -1, attr_set_logfields,
	    OFF(sc_log_success), 0, 0,
	    "PID HOST USERID EXIT DURATION TRAFFIC COUNTRY PORT TLS" },
	{ "log_on_failure", SD | L, 0, -1, attr_set_logfields,
	    OFF(sc_log_failure), 0, 0, "HOST USERID ATTEMPT COUNTRY PORT" },
	{ "rpc_version", S, 1, 1, attr_set_rpc_version, 0, 0, 0, "N | N-M" },
	{ "rpc_number", S, 1, 1, attr_set_rpc_number, 0, 0, 0, "N" },
	{ "env", S | L | ATTR_NODEL, 1, -1, attr_set_env, OFF(sc_env), 0, 0,
	    "NAME=VALUE ..." },
	{ "passenv", SD | L, 0, -1, attr_set_passenv, OFF(sc_passenv), 0, 0,
	    "NAME ..." },
	{ "port", S, 1, 1, attr_set_int, OFF(sc_port), 0, 65535, "0..65535" },
	{ "redirect", S | L | ATTR_NODEL, 2, -1, attr_set_redirect, 0, 0, 0,
	    "HOST PORT" },
	/* `interface` is another name of `bind` (attr_lookup). */
	{ "bind", SD, 1, 1, attr_set_string, OFF(sc_bind), 0, 0,
	    "ADDRESS | HOST | INTERFACE" },
	{ "banner", SD, 1, 1, attr_set_banner, OFF(sc_banner), 0, 0, "PATH" },
	{ "banner_success", SD, 1, 1, attr_set_banner,
	    OFF(sc_banner_success), 0, 0, "PATH" },
	{ "banner_fail", SD, 1, 1, attr_set_banner, OFF(sc_banner_fail), 0, 0,
	    "PATH" },
	{ "umask", SD, 1, 1, attr_set_umask, 0, 0, 0, "OCTAL" },
	{ "enabled", D | L, 0, -1, attr_set_none, 0, 0, 0, "ID ..." },
	{ "disabled", D | L, 0, -1, attr_set_none, 0, 0, 0, "ID ..." },
	{ "cps", SD, 2, 2, attr_set_cps, 0, 0, 0, "RATE SECONDS" },
	{ "max_load", SD, 1, 1, attr_set_max_load, 0, 0, 0, "LOAD" },
	{ "rlimit_as", S, 1, 1, attr_set_rlimit, 0, CRL_AS, 1,
	    "BYTES[K|M] | UNLIMITED" },
	{ "rlimit_cpu", S, 1, 1, attr_set_rlimit, 0, CRL_CPU, 0,
	    "SECONDS | UNLIMITED" },
	{ "rlimit_data", S, 1, 1, attr_set_rlimit, 0, CRL_DATA, 1,
	    "BYTES[K|M] | UNLIMITED" },
	{ "rlimit_rss", S, 1, 1, attr_set_rlimit, 0, CRL_RSS, 1,
	    "BYTES[K|M] | UNLIMITED" },
	{ "rlimit_stack", S, 1, 1, attr_set_rlimit, 0, CRL_STACK, 1,
	    "BYTES[K|M] | UNLIMITED" },
	{ "rlimit_files", S, 1, 1, attr_set_rlimit, 0, CRL_FILES, 1,
	    "N[K|M] | UNLIMITED" },
	{ "deny_time", S, 1, 1, attr_set_deny_time, OFF(sc_deny_time), 0,
	    INT_MAX / 60, "MINUTES | FOREVER | NEVER" },
	{ "v6only", SD, 1, 1, attr_set_bool, OFF(sc_v6only), 0, 0,
	    "yes | no" },
	{ "mdns", SD | ATTR_IGNORED, 1, 1, attr_set_ignored, 0, 0, 0,
	    "yes | no" },
	{ "libwrap", S | ATTR_IGNORED, 1, 1, attr_set_ignored, 0, 0, 0,
	    "NAME" },

	{ "connect_timeout", SD | X, 1, 1, attr_set_int,
	    OFF(sc_connect_timeout), 1, 3600, "SECONDS" },
	{ "idle_timeout", SD | X, 1, 1, attr_set_int, OFF(sc_idle_timeout), 0,
	    INT_MAX / 1000, "SECONDS" },
	{ "proxy_protocol", S | X, 1, 1, attr_set_proxy_protocol, 0, 0, 0,
	    "v1 | v2 | none" },
	{ "accept_proxy", SD | X, 1, 1, attr_set_bool, OFF(sc_accept_proxy),
	    0, 0, "yes | no" },
	{ "proxy_from", SD | L | X, 0, -1, attr_set_addrlist, OFF(sc_proxy_from),
	    0, 0, "ADDRESS ..." },
	{ "tls", S | X, 1, 1, attr_set_bool, OFF(sc_tls), 0, 0, "yes | no" },
	{ "tls_cert", SD | L | X, 1, -1, attr_set_file, OFF(sc_tls_cert), 0, 0,
	    "PEM ..." },
	{ "tls_key", SD | L | X, 1, -1, attr_set_file, OFF(sc_tls_key), 0, 0,
	    "PEM ..." },
	{ "tls_ca", SD | X, 1, 1, attr_set_file, OFF(sc_tls_ca), 0, 0, "PEM" },
	{ "tls_protocols", SD | L | X, 1, -1, attr_set_tls_protocols,
	    OFF(sc_tls_protocols), 0, 0, "TLSv1.2 TLSv1.3 ..." },
	{ "tls_ciphers", SD | X, 1, 1, attr_set_string, OFF(sc_tls_ciphers),
	    0, 0, "OPENSSL-CIPHER-LIST" },
	{ "tls_ciphersuites", SD | X, 1, 1, attr_set_string,
	    OFF(sc_tls_ciphersuites), 0, 0, "TLS1.3-CIPHERSUITES" },
	{ "tls_alpn", S | L | X, 1, -1, attr_set_words, OFF(sc_tls_alpn), 0, 0,
	    "PROTOCOL ..." },
	{ "tls_handshake_timeout", SD | X, 1, 1, attr_set_int,
	    OFF(sc_tls_handshake_timeout), 1, 3600, "SECONDS" },
	{ "geoip_db", SD | X, 1, 1, attr_set_geoip, OFF(sc_geoip_db), 0, 0,
	    "PATH" },
	{ "only_from_country", SD | L | X, 0, -1, attr_set_countries,
	    OFF(sc_only_from_country), 0, 0, "CC ..." },
	{ "no_access_country", SD | L | X, 0, -1, attr_set_countries,
	    OFF(sc_no_access_country), 0, 0, "CC ..." },
	{ "access_tz", SD | X, 1, 1, attr_set_tz, OFF(sc_access_tz), 0, 0,
	    "AREA/CITY" },
	{ "per_source_cps", SD | X, 1, 2, attr_set_per_source_cps, 0, 0, 0,
	    "RATE [BURST]" },
	{ "per_source_prefix6", SD | X, 1, 1, attr_set_int,
	    OFF(sc_per_source_prefix6), 0, 128, "0..128" },
};

const int attr_count = sizeof(attr_table) / sizeof(attr_table[0]);

int
attr_lookup(const char *name)
{
	int	i;

	if (strcasecmp(name, "interface") == 0)
		name = "bind";
	for (i = 0; i < attr_count; i++)
		if (strcasecmp(attr_table[i].ad_name, name) == 0)
			return i;
	return -1;
}
