// SPDX-License-Identifier: Apache-2.0
/*
 * probe — one attack per invocation, for the airlock escape suite.
 *
 *   probe NAME [key=value ...]
 *
 * runs the attack NAME inside a sandbox and prints exactly one line,
 * "CONTAINED <detail>" or "ESCAPED <detail>", then exits 0. Some probes
 * (fork/memory bombs, CPU spin, output flood) may instead be killed by the
 * sandbox; run_escape.sh knows which and judges those from the outside. The
 * key=value arguments carry what the harness set up on the host (listener
 * ports, the secret file's path, SysV keys, namespace inodes, ...).
 *
 * Rules every probe follows, because on a broken sandbox the attack really
 * lands on the host (these run on developer machines and in CI):
 *   - kernel knobs (/proc/sys, sysrq-trigger, cgroup files) are only OPENED
 *     for writing, never written: the permission check happens at open();
 *   - anything created outside the sandbox is removed at once;
 *   - network traffic goes only to loopback, this machine's own addresses or
 *     namespaces the test made; any other address is only route-checked with
 *     a UDP connect(), which sends nothing;
 *   - privileged calls use arguments that fail harmlessly once the permission
 *     check has passed (invalid reboot magic, kexec flags, nonexistent swap
 *     file, ...), so the errno tells whether the check passed;
 *   - loops that consume resources are capped well below host damage;
 *   - attacks that would hit every process (kill(-1)) or the real init only
 *     run inside a private pid namespace; vsock is never connected.
 *
 * Categories (one meson test each, see meson.build): fs, proc, dev, priv,
 * sys, tty, ipc, net, egress, res, leak, sig; run_escape.sh adds
 * harness-level tests (orphans, persistence, 200 runs, supervisor SIGKILL,
 * .aiignore tampering, the net probes again with an egress gateway) and
 * "selftest", which runs some probes without a sandbox to show they do
 * detect the attack. To try one by hand:
 *   airlock run --mount DIR_WITH_PROBE:/probe:ro -- /probe/probe fs-chroot
 *
 * Host-side helper modes (not attacks, used by the harness):
 *   probe list [CATEGORY]        the probe table: "name|category|expect|opts"
 *   probe host-listen DIR [ADDR] TCP/UDP/unix listeners + SysV/POSIX IPC objects
 *   probe host-proxy DIR [ADDR]  a naive open proxy for the selftest of the egress probes
 *   probe host-sleep MARKER      a sleeper that must survive the run
 *   probe host-setcap FILE       give FILE file capabilities (root only)
 *   probe host-pty -- CMD...     run CMD with a fresh pty as controlling tty,
 *                                then report whether anything was injected
 *   probe hello | print-ids      tiny helpers executed inside the sandbox
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <limits.h>
#include <mqueue.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/tiocl.h>
#include <linux/vm_sockets.h>
#include <netinet/if_ether.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
/* Syscall numbers newer than some distributions' headers (x86_64 and generic). */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define QCMD_GETFMT QCMD(Q_GETFMT, USRQUOTA)

/* What the harness writes into the host secret file, and names it exports. */
#define SECRET_MARK "AIRLOCK-HOST-SECRET-7f3a"
#define SECRET_ENV "AIRLOCK_TEST_SECRET"
#define SECRET_VALUE_MARK "airlock-test-secret-value"

/* Caps that keep a broken sandbox from hurting the host. */
#define FORK_CAP 512			/* processes */
#define MEM_CAP_MB 1024			/* memory bomb */
#define DISK_CAP_MB 1024		/* a bigger fs counts as "not size-limited" */
#define INODE_CAP 262144		/* files; reaching this means "no inode limit" */
#define FD_CAP 65536			/* more fds count as "no fd limit" */
#define FLOOD_BYTES (64u << 20)		/* output flood */

/* ---- verdict ----------------------------------------------------------- */

static char g_esc[4096];
static char g_note[4096];

static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len + 8 >= size)
		return;
	if (len) {
		buf[len++] = ';';
		buf[len++] = ' ';
		buf[len] = '\0';
	}
	vsnprintf(buf + len, size - len, fmt, ap);
}

/* The attack worked (or a layer that must hold did not). */
static void escaped(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void escaped(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(g_esc, sizeof(g_esc), fmt, ap);
	va_end(ap);
}

/* What stopped it, for the CONTAINED line. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(g_note, sizeof(g_note), fmt, ap);
	va_end(ap);
}

static void print_line(const char *tag, const char *text)
{
	printf("%s ", tag);
	for (const char *p = text; *p; p++)
		putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
	putchar('\n');
	fflush(stdout);
}

static int verdict(void)
{
	if (g_esc[0])
		print_line("ESCAPED", g_esc);
	else
		print_line("CONTAINED", g_note[0] ? g_note : "refused");
	return 0;
}

static void ignore_result(long r)
{
	(void)r;
}

static const char *ename(int e)
{
	static char buf[4][24];
	static int slot;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *s = strerrorname_np(e);

	if (s)
		return s;
#endif
	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof(buf[slot]), "errno %d", e);
	return buf[slot];
}

/* A call that must fail; any failure will do. r is the raw return value. */
static bool must_fail_(const char *what, long r, int err)
{
	if (r < 0) {
		note("%s: %s", what, ename(err));
		return true;
	}
	escaped("%s succeeded", what);
	return false;
}

/*
 * A privileged call with harmless arguments: the kernel checks the
 * capability first, so EPERM (or a seccomp EPERM/ENOSYS) means refused and
 * any other result means the permission check was passed.
 */
static bool must_be_refused_(const char *what, long r, int err)
{
	if (r < 0 && (err == EPERM || err == ENOSYS || err == EACCES)) {
		note("%s: %s", what, ename(err));
		return true;
	}
	if (r < 0)
		escaped("%s passed the permission check (%s)", what, ename(err));
	else
		escaped("%s succeeded", what);
	return false;
}

/*
 * The call is made first and errno read after it (argument evaluation order
 * is unspecified, so "f(what, call(), errno)" could read a stale errno).
 * The third argument only documents the convention and is not used.
 */
#define must_fail(what, call, unused_errno)                    \
	do {                                                   \
		errno = 0;                                     \
		long r_ = (long)(call);                        \
		int e_ = errno;                                \
		must_fail_((what), r_, e_);                    \
	} while (0)
#define must_be_refused(what, call, unused_errno)              \
	do {                                                   \
		errno = 0;                                     \
		long r_ = (long)(call);                        \
		int e_ = errno;                                \
		must_be_refused_((what), r_, e_);              \
	} while (0)

/* ---- arguments from the harness ---------------------------------------- */

static int g_argc;
static char **g_argv;

static const char *arg(const char *key)
{
	size_t len = strlen(key);

	for (int i = 0; i < g_argc; i++)
		if (!strncmp(g_argv[i], key, len) && g_argv[i][len] == '=')
			return g_argv[i] + len + 1;
	return NULL;
}

static long arg_long(const char *key, long dflt)
{
	const char *v = arg(key);

	return v && *v ? strtol(v, NULL, 0) : dflt;
}

/* ---- small helpers ----------------------------------------------------- */

static void must_not_open(const char *path, int flags, const char *how)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		escaped("opened %s for %s", path, how);
	} else {
		note("%s: %s", path, ename(errno));
	}
}

/* Create a file in dir; if that works, remove it at once and record it. */
static void try_create(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s%s.airlock-escape-%d", dir,
		 dir[strlen(dir) - 1] == '/' ? "" : "/", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		escaped("created a file in %s", dir);
		return;
	}
	note("create in %s: %s", dir, ename(errno));
	if (mkdir(path, 0700) == 0) {
		rmdir(path);
		escaped("created a directory in %s", dir);
	}
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A fresh scratch directory in the first writable place (removed at exit). */
static char g_scratch[PATH_MAX];

static int rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[PATH_MAX];

	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
	}
	return rmdir(path);
}

static pid_t g_main_pid;

static void scratch_cleanup(void)
{
	if (g_scratch[0] && getpid() == g_main_pid)
		rm_rf(g_scratch);
}

static const char *scratch_in(const char *base)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.airlock-probe-XXXXXX", base);
	return mkdtemp(path);
}

static const char *scratch(void)
{
	static const char *const bases[] = { "/workspace", "/tmp", "/dev/shm" };
	const char *p;

	if (g_scratch[0])
		return g_scratch;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		p = scratch_in(bases[i]);
		if (p) {
			snprintf(g_scratch, sizeof(g_scratch), "%s", p);
			atexit(scratch_cleanup);
			return g_scratch;
		}
	}
	return NULL;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		int e = errno;

		close(in);
		errno = e;
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			close(in);
			close(out);
			return -1;
		}
	close(in);
	if (close(out) < 0)
		return -1;
	return 0;
}

/* Directory of this binary (inside: /probe or /workspace). */
static const char *self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	char *slash;

	if (n <= 0)
		return "/probe";
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	return dir;
}

/* Numeric entries of /proc other than ourselves. */
static int list_pids(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end || v <= 0 || v == getpid())
			continue;
		out[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

static void pid_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_file(path, buf, size) <= 0)
		snprintf(buf, size, "?");
	buf[strcspn(buf, "\n")] = '\0';
}

/* /proc/PID/status field, e.g. "CapEff". */
static bool status_field(pid_t pid, const char *key, char *val, size_t size)
{
	char path[64], buf[8192], *p;
	size_t klen = strlen(key);

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			p += klen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			snprintf(val, size, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	}
	return false;
}

/*
 * Are we in a pid namespace of our own? Probes whose attack would hit every
 * process (kill(-1)) or the real init only go ahead when we are; on a host
 * they report the missing isolation instead.
 */
static bool private_pidns(void)
{
	pid_t pids[64];
	char link[64];
	const char *host = arg("ns_pid");
	ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);

	if (n > 0 && host && *host) {
		link[n] = '\0';
		if (strstr(link, host))
			return false;
	}
	return list_pids(pids, 64) < 32;
}

/*
 * Run fn in a child; its escaped()/note() calls come back to the parent. A
 * child killed by a signal (e.g. SIGSYS from seccomp) is reported as a note:
 * being killed for trying is a way of being contained.
 */
static void in_child(const char *label, void (*fn)(void *), void *ctx)
{
	int p[2];
	pid_t pid;
	int status = 0;
	char buf[sizeof(g_esc) + sizeof(g_note) + 4];
	size_t got = 0;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0) {
		note("%s: pipe: %s", label, ename(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		note("%s: fork: %s", label, ename(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		g_esc[0] = g_note[0] = '\0';
		fn(ctx);
		ignore_result(write(p[1], g_esc, strlen(g_esc) + 1));
		ignore_result(write(p[1], g_note, strlen(g_note) + 1));
		_exit(0);
	}
	close(p[1]);
	while (got < sizeof(buf) - 2 && (n = read(p[0], buf + got, sizeof(buf) - 2 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	buf[got] = buf[got + 1] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got) {
		const char *esc = buf, *nt = buf + strlen(buf) + 1;

		if (*esc)
			escaped("%s: %s", label, esc);
		if (nt < buf + got && *nt)
			note("%s", nt);
	}
	if (WIFSIGNALED(status))
		note("%s: child killed by %s", label, strsignal(WTERMSIG(status)));
}

/* ======================================================================= */
/* filesystem                                                              */
/* ======================================================================= */

/* Tamper with the host's binaries: /usr must be read-only. */
static int fs_write_usr(void)
{
	try_create("/usr");
	try_create("/usr/bin");
	try_create("/usr/lib");
	try_create("/usr/local/bin");
	return verdict();
}

/* Persistence through /etc: new files, appending to passwd, ld.so.preload. */
static int fs_write_etc(void)
{
	int fd;

	try_create("/etc");
	must_not_open("/etc/passwd", O_WRONLY | O_APPEND, "append");
	must_not_open("/etc/hosts", O_WRONLY | O_APPEND, "append");
	fd = open("/etc/ld.so.preload", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlink("/etc/ld.so.preload");
		escaped("created /etc/ld.so.preload");
	} else if (errno == EEXIST) {
		must_not_open("/etc/ld.so.preload", O_WRONLY | O_APPEND, "append");
	} else {
		note("/etc/ld.so.preload: %s", ename(errno));
	}
	return verdict();
}

static int fs_write_root(void)
{
	try_create("/");
	return verdict();
}

/* Every place outside the granted writable paths. */
static int fs_write_outside(void)
{
	static const char *const dirs[] = {
		"/bin", "/sbin", "/lib", "/lib64", "/var", "/var/tmp", "/opt", "/srv",
		"/mnt", "/home", "/root", "/boot", "/run", "/media", "/dev", "/proc",
		"/sys", "/etc/ssh", "/etc/cron.d", "/usr/share",
	};
	int tried = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!path_exists(dirs[i]))
			continue;
		tried++;
		try_create(dirs[i]);
	}
	note("%d directories tried", tried);
	return verdict();
}

/* Credential theft: shadow, gshadow, sudoers, ssh host keys. */
static int fs_read_secrets(void)
{
	static const char *const files[] = {
		"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/sudoers",
		"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key",
		"/etc/ssh/ssh_host_ecdsa_key", "/etc/security/opasswd",
	};
	char buf[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ssize_t n = read_file(files[i], buf, sizeof(buf));

		if (n > 0)
			escaped("read %zd bytes of %s", n, files[i]);
		else if (n == 0)
			note("%s: empty (masked)", files[i]);
		else
			note("%s: %s", files[i], ename(errno));
	}
	return verdict();
}

/* Host home directories and service state must not be there (or be empty). */
static int fs_host_dirs(void)
{
	static const char *const dirs[] = {
		"/root", "/home", "/run", "/var", "/mnt", "/srv", "/opt", "/boot", "/media",
	};
	const char *home = arg("home");

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;
		int n = 0;
		char first[NAME_MAX + 1] = "";

		if (!d) {
			note("%s: %s", dirs[i], ename(errno));
			continue;
		}
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!n++)
				snprintf(first, sizeof(first), "%s", de->d_name);
		}
		closedir(d);
		if (n)
			escaped("%s has %d entries (%s, ...)", dirs[i], n, first);
		else
			note("%s: empty", dirs[i]);
	}
	if (home && *home && strcmp(home, "/") && path_exists(home))
		escaped("host home %s exists", home);
	return verdict();
}

static bool content_has_secret(const char *path)
{
	char buf[4096];

	return read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, SECRET_MARK);
}

/* The harness's secret file in a host temp dir; also via "/../.." walks. */
static int fs_host_tmp(void)
{
	const char *secret = arg("secret_file");
	const char *sdir = arg("secret_dir");
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;

	if (!secret || !sdir) {
		escaped("harness did not pass secret_file/secret_dir");
		return verdict();
	}
	must_not_open(secret, O_RDONLY, "reading");
	snprintf(path, sizeof(path), "/../../../..%s", secret);
	if (content_has_secret(path))
		escaped("read the host secret via %s", path);
	if (path_exists(sdir))
		escaped("host temp dir %s is visible", sdir);
	d = opendir("/tmp");
	if (d) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "airlock-esc", 11))
				escaped("host /tmp entry %s visible", de->d_name);
		closedir(d);
	}
	return verdict();
}

/* Symlinks planted in the sandbox that point at host paths. */
static int fs_symlink(void)
{
	const char *secret = arg("secret_file");
	const char *s = scratch();
	char link[PATH_MAX], target[PATH_MAX];
	const char *targets[4];

	if (!secret || !s) {
		note("no secret path or scratch dir");
		if (!secret)
			escaped("harness did not pass secret_file");
		return verdict();
	}
	targets[0] = secret;
	snprintf(target, sizeof(target), "../../../../../../../..%s", secret);
	targets[1] = target;
	targets[2] = "/proc/1/root/etc/shadow";
	targets[3] = "/proc/self/root/../../../etc/shadow";
	for (int i = 0; i < 4; i++) {
		snprintf(link, sizeof(link), "%s/l%d", s, i);
		if (symlink(targets[i], link) < 0) {
			note("symlink: %s", ename(errno));
			continue;
		}
		if (content_has_secret(link))
			escaped("read the host secret through symlink -> %s", targets[i]);
		else if (i >= 2 && read_file(link, (char[64]){ 0 }, 64) > 0)
			escaped("read %s through a symlink", targets[i]);
		else
			note("-> %s: %s", targets[i], ename(errno));
	}
	return verdict();
}

/* Hard links to files we may not write (protected_hardlinks, EXDEV). */
static int fs_hardlink(void)
{
	const char *s = scratch();
	const char *secret = arg("secret_file");
	static const char *const victims[] = { "/etc/passwd", "/etc/shadow", "/usr/bin/su" };
	char path[PATH_MAX];
	int fd;

	if (!s) {
		note("no writable scratch dir");
		return verdict();
	}
	for (size_t i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
		snprintf(path, sizeof(path), "%s/h%zu", s, i);
		if (link(victims[i], path) < 0) {
			note("link %s: %s", victims[i], ename(errno));
			continue;
		}
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			escaped("writable hard link to %s", victims[i]);
		} else {
			note("link %s made but not writable (%s)", victims[i], ename(errno));
		}
		unlink(path);
	}
	if (secret) {
		snprintf(path, sizeof(path), "%s/hs", s);
		if (link(secret, path) == 0) {
			escaped("hard-linked the host secret");
			unlink(path);
		} else {
			note("link secret: %s", ename(errno));
		}
	}
	/* linkat(AT_EMPTY_PATH) of an O_PATH fd needs CAP_DAC_READ_SEARCH. */
	fd = open("/etc/passwd", O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "%s/hp", s);
		if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) {
			unlink(path);
			escaped("linkat(AT_EMPTY_PATH) works (CAP_DAC_READ_SEARCH)");
		} else {
			note("linkat empty path: %s", ename(errno));
		}
		close(fd);
	}
	return verdict();
}

/*
 * "Shocker" (Docker 2014): open_by_handle_at() with a guessed handle walks to
 * any inode of the host filesystem; it needs CAP_DAC_READ_SEARCH.
 */
static int fs_open_by_handle(void)
{
	struct {
		struct file_handle fh;
		unsigned char raw[MAX_HANDLE_SZ];
	} h;
	int mount_id, mfd, fd;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, "/etc", &h.fh, &mount_id, 0) < 0) {
		note("name_to_handle_at: %s", ename(errno));
		h.fh.handle_bytes = 8;
		h.fh.handle_type = 1; /* FILEID_INO32_GEN */
	}
	mfd = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = (int)syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		escaped("open_by_handle_at opened /etc by handle");
	} else {
		must_be_refused_("open_by_handle_at(/etc)", -1, errno);
	}
	/* Inode 2 is the root of ext2/3/4: the shocker's first guess. */
	h.fh.handle_bytes = 8;
	h.fh.handle_type = 1;
	memset(h.raw, 0, 8);
	h.raw[0] = 2; /* f_handle[] is h.raw */
	fd = (int)syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		escaped("open_by_handle_at opened inode 2 (filesystem root)");
	} else {
		must_be_refused_("open_by_handle_at(inode 2)", -1, errno);
	}
	if (mfd >= 0)
		close(mfd);
	return verdict();
}

/* Classic chroot escape: chroot into a subdir, chdir("..") out of it. */
static void chroot_child(void *ctx)
{
	const char *s = ctx;
	char dir[PATH_MAX];
	const char *secret = arg("secret_file");

	snprintf(dir, sizeof(dir), "%s/jail", s);
	mkdir(dir, 0755);
	if (chroot(dir) < 0) {
		must_be_refused_("chroot", -1, errno);
		return;
	}
	escaped("chroot allowed (CAP_SYS_CHROOT kept)");
	for (int i = 0; i < 64; i++)
		ignore_result(chdir(".."));
	ignore_result(chroot("."));
	if (secret && path_exists(secret))
		escaped("chroot escape reached the host filesystem");
}

static int fs_chroot(void)
{
	const char *s = scratch();

	if (!s) {
		must_be_refused("chroot(/)", chroot("/"), errno);
		return verdict();
	}
	in_child("chroot", chroot_child, (void *)s);
	return verdict();
}

/* Exec and mmap(PROT_EXEC) from /tmp, which must be noexec. */
static void exec_hello(const char *path, const char *mode, char *out, size_t size)
{
	int p[2];
	pid_t pid;
	ssize_t n;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(path, "probe", mode, (char *)NULL);
		dprintf(1, "EXECFAIL %s\n", ename(errno));
		_exit(127);
	}
	close(p[1]);
	n = pid > 0 ? read(p[0], out, size - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static int fs_exec_tmp(void)
{
	const char *s = scratch_in("/tmp");
	char path[PATH_MAX], out[256];
	void *m;
	int fd;

	if (!s) {
		note("/tmp not writable: %s", ename(errno));
		return verdict();
	}
	snprintf(path, sizeof(path), "%s/x", s);
	if (copy_file("/proc/self/exe", path, 0755) < 0) {
		note("copy to /tmp: %s", ename(errno));
		rm_rf(s);
		return verdict();
	}
	exec_hello(path, "hello", out, sizeof(out));
	if (!strncmp(out, "HELLO", 5))
		escaped("executed a binary from /tmp (not noexec)");
	else
		note("exec from /tmp: %s", out[0] ? out : "no output");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	m = fd >= 0 ? mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (m != MAP_FAILED) {
		munmap(m, 4096);
		escaped("mmap(PROT_EXEC) of a /tmp file allowed");
	} else {
		note("mmap exec: %s", ename(errno));
	}
	if (fd >= 0)
		close(fd);
	rm_rf(s);
	return verdict();
}

/*
 * A setuid-root binary in a writable place: chown to 0 must fail, and
 * executing a setuid file must not raise privileges (nosuid/noexec, NNP).
 */
static int fs_setuid_file(void)
{
	static const char *const bases[] = { "/tmp", "/workspace", "/dev/shm" };
	char path[PATH_MAX], out[256];

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		const char *s = scratch_in(bases[i]);

		if (!s)
			continue;
		snprintf(path, sizeof(path), "%s/suid", s);
		if (copy_file("/proc/self/exe", path, 0755) < 0) {
			rm_rf(s);
			continue;
		}
		if (chown(path, 0, 0) == 0)
			escaped("chown to root in %s succeeded", bases[i]);
		else
			note("%s chown 0: %s", bases[i], ename(errno));
		if (chmod(path, 04755) < 0)
			note("%s chmod u+s: %s", bases[i], ename(errno));
		exec_hello(path, "print-ids", out, sizeof(out));
		if (!strncmp(out, "IDS ", 4)) {
			unsigned r, e;

			if (sscanf(out, "IDS %u %u", &r, &e) == 2 && (e == 0 || r == 0))
				escaped("setuid file in %s ran with euid %u", bases[i], e);
			else
				note("%s: ran without privilege", bases[i]);
		} else {
			note("%s exec: %s", bases[i], out[0] ? out : "no output");
		}
		rm_rf(s);
	}
	return verdict();
}

