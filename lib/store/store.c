/* The store front: picks a backend from the spec, validates arguments once
 * for every backend (names, lengths, lower-case domains) and dispatches
 * through the backend's table. Also the credential computation and the
 * helpers that copy untrusted text into record fields. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"

const char *sw_store_strerror(int err)
{
	if (err == SW_STORE_EEXIST)
		return "already exists";
	return sw_strerror(err);
}

static const struct sw_store_opts defaults = {
	.events_max_rows = 100000,
	.events_max_age = 30u * 86400u,
	.events_max_pending = 65536,
	.batch_max = 1024,
	.events_linger_ms = 100,
};

int sw_store_open(struct sw_store **out, const char *spec, const struct sw_store_opts *opts)
{
	struct sw_store_opts o = opts ? *opts : (struct sw_store_opts){ 0 };
	if (!out || !spec)
		return SW_EINVAL;
	if (!o.events_max_rows)
		o.events_max_rows = defaults.events_max_rows;
	if (!o.events_max_age)
		o.events_max_age = defaults.events_max_age;
	if (!o.events_max_pending)
		o.events_max_pending = defaults.events_max_pending;
	if (!o.batch_max)
		o.batch_max = defaults.batch_max;
	if (!o.events_linger_ms)
		o.events_linger_ms = defaults.events_linger_ms;
	if (!strncmp(spec, "sqlite:", 7) && spec[7])
		return sw__store_sqlite_open(out, spec + 7, &o);
	if (!strcmp(spec, "memory:"))
		return sw__store_memory_open(out, &o);
	return SW_EINVAL;
}

void sw_store_close(struct sw_store *st)
{
	if (st)
		st->vt->close(st);
}

const char *sw_store_kind(const struct sw_store *st) { return st->vt->kind; }

void sw_store_stats(struct sw_store *st, struct sw_store_stats *out)
{
	*out = (struct sw_store_stats){ 0 };
	st->vt->stats(st, out);
}

void sw__store_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- names --------------------------------------------------------------- */

static int check_user(const char *user)
{
	if (!user || !*user)
		return SW_EINVAL;
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)user; *p; p++, n++)
		if (*p <= ' ' || *p == 0x7f || strchr("@:\"\\<>", *p))
			return SW_EINVAL;
	return n > SW_STORE_USER_MAX ? SW_ETOOBIG : 0;
}

/* Validates a domain (host name or IP literal) and writes it lower-cased. */
static int norm_domain(const char *domain, char out[SW_STORE_DOMAIN_MAX + 1])
{
	if (!domain || !*domain)
		return SW_EINVAL;
	size_t n = strlen(domain);
	if (n > SW_STORE_DOMAIN_MAX)
		return SW_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		char c = domain[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(".-_:[]", c)))
			return SW_EINVAL;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

static int check_key(const char *user, const char *domain, char d[SW_STORE_DOMAIN_MAX + 1])
{
	int err = check_user(user);
	return err ? err : norm_domain(domain, d);
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int check_cred(const struct sw_credentials *c)
{
	if (!c)
		return SW_EINVAL;
	for (unsigned h = 0; h < SW_HASH__COUNT; h++) {
		size_t len = sw_digest_hex_len((enum sw_digest_alg)h);
		if (!is_hex(c->ha1[h], len) || !is_hex(c->userhash[h], len))
			return SW_EINVAL;
	}
	return 0;
}

int sw_credentials_compute(struct sw_digest_ctx *dc, const char *user, const char *domain,
			   sw_str password, struct sw_credentials *out)
{
	struct sw_credentials c;
	sw_str u = sw_str_from(user, strlen(user)), r = sw_str_from(domain, strlen(domain));
	int err = 0;
	for (unsigned h = 0; h < SW_HASH__COUNT && !err; h++) {
		err = sw_digest_ha1(dc, (enum sw_digest_hash)h, u, r, password, c.ha1[h]);
		if (!err)
			err = sw_digest_userhash(dc, (enum sw_digest_hash)h, u, r, c.userhash[h]);
	}
	if (!err)
		*out = c;
	return err;
}

/* ---- subscribers --------------------------------------------------------- */

int sw_store_user_get(struct sw_store *st, const char *user, const char *domain,
		      struct sw_subscriber *out)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	int err = check_key(user, domain, d);
	if (err)
		return err == SW_EINVAL || err == SW_ETOOBIG ? SW_ENOTFOUND : err;
	return st->vt->user_get(st, user, d, out);
}

