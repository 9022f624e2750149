/* al_sandbox_exec: one command in a created sandbox.
 *
 * The supervisor's loop waits on the control socket (exited), the
 * seccomp listener (every refused syscall is counted by name and answered
 * EPERM), a timer (wall-clock limit: TERM to everything, a grace, then
 * KILL), the interrupt eventfd, the RSS watchdog when no memory cgroup
 * exists, and the command's stdout/stderr pipes, which it relays (counted,
 * capped, written only when the caller's fd has room).
 */
#include "sandbox.h"
#include "audit.h"
#include "scan.h"
#include "termfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/timerfd.h>

extern char **environ;

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TMPDIR=/tmp", "USER=nobody", "LOGNAME=nobody", "LANG=C.UTF-8",
};

/* Put "NAME=value" into env, replacing an entry of the same name. */
static int env_put(struct al_strlist *env, const char *kv)
{
	size_t nlen = strcspn(kv, "=");
	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], kv, nlen + 1) == 0) {
			char *dup = strdup(kv);
			if (!dup)
				return -1;
			free(env->v[i]);
			env->v[i] = dup;
			return 0;
		}
	return al_strlist_add(env, kv);
}

/* With the egress gateway: what curl, wget, pip, npm, git, Python and Node
 * (and the libraries they use) read to find a proxy. Names are resolved by
 * the gateway (socks5h), never inside the sandbox, which has no DNS. */
#define PROXY_HTTP "http://127.0.0.1:3128"
#define PROXY_SOCKS "socks5h://127.0.0.1:3128"
static const char *const proxy_env[] = {
	"HTTP_PROXY=" PROXY_HTTP, "http_proxy=" PROXY_HTTP,
	"HTTPS_PROXY=" PROXY_HTTP, "https_proxy=" PROXY_HTTP,
	"ALL_PROXY=" PROXY_SOCKS, "all_proxy=" PROXY_SOCKS,
	"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	"npm_config_proxy=" PROXY_HTTP, "npm_config_https_proxy=" PROXY_HTTP,
	"YARN_HTTP_PROXY=" PROXY_HTTP, "YARN_HTTPS_PROXY=" PROXY_HTTP,
	"PIP_PROXY=" PROXY_HTTP, "CARGO_HTTP_PROXY=" PROXY_HTTP,
	"GLOBAL_AGENT_HTTP_PROXY=" PROXY_HTTP, "NODE_USE_ENV_PROXY=1",
};
_Static_assert(AL_GATEWAY_PORT == 3128, "proxy_env names the gateway's port");

/* Every occurrence of a secret's value in *s replaced by its placeholder
 * (the old string wiped and freed). 0, or -1 out of memory. */
static int scrub_values(const struct cred_set *cs, char **s)
{
	for (size_t j = 0; j < cs->n; j++) {
		const struct cred_value *v = &cs->v[j];
		char *at;
		while (v->len && (at = memmem(*s, strlen(*s), v->value, v->len))) {
			size_t before = (size_t)(at - *s), rest = strlen(at + v->len);
			char *n = malloc(before + CRED_PH_LEN + rest + 1);
			if (!n)
				return -1;
			memcpy(n, *s, before);
			memcpy(n + before, v->placeholder, CRED_PH_LEN);
			memcpy(n + before + CRED_PH_LEN, at + v->len, rest + 1);
			explicit_bzero(*s, strlen(*s));
			free(*s);
			*s = n;
		}
	}
	return 0;
}

/* The command line is the caller's: a secret's value there is a mistake
 * to refuse, not to rewrite behind its back. */
static int argv_holds_value(const struct al_sandbox *sb, const al_exec *ex, al_error *err)
{
	const struct cred_set *cs = &sb->cred.set;
	for (size_t i = 0; ex->argv && ex->argv[i]; i++)
		for (size_t j = 0; j < cs->n; j++)
			if (cs->v[j].len && memmem(ex->argv[i], strlen(ex->argv[i]), cs->v[j].value, cs->v[j].len))
				return al_err(err, EINVAL, "argument %zu holds the real value of credentials secret %s: "
					      "the sandbox gets only its placeholder (use $%s)", i, cs->v[j].s->name,
					      cs->v[j].s->name);
	return 0;
}

/* A clean environment: fixed defaults, then the names the policy lets through
 * from the caller, then the proxy settings (a proxy of the caller's would
 * lead nowhere from inside), then the values the policy sets. Nothing else
 * crosses. */