/*
 * CVE-2019-5736 (runc): overwrite the runtime binary through /proc/PID/exe.
 * Only open() for writing is attempted; nothing is written.
 */
static int fs_proc_exe(void)
{
	pid_t pids[256];
	int n = list_pids(pids, 256);
	char path[64], comm[64];
	int fd;

	must_not_open("/proc/self/exe", O_WRONLY, "writing");
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pids[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			pid_comm(pids[i], comm, sizeof(comm));
			escaped("opened %s (%s) for writing (CVE-2019-5736)", path, comm);
			continue;
		}
		note("%s: %s", path, ename(errno));
		/* runc's variant: an O_PATH handle reopened through /proc/self/fd. */
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd >= 0) {
			char re[64];
			int wfd;

			snprintf(re, sizeof(re), "/proc/self/fd/%d", fd);
			wfd = open(re, O_WRONLY | O_CLOEXEC);
			if (wfd >= 0) {
				close(wfd);
				escaped("reopened %s for writing via O_PATH", path);
			}
			close(fd);
		}
	}
	return verdict();
}

/* The read-only bind of the probe directory must stay read-only. */
static int fs_ro_bind(void)
{
	const char *dir = self_dir();
	char self[PATH_MAX];
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };

	snprintf(self, sizeof(self), "%s/probe", dir);
	try_create(dir);
	must_not_open(self, O_WRONLY, "writing");
	if (chmod(self, 0777) == 0)
		escaped("chmod of the read-only mounted probe succeeded");
	else
		note("chmod: %s", ename(errno));
	if (utimensat(AT_FDCWD, self, ts, 0) == 0)
		escaped("utimensat on the read-only mount succeeded");
	else
		note("utimensat: %s", ename(errno));
	return verdict();
}

/* --workspace DIR:rw: the harness planted symlinks to host paths in DIR. */
static int fs_ws_rw_escape(void)
{
	static const char *const links[] = { "link-secret", "link-up", "link-proc-cwd" };
	char path[PATH_MAX];
	int fd;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "/workspace/%s", links[i]);
		if (content_has_secret(path))
			escaped("read the host secret through /workspace/%s", links[i]);
		else
			note("%s: %s", links[i], ename(errno));
	}
	/* The workspace's host parent holds the secret and must stay out of reach. */
	if (content_has_secret("/workspace/../secret.txt"))
		escaped("read ../secret.txt beside the workspace");
	fd = open("/workspace/../planted", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink("/workspace/../planted");
		escaped("created /workspace/../planted");
	} else {
		note("create ../planted: %s", ename(errno));
	}
	/*
	 * The host workspace often lives on the same filesystem as the read-only
	 * root: a hard link would put /etc/shadow or a setuid binary into a
	 * directory the agent controls on the host.
	 */
	{
		static const char *const victims[] = { "/etc/shadow", "/etc/passwd", "/usr/bin/su" };

		for (size_t i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
			char dst[64];

			snprintf(dst, sizeof(dst), "/workspace/hl-%zu", i);
			if (link(victims[i], dst) == 0) {
				unlink(dst);
				escaped("hard-linked %s into the host workspace", victims[i]);
			} else {
				note("link %s: %s", victims[i], ename(errno));
			}
		}
	}
	/* Writing inside the workspace is fine; the harness checks the parent. */
	fd = open("/workspace/inside.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ignore_result(write(fd, "ok\n", 3));
		close(fd);
	}
	return verdict();
}

/* --workspace DIR:ro must not be writable in any way. */
static int fs_ws_ro(void)
{
	try_create("/workspace");
	must_not_open("/workspace/existing.txt", O_WRONLY | O_APPEND, "writing");
	must_not_open("/workspace/existing.txt", O_WRONLY | O_TRUNC, "truncating");
	if (chmod("/workspace/existing.txt", 0777) == 0)
		escaped("chmod in read-only workspace");
	if (unlink("/workspace/existing.txt") == 0)
		escaped("unlinked a file of the read-only workspace");
	else
		note("unlink: %s", ename(errno));
	if (rename("/workspace/existing.txt", "/workspace/renamed.txt") == 0)
		escaped("renamed in read-only workspace");
	return verdict();
}

/*
 * Deny-listed files in mounted host trees (--workspace DIR:rw and a
 * --mount DIR:/data:ro, both planted by the harness) must stay hidden, and
 * no rename/link/unlink of the masks may uncover them.
 */
#define D10 "d/d/d/d/d/d/d/d/d/d/"
#define DEEP_DIR D10 D10 D10 D10 D10 D10 "d/d/d/d/d/d/d/d/d/d" /* 70 levels, as planted */
static const char *const deny_planted[] = {
	".env", "sub/.env.local", ".ssh/id_rsa", "server.key", "cert.pem", ".aws/credentials",
	".git-credentials", ".netrc", "id_ed25519", "custom-secret.txt", /* via .aiignore */
	"locked/.env",	/* in a directory that can be traversed (--x) but not listed */
	DEEP_DIR "/.env", /* 70 levels down */
};

static void deny_check_tree(const char *root, bool writable)
{
	char path[PATH_MAX], other[PATH_MAX];
	int hidden = 0;

	snprintf(path, sizeof(path), "%s/visible.txt", root);
	if (!content_has_secret(path)) {
		note("%s/visible.txt unreadable (%s): tree not mounted?", root, ename(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(deny_planted) / sizeof(deny_planted[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", root, deny_planted[i]);
		if (content_has_secret(path)) {
			if (strlen(deny_planted[i]) > 64)
				escaped("read deny-listed %s/d/d/...(70 levels)/.env", root);
			else
				escaped("read deny-listed %s", path);
			continue;
		}
		/* Masked (still there, empty) or removed: both hide it. A missing
		 * file is named, so a planting mistake cannot pass unseen. */
		if (stat(path, &st) < 0)
			note("%s: %s", deny_planted[i], ename(errno));
		hidden++;
		if (!writable)
			continue;
		/* Move the mask away, or link to what is under it. */
		snprintf(other, sizeof(other), "%s/moved-%zu", root, i);
		if (rename(path, other) == 0) {
			if (content_has_secret(path) || content_has_secret(other))
				escaped("renaming %s uncovered it", path);
			rename(other, path);
		}
		if (link(path, other) == 0) {
			if (content_has_secret(other))
				escaped("hard link to deny-listed %s reads it", path);
			unlink(other);
		}
		if (unlink(path) == 0 && content_has_secret(path))
			escaped("unlinking the mask of %s uncovered it", path);
	}
	/* The directory holding a masked file, moved and read under a new name. */
	snprintf(path, sizeof(path), "%s/sub", root);
	snprintf(other, sizeof(other), "%s/sub-moved", root);
	if (writable && rename(path, other) == 0) {
		snprintf(path, sizeof(path), "%s/.env.local", other);
		if (content_has_secret(path))
			escaped("renaming the parent uncovered sub/.env.local");
		snprintf(path, sizeof(path), "%s/sub", root);
		rename(other, path);
	}
	note("%s: %d deny-listed files hidden", root, hidden);
}

static int fs_deny_list(void)
{
	deny_check_tree("/workspace", true);
	deny_check_tree("/data", false);
	return verdict();
}

/* Run 1 of fs-aiignore-tamper: un-list custom-secret.txt for the next run. */
static int aiignore_tamper(void)
{
	int fd = open("/workspace/.aiignore", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0) {
		ignore_result(write(fd, "# emptied by the agent\n", 23));
		close(fd);
		note("truncated .aiignore");
	} else {
		note("truncate .aiignore: %s", ename(errno));
		if (rename("/workspace/.aiignore", "/workspace/aiignore-moved") == 0)
			note("renamed .aiignore away");
		else if (unlink("/workspace/.aiignore") == 0)
			note("unlinked .aiignore");
	}
	return verdict();
}

/* Run 2 of fs-aiignore-tamper: the file .aiignore listed must stay hidden. */
static int aiignore_check(void)
{
	if (content_has_secret("/workspace/custom-secret.txt"))
		escaped("read /workspace/custom-secret.txt that .aiignore hid before run 1");
	else
		note("custom-secret.txt still hidden (%s)", ename(errno));
	return verdict();
}

/*
 * Landlock is a second fence: even where mounts and file modes would allow
 * a write (the process's own /proc files), nothing outside the granted
 * paths opens for writing. Opened only, never written.
 */
static int fs_landlock_fence(void)
{
	static const char *const files[] = {
		"/proc/self/comm", "/proc/self/oom_score_adj", "/proc/self/clear_refs",
		"/proc/self/timerslack_ns", "/proc/self/attr/current",
	};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);

	if (abi < 1) {
		note("Landlock unavailable on this kernel (%s): fence not testable", ename(errno));
		return verdict();
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(files[i], O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			close(fd);
			escaped("%s opens for writing: no Landlock fence outside the grants", files[i]);
		} else {
			note("%s: %s", files[i], ename(errno));
		}
	}
	note("Landlock ABI %ld", abi);
	return verdict();
}

/* ======================================================================= */
/* /proc and /sys                                                          */
/* ======================================================================= */

/* core_pattern runs a program as host root on the next crash. Open only. */
static int proc_core_pattern(void)
{
	must_not_open("/proc/sys/kernel/core_pattern", O_WRONLY, "writing");
	must_not_open("/proc/sys/kernel/modprobe", O_WRONLY, "writing");
	must_not_open("/proc/sys/fs/binfmt_misc/register", O_WRONLY, "writing");
	must_not_open("/proc/sys/kernel/hotplug", O_WRONLY, "writing");
	return verdict();
}

/* sysrq-trigger reboots/crashes the host. Open only. */
static int proc_sysrq(void)
{
	must_not_open("/proc/sysrq-trigger", O_WRONLY, "writing");
	must_not_open("/proc/sys/kernel/sysrq", O_WRONLY, "writing");
	return verdict();
}

/* /proc/kcore is the host's physical memory as an ELF core. */
static int proc_kcore(void)
{
	char buf[64];
	ssize_t n = read_file("/proc/kcore", buf, sizeof(buf));

	if (n > 0)
		escaped("read %zd bytes of /proc/kcore", n);
	else
		note("/proc/kcore: %s", n == 0 ? "empty (masked)" : ename(errno));
	n = read_file("/proc/kmsg", buf, sizeof(buf));
	if (n > 0)
		escaped("read /proc/kmsg");
	else
		note("/proc/kmsg: %s", n == 0 ? "empty" : ename(errno));
	return verdict();
}

/* Kernel addresses in kallsyms/modules defeat KASLR. */
static int proc_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[256];
	int lines = 0, nonzero = 0;

	if (!f) {
		note("kallsyms: %s", ename(errno));
		return verdict();
	}
	while (lines < 2000 && fgets(line, sizeof(line), f)) {
		lines++;
		if (strtoull(line, NULL, 16) != 0)
			nonzero++;
	}
	fclose(f);
	if (nonzero)
		escaped("%d kernel addresses visible in /proc/kallsyms", nonzero);
	else
		note("kallsyms: %d lines, all addresses hidden", lines);
	return verdict();
}

/* Walk /proc/sys: no file may open for writing. */
static int walk_sysctl(const char *dir, int *files, int *hits)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk_sysctl(path, files, hits);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		(*files)++;
		/* Mode 0666, but the write handler checks CAP_CHECKPOINT_RESTORE. */
		if (!strcmp(path, "/proc/sys/kernel/ns_last_pid"))
			continue;
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			close(fd);
			if ((*hits)++ < 4)
				escaped("%s opens for writing", path);
		}
	}
	closedir(d);
	return 0;
}

static int proc_sys_writable(void)
{
	int files = 0, hits = 0;

	if (walk_sysctl("/proc/sys", &files, &hits) < 0)
		note("/proc/sys: %s", ename(errno));
	if (hits > 4)
		escaped("... %d writable sysctls in all", hits);
	note("%d sysctl files, none writable", files);
	return verdict();
}

/* Host processes must be invisible: a fresh pid namespace and /proc. */
static int proc_host_pids(void)
{
	pid_t pids[4096];
	int n = list_pids(pids, 4096);
	const char *marker = arg("marker");
	char nspid[128];

	for (int i = 0; i < n; i++) {
		char path[64], cmd[4096];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[i]);
		len = read_file(path, cmd, sizeof(cmd));
		for (ssize_t j = 0; j < len; j++)
			if (!cmd[j])
				cmd[j] = ' ';
		/* The sleeper's own command line; airlock's init carries our argv. */
		if (marker && len > 0 && strstr(cmd, "host-sleep") && strstr(cmd, marker))
			escaped("host sleeper visible as pid %d", (int)pids[i]);
	}
	if (n + 1 > 16)
		escaped("%d processes visible (host pid namespace?)", n + 1);
	else
		note("%d processes visible", n + 1);
	if (status_field(0, "NSpid", nspid, sizeof(nspid)) && strchr(nspid, '\t'))
		escaped("/proc shows outer pid namespaces (NSpid: %s)", nspid);
	note("own pid %d", (int)getpid());
	return verdict();
}

/*
 * /proc/PID/root and /proc/PID/cwd of every visible process must lead
 * nowhere outside (CVE-2024-21626 leaked a host cwd into the container).
 */
static int proc_pid_root(void)
{
	pid_t pids[256];
	int n = list_pids(pids, 255);
	const char *secret = arg("secret_file");
	const char *base;
	char path[PATH_MAX];

	if (!secret) {
		escaped("harness did not pass secret_file");
		return verdict();
	}
	base = strrchr(secret, '/');
	base = base ? base + 1 : secret;
	pids[n++] = getpid();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pids[i], secret);
		if (content_has_secret(path))
			escaped("read the host secret via %s", path);
		snprintf(path, sizeof(path), "/proc/%d/cwd/%s", (int)pids[i], base);
		if (content_has_secret(path))
			escaped("read the host secret via %s", path);
		snprintf(path, sizeof(path), "/proc/%d/root/root", (int)pids[i]);
		{
			DIR *d = opendir(path);
			struct dirent *de;
			int entries = 0;

			if (d) {
				while ((de = readdir(d)))
					entries += de->d_name[0] != '.';
				closedir(d);
			}
			if (entries)
				escaped("%s lists %d host entries", path, entries);
		}
	}
	note("%d processes checked", n);
	return verdict();
}

/* The mount table must hold only the sandbox's own mounts. */
static int proc_mountinfo(void)
{
	static const char *const allowed[] = {
		"/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
		"/etc", "/workspace", "/tmp", "/dev", "/proc", "/sys", "/probe",
	};
	const char *sdir = arg("secret_dir");
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int n = 0;

	if (!f) {
		note("mountinfo: %s", ename(errno));
		return verdict();
	}
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], mp[PATH_MAX];
		bool ok = false;

		n++;
		if (sscanf(line, "%*d %*d %*s %4095s %4095s", root, mp) != 2)
			continue;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
			size_t len = strlen(allowed[i]);

			if (!strcmp(allowed[i], "/") ? !strcmp(mp, "/")
						      : !strncmp(mp, allowed[i], len) &&
							(mp[len] == '\0' || mp[len] == '/'))
				ok = true;
		}
		if (!ok)
			escaped("host mount %s visible", mp);
		if (sdir && (strstr(root, sdir) || strstr(mp, sdir)))
			escaped("mount reveals host secret dir (%s on %s)", root, mp);
		if (!strncmp(mp, "/sys/fs/cgroup", 14) || !strncmp(mp, "/sys/kernel", 11))
			escaped("%s mounted", mp);
	}
	fclose(f);
	if (n > 64)
		escaped("%d mounts (host mount table?)", n);
	note("%d mounts, all sandbox paths", n);
	return verdict();
}

/*
 * The sandbox's init (and any other process we did not start) must not be
 * reachable: its environment, memory and fds (pidfd_getfd) talk to the
 * supervisor. A non-dumpable init refuses all of this.
 */
static int proc_init_access(void)
{
	pid_t pids[256];
	int n = list_pids(pids, 256);
	char path[64], buf[65536], comm[64];

	if (!private_pidns()) {
		escaped("not in a private pid namespace (host processes not touched)");
		return verdict();
	}
	if (!n)
		note("no other process visible");
	for (int i = 0; i < n; i++) {
		ssize_t len;
		int fd, pfd;

		pid_comm(pids[i], comm, sizeof(comm));
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)pids[i]);
		len = read_file(path, buf, sizeof(buf));
		if (len > 0) {
			for (ssize_t j = 0; j < len; j++)
				if (!buf[j])
					buf[j] = '\n';
			if (strstr(buf, SECRET_ENV) || strstr(buf, SECRET_VALUE_MARK))
				escaped("pid %d (%s) environ holds the host secret", (int)pids[i], comm);
			else
				note("pid %d environ readable (%zd bytes, no secret)", (int)pids[i], len);
		} else {
			note("pid %d (%s) environ: %s", (int)pids[i], comm,
			     len == 0 ? "empty" : ename(errno));
		}
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pids[i]);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			escaped("pid %d (%s) memory writable via %s", (int)pids[i], comm, path);
		} else {
			note("mem: %s", ename(errno));
		}
		pfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (pfd >= 0) {
			int stolen = 0;

			for (int tfd = 0; tfd < 64; tfd++) {
				int got = (int)syscall(SYS_pidfd_getfd, pfd, tfd, 0);

				if (got >= 0) {
					char what[256] = "?", lnk[64];
					ssize_t l;

					snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", got);
					l = readlink(lnk, what, sizeof(what) - 1);
					what[l > 0 ? l : 1] = '\0';
					if (stolen++ < 3)
						escaped("stole fd %d of pid %d (%s): %s", tfd, (int)pids[i],
							comm, what);
					close(got);
				} else if (errno == EPERM || errno == ENOSYS) {
					note("pidfd_getfd: %s", ename(errno));
					break;
				}
			}
			close(pfd);
		}
		{
			char maps[4096];
			unsigned long lo = 0;
			struct iovec local = { buf, 16 }, remote;

			snprintf(path, sizeof(path), "/proc/%d/maps", (int)pids[i]);
			if (read_file(path, maps, sizeof(maps)) > 0 && sscanf(maps, "%lx", &lo) == 1) {
				remote.iov_base = (void *)lo;
				remote.iov_len = 16;
				if (process_vm_readv(pids[i], &local, 1, &remote, 1, 0) > 0)
					escaped("process_vm_readv read pid %d (%s)", (int)pids[i], comm);
			}
		}
	}
	return verdict();
}

/*
 * CVE-2022-0492: a writable cgroup v1 release_agent runs a host program as
 * root. Neither the host cgroup tree nor a fresh cgroup mount may be writable.
 */
static int proc_cgroup(void)
{
	const char *s = scratch();
	char path[PATH_MAX], buf[4096];
	DIR *d;
	struct dirent *de;

	must_not_open("/sys/fs/cgroup/cgroup.procs", O_WRONLY, "writing");
	must_not_open("/sys/fs/cgroup/release_agent", O_WRONLY, "writing");
	d = opendir("/sys/fs/cgroup");
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/release_agent", de->d_name);
			if (path_exists(path))
				must_not_open(path, O_WRONLY, "writing");
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", de->d_name);
			if (path_exists(path))
				must_not_open(path, O_WRONLY, "writing");
		}
		closedir(d);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/airlock-escape-%d", (int)getpid());
		if (mkdir(path, 0755) == 0) {
			rmdir(path);
			escaped("created a cgroup in /sys/fs/cgroup");
		}
	} else {
		note("/sys/fs/cgroup: %s", ename(errno));
	}
	if (s) {
		snprintf(path, sizeof(path), "%s/cg", s);
		mkdir(path, 0755);
		if (mount("cgroup", path, "cgroup", 0, "rdma") == 0) {
			escaped("mounted cgroup v1 (release_agent reachable)");
			umount2(path, MNT_DETACH);
		} else {
			note("mount cgroup v1: %s", ename(errno));
		}
		if (mount("cgroup2", path, "cgroup2", 0, NULL) == 0) {
			escaped("mounted cgroup2");
			umount2(path, MNT_DETACH);
		} else {
			note("mount cgroup2: %s", ename(errno));
		}
	}
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) > 0 && strstr(buf, "/.."))
		note("cgroup paths outside the cgroup namespace root are shown");
	return verdict();
}

/* /sys must be empty: no /sys/kernel, /sys/firmware, /sys/class/net, ... */
static int proc_sysfs(void)
{
	DIR *d = opendir("/sys");
	struct dirent *de;
	int n = 0;

	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && n++ < 4)
				note("/sys/%s", de->d_name);
		closedir(d);
	}
	if (path_exists("/sys/kernel"))
		escaped("/sys/kernel exists");
	if (path_exists("/sys/firmware") || path_exists("/sys/class/net"))
		escaped("/sys has host content");
	if (n)
		escaped("/sys has %d entries", n);
	else
		note("/sys: %s", d ? "empty" : ename(errno));
	return verdict();
}

/* ======================================================================= */
/* devices                                                                 */
/* ======================================================================= */

