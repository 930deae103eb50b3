/*
 * The SENSOR deny list (quota_deny(), quota_denied()), in memory that the
 * master maps before its first worker and every worker shares: a ban
 * holds in every worker and survives a reload's new generation and a
 * worker's replacement.  An open-addressing table of QUOTA_MAX_DENIED
 * entries (twice that many slots), under a spin lock that is only ever
 * tried a bounded number of times: a worker that holds it forever (a
 * compromised one) makes the others skip the list, never hang.
 *
 * The master reads and changes it too (bans.c: the state file, Redis,
 * portgatectl), and trusts nothing in it: every walk is bounded by the
 * table's size, a slot in an unknown state is skipped, and a lock held too
 * long makes the master try again at its next turn.  dt_version counts
 * the changes (a ban added, extended or lifted), so that the master can
 * tell from a timer, without the lock, whether to look.
 */
#include <sys/mman.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quota.h"

#define DENY_SLOTS	(2 * QUOTA_MAX_DENIED)
#define DENY_SPINS	100000	/* tries of the lock before giving up */

enum deny_state { DENY_FREE = 0, DENY_USED, DENY_GONE };

struct deny_slot {
	int32_t		ds_state;
	struct srckey	ds_key;
	int64_t		ds_until;	/* 0: forever */
};

struct deny_table {
	atomic_flag		dt_lock;
	_Atomic uint64_t	dt_version;	/* changes, see above */
	int32_t			dt_used;	/* DENY_USED slots */
	int32_t			dt_gone;	/* DENY_GONE slots */
	struct deny_slot	dt_slot[DENY_SLOTS];
};

static struct deny_table	*deny_table;

int
quota_deny_share(void)
{
	void	*p;

	if (deny_table != NULL)
		return 0;
	p = mmap(NULL, sizeof(*deny_table), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	deny_table = p;
	atomic_flag_clear(&deny_table->dt_lock);
	atomic_init(&deny_table->dt_version, 0);
	return 0;
}

/* The table, made private on first use when nobody shared one. */
static struct deny_table *
deny_lock(void)
{
	long	i;

	if (deny_table == NULL) {
		if ((deny_table = calloc(1, sizeof(*deny_table))) == NULL)
			return NULL;
		atomic_flag_clear(&deny_table->dt_lock);
		atomic_init(&deny_table->dt_version, 0);
	}
	for (i = 0; i < DENY_SPINS; i++)
		if (!atomic_flag_test_and_set_explicit(&deny_table->dt_lock,
		    memory_order_acquire))
			return deny_table;
	return NULL;
}

static void
deny_unlock(struct deny_table *t)
{
	atomic_flag_clear_explicit(&t->dt_lock, memory_order_release);
}

/* The first slot of <key>'s probe sequence (FNV-1a of the address). */
static size_t
deny_hash(const struct srckey *key)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < sizeof(key->sk_addr); i++)
		h = (h ^ key->sk_addr[i]) * 16777619u;
	return h % DENY_SLOTS;
}

/* The slot holding <key>, or -1. */
static long
deny_find(const struct deny_table *t, const struct srckey *key)
{
	size_t	i, s = deny_hash(key);

	for (i = 0; i < DENY_SLOTS; i++, s = (s + 1) % DENY_SLOTS) {
		if (t->dt_slot[s].ds_state == DENY_FREE)
			return -1;
		if (t->dt_slot[s].ds_state == DENY_USED &&
		    memcmp(&t->dt_slot[s].ds_key, key, sizeof(*key)) == 0)
			return (long)s;
	}
	return -1;
}

static void
deny_remove(struct deny_table *t, size_t s)
{
	t->dt_slot[s].ds_state = DENY_GONE;
	t->dt_used--;
	t->dt_gone++;
}

/* Drop expired entries, and tombstones when they clog the probes. */
static void
deny_expire(struct deny_table *t, time_t now)
{
	struct deny_slot	*old;
	size_t			 s;

	for (s = 0; s < DENY_SLOTS; s++)
		if (t->dt_slot[s].ds_state == DENY_USED &&
		    t->dt_slot[s].ds_until != 0 &&
		    t->dt_slot[s].ds_until <= now)
			deny_remove(t, s);
	if (t->dt_gone < DENY_SLOTS / 4 ||
	    (old = malloc(sizeof(t->dt_slot))) == NULL)
		return;
	/* Put the living back without tombstones. */
	memcpy(old, t->dt_slot, sizeof(t->dt_slot));
	memset(t->dt_slot, 0, sizeof(t->dt_slot));
	t->dt_gone = 0;
	for (s = 0; s < DENY_SLOTS; s++) {
		size_t	i = deny_hash(&old[s].ds_key);

		if (old[s].ds_state != DENY_USED)
			continue;
		while (t->dt_slot[i].ds_state != DENY_FREE)
			i = (i + 1) % DENY_SLOTS;
		t->dt_slot[i] = old[s];
	}
	free(old);
}

/* A change others should see: a ban added, extended or lifted. */
static void
deny_changed(struct deny_table *t)
{
	atomic_fetch_add_explicit(&t->dt_version, 1, memory_order_relaxed);
}

