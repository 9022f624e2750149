/* json_write_string: every byte of command lines, paths and error text that
 * reaches the run report must come out as valid JSON. */
#include "check.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static char *render(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_write_string(f, s);
	fclose(f);
	return buf;
}

static void expect(const char *in, const char *want, const char *what)
{
	char *got = render(in);
	CHECK(strcmp(got, want) == 0, "%s: got %s, want %s", what, got, want);
	free(got);
}

/* RFC 4648's test vectors, and a byte above 0x7f */
static void test_base64(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "\xff\xfe", "//4=" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[16];
		size_t n = base64_encode(v[i].in, strlen(v[i].in), out);
		CHECK(n == strlen(v[i].out) && strcmp(out, v[i].out) == 0, "base64 '%s' -> '%s' (got '%s')",
		      v[i].in, v[i].out, out);
	}
}

int main(void)
{
	test_base64();
	expect("plain", "\"plain\"", "plain text is quoted");
	expect("", "\"\"", "empty string");
	expect(NULL, "\"\"", "NULL is the empty string");
	expect("a\"b", "\"a\\\"b\"", "quote is escaped");
	expect("a\\b", "\"a\\\\b\"", "backslash is escaped");
	expect("l1\nl2\tx\r", "\"l1\\nl2\\tx\\r\"", "newline, tab, CR");
	expect("\x01\x1f", "\"\\u0001\\u001f\"", "control bytes become \\u escapes");
	expect("\x7f", "\"\\u007f\"", "DEL is escaped");
	expect("caf\xc3\xa9", "\"caf\xc3\xa9\"", "valid UTF-8 passes through");
	expect("\xf0\x9f\x94\x92", "\"\xf0\x9f\x94\x92\"", "4-byte UTF-8 passes through");
	expect("\xc3", "\"\\u00c3\"", "a truncated sequence is escaped");
	expect("\xc0\xaf", "\"\\u00c0\\u00af\"", "an overlong sequence is escaped");
	expect("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "a UTF-16 surrogate is escaped");
	expect("\xff", "\"\\u00ff\"", "an invalid byte is escaped");
	expect("</script>", "\"</script>\"", "slash needs no escape");
	return check_done();
}
