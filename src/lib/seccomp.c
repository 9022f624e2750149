/* seccomp-BPF: refuse the syscalls an agent's code never needs.
 *
 * Default allow, with a deny list: the sandbox runs arbitrary toolchains
 * (python, node, compilers, package managers), and an allow list that fits
 * them all is no tighter than this one. What is refused is kernel surface
 * that sandbox escapes and kernel exploits go through.
 *
 * The filter is compiled with libseccomp in the supervisor, where errors can
 * still be reported, and installed in the child as its last step.
 *
 * Denials are either answered in the kernel with EPERM, or (notify mode) sent
 * to the supervisor over a user-notification listener, which counts them by
 * syscall and answers EPERM. Allowed calls never leave the kernel either way,
 * so counting costs nothing until something is refused.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/net.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <threads.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* Denials of 32-bit x86 syscalls (int 0x80 from any process) are recorded with
 * this bit set in the number: their numbering differs from x86_64. */
#ifdef __x86_64__
#define COMPAT_ARCH SCMP_ARCH_X86
#define COMPAT_NR_BIT 0x40000000
#endif

/* Syscalls no agent needs. Each group is a way into kernel code that
 * container escapes and local privilege escalations have used. */
static const char *const default_deny[] = {
	/* Mount family: rearranging the sandbox's own tree, and a large attack
	 * surface reachable from a user namespace (fsconfig: CVE-2022-0185). */
	"mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
	"open_tree_attr", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	/* Other processes' memory and files, including the sandbox's own init. */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
	/* New namespaces: an unprivileged user namespace unlocks root-only code
	 * (nf_tables CVE-2023-32233, overlayfs CVE-2023-0386, ...). */
	"unshare", "setns",
	/* The kernel keyring is not namespaced (CVE-2016-0728). */
	"keyctl", "add_key", "request_key",
	/* Exploit primitives: eBPF verifier bugs (CVE-2021-3490), perf events
	 * (CVE-2013-2094), userfaultfd stalls the kernel mid-copy to win races. */
	"bpf", "perf_event_open", "userfaultfd",
	/* io_uring operations are not syscalls, so seccomp never sees them; and
	 * it has been a leading source of kernel LPEs. */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	/* Kernels, modules and machine state. */
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff",
	"acct", "quotactl", "quotactl_fd", "nfsservctl", "vhangup",
	/* Host clock, names and kernel log. */
	"syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
	"setdomainname",
	/* Raw hardware and legacy CPU modes. */
	"iopl", "ioperm", "vm86", "vm86old",
	/* Open by file handle skips every path check: the 2014 "shocker" escape. */
	"name_to_handle_at", "open_by_handle_at",
	/* Whole-filesystem watching; moving pages of other processes. */
	"fanotify_init", "migrate_pages", "move_pages",
	/* Obsolete interfaces where old bugs live. */
	"lookup_dcookie", "uselib", "ustat", "sysfs", "_sysctl",
	/* LSM labels are the host's policy, not the sandbox's. */
	"lsm_set_self_attr",
};

/* Syscalls newer than libseccomp 2.5 knows by name. Since Linux 5.1 a new
 * syscall has one number on every architecture except alpha, ia64 and mips
 * (which add a base), so these are matched by number in a short prologue. */
static const struct {
	const char *name;
	int nr;
} late_syscalls[] = {
#if !defined(__alpha__) && !defined(__ia64__) && !defined(__mips__)
	{ "mount_setattr", 442 },     /* 5.12: libseccomp 2.5.0 and 2.5.1 lack it */
	{ "quotactl_fd", 443 },	      /* 5.14: ... and this one */
	{ "fchmodat2", 452 },	      /* 6.6 */
	{ "lsm_set_self_attr", 460 }, /* 6.8 */
	{ "open_tree_attr", 467 },    /* 6.15 */
#endif
	{ NULL, 0 },
};

#define MAX_LATE 16
struct late_set {
	int nr[MAX_LATE];
	uint32_t act[MAX_LATE]; /* the denial action, or ERRNO(ENOSYS) */
	size_t n;
};

struct filter {
	scmp_filter_ctx ctx;
	uint32_t act;		/* what a denial does: NOTIFY or ERRNO(EPERM) */
	struct late_set late;
};

