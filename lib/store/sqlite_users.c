/* Subscribers in sqlite: reads on a pooled reader connection, writes as
 * jobs of the group-commit writer. The user_changes log (filled by
 * triggers, see sqlite_schema.c) answers the cache-invalidation queries. */
#include <string.h>
#include "store/sqlite_int.h"

static void row_to_sub(sqlite3_stmt *s, struct sw_subscriber *out)
{
	sw__sq_col(s, 0, out->user, sizeof(out->user));
	sw__sq_col(s, 1, out->domain, sizeof(out->domain));
	for (int h = 0; h < SW_HASH__COUNT; h++) {
		sw__sq_col(s, 2 + h, out->cred.ha1[h], sizeof(out->cred.ha1[h]));
		sw__sq_col(s, 5 + h, out->cred.userhash[h], sizeof(out->cred.userhash[h]));
	}
	out->disabled = sqlite3_column_int(s, 8) != 0;
	out->created = sqlite3_column_int64(s, 9);
	out->changed = sqlite3_column_int64(s, 10);
}

static int get_one(struct sw_store *st, enum sq_stmt id, const char *k1, const char *k2,
		   struct sw_subscriber *out)
{
	struct sq_conn *c;
	struct sw_subscriber sub;
	int err = sw__sq_reader_get(SQ(st), &c);
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, id);
	if (!s) {
		err = SW_EIO;
		goto out;
	}
	sw__sq_bind_text(s, 1, k1);
	sw__sq_bind_text(s, 2, k2);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row_to_sub(s, &sub);
		*out = sub;
	} else {
		err = rc == SQLITE_DONE ? SW_ENOTFOUND : sw__sq_err(rc);
	}
	sqlite3_reset(s);
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}

int sw__sq_user_get(struct sw_store *st, const char *user, const char *domain,
		    struct sw_subscriber *out)
{
	return get_one(st, Q_USER_GET, user, domain, out);
}

int sw__sq_user_get_by_userhash(struct sw_store *st, enum sw_digest_hash h,
				const char *userhash, const char *domain,
				struct sw_subscriber *out)
{
	static const enum sq_stmt q[SW_HASH__COUNT] = { Q_USER_GET_UH0, Q_USER_GET_UH1,
							Q_USER_GET_UH2 };
	return get_one(st, q[h], userhash, domain, out);
}

/* ---- writes (run on the writer) ---------------------------------------- */

struct user_job {
	const char *user, *domain;
	const struct sw_credentials *cred;
	bool disabled;
	int64_t now;
	const struct sw_user_import *rows;
	size_t n, added, updated;
	const struct sw_store *st;   /* import: its progress callback */
};

static void bind_key_cred(sqlite3_stmt *s, const char *user, const char *domain,
			  const struct sw_credentials *cred, int64_t now)
{
	sw__sq_bind_text(s, 1, user);
	sw__sq_bind_text(s, 2, domain);
	for (int h = 0; h < SW_HASH__COUNT; h++) {
		sw__sq_bind_text(s, 3 + h, cred->ha1[h]);
		sw__sq_bind_text(s, 6 + h, cred->userhash[h]);
	}
	sqlite3_bind_int64(s, 10, now);
}

static int step_done(struct sq_conn *w, sqlite3_stmt *s, bool need_change)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sw__sq_err(rc);
	return need_change && sqlite3_changes(w->db) == 0 ? SW_ENOTFOUND : 0;
}

static int insert(struct sq_conn *w, const char *user, const char *domain,
		  const struct sw_credentials *cred, bool disabled, int64_t now)
{
	sqlite3_stmt *s = sw__sq_stmt(w, Q_USER_INSERT);
	if (!s)
		return SW_EIO;
	bind_key_cred(s, user, domain, cred, now);
	sqlite3_bind_int(s, 9, disabled);
	return step_done(w, s, false);
}

static int set_cred(struct sq_conn *w, const char *user, const char *domain,
		    const struct sw_credentials *cred, int64_t now)
{
	sqlite3_stmt *s = sw__sq_stmt(w, Q_USER_SET_CRED);
	if (!s)
		return SW_EIO;
	bind_key_cred(s, user, domain, cred, now);
	return step_done(w, s, true);
}

static int job_add(struct sq_conn *w, void *ctx)
{
	struct user_job *j = ctx;
	return insert(w, j->user, j->domain, j->cred, j->disabled, j->now);
}

static int job_set_cred(struct sq_conn *w, void *ctx)
{
	struct user_job *j = ctx;
	return set_cred(w, j->user, j->domain, j->cred, j->now);
}

static int job_set_disabled(struct sq_conn *w, void *ctx)
{
	struct user_job *j = ctx;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_USER_SET_DISABLED);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, j->user);
	sw__sq_bind_text(s, 2, j->domain);
	sqlite3_bind_int(s, 3, j->disabled);
	sqlite3_bind_int64(s, 4, j->now);
	return step_done(w, s, true);
}

static int job_del(struct sq_conn *w, void *ctx)
{
	struct user_job *j = ctx;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_USER_DEL);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, j->user);
	sw__sq_bind_text(s, 2, j->domain);
	return step_done(w, s, true);
}

static int exists(struct sq_conn *w, const char *user, const char *domain, bool *yes)
{
	sqlite3_stmt *s = sw__sq_stmt(w, Q_USER_EXISTS);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, user);
	sw__sq_bind_text(s, 2, domain);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	*yes = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

