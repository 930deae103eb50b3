/*
 * The addresses this machine holds: whether an interface has a given
 * address, asked when a configuration is checked and when a listening
 * socket is bound (in the root process, before any sandbox).
 */
#ifndef PORTGATE_LOCALADDR_H
#define PORTGATE_LOCALADDR_H

struct sockaddr;

/*
 * Does an interface of this machine hold <sa> (IPv4 or IPv6)?  An address
 * inside the network of a loopback interface counts (127.0.0.0/8 on
 * Linux), since the kernel accepts it there.  Returns 1 if held, 0 if
 * not, -1 if the interfaces cannot be listed (errno set) or <sa> is of
 * another family.
 */
int	localaddr_held(const struct sockaddr *sa);

#endif
