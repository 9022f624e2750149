/* Resource limits with cgroups: memory (and swap 0), pids and cpu quota.
 *
 * Hosts come in three shapes: pure v2 (one unified hierarchy, controllers
 * enabled through the parent's cgroup.subtree_control), pure v1 (one
 * hierarchy per controller, cpu and cpuacct often co-mounted) and hybrid
 * (v1 controllers plus a unified hierarchy that holds few or none). A
 * controller is bound to exactly one hierarchy, so each one is placed where
 * the host has it: v2 if our unified cgroup can hand it to a child, else v1.
 *
 * Safety: groups are only ever created directly beneath the cgroup this
 * process runs in, and limits are only written into groups we created. All
 * paths come from /proc/self/cgroup and /proc/self/mountinfo (never a
 * hard-coded /sys/fs/cgroup), so cgroup namespaces and bind mounts work.
 *
 * Degrading: where the host lacks a controller or we lack permission
 * (no delegation, read-only cgroupfs), the controller is reported missing in
 * cgroup_status and the caller falls back to rlimits. Where we have both and
 * a write still fails, that is an error and everything created is removed:
 * a limit that was asked for is never silently dropped.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

enum cg_ctl { CTL_MEMORY, CTL_PIDS, CTL_CPU, CTL_CPUACCT, CTL_COUNT };
#define CTL_BIT(c) (1u << (c))
#define CTL_LIMITS (CTL_BIT(CTL_MEMORY) | CTL_BIT(CTL_PIDS) | CTL_BIT(CTL_CPU))

static const char *const ctl_name[CTL_COUNT] = { "memory", "pids", "cpu", "cpuacct" };

#define CPU_PERIOD_US 100000u
#define CPU_MIN_QUOTA_US 1000u /* the kernel refuses quotas below 1 ms */

/* The only process-wide state: with the pid, makes group names unique. */
static atomic_ulong cg_counter;

struct cg_dir {
	char *path;
	bool v2;
	unsigned ctls; /* controllers served by this directory */
};

/* The files read for the report, opened with the groups (off the start-up
 * path) and read with pread at the start and end of every exec. */
enum cg_stat { STAT_MEM_PEAK, STAT_MEM_EVENTS, STAT_PIDS_PEAK, STAT_PIDS_EVENTS, STAT_CPU, STAT_COUNT };

struct cgroup {
	struct cg_dir dir[CTL_COUNT + 1]; /* one per v1 hierarchy, one v2 */
	size_t n;
	int stat_fd[STAT_COUNT];	  /* -1 = not available */
	bool cpu_v1;			  /* STAT_CPU is cpuacct.usage, not cpu.stat */
};

/* Where our own cgroup lives in each hierarchy we can see. */
struct cg_host {
	char *v2;		/* our cgroup's directory in the unified hierarchy */
	char *v1[CTL_COUNT];	/* our cgroup's directory in each v1 controller's hierarchy */
};

/* ---- small file helpers ------------------------------------------------- */

