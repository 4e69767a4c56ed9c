/* Request processing of the proxy, in the order of RFC 3261 §16.3-16.6:
 * ACK and CANCEL matching, retransmissions, validation (Max-Forwards,
 * loops, Proxy-Require), Route preprocessing, authentication (407 for our
 * local users, the same digest code as REGISTER), authorization (From),
 * target determination from the location index, and forwarding. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy/proxy_int.h"

/* "user@domain" (user unescaped, domain lower case) */
/* The branches of t start; io_build (glue.c) may use the request as
 * parsed here instead of parsing its copy again. */
static void start(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_req *q)
{
	pw->cur_t = t;
	pw->cur_m = q->m;
	sw_px_start(pw->px, t, q->now_ms);
	pw->cur_t = NULL;
	pw->cur_m = NULL;
}

static void make_aor(const struct sw_uri *u, const char *domain, char *out, size_t cap)
{
	char user[SW_STORE_USER_MAX + 1];
	int n = sw_uri_unescape(u->user, user, sizeof(user) - 1);
	if (n < 0)
		n = 0;
	user[n] = '\0';
	char *semi = strchr(user, ';'); /* user parameters (;phone-context...) are not the user */
	if (semi)
		*semi = '\0';
	if (domain) {
		sw_join(out, cap, user, "@", domain);
		return;
	}
	char host[SW_STORE_DOMAIN_MAX + 1];
	sw_str_cpy(host, sizeof(host), u->host);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	sw_join(out, cap, user, "@", host);
}

/* The loop-detection value of §16.6 item 8 (branch suffix): what a request
 * coming back to us unchanged would carry again. */
static uint32_t loop_hash(const struct sw_msg *m)
{
	struct sw_addr from, to;
	sw_str cid;
	struct sw_cseq cs;
	uint32_t h = 2166136261u;
#define MIX(s) for (size_t i_ = 0; i_ < (s).len; i_++) h = (h ^ (unsigned char)(s).p[i_]) * 16777619u
	MIX(m->ruri);
	if (!sw_msg_from(m, &from, NULL))
		MIX(from.tag);
	if (!sw_msg_to(m, &to, NULL) && to.tag.p)
		MIX(to.tag);
	if (!sw_msg_call_id(m, &cid, NULL))
		MIX(cid);
	if (!sw_msg_cseq(m, &cs, NULL))
		h = (h ^ cs.num) * 16777619u;
#undef MIX
	return h;
}

/* A Via of ours with the same loop value: the request came back unchanged. */
static bool looped(const struct sw_msg *m, uint32_t lh)
{
	char want[16];
	struct sw_buf wb;
	sw_buf_init(&wb, want, sizeof(want));
	sw_buf_addc(&wb, '-');
	sw_buf_add_xint(&wb, lh, 8);
	sw_buf_cstr(&wb);
	struct sw_hdr_iter it;
	sw_str e;
	sw_hdr_iter_init(&it, m, SW_HDR_VIA);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		struct sw_via v;
		if (sw_via_parse(&v, e, NULL) || v.branch.len < 20 || memcmp(v.branch.p, "z9hG4bKswp", 10))
			continue;
		if (v.branch.len >= 9 && !memcmp(v.branch.p + v.branch.len - 9, want, 9))
			return true;
	}
	return false;
}

static bool dialog_creating(enum sw_method m)
{
	return m == SW_METHOD_INVITE || m == SW_METHOD_SUBSCRIBE || m == SW_METHOD_REFER ||
	       m == SW_METHOD_NOTIFY;
}

struct collect {
	struct sw_ptx *t;
	struct sw_proxy_worker *pw;
	unsigned n;
	bool sips;                  /* a sips: Request-URI: TLS flows only (RFC 5630 §3.1.3) */
	unsigned insecure;          /* bindings left out for that */
};

static void add_binding(void *arg, const struct sw_loc_binding *b)
{
	struct collect *c = arg;
	struct sw_flow f;
	/* RFC 3327: through the first Path hop when it names an address (else
	 * the flow the REGISTER came on, which is that hop in practice) */
	struct sw_addr first;
	const char *comma = b->path[0] ? strchr(b->path, ',') : NULL;
	sw_str p1 = sw_str_from(b->path, comma ? (size_t)(comma - b->path) : strlen(b->path));
	if (b->path[0] && sw_addr_parse(&first, p1, false, NULL) == 0 && sw__px_uri_flow(c->pw, &first.uri, &f) == 0) {
		/* the Path's first hop */
	} else if (sw_flow_parse(b->flow, sw_worker_boot(c->pw->w), &f)) {
		/* no flow recorded (an old binding): the Contact itself */
		struct sw_uri u;
		if (sw_uri_parse(&u, sw_str_from(b->contact, strlen(b->contact)), NULL) ||
		    sw__px_uri_flow(c->pw, &u, &f))
			return;
	}
	if (c->sips && f.tp != SW_TP_TLS) {
		c->insecure++;
		return;
	}
	if (sw_px_add_target(c->t, b->contact, b->path, &f, b->q) == 0)
		c->n++;
}