/* mknod of a disk or /dev/mem gives raw access to the host. */
static int dev_mknod(void)
{
	const char *s = scratch();
	char path[PATH_MAX];
	const struct {
		const char *name;
		mode_t mode;
		dev_t dev;
	} nodes[] = {
		{ "sda", S_IFBLK | 0600, makedev(8, 0) },
		{ "vda", S_IFBLK | 0600, makedev(253, 0) },
		{ "mem", S_IFCHR | 0600, makedev(1, 1) },
		{ "kmsg", S_IFCHR | 0600, makedev(1, 11) },
	};

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s ? s : "/tmp", nodes[i].name);
		if (mknod(path, nodes[i].mode, nodes[i].dev) == 0) {
			unlink(path);
			escaped("mknod %s succeeded", nodes[i].name);
		} else {
			note("mknod %s: %s", nodes[i].name, ename(errno));
		}
	}
	if (mknod("/dev/airlock-escape", S_IFCHR | 0600, makedev(1, 3)) == 0) {
		unlink("/dev/airlock-escape");
		escaped("mknod in /dev succeeded");
	}
	return verdict();
}

static int dev_mem(void)
{
	must_not_open("/dev/mem", O_RDONLY, "reading");
	must_not_open("/dev/kmem", O_RDONLY, "reading");
	must_not_open("/dev/port", O_RDONLY, "reading");
	return verdict();
}

/* No block device may be reachable (read-only open; never written). */
static int dev_block(void)
{
	static const char *const names[] = {
		"/dev/sda", "/dev/vda", "/dev/xvda", "/dev/nvme0n1", "/dev/hda",
		"/dev/loop0", "/dev/dm-0", "/dev/mmcblk0", "/dev/sr0",
	};
	DIR *d;
	struct dirent *de;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		must_not_open(names[i], O_RDONLY, "reading");
	d = opendir("/dev");
	if (d) {
		while ((de = readdir(d))) {
			char path[PATH_MAX];
			struct stat st;

			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			if (lstat(path, &st) == 0 && S_ISBLK(st.st_mode))
				escaped("block device %s present", path);
		}
		closedir(d);
	}
	return verdict();
}

/* Minimal /dev: only the harmless character devices. */
static bool dev_allowed(const char *path)
{
	static const char *const ok[] = {
		"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
		"/dev/tty", "/dev/ptmx", "/dev/pts/ptmx",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(path, ok[i]))
			return true;
	return false;
}

static void scan_dev(const char *dir, int depth, int *devs)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 3 && strcmp(path, "/dev/pts"))
			scan_dev(path, depth + 1, devs);
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			(*devs)++;
			if (!dev_allowed(path))
				escaped("unexpected device %s (%u:%u)", path, major(st.st_rdev),
					minor(st.st_rdev));
		}
	}
	closedir(d);
}

static int dev_inventory(void)
{
	int devs = 0;

	scan_dev("/dev", 0, &devs);
	note("%d device nodes, all in the minimal set", devs);
	return verdict();
}

/* /dev/kmsg: read the kernel log, or inject fake kernel messages. */
static int dev_kmsg(void)
{
	char buf[256];
	ssize_t n = read_file("/dev/kmsg", buf, sizeof(buf));

	if (n > 0)
		escaped("read the kernel log from /dev/kmsg");
	else
		note("/dev/kmsg read: %s", n == 0 ? "empty" : ename(errno));
	must_not_open("/dev/kmsg", O_WRONLY, "writing");
	return verdict();
}

/* Devices that widen the kernel attack surface or reach the hypervisor. */
static int dev_special(void)
{
	static const char *const names[] = {
		"/dev/fuse", "/dev/kvm", "/dev/net/tun", "/dev/loop-control",
		"/dev/mapper/control", "/dev/vhost-net", "/dev/vhost-vsock", "/dev/vsock",
		"/dev/userfaultfd", "/dev/uinput", "/dev/btrfs-control", "/dev/cpu/0/msr",
		"/dev/hwrng", "/dev/autofs", "/dev/cpu_dma_latency", "/dev/nvidia0",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		must_not_open(names[i], O_RDWR, "read/write");
	return verdict();
}

/* ======================================================================= */
/* privileges                                                              */
/* ======================================================================= */

static int priv_ids(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	gid_t groups[64];
	int n;

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	if (r != 65534 || e != 65534 || s != 65534)
		escaped("uids %u/%u/%u, want 65534", r, e, s);
	if (rg != 65534 || eg != 65534 || sg != 65534)
		escaped("gids %u/%u/%u, want 65534", rg, eg, sg);
	n = getgroups(64, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] != 65534)
			escaped("supplementary group %u", groups[i]);
	note("uid/gid 65534, %d supplementary groups", n < 0 ? 0 : n);
	return verdict();
}

static int priv_caps(void)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char v[64];

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (!status_field(0, sets[i], v, sizeof(v))) {
			note("%s: not shown", sets[i]);
			continue;
		}
		if (strtoull(v, NULL, 16) != 0)
			escaped("%s=%s", sets[i], v);
		else
			note("%s=0", sets[i]);
	}
	/* Also ask the kernel directly: a masked /proc/self/status must not lie. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) {
			escaped("capability %d still in the bounding set", cap);
			break;
		}
	return verdict();
}

static int priv_nnp_seccomp(void)
{
	char v[64];

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		escaped("no_new_privs is not set");
	else
		note("NoNewPrivs=1");
	if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		escaped("no_new_privs could be cleared");
	if (status_field(0, "Seccomp", v, sizeof(v))) {
		if (strcmp(v, "2"))
			escaped("seccomp mode %s, want 2 (filter)", v);
		else
			note("Seccomp=2");
	} else {
		escaped("cannot see seccomp mode");
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		escaped("PR_GET_SECCOMP is not 2");
	return verdict();
}

static void setuid_child(void *ctx)
{
	(void)ctx;
	must_fail("setuid(0)", setuid(0), errno);
	must_fail("setgid(0)", setgid(0), errno);
	must_fail("setresuid(0,0,0)", setresuid(0, 0, 0), errno);
	must_fail("setgroups(0)", setgroups(1, (gid_t[]){ 0 }), errno);
}

static int priv_setuid0(void)
{
	in_child("setuid", setuid_child, NULL);
	return verdict();
}

/* Raising capabilities any other way: capset, ambient, securebits. */
static void cap_raise_child(void *ctx)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	(void)ctx;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1u << CAP_SYS_ADMIN;
	must_fail("capset(CAP_SYS_ADMIN)", syscall(SYS_capset, &hdr, data), errno);
	must_fail("ambient raise CAP_NET_RAW",
		  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), errno);
	must_fail("securebits=0", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), errno);
}

static int priv_cap_raise(void)
{
	in_child("cap-raise", cap_raise_child, NULL);
	return verdict();
}

/* Host root (uid/gid 0) must not be mapped into the sandbox's user ns. */
static void check_map(const char *file)
{
	char buf[1024], *line, *save = NULL;
	int lines = 0;

	if (read_file(file, buf, sizeof(buf)) < 0) {
		note("%s: %s", file, ename(errno));
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long in, out, count;

		if (sscanf(line, "%lu %lu %lu", &in, &out, &count) != 3)
			continue;
		lines++;
		if (out == 0 || (out < 1 && out + count > 0))
			escaped("%s maps host id 0 (line \"%s\")", file, line);
		if (count > 1)
			escaped("%s maps %lu ids (want one)", file, count);
		if (out == 0 && in == 0 && count == 4294967295UL)
			escaped("%s is the host's identity map (no user namespace)", file);
	}
	note("%s: %d line(s)", file, lines);
}

static int priv_idmap(void)
{
	char buf[32];

	check_map("/proc/self/uid_map");
	check_map("/proc/self/gid_map");
	if (read_file("/proc/self/setgroups", buf, sizeof(buf)) > 0)
		note("setgroups=%.*s", (int)strcspn(buf, "\n"), buf);
	return verdict();
}

/* Every namespace must differ from the host's (inodes passed by the harness). */
static int priv_namespaces(void)
{
	static const char *const ns[] = { "user", "pid", "mnt", "ipc", "uts", "net", "cgroup" };

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char key[32], path[64], link[64];
		const char *host;
		ssize_t n;
		unsigned long ino = 0;

		snprintf(key, sizeof(key), "ns_%s", ns[i]);
		host = arg(key);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0) {
			note("%s ns: %s", ns[i], ename(errno));
			continue;
		}
		link[n] = '\0';
		sscanf(strchr(link, '[') ? strchr(link, '[') + 1 : link, "%lu", &ino);
		if (!host)
			escaped("harness did not pass %s", key);
		else if (ino == strtoul(host, NULL, 10))
			escaped("%s namespace is the host's (%lu)", ns[i], ino);
		else
			note("%s:%lu", ns[i], ino);
	}
	return verdict();
}

/*
 * Execute a binary and watch its credentials in /proc/PID/status until it
 * exits (a zombie keeps them): a setuid or file-capability gain shows up as
 * euid 0 or non-zero capability sets. stdio is /dev/null so nothing blocks.
 */
static void observe_exec(const char *path, char *const argv[])
{
	pid_t pid;
	bool gained = false;
	char uid[128] = "", eff[64] = "", prm[64] = "", what[256] = "";
	int polls = 0;
	siginfo_t si;

	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	for (;;) {
		bool done;

		memset(&si, 0, sizeof(si));
		done = waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
		if (status_field(pid, "Uid", uid, sizeof(uid)) &&
		    status_field(pid, "CapEff", eff, sizeof(eff)) &&
		    status_field(pid, "CapPrm", prm, sizeof(prm))) {
			unsigned ru, eu, su;

			if (sscanf(uid, "%u %u %u", &ru, &eu, &su) == 3 && (eu == 0 || su == 0))
				gained = true;
			if (strtoull(eff, NULL, 16) || strtoull(prm, NULL, 16))
				gained = true;
			if (gained && !what[0])
				snprintf(what, sizeof(what), "Uid %s CapEff %s CapPrm %s", uid, eff, prm);
		}
		if (done || ++polls > 3000)
			break;
		usleep(300);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (gained)
		escaped("%s gained privileges: %s", path, what);
	else
		note("%s: no gain", strrchr(path, '/') + 1);
}

/* The host's setuid-root programs must give nothing (NNP, nosuid, no root map). */
static int priv_setuid_binaries(void)
{
	static const struct {
		const char *path;
		const char *a1;
	} bins[] = {
		{ "/usr/bin/su", "--version" },	      { "/bin/su", "--version" },
		{ "/usr/bin/sudo", "-V" },	      { "/usr/bin/passwd", "--help" },
		{ "/usr/bin/chfn", "--help" },	      { "/usr/bin/chsh", "--help" },
		{ "/usr/bin/gpasswd", "--help" },     { "/usr/bin/mount", "--version" },
		{ "/usr/bin/umount", "--version" },   { "/usr/bin/newuidmap", NULL },
		{ "/usr/bin/newgidmap", NULL },	      { "/usr/bin/pkexec", "--version" },
		{ "/usr/bin/fusermount", "-V" },      { "/usr/bin/fusermount3", "-V" },
		{ "/usr/lib/openssh/ssh-keysign", NULL },
	};
	int tried = 0;

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		struct stat st;
		const char *base;

		if (stat(bins[i].path, &st) < 0 || !(st.st_mode & (S_ISUID | S_ISGID)))
			continue;
		base = strrchr(bins[i].path, '/') + 1;
		tried++;
		observe_exec(bins[i].path,
			     (char *const[]){ (char *)base, (char *)bins[i].a1, NULL });
	}
	/* sudo must not run anything either. */
	if (path_exists("/usr/bin/sudo")) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);

			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			execl("/usr/bin/sudo", "sudo", "-n", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			escaped("sudo -n true succeeded");
	}
	note("%d setuid programs tried", tried);
	return verdict();
}

/* Real setuid-root / file-capability copies of this probe, staged by a root harness. */
static int priv_staged(const char *name, const char *what)
{
	char path[PATH_MAX], out[256];

	snprintf(path, sizeof(path), "%s/%s", self_dir(), name);
	if (!path_exists(path)) {
		note("no staged %s binary (harness not root)", what);
		return 0;
	}
	exec_hello(path, "print-ids", out, sizeof(out));
	if (!strncmp(out, "IDS ", 4)) {
		unsigned r, e;
		unsigned long long ce = 0, cp = 0;

		if (sscanf(out, "IDS %u %u %*u %*u %*u %*u capeff=%llx capprm=%llx", &r, &e, &ce, &cp) >= 2 &&
		    (e == 0 || ce || cp))
			escaped("staged %s binary ran privileged: %.*s", what, (int)strcspn(out, "\n"), out);
		else
			note("staged %s: %.*s", what, (int)strcspn(out, "\n"), out);
	} else {
		note("staged %s exec: %s", what, out[0] ? out : "no output");
	}
	observe_exec(path, (char *const[]){ (char *)"probe", (char *)"hello", NULL });
	return 1;
}

static int priv_staged_suid(void)
{
	priv_staged("probe-suid", "setuid-root");
	return verdict();
}

/* File capabilities (security.capability xattr) must be ignored. */
static int priv_file_caps(void)
{
	static const char *const dirs[] = { "/usr/bin", "/usr/sbin", "/bin", "/sbin" };
	int found = 0;

	priv_staged("probe-fcap", "file-capability");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && found < 3; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d)) && found < 3) {
			char path[PATH_MAX], x[64];

			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			if (getxattr(path, "security.capability", x, sizeof(x)) > 0) {
				found++;
				observe_exec(path, (char *const[]){ de->d_name, (char *)"--version", NULL });
			}
		}
		closedir(d);
	}
	note("%d host binaries with file capabilities tried", found);
	return verdict();
}

/* CAP_SYS_ADMIN in the UTS namespace (hostname re-set to its own value). */
static int priv_sethostname(void)
{
	char name[256], domain[256];

	/* Both are set to their current values: no change even if allowed. */
	if (gethostname(name, sizeof(name)) < 0 || getdomainname(domain, sizeof(domain)) < 0) {
		note("cannot read host/domain name: %s", ename(errno));
		return verdict();
	}
	must_be_refused("sethostname", sethostname(name, strlen(name)), errno);
	must_be_refused("setdomainname", setdomainname(domain, strlen(domain)), errno);
	note("hostname %s", name);
	return verdict();
}

/* Real-time scheduling or negative nice would starve the host's CPUs. */
static int priv_sched(void)
{
	struct sched_param sp = { .sched_priority = 1 };
	int old = getpriority(PRIO_PROCESS, 0);

	if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0) {
		sp.sched_priority = 0;
		sched_setscheduler(0, SCHED_OTHER, &sp);
		escaped("SCHED_FIFO allowed");
	} else {
		note("SCHED_FIFO: %s", ename(errno));
	}
	if (setpriority(PRIO_PROCESS, 0, old - 5) == 0 && getpriority(PRIO_PROCESS, 0) < old) {
		setpriority(PRIO_PROCESS, 0, old);
		escaped("lowered nice below %d", old);
	} else {
		note("nice %d: %s", old - 5, ename(errno));
	}
	/* ioprio_set(IOPRIO_WHO_PROCESS, self, IOPRIO_CLASS_RT) */
	must_fail("ioprio RT", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0), errno);
	return verdict();
}

/* ======================================================================= */
/* system calls                                                            */
/* ======================================================================= */

static void mount_child(void *ctx)
{
	const char *s = ctx;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/m", s);
	mkdir(dir, 0755);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") == 0) {
		escaped("mounted a tmpfs");
		umount2(dir, MNT_DETACH);
	} else {
		note("mount tmpfs: %s", ename(errno));
	}
	if (mount("/", dir, NULL, MS_BIND, NULL) == 0) { /* not MS_REC: less to undo on a host */
		escaped("bind-mounted /");
		umount2(dir, MNT_DETACH);
	} else {
		note("bind /: %s", ename(errno));
	}
	if (mount("proc", dir, "proc", 0, NULL) == 0) {
		escaped("mounted a second proc (unmasked)");
		umount2(dir, MNT_DETACH);
	} else {
		note("mount proc: %s", ename(errno));
	}
	/* Not a mount point: EPERM if refused, EINVAL once the check passed. */
	must_be_refused("umount2(non-mountpoint)", umount2(dir, 0), errno);
	must_be_refused("pivot_root", syscall(SYS_pivot_root, dir, dir), errno);
}

static int sys_mount(void)
{
	const char *s = scratch();

	if (!s) {
		must_be_refused("umount2(/nonexistent)", umount2("/", MNT_EXPIRE), errno);
		return verdict();
	}
	in_child("mount", mount_child, (void *)s);
	return verdict();
}

/* The new mount API (CVE-2022-0185 was reached through fsconfig). */
static void mount_api_child(void *ctx)
{
	long fd;

	(void)ctx;
	fd = syscall(SYS_fsopen, "tmpfs", 0);
	if (fd >= 0) {
		close((int)fd);
		escaped("fsopen(tmpfs) succeeded");
	} else {
		note("fsopen: %s", ename(errno));
	}
	fd = syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE);
	if (fd >= 0) {
		close((int)fd);
		escaped("open_tree(OPEN_TREE_CLONE) succeeded");
	} else {
		note("open_tree: %s", ename(errno));
	}
	fd = syscall(SYS_fspick, AT_FDCWD, "/", 0);
	if (fd >= 0) {
		close((int)fd);
		escaped("fspick(/) succeeded");
	} else {
		note("fspick: %s", ename(errno));
	}
	must_be_refused("move_mount(bad fds)", syscall(SYS_move_mount, -1, "", -1, "", 0), errno);
	must_be_refused("fsmount(bad fd)", syscall(SYS_fsmount, -1, 0, 0), errno);
}

static int sys_mount_api(void)
{
	in_child("mount-api", mount_api_child, NULL);
	return verdict();
}

/* A nested user namespace hands out a full capability set (kernel attack surface). */
static void unshare_one(void *ctx)
{
	long flag = (long)ctx;

	if (unshare((int)flag) == 0)
		escaped("unshare(%#lx) succeeded", flag);
	else
		note("unshare(%#lx): %s", flag, ename(errno));
}

static int sys_unshare_user(void)
{
	in_child("unshare", unshare_one, (void *)(long)CLONE_NEWUSER);
	in_child("unshare", unshare_one, (void *)(long)(CLONE_NEWUSER | CLONE_NEWNS));
	return verdict();
}

static int sys_unshare_other(void)
{
	static const long flags[] = {
		CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS,
		CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */, CLONE_FS | CLONE_NEWNS,
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		in_child("unshare", unshare_one, (void *)flags[i]);
	return verdict();
}

/* Namespaces through clone() and clone3() instead of unshare(). */
static void clone_try(const char *what, unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid((pid_t)r, NULL, 0);
		escaped("clone(%s) created a process", what);
	} else {
		note("clone(%s): %s", what, ename(errno));
	}
}

static int sys_clone_ns(void)
{
	clone_try("NEWUSER", CLONE_NEWUSER);
	clone_try("NEWNS", CLONE_NEWNS);
	clone_try("NEWUSER|NEWPID|NEWNET", CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET);
	return verdict();
}

static int sys_clone3_ns(void)
{
	struct clone_args ca;
	long r;

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWUSER;
	ca.exit_signal = SIGCHLD;
	fflush(stdout);
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid((pid_t)r, NULL, 0);
		escaped("clone3(CLONE_NEWUSER) created a process");
	} else {
		note("clone3(NEWUSER): %s", ename(errno));
	}
	return verdict();
}

static void setns_child(void *ctx)
{
	static const struct {
		const char *path;
		int type;
	} ns[] = {
		{ "/proc/self/ns/mnt", CLONE_NEWNS },	 { "/proc/self/ns/net", CLONE_NEWNET },
		{ "/proc/self/ns/uts", CLONE_NEWUTS },	 { "/proc/1/ns/mnt", CLONE_NEWNS },
		{ "/proc/self/ns/ipc", CLONE_NEWIPC },	 { "/proc/self/ns/cgroup", CLONE_NEWCGROUP },
	};
	int pfd;

	(void)ctx;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		int fd = open(ns[i].path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			note("%s: %s", ns[i].path, ename(errno));
			continue;
		}
		if (setns(fd, ns[i].type) == 0)
			escaped("setns(%s) succeeded", ns[i].path);
		else
			note("setns %s: %s", ns[i].path, ename(errno));
		close(fd);
	}
	pfd = (int)syscall(SYS_pidfd_open, 1, 0);
	if (pfd >= 0) {
		if (setns(pfd, CLONE_NEWNS | CLONE_NEWNET) == 0)
			escaped("setns(pidfd of pid 1) succeeded");
		else
			note("setns pidfd: %s", ename(errno));
		close(pfd);
	}
}

static int sys_setns(void)
{
	in_child("setns", setns_child, NULL);
	return verdict();
}

static void traceme_child(void *ctx)
{
	(void)ctx;
	must_fail("ptrace(PTRACE_TRACEME)", syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0), errno);
}

static int sys_ptrace_traceme(void)
{
	in_child("traceme", traceme_child, NULL);
	return verdict();
}

/* Attaching to pid 1 (the sandbox init) or to our own child. */
static int sys_ptrace_attach(void)
{
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	/* SEIZE does not stop the tracee; our exit detaches. */
	if (!private_pidns()) {
		escaped("not in a private pid namespace (pid 1 not attacked)");
	} else if (getpid() != 1) {
		if (syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0) == 0)
			escaped("ptrace seized pid 1");
		else
			note("seize pid 1: %s", ename(errno));
	}
	if (child > 0) {
		if (syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, child, 0, 0) == 0)
			escaped("ptrace(PTRACE_SEIZE) of own child allowed (ptrace not filtered)");
		else
			note("seize child: %s", ename(errno));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return verdict();
}

/* Keyrings are not namespaced (CVE-2016-0728 and friends). */
static int sys_keyctl(void)
{
	/* KEYCTL_GET_KEYRING_ID(KEY_SPEC_USER_KEYRING, no create) */
	long r = syscall(SYS_keyctl, 0, -4, 0);

	must_fail_("keyctl(GET_KEYRING_ID @u)", r, errno);
	/* KEYCTL_JOIN_SESSION_KEYRING(NULL): anonymous, harmless */
	r = syscall(SYS_keyctl, 1, NULL);
	must_fail_("keyctl(JOIN_SESSION_KEYRING)", r, errno);
	return verdict();
}

static int sys_add_key(void)
{
	long r = syscall(SYS_add_key, "user", "airlock-escape", "x", 1, -2 /* @p */);

	if (r >= 0)
		syscall(SYS_keyctl, 3 /* KEYCTL_REVOKE */, r);
	must_fail_("add_key", r, errno);
	/* With no callout info no upcall happens; ENOKEY means it reached the kernel. */
	r = syscall(SYS_request_key, "user", "airlock-escape-none", NULL, -2);
	must_be_refused_("request_key", r, errno);
	return verdict();
}

