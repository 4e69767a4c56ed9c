/* Proxy transactions: the table (slots by id, chains by server key), the
 * timer heap, and the server side (RFC 3261 §17.2.1 with RFC 6026's
 * Accepted state, §17.2.2). The client side and the response context are
 * in branch.c. */
#include <stdlib.h>
#include <string.h>
#include "proxy/ptx.h"
#include "sipwarden/dueheap.h"
#include "sipwarden/metrics.h"

struct sw_px {
	struct sw_px_io io;
	unsigned worker;
	struct sw_ptx **slot;      /* by id; NULL when free */
	uint32_t *gens;            /* the generation of each slot, kept across reuse */
	uint32_t *free_ids;
	unsigned size, capacity, nfree, count; /* size: slots now; capacity: at most */
	struct sw_ptx **bucket;    /* by key hash */
	unsigned nbuckets;
	struct sw_dueheap heap;    /* the transactions' next timers; stale entries skipped */
};

char *sw__px_dup(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

const struct sw_px_io *sw__px_io(struct sw_px *px) { return &px->io; }
unsigned sw__px_worker(struct sw_px *px) { return px->worker; }
unsigned sw_px_count(const struct sw_px *px) { return px->count; }

size_t sw_px_memory(const struct sw_px *px)
{
	return px->size * (sizeof(*px->slot) + sizeof(*px->gens) + sizeof(*px->free_ids) + sizeof(*px->bucket)) +
	       px->heap.cap * sizeof(*px->heap.v);
}

/* Doubles the slots (up to capacity) and the key buckets with them. */
static int grow(struct sw_px *px)
{
	unsigned n = px->size ? px->size * 2 : 1024;
	if (n > px->capacity)
		n = px->capacity;
	if (n <= px->size)
		return SW_ENOSPC;
	struct sw_ptx **slot = realloc(px->slot, n * sizeof(*slot));
	if (slot)
		px->slot = slot;
	uint32_t *gens = slot ? realloc(px->gens, n * sizeof(*gens)) : NULL;
	if (gens)
		px->gens = gens;
	uint32_t *free_ids = gens ? realloc(px->free_ids, n * sizeof(*free_ids)) : NULL;
	if (free_ids)
		px->free_ids = free_ids;
	struct sw_ptx **bucket = free_ids ? calloc(n, sizeof(*bucket)) : NULL;
	if (!bucket)
		return SW_ENOMEM;
	for (unsigned i = px->size; i < n; i++) {
		px->slot[i] = NULL;
		px->gens[i] = 0;
	}
	for (unsigned i = n; i > px->size; i--)
		px->free_ids[px->nfree++] = i - 1;
	for (unsigned b = 0; b < px->nbuckets; b++) /* rehash */
		for (struct sw_ptx *t = px->bucket[b], *next; t; t = next) {
			next = t->hnext;
			t->hnext = bucket[t->key.hash & (n - 1)];
			bucket[t->key.hash & (n - 1)] = t;
		}
	free(px->bucket);
	px->bucket = bucket;
	px->nbuckets = n;
	px->size = n;
	return 0;
}

int sw_px_new(struct sw_px **out, const struct sw_px_io *io, unsigned worker, unsigned capacity)
{
	if (capacity < 1 || (capacity & (capacity - 1)))
		return SW_EINVAL; /* a power of two: the buckets double with the slots */
	struct sw_px *px = calloc(1, sizeof(*px));
	if (!px)
		return SW_ENOMEM;
	px->io = *io;
	px->worker = worker;
	px->capacity = capacity;
	if (grow(px)) {
		sw_px_free(px);
		return SW_ENOMEM;
	}
	*out = px;
	return 0;
}

void sw__px_compact(struct sw_ptx *t)
{
	for (unsigned i = 0; i < t->nbranches; i++)
		if (t->br[i].st != PX_CLI_CALLING && t->br[i].st != PX_CLI_PROCEEDING) {
			free(t->br[i].req);
			free(t->br[i].cancel);
			t->br[i].req = t->br[i].cancel = NULL; /* the ACK stays: re-sent on a retransmitted final */
		}
	for (unsigned i = 0; i < t->ntargets; i++) {
		free(t->targets[i].uri);
		free(t->targets[i].path);
		t->targets[i].uri = t->targets[i].path = NULL;
	}
	free(t->req);
	free(t->best);
	free(t->challenges);
	t->req = t->best = t->challenges = NULL;
	t->req_len = t->best_len = t->challenges_len = 0;
	if (t->st == PX_SRV_ACCEPTED || t->st == PX_SRV_CONFIRMED) { /* nothing is re-sent upstream any more */
		free(t->resp);
		t->resp = NULL;
		t->resp_len = 0;
	}
}

static void ptx_free(struct sw_ptx *t)
{
	sw_metrics_gauge_add(SW_G_TXN_PROXY, -1);
	for (unsigned i = 0; i < t->nbranches; i++)
		sw__px_branch_free(&t->br[i]);
	for (unsigned i = 0; i < t->ntargets; i++) {
		free(t->targets[i].uri);
		free(t->targets[i].path);
	}
	free(t->targets);
	free(t->br);
	free(t->req);
	free(t->resp);
	free(t->best);
	free(t->challenges);
	free(t);
}

void sw_px_free(struct sw_px *px)
{
	if (!px)
		return;
	for (unsigned i = 0; px->slot && i < px->size; i++)
		if (px->slot[i]) {
			if (px->io.done)
				px->io.done(px->io.ctx, px->slot[i]);
			ptx_free(px->slot[i]);
		}
	free(px->slot);
	free(px->gens);
	free(px->free_ids);
	free(px->bucket);
	sw_dueheap_free(&px->heap);
	free(px);
}

struct sw_ptx *sw__px_by_id(struct sw_px *px, uint32_t id, uint32_t gen)
{
	if (id >= px->size || !px->slot[id] || px->slot[id]->gen != gen)
		return NULL;
	return px->slot[id];
}

struct sw_ptx *sw__px_slot(struct sw_px *px, uint32_t id)
{
	return id < px->size ? px->slot[id] : NULL;
}

int sw_px_key(const struct sw_msg *req, bool as_invite, struct sw_txn_key *key)
{
	if (as_invite && req->method_id == SW_METHOD_CANCEL)
		return sw_txn_key_make_as(req, SW_STR_LIT("INVITE"), key);
	return sw_txn_key_make(req, key);
}

struct sw_ptx *sw_px_find(struct sw_px *px, const struct sw_txn_key *key)
{
	for (struct sw_ptx *t = px->bucket[key->hash & (px->nbuckets - 1)]; t; t = t->hnext)
		if (t->key.hash == key->hash && t->key.len == key->len && !memcmp(t->key.bytes, key->bytes, key->len))
			return t;
	return NULL;
}

/* An entry is live while its transaction exists and still waits for that
 * time; the others come due and are skipped, or go at a compaction. */
static bool live_entry(void *arg, const struct sw_due *e)
{
	const struct sw_ptx *t = sw__px_by_id(arg, e->id, e->gen);
	return t && t->due == e->due;
}

/* Drops the stale entries (a transaction ended or rescheduled: Timer C's
 * 3 minutes would otherwise keep one entry per call made in that time) and
 * gives back the room they took: the heap follows the live transactions. */
static void heap_compact(struct sw_px *px)
{
	sw_dueheap_filter(&px->heap, live_entry, px);
}

static void heap_push(struct sw_px *px, uint64_t due, uint32_t id, uint32_t gen)
{
	if (px->heap.n == px->heap.cap && px->heap.n >= 1024 && px->heap.n / 2 > px->count)
		heap_compact(px); /* more than half of it stale: at most one live entry per transaction */
	/* out of memory: the transaction then ends at the table's next eviction */
	sw_dueheap_push(&px->heap, (struct sw_due){ due, id, gen });
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Recomputes the transaction's earliest timer and queues it. */
void sw__px_schedule(struct sw_px *px, struct sw_ptx *t)
{
	uint64_t due = earliest(t->g_due, t->h_due);
	for (unsigned i = 0; i < t->nbranches; i++) {
		const struct sw_px_branch *b = &t->br[i];
		due = earliest(due, b->a_due);
		due = earliest(due, b->b_due);
		due = earliest(due, b->c_due);
		due = earliest(due, b->d_due);
		due = earliest(due, b->ce_due);
		due = earliest(due, b->cf_due);
	}
	if (due && due != t->due)
		heap_push(px, due, t->id, t->gen);
	t->due = due;
}

struct sw_ptx *sw_px_begin(struct sw_px *px, const struct sw_msg *req, const struct sw_txn_key *key,
			   const struct sw_peer *reply_to, bool trying, uint32_t timer_c, uint64_t now)
{
	if (!px->nfree && grow(px))
		return NULL;
	struct sw_ptx *t = calloc(1, sizeof(*t));
	if (!t || !(t->req = sw__px_dup(req->buf, req->len))) {
		free(t);
		return NULL;
	}
	sw_metrics_gauge_add(SW_G_TXN_PROXY, 1);
	t->req_len = req->len;
	t->id = px->free_ids[--px->nfree];
	t->gen = ++px->gens[t->id];
	t->key = *key;
	t->invite = req->method_id == SW_METHOD_INVITE;
	t->reliable = reply_to->tp != SW_TP_UDP;
	t->reply_to = *reply_to;
	t->timer_c = timer_c ? timer_c : SW_TIMER_C_DEFAULT;
	px->slot[t->id] = t;
	struct sw_ptx **head = &px->bucket[key->hash & (px->nbuckets - 1)];
	t->hnext = *head;
	*head = t;
	px->count++;
	if (trying)
		sw_px_trying(px, t, req, now);
	return t;
}

static void ptx_remove(struct sw_px *px, struct sw_ptx *t)
{
	for (struct sw_ptx **p = &px->bucket[t->key.hash & (px->nbuckets - 1)]; *p; p = &(*p)->hnext)
		if (*p == t) {
			*p = t->hnext;
			break;
		}
	px->slot[t->id] = NULL;
	px->free_ids[px->nfree++] = t->id;
	px->count--;
	if (px->io.done)
		px->io.done(px->io.ctx, t);
	ptx_free(t);
}

/* Ends the transaction once the server side is done and no branch lingers;
 * a transaction that only lingers gives back what it no longer needs. */
static bool maybe_end(struct sw_px *px, struct sw_ptx *t)
{
	bool pending = false, lingering = t->st != PX_SRV_TERMINATED;
	for (unsigned i = 0; i < t->nbranches; i++) {
		pending |= t->br[i].st == PX_CLI_CALLING || t->br[i].st == PX_CLI_PROCEEDING;
		lingering |= t->br[i].st != PX_CLI_TERMINATED;
	}
	if (!lingering) {
		ptx_remove(px, t);
		return true;
	}
	if (t->final_sent && !pending && t->req) {
		sw__px_compact(t);
		if (px->io.done) /* the TU's data is not needed while it lingers */
			px->io.done(px->io.ctx, t);
	}
	return false;
}

/* The server side after a final response: linger (Timer G/H for a non-2xx
 * INVITE, L for a 2xx, J for a non-INVITE) or end at once on a reliable
 * transport where no retransmission can come. */
static void server_final(struct sw_ptx *t, unsigned status, uint64_t now)
{
	if (t->invite && status >= 300) {
		t->st = PX_SRV_COMPLETED;
		if (!t->reliable) {
			t->g_int = SW_T1;
			t->g_due = now + SW_T1;
		}
		t->h_due = now + 64u * SW_T1;
	} else if (t->invite) {
		t->st = PX_SRV_ACCEPTED; /* RFC 6026: 2xx retransmissions pass through */
		t->h_due = now + 64u * SW_T1;
	} else if (t->reliable) {
		t->st = PX_SRV_TERMINATED;
	} else {
		t->st = PX_SRV_COMPLETED;
		t->h_due = now + 64u * SW_T1; /* Timer J */
	}
}

void sw__px_send_upstream(struct sw_px *px, struct sw_ptx *t, unsigned status, const char *buf, size_t len,
			  uint64_t now)
{
	if (t->st == PX_SRV_TERMINATED || t->st == PX_SRV_CONFIRMED)
		return;
	if (t->st == PX_SRV_COMPLETED || (t->st == PX_SRV_ACCEPTED && status < 200))
		return; /* a final non-2xx was sent: nothing else may follow */
	if (t->st == PX_SRV_ACCEPTED && status >= 300)
		return;
	px->io.reply(px->io.ctx, t, buf, len);
	sw_metrics_response(status);
	if (t->st == PX_SRV_ACCEPTED)
		return; /* another 2xx (other branch or retransmission): forwarded, not stored */
	char *copy = sw__px_dup(buf, len);
	if (copy) {
		free(t->resp);
		t->resp = copy;
		t->resp_len = len;
	}
	t->resp_status = status;
	if (status >= 200) {
		t->final_sent = true;
		t->final_status = status;
		server_final(t, status, now);
		sw__px_schedule(px, t);
	}
}

void sw_px_respond(struct sw_px *px, struct sw_ptx *t, unsigned status, const char *buf, size_t len,
		   uint64_t now)
{
	bool first = !t->final_sent;
	sw__px_send_upstream(px, t, status, buf, len, now);
	if (first && t->final_sent && px->io.final)
		px->io.final(px->io.ctx, t, status, NULL);
	maybe_end(px, t);
}

void sw_px_retransmission(struct sw_px *px, struct sw_ptx *t)
{
	if (t->resp && (t->st == PX_SRV_PROCEEDING || t->st == PX_SRV_COMPLETED))
		px->io.reply(px->io.ctx, t, t->resp, t->resp_len);
}

void sw_px_ack(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	if (!t->invite || t->st != PX_SRV_COMPLETED)
		return;
	t->st = PX_SRV_CONFIRMED;
	t->g_due = 0;
	t->h_due = t->reliable ? now : now + SW_T4; /* Timer I */
	sw__px_schedule(px, t);
}

/* The server side's own timers. */
static void server_timers(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	if (t->g_due && now >= t->g_due && t->st == PX_SRV_COMPLETED) {
		px->io.reply(px->io.ctx, t, t->resp, t->resp_len);
		t->g_int = t->g_int * 2 < SW_T2 ? t->g_int * 2 : SW_T2;
		t->g_due = now + t->g_int;
	}
	if (t->h_due && now >= t->h_due) { /* H, I, J, L: the server side ends */
		t->g_due = t->h_due = 0;
		if (t->st != PX_SRV_PROCEEDING)
			t->st = PX_SRV_TERMINATED;
	}
}

void sw_px_tick(struct sw_px *px, uint64_t now)
{
	if (px->heap.n > 1024 && px->heap.n / 4 > px->count)
		heap_compact(px); /* after a busy spell: give the room back */
	struct sw_due e;
	while (sw_dueheap_pop_due(&px->heap, now, &e)) {
		struct sw_ptx *t = sw__px_by_id(px, e.id, e.gen);
		if (!t || t->due != e.due)
			continue; /* ended, or rescheduled since */
		t->due = 0;
		server_timers(px, t, now);
		sw__px_branch_timers(px, t, now);
		/* the branches may have ended it (a final sent upstream) */
		if ((t = sw__px_by_id(px, e.id, e.gen)) && !maybe_end(px, t))
			sw__px_schedule(px, t);
	}
}

int sw_px_add_target(struct sw_ptx *t, const char *uri, const char *path, const struct sw_flow *flow, uint16_t q)
{
	if (t->ntargets >= SW_PX_MAX_TARGETS)
		return SW_ENOSPC;
	if (t->ntargets == t->cap_targets) {
		unsigned cap = t->cap_targets ? t->cap_targets * 2 : 1;
		struct sw_px_target *v = realloc(t->targets, cap * sizeof(*v));
		if (!v)
			return SW_ENOMEM;
		t->targets = v;
		t->cap_targets = cap;
	}
	struct sw_px_target *x = &t->targets[t->ntargets];
	x->path = NULL;
	if (!(x->uri = sw__px_dup(uri, strlen(uri))))
		return SW_ENOMEM;
	if (path && *path && !(x->path = sw__px_dup(path, strlen(path)))) {
		free(x->uri);
		return SW_ENOMEM;
	}
	x->flow = *flow;
	x->q = q;
	t->ntargets++;
	return 0;
}

bool sw__px_maybe_end(struct sw_px *px, struct sw_ptx *t)
{
	return maybe_end(px, t);
}

void sw_px_trying(struct sw_px *px, struct sw_ptx *t, const struct sw_msg *req, uint64_t now)
{
	/* §16.2: 100 Trying at once, so that the client stops retransmitting */
	if (!t->invite || t->resp_status)
		return;
	char buf[4096];
	struct sw_buf b;
	sw_buf_init(&b, buf, sizeof(buf));
	struct sw_msg m;
	if ((req || sw_msg_parse(&m, t->req, t->req_len, NULL, NULL) == 0) &&
	    sw_print_response_start(&b, req ? req : &m, 100, NULL, SW_STR_NULL) == 0 &&
	    sw_print_end(&b, SW_STR_NULL) == 0)
		sw__px_send_upstream(px, t, 100, b.p, b.len, now);
}
