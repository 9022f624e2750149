/* The policy loader: presets, every class of error with FILE:LINE: FIELD,
 * all-or-nothing loading, overrides, canonical JSON and the digest, and the
 * limits that keep a hostile file from exhausting the loader. */
#include "check.h"
#include "cred.h"
#include "internal.h"

#include <limits.h>
#include <string.h>

static char source_root[PATH_MAX];

static const char *src_path(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", source_root, rel);
	return buf;
}

static void digest_of(const al_policy *p, char hex[65])
{
	al_policy_digest(p, hex);
}

static bool same_policy(const al_policy *a, const al_policy *b)
{
	char ha[65], hb[65];
	digest_of(a, ha);
	digest_of(b, hb);
	return ha[0] && strcmp(ha, hb) == 0;
}

static bool is_default(const al_policy *p)
{
	al_policy *d = al_policy_new();
	bool r = same_policy(p, d);
	al_policy_free(d);
	return r;
}

/* Text for a TAP line: newlines and bytes a terminal would choke on shown as '|' and '?'. */
static const char *flat(const char *s)
{
	static char bufs[4][2048];
	static int k;
	char *b = bufs[k++ % 4];
	size_t i = 0;
	for (; s[i] && i < sizeof bufs[0] - 1; i++)
		b[i] = s[i] == '\n' ? '|' : ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	b[i] = '\0';
	return b;
}

static size_t count_lines(const char *msg)
{
	size_t n = *msg != '\0';
	for (; *msg; msg++)
		n += *msg == '\n';
	return n;
}

/* A line of msg ends with want, right after a '/' or at the line's start:
 * files are loaded by absolute path, the tests name them by base name. */
static bool has_problem(const char *msg, const char *want)
{
	size_t wl = strlen(want);
	for (const char *line = msg; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t len = (size_t)(end - line);
		if (len >= wl && memcmp(end - wl, want, wl) == 0 &&
		    (len == wl || end[-(long)wl - 1] == '/'))
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

static int load_rel(al_policy *p, const char *rel, al_error *err)
{
	al_error_clear(err);
	return al_policy_load_file(p, src_path(rel), err);
}

static int load_str(al_policy *p, const char *text, al_error *err)
{
	al_error_clear(err);
	return al_policy_load_buffer(p, "t.yaml", text, strlen(text), err);
}

/* Load a bad file of tests/unit/data: it must fail with exactly these
 * problems, and leave the policy as it was. It is loaded by its base name
 * from its directory, so the messages do not depend on where the source
 * tree is (al_error holds 1 KiB of messages). */
static void expect_file_problems(const char *rel, const char *const *want, size_t n_want)
{
	al_policy *p = al_policy_new();
	al_error err;
	char cwd[PATH_MAX];
	int r;
	if (!getcwd(cwd, sizeof cwd) || chdir(src_path("tests/unit/data")) < 0)
		CHECK(0, "cd to tests/unit/data");
	al_error_clear(&err);
	r = al_policy_load_file(p, rel, &err);
	CHECK(r < 0 && err.exit_code == 125, "%s is refused with exit code 125", rel);
	CHECK(count_lines(err.msg) == n_want, "%s: %zu problem(s) reported, got %zu: %s", rel, n_want,
	      count_lines(err.msg), flat(err.msg));
	for (size_t i = 0; i < n_want; i++)
		CHECK(has_problem(err.msg, want[i]), "%s reports '%s'", rel, want[i]);
	CHECK(is_default(p), "%s: the policy is unchanged", rel);
	CHECK(chdir(cwd) == 0, "cd back");
	al_policy_free(p);
}
#define EXPECT(rel, ...)                                                          \
	do {                                                                      \
		static const char *const w_[] = { __VA_ARGS__ };                  \
		expect_file_problems(rel, w_, sizeof w_ / sizeof w_[0]);          \
	} while (0)

static void expect_text_problem(const char *text, const char *want)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r = load_str(p, text, &err);
	CHECK(r < 0 && has_problem(err.msg, want), "'%s' -> '%s' (got '%s')", flat(text), want, flat(err.msg));
	CHECK(is_default(p), "unchanged after '%s'", flat(text));
	al_policy_free(p);
}

static void expect_text_ok(const char *text)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r = load_str(p, text, &err);
	CHECK(r == 0, "'%s' loads (%s)", flat(text), r ? flat(err.msg) : "ok");
	al_policy_free(p);
}

static void test_defaults(void)
{
	al_policy *p = al_policy_new();
	CHECK(p && !p->root && !p->workspace && p->workspace_writable, "default filesystem: host root, tmpfs rw");
	CHECK(p->workspace_size == 256ull << 20 && p->tmp_size == 64ull << 20, "default tmpfs sizes");
	CHECK(p->deny.n == 13 && al_strlist_contains(&p->deny, ".env") &&
	      al_strlist_contains(&p->deny, ".docker/config.json") && al_strlist_contains(&p->deny, "id_rsa*"),
	      "default deny list");
	CHECK(p->net_mode == AL_NET_NONE && p->n_mounts == 0, "no network, no mounts");
	CHECK(p->cpu_millis == 1000 && p->memory_bytes == 512ull << 20 && p->pids == 128,
	      "default cpu, memory, pids");
	CHECK(p->timeout_ms == 300000 && p->kill_grace_ms == 2000, "default timeout and grace");
	CHECK(p->open_files == 1024 && p->file_size == 1ull << 30 && p->output_limit == 16ull << 20,
	      "default rlimits and output cap");
	CHECK(p->env_allow.n == 4 && al_strlist_contains(&p->env_allow, "TERM") &&
	      al_strlist_contains(&p->env_allow, "TZ") && p->env_set.n == 0, "default environment");
	CHECK(p->hostname && strcmp(p->hostname, "airlock") == 0, "default hostname");

	struct al_policy copy;
	CHECK(policy_copy(&copy, p) == 0 && same_policy(&copy, p) && copy.hostname != p->hostname,
	      "policy_copy is a deep, equal copy");
	policy_clear(&copy);
	CHECK(!copy.hostname && copy.deny.n == 0 && copy.memory_bytes == 0, "policy_clear empties");
	al_policy_free(p);
	al_policy_free(NULL);
}

static void test_presets(void)
{
	static const char *const presets[] = {
		"policies/strict.yaml", "policies/python.yaml", "policies/node.yaml",
		"policies/coding-agent.yaml", "policies/seed-sandbox-config.yaml", "policies/llm-agent.yaml",
	};
	al_error err;
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
		al_policy *p = al_policy_new(), *back = al_policy_new();
		char *json = NULL;
		size_t len = 0;
		int r = load_rel(p, presets[i], &err);
		CHECK(r == 0, "preset %s loads (%s)", presets[i], r ? err.msg : "ok");
		CHECK(i == 0 ? is_default(p) : !is_default(p), "preset %s %s the defaults", presets[i],
		      i == 0 ? "is" : "differs from");
		/* The canonical JSON is itself a policy file for the same policy. */
		FILE *f = open_memstream(&json, &len);
		CHECK(al_policy_write_json(p, f) == 0, "%s: JSON written", presets[i]);
		fclose(f);
		r = al_policy_load_buffer(back, "json", json, len, &err);
		CHECK(r == 0 && same_policy(p, back), "%s: its JSON loads back to the same digest (%s)",
		      presets[i], r ? err.msg : "ok");
		free(json);
		al_policy_free(back);
		al_policy_free(p);
	}

	al_policy *p = al_policy_new();
	load_rel(p, "policies/coding-agent.yaml", &err);
	CHECK(!p->workspace && p->workspace_writable,
	      "coding-agent: ephemeral writable workspace (the checkout comes from --workspace)");
	CHECK(p->memory_bytes == 8ull << 30 && p->pids == 1024 && p->timeout_ms == 1800000 &&
	      p->cpu_millis == 4000, "coding-agent: more memory, pids and time");
	CHECK(al_strlist_contains(&p->env_set, "GIT_TERMINAL_PROMPT=0") && al_strlist_contains(&p->deny, "*.tfstate") &&
	      al_strlist_contains(&p->deny, ".ssh"), "coding-agent: env, and deny entries added to the defaults");
	al_policy_free(p);

	p = al_policy_new();
	load_rel(p, "tests/unit/data/relative-workspace.yaml", &err);
	CHECK(p->workspace && strcmp(p->workspace, src_path("tests/unit/data")) == 0 && p->workspace_writable,
	      "a relative workspace resolves against the policy file's directory (%s)", p->workspace);
	al_policy_free(p);

	p = al_policy_new();
	load_rel(p, "policies/python.yaml", &err);
	CHECK(p->out_max_bytes == 8ull << 20 && al_strlist_contains(&p->env_set, "MPLBACKEND=Agg") &&
	      al_strlist_contains(&p->syscalls_deny, "vmsplice") && p->memory_bytes == 2ull << 30,
	      "python: output.max_bytes, env map, syscalls");
	al_policy_free(p);

	p = al_policy_new();
	load_rel(p, "policies/node.yaml", &err);
	CHECK(al_strlist_contains(&p->env_set, "NODE_OPTIONS=--max-old-space-size=2560") &&
	      al_strlist_contains(&p->env_allow, "NODE_ENV") && p->cpu_millis == 2000 && p->open_files == 65536,
	      "node: env as a NAME=VALUE list, 2000m CPUs");
	al_policy_free(p);

	/* The seed's dict as a working YAML policy and as tab-indented JSON. */
	al_policy *yaml = al_policy_new(), *json = al_policy_new();
	load_rel(yaml, "policies/seed-sandbox-config.yaml", &err);
	CHECK(yaml->cpu_millis == 2000 && yaml->memory_bytes == 4ull << 30 && yaml->timeout_ms == 300000 &&
	      !yaml->workspace && yaml->workspace_writable, "seed: cpu \"2\", 4Gi, 300 s, tmpfs rw");
	int r = load_rel(json, "tests/unit/data/seed-sandbox-config.json", &err);
	CHECK(r == 0 && same_policy(yaml, json), "seed as JSON = seed as YAML (%s)", r ? err.msg : "ok");
	al_policy_free(yaml);
	al_policy_free(json);
}

