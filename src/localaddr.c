/*
 * The addresses this machine holds, from getifaddrs(3).  A standby gate
 * behind keepalived binds the virtual address before it has it
 * (freebind); config_check.c and listen.c ask here whether it has it yet.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdint.h>
#include <stddef.h>

#include "localaddr.h"

/* Is <sa> inside <addr>/<mask>, or <addr> itself when <mask> is NULL? */
static int
localaddr_in(const struct sockaddr *sa, const struct sockaddr *addr,
    const struct sockaddr *mask)
{
	const uint8_t	*a, *b, *m = NULL;
	size_t		 len, i;

	if (sa->sa_family != addr->sa_family)
		return 0;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		b = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)addr)->sin_addr;
		if (mask != NULL)
			m = (const uint8_t *)&((const struct sockaddr_in *)
			    (const void *)mask)->sin_addr;
		len = 4;
	} else {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		b = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)addr)->sin6_addr;
		if (mask != NULL)
			m = (const uint8_t *)&((const struct sockaddr_in6 *)
			    (const void *)mask)->sin6_addr;
		len = 16;
	}
	for (i = 0; i < len; i++)
		if ((a[i] ^ b[i]) & (m != NULL ? m[i] : 0xff))
			return 0;
	return 1;
}

int
localaddr_held(const struct sockaddr *sa)
{
	struct ifaddrs	*ifa, *i;
	int		 held = 0;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL && !held; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		held = localaddr_in(sa, i->ifa_addr, NULL) ||
		    ((i->ifa_flags & IFF_LOOPBACK) && i->ifa_netmask != NULL &&
		    localaddr_in(sa, i->ifa_addr, i->ifa_netmask));
	}
	freeifaddrs(ifa);
	return held;
}
