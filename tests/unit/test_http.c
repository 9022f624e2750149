/* HTTP heads and chunked framing (src/lib/http_parse.c): each accepted form
 * with what it parses to, each refusal with its status, the same answer
 * whatever the split of the input into reads, and the exact heads written
 * upstream and back to the client. */
#include "check.h"
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

static struct http_request req;
static struct http_response res;

static bool span_is(const struct http_span *s, const char *want)
{
	return s->n == strlen(want) && memcmp(s->p, want, s->n) == 0;
}

static const char *show(const char *s) { return check_show(s, 60); }

/* Every proper prefix of a head needs more bytes; the whole head parses to
 * want; bytes after it (a body, the next request) change nothing. */
static bool request_splits_ok(const char *raw, size_t len, int want)
{
	for (size_t k = 0; k < len; k++)
		if (http_parse_request(raw, k, &req) != 0)
			return false;
	char *more = malloc(len + 7);
	memcpy(more, raw, len);
	memcpy(more + len, "XYZ\r\n\r\n", 7);
	bool ok = http_parse_request(more, len + 7, &req) == want;
	free(more);
	return ok && http_parse_request(raw, len, &req) == want;
}

/* raw parses; req is left holding the result. */
static bool parse_ok(const char *raw)
{
	size_t len = strlen(raw);
	int r = http_parse_request(raw, len, &req);
	CHECK(r == (int)len, "accepted (%d): %s", r, show(raw));
	CHECK(request_splits_ok(raw, len, r), "same answer at every split: %s", show(raw));
	return r == (int)len;
}

/* raw is refused with -status, and no prefix of it gets another answer. */
static void parse_bad_n(const char *raw, size_t len, int status, const char *what)
{
	int r = http_parse_request(raw, len, &req);
	CHECK(r == -status, "%s: %d (got %d)", what, status, -r);
	bool prefixes = true;
	for (size_t k = 0; k < len && k < 300; k++) {
		int p = http_parse_request(raw, k, &req);
		prefixes &= p == 0 || p == -status;
	}
	CHECK(prefixes, "%s: prefixes need more or get %d", what, status);
}

static void parse_bad(const char *raw, int status, const char *what)
{
	parse_bad_n(raw, strlen(raw), status, what);
}

/* For literals holding a NUL. */
#define PARSE_BAD_LIT(s, status, what) parse_bad_n(s, sizeof(s) - 1, status, what)

static void test_connect(void)
{
	if (parse_ok("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")) {
		CHECK(req.is_connect && !strcmp(req.host, "example.com") && req.port == 443 &&
		      !req.host_is_ipv6, "CONNECT example.com:443");
		CHECK(span_is(&req.method, "CONNECT") && span_is(&req.target, "example.com:443"),
		      "method and target as sent");
		CHECK(req.keep_alive && req.body == HTTP_BODY_NONE && req.minor == 1 &&
		      req.n_headers == 1 && !req.path.p, "CONNECT defaults");
	}
	if (parse_ok("CONNECT [2001:DB8::1]:8443 HTTP/1.1\r\n\r\n"))
		CHECK(req.is_connect && req.host_is_ipv6 && !strcmp(req.host, "2001:db8::1") &&
		      req.port == 8443, "CONNECT IPv6 literal, lowercased, brackets removed");
	if (parse_ok("CONNECT WWW.Example.ORG.:80 HTTP/1.0\r\n\r\n"))
		CHECK(!strcmp(req.host, "www.example.org") && req.port == 80 && !req.keep_alive,
		      "CONNECT host lowercased, trailing dot removed, 1.0 closes");
	if (parse_ok("CONNECT 10.0.0.1:22 HTTP/1.1\n\n"))
		CHECK(!strcmp(req.host, "10.0.0.1") && req.port == 22 && !req.host_is_ipv6,
		      "CONNECT IPv4, bare LF lines");
	if (parse_ok("CONNECT my_host-1.example:65535 HTTP/1.1\r\n\r\n"))
		CHECK(!strcmp(req.host, "my_host-1.example") && req.port == 65535,
		      "underscore and hyphen, port 65535");
}