static void test_error_classes(void)
{
	EXPECT("bad-negative.yaml",
	       "bad-negative.yaml:7: resources.memory_limit: negative size '-3G'");
	EXPECT("bad-nested-unknown.yaml",
	       "bad-nested-unknown.yaml:5: process.env.sett: unknown key; did you mean 'set'?");
	EXPECT("bad-types.yaml",
	       "bad-types.yaml:2: resources.memory_limit: expected a size such as 512M or 4Gi, got a mapping",
	       "bad-types.yaml:3: resources.pids_limit: not a whole number 'lots'",
	       "bad-types.yaml:5: filesystem.deny: expected a list, got '.env'",
	       "bad-types.yaml:6: filesystem.mode: expected read_write (rw) or read_only (ro), got a boolean",
	       "bad-types.yaml:8: output.strip_html: expected true or false, got 'no'",
	       "bad-types.yaml:9: process: expected a mapping, got a list");
	EXPECT("bad-duplicate.yaml",
	       "bad-duplicate.yaml:4: resources.memory_limit: duplicate key (first at line 2)");
	EXPECT("bad-syntax.yaml",
	       "bad-syntax.yaml:4: syntax error: did not find expected key (while parsing a block mapping at line 1)");
	EXPECT("bad-toplevel.yaml", "bad-toplevel.yaml:1: policy: expected a mapping, got a list");
	/* The article's network block (mode restricted, an allowlist) is the
	 * egress gateway, its credentials block just-in-time credentials (with
	 * no secret named, none is injected): only gVisor remains refused. */
	EXPECT("seed-gvisor.yaml",
	       "seed-gvisor.yaml:6: sandbox_config.isolation: 'gvisor' is not available; airlock provides: "
	       "namespaces (aliases strict, restricted, container, sandbox)");

	/* Lines 2-4 (an allowlist and a rate limit) and the audit log (line 11)
	 * are accepted now; the rest is not. */
	EXPECT("bad-unsupported.yaml",
	       "bad-unsupported.yaml:5: network.dns: not supported yet (a DNS responder inside the sandbox; "
	       "names resolve through the gateway); set it to false",
	       "bad-unsupported.yaml:7: credentials.secrets[0]: expected a mapping {name, from, hosts, inject, "
	       "ttl_seconds, allow}, got 'OPENAI_API_KEY'",
	       "bad-unsupported.yaml:13: isolation: 'firecracker' is not available; airlock provides: "
	       "namespaces (aliases strict, restricted, container, sandbox)");
	/* All problems at once, in file order, one per line. */
	EXPECT("bad-many.yaml",
	       "bad-many.yaml:1: version: unsupported version '2'; this airlock reads version 1",
	       "bad-many.yaml:2: isolation: 'kata' is not available; airlock provides: namespaces (aliases strict, "
	       "restricted, container, sandbox)",
	       "bad-many.yaml:4: filesystem.root: must be an absolute path, got 'relative/dir'",
	       "bad-many.yaml:5: filesystem.tmp_size: '0' is below the minimum of 4K",
	       "bad-many.yaml:7: network.mode: 'host' is not offered: the sandbox never shares a network with the "
	       "host; use gateway or none",
	       "bad-many.yaml:9: resources.cpu_limit: zero CPU limit '0'",
	       "bad-many.yaml:10: resources.open_files: '8' is below the minimum of 16",
	       "bad-many.yaml:11: resources.swap: swap is always off; only 0 or false is accepted");
	EXPECT("bad-mounts.yaml",
	       "bad-mounts.yaml:5: filesystem.host_mounts[2]: unknown mode 'rx'; expected ro or rw",
	       "bad-mounts.yaml:6: filesystem.host_mounts[3]: cannot mount on /proc/sys: airlock provides /proc itself",
	       "bad-mounts.yaml:7: filesystem.host_mounts[4].target: target must be an absolute path inside the sandbox, "
	       "got 'relative'",
	       "bad-mounts.yaml:8: filesystem.host_mounts[5]: missing 'target'",
	       "bad-mounts.yaml:9: filesystem.host_mounts[6]: /data is mounted twice",
	       "bad-mounts.yaml:11: filesystem.mounts[0]: '~' is not expanded; write the full path");

	al_error err;
	al_policy *p = al_policy_new();
	CHECK(load_rel(p, "tests/unit/data/no-such-file.yaml", &err) < 0 && strstr(err.msg, "No such file") &&
	      err.exit_code == 125 && is_default(p), "a missing file: %s", err.msg);
	CHECK(load_rel(p, "tests/unit/data", &err) < 0 && strstr(err.msg, "Is a directory") && is_default(p),
	      "a directory: %s", err.msg);
	al_policy_free(p);
}

static void test_empty(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	CHECK(load_rel(p, "tests/unit/data/empty.yaml", &err) == 0 && is_default(p), "comments only = defaults");
	CHECK(load_str(p, "", &err) == 0 && is_default(p), "an empty buffer = defaults");
	CHECK(load_str(p, "---\n", &err) == 0 && is_default(p), "an empty document = defaults");
	CHECK(load_str(p, "resources:\nprocess: ~\n", &err) == 0 && is_default(p), "empty sections = defaults");
	CHECK(load_str(p, "{}", &err) == 0 && is_default(p), "an empty JSON object = defaults");
	al_policy_free(p);
}

static void test_unchanged_after_failure(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	char before[65], after[65];
	CHECK(al_policy_set(p, "resources.pids_limit", "42", "--pids", &err) == 0, "override pids");
	digest_of(p, before);
	/* Line 6 (pids_limit: 77) is valid and comes before the error. */
	CHECK(load_rel(p, "tests/unit/data/bad-negative.yaml", &err) < 0, "bad file refused");
	digest_of(p, after);
	CHECK(p->pids == 42 && strcmp(before, after) == 0, "nothing of the bad file applied (pids %llu)",
	      (unsigned long long)p->pids);
	CHECK(al_policy_set(p, "resources.memory_limit", "-3G", "--memory", &err) < 0 && p->memory_bytes == 512ull << 20,
	      "a bad override changes nothing");
	al_policy_free(p);
}

static void test_overrides(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r;

#define SET_OK(key, value)                                                                        \
	do {                                                                                      \
		al_error_clear(&err);                                                             \
		r = al_policy_set(p, key, value, "--opt", &err);                                  \
		CHECK(r == 0, "set %s=%s (%s)", key, value, r ? err.msg : "ok");                   \
	} while (0)

	SET_OK("resources.memory_limit", "256M");
	SET_OK("resources.cpu_limit", "0.5");
	SET_OK("resources.pids_limit", "64");
	SET_OK("resources.timeout_seconds", "90");
	SET_OK("resources.open_files", "2048");
	SET_OK("resources.file_size", "10M");
	SET_OK("resources.output_limit", "1Mi");
	SET_OK("resources.kill_grace", "500ms");
	CHECK(p->memory_bytes == 256ull << 20 && p->cpu_millis == 500 && p->pids == 64 && p->timeout_ms == 90000 &&
	      p->open_files == 2048 && p->file_size == 10ull << 20 && p->output_limit == 1ull << 20 &&
	      p->kill_grace_ms == 500, "resource overrides applied");

	SET_OK("filesystem.root", "/srv/images/debian");
	CHECK(p->root && strcmp(p->root, "/srv/images/debian") == 0, "root override");
	SET_OK("filesystem.root", "/");
	CHECK(!p->root, "root '/' means the host's system directories");
	SET_OK("filesystem.workspace", "/srv/project:ro");
	CHECK(p->workspace && strcmp(p->workspace, "/srv/project") == 0 && !p->workspace_writable,
	      "workspace with :ro");
	SET_OK("filesystem.workspace", "tmpfs:rw");
	CHECK(!p->workspace && p->workspace_writable, "workspace back to tmpfs, writable");
	SET_OK("filesystem.mounts", "/srv/data:/data");
	SET_OK("filesystem.mounts", "/srv/out:/out:rw");
	CHECK(p->n_mounts == 2 && strcmp(p->mounts[0].target, "/data") == 0 && !p->mounts[0].writable &&
	      p->mounts[1].writable, "mounts appended, read-only unless :rw");
	SET_OK("process.env.allow", "HOME");
	SET_OK("process.env.allow", "HOME");
	CHECK(p->env_allow.n == 5, "env.allow appended once");
	SET_OK("process.env.set", "FOO=bar");
	SET_OK("process.env.set", "FOO=baz=qux");
	SET_OK("process.env.set", "EMPTY=");
	CHECK(p->env_set.n == 2 && al_strlist_contains(&p->env_set, "FOO=baz=qux") &&
	      al_strlist_contains(&p->env_set, "EMPTY="), "env.set replaces by name");
	SET_OK("process.hostname", "box-1");
	SET_OK("process.syscalls.deny", "vmsplice");
	SET_OK("network.mode", "none");
	SET_OK("isolation", "strict");

	char before[65], after[65];
	digest_of(p, before);
#define SET_BAD(key, value, origin, want)                                                         \
	do {                                                                                      \
		al_error_clear(&err);                                                             \
		r = al_policy_set(p, key, value, origin, &err);                                   \
		CHECK(r < 0 && strcmp(err.msg, want) == 0, "set %s=%s refused: %s (got %s)", key, value, \
		      want, flat(err.msg));                                                             \
	} while (0)
	SET_BAD("resources.memory_limit", "-3G", "--memory", "--memory: resources.memory_limit: negative size '-3G'");
	SET_BAD("resources.memory_limit", "", "--memory",
		"--memory: resources.memory_limit: missing value (expected a size such as 512M or 4Gi)");
	SET_BAD("resources.cpu_limit", "0", "--cpus", "--cpus: resources.cpu_limit: zero CPU limit '0'");
	SET_BAD("resources.timeout_seconds", "8d", "--timeout",
		"--timeout: resources.timeout_seconds: '8d' is above the maximum of 7d");
	SET_BAD("filesystem.mounts", "/a:/dev/shm", "--mount",
		"--mount: filesystem.mounts: cannot mount on /dev/shm: airlock provides /dev itself");
	SET_BAD("filesystem.mounts", "/x:/data", "--mount", "--mount: filesystem.mounts: /data is mounted twice");
	SET_BAD("process.env.set", "1BAD=x", "--env",
		"--env: process.env.set: invalid variable name '1BAD' (letters, digits, _; not starting with a digit)");
	SET_BAD("process.env.set", "NOEQUALS", "--env", "--env: process.env.set: expected NAME=VALUE, got 'NOEQUALS'");
	SET_BAD("network.egress_allowlist", "api.openai.com", "--allow-host",
		"--allow-host: network.egress_allowlist: expected HOST:PORT in 'api.openai.com'");
	SET_BAD("network.egress_allowlist", "api.openai.com:0", "--allow-host",
		"--allow-host: network.egress_allowlist: invalid port (1-65535 or *) in 'api.openai.com:0'");
	SET_BAD("network.egress_denylist", "::1:443", "--deny-host",
		"--deny-host: network.egress_denylist: IPv6 addresses go in brackets: [::1]:443 in '::1:443'");
	SET_BAD("network.hosts", "db.internal=10.0.0.300", "--host",
		"--host: network.hosts: '10.0.0.300' is not an IPv4 or IPv6 address");
	SET_BAD("network.rate_limits", "*", "--set",
		"--set: network.rate_limits: expected a mapping {host, requests_per_minute, bytes_per_minute}, got '*'");
	SET_BAD("network.mode", "bridge", "--net",
		"--net: network.mode: 'bridge' is not offered: the sandbox never shares a network with the host; "
		"use gateway or none");
	SET_BAD("network.max_connections", "0", "--set", "--set: network.max_connections: '0' is below the minimum of 1");
	SET_BAD("network.dns", "true", "--set",
		"--set: network.dns: not supported yet (a DNS responder inside the sandbox; names resolve through the "
		"gateway); set it to false");
	SET_BAD("isolation", "gvisor", "--isolation",
		"--isolation: isolation: 'gvisor' is not available; airlock provides: namespaces (aliases strict, "
		"restricted, container, sandbox)");
	SET_BAD("resources.memroy_limit", "1G", "--set", "--set: unknown policy key 'resources.memroy_limit'");
	SET_BAD("resources", "1G", "--set", "--set: unknown policy key 'resources'");
	SET_BAD("resources.memory_limit.x", "1G", "--set", "--set: unknown policy key 'resources.memory_limit.x'");
	SET_BAD("process.syscalls.allow", "vmsplice", "--allow-syscall",
		"--allow-syscall: process.syscalls.allow: 'vmsplice' is also in process.syscalls.deny");
	SET_BAD("resources.pids_limit", "-1", NULL, "override: resources.pids_limit: negative number '-1'");
	digest_of(p, after);
	CHECK(strcmp(before, after) == 0, "refused overrides changed nothing");
	al_policy_free(p);
}

