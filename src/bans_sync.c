/*
 * Sets of bans sorted by address and the pure decisions that keep Redis
 * and the local deny list in step (bans_int.h); no I/O, so that the unit
 * tests can drive every case.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bans_int.h"
#include "quota.h"

void
bans_set_init(struct bans_set *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->bs_max = max;
}

void
bans_set_clear(struct bans_set *s)
{
	free(s->bs_v);
	s->bs_v = NULL;
	s->bs_n = s->bs_cap = 0;
}

int
bans_later(time_t a, time_t b)
{
	if (b == 0)
		return 0;
	return a == 0 || a > b;
}

/* The index of <key> in <s>, or where it would go (as ~index). */
static long
bans_set_pos(const struct bans_set *s, const struct srckey *key)
{
	size_t	lo = 0, hi = s->bs_n, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(&s->bs_v[mid].be_key, key, sizeof(*key));
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ~(long)lo;
}

const struct bans_entry *
bans_set_find(const struct bans_set *s, const struct srckey *key)
{
	long	i = bans_set_pos(s, key);

	return i >= 0 ? &s->bs_v[i] : NULL;
}

int
bans_set_put(struct bans_set *s, const struct srckey *key, time_t until)
{
	struct bans_entry	*v;
	long			 i = bans_set_pos(s, key);
	size_t			 at, cap;

	if (i >= 0) {
		if (bans_later(until, s->bs_v[i].be_until))
			s->bs_v[i].be_until = until;
		return 0;
	}
	if (s->bs_n >= s->bs_max)
		return -1;
	if (s->bs_n == s->bs_cap) {
		cap = s->bs_cap == 0 ? 64 : s->bs_cap * 2;
		if ((v = reallocarray(s->bs_v, cap, sizeof(*v))) == NULL)
			return -1;
		s->bs_v = v;
		s->bs_cap = cap;
	}
	at = (size_t)~i;
	memmove(&s->bs_v[at + 1], &s->bs_v[at],
	    (s->bs_n - at) * sizeof(s->bs_v[0]));
	s->bs_v[at].be_key = *key;
	s->bs_v[at].be_until = until;
	s->bs_n++;
	return 0;
}

int
bans_set_del(struct bans_set *s, const struct srckey *key)
{
	long	i = bans_set_pos(s, key);

	if (i < 0)
		return 0;
	memmove(&s->bs_v[i], &s->bs_v[i + 1],
	    (s->bs_n - (size_t)i - 1) * sizeof(s->bs_v[0]));
	s->bs_n--;
	return 1;
}

static int
bans_set_walk_cb(const struct srckey *key, time_t until, void *arg)
{
	return bans_set_put(arg, key, until) == -1;
}

int
bans_set_from_list(struct bans_set *s, time_t now)
{
	s->bs_n = 0;
	if (quota_deny_walk(now, bans_set_walk_cb, s) == -1)
		return -1;
	return 0;
}

/* Is a ban until <until> alive at <now>? */
static int
bans_alive(time_t until, time_t now)
{
	return until == 0 || until > now;
}

void
bans_diff(const struct bans_set *local, const struct bans_set *known,
    time_t now, bans_op_fn op, void *arg)
{
	const struct bans_entry	*e, *k;
	size_t			 i;

	for (i = 0; i < local->bs_n; i++) {
		e = &local->bs_v[i];
		k = bans_set_find(known, &e->be_key);
		if (k == NULL || bans_later(e->be_until, k->be_until))
			op(BANS_PUSH_BAN, &e->be_key, e->be_until, arg);
	}
	for (i = 0; i < known->bs_n; i++) {
		k = &known->bs_v[i];
		/* Gone by expiry is no news: Redis expires it too. */
		if (bans_alive(k->be_until, now) &&
		    bans_set_find(local, &k->be_key) == NULL)
			op(BANS_PUSH_UNBAN, &k->be_key, k->be_until, arg);
	}
}

/* Did this gate lift <k> while away, and no one banned it for longer? */
static int
bans_lifted_here(const struct bans_entry *k, const struct bans_set *local,
    const struct bans_set *remote, time_t now)
{
	const struct bans_entry	*r;

	if (!bans_alive(k->be_until, now) ||
	    bans_set_find(local, &k->be_key) != NULL)
		return 0;
	/* Lifted in Redis already, or a ban as long: tell the others. */
	r = bans_set_find(remote, &k->be_key);
	return r == NULL || !bans_later(r->be_until, k->be_until);
}

void
bans_reconcile(const struct bans_set *local, const struct bans_set *known,
    const struct bans_set *remote, const struct bans_set *tombs,
    time_t now, bans_op_fn op, void *arg)
{
	const struct bans_entry	*e, *k, *r;
	size_t			 i;

	for (i = 0; i < known->bs_n; i++) {
		k = &known->bs_v[i];
		if (bans_lifted_here(k, local, remote, now))
			op(BANS_PUSH_UNBAN, &k->be_key, k->be_until, arg);
	}
	for (i = 0; i < remote->bs_n; i++) {
		r = &remote->bs_v[i];
		e = bans_set_find(local, &r->be_key);
		k = bans_set_find(known, &r->be_key);
		if (!bans_alive(r->be_until, now) ||
		    (k != NULL && bans_lifted_here(k, local, remote, now)))
			continue;
		if (e == NULL || bans_later(r->be_until, e->be_until))
			op(BANS_APPLY_BAN, &r->be_key, r->be_until, arg);
	}
	for (i = 0; i < local->bs_n; i++) {
		e = &local->bs_v[i];
		r = bans_set_find(remote, &e->be_key);
		if (r != NULL) {
			if (bans_later(e->be_until, r->be_until))
				op(BANS_PUSH_BAN, &e->be_key, e->be_until,
				    arg);
		} else if (bans_set_find(known, &e->be_key) != NULL &&
		    bans_set_find(tombs, &e->be_key) != NULL)
			op(BANS_LIFT, &e->be_key, e->be_until, arg);
		else
			op(BANS_PUSH_BAN, &e->be_key, e->be_until, arg);
	}
}
