/* Timing for the bench programs that time runs themselves (exec_warm,
 * floor): a monotonic clock in milliseconds and the median of a sample. */
#ifndef AIRLOCK_BENCH_TIMING_H
#define AIRLOCK_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

static inline double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v in place. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