static void test_digest(void)
{
	al_policy *a = al_policy_new(), *b = al_policy_new();
	al_error err;
	char h1[65], h2[65];

	digest_of(a, h1);
	digest_of(a, h2);
	CHECK(strlen(h1) == 64 && strspn(h1, "0123456789abcdef") == 64 && strcmp(h1, h2) == 0,
	      "digest is 64 hex chars and stable (%s)", h1);
	CHECK(same_policy(a, b), "two default policies, one digest");

	/* Each change of a field changes the digest; undoing it restores it. */
	static const struct {
		const char *key, *value, *undo;
	} changes[] = {
		{ "resources.memory_limit", "513M", "512M" },
		{ "resources.cpu_limit", "1001m", "1" },
		{ "resources.pids_limit", "129", "128" },
		{ "resources.timeout_seconds", "301", "5m" },
		{ "resources.kill_grace", "3s", "2000ms" },
		{ "resources.open_files", "1025", "1024" },
		{ "resources.file_size", "2G", "1024M" },
		{ "resources.output_limit", "17M", "16M" },
		{ "filesystem.workspace", "tmpfs:ro", "tmpfs:rw" },
		{ "filesystem.root", "/images/x", "/" },
		{ "process.hostname", "other", "airlock" },
		{ "process.env.set", "A=1", NULL },
		{ "process.env.allow", "EDITOR", NULL },
		{ "process.syscalls.deny", "vmsplice", NULL },
		{ "process.syscalls.allow", "clone3", NULL },
		{ "filesystem.deny", "*.sqlite", NULL },
		{ "filesystem.mounts", "/srv:/srv", NULL },
		{ "network.mode", "gateway", "none" },
		{ "network.max_connections", "65", "64" },
		{ "network.connect_timeout", "11", "10s" },
		{ "network.idle_timeout", "301", "5m" },
		{ "network.request_timeout", "9s", "10000ms" },
		{ "network.hosts", "db.internal=10.0.0.5", NULL },
		{ "network.egress_denylist", "evil.example.com:*", NULL },
		{ "network.egress_allowlist", "api.example.com:443", NULL },
	};
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		digest_of(a, h1);
		CHECK(al_policy_set(a, changes[i].key, changes[i].value, "--t", &err) == 0, "set %s", changes[i].key);
		digest_of(a, h2);
		CHECK(strcmp(h1, h2) != 0, "digest changes with %s", changes[i].key);
		if (changes[i].undo) {
			al_policy_set(a, changes[i].key, changes[i].undo, "--t", &err);
			digest_of(a, h2);
			CHECK(strcmp(h1, h2) == 0, "digest restored when %s is set back", changes[i].key);
		}
	}
	al_policy_free(a);
	al_policy_free(b);

	/* Sets: the order they were written in does not matter. */
	a = al_policy_new();
	b = al_policy_new();
	load_str(a, "process: {env: {allow: [A, B], set: {X: 1, Y: 2}}}\nfilesystem: {deny: [p, q]}", &err);
	load_str(b, "filesystem: {deny: [q, p]}\nprocess: {env: {set: [Y=2, X=1], allow: [B, A, A]}}", &err);
	CHECK(same_policy(a, b), "set order and repeats do not change the digest");
	al_policy_free(a);
	al_policy_free(b);

	/* Mounts: their order does (a later mount may cover an earlier one). */
	a = al_policy_new();
	b = al_policy_new();
	load_str(a, "filesystem: {host_mounts: [/a:/m, /b:/m/sub]}", &err);
	load_str(b, "filesystem: {host_mounts: [/b:/m/sub, /a:/m]}", &err);
	CHECK(!same_policy(a, b), "mount order changes the digest");
	al_policy_free(a);
	al_policy_free(b);

	/* Non-ASCII values survive the canonical JSON unchanged. */
	a = al_policy_new();
	b = al_policy_new();
	char *json = NULL;
	size_t len = 0;
	int r = load_str(a, "process: {env: {set: {GREETING: \"gr\\u00fc\\u00dfe \\u2603\", T: \"a\\tb\\x7f\"}}}\n"
			"filesystem: {workspace: /srv/caf\u00e9, deny: [\"*.\u5bc6\u94a5\"]}", &err);
	FILE *f = open_memstream(&json, &len);
	al_policy_write_json(a, f);
	fclose(f);
	CHECK(r == 0 && al_policy_load_buffer(b, "json", json, len, &err) == 0 && same_policy(a, b) &&
	      al_strlist_contains(&b->env_set, "GREETING=gr\u00fc\u00dfe \u2603") &&
	      strcmp(b->workspace, "/srv/caf\u00e9") == 0, "UTF-8 and control bytes round-trip (%s)", flat(err.msg));
	free(json);
	al_policy_free(a);
	al_policy_free(b);

	/* Same value, different spelling: same digest. */
	a = al_policy_new();
	b = al_policy_new();
	load_str(a, "resources: {memory_limit: 1Gi, cpu_limit: 0.5, timeout_seconds: 60}", &err);
	load_str(b, "{\"resources\": {\"memory_limit\": 1073741824, \"cpu_limit\": \"500m\", \"timeout_seconds\": \"1m\"}}",
		 &err);
	CHECK(same_policy(a, b), "1Gi = 1073741824, 0.5 = 500m, 60 = 1m");
	al_policy_free(a);
	al_policy_free(b);
}

static void test_values(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r;

	r = load_rel(p, "tests/unit/data/relative-paths.yaml", &err);
	CHECK(r == 0, "relative paths load (%s)", r ? err.msg : "ok");
	char want[4096];
	snprintf(want, sizeof want, "%s", src_path("tests/unit/data/ws/../ws"));
	CHECK(p->workspace && strcmp(p->workspace, want) == 0, "workspace relative to the file's directory (%s)",
	      p->workspace);
	CHECK(p->n_mounts == 2 && strcmp(p->mounts[0].source, src_path("tests/unit/data/sub")) == 0 &&
	      p->mounts[0].writable && strcmp(p->mounts[1].source, src_path("tests/unit/data")) == 0 &&
	      !p->mounts[1].writable && strcmp(p->mounts[1].target, "/mnt/here") == 0,
	      "mount sources relative to the file's directory; read-only by default");
	al_policy_free(p);

	/* Python-style booleans, string numbers, Kubernetes sizes, aliases. */
	p = al_policy_new();
	r = load_str(p, "sandbox_config:\n  credentials: {mode: off, secret_scanning: False}\n"
			"  resources: {cpu_limit: \"2\", memory_limit: 4Gi, pids_limit: \"64\"}\n"
			"  filesystem: {mode: ro, mounts: [{source: /srv, target: /srv, read_only: false}]}\n"
			"  network: {mode: deny_all, ingress: none, dns: false}\n"
			"output: {max_bytes: 1M, strip_html: FALSE}\n",
		     &err);
	CHECK(r == 0 && p->cpu_millis == 2000 && p->memory_bytes == 4ull << 30 && p->pids == 64 &&
	      !p->workspace_writable && p->n_mounts == 1 && p->mounts[0].writable && p->out_max_bytes == 1ull << 20,
	      "seed spellings accepted (%s)", r ? err.msg : "ok");
	al_policy_free(p);

	expect_text_ok("network_policy: {default: deny, allow: [], rate_limits: []}");
	expect_text_ok("audit: {log: , agent: '', alerts: [], circuit_breaker: {}}");
	expect_text_ok("---\nresources: {swap: false}\n...\n");
	expect_text_ok("resources: {swap: 0M, timeout_seconds: 1.5, kill_grace: 0}");
	expect_text_ok("process: {hostname: 123}");
	expect_text_ok("process: {env: {set: {DEBUG: true, N: 3}}}");
	expect_text_ok("network: {egress_allowlist: [], rate_limits: ~}");

	expect_text_problem("filesystem: {workspace: /srv/x:rw, mode: rw}",
			    "t.yaml:1: filesystem.mode: also set by filesystem.workspace at line 1");
	/* per stream and per run: two caps, both may be given */
	expect_text_ok("output: {max_bytes: 1M}\nresources: {output_limit: 2M}");
	expect_text_problem("resources: {pids_limit: 10}\nsandbox_config: {resources: {pids_limit: 11}}",
			    "t.yaml:2: sandbox_config.resources.pids_limit: also set by resources.pids_limit at line 1");
	expect_text_problem("sandbox_config: {sandbox_config: {}}",
			    "t.yaml:1: sandbox_config.sandbox_config: unknown key; expected one of: version, isolation, "
			    "filesystem, network, network_policy, resources, process, credentials, output, audit");
	expect_text_problem("isolation: foo", "t.yaml:1: isolation: unknown value 'foo'; expected namespaces "
					      "(aliases strict, restricted, container, sandbox)");
	expect_text_problem("network_policy: {default: allow}",
			    "t.yaml:1: network_policy.default: 'allow' is not possible: every connection is denied "
			    "unless allowed");
	expect_text_problem("network: {ingress: allow}",
			    "t.yaml:1: network.ingress: unknown value 'allow'; expected deny_all (ingress is always denied)");
	expect_text_problem("network: {egress_allowlist: [nohost, 'bad host:80', 'a.com:0', '[::1]:443']}",
			    "t.yaml:1: network.egress_allowlist[0]: expected HOST:PORT in 'nohost'");
	expect_text_problem("network: {egress_allowlist: ['bad host:80']}",
			    "t.yaml:1: network.egress_allowlist[0]: invalid host name in 'bad host:80'");
	expect_text_problem("network: {egress_allowlist: ['a.com:0']}",
			    "t.yaml:1: network.egress_allowlist[0]: invalid port (1-65535 or *) in 'a.com:0'");
	expect_text_problem("network: {rate_limits: [{host: '*'}]}",
			    "t.yaml:1: network.rate_limits[0]: needs requests_per_minute or bytes_per_minute");
	expect_text_problem("network: {rate_limits: [{requests_per_minute: -1, host: x}]}",
			    "t.yaml:1: network.rate_limits[0].requests_per_minute: '-1': expected a whole number from 1 "
			    "to 1000000000");
	expect_text_problem("credentials: {mode: vault}", "t.yaml:1: credentials.mode: unknown value 'vault'; "
							 "expected just_in_time, or none (alias off)");
	expect_text_problem("resources: {memory_limit: 1M}",
			    "t.yaml:1: resources.memory_limit: '1M' is below the minimum of 6M");
	expect_text_problem("resources: {pids_limit: 1000001}",
			    "t.yaml:1: resources.pids_limit: '1000001' is above the maximum of 1000000");
	expect_text_problem("resources: {timeout_seconds: 0}",
			    "t.yaml:1: resources.timeout_seconds: '0' is below the minimum of 1ms");
	expect_text_problem("resources: {memory_limit: 4 GB}",
			    "t.yaml:1: resources.memory_limit: invalid size '4 GB' (expected a size such as 512M or 4Gi)");
	expect_text_problem("resources: {cpu_limit: 2000}", "t.yaml:1: resources.cpu_limit: CPU limit over 1024 CPUs '2000'");
	expect_text_problem("resources: {swap: true}",
			    "t.yaml:1: resources.swap: swap is always off; only 0 or false is accepted");
	expect_text_problem("filesystem: {workspace: /}", "t.yaml:1: filesystem.workspace: the host's root cannot be the workspace");
	expect_text_problem("filesystem: {workspace: ~/proj}", "t.yaml:1: filesystem.workspace: '~' is not expanded; write the full path");
	expect_text_problem("filesystem: {host_mounts: [{source: /a, target: /x/../etc}]}",
			    "t.yaml:1: filesystem.host_mounts[0].target: '..' is not allowed in target '/x/../etc'");
	expect_text_problem("filesystem: {host_mounts: [justonepath]}",
			    "t.yaml:1: filesystem.host_mounts[0]: expected SOURCE:TARGET[:ro|:rw], got 'justonepath' "
			    "(for paths with ':' use {source, target})");
	expect_text_problem("filesystem: {host_mounts: [/a:/b:ro:x]}",
			    "t.yaml:1: filesystem.host_mounts[0]: expected SOURCE:TARGET[:ro|:rw], got '/a:/b:ro:x' "
			    "(for paths with ':' use {source, target})");
	expect_text_problem("filesystem: {host_mounts: [{source: /a, target: /t, mode: ro, read_only: true}]}",
			    "t.yaml:1: filesystem.host_mounts[0]: give 'mode' or 'read_only', not both");
	expect_text_problem("filesystem: {host_mounts: [{source: /a, target: /workspace}]}",
			    "t.yaml:1: filesystem.host_mounts[0].target: /workspace is the workspace; use filesystem.workspace");
	expect_text_problem("filesystem: {host_mounts: [/a:/]}",
			    "t.yaml:1: filesystem.host_mounts[0]: cannot mount over the sandbox's root; use filesystem.root");
	expect_text_problem("filesystem: {host_mounts: [/a:/tmp]}",
			    "t.yaml:1: filesystem.host_mounts[0]: /tmp is airlock's own tmpfs; mount elsewhere");
	expect_text_problem("filesystem: {host_mounts: [{source: /a, target: /b, colour: red}]}",
			    "t.yaml:1: filesystem.host_mounts[0].colour: unknown key; expected one of: source, target, "
			    "mode, read_only");
	expect_text_problem("filesystem: {host_mounts: [/a:/sys]}",
			    "t.yaml:1: filesystem.host_mounts[0]: cannot mount on /sys: airlock provides /sys itself");
	expect_text_problem("process: {env: {set: {A: 1, A: 2}}}", "t.yaml:1: process.env.set.A: 'A' is set twice");
	expect_text_problem("process: {env: {set: {A: [1]}}}", "t.yaml:1: process.env.set.A: expected a string, got a list");
	expect_text_problem("process: {syscalls: {deny: [Open]}}",
			    "t.yaml:1: process.syscalls.deny[0]: invalid syscall name 'Open' (lower-case letters, digits, _)");
	expect_text_problem("process: {hostname: a-very-long-hostname-that-goes-on-and-on-beyond-sixty-three-chars}",
			    "t.yaml:1: process.hostname: invalid hostname 'a-very-long-hostname-that-goes-on-and-on-bey...' "
			    "(1-63 letters, digits and inner '-')");
	expect_text_problem("resources: {cpu-limit: 2}", "t.yaml:1: resources.cpu-limit: unknown key; did you mean 'cpu_limit'?");
	expect_text_problem("[1: 2]: x", "t.yaml:1: policy: expected a key name, got a list");
	expect_text_problem("true: x", "t.yaml:1: policy: expected a key name, got a boolean");
	expect_text_problem("hostname: x", "t.yaml:1: hostname: unknown key; expected one of: sandbox_config, version, "
					   "isolation, filesystem, network, network_policy, resources, process, credentials, "
					   "output, audit");
	expect_text_problem("process: {hostname: \"not a hostname\"}",
			    "t.yaml:1: process.hostname: invalid hostname 'not a hostname' (1-63 letters, digits and inner '-')");
	expect_text_problem("a: 1\n---\nb: 2\n", "t.yaml:2: policy: a second YAML document; a policy is one document");
	expect_text_problem("version: 1\nresources: {memory_limit: 1G\n",
			    "t.yaml:3: syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2)");
	expect_text_problem("version: 1\nx: \"\xff\"\n", "t.yaml:2: syntax error: invalid leading UTF-8 octet");
}

