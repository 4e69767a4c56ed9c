/* The ban table: defaults, creation, the bans held in memory (single
 * addresses in the shards, networks in a short list of their own), the
 * hot-path check and the start of a ban with its escalation. The limits
 * that decide a ban are in limits.c, the store exchange in sync.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ban/ban_int.h"

void sw_ban_cfg_default(struct sw_ban_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->reject = false;
	c->window = 600;
	c->user_failures = 10;
	c->distinct_users = 5;
	c->flood_window = 10;
	c->flood_requests = 200;
	c->known_for = 7200;
	c->ban_time = 600;
	c->ban_max_time = 7 * 86400;
	c->allow_replace = true;
}

int sw_ban_new(struct sw_ban **out, const struct sw_ban_cfg *cfg)
{
	struct sw_ban *b = calloc(1, sizeof(*b));
	if (!b)
		return SW_ENOMEM;
	b->shards = calloc(BAN_SHARDS, sizeof(*b->shards));
	if (!b->shards) {
		free(b);
		return SW_ENOMEM;
	}
	struct cfg_box *box = calloc(1, sizeof(*box));
	if (!box) {
		free(b->shards);
		free(b);
		return SW_ENOMEM;
	}
	box->cfg = *cfg;
	if (box->cfg.distinct_users > SW_BAN_USERS_MAX)
		box->cfg.distinct_users = SW_BAN_USERS_MAX;
	atomic_init(&b->cfg, box);
	pthread_mutex_init(&b->cfg_lock, NULL);
	for (unsigned i = 0; i < BAN_SHARDS; i++)
		pthread_mutex_init(&b->shards[i].lock, NULL);
	pthread_mutex_init(&b->nets_lock, NULL);
	*out = b;
	return 0;
}

static void free_list(struct entry *e)
{
	while (e) {
		struct entry *next = e->next;
		free(e);
		e = next;
	}
}

void sw_ban_free(struct sw_ban *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < BAN_SHARDS; i++) {
		for (unsigned k = 0; k < BAN_BUCKETS; k++)
			free_list(b->shards[i].bans[k]);
		pthread_mutex_destroy(&b->shards[i].lock);
	}
	free_list(b->nets);
	pthread_mutex_destroy(&b->nets_lock);
	for (struct cfg_box *box = atomic_load(&b->cfg), *older; box; box = older) {
		older = box->older;
		free(box);
	}
	pthread_mutex_destroy(&b->cfg_lock);
	free(b->shards);
	free(b);
}

int sw_ban_reconfigure(struct sw_ban *b, const struct sw_ban_cfg *cfg)
{
	struct cfg_box *box = calloc(1, sizeof(*box));
	if (!box)
		return SW_ENOMEM;
	box->cfg = *cfg;
	if (box->cfg.distinct_users > SW_BAN_USERS_MAX)
		box->cfg.distinct_users = SW_BAN_USERS_MAX;
	pthread_mutex_lock(&b->cfg_lock);
	box->older = atomic_load(&b->cfg);
	atomic_store_explicit(&b->cfg, box, memory_order_release);
	pthread_mutex_unlock(&b->cfg_lock);
	return 0;
}

/* ---- helpers shared by the files of lib/ban ------------------------------------ */

uint32_t sw__ban_hash(const void *p, size_t n, uint32_t h)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) /* FNV-1a */
		h = (h ^ c[i]) * 16777619u;
	return h;
}

uint32_t sw__ban_user_hash(const char *p, size_t n)
{
	uint32_t h = sw__ban_hash(p, n, 2166136261u);
	return h ? h : 1;
}

uint32_t sw__ban_addr_hash(const struct sw_prefix *a)
{
	uint32_t h = sw__ban_hash(a->addr, a->v6 ? 16 : 4, 2166136261u ^ a->v6);
	return h ^ (h >> 16);
}

struct shard *sw__ban_shard(struct sw_ban *b, const struct sw_prefix *a)
{
	return &b->shards[sw__ban_addr_hash(a) % BAN_SHARDS];
}

bool sw__ban_allowed(const struct sw_ban_cfg *c, const struct sw_prefix *a)
{
	for (unsigned i = 0; i < c->nallow; i++)
		if (sw_prefix_contains(&c->allow[i], a))
			return true;
	return false;
}

void sw__ban_unit(struct sw_prefix *a)
{
	if (a->v6 && a->bits > V6_UNIT) {
		memset(a->addr + V6_UNIT / 8, 0, 16 - V6_UNIT / 8);
		a->bits = V6_UNIT;
	}
}

