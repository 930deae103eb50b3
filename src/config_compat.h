/*
 * Differences from xinetd's meaning: where the same lines of a built
 * service admit other clients in portgate than they would in xinetd, a
 * warning at the line concerned names a concrete case.
 */
#ifndef PORTGATE_CONFIG_COMPAT_H
#define PORTGATE_CONFIG_COMPAT_H

struct attr_val;
struct conf_diag;
struct service_conf;

/*
 * Compare what <sc>, built from the merged values <vals>, admits with
 * what xinetd 2.3.15 would admit; each difference is a warning in <cd>.
 */
void	config_compat(const struct service_conf *sc, struct attr_val *vals,
	    struct conf_diag *cd);

#endif
