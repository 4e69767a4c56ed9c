/* The proxy's glue: the transaction layer's callbacks (sending on flows,
 * replying upstream, printing branches and local answers, the outcome of
 * each transaction), responses from downstream (handed to the worker that
 * owns the transaction), the timers, and the per-worker state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "proxy/proxy_int.h"
#include "sipwarden/metrics.h"

static void send_failed(struct sw_worker *w, void *arg)
{
	struct sw_registrar_worker *rw = sw_worker_data(w);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sw_px_transport_error(rw->pw->px, (uint64_t)(uintptr_t)arg,
			      (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int io_send(void *ctx, const struct sw_flow *to, const char *buf, size_t len, uint64_t token)
{
	struct sw_proxy_worker *pw = ctx;
	return sw_worker_send_flow(pw->w, to, buf, len, send_failed, (void *)(uintptr_t)token);
}

static void io_reply(void *ctx, const struct sw_ptx *t, const char *buf, size_t len)
{
	struct sw_proxy_worker *pw = ctx;
	sw_worker_send(pw->w, &t->reply_to, buf, len);
}

static int io_build(void *ctx, struct sw_ptx *t, unsigned target, const char *branch, struct sw_buf *b)
{
	struct sw_proxy_worker *pw = ctx;
	struct px_ctx *c = t->user;
	struct sw_msg parsed;
	const struct sw_msg *m = pw->cur_t == t ? pw->cur_m : &parsed;
	if (m == &parsed && sw_msg_parse(&parsed, t->req, t->req_len, NULL, NULL))
		return SW_EPARSE;
	const struct sw_px_target *x = &t->targets[target];
	char br[80];
	struct sw_buf bb;
	sw_buf_init(&bb, br, sizeof(br));
	sw_buf_adds(&bb, branch);
	sw_buf_addc(&bb, '-');
	sw_buf_add_xint(&bb, c->loop_hash, 8);
	sw_buf_cstr(&bb);
	struct px_fwd f = { .ruri = c->strict_ruri ? sw_str_from(c->strict_ruri, strlen(c->strict_ruri))
				    : c->keep_ruri ? m->ruri : sw_str_from(x->uri, strlen(x->uri)),
			    .drop_last_route = c->strict_ruri != NULL, .path = x->path,
			    .to = &x->flow, .branch = br, .pop = c->pop, .record_route = c->record_route,
			    .caller = &c->from_flow, .from = &c->from };
	return sw__px_print_request(pw, m, &f, b);
}

/* A struct sw_req for the stored request of t, to answer or log with the
 * registrar's helpers. */
static bool req_of(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_msg *m, struct sw_req *q)
{
	struct px_ctx *c = t->user;
	if (sw_msg_parse(m, t->req, t->req_len, NULL, NULL))
		return false;
	*q = (struct sw_req){ .rw = pw->rw, .w = pw->w, .from = &c->from, .m = m, .now = (int64_t)time(NULL) };
	return true;
}

static int io_local(void *ctx, struct sw_ptx *t, unsigned status, struct sw_buf *b)
{
	struct sw_proxy_worker *pw = ctx;
	struct sw_msg m;
	struct sw_req q;
	if (!req_of(pw, t, &m, &q) || sw__reply_start(&q, b, status, NULL))
		return SW_EPARSE;
	return sw_print_end(b, SW_STR_NULL);
}

/* Did every branch fail to reach its target (transport error, or a timeout
 * without a provisional)? */
static bool unreachable(const struct sw_ptx *t)
{
	if (!t->nbranches)
		return false;
	for (unsigned i = 0; i < t->nbranches; i++) {
		const struct sw_px_branch *b = &t->br[i];
		if (b->rang || b->timed_out || (b->status != 1 && b->status != 0 && b->status != 408))
			return false;
	}
	return true;
}

/* Did a branch ring until Timer C cancelled it? */
static bool rang_out(const struct sw_ptx *t)
{
	for (unsigned i = 0; i < t->nbranches; i++)
		if (t->br[i].timed_out && t->br[i].rang)
			return true;
	return false;
}

static void io_final(void *ctx, struct sw_ptx *t, unsigned status, const struct sw_msg *resp)
{
	struct sw_proxy_worker *pw = ctx;
	struct px_ctx *c = t->user;
	if (!c || !t->nbranches)
		return;
	struct sw_msg m;
	struct sw_req q;
	if (status >= 200 && !resp && !t->cancelled && (status == 408 || status == 480) && unreachable(t)) {
		c->outcome = SW_CAUSE_CALLEE_UNREACHABLE;
		if (req_of(pw, t, &m, &q))
			sw__px_event(&q, c, SW_CAUSE_CALLEE_UNREACHABLE,
				     "%.*s to %s: no registered device answered (%s)", (int)m.method.len, m.method.p,
				     c->callee, status == 408 ? "no response in time" : "the connection or port is gone");
	} else if (status == 408 && !resp && !t->cancelled && rang_out(t)) {
		c->outcome = SW_CAUSE_CALLEE_NO_ANSWER;
		if (req_of(pw, t, &m, &q))
			sw__px_event(&q, c, SW_CAUSE_CALLEE_NO_ANSWER, "%.*s to %s: it rang for %u s and nobody answered",
				     (int)m.method.len, m.method.p, c->callee, t->timer_c / 1000u);
	} else if (resp && !t->cancelled && (status == 486 || status == 600)) {
		c->outcome = SW_CAUSE_CALLEE_BUSY;      /* the callee's answer: recorded in calls */
	} else if (resp && !t->cancelled && (status == 603 || status == 607)) {
		c->outcome = SW_CAUSE_CALLEE_DECLINED;
	}
	if (c->call_id)
		sw__px_call_update(pw, t, status, resp);
}

