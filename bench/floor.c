/* bench/floor: the kernel work that the layers airlock must apply cost on
 * this host, done by a straight-line program with nothing else: no policy,
 * no report, no checks of what the kernel did, no error context. It is the
 * lower bound of any sandbox with these layers here, and bench/startup runs
 * it beside airlock and bubblewrap so that a target below it shows as such.
 *
 *   build/bench/floor [--layers] [--without LAYER]... [CMD [ARG]...]
 *   build/bench/floor --costs N
 *
 * Runs CMD (default /bin/true) as airlock run does, with every layer on:
 *   ns       user (65534 inside, an unprivileged id outside), mount, pid,
 *            ipc, uts namespaces; tmpfs root with /usr and /etc bound
 *            read-only, the merged-/usr links; /proc; pivot_root and the old
 *            root detached; the root read-only; a PID 1 that spawns CMD and
 *            waits for it (always on: the rest builds on it)
 *   fs       secrets in /etc and /proc masked, /workspace and /tmp tmpfs,
 *            a /dev tmpfs with five nodes, devpts, /dev/shm and the links
 *   net      a network namespace with loopback up, made beside the build
 *   cgroup   memory (swap 0), pids and CPU limits in a new cgroup below
 *            this process's own (v1 hierarchies or v2), and a cgroup
 *            namespace; removed at the end
 *   landlock a ruleset for the ABI the kernel has: reads of the tree,
 *            writes to /workspace, /tmp and /dev, TCP and scopes denied
 *   caps     bounding set emptied, securebits locked, no capabilities
 *   seccomp  the filter airlock loads by default (x86_64 and i386)
 * --without LAYER leaves one out; --layers prints the layers it applies
 * and exits; --costs N runs itself N times with every layer and N times
 * without each one, interleaved run by run (a shared VM drifts within
 * seconds), and prints what each layer costs: the difference of medians. A layer this host cannot provide (no
 * cgroup this user may create, no Landlock) is left out and named by
 * --layers: the figure is never presented as more than it is.
 *
 * Exit status: CMD's, 125 when a step failed (the step is named).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp_default.h"
#include "timing.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
/* Landlock's uapi as of ABI 6; Debian 12's headers stop at ABI 2. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));
#define LL_RULE_PATH_BENEATH 1
#define LL_CREATE_VERSION 1U
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_READ (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)

enum layer { L_FS, L_NET, L_CGROUP, L_LANDLOCK, L_CAPS, L_SECCOMP, L_COUNT };
static const char *const layer_name[L_COUNT] = { "fs", "net", "cgroup", "landlock", "caps", "seccomp" };
static bool on[L_COUNT] = { true, true, true, true, true, true };

enum cg_kind { CG_NONE, CG_V1, CG_V2 };
static enum cg_kind cg_kind;
static char cg_dir[3][512];	/* v1: memory, pids, cpu; v2: [0] only */
static int cg_fd = -1;		/* v2: the new group, for CLONE_INTO_CGROUP */
static int landlock_abi;

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "floor: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
	va_end(ap);
	_exit(125);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* ---- cgroups: planned and made by the parent ---------------------------- */

/* This process's group in the v1 hierarchy that holds CONTROLLER ("" when
 * there is none), or in v2 (CONTROLLER NULL). */
static bool own_group(const char *controller, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024];
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof line, f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		ctl++;
		if (controller == NULL) {
			found = *ctl == '\0';
		} else {
			for (char *tok = strtok(ctl, ","); tok && !found; tok = strtok(NULL, ","))
				found = strcmp(tok, controller) == 0;
		}
		if (found)
			snprintf(out, size, "%s", strcmp(path, "/") == 0 ? "" : path);
	}
	fclose(f);
	return found;
}

static void cgroup_remove(void)
{
	for (int i = 0; i < 3; i++)
		if (cg_dir[i][0])
			rmdir(cg_dir[i]);
}

