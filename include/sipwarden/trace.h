/* sipwarden — the analyzer: reads captures (pcap, pcapng) and text logs of
 * SIP messages, follows every authentication flow and names each outcome
 * with a cause from the causes table. See docs/internals/trace.md.
 *
 * Life cycle: sw_trace_new(), sw_trace_read_file() for each input (or
 * sw_trace_read_mem(), sw_trace_add_frame(), sw_trace_add_sip()), then
 * sw_trace_analyze() once, then the accessors and the reports. The library
 * never prints: reports go to a caller-given writer.
 *
 * Memory is bounded: messages go through a reorder window of
 * SW_TRACE_REORDER messages (time order), then flows are followed as the
 * messages come; a flow is judged as soon as it is complete, or when it has
 * been idle for SW_TRACE_IDLE_US of capture time. Successful flows keep their
 * messages only while fewer than SW_TRACE_KEEP_OK messages are kept that
 * way; later ones are summarised (a compact record, no messages). Failing
 * flows keep their messages; after SW_TRACE_KEEP_FAILED of them, only the
 * first line and the metadata of each message. */
#ifndef SIPWARDEN_TRACE_H
#define SIPWARDEN_TRACE_H

#include "sipwarden/common.h"
#include "sipwarden/causes.h"
#include "sipwarden/transport.h"

/* ==== credentials (lib/trace/creds.c) ==================================== */

/* The --credentials file: one account a line, '#' starts a comment line,
 * blank lines are ignored:
 *   user@domain,password
 *   user@domain,realm,ALGORITHM:HA1      (ALGORITHM: MD5, SHA-256, SHA-512-256)
 * The password is everything after the first comma (it may contain commas).
 * user is the digest username; domain matches the AOR's domain or the
 * realm of the answer. */
struct sw_creds;

/* Parses text (len bytes). 0, or SW_EPARSE with the line number and the
 * reason in why; SW_ENOMEM. */
int sw_creds_parse(struct sw_creds **out, const char *text, size_t len, char *why, size_t cap);
/* Reads and parses a file. SW_EIO when it cannot be read. */
int sw_creds_load(struct sw_creds **out, const char *path, char *why, size_t cap);
void sw_creds_free(struct sw_creds *c);
size_t sw_creds_count(const struct sw_creds *c);

/* One account, as found by sw_creds_find(). */
struct sw_cred {
	char *user, *domain;
	char *password;          /* NULL when an HA1 is given */
	char *realm;             /* with an HA1 */
	char *ha1;               /* lower-case hex, NULL with a password */
	int alg;                 /* enum sw_digest_alg of the HA1 */
};
/* The account of a digest username seen with realm (and the AOR domain):
 * user must match; domain must match the AOR domain or the realm, unless
 * only one account has that user. NULL when none. */
const struct sw_cred *sw_creds_find(const struct sw_creds *c, sw_str user, sw_str realm,
				    sw_str aor_domain);

/* ==== the analysis ======================================================== */

#define SW_TRACE_ADDR_MAX 64u
#define SW_TRACE_MAX_PORTS 32u
#define SW_TRACE_REORDER 4096u           /* messages waiting to be put in time order */
#define SW_TRACE_IDLE_US 64000000ull     /* a flow idle this long (capture time) is judged */
#define SW_TRACE_KEEP_OK 4096u           /* messages of successful flows kept for reports */
#define SW_TRACE_KEEP_FAILED 1024u       /* failing flows kept with whole messages */

struct sw_trace;

struct sw_trace_opts {
	uint16_t ports[SW_TRACE_MAX_PORTS]; /* SIP ports besides 5060 and 5061 */
	unsigned nports;
	const struct sw_creds *creds;      /* not owned; may be NULL */
	const char *user;                  /* only flows of this AOR (user@domain); NULL: all */
	/* Called now and then while reading (bytes done of total); may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	uint64_t idle_us;                  /* a flow idle this long is judged; 0: SW_TRACE_IDLE_US */
};

/* Where a message came from. Addresses are "ip:port" ("[v6]:port"), or a
 * name a log gives ("local", "peer"), or "" when unknown. */
struct sw_trace_meta {
	unsigned input;          /* index of the input file */
	unsigned frame;          /* capture frame (the last one of the message), or message number in a log */
	uint64_t ts_us;          /* microseconds since the epoch; 0 unknown */
	char src[SW_TRACE_ADDR_MAX], dst[SW_TRACE_ADDR_MAX];
	enum sw_transport tp;
	unsigned nfrags;         /* IP fragments the datagram came in (1: none) */
};