int sw_store_user_get_by_userhash(struct sw_store *st, enum sw_digest_hash h,
				  const char *userhash, const char *domain,
				  struct sw_subscriber *out)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	if ((unsigned)h >= SW_HASH__COUNT || !userhash || norm_domain(domain, d))
		return SW_EINVAL;
	if (!is_hex(userhash, sw_digest_hex_len((enum sw_digest_alg)h)))
		return SW_ENOTFOUND;
	return st->vt->user_get_by_userhash(st, h, userhash, d, out);
}

int sw_store_user_add(struct sw_store *st, const char *user, const char *domain,
		      const struct sw_credentials *cred, bool disabled, int64_t now)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	int err = check_key(user, domain, d);
	if (!err)
		err = check_cred(cred);
	return err ? err : st->vt->user_add(st, user, d, cred, disabled, now);
}

int sw_store_user_set_credentials(struct sw_store *st, const char *user, const char *domain,
				  const struct sw_credentials *cred, int64_t now)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	int err = check_key(user, domain, d);
	if (!err)
		err = check_cred(cred);
	return err ? err : st->vt->user_set_credentials(st, user, d, cred, now);
}

int sw_store_user_set_disabled(struct sw_store *st, const char *user, const char *domain,
			       bool disabled, int64_t now)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	int err = check_key(user, domain, d);
	return err ? err : st->vt->user_set_disabled(st, user, d, disabled, now);
}

int sw_store_user_del(struct sw_store *st, const char *user, const char *domain)
{
	char d[SW_STORE_DOMAIN_MAX + 1];
	int err = check_key(user, domain, d);
	return err ? err : st->vt->user_del(st, user, d);
}

int sw_store_user_list(struct sw_store *st, sw_store_user_fn fn, void *arg)
{
	return fn ? st->vt->user_list(st, fn, arg) : SW_EINVAL;
}

void sw_store_set_progress(struct sw_store *st, sw_store_progress_fn fn, void *arg)
{
	st->progress = fn;
	st->progress_arg = arg;
}

int sw_store_user_import(struct sw_store *st, const struct sw_user_import *rows, size_t n,
			 int64_t now, size_t *added, size_t *updated)
{
	if (!rows && n)
		return SW_EINVAL;
	/* Validate and lower-case every row before anything is written. */
	struct sw_user_import *copy = n ? malloc(n * sizeof(*copy)) : NULL;
	char (*doms)[SW_STORE_DOMAIN_MAX + 1] = n ? malloc(n * sizeof(*doms)) : NULL;
	size_t a = 0, u = 0;
	int err = 0;
	if (n && (!copy || !doms)) {
		err = SW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = check_key(rows[i].user, rows[i].domain, doms[i]);
		if (!err)
			err = check_cred(&rows[i].cred);
		copy[i] = rows[i];
		copy[i].domain = doms[i];
	}
	if (!err)
		err = st->vt->user_import(st, copy, n, now, &a, &u);
	if (!err) {
		if (added)
			*added = a;
		if (updated)
			*updated = u;
	}
out:
	free(copy);
	free(doms);
	return err;
}

int sw_store_user_count(struct sw_store *st, uint64_t *out)
{
	return st->vt->user_count(st, out);
}

int sw_store_user_version(struct sw_store *st, uint64_t *out)
{
	return st->vt->user_version(st, out);
}

int sw_store_user_changes(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			  void *arg, uint64_t *now_version, bool *all)
{
	if (!fn || !now_version || !all)
		return SW_EINVAL;
	return st->vt->user_changes(st, since, fn, arg, now_version, all);
}

