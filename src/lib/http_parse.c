/* HTTP/1.x heads and chunked framing for the egress gateway (the contract
 * is in http_parse.h).
 *
 * Both ends of the gateway may be hostile: the sandbox writes the requests,
 * and an upstream the policy allowed still writes whatever it likes. So
 * where two parsers could read the same bytes differently (the root of
 * request smuggling: CL.TE, TE.CL, obs-fold, bare CR, chunk extensions with a
 * bare LF) this one refuses instead of picking a reading. The head is parsed
 * again from the start on every call, which keeps the parser stateless; a
 * head is at most HTTP_MAX_HEAD bytes, so that costs little.
 *
 * Lengths: the request line may be HTTP_MAX_LINE bytes with its line end,
 * the head HTTP_MAX_HEAD bytes with its blank line. A partial head is
 * checked as far as it goes, so a flood of bad bytes is refused as soon as
 * it is seen, not when a limit is reached.
 *
 * Host names are checked so that what the policy matches is what gets
 * connected to: a name that a resolver would read as an IPv4 address
 * (glibc's inet_aton takes "127.1", "0x7f.0.0.1", "2130706433" and "0177.0.0.1")
 * must be written as the plain dotted quad.
 */
#include "http_parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Hop-by-hop headers (RFC 9110 7.6.1): never passed on. */
static const char *const hop_by_hop[] = {
	"connection", "proxy-connection", "proxy-authorization", "keep-alive",
	"te", "trailer", "upgrade",
};

/* ---- characters -------------------------------------------------------- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 9110 tchar: what methods, header names and codings are made of. */
static bool is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A byte of a header value: HTAB, SP, VCHAR or obs-text; no other control. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive: is p[0..n) the same as s[0..sn)? */
static bool mem_ieq(const char *p, size_t n, const char *s, size_t sn)
{
	if (n != sn)
		return false;
	for (size_t i = 0; i < n; i++)
		if (to_lower(p[i]) != to_lower(s[i]))
			return false;
	return true;
}

static bool span_ieq(const struct http_span *sp, const char *s)
{
	return mem_ieq(sp->p, sp->n, s, strlen(s));
}

/* Does the comma-separated list v[0..n) hold tok[0..tn), ignoring case? */
static bool list_has(const char *v, size_t n, const char *tok, size_t tn)
{
	size_t i = 0;
	if (tn == 0)
		return false;
	while (i < n) {
		size_t s = i, e;
		while (i < n && v[i] != ',')
			i++;
		e = i++;
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (mem_ieq(v + s, e - s, tok, tn))
			return true;
	}
	return false;
}

/* ---- hosts and ports ----------------------------------------------------- */

/* "a.b.c.d", each part 0..255 in decimal without leading zeros (inet_aton
 * reads a leading zero as octal). */
static bool is_dotted_quad(const char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return false;
		size_t start = i;
		unsigned v = 0;
		while (i < n && is_digit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
	}
	return i == n;
}

/* Would inet_aton take this label as a number ("80", "0x7f", "0x")? */
static bool is_numeric_label(const char *s, size_t n)
{
	size_t i = 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (hex_value((unsigned char)s[i]) < 0)
				return false;
		return true;
	}
	for (; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* Copy a host name to out lowercased and without one trailing dot: letters,
 * digits, '-', '.', '_', no empty label; numeric-looking names only as a
 * dotted quad (see the top of the file). */
bool http_copy_hostname(const char *p, size_t n, char out[256])
{
	if (n && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 255)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
			label++;
		} else {
			return false;
		}
		out[i] = to_lower((char)c);
	}
	if (!label)
		return false;
	out[n] = '\0';
	if (is_numeric_label(out + n - label, label) && !is_dotted_quad(out, n))
		return false;
	return true;
}

/* The text of an IPv6 literal (between the brackets), lowercased. Zone ids
 * and IPvFuture are refused: nothing the gateway could connect to. */
