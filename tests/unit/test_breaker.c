/* The circuit breaker: the trip rule on violations and on failures, the
 * window and the cooldown on a fake clock, reset, the state file as the only
 * memory (a "restart" is a new call reading it), fail-closed refusals of
 * corrupt or untrusted state, and no lost update under concurrent writers. */
#include "check.h"
#include "breaker.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MIN_MS (60 * 1000ull)
#define T0 1763910000000ull /* 2025-11-23T15:00:00Z */

static char tmp[64], dir[128];

static const struct breaker_cfg cfg = {
	.max_violations = 5, .max_failures = 3, .window_ms = 10 * MIN_MS, .cooldown_ms = 30 * MIN_MS,
};

/* s up to its first newline, for a TAP description (one line each). */
static const char *line(char *s)
{
	if (!s)
		return "(none)";
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void state_path(const char *agent, char *buf, size_t len)
{
	snprintf(buf, len, "%s/breaker/%s.json", dir, agent);
}

static void write_file(const char *agent, const char *content, mode_t mode)
{
	char path[256];
	state_path(agent, path, sizeof path);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || fchmod(fd, mode) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static char *read_file(const char *agent)
{
	char path[256];
	state_path(agent, path, sizeof path);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 21);
	if (buf && fread(buf, 1, (1 << 21) - 1, f) == 0 && ferror(f))
		perror(path);
	fclose(f);
	return buf;
}

static size_t count_runs(const char *agent)
{
	char *s = read_file(agent);
	size_t n = 0;
	const char *p = s ? strstr(s, "\"runs\":[") : NULL;
	for (p = p ? p + 8 : NULL; p && *p; p++)
		n += *p == '[';
	free(s);
	return n;
}

static int record(const char *agent, uint64_t now, uint64_t violations, bool failed, struct breaker_view *v,
		  bool *tripped)
{
	al_error err;
	al_error_clear(&err);
	int r = breaker_record(dir, agent, &cfg, now, violations, failed, v, tripped, &err);
	if (r < 0)
		printf("# record %s: %s\n", agent, err.msg);
	return r;
}

static int check_at(const char *agent, uint64_t now, struct breaker_view *v)
{
	al_error err;
	al_error_clear(&err);
	int r = breaker_check(dir, agent, &cfg, now, v, &err);
	if (r < 0)
		printf("# check %s: %s\n", agent, err.msg);
	return r;
}

static void names(void)
{
	char max[66];
	memset(max, 'a', 64);
	max[64] = '\0';
	CHECK(breaker_agent_valid("billing-bot"), "billing-bot is a valid agent");
	CHECK(breaker_agent_valid("A.b_c-9"), "letters, digits, . _ - are valid");
	CHECK(breaker_agent_valid(max), "64 characters are valid");
	max[64] = 'a';
	max[65] = '\0';
	const char *bad[] = { "", ".hidden", "..", "a/b", "../x", "a b", "tab\t", "caf\xc3\xa9", max };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!breaker_agent_valid(bad[i]), "agent '%s' is refused", bad[i]);
	CHECK(!breaker_agent_valid(NULL), "NULL agent is refused");

	al_error err;
	al_error_clear(&err);
	struct breaker_view v;
	CHECK(breaker_check(dir, "../etc", &cfg, T0, &v, &err) == -1 && strstr(err.msg, "invalid agent name"),
	      "check refuses a path as agent: %s", err.msg);
	al_error_clear(&err);
	CHECK(breaker_record(dir, "a/b", &cfg, T0, 1, false, &v, NULL, &err) == -1 &&
		      strstr(err.msg, "invalid agent name"),
	      "record refuses a path as agent");
	al_error_clear(&err);
	CHECK(breaker_reset(dir, ".x", &err) == -1, "reset refuses .x");
	al_error_clear(&err);
	CHECK(breaker_print(dir, "", NULL, T0, stdout, false, &err) == -1, "print refuses an empty agent");
}