static int sys_bpf(void)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd >= 0)
		close((int)fd);
	must_fail_("bpf(BPF_MAP_CREATE)", fd, errno);
	return verdict();
}

/* perf_event_paranoid<=2 lets a process profile itself: only the filter stops this. */
static int sys_perf(void)
{
	struct perf_event_attr pe;
	long fd;

	memset(&pe, 0, sizeof(pe));
	pe.type = PERF_TYPE_SOFTWARE;
	pe.size = sizeof(pe);
	pe.config = PERF_COUNT_SW_TASK_CLOCK;
	pe.disabled = 1;
	pe.exclude_kernel = 1;
	pe.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	must_fail_("perf_event_open", fd, errno);
	return verdict();
}

/* userfaultfd pins kernel threads in exploits (e.g. CVE-2021-22555 chains). */
static int sys_userfaultfd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd >= 0)
		close((int)fd);
	must_fail_("userfaultfd(USER_MODE_ONLY)", fd, errno);
	must_not_open("/dev/userfaultfd", O_RDWR, "read/write");
	return verdict();
}

/* io_uring: a large source of kernel CVEs (e.g. CVE-2022-29582). */
static int sys_io_uring(void)
{
	unsigned char params[256];
	long fd;

	memset(params, 0, sizeof(params));
	fd = syscall(SYS_io_uring_setup, 2, params);
	if (fd >= 0)
		close((int)fd);
	must_fail_("io_uring_setup", fd, errno);
	return verdict();
}

/* Invalid flags: EPERM if refused, EINVAL only after CAP_SYS_BOOT passed. Never loads. */
static int sys_kexec(void)
{
	must_be_refused("kexec_load(invalid flags)",
			syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL), errno);
	must_be_refused("kexec_file_load(invalid flags)",
			syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xdead0000UL), errno);
	return verdict();
}

/* Capability check comes first; the arguments are empty or nonexistent. */
static int sys_modules(void)
{
	must_be_refused("init_module(NULL)", syscall(SYS_init_module, NULL, 0, ""), errno);
	must_be_refused("finit_module(-1)", syscall(SYS_finit_module, -1, "", 0), errno);
	must_be_refused("delete_module(nonexistent)",
			syscall(SYS_delete_module, "airlock_escape_none", O_NONBLOCK), errno);
	return verdict();
}

/*
 * The kernel checks CAP_SYS_BOOT before the magic numbers, so a call with
 * invalid magic returns EPERM when refused and EINVAL when it would have been
 * allowed. A valid magic is never used.
 */
static int sys_reboot(void)
{
	long r = syscall(SYS_reboot, 0x0badc0deUL, 0x0badc0deUL, LINUX_REBOOT_CMD_CAD_ON, NULL);

	must_be_refused_("reboot(invalid magic)", r, errno);
	return verdict();
}

static int sys_swapon(void)
{
	must_be_refused("swapon(nonexistent)", syscall(SYS_swapon, "/nonexistent-airlock-swap", 0), errno);
	must_be_refused("swapoff(nonexistent)",
			syscall(SYS_swapoff, "/nonexistent-airlock-swap"), errno);
	return verdict();
}

static int sys_acct(void)
{
	must_be_refused("acct(nonexistent)", syscall(SYS_acct, "/nonexistent-airlock-acct"), errno);
	return verdict();
}

/* ADDR_NO_RANDOMIZE / READ_IMPLIES_EXEC weaken ASLR and NX for exploits. */
static int sys_personality(void)
{
	static const unsigned long bad[] = { ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT };
	int cur = personality(0xffffffff);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = personality((unsigned long)cur | bad[i]);

		if (r != -1 && (personality(0xffffffff) & (int)bad[i])) {
			escaped("personality(%#lx) allowed", bad[i]);
			personality((unsigned long)cur);
		} else {
			note("personality(%#lx): %s", bad[i], r == -1 ? ename(errno) : "no effect");
		}
	}
	return verdict();
}

static int sys_quotactl(void)
{
	int fmt;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* Q_GETFMT needs no capability: only the filter can refuse it. */
	must_be_refused("quotactl(Q_GETFMT)",
			syscall(SYS_quotactl, QCMD_GETFMT, "/dev/vda", 0, &fmt), errno);
	if (fd >= 0) {
		must_be_refused("quotactl_fd", syscall(SYS_quotactl_fd, fd, QCMD_GETFMT, 0, &fmt),
				errno);
		close(fd);
	}
	return verdict();
}

static int sys_settime(void)
{
	/* Both NULL: the capability check runs, nothing is changed either way. */
	must_be_refused("settimeofday(NULL,NULL)", syscall(SYS_settimeofday, NULL, NULL), errno);
	return verdict();
}

static int sys_ioport(void)
{
#if defined(__x86_64__)
	if (syscall(SYS_iopl, 3) == 0) {
		syscall(SYS_iopl, 0);
		escaped("iopl(3) allowed");
	} else {
		note("iopl: %s", ename(errno));
	}
	if (syscall(SYS_ioperm, 0x80, 1, 1) == 0) {
		syscall(SYS_ioperm, 0x80, 1, 0);
		escaped("ioperm(0x80) allowed");
	} else {
		note("ioperm: %s", ename(errno));
	}
#else
	note("no port I/O on this architecture");
#endif
	return verdict();
}

static int sys_syslog(void)
{
	char buf[64];

	/* Read-only actions only: CONSOLE_OFF & co. would change the host. */
	must_fail("syslog(READ_ALL)", klogctl(3, buf, sizeof(buf)), errno);
	must_fail("syslog(SIZE_BUFFER)", klogctl(10, NULL, 0), errno);
	return verdict();
}

/* vhangup() hangs up the controlling terminal; only tried without one. */
static int sys_vhangup(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		escaped("have a controlling terminal, vhangup not tried");
		return verdict();
	}
	must_be_refused("vhangup", syscall(SYS_vhangup), errno);
	return verdict();
}

/*
 * Filters that check only x86_64 syscall numbers are bypassed through the
 * i386 entry (int $0x80) or the x32 ABI; both must be refused or killed.
 */
#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return (int)ret;
}

static void i386_child(void *ctx)
{
	static const struct {
		const char *name;
		long nr, a, b, c;
	} calls[] = {
		{ "unshare(NEWUSER)", 310, CLONE_NEWUSER, 0, 0 },
		{ "keyctl(GET_KEYRING_ID)", 288, 0, -3, 0 },
		{ "userfaultfd", 374, O_CLOEXEC | UFFD_USER_MODE_ONLY, 0, 0 },
		{ "ptrace(TRACEME)", 26, 0, 0, 0 },
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long r = int80(calls[i].nr, calls[i].a, calls[i].b, calls[i].c);

		if (r >= 0)
			escaped("i386 %s succeeded", calls[i].name);
		else
			note("i386 %s: %s", calls[i].name, ename((int)-r));
	}
}

static void x32_child(void *ctx)
{
	(void)ctx;
	must_fail("x32 unshare(NEWUSER)", syscall(0x40000000 | SYS_unshare, CLONE_NEWUSER), errno);
	must_fail("x32 keyctl", syscall(0x40000000 | SYS_keyctl, 0, -3, 0), errno);
}
#endif

static int sys_i386_abi(void)
{
#if defined(__x86_64__)
	in_child("i386", i386_child, NULL);
#else
	note("not x86_64");
#endif
	return verdict();
}

static int sys_x32_abi(void)
{
#if defined(__x86_64__)
	in_child("x32", x32_child, NULL);
#else
	note("not x86_64");
#endif
	return verdict();
}

/* ======================================================================= */
/* terminal                                                                */
/* ======================================================================= */

static int tty_devtty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		if (isatty(fd))
			escaped("opened /dev/tty: a controlling terminal is attached");
		else
			note("/dev/tty opens but is not a terminal");
		close(fd);
	} else {
		note("/dev/tty: %s", ename(errno));
	}
	note("tty_nr in stat checked");
	{
		char buf[1024];
		int tty_nr = 0;
		char *p;

		if (read_file("/proc/self/stat", buf, sizeof(buf)) > 0 && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr) == 1 && tty_nr != 0)
			escaped("controlling tty %#x in /proc/self/stat", tty_nr);
	}
	return verdict();
}

/* CVE-2017-5226 (bubblewrap): TIOCSTI pushes keystrokes into the host terminal. */
static void tiocsti_fd(int fd, const char *what)
{
	char c = ' ';

	if (!isatty(fd)) {
		note("%s not a tty", what);
		return;
	}
	if (ioctl(fd, TIOCSTI, &c) == 0)
		escaped("TIOCSTI on %s injected a keystroke (CVE-2017-5226)", what);
	else
		note("TIOCSTI %s: %s", what, ename(errno));
}

static int tty_tiocsti(void)
{
	char what[64];
	int fd;

	for (int i = 0; i < 3; i++) {
		snprintf(what, sizeof(what), "fd %d", i);
		tiocsti_fd(i, what);
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		tiocsti_fd(fd, "/dev/tty");
		close(fd);
	}
	if (getpid() != 1 && private_pidns())
		for (int i = 0; i < 3; i++) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/1/fd/%d", i);
			fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0) {
				tiocsti_fd(fd, path);
				close(fd);
			}
		}
	return verdict();
}

/* TIOCLINUX reaches the virtual console (selection paste injects input). */
static int tty_tioclinux(void)
{
	static const char *const cons[] = { "/dev/tty0", "/dev/tty1", "/dev/console" };

	for (int i = 0; i < 3; i++) {
		char sub = TIOCL_GETSHIFTSTATE;

		if (ioctl(i, TIOCLINUX, &sub) == 0)
			escaped("TIOCLINUX on fd %d works (virtual console)", i);
		else
			note("TIOCLINUX fd %d: %s", i, ename(errno));
	}
	for (size_t i = 0; i < sizeof(cons) / sizeof(cons[0]); i++) {
		int fd = open(cons[i], O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		char sub = TIOCL_GETSHIFTSTATE;

		if (fd < 0)
			continue;
		if (ioctl(fd, TIOCLINUX, &sub) == 0)
			escaped("TIOCLINUX on %s works", cons[i]);
		close(fd);
	}
	return verdict();
}

/* A new session must not be able to adopt the host terminal as its ctty. */
static void tiocscty_child(void *ctx)
{
	(void)ctx;
	if (setsid() < 0)
		note("setsid: %s", ename(errno));
	for (int i = 0; i < 3; i++) {
		if (!isatty(i)) {
			note("fd %d not a tty", i);
			continue;
		}
		/* Never steal (arg 1): run by hand as root that would take the
		 * user's terminal. Stealing needs CAP_SYS_ADMIN, see priv-caps. */
		if (ioctl(i, TIOCSCTTY, 0) == 0) {
			escaped("TIOCSCTTY on fd %d made the caller's terminal ours", i);
			ioctl(i, TIOCNOTTY);
		} else {
			note("TIOCSCTTY fd %d: %s", i, ename(errno));
		}
	}
}

static int tty_tiocscty(void)
{
	in_child("tiocscty", tiocscty_child, NULL);
	return verdict();
}

/* Opening the VM/host consoles for writing (never written). */
static int tty_console(void)
{
	static const char *const cons[] = {
		"/dev/console", "/dev/tty0", "/dev/tty1", "/dev/ttyS0", "/dev/hvc0",
		"/dev/vcs", "/dev/vcsa", "/dev/tty63",
	};

	for (size_t i = 0; i < sizeof(cons) / sizeof(cons[0]); i++)
		must_not_open(cons[i], O_WRONLY, "writing");
	return verdict();
}

/* Host pseudo-terminals must not be visible in /dev/pts (own devpts instance). */
static int tty_host_pts(void)
{
	DIR *d = opendir("/dev/pts");
	struct dirent *de;
	struct stat own[3];
	bool have[3];
	int n = 0;

	for (int i = 0; i < 3; i++)
		have[i] = fstat(i, &own[i]) == 0 && S_ISCHR(own[i].st_mode);
	if (!d) {
		note("/dev/pts: %s", ename(errno));
		return verdict();
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		bool mine = false;
		int fd;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "ptmx"))
			continue;
		snprintf(path, sizeof(path), "/dev/pts/%s", de->d_name);
		if (stat(path, &st) < 0)
			continue;
		n++;
		for (int i = 0; i < 3; i++)
			if (have[i] && own[i].st_rdev == st.st_rdev)
				mine = true;
		if (mine) {
			note("%s is our own stdio", path);
			continue;
		}
		fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			escaped("opened foreign terminal %s", path);
		} else {
			note("%s: %s", path, ename(errno));
		}
	}
	closedir(d);
	note("%d pty entries", n);
	return verdict();
}

/* ======================================================================= */
/* IPC                                                                     */
/* ======================================================================= */

static void sysv_lookup(const char *what, const char *key, int (*get)(key_t))
{
	const char *v = arg(key);
	int id;

	if (!v) {
		note("no host %s to look for (not supported on this host)", what);
		return;
	}
	id = get((key_t)strtol(v, NULL, 0));
	if (id >= 0)
		escaped("found the host's %s (key %s, id %d)", what, v, id);
	else if (errno == ENOENT || errno == EPERM || errno == ENOSYS)
		note("%s %s: %s", what, v, ename(errno));
	else
		escaped("host %s exists (%s)", what, ename(errno));
}

static int get_shm(key_t k)
{
	return shmget(k, 0, 0);
}
static int get_msg(key_t k)
{
	return msgget(k, 0);
}
static int get_sem(key_t k)
{
	return semget(k, 0, 0);
}

static int ipc_sysv_shm(void)
{
	sysv_lookup("SysV shm segment", "shm_key", get_shm);
	return verdict();
}

static int ipc_sysv_msg(void)
{
	sysv_lookup("SysV message queue", "msg_key", get_msg);
	return verdict();
}

static int ipc_sysv_sem(void)
{
	sysv_lookup("SysV semaphore set", "sem_key", get_sem);
	return verdict();
}

/* /proc/sysvipc lists every object of the IPC namespace. */
static int ipc_sysvipc_proc(void)
{
	static const char *const files[] = { "/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem" };
	char buf[65536];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ssize_t n = read_file(files[i], buf, sizeof(buf));
		int lines = 0;

		for (ssize_t j = 0; j < n; j++)
			lines += buf[j] == '\n';
		if (lines > 1)
			escaped("%s lists %d objects", files[i], lines - 1);
		else
			note("%s: %s", files[i], n < 0 ? ename(errno) : "empty");
	}
	return verdict();
}

static int ipc_posix_mq(void)
{
	const char *name = arg("mq_name");
	mqd_t q;

	if (!name) {
		note("no host mq_name to look for (not supported on this host)");
		return verdict();
	}
	q = mq_open(name, O_RDONLY);
	if (q != (mqd_t)-1) {
		mq_close(q);
		escaped("opened the host's POSIX message queue %s", name);
	} else if (errno == ENOENT || errno == ENOSYS || errno == EPERM) {
		note("mq %s: %s", name, ename(errno));
	} else {
		escaped("host message queue %s exists (%s)", name, ename(errno));
	}
	return verdict();
}

static int ipc_posix_shm(void)
{
	const char *name = arg("posix_shm");
	char path[PATH_MAX];
	int fd;

	if (!name) {
		note("no host posix_shm to look for (not supported on this host)");
		return verdict();
	}
	fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0) {
		close(fd);
		escaped("opened the host's /dev/shm%s", name);
	} else {
		note("shm_open %s: %s", name, ename(errno));
	}
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	if (path_exists(path))
		escaped("%s visible", path);
	return verdict();
}

/* ======================================================================= */
/* network                                                                 */
/* ======================================================================= */

static bool parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return false;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	port = strtol(colon + 1, NULL, 10);
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET, host, &a->sin_addr) == 1;
	}
}

/* TCP (or MPTCP) connect with a short timeout; 0 = connected. */
static int stream_connect(const struct sockaddr_storage *ss, socklen_t len, int proto, int *err)
{
	int s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	int r;

	if (s < 0) {
		*err = errno;
		return -2;
	}
	r = connect(s, (const struct sockaddr *)ss, len);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = { s, POLLOUT, 0 };
		socklen_t el = sizeof(*err);

		if (poll(&p, 1, 2000) == 1) {
			getsockopt(s, SOL_SOCKET, SO_ERROR, err, &el);
			r = *err ? -1 : 0;
		} else {
			*err = ETIMEDOUT;
			r = -1;
		}
	} else if (r < 0) {
		*err = errno;
	}
	if (r == 0) {
		ignore_result(write(s, "airlock-escape\n", 15));
		usleep(20000);
	}
	close(s);
	return r;
}

static int net_connect_to(const char *key, int proto, const char *what)
{
	const char *v = arg(key);
	struct sockaddr_storage ss;
	socklen_t len;
	int err = 0, r;

	if (!v || !*v) {
		note("%s: no host listener (%s not available)", what, key);
		return verdict();
	}
	if (!parse_addr(v, &ss, &len)) {
		escaped("bad %s=%s", key, v);
		return verdict();
	}
	r = stream_connect(&ss, len, proto, &err);
	if (r == 0)
		escaped("%s: connected to host listener %s", what, v);
	else
		note("%s %s: %s%s", what, v, r == -2 ? "socket " : "", ename(err));
	return verdict();
}

static int net_tcp_lo(void)
{
	return net_connect_to("tcp_lo", 0, "TCP");
}
static int net_tcp_host(void)
{
	return net_connect_to("tcp_host", 0, "TCP");
}
static int net_tcp6_lo(void)
{
	return net_connect_to("tcp6_lo", 0, "TCP6");
}
/* Landlock's TCP rules did not cover MPTCP at first: same listener, other protocol. */
static int net_mptcp_lo(void)
{
	return net_connect_to("tcp_lo", IPPROTO_MPTCP, "MPTCP");
}

/* UDP sendto "succeeds" locally either way: the harness checks its listener. */
static int net_udp_to(const char *key)
{
	const char *v = arg(key);
	struct sockaddr_storage ss;
	socklen_t len;
	int s;

	if (!v || !*v) {
		note("no host UDP listener (%s)", key);
		return verdict();
	}
	if (!parse_addr(v, &ss, &len)) {
		escaped("bad %s=%s", key, v);
		return verdict();
	}
	s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		note("socket: %s", ename(errno));
		return verdict();
	}
	for (int i = 0; i < 3; i++) {
		ssize_t n = sendto(s, "airlock-escape-udp", 18, 0, (struct sockaddr *)&ss, len);

		if (i == 0)
			note("sendto %s: %s (listener checked by harness)", v, n < 0 ? ename(errno) : "sent");
	}
	close(s);
	return verdict();
}

static int net_udp_lo(void)
{
	return net_udp_to("udp_lo");
}
static int net_udp_host(void)
{
	return net_udp_to("udp_host");
}

static int net_raw(void)
{
	static const struct {
		int fam, type, proto;
		const char *name;
	} socks[] = {
		{ AF_INET, SOCK_RAW, IPPROTO_ICMP, "raw ICMP" },
		{ AF_INET, SOCK_RAW, IPPROTO_RAW, "raw IP" },
		{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "raw ICMPv6" },
		{ AF_INET, SOCK_RAW, IPPROTO_TCP, "raw TCP" },
	};

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		int s = socket(socks[i].fam, socks[i].type | SOCK_CLOEXEC, socks[i].proto);

		if (s >= 0) {
			close(s);
			escaped("%s socket created (CAP_NET_RAW)", socks[i].name);
		} else {
			note("%s: %s", socks[i].name, ename(errno));
		}
	}
	return verdict();
}

/* AF_PACKET: CVE-2017-7308, CVE-2020-14386. */
static int net_packet(void)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (s >= 0) {
		close(s);
		escaped("AF_PACKET socket created");
	} else {
		note("AF_PACKET: %s", ename(errno));
	}
	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s >= 0) {
		close(s);
		escaped("AF_PACKET dgram socket created");
	}
	return verdict();
}

/* UDP connect() only picks a route; nothing is sent. */
static void route_check(const char *what, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s;

	if (!parse_addr(addr, &ss, &len))
		return;
	s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		note("%s socket: %s", what, ename(errno));
		return;
	}
	if (connect(s, (struct sockaddr *)&ss, len) == 0)
		escaped("%s: a route to %s exists", what, addr);
	else
		note("%s %s: %s", what, addr, ename(errno));
	close(s);
}

static int net_dns_route(void)
{
	route_check("DNS", "8.8.8.8:53");
	route_check("DNS", "1.1.1.1:53");
	{
		/* The host's own resolver from resolv.conf. */
		FILE *f = fopen("/etc/resolv.conf", "re");
		char line[256], ns[128], addr[160];

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "nameserver %127s", ns) == 1 && !strchr(ns, ':') &&
			    strncmp(ns, "127.", 4)) {
				snprintf(addr, sizeof(addr), "%s:53", ns);
				route_check("resolver", addr);
			}
		if (f)
			fclose(f);
	}
	return verdict();
}

static int net_metadata_route(void)
{
	route_check("metadata", "169.254.169.254:80");
	route_check("private", "10.0.0.1:80");
	route_check("private", "192.168.0.1:80");
	return verdict();
}

static int net_ipv6_route(void)
{
	route_check("IPv6", "[2001:4860:4860::8888]:53");
	route_check("IPv6 metadata", "[fd00:ec2::254]:80");
	return verdict();
}

/* ping sockets: creation may be allowed, but no route may exist. */
static int net_icmp_route(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	inet_pton(AF_INET, "8.8.8.8", &a.sin_addr);
	if (s < 0) {
		note("ping socket: %s", ename(errno));
		return verdict();
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		escaped("ICMP route to 8.8.8.8 exists");
	else
		note("ICMP connect 8.8.8.8: %s", ename(errno));
	close(s);
	return verdict();
}

static int net_getaddrinfo(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int r = getaddrinfo("example.com", "80", &hints, &res);

	if (r == 0) {
		char host[INET6_ADDRSTRLEN] = "?";

		getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
		escaped("resolved example.com to %s", host);
		freeaddrinfo(res);
	} else {
		note("getaddrinfo(example.com): %s", gai_strerror(r));
	}
	return verdict();
}

static int unix_connect(const char *path, bool abstract, int *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0) {
		*err = errno;
		return -2;
	}
	if (abstract) {
		snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "%s", path);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		len = sizeof(a);
	}
	r = connect(s, (struct sockaddr *)&a, len);
	*err = r < 0 ? errno : 0;
	if (r == 0)
		ignore_result(write(s, "airlock-escape\n", 15));
	close(s);
	return r;
}

