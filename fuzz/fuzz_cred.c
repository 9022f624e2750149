/* Fuzz target for just-in-time credentials (src/lib/cred.c). Input:
 *
 *   byte 0      options: bit 0 bare LF -> CRLF in the head, bits 1-2 the
 *               number of secrets (1 + b % 3), bits 3-5 the host, bits 6-7
 *               the port
 *   per secret  4 bytes: hosts mask (bits 0-5), expired (6), a CR, LF or
 *               NUL in the value (7); header (bits 0-1), format (2-3),
 *               rules mask (4-7); value length; value seed
 *   the rest    the request head, where 01 d is the placeholder of secret
 *               d % 4 (3: of no secret), 02 d the same in upper case,
 *               03 d base64 of "git:" + it, 04 d it cut short
 *
 * Checked: the result fits cap or is -1 with CRED_ERROR, and a small cap
 * gives the same answer or CRED_ERROR; NONE is an exact copy; a head
 * holding an unbound placeholder (also in Basic credentials) is never
 * passed on; USED gives a well-formed head with no bound placeholder left
 * in a header value (Basic decoded; an injected secret's may stay, it goes
 * in its own header only) and one header per injected name;
 * refusals name the right secret; reasons hold no control character and no
 * value; cred_find and the rule glob agree with naive versions; the path
 * check agrees with a second one; base64 decodes what it encodes.
 *
 * Values are made of characters that are in no placeholder (no hex digit,
 * no letter of the prefix, no '-'): then a placeholder in the output can
 * only come from the input, and finding one is a miss. */
#include "cred.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const HOSTS[8] = { "api.example.com", "example.com", "a.b.example.com", "::1",
				      "evil.test", "pypi.org", "x.example.com", "api.example.com" };
static const uint16_t PORTS[4] = { 443, 80, 8443, 443 };
static const char *const ENTRIES[6] = { "api.example.com:443", "*.example.com:443", "[::1]:443",
					"example.com:80", "pypi.org:8443", "evil.test:443" };
static const char *const HEADERS[4] = { NULL, "Authorization", "X-Api-Key", "Bad Name" };
static const char *const FORMATS[4] = { NULL, "Bearer {}", "token {} x", "{}" };
static const char *const RULES[4] = { "GET /v1/*", "* /repos/?/x*", "POST /upload", "GET" };
static const char *const NAMES[3] = { "ALPHA", "BETA", "GAMMA" };
/* no '.' either: a value never meets the "..." of a cut reason */
static const char SAFE[] = "gjmnqstuvwxyzGJMNQSTUVWXYZ!#$&*+^_|~";

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* The first placeholder of set in p[0..n), by brute force. */
static ssize_t naive_find(const struct cred_set *set, const char *p, size_t n, size_t *at)
{
	for (size_t i = 0; i + CRED_PH_LEN <= n; i++)
		for (size_t k = 0; k < set->n; k++)
			if (ieq(p + i, set->v[k].placeholder, CRED_PH_LEN)) {
				*at = i;
				return (ssize_t)k;
			}
	return -1;
}

/* Each secret whose placeholder occurs in p[0..n) (overlaps included). */
static unsigned present_in(const struct cred_set *set, const char *p, size_t n)
{
	unsigned m = 0;
	for (size_t i = 0; i + CRED_PH_LEN <= n; i++)
		for (size_t k = 0; k < set->n; k++)
			if (ieq(p + i, set->v[k].placeholder, CRED_PH_LEN))
				m |= 1u << k;
	return m;
}

/* Placeholders in head[0..n) and in the decoded Basic credentials of its
 * Authorization lines; values_only: in header values only. */
static unsigned present_in_head(const struct cred_set *set, const char *h, size_t n, bool values_only)
{
	unsigned m = 0;
	size_t pos = 0;
	uint8_t dec[8192];
	while (pos < n) {
		const char *lf = memchr(h + pos, '\n', n - pos);
		size_t end = lf ? (size_t)(lf - h) : n;
		const char *colon = memchr(h + pos, ':', end - pos);
		if (!values_only)
			m |= present_in(set, h + pos, end - pos);
		else if (pos && colon)
			m |= present_in(set, colon + 1, end - (size_t)(colon + 1 - h));
		const char *l = h + pos;
		size_t ln = end - pos;
		if (ln && l[ln - 1] == '\r')
			ln--;
		if (ln > 21 && ieq(l, "authorization:", 14)) {
			size_t i = 14;
			while (i < ln && (l[i] == ' ' || l[i] == '\t'))
				i++;
			if (ln - i > 6 && ieq(l + i, "basic ", 6)) {
				i += 6;
				while (i < ln && l[i] == ' ')
					i++;
				size_t e = ln;
				while (e > i && (l[e - 1] == ' ' || l[e - 1] == '\t'))
					e--;
				ssize_t d = e - i <= 5460 ? cred_base64_decode(l + i, e - i, dec) : -1;
				if (d > 0)
					m |= present_in(set, (const char *)dec, (size_t)d);
			}
		}
		pos = end + 1;
	}
	return m;
}

