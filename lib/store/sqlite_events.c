/* The auth event log in sqlite: a database of its own (PATH-events), with
 * its own connection and thread. Events are queued without waiting; the
 * thread writes them in batches (after events_linger_ms, or when batch_max
 * are queued, or on a flush) with synchronous=NORMAL, and applies retention
 * (rows and age) once a second. Being another file, the event log has its
 * own write lock and WAL: its inserts, retention and checkpoints never hold
 * up a commit that a 200 OK waits for. The thread runs at idle priority
 * (the core goes to a worker the moment one wakes), and at normal priority
 * while a backlog builds up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/sqlite_int.h"

#define LATE_MS 500 /* past its due time, a batch is written at normal priority */

struct event_job {
	struct sq_job job;
	struct sw_auth_event ev;
};

int sw__sq_event_record(struct sw_store *st, const struct sw_auth_event *ev)
{
	struct sq_store *sq = SQ(st);
	struct event_job *ej = (struct event_job *)sw__sq_job_get(sq, SQ_FREE_EVENT, sizeof(*ej));
	if (!ej) {
		pthread_mutex_lock(&sq->qlock);
		sq->stats.events_dropped++;
		pthread_mutex_unlock(&sq->qlock);
		return SW_ENOMEM;
	}
	ej->ev = *ev;
	ej->job = (struct sq_job){ .event = &ej->ev, .owned = true, .recycle = SQ_FREE_EVENT };
	pthread_mutex_lock(&sq->qlock);
	int err = sq->stopping || !sq->ev_started ? SW_EIO
		: sq->qevents >= sq->base.opts.events_max_pending ? SW_ENOSPC : 0;
	if (err == SW_ENOSPC)
		sq->stats.events_dropped++;
	if (!err) {
		if (sq->etail)
			sq->etail->next = &ej->job;
		else
			sq->ehead = &ej->job;
		sq->etail = &ej->job;
		sq->ev_queued++;
		/* the thread needs a wake-up only to learn the deadline of a
		 * first event, or when a full batch waits: not one per event */
		if (sq->qevents++ == 0) {
			sq->events_due_ms = sw__sq_now_ms() + sq->base.opts.events_linger_ms;
			pthread_cond_signal(&sq->ev_cond);
		} else if (sq->qevents == sq->base.opts.batch_max) {
			pthread_cond_signal(&sq->ev_cond);
		}
	}
	pthread_mutex_unlock(&sq->qlock);
	if (err)
		free(ej);
	return err;
}

