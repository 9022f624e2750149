/* Fuzz target for the gateway's HTTP parsing (src/lib/http_parse.c). Input:
 * a seed byte (split points, caps, flags), then the bytes, read as a proxy
 * request head, as a response head and as a chunked body. Besides never
 * crashing, overrunning or hanging:
 *   - a head parses the same whatever the split of the input into reads:
 *     its prefixes need more bytes, and bytes after it change nothing;
 *   - what parses holds only what the contract allows (host characters,
 *     port, spans inside the head, lengths within the limits);
 *   - the writers never pass cap, and what they write is one well-formed
 *     head: no bare CR or LF and no blank line before its end, so nothing
 *     from the client can start a second message upstream;
 *   - a chunked body ends at the same byte however it is split;
 *   - http_write_error's answer parses back with its own Content-Length.
 */
#include "http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAX_INPUT 40000 /* past HTTP_MAX_HEAD, to reach the limits */

static struct http_request req, req2;
static struct http_response res, res2;
static char out[2 * MAX_INPUT + 4096];

#define ASSERT(c)                  \
	do {                       \
		if (!(c))          \
			abort();   \
	} while (0)

/* A position from the seed: deterministic for one input, spread over len. */
static size_t pick(unsigned seed, unsigned salt, size_t len)
{
	unsigned x = (seed + 1) * 2654435761u ^ salt * 40503u;
	return len ? x % len : 0;
}

static bool span_inside(const struct http_span *s, const char *buf, size_t len)
{
	return s->p >= buf && s->n <= len && (size_t)(s->p - buf) <= len - s->n;
}

/* One head: CRLF line ends only, nothing empty before the final blank line. */
static void check_head(const char *h, size_t n)
{
	ASSERT(n >= 4 && memcmp(h + n - 4, "\r\n\r\n", 4) == 0);
	for (size_t i = 0; i < n; i++) {
		ASSERT(h[i] != '\0');
		if (h[i] == '\r')
			ASSERT(i + 1 < n && h[i + 1] == '\n');
		if (h[i] == '\n') {
			ASSERT(i > 0 && h[i - 1] == '\r');
			ASSERT(i + 1 == n || i + 3 == n || h[i + 1] != '\r');
		}
	}
}

