/* The registrar: setup, per-request dispatch, responses. REGISTER itself is
 * in register.c, the auth decision log in events.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include "reg_int.h"
#include "sipwarden/metrics.h"

int sw_registrar_new(struct sw_registrar **out, const struct sw_registrar_cfg *cfg,
		     const struct sw_registrar_next *next, struct sw_store *st,
		     const struct sw_secret *secret, char *why, size_t why_cap)
{
	if (!cfg->ndomains || cfg->ndomains > SW_REGISTRAR_MAX_DOMAINS) {
		snprintf(why, why_cap, "the registrar needs at least one domain (and at most %u)",
			 SW_REGISTRAR_MAX_DOMAINS);
		return SW_EINVAL;
	}
	struct sw_registrar *r = calloc(1, sizeof(*r));
	if (!r)
		return SW_ENOMEM;
	r->cfg = *cfg;
	for (unsigned i = 0; i < cfg->ndomains; i++) {
		snprintf(r->domains[i], sizeof(r->domains[i]), "%s", cfg->domains[i]);
		r->cfg.domains[i] = r->domains[i];
	}
	r->next = *next;
	r->st = st;
	r->secret = secret;
	r->nlisten = cfg->nlisten < 32 ? cfg->nlisten : 32;
	if (r->nlisten)
		memcpy(r->listen, cfg->listen, r->nlisten * sizeof(*r->listen));
	sw_registrar_reconfigure(r, cfg);
	pthread_mutex_init(&r->log_lock, NULL);
	int rc = sw_nc_memory_new(&r->nc, 0);
	if (!rc)
		rc = sw_location_new(&r->loc);
	if (!rc)
		rc = sw_credcache_new(&r->creds, st);
	if (!rc)
		rc = sw__logcap_new(&r->logcap);
	if (!rc)
		rc = sw_location_load(r->loc, st, (int64_t)time(NULL));
	if (rc) {
		snprintf(why, why_cap, "cannot set up the registrar: %s", sw_strerror(rc));
		sw_registrar_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void sw_registrar_reconfigure(struct sw_registrar *r, const struct sw_registrar_cfg *cfg)
{
	r->min_expires = cfg->min_expires;
	r->max_expires = cfg->max_expires;
	r->default_expires = cfg->default_expires;
	r->max_contacts = cfg->max_contacts;
	r->allow_register_others = cfg->allow_register_others;
	r->accept_foreign_callers = cfg->accept_foreign_callers;
	r->reveal_unknown_callee = cfg->reveal_unknown_callee;
	r->timer_c_ms = (cfg->timer_c ? cfg->timer_c : 180u) * 1000u;
	r->log_first_challenges = cfg->log_first_challenges;
	r->log_max_bytes = cfg->log_max_bytes;
}

void sw_registrar_free(struct sw_registrar *r)
{
	if (!r)
		return;
	sw_nc_tracker_destroy(&r->nc);
	sw_location_free(r->loc);
	sw_credcache_free(r->creds);
	sw__logcap_free(r->logcap);
	pthread_mutex_destroy(&r->log_lock);
	free(r);
}

/* The credential lookup the verifiers use: one store read that also tells
 * the registrar whether the account is disabled. */
static int get_ha1(void *arg, sw_str username, bool is_userhash, sw_str realm, enum sw_digest_hash h,
		   char *ha1)
{
	struct sw_registrar_worker *rw = arg;
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	rw->cred_found = rw->cred_disabled = false;
	if (username.len > SW_STORE_USER_MAX || realm.len > SW_STORE_DOMAIN_MAX)
		return SW_ENOTFOUND;
	sw_str_cpy(user, sizeof(user), username);
	sw_str_cpy(domain, sizeof(domain), realm);
	int rc;
	if (is_userhash) { /* rare: straight to the store */
		rc = sw_store_user_get_by_userhash(rw->r->st, h, user, domain, &rw->sub);
		if (rc)
			return rc;
	} else {
		bool found, disabled;
		rc = sw_credcache_get(rw->r->creds, user, domain, h, &found, &disabled, ha1);
		if (rc)
			return rc;
		if (!found)
			return SW_ENOTFOUND;
		memcpy(rw->sub.user, user, username.len + 1); /* who owns which AOR */
		memcpy(rw->sub.domain, domain, realm.len + 1);
		rw->cred_found = true;
		rw->cred_disabled = disabled;
		return 0;
	}
	rw->cred_found = true;
	rw->cred_disabled = rw->sub.disabled;
	memcpy(ha1, rw->sub.cred.ha1[h], sizeof(rw->sub.cred.ha1[h]));
	return 0;
}

