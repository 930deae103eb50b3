/*
 * Counters for the metrics built-in: per service and for the daemon,
 * updated by plain increments on the data path (no lock, no allocation)
 * and formatted in the Prometheus text exposition format 0.0.4.  Pure:
 * no I/O and no logging; metrics_http.c serves the text.
 */
#ifndef PORTGATE_METRICS_H
#define PORTGATE_METRICS_H

#include <stdint.h>
#include <time.h>

#include "gate.h"

struct evbuffer;
struct metrics_service;

/* Why a client was refused: the reason label of refused_total. */
enum metrics_reason {
	METRICS_ONLY_FROM = 0,
	METRICS_NO_ACCESS,
	METRICS_ACCESS_TIMES,
	METRICS_COUNTRY,
	METRICS_CPS,
	METRICS_LOAD,
	METRICS_INSTANCES,
	METRICS_PER_SOURCE,
	METRICS_PER_SOURCE_CPS,
	METRICS_SENSOR,
	METRICS_LIBWRAP,
	METRICS_LOOP,		/* a datagram that could start a loop */
	METRICS_TLS_HANDSHAKE,
	METRICS_PROXY_FROM,
	METRICS_PROXY_PER_SOURCE,
	METRICS_PROXY_LIMIT,
	METRICS_TCPMUX_LIMIT,
	METRICS_NREASONS
};

/* Services counted at most; the rest are not. */
#define METRICS_SERVICES_MAX	1024

/*
 * The counters of service <id>, made on first use and kept (across
 * reloads: counters never go down) until metrics_clear(); NULL when
 * METRICS_SERVICES_MAX are kept already or on allocation failure.  Every
 * function below ignores a NULL handle.
 */
struct metrics_service *metrics_service(const char *id);
void	metrics_accepted(struct metrics_service *);
/* A refusal for <why>; a value out of the enum is ignored. */
void	metrics_refused(struct metrics_service *, enum metrics_reason why);
void	metrics_session_start(struct metrics_service *);
/* A session ended after <seconds>, having moved <in> and <out> bytes. */
void	metrics_session_end(struct metrics_service *, uint64_t in,
	    uint64_t out, long seconds);
void	metrics_spawn_failure(struct metrics_service *);

/* Redirect targets of a service with a label of their own; the rest: other. */
#define METRICS_TARGETS_MAX	8
/*
 * Give redirect target <host> port <port> of <ms> a label of its own, if
 * one of the METRICS_TARGETS_MAX is left (the master, when it loads a
 * configuration: the workers it forks then know the name).
 */
void	metrics_target(struct metrics_service *, const char *host,
	    const char *port);
/* A connect to <host> port <port> failed (or timed out). */
void	metrics_connect_failure(struct metrics_service *, const char *host,
	    const char *port);
/* Microseconds of the monotonic clock: the start of what is timed. */
uint64_t metrics_clock(void);
/* A connect to a target, started at <since>, succeeded now. */
void	metrics_connect_time(struct metrics_service *, uint64_t since);
/* A TLS handshake with a client, started at <since>, completed now. */
void	metrics_tls_time(struct metrics_service *, uint64_t since);

/* The configuration was loaded at <now> (start-up: not a reload). */
void	metrics_config_loaded(time_t now);
/* A reload ended: <ok> 1 if applied (at <now>), 0 if it failed. */
void	metrics_reload(int ok, time_t now);

/* The refusal reason of a gate verdict <r> decided by rule <rule>. */
enum metrics_reason metrics_gate_reason(enum gate_reason r,
	    const char *rule);
/* The reason named <word> ("proxy_from", ...); -1 if none is. */
int	metrics_reason_word(const char *word);
/* The label value of <r>, or NULL. */
const char *metrics_reason_name(enum metrics_reason r);

/*
 * Append the exposition text of every counter, for build <version>, to
 * <buf>.  Returns 0, or -1 when the buffer could not grow.
 */
int	metrics_format(struct evbuffer *buf, const char *version);
/* Forget every service and reset the daemon counters (tests). */
void	metrics_clear(void);
/*
 * Keep the counters in memory shared with the workers forked from now on
 * (the master, before its first service).  Returns 0, or -1 (errno).
 */
int	metrics_share(void);
/*
 * The clients of <ms> accepted and refused (any reason), over every
 * process since the id was first counted.
 */
void	metrics_totals(const struct metrics_service *ms, uint64_t *accepted,
	    uint64_t *refused);
/* What portgatectl status shows of a service: totals over every process. */
struct metrics_snap {
	uint64_t	mn_accepted;
	uint64_t	mn_refused_all;
	uint64_t	mn_refused[METRICS_NREASONS];
	int64_t		mn_sessions;
	uint64_t	mn_bytes_in;
	uint64_t	mn_bytes_out;
	uint64_t	mn_spawn_failures;
};
/* Read the counters of <ms> (all zero for NULL) into <out>. */
void	metrics_snapshot(const struct metrics_service *ms,
	    struct metrics_snap *out);
/* Sessions running now, over every service and process. */
long long metrics_sessions_all(void);
/* The number of worker processes serving (the master says). */
void	metrics_workers(int n);
/* Redis for the ban list: -1 not used (no metric), 0 cut off, 1 connected. */
void	metrics_redis(int connected);

#endif