/* ---- names ------------------------------------------------------------- */

static int late_nr(const char *name)
{
	for (size_t i = 0; late_syscalls[i].name; i++)
		if (strcmp(late_syscalls[i].name, name) == 0)
			return late_syscalls[i].nr;
	return -1;
}

static const char *late_name(int nr)
{
	for (size_t i = 0; late_syscalls[i].name; i++)
		if (late_syscalls[i].nr == nr)
			return late_syscalls[i].name;
	return NULL;
}

static bool name_known(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR || late_nr(name) >= 0;
}

const char *seccomp_default_unknown(void)
{
	for (size_t i = 0; i < sizeof default_deny / sizeof default_deny[0]; i++)
		if (!name_known(default_deny[i]))
			return default_deny[i];
	return NULL;
}

static int check_names(const struct al_strlist *l, const char *field, al_error *err)
{
	for (size_t i = 0; i < l->n; i++)
		if (!name_known(l->v[i]))
			return al_err(err, EINVAL, "%s: unknown syscall '%s'", field, l->v[i]);
	return 0;
}

/* ---- rules ------------------------------------------------------------- */

/* The first action given for a number stays. */
static int late_add(struct late_set *late, int nr, uint32_t act)
{
	for (size_t i = 0; i < late->n; i++)
		if (late->nr[i] == nr)
			return 0;
	if (late->n == MAX_LATE)
		return -ENOSPC;
	late->nr[late->n] = nr;
	late->act[late->n++] = act;
	return 0;
}

/* Answer `act` to `name` whatever its arguments. libseccomp translates the
 * name for each architecture and leaves out those that lack it (vm86 on
 * x86_64); a name newer than this libseccomp goes by its number
 * (late_syscalls), and every name of the default list is in one of the two
 * (test_seccomp checks it). */
static int answer_always(struct filter *f, const char *name, uint32_t act, al_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR) {
		nr = late_nr(name);
		rc = nr < 0 ? 0 : late_add(&f->late, nr, act);
	} else {
		rc = seccomp_rule_add(f->ctx, act, nr, 0);
	}
	if (rc < 0)
		return al_err(err, -rc, "seccomp: adding rule for %s: %s", name, strerror(-rc));
	return 0;
}

static int deny_always(struct filter *f, const char *name, al_error *err)
{
	return answer_always(f, name, f->act, err);
}

struct arg_rule;
typedef int (*arg_rule_fn)(struct filter *f, int nr, const struct arg_rule *r);

/* Syscalls refused only for some arguments. Allowing one by name lifts its
 * rule; denying it replaces the rule with a refusal of every call. `arg` and
 * `flags` say where the add function finds what it checks (-1: nowhere). */
struct arg_rule {
	const char *name;
	arg_rule_fn add;
	int arg;
	int flags;
};

static int rule1(struct filter *f, int nr, struct scmp_arg_cmp a)
{
	return seccomp_rule_add(f->ctx, f->act, nr, 1, a);
}

/* TIOCSTI pushes bytes into the terminal's input queue: the sandbox types
 * commands into the user's shell once it exits (CVE-2017-5226). TIOCLINUX
 * does the same through the console selection (CVE-2023-1523). The kernel
 * reads cmd as 32 bits, so only those are compared; a 64-bit compare is
 * bypassed by setting high bits (CVE-2019-10063). */
static int add_ioctl(struct filter *f, int nr, const struct arg_rule *r)
{
	static const uint32_t cmds[] = { TIOCSTI, TIOCLINUX };
	int rc = 0;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0] && rc == 0; i++)
		rc = rule1(f, nr, SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]));
	return rc;
}

/* clone with any new-namespace flag: the same doors as unshare. CLONE_NEWTIME
 * shares its bit with the exit signal in clone(), where no valid signal sets
 * it. The kernel reads only the low 32 bits of the flags. */
