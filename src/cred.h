/*
 * Credentials of spawned servers: drop to the configured user and group in
 * one routine and verify that the drop cannot be undone.
 */
#ifndef PORTGATE_CRED_H
#define PORTGATE_CRED_H

#include <stddef.h>

struct service_conf;

/*
 * In a child about to exec: set the groups (initgroups for groups = yes,
 * else only the primary group), the gid, then the uid of <sc>, and check
 * that root cannot be regained.  Does nothing when the daemon is not root.
 * Returns 0, or -1 with a message in <err>.
 */
int	cred_drop(const struct service_conf *sc, char *err, size_t errlen);

#endif
