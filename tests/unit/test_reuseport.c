/*
 * Unit tests of reuseport.c: the classic BPF program that gives each
 * client of a reuseport group to one socket (one worker).
 *
 * - reuseport_program(): its length for every group size (2 to 32) and
 *   IPv6 prefix, every jump inside it, and 0 (nothing written) when the
 *   buffer is too small;
 * - the program, run by a small classic BPF interpreter of this file on
 *   IPv4 and IPv6 headers, returns what reuseport_pick() computes, for
 *   every prefix from 0 to 128;
 * - reuseport_pick(): deterministic, in range, 1000 IPv4 sources spread
 *   evenly over 2 and 4 sockets, IPv6 bits beyond the prefix ignored;
 * - the kernel agrees: groups of 2 and 4 TCP and UDP sockets on
 *   127.0.0.1, on the dual-stack wildcard and on ::1 with the program
 *   attached by reuseport_attach(), each connection or datagram from
 *   127.0.0.2 to 127.0.0.17 (or ::1) arriving on the socket
 *   reuseport_pick() names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_skip.h"

#include "reuseport.h"

#define NSOURCES	16	/* 127.0.0.2 .. 127.0.0.17 */
#define SPREAD_N	1000	/* IPv4 sources of the spread test */
#define WAIT_MS		5000	/* for a connection or a datagram */

static const int	prefixes[] = { 0, 48, 64, 128 };

/* IPv6 words the program reads for <prefix6>: those with a masked bit. */
static size_t
words(int prefix6)
{
	return (size_t)(prefix6 + 31) / 32;
}

/* reuseport_program()'s length for every size and prefix, and its jumps. */
static void
test_program_length(void **state)
{
	struct sock_filter	prog[REUSEPORT_PROG_MAX];
	size_t			len, pc, i;
	int			n, p;

	(void)state;
	for (n = 2; n <= 32; n++)
		for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			p = prefixes[i];
			len = reuseport_program(n, p, prog, REUSEPORT_PROG_MAX);
			/* version 3, IPv4 load + jump 2, IPv6 2 + 4 a word
			 * + 1, hash 4. */
			assert_int_equal(len, 12 + 4 * words(p));
			assert_true(len <= REUSEPORT_PROG_MAX);
			/* The last is "return A"; the one before, "A %= n". */
			assert_int_equal(prog[len - 1].code, BPF_RET | BPF_A);
			assert_int_equal(prog[len - 2].code,
			    BPF_ALU | BPF_MOD | BPF_K);
			assert_int_equal(prog[len - 2].k, (uint32_t)n);
			for (pc = 0; pc < len; pc++) {
				if (BPF_CLASS(prog[pc].code) != BPF_JMP)
					continue;
				if (BPF_OP(prog[pc].code) == BPF_JA)
					assert_true(pc + 1 + prog[pc].k < len);
				else
					assert_true(pc + 1 + prog[pc].jt <
					    len && pc + 1 + prog[pc].jf < len);
			}
		}
}

/* Too small a buffer: 0, and not one instruction written. */
static void
test_program_too_small(void **state)
{
	struct sock_filter	prog[REUSEPORT_PROG_MAX], canary;
	size_t			len, max, i, k;

	(void)state;
	memset(&canary, 0xa5, sizeof(canary));
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		len = reuseport_program(4, prefixes[i], prog,
		    REUSEPORT_PROG_MAX);
		assert_true(len > 0);
		for (max = 0; max < len; max++) {
			for (k = 0; k < REUSEPORT_PROG_MAX; k++)
				prog[k] = canary;
			assert_int_equal(reuseport_program(4, prefixes[i],
			    prog, max), 0);
			for (k = 0; k < REUSEPORT_PROG_MAX; k++)
				assert_memory_equal(&prog[k], &canary,
				    sizeof(canary));
		}
		/* Exactly its length is enough. */
		assert_int_equal(reuseport_program(4, prefixes[i], prog, len),
		    len);
	}
}