static int net_abstract_unix(void)
{
	const char *name = arg("abstract");
	int err;

	if (!name) {
		escaped("harness did not pass abstract");
		return verdict();
	}
	if (unix_connect(name, true, &err) == 0)
		escaped("connected to the host's abstract socket @%s", name);
	else
		note("@%s: %s", name, ename(err));
	return verdict();
}

static int net_unix_path(void)
{
	const char *path = arg("unix_path");
	char alt[PATH_MAX];
	int err;

	if (!path) {
		escaped("harness did not pass unix_path");
		return verdict();
	}
	if (unix_connect(path, false, &err) == 0)
		escaped("connected to the host's unix socket %s", path);
	else
		note("%s: %s", path, ename(err));
	snprintf(alt, sizeof(alt), "/proc/1/root%s", path);
	if (unix_connect(alt, false, &err) == 0)
		escaped("connected to the host socket via %s", alt);
	/* Well-known host services. */
	static const char *const known[] = {
		"/run/docker.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket",
		"/run/systemd/private", "/run/containerd/containerd.sock",
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (unix_connect(known[i], false, &err) == 0)
			escaped("connected to %s", known[i]);
	return verdict();
}

/* Change the network: add 127.0.0.77/32 to lo over rtnetlink (removed at once). */
static int rtnl_addr(int s, int type, unsigned ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	struct rtattr *rta;
	struct in_addr a;
	char buf[4096];
	ssize_t n;

	memset(&req, 0, sizeof(req));
	inet_pton(AF_INET, "127.0.0.77", &a);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = (unsigned short)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = 32;
	req.ifa.ifa_scope = RT_SCOPE_HOST;
	req.ifa.ifa_index = ifindex;
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = IFA_LOCAL;
	rta->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(rta), &a, 4);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_LENGTH(4);
	if (send(s, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return n < 0 ? -errno : -EIO;
	if (((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(buf))->error;
	return -EIO;
}

static int net_netlink_addr(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	unsigned lo = if_nametoindex("lo");
	int r;

	if (s < 0) {
		note("netlink: %s", ename(errno));
		return verdict();
	}
	r = rtnl_addr(s, RTM_NEWADDR, lo ? lo : 1);
	if (r == 0) {
		rtnl_addr(s, RTM_DELADDR, lo ? lo : 1);
		escaped("added an address to lo over rtnetlink (CAP_NET_ADMIN)");
	} else {
		note("RTM_NEWADDR: %s", ename(-r));
	}
	close(s);
	return verdict();
}

/* Only loopback: no host interface, no host address. */
static int net_interfaces(void)
{
	struct ifaddrs *ifs, *i;
	const char *host = arg("host_addr");
	int n = 0;

	if (getifaddrs(&ifs) < 0) {
		note("getifaddrs: %s", ename(errno));
		return verdict();
	}
	for (i = ifs; i; i = i->ifa_next) {
		char addr[INET6_ADDRSTRLEN] = "";

		n++;
		if (strcmp(i->ifa_name, "lo"))
			escaped("interface %s visible", i->ifa_name);
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
		if (host && *host && !strcmp(addr, host))
			escaped("host address %s present", host);
	}
	freeifaddrs(ifs);
	note("%d interface addresses, loopback only", n);
	return verdict();
}

/*
 * vsock is not network-namespaced: on a VM (Firecracker, Kata, QEMU) CID 2
 * is the hypervisor's host side, whatever the sandbox's netns says. Nothing
 * is connected (that would reach the host's services); a socket that can be
 * created and listen on a random port shows the path is open both ways.
 */
static int net_vsock(void)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0) {
		note("AF_VSOCK: %s", ename(errno));
		return verdict();
	}
	a.svm_port = 40000 + (unsigned)(getpid() % 20000);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 1) == 0)
		escaped("AF_VSOCK socket listens on vsock port %u: vsock bypasses the network namespace "
			"(host/hypervisor CID 2 reachable; connect not attempted)", a.svm_port);
	else
		escaped("AF_VSOCK socket created (bind: %s): vsock bypasses the network namespace "
			"(connect to CID 2 not attempted)", ename(errno));
	close(s);
	return verdict();
}

/* Listening for ingress: TCP bind is denied by Landlock (ABI >= 4). */
static int net_tcp_bind(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
	const char *lo = arg("tcp_lo");
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);

	if (s < 0) {
		note("socket: %s", ename(errno));
		return verdict();
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
		if (abi >= 4)
			escaped("bound 0.0.0.0:8080 (Landlock ABI %ld should deny)", abi);
		else
			note("bound 0.0.0.0:8080 but Landlock ABI %ld has no network rules", abi);
	} else {
		note("bind 0.0.0.0:8080: %s", ename(errno));
	}
	close(s);
	/* The host listener's port: EADDRINUSE would mean the host's network ns. */
	if (lo && strrchr(lo, ':')) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		a.sin_port = htons((uint16_t)atoi(strrchr(lo, ':') + 1));
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE)
			escaped("host port %s is in use here: host network namespace", lo);
		if (s >= 0)
			close(s);
	}
	return verdict();
}

/* ======================================================================= */
/* egress gateway                                                          */
/* ======================================================================= */

/*
 * With --allow-host '*:*' the sandbox reaches the egress gateway at
 * 127.0.0.1:3128 (inside its own network namespace; the gateway itself runs
 * outside). That allowlist lets everything public through, so what must
 * still hold is the gateway's address-range rule (loopback, private,
 * link-local, metadata, this host's own addresses: 403 / SOCKS 0x02 unless an
 * address entry names them), its refusal of malformed hosts (400), and the
 * netns/Landlock fence around the proxy port. The probes only ask the
 * gateway for loopback, this machine's own addresses and the cloud metadata
 * addresses; on a broken gateway the host listeners log the contact, and a
 * 502/504 shows the gateway tried to connect.
 *
 * arg gateway=ADDR:PORT replaces 127.0.0.1:3128 (the selftest points the
 * probes at `probe host-proxy`, a deliberately naive proxy).
 */
#define GW_DEFAULT "127.0.0.1:3128"
#define GW_WAIT_MS 5000		/* an answer to a refused request */
#define GW_CONNECT_WAIT_MS 12000	/* longer than the gateway's 10 s connect timeout */
#define GW_BUDGET_MS 70000	/* the whole probe, below the harness's 90 s */
#define GW_TEST_NAME "airlock-escape.invalid" /* syntactically public, never resolves (RFC 6761) */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long g_gw_deadline;

/* What the gateway said, for the CONTAINED line. */
static struct {
	int requests, answered;
	int http[6];	 /* 400 403 404-499 502 503-504 other */
	int socks[9];	 /* reply codes 0..8 */
	int closed;	 /* closed without an answer */
} g_gw;

static const char *gw_addr(void)
{
	const char *v = arg("gateway");

	return v && *v ? v : GW_DEFAULT;
}

static int gw_wait(int want_ms)
{
	long long left;

	if (!g_gw_deadline)
		g_gw_deadline = mono_ms() + GW_BUDGET_MS;
	left = g_gw_deadline - mono_ms();
	if (left < 500)
		left = 500;
	return want_ms < left ? want_ms : (int)left;
}

/* A blocking connection to the gateway, or -1 with errno. */
static int gw_open(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv = { 5, 0 };
	int s, e;

	if (!parse_addr(gw_addr(), &ss, &len)) {
		errno = EINVAL;
		return -1;
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&ss, len) < 0) {
		e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* Is the gateway there at all? Without it every proxy probe is vacuous. */
static bool gw_present(void)
{
	int s = gw_open();

	if (s < 0) {
		escaped("no gateway at %s (%s): the proxy attacks could not run", gw_addr(), ename(errno));
		return false;
	}
	close(s);
	return true;
}

static bool send_all(int s, const void *p, size_t n)
{
	const char *b = p;

	while (n) {
		ssize_t k = send(s, b, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

/* Is buf a whole answer: an HTTP head and the body its Content-Length
 * announces, or a SOCKS5 reply (10 bytes for the IPv4 form the gateway uses)? */
static bool gw_complete(const char *buf, size_t len, bool socks)
{
	const char *eoh, *cl;
	size_t body;

	if (socks)
		return len >= 10;
	eoh = strstr(buf, "\r\n\r\n");
	if (!eoh)
		return false;
	cl = strcasestr(buf, "\r\ncontent-length:");
	body = cl && cl < eoh ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
	return len >= (size_t)(eoh + 4 - buf) + body;
}

/* Read into buf (NUL-terminated) until `need` bytes (need == 0: a whole HTTP
 * answer), EOF (*eof), an error or timeout_ms. Returns the bytes read. */
static size_t gw_read(int s, char *buf, size_t cap, size_t need, int timeout_ms, bool *eof)
{
	long long end = mono_ms() + timeout_ms;
	size_t len = 0;

	buf[0] = '\0';
	*eof = false;
	while (len + 1 < cap && (need ? len < need : !gw_complete(buf, len, false))) {
		struct pollfd p = { s, POLLIN, 0 };
		long long left = end - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		n = recv(s, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			*eof = true;
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

static int http_status_of(const char *resp)
{
	int st;

	return sscanf(resp, "HTTP/1.%*d %d", &st) == 1 ? st : -1;
}

/* The gateway's X-Airlock-Reason header, or the status line. */
static const char *http_reason_of(const char *resp)
{
	static char out[4][200];
	static int slot;
	const char *r = strcasestr(resp, "\r\nx-airlock-reason:");
	size_t n;

	slot = (slot + 1) % 4;
	r = r ? r + 19 : resp;
	r += strspn(r, " ");
	n = strcspn(r, "\r\n");
	snprintf(out[slot], sizeof(out[slot]), "%.*s", (int)(n < 190 ? n : 190), r);
	return out[slot];
}

/*
 * Results: an HTTP status or a SOCKS5 reply code (>= 0), or
 *   -1 no answer within the wait, connection still open
 *   -2 no gateway to connect to
 *   -3 SOCKS5 greeting refused
 *   -4 closed without an answer
 */
#define GW_TIMEOUT (-1)
#define GW_NONE (-2)
#define GW_GREETING (-3)
#define GW_CLOSED (-4)

static int gw_result(const char *buf, size_t len, bool socks, bool eof)
{
	if (socks && len >= 2)
		return (unsigned char)buf[1];
	if (!socks && http_status_of(buf) > 0)
		return http_status_of(buf);
	return eof ? GW_CLOSED : GW_TIMEOUT;
}

static void gw_count(int r, bool socks)
{
	if (r < 0) {
		if (r == GW_CLOSED || r == GW_TIMEOUT)
			g_gw.closed++;
		return;
	}
	g_gw.answered++;
	if (socks && r < 9)
		g_gw.socks[r]++;
	else if (r == 400)
		g_gw.http[0]++;
	else if (r == 403)
		g_gw.http[1]++;
	else if (r > 403 && r < 500)
		g_gw.http[2]++;
	else if (r == 502)
		g_gw.http[3]++;
	else if (r == 503 || r == 504)
		g_gw.http[4]++;
	else if (!socks)
		g_gw.http[5]++;
}

/* A success: say something, as a client would (the listener logs it). */
static void gw_finish(int s, int r, bool socks)
{
	if ((!socks && r >= 200 && r < 300) || (socks && r == 0))
		ignore_result(send(s, "airlock-escape\n", 15, MSG_NOSIGNAL));
	close(s);
	gw_count(r, socks);
}

/* A fresh connection with req sent: the fd, or GW_NONE / GW_CLOSED. */
static int gw_start_http(const char *req)
{
	int s = gw_open();

	if (s < 0)
		return GW_NONE;
	g_gw.requests++;
	if (!send_all(s, req, strlen(req))) {
		close(s);
		g_gw.closed++;
		return GW_CLOSED;
	}
	return s;
}

/* SOCKS5 without authentication: the greeting answered, the CONNECT request
 * sent. The fd, or GW_NONE / GW_GREETING (*why says how). */
static int gw_start_socks(int atyp, const void *addr, size_t alen, uint16_t port, char *why, size_t wsize)
{
	unsigned char req[300];
	char resp[16];
	size_t n = 0;
	bool eof;
	int s = gw_open();

	why[0] = '\0';
	if (s < 0)
		return GW_NONE;
	g_gw.requests++;
	if (!send_all(s, "\x05\x01\x00", 3) || gw_read(s, resp, sizeof(resp), 2, gw_wait(GW_WAIT_MS), &eof) < 2) {
		close(s);
		g_gw.closed++;
		snprintf(why, wsize, "no answer to the greeting");
		return GW_GREETING;
	}
	if (resp[0] != 5 || resp[1] != 0) {
		close(s);
		g_gw.answered++;
		snprintf(why, wsize, "greeting answered %02x %02x", (unsigned char)resp[0], (unsigned char)resp[1]);
		return GW_GREETING;
	}
	req[n++] = 5;
	req[n++] = 1;
	req[n++] = 0;
	req[n++] = (unsigned char)atyp;
	if (atyp == 3)
		req[n++] = (unsigned char)alen;
	memcpy(req + n, addr, alen);
	n += alen;
	req[n++] = (unsigned char)(port >> 8);
	req[n++] = (unsigned char)port;
	if (!send_all(s, req, n)) {
		close(s);
		g_gw.closed++;
		snprintf(why, wsize, "request not sent");
		return GW_GREETING;
	}
	return s;
}

/* One HTTP request on a fresh connection, waited for: the result. */
static int gw_http(const char *req, char *resp, size_t cap, int wait_ms)
{
	int s = gw_start_http(req), r;
	bool eof;
	size_t len;

	resp[0] = '\0';
	if (s < 0)
		return s;
	len = gw_read(s, resp, cap, 0, gw_wait(wait_ms), &eof);
	r = gw_result(resp, len, false, eof);
	gw_finish(s, r, false);
	return r;
}

/* One SOCKS5 CONNECT on a fresh connection, waited for: the result. */
static int gw_socks(int atyp, const void *addr, size_t alen, uint16_t port, int wait_ms, char *why,
		    size_t wsize)
{
	int s = gw_start_socks(atyp, addr, alen, port, why, wsize), r;
	char resp[64];
	bool eof;
	size_t len;

	if (s < 0)
		return s;
	len = gw_read(s, resp, sizeof(resp), 10, gw_wait(wait_ms), &eof);
	r = gw_result(resp, len, true, eof);
	gw_finish(s, r, true);
	return r;
}

/* How a refusal must look. */
enum gw_want {
	GW_DENY,	/* any refusal (400/403/501, SOCKS 01/02/07/08, the name does not
			 * resolve, or closed without an answer); a tunnel or an attempt
			 * to connect is an escape */
	GW_403,		/* exactly 403 / SOCKS 0x02 */
	GW_403_OR_NAME, /* 403, or the name does not resolve here */
	GW_NO_TUNNEL,	/* anything but a success (the listener log tells contact) */
};

static bool reason_is_resolve(const char *reason)
{
	return strstr(reason, "resolve") || strstr(reason, "no address");
}

static void gw_judge_http(const char *what, const char *target, int st, const char *resp,
			  enum gw_want want, const char *attempt_what)
{
	const char *reason = http_reason_of(resp);

	if (st == GW_NONE) {
		escaped("%s %s: no gateway at %s", what, target, gw_addr());
	} else if (st >= 200 && st < 300) {
		escaped("%s %s: %d through the gateway (%s)", what, target, st, reason);
	} else if (want == GW_NO_TUNNEL) {
		if (st > 0 && strstr(reason, "127.0.0.1"))
			escaped("%s %s: %d, the gateway went for 127.0.0.1 (%s)", what, target, st, reason);
	} else if ((st == 502 || st == 504) && !reason_is_resolve(reason)) {
		escaped("%s %s: %d: the gateway attempted a connection to %s (%s)", what, target, st,
			attempt_what, reason);
	} else if (st == 403) {
		/* what GW_403 wants, and a refusal for the others */
	} else if (st == 502 && (want == GW_DENY || want == GW_403_OR_NAME)) {
		/* the name does not resolve here */
	} else if ((st == 400 || st == 501) && want == GW_DENY) {
		/* malformed host or URI */
	} else if (st == GW_CLOSED && want != GW_403) {
		/* refused without a word (counted in the summary) */
	} else if (st == GW_TIMEOUT) {
		escaped("%s %s: no answer within %d s (the gateway may be connecting)", what, target,
			GW_CONNECT_WAIT_MS / 1000);
	} else if (st == GW_CLOSED) {
		escaped("%s %s: expected 403, the gateway closed without an answer", what, target);
	} else {
		escaped("%s %s: expected %s, got %d (%s)", what, target,
			want == GW_DENY ? "a refusal (400/403)" : "403", st, reason);
	}
}

static void gw_judge_socks(const char *what, const char *target, int rep, const char *why,
			   enum gw_want want, const char *attempt_what)
{
	if (rep == GW_NONE)
		escaped("%s %s: no gateway at %s", what, target, gw_addr());
	else if (rep == GW_GREETING)
		escaped("%s %s: SOCKS5 greeting failed (%s): the SOCKS5 side could not be attacked", what,
			target, why);
	else if (rep == 0)
		escaped("%s %s: SOCKS5 success through the gateway", what, target);
	else if (want == GW_NO_TUNNEL)
		;
	else if (rep == 5 || rep == 6)
		escaped("%s %s: SOCKS5 reply %02x: the gateway attempted a connection to %s", what, target,
			rep, attempt_what);
	else if (rep == 2)
		;
	else if (rep == 4 && (want == GW_DENY || want == GW_403_OR_NAME))
		; /* host unreachable: the name does not resolve here */
	else if ((rep == 1 || rep == 7 || rep == 8) && want == GW_DENY)
		; /* malformed request */
	else if (rep == GW_CLOSED && want != GW_403)
		; /* refused without a word (counted in the summary) */
	else if (rep == GW_TIMEOUT)
		escaped("%s %s: no SOCKS5 reply within %d s (the gateway may be connecting)", what, target,
			GW_CONNECT_WAIT_MS / 1000);
	else if (rep == GW_CLOSED)
		escaped("%s %s: expected SOCKS5 reply 02, the gateway closed without an answer", what, target);
	else
		escaped("%s %s: expected SOCKS5 reply 02, got %02x", what, target, rep);
}

/*
 * Requests in flight together (a refusal can take seconds to arrive: the
 * gateway answers a name after resolving it), judged by gw_flush(). Fewer
 * than the gateway's 64 connections, or the rest would be told 429.
 */
#define GW_BATCH 24
static struct gw_pending {
	int fd;
	bool socks, eof;
	enum gw_want want;
	const char *what, *attempt;
	char target[300];
	char buf[2048];
	size_t len;
} g_pend[GW_BATCH];
static int g_npend;

static bool gw_pending_done(const struct gw_pending *p)
{
	return p->eof || p->len + 1 >= sizeof(p->buf) || gw_complete(p->buf, p->len, p->socks);
}

static void gw_flush(void)
{
	long long end = mono_ms() + gw_wait(GW_CONNECT_WAIT_MS);

	for (;;) {
		struct pollfd pf[GW_BATCH];
		int idx[GW_BATCH], n = 0;
		long long left = end - mono_ms();

		for (int i = 0; i < g_npend; i++)
			if (!gw_pending_done(&g_pend[i])) {
				pf[n] = (struct pollfd){ g_pend[i].fd, POLLIN, 0 };
				idx[n++] = i;
			}
		if (!n || left <= 0 || poll(pf, (nfds_t)n, (int)left) <= 0)
			break;
		for (int k = 0; k < n; k++) {
			struct gw_pending *p = &g_pend[idx[k]];
			ssize_t r;

			if (!pf[k].revents)
				continue;
			r = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, MSG_DONTWAIT);
			if (r > 0) {
				p->len += (size_t)r;
				p->buf[p->len] = '\0';
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				p->eof = true;
			}
		}
	}
	for (int i = 0; i < g_npend; i++) {
		struct gw_pending *p = &g_pend[i];
		int r = gw_result(p->buf, p->len, p->socks, p->eof);

		gw_finish(p->fd, r, p->socks);
		if (p->socks)
			gw_judge_socks(p->what, p->target, r, "", p->want, p->attempt);
		else
			gw_judge_http(p->what, p->target, r, p->buf, p->want, p->attempt);
	}
	g_npend = 0;
}

static struct gw_pending *gw_slot(int fd, bool socks, const char *what, const char *target,
				  enum gw_want want, const char *attempt)
{
	struct gw_pending *p = &g_pend[g_npend++];

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->socks = socks;
	p->what = what;
	p->want = want;
	p->attempt = attempt;
	snprintf(p->target, sizeof(p->target), "%s", target);
	return p;
}

static void gw_queue_http(const char *what, const char *target, const char *req, enum gw_want want,
			  const char *attempt)
{
	int s;

	if (g_npend == GW_BATCH)
		gw_flush();
	s = gw_start_http(req);
	if (s < 0)
		gw_judge_http(what, target, s, "", want, attempt);
	else
		gw_slot(s, false, what, target, want, attempt);
}

static void gw_queue_socks(const char *target, int atyp, const void *addr, size_t alen, uint16_t port,
			   enum gw_want want, const char *attempt)
{
	char why[64];
	int s;

	if (g_npend == GW_BATCH)
		gw_flush();
	s = gw_start_socks(atyp, addr, alen, port, why, sizeof(why));
	if (s < 0)
		gw_judge_socks("SOCKS5", target, s, why, want, attempt);
	else
		gw_slot(s, true, "SOCKS5", target, want, attempt);
}

static void gw_note_summary(void)
{
	static const char *const hn[] = { "400", "403", "4xx", "502", "503/504", "other" };
	char buf[512];
	size_t len = 0;

	gw_flush();
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d requests to %s refused:", g_gw.requests,
				gw_addr());
	for (int i = 0; i < 6; i++)
		if (g_gw.http[i])
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " HTTP %s x%d", hn[i], g_gw.http[i]);
	for (int i = 1; i < 9; i++)
		if (g_gw.socks[i])
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " SOCKS %02x x%d", i, g_gw.socks[i]);
	if (g_gw.closed)
		snprintf(buf + len, sizeof(buf) - len, " closed without an answer x%d", g_gw.closed);
	note("%s", buf);
}

/* "HOST:PORT" or "[V6]:PORT" from the harness: the host part and the port. */
static bool split_hostport(const char *v, char *host, size_t hsize, uint16_t *port)
{
	const char *colon = v ? strrchr(v, ':') : NULL;

	if (!colon || colon == v || (size_t)(colon - v) >= hsize)
		return false;
	snprintf(host, hsize, "%.*s", (int)(colon - v), v);
	*port = (uint16_t)atoi(colon + 1);
	return *port != 0;
}

static void gw_connect_one(const char *authority, enum gw_want want, const char *attempt_what)
{
	char req[600];

	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: airlock-escape\r\n\r\n",
		 authority, authority);
	gw_queue_http("CONNECT", authority, req, want, attempt_what);
}

/* SOCKS5 to host: an IPv4 or IPv6 literal (brackets allowed) goes as that
 * address type when as_ip, anything else as a domain name. */
static void gw_socks_one(const char *host, uint16_t port, bool as_ip, enum gw_want want,
			 const char *attempt_what)
{
	unsigned char a[16];
	char inner[256], label[300];
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(inner, sizeof(inner), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(inner, sizeof(inner), "%s", host);
	if (as_ip && inet_pton(AF_INET, inner, a) == 1) {
		snprintf(label, sizeof(label), "ipv4 %s:%u", host, port);
		gw_queue_socks(label, 1, a, 4, port, want, attempt_what);
	} else if (as_ip && inet_pton(AF_INET6, inner, a) == 1) {
		snprintf(label, sizeof(label), "ipv6 %s:%u", host, port);
		gw_queue_socks(label, 4, a, 16, port, want, attempt_what);
	} else {
		snprintf(label, sizeof(label), "domain %s:%u", host, port);
		gw_queue_socks(label, 3, host, strlen(host), port, want, attempt_what);
	}
}

/* An IPv4 or IPv6 literal (brackets allowed), as SOCKS5 can carry it. */
static bool is_ip_literal(const char *host)
{
	unsigned char a[16];
	char inner[128];
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(inner, sizeof(inner), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(inner, sizeof(inner), "%s", host);
	return inet_pton(AF_INET, inner, a) == 1 || inet_pton(AF_INET6, inner, a) == 1;
}

/* Through the proxy to the host's loopback listeners and loopback spellings. */
static int egress_proxy_loopback(void)
{
	static const char *const keys[] = { "tcp_lo", "tcp6_lo", "tcp_host" };
	/* Spellings of loopback and of "this host" (all with tcp_lo's port): a
	 * gateway that takes any of them for a public name, or resolves it the
	 * way inet_aton would, connects to the host. */
	static const char *const spellings[] = {
		"localhost", "LOCALHOST", "localhost.", "127.1", "2130706433", "0x7f000001", "0x7f.1",
		"017700000001", "0177.0.0.1", "127.000.000.001", "127.0.0.1.", "127.0.0.2",
		"[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
		"[0:0:0:0:0:ffff:7f00:1]", "[::1]", "0.0.0.0", "0", "[::]", "[::ffff:0.0.0.0]",
	};
	char host[128], auth[300];
	uint16_t port, lo_port = 0;

	if (!gw_present())
		return verdict();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = arg(keys[i]);

		if (!v || !*v) {
			note("no %s", keys[i]);
			continue;
		}
		if (!split_hostport(v, host, sizeof(host), &port)) {
			escaped("bad %s=%s", keys[i], v);
			continue;
		}
		if (i == 0)
			lo_port = port;
		gw_connect_one(v, GW_DENY, v);
		gw_socks_one(host, port, true, GW_DENY, v);
		gw_socks_one(host, port, false, GW_DENY, v);
	}
	if (!lo_port) {
		escaped("harness did not pass tcp_lo");
		return verdict();
	}
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		snprintf(auth, sizeof(auth), "%s:%u", spellings[i], lo_port);
		gw_connect_one(auth, GW_DENY, auth);
		if (spellings[i][0] != '[')
			gw_socks_one(spellings[i], lo_port, false, GW_DENY, auth);
		if (is_ip_literal(spellings[i]))
			gw_socks_one(spellings[i], lo_port, true, GW_DENY, auth);
	}
	gw_note_summary();
	return verdict();
}

/* Cloud metadata: exactly 403 / 0x02, decided before any connection. */
static int egress_proxy_metadata(void)
{
	static const char *const targets[] = {
		"169.254.169.254", "[fd00:ec2::254]", "168.63.129.16", "100.100.100.200",
		"[::ffff:169.254.169.254]", "169.254.170.2",
	};
	char auth[300];

	if (!gw_present())
		return verdict();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(auth, sizeof(auth), "%s:80", targets[i]);
		gw_connect_one(auth, GW_403, "the metadata service");
		gw_socks_one(targets[i], 80, true, GW_403, "the metadata service");
	}
	/* As a SOCKS5 domain, and as the name that leads there on GCP. */
	gw_socks_one("169.254.169.254", 80, false, GW_403, "the metadata service");
	gw_connect_one("metadata.google.internal:80", GW_403_OR_NAME, "the metadata service");
	gw_socks_one("metadata.google.internal", 80, false, GW_403_OR_NAME, "the metadata service");
	gw_note_summary();
	return verdict();
}

/* This machine's own address (and its host name, if the harness passed one
 * that resolves only to this machine) on the tcp_host listener's port. */
static int egress_proxy_host_addr(void)
{
	const char *own = arg("host_addr"), *name = arg("host_name"), *th = arg("tcp_host");
	char host[128], auth[300];
	uint16_t port;

	if (!own || !*own || !split_hostport(th, host, sizeof(host), &port)) {
		note("no host address or tcp_host listener: nothing to attack");
		return verdict();
	}
	if (!gw_present())
		return verdict();
	snprintf(auth, sizeof(auth), "%s:%u", own, port);
	gw_connect_one(auth, GW_403, "this host");
	gw_socks_one(own, port, true, GW_403, "this host");
	gw_socks_one(own, port, false, GW_403, "this host");
	snprintf(auth, sizeof(auth), "[::ffff:%s]:%u", own, port);
	gw_connect_one(auth, GW_403, "this host");
	if (name && *name) {
		snprintf(auth, sizeof(auth), "%s:%u", name, port);
		gw_connect_one(auth, GW_403_OR_NAME, "this host");
		gw_socks_one(name, port, false, GW_403_OR_NAME, "this host");
	}
	gw_note_summary();
	return verdict();
}

/* tmpl with "{p}" and "{p6}" replaced by the ports. */
static void fill_ports(char *out, size_t size, const char *tmpl, unsigned p, unsigned p6)
{
	size_t len = 0;

	out[0] = '\0';
	while (*tmpl && len + 8 < size) {
		if (!strncmp(tmpl, "{p6}", 4)) {
			len += (size_t)snprintf(out + len, size - len, "%u", p6);
			tmpl += 4;
		} else if (!strncmp(tmpl, "{p}", 3)) {
			len += (size_t)snprintf(out + len, size - len, "%u", p);
			tmpl += 3;
		} else {
			out[len++] = *tmpl++;
			out[len] = '\0';
		}
	}
}

/* Absolute-URI requests (plain-HTTP forwarding) to loopback, and Host-header
 * steering: the gateway must route by the URI and rewrite Host to it. */
static int egress_proxy_absolute_uri(void)
{
	char host[128], h6[128], req[1024], what[300];
	uint16_t port, p6 = 0;

	if (!split_hostport(arg("tcp_lo"), host, sizeof(host), &port)) {
		escaped("harness did not pass tcp_lo");
		return verdict();
	}
	if (!split_hostport(arg("tcp6_lo"), h6, sizeof(h6), &p6))
		p6 = port;
	if (!gw_present())
		return verdict();
	/* {p}: tcp_lo's port, {p6}: tcp6_lo's */
	static const struct {
		const char *uri, *hosthdr;
		enum gw_want want;
	} reqs[] = {
		{ "http://127.0.0.1:{p}/", "127.0.0.1:{p}", GW_403 },
		{ "http://localhost:{p}/", "localhost:{p}", GW_403_OR_NAME },
		{ "http://[::1]:{p6}/", "[::1]:{p6}", GW_403 },
		{ "http://0.0.0.0:{p}/", "0.0.0.0:{p}", GW_403 },
		{ "http://[::ffff:127.0.0.1]:{p}/", "127.0.0.1:{p}", GW_403 },
		{ "http://127.1:{p}/", "127.1:{p}", GW_DENY },
		{ "http://2130706433:{p}/", "2130706433:{p}", GW_DENY },
		{ "http://0x7f000001:{p}/", "0x7f000001:{p}", GW_DENY },
		/* userinfo disguising the host, both ways round */
		{ "http://" GW_TEST_NAME "@127.0.0.1:{p}/", "127.0.0.1:{p}", GW_DENY },
		{ "http://127.0.0.1:{p}@" GW_TEST_NAME "/", "127.0.0.1:{p}", GW_DENY },
		/* origin form and asterisk form: only the Host header names a destination */
		{ "/", "127.0.0.1:{p}", GW_DENY },
		{ "*", "127.0.0.1:{p}", GW_DENY },
		{ "HTTP://127.0.0.1:{p}/", "127.0.0.1:{p}", GW_DENY },
		{ "http://%31%32%37.0.0.1:{p}/", "127.0.0.1:{p}", GW_DENY },
		{ "http://" GW_TEST_NAME "#@127.0.0.1:{p}/", "127.0.0.1:{p}", GW_DENY },
		/* a public name in the URI, loopback in Host (once, and twice) */
		{ "http://" GW_TEST_NAME "/", "127.0.0.1:{p}", GW_NO_TUNNEL },
		{ "http://" GW_TEST_NAME ":{p}/", "127.0.0.1:{p}\r\nHost: localhost:{p}", GW_NO_TUNNEL },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char uri[300], hh[300];

		fill_ports(uri, sizeof(uri), reqs[i].uri, port, p6);
		fill_ports(hh, sizeof(hh), reqs[i].hosthdr, port, p6);
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: airlock-escape\r\nConnection: close\r\n\r\n",
			 uri, hh);
		snprintf(what, sizeof(what), "%s (Host: %.60s)", uri, hh);
		gw_queue_http("GET", what, req, reqs[i].want, "loopback");
	}
	gw_note_summary();
	return verdict();
}

