/* The doctor's real connection to a target: one connected UDP socket (so
 * that an ICMP port unreachable comes back as ECONNREFUSED and is told
 * apart from silence), or one TCP connection, or TLS over one (OpenSSL,
 * non-blocking, verified like a careful phone: chain against the default
 * trust store, names against the target's host name or IP address), both
 * framed with sw_stream. A request is a client transaction: over UDP it is
 * retransmitted with the RFC 3261 §17.1.2.2 timers (T1 = 500 ms doubling up
 * to T2 = 4 s), all of it bounded by the timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "sipwarden/doctor.h"
#include "sipwarden/msg.h"

#define T1_MS 500
#define T2_MS 4000
#define STREAM_CAP 65536u

struct conn {
	int fd;
	enum sw_transport tp;
	SSL_CTX *ctx;            /* TLS only */
	SSL *ssl;
	X509 *leaf;              /* the server's certificate, seen while verifying */
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
/* One SSL_read into the stream: 1 when data was added, 0 when it would
 * block (*ev: what to poll for), -2 closed, -3 another error. */
static int tls_fill(struct conn *c, short *ev)
{
	size_t room;
	char *sp = sw_stream_space(&c->st, &room);
	if (!room)
		return -3;
	ERR_clear_error();
	int n = SSL_read(c->ssl, sp, room > 65536 ? 65536 : (int)room);
	if (n > 0) {
		sw_stream_added(&c->st, (size_t)n);
		return 1;
	}
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
	case SSL_ERROR_SYSCALL: /* EOF without close_notify, or a reset */
		return -2;
	default:
		return -3;
	}
}

static int recv_one(struct conn *c, int64_t deadline, char *out, size_t cap, size_t *len)
{
	for (;;) {
		short ev = POLLIN;
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
		if (c->tp == SW_TP_TLS) {
			/* decrypted bytes may wait inside OpenSSL: read before polling */
			int f = tls_fill(c, &ev);
			if (f == 1)
				continue;
			if (f < 0)
				return f;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = c->fd, .events = ev };
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -3;
		if (pr == 0)
			return 0;
		if (c->tp == SW_TP_TLS)
			continue;
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

static int tls_send_all(struct conn *c, const char *p, size_t n)
{
	for (int waits = 0; n && waits < 30;) {
		ERR_clear_error();
		int w = SSL_write(c->ssl, p, n > 65536 ? 65536 : (int)n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		int e = SSL_get_error(c->ssl, w);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			struct pollfd pfd = { .fd = c->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
			poll(&pfd, 1, 1000);
			waits++;
			continue;
		}
		return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? SW_DX_CLOSED : SW_EIO;
	}
	return n ? SW_DX_TIMEOUT : 0;
}

static int send_all(struct conn *c, const char *p, size_t n)
{
	if (c->tp == SW_TP_TLS)
		return tls_send_all(c, p, n);
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

/* ---- TLS ---------------------------------------------------------------- */

static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	/* keep the leaf for the report, whatever the verdict */
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	if (c && leaf && !c->leaf && X509_up_ref(leaf))
		c->leaf = leaf;
	return ok;
}

static void name_line(X509_NAME *n, char *out, size_t cap)
{
	out[0] = 0;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	int k = BIO_read(b, out, (int)cap - 1);
	out[k > 0 ? k : 0] = 0;
	BIO_free(b);
}

/* "subject CN = x, issuer CN = y, names DNS:a, IP:b" */
static void describe_cert(X509 *x, char *out, size_t cap)
{
	char subj[200], iss[200], names[300] = "";
	name_line(X509_get_subject_name(x), subj, sizeof(subj));
	name_line(X509_get_issuer_name(x), iss, sizeof(iss));
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gn && i < sk_GENERAL_NAME_num(gn); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
		size_t l = strlen(names);
		if (g->type == GEN_DNS) {
			snprintf(names + l, sizeof(names) - l, "%sDNS:%.*s", l ? ", " : "",
				 ASN1_STRING_length(g->d.dNSName), (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			char ip[INET6_ADDRSTRLEN] = "?";
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip));
			snprintf(names + l, sizeof(names) - l, "%sIP:%s", l ? ", " : "", ip);
		}
	}
	GENERAL_NAMES_free(gn);
	snprintf(out, cap, "certificate subject %s, issuer %s, names %s", subj, iss,
		 names[0] ? names : "(none: no subjectAltName)");
}

/* The reason of a failed handshake, one line. */
static void tls_reason(struct conn *c, int sslerr, int sys_errno, char *out, size_t cap)
{
	long v = SSL_get_verify_result(c->ssl);
	unsigned long e = ERR_peek_error();
	if (v != X509_V_OK) {
		snprintf(out, cap, "certificate verify failed: %s", X509_verify_cert_error_string(v));
	} else if (sslerr == SSL_ERROR_SYSCALL && !e) {
		if (sys_errno == 0 || sys_errno == EPIPE)
			snprintf(out, cap, "handshake failure: the server closed the connection during the handshake");
		else
			snprintf(out, cap, "handshake failure: %s", strerror(sys_errno));
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(out, cap, "handshake failure: the server closed the connection during the handshake");
	} else if (e) {
		const char *rs = ERR_reason_error_string(e);
		snprintf(out, cap, "handshake failure: %s", rs ? rs : "unknown OpenSSL error");
	} else {
		snprintf(out, cap, "handshake failure");
	}
}

static bool is_ip(const char *name)
{
	unsigned char a[16];
	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

/* TLS client handshake on the connected socket within timeout_ms.
 * SW_DX_ANSWER, SW_DX_TLS_FAILED (why filled), SW_DX_TIMEOUT, SW_EIO. */
static int tls_open(struct conn *c, const char *name, unsigned timeout_ms, char *info, size_t infocap,
		    char *why, size_t whycap)
{
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return SW_EIO;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	/* OpenSSL's default store: SSL_CERT_FILE / SSL_CERT_DIR, else the system's */
	if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		ERR_clear_error();
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return SW_EIO;
	SSL_set_app_data(c->ssl, c);
	X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
	if (is_ip(name)) {
		/* RFC 6066 §3: no SNI for an address; the certificate must list it */
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
			return SW_EIO;
	} else {
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(c->ssl, name) != 1 || SSL_set_tlsext_host_name(c->ssl, name) != 1)
			return SW_EIO;
	}
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int rc = SSL_connect(c->ssl);
		if (rc == 1)
			break;
		int se = errno;
		int e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				snprintf(why, whycap, "handshake failure: no answer to the TLS handshake within the timeout");
				return SW_DX_TLS_FAILED;
			}
			struct pollfd pfd = { .fd = c->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return SW_EIO;
			continue;
		}
		tls_reason(c, e, se, why, whycap);
		if (c->leaf) {
			size_t l = strlen(why);
			if (l + 2 < whycap) {
				why[l] = '\n';
				describe_cert(c->leaf, why + l + 1, whycap - l - 1);
			}
		}
		return SW_DX_TLS_FAILED;
	}
	char cert[600] = "no certificate";
	X509 *peer = SSL_get1_peer_certificate(c->ssl);
	if (peer) {
		describe_cert(peer, cert, sizeof(cert));
		X509_free(peer);
	}
	int k = snprintf(info, infocap, "%s %s, verified for %s; ", SSL_get_version(c->ssl),
			 SSL_get_cipher_name(c->ssl), name);
	if (k > 0 && (size_t)k + 1 < infocap) {
		/* the certificate as far as it fits: a note */
		size_t cl = strlen(cert), room = infocap - (size_t)k - 1;
		cl = cl < room ? cl : room;
		memcpy(info + k, cert, cl);
		info[(size_t)k + cl] = 0;
	}
	return SW_DX_ANSWER;
}

