/* bench/cred_client: the client side of bench/credentials, run inside an
 * airlock sandbox whose only way out is the egress gateway.
 *
 *   cred_client new|keepalive HOST PORT N [PROXY_PORT]
 *
 * Every request goes through an HTTP CONNECT tunnel of the proxy at
 * 127.0.0.1:PROXY_PORT (default 3128, the gateway as the sandbox sees it)
 * to HOST:PORT, then TLS with SNI HOST, the certificate verified (chain and
 * name) against the file in $SSL_CERT_FILE, ALPN http/1.1, and a GET / of
 * HTTP/1.1 whose response (head and Content-Length body) is read whole.
 *
 *   new        N times: connect + CONNECT + 200 + TLS handshake + one GET;
 *              the time of each from connect() to the last byte of the body
 *   keepalive  one tunnel and one TLS session, then N sequential GETs; the
 *              time of each from the write of the request to the last byte
 *
 * WARMUP (5) requests come first and are not counted (the very first one's
 * time is printed: it includes what a run does once, e.g. the gateway
 * minting its leaf certificate for HOST). Prints, one "key value" a line:
 * mode, n, first_us, median_us, p90_us, min_us; for new, the median of
 * each phase: tunnel_median_us (connect + CONNECT + 200), tls_median_us
 * (the handshake), get_median_us (request to last byte); and how the origin
 * saw the Authorization header of every request (its X-Auth reply header):
 * auth_match, auth_other, auth_absent. Exits 1 on any failure, with the
 * reason on stderr; every socket wait has a timeout and alarm() bounds the
 * whole run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define IO_TIMEOUT_S 10
#define WARMUP 5
#define BUF_MAX 16384

static const char *host;
static int port, proxy_port = 3128;
static SSL_CTX *ctx;
static unsigned long auth_match, auth_other, auth_absent;

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cred_client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	unsigned long e;
	char msg[256];
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof msg);
		fprintf(stderr, "  openssl: %s\n", msg);
	}
	exit(1);
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int parse_int(const char *s, int lo, int hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		fail("not a valid %s: %s", what, s);
	return (int)v;
}

/* TCP to the proxy, CONNECT HOST:PORT, its 2xx read through the blank line
 * (byte by byte: nothing of the TLS stream may be consumed here). */
static int open_tunnel(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)proxy_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		fail("connect 127.0.0.1:%d: %s", proxy_port, strerror(errno));
	char req[512];
	int n = snprintf(req, sizeof req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n", host, port, host, port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		fail("sending CONNECT: %s", strerror(errno));
	char head[2048];
	size_t have = 0;
	while (have < 4 || memcmp(head + have - 4, "\r\n\r\n", 4) != 0) {
		if (have + 1 >= sizeof head)
			fail("CONNECT response head too large");
		ssize_t r = recv(fd, head + have, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			head[have] = '\0';
			fail("CONNECT %s:%d: %s before the response head ended (\"%.200s\")", host, port,
			     r == 0 ? "connection closed" : strerror(errno), head);
		}
		have++;
	}
	head[have] = '\0';
	if (strncmp(head, "HTTP/1.", 7) != 0 || head[9] != '2')
		fail("CONNECT %s:%d refused: %.200s", host, port, head);
	return fd;
}

static SSL *tls_start(int fd)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		fail("SSL_new");
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	if (SSL_set1_host(ssl, host) != 1)
		fail("SSL_set1_host");
	if (SSL_connect(ssl) != 1)
		fail("TLS handshake with %s:%d (through the proxy): verify result: %s", host, port,
		     X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
	return ssl;
}

static void ssl_write_all(SSL *ssl, const char *p, size_t n)
{
	while (n > 0) {
		size_t w = 0;
		if (SSL_write_ex(ssl, p, n, &w) <= 0)
			fail("TLS write: error %d", SSL_get_error(ssl, 0));
		p += w;
		n -= w;
	}
}