/*
 * Run classic BPF program <prog> of <len> on a packet whose network
 * header is <net> of <netlen> bytes, as the kernel does for a reuseport
 * group (loads at SKF_NET_OFF + k read the network header).  The value
 * returned; the test fails on what the kernel would refuse or abort.
 */
static uint32_t
bpf_run(const struct sock_filter *prog, size_t len, const unsigned char *net,
    size_t netlen)
{
	uint32_t	a = 0, x = 0, off;
	size_t		pc, steps = 0;
	const struct sock_filter *f;

	for (pc = 0; pc < len; pc++) {
		assert_true(++steps <= len);	/* jumps go forward only */
		f = &prog[pc];
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (BPF_MODE(f->code) == BPF_IMM) {
				a = f->k;
				break;
			}
			assert_int_equal(BPF_MODE(f->code), BPF_ABS);
			/* SKF_NET_OFF up to SKF_NET_OFF + 0xfffff. */
			assert_true(f->k >= (uint32_t)SKF_NET_OFF);
			off = f->k - (uint32_t)SKF_NET_OFF;
			if (BPF_SIZE(f->code) == BPF_B) {
				assert_true(off < netlen);
				a = net[off];
			} else {
				assert_int_equal(BPF_SIZE(f->code), BPF_W);
				assert_true(off + 4 <= netlen);
				a = (uint32_t)net[off] << 24 |
				    (uint32_t)net[off + 1] << 16 |
				    (uint32_t)net[off + 2] << 8 | net[off + 3];
			}
			break;
		case BPF_ALU:
			off = BPF_SRC(f->code) == BPF_X ? x : f->k;
			switch (BPF_OP(f->code)) {
			case BPF_AND:
				a &= off;
				break;
			case BPF_XOR:
				a ^= off;
				break;
			case BPF_MUL:
				a *= off;
				break;
			case BPF_RSH:
				a >>= off;
				break;
			case BPF_MOD:
				assert_true(off != 0);
				a %= off;
				break;
			default:
				fail_msg("ALU op %#x", BPF_OP(f->code));
			}
			break;
		case BPF_JMP:
			switch (BPF_OP(f->code)) {
			case BPF_JA:
				pc += f->k;
				break;
			case BPF_JEQ:
				assert_int_equal(BPF_SRC(f->code), BPF_K);
				pc += a == f->k ? f->jt : f->jf;
				break;
			default:
				fail_msg("JMP op %#x", BPF_OP(f->code));
			}
			break;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		case BPF_RET:
			assert_int_equal(BPF_RVAL(f->code), BPF_A);
			return a;
		default:
			fail_msg("instruction %#x at %zu", f->code, pc);
		}
	}
	fail_msg("the program ran off its end");
	return 0;
}

/* A pseudo-random sequence of this test's own (reproducible). */
static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8 ^ *seed << 13;
}

/* The program returns reuseport_pick() for IPv4 and IPv6 headers. */
static void
test_program_agrees(void **state)
{
	struct sock_filter	prog[REUSEPORT_PROG_MAX];
	unsigned char		ip4[20], ip6[40];
	size_t			len;
	uint32_t		seed = 1, r;
	int			n, p, i, k;

	(void)state;
	for (n = 2; n <= 32; n += 1)
		for (p = 0; p <= 128; p += n == 2 || n == 4 ? 1 : 16) {
			assert_true((len = reuseport_program(n, p, prog,
			    REUSEPORT_PROG_MAX)) > 0);
			for (i = 0; i < 64; i++) {
				memset(ip4, 0, sizeof(ip4));
				ip4[0] = 0x45;
				r = rnd(&seed);
				memcpy(&ip4[12], &r, 4);
				r = rnd(&seed);
				memcpy(&ip4[16], &r, 4);	/* dst */
				assert_int_equal(bpf_run(prog, len, ip4,
				    sizeof(ip4)), (uint32_t)reuseport_pick(n,
				    p, &ip4[12], 4));
				memset(ip6, 0, sizeof(ip6));
				ip6[0] = 0x60;
				for (k = 8; k < 40; k += 4) {
					r = rnd(&seed);
					memcpy(&ip6[k], &r, 4);
				}
				assert_int_equal(bpf_run(prog, len, ip6,
				    sizeof(ip6)), (uint32_t)reuseport_pick(n,
				    p, &ip6[8], 16));
			}
		}
}

