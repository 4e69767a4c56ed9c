/* One cause per flow. The last transaction of a flow says how it ended;
 * the answers to challenges say why: the structure of each answer is
 * checked against the challenge it answers (realm, algorithm, qop, uri,
 * nonce-count), then where it went, then what the server said, and with
 * --credentials the response itself is verified with the digest engine and
 * a mismatch is explained by sw_digest_diagnose() (the known mistakes). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/auth.h"
#include "trace_int.h"

#define NONE SW__NONE
#define NONCES_MAX 8192u /* nonces remembered for nonce-count reuse */
#define URIOK_MAX 65536u
#define MAX_CHALLENGES 8u

static void evidence_at(struct sw_trace *t, unsigned msg, unsigned frame, unsigned input,
			const char *fmt, va_list ap)
{
	if (t->jquiet || t->jnev >= SW_TRACE_MAX_EVIDENCE)
		return;
	for (unsigned i = 0; i < t->jnev; i++) /* one note per message and text */
		if (t->jev[i].msg == msg && msg != NONE && fmt[0] == '\0')
			return;
	t->jev[t->jnev].msg = msg;
	t->jev[t->jnev].frame = frame;
	t->jev[t->jnev].input = input;
	vsnprintf(t->jev[t->jnev].note, sizeof(t->jev[0].note), fmt, ap);
	t->jnev++;
}

void sw__evidence(struct sw_trace *t, struct sw_trace_flow *f, unsigned msg, const char *fmt, ...)
{
	(void)f;
	va_list ap;
	va_start(ap, fmt);
	evidence_at(t, msg, t->msgs[msg].meta.frame, t->msgs[msg].meta.input, fmt, ap);
	va_end(ap);
}

/* Evidence in a message that is no longer kept (another, judged flow). */
static void evidence_frame(struct sw_trace *t, unsigned frame, unsigned input, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void evidence_frame(struct sw_trace *t, unsigned frame, unsigned input, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evidence_at(t, NONE, frame, input, fmt, ap);
	va_end(ap);
}

static void detail(struct sw_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void detail(struct sw_trace *t, const char *fmt, ...)
{
	if (t->jquiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->jdetail, sizeof(t->jdetail), fmt, ap);
	va_end(ap);
}

void sw__flow_strings_free(struct sw_trace_flow *f)
{
	if (f->detail && f->detail[0])
		free((char *)f->detail);
	for (unsigned i = 0; i < f->nev; i++)
		free((char *)f->ev[i].note);
	free(f->ev);
	f->detail = "";
	f->ev = NULL;
	f->nev = 0;
}

/* The first Digest credentials of a request. */
static bool creds_of(const struct sw_msg *m, struct sw_auth *a)
{
	for (int k = 0; k < 2; k++) {
		enum sw_hdr_id id = k ? SW_HDR_PROXY_AUTHORIZATION : SW_HDR_AUTHORIZATION;
		for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h))
			if (sw_auth_parse(a, h->value, NULL) == 0 && a->is_digest)
				return true;
	}
	return false;
}

/* Every Digest challenge of a 401/407 (several headers, several per header). */
static unsigned challenges_of(const struct sw_msg *m, struct sw_auth *ch, unsigned max)
{
	unsigned n = 0;
	for (int k = 0; k < 2; k++) {
		enum sw_hdr_id id = k ? SW_HDR_PROXY_AUTHENTICATE : SW_HDR_WWW_AUTHENTICATE;
		for (const struct sw_hdr *h = sw_msg_hdr(m, id); h && n < max; h = sw_msg_hdr_next(m, h)) {
			sw_str v = h->value;
			for (int guard = 0; v.p && v.len && n < max && guard < 8; guard++) {
				if (sw_auth_parse(&ch[n], v, NULL) != 0)
					break;
				v = ch[n].next;
				if (ch[n].is_digest)
					n++;
			}
		}
	}
	return n;
}

static bool flag_true(sw_str s) { return sw_str_ieq(s, "true"); }

/* Is tok one of the comma-separated tokens of list? */
static bool in_list(sw_str list, sw_str tok)
{
	size_t i = 0;
	while (list.p && i < list.len) {
		while (i < list.len && (list.p[i] == ' ' || list.p[i] == ','))
			i++;
		size_t j = i;
		while (j < list.len && list.p[j] != ',' && list.p[j] != ' ')
			j++;
		if (j > i && sw_str_ieq_str(sw_str_from(list.p + i, j - i), tok))
			return true;
		i = j;
	}
	return false;
}

