/* Network namespace: the sandbox's own, holding only loopback. There is no
 * route anywhere else; the egress gateway is the only way out. Its listening
 * socket is made here, inside the namespace (a socket keeps the namespace it
 * was created in), and handed to the supervisor, whose gateway process
 * accepts on it from outside: nothing of the gateway runs in the sandbox. */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int net_loopback_up(al_error *err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return al_errno(err, "socket");
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return al_errno(err, "reading flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return al_errno(err, "bringing lo up");
	return 0;
}

int net_gateway_socket(al_error *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(AL_GATEWAY_PORT),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0)
		return al_errno(err, "socket");
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, SOMAXCONN) < 0) {
		al_errno(err, "listening on 127.0.0.1:%d", AL_GATEWAY_PORT);
		close(fd);
		return -1;
	}
	return fd;
}
