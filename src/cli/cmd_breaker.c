/* airlock breaker status|reset: look at and clear the per-agent circuit
 * breaker (docs/audit.md). The state lives in files under the state
 * directory; everything here goes through breaker.c, which locks them. */
#include "cli.h"
#include "breaker.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* TODO: --policy FILE, for the policy's audit.state_dir and window, once
 * the policy reads the audit keys. Until then status counts every run
 * recorded (the window was applied when each was recorded). */
static const char breaker_usage[] =
	"usage: airlock breaker status [AGENT] [--state-dir DIR] [--json]\n"
	"       airlock breaker reset AGENT [--state-dir DIR]\n"
	"\n"
	"  --state-dir DIR   where the state is (default: /var/lib/airlock as root,\n"
	"                    else $XDG_STATE_HOME/airlock or ~/.local/state/airlock)\n"
	"  --json            status as JSON: {\"agents\":[{agent,state,until,violations,failures}]}\n";

static const struct option long_opts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cmd_breaker(int argc, char **argv)
{
	/* argv[0] is "breaker"; the action takes getopt's program-name slot. */
	if (argc < 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "reset") != 0)) {
		bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		fputs(breaker_usage, help ? stdout : stderr);
		return help ? 0 : 125;
	}
	bool reset = strcmp(argv[1], "reset") == 0, json = false;
	const char *state_dir = NULL;
	int c;
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd': state_dir = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(breaker_usage, stdout); return 0;
		default: fputs(breaker_usage, stderr); return 125;
		}
	}
	const char *agent = optind < argc ? argv[optind] : NULL;
	if (argc - optind > 1 || (reset && (!agent || json))) {
		fputs(breaker_usage, stderr);
		return 125;
	}

	al_error err;
	al_error_clear(&err);
	char *dflt = NULL;
	if (!state_dir && !(state_dir = dflt = breaker_default_dir())) {
		fputs("airlock: no state directory (neither $XDG_STATE_HOME nor $HOME is set): use --state-dir\n",
		      stderr);
		return 125;
	}
	int r = reset ? breaker_reset(state_dir, agent, &err)
		      : breaker_print(state_dir, agent, NULL, now_ms(), stdout, json, &err);
	free(dflt);
	if (r < 0)
		return cli_fail(&err);
	if (reset)
		printf("%s  closed (reset)\n", agent);
	return 0;
}
