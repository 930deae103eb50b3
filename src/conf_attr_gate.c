/*
 * Setters of the gate's rules and of what a client is sent by it: time
 * windows and their zone, countries and their database, rates, load,
 * deny_time, the daemon name of the TCP wrappers files, and banners.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "banner.h"
#include "conf_attr_int.h"
#include "geoip.h"
#include "timewin.h"

/* access_times, after access_tz. */
int
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

/* access_tz: a zone of the time zone database. */
int
attr_set_tz(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (!timewin_tz_valid(av->av_words[0]))
		return attr_bad(ad, av, 0, cd,
		    "a time zone name such as Europe/Paris");
	return attr_set_string(ad, sc, av, cd);
}

/* geoip_db: a MaxMind database, opened now. */
int
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

/* Country codes: two letters (ISO 3166-1 alpha-2) or "--". */
int
attr_set_countries(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char		*w;
	int		 i, rv = 0;

	for (i = 0; i < av->av_n; i++) {
		w = av->av_words[i];
		if (strcmp(w, "--") != 0 && (strlen(w) != 2 ||
		    !isalpha((unsigned char)w[0]) ||
		    !isalpha((unsigned char)w[1])))
			rv = attr_bad(ad, av, i, cd,
			    "ISO 3166-1 alpha-2 country codes such as FR, or --");
	}
	if (rv == -1)
		return -1;
	if (ad->offset == ATTR_OFF(sc_only_from_country))
		sc->sc_has_only_from_country = 1;
	if (attr_set_words(ad, sc, av, cd) == -1)
		return -1;
	/* The database writes codes in capitals. */
	for (i = 0; i < av->av_n; i++) {
		w = ATTR_FIELD(sc, ad->offset, struct wordlist)->wl_words[i];
		w[0] = (char)toupper((unsigned char)w[0]);
		w[1] = (char)toupper((unsigned char)w[1]);
	}
	return 0;
}

/* cps: RATE WAIT. */
int
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
int
attr_set_max_load(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_parse_double(av->av_words[0], 0, &sc->sc_max_load) == -1 ||
	    sc->sc_max_load <= 0)
		return attr_bad(ad, av, 0, cd, "a load average above 0");
	return 0;
}

/* per_source_cps: RATE [BURST]. */
int
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

/* deny_time: minutes, FOREVER or NEVER. */
int
attr_set_deny_time(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	if (strcasecmp(av->av_words[0], "FOREVER") == 0)
		sc->sc_deny_time = DENY_FOREVER;
	else if (strcasecmp(av->av_words[0], "NEVER") == 0)
		sc->sc_deny_time = 0;
	else if (conf_value_int(av->av_words[0], 0, ad->maximum, &v) == 0)
		sc->sc_deny_time = (int)v;
	else
		return attr_bad(ad, av, 0, cd, "minutes, FOREVER or NEVER");
	return 0;
}

/* banner, banner_success, banner_fail: read now. */
int
attr_set_banner(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];

	if (av->av_words[0][0] != '/')
		return attr_bad(ad, av, 0, cd, "an absolute path");
	if (banner_load(ATTR_FIELD(sc, ad->offset, struct banner),
	    av->av_words[0], err, sizeof(err)) == -1) {
		conf_disable(cd, av->av_file, av->av_line,
		    "%s: %s on this machine", ad->name, err);
		return -1;
	}
	return 0;
}

/* libwrap: a daemon name that fits libwrap's own buffer. */
int
attr_set_libwrap(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	*field = ATTR_FIELD(sc, ad->offset, char);

	if (strlcpy(field, av->av_words[0], SC_LIBWRAP_MAX) >= SC_LIBWRAP_MAX) {
		field[0] = '\0';
		return attr_bad(ad, av, 0, cd, "a name of at most 127 "
		    "characters");
	}
	return 0;
}