/* Full match of the glob pat against s, by dynamic programming. */
static bool naive_glob(const char *pat, size_t pn, const char *s, size_t sn)
{
	bool row[4097], next[4097];
	if (sn > 4096)
		abort();
	row[0] = true;
	for (size_t i = 1; i <= sn; i++)
		row[i] = false;
	for (size_t p = 0; p < pn; p++) {
		next[0] = row[0] && pat[p] == '*';
		for (size_t i = 1; i <= sn; i++)
			next[i] = pat[p] == '*' ? next[i - 1] || row[i] :
						  row[i - 1] && (pat[p] == '?' || pat[p] == s[i - 1]);
		memcpy(row, next, sizeof(bool) * (sn + 1));
	}
	return row[sn];
}

static bool naive_rule(const struct cred_secret *s, const char *m, size_t mn, const char *t, size_t tn)
{
	if (!s->rules.n)
		return true;
	const char *q = memchr(t, '?', tn);
	if (q)
		tn = (size_t)(q - t);
	for (size_t i = 0; i < s->rules.n; i++) {
		const char *r = s->rules.v[i], *sp = strchr(r, ' ');
		if (!sp)
			continue;
		bool any = sp - r == 1 && r[0] == '*';
		bool same = (size_t)(sp - r) == mn && memcmp(r, m, mn) == 0;
		if ((any || same) && naive_glob(sp + 1, strlen(sp + 1), t, tn))
			return true;
	}
	return false;
}

static bool naive_canonical(const char *p, size_t n)
{
	if (!n || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
		if (i + 1 < n && p[i] == '/' && p[i + 1] == '/')
			return false;
		if (i + 2 < n && p[i] == '%' &&
		    (ieq(p + i, "%2e", 3) || ieq(p + i, "%2f", 3) || ieq(p + i, "%5c", 3) || ieq(p + i, "%00", 3) ||
		     ieq(p + i, "%25", 3)))
			return false;
		if (i + 1 < n && p[i] == '%' && (p[i + 1] == 'u' || p[i + 1] == 'U'))
			return false;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && p[j] != '/')
			j++;
		/* segment p[i+1..j), up to a ';' */
		const char *seg = p + i + 1;
		size_t sn = j - i - 1;
		const char *semi = memchr(seg, ';', sn);
		if (semi)
			sn = (size_t)(semi - seg);
		if ((sn == 1 && seg[0] == '.') || (sn == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		i = j;
	}
	return true;
}

/* Every line ends in CRLF, no NUL, and the head ends at its blank line. */
static bool well_formed(const char *p, size_t n)
{
	if (n < 4 || memcmp(p + n - 4, "\r\n\r\n", 4))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\0' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')) ||
		    (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')))
			return false;
		if (i + 4 < n && memcmp(p + i, "\r\n\r\n", 4) == 0)
			return false; /* a blank line before the end */
	}
	return true;
}

/* Lines after the first whose name is h (any case). */
static int header_count(const char *p, size_t n, const char *h)
{
	int c = 0;
	size_t hn = strlen(h);
	for (const char *l = memchr(p, '\n', n); l && (size_t)(l - p) + 1 + hn < n;
	     l = memchr(l + 1, '\n', n - (size_t)(l + 1 - p)))
		if (ieq(l + 1, h, hn) && l[1 + hn] == ':')
			c++;
	return c;
}

static size_t expand(const unsigned char *in, size_t n, bool crlf, const struct cred_value *v, char *o)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = in[i];
		if (c >= 1 && c <= 4 && i + 1 < n) {
			unsigned d = in[++i];
			const char *ph = v[d % 4].placeholder;
			if (c == 1) {
				memcpy(o + k, ph, CRED_PH_LEN);
			} else if (c == 2) {
				for (size_t j = 0; j < CRED_PH_LEN; j++)
					o[k + j] = ph[j] >= 'a' && ph[j] <= 'z' ? (char)(ph[j] - 32) : ph[j];
			} else if (c == 3) {
				char cred[64];
				memcpy(cred, "git:", 4);
				memcpy(cred + 4, ph, CRED_PH_LEN);
				k += base64_encode(cred, 4 + CRED_PH_LEN, o + k);
				continue;
			} else {
				size_t cut = d / 4 % CRED_PH_LEN;
				memcpy(o + k, ph, cut);
				k += cut;
				continue;
			}
			k += CRED_PH_LEN;
		} else if (c == '\n' && crlf && (k == 0 || o[k - 1] != '\r')) {
			o[k++] = '\r';
			o[k++] = '\n';
		} else {
			o[k++] = (char)c;
		}
	}
	return k;
}