int exec_build_env(const struct al_sandbox *sb, struct al_strlist *env)
{
	const struct al_policy *p = &sb->pol;
	for (size_t i = 0; i < sizeof default_env / sizeof default_env[0]; i++)
		if (env_put(env, default_env[i]) < 0)
			return -1;
	if (env_put(env, p->workspace_writable ? "HOME=/workspace" : "HOME=/tmp") < 0)
		return -1;
	for (size_t i = 0; i < p->env_allow.n; i++) {
		const char *v = getenv(p->env_allow.v[i]);
		if (!v)
			continue;
		size_t len = strlen(p->env_allow.v[i]) + strlen(v) + 2;
		char *kv = malloc(len);
		if (!kv)
			return -1;
		snprintf(kv, len, "%s=%s", p->env_allow.v[i], v);
		int r = env_put(env, kv);
		free(kv);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; p->net_mode == AL_NET_GATEWAY && i < sizeof proxy_env / sizeof proxy_env[0]; i++)
		if (env_put(env, proxy_env[i]) < 0)
			return -1;
	for (size_t i = 0; i < p->env_set.n; i++)
		if (env_put(env, p->env_set.v[i]) < 0)
			return -1;
	/* A secret's real value never crosses, under whatever name the
	 * caller's environment or the policy holds it, alone or inside a
	 * longer value (a URL, "Bearer ..."): its placeholder does. */
	for (size_t i = 0; i < env->n; i++)
		if (scrub_values(&sb->cred.set, &env->v[i]) < 0)
			return -1;
	return credrun_env(sb, env_put, env);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* argv, env, cwd as NUL-terminated strings in a sealed memfd. */
static int make_payload(const al_exec *ex, const struct al_strlist *env, int *argc, al_error *err)
{
	_cleanup_close_ int fd = memfd_create("airlock-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return al_errno(err, "memfd_create");
	int n = 0;
	for (; ex->argv[n]; n++)
		if (write_all(fd, ex->argv[n], strlen(ex->argv[n]) + 1) < 0)
			return al_errno(err, "writing exec request");
	for (size_t i = 0; i < env->n; i++)
		if (write_all(fd, env->v[i], strlen(env->v[i]) + 1) < 0)
			return al_errno(err, "writing exec request");
	const char *cwd = ex->cwd ? ex->cwd : "/workspace";
	if (write_all(fd, cwd, strlen(cwd) + 1) < 0)
		return al_errno(err, "writing exec request");
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	*argc = n;
	return al_steal_fd(&fd);
}

/* stdout and stderr always pass through the supervisor: it counts them, caps
 * them, gates them, and it never blocks on a slow reader — data
 * is written only when the caller's fd reports room, so a reader that stops
 * reading cannot stall the timeout or the seccomp listener. */
#define RELAY_CHUNK 4096 /* at most PIPE_BUF once POLLOUT is seen: no blocking */

struct relay {
	int src;		/* read end of the command's pipe, -1 when closed */
	int dst;		/* caller's fd, -1 = discard */
	char buf[65536];
	size_t off, len;	/* pending bytes data[off..len) */
	struct scanner *gate;	/* the output gate, or NULL: bytes pass as read */
	uint64_t bytes;		/* taken from the command so far (output.max_bytes) */
	char *gout;		/* with a gate or a terminal: what they let through (the data) */
	size_t gcap;
	bool term;		/* dst is a terminal: control sequences shown as text */
	struct termfilter tf;
};

static bool relay_collects(const struct relay *r) { return r->gate || r->term; }
static char *relay_data(struct relay *r) { return relay_collects(r) ? r->gout : r->buf; }

/* The gate's output for this stream, appended to what is pending. */
static void gate_emit(void *arg, const char *p, size_t n)
{
	struct relay *r = arg;
	if (r->len + n > r->gcap) {
		size_t cap = 2 * (r->len + n);
		char *g = realloc(r->gout, cap);
		if (!g)
			return; /* fail closed: dropped, not passed ungated */
		r->gout = g;
		r->gcap = cap;
	}
	memcpy(r->gout + r->len, p, n);
	r->len += n;
}

/* What the terminal filter lets through goes on to the gate, if any. */
static void term_emit(void *arg, const char *p, size_t n)
{
	struct relay *r = arg;
	if (r->gate)
		scan_feed(r->gate, p, n, gate_emit, r);
	else
		gate_emit(r, p, n);
}

/* Bytes of airlock's own (a truncation marker): after the gate. */
static void relay_append(struct relay *r, const char *p, size_t n)
{
	if (relay_collects(r))
		gate_emit(r, p, n);
	else if (r->len + n <= sizeof r->buf) {
		memcpy(r->buf + r->len, p, n);
		r->len += n;
	}
}

/* End of a stream: the gate lets go of what it held back. */
static void relay_finish(struct relay *r)
{
	if (r->term && r->dst >= 0)
		termfilter_finish(&r->tf, term_emit, r);
	if (r->gate && r->dst >= 0)
		scan_finish(r->gate, gate_emit, r);
}

struct exec_loop {
	struct al_sandbox *sb;
	al_result *res;
	struct relay out[2];
	struct cgroup_stats start; /* counters at exec start */
	int timer;
	int memwatch;	/* periodic timer of the RSS watchdog, or -1 */
	uint64_t memwatch_peak;
	int kill_phase; /* 0 running, 1 TERM sent, 2 KILL sent, 3 init killed */
	int interrupts; /* forwarded so far: the next one escalates */
	bool exited, output_capped, memwatch_killed;
	int status, exec_errno;
	uint64_t utime_us, stime_us, maxrss_kb, inblock, oublock;
};

static void arm(int timer, uint64_t ms)
{
	struct itimerspec it = { .it_value = { .tv_sec = (time_t)(ms / 1000),
					       .tv_nsec = (long)(ms % 1000) * 1000000 } };
	if (ms == 0)
		it.it_value.tv_nsec = 1;
	timerfd_settime(timer, 0, &it, NULL);
}

static void send_signal(struct al_sandbox *sb, int sig, int scope)
{
	struct proto_msg m = { .type = MSG_SIGNAL, .a = sig, .b = scope };
	if (sb->sock >= 0)
		proto_send(sb->sock, &m, NULL, 0);
}

/* TERM to everything, KILL after the grace, then the namespace itself. */
static void escalate(struct exec_loop *L)
{
	struct al_sandbox *sb = L->sb;
	switch (L->kill_phase++) {
	case 0:
		send_signal(sb, SIGTERM, SCOPE_ALL);
		arm(L->timer, sb->pol.kill_grace_ms ? sb->pol.kill_grace_ms : 1);
		break;
	case 1:
		send_signal(sb, SIGKILL, SCOPE_ALL);
		arm(L->timer, 1000);
		break;
	default:
		sandbox_kill_init(sb);
		break;
	}
}

static void drop_output(struct exec_loop *L)
{
	for (int i = 0; i < 2; i++) {
		if (L->out[i].src >= 0 || L->out[i].len > L->out[i].off)
			L->res->output_dropped = true;
		if (L->out[i].src >= 0)
			close(L->out[i].src);
		L->out[i].src = -1;
		L->out[i].off = L->out[i].len = 0;
	}
}

static void on_timer(struct exec_loop *L)
{
	uint64_t ticks;
	(void)!read(L->timer, &ticks, sizeof ticks);
	if (L->kill_phase == 0 && !L->output_capped)
		L->res->reason = AL_EXIT_TIMEOUT;
	escalate(L);
}

static void on_interrupt(struct exec_loop *L)
{
	uint64_t n;
	(void)!read(L->sb->intr_fd, &n, sizeof n);
	int sig = L->sb->intr_signo ? L->sb->intr_signo : SIGTERM;
	L->sb->intr_signo = 0;
	if (L->exited) { /* the command is gone: stop waiting for the reader */
		drop_output(L);
		return;
	}
	if (sig == SIGKILL) {
		L->kill_phase = L->kill_phase < 1 ? 1 : L->kill_phase;
		escalate(L); /* straight to KILL */
		return;
	}
	if (L->interrupts++ == 0 && n == 1 && L->kill_phase == 0) {
		/* First interrupt: pass it on, as a shell would to its foreground job. */
		send_signal(L->sb, sig, SCOPE_GROUP);
		return;
	}
	escalate(L); /* the command ignored it: TERM all, grace, KILL */
}

static void cap_output(struct exec_loop *L)
{
	static const char marker[] = "\n[airlock: output limit reached; output truncated]\n";
	L->output_capped = true;
	/* close our read ends: writers now get EPIPE / SIGPIPE */
	for (int i = 0; i < 2; i++)
		if (L->out[i].src >= 0) {
			close(L->out[i].src);
			L->out[i].src = -1;
			relay_finish(&L->out[i]);
		}
	struct relay *r = &L->out[1];
	if (r->dst >= 0)
		relay_append(r, marker, sizeof marker - 1);
	if (L->kill_phase == 0 && !L->exited)
		escalate(L); /* TERM now, KILL after the grace */
}

/* output.max_bytes on one stream: a marker, then the stream is closed, so
 * its writers get EPIPE (SIGPIPE); the run goes on with the other. */
static void cap_stream(struct exec_loop *L, struct relay *r)
{
	char marker[128];
	bool is_out = r == &L->out[0];
	int n = snprintf(marker, sizeof marker, "\n[airlock: %s truncated after %llu bytes (output.max_bytes)]\n",
			 is_out ? "stdout" : "stderr", (unsigned long long)r->bytes);
	*(is_out ? &L->res->stdout_truncated : &L->res->stderr_truncated) = true;
	close(r->src);
	r->src = -1;
	relay_finish(r);
	if (r->dst >= 0)
		relay_append(r, marker, (size_t)n);
}

static void on_output(struct exec_loop *L, struct relay *r)
{
	ssize_t n = read(r->src, r->buf, sizeof r->buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(r->src);
		r->src = -1;
		relay_finish(r);
		return;
	}
	/* two caps: resources.output_limit over the run (ends it) and
	 * output.max_bytes per stream (ends that stream) */
	uint64_t limit = L->sb->pol.output_limit, smax = L->sb->pol.out_max_bytes;
	uint64_t run_left = limit ? limit - L->res->output_bytes : UINT64_MAX;
	uint64_t stream_left = smax ? smax - r->bytes : UINT64_MAX;
	uint64_t left = run_left < stream_left ? run_left : stream_left;
	size_t take = (uint64_t)n > left ? (size_t)left : (size_t)n;
	bool run_cap = take < (size_t)n && run_left <= stream_left;
	bool stream_cap = take < (size_t)n && !run_cap;
	L->res->output_bytes += take;
	r->bytes += take;
	r->off = 0;
	r->len = 0;
	if (r->dst >= 0 && r->term)
		termfilter_feed(&r->tf, r->buf, take, term_emit, r);
	else if (r->dst >= 0 && r->gate)
		scan_feed(r->gate, r->buf, take, gate_emit, r);
	else if (r->dst >= 0)
		r->len = take;
	if (run_cap)
		cap_output(L);
	else if (stream_cap)
		cap_stream(L, r);
}

/* write() to a closed pipe raises SIGPIPE, which would kill a program that
 * embeds the library and never asked for it: block it around the write and
 * consume any that was raised for this thread. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t n = write(fd, buf, len);
	int saved = errno;
	if (n < 0 && errno == EPIPE) {
		struct timespec zero = { 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static void on_writable(struct exec_loop *L, struct relay *r)
{
	size_t chunk = r->len - r->off < RELAY_CHUNK ? r->len - r->off : RELAY_CHUNK;
	ssize_t n = write_nosigpipe(r->dst, relay_data(r) + r->off, chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* the reader is gone: discard from now on */
		r->dst = -1;
		r->off = r->len = 0;
		return;
	}
	r->off += (size_t)n;
	if (r->off == r->len)
		r->off = r->len = 0;
}