static bool cgroup_v2(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* The groups and their limits; on any refusal nothing is left behind and
 * the run goes on without the layer (--layers says so). v2 groups are made
 * before the clone (CLONE_INTO_CGROUP), v1 groups while the sandbox builds
 * its root, as airlock does. */
static void cgroup_make(void)
{
	char own[512], path[600];
	if (cgroup_v2()) {
		if (!own_group(NULL, own, sizeof own))
			return;
		snprintf(cg_dir[0], sizeof cg_dir[0], "/sys/fs/cgroup%s/floor-%d", own, (int)getpid());
		if (mkdir(cg_dir[0], 0755) != 0) {
			cg_dir[0][0] = '\0';
			return;
		}
		static const char *const v2[][2] = { { "memory.max", "536870912" }, { "memory.swap.max", "0" },
						     { "pids.max", "128" }, { "cpu.max", "100000 100000" } };
		for (size_t i = 0; i < sizeof v2 / sizeof *v2; i++) {
			snprintf(path, sizeof path, "%s/%s", cg_dir[0], v2[i][0]);
			if (write_file(path, v2[i][1]) != 0)
				goto undo;
		}
		cg_fd = open(cg_dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg_fd < 0)
			goto undo;
		cg_kind = CG_V2;
		return;
	}
	static const char *const ctl[3] = { "memory", "pids", "cpu" };
	for (int i = 0; i < 3; i++) {
		if (!own_group(ctl[i], own, sizeof own))
			goto undo;
		snprintf(cg_dir[i], sizeof cg_dir[i], "/sys/fs/cgroup/%s%s/floor-%d", ctl[i], own, (int)getpid());
		if (mkdir(cg_dir[i], 0755) != 0) {
			cg_dir[i][0] = '\0';
			goto undo;
		}
	}
	static const char *const v1[][3] = { { "0", "memory.limit_in_bytes", "536870912" },
					     { "0", "memory.memsw.limit_in_bytes", "536870912" },
					     { "1", "pids.max", "128" },
					     { "2", "cpu.cfs_quota_us", "100000" } };
	for (size_t i = 0; i < sizeof v1 / sizeof *v1; i++) {
		snprintf(path, sizeof path, "%s/%s", cg_dir[v1[i][0][0] - '0'], v1[i][1]);
		/* memsw exists only with swap accounting: swap is then off anyway */
		if (write_file(path, v1[i][2]) != 0 && !(errno == ENOENT && i == 1))
			goto undo;
	}
	cg_kind = CG_V1;
	return;
undo:
	cgroup_remove();
	memset(cg_dir, 0, sizeof cg_dir);
}

static int cgroup_join_v1(pid_t pid)
{
	char path[600], text[24];
	snprintf(text, sizeof text, "%d", (int)pid);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/tasks", cg_dir[i]);
		if (write_file(path, text) != 0)
			return -1;
	}
	return 0;
}

/* ---- the sandbox's PID 1 ------------------------------------------------ */

static int net_fd = -1;
static char net_stack[16384] __attribute__((aligned(16)));

/* Beside the build, in the same user namespace: a network namespace with
 * loopback up; its fd lands in the shared fd table. */
static int net_helper(void *arg)
{
	(void)arg;
	struct ifreq ifr = { .ifr_name = "lo" };
	if (unshare(CLONE_NEWNET) != 0)
		return 1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return 1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		return 1;
	close(s);
	net_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return net_fd < 0;
}

static void bind_ro(const char *src, const char *dst)
{
	if (mkdir(dst, 0755) != 0 || mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0 ||
	    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
		fail("binding %s", src);
}

static void mask(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && mount("/dev/null", path, NULL, MS_BIND, NULL) != 0)
		fail("masking %s", path);
}

static void tmpfs(const char *dst, unsigned long flags, const char *opts)
{
	if (mkdir(dst, 0755) != 0 || mount("tmpfs", dst, "tmpfs", flags, opts) != 0)
		fail("tmpfs %s", dst);
}

