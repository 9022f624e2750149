/* The privilege layers, tested in forked children: seccomp (errno and notify
 * modes, policy additions and removals), Landlock and capability dropping.
 *
 * A child applies one layer, makes one call and exits with the errno it got
 * (0 for success); the parent checks. Only the parent prints TAP. */
#include "check.h"
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SETUP_FAILED 250 /* the child could not apply its layer */

/* ---- children ---------------------------------------------------------- */

typedef int (*setup_fn)(void);
typedef long (*call_fn)(void);

/* Fork; in the child apply `setup`, run `call` and exit with its errno.
 * Returns that errno, SETUP_FAILED, or 256 + signal if the child was killed. */
static int probe(setup_fn setup, call_fn call)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setup && setup() < 0)
			_exit(SETUP_FAILED);
		errno = 0;
		_exit(call() < 0 ? errno : 0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
}

static struct seccomp_prog cur_prog; /* the filter the next probe installs */

static int setup_seccomp(void)
{
	al_error err = { 0 };
	int listener;

	if (nnp_set(&err) < 0 || seccomp_install(&cur_prog, &listener, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* ---- the calls --------------------------------------------------------- */

static long call_getpid(void) { return getpid() > 0 ? 0 : -1; }
static long call_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long call_mount(void) { return mount("none", "/tmp", "tmpfs", 0, NULL); }
static long call_keyctl(void) { return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -1, 0); }
static long call_io_uring(void) { return syscall(SYS_io_uring_setup, 1, NULL); }
static long call_ptrace(void) { return ptrace(PTRACE_PEEKDATA, 0, NULL, NULL); }
static long call_getppid(void) { return syscall(SYS_getppid) > 0 ? 0 : -1; }
static long call_lsm_set_self_attr(void) { return syscall(460, 0, NULL, 0, 0); }
static long call_open_tree_attr(void) { return syscall(467, -1, NULL, 0, NULL, 0); }

static long call_tiocsti(void)
{
	char c = 'x';
	return ioctl(0, TIOCSTI, &c);
}

/* The kernel reads cmd as 32 bits: a filter comparing 64 is bypassed
 * (CVE-2019-10063). */
static long call_tiocsti_high_bits(void)
{
	char c = 'x';
	return syscall(SYS_ioctl, 0, 0xdead000000000000UL | TIOCSTI, &c);
}

static long call_tiocgwinsz(void)
{
	struct winsize ws;
	int fd = open("/dev/null", O_RDONLY);
	long r = ioctl(fd, TIOCGWINSZ, &ws); /* ENOTTY: it reached the kernel */
	close(fd);
	return r;
}

static long call_personality_aslr_off(void) { return personality(ADDR_NO_RANDOMIZE); }

static long call_clone_newns(void)
{
	long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	return r > 0 ? waitpid((pid_t)r, NULL, 0) : r;
}

static long call_clone3(void) { return syscall(SYS_clone3, NULL, 0); }

static long call_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return pid > 0 ? waitpid(pid, NULL, 0) : -1;
}

#ifdef __x86_64__
/* The 32-bit table, reachable from a 64-bit process with int 0x80. Pointers
 * are truncated to 32 bits: pass memory from lowmem(). */
static long int80_3(long nr, long a1, long a2, long a3)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a1), "c"(a2), "d"(a3)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
static long int80(long nr, long a1) { return int80_3(nr, a1, 0, 0); }
static long call_int80_unshare_user(void) { return int80(310 /* i386 unshare */, CLONE_NEWUSER); }

/* A copy of `s` below 2 GiB, where a 32-bit pointer reaches it. */
static char *lowmem(const char *s)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		       -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	snprintf(p, 4096, "%s", s);
	return p;
}
#endif

/* Every 32-bit value outside {0, PER_LINUX32, 0xffffffff} must be refused;
 * every one- and two-bit value, every (cyclic) run of ones and 600000
 * pseudo-random ones. Fails with EDOM on the first surprise (printed to stderr). */
static bool personality_ok(uint32_t v)
{
	bool allowed = v == PER_LINUX || v == PER_LINUX32 || v == 0xffffffffu;
	errno = 0;
	int r = personality(v);
	if (allowed && v != 0xffffffffu)
		personality(PER_LINUX);
	if ((r < 0 && errno == EPERM) == allowed) {
		fprintf(stderr, "personality(0x%x): %s\n", v, allowed ? "refused" : "allowed");
		errno = EDOM; /* the probe's exit code */
		return false;
	}
	return true;
}

static long call_personality_sweep(void)
{
	uint32_t x = 2463534242u;

	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 32; j++)
			if (!personality_ok((1u << i) | (1u << j)))
				return -1;
	for (int len = 1; len < 32; len++) /* every run of ones, rotated */
		for (int rot = 0; rot < 32; rot++) {
			uint32_t run = (1u << len) - 1;
			if (!personality_ok(rot ? run << rot | run >> (32 - rot) : run))
				return -1;
		}
	for (int i = 0; i < 300000; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (!personality_ok(x) || !personality_ok(~x))
			return -1;
	}
	return personality_ok(0) && personality_ok(PER_LINUX32) && personality_ok(0xffffffffu) ? 0 : -1;
}

/* ---- setuid and setgid files ------------------------------------------- */

/* A directory of the test's own: an existing file, and names to create. */
static char sx_dir[] = "/tmp/airlock-suid-XXXXXX";
static char sx_file[64], sx_new[64], sx_newdir[64];

/* Run `r`; a file it created is removed, so the next probe starts clean. */
static long created(long r)
{
	int saved = errno;
	if (r > 2) /* an fd */
		close((int)r);
	unlink(sx_new);
	rmdir(sx_newdir);
	errno = saved;
	return r < 0 ? -1 : 0;
}

static long call_chmod_suid(void) { return chmod(sx_file, 04755); }
static long call_chmod_sgid(void) { return chmod(sx_file, 02755); }
static long call_chmod_plain(void) { return chmod(sx_file, 0755); }
static long call_fchmod_suid(void)
{
	int fd = open(sx_file, O_RDONLY | O_CLOEXEC);
	long r = fchmod(fd, 04755);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}
