/* Unit parsers: sizes, durations, CPU limits. Each accepted spelling with
 * its exact value, and each class of refusal with its reason. */
#include "check.h"
#include "internal.h"

#include <string.h>

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	const char *why = NULL;
	int r = parse_size(s, &v, &why);
	CHECK(r == 0 && v == want, "size '%s' = %llu (got %llu, %s)", s, (unsigned long long)want,
	      (unsigned long long)v, r ? why : "ok");
}

static void size_bad(const char *s, const char *reason)
{
	uint64_t v = 12345;
	const char *why = NULL;
	int r = parse_size(s, &v, &why);
	CHECK(r < 0 && why && strstr(why, reason) && v == 12345, "size '%s' refused: %s (got %s)", s,
	      reason, why ? why : "accepted");
}

static void duration_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	const char *why = NULL;
	int r = parse_duration_ms(s, &v, &why);
	CHECK(r == 0 && v == want, "duration '%s' = %llums (got %llu, %s)", s, (unsigned long long)want,
	      (unsigned long long)v, r ? why : "ok");
}

static void duration_bad(const char *s, const char *reason)
{
	uint64_t v = 12345;
	const char *why = NULL;
	int r = parse_duration_ms(s, &v, &why);
	CHECK(r < 0 && why && strstr(why, reason) && v == 12345, "duration '%s' refused: %s (got %s)", s,
	      reason, why ? why : "accepted");
}

static void cpu_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	const char *why = NULL;
	int r = parse_cpu_millis(s, &v, &why);
	CHECK(r == 0 && v == want, "cpu '%s' = %llum (got %llu, %s)", s, (unsigned long long)want,
	      (unsigned long long)v, r ? why : "ok");
}

static void cpu_bad(const char *s, const char *reason)
{
	uint64_t v = 12345;
	const char *why = NULL;
	int r = parse_cpu_millis(s, &v, &why);
	CHECK(r < 0 && why && strstr(why, reason) && v == 12345, "cpu '%s' refused: %s (got %s)", s,
	      reason, why ? why : "accepted");
}

int main(void)
{
	/* every suffix is binary, as in Docker and cgroup files */
	size_ok("0", 0);
	size_ok("1048576", 1048576);
	size_ok("512B", 512);
	size_ok("64k", 64 << 10);
	size_ok("64K", 64 << 10);
	size_ok("64KiB", 64 << 10);
	size_ok("64kb", 64 << 10);
	size_ok("256M", 256ull << 20);
	size_ok("256Mi", 256ull << 20);
	size_ok("1G", 1ull << 30);
	size_ok("4Gi", 4ull << 30);
	size_ok("1g", 1ull << 30);
	size_ok("2T", 2ull << 40);
	size_ok("1P", 1ull << 50);
	size_ok("1.5G", 1610612736);
	size_ok("0.5K", 512);
	size_ok("1.25Mi", 1310720);
	size_ok("15P", 15ull << 50);
	size_ok("18446744073709551615", UINT64_MAX);

	size_bad("", "empty");
	size_bad("-3G", "negative");
	size_bad("-0", "negative");
	size_bad("+3G", "invalid");
	size_bad("abc", "invalid");
	size_bad("G", "invalid");
	size_bad("3X", "invalid");
	size_bad("3GG", "invalid");
	size_bad("3 G", "invalid");
	size_bad(" 3G", "invalid");
	size_bad("3G ", "invalid");
	size_bad("1.", "invalid");
	size_bad(".5G", "invalid");
	size_bad("1e9", "invalid");
	size_bad("0x10", "invalid");
	size_bad("16384P", "too large");
	size_bad("18446744073709551616", "too large");
	size_bad("99999999999999999999999", "too large");
	size_bad("1.5", "fraction of a byte");
	size_bad("1.3K", "fraction of a byte");
	size_bad("0.0000000000000000000001K", "fraction of a byte");

	/* a bare number is seconds (timeout_seconds) */
	duration_ok("30", 30000);
	duration_ok("0", 0);
	duration_ok("1.5", 1500);
	duration_ok("30s", 30000);
	duration_ok("500ms", 500);
	duration_ok("1.5s", 1500);
	duration_ok("5m", 300000);
	duration_ok("1h", 3600000);
	duration_ok("2d", 172800000);
	duration_ok("1h30m", 5400000);
	duration_ok("1m30s250ms", 90250);
	duration_ok("0.25m", 15000);

	duration_bad("", "empty");
	duration_bad("-5s", "negative");
	duration_bad("5x", "invalid");
	duration_bad("s", "invalid");
	duration_bad("5 s", "invalid");
	duration_bad("30s5", "invalid");
	duration_bad("1h30", "invalid");
	duration_bad("0.5ms", "finer than 1ms");
	duration_bad("1.0001s", "finer than 1ms");
	duration_bad("99999999999999999999", "too large");
	duration_bad("18446744073709551615d", "too large");
	duration_bad("9223372036854775807ms9223372036854775807ms2ms", "too large");

	cpu_ok("2", 2000);
	cpu_ok("0.5", 500);
	cpu_ok("500m", 500);
	cpu_ok("1m", 1);
	cpu_ok("0.001", 1);
	cpu_ok("1.2500", 1250);
	cpu_ok("1024", 1024000);
	cpu_ok("1024000m", 1024000);

	cpu_bad("", "empty");
	cpu_bad("0", "zero CPU");
	cpu_bad("0m", "zero CPU");
	cpu_bad("0.0", "zero CPU");
	cpu_bad("-1", "negative");
	cpu_bad("1025", "over 1024");
	cpu_bad("1024001m", "over 1024");
	cpu_bad("99999999999999999999", "over 1024");
	cpu_bad("0.0005", "finer than 1m");
	cpu_bad("1.5m", "finer than 1m");
	cpu_bad("2 cpus", "invalid");
	cpu_bad("2c", "invalid");
	cpu_bad("m", "invalid");
	cpu_bad("half", "invalid");
	return check_done();
}
