/* Overload: the answer to new work the server marked for shedding
 * (lib/server/overload.c decides which, from the socket queue), or that
 * this worker sheds because its durable writes lag behind (a queue the
 * socket does not show: the 200 OKs would come later and later):
 * 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4), so that a
 * phone waits instead of retransmitting into the queue. Stateless: the 503
 * is not kept in the transaction table (a flood of them would evict the
 * transactions that complete work); a retransmission gets another one.
 * (The worker's per-second counts call a request shed when it was marked;
 * the registrar's `shed` counts the 503s sent.) */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "reg_int.h"

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
	return true;
}

void sw__overload_tick(struct sw_registrar_worker *rw, struct sw_worker *w)
{
	struct sw_registrar *r = rw->r;
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
