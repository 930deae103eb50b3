/*
 * The master's side of the ban list (the SENSOR deny list of
 * denylist.c): kept over a restart in a state file (banstate.c) and shared
 * with other gates through Redis (bans_redis.c).  Workers add bans to the
 * shared list and decide from it alone; the master notices changes from
 * a timer (quota_deny_version()), so nothing on the accept path waits for
 * a disk or for Redis.
 */
#ifndef PORTGATE_BANS_H
#define PORTGATE_BANS_H

#include <stddef.h>

struct config;
struct event_base;

#define BANS_TICK_MS		200	/* how often the master looks */
#define BANS_SAVE_SECS		1	/* at most one save a second */

/*
 * At start, in the master, once the deny list is shared
 * (quota_deny_share()) and before the first worker: load the state file,
 * connect to Redis if <cf> names one, start the timer.
 */
void	bans_start(struct event_base *base, const struct config *cf);
/* At a clean stop: save the state file, close Redis, stop the timer. */
void	bans_stop(void);
/*
 * In a new worker: drop the master's timer and Redis connections (the
 * sockets are closed, nothing is written or sent).
 */
void	bans_forget(void);
/* Where the sharing through Redis stands. */
enum bans_redis_state {
	BANS_REDIS_OFF,		/* no redis in the configuration */
	BANS_REDIS_CONNECTING,	/* connecting, reading, reconciling */
	BANS_REDIS_UP,		/* connected, in step */
	BANS_REDIS_DOWN		/* cut off: the local list holds; retrying */
};
enum bans_redis_state	bans_redis_state(void);
/*
 * One line for portgatectl status into <buf>: "redis ADDR: connected
 * since T, N bans shared", "...: not connected since T (why); the local
 * ban list holds", "redis: not used".  Returns <buf>.
 */
const char	*bans_redis_status(char *buf, size_t len);
/* The state file in use, or NULL when none is kept. */
const char *bans_state_file(void);

#endif
