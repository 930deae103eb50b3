/*
 * The environment of spawned servers, apart from the spawning so that it
 * can be tested without a fork: the load-time base of a service (passenv,
 * env) and the per-client variables laid over it.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "spawn_env.h"
#include "xmalloc.h"

extern char	**environ;

/* <entry> ("NAME=value") replaces or joins <envp> of <*n> entries. */
static void
spawn_env_put(char **envp, int *n, char *entry)
{
	size_t	len = strcspn(entry, "=") + 1;
	int	i;

	for (i = 0; i < *n; i++) {
		if (strncmp(envp[i], entry, len) == 0) {
			envp[i] = entry;
			return;
		}
	}
	envp[(*n)++] = entry;
	envp[*n] = NULL;
}

/* Is variable <entry> ("NAME=value") one that passenv lets through? */
static int
spawn_env_passed(const struct service_conf *sc, const char *entry)
{
	size_t	len = strcspn(entry, "=");
	int	j;

	if (!sc->sc_has_passenv)
		return 1;
	for (j = 0; j < sc->sc_passenv.wl_n; j++)
		if (strlen(sc->sc_passenv.wl_words[j]) == len &&
		    strncmp(entry, sc->sc_passenv.wl_words[j], len) == 0)
			return 1;
	return 0;
}

char **
spawn_env_base(const struct service_conf *sc)
{
	char	**envp, *none[1] = { NULL }, **from = environ;
	int	  max, n = 0, i;

	/* clearenv(3) leaves environ NULL, not empty. */
	if (from == NULL)
		from = none;
	for (max = 0; from[max] != NULL; max++)
		;
	envp = xcalloc((size_t)max + (size_t)sc->sc_env.wl_n + 1,
	    sizeof(char *));
	for (i = 0; from[i] != NULL; i++)
		if (spawn_env_passed(sc, from[i]))
			spawn_env_put(envp, &n, from[i]);
	for (i = 0; i < sc->sc_env.wl_n; i++)
		spawn_env_put(envp, &n, sc->sc_env.wl_words[i]);
	return envp;
}

int
spawn_env_make(struct spawn_env *se, char *const *base, const char *addr,
    int port, const char *country, char *const *extra)
{
	char	**nv;
	size_t	  want;
	int	  n, i, nextra = 3;

	for (n = 0; base[n] != NULL; n++)
		;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		nextra++;
	want = (size_t)n + (size_t)nextra + 1;
	if (want > se->se_cap) {
		if ((nv = reallocarray(se->se_envp, want, sizeof(char *))) ==
		    NULL)
			return -1;
		se->se_envp = nv;
		se->se_cap = want;
	}
	memcpy(se->se_envp, base, ((size_t)n + 1) * sizeof(char *));
	if (addr != NULL) {
		(void)snprintf(se->se_host, sizeof(se->se_host),
		    "REMOTE_HOST=%s", addr);
		spawn_env_put(se->se_envp, &n, se->se_host);
	}
	if (port > 0) {
		(void)snprintf(se->se_port, sizeof(se->se_port),
		    "REMOTE_PORT=%d", port);
		spawn_env_put(se->se_envp, &n, se->se_port);
	}
	if (country != NULL) {
		(void)snprintf(se->se_country, sizeof(se->se_country),
		    "REMOTE_COUNTRY=%s", country);
		spawn_env_put(se->se_envp, &n, se->se_country);
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		spawn_env_put(se->se_envp, &n, extra[i]);
	return 0;
}

void
spawn_env_clear(struct spawn_env *se)
{
	free(se->se_envp);
	se->se_envp = NULL;
	se->se_cap = 0;
}

void
spawn_env_tls(const char *subject, const char *issuer, char **env,
    char *buf, size_t len)
{
	int	n = 0, off;

	if (subject != NULL) {
		off = snprintf(buf, len, "SSL_CLIENT_S_DN=%s", subject);
		if (off < 0 || (size_t)off + 1 >= len)
			goto none;
		env[n++] = buf;
		buf += off + 1;
		len -= (size_t)off + 1;
		off = snprintf(buf, len, "SSL_CLIENT_I_DN=%s",
		    issuer != NULL ? issuer : "");
		if (off < 0 || (size_t)off + 1 >= len)
			goto none;
		env[n++] = buf;
		buf += off + 1;
		len -= (size_t)off + 1;
		(void)snprintf(buf, len, "SSL_CLIENT_VERIFY=SUCCESS");
	} else {
none:
		(void)snprintf(buf, len, "SSL_CLIENT_VERIFY=NONE");
		n = 0;
	}
	env[n++] = buf;
	env[n] = NULL;
}
