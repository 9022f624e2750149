/* Alert delivery (src/lib/alert.c): the webhook URL syntax; a command that
 * gets the event on its stdin, one that ignores it, one that hangs and is
 * killed with what it started; a webhook POSTed to a receiver of our own on
 * 127.0.0.1 that answers 200 or 500 (retries), never answers, or is not
 * there; and the detached alert_deliver, which must return at once and leave
 * no zombie behind while the delivery still happens.
 *
 * Only loopback, every wait bounded. The test is a child subreaper, so the
 * detached deliverers end up as its children and are reaped (or killed) at
 * the end. Timeouts are shortened with alert_timeout_scale. */
#include "check.h"
#include "alert.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

static char dir[] = "/tmp/airlock-test-alert-XXXXXX";

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static char *path_in(const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, sizeof buf[0], "%s/%s", dir, name);
	return p;
}

/* s for one TAP line: newlines and tabs escaped, cut at 200 characters. */
static const char *esc(const char *s)
{
	static char buf[4][512];
	static int k;
	char *out = buf[k++ % 4];
	size_t o = 0;
	if (!s)
		return "(null)";
	for (size_t i = 0; s[i] && o < 400; i++) {
		char c = s[i];
		if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			out[o++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
		}
	}
	if (o > 200)
		memcpy(out + 200, "...", 4);
	else
		out[o] = '\0';
	return out;
}

/* The whole file, or NULL. */
static char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Wait up to ms for path to exist with content. */
static char *poll_file(const char *path, int ms)
{
	int64_t end = now_ms() + ms;
	do {
		char *s = slurp(path);
		if (s && *s)
			return s;
		sleep_ms(10);
	} while (now_ms() < end);
	return NULL;
}

/* Children of ours in state Z (zombies nobody reaped), by /proc. */
static int zombie_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char p[64], stat[512], state;
		int ppid;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, stat, sizeof stat - 1);
		close(fd);
		if (len <= 0)
			continue;
		stat[len] = '\0';
		char *rp = strrchr(stat, ')');
		if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() && state == 'Z')
			n++;
	}
	closedir(d);
	return n;
}