/* Send up to n bytes of p without blocking for more than timeout_ms overall;
 * returns what went out. The gateway may refuse and close mid-way. */
static size_t send_for(int s, const char *p, size_t n, int timeout_ms)
{
	long long end = mono_ms() + timeout_ms;
	size_t sent = 0;

	while (sent < n) {
		struct pollfd pf = { s, POLLOUT, 0 };
		long long left = end - mono_ms();
		ssize_t k;

		if (left <= 0 || poll(&pf, 1, (int)left) != 1 || (pf.revents & (POLLERR | POLLHUP)))
			break;
		k = send(s, p + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0)
			break;
		sent += (size_t)k;
	}
	return sent;
}

/* Is the gateway still deciding? A denied CONNECT must get its 403. */
static void gw_alive(const char *after, uint16_t lo_port)
{
	char req[300], resp[2048], auth[64];
	int st;

	snprintf(auth, sizeof(auth), "127.0.0.1:%u", lo_port);
	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", auth, auth);
	st = gw_http(req, resp, sizeof(resp), GW_WAIT_MS);
	if (st == 403)
		note("after %s: CONNECT %s still 403", after, auth);
	else if (st >= 200 && st < 300)
		escaped("after %s: CONNECT %s got %d", after, auth, st);
	else
		escaped("after %s: the gateway no longer answers a plain CONNECT properly (%d %s)", after, st,
			st > 0 ? http_reason_of(resp) : st == -2 ? ename(errno) : "no answer");
}

static void gw_garbage_one(const char *what, const char *data, size_t n)
{
	char resp[4096];
	size_t sent, len;
	bool eof;
	int s = gw_open(), st;

	if (s < 0) {
		escaped("%s: cannot reach the gateway (%s)", what, ename(errno));
		return;
	}
	sent = send_for(s, data, n, 5000);
	len = gw_read(s, resp, sizeof(resp), 0, gw_wait(3000), &eof);
	close(s);
	st = http_status_of(resp);
	if (st >= 200 && st < 300)
		escaped("%s: answered %d", what, st);
	else if (st > 0)
		note("%s: %zu of %zu bytes sent, %d %s", what, sent, n, st, http_reason_of(resp));
	else if (data[0] == 5 && len >= 2 && resp[0] == 5 && resp[1] == 0 && len >= 4 && resp[2] == 0 &&
		 resp[3] == 0)
		escaped("%s: SOCKS5 success", what);
	else if (len >= 2)
		note("%s: %zu of %zu bytes sent, answered %02x %02x.., %s", what, sent, n,
		     (unsigned char)resp[0], (unsigned char)resp[1], eof ? "closed" : "still open");
	else
		note("%s: %zu of %zu bytes sent, %s without an answer", what, sent, n,
		     eof ? "closed" : "still open");
}

/* Garbage, endless lines, truncated SOCKS5, a connection flood: the
 * gateway must refuse each and keep answering everyone else. */
static int egress_proxy_garbage(void)
{
	const size_t big = 200 * 1024, huge = 1024 * 1024;
	char *buf = malloc(huge + 256);
	char host[128];
	uint16_t port;
	int fds[96], nfd = 0, stall, st;
	bool eof;
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);

	if (!split_hostport(arg("tcp_lo"), host, sizeof(host), &port)) {
		escaped("harness did not pass tcp_lo");
		free(buf);
		return verdict();
	}
	if (!buf || !gw_present()) {
		free(buf);
		return verdict();
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < big; i++)
		buf[i] = (char)(rand_r(&seed) & 0xff);
	buf[0] = (char)('A' + (buf[0] & 15)); /* the HTTP side */
	gw_garbage_one("200 KB of random bytes", buf, big);
	buf[0] = 5; /* the SOCKS5 side */
	gw_garbage_one("SOCKS5 byte + 200 KB of random bytes", buf, big);

	/* An endless header line and an endless request line. */
	{
		int n = snprintf(buf, 256, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\nX-Endless: ", GW_TEST_NAME,
				 GW_TEST_NAME);

		memset(buf + n, 'a', huge - (size_t)n);
		gw_garbage_one("endless header line (1 MiB)", buf, huge);
		n = snprintf(buf, 256, "GET http://%s/", GW_TEST_NAME);
		memset(buf + n, 'a', huge - (size_t)n);
		gw_garbage_one("endless request line (1 MiB)", buf, huge);
		/* 200 small headers */
		n = snprintf(buf, 256, "GET http://%s/ HTTP/1.1\r\n", GW_TEST_NAME);
		for (int i = 0; i < 200; i++)
			n += snprintf(buf + n, 64, "X-H%d: v\r\n", i);
		n += snprintf(buf + n, 8, "\r\n");
		gw_garbage_one("200 headers", buf, (size_t)n);
	}

	/* A SOCKS5 greeting announcing 255 methods but sending one, left
	 * hanging while others are served. */
	stall = gw_open();
	if (stall >= 0 && send_all(stall, "\x05\xff\x00", 3)) {
		usleep(200000);
		gw_alive("a SOCKS5 greeting with nmethods=255 and 1 method, still open", port);
	} else {
		escaped("SOCKS5 stall: cannot reach the gateway (%s)", ename(errno));
	}
	/* A SOCKS5 request whose 255-byte name stops after 3 bytes, and a
	 * malformed one: refused, or held until the request timeout. */
	{
		char why[64];
		int s = gw_open();

		if (s >= 0) {
			send_all(s, "\x05\x01\x00", 3);
			gw_read(s, buf, 16, 2, 2000, &eof);
			send_all(s, "\x05\x01\x00\x03\xff" "abc", 8);
			gw_read(s, buf, 16, 10, 500, &eof);
			fds[nfd++] = s;
		}
		st = gw_socks(9, "", 0, port, GW_WAIT_MS, why, sizeof(why));
		if (st == 0)
			escaped("SOCKS5 with address type 9 succeeded");
		else
			note("SOCKS5 address type 9: %s", st == 8 ? "08 (atyp unsupported)" : st < 0 ? "closed" : "refused");
		st = gw_socks(1, "\x7f\x00\x00\x01", 4, 0, GW_WAIT_MS, why, sizeof(why));
		if (st == 0)
			escaped("SOCKS5 to 127.0.0.1 port 0 succeeded");
	}
	/* A flood beyond max_connections (64): the extra ones are told 429. */
	for (int i = 0; nfd < (int)(sizeof(fds) / sizeof(fds[0])) && i < 90; i++) {
		int s = gw_open();

		if (s < 0)
			break;
		fds[nfd++] = s;
	}
	{
		char req[300], resp[2048];

		snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", port);
		st = gw_http(req, resp, sizeof(resp), GW_WAIT_MS);
		if (st >= 200 && st < 300)
			escaped("CONNECT 127.0.0.1:%u during a flood of %d connections: %d", port, nfd, st);
		else
			note("with %d idle connections open: %d %s", nfd, st, st > 0 ? http_reason_of(resp) : "");
	}
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	if (stall >= 0)
		close(stall);
	usleep(300000);
	gw_alive("garbage, stalls and a connection flood", port);
	free(buf);
	return verdict();
}

/* With the gateway there, the netns and Landlock still fence everything
 * else: no direct connection but 127.0.0.1:3128, no bind at all. */
static int egress_direct(void)
{
	static const char *const keys[] = { "tcp_lo", "tcp6_lo", "tcp_host" };
	static const uint16_t ports[] = { 22, 80, 443, 3127, 3129, 8080 };
	char host[128], a[160];
	uint16_t lo_port = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	int err, gw;

	gw = gw_open();
	if (gw >= 0) {
		note("127.0.0.1:3128 reachable");
		close(gw);
	} else {
		note("no gateway at 127.0.0.1:3128 (%s)", ename(errno));
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = arg(keys[i]);

		if (!v || !*v || !parse_addr(v, &ss, &len))
			continue;
		if (i == 0)
			split_hostport(v, host, sizeof(host), &lo_port);
		if (stream_connect(&ss, len, 0, &err) == 0)
			escaped("direct TCP to host listener %s connected", v);
		else
			note("%s: %s", v, ename(err));
	}
	for (size_t i = 0; i <= sizeof(ports) / sizeof(ports[0]); i++) {
		uint16_t p = i < sizeof(ports) / sizeof(ports[0]) ? ports[i] : lo_port;

		if (!p)
			continue;
		snprintf(a, sizeof(a), "127.0.0.1:%u", p);
		parse_addr(a, &ss, &len);
		if (stream_connect(&ss, len, 0, &err) == 0)
			escaped("direct TCP to %s connected", a);
		else if (err != EACCES && err != ECONNREFUSED)
			note("%s: %s", a, ename(err));
		else if (i == 0)
			note("127.0.0.1 ports other than 3128: %s", ename(err));
	}
	/* The proxy port on the other loopback family: nothing may listen. */
	parse_addr("[::1]:3128", &ss, &len);
	if (stream_connect(&ss, len, 0, &err) == 0)
		escaped("something listens on [::1]:3128 inside the sandbox");

	/* bind: the gateway's own port (even with SO_REUSEPORT), ephemeral, any. */
	static const char *const binds[] = { "127.0.0.1:3128", "0.0.0.0:3128", "127.0.0.1:0", "0.0.0.0:0",
					     "0.0.0.0:8080", "[::1]:0", "[::]:3128", "[::]:8080" };
	int refused = 0;

	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		int s, one = 1;

		parse_addr(binds[i], &ss, &len);
		s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			note("socket: %s", ename(errno));
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, len) == 0) {
			escaped("bind %s succeeded", binds[i]);
		} else {
			if (!refused++ || errno != EACCES)
				note("bind %s: %s", binds[i], ename(errno));
		}
		close(s);
	}
	if (lo_port) {
		/* EADDRINUSE on the host listener's port: the host's namespace. */
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(lo_port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		if (s >= 0 && bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EADDRINUSE)
			escaped("host port %u is in use here: host network namespace", lo_port);
		if (s >= 0)
			close(s);
	}
	/* listen() without bind picks a port itself, past Landlock's bind
	 * hook: only reachable inside this namespace, so only noted. */
	{
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);

		if (s >= 0 && listen(s, 1) == 0 && getsockname(s, (struct sockaddr *)&sin, &sl) == 0)
			note("listen() without bind auto-bound port %u (inside the netns only)", ntohs(sin.sin_port));
		else if (s >= 0)
			note("listen() without bind: %s", ename(errno));
		if (s >= 0)
			close(s);
	}
	note("%d of %zu binds refused", refused, sizeof(binds) / sizeof(binds[0]));
	return verdict();
}

/* ======================================================================= */
/* resources                                                               */
/* ======================================================================= */

static int res_fork_bomb(void)
{
	static pid_t kids[FORK_CAP];
	long limit = arg_long("pids_limit", 32);
	int n = 0, err = 0;

	while (n < FORK_CAP) {
		pid_t pid = fork();

		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		kids[n++] = pid;
	}
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	if (n >= FORK_CAP)
		escaped("forked %d processes without hitting a limit", n);
	else if (n > limit * 2)
		escaped("forked %d processes, limit was %ld", n, limit);
	else
		note("fork refused after %d children: %s", n, ename(err));
	return verdict();
}

static void *thread_park(void *arg_)
{
	(void)arg_;
	for (;;)
		pause();
	return NULL;
}

