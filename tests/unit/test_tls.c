/* The TLS module (src/tls/tls.c), loaded as the gateway loads it
 * (tls_load): a per-run CA constrained to "api.test", "*.svc.test" and
 * 127.0.0.1, trusted by the module's own client end through SSL_CERT_FILE
 * (standing in for an upstream's CA), both ends of non-blocking handshakes
 * over socketpairs, data both ways with partial writes and moved buffers,
 * pending bytes, close_notify and a bare EOF, and the certificates the CA
 * must not be able to vouch for: another host, names outside its
 * constraints, another IP address. */
#include "check.h"
#include "internal.h"
#include "tls_api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const struct tls_api *tls;
static struct tls_ca *ca;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- a pair of ends over a socketpair ---------------------------------------- */

struct pair {
	int fd[2];		/* [0] the server's (accept_new), [1] the client's */
	struct tls_conn *t[2];
	int state[2];		/* 0 in progress, 1 done, -1 failed */
	char err[2][256];
};

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		tls->free(p->t[i]);
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	}
}

/* Server end for served_host, client end asking for asked_host, then the
 * handshake driven on both ends in turn until each is done or failed. */
static void pair_open(struct pair *p, const char *served_host, const char *asked_host)
{
	memset(p, 0, sizeof *p);
	p->fd[0] = p->fd[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p->fd) < 0) {
		p->state[0] = p->state[1] = -1;
		return;
	}
	p->t[0] = tls->accept_new(ca, p->fd[0], served_host, p->err[0], sizeof p->err[0]);
	p->t[1] = tls->connect_new(ca, p->fd[1], asked_host, p->err[1], sizeof p->err[1]);
	for (int i = 0; i < 2; i++)
		if (!p->t[i])
			p->state[i] = -1;
	int want[2] = { 0, 0 };
	for (int round = 0; round < 1000 && (!p->state[0] || !p->state[1]); round++) {
		bool progress = false;
		for (int i = 0; i < 2; i++) {
			if (p->state[i])
				continue;
			int r = tls->handshake(p->t[i], p->err[i], sizeof p->err[i]);
			if (r == 1 || r == -1) {
				p->state[i] = r;
				progress = true;
				/* the alert is out: let the other end see the end too */
				if (r == -1)
					shutdown(p->fd[i], SHUT_WR);
			} else {
				progress |= want[i] != r;
				want[i] = r;
			}
		}
		if (progress)
			continue;
		struct pollfd pfd[2];
		for (int i = 0; i < 2; i++)
			pfd[i] = (struct pollfd){ .fd = p->state[i] ? -1 : p->fd[i],
						  .events = want[i] == TLS_WANT_WRITE ? POLLOUT : POLLIN };
		if (poll(pfd, 2, 2000) <= 0)
			break;
		want[0] = want[1] = 0;
	}
	for (int i = 0; i < 2; i++)
		if (!p->state[i]) {
			p->state[i] = -1;
			snprintf(p->err[i], sizeof p->err[i], "(handshake timed out)");
		}
}

/* A handshake that must fail on the client with an error containing `why`. */
static void check_refused(const char *served, const char *asked, const char *why)
{
	struct pair p;
	pair_open(&p, served, asked);
	CHECK(p.state[1] == -1 && strstr(p.err[1], why),
	      "a leaf for %s, the client asking for %s: refused (\"%s\"; server: \"%s\")", served,
	      asked, p.err[1], p.err[0]);
	pair_close(&p);
}

static void check_accepted(const char *host)
{
	struct pair p;
	pair_open(&p, host, host);
	CHECK(p.state[0] == 1 && p.state[1] == 1, "%s: handshake done (client: \"%s\", server: \"%s\")",
	      host, p.err[1], p.err[0]);
	pair_close(&p);
}

/* ---- data --------------------------------------------------------------------- */

static unsigned char pattern_byte(size_t i, unsigned seed)
{
	return (unsigned char)((i * 2654435761u + seed) >> 13);
}

/* n bytes from one end to the other, both non-blocking in this one thread:
 * writes stop half way (partial or TLS_WANT_WRITE) and the retry passes the
 * same bytes from another buffer, as the gateway's moving buffers do.
 * Returns whether all arrived intact; *stalls counts the short writes. */
