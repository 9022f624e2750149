/* Control sequences from the sandbox, neutralised on the way to a terminal
 * (see termfilter.h). Hand-written: a byte loop with three states, on the
 * output path of every run that prints to a terminal. */
#include "termfilter.h"

#include <stdbool.h>
#include <string.h>

enum { TF_TEXT, TF_ESC, TF_CSI, TF_C2 };

static bool passes(unsigned char c)
{
	/* text, and the controls that only move within the line or ring */
	return c >= 0x20 ? c != 0x7f && c != 0x1b && c != 0xc2
			 : c == '\t' || c == '\n' || c == '\r' || c == '\b' || c == '\a' || c == '\f' || c == '\v';
}

/* A held sequence that is not a colour: shown, its ESC as "^[". */
static void show_held(struct termfilter *t, termfilter_emit emit, void *arg)
{
	if (t->n_held) {
		emit(arg, "^[", 2);
		if (t->n_held > 1)
			emit(arg, t->held + 1, t->n_held - 1);
	}
	t->n_held = 0;
	t->state = TF_TEXT;
}

static void show_control(unsigned char c, termfilter_emit emit, void *arg)
{
	char caret[2] = { '^', (char)(c == 0x7f ? '?' : c + '@') };
	emit(arg, caret, 2);
}

void termfilter_feed(struct termfilter *t, const char *p, size_t n, termfilter_emit emit, void *arg)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		switch (t->state) {
		case TF_TEXT: {
			size_t run = i;
			while (run < n && passes((unsigned char)p[run]))
				run++;
			if (run > i) {
				emit(arg, p + i, run - i);
				i = run;
				continue;
			}
			if (c == 0x1b) {
				t->held[0] = (char)c;
				t->n_held = 1;
				t->state = TF_ESC;
			} else if (c == 0xc2) {
				t->state = TF_C2;
			} else {
				show_control(c, emit, arg);
			}
			i++;
			continue;
		}
		case TF_C2:
			t->state = TF_TEXT;
			if (c >= 0x80 && c <= 0x9f) { /* a C1 control, UTF-8 encoded */
				emit(arg, "\xef\xbf\xbd", 3);
				i++;
			} else {
				emit(arg, "\xc2", 1); /* the byte itself is looked at as text */
			}
			continue;
		case TF_ESC:
			if (c == '[') {
				t->held[t->n_held++] = (char)c;
				t->state = TF_CSI;
				i++;
			} else {
				show_held(t, emit, arg); /* OSC, DCS, charset and mode changes...: as text */
			}
			continue;
		case TF_CSI:
			if ((c >= '0' && c <= '9') || c == ';' || c == ':') {
				if (t->n_held == sizeof t->held) {
					show_held(t, emit, arg);
					continue;
				}
				t->held[t->n_held++] = (char)c;
				i++;
			} else if (c == 'm') { /* a colour: the one sequence that passes */
				emit(arg, t->held, t->n_held);
				emit(arg, "m", 1);
				t->n_held = 0;
				t->state = TF_TEXT;
				i++;
			} else {
				show_held(t, emit, arg); /* the byte is looked at as text */
			}
			continue;
		}
	}
}

void termfilter_finish(struct termfilter *t, termfilter_emit emit, void *arg)
{
	if (t->state == TF_C2)
		emit(arg, "\xc2", 1);
	show_held(t, emit, arg);
}
