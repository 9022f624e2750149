/* The policy: strict defaults, the YAML/JSON loader, command-line overrides,
 * and the canonical JSON form with its digest.
 *
 * Loading is the "configure" half of configure-then-apply: it has no side
 * effects, and either the whole file applies or none of it does. The file is
 * read into a scratch copy of the policy, every problem is collected as
 * "FILE:LINE: FIELD: what is wrong", and only a clean pass is committed.
 *
 * The schema is a tree of field tables ({key, handler, ...}). One walker
 * checks keys (unknown, duplicate) and the shape of values; handlers check
 * the values themselves. Command-line overrides are fed through the same
 * handlers as a one-node document, so `--memory -3G` and `memory_limit: -3G`
 * are refused by the same code in the same words.
 */
#include "alert.h"
#include "cred.h"
#include "egress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define POLICY_MAX_BYTES (1u << 20)
/* libyaml builds whatever depth it is given; our schema needs 5 levels. */
#define POLICY_MAX_DEPTH 32
#define PATH_BUF 256	 /* a field path in a message: "filesystem.host_mounts[3].target" */
#define VALUE_SHOWN 48	 /* a user's value is echoed up to this many chars */
#define MAX_CLAIMS 64	 /* distinct stored fields; there are about 20 */
#define MAX_KEYS 32	 /* keys of the largest table, chained ones included */
#define KEY_SUGGEST_MAX 64
/* init.c passes a mount bitmask in an int: keep well below 31. */
#define MAX_MOUNTS 16
#define ENV_VALUE_MAX 32768
#define DEFAULT_HOSTNAME "airlock"
#define NOWHERE SIZE_MAX /* a number field that is checked but not stored */
#define OFF(member) offsetof(struct al_policy, member)

/* ---- defaults, copy, clear ------------------------------------------------ */

/* Files an agent should never see even in a directory it was given: keys,
 * cloud and registry credentials, dotenv files. */
static const char *const default_deny[] = {
	".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*",
	".ssh", ".aws", ".gnupg", ".netrc", ".git-credentials", ".docker/config.json",
};
static const char *const default_env_allow[] = { "TERM", "LANG", "LC_ALL", "TZ" };

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* p is taken as empty (its old contents are not freed). The prototype has no
 * way to report a failed allocation: al_policy_new checks defaults_complete. */
void policy_set_defaults(struct al_policy *p)
{
	*p = (struct al_policy){
		.workspace_writable = true,
		.workspace_size = 256ull << 20,
		.tmp_size = 64ull << 20,
		.net_mode = AL_NET_NONE,
		.net_max_connections = 64,
		.net_connect_timeout_ms = 10 * 1000,
		.net_idle_timeout_ms = 300 * 1000,
		.net_request_timeout_ms = 10 * 1000,
		.out_entropy_bits = 4.5,
		.audit_max_size = 100ull << 20,
		.audit_keep = 5,
		.breaker = { .window_ms = 10 * 60 * 1000, .cooldown_ms = 30 * 60 * 1000 },
		.cpu_millis = 1000,
		.memory_bytes = 512ull << 20,
		.pids = 128,
		.timeout_ms = 300 * 1000,
		.kill_grace_ms = 2000,
		.open_files = 1024,
		.file_size = 1ull << 30,
		.output_limit = 16ull << 20,
		.hostname = strdup(DEFAULT_HOSTNAME),
	};
	for (size_t i = 0; i < ARRAY_LEN(default_deny); i++)
		al_strlist_add(&p->deny, default_deny[i]);
	for (size_t i = 0; i < ARRAY_LEN(default_env_allow); i++)
		al_strlist_add(&p->env_allow, default_env_allow[i]);
}

static bool defaults_complete(const struct al_policy *p)
{
	return p->hostname && p->deny.n == ARRAY_LEN(default_deny) &&
	       p->env_allow.n == ARRAY_LEN(default_env_allow);
}

static void cred_secret_clear(struct cred_secret *c);

void policy_clear(struct al_policy *p)
{
	free(p->root);
	free(p->workspace);
	for (size_t i = 0; i < p->n_mounts; i++) {
		free(p->mounts[i].source);
		free(p->mounts[i].target);
	}
	free(p->mounts);
	al_strlist_clear(&p->deny);
	al_strlist_clear(&p->env_allow);
	al_strlist_clear(&p->env_set);
	al_strlist_clear(&p->syscalls_deny);
	al_strlist_clear(&p->syscalls_allow);
	al_strlist_clear(&p->egress_allow);
	al_strlist_clear(&p->egress_deny);
	al_strlist_clear(&p->net_hosts);
	for (size_t i = 0; i < p->n_rate_limits; i++)
		free(p->rate_limits[i].host);
	free(p->rate_limits);
	free(p->hostname);
	free(p->audit_log);
	free(p->audit_agent);
	free(p->audit_state_dir);
	al_strlist_clear(&p->copy_out);
	free(p->copy_to);
	for (size_t i = 0; i < p->n_alerts; i++) {
		free(p->alerts[i].exec);
		free(p->alerts[i].webhook);
	}
	free(p->alerts);
	for (size_t i = 0; i < p->n_secrets; i++)
		cred_secret_clear(&p->secrets[i]);
	free(p->secrets);
	memset(p, 0, sizeof *p);
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
}

static void cred_secret_clear(struct cred_secret *c)
{
	free(c->name);
	free(c->from);
	free(c->header);
	free(c->format);
	al_strlist_clear(&c->hosts);
	al_strlist_clear(&c->rules);
	memset(c, 0, sizeof *c);
}

/* The copies of one element of each array in a policy: every pointer in
 * *d its own or NULL, even when a copy fails half-way. */
static int copy_secret(void *dp, const void *sp)
{
	struct cred_secret *d = dp;
	const struct cred_secret *c = sp;
	*d = (struct cred_secret){ .ttl_ms = c->ttl_ms };
	if (dup_or_null(&d->name, c->name) < 0 || dup_or_null(&d->from, c->from) < 0 ||
	    dup_or_null(&d->header, c->header) < 0 || dup_or_null(&d->format, c->format) < 0 ||
	    al_strlist_copy(&d->hosts, &c->hosts) < 0 || al_strlist_copy(&d->rules, &c->rules) < 0)
		return -1;
	return 0;
}

static int copy_alert(void *dp, const void *sp)
{
	struct alert_rule *d = dp;
	const struct alert_rule *a = sp;
	*d = *a;
	d->exec = d->webhook = NULL;
	return dup_or_null(&d->exec, a->exec) < 0 || dup_or_null(&d->webhook, a->webhook) < 0 ? -1 : 0;
}

static int copy_rate_limit(void *dp, const void *sp)
{
	struct al_rate_limit *d = dp;
	const struct al_rate_limit *r = sp;
	*d = *r;
	return (d->host = strdup(r->host)) ? 0 : -1;
}

static int copy_mount(void *dp, const void *sp)
{
	struct al_mount *d = dp;
	const struct al_mount *m = sp;
	*d = (struct al_mount){ .writable = m->writable };
	return dup_or_null(&d->source, m->source) < 0 || dup_or_null(&d->target, m->target) < 0 ? -1 : 0;
}

/* n elements of size sz into a new array *out, each by copy_one. *made
 * counts the elements begun, a half-made one included, so that
 * policy_clear frees all that was allocated. 0, or -1 (out of memory). */
static int copy_array(void **out, size_t *made, const void *src, size_t n, size_t sz,
		      int (*copy_one)(void *d, const void *s))
{
	*out = NULL;
	*made = 0;
	if (!n)
		return 0;
	if (!(*out = calloc(n, sz)))
		return -1;
	while (*made < n) {
		size_t i = (*made)++;
		if (copy_one((char *)*out + i * sz, (const char *)src + i * sz) < 0)
			return -1;
	}
	return 0;
}

#define COPY_ARRAY(dst, src, field, n_field, fn)                                                   \
	({                                                                                         \
		void *v_;                                                                          \
		int r_ = copy_array(&v_, &(dst)->n_field, (src)->field, (src)->n_field,             \
				    sizeof *(src)->field, fn);                                      \
		(dst)->field = v_;                                                                 \
		r_;                                                                                \
	})

int policy_copy(struct al_policy *dst, const struct al_policy *src)
{
	*dst = *src;
	/* nothing of src's is owned by dst until copied below (policy_clear
	 * on the way out frees what is there) */
	dst->root = dst->workspace = dst->hostname = NULL;
	dst->deny = dst->env_allow = dst->env_set = (struct al_strlist){ 0 };
	dst->syscalls_deny = dst->syscalls_allow = (struct al_strlist){ 0 };
	dst->egress_allow = dst->egress_deny = dst->net_hosts = (struct al_strlist){ 0 };
	dst->audit_log = dst->audit_agent = dst->audit_state_dir = NULL;
	dst->copy_out = (struct al_strlist){ 0 };
	dst->copy_to = NULL;
	dst->mounts = NULL;
	dst->rate_limits = NULL;
	dst->alerts = NULL;
	dst->secrets = NULL;
	dst->n_mounts = dst->n_rate_limits = dst->n_alerts = dst->n_secrets = 0;
	if (COPY_ARRAY(dst, src, secrets, n_secrets, copy_secret) < 0 ||
	    COPY_ARRAY(dst, src, alerts, n_alerts, copy_alert) < 0 ||
	    COPY_ARRAY(dst, src, rate_limits, n_rate_limits, copy_rate_limit) < 0 ||
	    COPY_ARRAY(dst, src, mounts, n_mounts, copy_mount) < 0)
		goto fail;
	if (dup_or_null(&dst->audit_log, src->audit_log) < 0 ||
	    dup_or_null(&dst->audit_agent, src->audit_agent) < 0 ||
	    dup_or_null(&dst->audit_state_dir, src->audit_state_dir) < 0 ||
	    dup_or_null(&dst->copy_to, src->copy_to) < 0 || al_strlist_copy(&dst->copy_out, &src->copy_out) < 0 ||
	    dup_or_null(&dst->root, src->root) < 0 || dup_or_null(&dst->workspace, src->workspace) < 0 ||
	    dup_or_null(&dst->hostname, src->hostname) < 0 ||
	    al_strlist_copy(&dst->deny, &src->deny) < 0 ||
	    al_strlist_copy(&dst->env_allow, &src->env_allow) < 0 ||
	    al_strlist_copy(&dst->env_set, &src->env_set) < 0 ||
	    al_strlist_copy(&dst->syscalls_deny, &src->syscalls_deny) < 0 ||
	    al_strlist_copy(&dst->syscalls_allow, &src->syscalls_allow) < 0 ||
	    al_strlist_copy(&dst->egress_allow, &src->egress_allow) < 0 ||
	    al_strlist_copy(&dst->egress_deny, &src->egress_deny) < 0 ||
	    al_strlist_copy(&dst->net_hosts, &src->net_hosts) < 0)
		goto fail;
	return 0;
fail:
	policy_clear(dst);
	return -1;
}

AL_API al_policy *al_policy_new(void)
{
	struct al_policy *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	policy_set_defaults(p);
	if (!defaults_complete(p)) {
		al_policy_free(p);
		return NULL;
	}
	return p;
}

AL_API void al_policy_free(al_policy *p)
{
	if (!p)
		return;
	policy_clear(p);
	free(p);
}

/* Add s to a list used as a set (names, patterns): a repeat is no error. */
static int strset_add(struct al_strlist *l, const char *s)
{
	return al_strlist_contains(l, s) ? 0 : al_strlist_add(l, s);
}

/* ---- the loader and its messages ----------------------------------------- */

struct mount_draft {
	char *source, *target;
	int writable;	/* -1 = not given: read-only */
	int mode_keys;	/* "mode" and "read_only" both given is a mistake */
};

