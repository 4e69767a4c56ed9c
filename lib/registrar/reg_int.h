/* Registrar internals shared by registrar.c, register.c and events.c. */
#ifndef SW_REGISTRAR_INT_H
#define SW_REGISTRAR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "sipwarden/causes.h"
#include "sipwarden/registrar.h"
#include "sipwarden/txn.h"

/* What this server does (RFC 3261 §8.2.1, §11) */
#define SW_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER, PUBLISH, REGISTER"

#define SW_REG_MAX_OPS 32u       /* contacts in one REGISTER */
#define SW_REG_MAX_EXISTING 64u  /* bindings of one AOR considered */
#define SW_REG_LAG_RING 16384u   /* durable writes in flight whose age is known */
#define SW_REG_SHED_SOURCES 16u  /* sources a worker's raw 503s are counted for */

/* The credential cache (credcache.c). */
struct sw_credcache;
int sw_credcache_new(struct sw_credcache **out, struct sw_store *st);
void sw_credcache_free(struct sw_credcache *c);
/* The subscriber's HA1 for hash h (hex into ha1, SW_DIGEST_HEX_MAX + 1
 * bytes) and state, from memory or the store; 0 (with *found false for an
 * unknown user) or a store error. */
int sw_credcache_get(struct sw_credcache *c, const char *user, const char *domain, enum sw_digest_hash h,
		     bool *found, bool *disabled, char *ha1);
/* Drops what changed in the store since the last call; one thread. */
void sw_credcache_refresh(struct sw_credcache *c);

struct sw_registrar {
	struct sw_registrar_cfg cfg;
	char domains[SW_REGISTRAR_MAX_DOMAINS][256];
	struct sw_listen listen[32];
	unsigned nlisten;
	struct sw_store *st;
	const struct sw_secret *secret;
	struct sw_nc_tracker nc;
	struct sw_location *loc;
	struct sw_credcache *creds;
	pthread_mutex_t log_lock;
	struct sw__logcap *logcap;    /* aggregation and ceiling (logcap.c), under log_lock */
	_Atomic uint32_t log_max_bytes;
	_Atomic bool log_first_challenges;
	/* what a reload may change while workers run */
	_Atomic uint32_t min_expires, max_expires, default_expires, max_contacts;
	_Atomic bool allow_register_others;
	/* the proxy's settings (reload: at once) */
	_Atomic bool accept_foreign_callers, reveal_unknown_callee;
	_Atomic uint32_t timer_c_ms;
	struct sw_registrar_next next; /* the proxy (sw_registrar_new) */
	_Atomic uint64_t requests, responses_dropped, parse_errors, retransmissions,
		registrations_ok, challenges, refusals, store_errors, shed, log_suppressed;
};

struct sw_registrar_worker {
	struct sw_registrar *r;
	struct sw_verifier *ver[SW_REGISTRAR_MAX_DOMAINS];
	struct sw_txn_table *txn;
	struct sw_proxy_worker *pw;   /* the proxy's state on this worker */
	uint64_t rng;                 /* xorshift state for tags */
	uint64_t ovl_logged_ns;       /* the overload second last logged (shed.c) */
	/* the sources whose 503 of this second is already an event: their next
	 * 503s take the raw path and are only counted (shed.c) */
	struct sw_shed_src {
		uint8_t ip[16];
		uint16_t family;          /* 0: free */
		int64_t sec;
		uint32_t more;            /* 503s since the event, for the log's summary */
	} shed_src[SW_REG_SHED_SOURCES];
	/* durable writes in flight, oldest first (they complete in order): when
	 * each was submitted, for the age of the oldest (shed.c); past the ring,
	 * only counted */
	uint64_t lag_ms[SW_REG_LAG_RING];
	unsigned lag_head, lag_len, lag_over;
	/* what the credential lookup of the current request found */
	bool cred_found, cred_disabled;
	struct sw_subscriber sub;
	struct sw_msg msg;
	char out[65536];
	/* REGISTER scratch: the operations of one request and a snapshot of the
	 * AOR's current bindings */
	struct sw_binding_op ops[SW_REG_MAX_OPS];
	struct sw_reg_existing {
		char contact[SW_STORE_URI_MAX + 1];
		uint64_t call_id_hash;
		uint32_t cseq;
	} existing[SW_REG_MAX_EXISTING];
	unsigned nexisting;
	/* pending durable writes, recycled (register.c) */
	struct pending *free_pending;
	unsigned nfree_pending;
};
void sw__pending_cache_free(struct sw_registrar_worker *rw);

/* One request being answered (valid during the handling call). */
struct sw_req {
	struct sw_registrar_worker *rw;
	struct sw_worker *w;
	const struct sw_peer *from;
	const struct sw_msg *m;
	struct sw_txn_key key;
	bool has_key;
	int64_t now;                  /* unix seconds */
	uint64_t now_ms;              /* monotonic ms, for the transaction table */
};

