/* The sandbox's init: PID 1 of the new pid namespace.
 *
 * It builds the sandbox (the table in init_steps below, in the order the
 * kernel's rules force), then serves exec requests from the supervisor: it
 * forks the command, reaps every process (orphans re-parent to it), forwards
 * signals, and when the command exits kills whatever it left behind, so
 * nothing outlives a run. Between runs it hands out files for copy-out
 * (copyout.c). It holds no secret and has no capability left when
 * it starts serving: the same layers that confine the command confine it.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct init_ctx {
	struct al_sandbox *sb;
	int sock;
	int listener;
	int gateway;	/* the egress gateway's listening socket, or -1 */
	al_error err;
};

static _Noreturn void fail(struct init_ctx *c)
{
	struct proto_msg m = { .type = MSG_ERROR, .a = c->err.code };
	snprintf(m.text, sizeof m.text, "%s", c->err.msg);
	proto_send(c->sock, &m, NULL, 0);
	_exit(125);
}

/* ---- setup steps --------------------------------------------------------- */

static int step_user(struct init_ctx *c)
{
	return userns_become_sandbox_user(&c->sb->idm, &c->err);
}

static int step_cgroupns(struct init_ctx *c)
{
	/* After the supervisor moved us into our cgroups (sync 1), so the
	 * namespace's root is the sandbox's own cgroup, not the host's. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		return al_errno(&c->err, "unshare(CLONE_NEWCGROUP)");
	return 0;
}

static int step_join_cgroups(struct init_ctx *c)
{
	return cgroup_join_self(&c->sb->join, &c->err);
}

static int step_uts(struct init_ctx *c)
{
	const char *h = c->sb->pol.hostname ? c->sb->pol.hostname : "airlock";
	if (sethostname(h, strlen(h)) < 0)
		return al_errno(&c->err, "sethostname");
	return 0;
}

static int step_netns(struct init_ctx *c)
{
	int r = net_join(c->sb->net_chan, &c->err);
	close(c->sb->net_chan);
	c->sb->net_chan = -1;
	return r;
}

static int step_gateway(struct init_ctx *c)
{
	if (c->sb->pol.net_mode != AL_NET_GATEWAY)
		return 0;
	c->gateway = net_gateway_socket(&c->err);
	return c->gateway < 0 ? -1 : 0;
}

static int step_mounts(struct init_ctx *c)
{
	int r = mounts_setup(&c->sb->pol, &c->sb->src, &c->err);
	mounts_close_sources(&c->sb->src);
	return r;
}

static int step_pdeathsig(struct init_ctx *c)
{
	/* After the uid change: changing credentials clears the death signal.
	 * If the supervisor dies, so does init, and with it the whole pid
	 * namespace. A supervisor that died before this line is caught by the
	 * control socket reaching EOF. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return al_errno(&c->err, "PR_SET_PDEATHSIG");
	/* Not dumpable: the command (same uid) cannot ptrace init or read its memory. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return al_errno(&c->err, "PR_SET_DUMPABLE");
	return 0;
}

static int step_nnp(struct init_ctx *c) { return nnp_set(&c->err); }

static int step_landlock(struct init_ctx *c)
{
	if (c->sb->landlock_abi <= 0)
		return 0;
	const char *writable[4];
	size_t n = 0;
	if (c->sb->pol.workspace_writable)
		writable[n++] = "/workspace";
	writable[n++] = "/tmp";
	writable[n++] = "/dev/shm";
	const char **all = calloc(n + c->sb->pol.n_mounts + 1, sizeof *all);
	if (!all)
		return al_err(&c->err, ENOMEM, "out of memory");
	memcpy(all, writable, n * sizeof *all);
	for (size_t i = 0; i < c->sb->pol.n_mounts; i++)
		if (c->sb->pol.mounts[i].writable)
			all[n++] = c->sb->pol.mounts[i].target;
	int r = landlock_apply(c->sb->landlock_abi, all, n,
			       c->sb->pol.net_mode == AL_NET_GATEWAY ? AL_GATEWAY_PORT : 0, &c->err);
	free(all);
	return r;
}

static int step_caps(struct init_ctx *c) { return caps_drop_all(&c->err); }

static int step_seccomp(struct init_ctx *c)
{
	return seccomp_install(&c->sb->prog, &c->listener, &c->err);
}

/* The order is the security argument; each line says what forces it.
 * Two tables: build_steps run while the supervisor compiles the filter and
 * makes the cgroups; lock_steps run once both have arrived (sync 1b). */
struct init_step {
	const char *what;
	int (*run)(struct init_ctx *c);
};

static const struct init_step build_steps[] = {
	/* uid 65534 first: every later step acts as the sandbox user */
	{ "becoming uid 65534", step_user },
	/* needs CAP_SYS_ADMIN in our user namespace, which owns the UTS ns */
	{ "hostname", step_uts },
	/* needs CAP_SYS_ADMIN; /proc is mounted before the old root goes */
	{ "filesystem", step_mounts },
	/* made meanwhile by the supervisor's helper, in our user namespace,
	 * lo up (net.c); joining needs CAP_SYS_ADMIN there */
	{ "network namespace", step_netns },
	/* in our net ns, with lo up; before Landlock, which refuses bind */
	{ "egress gateway socket", step_gateway },
	/* after the uid change, which would clear it */
	{ "parent-death signal", step_pdeathsig },
};

static const struct init_step lock_steps[] = {
	/* first (the groups were made while we built): nothing we fork may
	 * escape the limits, and nothing has been forked yet */
	{ "joining cgroups", step_join_cgroups },
	/* after joining our cgroups: the namespace root is our own cgroup */
	{ "cgroup namespace", step_cgroupns },
	/* Landlock and an unprivileged seccomp filter require no_new_privs */
	{ "no_new_privs", step_nnp },
	/* after pivot_root: rules are bound to the paths of the new root */
	{ "landlock", step_landlock },
	/* securebits and bounding-set drops need CAP_SETPCAP: one step, then none left */
	{ "capabilities", step_caps },
	/* last: from here on every refused syscall is refused for init too */
	{ "seccomp", step_seccomp },
};

static void run_steps(struct init_ctx *c, const struct init_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].run(c) < 0) {
			al_error_wrap(&c->err, "%s", steps[i].what);
			fail(c);
		}
}

