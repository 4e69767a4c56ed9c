/* Whole-message parsing: start lines, header split, folding, compact forms,
 * framing by Content-Length, limits. Every case is also parsed at a guard
 * page and fed one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"

static struct sw_msg M;

#define REG_HEAD                                                     \
	"REGISTER sip:example.com SIP/2.0\r\n"                       \
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n" \
	"Max-Forwards: 70\r\n"                                       \
	"To: Bob <sip:bob@example.com>\r\n"                          \
	"From: Bob <sip:bob@example.com>;tag=456248\r\n"             \
	"Call-ID: 843817637684230@998sdasdh09\r\n"                   \
	"CSeq: 1826 REGISTER\r\n"                                    \
	"Contact: <sip:bob@10.0.0.1>\r\n"                            \
	"Expires: 7200\r\n"

static const char reg[] = REG_HEAD "Content-Length: 0\r\n\r\n";

/* parse in datagram mode at a guard page, and check stream-mode feeding */
static int parse(const char *s, size_t n, struct sw_perr *e)
{
	assert_int_equal(sw_test_feed_bytewise(s, n), 0);
	return sw_test_parse_guarded(s, n, NULL, &M, e);
}
#define PARSE(lit, e) parse((lit), sizeof(lit) - 1, (e))

static void test_register(void **state)
{
	(void)state;
	struct sw_perr e;
	assert_int_equal(PARSE(reg, &e), 0);
	assert_true(M.is_request);
	assert_true(sw_str_eq(M.method, "REGISTER"));
	assert_int_equal(M.method_id, SW_METHOD_REGISTER);
	assert_true(sw_str_eq(M.ruri, "sip:example.com"));
	assert_true(sw_str_eq(M.version, "SIP/2.0"));
	assert_int_equal(M.nhdrs, 9);
	assert_int_equal(M.len, sizeof(reg) - 1);
	assert_int_equal(M.body.len, 0);
	assert_true(M.has_content_length);
	const struct sw_hdr *h = sw_msg_hdr(&M, SW_HDR_CALL_ID);
	assert_non_null(h);
	assert_true(sw_str_eq(h->value, "843817637684230@998sdasdh09"));
	assert_int_equal(h->line, 6);
	assert_int_equal(sw_msg_check(&M, &e), 0);
	assert_null(sw_msg_hdr(&M, SW_HDR_AUTHORIZATION));
}

static void test_response_and_reason(void **state)
{
	(void)state;
	static const char r[] = "SIP/2.0 401 Unauthorized here\r\n"
				"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
				"To: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n"
				"WWW-Authenticate: Digest realm=\"b\", nonce=\"n\"\r\n\r\n";
	struct sw_perr e;
	assert_int_equal(PARSE(r, &e), 0);
	assert_false(M.is_request);
	assert_int_equal(M.status, 401);
	assert_true(sw_str_eq(M.reason, "Unauthorized here"));
	assert_int_equal(M.body.len, 0);
	assert_int_equal(sw_msg_check(&M, &e), 0);

	static const char empty_reason[] = "SIP/2.0 100 \r\nVia: SIP/2.0/UDP h\r\n\r\n";
	assert_int_equal(PARSE(empty_reason, &e), 0);
	assert_int_equal(M.status, 100);
	assert_int_equal(M.reason.len, 0);

	static const char four_digits[] = "SIP/2.0 4010 No\r\n\r\n";
	assert_int_equal(PARSE(four_digits, &e), SW_EPARSE);
	assert_int_equal(e.status, 0); /* a broken response is dropped, not answered */
	static const char low[] = "SIP/2.0 099 No\r\n\r\n";
	assert_int_equal(PARSE(low, &e), SW_EPARSE);
}

