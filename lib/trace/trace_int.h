/* Shared by the files of lib/trace (not public). */
#ifndef SW_TRACE_INT_H
#define SW_TRACE_INT_H

#include "sipwarden/trace.h"
#include "sipwarden/msg.h"

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

/* One transaction: a request (and its retransmissions) and its responses. */
struct sw__txn {
	unsigned *reqs, nreqs;   /* copies of the request, in time order */
	unsigned *resps, nresps;
	unsigned final;          /* first final response, UINT32_MAX none */
	unsigned challenge;      /* first 401/407, UINT32_MAX none */
	unsigned retrans_after_final; /* request copies seen after the final response */
	bool has_creds;          /* Authorization / Proxy-Authorization sent */
	enum sw_method method;
	unsigned replay_of;      /* an earlier transaction that used the same nonce and nc, or UINT32_MAX */
	char key[512];
};

struct sw_trace {
	struct sw_trace_opts o;
	char **inputs;
	unsigned ninputs;
	struct sw_trace_msg *msgs;
	size_t nmsgs, capmsgs;
	struct sw_trace_flow *flows;
	size_t nflows, capflows;
	struct sw__txn *txns;
	size_t ntxns, captxns;
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

/* pcap.c */
int sw__pcap_read(struct sw_trace *t, unsigned input, const void *buf, size_t len, char *why,
		  size_t cap);

/* flows.c */
int sw__flows_build(struct sw_trace *t);
struct sw_trace_flow *sw__flow_new(struct sw_trace *t);
int sw__flow_add_msg(struct sw_trace_flow *f, unsigned msg);

/* verdict.c: marks answers that reuse a nonce-count (before the flows). */
int sw__nonce_uses(struct sw_trace *t);
/* verdict.c: fills cause, failed, detail and evidence of a flow whose
 * transactions are txns[0..n). */
void sw__verdict(struct sw_trace *t, struct sw_trace_flow *f, const unsigned *txns, unsigned n);
void sw__evidence(struct sw_trace *t, struct sw_trace_flow *f, unsigned msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