static void trips_on_violations(void)
{
	struct breaker_view v;
	bool tripped = true;
	CHECK(check_at("bot", T0, &v) == 0 && !v.tripped && v.violations == 0,
	      "no state directory: closed");
	for (int i = 0; i < 4; i++)
		record("bot", T0 + (uint64_t)i * 1000, 1, false, &v, &tripped);
	CHECK(!tripped && !v.tripped && v.violations == 4, "4 violations of 5: not tripped (%llu)",
	      (unsigned long long)v.violations);
	CHECK(check_at("bot", T0 + 4000, &v) == 0 && v.violations == 4, "check: closed, 4 in the window");

	struct stat sb;
	char path[256];
	snprintf(path, sizeof path, "%s/breaker", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700, "state directory made 0700");
	state_path("bot", path, sizeof path);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "state file made 0600");

	CHECK(record("bot", T0 + 5000, 1, false, &v, &tripped) == 0 && tripped, "the 5th violation trips it");
	uint64_t until = T0 + 5000 + cfg.cooldown_ms;
	CHECK(v.tripped && v.until_ms == until && v.violations == 5 && v.failures == 0,
	      "view: tripped until now + cooldown, 5 violations");

	/* A restart: nothing survives but the file. */
	struct breaker_view w;
	CHECK(check_at("bot", T0 + 6000, &w) == 1 && w.tripped && w.until_ms == until && w.violations == 5,
	      "a new check reads it back: open, 5 violations");
	char *s = read_file("bot");
	char want[160];
	snprintf(want, sizeof want, "{\"v\":1,\"agent\":\"bot\",\"tripped_until\":%llu,"
		 "\"trip_violations\":5,\"trip_failures\":0,\"runs\":[]}\n", (unsigned long long)until);
	CHECK(s && strcmp(s, want) == 0, "state file as documented: %s", line(s));
	free(s);

	/* A run that overlapped the tripping one ends: counted, no new trip. */
	CHECK(record("bot", T0 + 7000, 9, false, &w, &tripped) == 0 && !tripped && w.until_ms == until,
	      "a run ending while tripped does not extend the cooldown");

	CHECK(check_at("bot", until - 1, &w) == 1, "still open 1 ms before the cooldown ends");
	CHECK(check_at("bot", until, &w) == 0 && !w.tripped, "closed when the cooldown ends");
	CHECK(w.violations == 0, "the window started afresh (the overlapping run has expired)");
	CHECK(record("bot", until + 1000, 1, false, &w, &tripped) == 0 && !tripped && !w.tripped &&
		      w.violations == 1,
	      "after the cooldown: closed, counting from 1");
	s = read_file("bot");
	CHECK(s && strstr(s, "\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"),
	      "the expired trip is cleared on the next record");
	free(s);
}

static void trips_on_failures(void)
{
	struct breaker_view v;
	bool tripped = false;
	record("flaky", T0, 0, true, &v, &tripped);
	record("flaky", T0 + 1, 0, false, &v, &tripped);
	record("flaky", T0 + 2, 0, true, &v, &tripped);
	CHECK(!tripped && v.failures == 2 && v.violations == 0, "2 failed runs of 3 (1 success): closed");
	record("flaky", T0 + 3, 0, true, &v, &tripped);
	CHECK(tripped && v.tripped && v.failures == 3 && v.violations == 0, "the 3rd failed run trips it");
	CHECK(check_at("flaky", T0 + 4, &v) == 1 && v.failures == 3, "check: open");

	/* 0 turns a trigger off. */
	struct breaker_cfg off = { .max_violations = 0, .max_failures = 0, .window_ms = MIN_MS,
				   .cooldown_ms = MIN_MS };
	al_error err;
	al_error_clear(&err);
	int r = 0;
	for (int i = 0; i < 5; i++)
		r |= breaker_record(dir, "lax", &off, T0 + (uint64_t)i, 100, true, &v, &tripped, &err);
	CHECK(r == 0 && !tripped && !v.tripped && v.violations == 500 && v.failures == 5,
	      "maxima of 0: never trips, still counts");

	struct breaker_cfg instant = { .max_violations = 1, .window_ms = MIN_MS, .cooldown_ms = 0 };
	r = breaker_record(dir, "blink", &instant, T0, 1, false, &v, &tripped, &err);
	CHECK(r == 0 && tripped && !v.tripped && v.until_ms == T0 && v.violations == 1,
	      "a cooldown of 0: trips (for the event), open no longer");
	CHECK(breaker_check(dir, "blink", &instant, T0, &v, &err) == 0 && v.violations == 0,
	      "a cooldown of 0: closed, the window emptied");
}

