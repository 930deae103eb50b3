/*
 * What bans.c, bans_sync.c and bans_redis.c share: sets of bans sorted by
 * address (what the list holds, what Redis is known to hold), the pure
 * decisions that keep Redis and the local list in step, and the Redis
 * client's entry points for the master's timer.
 */
#ifndef PORTGATE_BANS_INT_H
#define PORTGATE_BANS_INT_H

#include <stddef.h>
#include <time.h>

#include "quota.h"

struct bans_conf;
struct event_base;

/* One ban: an address and its expiry (0: for ever). */
struct bans_entry {
	struct srckey	be_key;
	time_t		be_until;
};

/* Bans sorted by address, each address once, at most bs_max. */
struct bans_set {
	struct bans_entry	*bs_v;
	size_t			 bs_n;
	size_t			 bs_cap;
	size_t			 bs_max;
};

void	bans_set_init(struct bans_set *, size_t max);
void	bans_set_clear(struct bans_set *);
/* The ban of <key>, or NULL. */
const struct bans_entry *bans_set_find(const struct bans_set *,
	    const struct srckey *key);
/*
 * Ban <key> until <until>, or extend its ban to then (never shortened).
 * 0, or -1 when the set is full or no memory is left.
 */
int	bans_set_put(struct bans_set *, const struct srckey *key,
	    time_t until);
/* Forget <key>; 1 if it was there. */
int	bans_set_del(struct bans_set *, const struct srckey *key);
/* The live bans of the deny list at <now>; 0, or -1. */
int	bans_set_from_list(struct bans_set *, time_t now);
/* Does a ban until <a> last longer than one until <b>? */
int	bans_later(time_t a, time_t b);

/* What the master does to bring Redis and its list in step. */
enum bans_op {
	BANS_PUSH_BAN,		/* write the ban to Redis, publish it */
	BANS_PUSH_UNBAN,	/* delete it in Redis, publish the lift */
	BANS_APPLY_BAN,		/* put Redis's ban on the local list */
	BANS_LIFT		/* lift the local ban (lifted elsewhere) */
};
typedef void	(*bans_op_fn)(enum bans_op, const struct srckey *key,
		    time_t until, void *arg);

/*
 * While connected: what Redis needs to hold <local> when it holds
 * <known> (what it was last told) at <now>: a push of each ban new or
 * longer, a lift of each ban gone before its expiry.
 */
void	bans_diff(const struct bans_set *local, const struct bans_set *known,
	    time_t now, bans_op_fn op, void *arg);
/*
 * After a time cut off: <remote> and <tombs> are Redis's bans and lifted
 * addresses now, <known> what it held when this gate last knew.  Redis's
 * bans are applied (unless this gate lifted the same ban while away); a
 * local ban Redis lacks is pushed, unless Redis knew it and it was lifted
 * elsewhere since (then it is lifted here); a ban lifted here while away
 * is lifted in Redis, unless someone banned it again for longer.
 */
void	bans_reconcile(const struct bans_set *local,
	    const struct bans_set *known, const struct bans_set *remote,
	    const struct bans_set *tombs, time_t now, bans_op_fn op,
	    void *arg);

/* bans_redis.c: 0, or -1 (logged) when Redis cannot be used at all. */
int	bans_redis_start(struct event_base *, const struct bans_conf *);
/* The master's timer: push changes of the list, check the connection. */
void	bans_redis_tick(time_t now);
void	bans_redis_stop(void);
void	bans_redis_forget(void);

#endif
