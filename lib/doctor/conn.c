/* The doctor's real connection to a target: one connected UDP socket (so
 * that an ICMP port unreachable comes back as ECONNREFUSED and is told
 * apart from silence) or one TCP connection framed with sw_stream. A
 * request is a client transaction: over UDP it is retransmitted with the
 * RFC 3261 §17.1.2.2 timers (T1 = 500 ms doubling up to T2 = 4 s), all of
 * it bounded by the timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include "sipwarden/doctor.h"
#include "sipwarden/msg.h"

#define T1_MS 500
#define T2_MS 4000
#define STREAM_CAP 65536u

struct conn {
	int fd;
	enum sw_transport tp;
	struct sw_stream st;
	char sbuf[STREAM_CAP];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The top Via branch and CSeq of a message, for matching: 1 for a request
 * or a final response (keys filled), 2 for a provisional response, 0 when
 * it does not parse. */
static int txn_key(const char *p, size_t n, char *branch, size_t bcap, char *cseq, size_t ccap)
{
	struct sw_msg *m = malloc(sizeof(*m));
	int kind = 0;
	if (!m)
		return 0;
	struct sw_via v;
	struct sw_cseq c;
	if (sw_msg_parse(m, p, n, NULL, NULL) == 0 && sw_msg_top_via(m, &v, NULL) == 0 &&
	    sw_msg_cseq(m, &c, NULL) == 0) {
		sw_str_cpy(branch, bcap, v.branch);
		snprintf(cseq, ccap, "%u %.*s", c.num, (int)c.method.len, c.method.p);
		kind = !m->is_request && m->status < 200 ? 2 : 1;
	}
	free(m);
	return kind;
}

/* Waits for one message until deadline: 1 and the message, 0 on timeout,
 * -1 refused (ICMP), -2 connection closed, -3 another error. */
