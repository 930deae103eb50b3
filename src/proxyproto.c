/*
 * The PROXY protocol header (haproxy doc/proxy-protocol.txt, versions 1
 * and 2).  Decoding is incremental: the caller hands over whatever it has
 * read so far and learns whether that is a whole header, a prefix of one
 * or something that can never become one.  Every read is bounded by the
 * length given; nothing here logs or touches a socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"
#include "proxyproto_int.h"

/* Format the reason for a rejection into <err>; always returns PP_BAD. */
int
proxyproto_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (PP_BAD);
}

/* Fill <ss> with an <family> address and host-order <port>. */
void
proxyproto_sockaddr(struct sockaddr_storage *ss, socklen_t *sslen, int family,
    const uint8_t *addr, uint16_t port)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, addr, 4);
		memcpy(ss, &sin, sizeof(sin));
		*sslen = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&sin6.sin6_addr, addr, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		*sslen = sizeof(sin6);
	}
}

ssize_t
proxyproto_decode(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
    char *err, size_t errlen)
{
	if (len == 0)
		return (PP_MORE);
	if (buf[0] == PP_V2_SIG0)
		return (proxyproto_v2_decode(buf, len, hdr, err, errlen));
	if (buf[0] == 'P')
		return (proxyproto_v1_decode(buf, len, hdr, err, errlen));
	return (proxyproto_fail(err, errlen, "not a PROXY protocol header"));
}

/* Read <sa> into <pa>, an IPv4-mapped IPv6 address as IPv4: 0, or -1. */
static int
pp_addr_get(const struct sockaddr *sa, struct pp_addr *pa)
{
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(pa, 0, sizeof(*pa));
	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		pa->pa_family = AF_INET;
		memcpy(pa->pa_addr, &sin.sin_addr, 4);
		pa->pa_port = ntohs(sin.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		pa->pa_port = ntohs(sin6.sin6_port);
		if (memcmp(&sin6.sin6_addr, mapped, sizeof(mapped)) == 0) {
			pa->pa_family = AF_INET;
			memcpy(pa->pa_addr, (uint8_t *)&sin6.sin6_addr + 12, 4);
		} else {
			pa->pa_family = AF_INET6;
			memcpy(pa->pa_addr, &sin6.sin6_addr, 16);
		}
	} else
		return (-1);
	return (0);
}

/* Turn an IPv4 <pa> into its IPv4-mapped IPv6 form. */
static void
pp_addr_map(struct pp_addr *pa)
{
	if (pa->pa_family != AF_INET)
		return;
	memmove(pa->pa_addr + 12, pa->pa_addr, 4);
	memset(pa->pa_addr, 0, 10);
	pa->pa_addr[10] = pa->pa_addr[11] = 0xff;
	pa->pa_family = AF_INET6;
}

ssize_t
proxyproto_encode(int version, int socktype, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len)
{
	struct pp_addr	s, d;

	if (socktype != SOCK_STREAM && (version != 2 || socktype != SOCK_DGRAM))
		return (-1);
	if ((src == NULL) != (dst == NULL))
		return (-1);
	if (src != NULL) {
		if (pp_addr_get(src, &s) == -1 || pp_addr_get(dst, &d) == -1)
			return (-1);
		if (s.pa_family != d.pa_family) {
			pp_addr_map(&s);
			pp_addr_map(&d);
		}
	}
	if (version == 1)
		return (proxyproto_v1_encode(src != NULL ? &s : NULL,
		    dst != NULL ? &d : NULL, buf, len));
	if (version == 2)
		return (proxyproto_v2_encode(socktype, src != NULL ? &s : NULL,
		    dst != NULL ? &d : NULL, buf, len));
	return (-1);
}
