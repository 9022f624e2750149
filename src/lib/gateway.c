/* The egress gateway: the sandbox's only way out.
 *
 * One process, one epoll loop, outside the sandbox. In a run it owns a
 * listening socket that the sandbox's init created inside the sandbox's
 * network namespace (127.0.0.1:3128 there); standalone it listens on a host
 * address. Each client connection speaks an HTTP proxy request (CONNECT, or
 * an absolute-URI request forwarded with keep-alive towards the client) or
 * SOCKS5, told apart by the first byte. Every request is decided by
 * egress.c (names, then the addresses they resolve to, then rate limits)
 * before any byte goes upstream, and every decision becomes one JSON line.
 *
 * Data path: tunnels move bytes with splice(2) through a pipe per direction,
 * so payload never enters user space and an idle tunnel costs a few hundred
 * bytes of memory; plain-HTTP messages go through small buffers because their
 * heads are parsed and rewritten. Names are resolved by a few threads running
 * getaddrinfo (the only blocking call), which hand results back over a pipe.
 *
 * Credentials: a tunnel to a host that a secret is bound to is not spliced.
 * The gateway verifies the upstream's certificate against this host's trust
 * store, then answers the client with a certificate from the run's own CA
 * (which only the sandbox trusts), and both sides become TLS ends in this
 * loop (TLS_WANT_* as EAGAIN). What flows between them is read as HTTP/1.1
 * requests, each decided and rewritten by cred.c (the placeholder becomes
 * the secret) and logged with the secret's name, method and path; echoes of
 * a value in responses are masked. Placeholders are looked for wherever
 * the gateway reads plaintext: one sent anywhere else is refused.
 *
 * Fail closed: anything the gateway cannot parse, decide or reach is refused
 * with a reason (403/429/502/504 and their SOCKS codes); if the gateway dies,
 * its socket dies with it and the sandbox has no network at all.
 */
#include "egress.h"
#include "cred.h"
#include "http_parse.h"
#include "socks5.h"
#include "tls_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>

#define BUF_CAP (64 * 1024)	  /* a plain-HTTP direction's buffer, and the head limit */
#define PIPE_CAP (64 * 1024)	  /* what a splice pipe holds by default */
#define PIPE_BULK (1024 * 1024)	  /* a direction that has moved BULK_AFTER bytes */
#define BULK_AFTER (1024 * 1024)  /* ... gets a pipe this large: fewer wake-ups */
#define SWEEP_US (100 * 1000)	  /* timeouts are checked this often */
#define CLOSE_GRACE_US (5 * 1000000ull) /* to deliver a refusal before closing */
#define RESOLVERS 4
#define MAX_ADDRS 8
#define ACCEPT_SLACK 32		  /* accepted beyond the limit, to be told 429 */
#define DRIVE_ROUNDS 16		  /* per wake-up: one busy tunnel must not starve others */
#define MAX_QUEUED_MIN 64	  /* resolver queue bound: max(this, max_connections) */
#define EVENTS_CAP (16u << 20)	  /* per exec; past it deny events are counted, not written */
#define EVENTS_HARD_CAP (64u << 20) /* ... and past this, allow events too */
#define LOCAL_US (10 * 1000000ull)

enum cstate {
	C_SNIFF,	/* nothing read yet */
	C_HTTP_HEAD,	/* reading a request head */
	C_SOCKS_GREET,
	C_SOCKS_AUTH,
	C_SOCKS_REQ,
	C_RESOLVING,
	C_CONNECTING,
	C_TLS_UP,	/* credentials: TLS handshake with the upstream */
	C_TLS_DOWN,	/* ... then with the client, after the tunnel's 200 */
	C_TUNNEL,	/* CONNECT or SOCKS5: bytes both ways */
	C_HTTP_FWD,	/* one plain-HTTP request and its response */
	C_CLOSING,	/* delivering a last answer, then close */
};

enum cproto { P_NONE, P_HTTP, P_CONNECT, P_SOCKS, P_TLS /* a request inside a terminated tunnel */ };

struct buf {
	char *p;
	size_t len;
};

struct resolve_job;

/* The last bytes of a stream already passed on: a placeholder split
 * across reads is still found. */
struct stream_tail {
	char b[CRED_PH_LEN];
	size_t len;
};

struct conn {
	struct conn *prev, *next;
	int cfd, ufd;
	uint32_t cev, uev; /* current epoll interest; 0 = not registered (so no
			    * EPOLLHUP can be reported for an fd we do not wait on) */
	enum cstate st;
	enum cproto proto;
	bool dead, over_limit, client_eof, upstream_eof, event_done, keep, lingering;
	uint64_t discarded; /* lingering close: bytes read and dropped */
	struct buf cin, cout, uin, uout;

	/* the request being decided or served */
	char host[256];
	uint16_t port;
	char method[16];
	char addr[INET6_ADDRSTRLEN];
	const char *rule;
	char reason[192];
	int status;
	bool allowed;
	uint64_t rate_mask;
	char client[INET6_ADDRSTRLEN + 8];

	uint64_t t_start, t_active, deadline, throttled_until;
	uint64_t up, down; /* bytes client->upstream, upstream->client */

	struct resolve_job *job;
	struct sockaddr_storage addrs[MAX_ADDRS];
	size_t n_addrs, next_addr;

	/* tunnel */
	int pipe_up[2], pipe_down[2];
	size_t in_up, in_down;
	size_t cap_up, cap_down; /* the pipes' sizes */
	bool grown_up, grown_down; /* asked for PIPE_BULK once */
	bool eof_up, eof_down, shut_up, shut_down;

	/* plain HTTP */
	enum http_body req_body, resp_body;
	uint64_t req_left, resp_left;
	struct http_chunked req_chunk, resp_chunk;
	bool req_done, resp_head_done, resp_done, head_request, client_keep_alive;
	/* an upstream connection kept for the next request to the same place */
	bool up_keep;
	char up_host[256], up_addr[INET6_ADDRSTRLEN];
	uint16_t up_port;

	/* credentials: both ends TLS (the tunnel's host has a secret bound) */
	struct tls_conn *ctls, *utls;
	bool mitm, c_want_out, u_want_out;
	enum cproto tunnel_proto; /* CONNECT or SOCKS: how the tunnel was asked for */
	const char *tunnel_rule;
	ssize_t cred;		  /* the secret the current request used or was refused for; -1 */
	bool exfil;		  /* ... refused as an exfiltration attempt */
	char path[160];		  /* the current request's path, for its event */
	struct stream_tail data_tail; /* a request body's data (chunk framing decoded) */
	struct stream_tail raw_tail;  /* ... and its bytes as sent (chunk extensions, trailers) */
	ssize_t body_hit;	  /* a placeholder found in the request body's data; -1 */
	struct buf rdata;	  /* a chunked response's data, masked, then chunked again */
	bool resp_decoded, resp_term; /* ... its last chunk was read / its end written */
	bool redrive;		  /* drive() stopped at DRIVE_ROUNDS with work left */
};

struct resolve_job {
	struct resolve_job *next;
	struct conn *c;		  /* loop thread only; NULL once the connection left C_RESOLVING */
	atomic_bool cancelled;	  /* the same, for the resolver thread: skip the lookup */
	char host[256];
	int rc;
	struct sockaddr_storage addrs[MAX_ADDRS];
	size_t n;
};

struct gw {
	const struct gateway_config *cfg;
	const struct al_policy *pol;
	struct egress_rules rules;
	int ep, sigfd, res_pipe[2];
	struct conn *live, *zombies;
	size_t n_live;
	bool listening, stop, in_sync;
	uint64_t now, last_sweep;
	char auth_b64[700];
	struct sockaddr_storage *local;
	size_t n_local;
	uint64_t local_read;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct resolve_job *queue, *queue_tail;
	size_t queued;		/* jobs not yet handed back: bounded */
	bool sync_pending;	/* 'S' arrived: handled after the current batch */
	struct gw_counters counters; /* since the last sync */
	uint64_t event_bytes;	/* written to events_fd since the last sync */
	pthread_t threads[RESOLVERS];
	size_t n_threads;

	/* credentials */
	const struct tls_api *tls;   /* NULL = no secret in this run */
	const struct cred_set *creds;
	uint64_t cred_t0;	     /* TTLs count from here: the gateway's start, then each exec */
	size_t value_max;	     /* the longest secret value */
	bool redrive;		     /* some connection has redrive set */
};

/* epoll tags that are not connections (a connection is tagged by its
 * address, its upstream side by the address + 1) */
static int tag_listen, tag_ctl, tag_sig, tag_res;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- buffers ------------------------------------------------------------ */

