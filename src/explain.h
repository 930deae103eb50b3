/*
 * --explain: the gate's verdict for a hypothetical client, and the rule
 * behind it, through the same gate_check() as live traffic.
 */
#ifndef PORTGATE_EXPLAIN_H
#define PORTGATE_EXPLAIN_H

struct config;

/*
 * Explain for service <name> (an id or a service name), client <addr>, at
 * <when> ("HH:MM" or "DAY HH:MM" in local time, or NULL for now).  Prints
 * the verdict on standard output.  Returns 0 when admitted, 1 when
 * refused, 2 when the arguments are wrong (with a message on standard
 * error).
 */
int	explain_run(const struct config *cf, const char *name, const char *addr,
	    const char *when);

#endif
