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
	int		 failure = ad->offset == ATTR_OFF(sc_log_failure);
	const char	*expected = failure ?
	    "HOST, USERID, ATTEMPT, COUNTRY or PORT" :
	    "PID, HOST, USERID, EXIT, DURATION, TRAFFIC, COUNTRY, PORT or TLS";
	unsigned	 one;
	int		 i, bad = -1;

	if (accesslog_parse_fields(av->av_words, av->av_n, failure,
	    ATTR_FIELD(sc, ad->offset, unsigned), &bad) == 0)
		return 0;
	(void)attr_bad(ad, av, bad, cd, expected);
	/* Every other bad word too, each on its own. */
	for (i = bad + 1; bad >= 0 && i < av->av_n; i++)
		if (accesslog_parse_fields(&av->av_words[i], 1, failure, &one,
		    NULL) == -1)
			(void)attr_bad(ad, av, i, cd, expected);
	return -1;
}
