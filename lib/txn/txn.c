/* Non-INVITE server transactions: an open-addressing table (tombstones, so
 * slot numbers stay put) of small slots pointing at one allocation each
 * (key + stored response), linked in insertion order for expiry and
 * eviction in O(1): entries live about the same time, so the oldest
 * insertion is the first to expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/buf.h"
#include "sipwarden/metrics.h"
#include "sipwarden/txn.h"

#define PENDING_MS 32000u /* a PENDING entry older than this was abandoned */

struct slot {
	uint32_t hash;
	uint8_t state;     /* 0 free, 0xff deleted (tombstone), else enum sw_txn_state */
	uint16_t keylen;
	uint64_t seq;      /* insertion number: ties the FIFO to the slot */
	uint64_t until_ms;
	size_t len;        /* response length */
	char *blob;        /* key bytes, then the response */
	uint32_t prev, next; /* insertion order, NIL at the ends */
};
#define TOMB 0xffu
#define NIL 0xffffffffu

/* How many live keys have each value of the hash's top PRESENCE_BITS: a
 * lookup of a key that none has (a flood of new requests, each shed or
 * started) is answered from this small array, without a probe into the
 * slots, which is a cache miss at a random place in megabytes. */
#define PRESENCE_BITS 18u

struct sw_txn_table {
	uint8_t *presence;  /* saturates at 255: then never decremented */
	struct slot *s;
	unsigned size;     /* power of two, >= 2 * capacity */
	unsigned capacity;
	unsigned count, tombs;
	uint64_t seq;
	uint32_t head, tail; /* oldest and newest live slot */
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

int sw_txn_key_make_via(const struct sw_via *v, sw_str method, struct sw_txn_key *key)
{
	if (v->branch.len <= 7 || memcmp(v->branch.p, "z9hG4bK", 7))
		return SW_EPARSE;
	char port[8];
	struct sw_buf pb; /* the digits, without printf: every shed request makes a key */
	sw_buf_init(&pb, port, sizeof(port));
	if (v->port >= 0)
		sw_buf_add_uint(&pb, (uint64_t)v->port);
	key->len = 0;
	int rc = key_add(key, v->branch);
	if (!rc)
		rc = key_add(key, v->host);
	if (!rc)
		rc = key_add(key, sw_str_from(port, pb.len));
	if (!rc)
		rc = key_add(key, method);
	if (rc)
		return rc;
	key->hash = fnv1a(key->bytes, key->len);
	return 0;
}

int sw_txn_key_make(const struct sw_msg *req, struct sw_txn_key *key)
{
	return sw_txn_key_make_as(req, SW_STR_NULL, key);
}

int sw_txn_key_make_as(const struct sw_msg *req, sw_str as_method, struct sw_txn_key *key)
{
	struct sw_via v;
	struct sw_cseq cs;
	if (!req->is_request || sw_msg_top_via(req, &v, NULL) || sw_msg_cseq(req, &cs, NULL))
		return SW_EPARSE;
	key->len = 0;
	/* ACK belongs to the INVITE transaction it acknowledges (§17.2.3) */
	sw_str method = as_method.p ? as_method : cs.method_id == SW_METHOD_ACK ? SW_STR_LIT("INVITE") : cs.method;
	int rc = sw_txn_key_make_via(&v, method, key);
	if (rc != SW_EPARSE)
		return rc; /* an RFC 3261 branch: made (or too long) */
	/* an RFC 2543 client: the fields that tell its transactions apart */
	struct sw_addr from;
	sw_str cid;
	char num[16];
	if (sw_msg_call_id(req, &cid, NULL) || sw_msg_from(req, &from, NULL))
		return SW_EPARSE;
	struct sw_buf nb;
	sw_buf_init(&nb, num, sizeof(num));
	sw_buf_add_uint(&nb, cs.num);
	key->len = 0;
	rc = key_add(key, cid);
	if (!rc)
		rc = key_add(key, sw_str_from(num, nb.len));
	if (!rc)
		rc = key_add(key, method);
	if (!rc)
		rc = key_add(key, from.tag.p ? from.tag : SW_STR_LIT(""));
	if (!rc)
		rc = key_add(key, v.raw);
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
	t->s = calloc(size, sizeof(*t->s));
	t->presence = calloc(1u << PRESENCE_BITS, 1);
	if (!t->s || !t->presence) {
		free(t->s);
		free(t->presence);
		free(t);
		return SW_ENOMEM;
	}
	t->head = t->tail = NIL;
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
		if (t->s[i].state && t->s[i].state != TOMB)
			free(t->s[i].blob);
	sw_metrics_gauge_add(SW_G_TXN_REGISTRAR, -(int64_t)t->count);
	free(t->presence);
	free(t->s);
	free(t);
}

static bool live(const struct slot *e)
{
	return e->state && e->state != TOMB;
}

static uint8_t *presence(struct sw_txn_table *t, uint32_t hash)
{
	return &t->presence[hash >> (32u - PRESENCE_BITS)];
}

static struct slot *find(struct sw_txn_table *t, const struct sw_txn_key *k)
{
	if (!*presence(t, k->hash))
		return NULL;
	for (unsigned i = k->hash & (t->size - 1), n = 0; n < t->size; i = (i + 1) & (t->size - 1), n++) {
		struct slot *e = &t->s[i];
		if (!e->state)
			return NULL;
		if (live(e) && e->hash == k->hash && e->keylen == k->len && !memcmp(e->blob, k->bytes, k->len))
			return e;
	}
	return NULL;
}

static void link_tail(struct sw_txn_table *t, uint32_t i)
{
	t->s[i].prev = t->tail;
	t->s[i].next = NIL;
	if (t->tail != NIL)
		t->s[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
}

static void erase(struct sw_txn_table *t, struct slot *e)
{
	if (e->prev != NIL)
		t->s[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != NIL)
		t->s[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	uint8_t *n = presence(t, e->hash);
	if (*n != 255)
		(*n)--;
	free(e->blob);
	e->blob = NULL;
	e->state = TOMB;
	t->count--;
	t->tombs++;
	sw_metrics_gauge_add(SW_G_TXN_REGISTRAR, -1);
}

/* Too many tombstones make probes long: rebuild, keeping the order. */
static void rehash(struct sw_txn_table *t)
{
	struct slot *old = t->s;
	struct slot *s = calloc(t->size, sizeof(*s));
	if (!s)
		return; /* keep working with the tombstones */
	uint32_t i = t->head;
	t->s = s;
	t->head = t->tail = NIL;
	while (i != NIL) {
		uint32_t j = old[i].hash & (t->size - 1);
		while (s[j].state)
			j = (j + 1) & (t->size - 1);
		s[j] = old[i];
		link_tail(t, j);
		i = old[i].next;
	}
	free(old);
	t->tombs = 0;
}

unsigned sw_txn_expire(struct sw_txn_table *t, uint64_t now_ms)
{
	unsigned n = 0;
	while (t->head != NIL && t->s[t->head].until_ms <= now_ms) {
		erase(t, &t->s[t->head]);
		n++;
	}
	if (t->tombs > t->size / 4)
		rehash(t);
	return n;
}

enum sw_txn_state sw_txn_begin(struct sw_txn_table *t, const struct sw_txn_key *key, uint64_t now_ms,
			       const char **resp, size_t *len)
{
	struct slot *e = find(t, key);
	if (e && e->until_ms > now_ms) {
		if (e->state == SW_TXN_COMPLETED) {
			*resp = e->blob + e->keylen;
			*len = e->len;
		}
		return (enum sw_txn_state)e->state;
	}
	if (e)
		erase(t, e);
	sw_txn_expire(t, now_ms);
	while (t->count >= t->capacity) /* under overload, forget the oldest rather than refuse */
		erase(t, &t->s[t->head]);
	char *blob = malloc(key->len);
	if (!blob)
		return SW_TXN_NEW; /* untracked: processed, retransmissions processed again */
	memcpy(blob, key->bytes, key->len);
	unsigned i = key->hash & (t->size - 1);
	while (live(&t->s[i]))
		i = (i + 1) & (t->size - 1);
	e = &t->s[i];
	if (e->state == TOMB)
		t->tombs--;
	*e = (struct slot){ .hash = key->hash, .state = SW_TXN_PENDING, .keylen = key->len,
			    .seq = ++t->seq, .until_ms = now_ms + PENDING_MS, .blob = blob };
	t->count++;
	uint8_t *n = presence(t, key->hash);
	if (*n != 255)
		(*n)++;
	sw_metrics_gauge_add(SW_G_TXN_REGISTRAR, 1);
	link_tail(t, i);
	return SW_TXN_NEW;
}

enum sw_txn_state sw_txn_peek(struct sw_txn_table *t, const struct sw_txn_key *key, uint64_t now_ms)
{
	const struct slot *e = find(t, key);
	return e && e->until_ms > now_ms ? (enum sw_txn_state)e->state : SW_TXN_NEW;
}

int sw_txn_complete(struct sw_txn_table *t, const struct sw_txn_key *key, const char *resp, size_t len,
		    uint64_t now_ms, uint32_t linger_ms)
{
	struct slot *e = find(t, key);
	if (!e)
		return SW_ENOTFOUND;
	if (linger_ms == 0) {
		erase(t, e);
		return 0;
	}
	char *blob = realloc(e->blob, e->keylen + len);
	if (!blob) {
		erase(t, e);
		return SW_ENOMEM;
	}
	memcpy(blob + e->keylen, resp, len);
	e->blob = blob;
	e->len = len;
	e->state = SW_TXN_COMPLETED;
	/* expiry follows insertion order; a completion moves to the tail */
	e->until_ms = now_ms + linger_ms;
	uint32_t i = (uint32_t)(e - t->s);
	if (t->tail != i) {
		if (e->prev != NIL)
			t->s[e->prev].next = e->next;
		else
			t->head = e->next;
		t->s[e->next].prev = e->prev;
		link_tail(t, i);
	}
	return 0;
}

void sw_txn_forget(struct sw_txn_table *t, const struct sw_txn_key *key)
{
	struct slot *e = find(t, key);
	if (e)
		erase(t, e);
}

unsigned sw_txn_count(const struct sw_txn_table *t)
{
	return t->count;
}
