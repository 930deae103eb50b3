/*
 * What the load tools of bench/ share: a monotonic clock in microseconds
 * and the order of their latency samples (floats), for qsort().
 */
#ifndef PORTGATE_BENCH_TIMING_H
#define PORTGATE_BENCH_TIMING_H

#include <time.h>

static inline double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int
cmp_float(const void *a, const void *b)
{
	float	x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

#endif
