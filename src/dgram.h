/*
 * Datagrams on a service socket bound to a wildcard address: each one is
 * received with the address it was sent to (IP_PKTINFO, IPV6_PKTINFO) and
 * answered from that address, so that a client of a host with several
 * addresses hears from the address it asked, not one the kernel picks.
 */
#ifndef PORTGATE_DGRAM_H
#define PORTGATE_DGRAM_H

#include <sys/types.h>
#include <sys/socket.h>

/* Where a datagram was sent to; dd_family 0 when not known. */
struct dgram_dst {
	int		dd_family;	/* AF_INET (IP_PKTINFO) or AF_INET6 */
	int		dd_ifindex;
	unsigned char	dd_addr[16];	/* 4 bytes for AF_INET */
};

/*
 * Ask for the destination of each datagram on <fd>, a socket of <family>
 * (both kinds on a dual-stack IPv6 socket).  0, or -1 with errno.
 */
int	dgram_want_dst(int fd, int family);
/*
 * recvfrom() that also fills <dst> (dd_family 0 without dgram_want_dst()
 * or for a destination not to be answered from, such as multicast).
 */
ssize_t	dgram_recv(int fd, void *buf, size_t len, struct sockaddr *from,
	    socklen_t *fromlen, struct dgram_dst *dst);
/*
 * sendto(<to>) from the address of <dst> when it is known (NULL: not
 * known), non-blocking.
 */
ssize_t	dgram_reply(int fd, const void *buf, size_t len,
	    const struct sockaddr *to, socklen_t tolen,
	    const struct dgram_dst *dst);
/*
 * The destination of <dst> with <port> (host order) as a socket address
 * in <ss> (an IPv4 one for an IPv4 destination, even on an IPv6 socket);
 * 0, or -1 (<ss> untouched) if not known.
 */
int	dgram_dst_sockaddr(const struct dgram_dst *dst, int port,
	    struct sockaddr_storage *ss, socklen_t *len);
/*
 * Is <from> an address of this host: loopback (127.0.0.0/8, ::1, and
 * their IPv4-mapped forms), the destination <dst> (NULL: not known) the
 * datagram was sent to, or an address of an interface (getifaddrs(),
 * read again at most every DGRAM_LOCAL_SECS, at most DGRAM_LOCAL_MAX
 * addresses)?  1 or 0.
 */
#define DGRAM_LOCAL_SECS	10
#define DGRAM_LOCAL_MAX		256
int	dgram_source_local(const struct sockaddr *from,
	    const struct dgram_dst *dst);

#endif