struct loader {
	yaml_document_t *doc;
	const char *name;     /* "FILE" of "FILE:LINE: ..." */
	const char *origin;   /* overrides: "--memory" replaces "FILE:LINE" */
	const char *base_dir; /* relative host paths resolve here (NULL: the cwd) */
	char *cwd;
	struct al_policy scratch;
	struct al_policy *p;  /* == &scratch */
	struct {
		char canon[64], path[PATH_BUF];
		size_t line;
	} claims[MAX_CLAIMS];
	size_t n_claims;
	struct al_strlist env_names; /* env.set names given in this load */
	struct mount_draft mount;    /* the host mount being read */
	size_t net_none_line;	     /* network.mode: none was given here (0 = not) */
	bool egress_given;	     /* an allow entry was given in this load */
	size_t cred_none_line;	     /* credentials.mode: none was given here (0 = not) */
	size_t secrets_line;	     /* the first secret given in this load */
	size_t copy_out_line;	     /* the first output.copy_out entry given in this load */
	char msg[sizeof ((al_error *)0)->msg];
	size_t len;
	bool full;
	unsigned n_problems, n_dropped;
};

#define TAIL_ROOM 40 /* "\n(12345 more problems not shown)" */

__attribute__((format(printf, 4, 0)))
static void vproblem_at(struct loader *l, size_t line, const char *field, const char *fmt, va_list ap)
{
	char what[512], entry[sizeof l->msg];
	const char *sep = field ? ": " : "";

	l->n_problems++;
	if (l->full) {
		l->n_dropped++;
		return;
	}
	vsnprintf(what, sizeof what, fmt, ap);
	field = field ? field : "";
	if (l->origin)
		snprintf(entry, sizeof entry, "%s: %s%s%s", l->origin, field, sep, what);
	else if (line)
		snprintf(entry, sizeof entry, "%s:%zu: %s%s%s", l->name, line, field, sep, what);
	else
		snprintf(entry, sizeof entry, "%s: %s%s%s", l->name, field, sep, what);
	/* One problem per line: a value with a newline must not forge another. */
	for (char *c = entry; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	size_t n = strlen(entry);
	if (!l->len && n + TAIL_ROOM >= sizeof l->msg)
		entry[n = sizeof l->msg - TAIL_ROOM - 1] = '\0';
	if (l->len + n + 1 + TAIL_ROOM > sizeof l->msg) {
		l->full = true;
		l->n_dropped++;
		return;
	}
	if (l->len)
		l->msg[l->len++] = '\n';
	memcpy(l->msg + l->len, entry, n + 1);
	l->len += n;
}

__attribute__((format(printf, 4, 5)))
static void problem_at(struct loader *l, size_t line, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem_at(l, line, field, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static void problem(struct loader *l, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem_at(l, n->start_mark.line + 1, *path ? path : "policy", fmt, ap);
	va_end(ap);
}

static void out_of_memory(struct loader *l, const yaml_node_t *n, const char *path)
{
	problem(l, n, path, "out of memory");
}

/* A user's value, cut short for a message. buf has VALUE_SHOWN bytes. */
static const char *shown(char *buf, const char *s)
{
	if (strlen(s) < VALUE_SHOWN)
		return s;
	snprintf(buf, VALUE_SHOWN, "%.*s...", VALUE_SHOWN - 4, s);
	return buf;
}
#define SHOWN(s) shown((char[VALUE_SHOWN]){ 0 }, (s))

static void loader_begin(struct loader *l, const struct al_policy *p)
{
	l->p = &l->scratch;
	if (policy_copy(&l->scratch, p) < 0)
		problem_at(l, 0, NULL, "out of memory");
}

static bool valid_env_name(const char *s);

/* Secrets only make sense with a gateway that can put them in, and must not
 * reach the sandbox some other way. */
static void check_credentials(struct loader *l)
{
	struct al_policy *p = &l->scratch;
	if (!p->n_secrets)
		return;
	if (l->cred_none_line && l->secrets_line) {
		problem_at(l, l->cred_none_line, "credentials.mode",
			   "'none' contradicts the secrets given; use mode: just_in_time");
		return;
	}
	p->cred_jit = true;
	if (p->net_mode != AL_NET_GATEWAY)
		problem_at(l, l->secrets_line, "credentials.secrets",
			   "secrets are injected by the egress gateway: set network.mode: gateway and allow "
			   "their hosts in network.egress_allowlist");
	for (size_t i = 0; i < p->n_secrets; i++) {
		const struct cred_secret *c = &p->secrets[i];
		if (c->from && !strncmp(c->from, "env:", 4) && al_strlist_contains(&p->env_allow, c->from + 4))
			problem_at(l, l->secrets_line, "process.env.allow",
				   "'%s' would pass the real value of secret %s into the sandbox; remove it",
				   c->from + 4, c->name);
		if (al_strlist_contains(&p->env_allow, c->name))
			problem_at(l, l->secrets_line, "process.env.allow",
				   "'%s' is a secret: the sandbox gets its placeholder; remove it from env.allow",
				   c->name);
	}
}

/* Commit the scratch policy if nothing was wrong, else report everything. */
static int loader_finish(struct loader *l, struct al_policy *p, al_error *err)
{
	al_strlist_clear(&l->env_names);
	free(l->cwd);
	/* An allowlist asks for the gateway; next to an explicit "none" it is
	 * a contradiction, not something to resolve by document order. */
	if (l->egress_given && l->net_none_line)
		problem_at(l, l->net_none_line, "network.mode",
			   "'none' contradicts the egress allowlist given; use mode: gateway");
	else if (l->egress_given)
		l->scratch.net_mode = AL_NET_GATEWAY;
	l->scratch.breaker_on = l->scratch.breaker.max_violations || l->scratch.breaker.max_failures;
	check_credentials(l);
	if (l->scratch.copy_out.n && !l->scratch.copy_to)
		problem_at(l, l->copy_out_line, "output.copy_out",
			   "needs output.copy_to (the host directory the files go to)");
	if (l->scratch.breaker_on && !l->scratch.audit_agent)
		problem_at(l, 0, "audit.circuit_breaker", "needs audit.agent (the identity it counts for)");
	if (l->egress_given && l->net_none_line)
		; /* reported above */
	else if (l->net_none_line)
		/* "none" on top of an earlier allowlist (a second file, --net
		 * none): no network, and an effective policy that says so whole */
		al_strlist_clear(&l->scratch.egress_allow);
	if (!l->n_problems) {
		policy_clear(p);
		*p = l->scratch;
		return 0;
	}
	policy_clear(&l->scratch);
	if (l->n_dropped)
		snprintf(l->msg + l->len, sizeof l->msg - l->len, "\n(%u more problem%s not shown)",
			 l->n_dropped, l->n_dropped == 1 ? "" : "s");
	return al_err(err, 0, "%s", l->msg);
}

/* ---- nodes ---------------------------------------------------------------- */

enum scalar_kind { S_NULL, S_FALSE, S_TRUE, S_TEXT };

static bool word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* YAML 1.2 core schema for plain scalars; quoted ones are always text. The
 * capitalised forms cover Python dicts pasted as YAML (True, False). */
static enum scalar_kind scalar_kind(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	const char *s = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return S_TEXT;
	if (word_in(s, nulls))
		return S_NULL;
	if (word_in(s, trues))
		return S_TRUE;
	if (word_in(s, falses))
		return S_FALSE;
	return S_TEXT;
}

static const char *describe(char *buf, const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	switch (scalar_kind(n)) {
	case S_NULL:
		return "nothing";
	case S_TEXT:
		snprintf(buf, VALUE_SHOWN + 2, "'%s'", SHOWN((const char *)n->data.scalar.value));
		return buf;
	default:
		return "a boolean";
	}
}
#define GOT(n) describe((char[VALUE_SHOWN + 2]){ 0 }, (n))

static yaml_node_t *node_at(struct loader *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

/* The text of a string or number scalar, or NULL after saying why not. */
static const char *need_text(struct loader *l, yaml_node_t *n, const char *path, const char *expected)
{
	if (n->type != YAML_SCALAR_NODE || scalar_kind(n) == S_TRUE || scalar_kind(n) == S_FALSE) {
		problem(l, n, path, "expected %s, got %s", expected, GOT(n));
		return NULL;
	}
	if (scalar_kind(n) == S_NULL) {
		problem(l, n, path, "missing value (expected %s)", expected);
		return NULL;
	}
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length) {
		problem(l, n, path, "contains a NUL byte");
		return NULL;
	}
	return s;
}

static bool need_bool(struct loader *l, yaml_node_t *n, const char *path, bool *out)
{
	enum scalar_kind k = n->type == YAML_SCALAR_NODE ? scalar_kind(n) : S_TEXT;
	if (n->type != YAML_SCALAR_NODE || (k != S_TRUE && k != S_FALSE)) {
		problem(l, n, path, "expected true or false, got %s", GOT(n));
		return false;
	}
	*out = k == S_TRUE;
	return true;
}

/* 1: a collection of that type; 0: null (an empty section or list); -1: wrong. */
static int need_collection(struct loader *l, yaml_node_t *n, const char *path, yaml_node_type_t type)
{
	if (n->type == type)
		return 1;
	if (n->type == YAML_SCALAR_NODE && scalar_kind(n) == S_NULL)
		return 0;
	problem(l, n, path, "expected %s, got %s", type == YAML_MAPPING_NODE ? "a mapping" : "a list",
		GOT(n));
	return -1;
}

static bool has_key(struct loader *l, const yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node_at(l, pr->key);
		if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return true;
	}
	return false;
}

/* ---- the schema walker ---------------------------------------------------- */

struct field;
typedef void handler_fn(struct loader *l, yaml_node_t *n, const char *path, const struct field *f);

struct choice {
	const char *word;
	int value;
	const char *refuse; /* a known word that is refused, and why */
};

struct numkind {
	const char *what;
	int (*parse)(const char *s, uint64_t *out, const char **why);
	void (*fmt)(char *buf, size_t len, uint64_t v);
	bool json_number; /* written as a JSON number, not as "512M" */
};

struct field {
	const char *key;
	handler_fn *parse;
	handler_fn *item;	 /* lists: one element */
	const struct field *sub; /* sections: their keys; at a table's end: more keys */
	bool list;		 /* an override appends one element */
	size_t max_items;
	size_t off;		 /* where the value goes in al_policy, or NOWHERE */
	const struct numkind *kind;
	uint64_t min, max;
	const struct choice *choices;
	void (*store)(struct loader *l, int value);
	const char *help;  /* choices: what is accepted */
	const char *what;  /* refused features: the missing piece */
	const char *canon; /* the policy value an alias key sets */
	/* NAME=VALUE keys: store one assignment */
	void (*assign)(struct loader *l, yaml_node_t *n, const char *path, const char *name,
		       const char *value);
	const char *value_what; /* ... and what a value is */
};

static const struct field *lookup(const struct field *t, const char *key)
{
	while (t) {
		const struct field *f;
		for (f = t; f->key; f++)
			if (strcmp(f->key, key) == 0)
				return f;
		t = f->sub;
	}
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[KEY_SUGGEST_MAX + 1];
	if (la > KEY_SUGGEST_MAX || lb > KEY_SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(struct loader *l, yaml_node_t *k, const char *path, const char *key,
			const struct field *table)
{
	const char *best = NULL;
	size_t best_d = 3, len = 0;
	char known[256] = "";

	if (l->full) { /* the message is complete: spare the search */
		problem(l, k, path, "unknown key");
		return;
	}
	for (const struct field *t = table; t;) {
		const struct field *f;
		for (f = t; f->key; f++) {
			size_t d = edit_distance(key, f->key);
			if (d < best_d && 2 * d < strlen(key)) {
				best_d = d;
				best = f->key;
			}
			if (len < sizeof known)
				len += (size_t)snprintf(known + len, sizeof known - len, "%s%s",
							len ? ", " : "", f->key);
		}
		t = f->sub;
	}
	if (best)
		problem(l, k, path, "unknown key; did you mean '%s'?", best);
	else
		problem(l, k, path, "unknown key; expected one of: %s", known);
}

static void join_path(char *out, const char *path, const char *key)
{
	snprintf(out, PATH_BUF, *path ? "%s.%s" : "%s%s", path, key);
}

/* No depth guard is needed here: the walk only descends through the field
 * tables, which are a few levels deep, so even an alias that points back to
 * its own ancestor (`a: &x {b: *x}`) ends when the tables do. */
static void walk_mapping(struct loader *l, yaml_node_t *n, const char *path, const struct field *table)
{
	struct {
		const struct field *f;
		size_t line;
	} seen[MAX_KEYS];
	size_t n_seen = 0;

	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(l, pr->key), *v = node_at(l, pr->value);
		const char *key = need_text(l, k, path, "a key name");
		char child[PATH_BUF];
		size_t i;
		if (!key)
			continue;
		join_path(child, path, key);
		const struct field *f = lookup(table, key);
		if (!f) {
			unknown_key(l, k, child, key, table);
			continue;
		}
		for (i = 0; i < n_seen && seen[i].f != f; i++)
			;
		if (i < n_seen) {
			problem(l, k, child, "duplicate key (first at line %zu)", seen[i].line);
			continue;
		}
		if (n_seen < MAX_KEYS) {
			seen[n_seen].f = f;
			seen[n_seen++].line = k->start_mark.line + 1;
		}
		f->parse(l, v, child, f);
	}
}

/* One key may set a value another already set (output.max_bytes and
 * resources.output_limit; a section both at the top and in sandbox_config).
 * Rather than let document order decide, that is an error. */
static bool claim(struct loader *l, const yaml_node_t *n, const char *path, const char *canon)
{
	static const char wrapper[] = "sandbox_config.";
	if (!canon)
		canon = strncmp(path, wrapper, sizeof wrapper - 1) ? path : path + sizeof wrapper - 1;
	for (size_t i = 0; i < l->n_claims; i++) {
		if (strcmp(l->claims[i].canon, canon) != 0)
			continue;
		problem(l, n, path, "also set by %s at line %zu", l->claims[i].path, l->claims[i].line);
		return false;
	}
	if (l->n_claims < MAX_CLAIMS) {
		snprintf(l->claims[l->n_claims].canon, sizeof l->claims[0].canon, "%s", canon);
		snprintf(l->claims[l->n_claims].path, PATH_BUF, "%s", path);
		l->claims[l->n_claims++].line = n->start_mark.line + 1;
	}
	return true;
}

static void parse_section(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	if (need_collection(l, n, path, YAML_MAPPING_NODE) > 0)
		walk_mapping(l, n, path, f->sub);
}

/* Check the list and each element; returns how many elements it has. */
static size_t list_items(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	if (need_collection(l, n, path, YAML_SEQUENCE_NODE) <= 0)
		return 0;
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > f->max_items) {
		problem(l, n, path, "%zu entries; at most %zu are allowed", count, f->max_items);
		return 0;
	}
	for (size_t i = 0; f->item && i < count; i++) {
		char child[PATH_BUF];
		/* An override appends one element: its index would mislead. */
		snprintf(child, sizeof child, l->origin ? "%s" : "%s[%zu]", path, i);
		f->item(l, node_at(l, n->data.sequence.items.start[i]), child, f);
	}
	return count;
}

static void parse_list(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	list_items(l, n, path, f);
}

/* ---- numbers -------------------------------------------------------------- */

static int parse_count(const char *s, uint64_t *out, const char **why)
{
	uint64_t v = 0;
	if (*s == '-')
		return *why = "negative number", -1;
	if (!*s)
		return *why = "not a whole number", -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return *why = "not a whole number", -1;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return *why = "number too large", -1;
	}
	*out = v;
	return 0;
}

static void fmt_count(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
}

/* The largest unit that divides v exactly: 536870912 -> "512M". */
static void fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "PTGMK";
	for (int i = 0; v && i < 5; i++) {
		unsigned shift = 10u * (5u - (unsigned)i);
		if (v % (1ull << shift) == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", v >> shift, units[i]);
			return;
		}
	}
	fmt_count(buf, len, v);
}

