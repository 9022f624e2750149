/* The audit trail of a sandbox (audit.c): the events of docs/audit.md,
 * written by the supervisor to the policy's log, alerts fired from them, and
 * the per-agent circuit breaker consulted and fed. */
#ifndef AIRLOCK_AUDIT_H
#define AIRLOCK_AUDIT_H

#include "internal.h"

struct al_sandbox;
struct audit;

/* At create, before anything is built: open (and rotate) the log, and
 * refuse when the agent's breaker is open (a `breaker` event, exit 125).
 * *out is NULL when the policy asks for neither a log nor a breaker. */
int audit_trail_open(const struct al_policy *p, struct audit **out, al_error *err);
void audit_trail_close(struct audit *a);

/* The log's fd for the gateway's live egress lines (-1 if none), the agent,
 * and the current run id (16 hex digits + NUL; 17 bytes). */
int audit_log_fd(const struct audit *a);
const char *audit_agent(const struct audit *a);

/* An exec starts: a new run id into run_id (17 bytes), run_start written,
 * the writable workspace snapshot taken. A failed write refuses the exec
 * (-1, err set) unless the policy says continue. */
int audit_exec_start(struct audit *a, const struct al_sandbox *sb, const al_exec *ex, char run_id[17],
		     al_error *err);

/* The exec ended (res filled): syscall_denied, file_changes, resource_peak
 * and run_end written, fsync, alerts, the breaker fed. Never fails the run;
 * problems go to res->audit_errors. */
void audit_exec_end(struct audit *a, const struct al_sandbox *sb, al_result *res);

/* The sandbox could not be built: a run_end with reason setup_failed. */
void audit_setup_failed(struct audit *a, const struct al_policy *p, const al_error *why);

#endif
