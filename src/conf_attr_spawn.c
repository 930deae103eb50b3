/*
 * Setters of spawned servers: who they run as (user, group), what they run
 * (server), their environment, umask, nice and resource limits.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_attr_int.h"
#include "conf_value.h"
#include "sandbox.h"
#include "xmalloc.h"

/* user: a name of the password database or a number. */
/*
 * worker_user: the account the workers run as (sandbox.c); it must exist
 * and must not be root, which is what the workers are kept from.
 */
int
attr_set_worker_user(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	err[256];
	uid_t	uid;
	gid_t	gid;

	if (sandbox_user(av->av_words[0], &uid, &gid, err, sizeof(err)) == -1)
		return attr_bad(ad, av, 0, cd, "an existing user other than "
		    "root");
	free(sc->sc_worker_user);
	sc->sc_worker_user = xstrdup(av->av_words[0]);
	return 0;
}

/*
 * control_socket: an absolute path that fits a sockaddr_un, or none (no
 * control socket).
 */
int
attr_set_control_socket(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct sockaddr_un	sun;
	const char		*w = av->av_words[0];

	if (strcmp(w, "none") != 0 &&
	    (w[0] != '/' || strlen(w) >= sizeof(sun.sun_path)))
		return attr_bad(ad, av, 0, cd, "none or an absolute path of "
		    "at most 107 bytes");
	free(sc->sc_control_socket);
	sc->sc_control_socket = xstrdup(w);
	return 0;
}

/* workers: a number of worker processes, or auto (one per CPU). */
int
attr_set_workers(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;

	if (strcasecmp(av->av_words[0], "auto") == 0)
		v = 0;
	else if (conf_value_int(av->av_words[0], 1, CONF_WORKERS_MAX,
	    &v) == -1)
		return attr_bad(ad, av, 0, cd, "auto or a number of workers "
		    "from 1 to " CONF_STR(CONF_WORKERS_MAX));
	sc->sc_workers = (int)v;
	return 0;
}

/* worker_cpus: the CPUs the workers are pinned to, one each in turn. */
int
attr_set_worker_cpus(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	long long	v;
	int		i;

	if (av->av_n > CONF_WORKERS_MAX)
		return attr_bad(ad, av, CONF_WORKERS_MAX, cd, "at most "
		    CONF_STR(CONF_WORKERS_MAX) " CPUs");
	for (i = 0; i < av->av_n; i++) {
		if (conf_value_int(av->av_words[i], 0, CONF_CPU_MAX,
		    &v) == -1)
			return attr_bad(ad, av, i, cd, "CPU numbers from 0 to "
			    CONF_STR(CONF_CPU_MAX));
		sc->sc_worker_cpus[i] = (int)v;
	}
	sc->sc_nworker_cpus = av->av_n;
	return 0;
}

int
attr_set_user(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct passwd	*pw;
	long long	 v;

	(void)ad;
	free(sc->sc_user);
	sc->sc_user = xstrdup(av->av_words[0]);
	if (conf_value_int(av->av_words[0], 0, UINT_MAX - 1, &v) == 0)
		pw = getpwuid((uid_t)v);
	else if ((pw = getpwnam(av->av_words[0])) == NULL) {
		conf_disable(cd, av->av_file, av->av_line,
		    "user '%s' does not exist on this machine",
		    av->av_words[0]);
		return -1;
	}
	if (pw == NULL && !sc->sc_has_gid) {
		/* Never fall back to the daemon's own group (root). */
		conf_disable(cd, av->av_file, av->av_line, "user %s has no "
		    "entry in the password database on this machine: give a group "
		    "too", av->av_words[0]);
		return -1;
	}
	sc->sc_uid = pw != NULL ? pw->pw_uid : (uid_t)v;
	/* The group, unless `group` says otherwise, is the user's. */
	if (pw != NULL && !sc->sc_has_gid) {
		sc->sc_gid = pw->pw_gid;
		sc->sc_has_gid = 1;
	}
	sc->sc_has_uid = 1;
	return 0;
}

