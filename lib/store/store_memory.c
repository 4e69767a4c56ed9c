/* The in-memory backend ("memory:"): the semantics of the sqlite backend
 * without a file, for tests and for trying things out. One mutex guards
 * everything; writes apply at once and completions run in the caller's
 * thread before the submitting call returns. Subscribers are kept sorted by
 * (domain, user) for binary search; bindings are a plain array. Events
 * (store_memory_events.c) and bans (store_memory_bans.c) have their own
 * state and lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/store_int.h"

#define CHANGES_MAX 100000u

struct change {
	uint64_t seq;
	char user[SW_STORE_USER_MAX + 1];
	char domain[SW_STORE_DOMAIN_MAX + 1];
};

struct mem {
	struct sw_store base;
	pthread_mutex_t lock;
	struct sw_subscriber **users;          /* sorted by (domain, user) */
	size_t nusers, capusers;
	struct change *changes;                /* ring of the last CHANGES_MAX */
	size_t nchanges, capchanges, headchange;
	uint64_t version;
	struct sw_binding *bindings;
	size_t nbindings, capbindings;
	struct sw_store_stats stats;
	struct sw__mem_events *events;         /* store_memory_events.c */
	struct sw__mem_bans *bans;             /* store_memory_bans.c */
};

static struct mem *M(struct sw_store *st) { return (struct mem *)st; }

struct sw__mem_bans *sw__mem_bans_of(struct sw_store *st) { return M(st)->bans; }
struct sw__mem_events *sw__mem_events_of(struct sw_store *st) { return M(st)->events; }

int sw__mem_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * elem);
	if (!p)
		return SW_ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* ---- subscribers --------------------------------------------------------- */

static int keycmp(const char *u1, const char *d1, const char *u2, const char *d2)
{
	int c = strcmp(d1, d2);
	return c ? c : strcmp(u1, u2);
}

