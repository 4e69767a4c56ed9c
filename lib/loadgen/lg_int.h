/* What the files of lib/loadgen share: timer queues, the per-transaction
 * slot, the scenario's request building and response handling. */
#ifndef SIPWARDEN_LG_INT_H
#define SIPWARDEN_LG_INT_H

#include "sipwarden/dueheap.h"
#include "sipwarden/loadgen.h"
#include "sipwarden/msg.h"

/* ---- timer queues (timer.c) ----------------------------------------------
 * Every entry of one queue is armed with the same delay, so deadlines come
 * out in the order they went in: a FIFO ring is a priority queue here. A
 * slot re-armed or finished bumps its tseq; older entries are skipped when
 * they come out (lazy cancel). */
struct sw__tq_ent {
	uint64_t due_ns;
	uint32_t slot;
	uint32_t tseq;
};
struct sw__tq {
	struct sw__tq_ent *v;
	size_t cap, head, len;
	uint64_t delay_ns;
};
#define SW__TQ_MAX 16u

int sw__tq_push(struct sw__tq *q, uint64_t now_ns, uint32_t slot, uint32_t tseq);
/* The oldest entry if it is due at now_ns: 1 and *e, else 0. */
int sw__tq_pop_due(struct sw__tq *q, uint64_t now_ns, struct sw__tq_ent *e);
/* Deadline of the oldest entry, UINT64_MAX when empty. */
uint64_t sw__tq_next(const struct sw__tq *q);
void sw__tq_free(struct sw__tq *q);

/* The retransmission queues of one thread: one per distinct interval of the
 * schedule (T1, 2T1, ... T2) and one for Timer F. */
struct sw__timers {
	struct sw_retx retx;
	unsigned nlevels;
	struct sw__tq level[SW__TQ_MAX];
	struct sw__tq f;
	struct sw_dueheap wait;      /* waits of any length (Retry-After): id slot, gen tseq */
};
void sw__timers_init(struct sw__timers *t, uint32_t t1_ms);
void sw__timers_free(struct sw__timers *t);
/* Queue index for the wait after the n-th transmission. */
unsigned sw__timers_level(const struct sw__timers *t, unsigned n, bool provisional);
uint64_t sw__timers_next(const struct sw__timers *t);
/* Arms a wait of delay_ns for slot (Retry-After). 0 or SW_ENOMEM. */
int sw__wait_push(struct sw__timers *t, uint64_t due_ns, uint32_t slot, uint32_t tseq);
/* The earliest wait if it is due at now_ns: 1 and *e, else 0. */
int sw__wait_pop_due(struct sw__timers *t, uint64_t now_ns, struct sw__tq_ent *e);

/* ---- one registration in flight (scenario.c, engine.c) ------------------ */

#define SW__REQ_CAP 1400u

struct sw__slot {
	uint32_t tseq;               /* timer generation (lazy cancel) */
	uint32_t gen;                /* registration generation, in the branch */
	bool busy;
	bool provisional;            /* a 1xx arrived for the current leg */
	uint8_t leg;                 /* 0 first request, 1 the digest answer */
	uint8_t sends;               /* transmissions of the current request */
	uint8_t attempt;             /* restarts after 503 + Retry-After (CSeq goes on) */
	uint32_t user;
	uint64_t seq;                /* registration number of this thread */
	uint64_t start_ns, leg_ns;
	uint16_t req_len;
	char req[SW__REQ_CAP];
};

/* What a scenario needs to know about the thread running it. */
struct sw__lg_ctx {
	const struct sw_lg_cfg *cfg;
	unsigned thread;
	char run_id[9];
	char local[64];              /* "127.0.0.1:PORT": the Via sent-by */
	char contact_host[80];       /* "127.0.0.1" or "[::1]", then ";transport=tcp" on TCP */
	const char *via_tp;          /* "UDP" */
	struct sw_digest_ctx *dc;
	uint64_t rnd;                /* xorshift state for cnonces and tags */
};

/* Builds the first request of a registration into s->req (s->user, s->seq,
 * s->gen set by the caller). 0 or SW_ENOSPC. */
int sw__lg_build_first(struct sw__lg_ctx *c, struct sw__slot *s, uint32_t slot_idx);

enum sw__lg_verdict {
	SW__LG_IGNORE = 0,           /* provisional, or not for this leg */
	SW__LG_DONE,                 /* the registration completed */
	SW__LG_NEXT,                 /* s->req holds the next leg's request */
	SW__LG_FAIL,                 /* a final failure status */
	SW__LG_AUTH_ERROR,           /* a challenge we could not answer */
	SW__LG_RETRY_AFTER,          /* 503 with Retry-After: wait, then start again */
};
/* Handles a final or provisional response m for slot s (already matched by
 * branch). SW__LG_RETRY_AFTER puts the seconds to wait in *retry_s. */
enum sw__lg_verdict sw__lg_on_response(struct sw__lg_ctx *c, struct sw__slot *s, uint32_t slot_idx,
				       const struct sw_msg *m, uint32_t *retry_s);
/* Decodes our branch: 1 with the slot index and generation, 0 when it is
 * not one of ours (another run or thread). */
int sw__lg_branch_decode(const struct sw__lg_ctx *c, sw_str branch, uint32_t *slot,
			 uint32_t *gen, unsigned *leg);

/* The call scenario (call.c): its own run, one thread, UDP. */
int sw__lg_call_run(const struct sw_lg_cfg *cfg, volatile int *stop, struct sw_lg_stats *st);

#endif