static void test_compact_and_case(void **state)
{
	(void)state;
	static const char s[] = "OPTIONS sip:a@b SIP/2.0\r\n"
				"v: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:a@b>;tag=1\r\nT: <sip:a@b>\r\n"
				"i: x@y\r\nCSEQ: 1 OPTIONS\r\nm: <sip:c@d>\r\nl: 0\r\nk: path\r\ns: hi\r\n"
				"c: text/plain\r\ne: gzip\r\no: reg\r\nu: reg\r\nr: <sip:x@y>\r\n\r\n";
	struct sw_perr e;
	assert_int_equal(PARSE(s, &e), 0);
	static const enum sw_hdr_id ids[] = {
		SW_HDR_VIA, SW_HDR_FROM, SW_HDR_TO, SW_HDR_CALL_ID, SW_HDR_CSEQ, SW_HDR_CONTACT,
		SW_HDR_CONTENT_LENGTH, SW_HDR_SUPPORTED, SW_HDR_SUBJECT, SW_HDR_CONTENT_TYPE,
		SW_HDR_CONTENT_ENCODING, SW_HDR_EVENT, SW_HDR_ALLOW_EVENTS, SW_HDR_REFER_TO,
	};
	assert_int_equal(M.nhdrs, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(M.hdrs[i].id, ids[i]);
	assert_non_null(sw_msg_hdr_by_name(&M, "call-id"));
	assert_non_null(sw_msg_hdr_by_name(&M, "i"));
	assert_null(sw_msg_hdr_by_name(&M, "Route"));
	assert_int_equal(sw_msg_check(&M, &e), 0);
}

static void test_folding(void **state)
{
	(void)state;
	static const char s[] = "OPTIONS sip:a@b SIP/2.0\r\n"
				"Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=z9hG4bK1\r\n"
				"From: <sip:a@b>\r\n  ;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n"
				"CSeq: 0009\r\n\tOPTIONS\r\nX-Long: one\r\n two\r\n\r\n";
	struct sw_perr e;
	assert_int_equal(PARSE(s, &e), 0);
	assert_int_equal(M.nhdrs, 6);
	assert_int_equal(M.hdrs[1].line, 5); /* From after a 3-line Via */
	assert_int_equal(sw_msg_check(&M, &e), 0);
	struct sw_via v;
	assert_int_equal(sw_msg_top_via(&M, &v, &e), 0);
	assert_true(sw_str_eq(v.transport, "UDP"));
	assert_true(sw_str_eq(v.host, "192.0.2.2"));
	struct sw_cseq c;
	assert_int_equal(sw_msg_cseq(&M, &c, &e), 0);
	assert_int_equal(c.num, 9);
	assert_int_equal(c.method_id, SW_METHOD_OPTIONS);
	const struct sw_hdr *x = sw_msg_hdr_by_name(&M, "x-long");
	assert_non_null(x);
	assert_int_equal(x->value.len, strlen("one\r\n two"));
}

static void test_body_framing(void **state)
{
	(void)state;
	struct sw_perr e;
	static const char body[] = REG_HEAD "Content-Length: 5\r\n\r\nhelloEXTRA";
	assert_int_equal(PARSE(body, &e), 0);
	assert_int_equal(M.body.len, 5);
	assert_memory_equal(M.body.p, "hello", 5);
	assert_int_equal(M.len, sizeof(body) - 1 - 5); /* trailing bytes ignored */

	static const char short_body[] = REG_HEAD "Content-Length: 50\r\n\r\nhello";
	assert_int_equal(PARSE(short_body, &e), SW_EPARSE);
	assert_int_equal(e.status, 400);
	struct sw_parse_opts st = { .stream = true };
	assert_int_equal(sw_msg_parse(&M, short_body, sizeof(short_body) - 1, &st, &e), SW_EAGAIN);

	static const char no_cl[] = REG_HEAD "\r\nrest of datagram";
	assert_int_equal(PARSE(no_cl, &e), 0);
	assert_int_equal(M.body.len, strlen("rest of datagram"));
	assert_int_equal(sw_msg_parse(&M, no_cl, sizeof(no_cl) - 1, &st, &e), 0);
	assert_int_equal(M.body.len, 0); /* on a stream no Content-Length means no body */

	static const char neg[] = REG_HEAD "Content-Length: -1\r\n\r\n";
	assert_int_equal(PARSE(neg, &e), SW_EPARSE);
	assert_non_null(strstr(e.what, "negative"));
	static const char two[] = REG_HEAD "Content-Length: 0\r\nl: 3\r\n\r\nabc";
	assert_int_equal(PARSE(two, &e), SW_EPARSE);
	static const char same[] = REG_HEAD "Content-Length: 3\r\nl: 3\r\n\r\nabc";
	assert_int_equal(PARSE(same, &e), 0);
	static const char junk[] = REG_HEAD "Content-Length: 3x\r\n\r\nabc";
	assert_int_equal(PARSE(junk, &e), SW_EPARSE);
	assert_int_equal(e.line, 10);
}

static void test_stream_two_messages(void **state)
{
	(void)state;
	static const char two[] = "\r\n\r\n" REG_HEAD "Content-Length: 2\r\n\r\nabOPTIONS sip:x SIP/2.0\r\n";
	struct sw_parse_opts st = { .stream = true };
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&M, two, sizeof(two) - 1, &st, &e), 0);
	assert_int_equal(M.body.len, 2);
	size_t used = M.len;
	assert_int_equal(sw_msg_parse(&M, two + used, sizeof(two) - 1 - used, &st, &e), SW_EAGAIN);
	/* the keep-alive CRLFs count as lines for error positions */
	static const char ka[] = "\r\n\r\nOPTIONS sip:x SIP/2.0\r\nBad Header\r\n\r\n";
	assert_int_equal(sw_msg_parse(&M, ka, sizeof(ka) - 1, &st, &e), SW_EPARSE);
	assert_int_equal(e.line, 4);
	assert_int_equal(e.col, 5); /* where the ':' should be */
}

