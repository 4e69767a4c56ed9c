/* Non-INVITE server transactions: an open-addressing table of keys with
 * their stored final responses. Memory is allocated once at creation; a
 * response larger than the inline slot gets its own allocation (rare: a
 * 200 OK listing many contacts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/txn.h"

#define SLOT_RESP 1536u
#define PENDING_MS 32000u /* a PENDING entry older than this was abandoned */

struct entry {
	struct sw_txn_key key;
	uint8_t state;     /* 0 free, else enum sw_txn_state */
	uint64_t until_ms; /* expiry */
	uint64_t seq;      /* insertion order, for eviction */
	size_t len;
	char *big;         /* response when longer than SLOT_RESP */
	char resp[SLOT_RESP];
};

struct sw_txn_table {
	struct entry *e;
	unsigned size;     /* power of two, >= 2 * capacity */
	unsigned capacity;
	unsigned count;
	uint64_t seq;
};

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static int key_add(struct sw_txn_key *k, sw_str s)
{
	if (k->len + s.len + 1 > SW_TXN_KEY_MAX)
		return SW_ETOOBIG;
	memcpy(k->bytes + k->len, s.p, s.len);
	k->len = (uint16_t)(k->len + s.len);
	k->bytes[k->len++] = '\x1f'; /* separator: fields cannot run together */
	return 0;
}

int sw_txn_key_make(const struct sw_msg *req, struct sw_txn_key *key)
{
	struct sw_via v;
	struct sw_cseq cs;
	if (!req->is_request || sw_msg_top_via(req, &v, NULL) || sw_msg_cseq(req, &cs, NULL))
		return SW_EPARSE;
	key->len = 0;
	/* ACK belongs to the INVITE transaction it acknowledges (§17.2.3) */
	sw_str method = cs.method_id == SW_METHOD_ACK ? SW_STR_LIT("INVITE") : cs.method;
	int rc;
	if (v.branch.len > 7 && !memcmp(v.branch.p, "z9hG4bK", 7)) {
		char port[8];
		int n = v.port >= 0 ? (int)snprintf(port, sizeof(port), "%d", v.port) : 0;
		rc = key_add(key, v.branch);
		if (!rc)
			rc = key_add(key, v.host);
		if (!rc)
			rc = key_add(key, sw_str_from(port, (size_t)n));
		if (!rc)
			rc = key_add(key, method);
	} else {
		struct sw_addr from;
		sw_str cid;
		char num[16];
		if (sw_msg_call_id(req, &cid, NULL) || sw_msg_from(req, &from, NULL))
			return SW_EPARSE;
		int n = snprintf(num, sizeof(num), "%u", cs.num);
		rc = key_add(key, cid);
		if (!rc)
			rc = key_add(key, sw_str_from(num, (size_t)n));
		if (!rc)
			rc = key_add(key, method);
		if (!rc)
			rc = key_add(key, from.tag.p ? from.tag : SW_STR_LIT(""));
		if (!rc)
			rc = key_add(key, v.raw);
	}
	if (rc)
		return rc;
	key->hash = fnv1a(key->bytes, key->len);
	return 0;
}

int sw_txn_table_new(struct sw_txn_table **out, unsigned capacity)
{
	if (capacity == 0 || capacity > (1u << 24))
		return SW_EINVAL;
	struct sw_txn_table *t = calloc(1, sizeof(*t));
	if (!t)
		return SW_ENOMEM;
	unsigned size = 16;
	while (size < capacity * 2)
		size <<= 1;
	t->e = calloc(size, sizeof(*t->e));
	if (!t->e) {
		free(t);
		return SW_ENOMEM;
	}
	t->size = size;
	t->capacity = capacity;
	*out = t;
	return 0;
}

void sw_txn_table_free(struct sw_txn_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->size; i++)
		free(t->e[i].big);
	free(t->e);
	free(t);
}

static bool same(const struct entry *e, const struct sw_txn_key *k)
{
	return e->state && e->key.hash == k->hash && e->key.len == k->len &&
	       !memcmp(e->key.bytes, k->bytes, k->len);
}

