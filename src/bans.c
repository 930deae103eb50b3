/*
 * The master's timer over the ban list: when the list changed
 * (quota_deny_version()), save the state file (at most once a second) and
 * tell Redis (bans_redis.c); at start load the file, at a clean stop save
 * it.  Writing
 * the file blocks the master for an fsync at most once a second; the
 * workers, which serve the clients, never wait for it.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "build-config.h"

#include "bans.h"
#include "bans_int.h"
#include "banstate.h"
#include "config.h"
#include "log.h"
#include "quota.h"

static struct {
	struct event	*bs_timer;
	char		*bs_path;	/* NULL: no state file */
	uint64_t	 bs_saved;	/* the version last saved */
	time_t		 bs_last;	/* when */
	int		 bs_failing;	/* the last save failed (logged) */
} bans;

/* The state file <cf> asks for: NULL for none. */
static const char *
bans_path(const struct config *cf)
{
	const char	*p = cf->cf_bans.bc_state_file;

	if (p == NULL)
		p = getenv("PORTGATE_BAN_STATE_FILE");
	if (p == NULL || p[0] == '\0')
		p = PORTGATE_BANSTATE;
	if (strcasecmp(p, "none") == 0)
		return NULL;
	return p;
}

/* Save the list if it changed; a failure is logged once until it works. */
static void
bans_save(time_t now)
{
	uint64_t	v = quota_deny_version();

	if (bans.bs_path == NULL || v == bans.bs_saved)
		return;
	if (banstate_save(bans.bs_path, now) == -1) {
		if (!bans.bs_failing)
			log_warn("ban state file %s: cannot write it (the "
			    "bans hold until the daemon stops); trying again",
			    bans.bs_path);
		bans.bs_failing = 1;
	} else {
		if (bans.bs_failing)
			log_info("ban state file %s: written again",
			    bans.bs_path);
		bans.bs_failing = 0;
		bans.bs_saved = v;
	}
	bans.bs_last = now;
}

static void
bans_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { 0, BANS_TICK_MS * 1000 };
	time_t		now = time(NULL);

	(void)fd;
	(void)what;
	(void)arg;
	bans_redis_tick(now);
	if (now < bans.bs_last || now - bans.bs_last >= BANS_SAVE_SECS)
		bans_save(now);
	(void)evtimer_add(bans.bs_timer, &tv);
}

void
bans_start(struct event_base *base, const struct config *cf)
{
	struct timeval	 tv = { 0, BANS_TICK_MS * 1000 };
	const char	*path = bans_path(cf);
	int		 n;

	if (path != NULL) {
		if ((bans.bs_path = strdup(path)) == NULL)
			fatal("bans");
		if ((n = banstate_load(path, time(NULL))) > 0)
			log_info("ban state file %s: %d ban%s loaded", path,
			    n, n == 1 ? "" : "s");
	}
	/* What was just loaded is what the file holds. */
	bans.bs_saved = quota_deny_version();
	bans.bs_last = time(NULL);
	if ((bans.bs_timer = evtimer_new(base, bans_tick_cb, NULL)) == NULL ||
	    evtimer_add(bans.bs_timer, &tv) == -1)
		fatalx("bans: cannot create the timer");
	/* Without Redis the gate still serves, on its own list. */
	if (bans_redis_start(base, &cf->cf_bans) == -1)
		log_warnx("the ban list is not shared through Redis");
}

void
bans_stop(void)
{
	bans_redis_stop();
	if (bans.bs_timer != NULL)
		event_free(bans.bs_timer);
	bans.bs_timer = NULL;
	if (bans.bs_path != NULL) {
		/* The loop is over: save even if saved less than 1 s ago. */
		bans_save(time(NULL));
		free(bans.bs_path);
		bans.bs_path = NULL;
	}
}

void
bans_forget(void)
{
	bans_redis_forget();
	if (bans.bs_timer != NULL)
		event_free(bans.bs_timer);
	bans.bs_timer = NULL;
	free(bans.bs_path);
	bans.bs_path = NULL;
}

const char *
bans_state_file(void)
{
	return bans.bs_path;
}