static void fmt_duration(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };
	for (size_t i = 0; ms && i < ARRAY_LEN(units); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms, units[i].unit);
			return;
		}
	snprintf(buf, len, "%" PRIu64 "ms", ms);
}

static void fmt_cpu(char *buf, size_t len, uint64_t millis)
{
	if (millis % 1000 == 0)
		snprintf(buf, len, "%" PRIu64, millis / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "m", millis);
}

static const struct numkind K_SIZE = { "a size such as 512M or 4Gi", parse_size, fmt_size, false };
static const struct numkind K_DURATION = { "a duration such as 30, 30s or 5m", parse_duration_ms,
					   fmt_duration, false };
static const struct numkind K_CPU = { "a CPU count such as 2, 0.5 or 500m", parse_cpu_millis,
				      fmt_cpu, false };
static const struct numkind K_COUNT = { "a whole number", parse_count, fmt_count, true };

static uint64_t *u64_at(struct al_policy *p, size_t off)
{
	return (uint64_t *)((char *)p + off);
}

static void set_number(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, f->kind->what), *why;
	char bound[32];
	uint64_t v;

	if (!s)
		return;
	if (f->kind->parse(s, &v, &why) < 0) {
		bool hint = strncmp(why, "invalid", 7) == 0 && f->kind != &K_COUNT;
		problem(l, n, path, "%s '%s'%s%s%s", why, SHOWN(s), hint ? " (expected " : "",
			hint ? f->kind->what : "", hint ? ")" : "");
		return;
	}
	if (v < f->min || v > f->max) {
		f->kind->fmt(bound, sizeof bound, v < f->min ? f->min : f->max);
		problem(l, n, path, "'%s' is %s %s", SHOWN(s), v < f->min ? "below the minimum of" :
			"above the maximum of", bound);
		return;
	}
	if (f->off != NOWHERE && claim(l, n, path, f->canon))
		*u64_at(l->p, f->off) = v;
}

/* resources.swap: the sandbox never swaps; saying so is fine, asking otherwise is not. */
static void set_swap(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	uint64_t v = 1;
	const char *why;
	if (n->type == YAML_SCALAR_NODE && scalar_kind(n) == S_FALSE)
		return;
	if (n->type == YAML_SCALAR_NODE && scalar_kind(n) == S_TEXT &&
	    parse_size((const char *)n->data.scalar.value, &v, &why) == 0 && v == 0)
		return;
	problem(l, n, path, "swap is always off; only 0 or false is accepted");
}

/* ---- words ---------------------------------------------------------------- */

static bool match_choice(struct loader *l, yaml_node_t *n, const char *path, const struct field *f,
			 int *value)
{
	const char *s = need_text(l, n, path, f->help);
	const struct choice *c;
	if (!s)
		return false;
	for (c = f->choices; c->word && strcasecmp(c->word, s) != 0; c++)
		;
	if (!c->word) {
		problem(l, n, path, "unknown value '%s'; expected %s", SHOWN(s), f->help);
		return false;
	}
	if (c->refuse) {
		problem(l, n, path, "'%s' %s", SHOWN(s), c->refuse);
		return false;
	}
	*value = c->value;
	return true;
}

static void set_choice(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	int v;
	if (match_choice(l, n, path, f, &v) && f->store && claim(l, n, path, f->canon))
		f->store(l, v);
}

static void store_writable(struct loader *l, int v) { l->p->workspace_writable = v; }
static void set_net_mode(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	int v;
	if (!match_choice(l, n, path, f, &v) || !claim(l, n, path, NULL))
		return;
	l->p->net_mode = (enum al_net_mode)v;
	l->net_none_line = v == AL_NET_NONE ? n->start_mark.line + 1 : 0;
}

/* A feature airlock does not have yet: false (off) is the only honest value. */
static void set_off_only(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	bool on;
	if (need_bool(l, n, path, &on) && on)
		problem(l, n, path, "not supported yet (%s); set it to false", f->what);
}

static void set_version(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "1");
	if (s && strcmp(s, "1") != 0)
		problem(l, n, path, "unsupported version '%s'; this airlock reads version 1", SHOWN(s));
}

/* ---- names ---------------------------------------------------------------- */

/* RFC 1123 label: letters, digits, '-' inside, 1..63 chars. */
static bool valid_label(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '-' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
			return false;
	return true;
}

static bool valid_env_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
	return n && !s[n] && n <= 255 && !(s[0] >= '0' && s[0] <= '9');
}

/* Claim the field and keep a copy of s in *slot. */
static void store_text(struct loader *l, yaml_node_t *n, const char *path, char **slot, const char *s)
{
	char *v;
	if (!claim(l, n, path, NULL))
		return;
	if (!(v = strdup(s))) {
		out_of_memory(l, n, path);
		return;
	}
	free(*slot);
	*slot = v;
}

static void set_hostname(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a hostname");
	if (!s)
		return;
	if (!valid_label(s, strlen(s))) {
		problem(l, n, path, "invalid hostname '%s' (1-63 letters, digits and inner '-')", SHOWN(s));
		return;
	}
	store_text(l, n, path, &l->p->hostname, s);
}

/* network.egress_allowlist / egress_denylist / network_policy.allow */
static void add_egress(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "HOST:PORT"), *why;
	struct egress_entry e;
	bool deny = f->off == OFF(egress_deny);
	if (!s)
		return;
	if (egress_parse_entry(s, true, &e, &why) < 0) {
		problem(l, n, path, "%s in '%s'",
			why, SHOWN(s));
		return;
	}
	if (strset_add(deny ? &l->p->egress_deny : &l->p->egress_allow, e.text) < 0)
		out_of_memory(l, n, path);
	if (!deny)
		l->egress_given = true;
}

/* The value node under `key` in a mapping, or NULL. */
static yaml_node_t *map_value(struct loader *l, const yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node_at(l, pr->key);
		if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return node_at(l, pr->value);
	}
	return NULL;
}

/* The keys of a mapping that is one list entry: each known (keys, NULL-
 * ended, and named in the message), each once. */
static void check_keys(struct loader *l, yaml_node_t *n, const char *path, const char *const *keys)
{
	size_t seen_line[16] = { 0 };
	char shown[256] = "";
	for (size_t i = 0, len = 0; keys[i] && len < sizeof shown; i++)
		len += (size_t)snprintf(shown + len, sizeof shown - len, "%s%s", i ? ", " : "", keys[i]);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(l, pr->key);
		const char *key = need_text(l, k, path, "a key name");
		char child[PATH_BUF];
		size_t i;
		if (!key)
			continue;
		join_path(child, path, key);
		for (i = 0; keys[i] && strcmp(keys[i], key) != 0; i++)
			;
		if (!keys[i])
			problem(l, k, child, "unknown key; expected one of: %s", shown);
		else if (i < 16 && seen_line[i])
			problem(l, k, child, "duplicate key (first at line %zu)", seen_line[i]);
		else if (i < 16)
			seen_line[i] = k->start_mark.line + 1;
	}
}

static void add_rate_limit(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	static const char *const keys[] = { "host", "requests_per_minute", "bytes_per_minute", NULL };
	struct al_rate_limit r = { 0 };
	struct egress_entry e;
	const char *why;
	unsigned before = l->n_problems;
	if (n->type != YAML_MAPPING_NODE) {
		problem(l, n, path, "expected a mapping {host, requests_per_minute, bytes_per_minute}, got %s",
			GOT(n));
		return;
	}
	check_keys(l, n, path, keys);
	yaml_node_t *h = map_value(l, n, "host"), *rq = map_value(l, n, "requests_per_minute"),
		    *by = map_value(l, n, "bytes_per_minute");
	char child[PATH_BUF];
	const char *s;
	if (!h)
		problem(l, n, path, "missing 'host'");
	if (!rq && !by)
		problem(l, n, path, "needs requests_per_minute or bytes_per_minute");
	join_path(child, path, "host");
	if (h && (s = need_text(l, h, child, "a host name or pattern")) &&
	    egress_parse_entry(s, false, &e, &why) < 0)
		problem(l, h, child, "%s in '%s'", why, SHOWN(s));
	join_path(child, path, "requests_per_minute");
	if (rq && (s = need_text(l, rq, child, "a whole number")) &&
	    (parse_count(s, &r.rpm, &why) < 0 || r.rpm < 1 || r.rpm > 1000000000))
		problem(l, rq, child, "'%s': expected a whole number from 1 to 1000000000", SHOWN(s));
	join_path(child, path, "bytes_per_minute");
	if (by && (s = need_text(l, by, child, "a size such as 50M")) &&
	    (parse_size(s, &r.bpm, &why) < 0 || r.bpm < 1))
		problem(l, by, child, "'%s': expected a size such as 50M", SHOWN(s));
	if (l->n_problems != before)
		return;
	for (size_t i = 0; i < l->p->n_rate_limits; i++) {
		const struct al_rate_limit *o = &l->p->rate_limits[i];
		if (strcmp(o->host, e.text) == 0 && o->rpm == r.rpm && o->bpm == r.bpm)
			return; /* the same limit again (a policy loaded twice) */
	}
	if (l->p->n_rate_limits >= EGRESS_MAX_RATES) {
		problem(l, n, path, "more than %d rate limits", EGRESS_MAX_RATES);
		return;
	}
	struct al_rate_limit *v = realloc(l->p->rate_limits, (l->p->n_rate_limits + 1) * sizeof *v);
	if (!v || !(r.host = strdup(e.text))) {
		if (v)
			l->p->rate_limits = v;
		out_of_memory(l, n, path);
		return;
	}
	l->p->rate_limits = v;
	v[l->p->n_rate_limits++] = r;
}

