/* Bans in sqlite: writes as jobs of the group-commit writer, reads on a
 * pooled reader connection. The version is the sequence of ban_changes,
 * which triggers move on every write (sqlite_schema.c). */
#include <string.h>
#include "store/sqlite_int.h"

struct ban_job {
	const struct sw_ban_record *recs;
	size_t n;
	const char *addr;
	unsigned prefix;
	int64_t before;
	uint64_t v_before, v_after;
	size_t count;
};

static int version(struct sq_conn *c, uint64_t *out)
{
	sqlite3_stmt *s = sw__sq_stmt(c, Q_BAN_VERSION);
	if (!s)
		return SW_EIO;
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

static int step_done(struct sq_conn *w, sqlite3_stmt *s, size_t *changes)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (changes)
		*changes += (size_t)sqlite3_changes(w->db);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

/* In the writer's transaction: nobody else can write between the two
 * version reads. */
static int job_put(struct sq_conn *w, void *ctx)
{
	struct ban_job *j = ctx;
	int err = version(w, &j->v_before);
	for (size_t i = 0; i < j->n && !err; i++) {
		const struct sw_ban_record *r = &j->recs[i];
		sqlite3_stmt *s = sw__sq_stmt(w, Q_BAN_PUT);
		if (!s)
			return SW_EIO;
		sw__sq_bind_text(s, 1, r->addr);
		sqlite3_bind_int(s, 2, r->prefix);
		sw__sq_bind_text(s, 3, r->user);
		sqlite3_bind_int64(s, 4, r->created);
		sqlite3_bind_int64(s, 5, r->until);
		sqlite3_bind_int64(s, 6, r->level);
		sw__sq_bind_text(s, 7, r->reason);
		err = step_done(w, s, NULL);
	}
	return err ? err : version(w, &j->v_after);
}

static int job_del(struct sq_conn *w, void *ctx)
{
	struct ban_job *j = ctx;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_BAN_DEL);
	if (!s)
		return SW_EIO;
	sw__sq_bind_text(s, 1, j->addr);
	sqlite3_bind_int(s, 2, (int)j->prefix);
	return step_done(w, s, &j->count);
}

static int job_prune(struct sq_conn *w, void *ctx)
{
	struct ban_job *j = ctx;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_BAN_PRUNE);
	if (!s)
		return SW_EIO;
	sqlite3_bind_int64(s, 1, j->before);
	return step_done(w, s, &j->count);
}

int sw__sq_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		    uint64_t *v_before, uint64_t *v_after)
{
	struct ban_job j = { .recs = recs, .n = n };
	int err = sw__sq_call(SQ(st), job_put, &j);
	if (!err) {
		*v_before = j.v_before;
		*v_after = j.v_after;
	}
	return err;
}

int sw__sq_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count)
{
	struct ban_job j = { .addr = addr, .prefix = prefix };
	int err = sw__sq_call(SQ(st), job_del, &j);
	if (!err)
		*count = j.count;
	return err;
}

int sw__sq_ban_prune(struct sw_store *st, int64_t before, size_t *count)
{
	struct ban_job j = { .before = before };
	int err = sw__sq_call(SQ(st), job_prune, &j);
	if (!err)
		*count = j.count;
	return err;
}

int sw__sq_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg)
{
	struct sq_conn *c;
	int err = sw__sq_reader_get(SQ(st), &c), rc = SQLITE_DONE;
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, Q_BAN_LIST);
	if (!s) {
		err = SW_EIO;
		goto out;
	}
	sqlite3_bind_int64(s, 1, now);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sw_ban_record r;
		sw__sq_col(s, 0, r.addr, sizeof(r.addr));
		r.prefix = (uint8_t)sqlite3_column_int(s, 1);
		sw__sq_col(s, 2, r.user, sizeof(r.user));
		r.created = sqlite3_column_int64(s, 3);
		r.until = sqlite3_column_int64(s, 4);
		r.level = (uint32_t)sqlite3_column_int64(s, 5);
		sw__sq_col(s, 6, r.reason, sizeof(r.reason));
		err = fn(arg, &r);
	}
	if (!err && rc != SQLITE_DONE)
		err = sw__sq_err(rc);
	sqlite3_reset(s);
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}

int sw__sq_ban_version(struct sw_store *st, uint64_t *out)
{
	struct sq_conn *c;
	uint64_t v = 0;
	int err = sw__sq_reader_get(SQ(st), &c);
	if (err)
		return err;
	err = version(c, &v);
	sw__sq_reader_put(SQ(st), c);
	if (!err)
		*out = v;
	return err;
}