/* The command has ended (or init is gone). The wall clock no longer
 * applies: what output is left goes to the reader at its own pace, as with
 * any program writing to a pipe; an interrupt drops it. */
static void mark_exited(struct exec_loop *L, int status)
{
	struct itimerspec off = { 0 };
	L->exited = true;
	L->status = status;
	timerfd_settime(L->timer, 0, &off, NULL);
}

static void on_control(struct exec_loop *L)
{
	struct proto_msg m;
	ssize_t n = proto_recv(L->sb->sock, &m, NULL, NULL);
	if (n <= 0) {
		/* init is gone (killed by us, the OOM killer, or from outside) */
		if (!L->exited)
			mark_exited(L, SIGKILL); /* as a wait status: killed by SIGKILL */
		close(L->sb->sock);
		L->sb->sock = -1;
	} else if (m.type == MSG_EXITED) {
		mark_exited(L, m.a);
		L->exec_errno = m.b;
		L->utime_us = m.utime_us;
		L->stime_us = m.stime_us;
		L->maxrss_kb = m.maxrss_kb;
		L->inblock = m.inblock;
		L->oublock = m.oublock;
	}
}

static void on_memwatch(struct exec_loop *L)
{
	uint64_t ticks, bytes, t0 = al_now_us();
	(void)!read(L->memwatch, &ticks, sizeof ticks);
	if (memwatch_sample(L->sb->init_pid, L->sb->idm.host_uid, &bytes) < 0)
		return;
	/* On a host with thousands of processes a sweep is slow: sample less
	 * often rather than starve the relay, listener and timer. */
	uint64_t took_ms = (al_now_us() - t0) / 1000;
	if (took_ms * 4 > MEMWATCH_INTERVAL_MS) {
		long every = (long)(took_ms * 4 < 1000 ? took_ms * 4 : 1000);
		struct itimerspec it = { .it_value = { .tv_nsec = every * 1000000L % 1000000000L,
						       .tv_sec = every / 1000 },
					 .it_interval = { .tv_nsec = every * 1000000L % 1000000000L,
							  .tv_sec = every / 1000 } };
		timerfd_settime(L->memwatch, 0, &it, NULL);
	}
	if (bytes > L->memwatch_peak)
		L->memwatch_peak = bytes;
	if (bytes > L->sb->pol.memory_bytes && !L->memwatch_killed) {
		/* As the kernel's OOM killer would: no grace. */
		L->memwatch_killed = true;
		send_signal(L->sb, SIGKILL, SCOPE_ALL);
	}
}