static bool copy_ipv6(const char *p, size_t n, char out[256])
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;
	if (n < 2 || n >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (hex_value(c) < 0 && c != ':' && c != '.')
			return false;
		tmp[i] = to_lower((char)c);
	}
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1)
		return false;
	memcpy(out, tmp, n + 1);
	return true;
}

/* 1..65535 in decimal. */
static bool parse_port(const char *p, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (uint32_t)(p[i] - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* host[:port] or [v6][:port]; the port is required for CONNECT. */
static int parse_authority(const char *a, size_t n, bool need_port, struct http_request *req)
{
	const char *end = a + n, *rest;
	if (memchr(a, '@', n))
		return -400; /* userinfo: credentials in the clear, and a classic way to disguise a host */
	if (n && a[0] == '[') {
		const char *rb = memchr(a, ']', n);
		if (!rb || !copy_ipv6(a + 1, (size_t)(rb - a - 1), req->host))
			return -400;
		req->host_is_ipv6 = true;
		rest = rb + 1;
	} else {
		const char *colon = memchr(a, ':', n);
		rest = colon ? colon : end;
		if (!http_copy_hostname(a, (size_t)(rest - a), req->host))
			return -400;
	}
	if (rest == end) {
		if (need_port)
			return -400;
		req->port = 80;
		return 0;
	}
	if (*rest != ':' || !parse_port(rest + 1, (size_t)(end - rest - 1), &req->port))
		return -400;
	return 0;
}

/* http://authority[/path][?query][#fragment]. A proxy is only ever sent
 * the absolute form (or CONNECT's authority form): "/x" and "*" would leave
 * the destination to the Host header, which the policy does not check. */
static int parse_absolute_uri(const char *t, size_t n, struct http_request *req)
{
	static const char root[] = "/";
	size_t i = 0;
	if (n == 0 || !is_alpha((unsigned char)t[0]))
		return -400;
	while (i < n && (is_alpha((unsigned char)t[i]) || is_digit((unsigned char)t[i]) ||
			 t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return -400;
	if (!mem_ieq(t, i, "http", 4))
		return -501; /* https:// goes through CONNECT; other schemes are not proxied */
	const char *a = t + i + 3, *end = t + n, *ae = a;
	while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
		ae++;
	int r = parse_authority(a, (size_t)(ae - a), false, req);
	if (r)
		return r;
	const char *pe = memchr(ae, '#', (size_t)(end - ae));
	if (!pe)
		pe = end;
	if (pe == ae)
		req->path = (struct http_span){ root, 1 };
	else if (*ae != '/')
		return -400; /* "http://h?q": there is no span holding "/?q" to give */
	else
		req->path = (struct http_span){ ae, (size_t)(pe - ae) };
	return 0;
}

/* "HTTP/1.0" or "HTTP/1.1"; any other well-formed version is 505. */
static int parse_version(const char *v, size_t n, int *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit((unsigned char)v[5]) || v[6] != '.' ||
	    !is_digit((unsigned char)v[7]))
		return -400;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return -505;
	*minor = v[7] - '0';
	return 0;
}

/* Could these bytes start (or be) a request line? Only visible ASCII and
 * spaces belong there: no tab, no control character, no obs-text. */
static bool request_line_chars_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

/* An origin-form target: "/path?query", visible ASCII (checked with the line). */
static int parse_origin_target(const char *t, size_t n, struct http_request *req)
{
	if (!n || t[0] != '/' || memchr(t, '#', n))
		return -400;
	req->path = (struct http_span){ t, n };
	return 0;
}

/* METHOD SP target SP version, exactly one space each. */
static int parse_request_line(const char *p, size_t n, bool origin, struct http_request *req)
{
	if (!request_line_chars_ok(p, n))
		return -400;
	const char *end = p + n;
	const char *sp1 = memchr(p, ' ', n);
	if (!sp1)
		return -400;
	const char *t = sp1 + 1;
	const char *sp2 = memchr(t, ' ', (size_t)(end - t));
	if (!sp2)
		return -400;
	req->method = (struct http_span){ p, (size_t)(sp1 - p) };
	req->target = (struct http_span){ t, (size_t)(sp2 - t) };
	if (!req->method.n || !req->target.n)
		return -400;
	for (size_t i = 0; i < req->method.n; i++)
		if (!is_tchar((unsigned char)p[i]))
			return -400;
	int r = parse_version(sp2 + 1, (size_t)(end - sp2 - 1), &req->minor);
	if (r)
		return r;
	/* Exact case: methods are case-sensitive, and "connect" is some
	 * other method that would need an absolute URI. */
	req->is_connect = req->method.n == 7 && memcmp(p, "CONNECT", 7) == 0;
	if (origin)
		return req->is_connect ? -400 : parse_origin_target(t, req->target.n, req);
	if (req->is_connect)
		return parse_authority(t, req->target.n, true, req);
	return parse_absolute_uri(t, req->target.n, req);
}

/* ---- heads ----------------------------------------------------------------- */

/* Find the line starting at pos within buf[0..lim). 1: it is [pos, *end)
 * and the next starts at *next; 0: no line end yet; -1: a CR not followed
 * by LF (bare CR ends a line for some parsers and not for others). */
static int next_line(const char *buf, size_t lim, size_t pos, size_t *end, size_t *next)
{
	for (size_t i = pos; i < lim; i++) {
		if (buf[i] == '\n') {
			*end = i;
			*next = i + 1;
			return 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == lim)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;
			*end = i;
			*next = i + 2;
			return 1;
		}
	}
	return 0;
}

/* A header line, or the start of one when !complete (then h is not
 * written). The name runs to the colon, so whitespace before the colon and
 * obs-fold (a line starting with whitespace) fail as non-token bytes. */
static int parse_field(const char *p, size_t n, bool complete, struct http_header *h)
{
	size_t i = 0;
	while (i < n && p[i] != ':') {
		if (!is_tchar((unsigned char)p[i]))
			return -1;
		i++;
	}
	if (i == n)
		return complete ? -1 : 0;
	if (i == 0)
		return -1;
	for (size_t j = i + 1; j < n; j++)
		if (!is_field_char((unsigned char)p[j]))
			return -1;
	if (!complete)
		return 0;
	size_t s = i + 1, e = n;
	while (s < e && is_ows(p[s]))
		s++;
	while (e > s && is_ows(p[e - 1]))
		e--;
	h->name = (struct http_span){ p, i };
	h->value = (struct http_span){ p + s, e - s };
	return 0;
}

enum { HEAD_BAD = -1, HEAD_TOO_BIG = -2 };

/* The header lines from pos to the blank line. Returns the head's length,
 * 0 for more, HEAD_BAD or HEAD_TOO_BIG. */
static int parse_fields(const char *buf, size_t len, size_t pos, struct http_header *h, size_t *n)
{
	size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	for (;;) {
		size_t end, next;
		int r = next_line(buf, lim, pos, &end, &next);
		if (r < 0)
			return HEAD_BAD;
		if (r == 0) {
			size_t plen = lim - pos;
			if (plen && buf[lim - 1] == '\r')
				plen--;
			if (plen && *n == HTTP_MAX_HEADERS)
				return HEAD_TOO_BIG;
			if (parse_field(buf + pos, plen, false, NULL) < 0)
				return HEAD_BAD;
			return len >= HTTP_MAX_HEAD ? HEAD_TOO_BIG : 0;
		}
		if (end == pos)
			return (int)next;
		if (*n == HTTP_MAX_HEADERS)
			return HEAD_TOO_BIG;
		if (parse_field(buf + pos, end - pos, true, &h[*n]) < 0)
			return HEAD_BAD;
		(*n)++;
		pos = next;
	}
}

/* 1*DIGIT without overflow; no sign, no list ("5, 5"), no spaces. */
static bool parse_length(const struct http_span *v, uint64_t *out)
{
	uint64_t x = 0;
	if (v->n == 0)
		return false;
	for (size_t i = 0; i < v->n; i++) {
		if (!is_digit((unsigned char)v->p[i]) || __builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(v->p[i] - '0'), &x))
			return false;
	}
	*out = x;
	return true;
}

/* Content-Length headers of a head: all must agree. 1 when there is one,
 * 0 when none, -1 when malformed or differing. */
static int content_length(const struct http_header *h, size_t n, uint64_t *len)
{
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (!span_ieq(&h[i].name, "content-length"))
			continue;
		if (!parse_length(&h[i].value, &v) || (found && v != *len))
			return -1;
		*len = v;
		found = 1;
	}
	return found;
}

