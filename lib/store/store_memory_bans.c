/* The memory backend's bans: a plain array under a lock of its own, kept
 * sorted by (addr, prefix, user) like the sqlite listing, and a version
 * that counts every change. */
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"

struct sw__mem_bans {
	pthread_mutex_t lock;
	struct sw_ban_record *recs;
	size_t n, cap;
	uint64_t version;
};

int sw__mem_bans_new(struct sw__mem_bans **out)
{
	struct sw__mem_bans *b = calloc(1, sizeof(*b));
	if (!b)
		return SW_ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	*out = b;
	return 0;
}

void sw__mem_bans_free(struct sw__mem_bans *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->recs);
	free(b);
}

static int keycmp(const char *addr, unsigned prefix, const char *user, const struct sw_ban_record *r)
{
	int c = strcmp(addr, r->addr);
	if (!c)
		c = (int)prefix - (int)r->prefix;
	return c ? c : strcmp(user, r->user);
}

/* Index of the key, or where it would go (*found false). */
static size_t find(const struct sw__mem_bans *b, const char *addr, unsigned prefix, const char *user,
		   bool *found)
{
	size_t lo = 0, hi = b->n;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = keycmp(addr, prefix, user, &b->recs[mid]);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int sw__mem_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		     uint64_t *v_before, uint64_t *v_after)
{
	struct sw__mem_bans *b = sw__mem_bans_of(st);
	int err = 0;
	pthread_mutex_lock(&b->lock);
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16;
		while (cap < b->n + n)
			cap *= 2;
		struct sw_ban_record *p = realloc(b->recs, cap * sizeof(*p));
		if (!p) {
			err = SW_ENOMEM;
			goto out;
		}
		b->recs = p;
		b->cap = cap;
	}
	*v_before = b->version;
	for (size_t i = 0; i < n; i++) {
		bool found;
		size_t at = find(b, recs[i].addr, recs[i].prefix, recs[i].user, &found);
		if (!found) {
			memmove(&b->recs[at + 1], &b->recs[at], (b->n - at) * sizeof(b->recs[0]));
			b->n++;
		}
		b->recs[at] = recs[i];
		b->version++;
	}
	*v_after = b->version;
out:
	pthread_mutex_unlock(&b->lock);
	return err;
}

/* Removes the records for which drop() says so; returns how many. */
static size_t remove_if(struct sw__mem_bans *b, bool (*drop)(const struct sw_ban_record *r, const void *arg),
			const void *arg)
{
	size_t kept = 0, n = b->n;
	for (size_t i = 0; i < n; i++)
		if (!drop(&b->recs[i], arg))
			b->recs[kept++] = b->recs[i];
	b->n = kept;
	b->version += n - kept;
	return n - kept;
}

struct net {
	const char *addr;
	unsigned prefix;
};

static bool same_net(const struct sw_ban_record *r, const void *arg)
{
	const struct net *k = arg;
	return r->prefix == k->prefix && !strcmp(r->addr, k->addr);
}

static bool ended_before(const struct sw_ban_record *r, const void *arg)
{
	return r->until && r->until < *(const int64_t *)arg;
}

int sw__mem_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count)
{
	struct sw__mem_bans *b = sw__mem_bans_of(st);
	struct net k = { addr, prefix };
	pthread_mutex_lock(&b->lock);
	*count = remove_if(b, same_net, &k);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int sw__mem_ban_prune(struct sw_store *st, int64_t before, size_t *count)
{
	struct sw__mem_bans *b = sw__mem_bans_of(st);
	pthread_mutex_lock(&b->lock);
	*count = remove_if(b, ended_before, &before);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int sw__mem_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg)
{
	struct sw__mem_bans *b = sw__mem_bans_of(st);
	int err = 0;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n && !err; i++)
		if (!now || !b->recs[i].until || b->recs[i].until > now)
			err = fn(arg, &b->recs[i]);
	pthread_mutex_unlock(&b->lock);
	return err;
}

int sw__mem_ban_version(struct sw_store *st, uint64_t *out)
{
	struct sw__mem_bans *b = sw__mem_bans_of(st);
	pthread_mutex_lock(&b->lock);
	*out = b->version;
	pthread_mutex_unlock(&b->lock);
	return 0;
}
