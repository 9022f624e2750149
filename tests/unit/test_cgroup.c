/* The cgroup and rlimit layers against the real kernel.
 *
 * Where the controllers can be used (root, or a delegated cgroup) a group is
 * created beneath the test's own cgroup and each limit is shown to hold: a
 * fork bomb stops at pids.max, a memory bomb is OOM-killed, a spinning
 * process gets its CPU quota, and nothing is left behind. Unprivileged (run
 * as nobody, and as root in a child that drops to nobody) cgroup_create must
 * degrade: return 0, report nothing enforced with a reason, create nothing.
 * Leftovers are looked for by walking every cgroup mount for a directory
 * named airlock-<pid>-*, independently of the library's own path logic.
 */
#include "check.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <mntent.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define MiB (1024ull * 1024)
#define NOBODY 65534

static const struct cgroup_limits test_limits = {
	.memory_bytes = 64 * MiB, .pids = 8, .cpu_millis = 500,
};

/* ---- helpers ------------------------------------------------------------ */

/* Contents of dir/file without the trailing newline, "" when unreadable. */
static const char *read_back(const char *dir, const char *file, char *buf, size_t len)
{
	char path[4096];
	buf[0] = '\0';
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static bool has_file(const char *dir, const char *file)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static char leftover_prefix[64];
static bool leftover_found;

static int leftover_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (type == FTW_D && strncmp(path + ftw->base, leftover_prefix, strlen(leftover_prefix)) == 0) {
		printf("# leftover: %s\n", path);
		leftover_found = true;
		return 1;
	}
	return 0;
}

/* Is there a directory airlock-<pid>-* under any cgroup mount? */
static bool leftovers(pid_t pid)
{
	snprintf(leftover_prefix, sizeof leftover_prefix, "airlock-%d-", (int)pid);
	leftover_found = false;
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	while (f && (m = getmntent(f)))
		if (strcmp(m->mnt_type, "cgroup") == 0 || strcmp(m->mnt_type, "cgroup2") == 0)
			nftw(m->mnt_dir, leftover_visit, 16, FTW_PHYS | FTW_MOUNT);
	if (f)
		endmntent(f);
	return leftover_found;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reap children (and, as subreaper, orphaned grandchildren) for up to 5 s. */
static int reap_all(void)
{
	int n = 0;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 5000000000ull;
	while (now_ns(CLOCK_MONOTONIC) < end) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid > 0)
			n++;
		else if (pid < 0 && errno == ECHILD)
			break;
		else
			usleep(1000);
	}
	return n;
}

/* Fork a child that runs fn only once the parent has moved it into cg. */
static pid_t spawn_in(struct cgroup *cg, int (*fn)(void))
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? fn() : 99);
	}
	close(p[0]);
	al_error err;
	al_error_clear(&err);
	int rc = pid > 0 ? cgroup_attach(cg, pid, &err) : -1;
	CHECK(rc == 0, "cgroup_attach(%d): %s", (int)pid, rc ? err.msg : "ok");
	if (rc == 0 && write(p[1], "g", 1) != 1)
		rc = -1;
	close(p[1]); /* without the go byte the child exits 99 */
	return pid;
}

static int wait_status(pid_t pid)
{
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	return status;
}

/* ---- children ----------------------------------------------------------- */

static int fork_until_refused(void)
{
	for (int n = 0; n < 64; n++) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0)
			return errno == EAGAIN ? n : 100;
	}
	return 101; /* the limit did not hold */
}

static int spin_600ms(void)
{
	uint64_t wall = now_ns(CLOCK_MONOTONIC), cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (now_ns(CLOCK_MONOTONIC) - wall < 600000000ull)
		;
	wall = now_ns(CLOCK_MONOTONIC) - wall;
	cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	return (int)(cpu * 100 / wall); /* percent of one CPU */
}

static int touch_200m(void)
{
	size_t len = 200 * MiB;
	volatile char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len; i += 4096)
		m[i] = 1;
	return 0; /* survived: the limit did not hold */
}

/* ---- enforced limits ---------------------------------------------------- */

