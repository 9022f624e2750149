/* Filesystem isolation: a new root built in a tmpfs, entered with pivot_root.
 *
 *   /usr /bin /sbin /lib* /etc   host system directories, read-only, nosuid
 *                                (or every top-level entry of an OS image)
 *   /etc/shadow, ssh host keys   hidden (empty read-only file over them)
 *   /workspace                   size-limited tmpfs, or a host directory
 *   /tmp /dev/shm                tmpfs noexec,nosuid,nodev, size-limited
 *   /dev                         null zero full random urandom, a private
 *                                devpts without a tty, shm; read-only
 *   /proc                        fresh, for the sandbox's pid namespace, with
 *                                kcore, sysrq-trigger, sys... masked or ro
 *   /sys                         an empty directory
 * Nothing of /root /home /run /var /mnt /media /srv /opt /boot is there unless
 * the policy mounts it. Host sources are checked by the supervisor (with the
 * caller's rights; a source reached through a writable tree is refused), then
 * opened again by the child in its own mount namespace before it changes uid
 * and bound through /proc/self/fd; the child's objects must be the ones the
 * supervisor saw (device and inode), so a path swapped in between fails
 * closed. Mounted host trees are walked for deny patterns (gitignore-style,
 * policy and .aiignore), live sockets and FIFOs, failing closed.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#define NEWROOT "/tmp" /* staging point in our private mount namespace */

static const char *const host_system_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
};

/* Entries of an OS image root that airlock provides itself. */
static const char *const image_skip[] = { "proc", "dev", "sys", "tmp", "workspace" };

/* Hidden inside /etc: credentials that a sandbox never needs. */
static const char *const etc_secrets[] = {
	"shadow", "shadow-", "gshadow", "gshadow-", "security/opasswd", "sudoers",
	"ssh/ssh_host_rsa_key", "ssh/ssh_host_ecdsa_key", "ssh/ssh_host_ed25519_key",
	"ssh/ssh_host_dsa_key", "ssl/private", "krb5.keytab", "machine-id",
};

/* Masked like container runtimes do: readable files that leak host kernel
 * state or trigger host actions, and directories that expose hardware. */
static const char *const proc_masked[] = {
	"kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats",
	"kallsyms", "kmsg", "sysrq-trigger", "config.gz", "vmallocinfo", "pagetypeinfo",
	"slabinfo", "acpi", "scsi", "asound", "firmware", "driver", "mtrr", "buddyinfo",
};
static const char *const proc_readonly[] = { "sys", "bus", "fs", "irq" };

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------ */

static unsigned long locked_flags_of(const char *path)
{
	/* A bind remount inside a user namespace must keep the flags the
	 * original mount was locked with, or the kernel refuses it. */
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	/* neither relatime nor noatime: strictatime, which is locked too */
	if (!(sv.f_flag & (ST_RELATIME | ST_NOATIME)))
		f |= MS_STRICTATIME;
	return f;
}

static int remount(const char *dst, unsigned long flags, al_error *err)
{
	flags |= locked_flags_of(dst);
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return al_errno(err, "remounting %s", dst);
	return 0;
}

static int bind_path(const char *src, const char *dst, unsigned long flags, al_error *err)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return al_errno(err, "binding %s", dst);
	return remount(dst, flags, err);
}

static int bind_fd(int fd, const char *dst, unsigned long flags, al_error *err)
{
	char src[32];
	snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
	return bind_path(src, dst, flags, err);
}

/* A host directory with submounts (Docker's /etc/hosts, say) cannot be bound
 * without them inside a user namespace: the kernel will not reveal what the
 * locked submounts cover. Bind the whole tree, then make all of it read-only,
 * nosuid and nodev at once (tightening locked mounts is allowed). */
static int bind_fd_recursive_ro(int fd, const char *dst, al_error *err)
{
	char src[32];
	snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return al_errno(err, "binding %s with its submounts", dst);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	if (mount_setattr(AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof attr) < 0)
		return al_errno(err, "making %s read-only", dst);
	return 0;
}

