/* Typed header accessors: Via, From/To/Contact, CSeq, Call-ID, numbers,
 * Date, Authorization / WWW-Authenticate, parameters. Each is exercised
 * through a whole message parsed at a guard page and fed byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"

static struct sw_msg M;
static char text[8192];

/* A REGISTER with one extra header line; parsed at a guard page. */
static const struct sw_hdr *with_header(const char *name, const char *value)
{
	int n = snprintf(text, sizeof(text),
			 "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "Call-ID: c\r\nCSeq: 1 REGISTER\r\n%s: %s\r\n\r\n", name, value);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(sw_test_feed_bytewise(text, (size_t)n), 0);
	assert_int_equal(sw_test_parse_guarded(text, (size_t)n, NULL, &M, NULL), 0);
	const struct sw_hdr *h = sw_msg_hdr_by_name(&M, name);
	assert_non_null(h);
	return h;
}

static int via(struct sw_via *v, const char *value)
{
	const struct sw_hdr *h = with_header("Via", value);
	(void)h;
	struct sw_hdr_iter it;
	sw_str e;
	sw_hdr_iter_init(&it, &M, SW_HDR_VIA);
	assert_int_equal(sw_hdr_iter_next(&it, &e, NULL), 1); /* the message's own Via */
	assert_int_equal(sw_hdr_iter_next(&it, &e, NULL), 1);
	return sw_via_parse(v, e, NULL);
}

static void test_via(void **state)
{
	(void)state;
	struct sw_via v;
	assert_int_equal(via(&v, "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKabc;received=198.51.100.7;rport=40000;ttl=16;maddr=224.2.0.1;x=y"), 0);
	assert_true(sw_str_eq(v.protocol, "SIP"));
	assert_true(sw_str_eq(v.version, "2.0"));
	assert_true(sw_str_eq(v.transport, "UDP"));
	assert_true(sw_str_eq(v.host, "192.0.2.1"));
	assert_int_equal(v.port, 5062);
	assert_true(sw_str_eq(v.branch, "z9hG4bKabc"));
	assert_true(sw_str_eq(v.received, "198.51.100.7"));
	assert_true(v.has_rport);
	assert_int_equal(v.rport, 40000);
	assert_int_equal(v.ttl, 16);
	assert_true(sw_str_eq(v.maddr, "224.2.0.1"));
	assert_true(sw_param_get(v.params, "x", NULL));

	assert_int_equal(via(&v, "SIP/2.0/TCP client.example.com;rport;branch=z9hG4bK1"), 0);
	assert_true(v.has_rport);
	assert_int_equal(v.rport, -1); /* rport without a value: a request for one */
	assert_int_equal(v.port, -1);
	assert_int_equal(v.ttl, -1);

	assert_int_equal(via(&v, "SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255];branch=z9hG4bK2"), 0);
	assert_true(sw_str_eq(v.host, "[2001:db8::9:1]"));
	assert_true(sw_str_eq(v.received, "[2001:db8::9:255]"));
	assert_int_equal(via(&v, "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255"), 0);
	assert_true(sw_str_eq(v.received, "2001:db8::9:255"));

	assert_int_equal(via(&v, "SIP / 2.0 / TLS  host.example.com : 5061 ; branch = z9hG4bK3"), 0);
	assert_true(sw_str_eq(v.transport, "TLS"));
	assert_int_equal(v.port, 5061);
	assert_true(sw_str_eq(v.branch, "z9hG4bK3"));

	static const char *const bad[] = {
		"SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDPhost", "SIP/2.0/UDP host;;x",
		"SIP/2.0/UDP host;ttl=256", "SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP host:70000",
		"SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;received=", "SIP/2.0/UDP host junk",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (via(&v, bad[i]) != SW_EPARSE)
			fail_msg("Via '%s' should not parse", bad[i]);
}

static int addr(struct sw_addr *a, const char *value, bool star)
{
	const struct sw_hdr *h = with_header(star ? "Contact" : "To", value);
	struct sw_perr e;
	return sw_addr_parse(a, h->value, star, &e);
}

static void test_name_addr(void **state)
{
	(void)state;
	struct sw_addr a;
	assert_int_equal(addr(&a, "\"Bob \\\"the\\\" Builder\" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf;x", false), 0);
	assert_true(a.bracketed);
	assert_true(sw_str_eq(a.display, "\"Bob \\\"the\\\" Builder\""));
	char name[64];
	int n = sw_str_unquote(a.display, name, sizeof(name));
	assert_int_equal(n, 17);
	assert_memory_equal(name, "Bob \"the\" Builder", 17);
	assert_true(sw_str_eq(a.uri.user, "bob"));
	assert_true(sw_str_eq(a.uri.params, ";transport=tcp"));
	assert_true(sw_str_eq(a.tag, "a6c85cf"));
	assert_true(sw_param_get(a.params, "x", NULL));

	assert_int_equal(addr(&a, "Bob Smith <sip:bob@b>", false), 0);
	assert_true(sw_str_eq(a.display, "Bob Smith"));
	assert_int_equal(addr(&a, "caller<sip:caller@example.com>;tag=323", false), 0);
	assert_true(sw_str_eq(a.display, "caller"));
	assert_true(sw_str_eq(a.tag, "323"));

	/* addr-spec: params after the URI are header params */
	assert_int_equal(addr(&a, "sip:+19725552222@gw1.example.net;unknownparam", true), 0);
	assert_false(a.bracketed);
	assert_int_equal(a.uri.params.len, 0);
	assert_true(sw_param_get(a.params, "unknownparam", NULL));
	assert_int_equal(addr(&a, "<sip:+19725552222@gw1.example.net;unknownparam>", true), 0);
	assert_true(sw_str_eq(a.uri.params, ";unknownparam"));
	assert_int_equal(a.params.len, 0);

	assert_int_equal(addr(&a, "<sip:bob@192.0.2.4>;expires=3600;q=0.7", true), 0);
	assert_true(a.has_expires);
	assert_int_equal(a.expires, 3600);
	assert_true(a.has_q);
	assert_int_equal(a.q, 700);
	assert_int_equal(addr(&a, "<sip:b@c>;q=1.000", true), 0);
	assert_int_equal(a.q, 1000);
	assert_int_equal(addr(&a, "<sip:b@c>;q=0", true), 0);
	assert_int_equal(a.q, 0);
	assert_int_equal(addr(&a, " * ", true), 0);
	assert_true(a.star);
	assert_int_equal(addr(&a, "<isbn:2983792873>", false), 0);
	assert_int_equal(a.uri.scheme, SW_URI_OTHER);

	static const char *const bad[] = {
		"\"unterminated <sip:a@b>", "< sip:a@b >", "<sip:a@b", "Bell, Alexander <sip:a@b>",
		"sip:a@b?Route=x", "<sip:a@b>;tag", "<sip:a@b>;expires=4294967296",
		"<sip:a@b>;q=1.5", "<sip:a@b>;q=0.1234", "<sip:a@b>;;", "<sip:a@b> junk", "",
		"\"name\" sip:a@b", "*",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct sw_hdr *h = with_header("To", bad[i]);
		struct sw_perr e;
		if (sw_addr_parse(&a, h->value, false, &e) != SW_EPARSE)
			fail_msg("'%s' should not parse", bad[i]);
		assert_non_null(e.what);
	}
}

static void test_contact_list(void **state)
{
	(void)state;
	with_header("Contact", "<sip:a@b>;q=0.5, \"x, y\" <sip:c@d;p=1,2>;expires=60 ,sip:e@f");
	struct sw_hdr_iter it;
	sw_str e;
	struct sw_addr a;
	int n = 0;
	const char *hosts[] = { "b", "d", "f" };
	sw_hdr_iter_init(&it, &M, SW_HDR_CONTACT);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		assert_true(n < 3);
		/* ',' inside <> and quotes does not split; p=1,2 then fails URI syntax */
		int rc = sw_addr_parse(&a, e, true, NULL);
		if (n == 1) {
			assert_int_equal(rc, SW_EPARSE);
		} else {
			assert_int_equal(rc, 0);
			assert_true(sw_str_eq(a.uri.host, hosts[n]));
		}
		n++;
	}
	assert_int_equal(n, 3);
}

static void test_cseq_callid_numbers(void **state)
{
	(void)state;
	struct sw_cseq c;
	struct sw_perr e;
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("2147483647 INVITE"), &e), 0);
	assert_int_equal(c.num, 2147483647u);
	assert_int_equal(c.method_id, SW_METHOD_INVITE);
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("2147483648 INVITE"), &e), SW_EPARSE);
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("1INVITE"), &e), SW_EPARSE);
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("1 INVITE x"), &e), SW_EPARSE);
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("INVITE"), &e), SW_EPARSE);
	assert_int_equal(sw_cseq_parse(&c, SW_STR_LIT("7 FOO"), &e), 0);
	assert_int_equal(c.method_id, SW_METHOD_OTHER);

	uint32_t v;
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT("0068"), 255, &e), 0);
	assert_int_equal(v, 68);
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT("256"), 255, &e), SW_EPARSE);
	assert_non_null(strstr(e.what, "range"));
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT("4294967295"), UINT32_MAX, &e), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT("4294967296"), UINT32_MAX, &e), SW_EPARSE);
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT("12a"), UINT32_MAX, &e), SW_EPARSE);
	assert_non_null(strstr(e.what, "decimal"));
	assert_int_equal(sw_uint_parse(&v, SW_STR_LIT(""), UINT32_MAX, &e), SW_EPARSE);

	with_header("Expires", "3600");
	assert_int_equal(sw_msg_expires(&M, &v, &e), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(sw_msg_min_expires(&M, &v, &e), SW_ENOTFOUND);
	with_header("Min-Expires", "60");
	assert_int_equal(sw_msg_min_expires(&M, &v, &e), 0);
	assert_int_equal(v, 60);
	with_header("Max-Forwards", "70");
	assert_int_equal(sw_msg_max_forwards(&M, &v, &e), 0);
	assert_int_equal(v, 70);
	assert_int_equal(sw_msg_retry_after(&M, &v, &e), SW_ENOTFOUND);
	with_header("Retry-After", "18000;duration=3600");  /* RFC 3261 §20.33 */
	assert_int_equal(sw_msg_retry_after(&M, &v, &e), 0);
	assert_int_equal(v, 18000);
	with_header("Retry-After", "120 (I'm in a meeting)");
	assert_int_equal(sw_msg_retry_after(&M, &v, &e), 0);
	assert_int_equal(v, 120);
	with_header("Retry-After", "soon");
	assert_int_equal(sw_msg_retry_after(&M, &v, &e), SW_EPARSE);

	sw_str id;
	with_header("X", "y");
	assert_int_equal(sw_msg_call_id(&M, &id, &e), 0);
	assert_true(sw_str_eq(id, "c"));
	with_header("i", "a@b@c");
	/* the message now has two Call-IDs; the accessor reads the first */
	assert_int_equal(sw_msg_call_id(&M, &id, &e), 0);
	assert_int_equal(sw_msg_check(&M, &e), SW_EPARSE); /* twice: only once allowed */
}