static int cg_file(char *buf, size_t len, const char *dir, const char *file)
{
	int n = snprintf(buf, len, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static bool cg_has(const char *dir, const char *file)
{
	char path[PATH_MAX];
	return cg_file(path, sizeof path, dir, file) == 0 && access(path, F_OK) == 0;
}

/* One value per write(2): the kernel parses each write as a whole. */
static int __attribute__((format(printf, 3, 4)))
cg_write(const char *dir, const char *file, const char *fmt, ...)
{
	char path[PATH_MAX], val[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(val, sizeof val, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof val || cg_file(path, sizeof path, dir, file) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, val, (size_t)n);
	if (w < 0)
		return -1;
	if (w != n) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Whole file from its start into a NUL-terminated malloc'd buffer
 * (cgroup.procs can be long). pread: a kept fd is read again each time. */
static char *cg_read_fd(int fd)
{
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		ssize_t r = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0) {
				free(buf);
				return NULL;
			}
			buf[len] = '\0';
			return buf;
		}
		len += (size_t)r;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	return NULL;
}

static int cg_open(const char *dir, const char *file, int flags)
{
	char path[PATH_MAX];
	if (cg_file(path, sizeof path, dir, file) < 0)
		return -1;
	return open(path, flags | O_CLOEXEC);
}

static char *cg_read_all(const char *dir, const char *file)
{
	_cleanup_close_ int fd = cg_open(dir, file, O_RDONLY);
	return cg_read_fd(fd);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s)
		return -1;
	errno = 0;
	uint64_t v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	*out = v;
	return 0;
}

/* The value of "key N" in a flat-keyed file (memory.events, cpu.stat, ...). */
static int parse_key(const char *s, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	for (const char *line = s; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*out = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

static int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	_cleanup_free_ char *s = cg_read_all(dir, file);
	return parse_u64(s, out);
}


/* Is `word` one of the items of a list separated by spaces, commas or newlines? */
static bool word_in(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wlen) {
		bool start = p == list || strchr(" ,\n", p[-1]);
		bool end = p[wlen] == '\0' || strchr(" ,\n", p[wlen]);
		if (start && end)
			return true;
	}
	return false;
}

static bool no_access(int e)
{
	return e == EACCES || e == EPERM || e == EROFS;
}

static void __attribute__((format(printf, 2, 3)))
note_add(struct cgroup_status *st, const char *fmt, ...)
{
	size_t len = strlen(st->note);
	if (len + 3 >= sizeof st->note)
		return;
	if (len) {
		memcpy(st->note + len, "; ", 3);
		len += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->note + len, sizeof st->note - len, fmt, ap);
	va_end(ap);
}

/* ---- finding our own cgroup in every hierarchy ---------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *o = s;
	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

/* The directory of cgroup `cgpath` under a mount of its hierarchy whose root
 * is `root`, or NULL when that mount does not show it. A path outside our
 * cgroup namespace reads "/.." and is never usable. */
static char *cg_dir_under(const char *mountpoint, const char *root, const char *cgpath)
{
	const char *rel = cgpath;
	if (strstr(cgpath, "/.."))
		return NULL;
	if (strcmp(root, "/") != 0) {
		size_t rlen = strlen(root);
		if (strncmp(cgpath, root, rlen) != 0 || (cgpath[rlen] != '/' && cgpath[rlen] != '\0'))
			return NULL;
		rel = cgpath + rlen;
	}
	if (strcmp(rel, "/") == 0)
		rel = "";
	char *dir;
	if (asprintf(&dir, "%s%s", mountpoint, rel) < 0)
		return NULL;
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* /proc/self/cgroup: "0::/path" for v2, "N:ctl,ctl:/path" for each v1 hierarchy. */
static int read_own_paths(char **v2path, char *v1path[CTL_COUNT])
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *ctls = strchr(line, ':');
		char *path = ctls ? strchr(ctls + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctls++;
		if (*ctls == '\0') {
			free(*v2path);
			*v2path = strdup(path);
			continue;
		}
		for (int c = 0; c < CTL_COUNT; c++)
			if (word_in(ctls, ctl_name[c]) && !v1path[c])
				v1path[c] = strdup(path);
	}
	free(line);
	fclose(f);
	return 0;
}

/* One mountinfo line:
 * "id parent maj:min root mountpoint opts [optional...] - fstype source superopts". */
static void match_mount(char *line, struct cg_host *h, const char *v2path,
			char *const v1path[CTL_COUNT])
{
	char *field[5], *save = NULL, *tok = strtok_r(line, " \n", &save);
	int i = 0;
	for (; tok && i < 5; tok = strtok_r(NULL, " \n", &save))
		field[i++] = tok;
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " \n", &save);
	char *fstype = strtok_r(NULL, " \n", &save);
	char *source = strtok_r(NULL, " \n", &save);
	char *super = strtok_r(NULL, " \n", &save);
	if (i < 5 || !fstype || !source || !super)
		return;
	char *root = field[3], *mountpoint = field[4];
	unescape_octal(root);
	unescape_octal(mountpoint);
	if (strcmp(fstype, "cgroup2") == 0 && v2path && !h->v2)
		h->v2 = cg_dir_under(mountpoint, root, v2path);
	if (strcmp(fstype, "cgroup") != 0)
		return;
	for (int c = 0; c < CTL_COUNT; c++)
		if (v1path[c] && !h->v1[c] && word_in(super, ctl_name[c]))
			h->v1[c] = cg_dir_under(mountpoint, root, v1path[c]);
}

static void host_clear(struct cg_host *h)
{
	free(h->v2);
	for (int c = 0; c < CTL_COUNT; c++)
		free(h->v1[c]);
}