static void window(void)
{
	struct breaker_view v;
	bool tripped = false;
	record("win", T0, 2, true, &v, &tripped);
	record("win", T0 + MIN_MS, 2, true, &v, &tripped);
	CHECK(check_at("win", T0 + 10 * MIN_MS, &v) == 0 && v.violations == 4 && v.failures == 2,
	      "both runs in the window at its edge (10m)");
	CHECK(check_at("win", T0 + 10 * MIN_MS + 1, &v) == 0 && v.violations == 2 && v.failures == 1,
	      "the first run leaves the window 1 ms later");
	/* 4 + 1 would trip; 2 + 1 does not. */
	CHECK(record("win", T0 + 10 * MIN_MS + 1, 1, false, &v, &tripped) == 0 && !tripped && v.violations == 3,
	      "record prunes what is older than the window: 3 violations, no trip");
	CHECK(count_runs("win") == 2, "the pruned run is gone from the file (%zu runs)", count_runs("win"));
	CHECK(check_at("win", T0 + 30 * MIN_MS, &v) == 0 && v.violations == 0, "all expired 30m later");
	/* The clock went back: a run stamped in the future still counts. */
	CHECK(check_at("win", T0 - MIN_MS, &v) == 0 && v.violations == 3, "runs after now count");
}

static void reset(void)
{
	struct breaker_view v;
	al_error err;
	al_error_clear(&err);
	CHECK(check_at("flaky", T0 + 5, &v) == 1, "flaky is open before reset");
	CHECK(breaker_reset(dir, "flaky", &err) == 0, "reset: %s", err.msg);
	CHECK(check_at("flaky", T0 + 5, &v) == 0 && v.failures == 0, "closed and empty after reset");
	CHECK(read_file("flaky") == NULL, "reset removes the state file");
	CHECK(breaker_reset(dir, "never-seen", &err) == 0, "reset of an unknown agent succeeds");
	char other[200];
	snprintf(other, sizeof other, "%s/nothing-here", tmp);
	CHECK(breaker_reset(other, "x", &err) == 0, "reset without a state directory succeeds");
	bool tripped = true;
	CHECK(record("flaky", T0 + 6, 0, true, &v, &tripped) == 0 && !tripped && v.failures == 1,
	      "recording after a reset starts from 1");
}

static void corrupt(void)
{
	static const struct {
		const char *content, *why;
	} cases[] = {
		{ "not json", "expected '{'" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,\"runs\":[]}x",
		  "unexpected bytes after the object" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,\"runs\":[]}{",
		  "unexpected bytes after the object" },
		{ "{\"v\":1,\"agent\":\"other\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,\"runs\":[]}",
		  "does not match" },
		{ "{\"v\":2,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,\"runs\":[]}",
		  "unsupported version" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"runs\":[]}", "missing keys" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":-1,\"trip_violations\":0,\"trip_failures\":0,\"runs\":[]}",
		  "non-negative integer" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":99999999999999999999,\"trip_violations\":0,"
		  "\"trip_failures\":0,\"runs\":[]}", "too large" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[[1,2]]}", "expected ','" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[],\"extra\":1}", "unknown key" },
		{ "{\"v\":1,\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[]}", "duplicate key" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":1.5,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[]}", "expected ',' or '}'" },
		{ "{\"v\":1,\"agent\":\"b\\u0061d\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[]}", "unexpected character" },
		{ "{\"v\":1,\"agent\":\"bad\",\"tripped_until\":0,\"trip_violations\":0,\"trip_failures\":0,"
		  "\"runs\":[[1,2,3],", "expected '['" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_file("bad", cases[i].content, 0600);
		al_error err;
		al_error_clear(&err);
		struct breaker_view v;
		int r = breaker_check(dir, "bad", &cfg, T0, &v, &err);
		CHECK(r == -1 && strstr(err.msg, "corrupt") && strstr(err.msg, cases[i].why),
		      "corrupt state %zu refused: %s", i, err.msg);
	}
	al_error err;
	al_error_clear(&err);
	struct breaker_view v;
	bool tripped;
	CHECK(breaker_record(dir, "bad", &cfg, T0, 0, false, &v, &tripped, &err) == -1 &&
		      strstr(err.msg, "corrupt"),
	      "record refuses a corrupt state (and keeps it)");
	char *s = read_file("bad");
	CHECK(s && strcmp(s, cases[sizeof cases / sizeof cases[0] - 1].content) == 0,
	      "the corrupt file is left for the operator");
	free(s);
	al_error_clear(&err);
	CHECK(breaker_print(dir, NULL, NULL, T0, stdout, true, &err) == -1 && strstr(err.msg, "bad.json"),
	      "status of every agent fails naming the corrupt file");
	CHECK(breaker_reset(dir, "bad", &err) == 0 && check_at("bad", T0, &v) == 0,
	      "reset clears a corrupt state");

	write_file("empty", "", 0600);
	CHECK(check_at("empty", T0, &v) == 0, "an empty file (a crash before the first write) is closed");
	char spaced[200];
	snprintf(spaced, sizeof spaced, " {\n \"runs\" : [ [ %llu , 2 , 0 ] ] , \"trip_failures\":0, "
		 "\"trip_violations\":0,\"tripped_until\":0, \"agent\":\"spaced\", \"v\":1 }\n",
		 (unsigned long long)T0);
	write_file("spaced", spaced, 0600);
	CHECK(check_at("spaced", T0, &v) == 0 && v.violations == 2, "whitespace and key order are free");
}

