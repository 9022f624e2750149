/* airlock run: create + exec + destroy. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
	"usage: airlock run [options] -- CMD [ARG...]\n"
	"\n"
	"  -p, --policy FILE          policy file (YAML or JSON); default: the strict built-in\n"
	"  -w, --workspace DIR[:ro|:rw]  host directory as /workspace (default: an ephemeral tmpfs)\n"
	"  -m, --mount SRC:DST[:ro|:rw]  extra host path (read-only unless :rw)\n"
	"      --memory SIZE          memory limit (256M, 1Gi); swap is always off\n"
	"      --pids N               process limit for the command tree\n"
	"      --cpus N               CPU quota (0.5, 2, 500m)\n"
	"  -t, --timeout DURATION     wall-clock limit (30, 30s, 5m); TERM, grace, KILL\n"
	"      --output-limit SIZE    cap on stdout+stderr bytes\n"
	"      --copy-out PATH        after the command, copy PATH (a file or directory under\n"
	"                             /workspace or /tmp) out through the output gate\n"
	"      --copy-to DIR          host directory the copied files go to (needed by --copy-out)\n"
	"      --net none|gateway     network: none at all (default), or the egress gateway\n"
	"      --allow-host HOST:PORT allow a destination through the gateway (implies\n"
	"                             --net gateway): name, *.domain, IP, CIDR; port or *\n"
	"      --deny-host HOST:PORT  refuse a destination even if allowed\n"
	"      --add-host NAME=ADDR   the gateway resolves NAME to ADDR\n"
	"      --audit-log FILE       append the run's audit events (JSON lines) to FILE\n"
	"      --agent NAME           the agent identity in audit events and for the breaker\n"
	"  -e, --env NAME             pass NAME from this environment\n"
	"      --setenv NAME=VALUE    set NAME inside\n"
	"      --cwd DIR              working directory inside (default /workspace)\n"
	"  -r, --report FILE|-        write the JSON run report (- = stderr)\n"
	"  -q, --quiet                no warning line for layers this host cannot enforce\n"
	"                             (they are still in the report and in airlock check)\n"
	"\n"
	"Command-line options override the policy file.\n";

/* Each option that maps onto a policy key: the table keeps the parser flat. */
static const struct {
	int val;
	const char *key;
	const char *origin;
} option_keys[] = {
	{ 'w', "filesystem.workspace", "--workspace" },
	{ 'm', "filesystem.mounts", "--mount" },
	{ 1000, "resources.memory_limit", "--memory" },
	{ 1001, "resources.pids_limit", "--pids" },
	{ 1002, "resources.cpu_limit", "--cpus" },
	{ 't', "resources.timeout_seconds", "--timeout" },
	{ 1003, "resources.output_limit", "--output-limit" },
	{ 'e', "process.env.allow", "--env" },
	{ 1004, "process.env.set", "--setenv" },
	{ 1006, "network.mode", "--net" },
	{ 1007, "network.egress_allowlist", "--allow-host" },
	{ 1008, "network.egress_denylist", "--deny-host" },
	{ 1009, "network.hosts", "--add-host" },
	{ 1010, "audit.log", "--audit-log" },
	{ 1011, "audit.agent", "--agent" },
	{ 1013, "output.copy_to", "--copy-to" },
	{ 1012, "output.copy_out", "--copy-out" },
};

