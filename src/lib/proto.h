/* The supervisor <-> sandbox-init protocol over a SOCK_SEQPACKET socketpair.
 * Every message is one struct proto_msg, optionally carrying fds. The
 * numbered sync points (sync 1, 1b, 2) are marked with matching comments in
 * sandbox.c (supervisor) and init.c (child). */
#ifndef AIRLOCK_PROTO_H
#define AIRLOCK_PROTO_H

#include <stdint.h>
#include <sys/types.h>

enum proto_type {
	MSG_GO = 1,	/* sync 1, supervisor -> init: maps written; fds: idmapped mounts (a, b: which) */
	MSG_LOCK,	/* sync 1b, supervisor -> init: fds: seccomp BPF memfd, then c v1 `tasks` files (a = notify, b = cgroup controllers held) */
	MSG_ERROR,	/* init -> supervisor: setup failed (a = errno, text = message) */
	MSG_READY,	/* sync 2, init -> supervisor: sandbox built; fds: seccomp listener, gateway socket (a: which, READY_*) */
	MSG_EXEC,	/* supervisor -> init: fds: payload memfd, stdin, stdout, stderr; a = argc, b = envc */
	MSG_EXITED,	/* init -> supervisor: a = wait status, b = exec errno (0 = it ran) */
	MSG_SIGNAL,	/* supervisor -> init: a = signal, b = scope */
	/* copy-out (copyout.c), once no command runs: one request, then a
	 * message per entry, then DONE */
	MSG_COPY,	/* supervisor -> init: fds: payload memfd (NUL-terminated paths); a = count */
	MSG_COPY_DIR,	/* init -> supervisor: text = a directory's sandbox path */
	MSG_COPY_FILE,	/* init -> supervisor: fds: the file, read-only; text = its sandbox path */
	MSG_COPY_SKIP,	/* init -> supervisor: text = path; a = errno (0: skipped by rule), b = type ('l', 'p', ...) */
	MSG_COPY_DONE,	/* init -> supervisor: a = errno of a refused request, else 0 */
	MSG_NETNS,	/* network helper -> init, on their own pair: fds: the new net namespace */
};

enum proto_scope { SCOPE_GROUP = 0, SCOPE_ALL = 1 };
enum { READY_SECCOMP = 1, READY_GATEWAY = 2 };
/* MSG_GO's a: bit 0 a workspace mount fd, bit 1 the CA bundle (the last fd) */
enum { GO_WORKSPACE = 1, GO_CA_BUNDLE = 2 };

#define PROTO_MAX_FDS 16

struct proto_msg {
	uint32_t type;
	int32_t a, b, c;
	uint64_t utime_us, stime_us, maxrss_kb; /* MSG_EXITED: rusage of everything reaped */
	uint64_t inblock, oublock;		/* ... block I/O, 512-byte units */
	char text[768];
};

int proto_send(int sock, const struct proto_msg *m, const int *fds, size_t nfds);
/* Returns bytes read (0 = peer gone), -1 on error. Received fds go to fds[],
 * their count to *nfds (pass NULL to refuse and close any). */
ssize_t proto_recv(int sock, struct proto_msg *m, int *fds, size_t *nfds);

#endif