static bool transfer(struct pair *p, int from, size_t n, unsigned seed, int *stalls)
{
	struct tls_conn *w = p->t[from], *r = p->t[!from];
	unsigned char *src = malloc(n), *moved = malloc(n), *dst = malloc(n + 1);
	size_t sent = 0, got = 0;
	bool intact = src && moved && dst, retry = false;
	for (size_t i = 0; intact && i < n; i++)
		src[i] = pattern_byte(i, seed);
	*stalls = 0;
	for (int round = 0; intact && got < n && round < 100000; round++) {
		bool progress = false;
		if (sent < n) {
			const unsigned char *from_buf = src + sent;
			if (retry) { /* same bytes, another address */
				memcpy(moved + sent, src + sent, n - sent);
				from_buf = moved + sent;
			}
			ssize_t k = tls->write(w, from_buf, n - sent);
			retry = k == TLS_WANT_WRITE;
			if (k > 0) {
				*stalls += (size_t)k < n - sent;
				sent += (size_t)k;
				progress = true;
			} else if (k == TLS_WANT_WRITE) {
				++*stalls;
			} else if (k != TLS_WANT_READ) {
				intact = false;
			}
		}
		for (;;) {
			ssize_t k = tls->read(r, dst + got, n + 1 - got);
			if (k <= 0) {
				intact &= k == TLS_WANT_READ || k == TLS_WANT_WRITE;
				break;
			}
			got += (size_t)k;
			progress = true;
		}
		if (!progress) {
			struct pollfd pfd = { .fd = p->fd[!from], .events = POLLIN };
			if (poll(&pfd, 1, 2000) <= 0)
				intact = false;
		}
	}
	intact = intact && got == n && memcmp(src, dst, n) == 0;
	free(src);
	free(moved);
	free(dst);
	return intact;
}

/* Read until data, EOF or error (waiting at most 2 s for the socket). */
static ssize_t read_wait(struct pair *p, int end, void *buf, size_t n)
{
	for (int i = 0; i < 100; i++) {
		ssize_t k = tls->read(p->t[end], buf, n);
		if (k != TLS_WANT_READ && k != TLS_WANT_WRITE)
			return k;
		struct pollfd pfd = { .fd = p->fd[end], .events = k == TLS_WANT_READ ? POLLIN : POLLOUT };
		if (poll(&pfd, 1, 2000) <= 0)
			break;
	}
	return TLS_WANT_READ;
}

static void test_session(void)
{
	struct pair p;
	double t0 = now_ms();
	pair_open(&p, "api.test", "api.test");
	printf("# one handshake (first leaf for the host included): %.2f ms\n", now_ms() - t0);
	CHECK(p.state[0] == 1 && p.state[1] == 1, "api.test: handshake done (client: \"%s\", server: \"%s\")",
	      p.err[1], p.err[0]);
	if (p.state[0] != 1 || p.state[1] != 1) {
		pair_close(&p);
		return;
	}
	t0 = now_ms();
	check_accepted("api.test");
	printf("# one handshake (cached leaf): %.2f ms\n", now_ms() - t0);

	char buf[256];
	CHECK(tls->write(p.t[1], "GET / HTTP/1.1\r\n\r\n", 18) == 18, "client writes a request");
	ssize_t k = read_wait(&p, 0, buf, sizeof buf);
	CHECK(k == 18 && memcmp(buf, "GET / HTTP/1.1\r\n\r\n", 18) == 0, "server reads it (%zd)", k);

	/* decrypted but unread: readable with nothing left on the socket */
	char msg[100];
	memset(msg, 'x', sizeof msg);
	CHECK(tls->write(p.t[0], msg, sizeof msg) == (ssize_t)sizeof msg, "server writes 100 bytes");
	k = read_wait(&p, 1, buf, 10);
	CHECK(k == 10, "client reads 10 of them (%zd)", k);
	CHECK(tls->pending(p.t[1]) == 90, "pending() = 90 (%zu)", tls->pending(p.t[1]));
	struct pollfd pfd = { .fd = p.fd[1], .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0, "while the socket has nothing to read");
	k = tls->read(p.t[1], buf, sizeof buf);
	CHECK(k == 90 && tls->pending(p.t[1]) == 0, "the rest is read at once (%zd)", k);

	int stalls;
	CHECK(transfer(&p, 1, 1 << 20, 1, &stalls), "1 MiB from client to server, intact");
	CHECK(stalls > 0, "with %d partial writes or TLS_WANT_WRITE", stalls);
	CHECK(transfer(&p, 0, 1 << 20, 2, &stalls), "1 MiB from server to client, intact");
	CHECK(stalls > 0, "with %d partial writes or TLS_WANT_WRITE", stalls);
	CHECK(tls->read(p.t[0], buf, sizeof buf) == TLS_WANT_READ, "nothing more: TLS_WANT_READ");

	tls->shutdown(p.t[1]);
	k = read_wait(&p, 0, buf, sizeof buf);
	CHECK(k == 0, "client's close_notify: the server reads EOF (%zd)", k);

	tls->free(p.t[1]);
	p.t[1] = NULL;
	CHECK(fcntl(p.fd[1], F_GETFD) >= 0, "free() leaves the fd open");
	pair_close(&p);

	/* an upstream that closes TCP without close_notify */
	pair_open(&p, "api.test", "api.test");
	CHECK(p.state[0] == 1 && p.state[1] == 1, "second session: handshake done");
	shutdown(p.fd[0], SHUT_WR);
	k = read_wait(&p, 1, buf, sizeof buf);
	CHECK(k == 0, "a TCP EOF without close_notify reads as EOF (%zd)", k);
	pair_close(&p);
}