/* Counters of what was read and what was skipped. */
struct sw_trace_stats {
	uint64_t bytes;          /* input bytes */
	uint64_t frames;         /* capture records */
	uint64_t sip_msgs;       /* SIP messages kept */
	uint64_t parse_errors;   /* looked like SIP, did not parse */
	uint64_t skipped;        /* undecodable frames (garbage, truncated, other protocols on SIP ports) */
	uint64_t truncated;      /* frames shorter than on the wire (snap length) */
	uint64_t fragments;      /* IP fragments seen */
	uint64_t reassembled;    /* datagrams rebuilt from fragments */
	uint64_t frag_dropped;   /* incomplete or inconsistent fragment sets */
	uint64_t tunnels;        /* IP-in-IP packets unwrapped */
	uint64_t tcp_segments;   /* TCP segments with data */
	uint64_t tcp_retrans;    /* retransmitted or overlapping bytes dropped (segments) */
	uint64_t tcp_ooo;        /* segments that arrived out of order */
	uint64_t tcp_gaps;       /* holes given up on (missing segments) */
	uint64_t flows, auth_flows, failures;
	uint64_t summarised;     /* successful flows kept as a compact record only */
	uint64_t late_retrans;   /* copies of a request seen after its flow was judged */
	uint64_t peak_open;      /* most flows open at once */
};

int sw_trace_new(struct sw_trace **out, const struct sw_trace_opts *o);
void sw_trace_free(struct sw_trace *t);

/* Reads one input: pcap or pcapng (by the magic number) or a text log of SIP
 * messages. Returns 0; SW_EIO when the file cannot be read; SW_EPARSE when
 * it is no capture and no log, has an unknown link type, or is truncated
 * (the packets before the truncation are kept). why gets the reason. */
int sw_trace_read_file(struct sw_trace *t, const char *path, char *why, size_t cap);
/* The same for bytes in memory; name is used in reports. */
int sw_trace_read_mem(struct sw_trace *t, const char *name, const void *buf, size_t len,
		      char *why, size_t cap);
/* One captured frame of link type dlt (DLT_* of libpcap) of input `input`.
 * caplen bytes are present, wirelen were on the wire. Garbage is counted
 * and skipped. */
void sw_trace_add_frame(struct sw_trace *t, unsigned input, unsigned frame, uint64_t ts_us,
			int dlt, const uint8_t *data, size_t caplen, size_t wirelen);
/* One whole SIP message (copied). */
void sw_trace_add_sip(struct sw_trace *t, const struct sw_trace_meta *meta, const char *data,
		      size_t len);
/* Registers an input name (for sw_trace_add_* callers); returns its index. */
unsigned sw_trace_add_input(struct sw_trace *t, const char *name);

/* Correlates transactions and flows and gives each flow a verdict. Once,
 * after the inputs. 0 or SW_ENOMEM. */
int sw_trace_analyze(struct sw_trace *t);

/* ---- results -------------------------------------------------------------- */

struct sw_trace_msg {
	struct sw_trace_meta meta;
	char *data;              /* the message bytes (owned by the trace) */
	size_t len;
	struct sw_msg *m;        /* parsed; NULL when it did not parse */
	size_t seq;              /* reading order */
};

/* A piece of evidence: a message and what it shows. When `finding` is not
 * SW_CAUSE_OK, it is a finding: a hitch on the way that has a cause of its
 * own (a 423 before the success, a stale nonce, a refused first answer, a
 * duplicate final response), listed beside the verdict. */
struct sw_trace_evidence {
	unsigned msg;            /* message index; UINT32_MAX when the message is not kept */
	unsigned frame, input;   /* where it is in the capture */
	const char *note;
	enum sw_cause finding;   /* SW_CAUSE_OK: plain evidence */
};

/* How sure a verdict is: proven with the credentials (--credentials), evident
 * from what the server did (its answers show it), or likely (one explanation
 * among several, the others named in the detail). */
enum sw_trace_certainty {
	SW_TRACE_LIKELY = 0,
	SW_TRACE_EVIDENT,
	SW_TRACE_PROVEN,
};
/* "likely", "evident", "proven". */
const char *sw_trace_certainty_name(enum sw_trace_certainty c);

#define SW_TRACE_MAX_EVIDENCE 8u

struct sw_trace_flow {
	unsigned id;             /* 1-based */
	char method[24];
	char aor[160];           /* user@host of To */
	char client[SW_TRACE_ADDR_MAX], server[SW_TRACE_ADDR_MAX];
	char call_id[128];
	unsigned *msgs;          /* message indices, in time order */
	unsigned nmsgs;
	bool auth;               /* a challenge or credentials took part */
	bool failed;             /* the verdict is a failure */
	bool proved;             /* the verdict was proved with --credentials */
	unsigned fail_msg;       /* message of the failing step (UINT32_MAX: none) */
	unsigned final_status;   /* last final status, 0 none */
	enum sw_cause cause;
	enum sw_trace_certainty certainty;
	const char *detail;      /* the specifics of this flow ("" none) */
	struct sw_trace_evidence *ev;
	unsigned nev;
	uint64_t first_ts;       /* the first message: time, reading order, frame, input */
	uint64_t first_seq;
	unsigned first_frame, first_input;
	bool light;              /* messages kept as first lines only (no parsed message) */
};

