/* The egress gateway's decisions (src/lib/egress.c): the syntax of allow and
 * deny entries and how they are normalised, the decision on a host:port (deny
 * first, wildcards never widened to their apex, IP literals only matched by
 * address entries), the address ranges a resolved name may not lead to, the
 * resolver overrides, the rules built from a policy, and the token buckets of
 * the rate limits driven by a fake clock. */
#include "check.h"
#include "egress.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static const char *kind_name(enum egress_kind k)
{
	switch (k) {
	case EG_ANY: return "any";
	case EG_NAME: return "name";
	case EG_WILDCARD: return "wildcard";
	case EG_ADDR: return "address";
	}
	return "?";
}

/* A socket address from a literal, by inet_pton (not the code under test). */
static struct sockaddr_storage sa_of(const char *s)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		ss.ss_family = AF_UNSPEC;
	return ss;
}

/* ---- entries -------------------------------------------------------------- */

static void parse_ok(const char *s, bool with_port, enum egress_kind kind, uint16_t port, const char *text)
{
	struct egress_entry e;
	const char *why = "(none)";
	int r = egress_parse_entry(s, with_port, &e, &why);
	CHECK(r == 0 && e.kind == kind && e.port == port && strcmp(e.text, text) == 0,
	      "'%s'%s parses: %s, port %u, text '%s' (got %d %s: %s, port %u, '%s')", s,
	      with_port ? "" : " (no port)", kind_name(kind), port, text, r, r ? why : "", kind_name(e.kind),
	      e.port, r ? "" : e.text);
}

static void parse_bad(const char *s, bool with_port, const char *want)
{
	struct egress_entry e;
	const char *why = "(none)";
	int r = egress_parse_entry(s, with_port, &e, &why);
	CHECK(r < 0 && strcmp(why, want) == 0, "'%.80s'%s refused: %s (got %d, %s)", s, with_port ? "" : " (no port)",
	      want, r, why);
}

/* A name of exactly n characters: labels of 63 'a's joined by dots, then
 * what is left, never ending in a dot. */
static char *long_name(size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (i % 64 == 63) ? '.' : 'a';
	if (n && s[n - 1] == '.')
		s[n - 1] = 'b';
	s[n] = '\0';
	return s;
}

