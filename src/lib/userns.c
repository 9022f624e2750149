/* User namespace: who the sandbox is on the host.
 *
 * Inside, the command is always uid/gid 65534. Outside it is:
 *  - for an ordinary user, that user (the only id it may map; setgroups is
 *    denied first, as the kernel requires since CVE-2014-8989);
 *  - for root, a per-sandbox unprivileged id, never 0: a sandbox mapped to
 *    host root could open host sysctls such as core_pattern for writing.
 *    The id is BASE + the init's host pid, so concurrent sandboxes never share
 *    one (pids are unique among live processes) and nothing needs a lock.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Above every ordinary and subordinate (subuid) range in common use, below
 * the 32-bit overflow ids; pid_max is at most 2^22. */
#define AL_HOST_ID_BASE 0x50000000u

void userns_plan(struct idmap *m)
{
	m->privileged = geteuid() == 0;
	m->host_uid = geteuid();
	m->host_gid = getegid();
}

static int write_proc_file(pid_t pid, const char *name, const char *text, al_error *err)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return al_errno(err, "opening %s", path);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return al_errno(err, "writing %s", path);
	return 0;
}

static int write_maps(pid_t pid, uid_t inside_uid, uid_t outside_uid, gid_t inside_gid,
		      gid_t outside_gid, bool deny_setgroups, al_error *err)
{
	char map[64];
	/* setgroups must be denied before gid_map is written by an unprivileged
	 * writer; the kernel refuses the gid_map otherwise. */
	if (deny_setgroups && write_proc_file(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof map, "%u %u 1\n", inside_uid, outside_uid);
	if (write_proc_file(pid, "uid_map", map, err) < 0)
		return -1;
	snprintf(map, sizeof map, "%u %u 1\n", inside_gid, outside_gid);
	return write_proc_file(pid, "gid_map", map, err);
}

int userns_write_maps(pid_t child, struct idmap *m, al_error *err)
{
	if (m->privileged) {
		m->host_uid = AL_HOST_ID_BASE + (uid_t)child;
		m->host_gid = AL_HOST_ID_BASE + (gid_t)child;
	}
	if (write_maps(child, AL_SANDBOX_UID, m->host_uid, AL_SANDBOX_GID, m->host_gid,
		       !m->privileged, err) < 0)
		return al_error_wrap(err, "user namespace");
	return 0;
}

int userns_become_sandbox_user(const struct idmap *m, al_error *err)
{
	/* As root the supplementary groups are the host root's (gid 0 among
	 * them): drop them. An ordinary user cannot (setgroups is denied), and
	 * keeps only groups it already had on the host. */
	if (m->privileged && setgroups(0, NULL) < 0)
		return al_errno(err, "dropping supplementary groups");
	if (setresgid(AL_SANDBOX_GID, AL_SANDBOX_GID, AL_SANDBOX_GID) < 0)
		return al_errno(err, "setresgid(%u)", AL_SANDBOX_GID);
	if (setresuid(AL_SANDBOX_UID, AL_SANDBOX_UID, AL_SANDBOX_UID) < 0)
		return al_errno(err, "setresuid(%u)", AL_SANDBOX_UID);
	return 0;
}

/* A user namespace whose only mapping is owner -> the sandbox's host id,
 * held by a short-lived child that waits on a pipe. */
static int idmap_userns_fd(uid_t owner, gid_t owner_gid, const struct idmap *m, al_error *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return al_errno(err, "pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return al_errno(err, "clone(CLONE_NEWUSER)");
	}
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	int fd = -1;
	if (write_maps(pid, owner, m->host_uid, owner_gid, m->host_gid, false, err) == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			al_errno(err, "opening %s", path);
	}
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	return fd;
}

int userns_idmapped_mount(int dir_fd, uid_t owner, gid_t owner_gid, const struct idmap *m,
			  al_error *err)
{
	_cleanup_close_ int ns = idmap_userns_fd(owner, owner_gid, m, err);
	if (ns < 0)
		return -1;
	_cleanup_close_ int mnt = open_tree(dir_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
						    AT_EMPTY_PATH);
	if (mnt < 0)
		return al_errno(err, "open_tree");
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		.userns_fd = (uint64_t)ns,
	};
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		return al_errno(err, "mount_setattr(MOUNT_ATTR_IDMAP)");
	return al_steal_fd(&mnt);
}
