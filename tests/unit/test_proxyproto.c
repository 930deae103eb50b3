/*
 * Unit tests of proxyproto.c: round trips of both versions over IPv4 and
 * IPv6, TCP and UDP; byte-exact headers from the specification; every
 * malformed form with its reason; every truncation of valid headers, each
 * decoded from a buffer of exactly that size so that ASan sees any read
 * past the end; TLV skipping; the 107-byte v1 limit; LOCAL and UNKNOWN.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "proxyproto.h"
#include "unit_util.h"

/* A byte string that may hold NULs. */
struct bytes {
	const char	*b_data;
	size_t		 b_len;
};

#define B(s)		{ (s), sizeof(s) - 1 }
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

#define V2SIG		"\r\n\r\n\0\r\nQUIT\n"
#define V2TCP4		V2SIG "\x21\x11\x00\x0c" \
			    "\xc0\x00\x02\x01" "\xc6\x33\x64\x07" \
			    "\xdc\x04" "\x01\xbb"

/* Fail unless <ss> of <sslen> is exactly <family> <addr> port <port>. */
static void
check_addr(const struct sockaddr_storage *ss, socklen_t sslen, int family,
    const char *addr, uint16_t port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	char				 text[INET6_ADDRSTRLEN];

	assert_int_equal(ss->ss_family, family);
	if (family == AF_INET) {
		assert_int_equal(sslen, sizeof(*sin));
		assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, text,
		    sizeof(text)));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		assert_int_equal(sslen, sizeof(*sin6));
		assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, text,
		    sizeof(text)));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(text, addr);
}

/*
 * Decode <len> bytes of <data> from a heap copy of exactly that size, so
 * ASan reports any read past <len>.  Checks that *<hdr> is left alone
 * unless a length is returned.
 */
static ssize_t
dec(const void *data, size_t len, struct proxy_hdr *hdr, char *err,
    size_t errlen)
{
	struct proxy_hdr	 before;
	uint8_t			*copy;
	ssize_t			 r;

	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, data, len);
	memset(hdr, 0xa5, sizeof(*hdr));
	before = *hdr;
	err[0] = '\0';
	r = proxyproto_decode(len > 0 ? copy : copy + 1, len, hdr, err,
	    errlen);
	free(copy);
	if (r <= 0)
		assert_memory_equal(hdr, &before, sizeof(before));
	if (r == -1 && err[0] == '\0')
		fail_msg("-1 without a reason");
	return (r);
}

/* Decode <b> and require a complete header of <want> bytes. */
static void
dec_ok(struct bytes b, size_t want, struct proxy_hdr *hdr)
{
	char	err[256];
	ssize_t	r;

	r = dec(b.b_data, b.b_len, hdr, err, sizeof(err));
	if (r != (ssize_t)want)
		fail_msg("decode of %zu bytes returned %zd, want %zu (%s)",
		    b.b_len, r, want, err);
}

/* Each encoded header decodes back to the same addresses. */
static void
test_roundtrip(void **state)
{
	static const struct {
		int		 version, socktype, family;
		const char	*src, *dst;
		uint16_t	 sport, dport;
		size_t		 len;
	} rt[] = {
		{ 1, SOCK_STREAM, AF_INET, "192.0.2.1", "198.51.100.7",
		    56324, 443, 45 },
		{ 1, SOCK_STREAM, AF_INET6, "2001:db8::1", "2001:db8::ff:2",
		    1, 65535, 47 },
		{ 2, SOCK_STREAM, AF_INET, "192.0.2.1", "198.51.100.7",
		    56324, 443, 28 },
		{ 2, SOCK_DGRAM, AF_INET, "10.1.2.3", "10.3.2.1", 53, 5353,
		    28 },
		{ 2, SOCK_STREAM, AF_INET6, "2001:db8::1", "fe80::1", 80, 8080,
		    52 },
		{ 2, SOCK_DGRAM, AF_INET6, "::1", "2001:db8:1:2:3:4:5:6", 500,
		    4500, 52 },
	};
	struct sockaddr_storage	 s, d;
	struct proxy_hdr	 h;
	struct bytes		 b;
	uint8_t			 buf[PROXY_MAXLEN];
	ssize_t			 n;
	size_t			 i;

	(void)state;
	for (i = 0; i < NITEMS(rt); i++) {
		n = proxyproto_encode(rt[i].version, rt[i].socktype,
		    unit_sockaddr(&s, rt[i].src, rt[i].sport),
		    unit_sockaddr(&d, rt[i].dst, rt[i].dport), buf,
		    sizeof(buf));
		assert_int_equal(n, rt[i].len);
		b.b_data = (const char *)buf;
		b.b_len = (size_t)n;
		dec_ok(b, (size_t)n, &h);
		assert_int_equal(h.ph_version, rt[i].version);
		assert_int_equal(h.ph_socktype, rt[i].socktype);
		assert_int_equal(h.ph_local, 0);
		check_addr(&h.ph_src, h.ph_srclen, rt[i].family, rt[i].src,
		    rt[i].sport);
		check_addr(&h.ph_dst, h.ph_dstlen, rt[i].family, rt[i].dst,
		    rt[i].dport);
	}
}

