/* sipwarden — the server's counters, gauges and histograms, and their
 * Prometheus text exposition (format 0.0.4). See docs/internals/metrics.md.
 *
 * The hooks are called on the hot path (every request of a server doing
 * ~50,000 a second): each is one or two relaxed atomic additions on a shard
 * of the calling thread (the first call of a thread picks one of 16 shards,
 * so the workers do not share cache lines), no lock, no allocation. Reading
 * sums the shards: a scrape sees each value as of some moment during the
 * scrape. The counters are process-wide (one server per process); label
 * sets are bounded by the enums here, never a user or an address. */
#ifndef SIPWARDEN_METRICS_H
#define SIPWARDEN_METRICS_H

#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/causes.h"

/* Plain counters (each rendered with its own name and labels, see
 * lib/metrics/render.c). */
enum sw_metric {
	SW_M_REG_MADE = 0,          /* a new binding */
	SW_M_REG_REFRESHED,         /* an existing binding written again */
	SW_M_REG_REMOVED,           /* a binding removed by its phone (expires=0, '*') */
	SW_M_REG_EXPIRED,           /* a binding removed because it expired */
	SW_M_DROP_BANNED,           /* dropped: the source is banned (action drop) */
	SW_M_DROP_MALFORMED,        /* a message that does not parse far enough to be answered */
	SW_M_DROP_BAD_RESPONSE,     /* a response that fails the checks */
	SW_M_DROP_STRAY_RESPONSE,   /* a response that matches no transaction */
	SW_M_DROP_RETRANSMISSION,   /* a retransmission absorbed while the first copy is handled */
	SW_M_BAN_USER_FAILURES,     /* bans started by each limit */
	SW_M_BAN_DISTINCT_USERS,
	SW_M_BAN_FLOOD,
	SW_M_CALL_ANSWERED,         /* calls by outcome */
	SW_M_CALL_FAILED,
	SW_M_CALL_CANCELLED,
	SW_M_TCP_ACCEPTED,
	SW_M_TCP_REFUSED_LIMIT,     /* max_connections reached */
	SW_M_TCP_REFUSED_SOURCE,    /* max_connections_per_source reached */
	SW_M_TCP_TIMED_OUT,         /* closed by first_byte_timeout or message_timeout */
	SW_M__COUNT
};

/* Up-and-down values kept by the hooks (a +1 and its -1 may come from two
 * threads: the shards are summed). */
enum sw_gauge {
	SW_G_TCP_CONNECTIONS = 0,   /* TCP and TLS */
	SW_G_TLS_CONNECTIONS,       /* of those, TLS */
	SW_G_TXN_REGISTRAR,         /* REGISTER/OPTIONS transactions held (answer kept for retransmissions) */
	SW_G_TXN_PROXY,             /* proxy transactions */
	SW_G_PENDING_WRITES,        /* REGISTERs waiting for their durable write */
	SW_G__COUNT
};

enum sw_histogram {
	SW_H_REQUEST = 0,           /* a request's handling on its worker */
	SW_H_COMMIT_WAIT,           /* a REGISTER's binding queued until durable */
	SW_H__COUNT
};
#define SW_METRICS_BUCKETS 16       /* finite upper bounds, see sw_metrics_bucket_bound() */
#define SW_METRICS_METHODS 15       /* enum sw_method: OTHER..UPDATE */

/* ---- the hooks (any thread) ------------------------------------------------ */
void sw_metrics_inc(enum sw_metric m);
void sw_metrics_add(enum sw_metric m, uint64_t n);
void sw_metrics_gauge_add(enum sw_gauge g, int64_t d);
/* A request received and checked, by method (enum sw_method). */
void sw_metrics_request(unsigned method);
/* A response sent (not a retransmission), status 100..699. */
void sw_metrics_response(unsigned status);
/* The same from a response's text ("SIP/2.0 401 ..."); nothing for other
 * text. */
void sw_metrics_response_text(const char *p, size_t len);
/* An auth decision. */
void sw_metrics_auth(unsigned method, enum sw_cause cause);
/* One observation of a histogram, in nanoseconds. */
void sw_metrics_observe(enum sw_histogram h, uint64_t ns);
/* CLOCK_MONOTONIC in nanoseconds (for observations). */
uint64_t sw_metrics_now_ns(void);

/* ---- reading --------------------------------------------------------------- */
uint64_t sw_metrics_get(enum sw_metric m);
int64_t sw_metrics_gauge_get(enum sw_gauge g);
/* Auth decisions of a cause over every method. */
uint64_t sw_metrics_auth_total(enum sw_cause c);
/* The upper bound of bucket i in seconds (i < SW_METRICS_BUCKETS). */
double sw_metrics_bucket_bound(unsigned i);

/* What the exposition needs from outside the hooks, read by the caller at
 * scrape time; a negative value leaves that metric out. */
struct sw_metrics_live {
	int64_t bindings;            /* in the location index */
	int64_t subscribers;         /* in the store */
	int64_t bans_active;         /* bans in force */
	int64_t store_commits, store_events_dropped;
	double start_time;           /* unix seconds */
	const char *version;
};
/* Writes every metric in the text exposition format 0.0.4 (HELP and TYPE
 * lines, counters with _total, base units). Returns sw_buf_status(b). */
int sw_metrics_render(struct sw_buf *b, const struct sw_metrics_live *live);

/* ---- decisions per minute (lib/metrics/history.c) --------------------------- */
/* Takes a snapshot of the per-cause totals when a new minute began since
 * the last call; call it about once a second from one thread. */
void sw_metrics_history_tick(int64_t now);
/* The decisions per cause in each of the last `minutes` minutes (at most
 * 60), oldest first, the current (partial) minute last, as JSON:
 * {"minutes":[START,...],"causes":{"wrong-password":[n,...],...}} where
 * START is the unix time of each minute's start; only causes seen appear. */
void sw_metrics_history_json(struct sw_buf *b, int64_t now, unsigned minutes);

#endif
