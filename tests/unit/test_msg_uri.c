/* URIs: sip/sips/tel/other schemes, escapes, IPv6, comparison. Each parse
 * also runs on a copy that ends at a guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"

/* sw_uri_parse on a guard-page copy (a message wrapper is not needed: the
 * helper's parse is only for whole messages, so map the text by hand). */
static int uri(struct sw_uri *u, const char *s)
{
	/* parse twice: from the caller's memory and from a guarded copy */
	struct sw_uri u2;
	int rc = sw_uri_parse(u, sw_str_from(s, strlen(s)), NULL);
	struct sw_msg m;
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "OPTIONS %s SIP/2.0\r\n\r\n", s);
	if (n > 0 && (size_t)n < sizeof(msg) && !strchr(s, ' ') &&
	    sw_test_parse_guarded(msg, (size_t)n, NULL, &m, NULL) == 0) {
		int rc2 = sw_uri_parse(&u2, m.ruri, NULL);
		assert_int_equal(rc, rc2);
	}
	return rc;
}

static void test_sip_uri_parts(void **state)
{
	(void)state;
	struct sw_uri u;
	assert_int_equal(uri(&u, "sip:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent"), 0);
	assert_int_equal(u.scheme, SW_URI_SIP);
	assert_true(sw_str_eq(u.user, "alice"));
	assert_true(sw_str_eq(u.password, "secret"));
	assert_true(sw_str_eq(u.host, "atlanta.com"));
	assert_int_equal(u.port, 5061);
	assert_true(sw_str_eq(u.params, ";transport=tcp;lr"));
	assert_true(sw_str_eq(u.headers, "subject=project%20x&priority=urgent"));
	sw_str v;
	assert_true(sw_param_get(u.params, "TRANSPORT", &v));
	assert_true(sw_str_eq(v, "tcp"));
	assert_true(sw_param_get(u.params, "lr", &v));
	assert_null(v.p);

	assert_int_equal(uri(&u, "SIPS:example.com"), 0);
	assert_int_equal(u.scheme, SW_URI_SIPS);
	assert_null(u.user.p);
	assert_int_equal(u.port, -1);

	/* ;params in the user part belong to the user (RFC 4475 §3.1.1.9) */
	assert_int_equal(uri(&u, "sip:user;par=u%40example.net@example.com"), 0);
	assert_true(sw_str_eq(u.user, "user;par=u%40example.net"));
	assert_true(sw_str_eq(u.host, "example.com"));
	assert_int_equal(u.params.len, 0);

	assert_int_equal(uri(&u, "sip:+1-212-555-1212:1234@gateway.com;user=phone"), 0);
	assert_true(sw_str_eq(u.user, "+1-212-555-1212"));
	assert_true(sw_str_eq(u.password, "1234"));
}

static void test_ipv6(void **state)
{
	(void)state;
	struct sw_uri u;
	assert_int_equal(uri(&u, "sip:[2001:db8::10]:5070"), 0);
	assert_true(u.host_ipv6);
	assert_true(sw_str_eq(u.host, "[2001:db8::10]"));
	assert_int_equal(u.port, 5070);
	assert_int_equal(uri(&u, "sip:[2001:db8::10:5070]"), 0); /* RFC 5118 §4.3: no port */
	assert_int_equal(u.port, -1);
	assert_int_equal(uri(&u, "sip:user@[::ffff:192.0.2.10]:19823"), 0);
	assert_int_equal(uri(&u, "sip:[2001:db8:::192.0.2.1]"), 0); /* RFC 5118 §4.10 tolerated */
	assert_int_equal(uri(&u, "sip:2001:db8::10"), SW_EPARSE);  /* RFC 5118 §4.2 */
	assert_int_equal(uri(&u, "sip:[2001:db8::10"), SW_EPARSE);
	assert_int_equal(uri(&u, "sip:[zz::1]"), SW_EPARSE);
	assert_int_equal(uri(&u, "sip:[]"), SW_EPARSE);
}