/* Is pid gone (or a zombie: killed, waiting for its reaper)? */
static bool pid_dead(pid_t pid)
{
	char p[64], stat[512];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	ssize_t len = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (len <= 0)
		return true;
	stat[len] = '\0';
	char *rp = strrchr(stat, ')');
	return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

/* ---- URL ----------------------------------------------------------------- */

static void url_ok(const char *url, const char *host, uint16_t port, const char *path)
{
	char h[256] = "", p[1024] = "";
	uint16_t pt = 0;
	const char *why = "(none)";
	int r = alert_parse_url(url, h, &pt, p, &why);
	CHECK(r == 0 && strcmp(h, host) == 0 && pt == port && strcmp(p, path) == 0,
	      "'%s' -> host '%s' port %u path '%s' (got %d %s: '%s' %u '%s')", esc(url), host, port, esc(path), r,
	      r ? why : "", h, pt, esc(p));
}

static void url_bad(const char *url, const char *want)
{
	char h[256], p[1024];
	uint16_t pt;
	const char *why = "(none)";
	int r = alert_parse_url(url, h, &pt, p, &why);
	CHECK(r < 0 && strcmp(why, want) == 0, "'%s' refused: %s (got %d: %s)", esc(url), want, r, why);
}

static void test_url(void)
{
	url_ok("http://example.com", "example.com", 80, "/");
	url_ok("http://example.com/", "example.com", 80, "/");
	url_ok("http://Hooks.Example.COM:8080/a/b?x=1&y=2", "hooks.example.com", 8080, "/a/b?x=1&y=2");
	url_ok("HTTP://127.0.0.1:9/alert", "127.0.0.1", 9, "/alert");
	url_ok("http://[::1]:8080/x", "::1", 8080, "/x");
	url_ok("http://[fe80::1]/", "fe80::1", 80, "/");
	url_ok("http://[2001:db8::7]", "2001:db8::7", 80, "/");
	url_ok("http://localhost?x=1", "localhost", 80, "/?x=1");
	url_ok("http://h.example:65535/p%20q", "h.example", 65535, "/p%20q");
	url_ok("http://h.example:00081/", "h.example", 81, "/");
	url_ok("http://relay_1.internal/hook", "relay_1.internal", 80, "/hook");

	const char *invalid_host = "invalid host name", *invalid_port = "invalid port (1-65535)";
	url_bad("https://example.com/hook", "https webhooks are not supported yet");
	url_bad("HTTPS://example.com", "https webhooks are not supported yet");
	url_bad("ftp://example.com/", "not an http:// URL");
	url_bad("example.com/hook", "not an http:// URL");
	url_bad("http:/example.com", "not an http:// URL");
	url_bad("", "empty URL");
	url_bad(NULL, "empty URL");
	url_bad("http://", "missing host");
	url_bad("http:///hook", "missing host");
	url_bad("http://:8080/", "missing host");
	url_bad("http://host:0/", invalid_port);
	url_bad("http://host:65536/", invalid_port);
	url_bad("http://host:123456/", invalid_port);
	url_bad("http://host:/", invalid_port);
	url_bad("http://host:80a/", invalid_port);
	url_bad("http://host:-1/", invalid_port);
	url_bad("http://[::1/", "unterminated [IPv6] host");
	url_bad("http://[zz::1]/", "invalid IPv6 address");
	url_bad("http://[127.0.0.1]/", "invalid IPv6 address");
	url_bad("http://[]/", "invalid IPv6 address");
	url_bad("http://[::1]x/", "invalid host (text after ']')");
	url_bad("http://exa mple.com/", invalid_host);
	url_bad("http://-bad.example/", invalid_host);
	url_bad("http://127.1/", invalid_host); /* an inet_aton number, not a name */
	url_bad("http://bad..example/", invalid_host);
	url_bad("http://user:pw@example.com/", "user name or password in a webhook URL is not supported");
	url_bad("http://example.com/a#frag", "a webhook URL has no #fragment");
	const char *bad_char = "invalid character in path (percent-encode spaces, control and non-ASCII characters)";
	url_bad("http://example.com/a b", bad_char);
	url_bad("http://example.com/a\r\nX-Injected: 1", bad_char);
	url_bad("http://example.com/a\tb", bad_char);
	url_bad("http://example.com/\x7f", bad_char);
	url_bad("http://example.com/caf\xc3\xa9", bad_char);

	char url[1400];
	memcpy(url, "http://", 7);
	memset(url + 7, 'a', 254);
	strcpy(url + 7 + 254, "/");
	url_bad(url, "host name too long");
	snprintf(url, sizeof url, "http://h.example/%01030d", 0);
	url_bad(url, "path too long");
	snprintf(url, sizeof url, "http://h.example/%01022d", 0); /* "/" + 1022 = 1023 */
	url_ok(url, "h.example", 80, url + 16);

	/* outputs are untouched on failure */
	char h[256] = "keep", p[1024] = "keep";
	uint16_t pt = 7;
	const char *why;
	alert_parse_url("http://host:0/x", h, &pt, p, &why);
	CHECK(strcmp(h, "keep") == 0 && pt == 7 && strcmp(p, "keep") == 0, "a refused URL leaves the outputs alone");
}

/* ---- exec ---------------------------------------------------------------- */

static const char *event = "{\"event\":\"run_end\",\"agent\":\"billing-bot\",\"violations\":2,\"note\":\"it's \\\"quoted\\\"\"}";

static struct alert_rule exec_rule(const char *cmd)
{
	static char buf[1024];
	snprintf(buf, sizeof buf, "%s", cmd);
	return (struct alert_rule){ .on = ALERT_ANY, .exec = buf };
}

static void test_exec(void)
{
	char cmd[512], want[512];
	snprintf(cmd, sizeof cmd, "cat > '%s'", path_in("exec.out"));
	struct alert_rule r = exec_rule(cmd);
	int rc = alert_deliver_wait(&r, event);
	snprintf(want, sizeof want, "%s\n", event);
	char *got = slurp(path_in("exec.out"));
	CHECK(rc == 0, "exec 'cat > FILE' succeeds (got %d)", rc);
	CHECK(got && strcmp(got, want) == 0, "the command read the event and a newline on stdin (got '%s')",
	      esc(got));

	r = exec_rule("exit 3");
	CHECK(alert_deliver_wait(&r, event) != 0, "a command exiting 3 is a failed delivery");
	r = exec_rule("kill -TERM $$");
	CHECK(alert_deliver_wait(&r, event) != 0, "a command killed by a signal is a failed delivery");
	r = exec_rule("/nonexistent/command");
	CHECK(alert_deliver_wait(&r, event) != 0, "a command that is not found is a failed delivery");
	struct alert_rule none = { .on = ALERT_ANY };
	CHECK(alert_deliver_wait(&none, event) != 0, "a rule without a target delivers nothing");

	/* A command that never reads stdin: with an event bigger than a pipe
	 * holds, writing it must not block the deliverer. */
	size_t big_len = 1u << 20;
	char *big = malloc(big_len + 1);
	memset(big, ' ', big_len);
	big[0] = '{';
	big[big_len - 1] = '}';
	big[big_len] = '\0';
	r = exec_rule("true");
	int64_t t0 = now_ms();
	rc = alert_deliver_wait(&r, event);
	CHECK(rc == 0, "a command that ignores stdin and exits succeeds (got %d)", rc);
	rc = alert_deliver_wait(&r, big);
	int64_t took = now_ms() - t0;
	CHECK(rc == 0 && took < 3000, "... also with a 1 MiB event it never reads (got %d, %lld ms)", rc,
	      (long long)took);
	r = exec_rule("sleep 0.2");
	t0 = now_ms();
	rc = alert_deliver_wait(&r, big);
	took = now_ms() - t0;
	CHECK(rc == 0 && took < 3000, "... and with one that sleeps first (got %d, %lld ms)", rc, (long long)took);
	free(big);
}

static void test_exec_signals(void)
{
	/* The caller blocks and ignores signals; the command must see neither. */
	char cmd[512];
	sigset_t block, old;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_term;
	snprintf(cmd, sizeof cmd, "grep -E '^Sig(Blk|Ign)' /proc/self/status > '%s'", path_in("signals.out"));
	struct alert_rule r = exec_rule(cmd);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGTERM, &ign, &old_term);
	int rc = alert_deliver_wait(&r, event);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	char *got = slurp(path_in("signals.out"));
	/* the signals the caller blocked or ignored; an environment may hand
	 * every process others (glibc's reserved SIGRTMIN, which no libc call
	 * can reset), which are not the caller's doing */
	unsigned long long blk = ~0ull, ignored = ~0ull;
	const char *b = got ? strstr(got, "SigBlk:\t") : NULL, *i = got ? strstr(got, "SigIgn:\t") : NULL;
	if (b)
		blk = strtoull(b + 8, NULL, 16);
	if (i)
		ignored = strtoull(i + 8, NULL, 16);
	unsigned long long mine = 1ull << (SIGTERM - 1) | 1ull << (SIGCHLD - 1) | 1ull << (SIGUSR1 - 1) |
				  1ull << (SIGINT - 1);
	CHECK(rc == 0 && b && i && !(blk & mine) && !(ignored & mine),
	      "the command inherits no blocked or ignored signal from the caller (got %d, '%s')", rc,
	      esc(got));
}

