/* SOCKS5 messages (src/lib/socks5.c): greeting, username/password and
 * request for each address type, each refusal with its code, and the same
 * answer whatever the split of the input into reads. */
#include "check.h"
#include "socks5.h"

#include <string.h>

#define LEN(a) sizeof(a)

static struct socks5_request rq;

/* Every proper prefix needs more; the whole message (and the message
 * with bytes after it) parses to `want`. */
static bool request_splits_ok(const uint8_t *b, size_t len, int want)
{
	uint8_t more[600];
	for (size_t k = 0; k < len; k++)
		if (socks5_parse_request(b, k, &rq) != 0)
			return false;
	memcpy(more, b, len);
	memset(more + len, 0x05, 8);
	return socks5_parse_request(more, len + 8, &rq) == want &&
	       socks5_parse_request(b, len, &rq) == want;
}

static bool request_ok(const uint8_t *b, size_t len, const char *what)
{
	int r = socks5_parse_request(b, len, &rq);
	CHECK(r == (int)len, "request %s accepted (%d)", what, r);
	CHECK(request_splits_ok(b, len, r), "request %s: same answer at every split", what);
	return r == (int)len;
}

static void request_bad(const uint8_t *b, size_t len, int rep, const char *what)
{
	int r = socks5_parse_request(b, len, &rq);
	bool prefixes = true;
	for (size_t k = 0; k < len; k++) {
		int p = socks5_parse_request(b, k, &rq);
		prefixes &= p == 0 || p == -rep;
	}
	CHECK(r == -rep && prefixes, "request refused with %d: %s (got %d)", rep, what, r);
}

static void test_greeting(void)
{
	bool none, up;
	static const uint8_t g1[] = { 5, 1, SOCKS5_AUTH_NONE };
	static const uint8_t g2[] = { 5, 2, SOCKS5_AUTH_NONE, SOCKS5_AUTH_USERPASS, 0xaa };
	static const uint8_t g3[] = { 5, 1, SOCKS5_AUTH_USERPASS };
	static const uint8_t g4[] = { 5, 3, 1, 0x80, 0xff };
	static const uint8_t bad_ver[] = { 4, 1, 0 };
	static const uint8_t no_methods[] = { 5, 0 };

	CHECK(socks5_parse_greeting(g1, LEN(g1), &none, &up) == 3 && none && !up, "greeting: no auth");
	CHECK(socks5_parse_greeting(g2, LEN(g2), &none, &up) == 4 && none && up,
	      "greeting: both, extra byte left");
	CHECK(socks5_parse_greeting(g3, LEN(g3), &none, &up) == 3 && !none && up,
	      "greeting: username/password");
	CHECK(socks5_parse_greeting(g4, LEN(g4), &none, &up) == 5 && !none && !up,
	      "greeting: nothing acceptable");
	bool split = true;
	for (size_t k = 0; k < 4; k++)
		split &= socks5_parse_greeting(g2, k, &none, &up) == 0;
	CHECK(split, "greeting: prefixes need more");
	CHECK(socks5_parse_greeting(bad_ver, LEN(bad_ver), &none, &up) == -1 &&
	      socks5_parse_greeting(bad_ver, 1, &none, &up) == -1, "greeting: version 4 refused at once");
	CHECK(socks5_parse_greeting(no_methods, LEN(no_methods), &none, &up) == -1,
	      "greeting: no methods refused");
}

