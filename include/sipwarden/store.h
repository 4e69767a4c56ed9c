/* sipwarden — the store: subscribers (HA1 per algorithm, never a password),
 * registration bindings, nonce counts and the auth event log, behind one
 * narrow interface shaped like the registrar's needs. Backends: "sqlite:PATH"
 * (embedded, durable, group commit) and "memory:" (tests; same semantics).
 * See docs/internals/store.md.
 *
 * Conventions: functions return 0 or a negative SW_E* code (or
 * SW_STORE_EEXIST); out-parameters are written only on success. Every
 * function is thread-safe. Strings passed in are NUL-terminated C strings
 * and are copied; records handed to list callbacks are valid only during the
 * callback, and a callback must not call back into the same store.
 *
 * Keys: a subscriber is (user, domain); the user part is case-sensitive, the
 * domain is stored lower-case. An AOR is "user@domain" without scheme (the
 * registrar canonicalises it). The digest realm of a subscriber's HA1 is its
 * domain. Times are unix seconds unless a name says _ms. */
#ifndef SIPWARDEN_STORE_H
#define SIPWARDEN_STORE_H

#include "sipwarden/common.h"
#include "sipwarden/auth.h"

/* "The subscriber already exists" (sw_store_user_add). Until common.h has a
 * generic code for it; sw_store_strerror() names it. */
#define SW_STORE_EEXIST (-64)
/* sw_strerror() that also knows SW_STORE_EEXIST. */
const char *sw_store_strerror(int err);

/* Field capacities (bytes, without the NUL). Longer input is refused by
 * the user functions (SW_ETOOBIG) and truncated by the record helpers. */
#define SW_STORE_USER_MAX 128u
#define SW_STORE_DOMAIN_MAX 253u
#define SW_STORE_AOR_MAX (SW_STORE_USER_MAX + 1u + SW_STORE_DOMAIN_MAX)
#define SW_STORE_URI_MAX 511u
#define SW_STORE_ADDR_MAX 63u       /* an IPv4/IPv6 address, no port, no brackets */
#define SW_STORE_TOKEN_MAX 31u      /* transport, method, cause id */
#define SW_STORE_TEXT_MAX 255u      /* call-id, user agent, detail... */
#define SW_STORE_PATH_MAX 1023u     /* the Path header value(s) */

struct sw_store;

struct sw_store_opts {
	bool create;                 /* create the database when absent (else SW_ENOTFOUND) */
	uint32_t events_max_rows;    /* auth event retention: 0 = 100,000 rows */
	uint32_t events_max_age;     /* ... and seconds: 0 = 30 days */
	uint32_t events_max_pending; /* events queued for the writer: 0 = 65,536; more are dropped */
	uint32_t batch_max;          /* jobs per group commit: 0 = 1,024 */
	uint32_t events_linger_ms;   /* how long lone events may wait for a batch: 0 = 100 ms */
	bool caller_commits;         /* sqlite: no writer thread; queued writes wait for
					sw_store_commit() (or a synchronous call) */
};

/* Opens "sqlite:PATH" or "memory:" (opts may be NULL: defaults, no create).
 * A new sqlite file is created with mode 0600 (it holds HA1s); the auth
 * events go to PATH-events beside it (created with it, also 0600). The schema
 * is migrated to the current version; a newer schema gives SW_EVERSION.
 * 0, SW_EINVAL (bad spec), SW_ENOTFOUND, SW_EVERSION, SW_EIO, SW_ENOMEM. */
int sw_store_open(struct sw_store **out, const char *spec, const struct sw_store_opts *opts);
/* Commits every queued write (completions are signalled), stops the writer
 * and frees everything. NULL is allowed. */
void sw_store_close(struct sw_store *st);
/* Bytes SQLite holds now, in every connection of the process (its page
 * caches are bounded: 2,000 pages each by default). Any thread. */
size_t sw_store_sqlite_memory(void);
/* "sqlite" or "memory". */
const char *sw_store_kind(const struct sw_store *st);