void sw__creds(struct sw_registrar_worker *rw, struct sw_cred_source *out)
{
	out->get_ha1 = get_ha1;
	out->arg = rw;
}

int sw_registrar_worker_new(struct sw_registrar *r, unsigned index, struct sw_registrar_worker **out)
{
	struct sw_registrar_worker *rw = calloc(1, sizeof(*rw));
	if (!rw)
		return SW_ENOMEM;
	rw->r = r;
	int rc = sw_txn_table_new(&rw->txn, 65536);
	for (unsigned i = 0; i < r->cfg.ndomains && !rc; i++) {
		struct sw_auth_cfg ac = r->cfg.auth;
		ac.realm = r->domains[i];
		ac.uri_is_ours = sw__uri_is_ours;
		ac.uri_arg = r;
		rc = sw_verifier_new(&rw->ver[i], &ac, r->secret, &r->nc);
	}
	if (!rc)
		rc = r->next.worker_new(r->next.arg, rw, index, &rw->pw);
	if (!rc && getrandom(&rw->rng, sizeof(rw->rng), 0) != sizeof(rw->rng))
		rc = SW_EIO;
	rw->rng |= 1;
	if (rc) {
		sw_registrar_worker_free(rw);
		return rc;
	}
	*out = rw;
	return 0;
}

void sw_registrar_worker_free(struct sw_registrar_worker *rw)
{
	if (!rw)
		return;
	for (unsigned i = 0; i < SW_REGISTRAR_MAX_DOMAINS; i++)
		sw_verifier_free(rw->ver[i]);
	sw_txn_table_free(rw->txn);
	rw->r->next.worker_free(rw->pw);
	sw__pending_cache_free(rw);
	free(rw);
}

void sw__reply_peer(const struct sw_msg *m, const struct sw_peer *from, struct sw_peer *to)
{
	*to = *from;
	if (from->tp != SW_TP_UDP)
		return; /* stream: back on the connection it came on */
	/* UDP: the source address (= received); the source port when the client
	 * asked for rport, else the port of the top Via sent-by. */
	struct sw_via v;
	if (sw_msg_top_via(m, &v, NULL) || v.has_rport)
		return;
	uint16_t port = htons((uint16_t)(v.port > 0 ? v.port : 5060));
	if (to->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&to->addr)->sin_port = port;
	else if (to->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&to->addr)->sin6_port = port;
}

static uint64_t next_rand(struct sw_registrar_worker *rw)
{
	rw->rng ^= rw->rng << 13;
	rw->rng ^= rw->rng >> 7;
	rw->rng ^= rw->rng << 17;
	return rw->rng;
}

int sw__reply_start(struct sw_req *q, struct sw_buf *b, unsigned status, const char *reason)
{
	char tag[16];
	uint64_t rnd = next_rand(q->rw);
	for (unsigned i = 0; i < 16; i++, rnd >>= 4)
		tag[15 - i] = "0123456789abcdef"[rnd & 15];
	sw_buf_init(b, q->rw->out, sizeof(q->rw->out));
	/* tell the client where its request came from (RFC 3261 §18.2.1, RFC 3581) */
	char addr[64];
	sw_str received = SW_STR_NULL;
	int rport = -1;
	struct sw_via v;
	if (sw_msg_top_via(q->m, &v, NULL) == 0) {
		sw_sockaddr_host((const struct sockaddr *)&q->from->addr, addr, sizeof(addr));
		if (v.has_rport && v.rport < 0)
			rport = sw_sockaddr_port((const struct sockaddr *)&q->from->addr);
		sw_str host = v.host;
		if (host.len >= 2 && host.p[0] == '[') /* an IPv6 reference */
			host = sw_str_from(host.p + 1, host.len - 2);
		if (rport >= 0 || !sw_str_ieq(host, addr))
			received = sw_str_from(addr, strlen(addr));
	}
	int rc = sw_print_response_start_via(b, q->m, status, reason, sw_str_from(tag, 16), received, rport);
	if (!rc && q->rw->r->cfg.server_name)
		sw_print_header(b, "Server", sw_str_from(q->rw->r->cfg.server_name, strlen(q->rw->r->cfg.server_name)));
	return rc;
}