bool sw__ban_active(const struct entry *e, int64_t now)
{
	return e->rec.until == 0 || e->rec.until > now;
}

/* A ban on one unit (an IPv4 address, an IPv6 /64) lives in the shards. */
static bool single(const struct sw_prefix *p) { return p->bits == (p->v6 ? V6_UNIT : 32); }

struct entry **sw__ban_list(struct sw_ban *b, const struct sw_prefix *net, pthread_mutex_t **lock)
{
	if (!single(net)) {
		*lock = &b->nets_lock;
		return &b->nets;
	}
	struct shard *s = sw__ban_shard(b, net);
	*lock = &s->lock;
	return &s->bans[(sw__ban_addr_hash(net) / BAN_SHARDS) % BAN_BUCKETS];
}

static bool same_net(const struct sw_prefix *x, const struct sw_prefix *y)
{
	return x->v6 == y->v6 && x->bits == y->bits && !memcmp(x->addr, y->addr, x->v6 ? 16 : 4);
}

struct entry *sw__ban_find(struct entry *list, const struct sw_prefix *net, uint32_t user, const char *name)
{
	for (struct entry *e = list; e; e = e->next)
		if (e->user == user && same_net(&e->net, net) && (!user || !strcmp(e->rec.user, name)))
			return e;
	return NULL;
}

bool sw__ban_link(struct sw_ban *b, struct entry **list, struct entry *e)
{
	if (atomic_fetch_add(&b->nbans, 1) >= SW_BAN_MAX) {
		atomic_fetch_sub(&b->nbans, 1);
		return false;
	}
	if (!single(&e->net))
		atomic_fetch_add(&b->nnets, 1);
	e->next = *list;
	*list = e;
	return true;
}

void sw__ban_unlink(struct sw_ban *b, struct entry **pe)
{
	struct entry *e = *pe;
	*pe = e->next;
	if (!single(&e->net))
		atomic_fetch_sub(&b->nnets, 1);
	if (e->dirty)
		atomic_fetch_sub(&b->ndirty, 1);
	atomic_fetch_sub(&b->nbans, 1);
	free(e);
}

