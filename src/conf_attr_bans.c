/*
 * Setters of the ban list's persistence and sharing, in defaults only:
 * ban_state_file, redis, redis_password_file, redis_prefix (bans.c uses
 * them in the master).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_attr_int.h"
#include "conf_value.h"
#include "xmalloc.h"

#define REDIS_PREFIX_MAX	64
#define REDIS_PASSWORD_MAX	512

/* ban_state_file: an absolute path, or none. */
int
attr_set_ban_state_file(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];
	size_t		 len = strlen(w);

	if (strcasecmp(w, "none") == 0) {
		free(sc->sc_bans.bc_state_file);
		sc->sc_bans.bc_state_file = xstrdup("none");
		return 0;
	}
	/* Room for the temporary file's suffix. */
	if (w[0] != '/' || w[len - 1] == '/' || len + 8 >= PATH_MAX)
		return attr_bad(ad, av, 0, cd, "an absolute path of a file, "
		    "or none");
	return attr_set_string(ad, sc, av, cd);
}

/*
 * redis: a numeric address and port ("127.0.0.1:6379", "[::1]:6379") or
 * the absolute path of a UNIX socket.  Numeric only: the master must not
 * wait on a name look-up.
 */
int
attr_set_redis(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0], *colon;
	char		 host[INET6_ADDRSTRLEN + 2];
	struct in6_addr	 in6;
	struct in_addr	 in;
	long long	 port;
	size_t		 len;

	if (w[0] == '/') {
		if (strlen(w) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return attr_bad(ad, av, 0, cd, "a UNIX socket path of "
			    "at most 107 bytes");
		return attr_set_string(ad, sc, av, cd);
	}
	if ((colon = strrchr(w, ':')) == NULL ||
	    conf_value_int(colon + 1, 1, 65535, &port) == -1 ||
	    (len = (size_t)(colon - w)) >= sizeof(host))
		goto bad;
	memcpy(host, w, len);
	host[len] = '\0';
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		host[len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, host, &in) != 1)
		goto bad;
	return attr_set_string(ad, sc, av, cd);
bad:
	return attr_bad(ad, av, 0, cd, "a numeric ADDRESS:PORT ([ADDRESS]:PORT "
	    "for IPv6) or the absolute path of a UNIX socket");
}

/*
 * redis_password_file: an absolute path of a file root can read, holding
 * one line of at most REDIS_PASSWORD_MAX bytes; the master reads it again
 * at start (bans.c), so that only the path stays in the configuration.
 */
int
attr_set_redis_password_file(const struct attr_def *ad,
    struct service_conf *sc, const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];
	char		 buf[REDIS_PASSWORD_MAX + 2];
	ssize_t		 n;
	int		 fd;

	if (w[0] != '/')
		return attr_bad(ad, av, 0, cd, "an absolute path");
	if ((fd = open(w, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		conf_error(cd, av->av_files[0], av->av_lines[0],
		    "%s: cannot read %s on this machine: %s", ad->name, w,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	(void)close(fd);
	explicit_bzero(buf, sizeof(buf));
	if (n <= 0 || n > REDIS_PASSWORD_MAX + 1)
		return attr_bad(ad, av, 0, cd, "a file holding a password of "
		    "1 to 512 bytes");
	return attr_set_string(ad, sc, av, cd);
}

/* redis_prefix: 1 to 64 letters, digits and "_-.:{}". */
int
attr_set_redis_prefix(const struct attr_def *ad, struct service_conf *sc,
    const struct attr_val *av, struct conf_diag *cd)
{
	const char	*w = av->av_words[0];
	size_t		 len = strlen(w);

	if (len == 0 || len > REDIS_PREFIX_MAX ||
	    strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-.:{}") != len)
		return attr_bad(ad, av, 0, cd, "1 to 64 letters, digits or "
		    "_-.:{}");
	return attr_set_string(ad, sc, av, cd);
}
