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

struct run {
	struct termfilter t;
	struct sink *out;
};

static void feed_filter(void *ctx, const char *p, size_t n)
{
	struct run *r = ctx;
	termfilter_feed(&r->t, p, n, sink_emit, r->out);
}

static size_t small_piece(uint32_t r) { return (r >> 16) % 7; }

static void run(const unsigned char *p, size_t n, uint32_t seed, struct sink *out)
{
	struct run r = { .out = out };
	feed_in_pieces((const char *)p, n, seed, small_piece, feed_filter, &r);
	termfilter_finish(&r.t, sink_emit, out);
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
