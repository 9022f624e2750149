/* The memory fallback when no memory cgroup can be had (an unprivileged
 * user on a host that does not delegate one): RLIMIT_AS caps each process,
 * but a sandbox of many processes could still hold their sum. The
 * supervisor therefore sums the private memory (RssAnon) of every process
 * in the sandbox's pid namespace on a timer and kills the sandbox when the
 * total passes the limit. Coarser than a cgroup (it samples, so a burst
 * between two samples can overshoot briefly), but it runs outside the
 * sandbox, which can neither see nor stop it. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct proc_row {
	pid_t pid, ppid;
	uint64_t rss_kb;
};

/* PPid and RssAnon from /proc/<pid>/status (readable by anyone, unlike the
 * namespace links of the non-dumpable init). */
static bool read_status(int proc_fd, const char *pid, struct proc_row *row)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "%s/status", pid);
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	unsigned long long kb = 0;
	int ppid = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "PPid: %d", &ppid) != 1)
			sscanf(line, "RssAnon: %llu kB", &kb);
	fclose(f);
	row->pid = atoi(pid);
	row->ppid = ppid;
	row->rss_kb = kb;
	return ppid >= 0;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_row *)a)->pid, y = ((const struct proc_row *)b)->pid;
	return (x > y) - (x < y);
}

static bool descends_from(const struct proc_row *rows, size_t n, size_t i, pid_t init_pid)
{
	/* Orphans re-parent to the sandbox's init, so every process of the
	 * sandbox has it as an ancestor; the depth bound stops at loops
	 * (a pid reused between two reads of one sweep). */
	pid_t p = rows[i].ppid;
	for (int depth = 0; depth < 4096 && p > 1; depth++) {
		if (p == init_pid)
			return true;
		struct proc_row key = { .pid = p };
		const struct proc_row *up = bsearch(&key, rows, n, sizeof *rows, by_pid);
		if (!up)
			return false;
		p = up->ppid;
	}
	return false;
}

int memwatch_sample(pid_t init_pid, uid_t host_uid, uint64_t *bytes)
{
	_cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = proc_fd >= 0 ? fdopendir(dup(proc_fd)) : NULL;
	if (!d)
		return -1;
	struct proc_row *rows = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		/* Only the sandbox's host uid (or root, for a non-dumpable
		 * process's /proc entry) can own its processes. */
		if (fstatat(proc_fd, de->d_name, &st, 0) < 0 ||
		    (st.st_uid != host_uid && st.st_uid != 0))
			continue;
		if (n == cap) {
			struct proc_row *grown = realloc(rows, (cap = cap ? 2 * cap : 64) * sizeof *rows);
			if (!grown)
				break;
			rows = grown;
		}
		if (read_status(proc_fd, de->d_name, &rows[n]))
			n++;
	}
	closedir(d);
	qsort(rows, n, sizeof *rows, by_pid);
	uint64_t kb = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].pid == init_pid || descends_from(rows, n, i, init_pid))
			kb += rows[i].rss_kb;
	free(rows);
	*bytes = kb * 1024;
	return 0;
}
