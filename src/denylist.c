/*
 * The SENSOR deny list (quota_deny(), quota_denied()), in memory that the
 * master maps before its first worker and every worker shares: a ban
 * holds in every worker and survives a reload's new generation and a
 * worker's replacement.  An open-addressing table of QUOTA_MAX_DENIED
 * entries (twice that many slots), under a spin lock that is only ever
 * tried a bounded number of times: a worker that holds it forever (a
 * compromised one) makes the others skip the list, never hang.  The
 * master never reads it.
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

void
quota_deny(const struct srckey *key, int minutes, time_t now)
{
	struct deny_table	*t;
	int64_t			 until = minutes < 0 ? 0 :
				    (int64_t)now + (int64_t)minutes * 60;
	long			 f;
	size_t			 s;

	if ((t = deny_lock()) == NULL)
		return;
	if ((f = deny_find(t, key)) != -1) {
		if (t->dt_slot[f].ds_until != 0 &&
		    (until == 0 || until > t->dt_slot[f].ds_until))
			t->dt_slot[f].ds_until = until;
		deny_unlock(t);
		return;
	}
	if (t->dt_used >= QUOTA_MAX_DENIED ||
	    t->dt_used + t->dt_gone >= DENY_SLOTS - 1)
		deny_expire(t, now);
	if (t->dt_used < QUOTA_MAX_DENIED &&
	    t->dt_used + t->dt_gone < DENY_SLOTS - 1) {
		s = deny_hash(key);
		while (t->dt_slot[s].ds_state == DENY_USED)
			s = (s + 1) % DENY_SLOTS;
		if (t->dt_slot[s].ds_state == DENY_GONE)
			t->dt_gone--;
		t->dt_slot[s].ds_state = DENY_USED;
		t->dt_slot[s].ds_key = *key;
		t->dt_slot[s].ds_until = until;
		t->dt_used++;
	}
	deny_unlock(t);
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
		if (t->dt_slot[f].ds_until != 0 &&
		    t->dt_slot[f].ds_until <= now)
			deny_remove(t, (size_t)f);
		else
			denied = 1;
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
	deny_unlock(t);
}
