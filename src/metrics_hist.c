/*
 * Histograms of the metrics built-in (session, connect and TLS handshake
 * durations) and the families of reaching a back end: connect failures by
 * target and the durations of connects and handshakes.  An observation is
 * two relaxed atomic adds (its bucket and the sum), as cheap as any other
 * counter; a scrape reads the buckets and derives the count from them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "metrics_int.h"

const struct metrics_hist_spec metrics_hist_session = {
	5,
	{ 1000000, 10000000, 60000000, 300000000, 3600000000ULL },
	{ "1", "10", "60", "300", "3600" }
};

const struct metrics_hist_spec metrics_hist_fast = {
	8,
	{ 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000 },
	{ "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5" }
};

/*
 * The names of the targets of a service, made by the master when it loads
 * a configuration and inherited by the workers it forks then: private to
 * each process (a worker of an older generation knows fewer), while the
 * counters of the slots are shared.  Kept until metrics_clear(), as the
 * counters are: a target taken out of the configuration keeps its slot.
 */
struct metrics_targets {
	char	*mt_host[METRICS_TARGETS_MAX];
	char	*mt_port[METRICS_TARGETS_MAX];
	size_t	 mt_n;
};
static struct metrics_targets	*metrics_targets[METRICS_SERVICES_MAX];