static int event_insert(struct sq_conn *c, const struct sw_auth_event *ev)
{
	sqlite3_stmt *s = sw__sq_stmt(c, Q_EV_INSERT);
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

static int retention(struct sq_conn *c, const struct sw_store_opts *o, int64_t newest_ms,
		     size_t *removed);

/* One batch in one transaction; a lost event is counted, it does not fail
 * the others. Under ev_lock. */
static void write_batch(struct sq_store *sq, struct sq_job *list, size_t n, bool flush)
{
	struct sq_conn *c = sq->ev;
	size_t lost = 0;
	int err = sw__sq_run(c, Q_BEGIN);
	for (struct sq_job *j = list; j && !err; j = j->next) {
		if (event_insert(c, j->event))
			lost++;
		if (j->event->time_ms > sq->newest_ms)
			sq->newest_ms = j->event->time_ms;
	}
	/* deleting old events costs index work: once a second is enough (the
	 * limits are approximate by a second's worth of events); a flush
	 * applies them exactly */
	if (!err && (flush || sq->newest_ms - sq->pruned_ms >= 1000)) {
		retention(c, &sq->base.opts, sq->newest_ms, NULL);
		sq->pruned_ms = sq->newest_ms;
	}
	if (!err)
		err = sw__sq_run(c, Q_COMMIT);
	if (err && !sqlite3_get_autocommit(c->db))
		sw__sq_run(c, Q_ROLLBACK);
	pthread_mutex_lock(&sq->qlock);
	sq->stats.events_dropped += err ? n : lost;
	pthread_mutex_unlock(&sq->qlock);
}

static bool events_due(struct sq_store *sq)
{
	return sq->stopping || sq->ev_flush || sq->qevents >= sq->base.opts.batch_max ||
	       sw__sq_now_ms() >= sq->events_due_ms;
}

static void *events_main(void *arg)
{
	struct sq_store *sq = arg;
	bool idle = sw__sq_thread_idle(true), lowered = idle;
	pthread_mutex_lock(&sq->qlock);
	for (;;) {
		while (!sq->ehead && !sq->stopping)
			pthread_cond_wait(&sq->ev_cond, &sq->qlock);
		while (sq->ehead && !events_due(sq)) {
			struct timespec ts = { .tv_sec = sq->events_due_ms / 1000,
					       .tv_nsec = (sq->events_due_ms % 1000) * 1000000 };
			pthread_cond_timedwait(&sq->ev_cond, &sq->qlock, &ts);
		}
		if (!sq->ehead) {
			sq->ev_flush = false;
			if (sq->stopping)
				break;
			continue;
		}
		struct sq_job *list = sq->ehead, *last = list;
		size_t n = 1;
		while (last->next && n < sq->base.opts.batch_max) {
			last = last->next;
			n++;
		}
		sq->ehead = last->next;
		if (!sq->ehead)
			sq->etail = NULL;
		last->next = NULL;
		sq->qevents -= n;
		bool flush = sq->ev_flush || sq->stopping;
		/* a backlog, or events written late (a busy core starves an idle
		 * thread): back to normal priority until it is written, so that
		 * `why` shows a decision within about a second */
		bool want_idle = sq->qevents < sq->base.opts.events_max_pending / 8 &&
				 sw__sq_now_ms() - sq->events_due_ms < LATE_MS;
		pthread_mutex_unlock(&sq->qlock);
		if (idle && want_idle != lowered && sw__sq_thread_idle(want_idle))
			lowered = want_idle;

		pthread_mutex_lock(&sq->ev_lock);
		write_batch(sq, list, n, flush);
		pthread_mutex_unlock(&sq->ev_lock);
		sw__sq_complete(sq, list, 0);

		pthread_mutex_lock(&sq->qlock);
		sq->ev_done += n;
		pthread_cond_broadcast(&sq->ev_done_cond);
	}
	pthread_mutex_unlock(&sq->qlock);
	return NULL;
}

int sw__sq_events_start(struct sq_store *sq)
{
	int err = sw__sq_conn_open(sq->path, SQ_EVENTS, &sq->ev);
	if (err)
		return err;
	pthread_cond_init(&sq->ev_cond, NULL);
	pthread_cond_init(&sq->ev_done_cond, NULL);
	pthread_mutex_init(&sq->ev_lock, NULL);
	if (pthread_create(&sq->ev_thread, NULL, events_main, sq)) {
		sw__sq_conn_close(sq->ev);
		sq->ev = NULL;
		return SW_EIO;
	}
	pthread_setname_np(sq->ev_thread, "sw-events");
	sq->ev_started = true;
	return 0;
}

void sw__sq_events_stop(struct sq_store *sq)
{
	if (!sq->ev_started) {
		sw__sq_conn_close(sq->ev);
		sq->ev = NULL;
		return;
	}
	pthread_mutex_lock(&sq->qlock);
	pthread_cond_signal(&sq->ev_cond);   /* stopping is set: write the rest */
	pthread_mutex_unlock(&sq->qlock);
	pthread_join(sq->ev_thread, NULL);
	sq->ev_started = false;
	pthread_cond_broadcast(&sq->ev_done_cond);
	pthread_cond_destroy(&sq->ev_cond);
	pthread_cond_destroy(&sq->ev_done_cond);
	pthread_mutex_destroy(&sq->ev_lock);
	sw__sq_conn_close(sq->ev);
	sq->ev = NULL;
}

int sw__sq_events_flush(struct sq_store *sq)
{
	pthread_mutex_lock(&sq->qlock);
	uint64_t target = sq->ev_queued;
	if (sq->ev_started && sq->ev_done < target) {
		sq->ev_flush = true;
		pthread_cond_signal(&sq->ev_cond);
		while (sq->ev_done < target)
			pthread_cond_wait(&sq->ev_done_cond, &sq->qlock);
	}
	pthread_mutex_unlock(&sq->qlock);
	return 0;
}

static int retention(struct sq_conn *w, const struct sw_store_opts *o, int64_t newest_ms,
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

int sw__sq_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed)
{
	struct sq_store *sq = SQ(st);
	pthread_mutex_lock(&sq->ev_lock);
	int err = sq->ev ? retention(sq->ev, &st->opts, now_ms, removed) : SW_EIO;
	pthread_mutex_unlock(&sq->ev_lock);
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
	sw__sq_bind_text(s, 8, q->method);
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