static long call_fchmodat_sgid(void) { return syscall(SYS_fchmodat, AT_FDCWD, sx_file, 02755); }
/* The kernel reads a mode_t: high bits change nothing. */
static long call_fchmodat_suid_high_bits(void)
{
	return syscall(SYS_fchmodat, AT_FDCWD, sx_file, 0xdead000000000000UL | 04755);
}
static long call_fchmodat2(void) { return syscall(452, AT_FDCWD, sx_file, 0755, 0); }
static long call_open_creat_suid(void)
{
	return created(syscall(SYS_open, sx_new, O_CREAT | O_WRONLY | O_CLOEXEC, 04755));
}
static long call_openat_creat_sgid(void)
{
	return created(openat(AT_FDCWD, sx_new, O_CREAT | O_WRONLY | O_CLOEXEC, 02755));
}
static long call_openat_tmpfile_suid(void)
{
	return created(openat(AT_FDCWD, sx_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 04755));
}
static long call_openat_creat_plain(void)
{
	return created(openat(AT_FDCWD, sx_new, O_CREAT | O_WRONLY | O_CLOEXEC, 0755));
}
/* Without O_CREAT the mode is not used: not refused. */
static long call_openat_no_creat(void)
{
	return created(syscall(SYS_openat, AT_FDCWD, sx_file, O_RDONLY | O_CLOEXEC, 06755));
}
static long call_creat_suid(void) { return created(syscall(SYS_creat, sx_new, 04755)); }
static long call_mkdir_sgid(void) { return created(syscall(SYS_mkdir, sx_newdir, 02755)); }
static long call_mkdirat_suid(void) { return created(mkdirat(AT_FDCWD, sx_newdir, 04755)); }
static long call_mkdir_plain(void) { return created(mkdir(sx_newdir, 0755)); }
static long call_mknod_suid(void) { return created(syscall(SYS_mknod, sx_new, S_IFREG | 04755, 0)); }
static long call_mknodat_sgid(void) { return created(mknodat(AT_FDCWD, sx_new, S_IFREG | 02755, 0)); }
static long call_mknod_plain(void) { return created(mknod(sx_new, S_IFREG | 0644, 0)); }
static long call_openat2(void)
{
	uint64_t how[3] = { O_RDONLY | O_CLOEXEC, 0, 0 }; /* struct open_how */
	return created(syscall(SYS_openat2, AT_FDCWD, sx_file, how, sizeof how));
}

#ifdef __x86_64__
static long call_int80_fchmod_suid(void)
{
	int fd = open(sx_file, O_RDONLY | O_CLOEXEC);
	long r = int80_3(94 /* i386 fchmod */, fd, 04755, 0);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}
static long int80_chmod(long mode)
{
	char *path = lowmem(sx_file);
	return path ? int80_3(15 /* i386 chmod */, (long)(uintptr_t)path, mode, 0) : -1;
}
static long call_int80_chmod_sgid(void) { return int80_chmod(02755); }
static long call_int80_chmod_plain(void) { return int80_chmod(0755); }
static long call_int80_creat_suid(void)
{
	char *path = lowmem(sx_new);
	return created(path ? int80_3(8 /* i386 creat */, (long)(uintptr_t)path, 04755, 0) : -1);
}
static long call_int80_fchmodat2(void)
{
	char *path = lowmem(sx_file);
	return path ? int80_3(452, AT_FDCWD, (long)(uintptr_t)path, 0755) : -1;
}
#endif

/* ---- socket families --------------------------------------------------- */

