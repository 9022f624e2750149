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

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}
#endif