void sw__ban_text(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

void sw__ban_duration(int64_t s, char *out, size_t cap)
{
	if (s >= 86400 && s % 86400 == 0)
		snprintf(out, cap, "%lldd", (long long)(s / 86400));
	else if (s >= 86400)
		snprintf(out, cap, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(out, cap, "%lldh", (long long)(s / 3600));
	else if (s >= 3600)
		snprintf(out, cap, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, cap, "%lldm", (long long)(s / 60));
	else if (s >= 60)
		snprintf(out, cap, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, cap, "%llds", (long long)s);
}

static void utc_time(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* ---- the hot path -------------------------------------------------------------- */

/* A request refused by e: count it, and say whether to log it. */
static void hit(struct entry *e, int64_t now, struct sw_ban_note *note)
{
	e->refused++;
	if (!note || (e->logged && now - e->logged < LOG_EVERY))
		return;
	char until[40] = "", who[SW_STORE_USER_MAX + 16] = "";
	if (e->rec.until)
		utc_time(e->rec.until, until, sizeof(until));
	if (e->user)
		sw__ban_text(who, sizeof(who), " (user %s)", e->rec.user);
	note->log = true;
	if (!e->logged)
		sw__ban_text(note->detail, sizeof(note->detail), "banned%s until %s: %s", who,
			 e->rec.until ? until : "deleted", e->rec.reason);
	else
		sw__ban_text(note->detail, sizeof(note->detail), "still banned%s until %s: %llu requests refused "
			 "in the last %llds", who, e->rec.until ? until : "deleted",
			 (unsigned long long)e->refused, (long long)(now - e->logged));
	e->logged = now;
	e->refused = 0;
}

enum sw_ban_verdict sw_ban_check(struct sw_ban *b, const struct sockaddr *source, const char *user,
				 int64_t now, struct sw_ban_note *note)
{
	struct sw_prefix a, u;
	if (note)
		note->log = false;
	if (atomic_load_explicit(&b->nbans, memory_order_relaxed) == 0)
		return SW_BAN_PASS;
	const struct sw_ban_cfg *c = sw__ban_cfg(b);
	if (!c->enabled || sw_prefix_from_sockaddr(source, &a) || sw__ban_allowed(c, &a))
		return SW_BAN_PASS;
	u = a;
	sw__ban_unit(&u);
	bool banned = false, need_user = false;
	if (atomic_load_explicit(&b->nnets, memory_order_relaxed)) {
		pthread_mutex_lock(&b->nets_lock);
		for (struct entry *e = b->nets; e && !banned; e = e->next) {
			if (sw__ban_active(e, now) && sw_prefix_contains(&e->net, &a) &&
			    (!e->user || (user && !strcmp(user, e->rec.user)))) {
				banned = true;
				hit(e, now, note);
			}
			need_user |= e->user && !user && sw__ban_active(e, now) && sw_prefix_contains(&e->net, &a);
		}
		pthread_mutex_unlock(&b->nets_lock);
	}
	pthread_mutex_t *lock;
	struct entry **list = sw__ban_list(b, &u, &lock);
	pthread_mutex_lock(lock);
	for (struct entry *e = *list; e && !banned; e = e->next) {
		if (!sw__ban_active(e, now) || !same_net(&e->net, &u))
			continue;
		if (!e->user || (user && !strcmp(user, e->rec.user))) {
			banned = true;
			hit(e, now, note);
		}
		need_user |= e->user && !user;
	}
	pthread_mutex_unlock(lock);
	if (!banned)
		return need_user ? SW_BAN_NEED_USER : SW_BAN_PASS;
	if (c->reject) {
		atomic_fetch_add_explicit(&b->rejected, 1, memory_order_relaxed);
		return SW_BAN_REJECT;
	}
	atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
	return SW_BAN_DROP;
}

/* ---- starting a ban --------------------------------------------------------------- */

bool sw__ban_start(struct sw_ban *b, const struct sw_prefix *net, const char *user, const char *reason,
		   int64_t now, struct sw_ban_note *note)
{
	uint32_t uh = user ? sw__ban_user_hash(user, strlen(user)) : 0;
	const struct sw_ban_cfg *c = sw__ban_cfg(b);
	pthread_mutex_t *lock;
	struct entry **list = sw__ban_list(b, net, &lock);
	pthread_mutex_lock(lock);
	struct entry *e = sw__ban_find(*list, net, uh, user);
	if (e && sw__ban_active(e, now)) {
		pthread_mutex_unlock(lock);
		return false;
	}
	/* a repeat offender: twice the last ban, up to the cap */
	uint32_t level = e && e->rec.until + (int64_t)c->ban_max_time > now ? e->rec.level + 1 : 0;
	int64_t len = c->ban_time;
	for (uint32_t i = 0; i < level && len < c->ban_max_time; i++)
		len *= 2;
	if (len > c->ban_max_time)
		len = c->ban_max_time;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !sw__ban_link(b, list, e)) {
			free(e);
			pthread_mutex_unlock(lock);
			atomic_fetch_add(&b->refused_bans, 1);
			return false;
		}
		e->net = *net;
		e->user = uh;
		sw_prefix_addr_text(net, e->rec.addr, sizeof(e->rec.addr));
		e->rec.prefix = net->bits;
		if (user)
			sw__ban_text(e->rec.user, sizeof(e->rec.user), "%s", user);
	}
	e->rec.created = now;
	e->rec.until = now + len;
	e->rec.level = level;
	sw__ban_text(e->rec.reason, sizeof(e->rec.reason), "%s", reason);
	e->logged = now;
	e->refused = 0;
	if (!e->dirty)
		atomic_fetch_add(&b->ndirty, 1);
	e->dirty = true;
	pthread_mutex_unlock(lock);
	atomic_fetch_add(&b->started, 1);
	char d[32], until[40];
	sw__ban_duration(len, d, sizeof(d));
	utc_time(now + len, until, sizeof(until));
	note->log = true;
	sw__ban_text(note->detail, sizeof(note->detail), "%s; banned for %s until %s (ban %u)", reason, d, until,
		 level + 1);
	return true;
}

void sw_ban_stats(struct sw_ban *b, int64_t now, struct sw_ban_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->bans_started = atomic_load(&b->started);
	out->dropped = atomic_load(&b->dropped);
	out->rejected = atomic_load(&b->rejected);
	out->bans_refused = atomic_load(&b->refused_bans);
	pthread_mutex_lock(&b->nets_lock);
	for (struct entry *e = b->nets; e; e = e->next)
		out->active += sw__ban_active(e, now);
	pthread_mutex_unlock(&b->nets_lock);
	for (unsigned i = 0; i < BAN_SHARDS; i++) {
		pthread_mutex_lock(&b->shards[i].lock);
		for (unsigned k = 0; k < BAN_BUCKETS; k++)
			for (struct entry *e = b->shards[i].bans[k]; e; e = e->next)
				out->active += sw__ban_active(e, now);
		pthread_mutex_unlock(&b->shards[i].lock);
	}
}
