/* REGISTER processing, RFC 3261 §10.3 in its order: domain, authentication,
 * authorization, contacts (expires, '*', Call-ID/CSeq, limits), the durable
 * write, and the 200 OK listing every current binding. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "reg_int.h"
#include "sipwarden/metrics.h"

static int domain_index(const struct sw_registrar *r, sw_str host)
{
	for (unsigned i = 0; i < r->cfg.ndomains; i++)
		if (sw_str_ieq(host, r->domains[i]))
			return (int)i;
	return -1;
}

/* "user@domain" from a SIP URI: user unescaped, host lower-case. */
static int make_aor(const struct sw_uri *u, char *out, size_t cap)
{
	char user[SW_STORE_USER_MAX + 1];
	int n = sw_uri_unescape(u->user, user, sizeof(user) - 1);
	if (n <= 0 || memchr(user, '\0', (size_t)n) || u->host.len + (size_t)n + 2 > cap)
		return SW_EINVAL;
	memcpy(out, user, (size_t)n);
	out[n] = '@';
	for (size_t i = 0; i < u->host.len; i++)
		out[n + 1 + (int)i] = (char)tolower((unsigned char)u->host.p[i]);
	out[n + 1 + (int)u->host.len] = '\0';
	return 0;
}

static void snapshot_one(void *arg, const struct sw_loc_binding *b)
{
	struct sw_registrar_worker *rw = arg;
	if (rw->nexisting >= SW_REG_MAX_EXISTING)
		return;
	struct sw_reg_existing *e = &rw->existing[rw->nexisting++];
	snprintf(e->contact, sizeof(e->contact), "%s", b->contact);
	e->call_id_hash = b->call_id_hash;
	e->cseq = b->cseq;
}

/* Which existing binding has the same contact URI (RFC 3261 §19.1.4)? */
static int existing_match(struct sw_registrar_worker *rw, const struct sw_uri *u)
{
	for (unsigned i = 0; i < rw->nexisting; i++) {
		struct sw_uri e;
		const char *c = rw->existing[i].contact;
		if (!sw_uri_parse(&e, sw_str_from(c, strlen(c)), NULL) && sw_uri_equal(&e, u))
			return (int)i;
	}
	return -1;
}

struct contacts_out {
	struct sw_buf *b;
	int64_t now;
};

static void contact_line(void *arg, const struct sw_loc_binding *bd)
{
	struct contacts_out *co = arg;
	sw_buf_addf(co->b, "Contact: <%s>;expires=%lld", bd->contact, (long long)(bd->expires - co->now));
	if (bd->q != 1000 && bd->q != 0)
		sw_buf_addf(co->b, ";q=0.%03u", bd->q);
	else if (bd->q == 0)
		sw_buf_adds(co->b, ";q=0");
	sw_buf_adds(co->b, "\r\n");
}

/* The 200 OK: every current binding with its remaining time, and Date. */
static void reply_ok(struct sw_req *q, const char *aor)
{
	struct sw_buf b;
	if (sw__reply_start(q, &b, 200, NULL))
		return;
	struct contacts_out co = { &b, q->now };
	sw_location_visit(q->rw->r->loc, aor, q->now, contact_line, &co);
	char date[40];
	struct tm tm;
	time_t t = (time_t)q->now;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	sw_print_headerf(&b, "Date", "%s", date);
	sw_print_end(&b, SW_STR_NULL);
	sw__reply_send(q, &b);
}

/* A REGISTER waiting for its durable write. */
struct pending {
	struct pending *next_free;   /* in the worker's cache */
	bool standard;               /* of the standard size: goes back to the cache */
	struct sw_registrar_worker *rw;
	struct sw_worker *w;
	struct sw_peer from;
	struct sw_txn_key key;
	bool has_key;
	int store_err;
	uint64_t queued_ns;          /* when the write was queued (the commit wait histogram) */
	int64_t now;                 /* when the REGISTER was handled: the 200 states the
					granted intervals even if the commit crosses a second */
	char aor[SW_STORE_AOR_MAX + 1];
	char auth_user[SW_STORE_USER_MAX + 1];
	char realm[SW_STORE_DOMAIN_MAX + 1];
	size_t nops;
	struct sw_binding_op *ops;   /* right after the struct */
	size_t len;
	char *req;                   /* after the operations */
};

