/* The proxy's transaction layer (RFC 3261 §17 with RFC 6026, §16.7): one
 * proxy transaction (ptx) per request forwarded statefully = the server
 * transaction towards the upstream client + one client transaction per
 * branch + the response context. It knows no sockets and no clock of its
 * own: time comes in as now_ms, messages leave through struct sw_px_io, so
 * tests drive every timer with a fake clock and capture what is sent.
 * One table per worker thread; nothing here is shared between threads. */
#ifndef SW_PROXY_PTX_H
#define SW_PROXY_PTX_H

#include "sipwarden/msg.h"
#include "sipwarden/server.h"
#include "sipwarden/txn.h"

/* RFC 3261 §17.1.1.1 and Table 4 (ms) */
#define SW_T1 500u
#define SW_T2 4000u
#define SW_T4 5000u
#define SW_TIMER_C_DEFAULT 180000u  /* > 3 minutes (§16.6 item 11) */
#define SW_PX_MAX_TARGETS 32u

enum sw_px_srv { PX_SRV_PROCEEDING = 0, PX_SRV_COMPLETED, PX_SRV_CONFIRMED, PX_SRV_ACCEPTED, PX_SRV_TERMINATED };
enum sw_px_cli { PX_CLI_CALLING = 0, PX_CLI_PROCEEDING, PX_CLI_COMPLETED, PX_CLI_ACCEPTED, PX_CLI_TERMINATED };

/* Where a request may go: a contact and the flow to reach it by. */
struct sw_px_target {
	char *uri;                 /* the new Request-URI */
	char *path;                /* Route values to put first (the binding's Path), or NULL */
	struct sw_flow flow;
	uint16_t q;                /* thousandths */
};

struct sw_px_branch {
	enum sw_px_cli st;
	unsigned target;
	char *req;                 /* the request as forwarded (for retransmissions, ACK, CANCEL) */
	size_t len;
	char *ack;                 /* ACK for a non-2xx final (re-sent on its retransmissions) */
	size_t ack_len;
	char *cancel;              /* CANCEL, once asked for */
	size_t cancel_len;
	bool cancel_wanted;        /* send CANCEL when the first provisional comes */
	bool cancel_done;          /* CANCEL answered or given up */
	unsigned status;           /* the best status received (0: none; 1: transport error) */
	bool rang;                 /* a provisional above 100 came */
	bool timed_out;            /* Timer C cancelled it: its final counts as 408 */
	uint64_t a_due, a_int;     /* A/E: retransmit */
	uint64_t b_due;            /* B/F: give up */
	uint64_t c_due;            /* Timer C (INVITE) */
	uint64_t d_due;            /* D/K/M: linger after the final */
	uint64_t ce_due, ce_int, cf_due; /* the CANCEL's E and F */
};

struct sw_ptx {
	uint32_t id, gen;          /* id: the slot; gen: bumped when the slot is reused */
	struct sw_ptx *hnext;      /* in the key hash chain */
	struct sw_txn_key key;     /* the server transaction (ACK and CANCEL map to INVITE) */
	bool invite, reliable;     /* reliable: the upstream transport is TCP/TLS */
	enum sw_px_srv st;
	struct sw_peer reply_to;   /* where responses go (§18.2.2) */
	char *req;                 /* the request as received */
	size_t req_len;
	char *resp;                /* the last response sent upstream */
	size_t resp_len;
	unsigned resp_status;
	uint64_t g_due, g_int;     /* G: re-send the final non-2xx */
	uint64_t h_due;            /* H: give up waiting for the ACK; also L (6026) and J */
	uint64_t due;              /* the earliest timer (0: none) */
	/* the response context (§16.7) */
	struct sw_px_target *targets; /* grown by sw_px_add_target, at most SW_PX_MAX_TARGETS */
	unsigned ntargets, cap_targets, next_target;
	struct sw_px_branch *br;       /* one per target, made by sw_px_start */
	unsigned nbranches;
	unsigned best_status;      /* the best final so far (0: none) */
	char *best;                /* its bytes, top Via removed (NULL: make it locally) */
	size_t best_len;
	char *challenges;          /* WWW-/Proxy-Authenticate lines of 401/407s */
	size_t challenges_len;
	bool cancelled, got_2xx, final_sent;
	unsigned final_status;     /* what the upstream client got */
	uint32_t timer_c;          /* ms */
	void *user;                /* the TU's (e.g. the call record) */
};

/* What the transaction layer asks of its user. */
struct sw_px_io {
	/* Sends a message on a flow; token identifies the branch for a
	 * transport error reported later with sw_px_transport_error(). 0 or an
	 * error (the branch then fails at once). */
	int (*send)(void *ctx, const struct sw_flow *to, const char *buf, size_t len, uint64_t token);
	/* Sends a response upstream (to t->reply_to). */
	void (*reply)(void *ctx, const struct sw_ptx *t, const char *buf, size_t len);
	/* Prints the request for target t->targets[target] with our Via branch
	 * into b. 0 or an error (the target is skipped). */
	int (*build)(void *ctx, struct sw_ptx *t, unsigned target, const char *branch, struct sw_buf *b);
	/* Prints a response the proxy makes itself (408, 480, 487...) to the
	 * request of t into b. */
	int (*local)(void *ctx, struct sw_ptx *t, unsigned status, struct sw_buf *b);
	/* A provisional response (above 100) or the final one went upstream:
	 * each provisional, and the first final (status). resp: the response
	 * forwarded, NULL for one made here. */
	void (*final)(void *ctx, struct sw_ptx *t, unsigned status, const struct sw_msg *resp);
	/* t->user is no longer needed: the final response went upstream and no
	 * branch is pending (the transaction may linger for retransmissions),
	 * or the transaction ended. May come twice; t->user is NULL after. */
	void (*done)(void *ctx, struct sw_ptx *t);
	void *ctx;
};

