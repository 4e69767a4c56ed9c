/* Group commit in the sqlite backend: one write connection, used by one
 * thread at a time (commit_lock) — a writer thread of the store's own, or,
 * with caller_commits, whichever submitting thread calls sw_store_commit()
 * first (it commits for everyone; the others return and leave their jobs to
 * it). Callers queue jobs; the committer takes everything queued (up to
 * batch_max), runs it in ONE transaction, each job inside its own savepoint
 * (a failing job rolls back alone), commits once with synchronous=FULL (one
 * fsync of the WAL for the whole batch) and only then signals every
 * completion. While a commit is on disk new jobs queue up and form the next
 * batch, so the cost of an fsync is shared by everyone who arrived during
 * the previous one.
 *
 * Auth events are not written here: they go to the event log, a database
 * of its own with its own thread (sqlite_events.c), so a commit carries
 * only what a 200 OK waits for.
 *
 * WAL checkpoints (copying committed pages into the database file and
 * syncing it) run on a checkpointer thread with its own connection, at idle
 * priority, so no commit, and no 200 OK waiting for one, stalls behind
 * them. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "store/sqlite_int.h"

#define CHECKPOINT_PAGES 1000 /* sqlite's own default threshold */
#define CHECKPOINT_GAP_MS 50
#define WAL_CAP_PAGES 8192    /* 32 MiB: the writer completes a checkpoint itself */

bool sw__sq_thread_idle(bool idle)
{
	/* SCHED_IDLE → normal needs CAP_SYS_NICE or an RLIMIT_NICE of 20:
	 * a thread that could not come back must not go (it would starve
	 * under a saturating load) */
	struct rlimit rl;
	if (geteuid() != 0 && (getrlimit(RLIMIT_NICE, &rl) || rl.rlim_cur < 20))
		return false;
	struct sched_param sp = { 0 };
	return sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, &sp) == 0;
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
	if (!sq->started)
		sw__sq_commit(sq); /* no writer thread: this thread commits, or the one committing now */
	return sw__waiter_wait(&wt);
}

struct sq_job *sw__sq_job_get(struct sq_store *sq, unsigned k, size_t size)
{
	pthread_mutex_lock(&sq->qlock);
	struct sq_job *j = sq->free_jobs[k];
	if (j) {
		sq->free_jobs[k] = j->next;
		sq->nfree[k]--;
	}
	pthread_mutex_unlock(&sq->qlock);
	return j ? j : malloc(size);
}

void sw__sq_complete(struct sq_store *sq, struct sq_job *j, int err)
{
	struct sq_job *keep[SQ_FREE__COUNT] = { 0 };
	for (struct sq_job *next; j; j = next) {
		next = j->next;
		bool owned = j->owned;
		unsigned k = j->recycle;
		if (!j->err)
			j->err = err;
		if (j->done)
			j->done(j->done_arg, j->err);
		if (owned && j->cleanup)
			j->cleanup(j);
		if (owned && k) {
			j->next = keep[k];
			keep[k] = j;
		} else if (owned) {
			free(j);
		}
	}
	struct sq_job *extra = NULL;
	pthread_mutex_lock(&sq->qlock);
	for (unsigned k = 1; k < SQ_FREE__COUNT; k++)
		while (keep[k]) {
			struct sq_job *n = keep[k]->next;
			if (sq->nfree[k] < SQ_FREE_MAX) {
				keep[k]->next = sq->free_jobs[k];
				sq->free_jobs[k] = keep[k];
				sq->nfree[k]++;
			} else {
				keep[k]->next = extra;
				extra = keep[k];
			}
			keep[k] = n;
		}
	pthread_mutex_unlock(&sq->qlock);
	while (extra) {
		struct sq_job *n = extra->next;
		free(extra);
		extra = n;
	}
}

