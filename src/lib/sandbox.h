/* The sandbox object, shared by the supervisor (sandbox.c), the sandbox's
 * init (init.c) and the report (report.c). */
#ifndef AIRLOCK_SANDBOX_H
#define AIRLOCK_SANDBOX_H

#include "internal.h"
#include "egress.h"
#include "proto.h"
#include "cred.h"

#include <signal.h>
#include <stdatomic.h>

/* The sandbox's egress gateway process (egress_run.c). */
struct gw_proc {
	pid_t pid;	/* -1 = none (network mode none) */
	int pidfd, ctl, events;
	uint64_t from, to; /* the last exec's events in the events memfd */
	bool died;
	struct gw_counters counters; /* the last exec's, from the sync answer */
	char *run_id;	/* a page shared with the gateway: the current run id */
};

/* Credentials of a run (cred_run.c): the values live here and in the
 * gateway process, never in the sandbox. */
struct cred_run {
	const struct tls_api *tls;
	struct tls_ca *ca;	/* until the gateway has forked */
	struct cred_set set;	/* values in `store`, placeholders */
	char *store;		/* mmap'd, not dumped, wiped at the end */
	size_t store_len;
};

struct al_sandbox {
	struct al_policy pol;
	struct idmap idm;
	struct mount_sources src;
	struct seccomp_prog prog;
	int landlock_abi;
	struct cgroup *cg;
	struct cgroup_status cgst;
	struct cgroup_plan *cgplan; /* until the groups are made */
	struct cgroup_join join; /* sent to init at sync 1b; see cgroup_join_prepare */
	int net_chan;	/* init's end of the network helper's pair (net.c), or -1 */
	struct net_helper net; /* until reaped (net.c) */
	struct al_layer_status layers[AL_LAYER_COUNT];

	pid_t init_pid; /* host pid of the sandbox's init */
	int pidfd;	/* of init: signals never reach a recycled pid */
	atomic_bool busy; /* one exec at a time */
	bool ready_pending; /* sync 2 not received yet (sandbox_ready) */
	bool sighand_cleared; /* init was cloned with CLONE_CLEAR_SIGHAND */
	int sock;	/* control socket to init */
	int listener;	/* seccomp user-notification fd, or -1 */
	int intr_fd;	/* eventfd: al_sandbox_interrupt() wakes the exec loop */
	int copy_dest;	/* output.copy_to, opened at creation (before any command runs), or -1 */
	volatile sig_atomic_t intr_signo;
	struct denials den;
	struct gw_proc gw;
	struct audit *audit; /* NULL = no audit trail, no breaker */
	struct cred_run cred;
	char run_id[17];     /* the current (or last) exec's */
	uint64_t rusage_utime_us, rusage_stime_us; /* of earlier execs, to report deltas */
	uint64_t rusage_inblock, rusage_oublock;
};

/* The child side: runs as the sandbox's PID 1. Never returns. */
_Noreturn void sandbox_init_main(struct al_sandbox *sb, int sock);

int gwproc_start(struct al_sandbox *sb, int listen_fd, al_error *err);
void gwproc_mark(struct al_sandbox *sb);  /* an exec starts */
void gwproc_sync(struct al_sandbox *sb);  /* an exec ended: its events are complete */
void gwproc_stop(struct al_sandbox *sb);
void gwproc_summary(const struct al_sandbox *sb, al_result *res);
int gwproc_write_events(const struct al_sandbox *sb, FILE *out);
/* The last exec's events, one JSON object a line (malloc'd), or NULL. */
char *gwproc_events(const struct al_sandbox *sb);

int credrun_make_ca(struct al_sandbox *sb, int *bundle_fd, al_error *err); /* before sync 1 */
int credrun_resolve(struct al_sandbox *sb, al_error *err); /* after the clone */
void credrun_drop_ca(struct al_sandbox *sb);
int credrun_send(const struct al_sandbox *sb, int fd);	/* supervisor, after the gateway's fork */
int credrun_receive(struct al_sandbox *sb, int fd);	/* the gateway */
void credrun_free(struct al_sandbox *sb);
int credrun_env(const struct al_sandbox *sb, int (*put)(struct al_strlist *, const char *),
		struct al_strlist *env);

/* The environment a command gets (exec.c): defaults, env.allow, proxies,
 * env.set, credential placeholders. */
int exec_build_env(const struct al_sandbox *sb, struct al_strlist *env);
/* The output gate's configuration (exec.c), the same for stdout, stderr and
 * files copied out: the policy's switches, the credentials' real values and,
 * with secret scanning, the secret-named values of env. cfg points into lits
 * and env, which must outlive it. false: nothing to gate. */
#define GATE_MAX_LITERALS 64
struct scan_cfg;
bool gate_config(const struct al_sandbox *sb, const struct al_strlist *env, struct scan_cfg *cfg,
		 const char *lits[GATE_MAX_LITERALS]);
/* init's side of copy-out (copyout.c): answers one MSG_COPY. */
void copyout_serve(int sock, const struct proto_msg *m, const int *fds, size_t nfds);

/* copyout.c: output.copy_to created if missing and opened, refused when it
 * lies in a tree the sandbox may write. Returns the fd, or -1 with err. */
int copyout_open_dest(const struct al_policy *p, const char *dir, al_error *err);

uint64_t al_now_us(void);
/* SIGKILL the sandbox's init, and with it the whole pid namespace. */
void sandbox_kill_init(struct al_sandbox *sb);
/* sync 2, when al_sandbox_create left it for later (see there); 0 at once
 * otherwise. On failure the sandbox is dead: init is killed. */
int sandbox_ready(struct al_sandbox *sb, al_error *err);

#endif