static int attach_mount_fd(int mfd, const char *dst, unsigned long flags, al_error *err)
{
	if (move_mount(mfd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return al_errno(err, "attaching idmapped mount at %s", dst);
	return remount(dst, flags, err);
}

static int mount_tmpfs(const char *dst, unsigned long flags, const char *mode, uint64_t size,
		       al_error *err)
{
	char opts[160];
	/* An inode limit as well as a size: empty files cost no data pages,
	 * so without nr_inodes an inode fill eats kernel memory unbounded.
	 * One inode per KiB keeps that cost in proportion to the size. */
	if (size)
		snprintf(opts, sizeof opts, "mode=%s,size=%llu,nr_inodes=%llu,uid=%u,gid=%u", mode,
			 (unsigned long long)size,
			 (unsigned long long)(size / 1024 > 1024 ? size / 1024 : 1024),
			 AL_SANDBOX_UID, AL_SANDBOX_GID);
	else
		snprintf(opts, sizeof opts, "mode=%s,uid=%u,gid=%u", mode, AL_SANDBOX_UID,
			 AL_SANDBOX_GID);
	if (mount("tmpfs", dst, "tmpfs", flags, opts) < 0)
		return al_errno(err, "mounting tmpfs on %s", dst);
	return 0;
}

/* mkdir -p, for mount points in our own tmpfs root. */
static int make_dirs(const char *path, al_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return al_err(err, ENAMETOOLONG, "path too long: %s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return al_errno(err, "creating %s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return al_errno(err, "creating %s", buf);
	return 0;
}

static int make_file(const char *path, al_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0 && errno != EEXIST)
		return al_errno(err, "creating %s", path);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* A mount point of the right kind for `fd`'s object. */
static int make_mountpoint_for(int fd, const char *dst, al_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return al_errno(err, "stat of source for %s", dst);
	if (S_ISDIR(st.st_mode))
		return make_dirs(dst, err);
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", dst);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (make_dirs(parent, err) < 0)
			return -1;
	}
	return make_file(dst, err);
}

/* ---- supervisor side ---------------------------------------------------- */

/* path, opened O_PATH without following a symbolic link anywhere on the
 * way: a link that a command planted in a tree it could write, in this run
 * or any run before, would otherwise turn a later run's mount of a path
 * below it into a mount of any directory the caller can open (as root: a
 * writable idmapped /etc). openat2 says it in one call; before Linux 5.6,
 * or where a seccomp filter refuses it (as copyout.c's open_beneath finds
 * in the sandbox, and older container profiles do with EPERM), one
 * openat(O_NOFOLLOW) per component. */
static int open_no_symlinks(const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags), .resolve = RESOLVE_NO_SYMLINKS };
	long r = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return (int)r;
	int dir = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (const char *p = path + strspn(path, "/"); dir >= 0;) {
		size_t len = strcspn(p, "/");
		if (len == 0)
			return dir; /* "/", or a trailing slash */
		char name[NAME_MAX + 1];
		if (len > NAME_MAX) {
			close(dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len + strspn(p + len, "/");
		bool last = !*p;
		struct stat st;
		int next = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? flags & ~O_DIRECTORY : 0));
		close(dir);
		if (next < 0)
			return -1;
		int e = fstat(next, &st) < 0	     ? errno
			: S_ISLNK(st.st_mode)	     ? ELOOP
			: (!last || (flags & O_DIRECTORY)) && !S_ISDIR(st.st_mode) ? ENOTDIR
						     : 0;
		if (e) {
			close(next);
			errno = e;
			return -1;
		}
		if (last)
			return next;
		dir = next;
	}
	return -1;
}

static int open_source(const char *path, const char *field, int flags, struct source_id *id,
		       const struct source_id *expect, al_error *err)
{
	struct stat st;
	int fd = open_no_symlinks(path, flags);
	if (fd < 0 && errno == ELOOP) {
		char real[PATH_MAX], hint[PATH_MAX + 32] = "";
		if (realpath(path, real))
			snprintf(hint, sizeof hint, " (it leads to %s)", real);
		return al_err(err, ELOOP,
			      "%s: %s: the path goes through a symbolic link, which a command may have "
			      "planted in a run before; give it without one%s",
			      field, path, hint);
	}
	if (fd < 0)
		return al_errno(err, "%s: %s", field, path);
	if (fstat(fd, &st) < 0) {
		al_errno(err, "%s: %s", field, path);
		close(fd);
		return -1;
	}
	*id = (struct source_id){ .dev = st.st_dev, .ino = st.st_ino };
	if (expect && (expect->dev != id->dev || expect->ino != id->ino)) {
		al_err(err, ESTALE, "%s: %s changed while the sandbox was being built", field, path);
		close(fd);
		return -1;
	}
	return fd;
}

static bool path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	if (n == 1 && outer[0] == '/')
		return true;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '/' || inner[n] == '\0');
}

/* Does any prefix of `path` (made absolute, not resolved) resolve into the
 * tree `w`? Checking every prefix, not just the end, catches a symlink
 * inside the writable tree that points outside it. */