/* sync 1b: the filter, and the `tasks` files of our v1 groups. */
static void receive_lock(struct init_ctx *c)
{
	struct proto_msg m;
	int fds[1 + CGROUP_MAX_JOIN];
	size_t nfds = 1 + CGROUP_MAX_JOIN;
	/* every group's fd, or none of the limits it claims (m.b) would hold */
	if (proto_recv(c->sock, &m, fds, &nfds) <= 0 || m.type != MSG_LOCK || nfds < 1 ||
	    m.c < 0 || nfds != 1 + (size_t)m.c)
		_exit(125);
	int fd = fds[0];
	struct cgroup_join *j = &c->sb->join;
	*j = (struct cgroup_join){ .v2_dir_fd = -1 };
	for (size_t i = 1; i < nfds; i++)
		j->tasks_fd[j->n_tasks++] = fds[i];
	struct stat st;
	struct seccomp_prog *prog = &c->sb->prog;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof *prog->insns ||
	    st.st_size / sizeof *prog->insns > 0xffff) {
		al_err(&c->err, EPROTO, "bad seccomp filter from the supervisor");
		fail(c);
	}
	prog->len = (unsigned short)(st.st_size / sizeof *prog->insns);
	prog->insns = malloc((size_t)st.st_size);
	prog->notify = m.a != 0;
	c->sb->cgst.memory = m.b & 1;
	c->sb->cgst.pids = m.b & 2;
	c->sb->cgst.cpu = m.b & 4;
	if (!prog->insns || pread(fd, prog->insns, (size_t)st.st_size, 0) != st.st_size) {
		al_errno(&c->err, "reading the seccomp filter");
		fail(c);
	}
	close(fd);
}

/* ---- exec --------------------------------------------------------------- */

struct exec_req {
	char **argv, **envp;
	const char *cwd;
	char *payload;
	size_t len;
};

static int parse_exec(int memfd, int argc, int envc, struct exec_req *r, al_error *err)
{
	struct stat st;
	if (argc < 1 || envc < 0 || fstat(memfd, &st) < 0 || st.st_size <= 0)
		return al_err(err, EPROTO, "bad exec request");
	r->len = (size_t)st.st_size;
	r->payload = mmap(NULL, r->len, PROT_READ, MAP_PRIVATE, memfd, 0);
	if (r->payload == MAP_FAILED)
		return al_errno(err, "mapping exec request");
	if (r->payload[r->len - 1] != '\0')
		return al_err(err, EPROTO, "bad exec request");
	r->argv = calloc((size_t)argc + 1, sizeof *r->argv);
	r->envp = calloc((size_t)envc + 1, sizeof *r->envp);
	if (!r->argv || !r->envp)
		return al_err(err, ENOMEM, "out of memory");
	char *p = r->payload, *end = r->payload + r->len;
	for (int i = 0; i < argc + envc + 1; i++) {
		if (p >= end)
			return al_err(err, EPROTO, "bad exec request");
		if (i < argc)
			r->argv[i] = p;
		else if (i < argc + envc)
			r->envp[i - argc] = p;
		else
			r->cwd = p;
		p += strlen(p) + 1;
	}
	return 0;
}

