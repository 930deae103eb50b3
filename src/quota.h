/*
 * Rates and counts: the cps window of a service, its running sessions, the
 * per-source counts and token buckets, and the global deny list that
 * SENSOR services fill.  Every table is bounded.
 */
#ifndef PORTGATE_QUOTA_H
#define PORTGATE_QUOTA_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <time.h>

#define QUOTA_MAX_SOURCES	16384	/* per service */
#define QUOTA_MAX_DENIED	10240	/* sensor deny list (xinetd's size) */
/*
 * per_source_cps of a dgram built-in that answers (echo, daytime, time,
 * chargen) and has none set: a forged source gets at most this many
 * replies sent to it.
 */
#define QUOTA_DGRAM_RATE	10	/* replies a second */
#define QUOTA_DGRAM_BURST	20

struct service_conf;
struct quota;

/*
 * A source as counted: IPv4 /32, or IPv6 masked to per_source_prefix6 of
 * <sc> (the full address when <sc> is NULL).
 */
struct srckey {
	uint8_t		sk_addr[16];
};

void	quota_key(const struct service_conf *sc, const struct sockaddr *sa,
	    struct srckey *key);

/*
 * The per-source token bucket of <sc> into <rate> (tokens a second, 0:
 * none) and <burst>: its per_source_cps, or QUOTA_DGRAM_RATE and
 * QUOTA_DGRAM_BURST for a dgram built-in that answers and has none.
 */
void	quota_rate(const struct service_conf *sc, double *rate,
	    double *burst);

struct quota	*quota_new(void);
void		 quota_free(struct quota *);

/*
 * Count one arrival for cps at <now>.  Returns 1 when this arrival makes
 * more than sc_cps_rate in one second (the service is then blocked for
 * sc_cps_wait seconds), 2 when it does so while the service is blocked
 * already (the block is extended), else 0.
 */
int	quota_cps_arrival(struct quota *, const struct service_conf *sc,
	    time_t now);
/* Seconds the service stays blocked by cps after <now>, 0 if not. */
int	quota_cps_blocked(const struct quota *, time_t now);

/* Sessions running now. */
int	quota_running(const struct quota *);
/* Sessions running now from the source <key>. */
int	quota_source_count(const struct quota *, const struct srckey *key);
/* Would the token bucket of <key> give a token at <now>?  1 or 0. */
int	quota_rate_ok(const struct quota *, const struct service_conf *sc,
	    const struct srckey *key, double now);

/*
 * Take a slot for an admitted session from <key>: one running session,
 * one for the source, one token.  Returns 0; -1 when the source table
 * is full of busy sources; -2 when another worker took the last of the
 * service's instances since the gate looked (the client is then refused).
 */
int	quota_take(struct quota *, const struct service_conf *sc,
	    const struct srckey *key, double now);
/* Give back what quota_take() took; call exactly once per take. */
void	quota_release(struct quota *, const struct srckey *key);
/* Spend a token without holding a slot (datagrams); same returns. */
int	quota_spend(struct quota *, const struct service_conf *sc,
	    const struct srckey *key, double now);

/* Put <key> on the global deny list for <minutes> (-1: forever). */
void	quota_deny(const struct srckey *key, int minutes, time_t now);
/* Is <key> on the deny list at <now>?  1 or 0. */
int	quota_denied(const struct srckey *key, time_t now);
/*
 * Ban <key> until <until> (0: forever), or extend its ban to then; a ban
 * is never shortened (quota_undeny() lifts it).  0 (also when <until> is
 * past: nothing to do), or -1 when the list is full or busy.
 */
int	quota_deny_until(const struct srckey *key, time_t until);
/* Lift the ban of <key>: 1 if there was one, 0 if not. */
int	quota_undeny(const struct srckey *key);
/*
 * Call <cb> with every ban alive at <now> (<until> 0: forever), from a
 * copy taken under the lock, so that <cb> may change the list; stops when
 * <cb> returns non-zero.  Returns how many calls were made, or -1 when
 * the list is busy or no memory is left (then <cb> was not called).
 */
int	quota_deny_walk(time_t now, int (*cb)(const struct srckey *key,
	    time_t until, void *arg), void *arg);
/*
 * A counter that every change of the list moves (a ban added, extended,
 * lifted, the list cleared; not an expiry): cheap to poll, no lock.
 */
uint64_t	quota_deny_version(void);
/* Forget the deny list (tests). */
void	quota_deny_clear(void);
/*
 * Keep the deny list in memory shared with the workers forked from now on
 * (the master, once, at start; denylist.c).  0, or -1 with errno set.
 */
int	quota_deny_share(void);

#endif
