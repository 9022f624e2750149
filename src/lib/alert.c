/* Alert delivery: an audit event handed to a command on its stdin or POSTed
 * to an HTTP webhook, from a process of its own.
 *
 * An alert target is code and a network we do not control: a command that
 * hangs, a receiver that never answers or a slow resolver must not hold up
 * the run that raised the event, and nothing the target does may crash it.
 * So the caller only forks: the first child forks the deliverer and exits at
 * once, the caller reaps that first child, and the deliverer is re-parented
 * (to init or a subreaper) and never waited for. Its failures go to
 * syslog: it keeps nothing of the caller's, not even stderr (a caller
 * reading airlock's stderr through a pipe would otherwise wait for the
 * alert to finish).
 *
 * What can be prepared is prepared before the fork (the URL parsed, the
 * request built), so the children of a threaded caller do little besides
 * system calls; name resolution is the exception (docs/gateway.md, Limits).
 * Every wait is bounded: a command gets ALERT_EXEC_TIMEOUT_MS and is then
 * killed with everything it started (it runs in its own process group); a
 * webhook try gets ALERT_WEBHOOK_TIMEOUT_MS from resolution to status line.
 *
 * Plain HTTP only: https:// is refused rather than sent in clear.
 */
#include "alert.h"
#include "egress.h"

#include <syslog.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define ALERT_WAIT_BOUND_MS 30000 /* alert_deliver_wait, over all the tries */
#define STATUS_LINE_MAX 256

double alert_timeout_scale = 1.0;

/* Backoff before the second and later tries. */
static const int64_t backoff_ms[] = { 500, 1000 };

/* ---- URL ----------------------------------------------------------------- */

/* "[::1]" at s (the brackets included, before `end`); *after = past ']'. */
static int parse_ipv6_host(const char *s, const char *end, char host[256], const char **after,
			   const char **why)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];
	if (!close)
		return *why = "unterminated [IPv6] host", -1;
	size_t len = (size_t)(close - s - 1);
	if (len == 0 || len >= sizeof buf)
		return *why = "invalid IPv6 address", -1;
	memcpy(buf, s + 1, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return *why = "invalid IPv6 address", -1;
	if (close + 1 != end && close[1] != ':')
		return *why = "invalid host (text after ']')", -1;
	memcpy(host, buf, len + 1);
	*after = close + 1;
	return 0;
}

/* A name or an IPv4 address, up to ':' or end; lowercased. */
static int parse_name_host(const char *s, const char *end, char host[256], const char **after,
			   const char **why)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	const char *hend = colon ? colon : end;
	size_t len = (size_t)(hend - s);
	char buf[256];
	if (len == 0)
		return *why = "missing host", -1;
	if (len > 253)
		return *why = "host name too long", -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	buf[len] = '\0';
	if (!egress_host_valid(buf))
		return *why = "invalid host name", -1;
	memcpy(host, buf, len + 1);
	*after = hend;
	return 0;
}

static int parse_port(const char *s, const char *end, uint16_t *port, const char **why)
{
	size_t len = (size_t)(end - s);
	unsigned v = 0;
	if (len == 0 || len > 5)
		return *why = "invalid port (1-65535)", -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return *why = "invalid port (1-65535)", -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return *why = "invalid port (1-65535)", -1;
	*port = (uint16_t)v;
	return 0;
}

/* The path goes into the request line as it is: it must not be able to end
 * that line or add a header, so no space, control or non-ASCII byte. */
static int parse_path(const char *s, char path[1024], const char **why)
{
	size_t len = strlen(s);
	bool slash = *s != '/'; /* "" or "?q" */
	if (strchr(s, '#'))
		return *why = "a webhook URL has no #fragment", -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return *why = "invalid character in path (percent-encode spaces, control and non-ASCII characters)", -1;
	}
	if (len + slash >= 1024)
		return *why = "path too long", -1;
	path[0] = '/';
	memcpy(path + slash, s, len + 1);
	return 0;
}

