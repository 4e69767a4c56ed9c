/* The analyzer's verdicts: flows written as text logs (sngrep format) whose
 * digest answers are computed here for a known password; each scenario
 * must get its cause, and with credentials the right/wrong answer is
 * proved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"
#include "sipwarden/trace.h"

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

#define CLIENT "10.0.0.2:5060"
#define SERVER "10.0.0.1:5060"

/* The Call-ID of the messages reg() and resp() write: one per phone. */
static const char *g_cid = "call-1@10.0.0.2";

struct log {
	char text[65536];
	size_t len;
	unsigned sec;
};

static void add(struct log *l, const char *src, const char *dst, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(struct log *l, const char *src, const char *dst, const char *fmt, ...)
{
	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len,
				   "2024/05/01 10:00:%02u.000000 %s -> %s\n", l->sec++, src, dst);
	va_list ap;
	va_start(ap, fmt);
	l->len += (size_t)vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "\n");
	assert_true(l->len < sizeof(l->text));
}

/* A REGISTER; auth is a complete "Authorization: ..." line or "". */
static void reg(struct log *l, const char *src, const char *dst, const char *branch, unsigned cseq,
		const char *auth, const char *extra)
{
	add(l, src, dst,
	    "REGISTER sip:example.com SIP/2.0\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK%s\n"
	    "Max-Forwards: 70\n"
	    "From: <sip:alice@example.com>;tag=a1\n"
	    "To: <sip:alice@example.com>\n"
	    "Call-ID: %s\n"
	    "CSeq: %u REGISTER\n"
	    "Contact: <sip:alice@10.0.0.2:5060>\n"
	    "%s%s%s"
	    "Content-Length: 0\n",
	    branch, g_cid, cseq, auth, auth[0] ? "\n" : "", extra ? extra : "");
}

static void resp(struct log *l, const char *src, const char *dst, const char *branch, unsigned cseq,
		 const char *status, const char *hdr)
{
	add(l, src, dst,
	    "SIP/2.0 %s\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK%s\n"
	    "From: <sip:alice@example.com>;tag=a1\n"
	    "To: <sip:alice@example.com>;tag=s1\n"
	    "Call-ID: %s\n"
	    "CSeq: %u REGISTER\n"
	    "%s%s"
	    "Content-Length: 0\n",
	    status, branch, g_cid, cseq, hdr ? hdr : "", hdr ? "\n" : "");
}

static void challenge(struct log *l, const char *branch, unsigned cseq, const char *nonce,
		      const char *extra)
{
	char h[512];
	snprintf(h, sizeof(h), "WWW-Authenticate: Digest realm=\"voip\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s",
		 nonce, extra ? extra : "");
	resp(l, SERVER, CLIENT, branch, cseq, "401 Unauthorized", h);
}

/* How the phone answers. */
struct ans {
	const char *password, *hash_realm, *sent_realm, *uri, *alg, *qop, *nc;
	bool no_qop;
};

static void answer(char *out, size_t cap, const char *nonce, struct ans a)
{
	const char *hash_realm = a.hash_realm ? a.hash_realm : "voip";
	const char *sent_realm = a.sent_realm ? a.sent_realm : "voip";
	const char *uri = a.uri ? a.uri : "sip:example.com";
	const char *nc = a.nc ? a.nc : "00000001";
	enum sw_digest_alg alg = SW_ALG_MD5;
	if (a.alg)
		assert_int_equal(sw_digest_alg_parse(S(a.alg), &alg), 0);
	char ha1[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_ha1(NULL, sw_digest_alg_hash(alg), S("alice"), S(hash_realm),
				       S(a.password ? a.password : "secret"), ha1), 0);
	struct sw_digest_params p = {
		.alg = alg, .ha1 = S(ha1), .nonce = S(nonce), .cnonce = S("c0ffee"), .nc = S(nc),
		.qop = a.no_qop ? SW_QOP_NONE : SW_QOP_AUTH, .method = S("REGISTER"), .uri = S(uri),
	};
	struct sw_digest_result r;
	assert_int_equal(sw_digest_response(NULL, &p, &r), 0);
	if (a.no_qop)
		snprintf(out, cap, "Authorization: Digest username=\"alice\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s",
			 sent_realm, nonce, uri, r.response, a.alg ? a.alg : "MD5");
	else
		snprintf(out, cap, "Authorization: Digest username=\"alice\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s, qop=%s, nc=%s, cnonce=\"c0ffee\"",
			 sent_realm, nonce, uri, r.response, a.alg ? a.alg : "MD5", a.qop ? a.qop : "auth", nc);
}

