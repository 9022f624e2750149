/* Egress decisions: what the gateway lets the sandbox reach.
 *
 * Default deny. An entry is HOST:PORT; HOST is a name, "*.domain" (any name
 * below domain, never domain itself: a wildcard must not quietly widen to
 * the apex), "*", an IP literal or a CIDR; PORT is a number or "*". The deny
 * list wins over the allow list.
 *
 * Names are judged as the client wrote them, then resolved by the gateway;
 * the address they lead to is judged again: loopback, private, link-local,
 * CGNAT, multicast, reserved and cloud-metadata addresses are refused unless
 * an address entry covers them. That is what stops DNS rebinding (an allowed
 * name that suddenly resolves to 127.0.0.1 or 169.254.169.254) and lateral
 * movement into the host's own network.
 *
 * Pure code: no I/O, no clock (callers pass the time). Unit-tested.
 */
#include "egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- syntax ----------------------------------------------------------- */

static bool dns_label_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* A lowercase DNS name. Not one that resolvers read as an IPv4 number in
 * the old inet_aton forms ("127.1", "2130706433", "0x7f000001",
 * "0177.0.0.1"), and the last label is never all digits (a TLD is not). */
static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s);
	const char *last = s;
	struct in_addr a4;
	if (len == 0 || len > 253 || inet_aton(s, &a4))
		return false;
	for (const char *p = s;;) {
		const char *dot = strchrnul(p, '.');
		if (!dns_label_ok(p, (size_t)(dot - p)))
			return false;
		last = p;
		if (!*dot)
			break;
		p = dot + 1;
	}
	return strspn(last, "0123456789") != strlen(last);
}

/* Lowercase copy of s[0..len) without one trailing dot. */
static bool normalise(const char *s, size_t len, char *out, size_t cap)
{
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= cap)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[len] = '\0';
	return true;
}