static int res_thread_bomb(void)
{
	long limit = arg_long("pids_limit", 32);
	pthread_attr_t attr;
	int n = 0, err = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	while (n < FORK_CAP) {
		pthread_t t;

		err = pthread_create(&t, &attr, thread_park, NULL);
		if (err)
			break;
		n++;
	}
	if (n >= FORK_CAP)
		escaped("created %d threads without hitting a limit", n);
	else if (n > limit * 2)
		escaped("created %d threads, limit was %ld", n, limit);
	else
		note("thread creation refused after %d: %s", n, ename(err));
	verdict();
	fflush(stdout);
	_exit(0);
}

static int res_memory_bomb(void)
{
	long limit_mb = arg_long("memory_mb", 64);
	int mb = 0;

	for (; mb < MEM_CAP_MB; mb++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		memset(p, 0xa5, 1 << 20);
	}
	if (mb >= MEM_CAP_MB)
		escaped("allocated and touched %d MiB with a %ld MiB limit", mb, limit_mb);
	else if (mb > limit_mb * 2)
		escaped("allocated %d MiB with a %ld MiB limit", mb, limit_mb);
	else
		note("allocation refused at %d MiB (%s)", mb, ename(errno));
	return verdict();
}

/*
 * The memory limit is for the whole sandbox: eight processes each allocate
 * up to the limit. A per-process cap (RLIMIT_AS) lets them hold 8x as much.
 */
#define MULTI_PROCS 8

static int res_memory_multi(void)
{
	long limit_mb = arg_long("memory_mb", 64);
	pid_t kids[MULTI_PROCS];
	int p[2], total = 0, reported = 0;

	if (pipe2(p, O_CLOEXEC) < 0) {
		note("pipe: %s", ename(errno));
		return verdict();
	}
	fflush(stdout);
	for (int i = 0; i < MULTI_PROCS; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int mb = 0;

			close(p[0]);
			for (; mb < limit_mb; mb++) {
				char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (m == MAP_FAILED)
					break;
				memset(m, 0x5a, 1 << 20);
			}
			ignore_result(write(p[1], &mb, sizeof(mb)));
			for (;;)
				pause();
		}
	}
	close(p[1]);
	for (;;) {
		int mb;
		ssize_t n = read(p[0], &mb, sizeof(mb));

		if (n != (ssize_t)sizeof(mb))
			break;	/* all writers gone: reported or killed */
		total += mb;
		if (++reported == MULTI_PROCS)
			break;
	}
	close(p[0]);
	for (int i = 0; i < MULTI_PROCS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < MULTI_PROCS; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	if (total > limit_mb * 2)
		escaped("%d processes held %d MiB together with a %ld MiB limit (per-process cap only)",
			reported, total, limit_mb);
	else
		note("%d processes held %d MiB together (limit %ld MiB)", reported, total, limit_mb);
	return verdict();
}

/*
 * Denied system calls are counted by the supervisor (seccomp notify): a
 * flood of them must not stall it. Spins on refused calls until the timeout.
 */
static int res_deny_flood(void)
{
	for (unsigned long i = 0;; i++) {
		switch (i % 4) {
		case 0: syscall(SYS_keyctl, 0, -4, 0); break;
		case 1: syscall(SYS_unshare, CLONE_NEWUSER); break;
		case 2: syscall(SYS_ptrace, 0, 0, 0, 0); break;
		default: syscall(SYS_bpf, 0, NULL, 0); break;
		}
	}
	return 0;
}

/* Spin forever, ignore SIGTERM, and hide children in other sessions/groups. */
static int res_cpu_spin(void)
{
	volatile unsigned long x = 0;

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (fork() == 0) {
		setsid();
		for (;;)
			x++;
	}
	if (fork() == 0) {
		setpgid(0, 0);
		for (;;)
			x++;
	}
	for (;;)
		x++;
	return 0;
}

static void disk_fill(const char *dir)
{
	struct statvfs sv;
	unsigned long long size_mb;
	char path[PATH_MAX];
	static char chunk[1 << 20];
	int fd, mb = 0, err = 0;

	if (statvfs(dir, &sv) < 0) {
		note("%s: %s", dir, ename(errno));
		return;
	}
	size_mb = (unsigned long long)sv.f_blocks * sv.f_frsize >> 20;
	if (size_mb > DISK_CAP_MB) {
		escaped("%s is not size-limited (%llu MiB)", dir, size_mb);
		return;
	}
	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%s/.airlock-fill-%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		note("%s not writable: %s", dir, ename(errno));
		return;
	}
	memset(chunk, 'x', sizeof(chunk));
	while (mb < DISK_CAP_MB + 64) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n < (ssize_t)sizeof(chunk)) {
			err = n < 0 ? errno : ENOSPC;
			break;
		}
		mb++;
	}
	close(fd);
	unlink(path);
	if (err == ENOSPC || err == EFBIG || err == EDQUOT)
		note("%s: %s after %d MiB (fs %llu MiB)", dir, ename(err), mb, size_mb);
	else if (!err)
		escaped("%s: wrote %d MiB without a limit", dir, mb);
	else
		note("%s: %s after %d MiB", dir, ename(err), mb);
}

static int res_disk_tmp(void)
{
	disk_fill("/tmp");
	return verdict();
}

static int res_disk_workspace(void)
{
	disk_fill("/workspace");
	return verdict();
}

static int res_disk_devshm(void)
{
	if (path_exists("/dev/shm"))
		disk_fill("/dev/shm");
	else
		note("/dev/shm absent");
	return verdict();
}

static int res_inode_fill(void)
{
	struct statvfs sv;
	const char *s = scratch_in("/tmp");
	char path[PATH_MAX];
	unsigned long n = 0;
	int err = 0;

	if (!s) {
		note("/tmp not writable: %s", ename(errno));
		return verdict();
	}
	/*
	 * Each empty file pins an inode and a dentry of kernel memory that the
	 * tmpfs size does not count: only nr_inodes (ENOSPC) or a memory cgroup
	 * that charges kernel memory (OOM) stops this. Capped at INODE_CAP.
	 */
	if (statvfs(s, &sv) == 0)
		note("/tmp reports %llu inodes", (unsigned long long)sv.f_files);
	while (n < INODE_CAP) {
		int fd;

		snprintf(path, sizeof(path), "%s/%lu", s, n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = errno;
			break;
		}
		close(fd);
		n++;
	}
	rm_rf(s);
	if (err == ENOSPC || err == EDQUOT || err == ENOMEM)
		note("inode fill: %s after %lu files", ename(err), n);
	else if (!err)
		escaped("created %lu empty files in /tmp without hitting a limit (fs allows %llu)", n,
			(unsigned long long)sv.f_files);
	else
		note("inode fill: %s after %lu files", ename(err), n);
	return verdict();
}

static int res_fd_exhaust(void)
{
	struct rlimit rl;
	int n = 0, err = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY) {
		struct rlimit up = { rl.rlim_max + 1, rl.rlim_max + 1 };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			escaped("raised the RLIMIT_NOFILE hard limit (CAP_SYS_RESOURCE)");
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	while (n < FD_CAP + 16) {
		if (dup(0) < 0 && open("/dev/null", O_RDONLY) < 0) {
			err = errno;
			break;
		}
		n++;
	}
	if (err == ENFILE)
		escaped("hit the system-wide file table (ENFILE) after %d fds", n);
	else if (!err)
		escaped("opened %d fds without hitting a limit (hard %llu)", n,
			(unsigned long long)rl.rlim_max);
	else
		note("%s after %d fds (hard limit %llu)", ename(err), n, (unsigned long long)rl.rlim_max);
	return verdict();
}

static int res_output_flood(void)
{
	static char line[65536];
	size_t sent = 0;

	signal(SIGPIPE, SIG_IGN);
	memset(line, 'A', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	while (sent < FLOOD_BYTES) {
		ssize_t n = write(1, line, sizeof(line));

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	dprintf(2, "FLOOD wrote %zu bytes\n", sent);
	return 0;
}

/* ======================================================================= */
/* environment and fd leaks                                                */
/* ======================================================================= */

extern char **environ;

static int leak_env(void)
{
	static const char *const names[] = {
		SECRET_ENV, "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "SSH_AUTH_SOCK",
		"LD_PRELOAD", "AIRLOCK_TEST_FD",
	};
	int n = 0;

	for (char **e = environ; *e; e++) {
		n++;
		if (strstr(*e, SECRET_VALUE_MARK))
			escaped("secret value leaked in %.*s", (int)strcspn(*e, "="), *e);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (getenv(names[i]))
			escaped("%s is set inside", names[i]);
	note("%d environment variables, no secrets", n);
	return verdict();
}

/* Inherited fds: a host directory fd is a way out (CVE-2024-21626 "Leaky Vessels"). */
static int leak_fds(void)
{
	int open_fds = 0;
	DIR *d;
	struct dirent *de;

	/* First, before this probe opens anything itself. */
	for (int fd = 3; fd < 4096; fd++) {
		char lnk[64], what[PATH_MAX] = "?";
		ssize_t l;
		struct stat st;

		if (fcntl(fd, F_GETFD) < 0)
			continue;
		open_fds++;
		snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", fd);
		l = readlink(lnk, what, sizeof(what) - 1);
		what[l > 0 ? l : 1] = '\0';
		escaped("fd %d inherited: %s", fd, what);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (up >= 0) {
				escaped("fd %d is a host directory: openat(..) escapes", fd);
				close(up);
			}
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			char buf[256] = "";

			if (pread(fd, buf, sizeof(buf) - 1, 0) > 0 && strstr(buf, SECRET_MARK))
				escaped("fd %d reads the host secret", fd);
		}
	}
	d = opendir("/proc/self/fd");
	if (d) {
		int listed = 0;

		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				listed++;
		closedir(d);
		note("/proc/self/fd lists %d (incl. its own dir fd)", listed);
	}
	if (!open_fds)
		note("only 0,1,2 open");
	return verdict();
}

/* The starting cwd must be inside the sandbox, not the caller's host cwd. */
static int leak_cwd(void)
{
	char cwd[PATH_MAX];
	const char *secret = arg("secret_file");
	const char *sdir = arg("secret_dir");
	const char *base = secret ? strrchr(secret, '/') : NULL;
	char buf[256];

	if (!getcwd(cwd, sizeof(cwd)))
		escaped("cwd is outside the root (%s)", ename(errno));
	else if (strstr(cwd, "unreachable"))
		escaped("cwd is outside the root: %s", cwd);
	else if (sdir && !strcmp(cwd, sdir))
		escaped("cwd is the host cwd %s", cwd);
	else
		note("cwd %s", cwd);
	if (base && read_file(base + 1, buf, sizeof(buf)) > 0)
		escaped("read the host secret relative to the cwd");
	{
		char up[PATH_MAX];

		snprintf(up, sizeof(up), "../../../../../../..%s", secret ? secret : "/nonexistent");
		if (content_has_secret(up))
			escaped("read the host secret walking up from the cwd");
	}
	return verdict();
}

/* Any visible process whose environment or arguments carry the secret. */
static int leak_proc_environ(void)
{
	pid_t pids[256];
	int n = list_pids(pids, 255);
	char path[64], buf[65536];

	pids[n++] = getpid();
	for (int i = 0; i < n; i++) {
		static const char *const files[] = { "environ", "cmdline" };

		for (int f = 0; f < 2; f++) {
			ssize_t len;

			snprintf(path, sizeof(path), "/proc/%d/%s", (int)pids[i], files[f]);
			len = read_file(path, buf, sizeof(buf));
			for (ssize_t j = 0; j < len; j++)
				if (!buf[j])
					buf[j] = '\n';
			if (len > 0 && (strstr(buf, SECRET_ENV "=") || strstr(buf, SECRET_VALUE_MARK)))
				escaped("secret in %s", path);
		}
	}
	note("%d processes scanned", n);
	return verdict();
}

/* ======================================================================= */
/* signals                                                                 */
/* ======================================================================= */

/* kill(-1) hits everything the caller may signal: only sandbox processes. */
static int sig_kill_all(void)
{
	int r;

	if (!private_pidns()) {
		escaped("not in a private pid namespace: kill(-1) would hit the host (not attempted)");
		return verdict();
	}
	r = kill(-1, SIGKILL);

	note("kill(-1, SIGKILL) = %s (host sleepers checked by the harness)", r == 0 ? "0" : ename(errno));
	return verdict();
}

/*
 * Host pids (sleepers, the harness, airlock's own supervisor) must not
 * exist here: signals, pidfds and /proc all need a visible pid.
 */
static int sig_host_pids(void)
{
	const char *list = arg("host_pids");
	const char *sup = arg("supervisor_pid");
	char buf[512], *tok, *save = NULL;

	if (!list) {
		escaped("harness did not pass host_pids");
		return verdict();
	}
	snprintf(buf, sizeof(buf), "%s%s%s", list, sup ? "," : "", sup ? sup : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t pid = (pid_t)atoi(tok);
		char path[64], cmd[4096];
		ssize_t len;
		int pfd;

		if (pid <= 1)
			continue;
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			note("pid %d: ESRCH", (int)pid);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		len = read_file(path, cmd, sizeof(cmd));
		for (ssize_t j = 0; j < len; j++)
			if (!cmd[j])
				cmd[j] = ' ';
		if (len > 0 && (strstr(cmd, "host-sleep airlock-esc-sleeper") || strstr(cmd, "run_escape") ||
				(sup && pid == atoi(sup) && strstr(cmd, "airlock"))))
			escaped("host process %d visible (%.60s)", (int)pid, cmd);
		else
			note("pid %d exists here but is a sandbox process", (int)pid);
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd >= 0)
			close(pfd);
	}
	return verdict();
}

/* ======================================================================= */
/* internal helpers run inside by the harness                              */
/* ======================================================================= */

/* Spawn children in every way that tries to outlive the supervisor. */
static int hold(void)
{
	if (fork() == 0) {
		for (;;)
			pause();
	}
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			for (;;)
				pause();
		}
		_exit(0);
	}
	if (fork() == 0) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		setpgid(0, 0);
		for (;;)
			pause();
	}
	printf("HELD\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static const char *const persist_paths[] = {
	"/workspace/.airlock-persist", "/tmp/.airlock-persist", "/dev/shm/.airlock-persist",
};
#define PERSIST_KEY 0x41a1f00d

static int persist_write(void)
{
	for (size_t i = 0; i < sizeof(persist_paths) / sizeof(persist_paths[0]); i++) {
		int fd = open(persist_paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0) {
			close(fd);
			note("wrote %s", persist_paths[i]);
		}
	}
	if (shmget(PERSIST_KEY, 4096, IPC_CREAT | 0600) >= 0)
		note("created SysV shm");
	return verdict();
}

static int persist_check(void)
{
	int id;

	for (size_t i = 0; i < sizeof(persist_paths) / sizeof(persist_paths[0]); i++)
		if (path_exists(persist_paths[i]))
			escaped("%s survived from the previous run", persist_paths[i]);
	id = shmget(PERSIST_KEY, 0, 0);
	if (id >= 0) {
		escaped("SysV shm survived from the previous run");
		shmctl(id, IPC_RMID, NULL);
	}
	note("nothing survived");
	return verdict();
}

/* ======================================================================= */
/* the table                                                               */
/* ======================================================================= */

/*
 * expect: how the harness judges a run
 *   v  the probe's verdict line (must be CONTAINED, exit 0)
 *   k  the verdict, or killed by a limit (oom, pids, signal)
 *   t  must end by the wall-clock timeout (exit 124)
 *   f  output flood: bytes received must be capped
 *   -  internal, run only by dedicated harness tests
 * opts: extra airlock options; @WS_RW@/@WS_RO@ are replaced by the harness.
 */
struct probe {
	const char *name;
	const char *category;
	int (*fn)(void);
	char expect;
	const char *opts;
};

static const struct probe probes[] = {
	{ "fs-write-usr", "fs", fs_write_usr, 'v', "" },
	{ "fs-write-etc", "fs", fs_write_etc, 'v', "" },
	{ "fs-write-root", "fs", fs_write_root, 'v', "" },
	{ "fs-write-outside", "fs", fs_write_outside, 'v', "" },
	{ "fs-read-secrets", "fs", fs_read_secrets, 'v', "" },
	{ "fs-host-dirs", "fs", fs_host_dirs, 'v', "" },
	{ "fs-host-tmp", "fs", fs_host_tmp, 'v', "" },
	{ "fs-symlink", "fs", fs_symlink, 'v', "" },
	{ "fs-hardlink", "fs", fs_hardlink, 'v', "" },
	{ "fs-open-by-handle", "fs", fs_open_by_handle, 'v', "" },
	{ "fs-chroot", "fs", fs_chroot, 'v', "" },
	{ "fs-exec-tmp", "fs", fs_exec_tmp, 'v', "" },
	{ "fs-setuid-file", "fs", fs_setuid_file, 'v', "" },
	{ "fs-proc-exe", "fs", fs_proc_exe, 'v', "" },
	{ "fs-ro-bind", "fs", fs_ro_bind, 'v', "" },
	{ "fs-ws-rw-escape", "fs", fs_ws_rw_escape, 'v', "@WS_RW@" },
	{ "fs-ws-ro", "fs", fs_ws_ro, 'v', "@WS_RO@" },
	{ "fs-deny-list", "fs", fs_deny_list, 'v', "@DENY@" },
	{ "fs-landlock-fence", "fs", fs_landlock_fence, 'v', "" },

	{ "proc-core-pattern", "proc", proc_core_pattern, 'v', "" },
	{ "proc-sysrq", "proc", proc_sysrq, 'v', "" },
	{ "proc-kcore", "proc", proc_kcore, 'v', "" },
	{ "proc-kallsyms", "proc", proc_kallsyms, 'v', "" },
	{ "proc-sys-writable", "proc", proc_sys_writable, 'v', "" },
	{ "proc-host-pids", "proc", proc_host_pids, 'v', "" },
	{ "proc-pid-root", "proc", proc_pid_root, 'v', "" },
	{ "proc-mountinfo", "proc", proc_mountinfo, 'v', "" },
	{ "proc-init-access", "proc", proc_init_access, 'v', "" },
	{ "proc-cgroup", "proc", proc_cgroup, 'v', "" },
	{ "proc-sysfs", "proc", proc_sysfs, 'v', "" },

	{ "dev-mknod", "dev", dev_mknod, 'v', "" },
	{ "dev-mem", "dev", dev_mem, 'v', "" },
	{ "dev-block", "dev", dev_block, 'v', "" },
	{ "dev-inventory", "dev", dev_inventory, 'v', "" },
	{ "dev-kmsg", "dev", dev_kmsg, 'v', "" },
	{ "dev-special", "dev", dev_special, 'v', "" },

	{ "priv-ids", "priv", priv_ids, 'v', "" },
	{ "priv-caps", "priv", priv_caps, 'v', "" },
	{ "priv-nnp-seccomp", "priv", priv_nnp_seccomp, 'v', "" },
	{ "priv-setuid0", "priv", priv_setuid0, 'v', "" },
	{ "priv-cap-raise", "priv", priv_cap_raise, 'v', "" },
	{ "priv-idmap", "priv", priv_idmap, 'v', "" },
	{ "priv-namespaces", "priv", priv_namespaces, 'v', "" },
	{ "priv-setuid-binaries", "priv", priv_setuid_binaries, 'v', "" },
	{ "priv-staged-suid", "priv", priv_staged_suid, 'v', "" },
	{ "priv-file-caps", "priv", priv_file_caps, 'v', "" },
	{ "priv-sethostname", "priv", priv_sethostname, 'v', "" },
	{ "priv-sched", "priv", priv_sched, 'v', "" },

	{ "sys-mount", "sys", sys_mount, 'v', "" },
	{ "sys-mount-api", "sys", sys_mount_api, 'v', "" },
	{ "sys-unshare-user", "sys", sys_unshare_user, 'v', "" },
	{ "sys-unshare-other", "sys", sys_unshare_other, 'v', "" },
	{ "sys-clone-ns", "sys", sys_clone_ns, 'v', "" },
	{ "sys-clone3-ns", "sys", sys_clone3_ns, 'v', "" },
	{ "sys-setns", "sys", sys_setns, 'v', "" },
	{ "sys-ptrace-traceme", "sys", sys_ptrace_traceme, 'v', "" },
	{ "sys-ptrace-attach", "sys", sys_ptrace_attach, 'v', "" },
	{ "sys-keyctl", "sys", sys_keyctl, 'v', "" },
	{ "sys-add-key", "sys", sys_add_key, 'v', "" },
	{ "sys-bpf", "sys", sys_bpf, 'v', "" },
	{ "sys-perf", "sys", sys_perf, 'v', "" },
	{ "sys-userfaultfd", "sys", sys_userfaultfd, 'v', "" },
	{ "sys-io-uring", "sys", sys_io_uring, 'v', "" },
	{ "sys-kexec", "sys", sys_kexec, 'v', "" },
	{ "sys-modules", "sys", sys_modules, 'v', "" },
	{ "sys-reboot", "sys", sys_reboot, 'v', "" },
	{ "sys-swapon", "sys", sys_swapon, 'v', "" },
	{ "sys-acct", "sys", sys_acct, 'v', "" },
	{ "sys-personality", "sys", sys_personality, 'v', "" },
	{ "sys-quotactl", "sys", sys_quotactl, 'v', "" },
	{ "sys-settime", "sys", sys_settime, 'v', "" },
	{ "sys-ioport", "sys", sys_ioport, 'v', "" },
	{ "sys-syslog", "sys", sys_syslog, 'v', "" },
	{ "sys-vhangup", "sys", sys_vhangup, 'v', "" },
	{ "sys-i386-abi", "sys", sys_i386_abi, 'v', "" },
	{ "sys-x32-abi", "sys", sys_x32_abi, 'v', "" },

	{ "tty-devtty", "tty", tty_devtty, 'v', "" },
	{ "tty-tiocsti", "tty", tty_tiocsti, 'v', "" },
	{ "tty-tioclinux", "tty", tty_tioclinux, 'v', "" },
	{ "tty-tiocscty", "tty", tty_tiocscty, 'v', "" },
	{ "tty-console", "tty", tty_console, 'v', "" },
	{ "tty-host-pts", "tty", tty_host_pts, 'v', "" },

	{ "ipc-sysv-shm", "ipc", ipc_sysv_shm, 'v', "" },
	{ "ipc-sysv-msg", "ipc", ipc_sysv_msg, 'v', "" },
	{ "ipc-sysv-sem", "ipc", ipc_sysv_sem, 'v', "" },
	{ "ipc-sysvipc-proc", "ipc", ipc_sysvipc_proc, 'v', "" },
	{ "ipc-posix-mq", "ipc", ipc_posix_mq, 'v', "" },
	{ "ipc-posix-shm", "ipc", ipc_posix_shm, 'v', "" },

	{ "net-tcp-lo", "net", net_tcp_lo, 'v', "" },
	{ "net-tcp-host", "net", net_tcp_host, 'v', "" },
	{ "net-tcp6-lo", "net", net_tcp6_lo, 'v', "" },
	{ "net-mptcp-lo", "net", net_mptcp_lo, 'v', "" },
	{ "net-udp-lo", "net", net_udp_lo, 'v', "" },
	{ "net-udp-host", "net", net_udp_host, 'v', "" },
	{ "net-raw", "net", net_raw, 'v', "" },
	{ "net-packet", "net", net_packet, 'v', "" },
	{ "net-icmp-route", "net", net_icmp_route, 'v', "" },
	{ "net-dns-route", "net", net_dns_route, 'v', "" },
	{ "net-ipv6-route", "net", net_ipv6_route, 'v', "" },
	{ "net-metadata-route", "net", net_metadata_route, 'v', "" },
	{ "net-getaddrinfo", "net", net_getaddrinfo, 'v', "" },
	{ "net-abstract-unix", "net", net_abstract_unix, 'v', "" },
	{ "net-unix-path", "net", net_unix_path, 'v', "" },
	{ "net-netlink-addr", "net", net_netlink_addr, 'v', "" },
	{ "net-interfaces", "net", net_interfaces, 'v', "" },
	{ "net-tcp-bind", "net", net_tcp_bind, 'v', "" },
	{ "net-vsock", "net", net_vsock, 'v', "" },

	/* The broadest allowlist a careful user could write: only the address
	 * ranges and the netns/Landlock fence still hold. */
	{ "egress-proxy-loopback", "egress", egress_proxy_loopback, 'v', "--allow-host *:*" },
	{ "egress-proxy-metadata", "egress", egress_proxy_metadata, 'v', "--allow-host *:*" },
	{ "egress-proxy-host-addr", "egress", egress_proxy_host_addr, 'v', "--allow-host *:*" },
	{ "egress-proxy-absolute-uri", "egress", egress_proxy_absolute_uri, 'v', "--allow-host *:*" },
	{ "egress-proxy-garbage", "egress", egress_proxy_garbage, 'v', "--allow-host *:*" },
	{ "egress-direct", "egress", egress_direct, 'v', "--allow-host *:*" },

	{ "res-fork-bomb", "res", res_fork_bomb, 'k', "--pids 32 --timeout 30" },
	{ "res-thread-bomb", "res", res_thread_bomb, 'k', "--pids 32 --timeout 30" },
	{ "res-memory-bomb", "res", res_memory_bomb, 'k', "--memory 64M --timeout 30" },
	{ "res-memory-multi", "res", res_memory_multi, 'k', "--memory 64M --pids 32 --timeout 30" },
	{ "res-deny-flood", "res", res_deny_flood, 't', "--timeout 2" },
	{ "res-cpu-spin", "res", res_cpu_spin, 't', "--timeout 2" },
	{ "res-disk-tmp", "res", res_disk_tmp, 'k', "--timeout 60" },
	{ "res-disk-workspace", "res", res_disk_workspace, 'k', "--timeout 60" },
	{ "res-disk-devshm", "res", res_disk_devshm, 'k', "--timeout 60" },
	{ "res-inode-fill", "res", res_inode_fill, 'k', "--memory 128M --timeout 60" },
	{ "res-fd-exhaust", "res", res_fd_exhaust, 'v', "--timeout 30" },
	{ "res-output-flood", "res", res_output_flood, 'f', "--timeout 60" },

	{ "leak-env", "leak", leak_env, 'v', "" },
	{ "leak-fds", "leak", leak_fds, 'v', "" },
	{ "leak-cwd", "leak", leak_cwd, 'v', "" },
	{ "leak-proc-environ", "leak", leak_proc_environ, 'v', "" },

	{ "sig-kill-all", "sig", sig_kill_all, 'v', "" },
	{ "sig-host-pids", "sig", sig_host_pids, 'v', "" },

	{ "hold", "internal", hold, '-', "" },
	{ "persist-write", "internal", persist_write, '-', "" },
	{ "persist-check", "internal", persist_check, '-', "" },
	{ "aiignore-tamper", "internal", aiignore_tamper, '-', "" },
	{ "aiignore-check", "internal", aiignore_check, '-', "" },
};

