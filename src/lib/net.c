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

int net_loopback_up(al_error *err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return al_errno(err, "socket");
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return al_errno(err, "reading flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return al_errno(err, "bringing lo up");
	return 0;
}

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
 * the host's pid namespace, so it takes no pid of the sandbox's. It holds
 * nothing secret: it is forked before any credential is read. */

/* Runs in the supervisor's memory (CLONE_VM) on its own stack: system calls
 * and stack data only, no allocation, no shared state written. */
static int helper_main(void *arg)
{
	const struct helper_args *a = arg;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL); /* the caller's handlers are not ours to run */
	al_error err;
	al_error_clear(&err);
	int ns = -1;
	if (setns(a->userns_fd, CLONE_NEWUSER) < 0)
		al_errno(&err, "joining the sandbox's user namespace");
	else if (unshare(CLONE_NEWNET) < 0)
		al_errno(&err, "unshare(CLONE_NEWNET)");
	else if (net_loopback_up(&err) == 0 && (ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		al_errno(&err, "opening the new network namespace");
	struct proto_msg m = { .type = ns >= 0 ? MSG_NETNS : MSG_ERROR, .a = err.code };
	snprintf(m.text, sizeof m.text, "%s", err.msg);
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
	h->pidfd = -1;
	h->stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			-1, 0);
	if (h->stack == MAP_FAILED) {
		h->stack = NULL;
		return al_errno(err, "mmap");
	}
	h->args = (struct helper_args){ .userns_fd = userns_fd, .chan = chan };
	pid_t pid = clone(helper_main, (char *)h->stack + HELPER_STACK, CLONE_VM | CLONE_PIDFD | SIGCHLD,
			  &h->args, &h->pidfd);
	if (pid < 0 && errno == EINVAL) { /* before Linux 5.2: no CLONE_PIDFD */
		pid = clone(helper_main, (char *)h->stack + HELPER_STACK, CLONE_VM | SIGCHLD, &h->args);
		h->pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	}
	if (pid > 0 && h->pidfd < 0) { /* no pidfd at all (before Linux 5.3) */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		munmap(h->stack, HELPER_STACK); /* only once it is gone: it ran on it */
		h->stack = NULL;
		return al_err(err, ENOSYS, "this kernel has no pidfd (Linux 5.3)");
	}
	if (pid < 0) {
		munmap(h->stack, HELPER_STACK);
		h->stack = NULL;
		h->pidfd = -1;
		return al_errno(err, "starting the network namespace helper");
	}
	return 0;
}

void net_helper_wait(const struct net_helper *h)
{
	siginfo_t si;
	if (h->pidfd >= 0)
		while (waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
}

void net_helper_reap(struct net_helper *h)
{
	if (h->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		while (waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		close(h->pidfd);
		h->pidfd = -1;
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
		m.text[sizeof m.text - 1] = '\0';
		if (m.type == MSG_ERROR)
			return al_err(err, m.a ? m.a : EPROTO, "%s", m.text);
		return al_err(err, EPROTO, "unexpected message %u from the network namespace helper", m.type);
	}
	int rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc < 0 ? al_errno(err, "joining the sandbox's network namespace") : 0;
}
