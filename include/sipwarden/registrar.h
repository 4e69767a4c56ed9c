/* sipwarden — the registrar: REGISTER processing (RFC 3261 §10.3), OPTIONS,
 * and the in-memory location index in front of the store. See
 * docs/internals/registrar.md. */
#ifndef SIPWARDEN_REGISTRAR_H
#define SIPWARDEN_REGISTRAR_H

#include <stdio.h>
#include "sipwarden/auth.h"
#include "sipwarden/server.h"
#include "sipwarden/store.h"

/* ---- location index (location.c) ---------------------------------------- */

/* The current bindings of every AOR, in memory, sharded by AOR; the store
 * holds the durable copy and the index is updated after each commit. */
struct sw_location;

struct sw_loc_binding {
	const char *contact;   /* the Contact URI as registered */
	uint64_t call_id_hash; /* sw_location_call_id_hash() of the Call-ID */
	uint32_t cseq;
	int64_t expires;       /* absolute unix seconds */
	uint16_t q;            /* thousandths */
	const char *flow;      /* where the REGISTER came from (sw_flow_format), "" if unknown */
	const char *path;      /* its Path header (RFC 3327), "" when none */
};

/* The index keeps a hash of the Call-ID (8 bytes instead of the string):
 * enough for the RFC 3261 §10.3 Call-ID/CSeq rule. */
uint64_t sw_location_call_id_hash(const char *p, size_t n);

int sw_location_new(struct sw_location **out);
void sw_location_free(struct sw_location *l);
/* Applies committed binding operations (PUT, DEL, DEL_AOR). */
int sw_location_apply(struct sw_location *l, const struct sw_binding_op *ops, size_t n);
/* Calls fn for each binding of aor with expires > now, holding the AOR's
 * lock: fn must not call back into the index. Returns the count. */
unsigned sw_location_visit(struct sw_location *l, const char *aor, int64_t now,
			   void (*fn)(void *arg, const struct sw_loc_binding *b), void *arg);
/* Drops bindings with expires <= now; returns how many. */
size_t sw_location_expire(struct sw_location *l, int64_t now);
size_t sw_location_count(struct sw_location *l);
/* Loads every unexpired binding from the store. */
int sw_location_load(struct sw_location *l, struct sw_store *st, int64_t now);

/* ---- registrar (registrar.c, register.c) -------------------------------- */

#define SW_REGISTRAR_MAX_DOMAINS 64

struct sw_registrar_cfg {
	const char *domains[SW_REGISTRAR_MAX_DOMAINS];
	unsigned ndomains;
	uint32_t min_expires, max_expires, default_expires;
	unsigned max_contacts;
	bool allow_register_others;
	/* the proxy */
	bool accept_foreign_callers;  /* requests from other domains to our users, unchallenged */
	bool reveal_unknown_callee;   /* 404 instead of 480 for a callee who does not exist */
	uint32_t timer_c;             /* seconds a ringing branch may last (Timer C) */
	struct sw_auth_cfg auth;     /* realm is set per domain */
	const struct sw_listen *listen; /* where the server listens: a digest uri naming one */
	unsigned nlisten;            /* of these (or a domain) is the server's own */
	const char *server_name;     /* Server header */
	bool log_json;               /* one JSON line per auth decision, else text */
	FILE *log;                   /* NULL: no log lines */
	bool log_journal;            /* the lines go to the systemd journal instead, with
					fields (journal.c); log is then not used */
	/* bounded under attack (lib/registrar/logcap.c): the routine first
	 * challenge (no-credentials) gets a log line only when asked (it is
	 * always an event in the store); at most log_max_bytes per second
	 * (0: 65536), then one line says how many were suppressed */
	bool log_first_challenges;
	uint32_t log_max_bytes;
	struct sw_ban *ban;          /* NULL: no bans; else checked on every request and fed
					every auth decision (not owned; see ban.h) */
};

struct sw_registrar;

