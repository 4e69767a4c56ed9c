/* The doctor's REGISTER flow fed with canned answers: a fake io answers
 * each request from a script (responses built with the library's printer
 * from the request, plus canned headers), records what was sent, and the
 * tests check the findings, the retries and the digests sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"
#include "sipwarden/doctor.h"
#include "sipwarden/msg.h"

#define MAXREQ 16

struct step {
	unsigned status;         /* 0: no answer (timeout) */
	const char *reason;
	const char *headers;     /* raw lines; "$CONTACT" becomes the request's Contact */
};

struct fake {
	const struct step *script;
	unsigned nscript, next;
	char sent[MAXREQ][4096];
	unsigned nsent;
};

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

static void expand(struct sw_buf *b, const char *h, const struct sw_msg *req)
{
	const char *p;
	while ((p = strstr(h, "$CONTACT"))) {
		sw_buf_add(b, h, (size_t)(p - h));
		const struct sw_hdr *c = sw_msg_hdr(req, SW_HDR_CONTACT);
		if (c)
			sw_buf_add_str(b, c->value);
		h = p + 8;
	}
	sw_buf_adds(b, h);
}

static int fake_exchange(void *self, const char *req, size_t len, char *resp, size_t cap, size_t *rlen)
{
	struct fake *f = self;
	assert_true(f->nsent < MAXREQ);
	assert_true(len < sizeof(f->sent[0]));
	memcpy(f->sent[f->nsent], req, len);
	f->sent[f->nsent][len] = 0;
	f->nsent++;
	assert_true(f->next < f->nscript); /* the flow sent more than the script expects */
	const struct step *st = &f->script[f->next++];
	if (!st->status)
		return SW_DX_TIMEOUT;
	struct sw_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_int_equal(sw_msg_parse(m, req, len, NULL, NULL), 0);
	assert_int_equal(sw_msg_check(m, NULL), 0);
	struct sw_buf b;
	sw_buf_init(&b, resp, cap);
	assert_int_equal(sw_print_response_start(&b, m, st->status, st->reason, SW_STR_LIT("totag")), 0);
	if (st->headers)
		expand(&b, st->headers, m);
	assert_int_equal(sw_print_end(&b, SW_STR_NULL), 0);
	*rlen = b.len;
	free(m);
	return SW_DX_ANSWER;
}

static struct fake F;
static struct sw_doctor_io IO;
static struct sw_doctor_report *R;

static void setup_io(const struct step *script, unsigned n)
{
	memset(&F, 0, sizeof(F));
	F.script = script;
	F.nscript = n;
	memset(&IO, 0, sizeof(IO));
	IO.exchange = fake_exchange;
	IO.self = &F;
	IO.tp = SW_TP_UDP;
	snprintf(IO.local_host, sizeof(IO.local_host), "192.0.2.10");
	IO.local_port = 5070;
	snprintf(IO.peer, sizeof(IO.peer), "192.0.2.1:5060");
}

static int setup(void **state)
{
	(void)state;
	R = calloc(1, sizeof(*R));
	return R ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	free(R);
	return 0;
}

static struct sw_doctor_cfg cfg_default(void)
{
	return (struct sw_doctor_cfg){ .user = "alice", .domain = "example.com", .domain_port = -1,
				       .password = "secret", .transport = SW_DOCTOR_TP_AUTO };
}

static void run(const struct sw_doctor_cfg *cfg, const struct step *script, unsigned n)
{
	memset(R, 0, sizeof(*R));
	setup_io(script, n);
	assert_int_equal(sw_doctor_register(&IO, cfg, R), 0);
	assert_int_equal(F.next, n); /* the whole script was used */
}

/* The header of a sent request, as a C string. */
static void sent_header(unsigned i, enum sw_hdr_id id, char *out, size_t cap)
{
	struct sw_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_true(i < F.nsent);
	assert_int_equal(sw_msg_parse(m, F.sent[i], strlen(F.sent[i]), NULL, NULL), 0);
	const struct sw_hdr *h = sw_msg_hdr(m, id);
	if (h)
		sw_str_cpy(out, cap, h->value);
	else
		out[0] = 0;
	free(m);
}

/* The Authorization of request i is right for password and realm. */
static void assert_digest_ok(unsigned i, enum sw_hdr_id id, const char *user, const char *password)
{
	char v[2048];
	sent_header(i, id, v, sizeof(v));
	assert_true(v[0]);
	struct sw_auth a;
	assert_int_equal(sw_auth_parse(&a, S(v), NULL), 0);
	assert_true(sw_str_eq(a.username, user));
	enum sw_digest_alg alg;
	assert_int_equal(sw_digest_alg_parse(a.algorithm, &alg), 0);
	enum sw_qop qop = SW_QOP_NONE;
	if (a.qop.p)
		assert_int_equal(sw_qop_parse(a.qop, &qop), 0);
	char ha1[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_ha1(NULL, sw_digest_alg_hash(alg), a.username, a.realm, S(password), ha1), 0);
	struct sw_digest_params p = { .alg = alg, .ha1 = S(ha1), .nonce = a.nonce, .cnonce = a.cnonce,
				      .nc = a.nc, .qop = qop, .method = SW_STR_LIT("REGISTER"),
				      .uri = a.uri, .body = SW_STR_LIT("") };
	struct sw_digest_result res;
	assert_int_equal(sw_digest_response(NULL, &p, &res), 0);
	assert_true(sw_str_eq(a.response, res.response));
}