/* Request framing, after RFC 9112 6.3 but refusing what it only tolerates:
 * a request with both lengths is the CL.TE / TE.CL smuggling pattern. */
static int request_semantics(struct http_request *req)
{
	bool has_te = false, te_ok = true, close = false, keep = false;
	int has_cl = content_length(req->headers, req->n_headers, &req->content_length);
	if (has_cl < 0)
		return -400;
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (span_ieq(&h->name, "transfer-encoding")) {
			/* Only one header saying just "chunked": anything else
			 * (another coding, chunked twice) we cannot frame. */
			te_ok = te_ok && !has_te && span_ieq(&h->value, "chunked");
			has_te = true;
		} else if (span_ieq(&h->name, "connection") || span_ieq(&h->name, "proxy-connection")) {
			close |= http_token_in(&h->value, "close");
			keep |= http_token_in(&h->value, "keep-alive");
		}
	}
	if (has_te && has_cl)
		return -400;
	if (has_te && !te_ok)
		return -501;
	if (has_te)
		req->body = HTTP_BODY_CHUNKED;
	else if (has_cl && req->content_length)
		req->body = HTTP_BODY_LENGTH;
	req->keep_alive = !close && (req->minor == 1 || keep);
	return 0;
}

static int parse_request(const char *buf, size_t len, bool origin, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	size_t lim = len < HTTP_MAX_LINE ? len : HTTP_MAX_LINE;
	size_t end, next;
	int r = next_line(buf, lim, 0, &end, &next);
	if (r < 0)
		return -400;
	if (r == 0) {
		size_t plen = lim && buf[lim - 1] == '\r' ? lim - 1 : lim;
		if (!request_line_chars_ok(buf, plen))
			return -400;
		/* With its line end the line will be longer than the limit. */
		return len >= HTTP_MAX_LINE ? -414 : 0;
	}
	r = parse_request_line(buf, end, origin, req);
	if (r)
		return r;
	r = parse_fields(buf, len, next, req->headers, &req->n_headers);
	if (r == HEAD_BAD)
		return -400;
	if (r == HEAD_TOO_BIG)
		return -431;
	if (r == 0)
		return 0;
	req->head_len = (size_t)r;
	int e = request_semantics(req);
	return e ? e : r;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	return parse_request(buf, len, false, req);
}

