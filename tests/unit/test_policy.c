/* The policy loader: presets, every class of error with FILE:LINE: FIELD,
 * all-or-nothing loading, overrides, canonical JSON and the digest, and the
 * limits that keep a hostile file from exhausting the loader. */
#include "check.h"
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
		"policies/coding-agent.yaml", "policies/seed-sandbox-config.yaml",
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
	CHECK(p->output_limit == 8ull << 20 && al_strlist_contains(&p->env_set, "MPLBACKEND=Agg") &&
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
	EXPECT("seed-gvisor.yaml",
	       "seed-gvisor.yaml:6: sandbox_config.isolation: 'gvisor' is not available; airlock provides: "
	       "namespaces (aliases strict, restricted, container, sandbox)",
	       "seed-gvisor.yaml:8: sandbox_config.network.mode: 'restricted' is not supported yet (egress gateway); use none",
	       "seed-gvisor.yaml:9: sandbox_config.network.egress_allowlist: not supported yet (egress gateway); leave it empty",
	       "seed-gvisor.yaml:26: sandbox_config.credentials.mode: 'just_in_time' is not supported yet (credentials); use none",
	       "seed-gvisor.yaml:27: sandbox_config.credentials.secret_scanning: not supported yet (output gate); set it to false");
	EXPECT("seed-network-policy.yaml",
	       "seed-network-policy.yaml:5: network_policy.allow: not supported yet (egress gateway); leave it empty",
	       "seed-network-policy.yaml:10: network_policy.rate_limits: not supported yet (egress gateway); leave it empty");
	EXPECT("bad-unsupported.yaml",
	       "bad-unsupported.yaml:2: network.egress_allowlist: not supported yet (egress gateway); leave it empty",
	       "bad-unsupported.yaml:4: network.rate_limits: not supported yet (egress gateway); leave it empty",
	       "bad-unsupported.yaml:5: network.dns: not supported yet (egress gateway); set it to false",
	       "bad-unsupported.yaml:7: credentials.secrets: not supported yet (credentials); leave it empty",
	       "bad-unsupported.yaml:9: output.secret_scanning: not supported yet (output gate); set it to false",
	       "bad-unsupported.yaml:11: audit.log: not supported yet (audit); remove it",
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
	       "host; use none",
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
	SET_BAD("network.egress_allowlist", "api.openai.com:443", "--allow",
		"--allow: network.egress_allowlist: not supported yet (egress gateway); leave it empty");
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
	      !p->workspace_writable && p->n_mounts == 1 && p->mounts[0].writable && p->output_limit == 1ull << 20,
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
	expect_text_problem("output: {max_bytes: 1M}\nresources: {output_limit: 2M}",
			    "t.yaml:2: resources.output_limit: also set by output.max_bytes at line 1");
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
			    "t.yaml:1: network.egress_allowlist[0]: expected HOST:PORT, got 'nohost'");
	expect_text_problem("network: {egress_allowlist: ['bad host:80']}",
			    "t.yaml:1: network.egress_allowlist[0]: invalid host in 'bad host:80'");
	expect_text_problem("network: {egress_allowlist: ['a.com:0']}",
			    "t.yaml:1: network.egress_allowlist[0]: invalid port in 'a.com:0' (1-65535)");
	expect_text_problem("network: {rate_limits: [{host: '*'}]}",
			    "t.yaml:1: network.rate_limits[0]: needs requests_per_minute or bytes_per_minute");
	expect_text_problem("network: {rate_limits: [{requests_per_minute: -1, host: x}]}",
			    "t.yaml:1: network.rate_limits[0].requests_per_minute: negative number '-1'");
	expect_text_problem("credentials: {mode: vault}", "t.yaml:1: credentials.mode: unknown value 'vault'; "
							 "expected none (alias off)");
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
	test_hostile();
	return check_done();
}
