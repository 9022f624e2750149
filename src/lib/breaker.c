/* The circuit breaker per agent identity (docs/audit.md, "Circuit breaker").
 *
 * One state file per agent, DIR/breaker/<agent>.json (the directory 0700,
 * the file 0600), one JSON object on one line:
 *
 *   {"v":1,"agent":"billing-bot","tripped_until":1763911800000,
 *    "trip_violations":5,"trip_failures":0,"runs":[[1763910000000,2,0],...]}
 *
 * Times are wall-clock milliseconds since the epoch. tripped_until is 0 when
 * not tripped (a value <= now is a trip that has expired: closed, and
 * cleared to 0 by the next record);
 * trip_violations and trip_failures are what the window held when it tripped
 * (the refusal message quotes them, and the window itself is emptied by the
 * trip so that the breaker starts afresh after its cooldown). Each run is
 * [end time, violations, failed runs]: the last is 0 or 1, more only where
 * old runs were folded together at the cap below. Every key is required;
 * anything else — unknown keys, escapes in strings, trailing bytes — is a
 * corrupt file.
 *
 * Every update is a read-modify-write under an exclusive flock on the state
 * file itself, rewritten in place. Not a temporary file renamed over it: the
 * rename gives the path a new inode, and a writer already waiting for the
 * lock on the old one would update a file nobody reads again — a lost
 * update. The new content is written before the file is cut to its length:
 * a crash in between leaves the old content or old bytes trailing the new
 * object, which the parser refuses, never a silently emptied state.
 *
 * Fail closed: a state that cannot be read, parsed or trusted (a symlink,
 * another owner, writable by others) is an error, and callers refuse the
 * run. Only an empty file counts as a fresh state: O_CREAT makes one, and a
 * writer that died before its first write leaves one.
 */
#include "breaker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define STATE_VERSION 1
/* Runs kept per agent. Beyond it the oldest are folded into the next one:
 * counts stay exact, the folded runs merely expire a little late. */
#define MAX_RUNS 10000
/* Far above MAX_RUNS entries of three 20-digit numbers: more is not ours. */
#define MAX_STATE_BYTES (1u << 20)
#define AGENT_MAX 64

struct run {
	uint64_t ms, violations, failures;
};

struct state {
	uint64_t tripped_until, trip_violations, trip_failures;
	struct run *runs;
	size_t n, cap;
};

static void state_clear(struct state *st)
{
	free(st->runs);
	*st = (struct state){ 0 };
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static int state_add_run(struct state *st, struct run r)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct run *v = realloc(st->runs, cap * sizeof *v);
		if (!v)
			return -1;
		st->runs = v;
		st->cap = cap;
	}
	st->runs[st->n++] = r;
	return 0;
}

bool breaker_agent_valid(const char *agent)
{
	if (!agent || !agent[0] || agent[0] == '.')
		return false;
	size_t n = 0;
	for (const char *p = agent; *p; p++, n++)
		if (n >= AGENT_MAX ||
		    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int bad_agent(const char *agent, al_error *err)
{
	return al_err(err, EINVAL,
		      "invalid agent name '%.80s': 1-64 of A-Z a-z 0-9 . _ -, not starting with '.'",
		      agent ? agent : "");
}

char *breaker_default_dir(void)
{
	char *dir = NULL;
	if (geteuid() == 0)
		return strdup("/var/lib/airlock");
	/* The XDG spec says a relative $XDG_STATE_HOME is to be ignored. */
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && xdg[0] == '/')
		return asprintf(&dir, "%s/airlock", xdg) < 0 ? NULL : dir;
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return asprintf(&dir, "%s/.local/state/airlock", home) < 0 ? NULL : dir;
	return NULL;
}

/* ---- the file: open, trust, lock, read, write ---------------------------- */

/* mkdir -p, each directory made 0700 (existing ones are left as they are). */
static int make_dirs(const char *path, al_error *err)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return al_errno(err, "creating %s", path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			struct stat sb;
			/* EACCES on a directory that exists (a parent we cannot write) is fine. */
			if (stat(p, &sb) < 0 || !S_ISDIR(sb.st_mode))
				return al_err(err, e, "creating %s: %s", p, strerror(e));
		}
		if (!c)
			return 0;
		*s = c;
	}
}

/* A directory or file someone else can write is one they can reset or
 * forge; root's files must be root's, a user's the user's. */