static void test_escapes(void **state)
{
	(void)state;
	struct sw_uri u;
	char out[64];
	assert_int_equal(uri(&u, "sip:sips%3Auser%40example.com@example.net"), 0);
	int n = sw_uri_unescape(u.user, out, sizeof(out));
	assert_int_equal(n, 21);
	assert_memory_equal(out, "sips:user@example.com", 21);
	assert_int_equal(uri(&u, "sip:%00null@example.com"), 0);
	n = sw_uri_unescape(u.user, out, sizeof(out));
	assert_int_equal(n, 5);
	assert_int_equal(out[0], '\0'); /* an escaped NUL stays a byte, not an end */
	assert_int_equal(uri(&u, "sip:bad%4@example.com"), SW_EPARSE);
	assert_int_equal(uri(&u, "sip:bad%zz@example.com"), SW_EPARSE);
	assert_int_equal(sw_uri_unescape(SW_STR_LIT("ab%4"), out, sizeof(out)), SW_EPARSE);
	assert_int_equal(sw_uri_unescape(SW_STR_LIT("abcdef"), out, 3), SW_ENOSPC);
}

static void test_other_schemes(void **state)
{
	(void)state;
	struct sw_uri u;
	assert_int_equal(uri(&u, "tel:+1-201-555-0123;phone-context=example.com"), 0);
	assert_int_equal(u.scheme, SW_URI_TEL);
	assert_true(sw_str_eq(u.user, "+1-201-555-0123"));
	assert_true(sw_param_get(u.params, "phone-context", NULL));
	assert_int_equal(uri(&u, "tel:"), SW_EPARSE);
	assert_int_equal(uri(&u, "nobodyKnowsThisScheme:totallyopaquecontent"), 0);
	assert_int_equal(u.scheme, SW_URI_OTHER);
	assert_true(sw_str_eq(u.scheme_str, "nobodyKnowsThisScheme"));
	assert_true(sw_str_eq(u.opaque, "totallyopaquecontent"));
	assert_int_equal(uri(&u, "soap.beep://192.0.2.103:3002"), 0);
	assert_int_equal(uri(&u, "http://www.example.com"), 0);
	assert_int_equal(uri(&u, "<sip:a@b>"), SW_EPARSE);
	assert_int_equal(uri(&u, "sip"), SW_EPARSE);
	assert_int_equal(uri(&u, "1sip:a@b"), SW_EPARSE);
	assert_int_equal(uri(&u, ""), SW_EPARSE);
}

static void test_bad_sip_uris(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"sip:@example.com", "sip:a@", "sip:a@b:99999", "sip:a@b:", "sip:a@b;", "sip:a@b;=x",
		"sip:a@b;x=", "sip:a@b?", "sip:a@b?x", "sip:a b@c", "sip:a@b c", "sip:a@b>",
		"sip:a\"@b", "sip:a@b..c", "sip:a@.b", "sip:a@b;user=x;USER=y", "sip:a@b;lr;l%72",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sw_uri u;
		struct sw_perr e;
		if (sw_uri_parse(&u, sw_str_from(bad[i], strlen(bad[i])), &e) != SW_EPARSE)
			fail_msg("'%s' should not parse", bad[i]);
		assert_non_null(e.what);
		assert_int_equal(e.status, 400);
	}
}

static bool eq(const char *a, const char *b)
{
	struct sw_uri ua, ub;
	assert_int_equal(sw_uri_parse(&ua, sw_str_from(a, strlen(a)), NULL), 0);
	assert_int_equal(sw_uri_parse(&ub, sw_str_from(b, strlen(b)), NULL), 0);
	bool r = sw_uri_equal(&ua, &ub);
	assert_int_equal(r, sw_uri_equal(&ub, &ua)); /* symmetric */
	return r;
}

/* The examples of RFC 3261 §19.1.4. */
static void test_equal_rfc3261(void **state)
{
	(void)state;
	assert_true(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

	assert_false(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	assert_false(eq("sip:a@b", "sips:a@b"));
	assert_false(eq("sip:a@b", "sip:a:pw@b"));
	assert_true(eq("tel:+1-201-555-0123", "tel:+1-201-555-0123"));
	assert_false(eq("tel:+1-201-555-0123", "sip:+1-201-555-0123@b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_uri_parts),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_other_schemes),
		cmocka_unit_test(test_bad_sip_uris),
		cmocka_unit_test(test_equal_rfc3261),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	sw_test_guard_release();
	return rc;
}