/* The encoder writes exactly the bytes of the specification. */
static void
test_encode_exact(void **state)
{
	static const char	v1[] =
	    "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
	static const char	v16[] =
	    "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n";
	static const char	v2[] = V2TCP4;
	static const char	v2u6[] = V2SIG "\x21\x22\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x00\x35" "\xff\xff";
	struct sockaddr_storage	s, d;
	uint8_t			buf[PROXY_MAXLEN];
	ssize_t			n;

	(void)state;
	n = proxyproto_encode(1, SOCK_STREAM,
	    unit_sockaddr(&s, "192.0.2.1", 56324),
	    unit_sockaddr(&d, "198.51.100.7", 443), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v1) - 1);
	assert_memory_equal(buf, v1, sizeof(v1) - 1);
	n = proxyproto_encode(1, SOCK_STREAM,
	    unit_sockaddr(&s, "2001:db8::1", 0),
	    unit_sockaddr(&d, "::1", 65535), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v16) - 1);
	assert_memory_equal(buf, v16, sizeof(v16) - 1);
	n = proxyproto_encode(2, SOCK_STREAM,
	    unit_sockaddr(&s, "192.0.2.1", 56324),
	    unit_sockaddr(&d, "198.51.100.7", 443), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v2) - 1);
	assert_memory_equal(buf, v2, sizeof(v2) - 1);
	n = proxyproto_encode(2, SOCK_DGRAM,
	    unit_sockaddr(&s, "2001:db8::1", 53),
	    unit_sockaddr(&d, "::1", 65535), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v2u6) - 1);
	assert_memory_equal(buf, v2u6, sizeof(v2u6) - 1);
}

/* IPv4-mapped addresses go out as IPv4; a mixed pair as IPv6. */
static void
test_encode_mapped(void **state)
{
	static const char	v1[] =
	    "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\n";
	static const char	v1mix[] =
	    "PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 1234 80\r\n";
	static const char	v2[] = V2SIG "\x21\x12\x00\x0c"
	    "\x0a\x00\x00\x01" "\x0a\x00\x00\x02" "\x04\xd2" "\x00\x50";
	struct sockaddr_storage	s, d;
	struct proxy_hdr	h;
	struct bytes		b;
	uint8_t			buf[PROXY_MAXLEN];
	ssize_t			n;

	(void)state;
	n = proxyproto_encode(1, SOCK_STREAM,
	    unit_sockaddr(&s, "::ffff:10.0.0.1", 1234),
	    unit_sockaddr(&d, "::ffff:10.0.0.2", 80), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v1) - 1);
	assert_memory_equal(buf, v1, sizeof(v1) - 1);
	n = proxyproto_encode(2, SOCK_DGRAM,
	    unit_sockaddr(&s, "::ffff:10.0.0.1", 1234),
	    unit_sockaddr(&d, "10.0.0.2", 80), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v2) - 1);
	assert_memory_equal(buf, v2, sizeof(v2) - 1);
	b.b_data = (const char *)buf;
	b.b_len = (size_t)n;
	dec_ok(b, (size_t)n, &h);
	assert_int_equal(h.ph_socktype, SOCK_DGRAM);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "10.0.0.1", 1234);
	n = proxyproto_encode(1, SOCK_STREAM,
	    unit_sockaddr(&s, "10.0.0.1", 1234),
	    unit_sockaddr(&d, "2001:db8::2", 80), buf, sizeof(buf));
	assert_int_equal(n, sizeof(v1mix) - 1);
	assert_memory_equal(buf, v1mix, sizeof(v1mix) - 1);
}