static void check_limit_files(struct cgroup *cg, const struct cgroup_status *st)
{
	char buf[256];
	const char *d = cgroup_path(cg, "memory");
	if (st->memory && d && has_file(d, "memory.limit_in_bytes")) {
		CHECK(strcmp(read_back(d, "memory.limit_in_bytes", buf, sizeof buf), "67108864") == 0,
		      "v1 memory.limit_in_bytes = %s", buf);
		/* memsw equal to the limit leaves no swap; without swap
		 * accounting, swappiness 0 keeps the group out of it */
		if (has_file(d, "memory.memsw.limit_in_bytes"))
			CHECK(strcmp(read_back(d, "memory.memsw.limit_in_bytes", buf, sizeof buf), "67108864") == 0,
			      "v1 memory.memsw.limit_in_bytes = %s (no swap)", buf);
		else
			CHECK(strcmp(read_back(d, "memory.swappiness", buf, sizeof buf), "0") == 0,
			      "v1 memory.swappiness = %s", buf);
	} else if (st->memory && d) {
		CHECK(strcmp(read_back(d, "memory.max", buf, sizeof buf), "67108864") == 0,
		      "v2 memory.max = %s", buf);
		if (has_file(d, "memory.swap.max"))
			CHECK(strcmp(read_back(d, "memory.swap.max", buf, sizeof buf), "0") == 0,
			      "v2 memory.swap.max = %s", buf);
	}
	d = cgroup_path(cg, "pids");
	if (st->pids)
		CHECK(d && strcmp(read_back(d, "pids.max", buf, sizeof buf), "8") == 0, "pids.max = %s", buf);
	d = cgroup_path(cg, "cpu");
	if (st->cpu && d && has_file(d, "cpu.cfs_quota_us")) {
		CHECK(strcmp(read_back(d, "cpu.cfs_quota_us", buf, sizeof buf), "50000") == 0,
		      "v1 cpu.cfs_quota_us = %s", buf);
		CHECK(strcmp(read_back(d, "cpu.cfs_period_us", buf, sizeof buf), "100000") == 0,
		      "v1 cpu.cfs_period_us = %s", buf);
	} else if (st->cpu) {
		CHECK(d && strcmp(read_back(d, "cpu.max", buf, sizeof buf), "50000 100000") == 0,
		      "v2 cpu.max = %s", buf);
	}
}

static void check_fork_bomb(struct cgroup *cg)
{
	struct cgroup_stats s;
	char buf[256];
	int status = wait_status(spawn_in(cg, fork_until_refused));
	/* pids.max 8 = the child itself + 7 forks */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "fork bomb refused after 7 forks (got %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	cgroup_read_stats(cg, &s);
	CHECK(s.pids_limit_hit, "pids_limit_hit reported");
	CHECK(s.peak_pids == 0 || s.peak_pids == 8, "peak_pids = %llu", (unsigned long long)s.peak_pids);
	cgroup_kill(cg);
	CHECK(reap_all() == 7, "cgroup_kill killed the 7 forked processes");
	CHECK(strcmp(read_back(cgroup_path(cg, "pids"), "cgroup.procs", buf, sizeof buf), "") == 0,
	      "group empty after cgroup_kill");
}

static void check_cpu_quota(struct cgroup *cg)
{
	struct cgroup_stats s;
	int status = wait_status(spawn_in(cg, spin_600ms));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) < 80,
	      "a spinning process got %d%% of a CPU under a 500m quota", WEXITSTATUS(status));
	cgroup_read_stats(cg, &s);
	/* Only a v2 group (cpu.stat) or a cpuacct co-mounted with cpu counts
	 * CPU; the runtime takes CPU time from the sandbox's init instead. */
	if (cgroup_path(cg, NULL) || cgroup_path(cg, "cpuacct"))
		CHECK(s.cpu_usage_us > 100000, "cpu_usage_us = %llu", (unsigned long long)s.cpu_usage_us);
	else
		CHECK(s.cpu_usage_us == 0, "no accounting group on this host: cpu_usage_us unknown (0)");
}

static void check_memory_bomb(struct cgroup *cg)
{
	struct cgroup_stats s;
	int status = wait_status(spawn_in(cg, touch_200m));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "touching 200M under a 64M limit is SIGKILLed (status %#x)", status);
	cgroup_read_stats(cg, &s);
	CHECK(s.oom_killed, "oom_killed reported");
	CHECK(s.peak_memory >= 32 * MiB && s.peak_memory <= 80 * MiB, "peak_memory = %llu",
	      (unsigned long long)s.peak_memory);
}

static void check_enforced(struct cgroup *cg, const struct cgroup_status *st)
{
	const char *names[] = { "memory", "pids", "cpu", "cpuacct", NULL };
	char *paths[5];
	for (int i = 0; i < 5; i++) {
		const char *p = cgroup_path(cg, names[i]);
		paths[i] = p ? strdup(p) : NULL;
		if (p)
			printf("# %s: %s\n", names[i] ? names[i] : "v2", p);
	}
	check_limit_files(cg, st);
	if (st->pids)
		check_fork_bomb(cg);
	if (st->cpu)
		check_cpu_quota(cg);
	if (st->memory)
		check_memory_bomb(cg);
	cgroup_destroy(cg);
	for (int i = 0; i < 5; i++) {
		if (paths[i])
			CHECK(access(paths[i], F_OK) < 0 && errno == ENOENT, "removed %s", paths[i]);
		free(paths[i]);
	}
	CHECK(!leftovers(getpid()), "no airlock-%d-* directory left", (int)getpid());
}

