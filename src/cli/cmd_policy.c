/* airlock policy validate|show */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int validate(int argc, char **argv)
{
	int bad = 0;
	if (argc < 1) {
		fputs("usage: airlock policy validate FILE...\n", stderr);
		return 125;
	}
	for (int i = 0; i < argc; i++) {
		al_error err;
		al_error_clear(&err);
		al_policy *p = al_policy_new();
		if (!p)
			return 125;
		if (al_policy_load_file(p, argv[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
		} else {
			char hex[65];
			al_policy_digest(p, hex);
			printf("%s: ok (sha256 %s)\n", argv[i], hex);
		}
		al_policy_free(p);
	}
	return bad ? 125 : 0;
}

static int show(int argc, char **argv)
{
	al_error err;
	al_error_clear(&err);
	al_policy *p = al_policy_new();
	if (!p)
		return 125;
	int code = 0;
	if (argc >= 1 && al_policy_load_file(p, argv[0], &err) < 0)
		code = cli_fail(&err);
	else
		al_policy_write_json(p, stdout);
	al_policy_free(p);
	return code;
}

int cmd_policy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "validate") == 0)
		return validate(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return show(argc - 2, argv + 2);
	fputs("usage: airlock policy validate FILE... | airlock policy show [FILE]\n", stderr);
	return 125;
}
