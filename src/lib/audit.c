/* The audit trail: what each run did, written by the supervisor.
 *
 * One JSON object per line (docs/audit.md), each line one write(2) on a file
 * opened O_APPEND, so concurrent runs never tear or interleave lines; fsync
 * when a run ends. The sandbox has no way to the file: it is opened here,
 * before the sandbox exists, and only the supervisor and the gateway
 * process (for live egress lines) hold it.
 *
 * Fail closed: a run whose start cannot be recorded does not start (unless
 * the policy says continue), and a breaker that is open refuses the run
 * before anything is built. Alerts fire from the events as they are written,
 * delivered by alert.c from a detached process.
 */
#include "sandbox.h"
#include "alert.h"
#include "audit.h"
#include "breaker.h"
#include "scan.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#define SNAP_MAX 100000	 /* workspace entries compared per run */
#define SNAP_DEPTH 64
#define CHANGES_MAX 1000 /* listed per kind in file_changes */
#define EGRESS_ALERTS_MAX 20 /* egress_denied alerts per run: a flood is one page, not thousands */

struct snap_ent {
	char *path; /* relative to the workspace */
	uint64_t size, mtime_ns, ino;
};

struct snapshot {
	struct snap_ent *v;
	size_t n, cap;
	bool truncated;
};

struct audit {
	const struct al_policy *pol;
	int fd;
	char agent[65];
	char run_id[17];
	char *state_dir;
	unsigned errors;
	struct snapshot before;
	/* the run-end fsync, overlapped with the sandbox's teardown */
	pthread_t syncer;
	bool syncing;
	int sync_errno;
};

/* What an event means for the alert rules. */
struct alert_facts {
	enum { F_OTHER, F_RUN_END, F_EGRESS_DENIED, F_PEAK, F_BREAKER } kind;
	uint64_t violations;
	bool failed;
	uint32_t memory_pct, pids_pct;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rfc3339(uint64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, 40 - k, ".%03uZ", (unsigned)(ms % 1000));
}

int audit_log_fd(const struct audit *a) { return a ? a->fd : -1; }
const char *audit_agent(const struct audit *a) { return a ? a->agent : ""; }

/* ---- writing --------------------------------------------------------- */

static bool fires(const struct alert_rule *r, const char *event, const struct alert_facts *f)
{
	switch (r->on) {
	case ALERT_ANY:
		return true;
	case ALERT_VIOLATION:
		return f->kind == F_RUN_END && f->violations > 0;
	case ALERT_FAILURE:
		return f->kind == F_RUN_END && f->failed;
	case ALERT_EGRESS_DENIED:
		return f->kind == F_EGRESS_DENIED;
	case ALERT_RESOURCE_PEAK:
		return f->kind == F_PEAK &&
		       ((r->memory_over_pct && f->memory_pct >= r->memory_over_pct) ||
			(r->pids_over_pct && f->pids_pct >= r->pids_over_pct));
	case ALERT_BREAKER:
		return f->kind == F_BREAKER;
	}
	(void)event;
	return false;
}

static void gate_append(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, (FILE *)arg);
}

/* With output.secret_scanning, events pass the output gate too: a command
 * line or a host name may carry a secret. Markers hold no quote or
 * backslash, so the line stays valid JSON. */
static char *gated(const struct al_policy *p, char *line, size_t *len)
{
	if (!p->out_secret_scanning)
		return line;
	struct scan_cfg cfg;
	scan_cfg_defaults(&cfg);
	cfg.instructions = false;
	cfg.entropy_bits = p->out_entropy_bits;
	struct scanner *s = scan_new(&cfg);
	char *out = NULL;
	size_t olen = 0;
	FILE *m = s ? open_memstream(&out, &olen) : NULL;
	if (!m) {
		scan_free(s);
		return line; /* no memory: the line as it is beats no line */
	}
	scan_feed(s, line, *len, gate_append, m);
	scan_finish(s, gate_append, m);
	scan_free(s);
	if (fclose(m) != 0 || !out) {
		free(out);
		return line;
	}
	free(line);
	*len = olen;
	return out;
}

