/* Bindings and nonce counts in sqlite. A REGISTER's operations form one
 * writer job (one savepoint: all or none) and complete after the batch
 * commit that carries them is on disk. */
#include <stdlib.h>
#include <string.h>
#include "store/sqlite_int.h"

static int put(struct sq_conn *w, const struct sw_binding *b)
{
	sqlite3_stmt *s = sw__sq_stmt(w, Q_BIND_PUT);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, b->aor);
	sw__sq_bind_text(s, 2, b->contact);
	sqlite3_bind_int64(s, 3, b->expires);
	sqlite3_bind_int(s, 4, b->q);
	sw__sq_bind_text(s, 5, b->call_id);
	sqlite3_bind_int64(s, 6, b->cseq);
	sw__sq_bind_text(s, 7, b->source_addr);
	sqlite3_bind_int(s, 8, b->source_port);
	sw__sq_bind_text(s, 9, b->transport);
	sw__sq_bind_text(s, 10, b->user_agent);
	sw__sq_bind_text(s, 11, b->path);
	sw__sq_bind_text(s, 12, b->received);
	sw__sq_bind_text(s, 13, b->instance);
	sqlite3_bind_int64(s, 14, b->reg_id);
	sqlite3_bind_int64(s, 15, b->updated);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

static int del(struct sq_conn *w, enum sq_stmt id, const char *aor, const char *contact,
	       size_t *count)
{
	sqlite3_stmt *s = sw__sq_stmt(w, id);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, aor);
	if (contact)
		sw__sq_bind_text(s, 2, contact);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sw__sq_err(rc);
	*count = (size_t)sqlite3_changes(w->db);
	return 0;
}

/* The job keeps a copy of the operations: inline for the usual one or two
 * contacts (the job is recycled, so nothing is allocated once warm), in a
 * block of their own beyond that. */
#define INLINE_OPS 2u
struct bind_job {
	struct sq_job job;
	size_t n;
	struct sw_binding_op *ops;   /* inl, or an allocation */
	struct sw_binding_op inl[INLINE_OPS];
};

static int job_ops(struct sq_conn *w, void *ctx)
{
	struct bind_job *bj = ctx;
	int err = 0;
	size_t c;
	for (size_t i = 0; i < bj->n && !err; i++) {
		const struct sw_binding *b = &bj->ops[i].b;
		switch (bj->ops[i].kind) {
		case SW_BINDING_PUT:
			err = put(w, b);
			break;
		case SW_BINDING_DEL:
			err = del(w, Q_BIND_DEL, b->aor, b->contact, &c);
			break;
		case SW_BINDING_DEL_AOR:
			err = del(w, Q_BIND_DEL_AOR, b->aor, NULL, &c);
			break;
		}
	}
	return err;
}

static void free_ops(struct sq_job *j)
{
	free(((struct bind_job *)j)->ops);
}

int sw__sq_bindings_submit(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			   sw_store_done_fn done, void *arg)
{
	struct bind_job *bj = (struct bind_job *)sw__sq_job_get(SQ(st), SQ_FREE_BIND, sizeof(*bj));
	if (!bj)
		return SW_ENOMEM;
	bj->job = (struct sq_job){ .fn = job_ops, .ctx = bj, .done = done, .done_arg = arg,
				   .owned = true, .recycle = SQ_FREE_BIND };
	bj->n = n;
	bj->ops = n <= INLINE_OPS ? bj->inl : malloc(n * sizeof(*ops));
	if (!bj->ops) {
		free(bj);
		return SW_ENOMEM;
	}
	memcpy(bj->ops, ops, n * sizeof(*ops));
	bj->job.cleanup = n <= INLINE_OPS ? NULL : free_ops;
	int err = sw__sq_enqueue(SQ(st), &bj->job);
	if (err) {
		if (bj->ops != bj->inl)
			free(bj->ops);
		free(bj);
	}
	return err;
}

struct del_job {
	const char *aor, *contact;
	int64_t now;
	size_t count;
};

static int job_del(struct sq_conn *w, void *ctx)
{
	struct del_job *j = ctx;
	int err = del(w, j->contact ? Q_BIND_DEL : Q_BIND_DEL_AOR, j->aor, j->contact, &j->count);
	return !err && j->contact && j->count == 0 ? SW_ENOTFOUND : err;
}

int sw__sq_binding_del(struct sw_store *st, const char *aor, const char *contact)
{
	struct del_job j = { aor, contact, 0, 0 };
	return sw__sq_call(SQ(st), job_del, &j);
}

int sw__sq_binding_del_aor(struct sw_store *st, const char *aor, size_t *count)
{
	struct del_job j = { aor, NULL, 0, 0 };
	int err = sw__sq_call(SQ(st), job_del, &j);
	if (!err)
		*count = j.count;
	return err;
}

