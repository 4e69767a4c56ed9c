/* The bans and the store. One thread (the server's housekeeping) calls
 * sw_ban_sync() several times a second: the bans the limits started here
 * are written; when the store's ban version moved for another reason
 * (`sipwarden ban add/del` from another process), every ban is read again,
 * and those deleted there are dropped here. Knowing which writes were our
 * own is exact: the store reads the version before and after our write
 * inside its transaction. */
#include <stdlib.h>
#include <string.h>
#include "ban/ban_int.h"

#define SYNC_BATCH 256u    /* bans written per call */
#define FORGET_EVERY 60    /* seconds between passes over ended bans */

/* Calls fn on every held entry, under the lock of its list; fn returns
 * true to drop the entry. */
static void walk(struct sw_ban *b, bool (*fn)(struct sw_ban *b, struct entry *e, void *arg), void *arg)
{
	for (unsigned i = 0; i <= BAN_SHARDS; i++) {
		pthread_mutex_t *lock = i < BAN_SHARDS ? &b->shards[i].lock : &b->nets_lock;
		pthread_mutex_lock(lock);
		for (unsigned k = 0; k < (i < BAN_SHARDS ? BAN_BUCKETS : 1); k++) {
			struct entry **pe = i < BAN_SHARDS ? &b->shards[i].bans[k] : &b->nets;
			while (*pe) {
				if (fn(b, *pe, arg))
					sw__ban_unlink(b, pe);
				else
					pe = &(*pe)->next;
			}
		}
		pthread_mutex_unlock(lock);
	}
}

struct batch {
	struct sw_ban_record *recs;
	size_t n;
};

static bool take_dirty(struct sw_ban *b, struct entry *e, void *arg)
{
	struct batch *t = arg;
	if (e->dirty && t->n < SYNC_BATCH) {
		t->recs[t->n++] = e->rec;
		e->dirty = false;
		atomic_fetch_sub(&b->ndirty, 1);
	}
	return false;
}

/* After a failed write: those records are still to be written. */
static bool redirty(struct sw_ban *b, struct entry *e, void *arg)
{
	struct batch *t = arg;
	for (size_t i = 0; i < t->n && !e->dirty; i++) {
		if (!strcmp(t->recs[i].addr, e->rec.addr) && t->recs[i].prefix == e->rec.prefix &&
		    !strcmp(t->recs[i].user, e->rec.user)) {
			e->dirty = true;
			atomic_fetch_add(&b->ndirty, 1);
		}
	}
	return false;
}

static bool unseen(struct sw_ban *b, struct entry *e, void *arg)
{
	(void)arg;
	return !e->dirty && e->gen != b->gen;
}

static bool long_ended(struct sw_ban *b, struct entry *e, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	return !e->dirty && e->rec.until && e->rec.until + (int64_t)sw__ban_cfg(b)->ban_max_time < now;
}

/* One record of the store into memory (a reload). */
static int upsert(void *arg, const struct sw_ban_record *r)
{
	struct sw_ban *b = arg;
	struct sw_prefix net;
	if (sw_prefix_from_record(r, &net))
		return 0; /* not ours to judge: the store validated it */
	uint32_t uh = r->user[0] ? sw__ban_user_hash(r->user, strlen(r->user)) : 0;
	pthread_mutex_t *lock;
	struct entry **list = sw__ban_list(b, &net, &lock);
	pthread_mutex_lock(lock);
	struct entry *e = sw__ban_find(*list, &net, uh, r->user);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !sw__ban_link(b, list, e)) {
			free(e);
			atomic_fetch_add(&b->refused_bans, 1);
			pthread_mutex_unlock(lock);
			return 0;
		}
		e->net = net;
		e->user = uh;
	}
	if (!e->dirty) {
		if (e->rec.created != r->created || e->rec.until != r->until)
			e->logged = 0; /* another ban: its first refusal is logged */
		e->rec = *r;
	}
	e->gen = b->gen;
	pthread_mutex_unlock(lock);
	return 0;
}

static int write_dirty(struct sw_ban *b, struct sw_store *st)
{
	struct batch t = { malloc(SYNC_BATCH * sizeof(*t.recs)), 0 };
	if (!t.recs)
		return SW_ENOMEM;
	walk(b, take_dirty, &t);
	uint64_t before, after;
	int err = t.n ? sw_store_bans_put(st, t.recs, t.n, &before, &after) : 0;
	if (err)
		walk(b, redirty, &t);
	else if (t.n && b->loaded && before == b->version)
		b->version = after; /* only our own write since we last looked */
	free(t.recs);
	return err;
}

int sw_ban_sync(struct sw_ban *b, struct sw_store *st, int64_t now)
{
	int err = 0;
	if (atomic_load(&b->ndirty))
		err = write_dirty(b, st);
	uint64_t v = 0;
	if (!err)
		err = sw_store_ban_version(st, &v);
	if (!err && (!b->loaded || v != b->version)) {
		b->gen++;
		err = sw_store_ban_list(st, 0, upsert, b);
		if (!err) {
			walk(b, unseen, NULL);
			b->version = v;
			b->loaded = true;
		}
	}
	if (!err && now - b->forgot >= FORGET_EVERY) {
		b->forgot = now;
		walk(b, long_ended, &now);
		err = sw_store_ban_prune(st, now - (int64_t)sw__ban_cfg(b)->ban_max_time, NULL);
	}
	return err;
}