static struct entry *find(struct sw_txn_table *t, const struct sw_txn_key *k)
{
	for (unsigned i = k->hash & (t->size - 1), n = 0; n < t->size; i = (i + 1) & (t->size - 1), n++) {
		struct entry *e = &t->e[i];
		if (!e->state)
			return NULL;
		if (same(e, k))
			return e;
	}
	return NULL;
}

/* Removes e and re-inserts the entries of its probe run (backward-shift
 * deletion keeps lookups correct without tombstones). */
static void erase(struct sw_txn_table *t, struct entry *e)
{
	unsigned i = (unsigned)(e - t->e);
	free(e->big);
	e->big = NULL;
	e->state = 0;
	t->count--;
	for (unsigned j = (i + 1) & (t->size - 1); t->e[j].state; j = (j + 1) & (t->size - 1)) {
		unsigned home = t->e[j].key.hash & (t->size - 1);
		/* can e[j] move to the hole at i? only if i lies on its probe path */
		bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			t->e[i] = t->e[j];
			t->e[j].state = 0;
			t->e[j].big = NULL;
			i = j;
		}
	}
}

unsigned sw_txn_expire(struct sw_txn_table *t, uint64_t now_ms)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->size; i++) {
		/* erase() may shift a later entry into slot i: look at it again */
		while (t->e[i].state && t->e[i].until_ms <= now_ms) {
			erase(t, &t->e[i]);
			n++;
		}
	}
	return n;
}

static void evict_oldest(struct sw_txn_table *t)
{
	struct entry *old = NULL;
	for (unsigned i = 0; i < t->size; i++)
		if (t->e[i].state && (!old || t->e[i].seq < old->seq))
			old = &t->e[i];
	if (old)
		erase(t, old);
}

enum sw_txn_state sw_txn_begin(struct sw_txn_table *t, const struct sw_txn_key *key, uint64_t now_ms,
			       const char **resp, size_t *len)
{
	struct entry *e = find(t, key);
	if (e && e->until_ms > now_ms) {
		if (e->state == SW_TXN_COMPLETED) {
			*resp = e->big ? e->big : e->resp;
			*len = e->len;
		}
		return (enum sw_txn_state)e->state;
	}
	if (e)
		erase(t, e);
	if (t->count >= t->capacity) {
		sw_txn_expire(t, now_ms);
		if (t->count >= t->capacity)
			evict_oldest(t); /* under overload, forget the oldest rather than refuse */
	}
	unsigned i = key->hash & (t->size - 1);
	while (t->e[i].state)
		i = (i + 1) & (t->size - 1);
	e = &t->e[i];
	e->key = *key;
	e->state = SW_TXN_PENDING;
	e->until_ms = now_ms + PENDING_MS;
	e->seq = ++t->seq;
	e->len = 0;
	e->big = NULL;
	t->count++;
	return SW_TXN_NEW;
}

int sw_txn_complete(struct sw_txn_table *t, const struct sw_txn_key *key, const char *resp, size_t len,
		    uint64_t now_ms, uint32_t linger_ms)
{
	struct entry *e = find(t, key);
	if (!e)
		return SW_ENOTFOUND;
	if (linger_ms == 0) {
		erase(t, e);
		return 0;
	}
	free(e->big);
	e->big = NULL;
	if (len > SLOT_RESP) {
		e->big = malloc(len);
		if (!e->big) {
			erase(t, e);
			return SW_ENOMEM;
		}
		memcpy(e->big, resp, len);
	} else {
		memcpy(e->resp, resp, len);
	}
	e->len = len;
	e->state = SW_TXN_COMPLETED;
	e->until_ms = now_ms + linger_ms;
	return 0;
}

void sw_txn_forget(struct sw_txn_table *t, const struct sw_txn_key *key)
{
	struct entry *e = find(t, key);
	if (e)
		erase(t, e);
}

unsigned sw_txn_count(const struct sw_txn_table *t)
{
	return t->count;
}
