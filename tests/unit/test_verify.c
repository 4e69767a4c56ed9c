/* The verifier: every cause it can return, produced by a crafted request;
 * stale nonces and stale=true; replays vs retransmissions; one-time nonces;
 * unknown user vs wrong password on the wire; challenge building. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"

#define T0 1700000000ull
#define REALM "example.com"

static sw_str S(const char *s) { return s ? sw_str_from(s, strlen(s)) : SW_STR_NULL; }

/* ---- credentials ---------------------------------------------------- */

static const struct { const char *user, *pass; } users[] = {
	{ "alice", "s3cret" }, { "bob", "hunter2" }, { "j\"q", "pw" },
};
static int lookups, store_fail;

static int get_ha1(void *arg, sw_str username, bool is_userhash, sw_str realm,
		   enum sw_digest_hash h, char *ha1)
{
	(void)arg;
	lookups++;
	if (store_fail)
		return SW_EIO;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		sw_str u = S(users[i].user);
		if (is_userhash) {
			char uh[SW_DIGEST_HEX_MAX + 1];
			assert_int_equal(sw_digest_userhash(NULL, h, u, realm, uh), 0);
			if (!sw_str_eq(username, uh))
				continue;
		} else if (!sw_str_eq_str(username, u)) {
			continue;
		}
		return sw_digest_ha1(NULL, h, u, realm, S(users[i].pass), ha1);
	}
	return SW_ENOTFOUND;
}

static const struct sw_cred_source creds = { get_ha1, NULL };

/* ---- fixture -------------------------------------------------------- */

struct built;
static struct built *last;

struct fx {
	struct sw_secret secret;
	struct sw_nc_tracker nc;
	struct sw_verifier *v;
	struct sw_auth_cfg cfg;
};

static struct fx *fx_new(void (*tweak)(struct sw_auth_cfg *))
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sw_secret_generate(&f->secret, T0), 0);
	assert_int_equal(sw_nc_memory_new(&f->nc, 0), 0);
	sw_auth_cfg_default(&f->cfg, REALM);
	if (tweak)
		tweak(&f->cfg);
	assert_int_equal(sw_verifier_new(&f->v, &f->cfg, &f->secret, &f->nc), 0);
	lookups = store_fail = 0;
	return f;
}

static void fx_free(struct fx *f)
{
	free(last);
	last = NULL;
	sw_verifier_free(f->v);
	sw_nc_tracker_destroy(&f->nc);
	free(f);
}

/* What a client answers; NULL fields are left out of the header. */
struct answer {
	const char *user;            /* sent username */
	const char *hash_user;       /* hashed username (default: user) */
	const char *pass;
	const char *realm;           /* sent realm (default REALM) */
	const char *hash_realm;      /* hashed realm (default: realm) */
	const char *uri;             /* digest uri (default: ruri) */
	const char *ruri;            /* Request-URI (default sip:example.com) */
	const char *alg;             /* algorithm= (NULL: absent) */
	const char *hash_alg;        /* algorithm hashed with (default alg or MD5) */
	const char *qop, *nc, *cnonce;
	const char *nonce;           /* default: minted for hash_alg at T0 */
	const char *response;        /* override the computed response */
	const char *branch;
	const char *body;
	const char *userhash;        /* userhash= value */
	const char *raw_auth;        /* whole header value, overrides everything */
	bool no_auth, proxy;
	uint64_t minted;             /* nonce issue time (default T0) */
};

struct built {
	char text[4096];
	struct sw_msg msg;
	char nonce[SW_NONCE_LEN + 1];
};