static void test_refusals(void)
{
	struct pair p;
	pair_open(&p, "api.test", "other.test");
	CHECK(p.state[1] == -1 && strstr(p.err[1], "hostname mismatch"),
	      "client asking for other.test: \"%s\"", p.err[1]);
	CHECK(p.state[0] == -1 && strstr(p.err[0], "the client refused the certificate"),
	      "server: \"%s\"", p.err[0]);
	pair_close(&p);

	/* outside the constraints: the leaf names the host, the CA may not */
	check_refused("evil.test", "evil.test", "permitted subtree violation");
	check_accepted("x.svc.test");
	check_accepted("a.b.svc.test");
	/* too long for a CN (64): the leaf has only its SAN */
	check_accepted("a-label-of-sixty-three-characters-long-enough-for-no-common-name.svc.test");
	check_refused("svc.test", "svc.test", "permitted subtree violation");
	check_refused("xsvc.test", "xsvc.test", "permitted subtree violation");
	check_accepted("127.0.0.1");
	check_refused("127.0.0.2", "127.0.0.2", "permitted subtree violation");
	check_refused("127.0.0.1", "127.0.0.2", "IP address mismatch");
	check_refused("::1", "::1", "permitted subtree violation");

	char err[256];
	int fd[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0) {
		struct tls_conn *t = tls->accept_new(ca, fd[0], "a,DNS:evil.test", err, sizeof err);
		CHECK(!t && strstr(err, "not a host name"), "accept_new refuses a malformed host: \"%s\"",
		      err);
		tls->free(t);
		t = tls->connect_new(ca, fd[1], "", err, sizeof err);
		CHECK(!t && strstr(err, "not a host name"), "connect_new refuses an empty host: \"%s\"",
		      err);
		tls->free(t);
		close(fd[0]);
		close(fd[1]);
	}
}

/* A CA whose certificate is in a file that SSL_CERT_FILE names (set before
 * ca_ready, which reads it). NULL on failure. */
