/* bench/gw_client: the client side of bench/gateway. Every socket is on
 * 127.0.0.1, every wait has a timeout, and the whole run is bounded by
 * alarm(): a proxy that never answers makes it fail, not hang.
 *
 *   gw_client freeport
 *       print a TCP port free on 127.0.0.1
 *   gw_client waitport PORT SECONDS
 *       exit 0 once PORT accepts a connection, 1 after SECONDS
 *   gw_client bulk ORIGIN_PORT BYTES [PROXY_PORT connect|get]
 *       one GET of the bulk origin, direct or through the proxy (a CONNECT
 *       tunnel, or an absolute-URI GET); checks BYTES of body arrived and
 *       prints "bulk_mbps X" (MB = 10^6 bytes, connect to last byte)
 *   gw_client latency ECHO_PORT PROXY_PORT N
 *       N times each, interleaved: (a) connect + 1-byte echo round trip to
 *       the echo server; (b) connect to the proxy + CONNECT + its 200 +
 *       1-byte echo round trip. Prints median and p90 of each (ms) and the
 *       difference of the medians.
 *   gw_client tunnels ECHO_PORT PROXY_PORT N PID
 *       open N CONNECT tunnels to the echo server, check each with one echo
 *       byte, then once more all together while all are open; prints VmRSS
 *       and VmHWM of PID (and the sum over its descendants, if any), then
 *       closes them all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S 10
#define IO_TIMEOUT_STR "10"

static int tunnel_index = -1; /* which tunnel is being opened, for messages */

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gw_client: ");
	if (tunnel_index >= 0)
		fprintf(stderr, "tunnel %d (after %d open): ", tunnel_index + 1, tunnel_index);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		fail("not a port: %s", s);
	return (int)v;
}

/* A blocking TCP socket to 127.0.0.1:port with I/O timeouts and
 * TCP_NODELAY; -1 with errno on failure. */
static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int dial_or_die(int port)
{
	int fd = dial(port);
	if (fd < 0)
		fail("connect 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fail("send: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Reads a response head (through the blank line) into buf, NUL-terminated.
 * Bytes read past the head are left at buf + head length; returns the total
 * read, *head_len set. */
static size_t read_head(int fd, char *buf, size_t cap, size_t *head_len, const char *who)
{
	size_t n = 0;
	for (;;) {
		if (n + 1 >= cap)
			fail("%s: response head too large", who);
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[n] = '\0';
			fprintf(stderr, "gw_client: %s: %s before a complete response head (got %zu bytes: \"%.200s\")\n",
				who, r == 0 ? "connection closed" : strerror(errno), n, buf);
			exit(1);
		}
		n += (size_t)r;
		buf[n] = '\0';
		char *e = strstr(buf, "\r\n\r\n");
		if (e) {
			*head_len = (size_t)(e + 4 - buf);
			return n;
		}
	}
}

static void expect_200(const char *buf, const char *who)
{
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0) {
		const char *eol = strstr(buf, "\r\n");
		int len = eol ? (int)(eol - buf) : (int)strlen(buf);
		fprintf(stderr, "gw_client: %s: expected a 200, got \"%.*s\"\n", who, len, buf);
		exit(1);
	}
}

/* Sends CONNECT 127.0.0.1:target through fd and reads the 200. */
static void connect_tunnel(int fd, int target)
{
	char req[128], buf[4096];
	int n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
			 target, target);
	send_all(fd, req, (size_t)n);
	size_t hl;
	size_t got = read_head(fd, buf, sizeof buf, &hl, "CONNECT");
	expect_200(buf, "CONNECT");
	if (got != hl)
		fail("CONNECT: bytes after the 200 before anything was sent");
}