/* True when fd is the stream systemd connected to the journal
 * (JOURNAL_STREAM names its device and inode), i.e. when the process runs
 * as a service and fd was not redirected. */
bool sw_journal_stream_is(int fd);

/* The stage after the registrar (the proxy: sw_proxy_next() in
 * sipwarden/proxy.h): every request the registrar does not answer itself
 * and every response go there. The caller of sw_registrar_new() names it,
 * so that the registrar does not depend on the proxy. worker_free gets
 * NULL when worker_new failed or was not reached. */
struct sw_registrar_worker;
struct sw_req;
struct sw_proxy_worker;
struct sw_registrar_next {
	void *arg;                    /* handed to worker_new */
	int (*worker_new)(void *arg, struct sw_registrar_worker *rw, unsigned index,
			  struct sw_proxy_worker **out);
	void (*worker_free)(struct sw_proxy_worker *pw);
	void (*request)(struct sw_req *q);
	void (*response)(struct sw_registrar_worker *rw, struct sw_worker *w, const struct sw_msg *m,
			 uint64_t now_ms);
	void (*tick)(struct sw_registrar_worker *rw, struct sw_worker *w, uint64_t now_ms);
	unsigned (*transactions)(const struct sw_proxy_worker *pw);
};

/* The registrar uses st (bindings, credentials, events) and signs nonces
 * with secret; neither is owned. next is required; it is copied. */
int sw_registrar_new(struct sw_registrar **out, const struct sw_registrar_cfg *cfg,
		     const struct sw_registrar_next *next, struct sw_store *st,
		     const struct sw_secret *secret, char *why, size_t why_cap);
void sw_registrar_free(struct sw_registrar *r);
/* Applies the settings that can change while running (SIGHUP): the expires
 * limits, max_contacts, allow_register_others. Domains, listen addresses,
 * the database and the auth settings need a restart. Any thread. */
void sw_registrar_reconfigure(struct sw_registrar *r, const struct sw_registrar_cfg *cfg);

/* Per-worker state (verifiers, transaction table, buffers). */
int sw_registrar_worker_new(struct sw_registrar *r, unsigned index, struct sw_registrar_worker **out);
void sw_registrar_worker_free(struct sw_registrar_worker *rw);

/* The server callbacks: app is the struct sw_registrar, and each worker's
 * data (sw_worker_set_data) its struct sw_registrar_worker. */
void sw_registrar_on_message(void *app, struct sw_worker *w, const struct sw_peer *from,
			     const char *buf, size_t len);
void sw_registrar_on_tick(void *app, struct sw_worker *w, uint64_t now_ms);
/* sw_idle_fn: commits the writes of the batch the worker just handled (a
 * store opened with caller_commits); their 200 OKs follow from the
 * completions it posts. */
void sw_registrar_on_idle(void *app, struct sw_worker *w);

/* Once a second from any one thread: expires bindings in the index and the
 * store. */
void sw_registrar_housekeeping(struct sw_registrar *r, int64_t now);

/* Writes out buffered log lines; call it often (e.g. every 100 ms): the
 * decision log is not flushed line by line, to spare a write per request. */
void sw_registrar_flush_log(struct sw_registrar *r);

struct sw_registrar_stats {
	uint64_t requests, responses_dropped, parse_errors, retransmissions, registrations_ok,
		challenges, refusals, store_errors;
	uint64_t shed;               /* new requests answered 503 + Retry-After (overload) */
	uint64_t log_suppressed;     /* log lines left out (aggregated or over the ceiling) */
};
void sw_registrar_stats(struct sw_registrar *r, struct sw_registrar_stats *out);
/* The bindings in the location index now. Any thread. */
size_t sw_registrar_bindings(struct sw_registrar *r);
/* The proxy transactions a worker holds (in flight or lingering for
 * retransmissions); its own thread, or after the workers stopped. */
unsigned sw_registrar_worker_transactions(const struct sw_registrar_worker *rw);

#endif