static size_t room(const struct buf *b) { return BUF_CAP - b->len; }

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (n > room(b))
		return -1;
	if (!b->p && !(b->p = malloc(BUF_CAP)))
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_take(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* One side of a connection: the socket, or the TLS end on it. A TLS call
 * that has to wait reads as EAGAIN, and says which way it waits. */
static const struct tls_api *tls_api;

static ssize_t tls_result(struct conn *c, bool up, ssize_t r)
{
	*(up ? &c->u_want_out : &c->c_want_out) = r == TLS_WANT_WRITE;
	if (r == TLS_WANT_READ || r == TLS_WANT_WRITE)
		errno = EAGAIN;
	else if (r < 0)
		errno = EIO;
	return r < 0 ? -1 : r;
}

static ssize_t io_recv(struct conn *c, bool up, void *p, size_t n)
{
	struct tls_conn *t = up ? c->utls : c->ctls;
	if (!t)
		return recv(up ? c->ufd : c->cfd, p, n, 0);
	return tls_result(c, up, tls_api->read(t, p, n));
}

static ssize_t io_send(struct conn *c, bool up, const void *p, size_t n)
{
	struct tls_conn *t = up ? c->utls : c->ctls;
	if (!t)
		return send(up ? c->ufd : c->cfd, p, n, MSG_NOSIGNAL);
	ssize_t r = tls_api->write(t, p, n);
	if (r == 0 && n) { /* nothing written of something is no progress: an error */
		errno = EPIPE;
		return -1;
	}
	return tls_result(c, up, r);
}

/* read up to max bytes; > 0 = got that many, 0 = nothing now, -1 = EOF or error */
static ssize_t buf_read(struct conn *c, bool up, struct buf *b, uint64_t max)
{
	size_t want = room(b) < max ? room(b) : (size_t)max;
	if (!want)
		return 0;
	if (!b->p && !(b->p = malloc(BUF_CAP)))
		return -1;
	ssize_t n = io_recv(c, up, b->p + b->len, want);
	if (n > 0) {
		b->len += (size_t)n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

/* Write the first `upto` bytes of b (all of them: SIZE_MAX). */
static int buf_write_upto(struct conn *c, bool up, struct buf *b, size_t upto, uint64_t *counter)
{
	size_t done = 0;
	while (b->len && done < upto) {
		size_t want = b->len < upto - done ? b->len : upto - done;
		ssize_t n = io_send(c, up, b->p, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0)
			return -1;
		if (counter)
			*counter += (uint64_t)n;
		buf_take(b, (size_t)n);
		done += (size_t)n;
	}
	return 1;
}

static int buf_write(struct conn *c, bool up, struct buf *b, uint64_t *counter)
{
	return buf_write_upto(c, up, b, SIZE_MAX, counter);
}

/* 1 = wrote everything, 0 = blocked, -1 = error. Bytes written are added
 * to *counter, and to the byte buckets of mask (rules may be NULL). */
static int buf_write_rated(struct conn *c, bool up, struct buf *b, size_t upto, uint64_t *counter,
			   struct egress_rules *rules, uint64_t mask)
{
	size_t before = b->len;
	int r = buf_write_upto(c, up, b, upto, counter);
	if (rules && before > b->len)
		egress_rate_bytes_spend(rules, mask, before - b->len);
	return r;
}

/* ---- events ------------------------------------------------------------- */

static const char *proto_name(enum cproto p)
{
	switch (p) {
	case P_HTTP: return "http";
	case P_CONNECT: return "connect";
	case P_SOCKS: return "socks5";
	case P_TLS: return "https";
	default: return "unknown";
	}
}

static void write_line(int fd, const char *line, size_t len)
{
	/* One write per line: concurrent writers (O_APPEND) never interleave. */
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

/* One event per request: to events_fd (the run report, or the standalone
 * log) and, in a run with an audit log, to the audit trail in its schema. */
static void write_event(struct gw *g, struct conn *c)
{
	char body[1800], line[2048], ts[40];
	struct timespec rt;
	struct tm tm;
	if (c->event_done)
		return;
	c->event_done = true;
	struct gw_counters *k = &g->counters;
	if (c->allowed)
		k->allowed++;
	else
		k->denied++;
	k->bytes_up += c->up;
	k->bytes_down += c->down;
	clock_gettime(CLOCK_REALTIME, &rt);
	gmtime_r(&rt.tv_sec, &tm);
	size_t tl = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tl, sizeof ts - tl, ".%03ldZ", rt.tv_nsec / 1000000);
	FILE *f = fmemopen(body, sizeof body - 1, "w");
	if (!f)
		return;
	fprintf(f, "\"proto\":\"%s\"", proto_name(c->proto));
	if (g->cfg->log_client) {
		fputs(",\"client\":", f);
		json_write_string(f, c->client);
	}
	fputs(",\"host\":", f);
	json_write_string(f, c->host);
	fprintf(f, ",\"port\":%u,\"address\":", c->port);
	json_write_string(f, c->addr);
	if (c->method[0]) {
		fputs(",\"method\":", f);
		json_write_string(f, c->method);
	}
	if (c->path[0]) {
		fputs(",\"path\":", f);
		json_write_string(f, c->path);
	}
	if (c->cred >= 0 && g->creds && (size_t)c->cred < g->creds->n) {
		fputs(",\"credential\":", f);
		json_write_string(f, g->creds->v[c->cred].s->name);
	}
	if (c->exfil)
		fputs(",\"exfiltration\":true", f);
	fprintf(f, ",\"verdict\":\"%s\",\"rule\":", c->allowed ? "allow" : "deny");
	json_write_string(f, c->rule ? c->rule : "");
	fputs(",\"reason\":", f);
	json_write_string(f, c->reason);
	fprintf(f, ",\"status\":%d,\"bytes_up\":%llu,\"bytes_down\":%llu,\"duration_ms\":%.3f}\n",
		c->status, (unsigned long long)c->up, (unsigned long long)c->down,
		(double)(now_us() - c->t_start) / 1000.0);
	long blen = ftell(f);
	fclose(f);
	if (blen <= 0 || (size_t)blen >= sizeof body - 1)
		return;
	body[blen] = '\0';
	if (g->cfg->audit_fd >= 0) {
		/* the audit trail is never capped: it is the operator's file */
		int n = snprintf(line, sizeof line, "{\"v\":1,\"time\":\"%s\",\"run\":\"%.16s\",\"agent\":\"%s\","
				 "\"event\":\"egress\",%s", ts, g->cfg->run_id ? (const char *)g->cfg->run_id : "",
				 g->cfg->agent ? g->cfg->agent : "", body);
		if (n > 0 && (size_t)n < sizeof line)
			write_line(g->cfg->audit_fd, line, (size_t)n);
	}
	if (g->cfg->events_fd < 0)
		return;
	int n = snprintf(line, sizeof line, "{\"type\":\"egress\",\"time\":\"%s\",%s", ts, body);
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	/* In a run the report's copy is bounded per exec: a flood of refusals
	 * must not grow the supervisor's memory, nor push out what was
	 * allowed; what is not written is counted. */
	if (g->cfg->ctl_fd >= 0 &&
	    (g->event_bytes >= EVENTS_HARD_CAP || (g->event_bytes >= EVENTS_CAP && !c->allowed))) {
		k->events_dropped++;
		return;
	}
	g->event_bytes += (uint64_t)n;
	write_line(g->cfg->events_fd, line, (size_t)n);
}

/* ---- connection lifecycle ----------------------------------------------- */

static void set_interest(struct gw *g, int fd, uint32_t *cur, uint32_t want, void *tag)
{
	if (fd < 0 || *cur == want)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = tag };
	int op = !want ? EPOLL_CTL_DEL : *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(g->ep, op, fd, &ev) == 0)
		*cur = want;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_upstream(struct conn *c)
{
	if (c->utls) {
		/* a close_notify also keeps the session resumable (OpenSSL
		 * drops sessions of connections freed without one) */
		tls_api->shutdown(c->utls);
		tls_api->free(c->utls);
	}
	c->utls = NULL;
	close_fd(&c->ufd);
	c->uev = 0;
	close_fd(&c->pipe_up[0]);
	close_fd(&c->pipe_up[1]);
	close_fd(&c->pipe_down[0]);
	close_fd(&c->pipe_down[1]);
	buf_free(&c->uin);
	if (c->mitm && c->uout.p) /* requests with a secret put in went through it */
		explicit_bzero(c->uout.p, BUF_CAP);
	buf_free(&c->uout);
}

static void start_listening(struct gw *g, bool on);

/* The connection no longer waits for its lookup: the job is dropped when
 * it comes back, and the resolver thread skips it if it has not started. */
static void detach_job(struct conn *c)
{
	if (!c->job)
		return;
	atomic_store(&c->job->cancelled, true);
	c->job->c = NULL;
	c->job = NULL;
}

static void conn_close(struct gw *g, struct conn *c)
{
	if (c->dead)
		return;
	write_event(g, c);
	c->dead = true;
	detach_job(c);
	close_upstream(c);
	if (c->ctls) {
		tls_api->shutdown(c->ctls);
		tls_api->free(c->ctls);
		c->ctls = NULL;
	}
	close_fd(&c->cfd);
	c->cev = 0;
	buf_free(&c->cin);
	buf_free(&c->cout);
	buf_free(&c->rdata);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->n_live--;
	/* freed after the current batch of epoll events, which may name it */
	c->next = g->zombies;
	g->zombies = c;
	if (!g->listening && !g->stop)
		start_listening(g, true);
}

static void mask_values(struct gw *g, struct buf *b);
static void mask_cut_value(const struct gw *g, struct buf *b);

/* A refusal: answer in the client's protocol, log, close once delivered. */
static void refuse(struct gw *g, struct conn *c, int status, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void refuse(struct gw *g, struct conn *c, int status, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
	detach_job(c);
	c->status = status;
	c->rule = rule;
	if (c->mitm && c->cout.len) {
		/* what waits for the client (an interim head, a held-back tail)
		 * goes out after all: masked, and no cut value left at its end */
		mask_values(g, &c->cout);
		mask_cut_value(g, &c->cout);
	}
	buf_free(&c->rdata);
	if (c->proto == P_SOCKS) {
		uint8_t rep = SOCKS5_REP_FAILURE, out[10];
		switch (status) {
		case 403: case 429: rep = SOCKS5_REP_NOT_ALLOWED; break;
		case 502: rep = SOCKS5_REP_REFUSED; break;
		case 503: rep = SOCKS5_REP_HOST_UNREACHABLE; break;
		case 504: rep = SOCKS5_REP_TTL_EXPIRED; break;
		case 505: rep = SOCKS5_REP_CMD_UNSUPPORTED; break;
		case 508: rep = SOCKS5_REP_ATYP_UNSUPPORTED; break;
		}
		c->status = rep;
		buf_put(&c->cout, out, socks5_write_reply(rep, out));
	} else if (c->proto != P_NONE) {
		char out[1024];
		size_t n = http_write_error(status == 503 ? 502 : status, c->reason, out, sizeof out);
		buf_put(&c->cout, out, n);
	}
	write_event(g, c);
	close_upstream(c);
	c->st = C_CLOSING;
	c->deadline = g->now + CLOSE_GRACE_US;
}

/* ---- decisions ---------------------------------------------------------- */

static void start_connect(struct gw *g, struct conn *c);
static void connected(struct gw *g, struct conn *c);
static ssize_t foreign_placeholder(struct gw *g, const char *host, uint16_t port, const char *p, size_t n);
static void refuse_exfil(struct gw *g, struct conn *c, ssize_t i, const char *where);
static void start_tls_up(struct gw *g, struct conn *c);
static void set_addr_text(struct conn *c, const struct sockaddr_storage *ss);
static void drive(struct gw *g, struct conn *c);

/* The addresses of this host's interfaces: a request to them is lateral
 * movement into the host (its services listen there), not egress. */
static void read_local_addrs(struct gw *g)
{
	struct ifaddrs *ifa = NULL;
	g->local_read = g->now;
	if (getifaddrs(&ifa) < 0)
		return;
	size_t n = 0;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
		n++;
	struct sockaddr_storage *v = calloc(n ? n : 1, sizeof *v);
	if (!v) { /* keep the old list */
		freeifaddrs(ifa);
		return;
	}
	free(g->local);
	g->local = v;
	g->n_local = 0;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			memcpy(&g->local[g->n_local++], i->ifa_addr,
			       i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
								 : sizeof(struct sockaddr_in6));
	freeifaddrs(ifa);
}

/* ::ffff:a.b.c.d is a.b.c.d: judge (and connect to) it as IPv4, so no
 * check that compares families can be sidestepped. */
static void unmap_v4(struct sockaddr_storage *ss)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (ss->ss_family != AF_INET6 || memcmp(&a6->sin6_addr, mapped, 12) != 0)
		return;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = a6->sin6_port };
	memcpy(&a4.sin_addr, (const uint8_t *)&a6->sin6_addr + 12, 4);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &a4, sizeof a4);
}

static bool is_local_addr(struct gw *g, const struct sockaddr *sa)
{
	if (!g->local_read || g->now - g->local_read >= LOCAL_US)
		read_local_addrs(g);
	for (size_t i = 0; i < g->n_local; i++) {
		const struct sockaddr *l = (const struct sockaddr *)&g->local[i];
		if (l->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)l)->sin_addr.s_addr == ((const struct sockaddr_in *)sa)->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)l)->sin6_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) == 0)
			return true;
	}
	/* NAT64 (64:ff9b::a.b.c.d) leads to the IPv4 host inside */
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	if (sa->sa_family == AF_INET6 && memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, nat64, 12) == 0) {
		struct sockaddr_in a4 = { .sin_family = AF_INET };
		memcpy(&a4.sin_addr, (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr + 12, 4);
		return is_local_addr(g, (const struct sockaddr *)&a4);
	}
	return false;
}