/* network.hosts: NAME=ADDRESS, the gateway's own /etc/hosts. */
static void put_host(struct loader *l, yaml_node_t *n, const char *path, const char *name,
		     const char *addr)
{
	struct egress_entry e;
	struct sockaddr_storage ss;
	const char *why;
	char *kv;
	if (egress_parse_entry(name, false, &e, &why) < 0 || e.kind != EG_NAME) {
		problem(l, n, path, "invalid host name '%s'", SHOWN(name));
		return;
	}
	char canon[INET6_ADDRSTRLEN];
	if (!egress_parse_ip(addr, &ss)) {
		problem(l, n, path, "'%s' is not an IPv4 or IPv6 address", SHOWN(addr));
		return;
	}
	inet_ntop(ss.ss_family,
		  ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
					  : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
		  canon, sizeof canon);
	if (asprintf(&kv, "%s=%s", e.name, canon) < 0) {
		out_of_memory(l, n, path);
		return;
	}
	struct al_strlist *hosts = &l->p->net_hosts;
	size_t nlen = strlen(e.name);
	for (size_t i = 0; i < hosts->n; i++)
		if (strncmp(hosts->v[i], kv, nlen + 1) == 0) { /* a later value replaces */
			free(hosts->v[i]);
			hosts->v[i] = kv;
			return;
		}
	if (al_strlist_add(hosts, kv) < 0)
		out_of_memory(l, n, path);
	free(kv);
}


static void add_env_name(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a variable name");
	if (!s)
		return;
	if (!valid_env_name(s))
		problem(l, n, path, "invalid variable name '%s' (letters, digits, _; not starting with a digit)",
			SHOWN(s));
	else if (strset_add(&l->p->env_allow, s) < 0)
		out_of_memory(l, n, path);
}

/* Set NAME=value, replacing what an earlier policy or override set. */
static void env_put(struct loader *l, yaml_node_t *n, const char *path, const char *name,
		    const char *value)
{
	struct al_strlist *env = &l->p->env_set;
	size_t nlen = strlen(name);
	char *entry;

	if (!valid_env_name(name)) {
		problem(l, n, path, "invalid variable name '%s' (letters, digits, _; not starting with a digit)",
			SHOWN(name));
		return;
	}
	if (al_strlist_contains(&l->env_names, name)) {
		problem(l, n, path, "'%s' is set twice", name);
		return;
	}
	if (strlen(value) > ENV_VALUE_MAX) {
		problem(l, n, path, "value longer than %d bytes", ENV_VALUE_MAX);
		return;
	}
	if (asprintf(&entry, "%s=%s", name, value) < 0 || al_strlist_add(&l->env_names, name) < 0) {
		out_of_memory(l, n, path);
		return;
	}
	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], entry, nlen + 1) == 0) {
			free(env->v[i]);
			env->v[i] = entry;
			return;
		}
	if (al_strlist_add(env, entry) < 0)
		out_of_memory(l, n, path);
	free(entry);
}

/* The value of NAME: value. A boolean is kept as written ("true"). */
static const char *assigned_value(struct loader *l, yaml_node_t *n, const char *path, const char *hint,
				  const char *expected)
{
	if (n->type == YAML_SCALAR_NODE && scalar_kind(n) == S_NULL) {
		problem(l, n, path, "missing value%s%s%s", hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		return NULL;
	}
	if (n->type == YAML_SCALAR_NODE && scalar_kind(n) != S_TEXT)
		return (const char *)n->data.scalar.value;
	return need_text(l, n, path, expected);
}

/* One "NAME=VALUE" (a list element, or an override), handed to f->assign. */
static void parse_assignment(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, f->help), *eq;
	char name[256];
	if (!s)
		return;
	eq = strchr(s, '=');
	if (!eq || eq == s || (size_t)(eq - s) >= sizeof name) {
		problem(l, n, path, "expected %s, got '%s'", f->help, SHOWN(s));
		return;
	}
	memcpy(name, s, (size_t)(eq - s));
	name[eq - s] = '\0';
	f->assign(l, n, path, name, eq + 1);
}

/* A mapping {NAME: value}, or a list of "NAME=VALUE" (the docker-compose
 * spellings): process.env.set, network.hosts. */
static void parse_assignments(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	if (n->type == YAML_SEQUENCE_NODE) {
		list_items(l, n, path, f);
		return;
	}
	if (need_collection(l, n, path, YAML_MAPPING_NODE) <= 0)
		return;
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count > f->max_items) {
		problem(l, n, path, "%zu entries; at most %zu are allowed", count, f->max_items);
		return;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_at(l, pr->key), *v = node_at(l, pr->value);
		const char *name = need_text(l, k, path, "a name"), *value;
		char child[PATH_BUF];
		if (!name)
			continue;
		join_path(child, path, name);
		if ((value = assigned_value(l, v, child, f->what, f->value_what)))
			f->assign(l, k, child, name, value);
	}
}

static void add_syscall(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a syscall name");
	bool deny = f->off == OFF(syscalls_deny);
	struct al_strlist *mine = deny ? &l->p->syscalls_deny : &l->p->syscalls_allow;
	struct al_strlist *other = deny ? &l->p->syscalls_allow : &l->p->syscalls_deny;
	size_t len;

	if (!s)
		return;
	len = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (!len || s[len] || len > 63)
		problem(l, n, path, "invalid syscall name '%s' (lower-case letters, digits, _)", SHOWN(s));
	else if (al_strlist_contains(other, s))
		problem(l, n, path, "'%s' is also in process.syscalls.%s", s, deny ? "allow" : "deny");
	else if (strset_add(mine, s) < 0)
		out_of_memory(l, n, path);
}

static void add_deny(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a gitignore-style pattern");
	if (!s)
		return;
	if (s[0] == '!')
		problem(l, n, path, "negated pattern '%s': the deny list can only grow", SHOWN(s));
	else if (strlen(s) >= PATH_MAX)
		problem(l, n, path, "pattern longer than %d bytes", PATH_MAX - 1);
	else if (strset_add(&l->p->deny, s) < 0)
		out_of_memory(l, n, path);
}

/* ---- paths ---------------------------------------------------------------- */

/* Lexically tidy an absolute path: collapse "//", drop "." and a trailing
 * "/". ".." stays: only the kernel can resolve it (symlinks). */
static void tidy_path(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		while (*r == '/')
			r++;
		const char *end = strchrnul(r, '/');
		size_t len = (size_t)(end - r);
		if (len && !(len == 1 && r[0] == '.')) {
			*w++ = '/';
			memmove(w, r, len);
			w += len;
		}
		r = end;
	}
	if (w == s)
		*w++ = '/';
	*w = '\0';
}

static bool has_dotdot(const char *s)
{
	for (const char *c = strstr(s, ".."); c; c = strstr(c + 1, ".."))
		if (c[-1] == '/' && (c[2] == '/' || !c[2]))
			return true;
	return false;
}

static const char *loader_cwd(struct loader *l)
{
	if (!l->cwd)
		l->cwd = getcwd(NULL, 0);
	return l->cwd;
}

/* A host path: absolute, or relative to the policy file's directory (to the
 * current directory for buffers and overrides). Returns it tidied, malloc'd. */
static char *host_path(struct loader *l, yaml_node_t *n, const char *path, const char *s)
{
	const char *cwd = "", *base = "";
	char *v;

	if (s[0] == '~') {
		problem(l, n, path, "'~' is not expanded; write the full path");
		return NULL;
	}
	if (s[0] != '/') {
		base = l->base_dir ? l->base_dir : "";
		if (base[0] != '/' && !(cwd = loader_cwd(l))) {
			problem(l, n, path, "cannot resolve relative path '%s': %s", SHOWN(s), strerror(errno));
			return NULL;
		}
	}
	if (asprintf(&v, "%s/%s/%s", cwd, base, s) < 0) {
		out_of_memory(l, n, path);
		return NULL;
	}
	tidy_path(v);
	if (strlen(v) >= PATH_MAX) {
		problem(l, n, path, "path longer than %d bytes", PATH_MAX - 1);
		free(v);
		return NULL;
	}
	return v;
}

static void set_root(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "an absolute path");
	char *v;
	if (!s)
		return;
	if (s[0] != '/') {
		problem(l, n, path, "must be an absolute path, got '%s'",
			SHOWN(s));
		return;
	}
	if (!(v = host_path(l, n, path, s)) || !claim(l, n, path, NULL)) {
		free(v);
		return;
	}
	if (strcmp(v, "/") == 0) { /* the host's own system directories */
		free(v);
		v = NULL;
	}
	free(l->p->root);
	l->p->root = v;
}

static bool has_mode_suffix(const char *s)
{
	size_t len = strlen(s);
	return len > 3 && (strcmp(s + len - 3, ":ro") == 0 || strcmp(s + len - 3, ":rw") == 0);
}

/* "tmpfs", "ephemeral", or a host directory; any of them may end in ":ro" or ":rw". */
static void set_workspace(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a directory or tmpfs");
	char *spec, *v = NULL;
	size_t len;
	int writable = -1;

	if (!s)
		return;
	if (!(spec = strdup(s))) {
		out_of_memory(l, n, path);
		return;
	}
	if (has_mode_suffix(spec)) {
		len = strlen(spec);
		writable = spec[len - 1] == 'w';
		spec[len - 3] = '\0';
	}
	if (strcmp(spec, "tmpfs") && strcmp(spec, "ephemeral") && !(v = host_path(l, n, path, spec)))
		goto out;
	if (v && strcmp(v, "/") == 0) {
		problem(l, n, path, "the host's root cannot be the workspace");
		goto out;
	}
	/* It would read back as a path with a suffix: the JSON form would lie. */
	if (v && has_mode_suffix(v)) {
		problem(l, n, path, "a directory named '...:ro' or '...:rw' cannot be the workspace");
		goto out;
	}
	if (!claim(l, n, path, NULL) || (writable >= 0 && !claim(l, n, path, "filesystem.mode")))
		goto out;
	free(l->p->workspace);
	l->p->workspace = AL_STEAL_PTR(v);
	if (writable >= 0)
		l->p->workspace_writable = writable;
out:
	free(v);
	free(spec);
}

/* A mount target inside the sandbox; returns it tidied, malloc'd. */
static char *sandbox_path(struct loader *l, yaml_node_t *n, const char *path, const char *s)
{
	static const char *const managed[] = { "/proc", "/dev", "/sys" };
	char *v;

	if (s[0] != '/' || strlen(s) >= PATH_MAX) {
		problem(l, n, path, "target must be an absolute path inside the sandbox, got '%s'", SHOWN(s));
		return NULL;
	}
	if (has_dotdot(s)) {
		problem(l, n, path, "'..' is not allowed in target '%s'", SHOWN(s));
		return NULL;
	}
	if (!(v = strdup(s))) {
		out_of_memory(l, n, path);
		return NULL;
	}
	tidy_path(v);
	for (size_t i = 0; i < ARRAY_LEN(managed); i++) {
		size_t len = strlen(managed[i]);
		if (strncmp(v, managed[i], len) == 0 && (!v[len] || v[len] == '/')) {
			problem(l, n, path, "cannot mount on %s: airlock provides %s itself", v, managed[i]);
			goto fail;
		}
	}
	if (strcmp(v, "/") == 0)
		problem(l, n, path, "cannot mount over the sandbox's root; use filesystem.root");
	else if (strcmp(v, "/workspace") == 0)
		problem(l, n, path, "/workspace is the workspace; use filesystem.workspace");
	else if (strcmp(v, "/tmp") == 0)
		problem(l, n, path, "/tmp is airlock's own tmpfs; mount elsewhere");
	else
		return v;
fail:
	free(v);
	return NULL;
}