static long sock_result(long fd)
{
	if (fd < 0)
		return -1;
	close((int)fd);
	return 0;
}
static long sock(unsigned long family, int type)
{
	return sock_result(syscall(SYS_socket, family, type | SOCK_CLOEXEC, 0));
}
static long call_sock_unix(void) { return sock(AF_UNIX, SOCK_STREAM); }
static long call_sock_inet(void) { return sock(AF_INET, SOCK_DGRAM); }
static long call_sock_netlink(void) { return sock(AF_NETLINK, SOCK_RAW); }
static long call_sock_inet6(void)
{
	/* IPv6 may be off in this kernel: any answer but a refusal. */
	long r = sock(AF_INET6, SOCK_DGRAM);
	return r < 0 && errno == EPERM ? -1 : 0;
}
static long call_sock_vsock(void) { return sock(AF_VSOCK, SOCK_STREAM); }
static long call_sock_alg(void) { return sock(AF_ALG, SOCK_SEQPACKET); }
static long call_sock_packet(void) { return sock(AF_PACKET, SOCK_RAW); }
static long call_sock_bluetooth(void) { return sock(AF_BLUETOOTH, SOCK_STREAM); }
static long call_sock_key(void) { return sock(AF_KEY, SOCK_RAW); }
static long call_sock_unspec(void) { return sock(AF_UNSPEC, SOCK_STREAM); }
static long call_sock_3(void) { return sock(3, SOCK_STREAM); }
static long call_sock_9(void) { return sock(9, SOCK_STREAM); }
static long call_sock_11(void) { return sock(11, SOCK_STREAM); }
static long call_sock_negative(void) { return sock((unsigned long)-1L, SOCK_STREAM); }
static long call_sock_huge(void) { return sock(0x7fffffff, SOCK_STREAM); }
/* The kernel reads an int: AF_VSOCK with high bits set is still AF_VSOCK. */
static long call_sock_vsock_high_bits(void) { return sock(0xdead000000000000UL | AF_VSOCK, SOCK_STREAM); }
static long call_socketpair_unix(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	close(sv[0]);
	close(sv[1]);
	return 0;
}
static long call_socketpair_vsock(void)
{
	int sv[2];
	return socketpair(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}
#ifdef __x86_64__
static long call_int80_socket_vsock(void)
{
	return sock_result(int80_3(359 /* i386 socket */, AF_VSOCK, SOCK_STREAM, 0));
}
static long call_int80_socket_unix(void)
{
	return sock_result(int80_3(359, AF_UNIX, SOCK_STREAM, 0));
}
static long call_int80_socketcall(void)
{
	static const uint32_t args[3] = { AF_UNIX, SOCK_STREAM, 0 };
	char *low = lowmem("");
	if (!low)
		return -1;
	memcpy(low, args, sizeof args);
	return sock_result(int80_3(102 /* i386 socketcall */, 1 /* SYS_SOCKET */,
				   (long)(uintptr_t)low, 0));
}
#endif

/* ---- other processes: init's scheduling and limits ---------------------- */

/* getppid() is the test, same uid: what a command could do to its init. */
static long call_prlimit_other(void)
{
	struct rlimit old;
	return prlimit(getppid(), RLIMIT_NOFILE, NULL, &old);
}
static long call_prlimit_other_high_bits(void)
{
	struct rlimit old;
	return syscall(SYS_prlimit64, 0xdead000000000000UL | (unsigned long)getppid(),
		       RLIMIT_NOFILE, NULL, &old);
}
static long call_prlimit_self(void)
{
	struct rlimit old;
	return prlimit(0, RLIMIT_NOFILE, NULL, &old) < 0 ? -1 : setrlimit(RLIMIT_NOFILE, &old);
}
static long call_setpriority_other(void)
{
	errno = 0;
	int cur = getpriority(PRIO_PROCESS, (id_t)getppid());
	return errno ? -1 : setpriority(PRIO_PROCESS, (id_t)getppid(), cur);
}
static long call_setpriority_self(void) { return setpriority(PRIO_PROCESS, 0, 19); }
static long call_affinity_other(void)
{
	cpu_set_t set;
	return sched_getaffinity(getppid(), sizeof set, &set) < 0
		       ? -1 : sched_setaffinity(getppid(), sizeof set, &set);
}
static long call_affinity_self(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof set, &set) < 0 ? -1
							  : sched_setaffinity(0, sizeof set, &set);
}
static long call_setscheduler_other(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	return sched_setscheduler(getppid(), SCHED_OTHER, &sp);
}
static long call_setparam_other(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	return sched_setparam(getppid(), &sp);
}
static long call_setparam_self(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	return sched_setparam(0, &sp);
}
static long call_setattr_other(void)
{
	uint32_t attr[12] = { 48 /* size */ }; /* struct sched_attr, SCHED_OTHER */
	return syscall(SYS_sched_setattr, getppid(), attr, 0);
}
static long call_ioprio_other(void)
{
	long cur = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, getppid());
	return cur < 0 ? -1 : syscall(SYS_ioprio_set, 1, getppid(), cur);
}
static long call_ioprio_self(void)
{
	long cur = syscall(SYS_ioprio_get, 1, 0);
	return cur < 0 ? -1 : syscall(SYS_ioprio_set, 1, 0, cur);
}

/* ---- seccomp, errno mode ----------------------------------------------- */

