/* airlock — run untrusted commands in a disposable, defence-in-depth sandbox.
 *
 * The one public header of libairlock. Every symbol here is exported; nothing
 * else is. Ownership: a function that returns a pointer says who frees it; an
 * object passed in is borrowed for the duration of the call unless stated.
 *
 * Lifecycle: a sandbox is *created* (namespaces, mounts, limits, filters — the
 * expensive part), one or more commands are *executed* in it, then it is
 * *destroyed*. `airlock run` is create + exec + destroy in one go.
 *
 * Error convention: a function that can fail returns a negative value and fills
 * an al_error (errno + message). Callers on the way up add context with
 * al_error_wrap(), so the user sees the whole chain in one line:
 *   "creating sandbox: mounting /workspace: tmpfs: No space left on device".
 * No library function prints or exits. All state lives in objects: one process
 * may supervise many sandboxes at once.
 */
#ifndef AIRLOCK_H
#define AIRLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AL_API __attribute__((visibility("default")))

/* ---- errors ------------------------------------------------------------ */

typedef struct al_error {
	int code;	/* errno of the root cause, 0 if none (e.g. a policy error) */
	int exit_code;	/* exit code a front end should use: 125 unless set */
	char msg[4096]; /* "context: context: cause"; policy errors: one per line */
} al_error;