static int cred_get_ha1(void *arg, sw_str username, bool is_userhash, sw_str realm,
			enum sw_digest_hash h, char *ha1)
{
	struct sw_store *st = arg;
	char u[SW_STORE_USER_MAX + 1], r[SW_STORE_DOMAIN_MAX + 1];
	struct sw_subscriber s;
	if (!username.p || !realm.p || username.len >= sizeof(u) || realm.len >= sizeof(r) ||
	    (unsigned)h >= SW_HASH__COUNT)
		return SW_ENOTFOUND;
	if (memchr(username.p, '\0', username.len) || memchr(realm.p, '\0', realm.len))
		return SW_ENOTFOUND;
	sw_str_cpy(u, sizeof(u), username);
	sw_str_cpy(r, sizeof(r), realm);
	int err = is_userhash ? sw_store_user_get_by_userhash(st, h, u, r, &s)
			      : sw_store_user_get(st, u, r, &s);
	if (err)
		return err;
	memcpy(ha1, s.cred.ha1[h], strlen(s.cred.ha1[h]) + 1);
	return 0;
}

void sw_store_cred_source(struct sw_store *st, struct sw_cred_source *out)
{
	out->get_ha1 = cred_get_ha1;
	out->arg = st;
}

/* ---- bindings ------------------------------------------------------------ */

static bool fits(const char *s, size_t cap) { return s[0] && memchr(s, '\0', cap); }

int sw_store_bindings_submit(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			     sw_store_done_fn done, void *arg)
{
	if (!ops || n == 0 || n > 1024)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct sw_binding *b = &ops[i].b;
		if ((unsigned)ops[i].kind > SW_BINDING_DEL_AOR || !fits(b->aor, sizeof(b->aor)))
			return SW_EINVAL;
		if (ops[i].kind != SW_BINDING_DEL_AOR && !fits(b->contact, sizeof(b->contact)))
			return SW_EINVAL;
		if (ops[i].kind == SW_BINDING_PUT && b->q > 1000)
			return SW_EINVAL;
	}
	return st->vt->bindings_submit(st, ops, n, done, arg);
}

void sw__waiter_init(struct sw__waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = false;
	w->err = 0;
}

