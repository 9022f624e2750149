/* Just-in-time credentials in a run: the supervisor's part.
 *
 * Before the sandbox's filesystem is built: a per-run CA (the TLS module,
 * in memory only) whose certificate, with the host's roots, init writes
 * where the sandbox's TLS clients are pointed (AL_CA_BUNDLE). After the
 * sandbox's init was cloned (so no copy of a secret was ever in its
 * memory): each secret's value, read from the caller's environment, a file
 * or a command, into pages that are never dumped and are wiped at the end,
 * and a random placeholder, which is all the sandbox sees. The gateway
 * process inherits both at its fork; the supervisor then drops the CA's key
 * and keeps the values only to redact them from the run's output.
 */
#include "sandbox.h"
#include "cred.h"
#include "tls_api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define VALUE_MAX 8192		   /* a secret goes in a header: far below any head limit */
#define COMMAND_TIMEOUT_MS 30000
#define CA_VALID_SECONDS (30 * 86400ull)
#define ROOTS_MAX (8u << 20)

extern char **environ;

/* ---- the CA --------------------------------------------------------------- */

static ssize_t read_all(int fd, char *out, size_t cap, int deadline_ms);

/* "api.example.com:443" -> "api.example.com"; "[::1]:443" -> "::1". */
static void host_of(const char *entry, char out[272])
{
	const char *colon = strrchr(entry, ':');
	size_t n = colon ? (size_t)(colon - entry) : strlen(entry);
	if (n >= 2 && entry[0] == '[' && entry[n - 1] == ']')
		snprintf(out, 272, "%.*s", (int)(n - 2), entry + 1);
	else
		snprintf(out, 272, "%.*s", (int)n, entry);
}

/* Only the certificates of a roots file reach the sandbox: whatever else
 * the file holds (a key kept next to them, say) stays out. */