static void test_absolute(void)
{
	if (parse_ok("GET http://Example.COM/path?q=1#frag HTTP/1.1\r\nHost: other\r\n"
		     "User-Agent:  t 1 \t\r\nX-Empty:\r\n\r\n")) {
		CHECK(!req.is_connect && span_is(&req.method, "GET") &&
		      !strcmp(req.host, "example.com") && req.port == 80, "GET host, default port");
		CHECK(span_is(&req.path, "/path?q=1"), "path and query, fragment dropped");
		CHECK(span_is(&req.target, "http://Example.COM/path?q=1#frag"), "target as sent");
		CHECK(req.n_headers == 3 && span_is(&req.headers[1].name, "User-Agent") &&
		      span_is(&req.headers[1].value, "t 1") && req.headers[2].value.n == 0,
		      "header values trimmed");
		CHECK(req.body == HTTP_BODY_NONE && req.keep_alive, "no body, keep-alive");
		CHECK(req.head_len == strlen("GET http://Example.COM/path?q=1#frag HTTP/1.1\r\n"
					     "Host: other\r\nUser-Agent:  t 1 \t\r\nX-Empty:\r\n\r\n"),
		      "head_len");
	}
	if (parse_ok("GET http://example.com HTTP/1.1\r\n\r\n"))
		CHECK(span_is(&req.path, "/"), "missing path is /");
	if (parse_ok("GET http://example.com#top HTTP/1.1\r\n\r\n"))
		CHECK(span_is(&req.path, "/"), "fragment only is /");
	if (parse_ok("HEAD HTTP://example.com:8080/x HTTP/1.1\r\n\r\n"))
		CHECK(req.port == 8080 && span_is(&req.path, "/x") && span_is(&req.method, "HEAD"),
		      "scheme case-insensitive, explicit port");
	if (parse_ok("GET hTtP://example.com./ HTTP/1.1\r\n\r\n"))
		CHECK(!strcmp(req.host, "example.com"), "one trailing dot removed");
	if (parse_ok("GET http://[::1]/ HTTP/1.1\r\n\r\n"))
		CHECK(req.host_is_ipv6 && !strcmp(req.host, "::1") && req.port == 80,
		      "IPv6 literal, default port");
	if (parse_ok("GET http://[::FFFF:192.0.2.1]:81/a HTTP/1.1\r\n\r\n"))
		CHECK(req.host_is_ipv6 && !strcmp(req.host, "::ffff:192.0.2.1") && req.port == 81,
		      "IPv6 with embedded IPv4");
	if (parse_ok("GET http://192.168.0.1/ HTTP/1.1\r\n\r\n"))
		CHECK(!strcmp(req.host, "192.168.0.1") && !req.host_is_ipv6, "IPv4 dotted quad");
	if (parse_ok("GET http://0.0.0.0:1/ HTTP/1.1\r\n\r\n"))
		CHECK(!strcmp(req.host, "0.0.0.0") && req.port == 1, "zero parts, port 1");
	if (parse_ok("GET http://a.b.c.example.123abc/ HTTP/1.1\r\n\r\n"))
		CHECK(!strcmp(req.host, "a.b.c.example.123abc"), "alphanumeric last label is a name");
	if (parse_ok("M-SEARCH! http://h/ HTTP/1.1\r\n\r\n"))
		CHECK(span_is(&req.method, "M-SEARCH!"), "any token is a method");
	if (parse_ok("connect http://h:443/ HTTP/1.1\r\n\r\n"))
		CHECK(!req.is_connect, "CONNECT is case-sensitive");
}

static void test_bodies(void)
{
	if (parse_ok("POST http://h/u HTTP/1.1\r\nContent-Length: 5\r\n\r\n"))
		CHECK(req.body == HTTP_BODY_LENGTH && req.content_length == 5, "Content-Length 5");
	if (parse_ok("POST http://h/u HTTP/1.1\r\ncontent-length: 0\r\n\r\n"))
		CHECK(req.body == HTTP_BODY_NONE && req.content_length == 0, "Content-Length 0");
	if (parse_ok("POST http://h/u HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"))
		CHECK(req.body == HTTP_BODY_LENGTH && req.content_length == UINT64_MAX,
		      "Content-Length UINT64_MAX");
	if (parse_ok("POST http://h/u HTTP/1.1\r\nContent-Length: 7\r\nX: y\r\nContent-Length: 007\r\n\r\n"))
		CHECK(req.body == HTTP_BODY_LENGTH && req.content_length == 7, "equal lengths twice");
	if (parse_ok("POST http://h/u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"))
		CHECK(req.body == HTTP_BODY_CHUNKED, "chunked");
	if (parse_ok("POST http://h/u HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n"))
		CHECK(req.body == HTTP_BODY_CHUNKED, "chunked, any case and spacing");
}

static void keep_alive(const char *raw, bool want, const char *what)
{
	if (parse_ok(raw))
		CHECK(req.keep_alive == want, "keep-alive %s: %s", want ? "yes" : "no", what);
}

