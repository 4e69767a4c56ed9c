/* The credential cache in front of the store: subscriber -> HA1 per hash and
 * the disabled flag, including "no such user" so that unknown users cost no
 * more than known ones. Sharded by name; invalidated from the store's change
 * log about once a second (sw_credcache_refresh), so `sipwarden user` edits
 * made by another process take effect within a second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include "reg_int.h"

#define SHARDS 32u
#define BUCKETS_MIN 256u       /* per shard, at start; doubled past two entries per bucket */
#define MAX_ENTRIES 2000000u   /* beyond this the cache starts over */

/* One allocation per name: the HA1 of each hash asked for so far, in
 * binary, then the user name, then the domain unless it is one of the few
 * known ones (held once in the cache's domain table) — 48 bytes with MD5
 * alone, so a million subscribers take ~48 MB, not the ~1 GB of all-hex
 * records. An unknown name stores no HA1 and its domain inline. */
struct centry {
	struct centry *next;
	bool found, disabled;
	uint8_t mask;              /* which hashes are held (1 << h) */
	uint8_t dom;               /* 1 + index in the domain table, or 0: inline */
	uint8_t ulen;              /* strlen(user) (at most SW_STORE_USER_MAX) */
	unsigned char ha1[];       /* the held HA1s in hash order, then the names */
};
#define ENTRY_HEAD offsetof(struct centry, ha1)

static const unsigned ha1_len[SW_HASH__COUNT] = { 16, 32, 32 };

static unsigned held_bytes(uint8_t mask, unsigned upto)
{
	unsigned n = 0;
	for (unsigned k = 0; k < upto; k++)
		if (mask & (1u << k))
			n += ha1_len[k];
	return n;
}

static const char *entry_name(const struct centry *e)
{
	return (const char *)e->ha1 + held_bytes(e->mask, SW_HASH__COUNT);
}

/* dom: the domain's table slot (1 + index) or 0 when it has none */
static bool entry_is(const struct centry *e, const char *user, size_t ulen, const char *domain, unsigned dom)
{
	const char *n = entry_name(e);
	if (e->ulen != ulen || memcmp(n, user, ulen))
		return false;
	return e->dom ? e->dom == dom : !strcmp(n + ulen + 1, domain);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lower-case hex of the right length only: anything else is not cached, so
 * the verifier sees exactly what the store holds. */
static bool pack_ha1(unsigned char *dst, const char *hex, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int hi = unhex(hex[2 * i]), lo = hi < 0 ? -1 : unhex(hex[2 * i + 1]);
		if (lo < 0)
			return false;
		dst[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * n] == '\0';
}

static void unpack_ha1(char *hex, const unsigned char *src, unsigned n)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[src[i] >> 4];
		hex[2 * i + 1] = digits[src[i] & 15];
	}
	hex[2 * n] = '\0';
}

struct cshard {
	pthread_mutex_t lock;
	struct centry **bucket;
	size_t nbuckets;           /* a power of two */
	unsigned n;
};

#define DOMAINS_MAX 64u

struct sw_credcache {
	struct sw_store *st;
	/* the domains of known subscribers, each held once: append-only,
	 * published by the count (release/acquire) */
	pthread_mutex_t dlock;
	char *domains[DOMAINS_MAX];
	_Atomic unsigned ndomains;
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
	pthread_mutex_init(&c->dlock, NULL);
	for (unsigned i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shard[i].lock, NULL);
	for (unsigned i = 0; i < SHARDS; i++) {
		c->shard[i].nbuckets = BUCKETS_MIN;
		if (!(c->shard[i].bucket = calloc(BUCKETS_MIN, sizeof(struct centry *)))) {
			sw_credcache_free(c);
			return SW_ENOMEM;
		}
	}
	/* the version first: a change made after this is seen by the next refresh */
	c->primed = sw_store_user_version(st, &c->version) == 0;
	*out = c;
	return 0;
}

static unsigned domain_find(struct sw_credcache *c, const char *domain)
{
	unsigned n = atomic_load_explicit(&c->ndomains, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c->domains[i], domain))
			return i + 1;
	return 0;
}

/* The domain's slot, added when there is room; 0 when the table is full. */
static unsigned domain_intern(struct sw_credcache *c, const char *domain)
{
	unsigned d = domain_find(c, domain);
	if (d)
		return d;
	pthread_mutex_lock(&c->dlock);
	unsigned n = atomic_load_explicit(&c->ndomains, memory_order_relaxed);
	d = domain_find(c, domain);
	if (!d && n < DOMAINS_MAX && (c->domains[n] = strdup(domain))) {
		atomic_store_explicit(&c->ndomains, n + 1, memory_order_release);
		d = n + 1;
	}
	pthread_mutex_unlock(&c->dlock);
	return d;
}

