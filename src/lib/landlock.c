/* Landlock: a second fence, independent of the mount namespace.
 *
 * If a mount is set up wrong, or a kernel bug lets a process out of its mount
 * namespace, Landlock still holds: the domain travels with the process and
 * every path it opens is checked against it. Everything is readable and
 * executable; only the granted paths (and a few harmless devices) are
 * writable; TCP bind/connect is refused; abstract unix sockets and signals
 * cannot cross the domain's boundary.
 *
 * Raw syscalls: there is no libc wrapper, and Debian 12's <linux/landlock.h>
 * predates most of what we use, so the newer constants are defined here.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RULE_NET_PORT
#define LANDLOCK_RULE_NET_PORT 2 /* ABI 4 */
#endif
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* struct landlock_ruleset_attr as of ABI 6. The kernel takes the size we
 * pass and requires any field it does not know to be zero. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Rights that may be granted on a non-directory; a rule on a file that
 * carries any other right is refused with EINVAL. */
#define FS_FILE_RIGHTS                                                              \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |               \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_DEV_RW                                                                   \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |             \
	 LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Devices every program expects to write to (`> /dev/null` also truncates),
 * and the pty directory so a terminal handed in, or one the command opens
 * itself, keeps working. Missing entries are skipped. */
static const struct {
	const char *path;
	uint64_t access;
} dev_rules[] = {
	{ "/dev/null", FS_DEV_RW },
	{ "/dev/zero", FS_DEV_RW },
	{ "/dev/full", FS_DEV_RW },
	{ "/dev/random", FS_DEV_RW },
	{ "/dev/urandom", FS_DEV_RW },
	{ "/dev/ptmx", FS_DEV_RW },
	{ "/dev/pts", LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV },
};

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	/* ENOSYS: not built in; EOPNOTSUPP: built in but not enabled (lsm=). */
	return abi < 0 ? 0 : (int)abi;
}

/* Every filesystem right this ABI knows: a right left out of the handled set
 * is simply not restricted. */
static uint64_t fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static size_t ruleset_attr_size(int abi)
{
	if (abi >= 6)
		return sizeof(struct ll_ruleset_attr);
	if (abi >= 4)
		return offsetof(struct ll_ruleset_attr, scoped);
	return offsetof(struct ll_ruleset_attr, handled_access_net);
}

/* Grant `access` (trimmed to what is handled, and to file rights if `path`
 * is not a directory) beneath path. Returns 1 when path does not exist and
 * `optional`, 0 when added. */
static int add_path_rule(int ruleset, const char *path, uint64_t access, uint64_t handled,
			 bool optional, al_error *err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT && optional)
		return 1;
	if (fd < 0)
		return al_errno(err, "landlock: opening %s", path);
	if (fstat(fd, &st) < 0)
		return al_errno(err, "landlock: stat %s", path);
	if (!S_ISDIR(st.st_mode))
		access &= FS_FILE_RIGHTS;

	struct landlock_path_beneath_attr rule = {
		.allowed_access = access & handled,
		.parent_fd = fd,
	};
	if (rule.allowed_access == 0)
		return 0;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		return al_errno(err, "landlock: adding rule for %s", path);
	return 0;
}

static int add_rules(int ruleset, uint64_t handled, const char *const *writable, size_t n,
		     al_error *err)
{
	/* Read and run everything; IOCTL_DEV so terminals and devices opened
	 * later (a pty handed in as stdin) still take their ioctls. */
	if (add_path_rule(ruleset, "/", FS_READ | LANDLOCK_ACCESS_FS_IOCTL_DEV, handled, false,
			  err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_path_rule(ruleset, writable[i], handled, handled, true, err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof dev_rules / sizeof dev_rules[0]; i++)
		if (add_path_rule(ruleset, dev_rules[i].path, dev_rules[i].access, handled, true,
				  err) < 0)
			return -1;
	return 0;
}

int landlock_apply(int abi, const char *const *writable, size_t n_writable, uint16_t connect_port,
		   al_error *err)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };

	if (abi < 1)
		return al_err(err, EOPNOTSUPP, "landlock: not available on this kernel");
	/* Handled, with at most one rule: every TCP bind is refused, and
	 * every connect but to the egress gateway's port (the only listener in
	 * the sandbox's network namespace), loopback included. */
	if (abi >= 4)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	/* Abstract unix sockets are named per network namespace, not per mount
	 * namespace, and signals cross any namespace we share: scope both. */
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;

	_cleanup_close_ int ruleset =
		(int)syscall(SYS_landlock_create_ruleset, &attr, ruleset_attr_size(abi), 0U);
	if (ruleset < 0)
		return al_errno(err, "landlock: creating ruleset (ABI %d)", abi);
	if (add_rules(ruleset, attr.handled_access_fs, writable, n_writable, err) < 0)
		return -1;
	if (abi >= 4 && connect_port) {
		struct ll_net_port_attr net = { .allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
						.port = connect_port };
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_NET_PORT, &net, 0) < 0)
			return al_errno(err, "landlock: adding the rule for TCP port %u", connect_port);
	}
	/* Needs no_new_privs (set by the caller), else EPERM without CAP_SYS_ADMIN. */
	if (syscall(SYS_landlock_restrict_self, ruleset, 0U) < 0)
		return al_errno(err, "landlock: restricting self");
	return 0;
}
