/* Inside the sandbox: a client that pipelines two requests in one TLS
 * record through a CONNECT tunnel, sends close_notify and closes at once,
 * while the answers are still being written. A gateway that took the
 * peer's close for "0 bytes written" would spin on it forever.
 *   close_notify HOST PORT PATH2 [HEADER] */
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4)
		return 64;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(3128) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "CONNECT %s:%s HTTP/1.1\r\n\r\n", argv[1], argv[2]);
	if (write(fd, buf, (size_t)n) != n)
		return 1;
	int got = 0;
	while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0)
		if (got >= (int)sizeof buf - 1 || read(fd, buf + got++, 1) != 1)
			return 2;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	SSL_set_tlsext_host_name(s, argv[1]);
	if (SSL_connect(s) != 1)
		return 3;
	n = snprintf(buf, sizeof buf, "GET /x?t=cn1 HTTP/1.1\r\nHost: %s\r\n\r\nGET %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n",
		     argv[1], argv[3], argv[1], argc > 4 ? argv[4] : "", argc > 4 ? "\r\n" : "");
	SSL_write(s, buf, n);
	SSL_shutdown(s);
	close(fd);
	puts("closed");
	return 0;
}
