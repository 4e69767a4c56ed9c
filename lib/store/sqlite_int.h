/* What the files of the sqlite backend share: connections with a cache of
 * prepared statements, the job queue of the group-commit writer, the event
 * log's queue and thread, and the operations the backend table
 * (store_sqlite.c) points to. */
#ifndef SIPWARDEN_STORE_SQLITE_INT_H
#define SIPWARDEN_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <time.h>
#include "store/store_int.h"

/* Every statement the backend runs, prepared once per connection on first
 * use (sqlite_schema.c holds the SQL). */
enum sq_stmt {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO,
	Q_SYNC_FULL, Q_SYNC_NORMAL,
	Q_READ_BEGIN, Q_READ_END,
	Q_USER_GET, Q_USER_GET_UH0, Q_USER_GET_UH1, Q_USER_GET_UH2,
	Q_USER_INSERT, Q_USER_SET_CRED, Q_USER_SET_DISABLED, Q_USER_DEL, Q_USER_LIST,
	Q_USER_EXISTS, Q_USER_VERSION, Q_USER_COUNT, Q_USER_CHANGES, Q_USER_CHANGES_MIN,
	Q_BIND_PUT, Q_BIND_DEL, Q_BIND_DEL_AOR, Q_BIND_LIST_AOR, Q_BIND_LIST_ALL,
	Q_BIND_EXPIRE,
	Q_NC_GET, Q_NC_PUT, Q_NC_EXPIRE,
	Q_EV_INSERT, Q_EV_PRUNE_AGE, Q_EV_PRUNE_ROWS, Q_EV_QUERY_USER, Q_EV_QUERY_ALL,
	Q_BAN_PUT, Q_BAN_DEL, Q_BAN_LIST, Q_BAN_PRUNE, Q_BAN_VERSION,
	Q__COUNT
};

/* What a connection is for: the state database's writer, a reader (that
 * sees the event log as well, attached as "ev"), or the event log's writer
 * (the event database PATH-events is its main). */
enum sq_role { SQ_WRITER, SQ_READER, SQ_EVENTS };

struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *st[Q__COUNT];
	struct sq_conn *next;        /* in the idle reader pool */
};

/* A unit of work for the writer. fn runs inside a savepoint of the batch
 * transaction (a failure rolls back this job only). An event (for the event
 * thread) has no fn and no completion. The job must stay valid until done is called (synchronous
 * callers keep it on their stack). */
struct sq_job {
	struct sq_job *next;
	int (*fn)(struct sq_conn *w, void *ctx);
	void *ctx;
	sw_store_done_fn done;
	void *done_arg;
	struct sw_auth_event *event; /* an event to insert (owned with the job) */
	bool owned;                  /* free() the job after completion */
	uint8_t recycle;             /* 0, or the SQ_FREE_* list an owned job goes back to */
	void (*cleanup)(struct sq_job *j); /* before an owned job is freed or recycled */
	int err;
};

struct sq_store;
enum { SQ_FREE_NONE, SQ_FREE_BIND, SQ_FREE_EVENT, SQ_FREE__COUNT };
#define SQ_FREE_MAX 1024u  /* jobs kept per list */

/* An owned job of kind k from the list (or malloc'd size bytes); NULL when
 * out of memory. */
struct sq_job *sw__sq_job_get(struct sq_store *sq, unsigned k, size_t size);

struct sq_store {
	struct sw_store base;
	char *path;                  /* the state database (the event log is PATH-events) */
	struct sq_conn *w;           /* the writer's connection */
	pthread_t thread;
	bool started;                /* the writer thread runs (not caller_commits) */
	pthread_mutex_t commit_lock; /* held by whoever commits: the write connection */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	/* owned jobs recycled instead of freed (under qlock): no allocation per
	 * registration once warm */
	struct sq_job *free_jobs[SQ_FREE__COUNT];
	unsigned nfree[SQ_FREE__COUNT];
	struct sq_job *head, *tail;  /* writes and flush markers, in order */
	size_t qlen;
	bool stopping;
	/* the event log: its own file, connection and thread (sqlite_events.c),
	 * so that neither its inserts nor its checkpoints hold up a commit */
	struct sq_job *ehead, *etail; /* queued auth events (under qlock) */
	size_t qevents;
	int64_t events_due_ms;       /* when the oldest queued event must go */
	uint64_t ev_queued, ev_done; /* events taken in, and written or failed */
	bool ev_flush;               /* a flush waits: write at once */
	pthread_cond_t ev_cond;      /* wakes the event thread (qlock) */
	pthread_cond_t ev_done_cond; /* ev_done moved (qlock) */
	pthread_t ev_thread;
	bool ev_started;
	pthread_mutex_t ev_lock;     /* held by whoever uses ev */
	struct sq_conn *ev;          /* the event log's write connection */
	int64_t newest_ms, pruned_ms; /* newest event time; when retention last ran (ev_lock) */
	/* the checkpointer: WAL checkpoints off the commit path */
	pthread_t ckpt_thread;
	bool ckpt_started, ckpt_wanted;
	bool ckpt_catchup;           /* the WAL passed its cap: the next checkpoint
					holds the commits back until it is through */
	pthread_cond_t ckpt_cond;    /* under qlock */
	struct sw_store_stats stats; /* under qlock */
	pthread_mutex_t rlock;
	struct sq_conn *idle;        /* reader connections not in use */
};

static inline struct sq_store *SQ(struct sw_store *st) { return (struct sq_store *)st; }