static bool has(enum sw_cause c) { return sw_doctor_find(R, c) != NULL; }

#define CH(realm, nonce) "WWW-Authenticate: Digest realm=\"" realm "\", nonce=\"" nonce "\", algorithm=MD5, qop=\"auth\", opaque=\"op1\"\r\n"
#define CH_STALE(nonce) "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"" nonce "\", algorithm=MD5, qop=\"auth\", stale=true\r\n"
#define OK_CONTACT "Contact: $CONTACT;expires=120\r\nContact: <sip:alice@198.51.100.7:5060>;expires=30\r\n"

static void test_works(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n1b\", algorithm=SHA-256, qop=\"auth\"\r\n" },
		{ 200, NULL, OK_CONTACT },
		{ 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, s, 3);
	assert_true(R->registered);
	assert_int_equal(R->granted, 120);
	assert_int_equal(R->nbindings, 2);
	assert_true(R->unregistered);
	assert_string_equal(R->realm, "example.com");
	assert_string_equal(R->algorithms, "MD5, SHA-256");
	assert_string_equal(R->auth_user_ok, "alice");
	assert_int_equal(R->nfindings, 0);
	assert_int_equal(sw_doctor_exit_code(R), 0);
	/* the first REGISTER has no credentials; the second a right digest */
	char v[2048];
	sent_header(0, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_string_equal(v, "");
	assert_digest_ok(1, SW_HDR_AUTHORIZATION, "alice", "secret");
	sent_header(1, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(strstr(v, "opaque=\"op1\""));
	assert_non_null(strstr(v, "nc=00000001"));
	/* the unregistration: Expires 0, the same nonce with nc 2, same Call-ID */
	sent_header(2, SW_HDR_EXPIRES, v, sizeof(v));
	assert_string_equal(v, "0");
	sent_header(2, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(strstr(v, "nc=00000002"));
	assert_non_null(strstr(v, "nonce=\"n1\""));
	assert_digest_ok(2, SW_HDR_AUTHORIZATION, "alice", "secret");
	char c0[200], c2[200];
	sent_header(0, SW_HDR_CALL_ID, c0, sizeof(c0));
	sent_header(2, SW_HDR_CALL_ID, c2, sizeof(c2));
	assert_string_equal(c0, c2);
}

static void test_keep(void **state)
{
	(void)state;
	static const struct step s[] = { { 401, NULL, CH("example.com", "n1") }, { 200, NULL, OK_CONTACT } };
	struct sw_doctor_cfg cfg = cfg_default();
	cfg.keep = true;
	run(&cfg, s, 2);
	assert_true(R->registered);
	assert_false(R->unregistered);
	assert_int_equal(sw_doctor_exit_code(R), 0);
}

static void test_rejected(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 401, NULL, CH("example.com", "n2") },
		{ 401, NULL, CH("example.com", "n3") }, { 401, NULL, CH("example.com", "n4") },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, s, 4);
	assert_false(R->registered);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_CREDENTIALS_REJECTED);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(f->detail, "\"alice@example.com\": rejected too"));
	assert_non_null(strstr(f->evidence, "sent Authorization: Digest username=\"alice\""));
	assert_int_equal(sw_doctor_exit_code(R), 1);
	assert_digest_ok(3, SW_HDR_AUTHORIZATION, "alice@example.com", "secret");
}

static void test_variant_accepted(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 401, NULL, CH("example.com", "n2") },
		{ 401, NULL, CH("example.com", "n3") }, { 401, NULL, CH("example.com", "n4") },
		{ 401, NULL, CH("example.com", "n5") }, { 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	cfg.auth_user = "al";
	run(&cfg, s, 7);
	assert_true(R->registered);
	assert_string_equal(R->auth_user_ok, "alice@example.com");
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_CREDENTIALS_REJECTED);
	assert_non_null(f);
	assert_non_null(strstr(f->detail, "\"alice\": rejected too"));
	assert_non_null(strstr(f->detail, "\"alice@example.com\": accepted"));
	assert_int_equal(sw_doctor_exit_code(R), 1);
	assert_digest_ok(1, SW_HDR_AUTHORIZATION, "al", "secret");
}