static void conn_free(struct exch *x)
{
	if (x->c.ssl) {
		SSL_shutdown(x->c.ssl); /* one close_notify, no waiting */
		SSL_free(x->c.ssl);
	}
	SSL_CTX_free(x->c.ctx);
	X509_free(x->c.leaf);
	if (x->c.fd >= 0)
		close(x->c.fd);
	free(x);
}

int sw_doctor_conn_open(struct sw_doctor_io *io, const struct sw_doctor_target *t, unsigned timeout_ms,
			char *why, size_t whycap)
{
	enum sw_transport tp = t->tp;
	const struct sockaddr *to = (const struct sockaddr *)&t->addr;
	if (whycap)
		why[0] = 0;
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
	int64_t start = now_ms();
	if (connect(fd, to, t->addrlen) < 0) {
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
	char tls_info[sizeof(io->tls)] = "";
	if (res == SW_DX_ANSWER && tp == SW_TP_TLS) {
		int64_t left = (int64_t)timeout_ms - (now_ms() - start);
		res = tls_open(&x->c, t->name[0] ? t->name : "", left > 100 ? (unsigned)left : 100, tls_info,
			       sizeof(tls_info), why, whycap);
	}
	if (res != SW_DX_ANSWER) {
		conn_free(x);
		return res;
	}
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0) {
		conn_free(x);
		return SW_EIO;
	}
	memset(io, 0, sizeof(*io));
	io->exchange = exchange;
	io->self = x;
	io->tp = tp;
	snprintf(io->tls, sizeof(io->tls), "%s", tls_info);
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
	conn_free(x);
	io->self = NULL;
}
