/* The 503 of a shed request from the raw bytes (lib/registrar/shed_raw.c):
 * byte for byte the answer the full path builds (sw_msg_parse, then
 * sw_print_response_start_via with received/rport, Server, Retry-After)
 * for requests with several Vias, compact names, folded lines, bare LF
 * line ends; the same transaction key as sw_txn_key_make; and a refusal
 * (the full path then answers) for whatever it does not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "sipwarden/txn.h"
#include "registrar/shed_raw.h"

#define SRC "192.0.2.7"
#define SRC_PORT 5099

static const char *const good[] = {
	/* what sipwarden bench sends */
	("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKr1.0.1.2.0;rport\r\n"
	"Max-Forwards: 70\r\nFrom: <sip:user00001@127.0.0.1>;tag=r10.1\r\nTo: <sip:user00001@127.0.0.1>\r\n"
	"Call-ID: r1-0-1@bench.sipwarden\r\nCSeq: 1 REGISTER\r\nContact: <sip:user00001@127.0.0.1>\r\n"
	"Expires: 3600\r\nUser-Agent: sipwarden-bench\r\nContent-Length: 0\r\n\r\n"),
	/* the source is the Via host, no rport: the Via copied as it is */
	("OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP " SRC ":5099;branch=z9hG4bKo1\r\n"
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: o1\r\nCSeq: 7 OPTIONS\r\n\r\n"),
	/* several Vias, in one header and in several, received already there */
	("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;received=1.1.1.1 ,"
	" SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb\r\nVia: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKc\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=x\r\nTo: \"Alice\" <sip:alice@example.com>\r\n"
	"Call-ID: abc@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"),
	/* compact names, odd spacing, bare LF line ends, folded values */
	("REGISTER sip:example.com SIP/2.0\nv : SIP/2.0/UDP [2001:db8::1]:5070;rport;branch=z9hG4bKc1\n"
	"f:<sip:bob@example.com>\n ;tag=99\nt:   <sip:bob@example.com>\n\t \ni:\tcid-1\n"
	"CSeq: 2\n REGISTER\nl: 0\n\n"),
	/* lower-case long names, a body the Content-Length covers, an INVITE */
	("INVITE sip:bob@example.com SIP/2.0\r\nvia: SIP/2.0/UDP host.example.com;branch=z9hG4bKi1\r\n"
	"from: <sip:alice@example.com>;tag=a\r\nto: sip:bob@example.com\r\ncall-id: i1\r\ncseq: 1 INVITE\r\n"
	"content-length: 4\r\nContent-Length: 4\r\n\r\nv=0\n"),
	/* an RFC 2543 branch: still answered (the key is the caller's business) */
	("OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:c@d>\r\nCall-ID: old\r\nCSeq: 1 OPTIONS\r\n\r\n"),
};

