/* The printer: responses per RFC 3261 §8.2.6, messages from parts, and the
 * parse -> print -> parse round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"

static struct sw_msg M, R;

static const char reg[] =
	"REGISTER sip:registrar.biloxi.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n"
	"v: SIP/2.0/UDP proxy.biloxi.com;branch=z9hG4bK1;received=192.0.2.9,\r\n"
	"   SIP/2.0/TCP client.biloxi.com;branch=z9hG4bK2\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.com>\r\n"
	"From: Bob <sip:bob@biloxi.com>;tag=456248\r\n"
	"Call-ID: 843817637684230@998sdasdh09\r\n"
	"CSeq: 1826 REGISTER\r\n"
	"Contact: <sip:bob@192.0.2.4>\r\n"
	"Expires: 7200\r\n"
	"Content-Length: 0\r\n\r\n";

static void test_response_from_request(void **state)
{
	(void)state;
	struct sw_perr e;
	assert_int_equal(sw_test_parse_guarded(reg, sizeof(reg) - 1, NULL, &M, &e), 0);
	char out[2048];
	struct sw_buf b;
	sw_buf_init(&b, out, sizeof(out));
	assert_int_equal(sw_print_response_start(&b, &M, 401, NULL, SW_STR_LIT("8321234356")), 0);
	sw_print_header(&b, "WWW-Authenticate", SW_STR_LIT("Digest realm=\"biloxi.com\", nonce=\"x\""));
	sw_print_headerf(&b, "Date", "%s", "Sat, 13 Nov 2010 23:29:00 GMT");
	assert_int_equal(sw_print_end(&b, SW_STR_NULL), 0);
	static const char want[] =
		"SIP/2.0 401 Unauthorized\r\n"
		"Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n"
		"Via: SIP/2.0/UDP proxy.biloxi.com;branch=z9hG4bK1;received=192.0.2.9, SIP/2.0/TCP client.biloxi.com;branch=z9hG4bK2\r\n"
		"From: Bob <sip:bob@biloxi.com>;tag=456248\r\n"
		"To: Bob <sip:bob@biloxi.com>;tag=8321234356\r\n"
		"Call-ID: 843817637684230@998sdasdh09\r\n"
		"CSeq: 1826 REGISTER\r\n"
		"WWW-Authenticate: Digest realm=\"biloxi.com\", nonce=\"x\"\r\n"
		"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
		"Content-Length: 0\r\n\r\n";
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.p, want, b.len);
	/* and it parses as a response that matches the request */
	assert_int_equal(sw_msg_parse(&R, b.p, b.len, NULL, &e), 0);
	assert_int_equal(sw_msg_check(&R, &e), 0);
	assert_int_equal(R.status, 401);
	assert_int_equal(R.count[SW_HDR_VIA], 2);
	struct sw_via v;
	assert_int_equal(sw_msg_top_via(&R, &v, &e), 0);
	assert_true(sw_str_eq(v.branch, "z9hG4bKnashds7"));

	/* a To tag already present is kept, and 100 Trying gets none */
	sw_buf_init(&b, out, sizeof(out));
	assert_int_equal(sw_print_response_start(&b, &M, 100, NULL, SW_STR_LIT("t")), 0);
	assert_null(strstr(sw_buf_cstr(&b), "tag=t"));
	static const char tagged[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\n"
				     "To: <sip:c@d>;tag=existing\r\nCall-ID: x\r\nCSeq: 2 OPTIONS\r\n\r\n";
	assert_int_equal(sw_msg_parse(&M, tagged, sizeof(tagged) - 1, NULL, &e), 0);
	sw_buf_init(&b, out, sizeof(out));
	assert_int_equal(sw_print_response_start(&b, &M, 200, "Fine", SW_STR_LIT("new")), 0);
	sw_print_end(&b, SW_STR_LIT("body"));
	const char *s = sw_buf_cstr(&b);
	assert_non_null(strstr(s, "SIP/2.0 200 Fine\r\n"));
	assert_non_null(strstr(s, "To: <sip:c@d>;tag=existing\r\n"));
	assert_null(strstr(s, "tag=new"));
	assert_non_null(strstr(s, "Content-Length: 4\r\n\r\nbody"));

	/* responses are not built from responses; a full buffer is reported */
	assert_int_equal(sw_msg_parse(&R, b.p, b.len, NULL, &e), 0);
	assert_int_equal(sw_print_response_start(&b, &R, 200, NULL, SW_STR_NULL), SW_EINVAL);
	char tiny[40];
	sw_buf_init(&b, tiny, sizeof(tiny));
	assert_int_equal(sw_print_response_start(&b, &M, 200, NULL, SW_STR_NULL), SW_ENOSPC);
}

