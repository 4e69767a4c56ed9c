/* A connection's bytes in and out: recv/send on a TCP connection, OpenSSL
 * on a TLS one. The TLS session sits on the same non-blocking socket; its
 * handshake advances whenever epoll says the socket is ready, so a slow
 * handshake costs a slot, never a thread (the handshake timeout is in
 * tcp.c's scan). */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include "server/server_int.h"

void sw__conn_mask(struct sw_worker *w, struct conn *c)
{
	uint32_t want = EPOLLIN | EPOLLRDHUP | (c->out_len || c->tls_wants_out ? EPOLLOUT : 0);
	if (want == c->mask)
		return;
	c->mask = want;
	struct epoll_event ev = { .events = want, .data.u64 = EV(EV_CONN, c->id & 0xffffffffu) };
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* After an OpenSSL call that returned r <= 0: SW_EAGAIN when it waits for
 * the socket (and the mask says for what), else SW_EIO (0 for a clean
 * close_notify when eof_ok). */
static int tls_wait(struct sw_worker *w, struct conn *c, int r, bool eof_ok)
{
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_wants_out = e == SSL_ERROR_WANT_WRITE;
		sw__conn_mask(w, c);
		return SW_EAGAIN;
	}
	return e == SSL_ERROR_ZERO_RETURN && eof_ok ? 0 : SW_EIO;
}

int sw__conn_handshake(struct sw_worker *w, struct conn *c)
{
	ERR_clear_error(); /* SSL_get_error reads this thread's queue: nothing stale in it */
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->handshaking = false;
		c->tls_wants_out = false;
		c->accepted_ms = sw__now_ms(); /* first_byte_timeout counts from here */
		w->stats.tls_handshakes++;
		sw__conn_mask(w, c);
		return 1;
	}
	if (tls_wait(w, c, r, false) == SW_EAGAIN)
		return 0;
	w->stats.tls_failed++;
	return SW_EIO;
}

ssize_t sw__conn_recv(struct sw_worker *w, struct conn *c, char *buf, size_t cap)
{
	if (!c->ssl) {
		ssize_t n = recv(c->fd, buf, cap, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EWOULDBLOCK ? SW_EAGAIN : SW_EIO;
	}
	ERR_clear_error();
	int n = SSL_read(c->ssl, buf, cap > 65536 ? 65536 : (int)cap);
	if (n > 0) {
		if (c->tls_wants_out) {
			c->tls_wants_out = false;
			sw__conn_mask(w, c);
		}
		return n;
	}
	return tls_wait(w, c, n, true);
}

ssize_t sw__conn_send(struct sw_worker *w, struct conn *c, const char *buf, size_t len)
{
	if (!c->ssl) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EWOULDBLOCK ? SW_EAGAIN : SW_EIO;
	}
	if (c->handshaking || len == 0)
		return c->handshaking ? SW_EAGAIN : 0;
	ERR_clear_error();
	int n = SSL_write(c->ssl, buf, len > 65536 ? 65536 : (int)len);
	if (n > 0)
		return n;
	int rc = tls_wait(w, c, n, false);
	return rc == SW_EAGAIN ? SW_EAGAIN : SW_EIO;
}

void sw__conn_tls_end(struct conn *c)
{
	if (!c->ssl)
		return;
	if (!c->handshaking)
		SSL_shutdown(c->ssl); /* one close_notify, no waiting for the peer's */
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
}
