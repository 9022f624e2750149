/* The library's create / exec / destroy split: one sandbox, several
 * commands, state kept between them, errors per exec, nothing after destroy. */
#include "check.h"
#include "airlock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(al_sandbox *sb, char **argv, char *out, size_t len, al_result *res, al_error *err)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	al_exec ex = { .argv = argv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1 };
	int r = al_sandbox_exec(sb, &ex, res, err);
	close(p[1]);
	ssize_t n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	return r;
}

struct busy_arg {
	al_sandbox *sb;
	int r, code;
};

static void *slow_exec(void *p)
{
	struct busy_arg *a = p;
	char *argv[] = { (char *)"sleep", (char *)"0.6", NULL };
	al_exec ex = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
	al_result res;
	al_error err;
	al_error_clear(&err);
	a->r = al_sandbox_exec(a->sb, &ex, &res, &err);
	a->code = res.exit_code;
	return NULL;
}

int main(void)
{
	al_error err;
	al_error_clear(&err);
	al_policy *p = al_policy_new();
	al_sandbox *sb = NULL;
	al_result res;
	char out[256];

	int r = al_sandbox_create(p, &sb, &err);
	CHECK(r == 0, "create (%s)", r ? err.msg : "ok");
	if (r != 0)
		return check_done();

	char *write_file[] = { (char *)"sh", (char *)"-c", (char *)"echo kept > /workspace/state; echo first", NULL };
	r = run(sb, write_file, out, sizeof out, &res, &err);
	CHECK(r == 0 && res.exit_code == 0 && strcmp(out, "first\n") == 0, "first exec runs (%.*s)", (int)strcspn(out, "\n"), out);

	char *read_file[] = { (char *)"cat", (char *)"/workspace/state", NULL };
	r = run(sb, read_file, out, sizeof out, &res, &err);
	CHECK(r == 0 && strcmp(out, "kept\n") == 0, "second exec sees the first one's workspace (%.*s)", (int)strcspn(out, "\n"), out);

	char *missing[] = { (char *)"no-such-command", NULL };
	r = run(sb, missing, out, sizeof out, &res, &err);
	CHECK(r < 0 && res.exit_code == 127 && err.exit_code == 127, "a missing command is 127, sandbox intact");

	char *leave_behind[] = { (char *)"sh", (char *)"-c", (char *)"sleep 1000 & echo $!", NULL };
	r = run(sb, leave_behind, out, sizeof out, &res, &err);
	char *count[] = { (char *)"sh", (char *)"-c", (char *)"ls /proc | grep -c '^[0-9]'", NULL };
	r = run(sb, count, out, sizeof out, &res, &err);
	/* init, sh, ls, grep: the earlier background sleep is gone */
	CHECK(r == 0 && atoi(out) <= 4, "background processes of an exec end with it (%d processes)", atoi(out));

	char *status[] = { (char *)"sh", (char *)"-c", (char *)"exit 7", NULL };
	r = run(sb, status, out, sizeof out, &res, &err);
	CHECK(r == 0 && res.exit_code == 7 && res.reason == AL_EXIT_EXITED, "exit status of a later exec");

	/* one exec at a time: a second one while the first runs gets EBUSY */
	{
		struct busy_arg a = { .sb = sb };
		pthread_t t;
		pthread_create(&t, NULL, slow_exec, &a);
		usleep(200000);
		char *quick[] = { (char *)"true", NULL };
		al_exec ex = { .argv = quick, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
		al_error e2;
		al_error_clear(&e2);
		r = al_sandbox_exec(sb, &ex, &res, &e2);
		pthread_join(t, NULL);
		CHECK(r < 0 && e2.code == EBUSY, "a concurrent exec is refused with EBUSY (%s)", e2.msg);
		CHECK(a.r == 0 && a.code == 0, "the running exec is undisturbed");
	}

	/* a caller whose reader went away: the library must not die of SIGPIPE */
	int gone[2];
	if (pipe(gone) == 0) {
		close(gone[0]);
		char *chatty[] = { (char *)"sh", (char *)"-c", (char *)"echo lost; exit 3", NULL };
		al_exec ex = { .argv = chatty, .stdin_fd = -1, .stdout_fd = gone[1], .stderr_fd = -1 };
		r = al_sandbox_exec(sb, &ex, &res, &err);
		close(gone[1]);
		CHECK(r == 0 && res.exit_code == 3, "output to a closed pipe is dropped, no SIGPIPE (status %d)",
		      res.exit_code);
	}

	al_sandbox_destroy(sb);
	al_policy_free(p);
	return check_done();
}