/* CANCEL (§16.10): 200 at once, then every pending branch is cancelled. */
static void cancel(struct sw_req *q)
{
	struct sw_proxy_worker *pw = q->rw->pw;
	struct sw_txn_key key;
	struct sw_ptx *t = sw_px_key(q->m, true, &key) ? NULL : sw_px_find(pw->px, &key);
	if (!t || !t->invite) {
		sw__reply_simple(q, 481, NULL);
		return;
	}
	sw__reply_simple(q, 200, NULL);
	if (!t->nbranches && !t->final_sent) {
		/* nothing forwarded yet: the INVITE itself gets 487 */
		struct sw_msg m;
		if (sw_msg_parse(&m, t->req, t->req_len, NULL, NULL) == 0) {
			struct sw_req iq = *q;
			iq.m = &m;
			sw__px_reply(&iq, t, 487, NULL, NULL);
		}
		return;
	}
	sw_px_cancel(pw->px, t, q->now_ms);
}

/* In-dialog or pre-routed requests that came through our Record-Route. */
static void route_onward(struct sw_req *q, struct sw_ptx *t, struct px_ctx *c, const struct sw_flow *last)
{
	struct sw_proxy_worker *pw = q->rw->pw;
	struct sw_uri next;
	struct sw_flow f = *last;
	sw_str lr;
	bool more = c->strict_ruri ? sw__px_route_last(q->m, &lr) > c->pop + 1 : true;
	if (more && sw__px_route_after(q->m, c->pop, &next) && sw__px_uri_flow(pw, &next, &f)) {
		sw__px_reply(q, t, 502, "Next Hop Not Reachable (only numeric UDP routes)", NULL);
		return;
	}
	c->keep_ruri = true;
	sw_str cid;
	if (q->m->method_id == SW_METHOD_BYE && sw_msg_call_id(q->m, &cid, NULL) == 0)
		sw__px_call_bye(pw, cid);
	if (sw_px_add_target(t, "", NULL, &f, 1000)) {
		sw__px_reply(q, t, 500, "Out of Memory", NULL);
		return;
	}
	if (t->invite)
		sw_px_trying(pw->px, t, q->m, q->now_ms);
	start(pw, t, q);
}

/* Authentication of a local caller (§22.3 with 407); true when it may go on. */
static bool authenticate(struct sw_req *q, struct sw_ptx *t, struct px_ctx *c, int d)
{
	struct sw_proxy_worker *pw = q->rw->pw;
	struct sw_registrar_worker *rw = q->rw;
	struct sw_cred_source creds;
	struct sw_verify_result res;
	sw__creds(rw, &creds);
	enum sw_cause cause = sw_auth_verify(pw->ver[d], q->m, (uint64_t)q->now, &creds, &res);
	sw_str_cpy(c->auth_user, sizeof(c->auth_user), res.username);
	if (cause != SW_CAUSE_OK) {
		sw__px_event(q, c, cause, "%.*s to %s: %s", (int)q->m->method.len, q->m->method.p, c->callee,
			     res.detail);
		if (res.status == 401 || res.status == 407) {
			rw->r->challenges++;
			struct sw_buf b;
			if (sw__reply_start(q, &b, 407, NULL))
				return false;
			sw_challenge_build(pw->ver[d], (uint64_t)q->now, res.stale, &b);
			if (sw_print_end(&b, SW_STR_NULL) == 0 && !b.overflow) {
				sw__px_call_refused(pw, t, q, 407);
				sw_px_respond(pw->px, t, 407, b.p, b.len, q->now_ms);
			}
		} else {
			rw->r->refusals++;
			sw__px_reply(q, t, res.status ? res.status : 400, NULL, NULL);
		}
		return false;
	}
	if (rw->cred_disabled) {
		rw->r->refusals++;
		sw__px_event(q, c, SW_CAUSE_ACCOUNT_DISABLED, "the account is disabled");
		sw__px_reply(q, t, 403, "Forbidden", NULL);
		return false;
	}
	char own[SW_STORE_AOR_MAX + 1];
	sw_join(own, sizeof(own), rw->sub.user, "@", rw->sub.domain);
	if (strcmp(own, c->caller) != 0 && !rw->r->allow_register_others) {
		rw->r->refusals++;
		sw__px_event(q, c, SW_CAUSE_FROM_NOT_ALLOWED, "authenticated as %s but From is %s", own, c->caller);
		sw__px_reply(q, t, 403, "Forbidden: From does not match the authenticated user", NULL);
		return false;
	}
	return true;
}