static int add_clone(struct filter *f, int nr, const struct arg_rule *r)
{
	static const uint32_t flags[] = { CLONE_NEWNS,	CLONE_NEWUTS, CLONE_NEWIPC,
					  CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
					  CLONE_NEWCGROUP, CLONE_NEWTIME };
	int rc = 0;

	for (size_t i = 0; i < sizeof flags / sizeof flags[0] && rc == 0; i++)
		rc = rule1(f, nr, SCMP_A0_32(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
	return rc;
}

/* personality: only PER_LINUX (0), PER_LINUX32 (8) and the 0xffffffff query.
 * The flags are what exploits want: ADDR_NO_RANDOMIZE turns ASLR off,
 * READ_IMPLIES_EXEC makes readable memory executable, MMAP_PAGE_ZERO maps
 * page 0 for NULL-pointer exploits, UNAME26 leaked kernel stack
 * (CVE-2012-0957).
 *
 * libseccomp allows one comparison per argument in a rule, so "not one of
 * three values" is a union of masked matches. A 32-bit value that is neither
 * all zeros nor all ones has, going round its bits, a set bit followed by a
 * clear one: rule i matches "bit i set, bit i+1 clear". At i = 3 that would
 * catch 0x8 itself, so that rule also wants bit 2: a value whose only such
 * pair sits at bit 3 and that lacks bit 2 is exactly 0x8. */
static int add_personality(struct filter *f, int nr, const struct arg_rule *r)
{
	int rc = 0;

	for (unsigned int i = 0; i < 32 && rc == 0; i++) {
		uint32_t set = 1u << i, clear = 1u << ((i + 1) % 32);

		if (set == PER_LINUX32)
			set |= PER_LINUX32 >> 1;
		rc = rule1(f, nr, SCMP_A0_32(SCMP_CMP_MASKED_EQ, set | clear, set));
	}
	return rc;
}

/* Refuse arg `arg` in [lo, hi] (32 bits, as the kernel reads an int): one
 * masked match per aligned power-of-two block of the range. */
static int deny_range32(struct filter *f, int nr, unsigned int arg, uint32_t lo, uint32_t hi)
{
	uint64_t l = lo, h = hi;
	int rc = 0;

	while (rc == 0 && l <= h) {
		uint64_t size = 1;

		/* the largest block aligned at l that stays within h */
		while (size < 0x80000000u && !(l & size) && l + 2 * size - 1 <= h)
			size *= 2;
		rc = rule1(f, nr,
			   SCMP_CMP32(arg, SCMP_CMP_MASKED_EQ, (uint32_t)~(size - 1), (uint32_t)l));
		l += size;
	}
	return rc;
}

/* Address families: an allow list, AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK
 * (ip, ss and glibc's getaddrinfo use netlink). Every other family is module
 * code few sandboxes exercise and exploits favour: AF_VSOCK ignores network
 * namespaces, so on a VM it reaches the hypervisor (CID 2) and other guests,
 * a path out that no netns or Landlock rule closes, and its own bugs gave
 * root (CVE-2021-26708); AF_ALG exposes the kernel's crypto API
 * (CVE-2015-8970, CVE-2013-7421); AF_PACKET (CVE-2017-7308, CVE-2020-14386),
 * AF_BLUETOOTH, AF_KEY, AF_RDS, AF_TIPC, ... likewise.
 *
 * Refused: 0, 3..9, 11..15 and everything from 17 on. The kernel reads the
 * family as an int; the finite ranges are compared on its 32 bits, and the
 * tail with a 64-bit >=, which also refuses a call with any high bit set
 * (and so every negative family): a superset, and no libc sends those. */
static int add_family(struct filter *f, int nr, const struct arg_rule *r)
{
	static const uint32_t refused[][2] = { { 0, 0 }, { 3, 9 }, { 11, 15 } };
	int rc = 0;

	for (size_t i = 0; i < sizeof refused / sizeof refused[0] && rc == 0; i++)
		rc = deny_range32(f, nr, 0, refused[i][0], refused[i][1]);
	if (rc == 0)
		rc = rule1(f, nr, SCMP_A0_64(SCMP_CMP_GE, AF_NETLINK + 1, 0));
	/* On i386, socketcall keeps its arguments behind a pointer, so creating
	 * sockets through it (SYS_SOCKET, SYS_SOCKETPAIR in r->arg) is refused
	 * outright; the direct syscalls (Linux 4.3+) are filtered by family. */
	int sc = seccomp_syscall_resolve_name("socketcall");
	if (rc == 0 && sc != __NR_SCMP_ERROR)
		rc = rule1(f, sc, SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)r->arg));
	return rc;
}