static void test_keep_alive(void)
{
	keep_alive("GET http://h/ HTTP/1.1\r\n\r\n", true, "1.1 default");
	keep_alive("GET http://h/ HTTP/1.1\r\nConnection: close\r\n\r\n", false, "1.1 close");
	keep_alive("GET http://h/ HTTP/1.1\r\nConnection: x, CLOSE\r\n\r\n", false, "1.1 listed close");
	keep_alive("GET http://h/ HTTP/1.1\r\nProxy-Connection: close\r\n\r\n", false,
		   "1.1 Proxy-Connection close");
	keep_alive("GET http://h/ HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		   false, "1.1 second Connection header");
	keep_alive("GET http://h/ HTTP/1.1\r\nConnection: closed\r\n\r\n", true, "1.1 'closed' is not close");
	keep_alive("GET http://h/ HTTP/1.0\r\n\r\n", false, "1.0 default");
	keep_alive("GET http://h/ HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, "1.0 keep-alive");
	keep_alive("GET http://h/ HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n", true,
		   "1.0 Proxy-Connection keep-alive");
	keep_alive("GET http://h/ HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false,
		   "1.0 close wins");
}

static void test_refusals(void)
{
	/* 400: the target */
	parse_bad("GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400, "origin-form");
	parse_bad("OPTIONS * HTTP/1.1\r\n\r\n", 400, "asterisk-form");
	parse_bad("GET h:80 HTTP/1.1\r\n\r\n", 400, "authority-form without CONNECT");
	parse_bad("GET mailto:a@b HTTP/1.1\r\n\r\n", 400, "scheme without //");
	parse_bad("CONNECT http://h:443/ HTTP/1.1\r\n\r\n", 400, "CONNECT with a URI");
	parse_bad("GET http://user:pw@h/ HTTP/1.1\r\n\r\n", 400, "userinfo");
	parse_bad("CONNECT u@h:443 HTTP/1.1\r\n\r\n", 400, "CONNECT userinfo");
	parse_bad("GET http://ex$ample.com/ HTTP/1.1\r\n\r\n", 400, "invalid host character");
	parse_bad("GET http://ex%41mple.com/ HTTP/1.1\r\n\r\n", 400, "percent in host");
	parse_bad("GET http:///x HTTP/1.1\r\n\r\n", 400, "empty host");
	parse_bad("GET http://a..b/ HTTP/1.1\r\n\r\n", 400, "empty label");
	parse_bad("GET http://.a/ HTTP/1.1\r\n\r\n", 400, "leading dot");
	parse_bad("GET http://a../ HTTP/1.1\r\n\r\n", 400, "two trailing dots");
	parse_bad("GET http://./ HTTP/1.1\r\n\r\n", 400, "only a dot");
	parse_bad("GET http://2130706433/ HTTP/1.1\r\n\r\n", 400, "IPv4 as one number");
	parse_bad("GET http://127.1/ HTTP/1.1\r\n\r\n", 400, "short IPv4");
	parse_bad("GET http://0x7f.0.0.1/ HTTP/1.1\r\n\r\n", 400, "hex IPv4");
	parse_bad("GET http://010.0.0.1/ HTTP/1.1\r\n\r\n", 400, "octal IPv4");
	parse_bad("GET http://1.2.3.256/ HTTP/1.1\r\n\r\n", 400, "IPv4 part over 255");
	parse_bad("GET http://1.2.3.4.5/ HTTP/1.1\r\n\r\n", 400, "five parts");
	parse_bad("GET http://example.0x10/ HTTP/1.1\r\n\r\n", 400, "numeric last label");
	parse_bad("CONNECT ::1:443 HTTP/1.1\r\n\r\n", 400, "IPv6 without brackets");
	parse_bad("GET http://[::g]/ HTTP/1.1\r\n\r\n", 400, "bad IPv6");
	parse_bad("GET http://[fe80::1%25eth0]/ HTTP/1.1\r\n\r\n", 400, "IPv6 zone id");
	parse_bad("GET http://[1.2.3.4]/ HTTP/1.1\r\n\r\n", 400, "IPv4 in brackets");
	parse_bad("GET http://[::1/ HTTP/1.1\r\n\r\n", 400, "unclosed bracket");
	parse_bad("GET http://[::1]x/ HTTP/1.1\r\n\r\n", 400, "junk after bracket");
	parse_bad("CONNECT example.com HTTP/1.1\r\n\r\n", 400, "CONNECT without port");
	parse_bad("CONNECT example.com: HTTP/1.1\r\n\r\n", 400, "CONNECT empty port");
	parse_bad("CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400, "port 0");
	parse_bad("CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 400, "port 65536");
	parse_bad("CONNECT example.com:99999999999 HTTP/1.1\r\n\r\n", 400, "huge port");
	parse_bad("CONNECT example.com:8a HTTP/1.1\r\n\r\n", 400, "port not digits");
	parse_bad("CONNECT a:1:2 HTTP/1.1\r\n\r\n", 400, "two colons");
	parse_bad("GET http://h?q=1 HTTP/1.1\r\n\r\n", 400, "query without a path");
	/* 400: the request line */
	parse_bad("GE(T http://h/ HTTP/1.1\r\n\r\n", 400, "method not a token");
	parse_bad(" GET http://h/ HTTP/1.1\r\n\r\n", 400, "empty method");
	parse_bad("GET  http://h/ HTTP/1.1\r\n\r\n", 400, "two spaces");
	parse_bad("GET http://h/ HTTP/1.1 \r\n\r\n", 400, "trailing space");
	parse_bad("GET http://h/\x01 HTTP/1.1\r\n\r\n", 400, "control character in target");
	parse_bad("GET http://h/\x7f HTTP/1.1\r\n\r\n", 400, "DEL in target");
	parse_bad("GET http://h/\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "non-ASCII in target");
	parse_bad("GET http://h/\tx HTTP/1.1\r\n\r\n", 400, "tab in target");
	parse_bad("GET http://h/ HTTP/1.1\rX\n\r\n", 400, "bare CR in request line");
	parse_bad("GET http://h/\r HTTP/1.1\r\n\r\n", 400, "bare CR in target");
	PARSE_BAD_LIT("GET http://h/\0 HTTP/1.1\r\n\r\n", 400, "NUL in target");
	parse_bad("GET http://h/\r\n\r\n", 400, "no version");
	parse_bad("GET http://h/ http/1.1\r\n\r\n", 400, "lowercase version");
	parse_bad("GET http://h/ HTTP/1.1x\r\n\r\n", 400, "junk after version");
	parse_bad("GET http://h/ HTTP/11\r\n\r\n", 400, "malformed version");
	parse_bad("\r\nGET http://h/ HTTP/1.1\r\n\r\n", 400, "empty line first");
	parse_bad("\n", 400, "empty request line");
	/* 400: headers */
	parse_bad("GET http://h/ HTTP/1.1\r\nHost : h\r\n\r\n", 400, "space before colon");
	parse_bad("GET http://h/ HTTP/1.1\r\nHost\t: h\r\n\r\n", 400, "tab before colon");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400, "obs-fold with tab");
	parse_bad("GET http://h/ HTTP/1.1\r\n Host: h\r\n\r\n", 400, "first header folded");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "bare CR in a value");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\r\n\r\n", 400, "CR CR LF");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\r\n\r\r\n", 400, "bare CR in the blank line");
	PARSE_BAD_LIT("GET http://h/ HTTP/1.1\r\nX: a\0b\r\n\r\n", 400, "NUL in a value");
	PARSE_BAD_LIT("GET http://h/ HTTP/1.1\r\nX\0: a\r\n\r\n", 400, "NUL in a name");
	parse_bad("GET http://h/ HTTP/1.1\r\nX: a\x01\r\n\r\n", 400, "control character in a value");
	parse_bad("GET http://h/ HTTP/1.1\r\nX(y): 1\r\n\r\n", 400, "name not a token");
	parse_bad("GET http://h/ HTTP/1.1\r\n: 1\r\n\r\n", 400, "empty name");
	parse_bad("GET http://h/ HTTP/1.1\r\nNoColon\r\n\r\n", 400, "no colon");
	/* 400: framing */
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		  400, "Content-Length and Transfer-Encoding");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
		  400, "Transfer-Encoding and Content-Length");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
		  400, "unknown coding and Content-Length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
		  "differing lengths");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400, "length list");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", 400, "length not digits");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, "signed length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "negative length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "hex length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 1 0\r\n\r\n", 400, "space in length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "empty length");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400,
		  "length overflow");
	parse_bad("POST http://h/ HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
		  "length far over");
	/* 501, 505 */
	parse_bad("GET https://h/ HTTP/1.1\r\n\r\n", 501, "https URI");
	parse_bad("GET HTTPS://h/ HTTP/1.1\r\n\r\n", 501, "HTTPS URI");
	parse_bad("GET ftp://h/f HTTP/1.1\r\n\r\n", 501, "ftp URI");
	parse_bad("GET ws://h/ HTTP/1.1\r\n\r\n", 501, "ws URI");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip coding");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
		  "gzip then chunked");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501,
		  "chunked twice");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		  501, "two Transfer-Encoding headers");
	parse_bad("POST http://h/ HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 501,
		  "chunked with a parameter");
	parse_bad("GET http://h/ HTTP/2.0\r\n\r\n", 505, "HTTP/2.0");
	parse_bad("GET http://h/ HTTP/1.2\r\n\r\n", 505, "HTTP/1.2");
	parse_bad("GET http://h/ HTTP/0.9\r\n\r\n", 505, "HTTP/0.9");
	parse_bad("GET https://h/ HTTP/3.0\r\n\r\n", 505, "version checked before scheme");
}