/* Arguments that cannot be encoded, and every buffer one byte short. */
static void
test_encode_errors(void **state)
{
	struct sockaddr_storage	 s, d;
	struct sockaddr		 sun;
	const struct sockaddr	*src, *dst;
	uint8_t			 buf[PROXY_MAXLEN], *small;
	ssize_t			 full;
	size_t			 len;
	int			 v;

	(void)state;
	src = unit_sockaddr(&s, "2001:db8::1", 65535);
	dst = unit_sockaddr(&d, "2001:db8::2", 65535);
	assert_int_equal(proxyproto_encode(0, SOCK_STREAM, src, dst, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(3, SOCK_STREAM, src, dst, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(1, SOCK_DGRAM, src, dst, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(2, SOCK_RAW, src, dst, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(2, SOCK_STREAM, src, NULL, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(1, SOCK_STREAM, NULL, dst, buf,
	    sizeof(buf)), -1);
	memset(&sun, 0, sizeof(sun));
	sun.sa_family = AF_UNIX;
	assert_int_equal(proxyproto_encode(2, SOCK_STREAM, &sun, dst, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proxyproto_encode(1, SOCK_STREAM, src, &sun, buf,
	    sizeof(buf)), -1);
	for (v = 1; v <= 2; v++) {
		full = proxyproto_encode(v, SOCK_STREAM, src, dst, buf,
		    sizeof(buf));
		assert_true(full > 0);
		for (len = 0; len < (size_t)full; len++) {
			small = malloc(len > 0 ? len : 1);
			assert_non_null(small);
			assert_int_equal(proxyproto_encode(v, SOCK_STREAM, src,
			    dst, small, len), -1);
			free(small);
		}
		small = malloc((size_t)full);
		assert_non_null(small);
		assert_int_equal(proxyproto_encode(v, SOCK_STREAM, src, dst,
		    small, (size_t)full), full);
		free(small);
	}
}

/* The examples and maximum lines of the specification, byte for byte. */
static void
test_decode_spec(void **state)
{
	static const char	ex[] =
	    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
	    "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";
	static const char	max4[] =
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	static const char	max6[] = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n";
	struct bytes		b, v2 = B(V2TCP4 "SSH-2.0-x\r\n");
	struct bytes		v26 = B(V2SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x02"
	    "\x00\x00" "\xff\xff");
	struct proxy_hdr	h;

	(void)state;
	b.b_data = ex;
	b.b_len = sizeof(ex) - 1;
	dec_ok(b, 47, &h);
	assert_int_equal(h.ph_version, 1);
	assert_int_equal(h.ph_local, 0);
	assert_int_equal(h.ph_socktype, SOCK_STREAM);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "192.168.0.1", 56324);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET, "192.168.0.11", 443);

	b.b_data = max4;
	b.b_len = sizeof(max4) - 1;
	dec_ok(b, 56, &h);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET, "255.255.255.255",
	    65535);
	b.b_data = max6;
	b.b_len = sizeof(max6) - 1;
	dec_ok(b, 104, &h);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET6,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);

	dec_ok(v2, 28, &h);
	assert_int_equal(h.ph_version, 2);
	assert_int_equal(h.ph_local, 0);
	assert_int_equal(h.ph_socktype, SOCK_STREAM);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "192.0.2.1", 56324);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET, "198.51.100.7", 443);
	dec_ok(v26, 52, &h);
	assert_int_equal(h.ph_socktype, SOCK_STREAM);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET6, "2001:db8::1", 0);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET6, "fe80::2", 65535);
}

