/* The output gate's streaming secret scanner (the contract is in scan.h).
 *
 * Whatever the sandbox prints is written by code we do not trust and may
 * carry this run's secrets out, on purpose or by accident; every byte of it
 * passes here before a person, a log or a model sees it.
 *
 * Segments. The stream is cut into segments: a line with its '\n', or, for
 * a line longer than SCAN_HOLD, a piece cut just after the last space-like
 * byte of a window (never inside a token unless the token is kilobytes
 * long). Each segment is judged from its own bytes plus a few words of state
 * carried from the one before it (an open PEM block, a literal running past
 * a cut, a token cut in two, a wrapped base64 blob). Where segments end and
 * what the state holds are functions of the bytes alone, never of how the
 * stream was split into writes: that is why the output is the same for
 * every split, and the hold-back is just the unfinished segment.
 *
 * The hot loop. A segment is classified 16 bytes at a time into bitmaps
 * (token byte, '=', lower, upper, digit, non-ASCII) and split into token
 * runs ([A-Za-z0-9+/=_.%~-]) with bit scans, not a branch per byte. A run
 * is looked at further only when it is long (>= 16), holds a '=', ends in
 * a keyword ("password", "token", ...) or may start a flagged phrase; two
 * table reads let most runs go. No regular expressions: grep -E over the
 * same patterns is the speed to beat (bench/scan).
 *
 * Literals (this run's secrets and their encodings) are found with a 4-gram
 * filter probed every `stride` bytes, stride = the shortest pattern - 3
 * (>= 5, as patterns are >= 8 bytes): each occurrence then has a probed
 * 4-gram at one of its offsets 0..stride-1, and only those grams of each
 * pattern go into the filter. Hits are checked with memcmp.
 *
 * Redactions are intervals; overlapping ones merge into one marker, named
 * after the most specific detector (the lowest enum value) among them.
 */
#include "scan.h"

#include <endian.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG_MAX SCAN_HOLD	  /* a line longer than this is cut */
#define LIT_CHUNK 192		  /* literals are matched in pieces of at most this */
#define LIT_MAX_PAT (3 * LIT_CHUNK) /* the longest pattern: a URL-encoded piece */
#define CUT_LO (SEG_MAX / 2)	  /* a long line is cut in [CUT_LO, CUT_HI] ... */
#define CUT_HI (SEG_MAX - LIT_MAX_PAT) /* ... leaving room to see a literal whole */
#define PEM_MAX 65536		  /* a BEGIN without END redacts this much */
#define ENTROPY_MAX_LEN 512	  /* longer runs are blobs (images, bundles), not keys */
#define MAX_IV 520		  /* redactions per segment: >= 8 bytes each but two */
#define STRIP_CHUNK 16384
#define COMMENT_KEEP 512	  /* of an HTML comment, what is checked for instructions */

/* ---- characters --------------------------------------------------------- */

enum {
	C_LOW = 0x01,
	C_UP = 0x02,
	C_DIG = 0x04,
	C_EQ = 0x08,
	C_SYM = 0x10,	  /* + / _ . - % ~ */
	C_TOK = 0x1f,	  /* any of the above: a token byte */
	C_KEYLIKE = C_LOW | C_UP | C_DIG, /* what a random key has all of */
	C_HEX = 0x20,
	C_SPECIAL = 0x40, /* lead bytes of the invisible characters we flag */
	C_B64 = 0x80,	  /* standard base64 with padding */
};

static const uint8_t cls[256] = {
	['0' ... '9'] = C_DIG | C_HEX | C_B64,
	['A' ... 'F'] = C_UP | C_HEX | C_B64,
	['G' ... 'Z'] = C_UP | C_B64,
	['a' ... 'f'] = C_LOW | C_HEX | C_B64,
	['g' ... 'z'] = C_LOW | C_B64,
	['+'] = C_SYM | C_B64,
	['/'] = C_SYM | C_B64,
	['='] = C_EQ | C_B64,
	['_'] = C_SYM,
	['.'] = C_SYM,
	['-'] = C_SYM,
	['%'] = C_SYM,
	['~'] = C_SYM,
	[0xe2] = C_SPECIAL,
	[0xef] = C_SPECIAL,
	[0xf3] = C_SPECIAL,
};

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool is_letter(unsigned char c)
{
	return (cls[c] & (C_LOW | C_UP)) != 0;
}

static bool is_word_char(unsigned char c)
{
	return (cls[c] & (C_LOW | C_UP | C_DIG)) || c == '\'';
}

/* Case-insensitive: does p[0..n) equal the lowercase word w[0..n)? */
static bool ieq(const unsigned char *p, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (unsigned char)w[i])
			return false;
	return true;
}

static bool ends_with_i(const unsigned char *p, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && ieq(p + n - k, w, k);
}

/* The token classes found in p[0..n), and whether all of it is hex. */
static unsigned classes(const unsigned char *p, size_t n, bool *all_hex)
{
	unsigned any = 0, all = 0xff;
	for (size_t i = 0; i < n; i++) {
		any |= cls[p[i]];
		all &= cls[p[i]];
	}
	if (all_hex)
		*all_hex = n && (all & C_HEX);
	return any & C_TOK;
}

/* ln x for x > 0, without libm (only used to fill a table): reduce to
 * [0.75, 1.5], then 2 atanh((x-1)/(x+1)). */
static double ln_approx(double x)
{
	int k = 0;
	while (x > 1.5) {
		x /= 2;
		k++;
	}
	while (x < 0.75) {
		x *= 2;
		k--;
	}
	double y = (x - 1) / (x + 1), y2 = y * y, term = y, sum = 0;
	for (int i = 1; i < 40; i += 2) {
		sum += term / i;
		term *= y2;
	}
	return 2 * sum + k * 0.69314718055994530942;
}

/* ---- detectors, keywords, phrases ------------------------------------ */

static const char *const detector_names[SCAN_DETECTOR_COUNT] = {
	[SCAN_LITERAL] = "literal",
	[SCAN_PRIVATE_KEY] = "private_key",
	[SCAN_AWS_ACCESS_KEY] = "aws_access_key",
	[SCAN_AWS_SECRET] = "aws_secret",
	[SCAN_GCP_API_KEY] = "gcp_api_key",
	[SCAN_GCP_SERVICE_KEY] = "gcp_service_key",
	[SCAN_AZURE_KEY] = "azure_key",
	[SCAN_GITHUB_TOKEN] = "github_token",
	[SCAN_GITLAB_TOKEN] = "gitlab_token",
	[SCAN_SLACK_TOKEN] = "slack_token",
	[SCAN_STRIPE_KEY] = "stripe_key",
	[SCAN_OPENAI_KEY] = "openai_key",
	[SCAN_ANTHROPIC_KEY] = "anthropic_key",
	[SCAN_JWT] = "jwt",
	[SCAN_GENERIC_SECRET] = "generic_secret",
	[SCAN_ENTROPY] = "entropy",
};

/* What may follow a prefix. */
enum charset { S_UPDIG, S_ALNUM, S_WORD, S_B64URL, S_SLACK };

static bool in_set(unsigned char c, enum charset set)
{
	unsigned k = cls[c];
	switch (set) {
	case S_UPDIG:
		return k & (C_UP | C_DIG);
	case S_ALNUM:
		return k & (C_UP | C_LOW | C_DIG);
	case S_WORD:
		return (k & (C_UP | C_LOW | C_DIG)) || c == '_';
	case S_B64URL:
		return (k & (C_UP | C_LOW | C_DIG)) || c == '_' || c == '-';
	case S_SLACK:
		return (k & (C_UP | C_LOW | C_DIG)) || c == '-';
	}
	return false;
}

/* Token formats known by their prefix: the prefix, then min..max bytes of
 * the set (max 0: no limit). Longer prefixes before their shorter cousins
 * ("sk-ant-" before "sk-"). */