static int job_expire(struct sq_conn *w, void *ctx)
{
	struct del_job *j = ctx;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_BIND_EXPIRE);
	if (!s)
		return SW_EIO;
	sqlite3_bind_int64(s, 1, j->now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sw__sq_err(rc);
	j->count = (size_t)sqlite3_changes(w->db);
	if (!(s = sw__sq_stmt(w, Q_NC_EXPIRE)))
		return SW_EIO;
	sqlite3_bind_int64(s, 1, j->now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

int sw__sq_binding_expire(struct sw_store *st, int64_t now, size_t *count)
{
	struct del_job j = { NULL, NULL, now, 0 };
	int err = sw__sq_call(SQ(st), job_expire, &j);
	if (!err)
		*count = j.count;
	return err;
}

int sw__sq_binding_list(struct sw_store *st, const char *aor, int64_t now,
			sw_store_binding_fn fn, void *arg)
{
	struct sq_conn *c;
	int err = sw__sq_reader_get(SQ(st), &c), rc;
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, aor ? Q_BIND_LIST_AOR : Q_BIND_LIST_ALL);
	if (!s) {
		err = SW_EIO;
		goto out;
	}
	if (aor)
		sw__sq_bind_text(s, 1, aor);
	sqlite3_bind_int64(s, 2, now);
	struct sw_binding *b = malloc(sizeof(*b));   /* 3 KiB: not on the stack */
	if (!b) {
		err = SW_ENOMEM;
		goto out;
	}
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		sw__sq_col(s, 0, b->aor, sizeof(b->aor));
		sw__sq_col(s, 1, b->contact, sizeof(b->contact));
		b->expires = sqlite3_column_int64(s, 2);
		b->q = (uint16_t)sqlite3_column_int(s, 3);
		sw__sq_col(s, 4, b->call_id, sizeof(b->call_id));
		b->cseq = (uint32_t)sqlite3_column_int64(s, 5);
		sw__sq_col(s, 6, b->source_addr, sizeof(b->source_addr));
		b->source_port = (uint16_t)sqlite3_column_int(s, 7);
		sw__sq_col(s, 8, b->transport, sizeof(b->transport));
		sw__sq_col(s, 9, b->user_agent, sizeof(b->user_agent));
		sw__sq_col(s, 10, b->path, sizeof(b->path));
		sw__sq_col(s, 11, b->received, sizeof(b->received));
		sw__sq_col(s, 12, b->instance, sizeof(b->instance));
		b->reg_id = (uint32_t)sqlite3_column_int64(s, 13);
		b->updated = sqlite3_column_int64(s, 14);
		err = fn(arg, b);
	}
	if (!err && rc != SQLITE_DONE)
		err = sw__sq_err(rc);
	free(b);
	sqlite3_reset(s);
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}

/* ---- nonce counts --------------------------------------------------------- */

struct nc_job {
	const struct sw_nc_use *u;
	uint64_t now;
	int verdict;
};

static bool col_eq(sqlite3_stmt *s, int i, sw_str v)
{
	const void *t = sqlite3_column_blob(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	return n == v.len && (n == 0 || !memcmp(t, v.p, n));
}

static int bind_slice(sqlite3_stmt *s, int i, sw_str v)
{
	return sqlite3_bind_text(s, i, v.p ? v.p : "", (int)v.len, SQLITE_STATIC);
}

/* The same rules as the memory tracker (lib/auth/nctrack.c), on a row. */
static int job_nc(struct sq_conn *w, void *ctx)
{
	struct nc_job *j = ctx;
	const struct sw_nc_use *u = j->u;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_NC_GET);
	if (!s)
		return SW_EIO;
	bind_slice(s, 1, u->nonce);
	sqlite3_bind_int64(s, 2, (int64_t)j->now);
	int rc = sqlite3_step(s), verdict = SW_NC_NEW;
	if (rc == SQLITE_ROW) {
		uint32_t nc = (uint32_t)sqlite3_column_int64(s, 0);
		if (u->nc == nc && col_eq(s, 1, u->cnonce) && col_eq(s, 2, u->response) &&
		    col_eq(s, 3, u->branch))
			verdict = SW_NC_RETRANSMISSION;
		else if (u->one_time || u->nc <= nc)
			verdict = SW_NC_REPLAY;
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return sw__sq_err(rc);
	}
	sqlite3_reset(s);
	j->verdict = verdict;
	if (verdict != SW_NC_NEW)
		return 0;
	if (!(s = sw__sq_stmt(w, Q_NC_PUT)))
		return SW_EIO;
	bind_slice(s, 1, u->nonce);
	sqlite3_bind_int64(s, 2, u->nc);
	bind_slice(s, 3, u->cnonce);
	bind_slice(s, 4, u->response);
	bind_slice(s, 5, u->branch);
	sqlite3_bind_int64(s, 6, (int64_t)u->expires);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

static int nc_check(void *self, const struct sw_nc_use *u, uint64_t now)
{
	struct nc_job j = { u, now, 0 };
	if (!u->nonce.p || u->nonce.len == 0 || u->nonce.len > 256)
		return SW_EINVAL;
	int err = sw__sq_call(self, job_nc, &j);
	return err ? err : j.verdict;
}

static void nc_destroy(void *self) { (void)self; }

static const struct sw_nc_ops sq_nc_ops = { .check = nc_check, .destroy = nc_destroy };

int sw__sq_nc_tracker(struct sw_store *st, struct sw_nc_tracker *out)
{
	out->ops = &sq_nc_ops;
	out->self = SQ(st);
	return 0;
}