/* reuseport_pick(): in range, and the same answer every time. */
static void
test_pick_stable(void **state)
{
	unsigned char	a[16];
	uint32_t	seed = 7, r;
	int		n, i, k, got;

	(void)state;
	for (n = 2; n <= 32; n++)
		for (i = 0; i < 200; i++) {
			for (k = 0; k < 16; k += 4) {
				r = rnd(&seed);
				memcpy(&a[k], &r, 4);
			}
			got = reuseport_pick(n, 64, a, 4);
			assert_true(got >= 0 && got < n);
			assert_int_equal(reuseport_pick(n, 64, a, 4), got);
			got = reuseport_pick(n, 64, a, 16);
			assert_true(got >= 0 && got < n);
			assert_int_equal(reuseport_pick(n, 64, a, 16), got);
		}
}

/*
 * 1000 IPv4 sources over <n> sockets: each bucket within 20% of its even
 * share (a binomial spread stays within 5 standard deviations of it).
 */
static void
spread(const char *what, int n, int sequential)
{
	unsigned char	a[4];
	uint32_t	seed = 99, v;
	int		count[4] = { 0 }, i, k, share = SPREAD_N / n;

	for (i = 0; i < SPREAD_N; i++) {
		/* 10.0.0.1 upwards, or anywhere. */
		v = sequential ? 0x0a000001u + (uint32_t)i : rnd(&seed);
		a[0] = (unsigned char)(v >> 24);
		a[1] = (unsigned char)(v >> 16);
		a[2] = (unsigned char)(v >> 8);
		a[3] = (unsigned char)v;
		count[reuseport_pick(n, 64, a, 4)]++;
	}
	printf("# %s over %d sockets:", what, n);
	for (k = 0; k < n; k++)
		printf(" %d", count[k]);
	printf("\n");
	for (k = 0; k < n; k++)
		assert_true(count[k] >= share - share / 5 &&
		    count[k] <= share + share / 5);
}

static void
test_pick_spread(void **state)
{
	(void)state;
	spread("1000 consecutive IPv4 sources", 2, 1);
	spread("1000 consecutive IPv4 sources", 4, 1);
	spread("1000 random IPv4 sources", 2, 0);
	spread("1000 random IPv4 sources", 4, 0);
}

/* IPv6: bits past the prefix change nothing; within it they may. */
static void
test_pick_prefix6(void **state)
{
	unsigned char	a[16], b[16];
	int		i, n, differ128 = 0, differ48 = 0;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2::1", a), 1);
	for (n = 2; n <= 8; n++) {
		for (i = 0; i < 64; i++) {
			/* Only the interface identifier (bits 64..127). */
			memcpy(b, a, 16);
			b[8] = (unsigned char)(i * 37);
			b[15] = (unsigned char)(i + 2);
			assert_int_equal(reuseport_pick(n, 64, a, 16),
			    reuseport_pick(n, 64, b, 16));
			assert_int_equal(reuseport_pick(n, 0, a, 16),
			    reuseport_pick(n, 0, b, 16));
			differ128 += reuseport_pick(n, 128, a, 16) !=
			    reuseport_pick(n, 128, b, 16);
			/* Bits 48..63 count with 64, not with 48. */
			memcpy(b, a, 16);
			b[6] = (unsigned char)(i + 1);
			assert_int_equal(reuseport_pick(n, 48, a, 16),
			    reuseport_pick(n, 48, b, 16));
			differ48 += reuseport_pick(n, 64, a, 16) !=
			    reuseport_pick(n, 64, b, 16);
		}
	}
	/* With the whole address in the hash, the picks do differ. */
	assert_true(differ128 > 0);
	assert_true(differ48 > 0);
}

/* --- the kernel ------------------------------------------------------ */

/* Fill <ss> with <addr> (numeric, v4 or v6) port <port>; its length. */
static socklen_t
mkaddr(struct sockaddr_storage *ss, const char *addr, int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	return sizeof(*sin6);
}

