/*
 * Running services: the listening side of each configured service, kept
 * across reloads when its identity stays, with the counters that go with it.
 */
#ifndef PORTGATE_SERVICE_H
#define PORTGATE_SERVICE_H

#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include "fdbudget.h"

struct config;
struct event;
struct event_base;
struct quota;
struct service_conf;
struct udp_flows;
struct fail_seen;

struct service {
	TAILQ_ENTRY(service)	 sv_entry;
	struct service_conf	*sv_conf;	/* current settings */
	struct config		*sv_cf;		/* holds sv_conf */
	int			 sv_fd;
	struct event		*sv_ev;		/* its socket is readable */
	struct event		*sv_timer;	/* re-enable after a pause */
	int			 sv_refcnt;	/* the list + each session */
	int			 sv_retired;	/* no longer configured */
	int			 sv_paused;
	int			 sv_fastexits;	/* hand-off servers that died at once */
	struct fdbudget_waiter	 sv_fdwait;	/* paused for descriptors */
	struct event		*sv_cps_timer;	/* logs the end of a cps block */
	/* Counters, kept across reloads. */
	struct quota		*sv_quota;	/* cps, instances, per source */
	struct udp_flows	*sv_flows;	/* dgram redirect */
	struct fail_seen	*sv_failseen;	/* dgram: FAIL logged lately */
	uint64_t		 sv_accepted;
	uint64_t		 sv_refused;
	time_t			 sv_started;
};

/* Use <base> for every listener. */
void	service_init(struct event_base *base);
/*
 * Make the running services those of <cf>: services with the same identity
 * keep their sockets and counters and take the new settings, removed ones
 * stop listening (their sessions finish), new ones start.  Returns the
 * number of services that could not start (each logged).
 */
int	service_reconcile(struct config *cf);
/* Stop listening everywhere (shutdown). */
void	service_shutdown(void);
void	service_ref(struct service *);
void	service_unref(struct service *);
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
/* The socket of <sv> (for a hand-off). */
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
struct event_base *service_base(void);
/* Number of services listening. */
int	service_count(void);
/* Is <port> that of a running UDP service (of any kind)?  1 or 0. */
int	service_dgram_port(int port);

#endif
