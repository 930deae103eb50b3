/*
 * Rates and counts.  Sources live in a red-black tree per service, with an
 * LRU list so that when the table is full the source idle the longest is
 * forgotten: a flood of addresses costs bounded memory.  A source with
 * running sessions is never evicted.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "quota.h"
#include "rbtree.h"
#include "shared.h"

struct source {
	RB_ENTRY(source)	 so_node;
	TAILQ_ENTRY(source)	 so_lru;	/* idle sources, oldest first */
	struct srckey		 so_key;
	int			 so_running;
	double			 so_tokens;
	double			 so_refill;	/* time of the last refill */
};

RB_HEAD(source_tree, source);

struct quota {
	struct source_tree	 li_sources;
	TAILQ_HEAD(, source)	 li_idle;
	int			 li_nsources;
	struct shared_counter	*li_running;	/* across workers */
};


static int
srckey_cmp(const struct srckey *a, const struct srckey *b)
{
	return memcmp(a->sk_addr, b->sk_addr, sizeof(a->sk_addr));
}

static int
source_cmp(struct source *a, struct source *b)
{
	return srckey_cmp(&a->so_key, &b->so_key);
}

PG_RB_GENERATE_STATIC(source_tree, source, so_node, source_cmp)

void
quota_key(const struct service_conf *sc, const struct sockaddr *sa,
    struct srckey *key)
{
	const struct sockaddr_in6	*sin6;
	int				 bits, i;