/* The kernel's bit; glibc's __O_TMPFILE also holds O_DIRECTORY. The kernel
 * refuses one without the other, so the bit alone identifies O_TMPFILE. */
#define TMPFILE_BIT 020000000

/* No setuid or setgid files, as systemd's RestrictSUIDSGID. A writable host
 * workspace is idmapped: as root, what the sandbox's uid creates lands owned
 * by a host id, and a setuid bit on it would run as that id on the host,
 * outside every layer here (with a root-owned mapping, a host root shell).
 * Refused: a mode (arg r->arg) with S_ISUID or S_ISGID, for the chmod family
 * always, and for the open family when it creates (O_CREAT, or O_TMPFILE
 * whose file can be linked in later) per r->flags. Each bit has its own
 * masked match; a rule may compare two different arguments. */
static int add_suid(struct filter *f, int nr, const struct arg_rule *r)
{
	static const uint32_t bits[] = { S_ISUID, S_ISGID };
	static const uint32_t creating[] = { O_CREAT, TMPFILE_BIT };
	int rc = 0;

	for (size_t i = 0; i < sizeof bits / sizeof bits[0] && rc == 0; i++) {
		struct scmp_arg_cmp mode =
			SCMP_CMP32((unsigned int)r->arg, SCMP_CMP_MASKED_EQ, bits[i], bits[i]);

		if (r->flags < 0) {
			rc = rule1(f, nr, mode);
			continue;
		}
		for (size_t k = 0; k < sizeof creating / sizeof creating[0] && rc == 0; k++)
			rc = seccomp_rule_add(f->ctx, f->act, nr, 2, mode,
					      SCMP_CMP32((unsigned int)r->flags, SCMP_CMP_MASKED_EQ,
							 creating[k], creating[k]));
	}
	return rc;
}

/* Other processes' scheduling and limits. Init (PID 1 inside) runs as the
 * same uid as the command, so the kernel lets the command lower its fd limit
 * (prlimit --pid 1 --nofile=3), renice it, pin it to one CPU or make it
 * SCHED_IDLE: the sandbox's own supervision, starved. libc's setrlimit,
 * getrlimit and nice, and sched_* on oneself, pass pid 0; another pid (in
 * r->arg) is refused. The kernel reads a pid as an int: the 64-bit != also
 * refuses a 0 with high bits set, a superset.
 * pthread_setaffinity_np and pthread_setschedparam name a thread id and get
 * EPERM, which their callers treat as advice not taken. */
static int add_other_pid(struct filter *f, int nr, const struct arg_rule *r)
{
	return rule1(f, nr, SCMP_CMP64((unsigned int)r->arg, SCMP_CMP_NE, 0, 0));
}

/* setpriority and ioprio_set: another "who" is refused as above; so is
 * "every process of my uid" (r->flags: PRIO_USER, IOPRIO_WHO_USER), which in
 * the sandbox's pid namespace includes init. */
static int add_other_who(struct filter *f, int nr, const struct arg_rule *r)
{
	int rc = rule1(f, nr, SCMP_A1_64(SCMP_CMP_NE, 0, 0));
	if (rc == 0)
		rc = rule1(f, nr, SCMP_A0_32(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)r->flags));
	return rc;
}

#define IOPRIO_WHO_USER_ 3 /* linux/ioprio.h, not in every libc's headers */

