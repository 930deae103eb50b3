/*
 * Socket address helpers shared by the listeners, the gate, the logs and
 * the relays.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "sockaddr.h"

const char *
sockaddr_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	const void	*addr;

	switch (sa->sa_family) {
	case AF_INET:
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		break;
	case AF_INET6:
		addr =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		break;
	default:
		(void)snprintf(buf, len, "<no address>");
		return buf;
	}
	if (inet_ntop(sa->sa_family, addr, buf, len) == NULL)
		(void)snprintf(buf, len, "<bad address>");
	return buf;
}

int
sockaddr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	}
	return 0;
}

void
sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	struct sockaddr_in	 sin;

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	*len = sizeof(sin);
}

const char *
sockaddr_ntop_port(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[SOCKADDR_STRLEN];

	(void)sockaddr_ntop(sa, host, sizeof(host));
	(void)snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%d" :
	    "%s:%d", host, sockaddr_port(sa));
	return buf;
}
