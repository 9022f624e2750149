/* Fuzz target for the output gate's scanner (src/lib/scan.c). Input:
 *
 *   byte 0      options: bit 0 strip_html, 1 no instructions, 2 no entropy,
 *               3 no secrets, bits 4-5 the number of literals (0-3)
 *   per literal a length byte (8 + b % 33) and that many bytes
 *   the rest    the stream
 *
 * The stream is scanned in one piece and again in pieces cut at points
 * drawn from its own bytes, each piece in a heap buffer of its own size.
 * Both must give the same output and counts; neither may contain a
 * literal; nothing may crash, read outside what it was given, or hang.
 *
 * Literals here have a digit and no '[', ']' or line break: then no
 * literal can be made of a marker's letters and the text around it, so
 * finding one in the output is a miss of the scanner's. */
#include "scan.h"
#include "sink.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

struct run {
	struct scanner *s;
	struct sink *out;
};

static void feed_scanner(void *ctx, const char *p, size_t n)
{
	struct run *r = ctx;
	scan_feed(r->s, p, n, sink_emit, r->out);
}

/* mostly small pieces, now and then a large one */
static size_t mixed_piece(uint32_t r) { return (r >> 16) % 8 == 0 ? (r >> 8) % 9000 : (r >> 16) % 64; }

/* Scan, cutting the stream where the seed says (0: whole). */
static struct scan_stats run(const struct scan_cfg *cfg, const char *p, size_t n, uint32_t seed, struct sink *out)
{
	struct run r = { .s = scan_new(cfg), .out = out };
	if (!r.s)
		abort();
	feed_in_pieces(p, n, seed, mixed_piece, feed_scanner, &r);
	scan_finish(r.s, sink_emit, out);
	struct scan_stats st = *scan_stats(r.s);
	scan_free(r.s);
	return st;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1 || size > 40000)
		return 0;
	struct scan_cfg cfg;
	scan_cfg_defaults(&cfg);
	unsigned opt = data[0];
	cfg.strip_html = opt & 1;
	cfg.instructions = !(opt & 2);
	cfg.entropy = !(opt & 4);
	cfg.secrets = !(opt & 8);
	size_t at = 1, n_lits = (opt >> 4) & 3;
	char lits[3][48];
	const char *lit_ptrs[3];
	cfg.n_literals = 0;
	for (size_t i = 0; i < n_lits && at < size; i++) {
		size_t len = 8 + data[at++] % 33;
		if (size - at < len)
			break;
		memcpy(lits[i], data + at, len);
		lits[i][len] = '\0';
		at += len;
		bool digit = false;
		for (size_t j = 0; j < len; j++) {
			char c = lits[i][j];
			if (c == '\0' || c == '\n' || c == '\r' || c == '[' || c == ']')
				lits[i][j] = c = '7';
			digit |= c >= '0' && c <= '9';
		}
		if (!digit)
			lits[i][0] = '1';
		lit_ptrs[cfg.n_literals++] = lits[i];
	}
	cfg.literals = lit_ptrs;
	const char *p = (const char *)data + at;
	size_t n = size - at;

	uint32_t seed = 2166136261u;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	seed |= 1;

	struct sink whole = { 0 }, split = { 0 };
	struct scan_stats a = run(&cfg, p, n, 0, &whole);
	struct scan_stats b = run(&cfg, p, n, seed, &split);
	if (whole.n != split.n || (whole.n && memcmp(whole.p, split.p, whole.n)) || a.bytes_out != whole.n ||
	    a.bytes_in != n || b.bytes_in != n || a.redactions_total != b.redactions_total || a.flags != b.flags ||
	    memcmp(a.redactions, b.redactions, sizeof a.redactions) || a.n_samples != b.n_samples)
		abort();
	for (size_t i = 0; i < a.n_samples; i++)
		if (strcmp(a.flag_sample[i], b.flag_sample[i]))
			abort();
	for (size_t i = 0; i < cfg.n_literals; i++)
		if (whole.n && memmem(whole.p, whole.n, lit_ptrs[i], strlen(lit_ptrs[i])))
			abort();
	free(whole.p);
	free(split.p);
	return 0;
}