static const struct arg_rule arg_rules[] = {
	{ "ioctl", add_ioctl, -1, -1 },
	{ "clone", add_clone, -1, -1 },
	{ "personality", add_personality, -1, -1 },
	{ "socket", add_family, SYS_SOCKET, -1 },
	{ "socketpair", add_family, SYS_SOCKETPAIR, -1 },
	/* mode in arg, creating flags in flags */
	{ "chmod", add_suid, 1, -1 },
	{ "fchmod", add_suid, 1, -1 },
	{ "fchmodat", add_suid, 2, -1 },
	{ "open", add_suid, 2, 1 },
	{ "openat", add_suid, 3, 2 },
	{ "creat", add_suid, 1, -1 },
	{ "mkdir", add_suid, 1, -1 },
	{ "mkdirat", add_suid, 2, -1 },
	{ "mknod", add_suid, 1, -1 },
	{ "mknodat", add_suid, 2, -1 },
	/* pid in arg */
	{ "prlimit64", add_other_pid, 0, -1 },
	{ "sched_setaffinity", add_other_pid, 0, -1 },
	{ "sched_setscheduler", add_other_pid, 0, -1 },
	{ "sched_setparam", add_other_pid, 0, -1 },
	{ "sched_setattr", add_other_pid, 0, -1 },
	/* which in arg 0, who in arg 1; flags: the "all of my uid" which */
	{ "setpriority", add_other_who, -1, PRIO_USER },
	{ "ioprio_set", add_other_who, -1, IOPRIO_WHO_USER_ },
};

static int add_arg_rules(struct filter *f, const struct al_policy *p, al_error *err)
{
	for (size_t i = 0; i < sizeof arg_rules / sizeof arg_rules[0]; i++) {
		const char *name = arg_rules[i].name;
		int nr = seccomp_syscall_resolve_name(name);

		/* Lifted by the policy, or replaced by a deny of every call;
		 * or absent on this architecture (open on arm64). */
		if (al_strlist_contains(&p->syscalls_allow, name) ||
		    al_strlist_contains(&p->syscalls_deny, name) || nr == __NR_SCMP_ERROR)
			continue;
		int rc = arg_rules[i].add(f, nr, &arg_rules[i]);
		if (rc < 0)
			return al_err(err, -rc, "seccomp: adding rules for %s: %s", name,
				      strerror(-rc));
	}
	return 0;
}

/* Syscalls that keep the arguments a rule above checks behind a pointer, or
 * that libseccomp cannot filter by argument: while their leader's rule holds
 * they answer ENOSYS, which is not a denial: libcs then fall back to the
 * leader. clone3 (flags in a struct) falls back to clone; openat2 (flags and
 * mode in a struct) to openat; fchmodat2 (Linux 6.6, newer than libseccomp
 * 2.5; glibc 2.39+ tries it for AT_SYMLINK_NOFOLLOW) to fchmodat. Each is
 * lifted only together with its leader (allowing it alone is an error), and
 * stays off when the leader is denied outright. */
static const struct {
	const char *name, *leader;
} followers[] = {
	{ "clone3", "clone" },
	{ "openat2", "openat" },
	{ "fchmodat2", "fchmodat" },
};

static int add_followers(struct filter *f, const struct al_policy *p, al_error *err)
{
	for (size_t i = 0; i < sizeof followers / sizeof followers[0]; i++) {
		if (al_strlist_contains(&p->syscalls_allow, followers[i].leader) ||
		    al_strlist_contains(&p->syscalls_deny, followers[i].name))
			continue;
		if (answer_always(f, followers[i].name, SCMP_ACT_ERRNO(ENOSYS), err) < 0)
			return -1;
	}
	return 0;
}

static int add_rules(struct filter *f, const struct al_policy *p, al_error *err)
{
	for (size_t i = 0; i < sizeof default_deny / sizeof default_deny[0]; i++)
		if (!al_strlist_contains(&p->syscalls_allow, default_deny[i]) &&
		    deny_always(f, default_deny[i], err) < 0)
			return -1;
	if (add_arg_rules(f, p, err) < 0 || add_followers(f, p, err) < 0)
		return -1;
	/* Listed in both deny and allow: deny wins, the safe reading. */
	for (size_t i = 0; i < p->syscalls_deny.n; i++)
		if (deny_always(f, p->syscalls_deny.v[i], err) < 0)
			return -1;
	return 0;
}

/* ---- compiling --------------------------------------------------------- */

static void filter_release(struct filter *f)
{
	if (f->ctx)
		seccomp_release(f->ctx);
}