static void test_userpass(void)
{
	char user[256], pass[256];
	static const uint8_t ok[] = { 1, 4, 'u', 's', 'e', 'r', 6, 's', 'e', 'c', 'r', 'e', 't' };
	CHECK(socks5_parse_userpass(ok, LEN(ok), user, pass) == (int)LEN(ok) &&
	      !strcmp(user, "user") && !strcmp(pass, "secret"), "userpass: parsed");
	bool split = true;
	for (size_t k = 0; k < LEN(ok); k++)
		split &= socks5_parse_userpass(ok, k, user, pass) == 0;
	CHECK(split, "userpass: prefixes need more");

	uint8_t big[2 + 255 + 1 + 255];
	big[0] = 1;
	big[1] = 255;
	memset(big + 2, 'U', 255);
	big[257] = 255;
	memset(big + 258, 'P', 255);
	CHECK(socks5_parse_userpass(big, LEN(big), user, pass) == (int)LEN(big) &&
	      strlen(user) == 255 && strlen(pass) == 255 && user[254] == 'U' && pass[0] == 'P',
	      "userpass: 255 bytes each");

	static const uint8_t ver[] = { 5, 1, 'u', 1, 'p' };
	static const uint8_t no_user[] = { 1, 0, 1, 'p' };
	static const uint8_t no_pass[] = { 1, 1, 'u', 0 };
	static const uint8_t nul_user[] = { 1, 2, 'u', 0, 1, 'p' };
	static const uint8_t nul_pass[] = { 1, 1, 'u', 2, 0, 'p' };
	CHECK(socks5_parse_userpass(ver, LEN(ver), user, pass) == -1, "userpass: version not 1");
	CHECK(socks5_parse_userpass(no_user, LEN(no_user), user, pass) == -1, "userpass: empty name");
	CHECK(socks5_parse_userpass(no_pass, LEN(no_pass), user, pass) == -1, "userpass: empty password");
	CHECK(socks5_parse_userpass(nul_user, LEN(nul_user), user, pass) == -1, "userpass: NUL in name");
	CHECK(socks5_parse_userpass(nul_user, 4, user, pass) == -1, "userpass: NUL seen early");
	CHECK(socks5_parse_userpass(nul_pass, LEN(nul_pass), user, pass) == -1,
	      "userpass: NUL in password");
}