static bool reached_through(const char *path, const char *w)
{
	char abs[PATH_MAX], real[PATH_MAX];
	if (path[0] == '/')
		snprintf(abs, sizeof abs, "%s", path);
	else if (!getcwd(abs, sizeof abs) ||
		 snprintf(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", path) < 0)
		return true; /* cannot tell: refuse */
	for (char *c = abs + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		bool inside = realpath(abs, real) && path_within(real, w);
		*c = saved;
		if (inside)
			return true;
		if (!saved)
			return false;
	}
}

/* A source reached through a tree the command may write could be replaced
 * by a symlink in one run and so redirect the next run's mount to any host
 * directory the caller can open. Refuse the combination. */
static int check_nesting(const struct al_policy *p, al_error *err)
{
	const char *paths[AL_MAX_MOUNTS + 2];
	bool writable[AL_MAX_MOUNTS + 2];
	size_t n = 0;
	if (p->root) {
		paths[n] = p->root;
		writable[n++] = false;
	}
	if (p->workspace) {
		paths[n] = p->workspace;
		writable[n++] = p->workspace_writable;
	}
	for (size_t i = 0; i < p->n_mounts; i++) {
		paths[n] = p->mounts[i].source;
		writable[n++] = p->mounts[i].writable;
	}
	for (size_t i = 0; p->n_secrets && i < p->n_mounts; i++) {
		const char *t = p->mounts[i].target;
		if (!strcmp(t, "/run") || !strncmp(t, AL_CA_DIR, strlen(AL_CA_DIR)))
			return al_err(err, EINVAL, "a mount on %s would hide %s, where a run with "
				      "credentials keeps its CA; mount it elsewhere", t, AL_CA_DIR);
	}
	for (size_t w = 0; w < n; w++) {
		char wreal[PATH_MAX];
		if (!writable[w])
			continue;
		if (!realpath(paths[w], wreal))
			return al_errno(err, "resolving %s", paths[w]);
		for (size_t s = 0; s < n; s++)
			if (s != w && reached_through(paths[s], wreal))
				return al_err(err, EINVAL,
					      "%s lies inside %s, which the sandbox may write: a run "
					      "could swap it for a symlink to redirect the next run's "
					      "mount; mount it from outside that tree", paths[s], paths[w]);
	}
	return 0;
}

int mounts_open_sources(const struct al_policy *p, struct mount_sources *src,
			const struct mount_sources *expect, al_error *err)
{
	*src = (struct mount_sources){ .root_fd = -1, .workspace_fd = -1, .ca_bundle_fd = -1 };
	for (size_t i = 0; i < AL_MAX_MOUNTS; i++)
		src->mount_fds[i] = -1;
	if (p->n_mounts > AL_MAX_MOUNTS)
		return al_err(err, E2BIG, "filesystem.mounts: at most %d", AL_MAX_MOUNTS);
	if (!expect && check_nesting(p, err) < 0)
		return al_error_wrap(err, "filesystem");
	src->root_fd = open_source(p->root ? p->root : "/", "filesystem.root", O_DIRECTORY, &src->root_id,
				   expect ? &expect->root_id : NULL, err);
	if (src->root_fd < 0)
		return -1;
	if (p->workspace) {
		src->workspace_fd = open_source(p->workspace, "filesystem.workspace", O_DIRECTORY,
						&src->workspace_id,
						expect ? &expect->workspace_id : NULL, err);
		if (src->workspace_fd < 0)
			goto fail;
	}
	for (src->n = 0; src->n < p->n_mounts; src->n++) {
		size_t i = src->n;
		src->mount_fds[i] = open_source(p->mounts[i].source, "filesystem.mounts", 0,
						&src->mount_ids[i], expect ? &expect->mount_ids[i] : NULL,
						err);
		if (src->mount_fds[i] < 0)
			goto fail;
	}
	return 0;
fail:
	mounts_close_sources(src);
	return -1;
}

void mounts_close_sources(struct mount_sources *src)
{
	if (src->root_fd >= 0)
		close(src->root_fd);
	if (src->workspace_fd >= 0)
		close(src->workspace_fd);
	for (size_t i = 0; i < src->n; i++)
		if (src->mount_fds[i] >= 0)
			close(src->mount_fds[i]);
	if (src->ca_bundle_fd >= 0)
		close(src->ca_bundle_fd);
	mounts_forget_fds(src);
}

void mounts_forget_fds(struct mount_sources *src)
{
	src->root_fd = src->workspace_fd = src->ca_bundle_fd = -1;
	for (size_t i = 0; i < AL_MAX_MOUNTS; i++)
		src->mount_fds[i] = -1;
}

/* ---- child side: the steps of the new root ----------------------------- */

static int bind_root_entry(int root_fd, const char *name, bool host_system, al_error *err)
{
	struct stat st;
	char dst[PATH_MAX];
	snprintf(dst, sizeof dst, NEWROOT "/%s", name);
	if (fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : al_errno(err, "stat of /%s", name);
	if (S_ISLNK(st.st_mode)) {
		/* merged-/usr hosts: /bin -> usr/bin; keep the link as it is. */
		char target[PATH_MAX];
		ssize_t n = readlinkat(root_fd, name, target, sizeof target - 1);
		if (n < 0)
			return al_errno(err, "reading link /%s", name);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return al_errno(err, "creating link %s", dst);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;
	_cleanup_close_ int fd = openat(root_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return al_errno(err, "opening /%s", name);
	if (make_mountpoint_for(fd, dst, err) < 0)
		return -1;
	if (bind_fd(fd, dst, MS_RDONLY | MS_NOSUID | MS_NODEV, err) == 0)
		return 0;
	/* Only for the host's own system directories: an image root's
	 * submounts are not airlock's to expose. */
	if (err->code != EINVAL || !host_system)
		return -1;
	return bind_fd_recursive_ro(fd, dst, err);
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static int bind_system_dirs(const struct al_policy *p, int root_fd, al_error *err)
{
	if (!p->root) {
		for (size_t i = 0; i < ARRAY_SIZE(host_system_dirs); i++)
			if (bind_root_entry(root_fd, host_system_dirs[i], true, err) < 0)
				return -1;
		return 0;
	}
	_cleanup_close_ int dfd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return al_errno(err, "opening image root");
	DIR *d = fdopendir(al_steal_fd(&dfd));
	if (!d)
		return al_errno(err, "reading image root");
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    in_list(de->d_name, image_skip, ARRAY_SIZE(image_skip)))
			continue;
		r = bind_root_entry(root_fd, de->d_name, false, err);
	}
	closedir(d);
	return r;
}

/* Hiding is one bind each: the sources are an empty file and an empty
 * directory in a tiny tmpfs that is already read-only, nosuid, nodev and
 * noexec, and a bind mount inherits the flags of the mount it copies. That
 * tmpfs is mounted at NEWROOT first, and the new root on top of it: it is
 * reached only through the two fds below, and it leaves with the old root
 * when that is detached (one unmount, one RCU grace period, not two). */
static int hide_file_fd = -1, hide_dir_fd = -1;

static int make_hide_sources(al_error *err)
{
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") < 0)
		return al_errno(err, "mounting the hiding tmpfs");
	if (make_file(NEWROOT "/file", err) < 0 || mkdir(NEWROOT "/dir", 0) < 0)
		return al_errno(err, "creating the hiding sources");
	if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return al_errno(err, "remounting the hiding tmpfs");
	hide_file_fd = open(NEWROOT "/file", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	hide_dir_fd = open(NEWROOT "/dir", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (hide_file_fd < 0 || hide_dir_fd < 0)
		return al_errno(err, "opening the hiding sources");
	return 0;
}

static void drop_hide_sources(void)
{
	if (hide_file_fd >= 0)
		close(hide_file_fd);
	if (hide_dir_fd >= 0)
		close(hide_dir_fd);
	hide_file_fd = hide_dir_fd = -1;
}

/* An empty read-only file or directory over `path`, already lstat'ed. */
static int hide_stat(const char *path, const struct stat *st, al_error *err)
{
	if (S_ISLNK(st->st_mode))
		return 0; /* a link leads into the same (already filtered) tree */
	char src[32];
	snprintf(src, sizeof src, "/proc/self/fd/%d", S_ISDIR(st->st_mode) ? hide_dir_fd : hide_file_fd);
	if (mount(src, path, NULL, MS_BIND, NULL) < 0)
		return al_errno(err, "hiding %s", path);
	return 0;
}

/* The same over `path` if it exists. */
static int hide_path(const char *path, al_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : al_errno(err, "stat of %s", path);
	return hide_stat(path, &st, err);
}

static int hide_etc_secrets(al_error *err)
{
	char path[PATH_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(etc_secrets); i++) {
		snprintf(path, sizeof path, NEWROOT "/etc/%s", etc_secrets[i]);
		if (hide_path(path, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- deny patterns: gitignore-style, applied to mounted host trees ------ */

struct deny_walk {
	const struct al_policy *p;
	const char *tree;	 /* the mounted tree's path (under NEWROOT) */
	bool writable;		 /* the command may rename and edit inside it */
	struct al_strlist extra; /* from .aiignore files */
	struct al_strlist pinned;
	size_t visited;
	al_error *err;
};

#define DENY_WALK_MAX_ENTRIES 200000
#define DENY_WALK_MAX_DEPTH 64

/* gitignore-style, failing towards hiding more: a pattern without '/'
 * matches a name anywhere below; one with '/' is anchored (to the tree, or to
 * the directory of the .aiignore it came from, which read_aiignore prefixes);
 * "**" matches across directories, zero or more of them. */
static bool glob_path(const char *q, const char *rel)
{
	if (!strstr(q, "**"))
		return fnmatch(q, rel, FNM_PATHNAME) == 0;
	char one[PATH_MAX], any[PATH_MAX];
	size_t j = 0, k = 0;
	for (size_t i = 0; q[i] && j < sizeof one - 1 && k < sizeof any - 1; i++) {
		if (q[i] == '*' && q[i + 1] == '*') {
			/* "a/" "**" "/b" with zero directories is "a/b" */
			if (q[i + 2] == '/' && j > 0 && one[j - 1] == '/')
				i += 2;
			else
				i += 1;
			any[k++] = '*';
			continue;
		}
		one[j++] = q[i];
		any[k++] = q[i];
	}
	one[j] = any[k] = '\0';
	/* without FNM_PATHNAME, '*' also matches '/' */
	return fnmatch(one, rel, FNM_PATHNAME) == 0 || fnmatch(any, rel, 0) == 0;
}

bool deny_pattern_matches(const char *pat, const char *rel, const char *base, bool is_dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(pat);
	if (len == 0 || pat[0] == '#' || pat[0] == '!')
		return false;
	snprintf(buf, sizeof buf, "%s", pat);
	if (buf[len - 1] == '/') { /* "dir/" matches directories only */
		if (!is_dir)
			return false;
		buf[--len] = '\0';
	}
	const char *q = buf;
	if (q[0] == '~' && q[1] == '/') /* "~/.ssh": the home-relative form */
		q += 2;
	bool rooted = q[0] == '/';
	if (rooted)
		q++;
	/* a leading "**" + "/" matches at any depth, the top included */
	bool any_depth = false;
	while (strncmp(q, "**/", 3) == 0) {
		q += 3;
		any_depth = true;
	}
	if (!strchr(q, '/') && (!rooted || any_depth))
		return fnmatch(q, base, 0) == 0;
	return glob_path(q, rel);
}

static bool denied(struct deny_walk *w, const char *rel, const char *base, bool is_dir)
{
	for (size_t i = 0; i < w->p->deny.n; i++)
		if (deny_pattern_matches(w->p->deny.v[i], rel, base, is_dir))
			return true;
	for (size_t i = 0; i < w->extra.n; i++)
		if (deny_pattern_matches(w->extra.v[i], rel, base, is_dir))
			return true;
	return false;
}

/* In a writable tree a run could rename a directory so that an anchored
 * pattern ("config/secrets.yml") no longer matches in the next run, or edit
 * .aiignore itself. A mount point cannot be renamed or removed (EBUSY), so
 * every directory above a hidden path is bound onto itself, and .aiignore
 * files are bound read-only. */
static int pin(struct deny_walk *w, const char *path, bool readonly)
{
	if (!w->writable || al_strlist_contains(&w->pinned, path))
		return 0;
	if (al_strlist_add(&w->pinned, path) < 0)
		return al_err(w->err, ENOMEM, "out of memory");
	if (readonly)
		return bind_path(path, path, MS_RDONLY | MS_NOSUID | MS_NODEV, w->err);
	if (mount(path, path, NULL, MS_BIND, NULL) < 0)
		return al_errno(w->err, "pinning %s", path);
	return 0;
}

static int pin_ancestors(struct deny_walk *w, const char *abs)
{
	char buf[PATH_MAX];
	size_t root = strlen(w->tree);
	snprintf(buf, sizeof buf, "%s", abs);
	for (char *slash = strrchr(buf, '/'); slash && (size_t)(slash - buf) > root;
	     slash = strrchr(buf, '/')) {
		*slash = '\0';
		if (pin(w, buf, false) < 0)
			return -1;
	}
	return 0;
}

static int hide_denied(struct deny_walk *w, const char *abs)
{
	return pin_ancestors(w, abs) < 0 ? -1 : hide_path(abs, w->err);
}

/* A denied symlink: what it leads to inside the tree is hidden instead (a
 * mount cannot cover the link itself). An absolute target resolves in the
 * sandbox's own root after pivot_root, which is filtered already. */
static int hide_link_target(struct deny_walk *w, const char *abs)
{
	char target[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink(abs, target, sizeof target - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	if (target[0] == '/' || !realpath(abs, real))
		return 0;
	size_t root = strlen(w->tree);
	if (strncmp(real, w->tree, root) != 0 || (real[root] != '/' && real[root] != '\0'))
		return 0;
	return hide_denied(w, real);
}

#define AIIGNORE_MAX_BYTES (64 * 1024)

/* A previous run may have made .aiignore a symlink (to /dev/zero, a FIFO, a
 * host file): only a regular file of sane size is read. */
static int read_aiignore(struct deny_walk *w, const char *dir, const char *rel)
{
	char path[PATH_MAX], buf[AIIGNORE_MAX_BYTES + 1];
	snprintf(path, sizeof path, "%s/.aiignore", dir);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		/* absent; or in a directory the sandbox cannot search, where
		 * nothing is reachable for it anyway */
		if (errno == ENOENT || (errno == EACCES && access(dir, X_OK) < 0))
			return 0;
		/* a link or something unreadable where .aiignore should be:
		 * we cannot know what it meant to hide */
		return al_errno(w->err, "%s/.aiignore", *rel ? rel : ".");
	}
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= AIIGNORE_MAX_BYTES)
		n = read(fd, buf, AIIGNORE_MAX_BYTES);
	close(fd);
	if (n < 0)
		return al_err(w->err, EINVAL, "%s/.aiignore: not a regular file of at most %d bytes",
			      *rel ? rel : ".", AIIGNORE_MAX_BYTES);
	buf[n] = '\0';
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		/* As in gitignore: a '/' anywhere but at the end anchors the
		 * pattern to this .aiignore's directory. */
		char pat[PATH_MAX];
		const char *body = line[0] == '/' ? line + 1 : line;
		const char *slash = strchr(line, '/');
		bool anchored = slash && slash[1] != '\0';
		if (anchored && *rel) {
			/* the directory's own name is literal: escape what
			 * fnmatch would read as a glob ("build[1]") */
			char esc[PATH_MAX];
			size_t j = 0;
			for (const char *c = rel; *c && j < sizeof esc - 2; c++) {
				if (strchr("*?[]\\", *c))
					esc[j++] = '\\';
				esc[j++] = *c;
			}
			esc[j] = '\0';
			snprintf(pat, sizeof pat, "/%s/%s", esc, body);
		} else
			snprintf(pat, sizeof pat, "%s", line);
		if (al_strlist_add(&w->extra, pat) < 0)
			return al_err(w->err, ENOMEM, "out of memory");
	}
	return pin(w, path, true) < 0 || pin_ancestors(w, path) < 0 ? -1 : 0;
}

static int deny_walk_dir(struct deny_walk *w, const char *abs, const char *rel, int depth)
{
	/* Fail closed: a tree we cannot fully check is not shown. */
	if (depth > DENY_WALK_MAX_DEPTH)
		return al_err(w->err, ELOOP, "%s: nested deeper than %d directories; cannot check it "
			      "against the deny patterns", rel, DENY_WALK_MAX_DEPTH);
	if (read_aiignore(w, abs, rel) < 0)
		return -1;
	int dfd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	if (!d) {
		/* Not listable but enterable (mode --x): files in it could be
		 * opened by name without us having seen them. Hide it. */
		if (errno == EACCES && access(abs, X_OK) == 0)
			return hide_denied(w, abs);
		return 0; /* not enterable either: nothing in it is reachable */
	}
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++w->visited > DENY_WALK_MAX_ENTRIES) {
			r = al_err(w->err, E2BIG,
				   "more than %d entries to check against the deny patterns "
				   "(narrow the mount or set filesystem.deny: [])",
				   DENY_WALK_MAX_ENTRIES);
			break;
		}
		char a[PATH_MAX], rl[PATH_MAX];
		snprintf(a, sizeof a, "%s/%s", abs, de->d_name);
		snprintf(rl, sizeof rl, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			type = lstat(a, &st) < 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR
				: S_ISLNK(st.st_mode) ? DT_LNK : S_ISSOCK(st.st_mode) ? DT_SOCK
				: S_ISFIFO(st.st_mode) ? DT_FIFO : DT_REG;
		}
		bool is_dir = type == DT_DIR;
		/* A live socket or FIFO in a host tree is a channel to whatever
		 * host process serves it, past every network rule. */
		if (type == DT_SOCK || type == DT_FIFO)
			r = hide_denied(w, a);
		else if (denied(w, rl, de->d_name, is_dir))
			r = type == DT_LNK ? hide_link_target(w, a) : hide_denied(w, a);
		else if (is_dir)
			r = deny_walk_dir(w, a, rl, depth + 1);
	}
	closedir(d);
	return r;
}

static int apply_deny(const struct al_policy *p, const char *tree, bool writable, al_error *err)
{
	struct deny_walk w = { .p = p, .tree = tree, .writable = writable, .err = err };
	int r = deny_walk_dir(&w, tree, "", 0);
	al_strlist_clear(&w.extra);
	al_strlist_clear(&w.pinned);
	return r < 0 ? al_error_wrap(err, "hiding denied paths in %s", tree + strlen(NEWROOT)) : 0;
}

/* ---- workspace, extra mounts, tmp, dev, proc ---------------------------- */

static int mount_host_tree(int fd, bool is_mount_fd, const char *dst, bool writable,
			   al_error *err)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | (writable ? 0 : MS_RDONLY);
	if (make_mountpoint_for(fd, dst, err) < 0)
		return -1;
	return is_mount_fd ? attach_mount_fd(fd, dst, flags, err) : bind_fd(fd, dst, flags, err);
}

static int setup_workspace(const struct al_policy *p, const struct mount_sources *src,
			   al_error *err)
{
	const char *dst = NEWROOT "/workspace";
	if (src->workspace_fd < 0) {
		if (make_dirs(dst, err) < 0)
			return -1;
		return mount_tmpfs(dst, MS_NOSUID | MS_NODEV | (p->workspace_writable ? 0 : MS_RDONLY),
				   "0755", p->workspace_size, err);
	}
	if (mount_host_tree(src->workspace_fd, src->workspace_is_mount_fd, dst,
			    p->workspace_writable, err) < 0)
		return -1;
	return apply_deny(p, dst, p->workspace_writable, err);
}

static int setup_extra_mounts(const struct al_policy *p, const struct mount_sources *src,
			      al_error *err)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		char dst[PATH_MAX];
		snprintf(dst, sizeof dst, NEWROOT "%s", p->mounts[i].target);
		if (mount_host_tree(src->mount_fds[i], src->mount_is_mount_fd[i], dst,
				    p->mounts[i].writable, err) < 0)
			return al_error_wrap(err, "mount %s", p->mounts[i].target);
		struct stat st;
		if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode) && apply_deny(p, dst, p->mounts[i].writable, err) < 0)
			return -1;
	}
	return 0;
}

static int setup_dev(const struct al_policy *p, al_error *err)
{
	const char *dev = NEWROOT "/dev";
	char path[PATH_MAX];
	if (make_dirs(dev, err) < 0 ||
	    mount_tmpfs(dev, MS_NOSUID | MS_NOEXEC, "0755", 1 << 16, err) < 0)
		return -1;
	/* A user namespace cannot mknod: bind the host's harmless nodes. Not
	 * remounted nosuid,noexec: neither means anything for a device node
	 * (execve takes regular files only), and each remount costs a call;
	 * so a host "node" that is anything else is refused. */
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		char src[64];
		struct stat st;
		snprintf(src, sizeof src, "/dev/%s", dev_nodes[i]);
		snprintf(path, sizeof path, "%s/%s", dev, dev_nodes[i]);
		if (stat(src, &st) < 0)
			return al_errno(err, "stat of the host's %s", src);
		if (!S_ISCHR(st.st_mode))
			return al_err(err, EINVAL, "the host's %s is not a character device", src);
		if (make_file(path, err) < 0)
			return -1;
		if (mount(src, path, NULL, MS_BIND, NULL) < 0)
			return al_errno(err, "binding %s", path);
	}
	/* A private devpts: ptys for tools that want one, none of the host's
	 * terminals, and no /dev/tty (the command has no controlling terminal). */
	snprintf(path, sizeof path, "%s/pts", dev);
	if (make_dirs(path, err) < 0)
		return -1;
	if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return al_errno(err, "mounting devpts");
	snprintf(path, sizeof path, "%s/shm", dev);
	if (make_dirs(path, err) < 0 ||
	    mount_tmpfs(path, MS_NOSUID | MS_NODEV | MS_NOEXEC, "1777", p->tmp_size, err) < 0)
		return -1;
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof path, "%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], path) < 0)
			return al_errno(err, "creating %s", path);
	}
	return remount(dev, MS_RDONLY | MS_NOSUID | MS_NOEXEC, err);
}

