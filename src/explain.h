/*
 * --explain: the gate's verdict for a hypothetical client, and the rule
 * behind it, through the same gate_check() as live traffic.
 */
#ifndef PORTGATE_EXPLAIN_H
#define PORTGATE_EXPLAIN_H

#include <stdio.h>

struct config;
struct quota;
struct service_conf;

/*
 * Explain for service <name> (an id or a service name), client <addr>, at
 * <when> ("HH:MM" or "DAY HH:MM" in local time, or NULL for now).  Prints
 * the verdict on standard output.  Returns 0 when admitted, 1 when
 * refused, 2 when the arguments are wrong (with a message on standard
 * error).
 */
int	explain_run(const struct config *cf, const char *name, const char *addr,
	    const char *when);

/* What the running daemon knows now (portgatectl explain). */
struct explain_live {
	const struct quota	*el_quota;	/* the service's: shared counts */
	int			 el_source_now;	/* sessions from this source */
};
/*
 * explain_run() writing to <out> and <err>, with the live counts <live>
 * (NULL: none, as --explain).
 */
int	explain_write(FILE *out, FILE *err, const struct config *cf,
	    const char *name, const char *addr, const char *when,
	    const struct explain_live *live);
/* The service of <cf> called <name> (an id, else a name), or NULL. */
const struct service_conf *explain_find(const struct config *cf,
	    const char *name);

#endif
