/*
 * What the two halves of the metrics share (metrics.c: the table of
 * services and the plain counters; metrics_hist.c: histograms and the
 * back-end families).  Not for other modules.
 */
#ifndef PORTGATE_METRICS_INT_H
#define PORTGATE_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct evbuffer;

/* Buckets of a histogram at most, +Inf not included. */
#define METRICS_HIST_BUCKETS	8

/* The buckets of one kind of histogram: upper bounds and their labels. */
struct metrics_hist_spec {
	size_t		 hs_n;
	uint64_t	 hs_le[METRICS_HIST_BUCKETS];	/* microseconds */
	const char	*hs_label[METRICS_HIST_BUCKETS];
};

/*
 * Observations per bucket (not cumulative; the last one is +Inf only), so
 * that a scrape reads a consistent set: the count is their sum.
 */
struct metrics_hist {
	uint64_t	 mh_bucket[METRICS_HIST_BUCKETS + 1];
	uint64_t	 mh_sum;	/* microseconds */
};

struct metrics_service {
	char		*ms_id;
	size_t		 ms_index;	/* in the table */
	uint64_t	 ms_accepted;
	uint64_t	 ms_refused[METRICS_NREASONS];
	int64_t		 ms_sessions;
	uint64_t	 ms_bytes_in;
	uint64_t	 ms_bytes_out;
	uint64_t	 ms_spawn_failures;
	struct metrics_hist ms_duration;
	struct metrics_hist ms_connect;
	struct metrics_hist ms_handshake;
	/* By target slot (metrics_hist.c); the last is "other". */
	uint64_t	 ms_connect_failures[METRICS_TARGETS_MAX + 1];
};

#define METRICS_ADD(field, n)	\
	((void)__atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED))
#define METRICS_GET(field)	__atomic_load_n(&(field), __ATOMIC_RELAXED)

/* metrics.c */
/* The services this process knows, and the one at <i>. */
size_t	metrics_count(void);
struct metrics_service *metrics_at(size_t i);
/* Append <s> as a label value (escaped); 0 or -1. */
int	metrics_label(struct evbuffer *buf, const char *s);
/* The HELP and TYPE lines of family <name>; 0 or -1. */
int	metrics_head(struct evbuffer *buf, const char *name, const char *type,
	    const char *help);
/* "<name>{service="<id>"" without the closing brace; 0 or -1. */
int	metrics_start(struct evbuffer *buf, const char *name,
	    const struct metrics_service *ms);

/* metrics_hist.c */
/* Count one observation of <us> microseconds in <h> of buckets <hs>. */
void	metrics_hist_add(struct metrics_hist *h,
	    const struct metrics_hist_spec *hs, uint64_t us);
/*
 * The samples of histogram <name> for <ms>: _bucket lines, _sum (in
 * seconds) and _count.  0 or -1.
 */
int	metrics_hist_format(struct evbuffer *buf, const char *name,
	    const struct metrics_service *ms, const struct metrics_hist *h,
	    const struct metrics_hist_spec *hs);
/* The buckets of session durations (seconds). */
extern const struct metrics_hist_spec metrics_hist_session;
/* The buckets of connects and handshakes (a millisecond to seconds). */
extern const struct metrics_hist_spec metrics_hist_fast;
/* The back-end families: connect failures, connect and TLS durations. */
int	metrics_hist_families(struct evbuffer *buf);
/* Forget the target names (metrics_clear()). */
void	metrics_targets_clear(void);

#endif