static void test_parse_names(void)
{
	struct egress_entry e;
	const char *why = NULL;

	parse_ok("api.example.com:443", true, EG_NAME, 443, "api.example.com:443");
	CHECK(egress_parse_entry("API.Example.COM.:443", true, &e, &why) == 0 && strcmp(e.name, "api.example.com") == 0 &&
	      strcmp(e.text, "api.example.com:443") == 0, "upper case lowered, one trailing dot dropped (%s)", e.text);
	parse_ok("localhost:80", true, EG_NAME, 80, "localhost:80");
	parse_ok("_svc._tcp.example.com:1", true, EG_NAME, 1, "_svc._tcp.example.com:1");
	parse_ok("xn--bcher-kva.example:65535", true, EG_NAME, 65535, "xn--bcher-kva.example:65535");
	parse_ok("a-b.c-d.example:8080", true, EG_NAME, 8080, "a-b.c-d.example:8080");
	parse_ok("123.example.com:443", true, EG_NAME, 443, "123.example.com:443");
	parse_ok("example.com:0443", true, EG_NAME, 443, "example.com:443");
	parse_ok("example.com:*", true, EG_NAME, 0, "example.com:*");

	CHECK(egress_parse_entry("*.Example.com.:443", true, &e, &why) == 0 && e.kind == EG_WILDCARD &&
	      strcmp(e.name, "example.com") == 0 && strcmp(e.text, "*.example.com:443") == 0,
	      "'*.Example.com.:443': a wildcard whose name is the suffix 'example.com' (%s)", e.name);
	parse_ok("*.github.com:*", true, EG_WILDCARD, 0, "*.github.com:*");
	parse_ok("*.com:443", true, EG_WILDCARD, 443, "*.com:443");
	parse_ok("*:*", true, EG_ANY, 0, "*:*");
	parse_ok("*:443", true, EG_ANY, 443, "*:443");

	/* without a port (rate-limit patterns) */
	parse_ok("api.example.com", false, EG_NAME, 0, "api.example.com");
	parse_ok("*.Example.com", false, EG_WILDCARD, 0, "*.example.com");
	parse_ok("*", false, EG_ANY, 0, "*");

	/* lengths: 63-character labels, 253-character names */
	char label63[80], label64[80];
	snprintf(label63, sizeof label63, "%.63s.example:1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(label64, sizeof label64, "%.64s.example:1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(egress_parse_entry(label63, true, &e, &why) == 0, "a 63-character label is accepted");
	parse_bad(label64, true, "invalid host name");
	char *n253 = long_name(253), *n254 = long_name(254), *n300 = long_name(300);
	char buf[400];
	snprintf(buf, sizeof buf, "%s:443", n253);
	CHECK(egress_parse_entry(buf, true, &e, &why) == 0 && e.kind == EG_NAME && strlen(e.name) == 253,
	      "a 253-character name is accepted");
	snprintf(buf, sizeof buf, "%s.:443", n253);
	CHECK(egress_parse_entry(buf, true, &e, &why) == 0 && strlen(e.name) == 253,
	      "a 253-character name with its trailing dot is accepted");
	snprintf(buf, sizeof buf, "%s:443", n254);
	parse_bad(buf, true, "invalid host name");
	snprintf(buf, sizeof buf, "*.%s:443", n254);
	parse_bad(buf, true, "invalid domain after '*.'");
	snprintf(buf, sizeof buf, "%s:443", n300);
	parse_bad(buf, true, "host too long");
	parse_bad(n300, false, "host too long");
	free(n253);
	free(n254);
	free(n300);

	/* names refused */
	parse_bad("example.123:80", true, "invalid host name");
	parse_bad("a.1:80", true, "invalid host name");
	parse_bad("*.123:80", true, "invalid domain after '*.'");
	parse_bad("*.:80", true, "invalid domain after '*.'");
	parse_bad("*.*.example.com:80", true, "invalid domain after '*.'");
	parse_bad("a.*.example.com:80", true, "invalid host name");
	parse_bad("**:80", true, "invalid host name");
	parse_bad("*example.com:80", true, "invalid host name");
	parse_bad("-a.example.com:80", true, "invalid host name");
	parse_bad("a-.example.com:80", true, "invalid host name");
	parse_bad("a..example.com:80", true, "invalid host name");
	parse_bad(".a.example.com:80", true, "invalid host name");
	parse_bad("a.example.com..:80", true, "invalid host name");
	parse_bad(".:80", true, "invalid host name");
	parse_bad("ex ample.com:80", true, "invalid host name");
	parse_bad("exa$mple.com:80", true, "invalid host name");
	parse_bad("ex\xc3\xa4mple.com:80", true, "invalid host name");
	parse_bad("example.com/8:80", true, "invalid host name");
	parse_bad("user@example.com:80", true, "invalid host name");
}

static void test_parse_ports(void)
{
	parse_bad("example.com", true, "expected HOST:PORT");
	parse_bad("", true, "expected HOST:PORT");
	parse_bad("[::1]", true, "expected HOST:PORT");
	parse_bad("[2001:db8::1]/64", true, "expected HOST:PORT");
	parse_bad("example.com:", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:0", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:00000", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:65536", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:99999", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:123456", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:-1", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:+443", true, "invalid port (1-65535 or *)");
	parse_bad("example.com: 443", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:443 ", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:https", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:**", true, "invalid port (1-65535 or *)");
	parse_bad("example.com:1-2", true, "invalid port (1-65535 or *)");
	parse_bad(":443", true, "empty host");
	parse_bad(":*", true, "empty host");
	parse_bad("", false, "empty host");
	parse_ok("example.com:1", true, EG_NAME, 1, "example.com:1");
	parse_ok("example.com:65535", true, EG_NAME, 65535, "example.com:65535");
}

static void test_parse_addresses(void)
{
	struct egress_entry e;
	const char *why = NULL;
	static const uint8_t ten[4] = { 10, 0, 0, 0 }, v4[4] = { 10, 1, 2, 3 };

	CHECK(egress_parse_entry("10.1.2.3:80", true, &e, &why) == 0 && e.kind == EG_ADDR && e.family == AF_INET &&
	      e.prefix == 32 && memcmp(e.addr, v4, 4) == 0 && e.port == 80 && strcmp(e.text, "10.1.2.3:80") == 0,
	      "'10.1.2.3:80': an IPv4 address, prefix 32 (%s)", e.text);
	CHECK(egress_parse_entry("10.1.2.3/8:5432", true, &e, &why) == 0 && e.kind == EG_ADDR && e.prefix == 8 &&
	      memcmp(e.addr, ten, 4) == 0 && strcmp(e.text, "10.0.0.0/8:5432") == 0,
	      "'10.1.2.3/8': host bits masked to 10.0.0.0/8 (%s)", e.text);
	parse_ok("172.31.5.4/12:1", true, EG_ADDR, 1, "172.16.0.0/12:1");
	parse_ok("192.168.255.255/17:1", true, EG_ADDR, 1, "192.168.128.0/17:1");
	parse_ok("203.0.113.77/31:1", true, EG_ADDR, 1, "203.0.113.76/31:1");
	parse_ok("0.0.0.0/0:*", true, EG_ADDR, 0, "0.0.0.0/0:*");
	parse_ok("8.8.8.8/0:53", true, EG_ADDR, 53, "0.0.0.0/0:53");
	parse_ok("1.2.3.4/32:1", true, EG_ADDR, 1, "1.2.3.4:1");
	parse_ok("1.2.3.4/08:1", true, EG_ADDR, 1, "1.0.0.0/8:1");
	parse_ok("10.0.0.0/8", false, EG_ADDR, 0, "10.0.0.0/8");

	CHECK(egress_parse_entry("[::1]:443", true, &e, &why) == 0 && e.kind == EG_ADDR && e.family == AF_INET6 &&
	      e.prefix == 128 && e.addr[15] == 1 && e.addr[0] == 0 && strcmp(e.text, "[::1]:443") == 0,
	      "'[::1]:443': an IPv6 address in brackets, prefix 128 (%s)", e.text);
	parse_ok("[2001:DB8::1]:443", true, EG_ADDR, 443, "[2001:db8::1]:443");
	parse_ok("[fd00::1]/8:*", true, EG_ADDR, 0, "[fd00::]/8:*");
	parse_ok("[2001:db8:abcd:12ff::1]/52:1", true, EG_ADDR, 1, "[2001:db8:abcd:1000::]/52:1");
	parse_ok("[fe80::1:2:3:4]/64:22", true, EG_ADDR, 22, "[fe80::]/64:22");
	parse_ok("[::1]/128:1", true, EG_ADDR, 1, "[::1]:1");
	parse_ok("[::]/0:*", true, EG_ADDR, 0, "[::]/0:*");
	/* an IPv4 address in IPv6 form is that IPv4 address */
	parse_ok("[::ffff:1.2.3.4]:443", true, EG_ADDR, 443, "1.2.3.4:443");
	parse_ok("[::ffff:10.0.0.0]/104:*", true, EG_ADDR, 0, "10.0.0.0/8:*");
	parse_ok("[64:ff9b::1.2.3.4]:443", true, EG_ADDR, 443, "1.2.3.4:443");
	parse_ok("[::ffff:0:0]/95:*", true, EG_ADDR, 0, "[::fffe:0:0]/95:*");
	parse_ok("[::1]", false, EG_ADDR, 0, "[::1]");
	parse_ok("[fd00::1]/8", false, EG_ADDR, 0, "[fd00::]/8");

	/* addresses refused */
	parse_bad("127.1:80", true, "invalid address");
	parse_bad("2130706433:80", true, "invalid address");
	parse_bad("2130706433", false, "invalid address");
	parse_bad("1.2.3:80", true, "invalid address");
	parse_bad("1.2.3.4.5:80", true, "invalid address");
	parse_bad("256.1.1.1:80", true, "invalid address");
	parse_bad("01.2.3.4:80", true, "invalid address");
	parse_bad("10.0.0.0/33:80", true, "prefix length too large");
	parse_bad("10.0.0.0/:80", true, "invalid prefix length");
	parse_bad("10.0.0.0/1234:80", true, "invalid prefix length");
	parse_bad("10.0.0.0/8/8:80", true, "invalid prefix length");
	parse_bad("::1:443", true, "IPv6 addresses go in brackets: [::1]:443");
	parse_bad("2001:db8::1:443", true, "IPv6 addresses go in brackets: [::1]:443");
	parse_bad("::1", false, "IPv6 addresses go in brackets: [::1]:443");
	parse_bad("[::1:443", true, "missing ']' after an IPv6 address");
	parse_bad("[::1]x:443", true, "invalid IPv6 address");
	parse_bad("[::1]:443", false, "invalid IPv6 address");
	parse_bad("[]:443", true, "invalid IPv6 address");
	parse_bad("[1.2.3.4]:443", true, "invalid IPv6 address");
	parse_bad("[example.com]:443", true, "invalid IPv6 address");
	parse_bad("[fe80::1%eth0]:443", true, "invalid IPv6 address");
	parse_bad("[::1]/129:443", true, "invalid IPv6 address");
	parse_bad("[::1]/:443", true, "invalid IPv6 address");
	parse_bad("[1:2:3:4:5:6:7:8:9]:443", true, "invalid IPv6 address");
}

static void test_host_valid(void)
{
	static const char *const good[] = {
		"example.com", "a", "localhost", "x-y.example", "_a.example", "123.example.com",
		"10.0.0.1", "0.0.0.0", "::1", "::", "2001:db8::1", "::ffff:1.2.3.4",
	};
	static const char *const bad[] = {
		"", "Example.com", "example.com.", "127.1", "2130706433", "1.2.3.4.5", "example.123",
		"a..b", ".a", "-a.example", "a-.example", "[::1]", "a b", "*.example.com", "*",
		"example.com:443", "1.2.3", "256.0.0.1", "fe80::1%eth0", "ex\xc3\xa4mple.com",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK(egress_host_valid(good[i]), "'%s' is a host the gateway looks up", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!egress_host_valid(bad[i]), "'%s' is not a valid host", bad[i]);
	char *n253 = long_name(253), *n254 = long_name(254);
	CHECK(egress_host_valid(n253), "a 253-character name is valid");
	CHECK(!egress_host_valid(n254), "a 254-character name is not");
	free(n253);
	free(n254);

	struct sockaddr_storage ss;
	CHECK(egress_parse_ip("1.2.3.4", &ss) && ss.ss_family == AF_INET &&
	      ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(0x01020304), "egress_parse_ip: IPv4");
	CHECK(egress_parse_ip("2001:db8::7", &ss) && ss.ss_family == AF_INET6 &&
	      ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr[15] == 7, "egress_parse_ip: IPv6 without brackets");
	CHECK(!egress_parse_ip("[::1]", &ss) && !egress_parse_ip("127.1", &ss) && !egress_parse_ip("localhost", &ss) &&
	      !egress_parse_ip("", &ss), "egress_parse_ip: brackets, short IPv4 forms and names are not IP literals");
}

/* ---- rules ---------------------------------------------------------------- */

struct rate {
	const char *host;
	uint64_t rpm, bpm;
};

/* A policy with these lists (NULL-terminated; NULL for none), built by hand:
 * what egress.c must cope with, whatever the loader lets through. */
static al_policy *policy_with(const char *const *allow, const char *const *deny, const char *const *hosts,
			      const struct rate *rates, size_t n_rates)
{
	al_policy *p = al_policy_new();
	for (size_t i = 0; allow && allow[i]; i++)
		al_strlist_add(&p->egress_allow, allow[i]);
	for (size_t i = 0; deny && deny[i]; i++)
		al_strlist_add(&p->egress_deny, deny[i]);
	for (size_t i = 0; hosts && hosts[i]; i++)
		al_strlist_add(&p->net_hosts, hosts[i]);
	if (n_rates) {
		p->rate_limits = calloc(n_rates, sizeof *p->rate_limits);
		for (size_t i = 0; i < n_rates; i++) {
			p->rate_limits[i].host = strdup(rates[i].host);
			p->rate_limits[i].rpm = rates[i].rpm;
			p->rate_limits[i].bpm = rates[i].bpm;
		}
		p->n_rate_limits = n_rates;
	}
	return p;
}

static bool build(struct egress_rules *r, const char *const *allow, const char *const *deny,
		  const char *const *hosts, const struct rate *rates, size_t n_rates)
{
	al_policy *p = policy_with(allow, deny, hosts, rates, n_rates);
	al_error err;
	al_error_clear(&err);
	int rc = egress_rules_build(p, r, &err);
	CHECK(rc == 0, "rules built (%s)", rc ? err.msg : "ok");
	al_policy_free(p);
	return rc == 0;
}

static void expect(const struct egress_rules *r, const char *host, uint16_t port, bool allow, int status,
		   const char *rule)
{
	struct egress_verdict v;
	memset(&v, 0x5a, sizeof v);
	egress_decide(r, host, port, &v);
	CHECK(v.allow == allow && v.status == status && v.rule && strcmp(v.rule, rule) == 0,
	      "%s:%u -> %s %d by '%s' (got %s %d by '%s': %s)", host, port, allow ? "allowed" : "refused", status, rule,
	      v.allow ? "allowed" : "refused", v.status, v.rule ? v.rule : "(null)", v.reason);
}

static void expect_reason(const struct egress_rules *r, const char *host, uint16_t port, const char *reason)
{
	struct egress_verdict v;
	egress_decide(r, host, port, &v);
	CHECK(strcmp(v.reason, reason) == 0, "%s:%u: reason '%s' (got '%s')", host, port, reason, v.reason);
}

static void test_decide(void)
{
	static const char *const allow[] = {
		"api.example.com:443", "*.github.com:*", "*.example.org:443", "10.0.0.0/8:5432",
		"[fd00::]/8:*", "192.0.2.1:80", "internal.example:8080", NULL,
	};
	static const char *const deny[] = {
		"evil.github.com:*", "10.9.0.0/16:*", "*.bad.example.org:443", "[fd00::66]:*", NULL,
	};
	struct egress_rules r;
	if (!build(&r, allow, deny, NULL, NULL, 0))
		return;
	CHECK(r.n_allow == 7 && r.n_deny == 4 && r.n_hosts == 0 && r.n_rates == 0, "7 allow and 4 deny entries");

	/* names */
	expect(&r, "api.example.com", 443, true, 200, "api.example.com:443");
	expect(&r, "API.Example.COM", 443, true, 200, "api.example.com:443");
	expect(&r, "api.example.com.", 443, true, 200, "api.example.com:443");
	expect(&r, "api.example.com", 80, false, 403, "default deny");
	expect(&r, "example.com", 443, false, 403, "default deny");
	expect(&r, "www.api.example.com", 443, false, 403, "default deny");
	expect(&r, "internal.example", 8080, true, 200, "internal.example:8080");
	expect(&r, "internal.example", 8081, false, 403, "default deny");

	/* wildcards: any depth below, never the apex, never a look-alike */
	expect(&r, "raw.github.com", 22, true, 200, "*.github.com:*");
	expect(&r, "a.b.c.github.com", 443, true, 200, "*.github.com:*");
	expect(&r, "Objects.GitHub.com.", 65535, true, 200, "*.github.com:*");
	expect(&r, "github.com", 443, false, 403, "default deny");
	expect(&r, "evilgithub.com", 443, false, 403, "default deny");
	expect(&r, "github.com.evil", 443, false, 403, "default deny");
	expect(&r, "raw.github.com.evil", 443, false, 403, "default deny");
	expect(&r, "github.co", 443, false, 403, "default deny");
	expect(&r, "www.example.org", 443, true, 200, "*.example.org:443");
	expect(&r, "www.example.org", 80, false, 403, "default deny");
	expect(&r, "example.org", 443, false, 403, "default deny");

	/* the denylist wins */
	expect(&r, "evil.github.com", 443, false, 403, "evil.github.com:*");
	expect(&r, "EVIL.github.com.", 1, false, 403, "evil.github.com:*");
	expect(&r, "x.evil.github.com", 443, true, 200, "*.github.com:*"); /* a name entry is exact */
	expect(&r, "x.bad.example.org", 443, false, 403, "*.bad.example.org:443");
	expect(&r, "bad.example.org", 443, true, 200, "*.example.org:443"); /* nor does a deny wildcard cover its apex */
	expect(&r, "x.bad.example.org", 80, false, 403, "default deny");    /* the deny entry's port differs */
	expect_reason(&r, "evil.github.com", 443, "evil.github.com:443 is on the denylist");
	expect_reason(&r, "EVIL.GitHub.com", 22, "evil.github.com:22 is on the denylist");
	expect_reason(&r, "nowhere.example", 80, "nowhere.example:80 is not on the egress allowlist");
	expect_reason(&r, "api.example.com", 443, "");

	/* IP literals: only address entries (and "*") */
	expect(&r, "10.1.2.3", 5432, true, 200, "10.0.0.0/8:5432");
	expect(&r, "10.255.255.255", 5432, true, 200, "10.0.0.0/8:5432");
	expect(&r, "10.1.2.3", 5433, false, 403, "default deny");
	expect(&r, "11.0.0.1", 5432, false, 403, "default deny");
	expect(&r, "10.9.1.1", 5432, false, 403, "10.9.0.0/16:*");
	expect(&r, "192.0.2.1", 80, true, 200, "192.0.2.1:80");
	expect(&r, "192.0.2.2", 80, false, 403, "default deny");
	expect(&r, "fd12:3456::1", 9, true, 200, "[fd00::]/8:*");
	expect(&r, "FD00::66", 443, false, 403, "[fd00::66]:*");
	expect(&r, "fe00::1", 9, false, 403, "default deny");
	expect(&r, "::1", 443, false, 403, "default deny");
	expect_reason(&r, "10.9.1.1", 5432, "10.9.1.1:5432 is on the denylist");
	egress_rules_free(&r);
	CHECK(r.allow == NULL && r.n_allow == 0 && r.deny == NULL, "egress_rules_free empties the rules");

	/* prefixes that end inside a byte */
	static const char *const odd[] = { "172.16.0.0/12:443", "192.168.128.0/17:*", "[2001:db8:abcd:1000::]/52:*", NULL };
	if (build(&r, odd, NULL, NULL, NULL, 0)) {
		expect(&r, "172.16.0.1", 443, true, 200, "172.16.0.0/12:443");
		expect(&r, "172.31.255.255", 443, true, 200, "172.16.0.0/12:443");
		expect(&r, "172.32.0.0", 443, false, 403, "default deny");
		expect(&r, "172.15.255.255", 443, false, 403, "default deny");
		expect(&r, "192.168.200.1", 1, true, 200, "192.168.128.0/17:*");
		expect(&r, "192.168.127.255", 1, false, 403, "default deny");
		expect(&r, "2001:db8:abcd:1fff::1", 1, true, 200, "[2001:db8:abcd:1000::]/52:*");
		expect(&r, "2001:db8:abcd:2000::1", 1, false, 403, "default deny");
		expect(&r, "2001:db8:abcd:0fff::1", 1, false, 403, "default deny");
		struct sockaddr_storage ss = sa_of("172.32.0.1");
		CHECK(egress_addr_entry(&r, (const struct sockaddr *)&ss, 443) == NULL,
		      "172.32.0.1 is outside 172.16.0.0/12 for egress_addr_entry too");
		ss = sa_of("172.20.0.1");
		CHECK(egress_addr_entry(&r, (const struct sockaddr *)&ss, 443) != NULL, "172.20.0.1 is inside");
		egress_rules_free(&r);
	}

	/* a name never matches an address entry, an address never a name entry */
	static const char *const by_name[] = { "example.com:443", "*.com:443", "localhost:80", "*.0.1.example:80", NULL };
	if (build(&r, by_name, NULL, NULL, NULL, 0)) {
		expect(&r, "1.2.3.4", 443, false, 403, "default deny");
		expect(&r, "::1", 443, false, 403, "default deny");
		expect(&r, "127.0.0.1", 80, false, 403, "default deny");
		expect(&r, "example.com", 443, true, 200, "example.com:443");
		expect(&r, "a.example.com", 443, true, 200, "*.com:443");
		egress_rules_free(&r);
	}
	static const char *const by_addr[] = { "10.0.0.0/8:80", "[::1]:80", NULL };
	if (build(&r, by_addr, NULL, NULL, NULL, 0)) {
		expect(&r, "ten.example", 80, false, 403, "default deny");
		expect(&r, "localhost", 80, false, 403, "default deny");
		expect(&r, "10.0.0.1", 80, true, 200, "10.0.0.0/8:80");
		expect(&r, "::1", 80, true, 200, "[::1]:80");
		expect(&r, "0:0::1", 80, true, 200, "[::1]:80");
		egress_rules_free(&r);
	}

	/* "*" matches any host, name or address, on its port */
	static const char *const any443[] = { "*:443", NULL };
	static const char *const deny_any443[] = { "*:443", NULL };
	static const char *const allow_api[] = { "api.example.com:443", "*:*", NULL };
	if (build(&r, any443, NULL, NULL, NULL, 0)) {
		expect(&r, "anything.example", 443, true, 200, "*:443");
		expect(&r, "1.2.3.4", 443, true, 200, "*:443");
		expect(&r, "2001:db8::1", 443, true, 200, "*:443");
		expect(&r, "anything.example", 80, false, 403, "default deny");
		egress_rules_free(&r);
	}
	if (build(&r, allow_api, deny_any443, NULL, NULL, 0)) {
		expect(&r, "api.example.com", 443, false, 403, "*:443");
		expect(&r, "api.example.com", 80, true, 200, "*:*");
		egress_rules_free(&r);
	}

	/* nothing allowed */
	if (build(&r, NULL, NULL, NULL, NULL, 0)) {
		expect(&r, "api.example.com", 443, false, 403, "default deny");
		expect(&r, "1.1.1.1", 53, false, 403, "default deny");
		egress_rules_free(&r);
	}

	/* syntax: 400 before any list is consulted */
	static const char *const all[] = { "*:*", NULL };
	if (build(&r, all, NULL, NULL, NULL, 0)) {
		static const char *const invalid[] = {
			"", "bad host", "-a.example", "127.1", "2130706433", "[::1]", "a..b", "*.example.com", "*",
			"example.123", "fe80::1%eth0", "exa/mple.com", "example.com..",
		};
		for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
			struct egress_verdict v;
			egress_decide(&r, invalid[i], 443, &v);
			CHECK(!v.allow && v.status == 400 && strcmp(v.rule, "syntax") == 0 &&
			      strcmp(v.reason, "invalid host name") == 0,
			      "'%s' under '*:*': 400 invalid host name (got %d %s: %s)", invalid[i], v.status, v.rule,
			      v.reason);
		}
		char *n254 = long_name(254), *n300 = long_name(300);
		expect(&r, n254, 443, false, 400, "syntax");
		expect(&r, n300, 443, false, 400, "syntax");
		free(n254);
		free(n300);
		char *n253 = long_name(253);
		expect(&r, n253, 443, true, 200, "*:*");
		free(n253);
		struct egress_verdict v;
		egress_decide(&r, "example.com", 0, &v);
		CHECK(!v.allow && v.status == 400 && strcmp(v.rule, "syntax") == 0 && strcmp(v.reason, "port 0") == 0,
		      "port 0: 400 (got %d %s: %s)", v.status, v.rule, v.reason);
		egress_decide(&r, "10.0.0.1", 0, &v);
		CHECK(!v.allow && v.status == 400 && strcmp(v.reason, "port 0") == 0, "port 0 of an address: 400");
		egress_rules_free(&r);
	}
}

static void test_addr_entry(void)
{
	static const char *const allow[] = {
		"*:*", "localhost:80", "10.0.0.0/8:5432", "[fd00::]/8:*", "127.0.0.1:8080", "[::1]:443", NULL,
	};
	struct egress_rules r;
	if (!build(&r, allow, NULL, NULL, NULL, 0))
		return;
	static const struct {
		const char *addr;
		uint16_t port;
		const char *entry; /* NULL: none */
	} cases[] = {
		{ "10.1.2.3", 5432, "10.0.0.0/8:5432" },
		{ "10.1.2.3", 5433, NULL },
		{ "11.1.2.3", 5432, NULL },
		{ "fd00::1", 1, "[fd00::]/8:*" },
		{ "fdff:ffff::1", 65535, "[fd00::]/8:*" },
		{ "fc00::1", 1, NULL },
		{ "127.0.0.1", 8080, "127.0.0.1:8080" },
		{ "127.0.0.1", 80, NULL },   /* "localhost:80" and "*:*" cover no address */
		{ "127.0.0.2", 8080, NULL },
		{ "::1", 443, "[::1]:443" },
		{ "::1", 80, NULL },
		{ "169.254.169.254", 80, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		const struct egress_entry *e = egress_addr_entry(&r, (const struct sockaddr *)&ss, cases[i].port);
		if (cases[i].entry)
			CHECK(e && strcmp(e->text, cases[i].entry) == 0, "%s port %u is covered by '%s' (got '%s')",
			      cases[i].addr, cases[i].port, cases[i].entry, e ? e->text : "none");
		else
			CHECK(e == NULL, "%s port %u is covered by no address entry (got '%s')", cases[i].addr,
			      cases[i].port, e ? e->text : "none");
	}
	egress_rules_free(&r);
}

/* ---- special address ranges ----------------------------------------------- */

static void test_addr_special(void)
{
	static const struct {
		const char *addr;
		const char *range; /* NULL: not special */
	} cases[] = {
		/* cloud metadata, named before the ranges around them */
		{ "169.254.169.254", "cloud metadata" },
		{ "169.254.170.2", "cloud metadata" },
		{ "168.63.129.16", "cloud metadata" },
		{ "100.100.100.200", "cloud metadata" },
		{ "fd00:ec2::254", "cloud metadata" },
		{ "169.254.169.253", "link-local" },
		{ "100.100.100.201", "CGNAT" },
		{ "fd00:ec2::253", "private" },
		{ "168.63.129.17", NULL },
		/* IPv4 */
		{ "0.0.0.0", "unspecified" },
		{ "0.255.255.255", "unspecified" },
		{ "10.0.0.1", "private" },
		{ "10.255.255.255", "private" },
		{ "100.64.0.1", "CGNAT" },
		{ "100.127.255.254", "CGNAT" },
		{ "100.63.255.255", NULL },
		{ "100.128.0.1", NULL },
		{ "127.0.0.1", "loopback" },
		{ "127.255.255.254", "loopback" },
		{ "169.254.1.1", "link-local" },
		{ "172.16.0.1", "private" },
		{ "172.31.255.255", "private" },
		{ "172.15.255.255", NULL },
		{ "172.32.0.0", NULL },
		{ "192.0.0.8", "reserved" },
		{ "192.0.2.1", "documentation" },
		{ "192.0.3.1", NULL },
		{ "192.88.99.1", "reserved" },
		{ "192.168.1.1", "private" },
		{ "192.169.0.1", NULL },
		{ "198.18.0.1", "benchmarking" },
		{ "198.19.255.255", "benchmarking" },
		{ "198.20.0.1", NULL },
		{ "198.51.100.7", "documentation" },
		{ "203.0.113.9", "documentation" },
		{ "224.0.0.1", "multicast" },
		{ "239.255.255.250", "multicast" },
		{ "240.0.0.1", "reserved" },
		{ "255.255.255.255", "reserved" },
		{ "8.8.8.8", NULL },
		{ "1.1.1.1", NULL },
		{ "223.255.255.255", NULL },
		/* IPv6 */
		{ "::", "unspecified" },
		{ "::1", "loopback" },
		{ "::2", "reserved" },
		{ "::a00:1", "reserved" },
		{ "64:ff9b:1::1", "private" },
		{ "100::1", "reserved" },
		{ "100:0:0:1::1", NULL },
		{ "2001:db8::1", "documentation" },
		{ "2001:db8:ffff::1", "documentation" },
		{ "2001::1", "reserved" },
		{ "2001:1ff::1", "reserved" },
		{ "2001:200::1", NULL },
		{ "fc00::1", "private" },
		{ "fdff::1", "private" },
		{ "fe80::1", "link-local" },
		{ "febf::1", "link-local" },
		{ "fec0::1", "private" },
		{ "ff02::1", "multicast" },
		{ "ff05::2", "multicast" },
		{ "2606:4700::1111", NULL },
		{ "2001:4860:4860::8888", NULL },
		{ "2a00:1450::1", NULL },
		/* IPv4 inside IPv6: judged by the IPv4 address */
		{ "::ffff:127.0.0.1", "loopback" },
		{ "::ffff:169.254.169.254", "cloud metadata" },
		{ "::ffff:10.1.2.3", "private" },
		{ "::ffff:0.0.0.0", "unspecified" },
		{ "::ffff:8.8.8.8", NULL },
		{ "64:ff9b::a00:1", "private" },
		{ "64:ff9b::7f00:1", "loopback" },
		{ "64:ff9b::a9fe:a9fe", "cloud metadata" },
		{ "64:ff9b::808:808", NULL },
		{ "2002:7f00:1::", "loopback" },
		{ "2002:a9fe:a9fe::1", "cloud metadata" },
		{ "2002:c0a8:101::", "private" },
		{ "2002:808:808::1", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss = sa_of(cases[i].addr);
		const char *range = "(untouched)";
		bool special = egress_addr_special((const struct sockaddr *)&ss, &range);
		if (cases[i].range)
			CHECK(ss.ss_family != AF_UNSPEC && special && range && strcmp(range, cases[i].range) == 0,
			      "%s is special: %s (got %s)", cases[i].addr, cases[i].range, special ? range : "not special");
		else
			CHECK(ss.ss_family != AF_UNSPEC && !special && range == NULL, "%s is not special (got %s)",
			      cases[i].addr, special ? range : "not special");
	}
	struct sockaddr_storage ss = sa_of("127.0.0.1");
	CHECK(egress_addr_special((const struct sockaddr *)&ss, NULL), "the range name is optional");
	ss = sa_of("8.8.4.4");
	CHECK(!egress_addr_special((const struct sockaddr *)&ss, NULL), "the range name is optional (public)");
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const char *range = NULL;
	CHECK(egress_addr_special((const struct sockaddr *)&un, &range) && range &&
	      strcmp(range, "not an internet address") == 0, "a unix socket address: not an internet address");
}

/* ---- overrides and building ---------------------------------------------- */

static void test_override(void)
{
	static const char *const hosts[] = { "db.internal=10.0.0.5", "V6.Internal.=fd00::5", NULL };
	struct egress_rules r;
	if (!build(&r, NULL, NULL, hosts, NULL, 0))
		return;
	CHECK(r.n_hosts == 2, "two resolver overrides");
	const struct sockaddr_storage *o = egress_override(&r, "db.internal");
	CHECK(o && o->ss_family == AF_INET &&
	      ((const struct sockaddr_in *)o)->sin_addr.s_addr == htonl(0x0a000005), "db.internal -> 10.0.0.5");
	o = egress_override(&r, "v6.internal");
	struct sockaddr_storage want = sa_of("fd00::5");
	CHECK(o && o->ss_family == AF_INET6 &&
	      memcmp(&((const struct sockaddr_in6 *)o)->sin6_addr, &((struct sockaddr_in6 *)&want)->sin6_addr, 16) == 0,
	      "a name given as 'V6.Internal.' is looked up as v6.internal -> fd00::5");
	CHECK(egress_override(&r, "other.internal") == NULL && egress_override(&r, "internal") == NULL &&
	      egress_override(&r, "x.db.internal") == NULL, "other names: no override");
	CHECK(egress_override(&r, "db") == NULL && egress_override(&r, "db.internal.x") == NULL &&
	      egress_override(&r, "v6.intern") == NULL && egress_override(&r, "") == NULL,
	      "a prefix or an extension of an overridden name: no override");
	egress_rules_free(&r);
	CHECK(r.hosts == NULL && r.n_hosts == 0, "freed");
}

static void build_bad(const char *const *allow, const char *const *deny, const char *const *hosts,
		      const struct rate *rates, size_t n_rates, const char *want)
{
	al_policy *p = policy_with(allow, deny, hosts, rates, n_rates);
	struct egress_rules r;
	al_error err;
	al_error_clear(&err);
	memset(&r, 0x5a, sizeof r);
	int rc = egress_rules_build(p, &r, &err);
	CHECK(rc < 0 && strcmp(err.msg, want) == 0 && r.allow == NULL && r.deny == NULL && r.hosts == NULL &&
	      r.rates == NULL && r.n_allow == 0 && r.n_rates == 0,
	      "rules refused: %s (got %d: %s), nothing left allocated", want, rc, err.msg);
	al_policy_free(p);
}

static void test_build(void)
{
	static const char *const ok[] = { "a.example:1", NULL };
	static const char *const nohost[] = { "a.example:1", "nohost", NULL };
	static const char *const badport[] = { "a.example:0", NULL };
	build_bad(nohost, NULL, NULL, NULL, 0, "egress entry 'nohost': expected HOST:PORT");
	build_bad(ok, badport, NULL, NULL, 0, "egress entry 'a.example:0': invalid port (1-65535 or *)");
	static const char *const h1[] = { "db.internal=10.0.0.5", "noequals", NULL };
	static const char *const h2[] = { "=10.0.0.5", NULL };
	static const char *const h3[] = { "db.internal=not-an-ip", NULL };
	static const char *const h4[] = { "db.internal=[::1]", NULL };
	static const char *const h5[] = { "db.internal=", NULL };
	build_bad(ok, NULL, h1, NULL, 0, "network.hosts entry 'noequals': expected NAME=ADDRESS");
	build_bad(ok, NULL, h2, NULL, 0, "network.hosts entry '=10.0.0.5': expected NAME=ADDRESS");
	build_bad(ok, NULL, h3, NULL, 0, "network.hosts entry 'db.internal=not-an-ip': expected NAME=ADDRESS");
	build_bad(ok, NULL, h4, NULL, 0, "network.hosts entry 'db.internal=[::1]': expected NAME=ADDRESS");
	build_bad(ok, NULL, h5, NULL, 0, "network.hosts entry 'db.internal=': expected NAME=ADDRESS");
	static const struct rate bad_rate[] = { { "*", 1, 0 }, { "bad host", 1, 0 } };
	build_bad(ok, NULL, NULL, bad_rate, 2, "rate limit host 'bad host': invalid host name");
	static const struct rate port_rate[] = { { "[::1]:443", 1, 0 } };
	build_bad(ok, NULL, NULL, port_rate, 1, "rate limit host '[::1]:443': invalid IPv6 address");

	struct rate many[EGRESS_MAX_RATES + 1];
	for (size_t i = 0; i <= EGRESS_MAX_RATES; i++)
		many[i] = (struct rate){ "*", 1, 0 };
	build_bad(ok, NULL, NULL, many, EGRESS_MAX_RATES + 1, "more than 64 rate limits");
	struct egress_rules r;
	if (build(&r, ok, NULL, NULL, many, EGRESS_MAX_RATES)) {
		CHECK(r.n_rates == EGRESS_MAX_RATES && egress_rate_mask(&r, "x.example") == UINT64_MAX,
		      "64 rate limits: every bit of the mask");
		egress_rules_free(&r);
	}

	/* from a loaded policy: the loader's normalised text reads back the same */
	al_policy *p = al_policy_new();
	al_error err;
	static const char text[] =
		"network:\n"
		"  egress_allowlist: ['API.Example.com.:443', '10.1.2.3/8:*', '[FD00::1]/8:22', '*:8080', '*.GitHub.com:*']\n"
		"  egress_denylist: ['Evil.GitHub.com:*']\n"
		"  hosts: {DB.internal: 10.0.0.5}\n"
		"  rate_limits: [{host: '*.GitHub.com', requests_per_minute: 2, bytes_per_minute: 1K}]\n";
	int rc = al_policy_load_buffer(p, "t.yaml", text, sizeof text - 1, &err);
	CHECK(rc == 0, "a policy with every list loads (%s)", rc ? err.msg : "ok");
	al_error_clear(&err);
	rc = egress_rules_build(p, &r, &err);
	CHECK(rc == 0 && r.n_allow == 5 && r.n_deny == 1 && r.n_hosts == 1 && r.n_rates == 1,
	      "its rules: 5 allow, 1 deny, 1 host, 1 rate (%s)", rc ? err.msg : "ok");
	if (rc == 0) {
		expect(&r, "api.example.com", 443, true, 200, "api.example.com:443");
		expect(&r, "10.200.0.1", 1, true, 200, "10.0.0.0/8:*");
		expect(&r, "fd00::9", 22, true, 200, "[fd00::]/8:22");
		expect(&r, "evil.github.com", 443, false, 403, "evil.github.com:*");
		expect(&r, "raw.github.com", 443, true, 200, "*.github.com:*");
		CHECK(egress_override(&r, "db.internal") != NULL, "the hosts entry, lower-cased");
		CHECK(r.rates[0].rpm == 2 && r.rates[0].bpm == 1024 && r.rates[0].req_tokens == 2 &&
		      r.rates[0].byte_tokens == 1024 && strcmp(r.rates[0].host.text, "*.github.com") == 0,
		      "the bucket starts full: 2 requests, 1024 bytes, for *.github.com");
		egress_rules_free(&r);
	}
	al_policy_free(p);
}

/* ---- rate limits, on a fake clock ----------------------------------------- */

#define T0 1000000000ull /* microseconds; any time but 0 */
#define SEC 1000000ull

static bool take(struct egress_rules *r, const char *host, uint64_t now, struct egress_verdict *v)
{
	memset(v, 0, sizeof *v);
	return egress_rate_request(r, egress_rate_mask(r, host), now, v);
}

static void test_rate_mask(void)
{
	static const struct rate rates[] = {
		{ "*", 3, 0 },		      /* bit 0 */
		{ "api.example.com", 2, 0 },  /* bit 1 */
		{ "*.example.com", 0, 1000 }, /* bit 2 */
		{ "10.0.0.0/8", 1, 0 },	      /* bit 3 */
		{ "[fd00::]/8", 1, 0 },	      /* bit 4 */
		{ "example.com", 1, 0 },      /* bit 5 */
	};
	struct egress_rules r;
	if (!build(&r, NULL, NULL, NULL, rates, 6))
		return;
	static const struct {
		const char *host;
		uint64_t mask;
	} cases[] = {
		{ "api.example.com", 0x7 }, { "www.example.com", 0x5 }, { "a.b.example.com", 0x5 },
		{ "example.com", 0x21 },    { "other.org", 0x1 },	    { "evilexample.com", 0x1 },
		{ "10.1.2.3", 0x9 },	    { "11.1.2.3", 0x1 },	    { "fd00::1", 0x11 },
		{ "::1", 0x1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t m = egress_rate_mask(&r, cases[i].host);
		CHECK(m == cases[i].mask, "rate mask of %s: %#llx (got %#llx)", cases[i].host,
		      (unsigned long long)cases[i].mask, (unsigned long long)m);
	}
	egress_rules_free(&r);
	if (build(&r, NULL, NULL, NULL, NULL, 0)) {
		struct egress_verdict v;
		CHECK(egress_rate_mask(&r, "api.example.com") == 0 && egress_rate_request(&r, 0, T0, &v) &&
		      egress_rate_bytes_budget(&r, 0, T0) == UINT64_MAX, "no rate limits: no bucket, no limit");
		egress_rules_free(&r);
	}
}

static void test_rate_requests(void)
{
	struct egress_rules r;
	struct egress_verdict v;
	static const struct rate three[] = { { "*", 3, 0 } };
	if (!build(&r, NULL, NULL, NULL, three, 1))
		return;
	CHECK(take(&r, "a.example", T0, &v) && take(&r, "b.example", T0, &v) && take(&r, "1.2.3.4", T0, &v),
	      "rpm 3: three requests at once pass");
	CHECK(!take(&r, "a.example", T0, &v) && v.status == 429 && !v.allow && strcmp(v.rule, "*") == 0 &&
	      strcmp(v.reason, "rate limit: 3 requests per minute for *") == 0,
	      "the fourth: 429 by '*' (got %d by %s: %s)", v.status, v.rule, v.reason);
	CHECK(!take(&r, "a.example", T0 + 10 * SEC, &v) && v.status == 429, "after 10 s (half a token): still 429");
	CHECK(take(&r, "a.example", T0 + 20 * SEC + 100, &v), "after 20 s: one more");
	CHECK(!take(&r, "a.example", T0 + 20 * SEC + 100, &v), "and then none");
	CHECK(!take(&r, "a.example", T0 + 39 * SEC, &v), "19 s later: not yet");
	CHECK(take(&r, "a.example", T0 + 40 * SEC + 200, &v), "20 s later: one more (the refill is continuous)");
	/* a clock that steps back refills nothing and loses nothing */
	CHECK(!take(&r, "a.example", T0, &v), "a time before the last one: nothing refilled");
	CHECK(take(&r, "a.example", T0 + 60 * SEC + 300, &v), "20 s after the latest time: one more");
	/* the bucket holds one minute's worth, no more */
	uint64_t later = T0 + 3600 * SEC;
	CHECK(take(&r, "a", later, &v) && take(&r, "a", later, &v) && take(&r, "a", later, &v) && !take(&r, "a", later, &v),
	      "after an hour idle: 3 requests, not 180");
	CHECK(egress_rate_request(&r, 0, later, &v), "a request no bucket matches is never limited");
	egress_rules_free(&r);

	/* every matching bucket applies; a refused request takes from none */
	static const struct rate two[] = { { "*", 3, 0 }, { "api.example.com", 2, 0 } };
	if (!build(&r, NULL, NULL, NULL, two, 2))
		return;
	CHECK(take(&r, "api.example.com", T0, &v) && take(&r, "api.example.com", T0, &v), "api: 2 requests pass");
	CHECK(!take(&r, "api.example.com", T0, &v) && v.status == 429 && strcmp(v.rule, "api.example.com") == 0 &&
	      strcmp(v.reason, "rate limit: 2 requests per minute for api.example.com") == 0,
	      "api's third: 429 by its own bucket (got %s: %s)", v.rule, v.reason);
	CHECK(take(&r, "other.example", T0, &v), "another host: '*' still has its third token");
	CHECK(!take(&r, "other.example", T0, &v) && strcmp(v.rule, "*") == 0 &&
	      strcmp(v.reason, "rate limit: 3 requests per minute for *") == 0,
	      "then '*' is empty too (got %s)", v.rule);
	CHECK(!take(&r, "api.example.com", T0 + 20 * SEC + 100, &v) && strcmp(v.rule, "api.example.com") == 0,
	      "20 s later '*' has a token again, api two thirds of one: refused by api's bucket (got %s)", v.rule);
	CHECK(take(&r, "api.example.com", T0 + 31 * SEC, &v), "31 s later both have a token: api passes");
	CHECK(!take(&r, "other.example", T0 + 31 * SEC, &v) && strcmp(v.rule, "*") == 0,
	      "and that request took '*''s token too: another host is refused by '*' (got %s)", v.rule);
	egress_rules_free(&r);

	/* the bytes: a budget, spent, refilled; an empty byte bucket refuses requests too */
	static const struct rate bytes[] = { { "*.example.com", 0, 1000 } };
	if (!build(&r, NULL, NULL, NULL, bytes, 1))
		return;
	uint64_t m = egress_rate_mask(&r, "www.example.com");
	CHECK(m == 1 && egress_rate_bytes_budget(&r, m, T0) == 1000, "bpm 1000: a budget of 1000 bytes");
	CHECK(take(&r, "www.example.com", T0, &v) && take(&r, "www.example.com", T0, &v) &&
	      egress_rate_bytes_budget(&r, m, T0) == 1000, "requests take no bytes");
	egress_rate_bytes_spend(&r, m, 600);
	CHECK(egress_rate_bytes_budget(&r, m, T0) == 400, "600 spent: 400 left");
	egress_rate_bytes_spend(&r, m, 400);
	CHECK(egress_rate_bytes_budget(&r, m, T0) == 0, "all spent: 0 left");
	CHECK(!take(&r, "www.example.com", T0, &v) && v.status == 429 && strcmp(v.rule, "*.example.com") == 0 &&
	      strcmp(v.reason, "rate limit: 1000 bytes per minute for *.example.com") == 0,
	      "no bytes left: a request is refused with 429 (got %d: %s)", v.status, v.reason);
	CHECK(egress_rate_bytes_budget(&r, m, T0 + 30 * SEC) == 500, "30 s later: 500 bytes");
	CHECK(take(&r, "www.example.com", T0 + 30 * SEC, &v), "and requests pass again");
	egress_rate_bytes_spend(&r, m, 700); /* an overdraft (a read larger than the budget) */
	CHECK(egress_rate_bytes_budget(&r, m, T0 + 30 * SEC) == 0, "an overdraft of 200: budget 0");
	CHECK(egress_rate_bytes_budget(&r, m, T0 + 42 * SEC) == 0, "12 s later the overdraft is paid back: still 0");
	CHECK(egress_rate_bytes_budget(&r, m, T0 + 48 * SEC) == 100, "6 s more: 100 bytes");
	CHECK(egress_rate_bytes_budget(&r, m, T0 + 3600 * SEC) == 1000, "an hour later: full, 1000, not more");
	CHECK(egress_rate_bytes_budget(&r, 0, T0) == UINT64_MAX, "no bucket: no byte limit");
	egress_rules_free(&r);

	/* two byte buckets: the smaller budget; spending takes from both */
	static const struct rate two_bytes[] = { { "*", 0, 500 }, { "*.example.com", 0, 1000 }, { "*", 5, 0 } };
	if (!build(&r, NULL, NULL, NULL, two_bytes, 3))
		return;
	m = egress_rate_mask(&r, "www.example.com");
	CHECK(m == 7 && egress_rate_bytes_budget(&r, m, T0) == 500, "two byte buckets: the smaller budget, 500");
	CHECK(egress_rate_bytes_budget(&r, 4, T0) == UINT64_MAX, "a request-only bucket limits no bytes");
	egress_rate_bytes_spend(&r, m, 100);
	CHECK(egress_rate_bytes_budget(&r, 1, T0) == 400 && egress_rate_bytes_budget(&r, 2, T0) == 900,
	      "100 spent from each: 400 and 900 left");
	CHECK(egress_rate_bytes_budget(&r, egress_rate_mask(&r, "other.org"), T0) == 400,
	      "another host shares the '*' bucket: 400");
	egress_rules_free(&r);
}

/* The hosts-file lookup behind names DNS does not know as absolute. */
static void test_hosts_lookup(void)
{
	static const char text[] = "# comment 127.0.0.9 commented\n"
				   "127.0.0.1\tlocalhost\n"
				   "::1 localhost ip6-localhost\n"
				   "10.0.0.7  Build.Internal. build # trailing comment\n"
				   "fe80::1%eth0 zoned\n"
				   "not-an-address named\n"
				   "10.0.0.8\n"
				   "   \n"
				   "10.0.0.9 build";
	struct sockaddr_storage out[4];
	char a[INET6_ADDRSTRLEN];
	FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
	size_t n = egress_hosts_lookup(f, "localhost.", out, 4);
	CHECK(n == 2 && out[0].ss_family == AF_INET && out[1].ss_family == AF_INET6,
	      "localhost (asked absolute): its IPv4 and IPv6 lines, in order (%zu)", n);
	rewind(f);
	n = egress_hosts_lookup(f, "build.internal", out, 4);
	CHECK(n == 1 && inet_ntop(AF_INET, &((struct sockaddr_in *)&out[0])->sin_addr, a, sizeof a) &&
	      strcmp(a, "10.0.0.7") == 0, "a name written with a dot and capitals, asked without either (%zu)", n);
	rewind(f);
	n = egress_hosts_lookup(f, "build", out, 4);
	CHECK(n == 2, "an alias on two lines: both addresses (%zu)", n);
	rewind(f);
	n = egress_hosts_lookup(f, "build", out, 1);
	CHECK(n == 1, "at most max addresses (%zu)", n);
	static const char *const none[] = { "zoned", "named", "127.0.0.9", "commented", "comment", "internal", "" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		rewind(f);
		CHECK(egress_hosts_lookup(f, none[i], out, 4) == 0, "'%s' is not found", none[i]);
	}
	fclose(f);
}

/* Findings of the gateway's security review, kept fixed. */
static void test_review_fixes(void)
{
	static const char *const allow_all[] = { "*:*", NULL };
	static const char *const deny_ip[] = { "8.8.8.8:*", NULL };
	static const char *const deny_name[] = { "pastebin.com:443", NULL };
	struct egress_rules r;
	/* IPv4-mapped and NAT64 spellings of a denied IPv4 address */
	if (build(&r, allow_all, deny_ip, NULL, NULL, 0)) {
		expect(&r, "::ffff:8.8.8.8", 443, false, 403, "8.8.8.8:*");
		expect(&r, "::ffff:808:808", 443, false, 403, "8.8.8.8:*");
		expect(&r, "64:ff9b::8.8.8.8", 443, false, 403, "8.8.8.8:*");
		expect(&r, "8.8.4.4", 443, true, 200, "*:*");
		struct sockaddr_storage ss;
		CHECK(egress_parse_ip("::ffff:8.8.8.8", &ss) &&
		      egress_addr_denied(&r, (struct sockaddr *)&ss, 443) != NULL,
		      "a resolved ::ffff:8.8.8.8 meets the IPv4 deny entry");
		egress_rules_free(&r);
	}
	/* with names on the denylist, "*" no longer lets IP literals through */
	if (build(&r, allow_all, deny_name, NULL, NULL, 0)) {
		expect(&r, "203.0.113.9", 443, false, 403, "denylist names");
		expect(&r, "example.com", 443, true, 200, "*:*");
		expect(&r, "pastebin.com", 443, false, 403, "pastebin.com:443");
		egress_rules_free(&r);
	}
	/* second review: a deny entry written IPv4-mapped meets the plain
	 * address (resolved addresses are judged unmapped), and a denied IPv4
	 * address is denied in its 6to4 form too; an allow entry does not
	 * admit the 6to4 site behind its address */
	static const char *const deny_mapped[] = { "[::ffff:127.0.0.1]:*", NULL };
	if (build(&r, allow_all, deny_mapped, NULL, NULL, 0)) {
		expect(&r, "127.0.0.1", 80, false, 403, "127.0.0.1:*");
		expect(&r, "::ffff:127.0.0.1", 80, false, 403, "127.0.0.1:*");
		struct sockaddr_storage ss;
		CHECK(egress_parse_ip("127.0.0.1", &ss) && egress_addr_denied(&r, (struct sockaddr *)&ss, 80) != NULL,
		      "a name resolved to 127.0.0.1 meets the deny entry written as [::ffff:127.0.0.1]");
		egress_rules_free(&r);
	}
	if (build(&r, allow_all, deny_ip, NULL, NULL, 0)) {
		expect(&r, "2002:808:808::1", 443, false, 403, "8.8.8.8:*");
		struct sockaddr_storage ss;
		CHECK(egress_parse_ip("2002:808:808:1::5", &ss) &&
		      egress_addr_denied(&r, (struct sockaddr *)&ss, 443) != NULL,
		      "a resolved 6to4 address of 8.8.8.8 meets its deny entry");
		egress_rules_free(&r);
	}
	static const char *const allow_ip[] = { "8.8.8.8:443", NULL };
	if (build(&r, allow_ip, NULL, NULL, NULL, 0)) {
		expect(&r, "8.8.8.8", 443, true, 200, "8.8.8.8:443");
		expect(&r, "::ffff:8.8.8.8", 443, true, 200, "8.8.8.8:443");
		expect(&r, "2002:808:808::1", 443, false, 403, "default deny");
		egress_rules_free(&r);
	}
	static const struct rate mapped_rate[] = { { "[::ffff:1.2.3.4]", 10, 0 } };
	if (build(&r, allow_all, NULL, NULL, mapped_rate, 1)) {
		CHECK(egress_rate_mask(&r, "1.2.3.4") == 1 && egress_rate_mask(&r, "2002:102:304::9") == 1 &&
		      egress_rate_mask(&r, "1.2.3.5") == 0,
		      "a rate limit written IPv4-mapped meets 1.2.3.4 and its 6to4 form, not 1.2.3.5");
		egress_rules_free(&r);
	}
	/* the old inet_aton spellings are no host names */
	static const char *const odd[] = { "0x7f000001", "0x7f.0x0.0x0.0x1", "0177.0.0.1", "127.1", "2130706433", NULL };
	for (size_t i = 0; odd[i]; i++)
		CHECK(!egress_host_valid(odd[i]), "'%s' is not a valid host", odd[i]);
}

int main(void)
{
	test_review_fixes();
	test_hosts_lookup();
	test_parse_names();
	test_parse_ports();
	test_parse_addresses();
	test_host_valid();
	test_decide();
	test_addr_entry();
	test_addr_special();
	test_override();
	test_build();
	test_rate_mask();
	test_rate_requests();
	return check_done();
}