static void test_exec_timeout(void)
{
	/* 10 s scaled to 0.5 s. The shell records its pid, then becomes sleep;
	 * a background sleep in the same group must die with it. */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "sleep 60 & echo $! > '%s'; echo $$ > '%s'; exec sleep 60",
		 path_in("bg.pid"), path_in("fg.pid"));
	struct alert_rule r = exec_rule(cmd);
	alert_timeout_scale = 0.05;
	int64_t t0 = now_ms();
	int rc = alert_deliver_wait(&r, event);
	int64_t took = now_ms() - t0;
	alert_timeout_scale = 1.0;
	CHECK(rc != 0, "a command that hangs is a failed delivery (got %d)", rc);
	CHECK(took >= 450 && took < 3000, "... killed after the (scaled) timeout of 500 ms (took %lld ms)",
	      (long long)took);
	char *s = slurp(path_in("fg.pid"));
	pid_t fg = s ? atoi(s) : 0;
	s = slurp(path_in("bg.pid"));
	pid_t bg = s ? atoi(s) : 0;
	int64_t end = now_ms() + 2000;
	while ((!pid_dead(fg) || !pid_dead(bg)) && now_ms() < end)
		sleep_ms(10);
	CHECK(fg > 0 && pid_dead(fg), "the hanging command (pid %d) is dead", (int)fg);
	CHECK(bg > 0 && pid_dead(bg), "what it started in the background (pid %d) is dead too", (int)bg);
}