/* Index of (user, domain), or of where it would go (*found false). */
static size_t find_user(struct mem *m, const char *user, const char *domain, bool *found)
{
	size_t lo = 0, hi = m->nusers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = keycmp(m->users[mid]->user, m->users[mid]->domain, user, domain);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void note_change(struct mem *m, const char *user, const char *domain)
{
	struct change *c;
	m->version++;
	if (m->nchanges < CHANGES_MAX) {
		if (sw__mem_grow((void **)&m->changes, &m->capchanges, m->nchanges + 1,
			 sizeof(*m->changes))) {
			m->headchange = 0;      /* forget the log: readers drop caches */
			m->nchanges = 0;
			return;
		}
		c = &m->changes[m->nchanges++];
	} else {
		c = &m->changes[m->headchange];
		m->headchange = (m->headchange + 1) % CHANGES_MAX;
	}
	c->seq = m->version;
	sw__store_copy(c->user, sizeof(c->user), user);
	sw__store_copy(c->domain, sizeof(c->domain), domain);
}

static int mem_user_get(struct sw_store *st, const char *user, const char *domain,
			struct sw_subscriber *out)
{
	struct mem *m = M(st);
	bool found;
	pthread_mutex_lock(&m->lock);
	size_t i = find_user(m, user, domain, &found);
	if (found)
		*out = *m->users[i];
	pthread_mutex_unlock(&m->lock);
	return found ? 0 : SW_ENOTFOUND;
}

static int mem_user_get_by_userhash(struct sw_store *st, enum sw_digest_hash h,
				    const char *userhash, const char *domain,
				    struct sw_subscriber *out)
{
	struct mem *m = M(st);
	int err = SW_ENOTFOUND;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nusers; i++) {
		if (!strcmp(m->users[i]->domain, domain) &&
		    !strcmp(m->users[i]->cred.userhash[h], userhash)) {
			*out = *m->users[i];
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* Inserts s at index i (found false from find_user); room was reserved.
 * Lock held. */
static void insert_user(struct mem *m, size_t i, struct sw_subscriber *s, const char *user,
			const char *domain, const struct sw_credentials *cred, bool disabled,
			int64_t now)
{
	sw__store_copy(s->user, sizeof(s->user), user);
	sw__store_copy(s->domain, sizeof(s->domain), domain);
	s->cred = *cred;
	s->disabled = disabled;
	s->created = s->changed = now;
	memmove(&m->users[i + 1], &m->users[i], (m->nusers - i) * sizeof(*m->users));
	m->users[i] = s;
	m->nusers++;
	note_change(m, user, domain);
}

static int mem_user_add(struct sw_store *st, const char *user, const char *domain,
			const struct sw_credentials *cred, bool disabled, int64_t now)
{
	struct mem *m = M(st);
	bool found;
	pthread_mutex_lock(&m->lock);
	size_t i = find_user(m, user, domain, &found);
	struct sw_subscriber *s = found ? NULL : calloc(1, sizeof(*s));
	int err = found ? SW_STORE_EEXIST : 0;
	if (!found && (!s || sw__mem_grow((void **)&m->users, &m->capusers, m->nusers + 1,
				  sizeof(*m->users)))) {
		free(s);
		err = SW_ENOMEM;
	} else if (!found) {
		insert_user(m, i, s, user, domain, cred, disabled, now);
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

static int mem_user_set_credentials(struct sw_store *st, const char *user, const char *domain,
				    const struct sw_credentials *cred, int64_t now)
{
	struct mem *m = M(st);
	bool found;
	pthread_mutex_lock(&m->lock);
	size_t i = find_user(m, user, domain, &found);
	if (found) {
		m->users[i]->cred = *cred;
		m->users[i]->changed = now;
		note_change(m, user, domain);
	}
	pthread_mutex_unlock(&m->lock);
	return found ? 0 : SW_ENOTFOUND;
}

static int mem_user_set_disabled(struct sw_store *st, const char *user, const char *domain,
				 bool disabled, int64_t now)
{
	struct mem *m = M(st);
	bool found;
	pthread_mutex_lock(&m->lock);
	size_t i = find_user(m, user, domain, &found);
	if (found) {
		m->users[i]->disabled = disabled;
		m->users[i]->changed = now;
		note_change(m, user, domain);
	}
	pthread_mutex_unlock(&m->lock);
	return found ? 0 : SW_ENOTFOUND;
}

static int mem_user_del(struct sw_store *st, const char *user, const char *domain)
{
	struct mem *m = M(st);
	bool found;
	pthread_mutex_lock(&m->lock);
	size_t i = find_user(m, user, domain, &found);
	if (found) {
		free(m->users[i]);
		memmove(&m->users[i], &m->users[i + 1], (m->nusers - i - 1) * sizeof(*m->users));
		m->nusers--;
		note_change(m, user, domain);
	}
	pthread_mutex_unlock(&m->lock);
	return found ? 0 : SW_ENOTFOUND;
}

static int mem_user_list(struct sw_store *st, sw_store_user_fn fn, void *arg)
{
	struct mem *m = M(st);
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nusers && !rc; i++)
		rc = fn(arg, m->users[i]);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int mem_user_import(struct sw_store *st, const struct sw_user_import *rows, size_t n,
			   int64_t now, size_t *added, size_t *updated)
{
	struct mem *m = M(st);
	/* All or nothing: allocate everything first; nothing after can fail. */
	struct sw_subscriber **fresh = n ? calloc(n, sizeof(*fresh)) : NULL;
	size_t nu = 0, na = 0;
	int err = n && !fresh ? SW_ENOMEM : 0;
	for (size_t r = 0; r < n && !err; r++)
		if (!(fresh[r] = calloc(1, sizeof(**fresh))))
			err = SW_ENOMEM;
	pthread_mutex_lock(&m->lock);
	if (!err)
		err = sw__mem_grow((void **)&m->users, &m->capusers, m->nusers + n, sizeof(*m->users));
	for (size_t r = 0; r < n && !err; r++) {
		bool found;
		size_t i = find_user(m, rows[r].user, rows[r].domain, &found);
		if (found) {
			m->users[i]->cred = rows[r].cred;
			m->users[i]->changed = now;
			note_change(m, rows[r].user, rows[r].domain);
			nu++;
		} else {
			insert_user(m, i, fresh[r], rows[r].user, rows[r].domain, &rows[r].cred,
				    false, now);
			fresh[r] = NULL;
			na++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t r = 0; fresh && r < n; r++)
		free(fresh[r]);
	free(fresh);
	if (!err) {
		*added = na;
		*updated = nu;
	}
	return err;
}

static int mem_user_version(struct sw_store *st, uint64_t *out)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	*out = m->version;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int mem_user_count(struct sw_store *st, uint64_t *out)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	*out = m->nusers;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int mem_user_changes(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			    void *arg, uint64_t *now_version, bool *all)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	uint64_t oldest = m->nchanges ? m->changes[m->headchange].seq : m->version + 1;
	bool a = since < m->version && since + 1 < oldest;
	if (!a)
		for (size_t k = 0; k < m->nchanges; k++) {
			const struct change *c = &m->changes[(m->headchange + k) % m->nchanges];
			if (c->seq > since)
				fn(arg, c->user, c->domain);
		}
	*now_version = m->version;
	*all = a;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* ---- bindings ------------------------------------------------------------ */

static long find_binding(struct mem *m, const char *aor, const char *contact)
{
	for (size_t i = 0; i < m->nbindings; i++)
		if (!strcmp(m->bindings[i].aor, aor) && !strcmp(m->bindings[i].contact, contact))
			return (long)i;
	return -1;
}

static void remove_binding(struct mem *m, size_t i)
{
	m->bindings[i] = m->bindings[--m->nbindings];
}

static size_t del_aor(struct mem *m, const char *aor)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nbindings;) {
		if (!strcmp(m->bindings[i].aor, aor)) {
			remove_binding(m, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static int mem_bindings_submit(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			       sw_store_done_fn done, void *arg)
{
	struct mem *m = M(st);
	size_t puts = 0;
	for (size_t i = 0; i < n; i++)
		puts += ops[i].kind == SW_BINDING_PUT;
	pthread_mutex_lock(&m->lock);
	/* reserve first: the ops then cannot fail halfway (all or none) */
	int err = sw__mem_grow((void **)&m->bindings, &m->capbindings, m->nbindings + puts,
		       sizeof(*m->bindings));
	for (size_t i = 0; i < n && !err; i++) {
		const struct sw_binding *b = &ops[i].b;
		long k;
		switch (ops[i].kind) {
		case SW_BINDING_PUT:
			k = find_binding(m, b->aor, b->contact);
			if (k < 0)
				k = (long)m->nbindings++;
			m->bindings[k] = *b;
			break;
		case SW_BINDING_DEL:
			k = find_binding(m, b->aor, b->contact);
			if (k >= 0)
				remove_binding(m, (size_t)k);
			break;
		case SW_BINDING_DEL_AOR:
			del_aor(m, b->aor);
			break;
		}
	}
	m->stats.commits++;
	m->stats.jobs++;
	pthread_mutex_unlock(&m->lock);
	if (done)
		done(arg, err);
	return 0;
}

static int mem_binding_del(struct sw_store *st, const char *aor, const char *contact)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	long k = find_binding(m, aor, contact);
	if (k >= 0)
		remove_binding(m, (size_t)k);
	pthread_mutex_unlock(&m->lock);
	return k >= 0 ? 0 : SW_ENOTFOUND;
}

static int mem_binding_del_aor(struct sw_store *st, const char *aor, size_t *count)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	*count = del_aor(m, aor);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int bindcmp(const void *a, const void *b)
{
	const struct sw_binding *x = *(const struct sw_binding *const *)a;
	const struct sw_binding *y = *(const struct sw_binding *const *)b;
	int c = strcmp(x->aor, y->aor);
	if (c)
		return c;
	if (x->q != y->q)
		return x->q > y->q ? -1 : 1;
	return strcmp(x->contact, y->contact);
}

static int mem_binding_list(struct sw_store *st, const char *aor, int64_t now,
			    sw_store_binding_fn fn, void *arg)
{
	struct mem *m = M(st);
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	const struct sw_binding **v = m->nbindings ? malloc(m->nbindings * sizeof(*v)) : NULL;
	size_t n = 0;
	if (m->nbindings && !v) {
		rc = SW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->nbindings; i++) {
		const struct sw_binding *b = &m->bindings[i];
		if ((!aor || !strcmp(b->aor, aor)) && (now == 0 || b->expires > now))
			v[n++] = b;
	}
	if (n)
		qsort(v, n, sizeof(*v), bindcmp);
	for (size_t i = 0; i < n && !rc; i++)
		rc = fn(arg, v[i]);
out:
	free(v);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int mem_binding_expire(struct sw_store *st, int64_t now, size_t *count)
{
	struct mem *m = M(st);
	size_t n = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nbindings;) {
		if (m->bindings[i].expires <= now) {
			remove_binding(m, i);
			n++;
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	*count = n;
	return 0;
}

static int mem_nc_tracker(struct sw_store *st, struct sw_nc_tracker *out)
{
	(void)st;
	return sw_nc_memory_new(out, 0);
}

/* ---- life ---------------------------------------------------------------- */

static int mem_flush(struct sw_store *st)
{
	(void)st;
	return 0;
}

static void mem_stats(struct sw_store *st, struct sw_store_stats *out)
{
	struct mem *m = M(st);
	pthread_mutex_lock(&m->lock);
	*out = m->stats;
	pthread_mutex_unlock(&m->lock);
	out->events_dropped = sw__mem_events_dropped(m->events);
}

static void mem_close(struct sw_store *st)
{
	struct mem *m = M(st);
	for (size_t i = 0; i < m->nusers; i++)
		free(m->users[i]);
	free(m->users);
	free(m->changes);
	free(m->bindings);
	sw__mem_events_free(m->events);
	sw__mem_bans_free(m->bans);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct sw_store_vt memory_vt = {
	.kind = "memory",
	.close = mem_close,
	.stats = mem_stats,
	.user_get = mem_user_get,
	.user_get_by_userhash = mem_user_get_by_userhash,
	.user_add = mem_user_add,
	.user_set_credentials = mem_user_set_credentials,
	.user_set_disabled = mem_user_set_disabled,
	.user_del = mem_user_del,
	.user_list = mem_user_list,
	.user_import = mem_user_import,
	.user_version = mem_user_version,
	.user_count = mem_user_count,
	.user_changes = mem_user_changes,
	.bindings_submit = mem_bindings_submit,
	.binding_del = mem_binding_del,
	.binding_del_aor = mem_binding_del_aor,
	.binding_list = mem_binding_list,
	.binding_expire = mem_binding_expire,
	.nc_tracker = mem_nc_tracker,
	.event_record = sw__mem_event_record,
	.flush = mem_flush,
	.event_query = sw__mem_event_query,
	.event_prune = sw__mem_event_prune,
	.bans_put = sw__mem_bans_put,
	.ban_del = sw__mem_ban_del,
	.ban_list = sw__mem_ban_list,
	.ban_prune = sw__mem_ban_prune,
	.ban_version = sw__mem_ban_version,
};

int sw__store_memory_open(struct sw_store **out, const struct sw_store_opts *opts)
{
	struct mem *m = calloc(1, sizeof(*m));
	if (!m)
		return SW_ENOMEM;
	m->base.vt = &memory_vt;
	m->base.opts = *opts;
	if (sw__mem_bans_new(&m->bans) || sw__mem_events_new(&m->events, opts)) {
		sw__mem_bans_free(m->bans);
		free(m);
		return SW_ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	*out = &m->base;
	return 0;
}
