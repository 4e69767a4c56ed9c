/* sipwarden — brute-force and scanner defence: layered limits on failed and
 * unauthenticated requests per source, escalating bans that expire on their
 * own, an allowlist, and the bans an administrator adds with `sipwarden ban`
 * (kept in the store, picked up by a running server). See
 * docs/internals/ban.md.
 *
 * Threads: sw_ban_check() and sw_ban_observe() may be called from any number
 * of threads at once (sharded locks); sw_ban_sync() from one thread at a
 * time (the server's housekeeping). Memory is bounded: the counters are a
 * fixed table allocated at creation, the bans are capped (SW_BAN_MAX). */
#ifndef SIPWARDEN_BAN_H
#define SIPWARDEN_BAN_H

#include <sys/socket.h>
#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/causes.h"
#include "sipwarden/msg.h"
#include "sipwarden/store.h"

/* ---- addresses and networks (prefix.c) ------------------------------------ */

/* An IPv4 or IPv6 network: the address with its host bits cleared. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is taken as the IPv4 one. */
struct sw_prefix {
	uint8_t v6;          /* 0: IPv4 (addr[0..3]), 1: IPv6 */
	uint8_t bits;        /* prefix length: 0..32 or 0..128 */
	uint8_t addr[16];
};

/* "192.0.2.7", "192.0.2.0/24", "2001:db8::/32", "[2001:db8::1]". Host bits
 * past the prefix are refused (a typo more often than not). 0 or
 * SW_EINVAL. */
int sw_prefix_parse(const char *s, struct sw_prefix *out);
/* The one address of a socket address (bits 32 or 128); SW_EINVAL for
 * another family. */
int sw_prefix_from_sockaddr(const struct sockaddr *sa, struct sw_prefix *out);
bool sw_prefix_contains(const struct sw_prefix *net, const struct sw_prefix *one);
/* "192.0.2.0/24", or the address alone for a single address. */
void sw_prefix_format(const struct sw_prefix *p, char *out, size_t cap);
/* The store's form: canonical address text (cap >= SW_STORE_ADDR_MAX + 1) and
 * the prefix length. */
void sw_prefix_addr_text(const struct sw_prefix *p, char *out, size_t cap);
/* From a store record's addr and prefix. 0 or SW_EINVAL. */
int sw_prefix_from_record(const struct sw_ban_record *r, struct sw_prefix *out);

/* ---- configuration ------------------------------------------------------------- */

#define SW_BAN_ALLOW_MAX 64       /* allowlist entries */
#define SW_BAN_USERS_MAX 32       /* the highest distinct_users limit */
#define SW_BAN_MAX 100000u        /* bans held in memory (active and remembered) */

struct sw_ban_cfg {
	bool enabled;
	bool reject;                  /* answer a banned source 403 instead of nothing */
	uint32_t window;              /* seconds over which failures are counted */
	uint32_t user_failures;       /* failed authentications per (source, auth user) */
	uint32_t distinct_users;      /* distinct auth users failing from one source */
	uint32_t flood_window;        /* seconds over which unauthenticated requests count */
	uint32_t flood_requests;      /* unauthenticated requests per source */
	uint32_t known_for;           /* seconds a success makes its source "known" */
	uint32_t ban_time;            /* first ban, seconds; doubled for each repeat */
	uint32_t ban_max_time;        /* the cap of a ban, and how long a level is remembered */
	struct sw_prefix allow[SW_BAN_ALLOW_MAX];
	unsigned nallow;
	bool allow_replace;           /* configuration layers: the next entry replaces the list */
};

/* The documented defaults (sipwarden.conf(5) says why). */
void sw_ban_cfg_default(struct sw_ban_cfg *c);

/* ---- the ban table ------------------------------------------------------------ */

struct sw_ban;

int sw_ban_new(struct sw_ban **out, const struct sw_ban_cfg *cfg);
void sw_ban_free(struct sw_ban *b);
/* New settings (SIGHUP), in force for the next request: limits, windows,
 * action, allowlist, enabled. Counters and bans are kept. Any thread. 0 or
 * SW_ENOMEM. */
int sw_ban_reconfigure(struct sw_ban *b, const struct sw_ban_cfg *cfg);

enum sw_ban_verdict {
	SW_BAN_PASS = 0,
	SW_BAN_NEED_USER,  /* the address has per-user bans: ask again with the username */
	SW_BAN_DROP,       /* banned: send nothing */
	SW_BAN_REJECT,     /* banned: answer 403 */
};

/* What to say about a decision: log is set when this request should become
 * a `source-banned` event (the first of each ban, then at most one a
 * minute), with detail. */
struct sw_ban_note {
	bool log;
	char detail[SW_STORE_TEXT_MAX + 1];
};

/* The hot path: is this source (and, when user is not NULL, this digest
 * username from it) banned at now? Cheap when nothing is banned (one atomic
 * read). note may be NULL. */
enum sw_ban_verdict sw_ban_check(struct sw_ban *b, const struct sockaddr *source, const char *user,
				 int64_t now, struct sw_ban_note *note);

/* Feeds one auth decision (every one the server makes). user: the digest
 * username (empty when none). Returns true when this decision started a ban;
 * note->detail then says which limit tripped, with the numbers, and the
 * ban's length (log it as a `source-banned` event). */
bool sw_ban_observe(struct sw_ban *b, const struct sockaddr *source, sw_str user, enum sw_cause cause,
		    int64_t now, struct sw_ban_note *note);

/* How a cause counts: a success (the source becomes known), a failed
 * authentication, an unauthenticated request, or nothing. */
enum sw_ban_class { SW_BAN_NEUTRAL, SW_BAN_SUCCESS, SW_BAN_FAILURE, SW_BAN_UNAUTH };
enum sw_ban_class sw_ban_classify(enum sw_cause cause);

/* With the store, from one thread about every 100 ms to 1 s: writes the bans
 * this server made, picks up those others made or deleted (sipwarden ban),
 * forgets what ended long ago. The first call loads every ban. */
int sw_ban_sync(struct sw_ban *b, struct sw_store *st, int64_t now);

struct sw_ban_stats {
	uint64_t bans_started;        /* by the limits, since start */
	uint64_t dropped, rejected;   /* requests refused */
	uint64_t bans_refused;        /* not made: SW_BAN_MAX reached */
	size_t active;                /* bans in force now (in memory) */
};
void sw_ban_stats(struct sw_ban *b, int64_t now, struct sw_ban_stats *out);

/* ---- scanner hints (scanner.c) -------------------------------------------------- */

/* A well-known scanner's fingerprint in the request (User-Agent such as
 * friendly-scanner or sipvicious, or a request shape they use): writes a
 * short hint ("User-Agent 'friendly-scanner' is SIPVicious's") and returns
 * true. A hint only: attackers change their User-Agent, and a ban is never
 * made on it alone. */
bool sw_ban_scanner_hint(const struct sw_msg *m, char *out, size_t cap);

/* ---- rendering (render.c) ----------------------------------------------------- */

/* One line: network, user (when per-user), until (local time unless utc)
 * and remaining time, level, reason. */
void sw_ban_render_text(struct sw_buf *b, const struct sw_ban_record *r, int64_t now, bool utc);
/* One JSON object: address, prefix, user, created, until (ISO 8601 UTC or
 * null), remaining_s, level, reason. */
void sw_ban_render_json(struct sw_buf *b, const struct sw_ban_record *r, int64_t now);

#endif