static void on_listener(struct exec_loop *L)
{
	if (seccomp_notify_serve(L->sb->listener, &L->sb->den) < 0) {
		close(L->sb->listener);
		L->sb->listener = -1;
	}
}

static bool relay_busy(const struct relay *r)
{
	return r->src >= 0 || r->len > r->off;
}

enum watch_kind { W_CONTROL, W_LISTENER, W_TIMER, W_INTR, W_MEMWATCH, W_OUT0, W_OUT1, W_DST0, W_DST1 };

static int run_loop(struct exec_loop *L)
{
	struct al_sandbox *sb = L->sb;
	while (!L->exited || relay_busy(&L->out[0]) || relay_busy(&L->out[1])) {
		struct pollfd pf[9];
		enum watch_kind kinds[9];
		int n = 0;
#define WATCH(fd_, ev_, kind_) \
	do { if ((fd_) >= 0) { pf[n] = (struct pollfd){ .fd = (fd_), .events = (ev_) }; kinds[n++] = (kind_); } } while (0)
		if (!L->exited) {
			WATCH(sb->sock, POLLIN, W_CONTROL);
			WATCH(L->memwatch, POLLIN, W_MEMWATCH);
		}
		WATCH(sb->listener, POLLIN, W_LISTENER);
		WATCH(L->timer, POLLIN, W_TIMER);
		WATCH(sb->intr_fd, POLLIN, W_INTR);
		for (int i = 0; i < 2; i++) {
			struct relay *r = &L->out[i];
			if (r->len > r->off) /* one buffer per stream: drain it first */
				WATCH(r->dst, POLLOUT, i ? W_DST1 : W_DST0);
			else
				WATCH(r->src, POLLIN, i ? W_OUT1 : W_OUT0);
		}
#undef WATCH
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			switch (kinds[i]) {
			case W_CONTROL: on_control(L); break;
			case W_LISTENER: on_listener(L); break;
			case W_TIMER: on_timer(L); break;
			case W_INTR: on_interrupt(L); break;
			case W_MEMWATCH: on_memwatch(L); break;
			case W_OUT0: on_output(L, &L->out[0]); break;
			case W_OUT1: on_output(L, &L->out[1]); break;
			case W_DST0: on_writable(L, &L->out[0]); break;
			case W_DST1: on_writable(L, &L->out[1]); break;
			}
		}
	}
	return 0;
}

