/* Network namespace: the sandbox's own, holding only loopback. There is no
 * route anywhere else; the egress gateway is the only way out. Its listening
 * socket is made here, inside the namespace (a socket keeps the namespace it
 * was created in), and handed to the supervisor, whose gateway process
 * accepts on it from outside: nothing of the gateway runs in the sandbox. */
#include "internal.h"
#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int net_gateway_socket(al_error *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(AL_GATEWAY_PORT),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0)
		return al_errno(err, "socket");
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, SOMAXCONN) < 0) {
		al_errno(err, "listening on 127.0.0.1:%d", AL_GATEWAY_PORT);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the namespace, made beside init -------------------------------------
 *
 * A new network namespace costs the kernel about half a millisecond (the
 * loopback device, sysctl tables, every protocol's per-namespace state).
 * Made by the sandbox's clone it would sit on the start-up path; instead a
 * short-lived helper, forked by the supervisor after the clone, joins the
 * sandbox's user namespace, unshares a network namespace there (owned by
 * that user namespace, exactly like one the clone would have made), brings
 * lo up and sends the namespace to init, which builds its root meanwhile on
 * another CPU and joins it before it locks itself down. The helper lives in
 * the host's pid namespace, so it takes no pid of the sandbox's. It sees
 * the supervisor's memory, so it is gone before any credential is read
 * (al_sandbox_create waits for it first). */

/* What failed in the helper, for init to put in words (the helper formats
 * nothing: see helper_main). */
enum helper_step { STEP_USERNS = 1, STEP_UNSHARE, STEP_SOCKET, STEP_LO_FLAGS, STEP_LO_UP, STEP_OPEN };
static const char *const step_what[] = {
	[STEP_USERNS] = "joining the sandbox's user namespace",
	[STEP_UNSHARE] = "unshare(CLONE_NEWNET)",
	[STEP_SOCKET] = "socket",
	[STEP_LO_FLAGS] = "reading flags of lo",
	[STEP_LO_UP] = "bringing lo up",
	[STEP_OPEN] = "opening the new network namespace",
};

/* Runs in the supervisor's memory (CLONE_VM) on its own stack, beside the
 * thread that cloned it, with every signal blocked (they were blocked for
 * the clone). Only system calls and stack data: no allocation, no
 * formatting (strerror may load a locale), nothing shared written but,
 * on a failing call, errno. */
static int helper_main(void *arg)
{
	const struct helper_args *a = arg;
	struct proto_msg m = { .type = MSG_ERROR };
	int ns = -1, s = -1;
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, "lo", 3);
	if (setns(a->userns_fd, CLONE_NEWUSER) < 0)
		m.b = STEP_USERNS;
	else if (unshare(CLONE_NEWNET) < 0)
		m.b = STEP_UNSHARE;
	else if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		m.b = STEP_SOCKET;
	else if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		m.b = STEP_LO_FLAGS;
	else if ((ifr.ifr_flags |= IFF_UP | IFF_RUNNING), ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		m.b = STEP_LO_UP;
	else if ((ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		m.b = STEP_OPEN;
	if (ns >= 0)
		m.type = MSG_NETNS;
	else
		m.a = errno;
	int sent = proto_send(a->chan, &m, &ns, ns >= 0 ? 1 : 0);
	syscall(SYS_exit, sent < 0 || ns < 0 ? 125 : 0); /* this task only */
	return 0;
}

#define HELPER_STACK (64 * 1024)

/* A task of its own that shares the supervisor's memory (no page tables to
 * copy or tear down): the clone costs the start-up path nothing to speak
 * of. Its stack is freed when it is reaped. */
int net_helper_start(int userns_fd, int chan, struct net_helper *h, al_error *err)
{
	h->pidfd = h->pid = -1;
	h->stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			-1, 0);
	if (h->stack == MAP_FAILED) {
		h->stack = NULL;
		return al_errno(err, "mmap");
	}
	h->args = (struct helper_args){ .userns_fd = userns_fd, .chan = chan };
	/* Blocked across the clone, so that no handler of the caller's ever
	 * runs in the helper; the helper never unblocks them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t pid = clone(helper_main, (char *)h->stack + HELPER_STACK, CLONE_VM | CLONE_PIDFD | SIGCHLD,
			  &h->args, &h->pidfd);
	if (pid < 0 && errno == EINVAL) { /* before Linux 5.2: no CLONE_PIDFD */
		pid = clone(helper_main, (char *)h->stack + HELPER_STACK, CLONE_VM | SIGCHLD, &h->args);
		h->pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	}
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	h->pid = pid;
	if (pid > 0 && h->pidfd < 0) { /* no pidfd at all (before Linux 5.3) */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		munmap(h->stack, HELPER_STACK); /* only once it is gone: it ran on it */
		h->stack = NULL;
		h->pid = -1;
		return al_err(err, ENOSYS, "this kernel has no pidfd (Linux 5.3)");
	}
	if (pid < 0) {
		munmap(h->stack, HELPER_STACK);
		h->stack = NULL;
		h->pidfd = -1;
		errno = e;
		return al_errno(err, "starting the network namespace helper");
	}
	return 0;
}

/* waitid on the pidfd (Linux 5.4), else by pid: a pidfd exists, so the pid
 * is still ours (not reaped) and cannot have been reused. */
static int wait_helper(const struct net_helper *h, int options)
{
	siginfo_t si;
	int r;
	while ((r = waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | options)) < 0 && errno == EINTR)
		;
	if (r < 0 && errno == EINVAL)
		while ((r = waitid(P_PID, (id_t)h->pid, &si, WEXITED | options)) < 0 && errno == EINTR)
			;
	return r;
}

int net_helper_wait(const struct net_helper *h, int timeout_ms, al_error *err)
{
	if (h->pidfd < 0)
		return 0;
	/* a pidfd polls readable once its task has exited (Linux 5.3) */
	struct pollfd pf = { .fd = h->pidfd, .events = POLLIN };
	int r;
	while ((r = poll(&pf, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return al_err(err, ETIMEDOUT, "the network namespace helper did not finish within %d s",
			      timeout_ms / 1000);
	return wait_helper(h, WNOWAIT) < 0 ? al_errno(err, "waiting for the network namespace helper") : 0;
}

void net_helper_reap(struct net_helper *h)
{
	if (h->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
		if (wait_helper(h, 0) < 0)
			return; /* not known to be gone: its stack stays mapped */
		close(h->pidfd);
		h->pidfd = h->pid = -1;
	}
	/* only once it is gone: it ran on this stack */
	if (h->stack)
		munmap(h->stack, HELPER_STACK);
	h->stack = NULL;
}

int net_join(int chan, al_error *err)
{
	struct proto_msg m;
	int fd = -1;
	size_t n = 1;
	ssize_t r = proto_recv(chan, &m, &fd, &n);
	if (r <= 0)
		return al_err(err, EPIPE, "the network namespace helper died");
	if (m.type != MSG_NETNS || n != 1) {
		if (n == 1)
			close(fd);
		if (m.type == MSG_ERROR && m.b > 0 && (size_t)m.b < sizeof step_what / sizeof *step_what)
			return al_err(err, m.a ? m.a : EPROTO, "%s: %s", step_what[m.b], strerror(m.a));
		return al_err(err, EPROTO, "unexpected message %u from the network namespace helper", m.type);
	}
	int rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc < 0 ? al_errno(err, "joining the sandbox's network namespace") : 0;
}