int http_parse_origin_request(const char *buf, size_t len, struct http_request *req)
{
	return parse_request(buf, len, true, req);
}

/* ---- responses ------------------------------------------------------------- */

/* "HTTP/1.x SSS reason"; the reason may be empty, and its space missing. */
static bool parse_status_line(const char *p, size_t n, struct http_response *res)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return false;
	for (size_t i = 9; i < 12; i++)
		if (!is_digit((unsigned char)p[i]))
			return false;
	if (p[9] == '0' || (n > 12 && p[12] != ' '))
		return false;
	for (size_t i = 13; i < n; i++)
		if (!is_field_char((unsigned char)p[i]))
			return false;
	res->minor = p[7] - '0';
	res->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return true;
}

/* Response framing (RFC 9112 6.3). Both lengths at once is refused here
 * too: the client would be handed a head that it may frame otherwise. */
static int response_semantics(struct http_response *res, bool request_was_head)
{
	bool has_te = false, chunked_last = false;
	int has_cl = content_length(res->headers, res->n_headers, &res->content_length);
	if (has_cl < 0)
		return -502;
	for (size_t i = 0; i < res->n_headers; i++) {
		const struct http_header *h = &res->headers[i];
		if (!span_ieq(&h->name, "transfer-encoding"))
			continue;
		const char *v = h->value.p;
		size_t vn = h->value.n, j = 0;
		if (!vn || v[vn - 1] == ',')
			return -502;
		/* Codings, each a token; chunked only ever last. */
		while (j < vn) {
			size_t s = j, e;
			while (j < vn && v[j] != ',')
				j++;
			e = j++;
			while (s < e && is_ows(v[s]))
				s++;
			while (e > s && is_ows(v[e - 1]))
				e--;
			if (s == e)
				return -502;
			for (size_t k = s; k < e; k++)
				if (!is_tchar((unsigned char)v[k]))
					return -502;
			if (chunked_last)
				return -502;
			chunked_last = mem_ieq(v + s, e - s, "chunked", 7);
		}
		has_te = true;
	}
	if (has_te && has_cl)
		return -502;
	int st = res->status;
	if (request_was_head || st < 200 || st == 204 || st == 304)
		res->body = HTTP_BODY_NONE;
	else if (has_te)
		res->body = chunked_last ? HTTP_BODY_CHUNKED : HTTP_BODY_UNTIL_CLOSE;
	else if (has_cl)
		res->body = res->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else
		res->body = HTTP_BODY_UNTIL_CLOSE;
	return 0;
}