/* One event: the common fields, then `fields` (JSON members without the
 * braces, "" for none). One write; -1 (and counted) if it did not land. */
static int emit(struct audit *a, const char *event, const char *fields, const struct alert_facts *f)
{
	char ts[40];
	char *line = NULL;
	size_t len = 0;
	rfc3339(wall_ms(), ts);
	FILE *m = open_memstream(&line, &len);
	if (!m) {
		a->errors++;
		return -1;
	}
	fprintf(m, "{\"v\":1,\"time\":\"%s\",\"run\":\"%s\",\"agent\":", ts, a->run_id);
	json_write_string(m, a->agent);
	fprintf(m, ",\"event\":\"%s\"%s%s}\n", event, fields[0] ? "," : "", fields);
	if (fclose(m) != 0 || !line) {
		free(line);
		a->errors++;
		return -1;
	}
	line = gated(a->pol, line, &len);
	int r = 0;
	if (a->fd >= 0) {
		ssize_t n;
		do
			n = write(a->fd, line, len);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)len) {
			a->errors++;
			r = -1;
		}
	}
	if (a->pol->audit_syslog)
		syslog(LOG_INFO | LOG_USER, "%.*s", (int)(len ? len - 1 : 0), line);
	static const struct alert_facts other = { .kind = F_OTHER };
	if (!f)
		f = &other; /* `any` rules see every event */
	for (size_t i = 0; i < a->pol->n_alerts; i++)
		if (fires(&a->pol->alerts[i], event, f)) {
			line[len - 1] = '\0';
			alert_deliver(&a->pol->alerts[i], line);
			line[len - 1] = '\n';
		}
	free(line);
	return r;
}

/* fields built with a memstream; NULL-safe */
struct fields {
	FILE *m;
	char *buf;
	size_t len;
};

static FILE *fields_open(struct fields *fl)
{
	fl->buf = NULL;
	fl->len = 0;
	fl->m = open_memstream(&fl->buf, &fl->len);
	return fl->m;
}

static const char *fields_text(struct fields *fl)
{
	if (fl->m)
		fclose(fl->m);
	fl->m = NULL;
	return fl->buf ? fl->buf : "";
}

/* ---- open, rotate, breaker --------------------------------------------- */

/* Under the lock: the file we hold is still the one at `path`, and over the
 * size: shift path.N-1 -> path.N ... path -> path.1. Returns the fd to use. */