static int host_discover(struct cg_host *h)
{
	char *v2path = NULL, *v1path[CTL_COUNT] = { 0 };
	FILE *f = read_own_paths(&v2path, v1path) == 0 ? fopen("/proc/self/mountinfo", "re") : NULL;
	int r = f ? 0 : -1;
	if (f) {
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) > 0)
			match_mount(line, h, v2path, v1path);
		free(line);
		fclose(f);
	}
	free(v2path);
	for (int c = 0; c < CTL_COUNT; c++)
		free(v1path[c]);
	return r;
}

/* ---- choosing where each controller goes ---------------------------------- */

/* Controllers of `want` that a child of our unified cgroup can use. A missing
 * one is enabled in our own subtree_control when offered; the kernel refuses
 * that (EBUSY) while our cgroup has member processes, unless it is the root.
 * We never move processes to make room: other processes share our cgroup. */
static unsigned v2_usable(const char *dir, unsigned want, unsigned *decided,
			  struct cgroup_status *st)
{
	_cleanup_free_ char *avail = cg_read_all(dir, "cgroup.controllers");
	_cleanup_free_ char *enabled = cg_read_all(dir, "cgroup.subtree_control");
	unsigned usable = 0;
	if (!avail || !enabled)
		return 0;
	for (int c = 0; c < CTL_CPUACCT; c++) {
		if (!(want & CTL_BIT(c)))
			continue;
		if (word_in(enabled, ctl_name[c])) {
			usable |= CTL_BIT(c);
			continue;
		}
		if (!word_in(avail, ctl_name[c]))
			continue; /* bound to v1, or not delegated: decided later */
		if (cg_write(dir, "cgroup.subtree_control", "+%s", ctl_name[c]) == 0) {
			usable |= CTL_BIT(c);
			continue;
		}
		*decided |= CTL_BIT(c);
		if (errno == EBUSY)
			note_add(st, "%s: cannot enable in %s/cgroup.subtree_control (the cgroup has processes)",
				 ctl_name[c], dir);
		else if (no_access(errno))
			note_add(st, "%s: no write access to %s/cgroup.subtree_control (not delegated)",
				 ctl_name[c], dir);
		else
			note_add(st, "%s: enabling in %s: %s", ctl_name[c], dir, strerror(errno));
	}
	return usable;
}

struct cg_plan {
	const char *parent;
	bool v2;
	unsigned ctls;
};

static void plan_add(struct cg_plan *plan, size_t *n, const char *parent, bool v2, unsigned ctls)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(plan[i].parent, parent) == 0) { /* co-mounted, e.g. "cpu,cpuacct" */
			plan[i].ctls |= ctls;
			return;
		}
	}
	plan[(*n)++] = (struct cg_plan){ .parent = parent, .v2 = v2, .ctls = ctls };
}

/* One directory per hierarchy that enforces a limit, nothing more: every
 * mkdir and rmdir is on the path of every run, CPU time comes exactly from
 * the sandbox's init (it reaps every process), and killing the pid
 * namespace's init kills the whole tree without cgroup.kill. */
static size_t make_plan(const struct cg_host *h, unsigned want, unsigned v2ctls, unsigned *decided,
			struct cg_plan plan[CTL_COUNT + 1], struct cgroup_status *st)
{
	size_t n = 0;
	if (h->v2 && v2ctls)
		plan_add(plan, &n, h->v2, true, v2ctls);
	for (int c = 0; c < CTL_CPUACCT; c++) {
		unsigned bit = CTL_BIT(c);
		if (!(want & bit) || (v2ctls & bit) || (*decided & bit))
			continue;
		*decided |= bit;
		if (h->v1[c])
			plan_add(plan, &n, h->v1[c], false, bit);
		else if (h->v2)
			note_add(st, "%s: not delegated to %s (not in cgroup.controllers)", ctl_name[c], h->v2);
		else
			note_add(st, "%s: no such controller on this host", ctl_name[c]);
	}
	return n;
}

/* ---- leftovers of killed supervisors -------------------------------------- */