bool egress_parse_ip(const char *host, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

bool egress_host_valid(const char *host)
{
	struct sockaddr_storage ss;
	char low[254];
	if (egress_parse_ip(host, &ss))
		return true;
	return normalise(host, strlen(host), low, sizeof low) && strcmp(low, host) == 0 &&
	       dns_name_ok(low);
}

static void mask_prefix(uint8_t *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* "10.0.0.0/8", "1.2.3.4", "::1" (brackets already removed) */
static int parse_addr_pattern(const char *s, struct egress_entry *e, const char **why)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	struct sockaddr_storage ss;
	if (len >= sizeof buf)
		return *why = "invalid address", -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!egress_parse_ip(buf, &ss))
		return *why = "invalid address", -1;
	e->kind = EG_ADDR;
	e->family = ss.ss_family;
	unsigned bits = e->family == AF_INET ? 32 : 128;
	if (e->family == AF_INET)
		memcpy(e->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(e->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	e->prefix = bits;
	if (slash) {
		const char *p = slash + 1;
		unsigned v = 0;
		if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3)
			return *why = "invalid prefix length", -1;
		v = (unsigned)atoi(p);
		if (v > bits)
			return *why = "prefix length too large", -1;
		e->prefix = v;
		mask_prefix(e->addr, bits / 8, v);
	}
	return 0;
}

static const uint8_t v4mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t nat64_prefix[12] = { 0x00, 0x64, 0xff, 0x9b };

/* The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64
 * (64:ff9b::a.b.c.d) IPv6 address: both lead to that IPv4 host. With
 * sixto4, also a 6to4 one (2002:aabb:ccdd::/48), whose packets go to the
 * IPv4 host aa.bb.cc.dd (a site's router). */
static const uint8_t *embedded_v4(const uint8_t *a6, bool sixto4)
{
	if (memcmp(a6, v4mapped_prefix, 12) == 0 || memcmp(a6, nat64_prefix, 12) == 0)
		return a6 + 12;
	return sixto4 && a6[0] == 0x20 && a6[1] == 0x02 ? a6 + 2 : NULL;
}

static int parse_host_pattern(const char *s, size_t len, struct egress_entry *e, const char **why)
{
	char host[272];
	if (len == 0)
		return *why = "empty host", -1;
	if (len >= sizeof host)
		return *why = "host too long", -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (host[0] == '[') { /* [v6] or [v6]/len */
		char *close = strchr(host, ']');
		if (!close)
			return *why = "missing ']' after an IPv6 address", -1;
		char inner[64];
		size_t n = (size_t)(close - host - 1);
		if (n >= sizeof inner || (close[1] && close[1] != '/'))
			return *why = "invalid IPv6 address", -1;
		if (memchr(host + 1, '/', n))
			return *why = "the prefix length goes after the brackets: [fd00::]/8", -1;
		snprintf(inner, sizeof inner, "%.*s%s", (int)n, host + 1, close + 1);
		if (strchr(inner, ':') == NULL || parse_addr_pattern(inner, e, why) < 0 || e->family != AF_INET6)
			return *why = "invalid IPv6 address", -1;
		/* An IPv4 address written as IPv4-mapped or NAT64 is that IPv4
		 * address: resolved addresses are judged unmapped, and an entry
		 * left in IPv6 form would never meet them. */
		if (e->prefix >= 96 && embedded_v4(e->addr, false)) {
			memmove(e->addr, e->addr + 12, 4);
			memset(e->addr + 4, 0, sizeof e->addr - 4);
			e->family = AF_INET;
			e->prefix -= 96;
		}
		return 0;
	}
	if (strcmp(host, "*") == 0) {
		e->kind = EG_ANY;
		return 0;
	}
	if (strchr(host, ':') && strspn(host, "0123456789abcdefABCDEF:./") == len)
		return *why = "IPv6 addresses go in brackets: [::1]:443", -1;
	if (strchr(host, ':'))
		return *why = "unexpected ':' (a port does not belong here)", -1;
	if (host[0] >= '0' && host[0] <= '9' && strspn(host, "0123456789./") == len)
		return parse_addr_pattern(host, e, why);
	bool wild = strncmp(host, "*.", 2) == 0;
	if (!normalise(host + (wild ? 2 : 0), len - (wild ? 2 : 0), e->name, sizeof e->name) ||
	    !dns_name_ok(e->name))
		return *why = wild ? "invalid domain after '*.'" : "invalid host name", -1;
	e->kind = wild ? EG_WILDCARD : EG_NAME;
	return 0;
}

static void entry_text(struct egress_entry *e, bool with_port)
{
	char host[256], port[8] = "";
	switch (e->kind) {
	case EG_ANY: snprintf(host, sizeof host, "*"); break;
	case EG_NAME: snprintf(host, sizeof host, "%s", e->name); break;
	case EG_WILDCARD: snprintf(host, sizeof host, "*.%s", e->name); break;
	case EG_ADDR: {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(e->family, e->addr, a, sizeof a);
		unsigned full = e->family == AF_INET ? 32 : 128;
		char pfx[8] = "";
		if (e->prefix != full)
			snprintf(pfx, sizeof pfx, "/%u", e->prefix);
		snprintf(host, sizeof host, e->family == AF_INET6 ? "[%s]%s" : "%s%s", a, pfx);
		break;
	}
	}
	if (with_port && e->port)
		snprintf(port, sizeof port, ":%u", e->port);
	else if (with_port)
		snprintf(port, sizeof port, ":*");
	snprintf(e->text, sizeof e->text, "%s%s", host, port);
}

int egress_parse_entry(const char *s, bool with_port, struct egress_entry *e, const char **why)
{
	memset(e, 0, sizeof *e);
	size_t hlen = strlen(s);
	if (with_port) {
		const char *colon = strrchr(s, ':');
		const char *bracket = strrchr(s, ']');
		if (!colon || (bracket && colon < bracket))
			return *why = "expected HOST:PORT", -1;
		hlen = (size_t)(colon - s);
		const char *p = colon + 1;
		if (strcmp(p, "*") == 0) {
			e->port = 0;
		} else {
			if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atoi(p) < 1 ||
			    atoi(p) > 65535)
				return *why = "invalid port (1-65535 or *)", -1;
			e->port = (uint16_t)atoi(p);
		}
	}
	if (parse_host_pattern(s, hlen, e, why) < 0)
		return -1;
	entry_text(e, with_port);
	return 0;
}