/* The run's own secrets, for the gate to catch verbatim and encoded: the
 * values passed in under names that say what they are. */
static bool secret_name(const char *kv)
{
	static const char *const words[] = { "KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL",
					      "AUTH", NULL };
	char name[256];
	size_t n = strcspn(kv, "=");
	if (n >= sizeof name)
		return false;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)(kv[i] >= 'a' && kv[i] <= 'z' ? kv[i] - 32 : kv[i]);
	name[n] = '\0';
	for (size_t i = 0; words[i]; i++)
		if (strstr(name, words[i]))
			return true;
	return false;
}

bool gate_config(const struct al_sandbox *sb, const struct al_strlist *env, struct scan_cfg *cfg,
		 const char *lits[GATE_MAX_LITERALS])
{
	const struct al_policy *p = &sb->pol;
	const struct cred_set *cs = &sb->cred.set;
	size_t n = 0;
	scan_cfg_defaults(cfg);
	cfg->secrets = cfg->entropy = p->out_secret_scanning;
	cfg->entropy_bits = p->out_entropy_bits;
	cfg->instructions = p->out_flag_instructions;
	cfg->strip_html = p->out_strip_html;
	/* First and always, the real values of the run's credentials: the
	 * sandbox never had them, and whatever slipped past the gateway's
	 * masking (an encoded echo) is still caught on the way out. */
	for (size_t i = 0; i < cs->n && n < GATE_MAX_LITERALS; i++)
		lits[n++] = cs->v[i].value;
	for (size_t i = 0; p->out_secret_scanning && i < env->n && n < GATE_MAX_LITERALS; i++) {
		const char *eq = strchr(env->v[i], '=');
		if (eq && strlen(eq + 1) >= 8 && secret_name(env->v[i]) && strncmp(eq + 1, CRED_PREFIX, CRED_PREFIX_LEN))
			lits[n++] = eq + 1;
	}
	cfg->literals = lits;
	cfg->n_literals = n;
	return p->out_secret_scanning || p->out_strip_html || p->out_flag_instructions || cs->n;
}