struct sw_px;

/* worker: put into every branch so that a response another worker received
 * can be handed to this one. */
/* capacity: transactions at most; the table starts small and doubles up to it. */
int sw_px_new(struct sw_px **out, const struct sw_px_io *io, unsigned worker, unsigned capacity);
void sw_px_free(struct sw_px *px);
unsigned sw_px_count(const struct sw_px *px);
/* The bytes of the table's own arrays (slots, buckets, timer heap), not of
 * the transactions: the slots follow the busiest moment, the heap the
 * transactions alive now. */
size_t sw_px_memory(const struct sw_px *px);

/* The transaction of key (a request's, with ACK/CANCEL mapped to INVITE by
 * sw_px_key), or NULL. */
struct sw_ptx *sw_px_find(struct sw_px *px, const struct sw_txn_key *key);
/* The server-transaction key of a request; as_invite maps CANCEL to the
 * INVITE it cancels. */
int sw_px_key(const struct sw_msg *req, bool as_invite, struct sw_txn_key *key);

/* A new transaction for req (copied), answered at reply_to. INVITE: 100
 * Trying goes out at once when trying is set. NULL when out of memory or full. */
struct sw_ptx *sw_px_begin(struct sw_px *px, const struct sw_msg *req, const struct sw_txn_key *key,
			   const struct sw_peer *reply_to, bool trying, uint32_t timer_c, uint64_t now);
/* 100 Trying for an INVITE (once). req: the request as already parsed, or
 * NULL (its copy in t is parsed again). */
void sw_px_trying(struct sw_px *px, struct sw_ptx *t, const struct sw_msg *req, uint64_t now);
/* A retransmission of the request: the last response again. */
void sw_px_retransmission(struct sw_px *px, struct sw_ptx *t);
/* The ACK of a non-2xx final (matched by key): absorbed. */
void sw_px_ack(struct sw_px *px, struct sw_ptx *t, uint64_t now);
/* Adds a target (uri and path copied; path may be NULL). 0 or SW_ENOSPC /
 * SW_ENOMEM. */
int sw_px_add_target(struct sw_ptx *t, const char *uri, const char *path, const struct sw_flow *flow, uint16_t q);
/* Starts forwarding: targets sorted by q, the highest group in parallel. */
void sw_px_start(struct sw_px *px, struct sw_ptx *t, uint64_t now);
/* A final response made here (4xx for a refused request): sent and kept
 * for retransmissions; b holds the whole response. */
void sw_px_respond(struct sw_px *px, struct sw_ptx *t, unsigned status, const char *buf, size_t len,
		   uint64_t now);
/* CANCEL from upstream: every pending branch is cancelled, no new one starts. */
void sw_px_cancel(struct sw_px *px, struct sw_ptx *t, uint64_t now);
/* A response from downstream; 1 when it matched a branch, 0 when not ours
 * (the caller forwards a 2xx statelessly or drops it). */
int sw_px_response(struct sw_px *px, const struct sw_msg *resp, uint64_t now);
/* A send that failed after it was handed on (token from io->send). */
void sw_px_transport_error(struct sw_px *px, uint64_t token, uint64_t now);
/* Runs every timer due by now. */
void sw_px_tick(struct sw_px *px, uint64_t now);

/* The worker that owns the branch of a response's top Via, or -1 when the
 * branch is not one of ours. */
int sw_px_branch_worker(const struct sw_msg *resp);

/* Internal (ptx.c <-> branch.c) */
void sw__px_schedule(struct sw_px *px, struct sw_ptx *t);
const struct sw_px_io *sw__px_io(struct sw_px *px);
unsigned sw__px_worker(struct sw_px *px);
struct sw_ptx *sw__px_by_id(struct sw_px *px, uint32_t id, uint32_t gen);
struct sw_ptx *sw__px_slot(struct sw_px *px, uint32_t id);
bool sw__px_maybe_end(struct sw_px *px, struct sw_ptx *t);
void sw__px_send_upstream(struct sw_px *px, struct sw_ptx *t, unsigned status, const char *buf, size_t len,
			  uint64_t now);
void sw__px_branch_timers(struct sw_px *px, struct sw_ptx *t, uint64_t now);
void sw__px_branch_free(struct sw_px_branch *b);
/* Frees what a transaction no longer needs once its final response went
 * upstream and no branch is pending: it may linger 32 s (Timers J, L, M). */
void sw__px_compact(struct sw_ptx *t);
char *sw__px_dup(const char *p, size_t n);

#endif