static int job_import(struct sq_conn *w, void *ctx)
{
	struct user_job *j = ctx;
	int err = 0;
	j->added = j->updated = 0;
	for (size_t i = 0; i < j->n && !err; i++) {
		const struct sw_user_import *r = &j->rows[i];
		bool yes;
		if (j->st->progress && (i & 1023u) == 0)
			j->st->progress(j->st->progress_arg, i, j->n);
		err = exists(w, r->user, r->domain, &yes);
		if (!err && yes) {
			err = set_cred(w, r->user, r->domain, &r->cred, j->now);
			j->updated++;
		} else if (!err) {
			err = insert(w, r->user, r->domain, &r->cred, false, j->now);
			j->added++;
		}
	}
	return err;
}

int sw__sq_user_add(struct sw_store *st, const char *user, const char *domain,
		    const struct sw_credentials *cred, bool disabled, int64_t now)
{
	struct user_job j = { user, domain, cred, disabled, now, NULL, 0, 0, 0, NULL };
	return sw__sq_call(SQ(st), job_add, &j);
}

int sw__sq_user_set_credentials(struct sw_store *st, const char *user, const char *domain,
				const struct sw_credentials *cred, int64_t now)
{
	struct user_job j = { user, domain, cred, false, now, NULL, 0, 0, 0, NULL };
	return sw__sq_call(SQ(st), job_set_cred, &j);
}

int sw__sq_user_set_disabled(struct sw_store *st, const char *user, const char *domain,
			     bool disabled, int64_t now)
{
	struct user_job j = { user, domain, NULL, disabled, now, NULL, 0, 0, 0, NULL };
	return sw__sq_call(SQ(st), job_set_disabled, &j);
}

int sw__sq_user_del(struct sw_store *st, const char *user, const char *domain)
{
	struct user_job j = { user, domain, NULL, false, 0, NULL, 0, 0, 0, NULL };
	return sw__sq_call(SQ(st), job_del, &j);
}

int sw__sq_user_import(struct sw_store *st, const struct sw_user_import *rows, size_t n,
		       int64_t now, size_t *added, size_t *updated)
{
	struct user_job j = { NULL, NULL, NULL, false, now, rows, n, 0, 0, st };
	int err = sw__sq_call(SQ(st), job_import, &j);
	if (!err) {
		*added = j.added;
		*updated = j.updated;
	}
	return err;
}

/* ---- lists and versions --------------------------------------------------- */

int sw__sq_user_list(struct sw_store *st, sw_store_user_fn fn, void *arg)
{
	struct sq_conn *c;
	int err = sw__sq_reader_get(SQ(st), &c), rc;
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, Q_USER_LIST);
	if (!s) {
		err = SW_EIO;
		goto out;
	}
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sw_subscriber sub;
		row_to_sub(s, &sub);
		err = fn(arg, &sub);
	}
	if (!err && rc != SQLITE_DONE)
		err = sw__sq_err(rc);
	sqlite3_reset(s);
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}

static int version(struct sq_conn *c, uint64_t *out)
{
	sqlite3_stmt *s = sw__sq_stmt(c, Q_USER_VERSION);
	if (!s)
		return SW_EIO;
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

int sw__sq_user_version(struct sw_store *st, uint64_t *out)
{
	struct sq_conn *c;
	uint64_t v;
	int err = sw__sq_reader_get(SQ(st), &c);
	if (err)
		return err;
	err = version(c, &v);
	sw__sq_reader_put(SQ(st), c);
	if (!err)
		*out = v;
	return err;
}

int sw__sq_user_count(struct sw_store *st, uint64_t *out)
{
	struct sq_conn *c;
	int err = sw__sq_reader_get(SQ(st), &c);
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, Q_USER_COUNT);
	int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(s, 0);
	else
		err = s ? sw__sq_err(rc) : SW_EIO;
	if (s)
		sqlite3_reset(s);
	sw__sq_reader_put(SQ(st), c);
	return err;
}

int sw__sq_user_changes(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			void *arg, uint64_t *now_version, bool *all)
{
	struct sq_conn *c;
	uint64_t v = 0, oldest = 0;
	int err = sw__sq_reader_get(SQ(st), &c), rc;
	if (err)
		return err;
	/* one read transaction: the version and the log agree */
	if ((err = sw__sq_run(c, Q_READ_BEGIN)))
		goto out;
	err = version(c, &v);
	sqlite3_stmt *s = err ? NULL : sw__sq_stmt(c, Q_USER_CHANGES_MIN);
	if (!err && !s)
		err = SW_EIO;
	if (!err) {
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			oldest = sqlite3_column_type(s, 0) == SQLITE_NULL
					 ? v + 1 : (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW)
			err = sw__sq_err(rc);
	}
	bool a = since < v && since + 1 < oldest;
	if (!err && !a && since < v) {
		if (!(s = sw__sq_stmt(c, Q_USER_CHANGES)))
			err = SW_EIO;
		if (!err) {
			char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
			sqlite3_bind_int64(s, 1, (int64_t)since);
			while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
				sw__sq_col(s, 0, user, sizeof(user));
				sw__sq_col(s, 1, domain, sizeof(domain));
				fn(arg, user, domain);
			}
			if (rc != SQLITE_DONE)
				err = sw__sq_err(rc);
			sqlite3_reset(s);
		}
	}
	sw__sq_run(c, Q_READ_END);
	if (!err) {
		*now_version = v;
		*all = a;
	}
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}