static void test_realm_mismatch(void **state)
{
	(void)state;
	static const struct step ok[] = {
		{ 401, NULL, CH("asterisk", "n1") }, { 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, ok, 3);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_REALM_MISMATCH);
	assert_non_null(f);
	assert_false(f->problem);
	assert_int_equal(f->severity, SW_SEV_WARNING);
	assert_non_null(strstr(f->observed, "\"asterisk\""));
	assert_non_null(strstr(f->observed, "\"example.com\""));
	assert_int_equal(sw_doctor_exit_code(R), 0);
	/* rejected: the mismatch is named as the likely cause */
	static const struct step bad[] = {
		{ 401, NULL, CH("asterisk", "n1") }, { 401, NULL, CH("asterisk", "n2") },
		{ 401, NULL, CH("asterisk", "n3") }, { 401, NULL, CH("asterisk", "n4") },
	};
	run(&cfg, bad, 4);
	f = sw_doctor_find(R, SW_CAUSE_REALM_MISMATCH);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(sw_doctor_find(R, SW_CAUSE_CREDENTIALS_REJECTED)->detail, "Likely cause: the realm"));
}

static void test_stale_retry(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 401, NULL, CH_STALE("n2") },
		{ 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, s, 4);
	assert_true(R->registered);
	assert_false(has(SW_CAUSE_CREDENTIALS_REJECTED));
	char v[2048];
	sent_header(2, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(strstr(v, "nonce=\"n2\""));
	assert_non_null(strstr(v, "nc=00000001"));
	assert_int_equal(sw_doctor_exit_code(R), 0);
}

static void test_stale_loop(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 401, NULL, CH_STALE("n2") }, { 401, NULL, CH_STALE("n3") },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, s, 3);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_STALE_NONCE);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(f->observed, "loop"));
	assert_int_equal(sw_doctor_exit_code(R), 1);
}

static void test_stale_on_refresh(void **state)
{
	(void)state;
	/* the unregistration reuses the nonce: flagged stale = fine */
	static const struct step flagged[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 200, NULL, OK_CONTACT },
		{ 401, NULL, CH_STALE("n2") }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, flagged, 4);
	assert_true(R->unregistered);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_STALE_NONCE);
	assert_non_null(f);
	assert_false(f->problem);
	assert_int_equal(sw_doctor_exit_code(R), 0);
	/* not flagged: stale-without-flag, and the retry with the new nonce */
	static const struct step unflagged[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 200, NULL, OK_CONTACT },
		{ 401, NULL, CH("example.com", "n2") }, { 200, NULL, NULL },
	};
	run(&cfg, unflagged, 4);
	assert_true(R->unregistered);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_STALE_WITHOUT_FLAG));
	assert_false(has(SW_CAUSE_CREDENTIALS_REJECTED));
	char v[2048];
	sent_header(3, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(strstr(v, "nonce=\"n2\""));
}

static void test_423(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 423, NULL, "Min-Expires: 300\r\n" },
		{ 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	cfg.expires = 60;
	run(&cfg, s, 4);
	assert_true(R->registered);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_EXPIRES_TOO_BRIEF);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(f->detail, "interval of 300 s"));
	assert_non_null(strstr(f->evidence, "Min-Expires: 300"));
	char v[64];
	sent_header(1, SW_HDR_EXPIRES, v, sizeof(v));
	assert_string_equal(v, "60");
	sent_header(2, SW_HDR_EXPIRES, v, sizeof(v));
	assert_string_equal(v, "300");
	assert_int_equal(sw_doctor_exit_code(R), 1);
	/* 423 before the challenge, and one that a retry does not cure */
	static const struct step before[] = {
		{ 423, NULL, "Min-Expires: 300\r\n" }, { 401, NULL, CH("example.com", "n1") },
		{ 423, NULL, "Min-Expires: 300\r\n" },
	};
	run(&cfg, before, 3);
	assert_false(R->registered);
	assert_non_null(strstr(sw_doctor_find(R, SW_CAUSE_EXPIRES_TOO_BRIEF)->observed, "did not help"));
}