static int setup_proc(al_error *err)
{
	const char *proc = NEWROOT "/proc";
	char path[PATH_MAX];
	/* Mounted while the host's /proc is still visible in this namespace:
	 * the kernel only lets a user namespace mount proc when an unobscured
	 * one is already visible (mount_too_revealing). */
	if (make_dirs(proc, err) < 0)
		return -1;
	/* hidepid=invisible: processes the reader may not ptrace are not
	 * listed; that hides the sandbox's non-dumpable init, whose argv and
	 * memory come from the supervisor. */
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible") < 0 &&
	    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
		return al_errno(err, "mounting proc");
	for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", proc, proc_masked[i]);
		/* Root-only entries (0400 root) are closed to uid 65534 already;
		 * a mount over them would only cost time. */
		if (lstat(path, &st) < 0 || !(st.st_mode & (S_IROTH | S_IWOTH | S_IXOTH)))
			continue;
		if (hide_stat(path, &st, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
		snprintf(path, sizeof path, "%s/%s", proc, proc_readonly[i]);
		if (access(path, F_OK) == 0 &&
		    bind_path(path, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
			return -1;
	}
	return 0;
}

static int enter_new_root(al_error *err)
{
	/* pivot_root(".", "."): the old root ends up stacked under the new one
	 * and is detached at once, so no path leads back to the host tree. */
	if (chdir(NEWROOT) < 0)
		return al_errno(err, "chdir to new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return al_errno(err, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return al_errno(err, "detaching the old root");
	if (chdir("/") < 0)
		return al_errno(err, "chdir /");
	return remount("/", MS_RDONLY | MS_NOSUID | MS_NODEV, err);
}

/* Copy from fd's start to a new read-only file; up to `stop` (a string that
 * ends what is copied, included) or to the end. */
static int write_file_from(int fd, const char *path, const char *stop, al_error *err)
{
	char buf[16384];
	_cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (out < 0)
		return al_errno(err, "creating %s", path);
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return al_errno(err, "reading the CA bundle");
		if (n == 0)
			return 0;
		size_t k = (size_t)n;
		const char *end = stop ? memmem(buf, k, stop, strlen(stop)) : NULL;
		if (end)
			k = (size_t)(end - buf) + strlen(stop);
		if (write(out, buf, k) != (ssize_t)k)
			return al_errno(err, "writing %s", path);
		if (end)
			return 0;
		off += n;
	}
}

/* The per-run CA of a run with credentials, where the sandbox's TLS
 * clients are pointed at it (exec.c sets SSL_CERT_FILE and the rest). In
 * the root tmpfs, which becomes read-only with the rest of the root. */
static int write_ca_files(const struct mount_sources *src, al_error *err)
{
	if (src->ca_bundle_fd < 0)
		return 0;
	if (make_dirs(NEWROOT AL_CA_DIR, err) < 0 ||
	    write_file_from(src->ca_bundle_fd, NEWROOT AL_CA_FILE, "-----END CERTIFICATE-----\n", err) < 0 ||
	    write_file_from(src->ca_bundle_fd, NEWROOT AL_CA_BUNDLE, NULL, err) < 0)
		return al_error_wrap(err, "per-run CA");
	return 0;
}

int mounts_setup(const struct al_policy *p, const struct mount_sources *src, al_error *err)
{
	/* Private: nothing we mount reaches the host, and nothing the host
	 * mounts later under a bound directory appears here unfiltered. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return al_errno(err, "making mounts private");
	struct stat bundle;
	uint64_t root_size = 1 << 20;
	if (src->ca_bundle_fd >= 0 && fstat(src->ca_bundle_fd, &bundle) == 0)
		root_size += 2 * (uint64_t)bundle.st_size;
	if (make_hide_sources(err) < 0 ||
	    mount_tmpfs(NEWROOT, MS_NOSUID | MS_NODEV, "0755", root_size, err) < 0) {
		drop_hide_sources();
		return -1;
	}
	char path[PATH_MAX];
	static const char *const dirs[] = { "tmp", "sys" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof path, NEWROOT "/%s", dirs[i]);
		if (make_dirs(path, err) < 0)
			return -1;
	}
	if (write_ca_files(src, err) < 0)
		return -1;
	if (bind_system_dirs(p, src->root_fd, err) < 0)
		return al_error_wrap(err, "system directories");
	if (hide_etc_secrets(err) < 0)
		return al_error_wrap(err, "/etc");
	if (setup_workspace(p, src, err) < 0)
		return al_error_wrap(err, "/workspace");
	if (setup_extra_mounts(p, src, err) < 0)
		return -1;
	if (mount_tmpfs(NEWROOT "/tmp", MS_NOSUID | MS_NODEV | MS_NOEXEC, "1777", p->tmp_size,
			err) < 0)
		return al_error_wrap(err, "/tmp");
	if (setup_dev(p, err) < 0)
		return al_error_wrap(err, "/dev");
	if (setup_proc(err) < 0)
		return al_error_wrap(err, "/proc");
	drop_hide_sources();
	return enter_new_root(err);
}
