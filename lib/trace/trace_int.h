/* Shared by the files of lib/trace (not public). */
#ifndef SW_TRACE_INT_H
#define SW_TRACE_INT_H

#include "sipwarden/trace.h"
#include "sipwarden/msg.h"
#include "sipwarden/auth.h"

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
	bool replay;             /* this client had an answer with this nonce and an nc as high accepted (qop) */
	bool uri_differs;        /* the digest uri is not the Request-URI as written */
	bool nonce_accepted;     /* the server accepted (2xx) an earlier answer of this client with the same nonce */
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
	struct sw__hmap nonces;  /* nonce + client -> highest accepted nc, frame of last use */
	struct sw__hmap uriok;   /* server + digest uri accepted -> frame */
	struct sw__oflow *lru_head, *lru_tail;
	size_t nopen;
	size_t ok_kept;          /* messages of successful flows kept */
	size_t failed_full;      /* failing flows kept whole */
	uint64_t now;            /* capture time of the last message processed */
	/* the verdict being written */
	char jdetail[512];
	struct { unsigned msg, frame, input; char note[384]; enum sw_cause finding; } jev[SW_TRACE_MAX_EVIDENCE];
	unsigned jnev;
	enum sw_trace_certainty jcert;
	bool jquiet;             /* write no detail and no evidence (a summarised flow) */
	struct sw_trace_stats st;
	struct sw_trace_summary forgot; /* flows forgotten by sw_trace_forget() */
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

/* judged.c: judges the flow of transactions tx[0..n) (taken over) and
 * keeps it, summarises it or drops it; a message of no flow; freeing
 * transactions. */
void sw__close_flow(struct sw_trace *t, struct sw__txn *tx, unsigned n);
void sw__orphan(struct sw_trace *t, unsigned slot);
void sw__txns_free(struct sw__txn *tx, unsigned n);

/* flows.c: one message in time order; the end of the input. */
void sw__flow_msg(struct sw_trace *t, unsigned slot);
int sw__flows_finish(struct sw_trace *t);
/* Judges the flows idle at capture time now (live input). */
void sw__flows_expire(struct sw_trace *t, uint64_t now);
void sw__flows_free(struct sw_trace *t);

/* accepted.c: what the server evidently accepts */
/* The first Digest credentials of a request. */
bool sw__creds_of(const struct sw_msg *m, struct sw_auth *a);
/* At a new transaction with credentials: the same client re-sending a
 * nonce (and nc) the server accepted before. */
void sw__nonce_use(struct sw_trace *t, struct sw__txn *x, const struct sw_trace_msg *req);
/* At a 2xx to a transaction with credentials: its nonce was accepted, so a
 * later refusal of the same nonce with a new challenge means it expired. */
void sw__nonce_accepted(struct sw_trace *t, const struct sw__txn *x);
/* Records that the server accepted the digest uri of x (when it is not the
 * Request-URI): such a mismatch is then not blamed. */
void sw__uri_accepted(struct sw_trace *t, const struct sw__txn *x);
/* The frame of an answer to server whose digest uri was uri and that the
 * server accepted, or SW__NONE. */
unsigned sw__uri_accepted_at(const struct sw_trace *t, const char *server, sw_str uri);

/* verdict.c */
/* Fills cause, failed, auth, fail_msg and final_status of a flow of
 * transactions tx[0..n); its detail and evidence are left in t (jdetail,
 * jev) until sw__verdict_strings() copies them into a flow that is kept. */
void sw__verdict(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *tx, unsigned n);
void sw__detail(struct sw_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Evidence in a message that is no longer kept (another, judged flow). */
void sw__evidence_frame(struct sw_trace *t, unsigned frame, unsigned input, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Gives f its own copies of the detail and evidence of the last verdict. */
void sw__verdict_strings(const struct sw_trace *t, struct sw_trace_flow *f);
void sw__evidence(struct sw_trace *t, struct sw_trace_flow *f, unsigned msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A finding (a hitch with a cause of its own) at message msg. */
void sw__finding(struct sw_trace *t, unsigned msg, enum sw_cause c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sw__flow_strings_free(struct sw_trace_flow *f);
/* Adds a finding at message tm (not kept) to a flow already judged. */
void sw__flow_add_finding(struct sw_trace_flow *f, const struct sw_trace_msg *tm, enum sw_cause c,
			  const char *note);

/* answer.c: the verdict on an answer to a challenge that the server
 * refused (x, answering prev's challenge); sets t->jcert. */
enum sw_cause sw__rejected(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
			   const struct sw__txn *x);
/* With --credentials, verifies the answer of x: true with *cause (ok: right)
 * when the account is known. */
bool sw__answer_proof(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
		      const struct sw__txn *x, enum sw_cause *cause);
/* Every Digest challenge of a 401/407 (several headers, several per header). */
unsigned sw__challenges_of(const struct sw_msg *m, struct sw_auth *ch, unsigned max);
bool sw__reason_says_nonce(const struct sw_msg *m);
/* An address a report can compare (not "", "local", "remote"). */
bool sw__known_addr(const char *a);
void sw__first_line(const struct sw_trace_msg *tm, char *out, size_t cap);
/* s as a C string in buf ("" for a null slice). */
const char *sw__s(sw_str s, char *buf, size_t cap);

#endif