static int filter_init(struct filter *f, bool use_notify, al_error *err)
{
	int rc;

	f->act = use_notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	f->ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!f->ctx)
		return al_err(err, ENOMEM, "seccomp: creating filter");
	/* A syscall from an architecture the filter does not cover would pass
	 * every rule unchecked: kill instead. This also catches x32 calls. */
	rc = seccomp_attr_set(f->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* Binary search over syscall numbers keeps arg-checked calls cheap. */
	if (rc == 0)
		rc = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#ifdef COMPAT_ARCH
	/* int 0x80 reaches the 32-bit table from any x86_64 process: filter
	 * it with the same rules (names are translated per architecture). */
	if (rc == 0)
		rc = seccomp_arch_add(f->ctx, COMPAT_ARCH);
#endif
	if (rc < 0)
		return al_err(err, -rc, "seccomp: configuring filter: %s", strerror(-rc));
	return 0;
}

/* For syscalls in f->late: on the native (and compat) architecture, answer
 * each number's action, else fall through to libseccomp's program. Jumps in
 * classic BPF are relative and forward, so prepending needs no fixups.
 * Layout: arch checks, load nr, n compares, a skip over n returns, the n
 * returns; compare k jumps over the n-1-k compares after it, the skip and
 * the k returns before its own: n. Returns the number of instructions
 * written to out (room: LATE_ROOM). */
#define LATE_ROOM (2 * MAX_LATE + 5)
static size_t late_prologue(const struct filter *f, struct sock_filter *out)
{
	size_t n = f->late.n, i = 0;

	if (n == 0)
		return 0;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, arch));
#ifdef COMPAT_ARCH
	out[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_ARCH, 1, 0);
#endif
	/* Not ours: skip the nr load, n compares, the skip and n returns. */
	out[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(),
						0, (unsigned char)(2 * n + 2));
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, nr));
	for (size_t k = 0; k < n; k++)
		out[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							(uint32_t)f->late.nr[k], (unsigned char)n, 0);
	out[i++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)n);
	for (size_t k = 0; k < n; k++)
		out[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, f->late.act[k]);
	return i;
}

/* libseccomp 2.5 can only export to an fd: go through a memfd. */
static int export_bpf(const struct filter *f, struct seccomp_prog *out, al_error *err)
{
	_cleanup_close_ int fd = memfd_create("airlock-seccomp", MFD_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0)
		return al_errno(err, "seccomp: memfd_create");
	rc = seccomp_export_bpf(f->ctx, fd);
	if (rc < 0)
		return al_err(err, -rc, "seccomp: exporting BPF: %s", strerror(-rc));
	if (fstat(fd, &st) < 0)
		return al_errno(err, "seccomp: stat of exported BPF");

	size_t body = (size_t)st.st_size / sizeof(struct sock_filter);
	size_t room = body + LATE_ROOM;
	_cleanup_free_ struct sock_filter *insns = calloc(room, sizeof *insns);
	if (!insns)
		return al_err(err, ENOMEM, "seccomp: allocating BPF");
	size_t head = late_prologue(f, insns);
	if (head + body > BPF_MAXINSNS || (size_t)st.st_size % sizeof *insns)
		return al_err(err, E2BIG, "seccomp: filter of %zu instructions", head + body);

	size_t want = (size_t)st.st_size, got = 0;
	while (got < want) {
		ssize_t r = pread(fd, (char *)(insns + head) + got, want - got, (off_t)got);
		if (r <= 0)
			return r < 0 ? al_errno(err, "seccomp: reading exported BPF")
				     : al_err(err, EIO, "seccomp: exported BPF truncated");
		got += (size_t)r;
	}
	out->insns = AL_STEAL_PTR(insns);
	out->len = (unsigned short)(head + body);
	return 0;
}

/* What the sandbox's init (PID 1 inside) calls after installing the filter,
 * which binds it too: serving the supervisor's socket, forking and exec'ing
 * the command, reaping, copy-out (init.c, copyout.c; generous: libc's
 * internals included). Denied outright, such a call would, in notify mode,
 * wait on the listener the supervisor only reads once init has handed it
 * over, or leave init unable to run or reap anything: refused when the policy is built. */
