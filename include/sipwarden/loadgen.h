/* sipwarden — the SIP load generator behind `sipwarden bench`: users
 * (pattern or file), the registration scenarios, RFC 3261 retransmission
 * timers, latency histograms, multi-threaded batched UDP I/O, and the
 * report (text, JSON). See docs/internals/loadgen.md.
 *
 * The library never prints: sw_lg_run() fills a struct sw_lg_stats and
 * sw_lg_report_*() render it into a caller-owned sw_buf. */
#ifndef SIPWARDEN_LOADGEN_H
#define SIPWARDEN_LOADGEN_H

#include <sys/socket.h>
#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/auth.h"

/* ==== latency histogram (lib/loadgen/hist.c) ============================== */

/* Log-linear buckets over microseconds: exact below 128 µs, then 64 buckets
 * per power of two (relative error < 1/64). Fixed size, no allocation;
 * histograms of several threads are merged by adding. */
#define SW_HIST_SUB 64u
#define SW_HIST_BUCKETS (SW_HIST_SUB * 40u)

struct sw_hist {
	uint64_t n;
	uint64_t min, max;           /* exact, µs */
	uint64_t sum;
	uint64_t b[SW_HIST_BUCKETS];
};

void sw_hist_init(struct sw_hist *h);
void sw_hist_add(struct sw_hist *h, uint64_t us);
void sw_hist_merge(struct sw_hist *into, const struct sw_hist *from);
/* The value below which p percent of the samples lie (p in 0..100): the
 * upper end of the bucket that holds the sample of rank ceil(p/100 * n),
 * clamped to [min, max]. 0 for an empty histogram. */
uint64_t sw_hist_percentile(const struct sw_hist *h, double p);
/* The largest value (µs) that falls in bucket idx (< SW_HIST_BUCKETS). */
uint64_t sw_hist_bucket_high(unsigned idx);

/* ==== users (lib/loadgen/users.c) ========================================= */

/* A pattern "user%05d@DOMAIN:pw-user%05d": an AOR template, ':' (the first
 * one after the '@'), a password template. The only conversions are
 * %[0][width]d (the user's index, 0-based) and %%. */
struct sw_userpat {
	char aor[256];
	char pw[256];
};
/* 0, or SW_EINVAL with a reason in why. */
int sw_userpat_parse(const char *pattern, struct sw_userpat *out, char *why, size_t why_cap);
/* Expands one template for index i into out (NUL-terminated). 0 or SW_ENOSPC. */
int sw_userpat_format(const char *tmpl, unsigned long i, char *out, size_t cap);

struct sw_lg_user {
	char *user;                  /* user part of the AOR */
	char *domain;                /* host part: Request-URI and To domain */
	char *password;
};
struct sw_lg_users {
	struct sw_lg_user *v;
	size_t n;
	char *mem;                   /* one allocation holding every string */
};
/* n users from a pattern. 0, SW_EINVAL (an AOR without '@'), SW_ENOMEM. */
int sw_lg_users_from_pattern(struct sw_lg_users *out, const struct sw_userpat *p, size_t n);
/* Users from the text of a `sipwarden user import` file: lines
 * "user@domain,password"; '#' comments and blank lines skipped. 0, or
 * SW_EPARSE with the 1-based line in *bad_line, SW_ENOMEM. */
int sw_lg_users_from_text(struct sw_lg_users *out, const char *text, size_t len,
			  unsigned *bad_line);
void sw_lg_users_free(struct sw_lg_users *u);

/* ==== retransmission timers (lib/loadgen/timer.c) ========================= */

/* RFC 3261 §17.1.2.2 (non-INVITE client transaction over UDP): the request
 * is retransmitted after T1, 2T1, 4T1 ... capped at T2; after a provisional
 * response every T2; Timer F (64*T1) ends the transaction. */
struct sw_retx {
	uint32_t t1_ms, t2_ms, f_ms;
};
/* T1 = t1_ms (0: 500), T2 = 4 s (at least T1), F = 64 * T1. */
void sw_retx_init(struct sw_retx *r, uint32_t t1_ms);
/* The wait after the n-th transmission (n = 1 for the first send) before the
 * next one, in ms: min(T1 * 2^(n-1), T2), or T2 once a provisional arrived. */
uint32_t sw_retx_interval(const struct sw_retx *r, unsigned n, bool provisional);
/* Send times (ms after the first send, the first being 0) that fall before
 * Timer F; writes at most cap of them and returns how many there are. */
unsigned sw_retx_schedule(const struct sw_retx *r, uint32_t *at_ms, unsigned cap);

/* ==== the digest answer (lib/loadgen/scenario.c) ========================== */

/* Answers one challenge (a WWW-Authenticate or Proxy-Authenticate value)
 * with the digest engine: the challenge's algorithm (MD5 when absent), qop
 * "auth" when offered, else "auth-int" (over body), else none; nc and cnonce
 * as given; opaque echoed. Appends the Authorization value (no header name)
 * to out. 0, SW_EPARSE (not a Digest challenge, unknown algorithm, no
 * realm/nonce), SW_ENOSPC, SW_ECRYPTO. dc may be NULL. */
int sw_lg_digest_answer(struct sw_digest_ctx *dc, const struct sw_auth *challenge,
			sw_str username, sw_str password, sw_str method, sw_str uri,
			sw_str body, sw_str cnonce, sw_str nc, struct sw_buf *out);

/* ==== the run (lib/loadgen/engine.c) ====================================== */

enum sw_lg_scenario { SW_LG_REGISTER_AUTH = 0, SW_LG_REGISTER, SW_LG_OPTIONS, SW_LG_CALL };
const char *sw_lg_scenario_name(enum sw_lg_scenario s);
/* 0 or SW_EINVAL. */
int sw_lg_scenario_parse(const char *name, enum sw_lg_scenario *out);

