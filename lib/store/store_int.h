/* What the store front (store.c) shares with its backends: the table of
 * operations each backend implements and a few helpers. Arguments are
 * validated and domains lower-cased in store.c before a backend sees them. */
#ifndef SIPWARDEN_STORE_INT_H
#define SIPWARDEN_STORE_INT_H

#include <pthread.h>
#include "sipwarden/store.h"

struct sw_store_vt {
	const char *kind;
	void (*close)(struct sw_store *st);
	void (*stats)(struct sw_store *st, struct sw_store_stats *out);

	int (*user_get)(struct sw_store *st, const char *user, const char *domain,
			struct sw_subscriber *out);
	int (*user_get_by_userhash)(struct sw_store *st, enum sw_digest_hash h,
				    const char *userhash, const char *domain,
				    struct sw_subscriber *out);
	int (*user_add)(struct sw_store *st, const char *user, const char *domain,
			const struct sw_credentials *cred, bool disabled, int64_t now);
	int (*user_set_credentials)(struct sw_store *st, const char *user, const char *domain,
				    const struct sw_credentials *cred, int64_t now);
	int (*user_set_disabled)(struct sw_store *st, const char *user, const char *domain,
				 bool disabled, int64_t now);
	int (*user_del)(struct sw_store *st, const char *user, const char *domain);
	int (*user_list)(struct sw_store *st, sw_store_user_fn fn, void *arg);
	int (*user_import)(struct sw_store *st, const struct sw_user_import *rows, size_t n,
			   int64_t now, size_t *added, size_t *updated);
	int (*user_version)(struct sw_store *st, uint64_t *out);
	int (*user_count)(struct sw_store *st, uint64_t *out);
	int (*user_changes)(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			    void *arg, uint64_t *now_version, bool *all);

	int (*bindings_submit)(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			       sw_store_done_fn done, void *arg);
	int (*binding_del)(struct sw_store *st, const char *aor, const char *contact);
	int (*binding_del_aor)(struct sw_store *st, const char *aor, size_t *count);
	int (*binding_list)(struct sw_store *st, const char *aor, int64_t now,
			    sw_store_binding_fn fn, void *arg);
	int (*binding_expire)(struct sw_store *st, int64_t now, size_t *count);

	int (*nc_tracker)(struct sw_store *st, struct sw_nc_tracker *out);

	int (*event_record)(struct sw_store *st, const struct sw_auth_event *ev);
	int (*flush)(struct sw_store *st);
	int (*commit)(struct sw_store *st); /* NULL: writes never wait for it */
	int (*event_query)(struct sw_store *st, const struct sw_event_query *q,
			   sw_store_event_fn fn, void *arg);
	int (*event_prune)(struct sw_store *st, int64_t now_ms, size_t *removed);

	int (*bans_put)(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
			uint64_t *v_before, uint64_t *v_after);
	int (*ban_del)(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count);
	int (*ban_list)(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg);
	int (*ban_prune)(struct sw_store *st, int64_t before, size_t *count);
	int (*ban_version)(struct sw_store *st, uint64_t *out);
};

/* Every backend's handle starts with this. */
struct sw_store {
	const struct sw_store_vt *vt;
	struct sw_store_opts opts;   /* defaults filled in */
	sw_store_progress_fn progress; /* sw_store_set_progress(); NULL: none */
	void *progress_arg;
};

/* Backend constructors: spec is what follows "sqlite:" / "memory:". */
int sw__store_sqlite_open(struct sw_store **out, const char *path,
			  const struct sw_store_opts *opts);
int sw__store_memory_open(struct sw_store **out, const struct sw_store_opts *opts);

/* A one-shot completion to wait on (for the synchronous wrappers). */
struct sw__waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int err;
};
void sw__waiter_init(struct sw__waiter *w);
/* A sw_store_done_fn: arg is the waiter. */
void sw__waiter_done(void *arg, int err);
/* Waits for the completion, destroys the waiter and returns its err. */
int sw__waiter_wait(struct sw__waiter *w);

/* The memory backend's bans (store_memory_bans.c): state of their own with
 * their own lock, reached through the backend's handle. */
struct sw__mem_bans;
int sw__mem_bans_new(struct sw__mem_bans **out);
void sw__mem_bans_free(struct sw__mem_bans *b);
struct sw__mem_bans *sw__mem_bans_of(struct sw_store *st);  /* store_memory.c */
int sw__mem_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		     uint64_t *v_before, uint64_t *v_after);
int sw__mem_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count);
int sw__mem_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg);
int sw__mem_ban_prune(struct sw_store *st, int64_t before, size_t *count);
int sw__mem_ban_version(struct sw_store *st, uint64_t *out);

/* The memory backend's events (store_memory_events.c), the same way. */
struct sw__mem_events;
int sw__mem_events_new(struct sw__mem_events **out, const struct sw_store_opts *opts);
void sw__mem_events_free(struct sw__mem_events *e);
uint64_t sw__mem_events_dropped(struct sw__mem_events *e);
struct sw__mem_events *sw__mem_events_of(struct sw_store *st);  /* store_memory.c */
int sw__mem_event_record(struct sw_store *st, const struct sw_auth_event *ev);
int sw__mem_event_query(struct sw_store *st, const struct sw_event_query *q,
			sw_store_event_fn fn, void *arg);
int sw__mem_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed);
/* Grows *arr (of elem-byte items) to hold need of them, doubling. */
int sw__mem_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Copies a C string that store.c has already length-checked. */
void sw__store_copy(char *dst, size_t cap, const char *src);

#endif
