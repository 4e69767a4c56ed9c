/* The sqlite backend ("sqlite:PATH"): opening (file mode 0600, migrations,
 * the event log PATH-events beside it),
 * the reader connection pool, closing, and its operations table. The
 * operations themselves live in sqlite_users.c, sqlite_bindings.c and
 * sqlite_events.c; the writer in sqlite_writer.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/sqlite_int.h"

int sw__sq_reader_get(struct sq_store *sq, struct sq_conn **out)
{
	pthread_mutex_lock(&sq->rlock);
	struct sq_conn *c = sq->idle;
	if (c)
		sq->idle = c->next;
	pthread_mutex_unlock(&sq->rlock);
	if (!c) {
		int err = sw__sq_conn_open(sq->path, SQ_READER, &c);
		if (err)
			return err;
	}
	c->next = NULL;
	*out = c;
	return 0;
}

void sw__sq_reader_put(struct sq_store *sq, struct sq_conn *c)
{
	pthread_mutex_lock(&sq->rlock);
	c->next = sq->idle;
	sq->idle = c;
	pthread_mutex_unlock(&sq->rlock);
}

static void sq_stats(struct sw_store *st, struct sw_store_stats *out)
{
	struct sq_store *sq = SQ(st);
	pthread_mutex_lock(&sq->qlock);
	*out = sq->stats;
	pthread_mutex_unlock(&sq->qlock);
}

static int sq_flush(struct sw_store *st)
{
	int err = sw__sq_call(SQ(st), NULL, NULL);
	int everr = sw__sq_events_flush(SQ(st));
	return err ? err : everr;
}

static int sq_commit(struct sw_store *st)
{
	return sw__sq_commit(SQ(st));
}

static void sq_close(struct sw_store *st)
{
	struct sq_store *sq = SQ(st);
	sw__sq_writer_stop(sq);
	sw__sq_conn_close(sq->w);
	while (sq->idle) {
		struct sq_conn *c = sq->idle;
		sq->idle = c->next;
		sw__sq_conn_close(c);
	}
	for (unsigned k = 0; k < SQ_FREE__COUNT; k++)
		while (sq->free_jobs[k]) {
			struct sq_job *j = sq->free_jobs[k];
			sq->free_jobs[k] = j->next;
			free(j);
		}
	pthread_mutex_destroy(&sq->commit_lock);
	pthread_mutex_destroy(&sq->qlock);
	pthread_cond_destroy(&sq->qcond);
	pthread_mutex_destroy(&sq->rlock);
	free(sq->path);
	free(sq);
}

static const struct sw_store_vt sqlite_vt = {
	.kind = "sqlite",
	.close = sq_close,
	.stats = sq_stats,
	.user_get = sw__sq_user_get,
	.user_get_by_userhash = sw__sq_user_get_by_userhash,
	.user_add = sw__sq_user_add,
	.user_set_credentials = sw__sq_user_set_credentials,
	.user_set_disabled = sw__sq_user_set_disabled,
	.user_del = sw__sq_user_del,
	.user_list = sw__sq_user_list,
	.user_import = sw__sq_user_import,
	.user_version = sw__sq_user_version,
	.user_count = sw__sq_user_count,
	.user_changes = sw__sq_user_changes,
	.bindings_submit = sw__sq_bindings_submit,
	.binding_del = sw__sq_binding_del,
	.binding_del_aor = sw__sq_binding_del_aor,
	.binding_list = sw__sq_binding_list,
	.binding_expire = sw__sq_binding_expire,
	.nc_tracker = sw__sq_nc_tracker,
	.event_record = sw__sq_event_record,
	.flush = sq_flush,
	.commit = sq_commit,
	.event_query = sw__sq_event_query,
	.event_prune = sw__sq_event_prune,
	.bans_put = sw__sq_bans_put,
	.ban_del = sw__sq_ban_del,
	.ban_list = sw__sq_ban_list,
	.ban_prune = sw__sq_ban_prune,
	.ban_version = sw__sq_ban_version,
};

/* The database holds HA1s (password equivalents): create it 0600 before
 * sqlite does (sqlite gives the -wal and -shm files the same mode). */
static int precreate(const char *path, bool create)
{
	struct stat sb;
	if (stat(path, &sb) == 0)
		return 0;
	if (errno != ENOENT)
		return SW_EIO;
	if (!create)
		return SW_ENOTFOUND;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
	close(fd);
	return 0;
}

int sw__store_sqlite_open(struct sw_store **out, const char *path,
			  const struct sw_store_opts *opts)
{
	struct sq_store *sq = calloc(1, sizeof(*sq));
	int err;
	if (!sq)
		return SW_ENOMEM;
	sq->base.vt = &sqlite_vt;
	sq->base.opts = *opts;
	pthread_mutex_init(&sq->commit_lock, NULL);
	pthread_mutex_init(&sq->qlock, NULL);
	pthread_cond_init(&sq->qcond, NULL);
	pthread_mutex_init(&sq->rlock, NULL);
	if (!(sq->path = strdup(path))) {
		err = SW_ENOMEM;
		goto out;
	}
	err = precreate(path, opts->create);
	char *ev_path = err ? NULL : sqlite3_mprintf("%s-events", path);
	if (!err)
		err = ev_path ? precreate(ev_path, true) : SW_ENOMEM;
	sqlite3_free(ev_path);
	if (!err)
		err = sw__sq_conn_open(path, SQ_WRITER, &sq->w);
	if (!err)
		err = sw__sq_events_start(sq);   /* creates the event log's table */
	if (!err)
		err = sw__sq_migrate(sq->w, path);
	if (!err)
		err = sw__sq_writer_start(sq);
out:
	if (err) {
		sq_close(&sq->base);
		return err;
	}
	*out = &sq->base;
	return 0;
}

size_t sw_store_sqlite_memory(void)
{
	sqlite3_int64 n = sqlite3_memory_used();
	return n > 0 ? (size_t)n : 0;
}
