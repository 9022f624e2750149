/* What the sandbox prints to a terminal (termfilter.c): its control
 * sequences are the terminal's commands, not text. OSC 52 writes the
 * clipboard (the user's next paste runs the command's text), others set
 * the window title and read it back into the input, query the terminal
 * (answers arrive as typed input), move the cursor over what was printed
 * to hide it, switch character sets. The filter lets text and colours
 * (SGR: ESC [ digits ; : m) through and shows every other sequence as
 * text: ESC as "^[", other C0 controls as ^X, UTF-8 encoded C1 controls
 * (U+0080..U+009F, which some terminals obey) as U+FFFD. Tab, newline,
 * carriage return, backspace, bell, form and vertical feed pass.
 *
 * Streaming: bytes go in as they arrive, in pieces of any size; a sequence
 * cut between pieces is held (at most TERMFILTER_HOLD bytes) until it can be
 * judged, and let go by termfilter_finish. Fuzzed (fuzz/fuzz_term.c). */
#ifndef AIRLOCK_TERMFILTER_H
#define AIRLOCK_TERMFILTER_H

#include <stddef.h>

#define TERMFILTER_HOLD 32 /* a colour sequence longer than this is shown as text */

struct termfilter {
	int state;
	char held[TERMFILTER_HOLD];
	size_t n_held;
};

typedef void (*termfilter_emit)(void *arg, const char *p, size_t n);

void termfilter_feed(struct termfilter *t, const char *p, size_t n, termfilter_emit emit, void *arg);
void termfilter_finish(struct termfilter *t, termfilter_emit emit, void *arg);

#endif