const struct sw_trace_stats *sw_trace_stats(const struct sw_trace *t);
/* Message slots (reading order while nothing was freed); NULL for a slot
 * whose message was freed with its summarised flow. */
size_t sw_trace_msg_count(const struct sw_trace *t);
const struct sw_trace_msg *sw_trace_msg_get(const struct sw_trace *t, size_t i);
size_t sw_trace_flow_count(const struct sw_trace *t);
const struct sw_trace_flow *sw_trace_flow_get(const struct sw_trace *t, size_t i);
/* Successful flows summarised without their messages (see above). */
struct sw_trace_flow_sum {
	uint64_t first_ts, first_seq;
	unsigned id, first_frame, first_input;
	unsigned nmsgs, final_status;
	enum sw_cause cause;
	enum sw_trace_certainty certainty;
	bool auth, proved;
	const char *method, *aor; /* owned by the trace */
};
size_t sw_trace_sum_count(const struct sw_trace *t);
const struct sw_trace_flow_sum *sw_trace_sum_get(const struct sw_trace *t, size_t i);
const char *sw_trace_input_name(const struct sw_trace *t, unsigned input);

/* ---- live input (lib/trace/hep.c, lib/trace/trace.c) ------------------------ */

/* One HEPv3 packet, decoded (pointers into the packet). */
struct sw_hep {
	uint64_t ts_us;          /* capture time; 0 unknown */
	char src[SW_TRACE_ADDR_MAX], dst[SW_TRACE_ADDR_MAX];
	enum sw_transport tp;    /* from the IP protocol chunk: TCP (6) or UDP */
	unsigned payload_type;   /* 1 SIP; 0 when not given */
	const char *payload;     /* the captured message */
	size_t len;
};
/* Decodes a HEPv3 packet of len bytes. With key, the packet must carry the
 * same authentication key (chunk 14). 0; SW_EPARSE when it is not HEPv3 or
 * is malformed (a chunk past the end, a wrong size, no payload); SW_EINVAL
 * when the key is missing or differs. */
int sw_hep_parse(const void *buf, size_t len, const char *key, struct sw_hep *out);

/* For live input: every message captured up to now_us - delay_us leaves the
 * reorder window (live messages come nearly in order), and the flows idle
 * for longer than the idle time (sw_trace_opts.idle_us) are judged. New
 * judged flows are appended to the flow list (sw_trace_flow_count()). */
void sw_trace_flush(struct sw_trace *t, uint64_t now_us, uint64_t delay_us);

/* Flows by outcome: every judged flow, also those forgotten. */
struct sw_trace_summary {
	uint64_t by_cause[SW_CAUSE__COUNT]; /* auth flows by their cause */
	uint64_t ok, failed;                /* auth flows (a cancelled request counts as ok) */
	uint64_t other;                     /* flows without authentication */
};
void sw_trace_summary(const struct sw_trace *t, struct sw_trace_summary *s);

/* Live input over days (lib/trace/retain.c): forgets the oldest judged
 * flows past the newest keep_flows, and the oldest summarised ones past
 * keep_sums (their messages freed, their counts kept for
 * sw_trace_summary()). Returns how many flows were forgotten: the flow
 * indices shift down by that much. */
size_t sw_trace_forget(struct sw_trace *t, size_t keep_flows, size_t keep_sums);

/* ---- reports (lib/trace/report.c) ----------------------------------------- */

typedef void (*sw_trace_write_fn)(void *arg, const char *p, size_t n);

/* Summary (flows, successes, failures by cause), then per AOR each failure
 * with its evidence, explanation and fix. verbose: successes too. */
void sw_trace_report_text(const struct sw_trace *t, bool verbose, sw_trace_write_fn w, void *arg);
/* One JSON object: inputs, stats, summary, every flow with its messages
 * (frame, time, src, dst, first line) and verdict. */
void sw_trace_report_json(const struct sw_trace *t, sw_trace_write_fn w, void *arg);
/* One self-contained HTML page: the summary and, for each failing flow, a
 * ladder diagram (inline SVG) with the explanation beside it. */
void sw_trace_report_html(const struct sw_trace *t, sw_trace_write_fn w, void *arg);

#endif