/* ======================================================================= */
/* host-side helpers                                                       */
/* ======================================================================= */

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int listen_on(int fam, int type, const char *addr, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s;

	memset(&ss, 0, sizeof(ss));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return -1;
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			return -1;
		len = sizeof(*a);
	}
	s = socket(fam, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&ss, len) < 0 || (type == SOCK_STREAM && listen(s, 16) < 0) ||
	    getsockname(s, (struct sockaddr *)&ss, &len) < 0) {
		close(s);
		return -1;
	}
	if (fam == AF_INET)
		snprintf(out, size, "%s:%d", addr, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else
		snprintf(out, size, "[%s]:%d", addr, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return s;
}

static int listen_unix(const char *path, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -1;
	if (abstract) {
		snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "%s", path);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
		len = sizeof(a);
	}
	if (bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 16) < 0) {
		close(s);
		return -1;
	}
	if (!abstract)
		chmod(path, 0777);
	return s;
}

struct listener {
	int fd;
	const char *name;
	bool stream;
};

static int add_listener(struct listener *l, int nl, FILE *info, int fd, const char *name, bool stream,
			const char *value)
{
	if (fd < 0)
		return nl;
	l[nl].fd = fd;
	l[nl].name = name;
	l[nl].stream = stream;
	fprintf(info, "%s=%s\n", name, value);
	return nl + 1;
}

/*
 * probe host-listen DIR [OWN_ADDR]: start every host-side target, write
 * DIR/info (key=value lines, also passed to probes) and log each contact to
 * DIR/log. Everything is removed on SIGTERM or when the harness dies.
 */
static int host_listen(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : NULL;
	const char *own = argc > 1 ? argv[1] : "";
	struct listener l[8];
	int nl = 0, pid = (int)getpid();
	char path[PATH_MAX], addr[128], unix_path[PATH_MAX], abstract[64], mq[64], pshm[64];
	key_t shm_key = (key_t)(0x41a10000 | (pid & 0xffff)), msg_key = shm_key + 0x100000,
	      sem_key = shm_key + 0x200000;
	int shm_id, msg_id, sem_id;
	mqd_t q;
	FILE *info, *log;
	struct sigaction sa;

	if (!dir) {
		fprintf(stderr, "usage: probe host-listen DIR [ADDR]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);

	snprintf(path, sizeof(path), "%s/info.tmp", dir);
	info = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/log", dir);
	log = fopen(path, "a");
	if (!info || !log) {
		perror("host-listen");
		return 1;
	}
	setvbuf(log, NULL, _IOLBF, 0);
	nl = add_listener(l, nl, info, listen_on(AF_INET, SOCK_STREAM, "127.0.0.1", addr, sizeof(addr)),
			  "tcp_lo", true, addr);
	nl = add_listener(l, nl, info, listen_on(AF_INET, SOCK_DGRAM, "127.0.0.1", addr, sizeof(addr)),
			  "udp_lo", false, addr);
	nl = add_listener(l, nl, info, listen_on(AF_INET6, SOCK_STREAM, "::1", addr, sizeof(addr)),
			  "tcp6_lo", true, addr);
	if (*own) {
		nl = add_listener(l, nl, info, listen_on(AF_INET, SOCK_STREAM, own, addr, sizeof(addr)),
				  "tcp_host", true, addr);
		nl = add_listener(l, nl, info, listen_on(AF_INET, SOCK_DGRAM, own, addr, sizeof(addr)),
				  "udp_host", false, addr);
	}
	snprintf(unix_path, sizeof(unix_path), "%s/host.sock", dir);
	snprintf(abstract, sizeof(abstract), "airlock-esc-%d", pid);
	nl = add_listener(l, nl, info, listen_unix(unix_path, false), "unix_path", true, unix_path);
	nl = add_listener(l, nl, info, listen_unix(abstract, true), "abstract", true, abstract);

	/* Only what exists is advertised: a probe without its target says so. */
	shm_id = shmget(shm_key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	msg_id = msgget(msg_key, IPC_CREAT | IPC_EXCL | 0600);
	sem_id = semget(sem_key, 1, IPC_CREAT | IPC_EXCL | 0600);
	if (shm_id >= 0)
		fprintf(info, "shm_key=%#x\n", (unsigned)shm_key);
	if (msg_id >= 0)
		fprintf(info, "msg_key=%#x\n", (unsigned)msg_key);
	if (sem_id >= 0)
		fprintf(info, "sem_key=%#x\n", (unsigned)sem_key);
	snprintf(mq, sizeof(mq), "/airlock-esc-mq-%d", pid);
	q = mq_open(mq, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	if (q != (mqd_t)-1)
		fprintf(info, "mq_name=%s\n", mq);
	snprintf(pshm, sizeof(pshm), "/airlock-esc-shm-%d", pid);
	{
		int fd = shm_open(pshm, O_CREAT | O_EXCL | O_RDWR, 0644);

		if (fd >= 0) {
			close(fd);
			fprintf(info, "posix_shm=%s\n", pshm);
		}
	}
	fclose(info);
	{
		char from[PATH_MAX], to[PATH_MAX];

		snprintf(from, sizeof(from), "%s/info.tmp", dir);
		snprintf(to, sizeof(to), "%s/info", dir);
		rename(from, to);
	}

	while (!g_stop) {
		struct pollfd p[8];
		int r;

		for (int i = 0; i < nl; i++) {
			p[i].fd = l[i].fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		r = poll(p, (nfds_t)nl, 1000);
		if (r <= 0)
			continue;
		for (int i = 0; i < nl; i++) {
			char buf[256];

			if (!(p[i].revents & POLLIN))
				continue;
			if (l[i].stream) {
				int c = accept4(l[i].fd, NULL, NULL, SOCK_CLOEXEC);

				if (c >= 0) {
					fprintf(log, "CONTACT %s accept\n", l[i].name);
					close(c);
				}
			} else {
				ssize_t n = recv(l[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

				if (n >= 0)
					fprintf(log, "CONTACT %s datagram %zd bytes\n", l[i].name, n);
			}
		}
	}
	for (int i = 0; i < nl; i++)
		close(l[i].fd);
	unlink(unix_path);
	if (shm_id >= 0)
		shmctl(shm_id, IPC_RMID, NULL);
	if (msg_id >= 0)
		msgctl(msg_id, IPC_RMID, NULL);
	if (sem_id >= 0)
		semctl(sem_id, 0, IPC_RMID);
	if (q != (mqd_t)-1)
		mq_close(q);
	mq_unlink(mq);
	shm_unlink(pshm);
	return 0;
}

/*
 * probe host-proxy DIR [OWN_ADDR]: for the selftest, a deliberately naive
 * proxy on 127.0.0.1 (address in DIR/proxy) with the bugs the egress probes
 * look for: CONNECT, absolute-URI requests (routed by the Host header when
 * there is one) and SOCKS5 to any address, resolved the way inet_aton and
 * /etc/hosts would. It only ever connects to this machine (loopback, the
 * unspecified address, OWN_ADDR); anything else is answered 502 / SOCKS5
 * 0x05 "connection refused" as if it had tried, without sending a packet.
 */
static bool naive_local(const struct sockaddr *sa, const char *own)
{
	char a[INET6_ADDRSTRLEN] = "";

	if (sa->sa_family == AF_INET) {
		uint32_t v = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
		return (v >> 24) == 127 || v == 0 || (own && !strcmp(a, own));
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(x) || IN6_IS_ADDR_UNSPECIFIED(x))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(x)) {
			inet_ntop(AF_INET, &x->s6_addr[12], a, sizeof(a));
			return x->s6_addr[12] == 127 || !strcmp(a, "0.0.0.0") || (own && !strcmp(a, own));
		}
	}
	return false;
}

/* 0 connected (fd in *out), -1 refused/failed, -2 would have left the machine, -3 no address. */
static int naive_connect(const char *host, uint16_t port, const char *own, int *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char h[256], ps[8];
	size_t n = strlen(host);
	int r = -3;

	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(h, sizeof(h), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(h, sizeof(h), "%s", host);
	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(h, ps, &hints, &res) != 0)
		return -3;
	for (ai = res; ai; ai = ai->ai_next) {
		int s;

		if (!naive_local(ai->ai_addr, own)) {
			if (r == -3)
				r = -2;
			continue;
		}
		s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
			*out = s;
			r = 0;
			break;
		}
		if (s >= 0)
			close(s);
		r = -1;
	}
	freeaddrinfo(res);
	return r;
}

static void naive_client(int c, const char *own)
{
	char buf[8192], host[300] = "";
	unsigned char b[300];
	struct timeval tv = { 5, 0 };
	uint16_t port = 80;
	int up = -1, r;
	size_t len = 0;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(c, b, 1, MSG_PEEK) != 1)
		return;
	if (b[0] == 5) {
		if (recv(c, b, 2, MSG_WAITALL) != 2 || recv(c, b + 2, b[1], MSG_WAITALL) != b[1])
			return;
		send_all(c, "\x05\x00", 2);
		if (recv(c, b, 4, MSG_WAITALL) != 4)
			return;
		if (b[3] == 1 && recv(c, b + 4, 6, MSG_WAITALL) == 6) {
			inet_ntop(AF_INET, b + 4, host, sizeof(host));
			port = (uint16_t)(b[8] << 8 | b[9]);
		} else if (b[3] == 4 && recv(c, b + 4, 18, MSG_WAITALL) == 18) {
			inet_ntop(AF_INET6, b + 4, host, sizeof(host));
			port = (uint16_t)(b[20] << 8 | b[21]);
		} else if (b[3] == 3 && recv(c, b + 4, 1, MSG_WAITALL) == 1 &&
			   recv(c, b + 5, (size_t)b[4] + 2, MSG_WAITALL) == b[4] + 2) {
			snprintf(host, sizeof(host), "%.*s", b[4], (char *)b + 5);
			port = (uint16_t)(b[5 + b[4]] << 8 | b[6 + b[4]]);
		} else {
			send_all(c, "\x05\x08\x00\x01\0\0\0\0\0\0", 10);
			return;
		}
		r = naive_connect(host, port, own, &up);
		send_all(c, r == 0 ? "\x05\x00\x00\x01\0\0\0\0\0\0" : r == -3 ? "\x05\x04\x00\x01\0\0\0\0\0\0"
										: "\x05\x05\x00\x01\0\0\0\0\0\0", 10);
	} else {
		char method[16], target[300];
		const char *hh, *start;
		char *eoh = NULL;

		while (len + 1 < sizeof(buf) && !eoh) {
			ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);

			if (n <= 0)
				return;
			len += (size_t)n;
			buf[len] = '\0';
			eoh = strstr(buf, "\r\n\r\n");
		}
		if (sscanf(buf, "%15s %299s", method, target) != 2) {
			dprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
			return;
		}
		/* the bug: the Host header decides where a plain request goes */
		hh = strcasestr(buf, "\r\nhost:");
		if (strcmp(method, "CONNECT") && hh)
			start = hh + 7 + strspn(hh + 7, " ");
		else if (!strncasecmp(target, "http://", 7))
			start = target + 7;
		else
			start = target;
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(start, "/\r\n"), start);
		{
			char *at = strrchr(host, '@'), *colon = strrchr(host, ':');

			if (at)
				memmove(host, at + 1, strlen(at));
			colon = strrchr(host, ':');
			if (colon && (!strchr(host, ']') || colon > strchr(host, ']'))) {
				*colon = '\0';
				port = (uint16_t)atoi(colon + 1);
			}
		}
		r = naive_connect(host, port, own, &up);
		if (r == 0)
			dprintf(c, "%s", strcmp(method, "CONNECT") ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
								   : "HTTP/1.1 200 Connection established\r\n\r\n");
		else if (r == -3)
			dprintf(c, "HTTP/1.1 502 Bad Gateway\r\nX-Airlock-Reason: cannot resolve %s\r\nContent-Length: 0\r\n\r\n", host);
		else
			dprintf(c, "HTTP/1.1 502 Bad Gateway\r\nX-Airlock-Reason: cannot connect to %s port %u%s\r\n"
				"Content-Length: 0\r\n\r\n", host, port, r == -2 ? " (selftest proxy: not attempted)" : "");
	}
	if (up >= 0) {
		ignore_result(send(up, "airlock-escape-proxied\n", 23, MSG_NOSIGNAL));
		close(up);
	}
}

static int host_proxy(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : NULL;
	const char *own = argc > 1 && *argv[1] ? argv[1] : NULL;
	char addr[128], from[PATH_MAX], to[PATH_MAX];
	struct sigaction sa;
	FILE *f;
	int l;

	if (!dir) {
		fprintf(stderr, "usage: probe host-proxy DIR [ADDR]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	l = listen_on(AF_INET, SOCK_STREAM, "127.0.0.1", addr, sizeof(addr));
	if (l < 0) {
		perror("host-proxy");
		return 1;
	}
	snprintf(from, sizeof(from), "%s/proxy.tmp", dir);
	snprintf(to, sizeof(to), "%s/proxy", dir);
	f = fopen(from, "w");
	if (!f)
		return 1;
	fprintf(f, "%s\n", addr);
	fclose(f);
	rename(from, to);
	while (!g_stop) {
		struct pollfd p = { l, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 1000) != 1)
			continue;
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(l);
			naive_client(c, own);
			close(c);
			_exit(0);
		}
		close(c);
	}
	close(l);
	return 0;
}

static int host_sleep(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		pause();
	return 0;
}

/* security.capability v2: permitted+effective CAP_SYS_ADMIN, CAP_NET_RAW, CAP_DAC_OVERRIDE. */
static int host_setcap(const char *file)
{
	struct {
		uint32_t magic_etc;
		struct {
			uint32_t permitted, inheritable;
		} data[2];
	} cap;

	memset(&cap, 0, sizeof(cap));
	cap.magic_etc = 0x02000000 | 0x000001; /* VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE */
	cap.data[0].permitted = (1u << CAP_SYS_ADMIN) | (1u << CAP_NET_RAW) | (1u << CAP_DAC_OVERRIDE);
	if (setxattr(file, "security.capability", &cap, sizeof(cap), 0) < 0) {
		perror("setxattr security.capability");
		return 1;
	}
	return 0;
}

/*
 * probe host-pty -- CMD...: run CMD on a fresh pty in raw mode that is the
 * controlling terminal of its session (as if typed at a terminal) and copy
 * its output to stdout. The session leader waits for CMD and then reads the
 * pty's input queue: anything there was injected from inside with TIOCSTI
 * (it must read before exiting, the hangup on its exit flushes the queue).
 * Exit status is CMD's; an injection adds a "HOST-PTY-INJECTED" stderr line.
 */
static int pty_session(const char *sname, char **argv)
{
	int slave, status = 0;
	struct termios t;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	setsid();
	slave = open(sname, O_RDWR); /* first tty opened by a session leader: ctty */
	if (slave < 0)
		return 125;
	ioctl(slave, TIOCSCTTY, 0);
	tcgetattr(slave, &t);
	cfmakeraw(&t);
	tcsetattr(slave, TCSANOW, &t);
	pid = fork();
	if (pid == 0) {
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fcntl(slave, F_SETFL, O_NONBLOCK);
	n = read(slave, buf, sizeof(buf));
	if (n > 0)
		dprintf(2, "HOST-PTY-INJECTED %zd bytes\n", n);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int host_pty(int argc, char **argv)
{
	int master, status = 0;
	char *sname;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (argc < 1)
		return 2;
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(sname = ptsname(master))) {
		perror("pty");
		return 125;
	}
	pid = fork();
	if (pid == 0)
		_exit(pty_session(sname, argv));
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		bool done;

		poll(&p, 1, 100);
		while ((n = read(master, buf, sizeof(buf))) > 0)
			ignore_result(write(1, buf, (size_t)n));
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (done) {
			while ((n = read(master, buf, sizeof(buf))) > 0)
				ignore_result(write(1, buf, (size_t)n));
			break;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int print_ids(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	char eff[64] = "0", prm[64] = "0";

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	status_field(0, "CapEff", eff, sizeof(eff));
	status_field(0, "CapPrm", prm, sizeof(prm));
	printf("IDS %u %u %u %u %u %u capeff=%s capprm=%s\n", r, e, s, rg, eg, sg, eff, prm);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";

	g_main_pid = getpid();
	g_argc = argc - 2;
	g_argv = argv + 2;
	if (!strcmp(name, "list")) {
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			if (probes[i].expect != '-' && (argc < 3 || !strcmp(argv[2], probes[i].category)))
				printf("%s|%s|%c|%s\n", probes[i].name, probes[i].category, probes[i].expect,
				       probes[i].opts);
		return 0;
	}
	if (!strcmp(name, "hello")) {
		printf("HELLO\n");
		return 0;
	}
	if (!strcmp(name, "print-ids"))
		return print_ids();
	if (!strcmp(name, "host-listen"))
		return host_listen(argc - 2, argv + 2);
	if (!strcmp(name, "host-proxy"))
		return host_proxy(argc - 2, argv + 2);
	if (!strcmp(name, "host-sleep"))
		return host_sleep();
	if (!strcmp(name, "host-setcap"))
		return argc > 2 ? host_setcap(argv[2]) : 2;
	if (!strcmp(name, "host-pty")) {
		int skip = argc > 2 && !strcmp(argv[2], "--") ? 3 : 2;

		return host_pty(argc - skip, argv + skip);
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!strcmp(name, probes[i].name)) {
			probes[i].fn();
			fflush(stdout);
			return 0;
		}
	fprintf(stderr, "probe: unknown probe '%s' (try: probe list)\n", name);
	return 2;
}
