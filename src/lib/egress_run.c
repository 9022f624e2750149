/* The egress gateway of one sandbox: a process the supervisor owns.
 *
 * Started once the sandbox's init has handed over the listening socket it
 * made inside the sandbox's network namespace. The process runs
 * gateway_serve() and writes its events to a memfd the supervisor reads for
 * the run report. It holds no privilege it does not need: as root it runs
 * as the sandbox's own unprivileged host id, and it is not dumpable. It dies
 * with the supervisor (parent-death signal) and when the control socket
 * closes; if it dies first, the sandbox simply has no network.
 */
#include "sandbox.h"
#include "egress.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SYNC_TIMEOUT_MS 2000
#define STOP_TIMEOUT_MS 1000

static _Noreturn void gateway_child(const struct al_policy *p, int listen_fd, int ctl, int events,
				     const struct idmap *idm, pid_t parent)
{
	al_error err;
	al_error_clear(&err);
	/* keep the three fds and stderr; 0 and 1 become /dev/null */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(125);
	int keep[] = { listen_fd, ctl, events };
	for (int fd = 3; fd < 1024; fd++) {
		bool k = false;
		for (size_t i = 0; i < 3; i++)
			k |= keep[i] == fd;
		if (!k)
			close(fd);
	}
	syscall(SYS_close_range, 1024, ~0U, 0);
	if (idm->privileged &&
	    (setgroups(0, NULL) < 0 || setresgid(idm->host_gid, idm->host_gid, idm->host_gid) < 0 ||
	     setresuid(idm->host_uid, idm->host_uid, idm->host_uid) < 0))
		_exit(125);
	/* after the uid change, which clears both */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || getppid() != parent)
		_exit(125);
	prctl(PR_SET_NAME, "airlock-gw");
	struct gateway_config cfg = { .pol = p, .listen_fd = listen_fd, .events_fd = events,
				      .ctl_fd = ctl };
	_exit(gateway_serve(&cfg, &err) < 0 ? 125 : 0);
}

int gwproc_start(struct al_sandbox *sb, int listen_fd, al_error *err)
{
	struct gw_proc *gp = &sb->gw;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return al_errno(err, "egress gateway: socketpair");
	gp->events = memfd_create("airlock-egress-events", MFD_CLOEXEC);
	if (gp->events < 0) {
		close(sv[0]);
		close(sv[1]);
		return al_errno(err, "egress gateway: memfd_create");
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		gateway_child(&sb->pol, listen_fd, sv[1], gp->events, &sb->idm, parent);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return al_errno(err, "egress gateway: fork");
	}
	gp->pid = pid;
	gp->ctl = sv[0];
	gp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

void gwproc_mark(struct al_sandbox *sb)
{
	struct stat st;
	if (sb->gw.pid > 0 && fstat(sb->gw.events, &st) == 0)
		sb->gw.from = sb->gw.to = (uint64_t)st.st_size;
}

/* The exec is over and every process of the sandbox is gone: the gateway
 * ends their connections and writes their events before we read them. */
void gwproc_sync(struct al_sandbox *sb)
{
	struct gw_proc *gp = &sb->gw;
	struct stat st;
	if (gp->pid <= 0)
		return;
	char b = 'S';
	if (!gp->died && send(gp->ctl, &b, 1, MSG_NOSIGNAL) == 1) {
		struct pollfd pf = { .fd = gp->ctl, .events = POLLIN };
		if (poll(&pf, 1, SYNC_TIMEOUT_MS) == 1 && recv(gp->ctl, &b, 1, 0) == 1 && b == 'K')
			b = 0;
	}
	if (b) /* no answer: it is gone (or hung, which is as bad) */
		gp->died = true;
	if (fstat(gp->events, &st) == 0)
		gp->to = (uint64_t)st.st_size;
}

void gwproc_stop(struct al_sandbox *sb)
{
	struct gw_proc *gp = &sb->gw;
	if (gp->pid > 0) {
		close(gp->ctl); /* EOF: it ends every connection and exits */
		gp->ctl = -1;
		struct pollfd pf = { .fd = gp->pidfd, .events = POLLIN };
		if (gp->pidfd < 0 || poll(&pf, 1, STOP_TIMEOUT_MS) != 1)
			kill(gp->pid, SIGKILL);
		while (waitpid(gp->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (gp->ctl >= 0)
		close(gp->ctl);
	if (gp->pidfd >= 0)
		close(gp->pidfd);
	if (gp->events >= 0)
		close(gp->events);
	*gp = (struct gw_proc){ .pid = -1, .pidfd = -1, .ctl = -1, .events = -1 };
}

/* The events of the last exec, as the gateway wrote them (one JSON object
 * a line). Returns a malloc'd NUL-terminated copy, or NULL. */
static char *events_text(const struct gw_proc *gp)
{
	if (gp->pid <= 0 || gp->to <= gp->from || gp->to - gp->from > (64u << 20))
		return NULL;
	size_t len = (size_t)(gp->to - gp->from);
	char *buf = malloc(len + 1);
	if (!buf || pread(gp->events, buf, len, (off_t)gp->from) != (ssize_t)len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static uint64_t field_u64(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

void gwproc_summary(const struct al_sandbox *sb, al_result *res)
{
	char *text = events_text(&sb->gw);
	res->net_gateway_died = sb->gw.died;
	for (char *line = text, *nl; line && *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		if (strstr(line, "\"verdict\":\"allow\""))
			res->net_allowed++;
		else
			res->net_denied++;
		res->net_bytes_up += field_u64(line, "\"bytes_up\":");
		res->net_bytes_down += field_u64(line, "\"bytes_down\":");
	}
	free(text);
}

int gwproc_write_events(const struct al_sandbox *sb, FILE *out)
{
	char *text = events_text(&sb->gw);
	bool first = true;
	for (char *line = text, *nl; line && *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		fputs(first ? "" : ",", out);
		fputs(line, out);
		first = false;
	}
	free(text);
	return 0;
}