static void test_request_from_parts(void **state)
{
	(void)state;
	char out[1024];
	struct sw_buf b;
	sw_buf_init(&b, out, sizeof(out));
	sw_print_request_line(&b, SW_STR_LIT("OPTIONS"), SW_STR_LIT("sip:example.com"));
	sw_print_headerf(&b, "Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport", 5070, "abc");
	sw_print_header(&b, "From", SW_STR_LIT("<sip:doctor@example.com>;tag=1"));
	sw_print_header(&b, "To", SW_STR_LIT("<sip:example.com>"));
	sw_print_header(&b, "Call-ID", SW_STR_LIT("id1"));
	sw_print_header(&b, "CSeq", SW_STR_LIT("1 OPTIONS"));
	sw_print_header(&b, "Max-Forwards", SW_STR_LIT("70"));
	assert_int_equal(sw_print_end(&b, SW_STR_NULL), 0);
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&M, b.p, b.len, NULL, &e), 0);
	assert_int_equal(sw_msg_check(&M, &e), 0);
	struct sw_via v;
	assert_int_equal(sw_msg_top_via(&M, &v, &e), 0);
	assert_int_equal(v.port, 5070);
	assert_true(v.has_rport);

	sw_buf_init(&b, out, sizeof(out));
	sw_print_status_line(&b, 423, NULL);
	assert_string_equal(sw_buf_cstr(&b), "SIP/2.0 423 Interval Too Brief\r\n");
}

/* print(parse(x)) parses to the same message. */
static void roundtrip(const char *s, size_t n)
{
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&M, s, n, NULL, &e), 0);
	static char out[70000], out2[70000];
	struct sw_buf b;
	sw_buf_init(&b, out, sizeof(out));
	assert_int_equal(sw_print_msg(&b, &M), 0);
	assert_int_equal(sw_msg_parse(&R, b.p, b.len, NULL, &e), 0);
	assert_int_equal(M.is_request, R.is_request);
	assert_true(sw_str_eq_str(M.method, R.method));
	assert_true(sw_str_eq_str(M.ruri, R.ruri));
	assert_int_equal(M.status, R.status);
	assert_true(sw_str_eq_str(M.reason, R.reason));
	assert_int_equal(M.nhdrs + !M.has_content_length, R.nhdrs);
	assert_true(sw_str_eq_str(M.body, R.body));
	assert_int_equal(sw_msg_check(&M, &e), sw_msg_check(&R, &e));
	/* printing the reparsed message gives the same bytes: a fixed point */
	struct sw_buf b2;
	sw_buf_init(&b2, out2, sizeof(out2));
	assert_int_equal(sw_print_msg(&b2, &R), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.p, b2.p, b.len);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(reg, sizeof(reg) - 1);
	static const char folded[] = "INVITE sip:a@b SIP/2.0\r\nTO :\r\n sip:a@b ;   tag    = 1\r\n"
				     "from: \"x\\\"\" <sip:c@d>\r\n  ;\r\n  tag = 9\r\ni: q\r\ncseq: 0009\r\n  INVITE\r\n"
				     "v: SIP/2.0/UDP h;branch=z9hG4bK1\r\nX-Empty:\r\nContent-Type: text/plain\r\n\r\nbody bytes";
	roundtrip(folded, sizeof(folded) - 1);
	static const char resp[] = "SIP/2.0 100 \r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>;tag=1\r\n"
				   "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
	roundtrip(resp, sizeof(resp) - 1);

	/* every valid RFC 4475 message */
	static const char *const files[] = { "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp",
					     "longreq", "dblreq", "semiuri", "transports", "mpart01",
					     "unreason", "noreason", "inv2543" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", sw_test_corpus(), files[i]);
		size_t len;
		char *data = sw_test_read_file(path, &len);
		if (!data)
			fail_msg("cannot read %s (set SW_CORPUS)", path);
		roundtrip(data, len);
		free(data);
	}
}