static void test_407(void **state)
{
	(void)state;
	static const struct step s[] = {
		{ 407, NULL, "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"p1\", algorithm=MD5, qop=\"auth\"\r\n" },
		{ 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	struct sw_doctor_cfg cfg = cfg_default();
	run(&cfg, s, 3);
	assert_true(R->registered);
	assert_digest_ok(1, SW_HDR_PROXY_AUTHORIZATION, "alice", "secret");
	char v[2048];
	sent_header(1, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_string_equal(v, "");
	bool noted = false;
	for (unsigned i = 0; i < R->nnotes; i++)
		noted |= strstr(R->notes[i], "Proxy-Authorization") != NULL;
	assert_true(noted);
}

static void test_refusals(void **state)
{
	(void)state;
	struct sw_doctor_cfg cfg = cfg_default();
	static const struct step disabled[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 403, "Account Disabled", NULL },
	};
	run(&cfg, disabled, 2);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_ACCOUNT_DISABLED));
	assert_int_equal(sw_doctor_exit_code(R), 1);
	static const struct step banned[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 403, NULL, "Warning: 399 sbc \"source address banned\"\r\n" },
	};
	run(&cfg, banned, 2);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_SOURCE_BANNED);
	assert_non_null(f);
	assert_non_null(strstr(f->evidence, "Warning: 399 sbc"));
	static const struct step forbidden[] = { { 401, NULL, CH("example.com", "n1") }, { 403, NULL, NULL } };
	run(&cfg, forbidden, 2);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST));
	static const struct step notfound[] = { { 404, NULL, NULL } };
	run(&cfg, notfound, 1);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_DOMAIN_UNKNOWN));
	static const struct step err5xx[] = {
		{ 401, NULL, CH("example.com", "n1") }, { 503, "Database Down", "Retry-After: 30 (maintenance)\r\n" },
	};
	run(&cfg, err5xx, 2);
	assert_null(sw_doctor_find(R, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST));
	f = sw_doctor_find(R, SW_CAUSE_SERVER_ERROR);
	assert_non_null(f);
	assert_non_null(strstr(f->observed, "503 \"Database Down\" to the answered challenge"));
	assert_non_null(strstr(f->evidence, "SIP/2.0 503 Database Down"));
	assert_non_null(strstr(f->evidence, "Retry-After: 30 (maintenance)"));
	assert_non_null(strstr(f->detail, "retry after 30 s"));
	static const struct step err500[] = { { 500, "Internal Server Error", NULL } };
	run(&cfg, err500, 1);
	f = sw_doctor_find(R, SW_CAUSE_SERVER_ERROR);
	assert_non_null(f);
	assert_non_null(strstr(f->observed, "500 \"Internal Server Error\" before any challenge"));
	assert_int_equal(sw_doctor_exit_code(R), 1);
}

static void test_no_auth_and_no_answer(void **state)
{
	(void)state;
	struct sw_doctor_cfg cfg = cfg_default();
	static const struct step open[] = { { 200, NULL, OK_CONTACT }, { 200, NULL, NULL } };
	run(&cfg, open, 2);
	assert_true(R->registered);
	assert_true(R->unregistered);
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_OK);
	assert_non_null(f);
	assert_non_null(strstr(f->observed, "without asking for credentials"));
	static const struct step lost[] = { { 401, NULL, CH("example.com", "n1") }, { 0, NULL, NULL } };
	run(&cfg, lost, 2);
	f = sw_doctor_find(R, SW_CAUSE_NO_RESPONSE);
	assert_non_null(f);
	assert_non_null(strstr(f->observed, "with credentials"));
	cfg.password = NULL;
	static const struct step nocred[] = { { 401, NULL, CH("example.com", "n1") } };
	run(&cfg, nocred, 1);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_CHALLENGE_NOT_ANSWERED));
	assert_int_equal(sw_doctor_exit_code(R), 1);
}

static void test_ha1_and_algorithms(void **state)
{
	(void)state;
	struct sw_doctor_cfg cfg = cfg_default();
	char ha1[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_ha1(NULL, SW_HASH_MD5, S("alice"), S("example.com"), S("secret"), ha1), 0);
	cfg.password = NULL;
	cfg.ha1 = ha1;
	/* SHA-256 first: --ha1 (MD5) answers the MD5 one */
	static const struct step s[] = {
		{ 401, NULL, "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"s1\", algorithm=SHA-256, qop=\"auth\"\r\n" CH("example.com", "n1") },
		{ 200, NULL, OK_CONTACT }, { 200, NULL, NULL },
	};
	run(&cfg, s, 3);
	assert_true(R->registered);
	assert_digest_ok(1, SW_HDR_AUTHORIZATION, "alice", "secret");
	static const struct step only_sha[] = {
		{ 401, NULL, "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"s1\", algorithm=SHA-256, qop=\"auth\"\r\n" },
	};
	run(&cfg, only_sha, 1);
	assert_non_null(sw_doctor_find(R, SW_CAUSE_ALGORITHM_UNSUPPORTED));
	/* with a password: the first offered algorithm is used */
	cfg = cfg_default();
	run(&cfg, s, 3);
	char v[2048];
	sent_header(1, SW_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(strstr(v, "algorithm=SHA-256"));
	assert_digest_ok(1, SW_HDR_AUTHORIZATION, "alice", "secret");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variant_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_on_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_423, setup, teardown),
		cmocka_unit_test_setup_teardown(test_407, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_auth_and_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ha1_and_algorithms, setup, teardown),
	};
	return cmocka_run_group_tests_name("doctor_register", tests, NULL, NULL);
}