/* Analyses the log (with credentials when creds is given) and checks that
 * the flow of index `flow` has cause `want`. */
static void expect(const struct log *l, const char *creds, size_t flow, enum sw_cause want,
		   bool want_proved)
{
	struct sw_creds *c = NULL;
	char why[256];
	if (creds)
		assert_int_equal(sw_creds_parse(&c, creds, strlen(creds), why, sizeof(why)), 0);
	struct sw_trace_opts o = { .creds = c };
	struct sw_trace *t;
	assert_int_equal(sw_trace_new(&t, &o), 0);
	assert_int_equal(sw_trace_read_mem(t, "test.log", l->text, l->len, why, sizeof(why)), 0);
	assert_int_equal(sw_trace_analyze(t), 0);
	assert_true(sw_trace_stats(t)->parse_errors == 0);
	const struct sw_trace_flow *f = sw_trace_flow_get(t, flow);
	assert_non_null(f);
	if (f->cause != want)
		fail_msg("flow %zu: got %s (%s), wanted %s", flow, sw_cause_id(f->cause), f->detail,
			 sw_cause_id(want));
	assert_int_equal(f->failed, want != SW_CAUSE_OK);
	assert_int_equal(f->proved, want_proved);
	assert_true(f->nmsgs >= 2);
	/* every report renders */
	sw_trace_free(t);
	sw_creds_free(c);
}

#define CREDS "alice@example.com,secret\n"

/* The trace of a log, analysed (with credentials when creds is given);
 * sw_trace_free() and sw_creds_free(*c) after use. */
static struct sw_trace *analysed(const struct log *l, const char *creds, struct sw_creds **c)
{
	char why[256];
	*c = NULL;
	if (creds)
		assert_int_equal(sw_creds_parse(c, creds, strlen(creds), why, sizeof(why)), 0);
	struct sw_trace_opts o = { .creds = *c };
	struct sw_trace *t;
	assert_int_equal(sw_trace_new(&t, &o), 0);
	assert_int_equal(sw_trace_read_mem(t, "test.log", l->text, l->len, why, sizeof(why)), 0);
	assert_int_equal(sw_trace_analyze(t), 0);
	return t;
}

/* Flow `flow` has this certainty, and (unless finding is SW_CAUSE_OK) a
 * finding with that cause. */
static void expect_more(const struct log *l, const char *creds, size_t flow, enum sw_trace_certainty cert,
			enum sw_cause finding)
{
	struct sw_creds *c;
	struct sw_trace *t = analysed(l, creds, &c);
	const struct sw_trace_flow *f = sw_trace_flow_get(t, flow);
	assert_non_null(f);
	if (f->certainty != cert)
		fail_msg("flow %zu (%s): certainty %s, wanted %s", flow, sw_cause_id(f->cause),
			 sw_trace_certainty_name(f->certainty), sw_trace_certainty_name(cert));
	bool found = finding == SW_CAUSE_OK;
	for (unsigned i = 0; i < f->nev; i++)
		found |= f->ev[i].finding == finding;
	if (!found)
		fail_msg("flow %zu (%s): no finding %s", flow, sw_cause_id(f->cause), sw_cause_id(finding));
	sw_trace_free(t);
	sw_creds_free(c);
}

static void test_success_and_proof(void **state)
{
	(void)state;
	struct log l = { .len = 0 };
	char a[1024];
	reg(&l, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&l, "b1", 1, "N1", NULL);
	answer(a, sizeof(a), "N1", (struct ans){ 0 });
	reg(&l, CLIENT, SERVER, "b2", 2, a, NULL);
	resp(&l, SERVER, CLIENT, "b2", 2, "200 OK", "Contact: <sip:alice@10.0.0.2:5060>;expires=3600");
	expect(&l, NULL, 0, SW_CAUSE_OK, false);
	expect(&l, CREDS, 0, SW_CAUSE_OK, true);
}

