/*
 * What the two halves of the Redis client share: bans_redis.c (the
 * connections, their state, the messages) and bans_redis_sync.c (what is
 * written to Redis, the reading and the reconciliation after a time cut
 * off).
 */
#ifndef PORTGATE_BANS_REDIS_INT_H
#define PORTGATE_BANS_REDIS_INT_H

#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "bans.h"
#include "bans_int.h"
#include "banstate.h"

#define BR_BACKOFF_MIN		1	/* seconds before a new try ... */
#define BR_BACKOFF_MAX		30	/* ... doubling up to this */
#define BR_CONNECT_SECS		5	/* to connect and reconcile */
#define BR_PING_SECS		5	/* a PING this often, answered within */
#define BR_SCAN_COUNT		"1000"
#define BR_TOMB_MAX		(30 * 86400)	/* a lift's trace, at most */
#define BR_PASSWORD_MAX		512
#define BR_KEY_MAX		(64 + 8 + BANSTATE_ADDR_MAX)

struct bans_redis {
	struct event_base	*br_base;
	char			*br_addr;	/* as configured */
	char			*br_host;	/* or NULL: br_addr is a path */
	int			 br_port;
	char			*br_password;	/* or NULL */
	char			 br_prefix[80];
	char			 br_channel[96];
	redisAsyncContext	*br_cmd;
	redisAsyncContext	*br_sub;
	enum bans_redis_state	 br_state;
	enum bans_redis_state	 br_logged;	/* the last state logged */
	char			 br_why[160];	/* why it is down */
	time_t			 br_since;	/* of br_state */
	int			 br_backoff;
	struct event		*br_timer;	/* retry, or connect deadline */
	uint64_t		 br_version;	/* the list's, last pushed */
	struct bans_set		 br_known;	/* what Redis holds, we think */
	struct bans_set		 br_remote;	/* a reconcile's reading */
	struct bans_set		 br_tombs;
	int			 br_scan_full;
	time_t			 br_ping_sent;	/* 0: none pending */
	time_t			 br_ping_last;
	unsigned		 br_pushed;	/* by the last reconcile */
	unsigned		 br_applied;
};

extern struct bans_redis	bans_redis;

/* The state now, since now; the metric follows. */
void	bans_redis_set_state(enum bans_redis_state);
/* Close, keep the local list, try again later; logged once a change. */
void	bans_redis_down(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* A reply of a connection in use, not an error?  Else goes down; 0. */
int	bans_redis_reply_ok(redisAsyncContext *ac, redisReply *r,
	    const char *what);
/* A reply whose content does not matter, only that it is no error. */
void	bans_redis_reply_cb(redisAsyncContext *ac, void *reply, void *arg);

/* bans_redis_sync.c: a decision of bans_diff()/bans_reconcile(). */
void	bans_redis_op(enum bans_op op, const struct srckey *key,
	    time_t until, void *arg);
/* Read every key, then reconcile (subscribed already). */
void	bans_redis_read(void);

#endif
