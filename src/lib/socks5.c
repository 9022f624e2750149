/* SOCKS5 (RFC 1928) and its username/password method (RFC 1929), server
 * side (the contract is in socks5.h).
 *
 * Every length byte is checked against what has arrived before it is
 * used, and a message is refused as soon as its first bad byte is in: the
 * gateway then answers and closes without waiting for a body that a
 * hostile client may never send.
 *
 * Domain names follow the HTTP side's rules (http_parse.c): what the policy
 * matches must be what gets connected to, so a name that the resolver would
 * read as an IPv4 address ("127.1", "0x7f000001") is only taken as the
 * plain dotted quad, and names have no empty labels.
 */
#include "socks5.h"
#include "http_parse.h"

#include <arpa/inet.h>
#include <string.h>

#define RFC1929_VERSION 1

#define ATYP_IPV4 1
#define ATYP_DOMAIN 3
#define ATYP_IPV6 4

int socks5_parse_greeting(const uint8_t *b, size_t len, bool *no_auth, bool *userpass)
{
	*no_auth = *userpass = false;
	if (len < 1)
		return 0;
	if (b[0] != SOCKS5_VERSION)
		return -1;
	if (len < 2)
		return 0;
	if (b[1] == 0)
		return -1;
	size_t n = 2 + (size_t)b[1];
	if (len < n)
		return 0;
	for (size_t i = 2; i < n; i++) {
		*no_auth |= b[i] == SOCKS5_AUTH_NONE;
		*userpass |= b[i] == SOCKS5_AUTH_USERPASS;
	}
	return (int)n;
}

/* One length-prefixed field at b[*pos]: 0 more, -1 bad, 1 copied. */
static int userpass_field(const uint8_t *b, size_t len, size_t *pos, char out[256])
{
	if (len <= *pos)
		return 0;
	size_t n = b[*pos], start = *pos + 1;
	if (n == 0)
		return -1;
	size_t have = len - start < n ? len - start : n;
	/* A NUL would cut the C string short of what the client sent. */
	if (memchr(b + start, 0, have))
		return -1;
	if (have < n)
		return 0;
	memcpy(out, b + start, n);
	out[n] = '\0';
	*pos = start + n;
	return 1;
}

int socks5_parse_userpass(const uint8_t *b, size_t len, char user[256], char pass[256])
{
	size_t pos = 1;
	int r;
	if (len < 1)
		return 0;
	if (b[0] != RFC1929_VERSION)
		return -1;
	if ((r = userpass_field(b, len, &pos, user)) <= 0)
		return r;
	if ((r = userpass_field(b, len, &pos, pass)) <= 0)
		return r;
	return (int)pos;
}

static bool is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int socks5_parse_request(const uint8_t *b, size_t len, struct socks5_request *r)
{
	size_t addr_len;
	memset(r, 0, sizeof(*r));
	if (len >= 1 && b[0] != SOCKS5_VERSION)
		return -SOCKS5_REP_FAILURE;
	if (len >= 3 && b[2] != 0)
		return -SOCKS5_REP_FAILURE;
	if (len < 4)
		return 0;
	switch (b[3]) {
	case ATYP_IPV4:
		addr_len = 4;
		break;
	case ATYP_IPV6:
		addr_len = 16;
		break;
	case ATYP_DOMAIN:
		if (len < 5)
			return 0;
		if (b[4] == 0)
			return -SOCKS5_REP_FAILURE;
		addr_len = 1 + (size_t)b[4];
		break;
	default:
		return -SOCKS5_REP_ATYP_UNSUPPORTED;
	}
	size_t total = 4 + addr_len + 2;
	if (len < total) {
		if (b[3] == ATYP_DOMAIN) {
			for (size_t i = 5; i < len && i < 4 + addr_len; i++)
				if (!is_name_char(b[i]))
					return -SOCKS5_REP_FAILURE;
		}
		return 0;
	}
	r->cmd = b[1];
	r->atyp = b[3];
	const uint8_t *a = b + 4;
	if (r->atyp == ATYP_DOMAIN) {
		if (!http_copy_hostname((const char *)a + 1, a[0], r->host))
			return -SOCKS5_REP_FAILURE;
	} else {
		inet_ntop(r->atyp == ATYP_IPV4 ? AF_INET : AF_INET6, a, r->host, sizeof(r->host));
		r->host_is_ip = true;
	}
	r->port = (uint16_t)(b[total - 2] << 8 | b[total - 1]);
	return (int)total;
}

size_t socks5_write_reply(uint8_t rep, uint8_t out[10])
{
	static const uint8_t tmpl[10] = { SOCKS5_VERSION, 0, 0, ATYP_IPV4 };
	memcpy(out, tmpl, sizeof(tmpl));
	out[1] = rep;
	return sizeof(tmpl);
}