/* The targets of a request for one of our domains (§16.5). */
static void to_local_user(struct sw_req *q, struct sw_ptx *t, struct px_ctx *c, const struct sw_uri *ruri, int d)
{
	struct sw_proxy_worker *pw = q->rw->pw;
	struct sw_registrar *r = q->rw->r;
	char method[40];
	sw_str_cpy(method, sizeof(method), q->m->method);
	if (!ruri->user.len) {
		sw__px_event(q, c, SW_CAUSE_CALLEE_UNKNOWN, "%s to the server's own address, not a user", method);
		sw__px_reply(q, t, 404, "Not Found", NULL);
		return;
	}
	struct collect col = { t, pw, 0, ruri->scheme == SW_URI_SIPS, 0 };
	sw_location_visit(r->loc, c->callee, q->now, add_binding, &col);
	if (!col.n && col.insecure) {
		r->refusals++;
		sw__px_event(q, c, SW_CAUSE_CALLEE_OFFLINE, "%s to %s: a sips: request, and no device of the "
			     "callee is registered over TLS", method, c->callee);
		sw__px_reply(q, t, 480, "Temporarily Unavailable", NULL);
		return;
	}
	if (!col.n) {
		char user[SW_STORE_USER_MAX + 1], ha1[SW_DIGEST_HEX_MAX + 1];
		bool found = false, disabled = false;
		const char *at = strrchr(c->callee, '@');
		size_t ul = at ? (size_t)(at - c->callee) : 0;
		snprintf(user, sizeof(user), "%.*s", (int)ul, c->callee);
		sw_credcache_get(r->creds, user, r->domains[d], SW_HASH_MD5, &found, &disabled, ha1);
		r->refusals++;
		sw__px_event(q, c, found ? SW_CAUSE_CALLEE_OFFLINE : SW_CAUSE_CALLEE_UNKNOWN,
			     found ? "%s to %s: no device of the callee is registered"
				   : "%s to %s: no such user (answered as if offline)", method, c->callee);
		/* the same answer for both: INVITE cannot enumerate users */
		if (!found && r->reveal_unknown_callee)
			sw__px_reply(q, t, 404, "Not Found", NULL);
		else
			sw__px_reply(q, t, 480, "Temporarily Unavailable", NULL);
		return;
	}
	sw__px_event(q, c, SW_CAUSE_OK, "%s to %s: %s, forwarded to %u device%s", method, c->callee,
		     c->auth_user[0] ? "authenticated" : "from another domain, not challenged", col.n,
		     col.n == 1 ? "" : "s");
	if (t->invite) {
		sw_px_trying(pw->px, t, q->m, q->now_ms);
		sw__px_call_begin(pw, t, q);
	}
	start(pw, t, q);
}