static void test_date(void **state)
{
	(void)state;
	assert_int_equal(sw_date_parse(SW_STR_LIT("Sat, 13 Nov 2010 23:29:00 GMT"), NULL), 0);
	assert_int_equal(sw_date_parse(SW_STR_LIT("Sat, 13 Nov 2010 23:29:00 EST"), NULL), SW_EPARSE);
	assert_int_equal(sw_date_parse(SW_STR_LIT("Xyz, 13 Nov 2010 23:29:00 GMT"), NULL), SW_EPARSE);
	assert_int_equal(sw_date_parse(SW_STR_LIT("Sat, 13 Foo 2010 23:29:00 GMT"), NULL), SW_EPARSE);
	assert_int_equal(sw_date_parse(SW_STR_LIT("Sat, 1 Nov 2010 23:29:00 GMT"), NULL), SW_EPARSE);
}

static void test_authorization(void **state)
{
	(void)state;
	const struct sw_hdr *h = with_header("Authorization",
		"Digest username=\"bob\", realm=\"biloxi.com\",\r\n nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
		"uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
		"response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", "
		"algorithm=MD5, x-extension=\"a \\\"b\\\"\"");
	struct sw_auth a;
	struct sw_perr e;
	assert_int_equal(sw_auth_parse(&a, h->value, &e), 0);
	assert_true(a.is_digest);
	assert_true(sw_str_eq(a.username, "bob"));
	assert_true(sw_str_eq(a.realm, "biloxi.com"));
	assert_true(sw_str_eq(a.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093"));
	assert_true(sw_str_eq(a.uri, "sip:bob@biloxi.com"));
	assert_true(sw_str_eq(a.qop, "auth"));
	assert_true(sw_str_eq(a.nc, "00000001"));
	assert_true(sw_str_eq(a.cnonce, "0a4f113b"));
	assert_true(sw_str_eq(a.response, "6629fae49393a05397450978507c4ef1"));
	assert_true(sw_str_eq(a.algorithm, "MD5"));
	assert_true(a.quoted_mask & SW_AUTH_P_USERNAME);
	assert_false(a.quoted_mask & SW_AUTH_P_QOP);
	assert_false(a.quoted_mask & SW_AUTH_P_NC);
	sw_str v;
	assert_true(sw_auth_param(&a, "X-Extension", &v));
	assert_true(sw_str_eq(v, "a \\\"b\\\""));
	char out[16];
	assert_int_equal(sw_str_unquote(v, out, sizeof(out)), 5);
	assert_memory_equal(out, "a \"b\"", 5);
	assert_true(sw_auth_param(&a, "nonce", &v));
	assert_false(sw_auth_param(&a, "stale", &v));
	assert_null(a.next.p);
}

static void test_challenges(void **state)
{
	(void)state;
	struct sw_auth a;
	struct sw_perr e;
	const struct sw_hdr *h = with_header("WWW-Authenticate",
		"Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\", "
		"nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=SHA-256, "
		"Digest realm=\"atlanta.com\", nonce=\"x\", algorithm=MD5");
	assert_int_equal(sw_auth_parse(&a, h->value, &e), 0);
	assert_true(sw_str_eq(a.qop, "auth,auth-int"));
	assert_true(sw_str_eq(a.opaque, ""));
	assert_non_null(a.opaque.p);
	assert_true(sw_str_eq(a.stale, "FALSE"));
	assert_true(sw_str_eq(a.algorithm, "SHA-256"));
	assert_non_null(a.next.p);
	struct sw_auth b;
	assert_int_equal(sw_auth_parse(&b, a.next, &e), 0);
	assert_true(sw_str_eq(b.algorithm, "MD5"));
	assert_true(sw_str_eq(b.nonce, "x"));
	assert_null(b.next.p);

	/* other schemes: auth-params or token68, kept whole */
	assert_int_equal(sw_auth_parse(&a, SW_STR_LIT("NoOneKnowsThisScheme opaque-data=here"), &e), 0);
	assert_false(a.is_digest);
	sw_str od;
	assert_true(sw_auth_param(&a, "opaque-data", &od));
	assert_true(sw_str_eq(od, "here"));
	assert_int_equal(sw_auth_parse(&a, SW_STR_LIT("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &e), 0);
	assert_true(sw_str_eq(a.params, "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
	assert_int_equal(sw_auth_parse(&a, SW_STR_LIT("Digest"), &e), 0);
	assert_int_equal(a.params.len, 0);

	static const char *const bad[] = {
		"", "Digest realm", "Digest realm=", "Digest realm=\"x", "Digest realm=\"a\" nonce=\"b\"",
		"Digest realm=\"a\",, nonce=\"b\"", "Digest nonce=\"a\", NONCE=\"b\"",
		"Digest x=1, x=2", "Digest realm=\"a\",", "Digestrealm=\"a\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sw_auth_parse(&a, sw_str_from(bad[i], strlen(bad[i])), &e) != SW_EPARSE)
			fail_msg("'%s' should not parse", bad[i]);
}

static void test_params(void **state)
{
	(void)state;
	sw_str rest = SW_STR_LIT(" ; a = 1 ;b; c=\"q;v\" ;d=[::1]"), n, v;
	assert_int_equal(sw_param_next(&rest, &n, &v), 1);
	assert_true(sw_str_eq(n, "a"));
	assert_true(sw_str_eq(v, "1"));
	assert_int_equal(sw_param_next(&rest, &n, &v), 1);
	assert_true(sw_str_eq(n, "b"));
	assert_null(v.p);
	assert_int_equal(sw_param_next(&rest, &n, &v), 1);
	assert_true(sw_str_eq(v, "\"q;v\""));
	assert_int_equal(sw_param_next(&rest, &n, &v), 1);
	assert_true(sw_str_eq(v, "[::1]"));
	assert_int_equal(sw_param_next(&rest, &n, &v), 0);
	rest = SW_STR_LIT(";a;;b");
	assert_int_equal(sw_param_next(&rest, &n, &v), 1);
	assert_int_equal(sw_param_next(&rest, &n, &v), SW_EPARSE);
	rest = SW_STR_LIT("x");
	assert_int_equal(sw_param_next(&rest, &n, &v), SW_EPARSE);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(sw_hdr_lookup("WWW-AUTHENTICATE", 16), SW_HDR_WWW_AUTHENTICATE);
	assert_int_equal(sw_hdr_lookup("v", 1), SW_HDR_VIA);
	assert_int_equal(sw_hdr_lookup("V", 1), SW_HDR_VIA);
	assert_int_equal(sw_hdr_lookup("q", 1), SW_HDR_OTHER);
	assert_int_equal(sw_hdr_lookup("Vias", 4), SW_HDR_OTHER);
	assert_string_equal(sw_hdr_name(SW_HDR_CALL_ID), "Call-ID");
	/* every known name, in any case, finds its id; one letter off does not */
	for (int id = SW_HDR_OTHER + 1; id < SW_HDR__COUNT; id++) {
		const char *n = sw_hdr_name((enum sw_hdr_id)id);
		char up[64], low[64], off[64];
		size_t len = strlen(n);
		for (size_t i = 0; i <= len; i++) {
			up[i] = (char)toupper((unsigned char)n[i]);
			low[i] = (char)tolower((unsigned char)n[i]);
			off[i] = n[i];
		}
		off[len - 1] = off[len - 1] == 'x' ? 'y' : 'x';
		assert_int_equal(sw_hdr_lookup(n, len), id);
		assert_int_equal(sw_hdr_lookup(up, len), id);
		assert_int_equal(sw_hdr_lookup(low, len), id);
		assert_int_equal(sw_hdr_lookup(off, len), SW_HDR_OTHER);
	}
	assert_null(sw_hdr_name(SW_HDR_OTHER));
	assert_int_equal(sw_method_lookup("REGISTER", 8), SW_METHOD_REGISTER);
	assert_int_equal(sw_method_lookup("register", 8), SW_METHOD_OTHER); /* case-sensitive */
	assert_string_equal(sw_reason_phrase(423), "Interval Too Brief");
	assert_string_equal(sw_reason_phrase(499), "Client Error");
}

/* The accessors' memo: a second call gives the same answer without
 * parsing, a new parse into the same struct forgets the old message, and
 * a failure is not remembered (its err is filled every time). */
static void test_memo(void **state)
{
	(void)state;
	static const char a[] = "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKa,"
				"SIP/2.0/TCP x\r\nFrom: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\n"
				"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
	static const char b[] = "INVITE sip:carol@c.example SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKb\r\n"
				"From: <sip:dave@d.example>;tag=2\r\nTo: \"Carol\" <sip:carol@c.example>;tag=3\r\n"
				"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
	static const char bad[] = "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"
				  "From: sip:alice@a.example;tag=1\r\nTo: <sip:bob@b.example\r\n"
				  "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
	struct sw_msg *m = test_malloc(sizeof(*m));
	struct sw_via v;
	struct sw_addr f, t;
	struct sw_uri u;
	assert_int_equal(sw_msg_parse(m, a, sizeof(a) - 1, NULL, NULL), 0);
	assert_int_equal(sw_msg_check(m, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sw_msg_top_via(m, &v, NULL), 0);
		assert_int_equal(v.port, 5062);
		assert_true(sw_str_eq(v.branch, "z9hG4bKa"));
		assert_int_equal(sw_msg_from(m, &f, NULL), 0);
		assert_true(sw_str_eq(f.uri.user, "alice") && sw_str_eq(f.tag, "1"));
		assert_int_equal(sw_msg_to(m, &t, NULL), 0);
		assert_true(sw_str_eq(t.uri.user, "bob") && !t.tag.p);
		assert_int_equal(sw_msg_ruri(m, &u, NULL), 0);
		assert_true(sw_str_eq(u.host, "b.example"));
	}
	assert_int_equal(sw_msg_parse(m, b, sizeof(b) - 1, NULL, NULL), 0);
	assert_int_equal(sw_msg_top_via(m, &v, NULL), 0);
	assert_true(sw_str_eq(v.branch, "z9hG4bKb") && v.port == -1);
	assert_int_equal(sw_msg_from(m, &f, NULL), 0);
	assert_true(sw_str_eq(f.uri.user, "dave"));
	assert_int_equal(sw_msg_to(m, &t, NULL), 0);
	assert_true(sw_str_eq(t.tag, "3") && sw_str_eq(t.display, "\"Carol\""));
	assert_int_equal(sw_msg_ruri(m, &u, NULL), 0);
	assert_true(sw_str_eq(u.user, "carol"));
	assert_int_equal(sw_msg_parse(m, bad, sizeof(bad) - 1, NULL, NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct sw_perr err;
		memset(&err, 0, sizeof(err));
		assert_int_not_equal(sw_msg_to(m, &t, &err), 0);
		assert_non_null(err.what);
		assert_int_equal(err.line, 4);
		assert_int_not_equal(sw_msg_check(m, &err), 0);
		assert_int_equal(err.status, 400);
	}
	static const char au[] = "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"
				 "From: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\nCall-ID: c\r\n"
				 "CSeq: 1 INVITE\r\nProxy-Authorization: Digest username=\"alice\", realm=\"a\"\r\n"
				 "Proxy-Authorization: Digest username=\"carol\", realm=\"c\"\r\n\r\n";
	assert_int_equal(sw_msg_parse(m, au, sizeof(au) - 1, NULL, NULL), 0);
	assert_int_equal(sw_msg_check(m, NULL), 0);
	const struct sw_hdr *h1 = sw_msg_hdr(m, SW_HDR_PROXY_AUTHORIZATION), *h2 = sw_msg_hdr_next(m, h1);
	for (int i = 0; i < 2; i++) {
		struct sw_auth x;
		assert_int_equal(sw_msg_auth(m, h1, &x, NULL), 0);
		assert_true(sw_str_eq(x.username, "alice") && sw_str_eq(x.realm, "a"));
		assert_int_equal(sw_msg_auth(m, h2, &x, NULL), 0); /* the second: parsed, not the memo's */
		assert_true(sw_str_eq(x.username, "carol") && sw_str_eq(x.realm, "c"));
	}
	test_free(m);
}

/* A relayed response's Contact and Record-Route pass unread; a request's
 * are checked; a response's Via and CSeq still are. */
static void test_check_relay(void **state)
{
	(void)state;
	static const char resp[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"
				   "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
				   "Record-Route: sip:p1;lr\r\nContact: <sip:b@10.0.0.2\r\n\r\n";
	static const char req[] = "BYE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\n"
				  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n"
				  "Route: sip:p1;lr\r\n\r\n";
	static const char badvia[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP\r\n"
				     "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
	struct sw_msg *m = test_malloc(sizeof(*m));
	struct sw_perr err;
	assert_int_equal(sw_msg_parse(m, resp, sizeof(resp) - 1, NULL, NULL), 0);
	assert_int_not_equal(sw_msg_check(m, &err), 0);
	assert_int_equal(sw_msg_check_relay(m, &err), 0);
	assert_int_equal(sw_msg_parse(m, req, sizeof(req) - 1, NULL, NULL), 0);
	assert_int_not_equal(sw_msg_check(m, &err), 0);
	assert_int_not_equal(sw_msg_check_relay(m, &err), 0);
	assert_int_equal(err.status, 400);
	assert_int_equal(sw_msg_parse(m, badvia, sizeof(badvia) - 1, NULL, NULL), 0);
	assert_int_not_equal(sw_msg_check_relay(m, &err), 0);
	test_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_check_relay),
		cmocka_unit_test(test_name_addr),
		cmocka_unit_test(test_contact_list),
		cmocka_unit_test(test_cseq_callid_numbers),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_challenges),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_names),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	sw_test_guard_release();
	return rc;
}