/* Only what was asked for: a limit of 0 creates no group for it. */
static void check_partial_limits(void)
{
	struct cgroup_limits lim = { .pids = 16 };
	struct cgroup_status st;
	struct cgroup *cg = NULL;
	al_error err;
	al_error_clear(&err);
	int rc = cgroup_create(&lim, &cg, &st, &err);
	CHECK(rc == 0 && st.pids && !st.memory && !st.cpu, "pids only: pids %d memory %d cpu %d",
	      st.pids, st.memory, st.cpu);
	CHECK(cgroup_path(cg, "memory") == NULL && cgroup_path(cg, "pids") != NULL,
	      "pids only: no memory group made");
	cgroup_destroy(cg);

	lim = (struct cgroup_limits){ 0 };
	rc = cgroup_create(&lim, &cg, &st, &err);
	CHECK(rc == 0 && cg == NULL && strcmp(st.backend, "none") == 0, "no limits: no group");
}

/* A limit the kernel refuses is an error, and nothing is left behind. */
static void check_fail_closed(void)
{
	struct cgroup_limits lim = { .memory_bytes = 64 * MiB, .pids = 1ull << 40 };
	struct cgroup_status st;
	struct cgroup *cg = NULL;
	al_error err;
	al_error_clear(&err);
	int rc = cgroup_create(&lim, &cg, &st, &err);
	CHECK(rc < 0 && cg == NULL && strstr(err.msg, "pids.max"), "refused pids.max fails: %s", err.msg);
	CHECK(!leftovers(getpid()), "nothing left after the failure");
}

/* ---- degraded (unprivileged) -------------------------------------------- */

struct degraded {
	int rc;
	bool got_group, memory, pids, cpu;
	char backend[16];
	char note[256];
	bool probe_none;
};

static void check_degraded(const struct degraded *d, const char *who)
{
	CHECK(d->rc == 0, "%s: cgroup_create returns 0", who);
	CHECK(!d->got_group && !d->memory && !d->pids && !d->cpu && strcmp(d->backend, "none") == 0,
	      "%s: nothing enforced (backend %s)", who, d->backend);
	CHECK(d->note[0] != '\0', "%s: note says why: %s", who, d->note);
	CHECK(d->probe_none, "%s: cgroup_probe reports nothing", who);
}

static void create_degraded(struct degraded *d)
{
	struct cgroup_status st, probe;
	struct cgroup *cg = NULL;
	al_error err;
	al_error_clear(&err);
	d->rc = cgroup_create(&test_limits, &cg, &st, &err);
	d->got_group = cg != NULL;
	d->memory = st.memory;
	d->pids = st.pids;
	d->cpu = st.cpu;
	snprintf(d->backend, sizeof d->backend, "%s", st.backend);
	snprintf(d->note, sizeof d->note, "%s", d->rc ? err.msg : st.note);
	cgroup_destroy(cg);
	cgroup_probe(&probe);
	d->probe_none = !probe.memory && !probe.pids && !probe.cpu;
}

/* As root: the same call from a child that became nobody. */
static void check_as_nobody(void)
{
	struct degraded d = { .rc = -100 };
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
		    setresuid(NOBODY, NOBODY, NOBODY) == 0)
			create_degraded(&d);
		_exit(write(p[1], &d, sizeof d) == sizeof d ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &d, sizeof d) != sizeof d)
		d.rc = -101;
	close(p[0]);
	wait_status(pid);
	check_degraded(&d, "as nobody");
	CHECK(!leftovers(pid), "as nobody: nothing created");
}

/* ---- rlimits ------------------------------------------------------------ */

struct rl_result {
	int rc;
	char msg[200];
	struct rlimit nofile, fsize, core, nproc, as, msgq, nproc_before, as_before;
	ssize_t w1, w2;
	int werr;
};

static void rl_measure(const struct al_policy *p, const struct cgroup_status *cg,
		       rlim_t nofile_hard, struct rl_result *r)
{
	char tmpl[] = "/tmp/airlock-rlimit-XXXXXX";
	int fd = mkstemp(tmpl);
	unlink(tmpl);
	if (nofile_hard) {
		struct rlimit l = { nofile_hard, nofile_hard };
		setrlimit(RLIMIT_NOFILE, &l);
	}
	getrlimit(RLIMIT_NPROC, &r->nproc_before);
	getrlimit(RLIMIT_AS, &r->as_before);
	al_error err;
	al_error_clear(&err);
	r->rc = rlimits_apply(p, cg, &err);
	snprintf(r->msg, sizeof r->msg, "%s", err.msg);
	getrlimit(RLIMIT_NOFILE, &r->nofile);
	getrlimit(RLIMIT_FSIZE, &r->fsize);
	getrlimit(RLIMIT_CORE, &r->core);
	getrlimit(RLIMIT_NPROC, &r->nproc);
	getrlimit(RLIMIT_AS, &r->as);
	getrlimit(RLIMIT_MSGQUEUE, &r->msgq);
	static char block[8192];
	signal(SIGXFSZ, SIG_IGN);
	r->w1 = write(fd, block, sizeof block);
	r->w2 = write(fd, block, sizeof block);
	r->werr = errno;
}

