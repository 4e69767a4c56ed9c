/* Listen specifications and socket address formatting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/transport.h"

const char *sw_transport_name(enum sw_transport t)
{
	switch (t) {
	case SW_TP_UDP: return "UDP";
	case SW_TP_TCP: return "TCP";
	case SW_TP_TLS: return "TLS";
	}
	return "?";
}

static int bad(char *why, size_t cap, const char *spec, const char *what)
{
	if (why && cap)
		snprintf(why, cap, "bad listen address '%s': %s", spec, what);
	return SW_EINVAL;
}

int sw_listen_parse(const char *spec, struct sw_listen *out, char *why, size_t why_cap)
{
	struct sw_listen l;
	memset(&l, 0, sizeof(l));
	const char *p = spec;
	if (!strncasecmp(p, "udp:", 4))
		l.tp = SW_TP_UDP;
	else if (!strncasecmp(p, "tcp:", 4))
		l.tp = SW_TP_TCP;
	else if (!strncasecmp(p, "tls:", 4))
		l.tp = SW_TP_TLS;
	else
		return bad(why, why_cap, spec, "expected udp:, tcp: or tls: first");
	p += 4;
	char host[64];
	const char *port_s = NULL;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close || (size_t)(close - p - 1) >= sizeof(host))
			return bad(why, why_cap, spec, "unterminated [IPv6 address]");
		memcpy(host, p + 1, (size_t)(close - p - 1));
		host[close - p - 1] = '\0';
		p = close + 1;
		if (*p == ':')
			port_s = p + 1;
		else if (*p)
			return bad(why, why_cap, spec, "expected ':' and a port after ']'");
	} else {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n == 0 || n >= sizeof(host))
			return bad(why, why_cap, spec, "expected an address");
		memcpy(host, p, n);
		host[n] = '\0';
		if (colon)
			port_s = colon + 1;
	}
	long port = l.tp == SW_TP_TLS ? 5061 : 5060;
	if (port_s) {
		char *end;
		port = strtol(port_s, &end, 10);
		if (*port_s == '\0' || *end || port < 1 || port > 65535)
			return bad(why, why_cap, spec, "the port must be 1-65535");
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&l.addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&l.addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		l.addrlen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		l.addrlen = sizeof(*v6);
	} else {
		return bad(why, why_cap, spec, "the address must be numeric (IPv4, or IPv6 in [])");
	}
	*out = l;
	return 0;
}

const char *sw_sockaddr_host(const struct sockaddr *sa, char *out, size_t cap)
{
	if (cap == 0)
		return out;
	out[0] = '\0';
	if (sa->sa_family == AF_INET && cap >= INET_ADDRSTRLEN) {
		/* by hand: inet_ntop goes through sprintf, and a proxy formats
		 * a peer's address several times per message */
		const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		char *o = out;
		for (int i = 0; i < 4; i++) {
			unsigned v = b[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
	} else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
	return out;
}

int sw_sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *sw_sockaddr_format(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	sw_sockaddr_host(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6)
		snprintf(out, cap, "[%s]:%d", host, sw_sockaddr_port(sa));
	else
		snprintf(out, cap, "%s:%d", host, sw_sockaddr_port(sa));
	return out;
}

bool sw_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

int sw_sockaddr_from(const char *host, int port, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
	memset(out, 0, sizeof(*out));
	if (port < 0 || port > 65535)
		return SW_EINVAL;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		return SW_EINVAL;
	}
	return 0;
}