/* Runs one batch of writes in one transaction and completes them. */
static void run_batch(struct sq_store *sq, struct sq_job *jobs, size_t n)
{
	struct sq_conn *w = sq->w;
	int err = sw__sq_run(w, Q_BEGIN);
	for (struct sq_job *j = jobs; j && !err; j = j->next) {
		if (!j->fn)
			continue;                     /* a flush marker */
		if ((j->err = sw__sq_run(w, Q_SAVEPOINT)))
			continue;
		j->err = j->fn(w, j->ctx);
		if (j->err)
			sw__sq_run(w, Q_ROLLBACK_TO);
		sw__sq_run(w, Q_RELEASE);
	}
	if (!err)
		err = sw__sq_run(w, Q_COMMIT);
	if (err && !sqlite3_get_autocommit(w->db))
		sw__sq_run(w, Q_ROLLBACK);

	pthread_mutex_lock(&sq->qlock);
	sq->stats.commits += !err;
	sq->stats.jobs += err ? 0 : n;
	pthread_mutex_unlock(&sq->qlock);
	sw__sq_complete(sq, jobs, err);
}

/* Commits batch after batch until no write is left. The caller holds
 * commit_lock. */
static void drain(struct sq_store *sq)
{
	const size_t max = sq->base.opts.batch_max;
	for (;;) {
		pthread_mutex_lock(&sq->qlock);
		struct sq_job *jobs = sq->head, *last = jobs;
		size_t n = 0;
		if (jobs) {
			for (n = 1; last->next && n < max; n++)
				last = last->next;
			sq->head = last->next;
			if (!sq->head)
				sq->tail = NULL;
			last->next = NULL;
			sq->qlen -= n;
		}
		pthread_mutex_unlock(&sq->qlock);
		if (!jobs)
			return;
		run_batch(sq, jobs, n);
	}
}

static bool queued(struct sq_store *sq)
{
	pthread_mutex_lock(&sq->qlock);
	bool q = sq->head != NULL;
	pthread_mutex_unlock(&sq->qlock);
	return q;
}

int sw__sq_commit(struct sq_store *sq)
{
	/* Leader and followers: whoever holds commit_lock commits for all.
	 * A thread that finds it taken returns; the holder looks at the
	 * queue again after letting go, so a write queued meanwhile is never
	 * left behind. */
	do {
		if (pthread_mutex_trylock(&sq->commit_lock))
			return 0;
		drain(sq);
		pthread_mutex_unlock(&sq->commit_lock);
	} while (queued(sq));
	return 0;
}

static void *writer_main(void *arg)
{
	struct sq_store *sq = arg;
	pthread_mutex_lock(&sq->qlock);
	for (;;) {
		while (!sq->head && !sq->stopping)
			pthread_cond_wait(&sq->qcond, &sq->qlock);
		if (!sq->head)
			break; /* stopping, nothing left */
		pthread_mutex_unlock(&sq->qlock);
		pthread_mutex_lock(&sq->commit_lock);
		drain(sq);
		pthread_mutex_unlock(&sq->commit_lock);
		pthread_mutex_lock(&sq->qlock);
	}
	pthread_mutex_unlock(&sq->qlock);
	return NULL;
}

