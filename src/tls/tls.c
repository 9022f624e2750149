/* The TLS module, airlock-tls.so: the per-run CA and both TLS ends of the
 * gateway, on OpenSSL 3. See tls_api.h for the contract; libairlock opens
 * this with dlopen (tls_load.c) so that runs without credentials never pay
 * for loading libssl and libcrypto.
 *
 * Single-threaded like the gateway's event loop: a tls_ca and its leaf
 * cache are not locked. */
#include "tls_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define LEAF_CACHE_MAX 256
#define SESSION_CACHE_MAX 64
/* Cap on validity: certificate times end at 9999-12-31T23:59:59Z. */
#define TIME_MAX_ASN1 253402300799LL

static const unsigned char alpn_http11[] = "\x08http/1.1";
#define ALPN_HTTP11_LEN (sizeof alpn_http11 - 1)

struct leaf {
	char *host;
	X509 *cert;
};

/* A session with an upstream, resumed by the next connection to the same
 * name: its certificate was verified for that name when it was made, and a
 * resumption skips decoding and verifying the chain again (most of what an
 * intercepted connection costs the gateway). */
struct session {
	char *host;
	SSL_SESSION *sess;
};

struct tls_ca {
	EVP_PKEY *key;
	X509 *cert;
	time_t not_before, not_after;
	/* ca_ready: */
	EVP_PKEY *leaf_key; /* one key for all leaves: a keygen per host would cost more than the handshake */
	SSL_CTX *server, *client;
	struct leaf leaves[LEAF_CACHE_MAX];
	size_t n_leaves, evict_next;
	struct session sessions[SESSION_CACHE_MAX];
	size_t n_sessions, sess_evict_next;
};

struct tls_conn {
	SSL *ssl;
	struct tls_ca *ca;
	char host[256];	/* upstream ends: the name its sessions are kept under */
	bool server;
	bool failed; /* a fatal error: OpenSSL forbids SSL_shutdown after one */
};

/* ---- errors -------------------------------------------------------------- */

/* "what: reason of the last OpenSSL error", then the queue is cleared. */
static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	if (reason)
		snprintf(err, errlen, "%s: %s", what, reason);
	else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

/* ---- names --------------------------------------------------------------- */

/* Binary address of an IPv4/IPv6 literal: 4 or 16, 0 if host is not one. */
static size_t ip_literal(const char *host, unsigned char addr[16])
{
	if (inet_pton(AF_INET, host, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, host, addr) == 1)
		return 16;
	return 0;
}

/* A DNS name as certificates carry it: letters, digits, '-', '_', '.',
 * no empty label (a wildcard's "*." is stripped by the caller). */
static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' && s[i + 1] == '.')
			return false;
		if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

static GENERAL_NAME *gn_dns(const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	if (!gn || !s || !ASN1_STRING_set(s, name, (int)strlen(name))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	return gn;
}

/* An iPAddress name: the address alone (a SAN) or address+mask (a name
 * constraint), len bytes. */
static GENERAL_NAME *gn_ip(const unsigned char *bytes, size_t len)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	if (!gn || !s || !ASN1_OCTET_STRING_set(s, bytes, (int)len)) {
		GENERAL_NAME_free(gn);
		ASN1_OCTET_STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	return gn;
}

/* Append a subtree for gn (taken) to *stack, creating it. */
static bool subtree_add(STACK_OF(GENERAL_SUBTREE) **stack, GENERAL_NAME *gn)
{
	GENERAL_SUBTREE *st = gn ? GENERAL_SUBTREE_new() : NULL;
	if (!st) {
		GENERAL_NAME_free(gn);
		return false;
	}
	GENERAL_NAME_free(st->base);
	st->base = gn;
	if (!*stack)
		*stack = sk_GENERAL_SUBTREE_new_null();
	if (!*stack || !sk_GENERAL_SUBTREE_push(*stack, st)) {
		GENERAL_SUBTREE_free(st);
		return false;
	}
	return true;
}

/* The CA's name constraints: each name permitted, and every kind of name
 * that none of them covers excluded, since an absent kind would otherwise
 * be unconstrained (RFC 5280 4.2.1.10): all IPv4, all IPv6, and all DNS
 * names when only literals were given. */
static NAME_CONSTRAINTS *constraints_for(const char *const *names, size_t n, char *err,
					 size_t errlen)
{
	NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
	bool v4 = false, v6 = false, dns = false;
	if (!nc)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		unsigned char am[32];
		size_t alen = name ? ip_literal(name, am) : 0;
		GENERAL_NAME *gn;
		if (alen) {
			memset(am + alen, 0xff, alen); /* /32 or /128 */
			gn = gn_ip(am, 2 * alen);
			v4 |= alen == 4;
			v6 |= alen == 16;
		} else {
			bool wild = name && strncmp(name, "*.", 2) == 0;
			if (!name || !dns_name_ok(wild ? name + 2 : name)) {
				snprintf(err, errlen, "not a host name or IP address: \"%s\"",
					 name ? name : "(null)");
				NAME_CONSTRAINTS_free(nc);
				return NULL;
			}
			/* "*.example.com": any name below example.com, not itself */
			gn = gn_dns(wild ? name + 1 : name);
			dns = true;
		}
		if (!subtree_add(&nc->permittedSubtrees, gn))
			goto oom;
	}
	static const unsigned char any[32]; /* address 0, mask 0 */
	if ((!v4 && !subtree_add(&nc->excludedSubtrees, gn_ip(any, 8))) ||
	    (!v6 && !subtree_add(&nc->excludedSubtrees, gn_ip(any, 32))) ||
	    (!dns && !subtree_add(&nc->excludedSubtrees, gn_dns("")))) /* "" matches every name */
		goto oom;
	return nc;
oom:
	NAME_CONSTRAINTS_free(nc);
	ssl_err(err, errlen, "building the name constraints");
	return NULL;
}