static void mount_source(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "a host path");
	if (s)
		l->mount.source = host_path(l, n, path, s);
}

static void mount_target(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "an absolute path");
	if (s)
		l->mount.target = sandbox_path(l, n, path, s);
}

static const struct choice rw_choices[] = {
	{ "read_write", 1, NULL }, { "rw", 1, NULL }, { "read_only", 0, NULL }, { "ro", 0, NULL },
	{ NULL, 0, NULL },
};
#define RW_HELP "read_write (rw) or read_only (ro)"

static void mount_mode(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	int v;
	l->mount.mode_keys++;
	if (match_choice(l, n, path, f, &v))
		l->mount.writable = v;
}

static void mount_read_only(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	bool ro;
	l->mount.mode_keys++;
	if (need_bool(l, n, path, &ro))
		l->mount.writable = !ro;
}

static const struct field mount_fields[] = {
	{ .key = "source", .parse = mount_source },
	{ .key = "target", .parse = mount_target },
	{ .key = "mode", .parse = mount_mode, .choices = rw_choices, .help = RW_HELP },
	{ .key = "read_only", .parse = mount_read_only },
	{ .key = NULL },
};

/* "SOURCE:TARGET[:ro|:rw]" */
static void mount_from_string(struct loader *l, yaml_node_t *n, const char *path, const char *s)
{
	char *copy = strdup(s), *target, *mode;
	if (!copy) {
		out_of_memory(l, n, path);
		return;
	}
	target = strchr(copy, ':');
	mode = target ? strchr(target + 1, ':') : NULL;
	if (!target || (mode && strchr(mode + 1, ':'))) {
		problem(l, n, path, "expected SOURCE:TARGET[:ro|:rw], got '%s' (for paths with ':' "
			"use {source, target})", SHOWN(s));
		goto out;
	}
	*target++ = '\0';
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") && strcmp(mode, "rw"))
			problem(l, n, path, "unknown mode '%s'; expected ro or rw", SHOWN(mode));
		l->mount.writable = strcmp(mode, "rw") == 0;
	}
	if (!*copy)
		problem(l, n, path, "empty source in '%s'", SHOWN(s));
	else
		l->mount.source = host_path(l, n, path, copy);
	l->mount.target = sandbox_path(l, n, path, target);
out:
	free(copy);
}

static void commit_mount(struct loader *l, yaml_node_t *n, const char *path)
{
	struct al_policy *p = l->p;
	struct al_mount *nm;
	for (size_t i = 0; i < p->n_mounts; i++)
		if (strcmp(p->mounts[i].target, l->mount.target) == 0) {
			problem(l, n, path, "%s is mounted twice", l->mount.target);
			return;
		}
	if (p->n_mounts >= MAX_MOUNTS) {
		problem(l, n, path, "more than %d host mounts", MAX_MOUNTS);
		return;
	}
	if (!(nm = realloc(p->mounts, (p->n_mounts + 1) * sizeof *nm))) {
		out_of_memory(l, n, path);
		return;
	}
	p->mounts = nm;
	nm[p->n_mounts++] = (struct al_mount){
		.source = AL_STEAL_PTR(l->mount.source),
		.target = AL_STEAL_PTR(l->mount.target),
		.writable = l->mount.writable > 0, /* read-only unless asked */
	};
}

static void add_mount(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	unsigned before = l->n_problems;
	l->mount = (struct mount_draft){ .writable = -1 };
	if (n->type == YAML_MAPPING_NODE) {
		walk_mapping(l, n, path, mount_fields);
		if (!has_key(l, n, "source"))
			problem(l, n, path, "missing 'source'");
		if (!has_key(l, n, "target"))
			problem(l, n, path, "missing 'target'");
		if (l->mount.mode_keys > 1)
			problem(l, n, path, "give 'mode' or 'read_only', not both");
	} else {
		const char *s = need_text(l, n, path, "SOURCE:TARGET[:ro|:rw] or {source, target, mode}");
		if (s)
			mount_from_string(l, n, path, s);
	}
	if (l->n_problems == before && l->mount.source && l->mount.target)
		commit_mount(l, n, path);
	free(l->mount.source);
	free(l->mount.target);
	l->mount = (struct mount_draft){ .writable = -1 };
}

/* ---- output gate ------------------------------------------------------------ */

/* A boolean stored at f->off (an alias names its canonical key in f->canon). */
static void set_flag(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	bool on;
	if (need_bool(l, n, path, &on) && claim(l, n, path, f->canon))
		*(bool *)((char *)l->p + f->off) = on;
}

/* credentials.secret_scanning (the articles' spelling): true turns the
 * output gate's scanning on; false leaves output.secret_scanning to decide
 * (both may be given: the stricter wins). */
static void set_flag_on(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	bool on;
	if (need_bool(l, n, path, &on) && on)
		*(bool *)((char *)l->p + f->off) = true;
}

static void set_entropy(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "bits per character, such as 4.5");
	char *end;
	if (!s)
		return;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 1.0 && v <= 8.0)) {
		problem(l, n, path, "'%s': expected bits per character from 1 to 8, such as 4.5", SHOWN(s));
		return;
	}
	if (claim(l, n, path, NULL))
		l->p->out_entropy_bits = v;
}

/* ---- credentials ------------------------------------------------------------ */

/* A secret's host: "name", "*.suffix" or an address, with ":port" (443
 * when not given); stored normalised as "name:port". */
/* A path to copy out after the run: absolute, tidied, below /workspace or
 * /tmp (the only trees the command can write that outlive nothing else). */
static void add_copy_out(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	const char *s = need_text(l, n, path, "an absolute path under /workspace or /tmp");
	char *v;
	if (!s)
		return;
	if (s[0] != '/' || strlen(s) >= PATH_MAX) {
		problem(l, n, path, "must be an absolute path inside the sandbox, got '%s'", SHOWN(s));
		return;
	}
	if (has_dotdot(s)) {
		problem(l, n, path, "'..' is not allowed in '%s'", SHOWN(s));
		return;
	}
	if (!(v = strdup(s))) {
		out_of_memory(l, n, path);
		return;
	}
	tidy_path(v);
	if (strncmp(v, "/workspace", 10) && strncmp(v, "/tmp", 4))
		goto outside;
	const char *rest = v + (v[1] == 'w' ? 10 : 4);
	if (*rest && *rest != '/')
		goto outside;
	if (!l->copy_out_line)
		l->copy_out_line = n->start_mark.line + 1;
	if (strset_add(&l->p->copy_out, v) < 0)
		out_of_memory(l, n, path);
	free(v);
	return;
outside:
	problem(l, n, path, "'%s' is outside /workspace and /tmp: only those can be copied out", SHOWN(s));
	free(v);
}

static bool cred_host_parse(const char *s, char out[272], const char **why)
{
	struct egress_entry e;
	char with_port[300];
	if (egress_parse_entry(s, true, &e, why) < 0) {
		snprintf(with_port, sizeof with_port, "%s:443", s);
		if (egress_parse_entry(with_port, true, &e, why) < 0)
			return false;
	}
	if (e.kind == EG_ADDR && e.prefix != (e.family == AF_INET ? 32u : 128u)) {
		*why = "an address range cannot hold a credential; name one address";
		return false;
	}
	snprintf(out, 272, "%s", e.text);
	return true;
}

/* "METHOD /path-glob": a method token or "*", one space, a path glob. */
static bool cred_rule_ok(const char *s)
{
	const char *sp = strchr(s, ' ');
	if (!sp || sp == s || sp[1] != '/' || strchr(sp + 1, ' '))
		return false;
	for (const char *c = s; c < sp; c++)
		if (!(isupper((unsigned char)*c) || *c == '*' || *c == '-' || *c == '_'))
			return false;
	for (const char *c = sp + 1; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return false;
	return !(sp - s > 1 && memchr(s, '*', (size_t)(sp - s)));
}

static char *host_path(struct loader *l, yaml_node_t *n, const char *path, const char *s);

static bool cred_source_ok(struct loader *l, yaml_node_t *n, const char *path, const char *s, char **out,
			   const char **why)
{
	if (strncmp(s, "env:", 4) == 0) {
		*why = "env: needs a variable name (env:OPENAI_API_KEY)";
		return valid_env_name(s + 4) && (*out = strdup(s));
	}
	if (strncmp(s, "file:", 5) == 0) {
		*why = "file: needs a path (file:/run/secrets/openai)";
		if (!s[5])
			return false;
		/* resolved now, like every host path: the run may start elsewhere */
		_cleanup_free_ char *abs = host_path(l, n, path, s + 5);
		if (!abs)
			return true; /* host_path said why */
		return asprintf(out, "file:%s", abs) > 0;
	}
	if (strncmp(s, "command:", 8) == 0) {
		*why = "command: needs a command (command:vault kv get -field=key secret/openai)";
		return s[8 + strspn(s + 8, " \t")] && (*out = strdup(s));
	}
	*why = "expected env:NAME, file:PATH or command:COMMAND";
	return false;
}

static void add_text_item(struct loader *l, yaml_node_t *n, const char *path, struct al_strlist *to,
			  const char *what, bool (*ok)(const char *s, char out[272], const char **why))
{
	if (n->type != YAML_SEQUENCE_NODE) {
		problem(l, n, path, "expected a list of %s, got %s", what, GOT(n));
		return;
	}
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > 64) {
		problem(l, n, path, "%zu entries; at most 64 are allowed", count);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = node_at(l, n->data.sequence.items.start[i]);
		char child[PATH_BUF], norm[272];
		const char *s, *why = "invalid";
		snprintf(child, sizeof child, "%s[%zu]", path, i);
		if (!(s = need_text(l, it, child, what)))
			continue;
		if (!ok(s, norm, &why))
			problem(l, it, child, "%s: '%s'", why, SHOWN(s));
		else if (strset_add(to, norm) < 0)
			out_of_memory(l, it, child);
	}
}

static bool rule_item(const char *s, char out[272], const char **why)
{
	*why = "expected \"METHOD /path\" (METHOD in capitals or *, the path may hold * and ?)";
	if (strlen(s) >= 272 || !cred_rule_ok(s))
		return false;
	snprintf(out, 272, "%s", s);
	return true;
}

static const char *const secret_keys[] = { "name", "from", "hosts", "inject", "ttl_seconds", "allow",
					   "rules", NULL };

