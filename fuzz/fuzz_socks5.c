/* Fuzz target for the SOCKS5 parsers (src/lib/socks5.c): the input is read
 * as a greeting, a username/password message and a request. Besides never
 * crashing or overrunning: a message parses the same whatever the split of
 * the input into reads (its prefixes need more, a refusal stays the same
 * refusal), it never consumes more than it was given, and what it returns
 * matches the bytes (name characters, address text, port). */
#include "socks5.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define ASSERT(c)                  \
	do {                       \
		if (!(c))          \
			abort();   \
	} while (0)

static void check_greeting(const uint8_t *b, size_t len)
{
	bool none, up, none2, up2;
	int r = socks5_parse_greeting(b, len, &none, &up);
	ASSERT(r >= -1 && (r < 0 || (size_t)r <= len));
	if (r > 0) {
		ASSERT(r == 2 + b[1]);
		ASSERT(socks5_parse_greeting(b, (size_t)r - 1, &none2, &up2) == 0);
		ASSERT(socks5_parse_greeting(b, (size_t)r, &none2, &up2) == r && none == none2 &&
		       up == up2);
		ASSERT(none == (memchr(b + 2, SOCKS5_AUTH_NONE, b[1]) != NULL));
		ASSERT(up == (memchr(b + 2, SOCKS5_AUTH_USERPASS, b[1]) != NULL));
	}
}

static void check_userpass(const uint8_t *b, size_t len)
{
	char user[256], pass[256];
	int r = socks5_parse_userpass(b, len, user, pass);
	ASSERT(r >= -1 && (r < 0 || (size_t)r <= len));
	for (size_t k = 0; k < len && k < (size_t)(r > 0 ? r : 600); k++) {
		int p = socks5_parse_userpass(b, k, user, pass);
		ASSERT(p == 0 || (r < 0 && p == r));
	}
	if (r > 0) {
		ASSERT(socks5_parse_userpass(b, len, user, pass) == r);
		size_t ul = b[1], pl = b[2 + ul];
		ASSERT(strlen(user) == ul && strlen(pass) == pl && (size_t)r == 3 + ul + pl);
		ASSERT(!memcmp(user, b + 2, ul) && !memcmp(pass, b + 3 + ul, pl));
	}
}

static void check_request(const uint8_t *b, size_t len)
{
	struct socks5_request q, q2;
	int r = socks5_parse_request(b, len, &q);
	ASSERT(r >= 0 || r == -SOCKS5_REP_FAILURE || r == -SOCKS5_REP_ATYP_UNSUPPORTED);
	ASSERT(r <= 0 || (size_t)r <= len);
	for (size_t k = 0; k < len && k < (size_t)(r > 0 ? r : 600); k++) {
		int p = socks5_parse_request(b, k, &q2);
		ASSERT(p == 0 || (r < 0 && p == r));
	}
	if (r <= 0)
		return;
	ASSERT(socks5_parse_request(b, (size_t)r, &q2) == r && !strcmp(q.host, q2.host));
	size_t n = strnlen(q.host, sizeof(q.host));
	ASSERT(n > 0 && n < sizeof(q.host));
	ASSERT(q.cmd == b[1] && q.atyp == b[3]);
	ASSERT(q.port == (uint16_t)(b[r - 2] << 8 | b[r - 1]));
	if (q.atyp == 3) {
		ASSERT(!q.host_is_ip && n <= b[4]);
		for (size_t i = 0; i < n; i++) {
			char c = q.host[i];
			ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			       c == '.' || c == '_');
		}
		ASSERT(q.host[0] != '.' && q.host[n - 1] != '.');
	} else {
		uint8_t a[16];
		ASSERT(q.host_is_ip && (q.atyp == 1 || q.atyp == 4));
		ASSERT(inet_pton(q.atyp == 1 ? AF_INET : AF_INET6, q.host, a) == 1);
		ASSERT(!memcmp(a, b + 4, q.atyp == 1 ? 4 : 16));
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size > 4096)
		return 0;
	check_greeting(data, size);
	check_userpass(data, size);
	check_request(data, size);
	uint8_t reply[10];
	ASSERT(socks5_write_reply(size ? data[0] : 0, reply) == 10 && reply[0] == 5);
	return 0;
}
