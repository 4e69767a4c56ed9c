/* RFC 3261 retransmission timers for non-INVITE client transactions over
 * UDP (§17.1.2.2: Timer E from T1 doubling to T2, Timer F = 64*T1), and the
 * FIFO timer queues that make arming and firing O(1). */
#include <stdlib.h>
#include <string.h>
#include "lg_int.h"

#define T2_MS 4000u

void sw_retx_init(struct sw_retx *r, uint32_t t1_ms)
{
	r->t1_ms = t1_ms ? t1_ms : 500u;
	r->t2_ms = T2_MS > r->t1_ms ? T2_MS : r->t1_ms;
	r->f_ms = 64u * r->t1_ms;
}

uint32_t sw_retx_interval(const struct sw_retx *r, unsigned n, bool provisional)
{
	if (provisional || n == 0)
		return r->t2_ms;
	uint64_t v = r->t1_ms;
	for (unsigned k = 1; k < n && v < r->t2_ms; k++)
		v *= 2;
	return v < r->t2_ms ? (uint32_t)v : r->t2_ms;
}

unsigned sw_retx_schedule(const struct sw_retx *r, uint32_t *at_ms, unsigned cap)
{
	unsigned n = 0;
	uint64_t t = 0;
	while (t < r->f_ms) {
		if (n < cap)
			at_ms[n] = (uint32_t)t;
		n++;
		t += sw_retx_interval(r, n, false);
	}
	return n;
}

int sw__tq_push(struct sw__tq *q, uint64_t now_ns, uint32_t slot, uint32_t tseq)
{
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 1024;
		struct sw__tq_ent *v = malloc(ncap * sizeof(*v));
		if (!v)
			return SW_ENOMEM;
		for (size_t i = 0; i < q->len; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = ncap;
		q->head = 0;
	}
	q->v[(q->head + q->len) % q->cap] = (struct sw__tq_ent){ now_ns + q->delay_ns, slot, tseq };
	q->len++;
	return 0;
}

int sw__tq_pop_due(struct sw__tq *q, uint64_t now_ns, struct sw__tq_ent *e)
{
	if (!q->len || q->v[q->head].due_ns > now_ns)
		return 0;
	*e = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return 1;
}

uint64_t sw__tq_next(const struct sw__tq *q)
{
	return q->len ? q->v[q->head].due_ns : UINT64_MAX;
}

void sw__tq_free(struct sw__tq *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

void sw__timers_init(struct sw__timers *t, uint32_t t1_ms)
{
	memset(t, 0, sizeof(*t));
	sw_retx_init(&t->retx, t1_ms);
	unsigned n = 1;
	for (;;) {
		uint32_t iv = sw_retx_interval(&t->retx, n, false);
		t->level[t->nlevels++].delay_ns = (uint64_t)iv * 1000000u;
		if (iv >= t->retx.t2_ms || t->nlevels == SW__TQ_MAX)
			break;
		n++;
	}
	t->f.delay_ns = (uint64_t)t->retx.f_ms * 1000000u;
}

int sw__wait_push(struct sw__timers *t, uint64_t due_ns, uint32_t slot, uint32_t tseq)
{
	return sw_dueheap_push(&t->wait, (struct sw_due){ due_ns, slot, tseq });
}

int sw__wait_pop_due(struct sw__timers *t, uint64_t now_ns, struct sw__tq_ent *e)
{
	struct sw_due d;
	if (!sw_dueheap_pop_due(&t->wait, now_ns, &d))
		return 0;
	*e = (struct sw__tq_ent){ d.due, d.id, d.gen };
	return 1;
}

void sw__timers_free(struct sw__timers *t)
{
	sw_dueheap_free(&t->wait);
	for (unsigned i = 0; i < t->nlevels; i++)
		sw__tq_free(&t->level[i]);
	sw__tq_free(&t->f);
}

unsigned sw__timers_level(const struct sw__timers *t, unsigned n, bool provisional)
{
	if (provisional || n == 0 || n > t->nlevels)
		return t->nlevels - 1;
	return n - 1;
}

uint64_t sw__timers_next(const struct sw__timers *t)
{
	uint64_t m = sw__tq_next(&t->f);
	if (t->wait.n && t->wait.v[0].due < m)
		m = t->wait.v[0].due;
	for (unsigned i = 0; i < t->nlevels; i++) {
		uint64_t v = sw__tq_next(&t->level[i]);
		if (v < m)
			m = v;
	}
	return m;
}
