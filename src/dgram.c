/*
 * Datagrams with their destination address: IP_PKTINFO and IPV6_PKTINFO
 * on receive, the same on the reply (RFC 3542 for IPv6), as DNS servers
 * on wildcard sockets do.  A destination that cannot be a source
 * (multicast, broadcast) is forgotten, and the kernel picks as before.
 * Also whether a sender is this host, for the loop check of admit.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "dgram.h"

/* Room for either kind of packet information. */
#define DGRAM_CMSG_SPACE	CMSG_SPACE(sizeof(struct in6_pktinfo))

int
dgram_want_dst(int fd, int family)
{
	int	one = 1;

	/* On a dual-stack socket IPv4 datagrams come with IP_PKTINFO. */
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == -1)
		return -1;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVPKTINFO, &one, sizeof(one)) == -1)
		return -1;
	return 0;
}

/* Can <dst> be the source of a reply? */
static int
dgram_dst_usable(const struct dgram_dst *dst)
{
	const unsigned char	*a = dst->dd_addr;

	if (dst->dd_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
	    (const struct in6_addr *)(const void *)a))
		a += 12;
	else if (dst->dd_family == AF_INET6)
		return a[0] != 0xff;			/* multicast */
	/* IPv4 multicast, limited broadcast, 0.0.0.0 */
	return (a[0] & 0xf0) != 0xe0 && !(a[0] == 255 && a[1] == 255 &&
	    a[2] == 255 && a[3] == 255) && !(a[0] == 0 && a[1] == 0 &&
	    a[2] == 0 && a[3] == 0);
}

ssize_t
dgram_recv(int fd, void *buf, size_t len, struct sockaddr *from,
    socklen_t *fromlen, struct dgram_dst *dst)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[DGRAM_CMSG_SPACE * 2];
	}			 ctl;
	struct iovec		 iov = { buf, len };
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;
	ssize_t			 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = from;
	msg.msg_namelen = *fromlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	memset(dst, 0, sizeof(*dst));
	if ((n = recvmsg(fd, &msg, 0)) == -1)
		return -1;
	*fromlen = msg.msg_namelen;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(pi))) {
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			dst->dd_family = AF_INET;
			dst->dd_ifindex = pi.ipi_ifindex;
			memcpy(dst->dd_addr, &pi.ipi_addr, 4);
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(pi6))) {
			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			dst->dd_family = AF_INET6;
			dst->dd_ifindex = (int)pi6.ipi6_ifindex;
			memcpy(dst->dd_addr, &pi6.ipi6_addr, 16);
		}
	}
	if (dst->dd_family != 0 && !dgram_dst_usable(dst))
		memset(dst, 0, sizeof(*dst));
	return n;
}

ssize_t
dgram_reply(int fd, const void *buf, size_t len, const struct sockaddr *to,
    socklen_t tolen, const struct dgram_dst *dst)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[DGRAM_CMSG_SPACE];
	}			 ctl;
	struct iovec		 iov = { (void *)(uintptr_t)buf, len };
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;
	ssize_t			 n;

	if (dst == NULL || dst->dd_family == 0)
		return sendto(fd, buf, len, MSG_DONTWAIT, to, tolen);
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_name = (void *)(uintptr_t)to;
	msg.msg_namelen = tolen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	cm = (struct cmsghdr *)(void *)ctl.buf;
	if (dst->dd_family == AF_INET) {
		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, dst->dd_addr, 4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		memset(&pi6, 0, sizeof(pi6));
		memcpy(&pi6.ipi6_addr, dst->dd_addr, 16);
		/* A link-local source needs its interface. */
		if (IN6_IS_ADDR_LINKLOCAL(&pi6.ipi6_addr))
			pi6.ipi6_ifindex = (unsigned)dst->dd_ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi6));
		memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi6));
	}
	n = sendmsg(fd, &msg, MSG_DONTWAIT);
	/* An address that is no longer ours: let the kernel pick. */
	if (n == -1 && (errno == EINVAL || errno == EADDRNOTAVAIL))
		n = sendto(fd, buf, len, MSG_DONTWAIT, to, tolen);
	return n;
}

