/* The in-memory location index: AOR -> bindings, sharded by AOR hash so
 * that workers rarely contend. Strings are owned by the index. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/metrics.h"
#include "sipwarden/registrar.h"

#define SHARDS 64u
#define BUCKETS_MIN 256u /* per shard, at start; doubled past two AORs per bucket */

/* One allocation per binding (the contact inline, the Call-ID as a hash)
 * and one per AOR: about 120 bytes for a phone (docs/PERFORMANCE.md,
 * bytes per binding). */
struct bind {
	struct bind *next;     /* the AOR's other bindings */
	uint64_t cid_q;        /* Call-ID hash (low 48 bits) | q << 48 */
	uint32_t expires;      /* unix seconds (to 2106) */
	uint32_t cseq;
	char contact[];        /* at offset 24, then the flow (sw_flow_format), then the Path */
};

#define CID_MASK ((1ull << 48) - 1)

struct aor {
	struct aor *next;
	struct bind *b;
	char name[];
};

struct shard {
	pthread_mutex_t lock;
	struct aor **bucket;
	size_t nbuckets;       /* a power of two */
	size_t aors, bindings;
};

struct sw_location {
	struct shard shard[SHARDS];
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

uint64_t sw_location_call_id_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return (h ^ h >> 48) & CID_MASK; /* 48 bits: compared within one AOR only */
}

int sw_location_new(struct sw_location **out)
{
	struct sw_location *l = calloc(1, sizeof(*l));
	if (!l)
		return SW_ENOMEM;
	for (unsigned i = 0; i < SHARDS; i++)
		pthread_mutex_init(&l->shard[i].lock, NULL);
	for (unsigned i = 0; i < SHARDS; i++) {
		l->shard[i].nbuckets = BUCKETS_MIN;
		if (!(l->shard[i].bucket = calloc(BUCKETS_MIN, sizeof(struct aor *)))) {
			sw_location_free(l);
			return SW_ENOMEM;
		}
	}
	*out = l;
	return 0;
}

static void aor_free(struct aor *a)
{
	for (struct bind *b = a->b, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void sw_location_free(struct sw_location *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < SHARDS; i++) {
		for (size_t k = 0; l->shard[i].bucket && k < l->shard[i].nbuckets; k++)
			for (struct aor *a = l->shard[i].bucket[k], *n; a; a = n) {
				n = a->next;
				aor_free(a);
			}
		free(l->shard[i].bucket);
		pthread_mutex_destroy(&l->shard[i].lock);
	}
	free(l);
}

/* The shard of aor, and its hash for slot_of. */
static struct shard *shard_of(struct sw_location *l, const char *aor, uint64_t *h)
{
	*h = hash(aor);
	return &l->shard[*h % SHARDS];
}

/* The bucket of hash h (the shard's lock held; valid until it grows). */
static struct aor **slot_of(struct shard *s, uint64_t h)
{
	return &s->bucket[(h / SHARDS) & (s->nbuckets - 1)];
}

/* Doubles the buckets of a shard past two AORs per bucket, so that a lookup
 * compares about one name however many AORs there are; out of memory, the
 * chains just grow longer. */
static void grow(struct shard *s)
{
	if (s->aors < 2 * s->nbuckets)
		return;
	size_t n = s->nbuckets * 2;
	struct aor **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t k = 0; k < s->nbuckets; k++)
		for (struct aor *a = s->bucket[k], *next; a; a = next) {
			next = a->next;
			struct aor **slot = &nb[(hash(a->name) / SHARDS) & (n - 1)];
			a->next = *slot;
			*slot = a;
		}
	free(s->bucket);
	s->bucket = nb;
	s->nbuckets = n;
}

static struct aor **find(struct aor **slot, const char *aor)
{
	for (; *slot; slot = &(*slot)->next)
		if (!strcmp((*slot)->name, aor))
			return slot;
	return NULL;
}

static struct bind **find_contact(struct aor *a, const char *contact)
{
	for (struct bind **pb = &a->b; *pb; pb = &(*pb)->next)
		if (!strcmp((*pb)->contact, contact))
			return pb;
	return NULL;
}

static void drop_bind(struct shard *s, struct bind **pb)
{
	struct bind *b = *pb;
	*pb = b->next;
	free(b);
	s->bindings--;
}

