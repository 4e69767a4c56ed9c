/* The registrar's side of the ban table (lib/ban): the gate every message
 * passes first, the feed of every auth decision, the scanner hint in event
 * details, and the source-banned events. Kept out of the dispatch so that
 * the request handling has one call for it. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/ban.h"
#include "sipwarden/metrics.h"
#include "reg_int.h"

static const struct sockaddr *source(const struct sw_req *q)
{
	return (const struct sockaddr *)&q->from->addr;
}

/* The digest username of Authorization (or Proxy-Authorization). */
static bool digest_user(const struct sw_msg *m, char *out, size_t cap)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_AUTHORIZATION);
	if (!h)
		h = sw_msg_hdr(m, SW_HDR_PROXY_AUTHORIZATION);
	struct sw_auth a;
	if (!h || sw_auth_parse(&a, h->value, NULL) || !a.username.p)
		return false;
	sw_store_field_set(out, cap, a.username); /* as the decision recorded it */
	return true;
}

/* "user@host" of the To header, or "". */
static void to_aor(const struct sw_msg *m, char *out, size_t cap)
{
	struct sw_addr to;
	out[0] = '\0';
	if (sw_msg_to(m, &to, NULL) == 0 && to.uri.user.p)
		snprintf(out, cap, "%.*s@%.*s", (int)to.uri.user.len, to.uri.user.p, (int)to.uri.host.len,
			 to.uri.host.p);
}

bool sw__ban_gate(struct sw_req *q, const char *buf, size_t len)
{
	struct sw_ban *ban = q->rw->r->cfg.ban;
	if (!ban)
		return false;
	struct sw_ban_note note;
	enum sw_ban_verdict v = sw_ban_check(ban, source(q), NULL, q->now, &note);
	if (v == SW_BAN_PASS)
		return false;
	char user[SW_STORE_USER_MAX + 1] = "";
	bool parsed = sw_msg_parse(&q->rw->msg, buf, len, NULL, NULL) == 0 && q->m->is_request;
	bool whole_address = v != SW_BAN_NEED_USER;
	if (v == SW_BAN_NEED_USER) {
		/* the address has per-user bans: only that user's requests are refused */
		if (!parsed || !digest_user(q->m, user, sizeof(user)))
			return false;
		v = sw_ban_check(ban, source(q), user, q->now, &note);
		if (v == SW_BAN_PASS)
			return false;
	}
	if (note.log) {
		char aor[SW_STORE_AOR_MAX + 1] = "", hint[128];
		if (parsed) {
			to_aor(q->m, aor, sizeof(aor));
			if (!user[0])
				digest_user(q->m, user, sizeof(user));
			if (sw_ban_scanner_hint(q->m, hint, sizeof(hint))) {
				size_t n = strlen(note.detail);
				snprintf(note.detail + n, sizeof(note.detail) - n, "; hint: %s", hint);
			}
		}
		sw__event_record(q, aor, sw_str_from(user, strlen(user)), SW_STR_NULL, SW_CAUSE_SOURCE_BANNED,
				 note.detail);
	}
	if (v == SW_BAN_DROP)
		sw_metrics_inc(SW_M_DROP_BANNED);
	if (v == SW_BAN_REJECT && parsed && q->m->method_id != SW_METHOD_ACK)
		sw__reply_simple(q, 403, "Forbidden");
	else if (v == SW_BAN_DROP && whole_address)
		sw_worker_close(q->w, q->from); /* TCP: not the connection either (a per-user ban
						   keeps it: an edge proxy may carry others on it) */
	return true;
}

const char *sw__ban_hint(struct sw_req *q, enum sw_cause cause, const char *detail, char *out, size_t cap)
{
	char hint[128];
	enum sw_ban_class k = sw_ban_classify(cause);
	if (!q->rw->r->cfg.ban || k != SW_BAN_FAILURE || !sw_ban_scanner_hint(q->m, hint, sizeof(hint)))
		return detail;
	snprintf(out, cap, "%s; hint: %s", detail, hint);
	return out;
}

void sw__ban_observe(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm, enum sw_cause cause)
{
	struct sw_ban *ban = q->rw->r->cfg.ban;
	struct sw_ban_note note;
	if (cause == SW_CAUSE_OK && !auth_user.len)
		return; /* a call from another domain, let through unchallenged: it proves nothing */
	if (!ban || !sw_ban_observe(ban, source(q), auth_user, cause, q->now, &note))
		return;
	char hint[128];
	if (sw_ban_scanner_hint(q->m, hint, sizeof(hint))) {
		size_t n = strlen(note.detail);
		snprintf(note.detail + n, sizeof(note.detail) - n, "; hint: %s", hint);
	}
	sw__event_record(q, aor, auth_user, realm, SW_CAUSE_SOURCE_BANNED, note.detail);
}
