/*
 * The reuseport group's program; see reuseport.h.  Classic BPF (the
 * kernel runs it for each new connection or datagram of the group):
 * SKF_NET_OFF reads the IP header whatever the socket's family, so a
 * dual-stack socket hashes an IPv4 client as an IPv4 listener does.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "reuseport.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF	51
#endif

#define RP_MULT		0x9e3779b1u	/* Knuth's multiplicative hash */
#define RP_SHIFT	16

/* The mask of bits of word <k> (0 to 3) of an IPv6 address in <prefix6>. */
static uint32_t
reuseport_mask(int prefix6, int k)
{
	int	bits = prefix6 - 32 * k;

	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - bits);
}

size_t
reuseport_program(int n, int prefix6, struct sock_filter *prog, size_t max)
{
	struct sock_filter	p[REUSEPORT_PROG_MAX];
	size_t			len = 0, ja;
	int			k, words = 0;

	/* The IP version: 4, else the IPv6 path. */
	p[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
	    (uint32_t)SKF_NET_OFF);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4);
	p[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4,
	    0, 2);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)SKF_NET_OFF + 12);
	ja = len++;		/* to the hash, once its place is known */
	/* IPv6: the source's words within the prefix, xor-ed together. */
	p[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
	for (k = 0; k < 4; k++) {
		if (reuseport_mask(prefix6, k) == 0)
			continue;
		p[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
		    BPF_ABS, (uint32_t)SKF_NET_OFF + 8 + 4 * (uint32_t)k);
		p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND |
		    BPF_K, reuseport_mask(prefix6, k));
		p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR |
		    BPF_X, 0);
		p[len++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
		words++;
	}
	p[len++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TXA, 0);
	p[ja] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
	    (uint32_t)(len - ja - 1));
	/* The hash, and the socket it names. */
	p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K,
	    RP_MULT);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K,
	    RP_SHIFT);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K,
	    (uint32_t)n);
	p[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	(void)words;
	if (len > max)
		return 0;
	memcpy(prog, p, len * sizeof(p[0]));
	return len;
}

int
reuseport_pick(int n, int prefix6, const unsigned char *addr, size_t len)
{
	uint32_t	a = 0, w;
	int		k;

	if (len == 4)
		a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
		    (uint32_t)addr[2] << 8 | addr[3];
	else
		for (k = 0; k < 4; k++) {
			w = (uint32_t)addr[4 * k] << 24 |
			    (uint32_t)addr[4 * k + 1] << 16 |
			    (uint32_t)addr[4 * k + 2] << 8 | addr[4 * k + 3];
			a ^= w & reuseport_mask(prefix6, k);
		}
	return (int)(((uint32_t)(a * RP_MULT) >> RP_SHIFT) % (uint32_t)n);
}

int
reuseport_attach(int fd, int n, int prefix6, char *err, size_t errlen)
{
	struct sock_filter	prog[REUSEPORT_PROG_MAX];
	struct sock_fprog	fp;
	size_t			len;

	if ((len = reuseport_program(n, prefix6, prog,
	    REUSEPORT_PROG_MAX)) == 0) {
		(void)snprintf(err, errlen, "reuseport program too long");
		return -1;
	}
	fp.len = (unsigned short)len;
	fp.filter = prog;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp,
	    sizeof(fp)) == -1) {
		(void)snprintf(err, errlen, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}
