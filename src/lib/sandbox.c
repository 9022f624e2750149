/* The supervisor: create, exec, destroy.
 *
 * create: the cgroup plan (a v2 group is made now), then one clone with the
 * user, pid, mount, ipc and uts namespaces (into the v2 group); the child
 * (init.c) waits at sync 1 while we write its id maps and builds its
 * filesystem meanwhile, while a helper makes its network namespace (net.c)
 * and we make its v1 groups and the seccomp filter (a build-time copy, or
 * compiled for a custom policy). init joins the network namespace once its
 * root is built, receives the filter and the v1 groups' fds at sync 1b,
 * joins the groups, locks itself down and reports at sync 2 (which the
 * first exec may wait for: see al_sandbox_create). Any failure on either
 * side kills it: the command only ever starts in a complete sandbox (fail
 * closed).
 */
#include "sandbox.h"
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL /* Linux 5.5 */
#endif
/* The network namespace is not made here: see net_helper_start. */
#define SANDBOX_CLONE_FLAGS \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)

uint64_t al_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void record_static_layers(struct al_sandbox *sb)
{
	struct al_layer_status *ls = sb->layers;
	layer_set(ls, AL_LAYER_USERNS, AL_LAYER_APPLIED, "uid/gid %u inside", AL_SANDBOX_UID);
	layer_set(ls, AL_LAYER_PIDNS, AL_LAYER_APPLIED, NULL);
	layer_set(ls, AL_LAYER_MOUNTNS, AL_LAYER_APPLIED, NULL);
	layer_set(ls, AL_LAYER_IPCNS, AL_LAYER_APPLIED, NULL);
	layer_set(ls, AL_LAYER_UTSNS, AL_LAYER_APPLIED, NULL);
	layer_set(ls, AL_LAYER_CGROUPNS, AL_LAYER_APPLIED, NULL);
	if (sb->pol.net_mode == AL_NET_GATEWAY)
		layer_set(ls, AL_LAYER_NETNS, AL_LAYER_APPLIED,
			  "loopback only; egress through the gateway at 127.0.0.1:%d", AL_GATEWAY_PORT);
	else
		layer_set(ls, AL_LAYER_NETNS, AL_LAYER_APPLIED, "loopback only, no egress");
	layer_set(ls, AL_LAYER_FILESYSTEM, AL_LAYER_APPLIED, "pivot_root, read-only root");
	layer_set(ls, AL_LAYER_CAPS, AL_LAYER_APPLIED, "all sets empty, securebits locked");
	layer_set(ls, AL_LAYER_NO_NEW_PRIVS, AL_LAYER_APPLIED, NULL);
	layer_set(ls, AL_LAYER_SECCOMP, AL_LAYER_APPLIED, NULL);
	if (sb->prog.notify)
		layer_set(ls, AL_LAYER_SECCOMP_NOTIFY, AL_LAYER_APPLIED, NULL);
	else
		layer_set(ls, AL_LAYER_SECCOMP_NOTIFY, AL_LAYER_UNAVAILABLE,
			  "kernel lacks seccomp user notification: denials refused but not counted");
	if (sb->landlock_abi > 0)
		layer_set(ls, AL_LAYER_LANDLOCK, AL_LAYER_APPLIED, "ABI %d%s", sb->landlock_abi,
			  sb->landlock_abi < 4 ? " (no TCP rules)" : sb->landlock_abi < 6 ? " (no scoping)" : "");
	else
		layer_set(ls, AL_LAYER_LANDLOCK, AL_LAYER_UNAVAILABLE, "kernel has no Landlock");
	layer_set(ls, AL_LAYER_TIMEOUT, sb->pol.timeout_ms ? AL_LAYER_APPLIED : AL_LAYER_OFF, NULL);
	layer_set(ls, AL_LAYER_RLIMITS, AL_LAYER_APPLIED, "no core dumps, nofile %llu, fsize %llu",
		  (unsigned long long)sb->pol.open_files, (unsigned long long)sb->pol.file_size);
	if (!sb->pol.workspace || !sb->pol.workspace_writable)
		layer_set(ls, AL_LAYER_IDMAP, AL_LAYER_NOT_NEEDED, NULL);
}

