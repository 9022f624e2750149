/* bench/gw_origin: the loopback origin servers bench/gateway measures the
 * egress gateway (and tinyproxy, its peer) against. One process, one
 * epoll loop, three listeners on 127.0.0.1 with ports the kernel picks:
 *
 *   http  a small fixed "200 OK" per request head; keep-alive unless the
 *         request is HTTP/1.0 without "Connection: keep-alive" or says
 *         "Connection: close" (tinyproxy's upstream requests do).
 *   bulk  after a request head: a 200 with Content-Length BYTES of zeros
 *         written from one buffer, then the connection is closed.
 *   echo  every byte read is written back (TCP_NODELAY).
 *
 *   build/bench/gw_origin [--bulk-bytes N] [--max-seconds S]
 *
 * Prints "ports HTTP BULK ECHO" on stdout once listening. Ends on SIGTERM or
 * SIGINT, and by itself after S seconds (default 1800): a benchmark that
 * forgets it cannot leave it running.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { K_HTTP, K_BULK, K_ECHO };

struct conn {
	int fd;
	bool listener;
	enum kind kind;
	bool close_after;	/* close once out and bulk_left are sent */
	bool draining;		/* write side shut: read and discard until EOF */
	bool want_out;		/* EPOLLOUT registered */
	size_t in_len;
	char in[16384];
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t bulk_left;
};

static const char http_reply[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";
static const char http_reply_close[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nhello, world\n";

static int ep;
static uint64_t bulk_bytes = 1ULL << 30;
static char zeros[1 << 20];

static void die(const char *what)
{
	fprintf(stderr, "gw_origin: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on(enum kind kind, struct conn **out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	socklen_t len = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die("getsockname");
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		die("calloc");
	c->fd = fd;
	c->listener = true;
	c->kind = kind;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
	*out = c;
	return ntohs(a.sin_port);
}

static void conn_close(struct conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	free(c);
}

static void set_out_interest(struct conn *c, bool want)
{
	if (c->want_out == want)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = c };
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want;
}

static void queue(struct conn *c, const char *p, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *q = realloc(c->out, cap);
		if (!q)
			die("realloc");
		c->out = q;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

/* Sends what is pending. Returns false when the connection was closed. */
static bool flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				set_out_interest(c, true);
				return true;
			}
			conn_close(c);
			return false;
		}
		c->out_off += (size_t)w;
	}
	while (c->bulk_left > 0) {
		size_t n = c->bulk_left < sizeof zeros ? (size_t)c->bulk_left : sizeof zeros;
		ssize_t w = send(c->fd, zeros, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				set_out_interest(c, true);
				return true;
			}
			conn_close(c);
			return false;
		}
		c->bulk_left -= (uint64_t)w;
	}
	set_out_interest(c, false);
	if (c->close_after && !c->draining) {
		/* Not close(): unread request bytes would turn it into a RST that
		 * can cut the response short. Read until the client closes. */
		shutdown(c->fd, SHUT_WR);
		c->draining = true;
	}
	return true;
}

static const char *find_head_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return p + i + 4;
	return NULL;
}

/* Does the request head (without its blank line) ask for the connection
 * to be closed after the response? */
static bool wants_close(const char *head, size_t n)
{
	const char *eol = memchr(head, '\n', n);
	bool http10 = eol && eol - head >= 9 && memcmp(eol - 9, "HTTP/1.0", 8) == 0;
	bool ka = false, cl = false;
	for (const char *p = eol ? eol + 1 : head + n; p < head + n;) {
		const char *e = memchr(p, '\n', (size_t)(head + n - p));
		if (!e)
			e = head + n;
		size_t len = (size_t)(e - p);
		if (len > 11 && (strncasecmp(p, "connection:", 11) == 0 ||
				 (len > 17 && strncasecmp(p, "proxy-connection:", 17) == 0))) {
			char v[128];
			size_t vl = len < sizeof v - 1 ? len : sizeof v - 1;
			memcpy(v, p, vl);
			v[vl] = '\0';
			if (strcasestr(v, "close"))
				cl = true;
			if (strcasestr(v, "keep-alive"))
				ka = true;
		}
		p = e + 1;
	}
	return cl || (http10 && !ka);
}

static void on_read(struct conn *c)
{
	if (c->kind == K_ECHO && !c->draining) {
		if (c->out_off < c->out_len)
			return; /* wait until the previous echo is out */
		char buf[65536];
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (r > 0) {
			queue(c, buf, (size_t)r);
			flush(c);
		}
		return;
	}
	if (c->draining) {
		char buf[65536];
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	if (c->in_len == sizeof c->in) {
		conn_close(c); /* a head larger than the buffer: not from our clients */
		return;
	}
	ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (r < 0)
		return;
	c->in_len += (size_t)r;
	size_t used = 0;
	const char *end;
	while (!c->close_after && (end = find_head_end(c->in + used, c->in_len - used)) != NULL) {
		size_t hl = (size_t)(end - (c->in + used));
		bool close_it = wants_close(c->in + used, hl - 2);
		if (c->kind == K_HTTP) {
			if (close_it) {
				queue(c, http_reply_close, sizeof http_reply_close - 1);
				c->close_after = true;
			} else {
				queue(c, http_reply, sizeof http_reply - 1);
			}
		} else {
			char h[160];
			int n = snprintf(h, sizeof h,
					 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
					 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
					 (unsigned long long)bulk_bytes);
			queue(c, h, (size_t)n);
			c->bulk_left = bulk_bytes;
			c->close_after = true;
		}
		used += hl;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	flush(c);
}

static void on_accept(struct conn *l)
{
	for (int i = 0; i < 256; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE: the next round tries again */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c)
			die("calloc");
		c->fd = fd;
		c->kind = l->kind;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
}

int main(int argc, char **argv)
{
	long max_seconds = 1800;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bulk-bytes") == 0 && i + 1 < argc)
			bulk_bytes = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
			max_seconds = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: gw_origin [--bulk-bytes N] [--max-seconds S]\n");
			return 2;
		}
	}
	alarm(max_seconds > 0 ? (unsigned)max_seconds : 1800u); /* SIGALRM ends it */
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct conn *lh, *lb, *le;
	int ph = listen_on(K_HTTP, &lh), pb = listen_on(K_BULK, &lb), pe = listen_on(K_ECHO, &le);
	printf("ports %d %d %d\n", ph, pb, pe);
	fflush(stdout);

	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->listener) {
				on_accept(c);
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				if (!flush(c))
					continue;
				/* An echo connection that was waiting to write may read again. */
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_read(c);
		}
	}
}