/* IPv6 text forms: compressed, upper case, a dotted-quad tail. */
static void
test_decode_v1_ipv6_forms(void **state)
{
	static const struct {
		struct bytes	 line;
		const char	*src, *dst;
	} ok[] = {
		{ B("PROXY TCP6 :: ::1 1 2\r\n"), "::", "::1" },
		{ B("PROXY TCP6 2001:DB8:0:0:0:0:0:1 1:2:3:4:5:6:7:8 1 2\r\n"),
		    "2001:db8::1", "1:2:3:4:5:6:7:8" },
		{ B("PROXY TCP6 ::ffff:192.0.2.1 1:2:3:4:5:6:0.0.0.0 1 2\r\n"),
		    "::ffff:192.0.2.1", "1:2:3:4:5:6::" },
		{ B("PROXY TCP6 0001:0db8:0000:0000:0000:0000:0000:0001 "
		    "1:: 1 2\r\n"), "1:db8::1", "1::" },
	};
	struct proxy_hdr	h;
	size_t			i;

	(void)state;
	for (i = 0; i < NITEMS(ok); i++) {
		dec_ok(ok[i].line, ok[i].line.b_len, &h);
		check_addr(&h.ph_src, h.ph_srclen, AF_INET6, ok[i].src, 1);
		check_addr(&h.ph_dst, h.ph_dstlen, AF_INET6, ok[i].dst, 2);
	}
}

