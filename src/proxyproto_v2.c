/*
 * The PROXY protocol, version 2: a 16-byte binary header (signature,
 * version and command, family and transport, length), the addresses and
 * TLVs (haproxy doc/proxy-protocol.txt section 2.2), decoded incrementally
 * and encoded.
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

#define PP_V2_HDRLEN	16	/* signature, ver/cmd, family, length */
#define PP_V2_SIGLEN	12
#define PP_V2_VERSION	0x20
#define PP_V2_LOCAL	0x0
#define PP_V2_PROXY	0x1
#define PP_V2_TLVHDR	3	/* type, 16-bit length */

#define PP_AF_UNSPEC	0x0
#define PP_AF_INET	0x1
#define PP_AF_INET6	0x2
#define PP_AF_UNIX	0x3
#define PP_TR_UNSPEC	0x0
#define PP_TR_STREAM	0x1
#define PP_TR_DGRAM	0x2

static const uint8_t pp_v2sig[PP_V2_SIGLEN] = {
	PP_V2_SIG0, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54,
	0x0a
};

/* Address bytes (with ports) a version 2 family carries, 0 for UNSPEC. */
static size_t
pp_v2_addrlen(int fam)
{
	switch (fam >> 4) {
	case PP_AF_INET:
		return (2 * 4 + 2 * 2);
	case PP_AF_INET6:
		return (2 * 16 + 2 * 2);
	case PP_AF_UNIX:
		return (2 * 108);
	}
	return (0);
}

/*
 * Whether <fam> is one of the family/transport bytes the specification
 * lists (0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32).
 */
static int
pp_v2_famvalid(int fam)
{
	int	af = fam >> 4, tr = fam & 0x0f;

	if (af == PP_AF_UNSPEC)
		return (tr == PP_TR_UNSPEC);
	return (af <= PP_AF_UNIX && (tr == PP_TR_STREAM || tr == PP_TR_DGRAM));
}

/*
 * Walk the TLVs in <p>..<end> without interpreting them: 0 if each one
 * fits in the header, -1 (with the reason) if one runs past its end.
 */
static int
pp_v2_tlvs(const uint8_t *p, const uint8_t *end, char *err, size_t errlen)
{
	size_t	tlen;

	while (p < end) {
		if ((size_t)(end - p) < PP_V2_TLVHDR)
			return (proxyproto_fail(err, errlen, "PROXY v2: truncated TLV "
			    "header (%zu bytes left)", (size_t)(end - p)));
		tlen = (size_t)p[1] << 8 | p[2];
		if ((size_t)(end - p) - PP_V2_TLVHDR < tlen)
			return (proxyproto_fail(err, errlen, "PROXY v2: TLV type "
			    "0x%02x of %zu bytes runs past the header", p[0],
			    tlen));
		p += PP_V2_TLVHDR + tlen;
	}
	return (0);
}

/* Addresses of a complete PROXY command for an INET or INET6 family. */
static void
pp_v2_addrs(const uint8_t *p, int fam, struct proxy_hdr *h)
{
	size_t	alen = (fam >> 4) == PP_AF_INET ? 4 : 16;
	int	family = alen == 4 ? AF_INET : AF_INET6;

	proxyproto_sockaddr(&h->ph_src, &h->ph_srclen, family, p,
	    (uint16_t)(p[2 * alen] << 8 | p[2 * alen + 1]));
	proxyproto_sockaddr(&h->ph_dst, &h->ph_dstlen, family, p + alen,
	    (uint16_t)(p[2 * alen + 2] << 8 | p[2 * alen + 3]));
}

/*
 * Decode a version 2 header whose first bytes match the signature as far
 * as they go.  LOCAL discards the address block whatever the family (the
 * specification has the receiver ignore it); so does PROXY with the
 * UNSPEC or UNIX family, which the caller treats like LOCAL.  TLVs are
 * walked only where the end of the addresses is known.
 */