void sw__reply_send(struct sw_req *q, struct sw_buf *b)
{
	if (b->overflow)
		return;
	struct sw_peer to;
	sw__reply_peer(q->m, q->from, &to);
	sw_worker_send(q->w, &to, b->p, b->len);
	sw_metrics_response_text(b->p, b->len);
	if (q->has_key)
		sw_txn_complete(q->rw->txn, &q->key, b->p, b->len, q->now_ms,
				q->from->tp == SW_TP_UDP ? 32000u : 0u);
}

void sw__reply_simple(struct sw_req *q, unsigned status, const char *reason)
{
	struct sw_buf b;
	if (sw__reply_start(q, &b, status, reason))
		return;
	if (status == 405) /* RFC 3261 §8.2.1 */
		sw_print_header(&b, "Allow", SW_STR_LIT(SW_ALLOW));
	sw_print_end(&b, SW_STR_NULL);
	sw__reply_send(q, &b);
}

static void options(struct sw_req *q)
{
	struct sw_buf b;
	if (sw__reply_start(q, &b, 200, NULL))
		return;
	sw_print_header(&b, "Allow", SW_STR_LIT(SW_ALLOW));
	sw_print_header(&b, "Accept", SW_STR_LIT("application/sdp"));
	sw_print_header(&b, "Supported", SW_STR_LIT("path"));
	sw_print_end(&b, SW_STR_NULL);
	sw__reply_send(q, &b);
}

/* The start of a response to a request whose To header is missing or does
 * not parse (RFC 4475 quotbal, baddn, badaspec, insuf), which
 * sw_print_response_start refuses: the headers of RFC 3261 §8.2.6.2 copied
 * as received (those present), and no To tag, since where a tag would go in
 * a broken To cannot be known. The client still matches the answer by its
 * Via branch and CSeq (§17.1.3). */
static int reply_start_verbatim(struct sw_req *q, struct sw_buf *b, unsigned status, const char *reason)
{
	static const enum sw_hdr_id copy[] = { SW_HDR_VIA, SW_HDR_FROM, SW_HDR_TO, SW_HDR_CALL_ID,
					       SW_HDR_CSEQ };
	const struct sw_msg *m = q->m;
	sw_buf_init(b, q->rw->out, sizeof(q->rw->out));
	sw_print_status_line(b, status, reason);
	for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]); k++)
		for (const struct sw_hdr *h = sw_msg_hdr(m, copy[k]); h; h = sw_msg_hdr_next(m, h))
			sw_print_header(b, sw_hdr_name(copy[k]), h->value);
	if (q->rw->r->cfg.server_name)
		sw_print_headerf(b, "Server", "%s", q->rw->r->cfg.server_name);
	return sw_buf_status(b);
}

/* A request that failed parsing or checking: answer with the status the
 * parser suggests when there is enough of a message to answer (a start
 * line and a Via to send it back by). */
static void reject(struct sw_req *q, const struct sw_perr *err)
{
	struct sw_registrar *r = q->rw->r;
	r->parse_errors++;
	if (!q->m->is_request || !err->status || q->m->first[SW_HDR_VIA] == SW_HDR_NONE) {
		r->responses_dropped++;
		sw_metrics_inc(SW_M_DROP_MALFORMED);
		return;
	}
	char reason[200];
	sw_perr_format(err, reason, sizeof(reason));
	struct sw_buf b;
	if (sw__reply_start(q, &b, err->status, reason) &&
	    reply_start_verbatim(q, &b, err->status, reason))
		return;
	sw_print_end(&b, SW_STR_NULL);
	q->has_key = false; /* a broken request is not a transaction */
	sw__reply_send(q, &b);
}