/* Each malformed header is refused with a reason naming the fault. */
static void
test_malformed(void **state)
{
	static const struct {
		struct bytes	 in;
		const char	*why;
	} bad[] = {
		{ B("GET / HTTP/1.1\r\n"), "not a PROXY protocol header" },
		{ B("\x16\x03\x01"), "not a PROXY protocol header" },
		{ B("PROXX"), "not a PROXY protocol header" },
		{ B("PROXY\r\n"), "not a PROXY protocol header" },
		{ B("PROXY  TCP4"), "missing protocol" },
		{ B("PROXY TCP5"), "bad protocol \"TCP5\"" },
		{ B("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), "bad protocol" },
		{ B("PROXY TCP44 "), "bad protocol \"TCP44\"" },
		{ B("PROXY TCP4TCP4"), "protocol \"TCP4TCP...\" is too long" },
		{ B("PROXY UNKNOWNX\r\n"), "protocol" },
		{ B("PROXY tcp4 "), "bad character 0x74 in the protocol" },
		{ B("PROXY TCP4\r\n"), "after the protocol" },
		{ B("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
		    "missing destination address" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
		    "expected CRLF after the destination port" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
		    "single space after the source port" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "bare LF" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "expected CRLF" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n"), "expected CRLF" },
		{ B("PROXY UNKNOWN\rX"), "expected CRLF" },
		{ B("PROXY UNKNOWN\n"), "bare LF" },
		{ B("PROXY TCP4 1.2\n"), "bare LF" },
		{ B("PROXY TCP4 1.2.3.4\t"), "bad character 0x09" },
		{ B("PROXY TCP4 01.2.3.4"), "bad source address \"01.2.3.4\"" },
		{ B("PROXY TCP4 1.2.3.00 "), "bad source address" },
		{ B("PROXY TCP4 1.2.3.256"), "bad source address" },
		{ B("PROXY TCP4 1.2.3 "), "bad source address \"1.2.3\"" },
		{ B("PROXY TCP4 1.2.3.4.5"), "bad source address" },
		{ B("PROXY TCP4 1..3.4 "), "bad source address" },
		{ B("PROXY TCP4 .1.2.3 "), "bad source address" },
		{ B("PROXY TCP4 1.2.3.4. "), "bad source address" },
		{ B("PROXY TCP4 a.b.c.d "), "bad source address" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8.9 "),
		    "bad destination address" },
		{ B("PROXY TCP4 ::1 ::1 1 2\r\n"),
		    "address family mismatch: IPv6 source address" },
		{ B("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"),
		    "address family mismatch: IPv6 destination address" },
		{ B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
		    "address family mismatch: IPv4 source address" },
		{ B("PROXY TCP6 ::1 1.2.3.4 1 2\r\n"),
		    "address family mismatch: IPv4 destination address" },
		{ B("PROXY TCP6 1::2::3 "), "bad source address" },
		{ B("PROXY TCP6 1:::2"), "bad source address" },
		{ B("PROXY TCP6 12345::"), "bad source address" },
		{ B("PROXY TCP6 1:2:3:4:5:6:7:8:9 "), "bad source address" },
		{ B("PROXY TCP6 1:2:3:4:5:6:7 "), "bad source address" },
		{ B("PROXY TCP6 1234 "), "bad source address" },
		{ B("PROXY TCP6 ::ffff:01.2.3.4"), "bad source address" },
		{ B("PROXY TCP6 ::ffff:1.2.3 "), "bad source address" },
		{ B("PROXY TCP6 ::ffff:1.2.3.4:: "), "bad source address" },
		{ B("PROXY TCP6 fe80::1%eth0"), "bad character 0x25" },
		{ B("PROXY TCP6 "
		    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1"),
		    "too long" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 "), "out of range" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 99999 "), "out of range" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"),
		    "destination port \"65536\" is out of range" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 01 "), "leading zero" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 00"), "leading zero" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n"), "leading zero" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 -1"), "bad character 0x2d" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 123456"), "too long" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8 1a"), "bad character 0x61" },
		{ B("PROXY TCP4 1.2.3.4 5.6.7.8  2"), "missing source port" },
		{ B("\r\n\r\n\0\r\nQUIX"), "bad signature" },
		{ B("\r\n\n"), "bad signature" },
		{ B("\r\n\r\n\x01"), "bad signature" },
		{ B(V2SIG "\x11"), "bad version 1" },
		{ B(V2SIG "\x31"), "bad version 3" },
		{ B(V2SIG "\x02"), "bad version 0" },
		{ B(V2SIG "\x22"), "bad command 0x2" },
		{ B(V2SIG "\x2f"), "bad command 0xf" },
		{ B(V2SIG "\x21\x41"), "bad address family 0x4" },
		{ B(V2SIG "\x20\xf0"), "bad address family 0xf" },
		{ B(V2SIG "\x21\x13"), "bad transport protocol 0x3" },
		{ B(V2SIG "\x20\x03"), "bad transport protocol 0x3" },
		{ B(V2SIG "\x21\x01"), "bad family and transport 0x01" },
		{ B(V2SIG "\x21\x02"), "bad family and transport 0x02" },
		{ B(V2SIG "\x21\x10"), "bad family and transport 0x10" },
		{ B(V2SIG "\x21\x20"), "bad family and transport 0x20" },
		{ B(V2SIG "\x21\x30"), "bad family and transport 0x30" },
		{ B(V2SIG "\x21\x11\x00\x0b"), "too short for family 0x11" },
		{ B(V2SIG "\x21\x12\x00\x00"), "too short for family 0x12" },
		{ B(V2SIG "\x21\x21\x00\x23"), "too short for family 0x21" },
		{ B(V2SIG "\x21\x22\x00\x0c"), "too short for family 0x22" },
		{ B(V2SIG "\x21\x31\x00\xd7"), "too short for family 0x31" },
		{ B(V2SIG "\x21\x11\x02\x09"), "longer than 536" },
		{ B(V2SIG "\x20\x00\xff\xff"), "longer than 536" },
		{ B(V2SIG "\x21\x11\x00\x0d" "\1\2\3\4\5\6\7\10\0\1\0\2"
		    "\x04"), "truncated TLV header" },
		{ B(V2SIG "\x21\x11\x00\x0e" "\1\2\3\4\5\6\7\10\0\1\0\2"
		    "\x04\x00"), "truncated TLV header" },
		{ B(V2SIG "\x21\x11\x00\x10" "\1\2\3\4\5\6\7\10\0\1\0\2"
		    "\x01\x00\x02" "h"), "TLV type 0x01 of 2 bytes runs past" },
		{ B(V2SIG "\x21\x11\x00\x14" "\1\2\3\4\5\6\7\10\0\1\0\2"
		    "\x04\x00\x00" "\x20\x00\x03" "ab"),
		    "TLV type 0x20 of 3 bytes runs past" },
		{ B(V2SIG "\x21\x11\x00\x11" "\1\2\3\4\5\6\7\10\0\1\0\2"
		    "\x04\xff\xff" "xx"), "TLV type 0x04 of 65535 bytes" },
	};
	struct proxy_hdr	h;
	char			err[256];
	ssize_t			r;
	size_t			i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		r = dec(bad[i].in.b_data, bad[i].in.b_len, &h, err,
		    sizeof(err));
		if (r != -1)
			fail_msg("bad[%zu] returned %zd, want -1 (%s)", i, r,
			    bad[i].why);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("bad[%zu]: reason \"%s\" lacks \"%s\"", i, err,
			    bad[i].why);
	}
	/* A reason is cut to fit, and no room for one is fine. */
	r = proxyproto_decode((const uint8_t *)"GET", 3, &h, err, 4);
	assert_int_equal(r, -1);
	assert_string_equal(err, "not");
	assert_int_equal(proxyproto_decode((const uint8_t *)"GET", 3, &h,
	    NULL, 0), -1);
}