static const struct {
	const char *what;
	call_fn call;
	int want;
} errno_probes[] = {
	{ "getpid is allowed", call_getpid, 0 },
	{ "fork (plain clone) is allowed", call_fork, 0 },
	{ "unshare(CLONE_NEWUSER) is refused", call_unshare_user, EPERM },
	{ "mount is refused", call_mount, EPERM },
	{ "keyctl is refused", call_keyctl, EPERM },
	{ "io_uring_setup is refused", call_io_uring, EPERM },
	{ "ptrace is refused", call_ptrace, EPERM },
	{ "ioctl(TIOCSTI) is refused", call_tiocsti, EPERM },
	{ "ioctl(TIOCSTI) with high bits set is refused", call_tiocsti_high_bits, EPERM },
	{ "other ioctls reach the kernel", call_tiocgwinsz, ENOTTY },
	{ "personality(ADDR_NO_RANDOMIZE) is refused", call_personality_aslr_off, EPERM },
	{ "personality allows exactly 0, PER_LINUX32 and the query", call_personality_sweep, 0 },
	{ "clone(CLONE_NEWNS) is refused", call_clone_newns, EPERM },
	{ "clone3 answers ENOSYS", call_clone3, ENOSYS },
	{ "lsm_set_self_attr (unknown to libseccomp 2.5) is refused", call_lsm_set_self_attr,
	  EPERM },
	{ "open_tree_attr (unknown to libseccomp 2.5) is refused", call_open_tree_attr, EPERM },
#ifdef __x86_64__
	{ "32-bit unshare(CLONE_NEWUSER) via int 0x80 is refused", call_int80_unshare_user, EPERM },
#endif
	/* setuid and setgid files (RestrictSUIDSGID) */
	{ "chmod 04755 is refused", call_chmod_suid, EPERM },
	{ "chmod 02755 is refused", call_chmod_sgid, EPERM },
	{ "chmod 0755 is allowed", call_chmod_plain, 0 },
	{ "fchmod 04755 is refused", call_fchmod_suid, EPERM },
	{ "fchmodat 02755 is refused", call_fchmodat_sgid, EPERM },
	{ "fchmodat 04755 with high bits set is refused", call_fchmodat_suid_high_bits, EPERM },
	{ "fchmodat2 (unknown to libseccomp 2.5) answers ENOSYS", call_fchmodat2, ENOSYS },
	{ "open(O_CREAT, 04755) is refused", call_open_creat_suid, EPERM },
	{ "openat(O_CREAT, 02755) is refused", call_openat_creat_sgid, EPERM },
	{ "openat(O_TMPFILE, 04755) is refused", call_openat_tmpfile_suid, EPERM },
	{ "openat(O_CREAT, 0755) is allowed", call_openat_creat_plain, 0 },
	{ "openat without O_CREAT ignores the mode", call_openat_no_creat, 0 },
	{ "creat 04755 is refused", call_creat_suid, EPERM },
	{ "mkdir 02755 is refused", call_mkdir_sgid, EPERM },
	{ "mkdirat 04755 is refused", call_mkdirat_suid, EPERM },
	{ "mkdir 0755 is allowed", call_mkdir_plain, 0 },
	{ "mknod S_IFREG|04755 is refused", call_mknod_suid, EPERM },
	{ "mknodat S_IFREG|02755 is refused", call_mknodat_sgid, EPERM },
	{ "mknod S_IFREG|0644 is allowed", call_mknod_plain, 0 },
	{ "openat2 answers ENOSYS", call_openat2, ENOSYS },
#ifdef __x86_64__
	{ "32-bit fchmod 04755 is refused", call_int80_fchmod_suid, EPERM },
	{ "32-bit chmod 02755 is refused", call_int80_chmod_sgid, EPERM },
	{ "32-bit chmod 0755 is allowed", call_int80_chmod_plain, 0 },
	{ "32-bit creat 04755 is refused", call_int80_creat_suid, EPERM },
	{ "32-bit fchmodat2 answers ENOSYS", call_int80_fchmodat2, ENOSYS },
#endif
	/* socket families: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK only */
	{ "socket(AF_UNIX) is allowed", call_sock_unix, 0 },
	{ "socket(AF_INET) is allowed", call_sock_inet, 0 },
	{ "socket(AF_INET6) is not refused", call_sock_inet6, 0 },
	{ "socket(AF_NETLINK) is allowed", call_sock_netlink, 0 },
	{ "socket(AF_VSOCK) is refused", call_sock_vsock, EPERM },
	{ "socket(AF_VSOCK) with high bits set is refused", call_sock_vsock_high_bits, EPERM },
	{ "socket(AF_ALG) is refused", call_sock_alg, EPERM },
	{ "socket(AF_PACKET) is refused", call_sock_packet, EPERM },
	{ "socket(AF_BLUETOOTH) is refused", call_sock_bluetooth, EPERM },
	{ "socket(AF_KEY) is refused", call_sock_key, EPERM },
	{ "socket(AF_UNSPEC) is refused", call_sock_unspec, EPERM },
	{ "socket(3) is refused", call_sock_3, EPERM },
	{ "socket(9) is refused", call_sock_9, EPERM },
	{ "socket(11) is refused", call_sock_11, EPERM },
	{ "socket(-1) is refused", call_sock_negative, EPERM },
	{ "socket(0x7fffffff) is refused", call_sock_huge, EPERM },
	{ "socketpair(AF_UNIX) is allowed", call_socketpair_unix, 0 },
	{ "socketpair(AF_VSOCK) is refused", call_socketpair_vsock, EPERM },
#ifdef __x86_64__
	{ "32-bit socket(AF_VSOCK) is refused", call_int80_socket_vsock, EPERM },
	{ "32-bit socket(AF_UNIX) is allowed", call_int80_socket_unix, 0 },
	{ "32-bit socketcall(SYS_SOCKET) is refused", call_int80_socketcall, EPERM },
#endif
	/* another process's limits and scheduling: the sandbox's init */
	{ "prlimit64 on another pid is refused", call_prlimit_other, EPERM },
	{ "prlimit64 on another pid with high bits set is refused", call_prlimit_other_high_bits,
	  EPERM },
	{ "getrlimit/setrlimit (pid 0) are allowed", call_prlimit_self, 0 },
	{ "setpriority on another pid is refused", call_setpriority_other, EPERM },
	{ "setpriority on oneself is allowed", call_setpriority_self, 0 },
	{ "sched_setaffinity on another pid is refused", call_affinity_other, EPERM },
	{ "sched_setaffinity on oneself is allowed", call_affinity_self, 0 },
	{ "sched_setscheduler on another pid is refused", call_setscheduler_other, EPERM },
	{ "sched_setparam on another pid is refused", call_setparam_other, EPERM },
	{ "sched_setparam on oneself is allowed", call_setparam_self, 0 },
	{ "sched_setattr on another pid is refused", call_setattr_other, EPERM },
	{ "ioprio_set on another pid is refused", call_ioprio_other, EPERM },
	{ "ioprio_set on oneself is allowed", call_ioprio_self, 0 },
};

static void sx_setup(void)
{
	int fd;

	CHECK(mkdtemp(sx_dir) != NULL, "temp dir %s", sx_dir);
	snprintf(sx_file, sizeof sx_file, "%s/file", sx_dir);
	snprintf(sx_new, sizeof sx_new, "%s/new", sx_dir);
	snprintf(sx_newdir, sizeof sx_newdir, "%s/newdir", sx_dir);
	fd = open(sx_file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "test file %s", sx_file);
	close(fd);
}

static void sx_cleanup(void)
{
	unlink(sx_new);
	rmdir(sx_newdir);
	unlink(sx_file);
	rmdir(sx_dir);
}

static void test_errno_mode(void)
{
	struct al_policy p = { 0 };
	al_error err = { 0 };

	CHECK(seccomp_build(&p, false, &cur_prog, &err) == 0 && cur_prog.len > 0 &&
		      !cur_prog.notify,
	      "build errno-mode filter (%u insns) %s", cur_prog.len, err.msg);
	for (size_t i = 0; i < sizeof errno_probes / sizeof errno_probes[0]; i++) {
		int got = probe(setup_seccomp, errno_probes[i].call);
		CHECK(got == errno_probes[i].want, "%s (got %d, want %d)", errno_probes[i].what,
		      got, errno_probes[i].want);
	}
	struct stat st;
	CHECK(stat(sx_file, &st) == 0 && !(st.st_mode & (S_ISUID | S_ISGID)),
	      "no setuid or setgid bit reached the file (mode %o)", (unsigned)st.st_mode);
	seccomp_prog_free(&cur_prog);
}

/* ---- seccomp, policy ---------------------------------------------------- */

