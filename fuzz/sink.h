/* For the fuzz targets that compare a streaming filter's whole and cut runs
 * (fuzz_scan, fuzz_term): a growing buffer that collects what it emits, and
 * the feeding of a stream in pieces. */
#ifndef AIRLOCK_FUZZ_SINK_H
#define AIRLOCK_FUZZ_SINK_H

#include <stdint.h>
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

/* Feed p[0..n) to feed(ctx, ...): whole with seed 0, else in pieces whose
 * sizes piece_size draws from a linear congruential sequence of seed, each
 * piece in a heap buffer of its own size, so that a read past either end
 * of what was fed is caught. */
static void feed_in_pieces(const char *p, size_t n, uint32_t seed, size_t (*piece_size)(uint32_t r),
			   void (*feed)(void *ctx, const char *p, size_t n), void *ctx)
{
	for (size_t at = 0; at < n;) {
		size_t piece = n - at;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = piece_size(seed);
			if (piece > n - at)
				piece = n - at;
		}
		char *copy = malloc(piece ? piece : 1);
		if (!copy)
			abort();
		memcpy(copy, p + at, piece);
		feed(ctx, copy, piece);
		free(copy);
		at += piece;
	}
}

#endif
