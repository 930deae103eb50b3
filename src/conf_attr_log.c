/*
 * Setters of the access records: where they go (log_type) and what they
 * say (log_on_success, log_on_failure).
 */
#include "accesslog.h"
#include "conf_attr_int.h"

/* log_type. */
int
attr_set_logtype(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];

	logtype_clear(&sc->sc_logtype);
	if (logtype_parse(&sc->sc_logtype, av->av_words, av->av_n, err,
	    sizeof(err)) == -1) {
		conf_error(cd, av->av_file, av->av_line, "%s: %s", ad->name,
		    err);
		return -1;
	}
	return 0;
}

/* log_on_success, log_on_failure. */
int
attr_set_logfields(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	failure = ad->offset == ATTR_OFF(sc_log_failure), bad = -1;

	if (accesslog_parse_fields(av->av_words, av->av_n, failure,
	    ATTR_FIELD(sc, ad->offset, unsigned), &bad) == -1)
		return attr_bad(ad, av, bad, cd, failure ?
		    "HOST, USERID, ATTEMPT, COUNTRY or PORT" :
		    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT "
		    "or TLS");
	return 0;
}