static int put(struct shard *s, struct aor **slot, const struct sw_binding *b, bool *replaced)
{
	struct aor **pa = find(slot, b->aor);
	struct aor *a = pa ? *pa : NULL;
	if (!a) {
		size_t n = strlen(b->aor) + 1;
		if (!(a = malloc(sizeof(*a) + n)))
			return SW_ENOMEM;
		a->b = NULL;
		memcpy(a->name, b->aor, n);
		a->next = *slot;
		*slot = a;
		s->aors++;
	}
	size_t cl = strlen(b->contact), fl = strlen(b->received), pl = strlen(b->path);
	struct bind *nb = malloc(sizeof(*nb) + cl + 1 + fl + 1 + pl + 1);
	if (!nb)
		return SW_ENOMEM;
	uint64_t cid = sw_location_call_id_hash(b->call_id, strlen(b->call_id)); /* 48 bits */
	*nb = (struct bind){ .cid_q = cid | (uint64_t)b->q << 48, .cseq = b->cseq,
			     .expires = b->expires < 0 ? 0 : b->expires > UINT32_MAX ? UINT32_MAX : (uint32_t)b->expires };
	memcpy(nb->contact, b->contact, cl + 1);
	memcpy(nb->contact + cl + 1, b->received, fl + 1); /* the flow, after the contact */
	memcpy(nb->contact + cl + 1 + fl + 1, b->path, pl + 1); /* then the Path (RFC 3327) */
	struct bind **old = find_contact(a, b->contact);
	*replaced = old != NULL;
	if (old) { /* replace in place: the order of an AOR's bindings stays */
		nb->next = (*old)->next;
		free(*old);
		*old = nb;
	} else { /* appended: bindings keep the order they were made in */
		struct bind **tail = &a->b;
		while (*tail)
			tail = &(*tail)->next;
		nb->next = NULL;
		*tail = nb;
		s->bindings++;
	}
	return 0;
}

static void unlink_if_empty(struct shard *s, struct aor **slot, const char *name)
{
	struct aor **pa = find(slot, name);
	if (pa && !(*pa)->b) {
		struct aor *a = *pa;
		*pa = a->next;
		aor_free(a);
		s->aors--;
	}
}

/* count: the changes go to the metrics (not when loading at start). */
static int apply(struct sw_location *l, const struct sw_binding_op *ops, size_t n, bool count)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct sw_binding *b = &ops[i].b;
		uint64_t h;
		struct shard *s = shard_of(l, b->aor, &h);
		pthread_mutex_lock(&s->lock);
		grow(s);
		struct aor **slot = slot_of(s, h);
		size_t before = s->bindings;
		if (ops[i].kind == SW_BINDING_PUT) {
			bool replaced = false;
			rc = put(s, slot, b, &replaced);
			if (!rc && count)
				sw_metrics_inc(replaced ? SW_M_REG_REFRESHED : SW_M_REG_MADE);
		} else {
			struct aor **pa = find(slot, b->aor);
			if (pa && ops[i].kind == SW_BINDING_DEL_AOR) {
				while ((*pa)->b)
					drop_bind(s, &(*pa)->b);
			} else if (pa) {
				struct bind **pb = find_contact(*pa, b->contact);
				if (pb)
					drop_bind(s, pb);
			}
		}
		if (ops[i].kind != SW_BINDING_PUT && count)
			sw_metrics_add(SW_M_REG_REMOVED, before - s->bindings);
		unlink_if_empty(s, slot, b->aor);
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

int sw_location_apply(struct sw_location *l, const struct sw_binding_op *ops, size_t n)
{
	return apply(l, ops, n, true);
}

unsigned sw_location_visit(struct sw_location *l, const char *aor, int64_t now,
			   void (*fn)(void *arg, const struct sw_loc_binding *b), void *arg)
{
	uint64_t h;
	struct shard *s = shard_of(l, aor, &h);
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	struct aor **pa = find(slot_of(s, h), aor);
	if (pa) {
		for (const struct bind *b = (*pa)->b; b; b = b->next) {
			if ((int64_t)b->expires <= now)
				continue;
			const char *flow = b->contact + strlen(b->contact) + 1;
			struct sw_loc_binding v = { b->contact, b->cid_q & CID_MASK, b->cseq, b->expires,
						    (uint16_t)(b->cid_q >> 48), flow, flow + strlen(flow) + 1 };
			if (fn)
				fn(arg, &v);
			n++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t sw_location_expire(struct sw_location *l, int64_t now)
{
	size_t n = 0;
	for (unsigned i = 0; i < SHARDS; i++) {
		struct shard *s = &l->shard[i];
		pthread_mutex_lock(&s->lock);
		for (size_t k = 0; k < s->nbuckets; k++) {
			for (struct aor **pa = &s->bucket[k]; *pa;) {
				struct aor *a = *pa;
				for (struct bind **pb = &a->b; *pb;)
					if ((*pb)->expires <= now) {
						drop_bind(s, pb);
						n++;
					} else {
						pb = &(*pb)->next;
					}
				if (!a->b) {
					*pa = a->next;
					aor_free(a);
					s->aors--;
				} else {
					pa = &a->next;
				}
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

size_t sw_location_count(struct sw_location *l)
{
	size_t n = 0;
	for (unsigned i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&l->shard[i].lock);
		n += l->shard[i].bindings;
		pthread_mutex_unlock(&l->shard[i].lock);
	}
	return n;
}

static int load_one(void *arg, const struct sw_binding *b)
{
	struct sw_binding_op op = { .kind = SW_BINDING_PUT, .b = *b };
	return apply(arg, &op, 1, false);
}

int sw_location_load(struct sw_location *l, struct sw_store *st, int64_t now)
{
	return sw_store_binding_list(st, NULL, now, load_one, l);
}