/* Valid headers, each followed by data that is not part of it. */
static const struct bytes valid[] = {
	B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /"),
	B("PROXY TCP4 0.0.0.0 10.20.30.40 0 65535\r\nx"),
	B("PROXY TCP6 ffff:f:ff:fff:ffff:0:0:1 ::ffff:1.2.3.4 65535 0\r\n"
	    "\r\n"),
	B("PROXY UNKNOWN\r\nSSH"),
	B("PROXY UNKNOWN ffff::1 ffff::2 65535 65535\r\n\0\r\n"),
	B("PROXY UNKNOWN whatever \rthe sender likes\r\n\r\n"),
	B(V2TCP4 "\r\n"),
	B(V2SIG "\x21\x22\x00\x24" "0123456789abcdef" "fedcba9876543210"
	    "\x00\x00" "\xff\xff" "x"),
	B(V2SIG "\x20\x00\x00\x00" V2SIG),
	B(V2SIG "\x20\x11\x00\x0c" "\1\2\3\4\5\6\7\10\0\1\0\2" "z"),
	B(V2SIG "\x20\x00\x00\x05" "\x04\x00\x02" "\x01\x02" "z"),
	B(V2SIG "\x21\x00\x00\x03" "abc" "z"),
	B(V2SIG "\x21\x11\x00\x1f" "\1\2\3\4\5\6\7\10\0\1\0\2"
	    "\x04\x00\x00" "\x01\x00\x02" "h2" "\x20\x00\x05" "\x01\0\0\0\0"
	    "\x00\x00\x00" "z"),
};

/* Every proper prefix of a valid header asks for more, never fails. */
static void
test_truncations(void **state)
{
	struct proxy_hdr	h;
	char			err[256];
	ssize_t			full, r;
	size_t			i, n;

	(void)state;
	for (i = 0; i < NITEMS(valid); i++) {
		full = dec(valid[i].b_data, valid[i].b_len, &h, err,
		    sizeof(err));
		if (full <= 0 || (size_t)full >= valid[i].b_len)
			fail_msg("valid[%zu] returned %zd (%s)", i, full, err);
		if (dec(valid[i].b_data, (size_t)full, &h, err,
		    sizeof(err)) != full)
			fail_msg("valid[%zu] alone is not %zd bytes", i, full);
		for (n = 0; n < (size_t)full; n++) {
			r = dec(valid[i].b_data, n, &h, err, sizeof(err));
			if (r != 0)
				fail_msg("valid[%zu] cut to %zu bytes returned "
				    "%zd (%s)", i, n, r, err);
		}
	}
}

