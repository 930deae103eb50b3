/*
 * The counters of the metrics built-in and their exposition text
 * (Prometheus text format 0.0.4).  Services are found by id when they are
 * made (service.c), so that the data path only increments through a
 * pointer; an id keeps its counters across reloads, as counters must
 * never go down.  The table is bounded by METRICS_SERVICES_MAX.
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "metrics_int.h"

static const char *const metrics_reasons[METRICS_NREASONS] = {
	[METRICS_ONLY_FROM] = "only_from",
	[METRICS_NO_ACCESS] = "no_access",
	[METRICS_ACCESS_TIMES] = "access_times",
	[METRICS_COUNTRY] = "country",
	[METRICS_CPS] = "cps",
	[METRICS_LOAD] = "load",
	[METRICS_INSTANCES] = "instances",
	[METRICS_PER_SOURCE] = "per_source",
	[METRICS_PER_SOURCE_CPS] = "per_source_cps",
	[METRICS_SENSOR] = "sensor",
	[METRICS_LIBWRAP] = "libwrap",
	[METRICS_LOOP] = "loop",
	[METRICS_TLS_HANDSHAKE] = "tls_handshake",
	[METRICS_PROXY_FROM] = "proxy_from",
	[METRICS_PROXY_PER_SOURCE] = "proxy_per_source",
	[METRICS_PROXY_LIMIT] = "proxy_limit",
	[METRICS_TCPMUX_LIMIT] = "tcpmux_limit"
};

/* What the daemon counts of itself. */
struct metrics_daemon {
	uint64_t	 md_reloads_ok;
	uint64_t	 md_reloads_failed;
	int64_t		 md_last_success;
	int64_t		 md_workers;
	int64_t		 md_redis;	/* 0: not used, 1: cut off, 2: up */
};

/*
 * With metrics_share(), the counters live in a mapping that the master and
 * every worker share (each adds atomically), so that they are totals over
 * all workers and survive a reload's new generation; the ids and the table
 * stay private (the master makes entries, a worker inherits them).
 */
static struct metrics_service	*metrics_table[METRICS_SERVICES_MAX];
static size_t			 metrics_nservices;
static struct metrics_service	*metrics_slab;	/* shared entries */
static char			*metrics_ids[METRICS_SERVICES_MAX];
static struct metrics_daemon	 metrics_private;
static struct metrics_daemon	*metrics_d = &metrics_private;

int
metrics_share(void)
{
	void	*p;
	size_t	 len = sizeof(struct metrics_service) * METRICS_SERVICES_MAX +
		    sizeof(struct metrics_daemon);

	if (metrics_slab != NULL)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return -1;
	metrics_slab = p;
	metrics_d = (struct metrics_daemon *)(void *)(metrics_slab +
	    METRICS_SERVICES_MAX);
	*metrics_d = metrics_private;
	return 0;
}

void
metrics_workers(int n)
{
	__atomic_store_n(&metrics_d->md_workers, n, __ATOMIC_RELAXED);
}

void
metrics_redis(int connected)
{
	__atomic_store_n(&metrics_d->md_redis, connected + 1,
	    __ATOMIC_RELAXED);
}

struct metrics_service *
metrics_service(const char *id)
{
	struct metrics_service	*ms;
	size_t			 i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < metrics_nservices; i++)
		if (strcmp(metrics_table[i]->ms_id, id) == 0)
			return metrics_table[i];
	if (metrics_nservices == METRICS_SERVICES_MAX)
		return NULL;
	if (metrics_slab != NULL)
		ms = &metrics_slab[metrics_nservices];
	else if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return NULL;
	if ((ms->ms_id = strdup(id)) == NULL) {
		if (metrics_slab == NULL)
			free(ms);
		return NULL;
	}
	ms->ms_index = metrics_nservices;
	/* The slab is not this process's heap: keep the id in it too. */
	metrics_ids[metrics_nservices] = ms->ms_id;
	metrics_table[metrics_nservices++] = ms;
	return ms;
}

size_t
metrics_count(void)
{
	return metrics_nservices;
}

struct metrics_service *
metrics_at(size_t i)
{
	return metrics_table[i];
}