static void test_random_token(void **state)
{
	(void)state;
	char a[17], b[17];
	assert_int_equal(sw_random_token(a, 16), 0);
	assert_int_equal(sw_random_token(b, 16), 0);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdefghijklmnopqrstuvwxyz", a[i]));
}

static void test_json(void **state)
{
	(void)state;
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&M, reg, sizeof(reg) - 1, NULL, &e), 0);
	static char out[16384];
	struct sw_buf b;
	sw_buf_init(&b, out, sizeof(out));
	sw_msg_to_json(&b, &M, NULL);
	const char *j = sw_buf_cstr(&b);
	assert_false(b.overflow);
	assert_non_null(strstr(j, "\"valid\":true"));
	assert_non_null(strstr(j, "\"method\":\"REGISTER\""));
	assert_non_null(strstr(j, "\"branch\":\"z9hG4bKnashds7\""));
	assert_non_null(strstr(j, "\"written_as\":\"v\""));
	assert_non_null(strstr(j, "\"tag\":\"456248\""));
	assert_non_null(strstr(j, "{\"number\":1826,\"method\":\"REGISTER\"}"));
	assert_non_null(strstr(j, "\"body_length\":0}"));

	sw_buf_init(&b, out, sizeof(out));
	sw_buf_add_json_str(&b, "a\"\\\n\x01\xff\xc3\xa9", 8);
	assert_string_equal(sw_buf_cstr(&b), "\"a\\\"\\\\\\n\\u0001\\u00ff\xc3\xa9\"");
	/* runs of plain ASCII between escapes, at the start and the end */
	sw_buf_init(&b, out, sizeof(out));
	sw_buf_add_json_str(&b, "plain ~run \"q\" \x7f\tend", 20);
	assert_string_equal(sw_buf_cstr(&b), "\"plain ~run \\\"q\\\" \\u007f\\tend\"");
	sw_buf_init(&b, out, 6);
	sw_buf_add_json_str(&b, "abcdefgh", 8); /* too long: marked, never overrun */
	assert_true(b.overflow);
}

/* sw_buf_add_xint writes what "%0*llx" writes; sw_join cuts like snprintf. */
static void test_add_xint_join(void **state)
{
	(void)state;
	static const struct { uint64_t v; unsigned digits; } c[] = {
		{ 0, 0 }, { 0, 8 }, { 0xab, 2 }, { 0xab, 8 }, { 0xdeadbeefu, 8 }, { 0x123456789abcdef0ull, 16 },
		{ 0xffffffffffffffffull, 4 }, { 7, 1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char mem[32], want[32];
		struct sw_buf b;
		sw_buf_init(&b, mem, sizeof(mem));
		sw_buf_add_xint(&b, c[i].v, c[i].digits);
		snprintf(want, sizeof(want), "%0*llx", (int)c[i].digits, (unsigned long long)c[i].v);
		assert_string_equal(sw_buf_cstr(&b), want);
	}
	char out[8];
	assert_string_equal(sw_join(out, sizeof(out), "bob", "@", "a.b"), "bob@a.b");
	assert_string_equal(sw_join(out, sizeof(out), "alice", "@", "example.com"), "alice@e");
	assert_string_equal(sw_join(out, sizeof(out), "", "", ""), "");
	assert_string_equal(sw_join(out, 1, "x", "@", "y"), "");
}

/* sw_buf_add_uint writes what "%llu" writes, and marks an overflow. */
static void test_add_uint(void **state)
{
	(void)state;
	static const uint64_t v[] = { 0, 7, 10, 99, 100, 65535, 4294967295u, 18446744073709551615ull };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char mem[32], want[32];
		struct sw_buf b;
		sw_buf_init(&b, mem, sizeof(mem));
		sw_buf_adds(&b, "x");
		sw_buf_add_uint(&b, v[i]);
		snprintf(want, sizeof(want), "x%llu", (unsigned long long)v[i]);
		assert_false(b.overflow);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(mem, want, b.len);
	}
	char small[3];
	struct sw_buf b;
	sw_buf_init(&b, small, sizeof(small));
	sw_buf_add_uint(&b, 1234);
	assert_true(b.overflow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_uint),
		cmocka_unit_test(test_add_xint_join),
		cmocka_unit_test(test_response_from_request),
		cmocka_unit_test(test_request_from_parts),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_random_token),
		cmocka_unit_test(test_json),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	sw_test_guard_release();
	return rc;
}