static int build_with(const char *deny, const char *allow, const char *allow2, al_error *err)
{
	struct al_policy p = { 0 };
	int r;

	seccomp_prog_free(&cur_prog);
	al_error_clear(err);
	if (deny)
		al_strlist_add(&p.syscalls_deny, deny);
	if (allow)
		al_strlist_add(&p.syscalls_allow, allow);
	if (allow2)
		al_strlist_add(&p.syscalls_allow, allow2);
	r = seccomp_build(&p, false, &cur_prog, err);
	al_strlist_clear(&p.syscalls_deny);
	al_strlist_clear(&p.syscalls_allow);
	return r;
}

static void test_policy(void)
{
	al_error err = { 0 };
	int r;

	r = build_with("foo", NULL, NULL, &err);
	CHECK(r < 0 && strstr(err.msg, "process.syscalls.deny: unknown syscall 'foo'"),
	      "unknown name in deny is an error: %s", err.msg);
	r = build_with(NULL, "bar", NULL, &err);
	CHECK(r < 0 && strstr(err.msg, "process.syscalls.allow: unknown syscall 'bar'"),
	      "unknown name in allow is an error: %s", err.msg);
	r = build_with(NULL, "clone3", NULL, &err);
	CHECK(r < 0 && strstr(err.msg, "'clone3'"), "clone3 alone cannot be allowed: %s", err.msg);

	CHECK(build_with(NULL, "ptrace", NULL, &err) == 0, "build with ptrace allowed %s", err.msg);
	CHECK(probe(setup_seccomp, call_ptrace) == ESRCH, "allowed ptrace reaches the kernel");
	CHECK(probe(setup_seccomp, call_mount) == EPERM, "the rest of the default list stays");

	CHECK(build_with("getppid", NULL, NULL, &err) == 0, "build with getppid denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_getppid) == EPERM, "denied getppid is refused");

	CHECK(build_with("lsm_set_self_attr", "open_tree_attr", NULL, &err) == 0,
	      "names unknown to libseccomp are accepted in deny and allow %s", err.msg);
	r = probe(setup_seccomp, call_open_tree_attr);
	CHECK(r != EPERM && r != SETUP_FAILED, "allowed open_tree_attr reaches the kernel (%d)", r);

	CHECK(build_with(NULL, "clone", "clone3", &err) == 0, "build with clone allowed %s", err.msg);
	r = probe(setup_seccomp, call_clone3);
	CHECK(r != ENOSYS && r != SETUP_FAILED, "allowed clone3 reaches the kernel (%d)", r);

	/* init runs under the filter: what it needs cannot be denied. */
	static const char *const init_needs[] = { "wait4", "clone", "openat", "recvmsg",
						  "prlimit64", "execve", "exit_group" };
	for (size_t i = 0; i < sizeof init_needs / sizeof init_needs[0]; i++) {
		char want[96];
		snprintf(want, sizeof want,
			 "process.syscalls.deny: '%s' is needed by the sandbox's init", init_needs[i]);
		r = build_with(init_needs[i], NULL, NULL, &err);
		CHECK(r < 0 && strstr(err.msg, want), "denying %s is an error: %s", init_needs[i],
		      err.msg);
	}

	/* The followers: ENOSYS while their leader's rule holds. */
	r = build_with(NULL, "openat2", NULL, &err);
	CHECK(r < 0 && strstr(err.msg, "'openat2'") && strstr(err.msg, "'openat'"),
	      "openat2 alone cannot be allowed: %s", err.msg);
	r = build_with(NULL, "fchmodat2", NULL, &err);
	CHECK(r < 0 && strstr(err.msg, "'fchmodat2'") && strstr(err.msg, "'fchmodat'"),
	      "fchmodat2 alone cannot be allowed: %s", err.msg);
	CHECK(build_with(NULL, "openat", "openat2", &err) == 0, "build with openat allowed %s",
	      err.msg);
	CHECK(probe(setup_seccomp, call_openat2) == 0, "allowed openat2 reaches the kernel");
	CHECK(probe(setup_seccomp, call_openat_creat_sgid) == 0, "allowing openat lifts its rule");
	CHECK(build_with("openat2", NULL, NULL, &err) == 0, "build with openat2 denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_openat2) == EPERM, "denied openat2 is refused, not ENOSYS");
	CHECK(build_with(NULL, "fchmodat", "fchmodat2", &err) == 0,
	      "build with fchmodat allowed %s", err.msg);
	CHECK(probe(setup_seccomp, call_fchmodat2) == 0, "allowed fchmodat2 reaches the kernel");
	CHECK(build_with("fchmodat2", NULL, NULL, &err) == 0, "build with fchmodat2 denied %s",
	      err.msg);
	CHECK(probe(setup_seccomp, call_fchmodat2) == EPERM,
	      "denied fchmodat2 is refused, not ENOSYS");
	CHECK(build_with("fchmodat", NULL, NULL, &err) == 0, "build with fchmodat denied %s",
	      err.msg);
	CHECK(probe(setup_seccomp, call_fchmodat2) == ENOSYS,
	      "fchmodat2 stays off when fchmodat is denied");
	CHECK(probe(setup_seccomp, call_chmod_plain) == 0, "(chmod 0755 still works)");
	chmod(sx_file, 0644);

	CHECK(build_with(NULL, "chmod", NULL, &err) == 0, "build with chmod allowed %s", err.msg);
	CHECK(probe(setup_seccomp, call_chmod_sgid) == 0, "allowing chmod lifts its rule");
	CHECK(probe(setup_seccomp, call_fchmod_suid) == EPERM, "fchmod keeps its rule");
	chmod(sx_file, 0644);
	CHECK(build_with(NULL, "socket", NULL, &err) == 0, "build with socket allowed %s", err.msg);
	r = probe(setup_seccomp, call_sock_vsock);
	CHECK(r != EPERM && r != SETUP_FAILED, "allowing socket lifts the family rule (%d)", r);
	CHECK(probe(setup_seccomp, call_socketpair_vsock) == EPERM, "socketpair keeps its rule");
	CHECK(build_with(NULL, "prlimit64", NULL, &err) == 0, "build with prlimit64 allowed %s",
	      err.msg);
	CHECK(probe(setup_seccomp, call_prlimit_other) == 0, "allowing prlimit64 lifts its rule");

	CHECK(build_with("clone3", NULL, NULL, &err) == 0, "build with clone3 denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_clone3) == EPERM, "denied clone3 is refused, not ENOSYS");

	CHECK(build_with("ioctl", NULL, NULL, &err) == 0, "build with ioctl denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_tiocgwinsz) == EPERM, "a full deny replaces the TIOCSTI rule");
	seccomp_prog_free(&cur_prog);
}

static void test_names(void)
{
	/* a name this libseccomp does not know would be left out of the
	 * filter, and the call allowed: each goes by name or by number */
	const char *unknown = seccomp_default_unknown();
	CHECK(unknown == NULL, "every name of the default deny list is known (not: %s)", unknown ? unknown : "-");
	char buf[32];

	CHECK(strcmp(seccomp_syscall_name(SYS_mount, buf, sizeof buf), "mount") == 0,
	      "name of SYS_mount: %s", buf);
	CHECK(strcmp(seccomp_syscall_name(460, buf, sizeof buf), "lsm_set_self_attr") == 0,
	      "name of a syscall libseccomp does not know: %s", buf);
	CHECK(strcmp(seccomp_syscall_name(99999, buf, sizeof buf), "syscall_99999") == 0,
	      "name of no syscall: %s", buf);
#ifdef __x86_64__
	CHECK(strcmp(seccomp_syscall_name(310 | 0x40000000, buf, sizeof buf), "unshare/i386") == 0,
	      "name of a 32-bit syscall: %s", buf);
#endif
}

/* ---- seccomp, notify mode ---------------------------------------------- */

static int send_fd(int sock, int fd)
{
	char data = 'L';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1 || !CMSG_FIRSTHDR(&msg))
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
	return fd;
}

/* Install with a listener, hand it to the parent, make denied calls.
 * Exit 0 when each got EPERM and the allowed call worked. */
static void notify_child(int sock)
{
	al_error err = { 0 };
	int listener, bad = 0;

	if (nnp_set(&err) < 0 || seccomp_install(&cur_prog, &listener, &err) < 0 ||
	    send_fd(sock, listener) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(SETUP_FAILED);
	}
	close(listener);
	bad |= !(call_unshare_user() < 0 && errno == EPERM);
	bad |= !(call_mount() < 0 && errno == EPERM) << 1;
	bad |= !(call_mount() < 0 && errno == EPERM) << 2;
	bad |= !(call_getpid() == 0) << 3;
	bad |= !(call_clone3() < 0 && errno == ENOSYS) << 4;
#ifdef __x86_64__
	bad |= !(call_int80_unshare_user() < 0 && errno == EPERM) << 5;
#endif
	_exit(bad);
}

static uint64_t denied_count(const struct denials *d, const char *name)
{
	char buf[32];

	for (size_t i = 0; i < d->n; i++)
		if (strcmp(seccomp_syscall_name(d->v[i].nr, buf, sizeof buf), name) == 0)
			return d->v[i].count;
	return 0;
}

/* Serve until the child has exited and been reaped, then expect serve to
 * report the listener gone. Returns the child's exit status. */
static int serve_child(pid_t pid, int listener, struct denials *d, int *gone)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int st = -1;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = listener, .events = POLLIN },
					 { .fd = pidfd, .events = POLLIN } };
		if (poll(pfd, 2, 10000) <= 0)
			break;
		if (pfd[0].revents & POLLIN) {
			seccomp_notify_serve(listener, d);
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			waitpid(pid, &st, 0);
			break;
		}
	}
	close(pidfd);
	/* Guard against a hang: the listener must hang up by now. */
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	*gone = poll(&pfd, 1, 5000) == 1 ? seccomp_notify_serve(listener, d) : 0;
	return st;
}