static const char *const init_needs[] = {
	"read", "readv", "write", "writev", "close", "poll", "ppoll", "recvmsg", "sendmsg",
	"recvfrom", "sendto", "wait4", "waitid", "waitpid", "kill", "tgkill", "exit",
	"exit_group", "rt_sigprocmask", "sigprocmask", "rt_sigaction", "sigaction",
	"rt_sigreturn", "sigreturn", "restart_syscall", "signalfd", "signalfd4", "pipe", "pipe2",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "fstat", "fstat64", "newfstatat",
	"fstatat64", "statx", "mmap", "mmap2", "munmap", "mprotect", "madvise", "mremap", "brk",
	"futex", "set_robust_list", "rseq", "clone", "fork", "vfork", "execve", "chdir",
	"close_range", "getrusage", "setsid", "prlimit64", "setrlimit", "getrlimit",
	"ugetrlimit", "openat", "memfd_create", "getpid", "gettid",
	"getdents64", /* copy-out walks directories (copyout.c) */
};

static int check_policy(const struct al_policy *p, al_error *err)
{
	if (check_names(&p->syscalls_deny, "process.syscalls.deny", err) < 0 ||
	    check_names(&p->syscalls_allow, "process.syscalls.allow", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof init_needs / sizeof init_needs[0]; i++)
		if (al_strlist_contains(&p->syscalls_deny, init_needs[i]))
			return al_err(err, EINVAL,
				      "process.syscalls.deny: '%s' is needed by the sandbox's init",
				      init_needs[i]);
	for (size_t i = 0; i < sizeof followers / sizeof followers[0]; i++)
		if (al_strlist_contains(&p->syscalls_allow, followers[i].name) &&
		    !al_strlist_contains(&p->syscalls_allow, followers[i].leader))
			return al_err(err, EINVAL,
				      "process.syscalls.allow: '%s' cannot be allowed alone: its "
				      "arguments are not filtered, so it follows '%s'",
				      followers[i].name, followers[i].leader);
	return 0;
}

#ifndef AIRLOCK_SECCOMP_GEN
#include "seccomp_default.h"

/* The default policy's filter, compiled at build time (seccomp_gen). */
static int copy_default(bool use_notify, struct seccomp_prog *out, al_error *err)
{
	const struct sock_filter *src = use_notify ? seccomp_default_notify : seccomp_default_errno;
	size_t len = use_notify ? sizeof seccomp_default_notify / sizeof *src
				: sizeof seccomp_default_errno / sizeof *src;
	out->insns = malloc(len * sizeof *src);
	if (!out->insns)
		return al_err(err, ENOMEM, "out of memory");
	memcpy(out->insns, src, len * sizeof *src);
	out->len = (unsigned short)len;
	out->notify = use_notify;
	return 0;
}
#endif

int seccomp_build(const struct al_policy *p, bool use_notify, struct seccomp_prog *out,
		  al_error *err)
{
	memset(out, 0, sizeof *out);
#ifndef AIRLOCK_SECCOMP_GEN
	if (p->syscalls_deny.n == 0 && p->syscalls_allow.n == 0)
		return copy_default(use_notify, out, err);
#endif
	return seccomp_compile(p, use_notify, out, err);
}

int seccomp_compile(const struct al_policy *p, bool use_notify, struct seccomp_prog *out,
		    al_error *err)
{
	struct filter f = { 0 };
	int rc;

	memset(out, 0, sizeof *out);
	if (check_policy(p, err) < 0)
		return -1;
	rc = filter_init(&f, use_notify, err);
	if (rc == 0)
		rc = add_rules(&f, p, err);
	if (rc == 0)
		rc = export_bpf(&f, out, err);
	filter_release(&f);
	if (rc < 0)
		return rc;
	out->notify = use_notify;
	return 0;
}

void seccomp_prog_free(struct seccomp_prog *prog)
{
	if (!prog)
		return;
	free(prog->insns);
	prog->insns = NULL;
	prog->len = 0;
}

/* ---- installing -------------------------------------------------------- */

int seccomp_install(const struct seccomp_prog *prog, int *listener, al_error *err)
{
	struct sock_fprog fprog = { .len = prog->len, .filter = prog->insns };
	unsigned long flags = 0;
	long fd;

	*listener = -1;
	/* WAIT_KILLABLE_RECV: once the supervisor has read a notification, a
	 * signal (Go's preemption SIGURG) no longer restarts the call, which
	 * would notify, and count, the same denial twice. */
	if (prog->notify)
		flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	if (fd < 0 && errno == EINVAL && prog->notify) {
		/* Before 5.19 the flag is unknown: counting only, retry without. */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	}
	if (fd < 0 && errno == EBUSY)
		return al_err(err, EBUSY, "seccomp: a filter with a notification listener is "
					  "already installed (nested sandbox?)");
	if (fd < 0)
		return al_errno(err, "seccomp: installing filter%s",
				prog->notify ? " with a notification listener" : "");
	if (prog->notify)
		*listener = (int)fd;
	return 0;
}

bool seccomp_notify_supported(void)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	struct seccomp_notif_sizes sizes;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 &&
	       syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
}

