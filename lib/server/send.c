/* Sending: UDP through a per-worker outbox flushed with one sendmmsg, TCP on
 * the worker's connections, and flows (a peer as a binding remembers it)
 * that may belong to another worker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "server/server_int.h"

/* Sends the gathered UDP responses: one sendmmsg for the lot (a datagram
 * that fails is counted and skipped). */
void sw__outbox_flush(struct sw_worker *w)
{
	size_t i = 0;
	while (i < w->nout) {
		int n = sendmmsg(w->out_fd, w->out + i, (unsigned)(w->nout - i), MSG_DONTWAIT);
		if (n > 0) {
			w->stats.sent += (uint64_t)n;
			i += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			w->stats.send_errors++;
			i++;
		}
	}
	w->nout = w->out_used = 0;
}

static void outbox_add(struct sw_worker *w, const struct sw_peer *to, const char *buf, size_t len)
{
	if (w->nout && (w->nout == BATCH || w->out_fd != to->fd || w->out_used + len > OUTBOX_BYTES))
		sw__outbox_flush(w);
	size_t k = w->nout++;
	char *dst = w->obuf + w->out_used;
	memcpy(dst, buf, len);
	w->out_used += len;
	w->out_fd = to->fd;
	memcpy(&w->out_to[k], &to->addr, to->addrlen);
	w->out_iov[k] = (struct iovec){ dst, len };
	w->out[k].msg_hdr = (struct msghdr){ .msg_name = &w->out_to[k], .msg_namelen = to->addrlen,
					     .msg_iov = &w->out_iov[k], .msg_iovlen = 1 };
}

int sw_worker_send(struct sw_worker *w, const struct sw_peer *to, const char *buf, size_t len)
{
	if (to->tp == SW_TP_UDP) {
		if (len <= OUTBOX_BYTES) {
			outbox_add(w, to, buf, len);
			return 0;
		}
		ssize_t n = sendto(to->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&to->addr, to->addrlen);
		if (n < 0) {
			w->stats.send_errors++;
			return SW_EIO;
		}
		w->stats.sent++;
		return 0;
	}
	unsigned slot = (unsigned)(to->conn_id & 0xffffffffu);
	struct conn *c = slot < w->nslots ? w->conns[slot] : NULL;
	if (!c || c->id != to->conn_id)
		return SW_ENOTFOUND; /* the connection is gone; RFC 3261 §18.2.2 would open one */
	int rc = sw__conn_write(w, c, buf, len);
	if (rc) {
		w->stats.send_errors++;
		sw__conn_close(w, c);
		return rc;
	}
	w->stats.sent++;
	return 0;
}


void sw_worker_flow_of(const struct sw_worker *w, const struct sw_peer *p, struct sw_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->tp = p->tp;
	f->listen = p->local ? (uint16_t)(p->local - w->srv->listen) : 0;
	f->worker = (uint16_t)w->index;
	f->conn_id = p->conn_id;
	f->addr = p->addr;
	f->addrlen = p->addrlen;
}

const struct sw_listen *sw_worker_listens(const struct sw_worker *w, unsigned *n)
{
	*n = w->srv->cfg.nlisten;
	return w->srv->listen;
}

struct sw_worker *sw_worker_sibling(struct sw_worker *w, unsigned index)
{
	return index < w->srv->nworkers ? &w->srv->w[index] : NULL;
}

/* A message handed to the worker that owns a TCP connection. */
struct handoff {
	struct sw_worker *origin;
	void (*fail)(struct sw_worker *w, void *arg);
	void *arg;
	struct sw_peer to;
	size_t len;
	char buf[];
};

static void handoff_failed(struct sw_worker *w, void *arg)
{
	struct handoff *h = arg;
	h->fail(w, h->arg);
	free(h);
}

static void handoff_send(struct sw_worker *w, void *arg)
{
	struct handoff *h = arg;
	if (sw_worker_send(w, &h->to, h->buf, h->len) && h->fail &&
	    sw_worker_post(h->origin, handoff_failed, h) == 0)
		return; /* freed by handoff_failed */
	free(h);
}