void sw__waiter_done(void *arg, int err)
{
	struct sw__waiter *w = arg;
	pthread_mutex_lock(&w->lock);
	w->err = err;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int sw__waiter_wait(struct sw__waiter *w)
{
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	int err = w->err;
	pthread_mutex_unlock(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	return err;
}

int sw_store_bindings_apply(struct sw_store *st, const struct sw_binding_op *ops, size_t n)
{
	struct sw__waiter w;
	sw__waiter_init(&w);
	int err = sw_store_bindings_submit(st, ops, n, sw__waiter_done, &w);
	if (err) {
		w.done = true;
		sw__waiter_wait(&w);
		return err;
	}
	sw_store_commit(st); /* caller_commits: commit it here, or the thread committing now does */
	return sw__waiter_wait(&w);
}

int sw_store_binding_del(struct sw_store *st, const char *aor, const char *contact)
{
	if (!aor || !contact || !*aor || !*contact)
		return SW_EINVAL;
	if (strlen(aor) > SW_STORE_AOR_MAX || strlen(contact) > SW_STORE_URI_MAX)
		return SW_ENOTFOUND;
	return st->vt->binding_del(st, aor, contact);
}

int sw_store_binding_del_aor(struct sw_store *st, const char *aor, size_t *count)
{
	size_t c = 0;
	if (!aor || !*aor)
		return SW_EINVAL;
	int err = strlen(aor) > SW_STORE_AOR_MAX ? 0 : st->vt->binding_del_aor(st, aor, &c);
	if (!err && count)
		*count = c;
	return err;
}

int sw_store_binding_list(struct sw_store *st, const char *aor, int64_t now,
			  sw_store_binding_fn fn, void *arg)
{
	if (!fn)
		return SW_EINVAL;
	if (aor && strlen(aor) > SW_STORE_AOR_MAX)
		return 0;
	return st->vt->binding_list(st, aor, now, fn, arg);
}

int sw_store_binding_expire(struct sw_store *st, int64_t now, size_t *count)
{
	size_t c = 0;
	int err = st->vt->binding_expire(st, now, &c);
	if (!err && count)
		*count = c;
	return err;
}

int sw_store_nc_tracker(struct sw_store *st, struct sw_nc_tracker *out)
{
	return out ? st->vt->nc_tracker(st, out) : SW_EINVAL;
}

/* ---- events -------------------------------------------------------------- */

void sw_store_field_set(char *dst, size_t cap, sw_str src)
{
	size_t n = src.p ? src.len : 0;
	if (n >= cap) {
		n = cap - 1;
		/* do not cut a UTF-8 sequence: back up over continuation bytes */
		while (n > 0 && ((unsigned char)src.p[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src.p[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

int sw_store_event_record(struct sw_store *st, const struct sw_auth_event *ev)
{
	if (!ev || !ev->cause[0] || !memchr(ev->cause, '\0', sizeof(ev->cause)))
		return SW_EINVAL;
	return st->vt->event_record(st, ev);
}

int sw_store_flush(struct sw_store *st) { return st->vt->flush(st); }

int sw_store_commit(struct sw_store *st) { return st->vt->commit ? st->vt->commit(st) : 0; }

int sw_store_event_query(struct sw_store *st, const struct sw_event_query *q,
			 sw_store_event_fn fn, void *arg)
{
	if (!q || !fn || (!q->user != !q->domain))
		return SW_EINVAL;
	struct sw_event_query nq = *q;
	char d[SW_STORE_DOMAIN_MAX + 1];
	if (q->user) {
		if (check_key(q->user, q->domain, d))
			return 0;    /* a name that cannot exist has no events */
		nq.domain = d;
	}
	return st->vt->event_query(st, &nq, fn, arg);
}

int sw_store_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed)
{
	size_t c = 0;
	int err = st->vt->event_prune(st, now_ms, &c);
	if (!err && removed)
		*removed = c;
	return err;
}

/* ---- bans ---------------------------------------------------------------- */

/* addr is an IPv4 or IPv6 address in the canonical form inet_ntop writes,
 * with no host bits set past prefix. */
static int check_ban_key(const char *addr, unsigned prefix)
{
	unsigned char a[16];
	char canon[INET6_ADDRSTRLEN];
	if (!addr || strlen(addr) > SW_STORE_ADDR_MAX)
		return SW_EINVAL;
	int af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	unsigned bits = af == AF_INET ? 32 : 128;
	if (inet_pton(af, addr, a) != 1 || !inet_ntop(af, a, canon, sizeof(canon)) ||
	    strcmp(canon, addr) || prefix > bits)
		return SW_EINVAL;
	for (unsigned i = prefix; i < bits; i++)
		if (a[i / 8] & (0x80u >> (i % 8)))
			return SW_EINVAL;
	return 0;
}

int sw_store_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		      uint64_t *v_before, uint64_t *v_after)
{
	uint64_t vb = 0, va = 0;
	if (!recs && n)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct sw_ban_record *r = &recs[i];
		if (check_ban_key(r->addr, r->prefix) || !memchr(r->user, '\0', sizeof(r->user)) ||
		    !memchr(r->reason, '\0', sizeof(r->reason)))
			return SW_EINVAL;
	}
	int err = st->vt->bans_put(st, recs, n, &vb, &va);
	if (!err && v_before)
		*v_before = vb;
	if (!err && v_after)
		*v_after = va;
	return err;
}

int sw_store_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count)
{
	size_t c = 0;
	int err = check_ban_key(addr, prefix);
	if (!err)
		err = st->vt->ban_del(st, addr, prefix, &c);
	if (!err && count)
		*count = c;
	return err;
}

int sw_store_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg)
{
	return fn ? st->vt->ban_list(st, now, fn, arg) : SW_EINVAL;
}

int sw_store_ban_prune(struct sw_store *st, int64_t before, size_t *count)
{
	size_t c = 0;
	int err = st->vt->ban_prune(st, before, &c);
	if (!err && count)
		*count = c;
	return err;
}

int sw_store_ban_version(struct sw_store *st, uint64_t *out)
{
	uint64_t v = 0;
	int err = out ? st->vt->ban_version(st, &v) : SW_EINVAL;
	if (!err)
		*out = v;
	return err;
}
