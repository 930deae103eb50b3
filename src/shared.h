/*
 * Counters that the master and every worker share: one anonymous shared
 * mapping made by the master before the first worker starts, so that a
 * service's running sessions are counted across workers and across
 * configuration generations (a reload starts new workers while the old
 * ones finish their sessions).  Each worker process adds to its own row;
 * a count is the sum of the rows, and the master zeroes the row of a
 * worker that died, which gives back every slot it held.
 *
 * Nothing in the mapping is trusted by the master: a compromised worker
 * can change counts (the limits of its own clients), never what the master
 * allocates, reads or frees.
 */
#ifndef PORTGATE_SHARED_H
#define PORTGATE_SHARED_H

#define SHARED_ROWS	64	/* worker processes alive at once, + 1 */
#define SHARED_CELLS	4096	/* counters at once (services, with reloads) */

struct shared_counter;

/*
 * Make the shared mapping (the master, once, before a worker starts).
 * Without it counters live in private memory (one process: tests, -t).
 * Returns 0, or -1 with errno set.
 */
int	shared_init(void);
/* A counter at zero, or NULL without memory or cells. */
struct shared_counter *shared_counter_new(void);
void	shared_counter_free(struct shared_counter *);
/* Add <delta> to this process's row; never below zero. */
void	shared_counter_add(struct shared_counter *, int delta);
/*
 * Add 1 to this process's row if the count is below <limit>, at once for
 * all processes (a compare-and-swap).  Returns 0, or -1 at the limit.
 */
int	shared_counter_take(struct shared_counter *, int limit);
/* The count over every row. */
int	shared_counter_sum(const struct shared_counter *);
/* This process's own part of the count. */
int	shared_counter_mine(const struct shared_counter *);

/*
 * One arrival at second <now> for a limit of <rate> a second over all
 * processes: 0 within it; 1 when it goes over (arrivals are then blocked
 * for <wait> seconds); 2 when it goes over while blocked already.
 */
int	shared_rate_arrival(struct shared_counter *, long long now, int rate,
	    int wait);
/* Seconds arrivals stay blocked after <now>, 0 if not. */
int	shared_rate_blocked(const struct shared_counter *, long long now);

/* The master: a free row for a new worker (1 .. SHARED_ROWS - 1), or -1. */
int	shared_row_take(void);
/* The master: the worker of <row> is gone; its counts go with it. */
void	shared_row_release(int row);
/* A worker: count in <row> from now on. */
void	shared_row_set(int row);

#endif
