/* bench/exec_warm: what one command costs in an already created sandbox
 * (the path sessions, the API and a warm pool take), against a bare
 * fork + exec + wait of the same command in the same run.
 *
 *   build/bench/exec_warm [RUNS]
 */
#include "airlock.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 300;
	if (runs < 1)
		runs = 300;
	double *bare = calloc((size_t)runs, sizeof *bare), *warm = calloc((size_t)runs, sizeof *warm);
	char *cmd[] = { (char *)"/bin/true", NULL };
	al_error err;
	al_error_clear(&err);
	al_policy *p = al_policy_new();
	al_sandbox *sb = NULL;
	if (!bare || !warm || !p || al_sandbox_create(p, &sb, &err) < 0) {
		fprintf(stderr, "exec_warm: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		pid_t pid = fork();
		if (pid == 0) {
			execv(cmd[0], cmd);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
		bare[i] = now_ms() - t0;

		al_exec ex = { .argv = cmd, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
		al_result res;
		t0 = now_ms();
		if (al_sandbox_exec(sb, &ex, &res, &err) < 0 || res.exit_code != 0) {
			fprintf(stderr, "exec_warm: %s\n", err.msg);
			return 1;
		}
		warm[i] = now_ms() - t0;
	}
	double mb = median(bare, runs), mw = median(warm, runs);
	printf("median fork+exec /bin/true           %.3f ms\n", mb);
	printf("median exec in a created sandbox     %.3f ms\n", mw);
	printf("sandbox exec - bare                  %.3f ms (target <= 2.000)\n", mw - mb);
	al_sandbox_destroy(sb);
	al_policy_free(p);
	free(bare);
	free(warm);
	return 0;
}
