/* The auth event log in sqlite: events are queued without waiting and
 * inserted by the writer with the next batch; retention (rows and age) is
 * applied after each batch that carried events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/sqlite_int.h"

struct event_job {
	struct sq_job job;
	struct sw_auth_event ev;
};

int sw__sq_event_record(struct sw_store *st, const struct sw_auth_event *ev)
{
	struct event_job *ej = (struct event_job *)sw__sq_job_get(SQ(st), SQ_FREE_EVENT, sizeof(*ej));
	if (!ej) {
		struct sq_store *sq = SQ(st);
		pthread_mutex_lock(&sq->qlock);
		sq->stats.events_dropped++;
		pthread_mutex_unlock(&sq->qlock);
		return SW_ENOMEM;
	}
	ej->ev = *ev;
	ej->job = (struct sq_job){ .event = &ej->ev, .owned = true, .recycle = SQ_FREE_EVENT };
	int err = sw__sq_enqueue(SQ(st), &ej->job);
	if (err)
		free(ej);
	return err;
}

int sw__sq_event_insert(struct sq_conn *w, const struct sw_auth_event *ev)
{
	sqlite3_stmt *s = sw__sq_stmt(w, Q_EV_INSERT);
	if (!s)
		return SW_EIO;
	sqlite3_bind_int64(s, 1, ev->time_ms);
	sw__sq_bind_text(s, 2, ev->source_addr);
	sqlite3_bind_int(s, 3, ev->source_port);
	sw__sq_bind_text(s, 4, ev->transport);
	sw__sq_bind_text(s, 5, ev->method);
	sw__sq_bind_text(s, 6, ev->aor);
	sw__sq_bind_text(s, 7, ev->auth_user);
	sw__sq_bind_text(s, 8, ev->realm);
	sw__sq_bind_text(s, 9, ev->user_agent);
	sw__sq_bind_text(s, 10, ev->cause);
	sw__sq_bind_text(s, 11, ev->detail);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

int sw__sq_event_retention(struct sq_conn *w, const struct sw_store_opts *o, int64_t newest_ms,
			   size_t *removed)
{
	size_t n = 0;
	sqlite3_stmt *s = sw__sq_stmt(w, Q_EV_PRUNE_AGE);
	if (!s)
		return SW_EIO;
	sqlite3_bind_int64(s, 1, newest_ms - (int64_t)o->events_max_age * 1000);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sw__sq_err(rc);
	n += (size_t)sqlite3_changes(w->db);
	if (!(s = sw__sq_stmt(w, Q_EV_PRUNE_ROWS)))
		return SW_EIO;
	sqlite3_bind_int64(s, 1, o->events_max_rows);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sw__sq_err(rc);
	n += (size_t)sqlite3_changes(w->db);
	if (removed)
		*removed = n;
	return 0;
}

struct prune_job {
	const struct sw_store_opts *o;
	int64_t now_ms;
	size_t removed;
};

static int job_prune(struct sq_conn *w, void *ctx)
{
	struct prune_job *j = ctx;
	return sw__sq_event_retention(w, j->o, j->now_ms, &j->removed);
}

int sw__sq_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed)
{
	struct prune_job j = { &st->opts, now_ms, 0 };
	int err = sw__sq_call(SQ(st), job_prune, &j);
	if (!err)
		*removed = j.removed;
	return err;
}

int sw__sq_event_query(struct sw_store *st, const struct sw_event_query *q,
		       sw_store_event_fn fn, void *arg)
{
	struct sq_conn *c;
	char aor[SW_STORE_AOR_MAX + 2];
	int err = sw__sq_reader_get(SQ(st), &c), rc;
	if (err)
		return err;
	sqlite3_stmt *s = sw__sq_stmt(c, q->user ? Q_EV_QUERY_USER : Q_EV_QUERY_ALL);
	if (!s) {
		err = SW_EIO;
		goto out;
	}
	if (q->user) {
		snprintf(aor, sizeof(aor), "%s@%s", q->user, q->domain);
		sw__sq_bind_text(s, 1, aor);
		sw__sq_bind_text(s, 2, q->user);
		sw__sq_bind_text(s, 3, q->domain);
	}
	sqlite3_bind_int64(s, 4, q->since_ms);
	sw__sq_bind_text(s, 5, q->cause);
	sw__sq_bind_text(s, 6, q->source_addr);
	sqlite3_bind_int64(s, 7, q->limit ? (int64_t)q->limit : -1);
	struct sw_auth_event ev;
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.id = (uint64_t)sqlite3_column_int64(s, 0);
		ev.time_ms = sqlite3_column_int64(s, 1);
		sw__sq_col(s, 2, ev.source_addr, sizeof(ev.source_addr));
		ev.source_port = (uint16_t)sqlite3_column_int(s, 3);
		sw__sq_col(s, 4, ev.transport, sizeof(ev.transport));
		sw__sq_col(s, 5, ev.method, sizeof(ev.method));
		sw__sq_col(s, 6, ev.aor, sizeof(ev.aor));
		sw__sq_col(s, 7, ev.auth_user, sizeof(ev.auth_user));
		sw__sq_col(s, 8, ev.realm, sizeof(ev.realm));
		sw__sq_col(s, 9, ev.user_agent, sizeof(ev.user_agent));
		sw__sq_col(s, 10, ev.cause, sizeof(ev.cause));
		sw__sq_col(s, 11, ev.detail, sizeof(ev.detail));
		err = fn(arg, &ev);
	}
	if (!err && rc != SQLITE_DONE)
		err = sw__sq_err(rc);
	sqlite3_reset(s);
out:
	sw__sq_reader_put(SQ(st), c);
	return err;
}
