/*
 * How many FAIL records refused datagrams get.  Each service has a fixed
 * set-associative table of the addresses it recorded lately (hashed with
 * a secret seed, so that a sender cannot pick addresses that push one
 * another out); a full set forgets its oldest entry.  One token bucket
 * holds the whole daemon to FAILRATE_RATE records a second, and a timer
 * armed by the first record left out writes one summary line.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "failrate.h"
#include "log.h"
#include "quota.h"

struct fail_seen {
	struct fail_entry {
		struct srckey	fe_key;
		time_t		fe_when;	/* 0: free */
	} fs_set[FAILRATE_SETS][FAILRATE_WAYS];
};

static struct {
	uint32_t	 fr_seed;
	int		 fr_started;	/* fr_tokens holds a value */
	double		 fr_tokens;
	double		 fr_refill;	/* time of the last refill */
	uint64_t	 fr_repeated;
	uint64_t	 fr_limited;
	struct event	*fr_timer;
} failrate;

/* The set of <key>: FNV-1a over the seed and the address. */
static unsigned
failrate_set(const struct srckey *key)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	if (failrate.fr_seed == 0)
		failrate.fr_seed = arc4random() | 1;
	for (i = 0; i < 4; i++)
		h = (h ^ ((failrate.fr_seed >> (i * 8)) & 0xff)) * 16777619u;
	for (i = 0; i < sizeof(key->sk_addr); i++)
		h = (h ^ key->sk_addr[i]) * 16777619u;
	return h % FAILRATE_SETS;
}

int
failrate_seen(struct fail_seen **tabp, const struct srckey *key, time_t now,
    int note)
{
	struct fail_entry	*set, *e, *oldest = NULL;
	size_t			 i;

	if (*tabp == NULL && (*tabp = calloc(1, sizeof(**tabp))) == NULL)
		return -1;
	set = (*tabp)->fs_set[failrate_set(key)];
	for (i = 0; i < FAILRATE_WAYS; i++) {
		e = &set[i];
		if (e->fe_when != 0 && memcmp(&e->fe_key, key,
		    sizeof(*key)) == 0) {
			/* A clock set back does not silence an address. */
			if (now >= e->fe_when &&
			    now - e->fe_when < FAILRATE_REPEAT_SECS)
				return 1;
			oldest = e;
			break;
		}
		if (oldest == NULL || e->fe_when < oldest->fe_when)
			oldest = e;
	}
	if (note) {
		oldest->fe_key = *key;
		/* 0 marks a free entry. */
		oldest->fe_when = now != 0 ? now : 1;
	}
	return 0;
}

/* Take a token from the daemon's bucket at <fnow>; 1 if there was one. */
static int
failrate_token(double fnow)
{
	double	t;

	if (!failrate.fr_started) {
		failrate.fr_started = 1;
		failrate.fr_tokens = FAILRATE_BURST;
		failrate.fr_refill = fnow;
	}
	t = failrate.fr_tokens;
	if (fnow > failrate.fr_refill)
		t += (fnow - failrate.fr_refill) * FAILRATE_RATE;
	if (t > FAILRATE_BURST)
		t = FAILRATE_BURST;
	failrate.fr_refill = fnow;
	if (t < 1.0) {
		failrate.fr_tokens = t;
		return 0;
	}
	failrate.fr_tokens = t - 1.0;
	return 1;
}

enum failrate_verdict
failrate_take(struct fail_seen **tabp, const struct srckey *key, time_t now,
    double fnow)
{
	if (failrate_seen(tabp, key, now, 0) == 1) {
		failrate.fr_repeated++;
		return FAILRATE_REPEATED;
	}
	/*
	 * Only a written record silences the address: one left out by the
	 * rate may be written when its sender comes back.
	 */
	if (!failrate_token(fnow)) {
		failrate.fr_limited++;
		return FAILRATE_LIMITED;
	}
	(void)failrate_seen(tabp, key, now, 1);
	return FAILRATE_LOG;
}

void
failrate_counts(uint64_t *repeated, uint64_t *limited)
{
	*repeated = failrate.fr_repeated;
	*limited = failrate.fr_limited;
	failrate.fr_repeated = failrate.fr_limited = 0;
}

/* The summary interval is over: say what was left out in it. */
static void
failrate_summary_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	repeated, limited;

	(void)fd;
	(void)what;
	(void)arg;
	failrate_counts(&repeated, &limited);
	if (repeated + limited == 0)
		return;
	log_warnx("refused datagrams: %llu FAIL records not written in the "
	    "last %d seconds (%llu from addresses recorded in the last %d "
	    "seconds, %llu over the limit of %d records a second)",
	    (unsigned long long)(repeated + limited), FAILRATE_SUMMARY_SECS,
	    (unsigned long long)repeated, FAILRATE_REPEAT_SECS,
	    (unsigned long long)limited, FAILRATE_RATE);
}

void
failrate_arm(struct event_base *base)
{
	struct timeval	tv = { FAILRATE_SUMMARY_SECS, 0 };

	/*
	 * Called for each record left out: a failure here is not logged
	 * (that would be a line per datagram); the counts wait for the next
	 * call that succeeds, or for the shutdown.
	 */
	if (failrate.fr_timer == NULL && (failrate.fr_timer = evtimer_new(base,
	    failrate_summary_cb, NULL)) == NULL)
		return;
	if (!evtimer_pending(failrate.fr_timer, NULL))
		(void)evtimer_add(failrate.fr_timer, &tv);
}

void
failrate_shutdown(void)
{
	/* What the last interval left out is still told. */
	failrate_summary_cb(-1, 0, NULL);
	if (failrate.fr_timer != NULL)
		event_free(failrate.fr_timer);
	failrate.fr_timer = NULL;
	failrate.fr_started = 0;
	failrate.fr_repeated = failrate.fr_limited = 0;
}