/* ---- network: the egress gateway's keys ---------------------------------- */

/* Load text into a fresh policy; NULL (after a failed CHECK) when refused. */
static al_policy *load_new(const char *text)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r = load_str(p, text, &err);
	CHECK(r == 0, "'%s' loads (%s)", flat(text), r ? flat(err.msg) : "ok");
	if (r == 0)
		return p;
	al_policy_free(p);
	return NULL;
}

/* Exactly n problems, each of want among them, and the policy untouched. */
static void expect_text_problems(const char *text, const char *const *want, size_t n)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r = load_str(p, text, &err);
	CHECK(r < 0 && count_lines(err.msg) == n, "'%s': %zu problem(s) (got %s)", flat(text), n, flat(err.msg));
	for (size_t i = 0; i < n; i++)
		CHECK(has_problem(err.msg, want[i]), "'%s' reports '%s'", flat(text), want[i]);
	CHECK(is_default(p), "unchanged after '%s'", flat(text));
	al_policy_free(p);
}
#define EXPECT_TEXT(text, ...)                                                    \
	do {                                                                      \
		static const char *const t_[] = { __VA_ARGS__ };                  \
		expect_text_problems(text, t_, sizeof t_ / sizeof t_[0]);         \
	} while (0)

/* The list holds exactly these strings (in any order). */
static bool list_is(const struct al_strlist *l, const char *const *want, size_t n)
{
	if (l->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!al_strlist_contains(l, want[i]))
			return false;
	return true;
}
#define LIST_IS(l, ...)                                                           \
	list_is((l), (const char *const[]){ __VA_ARGS__ },                        \
		sizeof (const char *const[]){ __VA_ARGS__ } / sizeof(const char *))

static const char *rate_host(const al_policy *p, size_t i)
{
	return i < p->n_rate_limits && p->rate_limits[i].host ? p->rate_limits[i].host : "(none)";
}

static void test_network_seeds(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r = load_rel(p, "tests/unit/data/seed-network-policy.yaml", &err);
	CHECK(r == 0, "the proxy gateway article's network_policy block loads as written (%s)", r ? flat(err.msg) : "ok");
	CHECK(p->net_mode == AL_NET_GATEWAY, "seed-network-policy: its allow list implies mode gateway");
	CHECK(LIST_IS(&p->egress_allow, "api.openai.com:443", "api.anthropic.com:443", "your-vector-store.internal:6333",
		      "your-tool-api.com:443"), "seed-network-policy: the four allow entries (%zu)", p->egress_allow.n);
	CHECK(p->egress_deny.n == 0, "seed-network-policy: no deny entries");
	CHECK(p->n_rate_limits == 1 && strcmp(rate_host(p, 0), "*") == 0 && p->rate_limits[0].rpm == 60 &&
	      p->rate_limits[0].bpm == 0, "seed-network-policy: one rate limit, '*' at 60 requests per minute");
	al_policy_free(p);

	/* The article's sandbox_config as a policy airlock runs: both network blocks add up. */
	p = al_policy_new();
	r = load_rel(p, "policies/seed-sandbox-config.yaml", &err);
	CHECK(r == 0 && p->net_mode == AL_NET_GATEWAY, "seed preset: mode restricted = gateway (%s)",
	      r ? flat(err.msg) : "ok");
	CHECK(LIST_IS(&p->egress_allow, "api.openai.com:443", "github.com:443", "api.anthropic.com:443",
		      "your-vector-store.internal:6333", "your-tool-api.com:443"),
	      "seed preset: network.egress_allowlist and network_policy.allow merge, api.openai.com once (%zu)",
	      p->egress_allow.n);
	CHECK(p->n_rate_limits == 1 && p->rate_limits[0].rpm == 60, "seed preset: the rate limit of network_policy");
	al_policy_free(p);

	/* seed-gvisor.yaml with only its network block: accepted. */
	p = load_new("sandbox_config: {\"network\": {\"mode\": \"restricted\", \"egress_allowlist\": "
		     "[\"api.openai.com:443\", \"github.com:443\",], \"ingress\": \"deny_all\",},}");
	CHECK(p && p->net_mode == AL_NET_GATEWAY &&
	      LIST_IS(&p->egress_allow, "api.openai.com:443", "github.com:443"),
	      "seed-gvisor's network block alone: gateway with its two entries");
	al_policy_free(p);
}

static void test_network_mode(void)
{
	static const struct {
		const char *word;
		enum al_net_mode mode;
	} words[] = {
		{ "gateway", AL_NET_GATEWAY }, { "restricted", AL_NET_GATEWAY }, { "proxy", AL_NET_GATEWAY },
		{ "Gateway", AL_NET_GATEWAY }, { "none", AL_NET_NONE }, { "off", AL_NET_NONE },
		{ "deny_all", AL_NET_NONE }, { "isolated", AL_NET_NONE },
	};
	al_error err;
	int r;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		al_policy *p = al_policy_new();
		/* start from the other mode, so that the default cannot pass for the word */
		p->net_mode = words[i].mode == AL_NET_NONE ? AL_NET_GATEWAY : AL_NET_NONE;
		char text[64];
		snprintf(text, sizeof text, "network: {mode: %s}", words[i].word);
		r = load_str(p, text, &err);
		CHECK(r == 0 && p->net_mode == words[i].mode, "network.mode %s -> %s (%s)", words[i].word,
		      words[i].mode == AL_NET_GATEWAY ? "gateway" : "none", r ? flat(err.msg) : "ok");
		CHECK(p->egress_allow.n == 0, "network.mode %s adds no allow entry", words[i].word);
		al_policy_free(p);
	}
	expect_text_problem("network: {mode: host}", "t.yaml:1: network.mode: 'host' is not offered: the sandbox never "
						     "shares a network with the host; use gateway or none");
	expect_text_problem("network: {mode: bridge}", "t.yaml:1: network.mode: 'bridge' is not offered: the sandbox "
						       "never shares a network with the host; use gateway or none");
	expect_text_problem("network: {mode: foo}", "t.yaml:1: network.mode: unknown value 'foo'; expected gateway "
						    "(aliases restricted, proxy) or none (aliases off, deny_all, isolated)");
	expect_text_problem("network: {mode: [gateway]}", "t.yaml:1: network.mode: expected gateway (aliases restricted, "
							  "proxy) or none (aliases off, deny_all, isolated), got a list");
	expect_text_problem("network: {mode: gateway}\nsandbox_config: {network: {mode: none}}",
			    "t.yaml:2: sandbox_config.network.mode: also set by network.mode at line 1");

	/* An allow entry asks for the gateway... */
	al_policy *p = load_new("network: {egress_allowlist: ['api.example.com:443']}");
	CHECK(p && p->net_mode == AL_NET_GATEWAY, "an egress_allowlist entry implies mode gateway");
	al_policy_free(p);
	p = load_new("network_policy: {allow: ['api.example.com:443']}");
	CHECK(p && p->net_mode == AL_NET_GATEWAY, "a network_policy.allow entry implies mode gateway");
	al_policy_free(p);
	p = load_new("network: {egress_allowlist: ['a.example.com:443'], mode: gateway}");
	CHECK(p && p->net_mode == AL_NET_GATEWAY && p->egress_allow.n == 1, "mode gateway with an allowlist");
	al_policy_free(p);
	p = load_new("network: {mode: gateway}");
	CHECK(p && p->net_mode == AL_NET_GATEWAY && p->egress_allow.n == 0,
	      "mode gateway with no allowlist: the gateway, denying everything");
	al_policy_free(p);
	/* ...a deny entry or an empty list does not. */
	p = load_new("network: {egress_denylist: ['evil.example.com:*']}");
	CHECK(p && p->net_mode == AL_NET_NONE && LIST_IS(&p->egress_deny, "evil.example.com:*"),
	      "a denylist alone leaves mode none");
	al_policy_free(p);
	p = load_new("network: {mode: none, egress_allowlist: [], egress_denylist: ['x.example.com:1']}");
	CHECK(p && p->net_mode == AL_NET_NONE && p->egress_allow.n == 0 && p->egress_deny.n == 1,
	      "mode none with an empty allowlist and a denylist loads as none");
	al_policy_free(p);
	p = load_new("network_policy: {default: deny, allow: [], deny: ['x.example.com:1']}");
	CHECK(p && p->net_mode == AL_NET_NONE && p->egress_deny.n == 1, "network_policy.deny alone leaves mode none");
	al_policy_free(p);

	/* An explicit none next to an allowlist: an error on network.mode's line. */
	EXPECT_TEXT("network: {mode: none, egress_allowlist: ['api.example.com:443']}",
		    "t.yaml:1: network.mode: 'none' contradicts the egress allowlist given; use mode: gateway");
	EXPECT_TEXT("version: 1\nnetwork:\n  egress_allowlist:\n    - api.example.com:443\n  mode: off\n",
		    "t.yaml:5: network.mode: 'none' contradicts the egress allowlist given; use mode: gateway");
	EXPECT_TEXT("network:\n  mode: isolated\nnetwork_policy:\n  allow: [api.example.com:443]\n",
		    "t.yaml:2: network.mode: 'none' contradicts the egress allowlist given; use mode: gateway");
	EXPECT_TEXT("sandbox_config:\n  network:\n    mode: deny_all\n    egress_allowlist: [a.example.com:443]\n",
		    "t.yaml:3: network.mode: 'none' contradicts the egress allowlist given; use mode: gateway");
	/* A bad entry is its own problem; it asks for nothing. */
	EXPECT_TEXT("network: {mode: none, egress_allowlist: ['api.example.com']}",
		    "t.yaml:1: network.egress_allowlist[0]: expected HOST:PORT in 'api.example.com'");

	/* Overrides: each is its own document. */
	p = al_policy_new();
	r = load_str(p, "network: {mode: none}", &err);
	CHECK(r == 0 && p->net_mode == AL_NET_NONE, "a file with mode none");
	al_error_clear(&err);
	r = al_policy_set(p, "network.egress_allowlist", "API.Example.com:443", "--allow-host", &err);
	CHECK(r == 0 && p->net_mode == AL_NET_GATEWAY && LIST_IS(&p->egress_allow, "api.example.com:443"),
	      "--allow-host onto a file with mode none: gateway, entry normalised (%s)", r ? flat(err.msg) : "ok");
	al_error_clear(&err);
	r = al_policy_set(p, "network.egress_allowlist", "*.example.org:*", "--allow-host", &err);
	CHECK(r == 0 && LIST_IS(&p->egress_allow, "api.example.com:443", "*.example.org:*"),
	      "a second --allow-host appends (%s)", r ? flat(err.msg) : "ok");
	al_error_clear(&err);
	r = al_policy_set(p, "network.egress_denylist", "bad.example.org:*", "--deny-host", &err);
	CHECK(r == 0 && LIST_IS(&p->egress_deny, "bad.example.org:*") && p->net_mode == AL_NET_GATEWAY,
	      "--deny-host appends to the denylist (%s)", r ? flat(err.msg) : "ok");
	al_policy_free(p);

	p = al_policy_new();
	al_error_clear(&err);
	r = al_policy_set(p, "network.mode", "gateway", "--net", &err);
	CHECK(r == 0 && p->net_mode == AL_NET_GATEWAY, "--net gateway");
	r = load_str(p, "network: {mode: none}", &err);
	CHECK(r == 0 && p->net_mode == AL_NET_NONE, "a later file's mode none applies when it has no allowlist");
	r = load_str(p, "network: {mode: off, egress_allowlist: ['a.example.com:80']}", &err);
	CHECK(r < 0 && p->net_mode == AL_NET_NONE && p->egress_allow.n == 0,
	      "a refused document changes neither the mode nor the list (%s)", flat(err.msg));
	al_policy_free(p);
}

