/* Capability dropping and no_new_privs.
 *
 * Runs in the sandbox child, which is the first process of a fresh user
 * namespace and so holds every capability *there*. Capabilities in a user
 * namespace still open kernel code that is otherwise root-only (mount, netfilter,
 * many filesystems: CVE-2022-0185, CVE-2023-32233, ...), so the command gets
 * none at all: not in any set, not in the bounding set it could regain them
 * from on execve, and with securebits locked so that uid 0 means nothing.
 *
 * No libcap: capget/capset with the v3 ABI are two raw syscalls.
 */
#include "internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Every securebit that makes root and setuid powerless, each with its lock so
 * nothing inside can turn it back off. KEEP_CAPS stays off (and locked off):
 * a uid change must drop capabilities, never keep them. */
#define SECBITS_WANTED                                                          \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |        \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |              \
	 SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

int nnp_set(al_error *err)
{
	/* no_new_privs: execve can never grant privileges again (setuid bits,
	 * file capabilities). Landlock and unprivileged seccomp require it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return al_errno(err, "setting no_new_privs");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return al_err(err, EPERM, "no_new_privs did not stick");
	return 0;
}

static int cap_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	memset(data, 0, 2 * sizeof *data);
	return (int)syscall(SYS_capget, &hdr, data);
}

static int cap_set(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capset, &hdr, data);
}

/* Highest capability the running kernel knows: it may know more than our
 * headers, and every one of them must leave the bounding set. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	if (last >= 0 && last < 64)
		return last;
	/* /proc may be masked or not mounted yet: ask the kernel cap by cap. */
	for (last = 0; last < 63; last++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)last + 1, 0L, 0L, 0L) < 0)
			break;
	return last;
}

/* Make CAP_SETPCAP effective if it is permitted: after a uid change with
 * keep-caps the effective set is empty, and every step below needs it. */
static int raise_effective(al_error *err)
{
	struct __user_cap_data_struct data[2];

	if (cap_get(data) < 0)
		return al_errno(err, "capget");
	if (data[0].effective == data[0].permitted && data[1].effective == data[1].permitted)
		return 0;
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (cap_set(data) < 0)
		return al_errno(err, "raising effective capabilities");
	return 0;
}

static int lock_securebits(al_error *err)
{
	int old = prctl(PR_GET_SECUREBITS, 0L, 0L, 0L, 0L);

	if (old < 0)
		return al_errno(err, "reading securebits");
	/* Keep bits an outer sandbox may have locked: clearing them would fail. */
	unsigned long want = ((unsigned long)old & ~(unsigned long)SECBIT_KEEP_CAPS) | SECBITS_WANTED;
	if (prctl(PR_SET_SECUREBITS, want, 0L, 0L, 0L) < 0)
		return al_errno(err, "locking securebits 0x%lx", want);
	return 0;
}

static int drop_bounding(int last, al_error *err)
{
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0L, 0L, 0L) < 0)
			return al_errno(err, "dropping capability %d from the bounding set", cap);
	return 0;
}

static int clear_sets(al_error *err)
{
	struct __user_cap_data_struct data[2] = { 0 };

	/* Ambient caps would survive execve of an unprivileged binary. EINVAL:
	 * a kernel before 4.3 has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL)
		return al_errno(err, "clearing ambient capabilities");
	/* Permitted last: it takes CAP_SETPCAP with it. */
	if (cap_set(data) < 0)
		return al_errno(err, "clearing capability sets");
	return 0;
}

/* The bounding and ambient sets as the kernel shows them in
 * /proc/self/status: one read instead of two prctl calls per capability.
 * -1 when /proc is not there to ask (the callers then ask cap by cap). */
static int status_caps(uint64_t *bnd, uint64_t *amb)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	int found = 0;
	unsigned long long v;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapBnd: %llx", &v) == 1) {
			*bnd = v;
			found |= 1;
		} else if (sscanf(line, "CapAmb: %llx", &v) == 1) {
			*amb = v;
			found |= 2;
		}
	fclose(f);
	return found == 3 ? 0 : -1;
}

/* Trust nothing we did: read every set back. */
static int verify_dropped(int last, al_error *err)
{
	struct __user_cap_data_struct data[2];

	if (cap_get(data) < 0)
		return al_errno(err, "capget");
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return al_err(err, EPERM, "capabilities still held after capset");
	uint64_t bnd = ~0ull, amb = ~0ull;
	if (status_caps(&bnd, &amb) == 0) {
		if (bnd)
			return al_err(err, EPERM, "capabilities still in the bounding set (0x%llx)",
				      (unsigned long long)bnd);
		if (amb)
			return al_err(err, EPERM, "capabilities still ambient (0x%llx)", (unsigned long long)amb);
		last = -1; /* checked: skip the loop below */
	}
	for (int cap = 0; cap <= last; cap++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0L, 0L, 0L) != 0)
			return al_err(err, EPERM, "capability %d still in the bounding set", cap);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0L, 0L) > 0)
			return al_err(err, EPERM, "capability %d still ambient", cap);
	}
	int bits = prctl(PR_GET_SECUREBITS, 0L, 0L, 0L, 0L);
	if (bits < 0 || (bits & SECBITS_WANTED) != SECBITS_WANTED || (bits & SECBIT_KEEP_CAPS))
		return al_err(err, EPERM, "securebits not locked (0x%x)", bits);
	return 0;
}

int caps_drop_all(al_error *err)
{
	int last = last_cap();

	/* Order: securebits and the bounding set need CAP_SETPCAP, which the
	 * final capset takes away. */
	if (raise_effective(err) < 0 || lock_securebits(err) < 0 || drop_bounding(last, err) < 0 ||
	    clear_sets(err) < 0 || verify_dropped(last, err) < 0)
		return al_error_wrap(err, "dropping capabilities");
	return 0;
}