static const struct prefix {
	const char *p;
	uint8_t det, set;
	uint16_t min, max;
} prefixes[] = {
	{ "AKIA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "ASIA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "ABIA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "ACCA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "AGPA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "AIDA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "AIPA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "ANPA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "ANVA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "AROA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "APKA", SCAN_AWS_ACCESS_KEY, S_UPDIG, 16, 16 },
	{ "AIza", SCAN_GCP_API_KEY, S_B64URL, 35, 35 },
	{ "GOCSPX-", SCAN_GCP_API_KEY, S_B64URL, 24, 0 },
	{ "ya29.", SCAN_GCP_API_KEY, S_B64URL, 30, 0 },
	{ "ghp_", SCAN_GITHUB_TOKEN, S_ALNUM, 30, 0 },
	{ "gho_", SCAN_GITHUB_TOKEN, S_ALNUM, 30, 0 },
	{ "ghu_", SCAN_GITHUB_TOKEN, S_ALNUM, 30, 0 },
	{ "ghs_", SCAN_GITHUB_TOKEN, S_ALNUM, 30, 0 },
	{ "ghr_", SCAN_GITHUB_TOKEN, S_ALNUM, 30, 0 },
	{ "github_pat_", SCAN_GITHUB_TOKEN, S_WORD, 40, 0 },
	{ "glpat-", SCAN_GITLAB_TOKEN, S_B64URL, 20, 0 },
	{ "glptt-", SCAN_GITLAB_TOKEN, S_B64URL, 20, 0 },
	{ "glrt-", SCAN_GITLAB_TOKEN, S_B64URL, 20, 0 },
	{ "gldt-", SCAN_GITLAB_TOKEN, S_B64URL, 20, 0 },
	{ "xoxb-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xoxp-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xoxa-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xoxr-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xoxs-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xoxe-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "xapp-", SCAN_SLACK_TOKEN, S_SLACK, 10, 0 },
	{ "sk_live_", SCAN_STRIPE_KEY, S_ALNUM, 16, 0 },
	{ "rk_live_", SCAN_STRIPE_KEY, S_ALNUM, 16, 0 },
	{ "sk_test_", SCAN_STRIPE_KEY, S_ALNUM, 16, 0 },
	{ "rk_test_", SCAN_STRIPE_KEY, S_ALNUM, 16, 0 },
	{ "whsec_", SCAN_STRIPE_KEY, S_ALNUM, 24, 0 },
	{ "sk-ant-", SCAN_ANTHROPIC_KEY, S_B64URL, 32, 0 },
	{ "sk-", SCAN_OPENAI_KEY, S_B64URL, 32, 0 },
	{ "npm_", SCAN_GENERIC_SECRET, S_ALNUM, 36, 36 },
	{ "hf_", SCAN_GENERIC_SECRET, S_ALNUM, 30, 40 },
	{ "pypi-AgEIcHlwaS5vcmc", SCAN_GENERIC_SECRET, S_B64URL, 50, 0 },
};

/* How a keyword introduces its value. */
enum key_form {
	K_ASSIGN, /* key, then ':' '=' or '>' (quotes and blanks around) */
	K_SPACED, /* "Bearer VALUE": blanks only */
	K_BASIC,  /* "Basic BASE64(user:pass)" */
};

/* Keywords, matched as a case-insensitive suffix of the key ("DB_PASSWORD",
 * "x-api-key"); more specific before more general. "sig" is the exact
 * name of an Azure SAS signature parameter. */
static const struct keyword {
	const char *word;
	uint8_t det, form;
} keywords[] = {
	{ "secret_access_key", SCAN_AWS_SECRET, K_ASSIGN },
	{ "secretaccesskey", SCAN_AWS_SECRET, K_ASSIGN },
	{ "private_key_id", SCAN_GCP_SERVICE_KEY, K_ASSIGN },
	{ "accountkey", SCAN_AZURE_KEY, K_ASSIGN },
	{ "sharedaccesskey", SCAN_AZURE_KEY, K_ASSIGN },
	{ "password", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "passwd", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "passphrase", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "secret", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "token", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "api_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "apikey", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "api-key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "secret_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "secretkey", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "private_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "access_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "accesskey", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "signing_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "encryption_key", SCAN_GENERIC_SECRET, K_ASSIGN },
	{ "bearer", SCAN_GENERIC_SECRET, K_SPACED },
	{ "basic", SCAN_GENERIC_SECRET, K_BASIC },
};

#define K4(a, b, c, d) ((uint32_t)((a) | 0x20) | (uint32_t)((b) | 0x20) << 8 | \
			(uint32_t)((c) | 0x20) << 16 | (uint32_t)((d) | 0x20) << 24)

/* The hot-path filter for keywords: could the 4 bytes before end close
 * one? (OR 0x20 lowercases letters; a false yes only costs a full check.) */
static bool key_tail(const unsigned char *end)
{
	uint32_t t;
	memcpy(&t, end - 4, 4);
	t = le32toh(t) | 0x20202020u;
	switch (t) {
	case K4('w', 'o', 'r', 'd'): case K4('a', 's', 'w', 'd'): case K4('r', 'a', 's', 'e'):
	case K4('c', 'r', 'e', 't'): case K4('o', 'k', 'e', 'n'): case K4('_', 'k', 'e', 'y'):
	case K4('-', 'k', 'e', 'y'): case K4('i', 'k', 'e', 'y'): case K4('t', 'k', 'e', 'y'):
	case K4('s', 'k', 'e', 'y'): case K4('y', '_', 'i', 'd'): case K4('a', 'r', 'e', 'r'):
	case K4('a', 's', 'i', 'c'):
		return true;
	}
	return false;
}

static const struct keyword *keyword_of(const unsigned char *k, size_t n)
{
	static const struct keyword sig = { "sig", SCAN_AZURE_KEY, K_ASSIGN };
	if (n == 3 && memcmp(k, "sig", 3) == 0)
		return &sig;
	if (n < 4 || !key_tail(k + n))
		return NULL;
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (ends_with_i(k, n, keywords[i].word))
			return &keywords[i];
	return NULL;
}

/* Instruction-like phrases: words separated by spaces; a word is
 * alternatives separated by '|'; a leading '?' makes it optional. Matched
 * case-insensitively over blanks. Flagged, never removed: the person
 * reading the report decides. */
static const char *const phrases[] = {
	"ignore ?all ?of ?the|your|any|my previous|prior|above|earlier|preceding|original|former|all|other "
	"instructions|instruction|prompts|prompt|directions|rules|guidelines|messages|context|commands",
	"ignore|disregard|forget ?all ?of the above|foregoing",
	"disregard|forget|override|bypass ?all ?of ?the|your|any|my previous|prior|above|earlier|preceding|"
	"original|former|all|system|safety instructions|instruction|prompts|prompt|directions|rules|"
	"guidelines|messages|context|commands",
	"you are now a|an|dan|acting|in|free|unrestricted|jailbroken|no|going|operating|my",
	"system prompt|prompts",
	"do|must|should not tell|inform|notify|alert|mention|reveal|show ?this|that|it|anything ?to ?the "
	"user|users|human|operator",
	"don't|never|without tell|telling|inform|informing|notify|notifying|alert|alerting|mention|"
	"mentioning|reveal|revealing ?this|that|it|anything ?to ?the user|users|human|operator",
	"new|updated instructions",
	"if you are ?an|a ai|llm|assistant|agent|chatbot",
};
#define N_PHRASES (sizeof phrases / sizeof phrases[0])
#define CHAT_TOKENS N_PHRASES /* bit for "<|im_start|>", "[INST]", "<<SYS>>" */
_Static_assert(N_PHRASES < 32, "phrase bits are a uint32_t");
_Static_assert(sizeof prefixes / sizeof prefixes[0] <= 64, "prefix bits are a uint64_t");

/* ---- the scanner ---------------------------------------------------------- */

struct iv {
	size_t a, b;	/* offsets into the buffer being scanned */
	uint8_t det;
	bool cont;	/* continues a marker already written: no new one */
};

struct gram {
	uint16_t hash;
	uint8_t at;	/* offset of the gram in its pattern, < stride */
	uint32_t pat;
};

enum html_state { H_TEXT, H_LT, H_BANG, H_BANG_DASH, H_COMMENT, H_TAG, H_TAG_DQ, H_TAG_SQ };

struct scanner {
	struct scan_cfg cfg;
	struct scan_stats st;
	char **lits;			/* the cfg's literals, copied */

	/* literal patterns: text, offsets, lengths; grams sorted by hash */
	char *pat_text;
	size_t pat_text_len, pat_text_cap;
	uint32_t *pat_off;
	uint16_t *pat_len;
	size_t n_pats, pats_cap;
	struct gram *grams;
	size_t n_grams, stride;
	uint64_t gram_bits[65536 / 64];

	/* stream state carried from one segment to the next */
	uint64_t pos;		/* stream offset of the first byte not yet scanned */
	uint64_t lit_carry;	/* a literal cut by a long line's cut ends here */
	bool cont_run;		/* the next segment starts inside a token */
	bool pem, pem_end_seen;	/* inside a private key block (its END line) */
	size_t pem_left;	/* bytes the block may still take */
	size_t blob_width;	/* the last line was a wrapped base64 line this wide */
	enum html_state html;
	unsigned char tag_prev;
	unsigned dashes;
	size_t comment_len;
	char comment[COMMENT_KEEP];
	uint64_t strip_pos;		/* bytes the stripper has let through */
	uint64_t sample_key[4];		/* where the kept samples are (sample_slot) */
	struct pending_flag {
		size_t at;
		char label[24];
	} pend[4];			/* this segment's flags, waiting for a sample */
	size_t n_pend;

	/* this segment: its bitmaps (tokenize) and its redactions */
	struct seg_bits {
		uint64_t tok[SEG_MAX / 64 + 1], eq[SEG_MAX / 64 + 1], low[SEG_MAX / 64 + 1];
		uint64_t up[SEG_MAX / 64 + 1], dig[SEG_MAX / 64 + 1], hi[SEG_MAX / 64 + 1];
	} bits;
	struct iv tok[MAX_IV], lit[MAX_IV];
	size_t n_tok, n_lit;

	size_t hold_len;
	char hold[SEG_MAX];
	char *strip_out;		/* STRIP_CHUNK + 1 bytes, with strip_html */
};

/* Tables that depend on nothing but this file, built once (build_tables). */
static struct {
	uint32_t phrase_trig[26 * 26];	/* first two letters -> phrases to try */
	uint32_t phrase_len[26 * 26];	/* ... and the lengths their first words have */
	uint64_t prefix_first[256];	/* first byte -> prefixes[] to try */
	uint32_t key_end2[26];		/* keywords' last two letters: bit [a][b] */
	double xlogx[ENTROPY_MAX_LEN + 1]; /* c * log2(c) */
	char marker[SCAN_DETECTOR_COUNT][32];
	uint8_t marker_len[SCAN_DETECTOR_COUNT];
} tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* One segment being judged. */
struct seg {
	const unsigned char *buf;	/* the buffer; a and b are offsets into it */
	size_t a, b;
	size_t lim;			/* what may be read of it */
	bool blob;			/* a wrapped base64 line: no entropy judgement */
	bool invisible_flagged;
};

