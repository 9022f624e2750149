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
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
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
/* The 32-bit table, reachable from a 64-bit process with int 0x80. */
static long int80(long nr, long a1)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a1)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
static long call_int80_unshare_user(void) { return int80(310 /* i386 unshare */, CLONE_NEWUSER); }
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
};

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

	CHECK(build_with("clone", NULL, NULL, &err) == 0, "build with clone denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_fork) == EPERM, "denied clone refuses fork");
	CHECK(probe(setup_seccomp, call_clone3) == ENOSYS, "clone3 stays off when clone is denied");

	CHECK(build_with("clone3", NULL, NULL, &err) == 0, "build with clone3 denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_clone3) == EPERM, "denied clone3 is refused, not ENOSYS");

	CHECK(build_with("ioctl", NULL, NULL, &err) == 0, "build with ioctl denied %s", err.msg);
	CHECK(probe(setup_seccomp, call_tiocgwinsz) == EPERM, "a full deny replaces the TIOCSTI rule");
	seccomp_prog_free(&cur_prog);
}

static void test_names(void)
{
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

/* ---- Landlock ------------------------------------------------------------ */

static int ll_abi;
static char ll_writable[] = "/tmp/airlock-ll-rw-XXXXXX";
static char ll_other[] = "/tmp/airlock-ll-ro-XXXXXX";
static struct sockaddr_un ll_abstract;

static int setup_landlock(void)
{
	const char *writable[] = { ll_writable, "/nonexistent/airlock-test" };
	al_error err = { 0 };

	if (nnp_set(&err) < 0 || landlock_apply(ll_abi, writable, 2, &err) < 0) {
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

int main(void)
{
	test_errno_mode();
	test_policy();
	test_names();
	test_notify_mode();
	test_landlock();
	test_caps();
	return check_done();
}