struct bad_case {
	const char *msg;
	int rc;
	unsigned status;
	const char *what; /* a word the reason must contain */
};

static void test_bad_start_lines(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "INVITE  sip:a@b SIP/2.0\r\n\r\n", SW_EPARSE, 400, "Request-URI" },
		{ "INVITE sip:a@b SIP/2.0 \r\n\r\n", SW_EPARSE, 400, "after SIP-Version" },
		{ "INVITE sip:a@b  SIP/2.0\r\n\r\n", SW_EPARSE, 400, "SIP-Version" },
		{ "INVITE sip:a@b; lr SIP/2.0\r\n\r\n", SW_EPARSE, 400, "SIP-Version" },
		{ "INVITE sip:a@b\r\n\r\n", SW_EPARSE, 400, "SIP-Version" },
		{ "INVITE\r\n\r\n", SW_EPARSE, 400, "space" },
		{ "@INVITE sip:a SIP/2.0\r\n\r\n", SW_EPARSE, 400, "method" },
		{ "INVITE sip:a HTTP/1.1\r\n\r\n", SW_EPARSE, 400, "SIP-Version" },
		{ "SIP/2.0 200\r\n\r\n", 0, 0, NULL }, /* lenient: no reason phrase */
		{ "SIP/2.0 2000 OK\r\n\r\n", SW_EPARSE, 0, "three digits" },
		{ "\r\n\r\n", SW_EPARSE, 0, "empty" },
		{ "OPTIONS sip:a SIP/2.0\r\nNoColon\r\n\r\n", SW_EPARSE, 400, "':'" },
		{ "OPTIONS sip:a SIP/2.0\r\n continued\r\n\r\n", SW_EPARSE, 400, "continuation" },
		{ "OPTIONS sip:a SIP/2.0\r\n: novalue\r\n\r\n", SW_EPARSE, 400, "header name" },
		{ "OPTIONS sip:a SIP/2.0\r\nVia: x\r\n", SW_EPARSE, 400, "empty line" },
		/* found by fuzz_msg: a bare CR would not survive printing */
		{ "OPTIONS sip:a SIP/2.0\r\nVa:\r iSIP\r\n\r\n", SW_EPARSE, 400, "bare CR" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sw_perr e;
		int rc = parse(cases[i].msg, strlen(cases[i].msg), &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, wanted %d", i, cases[i].msg, rc, cases[i].rc);
		if (rc) {
			assert_int_equal(e.status, cases[i].status);
			assert_non_null(e.what);
			if (!strstr(e.what, cases[i].what))
				fail_msg("case %zu: '%s' lacks '%s'", i, e.what, cases[i].what);
			assert_true(e.line >= 1);
			assert_true(e.col >= 1);
		}
	}
}

static void test_limits(void **state)
{
	(void)state;
	struct sw_perr e;
	/* size */
	size_t big = SW_MSG_MAX_SIZE_DEFAULT + 100;
	char *m = malloc(big);
	assert_non_null(m);
	memcpy(m, reg, sizeof(reg) - 1);
	memset(m + sizeof(reg) - 1, 'x', big - (sizeof(reg) - 1));
	assert_int_equal(sw_msg_parse(&M, m, big, NULL, &e), SW_ETOOBIG);
	assert_int_equal(e.status, 513);
	struct sw_parse_opts small = { .max_size = 200 };
	assert_int_equal(sw_msg_parse(&M, reg, sizeof(reg) - 1, &small, &e), SW_ETOOBIG);
	struct sw_parse_opts st = { .stream = true, .max_size = 300 };
	int rc = sw_msg_parse(&M, m, big, &st, &e);
	if (rc != SW_ETOOBIG)
		fail_msg("stream over the limit: %d %s", rc, e.what);

	/* header count */
	struct sw_buf b;
	sw_buf_init(&b, m, big);
	sw_buf_adds(&b, "OPTIONS sip:a SIP/2.0\r\n");
	for (int i = 0; i < 200; i++)
		sw_buf_addf(&b, "X-H%d: v\r\n", i);
	sw_buf_adds(&b, "\r\n");
	assert_int_equal(sw_msg_parse(&M, b.p, b.len, NULL, &e), SW_ETOOBIG);
	assert_non_null(strstr(e.what, "too many headers"));
	struct sw_parse_opts few = { .max_headers = 5 };
	assert_int_equal(sw_msg_parse(&M, reg, sizeof(reg) - 1, &few, &e), SW_ETOOBIG);

	/* header length */
	sw_buf_init(&b, m, big);
	sw_buf_adds(&b, "OPTIONS sip:a SIP/2.0\r\nSubject: ");
	for (int i = 0; i < 9000; i++)
		sw_buf_addc(&b, 'a');
	sw_buf_adds(&b, "\r\n\r\n");
	assert_int_equal(sw_msg_parse(&M, b.p, b.len, NULL, &e), SW_ETOOBIG);
	assert_true(sw_str_eq(e.header, "Subject"));
	free(m);
}