static int check_trusted(int fd, const char *path, bool want_dir, al_error *err)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return al_errno(err, "%s", path);
	if (want_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return al_err(err, EINVAL, "%s: not a %s", path, want_dir ? "directory" : "regular file");
	if (sb.st_uid != geteuid())
		return al_err(err, EPERM, "%s: owned by uid %u, not by the caller (uid %u): refused", path,
			      (unsigned)sb.st_uid, (unsigned)geteuid());
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return al_err(err, EPERM, "%s: writable by group or others (mode %04o): refused", path,
			      (unsigned)(sb.st_mode & 07777));
	return 0;
}

/* DIR/breaker as an fd. create: make it (and DIR) as needed. Else a missing
 * directory is *fd = -1 and success: no state is a closed breaker. */
static int open_breaker_dir(const char *dir, bool create, int *fd, al_error *err)
{
	*fd = -1;
	if (!dir || !dir[0])
		return al_err(err, EINVAL, "no breaker state directory");
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/breaker", dir) < 0)
		return al_errno(err, "%s/breaker", dir);
	if (create && make_dirs(path, err) < 0)
		return -1;
	/* O_NOFOLLOW: we made "breaker"; a symlink there was put by someone else. */
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		return al_errno(err, "opening %s", path);
	}
	if (check_trusted(dfd, path, true, err) < 0)
		return -1;
	*fd = al_steal_fd(&dfd);
	return 0;
}

/* Open DIR/breaker/<agent>.json, check it and take the lock (LOCK_EX or
 * LOCK_SH). Without create a missing file is *fd = -1 and success. */
static int open_state(int dfd, const char *path, const char *name, bool create, int lock, int *fd,
		      al_error *err)
{
	*fd = -1;
	/* A reset unlinks the file under the lock: whoever opened it before and
	 * got the lock after holds a dead inode, and must open the path again. */
	for (int tries = 0; tries < 1000; tries++) {
		int flags = (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC;
		_cleanup_close_ int f = openat(dfd, name, flags, 0600);
		if (f < 0) {
			if (errno == ENOENT && !create)
				return 0;
			if (errno == ELOOP)
				return al_err(err, ELOOP, "%s: a symbolic link: refused", path);
			return al_errno(err, "opening %s", path);
		}
		if (check_trusted(f, path, false, err) < 0)
			return -1;
		while (flock(f, lock) < 0)
			if (errno != EINTR)
				return al_errno(err, "locking %s", path);
		struct stat sb;
		if (fstat(f, &sb) < 0)
			return al_errno(err, "%s", path);
		if (sb.st_nlink == 0)
			continue;
		*fd = al_steal_fd(&f);
		return 0;
	}
	return al_err(err, EAGAIN, "%s: removed again and again while opening it", path);
}

struct parser {
	const char *s, *start, *end;
	const char *why; /* what was expected where parsing stopped */
};

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static bool eat(struct parser *p, char c)
{
	skip_ws(p);
	if (p->s < p->end && *p->s == c) {
		p->s++;
		return true;
	}
	return false;
}

static int expect(struct parser *p, char c, const char *why)
{
	if (eat(p, c))
		return 0;
	p->why = why;
	return -1;
}

static int parse_uint(struct parser *p, uint64_t *out)
{
	skip_ws(p);
	p->why = "expected a non-negative integer";
	if (p->s >= p->end || *p->s < '0' || *p->s > '9')
		return -1;
	uint64_t v = 0;
	for (; p->s < p->end && *p->s >= '0' && *p->s <= '9'; p->s++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p->s - '0'), &v)) {
			p->why = "integer too large";
			return -1;
		}
	*out = v;
	return 0;
}

/* A string of plain printable ASCII: keys and agent names need no escapes. */
static int parse_string(struct parser *p, char *buf, size_t len)
{
	if (expect(p, '"', "expected a string") < 0)
		return -1;
	size_t n = 0;
	for (; p->s < p->end && *p->s != '"'; p->s++) {
		if (*p->s == '\\' || *p->s < 0x20 || *p->s > 0x7e) {
			p->why = "unexpected character in a string";
			return -1;
		}
		if (n + 1 >= len) {
			p->why = "string too long";
			return -1;
		}
		buf[n++] = *p->s;
	}
	buf[n] = '\0';
	return expect(p, '"', "unterminated string");
}