ssize_t
proxyproto_v2_decode(const uint8_t *buf, size_t len, struct proxy_hdr *hdr,
    char *err, size_t errlen)
{
	struct proxy_hdr	 h;
	size_t			 n, blen, alen;
	int			 cmd, fam;

	n = len < PP_V2_SIGLEN ? len : PP_V2_SIGLEN;
	if (memcmp(buf, pp_v2sig, n) != 0)
		return (proxyproto_fail(err, errlen, "PROXY v2: bad signature"));
	if (len <= PP_V2_SIGLEN)
		return (PP_MORE);
	if ((buf[12] & 0xf0) != PP_V2_VERSION)
		return (proxyproto_fail(err, errlen, "PROXY v2: bad version %d",
		    buf[12] >> 4));
	cmd = buf[12] & 0x0f;
	if (cmd != PP_V2_LOCAL && cmd != PP_V2_PROXY)
		return (proxyproto_fail(err, errlen, "PROXY v2: bad command 0x%x",
		    cmd));
	if (len < 14)
		return (PP_MORE);
	fam = buf[13];
	if ((fam >> 4) > PP_AF_UNIX)
		return (proxyproto_fail(err, errlen, "PROXY v2: bad address family "
		    "0x%x", fam >> 4));
	if ((fam & 0x0f) > PP_TR_DGRAM)
		return (proxyproto_fail(err, errlen, "PROXY v2: bad transport protocol "
		    "0x%x", fam & 0x0f));
	if (cmd == PP_V2_PROXY && !pp_v2_famvalid(fam))
		return (proxyproto_fail(err, errlen, "PROXY v2: bad family and "
		    "transport 0x%02x", fam));
	if (len < PP_V2_HDRLEN)
		return (PP_MORE);
	blen = (size_t)buf[14] << 8 | buf[15];
	if (PP_V2_HDRLEN + blen > PROXY_MAXLEN)
		return (proxyproto_fail(err, errlen, "PROXY v2: header of %zu bytes is "
		    "longer than %d", PP_V2_HDRLEN + blen, PROXY_MAXLEN));
	alen = pp_v2_addrlen(fam);
	if (cmd == PP_V2_PROXY && blen < alen)
		return (proxyproto_fail(err, errlen, "PROXY v2: length %zu is too "
		    "short for family 0x%02x (%zu)", blen, fam, alen));
	if (len < PP_V2_HDRLEN + blen)
		return (PP_MORE);

	memset(&h, 0, sizeof(h));
	h.ph_version = 2;
	h.ph_socktype = (fam & 0x0f) == PP_TR_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	if (cmd == PP_V2_LOCAL || alen == 0 || (fam >> 4) == PP_AF_UNIX)
		h.ph_local = 1;
	if (cmd == PP_V2_PROXY && alen != 0) {
		if (pp_v2_tlvs(buf + PP_V2_HDRLEN + alen,
		    buf + PP_V2_HDRLEN + blen, err, errlen) == -1)
			return (PP_BAD);
		if (!h.ph_local)
			pp_v2_addrs(buf + PP_V2_HDRLEN, fam, &h);
	}
	*hdr = h;
	return ((ssize_t)(PP_V2_HDRLEN + blen));
}

/* Write a version 2 header (NULL <src>: LOCAL) into <buf>. */
ssize_t
proxyproto_v2_encode(int socktype, const struct pp_addr *src,
    const struct pp_addr *dst, uint8_t *buf, size_t len)
{
	size_t	alen = 0, n;
	uint8_t	*p;

	if (src != NULL)
		alen = src->pa_family == AF_INET ? 4 : 16;
	n = PP_V2_HDRLEN + (alen != 0 ? 2 * alen + 4 : 0);
	if (n > len)
		return (-1);
	memcpy(buf, pp_v2sig, PP_V2_SIGLEN);
	buf[12] = PP_V2_VERSION | (src == NULL ? PP_V2_LOCAL : PP_V2_PROXY);
	buf[13] = 0;
	if (src != NULL)
		buf[13] = (alen == 4 ? PP_AF_INET : PP_AF_INET6) << 4 |
		    (socktype == SOCK_DGRAM ? PP_TR_DGRAM : PP_TR_STREAM);
	buf[14] = (uint8_t)((n - PP_V2_HDRLEN) >> 8);
	buf[15] = (uint8_t)(n - PP_V2_HDRLEN);
	if (src != NULL) {
		p = buf + PP_V2_HDRLEN;
		memcpy(p, src->pa_addr, alen);
		memcpy(p + alen, dst->pa_addr, alen);
		p += 2 * alen;
		p[0] = (uint8_t)(src->pa_port >> 8);
		p[1] = (uint8_t)src->pa_port;
		p[2] = (uint8_t)(dst->pa_port >> 8);
		p[3] = (uint8_t)dst->pa_port;
	}
	return ((ssize_t)n);
}
