/* The TLS module: airlock-tls.so (src/tls/tls.c), built on OpenSSL.
 *
 * Only runs that inject credentials terminate TLS, so OpenSSL is not linked
 * into libairlock: loading and relocating libssl and libcrypto would add
 * ~1.5 ms to every start. The supervisor and the gateway process open the
 * module with dlopen (tls_load) when the policy has secrets, and call it
 * through this table. Nothing here knows about HTTP or secrets.
 *
 * Non-blocking throughout: every call that would wait returns TLS_WANT_READ
 * or TLS_WANT_WRITE, and the caller waits for that on the socket.
 */
#ifndef AIRLOCK_TLS_API_H
#define AIRLOCK_TLS_API_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AIRLOCK_TLS_API_VERSION 1
#define AIRLOCK_TLS_MODULE "airlock-tls.so"
#define AIRLOCK_TLS_ENTRY "airlock_tls_api"

#define TLS_WANT_READ (-2)
#define TLS_WANT_WRITE (-3)

struct tls_ca;	 /* the per-run CA: key, certificate, leaf key, leaf cache, contexts */
struct tls_conn; /* one TLS end on a caller's socket */

struct tls_api {
	unsigned version; /* AIRLOCK_TLS_API_VERSION */

	/* A fresh per-run CA: a new P-256 key (in memory only) and a
	 * self-signed certificate, valid from an hour ago for valid_seconds,
	 * basicConstraints critical CA:TRUE pathlen:0, keyUsage critical
	 * keyCertSign+cRLSign, subject "airlock per-run CA <label>", and
	 * critical name constraints that permit only `names` ("api.example.com"
	 * -> DNS subtree "api.example.com"; "*.example.com" -> ".example.com";
	 * an IPv4/IPv6 literal -> that address /32 or /128) and exclude every
	 * other IP address, so the CA cannot vouch for any other host even if
	 * its certificate were trusted elsewhere. *pem = the certificate in PEM
	 * (malloc'd). NULL with err filled on failure. */
	struct tls_ca *(*ca_new)(const char *const *names, size_t n, const char *label,
				 uint64_t valid_seconds, char **pem, char *err, size_t errlen);

	/* In the process that will serve (the gateway), once: the leaf key,
	 * the server context (TLS 1.2+, ALPN "http/1.1" only) and the client
	 * context (TLS 1.2+, ALPN "http/1.1", peer verification against this
	 * host's default trust store: OpenSSL's default paths, which honour
	 * SSL_CERT_FILE and SSL_CERT_DIR). 0, or -1 with err. */
	int (*ca_ready)(struct tls_ca *ca, char *err, size_t errlen);

	/* Wipes and frees the keys. NULL is fine. */
	void (*ca_free)(struct tls_ca *ca);

	/* The end facing the sandbox's client on fd (non-blocking): presents
	 * a certificate for host (DNS SAN, or IP SAN for a literal; CN = host;
	 * serverAuth; signed by ca; made on first use and cached per host).
	 * NULL with err on failure. */
	struct tls_conn *(*accept_new)(struct tls_ca *ca, int fd, const char *host, char *err,
				       size_t errlen);

	/* The end facing the real upstream on fd (non-blocking): SNI = host
	 * (not for IP literals), chain verified against the trust store of
	 * ca_ready, and the certificate must name host (DNS or IP). */
	struct tls_conn *(*connect_new)(struct tls_ca *ca, int fd, const char *host, char *err,
					size_t errlen);

	/* Drive the handshake: 1 = done, TLS_WANT_READ / TLS_WANT_WRITE, or
	 * -1 with err saying why ("certificate verify failed: hostname
	 * mismatch", "the client refused our certificate: unknown ca", ...). */
	int (*handshake)(struct tls_conn *t, char *err, size_t errlen);

	/* > 0 bytes read; 0 = the peer closed (close_notify, or a TCP EOF
	 * without one: servers do that); -1 = error; TLS_WANT_*. */
	ssize_t (*read)(struct tls_conn *t, void *buf, size_t n);

	/* > 0 bytes written (partial writes allowed; a retry after TLS_WANT_*
	 * passes the same bytes, possibly from a moved buffer); -1 = error;
	 * TLS_WANT_*. */
	ssize_t (*write)(struct tls_conn *t, const void *buf, size_t n);

	/* Plaintext already decrypted and waiting: the socket may be empty
	 * while these bytes are readable. */
	size_t (*pending)(const struct tls_conn *t);

	/* Send close_notify, best effort, without waiting. */
	void (*shutdown)(struct tls_conn *t);

	/* Free (the fd stays open: it is the caller's). NULL is fine. */
	void (*free)(struct tls_conn *t);
};

/* The module's one exported symbol. */
typedef const struct tls_api *tls_api_fn(void);

/* libairlock (tls_load.c): open the module once per process, from the
 * directory libairlock was loaded from, else the install's module
 * directory. NULL with err when it cannot be loaded. */
struct al_error;
const struct tls_api *tls_load(struct al_error *err);

#endif
