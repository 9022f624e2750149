/* airlock audit tail|summary: read an audit log (docs/audit.md). The reading
 * is libairlock's (audit_read.c); this file parses arguments. */
#include "cli.h"
#include "audit_read.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char audit_usage[] =
	"usage: airlock audit tail FILE [--agent NAME] [--run ID] [--json] [-n N]\n"
	"       airlock audit summary FILE [--agent NAME] [--json]\n"
	"\n"
	"FILE is an audit log (JSON lines), - for stdin.\n"
	"  tail      one readable line per event; --json prints the log's lines as they are;\n"
	"            -n N only the last N events\n"
	"  summary   per agent: runs, failures, violations, denied egress, refused syscalls,\n"
	"            breaker trips, first and last run\n";

static const struct option long_opts[] = {
	{ "agent", required_argument, NULL, 'a' },
	{ "run", required_argument, NULL, 'r' },
	{ "json", no_argument, NULL, 'j' },
	{ "last", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_count(const char *s, size_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	*out = (size_t)v;
	return *end == '\0' && v == *out;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_filter f = { 0 };
	bool json = false, tail = argc >= 2 && strcmp(argv[1], "tail") == 0;
	size_t last_n = 0;
	int c;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(audit_usage, stdout);
		return 0;
	}
	if (argc < 2 || (!tail && strcmp(argv[1], "summary") != 0)) {
		fputs(audit_usage, stderr);
		return 125;
	}
	/* From the subcommand on; options may follow FILE (getopt permutes). */
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'a': f.agent = optarg; break;
		case 'r': f.run = optarg; break;
		case 'j': json = true; break;
		case 'n':
			if (parse_count(optarg, &last_n))
				break;
			fprintf(stderr, "airlock audit: -n %s: expected a number of events\n", optarg);
			return 125;
		case 'h': fputs(audit_usage, stdout); return 0;
		default: fputs(audit_usage, stderr); return 125;
		}
	}
	if (optind != argc - 1 || (!tail && (f.run || last_n))) {
		fputs(audit_usage, stderr);
		return 125;
	}
	const char *path = argv[optind];
	al_error err;
	al_error_clear(&err);
	FILE *in = audit_open(path, &err);
	if (!in)
		return cli_fail(&err);
	int skipped = tail ? audit_tail(in, stdout, &f, json, last_n, &err)
			   : audit_summary(in, stdout, &f, json, &err);
	if (in != stdin)
		fclose(in);
	if (skipped < 0) {
		al_error_wrap(&err, "%s", path);
		return cli_fail(&err);
	}
	/* On stderr: stdout stays exactly the events (or the JSON) asked for. */
	if (skipped)
		fprintf(stderr, "airlock: %s: %d line%s skipped: not audit events\n", path, skipped,
			skipped == 1 ? "" : "s");
	return 0;
}