static void test_egress_entries(void)
{
	al_policy *p = load_new(
		"network:\n"
		"  egress_allowlist:\n"
		"    - API.Example.COM:443\n"      /* 3: lower case */
		"    - api.example.com.:443\n"     /* 4: one trailing dot; same entry */
		"    - '*.GitHub.com:*'\n"         /* 5: wildcard, any port */
		"    - '*:8080'\n"                 /* 6: any host, one port */
		"    - 10.1.2.3/8:5432\n"          /* 7: host bits masked */
		"    - 192.168.1.7:22\n"           /* 8 */
		"    - '[::1]:443'\n"              /* 9 */
		"    - '[FD00::1]/8:*'\n"          /* 10 */
		"    - '[2001:DB8::]/128:443'\n"   /* 11: a full prefix is dropped */
		"    - 10.0.0.0/32:80\n"           /* 12 */
		"    - _srv.example.com:00443\n"   /* 13: leading zeros of a port */
		"  egress_denylist: [Evil.Example.COM:*, '169.254.169.254:*', '*.evil.example:443']\n");
	CHECK(p && LIST_IS(&p->egress_allow, "api.example.com:443", "*.github.com:*", "*:8080", "10.0.0.0/8:5432",
			   "192.168.1.7:22", "[::1]:443", "[fd00::]/8:*", "[2001:db8::]:443", "10.0.0.0:80",
			   "_srv.example.com:443"),
	      "allow entries normalised: case, trailing dot, masked CIDR, brackets, ports (%zu entries)",
	      p ? p->egress_allow.n : 0);
	CHECK(p && LIST_IS(&p->egress_deny, "evil.example.com:*", "169.254.169.254:*", "*.evil.example:443"),
	      "deny entries normalised the same way");
	CHECK(p && p->net_mode == AL_NET_GATEWAY, "and the allowlist made it a gateway");
	al_policy_free(p);

	p = load_new("network: {egress_allowlist: ['host.example:*', '*:*', 'host.example:1', 'host.example:65535']}");
	CHECK(p && LIST_IS(&p->egress_allow, "host.example:*", "*:*", "host.example:1", "host.example:65535"),
	      "'host:*', '*:*' and the port bounds 1 and 65535");
	al_policy_free(p);

	/* Two spellings of one entry: one entry, one digest. */
	al_policy *a = load_new("network: {egress_allowlist: ['A.example.com.:443', '10.9.9.9/8:1']}");
	al_policy *b = load_new("network: {egress_allowlist: ['10.0.0.0/8:1', 'a.example.com:443', 'a.EXAMPLE.com:443']}");
	CHECK(a && b && same_policy(a, b) && b->egress_allow.n == 2, "spellings of the same entries: same digest");
	al_policy_free(a);
	al_policy_free(b);
	a = load_new("network: {egress_allowlist: ['a.example.com:443']}");
	b = load_new("network: {egress_allowlist: ['a.example.com:*']}");
	CHECK(a && b && !same_policy(a, b), "port 443 and port * differ");
	al_policy_free(a);
	al_policy_free(b);
	a = load_new("network: {egress_allowlist: ['a.example.com:443']}");
	b = load_new("network: {egress_allowlist: ['a.example.com:443'], egress_denylist: ['a.example.com:443']}");
	CHECK(a && b && !same_policy(a, b), "the denylist is in the digest");
	al_policy_free(a);
	al_policy_free(b);

	/* Each entry refused for its own reason, all of them reported. */
	EXPECT_TEXT("network:\n"
		    "  egress_allowlist:\n"
		    "    - example.com\n"              /* 3 */
		    "    - 'example.com:'\n"           /* 4 */
		    "    - 'example.com:65536'\n"      /* 5 */
		    "    - 'example.com:http'\n"       /* 6 */
		    "    - ':443'\n"                   /* 7 */
		    "    - '::1:443'\n"                /* 8 */
		    "    - '[::1]'\n"                  /* 9 */
		    "    - '[1.2.3.4]:443'\n"          /* 10 */
		    "    - '127.1:80'\n"               /* 11 */
		    "    - '2130706433:80'\n"          /* 12 */
		    "    - 'a..b:80'\n"                /* 13 */
		    "    - '*.*.example.com:80'\n"     /* 14 */
		    "    - '10.0.0.0/33:80'\n"         /* 15 */
		    "    - '-a.example.com:80'\n"      /* 16 */
		    "    - 'ex ample.com:80'\n"        /* 17 */
		    "    - 443\n",                     /* 18 */
		    "t.yaml:3: network.egress_allowlist[0]: expected HOST:PORT in 'example.com'",
		    "t.yaml:4: network.egress_allowlist[1]: invalid port (1-65535 or *) in 'example.com:'",
		    "t.yaml:5: network.egress_allowlist[2]: invalid port (1-65535 or *) in 'example.com:65536'",
		    "t.yaml:6: network.egress_allowlist[3]: invalid port (1-65535 or *) in 'example.com:http'",
		    "t.yaml:7: network.egress_allowlist[4]: empty host in ':443'",
		    "t.yaml:8: network.egress_allowlist[5]: IPv6 addresses go in brackets: [::1]:443 in '::1:443'",
		    "t.yaml:9: network.egress_allowlist[6]: expected HOST:PORT in '[::1]'",
		    "t.yaml:10: network.egress_allowlist[7]: invalid IPv6 address in '[1.2.3.4]:443'",
		    "t.yaml:11: network.egress_allowlist[8]: invalid address in '127.1:80'",
		    "t.yaml:12: network.egress_allowlist[9]: invalid address in '2130706433:80'",
		    "t.yaml:13: network.egress_allowlist[10]: invalid host name in 'a..b:80'",
		    "t.yaml:14: network.egress_allowlist[11]: invalid domain after '*.' in '*.*.example.com:80'",
		    "t.yaml:15: network.egress_allowlist[12]: prefix length too large in '10.0.0.0/33:80'",
		    "t.yaml:16: network.egress_allowlist[13]: invalid host name in '-a.example.com:80'",
		    "t.yaml:17: network.egress_allowlist[14]: invalid host name in 'ex ample.com:80'",
		    "t.yaml:18: network.egress_allowlist[15]: expected HOST:PORT in '443'");
	EXPECT_TEXT("network_policy: {deny: ['evil.example.com'], allow: [{host: a}]}",
		    "t.yaml:1: network_policy.deny[0]: expected HOST:PORT in 'evil.example.com'",
		    "t.yaml:1: network_policy.allow[0]: expected HOST:PORT, got a mapping");
	EXPECT_TEXT("network: {egress_denylist: 'evil.example.com:443'}",
		    "t.yaml:1: network.egress_denylist: expected a list, got 'evil.example.com:443'");

	/* A list may hold 1024 entries. */
	char *many = malloc(40000);
	size_t len = (size_t)sprintf(many, "network:\n  egress_allowlist:\n");
	for (int i = 0; i < 1025; i++)
		len += (size_t)sprintf(many + len, "    - h%d.example.com:443\n", i);
	al_error err;
	p = al_policy_new();
	int r = al_policy_load_buffer(p, "t.yaml", many, len, &err);
	CHECK(r < 0 && strcmp(err.msg, "t.yaml:3: network.egress_allowlist: 1025 entries; at most 1024 are allowed") == 0,
	      "1025 allow entries refused: %s", flat(err.msg));
	len = (size_t)sprintf(many, "network:\n  egress_allowlist:\n");
	for (int i = 0; i < 1024; i++)
		len += (size_t)sprintf(many + len, "    - h%d.example.com:443\n", i);
	r = al_policy_load_buffer(p, "t.yaml", many, len, &err);
	CHECK(r == 0 && p->egress_allow.n == 1024, "1024 allow entries load (%s)", r ? flat(err.msg) : "ok");
	free(many);
	al_policy_free(p);
}