/* A supervisor killed with SIGKILL takes its sandbox with it (the init's
 * parent-death signal) but cannot rmdir its groups. The next supervisor
 * removes every empty airlock-<pid>-<n> whose <pid> no longer exists; rmdir
 * refuses a group that still holds a process, so a live one is never lost. */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		int pid;
		unsigned long n;
		char tail;
		if (sscanf(de->d_name, "airlock-%d-%lu%c", &pid, &n, &tail) != 2 || pid <= 0 ||
		    pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof path, "%s/%s", parent, de->d_name) < (int)sizeof path)
			rmdir(path);
	}
	closedir(d);
}

/* ---- creating and limiting ------------------------------------------------ */

/* The same name in every hierarchy, so the directories of one group are
 * easy to match up; only a leftover from an earlier process that had our
 * pid (EEXIST) makes us take the next number. */
static int make_group_dir(const char *parent, unsigned long *id, char **out)
{
	for (int tries = 0; tries < 16; tries++) {
		char *path;
		if (asprintf(&path, "%s/airlock-%d-%lu", parent, (int)getpid(), *id) < 0) {
			errno = ENOMEM;
			return -1;
		}
		if (mkdir(path, 0755) == 0) {
			*out = path;
			return 0;
		}
		int e = errno;
		free(path);
		errno = e;
		if (errno != EEXIST)
			return -1;
		*id = atomic_fetch_add(&cg_counter, 1);
	}
	return -1;
}

static int memory_v2(const char *dir, uint64_t bytes, struct cgroup_status *st, al_error *err)
{
	if (cg_write(dir, "memory.max", "%" PRIu64, bytes) < 0)
		return al_errno(err, "cgroup: setting memory.max in %s", dir);
	/* Without it a memory bomb is only pushed out to swap, not stopped. */
	if (cg_write(dir, "memory.swap.max", "0") == 0)
		return 0;
	if (errno != ENOENT)
		return al_errno(err, "cgroup: setting memory.swap.max in %s", dir);
	note_add(st, "memory: swap accounting off");
	return 0;
}

static int memory_v1(const char *dir, uint64_t bytes, struct cgroup_status *st, al_error *err)
{
	/* limit_in_bytes first: memsw may never be below it. */
	if (cg_write(dir, "memory.limit_in_bytes", "%" PRIu64, bytes) < 0)
		return al_errno(err, "cgroup: setting memory.limit_in_bytes in %s", dir);
	/* memsw = memory + swap; equal values leave no swap. */
	if (cg_write(dir, "memory.memsw.limit_in_bytes", "%" PRIu64, bytes) == 0)
		return 0;
	if (errno != ENOENT)
		return al_errno(err, "cgroup: setting memory.memsw.limit_in_bytes in %s", dir);
	note_add(st, "memory: swap accounting off");
	/* Without swap accounting this is what keeps the group out of swap. */
	if (cg_write(dir, "memory.swappiness", "0") < 0)
		return al_errno(err, "cgroup: setting memory.swappiness in %s", dir);
	return 0;
}

static uint64_t cpu_quota_us(uint64_t millis)
{
	uint64_t q = millis * (CPU_PERIOD_US / 1000);
	return q < CPU_MIN_QUOTA_US ? CPU_MIN_QUOTA_US : q;
}

/* v1 refuses (EINVAL) a quota above an ancestor's; an ancestor's quota binds
 * anyway, so ask for at most the tightest one up to the hierarchy's root. */
static uint64_t cpu_v1_cap(const char *dir, uint64_t quota)
{
	_cleanup_free_ char *up = strdup(dir);
	char *slash;
	while (up && (slash = strrchr(up, '/')) && slash != up) {
		*slash = '\0';
		uint64_t pq, pp;
		_cleanup_free_ char *q = cg_read_all(up, "cpu.cfs_quota_us");
		if (!q)
			break; /* above the hierarchy's root */
		if (q[0] == '-' || cg_read_u64(up, "cpu.cfs_period_us", &pp) < 0 || pp == 0)
			continue;
		pq = strtoull(q, NULL, 10);
		if (quota * pp > pq * CPU_PERIOD_US)
			quota = pq * CPU_PERIOD_US / pp;
	}
	return quota < CPU_MIN_QUOTA_US ? CPU_MIN_QUOTA_US : quota;
}

static int cpu_v2(const char *dir, uint64_t millis, al_error *err)
{
	if (cg_write(dir, "cpu.max", "%" PRIu64 " %u", cpu_quota_us(millis), CPU_PERIOD_US) < 0)
		return al_errno(err, "cgroup: setting cpu.max in %s", dir);
	return 0;
}