static void untrusted(void)
{
	char path[256], target[256];
	struct breaker_view v;
	al_error err;
	al_error_clear(&err);
	snprintf(target, sizeof target, "%s/elsewhere.json", tmp);
	write_file("bot", "", 0600);
	state_path("bot", path, sizeof path);
	rename(path, target);
	CHECK(symlink(target, path) == 0, "planted a symlink as the state file");
	CHECK(breaker_check(dir, "bot", &cfg, T0, &v, &err) == -1 && strstr(err.msg, "symbolic link"),
	      "check refuses a symlink: %s", err.msg);
	al_error_clear(&err);
	CHECK(breaker_record(dir, "bot", &cfg, T0, 1, false, &v, NULL, &err) == -1 &&
		      strstr(err.msg, "symbolic link"),
	      "record refuses a symlink");
	struct stat sb;
	CHECK(stat(target, &sb) == 0 && sb.st_size == 0, "the symlink's target is untouched");
	unlink(path);

	write_file("wide", "", 0666);
	al_error_clear(&err);
	CHECK(breaker_check(dir, "wide", &cfg, T0, &v, &err) == -1 && strstr(err.msg, "writable by group or others"),
	      "a state file others can write is refused: %s", err.msg);
	state_path("wide", path, sizeof path);
	unlink(path);

	if (geteuid() == 0) {
		write_file("theirs", "", 0600);
		state_path("theirs", path, sizeof path);
		CHECK(chown(path, 65534, 65534) == 0, "gave a state file to uid 65534");
		al_error_clear(&err);
		CHECK(breaker_check(dir, "theirs", &cfg, T0, &v, &err) == -1 && strstr(err.msg, "owned by uid 65534"),
		      "a state file of another user is refused: %s", err.msg);
		unlink(path);
	} else {
		printf("ok %d - # SKIP another user's file needs root\n", ++check_n);
	}

	char d2[200], sub[260];
	snprintf(d2, sizeof d2, "%s/open-dir", tmp);
	snprintf(sub, sizeof sub, "%s/breaker", d2);
	mkdir(d2, 0700);
	mkdir(sub, 0700);
	chmod(sub, 0777);
	al_error_clear(&err);
	CHECK(breaker_record(d2, "bot", &cfg, T0, 1, false, &v, NULL, &err) == -1 &&
		      strstr(err.msg, "writable by group or others"),
	      "a state directory others can write is refused: %s", err.msg);
}

/* Enough runs to hit the cap: the oldest are folded, counts stay exact. */
static void cap(void)
{
	size_t n = 10005, len = 0;
	char *buf = malloc(n * 32 + 256);
	len += (size_t)sprintf(buf, "{\"v\":1,\"agent\":\"busy\",\"tripped_until\":0,\"trip_violations\":0,"
				    "\"trip_failures\":0,\"runs\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%s[%llu,1,0]", i ? "," : "", (unsigned long long)(T0 + i));
	strcpy(buf + len, "]}\n");
	write_file("busy", buf, 0600);
	free(buf);
	struct breaker_cfg big = { .max_violations = 1000000, .window_ms = 0 };
	al_error err;
	al_error_clear(&err);
	struct breaker_view v;
	int r = breaker_record(dir, "busy", &big, T0 + n, 1, false, &v, NULL, &err);
	CHECK(r == 0 && v.violations == n + 1, "10006 violations counted (%llu) %s",
	      (unsigned long long)v.violations, err.msg);
	CHECK(count_runs("busy") == 10000, "the file keeps 10000 runs (%zu)", count_runs("busy"));
}