static void check_host(const struct http_request *r)
{
	size_t n = strnlen(r->host, sizeof(r->host));
	ASSERT(n > 0 && n < sizeof(r->host));
	for (size_t i = 0; i < n; i++) {
		char c = r->host[i];
		if (r->host_is_ipv6)
			ASSERT((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
		else
			ASSERT((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' ||
			       c == '.' || c == '_');
	}
	ASSERT(r->host[0] != '.' && r->host[n - 1] != '.' && !strstr(r->host, ".."));
	ASSERT(r->port != 0);
}

/* The same bytes as a request inside a terminated tunnel (origin form). */
static void check_origin_request(const char *buf, size_t len)
{
	int r = http_parse_origin_request(buf, len, &req2);
	ASSERT(r >= 0 || r == -400 || r == -414 || r == -431 || r == -501 || r == -505);
	if (r <= 0)
		return;
	ASSERT(!req2.is_connect && !req2.host[0] && req2.path.n >= 1 && req2.path.p[0] == '/');
	ASSERT(span_inside(&req2.path, buf, (size_t)r) && !memchr(req2.path.p, '#', req2.path.n));
	snprintf(req2.host, sizeof req2.host, "api.test");
	req2.port = 443;
	ssize_t w = http_write_tls_request(&req2, out, sizeof(out));
	if (w > 0)
		check_head(out, (size_t)w);
}

static void check_request(const char *buf, size_t len, unsigned seed)
{
	check_origin_request(buf, len);
	int r = http_parse_request(buf, len, &req);
	ASSERT(r >= 0 || r == -400 || r == -414 || r == -431 || r == -501 || r == -505);
	if (r == 0) {
		ASSERT(len < HTTP_MAX_HEAD);
		return;
	}
	size_t k = pick(seed, 1, len);
	if (r < 0) {
		int p = http_parse_request(buf, k, &req2);
		ASSERT(p == 0 || p == r);
		return;
	}
	size_t hl = (size_t)r;
	ASSERT(req.head_len == hl && hl <= len && hl <= HTTP_MAX_HEAD);
	ASSERT(req.n_headers <= HTTP_MAX_HEADERS);
	ASSERT(req.minor == 0 || req.minor == 1);
	ASSERT(req.body == HTTP_BODY_NONE || req.body == HTTP_BODY_LENGTH ||
	       req.body == HTTP_BODY_CHUNKED);
	ASSERT(req.body != HTTP_BODY_LENGTH || req.content_length > 0);
	ASSERT(span_inside(&req.method, buf, hl) && span_inside(&req.target, buf, hl));
	for (size_t i = 0; i < req.n_headers; i++)
		ASSERT(span_inside(&req.headers[i].name, buf, hl) &&
		       span_inside(&req.headers[i].value, buf, hl) && req.headers[i].name.n > 0);
	check_host(&req);
	if (req.is_connect) {
		ASSERT(req.method.n == 7 && !memcmp(req.method.p, "CONNECT", 7));
	} else {
		ASSERT(req.path.n >= 1 && req.path.p[0] == '/');
		ASSERT(span_inside(&req.path, buf, hl) || (req.path.n == 1));
	}
	/* Split reads: a prefix needs more, the head alone is the same. */
	ASSERT(http_parse_request(buf, k < hl ? k : hl - 1, &req2) == 0);
	ASSERT(http_parse_request(buf, hl - 1, &req2) == 0);
	ASSERT(http_parse_request(buf, hl, &req2) == r);
	ASSERT(!strcmp(req.host, req2.host) && req.port == req2.port && req.body == req2.body &&
	       req.keep_alive == req2.keep_alive && req.n_headers == req2.n_headers);

	ssize_t w = http_write_upstream_request(&req, out, sizeof(out));
	if (req.is_connect) {
		ASSERT(w == -1);
		return;
	}
	ASSERT(w > 0 && (size_t)w <= sizeof(out));
	check_head(out, (size_t)w);
	ASSERT(!memcmp(out, req.method.p, req.method.n));
	size_t cap = pick(seed, 2, (size_t)w + 8);
	ssize_t w2 = http_write_upstream_request(&req, out, cap);
	ASSERT(cap < (size_t)w ? w2 == -1 : w2 == w);
}

static void check_response(const char *buf, size_t len, unsigned seed)
{
	bool head = seed & 1;
	int r = http_parse_response(buf, len, head, &res);
	ASSERT(r >= 0 || r == -502);
	if (r == 0) {
		ASSERT(len < HTTP_MAX_HEAD);
		return;
	}
	size_t k = pick(seed, 3, len);
	if (r < 0) {
		int p = http_parse_response(buf, k, head, &res2);
		ASSERT(p == 0 || p == r);
		return;
	}
	size_t hl = (size_t)r;
	ASSERT(res.head_len == hl && hl <= len && hl <= HTTP_MAX_HEAD);
	ASSERT(res.status >= 100 && res.status <= 999 && res.n_headers <= HTTP_MAX_HEADERS);
	ASSERT(res.body != HTTP_BODY_LENGTH || res.content_length > 0);
	if (head || res.status < 200 || res.status == 204 || res.status == 304)
		ASSERT(res.body == HTTP_BODY_NONE);
	for (size_t i = 0; i < res.n_headers; i++)
		ASSERT(span_inside(&res.headers[i].name, buf, hl) &&
		       span_inside(&res.headers[i].value, buf, hl));
	ASSERT(http_parse_response(buf, k < hl ? k : hl - 1, head, &res2) == 0);
	ASSERT(http_parse_response(buf, hl, head, &res2) == r && res2.body == res.body);

	bool keep = seed & 2;
	ssize_t w = http_write_client_response(&res, buf, keep, out, sizeof(out));
	ASSERT(w > 0 && (size_t)w <= sizeof(out));
	check_head(out, (size_t)w);
	size_t cap = pick(seed, 4, (size_t)w + 8);
	ssize_t w2 = http_write_client_response(&res, buf, keep, out, cap);
	ASSERT(cap < (size_t)w ? w2 == -1 : w2 == w);
	/* What the client gets frames the body as the gateway did. */
	w = http_write_client_response(&res, buf, keep, out, sizeof(out));
	int r2 = http_parse_response(out, (size_t)w, head, &res2);
	ASSERT(r2 != 0);
	if (r2 > 0)
		ASSERT(res2.status == res.status && res2.body == res.body &&
		       res2.content_length == res.content_length);
	else
		ASSERT((size_t)w > HTTP_MAX_HEAD || res.n_headers == HTTP_MAX_HEADERS);
}

static void check_chunked(const char *buf, size_t len, unsigned seed)
{
	struct http_chunked whole = { 0 }, split = { 0 };
	ssize_t n = http_chunked_feed(&whole, buf, len);
	ASSERT(n == -1 || (n >= 0 && (size_t)n <= len));
	ASSERT(n == -1 || whole.done || (size_t)n == len);
	/* The same bytes in pieces of pseudo-random sizes. */
	size_t pos = 0;
	ssize_t got = 0;
	unsigned x = seed * 2654435761u + 1;
	while (pos < len && !split.done) {
		x = x * 1103515245u + 12345u;
		size_t piece = 1 + (x >> 16) % 97;
		if (piece > len - pos)
			piece = len - pos;
		ssize_t m = http_chunked_feed(&split, buf + pos, piece);
		if (m < 0) {
			got = -1;
			break;
		}
		ASSERT((size_t)m <= piece && (split.done || (size_t)m == piece));
		got += m;
		pos += piece;
	}
	ASSERT(got == n && split.done == whole.done);
}

static void check_error(const char *buf, size_t len, unsigned seed)
{
	char reason[512];
	size_t rn = len < sizeof(reason) - 1 ? len : sizeof(reason) - 1;
	memcpy(reason, buf, rn);
	reason[rn] = '\0';
	int status = seed & 1 ? 400 + (int)(seed % 106) : (int)seed * 7 - 300;
	size_t n = http_write_error(status, reason, out, sizeof(out));
	ASSERT(n < sizeof(out));
	int r = http_parse_response(out, n, false, &res2);
	size_t body = strlen(reason) + 1;
	ASSERT(r > 0 && res2.content_length == body && (size_t)r + body == n);
	check_head(out, (size_t)r);
	size_t cap = pick(seed, 5, n + 8);
	char small[sizeof(reason) + 256];
	if (cap <= sizeof(small)) {
		size_t m = http_write_error(status, reason, small, cap);
		ASSERT(m == (cap < n ? cap : n) && !memcmp(small, out, m));
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	unsigned seed = data[0];
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	check_request(buf, len, seed);
	check_response(buf, len, seed);
	check_chunked(buf, len, seed);
	check_error(buf, len, seed);
	return 0;
}