AL_API void al_error_clear(al_error *err);
/* Prepend "context: " to err->msg. Returns -1 so it can end a return statement. */
AL_API int al_error_wrap(al_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- policy ------------------------------------------------------------ */

typedef struct al_policy al_policy;

/* The strict built-in default. Caller owns; free with al_policy_free. */
AL_API al_policy *al_policy_new(void);
AL_API void al_policy_free(al_policy *p);

/* Parse a YAML or JSON policy file over the defaults in p. On error nothing
 * of the file is applied and err names "file:line: field: what is wrong"
 * (every problem found, one per line). No side effects besides reading. */
AL_API int al_policy_load_file(al_policy *p, const char *path, al_error *err);
AL_API int al_policy_load_buffer(al_policy *p, const char *name, const char *buf,
				 size_t len, al_error *err);

/* Override one field the way the command line does: key is the policy path
 * ("resources.memory_limit"), value its textual form ("256M"). Errors name
 * `origin` (e.g. "--memory") instead of file:line. */
AL_API int al_policy_set(al_policy *p, const char *key, const char *value,
			 const char *origin, al_error *err);

/* Canonical JSON of the effective policy, and its SHA-256 (hex, 64 chars + NUL). */
AL_API int al_policy_write_json(const al_policy *p, FILE *out);
AL_API void al_policy_digest(const al_policy *p, char hex[65]);

/* ---- sandbox ----------------------------------------------------------- */

typedef struct al_sandbox al_sandbox;

/* Create a sandbox for policy p (copied; p may be freed afterwards). On success
 * *out is owned by the caller: destroy it with al_sandbox_destroy. On failure
 * nothing is left behind (no process, cgroup or mount).
 *
 * With no egress gateway, no audit trail and no host directory mounted, this
 * returns while the sandbox's init finishes its lockdown (Landlock,
 * capabilities, seccomp): the first al_sandbox_exec queues its command first
 * and then waits for it, and a failure of those last steps is that exec's
 * error ("creating sandbox: ...", exit code 125); its wall time includes
 * that wait (well under a millisecond).
 *
 * The sandbox dies with the *thread* that created it (the kernel's
 * parent-death signal follows the creating thread): create sandboxes from a
 * thread that outlives them. One exec at a time per sandbox (EBUSY else). */
AL_API int al_sandbox_create(const al_policy *p, al_sandbox **out, al_error *err);

typedef struct al_exec {
	char *const *argv;	/* argv[0] is looked up in PATH inside */
	int stdin_fd;		/* borrowed; -1 = /dev/null */
	int stdout_fd;		/* borrowed; -1 = /dev/null */
	int stderr_fd;		/* borrowed; -1 = /dev/null */
	const char *cwd;	/* inside the sandbox; NULL = /workspace */
	bool last;		/* no exec or copy-out follows: the sandbox's init ends
				 * with the command's tree, so its teardown overlaps the
				 * caller's work until al_sandbox_destroy (ignored when
				 * the policy's output.copy_out is set) */
} al_exec;

enum al_exit_reason {
	AL_EXIT_NONE = 0,	/* nothing ran */
	AL_EXIT_EXITED,		/* the command exited on its own */
	AL_EXIT_SIGNALED,	/* killed by a signal not sent by airlock */
	AL_EXIT_TIMEOUT,	/* wall-clock limit reached */
	AL_EXIT_OOM,		/* memory limit reached, the kernel killed it */
	AL_EXIT_PIDS_LIMIT,	/* the process limit refused a fork */
	AL_EXIT_OUTPUT_LIMIT,	/* output cap reached, stream closed */
	AL_EXIT_SUPERVISOR,	/* the supervisor was told to stop (signal) */
};
AL_API const char *al_exit_reason_name(enum al_exit_reason r);

/* What al_sandbox_copy_out did (docs/output-gate.md). */
typedef struct al_copy_result {
	bool ran;		/* copy-out was asked for (and tried) */
	uint64_t files;		/* regular files written to the host */
	uint64_t bytes;		/* bytes read from the sandbox's files (what the caps count) */
	uint64_t redactions;	/* secrets the output gate replaced in them */
	uint64_t skipped;	/* entries inside a copied directory that are neither a
				 * regular file nor a directory (symlinks, fifos, ...) */
	uint64_t truncated;	/* files cut at output.max_bytes or the 64 MiB total */
	uint64_t errors;	/* paths or files that could not be copied */
	char first_skipped[160];/* "/workspace/out/link (symlink)", or "" */
} al_copy_result;

#define AL_MAX_DENIALS 64
typedef struct al_result {
	enum al_exit_reason reason;
	int exit_status;	/* when EXITED */
	int term_signal;	/* when SIGNALED (or the signal that ended a timeout) */
	int exit_code;		/* what a front end should exit with (124, 126, 127, 128+N, ...) */
	uint64_t wall_us, cpu_user_us, cpu_sys_us;
	uint64_t peak_memory_bytes;	/* 0 = unknown */
	uint64_t peak_pids;		/* 0 = unknown */
	uint64_t output_bytes;
	bool stdout_truncated, stderr_truncated; /* output.max_bytes reached on that stream */
	bool output_dropped;		/* interrupted while the reader still had output to take */
	bool oom_kill;			/* some process of the run was killed for memory */
	uint64_t denied_total;
	size_t n_denied;
	struct { char name[32]; uint64_t count; } denied[AL_MAX_DENIALS];
	char exec_error[256];		/* why exec failed (126/127), else "" */
	/* egress gateway (network mode gateway): this exec's requests */
	uint64_t net_allowed, net_denied;
	uint64_t net_bytes_up, net_bytes_down;
	uint64_t net_events_dropped;	/* events counted but not kept for the report (flood) */
	bool net_gateway_died;		/* the sandbox lost its network during the run */
	uint64_t read_bytes, write_bytes; /* block I/O of the command's processes */
	unsigned audit_errors;		/* audit writes that failed during the run */
	/* output gate (output.secret_scanning / strip_html / flag_instructions) */
	bool output_gated;
	uint64_t output_redactions;	/* secrets replaced by a marker */
	char output_redacted[256];	/* per detector: "aws_access_key:1,jwt:2" */
	uint64_t output_flags;		/* instruction-like passages flagged for review */
	char output_flag_samples[4][96];
	size_t n_output_flag_samples;
	al_copy_result copy_out;	/* filled by al_sandbox_copy_out when given &res->copy_out */
} al_result;

/* Run one command in the sandbox and wait for it and every process it left
 * behind. Fills *res. Returns 0 when the command was started (whatever its
 * status), negative when it could not be (err says why, res->exit_code
 * says 125/126/127). */
AL_API int al_sandbox_exec(al_sandbox *sb, const al_exec *ex, al_result *res,
			   al_error *err);

/* Copy files out of the sandbox, through the output gate, once no command
 * runs in it. Each of paths[n] (absolute, under /workspace or /tmp; a file,
 * or a directory copied recursively) lands in the host directory dest_dir
 * (created 0700 if missing) under its path below /workspace or /tmp:
 * /workspace/out/a.txt -> dest_dir/out/a.txt. Files are created 0600 by the
 * calling process (never following a symlink, never replacing an existing
 * file); their bytes pass a fresh scanner configured as for stdout, capped
 * at output.max_bytes each and 64 MiB in all (a marker ends a cut file).
 * Symlinks, devices, fifos and sockets inside a directory are skipped and
 * counted, never followed. paths == NULL, n == 0, dest_dir == NULL: the
 * policy's output.copy_out and copy_to (nothing to do: 0, res->ran false).
 * Returns 0 when everything asked for was copied; negative when something
 * could not be (err names the first problem; what was written stays). */
AL_API int al_sandbox_copy_out(al_sandbox *sb, const char *const *paths, size_t n,
			       const char *dest_dir, al_copy_result *res, al_error *err);

/* Ask the running command to stop (as on timeout): TERM, grace, KILL. Safe to
 * call from another thread or after a signal was noted by the front end. */
AL_API void al_sandbox_interrupt(al_sandbox *sb, int signo);

/* Kill everything left in the sandbox, remove its cgroups, mounts and temp
 * state. Always succeeds; NULL is fine. */
AL_API void al_sandbox_destroy(al_sandbox *sb);

/* The layers the host could not give this sandbox, as one line
 * ("memory_limit (no cgroup ...; fallback: ...); cpu_limit (...)") in buf.
 * Returns how many; 0 leaves buf "". Front ends must say this loudly. */
AL_API int al_sandbox_unavailable(const al_sandbox *sb, char *buf, size_t len);

/* Report of what was applied: the layers, and those the host could not give. */
AL_API int al_sandbox_write_report(const al_sandbox *sb, const al_result *res,
				   FILE *out);

/* ---- egress gateway, standalone ---------------------------------------- */

/* The sandbox's egress gateway as a service for other machines: the same
 * policy (network.*), the same decisions and events, on a host address. */
typedef struct al_gateway_opts {
	const char *listen;	/* "127.0.0.1:3128", "0.0.0.0:3128", "[::1]:3128" */
	const char *auth;	/* "user:password" every client must present
				 * (HTTP Basic / SOCKS5 username); NULL = none */
	int log_fd;		/* one JSON line per decision (O_APPEND); -1 = none */
	void (*ready)(const char *bound, void *arg); /* once listening ("ADDR:PORT") */
	void *ready_arg;
} al_gateway_opts;

/* Serve until SIGTERM or SIGINT, which it blocks in the calling thread and
 * takes from a signalfd. One gateway per process. */
AL_API int al_gateway_serve(const al_policy *p, const al_gateway_opts *o, al_error *err);

/* ---- host -------------------------------------------------------------- */

/* Print which layers this host can enforce, one per line (human) or JSON.
 * Returns the number of layers that are unavailable. */
AL_API int al_check_host(FILE *out, bool json);

AL_API const char *al_version(void);

#ifdef __cplusplus
}
#endif
#endif