static void test_notify_mode(void)
{
	struct al_policy p = { 0 };
	struct denials d = { 0 };
	al_error err = { 0 };
	int sv[2], gone = 0;

	if (!seccomp_notify_supported()) {
		CHECK(1, "# SKIP seccomp user notification not supported");
		return;
	}
	CHECK(seccomp_build(&p, true, &cur_prog, &err) == 0 && cur_prog.notify,
	      "build notify-mode filter %s", err.msg);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		notify_child(sv[1]);
	}
	close(sv[1]);
	int listener = recv_fd(sv[0]);
	close(sv[0]);
	CHECK(listener >= 0, "child handed over its listener");
	int st = serve_child(pid, listener, &d, &gone);
	close(listener);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "denied calls got EPERM, others ran (0x%x)",
	      st);
	CHECK(denied_count(&d, "unshare") == 1, "one unshare counted");
	CHECK(denied_count(&d, "mount") == 2, "two mounts counted");
#ifdef __x86_64__
	CHECK(denied_count(&d, "unshare/i386") == 1, "the 32-bit unshare counted apart");
	CHECK(d.total == 4 && d.n == 3, "total %llu in %zu kinds (clone3 is not a denial)",
	      (unsigned long long)d.total, d.n);
#else
	CHECK(d.total == 3 && d.n == 2, "total %llu in %zu kinds (clone3 is not a denial)",
	      (unsigned long long)d.total, d.n);
#endif
	CHECK(gone == -1, "serve reports the listener gone once the child is reaped");
	seccomp_prog_free(&cur_prog);
}

/* ---- seccomp, notify mode: withdrawn notifications ---------------------- */

/* A thread makes a denied call on each byte from the parent and answers the
 * errno it got. SIGUSR1 (no SA_RESTART) interrupts the call: the kernel
 * withdraws the notification, maybe after the supervisor's poll saw it. */
static void on_sigusr1(int sig) { (void)sig; }