static int cpu_v1(const char *dir, uint64_t millis, al_error *err)
{
	/* A new group's period is the kernel's default, 100 ms: CPU_PERIOD_US. */
	_Static_assert(CPU_PERIOD_US == 100000u, "cpu.cfs_period_us is not written");
	uint64_t quota = cpu_quota_us(millis);
	if (cg_write(dir, "cpu.cfs_quota_us", "%" PRIu64, quota) == 0)
		return 0;
	if (errno == EINVAL && cg_write(dir, "cpu.cfs_quota_us", "%" PRIu64, cpu_v1_cap(dir, quota)) == 0)
		return 0;
	return al_errno(err, "cgroup: setting cpu.cfs_quota_us in %s", dir);
}

static int apply_limits(const struct cg_dir *d, const struct cgroup_limits *lim,
			struct cgroup_status *st, al_error *err)
{
	if (d->ctls & CTL_BIT(CTL_MEMORY)) {
		int r = d->v2 ? memory_v2(d->path, lim->memory_bytes, st, err)
			      : memory_v1(d->path, lim->memory_bytes, st, err);
		if (r < 0)
			return -1;
	}
	if ((d->ctls & CTL_BIT(CTL_PIDS)) && cg_write(d->path, "pids.max", "%" PRIu64, lim->pids) < 0)
		return al_errno(err, "cgroup: setting pids.max in %s", d->path);
	if (d->ctls & CTL_BIT(CTL_CPU)) {
		int r = d->v2 ? cpu_v2(d->path, lim->cpu_millis, err) : cpu_v1(d->path, lim->cpu_millis, err);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Make the planned directories. Returns -1 on a real error (the caller
 * removes what was made); a refusal for lack of permission only degrades. */
static int make_dirs(struct cgroup *cg, const struct cg_plan *plan, size_t n,
		     struct cgroup_status *st, al_error *err)
{
	unsigned long id = atomic_fetch_add(&cg_counter, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned limits = plan[i].ctls & CTL_LIMITS;
		char *path;
		if (make_group_dir(plan[i].parent, &id, &path) == 0) {
			cg->dir[cg->n++] = (struct cg_dir){ .path = path, .v2 = plan[i].v2,
							    .ctls = plan[i].ctls };
			continue;
		}
		if (!no_access(errno))
			return al_errno(err, "cgroup: creating a group in %s", plan[i].parent);
		for (int c = 0; c < CTL_CPUACCT; c++)
			if (limits & CTL_BIT(c))
				note_add(st, "%s: no write access to %s (not delegated)", ctl_name[c],
					 plan[i].parent);
	}
	return 0;
}

static void status_fill(const struct cgroup *cg, struct cgroup_status *st)
{
	bool v1 = false, v2 = false;
	for (size_t i = 0; i < cg->n; i++) {
		unsigned limits = cg->dir[i].ctls & CTL_LIMITS;
		st->memory |= !!(limits & CTL_BIT(CTL_MEMORY));
		st->pids |= !!(limits & CTL_BIT(CTL_PIDS));
		st->cpu |= !!(limits & CTL_BIT(CTL_CPU));
		if (limits && cg->dir[i].v2)
			v2 = true;
		else if (limits)
			v1 = true;
	}
	st->backend = v1 && v2 ? "v1+v2" : v2 ? "v2" : v1 ? "v1" : "none";
}

static void status_init(struct cgroup_status *st)
{
	*st = (struct cgroup_status){ .backend = "none" };
}

static void open_stats(struct cgroup *cg);

struct cgroup_plan {
	struct cgroup_limits lim;
	struct cg_host h;
	struct cg_plan dir[CTL_COUNT + 1];
	size_t n;
};

void cgroup_plan_free(struct cgroup_plan *p)
{
	if (!p)
		return;
	host_clear(&p->h);
	free(p);
}

int cgroup_plan(const struct cgroup_limits *lim, struct cgroup_plan **out, struct cgroup_status *st,
		al_error *err)
{
	unsigned want = (lim->memory_bytes ? CTL_BIT(CTL_MEMORY) : 0) |
			(lim->pids ? CTL_BIT(CTL_PIDS) : 0) |
			(lim->cpu_millis ? CTL_BIT(CTL_CPU) : 0);
	*out = NULL;
	status_init(st);
	if (!want)
		return 0;
	struct cgroup_plan *p = calloc(1, sizeof *p);
	if (!p)
		return al_err(err, ENOMEM, "cgroup: out of memory");
	p->lim = *lim;
	if (host_discover(&p->h) < 0) {
		note_add(st, "cannot read /proc/self/cgroup or /proc/self/mountinfo");
		cgroup_plan_free(p);
		return 0;
	}
	unsigned decided = 0;
	unsigned v2ctls = p->h.v2 ? v2_usable(p->h.v2, want, &decided, st) : 0;
	p->n = make_plan(&p->h, want, v2ctls, &decided, p->dir, st);
	if (p->n == 0) {
		cgroup_plan_free(p);
		return 0;
	}
	*out = p;
	return 0;
}

bool cgroup_plan_has_v2(const struct cgroup_plan *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (p->dir[i].v2)
			return true;
	return false;
}

int cgroup_make(struct cgroup_plan *p, struct cgroup **out, struct cgroup_status *st, al_error *err)
{
	*out = NULL;
	if (!p)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		sweep_stale(p->dir[i].parent);
	struct cgroup *cg = calloc(1, sizeof *cg);
	for (int i = 0; cg && i < STAT_COUNT; i++)
		cg->stat_fd[i] = -1;
	int r = cg ? make_dirs(cg, p->dir, p->n, st, err) : al_err(err, ENOMEM, "cgroup: out of memory");
	for (size_t i = 0; r == 0 && cg && i < cg->n; i++)
		r = apply_limits(&cg->dir[i], &p->lim, st, err);
	if (r < 0) {
		cgroup_destroy(cg);
		status_init(st);
		return -1;
	}
	status_fill(cg, st);
	if (cg->n == 0) {
		free(cg);
		return 0;
	}
	open_stats(cg);
	*out = cg;
	return 0;
}

int cgroup_create(const struct cgroup_limits *lim, struct cgroup **out, struct cgroup_status *st,
		  al_error *err)
{
	struct cgroup_plan *p;
	*out = NULL;
	if (cgroup_plan(lim, &p, st, err) < 0)
		return -1;
	int r = cgroup_make(p, out, st, err);
	cgroup_plan_free(p);
	return r;
}

int cgroup_join_prepare(const struct cgroup *cg, struct cgroup_join *j, al_error *err)
{
	*j = (struct cgroup_join){ .v2_dir_fd = -1 };
	for (size_t i = 0; cg && i < cg->n; i++) {
		const struct cg_dir *d = &cg->dir[i];
		if (d->v2) {
			j->v2_dir_fd = open(d->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (j->v2_dir_fd < 0)
				goto fail;
			continue;
		}
		char path[PATH_MAX];
		if (cg_file(path, sizeof path, d->path, "tasks") < 0 || j->n_tasks == CGROUP_MAX_JOIN)
			goto fail;
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		j->tasks_fd[j->n_tasks++] = fd;
	}
	return 0;
fail:
	al_errno(err, "cgroup: preparing to join %s", cg->dir[0].path);
	cgroup_join_close(j);
	return -1;
}

/* Every group airlock creates holds a limit (make_plan), so the process must
 * get into each one it is asked to join. */
static int attach_dirs(struct cgroup *cg, pid_t pid, bool v2_only, al_error *err)
{
	for (size_t i = 0; cg && i < cg->n; i++) {
		if (v2_only && !cg->dir[i].v2)
			continue;
		if (cg_write(cg->dir[i].path, "cgroup.procs", "%d", (int)pid) < 0)
			return al_errno(err, "cgroup: moving process %d into %s", (int)pid,
					cg->dir[i].path);
	}
	return 0;
}

int cgroup_attach_v2(struct cgroup *cg, pid_t pid, al_error *err)
{
	return attach_dirs(cg, pid, true, err);
}

int cgroup_join_self(struct cgroup_join *j, al_error *err)
{
	int r = 0;
	for (size_t i = 0; i < j->n_tasks && r == 0; i++)
		if (write(j->tasks_fd[i], "0", 1) != 1)
			r = al_errno(err, "cgroup: joining");
	cgroup_join_close(j);
	return r;
}

void cgroup_join_close(struct cgroup_join *j)
{
	if (j->v2_dir_fd >= 0)
		close(j->v2_dir_fd);
	for (size_t i = 0; i < j->n_tasks; i++)
		close(j->tasks_fd[i]);
	*j = (struct cgroup_join){ .v2_dir_fd = -1 };
}

const char *cgroup_path(const struct cgroup *cg, const char *controller)
{
	for (size_t i = 0; cg && i < cg->n; i++) {
		if (!controller && cg->dir[i].v2)
			return cg->dir[i].path;
		for (int c = 0; controller && c < CTL_COUNT; c++)
			if ((cg->dir[i].ctls & CTL_BIT(c)) && strcmp(controller, ctl_name[c]) == 0)
				return cg->dir[i].path;
	}
	return NULL;
}

int cgroup_attach(struct cgroup *cg, pid_t pid, al_error *err)
{
	return attach_dirs(cg, pid, false, err);
}

/* ---- statistics ----------------------------------------------------------- */

static const struct cg_dir *dir_with(const struct cgroup *cg, enum cg_ctl c)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dir[i].ctls & CTL_BIT(c))
			return &cg->dir[i];
	return NULL;
}

static const struct cg_dir *v2_dir(const struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dir[i].v2)
			return &cg->dir[i];
	return NULL;
}

