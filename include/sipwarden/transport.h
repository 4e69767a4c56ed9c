/* sipwarden — transports: listen addresses, UDP sockets, stream framing.
 * See docs/internals/transport.md. */
#ifndef SIPWARDEN_TRANSPORT_H
#define SIPWARDEN_TRANSPORT_H

#include <sys/socket.h>
#include "sipwarden/common.h"

enum sw_transport { SW_TP_UDP = 0, SW_TP_TCP, SW_TP_TLS };

/* "UDP", "TCP", "TLS" */
const char *sw_transport_name(enum sw_transport t);

struct sw_listen {
	enum sw_transport tp;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* Parses "udp:127.0.0.1:5060", "tcp:[::1]:5060", "udp:0.0.0.0" (port 5060
 * by default; 5061 for tls). Numeric addresses only: a listen address is
 * configuration, not something to resolve. On error writes a reason to
 * why (if given) and returns SW_EINVAL. */
int sw_listen_parse(const char *spec, struct sw_listen *out, char *why, size_t why_cap);

/* "192.0.2.1:5060" or "[2001:db8::1]:5060". Returns out. */
const char *sw_sockaddr_format(const struct sockaddr *sa, char *out, size_t cap);
/* Host part only, IPv6 without brackets ("2001:db8::1"). */
const char *sw_sockaddr_host(const struct sockaddr *sa, char *out, size_t cap);
int sw_sockaddr_port(const struct sockaddr *sa);
/* A numeric IPv4 or IPv6 address (no brackets) and port. 0 or SW_EINVAL. */
int sw_sockaddr_from(const char *host, int port, struct sockaddr_storage *out, socklen_t *len);
/* Same address and port. */
bool sw_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* A bound, non-blocking UDP socket; SO_REUSEPORT when reuseport, so that
 * each worker can own one. Returns 0 and *fd, or SW_EIO with errno kept. */
int sw_udp_open(const struct sw_listen *l, bool reuseport, int *fd);
/* A bound, listening, non-blocking TCP socket. */
int sw_tcp_listen(const struct sw_listen *l, bool reuseport, int *fd);

/* Stream framing (TCP/TLS): bytes in, whole SIP messages out.
 * The buffer is the caller's; its size is the message size cap. */
struct sw_stream {
	char *buf;
	size_t cap;
	size_t len;        /* bytes held */
	size_t msg_len;    /* length of the message returned by the last _next() */
	unsigned pings;    /* RFC 5626 double-CRLF pings seen, to answer with CRLF */
};

void sw_stream_init(struct sw_stream *s, char *buf, size_t cap);
/* Where to read more bytes into, and how many fit. */
static inline char *sw_stream_space(struct sw_stream *s, size_t *room)
{
	*room = s->cap - s->len;
	return s->buf + s->len;
}
static inline void sw_stream_added(struct sw_stream *s, size_t n) { s->len += n; }

/* Frames the next message: 1 with *msg and *len (valid until the next call),
 * 0 when more bytes are needed, SW_ETOOBIG when a message cannot fit (the
 * connection should be closed), SW_EPARSE when the stream is garbage.
 * Keep-alive CRLFs between messages are consumed; each "\r\n\r\n" ping
 * increments s->pings (the owner answers "\r\n" and resets it). */
int sw_stream_next(struct sw_stream *s, const char **msg, size_t *len);

#endif
