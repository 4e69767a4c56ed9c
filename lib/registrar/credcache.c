/* The credential cache in front of the store: subscriber -> HA1 per hash and
 * the disabled flag, including "no such user" so that unknown users cost no
 * more than known ones. Sharded by name; invalidated from the store's change
 * log about once a second (sw_credcache_refresh), so `sipwarden user` edits
 * made by another process take effect within a second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "reg_int.h"

#define SHARDS 32u
#define BUCKETS 4096u          /* per shard */
#define MAX_ENTRIES 2000000u   /* beyond this the cache starts over */

struct centry {
	struct centry *next;
	uint64_t hash;
	bool found, disabled;
	struct sw_credentials cred;
	char user[SW_STORE_USER_MAX + 1];
	char domain[SW_STORE_DOMAIN_MAX + 1];
};

struct cshard {
	pthread_mutex_t lock;
	struct centry *bucket[BUCKETS];
	unsigned n;
};

struct sw_credcache {
	struct sw_store *st;
	struct cshard shard[SHARDS];
	uint64_t version;          /* the store's user version the cache reflects */
	bool primed;
	/* bumped by every invalidation: a store read that raced with one is
	 * answered but not remembered */
	_Atomic uint64_t generation;
};

static uint64_t hash2(const char *u, const char *d)
{
	uint64_t h = 1469598103934665603ull;
	for (; *u; u++)
		h = (h ^ (unsigned char)*u) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (; *d; d++)
		h = (h ^ (unsigned char)*d) * 1099511628211ull;
	return h;
}

int sw_credcache_new(struct sw_credcache **out, struct sw_store *st)
{
	struct sw_credcache *c = calloc(1, sizeof(*c));
	if (!c)
		return SW_ENOMEM;
	c->st = st;
	for (unsigned i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shard[i].lock, NULL);
	/* the version first: a change made after this is seen by the next refresh */
	c->primed = sw_store_user_version(st, &c->version) == 0;
	*out = c;
	return 0;
}

static void shard_clear(struct cshard *s)
{
	for (unsigned k = 0; k < BUCKETS; k++) {
		for (struct centry *e = s->bucket[k], *n; e; e = n) {
			n = e->next;
			free(e);
		}
		s->bucket[k] = NULL;
	}
	s->n = 0;
}

static void clear_all(struct sw_credcache *c)
{
	for (unsigned i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&c->shard[i].lock);
		shard_clear(&c->shard[i]);
		pthread_mutex_unlock(&c->shard[i].lock);
	}
}

void sw_credcache_free(struct sw_credcache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < SHARDS; i++) {
		shard_clear(&c->shard[i]);
		pthread_mutex_destroy(&c->shard[i].lock);
	}
	free(c);
}

int sw_credcache_get(struct sw_credcache *c, const char *user, const char *domain, bool *found,
		     bool *disabled, struct sw_credentials *cred)
{
	uint64_t h = hash2(user, domain);
	struct cshard *s = &c->shard[h % SHARDS];
	unsigned b = (unsigned)((h / SHARDS) % BUCKETS);
	pthread_mutex_lock(&s->lock);
	for (struct centry *e = s->bucket[b]; e; e = e->next)
		if (e->hash == h && !strcmp(e->user, user) && !strcmp(e->domain, domain)) {
			*found = e->found;
			*disabled = e->disabled;
			if (e->found)
				*cred = e->cred;
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
	pthread_mutex_unlock(&s->lock);

	/* a miss: read the store outside the lock, then remember the answer */
	uint64_t gen = c->generation;
	struct sw_subscriber sub;
	int rc = sw_store_user_get(c->st, user, domain, &sub);
	if (rc && rc != SW_ENOTFOUND)
		return rc;
	struct centry *e = calloc(1, sizeof(*e));
	if (!e)
		return SW_ENOMEM;
	e->hash = h;
	e->found = rc == 0;
	e->disabled = e->found && sub.disabled;
	if (e->found)
		e->cred = sub.cred;
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	*found = e->found;
	*disabled = e->disabled;
	if (e->found)
		*cred = e->cred;
	pthread_mutex_lock(&s->lock);
	if (gen != c->generation) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return 0;
	}
	if (s->n >= MAX_ENTRIES / SHARDS)
		shard_clear(s); /* bounded: many distinct unknown names start it over */
	e->next = s->bucket[b];
	s->bucket[b] = e;
	s->n++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void forget(void *arg, const char *user, const char *domain)
{
	struct sw_credcache *c = arg;
	uint64_t h = hash2(user, domain);
	struct cshard *s = &c->shard[h % SHARDS];
	unsigned b = (unsigned)((h / SHARDS) % BUCKETS);
	pthread_mutex_lock(&s->lock);
	for (struct centry **pe = &s->bucket[b]; *pe; pe = &(*pe)->next)
		if ((*pe)->hash == h && !strcmp((*pe)->user, user) && !strcmp((*pe)->domain, domain)) {
			struct centry *e = *pe;
			*pe = e->next;
			free(e);
			s->n--;
			break;
		}
	pthread_mutex_unlock(&s->lock);
}

void sw_credcache_refresh(struct sw_credcache *c)
{
	uint64_t v;
	if (sw_store_user_version(c->st, &v))
		return;
	if (c->primed && v == c->version)
		return;
	bool all = !c->primed;
	uint64_t now = v;
	c->generation++;
	if (c->primed && sw_store_user_changes(c->st, c->version, forget, c, &now, &all))
		all = true;
	if (all)
		clear_all(c);
	c->version = now;
	c->primed = true;
}