static struct built *build(struct fx *f, struct sw_nonce_ctx *nctx, const struct answer *a)
{
	struct built *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	const char *ruri = a->ruri ? a->ruri : "sip:example.com";
	const char *uri = a->uri ? a->uri : ruri;
	const char *realm = a->realm ? a->realm : REALM;
	const char *hash_realm = a->hash_realm ? a->hash_realm : realm;
	const char *hash_user = a->hash_user ? a->hash_user : a->user;
	const char *hash_alg = a->hash_alg ? a->hash_alg : (a->alg ? a->alg : "MD5");
	const char *body = a->body ? a->body : "";
	enum sw_digest_alg halg, nalg;
	assert_int_equal(sw_digest_alg_parse(S(hash_alg), &halg), 0);
	nalg = halg;
	if (a->alg && sw_digest_alg_parse(S(a->alg), &nalg))
		nalg = halg;
	const char *nonce = a->nonce;
	if (!nonce) {
		struct sw_nonce_ctx *own = NULL;
		if (!nctx) {
			assert_int_equal(sw_nonce_ctx_new(&own, &f->secret, f->cfg.nonce_lifetime, 10), 0);
			nctx = own;
		}
		assert_int_equal(sw_nonce_mint(nctx, a->minted ? a->minted : T0, halg, f->cfg.qop_mask,
					       b->nonce), 0);
		sw_nonce_ctx_free(own);
		nonce = b->nonce;
	}
	char resp[SW_DIGEST_HEX_MAX + 1] = "";
	if (a->response) {
		snprintf(resp, sizeof(resp), "%s", a->response);
	} else if (a->user && a->pass) {
		char ha1[SW_DIGEST_HEX_MAX + 1];
		assert_int_equal(sw_digest_ha1(NULL, sw_digest_alg_hash(halg), S(hash_user),
					       S(hash_realm), S(a->pass), ha1), 0);
		enum sw_qop q = SW_QOP_NONE;
		if (a->qop && sw_qop_parse(S(a->qop), &q))
			q = SW_QOP_AUTH;
		struct sw_digest_params p = {
			.alg = halg, .ha1 = S(ha1), .nonce = S(nonce), .cnonce = S(a->cnonce),
			.nc = S(a->nc), .qop = q, .method = S("REGISTER"), .uri = S(uri), .body = S(body),
		};
		if (a->qop && strchr(a->qop, ','))
			p.qop_str = S(a->qop);
		struct sw_digest_result r;
		assert_int_equal(sw_digest_response(NULL, &p, &r), 0);
		memcpy(resp, r.response, sizeof(resp));
	}
	char auth[2048];
	struct sw_buf ab;
	sw_buf_init(&ab, auth, sizeof(auth));
	if (a->raw_auth) {
		sw_buf_adds(&ab, a->raw_auth);
	} else {
		sw_buf_adds(&ab, "Digest ");
		if (a->user)
			sw_buf_addf(&ab, "username=\"%s\", ", a->user);
		sw_buf_addf(&ab, "realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"", realm, nonce,
			    uri, resp);
		if (a->alg)
			sw_buf_addf(&ab, ", algorithm=%s", a->alg);
		if (a->qop)
			sw_buf_addf(&ab, strchr(a->qop, ',') ? ", qop=\"%s\"" : ", qop=%s", a->qop);
		if (a->nc)
			sw_buf_addf(&ab, ", nc=%s", a->nc);
		if (a->cnonce)
			sw_buf_addf(&ab, ", cnonce=\"%s\"", a->cnonce);
		if (a->userhash)
			sw_buf_addf(&ab, ", userhash=%s", a->userhash);
	}
	struct sw_buf tb;
	sw_buf_init(&tb, b->text, sizeof(b->text));
	sw_buf_addf(&tb, "REGISTER %s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=%s\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"
			 "To: <sip:alice@example.com>\r\nCall-ID: call-1\r\nCSeq: 2 REGISTER\r\n"
			 "Contact: <sip:alice@192.0.2.10>\r\n",
		    ruri, a->branch ? a->branch : "z9hG4bK-1");
	if (!a->no_auth)
		sw_buf_addf(&tb, "%s: %s\r\n", a->proxy ? "Proxy-Authorization" : "Authorization",
			    sw_buf_cstr(&ab));
	sw_buf_addf(&tb, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	assert_int_equal(sw_buf_status(&tb), 0);
	struct sw_perr perr;
	int err = sw_msg_parse(&b->msg, b->text, tb.len, NULL, &perr);
	if (err)
		fail_msg("test request does not parse: %s", perr.what);
	return b;
}

static enum sw_cause run(struct fx *f, const struct answer *a, uint64_t now,
			 struct sw_verify_result *res)
{
	/* res->username points into the request: keep the last one alive */
	free(last);
	last = build(f, NULL, a);
	enum sw_cause c = sw_auth_verify(f->v, &last->msg, now, &creds, res);
	assert_int_equal(res->cause, c);
	assert_non_null(res->detail);
	print_message("  -> %s (%s)\n", sw_cause_id(c), res->detail);
	return c;
}

/* GOOD(.field = x) overrides the defaults of a right answer on purpose. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define GOOD(...) ((struct answer){ .user = "alice", .pass = "s3cret", .qop = "auth", \
				    .nc = "00000001", .cnonce = "c0ffee", __VA_ARGS__ })

static void expect(struct fx *f, struct answer a, uint64_t now, enum sw_cause want)
{
	struct sw_verify_result res;
	enum sw_cause got = run(f, &a, now, &res);
	if (got != want)
		fail_msg("got %s, wanted %s (%s)", sw_cause_id(got), sw_cause_id(want), res.detail);
}

/* ---- tests ---------------------------------------------------------- */

static void test_ok_and_no_credentials(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_verify_result res;
	struct answer a = GOOD(.no_auth = true);
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_NO_CREDENTIALS);
	assert_int_equal(res.status, 401);
	assert_false(res.stale);
	a = GOOD();
	assert_int_equal(run(f, &a, T0 + 1, &res), SW_CAUSE_OK);
	assert_int_equal(res.status, 200);
	assert_true(sw_str_eq(res.username, "alice"));
	a = GOOD(.alg = "SHA-256", .branch = "z9hG4bK-2");
	assert_int_equal(run(f, &a, T0 + 1, &res), SW_CAUSE_OK);
	assert_int_equal(res.alg, SW_ALG_SHA256);
	/* algorithm absent = MD5; upper-case hex response accepted */
	a = GOOD(.alg = "md5", .branch = "z9hG4bK-3");
	expect(f, a, T0, SW_CAUSE_OK);
	/* a username with an escaped quote */
	a = GOOD(.user = "j\\\"q", .hash_user = "j\"q", .pass = "pw");
	expect(f, a, T0, SW_CAUSE_OK);
	/* digest uri equal to the Request-URI under RFC 3261 rules */
	a = GOOD(.uri = "sip:EXAMPLE.COM", .ruri = "sip:example.com");
	expect(f, a, T0, SW_CAUSE_OK);
	fx_free(f);
}