static void print(void)
{
	char *out = NULL;
	size_t len = 0;
	al_error err;
	al_error_clear(&err);
	struct breaker_view v;
	bool tripped;
	for (int i = 0; i < 5; i++)
		record("billing-bot", T0 + 500, 1, false, &v, &tripped);
	FILE *f = open_memstream(&out, &len);
	int r = breaker_print(dir, "billing-bot", &cfg, T0 + 1000, f, false, &err);
	fclose(f);
	CHECK(r == 0 && out && strcmp(out, "billing-bot  tripped until 2025-11-23T15:30:01Z  violations 5  failures 0\n") == 0,
	      "human status of a tripped agent (until rounded up): %s", line(out));
	free(out);

	f = open_memstream(&out, &len);
	r = breaker_print(dir, "nobody", &cfg, T0, f, true, &err);
	fclose(f);
	CHECK(r == 0 && out && strcmp(out, "{\"agents\":[{\"agent\":\"nobody\",\"state\":\"closed\",\"until\":null,"
					   "\"violations\":0,\"failures\":0}]}\n") == 0,
	      "JSON status of an unknown agent: %s", line(out));
	free(out);

	f = open_memstream(&out, &len);
	r = breaker_print(dir, NULL, &cfg, T0 + 1000, f, true, &err);
	fclose(f);
	CHECK(r == 0 && out && strstr(out, "{\"agent\":\"billing-bot\",\"state\":\"tripped\","
					  "\"until\":\"2025-11-23T15:30:01Z\",\"violations\":5,\"failures\":0}"),
	      "JSON status of every agent: %s", line(out));
	const char *a = out ? strstr(out, "\"billing-bot\"") : NULL, *b = out ? strstr(out, "\"busy\"") : NULL;
	CHECK(a && b && a < b, "agents sorted by name");
	free(out);

	f = open_memstream(&out, &len);
	char none[200];
	snprintf(none, sizeof none, "%s/nothing-here", tmp);
	r = breaker_print(none, NULL, NULL, T0, f, true, &err);
	fclose(f);
	CHECK(r == 0 && out && strcmp(out, "{\"agents\":[]}\n") == 0, "no state directory: no agents");
	free(out);
}

/* 20 processes, 5 runs of 1 violation each, all at once: 100 exactly. */
static void concurrent(void)
{
	enum { PROCS = 20, RUNS = 5 };
	struct breaker_cfg big = { .max_violations = 1000000, .window_ms = 0 };
	int go[2];
	if (pipe(go) < 0)
		return;
	pid_t pids[PROCS];
	fflush(stdout); /* or each child may print our pending lines again */
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) < 0) /* EOF when the parent lets go */
				_exit(2);
			int bad = 0;
			for (int k = 0; k < RUNS; k++) {
				al_error err;
				al_error_clear(&err);
				if (breaker_record(dir, "crowd", &big, T0 + (uint64_t)k, 1, false, NULL, NULL, &err) < 0) {
					fprintf(stderr, "%s\n", err.msg);
					bad = 1;
				}
			}
			_exit(bad);
		}
	}
	close(go[0]);
	close(go[1]);
	int failed = 0;
	for (int i = 0; i < PROCS; i++) {
		int st = 0;
		if (pids[i] < 0 || waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	CHECK(failed == 0, "20 concurrent writers all succeeded (%d failed)", failed);
	struct breaker_view v;
	al_error err;
	al_error_clear(&err);
	CHECK(breaker_check(dir, "crowd", &big, T0 + 10, &v, &err) == 0 && v.violations == PROCS * RUNS,
	      "no lost update: %llu violations of 100", (unsigned long long)v.violations);
	CHECK(count_runs("crowd") == PROCS * RUNS, "100 runs in the file (%zu)", count_runs("crowd"));
}

static void default_dir(void)
{
	char *d;
	if (geteuid() == 0) {
		d = breaker_default_dir();
		CHECK(d && strcmp(d, "/var/lib/airlock") == 0, "root: /var/lib/airlock");
		free(d);
		return;
	}
	setenv("XDG_STATE_HOME", "/x/state", 1);
	d = breaker_default_dir();
	CHECK(d && strcmp(d, "/x/state/airlock") == 0, "$XDG_STATE_HOME/airlock");
	free(d);
	setenv("XDG_STATE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	d = breaker_default_dir();
	CHECK(d && strcmp(d, "/home/u/.local/state/airlock") == 0, "a relative $XDG_STATE_HOME is ignored");
	free(d);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	d = breaker_default_dir();
	CHECK(d == NULL, "neither: NULL");
	free(d);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/airlock-breaker.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s/state/nested", tmp);
	names();
	trips_on_violations();
	trips_on_failures();
	window();
	reset();
	corrupt();
	untrusted();
	cap();
	print();
	concurrent();
	default_dir();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	return check_done();
}
