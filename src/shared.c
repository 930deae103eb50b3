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
	atomic_int	sc_rows[SHARED_ROWS];
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
	shared_rows_used[0] = 1;	/* the master's: it counts nothing */
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
	int			 r;

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
		for (r = 0; r < SHARED_ROWS; r++)
			atomic_store_explicit(&c->sc_rows[r], 0,
			    memory_order_relaxed);
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

	if (delta < 0 && atomic_load_explicit(v, memory_order_relaxed) <
	    -delta)
		delta = -atomic_load_explicit(v, memory_order_relaxed);
	atomic_fetch_add_explicit(v, delta, memory_order_relaxed);
}

int
shared_counter_sum(const struct shared_counter *c)
{
	int	r, n = 0, v;

	for (r = 0; r < SHARED_ROWS; r++) {
		v = atomic_load_explicit(&c->sc_rows[r],
		    memory_order_relaxed);
		/* A scribbled negative count must not unlock a limit. */
		if (v > 0)
			n += v;
	}
	return n;
}

int
shared_counter_mine(const struct shared_counter *c)
{
	return atomic_load_explicit(&c->sc_rows[shared_row],
	    memory_order_relaxed);
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

	if (row <= 0 || row >= SHARED_ROWS || shared_cells == NULL)
		return;
	for (i = 0; i < SHARED_CELLS; i++)
		atomic_store_explicit(&shared_cells[i].sc_rows[row], 0,
		    memory_order_relaxed);
	shared_rows_used[row] = 0;
}

void
shared_row_set(int row)
{
	if (row > 0 && row < SHARED_ROWS)
		shared_row = row;
}
