/* Just-in-time credentials, the pure part: placeholders, which hosts a
 * secret is bound to, request rules, and rewriting a request head on its
 * way upstream. No I/O, no allocation, no global state: the gateway calls
 * these on bytes from an adversarial client. Fuzzed by fuzz/fuzz_cred.c.
 *
 * A placeholder is CRED_PREFIX followed by 32 lowercase hex digits (128
 * random bits per secret per run): recognisably fake, never a real value,
 * and cheap to find anywhere (memmem of the prefix, then a set lookup).
 */
#ifndef AIRLOCK_CRED_H
#define AIRLOCK_CRED_H

#include "internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRED_PREFIX "AIRLOCK-PLACEHOLDER-"
#define CRED_PREFIX_LEN 20
#define CRED_PH_LEN (CRED_PREFIX_LEN + 32)
#define CRED_MAX_SECRETS 64

/* credentials.secrets[] as the policy gives it. */
struct cred_secret {
	char *name;		 /* the variable the sandbox sees */
	char *from;		 /* "env:NAME", "file:/path" or "command:shell words" */
	struct al_strlist hosts; /* "name:port" or "*.suffix:port", lowercase (port 443
				  * when the policy gives none) */
	char *header;		 /* inject.header; NULL = replace the placeholder
				  * wherever it appears in the request's headers */
	char *format;		 /* inject.format, exactly one "{}"; NULL = "{}" */
	uint64_t ttl_ms;	 /* 0 = the run's lifetime */
	struct al_strlist rules; /* "METHOD PATH" (METHOD or "*"; PATH a glob where
				  * '*' is any run of characters, '?' one, matched
				  * against the path without its query); none = any */
};

/* One secret at run time, in the gateway (and the supervisor, for the
 * output gate). */
struct cred_value {
	const struct cred_secret *s;
	char placeholder[CRED_PH_LEN + 1];
	const char *value; /* the real secret (not NUL-terminated in general) */
	size_t len;
	bool expired;	   /* its TTL has passed: set by the gateway before each use */
};

struct cred_set {
	struct cred_value *v;
	size_t n;
};

/* CRED_PREFIX + hex of random[16], NUL-terminated. */
void cred_placeholder(const uint8_t random[16], char out[CRED_PH_LEN + 1]);

/* Is the secret bound to host:port? host is lowercase without a trailing
 * dot (as the gateway normalises it). "*.example.com" matches every name
 * below example.com, never example.com itself. */
bool cred_host_matches(const struct cred_secret *s, const char *host, uint16_t port);

/* Does any secret of set bind host:port (interception needed)? */
bool cred_set_binds(const struct cred_set *set, const char *host, uint16_t port);

/* The first placeholder of set in p[0..n): its index in set->v, with *at
 * its offset; -1 if none. A placeholder cut off by the end of p is not
 * found: a caller scanning a stream keeps the last CRED_PH_LEN - 1 bytes. */
ssize_t cred_find(const struct cred_set *set, const char *p, size_t n, size_t *at);

/* A path (without query) that every server reads the same way: it starts
 * with '/', has no "." or ".." segment, no empty segment ("//"), no
 * backslash, and no percent-encoded '.', '/' or '\\' (%2e %2f %5c, any
 * case), no NUL or control character. Request rules are only matched on
 * such paths; others are refused. */
bool cred_path_canonical(const char *path, size_t n);

/* Does one of s->rules allow METHOD target (target in origin form; its
 * query is ignored)? True when s has no rules. */
bool cred_rule_allows(const struct cred_secret *s, const char *method, size_t mlen,
		      const char *target, size_t tlen);

enum cred_verdict {
	CRED_NONE,	   /* no secret is bound to this host and none of its placeholders appears */
	CRED_USED,	   /* a secret was put in: pass the rewritten head on */
	CRED_EXFIL,	   /* a placeholder towards a host its secret is not bound to: refuse */
	CRED_EXPIRED,	   /* the bound secret's TTL has passed: refuse */
	CRED_RULE,	   /* the request is not one the secret's rules allow: refuse */
	CRED_NONCANONICAL, /* a path the rules cannot judge safely: refuse */
	CRED_ERROR,	   /* the head is malformed, or out does not hold the result: refuse */
};

struct cred_outcome {
	enum cred_verdict verdict;
	ssize_t secret;	   /* index in set->v of the secret used or refused; -1 */
	char reason[192];  /* for the refusal and the event; never holds a value */
};

/* Rewrite an upstream request head bound for host:port, as
 * http_write_upstream_request_keep writes one ("METHOD target HTTP/1.1",
 * "Name: value" lines, CRLF line ends, a blank line). For every secret
 * bound to host:port:
 *   - with a header: every header of that name is dropped and
 *     "Header: <format with {} replaced by the value>" added before the
 *     blank line;
 *   - in every header value its placeholder is replaced by the value, also
 *     inside "Authorization: Basic <base64>" (decoded, replaced,
 *     re-encoded), so git's and pip's user:token logins work;
 *   - its rules must allow the request (on a canonical path).
 * A placeholder of a secret that is not bound to host:port, anywhere in
 * the head (request line included, Basic credentials decoded), is
 * CRED_EXFIL. A bound secret that has expired is CRED_EXPIRED when it
 * would be injected (header form) or when its placeholder appears.
 * Returns the length of the new head in out (USED or NONE; for NONE it is
 * a copy), or -1 with o->verdict saying why. */
ssize_t cred_rewrite_head(const struct cred_set *set, const char *host, uint16_t port,
			  const char *head, size_t len, char *out, size_t cap,
			  struct cred_outcome *o);

/* Standard base64 (with padding) decoding of in[0..n) into out (n / 4 * 3
 * bytes at most). Returns the length, or -1 if it is not base64. */
ssize_t cred_base64_decode(const char *in, size_t n, uint8_t *out);

#endif
