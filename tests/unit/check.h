/* A tiny TAP producer for unit tests: CHECK(cond, "what") prints one line per
 * check; the test exits non-zero when any failed. Meson runs these with
 * protocol 'tap', so every check is counted. */
#ifndef AIRLOCK_CHECK_H
#define AIRLOCK_CHECK_H
#include <stdio.h>

static int check_n, check_failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		++check_n;                                                   \
		if (cond) {                                                  \
			printf("ok %d - ", check_n);                         \
		} else {                                                     \
			++check_failed;                                      \
			printf("not ok %d - %s:%d: ", check_n, __FILE__, __LINE__); \
		}                                                            \
		printf(__VA_ARGS__);                                         \
		putchar('\n');                                               \
	} while (0)

/* s for a TAP line: CR and LF as \r \n, other control bytes and non-ASCII
 * as \xNN, cut at max bytes (four buffers in turn, so one CHECK can show
 * several strings). */
static inline const char *check_show(const char *s, size_t max)
{
	static char buf[4][600];
	static int which;
	char *o = buf[which++ & 3];
	size_t n = 0;
	if (max > 140)
		max = 140; /* 4 bytes out per byte in, at most */
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			n += (size_t)snprintf(o + n, 3, "\\%c", c == '\r' ? 'r' : 'n');
		else if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(o + n, 5, "\\x%02x", c);
		else
			o[n++] = (char)c;
	}
	o[n] = '\0';
	return o;
}

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}
#endif
