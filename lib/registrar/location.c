/* The in-memory location index: AOR -> bindings, sharded by AOR hash so
 * that workers rarely contend. Strings are owned by the index. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/registrar.h"

#define SHARDS 64u
#define BUCKETS 4096u /* per shard */

struct bind {
	char *contact, *call_id;
	uint32_t cseq;
	int64_t expires;
	uint16_t q;
};

struct aor {
	struct aor *next;
	char *name;
	struct bind *b;
	unsigned n, cap;
};

struct shard {
	pthread_mutex_t lock;
	struct aor *bucket[BUCKETS];
	size_t bindings;
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

int sw_location_new(struct sw_location **out)
{
	struct sw_location *l = calloc(1, sizeof(*l));
	if (!l)
		return SW_ENOMEM;
	for (unsigned i = 0; i < SHARDS; i++)
		pthread_mutex_init(&l->shard[i].lock, NULL);
	*out = l;
	return 0;
}

static void bind_free(struct bind *b)
{
	free(b->contact);
	free(b->call_id);
}

static void aor_free(struct aor *a)
{
	for (unsigned i = 0; i < a->n; i++)
		bind_free(&a->b[i]);
	free(a->b);
	free(a->name);
	free(a);
}

void sw_location_free(struct sw_location *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < SHARDS; i++) {
		for (unsigned k = 0; k < BUCKETS; k++)
			for (struct aor *a = l->shard[i].bucket[k], *n; a; a = n) {
				n = a->next;
				aor_free(a);
			}
		pthread_mutex_destroy(&l->shard[i].lock);
	}
	free(l);
}

/* The shard and the bucket slot of aor (the shard's lock must be held to
 * use the slot). */
static struct shard *shard_of(struct sw_location *l, const char *aor, struct aor ***slot)
{
	uint64_t h = hash(aor);
	struct shard *s = &l->shard[h % SHARDS];
	*slot = &s->bucket[(h / SHARDS) % BUCKETS];
	return s;
}

static struct aor **find(struct aor **slot, const char *aor)
{
	for (; *slot; slot = &(*slot)->next)
		if (!strcmp((*slot)->name, aor))
			return slot;
	return NULL;
}

static void drop_bind(struct shard *s, struct aor *a, unsigned i)
{
	bind_free(&a->b[i]);
	a->b[i] = a->b[--a->n];
	s->bindings--;
}

static int put(struct shard *s, struct aor **slot, const struct sw_binding *b)
{
	struct aor **pa = find(slot, b->aor);
	struct aor *a = pa ? *pa : NULL;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a || !(a->name = strdup(b->aor))) {
			free(a);
			return SW_ENOMEM;
		}
		a->next = *slot;
		*slot = a;
	}
	struct bind *t = NULL;
	for (unsigned i = 0; i < a->n; i++)
		if (!strcmp(a->b[i].contact, b->contact))
			t = &a->b[i];
	char *contact = strdup(b->contact), *call_id = strdup(b->call_id);
	if (!contact || !call_id)
		goto nomem;
	if (!t) {
		if (a->n == a->cap) {
			unsigned cap = a->cap ? a->cap * 2 : 2;
			struct bind *nb = realloc(a->b, cap * sizeof(*nb));
			if (!nb)
				goto nomem;
			a->b = nb;
			a->cap = cap;
		}
		t = &a->b[a->n++];
		s->bindings++;
	} else {
		bind_free(t);
	}
	*t = (struct bind){ contact, call_id, b->cseq, b->expires, b->q };
	return 0;
nomem:
	free(contact);
	free(call_id);
	return SW_ENOMEM;
}

static void unlink_if_empty(struct aor **slot, const char *name)
{
	struct aor **pa = find(slot, name);
	if (pa && (*pa)->n == 0) {
		struct aor *a = *pa;
		*pa = a->next;
		aor_free(a);
	}
}

int sw_location_apply(struct sw_location *l, const struct sw_binding_op *ops, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct sw_binding *b = &ops[i].b;
		struct aor **slot;
		struct shard *s = shard_of(l, b->aor, &slot);
		pthread_mutex_lock(&s->lock);
		if (ops[i].kind == SW_BINDING_PUT) {
			rc = put(s, slot, b);
		} else {
			struct aor **pa = find(slot, b->aor);
			if (pa) {
				struct aor *a = *pa;
				for (unsigned k = a->n; k-- > 0;)
					if (ops[i].kind == SW_BINDING_DEL_AOR || !strcmp(a->b[k].contact, b->contact))
						drop_bind(s, a, k);
			}
		}
		unlink_if_empty(slot, b->aor);
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

unsigned sw_location_visit(struct sw_location *l, const char *aor, int64_t now,
			   void (*fn)(void *arg, const struct sw_loc_binding *b), void *arg)
{
	struct aor **slot;
	struct shard *s = shard_of(l, aor, &slot);
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	struct aor **pa = find(slot, aor);
	if (pa) {
		const struct aor *a = *pa;
		for (unsigned i = 0; i < a->n; i++) {
			const struct bind *b = &a->b[i];
			if (b->expires <= now)
				continue;
			struct sw_loc_binding v = { b->contact, b->call_id, b->cseq, b->expires, b->q };
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
		for (unsigned k = 0; k < BUCKETS; k++) {
			for (struct aor **pa = &s->bucket[k]; *pa;) {
				struct aor *a = *pa;
				for (unsigned j = a->n; j-- > 0;)
					if (a->b[j].expires <= now) {
						drop_bind(s, a, j);
						n++;
					}
				if (a->n == 0) {
					*pa = a->next;
					aor_free(a);
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
	return sw_location_apply(arg, &op, 1);
}

int sw_location_load(struct sw_location *l, struct sw_store *st, int64_t now)
{
	return sw_store_binding_list(st, NULL, now, load_one, l);
}