/* ---- serving notifications --------------------------------------------- */

/* The kernel's structure sizes, which may exceed our headers'. A property of
 * the running kernel, so one copy per process is right. */
static struct seccomp_notif_sizes notif_sizes;
static once_flag notif_sizes_once = ONCE_FLAG_INIT;

static void notif_sizes_read(void)
{
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &notif_sizes) < 0)
		memset(&notif_sizes, 0, sizeof notif_sizes);
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

static void denials_count(struct denials *d, int nr)
{
	d->total++;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].nr == nr) {
			d->v[i].count++;
			return;
		}
	if (d->n < AL_MAX_DENIALS) {
		d->v[d->n].nr = nr;
		d->v[d->n++].count = 1;
	}
}

static int notified_nr(const struct seccomp_notif *req)
{
#ifdef COMPAT_ARCH
	if (req->data.arch == COMPAT_ARCH)
		return req->data.nr | COMPAT_NR_BIT;
#endif
	return req->data.nr;
}

/* Called when the supervisor's poll saw the listener readable; never blocks.
 * Between that poll and here the notification may have been withdrawn: the
 * calling thread took a signal (Go's SIGURG, a ^C) before we read it. Then
 * no notification is pending, and a blocking poll (or a RECV with nothing
 * counted for it) would hang the supervisor, timeouts included, until the
 * next denial. So: a poll with timeout 0 decides, and RECV's ENOENT (the
 * withdrawal raced the poll) is "nothing to do". RECV does not block after a
 * readable poll: the kernel counts one wake-up per notification and keeps the
 * count of a withdrawn one, which then ends in ENOENT. */
int seccomp_notify_serve(int listener, struct denials *d)
{
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	int n = poll(&pfd, 1, 0);

	if (n <= 0)
		return n < 0 && errno != EINTR ? -1 : 0;
	/* RECV would block forever once no task uses the filter; poll says so
	 * with POLLHUP (on 6.18 as soon as the last one has exited). */
	if (!(pfd.revents & POLLIN))
		return pfd.revents & (POLLHUP | POLLERR | POLLNVAL) ? -1 : 0;

	call_once(&notif_sizes_once, notif_sizes_read);
	_cleanup_free_ struct seccomp_notif *req =
		calloc(1, max_size(notif_sizes.seccomp_notif, sizeof *req));
	_cleanup_free_ struct seccomp_notif_resp *resp =
		calloc(1, max_size(notif_sizes.seccomp_notif_resp, sizeof *resp));
	if (!req || !resp)
		return -1;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		/* ENOENT: the task died (or was interrupted) after poll. */
		return errno == ENOENT || errno == EINTR ? 0 : -1;
	denials_count(d, notified_nr(req));
	resp->id = req->id;
	resp->error = -EPERM;
	resp->val = 0;
	resp->flags = 0;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

const char *seccomp_syscall_name(int nr, char *buf, size_t len)
{
	uint32_t arch = seccomp_arch_native();
	const char *suffix = "";

#ifdef COMPAT_ARCH
	if (nr >= 0 && (nr & COMPAT_NR_BIT)) {
		arch = COMPAT_ARCH;
		nr &= ~COMPAT_NR_BIT;
		suffix = "/i386";
	}
#endif
	char *name = seccomp_syscall_resolve_num_arch(arch, nr);
	const char *late = late_name(nr);

	if (name)
		snprintf(buf, len, "%s%s", name, suffix);
	else if (late)
		snprintf(buf, len, "%s%s", late, suffix);
	else
		snprintf(buf, len, "syscall_%d%s", nr, suffix);
	free(name);
	return buf;
}