static const struct option long_opts[] = {
	{ "policy", required_argument, NULL, 'p' },
	{ "workspace", required_argument, NULL, 'w' },
	{ "mount", required_argument, NULL, 'm' },
	{ "memory", required_argument, NULL, 1000 },
	{ "pids", required_argument, NULL, 1001 },
	{ "cpus", required_argument, NULL, 1002 },
	{ "timeout", required_argument, NULL, 't' },
	{ "output-limit", required_argument, NULL, 1003 },
	{ "env", required_argument, NULL, 'e' },
	{ "setenv", required_argument, NULL, 1004 },
	{ "cwd", required_argument, NULL, 1005 },
	{ "net", required_argument, NULL, 1006 },
	{ "allow-host", required_argument, NULL, 1007 },
	{ "deny-host", required_argument, NULL, 1008 },
	{ "add-host", required_argument, NULL, 1009 },
	{ "audit-log", required_argument, NULL, 1010 },
	{ "agent", required_argument, NULL, 1011 },
	{ "copy-out", required_argument, NULL, 1012 },
	{ "copy-to", required_argument, NULL, 1013 },
	{ "report", required_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct override {
	int val;
	const char *arg;
};

static al_sandbox *volatile running; /* for the signal handler only */
static volatile sig_atomic_t early_signal;

static void forward_signal(int sig)
{
	if (running)
		al_sandbox_interrupt(running, sig);
	else
		early_signal = sig; /* during create or destroy */
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	sigemptyset(&sa.sa_mask);
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	/* The relay writes to our stdout; a closed reader must not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

/* In the command line's order (a later option wins over an earlier one it
 * contradicts), except that --copy-to goes first: --copy-out is refused
 * without it, wherever each was given. */
static int apply_overrides(al_policy *p, const struct override *ov, size_t n, al_error *err)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if ((ov[i].val == 1013) != (pass == 0))
				continue;
			for (size_t k = 0; k < sizeof option_keys / sizeof option_keys[0]; k++)
				if (option_keys[k].val == ov[i].val &&
				    al_policy_set(p, option_keys[k].key, ov[i].arg, option_keys[k].origin, err) < 0)
					return -1;
		}
	return 0;
}

/* The policy's output.copy_out (and --copy-out): through the output gate
 * into output.copy_to. Anything asked for and not copied makes the run
 * exit 125: the caller would otherwise go on with files it does not have. */
static int copy_out(al_sandbox *sb, al_result *res, int code)
{
	al_error err;
	al_error_clear(&err);
	int r = al_sandbox_copy_out(sb, NULL, 0, NULL, &res->copy_out, &err);
	const al_copy_result *c = &res->copy_out;
	if (c->skipped)
		fprintf(stderr, "airlock: copy-out: skipped %llu entr%s that %s neither a regular file nor a directory "
			"(first: %s)\n", (unsigned long long)c->skipped, c->skipped == 1 ? "y" : "ies",
			c->skipped == 1 ? "is" : "are", c->first_skipped);
	if (c->truncated)
		fprintf(stderr, "airlock: copy-out: %llu file%s truncated (see the marker at the end)\n",
			(unsigned long long)c->truncated, c->truncated == 1 ? "" : "s");
	if (r < 0) {
		if (c->errors > 1)
			fprintf(stderr, "airlock: %s (and %llu more problem%s)\n", err.msg,
				(unsigned long long)c->errors - 1, c->errors == 2 ? "" : "s");
		else
			fprintf(stderr, "airlock: %s\n", err.msg);
		return 125;
	}
	return code;
}

static int write_report(const char *path, const al_sandbox *sb, const al_result *res)
{
	if (!path)
		return 0;
	FILE *f = strcmp(path, "-") == 0 ? stderr : fopen(path, "we");
	if (!f) {
		fprintf(stderr, "airlock: --report %s: %s\n", path, strerror(errno));
		return -1;
	}
	int r = al_sandbox_write_report(sb, res, f);
	if (f != stderr && fclose(f) != 0)
		r = -1;
	return r;
}

static int run_command(al_policy *p, char **cmd, const char *cwd, const char *report, bool quiet)
{
	al_error err;
	al_error_clear(&err);
	al_sandbox *sb = NULL;
	/* Handlers first: a Ctrl-C during create must still clean up (a
	 * signal's default action would leave the cgroups behind). */
	install_handlers();
	if (al_sandbox_create(p, &sb, &err) < 0)
		return cli_fail(&err);
	if (early_signal) {
		al_sandbox_destroy(sb);
		return 128 + early_signal;
	}
	/* Never pretend: a layer this host cannot give is said on every run. */
	char missing[1024];
	if (!quiet && al_sandbox_unavailable(sb, missing, sizeof missing) > 0)
		fprintf(stderr, "airlock: warning: not enforced on this host: %s\n", missing);
	running = sb;

	al_exec ex = { .argv = cmd, .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2, .cwd = cwd,
		       .last = true };
	al_result res;
	int code;
	if (al_sandbox_exec(sb, &ex, &res, &err) < 0) {
		code = cli_fail(&err);
	} else {
		code = res.exit_code;
		if (res.reason == AL_EXIT_TIMEOUT)
			fprintf(stderr, "airlock: timed out; the command was stopped\n");
		else if (res.reason == AL_EXIT_OOM)
			fprintf(stderr, "airlock: memory limit reached; the command was killed\n");
		if (res.audit_errors)
			fprintf(stderr, "airlock: warning: %u audit event%s of this run could not be written\n",
				res.audit_errors, res.audit_errors == 1 ? "" : "s");
		if (res.net_gateway_died)
			fprintf(stderr, "airlock: warning: the egress gateway died during the run; "
					"the sandbox had no network from then on\n");
		code = copy_out(sb, &res, code);
	}
	if (write_report(report, sb, &res) < 0 && code == 0)
		code = 125;
	running = NULL;
	al_sandbox_destroy(sb);
	return code;
}

int cmd_run(int argc, char **argv)
{
	const char *policy_file = NULL, *report = NULL, *cwd = NULL;
	bool quiet = false;
	struct override *ov = calloc((size_t)argc + 1, sizeof *ov);
	size_t n_ov = 0;
	int c;
	if (!ov)
		return 125;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:w:m:t:e:r:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy_file = optarg; break;
		case 'r': report = optarg; break;
		case 1005: cwd = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(run_usage, stdout); free(ov); return 0;
		case '?': fputs(run_usage, stderr); free(ov); return 125;
		default: ov[n_ov++] = (struct override){ c, optarg }; break;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "airlock run: no command given\n%s", run_usage);
		free(ov);
		return 125;
	}
	al_error err;
	al_error_clear(&err);
	al_policy *p = al_policy_new();
	int code;
	if (!p)
		code = 125;
	else if ((policy_file && al_policy_load_file(p, policy_file, &err) < 0) ||
		 apply_overrides(p, ov, n_ov, &err) < 0)
		code = cli_fail(&err);
	else
		code = run_command(p, argv + optind, cwd, report, quiet);
	al_policy_free(p);
	free(ov);
	return code;
}
