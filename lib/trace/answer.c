/* The verdict on one answer to a challenge that the server refused. The
 * order is the evidence rules of docs/internals/trace.md:
 *  1. what the answer itself shows against the challenge it answers
 *     (realm, algorithm, qop): evident, no guess needed;
 *  2. where it went (another server than the one that challenged);
 *  3. with --credentials, the proof: the response verified exactly over
 *     what the client sent. A proof is never overridden by a heuristic:
 *     a wrong response is a known mistake or wrong-password; a right one
 *     means the server refused for another reason, looked for next;
 *  4. what the server said: stale=true, a nonce of this client it had
 *     accepted refused now (expired), the same client re-sending an
 *     accepted (nonce, nc) (replay);
 *  5. a digest uri other than the Request-URI is blamed only when the
 *     answer is proved right, and never when the server accepted the same
 *     uri from another answer;
 *  6. otherwise, on the wire alone: credentials-rejected. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "trace_int.h"

#define NONE SW__NONE
#define MAX_CHALLENGES 8u

unsigned sw__challenges_of(const struct sw_msg *m, struct sw_auth *ch, unsigned max)
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

const char *sw__s(sw_str s, char *buf, size_t cap)
{
	return sw_str_cpy(buf, cap, s.p ? s : SW_STR_LIT(""));
}
#define S sw__s

bool sw__reason_says_nonce(const struct sw_msg *m)
{
	char r[128];
	S(m->reason, r, sizeof(r));
	return strcasestr(r, "nonce") || strcasestr(r, "stale") || strcasestr(r, "expired");
}

bool sw__known_addr(const char *a) { return a[0] && strcmp(a, "local") && strcmp(a, "remote"); }

void sw__first_line(const struct sw_trace_msg *tm, char *out, size_t cap)
{
	size_t n = 0;
	while (n < tm->len && tm->data[n] != '\r' && tm->data[n] != '\n')
		n++;
	snprintf(out, cap, "%.*s", (int)n, tm->data);
}

struct answer {
	unsigned msg;                /* the request with credentials */
	unsigned chmsg;              /* the 401/407 it answers */
	struct sw_auth a;
	struct sw_auth ch[MAX_CHALLENGES];
	unsigned nch;
	const struct sw_auth *match; /* the challenge of the same realm */
};

