/*
 * Credentials of spawned servers: drop to the configured user and group in
 * one routine and verify that the drop cannot be undone.
 */
#ifndef PORTGATE_CRED_H
#define PORTGATE_CRED_H

#include <stddef.h>

#include <sys/types.h>

struct service_conf;

#define CRED_MAXGROUPS	256

/* The groups a server of a service gets, found before the spawn. */
struct cred_groups {
	gid_t	cg_gid[CRED_MAXGROUPS];
	int	cg_n;		/* -1: the daemon is not root, change nothing */
};

/*
 * In the parent: the supplementary groups of <sc>: with groups = yes and
 * a user, those of the user in the group database with its primary group
 * (as initgroups(3) finds them), else none (xinetd's setgroups(0, NULL)).
 * Returns 0, or -1 with a message in <err>.
 */
int	cred_groups(const struct service_conf *sc, struct cred_groups *cg,
	    char *err, size_t errlen);
/*
 * In a child about to exec (system calls only, so that it may run in a
 * vfork child): set the groups of <cg>, the gid, then the uid of <sc>,
 * and check that root cannot be regained.  Does nothing when the daemon
 * is not root.  Returns 0, or -1 with the failed step in *<what> (errno
 * set).
 */
int	cred_drop(const struct service_conf *sc, const struct cred_groups *cg,
	    const char **what);
/*
 * What cred_drop() does, for any process: set the <ngroups> groups of
 * <groups>, the gid <gid>, then (if <has_uid>) the uid <uid>, check them,
 * and that uid 0 cannot be regained when <uid> is not 0.  System calls
 * only.  Returns 0, or -1 with the failed step in *<what> (errno set).
 */
int	cred_set(const gid_t *groups, int ngroups, gid_t gid, int has_uid,
	    uid_t uid, const char **what);

#endif