static int parse_runs(struct parser *p, struct state *st)
{
	if (expect(p, '[', "expected '[' (runs)") < 0)
		return -1;
	if (eat(p, ']'))
		return 0;
	do {
		struct run r;
		if (expect(p, '[', "expected '[' (a run: [ms,violations,failed])") < 0 ||
		    parse_uint(p, &r.ms) < 0 || expect(p, ',', "expected ','") < 0 ||
		    parse_uint(p, &r.violations) < 0 || expect(p, ',', "expected ','") < 0 ||
		    parse_uint(p, &r.failures) < 0 || expect(p, ']', "expected ']' (a run has 3 numbers)") < 0)
			return -1;
		if (state_add_run(st, r) < 0) {
			p->why = "out of memory";
			return -1;
		}
	} while (eat(p, ','));
	return expect(p, ']', "expected ',' or ']'");
}

static int parse_state(struct parser *p, const char *agent, struct state *st)
{
	enum { K_V = 1, K_AGENT = 2, K_UNTIL = 4, K_TRIP_V = 8, K_TRIP_F = 16, K_RUNS = 32, K_ALL = 63 };
	unsigned seen = 0;
	if (expect(p, '{', "expected '{'") < 0)
		return -1;
	do {
		char key[32], name[AGENT_MAX + 2];
		uint64_t version = 0;
		unsigned k;
		if (parse_string(p, key, sizeof key) < 0 || expect(p, ':', "expected ':'") < 0)
			return -1;
		if (strcmp(key, "v") == 0) {
			k = K_V;
			if (parse_uint(p, &version) < 0)
				return -1;
			if (version != STATE_VERSION) {
				p->why = "unsupported version (this airlock reads \"v\":1)";
				return -1;
			}
		} else if (strcmp(key, "agent") == 0) {
			k = K_AGENT;
			if (parse_string(p, name, sizeof name) < 0)
				return -1;
			if (strcmp(name, agent) != 0) {
				p->why = "\"agent\" does not match the file name";
				return -1;
			}
		} else if (strcmp(key, "tripped_until") == 0) {
			k = K_UNTIL;
			if (parse_uint(p, &st->tripped_until) < 0)
				return -1;
		} else if (strcmp(key, "trip_violations") == 0) {
			k = K_TRIP_V;
			if (parse_uint(p, &st->trip_violations) < 0)
				return -1;
		} else if (strcmp(key, "trip_failures") == 0) {
			k = K_TRIP_F;
			if (parse_uint(p, &st->trip_failures) < 0)
				return -1;
		} else if (strcmp(key, "runs") == 0) {
			k = K_RUNS;
			if (!(seen & K_RUNS) && parse_runs(p, st) < 0)
				return -1;
		} else {
			p->why = "unknown key";
			return -1;
		}
		if (seen & k) {
			p->why = "duplicate key";
			return -1;
		}
		seen |= k;
	} while (eat(p, ','));
	if (expect(p, '}', "expected ',' or '}'") < 0)
		return -1;
	skip_ws(p);
	if (p->s != p->end) {
		p->why = "unexpected bytes after the object";
		return -1;
	}
	if (seen != K_ALL) {
		p->why = "missing keys (v, agent, tripped_until, trip_violations, trip_failures, runs)";
		return -1;
	}
	return 0;
}