/* ---- certificates -------------------------------------------------------- */

static EVP_PKEY *p256_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Version 3, a random positive 128-bit serial, the validity, the key. */
static X509 *cert_start(const struct tls_ca *ca, EVP_PKEY *key)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	if (!x || !X509_set_version(x, X509_VERSION_3) || RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	serial[0] |= 0x40; /* and 16 bytes long, never zero */
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	if (!ok || !ASN1_TIME_set(X509_getm_notBefore(x), ca->not_before) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), ca->not_after) || !X509_set_pubkey(x, key))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Extensions given as OpenSSL's config strings: fixed values only, never
 * a host name (that would be parsed as syntax). */
static bool ext_add(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	bool ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static bool cn_set(X509_NAME *nm, const char *cn)
{
	return X509_NAME_add_entry_by_NID(nm, NID_commonName, MBSTRING_UTF8,
					  (const unsigned char *)cn, -1, -1, 0);
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	if (b && PEM_write_bio_X509(b, x)) {
		long len = BIO_get_mem_data(b, &data);
		pem = len > 0 ? malloc((size_t)len + 1) : NULL;
		if (pem) {
			memcpy(pem, data, (size_t)len);
			pem[len] = '\0';
		}
	}
	BIO_free(b);
	return pem;
}

static void ca_free(struct tls_ca *ca);

static struct tls_ca *ca_new(const char *const *names, size_t n, const char *label,
			     uint64_t valid_seconds, char **pem, char *err, size_t errlen)
{
	*pem = NULL;
	if (n == 0) {
		snprintf(err, errlen, "a per-run CA needs at least one host name");
		return NULL;
	}
	ERR_clear_error();
	NAME_CONSTRAINTS *nc = constraints_for(names, n, err, errlen);
	if (!nc)
		return NULL;
	struct tls_ca *ca = calloc(1, sizeof *ca);
	if (!ca) {
		NAME_CONSTRAINTS_free(nc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	time_t now = time(NULL);
	ca->not_before = now - 3600;
	ca->not_after = valid_seconds > (uint64_t)(TIME_MAX_ASN1 - now)
				? (time_t)TIME_MAX_ASN1
				: now + (time_t)valid_seconds;

	/* a CN holds 64 characters: a longer label is cut, between characters */
	static const char prefix[] = "airlock per-run CA ";
	char cn[65];
	size_t cut = label ? strlen(label) : 0;
	if (cut > sizeof cn - sizeof prefix) {
		cut = sizeof cn - sizeof prefix;
		while (cut > 0 && ((unsigned char)label[cut] & 0xc0) == 0x80)
			cut--;
	}
	snprintf(cn, sizeof cn, "%s%.*s", prefix, (int)cut, label ? label : "");
	ca->key = p256_key();
	ca->cert = ca->key ? cert_start(ca, ca->key) : NULL;
	X509 *x = ca->cert;
	if (!x || !cn_set(X509_get_subject_name(x), cn) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !ext_add(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !ext_add(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !ext_add(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) ||
	    !X509_sign(x, ca->key, EVP_sha256()) || !(*pem = cert_pem(x))) {
		ssl_err(err, errlen, "creating the per-run CA");
		NAME_CONSTRAINTS_free(nc);
		ca_free(ca);
		return NULL;
	}
	NAME_CONSTRAINTS_free(nc);
	return ca;
}

/* A leaf for host: SAN DNS or IP, serverAuth, signed by the CA. An IP leaf
 * has no CN: OpenSSL checks the CN of a leaf without a DNS SAN against the
 * DNS constraints ("127.0.0.1" looks like a DNS name) and would refuse it;
 * its subject stays empty, so its SAN is critical (RFC 5280 4.2.1.6). So is
 * the SAN of a name too long for a CN (64 bytes). */
static X509 *leaf_make(struct tls_ca *ca, const char *host)
{
	unsigned char addr[16];
	size_t alen = ip_literal(host, addr);
	if (!alen && !dns_name_ok(host))
		return NULL;
	bool with_cn = !alen && strlen(host) <= 64;
	GENERAL_NAMES *san = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = alen ? gn_ip(addr, alen) : gn_dns(host);
	X509 *x = cert_start(ca, ca->leaf_key);
	bool ok = san && gn && sk_GENERAL_NAME_push(san, gn);
	if (!ok)
		GENERAL_NAME_free(gn);
	ok = ok && x && (!with_cn || cn_set(X509_get_subject_name(x), host)) &&
	     X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) &&
	     X509_add1_ext_i2d(x, NID_subject_alt_name, san, !with_cn, X509V3_ADD_DEFAULT) &&
	     ext_add(x, ca->cert, NID_basic_constraints, "CA:FALSE") &&
	     ext_add(x, ca->cert, NID_key_usage, "critical,digitalSignature") &&
	     ext_add(x, ca->cert, NID_ext_key_usage, "serverAuth") &&
	     ext_add(x, ca->cert, NID_authority_key_identifier, "keyid:always") &&
	     X509_sign(x, ca->key, EVP_sha256());
	GENERAL_NAMES_free(san);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The cached leaf for host, made on first use. When the cache is full the
 * oldest entry goes (connections using it hold their own reference). */
static X509 *leaf_for(struct tls_ca *ca, const char *host)
{
	for (size_t i = 0; i < ca->n_leaves; i++)
		if (strcasecmp(ca->leaves[i].host, host) == 0)
			return ca->leaves[i].cert;
	char *h = strdup(host);
	X509 *x = h ? leaf_make(ca, host) : NULL;
	if (!x) {
		free(h);
		return NULL;
	}
	struct leaf *slot;
	if (ca->n_leaves < LEAF_CACHE_MAX) {
		slot = &ca->leaves[ca->n_leaves++];
	} else {
		slot = &ca->leaves[ca->evict_next];
		ca->evict_next = (ca->evict_next + 1) % LEAF_CACHE_MAX;
		free(slot->host);
		X509_free(slot->cert);
	}
	slot->host = h;
	slot->cert = x;
	return x;
}

/* ---- contexts ------------------------------------------------------------ */

/* Only HTTP/1.1 is spoken through the gateway: a client that offers ALPN
 * without it gets no_application_protocol; one that offers none goes on. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
		unsigned len = in[i];
		if (i + 1 + len > inlen)
			break;
		if (len == ALPN_HTTP11_LEN - 1 && memcmp(in + i + 1, alpn_http11 + 1, len) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)len;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* What both ends share: TLS 1.2+, writes that may stop half way and resume
 * from a moved buffer (the event loop's buffers move), a TCP EOF without
 * close_notify read as an EOF (servers do that), and no buffers held while
 * a connection is idle. */
static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *c = SSL_CTX_new(method);
	if (!c)
		return NULL;
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION)) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

static struct session *session_slot(struct tls_ca *ca, const char *host, bool make)
{
	for (size_t i = 0; i < ca->n_sessions; i++)
		if (!strcmp(ca->sessions[i].host, host))
			return &ca->sessions[i];
	if (!make)
		return NULL;
	struct session *s;
	if (ca->n_sessions < SESSION_CACHE_MAX) {
		s = &ca->sessions[ca->n_sessions];
		if (!(s->host = strdup(host)))
			return NULL;
		ca->n_sessions++;
		return s;
	}
	s = &ca->sessions[ca->sess_evict_next++ % SESSION_CACHE_MAX];
	char *h = strdup(host);
	if (!h)
		return NULL;
	free(s->host);
	s->host = h;
	SSL_SESSION_free(s->sess);
	s->sess = NULL;
	return s;
}

/* OpenSSL hands over each new session of a verified upstream handshake
 * (with TLS 1.3, as tickets arrive after it). */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_conn *t = SSL_get_app_data(ssl);
	if (!t || !t->ca || !t->host[0] || SSL_get_verify_result(ssl) != X509_V_OK)
		return 0;
	struct session *s = session_slot(t->ca, t->host, true);
	if (!s)
		return 0;
	SSL_SESSION_free(s->sess);
	s->sess = sess;
	return 1; /* ours now */
}

static int ca_ready(struct tls_ca *ca, char *err, size_t errlen)
{
	if (ca->leaf_key) {
		snprintf(err, errlen, "ca_ready was already called for this CA");
		return -1;
	}
	ERR_clear_error();
	ca->leaf_key = p256_key();
	if (!ca->leaf_key) {
		ssl_err(err, errlen, "creating the leaf key");
		return -1;
	}
	ca->server = ctx_new(TLS_server_method());
	/* Each run's clients connect once or a few times: resumption would
	 * only keep state around. */
	if (!ca->server || !SSL_CTX_set_num_tickets(ca->server, 0)) {
		ssl_err(err, errlen, "creating the server TLS context");
		return -1;
	}
	SSL_CTX_set_options(ca->server, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ca->server, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(ca->server, alpn_select, NULL);

	ca->client = ctx_new(TLS_client_method());
	if (!ca->client) {
		ssl_err(err, errlen, "creating the client TLS context");
		return -1;
	}
	SSL_CTX_set_verify(ca->client, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ca->client, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ca->client, new_session);
	/* set_alpn_protos returns 0 on success */
	if (!SSL_CTX_set_default_verify_paths(ca->client) ||
	    SSL_CTX_set_alpn_protos(ca->client, alpn_http11, ALPN_HTTP11_LEN) != 0) {
		ssl_err(err, errlen, "setting up upstream verification");
		return -1;
	}
	ERR_clear_error(); /* missing default paths leave errors behind */
	return 0;
}

static void ca_free(struct tls_ca *ca)
{
	if (!ca)
		return;
	SSL_CTX_free(ca->server);
	SSL_CTX_free(ca->client);
	for (size_t i = 0; i < ca->n_leaves; i++) {
		free(ca->leaves[i].host);
		X509_free(ca->leaves[i].cert);
	}
	for (size_t i = 0; i < ca->n_sessions; i++) {
		free(ca->sessions[i].host);
		SSL_SESSION_free(ca->sessions[i].sess);
	}
	X509_free(ca->cert);
	EVP_PKEY_free(ca->leaf_key); /* OpenSSL clears key material when freeing */
	EVP_PKEY_free(ca->key);
	free(ca);
}

/* ---- connections --------------------------------------------------------- */

static struct tls_conn *conn_new(SSL_CTX *ctx, int fd, bool server)
{
	struct tls_conn *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->server = server;
	t->ssl = SSL_new(ctx);
	/* SSL_set_fd makes a socket BIO with BIO_NOCLOSE: SSL_free leaves fd open */
	if (!t->ssl || !SSL_set_fd(t->ssl, fd)) {
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	return t;
}

static void conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Both ends: the CA readied (ctx made) and a host that is a name or an
 * address literal (*ip says which). 0, or -1 with err. */
static int usable(const SSL_CTX *ctx, const char *host, bool *ip, char *err, size_t errlen)
{
	unsigned char addr[16];
	bool lit = ip_literal(host, addr) != 0;
	if (!ctx) {
		snprintf(err, errlen, "the per-run CA is not set up to serve");
		return -1;
	}
	if (!lit && !dns_name_ok(host)) {
		snprintf(err, errlen, "not a host name or IP address: \"%s\"", host);
		return -1;
	}
	if (ip)
		*ip = lit;
	return 0;
}

static struct tls_conn *accept_new(struct tls_ca *ca, int fd, const char *host, char *err,
				   size_t errlen)
{
	if (usable(ca->server, host, NULL, err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	X509 *leaf = leaf_for(ca, host);
	if (!leaf) {
		ssl_err(err, errlen, "making a certificate for this host");
		return NULL;
	}
	struct tls_conn *t = conn_new(ca->server, fd, true);
	if (!t || !SSL_use_certificate(t->ssl, leaf) || !SSL_use_PrivateKey(t->ssl, ca->leaf_key)) {
		conn_free(t);
		ssl_err(err, errlen, "setting up TLS towards the client");
		return NULL;
	}
	SSL_set_accept_state(t->ssl);
	return t;
}

static struct tls_conn *connect_new(struct tls_ca *ca, int fd, const char *host, char *err,
				    size_t errlen)
{
	bool ip;
	if (usable(ca->client, host, &ip, err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	struct tls_conn *t = conn_new(ca->client, fd, false);
	bool ok = t != NULL;
	if (ok && ip) {
		/* no SNI for literals (RFC 6066 3); the certificate must carry the IP */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
	} else if (ok) {
		SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(t->ssl, host) && SSL_set1_host(t->ssl, host);
	}
	if (ok) {
		struct session *s = session_slot(ca, host, false);
		t->ca = ca;
		snprintf(t->host, sizeof t->host, "%s", host);
		SSL_set_app_data(t->ssl, t);
		if (s && s->sess)
			ok = SSL_set_session(t->ssl, s->sess);
	}
	if (!ok) {
		conn_free(t);
		ssl_err(err, errlen, "setting up TLS towards the upstream");
		return NULL;
	}
	SSL_set_connect_state(t->ssl);
	return t;
}

/* A received alert that says the client did not accept our certificate. */
static bool cert_alert(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return false;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
		return true;
	}
	return false;
}

static void handshake_err(struct tls_conn *t, int code, int saved_errno, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	long vr = t->server ? X509_V_OK : SSL_get_verify_result(t->ssl);
	const char *peer = t->server ? "the client" : "the upstream";
	if (vr != X509_V_OK)
		snprintf(err, errlen, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	else if (t->server && cert_alert(e))
		snprintf(err, errlen, "the client refused the certificate: %s", reason);
	else if (reason)
		snprintf(err, errlen, "TLS handshake with %s failed: %s", peer, reason);
	else if (code == SSL_ERROR_SYSCALL && saved_errno != 0)
		snprintf(err, errlen, "TLS handshake with %s failed: %s", peer, strerror(saved_errno));
	else
		snprintf(err, errlen, "%s closed the connection during the TLS handshake", peer);
	ERR_clear_error();
}

static int handshake(struct tls_conn *t, char *err, size_t errlen)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(t->ssl);
	int saved_errno = errno;
	if (r == 1)
		return 1;
	int code = SSL_get_error(t->ssl, r);
	switch (code) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	}
	t->failed = code == SSL_ERROR_SYSCALL || code == SSL_ERROR_SSL;
	handshake_err(t, code, saved_errno, err, errlen);
	return -1;
}

/* Map a failed SSL_read_ex/SSL_write_ex. */
static ssize_t io_result(struct tls_conn *t, int r)
{
	int code = SSL_get_error(t->ssl, r);
	switch (code) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SSL:
		/* not expected with SSL_OP_IGNORE_UNEXPECTED_EOF; an EOF all the same */
		if (ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_SSL &&
		    ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			t->failed = true;
			ERR_clear_error();
			return 0;
		}
		/* fall through */
	default:
		t->failed = code == SSL_ERROR_SYSCALL || code == SSL_ERROR_SSL;
		ERR_clear_error();
		return -1;
	}
}

static ssize_t conn_read(struct tls_conn *t, void *buf, size_t n)
{
	size_t got = 0;
	if (n == 0)
		return 0;
	ERR_clear_error();
	int r = SSL_read_ex(t->ssl, buf, n > SSIZE_MAX ? SSIZE_MAX : n, &got);
	return r == 1 ? (ssize_t)got : io_result(t, r);
}

static ssize_t conn_write(struct tls_conn *t, const void *buf, size_t n)
{
	size_t put = 0;
	if (n == 0)
		return 0;
	ERR_clear_error();
	/* a write cannot meet an end of file: the peer closing is an error
	 * here (read as 0, it would look like progress of nothing, forever) */
	int r = SSL_write_ex(t->ssl, buf, n > SSIZE_MAX ? SSIZE_MAX : n, &put);
	if (r == 1)
		return (ssize_t)put;
	ssize_t e = io_result(t, r);
	return e == 0 ? -1 : e;
}

static size_t conn_pending(const struct tls_conn *t)
{
	int n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

static void conn_shutdown(struct tls_conn *t)
{
	if (t->failed || !SSL_is_init_finished(t->ssl))
		return;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl); /* sends close_notify; the peer's is not awaited */
	ERR_clear_error();
}

static const struct tls_api api = {
	.version = AIRLOCK_TLS_API_VERSION,
	.ca_new = ca_new,
	.ca_ready = ca_ready,
	.ca_free = ca_free,
	.accept_new = accept_new,
	.connect_new = connect_new,
	.handshake = handshake,
	.read = conn_read,
	.write = conn_write,
	.pending = conn_pending,
	.shutdown = conn_shutdown,
	.free = conn_free,
};

tls_api_fn airlock_tls_api __attribute__((visibility("default")));

const struct tls_api *airlock_tls_api(void)
{
	return &api;
}
