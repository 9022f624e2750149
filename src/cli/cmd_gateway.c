/* airlock gateway: the egress gateway as a standalone service. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char gateway_usage[] =
	"usage: airlock gateway --listen ADDR:PORT [options]\n"
	"\n"
	"Serve the policy's egress rules (network.*) as an HTTP proxy and SOCKS5\n"
	"server on one port, for machines and pods that are not airlock sandboxes.\n"
	"\n"
	"  -l, --listen ADDR:PORT     where to listen (127.0.0.1:3128, [::]:3128)\n"
	"  -p, --policy FILE          policy file (YAML or JSON)\n"
	"      --allow-host HOST:PORT allow a destination (name, *.domain, IP, CIDR; port or *)\n"
	"      --deny-host HOST:PORT  refuse a destination even if allowed\n"
	"      --add-host NAME=ADDR   resolve NAME to ADDR (the gateway's /etc/hosts)\n"
	"      --auth-file FILE       one line user:password that clients must present\n"
	"                             (HTTP Proxy-Authorization Basic, SOCKS5 username)\n"
	"      --log FILE|-           one JSON line per decision (default -, stdout)\n"
	"\n"
	"SIGTERM or SIGINT stops it.\n";

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "policy", required_argument, NULL, 'p' },
	{ "allow-host", required_argument, NULL, 1 },
	{ "deny-host", required_argument, NULL, 2 },
	{ "add-host", required_argument, NULL, 3 },
	{ "auth-file", required_argument, NULL, 4 },
	{ "log", required_argument, NULL, 5 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *const option_key[] = {
	[1] = "network.egress_allowlist", [2] = "network.egress_denylist", [3] = "network.hosts",
};
static const char *const option_name[] = { [1] = "--allow-host", [2] = "--deny-host", [3] = "--add-host" };

static void say_ready(const char *bound, void *arg)
{
	fprintf(stderr, "airlock gateway: listening on %s\n", bound);
}

/* The first line of the file, without its newline. The file must not be
 * readable by others: it is a password. */
static char *read_auth(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	if (!f) {
		fprintf(stderr, "airlock gateway: --auth-file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n <= 0 || !strchr(line, ':') || line[0] == ':') {
		fprintf(stderr, "airlock gateway: --auth-file %s: expected one line user:password\n", path);
		free(line);
		return NULL;
	}
	return line;
}

int cmd_gateway(int argc, char **argv)
{
	const char *policy_file = NULL, *auth_file = NULL, *log = "-";
	al_gateway_opts o = { .log_fd = 1, .ready = say_ready };
	struct { int val; const char *arg; } ov[64];
	size_t n_ov = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:p:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'p': policy_file = optarg; break;
		case 4: auth_file = optarg; break;
		case 5: log = optarg; break;
		case 'h': fputs(gateway_usage, stdout); return 0;
		case 1: case 2: case 3:
			if (n_ov < sizeof ov / sizeof ov[0]) {
				ov[n_ov].val = c;
				ov[n_ov++].arg = optarg;
				break;
			}
			fputs("airlock gateway: too many host options\n", stderr);
			return 125;
		default: fputs(gateway_usage, stderr); return 125;
		}
	}
	if (!o.listen || optind < argc) {
		fputs(gateway_usage, stderr);
		return 125;
	}
	al_error err;
	al_error_clear(&err);
	al_policy *p = al_policy_new();
	int code = 125;
	char *auth = NULL;
	if (!p)
		return 125;
	if (policy_file && al_policy_load_file(p, policy_file, &err) < 0)
		goto fail;
	for (size_t i = 0; i < n_ov; i++)
		if (al_policy_set(p, option_key[ov[i].val], ov[i].arg, option_name[ov[i].val], &err) < 0)
			goto fail;
	if (auth_file && !(o.auth = auth = read_auth(auth_file)))
		goto out;
	if (strcmp(log, "-") != 0 &&
	    (o.log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "airlock gateway: --log %s: %s\n", log, strerror(errno));
		goto out;
	}
	if (al_gateway_serve(p, &o, &err) < 0)
		goto fail;
	code = 0;
	goto out;
fail:
	code = cli_fail(&err);
out:
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	al_policy_free(p);
	return code;
}
