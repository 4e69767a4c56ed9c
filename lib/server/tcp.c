/* TCP and TLS connections of a worker: accepting (with the caps on
 * connections in all and per source address), reading and framing messages
 * with sw_stream, writing with a bounded backlog, and closing the idle,
 * silent and slow ones (slowloris, and a TLS handshake that does not end).
 * The bytes go through connio.c, plain or TLS. */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "sipwarden/tls.h"
#include "sipwarden/metrics.h"
#include "server/server_int.h"

void sw__conn_close(struct sw_worker *w, struct conn *c)
{
	unsigned slot = (unsigned)(c->id & 0xffffffffu);
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl)
		sw_metrics_gauge_add(SW_G_TLS_CONNECTIONS, -1);
	sw__conn_tls_end(c);
	close(c->fd);
	sw__srclimit_give(w->srv->per_source, (const struct sockaddr *)&c->addr);
	free(c->in);
	free(c->out);
	free(c);
	w->conns[slot] = NULL;
	w->nconns--;
	atomic_fetch_sub(&w->srv->tcp_open, 1);
	w->stats.tcp_closed++;
	sw_metrics_gauge_add(SW_G_TCP_CONNECTIONS, -1);
}

void sw__tcp_accept(struct sw_worker *w, unsigned li)
{
	struct sw_server *s = w->srv;
	for (;;) {
		struct sockaddr_storage a;
		socklen_t al = sizeof(a);
		int fd = accept4(w->lsn[li], (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* the caps: max_connections in all, max_connections_per_source from
		 * one address; past either, the connection is closed at once */
		const struct sockaddr *sa = (const struct sockaddr *)&a;
		bool room = atomic_fetch_add(&s->tcp_open, 1) < s->cfg.tcp_max_connections;
		bool share = room && sw__srclimit_take(s->per_source, sa, s->cfg.tcp_max_per_source);
		unsigned slot = 0;
		while (share && slot < w->nslots && w->conns[slot])
			slot++;
		struct conn *c = share && slot < w->nslots ? calloc(1, sizeof(*c)) : NULL;
		char *in = c ? malloc(s->cfg.max_message) : NULL;
		bool tls = s->listen[li].tp == SW_TP_TLS;
		if (in && tls && !(c->ssl = sw_tls_session(s->cfg.tls, fd))) {
			free(in);
			in = NULL;
		}
		if (!in) {
			free(c);
			close(fd);
			atomic_fetch_sub(&s->tcp_open, 1);
			if (share)
				sw__srclimit_give(s->per_source, sa);
			w->stats.tcp_refused++;
			w->stats.tcp_refused_source += room && !share;
			sw_metrics_inc(room && !share ? SW_M_TCP_REFUSED_SOURCE : SW_M_TCP_REFUSED_LIMIT);
			continue;
		}
		c->id = ((uint64_t)++w->generation << 32) | slot;
		c->fd = fd;
		c->local = &s->listen[li];
		c->addr = a;
		c->addrlen = al;
		c->in = in;
		sw_stream_init(&c->st, in, s->cfg.max_message);
		c->last_ms = c->accepted_ms = sw__now_ms();
		c->handshaking = tls; /* the client speaks first: its ClientHello wakes us */
		c->mask = EPOLLIN | EPOLLRDHUP;
		if (sw__add_fd(w, fd, c->mask, EV(EV_CONN, slot))) {
			sw__conn_tls_end(c);
			free(in);
			free(c);
			close(fd);
			atomic_fetch_sub(&s->tcp_open, 1);
			sw__srclimit_give(s->per_source, sa);
			continue;
		}
		w->conns[slot] = c;
		w->nconns++;
		w->stats.tcp_accepted++;
		sw_metrics_inc(SW_M_TCP_ACCEPTED);
		sw_metrics_gauge_add(SW_G_TCP_CONNECTIONS, 1);
		if (c->ssl)
			sw_metrics_gauge_add(SW_G_TLS_CONNECTIONS, 1);
	}
}

int sw__conn_write(struct sw_worker *w, struct conn *c, const char *buf, size_t len)
{
	if (c->out_len == 0) {
		ssize_t n = sw__conn_send(w, c, buf, len);
		if (n == SW_EIO)
			return SW_EIO;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
		if (len == 0)
			return 0;
	}
	/* keep the rest until the socket is writable; cap what one peer may hold */
	if (c->out_len + len > 4 * w->srv->cfg.max_message)
		return SW_EIO;
	if (c->out_len + len > c->out_cap) {
		size_t cap = (c->out_len + len) * 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return SW_ENOMEM;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	sw__conn_mask(w, c);
	return 0;
}

static void conn_flush(struct sw_worker *w, struct conn *c)
{
	ssize_t n = c->out_len ? sw__conn_send(w, c, c->out, c->out_len) : 0;
	if (n == SW_EIO) {
		sw__conn_close(w, c);
		return;
	}
	if (n > 0) {
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	sw__conn_mask(w, c);
}

void sw__tcp_ready(struct sw_worker *w, unsigned slot, uint32_t events)
{
	struct sw_server *s = w->srv;
	struct conn *c = w->conns[slot];
	if (!c)
		return;
	if (c->handshaking) {
		int h = sw__conn_handshake(w, c);
		if (h < 0)
			sw__conn_close(w, c);
		if (h <= 0)
			return;
		events |= EPOLLIN; /* a request may have come with the handshake's end */
	}
	if (events & EPOLLOUT) {
		conn_flush(w, c);
		if (!w->conns[slot])
			return;
		if (c->ssl)
			events |= EPOLLIN; /* an SSL_read may have waited to write */
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	uint64_t id = c->id;
	for (;;) {
		size_t room;
		char *dst = sw_stream_space(&c->st, &room);
		ssize_t n = room ? sw__conn_recv(w, c, dst, room) : 0;
		if (n == SW_EAGAIN)
			return;
		if ((n == 0 && room) || n < 0) {
			sw__conn_close(w, c);
			return;
		}
		sw_stream_added(&c->st, (size_t)n);
		c->last_ms = sw__now_ms();
		c->accepted_ms = 0;
		const char *msg;
		size_t len;
		int rc;
		while ((rc = sw_stream_next(&c->st, &msg, &len)) == 1) {
			w->stats.received++;
			struct sw_peer p = { .tp = c->local->tp, .addr = c->addr, .addrlen = c->addrlen,
					     .fd = -1, .conn_id = id, .local = c->local };
			s->on_message(s->app, w, &p, msg, len);
			c = w->conns[slot];
			if (!c || c->id != id)
				return; /* closed by the application */
		}
		/* a message under way (not line ends between messages) must be whole
		 * within message_timeout: a byte a second does not hold a slot */
		if (c->st.len && c->st.buf[0] != '\r' && c->st.buf[0] != '\n') {
			if (!c->msg_start_ms)
				c->msg_start_ms = c->last_ms;
		} else {
			c->msg_start_ms = 0;
		}
		if (c->st.pings) { /* RFC 5626: answer a double-CRLF ping with a CRLF pong */
			c->st.pings = 0;
			sw__conn_write(w, c, "\r\n", 2);
		}
		if (rc < 0) { /* garbage or a message over the cap: the stream is lost */
			w->stats.framing_errors++;
			if (rc == SW_ETOOBIG) { /* let the application answer 513 first */
				struct sw_peer p = { .tp = c->local->tp, .addr = c->addr, .addrlen = c->addrlen,
						     .fd = -1, .conn_id = id, .local = c->local, .truncated = true };
				s->on_message(s->app, w, &p, c->st.buf, c->st.len);
				c = w->conns[slot];
				if (!c || c->id != id)
					return;
				conn_flush(w, c);
				if (!w->conns[slot])
					return;
			}
			sw__conn_close(w, c);
			return;
		}
	}
}

/* Once a second: connections idle for idle_timeout, in their TLS handshake
 * for tls_handshake_timeout, silent since accept (or since the handshake)
 * for first_byte_timeout, or in the middle of one message for
 * message_timeout (slowloris) are closed. */
void sw__tcp_scan(struct sw_worker *w, uint64_t now)
{
	const struct sw_server_cfg *cfg = &w->srv->cfg;
	uint64_t idle = (uint64_t)cfg->tcp_idle_timeout * 1000u;
	uint64_t first = (uint64_t)cfg->tcp_first_byte_timeout * 1000u;
	uint64_t whole = (uint64_t)cfg->tcp_message_timeout * 1000u;
	uint64_t hs = (uint64_t)cfg->tls_handshake_timeout * 1000u;
	for (unsigned k = 0; k < w->nslots; k++) {
		struct conn *c = w->conns[k];
		if (!c)
			continue;
		bool slow = (c->accepted_ms && now - c->accepted_ms > (c->handshaking ? hs : first)) ||
			    (c->msg_start_ms && now - c->msg_start_ms > whole);
		w->stats.tls_handshake_timed_out += slow && c->handshaking;
		if (slow) {
			w->stats.tcp_timed_out++;
			sw_metrics_inc(SW_M_TCP_TIMED_OUT);
		}
		if (slow || now - c->last_ms > idle)
			sw__conn_close(w, c);
	}
}
