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

/* The identity a server of a service gets, found before the spawn. */
struct cred_groups {
	gid_t	cg_gid[CRED_MAXGROUPS];
	int	cg_n;		/* -1: the daemon is not root, change nothing */
	gid_t	cg_setgid;	/* the group */
	int	cg_has_uid;	/* change the uid too */
	uid_t	cg_uid;
};

/*
 * In the parent: the supplementary groups of <sc>: with groups = yes and
 * a user, those of the user in the group database with its primary group
 * (as initgroups(3) finds them), else none (xinetd's setgroups(0, NULL)),
 * and the gid and uid to set.  Returns 0, or -1 with a message in <err>.
 */
int	cred_groups(const struct service_conf *sc, struct cred_groups *cg,
	    char *err, size_t errlen);
/*
 * In a child about to exec: set the groups, the gid, then the uid of
 * <cg> (which holds all it needs: the service may be gone by then), and
 * check that root cannot be regained.  Does nothing when the daemon is
 * not root.  Kernel calls only (rawsys.h), so that it may run in a child
 * that shares the parent's memory, errno included.  Returns 0, or the
 * errno of the failed step, named in *<what>.
 */
int	cred_drop(const struct cred_groups *cg, const char **what);
/*
 * What cred_drop() does, for any single-threaded process: set the
 * <ngroups> groups of <groups>, the gid <gid>, then (if <has_uid>) the
 * uid <uid>, check them, and that uid 0 cannot be regained when <uid> is
 * not 0.  Returns 0, or the errno of the failed step, named in *<what>;
 * errno itself is not touched.
 */
int	cred_set(const gid_t *groups, int ngroups, gid_t gid, int has_uid,
	    uid_t uid, const char **what);

#endif