/* The writer connection's WAL hook: past the threshold, wake the
 * checkpointer instead of checkpointing in the commit (sqlite's default). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	struct sq_store *sq = arg;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&sq->qlock);
		sq->ckpt_catchup |= pages >= WAL_CAP_PAGES;
		if (!sq->ckpt_wanted) {
			sq->ckpt_wanted = true;
			pthread_cond_signal(&sq->ckpt_cond);
		}
		pthread_mutex_unlock(&sq->qlock);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	struct sq_store *sq = arg;
	sqlite3 *db = NULL;
	bool idle = sw__sq_thread_idle(true);
	if (sqlite3_open_v2(sq->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		db = NULL; /* checkpoints then happen at close only */
	}
	if (db)
		sqlite3_busy_timeout(db, 1000);
	pthread_mutex_lock(&sq->qlock);
	for (;;) {
		while (!sq->ckpt_wanted && !sq->stopping)
			pthread_cond_wait(&sq->ckpt_cond, &sq->qlock);
		if (sq->stopping)
			break;
		sq->ckpt_wanted = false;
		bool catchup = sq->ckpt_catchup;
		sq->ckpt_catchup = false;
		pthread_mutex_unlock(&sq->qlock);
		/* PASSIVE: copies what no reader still needs, never blocks the
		 * writer; what is left goes with the next one.
		 * Such a checkpoint never catches up with a WAL that grows while it
		 * copies, and the WAL only restarts from its beginning once a
		 * checkpoint has copied all of it. Past the cap this one holds the
		 * commits back (commit_lock) until it is through: most pages are
		 * copied already, so the pause is short, and only the writes wait
		 * (a worker goes on answering; its writes queue). */
		if (catchup) {
			/* holding back the commits: no idle priority now, or a busy
			 * worker would starve it while the writes wait */
			if (idle)
				sw__sq_thread_idle(false);
			pthread_mutex_lock(&sq->commit_lock);
		}
		if (db) { /* a read first: a connection that never read does not see the WAL */
			sqlite3_exec(db, "PRAGMA schema_version", NULL, NULL, NULL);
			sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		}
		if (catchup) {
			pthread_mutex_unlock(&sq->commit_lock);
			if (idle)
				sw__sq_thread_idle(true);
			if (!sq->started)
				sw__sq_commit(sq); /* what queued meanwhile: nobody else may come */
		}
		pthread_mutex_lock(&sq->qlock);
		/* at most one per CHECKPOINT_GAP_MS: under a steady stream of small
		 * commits the WAL stays above the threshold, and a checkpoint (with
		 * its fsync of the database) after every commit cost more than the
		 * commits themselves */
		int64_t until = sw__sq_now_ms() + CHECKPOINT_GAP_MS;
		struct timespec ts = { .tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000 };
		while (!sq->stopping)
			if (pthread_cond_timedwait(&sq->ckpt_cond, &sq->qlock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&sq->qlock);
	sqlite3_close(db);
	return NULL;
}

int sw__sq_writer_start(struct sq_store *sq)
{
	pthread_cond_init(&sq->ckpt_cond, NULL);
	if (pthread_create(&sq->ckpt_thread, NULL, checkpointer_main, sq) == 0) {
		pthread_setname_np(sq->ckpt_thread, "sw-checkpoint");
		sq->ckpt_started = true;
		sqlite3_wal_autocheckpoint(sq->w->db, 0);
		sqlite3_wal_hook(sq->w->db, wal_hook, sq);
	}
	if (sq->base.opts.caller_commits)
		return 0;
	if (pthread_create(&sq->thread, NULL, writer_main, sq))
		return SW_EIO;
	pthread_setname_np(sq->thread, "sw-writer");
	sq->started = true;
	return 0;
}

/* Stops taking jobs, lets the writer and the event thread write what is
 * queued, joins them. */
void sw__sq_writer_stop(struct sq_store *sq)
{
	pthread_mutex_lock(&sq->qlock);
	sq->stopping = true;
	pthread_cond_broadcast(&sq->qcond);
	if (sq->ckpt_started)
		pthread_cond_broadcast(&sq->ckpt_cond);
	pthread_mutex_unlock(&sq->qlock);
	sw__sq_events_stop(sq);
	if (sq->started) {
		pthread_join(sq->thread, NULL);
	} else { /* no writer thread: commit what is left here */
		pthread_mutex_lock(&sq->commit_lock);
		drain(sq);
		pthread_mutex_unlock(&sq->commit_lock);
	}
	sq->started = false;
	if (sq->ckpt_started) {
		pthread_join(sq->ckpt_thread, NULL);
		pthread_cond_destroy(&sq->ckpt_cond);
		/* the writer connection's close checkpoints what is left */
		sqlite3_wal_hook(sq->w->db, NULL, NULL);
	}
	sq->ckpt_started = false;
}
