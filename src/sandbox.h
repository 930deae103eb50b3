/*
 * Confining a worker process (THREATS.md rule 8): an unprivileged user in
 * an empty chroot, no capabilities, no_new_privs, and a seccomp allow-list
 * under which any other system call kills the process.
 */
#ifndef PORTGATE_SANDBOX_H
#define PORTGATE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

/* Workers run as the first of these users that exists, by default. */
#define SANDBOX_USER		"portgate"
#define SANDBOX_USER_FALLBACK	"nobody"

struct sandbox_conf {
	const char	*sb_user;	/* NULL: SANDBOX_USER or fallback */
	const char	*sb_root;	/* NULL: PORTGATE_EMPTYDIR */
};

/* How a rule of the filter compares one argument of its call. */
enum sandbox_cmp {
	SANDBOX_ANY,		/* any arguments */
	SANDBOX_EQ,		/* arg == sr_val */
	SANDBOX_MASKED_EQ	/* (arg & sr_mask) == sr_val */
};

/* sr_val meaning the worker's own pid, known when the filter is loaded. */
#define SANDBOX_SELF	UINT64_MAX

/*
 * One rule of the seccomp filter.  A call with no rule that matches kills
 * the process (SIGSYS).
 */
struct sandbox_rule {
	const char		*sr_call;	/* system call name */
	int			 sr_errno;	/* 0: allowed, else fails so */
	unsigned		 sr_arg;	/* argument compared */
	enum sandbox_cmp	 sr_cmp;
	uint64_t		 sr_mask;
	uint64_t		 sr_val;
	const char		*sr_why;	/* why a worker needs it */
};

/* The rules of the filter, *<n> of them (for the unit test and -V). */
const struct sandbox_rule *sandbox_rules(size_t *n);

/*
 * The steps of sandbox_worker(), in its order; each returns 0, or -1 with
 * a message in <err>.
 */

/*
 * The uid and gid of <name>, or of SANDBOX_USER if it exists, else
 * SANDBOX_USER_FALLBACK, when <name> is NULL.  Refuses uid 0.  Reads the
 * user database, so it runs before the chroot.
 */
int	sandbox_user(const char *name, uid_t *uid, gid_t *gid, char *err,
	    size_t errlen);
/*
 * Open the chroot directory <path> (absolute), creating it and its missing
 * parents 0755 first: a real directory (not a link), owned by root, not
 * writable by group or others, and empty.  Returns its descriptor, or -1.
 */
int	sandbox_root(const char *path, char *err, size_t errlen);
/* chroot(2) into the directory <dirfd> (then closed) and chdir("/"). */
int	sandbox_chroot(int dirfd, char *err, size_t errlen);
/*
 * Empty the capability bounding set (needs root) and the ambient set, set
 * no groups, gid <gid> and uid <uid> for good (cred_set()), check that
 * neither root id comes back and that no capability is left.
 */
int	sandbox_setid(uid_t uid, gid_t gid, char *err, size_t errlen);
/* Set no_new_privs, then load the filter of sandbox_rules(). */
int	sandbox_seccomp(char *err, size_t errlen);

/* All of the above, in order; exits (fatalx) on any failure. */
void	sandbox_worker(const struct sandbox_conf *conf);

#endif