static void add_secret(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	struct cred_secret c = { 0 };
	unsigned before = l->n_problems;
	char child[PATH_BUF];
	const char *s, *why;
	if (n->type != YAML_MAPPING_NODE) {
		problem(l, n, path, "expected a mapping {name, from, hosts, inject, ttl_seconds, allow}, got %s",
			GOT(n));
		return;
	}
	check_keys(l, n, path, secret_keys);
	yaml_node_t *v_name = map_value(l, n, "name"), *v_from = map_value(l, n, "from"),
		    *v_hosts = map_value(l, n, "hosts"), *v_inject = map_value(l, n, "inject"),
		    *v_ttl = map_value(l, n, "ttl_seconds"), *v_allow = map_value(l, n, "allow"),
		    *v_rules = map_value(l, n, "rules");
	if (!v_name)
		problem(l, n, path, "missing 'name' (the variable the sandbox sees)");
	if (!v_from)
		problem(l, n, path, "missing 'from' (env:NAME, file:PATH or command:COMMAND)");
	if (!v_hosts)
		problem(l, n, path, "missing 'hosts' (where the real value may go)");
	if (v_allow && v_rules)
		problem(l, v_rules, path, "give allow or rules, not both");
	join_path(child, path, "name");
	if (v_name && (s = need_text(l, v_name, child, "a variable name"))) {
		if (!valid_env_name(s))
			problem(l, v_name, child, "invalid variable name '%s' (letters, digits, _; not starting "
				"with a digit)", SHOWN(s));
		else if (!(c.name = strdup(s)))
			out_of_memory(l, n, child);
		for (size_t i = 0; c.name && i < l->p->n_secrets; i++)
			if (strcmp(l->p->secrets[i].name, s) == 0)
				problem(l, v_name, child, "'%s' is already a secret", s);
	}
	join_path(child, path, "from");
	if (v_from && (s = need_text(l, v_from, child, "env:NAME, file:PATH or command:COMMAND")) &&
	    !cred_source_ok(l, v_from, child, s, &c.from, &why))
		problem(l, v_from, child, "%s, got '%s'", why, SHOWN(s));
	join_path(child, path, "hosts");
	if (v_hosts) {
		add_text_item(l, v_hosts, child, &c.hosts, "host names", cred_host_parse);
		if (l->n_problems == before && !c.hosts.n)
			problem(l, v_hosts, child, "needs at least one host");
	}
	join_path(child, path, v_rules ? "rules" : "allow");
	if (v_allow || v_rules)
		add_text_item(l, v_allow ? v_allow : v_rules, child, &c.rules, "\"METHOD /path\" rules",
			      rule_item);
	join_path(child, path, "ttl_seconds");
	if (v_ttl && (s = need_text(l, v_ttl, child, "a number of seconds"))) {
		uint64_t secs;
		if (parse_count(s, &secs, &why) < 0 || secs < 1 || secs > 7 * 86400)
			problem(l, v_ttl, child, "'%s': expected seconds from 1 to 604800", SHOWN(s));
		else
			c.ttl_ms = secs * 1000;
	}
	join_path(child, path, "inject");
	if (v_inject && v_inject->type != YAML_MAPPING_NODE) {
		problem(l, v_inject, child, "expected a mapping {header, format}, got %s", GOT(v_inject));
	} else if (v_inject) {
		static const char *const inject_keys[] = { "header", "format", NULL };
		char sub[PATH_BUF];
		check_keys(l, v_inject, child, inject_keys);
		yaml_node_t *h = map_value(l, v_inject, "header"), *fm = map_value(l, v_inject, "format");
		join_path(sub, child, "header");
		if (!h)
			problem(l, v_inject, child, "missing 'header' (such as Authorization)");
		else if ((s = need_text(l, h, sub, "a header name"))) {
			bool ok = *s && strlen(s) < 100;
			for (const char *p = s; *p; p++)
				ok &= isalnum((unsigned char)*p) || *p == '-' || *p == '_';
			if (!ok || !strcasecmp(s, "host") || !strcasecmp(s, "content-length") ||
			    !strcasecmp(s, "transfer-encoding") || !strcasecmp(s, "connection"))
				problem(l, h, sub, "'%s' is not a header a credential can go in", SHOWN(s));
			else if (!(c.header = strdup(s)))
				out_of_memory(l, h, sub);
		}
		join_path(sub, child, "format");
		if (fm && (s = need_text(l, fm, sub, "a format such as \"Bearer {}\""))) {
			const char *at = strstr(s, "{}");
			bool ok = at && !strstr(at + 2, "{}") && strlen(s) < 200;
			for (const char *p = s; *p; p++)
				ok &= (unsigned char)*p >= 0x20 && *p != 0x7f;
			if (!ok)
				problem(l, fm, sub, "'%s': expected one {} where the value goes, such as \"Bearer {}\"",
					SHOWN(s));
			else if (!(c.format = strdup(s)))
				out_of_memory(l, fm, sub);
		}
	}
	if (l->n_problems == before && l->p->n_secrets >= CRED_MAX_SECRETS)
		problem(l, n, path, "more than %d secrets", CRED_MAX_SECRETS);
	struct cred_secret *all = l->n_problems == before ?
		realloc(l->p->secrets, (l->p->n_secrets + 1) * sizeof *all) : NULL;
	if (!all) {
		if (l->n_problems == before)
			out_of_memory(l, n, path);
		cred_secret_clear(&c);
		return;
	}
	l->p->secrets = all;
	all[l->p->n_secrets++] = c;
	if (!l->secrets_line)
		l->secrets_line = n->start_mark.line + 1;
}

/* ---- audit ---------------------------------------------------------------- */

/* A host path (relative to the policy file) stored at f->off. */
static void set_path(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	char **slot = (char **)((char *)l->p + f->off);
	if (n->type == YAML_SCALAR_NODE && (scalar_kind(n) == S_NULL || !n->data.scalar.length)) {
		free(*slot); /* empty: none */
		*slot = NULL;
		return;
	}
	const char *s = need_text(l, n, path, "a path");
	char *v;
	if (!s || !(v = host_path(l, n, path, s)))
		return;
	if (!claim(l, n, path, NULL)) {
		free(v);
		return;
	}
	free(*slot);
	*slot = v;
}

/* It names a file (the breaker's state) and shows in every event. */
static void set_agent(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	if (n->type == YAML_SCALAR_NODE && (scalar_kind(n) == S_NULL || !n->data.scalar.length)) {
		free(l->p->audit_agent);
		l->p->audit_agent = NULL;
		return;
	}
	const char *s = need_text(l, n, path, "an agent name");
	size_t len;
	if (!s)
		return;
	len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	if (!len || s[len] || len > 64 || s[0] == '.') {
		problem(l, n, path, "invalid agent name '%s' (1-64 letters, digits, '.', '_', '-'; not starting with '.')",
			SHOWN(s));
		return;
	}
	store_text(l, n, path, &l->p->audit_agent, s);
}

static void store_write_error(struct loader *l, int v) { l->p->audit_continue = v; }

static void set_cred_mode(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	int v;
	if (!match_choice(l, n, path, f, &v) || !claim(l, n, path, NULL))
		return;
	l->p->cred_jit = v;
	l->cred_none_line = v ? 0 : n->start_mark.line + 1;
}

static void set_audit_syslog(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	bool on;
	if (need_bool(l, n, path, &on) && claim(l, n, path, NULL))
		l->p->audit_syslog = on;
}

static const struct choice alert_on_choices[] = {
	{ "violation", ALERT_VIOLATION, NULL }, { "failure", ALERT_FAILURE, NULL },
	{ "egress_denied", ALERT_EGRESS_DENIED, NULL }, { "resource_peak", ALERT_RESOURCE_PEAK, NULL },
	{ "breaker", ALERT_BREAKER, NULL }, { "any", ALERT_ANY, NULL }, { NULL, 0, NULL },
};

/* "80%" or "80": 1..100 */
static bool parse_percent(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || (*end && strcmp(end, "%") != 0) || v < 1 || v > 100 || s[0] == '-' || s[0] == '+')
		return false;
	*out = (uint32_t)v;
	return true;
}

static void add_alert(struct loader *l, yaml_node_t *n, const char *path, const struct field *f)
{
	static const char *const keys[] = { "on", "exec", "webhook", "memory_over", "pids_over", NULL };
	static const struct field on_field = { .key = "on", .choices = alert_on_choices,
					       .help = "violation, failure, egress_denied, resource_peak, breaker or any" };
	struct alert_rule r = { 0 };
	unsigned before = l->n_problems;
	char child[PATH_BUF];
	const char *s, *why;
	int on = 0;
	if (n->type != YAML_MAPPING_NODE) {
		problem(l, n, path, "expected a mapping {on, exec or webhook}, got %s", GOT(n));
		return;
	}
	check_keys(l, n, path, keys);
	yaml_node_t *v_on = map_value(l, n, "on"), *v_exec = map_value(l, n, "exec"),
		    *v_hook = map_value(l, n, "webhook"), *v_mem = map_value(l, n, "memory_over"),
		    *v_pids = map_value(l, n, "pids_over");
	join_path(child, path, "on");
	if (!v_on)
		problem(l, n, path, "missing 'on'");
	else
		match_choice(l, v_on, child, &on_field, &on);
	if (!v_exec == !v_hook)
		problem(l, n, path, "needs exactly one of exec or webhook");
	join_path(child, path, "exec");
	if (v_exec && (s = need_text(l, v_exec, child, "a command")) && !(r.exec = strdup(s)))
		out_of_memory(l, n, path);
	join_path(child, path, "webhook");
	if (v_hook && (s = need_text(l, v_hook, child, "an http:// URL"))) {
		char host[256], upath[1024];
		uint16_t port;
		if (alert_parse_url(s, host, &port, upath, &why) < 0)
			problem(l, v_hook, child, "%s: '%s'", why, SHOWN(s));
		else if (!(r.webhook = strdup(s)))
			out_of_memory(l, n, path);
	}
	join_path(child, path, "memory_over");
	if (v_mem && (s = need_text(l, v_mem, child, "a percentage such as 80%")) &&
	    !parse_percent(s, &r.memory_over_pct))
		problem(l, v_mem, child, "'%s': expected a percentage from 1%% to 100%%", SHOWN(s));
	join_path(child, path, "pids_over");
	if (v_pids && (s = need_text(l, v_pids, child, "a percentage such as 90%")) &&
	    !parse_percent(s, &r.pids_over_pct))
		problem(l, v_pids, child, "'%s': expected a percentage from 1%% to 100%%", SHOWN(s));
	r.on = (enum alert_on)on;
	if ((v_mem || v_pids) && l->n_problems == before && r.on != ALERT_RESOURCE_PEAK)
		problem(l, n, path, "memory_over and pids_over belong to on: resource_peak");
	if (r.on == ALERT_RESOURCE_PEAK && !v_mem && !v_pids && l->n_problems == before)
		problem(l, n, path, "on: resource_peak needs memory_over or pids_over");
	struct alert_rule *all = l->n_problems == before ?
		realloc(l->p->alerts, (l->p->n_alerts + 1) * sizeof *all) : NULL;
	if (!all) {
		if (l->n_problems == before)
			out_of_memory(l, n, path);
		free(r.exec);
		free(r.webhook);
		return;
	}
	l->p->alerts = all;
	all[l->p->n_alerts++] = r;
}

/* ---- the schema ----------------------------------------------------------- */

#define SECTION(k, t) { .key = (k), .parse = parse_section, .sub = (t) }
#define LIST(k, fn, n, ...) { .key = (k), .parse = parse_list, .item = (fn), .list = true, \
			      .max_items = (n), __VA_ARGS__ }
#define NUMBER(k, nk, member, lo, hi, ...) { .key = (k), .parse = set_number, .kind = &(nk), \
					     .off = OFF(member), .min = (lo), .max = (hi), __VA_ARGS__ }
#define CHOICE(k, c, st, h) { .key = (k), .parse = set_choice, .choices = (c), .store = (st), \
			      .help = (h) }
#define OFF_ONLY(k, feature) { .key = (k), .parse = set_off_only, .what = (feature) }
#define LEAF(k, fn) { .key = (k), .parse = (fn) }
#define END { .key = NULL }
#define MORE(t) { .key = NULL, .sub = (t) }

#define ISOLATION_HELP "namespaces (aliases strict, restricted, container, sandbox)"
#define NOT_AVAILABLE "is not available; airlock provides: " ISOLATION_HELP
static const struct choice isolation_choices[] = {
	{ "namespaces", 0, NULL }, { "strict", 0, NULL }, { "restricted", 0, NULL },
	{ "container", 0, NULL }, { "sandbox", 0, NULL },
	{ "gvisor", 0, NOT_AVAILABLE }, { "firecracker", 0, NOT_AVAILABLE }, { "kata", 0, NOT_AVAILABLE },
	{ "microvm", 0, NOT_AVAILABLE }, { "vm", 0, NOT_AVAILABLE },
	{ NULL, 0, NULL },
};

#define NO_SHARED_NET "is not offered: the sandbox never shares a network with the host; use gateway or none"
static const struct choice net_choices[] = {
	{ "none", AL_NET_NONE, NULL }, { "off", AL_NET_NONE, NULL },
	{ "deny_all", AL_NET_NONE, NULL }, { "isolated", AL_NET_NONE, NULL },
	{ "gateway", AL_NET_GATEWAY, NULL }, { "restricted", AL_NET_GATEWAY, NULL },
	{ "proxy", AL_NET_GATEWAY, NULL },
	{ "host", 0, NO_SHARED_NET }, { "bridge", 0, NO_SHARED_NET },
	{ NULL, 0, NULL },
};

static const struct choice ingress_choices[] = {
	{ "deny_all", 0, NULL }, { "none", 0, NULL }, { "deny", 0, NULL }, { NULL, 0, NULL },
};

static const struct choice default_choices[] = {
	{ "deny", 0, NULL },
	{ "allow", 0, "is not possible: every connection is denied unless allowed" },
	{ NULL, 0, NULL },
};

