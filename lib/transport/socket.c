/* Bound sockets for the listeners. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sipwarden/transport.h"

static int open_bound(const struct sw_listen *l, int type, bool reuseport, int *fd)
{
	int s = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return SW_EIO;
	int one = 1;
	/* not for UDP: there SO_REUSEADDR lets a second server bind the same port */
	if (type == SOCK_STREAM)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto fail;
	if (l->addr.ss_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s, (const struct sockaddr *)&l->addr, l->addrlen))
		goto fail;
	*fd = s;
	return 0;
fail:;
	int e = errno;
	close(s);
	errno = e;
	return SW_EIO;
}

int sw_udp_open(const struct sw_listen *l, bool reuseport, int *fd)
{
	int s, rc = open_bound(l, SOCK_DGRAM, reuseport, &s);
	if (rc)
		return rc;
	/* room for bursts: a registrar receives many small datagrams at once */
	int size = 4 << 20;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	*fd = s;
	return 0;
}

int sw_tcp_listen(const struct sw_listen *l, bool reuseport, int *fd)
{
	int s, rc = open_bound(l, SOCK_STREAM, reuseport, &s);
	if (rc)
		return rc;
	if (listen(s, 512)) {
		int e = errno;
		close(s);
		errno = e;
		return SW_EIO;
	}
	*fd = s;
	return 0;
}