/* The clause of the cgroup note about one controller ("memory: ..."), else
 * the whole note. */
static void cgroup_reason(const char *note, const char *ctl, char *out, size_t len)
{
	size_t n = strlen(ctl);
	for (const char *c = note; c && *c; c = strstr(c, "; ")) {
		if (c != note)
			c += 2;
		if (strncmp(c, ctl, n) == 0 && c[n] == ':') {
			const char *end = strstr(c, "; ");
			size_t k = end ? (size_t)(end - c) : strlen(c);
			snprintf(out, len, "%.*s", (int)(k < len ? k : len - 1), c);
			return;
		}
	}
	snprintf(out, len, "%s", note[0] ? note : "no cgroup");
}

static void record_cgroup_layers(struct al_sandbox *sb)
{
	const struct al_policy *p = &sb->pol;
	const struct cgroup_status *st = &sb->cgst;
	struct al_layer_status *ls = sb->layers;
	struct {
		enum al_layer layer;
		const char *ctl;
		uint64_t want;
		bool have;
		const char *fallback;
	} rows[] = {
		{ AL_LAYER_CGROUP_MEMORY, "memory", p->memory_bytes, st->memory,
		  "RLIMIT_AS and an RSS watchdog" },
		{ AL_LAYER_CGROUP_PIDS, "pids", p->pids, st->pids, "RLIMIT_NPROC" },
		{ AL_LAYER_CGROUP_CPU, "cpu", p->cpu_millis, st->cpu, NULL },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char why[112];
		cgroup_reason(st->note, rows[i].ctl, why, sizeof why);
		if (!rows[i].want)
			layer_set(ls, rows[i].layer, AL_LAYER_OFF, NULL);
		else if (rows[i].have)
			layer_set(ls, rows[i].layer, AL_LAYER_APPLIED, "cgroup %s", st->backend);
		else if (rows[i].fallback)
			layer_set(ls, rows[i].layer, AL_LAYER_UNAVAILABLE, "%s; fallback: %s", why,
				  rows[i].fallback);
		else
			layer_set(ls, rows[i].layer, AL_LAYER_UNAVAILABLE, "%s; not enforced", why);
	}
}

/* Writable host trees as root: the sandbox's host id differs from the owner,
 * so hand the child an idmapped mount (owner <-> sandbox id); files it writes
 * then belong to the caller on the host. Returns the number of fds put in fds[]. */
static size_t idmapped_sources(struct al_sandbox *sb, int *fds, int *ws_bit, int *mount_bits)
{
	size_t n = 0;
	*ws_bit = 0;
	*mount_bits = 0;
	if (!sb->idm.privileged)
		return 0;
	al_error err;
	al_error_clear(&err);
	bool tried = false, failed = false;
	if (sb->pol.workspace && sb->pol.workspace_writable && sb->src.workspace_fd >= 0) {
		tried = true;
		int fd = userns_idmapped_mount(sb->src.workspace_fd, getuid(), getgid(), &sb->idm, &err);
		if (fd >= 0) {
			fds[n++] = fd;
			*ws_bit = 1;
		} else
			failed = true;
	}
	for (size_t i = 0; i < sb->pol.n_mounts && i < AL_MAX_MOUNTS && n < PROTO_MAX_FDS; i++) {
		if (!sb->pol.mounts[i].writable)
			continue;
		tried = true;
		int fd = userns_idmapped_mount(sb->src.mount_fds[i], getuid(), getgid(), &sb->idm, &err);
		if (fd >= 0) {
			fds[n++] = fd;
			*mount_bits |= (int)(1u << i);
		} else
			failed = true;
	}
	if (!tried)
		layer_set(sb->layers, AL_LAYER_IDMAP, AL_LAYER_NOT_NEEDED, NULL);
	else if (failed)
		layer_set(sb->layers, AL_LAYER_IDMAP, AL_LAYER_UNAVAILABLE,
			  "%s: new files belong to the sandbox's host id", err.msg);
	else
		layer_set(sb->layers, AL_LAYER_IDMAP, AL_LAYER_APPLIED, "files written belong to uid %u",
			  (unsigned)getuid());
	return n;
}