static int start_gates(struct exec_loop *L, const struct al_strlist *env, al_error *err)
{
	struct scan_cfg cfg;
	const char *lits[GATE_MAX_LITERALS];
	if (!gate_config(L->sb, env, &cfg, lits))
		return 0;
	for (int i = 0; i < 2; i++)
		if (!(L->out[i].gate = scan_new(&cfg)))
			return al_err(err, ENOMEM, "output gate: out of memory");
	L->res->output_gated = true;
	return 0;
}

static void gate_results(struct exec_loop *L)
{
	al_result *res = L->res;
	uint64_t per[SCAN_DETECTOR_COUNT] = { 0 };
	for (int i = 0; i < 2; i++) {
		if (!L->out[i].gate)
			continue;
		const struct scan_stats *st = scan_stats(L->out[i].gate);
		for (int d = 0; d < SCAN_DETECTOR_COUNT; d++)
			per[d] += st->redactions[d];
		res->output_redactions += st->redactions_total;
		res->output_flags += st->flags;
		for (size_t k = 0; k < st->n_samples && res->n_output_flag_samples < 4; k++)
			snprintf(res->output_flag_samples[res->n_output_flag_samples++], sizeof res->output_flag_samples[0],
				 "%s", st->flag_sample[k]);
	}
	size_t used = 0;
	for (int d = 0; d < SCAN_DETECTOR_COUNT; d++)
		if (per[d] && used < sizeof res->output_redacted) {
			int w = snprintf(res->output_redacted + used, sizeof res->output_redacted - used, "%s%s:%llu",
					 used ? "," : "", scan_detector_name((enum scan_detector)d),
					 (unsigned long long)per[d]);
			used += w > 0 ? (size_t)w : 0;
		}
}

