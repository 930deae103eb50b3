/*
 * Listening sockets.  Without bind or interface a service listens on the
 * IPv6 wildcard in dual stack, as xinetd does (IPv4 clients arrive as
 * ::ffff:a.b.c.d and are unmapped by the session), falling back to IPv4
 * where the kernel has no IPv6.  v6only means what it says (xinetd turns
 * v6only = no into an IPv6-only socket).  With freebind a service may bind
 * an address this machine does not hold yet (a VRRP virtual address that a
 * standby gate will get); it says so in the log, since without it such a
 * bind is a typo that must fail loudly.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dgram.h"
#include "listen.h"
#include "localaddr.h"
#include "log.h"
#include "sdlisten.h"
#include "sockaddr.h"

#define LISTEN_BACKLOG	511

/* The address to bind: the configured one or a wildcard of <family>. */
static socklen_t
listen_addr(const struct service_conf *sc, int family,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (sc->sc_bindaddr.ss_family != 0) {
		memcpy(ss, &sc->sc_bindaddr, sc->sc_bindaddrlen);
		family = ss->ss_family;
	}
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)sc->sc_port);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)sc->sc_port);
	return sizeof(*sin6);
}

/* The family to try first. */
static int
listen_family(const struct service_conf *sc)
{
	if (sc->sc_bindaddr.ss_family != 0)
		return sc->sc_bindaddr.ss_family;
	if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV4)
		return AF_INET;
	return AF_INET6;
}

/* Is <sc> bound to a wildcard address (none given, 0.0.0.0 or ::)? */
static int
listen_wildcard(const struct service_conf *sc)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sc->sc_bindaddr.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)&sc->sc_bindaddr;
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)
		    &sc->sc_bindaddr;
		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	default:
		return 1;
	}
}

/*
 * Let <fd> of <family> bind an address no interface has yet.  Linux has
 * IPV6_FREEBIND since 4.15; before, IP_FREEBIND on an IPv6 socket sets
 * the same flag.  0, or -1 with errno.
 */
static int
listen_freebind(int fd, int family)
{
#ifdef IP_FREEBIND
	int	one = 1;

#ifdef IPV6_FREEBIND
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND,
	    &one, sizeof(one)) == 0)
		return 0;
	if (family == AF_INET6 && errno != ENOPROTOOPT)
		return -1;
#endif
	return setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
#else
	(void)fd;
	(void)family;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