static void resolved(struct gw *g, struct conn *c, const struct sockaddr_storage *addrs, size_t n,
		     const char *err)
{
	const char *range = NULL, *special_addr_range = NULL;
	char first_special[INET6_ADDRSTRLEN] = "";
	c->n_addrs = c->next_addr = 0;
	if (err) {
		refuse(g, c, 503, "resolve", "cannot resolve %s: %s", c->host, err);
		return;
	}
	const struct egress_entry *denied = NULL;
	for (size_t i = 0; i < n && c->n_addrs < MAX_ADDRS; i++) {
		struct sockaddr_storage one = addrs[i];
		unmap_v4(&one);
		const struct sockaddr *sa = (const struct sockaddr *)&one;
		const struct egress_entry *d = egress_addr_denied(&g->rules, sa, c->port);
		if (d) { /* the denylist names this address: a name cannot lead there */
			if (!denied)
				set_addr_text(c, &one);
			denied = denied ? denied : d;
			continue;
		}
		bool special = egress_addr_special(sa, &range);
		if (!special && is_local_addr(g, sa)) {
			special = true;
			range = "this host";
		}
		if (special) {
			const struct egress_entry *e = egress_addr_entry(&g->rules, sa, c->port);
			if (!e) {
				if (!special_addr_range) {
					special_addr_range = range;
					const void *a = sa->sa_family == AF_INET ?
						(const void *)&((const struct sockaddr_in *)sa)->sin_addr :
						(const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
					inet_ntop(sa->sa_family, a, first_special, sizeof first_special);
				}
				continue;
			}
		}
		c->addrs[c->n_addrs++] = one;
	}
	if (!c->n_addrs && denied) {
		c->allowed = false;
		refuse(g, c, 403, denied->text, "%s resolves to %s, which is on the denylist", c->host, c->addr);
		return;
	}
	if (!c->n_addrs && special_addr_range) {
		snprintf(c->addr, sizeof c->addr, "%s", first_special);
		c->allowed = false;
		refuse(g, c, 403, "address ranges",
		       "%s resolves to %s (%s), which only an address entry can allow", c->host,
		       first_special, special_addr_range);
		return;
	}
	if (!c->n_addrs) {
		refuse(g, c, 503, "resolve", "no address for %s", c->host);
		return;
	}
	start_connect(g, c);
}

/* Policy, then rate limits, then the name. */
static void decide(struct gw *g, struct conn *c)
{
	struct egress_verdict v;
	ssize_t ph = foreign_placeholder(g, NULL, 0, c->host, strlen(c->host));
	if (ph >= 0) {
		refuse_exfil(g, c, ph, "in a host name");
		return;
	}
	if (c->over_limit) {
		refuse(g, c, 429, "max_connections", "connection limit: %llu concurrent connections",
		       (unsigned long long)g->pol->net_max_connections);
		return;
	}
	egress_decide(&g->rules, c->host, c->port, &v);
	if (!v.allow) {
		refuse(g, c, v.status, v.rule, "%s", v.reason);
		return;
	}
	c->rule = v.rule;
	c->rate_mask = egress_rate_mask(&g->rules, c->host);
	if (!egress_rate_request(&g->rules, c->rate_mask, g->now, &v)) {
		refuse(g, c, 429, v.rule, "%s", v.reason);
		return;
	}
	c->allowed = true;
	c->status = 0;
	c->deadline = g->now + g->pol->net_connect_timeout_ms * 1000;
	c->mitm = g->tls && c->proto != P_HTTP && cred_set_binds(g->creds, c->host, c->port);
	if (c->ufd >= 0 && c->proto == P_HTTP && c->port == c->up_port && strcmp(c->host, c->up_host) == 0) {
		snprintf(c->addr, sizeof c->addr, "%s", c->up_addr);
		connected(g, c); /* the kept connection: decided again, not dialled again */
		return;
	}
	if (c->ufd >= 0) { /* kept for another place: not this one; the head in uout stays */
		struct buf head = c->uout;
		c->uout = (struct buf){ 0 };
		close_upstream(c);
		c->uout = head;
	}
	struct sockaddr_storage ss;
	const struct sockaddr_storage *o;
	if (egress_parse_ip(c->host, &ss)) {
		resolved(g, c, &ss, 1, NULL);
		return;
	}
	if ((o = egress_override(&g->rules, c->host))) {
		resolved(g, c, o, 1, NULL);
		return;
	}
	size_t bound = g->pol->net_max_connections > MAX_QUEUED_MIN ? g->pol->net_max_connections
								    : MAX_QUEUED_MIN;
	if (g->queued >= bound) {
		refuse(g, c, 503, "resolve", "too many name lookups in progress (%zu)", g->queued);
		return;
	}
	struct resolve_job *j = calloc(1, sizeof *j);
	if (!j) {
		refuse(g, c, 503, "resolve", "out of memory");
		return;
	}
	j->c = c;
	/* absolute: the resolver's search list must not turn the name that
	 * was decided into another one */
	snprintf(j->host, sizeof j->host, "%s.", c->host);
	g->queued++;
	c->job = j;
	c->st = C_RESOLVING;
	pthread_mutex_lock(&g->mu);
	if (g->queue_tail)
		g->queue_tail->next = j;
	else
		g->queue = j;
	g->queue_tail = j;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void *resolver_main(void *arg)
{
	struct gw *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (!g->queue)
			pthread_cond_wait(&g->cv, &g->mu);
		struct resolve_job *j = g->queue;
		g->queue = j->next;
		if (!g->queue)
			g->queue_tail = NULL;
		pthread_mutex_unlock(&g->mu);

		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
		j->rc = atomic_load(&j->cancelled) ? EAI_AGAIN : getaddrinfo(j->host, NULL, &hints, &res);
		/* /etc/hosts matches names as written ("localhost", not
		 * "localhost."): a name unknown as absolute is looked up there
		 * as written, and nowhere else. Not through getaddrinfo again:
		 * without the dot, the resolver's search list would turn the name
		 * that was decided ("secret") into another ("secret.corp.example"). */
		if ((j->rc == EAI_NONAME || j->rc == EAI_NODATA) && !atomic_load(&j->cancelled)) {
			FILE *hosts = fopen("/etc/hosts", "re");
			if (hosts) {
				j->n = egress_hosts_lookup(hosts, j->host, j->addrs, MAX_ADDRS);
				fclose(hosts);
			}
			if (j->n)
				j->rc = 0;
		}
		for (struct addrinfo *a = res; a && j->n < MAX_ADDRS; a = a->ai_next)
			if (a->ai_addrlen <= sizeof j->addrs[0] &&
			    (a->ai_family == AF_INET || a->ai_family == AF_INET6))
				memcpy(&j->addrs[j->n++], a->ai_addr, a->ai_addrlen);
		if (res)
			freeaddrinfo(res);
		/* hand the job back; the loop frees it */
		while (write(g->res_pipe[1], &j, sizeof j) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

static void on_resolved(struct gw *g)
{
	struct resolve_job *j;
	while (read(g->res_pipe[0], &j, sizeof j) == sizeof j) {
		struct conn *c = j->c;
		g->queued--;
		if (c)
			c->job = NULL;
		if (c && !c->dead && c->st == C_RESOLVING) {
			resolved(g, c, j->addrs, j->n, j->rc ? gai_strerror(j->rc) : NULL);
			/* a refusal waits in cout, a connect in progress needs its
			 * interest set: the connection was not watched while resolving */
			drive(g, c);
		}
		free(j);
	}
}

/* ---- upstream ----------------------------------------------------------- */

static void set_addr_text(struct conn *c, const struct sockaddr_storage *ss)
{
	const void *a = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
						 : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	inet_ntop(ss->ss_family, a, c->addr, sizeof c->addr);
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void start_connect(struct gw *g, struct conn *c)
{
	int last_err = ECONNREFUSED;
	while (c->next_addr < c->n_addrs) {
		struct sockaddr_storage ss = c->addrs[c->next_addr++];
		set_addr_text(c, &ss);
		socklen_t len;
		if (ss.ss_family == AF_INET) {
			((struct sockaddr_in *)&ss)->sin_port = htons(c->port);
			len = sizeof(struct sockaddr_in);
		} else {
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(c->port);
			len = sizeof(struct sockaddr_in6);
		}
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last_err = errno;
			continue;
		}
		nodelay(fd);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
			last_err = errno;
			close(fd);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = (char *)c + 1 };
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			last_err = errno;
			close(fd);
			continue;
		}
		c->ufd = fd;
		c->uev = EPOLLOUT;
		c->st = C_CONNECTING;
		return;
	}
	refuse(g, c, 502, c->rule, "cannot connect to %s port %u: %s", c->addr, c->port,
	       strerror(last_err));
}

static bool make_pipes(struct conn *c)
{
	c->cap_up = c->cap_down = PIPE_CAP;
	if (pipe2(c->pipe_up, O_NONBLOCK | O_CLOEXEC) < 0)
		return false;
	if (pipe2(c->pipe_down, O_NONBLOCK | O_CLOEXEC) < 0)
		return false;
	return true;
}

/* The tunnel is granted: the answer in the client's protocol. */
static void grant_tunnel(struct conn *c)
{
	static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	if (c->proto == P_CONNECT) {
		buf_put(&c->cout, established, sizeof established - 1);
		c->status = 200;
	} else {
		uint8_t out[10];
		buf_put(&c->cout, out, socks5_write_reply(SOCKS5_REP_OK, out));
		c->status = SOCKS5_REP_OK;
	}
}

static void connected(struct gw *g, struct conn *c)
{
	c->t_active = g->now;
	c->deadline = 0;
	if (c->proto == P_HTTP) {
		c->st = C_HTTP_FWD;
		c->status = 0;
		return;
	}
	if (c->mitm) {
		start_tls_up(g, c);
		return;
	}
	/* bytes the client sent with its request are the one part of a
	 * spliced tunnel the gateway reads: a placeholder there is refused */
	ssize_t ph = foreign_placeholder(g, NULL, 0, c->cin.p, c->cin.len);
	if (ph >= 0) {
		refuse_exfil(g, c, ph, "into a tunnel with its request");
		return;
	}
	if (!make_pipes(c)) {
		refuse(g, c, 502, c->rule, "out of file descriptors");
		return;
	}
	grant_tunnel(c);
	/* bytes the client sent after its request (a TLS hello) go first */
	if (c->cin.len) {
		buf_put(&c->uout, c->cin.p, c->cin.len);
		c->up += c->cin.len;
		egress_rate_bytes_spend(&g->rules, c->rate_mask, c->cin.len);
		c->cin.len = 0;
	}
	buf_free(&c->cin);
	c->st = C_TUNNEL;
}

static void on_connect_ready(struct gw *g, struct conn *c)
{
	int e = 0;
	socklen_t len = sizeof e;
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e == 0) {
		connected(g, c);
		return;
	}
	close_fd(&c->ufd);
	c->uev = 0;
	if (c->next_addr < c->n_addrs) {
		start_connect(g, c);
		return;
	}
	refuse(g, c, 502, c->rule, "cannot connect to %s port %u: %s", c->addr, c->port, strerror(e));
}

/* ---- client requests ---------------------------------------------------- */

/* Constant time in the length of the expected value. */
static bool same_secret(const char *got, size_t n, const char *want)
{
	size_t wl = strlen(want);
	unsigned char d = n != wl;
	for (size_t i = 0; i < wl; i++)
		d |= (unsigned char)(want[i] ^ (i < n ? got[i] : 0));
	return d == 0;
}

static bool http_authorised(struct gw *g, const struct http_request *req)
{
	if (!g->cfg->auth)
		return true;
	const struct http_span *h = http_header_get(req->headers, req->n_headers, "proxy-authorization");
	if (!h || h->n < 6 || strncasecmp(h->p, "basic ", 6) != 0)
		return false;
	const char *p = h->p + 6;
	size_t n = h->n - 6;
	while (n && *p == ' ')
		p++, n--;
	return same_secret(p, n, g->auth_b64);
}

static void begin_request(struct gw *g, struct conn *c)
{
	c->t_start = g->now;
	c->up = c->down = 0;
	c->status = 0;
	c->allowed = false;
	c->event_done = false;
	c->rule = NULL;
	c->reason[0] = c->addr[0] = c->method[0] = c->host[0] = c->path[0] = '\0';
	c->port = 0;
	c->cred = -1;
	c->exfil = false;
}

/* ---- credentials -------------------------------------------------------- */

static void update_ttls(struct gw *g)
{
	for (size_t i = 0; g->creds && i < g->creds->n; i++) {
		uint64_t ttl = g->creds->v[i].s->ttl_ms;
		g->creds->v[i].expired = ttl && g->now - g->cred_t0 >= ttl * 1000;
	}
}

/* The first placeholder in p[0..n) whose secret is not bound to host:port
 * (host NULL: any placeholder), or -1. */
static ssize_t foreign_placeholder(struct gw *g, const char *host, uint16_t port, const char *p, size_t n)
{
	size_t at;
	ssize_t i;
	while (g->creds && n && (i = cred_find(g->creds, p, n, &at)) >= 0) {
		if (!host || !cred_host_matches(g->creds->v[i].s, host, port))
			return i;
		p += at + 1;
		n -= at + 1;
	}
	return -1;
}

/* The same over a body passing in pieces: a placeholder cut in two by a
 * read is found with the tail of the piece before. */
static ssize_t foreign_in_stream(struct gw *g, struct conn *c, struct stream_tail *t, const char *host,
				 const char *p, size_t n)
{
	char edge[2 * CRED_PH_LEN];
	size_t k = n < CRED_PH_LEN ? n : CRED_PH_LEN;
	memcpy(edge, t->b, t->len);
	memcpy(edge + t->len, p, k);
	ssize_t i = foreign_placeholder(g, host, c->port, edge, t->len + k);
	if (i < 0)
		i = foreign_placeholder(g, host, c->port, p, n);
	/* keep the last CRED_PH_LEN - 1 bytes seen */
	size_t keep = CRED_PH_LEN - 1;
	if (n >= keep) {
		memcpy(t->b, p + n - keep, keep);
		t->len = keep;
	} else {
		size_t old = t->len + n > keep ? keep - n : t->len;
		memmove(t->b, t->b + t->len - old, old);
		memcpy(t->b + old, p, n);
		t->len = old + n;
	}
	return i;
}

static void refuse_exfil(struct gw *g, struct conn *c, ssize_t i, const char *where)
{
	c->cred = i;
	c->exfil = true;
	c->allowed = false;
	refuse(g, c, 403, "credentials", "placeholder of %s sent %s (exfiltration attempt)",
	       g->creds->v[i].s->name, where);
}

/* Echoes of a value in what goes back to the client are masked, in place
 * and at the same length, so framing holds. Bytes are only handed on once
 * no value can still be completing at their end (cout_ready). */
static void mask_values(struct gw *g, struct buf *b)
{
	static const char mark[] = "[airlock:credential]";
	for (size_t i = 0; i < g->creds->n; i++) {
		const struct cred_value *v = &g->creds->v[i];
		char *p = b->p, *end = b->p + b->len, *hit;
		while (p < end && (hit = memmem(p, (size_t)(end - p), v->value, v->len))) {
			for (size_t k = 0; k < v->len; k++)
				hit[k] = k < sizeof mark - 1 ? mark[k] : '*';
			p = hit + v->len;
		}
	}
}

/* The longest k > above with b ending in the value's first k bytes (a
 * proper start: k < its length), or 0. */
static size_t start_at_end(const struct buf *b, const struct cred_value *v, size_t above)
{
	for (size_t k = v->len - 1 < b->len ? v->len - 1 : b->len; k > above; k--)
		if (b->p[b->len - k] == v->value[0] && memcmp(b->p + b->len - k, v->value, k) == 0)
			return k;
	return 0;
}

/* How many bytes at the end of b could be the start of a value: those
 * wait for what follows (only a real prefix: a stream is not stalled). */
static size_t value_prefix_at_end(const struct gw *g, const struct buf *b)
{
	size_t hold = 0;
	for (size_t i = 0; i < g->creds->n; i++) {
		size_t k = start_at_end(b, &g->creds->v[i], hold);
		hold = k > hold ? k : hold;
	}
	return hold;
}

/* A message ends (or is cut) with the start of a value: that is an echo
 * cut short, not data; all but its last byte would give the value away.
 * A start of 8 bytes or half the value is masked. */
static void mask_cut_value(const struct gw *g, struct buf *b)
{
	for (size_t i = 0; i < g->creds->n; i++) {
		const struct cred_value *v = &g->creds->v[i];
		size_t k = start_at_end(b, v, 0);
		if (k && (k >= 8 || 2 * k >= v->len))
			memset(b->p + b->len - k, '*', k);
	}
}

/* How much of cout may be written now. */
static size_t cout_ready(struct gw *g, struct conn *c)
{
	if (!c->mitm || !c->cout.len)
		return c->cout.len;
	mask_values(g, &c->cout);
	if (c->st == C_HTTP_FWD && !c->resp_done)
		return c->cout.len - value_prefix_at_end(g, &c->cout);
	mask_cut_value(g, &c->cout);
	return c->cout.len;
}

/* The upstream is connected: before the client hears anything, prove it
 * is the host (its certificate, against this host's trust store). */
static void start_tls_up(struct gw *g, struct conn *c)
{
	char why[256];
	if (c->cin.len) {
		/* the client spoke before the tunnel was granted: its bytes
		 * would have to be fed to our TLS end; no known client does */
		refuse(g, c, 400, c->rule, "data sent before the tunnel was established");
		return;
	}
	if (!(c->utls = tls_api->connect_new(g->cfg->ca, c->ufd, c->host, why, sizeof why))) {
		refuse(g, c, 502, c->rule, "TLS towards %s: %s", c->host, why);
		return;
	}
	c->st = C_TLS_UP;
	c->deadline = g->now + g->pol->net_connect_timeout_ms * 1000;
}

static int drive_tls_up(struct gw *g, struct conn *c)
{
	char why[256];
	int r = tls_api->handshake(c->utls, why, sizeof why);
	c->u_want_out = r == TLS_WANT_WRITE;
	if (r == TLS_WANT_READ || r == TLS_WANT_WRITE)
		return 0;
	if (r < 0) {
		refuse(g, c, 502, c->rule, "%s: %s", c->host, why);
		return 0;
	}
	/* our TLS end towards the client, then the tunnel's answer */
	if (!(c->ctls = tls_api->accept_new(g->cfg->ca, c->cfd, c->host, why, sizeof why))) {
		refuse(g, c, 502, c->rule, "TLS towards the client: %s", why);
		return 0;
	}
	grant_tunnel(c);
	c->st = C_TLS_DOWN;
	return 1;
}

static int drive_tls_down(struct gw *g, struct conn *c)
{
	char why[256];
	if (c->cout.len) { /* the plain answer first */
		struct tls_conn *t = c->ctls;
		c->ctls = NULL;
		int w = buf_write(c, false, &c->cout, NULL);
		c->ctls = t;
		if (w <= 0)
			return w;
		buf_free(&c->cout);
	}
	int r = tls_api->handshake(c->ctls, why, sizeof why);
	c->c_want_out = r == TLS_WANT_WRITE;
	if (r == TLS_WANT_READ || r == TLS_WANT_WRITE)
		return 0;
	if (r < 0) {
		snprintf(c->reason, sizeof c->reason, "%s", why);
		return -1;
	}
	/* the tunnel is logged as granted; each request in it gets its own event */
	snprintf(c->reason, sizeof c->reason, "TLS terminated: a credential is bound to %s", c->host);
	write_event(g, c);
	c->tunnel_proto = c->proto;
	c->tunnel_rule = c->rule;
	c->st = C_HTTP_HEAD;
	c->proto = P_TLS;
	c->t_active = g->now;
	c->deadline = g->now + g->pol->net_idle_timeout_ms * 1000;
	return 1;
}

/* A request was accepted: the state of its exchange starts afresh. */
static void start_exchange(struct conn *c, const struct http_request *req)
{
	c->req_body = req->body;
	c->req_left = req->content_length;
	c->req_chunk = (struct http_chunked){ 0 };
	c->req_done = req->body == HTTP_BODY_NONE;
	c->client_keep_alive = req->keep_alive;
	c->head_request = req->method.n == 4 && memcmp(req->method.p, "HEAD", 4) == 0;
	c->resp_head_done = c->resp_done = c->resp_decoded = c->resp_term = false;
	c->body_hit = -1;
	buf_free(&c->rdata);
	c->resp_chunk = (struct http_chunked){ 0 };
}

/* Responses from credentialed hosts are asked for unencoded: an echo of a
 * value must be visible to mask_values (a compressed one is refused).
 * head ends in a blank line; every Accept-Encoding line goes, one says
 * identity. Returns the new length, or -1 if cap is too small. */
static ssize_t identity_only(char *head, size_t len, size_t cap)
{
	static const char name[] = "accept-encoding:", line[] = "Accept-Encoding: identity\r\n";
	size_t out = 0, i = 0;
	while (i < len) {
		const char *nl = memchr(head + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (head + i)) + 1 : len - i;
		bool drop = n > sizeof name - 1 && !strncasecmp(head + i, name, sizeof name - 1);
		if (i + n == len) { /* the blank line: ours goes before it */
			if (out + sizeof line - 1 + n > cap)
				return -1;
			memmove(head + out + sizeof line - 1, head + i, n);
			memcpy(head + out, line, sizeof line - 1);
			return (ssize_t)(out + sizeof line - 1 + n);
		}
		if (!drop) {
			memmove(head + out, head + i, n);
			out += n;
		}
		i += n;
	}
	return -1;
}

/* A request inside a terminated tunnel: rules, rate limits, the secret in. */
static void on_tls_head(struct gw *g, struct conn *c)
{
	struct http_request req;
	int r = http_parse_origin_request(c->cin.p, c->cin.len, &req);
	if (r == 0) {
		if (c->client_eof) {
			c->event_done = !c->cin.len;
			if (c->cin.len)
				refuse(g, c, 400, "syntax", "incomplete request");
			else
				conn_close(g, c);
		}
		return;
	}
	char host[256], addr[INET6_ADDRSTRLEN];
	uint16_t port = c->port;
	snprintf(host, sizeof host, "%s", c->host);
	snprintf(addr, sizeof addr, "%s", c->addr);
	begin_request(g, c);
	snprintf(c->host, sizeof c->host, "%s", host);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	c->port = port;
	c->proto = P_TLS;
	c->rule = c->tunnel_rule;
	if (r < 0) {
		refuse(g, c, -r, "syntax", "%s", -r == 400 ? "malformed request (origin-form target expected)"
						 : "request not accepted");
		return;
	}
	snprintf(c->method, sizeof c->method, "%.*s", (int)(req.method.n < 15 ? req.method.n : 15), req.method.p);
	/* the path without its query, which can hold secrets of its own */
	const char *q = memchr(req.path.p, '?', req.path.n);
	size_t pn = q ? (size_t)(q - req.path.p) : req.path.n;
	if (pn > sizeof c->path - 1)
		pn = sizeof c->path - 1;
	memcpy(c->path, req.path.p, pn);
	c->path[pn] = '\0';
	if (http_header_get(req.headers, req.n_headers, "upgrade")) {
		refuse(g, c, 501, "credentials", "protocol upgrades are not passed on a connection with credentials");
		return;
	}
	/* the request as it goes upstream, then the secret put in */
	snprintf(req.host, sizeof req.host, "%s", c->host);
	req.host_is_ipv6 = strchr(c->host, ':') != NULL;
	req.port = c->port;
	char head[HTTP_MAX_HEAD + 512], out[HTTP_MAX_HEAD + 512 + 16384];
	ssize_t n = http_write_tls_request(&req, head, sizeof head);
	if (n < 0) {
		refuse(g, c, 431, "syntax", "request head too large");
		return;
	}
	struct cred_outcome o;
	update_ttls(g);
	ssize_t m = cred_rewrite_head(g->creds, c->host, c->port, head, (size_t)n, out, sizeof out, &o);
	c->cred = o.secret;
	switch (o.verdict) {
	case CRED_NONE:
	case CRED_USED:
		break;
	case CRED_EXFIL:
		c->exfil = true;
		refuse(g, c, 403, "credentials", "%s", o.reason);
		return;
	case CRED_ERROR:
		refuse(g, c, 400, "credentials", "%s", o.reason[0] ? o.reason : "request not accepted");
		return;
	default:
		refuse(g, c, 403, "credentials", "%s", o.reason);
		return;
	}
	if ((m = identity_only(out, (size_t)m, sizeof out)) < 0) {
		refuse(g, c, 431, "syntax", "request head too large");
		return;
	}
	struct egress_verdict v;
	if (!egress_rate_request(&g->rules, c->rate_mask, g->now, &v)) {
		refuse(g, c, 429, v.rule, "%s", v.reason);
		return;
	}
	c->allowed = true;
	start_exchange(c, &req);
	c->data_tail.len = c->raw_tail.len = 0;
	buf_take(&c->cin, (size_t)r);
	if (c->uout.p)
		explicit_bzero(c->uout.p, BUF_CAP);
	buf_free(&c->uout);
	if (buf_put(&c->uout, out, (size_t)m) < 0) {
		refuse(g, c, 431, "syntax", "request head too large");
		return;
	}
	explicit_bzero(out, (size_t)m);
	c->st = C_HTTP_FWD;
	c->t_active = g->now;
	c->deadline = 0;
}

static void on_http_head(struct gw *g, struct conn *c)
{
	struct http_request req;
	int r = http_parse_request(c->cin.p, c->cin.len, &req);
	if (r == 0) {
		if (c->client_eof) {
			if (c->cin.len) {
				refuse(g, c, 400, "syntax", "incomplete request");
			} else {
				c->event_done = true; /* an idle keep-alive connection ending: no request */
				conn_close(g, c);
			}
		}
		return;
	}
	c->proto = P_HTTP;
	begin_request(g, c);
	if (r < 0) {
		const char *text = -r == 414 ? "request line too long" : -r == 431 ? "request head too large"
				 : -r == 501 ? "not implemented (only http:// URIs and chunked bodies)"
				 : -r == 505 ? "HTTP version not supported" : "malformed request";
		refuse(g, c, -r, "syntax", "%s", text);
		return;
	}
	snprintf(c->method, sizeof c->method, "%.*s", (int)(req.method.n < 15 ? req.method.n : 15), req.method.p);
	snprintf(c->host, sizeof c->host, "%s", req.host);
	c->port = req.port;
	if (!http_authorised(g, &req)) {
		static const char need_auth[] =
			"HTTP/1.1 407 Proxy Authentication Required\r\n"
			"Proxy-Authenticate: Basic realm=\"airlock\"\r\n"
			"X-Airlock-Reason: proxy authentication required\r\n"
			"Content-Length: 0\r\nConnection: close\r\n\r\n";
		snprintf(c->reason, sizeof c->reason, "proxy authentication required");
		c->status = 407;
		c->rule = "auth";
		buf_put(&c->cout, need_auth, sizeof need_auth - 1);
		write_event(g, c);
		c->st = C_CLOSING;
		c->deadline = g->now + CLOSE_GRACE_US;
		return;
	}
	/* a placeholder never goes anywhere in plaintext: credentials only
	 * travel in TLS the gateway terminated for their own hosts */
	ssize_t ph = foreign_placeholder(g, NULL, 0, c->cin.p, (size_t)r);
	if (ph >= 0) {
		if (req.is_connect)
			c->proto = P_CONNECT;
		refuse_exfil(g, c, ph, req.is_connect ? "in a CONNECT request" : "over plain HTTP");
		return;
	}
	c->data_tail.len = c->raw_tail.len = 0;
	if (req.is_connect) {
		c->proto = P_CONNECT;
		c->method[0] = '\0';
		buf_take(&c->cin, (size_t)r);
		decide(g, c);
		return;
	}
	/* plain HTTP: the rewritten head is ready before the decision; it
	 * goes out only if the request is allowed */
	char head[HTTP_MAX_HEAD + 512];
	ssize_t n = http_write_upstream_request_keep(&req, true, head, sizeof head);
	if (n < 0) {
		refuse(g, c, 431, "syntax", "request head too large");
		return;
	}
	start_exchange(c, &req);
	buf_take(&c->cin, (size_t)r);
	buf_free(&c->uout);
	if (buf_put(&c->uout, head, (size_t)n) < 0) {
		refuse(g, c, 431, "syntax", "request head too large");
		return;
	}
	decide(g, c);
}

static void on_socks(struct gw *g, struct conn *c)
{
	const uint8_t *b = (const uint8_t *)c->cin.p;
	int r;
	c->proto = P_SOCKS;
	if (c->st == C_SOCKS_GREET) {
		bool none = false, userpass = false;
		r = socks5_parse_greeting(b, c->cin.len, &none, &userpass);
		if (r < 0) {
			begin_request(g, c);
			refuse(g, c, 400, "syntax", "malformed SOCKS5 greeting");
			return;
		}
		if (r == 0)
			return;
		buf_take(&c->cin, (size_t)r);
		uint8_t reply[2] = { SOCKS5_VERSION, SOCKS5_AUTH_NO_ACCEPTABLE };
		if (g->cfg->auth ? userpass : none)
			reply[1] = g->cfg->auth ? SOCKS5_AUTH_USERPASS : SOCKS5_AUTH_NONE;
		buf_put(&c->cout, reply, 2);
		if (reply[1] == SOCKS5_AUTH_NO_ACCEPTABLE) {
			begin_request(g, c);
			snprintf(c->reason, sizeof c->reason, "no acceptable SOCKS5 authentication method");
			c->rule = "auth";
			c->proto = P_SOCKS;
			write_event(g, c);
			c->st = C_CLOSING;
			c->deadline = g->now + CLOSE_GRACE_US;
			return;
		}
		c->st = g->cfg->auth ? C_SOCKS_AUTH : C_SOCKS_REQ;
		return;
	}
	if (c->st == C_SOCKS_AUTH) {
		char user[256], pass[256], both[520];
		r = socks5_parse_userpass(b, c->cin.len, user, pass);
		if (r == 0)
			return;
		bool ok = false;
		if (r > 0) {
			int k = snprintf(both, sizeof both, "%s:%s", user, pass);
			ok = same_secret(both, (size_t)k, g->cfg->auth);
			explicit_bzero(pass, sizeof pass);
			explicit_bzero(both, sizeof both);
			buf_take(&c->cin, (size_t)r);
		}
		uint8_t reply[2] = { 1, ok ? 0 : 1 };
		buf_put(&c->cout, reply, 2);
		if (!ok) {
			begin_request(g, c);
			snprintf(c->reason, sizeof c->reason, "SOCKS5 authentication failed");
			c->rule = "auth";
			c->status = 1;
			write_event(g, c);
			c->st = C_CLOSING;
			c->deadline = g->now + CLOSE_GRACE_US;
			return;
		}
		c->st = C_SOCKS_REQ;
		return;
	}
	struct socks5_request req;
	r = socks5_parse_request(b, c->cin.len, &req);
	if (r == 0)
		return;
	begin_request(g, c);
	if (r < 0) {
		refuse(g, c, -r == SOCKS5_REP_ATYP_UNSUPPORTED ? 508 : 400, "syntax",
		       "malformed SOCKS5 request");
		return;
	}
	buf_take(&c->cin, (size_t)r);
	snprintf(c->host, sizeof c->host, "%s", req.host);
	c->port = req.port;
	if (req.cmd != SOCKS5_CMD_CONNECT) {
		snprintf(c->method, sizeof c->method, "%s", req.cmd == SOCKS5_CMD_BIND ? "BIND" : "UDP");
		refuse(g, c, 505, "socks5", "SOCKS5 %s is not offered; only CONNECT",
		       req.cmd == SOCKS5_CMD_BIND ? "BIND" : req.cmd == SOCKS5_CMD_UDP_ASSOCIATE ? "UDP ASSOCIATE" : "this command");
		return;
	}
	decide(g, c);
}

/* ---- moving bytes ------------------------------------------------------- */

/* One direction of a tunnel: from -> pipe -> to. Returns 1 on progress,
 * 0 when stuck, -1 on error. */
static int pump(struct gw *g, struct conn *c, int from, int to, int *pipefd, size_t *in,
		size_t *cap, bool *grown, bool *eof, bool *shut, uint64_t *counter)
{
	int progress = 0;
	/* Idle and chatty tunnels keep the default pipe (pages are only
	 * taken while bytes sit in it); a bulk transfer gets a larger one, so
	 * each wake-up moves more. Best effort: the limit is fs.pipe-max-size. */
	if (!*grown && *counter >= BULK_AFTER) {
		int r = fcntl(pipefd[1], F_SETPIPE_SZ, PIPE_BULK);
		if (r > 0)
			*cap = (size_t)r;
		*grown = true;
	}
	size_t size = *cap;
	/* Read while the pipe is at most half full: a pipe that refuses
	 * bytes says EAGAIN like an empty socket, so the interest set only
	 * waits on the source when the pipe is empty (update_interest). */
	if (!*eof && *in <= size / 2) {
		uint64_t budget = egress_rate_bytes_budget(&g->rules, c->rate_mask, g->now);
		size_t want = budget < size - *in ? (size_t)budget : size - *in;
		if (want == 0) {
			/* the byte bucket is empty: wait for it to refill */
			c->throttled_until = g->now + SWEEP_US;
		} else {
			ssize_t n = splice(from, NULL, pipefd[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				*in += (size_t)n;
				*counter += (uint64_t)n;
				egress_rate_bytes_spend(&g->rules, c->rate_mask, (uint64_t)n);
				progress = 1;
			} else if (n == 0) {
				*eof = true;
				progress = 1;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
	}
	if (*in > 0) {
		ssize_t m = splice(pipefd[0], NULL, to, NULL, *in, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (m > 0) {
			*in -= (size_t)m;
			progress = 1;
		} else if (m < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (*eof && *in == 0 && !*shut) {
		shutdown(to, SHUT_WR);
		*shut = true;
		progress = 1;
	}
	return progress;
}

static int drive_tunnel(struct gw *g, struct conn *c)
{
	int w, progress = 0;
	if (c->cout.len) {
		if ((w = buf_write(c, false, &c->cout, NULL)) < 0)
			return -1;
		if (w > 0)
			buf_free(&c->cout);
	}
	if (c->uout.len) {
		if ((w = buf_write(c, true, &c->uout, NULL)) < 0)
			return -1;
		if (w > 0)
			buf_free(&c->uout);
	}
	if (c->throttled_until > g->now)
		return 0;
	c->throttled_until = 0;
	if (!c->uout.len) {
		int r = pump(g, c, c->cfd, c->ufd, c->pipe_up, &c->in_up, &c->cap_up, &c->grown_up,
			     &c->eof_up, &c->shut_up, &c->up);
		if (r < 0)
			return -1;
		progress |= r;
	}
	if (!c->cout.len) {
		int r = pump(g, c, c->ufd, c->cfd, c->pipe_down, &c->in_down, &c->cap_down,
			     &c->grown_down, &c->eof_down, &c->shut_down, &c->down);
		if (r < 0)
			return -1;
		progress |= r;
	}
	if (progress)
		c->t_active = g->now;
	if (c->shut_up && c->shut_down)
		return -1; /* both sides done: a normal end */
	return progress;
}

/* Where a body's data (its bytes without chunk framing) is also handed,
 * and, if raw is set, a chunked body's bytes as they came (framing too). */
struct body_sink {
	void (*data)(void *arg, const char *p, size_t n);
	void (*raw)(void *arg, const char *p, size_t n);
	void *arg;
};

/* Move the part of src that belongs to the current message, at most cap
 * bytes, to dst (NULL: only to the sink). */
static int forward_body(struct buf *src, struct buf *dst, size_t cap, enum http_body kind,
			uint64_t *left, struct http_chunked *ch, bool *done, bool src_eof,
			const struct body_sink *sink)
{
	size_t k = src->len < cap ? src->len : cap;
	switch (kind) {
	case HTTP_BODY_NONE:
		*done = true;
		return 0;
	case HTTP_BODY_LENGTH:
		if (k > *left)
			k = (size_t)*left;
		*left -= k;
		*done = *left == 0;
		break;
	case HTTP_BODY_CHUNKED: {
		ssize_t r = http_chunked_data(ch, src->p, k, sink ? sink->data : NULL, sink ? sink->arg : NULL);
		if (r < 0)
			return -1;
		k = (size_t)r;
		*done = ch->done;
		if (k && sink && sink->raw)
			sink->raw(sink->arg, src->p, k);
		break;
	}
	case HTTP_BODY_UNTIL_CLOSE:
		*done = src_eof && k == src->len;
		break;
	}
	if (k && sink && kind != HTTP_BODY_CHUNKED)
		sink->data(sink->arg, src->p, k);
	if (k) {
		if (dst)
			buf_put(dst, src->p, k);
		buf_take(src, k);
	}
	return k > 0;
}

/* A request body, looked through for placeholders that may not go where
 * it goes: its data (chunk framing cannot split one unseen) and, when
 * chunked, its bytes as sent (nor can a chunk extension or a trailer
 * carry one). */
struct body_scan {
	struct gw *g;
	struct conn *c;
};

static void scan_body_data(void *arg, const char *p, size_t n)
{
	struct body_scan *s = arg;
	if (s->c->body_hit < 0)
		s->c->body_hit = foreign_in_stream(s->g, s->c, &s->c->data_tail, s->c->mitm ? s->c->host : NULL, p, n);
}

static void scan_body_raw(void *arg, const char *p, size_t n)
{
	struct body_scan *s = arg;
	if (s->c->body_hit < 0)
		s->c->body_hit = foreign_in_stream(s->g, s->c, &s->c->raw_tail, s->c->mitm ? s->c->host : NULL, p, n);
}

static void keep_response_data(void *arg, const char *p, size_t n)
{
	buf_put(&((struct conn *)arg)->rdata, p, n);
}

/* A chunked response from a credentialed upstream: its data is gathered
 * whole, masked, held back only where a value could still be completing,
 * and sent on as chunks of our own: a value cut by the upstream's chunk
 * framing is still found. */
static int forward_tls_chunked(struct gw *g, struct conn *c)
{
	int progress = 0;
	if (!c->resp_decoded) {
		struct body_sink sink = { keep_response_data, NULL, c };
		int r = forward_body(&c->uin, NULL, room(&c->rdata), HTTP_BODY_CHUNKED, &c->resp_left,
				     &c->resp_chunk, &c->resp_decoded, c->upstream_eof, &sink);
		if (r < 0)
			return -1;
		progress |= r;
	}
	if (!c->rdata.len && !c->resp_decoded)
		return progress;
	mask_values(g, &c->rdata);
	if (c->resp_decoded)
		mask_cut_value(g, &c->rdata);
	size_t hold = c->resp_decoded ? 0 : value_prefix_at_end(g, &c->rdata);
	size_t n = c->rdata.len - hold;
	if (n + 24 > room(&c->cout))
		n = room(&c->cout) > 24 ? room(&c->cout) - 24 : 0;
	if (n) {
		char size[20];
		int k = snprintf(size, sizeof size, "%zx\r\n", n);
		buf_put(&c->cout, size, (size_t)k);
		buf_put(&c->cout, c->rdata.p, n);
		buf_put(&c->cout, "\r\n", 2);
		buf_take(&c->rdata, n);
		progress = 1;
	}
	if (c->resp_decoded && !c->rdata.len && !c->resp_term && room(&c->cout) >= 5) {
		buf_put(&c->cout, "0\r\n\r\n", 5);
		c->resp_term = true;
	}
	c->resp_done = c->resp_decoded && !c->rdata.len && c->resp_term;
	return progress;
}

static void reset_for_next_request(struct gw *g, struct conn *c)
{
	write_event(g, c);
	if (c->mitm) {
		/* a terminated tunnel keeps its one upstream (drive_http closed
		 * the connection when the upstream would not stay) */
	} else if (c->up_keep && !c->upstream_eof && !c->uin.len && !c->uout.len) {
		snprintf(c->up_host, sizeof c->up_host, "%s", c->host);
		snprintf(c->up_addr, sizeof c->up_addr, "%s", c->addr);
		c->up_port = c->port;
		buf_free(&c->uin);
		buf_free(&c->uout);
	} else {
		close_upstream(c);
	}
	c->up_keep = false;
	c->st = C_HTTP_HEAD;
	c->upstream_eof = false;
	c->proto = c->mitm ? P_TLS : P_HTTP;
	c->t_active = g->now;
	c->deadline = g->now + g->pol->net_idle_timeout_ms * 1000;
}

/* Read from fd within the byte-rate budget; sets *eof at EOF or error. */
static int rated_read(struct gw *g, struct conn *c, struct buf *b, bool up, bool *eof)
{
	uint64_t budget = egress_rate_bytes_budget(&g->rules, c->rate_mask, g->now);
	if (*eof || !room(b))
		return 0;
	if (!budget) {
		c->throttled_until = g->now + SWEEP_US;
		return 0;
	}
	ssize_t n = buf_read(c, up, b, budget);
	if (n < 0)
		*eof = true;
	return n != 0; /* the bytes are charged when written on */
}

/* Asked for identity: a body encoded anyway (a Content-Encoding but
 * identity, in any of its headers, or a transfer coding but chunked) could
 * hide an echo of a value from mask_values. Its coding, or NULL. */
static const struct http_span *encoded(const struct http_response *res)
{
	for (size_t i = 0; i < res->n_headers; i++) {
		const struct http_header *h = &res->headers[i];
		bool ce = h->name.n == 16 && !strncasecmp(h->name.p, "content-encoding", 16);
		bool te = h->name.n == 17 && !strncasecmp(h->name.p, "transfer-encoding", 17);
		if ((ce && !(h->value.n == 8 && !strncasecmp(h->value.p, "identity", 8))) ||
		    (te && !(h->value.n == 7 && !strncasecmp(h->value.p, "chunked", 7))))
			return &h->value;
	}
	return NULL;
}

static int drive_http(struct gw *g, struct conn *c)
{
	int progress = 0, r;
	if (c->throttled_until > g->now)
		return 0;
	c->throttled_until = 0;
	/* request body: client -> uout */
	if (!c->req_done) {
		progress |= rated_read(g, c, &c->cin, false, &c->client_eof);
		struct body_scan scan = { g, c };
		struct body_sink sink = { scan_body_data, scan_body_raw, &scan };
		if ((r = forward_body(&c->cin, &c->uout, room(&c->uout), c->req_body, &c->req_left,
				      &c->req_chunk, &c->req_done, c->client_eof,
				      g->creds && g->creds->n ? &sink : NULL)) < 0) {
			refuse(g, c, 400, "syntax", "malformed chunked request body");
			return 0;
		}
		if (c->body_hit >= 0) {
			refuse_exfil(g, c, c->body_hit, c->mitm ? "in a request body to a host it is not bound to"
								 : "in a plain HTTP request body");
			return 0;
		}
		progress |= r;
		if (!c->req_done && c->client_eof && !c->cin.len)
			return -1; /* the client gave up mid-body */
	}
	size_t pending = c->uout.len;
	if (c->uout.len && (r = buf_write_rated(c, true, &c->uout, SIZE_MAX, &c->up, &g->rules, c->rate_mask)) < 0) {
		if (!c->resp_head_done) {
			refuse(g, c, 502, c->rule, "upstream closed the connection");
			return 0;
		}
		return -1;
	}
	progress |= c->uout.len != pending;
	/* response: upstream -> uin -> cout */
	if (!c->resp_done)
		progress |= rated_read(g, c, &c->uin, true, &c->upstream_eof);
	while (!c->resp_head_done && c->uin.len) {
		struct http_response res;
		r = http_parse_response(c->uin.p, c->uin.len, c->head_request, &res);
		if (r == 0 && !c->upstream_eof && c->uin.len < BUF_CAP)
			break;
		if (r <= 0 || res.status == 101) {
			refuse(g, c, 502, c->rule, "malformed response from upstream");
			return 0;
		}
		const struct http_span *enc = c->mitm ? encoded(&res) : NULL;
		if (enc) {
			refuse(g, c, 502, "credentials", "an encoded response (%.*s) on a connection with "
			       "credentials cannot be checked for the secret", (int)(enc->n < 40 ? enc->n : 40), enc->p);
			return 0;
		}
		char head[BUF_CAP];
		bool interim = res.status < 200;
		const struct http_span *conn_hdr = http_header_get(res.headers, res.n_headers, "connection");
		bool up_keep = res.body != HTTP_BODY_UNTIL_CLOSE && res.minor >= 1 &&
			       !(conn_hdr && http_token_in(conn_hdr, "close"));
		c->keep = c->client_keep_alive && res.body != HTTP_BODY_UNTIL_CLOSE;
		/* a terminated tunnel has one upstream: when it goes, so does the client */
		if (c->mitm)
			c->keep = c->keep && up_keep;
		ssize_t n = http_write_client_response(&res, c->uin.p, interim || c->keep, head, sizeof head);
		if (n < 0 || (size_t)n > room(&c->cout)) {
			refuse(g, c, 502, c->rule, "response head too large");
			return 0;
		}
		buf_put(&c->cout, head, (size_t)n);
		buf_take(&c->uin, (size_t)r);
		progress = 1;
		if (interim)
			continue; /* 100 Continue: the real answer follows */
		c->status = res.status;
		c->resp_head_done = true;
		c->up_keep = up_keep;
		c->resp_body = res.body;
		c->resp_left = res.content_length;
	}
	if (!c->resp_head_done && c->upstream_eof && !c->uin.len) {
		refuse(g, c, 502, c->rule, "upstream closed without answering");
		return 0;
	}
	if (c->resp_head_done && !c->resp_done && c->mitm && c->resp_body == HTTP_BODY_CHUNKED) {
		if ((r = forward_tls_chunked(g, c)) < 0)
			return -1;
		progress |= r;
		if (!c->resp_decoded && c->upstream_eof && !c->uin.len) {
			/* what came is passed on (masked); no last chunk: the client sees it cut */
			snprintf(c->reason, sizeof c->reason, "upstream closed mid-response");
			c->keep = false;
			c->resp_decoded = c->resp_term = true;
			progress |= forward_tls_chunked(g, c) > 0;
		}
	} else if (c->resp_head_done && !c->resp_done) {
		if ((r = forward_body(&c->uin, &c->cout, room(&c->cout), c->resp_body, &c->resp_left,
				      &c->resp_chunk, &c->resp_done, c->upstream_eof, NULL)) < 0)
			return -1;
		progress |= r;
		if (!c->resp_done && c->upstream_eof && !c->uin.len) {
			snprintf(c->reason, sizeof c->reason, "upstream closed mid-response");
			c->keep = false;
			c->resp_done = true;
		}
	}
	pending = c->cout.len;
	size_t ready = cout_ready(g, c);
	if (ready && (r = buf_write_rated(c, false, &c->cout, ready, &c->down, &g->rules, c->rate_mask)) < 0)
		return -1;
	/* a write makes room: the next round may read and move more */
	progress |= c->cout.len != pending;
	if (progress)
		c->t_active = g->now;
	if (c->resp_done && !c->cout.len) {
		if (!c->keep || !c->req_done || (c->mitm && (c->uin.len || c->upstream_eof)))
			return -1;
		reset_for_next_request(g, c);
		return 1;
	}
	return progress;
}

/* Read and parse whatever a connection in a head state has. */
static int drive_head(struct gw *g, struct conn *c)
{
	int progress = 0;
	size_t had = c->cin.len;
	if (c->ufd >= 0 && c->st == C_HTTP_HEAD && c->mitm) {
		/* the upstream of a terminated tunnel: TLS records it sends
		 * unasked (session tickets) are taken in; data or a close ends
		 * the connection (the client will open another) */
		if (buf_read(c, true, &c->uin, BUF_CAP) != 0 || c->uin.len)
			return -1;
	} else if (c->ufd >= 0 && c->st == C_HTTP_HEAD) {
		/* a kept upstream connection that closes, or speaks unasked, is dropped */
		char b;
		ssize_t n = recv(c->ufd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			close_upstream(c);
	}
	if (!c->client_eof && room(&c->cin)) {
		ssize_t r = buf_read(c, false, &c->cin, BUF_CAP);
		if (r < 0)
			c->client_eof = true;
		progress = r != 0;
	}
	/* the first byte of a request on a kept-alive connection starts the
	 * request timeout: a slow head is cut however it began */
	if (!had && c->cin.len && c->st == C_HTTP_HEAD) {
		uint64_t limit = g->now + g->pol->net_request_timeout_ms * 1000;
		if (!c->deadline || limit < c->deadline)
			c->deadline = limit;
	}
	if (c->st == C_SNIFF && c->cin.len) {
		uint8_t first = (uint8_t)c->cin.p[0];
		c->st = first == SOCKS5_VERSION ? C_SOCKS_GREET : C_HTTP_HEAD;
		if (first == 4) { /* SOCKS4: no names, no auth; not offered */
			begin_request(g, c);
			c->proto = P_SOCKS;
			snprintf(c->reason, sizeof c->reason, "SOCKS4 is not offered; use SOCKS5");
			c->rule = "syntax";
			write_event(g, c);
			return -1;
		}
	}
	if (c->st == C_SNIFF && c->client_eof) {
		c->event_done = true; /* connected and left without a word */
		return -1;
	}
	enum cstate before = c->st;
	size_t len = c->cin.len;
	if (c->st == C_HTTP_HEAD && (c->cin.len || c->client_eof) && c->mitm)
		on_tls_head(g, c);
	else if (c->st == C_HTTP_HEAD && (c->cin.len || c->client_eof))
		on_http_head(g, c);
	else if (c->st >= C_SOCKS_GREET && c->st <= C_SOCKS_REQ && (c->cin.len || c->client_eof)) {
		on_socks(g, c);
		if (!c->dead && c->client_eof && c->st >= C_SOCKS_GREET && c->st <= C_SOCKS_REQ)
			return -1;
	}
	return progress || c->st != before || c->cin.len != len;
}

/* Deliver the last answer, then close gently: a socket closed with unread
 * bytes sends RST, which can destroy the answer (a 431 to a client still
 * sending headers) before the client reads it. So half-close, and read and
 * drop what still comes, for a bounded time and amount. */
static int drive_closing(struct gw *g, struct conn *c)
{
	char sink[4096];
	int w = buf_write(c, false, &c->cout, NULL);
	if (w <= 0)
		return w;
	if (!c->lingering) {
		if (c->ctls)
			tls_api->shutdown(c->ctls);
		shutdown(c->cfd, SHUT_WR);
		c->lingering = true;
		uint64_t limit = g->now + 2 * 1000000ull;
		if (limit < c->deadline)
			c->deadline = limit;
	}
	for (;;) {
		ssize_t n = io_recv(c, false, sink, sizeof sink);
		if (n > 0 && (c->discarded += (uint64_t)n) < (1u << 20))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1; /* EOF, error, or enough */
	}
}

static void update_interest(struct gw *g, struct conn *c)
{
	uint32_t cw = 0, uw = 0;
	switch (c->st) {
	case C_SNIFF: case C_HTTP_HEAD: case C_SOCKS_GREET: case C_SOCKS_AUTH: case C_SOCKS_REQ:
		if (!c->client_eof && room(&c->cin))
			cw |= EPOLLIN;
		if (c->cout.len)
			cw |= EPOLLOUT;
		if (c->ufd >= 0)
			uw |= EPOLLIN; /* a kept upstream connection going away */
		break;
	case C_RESOLVING:
		break;
	case C_CONNECTING:
		uw |= EPOLLOUT;
		break;
	case C_TLS_UP:
		uw |= c->u_want_out ? EPOLLOUT : EPOLLIN;
		break;
	case C_TLS_DOWN:
		cw |= c->cout.len || c->c_want_out ? EPOLLOUT : EPOLLIN;
		break;
	case C_TUNNEL:
		if (c->cout.len || c->in_down)
			cw |= EPOLLOUT;
		if (c->uout.len || c->in_up)
			uw |= EPOLLOUT;
		if (c->throttled_until)
			break;
		if (!c->eof_up && !c->in_up && !c->uout.len)
			cw |= EPOLLIN;
		if (!c->eof_down && !c->in_down && !c->cout.len)
			uw |= EPOLLIN;
		break;
	case C_HTTP_FWD:
		if (cout_ready(g, c))
			cw |= EPOLLOUT;
		if (c->uout.len)
			uw |= EPOLLOUT;
		if (c->throttled_until)
			break;
		if (!c->req_done && !c->client_eof && room(&c->cin))
			cw |= EPOLLIN;
		if (!c->upstream_eof && room(&c->uin) && !c->resp_done)
			uw |= EPOLLIN;
		break;
	case C_CLOSING:
		cw |= c->cout.len ? EPOLLOUT : EPOLLIN;
		break;
	}
	/* a TLS end that must send before it can go on (a key update, an
	 * alert) waits for room, whatever the state */
	if (c->c_want_out && c->st != C_TLS_UP)
		cw |= EPOLLOUT;
	if (c->u_want_out && c->st != C_TLS_DOWN)
		uw |= EPOLLOUT;
	set_interest(g, c->cfd, &c->cev, cw, c);
	set_interest(g, c->ufd, &c->uev, uw, (char *)c + 1);
}

static void drive(struct gw *g, struct conn *c)
{
	for (int round = 0; round < DRIVE_ROUNDS && !c->dead; round++) {
		int r = 0;
		switch (c->st) {
		case C_SNIFF: case C_HTTP_HEAD: case C_SOCKS_GREET: case C_SOCKS_AUTH: case C_SOCKS_REQ:
			if (c->cout.len && buf_write(c, false, &c->cout, NULL) < 0)
				r = -1;
			else
				r = drive_head(g, c);
			break;
		case C_RESOLVING:
		case C_CONNECTING:
			break;
		case C_TLS_UP:
			r = drive_tls_up(g, c);
			break;
		case C_TLS_DOWN:
			r = drive_tls_down(g, c);
			break;
		case C_TUNNEL:
			r = drive_tunnel(g, c);
			break;
		case C_HTTP_FWD:
			r = drive_http(g, c);
			break;
		case C_CLOSING:
			r = drive_closing(g, c);
			break;
		}
		if (r < 0) {
			conn_close(g, c);
			return;
		}
		if (r == 0)
			break;
		/* out of rounds with work left: bytes already in our buffers (or
		 * decrypted inside a TLS end) wake no epoll; the loop comes back */
		if (round == DRIVE_ROUNDS - 1)
			c->redrive = g->redrive = true;
	}
	if (!c->dead)
		update_interest(g, c);
}

static void redrive_all(struct gw *g)
{
	g->redrive = false;
	for (struct conn *c = g->live, *next; c; c = next) {
		next = c->next;
		if (c->redrive && !c->dead) {
			c->redrive = false;
			drive(g, c);
		}
	}
}

/* ---- accepting ---------------------------------------------------------- */

static void start_listening(struct gw *g, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_listen };
	if (on == g->listening)
		return;
	if (epoll_ctl(g->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, g->cfg->listen_fd, &ev) == 0)
		g->listening = on;
}

static void on_accept(struct gw *g)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(g->cfg->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && g->n_live) {
			start_listening(g, false); /* back when a connection closes */
			return;
		}
		if (fd < 0)
			return;
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			return;
		}
		c->cfd = fd;
		c->cred = c->body_hit = -1;
		c->ufd = c->pipe_up[0] = c->pipe_up[1] = c->pipe_down[0] = c->pipe_down[1] = -1;
		c->t_start = c->t_active = g->now;
		c->deadline = g->now + g->pol->net_request_timeout_ms * 1000;
		c->over_limit = g->n_live >= g->pol->net_max_connections;
		if (g->cfg->log_client && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
			char a[INET6_ADDRSTRLEN];
			set_addr_text(c, &ss);
			snprintf(a, sizeof a, "%s", c->addr);
			c->addr[0] = '\0';
			snprintf(c->client, sizeof c->client, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
				 ntohs(((struct sockaddr_in *)&ss)->sin_port));
		}
		nodelay(fd);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->cev = EPOLLIN;
		c->next = g->live;
		if (g->live)
			g->live->prev = c;
		g->live = c;
		g->n_live++;
		if (g->n_live >= g->pol->net_max_connections + ACCEPT_SLACK) {
			start_listening(g, false); /* the rest wait in the backlog */
			return;
		}
	}
}

/* ---- timeouts ----------------------------------------------------------- */

static void sweep(struct gw *g)
{
	uint64_t idle = g->pol->net_idle_timeout_ms * 1000;
	for (struct conn *c = g->live, *next; c; c = next) {
		next = c->next;
		if (c->throttled_until && c->throttled_until <= g->now) {
			c->throttled_until = 0;
			drive(g, c);
			continue;
		}
		switch (c->st) {
		case C_SNIFF: case C_HTTP_HEAD: case C_SOCKS_GREET: case C_SOCKS_AUTH: case C_SOCKS_REQ:
			if (c->deadline && g->now >= c->deadline) {
				if (c->cin.len || c->st != C_HTTP_HEAD || c->proto == P_NONE) {
					begin_request(g, c);
					if (c->st != C_SNIFF && c->st != C_HTTP_HEAD)
						c->proto = P_SOCKS;
					else if (c->cin.len)
						c->proto = P_HTTP;
					refuse(g, c, 408, "request_timeout", "no complete request within %llu ms",
					       (unsigned long long)g->pol->net_request_timeout_ms);
					drive(g, c);
				} else {
					c->event_done = true; /* an idle keep-alive connection */
					conn_close(g, c);
				}
			}
			break;
		case C_TLS_DOWN:
			if (g->now >= c->deadline) {
				snprintf(c->reason, sizeof c->reason, "no TLS handshake from the client within %llu ms",
					 (unsigned long long)g->pol->net_connect_timeout_ms);
				conn_close(g, c);
			}
			break;
		case C_RESOLVING:
		case C_CONNECTING:
		case C_TLS_UP:
			if (g->now >= c->deadline) {
				refuse(g, c, 504, c->rule, "no connection to %s port %u within %llu ms", c->host,
				       c->port, (unsigned long long)g->pol->net_connect_timeout_ms);
				drive(g, c);
			}
			break;
		case C_TUNNEL:
		case C_HTTP_FWD:
			if (g->now - c->t_active >= idle) {
				if (c->st == C_HTTP_FWD && !c->resp_head_done) {
					refuse(g, c, 504, c->rule, "upstream idle for %llu ms",
					       (unsigned long long)g->pol->net_idle_timeout_ms);
					drive(g, c);
				} else {
					snprintf(c->reason, sizeof c->reason, "idle for %llu ms",
						 (unsigned long long)g->pol->net_idle_timeout_ms);
					conn_close(g, c);
				}
			}
			break;
		case C_CLOSING:
			if (g->now >= c->deadline)
				conn_close(g, c);
			break;
		}
	}
}

static void free_zombies(struct gw *g)
{
	while (g->zombies) {
		struct conn *c = g->zombies;
		g->zombies = c->next;
		free(c);
	}
}

static void close_all(struct gw *g)
{
	while (g->live)
		conn_close(g, g->live);
	free_zombies(g);
}

/* ---- the loop ----------------------------------------------------------- */

static void dispatch(struct gw *g, struct epoll_event *ev, int n);

/* sync: the sandbox's processes are gone, so are the clients. Take in
 * whatever is pending, then end every connection and log it. */
static void on_ctl(struct gw *g)
{
	char b;
	ssize_t n = read(g->cfg->ctl_fd, &b, 1);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		g->stop = true;
		return;
	}
	if (n == 1 && b == 'S')
		g->sync_pending = true;
}

/* Run by the main loop between batches (never inside dispatch, whose later
 * events may name the connections this frees). */
static void do_sync(struct gw *g)
{
	struct epoll_event ev[64];
	g->sync_pending = false;
	g->in_sync = true;
	for (int round = 0; round < 4; round++) {
		int k = epoll_wait(g->ep, ev, 64, 0);
		if (k <= 0)
			break;
		g->now = now_us();
		dispatch(g, ev, k);
		free_zombies(g);
	}
	g->in_sync = false;
	close_all(g);
	/* 'K' and what this exec's requests came to */
	char reply[1 + sizeof g->counters];
	reply[0] = 'K';
	memcpy(reply + 1, &g->counters, sizeof g->counters);
	(void)!write(g->cfg->ctl_fd, reply, sizeof reply);
	g->counters = (struct gw_counters){ 0 };
	g->event_bytes = 0;
	g->cred_t0 = now_us(); /* the next exec's secrets start a new TTL */
}

static void dispatch(struct gw *g, struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		void *tag = ev[i].data.ptr;
		if (tag == &tag_listen) {
			on_accept(g);
		} else if (tag == &tag_res) {
			on_resolved(g);
		} else if (tag == &tag_sig) {
			struct signalfd_siginfo si;
			while (read(g->sigfd, &si, sizeof si) == sizeof si)
				g->stop = true;
		} else if (tag == &tag_ctl) {
			if (!g->stop && !g->in_sync)
				on_ctl(g);
		} else {
			struct conn *c = (struct conn *)((uintptr_t)tag & ~(uintptr_t)1);
			bool upstream = (uintptr_t)tag & 1;
			if (c->dead)
				continue;
			if (upstream && c->st == C_CONNECTING) {
				on_connect_ready(g, c);
				if (c->dead)
					continue;
			}
			if (!upstream && (ev[i].events & (EPOLLHUP | EPOLLERR)) && c->st != C_TUNNEL &&
			    c->st != C_HTTP_FWD && !(ev[i].events & EPOLLIN)) {
				conn_close(g, c);
				continue;
			}
			drive(g, c);
		}
	}
}

static int add_fd(struct gw *g, int fd, void *tag, al_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return al_errno(err, "epoll_ctl");
	return 0;
}

static int gw_setup(struct gw *g, const struct gateway_config *cfg, al_error *err)
{
	g->cfg = cfg;
	g->pol = cfg->pol;
	g->ep = g->sigfd = g->res_pipe[0] = g->res_pipe[1] = -1;
	if (egress_rules_build(cfg->pol, &g->rules, err) < 0)
		return -1;
	if (cfg->auth)
		base64_encode(cfg->auth, strlen(cfg->auth) > 500 ? 500 : strlen(cfg->auth), g->auth_b64);
	if (cfg->creds && cfg->creds->n) {
		/* the CA was readied by the supervisor (cred_run.c) */
		if (!cfg->tls || !cfg->ca)
			return al_err(err, EINVAL, "credentials without the TLS module");
		g->tls = tls_api = cfg->tls;
		g->creds = cfg->creds;
		g->cred_t0 = now_us();
		for (size_t i = 0; i < cfg->creds->n; i++)
			if (cfg->creds->v[i].len > g->value_max)
				g->value_max = cfg->creds->v[i].len;
	}
	/* a tunnel holds four fds besides its two sockets */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->ep < 0)
		return al_errno(err, "epoll_create1");
	if (pipe2(g->res_pipe, O_CLOEXEC) < 0)
		return al_errno(err, "pipe");
	fcntl(g->res_pipe[0], F_SETFL, O_NONBLOCK);
	if (cfg->ctl_fd < 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		if ((g->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
			return al_errno(err, "signalfd");
		if (add_fd(g, g->sigfd, &tag_sig, err) < 0)
			return -1;
	} else if (add_fd(g, cfg->ctl_fd, &tag_ctl, err) < 0) {
		return -1;
	}
	if (add_fd(g, g->res_pipe[0], &tag_res, err) < 0)
		return -1;
	int fl = fcntl(cfg->listen_fd, F_GETFL);
	fcntl(cfg->listen_fd, F_SETFL, fl | O_NONBLOCK);
	start_listening(g, true);
	if (!g->listening)
		return al_errno(err, "epoll_ctl (listening socket)");
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	/* resolver threads block no signal of ours and must not take SIGTERM */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < RESOLVERS; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&g->threads[i], &attr, resolver_main, g) == 0)
			g->n_threads++;
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!g->n_threads)
		return al_err(err, EAGAIN, "cannot start resolver threads");
	return 0;
}