static void shard_clear(struct cshard *s)
{
	for (size_t k = 0; s->bucket && k < s->nbuckets; k++) {
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
		free(c->shard[i].bucket);
		pthread_mutex_destroy(&c->shard[i].lock);
	}
	for (unsigned i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	pthread_mutex_destroy(&c->dlock);
	free(c);
}

/* The bucket of hash h in its shard (the shard's lock held). */
static struct centry **slot_of(struct cshard *s, uint64_t h)
{
	return &s->bucket[(h / SHARDS) & (s->nbuckets - 1)];
}

/* Doubles the buckets of a shard past two entries per bucket, so that a
 * lookup compares about one name however many subscribers there are; out
 * of memory, the chains just grow longer. */
static void grow(struct sw_credcache *c, struct cshard *s)
{
	if (s->n < 2 * s->nbuckets)
		return;
	size_t n = s->nbuckets * 2;
	struct centry **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t k = 0; k < s->nbuckets; k++)
		for (struct centry *e = s->bucket[k], *next; e; e = next) {
			next = e->next;
			const char *user = entry_name(e);
			const char *domain = e->dom ? c->domains[e->dom - 1] : user + e->ulen + 1;
			struct centry **slot = &nb[(hash2(user, domain) / SHARDS) & (n - 1)];
			e->next = *slot;
			*slot = e;
		}
	free(s->bucket);
	s->bucket = nb;
	s->nbuckets = n;
}

int sw_credcache_get(struct sw_credcache *c, const char *user, const char *domain, enum sw_digest_hash hh,
		     bool *found, bool *disabled, char *ha1)
{
	uint64_t h = hash2(user, domain);
	size_t ulen = strlen(user), dlen = strlen(domain);
	unsigned dom = domain_find(c, domain);
	struct cshard *s = &c->shard[h % SHARDS];
	uint8_t mask = (uint8_t)(1u << hh);
	pthread_mutex_lock(&s->lock);
	for (struct centry *e = *slot_of(s, h); e; e = e->next)
		if (entry_is(e, user, ulen, domain, dom)) {
			if (e->found && !(e->mask & mask)) {
				mask |= e->mask; /* another hash: re-read, keep both */
				break;
			}
			*found = e->found;
			*disabled = e->disabled;
			if (e->found)
				unpack_ha1(ha1, e->ha1 + held_bytes(e->mask, hh), ha1_len[hh]);
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
	*found = rc == 0;
	*disabled = *found && sub.disabled;
	if (*found)
		snprintf(ha1, SW_DIGEST_HEX_MAX + 1, "%s", sub.cred.ha1[hh]);
	if (ulen > UINT8_MAX)
		return 0;
	if (!*found)
		mask = 0;
	/* only a real subscriber's domain takes a table slot */
	unsigned edom = *found ? domain_intern(c, domain) : 0;
	size_t hsz = held_bytes(mask, SW_HASH__COUNT);
	struct centry *e = malloc(ENTRY_HEAD + hsz + ulen + 1 + (edom ? 0 : dlen + 1));
	if (!e)
		return 0; /* answered, just not remembered */
	e->next = NULL;
	e->found = *found;
	e->disabled = *disabled;
	e->mask = mask;
	e->dom = (uint8_t)edom;
	e->ulen = (uint8_t)ulen;
	for (unsigned k = 0; k < SW_HASH__COUNT; k++)
		if ((mask & (1u << k)) && !pack_ha1(e->ha1 + held_bytes(mask, k), sub.cred.ha1[k], ha1_len[k])) {
			free(e);
			return 0;
		}
	memcpy(e->ha1 + hsz, user, ulen + 1);
	if (!edom)
		memcpy(e->ha1 + hsz + ulen + 1, domain, dlen + 1);
	pthread_mutex_lock(&s->lock);
	if (gen != c->generation) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return 0;
	}
	for (struct centry **pe = slot_of(s, h); *pe; pe = &(*pe)->next)
		if (entry_is(*pe, user, ulen, domain, domain_find(c, domain))) { /* replaced: another hash, or a race */
			struct centry *old = *pe;
			*pe = old->next;
			free(old);
			s->n--;
			break;
		}
	if (s->n >= MAX_ENTRIES / SHARDS)
		shard_clear(s); /* bounded: many distinct unknown names start it over */
	grow(c, s);
	struct centry **slot = slot_of(s, h);
	e->next = *slot;
	*slot = e;
	s->n++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void forget(void *arg, const char *user, const char *domain)
{
	struct sw_credcache *c = arg;
	uint64_t h = hash2(user, domain);
	struct cshard *s = &c->shard[h % SHARDS];
	unsigned dom = domain_find(c, domain);
	pthread_mutex_lock(&s->lock);
	for (struct centry **pe = slot_of(s, h); *pe; pe = &(*pe)->next)
		if (entry_is(*pe, user, strlen(user), domain, dom)) {
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
