/* A string-keyed hash map for the analyzer's lookups (open transactions and
 * flows, nonce uses, accepted digest uris, interned names): separate
 * chaining, power-of-two buckets, entries also kept in insertion order so the
 * oldest can be expired first. At most one entry per two buckets: the large
 * maps (judged transactions, interned AORs) do not fit in the cache, and a
 * lookup that finds an empty bucket costs one memory access, not two. */
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

static uint64_t hash(const char *k, size_t n)
{
	/* FNV-1a on 8-byte words, then a final mix */
	uint64_t h = 1469598103934665603ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, k, 8);
		h = (h ^ w) * 1099511628211ull;
		h ^= h >> 29;
		k += 8;
		n -= 8;
	}
	while (n--)
		h = (h ^ (unsigned char)*k++) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static struct sw__hent *find(const struct sw__hmap *m, const char *key, size_t klen, uint64_t h)
{
	if (!m->nb)
		return NULL;
	for (struct sw__hent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->h == h && e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	return NULL;
}

struct sw__hent *sw__hmap_get(const struct sw__hmap *m, const char *key, size_t klen)
{
	return m->nb ? find(m, key, klen, hash(key, klen)) : NULL;
}

static bool grow(struct sw__hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct sw__hent **b = calloc(nb, sizeof(*b));
	if (!b)
		return false;
	for (size_t i = 0; i < m->nb; i++)
		for (struct sw__hent *e = m->b[i], *n; e; e = n) {
			n = e->next;
			e->next = b[e->h & (nb - 1)];
			b[e->h & (nb - 1)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return true;
}

/* Links e (key and hash set) into m: its bucket, the end of the order. */
static void link_in(struct sw__hmap *m, struct sw__hent *e)
{
	e->next = m->b[e->h & (m->nb - 1)];
	m->b[e->h & (m->nb - 1)] = e;
	e->fnext = NULL;
	e->fprev = m->ftail;
	if (m->ftail)
		m->ftail->fnext = e;
	else
		m->fhead = e;
	m->ftail = e;
	m->n++;
}

static void unlink_from(struct sw__hmap *m, struct sw__hent *e)
{
	struct sw__hent **pp = &m->b[e->h & (m->nb - 1)];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	if (e->fprev)
		e->fprev->fnext = e->fnext;
	else
		m->fhead = e->fnext;
	if (e->fnext)
		e->fnext->fprev = e->fprev;
	else
		m->ftail = e->fprev;
	m->n--;
}

struct sw__hent *sw__hmap_put(struct sw__hmap *m, const char *key, size_t klen, bool *created)
{
	uint64_t h = hash(key, klen);
	struct sw__hent *e = find(m, key, klen, h);
	if (created)
		*created = !e;
	if (e)
		return e;
	if (2 * (m->n + 1) > m->nb && !grow(m))
		return NULL;
	e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return NULL;
	e->h = h;
	e->val = NULL;
	e->u = 0;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	link_in(m, e);
	return e;
}

void sw__hmap_del(struct sw__hmap *m, struct sw__hent *e)
{
	unlink_from(m, e);
	free(e);
}

bool sw__hmap_move(struct sw__hmap *from, struct sw__hmap *to, struct sw__hent *e)
{
	unlink_from(from, e);
	if (2 * (to->n + 1) > to->nb && !grow(to)) {
		free(e);
		return false;
	}
	e->val = NULL;
	e->u = 0;
	link_in(to, e);
	return true;
}

void sw__hmap_free(struct sw__hmap *m)
{
	for (struct sw__hent *e = m->fhead, *n; e; e = n) {
		n = e->fnext;
		free(e);
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
