/* The egress gateway's decisions (egress.c) and its server (gateway.c).
 *
 * egress.c is pure: the syntax of allow/deny entries, the decision on a
 * host:port, the address ranges a resolved name may not lead to, and the
 * token buckets of the rate limits. gateway.c does the I/O.
 */
#ifndef AIRLOCK_EGRESS_H
#define AIRLOCK_EGRESS_H

#include "internal.h"

#include <netinet/in.h>
#include <sys/socket.h>

/* ---- entries ------------------------------------------------------------ */

enum egress_kind {
	EG_ANY,	     /* "*" */
	EG_NAME,     /* "api.example.com" (exact, case-insensitive) */
	EG_WILDCARD, /* "*.example.com": any name below, never example.com itself */
	EG_ADDR,     /* "10.1.2.3", "[::1]", "10.0.0.0/8", "[fd00::]/8" */
};

struct egress_entry {
	enum egress_kind kind;
	char name[254];	   /* EG_NAME: the name; EG_WILDCARD: the suffix without "*." */
	int family;	   /* EG_ADDR: AF_INET or AF_INET6 */
	uint8_t addr[16];  /* EG_ADDR: network address (v4 in the first 4 bytes) */
	unsigned prefix;   /* EG_ADDR: prefix length */
	uint16_t port;	   /* 0 = no port (rate-limit patterns) */
	char text[272];	   /* normalised form, for events: "*.example.com:443" */
};

/* "HOST:PORT" (with_port) or "HOST". Returns 0, or -1 with *why set to a
 * static message. Normalises case and one trailing dot of names. */
int egress_parse_entry(const char *s, bool with_port, struct egress_entry *e, const char **why);

/* Is `host` something the gateway will look up at all: a syntactically valid
 * DNS name (not all-numeric in its last label, which resolvers would read as
 * an IPv4 number such as 2130706433) or an IPv4/IPv6 literal? */
bool egress_host_valid(const char *host);

/* Parse an IP literal (IPv6 without brackets). */
bool egress_parse_ip(const char *host, struct sockaddr_storage *ss);

/* ---- rules -------------------------------------------------------------- */

struct egress_override {
	char name[254];
	struct sockaddr_storage addr;
};

struct egress_bucket {
	struct egress_entry host;
	double rpm, bpm;	 /* 0 = not limited */
	double req_tokens, byte_tokens;
	uint64_t last_us;
	bool started; /* last_us is set */
};

#define EGRESS_MAX_RATES 64 /* a connection's buckets fit a uint64_t mask */

struct egress_rules {
	struct egress_entry *allow, *deny;
	size_t n_allow, n_deny;
	struct egress_override *hosts;
	size_t n_hosts;
	struct egress_bucket *rates;
	size_t n_rates;
};

int egress_rules_build(const struct al_policy *p, struct egress_rules *r, al_error *err);
void egress_rules_free(struct egress_rules *r);

struct egress_verdict {
	bool allow;
	int status;	       /* HTTP status to answer a refusal with (403, 429) */
	const char *rule;      /* text of the deciding entry, or "default deny" */
	char reason[160];
};

/* The decision on the destination as the client named it: the deny list
 * first, then the allow list. IP literals match only address entries and "*". */
void egress_decide(const struct egress_rules *r, const char *host, uint16_t port,
		   struct egress_verdict *v);

/* A resolved (or literal) address in a range no request may reach unless an
 * address entry covers it: loopback, private, link-local, CGNAT, multicast,
 * reserved, documentation, cloud metadata. *range names it. IPv4-mapped,
 * NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address inside. */
bool egress_addr_special(const struct sockaddr *sa, const char **range);

/* The address entry of the allow list covering sa:port, or NULL. */
const struct egress_entry *egress_addr_entry(const struct egress_rules *r, const struct sockaddr *sa,
					     uint16_t port);
/* The address entry of the deny list covering sa:port, or NULL: a resolved
 * address is checked against it too, so a name cannot lead to an address
 * the denylist names. */
const struct egress_entry *egress_addr_denied(const struct egress_rules *r, const struct sockaddr *sa,
					      uint16_t port);

/* The resolver override for host, or NULL. */
const struct sockaddr_storage *egress_override(const struct egress_rules *r, const char *host);

/* The addresses a hosts file (hosts(5) syntax, read from f) gives name,
 * at most max of them into out; their count. Names compare without case
 * and without a trailing dot; nothing else is tried (no search list, no
 * aliases file, no DNS). */
size_t egress_hosts_lookup(FILE *f, const char *name, struct sockaddr_storage *out, size_t max);

/* ---- rate limits -------------------------------------------------------- */

/* Mask of the buckets whose pattern matches host. */
uint64_t egress_rate_mask(const struct egress_rules *r, const char *host);

/* Take one request from every bucket in mask, or none (returns false and
 * fills v with a 429 naming the bucket) when one is empty. */
bool egress_rate_request(struct egress_rules *r, uint64_t mask, uint64_t now_us,
			 struct egress_verdict *v);

/* Bytes that may pass now (UINT64_MAX if no bucket of mask limits bytes),
 * and the bytes that did pass. */
uint64_t egress_rate_bytes_budget(struct egress_rules *r, uint64_t mask, uint64_t now_us);
void egress_rate_bytes_spend(struct egress_rules *r, uint64_t mask, uint64_t n);

/* ---- the server (gateway.c) --------------------------------------------- */

/* What a run's requests came to, sent with each sync's answer. */
struct gw_counters {
	uint64_t allowed, denied, bytes_up, bytes_down;
	uint64_t events_dropped; /* not written to events_fd (per-exec cap) */
};

struct cred_set;
struct tls_api;
struct tls_ca;

struct gateway_config {
	const struct al_policy *pol;
	int listen_fd;		/* listening TCP socket, non-blocking */
	int events_fd;		/* one JSON line per decision; -1 = none */
	int ctl_fd;		/* run mode: the supervisor's socket; -1 = standalone */
	int audit_fd;		/* run mode: the audit log (O_APPEND); -1 = none */
	const char *agent;	/* for audit lines */
	const volatile char *run_id; /* the current exec's run id (shared page) */
	const char *auth;	/* standalone: "user:password" clients must present; NULL = none */
	bool log_client;	/* standalone: put the client's address in events */
	/* credentials (run mode): TLS is terminated for the hosts they are bound to */
	const struct cred_set *creds;	/* NULL or empty = none */
	const struct tls_api *tls;
	struct tls_ca *ca;
};

/* Serve until SIGTERM/SIGINT (standalone; blocks them and takes them from a
 * signalfd) or until ctl_fd reaches EOF (run mode). On ctl_fd, a byte 'S'
 * (sync: the sandbox's processes are gone) closes every connection, writes
 * their events and answers 'K' followed by a struct gw_counters. */
int gateway_serve(const struct gateway_config *cfg, al_error *err);

#endif