/*
 * Ban <key> until <until> (0: forever) in the locked <t>, extending an
 * existing ban, never shortening it.  0, or -1 when the table is full.
 */
static int
deny_add(struct deny_table *t, const struct srckey *key, int64_t until,
    time_t now)
{
	long	f;
	size_t	s;

	if ((f = deny_find(t, key)) != -1) {
		if (t->dt_slot[f].ds_until != 0 &&
		    (until == 0 || until > t->dt_slot[f].ds_until)) {
			t->dt_slot[f].ds_until = until;
			deny_changed(t);
		}
		return 0;
	}
	if (t->dt_used >= QUOTA_MAX_DENIED ||
	    t->dt_used + t->dt_gone >= DENY_SLOTS - 1)
		deny_expire(t, now);
	if (t->dt_used >= QUOTA_MAX_DENIED ||
	    t->dt_used + t->dt_gone >= DENY_SLOTS - 1)
		return -1;
	s = deny_hash(key);
	while (t->dt_slot[s].ds_state == DENY_USED)
		s = (s + 1) % DENY_SLOTS;
	if (t->dt_slot[s].ds_state == DENY_GONE)
		t->dt_gone--;
	t->dt_slot[s].ds_state = DENY_USED;
	t->dt_slot[s].ds_key = *key;
	t->dt_slot[s].ds_until = until;
	t->dt_used++;
	deny_changed(t);
	return 0;
}

void
quota_deny(const struct srckey *key, int minutes, time_t now)
{
	struct deny_table	*t;
	int64_t			 until = minutes < 0 ? 0 :
				    (int64_t)now + (int64_t)minutes * 60;

	if ((t = deny_lock()) == NULL)
		return;
	(void)deny_add(t, key, until, now);
	deny_unlock(t);
}

int
quota_deny_until(const struct srckey *key, time_t until)
{
	struct deny_table	*t;
	time_t			 now = time(NULL);
	int			 rc;

	if (until != 0 && until <= now)
		return 0;
	if ((t = deny_lock()) == NULL)
		return -1;
	rc = deny_add(t, key, (int64_t)until, now);
	deny_unlock(t);
	return rc;
}

int
quota_undeny(const struct srckey *key)
{
	struct deny_table	*t;
	long			 f;

	if ((t = deny_lock()) == NULL)
		return 0;
	if ((f = deny_find(t, key)) == -1) {
		deny_unlock(t);
		return 0;
	}
	/* An expired ban is gone already: nothing others need to hear. */
	if (t->dt_slot[f].ds_until != 0 &&
	    t->dt_slot[f].ds_until <= time(NULL)) {
		deny_remove(t, (size_t)f);
		deny_unlock(t);
		return 0;
	}
	deny_remove(t, (size_t)f);
	deny_changed(t);
	deny_unlock(t);
	return 1;
}

uint64_t
quota_deny_version(void)
{
	if (deny_table == NULL)
		return 0;
	return atomic_load_explicit(&deny_table->dt_version,
	    memory_order_relaxed);
}

int
quota_deny_walk(time_t now, int (*cb)(const struct srckey *key,
    time_t until, void *arg), void *arg)
{
	struct deny_table	*t;
	struct deny_slot	*live;
	size_t			 s, n = 0, i;

	/* A copy, so that <cb> may change the list (and takes no lock). */
	if ((live = calloc(QUOTA_MAX_DENIED, sizeof(*live))) == NULL)
		return -1;
	if ((t = deny_lock()) == NULL) {
		free(live);
		return -1;
	}
	for (s = 0; s < DENY_SLOTS && n < QUOTA_MAX_DENIED; s++) {
		if (t->dt_slot[s].ds_state != DENY_USED ||
		    t->dt_slot[s].ds_until < 0 ||
		    (t->dt_slot[s].ds_until != 0 &&
		    t->dt_slot[s].ds_until <= now))
			continue;
		live[n++] = t->dt_slot[s];
	}
	deny_unlock(t);
	for (i = 0; i < n; i++)
		if (cb(&live[i].ds_key, (time_t)live[i].ds_until, arg) != 0) {
			i++;
			break;
		}
	free(live);
	return (int)i;
}

int
quota_denied(const struct srckey *key, time_t now)
{
	struct deny_table	*t;
	long			 f;
	int			 denied = 0;

	if (deny_table != NULL && deny_table->dt_used == 0)
		return 0;
	if ((t = deny_lock()) == NULL)
		return 0;
	if ((f = deny_find(t, key)) != -1) {
		if (t->dt_slot[f].ds_until == 0 ||
		    t->dt_slot[f].ds_until > now)
			denied = 1;
		/*
		 * Over at <now>: lifted only when it is over by the clock
		 * too (--explain and portgatectl explain ask about other
		 * times than now, and must change nothing).
		 */
		else if (t->dt_slot[f].ds_until <= time(NULL))
			deny_remove(t, (size_t)f);
	}
	deny_unlock(t);
	return denied;
}

void
quota_deny_clear(void)
{
	struct deny_table	*t;

	if ((t = deny_lock()) == NULL)
		return;
	memset(t->dt_slot, 0, sizeof(t->dt_slot));
	t->dt_used = t->dt_gone = 0;
	deny_changed(t);
	deny_unlock(t);
}
