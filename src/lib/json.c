/* Text encodings. The JSON string writer: the run report and the policy
 * dump are emitted field by field; only strings need care. Valid UTF-8 passes through as is;
 * control bytes and bytes that are not part of a valid UTF-8 sequence become
 * \u00XX escapes, so any input yields valid JSON and nothing is lost silently. */
#include "internal.h"

#include <stdio.h>

/* Length of the valid UTF-8 sequence at p (2..4), or 0. Rejects overlong
 * forms, surrogates and code points above U+10FFFF. */
static int utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
	if (c > 0xf4 || n == 0)
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

void json_write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		int n;
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p >= 0x80 && (n = utf8_len(p)) > 0) {
				fwrite(p, 1, (size_t)n, out);
				p += n - 1;
			} else if (*p < 0x20 || *p >= 0x7f) {
				fprintf(out, "\\u%04x", *p);
			} else {
				fputc(*p, out);
			}
		}
	}
	fputc('"', out);
}

/* Proxy credentials (Basic), test data for the output gate's encodings. */
size_t base64_encode(const void *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}