int http_parse_response(const char *buf, size_t len, bool request_was_head,
			struct http_response *res)
{
	memset(res, 0, sizeof(*res));
	size_t lim = len < HTTP_MAX_LINE ? len : HTTP_MAX_LINE;
	size_t end, next;
	int r = next_line(buf, lim, 0, &end, &next);
	if (r < 0)
		return -502;
	if (r == 0) {
		size_t plen = lim && buf[lim - 1] == '\r' ? lim - 1 : lim;
		for (size_t i = 0; i < plen; i++)
			if (!is_field_char((unsigned char)buf[i]))
				return -502;
		return len >= HTTP_MAX_LINE ? -502 : 0;
	}
	if (!parse_status_line(buf, end, res))
		return -502;
	r = parse_fields(buf, len, next, res->headers, &res->n_headers);
	if (r < 0)
		return -502;
	if (r == 0)
		return 0;
	res->head_len = (size_t)r;
	int e = response_semantics(res, request_was_head);
	return e ? e : r;
}

/* ---- lookups --------------------------------------------------------------- */

const struct http_span *http_header_get(const struct http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (span_ieq(&h[i].name, name))
			return &h[i].value;
	return NULL;
}

bool http_token_in(const struct http_span *value, const char *token)
{
	if (!value || !value->p)
		return false;
	return list_has(value->p, value->n, token, strlen(token));
}

/* ---- writers --------------------------------------------------------------- */

/* Appends what fits and counts everything, like snprintf. */
struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap && n) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->p + o->len, s, k);
	}
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_span(struct out *o, const struct http_span *sp)
{
	put(o, sp->p, sp->n);
}