/* ---- webhook receiver ---------------------------------------------------- */

/* A listening socket on 127.0.0.1 and an ephemeral port. */
static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("listen_loopback");
		exit(99);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Read one request (headers, then Content-Length bytes), at most 5 s. */
static size_t read_request(int c, char *buf, size_t cap)
{
	size_t got = 0, want = SIZE_MAX;
	int64_t end = now_ms() + 5000;
	while (got < cap - 1 && got < want && now_ms() < end) {
		struct pollfd pf = { .fd = c, .events = POLLIN };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t n = recv(c, buf + got, cap - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		char *hend = strstr(buf, "\r\n\r\n");
		char *cl = strcasestr(buf, "\r\nContent-Length:");
		if (hend && cl && cl < hend)
			want = (size_t)(hend + 4 - buf) + strtoul(cl + 17, NULL, 10);
	}
	buf[got] = '\0';
	return got;
}

/* A receiver answering codes[i] to the i-th request, after saving it as
 * req.i in dir (renamed into place, so a poller never sees half of it).
 * It leaves after n requests, or 10 s without one. */
static pid_t start_receiver(int lfd, const int *codes, int n)
{
	pid_t pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	for (int i = 0; i < n; i++) {
		static char req[1 << 16];
		char tmp[300], final[300], answer[128];
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		if (poll(&pf, 1, 10000) != 1)
			_exit(1);
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			_exit(1);
		size_t len = read_request(c, req, sizeof req);
		snprintf(tmp, sizeof tmp, "%s/req.%d.tmp", dir, i);
		snprintf(final, sizeof final, "%s/req.%d", dir, i);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, req, len) != (ssize_t)len || close(fd) < 0 || rename(tmp, final) < 0)
			_exit(1);
		int alen = snprintf(answer, sizeof answer,
				    "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", codes[i]);
		if (send(c, answer, (size_t)alen, MSG_NOSIGNAL) < 0)
			_exit(1);
		close(c);
	}
	_exit(0);
}

static void stop_receiver(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void clear_requests(void)
{
	for (int i = 0; i < 16; i++) {
		char name[32];
		snprintf(name, sizeof name, "req.%d", i);
		unlink(path_in(name));
	}
}

static bool request_seen(int i, char **text)
{
	char name[32];
	snprintf(name, sizeof name, "req.%d", i);
	*text = slurp(path_in(name));
	return *text != NULL;
}

static struct alert_rule hook_rule(uint16_t port, const char *path)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "http://127.0.0.1:%u%s", port, path);
	return (struct alert_rule){ .on = ALERT_ANY, .webhook = buf };
}

static int requests_seen(void)
{
	char *t;
	int n = 0;
	while (n < 16 && request_seen(n, &t))
		n++;
	return n;
}