static void rejected_log(struct log *l, struct ans an, const char *status, const char *hdr)
{
	char a[1024];
	memset(l, 0, sizeof(*l));
	reg(l, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(l, "b1", 1, "N1", NULL);
	answer(a, sizeof(a), "N1", an);
	reg(l, CLIENT, SERVER, "b2", 2, a, NULL);
	resp(l, SERVER, CLIENT, "b2", 2, status, hdr);
}

static struct log L;

static void test_wrong_password(void **state)
{
	(void)state;
	rejected_log(&L, (struct ans){ .password = "guess" }, "403 Forbidden", NULL);
	expect(&L, NULL, 0, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect(&L, CREDS, 0, SW_CAUSE_WRONG_PASSWORD, true);
	/* the HA1 form proves the same */
	char ha1[SW_DIGEST_HEX_MAX + 1], line[256];
	assert_int_equal(sw_digest_ha1(NULL, SW_HASH_MD5, S("alice"), S("voip"), S("secret"), ha1), 0);
	snprintf(line, sizeof(line), "# HA1 form\nalice@example.com,voip,MD5:%s\n", ha1);
	expect(&L, line, 0, SW_CAUSE_WRONG_PASSWORD, true);
	/* a right response refused anyway */
	rejected_log(&L, (struct ans){ 0 }, "403 Forbidden", NULL);
	expect(&L, CREDS, 0, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, true);
	expect(&L, line, 0, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, true);
}

static void test_known_mistakes(void **state)
{
	(void)state;
	/* hashed realm "asterisk" while sending the challenged realm: only the
	 * credentials can tell, and the mistake is named, not wrong-password */
	rejected_log(&L, (struct ans){ .hash_realm = "asterisk" }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\"");
	expect(&L, NULL, 0, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect(&L, CREDS, 0, SW_CAUSE_REALM_MISMATCH, true);
	/* sent another realm: visible without credentials */
	rejected_log(&L, (struct ans){ .hash_realm = "asterisk", .sent_realm = "asterisk" }, "403 Forbidden", NULL);
	expect(&L, NULL, 0, SW_CAUSE_REALM_MISMATCH, false);
	/* a digest uri other than the Request-URI is normal for many clients:
	 * on the wire alone the refusal is not blamed on it; proved right over
	 * that uri and refused, it likely is the reason */
	const char *dch = "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"N1\", algorithm=MD5, qop=\"auth\"";
	char u[1024];
	answer(u, sizeof(u), "N1", (struct ans){ .uri = "sip:10.0.0.1", .hash_realm = "example.com", .sent_realm = "example.com" });
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "401 Unauthorized", dch);
	reg(&L, CLIENT, SERVER, "b2", 2, u, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "401 Unauthorized", dch);
	expect(&L, NULL, 0, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect(&L, CREDS, 0, SW_CAUSE_URI_MISMATCH, true);
	expect_more(&L, CREDS, 0, SW_TRACE_LIKELY, SW_CAUSE_OK);
	/* a 403 is a refusal for the server's own reasons, not a new challenge */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "401 Unauthorized", dch);
	reg(&L, CLIENT, SERVER, "b2", 2, u, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "403 Not relaying", NULL);
	expect(&L, CREDS, 0, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, true);
	/* a challenge realm other than the domain: the stored HA1 is the
	 * likelier reason than the uri */
	rejected_log(&L, (struct ans){ .uri = "sip:10.0.0.1" }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\"");
	expect(&L, CREDS, 0, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, true);
	/* with a wrong password the proof wins over the uri difference */
	rejected_log(&L, (struct ans){ .uri = "sip:10.0.0.1", .password = "guess" }, "403 Forbidden", NULL);
	expect(&L, CREDS, 0, SW_CAUSE_WRONG_PASSWORD, true);
	expect_more(&L, CREDS, 0, SW_TRACE_PROVEN, SW_CAUSE_OK);
	/* qop offered, none used */
	rejected_log(&L, (struct ans){ .no_qop = true }, "403 Forbidden", NULL);
	expect(&L, NULL, 0, SW_CAUSE_QOP_INVALID, false);
	/* the qop list sent back */
	rejected_log(&L, (struct ans){ .qop = "\"auth,auth-int\"" }, "403 Forbidden", NULL);
	expect(&L, NULL, 0, SW_CAUSE_QOP_INVALID, false);
	/* an algorithm that was not offered */
	rejected_log(&L, (struct ans){ .alg = "SHA-256" }, "403 Forbidden", NULL);
	expect(&L, NULL, 0, SW_CAUSE_ALGORITHM_UNSUPPORTED, false);
}

/* The detail of flow 0 contains `want`. */
static void expect_detail(const struct log *l, const char *want)
{
	struct sw_trace *t;
	char why[128];
	assert_int_equal(sw_trace_new(&t, NULL), 0);
	assert_int_equal(sw_trace_read_mem(t, "test.log", l->text, l->len, why, sizeof(why)), 0);
	assert_int_equal(sw_trace_analyze(t), 0);
	const struct sw_trace_flow *f = sw_trace_flow_get(t, 0);
	assert_non_null(f);
	if (!f->detail || !strstr(f->detail, want))
		fail_msg("detail \"%s\" lacks \"%s\"", f->detail ? f->detail : "", want);
	sw_trace_free(t);
}

/* An OPTIONS from another phone `secs` seconds on: the capture goes on. */
static void later(struct log *l, unsigned secs)
{
	l->sec += secs - 1;
	add(l, "10.0.0.9:5060", SERVER,
	    "OPTIONS sip:example.com SIP/2.0\n"
	    "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKo1\n"
	    "Max-Forwards: 70\n"
	    "From: <sip:probe@example.com>;tag=p1\n"
	    "To: <sip:example.com>\n"
	    "Call-ID: later@10.0.0.9\n"
	    "CSeq: 1 OPTIONS\n"
	    "Content-Length: 0\n");
}

static void test_not_answered_and_nat(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	later(&L, 5);
	expect(&L, NULL, 0, SW_CAUSE_CHALLENGE_NOT_ANSWERED, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_OK);
	/* a capture that ends within seconds of the challenge does not prove
	 * that it is never answered: likely */
	for (unsigned secs = 0; secs <= 3; secs += 3) {
		memset(&L, 0, sizeof(L));
		reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
		challenge(&L, "b1", 1, "N1", NULL);
		if (secs)
			later(&L, secs);
		expect(&L, NULL, 0, SW_CAUSE_CHALLENGE_NOT_ANSWERED, false);
		expect_more(&L, NULL, 0, SW_TRACE_LIKELY, SW_CAUSE_OK);
		expect_detail(&L, secs ? "before the capture ended, 3.0 s later" : "before the capture ended, 0.0 s later");
	}
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	/* the client keeps retransmitting after the 401 went out */
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	expect(&L, NULL, 0, SW_CAUSE_RESPONSE_LOST_NAT, false);
}

static void test_stale(void **state)
{
	(void)state;
	rejected_log(&L, (struct ans){ 0 }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\", stale=true");
	expect(&L, NULL, 0, SW_CAUSE_STALE_NONCE, false);
	rejected_log(&L, (struct ans){ 0 }, "401 Nonce expired",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\"");
	expect(&L, NULL, 0, SW_CAUSE_STALE_WITHOUT_FLAG, false);
	expect(&L, CREDS, 0, SW_CAUSE_STALE_WITHOUT_FLAG, true);
	/* stale=true, then the retry with the new nonce works: success */
	char a[1024];
	answer(a, sizeof(a), "N2", (struct ans){ 0 });
	rejected_log(&L, (struct ans){ 0 }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\", stale=true");
	reg(&L, CLIENT, SERVER, "b3", 3, a, NULL);
	resp(&L, SERVER, CLIENT, "b3", 3, "200 OK", NULL);
	expect(&L, CREDS, 0, SW_CAUSE_OK, true);
}

static void test_replay_and_other_server(void **state)
{
	(void)state;
	char a[1024];
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	answer(a, sizeof(a), "N1", (struct ans){ 0 });
	reg(&L, CLIENT, SERVER, "b2", 2, a, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "200 OK", NULL);
	/* a refresh reusing nonce and nc=1: refused */
	reg(&L, CLIENT, SERVER, "b3", 3, a, NULL);
	challenge(&L, "b3", 3, "N3", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect(&L, NULL, 1, SW_CAUSE_NONCE_REPLAY, false);

	/* the answer goes to another node, which does not know the nonce */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	answer(a, sizeof(a), "N1", (struct ans){ 0 });
	reg(&L, CLIENT, "10.0.0.9:5060", "b2", 2, a, NULL);
	resp(&L, "10.0.0.9:5060", CLIENT, "b2", 2, "401 Unauthorized",
	     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"X9\", algorithm=MD5, qop=\"auth\"");
	expect(&L, NULL, 0, SW_CAUSE_RETRY_OTHER_SERVER, false);
}

static void test_423_loop(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", "Expires: 30\n");
	resp(&L, SERVER, CLIENT, "b1", 1, "423 Interval Too Brief", "Min-Expires: 600");
	reg(&L, CLIENT, SERVER, "b2", 2, "", "Expires: 30\n");
	resp(&L, SERVER, CLIENT, "b2", 2, "423 Interval Too Brief", "Min-Expires: 600");
	expect(&L, NULL, 0, SW_CAUSE_EXPIRES_TOO_BRIEF, false);
	/* raising the interval fixes it */
	reg(&L, CLIENT, SERVER, "b3", 3, "", "Expires: 600\n");
	resp(&L, SERVER, CLIENT, "b3", 3, "200 OK", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
}

/* A 5xx to a REGISTER is the server's failure, not a verdict on the
 * credentials: server-error, with Retry-After when it gives one. */
static void test_server_error(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "503 Service Unavailable", "Retry-After: 30 (maintenance);duration=60");
	expect(&L, NULL, 0, SW_CAUSE_SERVER_ERROR, false);
	expect_detail(&L, "\"SIP/2.0 503 Service Unavailable\"; it asks to retry after 30 s");

	/* after the challenge was answered (with the right password: still
	 * not proved wrong, nor right) */
	char auth[512];
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	answer(auth, sizeof(auth), "N1", (struct ans){ 0 });
	reg(&L, CLIENT, SERVER, "b2", 2, auth, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "500 Server Internal Error", NULL);
	expect(&L, CREDS, 0, SW_CAUSE_SERVER_ERROR, false);
	expect_detail(&L, "to the request with credentials");

	/* a 4xx other than the auth ones is not a server error */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	reg(&L, CLIENT, SERVER, "b2", 2, auth, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "480 Temporarily Unavailable", NULL);
	expect(&L, NULL, 0, SW_CAUSE_REQUEST_REFUSED, false);
	/* a registration for a domain the server does not serve */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "404 Not Found", NULL);
	expect(&L, NULL, 0, SW_CAUSE_DOMAIN_UNKNOWN, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_OK);
}

/* An INVITE and its final response (CSeq 1, no credentials): a call. */
static void call(struct log *l, const char *status)
{
	add(l, CLIENT, SERVER,
	    "INVITE sip:bob@example.com SIP/2.0\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKi1\n"
	    "Max-Forwards: 70\n"
	    "From: <sip:alice@example.com>;tag=a1\n"
	    "To: <sip:bob@example.com>\n"
	    "Call-ID: call-2@10.0.0.2\n"
	    "CSeq: 1 INVITE\n"
	    "Contact: <sip:alice@10.0.0.2:5060>\n"
	    "Content-Length: 0\n");
	add(l, SERVER, CLIENT,
	    "SIP/2.0 %s\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKi1\n"
	    "From: <sip:alice@example.com>;tag=a1\n"
	    "To: <sip:bob@example.com>;tag=b1\n"
	    "Call-ID: call-2@10.0.0.2\n"
	    "CSeq: 1 INVITE\n"
	    "Content-Length: 0\n", status);
}

/* The outcome of a call: a busy or declining callee is no failure (the
 * call got through), a 480 or 404 stays request-refused. */
static void test_callee_outcomes(void **state)
{
	(void)state;
	static const struct {
		const char *status;
		enum sw_cause cause;
		bool failed;
	} cases[] = {
		{ "486 Busy Here", SW_CAUSE_CALLEE_BUSY, false },
		{ "600 Busy Everywhere", SW_CAUSE_CALLEE_BUSY, false },
		{ "603 Decline", SW_CAUSE_CALLEE_DECLINED, false },
		{ "607 Unwanted", SW_CAUSE_CALLEE_DECLINED, false },
		{ "480 Temporarily Unavailable", SW_CAUSE_REQUEST_REFUSED, true },
		{ "404 Not Found", SW_CAUSE_REQUEST_REFUSED, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&L, 0, sizeof(L));
		call(&L, cases[i].status);
		struct sw_creds *c;
		struct sw_trace *t = analysed(&L, NULL, &c);
		const struct sw_trace_flow *f = sw_trace_flow_get(t, 0);
		assert_non_null(f);
		if (f->cause != cases[i].cause || f->failed != cases[i].failed)
			fail_msg("%s: got %s (failed %d), wanted %s", cases[i].status, sw_cause_id(f->cause),
				 f->failed, sw_cause_id(cases[i].cause));
		assert_int_equal(sw_trace_stats(t)->failures, cases[i].failed ? 1 : 0);
		sw_trace_free(t);
	}
	/* a REGISTER answered 603 is no call: refused */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "603 Decline", NULL);
	expect(&L, NULL, 0, SW_CAUSE_REQUEST_REFUSED, false);
	memset(&L, 0, sizeof(L));
	call(&L, "603 Decline");
	expect_detail(&L, "\"SIP/2.0 603 Decline\": the called party declined it");
}

/* Server nonce habits are not replays: a server that gives one nonce to
 * every client and asks no qop (stock Kamailio) lets a client answer the
 * same nonce again; another phone with the same nonce and a wrong password
 * is refused for its password. */
static void test_nonce_habits(void **state)
{
	(void)state;
	const char *ch = "WWW-Authenticate: Digest realm=\"voip\", nonce=\"SHARED\", algorithm=MD5";
	char a[1024], w[1024];
	answer(a, sizeof(a), "SHARED", (struct ans){ .no_qop = true });
	answer(w, sizeof(w), "SHARED", (struct ans){ .no_qop = true, .password = "typo" });
	memset(&L, 0, sizeof(L));
	g_cid = "phone-1";
	reg(&L, CLIENT, SERVER, "p1a", 1, "", NULL);
	resp(&L, SERVER, CLIENT, "p1a", 1, "401 Unauthorized", ch);
	reg(&L, CLIENT, SERVER, "p1b", 2, a, NULL);
	resp(&L, SERVER, CLIENT, "p1b", 2, "200 OK", NULL);
	g_cid = "phone-2";
	reg(&L, "10.0.0.3:5060", SERVER, "p2a", 1, "", NULL);
	resp(&L, SERVER, "10.0.0.3:5060", "p2a", 1, "401 Unauthorized", ch);
	reg(&L, "10.0.0.3:5060", SERVER, "p2b", 2, w, NULL);
	resp(&L, SERVER, "10.0.0.3:5060", "p2b", 2, "401 Unauthorized", ch);
	/* the first phone refreshes with the same nonce, no qop: accepted */
	g_cid = "phone-1";
	reg(&L, CLIENT, SERVER, "p1c", 3, a, NULL);
	resp(&L, SERVER, CLIENT, "p1c", 3, "200 OK", NULL);
	g_cid = "call-1@10.0.0.2";
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect(&L, NULL, 1, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect(&L, CREDS, 1, SW_CAUSE_WRONG_PASSWORD, true);
	expect(&L, NULL, 2, SW_CAUSE_OK, false);
}

/* A HEP agent stamps a response when it has sent it: a fast client's answer
 * can come before the challenge it answers. Still one flow. */
static void test_answer_before_challenge(void **state)
{
	(void)state;
	char a[1024];
	answer(a, sizeof(a), "N1", (struct ans){ .password = "guess" });
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	reg(&L, CLIENT, SERVER, "b2", 2, a, NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	challenge(&L, "b2", 2, "N2", NULL);
	expect(&L, NULL, 0, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect(&L, CREDS, 0, SW_CAUSE_WRONG_PASSWORD, true);
	struct sw_creds *c;
	struct sw_trace *t = analysed(&L, NULL, &c);
	assert_int_equal(sw_trace_flow_count(t), 1);
	sw_trace_free(t);
	sw_creds_free(c);
}

/* Live input over days: judged flows are forgotten past the newest ones
 * kept, their counts stay in the summary. */
static void test_forget(void **state)
{
	(void)state;
	char a[1024];
	answer(a, sizeof(a), "N1", (struct ans){ .password = "guess" });
	memset(&L, 0, sizeof(L));
	static const char *const cids[] = { "f1", "f2", "f3" };
	static const char *const br[][2] = { { "f1a", "f1b" }, { "f2a", "f2b" }, { "f3a", "f3b" } };
	for (unsigned i = 0; i < 3; i++) {
		g_cid = cids[i];
		reg(&L, CLIENT, SERVER, br[i][0], 1, "", NULL);
		challenge(&L, br[i][0], 1, "N1", NULL);
		reg(&L, CLIENT, SERVER, br[i][1], 2, a, NULL);
		resp(&L, SERVER, CLIENT, br[i][1], 2, i == 2 ? "200 OK" : "403 Forbidden", NULL);
	}
	g_cid = "call-1@10.0.0.2";
	struct sw_trace *t;
	char why[128];
	assert_int_equal(sw_trace_new(&t, NULL), 0);
	assert_int_equal(sw_trace_read_mem(t, "test.log", L.text, L.len, why, sizeof(why)), 0);
	sw_trace_flush(t, UINT64_MAX, 0);
	assert_int_equal(sw_trace_flow_count(t), 3);
	assert_int_equal(sw_trace_forget(t, 1, 0), 2);
	assert_int_equal(sw_trace_flow_count(t), 1);
	assert_int_equal(sw_trace_flow_get(t, 0)->cause, SW_CAUSE_OK);
	struct sw_trace_summary sm;
	sw_trace_summary(t, &sm);
	assert_int_equal(sm.failed, 2);
	assert_int_equal(sm.ok, 1);
	assert_int_equal(sm.by_cause[SW_CAUSE_CREDENTIALS_REJECTED], 2);
	assert_int_equal(sw_trace_analyze(t), 0);
	assert_int_equal(sw_trace_flow_count(t), 1);
	sw_trace_free(t);
}

/* Success with a hitch: ok, with the hitch as a finding. */
static void test_hitches(void **state)
{
	(void)state;
	char a[1024];
	answer(a, sizeof(a), "N1", (struct ans){ 0 });
	/* 423, then the challenge, then 200 */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", "Expires: 30\n");
	resp(&L, SERVER, CLIENT, "b1", 1, "423 Interval Too Brief", "Min-Expires: 60");
	reg(&L, CLIENT, SERVER, "b2", 2, "", "Expires: 60\n");
	challenge(&L, "b2", 2, "N1", NULL);
	reg(&L, CLIENT, SERVER, "b3", 3, a, "Expires: 60\n");
	resp(&L, SERVER, CLIENT, "b3", 3, "200 OK", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_EXPIRES_TOO_BRIEF);
	expect_more(&L, CREDS, 0, SW_TRACE_PROVEN, SW_CAUSE_EXPIRES_TOO_BRIEF);
	/* stale=true on the way */
	char b[1024];
	answer(b, sizeof(b), "N2", (struct ans){ 0 });
	rejected_log(&L, (struct ans){ 0 }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\", stale=true");
	reg(&L, CLIENT, SERVER, "b3", 3, b, NULL);
	resp(&L, SERVER, CLIENT, "b3", 3, "200 OK", NULL);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_STALE_NONCE);
	/* a first answer refused (wrong password), the second accepted */
	rejected_log(&L, (struct ans){ .password = "guess" }, "401 Unauthorized",
		     "WWW-Authenticate: Digest realm=\"voip\", nonce=\"N2\", algorithm=MD5, qop=\"auth\"");
	reg(&L, CLIENT, SERVER, "b3", 3, b, NULL);
	resp(&L, SERVER, CLIENT, "b3", 3, "200 OK", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_CREDENTIALS_REJECTED);
	/* two final responses to one request */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", NULL);
	challenge(&L, "b1", 1, "N1", NULL);
	reg(&L, CLIENT, SERVER, "b2", 2, a, NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "200 OK", NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "200 OK", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_DUPLICATE_RESPONSE);
	/* a registrar that answers 423 and then its script 500 (Kamailio's
	 * "if (!save()) sl_reply_error()"): a failure with the finding, and
	 * after a success the late 500 of an earlier request is found too */
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", "Expires: 30\n");
	resp(&L, SERVER, CLIENT, "b1", 1, "423 Interval Too Brief", "Min-Expires: 60");
	resp(&L, SERVER, CLIENT, "b1", 1, "500 Server Internal Error", NULL);
	expect(&L, NULL, 0, SW_CAUSE_EXPIRES_TOO_BRIEF, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_DUPLICATE_RESPONSE);
	memset(&L, 0, sizeof(L));
	reg(&L, CLIENT, SERVER, "b1", 1, "", "Expires: 30\n");
	resp(&L, SERVER, CLIENT, "b1", 1, "423 Interval Too Brief", "Min-Expires: 60");
	reg(&L, CLIENT, SERVER, "b2", 2, "", "Expires: 60\n");
	resp(&L, SERVER, CLIENT, "b2", 2, "200 OK", NULL);
	resp(&L, SERVER, CLIENT, "b1", 1, "500 Server Internal Error", NULL);
	expect(&L, NULL, 0, SW_CAUSE_OK, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_DUPLICATE_RESPONSE);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_EXPIRES_TOO_BRIEF);
	/* a failing flow (judged at its 403, judged again at the end) keeps a
	 * duplicate that came after it was judged */
	rejected_log(&L, (struct ans){ .password = "guess" }, "403 Forbidden", NULL);
	resp(&L, SERVER, CLIENT, "b2", 2, "500 Server Internal Error", NULL);
	expect(&L, NULL, 0, SW_CAUSE_CREDENTIALS_REJECTED, false);
	expect_more(&L, NULL, 0, SW_TRACE_EVIDENT, SW_CAUSE_DUPLICATE_RESPONSE);
}

static void sink(void *arg, const char *p, size_t n)
{
	size_t *total = arg;
	*total += n;
	(void)p;
}

static void test_reports(void **state)
{
	(void)state;
	rejected_log(&L, (struct ans){ .password = "guess" }, "403 Forbidden", NULL);
	struct sw_trace *t;
	char why[128];
	assert_int_equal(sw_trace_new(&t, NULL), 0);
	assert_int_equal(sw_trace_read_mem(t, "x", L.text, L.len, why, sizeof(why)), 0);
	assert_int_equal(sw_trace_analyze(t), 0);
	size_t n1 = 0, n2 = 0, n3 = 0;
	sw_trace_report_text(t, true, sink, &n1);
	sw_trace_report_json(t, sink, &n2);
	sw_trace_report_html(t, sink, &n3);
	assert_true(n1 > 200 && n2 > 200 && n3 > 1000);
	assert_int_equal(sw_trace_stats(t)->failures, 1);
	sw_trace_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_and_proof),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_known_mistakes),
		cmocka_unit_test(test_not_answered_and_nat),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_replay_and_other_server),
		cmocka_unit_test(test_423_loop),
		cmocka_unit_test(test_server_error),
		cmocka_unit_test(test_callee_outcomes),
		cmocka_unit_test(test_nonce_habits),
		cmocka_unit_test(test_hitches),
		cmocka_unit_test(test_answer_before_challenge),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