static int rotate(const struct al_policy *p, int fd)
{
	struct stat st, cur;
	if (!p->audit_max_size || fstat(fd, &st) < 0 || (uint64_t)st.st_size < p->audit_max_size)
		return fd;
	if (stat(p->audit_log, &cur) < 0 || cur.st_ino != st.st_ino || cur.st_dev != st.st_dev)
		return fd; /* someone rotated it already */
	size_t len = strlen(p->audit_log) + 24;
	char *from = malloc(len), *to = malloc(len);
	if (from && to) {
		for (uint64_t i = p->audit_keep; i > 1; i--) {
			snprintf(from, len, "%s.%llu", p->audit_log, (unsigned long long)(i - 1));
			snprintf(to, len, "%s.%llu", p->audit_log, (unsigned long long)i);
			rename(from, to);
		}
		snprintf(to, len, "%s.1", p->audit_log);
		rename(p->audit_log, to);
	}
	free(from);
	free(to);
	int nfd = open(p->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (nfd < 0)
		return fd; /* keep writing to the rotated file rather than lose lines */
	close(fd);
	return nfd;
}

static int open_log(struct audit *a, al_error *err)
{
	const struct al_policy *p = a->pol;
	int fd = open(p->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return al_errno(err, "audit log %s", p->audit_log);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return al_err(err, EINVAL, "audit log %s: not a regular file", p->audit_log);
	}
	if (p->audit_max_size && (uint64_t)st.st_size >= p->audit_max_size && flock(fd, LOCK_EX) == 0) {
		int nfd = rotate(p, fd);
		flock(nfd == fd ? fd : nfd, LOCK_UN);
		if (nfd != fd)
			flock(fd, LOCK_UN);
		fd = nfd;
	}
	a->fd = fd;
	return 0;
}

static void new_run_id(char out[17])
{
	uint8_t b[8];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		uint64_t t = wall_ms() ^ ((uint64_t)getpid() << 32);
		memcpy(b, &t, sizeof b);
	}
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void breaker_event(struct audit *a, const char *state, const struct breaker_view *v)
{
	char until[40], fields[256];
	struct alert_facts f = { .kind = F_BREAKER };
	rfc3339(v->until_ms, until);
	snprintf(fields, sizeof fields, "\"state\":\"%s\",\"violations\":%llu,\"failures\":%llu,\"until\":\"%s\"",
		 state, (unsigned long long)v->violations, (unsigned long long)v->failures, until);
	emit(a, "breaker", fields, &f);
}

static void fmt_window(uint64_t ms, char *out, size_t len)
{
	if (ms % 60000 == 0)
		snprintf(out, len, "%llum", (unsigned long long)(ms / 60000));
	else
		snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
}

int audit_trail_open(const struct al_policy *p, struct audit **out, al_error *err)
{
	*out = NULL;
	if (!p->audit_log && !p->breaker_on)
		return 0;
	struct audit *a = calloc(1, sizeof *a);
	if (!a)
		return al_err(err, ENOMEM, "out of memory");
	a->pol = p;
	a->fd = -1;
	snprintf(a->agent, sizeof a->agent, "%s", p->audit_agent ? p->audit_agent : "");
	new_run_id(a->run_id);
	if (p->audit_log && open_log(a, err) < 0) {
		free(a);
		return -1;
	}
	if (p->breaker_on) {
		a->state_dir = p->audit_state_dir ? strdup(p->audit_state_dir) : breaker_default_dir();
		struct breaker_view v = { 0 };
		int open_ = a->state_dir ? breaker_check(a->state_dir, a->agent, &p->breaker, wall_ms(), &v, err)
					 : al_err(err, ENOENT, "no state directory for the circuit breaker (set audit.state_dir)");
		if (open_ != 0) {
			if (open_ > 0) {
				char until[40], win[24];
				breaker_event(a, "refused", &v);
				emit(a, "run_end",
				     "\"exit_reason\":\"breaker_open\",\"exit_code\":125,\"exit_status\":0,"
				     "\"term_signal\":0,\"violations\":0,\"failed\":true", NULL);
				rfc3339(v.until_ms, until);
				fmt_window(p->breaker.window_ms, win, sizeof win);
				al_err(err, 0,
				       "circuit breaker open for agent %s: %llu violations, %llu failed runs in %s; "
				       "refusing runs until %s (airlock breaker reset %s)",
				       a->agent, (unsigned long long)v.violations, (unsigned long long)v.failures, win,
				       until, a->agent);
			} else {
				al_error_wrap(err, "circuit breaker");
			}
			audit_trail_close(a);
			return -1;
		}
	}
	*out = a;
	return 0;
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	*s = (struct snapshot){ 0 };
}

static void *fsync_main(void *arg)
{
	struct audit *a = arg;
	a->sync_errno = fsync(a->fd) < 0 && errno != EINVAL ? errno : 0;
	return NULL;
}

/* The run's lines are durable when this returns: called before the next
 * run starts and when the sandbox is destroyed. */
static void audit_synced(struct audit *a)
{
	if (!a->syncing)
		return;
	pthread_join(a->syncer, NULL);
	a->syncing = false;
}

void audit_trail_close(struct audit *a)
{
	if (!a)
		return;
	audit_synced(a);
	if (a->fd >= 0)
		close(a->fd);
	snapshot_free(&a->before);
	free(a->state_dir);
	free(a);
}

void audit_setup_failed(struct audit *a, const struct al_policy *p, const al_error *why)
{
	struct fields fl;
	struct alert_facts f = { .kind = F_RUN_END, .failed = true };
	if (!a || !fields_open(&fl))
		return;
	fputs("\"exit_reason\":\"setup_failed\",\"exit_code\":125,\"exit_status\":0,\"term_signal\":0,"
	      "\"violations\":0,\"failed\":true,\"error\":", fl.m);
	json_write_string(fl.m, why ? why->msg : "");
	emit(a, "run_end", fields_text(&fl), &f);
	free(fl.buf);
	if (a->fd >= 0)
		fsync(a->fd);
	(void)p;
}

/* ---- the workspace before and after ----------------------------------- */

static int snap_add(struct snapshot *s, const char *path, const struct stat *st)
{
	if (s->n == SNAP_MAX) {
		s->truncated = true;
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct snap_ent *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	char *dup = strdup(path);
	if (!dup)
		return -1;
	s->v[s->n++] = (struct snap_ent){ .path = dup, .size = (uint64_t)st->st_size,
					  .mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull +
						      (uint64_t)st->st_mtim.tv_nsec,
					  .ino = (uint64_t)st->st_ino };
	return 0;
}

/* Files and symlinks below dir_fd (never followed), paths relative. */
static void snap_walk(struct snapshot *s, int dir_fd, char *rel, size_t rel_len, int depth)
{
	if (depth > SNAP_DEPTH) {
		s->truncated = true;
		return;
	}
	DIR *d = fdopendir(dir_fd);
	if (!d) {
		close(dir_fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) && !s->truncated) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t nl = strlen(e->d_name);
		if (rel_len + nl + 2 >= PATH_MAX)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		size_t k = rel_len;
		if (k)
			rel[k++] = '/';
		memcpy(rel + k, e->d_name, nl + 1);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				snap_walk(s, sub, rel, k + nl, depth + 1);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			snap_add(s, rel, &st);
		}
		rel[rel_len] = '\0';
	}
	closedir(d);
}