int alert_parse_url(const char *url, char host[256], uint16_t *port, char path[1024], const char **why)
{
	char h[256], p[1024];
	uint16_t pt = 80;
	const char *after;
	if (!url || !*url)
		return *why = "empty URL", -1;
	if (strncasecmp(url, "https://", 8) == 0)
		return *why = "https webhooks are not supported yet", -1;
	if (strncasecmp(url, "http://", 7) != 0)
		return *why = "not an http:// URL", -1;
	const char *s = url + 7;
	const char *end = s + strcspn(s, "/?#"); /* the authority is [s, end) */
	if (memchr(s, '@', (size_t)(end - s)))
		return *why = "user name or password in a webhook URL is not supported", -1;
	if ((*s == '[' ? parse_ipv6_host(s, end, h, &after, why) : parse_name_host(s, end, h, &after, why)) < 0)
		return -1;
	if (after < end && parse_port(after + 1, end, &pt, why) < 0)
		return -1;
	if (parse_path(end, p, why) < 0)
		return -1;
	memcpy(host, h, strlen(h) + 1);
	memcpy(path, p, strlen(p) + 1);
	*port = pt;
	return 0;
}

/* ---- time ---------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t scaled(int64_t ms)
{
	int64_t v = (int64_t)((double)ms * alert_timeout_scale);
	return v > 0 ? v : 1;
}

/* Milliseconds left until deadline, as poll wants them (0 = none left). */
static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the delivery -------------------------------------------------------- */

/* Everything a deliverer needs, made before the fork. */
struct delivery {
	const char *cmd;	/* exec target, or NULL */
	const char *url;	/* webhook target, or NULL */
	const char *url_why;	/* the URL did not parse, or NULL */
	char host[256];
	char port[6];
	char *input;		/* the event and a newline, for the command's stdin */
	size_t input_len;
	char *request;		/* the whole HTTP request */
	size_t request_len;
};

static int note(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int note(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* One line on stderr, whatever the target contains (a command may span
 * lines), written at once: no stdio in the children. */
static void report_failure(bool command, const char *target, const char *why)
{
	char line[512], shown[161];
	size_t n = 0;
	for (; target[n] && n < sizeof shown - 1; n++)
		shown[n] = (unsigned char)target[n] < 0x20 ? '?' : target[n];
	shown[n] = '\0';
	const char *more = target[n] ? "..." : "";
	int len = command ? snprintf(line, sizeof line, "airlock: alert command '%s%s' failed: %s\n", shown, more, why)
			  : snprintf(line, sizeof line, "airlock: alert to %s%s failed: %s\n", shown, more, why);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof line) {
		len = (int)sizeof line - 1;
		line[len - 1] = '\n';
	}
	line[len - 1] = '\0';
	syslog(LOG_WARNING | LOG_USER, "%s", line + sizeof "airlock: " - 1);
}

/* Wait for pid until deadline: 0 with *status when it ended, -1 when the
 * time is up, -2 when it cannot be waited for (the caller ignores SIGCHLD). */
static int wait_until(pid_t pid, int64_t deadline, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int rc;
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			rc = 0;
			break;
		}
		if (w < 0 && errno != EINTR) {
			rc = -2;
			break;
		}
		int left = left_ms(deadline);
		if (left == 0) {
			rc = -1;
			break;
		}
		struct pollfd pf = { .fd = pidfd, .events = POLLIN };
		if (pidfd < 0 || poll(&pf, 1, left) < 0)
			sleep_ms(left < 10 ? left : 10);
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- exec target --------------------------------------------------------- */

/* Hand the event to the command without ever blocking on it: one that does
 * not read its stdin, or exits first, is within its rights (EPIPE, and
 * SIGPIPE is ignored in the deliverer). */
static void feed(int fd, const char *buf, size_t len, int64_t deadline)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return;
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int left = left_ms(deadline);
			if (left == 0 || (poll(&pf, 1, left) < 0 && errno != EINTR))
				return;
		} else if (!(n < 0 && errno == EINTR)) {
			return;
		}
	}
}

/* `/bin/sh -c cmd` with the event on its stdin, in its own process group so
 * that the timeout kills whatever it started too. */
