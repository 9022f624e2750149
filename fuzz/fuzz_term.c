/* Fuzz target for the terminal filter (src/lib/termfilter.c). The input is
 * the stream, filtered whole and again in pieces cut at points drawn from
 * its own bytes, each piece in a heap buffer of its own size. Both must
 * give the same output; in it, an ESC only starts a colour (ESC [ digits
 * ; : m) and no UTF-8 encoded C1 control is left; nothing may crash or
 * read outside what it was given. */
#include "termfilter.h"
#include "sink.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void run(const unsigned char *p, size_t n, unsigned seed, struct sink *out)
{
	struct termfilter t = { 0 };
	for (size_t at = 0; at < n;) {
		size_t piece = n - at;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = (seed >> 16) % 7;
			if (piece > n - at)
				piece = n - at;
		}
		char *copy = malloc(piece ? piece : 1);
		if (!copy)
			abort();
		memcpy(copy, p + at, piece);
		termfilter_feed(&t, copy, piece, sink_emit, out);
		free(copy);
		at += piece;
	}
	termfilter_finish(&t, sink_emit, out);
}

static bool only_colours(const struct sink *o)
{
	for (size_t i = 0; i < o->n; i++) {
		unsigned char c = (unsigned char)o->p[i];
		if (c == 0xc2 && i + 1 < o->n && (unsigned char)o->p[i + 1] >= 0x80 && (unsigned char)o->p[i + 1] <= 0x9f)
			return false;
		if (c != 0x1b)
			continue;
		size_t j = i + 1;
		if (j >= o->n || o->p[j] != '[')
			return false;
		for (j++; j < o->n && ((o->p[j] >= '0' && o->p[j] <= '9') || o->p[j] == ';' || o->p[j] == ':'); j++)
			;
		if (j >= o->n || o->p[j] != 'm')
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size > 20000)
		return 0;
	struct sink whole = { 0 }, cut = { 0 };
	run(data, size, 0, &whole);
	run(data, size, size ? data[0] | 1u : 1u, &cut);
	if (whole.n != cut.n || (whole.n && memcmp(whole.p, cut.p, whole.n) != 0) || !only_colours(&whole))
		abort();
	free(whole.p);
	free(cut.p);
	return 0;
}