static void finish_result(struct exec_loop *L, uint64_t t0)
{
	struct al_sandbox *sb = L->sb;
	al_result *res = L->res;
	struct cgroup_stats cs = { 0 };
	if (sb->cg)
		cgroup_read_stats(sb->cg, &cs);
	/* counters are per cgroup, i.e. per sandbox: this exec's share only */
	bool oom = cs.oom_kills > L->start.oom_kills || L->memwatch_killed;
	bool pids_hit = cs.pids_max_events > L->start.pids_max_events;
	res->wall_us = al_now_us() - t0;
	res->cpu_user_us = L->utime_us - sb->rusage_utime_us;
	res->cpu_sys_us = L->stime_us - sb->rusage_stime_us;
	sb->rusage_utime_us = L->utime_us;
	res->read_bytes = (L->inblock - sb->rusage_inblock) * 512;
	res->write_bytes = (L->oublock - sb->rusage_oublock) * 512;
	sb->rusage_inblock = L->inblock;
	sb->rusage_oublock = L->oublock;
	sb->rusage_stime_us = L->stime_us;
	res->peak_memory_bytes = cs.peak_memory ? cs.peak_memory
				 : L->memwatch_peak > L->maxrss_kb * 1024 ? L->memwatch_peak
				 : L->maxrss_kb * 1024;
	res->peak_pids = cs.peak_pids;
	res->oom_kill = oom;

	int st = L->status;
	bool signaled = WIFSIGNALED(st);
	if (L->exec_errno) {
		res->reason = AL_EXIT_EXITED;
		res->exit_status = WEXITSTATUS(st);
		res->exit_code = L->exec_errno == ENOENT ? 127 : 126;
		snprintf(res->exec_error, sizeof res->exec_error, "%s", strerror(L->exec_errno));
	} else if (res->reason == AL_EXIT_TIMEOUT) {
		res->term_signal = signaled ? WTERMSIG(st) : 0;
		res->exit_status = signaled ? 0 : WEXITSTATUS(st);
		res->exit_code = 124;
	} else if (oom && signaled && WTERMSIG(st) == SIGKILL) {
		res->reason = AL_EXIT_OOM;
		res->term_signal = SIGKILL;
		res->exit_code = 128 + SIGKILL;
	} else if (signaled) {
		res->reason = L->output_capped ? AL_EXIT_OUTPUT_LIMIT
			      : pids_hit ? AL_EXIT_PIDS_LIMIT : AL_EXIT_SIGNALED;
		res->term_signal = WTERMSIG(st);
		res->exit_code = 128 + WTERMSIG(st);
	} else {
		res->exit_status = WEXITSTATUS(st);
		res->exit_code = res->exit_status;
		res->reason = L->output_capped ? AL_EXIT_OUTPUT_LIMIT
			      : (pids_hit && res->exit_status) ? AL_EXIT_PIDS_LIMIT
			      : AL_EXIT_EXITED;
	}
	res->denied_total = sb->den.total;
	res->n_denied = sb->den.n;
	for (size_t i = 0; i < sb->den.n && i < AL_MAX_DENIALS; i++) {
		seccomp_syscall_name(sb->den.v[i].nr, res->denied[i].name, sizeof res->denied[i].name);
		res->denied[i].count = sb->den.v[i].count;
	}
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* The command's stdin must not be a way to write back to the caller past the
 * output gate (a terminal or file is often open read-write). Read-only fds
 * are passed as they are; others are opened again read-only at the same
 * offset; a socket (socketpair stdio, as libuv makes) is passed with its
 * write direction shut. Anything else becomes /dev/null. */
static int reopen_stdin(int fd)
{
	if (fd < 0)
		return open_null(O_RDONLY);
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY)
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	char path[32];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int r = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r >= 0) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		if (pos > 0)
			lseek(r, pos, SEEK_SET);
		return r;
	}
	int type = 0;
	socklen_t len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    shutdown(fd, SHUT_WR) == 0)
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return open_null(O_RDONLY);
}

static void drain_interrupts(struct al_sandbox *sb)
{
	uint64_t n;
	(void)!read(sb->intr_fd, &n, sizeof n);
	sb->intr_signo = 0;
}

static int start_memwatch(struct exec_loop *L, al_error *err)
{
	const struct al_sandbox *sb = L->sb;
	if (!sb->pol.memory_bytes || sb->cgst.memory)
		return 0;
	L->memwatch = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec every = {
		.it_value = { .tv_nsec = MEMWATCH_INTERVAL_MS * 1000000L },
		.it_interval = { .tv_nsec = MEMWATCH_INTERVAL_MS * 1000000L },
	};
	if (L->memwatch < 0 || timerfd_settime(L->memwatch, 0, &every, NULL) < 0)
		return al_errno(err, "memory watchdog timer");
	return 0;
}