static void test_network_hosts(void)
{
	al_policy *p = load_new("network:\n  hosts:\n    Db.Internal.: 10.0.0.5\n    v6.internal: 'fd00::5'\n");
	CHECK(p && LIST_IS(&p->net_hosts, "db.internal=10.0.0.5", "v6.internal=fd00::5"),
	      "hosts as a mapping: names normalised, IPv4 and IPv6");
	CHECK(p && p->net_mode == AL_NET_NONE, "hosts alone do not turn the gateway on");
	al_policy_free(p);
	p = load_new("network: {hosts: ['db.internal=10.0.0.5', 'V6.internal=::1', 'db.internal=10.0.0.6']}");
	CHECK(p && LIST_IS(&p->net_hosts, "db.internal=10.0.0.6", "v6.internal=::1"),
	      "hosts as a NAME=ADDRESS list; a later value for a name replaces the earlier");
	al_policy_free(p);
	p = load_new("network: {hosts: ~}");
	CHECK(p && p->net_hosts.n == 0, "hosts: ~ is no hosts");
	al_policy_free(p);

	al_policy *a = load_new("network: {hosts: {a.internal: 10.0.0.1, b.internal: 10.0.0.2}}");
	al_policy *b = load_new("network: {hosts: [B.internal=10.0.0.2, a.internal=10.0.0.1]}");
	CHECK(a && b && same_policy(a, b), "hosts: mapping and list, any order: one digest");
	al_policy_free(b);
	b = load_new("network: {hosts: {a.internal: 10.0.0.1, b.internal: 10.0.0.3}}");
	CHECK(a && b && !same_policy(a, b), "a different address: a different digest");
	al_policy_free(a);
	al_policy_free(b);

	al_error err;
	p = al_policy_new();
	al_error_clear(&err);
	int r = al_policy_set(p, "network.hosts", "Cache.Internal=192.168.0.9", "--host", &err);
	CHECK(r == 0 && LIST_IS(&p->net_hosts, "cache.internal=192.168.0.9"), "--host NAME=ADDRESS override (%s)",
	      r ? flat(err.msg) : "ok");
	al_policy_free(p);

	EXPECT_TEXT("network:\n"
		    "  hosts:\n"
		    "    - noequals\n"             /* 3 */
		    "    - =1.2.3.4\n"             /* 4 */
		    "    - '*.a.example=1.2.3.4'\n" /* 5 */
		    "    - 1.2.3.4=5.6.7.8\n"      /* 6 */
		    "    - 'a.example=[::1]'\n"    /* 7 */
		    "    - a.example=999.1.1.1\n"  /* 8 */
		    "    - a.example=\n"           /* 9 */
		    "    - 'bad name=1.2.3.4'\n",  /* 10 */
		    "t.yaml:3: network.hosts[0]: expected NAME=ADDRESS, got 'noequals'",
		    "t.yaml:4: network.hosts[1]: expected NAME=ADDRESS, got '=1.2.3.4'",
		    "t.yaml:5: network.hosts[2]: invalid host name '*.a.example'",
		    "t.yaml:6: network.hosts[3]: invalid host name '1.2.3.4'",
		    "t.yaml:7: network.hosts[4]: '[::1]' is not an IPv4 or IPv6 address",
		    "t.yaml:8: network.hosts[5]: '999.1.1.1' is not an IPv4 or IPv6 address",
		    "t.yaml:9: network.hosts[6]: '' is not an IPv4 or IPv6 address",
		    "t.yaml:10: network.hosts[7]: invalid host name 'bad name'");
	EXPECT_TEXT("network:\n  hosts:\n    a.example: 10.0.0.256\n    b.example: [1]\n    '*': 1.2.3.4\n    c.example: ~\n",
		    "t.yaml:3: network.hosts.a.example: '10.0.0.256' is not an IPv4 or IPv6 address",
		    "t.yaml:4: network.hosts.b.example: expected an IP address, got a list",
		    "t.yaml:5: network.hosts.*: invalid host name '*'",
		    "t.yaml:6: network.hosts.c.example: missing value (expected an IP address)");
	EXPECT_TEXT("network: {hosts: 5}", "t.yaml:1: network.hosts: expected a mapping, got '5'");
}

static void test_rate_limits(void)
{
	al_policy *p = load_new("network:\n  rate_limits:\n"
				"    - {host: '*', requests_per_minute: 60}\n"
				"    - {host: '*.Example.COM', bytes_per_minute: 1M}\n"
				"    - {host: API.example.com., requests_per_minute: 10, bytes_per_minute: 5000}\n"
				"    - {host: '10.1.2.3/8', requests_per_minute: '1000000000'}\n"
				"    - {host: '[::1]', requests_per_minute: 1}\n"
				"network_policy:\n  rate_limits: [{host: b.example, requests_per_minute: 1}]\n");
	CHECK(p && p->n_rate_limits == 6, "six rate limits, network's and network_policy's (%zu)",
	      p ? p->n_rate_limits : 0);
	if (p && p->n_rate_limits == 6) {
		CHECK(strcmp(rate_host(p, 0), "*") == 0 && p->rate_limits[0].rpm == 60 && p->rate_limits[0].bpm == 0,
		      "'*': 60 requests per minute, no byte limit");
		CHECK(strcmp(rate_host(p, 1), "*.example.com") == 0 && p->rate_limits[1].rpm == 0 &&
		      p->rate_limits[1].bpm == 1ull << 20, "'*.example.com' lowercased: 1M bytes per minute, no request limit");
		CHECK(strcmp(rate_host(p, 2), "api.example.com") == 0 && p->rate_limits[2].rpm == 10 &&
		      p->rate_limits[2].bpm == 5000, "a name with both limits, normalised (%s)", rate_host(p, 2));
		CHECK(strcmp(rate_host(p, 3), "10.0.0.0/8") == 0 && p->rate_limits[3].rpm == 1000000000,
		      "a CIDR pattern, masked; the largest request rate (%s)", rate_host(p, 3));
		CHECK(strcmp(rate_host(p, 4), "[::1]") == 0, "an IPv6 pattern in brackets");
		CHECK(strcmp(rate_host(p, 5), "b.example") == 0, "network_policy.rate_limits add to network's");
	}
	CHECK(p && p->net_mode == AL_NET_NONE, "rate limits alone do not turn the gateway on");

	/* policy_copy copies them deeply. */
	struct al_policy copy;
	CHECK(p && policy_copy(&copy, p) == 0 && copy.n_rate_limits == p->n_rate_limits &&
	      copy.rate_limits != p->rate_limits && copy.rate_limits[0].host != p->rate_limits[0].host &&
	      strcmp(copy.rate_limits[2].host, "api.example.com") == 0 && copy.rate_limits[2].bpm == 5000 &&
	      same_policy(&copy, p), "policy_copy: a deep, equal copy of the rate limits");
	if (p)
		policy_clear(&copy);
	al_policy_free(p);

	EXPECT_TEXT("network:\n  rate_limits:\n"
		    "    - '*'\n"                                                     /* 3 */
		    "    - {requests_per_minute: 3}\n"                                /* 4 */
		    "    - {host: a.example}\n"                                       /* 5 */
		    "    - {host: a.example, requests_per_minute: 0}\n"               /* 6 */
		    "    - {host: a.example, requests_per_minute: 1000000001}\n"      /* 7 */
		    "    - {host: a.example, requests_per_minute: 1.5}\n"             /* 8 */
		    "    - {host: a.example, bytes_per_minute: 0}\n"                  /* 9 */
		    "    - {host: a.example, bytes_per_minute: lots}\n"               /* 10 */
		    "    - {host: 'bad host', requests_per_minute: 1}\n"              /* 11 */
		    "    - {host: '*.', requests_per_minute: 1}\n"                    /* 12 */
		    "    - {host: [a], requests_per_minute: 1}\n"                     /* 13 */
		    "    - {host: a.example, requests_per_minute: true}\n",           /* 14 */
		    "t.yaml:3: network.rate_limits[0]: expected a mapping {host, requests_per_minute, bytes_per_minute}, "
		    "got '*'",
		    "t.yaml:4: network.rate_limits[1]: missing 'host'",
		    "t.yaml:5: network.rate_limits[2]: needs requests_per_minute or bytes_per_minute",
		    "t.yaml:6: network.rate_limits[3].requests_per_minute: '0': expected a whole number from 1 to 1000000000",
		    "t.yaml:7: network.rate_limits[4].requests_per_minute: '1000000001': expected a whole number from 1 to "
		    "1000000000",
		    "t.yaml:8: network.rate_limits[5].requests_per_minute: '1.5': expected a whole number from 1 to "
		    "1000000000",
		    "t.yaml:9: network.rate_limits[6].bytes_per_minute: '0': expected a size such as 50M",
		    "t.yaml:10: network.rate_limits[7].bytes_per_minute: 'lots': expected a size such as 50M",
		    "t.yaml:11: network.rate_limits[8].host: invalid host name in 'bad host'",
		    "t.yaml:12: network.rate_limits[9].host: invalid domain after '*.' in '*.'",
		    "t.yaml:13: network.rate_limits[10].host: expected a host name or pattern, got a list",
		    "t.yaml:14: network.rate_limits[11].requests_per_minute: expected a whole number, got a boolean");
	/* An unknown key is refused (and a misspelt limit leaves none). */
	EXPECT_TEXT("network: {rate_limits: [{host: '*', rpm: 3}]}",
		    "t.yaml:1: network.rate_limits[0].rpm: unknown key; expected one of: host, requests_per_minute, "
		    "bytes_per_minute",
		    "t.yaml:1: network.rate_limits[0]: needs requests_per_minute or bytes_per_minute");
	EXPECT_TEXT("network: {rate_limits: [{host: '*', requests_per_minute: 3, burst: 10}]}",
		    "t.yaml:1: network.rate_limits[0].burst: unknown key; expected one of: host, requests_per_minute, "
		    "bytes_per_minute");
	/* A pattern has no port. */
	al_policy *q = al_policy_new();
	al_error err;
	int r = load_str(q, "network: {rate_limits: [{host: 'api.example.com:443', requests_per_minute: 3}]}", &err);
	CHECK(r < 0 && count_lines(err.msg) == 1 &&
	      strncmp(err.msg, "t.yaml:1: network.rate_limits[0].host: ", 39) == 0 && q->n_rate_limits == 0,
	      "a rate-limit host with a port is refused (%s)", flat(err.msg));
	al_policy_free(q);

	/* At most 64: in one list, and across network and network_policy. */
	char *many = malloc(20000);
	size_t len = (size_t)sprintf(many, "network:\n  rate_limits:\n");
	for (int i = 0; i < 65; i++)
		len += (size_t)sprintf(many + len, "    - {host: h%d.example, requests_per_minute: 1}\n", i);
	q = al_policy_new();
	r = al_policy_load_buffer(q, "t.yaml", many, len, &err);
	CHECK(r < 0 && strcmp(err.msg, "t.yaml:3: network.rate_limits: 65 entries; at most 64 are allowed") == 0,
	      "65 rate limits in one list refused: %s", flat(err.msg));
	len = (size_t)sprintf(many, "network:\n  rate_limits:\n");
	for (int i = 0; i < 64; i++)
		len += (size_t)sprintf(many + len, "    - {host: h%d.example, requests_per_minute: 1}\n", i);
	r = al_policy_load_buffer(q, "t.yaml", many, len, &err);
	CHECK(r == 0 && q->n_rate_limits == 64, "64 rate limits load (%s)", r ? flat(err.msg) : "ok");
	al_policy_free(q);
	len = (size_t)sprintf(many, "network:\n  rate_limits:\n");
	for (int i = 0; i < 40; i++)
		len += (size_t)sprintf(many + len, "    - {host: h%d.example, requests_per_minute: 1}\n", i);
	len += (size_t)sprintf(many + len, "network_policy:\n  rate_limits:\n");
	for (int i = 0; i < 40; i++)
		len += (size_t)sprintf(many + len, "    - {host: g%d.example, requests_per_minute: 1}\n", i);
	q = al_policy_new();
	r = al_policy_load_buffer(q, "t.yaml", many, len, &err);
	CHECK(r < 0 && count_lines(err.msg) == 16 &&
	      has_problem(err.msg, "t.yaml:69: network_policy.rate_limits[24]: more than 64 rate limits") &&
	      has_problem(err.msg, "t.yaml:84: network_policy.rate_limits[39]: more than 64 rate limits") &&
	      !has_problem(err.msg, "t.yaml:68: network_policy.rate_limits[23]: more than 64 rate limits") &&
	      is_default(q), "40 + 40 rate limits: the 65th and later refused (%s)", flat(err.msg));
	free(many);
	al_policy_free(q);

	/* Their order is kept (and written); the same limits give the same digest. */
	al_policy *a = load_new("network: {rate_limits: [{host: '*', requests_per_minute: 60}]}");
	al_policy *b = load_new("network: {rate_limits: [{requests_per_minute: \"60\", host: \"*\"}]}");
	CHECK(a && b && same_policy(a, b), "key order and quoting of a rate limit: one digest");
	al_policy_free(b);
	b = load_new("network: {rate_limits: [{host: '*', requests_per_minute: 61}]}");
	CHECK(a && b && !same_policy(a, b), "another rate: another digest");
	al_policy_free(b);
	b = load_new("network: {rate_limits: [{host: '*', requests_per_minute: 60, bytes_per_minute: 1G}]}");
	CHECK(a && b && !same_policy(a, b), "a byte limit added: another digest");
	al_policy_free(a);
	al_policy_free(b);
}

