/* Overload: the answer to new work the server marked for shedding
 * (lib/server/overload.c decides which, from the socket queue), or that
 * this worker sheds because its durable writes lag behind (a queue the
 * socket does not show: the 200 OKs would come later and later):
 * 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4), so that a
 * phone waits instead of retransmitting into the queue. Stateless: the 503
 * is not kept in the transaction table (a flood of them would evict the
 * transactions that complete work); a retransmission gets another one.
 * A marked datagram is answered from its raw bytes (sw__shed_raw, the 503
 * built by shed_raw.c) once its source's event of the second is out; the
 * first, and what the raw reader leaves, after the full parse (sw__shed).
 * (The worker's per-second counts call a request shed when it was marked;
 * the registrar's `shed` counts the 503s sent.) */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "reg_int.h"
#include "shed_raw.h"
#include "sipwarden/metrics.h"

void sw__lag_push(struct sw_registrar_worker *rw, uint64_t now_ms)
{
	/* once one write went unrecorded, the later ones too: the ring then
	 * holds only writes older than every unrecorded one */
	if (rw->lag_over || rw->lag_len == SW_REG_LAG_RING) {
		rw->lag_over++;
		return;
	}
	rw->lag_ms[(rw->lag_head + rw->lag_len++) % SW_REG_LAG_RING] = now_ms;
}

void sw__lag_pop(struct sw_registrar_worker *rw)
{
	if (rw->lag_len) {
		rw->lag_head = (rw->lag_head + 1) % SW_REG_LAG_RING;
		rw->lag_len--;
	} else if (rw->lag_over) {
		rw->lag_over--;
	}
}

bool sw__backlogged(struct sw_req *q, uint32_t *retry)
{
	struct sw_registrar_worker *rw = q->rw;
	const struct sw_msg *m = q->m;
	uint64_t waiting = rw->lag_len ? q->now_ms - rw->lag_ms[rw->lag_head] : rw->lag_over ? UINT32_MAX : 0;
	uint32_t delay = sw_worker_queue_delay_ms(q->w);
	if (!delay || waiting <= delay)
		return false; /* the usual case: one compare */
	if (!m->is_request || m->method_id == SW_METHOD_ACK || m->method_id == SW_METHOD_CANCEL ||
	    m->first[SW_HDR_AUTHORIZATION] != SW_HDR_NONE || m->first[SW_HDR_PROXY_AUTHORIZATION] != SW_HDR_NONE)
		return false; /* it completes work */
	struct sw_addr to;
	if (sw_msg_to(m, &to, NULL) || to.tag.p)
		return false; /* inside a dialog, or broken (the check answers it) */
	return sw_worker_shed_backlog(q->w, waiting, retry);
}

/* The source's address bytes (no port: the log aggregates by address). */
static size_t src_ip(const struct sw_peer *p, const uint8_t **ip)
{
	if (p->addr.ss_family == AF_INET) {
		*ip = (const uint8_t *)&((const struct sockaddr_in *)&p->addr)->sin_addr;
		return 4;
	}
	if (p->addr.ss_family == AF_INET6) {
		*ip = (const uint8_t *)&((const struct sockaddr_in6 *)&p->addr)->sin6_addr;
		return 16;
	}
	return 0;
}

/* The address as text: inet_ntop, but IPv4 without its sprintf (once per
 * raw 503, for received=). */
static const char *ip_str(int family, const uint8_t *ip, char *out, size_t cap)
{
	if (family != AF_INET)
		return inet_ntop(family, ip, out, (socklen_t)cap);
	char *o = out;
	for (unsigned i = 0; i < 4; i++) {
		unsigned v = ip[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '\0';
	}
	return out;
}

static struct sw_shed_src *src_slot(struct sw_registrar_worker *rw, const uint8_t *ip, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ip[i]) * 16777619u;
	return &rw->shed_src[h % SW_REG_SHED_SOURCES];
}

/* The raw 503s counted for a source go to the log's summary of their
 * second (the event and the line went out with the first). */