static const struct choice credential_choices[] = {
	{ "none", 0, NULL }, { "off", 0, NULL },
	{ "just_in_time", 1, NULL },
	{ NULL, 0, NULL },
};

#define DAY_MS (86400ull * 1000)

static const struct field filesystem_fields[] = {
	LEAF("root", set_root),
	LEAF("workspace", set_workspace),
	CHOICE("mode", rw_choices, store_writable, RW_HELP),
	NUMBER("workspace_size", K_SIZE, workspace_size, 4096, UINT64_MAX),
	NUMBER("tmp_size", K_SIZE, tmp_size, 4096, UINT64_MAX),
	LIST("host_mounts", add_mount, MAX_MOUNTS),
	LIST("mounts", add_mount, MAX_MOUNTS),
	LIST("deny", add_deny, 1024),
	END,
};

#define NET_HELP "gateway (aliases restricted, proxy) or none (aliases off, deny_all, isolated)"
static const struct field network_fields[] = {
	{ .key = "mode", .parse = set_net_mode, .choices = net_choices, .help = NET_HELP },
	LIST("egress_allowlist", add_egress, 1024, .off = OFF(egress_allow)),
	LIST("egress_denylist", add_egress, 1024, .off = OFF(egress_deny)),
	CHOICE("ingress", ingress_choices, NULL, "deny_all (ingress is always denied)"),
	LIST("rate_limits", add_rate_limit, EGRESS_MAX_RATES),
	{ .key = "hosts", .parse = parse_assignments, .item = parse_assignment, .assign = put_host,
	  .list = true, .max_items = 1024, .help = "NAME=ADDRESS", .value_what = "an IP address",
	  .what = "expected an IP address" },
	NUMBER("max_connections", K_COUNT, net_max_connections, 1, 100000),
	NUMBER("connect_timeout", K_DURATION, net_connect_timeout_ms, 100, 3600 * 1000),
	NUMBER("idle_timeout", K_DURATION, net_idle_timeout_ms, 100, DAY_MS),
	NUMBER("request_timeout", K_DURATION, net_request_timeout_ms, 100, 3600 * 1000),
	OFF_ONLY("dns", "a DNS responder inside the sandbox; names resolve through the gateway"),
	END,
};

/* The block of the "proxy gateway" article, mapped onto network.* */
static const struct field network_policy_fields[] = {
	CHOICE("default", default_choices, NULL, "deny"),
	LIST("allow", add_egress, 1024, .off = OFF(egress_allow)),
	LIST("deny", add_egress, 1024, .off = OFF(egress_deny)),
	LIST("rate_limits", add_rate_limit, EGRESS_MAX_RATES),
	END,
};

static const struct field resources_fields[] = {
	NUMBER("cpu_limit", K_CPU, cpu_millis, 1, 1024000),
	/* below Docker's minimum (6M) a process cannot even start */
	NUMBER("memory_limit", K_SIZE, memory_bytes, 6ull << 20, UINT64_MAX),
	NUMBER("pids_limit", K_COUNT, pids, 1, 1000000),
	NUMBER("timeout_seconds", K_DURATION, timeout_ms, 1, 7 * DAY_MS),
	NUMBER("kill_grace", K_DURATION, kill_grace_ms, 0, 3600 * 1000),
	NUMBER("open_files", K_COUNT, open_files, 16, 1048576),
	NUMBER("file_size", K_SIZE, file_size, 1, UINT64_MAX),
	NUMBER("output_limit", K_SIZE, output_limit, 1, UINT64_MAX),
	LEAF("swap", set_swap),
	END,
};

static const struct field env_fields[] = {
	LIST("allow", add_env_name, 1024),
	{ .key = "set", .parse = parse_assignments, .item = parse_assignment, .assign = env_put,
	  .list = true, .max_items = 1024, .help = "NAME=VALUE",
	  .what = "\"\" for empty; process.env.allow passes the caller's", .value_what = "a string" },
	END,
};

static const struct field syscall_fields[] = {
	LIST("deny", add_syscall, 512, .off = OFF(syscalls_deny)),
	LIST("allow", add_syscall, 512, .off = OFF(syscalls_allow)),
	END,
};

static const struct field process_fields[] = {
	SECTION("env", env_fields),
	SECTION("syscalls", syscall_fields),
	LEAF("hostname", set_hostname),
	END,
};

static const struct field credentials_fields[] = {
	{ .key = "mode", .parse = set_cred_mode, .choices = credential_choices,
	  .help = "just_in_time, or none (alias off)" },
	{ .key = "secret_scanning", .parse = set_flag_on, .off = OFF(out_secret_scanning) },
	LIST("secrets", add_secret, CRED_MAX_SECRETS),
	END,
};

static const struct field output_fields[] = {
	{ .key = "secret_scanning", .parse = set_flag, .off = OFF(out_secret_scanning) },
	{ .key = "strip_html", .parse = set_flag, .off = OFF(out_strip_html) },
	{ .key = "flag_instructions", .parse = set_flag, .off = OFF(out_flag_instructions) },
	LEAF("entropy_threshold", set_entropy),
	NUMBER("max_bytes", K_SIZE, out_max_bytes, 1, UINT64_MAX),
	LIST("copy_out", add_copy_out, 256),
	{ .key = "copy_to", .parse = set_path, .off = OFF(copy_to) },
	END,
};

static const struct choice write_error_choices[] = {
	{ "refuse", 0, NULL }, { "continue", 1, NULL }, { NULL, 0, NULL },
};

static const struct field breaker_fields[] = {
	NUMBER("max_violations", K_COUNT, breaker.max_violations, 0, 1000000000),
	NUMBER("max_failures", K_COUNT, breaker.max_failures, 0, 1000000000),
	NUMBER("window", K_DURATION, breaker.window_ms, 1000, 30 * DAY_MS),
	NUMBER("cooldown", K_DURATION, breaker.cooldown_ms, 1000, 365 * DAY_MS),
	END,
};

static const struct field audit_fields[] = {
	{ .key = "log", .parse = set_path, .off = OFF(audit_log) },
	LEAF("agent", set_agent),
	NUMBER("max_size", K_SIZE, audit_max_size, 0, UINT64_MAX),
	NUMBER("keep", K_COUNT, audit_keep, 1, 100),
	CHOICE("on_write_error", write_error_choices, store_write_error, "refuse or continue"),
	LEAF("syslog", set_audit_syslog),
	{ .key = "state_dir", .parse = set_path, .off = OFF(audit_state_dir) },
	LIST("alerts", add_alert, 32),
	SECTION("circuit_breaker", breaker_fields),
	END,
};

static const struct field policy_fields[] = {
	LEAF("version", set_version),
	CHOICE("isolation", isolation_choices, NULL, ISOLATION_HELP),
	SECTION("filesystem", filesystem_fields),
	SECTION("network", network_fields),
	SECTION("network_policy", network_policy_fields),
	SECTION("resources", resources_fields),
	SECTION("process", process_fields),
	SECTION("credentials", credentials_fields),
	SECTION("output", output_fields),
	SECTION("audit", audit_fields),
	END,
};

/* The top level also takes the articles' `sandbox_config` dict as a wrapper. */
static const struct field root_fields[] = {
	SECTION("sandbox_config", policy_fields),
	MORE(policy_fields),
};

/* ---- loading -------------------------------------------------------------- */

static size_t line_at(const char *buf, size_t len, size_t offset)
{
	size_t line = 1;
	for (size_t i = 0; i < offset && i < len; i++)
		line += buf[i] == '\n';
	return line;
}

static void syntax_problem(struct loader *l, const yaml_parser_t *ps, const char *buf, size_t len)
{
	size_t line = ps->problem_mark.line + 1;
	const char *what = ps->problem ? ps->problem : "invalid YAML";
	if (ps->error == YAML_MEMORY_ERROR) {
		problem_at(l, 0, NULL, "out of memory");
		return;
	}
	if (ps->error == YAML_READER_ERROR) /* the reader reports a byte offset, not a mark */
		line = line_at(buf, len, ps->problem_offset);
	if (ps->context)
		problem_at(l, line, "syntax error", "%s (%s at line %zu)", what, ps->context,
			   ps->context_mark.line + 1);
	else
		problem_at(l, line, "syntax error", "%s", what);
}

/* A first pass over the event stream, before libyaml builds any node:
 * syntax errors with their line, one document only, and bounded depth. */
static int precheck(struct loader *l, const char *buf, size_t len)
{
	yaml_parser_t ps;
	int depth = 0, docs = 0;
	bool done = false, bad = false;

	if (!yaml_parser_initialize(&ps)) {
		problem_at(l, 0, NULL, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	while (!done && !bad) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&ps, &ev)) {
			syntax_problem(l, &ps, buf, len);
			bad = true;
			break;
		}
		size_t line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if ((bad = ++docs > 1))
				problem_at(l, line, "policy", "a second YAML document; a policy is one document");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if ((bad = ++depth > POLICY_MAX_DEPTH))
				problem_at(l, line, "policy", "nested deeper than %d levels", POLICY_MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	return bad ? -1 : 0;
}

static void walk_root(struct loader *l, yaml_node_t *root)
{
	if (!root) /* an empty file, or only comments: the defaults stand */
		return;
	if (need_collection(l, root, "", YAML_MAPPING_NODE) > 0)
		walk_mapping(l, root, "", root_fields);
}

static void load_document(struct loader *l, const char *buf, size_t len)
{
	yaml_parser_t ps;
	yaml_document_t doc;

	if (len > POLICY_MAX_BYTES) {
		problem_at(l, 0, NULL, "larger than 1 MiB");
		return;
	}
	if (precheck(l, buf, len) < 0)
		return;
	if (!yaml_parser_initialize(&ps)) {
		problem_at(l, 0, NULL, "out of memory");
		return;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&ps, &doc)) {
		syntax_problem(l, &ps, buf, len);
		yaml_parser_delete(&ps);
		return;
	}
	l->doc = &doc;
	walk_root(l, yaml_document_get_root_node(&doc));
	l->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
}

AL_API int al_policy_load_buffer(al_policy *p, const char *name, const char *buf, size_t len,
				 al_error *err)
{
	struct loader l = { .name = name ? name : "<policy>" };
	loader_begin(&l, p);
	if (!l.n_problems)
		load_document(&l, buf ? buf : "", buf ? len : 0);
	return loader_finish(&l, p, err);
}

/* Stops as soon as it holds more than the limit: a huge file (or an endless
 * pipe) is refused after reading little more than 1 MiB. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			*len = n;
			return buf;
		}
		n += (size_t)r;
		if (n > POLICY_MAX_BYTES) {
			*len = n;
			return buf;
		}
	}
	int saved = errno;
	free(buf);
	errno = saved ? saved : ENOMEM;
	return NULL;
}

AL_API int al_policy_load_file(al_policy *p, const char *path, al_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL, *dir = NULL;
	const char *slash = strrchr(path, '/');
	size_t len = 0;

	if (fd < 0 || !(buf = read_all(fd, &len)))
		return al_errno(err, "%s", path);
	if (slash && !(dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))))
		return al_err(err, ENOMEM, "%s: out of memory", path);
	struct loader l = { .name = path, .base_dir = dir };
	loader_begin(&l, p);
	if (!l.n_problems)
		load_document(&l, buf, len);
	return loader_finish(&l, p, err);
}

/* "resources.memory_limit" -> its field; NULL for sections and unknown keys. */
static const struct field *lookup_key(const char *key)
{
	const struct field *t = policy_fields;
	char part[64];
	for (const char *s = key; t;) {
		const char *dot = strchrnul(s, '.');
		size_t len = (size_t)(dot - s);
		const struct field *f;
		if (!len || len >= sizeof part)
			return NULL;
		memcpy(part, s, len);
		part[len] = '\0';
		if (!(f = lookup(t, part)))
			return NULL;
		if (!*dot)
			return f->parse == parse_section ? NULL : f;
		t = f->parse == parse_section ? f->sub : NULL;
		s = dot + 1;
	}
	return NULL;
}

/* The value as a one-node document (a one-element list for list keys), so
 * the handlers see exactly what a file with that value would give them. */
