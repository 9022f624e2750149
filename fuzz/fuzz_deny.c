/* Fuzz target for the deny-pattern matcher (gitignore-style, with '**'):
 * input is "pattern\0path"; the matcher must never crash, overrun or hang,
 * and a pattern equal to the path's last component must always match. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *pat = buf;
	const char *rel = buf + strlen(buf) + 1;
	if (rel > buf + size)
		rel = buf + size;
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	(void)deny_pattern_matches(pat, rel, base, size & 1);
	/* a plain name (no glob, slash, comment or negation) hides itself */
	if (*base && !strpbrk(base, "*?[\\!#") && strcmp(base, ".") && strcmp(base, "..") &&
	    !deny_pattern_matches(base, rel, base, false))
		abort();
	free(buf);
	return 0;
}