static int run_command(const struct delivery *d, char *why, size_t cap)
{
	int p[2];
	int status;
	if (pipe2(p, O_CLOEXEC) < 0)
		return note(why, cap, "pipe: %s", strerror(errno));
	int64_t timeout = scaled(ALERT_EXEC_TIMEOUT_MS);
	int64_t deadline = now_ms() + timeout;
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (dup2(p[0], 0) < 0) /* the copy has no O_CLOEXEC */
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", d->cmd, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return note(why, cap, "fork: %s", strerror(errno));
	}
	setpgid(pid, pid); /* on both sides: the group exists before any kill below */
	feed(p[1], d->input, d->input_len, deadline);
	close(p[1]);
	int w = wait_until(pid, deadline, &status);
	if (w == -1) {
		kill(-pid, SIGKILL);
		reap(pid);
		return note(why, cap, "did not finish within %g s (killed)", (double)timeout / 1000);
	}
	if (w < 0)
		return note(why, cap, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return note(why, cap, "exit status %d", WEXITSTATUS(status));
	return note(why, cap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* ---- webhook target ------------------------------------------------------ */

/* A connected socket (non-blocking), or -1 with why. */
static int connect_until(const struct addrinfo *a, int64_t deadline, char *why, size_t cap)
{
	int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
	if (fd < 0)
		return note(why, cap, "socket: %s", strerror(errno));
	if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
		int e = errno;
		socklen_t len = sizeof e;
		if (e == EINPROGRESS) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int r;
			while ((r = poll(&pf, 1, left_ms(deadline))) < 0 && errno == EINTR)
				;
			if (r == 0) {
				close(fd);
				return note(why, cap, "timed out connecting");
			}
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
				e = errno;
		}
		if (e) {
			close(fd);
			return note(why, cap, "connecting: %s", strerror(e));
		}
	}
	return fd;
}

static int send_until(int fd, const char *buf, size_t len, int64_t deadline, char *why, size_t cap)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return note(why, cap, "sending: %s", strerror(errno));
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		int left = left_ms(deadline);
		if (left == 0 || poll(&pf, 1, left) == 0)
			return note(why, cap, "timed out sending");
	}
	return 0;
}

/* Read the status line and judge it: 0 for a 2xx status. */
static int read_status(int fd, int64_t deadline, char *why, size_t cap)
{
	char line[STATUS_LINE_MAX];
	size_t got = 0;
	while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int left = left_ms(deadline);
		if (left == 0 || poll(&pf, 1, left) == 0)
			return note(why, cap, "no answer within the timeout");
		ssize_t n = recv(fd, line + got, sizeof line - 1 - got, 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return note(why, cap, "reading the answer: %s", strerror(errno));
		if (n > 0)
			got += (size_t)n;
	}
	line[got] = '\0';
	if (got == 0)
		return note(why, cap, "connection closed without an answer");
	/* "HTTP/1.1 204 No Content" */
	const char *c = line + 9;
	if (got < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || c[0] < '1' || c[0] > '5' ||
	    c[1] < '0' || c[1] > '9' || c[2] < '0' || c[2] > '9')
		return note(why, cap, "not an HTTP answer");
	int status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
	if (status < 200 || status > 299)
		return note(why, cap, "HTTP status %d", status);
	return 0;
}