static int open_first(const struct cg_dir *d, const char *a, const char *b)
{
	int fd = d ? cg_open(d->path, a, O_RDONLY) : -1;
	return fd >= 0 || !d || !b ? fd : cg_open(d->path, b, O_RDONLY);
}

static void open_stats(struct cgroup *cg)
{
	const struct cg_dir *mem = dir_with(cg, CTL_MEMORY), *pids = dir_with(cg, CTL_PIDS);
	bool v2mem = mem && mem->v2;
	cg->stat_fd[STAT_MEM_PEAK] = v2mem ? open_first(mem, "memory.peak", "memory.current")
					   : open_first(mem, "memory.max_usage_in_bytes", NULL);
	cg->stat_fd[STAT_MEM_EVENTS] = open_first(mem, v2mem ? "memory.events" : "memory.oom_control", NULL);
	cg->stat_fd[STAT_PIDS_PEAK] = open_first(pids, "pids.peak", NULL);
	cg->stat_fd[STAT_PIDS_EVENTS] = open_first(pids, "pids.events", NULL);
	/* cpu.stat is a core file on v2: present with or without the controller;
	 * else cpuacct.usage (v1, nanoseconds). */
	cg->stat_fd[STAT_CPU] = open_first(v2_dir(cg), "cpu.stat", NULL);
	cg->cpu_v1 = cg->stat_fd[STAT_CPU] < 0;
	if (cg->cpu_v1)
		cg->stat_fd[STAT_CPU] = open_first(dir_with(cg, CTL_CPUACCT), "cpuacct.usage", NULL);
}