#define CREATE_DEADLINE_MS 60000

static int wait_ready(struct al_sandbox *sb, bool interruptible, al_error *err)
{
	/* Bounded, and interruptible: a setup that hangs (a hostile tree, a
	 * stuck filesystem) must not hold the caller. */
	struct pollfd pf[2] = { { .fd = sb->sock, .events = POLLIN },
				{ .fd = interruptible ? sb->intr_fd : -1, .events = POLLIN } };
	uint64_t deadline = al_now_us() + CREATE_DEADLINE_MS * 1000ull;
	int r;
	do {
		uint64_t now = al_now_us();
		r = poll(pf, 2, now >= deadline ? 0 : (int)((deadline - now) / 1000));
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return al_err(err, ETIMEDOUT, "sandbox setup did not finish within %d s", CREATE_DEADLINE_MS / 1000);
	if (r < 0)
		return al_errno(err, "waiting for the sandbox");
	if (!(pf[0].revents & (POLLIN | POLLHUP)) && (pf[1].revents & POLLIN))
		return al_err(err, EINTR, "interrupted while the sandbox was being built");
	struct proto_msg m;
	int fds[2];
	size_t nfds = 2;
	/* sync 2 */
	ssize_t n = proto_recv(sb->sock, &m, fds, &nfds);
	if (n <= 0)
		return al_err(err, EPIPE, "sandbox init died during setup");
	if (m.type == MSG_ERROR) {
		m.text[sizeof m.text - 1] = '\0';
		return al_err(err, m.a, "%s", m.text);
	}
	size_t k = 0;
	int gateway = -1;
	/* init has joined the helper's namespace (or failed): done with it */
	net_helper_reap(&sb->net);
	if (m.type == MSG_READY && (m.a & READY_SECCOMP) && k < nfds)
		sb->listener = fds[k++];
	if (m.type == MSG_READY && (m.a & READY_GATEWAY) && k < nfds)
		gateway = fds[k++];
	while (k < nfds)
		close(fds[k++]);
	if (m.type != MSG_READY) {
		if (gateway >= 0)
			close(gateway);
		return al_err(err, EPROTO, "unexpected message %u from sandbox init", m.type);
	}
	if (sb->pol.net_mode != AL_NET_GATEWAY)
		return 0;
	if (gateway < 0)
		return al_err(err, EPROTO, "sandbox init sent no gateway socket");
	/* only the gateway process keeps the socket: if it dies, so does
	 * the sandbox's one way out */
	int started = gwproc_start(sb, gateway, err);
	close(gateway);
	credrun_drop_ca(sb);
	return started;
}

/* clone3 into the v2 group when there is one (no migration at all), else
 * clone. Returns the pid, 0 in the child, -1 on error; *joined says whether
 * the child already sits in its v2 group. */
static pid_t clone_sandbox(struct al_sandbox *sb, bool *joined)
{
	*joined = false;
	/* CLONE_CLEAR_SIGHAND: init runs none of the caller's signal handlers
	 * (a library caller's, or the CLI's). A pid namespace's init gets
	 * only the signals it handles from inside, so with every handler
	 * back to the default the command cannot make it run one. */
	sb->sighand_cleared = true;
	struct clone_args args = {
		.flags = SANDBOX_CLONE_FLAGS | CLONE_PIDFD | CLONE_CLEAR_SIGHAND,
		.pidfd = (uint64_t)(uintptr_t)&sb->pidfd,
		.exit_signal = SIGCHLD,
	};
	if (sb->join.v2_dir_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)sb->join.v2_dir_fd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (pid >= 0) {
		*joined = sb->join.v2_dir_fd >= 0;
		return pid;
	}
	if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
		return -1;
	/* before Linux 5.7: plain clone, then a pidfd for the child (it is
	 * ours and not yet reaped, so its pid cannot have been reused); init
	 * resets the handlers itself */
	sb->sighand_cleared = false;
	pid = (pid_t)syscall(SYS_clone, SANDBOX_CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid > 0)
		sb->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}

void sandbox_kill_init(struct al_sandbox *sb)
{
	if (sb->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
	else if (sb->init_pid > 0)
		kill(sb->init_pid, SIGKILL);
}

static int start_init(struct al_sandbox *sb, al_error *err)
{
	int sv[2], net[2];
	bool in_v2_group;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return al_errno(err, "socketpair");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, net) < 0) {
		close(sv[0]);
		close(sv[1]);
		return al_errno(err, "socketpair");
	}
	sb->net_chan = net[1];
	pid_t pid = clone_sandbox(sb, &in_v2_group);
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		close(net[0]);
		close(net[1]);
		sb->net_chan = -1;
		return al_errno(err, "clone (user, pid, mount, ipc, uts namespaces)");
	}
	if (pid == 0) {
		close(sv[0]);
		close(net[0]);
		sandbox_init_main(sb, sv[1]);
	}
	close(sv[1]);
	close(net[1]);
	sb->net_chan = -1; /* init's end */
	sb->sock = sv[0];
	sb->init_pid = pid;
	/* The network helper first, so that it runs while we write the maps
	 * and init builds. The namespace file is opened before sync 1: until
	 * then init is still dumpable, so the open cannot be refused. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	int userns_fd = open(path, O_RDONLY | O_CLOEXEC);
	int helper = userns_fd < 0 ? al_errno(err, "opening %s", path) :
				     net_helper_start(userns_fd, net[0], &sb->net, err);
	if (userns_fd >= 0)
		close(userns_fd);
	close(net[0]);
	if (helper < 0)
		return -1;
	/* A v2 group that clone3 could not use is joined the slow way, by us. */
	bool v2_pending = sb->join.v2_dir_fd >= 0 && !in_v2_group;
	if (sb->join.v2_dir_fd >= 0)
		close(sb->join.v2_dir_fd);
	sb->join.v2_dir_fd = -1;
	if (v2_pending && cgroup_attach_v2(sb->cg, pid, err) < 0)
		return -1;

	if (userns_write_maps(pid, &sb->idm, err) < 0)
		return -1;
	int fds[PROTO_MAX_FDS], ws_bit, mount_bits, bundle = -1;
	size_t n = idmapped_sources(sb, fds, &ws_bit, &mount_bits);
	/* The per-run CA is made now, after the clone: init never holds its
	 * key, only the certificate it writes into the new root. */
	if (credrun_make_ca(sb, &bundle, err) < 0 || (bundle >= 0 && n == PROTO_MAX_FDS)) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (bundle >= 0)
			close(bundle);
		return bundle >= 0 ? al_err(err, EMFILE, "too many writable mounts for a run with credentials") : -1;
	}
	if (bundle >= 0)
		fds[n++] = bundle;
	/* sync 1 */
	struct proto_msg go = { .type = MSG_GO, .a = ws_bit | (bundle >= 0 ? GO_CA_BUNDLE : 0),
				.b = mount_bits };
	int r = proto_send(sb->sock, &go, fds, n);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (r < 0)
		return al_errno(err, "starting sandbox init");
	return 0;
}

