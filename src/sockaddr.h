/*
 * Socket address helpers: print, compare and normalise struct sockaddr
 * values of both families.
 */
#ifndef PORTGATE_SOCKADDR_H
#define PORTGATE_SOCKADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define SOCKADDR_STRLEN	64	/* an address, for sockaddr_ntop() */

/* Numeric host of <sa> into <buf> ("127.0.0.1", "::1"); returns <buf>. */
const char	*sockaddr_ntop(const struct sockaddr *sa, char *buf, size_t len);
/* The port of <sa> in host order, 0 for other families. */
int		 sockaddr_port(const struct sockaddr *sa);
/*
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the plain IPv4
 * address, in place; *<len> is updated.  Other addresses are unchanged.
 */
void		 sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len);
/* "[::1]:80" or "127.0.0.1:80" for logs. */
const char	*sockaddr_ntop_port(const struct sockaddr *sa, char *buf,
		    size_t len);

#endif