static bool has_char(sw_str s, char c) { return s.p && memchr(s.p, c, s.len); }

static const char *S(sw_str s, char *buf, size_t cap)
{
	return sw_str_cpy(buf, cap, s.p ? s : SW_STR_LIT(""));
}

static bool reason_says_nonce(const struct sw_msg *m)
{
	char r[128];
	S(m->reason, r, sizeof(r));
	return strcasestr(r, "nonce") || strcasestr(r, "stale") || strcasestr(r, "expired");
}

static bool known_addr(const char *a) { return a[0] && strcmp(a, "local") && strcmp(a, "remote"); }

/* ---- nonce-count reuse across transactions ------------------------------- */

void sw__nonce_use(struct sw_trace *t, struct sw__txn *x, const struct sw_trace_msg *req)
{
	/* per nonce: the highest nc and the last request that used it (u:
	 * nc << 32 | frame; val: the input << 1 | 1 once an answer with it was
	 * accepted), the oldest forgotten first */
	struct sw_auth a;
	if (!req->m || !creds_of(req->m, &a))
		return;
	x->uri_differs = a.uri.p && !sw_str_eq_str(a.uri, req->m->ruri);
	if (!a.nonce.p)
		return;
	char ncs[16];
	uint32_t nc = (uint32_t)strtoul(S(a.nc, ncs, sizeof(ncs)), NULL, 16);
	bool created;
	struct sw__hent *e = sw__hmap_put(&t->nonces, a.nonce.p, a.nonce.len, &created);
	if (!e)
		return;
	uintptr_t accepted = 0;
	if (!created) {
		uint32_t last = (uint32_t)(e->u >> 32);
		accepted = (uintptr_t)e->val & 1u;
		x->replay = !a.qop.p || nc <= last;
		x->nonce_accepted = accepted;
		x->replay_frame = (unsigned)(e->u & 0xffffffffu);
		x->replay_input = (unsigned)((uintptr_t)e->val >> 1);
		if (nc < last)
			nc = last;
	}
	e->u = (uint64_t)nc << 32 | req->meta.frame;
	e->val = (void *)((uintptr_t)req->meta.input << 1 | accepted);
	while (t->nonces.n > NONCES_MAX)
		sw__hmap_del(&t->nonces, t->nonces.fhead);
}

void sw__nonce_accepted(struct sw_trace *t, const struct sw__txn *x)
{
	struct sw_auth a;
	const struct sw_trace_msg *r = &t->msgs[x->reqs[0]];
	if (!r->m || !creds_of(r->m, &a) || !a.nonce.p)
		return;
	struct sw__hent *e = sw__hmap_get(&t->nonces, a.nonce.p, a.nonce.len);
	if (e)
		e->val = (void *)((uintptr_t)e->val | 1u);
}