struct out {
	scan_emit_fn *emit;
	void *arg;
};

const char *scan_detector_name(enum scan_detector d)
{
	return (unsigned)d < SCAN_DETECTOR_COUNT ? detector_names[d] : "unknown";
}

void scan_cfg_defaults(struct scan_cfg *cfg)
{
	*cfg = (struct scan_cfg){
		.secrets = true,
		.entropy = true,
		.entropy_bits = 4.5,
		.entropy_min_len = 24,
		.instructions = true,
	};
}

const struct scan_stats *scan_stats(const struct scanner *s)
{
	return &s->st;
}

/* ---- literal patterns ------------------------------------------------------ */

static uint16_t gram_hash(uint32_t g)
{
	return (uint16_t)((g * 2654435761u) >> 16);
}

/* Add a pattern unless it is shorter than 8 bytes or one of the forms of
 * the same piece already (hex of digits is the same in both cases, base64
 * without '+' or '/' in both alphabets); patterns from `first` on are it. */
static int add_pattern(struct scanner *s, size_t first, const char *p, size_t n)
{
	if (n < 8)
		return 0;
	for (size_t i = first; i < s->n_pats; i++)
		if (s->pat_len[i] == n && memcmp(s->pat_text + s->pat_off[i], p, n) == 0)
			return 0;
	if (s->n_pats == s->pats_cap) {
		size_t cap = s->pats_cap ? 2 * s->pats_cap : 32;
		uint32_t *off = realloc(s->pat_off, cap * sizeof *off);
		if (!off)
			return -1;
		s->pat_off = off;
		uint16_t *len = realloc(s->pat_len, cap * sizeof *len);
		if (!len)
			return -1;
		s->pat_len = len;
		s->pats_cap = cap;
	}
	if (s->pat_text_len + n > s->pat_text_cap) {
		size_t cap = 2 * (s->pat_text_cap + n);
		char *t = realloc(s->pat_text, cap);
		if (!t)
			return -1;
		s->pat_text = t;
		s->pat_text_cap = cap;
	}
	memcpy(s->pat_text + s->pat_text_len, p, n);
	s->pat_off[s->n_pats] = (uint32_t)s->pat_text_len;
	s->pat_len[s->n_pats] = (uint16_t)n;
	s->pat_text_len += n;
	s->n_pats++;
	return 0;
}

/* The base64 characters of piece p[0..n) that do not depend on its
 * neighbours, when it starts `align` bytes into a 3-byte group: what any
 * base64 text holding the piece must contain. url: the -_ alphabet. */
static int add_base64(struct scanner *s, size_t first, const unsigned char *p, size_t n, unsigned align,
		      bool url)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[LIT_CHUNK * 2];
	size_t k = 0, bits = (align + n) * 8;
	for (size_t j = 0; 6 * j + 6 <= bits; j++) {
		/* the last byte a character needs is in the piece (the loop's
		 * bound); the first must be too */
		if (6 * j / 8 < align)
			continue;
		unsigned v = 0;
		for (size_t bit = 6 * j; bit < 6 * j + 6; bit++) {
			size_t byte = bit / 8;
			unsigned b = byte < align ? 0 : p[byte - align];
			v = v << 1 | ((b >> (7 - bit % 8)) & 1);
		}
		char c = std[v];
		if (url)
			c = c == '+' ? '-' : c == '/' ? '_' : c;
		out[k++] = c;
	}
	return add_pattern(s, first, out, k);
}

/* One piece of a literal, in every form it is looked for. */
static int add_piece(struct scanner *s, const unsigned char *p, size_t n)
{
	static const char hex_lo[] = "0123456789abcdef", hex_up[] = "0123456789ABCDEF";
	char buf[3 * LIT_CHUNK];
	size_t first = s->n_pats;
	int r = 0;
	/* raw, in lines: a segment never holds a line break */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j] != '\n' && p[j] != '\r')
			j++;
		r |= add_pattern(s, first, (const char *)p + i, j - i);
		i = j + 1;
	}
	for (int up = 0; up < 2; up++) {
		const char *hex = up ? hex_up : hex_lo;
		for (size_t i = 0; i < n; i++) {
			buf[2 * i] = hex[p[i] >> 4];
			buf[2 * i + 1] = hex[p[i] & 15];
		}
		r |= add_pattern(s, first, buf, 2 * n);
		/* percent-encoding (RFC 3986 unreserved kept) */
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = p[i];
			if ((cls[c] & (C_UP | C_LOW | C_DIG)) || c == '-' || c == '_' || c == '.' || c == '~') {
				buf[k++] = (char)c;
			} else {
				buf[k++] = '%';
				buf[k++] = hex[c >> 4];
				buf[k++] = hex[c & 15];
			}
		}
		if (k != n)
			r |= add_pattern(s, first, buf, k);
	}
	for (unsigned align = 0; align < 3; align++) {
		r |= add_base64(s, first, p, n, align, false);
		r |= add_base64(s, first, p, n, align, true);
	}
	return r;
}

/* A literal, cut into pieces of at most LIT_CHUNK (similar sizes, so no
 * piece is too short to look for). */
static int add_literal(struct scanner *s, const char *lit)
{
	size_t n = strlen(lit);
	if (n < 8)
		return 0;
	size_t pieces = (n + LIT_CHUNK - 1) / LIT_CHUNK, size = (n + pieces - 1) / pieces;
	for (size_t i = 0; i < n; i += size)
		if (add_piece(s, (const unsigned char *)lit + i, n - i < size ? n - i : size))
			return -1;
	return 0;
}

static int gram_cmp(const void *x, const void *y)
{
	const struct gram *a = x, *b = y;
	return (a->hash > b->hash) - (a->hash < b->hash);
}

static int build_grams(struct scanner *s)
{
	if (!s->n_pats)
		return 0;
	s->stride = 32;
	for (size_t i = 0; i < s->n_pats; i++)
		if (s->pat_len[i] - 3u < s->stride)
			s->stride = s->pat_len[i] - 3u;
	s->grams = calloc(s->n_pats * s->stride, sizeof *s->grams);
	if (!s->grams)
		return -1;
	for (size_t i = 0; i < s->n_pats; i++)
		for (unsigned at = 0; at < s->stride; at++) {
			uint32_t g;
			memcpy(&g, s->pat_text + s->pat_off[i] + at, 4);
			uint16_t h = gram_hash(g);
			s->grams[s->n_grams++] = (struct gram){ .hash = h, .at = (uint8_t)at, .pat = (uint32_t)i };
			s->gram_bits[h >> 6] |= 1ull << (h & 63);
		}
	qsort(s->grams, s->n_grams, sizeof *s->grams, gram_cmp);
	return 0;
}

/* ---- setup ---------------------------------------------------------------- */

/* Which phrases a word may start, by its first two letters and its length
 * as a token run ("don't" is the run "don"): most words are let go after
 * two table reads. */
static void trigger(const char *w, size_t run_len, unsigned bit)
{
	unsigned idx = (unsigned)(lower((unsigned char)w[0]) - 'a') * 26 + lower((unsigned char)w[1]) - 'a';
	tables.phrase_trig[idx] |= 1u << bit;
	tables.phrase_len[idx] |= 1u << run_len;
}

static void build_tables(void)
{
	for (size_t i = 0; i < N_PHRASES; i++) {
		const char *w = phrases[i];
		const char *end = strchr(w, ' ');
		while (w < end) {
			size_t run = 0;
			while (cls[(unsigned char)w[run]] & C_TOK)
				run++;
			trigger(w, run, (unsigned)i);
			w = strchr(w, '|');
			if (!w || w > end)
				break;
			w++;
		}
	}
	trigger("im_start", 8, CHAT_TOKENS);
	trigger("im_end", 6, CHAT_TOKENS);
	trigger("INST", 4, CHAT_TOKENS);
	trigger("SYS", 3, CHAT_TOKENS);
	for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++)
		tables.prefix_first[(unsigned char)prefixes[k].p[0]] |= 1ull << k;
	for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
		size_t n = strlen(keywords[k].word);
		tables.key_end2[keywords[k].word[n - 2] - 'a'] |= 1u << (keywords[k].word[n - 1] - 'a');
	}
	for (size_t c = 1; c <= ENTROPY_MAX_LEN; c++)
		tables.xlogx[c] = (double)c * ln_approx((double)c) / 0.69314718055994530942;
	for (int d = 0; d < SCAN_DETECTOR_COUNT; d++) {
		int n = snprintf(tables.marker[d], sizeof tables.marker[d], "[REDACTED:%s]", detector_names[d]);
		tables.marker_len[d] = (uint8_t)n;
	}
}

struct scanner *scan_new(const struct scan_cfg *cfg)
{
	struct scanner *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cfg.literals = NULL;
	s->cfg.n_literals = 0;
	if (s->cfg.entropy_min_len < 8)
		s->cfg.entropy_min_len = 8;
	if (cfg->n_literals) {
		s->lits = calloc(cfg->n_literals, sizeof *s->lits);
		if (!s->lits)
			goto fail;
		for (size_t i = 0; i < cfg->n_literals; i++) {
			if (!cfg->literals[i])
				continue;
			s->lits[s->cfg.n_literals] = strdup(cfg->literals[i]);
			if (!s->lits[s->cfg.n_literals])
				goto fail;
			if (add_literal(s, s->lits[s->cfg.n_literals++]))
				goto fail;
		}
		s->cfg.literals = (const char *const *)s->lits;
	}
	if (build_grams(s))
		goto fail;
	if (s->cfg.strip_html && !(s->strip_out = malloc(STRIP_CHUNK + 1)))
		goto fail;
	pthread_once(&tables_once, build_tables);
	return s;
fail:
	scan_free(s);
	return NULL;
}

