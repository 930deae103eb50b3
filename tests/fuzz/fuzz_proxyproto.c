/*
 * libFuzzer target for the PROXY protocol decoder.  Arbitrary input must
 * never crash it or make it read past the length given; a header it
 * accepts must be accepted whatever follows it, each shorter prefix must
 * ask for more, and re-encoding what it decoded in either version must
 * decode to the same addresses.
 *
 * The same input, read as a header to send (byte 0: version, socket type,
 * address families, LOCAL; then two 16-byte addresses and two ports), must
 * survive decode(encode(x)) == x, the encoding taking exactly the bytes it
 * says, and refuse a buffer one byte short.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One endpoint reduced to family, 16 address bytes and port. */
struct endpoint {
	int		ep_family;
	uint8_t		ep_addr[16];
	uint16_t	ep_port;
};

/* <ss> as an endpoint, an IPv4-mapped IPv6 address as IPv4. */
static struct endpoint
endpoint_of(const struct sockaddr_storage *ss)
{
	static const uint8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct endpoint		ep;

	memset(&ep, 0, sizeof(ep));
	if (ss->ss_family == AF_INET) {
		memcpy(&sin, ss, sizeof(sin));
		ep.ep_family = AF_INET;
		memcpy(ep.ep_addr, &sin.sin_addr, 4);
		ep.ep_port = sin.sin_port;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(&sin6, ss, sizeof(sin6));
		ep.ep_family = AF_INET6;
		memcpy(ep.ep_addr, &sin6.sin6_addr, 16);
		ep.ep_port = sin6.sin6_port;
		if (memcmp(ep.ep_addr, mapped, sizeof(mapped)) == 0) {
			ep.ep_family = AF_INET;
			memmove(ep.ep_addr, ep.ep_addr + 12, 4);
			memset(ep.ep_addr + 4, 0, 12);
		}
	} else
		abort();
	return (ep);
}

/* Abort unless <a> and <b> carry the same endpoints (or are both local). */
static void
same_hdr(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	struct endpoint	ea, eb;

	if (a->ph_local != b->ph_local)
		abort();
	if (a->ph_local)
		return;
	if (a->ph_socktype != b->ph_socktype)
		abort();
	ea = endpoint_of(&a->ph_src);
	eb = endpoint_of(&b->ph_src);
	if (memcmp(&ea, &eb, sizeof(ea)) != 0)
		abort();
	ea = endpoint_of(&a->ph_dst);
	eb = endpoint_of(&b->ph_dst);
	if (memcmp(&ea, &eb, sizeof(ea)) != 0)
		abort();
}

/* Re-encode <h> as <version> and require the same header back. */
static void
reencode(const struct proxy_hdr *h, int version)
{
	struct proxy_hdr	 again;
	const struct sockaddr	*src = NULL, *dst = NULL;
	uint8_t			 buf[PROXY_MAXLEN];
	char			 err[128];
	ssize_t			 n;

	if (!h->ph_local) {
		src = (const struct sockaddr *)&h->ph_src;
		dst = (const struct sockaddr *)&h->ph_dst;
	}
	n = proxyproto_encode(version, h->ph_socktype, src, dst, buf,
	    sizeof(buf));
	if (version == 1 && h->ph_socktype != SOCK_STREAM) {
		if (n != -1)
			abort();
		return;
	}
	if (n <= 0 || proxyproto_decode(buf, (size_t)n, &again, err,
	    sizeof(err)) != n || again.ph_version != version)
		abort();
	same_hdr(h, &again);
}

/* <a> (16 bytes, the first 4 for IPv4) and <port> as an <af> sockaddr. */
static void
sockaddr_of(struct sockaddr_storage *ss, int af, const uint8_t *a,
    const uint8_t *port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		memcpy(&sin->sin_port, port, 2);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		memcpy(&sin6->sin6_port, port, 2);
	}
}

/* decode(encode(x)) == x for the header <d> describes. */
static void
roundtrip(const uint8_t *d, size_t size)
{
	struct sockaddr_storage	 src, dst;
	struct proxy_hdr	 want, got;
	uint8_t			 buf[PROXY_MAXLEN];
	char			 err[128];
	ssize_t			 n;
	int			 version, socktype;

	if (size < 37)
		return;
	version = d[0] & 1 ? 2 : 1;
	socktype = d[0] & 2 ? SOCK_DGRAM : SOCK_STREAM;
	memset(&want, 0, sizeof(want));
	want.ph_version = version;
	want.ph_local = (d[0] & 0x30) == 0x30;
	want.ph_socktype = socktype;
	sockaddr_of(&want.ph_src, d[0] & 4 ? AF_INET6 : AF_INET, d + 1, d + 33);
	sockaddr_of(&want.ph_dst, d[0] & 8 ? AF_INET6 : AF_INET, d + 17, d + 35);
	src = want.ph_src;
	dst = want.ph_dst;
	n = proxyproto_encode(version, socktype, want.ph_local ? NULL :
	    (struct sockaddr *)&src, want.ph_local ? NULL :
	    (struct sockaddr *)&dst, buf, sizeof(buf));
	if (version == 1 && socktype != SOCK_STREAM) {
		if (n != -1)
			abort();
		return;
	}
	if (n <= 0 || n > (ssize_t)(version == 1 ? PROXY_V1_MAXLEN :
	    PROXY_V2_MAXLEN))
		abort();
	if (proxyproto_decode(buf, (size_t)n, &got, err, sizeof(err)) != n ||
	    got.ph_version != version)
		abort();
	same_hdr(&want, &got);
	if (proxyproto_encode(version, socktype, want.ph_local ? NULL :
	    (struct sockaddr *)&src, want.ph_local ? NULL :
	    (struct sockaddr *)&dst, buf, (size_t)n - 1) != -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 h, h2;
	uint8_t			*copy;
	char			 err[128];
	ssize_t			 r;
	size_t			 i;

	/* An exact-size heap copy, so a read past <size> is caught. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(copy, data, size);
	err[0] = '\0';
	r = proxyproto_decode(copy, size, &h, err, sizeof(err));
	if (r < -1 || r > (ssize_t)size || (r == -1 && err[0] == '\0'))
		abort();
	if (r > 0) {
		if (proxyproto_decode(copy, (size_t)r, &h2, err,
		    sizeof(err)) != r)
			abort();
		same_hdr(&h, &h2);
		for (i = 0; i < (size_t)r; i++)
			if (proxyproto_decode(copy, i, &h2, err,
			    sizeof(err)) != 0)
				abort();
		reencode(&h, 1);
		reencode(&h, 2);
	}
	roundtrip(copy, size);
	free(copy);
	return (0);
}