static int override_node(yaml_document_t *doc, const char *value, bool list)
{
	int id = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)value, (int)strlen(value),
					  YAML_PLAIN_SCALAR_STYLE);
	if (!id || !list)
		return id;
	int seq = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
	return seq && yaml_document_append_sequence_item(doc, seq, id) ? seq : 0;
}

AL_API int al_policy_set(al_policy *p, const char *key, const char *value, const char *origin,
			 al_error *err)
{
	const char *where = origin ? origin : "override";
	const struct field *f = lookup_key(key);
	struct loader l = { .name = where, .origin = where };
	yaml_document_t doc;
	int id;

	if (!f)
		return al_err(err, 0, "%s: unknown policy key '%s'", where, key);
	if (!value)
		value = "";
	if (strlen(value) > POLICY_MAX_BYTES)
		return al_err(err, 0, "%s: %s: value larger than 1 MiB", where, key);
	if (!yaml_document_initialize(&doc, NULL, NULL, NULL, 1, 1))
		return al_err(err, ENOMEM, "%s: out of memory", where);
	if (!(id = override_node(&doc, value, f->list))) {
		yaml_document_delete(&doc);
		return al_err(err, ENOMEM, "%s: out of memory", where);
	}
	loader_begin(&l, p);
	l.doc = &doc;
	if (!l.n_problems)
		f->parse(&l, node_at(&l, id), key, f);
	yaml_document_delete(&doc);
	return loader_finish(&l, p, err);
}

/* ---- canonical JSON and digest -------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted copy of a set's strings (the order they were given carries no
 * meaning, so it must not change the digest). NULL only when out of memory. */
static char **sorted(const struct al_strlist *l)
{
	char **v = malloc((l->n + 1) * sizeof *v);
	if (!v)
		return NULL;
	if (l->n)
		memcpy(v, l->v, l->n * sizeof *v);
	qsort(v, l->n, sizeof *v, cmp_str);
	return v;
}

static int write_set(FILE *out, const char *indent, const char *key, const struct al_strlist *l,
		     const char *end)
{
	char **v = sorted(l);
	if (!v)
		return -1;
	fprintf(out, "%s\"%s\": [", indent, key);
	for (size_t i = 0; i < l->n; i++) {
		fputs(i ? ", " : "", out);
		json_write_string(out, v[i]);
	}
	fprintf(out, "]%s\n", end);
	free(v);
	return 0;
}

static int write_env_set(FILE *out, const struct al_strlist *l)
{
	char **v = sorted(l);
	if (!v)
		return -1;
	fputs("      \"set\": {", out);
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchrnul(v[i], '=');
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - v[i]), v[i]);
		fputs(i ? ", " : "", out);
		json_write_string(out, name);
		fputs(": ", out);
		json_write_string(out, *eq ? eq + 1 : "");
	}
	fputs("}\n", out);
	free(v);
	return 0;
}

/* The number fields of a table, as the loader would read them back. */
static void write_numbers(FILE *out, const struct al_policy *p, const struct field *table, bool last)
{
	const struct field *f, *final = NULL;
	for (f = table; f->key; f++)
		if (f->parse == set_number && f->off != NOWHERE && !f->canon)
			final = f;
	for (f = table; f->key; f++) {
		char v[32];
		if (f->parse != set_number || f->off == NOWHERE || f->canon)
			continue;
		f->kind->fmt(v, sizeof v, *(const uint64_t *)((const char *)p + f->off));
		fprintf(out, f->kind->json_number ? "    \"%s\": %s%s\n" : "    \"%s\": \"%s\"%s\n", f->key, v,
			f == final && last ? "" : ",");
	}
}

static void write_mounts(FILE *out, const struct al_policy *p)
{
	fputs("    \"host_mounts\": [", out);
	for (size_t i = 0; i < p->n_mounts; i++) {
		fputs(i ? ",\n      {\"source\": " : "\n      {\"source\": ", out);
		json_write_string(out, p->mounts[i].source);
		fputs(", \"target\": ", out);
		json_write_string(out, p->mounts[i].target);
		fprintf(out, ", \"mode\": \"%s\"}", p->mounts[i].writable ? "rw" : "ro");
	}
	fputs(p->n_mounts ? "\n    ],\n" : "],\n", out);
}

static int write_network(FILE *out, const struct al_policy *p)
{
	int r = 0;
	fprintf(out, "  \"network\": {\n    \"mode\": \"%s\",\n",
		p->net_mode == AL_NET_GATEWAY ? "gateway" : "none");
	r |= write_set(out, "    ", "egress_allowlist", &p->egress_allow, ",");
	r |= write_set(out, "    ", "egress_denylist", &p->egress_deny, ",");
	char **v = sorted(&p->net_hosts);
	if (!v)
		return -1;
	fputs("    \"hosts\": {", out);
	for (size_t i = 0; i < p->net_hosts.n; i++) {
		const char *eq = strchrnul(v[i], '=');
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - v[i]), v[i]);
		fputs(i ? ", " : "", out);
		json_write_string(out, name);
		fputs(": ", out);
		json_write_string(out, *eq ? eq + 1 : "");
	}
	free(v);
	fputs("},\n    \"rate_limits\": [", out);
	for (size_t i = 0; i < p->n_rate_limits; i++) {
		const struct al_rate_limit *rl = &p->rate_limits[i];
		fputs(i ? ", {\"host\": " : "{\"host\": ", out);
		json_write_string(out, rl->host);
		if (rl->rpm)
			fprintf(out, ", \"requests_per_minute\": %" PRIu64, rl->rpm);
		if (rl->bpm) {
			char sz[32];
			fmt_size(sz, sizeof sz, rl->bpm);
			fprintf(out, ", \"bytes_per_minute\": \"%s\"", sz);
		}
		fputc('}', out);
	}
	fputs("],\n", out);
	write_numbers(out, p, network_fields, true);
	fputs("  },\n", out);
	return r;
}

static int write_credentials(FILE *out, const struct al_policy *p)
{
	int r = 0;
	fprintf(out, "  \"credentials\": {\n    \"mode\": \"%s\",\n    \"secrets\": [",
		p->cred_jit ? "just_in_time" : "none");
	for (size_t i = 0; i < p->n_secrets; i++) {
		const struct cred_secret *c = &p->secrets[i];
		fputs(i ? ",\n      {\"name\": " : "\n      {\"name\": ", out);
		json_write_string(out, c->name);
		fputs(", \"from\": ", out);
		json_write_string(out, c->from);
		fputs(",\n", out);
		r |= write_set(out, "       ", "hosts", &c->hosts, ",");
		if (c->header) {
			fputs("       \"inject\": {\"header\": ", out);
			json_write_string(out, c->header);
			fputs(", \"format\": ", out);
			json_write_string(out, c->format ? c->format : "{}");
			fputs("},\n", out);
		}
		if (c->ttl_ms)
			fprintf(out, "       \"ttl_seconds\": %llu,\n", (unsigned long long)(c->ttl_ms / 1000));
		r |= write_set(out, "       ", "allow", &c->rules, "");
		fputs("      }", out);
	}
	fputs(p->n_secrets ? "\n    ]\n  },\n" : "]\n  },\n", out);
	return r;
}

static int write_output(FILE *out, const struct al_policy *p)
{
	char max[32] = "";
	if (p->out_max_bytes)
		fmt_size(max, sizeof max, p->out_max_bytes);
	fprintf(out, "  \"output\": {\n    \"secret_scanning\": %s,\n    \"strip_html\": %s,\n"
		"    \"flag_instructions\": %s,\n    \"entropy_threshold\": \"%g\",\n%s%s%s",
		p->out_secret_scanning ? "true" : "false", p->out_strip_html ? "true" : "false",
		p->out_flag_instructions ? "true" : "false", p->out_entropy_bits,
		max[0] ? "    \"max_bytes\": \"" : "", max, max[0] ? "\",\n" : "");
	int r = write_set(out, "    ", "copy_out", &p->copy_out, ",");
	fputs("    \"copy_to\": ", out);
	json_write_string(out, p->copy_to ? p->copy_to : "");
	fputs("\n  },\n", out);
	return r;
}

static const char *const alert_on_names[] = {
	[ALERT_VIOLATION] = "violation", [ALERT_FAILURE] = "failure", [ALERT_EGRESS_DENIED] = "egress_denied",
	[ALERT_RESOURCE_PEAK] = "resource_peak", [ALERT_BREAKER] = "breaker", [ALERT_ANY] = "any",
};

static void write_audit(FILE *out, const struct al_policy *p)
{
	char v[32];
	fputs("  \"audit\": {\n    \"log\": ", out);
	json_write_string(out, p->audit_log ? p->audit_log : "");
	fputs(",\n    \"agent\": ", out);
	json_write_string(out, p->audit_agent ? p->audit_agent : "");
	fmt_size(v, sizeof v, p->audit_max_size);
	fprintf(out, ",\n    \"max_size\": \"%s\",\n    \"keep\": %llu,\n    \"on_write_error\": \"%s\",\n"
		"    \"syslog\": %s,\n    \"state_dir\": ", v, (unsigned long long)p->audit_keep,
		p->audit_continue ? "continue" : "refuse", p->audit_syslog ? "true" : "false");
	json_write_string(out, p->audit_state_dir ? p->audit_state_dir : "");
	fputs(",\n    \"alerts\": [", out);
	for (size_t i = 0; i < p->n_alerts; i++) {
		const struct alert_rule *a = &p->alerts[i];
		fprintf(out, "%s{\"on\": \"%s\"", i ? ", " : "", alert_on_names[a->on]);
		if (a->exec) {
			fputs(", \"exec\": ", out);
			json_write_string(out, a->exec);
		}
		if (a->webhook) {
			fputs(", \"webhook\": ", out);
			json_write_string(out, a->webhook);
		}
		if (a->memory_over_pct)
			fprintf(out, ", \"memory_over\": \"%u%%\"", a->memory_over_pct);
		if (a->pids_over_pct)
			fprintf(out, ", \"pids_over\": \"%u%%\"", a->pids_over_pct);
		fputc('}', out);
	}
	fputs("],\n    \"circuit_breaker\": {\n", out);
	write_numbers(out, p, breaker_fields, true);
	fputs("    }\n  }\n", out);
}

/* The effective policy as a policy file: loading it gives the same policy,
 * and the same digest. Sets are sorted; mounts keep their order (it matters). */
AL_API int al_policy_write_json(const al_policy *p, FILE *out)
{
	int r = 0;
	fputs("{\n  \"version\": 1,\n  \"isolation\": \"namespaces\",\n  \"filesystem\": {\n"
	      "    \"root\": ", out);
	json_write_string(out, p->root ? p->root : "/");
	fputs(",\n    \"workspace\": ", out);
	json_write_string(out, p->workspace ? p->workspace : "tmpfs");
	fprintf(out, ",\n    \"mode\": \"%s\",\n", p->workspace_writable ? "read_write" : "read_only");
	write_numbers(out, p, filesystem_fields, false);
	write_mounts(out, p);
	r |= write_set(out, "    ", "deny", &p->deny, "");
	fputs("  },\n", out);
	r |= write_network(out, p);
	fputs("  \"resources\": {\n", out);
	write_numbers(out, p, resources_fields, true);
	fputs("  },\n  \"process\": {\n    \"env\": {\n", out);
	r |= write_set(out, "      ", "allow", &p->env_allow, ",");
	r |= write_env_set(out, &p->env_set);
	fputs("    },\n    \"syscalls\": {\n", out);
	r |= write_set(out, "      ", "deny", &p->syscalls_deny, ",");
	r |= write_set(out, "      ", "allow", &p->syscalls_allow, "");
	fputs("    },\n    \"hostname\": ", out);
	json_write_string(out, p->hostname ? p->hostname : DEFAULT_HOSTNAME);
	fputs("\n  },\n", out);
	r |= write_credentials(out, p);
	r |= write_output(out, p);
	write_audit(out, p);
	fputs("}\n", out);
	return r < 0 || ferror(out) ? -1 : 0;
}

static int write_json_of(const void *p, FILE *out)
{
	return al_policy_write_json(p, out);
}

/* SHA-256 of the canonical JSON, streamed: no copy of the text is kept.
 * hex is "" if it could not be computed (no libcrypto, out of memory). */
AL_API void al_policy_digest(const al_policy *p, char hex[65])
{
	sha256_of(write_json_of, p, hex);
}