void scan_free(struct scanner *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cfg.n_literals; i++)
		free(s->lits[i]);
	free(s->lits);
	free(s->pat_text);
	free(s->pat_off);
	free(s->pat_len);
	free(s->grams);
	free(s->strip_out);
	free(s);
}

/* ---- flags ------------------------------------------------------------------ */

static bool holds_literal(const struct scanner *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < s->n_pats; i++)
		if (s->pat_len[i] <= n && memmem(p, n, s->pat_text + s->pat_off[i], s->pat_len[i]))
			return true;
	return false;
}

/* The slot for a new sample, or NULL. The samples kept are those earliest
 * in the stream (key: stream offset times two, plus one for text that was
 * not stripped), so that they do not depend on how the stream was split. */
static char *sample_slot(struct scanner *s, uint64_t key)
{
	const size_t max = sizeof s->st.flag_sample / sizeof s->st.flag_sample[0];
	if (s->st.n_samples == max && key >= s->sample_key[max - 1])
		return NULL;
	size_t i = s->st.n_samples < max ? s->st.n_samples++ : max - 1;
	for (; i > 0 && s->sample_key[i - 1] > key; i--) {
		memcpy(s->st.flag_sample[i], s->st.flag_sample[i - 1], sizeof s->st.flag_sample[0]);
		s->sample_key[i] = s->sample_key[i - 1];
	}
	s->sample_key[i] = key;
	return s->st.flag_sample[i];
}

#define SAMPLE_CAP (sizeof ((struct scan_stats *)0)->flag_sample[0] - 1)

static size_t sample_put(char *o, size_t k, const char *p, size_t n)
{
	for (size_t i = 0; i < n && k < SAMPLE_CAP; i++) {
		unsigned char c = (unsigned char)p[i];
		o[k++] = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
	}
	o[k] = '\0';
	return k;
}

/* A flag in text the stripper removed (an HTML comment): no redactions were
 * computed for it, so runs of 8+ token bytes other than plain words, and
 * any holding a literal, become "[...]" in the sample. */
static void flag_removed(struct scanner *s, uint64_t key, const char *label, const unsigned char *p,
			 const unsigned char *e)
{
	s->st.flags++;
	char *o = sample_slot(s, key);
	if (!o)
		return;
	size_t k = sample_put(o, 0, label, strlen(label));
	while (p < e && k < SAMPLE_CAP) {
		const unsigned char *q = p;
		while (q < e && (cls[*q] & C_TOK))
			q++;
		size_t n = q > p ? (size_t)(q - p) : 1;
		if (n >= 8 && ((classes(p, n, NULL) & ~(unsigned)(C_LOW | C_UP)) || holds_literal(s, p, n)))
			k = sample_put(o, k, "[...]", 5);
		else
			k = sample_put(o, k, (const char *)p, n);
		p += n;
	}
}

/* A flag in a segment: counted now, its sample written once the segment's
 * redactions are known (samples_done), so that it shows what the output
 * shows and never what was redacted. */
static void flag_later(struct scanner *s, const struct seg *sg, const char *label, const unsigned char *at)
{
	const size_t max = sizeof s->pend / sizeof s->pend[0];
	size_t off = (size_t)(at - sg->buf), i = s->n_pend < max ? s->n_pend : max - 1;
	s->st.flags++;
	/* keep the segment's first few by position, like sample_slot */
	if (s->n_pend == max && off >= s->pend[max - 1].at)
		return;
	for (; i > 0 && s->pend[i - 1].at > off; i--)
		s->pend[i] = s->pend[i - 1];
	if (s->n_pend < max)
		s->n_pend++;
	s->pend[i].at = off;
	snprintf(s->pend[i].label, sizeof s->pend[i].label, "%s", label);
}

static void samples_done(struct scanner *s, const struct seg *sg)
{
	for (size_t n = 0; n < s->n_pend; n++) {
		const struct pending_flag *f = &s->pend[n];
		char *o = sample_slot(s, (s->pos + f->at) * 2 + 1);
		if (!o)
			continue;
		size_t k = sample_put(o, 0, f->label, strlen(f->label)), x = f->at, i = 0, j = 0;
		while (x < sg->b && sg->buf[x] != '\n' && k < SAMPLE_CAP) {
			size_t end = x;
			int det = SCAN_DETECTOR_COUNT;
			while (i < s->n_tok && s->tok[i].b <= x)
				i++;
			while (j < s->n_lit && s->lit[j].b <= x)
				j++;
			if (i < s->n_tok && s->tok[i].a <= x) {
				end = s->tok[i].b;
				det = s->tok[i].det;
			}
			if (j < s->n_lit && s->lit[j].a <= x && s->lit[j].b > end) {
				end = s->lit[j].b;
				det = SCAN_LITERAL;
			}
			if (end > x) {
				k = sample_put(o, k, tables.marker[det], tables.marker_len[det]);
				x = end;
			} else {
				k = sample_put(o, k, (const char *)sg->buf + x++, 1);
			}
		}
	}
	s->n_pend = 0;
}