/* The command's process, spawned as posix_spawn does: it shares init's
 * memory (CLONE_VM) and init waits until it has called execve or exited
 * (CLONE_VFORK), so no page table is copied and no page faulted in twice.
 * Until execve it touches only its own stack, this struct's err, and
 * per-process kernel state (fds, cwd, umask, limits, signal dispositions). */
struct spawn {
	struct init_ctx *c;
	const struct exec_req *r;
	const int *fds; /* stdin, stdout, stderr */
	int err;	/* why it could not exec; 0 = it did */
};

static int spawn_child(void *arg)
{
	struct spawn *sp = arg;
	const struct exec_req *r = sp->r;
	al_error err = { 0 };
	int e = 0;
	/* Every signal stays blocked (init blocked them for the clone) until
	 * the dispositions are the defaults: a handler of init's must never
	 * run on this stack. Ignored signals would stay ignored across execve. */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* A new session: no controlling terminal, so TIOCSTI on an inherited tty
	 * cannot push keystrokes into the caller's shell (CVE-2017-5226). */
	if (setsid() < 0)
		goto fail_errno;
	/* fds[] are >= 3 (they arrived by SCM_RIGHTS after 0-2 existed). */
	for (int i = 0; i < 3; i++)
		if (dup2(sp->fds[i], i) < 0)
			goto fail_errno;
	/* Every other fd is closed at exec. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		goto fail_errno;
	if (chdir(r->cwd) < 0)
		goto fail_errno;
	/* not the caller's umask: files left in a host workspace must not
	 * come out group- or world-writable by accident */
	umask(022);
	if (rlimits_apply(&sp->c->sb->pol, &sp->c->sb->cgst, &err) < 0) {
		e = err.code ? err.code : EPERM;
		goto fail;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* execvp searches the PATH of environ (execvpe too, despite its
	 * envp): the command's. init puts its own back once we are gone. */
	environ = r->envp;
	execvp(r->argv[0], r->argv);
fail_errno:
	e = errno;
fail:
	sp->err = e ? e : EINVAL;
	_exit(127);
}

struct run_state {
	pid_t main_pid;
	int main_status;
	bool main_done;
	bool last; /* no request follows: end with the command's tree */
	int exec_errno;
};

static void start_exec(struct init_ctx *c, const struct proto_msg *m, int *fds, size_t nfds,
		       struct run_state *rs)
{
	struct exec_req r = { 0 };
	struct proto_msg reply = { .type = MSG_EXITED };
	*rs = (struct run_state){ .main_pid = -1, .last = m->c != 0 };
	if (nfds != 4 || parse_exec(fds[0], m->a, m->b, &r, &c->err) < 0) {
		reply.b = EPROTO;
		goto report;
	}
	/* The child's stack, with a guard page below it. Sized as glibc's
	 * posix_spawn does: execvp runs a file without "#!" through /bin/sh
	 * with a copy of argv on the stack, so argc counts. */
	long page = sysconf(_SC_PAGESIZE);
	size_t size = (32 * 1024 + ((size_t)m->a + 2) * sizeof(char *) + (size_t)page - 1) &
		      ~((size_t)page - 1);
	char *stack = mmap(NULL, size + (size_t)page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED || mprotect(stack, (size_t)page, PROT_NONE) < 0) {
		reply.b = errno;
		if (stack != MAP_FAILED)
			munmap(stack, size + (size_t)page);
		goto report;
	}
	struct spawn sp = { .c = c, .r = &r, .fds = fds + 1 };
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	/* Returns once the child called execve (or exited): ours is
	 * suspended meanwhile (CLONE_VFORK), so its stack can go at once. */
	char **env = environ;
	pid_t pid = clone(spawn_child, stack + (size_t)page + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &sp);
	int clone_errno = errno;
	environ = env;
	sigprocmask(SIG_SETMASK, &old, NULL);
	munmap(stack, size + (size_t)page);
	if (pid < 0) {
		reply.b = clone_errno;
		goto report;
	}
	rs->main_pid = pid;
	/* on a failed exec the child exits 127; MSG_EXITED carries the errno */
	rs->exec_errno = sp.err;
	goto out;
report:
	rs->main_done = true;
	proto_send(c->sock, &reply, NULL, 0);
out:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (r.payload && r.payload != MAP_FAILED)
		munmap(r.payload, r.len);
	free(r.argv);
	free(r.envp);
}

static void report_exit(struct init_ctx *c, struct run_state *rs)
{
	struct rusage ru;
	struct proto_msg m = { .type = MSG_EXITED, .a = rs->main_status, .b = rs->exec_errno };
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		m.utime_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec;
		m.stime_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
		m.maxrss_kb = (uint64_t)ru.ru_maxrss;
		m.inblock = (uint64_t)ru.ru_inblock;
		m.oublock = (uint64_t)ru.ru_oublock;
	}
	proto_send(c->sock, &m, NULL, 0);
}

