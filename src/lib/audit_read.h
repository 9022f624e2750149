/* Reading the audit log (audit_read.c): `airlock audit tail` and `airlock
 * audit summary` (docs/audit.md, "Reading the log").
 *
 * Pure over streams: the caller opens the log, nothing here writes it or
 * touches breaker state. Lines are parsed with libyaml (JSON is YAML flow
 * style) and must still be JSON: a line that is not a JSON object with `v`
 * and `event` is skipped and counted, never fatal, so a log with a stray
 * line (an editor, a truncated copy) stays readable. Unknown fields and
 * event types are ignored: newer writers stay readable by older readers.
 *
 * Everything printed for humans is safe for a terminal: command lines and
 * host names come from the agent and may carry escape sequences.
 */
#ifndef AIRLOCK_AUDIT_READ_H
#define AIRLOCK_AUDIT_READ_H

#include "internal.h"

#include <stdio.h>

/* Lines nested deeper than this are not audit events (events nest 3 deep);
 * the bound keeps hostile input away from the parser's recursion. */
#define AUDIT_MAX_DEPTH 16

struct audit_filter {
	const char *agent; /* NULL = every agent; "" = events without one */
	const char *run;   /* NULL = every run */
};

struct audit_strv {
	const char **v;	   /* malloc'd array; the strings are owned by the event */
	size_t n;
};

/* One event, reduced to the fields the readers use. Strings are never NULL
 * ("" when absent or not a string) and point into doc, owned by the event;
 * a NUL inside a string is turned into '?' (it would hide what follows).
 * Numbers are 0 when absent or not numbers. Fields of every type live side
 * by side: which ones mean something depends on `event`. */
struct audit_event {
	struct yaml_document_s *doc;
	int64_t v;
	const char *event, *time, *run, *agent;
	struct audit_strv command;			/* run_start */
	const char *host, *verdict, *rule;		/* egress */
	uint64_t port;
	const char *syscall;				/* syscall_denied */
	uint64_t count;
	uint64_t created, modified, deleted;		/* file_changes: array lengths */
	bool truncated;
	uint64_t memory_bytes, memory_limit, pids, pids_limit; /* resource_peak */
	uint64_t cpu_user_ms, cpu_sys_ms, wall_ms, output_bytes;
	const char *exit_reason;			/* run_end */
	int64_t exit_code, term_signal;
	bool failed;
	uint64_t violations;				/* run_end, breaker */
	const char *state, *until;			/* breaker */
	uint64_t failures;
};

/* Parse one line (len bytes, newline excluded). Returns 0 with ev filled
 * (release with audit_event_clear), 1 when the line is not an audit event
 * (ev is left empty), -1 when out of memory. */
int audit_event_parse(const char *line, size_t len, struct audit_event *ev);
void audit_event_clear(struct audit_event *ev);

bool audit_filter_match(const struct audit_filter *f, const struct audit_event *ev);

/* The readable line of `tail`, newline included. */
void audit_event_print(const struct audit_event *ev, FILE *out);

/* Write s with control characters (C0, DEL, C1), bidirectional overrides
 * and bytes that are not UTF-8 replaced by '?'. Returns the columns written
 * (one per character). */
size_t audit_put_safe(FILE *out, const char *s);

/* The log at path ("-" = stdin, which is then not to be closed). NULL with
 * err set ("PATH: strerror") when it cannot be opened. */
FILE *audit_open(const char *path, al_error *err);

/* One line per matching event: readable, or (json) the log's own lines
 * byte for byte. last_n > 0 prints only the last last_n matching events.
 * Returns the number of lines skipped as not audit events (>= 0), or -1
 * with err set (a read or write error). */
int audit_tail(FILE *in, FILE *out, const struct audit_filter *f, bool json, size_t last_n,
	       al_error *err);

/* Per agent (sorted by name): runs, unfinished runs (a run_start without
 * run_end: killed mid-run, or still running), failures, violations, denied
 * egress, refused syscalls, breaker trips, first and last run start. A
 * table, or (json) {"agents":[{"agent","runs","unfinished","failures",
 * "violations","egress_denied","syscalls_refused","breaker_trips",
 * "first_run","last_run"}]} (times null when the agent has no run_start).
 * Returns as audit_tail. */
int audit_summary(FILE *in, FILE *out, const struct audit_filter *f, bool json, al_error *err);

#endif