AL_API int al_sandbox_exec(al_sandbox *sb, const al_exec *ex, al_result *res, al_error *err)
{
	memset(res, 0, sizeof *res);
	res->exit_code = 125;
	if (!ex->argv || !ex->argv[0])
		return al_err(err, EINVAL, "no command given");
	if (sb->sock < 0)
		return al_err(err, EPIPE, "the sandbox is no longer running");
	if (atomic_exchange(&sb->busy, true))
		return al_err(err, EBUSY, "a command is already running in this sandbox");
	uint64_t t0 = al_now_us();
	memset(&sb->den, 0, sizeof sb->den);
	drain_interrupts(sb);
	bool audited = false;
	if (sb->audit) {
		if (audit_exec_start(sb->audit, sb, ex, sb->run_id, err) < 0) {
			atomic_store(&sb->busy, false);
			return -1;
		}
		audited = true;
	}
	gwproc_mark(sb);

	struct exec_loop L = { .sb = sb, .res = res, .timer = -1, .memwatch = -1,
			       .out = { { .src = -1, .dst = ex->stdout_fd }, { .src = -1, .dst = ex->stderr_fd } } };
	/* To a terminal, the command's control sequences are shown, not obeyed
	 * (termfilter.h): the clipboard, the title and the input are the
	 * caller's. A pipe or a file gets the bytes as they are. */
	for (int i = 0; i < 2; i++)
		L.out[i].term = L.out[i].dst >= 0 && isatty(L.out[i].dst);
	struct al_strlist env = { 0 };
	int fds[4] = { -1, -1, -1, -1 }; /* payload, stdin, stdout, stderr */
	int rc = -1, argc = 0;
	if (sb->cg)
		cgroup_read_stats(sb->cg, &L.start);

	if (argv_holds_value(sb, ex, err) < 0)
		goto out;
	if (exec_build_env(sb, &env) < 0) {
		al_err(err, ENOMEM, "out of memory");
		goto out;
	}
	if (start_gates(&L, &env, err) < 0)
		goto out;
	fds[0] = make_payload(ex, &env, &argc, err);
	if (fds[0] < 0)
		goto out;
	fds[1] = reopen_stdin(ex->stdin_fd);
	for (int i = 0; i < 2; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			al_errno(err, "pipe");
			goto out;
		}
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		L.out[i].src = p[0];
		fds[2 + i] = p[1];
	}
	if (fds[1] < 0) {
		al_errno(err, "preparing stdin");
		goto out;
	}
	L.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (L.timer < 0) {
		al_errno(err, "timerfd_create");
		goto out;
	}
	if (sb->pol.timeout_ms)
		arm(L.timer, sb->pol.timeout_ms);
	if (start_memwatch(&L, err) < 0)
		goto out;

	struct proto_msg m = { .type = MSG_EXEC, .a = argc, .b = (int)env.n,
			       .c = ex->last && !sb->pol.copy_out.n };
	if (proto_send(sb->sock, &m, fds, 4) < 0) {
		/* init may have died setting up: its own word on why comes first */
		int e = errno;
		if (sandbox_ready(sb, err) == 0) {
			errno = e;
			al_errno(err, "sending the command to the sandbox");
		}
		goto out;
	}
	for (int i = 0; i < 4; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	/* sync 2, if create left it to us: the request is already queued */
	if (sandbox_ready(sb, err) < 0)
		goto out;
	if (run_loop(&L) < 0) {
		al_errno(err, "supervising the command");
		/* whatever runs in there is out of our hands now: end it all */
		sandbox_kill_init(sb);
		goto out;
	}
	if (L.exec_errno == EBUSY) {
		al_err(err, EBUSY, "a command is already running in this sandbox");
		goto out;
	}
	finish_result(&L, t0);
	gate_results(&L);
	gwproc_sync(sb);
	gwproc_summary(sb, res);
	if (L.exec_errno) {
		al_err(err, L.exec_errno, "cannot execute '%s': %s", ex->argv[0], res->exec_error);
		err->exit_code = res->exit_code;
		goto out;
	}
	rc = 0;
out:
	if (audited) /* every run_start gets its run_end, whatever happened */
		audit_exec_end(sb->audit, sb, res);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < 2; i++) {
		if (L.out[i].src >= 0)
			close(L.out[i].src);
		scan_free(L.out[i].gate);
		free(L.out[i].gout);
	}
	if (L.timer >= 0)
		close(L.timer);
	if (L.memwatch >= 0)
		close(L.memwatch);
	al_strlist_clear(&env);
	atomic_store(&sb->busy, false);
	return rc;
}

AL_API const char *al_exit_reason_name(enum al_exit_reason r)
{
	static const char *const names[] = {
		[AL_EXIT_NONE] = "none", [AL_EXIT_EXITED] = "exited", [AL_EXIT_SIGNALED] = "signaled",
		[AL_EXIT_TIMEOUT] = "timeout", [AL_EXIT_OOM] = "oom", [AL_EXIT_PIDS_LIMIT] = "pids_limit",
		[AL_EXIT_OUTPUT_LIMIT] = "output_limit", [AL_EXIT_SUPERVISOR] = "supervisor",
	};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}
