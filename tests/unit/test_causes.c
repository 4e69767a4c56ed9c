/* The causes table: complete, consistent, stable ids; text and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/causes.h"

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

/* Every id of ../shared/DESIGN.md's table, which may never change. */
static const char *const design_ids[] = {
	"ok", "no-credentials", "challenge-not-answered", "wrong-password",
	"credentials-rejected", "unknown-user", "auth-user-mismatch", "username-has-domain",
	"realm-mismatch", "uri-mismatch", "stale-nonce", "nonce-invalid", "nonce-replay",
	"algorithm-unsupported", "algorithm-mismatch", "qop-invalid", "malformed-authorization",
	"account-disabled", "source-banned", "domain-unknown", "expires-too-brief",
	"too-many-contacts", "no-response", "udp-blocked-tcp-ok", "tls-failed", "dns-failed",
	"response-lost-nat", "nat-detected", "sip-alg-suspected", "udp-fragmentation",
	"retry-other-server", "refused-after-valid-digest", "stale-without-flag",
};

static bool kebab(const char *s)
{
	if (!*s || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') ||
		    (*p == '-' && (p[1] == '-' || p[1] == '\0')))
			return false;
	return true;
}

static void test_table_complete(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SW_CAUSE__COUNT; i++) {
		const struct sw_cause_info *ci = sw_cause_get((enum sw_cause)i);
		assert_non_null(ci);
		assert_int_equal(ci->cause, i);
		assert_true(kebab(ci->id));
		assert_true(ci->observers != 0);
		assert_true((ci->observers & ~7u) == 0);
		assert_true(strlen(ci->explain) > 20);
		assert_null(strchr(ci->explain, '\n'));   /* one line */
		assert_true(strlen(ci->fix) > 5);
		assert_true((unsigned)ci->fix_class < SW_FIX__COUNT);
		assert_true(ci->severity <= SW_SEV_ERROR);
		/* only outcomes that need no action have no classic fix */
		if (ci->fix_class == SW_FIX_NONE)
			assert_true(i == SW_CAUSE_OK || i == SW_CAUSE_NO_CREDENTIALS || i == SW_CAUSE_REQUEST_CANCELLED ||
				    i == SW_CAUSE_CALLEE_NO_ANSWER || i == SW_CAUSE_SERVER_OVERLOADED ||
				    i == SW_CAUSE_CALLEE_BUSY || i == SW_CAUSE_CALLEE_DECLINED);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(ci->id, sw_cause_get((enum sw_cause)j)->id);
		enum sw_cause c;
		assert_int_equal(sw_cause_find(S(ci->id), &c), 0);
		assert_int_equal(c, i);
		assert_string_equal(sw_cause_id((enum sw_cause)i), ci->id);
	}
	for (size_t i = 0; i < sizeof(design_ids) / sizeof(design_ids[0]); i++) {
		enum sw_cause c;
		print_message("%s\n", design_ids[i]);
		assert_int_equal(sw_cause_find(S(design_ids[i]), &c), 0);
	}
	assert_null(sw_cause_get(SW_CAUSE__COUNT));
	assert_string_equal(sw_cause_id(SW_CAUSE__COUNT), "unknown");
	enum sw_cause c = SW_CAUSE_OK;
	assert_int_equal(sw_cause_find(S("Wrong-Password"), &c), SW_ENOTFOUND);
	assert_int_equal(sw_cause_find(S("wrong-passwor"), &c), SW_ENOTFOUND);
	assert_int_equal(sw_cause_find(SW_STR_NULL, &c), SW_ENOTFOUND);
	/* every fix class but "none" is used */
	for (unsigned f = 1; f < SW_FIX__COUNT; f++) {
		bool used = false;
		for (unsigned i = 0; i < SW_CAUSE__COUNT; i++)
			used |= sw_cause_get((enum sw_cause)i)->fix_class == f;
		assert_true(used);
	}
}

static void test_fix_classes(void **state)
{
	(void)state;
	assert_string_equal(sw_fix_class_id(SW_FIX_VERIFY_CREDENTIALS), "verify-credentials");
	assert_string_equal(sw_fix_class_id(SW_FIX_REFRESH_CREDENTIALS), "refresh-credentials");
	assert_string_equal(sw_fix_class_id(SW_FIX_CHECK_NETWORK), "check-network");
	assert_string_equal(sw_fix_class_id(SW_FIX_REGISTRATION_INTERVAL), "fix-registration-interval");
	assert_string_equal(sw_fix_class_id(SW_FIX_ASK_PROVIDER), "ask-provider");
	assert_string_equal(sw_fix_class_title(SW_FIX_CHECK_NETWORK), "Check the network");
	assert_string_equal(sw_severity_name(SW_SEV_WARNING), "warning");
}

static void test_render(void **state)
{
	(void)state;
	char mem[512];
	struct sw_buf b;
	const struct sw_cause_info *ci = sw_cause_get(SW_CAUSE_REALM_MISMATCH);
	sw_buf_init(&b, mem, sizeof(mem));
	sw_cause_render_text(&b, ci);
	const char *t = sw_buf_cstr(&b);
	assert_int_equal(sw_buf_status(&b), 0);
	assert_non_null(strstr(t, "realm-mismatch (error)\n"));
	assert_non_null(strstr(t, "seen by: server, analyzer\n"));
	assert_non_null(strstr(t, "fix:     Verify credentials: Clear the hard-coded realm"));

	sw_buf_init(&b, mem, sizeof(mem));
	sw_cause_render_json(&b, sw_cause_get(SW_CAUSE_UDP_BLOCKED_TCP_OK));
	t = sw_buf_cstr(&b);
	assert_int_equal(sw_buf_status(&b), 0);
	assert_non_null(strstr(t, "{\"id\":\"udp-blocked-tcp-ok\",\"severity\":\"error\",\"observers\":[\"doctor\"],"));
	assert_non_null(strstr(t, "\"fix_class\":\"check-network\",\"fix_class_title\":\"Check the network\",\"fix\":\"Open UDP port 5060"));
	assert_int_equal(t[strlen(t) - 1], '}');

	/* the whole table; truncation is reported, not silent */
	static char big[32768];
	sw_buf_init(&b, big, sizeof(big));
	sw_causes_render_json(&b);
	t = sw_buf_cstr(&b);
	assert_int_equal(sw_buf_status(&b), 0);
	assert_int_equal(t[0], '[');
	assert_int_equal(t[strlen(t) - 1], ']');
	size_t n = 0;
	for (const char *p = t; (p = strstr(p, "{\"id\":")); p++)
		n++;
	assert_int_equal(n, SW_CAUSE__COUNT);
	sw_buf_init(&b, mem, 100);
	sw_causes_render_json(&b);
	assert_int_equal(sw_buf_status(&b), SW_ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_fix_classes),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests_name("causes", tests, NULL, NULL);
}
