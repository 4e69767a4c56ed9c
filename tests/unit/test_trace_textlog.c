/* Text logs (sngrep, Kamailio sipdump, Asterisk pjsip logger, sipp
 * -trace_msg, plain) and the --credentials file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"
#include "sipwarden/trace.h"

#define REQ_LF "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKt1\n" \
	"From: <sip:carol@example.com>;tag=1\nTo: <sip:carol@example.com>\nCall-ID: tl1\n" \
	"CSeq: 1 REGISTER\nContent-Length: 0\n\n"
#define RESP_LF "SIP/2.0 401 Unauthorized\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKt1\n" \
	"From: <sip:carol@example.com>;tag=1\nTo: <sip:carol@example.com>;tag=2\nCall-ID: tl1\n" \
	"CSeq: 1 REGISTER\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\nContent-Length: 0\n\n"

static struct sw_trace *read_text(const char *text, int want)
{
	struct sw_trace *t;
	char why[256];
	assert_int_equal(sw_trace_new(&t, NULL), 0);
	assert_int_equal(sw_trace_read_mem(t, "log", text, strlen(text), why, sizeof(why)), want);
	assert_int_equal(sw_trace_analyze(t), 0);
	return t;
}

static void check_pair(struct sw_trace *t, const char *src, const char *dst)
{
	assert_int_equal(sw_trace_msg_count(t), 2);
	assert_int_equal(sw_trace_stats(t)->parse_errors, 0);
	assert_string_equal(sw_trace_msg_get(t, 0)->meta.src, src);
	assert_string_equal(sw_trace_msg_get(t, 0)->meta.dst, dst);
	assert_string_equal(sw_trace_msg_get(t, 1)->meta.src, dst);
	assert_int_equal(sw_trace_flow_count(t), 1);
	assert_int_equal(sw_trace_flow_get(t, 0)->cause, SW_CAUSE_CHALLENGE_NOT_ANSWERED);
	sw_trace_free(t);
}

static void test_formats(void **state)
{
	(void)state;
	/* sngrep */
	check_pair(read_text("2024/05/01 10:00:00.000001 10.0.0.2:5060 -> 10.0.0.1:5060\n" REQ_LF
			     "2024/05/01 10:00:00.100000 10.0.0.1:5060 -> 10.0.0.2:5060\n" RESP_LF, 0),
		   "10.0.0.2:5060", "10.0.0.1:5060");
	/* Kamailio sipdump, CRLF inside */
	check_pair(read_text("====================\ntag: rcv\npid: 1\nprocess: 1\ntime: 1714557600.000100\n"
			     "date: Wed May  1 10:00:00 2024\nproto: udp ipv4\nsrcip: 10.0.0.2\nsrcport: 5060\n"
			     "dstip: 10.0.0.1\ndstport: 5060\n~~~~~~~~~~~~~~~~~~~~\n"
			     "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKt1\r\n"
			     "From: <sip:carol@example.com>;tag=1\r\nTo: <sip:carol@example.com>\r\nCall-ID: tl1\r\n"
			     "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n||||||||||||||||||||\n"
			     "====================\ntag: snd\ntime: 1714557600.200000\nproto: udp ipv4\n"
			     "srcip: 10.0.0.1\nsrcport: 5060\ndstip: 10.0.0.2\ndstport: 5060\n~~~~~~~~~~~~~~~~~~~~\n"
			     RESP_LF "||||||||||||||||||||\n", 0),
		   "10.0.0.2:5060", "10.0.0.1:5060");
	/* Asterisk pjsip logger */
	check_pair(read_text("<--- Received SIP request (300 bytes) from UDP:10.0.0.2:5060 --->\n" REQ_LF
			     "<--- Transmitting SIP response (400 bytes) to UDP:10.0.0.2:5060 --->\n" RESP_LF, 0),
		   "10.0.0.2:5060", "local");
	/* sipp -trace_msg */
	check_pair(read_text("----------------------------------------------- 2024-05-01\t10:00:00.000001\n"
			     "UDP message sent (300 bytes):\n\n" REQ_LF
			     "----------------------------------------------- 2024-05-01\t10:00:00.100000\n"
			     "UDP message received [400] bytes :\n\n" RESP_LF, 0),
		   "local", "remote");
	/* plain, with a body counted by Content-Length */
	struct sw_trace *t = read_text("INVITE sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKi\n"
				       "From: <sip:a@example.com>;tag=1\nTo: <sip:x@example.com>\nCall-ID: c\n"
				       "CSeq: 1 INVITE\nContent-Length: 10\n\nv=0\no=x\n\n" REQ_LF, 0);
	assert_int_equal(sw_trace_msg_count(t), 2);
	assert_int_equal(sw_trace_stats(t)->parse_errors, 0);
	assert_int_equal(sw_trace_msg_get(t, 0)->m->body.len, 10);
	sw_trace_free(t);
	/* no SIP at all */
	t = read_text("hello\nworld\n", SW_EPARSE);
	sw_trace_free(t);
}

static void test_credentials_file(void **state)
{
	(void)state;
	struct sw_creds *c;
	char why[256];
	const char ok[] = "# accounts\n\nalice@example.com,pa,ss\r\n"
			  "bob@example.com,voip,MD5:0123456789ABCDEF0123456789abcdef\n";
	assert_int_equal(sw_creds_parse(&c, ok, strlen(ok), why, sizeof(why)), 0);
	assert_int_equal(sw_creds_count(c), 2);
	const struct sw_cred *a = sw_creds_find(c, sw_str_from("alice", 5), SW_STR_LIT("x"), SW_STR_LIT("example.com"));
	assert_non_null(a);
	assert_string_equal(a->password, "pa,ss");
	const struct sw_cred *b = sw_creds_find(c, sw_str_from("bob", 3), SW_STR_LIT("voip"), SW_STR_LIT("other"));
	assert_non_null(b);
	assert_null(b->password);
	assert_string_equal(b->ha1, "0123456789abcdef0123456789abcdef");
	assert_int_equal(b->alg, SW_ALG_MD5);
	assert_null(sw_creds_find(c, sw_str_from("bob", 3), SW_STR_LIT("other-realm"), SW_STR_LIT("example.com")));
	assert_null(sw_creds_find(c, sw_str_from("eve", 3), SW_STR_LIT("voip"), SW_STR_LIT("example.com")));
	sw_creds_free(c);
	const char bad[] = "alice@example.com,pw\nnot a line\n";
	assert_int_equal(sw_creds_parse(&c, bad, strlen(bad), why, sizeof(why)), SW_EPARSE);
	assert_non_null(strstr(why, "line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_credentials_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