struct sw_store_stats {
	uint64_t commits;            /* group commits done */
	uint64_t jobs;               /* jobs committed through them */
	uint64_t events_dropped;     /* events refused because the queue was full */
};
void sw_store_stats(struct sw_store *st, struct sw_store_stats *out);

/* ==== subscribers ========================================================= */

/* What is stored per subscriber instead of a password: HA1 (realm = domain)
 * and the RFC 7616 userhash for every hash of the digest table. */
struct sw_credentials {
	char ha1[SW_HASH__COUNT][SW_DIGEST_HEX_MAX + 1];
	char userhash[SW_HASH__COUNT][SW_DIGEST_HEX_MAX + 1];
};

/* Computes the credentials of user in domain (the realm) from a password.
 * dc may be NULL. 0 or SW_ECRYPTO / SW_ENOMEM. */
int sw_credentials_compute(struct sw_digest_ctx *dc, const char *user, const char *domain,
			   sw_str password, struct sw_credentials *out);

struct sw_subscriber {
	char user[SW_STORE_USER_MAX + 1];
	char domain[SW_STORE_DOMAIN_MAX + 1];
	struct sw_credentials cred;
	bool disabled;
	int64_t created, changed;    /* unix seconds */
};

/* The subscriber (user, domain). 0 or SW_ENOTFOUND. */
int sw_store_user_get(struct sw_store *st, const char *user, const char *domain,
		      struct sw_subscriber *out);
/* The subscriber of domain whose userhash for hash h is userhash. */
int sw_store_user_get_by_userhash(struct sw_store *st, enum sw_digest_hash h,
				  const char *userhash, const char *domain,
				  struct sw_subscriber *out);
/* Adds a subscriber. SW_STORE_EEXIST when (user, domain) exists; SW_EINVAL
 * for an empty or badly formed name (control characters, ':', '@' in the
 * user, spaces), SW_ETOOBIG when too long. */
int sw_store_user_add(struct sw_store *st, const char *user, const char *domain,
		      const struct sw_credentials *cred, bool disabled, int64_t now);
/* Replaces the credentials (a new password). 0 or SW_ENOTFOUND. */
int sw_store_user_set_credentials(struct sw_store *st, const char *user, const char *domain,
				  const struct sw_credentials *cred, int64_t now);
/* Enables or disables. 0 or SW_ENOTFOUND. */
int sw_store_user_set_disabled(struct sw_store *st, const char *user, const char *domain,
			       bool disabled, int64_t now);
/* Deletes the subscriber (its bindings stay until they expire or the
 * registrar removes them). 0 or SW_ENOTFOUND. */
int sw_store_user_del(struct sw_store *st, const char *user, const char *domain);

typedef int (*sw_store_user_fn)(void *arg, const struct sw_subscriber *s);
/* Calls fn for every subscriber ordered by domain then user; a non-zero
 * return from fn stops the walk and is returned. */
int sw_store_user_list(struct sw_store *st, sw_store_user_fn fn, void *arg);
/* How many subscribers there are (the metrics' gauge). */
int sw_store_user_count(struct sw_store *st, uint64_t *out);

/* One row of a bulk import. */
struct sw_user_import {
	const char *user, *domain;
	struct sw_credentials cred;
};
/* Adds or updates (new credentials; the disabled flag is kept) n subscribers
 * in one transaction: all or nothing. *added and *updated (may be NULL) say
 * how many of each. */
int sw_store_user_import(struct sw_store *st, const struct sw_user_import *rows, size_t n,
			 int64_t now, size_t *added, size_t *updated);
/* Progress of the long writes (sw_store_user_import): fn(arg, done, total)
 * every 1,024 rows, from the thread that writes (the sqlite store's writer
 * thread; the memory store writes at once and does not call it). NULL, the
 * default: none. */
typedef void (*sw_store_progress_fn)(void *arg, size_t done, size_t total);
void sw_store_set_progress(struct sw_store *st, sw_store_progress_fn fn, void *arg);

/* Cache invalidation. Every subscriber change (by this process or another
 * one on the same database) increases the user version. A server polls
 * sw_store_user_version() (cheap) about once a second and, when it moved,
 * asks sw_store_user_changes() which subscribers changed since the version it
 * had. */