static const unsigned char *skip_blanks(const unsigned char *p, const unsigned char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Does text at p (a word start) match pat from its current word on? Returns
 * the end of the match or NULL. */
static const unsigned char *phrase_match(const char *pat, const unsigned char *p, const unsigned char *e)
{
	bool optional = *pat == '?';
	pat += optional;
	const char *slot_end = strchrnul(pat, ' ');
	const char *next = *slot_end ? slot_end + 1 : NULL;
	for (const char *alt = pat; alt < slot_end;) {
		const char *bar = memchr(alt, '|', (size_t)(slot_end - alt));
		const char *alt_end = bar ? bar : slot_end;
		size_t k = (size_t)(alt_end - alt);
		if ((size_t)(e - p) >= k && ieq(p, alt, k) && (p + k == e || !is_word_char(p[k]))) {
			if (!next)
				return p + k;
			const unsigned char *q = skip_blanks(p + k, e);
			const unsigned char *r = q > p + k ? phrase_match(next, q, e) : NULL;
			if (r)
				return r;
		}
		alt = alt_end + 1;
	}
	return optional && next ? phrase_match(next, p, e) : NULL;
}

/* Chat-template control tokens in plain output: "<|im_start|>", "[INST]",
 * "<<SYS>>" (a run starts at r; lo is where looking back must stop). */
static bool chat_token(const unsigned char *lo, const unsigned char *r, const unsigned char *e)
{
	size_t back = (size_t)(r - lo), fwd = (size_t)(e - r);
	if (back >= 2 && r[-2] == '<' && r[-1] == '|' &&
	    ((fwd >= 10 && memcmp(r, "im_start|>", 10) == 0) || (fwd >= 8 && memcmp(r, "im_end|>", 8) == 0)))
		return true;
	if (back >= 1 && r[-1] == '[' && fwd >= 5 && memcmp(r, "INST]", 5) == 0)
		return true;
	return back >= 2 && r[-2] == '<' && r[-1] == '<' && fwd >= 5 && memcmp(r, "SYS>>", 5) == 0;
}

/* Is an instruction-like phrase at r, a word start? Its flag: in segment
 * sg, or (sg NULL) in removed text at stream key `key` (see sample_slot). */
static void phrase_at(struct scanner *s, const struct seg *sg, uint64_t key, const char *label,
		      const unsigned char *lo, const unsigned char *r, const unsigned char *e)
{
	if (e - r < 2 || !is_letter(r[0]) || !is_letter(r[1]))
		return;
	uint32_t bits = tables.phrase_trig[(lower(r[0]) - 'a') * 26 + lower(r[1]) - 'a'];
	const unsigned char *at = NULL;
	if (!bits)
		return;
	if ((bits >> CHAT_TOKENS & 1) && chat_token(lo, r, e))
		at = r - (r - lo >= 2 && r[-2] == '<' ? 2 : 1);
	for (size_t i = 0; !at && i < N_PHRASES; i++)
		if ((bits >> i & 1) && phrase_match(phrases[i], r, e))
			at = r;
	if (at && sg)
		flag_later(s, sg, label, at);
	else if (at)
		flag_removed(s, key, label, at, e);
}

/* Phrases anywhere in p[0..n) (an HTML comment the stripper removed). */
static void phrases_in(struct scanner *s, uint64_t key, const char *label, const unsigned char *p, size_t n)
{
	const unsigned char *e = p + n;
	for (const unsigned char *q = p; q < e;) {
		while (q < e && !is_letter(*q))
			q++;
		const unsigned char *w = q;
		while (q < e && is_word_char(*q))
			q++;
		if (w < e)
			phrase_at(s, NULL, key, label, p, w, e);
	}
}

/* Invisible characters (zero-width, bidi overrides, Unicode tags) hide
 * text from a person while a model still reads it. p is at a C_SPECIAL
 * lead byte. One flag per segment. */
static void invisible_at(struct scanner *s, struct seg *sg, const unsigned char *p, const unsigned char *e)
{
	const unsigned char *lo = sg->buf + sg->a;
	if (sg->invisible_flagged || e - p < 3)
		return;
	uint32_t cp = 0;
	if (p[0] == 0xe2 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80)
		cp = 0x2000u | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	else if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		cp = 0xfeff;
	else if (p[0] == 0xf3 && e - p >= 4 && p[1] == 0xa0 && (p[2] == 0x80 || p[2] == 0x81))
		cp = 0xe0000;
	bool hit;
	switch (cp) {
	case 0x200b: case 0x2060: case 0x2061: case 0x2062: case 0x2063: case 0x2064:
	case 0x202a: case 0x202b: case 0x202c: case 0x202d: case 0x202e:
	case 0x2066: case 0x2067: case 0x2068: case 0x2069: case 0xe0000:
		hit = true;
		break;
	case 0x200c: case 0x200d:	/* joiners: legitimate inside emoji and scripts */
		hit = p > lo && p[-1] < 0x80;
		break;
	case 0xfeff:			/* a byte order mark at a line start is just that */
		hit = p > lo;
		break;
	default:
		hit = false;
	}
	if (!hit)
		return;
	sg->invisible_flagged = true;
	char label[32];
	snprintf(label, sizeof label, "invisible U+%04X: ", (unsigned)cp);
	flag_later(s, sg, label, lo);
}

/* ---- redactions ------------------------------------------------------------- */

static void add_tok(struct scanner *s, const struct seg *sg, const unsigned char *a, const unsigned char *b,
		    int det, bool cont)
{
	size_t x = (size_t)(a - sg->buf), y = (size_t)(b - sg->buf);
	if (y <= x)
		return;
	if (s->n_tok && x < s->tok[s->n_tok - 1].b) {
		struct iv *l = &s->tok[s->n_tok - 1];
		if (y > l->b)
			l->b = y;
		if (det < l->det)
			l->det = (uint8_t)det;
		return;
	}
	if (s->n_tok == MAX_IV) {	/* cannot happen (runs >= 8 bytes); fail closed */
		s->tok[MAX_IV - 1].b = y;
		return;
	}
	s->tok[s->n_tok++] = (struct iv){ .a = x, .b = y, .det = (uint8_t)det, .cont = cont };
}

/* Literal matches arrive nearly sorted (less than a stride out of order):
 * insert, then merge with the neighbours (touching ones too). */
static void add_lit(struct scanner *s, size_t a, size_t b)
{
	size_t i = s->n_lit;
	while (i > 0 && s->lit[i - 1].a > a)
		i--;
	if (i > 0 && a <= s->lit[i - 1].b) {
		i--;
		if (b > s->lit[i].b)
			s->lit[i].b = b;
	} else if (i < s->n_lit && b >= s->lit[i].a) {
		s->lit[i].a = a;
		if (b > s->lit[i].b)
			s->lit[i].b = b;
	} else if (s->n_lit == MAX_IV) {	/* cannot happen; fail closed */
		s->lit[MAX_IV - 1].b = b > s->lit[MAX_IV - 1].b ? b : s->lit[MAX_IV - 1].b;
		return;
	} else {
		memmove(&s->lit[i + 1], &s->lit[i], (s->n_lit - i) * sizeof s->lit[0]);
		s->lit[i] = (struct iv){ .a = a, .b = b, .det = SCAN_LITERAL };
		s->n_lit++;
	}
	/* the grown interval may now reach its right neighbours */
	while (i + 1 < s->n_lit && s->lit[i + 1].a <= s->lit[i].b) {
		if (s->lit[i + 1].b > s->lit[i].b)
			s->lit[i].b = s->lit[i + 1].b;
		memmove(&s->lit[i + 1], &s->lit[i + 2], (s->n_lit - i - 2) * sizeof s->lit[0]);
		s->n_lit--;
	}
}

/* Literal occurrences starting in [a, c), seen through la. */
static void find_literals(struct scanner *s, const unsigned char *buf, size_t a, size_t c, size_t la)
{
	for (size_t i = a; i + 1 < c + s->stride && i + 4 <= la; i += s->stride) {
		uint32_t g;
		memcpy(&g, buf + i, 4);
		uint16_t h = gram_hash(g);
		if (!(s->gram_bits[h >> 6] >> (h & 63) & 1))
			continue;
		size_t lo = 0, hi = s->n_grams;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (s->grams[mid].hash < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < s->n_grams && s->grams[lo].hash == h; lo++) {
			const struct gram *gr = &s->grams[lo];
			size_t len = s->pat_len[gr->pat];
			if (i < a + gr->at || i - gr->at >= c || i - gr->at + len > la)
				continue;
			size_t t = i - gr->at;
			if (memcmp(buf + t, s->pat_text + s->pat_off[gr->pat], len) == 0)
				add_lit(s, t, t + len);
		}
	}
}

/* ---- token detectors -------------------------------------------------- */

/* A JWT: header.payload.signature, both JSON parts base64url of '{"'. */
static size_t jwt_len(const unsigned char *t, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		size_t start = i;
		if (part < 2 && (n - i < 3 || memcmp(t + i, "eyJ", 3) != 0))
			return 0;
		while (i < n && in_set(t[i], S_B64URL))
			i++;
		if (part < 2 && (i - start < 10 || i >= n || t[i] != '.'))
			return 0;
		if (part < 2)
			i++;
	}
	return i;
}

/* Known formats at the start of t[0..n). Adds the redaction; true if one. */
static bool known_token(struct scanner *s, const struct seg *sg, const unsigned char *t, size_t n)
{
	if (n < 15)
		return false;
	if (t[0] == 'e' && t[1] == 'y' && t[2] == 'J') {
		size_t k = jwt_len(t, n);
		if (k) {
			add_tok(s, sg, t, t + k, SCAN_JWT, false);
			return true;
		}
		return false;
	}
	if (t[0] == 'h' && n > 40 && memcmp(t, "hooks.slack.com/services/", 25) == 0) {
		const unsigned char *v = t + 25, *e = t + n;
		while (e > v && e[-1] == '.')
			e--;
		if (e - v >= 20) {
			add_tok(s, sg, v, e, SCAN_SLACK_TOKEN, false);
			return true;
		}
		return false;
	}
	/* Azure AD client secrets: three characters, a digit, "Q~", 31+ more */
	if (n >= 34 && (cls[t[3]] & C_DIG) && t[4] == 'Q' && t[5] == '~') {
		size_t i = 0;
		while (i < n && ((cls[t[i]] & (C_UP | C_LOW | C_DIG)) || t[i] == '_' || t[i] == '~' ||
				 t[i] == '.' || t[i] == '-'))
			i++;
		if (i >= 34 && i <= 40) {
			add_tok(s, sg, t, t + i, SCAN_AZURE_KEY, false);
			return true;
		}
	}
	for (uint64_t bits = tables.prefix_first[t[0]]; bits; bits &= bits - 1) {
		const struct prefix *pr = &prefixes[__builtin_ctzll(bits)];
		size_t pl = strlen(pr->p);
		if (n < pl + pr->min || memcmp(t, pr->p, pl) != 0)
			continue;
		size_t i = pl;
		while (i < n && in_set(t[i], pr->set))
			i++;
		size_t body = i - pl;
		if (body < pr->min || (pr->max && body > pr->max))
			continue;
		add_tok(s, sg, t, t + i, pr->det, false);
		return true;
	}
	return false;
}

/* Shannon entropy of t[0..n) in bits per character, with the Miller-Madow
 * correction ((K-1)/2N nats, K distinct characters): the plain estimate is
 * biased low on short strings; by it, a random 24-character key would reach
 * 4.5 bits one time in twenty, with the correction 19 times in 20. */
static double entropy(struct scanner *s, const unsigned char *t, size_t n)
{
	uint16_t hist[256];
	unsigned distinct = 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		hist[t[i]] = 0;
	for (size_t i = 0; i < n; i++)
		distinct += hist[t[i]]++ == 0;
	for (size_t i = 0; i < n; i++)
		if (hist[t[i]]) {
			sum += tables.xlogx[hist[t[i]]];
			hist[t[i]] = 0;
		}
	return tables.xlogx[n] / (double)n - sum / (double)n +
	       (distinct - 1) / (2.0 * (double)n * 0.69314718055994530942);
}

/* Is half of t or more in lowercase words (runs of 3+ letters)? Paths,
 * dotted and CamelCase names are; a random key rarely is (about 1.5 % of
 * random 24-character base64 strings, 0.2 % at 40). */
static bool wordy(const unsigned char *t, size_t n)
{
	size_t in_words = 0, run = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && t[i] >= 'a' && t[i] <= 'z') {
			run++;
			continue;
		}
		if (run >= 3)
			in_words += run;
		run = 0;
	}
	return 2 * in_words >= n;
}

/* Unknown formats: a long token that looks random. Ordinary output has
 * plenty of long tokens that only look random (hashes, UUIDs, integrity
 * digests, wrapped base64, mangled symbols); those are left alone. */