static void io_done(void *ctx, struct sw_ptx *t)
{
	(void)ctx;
	struct px_ctx *c = t->user;
	if (c)
		free(c->strict_ruri);
	free(c);
	t->user = NULL;
}

const struct sw_px_io sw__px_io_ops = { .send = io_send, .reply = io_reply, .build = io_build,
					 .local = io_local, .final = io_final, .done = io_done };

void sw__px_event(struct sw_req *q, struct px_ctx *c, enum sw_cause cause, const char *fmt, ...)
{
	char detail[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->cause = cause;
	sw__event(q, c->caller, sw_str_from(c->auth_user, strlen(c->auth_user)),
		  sw_str_from(c->realm, strlen(c->realm)), cause, detail);
}

void sw__px_reply(struct sw_req *q, struct sw_ptx *t, unsigned status, const char *reason, const char *extra)
{
	struct sw_buf b;
	if (sw__reply_start(q, &b, status, reason))
		return;
	if (extra)
		sw_buf_adds(&b, extra);
	if (sw_print_end(&b, SW_STR_NULL) || b.overflow)
		return;
	sw__px_call_refused(q->rw->pw, t, q, status);
	sw_px_respond(q->rw->pw->px, t, status, b.p, b.len, q->now_ms);
}

int sw__proxy_worker_new(void *arg, struct sw_registrar_worker *rw, unsigned worker_index,
			 struct sw_proxy_worker **out)
{
	struct sw_proxy_worker *pw = calloc(1, sizeof(*pw));
	if (!pw)
		return SW_ENOMEM;
	pw->rw = rw;
	pw->calls = arg;
	struct sw_registrar *r = rw->r;
	struct sw_px_io io = sw__px_io_ops;
	io.ctx = pw;
	int rc = sw_px_new(&pw->px, &io, worker_index, 1u << 20);
	for (unsigned i = 0; i < r->cfg.ndomains && !rc; i++) {
		struct sw_auth_cfg ac = r->cfg.auth;
		ac.realm = r->domains[i];
		ac.proxy = true; /* 407 with Proxy-Authenticate, the same digest code */
		ac.uri_is_ours = sw__uri_is_ours;
		ac.uri_arg = r;
		rc = sw_verifier_new(&pw->ver[i], &ac, r->secret, &r->nc);
	}
	unsigned char key[SW_KEY_BYTES];
	if (!rc)
		rc = sw_secret_derive(&r->secret->cur, "sipwarden record-route", key);
	if (!rc)
		rc = sw_hmac_new(&pw->rr_mac, key, sizeof(key));
	memset(key, 0, sizeof(key));
	if (rc) {
		sw__proxy_worker_free(pw);
		return rc;
	}
	*out = pw;
	return 0;
}

void sw__proxy_worker_free(struct sw_proxy_worker *pw)
{
	if (!pw)
		return;
	sw_px_free(pw->px);
	sw_hmac_free(pw->rr_mac);
	for (unsigned i = 0; i < SW_REGISTRAR_MAX_DOMAINS; i++)
		sw_verifier_free(pw->ver[i]);
	free(pw);
}

unsigned sw__proxy_transactions(const struct sw_proxy_worker *pw)
{
	return sw_px_count(pw->px);
}

void sw_proxy_next(struct sw_calls *calls, struct sw_registrar_next *out)
{
	*out = (struct sw_registrar_next){
		.arg = calls,
		.worker_new = sw__proxy_worker_new,
		.worker_free = sw__proxy_worker_free,
		.request = sw__proxy_request,
		.response = sw__proxy_response,
		.tick = sw__proxy_tick,
		.transactions = sw__proxy_transactions,
	};
}

/* A response another worker received, for a transaction of this one. */
struct handed {
	size_t len;
	char buf[];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void handed_response(struct sw_worker *w, void *arg)
{
	struct handed *h = arg;
	struct sw_registrar_worker *rw = sw_worker_data(w);
	struct sw_msg m;
	rw->pw->w = w;
	if (sw_msg_parse(&m, h->buf, h->len, NULL, NULL) == 0 && !sw_px_response(rw->pw->px, &m, mono_ms()))
		rw->r->responses_dropped++;
	free(h);
}

void sw__proxy_response(struct sw_registrar_worker *rw, struct sw_worker *w, const struct sw_msg *m,
			uint64_t now_ms)
{
	struct sw_proxy_worker *pw = rw->pw;
	pw->w = w;
	int owner = sw_px_branch_worker(m);
	if (owner < 0) {
		rw->r->responses_dropped++; /* not a branch of ours (a stray 2xx is not forwarded: RFC 6026) */
		sw_metrics_inc(SW_M_DROP_STRAY_RESPONSE);
		return;
	}
	if ((unsigned)owner != sw_worker_index(w)) {
		struct sw_worker *o = sw_worker_sibling(w, (unsigned)owner);
		struct handed *h = o ? malloc(sizeof(*h) + m->len) : NULL;
		if (!h)
			return;
		h->len = m->len;
		memcpy(h->buf, m->buf, m->len);
		if (sw_worker_post(o, handed_response, h))
			free(h);
		return;
	}
	if (!sw_px_response(pw->px, m, now_ms)) {
		rw->r->responses_dropped++;
		sw_metrics_inc(SW_M_DROP_STRAY_RESPONSE);
	}
}

void sw__proxy_tick(struct sw_registrar_worker *rw, struct sw_worker *w, uint64_t now_ms)
{
	rw->pw->w = w;
	sw_px_tick(rw->pw->px, now_ms);
}