static void test_webhook(void)
{
	uint16_t port;
	char want[512], *req;
	clear_requests();
	int lfd = listen_loopback(&port);
	pid_t srv = start_receiver(lfd, (const int[]){ 200 }, 1);
	struct alert_rule r = hook_rule(port, "/hooks/airlock?src=test");
	int rc = alert_deliver_wait(&r, event);
	stop_receiver(srv);
	CHECK(rc == 0, "webhook answered 200: delivered (got %d)", rc);
	CHECK(requests_seen() == 1, "one request seen");
	if (!request_seen(0, &req))
		req = (char *)"(none)";
	snprintf(want, sizeof want,
		 "POST /hooks/airlock?src=test HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\nUser-Agent: airlock\r\n\r\n%s",
		 port, strlen(event), event);
	CHECK(strcmp(req, want) == 0, "request line, headers and body as specified (got '%s')", esc(req));

	/* 500, 500, 200: the third try succeeds, after 0.5 s + 1 s of backoff
	 * (scaled to a tenth) */
	clear_requests();
	lfd = listen_loopback(&port);
	srv = start_receiver(lfd, (const int[]){ 500, 500, 200 }, 3);
	r = hook_rule(port, "/");
	alert_timeout_scale = 0.1;
	int64_t t0 = now_ms();
	rc = alert_deliver_wait(&r, event);
	int64_t took = now_ms() - t0;
	alert_timeout_scale = 1.0;
	stop_receiver(srv);
	CHECK(rc == 0, "500, 500, then 200: delivered (got %d)", rc);
	CHECK(requests_seen() == 3, "... in 3 requests (saw %d)", requests_seen());
	CHECK(took >= 140 && took < 3000, "... with backoff between them (%lld ms)", (long long)took);
	bool same = true;
	for (int i = 0; i < 3; i++) {
		char *t;
		same &= request_seen(i, &t) && strstr(t, event) && strstr(t, "POST / HTTP/1.1\r\n") == t;
	}
	CHECK(same, "... each one the whole event");

	/* 500 every time: failure after ALERT_WEBHOOK_TRIES tries */
	clear_requests();
	lfd = listen_loopback(&port);
	srv = start_receiver(lfd, (const int[]){ 500, 500, 500, 500 }, 4);
	r = hook_rule(port, "/");
	alert_timeout_scale = 0.1;
	rc = alert_deliver_wait(&r, event);
	alert_timeout_scale = 1.0;
	stop_receiver(srv);
	CHECK(rc != 0 && requests_seen() == ALERT_WEBHOOK_TRIES, "500 every time: failure after %d tries (got %d, saw %d)",
	      ALERT_WEBHOOK_TRIES, rc, requests_seen());

	/* A receiver that accepts nothing and never answers: every try runs
	 * into its timeout (5 s scaled to 0.5 s) */
	lfd = listen_loopback(&port);
	r = hook_rule(port, "/");
	alert_timeout_scale = 0.1;
	t0 = now_ms();
	rc = alert_deliver_wait(&r, event);
	took = now_ms() - t0;
	alert_timeout_scale = 1.0;
	close(lfd);
	CHECK(rc != 0, "a receiver that never answers: failure (got %d)", rc);
	CHECK(took >= 1500 && took < 4000, "... after 3 tries of 0.5 s and 0.15 s of backoff (took %lld ms)",
	      (long long)took);

	/* Nobody listening */
	lfd = listen_loopback(&port);
	close(lfd);
	r = hook_rule(port, "/");
	alert_timeout_scale = 0.1;
	t0 = now_ms();
	rc = alert_deliver_wait(&r, event);
	took = now_ms() - t0;
	alert_timeout_scale = 1.0;
	CHECK(rc != 0 && took < 2000, "connection refused: failure, at once but for the backoff (got %d, %lld ms)", rc,
	      (long long)took);

	/* A URL that does not parse is a failed delivery, not a crash */
	struct alert_rule bad = { .on = ALERT_ANY, .webhook = (char[]){ "https://example.com/" } };
	CHECK(alert_deliver_wait(&bad, event) != 0, "an https:// webhook is a failed delivery");
}