/* TLVs are skipped, whatever their type, including empty ones. */
static void
test_tlvs(void **state)
{
	static const char	tlv6[] = V2SIG "\x21\x21\x00\x35"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"
	    "\x30\x39" "\x00\x50"
	    "\x05\x00\x04" "uid!" "\x03\x00\x04" "\0\0\0\0"
	    "\x04\x00\x00";
	uint8_t			big[PROXY_MAXLEN + 1];
	struct proxy_hdr	h;
	struct bytes		b;
	size_t			n;

	(void)state;
	b.b_data = tlv6;
	b.b_len = sizeof(tlv6) - 1;
	dec_ok(b, 16 + 0x35, &h);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET6, "2001:db8::1", 12345);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET6, "2001:db8::2", 80);

	/* One custom TLV filling the header to PROXY_MAXLEN exactly. */
	n = PROXY_MAXLEN - 16 - 12;
	memcpy(big, V2TCP4, 28);
	big[14] = (uint8_t)((PROXY_MAXLEN - 16) >> 8);
	big[15] = (uint8_t)(PROXY_MAXLEN - 16);
	big[28] = 0xe0;
	big[29] = (uint8_t)((n - 3) >> 8);
	big[30] = (uint8_t)(n - 3);
	memset(big + 31, 'z', sizeof(big) - 31);
	b.b_data = (const char *)big;
	b.b_len = sizeof(big);
	dec_ok(b, PROXY_MAXLEN, &h);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "192.0.2.1", 56324);
	b.b_len = PROXY_MAXLEN - 1;
	dec_ok(b, 0, &h);
}

