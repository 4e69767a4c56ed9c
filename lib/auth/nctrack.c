/* In-memory nonce-count tracking behind struct sw_nc_ops: the highest nc
 * accepted per nonce, kept until the nonce expires. A retransmission (same
 * nc, cnonce, response and Via branch as the last accepted use, compared by
 * a keyed 64-bit fingerprint) is answered again; anything else at or below
 * the highest nc is a replay. Sharded: one mutex per shard, so workers
 * rarely contend. A shared store implements the same two operations. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "auth/auth_int.h"

#define SHARDS 64u
#define MAX_KEY 128u
#define DEFAULT_MAX 1000000u

/* The nonce itself is not kept: two keyed 64-bit hashes of it (the table
 * seed is random, so nobody can aim for a collision) identify it in 48
 * bytes (one malloc chunk of 48) instead of 160; a server holds one entry per live nonce. */
struct entry {
	struct entry *next;
	uint64_t expires;
	uint64_t fp;
	uint64_t h;
	uint32_t h2;       /* 96 bits in all: with a million live nonces a collision is ~2^-57 */
	uint32_t nc;
};

struct shard {
	pthread_mutex_t lock;
	struct entry **tab;
	size_t nbuckets;              /* power of two */
	size_t count;
	size_t inserts;               /* since the last full sweep */
	uint64_t floor;               /* nonces expiring at or before this were forgotten */
};

struct memtrack {
	struct shard shards[SHARDS];
	size_t max_per_shard;
	uint64_t seed;
};

/* A word-at-a-time multiply-xorshift hash (not cryptographic: the table
 * seed is random and an entry is only created after a verified response). */
static uint64_t hbytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *q = p;
	h ^= n * 0x9e3779b97f4a7c15ull;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, q, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
		q += 8;
		n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, q, n);
	h = (h ^ w) * 0x100000001b3ull;
	return h ^ (h >> 32);
}

/* Finalizer: spreads every input bit over the shard and bucket bits. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t hstr(uint64_t h, sw_str s)
{
	return hbytes(h, s.p ? s.p : "", s.len);     /* length-prefixed: no ambiguity */
}

