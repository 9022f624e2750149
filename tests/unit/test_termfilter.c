/* termfilter: control sequences shown as text on the way to a terminal,
 * colours kept; the same result whatever the pieces the bytes come in. */
#include "check.h"
#include "termfilter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char b[4096];
	size_t n;
};

static void collect(void *arg, const char *p, size_t n)
{
	struct out *o = arg;
	if (o->n + n <= sizeof o->b) {
		memcpy(o->b + o->n, p, n);
		o->n += n;
	}
}

/* in, fed in pieces of `step` bytes (0: whole), must come out as want */
static void expect_out(const char *what, const char *in, size_t in_len, const char *want, size_t step)
{
	struct termfilter t = { 0 };
	struct out o = { .n = 0 };
	for (size_t i = 0; i < in_len;) {
		size_t k = step && in_len - i > step ? step : in_len - i;
		termfilter_feed(&t, in + i, k, collect, &o);
		i += k;
	}
	termfilter_finish(&t, collect, &o);
	o.b[o.n < sizeof o.b ? o.n : sizeof o.b - 1] = '\0';
	CHECK(o.n == strlen(want) && memcmp(o.b, want, o.n) == 0, "%s (pieces of %zu): '%s' (got '%s')", what, step,
	      check_show(want, 200), check_show(o.b, 200));
}

static void both_ways(const char *what, const char *in, const char *want)
{
	for (size_t step = 0; step <= 3; step++)
		expect_out(what, in, strlen(in), want, step);
}

int main(void)
{
	both_ways("plain text passes", "hello, world\n\ttab\r\n", "hello, world\n\ttab\r\n");
	both_ways("UTF-8 text passes", "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93 \xc2\xa9", "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93 \xc2\xa9");
	both_ways("colours pass", "\033[31mred\033[0m \033[1;38;5;208mo\033[m \033[38:2::1:2:3mx",
		  "\033[31mred\033[0m \033[1;38;5;208mo\033[m \033[38:2::1:2:3mx");
	both_ways("OSC 52 (clipboard) is shown", "a\033]52;c;ZWNobyBwd25lZA==\007b", "a^[]52;c;ZWNobyBwd25lZA==\007b");
	both_ways("a window title set is shown", "\033]0;pwned\033\\", "^[]0;pwned^[\\");
	both_ways("a title report is shown", "\033[21t", "^[[21t");
	both_ways("a status query is shown", "\033[6n", "^[[6n");
	both_ways("cursor movement is shown", "ok\033[1A\033[2K", "ok^[[1A^[[2K");
	both_ways("a private mode is shown", "\033[?25l\033[?1049h", "^[[?25l^[[?1049h");
	both_ways("a DCS string is shown", "\033P+q544e\033\\", "^[P+q544e^[\\");
	both_ways("a terminal reset is shown", "\033c", "^[c");
	both_ways("a charset switch is shown", "\033(0x\016y\017", "^[(0x^Ny^O");
	both_ways("ENQ (answerback) is shown", "\005", "^E");
	both_ways("DEL and NUL are shown", "a\177b", "a^?b");
	expect_out("NUL is shown", "a\0b", 3, "a^@b", 0);
	both_ways("UTF-8 C1 controls (CSI, OSC) are replaced", "\xc2\x9b" "2J\xc2\x9d" "0;t", "\xef\xbf\xbd" "2J\xef\xbf\xbd" "0;t");
	both_ways("an ESC at the end is shown", "end\033", "end^[");
	both_ways("a colour cut at the end is shown", "x\033[31", "x^[[31");
	both_ways("a lone 0xc2 at the end stays", "x\xc2", "x\xc2");
	both_ways("ESC ESC", "\033\033[1m", "^[\033[1m");
	/* a colour longer than the hold is shown, not held without end */
	char longseq[64] = "\033[";
	memset(longseq + 2, '1', 40);
	strcpy(longseq + 42, "m");
	char want[80] = "^[[";
	memset(want + 3, '1', 40);
	strcpy(want + 43, "m");
	both_ways("an over-long colour sequence is shown", longseq, want);
	/* random bytes: never an ESC out that does not start a colour */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		char in[64];
		for (size_t i = 0; i < sizeof in; i++)
			in[i] = (char)(rand() % 4 == 0 ? "\033[m;9]\xc2\x9b"[rand() % 8] : rand() % 256);
		struct termfilter t = { 0 };
		struct out o = { .n = 0 };
		termfilter_feed(&t, in, sizeof in, collect, &o);
		termfilter_finish(&t, collect, &o);
		bool ok = true;
		for (size_t i = 0; i < o.n && ok; i++) {
			if (o.b[i] == '\033') { /* must be ESC [ digits;: m */
				size_t j = i + 1;
				ok = j < o.n && o.b[j] == '[';
				for (j++; ok && j < o.n && strchr("0123456789;:", o.b[j]) && o.b[j]; j++)
					;
				ok = ok && j < o.n && o.b[j] == 'm';
			}
			if ((unsigned char)o.b[i] == 0xc2 && i + 1 < o.n)
				ok = ok && !((unsigned char)o.b[i + 1] >= 0x80 && (unsigned char)o.b[i + 1] <= 0x9f);
		}
		if (!ok) {
			CHECK(false, "random round %d: an escape other than a colour came out", round);
			return check_done();
		}
	}
	CHECK(true, "2000 random rounds: only colours came out as escapes");
	return check_done();
}