static void src_flush(struct sw_registrar_worker *rw, struct sw_shed_src *e, int64_t now)
{
	if (!e->more)
		return;
	char addr[INET6_ADDRSTRLEN];
	if (ip_str(e->family, e->ip, addr, sizeof(addr)))
		sw__logcap_more(rw->r, addr, SW_CAUSE_SERVER_OVERLOADED, e->sec, e->more, now);
	e->more = 0;
}

bool sw__shed(struct sw_req *q, uint32_t retry_after)
{
	struct sw_registrar_worker *rw = q->rw;
	struct sw_txn_key key;
	/* a retransmission of a transaction already under way is not new work:
	 * it costs a lookup, and its answer completes a registration (only
	 * looked at, not entered: the 503 is not kept) */
	if ((q->m->method_id == SW_METHOD_REGISTER || q->m->method_id == SW_METHOD_OPTIONS) &&
	    sw_txn_key_make(q->m, &key) == 0 && sw_txn_peek(rw->txn, &key, q->now_ms) != SW_TXN_NEW)
		return false;
	struct sw_registrar *r = rw->r;
	r->shed++;
	struct sw_buf b;
	q->has_key = false;
	if (sw__reply_start(q, &b, 503, "Service Unavailable"))
		return true;
	char secs[12];
	struct sw_buf sb;
	sw_buf_init(&sb, secs, sizeof(secs));
	sw_buf_add_uint(&sb, retry_after);
	sw_str ra = sw_str_from(secs, sb.len);
	sw_print_header(&b, "Retry-After", ra);
	sw_print_end(&b, SW_STR_NULL);
	sw__reply_send(q, &b);
	char detail[96];
	struct sw_buf d;
	sw_buf_init(&d, detail, sizeof(detail) - 1);
	sw_buf_adds(&d, "answered 503 with Retry-After: ");
	sw_buf_add_str(&d, ra);
	sw_buf_adds(&d, " (overload)");
	d.p[d.len] = '\0';
	sw_str none = SW_STR_NULL;
	sw__event_record(q, NULL, none, none, SW_CAUSE_SERVER_OVERLOADED, detail);
	/* this second's event of the source is out (here, or by another
	 * worker): its next 503s may take the raw path */
	const uint8_t *ip;
	size_t n = src_ip(q->from, &ip);
	if (n) {
		struct sw_shed_src *e = src_slot(rw, ip, n);
		src_flush(rw, e, q->now);
		memcpy(e->ip, ip, n);
		e->family = q->from->addr.ss_family;
		e->sec = q->now;
	}
	return true;
}

/* Where the answer goes, as sw__reply_peer says from the parsed Via. */
static void raw_peer(const struct sw_via *v, const struct sw_peer *from, struct sw_peer *to)
{
	*to = *from;
	if (from->tp != SW_TP_UDP || v->has_rport)
		return;
	uint16_t port = htons((uint16_t)(v->port > 0 ? v->port : 5060));
	if (to->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&to->addr)->sin_port = port;
	else if (to->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&to->addr)->sin6_port = port;
}