static const char *const refused[] = {
	"", /* empty */
	("\r\nOPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a keep-alive first */
	("OPTIONS sip:a SIP/3.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* another version */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* no Call-ID */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"f: <sip:x@b>;tag=2\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* two From */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\n ;tag=9\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a folded To tag */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\rX\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a bare CR */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n"), /* no empty line */
	("OPTIONS sip:a SIP/2.0\r\n Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a continuation first */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: one OPTIONS\r\n\r\n"), /* a CSeq without a number */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=\"z9hG4bK1\"\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* quotes in the Via */
	("OPTIONS sip:a SIP/2.0\r\nVia: HTTP/1.1 h\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a Via that does not parse */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* a To that does not parse */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 10\r\n\r\nshort"), /* body short */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nl: -1\r\n\r\n"), /* Content-Length not a number */
	("OPTIONS sip:a SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* no Via */
	("OPTIONS  sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"), /* two spaces in the Request-Line */
	("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
	"To : <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nBad Header: x\r\n\r\n"), /* a name with a space */
};

/* received and rport as sw__reply_start works them out */
static void source_params(const struct sw_via *v, sw_str *received, int *rport)
{
	*rport = v->has_rport && v->rport < 0 ? SRC_PORT : -1;
	sw_str host = v->host;
	if (host.len >= 2 && host.p[0] == '[')
		host = sw_str_from(host.p + 1, host.len - 2);
	*received = *rport >= 0 || !sw_str_ieq(host, SRC) ? SW_STR_LIT(SRC) : SW_STR_NULL;
}

static void same_as_full_path(void **state)
{
	(void)state;
	static struct sw_msg m;
	static char full[8192], fast[8192];
	const sw_str tag = SW_STR_LIT("0123456789abcdef");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		for (int with_server = 0; with_server < 2; with_server++) {
			const char *req = good[i];
			sw_str server = with_server ? SW_STR_LIT("sipwarden") : SW_STR_NULL;
			assert_int_equal(sw_msg_parse(&m, req, strlen(req), NULL, NULL), 0);
			struct sw_via v;
			assert_int_equal(sw_msg_top_via(&m, &v, NULL), 0);
			sw_str received;
			int rport;
			source_params(&v, &received, &rport);
			struct sw_buf a, b;
			sw_buf_init(&a, full, sizeof(full));
			assert_int_equal(sw_print_response_start_via(&a, &m, 503, "Service Unavailable", tag, received,
								      rport), 0);
			if (server.p)
				sw_print_header(&a, "Server", server);
			sw_print_header(&a, "Retry-After", SW_STR_LIT("17"));
			assert_int_equal(sw_print_end(&a, SW_STR_NULL), 0);

			struct sw_shed_raw raw;
			if (sw_shed_raw_scan(&raw, req, strlen(req)) != 0)
				fail_msg("message %zu was not read", i);
			sw_str r2;
			int p2;
			source_params(&raw.v, &r2, &p2);
			assert_int_equal(p2, rport);
			sw_buf_init(&b, fast, sizeof(fast));
			assert_int_equal(sw_shed_raw_print(&b, &raw, tag, r2, p2, server, 17), 0);
			if (a.len != b.len || memcmp(a.p, b.p, a.len))
				fail_msg("message %zu:\nfull path:\n%.*s\nraw:\n%.*s", i, (int)a.len, a.p, (int)b.len,
					 b.p);
		}
	}
}

static void same_transaction_key(void **state)
{
	(void)state;
	static struct sw_msg m;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sw_shed_raw raw;
		struct sw_txn_key k1, k2;
		assert_int_equal(sw_msg_parse(&m, good[i], strlen(good[i]), NULL, NULL), 0);
		assert_int_equal(sw_shed_raw_scan(&raw, good[i], strlen(good[i])), 0);
		int rc = sw_txn_key_make_via(&raw.v, raw.cs.method, &k2);
		if (i == sizeof(good) / sizeof(good[0]) - 1) { /* the RFC 2543 branch */
			assert_int_equal(rc, SW_EPARSE);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(sw_txn_key_make(&m, &k1), 0);
		assert_int_equal(k1.len, k2.len);
		assert_int_equal(k1.hash, k2.hash);
		assert_memory_equal(k1.bytes, k2.bytes, k1.len);
	}
}

static void refuses_what_it_does_not_read(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct sw_shed_raw raw;
		if (sw_shed_raw_scan(&raw, refused[i], strlen(refused[i])) != SW_EPARSE)
			fail_msg("message %zu was read: %s", i, refused[i]);
	}
	/* every cut of a good message short of its empty line: refused, never read past the end */
	const char *req = good[0];
	size_t n = strlen(req);
	for (size_t cut = 0; cut < n; cut++) {
		static char copy[2048];
		memcpy(copy, req, cut);
		struct sw_shed_raw raw;
		assert_int_equal(sw_shed_raw_scan(&raw, copy, cut), SW_EPARSE);
	}
	/* a 503 too large for the buffer: an error, no partial answer */
	struct sw_shed_raw raw;
	assert_int_equal(sw_shed_raw_scan(&raw, good[0], strlen(good[0])), 0);
	char small[64];
	struct sw_buf b;
	sw_buf_init(&b, small, sizeof(small));
	assert_int_equal(sw_shed_raw_print(&b, &raw, SW_STR_LIT("t"), SW_STR_NULL, -1, SW_STR_NULL, 5), SW_ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_as_full_path),
		cmocka_unit_test(same_transaction_key),
		cmocka_unit_test(refuses_what_it_does_not_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
