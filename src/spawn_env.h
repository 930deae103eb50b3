/*
 * The environment of spawned servers: the base every server of a service
 * starts from, made once when the configuration is loaded, and the
 * variables of one client (REMOTE_HOST, REMOTE_PORT, REMOTE_COUNTRY and
 * the caller's extras) laid over it at each spawn.
 */
#ifndef PORTGATE_SPAWN_ENV_H
#define PORTGATE_SPAWN_ENV_H

#include <stddef.h>

#include "sockaddr.h"

struct service_conf;

/*
 * The environment of one spawn.  Its strings are the base's, the extras'
 * and its own buffers below; the array only grows, so that one serves
 * every spawn.
 */
struct spawn_env {
	char	**se_envp;	/* NULL-terminated */
	size_t	  se_cap;
	char	  se_host[16 + SOCKADDR_STRLEN];
	char	  se_port[32];
	char	  se_country[32];
};

/*
 * The environment every server of <sc> starts from: the process's own
 * (only the passenv variables if passenv is set), then env, a later
 * NAME= replacing an earlier one in place.  Made when the configuration
 * is loaded; the strings are environ's and <sc>'s, the array is the
 * caller's to free().  Exits if out of memory (load time only).
 */
char	**spawn_env_base(const struct service_conf *sc);
/*
 * Into <se>: <base>, then REMOTE_HOST=<addr> (if not NULL),
 * REMOTE_PORT=<port> (if > 0), REMOTE_COUNTRY=<country> (if not NULL),
 * then the NAME=value strings of <extra> (NULL-terminated, or NULL), each
 * replacing a variable of the same name.  Made in the parent, so that a
 * vfork() child only hands it to execve().  Returns 0, or -1 if out of
 * memory (<se> keeps what it had).
 */
int	 spawn_env_make(struct spawn_env *se, char *const *base,
	    const char *addr, int port, const char *country,
	    char *const *extra);
/*
 * The SSL_CLIENT_* variables of a client behind TLS into <env> (at most
 * three and a NULL), their text in <buf> of <len> bytes: S_DN <subject>,
 * I_DN <issuer> and VERIFY=SUCCESS for a verified certificate (<subject>
 * not NULL), else VERIFY=NONE.
 */
void	 spawn_env_tls(const char *subject, const char *issuer, char **env,
	    char *buf, size_t len);
/* Free what <se> holds (not the strings it points to). */
void	 spawn_env_clear(struct spawn_env *se);

#endif
