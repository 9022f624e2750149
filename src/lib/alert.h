/* Alert delivery (alert.c): an event handed to a command or an HTTP
 * webhook, from a detached process, so delivery can never block, slow down
 * or crash a run. Which events fire which rule is audit.c's business. */
#ifndef AIRLOCK_ALERT_H
#define AIRLOCK_ALERT_H

#include "internal.h"

#define ALERT_EXEC_TIMEOUT_MS 10000
#define ALERT_WEBHOOK_TIMEOUT_MS 5000
#define ALERT_WEBHOOK_TRIES 3

/* Split "http://host[:port][/path]" (host: name, IPv4, or [IPv6]; port
 * default 80; path default "/"). Pure. Returns 0, or -1 with *why set.
 * https:// is refused ("https webhooks are not supported yet"). */
int alert_parse_url(const char *url, char host[256], uint16_t *port, char path[1024], const char **why);

/* Deliver event_json (one JSON object, no newline needed) to r's target:
 * fork twice (the delivering process is re-parented and never waited for),
 * close every fd but 2, and run the command with the JSON on stdin (killed
 * after ALERT_EXEC_TIMEOUT_MS), or POST it to the webhook
 * (Content-Type: application/json, ALERT_WEBHOOK_TRIES tries, backoff
 * 0.5 s, 1 s; each try bounded by ALERT_WEBHOOK_TIMEOUT_MS; success = a 2xx
 * status). Returns at once; failures are written to stderr by the delivering
 * process. Safe to call from a process with other threads only as far as
 * fork is (see docs/gateway.md). */
void alert_deliver(const struct alert_rule *r, const char *event_json);

/* The same, waiting for the delivery to finish (for tests): returns 0 when
 * the command exited 0 or the webhook answered 2xx. */
int alert_deliver_wait(const struct alert_rule *r, const char *event_json);

/* Tests only: every timeout and backoff above (and alert_deliver_wait's own
 * 30 s bound) is multiplied by this. 1.0 unless a test changes it. */
extern double alert_timeout_scale;

#endif
