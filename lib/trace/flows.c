/* Correlation, as the messages come in time order. Transactions (RFC 3261
 * §17): the top Via branch, its sent-by and the CSeq method; a request seen
 * again is a retransmission; responses join the transaction of their top
 * Via. Flows: the transactions of one Call-ID from one sent-by, chained while
 * the answer is a challenge (401/407) answered with credentials, or a 423
 * answered by a new attempt: request -> 401/407 -> authenticated retry ->
 * ... -> final answer. ACK and CANCEL belong to no flow.
 *
 * A flow is judged as soon as its last transaction gets a final answer that
 * does not continue it, when the next transaction of its key does not chain,
 * or when it has been idle for SW_TRACE_IDLE_US of capture time; then its
 * transactions are forgotten (their keys are remembered for the same time so
 * that late copies are not taken for new requests), and its messages are
 * kept or freed (judged.c, see trace.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "trace_int.h"

#define NONE SW__NONE
#define DONE_MAX 262144u /* keys of judged transactions remembered at most */
#define URIOK_MAX 65536u

/* ---- keys ------------------------------------------------------------------ */

/* Appends s (at most max bytes) to *p, within end. */
static void app(char **p, const char *end, const char *s, size_t n)
{
	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	memcpy(*p, s, n);
	*p += n;
}

/* ":port" into b; returns its length. */
static size_t port_str(char b[12], unsigned port)
{
	unsigned n = 1;
	for (unsigned v = port; v >= 10; v /= 10)
		n++;
	b[0] = ':';
	for (unsigned i = n; i; port /= 10)
		b[i--] = (char)('0' + port % 10);
	return n + 1;
}

/* The top Via. Most messages have one Via value per Via line: the parser
 * trimmed it, so it is the top element as it is; only a line with a comma
 * needs the element iterator of sw_msg_top_via(). */
static int top_via(const struct sw_msg *m, struct sw_via *v)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_VIA);
	if (h && !(h->value.len && memchr(h->value.p, ',', h->value.len)))
		return sw_via_parse(v, h->value, NULL);
	return sw_msg_top_via(m, v, NULL);
}

/* Transaction key, and the flow key (Call-ID + sent-by). Lengths returned. */
static bool keys_of(const struct sw_msg *m, char *tkey, size_t tcap, size_t *tlen, char *fkey,
		    size_t fcap, size_t *flen, enum sw_method *method)
{
	struct sw_via v;
	struct sw_cseq cs;
	sw_str cid;
	if (top_via(m, &v) || sw_msg_cseq(m, &cs, NULL) || sw_msg_call_id(m, &cid, NULL))
		return false;
	/* "host" and "host:5060" are the same sent-by (RFC 3261 §18.2.1) */
	char pbuf[12];
	size_t pl = port_str(pbuf, v.port >= 0 ? (unsigned)v.port : sw_str_ieq(v.transport, "TLS") ? 5061 : 5060);
	bool rfc3261 = v.branch.p && v.branch.len > 7 && !memcmp(v.branch.p, "z9hG4bK", 7);
	char *p = tkey, *end = tkey + tcap - 1;
	if (v.branch.p)
		app(&p, end, v.branch.p, v.branch.len > 199 ? 199 : v.branch.len);
	app(&p, end, "|", 1);
	if (v.host.p)
		app(&p, end, v.host.p, v.host.len > 99 ? 99 : v.host.len);
	app(&p, end, pbuf, pl);
	app(&p, end, "|", 1);
	if (cs.method.p)
		app(&p, end, cs.method.p, cs.method.len > 31 ? 31 : cs.method.len);
	app(&p, end, "|", 1);
	if (!rfc3261 && cid.p)
		app(&p, end, cid.p, cid.len > 199 ? 199 : cid.len);
	*p = '\0';
	*tlen = (size_t)(p - tkey);
	p = fkey;
	end = fkey + fcap - 1;
	if (cid.p)
		app(&p, end, cid.p, cid.len > 199 ? 199 : cid.len);
	app(&p, end, "|", 1);
	if (v.host.p)
		app(&p, end, v.host.p, v.host.len > 99 ? 99 : v.host.len);
	app(&p, end, pbuf, pl);
	*p = '\0';
	*flen = (size_t)(p - fkey);
	*method = cs.method_id;
	return true;
}