/* A fault the answer shows against its challenge, or SW_CAUSE_OK. */
static enum sw_cause structure(struct sw_trace *t, struct sw_trace_flow *f, struct answer *an)
{
	struct sw_auth *a = &an->a;
	char b1[256], b2[256];
	an->match = NULL;
	for (unsigned i = 0; i < an->nch; i++)
		if (a->realm.p && an->ch[i].realm.p && sw_str_eq_str(a->realm, an->ch[i].realm)) {
			an->match = &an->ch[i];
			break;
		}
	if (!an->match && an->nch) {
		sw__detail(t, "the answer names realm \"%s\" but the challenge was for realm \"%s\"",
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
		sw__detail(t, "the answer uses algorithm %s, which the challenge did not offer",
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
			sw__detail(t, "%s (offered qop=\"%s\", answered qop=%s, nc=%s)", why,
				   S(c->qop, b1, sizeof(b1)), a->qop.p ? S(a->qop, b2, sizeof(b2)) : "absent",
				   a->nc.p ? "present" : "absent");
			sw__evidence(t, f, an->msg, "answer: %s", why);
			return SW_CAUSE_QOP_INVALID;
		}
	}
	return SW_CAUSE_OK;
}

/* With --credentials: verify the response over what the client sent.
 * Returns true and sets *cause (ok = the response is right) when the
 * account is known. */
static bool prove(struct sw_trace *t, struct sw_trace_flow *f, struct answer *an, enum sw_cause *cause)
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
	sw__detail(t, "%s (response %.*s, expected %s)", d.what, (int)an->a.response.len,
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
	if (!sw__creds_of(t->msgs[an->msg].m, &an->a))
		return false;
	if (an->chmsg != NONE)
		an->nch = sw__challenges_of(t->msgs[an->chmsg].m, an->ch, MAX_CHALLENGES);
	return true;
}

bool sw__answer_proof(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
		      const struct sw__txn *x, enum sw_cause *cause)
{
	struct answer an;
	if (!t->o.creds || !load_answer(t, prev, x, &an))
		return false;
	(void)structure(t, f, &an); /* finds the challenge of the answer's realm */
	t->jdetail[0] = '\0';
	return prove(t, f, &an, cause);
}

/* What the server said when it refused x: stale=true, a nonce of this
 * client it had accepted, an (nonce, nc) it had accepted. SW_CAUSE_OK when
 * it says none of these. */
static enum sw_cause nonce_refusal(struct sw_trace *t, struct sw_trace_flow *f, const struct answer *an,
				   const struct sw__txn *x)
{
	const struct sw_trace_msg *fin = &t->msgs[x->final];
	char b1[128], b2[128];
	struct sw_auth again[MAX_CHALLENGES];
	unsigned nagain = sw__challenges_of(fin->m, again, MAX_CHALLENGES);
	for (unsigned i = 0; i < nagain; i++)
		if (sw_str_ieq(again[i].stale, "true")) {
			sw__detail(t, "the server said the nonce expired (stale=true) and the client did not retry with the new one");
			sw__evidence(t, f, x->final, "challenge again with stale=true");
			return SW_CAUSE_STALE_NONCE;
		}
	if (x->replay) {
		sw__detail(t, "the client sent nonce \"%s\" with nc=%s again, after the server had accepted that count from it; the server refused the repeat",
			   S(an->a.nonce, b1, sizeof(b1)), an->a.nc.p ? S(an->a.nc, b2, sizeof(b2)) : "(none)");
		sw__evidence_frame(t, x->replay_frame, x->replay_input, "the accepted answer with that nonce and nc");
		return SW_CAUSE_NONCE_REPLAY;
	}
	/* this client's nonce, accepted before, refused now with a new one: it
	 * expired (Kamailio's stock config answers so, without stale=true) */
	bool expired = x->nonce_accepted && nagain;
	for (unsigned i = 0; expired && i < nagain; i++)
		if (again[i].nonce.p && sw_str_eq_str(again[i].nonce, an->a.nonce))
			expired = false;
	bool says = sw__reason_says_nonce(fin->m);
	if (!nagain || (!says && !expired))
		return SW_CAUSE_OK;
	sw__first_line(fin, b1, sizeof(b1));
	if (says)
		sw__detail(t, "the server refused the nonce (\"%s\") but sent the new challenge without stale=true, so the client gave up", b1);
	else
		sw__detail(t, "the server had accepted nonce \"%s\" from this client before, then refused it with a new challenge (\"%s\") without stale=true: the nonce expired, and the client gave up",
			   S(an->a.nonce, b2, sizeof(b2)), b1);
	if (expired)
		sw__evidence_frame(t, x->replay_frame, x->replay_input, "earlier use of that nonce; the server accepted it");
	sw__evidence(t, f, x->final, "new challenge without stale=true");
	return SW_CAUSE_STALE_WITHOUT_FLAG;
}

enum sw_cause sw__rejected(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
			   const struct sw__txn *x)
{
	struct answer an;
	char b1[256], b2[256], b3[128];
	const struct sw_trace_msg *fin = &t->msgs[x->final];
	t->jcert = SW_TRACE_EVIDENT;
	if (!load_answer(t, prev, x, &an)) {
		sw__detail(t, "the credentials could not be parsed");
		return SW_CAUSE_MALFORMED_AUTHORIZATION;
	}
	enum sw_cause c = structure(t, f, &an);
	if (c != SW_CAUSE_OK)
		return c;
	if (an.chmsg != NONE && sw__known_addr(t->msgs[an.chmsg].meta.src) &&
	    sw__known_addr(t->msgs[an.msg].meta.dst) &&
	    strcmp(t->msgs[an.chmsg].meta.src, t->msgs[an.msg].meta.dst) != 0) {
		sw__detail(t, "the challenge came from %s but the answer went to %s, which did not issue the nonce",
			   t->msgs[an.chmsg].meta.src, t->msgs[an.msg].meta.dst);
		sw__evidence(t, f, an.msg, "answer sent to %s", t->msgs[an.msg].meta.dst);
		return SW_CAUSE_RETRY_OTHER_SERVER;
	}
	enum sw_cause pc;
	bool proved = prove(t, f, &an, &pc);
	if (proved && pc != SW_CAUSE_OK) {
		t->jcert = SW_TRACE_PROVEN;
		return pc;
	}
	c = nonce_refusal(t, f, &an, x);
	if (c != SW_CAUSE_OK) {
		if (proved)
			t->jcert = SW_TRACE_PROVEN;
		return c;
	}
	const struct sw_msg *req = t->msgs[an.msg].m;
	sw__first_line(fin, b1, sizeof(b1));
	bool uri_differs = false;
	if (an.a.uri.p && req->ruri.p && !sw_str_eq_str(an.a.uri, req->ruri)) {
		struct sw_uri u1, u2;
		uri_differs = !(sw_uri_parse(&u1, an.a.uri, NULL) == 0 && sw_uri_parse(&u2, req->ruri, NULL) == 0 &&
				sw_uri_equal(&u1, &u2));
	}
	unsigned uri_ok = uri_differs ? sw__uri_accepted_at(t, t->msgs[an.msg].meta.dst, an.a.uri) : NONE;
	if (uri_differs && uri_ok != NONE)
		sw__evidence(t, f, an.msg, "digest uri \"%s\" differs from the Request-URI, but the server accepted the same uri in frame %u",
			     S(an.a.uri, b2, sizeof(b2)), uri_ok);
	if (proved) {
		/* a server whose HA1 was computed over its domain but that
		 * challenges with another realm refuses right answers */
		struct sw_addr to;
		char dom[128], realm[128];
		bool realm_not_domain = an.match && sw_msg_to(req, &to, NULL) == 0 && to.uri.host.p &&
					!sw_str_ieq_str(to.uri.host, an.match->realm);
		unsigned st = fin->m->status;
		if (uri_differs && uri_ok == NONE && !realm_not_domain && (st == 401 || st == 407)) {
			/* right over the uri the client sent, challenged again: the
			 * server may verify over the Request-URI instead */
			t->jcert = SW_TRACE_LIKELY;
			sw__detail(t, "the response is right for the stored credentials over the digest uri \"%s\", yet the server challenged again (\"%s\"); "
				   "the uri is not the Request-URI \"%s\" and no answer with it was accepted by this server: "
				   "it likely checks the uri (else: refused-after-valid-digest, a refusal for its own reasons)",
				   S(an.a.uri, b2, sizeof(b2)), b1, S(req->ruri, b3, sizeof(b3)));
			sw__evidence(t, f, an.msg, "answer: uri=\"%s\", Request-URI %s", b2, b3);
			return SW_CAUSE_URI_MISMATCH;
		}
		t->jcert = SW_TRACE_PROVEN;
		if (realm_not_domain)
			sw__detail(t, "the response is right for the stored credentials, yet the server answered \"%s\"; "
				   "its challenge realm \"%s\" is not the domain \"%s\": an HA1 stored for the domain "
				   "does not verify answers for that realm",
				   b1, S(an.match->realm, realm, sizeof(realm)), S(to.uri.host, dom, sizeof(dom)));
		else
			sw__detail(t, "the response is right for the stored credentials, yet the server answered \"%s\"", b1);
		return SW_CAUSE_REFUSED_AFTER_VALID_DIGEST;
	}
	char realm[128];
	sw__detail(t, "a well-formed answer (user \"%s\", realm \"%s\") was refused with \"%s\": a wrong password, an auth username the server does not know, or a refusal for its own reasons (--credentials tells which)%s",
		   S(an.a.username, b2, sizeof(b2)), S(an.a.realm, realm, sizeof(realm)), b1,
		   uri_differs && uri_ok == NONE ? "; its digest uri is not the Request-URI, which some servers refuse" : "");
	return SW_CAUSE_CREDENTIALS_REJECTED;
}