/* Pending writes are recycled per worker (taken and given back on the
 * worker's thread, so no lock): a REGISTER with up to PENDING_OPS contacts
 * and a request up to PENDING_REQ bytes allocates nothing once the cache
 * is warm; bigger ones get their own block. */
#define PENDING_OPS 2u
#define PENDING_REQ 4096u
#define PENDING_CACHE 64u

static struct pending *pending_get(struct sw_registrar_worker *rw, size_t nops, size_t len)
{
	bool standard = nops <= PENDING_OPS && len <= PENDING_REQ;
	struct pending *p = standard ? rw->free_pending : NULL;
	if (p) {
		rw->free_pending = p->next_free;
		rw->nfree_pending--;
	} else {
		size_t cap_ops = standard ? PENDING_OPS : nops, cap_req = standard ? PENDING_REQ : len;
		if (!(p = malloc(sizeof(*p) + cap_ops * sizeof(struct sw_binding_op) + cap_req)))
			return NULL;
	}
	p->standard = standard;
	p->ops = (struct sw_binding_op *)(p + 1);
	p->req = (char *)(p->ops + (standard ? PENDING_OPS : nops));
	return p;
}

static void pending_put(struct sw_registrar_worker *rw, struct pending *p)
{
	if (p->standard && rw->nfree_pending < PENDING_CACHE) {
		p->next_free = rw->free_pending;
		rw->free_pending = p;
		rw->nfree_pending++;
	} else {
		free(p);
	}
}

void sw__pending_cache_free(struct sw_registrar_worker *rw)
{
	while (rw->free_pending) {
		struct pending *p = rw->free_pending;
		rw->free_pending = p->next_free;
		free(p);
	}
	rw->nfree_pending = 0;
}

/* The event's detail for an accepted REGISTER: what it did. */
static const char *ops_summary(const struct sw_binding_op *ops, size_t n)
{
	size_t puts = 0;
	for (size_t i = 0; i < n; i++)
		puts += ops[i].kind == SW_BINDING_PUT;
	return puts == n ? "registered" : puts == 0 ? "unregistered" : "registered and unregistered contacts";
}

/* On the worker thread, once the write is durable (or failed). */
static void register_done(struct sw_worker *w, void *arg)
{
	struct pending *p = arg;
	struct sw_registrar_worker *rw = p->rw;
	struct sw_registrar *r = rw->r;
	struct sw_req q = { .rw = rw, .w = w, .from = &p->from, .m = &rw->msg, .key = p->key,
			    .has_key = p->has_key, .now = p->now };
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	q.now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	sw_metrics_gauge_add(SW_G_PENDING_WRITES, -1);
	if (sw_msg_parse(&rw->msg, p->req, p->len, NULL, NULL) == 0) {
		if (p->store_err || sw_location_apply(r->loc, p->ops, p->nops)) {
			r->store_errors++;
			sw__event(&q, p->aor, sw_str_from(p->auth_user, strlen(p->auth_user)),
				  sw_str_from(p->realm, strlen(p->realm)), SW_CAUSE_STORE_UNAVAILABLE,
				  "the binding could not be stored");
			sw__reply_simple(&q, 500, "Registration Not Stored");
		} else {
			r->registrations_ok++;
			sw__event(&q, p->aor, sw_str_from(p->auth_user, strlen(p->auth_user)),
				  sw_str_from(p->realm, strlen(p->realm)), SW_CAUSE_OK, ops_summary(p->ops, p->nops));
			reply_ok(&q, p->aor);
		}
	}
	sw__lag_pop(rw);
	pending_put(rw, p);
}

/* On the store's writer thread: hand the result to the worker that owns the
 * transaction (and the connection or socket to answer on). */