static int cmp_ent(const void *x, const void *y)
{
	return strcmp(((const struct snap_ent *)x)->path, ((const struct snap_ent *)y)->path);
}

static void snapshot_take(const struct al_policy *p, struct snapshot *s)
{
	snapshot_free(s);
	int fd = open(p->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	char *rel = calloc(1, PATH_MAX);
	if (!rel) {
		close(fd);
		return;
	}
	snap_walk(s, fd, rel, 0, 0);
	free(rel);
	qsort(s->v, s->n, sizeof *s->v, cmp_ent);
}

static bool tracks_workspace(const struct al_policy *p)
{
	return p->workspace && p->workspace_writable;
}

static void list_change(FILE *m, const char *key, const struct snap_ent *e, size_t *count)
{
	if (*count >= CHANGES_MAX)
		return;
	fprintf(m, "%s{\"path\":", (*count)++ ? "," : "");
	json_write_string(m, e->path);
	fprintf(m, ",\"size\":%llu}", (unsigned long long)e->size);
	(void)key;
}

/* created, modified, deleted: a merge of the two sorted snapshots */
static void file_changes(struct audit *a)
{
	struct snapshot after = { 0 };
	snapshot_take(a->pol, &after);
	const struct snapshot *b = &a->before;
	struct fields fl[3];
	size_t counts[3] = { 0 }, totals[3] = { 0 };
	for (int k = 0; k < 3; k++)
		fields_open(&fl[k]);
	size_t i = 0, j = 0;
	while (i < b->n || j < after.n) {
		int c = i == b->n ? 1 : j == after.n ? -1 : strcmp(b->v[i].path, after.v[j].path);
		if (c < 0) { /* gone */
			totals[2]++;
			if (fl[2].m)
				list_change(fl[2].m, "deleted", &b->v[i], &counts[2]);
			i++;
		} else if (c > 0) { /* new */
			totals[0]++;
			if (fl[0].m)
				list_change(fl[0].m, "created", &after.v[j], &counts[0]);
			j++;
		} else {
			if (b->v[i].size != after.v[j].size || b->v[i].mtime_ns != after.v[j].mtime_ns ||
			    b->v[i].ino != after.v[j].ino) {
				totals[1]++;
				if (fl[1].m)
					list_change(fl[1].m, "modified", &after.v[j], &counts[1]);
			}
			i++;
			j++;
		}
	}
	const char *created = fields_text(&fl[0]), *modified = fields_text(&fl[1]),
		   *deleted = fields_text(&fl[2]);
	struct fields out;
	if (fields_open(&out)) {
		bool cut = b->truncated || after.truncated || counts[0] < totals[0] || counts[1] < totals[1] ||
			   counts[2] < totals[2];
		fprintf(out.m, "\"created\":[%s],\"modified\":[%s],\"deleted\":[%s],\"truncated\":%s", created,
			modified, deleted, cut ? "true" : "false");
		emit(a, "file_changes", fields_text(&out), NULL);
		free(out.buf);
	}
	for (int k = 0; k < 3; k++)
		free(fl[k].buf);
	snapshot_free(&after);
}

/* ---- the run ---------------------------------------------------------- */

int audit_exec_start(struct audit *a, const struct al_sandbox *sb, const al_exec *ex, char run_id[17],
		     al_error *err)
{
	audit_synced(a);
	new_run_id(a->run_id);
	memcpy(run_id, a->run_id, sizeof a->run_id);
	a->errors = 0;
	if (!a->pol->audit_log)
		return 0;
	if (tracks_workspace(a->pol))
		snapshot_take(a->pol, &a->before);
	struct fields fl;
	if (!fields_open(&fl))
		return al_err(err, ENOMEM, "out of memory");
	char digest[65];
	al_policy_digest(&sb->pol, digest);
	fputs("\"policy_digest\":", fl.m);
	json_write_string(fl.m, digest);
	fputs(",\"command\":[", fl.m);
	for (size_t i = 0; ex->argv[i]; i++) {
		fputs(i ? "," : "", fl.m);
		json_write_string(fl.m, ex->argv[i]);
	}
	fputs("],\"cwd\":", fl.m);
	json_write_string(fl.m, ex->cwd ? ex->cwd : "/workspace");
	fprintf(fl.m, ",\"user\":%u,\"layers\":[", (unsigned)getuid());
	bool first = true;
	for (int i = 0; i < AL_LAYER_COUNT; i++)
		if (sb->layers[i].state == AL_LAYER_APPLIED) {
			fprintf(fl.m, "%s\"%s\"", first ? "" : ",", al_layer_name((enum al_layer)i));
			first = false;
		}
	fputs("],\"unavailable\":[", fl.m);
	first = true;
	for (int i = 0; i < AL_LAYER_COUNT; i++)
		if (sb->layers[i].state == AL_LAYER_UNAVAILABLE) {
			fprintf(fl.m, "%s{\"layer\":\"%s\",\"note\":", first ? "" : ",", al_layer_name((enum al_layer)i));
			json_write_string(fl.m, sb->layers[i].note);
			fputc('}', fl.m);
			first = false;
		}
	fputc(']', fl.m);
	int r = emit(a, "run_start", fields_text(&fl), NULL);
	free(fl.buf);
	if (r < 0 && !a->pol->audit_continue)
		return al_errno(err, "audit log %s: cannot record the run (refused; audit.on_write_error: "
			       "continue runs unaudited)", a->pol->audit_log);
	return 0;
}

/* The gateway writes its own audit lines (live); the egress_denied rules
 * fire here, from this run's events, when the run ends. */
static void egress_alerts(struct audit *a, const struct al_sandbox *sb)
{
	bool wanted = false;
	for (size_t i = 0; i < a->pol->n_alerts; i++)
		wanted |= a->pol->alerts[i].on == ALERT_EGRESS_DENIED || a->pol->alerts[i].on == ALERT_ANY;
	char *text = wanted ? gwproc_events(sb) : NULL;
	unsigned sent = 0;
	for (char *line = text, *nl; line && *line && sent < EGRESS_ALERTS_MAX; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		/* the report's line {"type":"egress","time":"T",REST as the audit
		 * event {"v":1,"time":"T","run":..,"agent":..,"event":"egress",REST */
		const char *t = strstr(line, "\"time\":\"");
		const char *rest = t ? strchr(t + 8, '"') : NULL;
		char *ev = NULL;
		if (!rest || rest[1] != ',' ||
		    asprintf(&ev, "{\"v\":1,%.*s,\"run\":\"%s\",\"agent\":\"%s\",\"event\":\"egress\"%s",
			     (int)(rest + 1 - t), t, a->run_id, a->agent, rest + 1) < 0)
			continue;
		bool denied = strstr(line, "\"verdict\":\"deny\"") != NULL;
		for (size_t i = 0; i < a->pol->n_alerts; i++)
			if ((denied && a->pol->alerts[i].on == ALERT_EGRESS_DENIED) || a->pol->alerts[i].on == ALERT_ANY)
				alert_deliver(&a->pol->alerts[i], ev);
		free(ev);
		sent++;
	}
	free(text);
}

static uint32_t pct(uint64_t v, uint64_t of)
{
	return of ? (uint32_t)(v * 100 / of) : 0;
}

void audit_exec_end(struct audit *a, const struct al_sandbox *sb, al_result *res)
{
	const struct al_policy *p = a->pol;
	uint64_t violations = res->denied_total + res->net_denied;
	bool failed = !(res->reason == AL_EXIT_EXITED && res->exit_status == 0 && !res->exec_error[0]);
	char buf[512];
	if (p->audit_log) {
		for (size_t i = 0; i < res->n_denied; i++) {
			struct fields fl;
			if (!fields_open(&fl))
				continue;
			fputs("\"syscall\":", fl.m);
			json_write_string(fl.m, res->denied[i].name);
			fprintf(fl.m, ",\"count\":%llu", (unsigned long long)res->denied[i].count);
			emit(a, "syscall_denied", fields_text(&fl), NULL);
			free(fl.buf);
		}
		if (tracks_workspace(p))
			file_changes(a);
		struct alert_facts peak = { .kind = F_PEAK,
					    .memory_pct = pct(res->peak_memory_bytes, p->memory_bytes),
					    .pids_pct = pct(res->peak_pids, p->pids) };
		snprintf(buf, sizeof buf,
			 "\"memory_bytes\":%llu,\"memory_limit\":%llu,\"pids\":%llu,\"pids_limit\":%llu,"
			 "\"cpu_user_ms\":%.3f,\"cpu_sys_ms\":%.3f,\"wall_ms\":%.3f,\"output_bytes\":%llu,"
			 "\"read_bytes\":%llu,\"write_bytes\":%llu",
			 (unsigned long long)res->peak_memory_bytes, (unsigned long long)p->memory_bytes,
			 (unsigned long long)res->peak_pids, (unsigned long long)p->pids,
			 (double)res->cpu_user_us / 1000.0, (double)res->cpu_sys_us / 1000.0,
			 (double)res->wall_us / 1000.0, (unsigned long long)res->output_bytes,
			 (unsigned long long)res->read_bytes, (unsigned long long)res->write_bytes);
		emit(a, "resource_peak", buf, &peak);
	}
	egress_alerts(a, sb);
	/* the breaker before run_end: run_end is always the run's last event */
	if (p->breaker_on && a->state_dir) {
		struct breaker_view v = { 0 };
		bool tripped = false;
		al_error err;
		al_error_clear(&err);
		if (breaker_record(a->state_dir, a->agent, &p->breaker, wall_ms(), violations, failed, &v, &tripped,
				   &err) < 0)
			a->errors++;
		else if (tripped)
			breaker_event(a, "tripped", &v);
	}
	if (p->audit_log) {
		struct alert_facts end = { .kind = F_RUN_END, .violations = violations, .failed = failed };
		snprintf(buf, sizeof buf,
			 "\"exit_reason\":\"%s\",\"exit_code\":%d,\"exit_status\":%d,\"term_signal\":%d,"
			 "\"violations\":%llu,\"failed\":%s",
			 al_exit_reason_name(res->reason), res->exit_code, res->exit_status, res->term_signal,
			 (unsigned long long)violations, failed ? "true" : "false");
		emit(a, "run_end", buf, &end);
	}
	res->audit_errors = a->errors;
	/* fsync on a disk costs about a millisecond: it runs while the
	 * caller writes its report and tears the sandbox down, and
	 * al_sandbox_destroy (or the next exec) waits for it. */
	if (a->fd >= 0) {
		a->syncing = pthread_create(&a->syncer, NULL, fsync_main, a) == 0;
		if (!a->syncing && fsync(a->fd) < 0 && errno != EINVAL)
			res->audit_errors = ++a->errors;
	}
}