/* The compiled filter travels in a sealed memfd: the child was cloned
 * before it existed. */
static int send_lock(struct al_sandbox *sb, al_error *err)
{
	_cleanup_close_ int fd = memfd_create("airlock-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return al_errno(err, "memfd_create");
	size_t len = sb->prog.len * sizeof *sb->prog.insns;
	if (write(fd, sb->prog.insns, len) != (ssize_t)len)
		return al_errno(err, "writing the seccomp filter");
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	/* sync 1b */
	/* The child's rlimit fallbacks depend on which controllers we got
	 * (decided before clone, but sent with the rest for one code path). */
	struct proto_msg lock = { .type = MSG_LOCK, .a = sb->prog.notify,
				  .b = sb->cgst.memory | sb->cgst.pids << 1 | sb->cgst.cpu << 2,
				  .c = (int32_t)sb->join.n_tasks };
	int fds[1 + CGROUP_MAX_JOIN] = { fd };
	for (size_t i = 0; i < sb->join.n_tasks; i++)
		fds[1 + i] = sb->join.tasks_fd[i];
	int r = proto_send(sb->sock, &lock, fds, 1 + sb->join.n_tasks);
	cgroup_join_close(&sb->join);
	if (r < 0)
		return al_errno(err, "sending the seccomp filter");
	return 0;
}

/* Once: before the clone for a v2 group (CLONE_INTO_CGROUP), after it
 * otherwise. */
static int make_groups(struct al_sandbox *sb, al_error *err)
{
	if (!sb->cgplan)
		return 0;
	int r = cgroup_make(sb->cgplan, &sb->cg, &sb->cgst, err);
	cgroup_plan_free(sb->cgplan);
	sb->cgplan = NULL;
	if (r < 0)
		return -1;
	return cgroup_join_prepare(sb->cg, &sb->join, err);
}

int sandbox_ready(struct al_sandbox *sb, al_error *err)
{
	if (!sb->ready_pending)
		return 0;
	sb->ready_pending = false;
	/* Not interruptible here: an interrupt now is for the command, whose
	 * request is on its way (the exec loop passes it on). */
	if (wait_ready(sb, false, err) == 0)
		return 0;
	al_error_wrap(err, "creating sandbox");
	sandbox_kill_init(sb);
	close(sb->sock);
	sb->sock = -1;
	return -1;
}

static struct al_sandbox *sandbox_alloc(void)
{
	struct al_sandbox *sb = calloc(1, sizeof *sb);
	if (!sb)
		return NULL;
	sb->sock = sb->listener = sb->intr_fd = sb->pidfd = sb->copy_dest = -1;
	sb->gw = (struct gw_proc){ .pid = -1, .pidfd = -1, .ctl = -1, .events = -1 };
	sb->init_pid = -1;
	mounts_forget_fds(&sb->src);
	sb->join = (struct cgroup_join){ .v2_dir_fd = -1 };
	sb->net_chan = sb->net.pidfd = sb->net.pid = -1;
	return sb;
}

AL_API int al_sandbox_create(const al_policy *p, al_sandbox **out, al_error *err)
{
	*out = NULL;
	struct al_sandbox *sb = sandbox_alloc();
	if (!sb)
		return al_err(err, ENOMEM, "out of memory");
	if (policy_copy(&sb->pol, p) < 0) {
		free(sb);
		return al_err(err, ENOMEM, "out of memory");
	}
	/* First: a breaker that is open, or a log that cannot be opened,
	 * refuses the run before anything is built. */
	if (audit_trail_open(&sb->pol, &sb->audit, err) < 0)
		goto fail;
	userns_plan(&sb->idm);
	sb->landlock_abi = landlock_abi();
	sb->intr_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sb->intr_fd < 0) {
		al_errno(err, "eventfd");
		goto fail;
	}
	/* Where copy-out writes, held from before any command runs: a link
	 * the command plants there later cannot redirect it. */
	if (sb->pol.copy_to && (sb->copy_dest = copyout_open_dest(&sb->pol, sb->pol.copy_to, err)) < 0)
		goto fail;
	/* Opened again by the child in its own mount namespace; here only to
	 * report a missing or unreadable path before anything starts. */
	if (mounts_open_sources(&sb->pol, &sb->src, NULL, err) < 0)
		goto fail;
	struct cgroup_limits lim = { .memory_bytes = sb->pol.memory_bytes, .pids = sb->pol.pids,
				     .cpu_millis = sb->pol.cpu_millis };
	/* pids counts the command's tree; init is one more process. */
	if (lim.pids)
		lim.pids += 1;
	/* init is born in its v2 group (which must exist before the clone),
	 * or moves itself into its v1 groups at sync 1b, before it can fork;
	 * v1 groups are made after the clone, while init builds its root. */
	if (cgroup_plan(&lim, &sb->cgplan, &sb->cgst, err) < 0)
		goto fail;
	if (cgroup_plan_has_v2(sb->cgplan) && make_groups(sb, err) < 0)
		goto fail;
	/* The child builds its filesystem while we make its network
	 * namespace, its groups and its filter (a copy of the build-time
	 * compile, or libseccomp for a custom list). */
	if (start_init(sb, err) < 0)
		goto fail;
	/* Two CPUs are enough for init's build and one more task: the
	 * groups are made once the network helper is done with its CPU. */
	if (net_helper_wait(&sb->net, CREATE_DEADLINE_MS, err) < 0 || make_groups(sb, err) < 0)
		goto fail;
	/* Secrets are read once init exists, so that no copy of one is ever
	 * in its memory, and once the network helper, which shares ours, is
	 * gone; the gateway, forked later, inherits them. */
	if (credrun_resolve(sb, err) < 0)
		goto fail;
	if (seccomp_build(&sb->pol, seccomp_notify_supported(), &sb->prog, err) < 0)
		goto fail;
	record_static_layers(sb);
	record_cgroup_layers(sb);
	if (send_lock(sb, err) < 0)
		goto fail;
	/* sync 2. With nothing to start between the lockdown and the first
	 * command (no gateway, no audit trail) and a build that cannot take
	 * long (no host tree to walk for deny patterns), it is left to that
	 * exec, which sends its request first: init runs the command the
	 * moment it is locked, without a round trip through us. */
	if (!sb->audit && sb->pol.net_mode != AL_NET_GATEWAY && !sb->pol.workspace && !sb->pol.n_mounts)
		sb->ready_pending = true;
	else if (wait_ready(sb, true, err) < 0)
		goto fail;
	/* The child used these; the supervisor has no further need. */
	mounts_close_sources(&sb->src);
	seccomp_prog_free(&sb->prog);
	*out = sb;
	return 0;
fail:
	if (sb->audit) /* no run_start was written: this run_end stands alone */
		audit_setup_failed(sb->audit, &sb->pol, err);
	al_error_wrap(err, "creating sandbox");
	al_sandbox_destroy(sb);
	return -1;
}