int sw_store_user_version(struct sw_store *st, uint64_t *out);
typedef void (*sw_store_change_fn)(void *arg, const char *user, const char *domain);
/* Calls fn for each subscriber changed (added, updated, deleted) after
 * version since, writes the current version to *now_version and sets *all
 * when the change log no longer reaches back to since (drop the whole
 * cache). */
int sw_store_user_changes(struct sw_store *st, uint64_t since, sw_store_change_fn fn,
			  void *arg, uint64_t *now_version, bool *all);

/* A struct sw_cred_source for the verifier, reading the store directly
 * (a server puts its cache in front). Disabled subscribers are returned
 * like enabled ones: refusing them is the registrar's decision. */
void sw_store_cred_source(struct sw_store *st, struct sw_cred_source *out);

/* ==== bindings ============================================================ */

struct sw_binding {
	char aor[SW_STORE_AOR_MAX + 1];
	char contact[SW_STORE_URI_MAX + 1];    /* the Contact URI; the key with aor */
	int64_t expires;                       /* absolute unix seconds */
	uint16_t q;                            /* q-value x 1000 (0..1000) */
	char call_id[SW_STORE_TEXT_MAX + 1];
	uint32_t cseq;
	char source_addr[SW_STORE_ADDR_MAX + 1]; /* where the REGISTER came from */
	uint16_t source_port;
	char transport[SW_STORE_TOKEN_MAX + 1];  /* "udp", "tcp", "tls" */
	char user_agent[SW_STORE_TEXT_MAX + 1];
	char path[SW_STORE_PATH_MAX + 1];       /* RFC 3327 Path, "" when none */
	char received[SW_STORE_URI_MAX + 1];    /* RFC 5626 flow / received URI */
	char instance[SW_STORE_TEXT_MAX + 1];   /* +sip.instance, "" when none */
	uint32_t reg_id;                       /* RFC 5626 reg-id, 0 when none */
	int64_t updated;                       /* when this binding was last written */
};

enum sw_binding_op_kind {
	SW_BINDING_PUT = 0,          /* insert or replace (aor, contact) */
	SW_BINDING_DEL,              /* delete (aor, contact); absent is not an error */
	SW_BINDING_DEL_AOR,          /* delete every binding of aor ("*") */
};

struct sw_binding_op {
	enum sw_binding_op_kind kind;
	struct sw_binding b;         /* PUT: all; DEL: aor, contact; DEL_AOR: aor */
};

/* Called once per submitted write after it is durable (err 0) or failed.
 * It runs on the thread that commits: the store's writer thread (sqlite),
 * the thread in sw_store_commit() (sqlite with caller_commits), or, for the
 * memory backend, the submitting thread before sw_store_bindings_submit
 * returns. Keep it short: signal a worker (eventfd, condition, a queue), do
 * not call into the store. */
typedef void (*sw_store_done_fn)(void *arg, int err);

/* The registrar's write: the n operations of one REGISTER, applied in one
 * transaction (all or none) and made durable by the group-commit writer
 * together with other pending writes; then done(arg, err). The ops are
 * copied. 0 when queued (done will be called exactly once), or an error
 * (SW_EINVAL, SW_ENOMEM, SW_EIO after close began) and done is not called. */
int sw_store_bindings_submit(struct sw_store *st, const struct sw_binding_op *ops, size_t n,
			     sw_store_done_fn done, void *arg);
/* Submit and wait for durability. */
int sw_store_bindings_apply(struct sw_store *st, const struct sw_binding_op *ops, size_t n);
static inline int sw_store_binding_put(struct sw_store *st, const struct sw_binding *b)
{
	struct sw_binding_op op = { .kind = SW_BINDING_PUT, .b = *b };
	return sw_store_bindings_apply(st, &op, 1);
}
/* Deletes one binding. 0 or SW_ENOTFOUND. */
int sw_store_binding_del(struct sw_store *st, const char *aor, const char *contact);
/* Deletes every binding of aor; *count (may be NULL) says how many. */
int sw_store_binding_del_aor(struct sw_store *st, const char *aor, size_t *count);