/* rlimits_apply changes the calling process: measure it in a child. */
static void rl_run(const struct al_policy *p, const struct cgroup_status *cg, rlim_t nofile_hard,
		   struct rl_result *r)
{
	int pfd[2];
	*r = (struct rl_result){ .rc = -100 };
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		rl_measure(p, cg, nofile_hard, r);
		_exit(write(pfd[1], r, sizeof *r) == sizeof *r ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], r, sizeof *r) != sizeof *r)
		r->rc = -101;
	close(pfd[0]);
	wait_status(pid);
}

static bool both(const struct rlimit *l, rlim_t v)
{
	return l->rlim_cur == v && l->rlim_max == v;
}

static void check_rlimits(void)
{
	struct al_policy p = { .open_files = 16, .file_size = 4096, .pids = 50,
			       .memory_bytes = 1ull << 30 };
	struct cgroup_status none = { .backend = "none" };
	struct cgroup_status all = { .backend = "v2", .memory = true, .pids = true, .cpu = true };
	struct rl_result r;

	rl_run(&p, &none, 0, &r);
	CHECK(r.rc == 0, "rlimits_apply: %s", r.rc ? r.msg : "ok");
	CHECK(both(&r.nofile, 16), "RLIMIT_NOFILE = %llu/%llu", (unsigned long long)r.nofile.rlim_cur,
	      (unsigned long long)r.nofile.rlim_max);
	CHECK(both(&r.fsize, 4096), "RLIMIT_FSIZE = 4096");
	CHECK(both(&r.core, 1), "RLIMIT_CORE = 1 byte (no dump, not even to a core_pattern pipe)");
	CHECK(both(&r.msgq, 64 * 1024), "RLIMIT_MSGQUEUE = 64 KiB");
	CHECK(r.w1 == 4096 && r.w2 == -1 && r.werr == EFBIG,
	      "writing past RLIMIT_FSIZE: %zd bytes, then %s", r.w1, strerror(r.werr));
	CHECK(both(&r.nproc, 51), "no pids controller: RLIMIT_NPROC = pids + 1");
	CHECK(both(&r.as, 1ull << 30), "no memory controller: RLIMIT_AS = memory");

	rl_run(&p, &all, 10, &r);
	CHECK(r.rc == 0, "rlimits_apply under a lower hard limit: %s", r.rc ? r.msg : "ok");
	CHECK(both(&r.nofile, 10), "RLIMIT_NOFILE hard limit 10 is not raised to 16");
	CHECK(r.nproc.rlim_max == r.nproc_before.rlim_max, "pids controller: RLIMIT_NPROC untouched");
	CHECK(r.as.rlim_max == r.as_before.rlim_max, "memory controller: RLIMIT_AS untouched");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Processes a fork bomb leaves behind come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	printf("# running as uid %d\n", (int)geteuid());

	check_rlimits();

	struct cgroup_status st;
	struct cgroup *cg = NULL;
	al_error err;
	al_error_clear(&err);
	int rc = cgroup_create(&test_limits, &cg, &st, &err);
	printf("# backend %s, memory %d pids %d cpu %d; note: %s\n", st.backend, st.memory, st.pids,
	       st.cpu, rc ? err.msg : st.note);
	if (rc == 0 && (st.memory || st.pids || st.cpu)) {
		struct cgroup_status probe;
		check_enforced(cg, &st);
		check_partial_limits();
		if (st.pids)
			check_fail_closed();
		cgroup_probe(&probe);
		CHECK(strcmp(probe.backend, st.backend) == 0 && probe.memory == st.memory &&
		      probe.pids == st.pids && probe.cpu == st.cpu,
		      "cgroup_probe agrees: backend %s", probe.backend);
	} else {
		struct degraded d;
		cgroup_destroy(cg);
		create_degraded(&d);
		check_degraded(&d, "unprivileged");
	}
	if (geteuid() == 0)
		check_as_nobody();
	CHECK(!leftovers(getpid()), "nothing of ours left in any cgroup hierarchy");
	reap_all();
	return check_done();
}