/* The key of the server + digest uri map. */
static size_t uri_key(char *out, size_t cap, const char *dst, sw_str uri)
{
	int n = snprintf(out, cap, "%s|%.*s", dst, (int)(uri.len > 400 ? 400 : uri.len), uri.p ? uri.p : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void sw__uri_accepted(struct sw_trace *t, const struct sw__txn *x)
{
	if (!x->has_creds || !x->uri_differs || x->final == NONE || !x->nreqs)
		return;
	unsigned st = t->msgs[x->final].m->status;
	if (st == 401 || st == 407 || st == 403 || st >= 700)
		return;
	const struct sw_trace_msg *r = &t->msgs[x->reqs[0]];
	struct sw_auth a;
	if (!r->m || !creds_of(r->m, &a) || !a.uri.p || sw_str_eq_str(a.uri, r->m->ruri))
		return;
	char key[512];
	size_t n = uri_key(key, sizeof(key), r->meta.dst, a.uri);
	bool created;
	struct sw__hent *e = sw__hmap_put(&t->uriok, key, n, &created);
	if (e && created) {
		e->u = r->meta.frame;
		e->val = (void *)(uintptr_t)r->meta.input;
	}
	while (t->uriok.n > URIOK_MAX)
		sw__hmap_del(&t->uriok, t->uriok.fhead);
}

/* ---- checks of one answer against its challenge ---------------------------- */

struct answer {
	unsigned msg;                /* the request with credentials */
	unsigned chmsg;              /* the 401/407 it answers */
	struct sw_auth a;
	struct sw_auth ch[MAX_CHALLENGES];
	unsigned nch;
	const struct sw_auth *match; /* the challenge of the same realm */
};

/* An answer to the same server with the same digest uri that was accepted:
 * the server does not check the uri, so a mismatch is not why it refused.
 * The frame of that answer, or NONE. */
static unsigned uri_accepted_elsewhere(struct sw_trace *t, const struct answer *an)
{
	char key[512];
	size_t n = uri_key(key, sizeof(key), t->msgs[an->msg].meta.dst, an->a.uri);
	const struct sw__hent *e = sw__hmap_get(&t->uriok, key, n);
	return e ? (unsigned)e->u : NONE;
}

/* A structural fault of the answer, or SW_CAUSE_OK. */
static enum sw_cause structure(struct sw_trace *t, struct sw_trace_flow *f, struct answer *an)
{
	const struct sw_msg *req = t->msgs[an->msg].m;
	struct sw_auth *a = &an->a;
	char b1[256], b2[256];
	an->match = NULL;
	for (unsigned i = 0; i < an->nch; i++)
		if (a->realm.p && an->ch[i].realm.p && sw_str_eq_str(a->realm, an->ch[i].realm)) {
			an->match = &an->ch[i];
			break;
		}
	if (!an->match && an->nch) {
		detail(t, "the answer names realm \"%s\" but the challenge was for realm \"%s\"",
		       S(a->realm, b1, sizeof(b1)), S(an->ch[0].realm, b2, sizeof(b2)));
		sw__evidence(t, f, an->msg, "answer: realm=\"%s\"", b1);
		return SW_CAUSE_REALM_MISMATCH;
	}
	if (!an->match)
		return SW_CAUSE_OK;
	enum sw_digest_alg alg, calg;
	bool offered = false;
	if (sw_digest_alg_parse(a->algorithm, &alg) == 0)
		for (unsigned i = 0; i < an->nch; i++)
			if (sw_str_eq_str(an->ch[i].realm, a->realm) &&
			    sw_digest_alg_parse(an->ch[i].algorithm, &calg) == 0 && calg == alg)
				offered = true;
	if (!offered) {
		detail(t, "the answer uses algorithm %s, which the challenge did not offer",
		       a->algorithm.p ? S(a->algorithm, b1, sizeof(b1)) : "MD5 (none given)");
		sw__evidence(t, f, an->msg, "answer: algorithm=%s", a->algorithm.p ? b1 : "(absent: MD5)");
		return SW_CAUSE_ALGORITHM_UNSUPPORTED;
	}
	const struct sw_auth *c = an->match;
	if (c->qop.p) {
		const char *why = NULL;
		if (!a->qop.p)
			why = "the challenge offered qop but the answer has none";
		else if (has_char(a->qop, ','))
			why = "the answer sends the qop list instead of one token";
		else if (!in_list(c->qop, a->qop))
			why = "the answer's qop was not offered";
		else if (!a->nc.p || !a->cnonce.p)
			why = "qop without nc or cnonce";
		else if (a->nc.len != 8)
			why = "nc is not 8 hex digits";
		if (why) {
			detail(t, "%s (offered qop=\"%s\", answered qop=%s, nc=%s)", why,
			       S(c->qop, b1, sizeof(b1)), a->qop.p ? S(a->qop, b2, sizeof(b2)) : "absent",
			       a->nc.p ? "present" : "absent");
			sw__evidence(t, f, an->msg, "answer: %s", why);
			return SW_CAUSE_QOP_INVALID;
		}
	}
	if (a->uri.p && req->ruri.p && !sw_str_eq_str(a->uri, req->ruri)) {
		struct sw_uri u1, u2;
		bool same = sw_uri_parse(&u1, a->uri, NULL) == 0 && sw_uri_parse(&u2, req->ruri, NULL) == 0 &&
			    sw_uri_equal(&u1, &u2);
		unsigned other = same ? NONE : uri_accepted_elsewhere(t, an);
		if (other != NONE) {
			sw__evidence(t, f, an->msg, "digest uri \"%s\" differs from the Request-URI, but the server accepted the same in #%u",
				     S(a->uri, b1, sizeof(b1)), other);
		} else if (!same) {
			detail(t, "the digest uri \"%s\" is not the Request-URI \"%s\"",
			       S(a->uri, b1, sizeof(b1)), S(req->ruri, b2, sizeof(b2)));
			sw__evidence(t, f, an->msg, "answer: uri=\"%s\", Request-URI %s", b1, b2);
			return SW_CAUSE_URI_MISMATCH;
		}
	}
	return SW_CAUSE_OK;
}

/* With --credentials: verify the response. Returns true and sets *cause
 * (ok = the response is right) when the account is known. */
static bool prove(struct sw_trace *t, struct sw_trace_flow *f, struct answer *an,
		  enum sw_cause *cause)
{
	if (!t->o.creds)
		return false;
	const struct sw_msg *req = t->msgs[an->msg].m;
	struct sw_addr to, from;
	sw_str to_host = SW_STR_NULL, from_host = SW_STR_NULL;
	if (sw_msg_to(req, &to, NULL) == 0)
		to_host = to.uri.host;
	if (sw_msg_from(req, &from, NULL) == 0)
		from_host = from.uri.host;
	const struct sw_cred *cr = sw_creds_find(t->o.creds, an->a.username, an->a.realm, to_host);
	if (!cr)
		return false;
	enum sw_digest_alg alg;
	if (sw_digest_alg_parse(an->a.algorithm, &alg))
		return false;
	if (cr->ha1 && sw_digest_alg_hash((enum sw_digest_alg)cr->alg) != sw_digest_alg_hash(alg))
		return false; /* an HA1 of another hash cannot check this answer */
	struct sw_diagnose_in in = {
		.auth = &an->a, .method = req->method, .ruri = req->ruri, .body = req->body,
		.password = cr->password ? sw_str_from(cr->password, strlen(cr->password)) : SW_STR_NULL,
		.ha1 = cr->ha1 ? sw_str_from(cr->ha1, strlen(cr->ha1)) : SW_STR_NULL,
		.challenge_realm = an->match ? an->match->realm : (an->nch ? an->ch[0].realm : SW_STR_NULL),
		.to_host = to_host, .from_host = from_host,
	};
	struct sw_diagnosis d;
	if (sw_digest_diagnose(NULL, &in, &d) != 0)
		return false;
	f->proved = true;
	char b1[128];
	if (d.match) {
		*cause = SW_CAUSE_OK;
		sw__evidence(t, f, an->msg, "response verified with the credentials of %s: right",
			     S(an->a.username, b1, sizeof(b1)));
		return true;
	}
	*cause = d.mistake == SW_MISTAKE_UNKNOWN ? SW_CAUSE_WRONG_PASSWORD : d.cause;
	detail(t, "%s (response %.*s, expected %s)", d.what, (int)an->a.response.len,
	       an->a.response.p ? an->a.response.p : "", d.expected);
	sw__evidence(t, f, an->msg, "response verified with the credentials of %s: %s",
		     S(an->a.username, b1, sizeof(b1)), d.what);
	return true;
}

static bool load_answer(struct sw_trace *t, const struct sw__txn *prev, const struct sw__txn *x,
			struct answer *an)
{
	memset(an, 0, sizeof(*an));
	an->msg = x->reqs[0];
	an->chmsg = prev && prev->challenge != NONE ? prev->challenge : NONE;
	if (!creds_of(t->msgs[an->msg].m, &an->a))
		return false;
	if (an->chmsg != NONE)
		an->nch = challenges_of(t->msgs[an->chmsg].m, an->ch, MAX_CHALLENGES);
	return true;
}

static void first_line(const struct sw_trace_msg *tm, char *out, size_t cap)
{
	size_t n = 0;
	while (n < tm->len && tm->data[n] != '\r' && tm->data[n] != '\n')
		n++;
	snprintf(out, cap, "%.*s", (int)n, tm->data);
}

/* The verdict of a rejected answer (the answer in txn x, rejected by x's
 * final response). */
static enum sw_cause rejected(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
			      const struct sw__txn *x)
{
	struct answer an;
	char b1[128], b2[128];
	const struct sw_trace_msg *fin = &t->msgs[x->final];
	if (!load_answer(t, prev, x, &an)) {
		detail(t, "the credentials could not be parsed");
		return SW_CAUSE_MALFORMED_AUTHORIZATION;
	}
	enum sw_cause c = structure(t, f, &an);
	if (c != SW_CAUSE_OK)
		return c;
	if (an.chmsg != NONE && known_addr(t->msgs[an.chmsg].meta.src) &&
	    known_addr(t->msgs[an.msg].meta.dst) &&
	    strcmp(t->msgs[an.chmsg].meta.src, t->msgs[an.msg].meta.dst) != 0) {
		detail(t, "the challenge came from %s but the answer went to %s, which did not issue the nonce",
		       t->msgs[an.chmsg].meta.src, t->msgs[an.msg].meta.dst);
		sw__evidence(t, f, an.msg, "answer sent to %s", t->msgs[an.msg].meta.dst);
		return SW_CAUSE_RETRY_OTHER_SERVER;
	}
	if (x->replay) {
		detail(t, "the answer reuses nonce \"%s\" with nc=%s, already used by an earlier request",
		       S(an.a.nonce, b1, sizeof(b1)), an.a.nc.p ? S(an.a.nc, b2, sizeof(b2)) : "(none)");
		evidence_frame(t, x->replay_frame, x->replay_input, "first use of that nonce and nc");
		return SW_CAUSE_NONCE_REPLAY;
	}
	struct sw_auth again[MAX_CHALLENGES];
	unsigned nagain = challenges_of(fin->m, again, MAX_CHALLENGES);
	bool stale = false;
	for (unsigned i = 0; i < nagain; i++)
		stale |= flag_true(again[i].stale);
	if (stale) {
		detail(t, "the server said the nonce expired (stale=true) and the client did not retry with the new one");
		sw__evidence(t, f, x->final, "challenge again with stale=true");
		return SW_CAUSE_STALE_NONCE;
	}
	enum sw_cause pc;
	bool proved = prove(t, f, &an, &pc);
	/* a nonce the server accepted before, refused now with a new one: it
	 * expired (Kamailio's stock config answers so, without stale=true) */
	bool expired = x->nonce_accepted && nagain;
	for (unsigned i = 0; expired && i < nagain; i++)
		if (again[i].nonce.p && sw_str_eq_str(again[i].nonce, an.a.nonce))
			expired = false;
	if (nagain && (reason_says_nonce(fin->m) || expired) && (!proved || pc == SW_CAUSE_OK)) {
		first_line(fin, b1, sizeof(b1));
		if (reason_says_nonce(fin->m))
			detail(t, "the server refused the nonce (\"%s\") but sent the new challenge without stale=true, so the client gave up",
			       b1);
		else
			detail(t, "the server had accepted nonce \"%s\" before, then refused it with a new challenge (\"%s\") without stale=true: the nonce expired, and the client gave up",
			       S(an.a.nonce, b2, sizeof(b2)), b1);
		if (expired)
			evidence_frame(t, x->replay_frame, x->replay_input, "earlier use of that nonce; the server accepted it");
		sw__evidence(t, f, x->final, "new challenge without stale=true");
		return SW_CAUSE_STALE_WITHOUT_FLAG;
	}
	if (proved) {
		if (pc == SW_CAUSE_OK) {
			first_line(fin, b1, sizeof(b1));
			/* a server whose HA1 was computed over its domain but that
			 * challenges with another realm refuses right answers */
			struct sw_addr to;
			char dom[128], realm[128];
			if (an.match && sw_msg_to(t->msgs[an.msg].m, &to, NULL) == 0 && to.uri.host.p &&
			    !sw_str_ieq_str(to.uri.host, an.match->realm))
				detail(t, "the response is right for the stored credentials, yet the server answered \"%s\"; "
				       "its challenge realm \"%s\" is not the domain \"%s\": an HA1 stored for the domain "
				       "does not verify answers for that realm",
				       b1, S(an.match->realm, realm, sizeof(realm)), S(to.uri.host, dom, sizeof(dom)));
			else
				detail(t, "the response is right for the stored credentials, yet the server answered \"%s\"", b1);
			return SW_CAUSE_REFUSED_AFTER_VALID_DIGEST;
		}
		return pc;
	}
	first_line(fin, b1, sizeof(b1));
	char realm[128];
	detail(t, "a well-formed answer (user \"%s\", realm \"%s\") was refused with \"%s\"",
	       S(an.a.username, b2, sizeof(b2)), S(an.a.realm, realm, sizeof(realm)), b1);
	return SW_CAUSE_CREDENTIALS_REJECTED;
}

void sw__verdict(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *tx, unsigned n)
{
	t->jdetail[0] = '\0';
	t->jnev = 0;
	const struct sw__txn *last = &tx[n - 1];
	const struct sw__txn *prev = n > 1 ? &tx[n - 2] : NULL;
	const struct sw_trace_msg *req = &t->msgs[last->reqs[0]];
	unsigned n423 = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct sw__txn *x = &tx[i];
		if (x->challenge != NONE || x->has_creds)
			f->auth = true;
		if (x->final != NONE && t->msgs[x->final].m->status == 423)
			n423++;
	}
	if (!strcmp(f->method, "REGISTER"))
		f->auth = true; /* registrations are always reported */
	f->final_status = last->final == NONE ? 0 : t->msgs[last->final].m->status;
	unsigned st = f->final_status;
	char b1[256];
	enum sw_cause c = SW_CAUSE_OK;

	if (st == 0) {
		f->fail_msg = last->reqs[last->nreqs - 1];
		if (req->meta.nfrags > 1) {
			detail(t, "the request was sent in %u IP fragments and nothing came back (%u copies sent)",
			       req->meta.nfrags, last->nreqs);
			sw__evidence(t, f, last->reqs[0], "%zu bytes in %u IP fragments, no answer", req->len,
				     req->meta.nfrags);
			c = SW_CAUSE_UDP_FRAGMENTATION;
		} else if (prev && prev->challenge != NONE && last->has_creds &&
			   known_addr(t->msgs[prev->challenge].meta.src) && known_addr(req->meta.dst) &&
			   strcmp(t->msgs[prev->challenge].meta.src, req->meta.dst)) {
			detail(t, "the challenge came from %s but the answer went to %s, which never replied",
			       t->msgs[prev->challenge].meta.src, req->meta.dst);
			sw__evidence(t, f, last->reqs[0], "answer sent to %s", req->meta.dst);
			c = SW_CAUSE_RETRY_OTHER_SERVER;
		} else if (f->auth) {
			detail(t, "no response to the request (%u copies sent)", last->nreqs);
			sw__evidence(t, f, last->reqs[0], "no response");
			c = SW_CAUSE_NO_RESPONSE;
		} else {
			detail(t, "no response captured; no authentication took part");
			f->fail_msg = NONE;
		}
	} else if (st == 401 || st == 407) {
		f->fail_msg = last->final;
		if (!last->has_creds) {
			if (last->retrans_after_final) {
				struct sw_via v;
				bool rport = sw_msg_top_via(req->m, &v, NULL) == 0 && v.has_rport;
				detail(t, "the %u challenge was sent but the client kept retransmitting the request (%u times after it): the response never reached it%s",
				       st, last->retrans_after_final,
				       rport ? "" : "; the request's Via has no rport, so the answer went to the Via port");
				sw__evidence(t, f, last->reqs[last->nreqs - 1], "retransmission after the %u", st);
				c = SW_CAUSE_RESPONSE_LOST_NAT;
			} else {
				detail(t, "the client received %u and never sent credentials", st);
				c = SW_CAUSE_CHALLENGE_NOT_ANSWERED;
			}
			sw__evidence(t, f, last->final, "challenge, not answered");
		} else {
			c = rejected(t, f, prev, last);
			sw__evidence(t, f, last->final, "challenged again");
		}
	} else if (st == 423) {
		f->fail_msg = last->final;
		uint32_t exp = 0, min = 0;
		const struct sw_msg *r = t->msgs[last->final].m;
		(void)sw_msg_min_expires(r, &min, NULL);
		if (sw_msg_expires(req->m, &exp, NULL) != 0) {
			struct sw_addr ct;
			if (sw_msg_hdr(req->m, SW_HDR_CONTACT) && sw_addr_parse(&ct, sw_msg_hdr(req->m, SW_HDR_CONTACT)->value, true, NULL) == 0 && ct.has_expires)
				exp = ct.expires;
		}
		if (n423 > 1)
			detail(t, "423 Interval Too Brief %u times in a row: the client keeps asking for %u s, the server wants at least %u s",
			       n423, exp, min);
		else
			detail(t, "the registration asked for %u s; the server wants at least %u s (Min-Expires)", exp, min);
		sw__evidence(t, f, last->final, "423, Min-Expires: %u", min);
		c = SW_CAUSE_EXPIRES_TOO_BRIEF;
	} else if (st >= 300 && last->has_creds && (st == 403 || st == 401 || st == 407)) {
		f->fail_msg = last->final;
		c = rejected(t, f, prev, last);
		sw__evidence(t, f, last->final, "refused");
	} else if (st >= 500 && st < 600 && (last->has_creds || !strcmp(f->method, "REGISTER"))) {
		/* not a verdict on the credentials: the server (or one behind it)
		 * failed; a registration that gets one is not registered */
		f->fail_msg = last->final;
		first_line(&t->msgs[last->final], b1, sizeof(b1));
		uint32_t ra = 0;
		char rab[48] = "";
		if (sw_msg_retry_after(t->msgs[last->final].m, &ra, NULL) == 0)
			snprintf(rab, sizeof(rab), "; it asks to retry after %u s", ra);
		detail(t, "the server answered \"%s\"%s%s: a failure inside the server or behind it, not a verdict on the credentials",
		       b1, last->has_creds ? " to the request with credentials" : "", rab);
		sw__evidence(t, f, last->final, "%u from the server", st);
		c = SW_CAUSE_SERVER_ERROR;
	} else if (st >= 300 && last->has_creds && st != 403) {
		c = SW_CAUSE_OK; /* authentication passed; the request failed for other reasons */
		first_line(&t->msgs[last->final], b1, sizeof(b1));
		detail(t, "authentication passed; the request then ended with \"%s\"", b1);
	} else if (st >= 300 && !last->has_creds) {
		first_line(&t->msgs[last->final], b1, sizeof(b1));
		if (st == 403 && !strcmp(f->method, "REGISTER")) {
			detail(t, "refused without a challenge: \"%s\"", b1);
			f->fail_msg = last->final;
			c = SW_CAUSE_CREDENTIALS_REJECTED;
		} else {
			detail(t, "no authentication; ended with \"%s\"", b1);
			c = SW_CAUSE_OK;
		}
	} else {
		/* success (2xx), maybe after trouble worth a note */
		c = SW_CAUSE_OK;
		if (last->has_creds) {
			struct answer an;
			enum sw_cause pc;
			if (t->o.creds && load_answer(t, prev, last, &an) && prove(t, f, &an, &pc) && pc != SW_CAUSE_OK)
				detail(t, "accepted although the response does not verify with the given credentials");
			else
				detail(t, "authenticated after %u challenge%s", n - 1, n == 2 ? "" : "s");
		} else {
			detail(t, "accepted without authentication");
		}
		if (n423)
			sw__evidence(t, f, tx[0].final, "423 Interval Too Brief before success");
		for (unsigned i = 1; i + 1 < n; i++) {
			const struct sw__txn *x = &tx[i];
			if (x->has_creds && x->final != NONE && reason_says_nonce(t->msgs[x->final].m))
				sw__evidence(t, f, x->final, "nonce refused on the way (stale-without-flag?), the retry worked");
		}
	}
	f->cause = c;
	f->failed = c != SW_CAUSE_OK;
	if (f->failed)
		f->auth = true;
}

void sw__verdict_strings(const struct sw_trace *t, struct sw_trace_flow *f)
{
	/* the strings, sized to fit */
	f->detail = t->jdetail[0] ? strdup(t->jdetail) : NULL;
	if (!f->detail)
		f->detail = "";
	f->nev = 0;
	f->ev = t->jnev ? calloc(t->jnev, sizeof(*f->ev)) : NULL;
	for (unsigned i = 0; f->ev && i < t->jnev; i++) {
		f->ev[i].msg = t->jev[i].msg;
		f->ev[i].frame = t->jev[i].frame;
		f->ev[i].input = t->jev[i].input;
		if ((f->ev[i].note = strdup(t->jev[i].note)))
			f->nev++;
		else
			break;
	}
}