static bool is_hop_by_hop(const struct http_span *name, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++)
		if (span_ieq(name, hop_by_hop[i]))
			return true;
	/* Framing stays whatever Connection names: without its length header
	 * the body passed on behind the head would be read as the next
	 * message. */
	if (span_ieq(name, "content-length") || span_ieq(name, "transfer-encoding"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (span_ieq(&h[i].name, "connection") &&
		    list_has(h[i].value.p, h[i].value.n, name->p, name->n))
			return true;
	return false;
}

static void put_end_to_end(struct out *o, const struct http_header *h, size_t n, bool drop_host)
{
	for (size_t i = 0; i < n; i++) {
		if (is_hop_by_hop(&h[i].name, h, n) || (drop_host && span_ieq(&h[i].name, "host")))
			continue;
		put_span(o, &h[i].name);
		put_str(o, ": ");
		put_span(o, &h[i].value);
		put_str(o, "\r\n");
	}
}

static ssize_t out_result(const struct out *o)
{
	return o->len > o->cap ? -1 : (ssize_t)o->len;
}

ssize_t http_write_upstream_request(const struct http_request *req, char *out, size_t cap)
{
	return http_write_upstream_request_keep(req, false, out, cap);
}

static ssize_t write_request(const struct http_request *req, uint16_t default_port, bool keep,
			     char *out, size_t cap)
{
	struct out o = { out, cap, 0 };
	char port[8];
	if (req->is_connect || !req->path.p)
		return -1; /* a tunnel has no head to pass on */
	put_span(&o, &req->method);
	put_str(&o, " ");
	put_span(&o, &req->path);
	put_str(&o, " HTTP/1.1\r\n");
	put_end_to_end(&o, req->headers, req->n_headers, true);
	put_str(&o, req->host_is_ipv6 ? "Host: [" : "Host: ");
	put_str(&o, req->host);
	put_str(&o, req->host_is_ipv6 ? "]" : "");
	if (req->port != default_port) {
		snprintf(port, sizeof(port), ":%u", (unsigned)req->port);
		put_str(&o, port);
	}
	/* Either way the gateway parses and decides every request: a reused
	 * upstream connection only ever carries requests for its own host:port,
	 * and none passes unseen. */
	put_str(&o, keep ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
	return out_result(&o);
}

ssize_t http_write_upstream_request_keep(const struct http_request *req, bool keep, char *out,
					 size_t cap)
{
	return write_request(req, 80, keep, out, cap);
}

ssize_t http_write_tls_request(const struct http_request *req, char *out, size_t cap)
{
	return write_request(req, 443, true, out, cap);
}

ssize_t http_write_client_response(const struct http_response *res, const char *head,
				   bool keep_alive, char *out, size_t cap)
{
	struct out o = { out, cap, 0 };
	const char *lf = memchr(head, '\n', res->head_len);
	if (!lf)
		return -1;
	size_t n = (size_t)(lf - head);
	if (n && head[n - 1] == '\r')
		n--;
	put(&o, head, n);
	put_str(&o, "\r\n");
	put_end_to_end(&o, res->headers, res->n_headers, false);
	put_str(&o, keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
	return out_result(&o);
}

static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* The reason with control characters as '?', so it cannot end the header
 * line it is put in (response splitting). */
static void put_reason(struct out *o, const char *reason)
{
	for (const char *s = reason; *s; s++) {
		char c = is_field_char((unsigned char)*s) && *s != '\t' ? *s : '?';
		put(o, &c, 1);
	}
}

size_t http_write_error(int status, const char *reason, char *out, size_t cap)
{
	struct out o = { out, cap, 0 };
	char num[64];
	if (status < 100 || status > 999)
		status = 500;
	if (!reason)
		reason = "";
	snprintf(num, sizeof(num), "HTTP/1.1 %d ", status);
	put_str(&o, num);
	put_str(&o, status_text(status));
	put_str(&o, "\r\nContent-Type: text/plain\r\nX-Airlock-Reason: ");
	put_reason(&o, reason);
	snprintf(num, sizeof(num), "\r\nContent-Length: %zu\r\n", strlen(reason) + 1);
	put_str(&o, num);
	put_str(&o, "Connection: close\r\n\r\n");
	put_reason(&o, reason);
	put_str(&o, "\n");
	if (o.len < cap)
		out[o.len] = '\0';
	return o.len < cap ? o.len : cap;
}

/* ---- chunked bodies ---------------------------------------------------------- */

/* Chunked framing is where front and back ends most often disagree, so
 * every line must end in CRLF (a bare LF is accepted by some servers and
 * not others) and an extension holds no control characters. */
enum {
	CH_SIZE_START = 0,	/* first hex digit of a chunk size */
	CH_SIZE,		/* more hex digits, or what follows them */
	CH_SIZE_WS,		/* whitespace after the size */
	CH_EXT,			/* ";ext=val" up to the CR */
	CH_SIZE_LF,		/* the LF ending the size line */
	CH_DATA,
	CH_DATA_CR,		/* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER_START,	/* a trailer line, or the final empty line */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,		/* the LF of the final empty line */
	CH_DONE,
	CH_ERROR,
};

/* One byte of a size or trailer line; returns the next state. */
static int chunked_line_byte(struct http_chunked *c, unsigned char ch)
{
	int hex;
	switch (c->state) {
	case CH_SIZE_START:
		if ((hex = hex_value(ch)) < 0)
			return CH_ERROR;
		c->remaining = (uint64_t)hex;
		return CH_SIZE;
	case CH_SIZE:
		if ((hex = hex_value(ch)) >= 0) {
			if (c->remaining > UINT64_MAX >> 4)
				return CH_ERROR;
			c->remaining = c->remaining << 4 | (uint64_t)hex;
			return CH_SIZE;
		}
		/* fall through */
	case CH_SIZE_WS:
		if (is_ows((char)ch))
			return CH_SIZE_WS;
		if (ch == ';')
			return CH_EXT;
		return ch == '\r' ? CH_SIZE_LF : CH_ERROR;
	case CH_EXT:
		if (ch == '\r')
			return CH_SIZE_LF;
		return is_field_char(ch) ? CH_EXT : CH_ERROR;
	case CH_SIZE_LF:
		if (ch != '\n')
			return CH_ERROR;
		return c->remaining ? CH_DATA : CH_TRAILER_START;
	case CH_TRAILER_START:
		if (ch == '\r')
			return CH_END_LF;
		return is_tchar(ch) ? CH_TRAILER_NAME : CH_ERROR;
	case CH_TRAILER_NAME:
		if (ch == ':')
			return CH_TRAILER_VALUE;
		return is_tchar(ch) ? CH_TRAILER_NAME : CH_ERROR;
	case CH_TRAILER_VALUE:
		if (ch == '\r')
			return CH_TRAILER_LF;
		return is_field_char(ch) ? CH_TRAILER_VALUE : CH_ERROR;
	case CH_TRAILER_LF:
		return ch == '\n' ? CH_TRAILER_START : CH_ERROR;
	case CH_END_LF:
		return ch == '\n' ? CH_DONE : CH_ERROR;
	default:
		return CH_ERROR;
	}
}

ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len)
{
	return http_chunked_data(c, buf, len, NULL, NULL);
}

ssize_t http_chunked_data(struct http_chunked *c, const char *buf, size_t len,
			  void (*data)(void *arg, const char *p, size_t n), void *arg)
{
	size_t i = 0;
	if (c->state == CH_ERROR)
		return -1;
	while (i < len && !c->done) {
		unsigned char ch = (unsigned char)buf[i];
		switch (c->state) {
		case CH_DATA: {
			uint64_t n = len - i;
			if (n > c->remaining)
				n = c->remaining;
			c->remaining -= n;
			if (data && n)
				data(arg, buf + i, (size_t)n);
			i += (size_t)n;
			if (!c->remaining)
				c->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			c->state = ch == '\r' ? CH_DATA_LF : CH_ERROR;
			break;
		case CH_DATA_LF:
			c->state = ch == '\n' ? CH_SIZE_START : CH_ERROR;
			c->line_len = 0;
			break;
		default:
			c->state = chunked_line_byte(c, ch);
			if (++c->line_len > HTTP_MAX_LINE)
				c->state = CH_ERROR;
			if (c->state == CH_TRAILER_START || c->state == CH_DATA)
				c->line_len = 0;
			c->done = c->state == CH_DONE;
			break;
		}
		if (c->state == CH_ERROR)
			return -1;
		i++;
	}
	return (ssize_t)i;
}