static void test_bare_lf(void **state)
{
	(void)state;
	static const char s[] = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
				"From: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n"
				"Content-Length: 2\n\nhi";
	struct sw_perr e;
	assert_int_equal(PARSE(s, &e), 0);
	assert_int_equal(M.nhdrs, 6);
	assert_int_equal(M.body.len, 2);
	assert_int_equal(sw_msg_check(&M, &e), 0);
}

static void test_hdr_iteration_order(void **state)
{
	(void)state;
	static const char s[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b\r\n"
				"From: <sip:a@b>;tag=1\r\nVia: SIP/2.0/UDP \"c\"\r\nTo: <sip:a@b>\r\n"
				"Call-ID: x\r\nCSeq: 1 OPTIONS\r\nVia: SIP/2.0/UDP d\r\n\r\n";
	struct sw_perr e;
	assert_int_equal(PARSE(s, &e), 0);
	assert_int_equal(M.count[SW_HDR_VIA], 3);
	struct sw_hdr_iter it;
	sw_str el;
	const struct sw_hdr *h;
	const char *want[] = { "SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/TCP b", "SIP/2.0/UDP \"c\"", "SIP/2.0/UDP d" };
	sw_hdr_iter_init(&it, &M, SW_HDR_VIA);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sw_hdr_iter_next(&it, &el, &h), 1);
		assert_true(sw_str_eq(el, want[i]));
	}
	assert_int_equal(sw_hdr_iter_next(&it, &el, &h), 0);
	/* a quoted host is not a host: check rejects it */
	assert_int_equal(sw_msg_check(&M, &e), SW_EPARSE);
	assert_true(sw_str_eq(e.header, "Via"));
	assert_int_equal(e.line, 4);
}

static void test_check_rules(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "OPTIONS sip:a@b SIP/3.0\r\nVia: SIP/3.0/UDP h\r\n\r\n", SW_EVERSION, 505, "version" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n", SW_EPARSE, 400, "CSeq method" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 2147483648 OPTIONS\r\n\r\n", SW_EPARSE, 400, "2^31" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n", SW_EPARSE, 400, "range" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\nExpires: 4294967296\r\n\r\n", SW_EPARSE, 400, "range" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\n"
		  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n", SW_EPARSE, 400, "missing" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "To: <sip:c@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n", SW_EPARSE, 400, "only once" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x y\r\nCSeq: 1 OPTIONS\r\n\r\n", SW_EPARSE, 400, "Call-ID" },
		{ "REGISTER sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 REGISTER\r\nContact: *, <sip:a@c>\r\n\r\n", SW_EPARSE, 400, "only contact" },
		{ "REGISTER sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"a\", username=\"b\"\r\n\r\n",
		  SW_EPARSE, 400, "duplicate" },
		{ "REGISTER sip:b?x=y SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n", SW_EPARSE, 400, "URI headers" },
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 99999999999 REGISTER\r\n\r\n", SW_EPARSE, 0, "2^31" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sw_perr e;
		int rc = parse(cases[i].msg, strlen(cases[i].msg), &e);
		if (rc)
			fail_msg("case %zu did not parse: %s", i, e.what);
		rc = sw_msg_check(&M, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: check rc %d, wanted %d", i, rc, cases[i].rc);
		assert_int_equal(e.status, cases[i].status);
		if (!strstr(e.what, cases[i].what))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.what, cases[i].what);
		char text[256];
		sw_perr_format(&e, text, sizeof(text));
		assert_true(strlen(text) > strlen(e.what));
	}
}

static void test_perr_format(void **state)
{
	(void)state;
	struct sw_perr e = { .code = SW_EPARSE, .line = 3, .col = 7, .header = SW_STR_LIT("Via"),
			     .what = "expected a transport" };
	char out[64];
	assert_string_equal(sw_perr_format(&e, out, sizeof(out)), "line 3, column 7 (Via): expected a transport");
	char tiny[16];
	sw_perr_format(&e, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), 15);
	assert_string_equal(tiny + 12, "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_response_and_reason),
		cmocka_unit_test(test_compact_and_case),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_stream_two_messages),
		cmocka_unit_test(test_bad_start_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_hdr_iteration_order),
		cmocka_unit_test(test_check_rules),
		cmocka_unit_test(test_perr_format),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	sw_test_guard_release();
	return rc;
}