/* Reap everything. When the command itself has exited, whatever it left
 * behind (daemons, `sleep &`) is killed: nothing outlives the run. */
static void reap(struct init_ctx *c, struct run_state *rs)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid > 0 && pid == rs->main_pid && !rs->main_done) {
			rs->main_done = true;
			rs->main_status = st;
			kill(-1, SIGKILL);
			continue;
		}
		if (pid > 0)
			continue;
		if (pid < 0 && errno == ECHILD && rs->main_done && rs->main_pid > 0) {
			report_exit(c, rs);
			rs->main_pid = -1;
			/* the namespaces' teardown runs while the supervisor reports */
			if (rs->last)
				_exit(0);
		}
		return;
	}
}

static void handle_signal_msg(const struct proto_msg *m, const struct run_state *rs)
{
	int sig = m->a;
	if (sig <= 0 || sig >= NSIG)
		return;
	if (m->b == SCOPE_ALL)
		kill(-1, sig); /* everything in the pid namespace but init */
	else if (rs->main_pid > 0)
		kill(-rs->main_pid, sig); /* the command's process group (setsid) */
}

static _Noreturn void serve(struct init_ctx *c)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		al_errno(&c->err, "signalfd");
		fail(c);
	}
	struct run_state rs = { .main_pid = -1 };
	for (;;) {
		struct pollfd pf[2] = { { .fd = c->sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			reap(c, &rs);
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		struct proto_msg m;
		int fds[PROTO_MAX_FDS];
		size_t nfds = PROTO_MAX_FDS;
		ssize_t n = proto_recv(c->sock, &m, fds, &nfds);
		if (n <= 0)
			break; /* the supervisor is gone: take everything down */
		if (m.type == MSG_EXEC && rs.main_pid < 0) {
			start_exec(c, &m, fds, nfds, &rs);
			reap(c, &rs);
			continue;
		}
		if (m.type == MSG_EXEC) { /* one at a time: say so, run nothing */
			struct proto_msg busy = { .type = MSG_EXITED, .b = EBUSY };
			proto_send(c->sock, &busy, NULL, 0);
		} else if (m.type == MSG_SIGNAL) {
			handle_signal_msg(&m, &rs);
		} else if (m.type == MSG_COPY && rs.main_pid < 0) {
			/* no process but init is left: nothing races the walk */
			copyout_serve(c->sock, &m, fds, nfds);
		} else if (m.type == MSG_COPY) {
			struct proto_msg busy = { .type = MSG_COPY_DONE, .a = EBUSY };
			proto_send(c->sock, &busy, NULL, 0);
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	}
	kill(-1, SIGKILL);
	_exit(0);
}

/* init is cloned with the supervisor's whole fd table: the caller's stdio
 * (maybe a terminal), and in a server other sandboxes' control sockets,
 * listeners and output pipes. Before anything else, keep only our socket and
 * the network helper's; 0-2 become /dev/null, so fds that arrive later by
 * SCM_RIGHTS are always >= 3. Returns the (possibly moved) socket. */
static int close_inherited(int sock, int *net_chan)
{
	int *keep[2];
	size_t n = 0;
	keep[n++] = &sock;
	keep[n++] = net_chan;
	for (size_t i = 0; i < n; i++)
		if (*keep[i] < 3) {
			int moved = fcntl(*keep[i], F_DUPFD_CLOEXEC, 3);
			if (moved < 0)
				_exit(125);
			*keep[i] = moved; /* the low one becomes /dev/null below */
		}
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		if (null < 0 || (fd != null && dup2(null, fd) < 0))
			_exit(125);
	/* close everything from 3 up that is not kept: ranges between the
	 * kept fds, in ascending order */
	unsigned lo = 3;
	for (;;) {
		unsigned next = ~0U;
		for (size_t i = 0; i < n; i++)
			if ((unsigned)*keep[i] >= lo && (unsigned)*keep[i] < next)
				next = (unsigned)*keep[i];
		if (next > lo && syscall(SYS_close_range, lo, next == ~0U ? ~0U : next - 1, 0) < 0)
			_exit(125);
		if (next == ~0U)
			break;
		lo = next + 1;
	}
	return sock;
}

/* What CLONE_CLEAR_SIGHAND does, for a kernel without it: every handled
 * signal back to its default (ignored ones stay ignored). */
static void clear_signal_handlers(void)
{
	for (int s = 1; s < NSIG; s++) {
		struct sigaction old;
		if (sigaction(s, NULL, &old) < 0)
			continue; /* a number the C library keeps for itself */
		if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
			signal(s, SIG_DFL);
	}
}

_Noreturn void sandbox_init_main(struct al_sandbox *sb, int sock)
{
	if (!sb->sighand_cleared)
		clear_signal_handlers();
	/* The caller's environment was copied at the clone, and may hold the
	 * source of a credential (env:NAME): init needs none of it (each
	 * command's environment comes with its exec request). */
	for (char **e = environ; e && *e; e++)
		explicit_bzero(*e, strlen(*e));
	/* the supervisor's copies (the join fds of a v2 group included) */
	sb->join = (struct cgroup_join){ .v2_dir_fd = -1 };
	sock = close_inherited(sock, &sb->net_chan);
	struct mount_sources expect = sb->src; /* what the supervisor opened */
	mounts_forget_fds(&sb->src);
	struct init_ctx c = { .sb = sb, .sock = sock, .listener = -1, .gateway = -1 };
	al_error_clear(&c.err);

	/* sync 1: wait until the supervisor wrote our id maps; it may hand
	 * over idmapped mounts for writable host directories (made with its
	 * privileges, which we do not have). */
	struct proto_msg m;
	int fds[PROTO_MAX_FDS];
	size_t nfds = PROTO_MAX_FDS;
	if (proto_recv(sock, &m, fds, &nfds) <= 0 || m.type != MSG_GO)
		_exit(125);
	/* Sources are opened here, in our own mount namespace (a bind needs a
	 * source in the caller's namespace), before the uid change, with the
	 * host credentials the caller gave us; they must be the very objects
	 * the supervisor checked. */
	if (mounts_open_sources(&sb->pol, &sb->src, &expect, &c.err) < 0) {
		al_error_wrap(&c.err, "filesystem");
		fail(&c);
	}
	size_t k = 0;
	if ((m.a & GO_CA_BUNDLE) && nfds > 0)
		sb->src.ca_bundle_fd = fds[--nfds];
	if (sb->src.workspace_fd >= 0 && (m.a & GO_WORKSPACE) && k < nfds) {
		close(sb->src.workspace_fd);
		sb->src.workspace_fd = fds[k++];
		sb->src.workspace_is_mount_fd = true;
	}
	for (size_t i = 0; i < sb->src.n && i < AL_MAX_MOUNTS; i++)
		if (((unsigned)m.b & (1u << i)) && k < nfds) {
			close(sb->src.mount_fds[i]);
			sb->src.mount_fds[i] = fds[k++];
			sb->src.mount_is_mount_fd[i] = true;
		}
	while (k < nfds)
		close(fds[k++]);

	run_steps(&c, build_steps, sizeof build_steps / sizeof build_steps[0]);
	receive_lock(&c);
	run_steps(&c, lock_steps, sizeof lock_steps / sizeof lock_steps[0]);

	/* sync 2: built; the seccomp listener goes to the supervisor, which
	 * counts and refuses every denied call from now on, and so does the
	 * gateway's socket: init keeps no copy. */
	struct proto_msg ready = { .type = MSG_READY };
	int out[2];
	size_t n_out = 0;
	if (c.listener >= 0) {
		out[n_out++] = c.listener;
		ready.a |= READY_SECCOMP;
	}
	if (c.gateway >= 0) {
		out[n_out++] = c.gateway;
		ready.a |= READY_GATEWAY;
	}
	if (proto_send(sock, &ready, out, n_out) < 0)
		_exit(125);
	for (size_t i = 0; i < n_out; i++)
		close(out[i]);
	seccomp_prog_free(&sb->prog);
	serve(&c);
}