int
dgram_dst_sockaddr(const struct dgram_dst *dst, int port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	const unsigned char	*a = dst->dd_addr;
	in_port_t		 nport = htons((uint16_t)port);

	if (dst->dd_family == 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (dst->dd_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(
	    (const struct in6_addr *)(const void *)a)) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = nport;
		memcpy(&sin6->sin6_addr, a, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = (uint32_t)dst->dd_ifindex;
		*len = sizeof(*sin6);
		return 0;
	}
	if (dst->dd_family == AF_INET6)
		a += 12;
	sin->sin_family = AF_INET;
	sin->sin_port = nport;
	memcpy(&sin->sin_addr, a, 4);
	*len = sizeof(*sin);
	return 0;
}

/*
 * The address of <sa> in <a> (4 bytes for IPv4, IPv4-mapped IPv6
 * unmapped); returns its length, 0 for another family.
 */
static size_t
dgram_addr(const struct sockaddr *sa, unsigned char a[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a, &sin->sin_addr, 4);
		return 4;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(a, &sin6->sin6_addr.s6_addr[12], 4);
			return 4;
		}
		memcpy(a, &sin6->sin6_addr, 16);
		return 16;
	default:
		return 0;
	}
}

/* The addresses of this host's interfaces, as dgram_addr() gives them. */
static struct {
	struct timespec	 dl_when;	/* CLOCK_MONOTONIC of the reading */
	int		 dl_read;
	size_t		 dl_n;
	struct {
		size_t		len;
		unsigned char	addr[16];
	}		 dl_addr[DGRAM_LOCAL_MAX];
} dgram_local;

/*
 * Read the interface addresses again if the last reading is older than
 * DGRAM_LOCAL_SECS.  getifaddrs() asks the kernel (netlink) and does not
 * wait on the network; the callers reach here only for a source port that
 * is a UDP service of ours, and at most once in DGRAM_LOCAL_SECS.
 */
static void
dgram_local_refresh(void)
{
	struct ifaddrs	*ifa, *i;
	struct timespec	 now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return;
	if (dgram_local.dl_read &&
	    now.tv_sec - dgram_local.dl_when.tv_sec < DGRAM_LOCAL_SECS)
		return;
	/* Failing, keep what was read and try again in a while. */
	dgram_local.dl_when = now;
	dgram_local.dl_read = 1;
	if (getifaddrs(&ifa) == -1)
		return;
	dgram_local.dl_n = 0;
	for (i = ifa; i != NULL && dgram_local.dl_n < DGRAM_LOCAL_MAX;
	    i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		dgram_local.dl_addr[dgram_local.dl_n].len = dgram_addr(
		    i->ifa_addr, dgram_local.dl_addr[dgram_local.dl_n].addr);
		if (dgram_local.dl_addr[dgram_local.dl_n].len != 0)
			dgram_local.dl_n++;
	}
	freeifaddrs(ifa);
}

int
dgram_source_local(const struct sockaddr *from, const struct dgram_dst *dst)
{
	unsigned char	a[16], d[16];
	size_t		len, dlen, i;

	if ((len = dgram_addr(from, a)) == 0)
		return 0;
	if (len == 4 && a[0] == 127)
		return 1;
	if (len == 16 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)(void *)a))
		return 1;
	if (dst != NULL && dst->dd_family != 0) {
		dlen = 16;
		memcpy(d, dst->dd_addr, 16);
		if (dst->dd_family == AF_INET)
			dlen = 4;
		else if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)d)) {
			memmove(d, d + 12, 4);
			dlen = 4;
		}
		if (dlen == len && memcmp(a, d, len) == 0)
			return 1;
	}
	dgram_local_refresh();
	for (i = 0; i < dgram_local.dl_n; i++)
		if (dgram_local.dl_addr[i].len == len &&
		    memcmp(dgram_local.dl_addr[i].addr, a, len) == 0)
			return 1;
	return 0;
}
