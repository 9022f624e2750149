/* Copy-out: files leave the sandbox only through the output gate.
 *
 * Both sides of the exchange live here. The sandbox's init (no capability,
 * under seccomp and Landlock, as the sandbox user) opens each asked path
 * beneath /workspace or /tmp without following a symlink, walks directories
 * and hands the supervisor one read-only fd per regular file (MSG_COPY_FILE);
 * the supervisor, which trusts nothing it is told, checks every name, passes
 * the bytes through a fresh scanner configured as for stdout, and writes them
 * below the caller's directory with O_CREAT|O_EXCL|O_NOFOLLOW, one component
 * at a time, so neither side ever follows a link the command planted.
 * It runs once the command and everything it started are gone (init has
 * reaped them all before it reports an exit), so nothing races the walk.
 */
#include "sandbox.h"
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define COPY_MAX_DEPTH 16
#define COPY_MAX_ENTRIES 1000
#define COPY_MAX_TOTAL (64ull << 20)
#define COPY_REPLY_TIMEOUT_MS 30000 /* init answers in microseconds; silence means it is gone */

/* "/workspace/a/b" -> the root it is under and "a/b" (NULL: not under one). */
static const char *copy_root(const char *path, const char **rest)
{
	static const char *const roots[] = { "/workspace", "/tmp" };
	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(roots[i]);
		if (strncmp(path, roots[i], len) == 0 && (!path[len] || path[len] == '/')) {
			*rest = path + len + strspn(path + len, "/");
			return roots[i];
		}
	}
	return NULL;
}