int sw_worker_send_flow(struct sw_worker *w, const struct sw_flow *f, const char *buf, size_t len,
			void (*fail)(struct sw_worker *w, void *arg), void *arg)
{
	struct sw_server *s = w->srv;
	struct sw_peer to = { .tp = f->tp, .addr = f->addr, .addrlen = f->addrlen, .fd = -1,
			      .conn_id = f->conn_id };
	if (f->tp == SW_TP_UDP) {
		unsigned li = f->listen;
		if (li >= s->cfg.nlisten || w->udp[li] < 0) {
			for (li = 0; li < s->cfg.nlisten; li++)
				if (w->udp[li] >= 0 && s->listen[li].addr.ss_family == f->addr.ss_family)
					break;
			if (li == s->cfg.nlisten)
				return SW_ENOTFOUND;
		}
		to.fd = w->udp[li];
		to.local = &s->listen[li];
		return sw_worker_send(w, &to, buf, len);
	}
	if (!f->conn_id || f->worker >= s->nworkers)
		return SW_ENOTFOUND;
	if (f->worker == w->index)
		return sw_worker_send(w, &to, buf, len);
	struct handoff *h = malloc(sizeof(*h) + len);
	if (!h)
		return SW_ENOMEM;
	*h = (struct handoff){ .origin = w, .fail = fail, .arg = arg, .to = to, .len = len };
	memcpy(h->buf, buf, len);
	if (sw_worker_post(&s->w[f->worker], handoff_send, h)) {
		free(h);
		return SW_ENOMEM;
	}
	return 0;
}

uint32_t sw_worker_boot(const struct sw_worker *w)
{
	return w->srv->boot;
}

const char *sw_flow_format(const struct sw_flow *f, uint32_t boot, char *out, size_t cap)
{
	char host[64];
	sw_sockaddr_host((const struct sockaddr *)&f->addr, host, sizeof(host));
	int port = sw_sockaddr_port((const struct sockaddr *)&f->addr);
	if (f->tp == SW_TP_UDP)
		snprintf(out, cap, "udp %s %d l%u", host, port, f->listen);
	else
		snprintf(out, cap, "%s %s %d l%u w%u c%llu b%08x", f->tp == SW_TP_TCP ? "tcp" : "tls", host, port,
			 f->listen, f->worker, (unsigned long long)f->conn_id, boot);
	return out;
}

int sw_flow_parse(const char *s, uint32_t boot, struct sw_flow *f)
{
	char tp[4], host[64];
	int port;
	unsigned listen, worker = 0, fboot = 0;
	unsigned long long conn = 0;
	int n = sscanf(s, "%3s %63s %d l%u w%u c%llu b%x", tp, host, &port, &listen, &worker, &conn, &fboot);
	if (n < 4 || port <= 0 || port > 65535 || listen > 0xffff || worker > 0xffff)
		return SW_EPARSE;
	memset(f, 0, sizeof(*f));
	if (!strcmp(tp, "udp"))
		f->tp = SW_TP_UDP;
	else if (!strcmp(tp, "tcp") && n == 7)
		f->tp = SW_TP_TCP;
	else if (!strcmp(tp, "tls") && n == 7)
		f->tp = SW_TP_TLS;
	else
		return SW_EPARSE;
	f->listen = (uint16_t)listen;
	f->worker = (uint16_t)worker;
	f->conn_id = fboot == boot ? conn : 0;
	if (sw_sockaddr_from(host, port, &f->addr, &f->addrlen))
		return SW_EPARSE;
	return 0;
}

void sw_worker_close(struct sw_worker *w, const struct sw_peer *p)
{
	unsigned slot = (unsigned)(p->conn_id & 0xffffffffu);
	if (p->tp == SW_TP_UDP || slot >= w->nslots || !w->conns[slot] || w->conns[slot]->id != p->conn_id)
		return;
	sw__conn_close(w, w->conns[slot]);
}
