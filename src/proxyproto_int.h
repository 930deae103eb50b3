/*
 * What the PROXY protocol's version files share (proxyproto.c,
 * proxyproto_v1.c, proxyproto_v2.c); not for other modules.
 */
#ifndef PORTGATE_PROXYPROTO_INT_H
#define PORTGATE_PROXYPROTO_INT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "proxyproto.h"

#define PP_BAD		(-1)	/* can never be a valid header */
#define PP_MORE		0	/* a prefix of a valid header so far */
#define PP_OK		1

#define PP_V2_SIG0	0x0d	/* the first byte of a version 2 header */

/* One endpoint as it travels in a header. */
struct pp_addr {
	int		 pa_family;	/* AF_INET or AF_INET6 */
	uint8_t		 pa_addr[16];	/* network order, 4 bytes for IPv4 */
	uint16_t	 pa_port;	/* host order */
};

/* Format the reason for a rejection into <err>; always returns PP_BAD. */
int	proxyproto_fail(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Fill <ss> with an <family> address and host-order <port>. */
void	proxyproto_sockaddr(struct sockaddr_storage *ss, socklen_t *sslen,
	    int family, const uint8_t *addr, uint16_t port);

/*
 * Decode a version 1 line / a version 2 header at the start of <buf>, as
 * proxyproto_decode() says.
 */
ssize_t	proxyproto_v1_decode(const uint8_t *buf, size_t len,
	    struct proxy_hdr *hdr, char *err, size_t errlen);
ssize_t	proxyproto_v2_decode(const uint8_t *buf, size_t len,
	    struct proxy_hdr *hdr, char *err, size_t errlen);

/*
 * Encode a header for <src> to <dst> (both NULL: UNKNOWN or LOCAL) into
 * <buf> of <len> bytes: its length, or -1 when it does not fit.
 */
ssize_t	proxyproto_v1_encode(const struct pp_addr *src,
	    const struct pp_addr *dst, uint8_t *buf, size_t len);
ssize_t	proxyproto_v2_encode(int socktype, const struct pp_addr *src,
	    const struct pp_addr *dst, uint8_t *buf, size_t len);

#endif