/* Socket options from the configuration; -1 with <err> on failure. */
static int
listen_options(int fd, int family, const struct service_conf *sc,
    char *err, size_t errlen)
{
	int	one = 1, v6only;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (family == AF_INET6) {
		v6only = sc->sc_v6only == 1;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only)) == -1)
			goto fail;
	}
	/* Replies portgate sends go out from the address asked. */
	if (sc->sc_socktype == SOCK_DGRAM && listen_wildcard(sc) &&
	    (sc->sc_builtin != BUILTIN_NONE || sc->sc_nredirect > 0) &&
	    dgram_want_dst(fd, family) == -1)
		goto fail;
	if (sc->sc_freebind && !listen_wildcard(sc) &&
	    listen_freebind(fd, family) == -1) {
		(void)snprintf(err, errlen, "freebind: %s", strerror(errno));
		return -1;
	}
	if (sc->sc_socktype == SOCK_STREAM) {
		if ((sc->sc_flags & SFLAG_NODELAY) && setsockopt(fd,
		    IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			goto fail;
		if ((sc->sc_flags & SFLAG_KEEPALIVE) && setsockopt(fd,
		    SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == -1)
			goto fail;
	}
	return 0;
fail:
	(void)snprintf(err, errlen, "setsockopt: %s", strerror(errno));
	return -1;
}

/*
 * Say when <sc> listens on <ss>, an address no interface has yet: clients
 * reach it only once the address arrives (keepalived moves it here).
 */
static void
listen_not_held(const struct service_conf *sc,
    const struct sockaddr_storage *ss)
{
	char	addr[SOCKADDR_STRLEN + 8];
	int	held;

	if ((held = localaddr_held((const struct sockaddr *)ss)) == 1)
		return;
	(void)sockaddr_ntop_port((const struct sockaddr *)ss, addr,
	    sizeof(addr));
	if (held == -1)
		log_warn("service %s: cannot tell whether this machine holds "
		    "%s", sc->sc_id, addr);
	else
		log_info("service %s listens on %s %s, an address this "
		    "machine does not hold yet", sc->sc_id, sc->sc_protoname,
		    addr);
}

/*
 * Before the first socket of a reuseport group: is <ss> free?  A socket
 * of another process of this user with SO_REUSEPORT (a second portgate,
 * another daemon) would take a share of the clients without an error at
 * bind; a socket without SO_REUSEPORT finds it.  0, or -1 with <err>.
 */
static int
listen_probe(int family, const struct service_conf *sc,
    const struct sockaddr_storage *ss, socklen_t len, char *err,
    size_t errlen)
{
	char	addr[SOCKADDR_STRLEN + 8];
	int	fd, rc = 0;

	if ((fd = socket(family, sc->sc_socktype | SOCK_CLOEXEC, 0)) == -1)
		return 0;	/* the real bind says what is wrong */
	if (listen_options(fd, family, sc, err, errlen) == 0 &&
	    bind(fd, (const struct sockaddr *)ss, len) == -1 &&
	    errno == EADDRINUSE) {
		(void)snprintf(err, errlen, "cannot bind %s %s: %s",
		    sc->sc_protoname, sockaddr_ntop_port((const struct
		    sockaddr *)ss, addr, sizeof(addr)), strerror(EADDRINUSE));
		rc = -1;
	}
	(void)close(fd);
	return rc;
}

int
listen_socket(const struct service_conf *sc, int nonblock, int group,
    char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			addr[SOCKADDR_STRLEN + 8];
	int			fd, family, type, on = 1, first;

	/*
	 * Passed by systemd (socket activation) or the old master; a group's
	 * first socket (<group> negative) may be one taken before.
	 */
	if ((fd = sdlisten_take(sc, nonblock, group > 1)) != -1)
		return fd;
	first = group < 0;
	if (group < 0)
		group = -group;
	family = listen_family(sc);
	type = sc->sc_socktype | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
	fd = socket(family, type, 0);
	if (fd == -1 && family == AF_INET6 && errno == EAFNOSUPPORT &&
	    sc->sc_bindaddr.ss_family == 0 && !(sc->sc_flags & SFLAG_IPV6)) {
		family = AF_INET;
		fd = socket(family, type, 0);
	}
	if (fd == -1) {
		(void)snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	len = listen_addr(sc, family, &ss);
	if (first && group > 1 &&
	    listen_probe(family, sc, &ss, len, err, errlen) == -1)
		goto fail;
	if (listen_options(fd, family, sc, err, errlen) == -1)
		goto fail;
	/* One socket per worker: the group's program picks (reuseport.c). */
	if (group > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) {
		(void)snprintf(err, errlen, "SO_REUSEPORT: %s",
		    strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		(void)snprintf(err, errlen, "cannot bind %s %s: %s",
		    sc->sc_protoname, sockaddr_ntop_port((struct sockaddr *)&ss,
		    addr, sizeof(addr)), strerror(errno));
		goto fail;
	}
	if (sc->sc_socktype == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) == -1) {
		(void)snprintf(err, errlen, "listen: %s", strerror(errno));
		goto fail;
	}
	if (sc->sc_freebind && !listen_wildcard(sc))
		listen_not_held(sc, &ss);
	return fd;
fail:
	(void)close(fd);
	return -1;
}

const char *
listen_describe(int fd, const struct service_conf *sc, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);
	char			addr[SOCKADDR_STRLEN + 8];

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
		(void)snprintf(buf, len, "%s port %d", sc->sc_protoname,
		    sc->sc_port);
	else
		(void)snprintf(buf, len, "%s %s", sc->sc_protoname,
		    sockaddr_ntop_port((struct sockaddr *)&ss, addr,
		    sizeof(addr)));
	return buf;
}
