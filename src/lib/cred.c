/* Just-in-time credentials, the pure part (see cred.h). Everything here
 * runs on bytes from an adversarial client: no allocation, every loop
 * linear in its input (times the number of secrets, at most 64), every
 * write bounded by the caller's buffer. */
#include "cred.h"

#include <stdio.h>
#include <string.h>

/* Decoded Basic credentials are bounded: user:token logins are short, and
 * the decoded bytes live on the stack. */
#define BASIC_MAX 4096
#define BASIC_B64_MAX (BASIC_MAX / 3 * 4)

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

static bool span_ieq(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* RFC 9110 tchar: what a method or a header name is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar(p[i]))
			return false;
	return true;
}

static const char *secret_name(const struct cred_value *v)
{
	return v->s && v->s->name ? v->s->name : "?";
}

/* ---- placeholders --------------------------------------------------------- */

void cred_placeholder(const uint8_t random[16], char out[CRED_PH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, CRED_PREFIX, CRED_PREFIX_LEN);
	for (size_t i = 0; i < 16; i++) {
		out[CRED_PREFIX_LEN + 2 * i] = hex[random[i] >> 4];
		out[CRED_PREFIX_LEN + 2 * i + 1] = hex[random[i] & 15];
	}
	out[CRED_PH_LEN] = '\0';
}

/* The secret whose placeholder has p[0..32) as its hex digits (any case). */
static ssize_t ph_lookup(const struct cred_set *set, const char *p)
{
	char low[32];
	for (size_t i = 0; i < 32; i++) {
		low[i] = ascii_lower(p[i]);
		if (!((low[i] >= '0' && low[i] <= '9') || (low[i] >= 'a' && low[i] <= 'f')))
			return -1;
	}
	for (size_t k = 0; k < set->n; k++) {
		const char *h = set->v[k].placeholder + CRED_PREFIX_LEN;
		size_t i = 0;
		while (i < 32 && ascii_lower(h[i]) == low[i])
			i++;
		if (i == 32)
			return (ssize_t)k;
	}
	return -1;
}

/* The first placeholder of set in p[from..n). The prefix has no border
 * (no proper prefix of it is also a suffix), so its occurrences never
 * overlap and the lookups cost at most n / CRED_PREFIX_LEN times the set:
 * linear. */
static ssize_t ph_find(const struct cred_set *set, const char *p, size_t n, size_t from, size_t *at)
{
	if (n < CRED_PH_LEN)
		return -1;
	for (size_t i = from; i <= n - CRED_PH_LEN; i++) {
		if (ascii_lower(p[i]) != 'a')
			continue;
		size_t j = 1;
		while (j < CRED_PREFIX_LEN && ascii_lower(p[i + j]) == ascii_lower(CRED_PREFIX[j]))
			j++;
		if (j < CRED_PREFIX_LEN)
			continue;
		ssize_t k = ph_lookup(set, p + i + CRED_PREFIX_LEN);
		if (k >= 0) {
			*at = i;
			return k;
		}
	}
	return -1;
}

ssize_t cred_find(const struct cred_set *set, const char *p, size_t n, size_t *at)
{
	return ph_find(set, p, n, 0, at);
}

/* ---- hosts ---------------------------------------------------------------- */

static bool parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool host_entry_matches(const char *e, const char *host, size_t hlen, uint16_t port)
{
	const char *colon = strrchr(e, ':');
	uint16_t eport;
	if (!colon || !parse_port(colon + 1, strlen(colon + 1), &eport) || eport != port)
		return false;
	size_t n = (size_t)(colon - e);
	if (n >= 2 && e[0] == '[' && e[n - 1] == ']') {
		e++;
		n -= 2;
	}
	if (n == 0)
		return false; /* malformed: no name */
	if (n >= 2 && e[0] == '*' && e[1] == '.') {
		/* ".suffix" with at least one character before it: never the
		 * apex itself */
		const char *suffix = e + 1;
		size_t sn = n - 1;
		return hlen > sn && memcmp(host + hlen - sn, suffix, sn) == 0;
	}
	return hlen == n && memcmp(host, e, n) == 0;
}

bool cred_host_matches(const struct cred_secret *s, const char *host, uint16_t port)
{
	if (!s || !host)
		return false;
	size_t hlen = strlen(host);
	for (size_t i = 0; i < s->hosts.n; i++)
		if (host_entry_matches(s->hosts.v[i], host, hlen, port))
			return true;
	return false;
}

