/* libFuzzer target for the policy loader (al_policy_load_buffer).
 *
 * Besides the sanitizers' own checks it holds the loader to two promises:
 * an error message is one NUL-terminated string whose lines all name the
 * input, and a policy that loads writes out as JSON that loads back to the
 * same digest (the canonical form is itself a policy file).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const al_error *err)
{
	if (!memchr(err->msg, '\0', sizeof err->msg) || err->exit_code != 125)
		abort();
	for (const char *line = err->msg; *line;) {
		/* every line names the input, or is the "(N more problems...)" tail */
		if (strncmp(line, "fuzz", 4) != 0 && strncmp(line, "(", 1) != 0)
			abort();
		const char *nl = strchr(line, '\n');
		line = nl ? nl + 1 : line + strlen(line);
	}
}

static void check_round_trip(const al_policy *p)
{
	char *json = NULL, a[65], b[65];
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	al_error err;
	if (!f)
		return;
	if (al_policy_write_json(p, f) < 0)
		abort();
	fclose(f);
	/* libyaml only hands out valid UTF-8, which json.c passes through. */
	al_policy *back = al_policy_new();
	al_error_clear(&err);
	if (!back || al_policy_load_buffer(back, "json", json, len, &err) < 0) {
		fprintf(stderr, "canonical JSON does not load: %s\n%s", err.msg, json);
		abort();
	}
	al_policy_digest(p, a);
	al_policy_digest(back, b);
	if (strcmp(a, b) != 0) {
		fprintf(stderr, "round trip changed the policy:\n%s", json);
		abort();
	}
	al_policy_free(back);
	free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	al_policy *p = al_policy_new();
	al_error err;
	if (!p)
		return 0;
	al_error_clear(&err);
	if (al_policy_load_buffer(p, "fuzz", (const char *)data, size, &err) < 0)
		check_message(&err);
	else
		check_round_trip(p);
	al_policy_free(p);
	return 0;
}
