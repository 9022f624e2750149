/* airlock: the command-line front end. Each subcommand is one file that
 * parses its arguments and calls libairlock. */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

static const char usage[] =
	"usage: airlock <command> [options]\n"
	"\n"
	"  run [options] -- CMD [ARG...]   run one command in a disposable sandbox\n"
	"  policy validate FILE...         check policy files (errors name file:line: field)\n"
	"  policy show [FILE]              print the effective policy as JSON, with its digest\n"
	"  check [--json]                  which layers this host can enforce\n"
	"  gateway --listen ADDR:PORT      the egress gateway as a service (see --help)\n"
	"  audit tail|summary FILE         read an audit log\n"
	"  breaker status|reset [AGENT]    the per-agent circuit breaker\n"
	"\n"
	"  airlock run --help              options of run\n"
	"  --version                       print the version\n"
	"\n"
	"Exit codes: the command's own status; 124 timed out; 125 airlock failed (nothing ran);\n"
	"126 not executable; 127 not found; 128+N killed by signal N.\n";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "policy", cmd_policy },
	{ "check", cmd_check },
	{ "gateway", cmd_gateway },
	{ "audit", cmd_audit },
	{ "breaker", cmd_breaker },
};

int cli_fail(const al_error *err)
{
	fprintf(stderr, "airlock: %s\n", err->msg[0] ? err->msg : "failed");
	return err->exit_code ? err->exit_code : 125;
}

/* A closed 0, 1 or 2 would be reused by the next open(): the sandbox's
 * stdin could become one of our own descriptors. Fill them with /dev/null. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(125);
}

int main(int argc, char **argv)
{
	ensure_std_fds();
	if (argc < 2) {
		fputs(usage, stderr);
		return 125;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("airlock %s\n", al_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "airlock: unknown command '%s'\n%s", argv[1], usage);
	return 125;
}