/* ---- matching ------------------------------------------------------------ */

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, net, full) != 0)
		return false;
	return !rest || ((a[full] ^ net[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* wide: an IPv4 entry also covers the 6to4 site of its addresses (for
 * the denylist and rate limits, which must not be stepped around; an
 * allow entry admits the host it names, not a site behind it). */
static bool addr_in(const struct egress_entry *e, const struct sockaddr *sa, bool wide)
{
	if (e->kind != EG_ADDR)
		return false;
	if (sa->sa_family == AF_INET)
		return e->family == AF_INET &&
		       prefix_match((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, e->addr, e->prefix);
	if (sa->sa_family != AF_INET6)
		return false;
	const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (e->family == AF_INET6)
		return prefix_match(a, e->addr, e->prefix);
	const uint8_t *v4 = embedded_v4(a, wide);
	return v4 && prefix_match(v4, e->addr, e->prefix);
}

static bool host_matches(const struct egress_entry *e, const char *host, const struct sockaddr *ip, bool wide)
{
	size_t hl, sl;
	switch (e->kind) {
	case EG_ANY:
		return true;
	case EG_NAME:
		return !ip && strcmp(host, e->name) == 0;
	case EG_WILDCARD:
		hl = strlen(host);
		sl = strlen(e->name);
		return !ip && hl > sl + 1 && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, e->name) == 0;
	case EG_ADDR:
		return ip && addr_in(e, ip, wide);
	}
	return false;
}

static const struct egress_entry *find(const struct egress_entry *v, size_t n, const char *host,
				       const struct sockaddr *ip, uint16_t port, bool wide)
{
	for (size_t i = 0; i < n; i++)
		if ((!v[i].port || v[i].port == port) && host_matches(&v[i], host, ip, wide))
			return &v[i];
	return NULL;
}

static bool names_denied(const struct egress_rules *r)
{
	for (size_t i = 0; i < r->n_deny; i++)
		if (r->deny[i].kind == EG_NAME || r->deny[i].kind == EG_WILDCARD)
			return true;
	return false;
}

void egress_decide(const struct egress_rules *r, const char *host, uint16_t port,
		   struct egress_verdict *v)
{
	struct sockaddr_storage ss;
	char low[254];
	const struct sockaddr *ip = egress_parse_ip(host, &ss) ? (const struct sockaddr *)&ss : NULL;
	const struct egress_entry *e;
	*v = (struct egress_verdict){ .status = 403, .rule = "default deny" };
	if (!ip && (!normalise(host, strlen(host), low, sizeof low) || !dns_name_ok(low))) {
		v->status = 400;
		v->rule = "syntax";
		snprintf(v->reason, sizeof v->reason, "invalid host name");
		return;
	}
	if (!ip)
		host = low;
	if (port == 0) {
		v->status = 400;
		v->rule = "syntax";
		snprintf(v->reason, sizeof v->reason, "port 0");
		return;
	}
	if ((e = find(r->deny, r->n_deny, host, ip, port, true))) {
		v->rule = e->text;
		snprintf(v->reason, sizeof v->reason, "%s:%u is on the denylist", host, port);
		return;
	}
	if ((e = find(r->allow, r->n_allow, host, ip, port, false))) {
		/* A denylist of names cannot know the addresses behind them: an
		 * IP literal that only "*" lets through could be one of them. */
		if (ip && e->kind == EG_ANY && names_denied(r)) {
			v->rule = "denylist names";
			snprintf(v->reason, sizeof v->reason,
				 "an IP address needs an address entry while the denylist names hosts");
			return;
		}
		v->allow = true;
		v->status = 200;
		v->rule = e->text;
		return;
	}
	snprintf(v->reason, sizeof v->reason, "%s:%u is not on the egress allowlist", host, port);
}

const struct egress_entry *egress_addr_entry(const struct egress_rules *r, const struct sockaddr *sa,
					     uint16_t port)
{
	for (size_t i = 0; i < r->n_allow; i++)
		if (r->allow[i].kind == EG_ADDR && (!r->allow[i].port || r->allow[i].port == port) &&
		    addr_in(&r->allow[i], sa, false))
			return &r->allow[i];
	return NULL;
}

const struct egress_entry *egress_addr_denied(const struct egress_rules *r, const struct sockaddr *sa,
					      uint16_t port)
{
	for (size_t i = 0; i < r->n_deny; i++)
		if (r->deny[i].kind == EG_ADDR && (!r->deny[i].port || r->deny[i].port == port) &&
		    addr_in(&r->deny[i], sa, true))
			return &r->deny[i];
	return NULL;
}

/* ---- special ranges ------------------------------------------------------ */

struct range {
	uint8_t net[16];
	unsigned prefix;
	const char *name;
};

/* Most specific first: the first match names the range. */
static const struct range v4_ranges[] = {
	{ { 169, 254, 169, 254 }, 32, "cloud metadata" },
	{ { 169, 254, 170, 2 }, 32, "cloud metadata" },
	{ { 168, 63, 129, 16 }, 32, "cloud metadata" },
	{ { 100, 100, 100, 200 }, 32, "cloud metadata" },
	{ { 0, 0, 0, 0 }, 8, "unspecified" },
	{ { 10, 0, 0, 0 }, 8, "private" },
	{ { 100, 64, 0, 0 }, 10, "CGNAT" },
	{ { 127, 0, 0, 0 }, 8, "loopback" },
	{ { 169, 254, 0, 0 }, 16, "link-local" },
	{ { 172, 16, 0, 0 }, 12, "private" },
	{ { 192, 0, 0, 0 }, 24, "reserved" },
	{ { 192, 0, 2, 0 }, 24, "documentation" },
	{ { 192, 88, 99, 0 }, 24, "reserved" },
	{ { 192, 168, 0, 0 }, 16, "private" },
	{ { 198, 18, 0, 0 }, 15, "benchmarking" },
	{ { 198, 51, 100, 0 }, 24, "documentation" },
	{ { 203, 0, 113, 0 }, 24, "documentation" },
	{ { 224, 0, 0, 0 }, 4, "multicast" },
	{ { 240, 0, 0, 0 }, 4, "reserved" },
};

static const struct range v6_ranges[] = {
	{ { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02 }, 128, "cloud metadata" },
	{ { [15] = 0 }, 128, "unspecified" },
	{ { [15] = 1 }, 128, "loopback" },
	{ { [15] = 0 }, 96, "reserved" }, /* IPv4-compatible, deprecated */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, "private" }, /* local-use NAT64 */
	{ { 0x01, 0x00 }, 64, "reserved" },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, "documentation" },
	{ { 0x20, 0x01, 0x00, 0x00 }, 23, "reserved" },
	{ { 0xfc, 0x00 }, 7, "private" },
	{ { 0xfe, 0x80 }, 10, "link-local" },
	{ { 0xfe, 0xc0 }, 10, "private" },
	{ { 0xff, 0x00 }, 8, "multicast" },
};

static bool in_range(const uint8_t *a, const struct range *r)
{
	return prefix_match(a, r->net, r->prefix);
}

static const char *v4_special(const uint8_t *a)
{
	for (size_t i = 0; i < sizeof v4_ranges / sizeof v4_ranges[0]; i++)
		if (in_range(a, &v4_ranges[i]))
			return v4_ranges[i].name;
	return NULL;
}

bool egress_addr_special(const struct sockaddr *sa, const char **range)
{
	const char *name = NULL;
	if (sa->sa_family == AF_INET) {
		name = v4_special((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *v4 = embedded_v4(a, true);
		if (v4)
			name = v4_special(v4);
		if (!name)
			for (size_t i = 0; i < sizeof v6_ranges / sizeof v6_ranges[0]; i++)
				if (in_range(a, &v6_ranges[i])) {
					name = v6_ranges[i].name;
					break;
				}
	} else {
		name = "not an internet address";
	}
	if (range)
		*range = name;
	return name != NULL;
}

/* ---- rules ------------------------------------------------------------- */

const struct sockaddr_storage *egress_override(const struct egress_rules *r, const char *host)
{
	char low[254];
	if (!normalise(host, strlen(host), low, sizeof low))
		return NULL;
	for (size_t i = 0; i < r->n_hosts; i++)
		if (strcmp(r->hosts[i].name, low) == 0)
			return &r->hosts[i].addr;
	return NULL;
}

size_t egress_hosts_lookup(FILE *f, const char *name, struct sockaddr_storage *out, size_t max)
{
	char want[254], have[254], *line = NULL;
	size_t cap = 0, n = 0;
	if (!normalise(name, strlen(name), want, sizeof want))
		return 0;
	while (n < max && getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "#")] = '\0';
		char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save);
		struct sockaddr_storage ss;
		if (!addr || !egress_parse_ip(addr, &ss)) /* a zone id (%eth0) too: not for us */
			continue;
		for (char *tok = strtok_r(NULL, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
			if (normalise(tok, strlen(tok), have, sizeof have) && strcmp(have, want) == 0) {
				out[n++] = ss;
				break;
			}
	}
	free(line);
	return n;
}

static int build_list(const struct al_strlist *l, struct egress_entry **out, size_t *n, al_error *err)
{
	*n = 0;
	*out = calloc(l->n ? l->n : 1, sizeof **out);
	if (!*out)
		return al_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		const char *why;
		if (egress_parse_entry(l->v[i], true, &(*out)[i], &why) < 0)
			return al_err(err, EINVAL, "egress entry '%s': %s", l->v[i], why);
		(*n)++;
	}
	return 0;
}

int egress_rules_build(const struct al_policy *p, struct egress_rules *r, al_error *err)
{
	memset(r, 0, sizeof *r);
	if (build_list(&p->egress_allow, &r->allow, &r->n_allow, err) < 0 ||
	    build_list(&p->egress_deny, &r->deny, &r->n_deny, err) < 0)
		goto fail;
	r->hosts = calloc(p->net_hosts.n ? p->net_hosts.n : 1, sizeof *r->hosts);
	r->rates = calloc(p->n_rate_limits ? p->n_rate_limits : 1, sizeof *r->rates);
	if (!r->hosts || !r->rates) {
		al_err(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < p->net_hosts.n; i++) {
		const char *kv = p->net_hosts.v[i], *eq = strchr(kv, '=');
		struct egress_override *o = &r->hosts[r->n_hosts];
		if (!eq || !normalise(kv, (size_t)(eq - kv), o->name, sizeof o->name) ||
		    !egress_parse_ip(eq + 1, &o->addr)) {
			al_err(err, EINVAL, "network.hosts entry '%s': expected NAME=ADDRESS", kv);
			goto fail;
		}
		r->n_hosts++;
	}
	if (p->n_rate_limits > EGRESS_MAX_RATES) {
		al_err(err, EINVAL, "more than %d rate limits", EGRESS_MAX_RATES);
		goto fail;
	}
	for (size_t i = 0; i < p->n_rate_limits; i++) {
		struct egress_bucket *b = &r->rates[i];
		const char *why;
		if (egress_parse_entry(p->rate_limits[i].host, false, &b->host, &why) < 0) {
			al_err(err, EINVAL, "rate limit host '%s': %s", p->rate_limits[i].host, why);
			goto fail;
		}
		b->rpm = (double)p->rate_limits[i].rpm;
		b->bpm = (double)p->rate_limits[i].bpm;
		b->req_tokens = b->rpm;	 /* a full minute's burst to start */
		b->byte_tokens = b->bpm;
		r->n_rates++;
	}
	return 0;
fail:
	egress_rules_free(r);
	return -1;
}

void egress_rules_free(struct egress_rules *r)
{
	free(r->allow);
	free(r->deny);
	free(r->hosts);
	free(r->rates);
	memset(r, 0, sizeof *r);
}

/* ---- rate limits: token buckets, a minute's worth of capacity ----------- */

uint64_t egress_rate_mask(const struct egress_rules *r, const char *host)
{
	struct sockaddr_storage ss;
	const struct sockaddr *ip = egress_parse_ip(host, &ss) ? (const struct sockaddr *)&ss : NULL;
	uint64_t mask = 0;
	char low[254];
	if (!ip) {
		if (!normalise(host, strlen(host), low, sizeof low))
			return 0;
		host = low;
	}
	for (size_t i = 0; i < r->n_rates && i < EGRESS_MAX_RATES; i++)
		if (host_matches(&r->rates[i].host, host, ip, true))
			mask |= 1ull << i;
	return mask;
}

static double min_d(double a, double b) { return a < b ? a : b; }

static void refill(struct egress_bucket *b, uint64_t now_us)
{
	if (now_us > b->last_us && b->started) {
		double minutes = (double)(now_us - b->last_us) / 60e6;
		b->req_tokens = min_d(b->rpm, b->req_tokens + b->rpm * minutes);
		b->byte_tokens = min_d(b->bpm, b->byte_tokens + b->bpm * minutes);
	}
	if (now_us > b->last_us || !b->started)
		b->last_us = now_us;
	b->started = true;
}

bool egress_rate_request(struct egress_rules *r, uint64_t mask, uint64_t now_us,
			 struct egress_verdict *v)
{
	for (size_t i = 0; i < r->n_rates; i++) {
		struct egress_bucket *b = &r->rates[i];
		if (!(mask & (1ull << i)))
			continue;
		refill(b, now_us);
		if ((b->rpm > 0 && b->req_tokens < 1.0) || (b->bpm > 0 && b->byte_tokens < 1.0)) {
			*v = (struct egress_verdict){ .status = 429, .rule = b->host.text };
			if (b->rpm > 0 && b->req_tokens < 1.0)
				snprintf(v->reason, sizeof v->reason,
					 "rate limit: %.0f requests per minute for %s", b->rpm, b->host.text);
			else
				snprintf(v->reason, sizeof v->reason,
					 "rate limit: %.0f bytes per minute for %s", b->bpm, b->host.text);
			return false;
		}
	}
	for (size_t i = 0; i < r->n_rates; i++)
		if ((mask & (1ull << i)) && r->rates[i].rpm > 0)
			r->rates[i].req_tokens -= 1.0;
	return true;
}

uint64_t egress_rate_bytes_budget(struct egress_rules *r, uint64_t mask, uint64_t now_us)
{
	uint64_t budget = UINT64_MAX;
	for (size_t i = 0; i < r->n_rates; i++) {
		struct egress_bucket *b = &r->rates[i];
		if (!(mask & (1ull << i)) || b->bpm <= 0)
			continue;
		refill(b, now_us);
		uint64_t have = b->byte_tokens >= 1.0 ? (uint64_t)b->byte_tokens : 0;
		if (have < budget)
			budget = have;
	}
	return budget;
}

void egress_rate_bytes_spend(struct egress_rules *r, uint64_t mask, uint64_t n)
{
	for (size_t i = 0; i < r->n_rates; i++)
		if ((mask & (1ull << i)) && r->rates[i].bpm > 0)
			r->rates[i].byte_tokens -= (double)n;
}