static void upper_response(struct fx *f)
{
	/* compute a valid answer, then send its response in upper case */
	struct built *b = build(f, NULL, &GOOD(.branch = "z9hG4bK-up"));
	char *r = strstr(b->text, "response=\"") + 10;
	for (int i = 0; i < 32; i++)
		if (r[i] >= 'a' && r[i] <= 'f')
			r[i] = (char)(r[i] - 32);
	struct sw_verify_result res;
	assert_int_equal(sw_msg_parse(&b->msg, b->text, strlen(b->text), NULL, NULL), 0);
	assert_int_equal(sw_auth_verify(f->v, &b->msg, T0, &creds, &res), SW_CAUSE_OK);
	free(b);
}

static void all_qops(struct sw_auth_cfg *c)
{
	c->qop_mask = SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT);
	c->algs[2] = SW_ALG_MD5_SESS;
	c->algs[3] = SW_ALG_SHA512_256;
	c->nalgs = 4;
}

static void test_auth_int_sess(void **state)
{
	(void)state;
	struct fx *f = fx_new(all_qops);
	upper_response(f);
	expect(f, GOOD(.qop = "auth-int", .body = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\n"), T0, SW_CAUSE_OK);
	expect(f, GOOD(.qop = "auth-int", .body = "", .branch = "b2", .nc = "00000002"), T0, SW_CAUSE_OK);
	expect(f, GOOD(.alg = "MD5-sess", .branch = "b3"), T0, SW_CAUSE_OK);
	expect(f, GOOD(.alg = "SHA-512-256", .branch = "b4"), T0, SW_CAUSE_OK);
	fx_free(f);
}

static void test_wrong_password_unknown_user(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_verify_result wrong, unknown, domain;
	struct answer a = GOOD(.pass = "guess");
	assert_int_equal(run(f, &a, T0, &wrong), SW_CAUSE_WRONG_PASSWORD);
	int l1 = lookups;
	a = GOOD(.user = "mallory", .pass = "guess");
	assert_int_equal(run(f, &a, T0, &unknown), SW_CAUSE_UNKNOWN_USER);
	assert_int_equal(lookups - l1, 1);           /* one lookup, like a known user */
	/* the wire answer is the same */
	assert_int_equal(wrong.status, unknown.status);
	assert_int_equal(wrong.stale, unknown.stale);
	assert_int_equal(wrong.status, 401);
	/* username@domain when the bare user exists */
	a = GOOD(.user = "alice@example.com");
	assert_int_equal(run(f, &a, T0, &domain), SW_CAUSE_USERNAME_HAS_DOMAIN);
	assert_int_equal(domain.status, unknown.status);
	assert_false(domain.stale);
	a = GOOD(.user = "nobody@example.com");
	expect(f, a, T0, SW_CAUSE_UNKNOWN_USER);
	/* even with a stale nonce neither leaks: no stale=true for them */
	a = GOOD(.pass = "guess", .minted = T0 - 1000);
	assert_int_equal(run(f, &a, T0, &wrong), SW_CAUSE_WRONG_PASSWORD);
	assert_false(wrong.stale);
	a = GOOD(.user = "mallory", .minted = T0 - 1000);
	assert_int_equal(run(f, &a, T0, &unknown), SW_CAUSE_UNKNOWN_USER);
	assert_false(unknown.stale);

	/* challenges after each: byte-identical except the nonces */
	char m1[2048], m2[2048];
	struct sw_buf b1, b2;
	sw_buf_init(&b1, m1, sizeof(m1));
	sw_buf_init(&b2, m2, sizeof(m2));
	assert_int_equal(sw_challenge_build(f->v, T0, wrong.stale, &b1), 0);
	assert_int_equal(sw_challenge_build(f->v, T0, unknown.stale, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_not_equal(m1, m2, b1.len);
	/* mask the nonces and compare */
	for (char *p = m1, *q = m2; (p = strstr(p, "nonce=\"")) && (q = strstr(q, "nonce=\""));) {
		p += 7;
		q += 7;
		assert_int_equal(strcspn(p, "\""), SW_NONCE_LEN);
		memset(p, 'N', SW_NONCE_LEN);
		memset(q, 'N', SW_NONCE_LEN);
	}
	assert_memory_equal(m1, m2, b1.len);
	fx_free(f);
}

/* the server's own address is 192.0.2.1:5060 (and its domain, the realm) */
static bool own_address(void *arg, const struct sw_uri *u)
{
	(void)arg;
	return sw_str_ieq(u->host, "example.com") || (sw_str_ieq(u->host, "192.0.2.1") && u->port == 5060);
}

static void with_own(struct sw_auth_cfg *c)
{
	c->uri_is_ours = own_address;
}

/* with the server's own addresses known, only a uri naming them is accepted */
static void test_uri_names_server(void **state)
{
	(void)state;
	struct fx *f = fx_new(with_own);
	struct sw_verify_result res;
	struct answer a = GOOD(.uri = "sip:192.0.2.1:5060", .ruri = "sip:bob@example.com");
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_OK);
	assert_non_null(strstr(res.detail, "names the server"));
	expect(f, GOOD(.uri = "sip:192.0.2.9:5060", .ruri = "sip:bob@example.com"), T0 + 1, SW_CAUSE_URI_MISMATCH);
	expect(f, GOOD(.uri = "sip:192.0.2.1:5070", .ruri = "sip:bob@example.com"), T0 + 2, SW_CAUSE_URI_MISMATCH);
	expect(f, GOOD(.uri = "sip:example.com", .ruri = "sip:bob@example.com"), T0 + 3, SW_CAUSE_OK);
	fx_free(f);
}

static void test_realm_uri_alg(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	expect(f, GOOD(.realm = "asterisk"), T0, SW_CAUSE_REALM_MISMATCH);
	expect(f, GOOD(.realm = "EXAMPLE.COM"), T0, SW_CAUSE_REALM_MISMATCH);
	expect(f, GOOD(.uri = "sip:other.example.com"), T0, SW_CAUSE_URI_MISMATCH);
	expect(f, GOOD(.uri = "sip:bob@other.example.com", .ruri = "sip:bob@example.com"), T0,
	       SW_CAUSE_URI_MISMATCH);
	expect(f, GOOD(.uri = "tel:+15551234"), T0, SW_CAUSE_URI_MISMATCH);
	/* the same host, the realm or an address (sipp's default: the server's
	 * address) is accepted, as Kamailio, Asterisk and FreeSWITCH do, and noted */
	struct sw_verify_result res;
	const char *liberal[] = { "sip:example.com;transport=tcp", "sips:example.com", "sip:192.0.2.1:5060",
				  "sip:[2001:db8::1]:5060" };
	for (size_t i = 0; i < sizeof(liberal) / sizeof(liberal[0]); i++) {
		struct answer a = GOOD(.uri = liberal[i], .ruri = "sip:bob@example.com");
		assert_int_equal(run(f, &a, T0 + i, &res), SW_CAUSE_OK);
		assert_non_null(strstr(res.detail, "names the server"));
	}
	struct answer a = GOOD(.uri = "sip:other.example.com");
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_URI_MISMATCH);
	assert_int_equal(res.status, 400);
	expect(f, GOOD(.alg = "SHA-512-256"), T0, SW_CAUSE_ALGORITHM_UNSUPPORTED);
	expect(f, GOOD(.alg = "SHA-1", .hash_alg = "MD5"), T0, SW_CAUSE_ALGORITHM_UNSUPPORTED);
	expect(f, GOOD(.alg = "MD5-sess"), T0, SW_CAUSE_ALGORITHM_UNSUPPORTED);
	/* a nonce offered for MD5 answered with SHA-256 (computed correctly) */
	struct sw_nonce_ctx *nctx;
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	char md5nonce[SW_NONCE_LEN + 1];
	assert_int_equal(sw_nonce_mint(nctx, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), md5nonce), 0);
	expect(f, GOOD(.alg = "SHA-256", .nonce = md5nonce), T0, SW_CAUSE_ALGORITHM_MISMATCH);
	sw_nonce_ctx_free(nctx);
	fx_free(f);
}

static void test_qop(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	expect(f, GOOD(.qop = "auth,auth-int"), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.qop = "auth-int"), T0, SW_CAUSE_QOP_INVALID);    /* not offered */
	expect(f, GOOD(.qop = "auth-conf"), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.nc = NULL), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.nc = "1"), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.nc = "000000001"), T0, SW_CAUSE_QOP_INVALID);    /* nine digits */
	expect(f, GOOD(.nc = "0000000g"), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.nc = "00000000"), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.cnonce = NULL), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.cnonce = ""), T0, SW_CAUSE_QOP_INVALID);
	expect(f, GOOD(.qop = NULL, .nc = NULL, .cnonce = NULL), T0, SW_CAUSE_QOP_INVALID);
	fx_free(f);
}