static void sweep(struct shard *sh, uint64_t now)
{
	for (size_t b = 0; b < sh->nbuckets; b++) {
		struct entry **pp = &sh->tab[b];
		while (*pp) {
			struct entry *e = *pp;
			if (e->expires < now) {
				*pp = e->next;
				free(e);
				sh->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	sh->inserts = 0;
}

static void grow(struct shard *sh)
{
	size_t n = sh->nbuckets * 2;
	struct entry **tab = calloc(n, sizeof(*tab));
	if (!tab)
		return;        /* keep the old table: longer chains, still correct */
	for (size_t b = 0; b < sh->nbuckets; b++) {
		struct entry *e = sh->tab[b];
		while (e) {
			struct entry *next = e->next;
			size_t i = e->h & (n - 1);
			e->next = tab[i];
			tab[i] = e;
			e = next;
		}
	}
	free(sh->tab);
	sh->tab = tab;
	sh->nbuckets = n;
}

static int mem_check(void *self, const struct sw_nc_use *u, uint64_t now)
{
	struct memtrack *t = self;
	if (!u->nonce.p || u->nonce.len == 0 || u->nonce.len > MAX_KEY)
		return SW_EINVAL;
	uint64_t h = mix(hbytes(t->seed, u->nonce.p, u->nonce.len));
	uint32_t h2 = (uint32_t)mix(hbytes(~t->seed, u->nonce.p, u->nonce.len));
	uint64_t fp = hstr(hstr(hstr(t->seed ^ 0x9e3779b97f4a7c15ull, u->cnonce),
				      u->response), u->branch);
	struct shard *sh = &t->shards[(h >> 32) % SHARDS];
	int verdict;

	pthread_mutex_lock(&sh->lock);
	struct entry **pp = &sh->tab[h & (sh->nbuckets - 1)], *e;
	while ((e = *pp)) {
		if (e->expires < now) {           /* drop expired ones on the way */
			*pp = e->next;
			free(e);
			sh->count--;
			continue;
		}
		if (e->h == h && e->h2 == h2)
			break;
		pp = &e->next;
	}
	if (e) {
		if (u->nc == e->nc && fp == e->fp) {
			verdict = SW_NC_RETRANSMISSION;
		} else if (!u->one_time && u->nc > e->nc) {
			e->nc = u->nc;
			e->fp = fp;
			verdict = SW_NC_NEW;
		} else {
			verdict = SW_NC_REPLAY;
		}
		goto out;
	}
	if (u->expires <= sh->floor) {
		verdict = SW_NC_FORGOTTEN;
		goto out;
	}
	if (sh->count >= t->max_per_shard || sh->inserts >= sh->nbuckets)
		sweep(sh, now);
	if (sh->count >= t->max_per_shard) {
		/* Full of live nonces (a sustained rate above max / lifetime):
		 * forget the older half and remember that everything expiring
		 * that early is unknown; such a nonce is then answered "stale",
		 * never taken for new, so a replay cannot slip through. */
		uint64_t cut = now + (u->expires > now ? (u->expires - now) / 2 : 0);
		sweep(sh, cut);
		if (sh->count >= t->max_per_shard)
			sweep(sh, cut = u->expires - 1);
		if (cut > sh->floor)
			sh->floor = cut;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		verdict = SW_ENOMEM;
		goto out;
	}
	e->expires = u->expires;
	e->fp = fp;
	e->nc = u->nc;
	e->h = h;
	e->h2 = h2;
	if (sh->count >= sh->nbuckets)
		grow(sh);
	size_t i = h & (sh->nbuckets - 1);
	e->next = sh->tab[i];
	sh->tab[i] = e;
	sh->count++;
	sh->inserts++;
	verdict = SW_NC_NEW;
out:
	pthread_mutex_unlock(&sh->lock);
	return verdict;
}

static void mem_destroy(void *self)
{
	struct memtrack *t = self;
	if (!t)
		return;
	for (unsigned s = 0; s < SHARDS; s++) {
		struct shard *sh = &t->shards[s];
		for (size_t b = 0; b < sh->nbuckets; b++) {
			struct entry *e = sh->tab[b];
			while (e) {
				struct entry *next = e->next;
				free(e);
				e = next;
			}
		}
		free(sh->tab);
		pthread_mutex_destroy(&sh->lock);
	}
	free(t);
}

static const struct sw_nc_ops mem_ops = { mem_check, mem_destroy };

int sw_nc_memory_new(struct sw_nc_tracker *out, size_t max_nonces)
{
	struct memtrack *t = calloc(1, sizeof(*t));
	if (!t)
		return SW_ENOMEM;
	if (!max_nonces)
		max_nonces = DEFAULT_MAX;
	t->max_per_shard = (max_nonces + SHARDS - 1) / SHARDS;
	if (RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1)
		t->seed = 0xcbf29ce484222325ull;
	for (unsigned s = 0; s < SHARDS; s++) {
		struct shard *sh = &t->shards[s];
		pthread_mutex_init(&sh->lock, NULL);
		sh->nbuckets = 16;
		sh->tab = calloc(sh->nbuckets, sizeof(*sh->tab));
		if (!sh->tab) {
			for (unsigned k = s + 1; k < SHARDS; k++)
				pthread_mutex_init(&t->shards[k].lock, NULL);
			mem_destroy(t);
			return SW_ENOMEM;
		}
	}
	out->ops = &mem_ops;
	out->self = t;
	return 0;
}

size_t sw_nc_memory_count(const struct sw_nc_tracker *tr)
{
	struct memtrack *t = tr->self;
	size_t n = 0;
	for (unsigned s = 0; s < SHARDS; s++) {
		pthread_mutex_lock(&t->shards[s].lock);
		n += t->shards[s].count;
		pthread_mutex_unlock(&t->shards[s].lock);
	}
	return n;
}