static void store_done(void *arg, int err)
{
	struct pending *p = arg;
	p->store_err = err;
	sw_metrics_observe(SW_H_COMMIT_WAIT, sw_metrics_now_ns() - p->queued_ns);
	if (sw_worker_post(p->w, register_done, p)) {
		/* out of memory: the client's retransmission will find the
		 * transaction pending until it is forgotten */
		sw_metrics_gauge_add(SW_G_PENDING_WRITES, -1);
		free(p);
	}
}

static void fill_binding(struct sw_req *q, struct sw_binding *b, const char *aor, const struct sw_addr *a,
			 uint32_t expires, sw_str call_id, uint32_t cseq)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->aor, sizeof(b->aor), "%s", aor);
	SW_STORE_SET(b->contact, a->uri.raw);
	b->expires = q->now + expires;
	b->q = a->has_q ? a->q : 1000;
	SW_STORE_SET(b->call_id, call_id);
	b->cseq = cseq;
	sw_sockaddr_host((const struct sockaddr *)&q->from->addr, b->source_addr, sizeof(b->source_addr));
	b->source_port = (uint16_t)sw_sockaddr_port((const struct sockaddr *)&q->from->addr);
	snprintf(b->transport, sizeof(b->transport), "%s",
		 q->from->tp == SW_TP_UDP ? "udp" : q->from->tp == SW_TP_TCP ? "tcp" : "tls");
	struct sw_flow flow; /* how the proxy reaches this phone: where it registered from */
	sw_worker_flow_of(q->w, q->from, &flow);
	sw_flow_format(&flow, sw_worker_boot(q->w), b->received, sizeof(b->received));
	const struct sw_hdr *ua = sw_msg_hdr(q->m, SW_HDR_USER_AGENT);
	if (ua)
		SW_STORE_SET(b->user_agent, ua->value);
	const struct sw_hdr *path = sw_msg_hdr(q->m, SW_HDR_PATH);
	if (path)
		SW_STORE_SET(b->path, path->value);
	sw_str inst, regid;
	if (sw_param_get(a->params, "+sip.instance", &inst) && inst.p)
		SW_STORE_SET(b->instance, inst);
	if (sw_param_get(a->params, "reg-id", &regid) && regid.p)
		sw_uint_parse(&b->reg_id, regid, UINT32_MAX, NULL);
	b->updated = q->now;
}

