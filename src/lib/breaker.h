/* The circuit breaker per agent identity (breaker.c): state on disk, one
 * file per agent, read and written under an exclusive flock, so concurrent
 * runs and restarts see one truth. Times are wall-clock milliseconds (state
 * outlives processes and reboots). */
#ifndef AIRLOCK_BREAKER_H
#define AIRLOCK_BREAKER_H

#include "internal.h"

#include <stdio.h>

struct breaker_view {
	bool tripped;		/* runs are refused until until_ms */
	uint64_t until_ms;
	uint64_t violations;	/* in the current window */
	uint64_t failures;	/* failed runs in the current window */
};

/* A valid agent name (it names a file): 1-64 of [A-Za-z0-9._-], not
 * starting with '.'. */
bool breaker_agent_valid(const char *agent);

/* The default state directory: /var/lib/airlock as root, else
 * $XDG_STATE_HOME/airlock or $HOME/.local/state/airlock. malloc'd; NULL if
 * none can be named. */
char *breaker_default_dir(void);

/* Is the breaker open for agent? Returns 1 (open: refuse the run; v says
 * until when), 0 (closed), -1 on error (unreadable or corrupt state: the
 * caller refuses the run, fail closed). A trip whose cooldown has passed
 * closes here. A missing state file or directory is a closed breaker. */
int breaker_check(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		  struct breaker_view *v, al_error *err);

/* Add one run's outcome (its violations; whether it failed), drop what is
 * older than the window, and trip when a maximum is reached (*tripped: this
 * call tripped it). Creates dir (0700) and the state file (0600) as needed. */
int breaker_record(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		   uint64_t violations, bool failed, struct breaker_view *v, bool *tripped,
		   al_error *err);

/* Forget everything about agent (closes the breaker). */
int breaker_reset(const char *dir, const char *agent, al_error *err);

/* Print the state of agent (NULL: every agent in dir), a line each, or JSON
 * ({"agents":[{"agent","state":"closed|tripped","until","violations","failures"}]}).
 * cfg may be NULL (then counts are of everything recorded). */
int breaker_print(const char *dir, const char *agent, const struct breaker_cfg *cfg, uint64_t now_ms,
		  FILE *out, bool json, al_error *err);

#endif
