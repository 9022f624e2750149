#include "proto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int proto_send(int sock, const struct proto_msg *m, const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof *m };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > PROTO_MAX_FDS) {
		errno = E2BIG;
		return -1;
	}
	if (nfds) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *m ? 0 : -1;
}

ssize_t proto_recv(int sock, struct proto_msg *m, int *fds, size_t *nfds)
{
	struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	size_t got = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	/* fds the kernel could not pass (no room, RLIMIT_NOFILE, an LSM) are
	 * dropped silently but for this flag: never act on a partial set */
	bool truncated = n > 0 && (mh.msg_flags & MSG_CTRUNC);
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int tmp[PROTO_MAX_FDS];
		memcpy(tmp, CMSG_DATA(c), sizeof(int) * (k < PROTO_MAX_FDS ? k : PROTO_MAX_FDS));
		for (size_t i = 0; i < k && i < PROTO_MAX_FDS; i++) {
			if (fds && nfds && got < *nfds)
				fds[got++] = tmp[i];
			else
				close(tmp[i]);
		}
	}
	if (nfds)
		*nfds = got;
	if (n > 0 && ((size_t)n != sizeof *m || truncated)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		errno = EPROTO;
		return -1;
	}
	return n;
}