static void entropy_token(struct scanner *s, const struct seg *sg, const unsigned char *t, size_t n)
{
	if (n < s->cfg.entropy_min_len || n > ENTROPY_MAX_LEN || sg->blob)
		return;
	bool all_hex;
	unsigned m = classes(t, n, &all_hex);
	/* random keys of 24+ characters nearly always mix all three classes
	 * (a lowercase path, an uppercase id or a number does not) */
	if ((m & C_KEYLIKE) != C_KEYLIKE)
		return;
	if (all_hex && (n == 32 || n == 40 || n == 56 || n == 64 || n == 96 || n == 128))
		return;
	/* neither base64 alphabet has both '/' and '.': a path or a URL
	 * (judge_token looks at its parts) */
	if (memchr(t, '/', n) && memchr(t, '.', n))
		return;
	if (memcmp(t, "AAAA", 4) == 0 ||	/* SSH public key blobs */
	    (t[0] == '_' && t[1] == 'Z') ||	/* C++ mangled names */
	    (memcmp(t, "sha", 3) == 0 && memchr(t + 3, '-', 4)))	/* SRI: sha512-... */
		return;
	if (wordy(t, n))
		return;
	size_t back = (size_t)(t - (sg->buf + sg->a));
	if ((back >= 7 && memcmp(t - 7, "base64,", 7) == 0) ||	/* data: URIs */
	    (back >= 3 && memcmp(t - 3, "h1:", 3) == 0))	/* go.sum hashes */
		return;
	if (entropy(s, t, n) >= s->cfg.entropy_bits)
		add_tok(s, sg, t, t + n, SCAN_ENTROPY, false);
}

/* Trim what is not part of a key: a sentence's full stop, a path's
 * leading "./" or "//", a flag's dashes. */
static void trim(const unsigned char **t, size_t *n)
{
	while (*n && (*t)[*n - 1] == '.')
		(*n)--;
	while (*n && ((*t)[0] == '.' || (*t)[0] == '/' || (*t)[0] == '-')) {
		(*t)++;
		(*n)--;
	}
}

/* A token with no keyword before it. m: the classes of the run it is in
 * (a superset of its own): most runs lack one of the three entropy wants.
 * A path or URL (both '/' and '.', which no base64 has) is judged part by
 * part: a key in a webhook's path is caught, "x86_64-linux-gnu" is not. */
static void judge_token(struct scanner *s, const struct seg *sg, const unsigned char *t, size_t n, unsigned m)
{
	trim(&t, &n);
	if (s->cfg.secrets && known_token(s, sg, t, n))
		return;
	if (n > 16 && memchr(t, '/', n) && memchr(t, '.', n)) {
		for (const unsigned char *c = t, *e = t + n; c < e;) {
			const unsigned char *sl = memchr(c, '/', (size_t)(e - c));
			if (!sl)
				sl = e;
			bool known = s->cfg.secrets && known_token(s, sg, c, (size_t)(sl - c));
			if (!known && s->cfg.entropy && (m & C_KEYLIKE) == C_KEYLIKE)
				entropy_token(s, sg, c, (size_t)(sl - c));
			c = sl + 1;
		}
		return;
	}
	if (s->cfg.entropy && (m & C_KEYLIKE) == C_KEYLIKE)
		entropy_token(s, sg, t, n);
}

/* "Basic dXNlcjpwYXNz": does the base64 decode to something with a ':'? */
static bool basic_credentials(const unsigned char *t, size_t n)
{
	unsigned acc = 0, bits = 0;
	if (n < 8 || n % 4)
		return false;
	for (size_t i = 0; i < n && t[i] != '='; i++) {
		unsigned char c = t[i];
		unsigned v = c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A') : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 26)
			   : c >= '0' && c <= '9' ? (unsigned)(c - '0' + 52) : c == '+' ? 62u : c == '/' ? 63u : 64u;
		if (v == 64)
			return false;
		acc = (acc << 6 | v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (((acc >> bits) & 0xff) == ':')
				return true;
		}
	}
	return false;
}

/* The value after a keyword ("password: VALUE"). */
static void judge_value(struct scanner *s, const struct seg *sg, const unsigned char *v, size_t n,
			const struct keyword *kw)
{
	while (n && v[0] == '=') {
		v++;
		n--;
	}
	while (n && v[n - 1] == '.')
		n--;
	if (n == 0)
		return;
	if (known_token(s, sg, v, n))
		return;
	bool all_hex;
	unsigned m = classes(v, n, &all_hex);
	bool b64 = true;
	for (size_t i = 0; i < n; i++)
		b64 &= (cls[v[i]] & C_B64) || v[i] == '%';
	int det = -1;
	switch (kw->form) {
	case K_BASIC:
		det = basic_credentials(v, n) ? SCAN_GENERIC_SECRET : -1;
		break;
	case K_SPACED:
		det = n >= 16 || (n >= 8 && (m & C_DIG)) ? SCAN_GENERIC_SECRET : -1;
		break;
	default:
		if (kw->det == SCAN_AWS_SECRET && n == 40 && b64)
			det = SCAN_AWS_SECRET;
		else if (kw->det == SCAN_GCP_SERVICE_KEY && n >= 16 && all_hex)
			det = SCAN_GCP_SERVICE_KEY;
		else if (kw->det == SCAN_AZURE_KEY && n >= 20 && b64)
			det = SCAN_AZURE_KEY;
		/* a value that looks chosen, not a path, a dotted name or a number */
		else if (n >= 8 && v[0] != '/' && v[0] != '~' && (m & ~(unsigned)C_DIG) &&
			 ((m & C_DIG) || memchr(v, '+', n) || memchr(v, '%', n) || v[n - 1] == '='))
			det = SCAN_GENERIC_SECRET;
	}
	if (det >= 0)
		add_tok(s, sg, v, v + n, det, false);
	else if (s->cfg.entropy)
		entropy_token(s, sg, v, n);
}

/* A run that is long or holds a '=': split at "key=value" boundaries (a
 * '=' followed by something else than padding) and judge the parts. */
static void judge_run(struct scanner *s, const struct seg *sg, const unsigned char *r, size_t n, unsigned m)
{
	const unsigned char *t = r, *e = r + n;
	const struct keyword *kw = NULL;
	if (!(m & C_EQ)) {
		judge_token(s, sg, r, n, m);
		return;
	}
	while (t < e) {
		const unsigned char *q = t;
		while (q < e && !(*q == '=' && q + 1 < e && q[1] != '='))
			q++;
		if (kw && s->cfg.secrets)
			judge_value(s, sg, t, (size_t)(q - t), kw);
		else
			judge_token(s, sg, t, (size_t)(q - t), m);
		kw = q < e ? keyword_of(t, (size_t)(q - t)) : NULL;
		t = q + (q < e);
	}
}

/* ---- private key blocks ------------------------------------------------- */

/* "-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----" at r: the header's end. */
static const unsigned char *pem_header(const unsigned char *r, const unsigned char *e)
{
	const unsigned char *p = r + 10, *lim = e - r > 90 ? r + 90 : e;
	if (memcmp(r, "-----BEGIN", 10) != 0 || p >= lim || *p != ' ')
		return NULL;
	const unsigned char *label = p + 1;
	while (p < lim && ((cls[*p] & (C_UP | C_DIG)) || *p == ' '))
		p++;
	if (lim - p < 5 || memcmp(p, "-----", 5) != 0 || !memmem(label, (size_t)(p - label), "PRIVATE KEY", 11))
		return NULL;
	return p + 5;
}

/* Inside a block: swallow up to its END line's closing dashes, the bound,
 * or the segment's end (then the block goes on in the next segment). */
static const unsigned char *pem_continue(struct scanner *s, const unsigned char *p, const unsigned char *e)
{
	size_t lim = (size_t)(e - p) < s->pem_left ? (size_t)(e - p) : s->pem_left;
	const unsigned char *q = p;
	if (!s->pem_end_seen) {
		q = memmem(p, lim, "-----END", 8);
		if (!q) {
			s->pem_left -= lim;
			s->pem = s->pem_left > 0;
			return p + lim;
		}
		q += 8;
	}
	const unsigned char *x = q, *stop = e - q > 80 ? q + 80 : e;
	s->pem_end_seen = false;
	for (; x < stop && *x != '\n'; x++)
		if (stop - x >= 5 && memcmp(x, "-----", 5) == 0) {
			s->pem = false;
			return x + 5;
		}
	if (x == e && (size_t)(e - p) < s->pem_left) {	/* the END line goes on in the next segment */
		s->pem_end_seen = true;
		s->pem_left -= (size_t)(e - p);
		return e;
	}
	s->pem = false;		/* a malformed END line: the block ends with it */
	return x;
}

/* ---- segments --------------------------------------------------------------- */

/* One of the lines of a wrapped base64 blob (base64(1) writes 76 columns,
 * openssl and PEM 64; the last line is shorter)? */
static bool blob_line(struct scanner *s, const unsigned char *p, size_t n)
{
	size_t width = s->blob_width;
	s->blob_width = 0;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n != 64 && n != 76 && !(width && n <= width))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(cls[p[i]] & C_B64))
			return false;
	if ((n == 64 || n == 76) && (!width || width == n))
		s->blob_width = n;
	return true;
}

/* ---- the token runs of a segment, as bitmaps --------------------------------
 * One bit per byte: a token byte, '=', lowercase, uppercase, digit, >= 0x80.
 * Built 16 bytes at a time where SSE2 is there (every x86-64), else byte by
 * byte from cls[]; the same bits either way. Runs are then found with bit
 * scans instead of a branch per byte. */

#if defined(__SSE2__)
#include <emmintrin.h>

struct masks16 {
	unsigned tok, eq, low, up, dig, hi;
};

/* Is every byte of x in [lo, lo + span]? (unsigned, wrapping subtraction) */
static inline __m128i in_range(__m128i x, char lo, char span)
{
	__m128i d = _mm_sub_epi8(x, _mm_set1_epi8(lo));
	return _mm_cmpeq_epi8(_mm_subs_epu8(d, _mm_set1_epi8(span)), _mm_setzero_si128());
}

