/*
 * Benchmark of addrlist_match(): compile a list of random IPv4 CIDR rules
 * (and some IPv6 ones), then match random clients, half of them inside a
 * rule, for a bounded time, and print matches per second.  Not a unit
 * test: run it by hand or from a performance job.
 *
 * usage: bench_addrlist [-c] [-n v4rules] [-6 v6rules] [-m maxmatches]
 *	      [-t seconds] [-s seed]
 *	-c	exit 1 when fewer than 1,000,000 matches per second
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrlist.h"

#define BENCH_CLIENTS	(1 << 20)	/* distinct clients, cycled */
#define BENCH_TARGET	1000000.0	/* matches per second required */
#define BENCH_BATCH	65536		/* matches between clock reads */

struct bench_rule {
	uint8_t		 br_addr[16];
	int		 br_v6;
	int		 br_plen;
};

static uint64_t	bench_seed = 0x2545f4914f6cdd1dULL;

/* xorshift64: fast, deterministic for a given seed. */
static uint32_t
bench_rand(void)
{
	bench_seed ^= bench_seed << 13;
	bench_seed ^= bench_seed >> 7;
	bench_seed ^= bench_seed << 17;
	return ((uint32_t)(bench_seed >> 32));
}

/* Seconds since an arbitrary start, monotonic. */
static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Make a random rule and its text "addr/plen" in <buf>. */
static void
bench_make_rule(struct bench_rule *r, int v6, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];
	int	 i;

	r->br_v6 = v6;
	for (i = 0; i < 16; i++)
		r->br_addr[i] = (uint8_t)bench_rand();
	if (v6) {
		r->br_addr[0] = 0x20;	/* 2000::/8, never mapped */
		r->br_plen = 16 + (int)(bench_rand() % 113);
		inet_ntop(AF_INET6, r->br_addr, a, sizeof(a));
	} else {
		r->br_plen = 8 + (int)(bench_rand() % 25);
		inet_ntop(AF_INET, r->br_addr, a, sizeof(a));
	}
	snprintf(buf, len, "%s/%d", a, r->br_plen);
}

/* Make a client: inside rule <r> when not NULL, else anywhere. */
static void
bench_make_client(struct sockaddr_storage *ss, const struct bench_rule *r,
    int v6, int mapped)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint8_t			 a[16];
	int			 i, plen;

	for (i = 0; i < 16; i++)
		a[i] = (uint8_t)bench_rand();
	if (r != NULL) {
		v6 = r->br_v6;
		plen = r->br_plen;
		for (i = 0; i < plen; i++)
			if (r->br_addr[i >> 3] & (0x80 >> (i & 7)))
				a[i >> 3] |= 0x80 >> (i & 7);
			else
				a[i >> 3] &= ~(0x80 >> (i & 7));
	}
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		a[0] = 0x20;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
	} else if (mapped) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], a, 4);
	} else {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
	}
}

/*
 * Match the clients in a loop for at most <secs> seconds or <max>
 * matches, and print the rate under <label>.  Returns the rate in matches
 * per second.
 */
static double
bench_run(const char *label, const struct addrlist *al,
    const struct sockaddr_storage *cl, long long max, double secs)
{
	struct addrmatch	 m;
	long long		 n = 0, hits = 0;
	double			 t0, t;
	size_t			 i = 0;
	int			 b;

	t0 = bench_now();
	do {
		for (b = 0; b < BENCH_BATCH; b++) {
			hits += addrlist_match(al,
			    (const struct sockaddr *)&cl[i], NULL, &m);
			i = (i + 1) & (BENCH_CLIENTS - 1);
		}
		n += BENCH_BATCH;
		t = bench_now() - t0;
	} while (n < max && t < secs);
	printf("%s: %lld matches in %.3f s: %.0f matches/s "
	    "(%.1f %% matched)\n", label, n, t, (double)n / t,
	    100.0 * (double)hits / (double)n);
	return ((double)n / t);
}

int
main(int argc, char *argv[])
{
	struct bench_rule	*rules;
	struct sockaddr_storage	*cl;
	struct addrlist		*al;
	char			**words, err[256];
	long long		 max = 5000000;
	double			 secs = 3.0, t0, t, rate;
	int			 nv4 = 10000, nv6 = 1000, check = 0, ch, i;
	int			 bad;
	size_t			 j;

	while ((ch = getopt(argc, argv, "6:cm:n:s:t:")) != -1) {
		switch (ch) {
		case '6':
			nv6 = atoi(optarg);
			break;
		case 'c':
			check = 1;
			break;
		case 'm':
			max = atoll(optarg);
			break;
		case 'n':
			nv4 = atoi(optarg);
			break;
		case 's':
			bench_seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_addrlist [-c] [-n v4rules]"
			    " [-6 v6rules] [-m maxmatches] [-t seconds]"
			    " [-s seed]\n");
			return (2);
		}
	}
	if (nv4 < 0 || nv6 < 0 || nv4 + nv6 == 0 || max <= 0 || secs <= 0) {
		fprintf(stderr, "bench_addrlist: bad arguments\n");
		return (2);
	}
	rules = calloc((size_t)(nv4 + nv6), sizeof(*rules));
	words = calloc((size_t)(nv4 + nv6), sizeof(*words));
	cl = calloc(BENCH_CLIENTS, sizeof(*cl));
	if (rules == NULL || words == NULL || cl == NULL) {
		fprintf(stderr, "bench_addrlist: out of memory\n");
		return (2);
	}
	for (i = 0; i < nv4 + nv6; i++) {
		if ((words[i] = malloc(64)) == NULL) {
			fprintf(stderr, "bench_addrlist: out of memory\n");
			return (2);
		}
		bench_make_rule(&rules[i], i >= nv4, words[i], 64);
	}
	t0 = bench_now();
	al = addrlist_parse(words, nv4 + nv6, err, sizeof(err), &bad);
	t = bench_now() - t0;
	if (al == NULL) {
		fprintf(stderr, "bench_addrlist: %s\n", err);
		return (2);
	}
	printf("compiled %d IPv4 + %d IPv6 CIDR rules in %.3f s\n", nv4, nv6,
	    t);
	for (j = 0; j < BENCH_CLIENTS; j++) {
		i = (int)(bench_rand() % (uint32_t)(nv4 + nv6));
		bench_make_client(&cl[j], j % 2 ? &rules[i] : NULL,
		    j % 10 == 0, j % 4 == 0);
	}
	/* One pass to warm the caches, then the measure. */
	bench_run("warm-up", al, cl, BENCH_CLIENTS, secs);
	rate = bench_run("measure", al, cl, max, secs);
	addrlist_free(al);
	for (i = 0; i < nv4 + nv6; i++)
		free(words[i]);
	free(words);
	free(rules);
	free(cl);
	if (check && rate < BENCH_TARGET) {
		printf("below the target of %.0f matches/s\n", BENCH_TARGET);
		return (1);
	}
	return (0);
}