/* Fill a buffer with a request line of `line` bytes (line end included)
 * and `hdrs` bytes of headers, blank line excluded. */
static char *big_request(size_t line, size_t hdr_bytes, size_t *len)
{
	size_t cap = line + hdr_bytes + 64;
	char *b = malloc(cap);
	size_t n = 0;
	memcpy(b, "GET http://h/", 13);
	n = 13;
	while (n < line - 11)
		b[n++] = 'a';
	memcpy(b + n, " HTTP/1.1\r\n", 11);
	n += 11;
	/* one long header, "X: vvv...\r\n" */
	if (hdr_bytes) {
		memcpy(b + n, "X: ", 3);
		size_t end = n + hdr_bytes - 2;
		for (n += 3; n < end; n++)
			b[n] = 'v';
		memcpy(b + n, "\r\n", 2);
		n += 2;
	}
	memcpy(b + n, "\r\n", 2);
	*len = n + 2;
	return b;
}

static void test_limits(void)
{
	size_t len;
	char *b = big_request(HTTP_MAX_LINE, 0, &len);
	CHECK(http_parse_request(b, len, &req) == (int)len, "request line of HTTP_MAX_LINE bytes");
	CHECK(http_parse_request(b, HTTP_MAX_LINE - 1, &req) == 0, "its prefix needs more");
	free(b);
	b = big_request(HTTP_MAX_LINE + 1, 0, &len);
	CHECK(http_parse_request(b, len, &req) == -414, "request line one byte longer: 414");
	CHECK(http_parse_request(b, HTTP_MAX_LINE, &req) == -414,
	      "414 as soon as HTTP_MAX_LINE bytes hold no line end");
	CHECK(http_parse_request(b, HTTP_MAX_LINE - 1, &req) == 0, "not before");
	free(b);

	b = malloc(100000);
	memset(b, 'A', 100000);
	CHECK(http_parse_request(b, 100000, &req) == -414, "endless request line: 414");
	CHECK(http_parse_request(b, 5000, &req) == 0, "its first 5000 bytes need more");
	b[4000] = '\0';
	CHECK(http_parse_request(b, 5000, &req) == -400, "NUL refused before the limit");
	free(b);

	size_t line = 40;
	b = big_request(line, HTTP_MAX_HEAD - line - 2, &len);
	CHECK(len == HTTP_MAX_HEAD && http_parse_request(b, len, &req) == (int)len,
	      "head of HTTP_MAX_HEAD bytes");
	free(b);
	b = big_request(line, HTTP_MAX_HEAD - line - 1, &len);
	CHECK(http_parse_request(b, len, &req) == -431, "head one byte longer: 431");
	CHECK(http_parse_request(b, HTTP_MAX_HEAD, &req) == -431,
	      "431 as soon as HTTP_MAX_HEAD bytes hold no blank line");
	CHECK(http_parse_request(b, HTTP_MAX_HEAD - 1, &req) == 0, "not before");
	free(b);

	char *h = malloc(HTTP_MAX_HEADERS * 8 + 64);
	size_t n = (size_t)sprintf(h, "GET http://h/ HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(h + n, "X%d: 1\r\n", i % 10);
	memcpy(h + n, "\r\n", 2);
	CHECK(http_parse_request(h, n + 2, &req) == (int)n + 2 && req.n_headers == HTTP_MAX_HEADERS,
	      "HTTP_MAX_HEADERS headers");
	memcpy(h + n, "Y: 2\r\n\r\n", 8);
	CHECK(http_parse_request(h, n + 8, &req) == -431, "one more: 431");
	CHECK(http_parse_request(h, n + 1, &req) == -431, "431 as soon as the extra line starts");
	CHECK(http_parse_request(h, n, &req) == 0, "not before");
	memcpy(h + n, "\r", 1);
	CHECK(http_parse_request(h, n + 1, &req) == 0, "a CR may start the blank line");
	free(h);
}

/* ---- responses ------------------------------------------------------------ */

static bool resp_ok(const char *raw, bool head, int status, enum http_body body)
{
	size_t len = strlen(raw);
	int r = http_parse_response(raw, len, head, &res);
	bool split = true;
	for (size_t k = 0; k < len; k++)
		split &= http_parse_response(raw, k, head, &res) == 0;
	r = http_parse_response(raw, len, head, &res);
	CHECK(r == (int)len && res.status == status && res.body == body && split,
	      "response %d body %d (got %d, %d, %d): %s", status, body, r, res.status,
	      res.body, show(raw));
	return r == (int)len;
}

static void resp_bad(const char *raw, const char *what)
{
	size_t len = strlen(raw);
	bool prefixes = true;
	for (size_t k = 0; k < len; k++) {
		int p = http_parse_response(raw, k, false, &res);
		prefixes &= p == 0 || p == -502;
	}
	CHECK(http_parse_response(raw, len, false, &res) == -502 && prefixes, "502: %s", what);
}

static void test_responses(void)
{
	if (resp_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, 200, HTTP_BODY_LENGTH))
		CHECK(res.content_length == 5 && res.minor == 1 && res.n_headers == 1, "length 5");
	resp_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 200, HTTP_BODY_CHUNKED);
	resp_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", false, 200,
		HTTP_BODY_CHUNKED);
	resp_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
		false, 200, HTTP_BODY_CHUNKED);
	resp_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 200, HTTP_BODY_UNTIL_CLOSE);
	resp_ok("HTTP/1.1 200 OK\r\n\r\n", false, 200, HTTP_BODY_UNTIL_CLOSE);
	resp_ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 200, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 204 No Content\r\n\r\n", false, 204, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", false, 304, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 100 Continue\r\n\r\n", false, 100, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false, 101, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, 200, HTTP_BODY_NONE);
	resp_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, 200, HTTP_BODY_NONE);
	if (resp_ok("HTTP/1.0 404\n\n", false, 404, HTTP_BODY_UNTIL_CLOSE))
		CHECK(res.minor == 0, "HTTP/1.0, no reason, bare LF");
	resp_ok("HTTP/1.1 599 \r\n\r\n", false, 599, HTTP_BODY_UNTIL_CLOSE);
	resp_ok("HTTP/1.1 999 Caf\xc3\xa9\tx\r\n\r\n", false, 999, HTTP_BODY_UNTIL_CLOSE);
	resp_ok("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n", false, 200,
		HTTP_BODY_LENGTH);

	resp_bad("HTTP/2 200 OK\r\n\r\n", "HTTP/2");
	resp_bad("HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.2");
	resp_bad("http/1.1 200 OK\r\n\r\n", "lowercase version");
	resp_bad("HTTP/1.1 20 OK\r\n\r\n", "two-digit status");
	resp_bad("HTTP/1.1 2000 OK\r\n\r\n", "four-digit status");
	resp_bad("HTTP/1.1 099 OK\r\n\r\n", "status under 100");
	resp_bad("HTTP/1.1 200OK\r\n\r\n", "no space after status");
	resp_bad("HTTP/1.1  200 OK\r\n\r\n", "two spaces");
	resp_bad("HTTP/1.1 200 O\x01K\r\n\r\n", "control character in reason");
	resp_bad("HTTP/1.1 200 OK\rX\r\n\r\n", "bare CR in status line");
	resp_bad("\r\n", "empty");
	resp_bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "both lengths");
	resp_bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "differing lengths");
	resp_bad("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "length not digits");
	resp_bad("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", "length overflow");
	resp_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "chunked not last");
	resp_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
		 "chunked then another header");
	resp_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n\r\n", "empty coding");
	resp_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", "empty Transfer-Encoding");
	resp_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: g z\r\n\r\n", "coding not a token");
	resp_bad("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obs-fold");
	resp_bad("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "space before colon");
	resp_bad("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "bare CR");

	char *b = malloc(HTTP_MAX_HEAD + 10);
	memset(b, 'x', HTTP_MAX_HEAD + 10);
	memcpy(b, "HTTP/1.1 200 OK\r\nX: ", 20);
	CHECK(http_parse_response(b, HTTP_MAX_HEAD, false, &res) == -502, "502: head too big");
	CHECK(http_parse_response(b, HTTP_MAX_HEAD - 1, false, &res) == 0, "not before");
	memset(b, 'x', HTTP_MAX_HEAD + 10);
	memcpy(b, "HTTP/1.1 200 ", 13);
	CHECK(http_parse_response(b, HTTP_MAX_LINE, false, &res) == -502, "502: status line too long");
	free(b);
}

/* ---- lookups ---------------------------------------------------------------- */

static void test_lookups(void)
{
	if (!parse_ok("GET http://h/ HTTP/1.1\r\nAccept: a\r\nCONNECTION: Upgrade ,\tclose ,\r\n"
		      "accept: b\r\n\r\n"))
		return;
	const struct http_span *v = http_header_get(req.headers, req.n_headers, "accept");
	CHECK(v && span_is(v, "a"), "header_get finds the first, any case");
	CHECK(!http_header_get(req.headers, req.n_headers, "Accep"), "header_get: no prefix match");
	v = http_header_get(req.headers, req.n_headers, "Connection");
	CHECK(v && http_token_in(v, "close") && http_token_in(v, "UPGRADE"), "token_in, any case");
	CHECK(v && !http_token_in(v, "clos") && !http_token_in(v, "keep-alive"), "token_in: whole tokens");
	CHECK(v && !http_token_in(v, ""), "token_in: empty token is not an empty element");
	struct http_span s = { "a,b", 3 };
	CHECK(http_token_in(&s, "b") && !http_token_in(&s, "a,b"), "token_in on a plain span");
}

/* ---- writers ---------------------------------------------------------------- */

static char out[4096];

static void writes_exactly(ssize_t n, const char *want, const char *what)
{
	bool ok = n == (ssize_t)strlen(want) && memcmp(out, want, (size_t)n) == 0;
	CHECK(ok, "%s", what);
	if (!ok)
		printf("# got %zd: %.*s\n", n, n > 0 ? (int)n : 0, out);
}

static void test_upstream(void)
{
	const char *in =
		"GET http://Example.com:8080/a?b#c HTTP/1.0\r\n"
		"Host: evil.example\r\n"
		"User-Agent: t\r\n"
		"Connection: keep-alive, X-Foo , content-length, Transfer-Encoding\r\n"
		"X-Foo: 1\r\n"
		"x-foo: 2\r\n"
		"Proxy-Authorization: Basic eA==\r\n"
		"Proxy-Connection: keep-alive\r\n"
		"Keep-Alive: 300\r\n"
		"TE: trailers\r\n"
		"Trailer: X-T\r\n"
		"Upgrade: h2c\r\n"
		"HOST: evil2.example\r\n"
		"Content-Length: 3\r\n"
		"Accept: */*\r\n\r\n";
	if (!parse_ok(in))
		return;
	const char *want =
		"GET /a?b HTTP/1.1\r\n"
		"User-Agent: t\r\n"
		"Content-Length: 3\r\n"
		"Accept: */*\r\n"
		"Host: example.com:8080\r\n"
		"Connection: close\r\n\r\n";
	ssize_t n = http_write_upstream_request(&req, out, sizeof(out));
	writes_exactly(n, want, "upstream: hop-by-hop and Host dropped, framing kept");
	bool small = true;
	for (size_t cap = 0; cap < strlen(want); cap++)
		small &= http_write_upstream_request(&req, out, cap) == -1;
	CHECK(small, "upstream: -1 for every cap too small");
	CHECK(http_write_upstream_request(&req, out, strlen(want)) == (ssize_t)strlen(want),
	      "upstream: exact cap is enough");

	if (parse_ok("POST http://[::1]/x HTTP/1.1\nTransfer-Encoding: chunked\n\n")) {
		n = http_write_upstream_request(&req, out, sizeof(out));
		writes_exactly(n, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: [::1]\r\n"
				  "Connection: close\r\n\r\n", "upstream: IPv6 host, port 80 omitted, CRLF");
	}
	if (parse_ok("GET http://h:80 HTTP/1.1\r\n\r\n")) {
		n = http_write_upstream_request(&req, out, sizeof(out));
		writes_exactly(n, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			       "upstream: empty path, explicit port 80 omitted");
	}
	if (parse_ok("GET http://[::1]:81 HTTP/1.1\r\n\r\n")) {
		n = http_write_upstream_request(&req, out, sizeof(out));
		writes_exactly(n, "GET / HTTP/1.1\r\nHost: [::1]:81\r\nConnection: close\r\n\r\n",
			       "upstream: IPv6 with port");
	}
	if (parse_ok("CONNECT h:443 HTTP/1.1\r\n\r\n"))
		CHECK(http_write_upstream_request(&req, out, sizeof(out)) == -1,
		      "upstream: nothing for CONNECT");
}

static void test_client_response(void)
{
	const char *in =
		"HTTP/1.1 200 Fine Thanks\r\n"
		"Content-Type: text/html\r\n"
		"Connection: close, X-Bar\r\n"
		"X-Bar: 1\r\n"
		"Keep-Alive: timeout=5\r\n"
		"Proxy-Connection: close\r\n"
		"Upgrade: h2\r\n"
		"Trailer: X\r\n"
		"Content-Length: 3\r\n\r\n";
	if (http_parse_response(in, strlen(in), false, &res) != (int)strlen(in)) {
		CHECK(false, "client response input parses");
		return;
	}
	const char *want =
		"HTTP/1.1 200 Fine Thanks\r\n"
		"Content-Type: text/html\r\n"
		"Content-Length: 3\r\n"
		"Connection: keep-alive\r\n\r\n";
	ssize_t n = http_write_client_response(&res, in, true, out, sizeof(out));
	writes_exactly(n, want, "client: hop-by-hop dropped, keep-alive");
	bool small = true;
	for (size_t cap = 0; cap < strlen(want); cap++)
		small &= http_write_client_response(&res, in, true, out, cap) == -1;
	CHECK(small, "client: -1 for every cap too small");

	const char *lf = "HTTP/1.0 404\nTransfer-Encoding: chunked\nConnection: transfer-encoding\n\n";
	if (http_parse_response(lf, strlen(lf), false, &res) > 0) {
		n = http_write_client_response(&res, lf, false, out, sizeof(out));
		writes_exactly(n, "HTTP/1.0 404\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
			       "client: bare LF to CRLF, close, Transfer-Encoding kept");
	} else {
		CHECK(false, "bare-LF response parses");
	}
}

static void test_error(void)
{
	char e[512];
	size_t n = http_write_error(403, "denied\r\nX: y", e, sizeof(e));
	const char *want =
		"HTTP/1.1 403 Forbidden\r\n"
		"Content-Type: text/plain\r\n"
		"X-Airlock-Reason: denied??X: y\r\n"
		"Content-Length: 13\r\n"
		"Connection: close\r\n\r\n"
		"denied??X: y\n";
	CHECK(n == strlen(want) && !memcmp(e, want, n), "error: control characters replaced");
	n = http_write_error(502, "upstream said no", e, sizeof(e));
	CHECK(n > 0 && !strncmp(e, "HTTP/1.1 502 Bad Gateway\r\n", 26) &&
	      strstr(e, "Content-Length: 17\r\n") && !strcmp(e + n - 17, "upstream said no\n"),
	      "error: 502");
	n = http_write_error(431, NULL, e, sizeof(e));
	CHECK(strstr(e, "431 Request Header Fields Too Large") && strstr(e, "Content-Length: 1\r\n"),
	      "error: 431, no reason");
	char full[512];
	size_t whole = http_write_error(407, "auth", full, sizeof(full));
	n = http_write_error(407, "auth", e, 10);
	CHECK(n == 10 && !memcmp(e, full, 10) && whole > 10, "error: truncated to cap");
	n = http_write_error(407, "auth", e, 0);
	CHECK(n == 0, "error: cap 0");
}

/* ---- chunked ------------------------------------------------------------------ */

/* Feed body+rest whole, byte by byte and in two pieces at every split;
 * each must end the body after body_len bytes. */
static void chunked_ok(const char *body, const char *what)
{
	char buf[1024];
	size_t blen = strlen(body);
	snprintf(buf, sizeof(buf), "%sGET next", body);
	size_t len = strlen(buf);

	struct http_chunked c = { 0 };
	ssize_t n = http_chunked_feed(&c, buf, len);
	CHECK(n == (ssize_t)blen && c.done, "chunked %s: whole (%zd of %zu)", what, n, blen);
	CHECK(http_chunked_feed(&c, "x", 1) == 0, "chunked %s: nothing after done", what);

	c = (struct http_chunked){ 0 };
	size_t total = 0;
	bool ok = true;
	for (size_t i = 0; i < len && !c.done; i++) {
		n = http_chunked_feed(&c, buf + i, 1);
		ok &= n == 1;
		total += (size_t)n;
	}
	CHECK(ok && c.done && total == blen, "chunked %s: byte by byte", what);

	ok = true;
	for (size_t k = 0; k <= len; k++) {
		c = (struct http_chunked){ 0 };
		ssize_t a = http_chunked_feed(&c, buf, k);
		ssize_t b = c.done ? 0 : http_chunked_feed(&c, buf + k, len - k);
		ok &= a >= 0 && b >= 0 && c.done && (size_t)(a + b) == blen;
	}
	CHECK(ok, "chunked %s: split at every byte", what);
}

static void chunked_bad(const char *in, size_t len, const char *what)
{
	struct http_chunked c = { 0 };
	CHECK(http_chunked_feed(&c, in, len) == -1, "chunked refused: %s", what);
	CHECK(http_chunked_feed(&c, "0\r\n\r\n", 5) == -1, "chunked stays refused: %s", what);
	c = (struct http_chunked){ 0 };
	bool failed = false;
	for (size_t i = 0; i < len && !failed; i++) {
		ssize_t n = http_chunked_feed(&c, in + i, 1);
		failed = n < 0;
	}
	CHECK(failed, "chunked refused byte by byte: %s", what);
}

static void test_chunked(void)
{
	chunked_ok("5\r\nhello\r\n0\r\n\r\n", "simple");
	chunked_ok("0\r\n\r\n", "empty body");
	chunked_ok("A\r\n0123456789\r\nb\r\n0123456789a\r\n000\r\n\r\n", "hex sizes");
	chunked_ok("5;name=val;x\r\nhello\r\n0;last\r\n\r\n", "extensions");
	chunked_ok("5 \t;a=\"b c\"\r\nhello\r\n0 \r\n\r\n", "whitespace after the size");
	chunked_ok("3\r\n\r\n\n\r\n0\r\nX-T: 1\r\nY:\r\n\r\n", "trailers; CR LF as data");
	chunked_ok("1\r\n0\r\n1\r\n\r\r\n0\r\n\r\n", "data that looks like framing");

	/* Sizes that only fit 64 bits, fed in parts. */
	struct http_chunked c = { 0 };
	CHECK(http_chunked_feed(&c, "ffffffffffffffff\r\n", 18) == 18 && c.remaining == UINT64_MAX &&
	      !c.done, "size of 2^64-1");
	CHECK(http_chunked_feed(&c, "abc", 3) == 3 && c.remaining == UINT64_MAX - 3, "data counted");

	chunked_bad("g\r\n", 3, "not hex");
	chunked_bad("\r\n", 2, "empty size line");
	chunked_bad(" 5\r\n", 4, "space before the size");
	chunked_bad("-5\r\n", 4, "negative size");
	chunked_bad("0x5\r\n", 5, "0x prefix");
	chunked_bad("5\nhello\r\n", 9, "bare LF after the size");
	chunked_bad("5\rhello\r\n", 9, "bare CR after the size");
	chunked_bad("5;\nx", 4, "bare LF ending an extension");
	chunked_bad("5;a\x01\r\n", 6, "control character in an extension");
	chunked_bad("5x\r\n", 4, "junk after the size");
	chunked_bad("5 6\r\n", 5, "two sizes");
	chunked_bad("5\r\nhelloX\r\n", 11, "no CRLF after the data");
	chunked_bad("5\r\nhello\n0\r\n\r\n", 14, "bare LF after the data");
	chunked_bad("5\r\nhello\rX", 10, "CR without LF after the data");
	chunked_bad("10000000000000000\r\n", 19, "size overflow");
	chunked_bad("0\r\n X: 1\r\n\r\n", 12, "obs-fold in the trailers");
	chunked_bad("0\r\nX\r\n\r\n", 8, "trailer without a colon");
	chunked_bad("0\r\nX : 1\r\n\r\n", 12, "space before a trailer's colon");
	chunked_bad("0\r\nX: 1\n\r\n", 10, "bare LF after a trailer");
	chunked_bad("0\r\nX: a\x01\r\n\r\n", 11, "control character in a trailer");
	chunked_bad("0\r\n\rX", 5, "CR without LF at the end");
	chunked_bad("0\r\n\n", 4, "bare LF at the end");

	char *big = malloc(HTTP_MAX_LINE + 16);
	memset(big, 'a', HTTP_MAX_LINE + 16);
	memcpy(big, "5;", 2);
	c = (struct http_chunked){ 0 };
	CHECK(http_chunked_feed(&c, big, HTTP_MAX_LINE) == HTTP_MAX_LINE,
	      "size line of HTTP_MAX_LINE bytes so far");
	CHECK(http_chunked_feed(&c, "\r", 1) == -1, "one more: refused");
	memcpy(big + HTTP_MAX_LINE - 2, "\r\n", 2);
	c = (struct http_chunked){ 0 };
	CHECK(http_chunked_feed(&c, big, HTTP_MAX_LINE) == HTTP_MAX_LINE && !c.done,
	      "size line of HTTP_MAX_LINE bytes with its CRLF");
	memcpy(big, "0\r\nX:", 5);
	memset(big + 5, 'v', HTTP_MAX_LINE + 10);
	c = (struct http_chunked){ 0 };
	CHECK(http_chunked_feed(&c, big, HTTP_MAX_LINE + 15) == -1, "trailer line too long");
	free(big);
}

/* Requests inside a tunnel the gateway terminated: origin form only. */
static void test_origin(void)
{
	static const char in[] = "POST /v1/chat?x=1 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 2\r\n"
				 "Connection: keep-alive\r\nAuthorization: Bearer p\r\n\r\nhi";
	int r = http_parse_origin_request(in, sizeof in - 1, &req);
	CHECK(r == (int)(sizeof in - 3) && span_is(&req.path, "/v1/chat?x=1") && req.body == HTTP_BODY_LENGTH &&
	      req.content_length == 2 && !req.host[0], "origin form: path and framing, no host");
	snprintf(req.host, sizeof req.host, "api.test");
	req.port = 443;
	ssize_t n = http_write_tls_request(&req, out, sizeof out);
	writes_exactly(n, "POST /v1/chat?x=1 HTTP/1.1\r\nContent-Length: 2\r\nAuthorization: Bearer p\r\n"
			  "Host: api.test\r\nConnection: keep-alive\r\n\r\n",
		       "tls request: Host from the tunnel, port 443 omitted, kept alive");
	req.port = 8443;
	n = http_write_tls_request(&req, out, sizeof out);
	CHECK(n > 0 && strstr(out, "\r\nHost: api.test:8443\r\n"), "tls request: another port is named");
	static const char *const bad[] = {
		"GET http://a.test/ HTTP/1.1\r\n\r\n", "CONNECT a.test:443 HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n", "GET /a#frag HTTP/1.1\r\n\r\n", "GET a HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(http_parse_origin_request(bad[i], strlen(bad[i]), &req) == -400, "origin form refuses %s",
		      show(bad[i]));
	CHECK(http_parse_request("GET /a HTTP/1.1\r\n\r\n", 19, &req) == -400, "the proxy still refuses origin form");
}

static void collect(void *arg, const char *p, size_t n)
{
	strncat(arg, p, n);
}

/* The data runs of a chunked body, without the framing, in any split. */
static void test_chunked_data(void)
{
	static const char body[] = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nT: x\r\n\r\nNEXT";
	for (size_t cut = 0; cut <= sizeof body - 1; cut++) {
		struct http_chunked ch = { 0 };
		char got[64] = "";
		ssize_t a = http_chunked_data(&ch, body, cut, collect, got);
		ssize_t b = ch.done ? 0 : a == (ssize_t)cut ?
			http_chunked_data(&ch, body + cut, sizeof body - 1 - cut, collect, got) : -1;
		if (!(a >= 0 && b >= 0 && ch.done && !strcmp(got, "Wikipedia") && (size_t)(a + b) == sizeof body - 5)) {
			CHECK(false, "chunked data split at %zu: '%s'", cut, got);
			return;
		}
	}
	CHECK(true, "chunked data: the runs without framing, at every split, the next message left");
}

int main(void)
{
	test_connect();
	test_absolute();
	test_bodies();
	test_keep_alive();
	test_refusals();
	test_limits();
	test_responses();
	test_lookups();
	test_upstream();
	test_client_response();
	test_error();
	test_chunked();
	test_origin();
	test_chunked_data();
	return check_done();
}