static int stat_u64(const struct cgroup *cg, enum cg_stat which, uint64_t *out)
{
	_cleanup_free_ char *s = cg_read_fd(cg->stat_fd[which]);
	return parse_u64(s, out);
}

static int stat_key(const struct cgroup *cg, enum cg_stat which, const char *key, uint64_t *out)
{
	_cleanup_free_ char *s = cg_read_fd(cg->stat_fd[which]);
	return parse_key(s, key, out);
}

int cgroup_read_stats(struct cgroup *cg, struct cgroup_stats *s)
{
	*s = (struct cgroup_stats){ 0 };
	if (!cg)
		return 0;
	uint64_t kills = 0, max = 0, ns;
	stat_u64(cg, STAT_MEM_PEAK, &s->peak_memory);
	stat_key(cg, STAT_MEM_EVENTS, "oom_kill", &kills);
	s->oom_kills = kills;
	s->oom_killed = kills > 0;
	stat_u64(cg, STAT_PIDS_PEAK, &s->peak_pids);
	stat_key(cg, STAT_PIDS_EVENTS, "max", &max);
	s->pids_max_events = max;
	s->pids_limit_hit = max > 0;
	if (!cg->cpu_v1)
		stat_key(cg, STAT_CPU, "usage_usec", &s->cpu_usage_us);
	else if (stat_u64(cg, STAT_CPU, &ns) == 0)
		s->cpu_usage_us = ns / 1000;
	return 0;
}

/* ---- killing and removing ------------------------------------------------- */

