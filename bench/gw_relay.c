/* bench/gw_relay: the least a user-space CONNECT relay can do, as a ceiling
 * for bench/gateway's bulk figure. No policy, no name resolution, no
 * limits, no log, no event loop: per tunnel two blocking threads, each
 * moving one direction with splice(2) through a 1 MiB pipe. What it
 * reaches against a direct download in the same run is the most any relay
 * in user space gets on this host; the gateway's CONNECT figure is read
 * against it.
 *
 *   build/bench/gw_relay [--max-seconds S]
 *       listens on 127.0.0.1 (a free port, printed as "port N"), accepts
 *       "CONNECT 127.0.0.1:PORT HTTP/1.1" and nothing else, answers 200,
 *       relays until both directions end; exits after S seconds (600).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_SIZE (1024 * 1024)

struct tunnel {
	int client, upstream;
	int ends; /* directions finished, under lock */
	pthread_mutex_t lock;
};

struct direction {
	struct tunnel *t;
	int from, to;
};

static void tunnel_end(struct tunnel *t)
{
	pthread_mutex_lock(&t->lock);
	int last = ++t->ends == 2;
	pthread_mutex_unlock(&t->lock);
	if (last) {
		close(t->client);
		close(t->upstream);
		pthread_mutex_destroy(&t->lock);
		free(t);
	}
}

static void *pump(void *arg)
{
	struct direction d = *(struct direction *)arg;
	free(arg);
	int p[2];
	if (pipe2(p, O_CLOEXEC) == 0) {
		fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* best effort: fs.pipe-max-size */
		for (;;) {
			ssize_t n = splice(d.from, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
			if (n <= 0)
				break;
			while (n > 0) {
				ssize_t m = splice(p[0], NULL, d.to, NULL, (size_t)n, SPLICE_F_MOVE);
				if (m <= 0)
					goto done;
				n -= m;
			}
		}
done:
		close(p[0]);
		close(p[1]);
	}
	shutdown(d.to, SHUT_WR);
	shutdown(d.from, SHUT_RD);
	tunnel_end(d.t);
	return NULL;
}

static int start_pump(struct tunnel *t, int from, int to)
{
	struct direction *d = malloc(sizeof *d);
	pthread_t th;
	if (!d)
		return -1;
	*d = (struct direction){ t, from, to };
	if (pthread_create(&th, NULL, pump, d) != 0) {
		free(d);
		return -1;
	}
	pthread_detach(th);
	return 0;
}

/* The request head, the CONNECT target on 127.0.0.1, the 200; then the
 * two directions. Anything else is closed without an answer. */
static void serve(int client)
{
	char head[4096];
	size_t n = 0;
	while (n < sizeof head - 1) {
		ssize_t r = read(client, head + n, sizeof head - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		head[n] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	head[n] = '\0';
	unsigned port = 0;
	char rest[16];
	if (!strstr(head, "\r\n\r\n") || sscanf(head, "CONNECT 127.0.0.1:%u %15s", &port, rest) != 2 || port == 0 ||
	    port > 65535) {
		close(client);
		return;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	if (upstream < 0 || connect(upstream, (struct sockaddr *)&to, sizeof to) != 0 ||
	    write(client, ok, sizeof ok - 1) != (ssize_t)(sizeof ok - 1)) {
		if (upstream >= 0)
			close(upstream);
		close(client);
		return;
	}
	struct tunnel *t = calloc(1, sizeof *t);
	if (!t) {
		close(upstream);
		close(client);
		return;
	}
	*t = (struct tunnel){ .client = client, .upstream = upstream };
	pthread_mutex_init(&t->lock, NULL);
	if (start_pump(t, client, upstream) != 0)
		tunnel_end(t);
	if (start_pump(t, upstream, client) != 0)
		tunnel_end(t);
}

int main(int argc, char **argv)
{
	unsigned max_seconds = 600;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc) {
			max_seconds = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: gw_relay [--max-seconds S]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(max_seconds); /* bounded: a forgotten relay does not linger */
	int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 128) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0) {
		perror("gw_relay: listening on 127.0.0.1");
		return 1;
	}
	printf("port %u\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			serve(c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return 1;
	}
}