static int recv_one(struct conn *c, int64_t deadline, char *out, size_t cap, size_t *len)
{
	for (;;) {
		if (c->tp != SW_TP_UDP) {
			const char *msg;
			size_t mlen;
			int f = sw_stream_next(&c->st, &msg, &mlen);
			c->st.pings = 0;
			if (f == 1) {
				if (mlen > cap)
					continue;
				memcpy(out, msg, mlen);
				*len = mlen;
				return 1;
			}
			if (f < 0)
				return -3;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -3;
		if (pr == 0)
			return 0;
		if (c->tp == SW_TP_UDP) {
			ssize_t n = recv(c->fd, out, cap, 0);
			if (n < 0 && errno == ECONNREFUSED)
				return -1;
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				return -3;
			*len = (size_t)n;
			return 1;
		}
		size_t room;
		char *sp = sw_stream_space(&c->st, &room);
		if (!room)
			return -3;
		ssize_t n = recv(c->fd, sp, room, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -2 : -3;
		if (n == 0)
			return -2;
		sw_stream_added(&c->st, (size_t)n);
	}
}

static int send_all(struct conn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == ECONNREFUSED)
			return SW_DX_REFUSED;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return SW_DX_CLOSED;
		if (w < 0 && errno == EMSGSIZE)
			return SW_ETOOBIG;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w < 0)
			return SW_EIO;
		if (c->tp == SW_TP_UDP)
			return 0;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct exch {
	struct conn c;
	unsigned timeout_ms;
};

static int exchange(void *self, const char *req, size_t len, char *resp, size_t cap, size_t *rlen)
{
	struct exch *x = self;
	struct conn *c = &x->c;
	char want_branch[128], want_cseq[64], br[128], cs[64];
	if (txn_key(req, len, want_branch, sizeof(want_branch), want_cseq, sizeof(want_cseq)) != 1)
		return SW_EINVAL;
	int64_t start = now_ms(), deadline = start + x->timeout_ms;
	int64_t interval = T1_MS, next_send = start;
	bool provisional = false;
	for (;;) {
		int64_t t = now_ms();
		if (t >= deadline)
			return SW_DX_TIMEOUT;
		if (t >= next_send && (c->tp == SW_TP_UDP || next_send == start)) {
			int e = send_all(c, req, len);
			if (e)
				return e;
			if (c->tp == SW_TP_UDP) {
				next_send = t + interval;
				interval = provisional || interval * 2 > T2_MS ? T2_MS : interval * 2;
			} else {
				next_send = deadline;
			}
		}
		int64_t until = c->tp == SW_TP_UDP && next_send < deadline ? next_send : deadline;
		size_t n = 0;
		int got = recv_one(c, until, resp, cap, &n);
		if (got == -1)
			return SW_DX_REFUSED;
		if (got == -2)
			return SW_DX_CLOSED;
		if (got < 0)
			return SW_EIO;
		if (got == 0)
			continue;
		/* a final response to this request; anything else is skipped */
		int kind = txn_key(resp, n, br, sizeof(br), cs, sizeof(cs));
		if (kind && strcmp(br, want_branch) == 0 && strcmp(cs, want_cseq) == 0) {
			if (kind == 1) {
				*rlen = n;
				return SW_DX_ANSWER;
			}
			provisional = true; /* RFC 3261 §17.1.2.2: retransmit at T2 */
		}
	}
}

int sw_doctor_conn_open(struct sw_doctor_io *io, enum sw_transport tp, const struct sockaddr *to,
			socklen_t tolen, unsigned timeout_ms)
{
	if (tp == SW_TP_TLS)
		return SW_EINVAL;
	struct exch *x = calloc(1, sizeof(*x));
	if (!x)
		return SW_ENOMEM;
	x->timeout_ms = timeout_ms;
	x->c.tp = tp;
	sw_stream_init(&x->c.st, x->c.sbuf, sizeof(x->c.sbuf));
	int fd = socket(to->sa_family, (tp == SW_TP_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(x);
		return SW_EIO;
	}
	x->c.fd = fd;
	int res = SW_DX_ANSWER;
	if (connect(fd, to, tolen) < 0) {
		if (errno == ECONNREFUSED) {
			res = SW_DX_REFUSED;
		} else if (errno == EINPROGRESS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int pr;
			do
				pr = poll(&pfd, 1, (int)timeout_ms);
			while (pr < 0 && errno == EINTR);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (pr == 0)
				res = SW_DX_TIMEOUT;
			else if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				res = SW_EIO;
			else if (soerr == ECONNREFUSED)
				res = SW_DX_REFUSED;
			else if (soerr)
				res = soerr == ETIMEDOUT || soerr == EHOSTUNREACH || soerr == ENETUNREACH
					      ? SW_DX_TIMEOUT : SW_EIO;
		} else {
			res = errno == ENETUNREACH || errno == EHOSTUNREACH ? SW_DX_TIMEOUT : SW_EIO;
		}
	}
	if (res != SW_DX_ANSWER) {
		close(fd);
		free(x);
		return res;
	}
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0) {
		close(fd);
		free(x);
		return SW_EIO;
	}
	memset(io, 0, sizeof(*io));
	io->exchange = exchange;
	io->self = x;
	io->tp = tp;
	char host[48];
	sw_sockaddr_host((struct sockaddr *)&local, host, sizeof(host));
	if (local.ss_family == AF_INET6)
		snprintf(io->local_host, sizeof(io->local_host), "[%s]", host);
	else
		snprintf(io->local_host, sizeof(io->local_host), "%s", host);
	io->local_port = sw_sockaddr_port((struct sockaddr *)&local);
	sw_sockaddr_format(to, io->peer, sizeof(io->peer));
	return SW_DX_ANSWER;
}

void sw_doctor_conn_close(struct sw_doctor_io *io)
{
	struct exch *x = io->self;
	if (!x)
		return;
	close(x->c.fd);
	free(x);
	io->self = NULL;
}
