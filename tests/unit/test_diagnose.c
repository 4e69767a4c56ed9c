/* Offline diagnosis: each known client mistake is named, and the answer is
 * "right" only when it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"

static sw_str S(const char *s) { return s ? sw_str_from(s, strlen(s)) : SW_STR_NULL; }

/* How the phone computed its response. */
struct phone {
	const char *user, *realm, *uri, *alg, *qop_hashed;
	enum sw_qop qop;
	bool no_qop;
};

/* What it sent. */
struct sent {
	const char *user, *realm, *uri, *alg, *qop;
};

static void diagnose(const struct phone *ph, const struct sent *se, const char *password,
		     const char *ha1_given, struct sw_diagnosis *d, int want_err)
{
	enum sw_digest_alg alg;
	assert_int_equal(sw_digest_alg_parse(S(ph->alg), &alg), 0);
	char ha1[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_ha1(NULL, sw_digest_alg_hash(alg), S(ph->user), S(ph->realm),
				       S("pw"), ha1), 0);
	struct sw_digest_params p = {
		.alg = alg, .ha1 = S(ha1), .nonce = S("NONCE"), .cnonce = S("cn"), .nc = S("00000001"),
		.qop = ph->no_qop ? SW_QOP_NONE : ph->qop, .qop_str = S(ph->qop_hashed),
		.method = S("REGISTER"), .uri = S(ph->uri),
	};
	struct sw_digest_result r;
	assert_int_equal(sw_digest_response(NULL, &p, &r), 0);
	char hdr[1024];
	snprintf(hdr, sizeof(hdr), "Digest username=\"%s\", realm=\"%s\", nonce=\"NONCE\", uri=\"%s\", "
		 "response=\"%s\", cnonce=\"cn\", nc=00000001%s%s%s%s%s", se->user, se->realm, se->uri,
		 r.response, se->alg ? ", algorithm=" : "", se->alg ? se->alg : "",
		 se->qop ? ", qop=\"" : "", se->qop ? se->qop : "", se->qop ? "\"" : "");
	struct sw_auth a;
	assert_int_equal(sw_auth_parse(&a, S(hdr), NULL), 0);
	struct sw_diagnose_in in = {
		.auth = &a, .method = S("REGISTER"), .ruri = S("sip:pbx.example.com"),
		.password = S(password), .ha1 = S(ha1_given), .to_host = S("example.com"),
		.from_host = S("example.com"), .challenge_realm = S("voip"),
	};
	assert_int_equal(sw_digest_diagnose(NULL, &in, d), want_err);
	if (!want_err)
		print_message("  %s: %s (%u tried)\n", sw_mistake_id(d->mistake), d->what, d->tried);
}

#define SENT { "alice", "voip", "sip:pbx.example.com", "MD5", "auth" }

static void check(struct phone ph, struct sent se, enum sw_mistake m, enum sw_cause c,
		  const char *phrase)
{
	struct sw_diagnosis d;
	diagnose(&ph, &se, "pw", NULL, &d, 0);
	assert_int_equal(d.mistake, m);
	assert_int_equal(d.cause, c);
	assert_int_equal(d.match, m == SW_MISTAKE_NONE);
	if (phrase && !strstr(d.what, phrase))
		fail_msg("'%s' not in '%s'", phrase, d.what);
}

