/* Proxy internals: the transaction user of the proxy (RFC 3261 §16) on top
 * of the registrar's worker state (verifiers, credentials, location index,
 * auth decision log). proxy.c: request processing in §16.3-16.6 order;
 * route.c: Route/Record-Route and flow tokens; fwd.c: printing forwarded
 * requests; glue.c: the transaction layer's callbacks, responses, timers. */
#ifndef SW_PROXY_INT_H
#define SW_PROXY_INT_H

#include "proxy/proxy.h"
#include "proxy/ptx.h"
#include "registrar/reg_int.h"

#define PX_TOKEN_MAX 96u
#define PX_TOKEN_LEN 88u          /* hex of a token's body and MAC (route.c) */
#define PX_TOKEN_CACHE 256u       /* tokens this worker made or verified */
#define PX_LISTEN_MAX 32u         /* as the server's listen table */

struct sw_proxy_worker {
	struct sw_registrar_worker *rw;
	struct sw_worker *w;           /* this worker (set on each entry) */
	struct sw_px *px;
	struct sw_calls *calls;        /* the server's recent calls (calls.c) */
	struct sw_verifier *ver[SW_REGISTRAR_MAX_DOMAINS]; /* 407 challenges */
	struct sw_hmac *rr_mac;        /* signs the flow tokens of our Record-Route */
	char hostport[PX_LISTEN_MAX][300]; /* our host:port per listen address, made on first use */
	/* Tokens known good: a dialog's ACK and BYE carry the tokens its
	 * INVITE's Record-Route got, and an equal string needs no second MAC
	 * (route.c). Two-way sets by MAC bits; an entry is a token and its
	 * body. */
	struct px_token_seen {
		char hex[PX_TOKEN_LEN];
		unsigned char body[PX_TOKEN_LEN / 2];
		bool used;
	} seen[PX_TOKEN_CACHE];
	/* The token of a flow, by its body: a phone's calls come on one flow,
	 * and each INVITE's Record-Route names it again. */
	struct px_token_made {
		unsigned char body[PX_TOKEN_LEN / 2];
		char hex[PX_TOKEN_LEN];
		bool used;
	} made[PX_TOKEN_CACHE / 4];
	/* While the branches of a request start from its handler: the request
	 * as parsed there (the transaction keeps a copy of the same bytes,
	 * which io_build need not parse again). */
	const struct sw_ptx *cur_t;
	const struct sw_msg *cur_m;
};

/* What the TU keeps per proxy transaction (t->user). */
struct px_ctx {
	struct sw_proxy_worker *pw;
	struct sw_peer from;           /* the upstream peer, as received */
	struct sw_flow from_flow;
	unsigned pop;                  /* leading Route values that were ours */
	bool record_route;
	bool keep_ruri;                /* routed by Route: the Request-URI stays */
	char *strict_ruri;             /* after a strict router: the last Route value, the new
					  Request-URI (that Route value is dropped) */
	bool in_dialog;
	uint32_t loop_hash;
	char caller[SW_STORE_AOR_MAX + 1];
	char callee[SW_STORE_AOR_MAX + 1];
	char auth_user[SW_STORE_USER_MAX + 1];
	char realm[SW_STORE_DOMAIN_MAX + 1];
	int64_t call_id;               /* the call record (INVITE), 0: none */
	enum sw_cause cause;           /* the last decision recorded */
	enum sw_cause outcome;         /* why a forwarded call failed here (SW_CAUSE_OK: it did not) */
};

/* route.c */
/* Is this URI one of ours (a listen address, or a served domain)? */
bool sw__px_uri_is_ours(struct sw_proxy_worker *pw, const struct sw_uri *u);
/* The domain index for a Request-URI host: a served domain, or the first
 * domain for one of our own addresses; -1 otherwise. */
int sw__px_domain_of(struct sw_proxy_worker *pw, const struct sw_uri *u);
int sw__px_domain_index(struct sw_proxy_worker *pw, sw_str host);
/* A flow token (the user part of our Record-Route) for a flow, signed. */
void sw__px_token_make(struct sw_proxy_worker *pw, const struct sw_flow *f, char out[PX_TOKEN_MAX]);
/* 0 and the flow when tok is a token of ours with a good signature. */
int sw__px_token_parse(struct sw_proxy_worker *pw, sw_str tok, struct sw_flow *f);
/* Where a URI points (numeric host, port, transport=udp only without a
 * connection to reuse). 0 or SW_ENOTFOUND. */
int sw__px_uri_flow(struct sw_proxy_worker *pw, const struct sw_uri *u, struct sw_flow *f);
/* Our host:port on a listen address, for Via and Record-Route. */
const char *sw__px_hostport(struct sw_proxy_worker *pw, unsigned listen);
/* Route preprocessing (§16.4): counts our leading Route values into *pop
 * and returns the flow of the last one with a valid token (in-dialog). */
bool sw__px_routes(struct sw_proxy_worker *pw, const struct sw_msg *m, unsigned *pop, struct sw_flow *last);
/* The first Route value after the first `skip` ones, if any. */
bool sw__px_route_after(const struct sw_msg *m, unsigned skip, struct sw_uri *u);
/* The number of Route values and the last one. */
unsigned sw__px_route_last(const struct sw_msg *m, sw_str *last);

/* fwd.c */
struct px_fwd {
	sw_str ruri;                   /* the new Request-URI */
	const struct sw_flow *to;      /* where it goes */
	const char *branch;
	unsigned pop;
	const char *path;              /* Route values to add first (the binding's Path), or NULL */
	bool drop_last_route;          /* a strict router's: it became the Request-URI */
	bool record_route;
	const struct sw_flow *caller;  /* for the Record-Route towards the caller */
	const struct sw_peer *from;    /* the upstream peer: received/rport in its Via */
};
int sw__px_print_request(struct sw_proxy_worker *pw, const struct sw_msg *m, const struct px_fwd *f,
			 struct sw_buf *b);
/* A stateless forward (ACK for a 2xx, §16.11): our Via with a branch
 * derived from the request's own. */
void sw__px_forward_stateless(struct sw_proxy_worker *pw, const struct sw_msg *m, const struct sw_peer *from,
			      unsigned pop, const struct sw_flow *to);

/* glue.c */
extern const struct sw_px_io sw__px_io_ops;
/* Records an auth decision for a request of the proxy (the caller's AOR). */
void sw__px_event(struct sw_req *q, struct px_ctx *c, enum sw_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A local final response for the transaction: status line, the request's
 * headers, extra lines, sent and kept for retransmissions. */
void sw__px_reply(struct sw_req *q, struct sw_ptx *t, unsigned status, const char *reason, const char *extra);

/* calls.c */
void sw__px_call_begin(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_req *q);
void sw__px_call_update(struct sw_proxy_worker *pw, struct sw_ptx *t, unsigned status, const struct sw_msg *resp);
void sw__px_call_bye(struct sw_proxy_worker *pw, sw_str call_id);
/* An INVITE refused here (status) for c->cause: a failed call, unless the
 * cause is a normal step (a first challenge, a stale nonce). */
void sw__px_call_refused(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_req *q, unsigned status);

#endif