static void echo_byte(int fd, char b)
{
	send_all(fd, &b, 1);
	char r;
	for (;;) {
		ssize_t n = recv(fd, &r, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			fail("echo: %s", n == 0 ? "connection closed" : strerror(errno));
		break;
	}
	if (r != b)
		fail("echo: a different byte came back");
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(double *v, int n, double p) /* v sorted */
{
	double idx = p * (n - 1);
	int lo = (int)idx;
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (v[lo + 1] - v[lo]) * (idx - lo);
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return;
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmd_freeport(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		fail("freeport: %s", strerror(errno));
	printf("%d\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int cmd_waitport(int port, double seconds)
{
	double end = now_s() + seconds;
	do {
		int fd = dial(port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(50 * 1000);
	} while (now_s() < end);
	return 1;
}

static int cmd_bulk(int origin, unsigned long long bytes, int proxy, const char *mode)
{
	static char buf[1 << 18];
	char req[256];
	double t0 = now_s();
	int fd;
	int n;
	if (proxy == 0) {
		fd = dial_or_die(origin);
		n = snprintf(req, sizeof req, "GET /bulk HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", origin);
	} else if (strcmp(mode, "connect") == 0) {
		fd = dial_or_die(proxy);
		connect_tunnel(fd, origin);
		n = snprintf(req, sizeof req, "GET /bulk HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", origin);
	} else if (strcmp(mode, "get") == 0) {
		fd = dial_or_die(proxy);
		n = snprintf(req, sizeof req,
			     "GET http://127.0.0.1:%d/bulk HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
			     origin, origin);
	} else {
		fail("bulk: mode is connect or get, not %s", mode);
	}
	send_all(fd, req, (size_t)n);
	size_t hl;
	size_t got = read_head(fd, buf, sizeof buf, &hl, "bulk");
	expect_200(buf, "bulk");
	/* Content-Length if present; else the body runs to the close. */
	unsigned long long clen = 0;
	bool have_len = false;
	for (char *p = buf; p < buf + hl; p++) {
		if ((p == buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
			clen = strtoull(p + 15, NULL, 10);
			have_len = true;
		}
		if ((p == buf || p[-1] == '\n') && strncasecmp(p, "transfer-encoding:", 18) == 0)
			fail("bulk: a chunked response; this client counts plain bodies only");
	}
	unsigned long long body = got - hl;
	for (;;) {
		if (have_len && body >= clen)
			break;
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("bulk: recv after %llu of %llu body bytes: %s", body, have_len ? clen : bytes,
			     errno == EAGAIN ? "nothing for " IO_TIMEOUT_STR " s" : strerror(errno));
		if (r == 0)
			break;
		body += (unsigned long long)r;
	}
	double t = now_s() - t0;
	close(fd);
	if (body != bytes) {
		fprintf(stderr, "gw_client: bulk: %llu body bytes arrived, %llu expected\n", body, bytes);
		return 1;
	}
	printf("bulk_bytes %llu\nbulk_seconds %.4f\nbulk_mbps %.1f\n", body, t, (double)body / t / 1e6);
	return 0;
}

static int cmd_latency(int echo, int proxy, int n)
{
	double *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
	if (!a || !b)
		fail("calloc");
	int warm = n / 20 < 50 ? n / 20 : 50;
	for (int i = -warm; i < n; i++) {
		double t0 = now_s();
		int fd = dial_or_die(echo);
		echo_byte(fd, 'a');
		double t1 = now_s();
		close(fd);
		double t2 = now_s();
		fd = dial_or_die(proxy);
		connect_tunnel(fd, echo);
		echo_byte(fd, 'b');
		double t3 = now_s();
		close(fd);
		if (i >= 0) {
			a[i] = (t1 - t0) * 1e3;
			b[i] = (t3 - t2) * 1e3;
		}
	}
	qsort(a, (size_t)n, sizeof *a, cmp_d);
	qsort(b, (size_t)n, sizeof *b, cmp_d);
	double ma = pct(a, n, 0.5), mb = pct(b, n, 0.5);
	printf("direct_median_ms %.4f\ndirect_p90_ms %.4f\n", ma, pct(a, n, 0.9));
	printf("proxy_median_ms %.4f\nproxy_p90_ms %.4f\n", mb, pct(b, n, 0.9));
	printf("median_diff_ms %.4f\n", mb - ma);
	free(a);
	free(b);
	return 0;
}

/* VmRSS and VmHWM of pid, in KiB; false if it is gone. */
static bool vm_of(int pid, long *rss, long *hwm)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	*rss = *hwm = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return true;
}

/* Adds the VmRSS and VmHWM of pid's descendants (through every thread's
 * children list); returns how many there were. Depth-bounded. */
static int add_descendants(int pid, long *rss, long *hwm, int depth)
{
	if (depth > 8)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int count = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char cpath[300];
		snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid, e->d_name);
		FILE *f = fopen(cpath, "r");
		if (!f)
			continue;
		int child;
		while (fscanf(f, "%d", &child) == 1) {
			long r, h;
			if (vm_of(child, &r, &h)) {
				*rss += r;
				*hwm += h;
				count++;
				count += add_descendants(child, rss, hwm, depth + 1);
			}
		}
		fclose(f);
	}
	closedir(d);
	return count;
}

static int cmd_tunnels(int echo, int proxy, int n, int pid)
{
	raise_nofile((rlim_t)n + 64);
	long rss0, hwm0;
	if (!vm_of(pid, &rss0, &hwm0)) {
		fail("tunnels: no process %d", pid);
	}
	printf("idle_rss_kib %ld\nidle_hwm_kib %ld\n", rss0, hwm0);
	int *fds = calloc((size_t)n, sizeof *fds);
	if (!fds)
		fail("calloc");
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		fds[i] = dial(proxy);
		if (fds[i] < 0)
			fail("tunnels: connect to the proxy failed after %d tunnels: %s", i, strerror(errno));
		tunnel_index = i;
		connect_tunnel(fds[i], echo);
		echo_byte(fds[i], (char)('a' + i % 26));
	}
	tunnel_index = -1;
	double t1 = now_s();
	/* All open at once: one more byte through each. */
	for (int i = 0; i < n; i++)
		send_all(fds[i], "z", 1);
	for (int i = 0; i < n; i++) {
		char r;
		if (recv(fds[i], &r, 1, 0) != 1 || r != 'z')
			fail("tunnels: tunnel %d did not echo while all were open", i);
	}
	long rss, hwm;
	if (!vm_of(pid, &rss, &hwm))
		fail("tunnels: the proxy process is gone");
	long trss = rss, thwm = hwm;
	int kids = add_descendants(pid, &trss, &thwm, 0);
	printf("tunnels_open %d\nopen_seconds %.3f\n", n, t1 - t0);
	printf("rss_kib %ld\nhwm_kib %ld\n", rss, hwm);
	printf("descendants %d\ntotal_rss_kib %ld\ntotal_hwm_kib %ld\n", kids, trss, thwm);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	alarm(600); /* nothing here may run longer */
	if (argc >= 2 && strcmp(argv[1], "freeport") == 0)
		return cmd_freeport();
	if (argc == 4 && strcmp(argv[1], "waitport") == 0)
		return cmd_waitport(parse_port(argv[2]), atof(argv[3]));
	if ((argc == 4 || argc == 6) && strcmp(argv[1], "bulk") == 0)
		return cmd_bulk(parse_port(argv[2]), strtoull(argv[3], NULL, 10),
				argc == 6 ? parse_port(argv[4]) : 0, argc == 6 ? argv[5] : "");
	if (argc == 5 && strcmp(argv[1], "latency") == 0) {
		int n = atoi(argv[4]);
		if (n < 1)
			fail("latency: N must be positive, not %s", argv[4]);
		return cmd_latency(parse_port(argv[2]), parse_port(argv[3]), n);
	}
	if (argc == 6 && strcmp(argv[1], "tunnels") == 0) {
		int n = atoi(argv[4]);
		if (n < 1)
			fail("tunnels: N must be positive, not %s", argv[4]);
		return cmd_tunnels(parse_port(argv[2]), parse_port(argv[3]), n, atoi(argv[5]));
	}
	fprintf(stderr, "usage: gw_client freeport | waitport PORT SECONDS | bulk ORIGIN BYTES [PROXY connect|get]\n"
			"       | latency ECHO PROXY N | tunnels ECHO PROXY N PID\n");
	return 2;
}