void sw__proxy_request(struct sw_req *q)
{
	struct sw_registrar_worker *rw = q->rw;
	struct sw_proxy_worker *pw = rw->pw;
	struct sw_registrar *r = rw->r;
	const struct sw_msg *m = q->m;
	pw->w = q->w;
	q->has_key = false; /* the proxy's transactions answer retransmissions, not the registrar's table */
	struct sw_txn_key key;
	if (m->method_id == SW_METHOD_CANCEL) {
		cancel(q);
		return;
	}
	if (sw_px_key(m, false, &key)) {
		sw__reply_simple(q, 400, "Bad Request: no usable Via branch or CSeq");
		return;
	}
	struct sw_ptx *t = sw_px_find(pw->px, &key);
	if (m->method_id == SW_METHOD_ACK) {
		if (t) { /* the ACK of a non-2xx final: hop by hop, absorbed */
			sw_px_ack(pw->px, t, q->now_ms);
			return;
		}
		unsigned pop;
		struct sw_flow last;
		struct sw_uri next;
		if (!sw__px_routes(pw, m, &pop, &last))
			return; /* an ACK that did not come through our Record-Route: nowhere to send it */
		if (sw__px_route_after(m, pop, &next) && sw__px_uri_flow(pw, &next, &last))
			return;
		sw__px_forward_stateless(pw, m, q->from, pop, &last);
		return;
	}
	if (t) {
		r->retransmissions++;
		sw_px_retransmission(pw->px, t);
		return;
	}
	struct sw_peer reply_to;
	sw__reply_peer(m, q->from, &reply_to);
	t = sw_px_begin(pw->px, m, &key, &reply_to, false, r->timer_c_ms, q->now_ms);
	struct px_ctx *c = t ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		sw__reply_simple(q, 503, "Service Unavailable: too many transactions");
		return;
	}
	t->user = c;
	c->pw = pw;
	c->from = *q->from;
	sw_worker_flow_of(q->w, q->from, &c->from_flow);
	c->loop_hash = loop_hash(m);
	struct sw_addr from, to;
	struct sw_uri ruri;
	sw_msg_from(m, &from, NULL);
	sw_msg_to(m, &to, NULL);
	sw_msg_ruri(m, &ruri, NULL);
	int fd = sw__px_domain_of(pw, &from.uri);
	make_aor(&from.uri, fd >= 0 ? r->domains[fd] : NULL, c->caller, sizeof(c->caller));

	/* §16.3: Max-Forwards, loops, Proxy-Require */
	uint32_t mf;
	if (sw_msg_max_forwards(m, &mf, NULL) == 0 && mf == 0) {
		sw__px_event(q, c, SW_CAUSE_TOO_MANY_HOPS, "Max-Forwards reached 0");
		sw__px_reply(q, t, 483, NULL, NULL);
		return;
	}
	if (looped(m, c->loop_hash)) {
		sw__px_event(q, c, SW_CAUSE_LOOP_DETECTED, "the request came back to this server unchanged");
		sw__px_reply(q, t, 482, NULL, NULL);
		return;
	}
	const struct sw_hdr *pr = sw_msg_hdr(m, SW_HDR_PROXY_REQUIRE);
	if (pr) {
		char extra[600];
		snprintf(extra, sizeof(extra), "Unsupported: %.*s\r\n", (int)(pr->value.len < 500 ? pr->value.len : 500),
			 pr->value.p);
		sw__px_reply(q, t, 420, NULL, extra);
		return;
	}

	/* §16.4: our Route values; a valid flow token means we routed this dialog */
	struct sw_flow last;
	bool trusted = sw__px_routes(pw, m, &c->pop, &last);
	sw_str lr;
	unsigned nroutes = sw__px_route_last(m, &lr);
	struct sw_flow rf;
	if (ruri.user.len && nroutes > c->pop && sw__px_uri_is_ours(pw, &ruri) &&
	    sw__px_token_parse(pw, ruri.user, &rf) == 0) {
		/* §16.4: a strict router put our Record-Route in the Request-URI;
		 * the real one is the last Route value. Our entries that follow in
		 * Route (popped above) come later in the route set and win. */
		struct sw_addr la;
		if (sw_addr_parse(&la, lr, false, NULL) == 0 &&
		    (c->strict_ruri = sw__px_dup(la.uri.raw.p, la.uri.raw.len))) {
			if (!trusted)
				last = rf;
			trusted = true;
			sw_uri_parse(&ruri, sw_str_from(c->strict_ruri, strlen(c->strict_ruri)), NULL);
		}
	}
	c->in_dialog = to.tag.p != NULL;
	int rd = sw__px_domain_of(pw, &ruri);
	if (rd >= 0)
		make_aor(&ruri, r->domains[rd], c->callee, sizeof(c->callee));
	else
		make_aor(&ruri, NULL, c->callee, sizeof(c->callee));
	if (trusted && (c->in_dialog || m->method_id == SW_METHOD_PRACK || rd < 0)) {
		route_onward(q, t, c, &last); /* in-dialog: not challenged again */
		return;
	}
	if (c->in_dialog && rd < 0) {
		sw__px_reply(q, t, 403, "Forbidden: not a dialog routed by this server", NULL);
		return;
	}
	/* §16.5 and the auth gate: local callers authenticate; others may only
	 * reach our users */
	if (fd >= 0) {
		sw_join(c->realm, sizeof(c->realm), r->domains[fd], "", "");
		if (!authenticate(q, t, c, fd))
			return;
	} else if (rd < 0 || !r->accept_foreign_callers) {
		r->refusals++;
		sw__px_event(q, c, SW_CAUSE_RELAY_DENIED, "From %s to %s: neither is a user of this server",
			     c->caller, c->callee);
		sw__px_reply(q, t, 403, "Not relaying", NULL);
		return;
	}
	if (rd < 0) {
		r->refusals++;
		sw__px_event(q, c, SW_CAUSE_RELAY_DENIED, "%s is not served here and this server does not relay",
			     c->callee);
		sw__px_reply(q, t, 403, "Not relaying", NULL);
		return;
	}
	c->record_route = dialog_creating(m->method_id) && !c->in_dialog;
	to_local_user(q, t, c, &ruri, rd);
}