/* The port of bound socket <fd>. */
static int
local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ss.ss_family == AF_INET ?
	    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * A group of <n> sockets of <type> on <addr> (the first on a port the
 * kernel chooses, the others on the same), the program attached with
 * <prefix6>.  Returns the port; 0 when the address cannot be bound here.
 */
static int
group_open(int *fds, int n, int type, const char *addr, int prefix6)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			err[256];
	int			i, on = 1, off = 0, port = 0;

	for (i = 0; i < n; i++) {
		len = mkaddr(&ss, addr, port);
		fds[i] = socket(ss.ss_family, type | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(setsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT,
		    &on, sizeof(on)), 0);
		/* The wildcard "::" takes IPv4 clients too. */
		if (ss.ss_family == AF_INET6)
			assert_int_equal(setsockopt(fds[i], IPPROTO_IPV6,
			    IPV6_V6ONLY, &off, sizeof(off)), 0);
		if (bind(fds[i], (struct sockaddr *)&ss, len) == -1) {
			assert_int_equal(i, 0);
			(void)close(fds[i]);
			return 0;
		}
		if (type == SOCK_STREAM)
			assert_int_equal(listen(fds[i], 64), 0);
		if (i == 0)
			port = local_port(fds[0]);
	}
	if (reuseport_attach(fds[0], n, prefix6, err, sizeof(err)) == -1)
		fail_msg("reuseport_attach: %s", err);
	return port;
}

static void
group_close(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		(void)close(fds[i]);
}

/*
 * Wait until one socket of the group has something; its index.  Fails the
 * test at the deadline, or if two sockets have something.
 */
static int
group_ready(const int *fds, int n)
{
	struct pollfd	pfd[4];
	int		i, which = -1;

	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, (nfds_t)n, WAIT_MS) <= 0)
		fail_msg("nothing reached the group in %d ms", WAIT_MS);
	for (i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN) {
			assert_int_equal(which, -1);
			which = i;
		}
	assert_true(which >= 0);
	return which;
}

/*
 * Connect (TCP) or send a datagram (UDP) from <src> to <dst> port <port>
 * and return the index of the group's socket that got it, after checking
 * that what it got came from <src>.
 */
static int
group_arrival(const int *fds, int n, int type, const char *src,
    const char *dst, int port)
{
	struct sockaddr_storage	ss, peer;
	socklen_t		len, plen = sizeof(peer);
	char			got[INET6_ADDRSTRLEN], buf[8];
	const void		*ap;
	int			c, a, which;

	len = mkaddr(&ss, src, 0);
	c = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	assert_int_equal(bind(c, (struct sockaddr *)&ss, len), 0);
	len = mkaddr(&ss, dst, port);
	if (type == SOCK_STREAM)
		assert_int_equal(connect(c, (struct sockaddr *)&ss, len), 0);
	else
		assert_int_equal(sendto(c, "x", 1, 0, (struct sockaddr *)&ss,
		    len), 1);
	which = group_ready(fds, n);
	if (type == SOCK_STREAM) {
		a = accept4(fds[which], (struct sockaddr *)&peer, &plen,
		    SOCK_CLOEXEC);
		assert_true(a >= 0);
		(void)close(a);
	} else
		assert_int_equal(recvfrom(fds[which], buf, sizeof(buf), 0,
		    (struct sockaddr *)&peer, &plen), 1);
	(void)close(c);
	/* An IPv4 client of "::" arrives as ::ffff:a.b.c.d. */
	if (peer.ss_family == AF_INET)
		ap = &((struct sockaddr_in *)&peer)->sin_addr;
	else
		ap = &((struct sockaddr_in6 *)&peer)->sin6_addr;
	assert_non_null(inet_ntop(peer.ss_family, ap, got, sizeof(got)));
	if (strcmp(got, src) != 0 && !(strncmp(got, "::ffff:", 7) == 0 &&
	    strcmp(got + 7, src) == 0))
		fail_msg("the group got a client from %s, not %s", got, src);
	return which;
}

