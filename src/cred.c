/*
 * Dropping privileges, modelled on OpenSSH's permanently_set_uid(): groups,
 * then gid, then uid, each checked, then proof that the old ids are gone.
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

/* Fail with "<what>: strerror" in <err>. */
static int
cred_fail(char *err, size_t errlen, const char *what)
{
	(void)snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

int
cred_drop(const struct service_conf *sc, char *err, size_t errlen)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid, gid;

	if (geteuid() != 0 || (!sc->sc_has_uid && !sc->sc_has_gid))
		return 0;
	gid = sc->sc_has_gid ? sc->sc_gid : getegid();
	if (sc->sc_groups && sc->sc_has_uid &&
	    (pw = getpwuid(sc->sc_uid)) != NULL) {
		/* The user's groups and its own primary one, as xinetd. */
		if (initgroups(pw->pw_name, pw->pw_gid) == -1)
			return cred_fail(err, errlen, "initgroups");
	} else if (setgroups(1, &gid) == -1)
		return cred_fail(err, errlen, "setgroups");
	if (setresgid(gid, gid, gid) == -1)
		return cred_fail(err, errlen, "setresgid");
	if (sc->sc_has_uid && setresuid(sc->sc_uid, sc->sc_uid, sc->sc_uid) ==
	    -1)
		return cred_fail(err, errlen, "setresuid");
	if (getresgid(&rgid, &egid, &sgid) == -1 ||
	    getresuid(&ruid, &euid, &suid) == -1)
		return cred_fail(err, errlen, "getresuid");
	if (rgid != gid || egid != gid || sgid != gid) {
		(void)snprintf(err, errlen, "gid is not %u after setresgid",
		    (unsigned)gid);
		return -1;
	}
	if (!sc->sc_has_uid)
		return 0;
	if (ruid != sc->sc_uid || euid != sc->sc_uid || suid != sc->sc_uid) {
		(void)snprintf(err, errlen, "uid is not %u after setresuid",
		    (unsigned)sc->sc_uid);
		return -1;
	}
	/* Root must be gone for good. */
	if (sc->sc_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		(void)snprintf(err, errlen, "uid 0 could be regained");
		return -1;
	}
	return 0;
}
