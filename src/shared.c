/*
 * Shared counters; see shared.h.  The bookkeeping (which cells and rows are
 * in use) stays in the master's private memory: a worker can write to the
 * cells, never to what decides where the master writes.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"

struct shared_counter {
	atomic_int	sc_total;		/* the sum of the rows */
	atomic_int	sc_rows[SHARED_ROWS];
	/* A window of arrivals, for a rate over all workers (cps). */
	atomic_llong	sc_second;
	atomic_int	sc_count;
	atomic_llong	sc_until;
};

static struct shared_counter	*shared_cells;	/* NULL: not shared */
static unsigned char		 shared_used[SHARED_CELLS];
static unsigned char		 shared_rows_used[SHARED_ROWS];
static int			 shared_row;	/* this process's row */

int
shared_init(void)
{
	void	*p;

	if (shared_cells != NULL)
		return 0;
	p = mmap(NULL, sizeof(struct shared_counter) * SHARED_CELLS,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shared_cells = p;
	shared_rows_used[0] = 1;	/* the master's: hand-offs, -limit */
	return 0;
}

static int
shared_in_area(const struct shared_counter *c)
{
	return shared_cells != NULL && c >= shared_cells &&
	    c < shared_cells + SHARED_CELLS;
}

struct shared_counter *
shared_counter_new(void)
{
	struct shared_counter	*c;
	size_t			 i;

	if (shared_cells == NULL)
		return calloc(1, sizeof(struct shared_counter));
	/*
	 * A cell freed while a draining worker still counts in it is not
	 * taken again until that count is back to zero.
	 */
	for (i = 0; i < SHARED_CELLS; i++) {
		if (shared_used[i] || shared_counter_sum(&shared_cells[i]) != 0)
			continue;
		c = &shared_cells[i];
		memset(c, 0, sizeof(*c));
		shared_used[i] = 1;
		return c;
	}
	errno = ENOSPC;
	return NULL;
}

void
shared_counter_free(struct shared_counter *c)
{
	if (c == NULL)
		return;
	if (shared_in_area(c))
		shared_used[c - shared_cells] = 0;
	else
		free(c);
}

void
shared_counter_add(struct shared_counter *c, int delta)
{
	atomic_int	*v = &c->sc_rows[shared_row];
	int		 mine = atomic_load_explicit(v, memory_order_relaxed);

	if (delta < 0 && mine < -delta)
		delta = -mine;
	atomic_fetch_add_explicit(v, delta, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sc_total, delta, memory_order_relaxed);
}

int
shared_counter_take(struct shared_counter *c, int limit)
{
	int	t = atomic_load_explicit(&c->sc_total, memory_order_relaxed);

	/* Two workers at the last slot: one gets it. */
	do {
		if (t >= limit)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(&c->sc_total, &t,
	    t + 1, memory_order_relaxed, memory_order_relaxed));
	atomic_fetch_add_explicit(&c->sc_rows[shared_row], 1,
	    memory_order_relaxed);
	return 0;
}

int
shared_counter_sum(const struct shared_counter *c)
{
	int	n = atomic_load_explicit(&c->sc_total, memory_order_relaxed);

	/* A scribbled negative count must not unlock a limit. */
	return n > 0 ? n : 0;
}

int
shared_counter_mine(const struct shared_counter *c)
{
	return atomic_load_explicit(&c->sc_rows[shared_row],
	    memory_order_relaxed);
}

int
shared_rate_arrival(struct shared_counter *c, long long now, int rate,
    int wait)
{
	long long	sec = atomic_load_explicit(&c->sc_second,
			    memory_order_relaxed);
	int		blocked;

	if (sec != now && atomic_compare_exchange_strong_explicit(
	    &c->sc_second, &sec, now, memory_order_relaxed,
	    memory_order_relaxed))
		atomic_store_explicit(&c->sc_count, 0, memory_order_relaxed);
	if (atomic_fetch_add_explicit(&c->sc_count, 1,
	    memory_order_relaxed) + 1 <= rate)
		return 0;
	atomic_store_explicit(&c->sc_count, 0, memory_order_relaxed);
	blocked = shared_rate_blocked(c, now) > 0;
	atomic_store_explicit(&c->sc_until, now + wait, memory_order_relaxed);
	return blocked ? 2 : 1;
}

int
shared_rate_blocked(const struct shared_counter *c, long long now)
{
	long long	until = atomic_load_explicit(&c->sc_until,
			    memory_order_relaxed);

	return until > now ? (int)(until - now) : 0;
}

int
shared_row_take(void)
{
	int	r;

	for (r = 1; r < SHARED_ROWS; r++)
		if (!shared_rows_used[r]) {
			shared_rows_used[r] = 1;
			return r;
		}
	return -1;
}

void
shared_row_release(int row)
{
	size_t	i;
	int	v;

	if (row <= 0 || row >= SHARED_ROWS || shared_cells == NULL)
		return;
	for (i = 0; i < SHARED_CELLS; i++) {
		v = atomic_exchange_explicit(&shared_cells[i].sc_rows[row], 0,
		    memory_order_relaxed);
		if (v > 0)
			atomic_fetch_sub_explicit(&shared_cells[i].sc_total, v,
			    memory_order_relaxed);
	}
	shared_rows_used[row] = 0;
}

void
shared_row_set(int row)
{
	if (row > 0 && row < SHARED_ROWS)
		shared_row = row;
}
