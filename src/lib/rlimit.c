/* Per-process resource limits, set in the exec child right before execve.
 *
 * They bound what a cgroup cannot see or what this host's cgroups could not
 * give: open files, file size and core dumps always; processes and address
 * space only where the pids or memory controller is missing. Limits are only
 * ever lowered: an unprivileged child cannot raise a hard limit, and a
 * stricter limit set by whoever started airlock must stay in force.
 */
#include "internal.h"

#include <errno.h>
#include <sys/resource.h>

#define MSGQUEUE_BYTES (64u * 1024)

/* Soft = hard = min(want, current hard). */
static int lower_limit(int resource, const char *name, uint64_t want, al_error *err)
{
	struct rlimit cur;
	if (getrlimit(resource, &cur) < 0)
		return al_errno(err, "rlimits: reading %s", name);
	rlim_t v = want < (uint64_t)cur.rlim_max ? (rlim_t)want : cur.rlim_max;
	struct rlimit lim = { .rlim_cur = v, .rlim_max = v };
	if (setrlimit(resource, &lim) < 0)
		return al_errno(err, "rlimits: setting %s to %llu", name, (unsigned long long)v);
	return 0;
}

int rlimits_apply(const struct al_policy *p, const struct cgroup_status *cg, al_error *err)
{
	bool cg_memory = cg && cg->memory, cg_pids = cg && cg->pids;

	/* A core dump would write the process's memory (secrets included) to
	 * disk, or hand it to a root helper on the host (a core_pattern pipe:
	 * systemd-coredump, apport), which a limit of 0 does not stop. A limit
	 * of 1 byte is the kernel's "no dump at all": too small for a file, and
	 * refused for a pipe (fs/coredump.c). `ulimit -c` shows 0. */
	if (lower_limit(RLIMIT_CORE, "RLIMIT_CORE", 1, err) < 0)
		return -1;
	/* POSIX message queues are charged to the uid, outside any cgroup. */
	if (lower_limit(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", MSGQUEUE_BYTES, err) < 0)
		return -1;
	if (p->open_files && lower_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", p->open_files, err) < 0)
		return -1;
	if (p->file_size && lower_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", p->file_size, err) < 0)
		return -1;
	/* Stand-in for the pids controller: since Linux 5.14 NPROC counts per
	 * (user namespace, uid), so in the sandbox's own user namespace it
	 * counts exactly the sandbox's processes. The +1 is the sandbox init. */
	if (!cg_pids && p->pids && p->pids < UINT64_MAX &&
	    lower_limit(RLIMIT_NPROC, "RLIMIT_NPROC", p->pids + 1, err) < 0)
		return -1;
	/* Stand-in for the memory controller: weaker (per process, counts
	 * address space rather than memory), but it stops a single memory bomb. */
	if (!cg_memory && p->memory_bytes && lower_limit(RLIMIT_AS, "RLIMIT_AS", p->memory_bytes, err) < 0)
		return -1;
	return 0;
}
