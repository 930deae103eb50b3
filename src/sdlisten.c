/*
 * Socket activation.  systemd keeps its own copy of each socket it passes,
 * so a passed socket outlives portgate's use of it; here too: the table
 * keeps the passed descriptor and each service gets a duplicate, closed
 * with the service like a socket it bound, and a later service for the
 * same address (a reload) takes it again rather than fighting systemd for
 * the port.  Sockets no service wants at start-up are closed: systemd
 * would otherwise queue clients nobody accepts.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "log.h"
#include "sdlisten.h"
#include "sockaddr.h"

/* systemd passes what the socket unit lists; more is not a socket unit. */
#define SDLISTEN_MAX	256

struct sdlisten {
	int			sl_fd;
	int			sl_taken;
	struct sockaddr_storage	sl_addr;
};

static struct sdlisten	sdlisten[SDLISTEN_MAX];
static int		sdlisten_n;

void
sdlisten_init(void)
{
	socklen_t	len;
	int		n, i, fd;

	/* Negative: the variables are malformed, which sd_listen_fds says. */
	if ((n = sd_listen_fds(1)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (sdlisten_n == SDLISTEN_MAX) {
			(void)close(fd);
			continue;
		}
		/* Not for the servers portgate spawns. */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			(void)close(fd);
			continue;
		}
		sdlisten[sdlisten_n].sl_fd = fd;
		len = sizeof(sdlisten[sdlisten_n].sl_addr);
		if (getsockname(fd, (struct sockaddr *)
		    &sdlisten[sdlisten_n].sl_addr, &len) == -1)
			sdlisten[sdlisten_n].sl_addr.ss_family = AF_UNSPEC;
		sdlisten_n++;
	}
}

/* Is <ss> the address <sc> binds (any wildcard when it names none)? */
static int
sdlisten_addr_match(const struct service_conf *sc,
    const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*a = (const void *)ss;
	const struct sockaddr_in	*b = (const void *)&sc->sc_bindaddr;
	const struct sockaddr_in6	*a6 = (const void *)ss;
	const struct sockaddr_in6	*b6 = (const void *)&sc->sc_bindaddr;

	if (sc->sc_bindaddr.ss_family == 0) {
		if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV4 &&
		    ss->ss_family != AF_INET)
			return 0;
		if ((sc->sc_flags & (SFLAG_IPV4 | SFLAG_IPV6)) == SFLAG_IPV6 &&
		    ss->ss_family != AF_INET6)
			return 0;
		if (ss->ss_family == AF_INET)
			return a->sin_addr.s_addr == htonl(INADDR_ANY);
		return IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr);
	}
	if (ss->ss_family != sc->sc_bindaddr.ss_family)
		return 0;
	if (ss->ss_family == AF_INET)
		return a->sin_addr.s_addr == b->sin_addr.s_addr;
	return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr);
}

int
sdlisten_take(const struct service_conf *sc, int nonblock, int group)
{
	struct sdlisten	*sl;
	char		 addr[SOCKADDR_STRLEN + 8];
	int		 i, fd, fl, pass;

	/* A group takes each passed socket once; one socket, any. */
	for (pass = 0; pass < 2; pass++)
	for (i = 0; i < sdlisten_n; i++) {
		sl = &sdlisten[i];
		if ((pass == 0 && sl->sl_taken) || (pass == 1 && group))
			continue;
		if (sl->sl_fd == -1 || sd_is_socket_inet(sl->sl_fd, AF_UNSPEC,
		    sc->sc_socktype, sc->sc_socktype == SOCK_STREAM ? 1 : -1,
		    (uint16_t)sc->sc_port) <= 0 ||
		    !sdlisten_addr_match(sc, &sl->sl_addr))
			continue;
		if ((fd = fcntl(sl->sl_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			log_warn("service %s: the socket passed by systemd",
			    sc->sc_id);
			return -1;
		}
		/* O_NONBLOCK is the socket's, shared with the copy kept. */
		if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL,
		    nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) == -1) {
			log_warn("service %s: the socket passed by systemd",
			    sc->sc_id);
			(void)close(fd);
			return -1;
		}
		sl->sl_taken = 1;
		log_info("service %s takes the socket passed by systemd "
		    "(%s %s)", sc->sc_id, sc->sc_protoname, sockaddr_ntop_port(
		    (const struct sockaddr *)&sl->sl_addr, addr,
		    sizeof(addr)));
		return fd;
	}
	return -1;
}

int
sdlisten_passed(int fd)
{
	struct stat	a, b;
	int		i;

	if (fstat(fd, &a) == -1)
		return 0;
	for (i = 0; i < sdlisten_n; i++)
		if (sdlisten[i].sl_fd != -1 &&
		    fstat(sdlisten[i].sl_fd, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 1;
	return 0;
}

void
sdlisten_unused(void)
{
	struct sdlisten	*sl;
	char		 addr[SOCKADDR_STRLEN + 8];
	int		 i;

	for (i = 0; i < sdlisten_n; i++) {
		sl = &sdlisten[i];
		if (sl->sl_fd == -1 || sl->sl_taken)
			continue;
		if (sl->sl_addr.ss_family == AF_INET ||
		    sl->sl_addr.ss_family == AF_INET6)
			(void)sockaddr_ntop_port((const struct sockaddr *)
			    &sl->sl_addr, addr, sizeof(addr));
		else
			(void)strlcpy(addr, "(not an internet socket)",
			    sizeof(addr));
		log_warnx("socket %s passed by systemd (descriptor %d): no "
		    "service binds it; closed", addr, sl->sl_fd);
		(void)close(sl->sl_fd);
		sl->sl_fd = -1;
	}
}