/* Answered here, not forwarded: OPTIONS for the server itself (no user
 * part, or Max-Forwards 0: RFC 3261 §16.3 item 3 lets the last hop answer),
 * and methods outside Allow (405, as before there was a proxy). */
static bool to_server(const struct sw_msg *m)
{
	struct sw_uri u;
	uint32_t mf;
	if (m->method_id == SW_METHOD_OTHER)
		return true;
	return m->method_id == SW_METHOD_OPTIONS &&
	       ((sw_msg_ruri(m, &u, NULL) == 0 && !u.user.len) ||
		(sw_msg_max_forwards(m, &mf, NULL) == 0 && mf == 0));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_message(void *app, struct sw_worker *w, const struct sw_peer *from, const char *buf, size_t len)
{
	struct sw_registrar *r = app;
	struct sw_registrar_worker *rw = sw_worker_data(w);
	struct sw_msg *m = &rw->msg;
	struct sw_req q = { .rw = rw, .w = w, .from = from, .m = m, .now = (int64_t)time(NULL),
			    .now_ms = mono_ms() };
	struct sw_perr err;
	r->requests++;
	if (sw__ban_gate(&q, buf, len))
		return; /* a banned source: dropped or 403 (banned.c) */
	if (from->truncated) {
		/* only the start of a message over the size limit: read what headers
		 * it has (as on a stream, so the cut is not an error) and answer 513 */
		struct sw_parse_opts so = { .stream = true, .max_size = len };
		sw_msg_parse(m, buf, len, &so, NULL);
		err = (struct sw_perr){ .code = SW_ETOOBIG, .status = 513,
					.what = "the message is larger than this server accepts" };
		if (m->version.p)
			m->len = len;
		reject(&q, &err);
		return;
	}
	if (from->shed && sw__shed_raw(&q, buf, len))
		return; /* overload: a 503 from the raw bytes, no parse (shed.c) */
	int rc = sw_msg_parse(m, buf, len, NULL, &err);
	if (rc == 0 && !m->is_request) {
		/* responses belong to the proxy's client transactions; a malformed
		 * one is dropped and counted, never forwarded */
		if (sw_msg_check_relay(m, &err) == 0) {
			r->next.response(rw, w, m, q.now_ms);
		} else {
			r->responses_dropped++;
			sw_metrics_inc(SW_M_DROP_BAD_RESPONSE);
		}
		return;
	}
	/* overload: 503 + Retry-After (shed.c), before the full check */
	uint32_t retry = from->retry_after;
	if (rc == 0 && (from->shed || sw__backlogged(&q, &retry)) && sw__shed(&q, retry))
		return;
	if (rc == 0)
		rc = sw_msg_check(m, &err);
	if (rc) {
		if (m->len == 0 && m->version.p)
			m->len = len; /* framing failed after the start line: headers are usable */
		reject(&q, &err);
		return;
	}
	sw_metrics_request(m->method_id);
	if (m->method_id != SW_METHOD_REGISTER && !to_server(m)) {
		struct sw_uri u;
		if (sw_msg_ruri(m, &u, NULL) == 0 && u.scheme != SW_URI_SIP && u.scheme != SW_URI_SIPS) {
			sw__reply_simple(&q, 416, NULL);
			return;
		}
		r->next.request(&q); /* everything but REGISTER and OPTIONS to the server */
		return;
	}
	if (sw_txn_key_make(m, &q.key) == 0) {
		const char *resp;
		size_t rlen;
		switch (sw_txn_begin(rw->txn, &q.key, q.now_ms, &resp, &rlen)) {
		case SW_TXN_COMPLETED: {
			r->retransmissions++;
			struct sw_peer to;
			sw__reply_peer(m, from, &to);
			sw_worker_send(w, &to, resp, rlen);
			return;
		}
		case SW_TXN_PENDING:
			r->retransmissions++;
			sw_metrics_inc(SW_M_DROP_RETRANSMISSION);
			return; /* still being processed: the answer will come */
		case SW_TXN_NEW:
			q.has_key = true;
			break;
		}
	}
	struct sw_uri ruri;
	if (sw_msg_ruri(m, &ruri, NULL) == 0 && ruri.scheme != SW_URI_SIP && ruri.scheme != SW_URI_SIPS) {
		sw__reply_simple(&q, 416, NULL);
		return;
	}
	switch (m->method_id) {
	case SW_METHOD_REGISTER:
		sw__register(&q);
		break;
	case SW_METHOD_OPTIONS:
		options(&q);
		break;
	default:
		sw__reply_simple(&q, 405, NULL);
		break;
	}
}

/* on_message, timed: a request's handling time goes to the histogram (a
 * response's, from downstream, does not). */
void sw_registrar_on_message(void *app, struct sw_worker *w, const struct sw_peer *from, const char *buf,
			     size_t len)
{
	/* looked at first: handling may close a TCP connection, and buf with it */
	bool request = len < 4 || memcmp(buf, "SIP/", 4);
	uint64_t t0 = sw_metrics_now_ns();
	on_message(app, w, from, buf, len);
	if (request)
		sw_metrics_observe(SW_H_REQUEST, sw_metrics_now_ns() - t0);
}

void sw_registrar_on_tick(void *app, struct sw_worker *w, uint64_t now_ms)
{
	(void)app;
	struct sw_registrar_worker *rw = sw_worker_data(w);
	sw_txn_expire(rw->txn, now_ms);
	rw->r->next.tick(rw, w, now_ms);
	sw__overload_tick(rw, w);
}

void sw_registrar_on_idle(void *app, struct sw_worker *w)
{
	(void)w;
	struct sw_registrar *r = app;
	sw_store_commit(r->st);
}

void sw_registrar_housekeeping(struct sw_registrar *r, int64_t now)
{
	sw_credcache_refresh(r->creds);
	sw_metrics_add(SW_M_REG_EXPIRED, sw_location_expire(r->loc, now));
	sw_store_binding_expire(r->st, now, NULL);
}

void sw_registrar_stats(struct sw_registrar *r, struct sw_registrar_stats *out)
{
	out->requests = r->requests;
	out->responses_dropped = r->responses_dropped;
	out->parse_errors = r->parse_errors;
	out->retransmissions = r->retransmissions;
	out->registrations_ok = r->registrations_ok;
	out->challenges = r->challenges;
	out->refusals = r->refusals;
	out->store_errors = r->store_errors;
	out->shed = r->shed;
	out->log_suppressed = r->log_suppressed;
}

unsigned sw_registrar_worker_transactions(const struct sw_registrar_worker *rw)
{
	return rw->r->next.transactions(rw->pw);
}

size_t sw_registrar_bindings(struct sw_registrar *r)
{
	return sw_location_count(r->loc);
}

bool sw__uri_is_ours(void *arg, const struct sw_uri *u)
{
	const struct sw_registrar *r = arg;
	for (unsigned i = 0; i < r->cfg.ndomains; i++)
		if (sw_str_ieq(u->host, r->domains[i]))
			return true;
	sw_str host = u->host;
	if (host.len >= 2 && host.p[0] == '[')
		host = sw_str_from(host.p + 1, host.len - 2);
	for (unsigned i = 0; i < r->nlisten; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&r->listen[i].addr;
		char h[64];
		sw_sockaddr_host(sa, h, sizeof(h));
		int want = u->port >= 0 ? u->port : r->listen[i].tp == SW_TP_TLS ? 5061 : 5060;
		bool wildcard = !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
		if (want == sw_sockaddr_port(sa) && (wildcard || sw_str_ieq(host, h)))
			return true;
	}
	return false;
}