static inline struct masks16 classify16(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)p);
	__m128i alpha = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 25);
	__m128i upper = _mm_and_si128(alpha, _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8(0x20)),
							      _mm_setzero_si128()));
	__m128i dig = in_range(x, '0', 9);
	__m128i eq = _mm_cmpeq_epi8(x, _mm_set1_epi8('='));
	__m128i sym = _mm_or_si128(in_range(x, '-', 2),	/* - . / */
				   _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')),
							     _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
						_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('%')),
							     _mm_cmpeq_epi8(x, _mm_set1_epi8('~')))));
	__m128i tok = _mm_or_si128(_mm_or_si128(alpha, dig), _mm_or_si128(eq, sym));
	return (struct masks16){
		.tok = (unsigned)_mm_movemask_epi8(tok),
		.eq = (unsigned)_mm_movemask_epi8(eq),
		.low = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(upper, alpha)),
		.up = (unsigned)_mm_movemask_epi8(upper),
		.dig = (unsigned)_mm_movemask_epi8(dig),
		.hi = (unsigned)_mm_movemask_epi8(x),
	};
}
#endif

/* The bitmaps of p[0..n); bytes up to p[readable) may be read. Returns
 * whether there is a '=' at all (most lines have none). */
static bool classify(struct seg_bits *bm, const unsigned char *p, size_t n, size_t readable)
{
	uint64_t any_eq = 0;
	for (size_t w = 0; 64 * w < n; w++) {
		const unsigned char *q = p + 64 * w;
		size_t left = n - 64 * w;
		uint64_t tok = 0, eq = 0, low = 0, up = 0, dig = 0, hi = 0;
#if defined(__SSE2__)
		/* 16-byte chunks as far as the segment goes (lines are short) */
		size_t chunks = left >= 64 ? 4 : (left + 15) / 16;
		if (readable - 64 * w >= 16 * chunks) {
			for (unsigned k = 0; k < chunks; k++) {
				struct masks16 m = classify16(q + 16 * k);
				tok |= (uint64_t)m.tok << (16 * k);
				eq |= (uint64_t)m.eq << (16 * k);
				low |= (uint64_t)m.low << (16 * k);
				up |= (uint64_t)m.up << (16 * k);
				dig |= (uint64_t)m.dig << (16 * k);
				hi |= (uint64_t)m.hi << (16 * k);
			}
		} else
#endif
		{
			for (size_t j = 0; j < 64 && j < left; j++) {
				unsigned k = cls[q[j]];
				uint64_t bit = 1ull << j;
				tok |= k & C_TOK ? bit : 0;
				eq |= k & C_EQ ? bit : 0;
				low |= k & C_LOW ? bit : 0;
				up |= k & C_UP ? bit : 0;
				dig |= k & C_DIG ? bit : 0;
				hi |= q[j] >= 0x80 ? bit : 0;
			}
		}
		if (left < 64) {
			uint64_t keep = (1ull << left) - 1;
			tok &= keep, eq &= keep, low &= keep, up &= keep, dig &= keep, hi &= keep;
		}
		bm->tok[w] = tok, bm->eq[w] = eq, bm->low[w] = low;
		bm->up[w] = up, bm->dig[w] = dig, bm->hi[w] = hi;
		any_eq |= eq;
	}
	return any_eq != 0;
}

/* The first i' in [i, n) whose bit is set (or clear: want false), else n. */
static inline size_t next_bit(const uint64_t *bm, size_t i, size_t n, bool want)
{
	if (i >= n)
		return n;
	size_t w = i >> 6;
	uint64_t x = (want ? bm[w] : ~bm[w]) & (~0ull << (i & 63));
	while (!x) {
		if (++w * 64 >= n)
			return n;
		x = want ? bm[w] : ~bm[w];
	}
	size_t r = w * 64 + (size_t)__builtin_ctzll(x);
	return r < n ? r : n;
}

/* Any bit set in [a, b)? */
static inline bool any_bit(const uint64_t *bm, size_t a, size_t b)
{
	while (a < b) {
		size_t off = a & 63, k = b - a < 64 - off ? b - a : 64 - off;
		uint64_t m = (k == 64 ? ~0ull : (1ull << k) - 1) << off;
		if (bm[a >> 6] & m)
			return true;
		a += k;
	}
	return false;
}

static unsigned run_classes(const struct seg_bits *bm, size_t a, size_t b, bool has_eq)
{
	return (any_bit(bm->low, a, b) ? C_LOW : 0) | (any_bit(bm->up, a, b) ? C_UP : 0) |
	       (any_bit(bm->dig, a, b) ? C_DIG : 0) | (has_eq ? C_EQ : 0);
}

/* The detectors over one segment: its token runs, one pass. */
static void tokenize(struct scanner *s, struct seg *sg)
{
	const unsigned char *lo = sg->buf + sg->a, *e = sg->buf + sg->b;
	const size_t len = sg->b - sg->a;
	const struct seg_bits *bm = &s->bits;
	const struct keyword *kw = NULL;
	const unsigned char *kend = NULL;
	bool ksep = false, skip_first = s->cont_run;
	const bool secrets = s->cfg.secrets, judge = s->cfg.secrets || s->cfg.entropy;
	const bool instructions = s->cfg.instructions;
	size_t i = 0;

	const bool seg_eq = classify(&s->bits, lo, len, sg->lim - sg->a);
	if (s->pem) {
		const unsigned char *q = pem_continue(s, lo, e);
		add_tok(s, sg, lo, q, SCAN_PRIVATE_KEY, true);
		i = (size_t)(q - lo);
		skip_first = false;
	}
	if (instructions)
		for (size_t h = next_bit(bm->hi, i, len, true); h < len && !sg->invisible_flagged;
		     h = next_bit(bm->hi, h + 1, len, true))
			if (cls[lo[h]] & C_SPECIAL)
				invisible_at(s, sg, lo + h, e);
	while (i < len) {
		size_t ri = next_bit(bm->tok, i, len, true);
		if (ri >= len)
			break;
		size_t qi = next_bit(bm->tok, ri, len, false);
		const unsigned char *r = lo + ri, *p = lo + qi;
		size_t n = qi - ri;
		bool has_eq = seg_eq && any_bit(bm->eq, ri, qi);
		i = qi;
		if (skip_first) {	/* the tail of a token cut with its line: judged with its head */
			skip_first = false;
			if (ri == 0)
				continue;
		}
		if (n == 10 && secrets && *r == '-') {
			const unsigned char *h = pem_header(r, e);
			if (h) {
				s->pem = true;
				s->pem_end_seen = false;
				s->pem_left = PEM_MAX - (size_t)(h - r);
				p = pem_continue(s, h, e);
				add_tok(s, sg, r, p, SCAN_PRIVATE_KEY, false);
				i = (size_t)(p - lo);
				kw = NULL;
				continue;
			}
		}
		if (kw) {
			/* "KEY": "VALUE", KEY = VALUE, KEY => VALUE, Bearer VALUE */
			const struct keyword *k = kw;
			bool ok = (size_t)(r - kend) <= 8, blanks_only = true;
			bool lone_eq = has_eq && n <= 2 && r[0] == '=' && r[n - 1] == '=';
			kw = NULL;
			for (const unsigned char *g = kend; ok && g < r; g++) {
				ok = strchr(" \t:\"'>`", *g) != NULL;
				ksep |= *g == ':' || *g == '>';
				blanks_only &= *g == ' ' || *g == '\t';
			}
			if (k->form != K_ASSIGN)
				ok &= blanks_only && r > kend;
			else
				ok &= ksep || lone_eq;
			if (ok && lone_eq) {	/* the '=' of "KEY = VALUE" */
				kw = k;
				kend = p;
				ksep = true;
				continue;
			}
			if (ok) {
				judge_value(s, sg, r, n, k);
				goto next;
			}
		}
		if (judge && (n >= 16 || has_eq))
			judge_run(s, sg, r, n, run_classes(bm, ri, qi, has_eq));
		if (secrets && n >= 4) {
			const unsigned char *ke = p, *ks = r;
			bool sep = false;
			while (has_eq && ke > r && ke[-1] == '=') {
				ke--;
				sep = true;
			}
			/* the last two letters first: most words end otherwise */
			unsigned c0 = 26, c1 = 26;
			if (ke - r >= 4)
				c0 = (ke[-2] | 0x20u) - 'a', c1 = (ke[-1] | 0x20u) - 'a';
			if (c0 < 26 && c1 < 26 && (tables.key_end2[c0] >> c1 & 1) && key_tail(ke)) {
				/* the key is the part after the run's last "=" */
				if (has_eq)
					for (ks = ke; ks > r && ks[-1] != '='; ks--)
						;
				if ((kw = keyword_of(ks, (size_t)(ke - ks)))) {
					kend = p;
					ksep = sep;
				}
			}
		}
next:
		if (instructions && n >= 2 && n < 32) {
			unsigned c0 = (r[0] | 0x20u) - 'a', c1 = (r[1] | 0x20u) - 'a';
			if (c0 < 26 && c1 < 26 && (tables.phrase_len[c0 * 26 + c1] >> n & 1))
				phrase_at(s, sg, 0, "", lo, r, e);
		}
	}
}

/* Write out [*from, to) of buf. */
static void put(struct scanner *s, struct out *o, const char *p, size_t n)
{
	if (!n)
		return;
	s->st.bytes_out += n;
	o->emit(o->arg, p, n);
}