static void check_reason(const struct cred_outcome *o, const struct cred_value *v, size_t nv, const char *head,
			 size_t len)
{
	size_t n = strnlen(o->reason, sizeof o->reason);
	if (n == sizeof o->reason)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)o->reason[i] < 0x20 || (unsigned char)o->reason[i] == 0x7f)
			abort();
	for (size_t i = 0; i < nv; i++)
		if (v[i].len >= 8 && !memmem(head, len, v[i].value, v[i].len) &&
		    memmem(o->reason, n, v[i].value, v[i].len))
			abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	unsigned opt = data[0];
	size_t at = 1, ns = 1 + (opt >> 1 & 3) % 3;
	const char *host = HOSTS[opt >> 3 & 7];
	uint16_t port = PORTS[opt >> 6 & 3];
	struct cred_secret s[3];
	struct cred_value v[4];
	char values[3][48];
	memset(s, 0, sizeof s);
	memset(v, 0, sizeof v);
	if (size < at + 4 * ns)
		return 0;
	for (size_t i = 0; i < ns; i++, at += 4) {
		const unsigned char *b = data + at;
		s[i].name = (char *)NAMES[i];
		for (int e = 0; e < 6; e++)
			if (b[0] >> e & 1 && al_strlist_add(&s[i].hosts, ENTRIES[e]) < 0)
				abort();
		for (int r = 0; r < 4; r++)
			if (b[1] >> (4 + r) & 1 && al_strlist_add(&s[i].rules, RULES[r]) < 0)
				abort();
		s[i].header = (char *)HEADERS[b[1] & 3];
		s[i].format = (char *)FORMATS[b[1] >> 2 & 3];
		size_t vn = 1 + b[2] % 40;
		uint32_t seed = b[3] * 2654435761u + (uint32_t)i;
		for (size_t k = 0; k < vn; k++) {
			seed = seed * 1103515245u + 12345u;
			values[i][k] = SAFE[(seed >> 16) % (sizeof SAFE - 1)];
		}
		if (b[0] & 0x80)
			values[i][vn / 2] = (const char[3]){ '\r', '\n', '\0' }[b[3] % 3];
		v[i].s = &s[i];
		v[i].value = values[i];
		v[i].len = vn;
		v[i].expired = b[0] >> 6 & 1;
	}
	for (size_t i = 0; i < 4; i++) {
		uint8_t r[16];
		for (int k = 0; k < 16; k++)
			r[k] = (uint8_t)(0x11 * (i + 1) ^ (unsigned)k * 7);
		cred_placeholder(r, v[i].placeholder);
	}
	struct cred_set set = { v, ns };

	size_t tn = size - at;
	char *head = malloc(tn * 80 + 1);
	if (!head)
		abort();
	size_t len = expand(data + at, tn, opt & 1, v, head);
	size_t cap = len + 1024, small = (size_t)(opt * 31 + tn) % (len + 64);
	char *out = malloc(cap), *out2 = malloc(small ? small : 1);
	if (!out || !out2)
		abort();

	struct cred_outcome o, o2;
	ssize_t r = cred_rewrite_head(&set, host, port, head, len, out, cap, &o);
	ssize_t r2 = cred_rewrite_head(&set, host, port, head, len, out2, small, &o2);
	bool pass = o.verdict == CRED_USED || o.verdict == CRED_NONE;

	/* sizes and the small cap */
	if (pass != (r >= 0) || (r >= 0 && (size_t)r > cap) || (r2 >= 0 && (size_t)r2 > small))
		abort();
	if (r >= 0 && (size_t)r <= small) {
		if (r2 != r || o2.verdict != o.verdict || o2.secret != o.secret || memcmp(out, out2, (size_t)r))
			abort();
	} else if (r >= 0) {
		if (r2 != -1 || o2.verdict != CRED_ERROR)
			abort();
	} else if (r2 != -1 || o2.verdict != o.verdict || o2.secret != o.secret) {
		abort();
	}
	check_reason(&o, v, ns, head, len);
	check_reason(&o2, v, ns, head, len);

	/* what is bound, what the head holds */
	unsigned bound = 0, ok = 0;
	for (size_t i = 0; i < ns; i++)
		if (cred_host_matches(&s[i], host, port)) {
			bound |= 1u << i;
			ok |= v[i].expired ? 0 : 1u << i;
		}
	if (cred_set_binds(&set, host, port) != (bound != 0))
		abort();
	unsigned present = present_in_head(&set, head, len, false);
	if (pass && (present & ~bound))
		abort(); /* an unbound placeholder passed on */
	for (size_t i = 0; i < ns; i++)
		if (pass && (bound >> i & 1) && v[i].expired && (s[i].header || (present >> i & 1)))
			abort(); /* an expired secret used */
	if (o.verdict == CRED_NONE && ((size_t)r != len || memcmp(out, head, len)))
		abort();
	for (size_t i = 0; i < ns; i++)
		if (o.verdict == CRED_NONE && (ok >> i & 1) && s[i].header)
			abort(); /* a header to inject, and nothing put in */
	if (o.verdict == CRED_USED) {
		if (o.secret < 0 || (size_t)o.secret >= ns || !(ok >> o.secret & 1) || !well_formed(out, (size_t)r))
			abort();
		/* a bound placeholder left in a header value: only an injected
		 * secret's may stay (it goes in its own header only) */
		unsigned replaced = 0;
		for (size_t i = 0; i < ns; i++)
			replaced |= (ok >> i & 1) && !s[i].header ? 1u << i : 0;
		if (present_in_head(&set, out, (size_t)r, true) & replaced)
			abort();
		/* the client's headers of an injected name are gone: one line
		 * per secret injecting it */
		for (size_t i = 0; i < ns; i++) {
			int want = 0;
			for (size_t k = 0; k < ns; k++)
				want += (ok >> k & 1) && s[k].header && s[i].header && !strcasecmp(s[k].header, s[i].header);
			if (want && header_count(out, (size_t)r, s[i].header) != want)
				abort();
		}
	}
	switch (o.verdict) {
	case CRED_EXFIL:
		if (o.secret < 0 || (size_t)o.secret >= ns || (bound >> o.secret & 1) || !(present >> o.secret & 1))
			abort();
		break;
	case CRED_EXPIRED:
		if (o.secret < 0 || (size_t)o.secret >= ns || !(bound >> o.secret & 1) || !v[o.secret].expired)
			abort();
		break;
	case CRED_RULE:
	case CRED_NONCANONICAL:
		if (o.secret < 0 || (size_t)o.secret >= ns || !(ok >> o.secret & 1) || !s[o.secret].rules.n)
			abort();
		break;
	default:
		break;
	}

	/* cred_find against brute force, on the head and on a piece of it */
	size_t a1 = 0, a2 = 0, cut = len ? (size_t)opt % len : 0;
	ssize_t f1 = cred_find(&set, head, len, &a1), f2 = naive_find(&set, head, len, &a2);
	if (f1 != f2 || (f1 >= 0 && a1 != a2))
		abort();
	f1 = cred_find(&set, head + cut, len - cut, &a1);
	f2 = naive_find(&set, head + cut, len - cut, &a2);
	if (f1 != f2 || (f1 >= 0 && a1 != a2))
		abort();

	/* rules and paths on the request line's method and target */
	const char *sp1 = memchr(head, ' ', len), *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - head)) : NULL;
	if (sp2 && sp2 - sp1 - 1 <= 4096) {
		size_t mn = (size_t)(sp1 - head), tlen = (size_t)(sp2 - sp1 - 1);
		for (size_t i = 0; i < ns; i++)
			if (cred_rule_allows(&s[i], head, mn, sp1 + 1, tlen) != naive_rule(&s[i], head, mn, sp1 + 1, tlen))
				abort();
		if (cred_path_canonical(sp1 + 1, tlen) != naive_canonical(sp1 + 1, tlen))
			abort();
	}
	if (len <= 4096 && cred_path_canonical(head, len) != naive_canonical(head, len))
		abort();

	/* base64: decode the input's tail; what decodes, encodes and decodes
	 * again to the same bytes */
	size_t bn = tn & ~(size_t)3;
	uint8_t *dec = malloc(bn / 4 * 3 + 1), *dec2 = malloc(bn / 4 * 3 + 1);
	char *enc = malloc(bn + 5);
	if (!dec || !dec2 || !enc)
		abort();
	ssize_t d = cred_base64_decode((const char *)data + at, bn, dec);
	if (d >= 0) {
		size_t e = base64_encode(dec, (size_t)d, enc);
		if (e != bn || cred_base64_decode(enc, e, dec2) != d || memcmp(dec, dec2, (size_t)d))
			abort();
	}
	free(dec);
	free(dec2);
	free(enc);

	free(head);
	free(out);
	free(out2);
	for (size_t i = 0; i < ns; i++) {
		al_strlist_clear(&s[i].hosts);
		al_strlist_clear(&s[i].rules);
	}
	return 0;
}