/* A name both sides accept: no '/', not "." or "..", 1..255 bytes. */
static bool name_ok(const char *s, size_t len)
{
	return len && len <= NAME_MAX && !memchr(s, '/', len) && !(len == 1 && s[0] == '.') &&
	       !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* ---- init's side ---------------------------------------------------------- */

struct walk {
	int sock;
	unsigned entries;
	bool stop;	/* the entry limit was reached: nothing more is sent */
};

static void send_entry(struct walk *w, uint32_t type, const char *path, int a, int b, int fd)
{
	struct proto_msg m = { .type = type, .a = a, .b = b };
	snprintf(m.text, sizeof m.text, "%s", path);
	if (proto_send(w->sock, &m, fd >= 0 ? &fd : NULL, fd >= 0) < 0)
		w->stop = true; /* the supervisor is gone */
}

static char type_char(mode_t mode)
{
	return S_ISLNK(mode) ? 'l' : S_ISFIFO(mode) ? 'p' : S_ISSOCK(mode) ? 's' : S_ISCHR(mode) ? 'c'
	       : S_ISBLK(mode) ? 'b' : '?';
}

/* rel beneath root without following any symlink. openat2 says it in one
 * call, but the sandbox's seccomp filter answers it ENOSYS by default (its
 * flags sit behind a pointer), so the usual path is one openat(O_NOFOLLOW)
 * per component; ".." never gets this far. */
static int open_beneath(int root, const char *rel, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	if (!*rel)
		return openat(root, ".", flags | O_CLOEXEC);
	long r = syscall(SYS_openat2, root, rel, &how, sizeof how);
	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return (int)r;
	int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
	for (const char *p = rel; dir >= 0;) {
		size_t len = strcspn(p, "/");
		char name[NAME_MAX + 1];
		bool last = !p[len];
		if (!name_ok(p, len)) {
			close(dir);
			errno = EINVAL;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		int next = openat(dir, name, (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		if (last)
			return next;
		dir = next;
		p += len + 1;
	}
	return -1;
}

static void walk_dir(struct walk *w, int fd, char *path, int depth);

/* One entry of a directory (or an asked path, top): regular files go out
 * as fds, directories are walked, anything else is reported and skipped. */
static void walk_entry(struct walk *w, int fd, char *path, int depth, bool top)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		send_entry(w, MSG_COPY_SKIP, path, errno, 0, -1);
	} else if (S_ISREG(st.st_mode)) {
		send_entry(w, MSG_COPY_FILE, path, 0, 0, fd);
	} else if (S_ISDIR(st.st_mode)) {
		send_entry(w, MSG_COPY_DIR, path, 0, 0, -1);
		if (depth >= COPY_MAX_DEPTH)
			send_entry(w, MSG_COPY_SKIP, path, ELOOP, 'd', -1);
		else
			walk_dir(w, fd, path, depth + 1);
	} else {
		send_entry(w, MSG_COPY_SKIP, path, top ? EINVAL : 0, type_char(st.st_mode), -1);
	}
}

static void walk_dir(struct walk *w, int fd, char *path, int depth)
{
	enum { BUF = 32768 };
	char *buf = malloc(BUF);
	size_t plen = strlen(path);
	if (!buf) {
		send_entry(w, MSG_COPY_SKIP, path, ENOMEM, 'd', -1);
		return;
	}
	while (!w->stop) {
		long n = syscall(SYS_getdents64, fd, buf, BUF);
		if (n <= 0) {
			if (n < 0)
				send_entry(w, MSG_COPY_SKIP, path, errno, 'd', -1);
			break;
		}
		for (long off = 0; off < n && !w->stop;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (++w->entries > COPY_MAX_ENTRIES) {
				send_entry(w, MSG_COPY_SKIP, path, E2BIG, 'd', -1);
				w->stop = true;
				break;
			}
			size_t len = strlen(d->d_name);
			if (plen + 1 + len >= sizeof ((struct proto_msg *)0)->text) {
				send_entry(w, MSG_COPY_SKIP, path, ENAMETOOLONG, 0, -1);
				continue;
			}
			path[plen] = '/';
			memcpy(path + plen + 1, d->d_name, len + 1);
			/* O_NONBLOCK: a fifo must not stall the open; O_NOFOLLOW: a
			 * symlink fails ELOOP and is reported, not followed */
			int cfd = openat(fd, d->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			int open_errno = errno;
			struct stat st;
			if (cfd >= 0)
				walk_entry(w, cfd, path, depth, false);
			else if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
				 !S_ISDIR(st.st_mode))
				send_entry(w, MSG_COPY_SKIP, path, 0, type_char(st.st_mode), -1);
			else
				send_entry(w, MSG_COPY_SKIP, path, open_errno, 0, -1);
			if (cfd >= 0)
				close(cfd);
			path[plen] = '\0';
		}
	}
	free(buf);
}

/* One asked path: checked again here (the request crossed a boundary). */
static void copy_one(struct walk *w, const char *asked)
{
	char path[sizeof ((struct proto_msg *)0)->text], rel[PATH_MAX];
	const char *rest, *root = copy_root(asked, &rest);
	size_t used = 0;
	if (!root) {
		send_entry(w, MSG_COPY_SKIP, asked, EINVAL, 0, -1);
		return;
	}
	/* tidy: no empty or "." component; ".." is refused */
	for (const char *p = rest; *p;) {
		size_t len = strcspn(p, "/");
		if (len && !(len == 1 && *p == '.')) {
			if (!name_ok(p, len) || used + len + 2 > sizeof rel) {
				send_entry(w, MSG_COPY_SKIP, asked, EINVAL, 0, -1);
				return;
			}
			if (used)
				rel[used++] = '/';
			memcpy(rel + used, p, len);
			used += len;
		}
		p += len + strspn(p + len, "/");
	}
	rel[used] = '\0';
	if ((size_t)snprintf(path, sizeof path, "%s%s%s", root, used ? "/" : "", rel) >= sizeof path) {
		send_entry(w, MSG_COPY_SKIP, asked, ENAMETOOLONG, 0, -1);
		return;
	}
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = rfd < 0 ? -1 : open_beneath(rfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		send_entry(w, MSG_COPY_SKIP, path, errno, 0, -1);
	else
		walk_entry(w, fd, path, 0, true);
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
}

void copyout_serve(int sock, const struct proto_msg *m, const int *fds, size_t nfds)
{
	struct walk w = { .sock = sock };
	struct proto_msg done = { .type = MSG_COPY_DONE };
	struct stat st;
	char *req = MAP_FAILED;
	size_t len = 0;
	if (nfds != 1 || m->a < 1 || fstat(fds[0], &st) < 0 || st.st_size <= 0 ||
	    (req = mmap(NULL, len = (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fds[0], 0)) == MAP_FAILED ||
	    req[len - 1] != '\0') {
		done.a = EPROTO;
	} else {
		const char *p = req;
		for (int i = 0; i < m->a && p < req + len && !w.stop; i++, p += strlen(p) + 1)
			copy_one(&w, p);
	}
	if (req != MAP_FAILED)
		munmap(req, len);
	proto_send(sock, &done, NULL, 0);
}

/* ---- the supervisor's side ------------------------------------------------ */

/* Is real (a resolved path) dir or below it? */
static bool below(const char *real, const char *dir)
{
	char d[PATH_MAX];
	if (!realpath(dir, d))
		return false;
	size_t n = strlen(d);
	return !strncmp(real, d, n) && (real[n] == '\0' || real[n] == '/' || (n == 1 && d[0] == '/'));
}

int copyout_open_dest(const struct al_policy *p, const char *dir, al_error *err)
{
	char real[PATH_MAX];
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return al_errno(err, "output.copy_to: creating %s", dir);
	if (!realpath(dir, real))
		return al_errno(err, "output.copy_to: %s", dir);
	/* a tree the command may write is a tree where it can plant links,
	 * and files that look like copied ones without passing the gate */
	bool inside = p->workspace && p->workspace_writable && below(real, p->workspace);
	for (size_t i = 0; !inside && i < p->n_mounts; i++)
		inside = p->mounts[i].writable && below(real, p->mounts[i].source);
	if (inside)
		return al_err(err, EINVAL, "output.copy_to: %s lies in a directory the sandbox may write; "
			      "copy out to somewhere it cannot", dir);
	int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? al_errno(err, "output.copy_to: %s", dir) : fd;
}

struct copy_ctx {
	al_sandbox *sb;
	al_copy_result *res;
	int dest;		/* O_DIRECTORY fd of the caller's directory */
	bool gated;
	struct scan_cfg cfg;
	const char *lits[GATE_MAX_LITERALS];
	uint64_t total;		/* bytes read so far, all files */
	al_error *err;		/* the first problem */
	bool failed;
};

__attribute__((format(printf, 3, 4)))
static void copy_problem(struct copy_ctx *c, int code, const char *fmt, ...)
{
	c->res->errors++;
	if (c->failed)
		return;
	c->failed = true;
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof c->err->msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* names come from the sandbox: no terminal control reaches the caller */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	al_err(c->err, code, "%s", msg);
}

static void discard(void *arg, const char *p, size_t n) { (void)arg, (void)p, (void)n; }

/* A name is data from the sandbox too: one with control characters, or
 * with something the gate would redact, is not written on the host. */
static bool name_blocked(struct copy_ctx *c, const char *path)
{
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			copy_problem(c, EINVAL, "%s: the name holds control characters; not copied", path);
			return true;
		}
	if (!c->gated)
		return false;
	struct scanner *s = scan_new(&c->cfg);
	if (!s) {
		copy_problem(c, ENOMEM, "%s: out of memory", path);
		return true;
	}
	scan_feed(s, path, strlen(path), discard, NULL);
	scan_finish(s, discard, NULL);
	bool secret = scan_stats(s)->redactions_total > 0;
	scan_free(s);
	if (secret)
		copy_problem(c, EPERM, "a file name holds what the output gate redacts; not copied");
	return secret;
}

/* The host directory for a sandbox path's parent (or the path itself, when
 * whole): created 0700 where missing, each component opened O_NOFOLLOW, so
 * a symlink already in the caller's directory is an error, not a way out.
 * *base gets the last component ("" for a root). */
static int open_dest_dir(struct copy_ctx *c, const char *path, bool whole, const char **base)
{
	const char *rel;
	if (!copy_root(path, &rel)) {
		errno = EPROTO;
		return -1;
	}
	int dir = fcntl(c->dest, F_DUPFD_CLOEXEC, 3);
	while (dir >= 0 && *rel) {
		size_t len = strcspn(rel, "/");
		char name[NAME_MAX + 1];
		if (!name_ok(rel, len)) {
			close(dir);
			errno = EPROTO;
			return -1;
		}
		if (!rel[len] && !whole)
			break;
		memcpy(name, rel, len);
		name[len] = '\0';
		if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST) {
			close(dir);
			return -1;
		}
		int next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		dir = next;
		rel += len + (rel[len] == '/');
	}
	*base = rel;
	return dir;
}

struct sink {
	int fd;
	int err;
};

static void sink_write(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;
	while (n && !s->err) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->err = w < 0 ? errno : EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* The file's bytes through the gate, up to the caps; a marker if cut. */
static int pump(struct copy_ctx *c, int src, struct sink *out, struct scanner *gate)
{
	const struct al_policy *p = &c->sb->pol;
	uint64_t left_total = COPY_MAX_TOTAL - c->total;
	uint64_t limit = p->out_max_bytes && p->out_max_bytes < left_total ? p->out_max_bytes : left_total;
	uint64_t got = 0;
	bool cut = false;
	char buf[65536];
	for (;;) {
		ssize_t n = read(src, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		size_t take = (uint64_t)n > limit - got ? (size_t)(limit - got) : (size_t)n;
		if (gate)
			scan_feed(gate, buf, take, sink_write, out);
		else
			sink_write(out, buf, take);
		got += take;
		if (take < (size_t)n) {
			cut = true;
			break;
		}
	}
	if (gate)
		scan_finish(gate, sink_write, out);
	c->total += got;
	c->res->bytes += got;
	if (cut) {
		char marker[160];
		bool per_file = p->out_max_bytes && limit == p->out_max_bytes;
		int m = snprintf(marker, sizeof marker, "\n[airlock: file truncated after %llu bytes (%s)]\n",
				 (unsigned long long)got, per_file ? "output.max_bytes" : "copy-out total of 64 MiB");
		sink_write(out, marker, (size_t)m);
		c->res->truncated++;
	}
	return 0;
}

static void copy_file(struct copy_ctx *c, const char *path, int src)
{
	struct stat st;
	const char *base;
	if (name_blocked(c, path))
		return;
	/* a regular file only: a pipe or socket from a confused init would block */
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
		copy_problem(c, EPROTO, "%s: not a regular file", path);
		return;
	}
	_cleanup_close_ int dir = open_dest_dir(c, path, false, &base);
	if (dir < 0 || !*base) {
		copy_problem(c, dir < 0 ? errno : EPROTO, "%s: %s", path, strerror(dir < 0 ? errno : EPROTO));
		return;
	}
	struct sink out = { .fd = openat(dir, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) };
	if (out.fd < 0) {
		copy_problem(c, errno, "%s: %s%s", path, strerror(errno),
			     errno == EEXIST ? " on the host (not overwritten)" : "");
		return;
	}
	struct scanner *gate = c->gated ? scan_new(&c->cfg) : NULL;
	if (c->gated && !gate)
		out.err = ENOMEM; /* fail closed: nothing ungated */
	else if (pump(c, src, &out, gate) < 0)
		out.err = errno;
	if (gate) {
		c->res->redactions += scan_stats(gate)->redactions_total;
		scan_free(gate);
	}
	if (close(out.fd) < 0 && !out.err)
		out.err = errno;
	if (out.err) {
		unlinkat(dir, base, 0); /* ours (O_EXCL): no half-gated file stays */
		copy_problem(c, out.err, "%s: %s", path, strerror(out.err));
		return;
	}
	c->res->files++;
}

static void on_skip(struct copy_ctx *c, const struct proto_msg *m)
{
	static const struct { char c; const char *name; } types[] = {
		{ 'l', "symlink" }, { 'p', "fifo" }, { 's', "socket" }, { 'c', "device" }, { 'b', "device" },
	};
	const char *what = "special file";
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].c == m->b)
			what = types[i].name;
	if (m->a) {
		const char *why = m->a == E2BIG ? "more than 1000 entries; the rest was not copied"
				  : m->a == ELOOP && m->b == 'd' ? "deeper than 16 levels; not copied"
				  : m->a == ELOOP ? "a symlink; not followed"
				  : m->a == EINVAL && m->b ? what
				  : m->a == EINVAL ? "not a path under /workspace or /tmp"
				  : strerror(m->a);
		copy_problem(c, m->a, "%s: %s%s", m->text, why,
			     m->a == EINVAL && m->b ? "; only regular files and directories are copied" : "");
		return;
	}
	if (!c->res->skipped++) {
		snprintf(c->res->first_skipped, sizeof c->res->first_skipped, "%.120s (%s)", m->text, what);
		for (char *p = c->res->first_skipped; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
}

static int payload(const char *const *paths, size_t n, al_error *err)
{
	_cleanup_close_ int fd = memfd_create("airlock-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return al_errno(err, "memfd_create");
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(paths[i]) + 1;
		if (write(fd, paths[i], len) != (ssize_t)len)
			return al_errno(err, "writing the copy-out request");
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return al_steal_fd(&fd);
}

/* The next message from init, serving the seccomp listener meanwhile (a
 * denied call of init's in notify mode waits for an answer). 0: got one. */
static int next_msg(al_sandbox *sb, struct proto_msg *m, int *fd, al_error *err)
{
	for (;;) {
		struct pollfd pf[3] = { { .fd = sb->sock, .events = POLLIN }, { .fd = sb->listener, .events = POLLIN },
					{ .fd = sb->intr_fd, .events = POLLIN } };
		int r = poll(pf, 3, COPY_REPLY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? al_errno(err, "waiting for the sandbox") : al_err(err, ETIMEDOUT, "the sandbox stopped answering");
		if (pf[2].revents) {
			uint64_t v;
			(void)!read(sb->intr_fd, &v, sizeof v);
			return al_err(err, EINTR, "interrupted");
		}
		if (pf[1].revents && seccomp_notify_serve(sb->listener, &sb->den) < 0) {
			close(sb->listener);
			sb->listener = -1;
		}
		if (!pf[0].revents)
			continue;
		size_t nfds = 1;
		*fd = -1;
		ssize_t n = proto_recv(sb->sock, m, fd, &nfds);
		if (n <= 0)
			return al_err(err, n < 0 ? errno : EPIPE, "the sandbox is gone");
		m->text[sizeof m->text - 1] = '\0';
		if (nfds && m->type != MSG_COPY_FILE) {
			close(*fd);
			*fd = -1;
		}
		if (m->type == MSG_COPY_FILE && !nfds)
			return al_err(err, EPROTO, "bad copy-out answer from the sandbox");
		return 0;
	}
}

static bool asked_ok(const char *p)
{
	const char *rest;
	if (!copy_root(p, &rest) || strlen(p) >= PATH_MAX)
		return false;
	for (const char *c = rest; *c; c += strcspn(c, "/"), c += strspn(c, "/"))
		if (strncmp(c, "..", 2) == 0 && (!c[2] || c[2] == '/'))
			return false;
	return true;
}

static int exchange(struct copy_ctx *c, const char *const *paths, size_t n)
{
	al_sandbox *sb = c->sb;
	_cleanup_close_ int req = payload(paths, n, c->err);
	if (req < 0)
		return -1;
	struct proto_msg m = { .type = MSG_COPY, .a = (int)n };
	if (proto_send(sb->sock, &m, &req, 1) < 0)
		return al_errno(c->err, "sending the copy-out request");
	for (;;) {
		int fd = -1;
		al_error e;
		al_error_clear(&e);
		if (next_msg(sb, &m, &fd, &e) < 0) {
			/* mid-exchange: init's answers and our reads no longer line
			 * up, so the sandbox cannot serve another request */
			sandbox_kill_init(sb);
			close(sb->sock);
			sb->sock = -1;
			*c->err = e;
			c->res->errors++;
			return -1;
		}
		switch (m.type) {
		case MSG_COPY_FILE: copy_file(c, m.text, fd); break;
		case MSG_COPY_DIR: {
			const char *base;
			if (name_blocked(c, m.text))
				break;
			int d = open_dest_dir(c, m.text, true, &base);
			if (d < 0)
				copy_problem(c, errno, "%s: %s", m.text, strerror(errno));
			else
				close(d);
			break;
		}
		case MSG_COPY_SKIP: on_skip(c, &m); break;
		case MSG_COPY_DONE:
			if (m.a)
				copy_problem(c, m.a, "the sandbox refused the copy-out request: %s", strerror(m.a));
			return c->failed ? -1 : 0;
		default: break;
		}
		if (fd >= 0)
			close(fd);
	}
}

AL_API int al_sandbox_copy_out(al_sandbox *sb, const char *const *paths, size_t n, const char *dest_dir,
			       al_copy_result *res, al_error *err)
{
	memset(res, 0, sizeof *res);
	if (!paths && !n && !dest_dir) {
		if (!sb->pol.copy_out.n)
			return 0;
		paths = (const char *const *)sb->pol.copy_out.v;
		n = sb->pol.copy_out.n;
		dest_dir = sb->pol.copy_to;
	}
	res->ran = true;
	if (!n || !paths || !dest_dir || !*dest_dir)
		return al_err(err, EINVAL, "copy-out: needs paths and a host directory (output.copy_to)");
	if (n > 256)
		return al_err(err, E2BIG, "copy-out: %zu paths; at most 256", n);
	for (size_t i = 0; i < n; i++)
		if (!paths[i] || !asked_ok(paths[i]))
			return al_err(err, EINVAL, "copy-out: '%s': not an absolute path under /workspace or /tmp",
				      paths[i] ? paths[i] : "(null)");
	if (sb->sock < 0)
		return al_err(err, EPIPE, "copy-out: the sandbox is no longer running");
	if (atomic_exchange(&sb->busy, true))
		return al_err(err, EBUSY, "copy-out: a command is running in this sandbox");
	if (sandbox_ready(sb, err) < 0) {
		atomic_store(&sb->busy, false);
		return -1;
	}
	struct copy_ctx c = { .sb = sb, .res = res, .dest = -1, .err = err };
	struct al_strlist env = { 0 };
	int rc = -1;
	/* the policy's directory was opened at creation; one given here now
	 * (a library caller's choice: it must be out of the sandbox's reach) */
	if (dest_dir == sb->pol.copy_to && sb->copy_dest >= 0)
		c.dest = fcntl(sb->copy_dest, F_DUPFD_CLOEXEC, 3);
	else
		c.dest = copyout_open_dest(&sb->pol, dest_dir, err);
	if (c.dest < 0) {
		if (!err->msg[0])
			al_errno(err, "copy-out: %s", dest_dir);
		goto out;
	}
	/* the literals: this run's secrets, as the exec's gate had them */
	if (exec_build_env(sb, &env) < 0) {
		al_err(err, ENOMEM, "copy-out: out of memory");
		goto out;
	}
	c.gated = gate_config(sb, &env, &c.cfg, c.lits);
	rc = exchange(&c, paths, n);
	if (rc < 0)
		al_error_wrap(err, "copy-out");
out:
	if (c.dest >= 0)
		close(c.dest);
	al_strlist_clear(&env);
	atomic_store(&sb->busy, false);
	return rc;
}
