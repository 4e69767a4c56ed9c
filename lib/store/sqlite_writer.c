/* The group-commit writer of the sqlite backend: one thread per store owns
 * the write connection. Callers queue jobs; the writer takes everything
 * queued (up to batch_max), runs it in ONE transaction, each job inside its
 * own savepoint (a failing job rolls back alone), commits once with
 * synchronous=FULL (one fsync of the WAL for the whole batch) and only then
 * signals every completion. While a commit is on disk new jobs queue up and
 * form the next batch, so the cost of an fsync is shared by everyone who
 * arrived during the previous one.
 *
 * Auth events do not wait: when only events are queued, the writer lingers
 * up to events_linger_ms for more before committing. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "store/sqlite_int.h"

static int64_t now_ms_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sw__sq_enqueue(struct sq_store *sq, struct sq_job *job)
{
	job->next = NULL;
	job->err = 0;
	pthread_mutex_lock(&sq->qlock);
	if (sq->stopping) {
		pthread_mutex_unlock(&sq->qlock);
		return SW_EIO;
	}
	if (job->event) {
		if (sq->qevents >= sq->base.opts.events_max_pending) {
			sq->stats.events_dropped++;
			pthread_mutex_unlock(&sq->qlock);
			return SW_ENOSPC;
		}
		sq->qevents++;
	}
	if (sq->tail)
		sq->tail->next = job;
	else
		sq->head = job;
	sq->tail = job;
	sq->qlen++;
	pthread_cond_signal(&sq->qcond);
	pthread_mutex_unlock(&sq->qlock);
	return 0;
}

int sw__sq_call(struct sq_store *sq, int (*fn)(struct sq_conn *w, void *ctx), void *ctx)
{
	struct sw__waiter wt;
	struct sq_job job = { .fn = fn, .ctx = ctx, .done = sw__waiter_done, .done_arg = &wt };
	sw__waiter_init(&wt);
	int err = sw__sq_enqueue(sq, &job);
	if (err) {
		wt.done = true;
		sw__waiter_wait(&wt);
		return err;
	}
	return sw__waiter_wait(&wt);
}

/* Runs one batch (a list of jobs) in one transaction and completes them. */
static void run_batch(struct sq_store *sq, struct sq_job *jobs, size_t n)
{
	struct sq_conn *w = sq->w;
	int64_t newest_ms = 0;
	bool events = false;
	int err = sw__sq_run(w, Q_BEGIN);

	for (struct sq_job *j = jobs; j && !err; j = j->next) {
		if (j->event) {
			/* a lost event is counted, it does not fail the batch */
			if (sw__sq_event_insert(w, j->event))
				j->err = SW_EIO;
			events = true;
			if (j->event->time_ms > newest_ms)
				newest_ms = j->event->time_ms;
			continue;
		}
		if (!j->fn)
			continue;                     /* a flush marker */
		if ((j->err = sw__sq_run(w, Q_SAVEPOINT)))
			continue;
		j->err = j->fn(w, j->ctx);
		if (j->err)
			sw__sq_run(w, Q_ROLLBACK_TO);
		sw__sq_run(w, Q_RELEASE);
	}
	if (!err && events)
		sw__sq_event_retention(w, &sq->base.opts, newest_ms, NULL);
	if (!err)
		err = sw__sq_run(w, Q_COMMIT);
	if (err) {
		if (!sqlite3_get_autocommit(w->db))
			sw__sq_run(w, Q_ROLLBACK);
		for (struct sq_job *j = jobs; j; j = j->next)
			if (!j->err)
				j->err = err;
	}

	pthread_mutex_lock(&sq->qlock);
	sq->stats.commits += !err;
	sq->stats.jobs += err ? 0 : n;
	pthread_mutex_unlock(&sq->qlock);

	/* Durable (or failed): tell everyone. A job must not be touched after
	 * its done() ran: a synchronous caller may return at once. */
	for (struct sq_job *j = jobs, *next; j; j = next) {
		next = j->next;
		bool owned = j->owned;
		if (j->done)
			j->done(j->done_arg, j->err);
		if (owned) {
			free(j);
		}
	}
}

static bool only_events(const struct sq_store *sq) { return sq->qlen == sq->qevents; }

static void *writer_main(void *arg)
{
	struct sq_store *sq = arg;
	for (;;) {
		pthread_mutex_lock(&sq->qlock);
		while (!sq->head && !sq->stopping)
			pthread_cond_wait(&sq->qcond, &sq->qlock);
		if (!sq->head) {
			pthread_mutex_unlock(&sq->qlock);
			break;
		}
		/* Lone events: wait a little for company (or for a write that
		 * must not wait, or for close). */
		if (only_events(sq) && !sq->stopping && sq->qlen < sq->base.opts.batch_max) {
			int64_t deadline = now_ms_real() + sq->base.opts.events_linger_ms;
			struct timespec ts = { .tv_sec = deadline / 1000,
					       .tv_nsec = (deadline % 1000) * 1000000 };
			while (only_events(sq) && !sq->stopping &&
			       sq->qlen < sq->base.opts.batch_max)
				if (pthread_cond_timedwait(&sq->qcond, &sq->qlock, &ts) == ETIMEDOUT)
					break;
		}
		struct sq_job *first = sq->head, *last = first;
		size_t n = 1;
		while (last->next && n < sq->base.opts.batch_max) {
			last = last->next;
			n++;
		}
		sq->head = last->next;
		if (!sq->head)
			sq->tail = NULL;
		last->next = NULL;
		sq->qlen -= n;
		for (struct sq_job *j = first; j; j = j->next)
			sq->qevents -= j->event != NULL;
		pthread_mutex_unlock(&sq->qlock);
		run_batch(sq, first, n);
	}
	return NULL;
}

int sw__sq_writer_start(struct sq_store *sq)
{
	if (pthread_create(&sq->thread, NULL, writer_main, sq))
		return SW_EIO;
	sq->started = true;
	return 0;
}

/* Stops taking jobs, lets the writer commit what is queued, joins it. */
void sw__sq_writer_stop(struct sq_store *sq)
{
	if (!sq->started)
		return;
	pthread_mutex_lock(&sq->qlock);
	sq->stopping = true;
	pthread_cond_broadcast(&sq->qcond);
	pthread_mutex_unlock(&sq->qlock);
	pthread_join(sq->thread, NULL);
	sq->started = false;
}
