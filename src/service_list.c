/*
 * The services' accessors and the views over the running list: counts,
 * the SIGUSR1 dump, the sockets an upgrade passes on, tcpmux's services.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "fdbudget.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "quota.h"
#include "service.h"
#include "service_int.h"

const struct service_conf *
service_conf(const struct service *sv)
{
	return sv->sv_conf;
}

struct config *
service_config(const struct service *sv)
{
	return sv->sv_cf;
}

struct quota *
service_quota(const struct service *sv)
{
	return sv->sv_quota;
}

struct udp_flows *
service_flows(const struct service *sv)
{
	return sv->sv_flows;
}

void
service_count_accepted(struct service *sv)
{
	sv->sv_accepted++;
	metrics_accepted(sv->sv_metrics);
}

void
service_count_targets(struct service *sv)
{
	const struct service_conf	*sc = sv->sv_conf;
	int				 i;

	/* Only a stream forward connects (relay_connect.c). */
	if (sc->sc_socktype != SOCK_STREAM)
		return;
	for (i = 0; i < sc->sc_nredirect; i++)
		metrics_target(sv->sv_metrics, sc->sc_redirect[i].rt_host,
		    sc->sc_redirect[i].rt_port);
}

void
service_count_refused(struct service *sv, enum metrics_reason why)
{
	sv->sv_refused++;
	metrics_refused(sv->sv_metrics, why);
}

void
service_count_unaccepted(struct service *sv)
{
	if (sv->sv_accepted > 0)
		sv->sv_accepted--;
	sv->sv_refused++;
	/* Counters never go down: it stays in accepted_total too. */
	metrics_refused(sv->sv_metrics, METRICS_TLS_HANDSHAKE);
}

struct metrics_service *
service_metrics(const struct service *sv)
{
	return sv->sv_metrics;
}

void *
service_admit(const struct service *sv)
{
	return sv->sv_admit;
}

void
service_set_admit(struct service *sv, void *data)
{
	sv->sv_admit = data;
}

void
service_dump(void)
{
	struct service	*sv;
	char		 desc[128];
	uint64_t	 accepted, refused;

	TAILQ_FOREACH(sv, &services, sv_entry) {
		/* The workers count: the totals are in shared memory. */
		accepted = sv->sv_accepted;
		refused = sv->sv_refused;
		if (sv->sv_metrics != NULL)
			metrics_totals(sv->sv_metrics, &accepted, &refused);
		log_info("dump: service %s (%s:%d) on %s%s: %d running, "
		    "%llu accepted, %llu refused", sv->sv_conf->sc_id,
		    sv->sv_conf->sc_file, sv->sv_conf->sc_line,
		    listen_describe(sv->sv_fd, sv->sv_conf, desc, sizeof(desc)),
		    sv->sv_paused ? " (paused)" : "",
		    quota_running(sv->sv_quota),
		    (unsigned long long)accepted, (unsigned long long)refused);
	}
}

struct service *
service_next(struct service *sv)
{
	return sv == NULL ? TAILQ_FIRST(&services) : TAILQ_NEXT(sv, sv_entry);
}

struct service *
service_find_id(const char *id)
{
	struct service	*sv;

	TAILQ_FOREACH(sv, &services, sv_entry)
		if (strcmp(sv->sv_conf->sc_id, id) == 0)
			return sv;
	return NULL;
}

void
service_pause(struct service *sv, int seconds)
{
	struct timeval	tv = { seconds, 0 };

	if (sv->sv_retired)
		return;
	sv->sv_paused = 1;
	if (sv->sv_ev != NULL)
		(void)event_del(sv->sv_ev);
	if (seconds > 0)
		(void)evtimer_add(sv->sv_timer, &tv);
}

void
service_resume(struct service *sv)
{
	if (sv->sv_retired || !sv->sv_paused)
		return;
	sv->sv_paused = 0;
	fdbudget_unwait(&sv->sv_fdwait);
	(void)evtimer_del(sv->sv_timer);
	if (sv->sv_ev != NULL && !sv->sv_disabled)
		(void)event_add(sv->sv_ev, NULL);
}

void
service_set_disabled(struct service *sv, int off)
{
	sv->sv_disabled = off != 0;
	if (sv->sv_ev == NULL)
		return;		/* not this process's to watch */
	if (off)
		(void)event_del(sv->sv_ev);
	else if (!sv->sv_paused && !sv->sv_retired)
		(void)event_add(sv->sv_ev, NULL);
}

int
service_disabled(const struct service *sv)
{
	return sv->sv_disabled;
}

const char *
service_state(const struct service *sv, time_t now, char *buf, size_t len)
{
	int	n;

	if (sv->sv_disabled)
		(void)snprintf(buf, len, "disabled");
	else if (sv->sv_quota != NULL &&
	    (n = quota_cps_blocked(sv->sv_quota, now)) > 0)
		(void)snprintf(buf, len, "paused by cps for %d s", n);
	else if (sv->sv_paused)
		(void)snprintf(buf, len, "paused");
	else
		(void)snprintf(buf, len, "enabled");
	return buf;
}

const char *
service_describe(const struct service *sv, char *buf, size_t len)
{
	return listen_describe(sv->sv_fd, sv->sv_conf, buf, len);
}

int
service_listen_fds(int *fds, int max)
{
	struct service	*sv;
	int		 n = 0;

	int		 i;

	TAILQ_FOREACH(sv, &services, sv_entry)
		for (i = 0; i < sv->sv_ngroup && n < max; i++)
			fds[n++] = sv->sv_group[i];
	return n;
}

int
service_count(void)
{
	struct service	*sv;
	int		 n = 0;

	TAILQ_FOREACH(sv, &services, sv_entry)
		n++;
	return n;
}

/*
 * Is <port> the port of a UDP service of this daemon?  A reply sent to it
 * on one of this host's addresses would reach that service, so that two
 * services could answer each other for ever (admit.c refuses such
 * senders).  Services are few: a walk of the list costs less than keeping
 * a second index in step with reloads.
 */
int
service_dgram_port(int port)
{
	struct service	*sv;

	if (port <= 0)
		return 0;
	TAILQ_FOREACH(sv, &services, sv_entry)
		if (sv->sv_conf->sc_socktype == SOCK_DGRAM &&
		    sv->sv_conf->sc_port == port)
			return 1;
	return 0;
}

int
service_muxed(const struct service_conf *sc)
{
	return (sc->sc_type & (STYPE_TCPMUX | STYPE_TCPMUXPLUS)) != 0;
}

struct service *
service_tcpmux_next(struct service *sv)
{
	sv = sv == NULL ? TAILQ_FIRST(&services) : TAILQ_NEXT(sv, sv_entry);
	while (sv != NULL && (sv->sv_retired || !service_muxed(sv->sv_conf)))
		sv = TAILQ_NEXT(sv, sv_entry);
	return sv;
}