/* Merge this segment's redactions (two sorted lists) and write the segment
 * up to them, with one marker per merged interval. */
static void redact(struct scanner *s, const char *buf, size_t b, struct out *o, size_t *from)
{
	size_t i = 0, j = 0;
	while (i < s->n_tok || j < s->n_lit) {
		bool take_tok = j == s->n_lit || (i < s->n_tok && s->tok[i].a <= s->lit[j].a);
		struct iv cur = take_tok ? s->tok[i++] : s->lit[j++];
		for (;;) {
			const struct iv *nx;
			if (i < s->n_tok && s->tok[i].a < cur.b)
				nx = &s->tok[i++];
			else if (j < s->n_lit && s->lit[j].a < cur.b)
				nx = &s->lit[j++];
			else
				break;
			if (nx->b > cur.b)
				cur.b = nx->b;
			if (nx->det < cur.det)
				cur.det = nx->det;
		}
		if (cur.a > *from)
			put(s, o, buf + *from, cur.a - *from);
		if (!cur.cont) {
			put(s, o, tables.marker[cur.det], tables.marker_len[cur.det]);
			s->st.redactions[cur.det]++;
			s->st.redactions_total++;
		}
		if (cur.b > b) {	/* a literal running past a long line's cut */
			s->lit_carry = s->pos + cur.b;
			cur.b = b;
		}
		if (cur.b > *from)
			*from = cur.b;
	}
}

/* Judge segment buf[a..b) (literals may be seen through la, bytes read up
 * to lim) and write it, unless it has no redaction: then it waits in *from
 * for a larger write. */
static void segment(struct scanner *s, const char *buf, size_t a, size_t b, size_t la, size_t lim,
		    struct out *o, size_t *from)
{
	struct seg sg = { .buf = (const unsigned char *)buf, .a = a, .b = b, .lim = lim };
	s->n_tok = s->n_lit = 0;
	if (s->lit_carry > s->pos + a) {
		uint64_t left = s->lit_carry - (s->pos + a);
		size_t end = left < b - a ? a + (size_t)left : b;
		s->tok[s->n_tok++] = (struct iv){ .a = a, .b = end, .det = SCAN_LITERAL, .cont = true };
	}
	s->lit_carry = 0;
	if (s->cfg.entropy)
		sg.blob = blob_line(s, sg.buf + a, b - a);
	if (s->cfg.secrets || s->cfg.entropy || s->cfg.instructions || s->pem)
		tokenize(s, &sg);
	if (s->n_pats)
		find_literals(s, sg.buf, a, b, la);
	if (s->n_pend)
		samples_done(s, &sg);
	if (s->n_tok || s->n_lit)
		redact(s, buf, b, o, from);
}

/* Where to cut a line with no '\n' in SEG_MAX bytes: after the last ASCII
 * byte that is not part of a token in [CUT_LO, CUT_HI), else at CUT_HI
 * (inside a token kilobytes long: a blob). Depends on the bytes only. */
static size_t cut_point(const char *buf, size_t pos, bool *mid_run)
{
	const unsigned char *u = (const unsigned char *)buf;
	for (size_t q = pos + CUT_HI; q-- > pos + CUT_LO;)
		if (u[q] < 0x80 && !(cls[u[q]] & C_TOK)) {
			*mid_run = false;
			return q + 1;
		}
	*mid_run = (cls[u[pos + CUT_HI - 1]] & C_TOK) && (cls[u[pos + CUT_HI]] & C_TOK);
	return pos + CUT_HI;
}

/* Scan the segments of buf[0..len) (buf[0] is at stream offset s->pos) and
 * write them; final: the stream ends with buf. Returns the bytes done; the
 * rest (an unfinished segment, < SEG_MAX bytes) must be held back. */
static size_t run_segments(struct scanner *s, const char *buf, size_t len, bool final, struct out *o)
{
	size_t pos = 0, from = 0;
	while (pos < len) {
		size_t avail = len - pos, end, look;
		bool mid_run = false;
		const char *nl = memchr(buf + pos, '\n', avail < SEG_MAX ? avail : SEG_MAX);
		if (nl) {
			end = look = (size_t)(nl - buf) + 1;
		} else if (avail >= SEG_MAX) {
			end = cut_point(buf, pos, &mid_run);
			look = pos + SEG_MAX;
		} else if (final) {
			end = look = len;
		} else {
			break;
		}
		segment(s, buf, pos, end, look, len, o, &from);
		s->cont_run = mid_run;
		pos = end;
	}
	if (from < pos)
		put(s, o, buf + from, pos - from);
	s->pos += pos;
	return pos;
}

static void feed_segments(struct scanner *s, const char *p, size_t n, struct out *o)
{
	while (n) {
		if (!s->hold_len) {
			size_t used = run_segments(s, p, n, false, o);
			memcpy(s->hold, p + used, n - used);
			s->hold_len = n - used;
			return;
		}
		/* complete the held segment: up to a '\n' or SEG_MAX bytes */
		size_t take = SEG_MAX - s->hold_len;
		if (take > n)
			take = n;
		const char *nl = memchr(p, '\n', take);
		if (nl)
			take = (size_t)(nl - p) + 1;
		memcpy(s->hold + s->hold_len, p, take);
		s->hold_len += take;
		p += take;
		n -= take;
		size_t used = run_segments(s, s->hold, s->hold_len, false, o);
		memmove(s->hold, s->hold + used, s->hold_len - used);
		s->hold_len -= used;
	}
}

/* ---- HTML stripping (before the detectors, so that no tag can split a
 * secret out of their sight) -------------------------------------------------- */

/* A comment ended where the stripped stream is at offset at. */
static void comment_done(struct scanner *s, uint64_t at)
{
	if (s->cfg.instructions && s->comment_len)
		phrases_in(s, at * 2, "html comment: ", (const unsigned char *)s->comment, s->comment_len);
	s->comment_len = 0;
}

/* Tags and comments out, text kept. A '<' that opens no tag ("a < b") is
 * text. A quote opens an attribute value only after '=', so that an
 * apostrophe in a tag cannot swallow the rest of the output. */
static size_t strip_html(struct scanner *s, const unsigned char *p, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		switch (s->html) {
		case H_TEXT:
			if (c == '<')
				s->html = H_LT;
			else
				out[k++] = (char)c;
			break;
		case H_LT:
			if (c == '!') {
				s->html = H_BANG;
			} else if (is_letter(c) || c == '/' || c == '?') {
				s->html = H_TAG;
				s->tag_prev = c;
			} else {
				out[k++] = '<';
				if (c != '<') {
					out[k++] = (char)c;
					s->html = H_TEXT;
				}
			}
			break;
		case H_BANG:
		case H_BANG_DASH:
			if (c == '-' && s->html == H_BANG) {
				s->html = H_BANG_DASH;
			} else if (c == '-') {
				s->html = H_COMMENT;
				s->dashes = 0;
				s->comment_len = 0;
			} else {
				s->html = c == '>' ? H_TEXT : H_TAG;
				s->tag_prev = c;
			}
			break;
		case H_COMMENT:
			if (c == '>' && s->dashes >= 2) {
				if (s->comment_len >= 2)
					s->comment_len -= 2;
				comment_done(s, s->strip_pos + k);
				s->html = H_TEXT;
				break;
			}
			s->dashes = c == '-' ? s->dashes + 1 : 0;
			if (s->comment_len < COMMENT_KEEP)
				s->comment[s->comment_len++] = (char)c;
			break;
		case H_TAG:
			if (c == '>')
				s->html = H_TEXT;
			else if ((c == '"' || c == '\'') && s->tag_prev == '=')
				s->html = c == '"' ? H_TAG_DQ : H_TAG_SQ;
			if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
				s->tag_prev = c;
			break;
		case H_TAG_DQ:
		case H_TAG_SQ:
			if (c == (s->html == H_TAG_DQ ? '"' : '\'')) {
				s->html = H_TAG;
				s->tag_prev = c;
			}
			break;
		}
	}
	return k;
}

/* ---- the stream ------------------------------------------------------------ */

void scan_feed(struct scanner *s, const char *buf, size_t len, scan_emit_fn *emit, void *arg)
{
	struct out o = { emit, arg };
	s->st.bytes_in += len;
	if (!s->cfg.strip_html) {
		feed_segments(s, buf, len, &o);
		return;
	}
	while (len) {
		size_t k = len < STRIP_CHUNK ? len : STRIP_CHUNK;
		size_t m = strip_html(s, (const unsigned char *)buf, k, s->strip_out);
		s->strip_pos += m;
		feed_segments(s, s->strip_out, m, &o);
		buf += k;
		len -= k;
	}
}

void scan_finish(struct scanner *s, scan_emit_fn *emit, void *arg)
{
	struct out o = { emit, arg };
	if (s->cfg.strip_html) {
		if (s->html == H_LT) {
			s->strip_pos++;
			feed_segments(s, "<", 1, &o);
		} else if (s->html == H_COMMENT) {
			comment_done(s, s->strip_pos);
		}
		s->html = H_TEXT;
	}
	if (s->hold_len)
		run_segments(s, s->hold, s->hold_len, true, &o);
	/* ready for another stream; the counts go on */
	s->hold_len = 0;
	s->lit_carry = 0;
	s->cont_run = s->pem = s->pem_end_seen = false;
	s->blob_width = 0;
	s->comment_len = 0;
}