static int copy_certificates(int fd, const char *text, size_t len, al_error *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	const char *p = text, *stop = text + len;
	while ((p = memmem(p, (size_t)(stop - p), begin, sizeof begin - 1))) {
		const char *e = memmem(p, (size_t)(stop - p), end, sizeof end - 1);
		if (!e)
			break;
		size_t n = (size_t)(e - p) + sizeof end - 1;
		if (write(fd, p, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
			return al_errno(err, "writing the CA bundle");
		p = e + sizeof end - 1;
	}
	return 0;
}

/* The host's roots as OpenSSL finds them (SSL_CERT_FILE first). */
static int append_roots(int fd, al_error *err)
{
	const char *env = getenv("SSL_CERT_FILE");
	const char *paths[] = { env && *env ? env : NULL, "/etc/ssl/certs/ca-certificates.crt",
				"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		if (!paths[i])
			continue;
		_cleanup_close_ int in = open(paths[i], O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((uint64_t)st.st_size > ROOTS_MAX)
			return al_err(err, EFBIG, "%s: larger than %u MiB", paths[i], ROOTS_MAX >> 20);
		char *text = malloc((size_t)st.st_size + 1);
		ssize_t n = text ? read_all(in, text, (size_t)st.st_size + 1, 0) : -1;
		int r = n < 0 ? al_errno(err, "reading %s", paths[i]) : copy_certificates(fd, text, (size_t)n, err);
		free(text);
		return r;
	}
	return 0; /* no roots on this host: the per-run CA alone */
}

int credrun_make_ca(struct al_sandbox *sb, int *bundle_fd, al_error *err)
{
	struct cred_run *cr = &sb->cred;
	const struct al_policy *p = &sb->pol;
	*bundle_fd = -1;
	if (!p->n_secrets)
		return 0;
	if (!(cr->tls = tls_load(err)))
		return -1;
	/* every host of every secret, once */
	size_t total = 0, n = 0;
	for (size_t i = 0; i < p->n_secrets; i++)
		total += p->secrets[i].hosts.n;
	char (*buf)[272] = calloc(total, sizeof *buf);
	const char **names = calloc(total, sizeof *names);
	if (!buf || !names) {
		free(buf);
		free(names);
		return al_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < p->n_secrets; i++)
		for (size_t j = 0; j < p->secrets[i].hosts.n; j++) {
			host_of(p->secrets[i].hosts.v[j], buf[n]);
			bool seen = false;
			for (size_t k = 0; k < n && !seen; k++)
				seen = !strcmp(names[k], buf[n]);
			if (!seen) {
				names[n] = buf[n];
				n++;
			}
		}
	uint8_t rnd[4];
	char label[16], why[256], *pem = NULL;
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
		free(buf);
		free(names);
		return al_errno(err, "getrandom");
	}
	snprintf(label, sizeof label, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	cr->ca = cr->tls->ca_new(names, n, label, CA_VALID_SECONDS, &pem, why, sizeof why);
	free(buf);
	free(names);
	if (!cr->ca)
		return al_err(err, EINVAL, "per-run CA: %s", why);
	_cleanup_close_ int fd = memfd_create("airlock-ca-bundle", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t len = strlen(pem);
	int w = fd < 0 ? -1 : (int)write(fd, pem, len);
	free(pem);
	if (fd < 0 || w != (int)len)
		return al_errno(err, "per-run CA bundle");
	if (append_roots(fd, err) < 0)
		return al_error_wrap(err, "per-run CA bundle");
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	*bundle_fd = al_steal_fd(&fd);
	return 0;
}

/* ---- the values ----------------------------------------------------------- */

/* Read fd to EOF or to cap bytes; a deadline in ms (0 = none). Returns
 * the length, or -1 (errno; ETIMEDOUT, EFBIG). */
static ssize_t read_all(int fd, char *out, size_t cap, int deadline_ms)
{
	size_t len = 0;
	uint64_t end = al_now_us() + (uint64_t)deadline_ms * 1000;
	for (;;) {
		if (deadline_ms) {
			uint64_t now = al_now_us();
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int r = now >= end ? 0 : poll(&pf, 1, (int)((end - now) / 1000) + 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				errno = r == 0 ? ETIMEDOUT : errno;
				return -1;
			}
		}
		ssize_t n = read(fd, out + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
		if (len == cap) {
			errno = EFBIG;
			return -1;
		}
	}
}

static int from_command(const char *cmd, char *out, size_t cap, size_t *len, al_error *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return al_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return al_errno(err, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0)
			_exit(127);
		syscall(SYS_close_range, 3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, environ);
		_exit(127);
	}
	close(pfd[1]);
	ssize_t n = read_all(pfd[0], out, cap, COMMAND_TIMEOUT_MS);
	int e = errno;
	close(pfd[0]);
	if (n < 0)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n < 0)
		return al_err(err, e, "command %s", e == ETIMEDOUT ? "took longer than 30 s" :
			      e == EFBIG ? "printed more than 8 KiB" : strerror(e));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return al_err(err, ECHILD, "command failed (%s %d)",
			      WIFEXITED(status) ? "exit status" : "signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	*len = (size_t)n;
	return 0;
}

/* One secret's value into out (cap bytes, NUL-terminated on success). */
static int read_value(const struct cred_secret *s, char *out, size_t cap, size_t *len, al_error *err)
{
	if (!strncmp(s->from, "env:", 4)) {
		const char *v = getenv(s->from + 4);
		if (!v)
			return al_err(err, ENOENT, "environment variable %s is not set", s->from + 4);
		if (strlen(v) >= cap)
			return al_err(err, EFBIG, "longer than 8 KiB");
		*len = strlen(v);
		memcpy(out, v, *len);
	} else if (!strncmp(s->from, "file:", 5)) {
		/* O_NONBLOCK: a FIFO must not hang the run before it is refused */
		_cleanup_close_ int fd = open(s->from + 5, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return al_errno(err, "%s", s->from + 5);
		if (!S_ISREG(st.st_mode))
			return al_err(err, EINVAL, "%s is not a regular file", s->from + 5);
		ssize_t n = read_all(fd, out, cap, 0);
		if (n < 0)
			return al_errno(err, "%s", s->from + 5);
		*len = (size_t)n;
	} else if (from_command(s->from + 8, out, cap, len, err) < 0) {
		return -1;
	}
	/* a file or a command's output ends in a newline, which is not part of it */
	if (*len && out[*len - 1] == '\n')
		(*len)--;
	if (*len && out[*len - 1] == '\r')
		(*len)--;
	out[*len] = '\0';
	if (!*len)
		return al_err(err, EINVAL, "the value is empty");
	for (size_t i = 0; i < *len; i++)
		if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0')
			return al_err(err, EINVAL, "the value holds a line break or NUL: it cannot go in a header");
	return 0;
}

int credrun_resolve(struct al_sandbox *sb, al_error *err)
{
	struct cred_run *cr = &sb->cred;
	const struct al_policy *p = &sb->pol;
	if (!p->n_secrets)
		return 0;
	size_t slot = VALUE_MAX + 1;
	cr->store_len = (p->n_secrets * slot + 4095) & ~(size_t)4095;
	cr->store = mmap(NULL, cr->store_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cr->store == MAP_FAILED) {
		cr->store = NULL;
		return al_errno(err, "mmap");
	}
	/* never in a core dump, never swapped out where the host allows it,
	 * and never in a child forked later (a later sandbox's init, a
	 * command: source, an alert): the gateway gets its copy explicitly */
	madvise(cr->store, cr->store_len, MADV_DONTDUMP);
	if (madvise(cr->store, cr->store_len, MADV_WIPEONFORK) < 0)
		return al_errno(err, "madvise(MADV_WIPEONFORK) for the secrets' store");
	(void)mlock(cr->store, cr->store_len);
	if (!(cr->set.v = calloc(p->n_secrets, sizeof *cr->set.v)))
		return al_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n_secrets; i++) {
		struct cred_value *v = &cr->set.v[i];
		char *value = cr->store + i * slot;
		uint8_t rnd[16];
		v->s = &p->secrets[i];
		if (read_value(v->s, value, slot, &v->len, err) < 0)
			return al_error_wrap(err, "credentials.secrets %s (from %.*s)", v->s->name,
					     strncmp(v->s->from, "command:", 8) ? 200 : 8, v->s->from);
		v->value = value;
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
			return al_errno(err, "getrandom");
		cred_placeholder(rnd, v->placeholder);
		cr->set.n++;
	}
	/* The trust store for upstreams is read here, with the caller's
	 * rights: the gateway runs as the sandbox's unprivileged id, and a
	 * CA file only root may read must still count. */
	char why[256];
	if (cr->ca && cr->tls->ca_ready(cr->ca, why, sizeof why) < 0)
		return al_err(err, EINVAL, "TLS for credentials: %s", why);
	return 0;
}

/* After the gateway's fork: it holds the CA; the supervisor needs no key. */
void credrun_drop_ca(struct al_sandbox *sb)
{
	if (sb->cred.ca)
		sb->cred.tls->ca_free(sb->cred.ca);
	sb->cred.ca = NULL;
}

/* The gateway's copy of the values, over its control socket right after
 * its fork (the store itself is wiped in every child). */
int credrun_send(const struct al_sandbox *sb, int fd)
{
	const struct cred_set *cs = &sb->cred.set;
	for (size_t i = 0; i < cs->n; i++) {
		uint32_t len = (uint32_t)cs->v[i].len;
		if (send(fd, &len, sizeof len, MSG_NOSIGNAL) != sizeof len ||
		    send(fd, cs->v[i].value, len, MSG_NOSIGNAL) != (ssize_t)len)
			return -1;
	}
	return 0;
}

/* In the gateway: the values into its own (wiped) store, at their places. */
int credrun_receive(struct al_sandbox *sb, int fd)
{
	struct cred_set *cs = &sb->cred.set;
	(void)mlock(sb->cred.store, sb->cred.store_len); /* not inherited across fork */
	for (size_t i = 0; i < cs->n; i++) {
		uint32_t len;
		char *to = sb->cred.store + i * (VALUE_MAX + 1);
		if (recv(fd, &len, sizeof len, MSG_WAITALL) != sizeof len || len > VALUE_MAX ||
		    (len && recv(fd, to, len, MSG_WAITALL) != (ssize_t)len))
			return -1;
		to[len] = '\0';
		cs->v[i].value = to;
		cs->v[i].len = len;
	}
	return 0;
}

void credrun_free(struct al_sandbox *sb)
{
	struct cred_run *cr = &sb->cred;
	credrun_drop_ca(sb);
	if (cr->store) {
		explicit_bzero(cr->store, cr->store_len);
		munlock(cr->store, cr->store_len);
		munmap(cr->store, cr->store_len);
	}
	free(cr->set.v);
	*cr = (struct cred_run){ 0 };
}

/* The sandbox's side: each secret's variable holds its placeholder, and
 * every common TLS stack trusts the per-run CA (with the host's roots). */
int credrun_env(const struct al_sandbox *sb, int (*put)(struct al_strlist *, const char *),
		struct al_strlist *env)
{
	static const char *const ca_env[] = {
		"SSL_CERT_FILE=" AL_CA_BUNDLE, "REQUESTS_CA_BUNDLE=" AL_CA_BUNDLE,
		"CURL_CA_BUNDLE=" AL_CA_BUNDLE, "PIP_CERT=" AL_CA_BUNDLE, "GIT_SSL_CAINFO=" AL_CA_BUNDLE,
		"NODE_EXTRA_CA_CERTS=" AL_CA_FILE, "AWS_CA_BUNDLE=" AL_CA_BUNDLE,
		"CARGO_HTTP_CAINFO=" AL_CA_BUNDLE, "npm_config_cafile=" AL_CA_BUNDLE,
	};
	const struct cred_run *cr = &sb->cred;
	if (!cr->set.n)
		return 0;
	for (size_t i = 0; i < sizeof ca_env / sizeof ca_env[0]; i++)
		if (put(env, ca_env[i]) < 0)
			return -1;
	for (size_t i = 0; i < cr->set.n; i++) {
		char kv[300];
		snprintf(kv, sizeof kv, "%s=%s", cr->set.v[i].s->name, cr->set.v[i].placeholder);
		if (put(env, kv) < 0)
			return -1;
	}
	return 0;
}
