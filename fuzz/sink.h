/* A growing buffer that collects what a streaming filter emits, for the
 * fuzz targets that compare whole and cut runs (fuzz_scan, fuzz_term). */
#ifndef AIRLOCK_FUZZ_SINK_H
#define AIRLOCK_FUZZ_SINK_H

#include <stdlib.h>
#include <string.h>

struct sink {
	char *p;
	size_t n, cap;
};

static void sink_emit(void *arg, const char *p, size_t n)
{
	struct sink *k = arg;
	if (k->n + n > k->cap) {
		k->cap = 2 * (k->n + n) + 64;
		k->p = realloc(k->p, k->cap);
		if (!k->p)
			abort();
	}
	memcpy(k->p + k->n, p, n);
	k->n += n;
}

#endif