static void allow_2069(struct sw_auth_cfg *c) { c->allow_no_qop = true; }

static void test_rfc2069_allowed(void **state)
{
	(void)state;
	struct fx *f = fx_new(allow_2069);
	expect(f, GOOD(.qop = NULL, .nc = NULL, .cnonce = NULL), T0, SW_CAUSE_OK);
	/* RFC 2069 clients reuse the nonce: not tracked without qop */
	expect(f, GOOD(.qop = NULL, .nc = NULL, .cnonce = NULL, .branch = "x2"), T0, SW_CAUSE_OK);
	fx_free(f);
}

static void test_malformed(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_verify_result res;
	struct answer a = GOOD(.raw_auth = "Digest username=");
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_MALFORMED_AUTHORIZATION);
	assert_int_equal(res.status, 400);
	/* another scheme is not ours: challenged like a request without credentials
	 * (RFC 4475 §3.3.7) */
	expect(f, GOOD(.raw_auth = "Basic YWxpY2U6czNjcmV0"), T0, SW_CAUSE_NO_CREDENTIALS);
	expect(f, GOOD(.raw_auth = "NoOneKnowsThisScheme opaque-data=here"), T0, SW_CAUSE_NO_CREDENTIALS);
	expect(f, GOOD(.raw_auth = "Digest username=\"alice\", realm=\"example.com\", uri=\"sip:example.com\", response=\"00\""),
	       T0, SW_CAUSE_MALFORMED_AUTHORIZATION);   /* no nonce */
	expect(f, GOOD(.user = NULL), T0, SW_CAUSE_MALFORMED_AUTHORIZATION);
	expect(f, GOOD(.response = "not-hex-at-all-not-hex-at-all-!!"), T0, SW_CAUSE_MALFORMED_AUTHORIZATION);
	expect(f, GOOD(.response = "abc"), T0, SW_CAUSE_MALFORMED_AUTHORIZATION);
	fx_free(f);
}

