/*
 * The PROXY protocol, versions 1 (text) and 2 (binary), as published by
 * HAProxy: pure functions over byte buffers to encode the header portgate
 * sends to a redirect target and to decode the one a front load balancer
 * sends to portgate.
 */
#ifndef PORTGATE_PROXYPROTO_H
#define PORTGATE_PROXYPROTO_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAXLEN	107		/* including CRLF */
#define PROXY_V2_MAXLEN	(16 + 216)	/* without TLVs beyond that */
#define PROXY_MAXLEN	536		/* the most portgate reads */

struct proxy_hdr {
	int			ph_version;	/* 1 or 2 */
	int			ph_local;	/* LOCAL / UNKNOWN: no addresses */
	int			ph_socktype;	/* SOCK_STREAM or SOCK_DGRAM */
	struct sockaddr_storage	ph_src;		/* the real client */
	socklen_t		ph_srclen;
	struct sockaddr_storage	ph_dst;
	socklen_t		ph_dstlen;
};

/*
 * Decode a header at the start of <buf> (<len> bytes received so far).
 * Returns the header's length (the bytes to consume) when complete, 0 when
 * the bytes are a prefix of a valid header and more are needed, or -1 when
 * no further bytes can make them a valid header (with the reason in <err>).
 * Never reads past <len>.  *<hdr> is written only when a length is
 * returned.  ph_local is set for v1 UNKNOWN, the v2 LOCAL command and v2
 * PROXY with the UNSPEC or UNIX family: the caller then uses the
 * connection's own addresses.  A v2 header longer than PROXY_MAXLEN is
 * refused, as are v2 TLVs that run past the header (they are otherwise
 * skipped).
 */
ssize_t	proxyproto_decode(const uint8_t *buf, size_t len,
	    struct proxy_hdr *hdr, char *err, size_t errlen);

/*
 * Encode a <version> (1 or 2) header for a <socktype> connection from
 * <src> to <dst> (AF_INET or AF_INET6).  IPv4-mapped addresses are sent
 * as IPv4; if only one side is IPv4 both are sent as IPv6.  <src> and <dst>
 * both NULL give "PROXY UNKNOWN" (v1) or the LOCAL command (v2).  Version
 * 1 supports only SOCK_STREAM, version 2 also SOCK_DGRAM (as UDP).
 * Returns the length written into <buf>, or -1 if <len> is too small or
 * the arguments are not encodable.
 */
ssize_t	proxyproto_encode(int version, int socktype,
	    const struct sockaddr *src, const struct sockaddr *dst,
	    uint8_t *buf, size_t len);

#endif