static int push(unsigned **arr, unsigned *n, unsigned v)
{
	/* capacity 4, then doubled at each power of two */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		unsigned *a = realloc(*arr, (*n ? *n * 2 : 4) * sizeof(**arr));
		if (!a)
			return SW_ENOMEM;
		*arr = a;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

static unsigned status_of(const struct sw_trace *t, unsigned msg)
{
	return msg == NONE ? 0 : t->msgs[msg].m->status;
}

/* Copies the C string s (at most max bytes of it) to *p, within end. */
/* ---- open flows ----------------------------------------------------------------- */

static void lru_unlink(struct sw_trace *t, struct sw__oflow *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		t->lru_head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		t->lru_tail = o->prev;
	o->prev = o->next = NULL;
}

static void lru_append(struct sw_trace *t, struct sw__oflow *o)
{
	o->prev = t->lru_tail;
	o->next = NULL;
	if (t->lru_tail)
		t->lru_tail->next = o;
	else
		t->lru_head = o;
	t->lru_tail = o;
}

static void finalise(struct sw_trace *t, struct sw__oflow *o)
{
	lru_unlink(t, o);
	sw__hmap_del(&t->fmap, o->fe);
	t->nopen--;
	/* the keys of its transactions lead late copies (a second final
	 * response) to the flow kept */
	struct sw__hent **moved = o->n < DONE_MAX ? malloc(o->n * sizeof(*moved)) : NULL;
	unsigned nmoved = 0;
	for (unsigned i = 0; i < o->n; i++) {
		struct sw__hent *te = o->tx[i].te;
		if (!te)
			continue;
		/* a key is never open and judged at once: the entry moves over */
		if (sw__hmap_move(&t->txmap, &t->done, te)) {
			te->u = o->last_ts;
			if (moved)
				moved[nmoved++] = te;
		}
		o->tx[i].te = NULL;
	}
	/* the newest entries, just moved, are not among those dropped here */
	while (t->done.n > DONE_MAX)
		sw__hmap_del(&t->done, t->done.fhead);
	size_t before = t->nflows;
	sw__close_flow(t, o->tx, o->n);
	if (t->nflows == before + 1 && t->flows[t->nflows - 1].id < 0x7fffffffu)
		for (unsigned i = 0; i < nmoved; i++)
			moved[i]->val = (void *)(uintptr_t)t->flows[t->nflows - 1].id;
	free(moved);
	free(o);
}

/* The judged flow whose provisional number is id (flows are appended in
 * judging order, so numbers increase until the end), or NULL when it was
 * forgotten. */
static size_t flow_by_id(const struct sw_trace *t, unsigned id)
{
	size_t lo = 0, hi = t->nflows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->flows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nflows && t->flows[lo].id == id ? lo : SIZE_MAX;
}

/* A copy that came after its flow was judged. A final response that no
 * copy of the request asked for is a duplicate: a finding of the flow.
 * When the flow is a failing one kept whole (judged again at the end), the
 * response joins its transaction, so that the verdict at the end sees it;
 * true then (the slot is the flow's). */
static bool late_copy(struct sw_trace *t, struct sw__hent *de, unsigned slot, const char *tkey, size_t tlen)
{
	const struct sw_trace_msg *tm = &t->msgs[slot];
	uintptr_t v = (uintptr_t)de->val, id = v & 0x7fffffffu;
	bool waiting = v & 0x80000000u;
	size_t i = flow_by_id(t, (unsigned)id);
	if (i == SIZE_MAX)
		return false;
	if (tm->m->is_request) {
		de->val = (void *)(id | 0x80000000u);
		return false;
	}
	if (tm->m->status < 200)
		return false;
	if (waiting) {
		de->val = (void *)id;
		return false;
	}
	struct sw_trace_flow *f = &t->flows[i];
	sw__flow_add_finding(f, tm, SW_CAUSE_DUPLICATE_RESPONSE,
			     "a second final response to the same request, after the flow ended");
	struct sw__ftx *fx = &t->ftx[i];
	for (unsigned k = 0; fx->tx && k < fx->n; k++) {
		struct sw__txn *x = &fx->tx[k];
		char key[1024], fkey[512];
		size_t kl, fl;
		enum sw_method meth;
		const struct sw_msg *rq = t->msgs[x->reqs[0]].m;
		if (!rq || !keys_of(rq, key, sizeof(key), &kl, fkey, sizeof(fkey), &fl, &meth) || kl != tlen ||
		    memcmp(key, tkey, tlen))
			continue;
		unsigned *nm = realloc(f->msgs, (f->nmsgs + 1) * sizeof(*nm));
		if (!nm)
			return false;
		f->msgs = nm;
		if (push(&x->resps, &x->nresps, slot))
			return false;
		f->msgs[f->nmsgs++] = slot;
		return true;
	}
	return false;
}

static void expire(struct sw_trace *t, uint64_t now)
{
	uint64_t idle = t->o.idle_us ? t->o.idle_us : SW_TRACE_IDLE_US;
	while (t->lru_head && now > t->lru_head->last_ts + idle)
		finalise(t, t->lru_head);
	while (t->done.fhead && now > t->done.fhead->u + idle)
		sw__hmap_del(&t->done, t->done.fhead);
}

void sw__flows_expire(struct sw_trace *t, uint64_t now)
{
	if (now > t->now)
		t->now = now;
	expire(t, now);
}

void sw__flow_msg(struct sw_trace *t, unsigned slot)
{
	const struct sw_trace_msg *tm = &t->msgs[slot];
	uint64_t now = tm->meta.ts_us;
	if (now > t->now) {
		t->now = now;
		expire(t, now);
	}
	const struct sw_msg *m = tm->m;
	char tkey[1024], fkey[512];
	size_t tlen, flen;
	enum sw_method meth;
	if (!m || !keys_of(m, tkey, sizeof(tkey), &tlen, fkey, sizeof(fkey), &flen, &meth) ||
	    meth == SW_METHOD_ACK || meth == SW_METHOD_CANCEL) {
		sw__orphan(t, slot);
		return;
	}
	struct sw__hent *te = sw__hmap_get(&t->txmap, tkey, tlen);
	struct sw__oflow *o;
	struct sw__txn *x;
	if (!te) {
		struct sw__hent *de = sw__hmap_get(&t->done, tkey, tlen);
		if (!m->is_request || de) {
			/* a response to a request not captured, or a late copy */
			if (m->is_request)
				t->st.late_retrans++;
			if (!(de && de->val && late_copy(t, de, slot, tkey, tlen)))
				sw__orphan(t, slot);
			return;
		}
		bool has_creds = sw_msg_hdr(m, SW_HDR_AUTHORIZATION) || sw_msg_hdr(m, SW_HDR_PROXY_AUTHORIZATION);
		struct sw__hent *fe = sw__hmap_get(&t->fmap, fkey, flen);
		o = fe ? fe->val : NULL;
		if (o) {
			unsigned st = status_of(t, o->tx[o->n - 1].final);
			/* an answer to a challenge whose final response has not
			 * been seen yet chains too: a HEP agent stamps a response
			 * when it has sent it, so a fast client's answer can carry
			 * an earlier time than the challenge it answers */
			bool chain = ((st == 401 || st == 407 || st == 0) && has_creds) || st == 423;
			if (!chain) {
				finalise(t, o);
				o = NULL;
			}
		}
		if (!o) {
			o = calloc(1, sizeof(*o));
			if (!o || !(o->fe = sw__hmap_put(&t->fmap, fkey, flen, NULL))) {
				free(o);
				sw__orphan(t, slot);
				return;
			}
			o->fe->val = o;
			lru_append(t, o);
			if (++t->nopen > t->st.peak_open)
				t->st.peak_open = t->nopen;
		}
		if (o->n == o->cap) {
			unsigned nc = o->cap ? o->cap * 2 : 2;
			struct sw__txn *n = realloc(o->tx, nc * sizeof(*n));
			if (!n) {
				sw__orphan(t, slot);
				return;
			}
			o->tx = n;
			o->cap = nc;
		}
		te = sw__hmap_put(&t->txmap, tkey, tlen, NULL);
		if (!te) {
			sw__orphan(t, slot);
			return;
		}
		x = &o->tx[o->n];
		memset(x, 0, sizeof(*x));
		x->final = x->challenge = NONE;
		x->method = meth;
		x->has_creds = has_creds;
		x->te = te;
		te->val = o;
		te->u = o->n++;
		if (has_creds)
			sw__nonce_use(t, x, tm);
	} else {
		o = te->val;
		x = &o->tx[te->u];
	}
	if (now > o->last_ts)
		o->last_ts = now;
	if (o != t->lru_tail) {
		lru_unlink(t, o);
		lru_append(t, o);
	}
	if (m->is_request) {
		if (x->final != NONE)
			x->retrans_after_final++;
		if (push(&x->reqs, &x->nreqs, slot))
			sw__msg_free(t, slot);
		return;
	}
	if (push(&x->resps, &x->nresps, slot)) {
		sw__msg_free(t, slot);
		return;
	}
	if ((m->status == 401 || m->status == 407) && x->challenge == NONE)
		x->challenge = slot;
	if (m->status >= 200 && x->final == NONE) {
		x->final = slot;
		if (m->status < 300 && x->has_creds)
			sw__nonce_accepted(t, x);
		if (x == &o->tx[o->n - 1] && m->status != 401 && m->status != 407 && m->status != 423)
			finalise(t, o); /* complete */
	}
}

/* ---- the end ---------------------------------------------------------------------- */

static int cmp_first(uint64_t ta, uint64_t sa, uint64_t tb, uint64_t sb)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return sa < sb ? -1 : sa > sb;
}

