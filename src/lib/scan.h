/* The output gate's scanner (scan.c): a streaming secret redactor for what
 * the sandbox prints, the files copied out of it (copyout.c) and airlock's
 * own audit events.
 *
 * Bytes go in as they arrive, in pieces of any size; redacted bytes come out
 * through a callback, in order. A secret split across two pieces is still
 * caught: the scanner holds back the tail that a detector could still be
 * extending (at most SCAN_HOLD bytes, or up to a newline), and releases it
 * with the next piece or at scan_finish. Every redaction is replaced by a
 * marker naming its detector, "[REDACTED:aws_access_key]", and counted.
 * Instruction-like text is flagged (counted, with a short sample), never
 * removed. Hand-written and hot: fuzzed (fuzz/fuzz_scan.c) and benchmarked
 * (bench/scan, >= 300 MB/s on one core for the default set). */
#ifndef AIRLOCK_SCAN_H
#define AIRLOCK_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_HOLD 4096 /* the most a scanner keeps back between pieces */

enum scan_detector {
	SCAN_LITERAL,	     /* a secret of this run, or its base64 / URL / hex encodings */
	SCAN_PRIVATE_KEY,    /* -----BEGIN ... PRIVATE KEY----- blocks (whole block) */
	SCAN_AWS_ACCESS_KEY, /* AKIA/ASIA + 16 */
	SCAN_AWS_SECRET,     /* aws_secret_access_key = 40 chars */
	SCAN_GCP_API_KEY,    /* AIza + 35 */
	SCAN_GCP_SERVICE_KEY,/* "private_key_id": ... in a service-account JSON */
	SCAN_AZURE_KEY,	     /* AccountKey=...==, SharedAccessSignature sig= */
	SCAN_GITHUB_TOKEN,   /* ghp_ gho_ ghu_ ghs_ ghr_ github_pat_ */
	SCAN_GITLAB_TOKEN,   /* glpat- */
	SCAN_SLACK_TOKEN,    /* xoxb- xoxp- xoxa- xoxr- xoxs-, hooks.slack.com/services/ */
	SCAN_STRIPE_KEY,     /* sk_live_ rk_live_ (and _test_) */
	SCAN_OPENAI_KEY,     /* sk-... sk-proj-... */
	SCAN_ANTHROPIC_KEY,  /* sk-ant-... */
	SCAN_JWT,	     /* eyJ...eyJ....sig */
	SCAN_GENERIC_SECRET, /* password=/secret=/token=/api_key= followed by a value */
	SCAN_ENTROPY,	     /* a long high-entropy token no other detector named */
	SCAN_DETECTOR_COUNT
};

struct scan_cfg {
	bool secrets;		   /* the known formats (all detectors but LITERAL, ENTROPY) */
	bool entropy;		   /* SCAN_ENTROPY */
	double entropy_bits;	   /* Shannon bits per char at or above which a token is a secret (default 4.5) */
	size_t entropy_min_len;	   /* shortest token judged by entropy (default 24) */
	bool instructions;	   /* flag instruction-like text */
	bool strip_html;	   /* drop HTML tags and comments (<...>, <!-- -->), keep the text */
	const char *const *literals; /* this run's secrets (NUL-terminated; >= 8 bytes each) */
	size_t n_literals;
};

struct scan_stats {
	uint64_t bytes_in, bytes_out;
	uint64_t redactions[SCAN_DETECTOR_COUNT];
	uint64_t redactions_total;
	uint64_t flags;		/* instruction-like passages */
	char flag_sample[4][96];/* the first few, cleaned of control characters */
	size_t n_samples;
};

typedef void scan_emit_fn(void *arg, const char *p, size_t n);

struct scanner;
/* NULL on allocation failure. The cfg and its literals are copied. */
struct scanner *scan_new(const struct scan_cfg *cfg);
void scan_free(struct scanner *s);
/* Feed the next piece; redacted output goes to emit (possibly several calls,
 * possibly none: held back). */
void scan_feed(struct scanner *s, const char *buf, size_t len, scan_emit_fn *emit, void *arg);
/* End of the stream: release what is held back (scanned as final). */
void scan_finish(struct scanner *s, scan_emit_fn *emit, void *arg);
const struct scan_stats *scan_stats(const struct scanner *s);
const char *scan_detector_name(enum scan_detector d); /* "aws_access_key" */

/* Defaults: secrets and entropy on, 4.5 bits, 24 chars, instructions on. */
void scan_cfg_defaults(struct scan_cfg *cfg);

#endif