typedef int (*sw_store_binding_fn)(void *arg, const struct sw_binding *b);
/* Calls fn for the bindings of aor (aor NULL: every AOR), ordered by aor,
 * then q descending, then contact; only those with expires > now (now 0:
 * all). A non-zero return from fn stops the walk and is returned. Sees
 * committed writes only. */
int sw_store_binding_list(struct sw_store *st, const char *aor, int64_t now,
			  sw_store_binding_fn fn, void *arg);
/* Deletes bindings with expires <= now (and nonce counts past their
 * expiry); *count (may be NULL) = bindings removed. */
int sw_store_binding_expire(struct sw_store *st, int64_t now, size_t *count);

/* ==== nonce counts ======================================================== */

/* A nonce-count tracker (auth.h) whose state lives in the store, for a
 * cluster sharing one store. The memory backend wraps sw_nc_memory_new; the
 * sqlite backend goes through the writer (each check waits for a group
 * commit, so a single node should prefer sw_nc_memory_new). Destroy it
 * (sw_nc_tracker_destroy) before closing the store. */
int sw_store_nc_tracker(struct sw_store *st, struct sw_nc_tracker *out);

/* ==== auth events ========================================================= */

struct sw_auth_event {
	uint64_t id;                            /* assigned by the store (ascending) */
	int64_t time_ms;                        /* unix milliseconds */
	char source_addr[SW_STORE_ADDR_MAX + 1];
	uint16_t source_port;
	char transport[SW_STORE_TOKEN_MAX + 1];
	char method[SW_STORE_TOKEN_MAX + 1];
	char aor[SW_STORE_AOR_MAX + 1];         /* the To AOR, user@domain */
	char auth_user[SW_STORE_USER_MAX + 1];  /* digest username as sent */
	char realm[SW_STORE_DOMAIN_MAX + 1];
	char user_agent[SW_STORE_TEXT_MAX + 1];
	char cause[SW_STORE_TOKEN_MAX + 1];     /* a causes.h id */
	char detail[SW_STORE_TEXT_MAX + 1];
};

/* Copies a C string into a field, truncating (at a UTF-8 boundary) and
 * replacing control characters by '?': header content is untrusted. */
void sw_store_field_set(char *dst, size_t cap, sw_str src);
#define SW_STORE_SET(field, s) sw_store_field_set((field), sizeof(field), (s))

/* Queues an event; the store writes it within events_linger_ms (no
 * waiting; sqlite: the event log's own thread). 0, or SW_ENOSPC when the
 * queue is full (the event is dropped and counted). */
int sw_store_event_record(struct sw_store *st, const struct sw_auth_event *ev);
/* Waits until every event recorded before the call is committed. */
int sw_store_flush(struct sw_store *st);
/* With caller_commits: commits the queued writes in this thread, batch after
 * batch until none is left, calling their completions here; when another
 * thread is committing, returns at once and that thread takes them. Several
 * threads submitting and calling this after each batch of work share one
 * sync per commit (group commit). Events need no call: they have their own
 * writer. Returns 0. Without caller_commits, or for the memory backend:
 * nothing to do. */
int sw_store_commit(struct sw_store *st);

struct sw_event_query {
	const char *user, *domain;   /* both set: events whose aor is user@domain
					or whose auth_user/realm are user/domain */
	int64_t since_ms;            /* 0: no lower bound */
	const char *cause;           /* NULL: any */
	const char *source_addr;     /* NULL: any; matches the address, any port */
	const char *method;          /* NULL: any; "INVITE" (any case) */
	uint32_t limit;              /* 0: no limit */
};
typedef int (*sw_store_event_fn)(void *arg, const struct sw_auth_event *ev);
/* Calls fn for the matching events, newest first. */
int sw_store_event_query(struct sw_store *st, const struct sw_event_query *q,
			 sw_store_event_fn fn, void *arg);
/* Applies the retention limits now (the writer also does it as it goes);
 * *removed may be NULL. */
int sw_store_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed);

/* ==== bans ================================================================ */

