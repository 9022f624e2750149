/* airlock check: what this host can enforce. Exit 0 when every layer is
 * available, 1 when some are missing (the run still works, weaker). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_check(int argc, char **argv)
{
	bool json = argc >= 2 && strcmp(argv[1], "--json") == 0;
	int missing = al_check_host(stdout, json);
	if (!json && missing)
		printf("%d layer(s) missing on this host: runs work, with the fallbacks named above\n",
		       missing);
	return missing ? 1 : 0;
}
