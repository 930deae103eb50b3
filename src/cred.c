/*
 * Dropping privileges, modelled on OpenSSH's permanently_set_uid(): groups,
 * then gid, then uid, each checked, then proof that the old ids are gone.
 * The group database is read in the parent (cred_groups()), so that the
 * child only makes system calls, and those are the kernel's own
 * (rawsys.h): no errno, and no glibc set*id() that would signal threads.
 * Every process of portgate is single-threaded, so that the ids of the
 * calling thread are those of the process.
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
#include "rawsys.h"

/* The 32-bit-id calls where the plain ones take 16-bit ids. */
#ifdef SYS_setresuid32
#define CRED_SYS(name)	SYS_ ## name ## 32
#else
#define CRED_SYS(name)	SYS_ ## name
#endif

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
	cg->cg_setgid = cred_gid(sc);
	cg->cg_has_uid = sc->sc_has_uid;
	cg->cg_uid = sc->sc_uid;
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
	long	r;

	*what = "setgroups";
	if ((r = rawsys2(CRED_SYS(setgroups), ngroups,
	    ngroups > 0 ? groups : NULL)) < 0)
		return RAWSYS_ERR(r);
	*what = "setresgid";
	if ((r = rawsys3(CRED_SYS(setresgid), gid, gid, gid)) < 0)
		return RAWSYS_ERR(r);
	*what = "setresuid";
	if (has_uid && (r = rawsys3(CRED_SYS(setresuid), uid, uid, uid)) < 0)
		return RAWSYS_ERR(r);
	*what = "getresuid";
	if ((r = rawsys3(CRED_SYS(getresgid), &rgid, &egid, &sgid)) < 0 ||
	    (r = rawsys3(CRED_SYS(getresuid), &ruid, &euid, &suid)) < 0)
		return RAWSYS_ERR(r);
	*what = "groups unchanged after setgroups";
	if (rawsys2(CRED_SYS(getgroups), 0, NULL) != ngroups)
		return EPERM;
	*what = "gid unchanged after setresgid";
	if (rgid != gid || egid != gid || sgid != gid)
		return EPERM;
	if (!has_uid)
		return 0;
	*what = "uid unchanged after setresuid";
	if (ruid != uid || euid != uid || suid != uid)
		return EPERM;
	/* Root must be gone for good: neither setuid(0) nor seteuid(0). */
	*what = "uid 0 could be regained";
	if (uid != 0 && (rawsys1(CRED_SYS(setuid), 0) >= 0 ||
	    rawsys3(CRED_SYS(setresuid), -1, 0, -1) >= 0))
		return EPERM;
	return 0;
}

int
cred_drop(const struct cred_groups *cg, const char **what)
{
	if (cg->cg_n < 0)
		return 0;
	return cred_set(cg->cg_gid, cg->cg_n, cg->cg_setgid, cg->cg_has_uid,
	    cg->cg_uid, what);
}
