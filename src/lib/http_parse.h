/* HTTP/1.x heads and chunked framing, as the egress gateway meets them:
 * bytes from an adversarial client (the sandbox) or from an upstream.
 *
 * Pure functions over a caller's buffer: no allocation, no I/O, no global
 * state; every input either parses or gets a definite refusal. Strict where
 * leniency has caused request smuggling in other proxies (both
 * Content-Length and Transfer-Encoding, differing lengths, obs-fold, bare CR,
 * whitespace before the colon). Fuzzed by fuzz/fuzz_http.c.
 */
#ifndef AIRLOCK_HTTP_PARSE_H
#define AIRLOCK_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_LINE 8192    /* request line; longer: 414 */
#define HTTP_MAX_HEAD 32768   /* whole head incl. the blank line; larger: 431 */
#define HTTP_MAX_HEADERS 100  /* more: 431 */

struct http_span {
	const char *p; /* points into the caller's buffer; not NUL-terminated */
	size_t n;
};

struct http_header {
	struct http_span name, value; /* value without surrounding whitespace */
};

enum http_body {
	HTTP_BODY_NONE = 0,	/* no body (or Content-Length: 0) */
	HTTP_BODY_LENGTH,	/* content_length bytes */
	HTTP_BODY_CHUNKED,	/* Transfer-Encoding: chunked (see http_chunked_feed) */
	HTTP_BODY_UNTIL_CLOSE,	/* responses only: delimited by the upstream closing */
};

struct http_request {
	struct http_span method;
	struct http_span target;	/* as sent */
	int minor;			/* HTTP/1.<minor>: 0 or 1 */
	bool is_connect;		/* CONNECT host:port (authority-form) */
	/* Authority of CONNECT's target or of an absolute http:// URI:
	 * lowercased, one trailing dot removed, brackets of an IPv6 literal
	 * removed, NUL-terminated. The port is explicit in CONNECT (required)
	 * and defaults to 80 for http:// URIs. */
	char host[256];
	uint16_t port;
	bool host_is_ipv6;
	/* Absolute URI: path and query in origin form ("/" when empty). */
	struct http_span path;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	enum http_body body;		/* NONE, LENGTH or CHUNKED */
	uint64_t content_length;
	bool keep_alive;		/* per version and Connection / Proxy-Connection */
	size_t head_len;		/* bytes of the head, the blank line included */
};

/* Parse a proxy request head at the start of buf. Returns head_len (> 0)
 * when a whole head is there; 0 when more bytes are needed (only while the
 * partial head could still be valid and len < HTTP_MAX_HEAD); or the
 * negated HTTP status to answer before closing:
 *   -400 malformed (also: origin-form target, userinfo in the authority,
 *        invalid host characters, CONNECT without a port, port 0 or > 65535,
 *        both Content-Length and Transfer-Encoding, differing lengths,
 *        obs-fold, bare CR, NUL, whitespace before a colon)
 *   -414 request line longer than HTTP_MAX_LINE
 *   -431 head longer than HTTP_MAX_HEAD, or more than HTTP_MAX_HEADERS headers
 *   -501 a scheme other than http:// in an absolute URI, or a
 *        Transfer-Encoding other than "chunked"
 *   -505 a version other than HTTP/1.0 or HTTP/1.1
 * Lines end in CRLF or a bare LF. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The same for a request inside a TLS connection the gateway terminated:
 * the target must be in origin form ("/path?query"; no fragment); CONNECT
 * and absolute URIs are -400. host and port are left empty. */
int http_parse_origin_request(const char *buf, size_t len, struct http_request *req);

struct http_response {
	int status;			/* 100..999 */
	int minor;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	enum http_body body;		/* NONE for 1xx, 204, 304 and answers to HEAD */
	uint64_t content_length;
	size_t head_len;
};

/* Parse an upstream's response head. Same return convention; every
 * refusal is -502 (the gateway answers 502 Bad Gateway). */
int http_parse_response(const char *buf, size_t len, bool request_was_head,
			struct http_response *res);

/* A host name as the gateway takes it (HTTP authorities and SOCKS5 domain
 * names alike): letters, digits, '-', '.', '_', no empty label; copied to
 * out lowercased without one trailing dot; a name inet_aton would read as
 * an IPv4 number ("2130706433", "127.1", "0x7f.1") only as a plain dotted
 * quad. false if it is not one. */
bool http_copy_hostname(const char *p, size_t n, char out[256]);

/* Case-insensitive lookup of the first header called `name`; NULL if none. */
const struct http_span *http_header_get(const struct http_header *h, size_t n, const char *name);

/* Does the comma-separated header value contain `token` (case-insensitive)? */
bool http_token_in(const struct http_span *value, const char *token);

/* The head to send upstream for an absolute-URI request: "METHOD path
 * HTTP/1.1", the client's headers minus hop-by-hop ones (Connection and every
 * header it names, Proxy-Connection, Proxy-Authorization, Keep-Alive, TE,
 * Trailer, Upgrade) and minus Host, then "Host: <authority>" (the URI's, so
 * the upstream cannot be steered to another virtual host than the one the
 * policy allowed; port omitted when 80, IPv6 in brackets) and
 * "Connection: close". Returns its length, or -1 when cap is too small. */
ssize_t http_write_upstream_request(const struct http_request *req, char *out, size_t cap);
/* The same, ending in "Connection: keep-alive" when keep: the upstream
 * connection may carry the next request to the same host:port. */
ssize_t http_write_upstream_request_keep(const struct http_request *req, bool keep, char *out,
					 size_t cap);

/* The same for a request going upstream over TLS: req->host and req->port
 * set by the caller, the port omitted when 443, "Connection: keep-alive". */
ssize_t http_write_tls_request(const struct http_request *req, char *out, size_t cap);

/* The response head to give the client: status line as received, headers
 * minus hop-by-hop ones (as above), then "Connection: keep-alive" or
 * "Connection: close". Returns its length, or -1 when cap is too small. */
ssize_t http_write_client_response(const struct http_response *res, const char *head,
				   bool keep_alive, char *out, size_t cap);

/* Tracks a chunked body passing through (the bytes are forwarded as they
 * are; this only finds where the body ends). Zero-initialise. */
struct http_chunked {
	int state;
	uint64_t remaining;	/* bytes left in the current chunk's data */
	size_t line_len;	/* length of the size/trailer line so far */
	bool done;		/* the last chunk and the trailers have passed */
};

/* Feed the next len bytes. Returns how many of them belong to the body
 * (== len unless the body ended inside buf; then done is set and the rest
 * is the next message), or -1 on malformed framing (bad hex, size overflow,
 * size line or trailer line over HTTP_MAX_LINE, missing CRLF after data). */
ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len);
/* The same, handing each run of chunk data (the body without its framing)
 * to data(arg, p, n) as it passes. */
ssize_t http_chunked_data(struct http_chunked *c, const char *buf, size_t len,
			  void (*data)(void *arg, const char *p, size_t n), void *arg);

/* A complete error response with a reason, for the gateway's refusals:
 * "HTTP/1.1 <status> <text>", Content-Type text/plain, X-Airlock-Reason:
 * <reason> (control characters replaced), Content-Length, Connection: close,
 * and the reason plus "\n" as the body. Returns its length (truncated to cap). */
size_t http_write_error(int status, const char *reason, char *out, size_t cap);

#endif