static void build_dev(void)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
	char src[32], dst[48];
	tmpfs("/tmp/dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k");
	for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
		snprintf(src, sizeof src, "/dev/%s", nodes[i]);
		snprintf(dst, sizeof dst, "/tmp/dev/%s", nodes[i]);
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
		if (fd < 0 || close(fd) != 0 || mount(src, dst, NULL, MS_BIND, NULL) != 0)
			fail("binding %s", src);
	}
	if (mkdir("/tmp/dev/pts", 0755) != 0 ||
	    mount("devpts", "/tmp/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
		fail("devpts");
	tmpfs("/tmp/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m");
	static const char *const links[][2] = { { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" },
						{ "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
						{ "/proc/self/fd/2", "stderr" } };
	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		snprintf(dst, sizeof dst, "/tmp/dev/%s", links[i][1]);
		if (symlink(links[i][0], dst) != 0)
			fail("linking %s", dst);
	}
	if (mount(NULL, "/tmp/dev", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) != 0)
		fail("/dev read-only");
}

/* Staged under /tmp in the private mount namespace, then pivoted into. */
static void build_root(void)
{
	static const char *const merged[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
	char path[64], target[64];
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
		fail("root tmpfs");
	bind_ro("/usr", "/tmp/usr");
	for (size_t i = 0; i < sizeof merged / sizeof *merged; i++) {
		snprintf(path, sizeof path, "/%s", merged[i]);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n <= 0)
			continue; /* absent, or a directory: not on a merged-/usr host */
		target[n] = '\0';
		snprintf(path, sizeof path, "/tmp/%s", merged[i]);
		if (symlink(target, path) != 0)
			fail("linking %s", path);
	}
	bind_ro("/etc", "/tmp/etc");
	if (on[L_FS]) {
		static const char *const secrets[] = { "shadow", "shadow-", "gshadow", "gshadow-", "security/opasswd",
						       "machine-id" };
		for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
			snprintf(path, sizeof path, "/tmp/etc/%s", secrets[i]);
			mask(path);
		}
		tmpfs("/tmp/workspace", MS_NOSUID | MS_NODEV, "mode=0755,size=256m");
		tmpfs("/tmp/tmp", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m");
		build_dev();
	}
	if (mkdir("/tmp/proc", 0755) != 0 ||
	    mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible") != 0)
		fail("/proc");
	if (on[L_FS]) {
		static const char *const masked[] = { "keys", "key-users", "kallsyms", "timer_list" };
		for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
			snprintf(path, sizeof path, "/tmp/proc/%s", masked[i]);
			mask(path);
		}
	}
	if (mkdir("/tmp/.old", 0700) != 0 || chdir("/tmp") != 0 || syscall(SYS_pivot_root, ".", ".old") != 0 ||
	    chdir("/") != 0 || umount2("/.old", MNT_DETACH) != 0 || rmdir("/.old") != 0)
		fail("pivot_root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
		fail("root read-only");
}

static void apply_landlock(void)
{
	uint64_t fs = (landlock_abi >= 3 ? 1ULL << 15 : landlock_abi >= 2 ? 1ULL << 14 : 1ULL << 13) - 1;
	if (landlock_abi >= 5)
		fs |= 1ULL << 15; /* ioctl_dev */
	struct ll_ruleset_attr attr = { .handled_access_fs = fs,
					.handled_access_net = landlock_abi >= 4 ? 3 : 0,
					.scoped = landlock_abi >= 6 ? 3 : 0 };
	size_t size = landlock_abi >= 6 ? sizeof attr : landlock_abi >= 4 ? 16 : 8;
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		fail("landlock ruleset");
	static const char *const read_only[] = { "/", "/usr", "/etc", "/proc" };
	static const char *const writable[] = { "/workspace", "/tmp", "/dev/null", "/dev/pts" };
	for (int w = 0; w < 2; w++) {
		for (int i = 0; i < 4; i++) {
			const char *p = w ? writable[i] : read_only[i];
			struct ll_path_beneath rule = { .allowed_access = w ? fs & ~(uint64_t)LL_FS_EXECUTE : LL_FS_READ,
							.parent_fd = open(p, O_PATH | O_CLOEXEC) };
			if (rule.parent_fd < 0)
				continue; /* without the fs layer */
			struct stat st;
			if (fstat(rule.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
				rule.allowed_access &= LL_FS_READ_FILE | (1ULL << 1) /* write_file */;
			if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &rule, 0) != 0)
				fail("landlock rule %s", p);
			close(rule.parent_fd);
		}
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		fail("landlock_restrict_self");
	close(rs);
}

static void drop_caps(void)
{
	int last = 40;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 40;
		fclose(f);
	}
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			fail("dropping capability %d", cap);
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) != 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
		fail("securebits");
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	if (syscall(SYS_capset, &hdr, data) != 0)
		fail("capset");
}

static int sandbox_init(int sync_fd, char **cmd)
{
	char go, in_cgroup;
	pid_t helper = 0;
	int status;
	if (read(sync_fd, &go, 1) != 1) /* the id maps are written */
		fail("waiting for the id maps");
	if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
		fail("becoming 65534");
	/* after the uid change, which clears it: no sandbox outlives us */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		fail("parent-death signal");
	if (on[L_NET]) {
		helper = clone(net_helper, net_stack + sizeof net_stack, CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
		if (helper < 0)
			fail("network helper");
	}
	if (sethostname("floor", 5) != 0)
		fail("sethostname");
	build_root();
	if (on[L_NET] && (waitpid(helper, &status, 0) != helper || status != 0 || setns(net_fd, CLONE_NEWNET) != 0))
		fail("joining the network namespace");
	if (net_fd >= 0)
		close(net_fd);
	if (read(sync_fd, &in_cgroup, 1) != 1) /* the cgroups are joined, or there are none */
		fail("waiting for the cgroups");
	close(sync_fd);
	if (in_cgroup == '1' && unshare(CLONE_NEWCGROUP) != 0)
		fail("cgroup namespace");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fail("no_new_privs");
	if (on[L_LANDLOCK] && landlock_abi > 0)
		apply_landlock();
	if (on[L_CAPS])
		drop_caps();
	if (on[L_SECCOMP]) {
		struct sock_fprog prog = { sizeof seccomp_default_errno / sizeof *seccomp_default_errno,
					   (struct sock_filter *)seccomp_default_errno };
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
			fail("seccomp");
	}
	pid_t child = vfork();
	if (child == 0) {
		setsid();
		if (chdir(on[L_FS] ? "/workspace" : "/") != 0)
			_exit(126);
		execvp(cmd[0], cmd);
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		fail("running the command");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- --costs: each layer's share, measured interleaved ------------------ */

static int costs(const char *self, int runs)
{
	extern char **environ;
	double *t[L_COUNT + 1];
	for (int v = 0; v <= L_COUNT; v++)
		if (!(t[v] = calloc((size_t)runs, sizeof **t)))
			return 1;
	for (int i = -5; i < runs; i++) { /* five rounds of warm-up */
		for (int v = 0; v <= L_COUNT; v++) {
			char *argv[] = { (char *)self, (char *)"--without", (char *)(v ? layer_name[v - 1] : ""), NULL };
			if (v == 0)
				argv[1] = NULL;
			pid_t pid;
			int status;
			double start = now_ms();
			if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) != pid ||
			    status != 0) {
				fprintf(stderr, "floor --costs: a run %s%s failed\n", v ? "without " : "with every layer",
					v ? layer_name[v - 1] : "");
				return 1;
			}
			if (i >= 0)
				t[v][i] = now_ms() - start;
		}
	}
	double med[L_COUNT + 1];
	for (int v = 0; v <= L_COUNT; v++) {
		med[v] = median(t[v], runs);
		free(t[v]);
	}
	printf("floor, every layer    %.3f ms (median of %d, interleaved)\n", med[0], runs);
	for (int l = 0; l < L_COUNT; l++)
		printf("layer %-9s       %6.3f ms (floor without it %.3f)\n", layer_name[l], med[0] - med[l + 1], med[l + 1]);
	return 0;
}

/* ---- the parent ----------------------------------------------------------- */

int main(int argc, char **argv)
{
	static char *default_cmd[] = { (char *)"/bin/true", NULL };
	bool list = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		int l = L_COUNT;
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--costs") == 0 && i + 1 < argc) {
			return costs("/proc/self/exe", atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 100);
		} else if (strcmp(argv[i], "--layers") == 0) {
			list = true;
			continue;
		} else if (strcmp(argv[i], "--without") == 0 && i + 1 < argc) {
			for (l = 0, i++; l < L_COUNT && strcmp(argv[i], layer_name[l]) != 0; l++)
				;
		}
		if (l == L_COUNT) {
			fprintf(stderr, "usage: floor [--layers] [--without fs|net|cgroup|landlock|caps|seccomp]... [CMD...]\n"
					"       floor --costs N\n");
			return 2;
		}
		on[l] = false;
	}
	char **cmd = i < argc ? argv + i : default_cmd;

	signal(SIGPIPE, SIG_IGN); /* a sandbox that died early is reported, not fatal */
	landlock_abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
	if (landlock_abi < 0)
		landlock_abi = 0;
	if (on[L_CGROUP] && (list || cgroup_v2()))
		cgroup_make();
	if (list) {
		printf("applied: ns");
		for (int l = 0; l < L_COUNT; l++) {
			if (!on[l] || (l == L_CGROUP && cg_kind == CG_NONE) || (l == L_LANDLOCK && landlock_abi == 0))
				continue;
			printf(" %s", layer_name[l]);
			if (l == L_CGROUP)
				printf(cg_kind == CG_V1 ? "(v1)" : "(v2)");
			if (l == L_LANDLOCK)
				printf("(ABI %d)", landlock_abi);
		}
		if (on[L_CGROUP] && cg_kind == CG_NONE)
			printf("; not here: cgroup (none this user may create)");
		if (on[L_LANDLOCK] && landlock_abi == 0)
			printf("; not here: landlock (not in this kernel)");
		printf("\n");
		cgroup_remove();
		return 0;
	}

	int sync[2];
	if (pipe2(sync, O_CLOEXEC) != 0)
		fail("pipe");
	struct clone_args ca = { .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS,
				 .exit_signal = SIGCHLD };
	if (cg_kind == CG_V2) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cg_fd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
	if (pid < 0) {
		cgroup_remove();
		fail("clone3");
	}
	if (pid == 0) {
		close(sync[1]);
		_exit(sandbox_init(sync[0], cmd));
	}
	close(sync[0]);
	char map[64], path[64];
	/* as root, an unprivileged id outside (never 0); otherwise our own */
	snprintf(map, sizeof map, "65534 %u 1\n", getuid() == 0 ? 200000u + ((unsigned)getpid() & 0xffff) : (unsigned)getuid());
	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
	int ok = write_file(path, map) == 0;
	snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
	ok = ok && write_file(path, "deny") == 0;
	snprintf(map, sizeof map, "65534 %u 1\n", getuid() == 0 ? 200000u + ((unsigned)getpid() & 0xffff) : (unsigned)getgid());
	snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
	ok = ok && write_file(path, map) == 0;
	ok = ok && write(sync[1], "g", 1) == 1;
	if (ok && on[L_CGROUP] && !cgroup_v2()) {
		cgroup_make();
		ok = cg_kind != CG_V1 || cgroup_join_v1(pid) == 0;
	}
	ok = ok && write(sync[1], cg_kind == CG_NONE ? "0" : "1", 1) == 1;
	if (!ok) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cgroup_remove();
		fail("starting the sandbox (id maps, cgroups)");
	}
	close(sync[1]);
	int status;
	pid_t w = waitpid(pid, &status, 0);
	cgroup_remove();
	if (w != pid)
		fail("waiting");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
