/*
 * Running services: the listening side of each configured service, kept
 * across reloads when its identity stays, with the counters that go with it.
 * What a service does with a client is not its business: the daemon wires
 * the admission's entry points in as hooks (service_init()).
 */
#ifndef PORTGATE_SERVICE_H
#define PORTGATE_SERVICE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

#include "metrics.h"

struct config;
struct dgram_dst;
struct event_base;
struct quota;
struct service;		/* opaque: one running service */
struct service_conf;
struct udp_flows;

/* What the services call for their clients (admit.c, session.c). */
struct service_hooks {
	/* A stream client <fd> from <sa> was accepted on <sv>. */
	void	(*sh_stream)(struct service *sv, int fd, struct sockaddr *sa,
		    socklen_t salen);
	/* A datagram for <sv> from <from>, sent to <dst> (dgram.h). */
	void	(*sh_dgram)(struct service *sv, const void *data, size_t len,
		    struct sockaddr *from, socklen_t fromlen,
		    const struct dgram_dst *dst);
	/* <sv> hands its socket to a server, and the socket is readable. */
	void	(*sh_handoff)(struct service *sv);
	/* Descriptors that one stream client of <sc> holds at most. */
	int	(*sh_fds)(const struct service_conf *sc);
	/* Free what the admission hung on a service (service_set_admit()). */
	void	(*sh_admit_free)(void *data);
};

/*
 * Use <base> for every listener and <hooks> (kept, not copied) for the
 * clients.  Start-up only: fatal() on failure.
 */
void	service_init(struct event_base *base,
	    const struct service_hooks *hooks);
/*
 * Make the running services those of <cf>: services with the same identity
 * keep their sockets and counters and take the new settings, removed ones
 * stop listening (their sessions finish), new ones start.  Returns the
 * number of services that could not start (each logged), or -1 with
 * nothing changed when there was no memory to compare (logged).
 */
int	service_reconcile(struct config *cf);
/* What the last service_reconcile() did. */
struct reconcile_counts {
	int	rc_added;
	int	rc_kept;
	int	rc_removed;
	int	rc_failed;
};
void	service_reconciled(struct reconcile_counts *);
/* Who watches which socket (service_owned()). */
enum service_role {
	SERVICE_ALL,		/* one process does all (the default) */
	SERVICE_MASTER,		/* only hand-offs (wait = yes): no client byte */
	SERVICE_WORKER		/* all but hand-offs */
};
/*
 * Set the role of this process; a worker (number <index> of its
 * generation), just forked from the master, starts watching its sockets
 * (its own of each reuseport group) and closes the others.
 */
void	service_set_role(enum service_role role, int index);
/*
 * Services made from now on listen with <n> sockets in a reuseport
 * group, one per worker (hand-offs and tcpmux's have one).
 */
void	service_set_workers(int n);
/* Stop listening everywhere (shutdown). */
void	service_shutdown(void);
void	service_ref(struct service *);
void	service_unref(struct service *);
/* The settings of <sv>, and the configuration that holds them. */
const struct service_conf *service_conf(const struct service *sv);
struct config	*service_config(const struct service *sv);
/* The limits of <sv>: cps, instances, per source. */
struct quota	*service_quota(const struct service *sv);
/* The UDP flows of a dgram forwarding service <sv>; NULL for others. */
struct udp_flows *service_flows(const struct service *sv);
/* Count a client of <sv> admitted, or refused (shown by service_dump()). */
void	service_count_accepted(struct service *sv);
void	service_count_refused(struct service *sv, enum metrics_reason why);
/*
 * A client of <sv> counted admitted was refused after all (its TLS
 * handshake failed): count it refused instead.
 */
void	service_count_unaccepted(struct service *sv);
/* The metrics counters of <sv> (NULL: not counted). */
struct metrics_service *service_metrics(const struct service *sv);
/*
 * What the admission keeps for <sv>: NULL until set; freed with the
 * service by the sh_admit_free hook.
 */
void	*service_admit(const struct service *sv);
void	service_set_admit(struct service *sv, void *data);
/*
 * Pause (or resume) accepting on <sv> (descriptors, wait = yes); <seconds>
 * 0 pauses until service_resume().
 */
void	service_pause(struct service *, int seconds);
void	service_resume(struct service *);
/*
 * Does <sc> hand its listening socket to a server (wait = yes, or a dgram
 * service that spawns a server)?
 */
int	service_hands_off(const struct service_conf *sc);
/* The socket of <sv> (for a hand-off, and the replies of UDP flows). */
int	service_fd(const struct service *sv);
/* The server holding the socket of <sv> exited after <seconds>. */
void	service_handoff_done(struct service *sv, long seconds);
/*
 * cps blocked <sv> for <seconds> from now (<extended>: it was blocked
 * already): log when it starts and when it ends.
 */
void	service_cps_tripped(struct service *sv, int seconds, int extended);
/* Log the state of every service (SIGUSR1). */
void	service_dump(void);
/* The listening sockets of the services, at most <max>: their number. */
int	service_listen_fds(int *fds, int max);
/* The running service after <sv> (NULL: the first), or NULL. */
struct service	*service_next(struct service *sv);
/* The running service of id <id>, or NULL. */
struct service	*service_find_id(const char *id);
/*
 * Stop (<off> 1) or resume (0) accepting on <sv> for portgatectl: its
 * socket stays bound and its sessions go on; a pause for cps or
 * descriptors ends without resuming a disabled service.
 */
void	service_set_disabled(struct service *sv, int off);
int	service_disabled(const struct service *sv);
/*
 * The state of <sv> at <now> in words ("enabled", "disabled", "paused by
 * cps for 7 s", ...) into <buf>.
 */
const char *service_state(const struct service *sv, time_t now, char *buf,
	    size_t len);
/* Describe the sockets of <sv> ("tcp 127.0.0.1 port 23") into <buf>. */
const char *service_describe(const struct service *sv, char *buf,
	    size_t len);
/* Number of services listening. */
int	service_count(void);
/*
 * Does <sc> have no socket of its own, being reached through the tcpmux
 * built-in (type TCPMUX or TCPMUXPLUS)?
 */
int	service_muxed(const struct service_conf *sc);
/*
 * The running service after <sv> (NULL: the first) reached through
 * tcpmux, or NULL after the last.
 */
struct service	*service_tcpmux_next(struct service *sv);
/* Is <port> that of a running UDP service (of any kind)?  1 or 0. */
int	service_dgram_port(int port);

#endif
