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
#include "audit.h"
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

static _Noreturn void gateway_child(const struct al_sandbox *sb, int listen_fd, int ctl, int events,
				     pid_t parent)
{
	al_error err;
	al_error_clear(&err);
	const struct al_policy *p = &sb->pol;
	const struct idmap *idm = &sb->idm;
	/* keep these and stderr: moved to 3.. first (their numbers may be
	 * anywhere in a library host's fd table), then close the rest;
	 * 0 and 1 become /dev/null */
	int keep[4] = { listen_fd, ctl, events, sb->audit ? audit_log_fd(sb->audit) : -1 };
	int moved[4];
	for (size_t i = 0; i < 4; i++)
		moved[i] = keep[i] < 0 ? -1 : fcntl(keep[i], F_DUPFD_CLOEXEC, 64);
	for (size_t i = 0; i < 4; i++)
		if (keep[i] >= 0 && (moved[i] < 0 || dup2(moved[i], 3 + (int)i) < 0))
			_exit(125);
	syscall(SYS_close_range, 7, ~0U, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(125);
	close(null);
	if (idm->privileged &&
	    (setgroups(0, NULL) < 0 || setresgid(idm->host_gid, idm->host_gid, idm->host_gid) < 0 ||
	     setresuid(idm->host_uid, idm->host_uid, idm->host_uid) < 0))
		_exit(125);
	/* after the uid change, which clears both */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || getppid() != parent)
		_exit(125);
	prctl(PR_SET_NAME, "airlock-gw");
	/* the secrets' values come over the control socket: the store they
	 * live in is wiped in every child, this one included */
	if (sb->cred.set.n && credrun_receive((struct al_sandbox *)sb, 4) < 0)
		_exit(125);
	struct gateway_config cfg = { .pol = p, .listen_fd = 3, .ctl_fd = 4, .events_fd = 5,
				      .audit_fd = keep[3] >= 0 ? 6 : -1,
				      .agent = sb->audit ? audit_agent(sb->audit) : NULL,
				      .run_id = sb->gw.run_id, .creds = &sb->cred.set,
				      .tls = sb->cred.tls, .ca = sb->cred.ca };
	_exit(gateway_serve(&cfg, &err) < 0 ? 125 : 0);
}

int gwproc_start(struct al_sandbox *sb, int listen_fd, al_error *err)
{
	struct gw_proc *gp = &sb->gw;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return al_errno(err, "egress gateway: socketpair");
	gp->events = memfd_create("airlock-egress-events", MFD_CLOEXEC);
	/* the run id, written by us at each exec, read by the gateway */
	gp->run_id = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (gp->events < 0 || gp->run_id == MAP_FAILED) {
		gp->run_id = NULL;
		close(sv[0]);
		close(sv[1]);
		return al_errno(err, "egress gateway: memfd_create");
	}
	/* appended to by the gateway, emptied by us at each exec (the file
	 * description, and so O_APPEND, is shared across the fork) */
	fcntl(gp->events, F_SETFL, O_APPEND);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		gateway_child(sb, listen_fd, sv[1], gp->events, parent);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return al_errno(err, "egress gateway: fork");
	}
	gp->pid = pid;
	gp->ctl = sv[0];
	if (credrun_send(sb, sv[0]) < 0)
		return al_errno(err, "egress gateway: handing over the credentials");
	gp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* An exec starts: no connection is open (the last sync ended them), so the
 * report's events start empty and the gateway tags audit lines with the
 * new run id. */
void gwproc_mark(struct al_sandbox *sb)
{
	if (sb->gw.pid <= 0)
		return;
	if (ftruncate(sb->gw.events, 0) == 0)
		sb->gw.from = sb->gw.to = 0;
	memcpy(sb->gw.run_id, sb->run_id, sizeof sb->run_id);
	sb->gw.counters = (struct gw_counters){ 0 };
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
	char reply[1 + sizeof gp->counters];
	size_t got = 0;
	if (!gp->died && send(gp->ctl, &b, 1, MSG_NOSIGNAL) == 1) {
		uint64_t deadline = al_now_us() + SYNC_TIMEOUT_MS * 1000ull;
		while (got < sizeof reply) {
			uint64_t now = al_now_us();
			struct pollfd pf = { .fd = gp->ctl, .events = POLLIN };
			if (now >= deadline || poll(&pf, 1, (int)((deadline - now) / 1000) + 1) != 1)
				break;
			ssize_t n = recv(gp->ctl, reply + got, sizeof reply - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	if (got == sizeof reply && reply[0] == 'K')
		memcpy(&gp->counters, reply + 1, sizeof gp->counters);
	else /* no answer: it is gone (or hung, which is as bad) */
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
	if (gp->run_id)
		munmap(gp->run_id, 4096);
	*gp = (struct gw_proc){ .pid = -1, .pidfd = -1, .ctl = -1, .events = -1 };
}

/* The events of the last exec, as the gateway wrote them (one JSON object
 * a line). Returns a malloc'd NUL-terminated copy, or NULL. */
static char *events_text(const struct gw_proc *gp);

char *gwproc_events(const struct al_sandbox *sb)
{
	return events_text(&sb->gw);
}

static char *events_text(const struct gw_proc *gp)
{
	if (gp->pid <= 0 || gp->to <= gp->from)
		return NULL;
	/* the gateway caps what it writes per exec; this is a second bound */
	size_t len = (size_t)(gp->to - gp->from) > (64u << 20) ? (64u << 20) : (size_t)(gp->to - gp->from);
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

/* The gateway's own counts: they hold even where events were dropped.
 * A gateway that died sent none: then what it wrote is all there is. */
void gwproc_summary(const struct al_sandbox *sb, al_result *res)
{
	res->net_gateway_died = sb->gw.died;
	if (sb->gw.died) {
		char *text = events_text(&sb->gw);
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
		return;
	}
	res->net_allowed = sb->gw.counters.allowed;
	res->net_denied = sb->gw.counters.denied;
	res->net_bytes_up = sb->gw.counters.bytes_up;
	res->net_bytes_down = sb->gw.counters.bytes_down;
	res->net_events_dropped = sb->gw.counters.events_dropped;
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