static void *race_thread(void *arg)
{
	int sock = *(int *)arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char c;

	if (write(sock, &tid, sizeof tid) != sizeof tid)
		return NULL;
	while (read(sock, &c, 1) == 1) {
		int e = call_mount() < 0 ? errno : 0;
		if (write(sock, &e, sizeof e) != sizeof e)
			break;
	}
	return NULL;
}

static void race_child(int sock)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	al_error err = { 0 };
	pthread_t t;
	int listener;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || nnp_set(&err) < 0 ||
	    seccomp_install(&cur_prog, &listener, &err) < 0 || send_fd(sock, listener) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(SETUP_FAILED);
	}
	close(listener);
	if (pthread_create(&t, NULL, race_thread, &sock) != 0)
		_exit(SETUP_FAILED);
	pthread_join(t, NULL);
	_exit(0);
}

static void on_sigalrm(int sig) { (void)sig; }

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One seccomp_notify_serve, timed. An alarm (no SA_RESTART) ends a serve
 * that blocks, so a regression fails here instead of hanging the test. */
static double timed_serve(int listener, struct denials *d, int *rc)
{
	struct itimerval on = { .it_value = { .tv_usec = 300000 } }, off = { { 0, 0 }, { 0, 0 } };
	double t0 = now_ms();

	setitimer(ITIMER_REAL, &on, NULL);
	*rc = seccomp_notify_serve(listener, d);
	setitimer(ITIMER_REAL, &off, NULL);
	return now_ms() - t0;
}

/* The notification withdrawn between the supervisor's poll and the serve:
 * serve must neither block nor fail. Even rounds wait until the thread saw
 * EINTR (withdrawn for sure), odd ones race the signal against the serve,
 * every third serves an uninterrupted call. */
static void test_notify_withdrawn(void)
{
	struct sigaction sa = { .sa_handler = on_sigalrm }, old_sa;
	struct al_policy p = { 0 };
	struct denials d = { 0 };
	al_error err = { 0 };
	int sv[2], rounds = 60, bad = 0, eperm = 0, eintr = 0;
	double worst = 0;
	pid_t tid = 0;

	if (!seccomp_notify_supported()) {
		CHECK(1, "# SKIP seccomp user notification not supported");
		return;
	}
	CHECK(seccomp_build(&p, true, &cur_prog, &err) == 0, "build notify-mode filter %s",
	      err.msg);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old_sa);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		race_child(sv[1]);
	}
	close(sv[1]);
	int listener = recv_fd(sv[0]);
	CHECK(listener >= 0 && read(sv[0], &tid, sizeof tid) == sizeof tid && tid > 0,
	      "child handed over its listener and thread id");
	for (int i = 0; i < rounds && listener >= 0 && !bad; i++) {
		struct pollfd pfd = { .fd = listener, .events = POLLIN };
		int rc = 0, e = -1;
		bool interrupt = i % 3 != 2;

		if (write(sv[0], "x", 1) != 1 || poll(&pfd, 1, 5000) != 1 ||
		    !(pfd.revents & POLLIN)) {
			bad = 1; /* the supervisor's poll: a notification is pending */
			break;
		}
		if (interrupt)
			syscall(SYS_tgkill, pid, tid, SIGUSR1);
		if (interrupt && i % 2 == 0) {
			if (read(sv[0], &e, sizeof e) != sizeof e || e != EINTR) {
				bad = 2;
				break;
			}
		}
		double ms = timed_serve(listener, &d, &rc);
		if (ms > worst)
			worst = ms;
		if (rc != 0 || ms > 100) {
			fprintf(stderr, "round %d: serve returned %d after %.1f ms\n", i, rc, ms);
			bad = 3;
			break;
		}
		if (e < 0 && read(sv[0], &e, sizeof e) != sizeof e) {
			bad = 4;
			break;
		}
		eperm += e == EPERM;
		eintr += e == EINTR;
		if (e != EPERM && e != EINTR) {
			bad = 5;
			break;
		}
	}
	close(sv[0]); /* the thread reads EOF and the child exits */
	int st = -1, gone = 0;
	if (listener >= 0) {
		serve_child(pid, listener, &d, &gone);
		close(listener);
	} else {
		waitpid(pid, &st, 0);
	}
	sigaction(SIGALRM, &old_sa, NULL);

	CHECK(bad == 0, "serve never blocked nor failed on withdrawn notifications (code %d; "
			"worst %.1f ms; %d EPERM, %d EINTR)",
	      bad, worst, eperm, eintr);
	CHECK(eintr >= rounds / 3 && eperm >= rounds / 3,
	      "both withdrawn and served calls were seen (%d EINTR, %d EPERM)", eintr, eperm);
	CHECK(denied_count(&d, "mount") == (uint64_t)eperm,
	      "only served calls are counted (%llu counted, %d served)",
	      (unsigned long long)denied_count(&d, "mount"), eperm);
	seccomp_prog_free(&cur_prog);
}

/* ---- Landlock ------------------------------------------------------------ */

static int ll_abi;
static char ll_writable[] = "/tmp/airlock-ll-rw-XXXXXX";
static char ll_other[] = "/tmp/airlock-ll-ro-XXXXXX";
static struct sockaddr_un ll_abstract;

static int setup_landlock(void)
{
	const char *writable[] = { ll_writable, "/nonexistent/airlock-test" };
	al_error err = { 0 };

	if (nnp_set(&err) < 0 || landlock_apply(ll_abi, writable, 2, 0, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static long create_in(const char *dir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/file", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	long r = write(fd, "x", 1) == 1 ? 0 : -1;
	close(fd);
	return r;
}

static long call_write_granted(void) { return create_in(ll_writable); }
static long call_write_other(void) { return create_in(ll_other); }
static long call_read_etc(void) { return access("/etc/passwd", R_OK); }

static long call_dev_null(void)
{
	int fd = open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC);
	long r = fd >= 0 && write(fd, "x", 1) == 1 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return r;
}

static long tcp(bool do_bind)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(do_bind ? 0 : 1) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long r = do_bind ? bind(fd, (struct sockaddr *)&a, sizeof a)
			 : connect(fd, (struct sockaddr *)&a, sizeof a);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}
static long call_tcp_connect(void) { return tcp(false); }
static long call_tcp_bind(void) { return tcp(true); }

static long call_abstract_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long r = connect(fd, (struct sockaddr *)&ll_abstract,
			 offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ll_abstract.sun_path + 1));
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static long call_signal_parent(void) { return kill(getppid(), 0); }

