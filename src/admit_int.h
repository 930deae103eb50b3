/*
 * What the files of the admission share: the arrival (a client on its
 * way through the gate, on the stack) and the steps one file takes for
 * another.  admit.c runs the gate and makes sessions; admit_name.c waits
 * for a verified reverse name and asks libwrap again with it; admit_mux.c
 * is what tcpmux needs from the admission; admit_dgram.c takes datagrams
 * and hand-offs; admit_proxy.c reads PROXY headers first.  Not for other
 * modules.
 */
#ifndef PORTGATE_ADMIT_INT_H
#define PORTGATE_ADMIT_INT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <time.h>

#include "gate.h"
#include "sockaddr.h"

struct event_base;
struct service;
struct service_conf;
struct session;

/* A client on its way through the gate. */
struct arrival {
	struct sockaddr_storage	 ar_peer;
	socklen_t		 ar_peerlen;
	char			 ar_addr[SOCKADDR_STRLEN];
	char			 ar_country[3];
	struct gate_client	 ar_client;
	time_t			 ar_now;
	double			 ar_fnow;
	int			 ar_mux;	/* came through tcpmux */
	int			 ar_named;	/* its name was looked up */
	int			 ar_libwrap;	/* -1: not asked yet */
	int			 ar_libwrap_name; /* the answer read the name */
};

/* admit.c */
/* The base given to admit_init(), for queries and timers. */
struct event_base *admit_base(void);
/* Fill <a> for a client at <sa> of service <sc>. */
void	admit_arrival(struct arrival *a, const struct service_conf *sc,
	    const struct sockaddr *sa, socklen_t salen);
/* Log a FAIL record with <reason> for <a>. */
void	admit_fail(const struct service_conf *sc, const struct arrival *a,
	    const char *reason);
/* Is the FAIL record of datagram sender <a> of <sv> to be left out? */
int	admit_fail_repeated(struct service *sv, const struct arrival *a);
/* Run the gate for <a> at <sv>; on refusal log FAIL.  1 if admitted. */
int	admit_gate(struct service *sv, struct arrival *a);
/* A client touched a SENSOR service: deny it everywhere for a while. */
void	admit_sensor(struct service *sv, struct arrival *a);
/* The session of an admitted arrival, or NULL (<fd> closed). */
struct session *admit_session(struct service *sv, int fd,
	    const struct arrival *a);
/* A stream client of <sv> with everything the gate needs. */
void	admit_gated(struct service *sv, int fd, struct arrival *a);
/* A stream client of <sv> known to come from <sa>. */
void	admit_client(struct service *sv, int fd, const struct sockaddr *sa,
	    socklen_t salen);

/* admit_name.c */
/* hosts.allow and hosts.deny for <a> of <sc>: 1 if they admit it. */
int	admit_libwrap(const struct service_conf *sc, struct arrival *a);
/* Look up the reverse name of <a> before the gate. */
void	admit_wait_name(struct service *sv, int fd, const struct arrival *a);
/* Drop the clients waiting for their name, closing them (stop). */
void	admit_name_shutdown(void);

/* admit_mux.c */
/* A client that the gate of tcpmux service <sv> admitted: read its line. */
void	admit_mux(struct service *sv, int fd, const struct arrival *a);
/* Tell refused client <fd> of <sc>: banner_fail, or the mux's "-" line. */
void	admit_banner_fail(const struct service_conf *sc, int fd,
	    const struct arrival *a);
/* "+Go" to a TCPMUXPLUS client of the mux: 0, or -1 (logged, <fd> closed). */
int	admit_mux_go(const struct service_conf *sc, int fd,
	    const struct arrival *a);

/* admit_proxy.c */
/* A client of accept_proxy service <sv>: its PROXY header first. */
void	admit_proxy(struct service *sv, int fd, struct sockaddr *sa,
	    socklen_t salen);

#endif
