/* bench/cred_origin: the HTTPS origin bench/credentials measures credential
 * injection against. One listener on 127.0.0.1 (a port the kernel picks),
 * one thread per connection, OpenSSL with the certificate and key given
 * (bench/credentials makes a P-256 one for api.test, signed by a test CA).
 *
 *   build/bench/cred_origin --cert FILE --key FILE [--expect-auth VALUE]
 *                           [--max-seconds S]
 *
 * Every request head gets a small fixed 200 with Content-Length; the
 * connection stays open (HTTP/1.1 keep-alive) unless the request says
 * "Connection: close". A request body (Content-Length) is read and dropped.
 * The reply says what Authorization the request carried, so that the client
 * can check the gateway did (or did not) inject it:
 *   X-Auth: match    Authorization equals --expect-auth VALUE
 *   X-Auth: other    an Authorization header with another value
 *   X-Auth: absent   no Authorization header
 *
 * Prints "port PORT" on stdout once listening. Ends on SIGTERM or SIGINT,
 * and by itself after S seconds (default 600): a benchmark that forgets it
 * cannot leave it running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BODY "hello, world\n"
#define HEAD_MAX 16384

static SSL_CTX *ctx;
static const char *expect_auth;

__attribute__((noreturn))
static void die(const char *what)
{
	fprintf(stderr, "cred_origin: %s: %s\n", what, errno ? strerror(errno) : "failed");
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* The value of header name in head[0..len) (a complete head, CRLF lines),
 * with *vlen; NULL if absent. */
static const char *header_value(const char *head, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *end = head + len;
	const char *p = memmem(head, len, "\r\n", 2); /* skip the request line */
	while (p && p + 2 < end) {
		p += 2;
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol || eol == p)
			break;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol;
	}
	return NULL;
}

static bool ssl_write_all(SSL *ssl, const char *p, size_t n)
{
	while (n > 0) {
		size_t w = 0;
		if (SSL_write_ex(ssl, p, n, &w) <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(HEAD_MAX);
	SSL *ssl = SSL_new(ctx);
	if (!buf || !ssl)
		goto out;
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) <= 0)
		goto out;
	size_t have = 0;
	for (;;) {
		/* One request head: through the blank line. */
		char *eoh;
		while (!(eoh = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL)) {
			if (have == HEAD_MAX)
				goto out;
			size_t r = 0;
			if (SSL_read_ex(ssl, buf + have, HEAD_MAX - have, &r) <= 0)
				goto out; /* EOF or error: the client is done */
			have += r;
		}
		size_t hlen = (size_t)(eoh - buf) + 4;
		size_t vlen = 0;
		const char *auth = header_value(buf, hlen, "Authorization", &vlen);
		const char *verdict = !auth ? "absent"
				      : (expect_auth && vlen == strlen(expect_auth) && !memcmp(auth, expect_auth, vlen))
					  ? "match"
					  : "other";
		const char *conn = header_value(buf, hlen, "Connection", &vlen);
		bool close_after = conn && vlen == 5 && strncasecmp(conn, "close", 5) == 0;
		unsigned long long body = 0;
		const char *cl = header_value(buf, hlen, "Content-Length", &vlen);
		if (cl)
			body = strtoull(cl, NULL, 10);
		/* Drop the head, then the body (part of it may be in buf). */
		memmove(buf, buf + hlen, have - hlen);
		have -= hlen;
		while (body > 0) {
			if (have) {
				size_t k = have < body ? have : (size_t)body;
				memmove(buf, buf + k, have - k);
				have -= k;
				body -= k;
				continue;
			}
			size_t r = 0;
			if (SSL_read_ex(ssl, buf, HEAD_MAX, &r) <= 0)
				goto out;
			have = r;
		}
		char reply[256];
		int n = snprintf(reply, sizeof reply,
				 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Auth: %s\r\n"
				 "Content-Length: %zu\r\n%s\r\n" BODY,
				 verdict, sizeof BODY - 1, close_after ? "Connection: close\r\n" : "");
		if (!ssl_write_all(ssl, reply, (size_t)n))
			goto out;
		if (close_after)
			break;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	free(buf);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL;
	unsigned max_seconds = 600;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cert") && i + 1 < argc)
			cert = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--expect-auth") && i + 1 < argc)
			expect_auth = argv[++i];
		else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc)
			max_seconds = (unsigned)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: cred_origin --cert FILE --key FILE [--expect-auth VALUE] [--max-seconds S]\n");
			return 2;
		}
	}
	if (!cert || !key) {
		fprintf(stderr, "cred_origin: --cert and --key are required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(max_seconds);

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		die(cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die(key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		die("key does not match the certificate");

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(lfd, 1024) < 0)
		die("listen");
	socklen_t alen = sizeof a;
	if (getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		die("getsockname");
	printf("port %u\n", ntohs(a.sin_port));
	fflush(stdout);

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
				if (errno == EMFILE || errno == ENFILE)
					usleep(10000);
				continue;
			}
			die("accept");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct timeval tv = { .tv_sec = 30, .tv_usec = 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		pthread_t t;
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
			close(fd);
	}
}