/* One try, from name resolution to status line, all before deadline. */
static int post_once(const struct delivery *d, int64_t deadline, char *why, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	int rc = getaddrinfo(d->host, d->port, &hints, &ai);
	if (rc)
		return note(why, cap, "resolving %s: %s", d->host,
			    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	int fd = note(why, cap, "timed out resolving %s", d->host);
	for (struct addrinfo *a = ai; a && fd < 0 && left_ms(deadline) > 0; a = a->ai_next)
		fd = connect_until(a, deadline, why, cap);
	freeaddrinfo(ai);
	if (fd < 0)
		return fd;
	rc = send_until(fd, d->request, d->request_len, deadline, why, cap);
	if (rc == 0)
		rc = read_status(fd, deadline, why, cap);
	close(fd);
	return rc;
}

static int post(const struct delivery *d, char *why, size_t cap)
{
	if (d->url_why)
		return note(why, cap, "%s", d->url_why);
	for (int i = 0; i < ALERT_WEBHOOK_TRIES; i++) {
		if (i > 0)
			sleep_ms(scaled(backoff_ms[i - 1 < 1 ? i - 1 : 1]));
		if (post_once(d, now_ms() + scaled(ALERT_WEBHOOK_TIMEOUT_MS), why, cap) == 0)
			return 0;
	}
	size_t len = strlen(why);
	snprintf(why + len, cap - len, " (%d tries)", ALERT_WEBHOOK_TRIES);
	return -1;
}

/* ---- the deliverer ------------------------------------------------------- */

/* Whatever the caller set up must not reach the deliverer: its handlers
 * (which would run the caller's code here), ignored signals and its mask
 * (inherited by the command), a SIGCHLD that is ignored (waitpid would lose
 * the command's status), its terminal session, and its fds (a pipe or socket
 * kept open here would hold off an EOF the caller waits for). The caller
 * forked with every signal blocked, so nothing runs until the handlers are
 * reset. */
static void detach(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* SIGKILL, SIGSTOP and glibc's own fail: fine */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(125);
	if (syscall(SYS_close_range, 3, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close(fd);
	}
}

static _Noreturn void deliverer(const struct delivery *d)
{
	char why[256];
	int failed = 0;
	detach();
	if (d->cmd && run_command(d, why, sizeof why) < 0) {
		report_failure(true, d->cmd, why);
		failed = 1;
	}
	if (d->url && post(d, why, sizeof why) < 0) {
		report_failure(false, d->url, why);
		failed = 1;
	}
	_exit(failed);
}

static void report_fork_failure(const struct delivery *d, const char *why)
{
	report_failure(d->cmd != NULL, d->cmd ? d->cmd : d->url, why);
}

static void delivery_free(struct delivery *d)
{
	free(d->input);
	free(d->request);
}

/* Fill d for r. False when there is nothing to deliver to. Memory shortage
 * drops the alert, as a failed fork would. */
static bool delivery_prepare(struct delivery *d, const struct alert_rule *r, const char *json)
{
	*d = (struct delivery){ .cmd = r->exec, .url = r->webhook };
	if (!d->cmd && !d->url)
		return false;
	size_t len = strlen(json);
	d->input = malloc(len + 1);
	if (!d->input)
		return false;
	memcpy(d->input, json, len);
	d->input[len] = '\n';
	d->input_len = len + 1;
	if (!d->url)
		return true;

	uint16_t port;
	char path[1024], authority[300];
	if (alert_parse_url(d->url, d->host, &port, path, &d->url_why) < 0)
		return true;
	snprintf(d->port, sizeof d->port, "%u", port);
	bool v6 = strchr(d->host, ':') != NULL;
	snprintf(authority, sizeof authority, "%s%s%s%s%s", v6 ? "[" : "", d->host, v6 ? "]" : "",
		 port == 80 ? "" : ":", port == 80 ? "" : d->port);
	char *head;
	int n = asprintf(&head,
			 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\nUser-Agent: airlock\r\n\r\n",
			 path, authority, len);
	if (n < 0 || !(d->request = malloc((size_t)n + len))) {
		if (n >= 0)
			free(head);
		free(d->input);
		return false;
	}
	memcpy(d->request, head, (size_t)n);
	memcpy(d->request + n, json, len);
	d->request_len = (size_t)n + len;
	free(head);
	return true;
}

void alert_deliver(const struct alert_rule *r, const char *event_json)
{
	struct delivery d;
	sigset_t all, old;
	if (!delivery_prepare(&d, r, event_json))
		return;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		/* The first child only starts the deliverer and leaves: the
		 * deliverer is re-parented and nobody has to wait for it. */
		pid_t dp = fork();
		if (dp == 0)
			deliverer(&d);
		if (dp < 0) {
			char why[128];
			note(why, sizeof why, "fork: %s", strerror(errno));
			report_fork_failure(&d, why);
		}
		_exit(0);
	}
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid > 0) {
		reap(pid);
	} else {
		/* No process to report it: this one line is the caller's. */
		char why[128];
		note(why, sizeof why, "fork: %s", strerror(e));
		report_fork_failure(&d, why);
	}
	delivery_free(&d);
}

int alert_deliver_wait(const struct alert_rule *r, const char *event_json)
{
	struct delivery d;
	sigset_t all, old;
	int status;
	if (!delivery_prepare(&d, r, event_json))
		return -1;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		deliverer(&d);
	sigprocmask(SIG_SETMASK, &old, NULL);
	delivery_free(&d);
	if (pid < 0)
		return -1;
	int w = wait_until(pid, now_ms() + scaled(ALERT_WAIT_BOUND_MS), &status);
	if (w == -1) {
		kill(-pid, SIGKILL); /* its session's group, once it has one */
		kill(pid, SIGKILL);
		reap(pid);
	}
	return w == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