int gateway_serve(const struct gateway_config *cfg, al_error *err)
{
	/* static: the resolver threads are detached and keep a pointer to it
	 * until the process exits */
	static struct gw g;
	memset(&g, 0, sizeof g);
	if (gw_setup(&g, cfg, err) < 0)
		return -1;
	struct epoll_event ev[256];
	g.now = g.last_sweep = now_us();
	while (!g.stop) {
		int timeout = g.redrive ? 0 : g.n_live ? (int)(SWEEP_US / 1000) : -1;
		int n = epoll_wait(g.ep, ev, 256, timeout);
		if (n < 0 && errno != EINTR)
			return al_errno(err, "epoll_wait");
		g.now = now_us();
		if (n > 0)
			dispatch(&g, ev, n);
		free_zombies(&g);
		if (g.redrive)
			redrive_all(&g);
		free_zombies(&g);
		if (g.sync_pending)
			do_sync(&g);
		if (g.now - g.last_sweep >= SWEEP_US) {
			g.last_sweep = g.now;
			sweep(&g);
		}
		free_zombies(&g);
	}
	close_all(&g);
	return 0;
}

/* ---- standalone --------------------------------------------------------- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, al_error *err)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s ? s : "", ':');
	if (!colon || (size_t)(colon - s) >= sizeof host || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535)
		return al_err(err, EINVAL, "--listen %s: expected ADDRESS:PORT", s ? s : "");
	snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	if (!egress_parse_ip(h, ss))
		return al_err(err, EINVAL, "--listen %s: not an IP address", s);
	uint16_t port = htons((uint16_t)atoi(colon + 1));
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = port;
		*len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = port;
		*len = sizeof(struct sockaddr_in6);
	}
	return 0;
}

AL_API int al_gateway_serve(const al_policy *p, const al_gateway_opts *o, al_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (p->n_secrets)
		return al_err(err, EINVAL, "credentials.secrets: the standalone gateway does not inject "
			      "credentials (their CA is trusted only inside a run's sandbox); remove them");
	if (parse_listen(o->listen, &ss, &len, err) < 0)
		return -1;
	_cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0)
		return al_errno(err, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return al_errno(err, "binding %s", o->listen);
	if (listen(fd, 1024) < 0)
		return al_errno(err, "listen");
	if (o->ready) {
		char a[INET6_ADDRSTRLEN], bound[INET6_ADDRSTRLEN + 10];
		struct conn tmp = { 0 };
		len = sizeof ss;
		getsockname(fd, (struct sockaddr *)&ss, &len);
		set_addr_text(&tmp, &ss);
		snprintf(a, sizeof a, "%s", tmp.addr);
		snprintf(bound, sizeof bound, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
		o->ready(bound, o->ready_arg);
	}
	struct gateway_config cfg = { .pol = p, .listen_fd = fd, .events_fd = o->log_fd, .ctl_fd = -1,
				      .audit_fd = -1, .auth = o->auth, .log_client = true };
	return gateway_serve(&cfg, err);
}