bool cred_set_binds(const struct cred_set *set, const char *host, uint16_t port)
{
	for (size_t i = 0; i < set->n; i++)
		if (cred_host_matches(set->v[i].s, host, port))
			return true;
	return false;
}

/* ---- paths and rules ------------------------------------------------------ */

static int hexval(char c)
{
	c = ascii_lower(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "." or "..", also with path parameters after it: Tomcat and Jetty read
 * "/..;/" as "/../". */
static bool dot_segment(const char *seg, size_t n)
{
	const char *semi = memchr(seg, ';', n);
	if (semi)
		n = (size_t)(semi - seg);
	return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

bool cred_path_canonical(const char *path, size_t n)
{
	if (n == 0 || path[0] != '/')
		return false;
	size_t seg = 1;
	for (size_t i = 1; i <= n; i++) {
		if (i == n || path[i] == '/') {
			/* an empty segment only as the last one: "/" and "/a/" */
			if ((i == seg && i < n) || dot_segment(path + seg, i - seg))
				return false;
			seg = i + 1;
			continue;
		}
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
		/* %25 decodes to another escape (%252e -> %2e -> '.'), %u is
		 * IIS's: a server that decodes twice or differently sees
		 * another path than the rules were matched on */
		if (c == '%' && i + 1 < n && (path[i + 1] == 'u' || path[i + 1] == 'U'))
			return false;
		if (c == '%' && i + 2 < n) {
			int hi = hexval(path[i + 1]), lo = hi < 0 ? -1 : hexval(path[i + 2]);
			int v = lo < 0 ? -1 : hi * 16 + lo;
			/* encoded '.', '/', '\\' hide a segment; %00 cuts the
			 * path short in a C server */
			if (v == '.' || v == '/' || v == '\\' || v == 0 || v == '%')
				return false;
		}
	}
	return true;
}

/* '*' any run (including '/'), '?' one character, the rest literal; the
 * whole of s. Backtracks only to the last '*': O(pn * sn) at worst. */
static bool glob_match(const char *pat, size_t pn, const char *s, size_t sn)
{
	size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;
	while (i < sn) {
		if (p < pn && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (p < pn && (pat[p] == '?' || pat[p] == s[i])) {
			p++;
			i++;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (p < pn && pat[p] == '*')
		p++;
	return p == pn;
}

bool cred_rule_allows(const struct cred_secret *s, const char *method, size_t mlen,
		      const char *target, size_t tlen)
{
	if (!s || s->rules.n == 0)
		return true;
	const char *q = memchr(target, '?', tlen);
	size_t plen = q ? (size_t)(q - target) : tlen;
	for (size_t i = 0; i < s->rules.n; i++) {
		const char *r = s->rules.v[i], *sp = strchr(r, ' ');
		if (!sp)
			continue; /* malformed: never matches */
		size_t rm = (size_t)(sp - r);
		if (!(rm == 1 && r[0] == '*') && !(rm == mlen && memcmp(r, method, mlen) == 0))
			continue;
		if (glob_match(sp + 1, strlen(sp + 1), target, plen))
			return true;
	}
	return false;
}

/* ---- base64 --------------------------------------------------------------- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Bits left over beside the padding are ignored, as most servers do: what
 * is searched for placeholders is what the server will read. */
ssize_t cred_base64_decode(const char *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int a = b64val(in[i]), b = b64val(in[i + 1]);
		if (a < 0 || b < 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (last && in[i + 2] == '=' && in[i + 3] == '=')
			break;
		int c = b64val(in[i + 2]);
		if (c < 0)
			return -1;
		out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
		if (last && in[i + 3] == '=')
			break;
		int d = b64val(in[i + 3]);
		if (d < 0)
			return -1;
		out[o++] = (uint8_t)((c & 3) << 6 | d);
	}
	return (ssize_t)o;
}

/* ---- the request head ------------------------------------------------------ */

struct head {
	const char *method, *target;
	size_t mlen, tlen;
	size_t hdr_start, hdr_end; /* header lines, each with its CRLF */
};

struct hline {
	const char *name, *value;
	size_t nlen, vlen;
	size_t end; /* offset after its CRLF */
};

/* The line at pos, without its CRLF; false if it has no CRLF, or a CR or
 * NUL inside. */
static bool line_at(const char *head, size_t len, size_t pos, size_t *n)
{
	const char *lf = memchr(head + pos, '\n', len - pos);
	if (!lf || lf == head + pos || lf[-1] != '\r')
		return false;
	*n = (size_t)(lf - head) - pos - 1;
	return !memchr(head + pos, '\r', *n) && !memchr(head + pos, '\0', *n);
}

/* The header line at pos, validated by parse_head. */
static void header_at(const char *head, size_t len, size_t pos, struct hline *h)
{
	const char *p = head + pos, *lf = memchr(p, '\n', len - pos);
	const char *colon = memchr(p, ':', (size_t)(lf - p));
	h->name = p;
	h->nlen = (size_t)(colon - p);
	h->value = colon + 1;
	while (*h->value == ' ' || *h->value == '\t')
		h->value++;
	h->vlen = (size_t)(lf - 1 - h->value);
	h->end = (size_t)(lf + 1 - head);
}

/* "METHOD SP target SP HTTP/1.1" CRLF, ("Name:" OWS value CRLF)*, CRLF,
 * and nothing after it. */
static bool parse_head(const char *head, size_t len, struct head *h)
{
	size_t n, pos;
	if (!len || !line_at(head, len, 0, &n))
		return false;
	const char *sp1 = memchr(head, ' ', n), *sp2;
	if (!sp1)
		return false;
	h->method = head;
	h->mlen = (size_t)(sp1 - head);
	h->target = sp1 + 1;
	sp2 = memchr(h->target, ' ', n - h->mlen - 1);
	if (!sp2 || !is_token(head, h->mlen))
		return false;
	h->tlen = (size_t)(sp2 - h->target);
	if (!h->tlen || n - (size_t)(sp2 + 1 - head) != 8 || memcmp(sp2 + 1, "HTTP/1.1", 8))
		return false;
	for (size_t i = 0; i < h->tlen; i++)
		if ((unsigned char)h->target[i] <= 0x20 || (unsigned char)h->target[i] >= 0x7f)
			return false;
	pos = h->hdr_start = n + 2;
	for (;;) {
		if (pos >= len || !line_at(head, len, pos, &n))
			return false;
		if (n == 0)
			break;
		const char *colon = memchr(head + pos, ':', n);
		if (!colon || !is_token(head + pos, (size_t)(colon - head - pos)))
			return false;
		pos += n + 2;
	}
	h->hdr_end = pos;
	return pos + 2 == len;
}

/* The base64 token of an "Authorization: Basic <token>" header. */
static bool basic_token(const struct hline *h, const char **tok, size_t *tlen)
{
	const char *v = h->value;
	size_t n = h->vlen, i = 5;
	if (!span_ieq(h->name, h->nlen, "authorization") || n < 6 || !span_ieq(v, 5, "basic") ||
	    v[5] != ' ')
		return false;
	while (i < n && v[i] == ' ')
		i++;
	size_t start = i;
	while (i < n && v[i] != ' ' && v[i] != '\t')
		i++;
	size_t end = i;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i != n || end == start)
		return false;
	*tok = v + start;
	*tlen = end - start;
	return true;
}

/* Decoded Basic credentials of h into buf, or -1 (not Basic, not base64).
 * Too long to decode is -2: refused rather than left unsearched. */
static ssize_t basic_decode(const struct hline *h, uint8_t buf[BASIC_MAX])
{
	const char *tok;
	size_t tlen;
	if (!basic_token(h, &tok, &tlen))
		return -1;
	if (tlen > BASIC_B64_MAX)
		return -2;
	return cred_base64_decode(tok, tlen, buf);
}

/* ---- output --------------------------------------------------------------- */

struct wr {
	char *p;
	size_t cap, len;
	bool over;
};

static void wr_put(struct wr *w, const void *s, size_t n)
{
	if (!n)
		return; /* s may be NULL then (an empty value) */
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void wr_str(struct wr *w, const char *s)
{
	wr_put(w, s, strlen(s));
}

/* base64 written as the bytes come, so that the replaced credentials need
 * no buffer of their own. */
struct b64w {
	uint8_t pend[3];
	size_t n;
};

static void b64_feed(struct wr *w, struct b64w *e, const void *in, size_t n)
{
	const uint8_t *p = in;
	char q[5];
	for (size_t i = 0; i < n && !w->over; i++) {
		e->pend[e->n++] = p[i];
		if (e->n == 3) {
			wr_put(w, q, base64_encode(e->pend, 3, q));
			e->n = 0;
		}
	}
}

static void b64_flush(struct wr *w, struct b64w *e)
{
	char q[5];
	if (e->n)
		wr_put(w, q, base64_encode(e->pend, e->n, q));
	e->n = 0;
}

/* ---- reasons -------------------------------------------------------------- */

/* s[0..n) for a reason: control and non-ASCII bytes as '?', cut to fit buf
 * with "..." when cut. */
static const char *clean(char *buf, size_t size, const char *s, size_t n)
{
	size_t k = 0, max = n < size ? n : size - 4;
	for (; k < max; k++)
		buf[k] = (unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f ? '?' : s[k];
	if (max < n) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

static const char *clean_name(char buf[48], const struct cred_value *v)
{
	const char *s = secret_name(v);
	return clean(buf, 48, s, strlen(s));
}

static const char *clean_host(char buf[96], const char *host, uint16_t port)
{
	char h[72];
	clean(h, sizeof h, host, strlen(host));
	snprintf(buf, 96, strchr(host, ':') ? "[%s]:%u" : "%s:%u", h, (unsigned)port);
	return buf;
}

static int refuse(struct cred_outcome *o, enum cred_verdict v, ssize_t secret)
{
	o->verdict = v;
	o->secret = secret;
	return -1;
}

/* ---- the rewrite ---------------------------------------------------------- */

struct job {
	const struct cred_set *set;
	const char *host;
	uint16_t port;
	const char *head;
	size_t len;
	struct head h;
	uint64_t bound, ok; /* ok: bound and not expired */
	uint64_t present;   /* placeholders anywhere in the head */
	char name[48], where[96]; /* for reasons */
};

/* Every placeholder of the set in p[0..n), overlapping ones included: the
 * secrets present, and the first one of a secret not bound. */
static void scan_present(const struct job *j, const char *p, size_t n, uint64_t *present,
			 ssize_t *unbound)
{
	size_t pos = 0, at;
	ssize_t k;
	while ((k = ph_find(j->set, p, n, pos, &at)) >= 0) {
		*present |= 1ull << k;
		if (*unbound < 0 && !(j->bound >> k & 1))
			*unbound = k;
		pos = at + 1;
	}
}

static void emit(struct wr *w, struct b64w *e, const void *p, size_t n)
{
	if (e)
		b64_feed(w, e, p, n);
	else
		wr_put(w, p, n);
}

/* p[0..n) with every placeholder of an ok secret replaced by its value,
 * raw or into the base64 writer e. A secret that is injected goes in its
 * own header only: put anywhere the client likes, a service could store it
 * where the client can read it back (a metadata header, a content type). */
static void put_replaced(const struct job *j, struct wr *w, struct b64w *e, const char *p, size_t n,
			 uint64_t *used)
{
	size_t pos = 0, at;
	ssize_t k;
	while (!w->over && (k = ph_find(j->set, p, n, pos, &at)) >= 0) {
		if (!(j->ok >> k & 1) || j->set->v[k].s->header) {
			/* refused before it gets here, or injected: passed on as it is */
			emit(w, e, p + pos, at + 1 - pos);
			pos = at + 1;
			continue;
		}
		emit(w, e, p + pos, at - pos);
		emit(w, e, j->set->v[k].value, j->set->v[k].len);
		*used |= 1ull << k;
		pos = at + CRED_PH_LEN;
	}
	emit(w, e, p + pos, n - pos);
}

/* Is h the header of an injecting, ok secret? It is dropped then. */
static bool injected_name(const struct job *j, const struct hline *h)
{
	for (size_t i = 0; i < j->set->n; i++)
		if ((j->ok >> i & 1) && j->set->v[i].s->header &&
		    span_ieq(h->name, h->nlen, j->set->v[i].s->header))
			return true;
	return false;
}

static void write_head(const struct job *j, struct wr *w, uint64_t *used)
{
	uint8_t buf[BASIC_MAX];
	wr_put(w, j->head, j->h.hdr_start);
	for (size_t pos = j->h.hdr_start; pos < j->h.hdr_end;) {
		struct hline h;
		header_at(j->head, j->len, pos, &h);
		size_t line = pos;
		pos = h.end;
		if (injected_name(j, &h))
			continue;
		wr_put(w, j->head + line, (size_t)(h.value - j->head) - line);
		ssize_t dn = basic_decode(&h, buf);
		size_t at;
		if (dn >= 0 && ph_find(j->set, (const char *)buf, (size_t)dn, 0, &at) >= 0) {
			struct b64w e = { { 0 }, 0 };
			wr_str(w, "Basic ");
			put_replaced(j, w, &e, (const char *)buf, (size_t)dn, used);
			b64_flush(w, &e);
		} else {
			put_replaced(j, w, NULL, h.value, h.vlen, used);
		}
		wr_str(w, "\r\n");
	}
	for (size_t i = 0; i < j->set->n; i++) {
		const struct cred_secret *s = j->set->v[i].s;
		if (!(j->ok >> i & 1) || !s->header)
			continue;
		const char *fmt = s->format ? s->format : "{}", *slot = strstr(fmt, "{}");
		wr_str(w, s->header);
		wr_str(w, ": ");
		wr_put(w, fmt, (size_t)(slot - fmt));
		wr_put(w, j->set->v[i].value, j->set->v[i].len);
		wr_str(w, slot + 2);
		wr_str(w, "\r\n");
		*used |= 1ull << i;
	}
	wr_str(w, "\r\n");
}

/* A secret that would be put in a header must make a well-formed one: its
 * value, name and format hold no CR, LF or NUL (header injection). */
static bool secret_writable(const struct cred_value *v)
{
	const struct cred_secret *s = v->s;
	if (v->len && (!v->value || memchr(v->value, '\r', v->len) || memchr(v->value, '\n', v->len) ||
		       memchr(v->value, '\0', v->len)))
		return false;
	if (!s->header)
		return true;
	return is_token(s->header, strlen(s->header)) &&
	       (!s->format || (strstr(s->format, "{}") && !strpbrk(s->format, "\r\n")));
}

/* 1: a placeholder towards a host its secret is not bound to, in the head
 * as it is and inside Basic credentials. Also finds what is present. */
static int check_exfil(struct job *j, struct cred_outcome *o)
{
	uint8_t buf[BASIC_MAX];
	ssize_t unbound = -1;
	scan_present(j, j->head, j->len, &j->present, &unbound);
	for (size_t pos = j->h.hdr_start; pos < j->h.hdr_end;) {
		struct hline h;
		header_at(j->head, j->len, pos, &h);
		pos = h.end;
		ssize_t dn = basic_decode(&h, buf);
		if (dn == -2) {
			snprintf(o->reason, sizeof o->reason, "Basic credentials over %d bytes", BASIC_MAX);
			return -1;
		}
		if (dn >= 0)
			scan_present(j, (const char *)buf, (size_t)dn, &j->present, &unbound);
	}
	if (unbound < 0)
		return 0;
	const char *n = clean_name(j->name, &j->set->v[unbound]);
	snprintf(o->reason, sizeof o->reason,
		 "placeholder of %s sent to %s, which %s is not bound to (exfiltration attempt)", n,
		 clean_host(j->where, j->host, j->port), n);
	return refuse(o, CRED_EXFIL, unbound);
}

/* Would the bound secret i be used: injected, or its placeholder there? */
static bool would_use(const struct job *j, size_t i)
{
	return j->set->v[i].s->header || (j->present >> i & 1);
}

/* 2: expiry, where the secret would be used. */
static int check_expiry(struct job *j, struct cred_outcome *o)
{
	for (size_t i = 0; i < j->set->n; i++) {
		if (!(j->bound >> i & 1) || !j->set->v[i].expired || !would_use(j, i))
			continue;
		snprintf(o->reason, sizeof o->reason, "credential %s has expired",
			 clean_name(j->name, &j->set->v[i]));
		return refuse(o, CRED_EXPIRED, (ssize_t)i);
	}
	return 0;
}

/* 3: the rules of every bound secret, on a path every server reads as the
 * rules do. */
/* Headers by which servers and frameworks take another method or path
 * than the request line's: the rules judge the request line. */
static const char *const override_headers[] = {
	"x-http-method-override", "x-http-method", "x-method-override", "x-original-url",
	"x-rewrite-url", "x-original-method", NULL,
};

static const char *override_header(const struct job *j)
{
	for (size_t pos = j->h.hdr_start; pos < j->h.hdr_end;) {
		struct hline h;
		header_at(j->head, j->len, pos, &h);
		pos = h.end;
		for (size_t k = 0; override_headers[k]; k++)
			if (span_ieq(h.name, h.nlen, override_headers[k]))
				return override_headers[k];
	}
	return NULL;
}

static int check_rules(struct job *j, struct cred_outcome *o)
{
	const char *t = j->h.target, *q = memchr(t, '?', j->h.tlen);
	size_t plen = q ? (size_t)(q - t) : j->h.tlen;
	char path[80], m[24];
	for (size_t i = 0; i < j->set->n; i++) {
		const struct cred_secret *s = j->set->v[i].s;
		if (!(j->ok >> i & 1) || s->rules.n == 0)
			continue;
		const char *ov = override_header(j);
		if (ov) {
			snprintf(o->reason, sizeof o->reason, "header %s could change the method or path that "
				 "credential %s's rules allow", ov, clean_name(j->name, &j->set->v[i]));
			return refuse(o, CRED_RULE, (ssize_t)i);
		}
		if (!cred_path_canonical(t, plen)) {
			snprintf(o->reason, sizeof o->reason,
				 "path %s is not in canonical form; credential %s's rules need one",
				 clean(path, sizeof path, t, plen), clean_name(j->name, &j->set->v[i]));
			return refuse(o, CRED_NONCANONICAL, (ssize_t)i);
		}
		if (!cred_rule_allows(s, j->h.method, j->h.mlen, t, j->h.tlen)) {
			snprintf(o->reason, sizeof o->reason, "%s %s is not allowed for credential %s",
				 clean(m, sizeof m, j->h.method, j->h.mlen),
				 clean(path, sizeof path, t, plen), clean_name(j->name, &j->set->v[i]));
			return refuse(o, CRED_RULE, (ssize_t)i);
		}
	}
	return 0;
}

/* A value that would break the head is never written. */
static int check_writable(struct job *j, struct cred_outcome *o)
{
	for (size_t i = 0; i < j->set->n; i++) {
		if (!(j->ok >> i & 1) || !would_use(j, i) || secret_writable(&j->set->v[i]))
			continue;
		snprintf(o->reason, sizeof o->reason,
			 "credential %s cannot be put in a header "
			 "(CR, LF or NUL in it, or a bad header or format)",
			 clean_name(j->name, &j->set->v[i]));
		return refuse(o, CRED_ERROR, (ssize_t)i);
	}
	return 0;
}

/* 4: the head with the values put in, or a copy when none was. */
static ssize_t rewrite(struct job *j, char *out, size_t cap, struct cred_outcome *o)
{
	struct wr w = { out, cap, 0, false };
	uint64_t used = 0;
	write_head(j, &w, &used);
	if (!used) {
		w.len = 0;
		w.over = false;
		wr_put(&w, j->head, j->len);
	}
	if (w.over) {
		snprintf(o->reason, sizeof o->reason, "the request head does not fit in %zu bytes", cap);
		return -1;
	}
	if (!used) {
		o->verdict = CRED_NONE;
		return (ssize_t)w.len;
	}
	size_t first = (size_t)__builtin_ctzll(used);
	int more = __builtin_popcountll(used) - 1;
	const char *n = clean_name(j->name, &j->set->v[first]);
	clean_host(j->where, j->host, j->port);
	o->verdict = CRED_USED;
	o->secret = (ssize_t)first;
	if (more)
		snprintf(o->reason, sizeof o->reason, "credential %s (and %d more) put in for %s", n, more,
			 j->where);
	else
		snprintf(o->reason, sizeof o->reason, "credential %s put in for %s", n, j->where);
	return (ssize_t)w.len;
}

ssize_t cred_rewrite_head(const struct cred_set *set, const char *host, uint16_t port,
			  const char *head, size_t len, char *out, size_t cap,
			  struct cred_outcome *o)
{
	struct job j = { .set = set, .host = host ? host : "", .port = port, .head = head, .len = len };

	o->verdict = CRED_ERROR;
	o->secret = -1;
	o->reason[0] = '\0';
	if (set->n > CRED_MAX_SECRETS) {
		snprintf(o->reason, sizeof o->reason, "more than %d credentials", CRED_MAX_SECRETS);
		return -1;
	}
	if (!parse_head(head, len, &j.h)) {
		snprintf(o->reason, sizeof o->reason, "malformed request head");
		return -1;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].s && cred_host_matches(set->v[i].s, j.host, port)) {
			j.bound |= 1ull << i;
			if (!set->v[i].expired)
				j.ok |= 1ull << i;
		}
	}
	/* The order is the contract: an exfiltration attempt is reported as
	 * such whatever else is wrong; expiry and rules before anything is
	 * written. */
	if (check_exfil(&j, o) < 0 || check_expiry(&j, o) < 0 || check_rules(&j, o) < 0 ||
	    check_writable(&j, o) < 0)
		return -1;
	return rewrite(&j, out, cap, o);
}
