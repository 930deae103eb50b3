/*
 * Checks of a built service that are about trust rather than syntax: whom
 * accept_proxy believes, what a spawned server inherits, rules that can
 * never apply, who a server runs as without root, and a certificate that
 * clients will refuse.  Errors and warnings go to the diagnostics with the
 * file and line of the attribute behind them.
 */
#ifndef PORTGATE_CONFIG_AUDIT_H
#define PORTGATE_CONFIG_AUDIT_H

struct attr_val;
struct conf_diag;
struct service_conf;

/* Audit <sc>, built from the merged values <vals>, into <cd>. */
void	config_audit(const struct service_conf *sc, struct attr_val *vals,
	    struct conf_diag *cd);

#endif