void sw__register(struct sw_req *q)
{
	struct sw_registrar_worker *rw = q->rw;
	struct sw_registrar *r = rw->r;
	const struct sw_msg *m = q->m;
	/* one consistent copy of the settings SIGHUP may change */
	const uint32_t min_expires = r->min_expires, max_expires = r->max_expires,
		       default_expires = r->default_expires, max_contacts = r->max_contacts;
	const bool allow_others = r->allow_register_others;
	struct sw_uri ruri;
	struct sw_addr to;
	char aor[SW_STORE_AOR_MAX + 1] = "";
	sw_msg_ruri(m, &ruri, NULL);
	sw_msg_to(m, &to, NULL);
	bool to_ok = (to.uri.scheme == SW_URI_SIP || to.uri.scheme == SW_URI_SIPS) && to.uri.user.len &&
		     make_aor(&to.uri, aor, sizeof(aor)) == 0;

	/* 1. the domain (§10.3 step 1) */
	int d = domain_index(r, ruri.host);
	if (d < 0) {
		r->refusals++;
		sw__event(q, aor, SW_STR_NULL, ruri.host, SW_CAUSE_DOMAIN_UNKNOWN,
			  "the Request-URI names a domain this registrar does not serve");
		sw__reply_simple(q, 404, "Domain Not Served Here");
		return;
	}
	sw_str realm = sw_str_from(r->domains[d], strlen(r->domains[d]));

	/* 2. authentication (step 3) */
	struct sw_cred_source creds;
	struct sw_verify_result res;
	sw__creds(rw, &creds);
	enum sw_cause cause = sw_auth_verify(rw->ver[d], m, (uint64_t)q->now, &creds, &res);
	if (cause != SW_CAUSE_OK) {
		sw__event(q, aor, res.username, realm, cause, res.detail);
		if (res.status == 401 || res.status == 407) {
			r->challenges++;
			struct sw_buf b;
			if (sw__reply_start(q, &b, res.status, NULL))
				return;
			sw_challenge_build(rw->ver[d], (uint64_t)q->now, res.stale, &b);
			sw_print_end(&b, SW_STR_NULL);
			sw__reply_send(q, &b);
		} else {
			r->refusals++;
			sw__reply_simple(q, res.status ? res.status : 400, NULL);
		}
		return;
	}
	if (rw->cred_disabled) {
		r->refusals++;
		sw__event(q, aor, res.username, realm, SW_CAUSE_ACCOUNT_DISABLED, "the account is disabled");
		sw__reply_simple(q, 403, "Forbidden");
		return;
	}

	/* 3. authorization (steps 4-5): the To AOR is the authenticated user's */
	if (!to_ok) {
		r->refusals++;
		sw__reply_simple(q, 400, "The To header must hold a SIP URI with a user part");
		return;
	}
	char own[SW_STORE_AOR_MAX + 1];
	snprintf(own, sizeof(own), "%s@%s", rw->sub.user, rw->sub.domain);
	bool same_domain = sw_str_ieq(to.uri.host, r->domains[d]);
	if (!same_domain || (!allow_others && strcmp(own, aor) != 0)) {
		r->refusals++;
		sw__event(q, aor, res.username, realm, SW_CAUSE_AUTH_USER_MISMATCH,
			  "the authenticated user may not register this address-of-record");
		sw__reply_simple(q, 403, "Forbidden: this user may not register this address");
		return;
	}

	/* 4. contacts (steps 6-8) */
	uint32_t hdr_expires = default_expires;
	bool has_hdr_expires = sw_msg_expires(m, &hdr_expires, NULL) == 0;
	sw_str call_id;
	struct sw_cseq cseq;
	sw_msg_call_id(m, &call_id, NULL);
	char stored_call_id[SW_STORE_TEXT_MAX + 1]; /* as the binding will store it */
	SW_STORE_SET(stored_call_id, call_id);
	const uint64_t call_id_hash = sw_location_call_id_hash(stored_call_id, strlen(stored_call_id));
	sw_msg_cseq(m, &cseq, NULL);
	rw->nexisting = 0;
	unsigned current = sw_location_visit(r->loc, aor, q->now, snapshot_one, rw);
	size_t nops = 0;
	int adds = 0;
	struct sw_hdr_iter it;
	sw_str e;
	sw_hdr_iter_init(&it, m, SW_HDR_CONTACT);
	bool star = false;
	unsigned ncontacts = 0;
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		struct sw_addr a;
		if (sw_addr_parse(&a, e, true, NULL))
			continue; /* sw_msg_check accepted it: cannot happen */
		ncontacts++;
		if (a.star) {
			star = true;
			continue;
		}
		if (nops >= SW_REG_MAX_OPS) {
			r->refusals++;
			sw__reply_simple(q, 400, "Too many contacts in one REGISTER");
			return;
		}
		uint32_t exp = a.has_expires ? a.expires : (has_hdr_expires ? hdr_expires : default_expires);
		if (exp != 0 && exp < min_expires) {
			r->refusals++;
			sw__event(q, aor, res.username, realm, SW_CAUSE_EXPIRES_TOO_BRIEF,
				  "the requested registration interval is below Min-Expires");
			struct sw_buf b;
			if (sw__reply_start(q, &b, 423, NULL))
				return;
			sw_print_headerf(&b, "Min-Expires", "%u", min_expires);
			sw_print_end(&b, SW_STR_NULL);
			sw__reply_send(q, &b);
			return;
		}
		if (exp > max_expires)
			exp = max_expires;
		int ex = existing_match(rw, &a.uri);
		if (ex >= 0 && call_id_hash == rw->existing[ex].call_id_hash && cseq.num <= rw->existing[ex].cseq) {
			r->refusals++;
			sw__reply_simple(q, 500, "Out of order CSeq for this Call-ID");
			return;
		}
		struct sw_binding_op *op = &rw->ops[nops++];
		if (exp == 0) {
			op->kind = SW_BINDING_DEL;
			memset(&op->b, 0, sizeof(op->b));
			snprintf(op->b.aor, sizeof(op->b.aor), "%s", aor);
			/* delete the stored spelling of an equal URI */
			if (ex >= 0)
				memcpy(op->b.contact, rw->existing[ex].contact, sizeof(op->b.contact));
			else
				SW_STORE_SET(op->b.contact, a.uri.raw);
			adds -= ex >= 0;
		} else {
			op->kind = SW_BINDING_PUT;
			fill_binding(q, &op->b, aor, &a, exp, call_id, cseq.num);
			if (ex >= 0) /* keep the stored spelling as the key */
				memcpy(op->b.contact, rw->existing[ex].contact, sizeof(op->b.contact));
			adds += ex < 0;
		}
	}
	if (star) {
		if (ncontacts != 1 || !has_hdr_expires || hdr_expires != 0) {
			r->refusals++;
			sw__reply_simple(q, 400, "Contact * needs Expires: 0 and no other contact");
			return;
		}
		for (unsigned i = 0; i < rw->nexisting; i++)
			if (call_id_hash == rw->existing[i].call_id_hash && cseq.num <= rw->existing[i].cseq) {
				r->refusals++;
				sw__reply_simple(q, 500, "Out of order CSeq for this Call-ID");
				return;
			}
		rw->ops[0].kind = SW_BINDING_DEL_AOR;
		memset(&rw->ops[0].b, 0, sizeof(rw->ops[0].b));
		snprintf(rw->ops[0].b.aor, sizeof(rw->ops[0].b.aor), "%s", aor);
		nops = 1;
	}
	if ((int)current + adds > (int)max_contacts && adds > 0) {
		r->refusals++;
		sw__event(q, aor, res.username, realm, SW_CAUSE_TOO_MANY_CONTACTS,
			  "the address-of-record already has the maximum number of contacts");
		sw__reply_simple(q, 403, "Too Many Contacts");
		return;
	}
	if (nops == 0) { /* a query: list the bindings */
		r->registrations_ok++;
		sw__event(q, aor, res.username, realm, SW_CAUSE_OK, "bindings queried");
		reply_ok(q, aor);
		return;
	}

	/* 5. the durable write; the 200 OK leaves once it is committed */
	struct pending *p = pending_get(rw, nops, m->len);
	if (!p) {
		sw__reply_simple(q, 500, "Out of memory");
		return;
	}
	p->rw = rw;
	p->from = *q->from;
	p->key = q->key;
	p->has_key = q->has_key;
	p->store_err = 0;
	p->now = q->now;
	snprintf(p->aor, sizeof(p->aor), "%s", aor);
	sw_str_cpy(p->auth_user, sizeof(p->auth_user), res.username);
	snprintf(p->realm, sizeof(p->realm), "%s", r->domains[d]);
	memcpy(p->ops, rw->ops, nops * sizeof(*p->ops));
	p->nops = nops;
	p->len = m->len;
	memcpy(p->req, m->buf, m->len);
	p->w = q->w;
	p->queued_ns = sw_metrics_now_ns();
	sw_metrics_gauge_add(SW_G_PENDING_WRITES, 1);
	int rc = sw_store_bindings_submit(r->st, p->ops, nops, store_done, p);
	if (!rc)
		sw__lag_push(rw, q->now_ms);
	if (rc) {
		sw_metrics_gauge_add(SW_G_PENDING_WRITES, -1);
		pending_put(rw, p);
		r->store_errors++;
		sw__event(q, aor, res.username, realm, SW_CAUSE_STORE_UNAVAILABLE, "the binding could not be queued");
		sw__reply_simple(q, 500, "Registration Not Stored");
	}
}