static int abstract_listener(void)
{
	ll_abstract.sun_family = AF_UNIX;
	snprintf(ll_abstract.sun_path + 1, sizeof ll_abstract.sun_path - 1, "airlock-test-%d",
		 (int)getpid());
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(fd, (struct sockaddr *)&ll_abstract,
		 offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ll_abstract.sun_path + 1)) < 0 ||
	    listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_landlock(void)
{
	ll_abi = landlock_abi();
	if (ll_abi < 1) {
		CHECK(1, "# SKIP Landlock not available");
		return;
	}
	CHECK(mkdtemp(ll_writable) && mkdtemp(ll_other), "temp dirs, Landlock ABI %d", ll_abi);
	CHECK(probe(setup_landlock, call_write_granted) == 0, "writing in the granted dir works");
	CHECK(probe(setup_landlock, call_write_other) == EACCES, "writing elsewhere is refused");
	CHECK(probe(NULL, call_write_other) == 0, "(control: it works without Landlock)");
	CHECK(probe(setup_landlock, call_read_etc) == 0, "reading outside works");
	CHECK(probe(setup_landlock, call_dev_null) == 0, "writing /dev/null (with O_TRUNC) works");

	if (ll_abi >= 4) {
		CHECK(probe(NULL, call_tcp_connect) == ECONNREFUSED, "(control: TCP connect refused by peer)");
		CHECK(probe(setup_landlock, call_tcp_connect) == EACCES, "TCP connect is refused");
		CHECK(probe(setup_landlock, call_tcp_bind) == EACCES, "TCP bind is refused");
	} else {
		CHECK(1, "# SKIP TCP rules need Landlock ABI 4 (have %d)", ll_abi);
	}

	if (ll_abi >= 6) {
		int lfd = abstract_listener();
		CHECK(lfd >= 0 && probe(NULL, call_abstract_connect) == 0,
		      "(control: abstract unix connect works)");
		CHECK(probe(setup_landlock, call_abstract_connect) == EPERM,
		      "abstract unix connect out of the domain is refused");
		CHECK(probe(setup_landlock, call_signal_parent) == EPERM,
		      "signals out of the domain are refused");
		close(lfd);
	} else {
		CHECK(1, "# SKIP scoping needs Landlock ABI 6 (have %d)", ll_abi);
	}

	char path[128];
	snprintf(path, sizeof path, "%s/file", ll_writable);
	unlink(path);
	snprintf(path, sizeof path, "%s/file", ll_other);
	unlink(path);
	rmdir(ll_writable);
	rmdir(ll_other);
}

/* ---- capabilities -------------------------------------------------------- */

static int cap_read(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	memset(d, 0, 2 * sizeof *d);
	return (int)syscall(SYS_capget, &h, d);
}

/* 0 ok; 1 no userns; 2 no caps before; 3 drop failed; 4 caps left;
 * 5 bounding set left; 6 a privileged call still worked. */
static int caps_child(bool empty_effective)
{
	struct __user_cap_data_struct d[2];
	al_error err = { 0 };

	if (unshare(CLONE_NEWUSER) < 0)
		return 1;
	if (cap_read(d) < 0 || d[0].permitted == 0)
		return 2;
	if (empty_effective) { /* as after a uid change with keep-caps */
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		d[0].effective = d[1].effective = 0;
		syscall(SYS_capset, &h, d);
	}
	if (caps_drop_all(&err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 3;
	}
	if (cap_read(d) < 0 || d[0].effective || d[0].permitted || d[0].inheritable ||
	    d[1].effective || d[1].permitted || d[1].inheritable)
		return 4;
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0)
			return 5;
	if (unshare(CLONE_NEWUTS) == 0 || prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) == 0)
		return 6;
	return 0;
}

static int run_caps_child(bool empty_effective)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(caps_child(empty_effective));
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
}

static void test_caps(void)
{
	int r = run_caps_child(false);

	if (r == 1) {
		CHECK(1, "# SKIP user namespaces not available here");
		return;
	}
	CHECK(r == 0, "caps_drop_all in a fresh user namespace leaves nothing (code %d)", r);
	r = run_caps_child(true);
	CHECK(r == 0, "caps_drop_all works with an empty effective set (code %d)", r);
}

/* The build-time copy of the default filter must be exactly what libseccomp
 * compiles now, in both modes: a stale copy would silently weaken or change
 * the filter. */
static void test_precompiled_default(void)
{
	for (int notify = 0; notify < 2; notify++) {
		struct al_policy p = { 0 };
		struct seccomp_prog pre, fresh;
		al_error err;
		al_error_clear(&err);
		int r1 = seccomp_build(&p, notify, &pre, &err);
		int r2 = seccomp_compile(&p, notify, &fresh, &err);
		CHECK(r1 == 0 && r2 == 0 && pre.len == fresh.len && pre.notify == fresh.notify &&
		      memcmp(pre.insns, fresh.insns, pre.len * sizeof *pre.insns) == 0,
		      "precompiled default filter (notify=%d, %u insns) equals a fresh compile (%u)",
		      notify, pre.len, fresh.len);
		seccomp_prog_free(&pre);
		seccomp_prog_free(&fresh);
	}
}

int main(void)
{
	test_precompiled_default();
	sx_setup();
	test_errno_mode();
	test_policy();
	test_names();
	test_notify_mode();
	test_notify_withdrawn();
	test_landlock();
	test_caps();
	sx_cleanup();
	return check_done();
}
