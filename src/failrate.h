/*
 * FAIL records of refused datagrams.  The source of a datagram is
 * whatever the sender wrote, so a flood can come from every port of many
 * addresses: a record is written once per address (not per port) of a
 * sender per service within FAILRATE_REPEAT_SECS, at most FAILRATE_RATE a
 * second (burst FAILRATE_BURST) across the daemon, and what is left out is
 * counted and told in one summary line per FAILRATE_SUMMARY_SECS.
 */
#ifndef PORTGATE_FAILRATE_H
#define PORTGATE_FAILRATE_H

#include <stdint.h>
#include <time.h>

#define FAILRATE_REPEAT_SECS	60	/* one record per address and service */
#define FAILRATE_RATE		10	/* records a second, whole daemon */
#define FAILRATE_BURST		20
#define FAILRATE_SUMMARY_SECS	10	/* at most one summary line this often */
#define FAILRATE_SETS		64	/* per-service table: sets ... */
#define FAILRATE_WAYS		4	/* ... of this many addresses */

struct event_base;
struct fail_seen;	/* a service's table; fixed size, freed with free() */
struct srckey;

enum failrate_verdict {
	FAILRATE_LOG,		/* write the record */
	FAILRATE_REPEATED,	/* the address was recorded lately: count it */
	FAILRATE_LIMITED	/* over the daemon's rate: count it */
};

/*
 * Is a FAIL record for a datagram from address <key> to the service of
 * table <*tabp> (allocated on first use) to be written at <now> (whole
 * seconds) / <fnow>?  Notes what it answers: the address as recorded for
 * FAILRATE_LOG, the count for the summary otherwise.  Pure bookkeeping,
 * no I/O.  Without memory for the table, only the rate applies.
 */
enum failrate_verdict failrate_take(struct fail_seen **tabp,
	    const struct srckey *key, time_t now, double fnow);
/*
 * The table half of failrate_take(): 1 if <key> was recorded in <*tabp>
 * less than FAILRATE_REPEAT_SECS before <now>; else 0, and when <note> the
 * address is recorded at <now>, in place of the oldest entry of its set
 * if that is full.  -1 when the table cannot be allocated.
 */
int	failrate_seen(struct fail_seen **tabp, const struct srckey *key,
	    time_t now, int note);
/*
 * Records left out since the last call, by reason; the counts restart
 * at 0.
 */
void	failrate_counts(uint64_t *repeated, uint64_t *limited);
/*
 * Make sure a summary line (log_warnx) follows within
 * FAILRATE_SUMMARY_SECS on <base>; call after a record was left out.
 */
void	failrate_arm(struct event_base *base);
/*
 * Write the summary of what is still counted, then drop the timer and
 * the counts (shutdown, tests).
 */
void	failrate_shutdown(void);

#endif