/* group: a name of the group database or a number. */
int
attr_set_group(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct group	*gr;
	long long	 v;

	(void)ad;
	free(sc->sc_group);
	sc->sc_group = xstrdup(av->av_words[0]);
	if (conf_value_int(av->av_words[0], 0, UINT_MAX - 1, &v) == 0)
		sc->sc_gid = (gid_t)v;
	else if ((gr = getgrnam(av->av_words[0])) != NULL)
		sc->sc_gid = gr->gr_gid;
	else {
		conf_disable(cd, av->av_file, av->av_line,
		    "group '%s' does not exist on this machine",
		    av->av_words[0]);
		return -1;
	}
	sc->sc_has_gid = 1;
	return 0;
}

/* server: an absolute path to an executable. */
int
attr_set_server(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	struct stat	st;

	if (attr_set_path(ad, sc, av, cd) == -1)
		return -1;
	if (stat(sc->sc_server, &st) == -1) {
		conf_disable(cd, av->av_file, av->av_line,
		    "server %s: not found on this machine: %s", sc->sc_server,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(sc->sc_server, X_OK) == -1) {
		conf_disable(cd, av->av_file, av->av_line,
		    "server %s: not an executable file on this machine",
		    sc->sc_server);
		return -1;
	}
	return 0;
}

/* env: NAME=value words. */
int
attr_set_env(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i, rv = 0;

	for (i = 0; i < av->av_n; i++)
		if (strchr(av->av_words[i], '=') == NULL ||
		    av->av_words[i][0] == '=')
			rv = attr_bad(ad, av, i, cd, "NAME=value");
	if (rv == -1)
		return -1;
	return attr_set_words(ad, sc, av, cd);
}

/* passenv: variable names. */
int
attr_set_passenv(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	int	i, rv = 0;

	for (i = 0; i < av->av_n; i++)
		if (strchr(av->av_words[i], '=') != NULL)
			rv = attr_bad(ad, av, i, cd, "a variable name");
	if (rv == -1)
		return -1;
	sc->sc_has_passenv = 1;
	return attr_set_words(ad, sc, av, cd);
}

/* umask: octal 0 to 0777. */
int
attr_set_umask(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(av->av_words[0], &end, 8);
	if (errno != 0 || *end != '\0' || end == av->av_words[0] || v < 0 ||
	    v > 0777)
		return attr_bad(ad, av, 0, cd, "an octal mask from 0 to 0777");
	sc->sc_umask = (int)v;
	return 0;
}

/* nice: also remembers that it was given. */
int
attr_set_nice(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_set_int(ad, sc, av, cd) == -1)
		return -1;
	sc->sc_has_nice = 1;
	return 0;
}

/* Parse a size with an optional K or M suffix, or UNLIMITED. */
static int
attr_parse_size(const char *w, int suffixes, rlim_t *out)
{
	unsigned long long	 v, factor = 1;
	char			*end;

	if (strcasecmp(w, "UNLIMITED") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)w[0]))
		return -1;
	errno = 0;
	v = strtoull(w, &end, 10);
	if (errno != 0)
		return -1;
	if (suffixes && (*end == 'k' || *end == 'K'))
		factor = 1024;
	else if (suffixes && (*end == 'm' || *end == 'M'))
		factor = 1024 * 1024;
	if (factor > 1)
		end++;
	if (*end != '\0' || v > ULLONG_MAX / factor ||
	    v * factor >= (unsigned long long)RLIM_INFINITY)
		return -1;
	v *= factor;
	*out = (rlim_t)v;
	return 0;
}

/* rlimit_*: the row says which limit and whether K and M apply. */
int
attr_set_rlimit(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	if (attr_parse_size(av->av_words[0], ad->size_suffix,
	    &sc->sc_rlimit[ad->rlimit]) == -1)
		return attr_bad(ad, av, 0, cd, ad->size_suffix ?
		    "a number with an optional K or M suffix, or UNLIMITED" :
		    "a number or UNLIMITED");
	sc->sc_rlimit_set |= 1u << ad->rlimit;
	return 0;
}