/* Legs: the first request, and the answer to the challenge. */
#define SW_LG_LEGS 2u
/* Slots of the timeline (completions and failures over time): 600 of the
 * smallest width from 100 ms that covers the starts (the duration, or
 * count / rate when sooner) and the drain (Timer F at most). */
#define SW_LG_SLOTS 600u

/* What a run has done so far, for a progress display. */
struct sw_lg_progress {
	uint64_t started, completed, failed;
	double elapsed_s;
};

#define SW_LG_MAX_PIDS 64u

struct sw_lg_cfg {
	struct sockaddr_storage target;
	socklen_t target_len;
	const struct sw_lg_users *users;
	enum sw_lg_scenario scenario;
	uint64_t count;              /* registrations in all; 0: until the duration ends */
	double rate;                 /* starts per second in all; 0: no pacing */
	uint32_t duration_ms;        /* no start after this; 0: 60 s */
	uint32_t drain_ms;           /* then wait for answers at most this long; 0: min(F, 4 s) */
	unsigned threads;            /* 0: 1 */
	unsigned max_inflight;       /* per thread; 0: 16384 */
	uint32_t t1_ms;              /* 0: 500 */
	uint32_t expires;            /* Expires of each REGISTER; 0: 3600 */
	bool tcp;                    /* one TCP connection per thread instead of UDP */
	/* local server processes whose CPU time the call scenario reads around
	 * its calls (not its users' registrations); none: not read */
	int server_pids[SW_LG_MAX_PIDS];
	unsigned nserver_pids;
	/* called about four times a second, from the thread that called
	 * sw_lg_run, while the load runs; NULL: never */
	void (*progress)(void *arg, const struct sw_lg_progress *p);
	void *progress_arg;
};

struct sw_lg_stats {
	uint64_t started, completed, failed;
	uint64_t timeouts;           /* Timer F fired */
	uint64_t unfinished;         /* still open when the drain time ended */
	uint64_t by_status[700];     /* failures by final status (3xx-6xx) */
	uint64_t retransmissions;    /* requests sent again by the timers */
	uint64_t requests, responses;
	uint64_t stray;              /* responses matching no open transaction */
	uint64_t malformed;          /* datagrams that do not parse as responses */
	uint64_t auth_errors;        /* challenges we could not answer */
	uint64_t behind;             /* starts delayed by the in-flight limit */
	uint64_t overloaded;         /* 503 with Retry-After: waited, then started again */
	uint64_t retries_after_503;  /* registrations started again after such a wait */
	uint64_t completed_load;     /* completed while registrations were still starting */
	uint64_t retx_half[2];       /* retransmissions in the first / second half */
	double elapsed_s;            /* first start to last completion */
	double server_cpu_s;         /* the server's CPU time during the calls; < 0: not read */
	double send_s;               /* first start to last start */
	double target_rate;
	double start_rate;           /* started / send_s */
	double rate;                 /* completed per second of elapsed_s */
	bool rate_held;              /* start_rate within 5 % of the target */
	struct sw_hist total;
	struct sw_hist leg[SW_LG_LEGS];
	/* the timeline: done_at[i] completions and failed_at[i] failures
	 * (unfinished ones at the end of the drain) in [i, i+1) * slot_ms after
	 * the first start; later events count in the last slot. nslots: one
	 * past the last slot used. The sums are completed and failed. */
	uint32_t slot_ms, nslots;
	uint64_t done_at[SW_LG_SLOTS], failed_at[SW_LG_SLOTS];
};

/* Runs the load: cfg->threads threads, each with its own connected UDP
 * socket, until cfg->count registrations were started or the duration
 * ended, then until every open one ended or the drain time passed. *stop
 * (may be NULL), when set by a signal handler, ends the run early.
 * 0, SW_EINVAL, SW_EIO (socket; errno kept), SW_ENOMEM. */
int sw_lg_run(const struct sw_lg_cfg *cfg, volatile int *stop, struct sw_lg_stats *st);

/* ==== the report (lib/loadgen/report.c) =================================== */

void sw_lg_stats_init(struct sw_lg_stats *st);
/* The slot width for a run of cfg (see SW_LG_SLOTS). */
uint32_t sw_lg_slot_ms(const struct sw_lg_cfg *cfg);
/* Counts n events (completions when ok, else failures) at since_ns after
 * the first start on the timeline of st (slot_ms set; 0 counts as 1000). */
void sw_lg_timeline_add(struct sw_lg_stats *st, uint64_t since_ns, bool ok, uint64_t n);
/* Adds the counters, histograms and timeline of from into into (not the
 * rates). */
void sw_lg_stats_merge(struct sw_lg_stats *into, const struct sw_lg_stats *from);
/* Human-readable summary. */
void sw_lg_report_text(struct sw_buf *b, const struct sw_lg_cfg *cfg,
		       const struct sw_lg_stats *st);
/* One JSON object: completed, failed, retransmissions, rate, latency_ms
 * {p50,p90,p99,p999,max}, legs, failures by status, timeouts... */
void sw_lg_report_json(struct sw_buf *b, const struct sw_lg_cfg *cfg,
		       const struct sw_lg_stats *st);
/* A self-contained HTML page (inline CSS and SVG, no script, no external
 * resource): the summary, the latency percentiles, the latency
 * distribution as a histogram and the completions and failures per second
 * over time (lib/loadgen/html.c). */
void sw_lg_report_html(struct sw_buf *b, const struct sw_lg_cfg *cfg,
		       const struct sw_lg_stats *st);

#endif
