/* sipwarden — the causes table: one id per reason why SIP authentication or
 * registration succeeds or fails, shared by the server, the doctor and the
 * analyzer. Ids are stable kebab-case strings: never renamed, never reused.
 * See docs/internals/causes.md. */
#ifndef SIPWARDEN_CAUSES_H
#define SIPWARDEN_CAUSES_H

#include "sipwarden/common.h"
#include "sipwarden/buf.h"

/* The order of this enum is the order of `sipwarden causes`. New causes are
 * appended before SW_CAUSE__COUNT; the numeric values are not stable across
 * versions (store and print the id string, not the number). */
enum sw_cause {
	SW_CAUSE_OK = 0,
	SW_CAUSE_NO_CREDENTIALS,
	SW_CAUSE_CHALLENGE_NOT_ANSWERED,
	SW_CAUSE_WRONG_PASSWORD,
	SW_CAUSE_CREDENTIALS_REJECTED,
	SW_CAUSE_UNKNOWN_USER,
	SW_CAUSE_AUTH_USER_MISMATCH,
	SW_CAUSE_USERNAME_HAS_DOMAIN,
	SW_CAUSE_REALM_MISMATCH,
	SW_CAUSE_URI_MISMATCH,
	SW_CAUSE_STALE_NONCE,
	SW_CAUSE_NONCE_INVALID,
	SW_CAUSE_NONCE_REPLAY,
	SW_CAUSE_ALGORITHM_UNSUPPORTED,
	SW_CAUSE_ALGORITHM_MISMATCH,
	SW_CAUSE_QOP_INVALID,
	SW_CAUSE_MALFORMED_AUTHORIZATION,
	SW_CAUSE_ACCOUNT_DISABLED,
	SW_CAUSE_SOURCE_BANNED,
	SW_CAUSE_DOMAIN_UNKNOWN,
	SW_CAUSE_EXPIRES_TOO_BRIEF,
	SW_CAUSE_TOO_MANY_CONTACTS,
	SW_CAUSE_NO_RESPONSE,
	SW_CAUSE_UDP_BLOCKED_TCP_OK,
	SW_CAUSE_TLS_FAILED,
	SW_CAUSE_DNS_FAILED,
	SW_CAUSE_RESPONSE_LOST_NAT,
	SW_CAUSE_NAT_DETECTED,
	SW_CAUSE_SIP_ALG_SUSPECTED,
	SW_CAUSE_UDP_FRAGMENTATION,
	SW_CAUSE_RETRY_OTHER_SERVER,
	SW_CAUSE_REFUSED_AFTER_VALID_DIGEST,
	SW_CAUSE_STALE_WITHOUT_FLAG,
	SW_CAUSE_STORE_UNAVAILABLE,
	SW_CAUSE_SERVER_ERROR,
	/* the proxy (calls, messages, subscriptions) */
	SW_CAUSE_CALLEE_UNKNOWN,
	SW_CAUSE_CALLEE_OFFLINE,
	SW_CAUSE_FROM_NOT_ALLOWED,
	SW_CAUSE_RELAY_DENIED,
	SW_CAUSE_TOO_MANY_HOPS,
	SW_CAUSE_LOOP_DETECTED,
	SW_CAUSE_CALLEE_UNREACHABLE,
	SW_CAUSE_REQUEST_REFUSED,
	SW_CAUSE_REQUEST_CANCELLED,
	SW_CAUSE_DUPLICATE_RESPONSE,
	SW_CAUSE_CALLEE_NO_ANSWER,
	SW_CAUSE_SERVER_OVERLOADED,
	SW_CAUSE_CALLEE_BUSY,
	SW_CAUSE_CALLEE_DECLINED,
	SW_CAUSE__COUNT
};

enum sw_severity {
	SW_SEV_INFO = 0,    /* normal protocol flow, nothing to fix */
	SW_SEV_WARNING,     /* works now or may work on retry, but worth fixing */
	SW_SEV_ERROR,       /* the device cannot register / authenticate */
};

/* Who can observe a cause (bitmask). */
enum sw_observer {
	SW_OBS_SERVER = 1u << 0,    /* `sipwarden serve`, seeing requests */
	SW_OBS_DOCTOR = 1u << 1,    /* `sipwarden check`, acting as a client */
	SW_OBS_ANALYZER = 1u << 2,  /* `sipwarden analyze`, reading a capture */
};

/* The five classic fixes every specific fix maps to (plus "none" for
 * outcomes that need no action). */
enum sw_fix_class {
	SW_FIX_NONE = 0,
	SW_FIX_VERIFY_CREDENTIALS,
	SW_FIX_REFRESH_CREDENTIALS,
	SW_FIX_CHECK_NETWORK,
	SW_FIX_REGISTRATION_INTERVAL,
	SW_FIX_ASK_PROVIDER,
	SW_FIX__COUNT
};

struct sw_cause_info {
	enum sw_cause cause;
	const char *id;            /* stable kebab-case id, e.g. "wrong-password" */
	enum sw_severity severity;
	unsigned observers;        /* enum sw_observer bits */
	const char *explain;       /* one line a non-expert understands */
	enum sw_fix_class fix_class;
	const char *fix;           /* the specific fix, one sentence */
};

/* The table row of a cause; NULL for a value outside the enum. */
const struct sw_cause_info *sw_cause_get(enum sw_cause c);
/* The id string of a cause ("unknown" for a value outside the enum). */
const char *sw_cause_id(enum sw_cause c);
/* Looks a cause up by its id (exact, case-sensitive). 0 and *out, or
 * SW_ENOTFOUND. */
int sw_cause_find(sw_str id, enum sw_cause *out);

/* "info", "warning", "error". */
const char *sw_severity_name(enum sw_severity s);
/* Stable id of a fix class ("verify-credentials") and its title
 * ("Verify credentials"); "none"/"No action" for SW_FIX_NONE. */
const char *sw_fix_class_id(enum sw_fix_class f);
const char *sw_fix_class_title(enum sw_fix_class f);
/* Writes the observer names joined by sep ("server,doctor"). */
void sw_observers_render(struct sw_buf *b, unsigned observers, const char *sep);

/* ---- rendering (lib/diag/render.c) -------------------------------------- */

/* A human-readable block: id, severity, who sees it, explanation, fix.
 * Output may be truncated; check sw_buf_status(). */
void sw_cause_render_text(struct sw_buf *b, const struct sw_cause_info *ci);
/* One JSON object with the keys id, severity, observers (array),
 * explanation, fix_class, fix_class_title, fix. */
void sw_cause_render_json(struct sw_buf *b, const struct sw_cause_info *ci);
/* A JSON array of every cause, in table order. */
void sw_causes_render_json(struct sw_buf *b);

#endif
