/* Internal interfaces of libairlock: the policy object and one section per
 * isolation layer (one .c file each). Nothing here is exported.
 *
 * Conventions (see docs/errors.md): functions that can fail return a negative
 * value and fill an al_error with al_err()/al_errno(); callers add context
 * with al_error_wrap(). Parsing and validation have no side effects.
 */
#ifndef AIRLOCK_INTERNAL_H
#define AIRLOCK_INTERNAL_H

#include "airlock.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- errors (error.c) -------------------------------------------------- */

/* Set err to a root cause. Return -1. */
int al_err(al_error *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)" and recording errno. */
int al_errno(al_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- scoped cleanup ---------------------------------------------------- */

static inline void al_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void al_freep(void *p) { free(*(void **)p); }
#define _cleanup_close_ __attribute__((cleanup(al_closep)))
#define _cleanup_free_ __attribute__((cleanup(al_freep)))
/* Hand ownership on: returns the value and leaves the variable empty. */
static inline int al_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define AL_STEAL_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

/* ---- string lists ------------------------------------------------------ */

struct al_strlist {
	char **v;
	size_t n;
};
int al_strlist_add(struct al_strlist *l, const char *s);
void al_strlist_clear(struct al_strlist *l);
int al_strlist_copy(struct al_strlist *dst, const struct al_strlist *src);
bool al_strlist_contains(const struct al_strlist *l, const char *s);

/* ---- policy (policy.c, units.c) ---------------------------------------- */

#define AL_SANDBOX_UID 65534u
#define AL_SANDBOX_GID 65534u

struct al_mount {
	char *source; /* host path, absolute */
	char *target; /* path inside, absolute */
	bool writable;
};

enum al_net_mode {
	AL_NET_NONE = 0,    /* own namespace, loopback only */
	AL_NET_GATEWAY = 1, /* own namespace + the egress gateway at 127.0.0.1:3128 */
};

/* network.rate_limits[]: one token bucket per entry, shared by every host
 * the pattern matches; every matching entry applies. */
struct al_rate_limit {
	char *host;	      /* "*", "*.example.com", "api.example.com" */
	uint64_t rpm;	      /* requests per minute; 0 = no request limit */
	uint64_t bpm;	      /* bytes per minute (both directions); 0 = none */
};

/* audit.alerts[]: what fires the rule, and where it goes (alert.c). */
enum alert_on {
	ALERT_VIOLATION,     /* run_end with violations > 0 */
	ALERT_FAILURE,	     /* run_end with failed */
	ALERT_EGRESS_DENIED, /* each denied egress event */
	ALERT_RESOURCE_PEAK, /* resource_peak over memory_over_pct / pids_over_pct */
	ALERT_BREAKER,	     /* breaker events */
	ALERT_ANY,	     /* every event */
};
struct alert_rule {
	enum alert_on on;
	char *exec;		  /* /bin/sh -c exec, event JSON on stdin; or NULL */
	char *webhook;		  /* http://host[:port]/path, event JSON POSTed; or NULL */
	uint32_t memory_over_pct; /* resource_peak thresholds, 0 = not used */
	uint32_t pids_over_pct;
};

/* audit.circuit_breaker (breaker.c); a 0 maximum turns that trigger off. */
struct breaker_cfg {
	uint64_t max_violations, max_failures;
	uint64_t window_ms, cooldown_ms;
};

struct cred_secret; /* cred.h: credentials.secrets[] */

/* Where the sandbox finds the gateway (inside its own network namespace). */
#define AL_GATEWAY_PORT 3128

struct al_policy {
	/* filesystem */
	char *root;		  /* NULL = the host's system directories; else an OS image dir */
	char *workspace;	  /* NULL = ephemeral tmpfs; else a host directory */
	bool workspace_writable;  /* default true */
	uint64_t workspace_size;  /* tmpfs size in bytes (ephemeral workspace) */
	uint64_t tmp_size;	  /* /tmp tmpfs size in bytes */
	struct al_mount *mounts;  /* extra host mounts */
	size_t n_mounts;
	struct al_strlist deny;	  /* gitignore-style patterns hidden in mounted trees */

	/* network */
	enum al_net_mode net_mode;
	struct al_strlist egress_allow;	  /* "HOST:PORT", normalised (egress.c syntax) */
	struct al_strlist egress_deny;	  /* wins over egress_allow */
	struct al_strlist net_hosts;	  /* "name=address": the gateway's resolver overrides */
	struct al_rate_limit *rate_limits;
	size_t n_rate_limits;
	uint64_t net_max_connections;	  /* concurrent client connections */
	uint64_t net_connect_timeout_ms;  /* resolve + connect upstream */
	uint64_t net_idle_timeout_ms;	  /* no byte either way */
	uint64_t net_request_timeout_ms;  /* a complete request head / SOCKS handshake */

	/* resources; 0 = no limit where stated */
	uint64_t cpu_millis;	  /* 1000 = one CPU; 0 = no quota */
	uint64_t memory_bytes;	  /* 0 = no limit */
	uint64_t pids;		  /* processes for the command tree; 0 = no limit */
	uint64_t timeout_ms;	  /* wall clock; 0 = none */
	uint64_t kill_grace_ms;	  /* TERM -> KILL */
	uint64_t open_files;	  /* RLIMIT_NOFILE */
	uint64_t file_size;	  /* RLIMIT_FSIZE in bytes */
	uint64_t output_limit;	  /* bytes per run over stdout+stderr; 0 = none */

	/* process */
	struct al_strlist env_allow; /* names passed from the caller's environment */
	struct al_strlist env_set;   /* "NAME=value" */
	struct al_strlist syscalls_deny;  /* added to the default deny list */
	struct al_strlist syscalls_allow; /* removed from the default deny list */
	char *hostname;

	/* credentials (cred.c, the gateway): secrets the sandbox only sees as placeholders */
	bool cred_jit;			  /* credentials.mode: just_in_time */
	struct cred_secret *secrets;
	size_t n_secrets;

	/* output gate (scan.c): what the sandbox prints passes it */
	bool out_secret_scanning;  /* redact known formats, this run's secrets, high entropy */
	bool out_strip_html;
	bool out_flag_instructions;
	double out_entropy_bits;   /* bits per char at or above which a token is a secret */
	uint64_t out_max_bytes;	   /* per stream (stdout, stderr) and per file copied out; 0 = none */
	struct al_strlist copy_out; /* sandbox paths under /workspace or /tmp, copied out after the run */
	char *copy_to;		   /* host directory they go to (NULL = none) */

	/* audit (audit.c, alert.c, breaker.c) */
	char *audit_log;	   /* NULL = no audit trail */
	char *audit_agent;	   /* NULL = "" */
	uint64_t audit_max_size;   /* rotate above this; 0 = never */
	uint64_t audit_keep;	   /* rotated files kept */
	bool audit_continue;	   /* on_write_error: continue (default refuse) */
	bool audit_syslog;
	char *audit_state_dir;	   /* NULL = the default (breaker_default_dir) */
	struct alert_rule *alerts;
	size_t n_alerts;
	struct breaker_cfg breaker;
	bool breaker_on;
};

/* Defaults of the strict policy (used by al_policy_new). */
void policy_set_defaults(struct al_policy *p);
int policy_copy(struct al_policy *dst, const struct al_policy *src);
void policy_clear(struct al_policy *p);

/* units.c: pure parsers. Return 0, or -1 with *why set to a static message. */
int parse_size(const char *s, uint64_t *out, const char **why);	   /* "256M", "4Gi", "64k", "1048576" */
int parse_duration_ms(const char *s, uint64_t *out, const char **why); /* "30", "30s", "500ms", "5m", "1h" */
int parse_cpu_millis(const char *s, uint64_t *out, const char **why);  /* "2", "0.5", "500m" */

/* ---- SHA-256 (crypto.c: libcrypto loaded on first use) ----------------- */

/* hex = SHA-256 of what produce(arg, stream) writes. -1 (hex "") when
 * libcrypto cannot be loaded or the producer fails. */
int sha256_of(int (*produce)(const void *arg, FILE *out), const void *arg, char hex[65]);

/* ---- JSON writing (json.c) --------------------------------------------- */

void json_write_string(FILE *out, const char *s); /* quoted, escaped */
/* Standard base64 with padding of in[0..n) into out (4 * ceil(n / 3) + 1
 * bytes, NUL-terminated); returns the length written. */
size_t base64_encode(const void *in, size_t n, char *out);

/* ---- layer status: what was applied and what the host could not give ---- */

enum al_layer {
	AL_LAYER_USERNS,
	AL_LAYER_PIDNS,
	AL_LAYER_MOUNTNS,
	AL_LAYER_IPCNS,
	AL_LAYER_UTSNS,
	AL_LAYER_CGROUPNS,
	AL_LAYER_NETNS,
	AL_LAYER_FILESYSTEM,
	AL_LAYER_IDMAP,
	AL_LAYER_LANDLOCK,
	AL_LAYER_CAPS,
	AL_LAYER_NO_NEW_PRIVS,
	AL_LAYER_SECCOMP,
	AL_LAYER_SECCOMP_NOTIFY,
	AL_LAYER_CGROUP_MEMORY,
	AL_LAYER_CGROUP_PIDS,
	AL_LAYER_CGROUP_CPU,
	AL_LAYER_RLIMITS,
	AL_LAYER_TIMEOUT,
	AL_LAYER_COUNT
};
enum al_layer_state { AL_LAYER_OFF = 0, AL_LAYER_APPLIED, AL_LAYER_UNAVAILABLE, AL_LAYER_NOT_NEEDED };
struct al_layer_status {
	enum al_layer_state state;
	char note[160];
};
const char *al_layer_name(enum al_layer l);
void layer_set(struct al_layer_status *ls, enum al_layer l, enum al_layer_state s,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- user namespace (userns.c) ----------------------------------------- */

/* Host uid/gid the sandbox's 65534 maps to. As an ordinary user: that user.
 * As root: a per-sandbox unprivileged id (never 0), unique among live
 * sandboxes because it is derived from the init's host pid. */
struct idmap {
	uid_t host_uid;
	gid_t host_gid;
	bool privileged; /* the supervisor may write arbitrary maps */
};
void userns_plan(struct idmap *m);
int userns_write_maps(pid_t child, struct idmap *m, al_error *err); /* supervisor */
int userns_become_sandbox_user(const struct idmap *m, al_error *err);	/* child */
/* A mount fd of `dir_fd` idmapped so that host `owner` <-> sandbox host uid.
 * Returns the detached mount fd, or -1 with err set (ENOSYS/EINVAL: no idmap). */
int userns_idmapped_mount(int dir_fd, uid_t owner, gid_t owner_gid, const struct idmap *m,
			  al_error *err);

/* ---- mounts (mounts.c) ------------------------------------------------- */

/* Host paths the child binds. The supervisor opens them first, with the
 * caller's rights: to report a bad path before anything starts, to refuse
 * sources a run could redirect, and to record what they are. The child opens
 * them again in its own mount namespace (a bind needs a source there) and
 * must find the same objects (device and inode), or it fails closed. */
#define AL_MAX_MOUNTS 16 /* the policy's cap on filesystem.mounts */
struct source_id {
	dev_t dev;
	ino_t ino;
};
struct mount_sources {
	int root_fd;	   /* policy root or "/" */
	int workspace_fd;  /* -1 = tmpfs; else O_PATH, or an idmapped mount fd */
	bool workspace_is_mount_fd;
	int mount_fds[AL_MAX_MOUNTS];
	bool mount_is_mount_fd[AL_MAX_MOUNTS];
	size_t n;
	struct source_id root_id, workspace_id, mount_ids[AL_MAX_MOUNTS];
	int ca_bundle_fd;  /* child: the per-run CA then the host's roots (a memfd), or -1 */
};
/* Where the sandbox finds the per-run CA of a run with credentials. */
#define AL_CA_DIR "/run/airlock"
#define AL_CA_FILE AL_CA_DIR "/ca.pem"		/* the per-run CA alone */
#define AL_CA_BUNDLE AL_CA_DIR "/ca-bundle.pem" /* the host's roots and the per-run CA */
/* expect: NULL in the supervisor; in the child, what the supervisor saw. */
int mounts_open_sources(const struct al_policy *p, struct mount_sources *src,
			const struct mount_sources *expect, al_error *err);
void mounts_close_sources(struct mount_sources *src); /* closes the fds, keeps the ids */
void mounts_forget_fds(struct mount_sources *src);    /* fds already closed elsewhere */
/* gitignore-style deny pattern against a path relative to the mounted tree
 * (rel) whose last component is base. Pure; fuzzed (fuzz/fuzz_deny.c). */
bool deny_pattern_matches(const char *pat, const char *rel, const char *base, bool is_dir);
/* In the child: build the new root, mount /proc (must be in the new pid ns),
 * pivot_root into it and drop the old root. */
int mounts_setup(const struct al_policy *p, const struct mount_sources *src, al_error *err);

/* ---- network (net.c) --------------------------------------------------- */

/* Supervisor, after the clone: fork the helper that makes the sandbox's net
 * namespace in its user namespace (userns_fd) and sends it to init over
 * chan. Reap it with net_helper_reap (kills it if it still runs). */
struct net_helper {
	pid_t pid;
	int pidfd;	/* -1 = none */
	void *stack;
	struct helper_args { int userns_fd, chan; } args;
};
int net_helper_start(int userns_fd, int chan, struct net_helper *h, al_error *err);
/* Until it has exited (not reaped), at most timeout_ms. */
int net_helper_wait(const struct net_helper *h, int timeout_ms, al_error *err);
void net_helper_reap(struct net_helper *h);
/* In init: receive the helper's namespace on chan and join it. */
int net_join(int chan, al_error *err);
/* Child, in its net ns: the egress gateway's listening socket at
 * 127.0.0.1:AL_GATEWAY_PORT, for the supervisor's gateway process. */
int net_gateway_socket(al_error *err);

/* ---- capabilities (caps.c) --------------------------------------------- */

int nnp_set(al_error *err);
/* Lock securebits, drop every capability from the bounding set, clear ambient,
 * inheritable, permitted and effective sets. Needs CAP_SETPCAP until done. */
int caps_drop_all(al_error *err);

/* ---- Landlock (landlock.c) --------------------------------------------- */

int landlock_abi(void); /* 0 = not available */
/* Read/execute everywhere in the (already pivoted) tree; write only beneath
 * `writable`; deny every TCP bind and every TCP connect but to connect_port
 * (0 = none) (ABI >= 4); scope abstract unix sockets and signals (ABI >= 6).
 * Needs no_new_privs. */
int landlock_apply(int abi, const char *const *writable, size_t n_writable, uint16_t connect_port,
		   al_error *err);

/* ---- seccomp (seccomp.c) ----------------------------------------------- */

struct seccomp_prog {
	struct sock_filter *insns;
	unsigned short len;
	bool notify; /* denied calls go to a user-notification listener */
};
/* Supervisor, before clone: compile the policy's filter with libseccomp. */
int seccomp_build(const struct al_policy *p, bool use_notify, struct seccomp_prog *out,
		  al_error *err);
/* Always with libseccomp (seccomp_build copies the build-time compile of
 * the default filter when the policy adds or removes no syscall). */
int seccomp_compile(const struct al_policy *p, bool use_notify, struct seccomp_prog *out,
		    al_error *err);
void seccomp_prog_free(struct seccomp_prog *prog);
/* Child, last step before it serves execs: install. *listener is the notify fd
 * (or -1). Needs no_new_privs. */
int seccomp_install(const struct seccomp_prog *prog, int *listener, al_error *err);
bool seccomp_notify_supported(void);

struct denials {
	uint64_t total;
	size_t n;
	struct {
		int nr;
		uint64_t count;
	} v[AL_MAX_DENIALS];
};
/* Supervisor: receive one notification, count it, answer EPERM. Returns 0,
 * or -1 when the listener is gone (every filtered task exited). */
int seccomp_notify_serve(int listener, struct denials *d);
const char *seccomp_syscall_name(int nr, char *buf, size_t len);
/* The first name of the default deny list that neither libseccomp nor the
 * table of late syscalls knows (it would be left out of the filter), or NULL. */
const char *seccomp_default_unknown(void);

/* ---- cgroups (cgroup.c) ------------------------------------------------ */

struct cgroup;
struct cgroup_limits {
	uint64_t memory_bytes; /* 0 = none */
	uint64_t pids;	       /* 0 = none */
	uint64_t cpu_millis;   /* 0 = none */
};
struct cgroup_status {
	const char *backend; /* "v2", "v1", or "none" */
	bool memory, pids, cpu;
	char note[256];	      /* why something is missing */
};
/* Create a cgroup below the one this process runs in (never elsewhere) and
 * set the limits. When the host cannot (no delegation, no controller), returns
 * 0 with *out == NULL or a partial group, and st says what is not enforced. */
int cgroup_create(const struct cgroup_limits *lim, struct cgroup **out, struct cgroup_status *st,
		  al_error *err);
/* cgroup_create in two halves: the plan (which hierarchies, read from
 * /proc/self) before the sandbox's clone, the groups themselves after it
 * when no v2 group is planned, while the sandbox builds its root. *out of
 * cgroup_plan is NULL when nothing can be made (st says why). cgroup_make
 * does not free the plan. */
struct cgroup_plan;
int cgroup_plan(const struct cgroup_limits *lim, struct cgroup_plan **out, struct cgroup_status *st,
		al_error *err);
bool cgroup_plan_has_v2(const struct cgroup_plan *p);
int cgroup_make(struct cgroup_plan *p, struct cgroup **out, struct cgroup_status *st, al_error *err);
void cgroup_plan_free(struct cgroup_plan *p);
int cgroup_attach(struct cgroup *cg, pid_t pid, al_error *err);

/* Joining without the migration cost. When one process moves another, the
 * kernel takes a global lock whose first writer waits for an RCU grace period
 * (milliseconds, on every run). So the sandbox's init is created inside its
 * v2 group (clone3 CLONE_INTO_CGROUP, the group made before the clone), and
 * moves itself into its v1 groups thread-wise by writing "0" to `tasks`,
 * which the kernel does without that lock (the groups made after the clone,
 * the `tasks` fds sent with the filter at sync 1b). The `tasks` files are
 * opened here, by the supervisor: the kernel checks the opener's
 * credentials, so the child needs no right of its own. */
#define CGROUP_MAX_JOIN 8
struct cgroup_join {
	int v2_dir_fd;			/* for CLONE_INTO_CGROUP; -1 = none */
	int tasks_fd[CGROUP_MAX_JOIN];	/* v1 groups */
	size_t n_tasks;
};
int cgroup_join_prepare(const struct cgroup *cg, struct cgroup_join *j, al_error *err);
int cgroup_join_self(struct cgroup_join *j, al_error *err); /* in init, at sync 1b; closes the fds */
int cgroup_attach_v2(struct cgroup *cg, pid_t pid, al_error *err); /* fallback without clone3 */
void cgroup_join_close(struct cgroup_join *j);
struct cgroup_stats {
	uint64_t peak_memory;  /* bytes, 0 = unknown */
	uint64_t cpu_usage_us; /* 0 = unknown */
	uint64_t peak_pids;    /* 0 = unknown */
	bool oom_killed;
	bool pids_limit_hit;
	uint64_t oom_kills;	  /* counters behind the two flags: an exec */
	uint64_t pids_max_events; /* compares them with a snapshot of its start */
};
int cgroup_read_stats(struct cgroup *cg, struct cgroup_stats *st);
void cgroup_kill(struct cgroup *cg);	  /* SIGKILL everything inside */
void cgroup_destroy(struct cgroup *cg);	  /* kill, wait until empty, rmdir; NULL ok */
void cgroup_probe(struct cgroup_status *st); /* for `airlock check`: what could be enforced */
/* Directory serving `controller` ("memory", "pids", "cpu", "cpuacct"; NULL =
 * the v2 directory), or NULL if none was created. Owned by cg. */
const char *cgroup_path(const struct cgroup *cg, const char *controller);

/* ---- memory watchdog (memwatch.c), when no memory cgroup exists -------- */

/* Private memory (RssAnon) summed over the sandbox's pid namespace. */
int memwatch_sample(pid_t init_pid, uid_t host_uid, uint64_t *bytes);
#define MEMWATCH_INTERVAL_MS 20

/* ---- rlimits (rlimit.c) ------------------------------------------------ */

/* In the exec child. Where a cgroup controller is missing, rlimits stand in
 * (RLIMIT_NPROC for pids — counted per user namespace — and RLIMIT_AS for
 * memory) and the caller reports them as the weaker layer. */
int rlimits_apply(const struct al_policy *p, const struct cgroup_status *cg, al_error *err);

#endif
