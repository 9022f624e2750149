/* SOCKS5 (RFC 1928) and its username/password method (RFC 1929), server
 * side, as the egress gateway meets them: bytes from an adversarial client.
 * Pure functions over a caller's buffer; fuzzed by fuzz/fuzz_socks5.c.
 *
 * Each parser returns the number of bytes it consumed (> 0) when a whole
 * message is there, 0 when more bytes are needed, or a negative value when
 * the message is malformed (see each function).
 */
#ifndef AIRLOCK_SOCKS5_H
#define AIRLOCK_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOCKS5_VERSION 5

/* methods */
#define SOCKS5_AUTH_NONE 0x00
#define SOCKS5_AUTH_USERPASS 0x02
#define SOCKS5_AUTH_NO_ACCEPTABLE 0xff

/* commands */
#define SOCKS5_CMD_CONNECT 1
#define SOCKS5_CMD_BIND 2
#define SOCKS5_CMD_UDP_ASSOCIATE 3

/* reply codes */
#define SOCKS5_REP_OK 0x00
#define SOCKS5_REP_FAILURE 0x01
#define SOCKS5_REP_NOT_ALLOWED 0x02
#define SOCKS5_REP_NET_UNREACHABLE 0x03
#define SOCKS5_REP_HOST_UNREACHABLE 0x04
#define SOCKS5_REP_REFUSED 0x05
#define SOCKS5_REP_TTL_EXPIRED 0x06
#define SOCKS5_REP_CMD_UNSUPPORTED 0x07
#define SOCKS5_REP_ATYP_UNSUPPORTED 0x08

/* Greeting: VER NMETHODS METHODS... Sets *no_auth / *userpass to whether the
 * client offers those methods. Returns -1 when VER is not 5 or NMETHODS is 0. */
int socks5_parse_greeting(const uint8_t *b, size_t len, bool *no_auth, bool *userpass);

/* RFC 1929: VER(1) ULEN UNAME PLEN PASSWD. user and pass are NUL-terminated
 * copies (255 bytes at most each). Returns -1 when VER is not 1, a length is
 * 0, or a name or password holds a NUL byte. */
int socks5_parse_userpass(const uint8_t *b, size_t len, char user[256], char pass[256]);

struct socks5_request {
	uint8_t cmd;
	uint8_t atyp;		/* 1 IPv4, 3 domain name, 4 IPv6 */
	/* The destination as text, NUL-terminated: the domain name as sent
	 * (lowercased, one trailing dot removed), or the address in inet_ntop
	 * form (IPv6 without brackets). */
	char host[256];
	bool host_is_ip;
	uint16_t port;
};

/* Request: VER CMD RSV ATYP DST.ADDR DST.PORT. Returns consumed bytes, 0 for
 * more, or the negated reply code to send before closing:
 *   -SOCKS5_REP_FAILURE         VER not 5, RSV not 0, empty name, a name
 *                               holding NUL or a character outside
 *                               letters, digits, '-', '.', '_'
 *   -SOCKS5_REP_ATYP_UNSUPPORTED  ATYP not 1, 3 or 4
 * The command is returned as parsed; refusing BIND and UDP ASSOCIATE is
 * the caller's decision. Port 0 is returned as is (the caller refuses it). */
int socks5_parse_request(const uint8_t *b, size_t len, struct socks5_request *r);

/* A reply: VER REP RSV ATYP=1 BND.ADDR=0.0.0.0 BND.PORT=0. Writes 10 bytes. */
size_t socks5_write_reply(uint8_t rep, uint8_t out[10]);

#endif