static int read_state(int fd, const char *path, const char *agent, struct state *st, al_error *err)
{
	*st = (struct state){ 0 };
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return al_errno(err, "%s", path);
	if (sb.st_size > MAX_STATE_BYTES)
		return al_err(err, EFBIG, "%s: corrupt: larger than %u bytes (airlock breaker reset %s starts afresh)",
			      path, MAX_STATE_BYTES, agent);
	_cleanup_free_ char *buf = malloc(MAX_STATE_BYTES + 1);
	if (!buf)
		return al_errno(err, "reading %s", path);
	size_t len = 0;
	for (;;) {
		ssize_t n = pread(fd, buf + len, MAX_STATE_BYTES + 1 - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return al_errno(err, "reading %s", path);
		if (n == 0 || (len += (size_t)n) > MAX_STATE_BYTES)
			break;
	}
	if (len > MAX_STATE_BYTES)
		return al_err(err, EFBIG, "%s: corrupt: larger than %u bytes (airlock breaker reset %s starts afresh)",
			      path, MAX_STATE_BYTES, agent);
	if (len == 0)
		return 0;
	struct parser p = { .s = buf, .start = buf, .end = buf + len };
	if (parse_state(&p, agent, st) < 0) {
		state_clear(st);
		return al_err(err, EINVAL, "%s: corrupt at byte %zu: %s (airlock breaker reset %s starts afresh)",
			      path, (size_t)(p.s - p.start), p.why, agent);
	}
	return 0;
}

static int write_state(int fd, const char *path, const char *agent, const struct state *st, al_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return al_errno(err, "writing %s", path);
	fprintf(f, "{\"v\":%d,\"agent\":", STATE_VERSION);
	json_write_string(f, agent);
	fprintf(f, ",\"tripped_until\":%llu,\"trip_violations\":%llu,\"trip_failures\":%llu,\"runs\":[",
		(unsigned long long)st->tripped_until, (unsigned long long)st->trip_violations,
		(unsigned long long)st->trip_failures);
	for (size_t i = 0; i < st->n; i++)
		fprintf(f, "%s[%llu,%llu,%llu]", i ? "," : "", (unsigned long long)st->runs[i].ms,
			(unsigned long long)st->runs[i].violations, (unsigned long long)st->runs[i].failures);
	fputs("]}\n", f);
	bool bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return al_err(err, ENOMEM, "writing %s: out of memory", path);
	}
	int r = 0;
	/* pwrite, then cut: see the top of the file for why in this order. */
	for (size_t off = 0; off < len;) {
		ssize_t n = pwrite(fd, buf + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = al_errno(err, "writing %s", path);
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	if (r < 0)
		return r;
	if (ftruncate(fd, (off_t)len) < 0)
		return al_errno(err, "writing %s", path);
	if (fsync(fd) < 0)
		return al_errno(err, "writing %s", path);
	return 0;
}

/* ---- the rule ------------------------------------------------------------ */

/* A window of 0 (or no configuration) keeps everything: nothing expires. A
 * run stamped after now (the clock went back) counts as current. */
static bool in_window(const struct run *r, const struct breaker_cfg *cfg, uint64_t now_ms)
{
	return !cfg || !cfg->window_ms || r->ms >= now_ms || now_ms - r->ms <= cfg->window_ms;
}

static void prune(struct state *st, const struct breaker_cfg *cfg, uint64_t now_ms)
{
	size_t k = 0;
	for (size_t i = 0; i < st->n; i++)
		if (in_window(&st->runs[i], cfg, now_ms))
			st->runs[k++] = st->runs[i];
	st->n = k;
	if (st->n > MAX_RUNS) {
		size_t drop = st->n - MAX_RUNS;
		struct run *keep = &st->runs[drop];
		for (size_t i = 0; i < drop; i++) {
			keep->violations = sat_add(keep->violations, st->runs[i].violations);
			keep->failures = sat_add(keep->failures, st->runs[i].failures);
		}
		memmove(st->runs, keep, MAX_RUNS * sizeof *keep);
		st->n = MAX_RUNS;
	}
}

static void window_counts(const struct state *st, const struct breaker_cfg *cfg, uint64_t now_ms,
			  uint64_t *violations, uint64_t *failures)
{
	*violations = *failures = 0;
	for (size_t i = 0; i < st->n; i++)
		if (in_window(&st->runs[i], cfg, now_ms)) {
			*violations = sat_add(*violations, st->runs[i].violations);
			*failures = sat_add(*failures, st->runs[i].failures);
		}
}

static void view_of(const struct state *st, const struct breaker_cfg *cfg, uint64_t now_ms,
		    struct breaker_view *v)
{
	*v = (struct breaker_view){ 0 };
	if (st->tripped_until > now_ms) {
		v->tripped = true;
		v->until_ms = st->tripped_until;
		v->violations = st->trip_violations;
		v->failures = st->trip_failures;
		return;
	}
	window_counts(st, cfg, now_ms, &v->violations, &v->failures);
}

/* The view of one agent, under a shared lock (readers do not block each
 * other; the lock only keeps them from seeing a half-written file). */
static int load_view(int dfd, const char *dir, const char *agent, const struct breaker_cfg *cfg,
		     uint64_t now_ms, struct breaker_view *v, al_error *err)
{
	*v = (struct breaker_view){ 0 };
	if (dfd < 0)
		return 0;
	_cleanup_free_ char *path = NULL, *name = NULL;
	if (asprintf(&path, "%s/breaker/%s.json", dir, agent) < 0 || asprintf(&name, "%s.json", agent) < 0)
		return al_errno(err, "breaker state of %s", agent);
	_cleanup_close_ int fd = -1;
	if (open_state(dfd, path, name, false, LOCK_SH, &fd, err) < 0)
		return -1;
	if (fd < 0)
		return 0;
	struct state st;
	if (read_state(fd, path, agent, &st, err) < 0)
		return -1;
	view_of(&st, cfg, now_ms, v);
	state_clear(&st);
	return 0;
}

int breaker_check(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		  struct breaker_view *v, al_error *err)
{
	struct breaker_view tmp;
	if (!v)
		v = &tmp;
	*v = (struct breaker_view){ 0 };
	if (!breaker_agent_valid(agent))
		return bad_agent(agent, err);
	_cleanup_close_ int dfd = -1;
	if (open_breaker_dir(dir, false, &dfd, err) < 0 || load_view(dfd, dir, agent, cfg, now_ms, v, err) < 0)
		return -1;
	return v->tripped ? 1 : 0;
}

int breaker_record(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		   uint64_t violations, bool failed, struct breaker_view *v, bool *tripped,
		   al_error *err)
{
	if (tripped)
		*tripped = false;
	if (v)
		*v = (struct breaker_view){ 0 };
	if (!breaker_agent_valid(agent))
		return bad_agent(agent, err);
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *path = NULL, *name = NULL;
	if (open_breaker_dir(dir, true, &dfd, err) < 0)
		return -1;
	if (asprintf(&path, "%s/breaker/%s.json", dir, agent) < 0 || asprintf(&name, "%s.json", agent) < 0)
		return al_errno(err, "breaker state of %s", agent);
	if (open_state(dfd, path, name, true, LOCK_EX, &fd, err) < 0)
		return -1;
	struct state st;
	bool tripped_now = false;
	if (read_state(fd, path, agent, &st, err) < 0)
		return -1;

	if (st.tripped_until && st.tripped_until <= now_ms)
		st.tripped_until = st.trip_violations = st.trip_failures = 0; /* cooldown over */
	int r = state_add_run(&st, (struct run){ now_ms, violations, failed ? 1 : 0 });
	if (r < 0) {
		r = al_errno(err, "recording a run of %s", agent);
		goto out;
	}
	prune(&st, cfg, now_ms);
	/* A run that overlapped the one that tripped the breaker is kept but
	 * does not extend the cooldown: the trip was already decided. */
	if (cfg && st.tripped_until <= now_ms) {
		uint64_t sum_v, sum_f;
		window_counts(&st, cfg, now_ms, &sum_v, &sum_f);
		if ((cfg->max_violations && sum_v >= cfg->max_violations) ||
		    (cfg->max_failures && sum_f >= cfg->max_failures)) {
			st.tripped_until = sat_add(now_ms, cfg->cooldown_ms);
			st.trip_violations = sum_v;
			st.trip_failures = sum_f;
			st.n = 0;
			tripped_now = true;
		}
	}
	r = write_state(fd, path, agent, &st, err);
	if (r == 0 && v) {
		view_of(&st, cfg, now_ms, v);
		/* Even a trip with a cooldown of 0 (over at once) has a
		 * "breaker" event to tell, with its counts and time. */
		if (tripped_now) {
			v->until_ms = st.tripped_until;
			v->violations = st.trip_violations;
			v->failures = st.trip_failures;
		}
	}
	if (r == 0 && tripped)
		*tripped = tripped_now;
out:
	state_clear(&st);
	return r;
}

int breaker_reset(const char *dir, const char *agent, al_error *err)
{
	if (!breaker_agent_valid(agent))
		return bad_agent(agent, err);
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *path = NULL, *name = NULL;
	if (open_breaker_dir(dir, false, &dfd, err) < 0)
		return -1;
	if (dfd < 0)
		return 0;
	if (asprintf(&path, "%s/breaker/%s.json", dir, agent) < 0 || asprintf(&name, "%s.json", agent) < 0)
		return al_errno(err, "breaker state of %s", agent);
	/* Under the lock, so that no update is in flight; a corrupt file can
	 * be reset too (that is the way out of it). */
	if (open_state(dfd, path, name, false, LOCK_EX, &fd, err) < 0)
		return -1;
	if (fd >= 0 && unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return al_errno(err, "removing %s", path);
	return 0;
}

/* ---- status -------------------------------------------------------------- */

/* RFC 3339 UTC to the second, rounded up: "refusing until" must never name
 * a moment at which runs are still refused. */
static void format_time(uint64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000 + (ms % 1000 != 0));
	if (ms / 1000 >= 253402300799ull || !gmtime_r(&t, &tm)) /* past 9999-12-31T23:59:59Z */
		snprintf(buf, len, "9999-12-31T23:59:59Z");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct row {
	char *agent;
	struct breaker_view v;
};

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->agent, ((const struct row *)b)->agent);
}

static void free_rows(struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].agent);
	free(rows);
}

