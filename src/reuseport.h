/*
 * N listening sockets on one address and port (SO_REUSEPORT), one per
 * worker, and a classic BPF program on the group that picks the socket
 * from a hash of the client's address: IPv4 whole, IPv6 masked to the
 * service's per_source_prefix6.  One source always reaches one worker, so
 * that per_source, per_source_cps, the SENSOR list and UDP flows are exact
 * without sharing anything between workers.
 */
#ifndef PORTGATE_REUSEPORT_H
#define PORTGATE_REUSEPORT_H

#include <stddef.h>

#include <linux/filter.h>

#define REUSEPORT_PROG_MAX	32	/* instructions of the program */

/*
 * The program for a group of <n> sockets (2 or more) with IPv6 sources
 * masked to <prefix6> bits (0 to 128) into <prog> of <max> instructions.
 * Returns its length, or 0 if it does not fit.  Pure, for the unit test.
 */
size_t	reuseport_program(int n, int prefix6, struct sock_filter *prog,
	    size_t max);
/*
 * The socket of the group <reuseport_program()> picks for a packet from
 * the IPv4 (<len> 4) or IPv6 (16) address <addr>: what the kernel will
 * do, computed here (tests, the SIGUSR1 dump).
 */
int	reuseport_pick(int n, int prefix6, const unsigned char *addr,
	    size_t len);
/*
 * Attach the program to the group of <fd>.  Returns 0, or -1 with the
 * reason in <err>.
 */
int	reuseport_attach(int fd, int n, int prefix6, char *err,
	    size_t errlen);

#endif
