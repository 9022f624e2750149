/* Reading the audit log: parse its JSON lines, print them for humans
 * (`airlock audit tail`) and count them per agent (`airlock audit summary`).
 *
 * libyaml parses each line (JSON is YAML flow style), then every node of the
 * document is checked to be JSON too: YAML accepts far more (plain words,
 * single quotes, comments), and a line that only YAML would read is not an
 * event our writer produced. Such lines are skipped and counted, never fatal.
 */
#include "audit_read.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- preparing a line for libyaml -------------------------------------- */

static bool hex4(const char *s, size_t avail, unsigned *out)
{
	unsigned v = 0;
	if (avail < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return true;
}

static bool json_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The JSON escape at s (s[0] == '\\'), copied for libyaml to out + *o;
 * returns the bytes of s it took, 0 when it is not a JSON escape (YAML has
 * more: \x41, \e, \N). JSON writes a character above U+FFFF as a UTF-16
 * surrogate pair (Python's json does), which YAML refuses: a pair becomes
 * YAML's \UXXXXXXXX, and a lone surrogate, no character at all, U+FFFD.
 * Neither is longer than what it replaces. */
static size_t copy_escape(const char *s, size_t avail, char *out, size_t *o)
{
	unsigned hi, lo;
	if (avail < 2 || s[1] == '\0' || !strchr("\"\\/bfnrtu", s[1]))
		return 0;
	if (s[1] != 'u') {
		memcpy(out + *o, s, 2);
		*o += 2;
		return 2;
	}
	if (!hex4(s + 2, avail - 2, &hi))
		return 0;
	if (hi < 0xd800 || hi >= 0xe000) {
		memcpy(out + *o, s, 6);
		*o += 6;
		return 6;
	}
	if (hi < 0xdc00 && avail >= 12 && s[6] == '\\' && s[7] == 'u' && hex4(s + 8, avail - 8, &lo) &&
	    lo >= 0xdc00 && lo < 0xe000) {
		char u[11];
		snprintf(u, sizeof u, "\\U%08X", 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
		memcpy(out + *o, u, 10);
		*o += 10;
		return 12;
	}
	memcpy(out + *o, "\\uFFFD", 6);
	*o += 6;
	return 6;
}

/* A copy of the line for libyaml, or NULL (*not_event set) when it cannot be
 * a JSON object: it must start with '{', have only JSON escapes and no raw
 * control characters in strings, no comma before a closing bracket (YAML
 * allows all three), and nest at most AUDIT_MAX_DEPTH deep (libyaml's
 * loader recurses per level). */
static char *prepare_line(const char *line, size_t len, size_t *out_len, bool *not_event)
{
	size_t i = 0, o = 0;
	int depth = 0;
	bool in_string = false;
	char last = '\0'; /* the last character outside strings but blanks */

	*not_event = true;
	while (i < len && json_blank(line[i]))
		i++;
	if (i >= len || line[i] != '{')
		return NULL;
	char *buf = malloc(len + 1);
	if (!buf) {
		*not_event = false;
		return NULL;
	}
	while (i < len) {
		char c = line[i];
		size_t took;
		if (in_string && c == '\\') {
			if (!(took = copy_escape(line + i, len - i, buf, &o)))
				goto not_json;
			i += took;
			continue;
		}
		if (in_string && (unsigned char)c < 0x20)
			goto not_json;
		if (c == '"')
			in_string = !in_string;
		else if (!in_string && (c == '{' || c == '[') && ++depth > AUDIT_MAX_DEPTH)
			goto not_json;
		else if (!in_string && (c == '}' || c == ']')) {
			if (last == ',')
				goto not_json;
			depth--;
		}
		if (!in_string && !json_blank(c))
			last = c;
		buf[o++] = c;
		i++;
	}
	*out_len = o;
	return buf;
not_json:
	free(buf);
	return NULL;
}

/* libyaml stops at the end of the first node; what follows on the line is
 * only seen by a second load. Its marks count characters, not bytes. */
static bool only_blanks_after(const char *buf, size_t len, size_t chars)
{
	size_t i = 0, seen = 0;
	for (; i < len && seen < chars; i++)
		if (((unsigned char)buf[i] & 0xc0) != 0x80)
			seen++;
	while (i < len && ((unsigned char)buf[i] & 0xc0) == 0x80)
		i++;
	for (; i < len; i++)
		if (!json_blank(buf[i]))
			return false;
	return true;
}

/* ---- is the document JSON ----------------------------------------------- */

static bool json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s += strspn(s, "0123456789");
	else
		return false;
	if (*s == '.') {
		size_t n = strspn(++s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		size_t n = strspn(s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	return *s == '\0';
}

static bool is_json_scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	if (n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return true;
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "null") == 0 ||
		json_number(v));
}

/* No explicit tag (!!int "5"): each node has the default of its kind. */
static bool default_tag(const yaml_node_t *n)
{
	const char *want = n->type == YAML_SCALAR_NODE ? YAML_DEFAULT_SCALAR_TAG :
			   n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG : YAML_DEFAULT_MAPPING_TAG;
	return n->tag && strcmp((const char *)n->tag, want) == 0;
}

/* Every node of the document, flat (libyaml keeps them in one array): flow
 * collections, quoted keys, JSON scalars, no tags, and a tree: an alias
 * (*a) is a second reference to a node, which JSON cannot express. A NUL
 * decoded from \u0000 would end the C string early and hide the rest: it
 * becomes '?'. */
static bool document_is_json(yaml_document_t *doc)
{
	size_t refs = 1; /* the root */
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		if (!default_tag(n))
			return false;
		switch (n->type) {
		case YAML_SCALAR_NODE:
			if (!is_json_scalar(n))
				return false;
			for (size_t i = 0; i < n->data.scalar.length; i++)
				if (!n->data.scalar.value[i])
					n->data.scalar.value[i] = '?';
			break;
		case YAML_SEQUENCE_NODE:
			if (n->data.sequence.style != YAML_FLOW_SEQUENCE_STYLE)
				return false;
			refs += (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
			break;
		case YAML_MAPPING_NODE:
			if (n->data.mapping.style != YAML_FLOW_MAPPING_STYLE)
				return false;
			refs += 2 * (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(doc, p->key);
				if (!k || k->type != YAML_SCALAR_NODE ||
				    k->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE)
					return false;
			}
			break;
		default:
			return false;
		}
	}
	return refs == (size_t)(doc->nodes.top - doc->nodes.start);
}

/* ---- fields ------------------------------------------------------------- */

enum field_kind {
	F_TEXT,	  /* const char * */
	F_INT,	  /* int64_t */
	F_UINT,	  /* uint64_t */
	F_BOOL,	  /* bool */
	F_LENGTH, /* uint64_t: the length of an array */
	F_STRV,	  /* struct audit_strv: an array of strings */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;
};

#define FIELD(name, kind, member) { name, kind, offsetof(struct audit_event, member) }
static const struct field fields[] = {
	FIELD("v", F_INT, v),
	FIELD("event", F_TEXT, event),
	FIELD("time", F_TEXT, time),
	FIELD("run", F_TEXT, run),
	FIELD("agent", F_TEXT, agent),
	FIELD("command", F_STRV, command),
	FIELD("host", F_TEXT, host),
	FIELD("port", F_UINT, port),
	FIELD("verdict", F_TEXT, verdict),
	FIELD("rule", F_TEXT, rule),
	FIELD("syscall", F_TEXT, syscall),
	FIELD("count", F_UINT, count),
	FIELD("created", F_LENGTH, created),
	FIELD("modified", F_LENGTH, modified),
	FIELD("deleted", F_LENGTH, deleted),
	FIELD("truncated", F_BOOL, truncated),
	FIELD("memory_bytes", F_UINT, memory_bytes),
	FIELD("memory_limit", F_UINT, memory_limit),
	FIELD("pids", F_UINT, pids),
	FIELD("pids_limit", F_UINT, pids_limit),
	FIELD("cpu_user_ms", F_UINT, cpu_user_ms),
	FIELD("cpu_sys_ms", F_UINT, cpu_sys_ms),
	FIELD("wall_ms", F_UINT, wall_ms),
	FIELD("output_bytes", F_UINT, output_bytes),
	FIELD("exit_reason", F_TEXT, exit_reason),
	FIELD("exit_code", F_INT, exit_code),
	FIELD("term_signal", F_INT, term_signal),
	FIELD("failed", F_BOOL, failed),
	FIELD("violations", F_UINT, violations),
	FIELD("state", F_TEXT, state),
	FIELD("until", F_TEXT, until),
	FIELD("failures", F_UINT, failures),
};

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool is_string(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

/* Whole numbers only: 1.5 or 1e3 in a counter is not something we wrote. */
static bool parse_int(const yaml_node_t *n, bool is_signed, int64_t *s, uint64_t *u)
{
	const char *v = (const char *)n->data.scalar.value;
	char *end;
	if (!is_plain(n) || (!is_signed && *v == '-'))
		return false;
	errno = 0;
	if (is_signed)
		*s = strtoll(v, &end, 10);
	else
		*u = strtoull(v, &end, 10);
	/* durations are written with a fraction ("45.491"): keep the whole part */
	if (!is_signed && errno == 0 && end != v && *end == '.' && end[1] &&
	    strspn(end + 1, "0123456789") == strlen(end + 1))
		return true;
	return errno == 0 && end != v && *end == '\0';
}

/* Returns -1 when out of memory. A value of the wrong type is ignored. */
static int set_field(yaml_document_t *doc, struct audit_event *ev, const struct field *f, yaml_node_t *n)
{
	char *at = (char *)ev + f->offset;
	int64_t s;
	uint64_t u;

	switch (f->kind) {
	case F_TEXT:
		if (is_string(n))
			*(const char **)at = (const char *)n->data.scalar.value;
		break;
	case F_INT:
		if (parse_int(n, true, &s, &u))
			*(int64_t *)at = s;
		break;
	case F_UINT:
		if (parse_int(n, false, &s, &u))
			*(uint64_t *)at = u;
		break;
	case F_BOOL:
		if (is_plain(n))
			*(bool *)at = strcmp((const char *)n->data.scalar.value, "true") == 0;
		break;
	case F_LENGTH:
		if (n->type == YAML_SEQUENCE_NODE)
			*(uint64_t *)at = (uint64_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		break;
	case F_STRV: {
		struct audit_strv *sv = (struct audit_strv *)at;
		if (n->type != YAML_SEQUENCE_NODE)
			break;
		size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		const char **v = calloc(count + 1, sizeof *v);
		if (!v)
			return -1;
		for (size_t i = 0; i < count; i++) {
			yaml_node_t *item = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
			v[i] = item && is_string(item) ? (const char *)item->data.scalar.value : "";
		}
		free(sv->v); /* a repeated key: the last one counts, as for the others */
		sv->v = v;
		sv->n = count;
		break;
	}
	}
	return 0;
}

static void event_reset(struct audit_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->event = ev->time = ev->run = ev->agent = "";
	ev->host = ev->verdict = ev->rule = ev->syscall = "";
	ev->exit_reason = ev->state = ev->until = "";
}

void audit_event_clear(struct audit_event *ev)
{
	if (ev->doc) {
		yaml_document_delete(ev->doc);
		free(ev->doc);
	}
	free(ev->command.v);
	event_reset(ev);
}

static int load_document(const char *buf, size_t len, yaml_document_t *doc)
{
	yaml_parser_t ps;
	if (!yaml_parser_initialize(&ps))
		return -1;
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	int r = yaml_parser_load(&ps, doc) ? 0 : ps.error == YAML_MEMORY_ERROR ? -1 : 1;
	yaml_parser_delete(&ps);
	return r;
}

int audit_event_parse(const char *line, size_t len, struct audit_event *ev)
{
	bool not_event;
	size_t blen = 0;

	event_reset(ev);
	_cleanup_free_ char *buf = prepare_line(line, len, &blen, &not_event);
	if (!buf)
		return not_event ? 1 : -1;
	if (!(ev->doc = malloc(sizeof *ev->doc)))
		return -1;
	int r = load_document(buf, blen, ev->doc);
	if (r != 0) {
		free(ev->doc);
		ev->doc = NULL;
		return r;
	}
	yaml_node_t *root = yaml_document_get_root_node(ev->doc);
	if (!root || root->type != YAML_MAPPING_NODE || !only_blanks_after(buf, blen, root->end_mark.index) ||
	    !document_is_json(ev->doc)) {
		audit_event_clear(ev);
		return 1;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(ev->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(ev->doc, p->value);
		for (size_t i = 0; v && i < sizeof fields / sizeof fields[0]; i++)
			if (strcmp((const char *)k->data.scalar.value, fields[i].name) == 0 &&
			    set_field(ev->doc, ev, &fields[i], v) < 0) {
				audit_event_clear(ev);
				return -1;
			}
	}
	/* Any version: a newer writer's events keep the common fields. */
	if (ev->v < 1 || !*ev->event) {
		audit_event_clear(ev);
		return 1;
	}
	return 0;
}

bool audit_filter_match(const struct audit_filter *f, const struct audit_event *ev)
{
	return !f || ((!f->agent || strcmp(f->agent, ev->agent) == 0) &&
		      (!f->run || strcmp(f->run, ev->run) == 0));
}

/* ---- terminal-safe output ---------------------------------------------- */

/* The code point of the UTF-8 sequence at p (at most avail bytes), its
 * length in *len; -1 when it is not valid UTF-8 (overlong, surrogate, ...). */
static int32_t utf8_decode(const unsigned char *p, size_t avail, size_t *len)
{
	unsigned c = p[0];
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
	if (n == 0 || c > 0xf4 || n > avail)
		return -1;
	uint32_t cp = n == 1 ? c : c & (0xffu >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp < 0xe000) ||
	    cp > 0x10ffff)
		return -1;
	*len = n;
	return (int32_t)cp;
}

/* ESC and CSI (0x9b, C1) start terminal sequences: retitling the window,
 * rewriting earlier lines, on some terminals answering with input. Bidi
 * overrides and line separators make a line read other than it is. */
static bool unsafe_code_point(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* out NULL: only count the columns. */
static size_t put_safe_n(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0, i = 0;
	while (i < len) {
		size_t n = 1;
		int32_t cp = utf8_decode(p + i, len - i, &n);
		if (out && (cp < 0 || unsafe_code_point(cp)))
			fputc('?', out);
		else if (out)
			fwrite(p + i, 1, n, out);
		i += cp < 0 ? 1 : n;
		cols++;
	}
	return cols;
}

size_t audit_put_safe(FILE *out, const char *s)
{
	return put_safe_n(out, s, strlen(s));
}

static size_t safe_width(const char *s)
{
	return put_safe_n(NULL, s, strlen(s));
}

/* An empty field shows as "-": columns stay countable. */
static void put_field(FILE *out, const char *s)
{
	if (*s)
		audit_put_safe(out, s);
	else
		fputc('-', out);
}

/* A command argument as a shell would need it, so arguments with spaces
 * stay visibly apart: 'a b', 'it'\''s'. */
static void put_arg(FILE *out, const char *a)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%^";
	if (*a && a[strspn(a, plain)] == '\0') {
		fputs(a, out);
		return;
	}
	fputc('\'', out);
	for (const char *q; (q = strchr(a, '\'')); a = q + 1) {
		put_safe_n(out, a, (size_t)(q - a));
		fputs("'\\''", out);
	}
	audit_put_safe(out, a);
	fputc('\'', out);
}

static void put_bytes(FILE *out, uint64_t b)
{
	static const char units[] = "KMGTPE";
	double v = (double)b;
	int u = -1;
	if (b < 1024) {
		fprintf(out, "%" PRIu64 "B", b);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 10)
		fprintf(out, "%.1f%c", v, units[u]);
	else
		fprintf(out, "%.0f%c", v, units[u]);
}

static void put_ms(FILE *out, uint64_t ms)
{
	if (ms < 1000)
		fprintf(out, "%" PRIu64 "ms", ms);
	else
		fprintf(out, "%.2fs", (double)ms / 1000);
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- one readable line per event --------------------------------------- */

static void print_run_start(const struct audit_event *ev, FILE *out)
{
	for (size_t i = 0; i < ev->command.n; i++) {
		if (i)
			fputc(' ', out);
		put_arg(out, ev->command.v[i]);
	}
}

static void print_egress(const struct audit_event *ev, FILE *out)
{
	put_field(out, ev->verdict);
	fputc(' ', out);
	bool v6 = strchr(ev->host, ':') != NULL; /* an IPv6 literal */
	fputs(v6 ? "[" : "", out);
	put_field(out, ev->host);
	fprintf(out, "%s:%" PRIu64, v6 ? "]" : "", ev->port);
	if (*ev->rule) {
		fputs(" (", out);
		audit_put_safe(out, ev->rule);
		fputc(')', out);
	}
}

static void print_syscall_denied(const struct audit_event *ev, FILE *out)
{
	put_field(out, ev->syscall);
	fprintf(out, " refused %" PRIu64 " time%s", ev->count, plural(ev->count));
}

static void print_file_changes(const struct audit_event *ev, FILE *out)
{
	fprintf(out, "%" PRIu64 " created, %" PRIu64 " modified, %" PRIu64 " deleted%s", ev->created,
		ev->modified, ev->deleted, ev->truncated ? ", truncated" : "");
}

static void print_resource_peak(const struct audit_event *ev, FILE *out)
{
	fputs("memory ", out);
	put_bytes(out, ev->memory_bytes);
	if (ev->memory_limit) {
		fputs(" of ", out);
		put_bytes(out, ev->memory_limit);
	}
	fprintf(out, ", pids %" PRIu64, ev->pids);
	if (ev->pids_limit)
		fprintf(out, " of %" PRIu64, ev->pids_limit);
	fputs(", cpu ", out);
	put_ms(out, ev->cpu_user_ms + ev->cpu_sys_ms);
	fputs(", wall ", out);
	put_ms(out, ev->wall_ms);
	if (ev->output_bytes) {
		fputs(", output ", out);
		put_bytes(out, ev->output_bytes);
	}
}

static void print_run_end(const struct audit_event *ev, FILE *out)
{
	put_field(out, ev->exit_reason);
	fprintf(out, " %" PRId64, ev->exit_code);
	if (ev->term_signal > 0)
		fprintf(out, " (signal %" PRId64 ")", ev->term_signal);
	fprintf(out, ", %" PRIu64 " violation%s%s", ev->violations, plural(ev->violations),
		ev->failed ? ", failed" : "");
}

static void print_breaker(const struct audit_event *ev, FILE *out)
{
	put_field(out, ev->state);
	fprintf(out, ": %" PRIu64 " violation%s, %" PRIu64 " failure%s", ev->violations,
		plural(ev->violations), ev->failures, plural(ev->failures));
	if (*ev->until) {
		fputs(", until ", out);
		audit_put_safe(out, ev->until);
	}
}

static const struct {
	const char *event;
	void (*print)(const struct audit_event *ev, FILE *out);
} printers[] = {
	{ "run_start", print_run_start },
	{ "egress", print_egress },
	{ "syscall_denied", print_syscall_denied },
	{ "file_changes", print_file_changes },
	{ "resource_peak", print_resource_peak },
	{ "run_end", print_run_end },
	{ "breaker", print_breaker },
};

#define EVENT_COLUMN 14 /* strlen("syscall_denied"): the details line up */

void audit_event_print(const struct audit_event *ev, FILE *out)
{
	put_field(out, ev->time);
	fputc(' ', out);
	put_field(out, ev->agent);
	fputc(' ', out);
	put_field(out, ev->run);
	fputc(' ', out);
	size_t w = audit_put_safe(out, ev->event);
	/* An event type of a newer writer: its name alone. */
	for (size_t i = 0; i < sizeof printers / sizeof printers[0]; i++)
		if (strcmp(ev->event, printers[i].event) == 0) {
			fprintf(out, "%*s", (int)(w < EVENT_COLUMN ? EVENT_COLUMN - w + 1 : 1), "");
			printers[i].print(ev, out);
		}
	fputc('\n', out);
}

/* ---- reading the log ---------------------------------------------------- */

typedef int event_fn(void *arg, const struct audit_event *ev, const char *raw, size_t raw_len);

static size_t without_newline(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	return len;
}

/* Call fn for every event that f matches; raw is the line as read, newline
 * included; fn fails only for want of memory. Blank lines are not counted
 * as skipped: they carry nothing. */
static int read_log(FILE *in, const struct audit_filter *f, event_fn *fn, void *arg, size_t *skipped,
		    al_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	*skipped = 0;
	while (r == 0 && (n = getline(&line, &cap, in)) >= 0) {
		size_t len = without_newline(line, (size_t)n);
		struct audit_event ev;
		if (strspn(line, " \t") >= len)
			continue;
		int p = audit_event_parse(line, len, &ev);
		if (p < 0)
			r = al_err(err, ENOMEM, "out of memory");
		else if (p > 0)
			(*skipped)++;
		else if (audit_filter_match(f, &ev) && fn(arg, &ev, line, (size_t)n) < 0)
			r = al_err(err, ENOMEM, "out of memory");
		if (p == 0)
			audit_event_clear(&ev);
	}
	free(line);
	if (r == 0 && (ferror(in) || !feof(in)))
		r = al_errno(err, "reading");
	return r;
}

static int finish_output(FILE *out, size_t skipped, al_error *err)
{
	if (fflush(out) != 0 || ferror(out))
		return al_errno(err, "writing");
	return skipped > INT_MAX ? INT_MAX : (int)skipped;
}

/* ---- tail --------------------------------------------------------------- */

struct raw_line {
	char *s;
	size_t len;
};

/* The last last_n lines: a ring that grows up to last_n, then wraps (so
 * -n 1000000 on a short log costs only what the log holds). */
struct tail {
	FILE *out;
	bool json;
	size_t last_n;
	struct raw_line *ring;
	size_t cap, n, next; /* next: the oldest, once the ring is full */
};

static void put_raw(FILE *out, const char *raw, size_t len)
{
	fwrite(raw, 1, len, out);
	if (!len || raw[len - 1] != '\n')
		fputc('\n', out);
}

static int keep_line(struct tail *t, const char *raw, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, raw, len);
	copy[len] = '\0';
	if (t->n < t->last_n) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			cap = cap < t->last_n ? cap : t->last_n;
			struct raw_line *nr = realloc(t->ring, cap * sizeof *nr);
			if (!nr) {
				free(copy);
				return -1;
			}
			t->ring = nr;
			t->cap = cap;
		}
		t->ring[t->n++] = (struct raw_line){ copy, len };
		return 0;
	}
	free(t->ring[t->next].s);
	t->ring[t->next] = (struct raw_line){ copy, len };
	t->next = (t->next + 1) % t->last_n;
	return 0;
}

static int tail_event(void *arg, const struct audit_event *ev, const char *raw, size_t raw_len)
{
	struct tail *t = arg;
	if (t->last_n)
		return keep_line(t, raw, raw_len);
	if (t->json)
		put_raw(t->out, raw, raw_len);
	else
		audit_event_print(ev, t->out);
	return 0;
}

/* The kept lines were events when read: parsed again only to print them. */
static int tail_flush(struct tail *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct raw_line *l = &t->ring[(t->next + i) % t->n];
		struct audit_event ev;
		if (t->json) {
			put_raw(t->out, l->s, l->len);
			continue;
		}
		if (audit_event_parse(l->s, without_newline(l->s, l->len), &ev) < 0)
			return -1;
		audit_event_print(&ev, t->out);
		audit_event_clear(&ev);
	}
	return 0;
}

int audit_tail(FILE *in, FILE *out, const struct audit_filter *f, bool json, size_t last_n,
	       al_error *err)
{
	struct tail t = { .out = out, .json = json, .last_n = last_n };
	size_t skipped;
	int r = read_log(in, f, tail_event, &t, &skipped, err);
	if (r == 0 && tail_flush(&t) < 0)
		r = al_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < t.n; i++)
		free(t.ring[i].s);
	free(t.ring);
	if (r < 0)
		return -1;
	return finish_output(out, skipped, err);
}

/* ---- summary ------------------------------------------------------------ */

struct agent_stats {
	char *agent;
	uint64_t runs, unfinished, failures, violations, egress_denied, syscalls_refused, breaker_trips;
	char *first_run, *last_run; /* times of run_start; NULL if none */
};

/* A run_start or run_end, matched up by run id once the log is read: the
 * ends of runs come long after their starts, interleaved with other runs. */
struct run_mark {
	char *run;
	size_t agent;
	bool end;
};

struct summary {
	struct agent_stats *agents;
	size_t n_agents, last; /* last: the agent of the previous event, a likely hit */
	struct run_mark *marks;
	size_t n_marks, cap_marks;
};

static struct agent_stats *agent_of(struct summary *s, const char *agent)
{
	if (s->last < s->n_agents && strcmp(s->agents[s->last].agent, agent) == 0)
		return &s->agents[s->last];
	for (size_t i = 0; i < s->n_agents; i++)
		if (strcmp(s->agents[i].agent, agent) == 0)
			return &s->agents[s->last = i];
	struct agent_stats *na = realloc(s->agents, (s->n_agents + 1) * sizeof *na);
	if (!na)
		return NULL;
	s->agents = na;
	na[s->n_agents] = (struct agent_stats){ .agent = strdup(agent) };
	if (!na[s->n_agents].agent)
		return NULL;
	return &s->agents[s->last = s->n_agents++];
}

static int add_mark(struct summary *s, const char *run, size_t agent, bool end)
{
	if (!*run) /* no id: nothing to match it with */
		return 0;
	if (s->n_marks == s->cap_marks) {
		size_t cap = s->cap_marks ? s->cap_marks * 2 : 256;
		struct run_mark *nm = realloc(s->marks, cap * sizeof *nm);
		if (!nm)
			return -1;
		s->marks = nm;
		s->cap_marks = cap;
	}
	char *id = strdup(run);
	if (!id)
		return -1;
	s->marks[s->n_marks++] = (struct run_mark){ id, agent, end };
	return 0;
}

/* Keep the earliest and latest: RFC 3339 UTC times of one format sort as text. */
static int note_time(char **first, char **last, const char *time)
{
	if (!*time)
		return 0;
	if (!*first || strcmp(time, *first) < 0) {
		char *d = strdup(time);
		if (!d)
			return -1;
		free(*first);
		*first = d;
	}
	if (!*last || strcmp(time, *last) > 0) {
		char *d = strdup(time);
		if (!d)
			return -1;
		free(*last);
		*last = d;
	}
	return 0;
}

static int summary_event(void *arg, const struct audit_event *ev, const char *raw, size_t raw_len)
{
	struct summary *s = arg;
	struct agent_stats *a = agent_of(s, ev->agent);
	if (!a)
		return -1;
	size_t idx = (size_t)(a - s->agents);
	if (strcmp(ev->event, "run_start") == 0) {
		a->runs++;
		if (note_time(&a->first_run, &a->last_run, ev->time) < 0)
			return -1;
		return add_mark(s, ev->run, idx, false);
	}
	if (strcmp(ev->event, "run_end") == 0) {
		a->failures += ev->failed;
		a->violations += ev->violations;
		return add_mark(s, ev->run, idx, true);
	}
	if (strcmp(ev->event, "egress") == 0)
		a->egress_denied += strcmp(ev->verdict, "deny") == 0;
	else if (strcmp(ev->event, "syscall_denied") == 0)
		a->syscalls_refused += ev->count;
	else if (strcmp(ev->event, "breaker") == 0)
		a->breaker_trips += strcmp(ev->state, "tripped") == 0;
	return 0;
}

static int by_run(const void *a, const void *b)
{
	const struct run_mark *x = a, *y = b;
	int c = strcmp(x->run, y->run);
	return c ? c : (int)x->end - (int)y->end;
}

static int by_agent(const void *a, const void *b)
{
	return strcmp(((const struct agent_stats *)a)->agent, ((const struct agent_stats *)b)->agent);
}

/* Sorted by run id, a run's start comes before its end: a group without an
 * end is a run that never finished (in this file: a log rotated mid-run
 * holds its end in the newer file). */
static void count_unfinished(struct summary *s)
{
	if (s->n_marks)
		qsort(s->marks, s->n_marks, sizeof *s->marks, by_run);
	for (size_t i = 0; i < s->n_marks;) {
		size_t j = i;
		bool ended = false;
		while (j < s->n_marks && strcmp(s->marks[j].run, s->marks[i].run) == 0)
			ended |= s->marks[j++].end;
		if (!s->marks[i].end && !ended)
			s->agents[s->marks[i].agent].unfinished++;
		i = j;
	}
}

static void put_json_time(FILE *out, const char *t)
{
	if (t)
		json_write_string(out, t);
	else
		fputs("null", out);
}

static void summary_json(const struct summary *s, FILE *out)
{
	fputs("{\"agents\":[", out);
	for (size_t i = 0; i < s->n_agents; i++) {
		const struct agent_stats *a = &s->agents[i];
		fputs(i ? ",{\"agent\":" : "{\"agent\":", out);
		json_write_string(out, a->agent);
		fprintf(out,
			",\"runs\":%" PRIu64 ",\"unfinished\":%" PRIu64 ",\"failures\":%" PRIu64
			",\"violations\":%" PRIu64 ",\"egress_denied\":%" PRIu64
			",\"syscalls_refused\":%" PRIu64 ",\"breaker_trips\":%" PRIu64 ",\"first_run\":",
			a->runs, a->unfinished, a->failures, a->violations, a->egress_denied,
			a->syscalls_refused, a->breaker_trips);
		put_json_time(out, a->first_run);
		fputs(",\"last_run\":", out);
		put_json_time(out, a->last_run);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* The table: the agent, N_COUNTS numbers, two times. */
#define N_COUNTS 7
enum { COL_AGENT, COL_FIRST_COUNT, COL_FIRST_RUN = COL_FIRST_COUNT + N_COUNTS, COL_LAST_RUN, N_COLS };
static const char *const col_title[N_COLS] = {
	"agent", "runs", "unfinished", "failures", "violations", "egress denied", "syscalls refused",
	"breaker trips", "first run", "last run",
};

/* Left-aligned text pads after, numbers pad before: columns line up. */
static void put_cell(FILE *out, const char *text, size_t width, bool right, bool last)
{
	size_t w = safe_width(text), pad = width > w ? width - w : 0;
	if (right)
		fprintf(out, "%*s", (int)pad, "");
	audit_put_safe(out, text);
	if (!right && !last) /* no trailing blanks */
		fprintf(out, "%*s", (int)pad, "");
	fputs(last ? "\n" : "  ", out);
}

static void row_cells(const struct agent_stats *a, char num[N_COUNTS][24], const char *cell[N_COLS])
{
	const uint64_t v[N_COUNTS] = { a->runs, a->unfinished, a->failures, a->violations,
				a->egress_denied, a->syscalls_refused, a->breaker_trips };
	cell[COL_AGENT] = *a->agent ? a->agent : "-";
	for (int c = 0; c < N_COUNTS; c++) {
		snprintf(num[c], sizeof num[c], "%" PRIu64, v[c]);
		cell[COL_FIRST_COUNT + c] = num[c];
	}
	cell[COL_FIRST_RUN] = a->first_run ? a->first_run : "-";
	cell[COL_LAST_RUN] = a->last_run ? a->last_run : "-";
}

static void summary_table(const struct summary *s, FILE *out)
{
	size_t width[N_COLS];
	char num[N_COUNTS][24];
	const char *cell[N_COLS];

	if (!s->n_agents) {
		fputs("no audit events\n", out);
		return;
	}
	for (int c = 0; c < N_COLS; c++)
		width[c] = strlen(col_title[c]);
	for (size_t i = 0; i < s->n_agents; i++) {
		row_cells(&s->agents[i], num, cell);
		for (int c = 0; c < N_COLS; c++) {
			size_t w = safe_width(cell[c]);
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t i = 0; i <= s->n_agents; i++) { /* the titles, then a row per agent */
		if (i)
			row_cells(&s->agents[i - 1], num, cell);
		for (int c = 0; c < N_COLS; c++)
			put_cell(out, i ? cell[c] : col_title[c], width[c],
				 c >= COL_FIRST_COUNT && c < COL_FIRST_RUN, c == N_COLS - 1);
	}
}

static void summary_free(struct summary *s)
{
	for (size_t i = 0; i < s->n_agents; i++) {
		free(s->agents[i].agent);
		free(s->agents[i].first_run);
		free(s->agents[i].last_run);
	}
	free(s->agents);
	for (size_t i = 0; i < s->n_marks; i++)
		free(s->marks[i].run);
	free(s->marks);
}

int audit_summary(FILE *in, FILE *out, const struct audit_filter *f, bool json, al_error *err)
{
	struct summary s = { 0 };
	size_t skipped;
	int r = read_log(in, f, summary_event, &s, &skipped, err);
	if (r == 0) {
		count_unfinished(&s);
		if (s.n_agents)
			qsort(s.agents, s.n_agents, sizeof *s.agents, by_agent);
		if (json)
			summary_json(&s, out);
		else
			summary_table(&s, out);
	}
	summary_free(&s);
	if (r < 0)
		return -1;
	return finish_output(out, skipped, err);
}

FILE *audit_open(const char *path, al_error *err)
{
	if (strcmp(path, "-") == 0)
		return stdin;
	FILE *f = fopen(path, "re");
	if (!f)
		al_errno(err, "%s", path);
	return f;
}