AL_API void al_sandbox_destroy(al_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->sock >= 0)
		close(sb->sock); /* init sees EOF, kills everything, exits */
	if (sb->init_pid > 0) {
		/* Killing a pid namespace's init kills every process in it. */
		sandbox_kill_init(sb);
		siginfo_t si;
		int r = -1;
		if (sb->pidfd >= 0)
			while ((r = waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED)) < 0 && errno == EINTR)
				;
		if (r < 0 && (sb->pidfd < 0 || errno == EINVAL)) /* P_PIDFD: Linux 5.4 */
			while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	net_helper_reap(&sb->net);
	gwproc_stop(sb);
	credrun_free(sb);
	audit_trail_close(sb->audit);
	cgroup_plan_free(sb->cgplan);
	cgroup_join_close(&sb->join);
	cgroup_destroy(sb->cg);
	if (sb->listener >= 0)
		close(sb->listener);
	if (sb->intr_fd >= 0)
		close(sb->intr_fd);
	if (sb->copy_dest >= 0)
		close(sb->copy_dest);
	mounts_close_sources(&sb->src);
	seccomp_prog_free(&sb->prog);
	policy_clear(&sb->pol);
	free(sb);
}

AL_API void al_sandbox_interrupt(al_sandbox *sb, int signo)
{
	if (!sb || sb->intr_fd < 0)
		return;
	sb->intr_signo = signo;
	uint64_t one = 1;
	(void)!write(sb->intr_fd, &one, sizeof one);
}