void
metrics_accepted(struct metrics_service *ms)
{
	if (ms != NULL)
		METRICS_ADD(ms->ms_accepted, 1);
}

void
metrics_refused(struct metrics_service *ms, enum metrics_reason r)
{
	if (ms != NULL && (unsigned)r < METRICS_NREASONS)
		METRICS_ADD(ms->ms_refused[r], 1);
}

void
metrics_session_start(struct metrics_service *ms)
{
	if (ms != NULL)
		METRICS_ADD(ms->ms_sessions, 1);
}

void
metrics_session_end(struct metrics_service *ms, uint64_t in, uint64_t out,
    long seconds)
{
	if (ms == NULL)
		return;
	METRICS_ADD(ms->ms_sessions, -1);
	METRICS_ADD(ms->ms_bytes_in, in);
	METRICS_ADD(ms->ms_bytes_out, out);
	metrics_hist_add(&ms->ms_duration, &metrics_hist_session,
	    seconds > 0 ? (uint64_t)seconds * 1000000 : 0);
}

void
metrics_spawn_failure(struct metrics_service *ms)
{
	if (ms != NULL)
		METRICS_ADD(ms->ms_spawn_failures, 1);
}

void
metrics_totals(const struct metrics_service *ms, uint64_t *accepted,
    uint64_t *refused)
{
	size_t	r;

	*accepted = *refused = 0;
	if (ms == NULL)
		return;
	for (r = 0; r < METRICS_NREASONS; r++)
		*refused += METRICS_GET(ms->ms_refused[r]);
	/* A failed handshake was accepted first (and the counter stays). */
	*accepted = METRICS_GET(ms->ms_accepted);
	if (*accepted >= METRICS_GET(ms->ms_refused[METRICS_TLS_HANDSHAKE]))
		*accepted -= METRICS_GET(ms->ms_refused[METRICS_TLS_HANDSHAKE]);
}

void
metrics_snapshot(const struct metrics_service *ms, struct metrics_snap *out)
{
	size_t	r;

	memset(out, 0, sizeof(*out));
	if (ms == NULL)
		return;
	metrics_totals(ms, &out->mn_accepted, &out->mn_refused_all);
	for (r = 0; r < METRICS_NREASONS; r++)
		out->mn_refused[r] = METRICS_GET(ms->ms_refused[r]);
	out->mn_sessions = METRICS_GET(ms->ms_sessions);
	out->mn_bytes_in = METRICS_GET(ms->ms_bytes_in);
	out->mn_bytes_out = METRICS_GET(ms->ms_bytes_out);
	out->mn_spawn_failures = METRICS_GET(ms->ms_spawn_failures);
}

long long
metrics_sessions_all(void)
{
	long long	n = 0;
	size_t		i;

	for (i = 0; i < metrics_nservices; i++)
		n += METRICS_GET(metrics_table[i]->ms_sessions);
	return n;
}

void
metrics_config_loaded(time_t now)
{
	metrics_d->md_last_success = now;
}

void
metrics_reload(int ok, time_t now)
{
	if (ok) {
		METRICS_ADD(metrics_d->md_reloads_ok, 1);
		metrics_d->md_last_success = now;
	} else
		METRICS_ADD(metrics_d->md_reloads_failed, 1);
}

enum metrics_reason
metrics_gate_reason(enum gate_reason r, const char *rule)
{
	switch (r) {
	case GATE_TIME:
		return METRICS_ACCESS_TIMES;
	case GATE_SENSOR:
		return METRICS_SENSOR;
	case GATE_ADDRESS:
		/* gate.c names the list that refused first. */
		if (rule != NULL && strncmp(rule, "no_access", 9) == 0)
			return METRICS_NO_ACCESS;
		return METRICS_ONLY_FROM;
	case GATE_COUNTRY:
		return METRICS_COUNTRY;
	case GATE_CPS:
		return METRICS_CPS;
	case GATE_LOAD:
		return METRICS_LOAD;
	case GATE_INSTANCES:
		return METRICS_INSTANCES;
	case GATE_PER_SOURCE:
		return METRICS_PER_SOURCE;
	case GATE_RATE:
		return METRICS_PER_SOURCE_CPS;
	case GATE_LIBWRAP:
		return METRICS_LIBWRAP;
	case GATE_OK:
		break;
	}
	return METRICS_ONLY_FROM;
}

