/* Unit parsers for policy values: sizes, durations, CPU limits.
 *
 * Numbers are read as fixed-point decimals and scaled with 128-bit
 * arithmetic, so "1.5G" is exactly 1610612736 and never goes through a
 * float. A value that does not come out whole in the base unit (a byte, a
 * millisecond, a millicpu) is refused rather than silently rounded: a limit
 * should be what the user wrote.
 *
 * Size suffixes are binary whatever their spelling (K = Ki = KiB = 1024), as
 * in Docker and the kernel's cgroup files (memory.max "512M"), which is what
 * users copy. Kubernetes reads an i-less "4G" as decimal (7% less); "4Gi"
 * means the same in both.
 */
#include "internal.h"

#include <string.h>

/* Fraction digits kept; 10^18 < 2^60 so frac * unit fits in 128 bits. */
#define FRAC_DIGITS_MAX 18

struct decimal {
	uint64_t whole;
	uint64_t frac;	     /* fraction digits as an integer ... */
	uint64_t frac_scale; /* ... over this power of ten (1 = no fraction) */
	bool frac_dropped;   /* non-zero digits beyond FRAC_DIGITS_MAX */
};

/* Read "123" or "123.45" at *sp and advance. 0, -1 = no number, -2 = overflow. */
static int scan_decimal(const char **sp, struct decimal *d)
{
	const char *s = *sp;
	*d = (struct decimal){ .frac_scale = 1 };
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(d->whole, 10, &d->whole) ||
		    __builtin_add_overflow(d->whole, (uint64_t)(*s - '0'), &d->whole))
			return -2;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1; /* "1." or "1.G" */
		for (int n = 0; *s >= '0' && *s <= '9'; s++, n++) {
			if (n >= FRAC_DIGITS_MAX) {
				d->frac_dropped |= *s != '0';
				continue;
			}
			d->frac = d->frac * 10 + (uint64_t)(*s - '0');
			d->frac_scale *= 10;
		}
	}
	*sp = s;
	return 0;
}

/* *out = d * unit. Returns 0, -2 on overflow, 1 when the result is not
 * whole; *out is only written on success. */
static int scale(const struct decimal *d, uint64_t unit, uint64_t *out)
{
	uint64_t v;
	if (__builtin_mul_overflow(d->whole, unit, &v))
		return -2;
	unsigned __int128 f = (unsigned __int128)d->frac * unit;
	unsigned __int128 q = f / d->frac_scale;
	if (q > UINT64_MAX || __builtin_add_overflow(v, (uint64_t)q, &v))
		return -2;
	if (f % d->frac_scale || d->frac_dropped)
		return 1;
	*out = v;
	return 0;
}

/* Binary multiplier of a size suffix ("", "B", "k", "Mi", "GiB", ...), 0 if none fits. */
static uint64_t size_unit(const char *s)
{
	static const char letters[] = "KMGTP";
	uint64_t unit = 1;
	if (*s && *s != 'b' && *s != 'B') {
		const char *l = strchr(letters, *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
		if (!l)
			return 0;
		unit <<= 10 * (l - letters + 1);
		s++;
		if (*s == 'i')
			s++;
	}
	if (*s == 'B' || *s == 'b')
		s++;
	return *s ? 0 : unit;
}

int parse_size(const char *s, uint64_t *out, const char **why)
{
	struct decimal d;
	if (!*s)
		return *why = "empty size", -1;
	if (*s == '-')
		return *why = "negative size", -1;
	int r = scan_decimal(&s, &d);
	if (r == -2)
		return *why = "size too large", -1;
	uint64_t unit = r == 0 ? size_unit(s) : 0;
	if (!unit)
		return *why = "invalid size", -1;
	r = scale(&d, unit, out);
	if (r == -2)
		return *why = "size too large", -1;
	if (r == 1)
		return *why = "size with a fraction of a byte", -1;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	/* "ms" before "m": the longest suffix wins */
	{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 }, { "d", 86400 * 1000 },
};

/* Match a unit at *sp, advance past it; 0 when none matches. */
static uint64_t duration_unit(const char **sp)
{
	for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
		size_t n = strlen(duration_units[i].suffix);
		if (strncmp(*sp, duration_units[i].suffix, n) == 0) {
			*sp += n;
			return duration_units[i].ms;
		}
	}
	return 0;
}

/* "30" (seconds, as in timeout_seconds), "500ms", "1.5s", "5m", "1h30m", "2d". */
int parse_duration_ms(const char *s, uint64_t *out, const char **why)
{
	uint64_t total = 0;
	if (!*s)
		return *why = "empty duration", -1;
	if (*s == '-')
		return *why = "negative duration", -1;
	for (bool first = true; *s; first = false) {
		struct decimal d;
		uint64_t part = 0;
		int r = scan_decimal(&s, &d);
		if (r == -2)
			return *why = "duration too large", -1;
		if (r < 0)
			return *why = "invalid duration", -1;
		uint64_t unit = duration_unit(&s);
		if (!unit && first && !*s)
			unit = 1000; /* a bare number is seconds */
		if (!unit)
			return *why = "invalid duration", -1;
		r = scale(&d, unit, &part);
		if (r == 1)
			return *why = "duration finer than 1ms", -1;
		if (r == -2 || __builtin_add_overflow(total, part, &total))
			return *why = "duration too large", -1;
	}
	*out = total;
	return 0;
}

#define CPU_MILLIS_MAX (1024u * 1000u)

/* "2" (CPUs), "0.5", "500m" (millicpus, as Kubernetes writes them). */
int parse_cpu_millis(const char *s, uint64_t *out, const char **why)
{
	struct decimal d;
	uint64_t v = 0;
	if (!*s)
		return *why = "empty CPU limit", -1;
	if (*s == '-')
		return *why = "negative CPU limit", -1;
	int r = scan_decimal(&s, &d);
	if (r == -2)
		return *why = "CPU limit over 1024 CPUs", -1;
	if (r == -1 || (*s && strcmp(s, "m") != 0))
		return *why = "invalid CPU limit", -1;
	r = scale(&d, *s == 'm' ? 1 : 1000, &v);
	if (r == -2 || (r == 0 && v > CPU_MILLIS_MAX))
		return *why = "CPU limit over 1024 CPUs", -1;
	if (r == 1)
		return *why = "CPU limit finer than 1m (0.001 CPU)", -1;
	if (v == 0)
		return *why = "zero CPU limit", -1;
	*out = v;
	return 0;
}