/* Wall-clock milliseconds: the deadlines of pthread_cond_timedwait. */
static inline int64_t sw__sq_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sqlite_schema.c. path is the state database's; an SQ_EVENTS connection
 * opens PATH-events and creates its table. */
int sw__sq_conn_open(const char *path, enum sq_role role, struct sq_conn **out);
void sw__sq_conn_close(struct sq_conn *c);
/* The prepared statement id, reset and unbound; NULL when preparing failed. */
sqlite3_stmt *sw__sq_stmt(struct sq_conn *c, enum sq_stmt id);
/* Runs a statement without results to completion; 0 or an SW_E* code. */
int sw__sq_run(struct sq_conn *c, enum sq_stmt id);
/* Brings the state database to the current schema (w: an SQ_WRITER; the
 * event log must exist: events of older versions move there). */
int sw__sq_migrate(struct sq_conn *w, const char *path);
int sw__sq_err(int rc);
/* Column i as text into dst (truncated to cap). */
void sw__sq_col(sqlite3_stmt *s, int i, char *dst, size_t cap);
int sw__sq_bind_text(sqlite3_stmt *s, int i, const char *text);

/* sqlite_writer.c. start: the checkpointer, and the writer thread unless
 * caller_commits. stop: refuses new jobs, commits and completes what is
 * queued, joins the threads (the event thread too). */
int sw__sq_writer_start(struct sq_store *sq);
void sw__sq_writer_stop(struct sq_store *sq);
/* Completes a list of jobs (err where a job has none of its own) and
 * recycles the owned ones. */
void sw__sq_complete(struct sq_store *sq, struct sq_job *j, int err);
/* Queues a write job (0) or refuses it (SW_EIO once closing began). */
int sw__sq_enqueue(struct sq_store *sq, struct sq_job *job);
/* Runs fn(w, ctx) in the next group commit (committing it here when there is
 * no writer thread) and waits until it is committed: its error, or the
 * commit's. */
int sw__sq_call(struct sq_store *sq, int (*fn)(struct sq_conn *w, void *ctx), void *ctx);
/* sw_store_commit(): commits what is queued in this thread, unless another
 * thread is committing (it takes these jobs too). */
int sw__sq_commit(struct sq_store *sq);

/* Reader connections: one per concurrent reader, pooled. */
int sw__sq_reader_get(struct sq_store *sq, struct sq_conn **out);
void sw__sq_reader_put(struct sq_store *sq, struct sq_conn *c);

/* sqlite_users.c */
int sw__sq_user_get(struct sw_store *st, const char *user, const char *domain,
		    struct sw_subscriber *out);
int sw__sq_user_get_by_userhash(struct sw_store *st, enum sw_digest_hash h,
				const char *userhash, const char *domain,
				struct sw_subscriber *out);
int sw__sq_user_add(struct sw_store *st, const char *user, const char *domain,
		    const struct sw_credentials *cred, bool disabled, int64_t now);
int sw__sq_user_set_credentials(struct sw_store *st, const char *user, const char *domain,
				const struct sw_credentials *cred, int64_t now);
int sw__sq_user_set_disabled(struct sw_store *st, const char *user, const char *domain,
			     bool disabled, int64_t now);
int sw__sq_user_del(struct sw_store *st, const char *user, const char *domain);
int sw__sq_user_list(struct sw_store *st, sw_store_user_fn fn, void *arg);
int sw__sq_user_import(struct sw_store *st, const struct sw_user_import *rows, size_t n,
		       int64_t now, size_t *added, size_t *updated);
int sw__sq_user_version(struct sw_store *st, uint64_t *out);
int sw__sq_user_count(struct sw_store *st, uint64_t *out);
int sw__sq_user_changes(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			void *arg, uint64_t *now_version, bool *all);

/* sqlite_bindings.c */
int sw__sq_bindings_submit(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			   sw_store_done_fn done, void *arg);
int sw__sq_binding_del(struct sw_store *st, const char *aor, const char *contact);
int sw__sq_binding_del_aor(struct sw_store *st, const char *aor, size_t *count);
int sw__sq_binding_list(struct sw_store *st, const char *aor, int64_t now,
			sw_store_binding_fn fn, void *arg);
int sw__sq_binding_expire(struct sw_store *st, int64_t now, size_t *count);
int sw__sq_nc_tracker(struct sw_store *st, struct sw_nc_tracker *out);

/* sqlite_bans.c */
int sw__sq_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		    uint64_t *v_before, uint64_t *v_after);
int sw__sq_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count);
int sw__sq_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg);
int sw__sq_ban_prune(struct sw_store *st, int64_t before, size_t *count);
int sw__sq_ban_version(struct sw_store *st, uint64_t *out);

/* Lowers the calling thread to SCHED_IDLE (work nobody waits for: the CPU
 * goes to a worker the moment it wakes), or back to normal (true: done).
 * Only where the way back is allowed (root, or RLIMIT_NICE): false leaves
 * the thread as it is. */
bool sw__sq_thread_idle(bool idle);

/* sqlite_events.c. start: the event connection and thread; stop: writes
 * what is queued (stopping is set), joins the thread, closes. flush: waits
 * until every event recorded before the call is written. */
int sw__sq_events_start(struct sq_store *sq);
void sw__sq_events_stop(struct sq_store *sq);
int sw__sq_events_flush(struct sq_store *sq);
int sw__sq_event_record(struct sw_store *st, const struct sw_auth_event *ev);
int sw__sq_event_query(struct sw_store *st, const struct sw_event_query *q,
		       sw_store_event_fn fn, void *arg);
int sw__sq_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed);

#endif