/* One GET /, its response read whole; the X-Auth header counted. */
static void get(SSL *ssl)
{
	char req[512];
	int n = snprintf(req, sizeof req,
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: cred_client\r\nAccept: */*\r\n\r\n", host, port);
	ssl_write_all(ssl, req, (size_t)n);
	char buf[BUF_MAX];
	size_t have = 0;
	char *eoh;
	while (!(eoh = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL)) {
		if (have == sizeof buf)
			fail("response head too large");
		size_t r = 0;
		if (SSL_read_ex(ssl, buf + have, sizeof buf - have, &r) <= 0)
			fail("TLS read (response head): error %d", SSL_get_error(ssl, 0));
		have += r;
	}
	size_t hlen = (size_t)(eoh - buf) + 4;
	if (hlen < 12 || strncmp(buf, "HTTP/1.1 200", 12) != 0)
		fail("unexpected response: %.*s", (int)(hlen < 200 ? hlen : 200), buf);
	/* Content-Length and X-Auth: scanned line by line in the head. */
	long long body = -1;
	const char *auth = NULL;
	for (char *p = memmem(buf, hlen, "\r\n", 2); p && p + 2 < eoh;) {
		p += 2;
		char *eol = memmem(p, (size_t)(eoh + 2 - p), "\r\n", 2);
		if (!eol)
			break;
		if (!strncasecmp(p, "Content-Length:", 15))
			body = strtoll(p + 15, NULL, 10);
		else if (!strncasecmp(p, "X-Auth:", 7))
			auth = p + 7 + strspn(p + 7, " \t");
		p = eol;
	}
	if (body < 0)
		fail("response without Content-Length");
	if (auth && !strncmp(auth, "match", 5))
		auth_match++;
	else if (auth && !strncmp(auth, "other", 5))
		auth_other++;
	else
		auth_absent++;
	long long left = body - (long long)(have - hlen);
	while (left > 0) {
		size_t r = 0;
		if (SSL_read_ex(ssl, buf, sizeof buf, &r) <= 0)
			fail("TLS read (body): error %d", SSL_get_error(ssl, 0));
		left -= (long long)r;
	}
	if (left < 0)
		fail("more bytes than Content-Length (pipelined?)");
}

static void tls_close(SSL *ssl)
{
	SSL_shutdown(ssl); /* our close_notify; the peer's is not waited for */
	int fd = SSL_get_fd(ssl);
	SSL_free(ssl);
	close(fd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *s, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);
	return s[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6 || (strcmp(argv[1], "new") && strcmp(argv[1], "keepalive"))) {
		fprintf(stderr, "usage: cred_client new|keepalive HOST PORT N [PROXY_PORT]\n");
		return 2;
	}
	bool fresh = !strcmp(argv[1], "new");
	host = argv[2];
	port = parse_int(argv[3], 1, 65535, "port");
	int n = parse_int(argv[4], 1, 10000000, "count");
	if (argc == 6)
		proxy_port = parse_int(argv[5], 1, 65535, "proxy port");
	alarm(600);

	const char *cafile = getenv("SSL_CERT_FILE");
	if (!cafile || !*cafile)
		fail("SSL_CERT_FILE is not set: the trust store to verify %s against", host);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		fail("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		fail("loading the trust store %s", cafile);
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
	/* Every "new" connection is a full handshake: no session is resumed. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

	double *t = malloc(sizeof *t * (size_t)n);
	/* new: the phases of each, connect + CONNECT + 200 / TLS handshake / GET */
	double *ph_tunnel = malloc(sizeof *t * (size_t)n), *ph_tls = malloc(sizeof *t * (size_t)n),
	       *ph_get = malloc(sizeof *t * (size_t)n);
	if (!t || !ph_tunnel || !ph_tls || !ph_get)
		fail("out of memory");
	double first = 0;
	SSL *ka = NULL;
	if (!fresh)
		ka = tls_start(open_tunnel());
	for (int i = -WARMUP; i < n; i++) {
		double t0 = now_us(), t1;
		if (fresh) {
			int fd = open_tunnel();
			double ta = now_us();
			SSL *ssl = tls_start(fd);
			double tb = now_us();
			get(ssl);
			t1 = now_us();
			tls_close(ssl);
			if (i >= 0) {
				ph_tunnel[i] = ta - t0;
				ph_tls[i] = tb - ta;
				ph_get[i] = t1 - tb;
			}
		} else {
			get(ka);
			t1 = now_us();
		}
		if (i == -WARMUP)
			first = t1 - t0;
		if (i >= 0)
			t[i] = t1 - t0;
	}
	if (ka)
		tls_close(ka);
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	printf("mode %s\nn %d\nfirst_us %.1f\nmedian_us %.1f\np90_us %.1f\nmin_us %.1f\n", argv[1], n, first,
	       pct(t, n, 0.5), pct(t, n, 0.9), t[0]);
	if (fresh) {
		qsort(ph_tunnel, (size_t)n, sizeof *t, cmp_double);
		qsort(ph_tls, (size_t)n, sizeof *t, cmp_double);
		qsort(ph_get, (size_t)n, sizeof *t, cmp_double);
		printf("tunnel_median_us %.1f\ntls_median_us %.1f\nget_median_us %.1f\n", pct(ph_tunnel, n, 0.5),
		       pct(ph_tls, n, 0.5), pct(ph_get, n, 0.5));
	}
	printf("auth_match %lu\nauth_other %lu\nauth_absent %lu\n", auth_match, auth_other, auth_absent);
	free(t);
	free(ph_tunnel);
	free(ph_tls);
	free(ph_get);
	SSL_CTX_free(ctx);
	return 0;
}
