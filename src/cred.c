/*
 * Dropping privileges, modelled on OpenSSH's permanently_set_uid(): groups,
 * then gid, then uid, each checked, then proof that the old ids are gone.
 * The group database is read in the parent (cred_groups()), so that the
 * child only makes system calls.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cred.h"

/* Does the spawn of <sc> change identity at all? */
static int
cred_changes(const struct service_conf *sc)
{
	return geteuid() == 0 && (sc->sc_has_uid || sc->sc_has_gid);
}

/* The group the server runs with. */
static gid_t
cred_gid(const struct service_conf *sc)
{
	return sc->sc_has_gid ? sc->sc_gid : getegid();
}

int
cred_groups(const struct service_conf *sc, struct cred_groups *cg,
    char *err, size_t errlen)
{
	struct passwd	*pw;
	int		 n = CRED_MAXGROUPS;

	cg->cg_n = -1;
	if (!cred_changes(sc))
		return 0;
	/* groups = no, or no user to take groups from: none, as xinetd. */
	cg->cg_n = 0;
	if (!sc->sc_groups || !sc->sc_has_uid)
		return 0;
	/* A uid with no name has no groups to look up. */
	if ((pw = getpwuid(sc->sc_uid)) == NULL)
		return 0;
	/* The user's groups and its own primary one, as initgroups(3). */
	if (getgrouplist(pw->pw_name, pw->pw_gid, cg->cg_gid, &n) == -1) {
		(void)snprintf(err, errlen, "user %s is in more than %d groups",
		    pw->pw_name, CRED_MAXGROUPS);
		return -1;
	}
	cg->cg_n = n;
	return 0;
}

int
cred_set(const gid_t *groups, int ngroups, gid_t gid, int has_uid, uid_t uid,
    const char **what)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	*what = "setgroups";
	if (setgroups((size_t)ngroups, ngroups > 0 ? groups : NULL) == -1)
		return -1;
	*what = "setresgid";
	if (setresgid(gid, gid, gid) == -1)
		return -1;
	*what = "setresuid";
	if (has_uid && setresuid(uid, uid, uid) == -1)
		return -1;
	*what = "getresuid";
	if (getresgid(&rgid, &egid, &sgid) == -1 ||
	    getresuid(&ruid, &euid, &suid) == -1)
		return -1;
	errno = EPERM;
	*what = "groups unchanged after setgroups";
	if (getgroups(0, NULL) != ngroups)
		return -1;
	*what = "gid unchanged after setresgid";
	if (rgid != gid || egid != gid || sgid != gid)
		return -1;
	if (!has_uid)
		return 0;
	*what = "uid unchanged after setresuid";
	if (ruid != uid || euid != uid || suid != uid)
		return -1;
	/* Root must be gone for good. */
	*what = "uid 0 could be regained";
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return -1;
	return 0;
}

int
cred_drop(const struct service_conf *sc, const struct cred_groups *cg,
    const char **what)
{
	if (cg->cg_n < 0)
		return 0;
	return cred_set(cg->cg_gid, cg->cg_n, cred_gid(sc), sc->sc_has_uid,
	    sc->sc_uid, what);
}