	memset(key, 0, sizeof(*key));
	if (sa->sa_family == AF_INET) {
		key->sk_addr[10] = key->sk_addr[11] = 0xff;
		memcpy(&key->sk_addr[12],
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return;
	}
	if (sa->sa_family != AF_INET6)
		return;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	memcpy(key->sk_addr, &sin6->sin6_addr, 16);
	if (sc == NULL || IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	bits = sc->sc_per_source_prefix6;
	for (i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		key->sk_addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

void
quota_rate(const struct service_conf *sc, double *rate, double *burst)
{
	*rate = sc->sc_per_source_cps_rate;
	*burst = sc->sc_per_source_cps_burst;
	if (*rate > 0)
		return;
	/* Every reply goes to a source the sender may have forged. */
	if (sc->sc_socktype == SOCK_DGRAM && sc->sc_nredirect == 0 &&
	    sc->sc_builtin != BUILTIN_NONE && sc->sc_builtin != BUILTIN_DISCARD &&
	    !(sc->sc_flags & SFLAG_SENSOR)) {
		*rate = QUOTA_DGRAM_RATE;
		*burst = QUOTA_DGRAM_BURST;
	} else
		*rate = *burst = 0;
}

struct quota *
quota_new(void)
{
	struct quota	*li;

	if ((li = calloc(1, sizeof(*li))) == NULL)
		return NULL;
	if ((li->li_running = shared_counter_new()) == NULL) {
		free(li);
		return NULL;
	}
	RB_INIT(&li->li_sources);
	TAILQ_INIT(&li->li_idle);
	return li;
}

void
quota_free(struct quota *li)
{
	struct source	*so;

	if (li == NULL)
		return;
	while ((so = RB_MIN(source_tree, &li->li_sources)) != NULL) {
		RB_REMOVE(source_tree, &li->li_sources, so);
		free(so);
	}
	shared_counter_free(li->li_running);
	free(li);
}

int
quota_cps_arrival(struct quota *li, const struct service_conf *sc,
    time_t now)
{
	if (sc->sc_cps_rate <= 0)
		return 0;
	/* Service-wide: every worker counts in the same window. */
	return shared_rate_arrival(li->li_running, (long long)now,
	    sc->sc_cps_rate, sc->sc_cps_wait);
}

int
quota_cps_blocked(const struct quota *li, time_t now)
{
	return shared_rate_blocked(li->li_running, (long long)now);
}

int
quota_running(const struct quota *li)
{
	return shared_counter_sum(li->li_running);
}

/* The entry of <key>, or NULL. */
static struct source *
quota_find(const struct quota *li, const struct srckey *key)
{
	struct source	find;

	find.so_key = *key;
	return RB_FIND(source_tree, (struct source_tree *)(uintptr_t)
	    &li->li_sources, &find);
}

int
quota_source_count(const struct quota *li, const struct srckey *key)
{
	struct source	*so = quota_find(li, key);

	return so != NULL ? so->so_running : 0;
}

/* Tokens of <so> at <now> (not stored). */
static double
quota_tokens(const struct service_conf *sc, const struct source *so,
    double now)
{
	double	rate, burst, t;

	quota_rate(sc, &rate, &burst);
	t = so->so_tokens + (now - so->so_refill) * rate;
	return t > burst ? burst : t;
}

int
quota_rate_ok(const struct quota *li, const struct service_conf *sc,
    const struct srckey *key, double now)
{
	struct source	*so;
	double		 rate, burst;

	quota_rate(sc, &rate, &burst);
	if (rate <= 0)
		return 1;
	if ((so = quota_find(li, key)) == NULL)
		return 1;
	return quota_tokens(sc, so, now) >= 1.0;
}

/* The entry of <key>, created (evicting the oldest idle one) if needed. */
static struct source *
quota_get(struct quota *li, const struct service_conf *sc,
    const struct srckey *key, double now)
{
	struct source	*so;
	double		 rate, burst;

	if ((so = quota_find(li, key)) != NULL)
		return so;
	if (li->li_nsources >= QUOTA_MAX_SOURCES) {
		if ((so = TAILQ_FIRST(&li->li_idle)) == NULL)
			return NULL;
		TAILQ_REMOVE(&li->li_idle, so, so_lru);
		RB_REMOVE(source_tree, &li->li_sources, so);
		li->li_nsources--;
	} else if ((so = malloc(sizeof(*so))) == NULL)
		return NULL;
	memset(so, 0, sizeof(*so));
	so->so_key = *key;
	quota_rate(sc, &rate, &burst);
	so->so_tokens = burst;
	so->so_refill = now;
	RB_INSERT(source_tree, &li->li_sources, so);
	TAILQ_INSERT_TAIL(&li->li_idle, so, so_lru);
	li->li_nsources++;
	return so;
}

/* Take a token from <so> if the service has a rate. */
static void
quota_use_token(const struct service_conf *sc, struct source *so,
    double now)
{
	double	rate, burst;

	quota_rate(sc, &rate, &burst);
	if (rate <= 0)
		return;
	so->so_tokens = quota_tokens(sc, so, now) - 1.0;
	so->so_refill = now;
}

/* Does <sc> need per-source entries at all? */
static int
quota_tracks_sources(const struct service_conf *sc)
{
	double	rate, burst;

	quota_rate(sc, &rate, &burst);
	return sc->sc_per_source != LIMIT_UNLIMITED || rate > 0;
}

int
quota_take(struct quota *li, const struct service_conf *sc,
    const struct srckey *key, double now)
{
	struct source	*so;

	if ((so = quota_get(li, sc, key, now)) == NULL)
		return -1;
	/* instances is exact over all workers: the slot is taken at once. */
	if (sc->sc_instances != LIMIT_UNLIMITED) {
		if (shared_counter_take(li->li_running, sc->sc_instances) ==
		    -1)
			return -2;	/* a new entry stays idle */
	} else
		shared_counter_add(li->li_running, 1);
	if (so->so_running++ == 0)
		TAILQ_REMOVE(&li->li_idle, so, so_lru);
	quota_use_token(sc, so, now);
	return 0;
}

void
quota_release(struct quota *li, const struct srckey *key)
{
	struct source	*so;

	shared_counter_add(li->li_running, -1);
	if ((so = quota_find(li, key)) == NULL || so->so_running == 0)
		return;
	if (--so->so_running == 0)
		TAILQ_INSERT_TAIL(&li->li_idle, so, so_lru);
}

int
quota_spend(struct quota *li, const struct service_conf *sc,
    const struct srckey *key, double now)
{
	struct source	*so;

	if (!quota_tracks_sources(sc))
		return 0;
	if ((so = quota_get(li, sc, key, now)) == NULL)
		return -1;
	if (so->so_running == 0) {
		/* Most recently used goes last. */
		TAILQ_REMOVE(&li->li_idle, so, so_lru);
		TAILQ_INSERT_TAIL(&li->li_idle, so, so_lru);
	}
	quota_use_token(sc, so, now);
	return 0;
}