/* Every <agent>.json in DIR/breaker; other names are not ours and skipped. */
static int list_agents(int dfd, const char *dir, struct row **rows, size_t *n, al_error *err)
{
	*rows = NULL;
	*n = 0;
	if (dfd < 0)
		return 0;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return al_errno(err, "listing %s/breaker", dir);
	}
	size_t cap = 0;
	int r = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		char *agent = strndup(de->d_name, len - 5);
		if (!agent) {
			r = al_errno(err, "listing %s/breaker", dir);
			break;
		}
		if (!breaker_agent_valid(agent)) {
			free(agent);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct row *v = realloc(*rows, cap * sizeof *v);
			if (!v) {
				free(agent);
				r = al_errno(err, "listing %s/breaker", dir);
				break;
			}
			*rows = v;
		}
		(*rows)[(*n)++] = (struct row){ .agent = agent };
	}
	closedir(d);
	if (r < 0) {
		free_rows(*rows, *n);
		*rows = NULL;
		*n = 0;
		return r;
	}
	if (*n)
		qsort(*rows, *n, sizeof **rows, cmp_row);
	return 0;
}

static void print_rows(const struct row *rows, size_t n, FILE *out, bool json)
{
	char until[32];
	if (json)
		fputs("{\"agents\":[", out);
	for (size_t i = 0; i < n; i++) {
		const struct breaker_view *v = &rows[i].v;
		if (v->tripped)
			format_time(v->until_ms, until, sizeof until);
		if (json) {
			fputs(i ? ",{\"agent\":" : "{\"agent\":", out);
			json_write_string(out, rows[i].agent);
			fprintf(out, ",\"state\":\"%s\",\"until\":", v->tripped ? "tripped" : "closed");
			if (v->tripped)
				json_write_string(out, until);
			else
				fputs("null", out);
			fprintf(out, ",\"violations\":%llu,\"failures\":%llu}", (unsigned long long)v->violations,
				(unsigned long long)v->failures);
		} else {
			fprintf(out, "%s  %s%s  violations %llu  failures %llu\n", rows[i].agent,
				v->tripped ? "tripped until " : "closed", v->tripped ? until : "",
				(unsigned long long)v->violations, (unsigned long long)v->failures);
		}
	}
	if (json)
		fputs("]}\n", out);
}

int breaker_print(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		  FILE *out, bool json, al_error *err)
{
	if (agent && !breaker_agent_valid(agent))
		return bad_agent(agent, err);
	_cleanup_close_ int dfd = -1;
	if (open_breaker_dir(dir, false, &dfd, err) < 0)
		return -1;
	struct row *rows = NULL;
	size_t n = 0;
	if (agent) {
		if (!(rows = calloc(1, sizeof *rows)) || !(rows[0].agent = strdup(agent))) {
			free(rows);
			return al_errno(err, "breaker state of %s", agent);
		}
		n = 1;
	} else if (list_agents(dfd, dir, &rows, &n, err) < 0) {
		return -1;
	}
	/* Every state is read before anything is printed: one bad file fails
	 * the whole answer instead of leaving half a JSON document. */
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = load_view(dfd, dir, rows[i].agent, cfg, now_ms, &rows[i].v, err);
	if (r == 0) {
		print_rows(rows, n, out, json);
		if (fflush(out) != 0 || ferror(out))
			r = al_errno(err, "writing the breaker status");
	}
	free_rows(rows, n);
	return r;
}
