/*
 * Unit tests for sockaddr.c: numeric hosts of both families, ports,
 * "host:port" for logs, and IPv4-mapped IPv6 addresses turned into plain
 * IPv4 in place; other families and short buffers.  (sockaddr.c has no
 * compare or copy function: the gate and the quota tables compare
 * addresses themselves, see their tests.)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "sockaddr.h"
#include "unit_util.h"

/* Numeric hosts as inet_ntop() writes them, either family. */
static void
test_ntop(void **state)
{
	struct sockaddr_storage	 ss;
	char			 buf[SOCKADDR_STRLEN];
	const char		*in[] = { "127.0.0.1", "0.0.0.0",
	    "255.255.255.255", "::1", "::", "2001:db8::1", "fe80::1:2",
	    "::ffff:192.0.2.1",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		assert_ptr_equal(sockaddr_ntop(unit_sockaddr(&ss, in[i], 1),
		    buf, sizeof(buf)), buf);
		assert_string_equal(buf, in[i]);
	}
	/* inet_ntop's canonical form, not the input's. */
	(void)sockaddr_ntop(unit_sockaddr(&ss, "2001:DB8:0:0:0:0:0:1", 1),
	    buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
}

/* Another family has no numeric host; a buffer too small is said so. */
static void
test_ntop_other(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)(void *)&ss;
	char			 buf[SOCKADDR_STRLEN], small[8];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	assert_string_equal(sockaddr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "<no address>");
	ss.ss_family = AF_UNSPEC;
	assert_string_equal(sockaddr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "<no address>");
	/* "2001:db8::1" needs 12 bytes: cut, terminated, never overrun. */
	memset(small, 'X', sizeof(small));
	(void)sockaddr_ntop(unit_sockaddr(&ss, "2001:db8::1", 1), small,
	    sizeof(small));
	assert_string_equal(small, "<bad ad");
	/* One byte short, then exactly enough room (8 with the NUL). */
	(void)sockaddr_ntop(unit_sockaddr(&ss, "10.0.0.1", 1), small,
	    sizeof(small));
	assert_string_equal(small, "<bad ad");
	(void)sockaddr_ntop(unit_sockaddr(&ss, "1.2.3.4", 1), small,
	    sizeof(small));
	assert_string_equal(small, "1.2.3.4");
}

/* Ports in host order; 0 for a family without one. */
static void
test_port(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;

	(void)state;
	assert_int_equal(sockaddr_port(unit_sockaddr(&ss, "127.0.0.1", 80)),
	    80);
	assert_int_equal(sockaddr_port(unit_sockaddr(&ss, "::1", 65535)),
	    65535);
	assert_int_equal(sockaddr_port(unit_sockaddr(&ss, "::1", 0)), 0);
	/* Network order in the structure: 0x0102 is 258, not 513. */
	assert_int_equal(sockaddr_port(unit_sockaddr(&ss, "10.0.0.1", 258)),
	    258);
	assert_int_equal(((const unsigned char *)&sin->sin_port)[0], 1);
	ss.ss_family = AF_UNIX;
	assert_int_equal(sockaddr_port((struct sockaddr *)&ss), 0);
}

/* "host:port", with the IPv6 host in brackets. */
static void
test_ntop_port(void **state)
{
	struct sockaddr_storage	 ss;
	char			 buf[SOCKADDR_STRLEN + 8], small[10];

	(void)state;
	assert_string_equal(sockaddr_ntop_port(unit_sockaddr(&ss, "127.0.0.1",
	    80), buf, sizeof(buf)), "127.0.0.1:80");
	assert_string_equal(sockaddr_ntop_port(unit_sockaddr(&ss, "::1", 443),
	    buf, sizeof(buf)), "[::1]:443");
	assert_string_equal(sockaddr_ntop_port(unit_sockaddr(&ss,
	    "::ffff:10.0.0.1", 0), buf, sizeof(buf)), "[::ffff:10.0.0.1]:0");
	assert_string_equal(sockaddr_ntop_port(unit_sockaddr(&ss,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), buf,
	    sizeof(buf)),
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	/* Cut to the buffer, terminated. */
	assert_string_equal(sockaddr_ntop_port(unit_sockaddr(&ss,
	    "192.168.100.200", 8080), small, sizeof(small)), "192.168.1");
	ss.ss_family = AF_UNIX;
	assert_string_equal(sockaddr_ntop_port((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "<no address>:0");
}

/* ::ffff:a.b.c.d becomes a.b.c.d with its port, and the length shrinks. */
static void
test_unmap_mapped(void **state)
{
	struct sockaddr_storage	 ss, want;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;
	socklen_t		 len = sizeof(struct sockaddr_in6);
	char			 buf[SOCKADDR_STRLEN];
	const unsigned char	*p = (const unsigned char *)&ss;
	size_t			 i;

	(void)state;
	/* Dirty bytes after the address must not survive the change. */
	memset(&ss, 0xa5, sizeof(ss));
	(void)unit_sockaddr(&want, "::ffff:192.0.2.33", 4242);
	memcpy(&ss, &want, sizeof(struct sockaddr_in6));
	sockaddr_unmap(&ss, &len);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(sockaddr_port((struct sockaddr *)&ss), 4242);
	assert_string_equal(sockaddr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.33");
	assert_memory_equal(&sin->sin_addr, "\xc0\x00\x02\x21", 4);
	/* The same as the plain IPv4 address, byte for byte. */
	(void)unit_sockaddr(&want, "192.0.2.33", 4242);
	assert_memory_equal(&ss, &want, sizeof(struct sockaddr_in));
	for (i = sizeof(struct sockaddr_in); i < sizeof(ss); i++)
		if (p[i] != 0)
			fail_msg("byte %zu after the address is %#x", i, p[i]);
	/* ::ffff:0.0.0.0 is mapped too. */
	(void)unit_sockaddr(&ss, "::ffff:0.0.0.0", 1);
	len = sizeof(struct sockaddr_in6);
	sockaddr_unmap(&ss, &len);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_string_equal(sockaddr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "0.0.0.0");
}

/* Other addresses and families are left as they are, length too. */
static void
test_unmap_others(void **state)
{
	struct sockaddr_storage	 ss, before;
	const char		*same[] = { "::1", "::", "2001:db8::1",
	    "::192.0.2.1",		/* IPv4-compatible, not mapped */
	    "::fffe:192.0.2.1", "64:ff9b::192.0.2.1", "127.0.0.1",
	    "0.0.0.0" };
	socklen_t		 len;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		(void)unit_sockaddr(&ss, same[i], 99);
		before = ss;
		len = 12345;
		sockaddr_unmap(&ss, &len);
		assert_int_equal(len, 12345);
		assert_memory_equal(&ss, &before, sizeof(ss));
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	before = ss;
	len = 7;
	sockaddr_unmap(&ss, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(&ss, &before, sizeof(ss));
}

/* Unmapping twice changes nothing more. */
static void
test_unmap_twice(void **state)
{
	struct sockaddr_storage	 ss, once;
	socklen_t		 len = sizeof(struct sockaddr_in6);

	(void)state;
	(void)unit_sockaddr(&ss, "::ffff:10.1.2.3", 53);
	sockaddr_unmap(&ss, &len);
	once = ss;
	sockaddr_unmap(&ss, &len);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_memory_equal(&ss, &once, sizeof(ss));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntop),
		cmocka_unit_test(test_ntop_other),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_ntop_port),
		cmocka_unit_test(test_unmap_mapped),
		cmocka_unit_test(test_unmap_others),
		cmocka_unit_test(test_unmap_twice),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
