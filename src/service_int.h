/*
 * What the two halves of the services share: service.c (sockets, events,
 * reconciling with a configuration) and service_list.c (accessors and the
 * views over the running list).  Not for other modules.
 */
#ifndef PORTGATE_SERVICE_INT_H
#define PORTGATE_SERVICE_INT_H

#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "fdbudget.h"

struct service {
	TAILQ_ENTRY(service)	 sv_entry;
	struct service_conf	*sv_conf;	/* current settings */
	struct config		*sv_cf;		/* holds sv_conf */
	int			 sv_fd;		/* this process's socket */
	int			 sv_group[CONF_WORKERS_MAX]; /* one per worker */
	int			 sv_ngroup;	/* 1: no reuseport group */
	struct event		*sv_ev;		/* its socket is readable */
	struct event		*sv_timer;	/* re-enable after a pause */
	int			 sv_refcnt;	/* the list + each session */
	int			 sv_retired;	/* no longer configured */
	int			 sv_paused;
	int			 sv_disabled;	/* portgatectl disable */
	int			 sv_fastexits;	/* servers that died at once */
	struct fdbudget_waiter	 sv_fdwait;	/* paused for descriptors */
	struct event		*sv_cps_timer;	/* logs the end of cps blocks */
	/* Counters, kept across reloads. */
	struct quota		*sv_quota;	/* cps, instances, per source */
	struct udp_flows	*sv_flows;	/* dgram redirect */
	void			*sv_admit;	/* the admission's data */
	uint64_t		 sv_accepted;
	uint64_t		 sv_refused;
	struct metrics_service	*sv_metrics;	/* by id, kept by metrics.c */
	time_t			 sv_started;
};

/*
 * Name the redirect targets of <sv> in its metrics (at every load of its
 * configuration: a reload may add targets).
 */
void	service_count_targets(struct service *sv);

TAILQ_HEAD(service_list, service);
/* The running services, in the order they were configured. */
extern struct service_list	services;

#endif