static void test_each_mistake(void **state)
{
	(void)state;
	struct sent se = SENT;
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_NONE, SW_CAUSE_OK, "right");
	check((struct phone){ "alice", "asterisk", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH, "the phone hashed realm 'asterisk'");
	check((struct phone){ "alice", "example.com", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH, "realm 'example.com'");
	check((struct phone){ "alice", "", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH, "realm ''");
	check((struct phone){ "alice", "pbx.example.com", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH, "realm 'pbx.example.com'");
	/* the challenge realm, when the phone sent another */
	struct sent se2 = { "alice", "hardcoded", "sip:pbx.example.com", "MD5", "auth" };
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se2, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH, "realm 'voip', not the realm 'hardcoded'");
	struct sent se3 = { "alice", "voip", "sip:10.0.0.1", "MD5", "auth" };
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se3, SW_MISTAKE_URI, SW_CAUSE_URI_MISMATCH, "Request-URI 'sip:pbx.example.com'");
	check((struct phone){ "alice@example.com", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_USERNAME_DOMAIN, SW_CAUSE_USERNAME_HAS_DOMAIN, "username 'alice@example.com' but sent 'alice'");
	struct sent se4 = { "alice@example.com", "voip", "sip:pbx.example.com", "MD5", "auth" };
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se4, SW_MISTAKE_USERNAME_DOMAIN, SW_CAUSE_USERNAME_HAS_DOMAIN, "username 'alice' but sent 'alice@example.com'");
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", "auth,auth-int", SW_QOP_AUTH, false },
	      se, SW_MISTAKE_QOP_LIST, SW_CAUSE_QOP_INVALID, "qop list 'auth,auth-int'");
	struct sent se5 = { "alice", "voip", "sip:pbx.example.com", "MD5", "auth,auth-int" };
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se5, SW_MISTAKE_QOP_TOKEN, SW_CAUSE_QOP_INVALID, "hashed the token 'auth'");
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, true },
	      se, SW_MISTAKE_NO_QOP, SW_CAUSE_QOP_INVALID, "without qop");
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "SHA-256", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_ALGORITHM, SW_CAUSE_ALGORITHM_MISMATCH, "hashed with SHA-256 but declared algorithm=MD5");
	check((struct phone){ "alice", "voip", "sip:pbx.example.com", "MD5-sess", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_ALGORITHM, SW_CAUSE_ALGORITHM_MISMATCH, "MD5-sess");
	/* several things wrong at once: nothing single explains it */
	check((struct phone){ "bob", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false },
	      se, SW_MISTAKE_UNKNOWN, SW_CAUSE_WRONG_PASSWORD, "password differs");
}

static void test_password_and_ha1(void **state)
{
	(void)state;
	struct sent se = SENT;
	struct phone ok = { "alice", "voip", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false };
	struct sw_diagnosis d;
	diagnose(&ok, &se, "wrong", NULL, &d, 0);
	assert_false(d.match);
	assert_int_equal(d.mistake, SW_MISTAKE_UNKNOWN);
	assert_true(d.tried >= 10);
	/* with the HA1 instead of a password */
	char ha1[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_ha1(NULL, SW_HASH_MD5, S("alice"), S("voip"), S("pw"), ha1), 0);
	diagnose(&ok, &se, NULL, ha1, &d, 0);
	assert_true(d.match);
	assert_string_equal(d.ha1, ha1);
	/* HA1 cannot reproduce realm variants: reported as unknown */
	struct phone realm = { "alice", "asterisk", "sip:pbx.example.com", "MD5", NULL, SW_QOP_AUTH, false };
	diagnose(&realm, &se, NULL, ha1, &d, 0);
	assert_int_equal(d.mistake, SW_MISTAKE_UNKNOWN);
	assert_non_null(strstr(d.what, "HA1"));
	/* but can the uri mistake */
	struct sent se3 = { "alice", "voip", "sip:10.0.0.1", "MD5", "auth" };
	diagnose(&ok, &se3, NULL, ha1, &d, 0);
	assert_int_equal(d.mistake, SW_MISTAKE_URI);
	/* bad inputs */
	diagnose(&ok, &se, NULL, "abc", &d, SW_EINVAL);
	struct sent bad = { "alice", "voip", "sip:pbx.example.com", "SHA-1", "auth" };
	diagnose(&ok, &bad, "pw", NULL, &d, SW_EPARSE);
	struct sw_diagnose_in none = { 0 };
	assert_int_equal(sw_digest_diagnose(NULL, &none, &d), SW_EINVAL);
	assert_string_equal(sw_mistake_id(SW_MISTAKE_QOP_LIST), "qop-list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_mistake),
		cmocka_unit_test(test_password_and_ha1),
	};
	return cmocka_run_group_tests_name("diagnose", tests, NULL, NULL);
}