static void test_nonces(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_verify_result res;
	expect(f, GOOD(.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"), T0, SW_CAUSE_NONCE_INVALID);
	expect(f, GOOD(.nonce = ""), T0, SW_CAUSE_NONCE_INVALID);
	/* a nonce from another deployment (other secret) */
	struct sw_secret other;
	struct sw_nonce_ctx *onc;
	char n[SW_NONCE_LEN + 1];
	assert_int_equal(sw_secret_generate(&other, T0), 0);
	assert_int_equal(sw_nonce_ctx_new(&onc, &other, 300, 10), 0);
	assert_int_equal(sw_nonce_mint(onc, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	expect(f, GOOD(.nonce = n), T0, SW_CAUSE_NONCE_INVALID);
	sw_nonce_ctx_free(onc);
	/* a tampered one: flip one character of a valid nonce */
	struct sw_nonce_ctx *nctx;
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	assert_int_equal(sw_nonce_mint(nctx, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	n[20] = n[20] == 'A' ? 'B' : 'A';
	expect(f, GOOD(.nonce = n), T0, SW_CAUSE_NONCE_INVALID);
	/* from the future */
	expect(f, GOOD(.minted = T0 + 60), T0, SW_CAUSE_NONCE_INVALID);

	/* expired nonce with a right answer: stale-nonce and stale=true */
	struct answer a = GOOD(.minted = T0);
	assert_int_equal(run(f, &a, T0 + 301, &res), SW_CAUSE_STALE_NONCE);
	assert_true(res.stale);
	assert_int_equal(res.status, 401);
	char m[2048];
	struct sw_buf b;
	sw_buf_init(&b, m, sizeof(m));
	assert_int_equal(sw_challenge_build(f->v, T0 + 301, res.stale, &b), 0);
	const char *t = sw_buf_cstr(&b);
	assert_non_null(strstr(t, ", stale=true\r\nWWW-Authenticate: Digest"));
	assert_non_null(strstr(strstr(t, "algorithm=SHA-256"), "stale=true\r\n"));
	sw_nonce_ctx_free(nctx);
	fx_free(f);
}

static void test_replay_retransmission(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_nonce_ctx *nctx;
	char n[SW_NONCE_LEN + 1];
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	assert_int_equal(sw_nonce_mint(nctx, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a"), T0, SW_CAUSE_OK);
	/* the same request again (UDP retransmission): answered again */
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a"), T0 + 1, SW_CAUSE_OK);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a"), T0 + 2, SW_CAUSE_OK);
	/* the same nc in a new transaction: a replay */
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-b"), T0 + 2, SW_CAUSE_NONCE_REPLAY);
	/* same nc, other cnonce (another valid response): a replay */
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a", .cnonce = "other"), T0 + 2, SW_CAUSE_NONCE_REPLAY);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-c", .nc = "00000002"), T0 + 3, SW_CAUSE_OK);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-d", .nc = "00000002"), T0 + 3, SW_CAUSE_NONCE_REPLAY);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-e", .nc = "00000001"), T0 + 3, SW_CAUSE_NONCE_REPLAY);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-f", .nc = "0000000A"), T0 + 3, SW_CAUSE_OK);
	/* a failed attempt does not burn nc values */
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-g", .nc = "000000ff", .pass = "x"), T0 + 3,
	       SW_CAUSE_WRONG_PASSWORD);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-h", .nc = "0000000b"), T0 + 3, SW_CAUSE_OK);
	sw_nonce_ctx_free(nctx);
	fx_free(f);
}

static void one_time(struct sw_auth_cfg *c) { c->one_time = true; }

static void test_one_time(void **state)
{
	(void)state;
	struct fx *f = fx_new(one_time);
	struct sw_nonce_ctx *nctx;
	char n[SW_NONCE_LEN + 1];
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	assert_int_equal(sw_nonce_mint(nctx, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a"), T0, SW_CAUSE_OK);
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-a"), T0, SW_CAUSE_OK);      /* retransmission */
	expect(f, GOOD(.nonce = n, .branch = "z9hG4bK-b", .nc = "00000002"), T0, SW_CAUSE_NONCE_REPLAY);
	sw_nonce_ctx_free(nctx);
	fx_free(f);
}

static void proxy(struct sw_auth_cfg *c) { c->proxy = true; }

static void test_proxy_and_header_choice(void **state)
{
	(void)state;
	struct fx *f = fx_new(proxy);
	struct sw_verify_result res;
	struct answer a = GOOD(.proxy = true);
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_OK);
	/* an Authorization header is not for a proxy */
	a = GOOD(.branch = "b2", .nc = "00000002");
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_NO_CREDENTIALS);
	assert_int_equal(res.status, 407);
	char m[1024];
	struct sw_buf b;
	sw_buf_init(&b, m, sizeof(m));
	assert_int_equal(sw_challenge_build(f->v, T0, false, &b), 0);
	assert_int_equal(strncmp(sw_buf_cstr(&b), "Proxy-Authenticate: Digest realm=\"example.com\"", 46), 0);
	fx_free(f);

	/* two Authorization headers: the one for our realm is used */
	f = fx_new(NULL);
	struct built *bt = build(f, NULL, &GOOD());
	char text[4096];
	char *auth = strstr(bt->text, "Authorization:");
	int pre = (int)(auth - bt->text);
	snprintf(text, sizeof(text), "%.*sAuthorization: Digest username=\"x\", realm=\"other\", nonce=\"n\", "
		 "uri=\"sip:example.com\", response=\"00\"\r\n%s", pre, bt->text, auth);
	struct sw_msg msg;
	assert_int_equal(sw_msg_parse(&msg, text, strlen(text), NULL, NULL), 0);
	assert_int_equal(sw_auth_verify(f->v, &msg, T0, &creds, &res), SW_CAUSE_OK);
	/* only a foreign realm: realm-mismatch */
	snprintf(text, sizeof(text), "%.*sAuthorization: Digest username=\"x\", realm=\"other\", nonce=\"n\", "
		 "uri=\"sip:example.com\", response=\"00\"\r\nContent-Length: 0\r\n\r\n", pre, bt->text);
	assert_int_equal(sw_msg_parse(&msg, text, strlen(text), NULL, NULL), 0);
	assert_int_equal(sw_auth_verify(f->v, &msg, T0, &creds, &res), SW_CAUSE_REALM_MISMATCH);
	free(bt);
	fx_free(f);
}

static void test_userhash_store_failure(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	char uh[SW_DIGEST_HEX_MAX + 1];
	assert_int_equal(sw_digest_userhash(NULL, SW_HASH_MD5, S("bob"), S(REALM), uh), 0);
	expect(f, GOOD(.user = uh, .hash_user = "bob", .pass = "hunter2", .userhash = "true"), T0, SW_CAUSE_OK);
	expect(f, GOOD(.user = uh, .hash_user = "bob", .pass = "hunter2", .userhash = "false"), T0,
	       SW_CAUSE_UNKNOWN_USER);
	store_fail = 1;
	struct sw_verify_result res;
	struct answer a = GOOD(.branch = "zz");
	assert_int_equal(run(f, &a, T0, &res), SW_CAUSE_STORE_UNAVAILABLE);
	assert_int_equal(res.status, 500);
	store_fail = 0;
	fx_free(f);
}

static void sha_first(struct sw_auth_cfg *c)
{
	c->algs[0] = SW_ALG_SHA256;
	c->algs[1] = SW_ALG_MD5;
	c->userhash = true;
}

static void test_challenge(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	char m[2048];
	struct sw_buf b;
	sw_buf_init(&b, m, sizeof(m));
	assert_int_equal(sw_challenge_build(f->v, T0, false, &b), 0);
	const char *t = sw_buf_cstr(&b);
	print_message("%s", t);
	/* MD5 first by default, one header per algorithm */
	const char *md5 = strstr(t, "algorithm=MD5"), *sha = strstr(t, "algorithm=SHA-256");
	assert_non_null(md5);
	assert_non_null(sha);
	assert_true(md5 < sha);
	assert_int_equal(strncmp(t, "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"", 52), 0);
	assert_null(strstr(t, "stale"));
	assert_null(strstr(t, "userhash"));
	assert_non_null(strstr(t, ", qop=\"auth\"\r\n"));
	assert_non_null(strstr(t, "opaque=\""));
	/* each nonce is bound to its header's algorithm */
	struct sw_nonce_ctx *nctx;
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	int seen = 0;
	for (const char *p = t; (p = strstr(p, "nonce=\"")); p++) {
		struct sw_nonce_info info;
		assert_int_equal(sw_nonce_verify(nctx, sw_str_from(p + 7, SW_NONCE_LEN), T0, &info),
				 SW_NONCE_FRESH);
		assert_int_equal(info.alg, seen == 0 ? SW_ALG_MD5 : SW_ALG_SHA256);
		assert_int_equal(info.qop_mask, SW_QOP_BIT(SW_QOP_AUTH));
		seen++;
	}
	assert_int_equal(seen, 2);
	sw_nonce_ctx_free(nctx);
	/* too small a buffer is reported */
	sw_buf_init(&b, m, 40);
	assert_int_equal(sw_challenge_build(f->v, T0, false, &b), SW_ENOSPC);
	fx_free(f);

	f = fx_new(sha_first);
	sw_buf_init(&b, m, sizeof(m));
	assert_int_equal(sw_challenge_build(f->v, T0, true, &b), 0);
	t = sw_buf_cstr(&b);
	assert_true(strstr(t, "algorithm=SHA-256") < strstr(t, "algorithm=MD5"));
	assert_non_null(strstr(t, ", stale=true, userhash=true\r\n"));
	fx_free(f);

	/* invalid configurations are refused */
	struct sw_auth_cfg c;
	struct sw_verifier *v;
	struct sw_secret s;
	assert_int_equal(sw_secret_generate(&s, T0), 0);
	sw_auth_cfg_default(&c, "bad\r\nrealm");
	assert_int_equal(sw_verifier_new(&v, &c, &s, NULL), SW_EINVAL);
	sw_auth_cfg_default(&c, REALM);
	c.nalgs = 0;
	assert_int_equal(sw_verifier_new(&v, &c, &s, NULL), SW_EINVAL);
	sw_auth_cfg_default(&c, REALM);
	c.algs[1] = SW_ALG_MD5;
	assert_int_equal(sw_verifier_new(&v, &c, &s, NULL), SW_EINVAL);
	sw_auth_cfg_default(&c, "with \"quote\"");
	assert_int_equal(sw_verifier_new(&v, &c, &s, NULL), 0);
	sw_buf_init(&b, m, sizeof(m));
	sw_challenge_value(v, SW_ALG_MD5, S("N"), false, &b);
	assert_int_equal(strncmp(sw_buf_cstr(&b), "Digest realm=\"with \\\"quote\\\"\", nonce=\"N\"", 40), 0);
	sw_verifier_free(v);
}

static void test_rotation(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct sw_nonce_ctx *nctx;
	char n[SW_NONCE_LEN + 1];
	assert_int_equal(sw_nonce_ctx_new(&nctx, &f->secret, 300, 10), 0);
	assert_int_equal(sw_nonce_mint(nctx, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	assert_int_equal(sw_secret_rotate(&f->secret, T0 + 10), 0);
	assert_int_equal(sw_verifier_set_secret(f->v, &f->secret), 0);
	expect(f, GOOD(.nonce = n), T0 + 20, SW_CAUSE_OK);            /* old key still valid */
	expect(f, GOOD(.nonce = n, .nc = "00000002", .branch = "b2"), T0 + 311, SW_CAUSE_NONCE_INVALID);
	sw_nonce_ctx_free(nctx);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_and_no_credentials),
		cmocka_unit_test(test_auth_int_sess),
		cmocka_unit_test(test_wrong_password_unknown_user),
		cmocka_unit_test(test_realm_uri_alg),
		cmocka_unit_test(test_uri_names_server),
		cmocka_unit_test(test_qop),
		cmocka_unit_test(test_rfc2069_allowed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nonces),
		cmocka_unit_test(test_replay_retransmission),
		cmocka_unit_test(test_one_time),
		cmocka_unit_test(test_proxy_and_header_choice),
		cmocka_unit_test(test_userhash_store_failure),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_rotation),
	};
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