static struct tls_ca *ca_trusted(const char *const *names, size_t n, const char *label,
				 char path[static 29])
{
	char err[256] = "", *pem = NULL;
	double t0 = now_ms();
	struct tls_ca *c = tls->ca_new(names, n, label, 3600, &pem, err, sizeof err);
	printf("# ca_new: %.2f ms\n", now_ms() - t0);
	CHECK(c && pem && strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0 &&
		      strstr(pem, "-----END CERTIFICATE-----\n"),
	      "ca_new for %s returns a PEM certificate (%s)", label, err);
	if (!c || !pem) {
		free(pem);
		tls->ca_free(c);
		return NULL;
	}
	strcpy(path, "/tmp/airlock-test-tls-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(pem);
	CHECK(fd >= 0 && write(fd, pem, len) == (ssize_t)len, "PEM written to %s", path);
	if (fd >= 0)
		close(fd);
	free(pem);
	setenv("SSL_CERT_FILE", path, 1);
	setenv("SSL_CERT_DIR", "/nonexistent", 1); /* only this CA */
	t0 = now_ms();
	int r = tls->ca_ready(c, err, sizeof err);
	printf("# ca_ready: %.2f ms\n", now_ms() - t0);
	CHECK(r == 0, "ca_ready (%s)", r == 0 ? "" : err);
	if (r < 0) {
		tls->ca_free(c);
		return NULL;
	}
	return c;
}

/* A kind of name the CA was given none of is excluded altogether. */
static void test_exclusions(void)
{
	struct tls_ca *main_ca = ca;
	char path[29];
	static const char *const dns_only[] = { "api.test" };
	ca = ca_trusted(dns_only, 1, "dns-only", path);
	if (ca) {
		check_accepted("api.test");
		check_refused("127.0.0.1", "127.0.0.1", "excluded subtree violation");
		check_refused("::1", "::1", "excluded subtree violation");
		tls->ca_free(ca);
		unlink(path);
	}
	static const char *const ip_only[] = { "::1" };
	ca = ca_trusted(ip_only, 1, "ip-only", path);
	if (ca) {
		check_accepted("::1");
		check_accepted("0:0::1");
		check_refused("api.test", "api.test", "excluded subtree violation");
		/* an IPv4 address: outside the permitted IP subtrees (only ::1) */
		check_refused("127.0.0.1", "127.0.0.1", "permitted subtree violation");
		tls->ca_free(ca);
		unlink(path);
	}
	ca = main_ca;
}

/* More hosts than the leaf cache holds: the oldest go, handshakes go on. */
static void test_cache(void)
{
	bool ok = true;
	for (int i = 0; i < 300 && ok; i++) {
		char host[64];
		snprintf(host, sizeof host, "h%d.svc.test", i);
		struct pair p;
		pair_open(&p, host, host);
		ok = p.state[0] == 1 && p.state[1] == 1;
		if (!ok)
			printf("# %s: client \"%s\", server \"%s\"\n", host, p.err[1], p.err[0]);
		pair_close(&p);
	}
	CHECK(ok, "300 hosts through a cache of 256");
	check_accepted("api.test");
}

static void test_ca_new_inputs(void)
{
	char err[256], *pem = NULL;
	static const char *const bad[][1] = { { "*" }, { "a.*.test" }, { "" }, { "a..test" },
					      { "a b.test" } };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct tls_ca *c = tls->ca_new(bad[i], 1, "bad", 60, &pem, err, sizeof err);
		CHECK(!c && !pem && strstr(err, "not a host name"), "ca_new refuses \"%s\": \"%s\"",
		      bad[i][0], err);
		tls->ca_free(c);
	}
	struct tls_ca *c = tls->ca_new(NULL, 0, "none", 60, &pem, err, sizeof err);
	CHECK(!c && !pem, "ca_new refuses no names: \"%s\"", err);

	/* a label longer than a CN holds, cut inside a two-byte character */
	char label[128];
	memset(label, 'l', 44);
	for (int i = 44; i < 124; i += 2)
		memcpy(label + i, "\xc3\xa9", 2); /* é */
	label[124] = '\0';
	static const char *const one[] = { "api.test" };
	c = tls->ca_new(one, 1, label, UINT64_MAX, &pem, err, sizeof err);
	CHECK(c && pem, "ca_new with a long label and the longest validity (%s)", c ? "" : err);
	free(pem);
	tls->ca_free(c);
	tls->ca_free(NULL);
	tls->free(NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as the gateway does */
	al_error e = { 0 };
	tls = tls_load(&e);
	CHECK(tls != NULL, "tls_load: %s", tls ? "loaded" : e.msg);
	if (!tls)
		return check_done();
	CHECK(tls_load(&e) == tls && tls->version == AIRLOCK_TLS_API_VERSION,
	      "loaded once, API version %u", tls->version);

	static const char *const names[] = { "api.test", "*.svc.test", "127.0.0.1" };
	char path[29];
	ca = ca_trusted(names, 3, "test", path);
	if (ca) {
		test_session();
		test_refusals();
		test_cache();
		test_exclusions();
		tls->ca_free(ca);
		unlink(path);
	}
	test_ca_new_inputs();
	return check_done();
}
