/* Shared by the files of lib/trace (not public). */
#ifndef SW_TRACE_INT_H
#define SW_TRACE_INT_H

#include "sipwarden/trace.h"
#include "sipwarden/msg.h"

#define SW__NONE UINT32_MAX

/* An IP address as found in a packet. */
struct sw__ipaddr {
	uint8_t v6;
	uint8_t a[16];
};

/* What the link and IP layers know about a packet on its way up. */
struct sw__pkt {
	unsigned input, frame;
	uint64_t ts_us;
	struct sw__ipaddr src, dst;
	unsigned nfrags;
	unsigned depth;          /* tunnel nesting */
};

struct sw__frag_table;
struct sw__tcp_table;

/* ---- hmap.c: string keys, chained, with insertion order (for expiry) ---- */
struct sw__hent {
	struct sw__hent *next;          /* bucket chain */
	struct sw__hent *fprev, *fnext; /* insertion order */
	uint64_t h;
	void *val;
	uint64_t u;
	size_t klen;
	char key[];
};
struct sw__hmap {
	struct sw__hent **b;
	size_t nb, n;
	struct sw__hent *fhead, *ftail;
};
struct sw__hent *sw__hmap_get(const struct sw__hmap *m, const char *key, size_t klen);
/* The entry of key, created (val NULL, u 0) when absent; NULL on ENOMEM. */
struct sw__hent *sw__hmap_put(struct sw__hmap *m, const char *key, size_t klen, bool *created);
void sw__hmap_del(struct sw__hmap *m, struct sw__hent *e);
/* Moves entry e of from, whose key is not in to, into to (at the end of its
 * order; val NULL, u 0): no copy. false when to cannot grow (e is freed). */
bool sw__hmap_move(struct sw__hmap *from, struct sw__hmap *to, struct sw__hent *e);
void sw__hmap_free(struct sw__hmap *m);

/* One transaction: a request (and its retransmissions) and its responses. */
struct sw__txn {
	unsigned *reqs, nreqs;   /* copies of the request, in time order */
	unsigned *resps, nresps;
	unsigned final;          /* first final response, SW__NONE none */
	unsigned challenge;      /* first 401/407, SW__NONE none */
	unsigned retrans_after_final; /* request copies seen after the final response */
	bool has_creds;          /* Authorization / Proxy-Authorization sent */
	bool replay;             /* an earlier transaction used the same nonce and nc */
	bool uri_differs;        /* the digest uri is not the Request-URI as written */
	bool nonce_accepted;     /* the server accepted (2xx) an earlier answer with the same nonce */
	enum sw_method method;
	unsigned replay_frame, replay_input; /* where that earlier request (replay, nonce_accepted) was */
	struct sw__hent *te;     /* entry in the open-transaction map */
};

/* A flow being followed. */
struct sw__oflow {
	struct sw__oflow *prev, *next; /* least recently active first */
	struct sw__hent *fe;
	struct sw__txn *tx;
	unsigned n, cap;
	uint64_t last_ts;
};

/* Transactions of a failing flow kept whole, to judge it again at the end. */
struct sw__ftx {
	struct sw__txn *tx;
	unsigned n;
};

/* A message waiting in the reorder window: the heap orders these, so that
 * ordering never touches the (cold) messages themselves. */
struct sw__wait {
	uint64_t ts, seq;
	const char *data;        /* the message bytes, to prefetch them */
	unsigned slot, len;
};

struct sw__sum {
	struct sw_trace_flow_sum s;
	unsigned aor, method;    /* interned */
};