bool sw__shed_raw(struct sw_req *q, const char *buf, size_t len)
{
	struct sw_registrar_worker *rw = q->rw;
	const struct sw_peer *from = q->from;
	const uint8_t *ip;
	size_t n = src_ip(from, &ip);
	if (!n)
		return false;
	struct sw_shed_src *e = src_slot(rw, ip, n);
	if (e->family != from->addr.ss_family || e->sec != q->now || memcmp(e->ip, ip, n))
		return false; /* the first of this second: its event needs the full parse */
	struct sw_shed_raw raw;
	if (sw_shed_raw_scan(&raw, buf, len))
		return false;
	/* a retransmission of an admitted transaction gets its own answer */
	enum sw_method mid = sw_method_lookup(raw.method.p, raw.method.len);
	struct sw_txn_key key;
	if (mid == SW_METHOD_REGISTER || mid == SW_METHOD_OPTIONS) {
		int rc = sw_txn_key_make_via(&raw.v, raw.cs.method, &key);
		if (rc == SW_EPARSE || (rc == 0 && sw_txn_peek(rw->txn, &key, q->now_ms) != SW_TXN_NEW))
			return false;
	}
	/* received and rport as sw__reply_start adds them (RFC 3261 §18.2.1, RFC 3581) */
	char addr[INET6_ADDRSTRLEN];
	if (!ip_str(from->addr.ss_family, ip, addr, sizeof(addr)))
		return false;
	int rport = raw.v.has_rport && raw.v.rport < 0 ? sw_sockaddr_port((const struct sockaddr *)&from->addr) : -1;
	sw_str host = raw.v.host;
	if (host.len >= 2 && host.p[0] == '[')
		host = sw_str_from(host.p + 1, host.len - 2);
	sw_str received = rport >= 0 || !sw_str_ieq(host, addr) ? sw_str_from(addr, strlen(addr)) : SW_STR_NULL;
	char tag[16];
	rw->rng ^= rw->rng << 13;
	rw->rng ^= rw->rng >> 7;
	rw->rng ^= rw->rng << 17;
	uint64_t rnd = rw->rng;
	for (unsigned i = 0; i < 16; i++, rnd >>= 4)
		tag[15 - i] = "0123456789abcdef"[rnd & 15];
	const char *server = rw->r->cfg.server_name;
	struct sw_buf b;
	sw_buf_init(&b, rw->out, sizeof(rw->out));
	rw->r->shed++;
	e->more++;
	if (sw_shed_raw_print(&b, &raw, sw_str_from(tag, 16), received, rport,
			      server ? sw_str_from(server, strlen(server)) : SW_STR_NULL, from->retry_after))
		return true; /* larger than a datagram: shed, unanswered, as the full path */
	struct sw_peer to;
	raw_peer(&raw.v, from, &to);
	sw_worker_send(q->w, &to, b.p, b.len);
	sw_metrics_response_text(b.p, b.len);
	return true;
}

void sw__overload_tick(struct sw_registrar_worker *rw, struct sw_worker *w)
{
	struct sw_registrar *r = rw->r;
	int64_t now = (int64_t)time(NULL);
	for (unsigned i = 0; i < SW_REG_SHED_SOURCES; i++)
		if (rw->shed_src[i].more && rw->shed_src[i].sec < now)
			src_flush(rw, &rw->shed_src[i], now);
	struct sw_overload_second o;
	sw_worker_overload(w, &o);
	if (o.second_ns == rw->ovl_logged_ns || (!o.shed && !o.kernel_drops))
		return;
	rw->ovl_logged_ns = o.second_ns;
	if (!r->cfg.log && !r->cfg.log_journal)
		return;
	char line[400];
	struct sw_buf b;
	sw_buf_init(&b, line, sizeof(line) - 1);
	time_t t = (time_t)(o.second_ns / 1000000000u);
	struct tm tm;
	char when[32];
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned idx = sw_worker_index(w);
	if (r->cfg.log_json)
		sw_buf_addf(&b, "{\"time\":\"%s.000Z\",\"overload\":{\"worker\":%u,\"shed\":%u,\"admitted\":%u,"
			    "\"kernel_drops\":%u,\"retry_after\":%u},\"detail\":\"worker %u: %u new requests "
			    "answered 503 (Retry-After from %u s), %u admitted while overloaded, %u datagrams "
			    "dropped by the kernel in the second before\"}",
			    when, idx, o.shed, o.admitted, o.kernel_drops, o.retry_after, idx, o.shed,
			    o.retry_after, o.admitted, o.kernel_drops);
	else
		sw_buf_addf(&b, "%s overload: worker %u: %u new requests answered 503 (Retry-After from %u s), "
			    "%u admitted while overloaded, %u datagrams dropped by the kernel in the second before",
			    when, idx, o.shed, o.retry_after, o.admitted, o.kernel_drops);
	if (b.overflow)
		return;
	b.p[b.len++] = '\n';
	sw__logcap_write(r, b.p, b.len, (int64_t)time(NULL));
}