static int cmp_flow(const void *a, const void *b)
{
	const struct sw_trace_flow *x = a, *y = b;
	return cmp_first(x->first_ts, x->first_seq, y->first_ts, y->first_seq);
}

static int cmp_sum(const void *a, const void *b)
{
	const struct sw__sum *x = a, *y = b;
	return cmp_first(x->s.first_ts, x->s.first_seq, y->s.first_ts, y->s.first_seq);
}

static bool sorted(const void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *p = v;
	for (size_t i = 1; i < n; i++)
		if (cmp(p + (i - 1) * size, p + i * size) > 0)
			return false;
	return true;
}

int sw__flows_finish(struct sw_trace *t)
{
	while (t->lru_head)
		finalise(t, t->lru_head);
	/* failing flows kept whole are judged again, knowing the whole capture
	 * (a digest uri the server accepted later) */
	for (size_t i = 0; i < t->nflows; i++) {
		struct sw__ftx *x = &t->ftx[i];
		if (!x->tx)
			continue;
		struct sw_trace_flow *f = &t->flows[i];
		bool was_auth = f->auth, was_failed = f->failed;
		sw__flow_strings_free(f);
		f->proved = f->auth = f->failed = false;
		f->fail_msg = NONE;
		sw__verdict(t, f, x->tx, x->n);
		sw__verdict_strings(t, f);
		t->st.auth_flows += (uint64_t)f->auth - (uint64_t)was_auth;
		t->st.failures += (uint64_t)f->failed - (uint64_t)was_failed;
		sw__txns_free(x->tx, x->n);
		x->tx = NULL;
	}
	/* flows are judged about in the order they began: often already sorted */
	if (!sorted(t->flows, t->nflows, sizeof(t->flows[0]), cmp_flow))
		qsort(t->flows, t->nflows, sizeof(t->flows[0]), cmp_flow);
	if (!sorted(t->sums, t->nsums, sizeof(t->sums[0]), cmp_sum))
		qsort(t->sums, t->nsums, sizeof(t->sums[0]), cmp_sum);
	/* numbered from 1 in the order they began */
	size_t i = 0, j = 0;
	unsigned id = 1;
	while (i < t->nflows || j < t->nsums) {
		bool take_flow = j == t->nsums ||
				 (i < t->nflows && cmp_first(t->flows[i].first_ts, t->flows[i].first_seq,
							     t->sums[j].s.first_ts, t->sums[j].s.first_seq) < 0);
		if (take_flow) {
			t->flows[i++].id = id++;
		} else {
			struct sw__sum *s = &t->sums[j++];
			s->s.id = id++;
			s->s.aor = s->aor == NONE ? "" : t->strs[s->aor];
			s->s.method = s->method == NONE ? "" : t->strs[s->method];
		}
	}
	return 0;
}

void sw__flows_free(struct sw_trace *t)
{
	while (t->lru_head) {
		struct sw__oflow *o = t->lru_head;
		lru_unlink(t, o);
		sw__txns_free(o->tx, o->n);
		free(o);
	}
	for (size_t i = 0; i < t->nflows; i++) {
		if (t->ftx && t->ftx[i].tx)
			sw__txns_free(t->ftx[i].tx, t->ftx[i].n);
		sw__flow_strings_free(&t->flows[i]);
		free(t->flows[i].msgs);
	}
	free(t->flows);
	free(t->ftx);
	free(t->sums);
	free(t->strs);
	sw__hmap_free(&t->strmap);
	sw__hmap_free(&t->txmap);
	sw__hmap_free(&t->done);
	sw__hmap_free(&t->fmap);
	sw__hmap_free(&t->nonces);
	sw__hmap_free(&t->uriok);
}

size_t sw_trace_sum_count(const struct sw_trace *t) { return t->nsums; }
const struct sw_trace_flow_sum *sw_trace_sum_get(const struct sw_trace *t, size_t i)
{
	return i < t->nsums ? &t->sums[i].s : NULL;
}