/* Where the response to a request goes (RFC 3261 §18.2.2, RFC 3581). */
void sw__reply_peer(const struct sw_msg *m, const struct sw_peer *from, struct sw_peer *to);
/* Sends the response held in b and records it in the transaction table. */
void sw__reply_send(struct sw_req *q, struct sw_buf *b);
/* Starts a response: status line, copied headers, To tag, Server. */
int sw__reply_start(struct sw_req *q, struct sw_buf *b, unsigned status, const char *reason);
/* A complete response without body and extra headers. */
void sw__reply_simple(struct sw_req *q, unsigned status, const char *reason);

/* An auth decision: logged, recorded in the store, and fed to the ban
 * table, which may add a scanner hint to the detail and start a ban (one
 * more event, source-banned). */
void sw__event(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm, enum sw_cause cause,
	       const char *detail);
/* Logs and records one event, nothing else (events.c); aor NULL: the To
 * header's. */
void sw__event_record(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm,
		      enum sw_cause cause, const char *detail);

/* The ban table's side of the registrar (banned.c). The gate, first thing
 * for every message: true when the source is banned and the message was
 * dropped or answered 403 (a source-banned event now and then). */
bool sw__ban_gate(struct sw_req *q, const char *buf, size_t len);
/* detail with a scanner hint appended when the decision is a failed
 * authentication and the request has a scanner's fingerprint (into out),
 * else detail. Not for the routine first challenge: it costs every phone. */
const char *sw__ban_hint(struct sw_req *q, enum sw_cause cause, const char *detail, char *out,
			 size_t cap);
/* Feeds the decision to the ban table; records the event of a ban it starts. */
void sw__ban_observe(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm,
		     enum sw_cause cause);

/* The bounded log (logcap.c). first: whether this decision is the first
 * with its cause from addr in second now (false: counted for the summary
 * line instead). write: one line within the bytes-per-second ceiling.
 * tick: a new second's summaries without waiting for the next line. */
struct sw__logcap;
int sw__logcap_new(struct sw__logcap **out);
void sw__logcap_free(struct sw__logcap *c);
bool sw__logcap_first(struct sw_registrar *r, const char *addr, enum sw_cause cause, int64_t now);
void sw__logcap_write(struct sw_registrar *r, const char *line, size_t len, int64_t now);
void sw__logcap_tick(struct sw_registrar *r, int64_t now);
/* n more decisions with cause from addr in second sec, counted elsewhere
 * after the first (shed.c's raw 503s): into that second's summary line. */
void sw__logcap_more(struct sw_registrar *r, const char *addr, enum sw_cause cause, int64_t sec, uint32_t n,
		     int64_t now);
/* For a decision sent elsewhere (the journal): whether its len bytes fit
 * this second's ceiling (counted as written), else counted as left out. */
bool sw__logcap_admit(struct sw_registrar *r, size_t len, int64_t now);

/* Overload (shed.c): a new request the server marked for shedding is
 * answered 503 + Retry-After, unless it is a retransmission of a
 * transaction the registrar knows (false: handle it as usual). */
bool sw__shed(struct sw_req *q, uint32_t retry_after);
/* The same for a datagram the server marked, before any parse: the 503
 * built from the raw bytes (shed_raw.c) when its source already has this
 * second's server-overloaded event and the request reads cleanly; false:
 * take the full path (parse, then sw__shed). */
bool sw__shed_raw(struct sw_req *q, const char *buf, size_t len);
/* A durable write was submitted / completed (register.c), for the age of
 * the oldest in flight. */
void sw__lag_push(struct sw_registrar_worker *rw, uint64_t now_ms);
void sw__lag_pop(struct sw_registrar_worker *rw);
/* Whether a request that passed the worker's own check is new work to
 * shed because this worker's durable writes lag (the socket queue can be
 * short while the writes queue up); sets the Retry-After in *retry. */
bool sw__backlogged(struct sw_req *q, uint32_t *retry);
/* Every tick on each worker: a log line a second when it shed anything,
 * and the counts of the raw 503s of seconds past to the log's summaries. */
void sw__overload_tick(struct sw_registrar_worker *rw, struct sw_worker *w);

void sw__register(struct sw_req *q);
/* sw_auth_cfg.uri_is_ours for the verifiers: one of our domains, or an
 * address and port we listen on (arg: the struct sw_registrar). */
bool sw__uri_is_ours(void *arg, const struct sw_uri *u);
/* The verifier's credential lookup, which also fills rw->cred_found,
 * rw->cred_disabled and rw->sub. */
void sw__creds(struct sw_registrar_worker *rw, struct sw_cred_source *out);

#endif