/* A ban on a source address or network (lib/ban decides and enforces them;
 * the store keeps them across restarts and lets `sipwarden ban` change them
 * under a running server). Key: (addr, prefix, user). A record whose until
 * has passed is kept for a while (the offence level of a repeat offender)
 * but no longer enforced. */
struct sw_ban_record {
	char addr[SW_STORE_ADDR_MAX + 1];      /* the network address, canonical text */
	uint8_t prefix;                        /* bits; 32 (IPv4) or 128 (IPv6): one address */
	char user[SW_STORE_USER_MAX + 1];      /* "": every request from addr; else only
						  those with this digest username */
	int64_t created;                       /* unix seconds */
	int64_t until;                         /* unix seconds; 0: until deleted */
	uint32_t level;                        /* 0 for a first ban, +1 for each repeat */
	char reason[SW_STORE_TEXT_MAX + 1];    /* which limit tripped, or who added it */
};

/* Inserts or replaces n records in one transaction. *v_before and *v_after
 * (may be NULL) are the ban version just before and just after the write,
 * read inside its transaction: a caller that knew v_before knows every
 * change up to v_after is its own. SW_EINVAL for a bad address, prefix or
 * user. */
int sw_store_bans_put(struct sw_store *st, const struct sw_ban_record *recs, size_t n,
		      uint64_t *v_before, uint64_t *v_after);
/* Deletes every ban on exactly addr/prefix (whole-address and per-user);
 * *count (may be NULL) says how many. 0 (also when none) or an error. */
int sw_store_ban_del(struct sw_store *st, const char *addr, uint8_t prefix, size_t *count);
/* Calls fn for each ban in force at now (until 0 or > now; now 0: every
 * record, expired ones too), ordered by addr, prefix, user. A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*sw_store_ban_fn)(void *arg, const struct sw_ban_record *r);
int sw_store_ban_list(struct sw_store *st, int64_t now, sw_store_ban_fn fn, void *arg);
/* Deletes the records that ended before `before` (never those with until
 * 0); *count may be NULL. */
int sw_store_ban_prune(struct sw_store *st, int64_t before, size_t *count);
/* Increases with every change to the bans, by any process (polled by a
 * running server about once a second). */
int sw_store_ban_version(struct sw_store *st, uint64_t *out);

/* ==== reports (lib/store/report.c) ======================================== */

/* "alice@example.com": splits at the last '@' (a leading "sip:" or "sips:"
 * is dropped) and lower-cases the domain. 0, SW_EINVAL or SW_ETOOBIG. */
int sw_aor_split(const char *aor, char user[SW_STORE_USER_MAX + 1],
		 char domain[SW_STORE_DOMAIN_MAX + 1]);
/* "30s", "10m", "2h", "1d", "1w", or plain seconds. 0 or SW_EPARSE. */
int sw_duration_parse(const char *s, uint64_t *seconds);

/* `why` and `events` as text: a block per event, readable at a glance:
 *   2026-11-02 14:03:07  10.0.0.7:5060 udp  REGISTER  alice@example.com
 *     wrong-password (error): <explanation>
 *     fix: <the fix>
 *     detail: <detail>   (when set)
 * Local time unless utc. An unknown cause id is shown as it is. */
void sw_event_render_text(struct sw_buf *b, const struct sw_auth_event *ev, bool utc);
/* One JSON object: id, time (ISO 8601 UTC), time_ms, source, port,
 * transport, method, aor, auth_user, realm, user_agent, cause, severity,
 * explanation, fix, detail. */
void sw_event_render_json(struct sw_buf *b, const struct sw_auth_event *ev);
/* One line: aor, contact, expires in, q, source, transport, user agent. */
void sw_binding_render_text(struct sw_buf *b, const struct sw_binding *bd, int64_t now);
void sw_binding_render_json(struct sw_buf *b, const struct sw_binding *bd, int64_t now);
/* A subscriber without its credentials. */
void sw_subscriber_render_text(struct sw_buf *b, const struct sw_subscriber *s, bool utc);
void sw_subscriber_render_json(struct sw_buf *b, const struct sw_subscriber *s);

#endif