struct sw_trace {
	struct sw_trace_opts o;
	char **inputs;
	unsigned ninputs;
	/* message slots; a freed slot has seq == UINT64_MAX and is reused */
	struct sw_trace_msg *msgs;
	size_t nmsgs, capmsgs;
	unsigned *freeslots;
	size_t nfree, capfree;
	uint64_t seq;
	/* the reorder window: a min-heap by (time, seq); messages are parsed
	 * when they leave it */
	struct sw__wait *heap;
	size_t nheap;
	struct sw_msg *scratch;  /* parse buffer */
	/* flows */
	struct sw_trace_flow *flows;
	struct sw__ftx *ftx;     /* parallel to flows until the end */
	size_t nflows, capflows;
	struct sw__sum *sums;
	size_t nsums, capsums;
	char **strs;             /* interned AORs and methods */
	size_t nstrs, capstrs;
	struct sw__hmap strmap;
	struct sw__hmap txmap;   /* open transactions */
	struct sw__hmap done;    /* transactions of judged flows (late copies) */
	struct sw__hmap fmap;    /* open flows by Call-ID + sent-by */
	struct sw__hmap nonces;  /* nonce -> last nc, frame of last use */
	struct sw__hmap uriok;   /* server + digest uri accepted -> frame */
	struct sw__oflow *lru_head, *lru_tail;
	size_t nopen;
	size_t ok_kept;          /* messages of successful flows kept */
	size_t failed_full;      /* failing flows kept whole */
	uint64_t now;            /* capture time of the last message processed */
	/* the verdict being written */
	char jdetail[512];
	struct { unsigned msg, frame, input; char note[384]; } jev[SW_TRACE_MAX_EVIDENCE];
	unsigned jnev;
	bool jquiet;             /* write no detail and no evidence (a summarised flow) */
	struct sw_trace_stats st;
	struct sw__frag_table *frags;
	struct sw__tcp_table *tcp;
	bool analyzed;
};

/* ip.c */
void sw__ip_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len, int version);
void sw__frag_free(struct sw__frag_table *ft);
void sw__ipaddr_format(const struct sw__ipaddr *a, unsigned port, char *out, size_t cap);
/* Is this port one of the SIP ports (5060, 5061, --port)? */
bool sw__trace_sip_port(const struct sw_trace *t, unsigned port);
/* Do these bytes begin with a SIP start line? */
bool sw__looks_like_sip(const char *p, size_t len);

/* tcp.c */
void sw__tcp_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len);
void sw__tcp_free(struct sw__tcp_table *tt);

/* textlog.c: 0, or SW_EPARSE when no SIP message was found. */
int sw__textlog_read(struct sw_trace *t, unsigned input, const char *text, size_t len,
		     char *why, size_t cap);

/* pcap.c: reads the capture from f (closed here); total is its size for
 * the progress callback. */
int sw__pcap_read(struct sw_trace *t, unsigned input, void *f, uint64_t total, char *why,
		  size_t cap);

/* trace.c */
/* Frees the message and its slot (reused later). */
void sw__msg_free(struct sw_trace *t, unsigned slot);

/* flows.c: one message in time order; the end of the input. */
void sw__flow_msg(struct sw_trace *t, unsigned slot);
int sw__flows_finish(struct sw_trace *t);
void sw__flows_free(struct sw_trace *t);

/* verdict.c */
/* At a new transaction with credentials: nonce and nc reuse. */
void sw__nonce_use(struct sw_trace *t, struct sw__txn *x, const struct sw_trace_msg *req);
/* At a 2xx to a transaction with credentials: its nonce was accepted, so a
 * later refusal of the same nonce with a new challenge means it expired. */
void sw__nonce_accepted(struct sw_trace *t, const struct sw__txn *x);
/* Records that the server accepted the digest uri of x (when it is not the
 * Request-URI): such a mismatch is then not blamed. */
void sw__uri_accepted(struct sw_trace *t, const struct sw__txn *x);
/* Fills cause, failed, auth, fail_msg and final_status of a flow of
 * transactions tx[0..n); its detail and evidence are left in t (jdetail,
 * jev) until sw__verdict_strings() copies them into a flow that is kept. */
void sw__verdict(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *tx, unsigned n);
/* Gives f its own copies of the detail and evidence of the last verdict. */
void sw__verdict_strings(const struct sw_trace *t, struct sw_trace_flow *f);
void sw__evidence(struct sw_trace *t, struct sw_trace_flow *f, unsigned msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sw__flow_strings_free(struct sw_trace_flow *f);

#endif