uint64_t
metrics_clock(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
metrics_hist_add(struct metrics_hist *h, const struct metrics_hist_spec *hs,
    uint64_t us)
{
	size_t	b;

	for (b = 0; b < hs->hs_n; b++)
		if (us <= hs->hs_le[b])
			break;
	METRICS_ADD(h->mh_bucket[b], 1);
	METRICS_ADD(h->mh_sum, us);
}

/* Microseconds from <since> to now, 0 if the clock went wrong. */
static uint64_t
metrics_since(uint64_t since)
{
	uint64_t	now = metrics_clock();

	return now > since ? now - since : 0;
}

void
metrics_connect_time(struct metrics_service *ms, uint64_t since)
{
	if (ms != NULL)
		metrics_hist_add(&ms->ms_connect, &metrics_hist_fast,
		    metrics_since(since));
}

void
metrics_tls_time(struct metrics_service *ms, uint64_t since)
{
	if (ms != NULL)
		metrics_hist_add(&ms->ms_handshake, &metrics_hist_fast,
		    metrics_since(since));
}

/* The slot of <host> <port> in <mt>: its index, or mt_n when unknown. */
static size_t
metrics_target_slot(const struct metrics_targets *mt, const char *host,
    const char *port)
{
	size_t	i;

	for (i = 0; i < mt->mt_n; i++)
		if (strcmp(mt->mt_host[i], host) == 0 &&
		    strcmp(mt->mt_port[i], port) == 0)
			break;
	return i;
}

void
metrics_target(struct metrics_service *ms, const char *host, const char *port)
{
	struct metrics_targets	*mt;
	char			*h, *p;

	if (ms == NULL || ms->ms_index >= METRICS_SERVICES_MAX)
		return;
	if ((mt = metrics_targets[ms->ms_index]) == NULL) {
		if ((mt = calloc(1, sizeof(*mt))) == NULL)
			return;		/* counted as "other" */
		metrics_targets[ms->ms_index] = mt;
	}
	if (mt->mt_n == METRICS_TARGETS_MAX ||
	    metrics_target_slot(mt, host, port) < mt->mt_n)
		return;
	h = strdup(host);
	p = strdup(port);
	if (h == NULL || p == NULL) {
		free(h);
		free(p);
		return;
	}
	mt->mt_host[mt->mt_n] = h;
	mt->mt_port[mt->mt_n++] = p;
}

void
metrics_connect_failure(struct metrics_service *ms, const char *host,
    const char *port)
{
	const struct metrics_targets	*mt;
	size_t				 slot = METRICS_TARGETS_MAX;

	if (ms == NULL)
		return;
	if (ms->ms_index < METRICS_SERVICES_MAX &&
	    (mt = metrics_targets[ms->ms_index]) != NULL &&
	    (slot = metrics_target_slot(mt, host, port)) == mt->mt_n)
		slot = METRICS_TARGETS_MAX;
	METRICS_ADD(ms->ms_connect_failures[slot], 1);
}

void
metrics_targets_clear(void)
{
	struct metrics_targets	*mt;
	size_t			 i, t;

	for (i = 0; i < METRICS_SERVICES_MAX; i++) {
		if ((mt = metrics_targets[i]) == NULL)
			continue;
		for (t = 0; t < mt->mt_n; t++) {
			free(mt->mt_host[t]);
			free(mt->mt_port[t]);
		}
		free(mt);
		metrics_targets[i] = NULL;
	}
}

/* Append " <us as seconds>\n", without trailing zeros. */
static int
metrics_seconds(struct evbuffer *buf, uint64_t us)
{
	char	frac[8];
	size_t	n;

	if (us % 1000000 == 0)
		return evbuffer_add_printf(buf, " %llu\n",
		    (unsigned long long)(us / 1000000)) < 0 ? -1 : 0;
	(void)snprintf(frac, sizeof(frac), "%06llu",
	    (unsigned long long)(us % 1000000));
	for (n = strlen(frac); frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	return evbuffer_add_printf(buf, " %llu.%s\n",
	    (unsigned long long)(us / 1000000), frac) < 0 ? -1 : 0;
}

int
metrics_hist_format(struct evbuffer *buf, const char *name,
    const struct metrics_service *ms, const struct metrics_hist *h,
    const struct metrics_hist_spec *hs)
{
	char		fam[96];
	uint64_t	n = 0;
	size_t		b;

	(void)snprintf(fam, sizeof(fam), "%s_bucket", name);
	for (b = 0; b <= hs->hs_n; b++) {
		n += METRICS_GET(h->mh_bucket[b]);
		if (metrics_start(buf, fam, ms) == -1 ||
		    evbuffer_add_printf(buf, ",le=\"%s\"} %llu\n",
		    b < hs->hs_n ? hs->hs_label[b] : "+Inf",
		    (unsigned long long)n) < 0)
			return -1;
	}
	(void)snprintf(fam, sizeof(fam), "%s_sum", name);
	if (metrics_start(buf, fam, ms) == -1 ||
	    evbuffer_add(buf, "}", 1) == -1 ||
	    metrics_seconds(buf, METRICS_GET(h->mh_sum)) == -1)
		return -1;
	(void)snprintf(fam, sizeof(fam), "%s_count", name);
	if (metrics_start(buf, fam, ms) == -1 ||
	    evbuffer_add_printf(buf, "} %llu\n", (unsigned long long)n) < 0)
		return -1;
	return 0;
}

/* ",target="<host>:<port>"} <n>": an IPv6 address in brackets. */
static int
metrics_target_sample(struct evbuffer *buf, const char *host,
    const char *port, uint64_t n)
{
	int	v6 = port != NULL && strchr(host, ':') != NULL;

	if (evbuffer_add_printf(buf, ",target=\"%s", v6 ? "[" : "") < 0 ||
	    metrics_label(buf, host) == -1 ||
	    (port != NULL && (evbuffer_add_printf(buf, "%s:", v6 ? "]" : "") <
	    0 || metrics_label(buf, port) == -1)) ||
	    evbuffer_add_printf(buf, "\"} %llu\n", (unsigned long long)n) < 0)
		return -1;
	return 0;
}

/*
 * Every named target of every service (zero too, so that a rate starts
 * from the first scrape), then "other" where it counted.
 */
static int
metrics_format_failures(struct evbuffer *buf)
{
	const char			*name =
	    "portgate_connect_failures_total";
	const struct metrics_service	*ms;
	const struct metrics_targets	*mt;
	size_t				 i, t, nt;
	uint64_t			 other;

	if (metrics_head(buf, name, "counter", "Failed connects to a "
	    "redirect target, by target.") == -1)
		return -1;
	for (i = 0; i < metrics_count(); i++) {
		ms = metrics_at(i);
		mt = ms->ms_index < METRICS_SERVICES_MAX ?
		    metrics_targets[ms->ms_index] : NULL;
		nt = mt != NULL ? mt->mt_n : 0;
		for (t = 0; t < nt; t++)
			if (metrics_start(buf, name, ms) == -1 ||
			    metrics_target_sample(buf, mt->mt_host[t],
			    mt->mt_port[t],
			    METRICS_GET(ms->ms_connect_failures[t])) == -1)
				return -1;
		other = METRICS_GET(
		    ms->ms_connect_failures[METRICS_TARGETS_MAX]);
		if (other > 0 && (metrics_start(buf, name, ms) == -1 ||
		    metrics_target_sample(buf, "other", NULL, other) == -1))
			return -1;
	}
	return 0;
}

/* Histogram family <name> of the services that observed any. */
static int
metrics_format_observed(struct evbuffer *buf, const char *name,
    const char *help, size_t off)
{
	const struct metrics_service	*ms;
	const struct metrics_hist	*h;
	size_t				 i, b;
	uint64_t			 n;

	if (metrics_head(buf, name, "histogram", help) == -1)
		return -1;
	for (i = 0; i < metrics_count(); i++) {
		ms = metrics_at(i);
		h = (const struct metrics_hist *)(const void *)
		    ((const char *)ms + off);
		for (n = 0, b = 0; b <= metrics_hist_fast.hs_n; b++)
			n += METRICS_GET(h->mh_bucket[b]);
		if (n > 0 && metrics_hist_format(buf, name, ms, h,
		    &metrics_hist_fast) == -1)
			return -1;
	}
	return 0;
}

int
metrics_hist_families(struct evbuffer *buf)
{
	if (metrics_format_failures(buf) == -1 ||
	    metrics_format_observed(buf, "portgate_connect_duration_seconds",
	    "Time to connect to a redirect target, of those reached.",
	    offsetof(struct metrics_service, ms_connect)) == -1 ||
	    metrics_format_observed(buf,
	    "portgate_tls_handshake_duration_seconds",
	    "Time of completed TLS handshakes with clients.",
	    offsetof(struct metrics_service, ms_handshake)) == -1)
		return -1;
	return 0;
}