/* ---- detached ------------------------------------------------------------ */

static void test_detached(void)
{
	char cmd[512], want[512];
	/* orphans of the tests above (we are their reaper) are not the point */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(cmd, sizeof cmd, "sleep 0.5; cat > '%s'", path_in("detached.out"));
	struct alert_rule r = exec_rule(cmd);
	int64_t t0 = now_ms();
	alert_deliver(&r, event);
	int64_t took = now_ms() - t0;
	CHECK(took < 100, "alert_deliver returns at once while the command is still busy (%lld ms)", (long long)took);
	CHECK(zombie_children() == 0, "... and leaves no zombie behind");
	CHECK(slurp(path_in("detached.out")) == NULL, "... the command has not written yet");
	char *got = poll_file(path_in("detached.out"), 5000);
	snprintf(want, sizeof want, "%s\n", event);
	CHECK(got && strcmp(got, want) == 0, "the detached command got the event (got '%s')", esc(got));

	/* A webhook that never answers */
	uint16_t port;
	int lfd = listen_loopback(&port);
	r = hook_rule(port, "/");
	alert_timeout_scale = 0.1;
	t0 = now_ms();
	alert_deliver(&r, event);
	took = now_ms() - t0;
	alert_timeout_scale = 1.0;
	CHECK(took < 100, "alert_deliver returns at once when the webhook hangs (%lld ms)", (long long)took);
	sleep_ms(100);
	close(lfd); /* the deliverer's next try is refused, and it gives up */

	/* A webhook that answers: the request eventually arrives */
	clear_requests();
	lfd = listen_loopback(&port);
	pid_t srv = start_receiver(lfd, (const int[]){ 200 }, 1);
	r = hook_rule(port, "/detached");
	t0 = now_ms();
	alert_deliver(&r, event);
	took = now_ms() - t0;
	char *req = poll_file(path_in("req.0"), 5000);
	stop_receiver(srv);
	CHECK(took < 100, "alert_deliver to a webhook returns at once (%lld ms)", (long long)took);
	CHECK(req && strstr(req, "POST /detached HTTP/1.1\r\n") == req && strstr(req, event),
	      "the detached webhook delivery arrived");

	/* A caller that ignores SIGCHLD (its children are reaped for it) */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	snprintf(cmd, sizeof cmd, "cat > '%s'", path_in("sigchld.out"));
	r = exec_rule(cmd);
	sigaction(SIGCHLD, &ign, &old);
	t0 = now_ms();
	alert_deliver(&r, event);
	took = now_ms() - t0;
	sigaction(SIGCHLD, &old, NULL);
	got = poll_file(path_in("sigchld.out"), 5000);
	CHECK(took < 100 && got && strcmp(got, want) == 0,
	      "a caller ignoring SIGCHLD: returns at once (%lld ms), the command runs", (long long)took);
}

/* The deliverers were re-parented to us (subreaper): wait for them, bounded,
 * then kill what is left. */
static void reap_all(void)
{
	int64_t end = now_ms() + 5000;
	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0 && errno == ECHILD)
			return;
		if (p > 0)
			continue;
		if (now_ms() > end)
			break;
		sleep_ms(20);
	}
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[64], stat[512];
		int ppid;
		snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, stat, sizeof stat - 1);
		close(fd);
		stat[len > 0 ? len : 0] = '\0';
		char *rp = strrchr(stat, ')');
		if (rp && sscanf(rp + 3, "%d", &ppid) == 1 && ppid == getpid())
			kill(atoi(e->d_name), SIGKILL);
	}
	if (d)
		closedir(d);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlink(path_in(e->d_name));
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_url();
	test_exec();
	test_exec_signals();
	test_exec_timeout();
	test_webhook();
	test_detached();
	reap_all();
	remove_dir();
	return check_done();
}