static void test_request(void)
{
	static const uint8_t v4[] = { 5, 1, 0, 1, 93, 184, 216, 34, 0x01, 0xbb };
	if (request_ok(v4, LEN(v4), "IPv4"))
		CHECK(rq.cmd == SOCKS5_CMD_CONNECT && rq.atyp == 1 && rq.host_is_ip &&
		      !strcmp(rq.host, "93.184.216.34") && rq.port == 443, "IPv4 93.184.216.34:443");

	static const uint8_t name[] = { 5, 1, 0, 3, 11, 'E', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'C', 'O', 'M', 0, 80 };
	if (request_ok(name, LEN(name), "domain"))
		CHECK(rq.atyp == 3 && !rq.host_is_ip && !strcmp(rq.host, "example.com") && rq.port == 80,
		      "domain lowercased");

	static const uint8_t dot[] = { 5, 1, 0, 3, 6, 'a', '_', 'b', '-', 'c', '.', 0x1f, 0x90 };
	if (request_ok(dot, LEN(dot), "domain with a trailing dot"))
		CHECK(!strcmp(rq.host, "a_b-c") && rq.port == 8080, "one trailing dot removed");

	static const uint8_t quad[] = { 5, 1, 0, 3, 7, '1', '.', '2', '.', '3', '.', '4', 0, 1 };
	if (request_ok(quad, LEN(quad), "dotted quad as a name"))
		CHECK(!strcmp(rq.host, "1.2.3.4") && rq.atyp == 3, "dotted quad kept as sent");

	static const uint8_t v6[] = { 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff };
	if (request_ok(v6, LEN(v6), "IPv6"))
		CHECK(rq.atyp == 4 && rq.host_is_ip && !strcmp(rq.host, "2001:db8::1") && rq.port == 65535,
		      "IPv6 in inet_ntop form, no brackets");

	static const uint8_t bind[] = { 5, SOCKS5_CMD_BIND, 0, 1, 127, 0, 0, 1, 0, 0 };
	if (request_ok(bind, LEN(bind), "BIND, port 0"))
		CHECK(rq.cmd == SOCKS5_CMD_BIND && rq.port == 0 && !strcmp(rq.host, "127.0.0.1"),
		      "command and port 0 returned as parsed");
	static const uint8_t udp[] = { 5, SOCKS5_CMD_UDP_ASSOCIATE, 0, 1, 0, 0, 0, 0, 0, 53 };
	if (request_ok(udp, LEN(udp), "UDP ASSOCIATE"))
		CHECK(rq.cmd == SOCKS5_CMD_UDP_ASSOCIATE && rq.port == 53, "UDP ASSOCIATE");

	uint8_t longest[4 + 1 + 255 + 2];
	memcpy(longest, (uint8_t[]){ 5, 1, 0, 3, 255 }, 5);
	for (size_t i = 0; i < 255; i++)
		longest[5 + i] = (i % 64 == 63) ? '.' : 'a';
	longest[259] = 'b';
	longest[260] = 0;
	longest[261] = 22;
	if (request_ok(longest, LEN(longest), "255-byte name"))
		CHECK(strlen(rq.host) == 255 && rq.port == 22, "255-byte name kept");

	static const uint8_t ver[] = { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t rsv[] = { 5, 1, 1, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t atyp2[] = { 5, 1, 0, 2, 1, 2, 3, 4, 0, 80 };
	static const uint8_t atyp0[] = { 5, 1, 0, 0 };
	static const uint8_t empty[] = { 5, 1, 0, 3, 0, 0, 80 };
	static const uint8_t nul[] = { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 };
	static const uint8_t space[] = { 5, 1, 0, 3, 3, 'a', ' ', 'b', 0, 80 };
	static const uint8_t colon[] = { 5, 1, 0, 3, 3, ':', ':', '1', 0, 80 };
	static const uint8_t high[] = { 5, 1, 0, 3, 2, 'a', 0xc3, 0, 80 };
	static const uint8_t dots[] = { 5, 1, 0, 3, 4, 'a', '.', '.', 'b', 0, 80 };
	static const uint8_t lead[] = { 5, 1, 0, 3, 2, '.', 'a', 0, 80 };
	static const uint8_t only_dot[] = { 5, 1, 0, 3, 1, '.', 0, 80 };
	static const uint8_t number[] = { 5, 1, 0, 3, 10, '2', '1', '3', '0', '7', '0', '6', '4', '3', '3', 0, 80 };
	static const uint8_t hex[] = { 5, 1, 0, 3, 4, '0', 'x', '7', 'f', 0, 80 };
	static const uint8_t short4[] = { 5, 1, 0, 3, 5, '1', '2', '7', '.', '1', 0, 80 };
	request_bad(ver, LEN(ver), SOCKS5_REP_FAILURE, "version 4");
	request_bad(rsv, LEN(rsv), SOCKS5_REP_FAILURE, "RSV not 0");
	request_bad(atyp2, LEN(atyp2), SOCKS5_REP_ATYP_UNSUPPORTED, "ATYP 2");
	request_bad(atyp0, LEN(atyp0), SOCKS5_REP_ATYP_UNSUPPORTED, "ATYP 0");
	request_bad(empty, LEN(empty), SOCKS5_REP_FAILURE, "empty name");
	request_bad(nul, LEN(nul), SOCKS5_REP_FAILURE, "NUL in name");
	request_bad(space, LEN(space), SOCKS5_REP_FAILURE, "space in name");
	request_bad(colon, LEN(colon), SOCKS5_REP_FAILURE, "IPv6 text as a name");
	request_bad(high, LEN(high), SOCKS5_REP_FAILURE, "non-ASCII name");
	request_bad(dots, LEN(dots), SOCKS5_REP_FAILURE, "empty label");
	request_bad(lead, LEN(lead), SOCKS5_REP_FAILURE, "leading dot");
	request_bad(only_dot, LEN(only_dot), SOCKS5_REP_FAILURE, "only a dot");
	request_bad(number, LEN(number), SOCKS5_REP_FAILURE, "IPv4 as one number");
	request_bad(hex, LEN(hex), SOCKS5_REP_FAILURE, "hex IPv4");
	request_bad(short4, LEN(short4), SOCKS5_REP_FAILURE, "short IPv4");
	CHECK(socks5_parse_request(ver, 1, &rq) == -SOCKS5_REP_FAILURE, "bad version refused at once");
	CHECK(socks5_parse_request(nul, 7, &rq) == -SOCKS5_REP_FAILURE, "NUL refused before the port");
}

static void test_reply(void)
{
	uint8_t out[10];
	memset(out, 0xee, sizeof(out));
	static const uint8_t want[10] = { 5, SOCKS5_REP_NOT_ALLOWED, 0, 1, 0, 0, 0, 0, 0, 0 };
	CHECK(socks5_write_reply(SOCKS5_REP_NOT_ALLOWED, out) == 10 && !memcmp(out, want, 10),
	      "reply: not allowed");
	CHECK(socks5_write_reply(SOCKS5_REP_OK, out) == 10 && out[1] == 0 && out[0] == 5 && out[3] == 1,
	      "reply: ok");
}

int main(void)
{
	test_greeting();
	test_userpass();
	test_request();
	test_reply();
	return check_done();
}