static void test_network_numbers(void)
{
	al_policy *p = al_policy_new();
	CHECK(p->net_max_connections == 64 && p->net_connect_timeout_ms == 10000 && p->net_idle_timeout_ms == 300000 &&
	      p->net_request_timeout_ms == 10000, "network defaults: 64 connections, 10 s connect, 5 min idle, 10 s request");
	al_policy_free(p);
	p = load_new("network: {max_connections: 100000, connect_timeout: 2.5, idle_timeout: 1d, request_timeout: 100ms}");
	CHECK(p && p->net_max_connections == 100000 && p->net_connect_timeout_ms == 2500 &&
	      p->net_idle_timeout_ms == 86400000 && p->net_request_timeout_ms == 100,
	      "maximum connections, a fractional timeout, the largest idle and the smallest request timeout");
	CHECK(p && p->net_mode == AL_NET_NONE, "numbers alone do not turn the gateway on");
	al_policy_free(p);
	p = load_new("network: {max_connections: 1, connect_timeout: 1h, idle_timeout: 100ms, request_timeout: 1h}");
	CHECK(p && p->net_max_connections == 1 && p->net_connect_timeout_ms == 3600000 &&
	      p->net_idle_timeout_ms == 100 && p->net_request_timeout_ms == 3600000, "the other bounds");
	al_policy_free(p);

	EXPECT_TEXT("network:\n  max_connections: 0\n  connect_timeout: 50ms\n  idle_timeout: 2d\n"
		    "  request_timeout: abc\n  dns: true\n",
		    "t.yaml:2: network.max_connections: '0' is below the minimum of 1",
		    "t.yaml:3: network.connect_timeout: '50ms' is below the minimum of 100ms",
		    "t.yaml:4: network.idle_timeout: '2d' is above the maximum of 1d",
		    "t.yaml:5: network.request_timeout: invalid duration 'abc' (expected a duration such as 30, 30s or 5m)",
		    "t.yaml:6: network.dns: not supported yet (a DNS responder inside the sandbox; names resolve through "
		    "the gateway); set it to false");
	EXPECT_TEXT("network: {max_connections: 100001, connect_timeout: 2h, request_timeout: 61m, idle_timeout: 99ms}",
		    "t.yaml:1: network.max_connections: '100001' is above the maximum of 100000",
		    "t.yaml:1: network.connect_timeout: '2h' is above the maximum of 1h",
		    "t.yaml:1: network.request_timeout: '61m' is above the maximum of 1h",
		    "t.yaml:1: network.idle_timeout: '99ms' is below the minimum of 100ms");
	EXPECT_TEXT("network: {max_connections: -1}", "t.yaml:1: network.max_connections: negative number '-1'");
	EXPECT_TEXT("network: {dns: maybe}", "t.yaml:1: network.dns: expected true or false, got 'maybe'");
	expect_text_ok("network: {dns: False}");
	EXPECT_TEXT("network: {max_connections: 5}\nsandbox_config: {network: {max_connections: 6}}",
		    "t.yaml:2: sandbox_config.network.max_connections: also set by network.max_connections at line 1");
}

/* Write p's JSON to a fresh string (caller frees). */
static char *json_of(const al_policy *p, size_t *len)
{
	char *json = NULL;
	FILE *f = open_memstream(&json, len);
	if (!f)
		return NULL;
	int r = al_policy_write_json(p, f);
	fclose(f);
	if (r < 0) {
		free(json);
		return NULL;
	}
	return json;
}

static void test_network_round_trip(void)
{
	static const char every_key[] =
		"network:\n"
		"  mode: proxy\n"
		"  egress_allowlist: ['API.Example.com.:443', '*.github.com:*', '10.9.8.7/8:5432', '[FD00::1]/8:*',\n"
		"                     '*:8080', '[::1]:443', 192.0.2.10:80]\n"
		"  egress_denylist: ['evil.example.com:*', '169.254.169.254:*', '*.evil.example:443']\n"
		"  ingress: deny_all\n"
		"  rate_limits:\n"
		"    - {host: '*', requests_per_minute: 60}\n"
		"    - {host: '*.github.com', bytes_per_minute: 50M}\n"
		"    - {host: api.example.com, requests_per_minute: 10, bytes_per_minute: 1000}\n"
		"    - {host: '10.0.0.0/8', bytes_per_minute: 1536}\n"
		"  hosts: {db.internal: 10.0.0.5, V6.Internal: 'fd00::5'}\n"
		"  max_connections: 10\n"
		"  connect_timeout: 2.5\n"
		"  idle_timeout: 90m\n"
		"  request_timeout: 1500ms\n"
		"  dns: false\n"
		"network_policy:\n"
		"  default: deny\n"
		"  allow: [x.example.org:443]\n"
		"  deny: [y.example.org:443]\n"
		"  rate_limits: [{host: x.example.org, requests_per_minute: 5}]\n";
	al_policy *a = load_new(every_key), *b = al_policy_new(), *c = al_policy_new();
	al_error err;
	size_t len = 0, len2 = 0;
	char *json = a ? json_of(a, &len) : NULL;
	CHECK(json != NULL, "the JSON of a policy with every network key is written");
	int r = json ? al_policy_load_buffer(b, "json", json, len, &err) : -1;
	CHECK(r == 0, "that JSON loads (%s)", r ? flat(err.msg) : "ok");
	CHECK(r == 0 && same_policy(a, b), "and gives the same digest");
	CHECK(r == 0 && b->net_mode == AL_NET_GATEWAY && b->egress_allow.n == 8 && b->egress_deny.n == 4 &&
	      al_strlist_contains(&b->egress_allow, "[fd00::]/8:*") &&
	      al_strlist_contains(&b->egress_deny, "y.example.org:443") &&
	      LIST_IS(&b->net_hosts, "db.internal=10.0.0.5", "v6.internal=fd00::5"),
	      "the reloaded policy has the mode, both lists and the hosts");
	CHECK(r == 0 && b->n_rate_limits == 5 && strcmp(rate_host(b, 1), "*.github.com") == 0 &&
	      b->rate_limits[1].bpm == 50ull << 20 && b->rate_limits[2].rpm == 10 && b->rate_limits[2].bpm == 1000 &&
	      b->rate_limits[3].bpm == 1536 && b->rate_limits[3].rpm == 0 && strcmp(rate_host(b, 4), "x.example.org") == 0,
	      "the reloaded rate limits, in order, with their byte sizes");
	CHECK(r == 0 && b->net_max_connections == 10 && b->net_connect_timeout_ms == 2500 &&
	      b->net_idle_timeout_ms == 90 * 60000 && b->net_request_timeout_ms == 1500,
	      "the reloaded numbers");
	char *json2 = r == 0 ? json_of(b, &len2) : NULL;
	CHECK(json2 && len == len2 && memcmp(json, json2, len) == 0, "the JSON of the reloaded policy is the same text");
	CHECK(json && strstr(json, "\"mode\": \"gateway\"") && strstr(json, "\"connect_timeout\": \"2500ms\"") &&
	      strstr(json, "\"db.internal\": \"10.0.0.5\"") && strstr(json, "\"requests_per_minute\": 60"),
	      "the JSON names the mode and spells the values the loader reads");
	r = json2 ? al_policy_load_buffer(c, "json", json2, len2, &err) : -1;
	CHECK(r == 0 && same_policy(a, c), "and loads again to the same digest");
	free(json);
	free(json2);
	al_policy_free(a);
	al_policy_free(b);
	al_policy_free(c);

	/* The defaults' network block: mode none, nothing listed; it round-trips too. */
	a = al_policy_new();
	b = al_policy_new();
	json = json_of(a, &len);
	CHECK(json && strstr(json, "\"mode\": \"none\"") && strstr(json, "\"egress_allowlist\": []") &&
	      strstr(json, "\"rate_limits\": []") && strstr(json, "\"hosts\": {}"),
	      "the default policy's JSON: mode none, empty lists");
	r = json ? al_policy_load_buffer(b, "json", json, len, &err) : -1;
	CHECK(r == 0 && same_policy(a, b) && b->net_mode == AL_NET_NONE, "and it loads back (%s)", r ? flat(err.msg) : "ok");
	free(json);
	al_policy_free(a);
	al_policy_free(b);

	/* Gateway mode with no allowlist (deny everything) keeps its mode through JSON. */
	a = load_new("network: {mode: gateway}");
	b = al_policy_new();
	json = a ? json_of(a, &len) : NULL;
	r = json ? al_policy_load_buffer(b, "json", json, len, &err) : -1;
	CHECK(r == 0 && b->net_mode == AL_NET_GATEWAY && same_policy(a, b) && !is_default(b),
	      "mode gateway without entries round-trips (%s)", r ? flat(err.msg) : "ok");
	free(json);
	al_policy_free(a);
	al_policy_free(b);
}