int
metrics_reason_word(const char *word)
{
	size_t	i;

	for (i = 0; i < METRICS_NREASONS; i++)
		if (strcmp(metrics_reasons[i], word) == 0)
			return (int)i;
	return -1;
}

const char *
metrics_reason_name(enum metrics_reason r)
{
	if ((unsigned)r >= METRICS_NREASONS)
		return NULL;
	return metrics_reasons[r];
}

/* Backslash, double quote and newline escaped. */
int
metrics_label(struct evbuffer *buf, const char *s)
{
	const char	*esc;
	size_t		 n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		if (n > 0 && evbuffer_add(buf, s, n) == -1)
			return -1;
		s += n;
		if (*s == '\0')
			break;
		esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n";
		if (evbuffer_add(buf, esc, 2) == -1)
			return -1;
		s++;
	}
	return 0;
}

int
metrics_head(struct evbuffer *buf, const char *name, const char *type,
    const char *help)
{
	return evbuffer_add_printf(buf, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0 ? -1 : 0;
}

int
metrics_start(struct evbuffer *buf, const char *name,
    const struct metrics_service *ms)
{
	if (evbuffer_add_printf(buf, "%s{service=\"", name) < 0 ||
	    metrics_label(buf, ms->ms_id) == -1 ||
	    evbuffer_add(buf, "\"", 1) == -1)
		return -1;
	return 0;
}

/* The families with one sample per service and no other label. */
enum metrics_plain {
	MP_ACCEPTED,
	MP_SESSIONS,
	MP_SPAWN_FAILURES
};

/* The value of family <f> for <ms>. */
static long long
metrics_plain_value(const struct metrics_service *ms, enum metrics_plain f)
{
	switch (f) {
	case MP_ACCEPTED:
		return (long long)ms->ms_accepted;
	case MP_SESSIONS:
		return ms->ms_sessions;
	case MP_SPAWN_FAILURES:
		return (long long)ms->ms_spawn_failures;
	}
	return 0;
}

static int
metrics_family(struct evbuffer *buf, const char *name, const char *type,
    const char *help, enum metrics_plain f)
{
	size_t	i;

	if (metrics_head(buf, name, type, help) == -1)
		return -1;
	for (i = 0; i < metrics_nservices; i++)
		if (metrics_start(buf, name, metrics_table[i]) == -1 ||
		    evbuffer_add_printf(buf, "} %lld\n",
		    metrics_plain_value(metrics_table[i], f)) < 0)
			return -1;
	return 0;
}

static int
metrics_format_refused(struct evbuffer *buf)
{
	const char			*name =
	    "portgate_connections_refused_total";
	const struct metrics_service	*ms;
	size_t				 i, r;

	if (metrics_head(buf, name, "counter",
	    "Clients refused, by the rule that refused them.") == -1)
		return -1;
	for (i = 0; i < metrics_nservices; i++) {
		ms = metrics_table[i];
		for (r = 0; r < METRICS_NREASONS; r++) {
			if (ms->ms_refused[r] == 0)
				continue;
			if (metrics_start(buf, name, ms) == -1 ||
			    evbuffer_add_printf(buf, ",reason=\"%s\"} %llu\n",
			    metrics_reasons[r],
			    (unsigned long long)ms->ms_refused[r]) < 0)
				return -1;
		}
	}
	return 0;
}

static int
metrics_format_bytes(struct evbuffer *buf)
{
	const char			*name = "portgate_bytes_total";
	const struct metrics_service	*ms;
	size_t				 i;

	if (metrics_head(buf, name, "counter",
	    "Bytes from (in) and to (out) clients of ended sessions.") == -1)
		return -1;
	for (i = 0; i < metrics_nservices; i++) {
		ms = metrics_table[i];
		if (metrics_start(buf, name, ms) == -1 ||
		    evbuffer_add_printf(buf, ",direction=\"in\"} %llu\n",
		    (unsigned long long)ms->ms_bytes_in) < 0 ||
		    metrics_start(buf, name, ms) == -1 ||
		    evbuffer_add_printf(buf, ",direction=\"out\"} %llu\n",
		    (unsigned long long)ms->ms_bytes_out) < 0)
			return -1;
	}
	return 0;
}

static int
metrics_format_duration(struct evbuffer *buf)
{
	const char	*name = "portgate_session_duration_seconds";
	size_t		 i;

	if (metrics_head(buf, name, "histogram",
	    "Length of ended sessions.") == -1)
		return -1;
	for (i = 0; i < metrics_nservices; i++)
		if (metrics_hist_format(buf, name, metrics_table[i],
		    &metrics_table[i]->ms_duration,
		    &metrics_hist_session) == -1)
			return -1;
	return 0;
}

int
metrics_format(struct evbuffer *buf, const char *version)
{
	if (metrics_family(buf, "portgate_connections_accepted_total",
	    "counter", "Clients admitted by the gate.", MP_ACCEPTED) == -1 ||
	    metrics_format_refused(buf) == -1 ||
	    metrics_family(buf, "portgate_sessions", "gauge",
	    "Sessions open.", MP_SESSIONS) == -1 ||
	    metrics_format_bytes(buf) == -1 ||
	    metrics_family(buf, "portgate_spawn_failures_total", "counter",
	    "Servers that could not be started.", MP_SPAWN_FAILURES) == -1 ||
	    metrics_format_duration(buf) == -1 ||
	    metrics_hist_families(buf) == -1)
		return -1;
	if (metrics_head(buf, "portgate_config_reloads_total", "counter",
	    "Configuration reloads, by result.") == -1 ||
	    evbuffer_add_printf(buf, "portgate_config_reloads_total"
	    "{result=\"success\"} %llu\n"
	    "portgate_config_reloads_total{result=\"failure\"} %llu\n",
	    (unsigned long long)METRICS_GET(metrics_d->md_reloads_ok),
	    (unsigned long long)METRICS_GET(metrics_d->md_reloads_failed)) < 0 ||
	    metrics_head(buf,
	    "portgate_config_last_reload_success_timestamp_seconds", "gauge",
	    "When the running configuration was loaded.") == -1 ||
	    evbuffer_add_printf(buf,
	    "portgate_config_last_reload_success_timestamp_seconds %lld\n",
	    (long long)METRICS_GET(metrics_d->md_last_success)) < 0 ||
	    metrics_head(buf, "portgate_workers", "gauge",
	    "Processes serving clients.") == -1 ||
	    evbuffer_add_printf(buf, "portgate_workers %lld\n",
	    METRICS_GET(metrics_d->md_workers) > 0 ?
	    (long long)METRICS_GET(metrics_d->md_workers) : 1LL) < 0 ||
	    (METRICS_GET(metrics_d->md_redis) > 0 &&
	    (metrics_head(buf, "portgate_redis_connected", "gauge",
	    "1 when the ban list is shared through Redis, 0 when cut off.") ==
	    -1 || evbuffer_add_printf(buf, "portgate_redis_connected %lld\n",
	    (long long)METRICS_GET(metrics_d->md_redis) - 1) < 0)) ||
	    metrics_head(buf, "portgate_build_info", "gauge",
	    "Always 1; the version is a label.") == -1 ||
	    evbuffer_add_printf(buf, "portgate_build_info{version=\"") < 0 ||
	    metrics_label(buf, version) == -1 ||
	    evbuffer_add_printf(buf, "\"} 1\n") < 0)
		return -1;
	return 0;
}

void
metrics_clear(void)
{
	size_t	i;

	for (i = 0; i < metrics_nservices; i++) {
		free(metrics_table[i]->ms_id);
		metrics_ids[i] = NULL;
		if (metrics_slab != NULL)
			memset(metrics_table[i], 0, sizeof(*metrics_table[i]));
		else
			free(metrics_table[i]);
		metrics_table[i] = NULL;
	}
	metrics_nservices = 0;
	metrics_targets_clear();
	memset(metrics_d, 0, sizeof(*metrics_d));
}
