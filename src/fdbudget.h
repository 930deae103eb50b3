/*
 * The descriptor budget: how many descriptors the daemon may still open
 * for clients.  The limit is RLIMIT_NOFILE at start.  Out of it a reserve
 * is kept for the daemon's own needs that no client is charged for (log
 * files and reloads, ident and name queries, a client between accept and
 * admission), and the descriptors the daemon holds for itself (listeners,
 * logs, the event loop) are counted when the budget is calibrated.  What
 * clients hold is counted by fdbudget_charge()/fdbudget_take() and
 * fdbudget_release().
 *
 * Two classes of use: a TCP session may use the budget down to the
 * reserve; what can be evicted or done without (UDP flows, splice pipes)
 * only while a quarter of the budget stays free, so that a flood of
 * datagrams never stops TCP accepts.  A listener that waits for
 * descriptors is woken from the event loop as soon as a release makes
 * room for it, not on a timer.
 */
#ifndef PORTGATE_FDBUDGET_H
#define PORTGATE_FDBUDGET_H

#include <sys/queue.h>

struct event_base;

enum fdbudget_class {
	FDB_SESSION,		/* a TCP client: down to the reserve */
	FDB_SPARE		/* a UDP flow or a pipe: leaves room for TCP */
};

/* What the summary line counts. */
enum fdbudget_event {
	FDB_DEFERRED,		/* a listener waits for descriptors */
	FDB_EXHAUSTED,		/* accept failed with EMFILE or ENFILE */
	FDB_EVICTED,		/* a UDP flow made room for a new one */
	FDB_REFUSED,		/* a UDP flow could not be opened */
	FDB_NEVENTS
};

/* Someone waiting for <fw_need> descriptors; embed it, leave it alone. */
struct fdbudget_waiter {
	TAILQ_ENTRY(fdbudget_waiter) fw_entry;
	int			 fw_queued;	/* 1 waiting, 2 being woken */
	int			 fw_need;
	void			(*fw_cb)(void *);
	void			*fw_arg;
};

/*
 * Size the budget from RLIMIT_NOFILE, and wake waiters and log summaries
 * from <base>.  0, or -1 if the loop's events cannot be made.
 */
int	fdbudget_init(struct event_base *base);
/* Stop the loop's events (shutdown); the counts stay. */
void	fdbudget_shutdown(void);
/*
 * Size the budget for a limit of <limit> descriptors of which <own> are
 * the daemon's (the reserve follows from <limit>), taken as given until
 * fdbudget_recount(); fdbudget_init() and the tests call it.
 */
void	fdbudget_size(long limit, int own);
/*
 * The daemon's own descriptors changed (listeners after a reload, or
 * EMFILE showed the count was wrong): count them again before the next
 * decision.  They are also counted again, at most once a second, while
 * the budget says no.
 */
void	fdbudget_recount(void);

long	fdbudget_limit(void);
int	fdbudget_reserve(void);
/* The daemon's own descriptors, and those charged to clients. */
int	fdbudget_own(void);
int	fdbudget_used(void);
/* Descriptors a take of <class> may still have (may be negative). */
int	fdbudget_free(enum fdbudget_class);
/*
 * May <n> more descriptors of <class> be used?  1 or 0.  A TCP session
 * always may while no client holds any: nothing would wake it otherwise.
 */
int	fdbudget_can(int n, enum fdbudget_class);
/* Charge <n> if fdbudget_can(); 0, or -1 (nothing charged). */
int	fdbudget_take(int n, enum fdbudget_class);
/* Charge <n> whatever is left (a check was made just before). */
void	fdbudget_charge(int n);
/* Give <n> back; waiters that now fit are woken from the loop. */
void	fdbudget_release(int n);

/*
 * Call <cb>(<arg>) once, from the loop, when <need> descriptors of class
 * FDB_SESSION are free again.  Waiting again replaces the first wait.
 */
void	fdbudget_wait(struct fdbudget_waiter *, int need, void (*cb)(void *),
	    void *arg);
/* Stop waiting (harmless when not waiting). */
void	fdbudget_unwait(struct fdbudget_waiter *);

/*
 * Count <ev>: the first one logs a line at once, the following ones are
 * summed into one line per FDBUDGET_LOG_SECS.
 */
void	fdbudget_note(enum fdbudget_event ev);
#define FDBUDGET_LOG_SECS	10

#endif
