/*
 * TCP wrappers: whether the rules of /etc/hosts.allow and /etc/hosts.deny
 * admit a client, asked of Debian's libwrap so that it never blocks the
 * event loop: libwrap is given the client's address, its name when the
 * caller has verified one, and no user, so it looks up nothing itself.
 * It reads the two files at each call, as xinetd's children do.
 */
#ifndef PORTGATE_LIBWRAP_H
#define PORTGATE_LIBWRAP_H

struct service_conf;

/* The <name> of libwrap_check() for a client whose look-up found none. */
#define LIBWRAP_NO_NAME	"unknown"

/*
 * The daemon name the rules for <sc> are written under, as xinetd has
 * it: the libwrap attribute; else the service name for a built-in or a
 * redirect; else the base name of the server (of the first server_args
 * word with NAMEINARGS); else the id.  NULL when the files are not
 * consulted (flags = NOLIBWRAP).
 */
const char	*libwrap_daemon(const struct service_conf *sc);

/*
 * Do the rules for <daemon> admit a client at numeric address <addr>
 * (NULL: not known, matched as "unknown") named <name>?  <name> is a
 * verified reverse name, or LIBWRAP_NO_NAME when a look-up found none;
 * NULL when none was looked up: a rule that needs the name then sees
 * "unknown", and *<wanted> is set to 1 to say that the answer may change
 * once the name is known (else to 0).  Returns 1 (admitted) or 0
 * (refused: by a rule, by its deny option, by a twist option that
 * portgate cannot run, or because libwrap could not read a rule).
 */
int		 libwrap_check(const char *daemon, const char *addr,
		    const char *name, int *wanted);
/*
 * Look at the files (a stat() each, to see whether they changed) at most
 * every <msecs> instead of at every check: for copies that are themselves
 * refreshed only that often or less (a worker's, libwrap_tables.c).
 */
void		 libwrap_recheck(long msecs);

#endif