/* A v1 line may be 107 bytes with its CRLF, never 108. */
static void
test_v1_length(void **state)
{
	char			line[PROXY_V1_MAXLEN + 8];
	struct proxy_hdr	h;
	struct bytes		b;
	char			err[256];
	static const char	tcp6_107[] = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "1111:2222:3333:4444:5555:6666:255.255.25.5 65535 65535\r\n";
	static const char	tcp6_108[] = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "1111:2222:3333:4444:5555:6666:255.255.255.5 65535 65535\r\n";

	(void)state;
	/* "PROXY UNKNOWN " then filler up to the CRLF. */
	memset(line, 'f', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 105, "\r\n", 2);
	b.b_data = line;
	b.b_len = 107;
	dec_ok(b, 107, &h);
	assert_int_equal(h.ph_local, 1);
	b.b_len = sizeof(line);
	dec_ok(b, 107, &h);

	memset(line, 'f', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 106, "\r\n", 2);
	assert_int_equal(dec(line, 108, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no CRLF in the first 107 bytes"));
	assert_int_equal(dec(line, 107, &h, err, sizeof(err)), -1);
	assert_int_equal(dec(line, 106, &h, err, sizeof(err)), 0);

	memset(line, 'f', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	assert_int_equal(dec(line, 106, &h, err, sizeof(err)), 0);
	assert_int_equal(dec(line, 107, &h, err, sizeof(err)), -1);
	assert_int_equal(dec(line, sizeof(line), &h, err, sizeof(err)), -1);

	assert_int_equal(strlen(tcp6_107), 107);
	b.b_data = tcp6_107;
	b.b_len = 107;
	dec_ok(b, 107, &h);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET6,
	    "1111:2222:3333:4444:5555:6666:ffff:1905", 65535);
	assert_int_equal(strlen(tcp6_108), 108);
	assert_int_equal(dec(tcp6_108, 108, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no CRLF"));
	assert_int_equal(dec(tcp6_108, 106, &h, err, sizeof(err)), 0);
}

/* Ports 0 and 65535 in both versions, from bytes and round trips. */
static void
test_ports(void **state)
{
	struct bytes		v1 =
	    B("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n");
	struct bytes		v2 = B(V2SIG "\x21\x11\x00\x0c"
	    "\1\2\3\4" "\5\6\7\10" "\xff\xff" "\x00\x00");
	struct sockaddr_storage	s, d;
	struct proxy_hdr	h;
	struct bytes		b;
	uint8_t			buf[PROXY_MAXLEN];
	ssize_t			n;
	int			v;

	(void)state;
	dec_ok(v1, v1.b_len, &h);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "1.2.3.4", 0);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET, "5.6.7.8", 65535);
	dec_ok(v2, v2.b_len, &h);
	check_addr(&h.ph_src, h.ph_srclen, AF_INET, "1.2.3.4", 65535);
	check_addr(&h.ph_dst, h.ph_dstlen, AF_INET, "5.6.7.8", 0);
	for (v = 1; v <= 2; v++) {
		n = proxyproto_encode(v, SOCK_STREAM,
		    unit_sockaddr(&s, "::1", 65535),
		    unit_sockaddr(&d, "::2", 0), buf, sizeof(buf));
		assert_true(n > 0);
		b.b_data = (const char *)buf;
		b.b_len = (size_t)n;
		dec_ok(b, (size_t)n, &h);
		check_addr(&h.ph_src, h.ph_srclen, AF_INET6, "::1", 65535);
		check_addr(&h.ph_dst, h.ph_dstlen, AF_INET6, "::2", 0);
	}
}

/* UNKNOWN and LOCAL (and v2 UNSPEC or UNIX) leave the addresses alone. */
static void
test_unknown_local(void **state)
{
	static const struct {
		struct bytes	 in;
		int		 version, socktype;
	} loc[] = {
		{ B("PROXY UNKNOWN\r\n"), 1, SOCK_STREAM },
		{ B("PROXY UNKNOWN ffff:f:ff:fff:ffff:0:0:1 ::1 65535 0\r\n"),
		    1, SOCK_STREAM },
		{ B("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n"), 1, SOCK_STREAM },
		{ B(V2SIG "\x20\x00\x00\x00"), 2, SOCK_STREAM },
		{ B(V2SIG "\x20\x12\x00\x0c" "\1\2\3\4\5\6\7\10\0\1\0\2"), 2,
		    SOCK_DGRAM },
		{ B(V2SIG "\x20\x21\x00\x00"), 2, SOCK_STREAM },
		{ B(V2SIG "\x20\x02\x00\x03" "\xff\xff\xff"), 2, SOCK_DGRAM },
		{ B(V2SIG "\x21\x00\x00\x04" "junk"), 2, SOCK_STREAM },
	};
	static const char	lv2[] = V2SIG "\x20\x00\x00\x00";
	struct proxy_hdr	h;
	char			err[256];
	struct bytes		b;
	uint8_t			buf[PROXY_MAXLEN];
	ssize_t			n;
	size_t			i;

	(void)state;
	for (i = 0; i < NITEMS(loc); i++) {
		dec_ok(loc[i].in, loc[i].in.b_len, &h);
		assert_int_equal(h.ph_local, 1);
		assert_int_equal(h.ph_version, loc[i].version);
		assert_int_equal(h.ph_socktype, loc[i].socktype);
	}

	/* A UNIX block of 216 bytes, and TLVs after it, are skipped. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, V2SIG "\x21\x31\x00\xdd", 16);
	memcpy(buf + 16 + 216, "\x04\x00\x02" "ab", 5);
	b.b_data = (const char *)buf;
	b.b_len = 16 + 221;
	dec_ok(b, b.b_len, &h);
	assert_int_equal(h.ph_local, 1);
	buf[15] = 0xdc;
	assert_int_equal(dec(buf, 16 + 220, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TLV type 0x04 of 2 bytes runs past"));

	n = proxyproto_encode(1, SOCK_STREAM, NULL, NULL, buf, sizeof(buf));
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
	n = proxyproto_encode(2, SOCK_STREAM, NULL, NULL, buf, sizeof(buf));
	assert_int_equal(n, sizeof(lv2) - 1);
	assert_memory_equal(buf, lv2, sizeof(lv2) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_exact),
		cmocka_unit_test(test_encode_mapped),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_decode_spec),
		cmocka_unit_test(test_decode_v1_ipv6_forms),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_tlvs),
		cmocka_unit_test(test_v1_length),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_unknown_local),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