static pid_t *read_procs(const char *dir, size_t *n)
{
	_cleanup_free_ char *s = cg_read_all(dir, "cgroup.procs");
	pid_t *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (char *p = s, *end; p && *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid <= 0 || pid == getpid())
			continue; /* never ourselves, even if a caller moved us in */
		if (*n == cap) {
			pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		v[(*n)++] = (pid_t)pid;
	}
	return v;
}

static bool pid_listed(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* SIGKILL what cgroup.procs lists. A listed pid may exit and be reused by an
 * unrelated process before we signal it, so each one is pinned with a pidfd
 * first and only signalled if still listed afterwards: a pidfd whose
 * process died cannot reach the pid's next owner. Returns how many were found. */
static size_t kill_listed(const char *dir)
{
	size_t n, m;
	pid_t *v = read_procs(dir, &n);
	if (!n) {
		free(v);
		return 0;
	}
	int *fd = malloc(n * sizeof *fd);
	for (size_t i = 0; fd && i < n; i++) {
		fd[i] = (int)syscall(SYS_pidfd_open, v[i], 0);
		if (fd[i] < 0 && errno == ENOSYS)
			fd[i] = -2;
	}
	pid_t *again = read_procs(dir, &m);
	for (size_t i = 0; i < n; i++) {
		if (!fd || fd[i] == -2) {
			kill(v[i], SIGKILL); /* no pidfds (Linux < 5.3) or no memory */
		} else if (fd[i] >= 0) {
			if (pid_listed(again, m, v[i]))
				syscall(SYS_pidfd_send_signal, fd[i], SIGKILL, NULL, 0);
			close(fd[i]);
		}
	}
	free(fd);
	free(again);
	free(v);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static size_t kill_round(struct cgroup *cg)
{
	size_t found = 0;
	for (size_t i = 0; i < cg->n; i++)
		found += kill_listed(cg->dir[i].path);
	return found;
}

void cgroup_kill(struct cgroup *cg)
{
	if (!cg)
		return;
	/* cgroup.kill (v2, Linux >= 5.14) kills the whole tree at once, so a
	 * fork bomb cannot outrun it; the loop below covers older kernels and v1. */
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dir[i].v2 && cg_has(cg->dir[i].path, "cgroup.kill"))
			cg_write(cg->dir[i].path, "cgroup.kill", "1"); /* else the loop does it */
	for (int round = 0; round < 50 && kill_round(cg) > 0; round++)
		sleep_ms(1);
}

/* Killed processes leave cgroup.procs when they exit (zombies are not listed). */
static void wait_empty(struct cgroup *cg)
{
	for (int waited = 0; waited < 2000 && kill_round(cg) > 0; waited += 5)
		sleep_ms(5);
}

static void remove_dir(const char *path)
{
	/* The group can stay busy briefly after its last task exited. */
	for (int tries = 0; tries < 50; tries++) {
		if (rmdir(path) == 0 || errno != EBUSY)
			return;
		sleep_ms(10);
	}
}

static bool remove_all(struct cgroup *cg)
{
	bool gone = true;
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dir[i].path && rmdir(cg->dir[i].path) < 0 && errno == EBUSY)
			gone = false;
	return gone;
}

void cgroup_destroy(struct cgroup *cg)
{
	if (!cg)
		return;
	for (int i = 0; i < STAT_COUNT; i++)
		if (cg->stat_fd[i] >= 0)
			close(cg->stat_fd[i]);
	/* The usual end: init is reaped and the groups are empty, so rmdir
	 * succeeds at once. A group still busy holds processes that escaped
	 * the pid namespace's end (or are still exiting): kill, wait, retry. */
	if (!remove_all(cg)) {
		cgroup_kill(cg);
		wait_empty(cg);
		for (size_t i = 0; i < cg->n; i++)
			remove_dir(cg->dir[i].path);
	}
	for (size_t i = 0; i < cg->n; i++)
		free(cg->dir[i].path);
	free(cg);
}

void cgroup_probe(struct cgroup_status *st)
{
	/* Generous values: the probe only proves that we may create and limit. */
	const struct cgroup_limits lim = { .memory_bytes = 1ull << 30, .pids = 1024, .cpu_millis = 1000 };
	struct cgroup *cg = NULL;
	al_error err;
	al_error_clear(&err);
	if (cgroup_create(&lim, &cg, st, &err) < 0)
		snprintf(st->note, sizeof st->note, "%s", err.msg);
	cgroup_destroy(cg);
}