/*
 * Clients from 127.0.0.2 .. 127.0.0.17 to a group of <n> sockets of
 * <type> bound on <bindaddr>: each reaches the socket reuseport_pick()
 * names.  Returns 0, or -1 when <bindaddr> cannot be bound here.
 */
static int
kernel_ipv4(int n, int type, const char *bindaddr)
{
	unsigned char	a[4] = { 127, 0, 0, 0 };
	char		src[32];
	int		fds[4], port, i, got, want, seen[4] = { 0 };

	if ((port = group_open(fds, n, type, bindaddr, 64)) == 0)
		return -1;
	for (i = 0; i < NSOURCES; i++) {
		a[3] = (unsigned char)(2 + i);
		(void)snprintf(src, sizeof(src), "127.0.0.%d", 2 + i);
		want = reuseport_pick(n, 64, a, 4);
		got = group_arrival(fds, n, type, src, "127.0.0.1", port);
		if (got != want)
			fail_msg("%s %s from %s: socket %d of %d, picked %d",
			    type == SOCK_STREAM ? "tcp" : "udp", bindaddr,
			    src, got, n, want);
		seen[got]++;
	}
	printf("# %s on %s, %d sockets, %d sources:",
	    type == SOCK_STREAM ? "tcp" : "udp", bindaddr, n, NSOURCES);
	for (i = 0; i < n; i++)
		printf(" %d", seen[i]);
	printf("\n");
	group_close(fds, n);
	return 0;
}

static void
test_kernel_tcp(void **state)
{
	(void)state;
	assert_int_equal(kernel_ipv4(2, SOCK_STREAM, "127.0.0.1"), 0);
	assert_int_equal(kernel_ipv4(4, SOCK_STREAM, "127.0.0.1"), 0);
}

static void
test_kernel_udp(void **state)
{
	(void)state;
	assert_int_equal(kernel_ipv4(2, SOCK_DGRAM, "127.0.0.1"), 0);
	assert_int_equal(kernel_ipv4(4, SOCK_DGRAM, "127.0.0.1"), 0);
}

/* A dual-stack socket hashes an IPv4 client as an IPv4 socket does. */
static void
test_kernel_dualstack(void **state)
{
	(void)state;
	if (kernel_ipv4(2, SOCK_STREAM, "::") == -1 ||
	    kernel_ipv4(4, SOCK_DGRAM, "::") == -1) {
		printf("# no IPv6 here\n");
		TEST_SKIP();
	}
}

/*
 * ::1, the one IPv6 source there is: a group of 2 picks socket 1 with the
 * whole address in the hash and socket 0 with /64 (::1 masked is ::), so
 * the prefix is seen to reach the kernel.
 */
static void
test_kernel_ipv6(void **state)
{
	unsigned char	one[16];
	int		fds[2], port, p, t, types[] = { SOCK_STREAM,
			    SOCK_DGRAM }, want;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "::1", one), 1);
	assert_int_equal(reuseport_pick(2, 128, one, 16), 1);
	assert_int_equal(reuseport_pick(2, 64, one, 16), 0);
	for (t = 0; t < 2; t++)
		for (p = 64; p <= 128; p += 64) {
			if ((port = group_open(fds, 2, types[t], "::1", p)) ==
			    0) {
				printf("# ::1 cannot be bound here\n");
				TEST_SKIP();
				return;
			}
			want = reuseport_pick(2, p, one, 16);
			assert_int_equal(group_arrival(fds, 2, types[t], "::1",
			    "::1", port), want);
			group_close(fds, 2);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_length),
		cmocka_unit_test(test_program_too_small),
		cmocka_unit_test(test_program_agrees),
		cmocka_unit_test(test_pick_stable),
		cmocka_unit_test(test_pick_spread),
		cmocka_unit_test(test_pick_prefix6),
		cmocka_unit_test(test_kernel_tcp),
		cmocka_unit_test(test_kernel_udp),
		cmocka_unit_test(test_kernel_dualstack),
		cmocka_unit_test(test_kernel_ipv6),
	};

	return test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