static void test_hostile(void)
{
	al_policy *p = al_policy_new();
	al_error err;
	int r;

	/* A NUL inside a quoted scalar must not cut a value short silently. */
	static const char nul[] = "process: {hostname: \"a\\0b\"}";
	r = load_str(p, nul, &err);
	CHECK(r < 0 && has_problem(err.msg, "t.yaml:1: process.hostname: contains a NUL byte"), "NUL byte refused: %s",
	      flat(err.msg));
	static const char raw_nul[] = "version: 1\0\nisolation: gvisor\n";
	r = al_policy_load_buffer(p, "t.yaml", raw_nul, sizeof raw_nul - 1, &err);
	CHECK(r < 0, "a raw NUL byte in the buffer is refused: %s", flat(err.msg));

	/* A newline in a value must not forge a second problem line. */
	r = load_str(p, "isolation: \"gvisor\\nt.yaml:9: fake: forged\"", &err);
	CHECK(r < 0 && count_lines(err.msg) == 1 && !strstr(err.msg, "\n"), "one problem, one line: %s", flat(err.msg));

	/* Depth: 32 levels are parsed (and refused as unknown), 33 are not even loaded. */
	char deep[200];
	snprintf(deep, sizeof deep, "x: %.31s1%.31s", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	r = load_str(p, deep, &err);
	CHECK(r < 0 && has_problem(err.msg, "t.yaml:1: x: unknown key; expected one of: sandbox_config, version, "
					    "isolation, filesystem, network, network_policy, resources, process, "
					    "credentials, output, audit"), "32 levels deep: parsed (%s)", flat(err.msg));
	snprintf(deep, sizeof deep, "x: %.32s1%.32s", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	r = load_str(p, deep, &err);
	CHECK(r < 0 && strcmp(err.msg, "t.yaml:1: policy: nested deeper than 32 levels") == 0, "33 levels: %s", flat(err.msg));

	/* 1 MiB of nesting: refused at the first level too many, fast. */
	size_t big = (1u << 20) - 16;
	char *buf = malloc(big);
	memset(buf, '[', big);
	r = al_policy_load_buffer(p, "t.yaml", buf, big, &err);
	CHECK(r < 0 && strstr(err.msg, "nested deeper than 32 levels"), "1 MiB of '[': %s", flat(err.msg));
	free(buf);

	/* Larger than 1 MiB: refused before parsing. */
	big = (1u << 20) + 1;
	buf = malloc(big);
	memset(buf, '#', big);
	r = al_policy_load_buffer(p, "t.yaml", buf, big, &err);
	CHECK(r < 0 && strcmp(err.msg, "t.yaml: larger than 1 MiB") == 0, "over 1 MiB: %s", err.msg);
	free(buf);

	/* An alias that points back at its own ancestor ends with the schema. */
	r = load_str(p, "process: &a {env: *a}", &err);
	CHECK(r < 0 && has_problem(err.msg, "t.yaml:1: process.env.env: unknown key; expected one of: allow, set"),
	      "self-referencing alias terminates: %s", flat(err.msg));
	r = load_str(p, "a: &a [*a, *a]", &err);
	CHECK(r < 0, "alias cycle at an unknown key: %s", flat(err.msg));

	/* More entries than a list may hold; many problems end with a count. */
	char *many = malloc(40000);
	size_t len = (size_t)sprintf(many, "filesystem:\n  deny:\n");
	for (int i = 0; i < 1025; i++)
		len += (size_t)sprintf(many + len, "    - p%d\n", i);
	r = al_policy_load_buffer(p, "t.yaml", many, len, &err);
	CHECK(r < 0 && strcmp(err.msg, "t.yaml:3: filesystem.deny: 1025 entries; at most 1024 are allowed") == 0,
	      "list cap: %s", flat(err.msg));
	len = (size_t)sprintf(many, "resources:\n");
	for (int i = 0; i < 200; i++)
		len += (size_t)sprintf(many + len, "  bad_key_%d: 1\n", i);
	r = al_policy_load_buffer(p, "t.yaml", many, len, &err);
	CHECK(r < 0 && strstr(err.msg, "more problems not shown)") && strlen(err.msg) < sizeof err.msg,
	      "too many problems: the message says how many were left out");
	free(many);
	CHECK(is_default(p), "after all that, still the defaults");
	al_policy_free(p);
}

/* credentials.secrets: what a secret needs, what it may not be. */
static void test_credentials(void)
{
	static const char full[] =
		"network: {mode: gateway, egress_allowlist: [\"api.test:443\", \"*.svc.test:8443\"]}\n"
		"credentials:\n"
		"  mode: just_in_time\n"
		"  secrets:\n"
		"    - name: OPENAI_API_KEY\n"
		"      from: env:REAL_KEY\n"
		"      hosts: [api.test, \"*.svc.test:8443\", \"[::1]:443\"]\n"
		"      inject: {header: Authorization, format: \"Bearer {}\"}\n"
		"      ttl_seconds: 300\n"
		"      allow: [\"POST /v1/chat/*\", \"* /v1/models\"]\n"
		"    - {name: GH_TOKEN, from: \"command:printf %s x\", hosts: [github.test]}\n";
	al_policy *a = al_policy_new(), *b = al_policy_new();
	al_error err;
	int r = load_str(a, full, &err);
	CHECK(r == 0 && a->cred_jit && a->n_secrets == 2, "a full secret loads (%s)", r ? flat(err.msg) : "ok");
	if (r == 0) {
		const struct cred_secret *c = &a->secrets[0];
		CHECK(al_strlist_contains(&c->hosts, "api.test:443") && al_strlist_contains(&c->hosts, "*.svc.test:8443") &&
		      al_strlist_contains(&c->hosts, "[::1]:443"), "hosts: port 443 unless given, normalised");
		CHECK(c->ttl_ms == 300000 && c->header && !strcmp(c->header, "Authorization") && c->format &&
		      !strcmp(c->format, "Bearer {}") && c->rules.n == 2, "inject, ttl, rules");
	}
	/* the effective policy reloads to the same digest */
	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	al_policy_write_json(a, f);
	fclose(f);
	r = al_policy_load_buffer(b, "json", json, len, &err);
	CHECK(r == 0 && same_policy(a, b), "credentials round-trip through the canonical JSON (%s)",
	      r ? flat(err.msg) : "ok");
	free(json);
	al_policy_free(a);
	al_policy_free(b);

	/* the article's block, with no secret: valid, injects nothing */
	expect_text_ok("credentials: {mode: just_in_time, secret_scanning: True}");

	expect_text_problem("network: {mode: gateway}\ncredentials:\n  secrets:\n    - {name: K, from: env:K, hosts: [a.test], color: red}",
			    "t.yaml:4: credentials.secrets[0].color: unknown key; expected one of: name, from, hosts, inject, ttl_seconds, allow, rules");
	expect_text_problem("network: {mode: gateway}\ncredentials:\n  secrets:\n    - name: K\n      from: env:K\n      from: env:J\n      hosts: [a.test]",
			    "t.yaml:6: credentials.secrets[0].from: duplicate key (first at line 5)");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, hosts: [a.test]}]}",
			    "t.yaml:2: credentials.secrets[0]: missing 'from' (env:NAME, file:PATH or command:COMMAND)");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: vault:x, hosts: [a.test]}]}",
			    "t.yaml:2: credentials.secrets[0].from: expected env:NAME, file:PATH or command:COMMAND, got 'vault:x'");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: 9K, from: env:K, hosts: [a.test]}]}",
			    "t.yaml:2: credentials.secrets[0].name: invalid variable name '9K' (letters, digits, _; not starting with a digit)");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [10.0.0.0/8]}]}",
			    "t.yaml:2: credentials.secrets[0].hosts[0]: an address range cannot hold a credential; name one address: '10.0.0.0/8'");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: []}]}",
			    "t.yaml:2: credentials.secrets[0].hosts: needs at least one host");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [a.test], allow: [\"get /x\"]}]}",
			    "t.yaml:2: credentials.secrets[0].allow[0]: expected \"METHOD /path\" (METHOD in capitals or *, the path may hold * and ?): 'get /x'");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [a.test], inject: {header: Host}}]}",
			    "t.yaml:2: credentials.secrets[0].inject.header: 'Host' is not a header a credential can go in");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [a.test], inject: {header: X, format: Bearer}}]}",
			    "t.yaml:2: credentials.secrets[0].inject.format: 'Bearer': expected one {} where the value goes, such as \"Bearer {}\"");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [a.test], ttl_seconds: 0}]}",
			    "t.yaml:2: credentials.secrets[0].ttl_seconds: '0': expected seconds from 1 to 604800");
	expect_text_problem("network: {mode: gateway}\ncredentials: {secrets: [{name: K, from: env:K, hosts: [a.test]}, {name: K, from: env:J, hosts: [b.test]}]}",
			    "t.yaml:2: credentials.secrets[1].name: 'K' is already a secret");
	expect_text_problem("credentials: {secrets: [{name: K, from: env:K, hosts: [a.test]}]}",
			    "t.yaml:1: credentials.secrets: secrets are injected by the egress gateway: set network.mode: gateway and allow "
			    "their hosts in network.egress_allowlist");
	expect_text_problem("network: {mode: gateway}\ncredentials:\n  mode: none\n  secrets: [{name: K, from: env:K, hosts: [a.test]}]",
			    "t.yaml:3: credentials.mode: 'none' contradicts the secrets given; use mode: just_in_time");
	expect_text_problem("network: {mode: gateway}\nprocess: {env: {allow: [REAL]}}\ncredentials: {secrets: [{name: K, from: env:REAL, hosts: [a.test]}]}",
			    "t.yaml:3: process.env.allow: 'REAL' would pass the real value of secret K into the sandbox; remove it");
}

/* output.copy_out / copy_to: sandbox paths checked when loaded, the host
 * directory relative to the policy file, both in the canonical JSON. */
static void test_copy_out(void)
{
	al_policy *a = al_policy_new(), *b = al_policy_new();
	al_error err;
	int r = load_str(a, "output:\n  copy_out: [/workspace/out/, /tmp//x/./y, /workspace]\n  copy_to: /srv/results\n", &err);
	CHECK(r == 0 && a->copy_out.n == 3 && al_strlist_contains(&a->copy_out, "/workspace/out") &&
	      al_strlist_contains(&a->copy_out, "/tmp/x/y") && a->copy_to && !strcmp(a->copy_to, "/srv/results"),
	      "copy_out paths are tidied, copy_to kept (%s)", r ? flat(err.msg) : "ok");
	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	al_policy_write_json(a, f);
	fclose(f);
	r = al_policy_load_buffer(b, "json", json, len, &err);
	CHECK(r == 0 && same_policy(a, b) && b->copy_out.n == 3, "copy_out round-trips through the canonical JSON (%s)",
	      r ? flat(err.msg) : "ok");
	free(json);
	al_policy_free(b);
	b = al_policy_new();
	CHECK(!same_policy(a, b), "copy_out changes the digest");
	al_policy_free(a);
	al_policy_free(b);

	/* a relative copy_to is relative to the policy file */
	a = al_policy_new();
	al_error_clear(&err);
	r = al_policy_load_buffer(a, "t.yaml", "output: {copy_out: [/tmp/a], copy_to: results}", 46, &err);
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	snprintf(want, sizeof want, "%s/results", getcwd(cwd, sizeof cwd) ? cwd : "?");
	CHECK(r == 0 && a->copy_to && !strcmp(a->copy_to, want), "relative copy_to resolves (%s)",
	      r ? flat(err.msg) : a->copy_to ? a->copy_to : "null");
	/* overrides: the command line's --copy-to and --copy-out */
	al_error_clear(&err);
	r = al_policy_set(a, "output.copy_out", "/workspace/b", "--copy-out", &err);
	CHECK(r == 0 && a->copy_out.n == 2, "--copy-out adds to the policy's list (%s)", r ? flat(err.msg) : "ok");
	al_policy_free(a);
	a = al_policy_new();
	al_error_clear(&err);
	r = al_policy_set(a, "output.copy_out", "/workspace/b", "--copy-out", &err);
	CHECK(r < 0 && err.exit_code == 125 && !strcmp(err.msg, "--copy-out: output.copy_out: needs output.copy_to "
						       "(the host directory the files go to)"),
	      "--copy-out alone is refused (%s)", flat(err.msg));
	al_policy_free(a);

	expect_text_problem("output: {copy_out: [workspace/a], copy_to: /x}",
			    "t.yaml:1: output.copy_out[0]: must be an absolute path inside the sandbox, got 'workspace/a'");
	expect_text_problem("output: {copy_out: [/etc/passwd], copy_to: /x}",
			    "t.yaml:1: output.copy_out[0]: '/etc/passwd' is outside /workspace and /tmp: only those can be copied out");
	expect_text_problem("output: {copy_out: [/workspaces/a], copy_to: /x}",
			    "t.yaml:1: output.copy_out[0]: '/workspaces/a' is outside /workspace and /tmp: only those can be copied out");
	expect_text_problem("output: {copy_out: [/tmp/../etc], copy_to: /x}",
			    "t.yaml:1: output.copy_out[0]: '..' is not allowed in '/tmp/../etc'");
	expect_text_problem("output:\n  copy_out:\n    - /workspace/a\n",
			    "t.yaml:3: output.copy_out: needs output.copy_to (the host directory the files go to)");
	expect_text_ok("output: {copy_to: /x}");
}

int main(void)
{
	/* Absolute, so paths the loader resolves can be compared. */
	const char *env = getenv("AIRLOCK_SOURCE_ROOT");
	if (!realpath(env ? env : ".", source_root))
		return 1;
	test_defaults();
	test_presets();
	test_error_classes();
	test_empty();
	test_unchanged_after_failure();
	test_overrides();
	test_digest();
	test_values();
	test_network_seeds();
	test_network_mode();
	test_egress_entries();
	test_network_hosts();
	test_rate_limits();
	test_network_numbers();
	test_network_round_trip();
	test_hostile();
	test_credentials();
	test_copy_out();
	return check_done();
}
