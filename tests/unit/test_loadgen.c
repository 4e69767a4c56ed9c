/* The load generator's parts: latency histogram percentiles, user pattern
 * expansion and users files, the RFC 3261 retransmission schedule and timer
 * queues, the digest answer (RFC 2617 and RFC 7616 vectors), the branch
 * round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/loadgen.h"
#include "loadgen/lg_int.h"

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

/* ---- histogram --------------------------------------------------------- */

static void hist_exact_small(void **state)
{
	(void)state;
	struct sw_hist h;
	sw_hist_init(&h);
	assert_int_equal(sw_hist_percentile(&h, 50), 0);
	for (uint64_t v = 1; v <= 100; v++)
		sw_hist_add(&h, v);
	assert_int_equal(h.n, 100);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100);
	assert_int_equal(sw_hist_percentile(&h, 50), 50);
	assert_int_equal(sw_hist_percentile(&h, 90), 90);
	assert_int_equal(sw_hist_percentile(&h, 99), 99);
	assert_int_equal(sw_hist_percentile(&h, 99.9), 100);
	assert_int_equal(sw_hist_percentile(&h, 100), 100);
	assert_int_equal(sw_hist_percentile(&h, 0), 1);
}

static void hist_rank_rounding(void **state)
{
	(void)state;
	/* 1000 samples: p99.9 is the 999th, not the 1000th */
	struct sw_hist h;
	sw_hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++)
		sw_hist_add(&h, v < 1000 ? 10 : 5000);
	assert_int_equal(sw_hist_percentile(&h, 99.9), 10);
	assert_int_equal(sw_hist_percentile(&h, 100), 5000);
	assert_int_equal(h.max, 5000);
}

static void hist_relative_error(void **state)
{
	(void)state;
	/* every value from 128 to 2^40, one at a time: the reported value is
	 * >= the sample and within 1/64 above it */
	for (uint64_t v = 128; v < (1ull << 40); v = v * 3 / 2 + 7) {
		struct sw_hist h;
		sw_hist_init(&h);
		sw_hist_add(&h, 1);
		sw_hist_add(&h, v);
		sw_hist_add(&h, v * 4);
		uint64_t p = sw_hist_percentile(&h, 50);
		assert_true(p >= v);
		assert_true(p - v <= v / 64);
	}
}

static void hist_merge(void **state)
{
	(void)state;
	struct sw_hist a, b;
	sw_hist_init(&a);
	sw_hist_init(&b);
	for (uint64_t v = 1; v <= 50; v++)
		sw_hist_add(&a, v);
	for (uint64_t v = 51; v <= 100; v++)
		sw_hist_add(&b, v);
	sw_hist_merge(&a, &b);
	assert_int_equal(a.n, 100);
	assert_int_equal(a.min, 1);
	assert_int_equal(a.max, 100);
	assert_int_equal(a.sum, 5050);
	assert_int_equal(sw_hist_percentile(&a, 90), 90);
	/* merging into an empty one keeps min */
	struct sw_hist e;
	sw_hist_init(&e);
	sw_hist_merge(&e, &b);
	assert_int_equal(e.min, 51);
	/* 10,000 samples of 1000 µs and 10 of 100 ms */
	sw_hist_init(&a);
	for (int i = 0; i < 10000; i++)
		sw_hist_add(&a, 1000);
	for (int i = 0; i < 10; i++)
		sw_hist_add(&a, 100000);
	assert_true(sw_hist_percentile(&a, 99) >= 1000 && sw_hist_percentile(&a, 99) < 1016);
	assert_true(sw_hist_percentile(&a, 99.95) >= 100000);
	assert_int_equal(sw_hist_percentile(&a, 100), 100000);
}

/* ---- users ------------------------------------------------------------- */

static void pattern_expand(void **state)
{
	(void)state;
	struct sw_userpat p;
	char why[128], out[64];
	assert_int_equal(sw_userpat_parse("user%05d@example.com:pw-user%05d", &p, why, sizeof(why)), 0);
	assert_string_equal(p.aor, "user%05d@example.com");
	assert_string_equal(p.pw, "pw-user%05d");
	assert_int_equal(sw_userpat_format(p.aor, 42, out, sizeof(out)), 0);
	assert_string_equal(out, "user00042@example.com");
	assert_int_equal(sw_userpat_format(p.aor, 1234567, out, sizeof(out)), 0);
	assert_string_equal(out, "user1234567@example.com");
	assert_int_equal(sw_userpat_format("a%3db%%c%d", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "a  7b%c7");
	assert_int_equal(sw_userpat_format("user%05d", 1, out, 6), SW_ENOSPC);
	assert_int_equal(sw_userpat_format("user%05d", 1, out, 10), 0);
	assert_string_equal(out, "user00001");

	/* the password may hold ':' and '@' */
	assert_int_equal(sw_userpat_parse("u%d@10.0.0.1:a:b@c", &p, why, sizeof(why)), 0);
	assert_string_equal(p.aor, "u%d@10.0.0.1");
	assert_string_equal(p.pw, "a:b@c");

	/* refused: no '@', no password, printf conversions, numbers in the domain */
	assert_int_equal(sw_userpat_parse("user%05d:pw", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user@dom", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user%s@dom:pw", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user%n@dom:pw", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user@dom:pw%x", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user%99d@dom:pw", &p, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_userpat_parse("user@d%dom:pw", &p, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "domain"));
}

static void users_from_pattern(void **state)
{
	(void)state;
	struct sw_userpat p;
	struct sw_lg_users u;
	assert_int_equal(sw_userpat_parse("user%05d@127.0.0.1:pw-user%05d", &p, NULL, 0), 0);
	assert_int_equal(sw_lg_users_from_pattern(&u, &p, 10000), 0);
	assert_int_equal(u.n, 10000);
	assert_string_equal(u.v[0].user, "user00000");
	assert_string_equal(u.v[0].domain, "127.0.0.1");
	assert_string_equal(u.v[0].password, "pw-user00000");
	assert_string_equal(u.v[9999].user, "user09999");
	assert_string_equal(u.v[9999].password, "pw-user09999");
	sw_lg_users_free(&u);
	assert_int_equal(sw_lg_users_from_pattern(&u, &p, 0), SW_EINVAL);
}

static void users_from_text(void **state)
{
	(void)state;
	struct sw_lg_users u;
	unsigned line = 99;
	const char *t = "# users\n\nalice@example.com,secret\r\n  bob@example.com,p,w@x\ncarol@b.c,";
	assert_int_equal(sw_lg_users_from_text(&u, t, strlen(t), &line), 0);
	assert_int_equal(u.n, 3);
	assert_string_equal(u.v[0].user, "alice");
	assert_string_equal(u.v[0].domain, "example.com");
	assert_string_equal(u.v[0].password, "secret");
	assert_string_equal(u.v[1].user, "bob");
	assert_string_equal(u.v[1].password, "p,w@x");
	assert_string_equal(u.v[2].password, "");
	sw_lg_users_free(&u);

	const char *bad = "alice@example.com,x\nnodomain,x\n";
	assert_int_equal(sw_lg_users_from_text(&u, bad, strlen(bad), &line), SW_EPARSE);
	assert_int_equal(line, 2);
	const char *nocomma = "alice@example.com\n";
	assert_int_equal(sw_lg_users_from_text(&u, nocomma, strlen(nocomma), &line), SW_EPARSE);
	assert_int_equal(line, 1);
	assert_int_equal(sw_lg_users_from_text(&u, "# none\n", 7, &line), SW_EPARSE);
	assert_int_equal(line, 0);
}

/* ---- timers ------------------------------------------------------------ */

static void retx_schedule(void **state)
{
	(void)state;
	struct sw_retx r;
	uint32_t at[32];
	sw_retx_init(&r, 0);
	assert_int_equal(r.t1_ms, 500);
	assert_int_equal(r.t2_ms, 4000);
	assert_int_equal(r.f_ms, 32000);
	assert_int_equal(sw_retx_interval(&r, 1, false), 500);
	assert_int_equal(sw_retx_interval(&r, 2, false), 1000);
	assert_int_equal(sw_retx_interval(&r, 3, false), 2000);
	assert_int_equal(sw_retx_interval(&r, 4, false), 4000);
	assert_int_equal(sw_retx_interval(&r, 40, false), 4000);
	assert_int_equal(sw_retx_interval(&r, 1, true), 4000);
	/* RFC 3261 Figure 6: 0, 0.5, 1.5, 3.5, 7.5, then every 4 s until F at 32 s */
	static const uint32_t want[] = { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 };
	unsigned n = sw_retx_schedule(&r, at, 32);
	assert_int_equal(n, 11);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(at[i], want[i]);
	/* T1 = 50 ms (as the CLI tests use): F = 3.2 s, 6 retransmissions */
	sw_retx_init(&r, 50);
	static const uint32_t want50[] = { 0, 50, 150, 350, 750, 1550, 3150 };
	n = sw_retx_schedule(&r, at, 32);
	assert_int_equal(n, 7);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(at[i], want50[i]);
	/* a T1 above T2: T2 follows T1 */
	sw_retx_init(&r, 5000);
	assert_int_equal(r.t2_ms, 5000);
	assert_int_equal(sw_retx_interval(&r, 3, false), 5000);
	/* the count is returned even when cap is smaller */
	sw_retx_init(&r, 500);
	assert_int_equal(sw_retx_schedule(&r, at, 2), 11);
}

static void timer_queues(void **state)
{
	(void)state;
	struct sw__timers t;
	struct sw__tq_ent e;
	sw__timers_init(&t, 500);
	assert_int_equal(t.nlevels, 4);  /* 500, 1000, 2000, 4000 ms */
	assert_int_equal(sw__timers_level(&t, 1, false), 0);
	assert_int_equal(sw__timers_level(&t, 4, false), 3);
	assert_int_equal(sw__timers_level(&t, 9, false), 3);
	assert_int_equal(sw__timers_level(&t, 1, true), 3);
	assert_true(sw__timers_next(&t) == UINT64_MAX);
	/* more entries than the first ring holds, fired in order */
	for (uint32_t i = 0; i < 3000; i++)
		assert_int_equal(sw__tq_push(&t.level[0], i * 1000u, i, i + 1), 0);
	assert_int_equal(sw__tq_push(&t.f, 0, 7, 1), 0);
	assert_int_equal(sw__timers_next(&t), 500000000u);
	assert_int_equal(sw__tq_pop_due(&t.level[0], 499999999u, &e), 0);
	for (uint32_t i = 0; i < 3000; i++) {
		assert_int_equal(sw__tq_pop_due(&t.level[0], 500000000u + i * 1000u, &e), 1);
		assert_int_equal(e.slot, i);
		assert_int_equal(e.tseq, i + 1);
	}
	assert_int_equal(sw__tq_pop_due(&t.level[0], UINT64_MAX, &e), 0);
	assert_int_equal(sw__timers_next(&t), 32000000000u);
	assert_int_equal(sw__tq_pop_due(&t.f, 32000000000u, &e), 1);
	assert_int_equal(e.slot, 7);
	/* Retry-After waits of any length come out earliest first */
	uint64_t due[] = { 9, 3, 7, 3, 1, 8, 2, 6, 5, 4 };
	for (uint32_t i = 0; i < 2000; i++)
		assert_int_equal(sw__wait_push(&t, due[i % 10] * 1000000000ull + i, i, 1), 0);
	assert_true(sw__timers_next(&t) == 1000000000ull + 4);
	assert_int_equal(sw__wait_pop_due(&t, 999999999ull, &e), 0);
	uint64_t last = 0;
	for (uint32_t i = 0; i < 2000; i++) {
		assert_int_equal(sw__wait_pop_due(&t, UINT64_MAX, &e), 1);
		uint64_t d = e.due_ns;
		assert_true(d >= last);
		last = d;
	}
	assert_int_equal(sw__wait_pop_due(&t, UINT64_MAX, &e), 0);
	sw__timers_free(&t);
}

/* ---- the digest answer --------------------------------------------------- */

static void digest_answer_rfc2617(void **state)
{
	(void)state;
	/* RFC 2617 §3.5: Mufasa / "Circle Of Life", qop offered "auth,auth-int" */
	const char *ch = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
			 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
			 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	struct sw_auth a;
	char mem[1024];
	struct sw_buf b;
	assert_int_equal(sw_auth_parse(&a, S(ch), NULL), 0);
	sw_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sw_lg_digest_answer(NULL, &a, S("Mufasa"), S("Circle Of Life"), S("GET"),
					     S("/dir/index.html"), S(""), S("0a4f113b"),
					     S("00000001"), &b), 0);
	const char *out = sw_buf_cstr(&b);
	assert_string_equal(out, "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
				 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
				 "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, "
				 "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
				 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
}

static void digest_answer_rfc7616(void **state)
{
	(void)state;
	/* RFC 7616 §3.9.1: the SHA-256 challenge and response */
	const char *ch = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
			 "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
			 "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	struct sw_auth a;
	struct sw_digest_ctx *dc;
	char mem[1024];
	struct sw_buf b;
	assert_int_equal(sw_digest_ctx_new(&dc), 0);
	assert_int_equal(sw_auth_parse(&a, S(ch), NULL), 0);
	sw_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sw_lg_digest_answer(dc, &a, S("Mufasa"), S("Circle of Life"), S("GET"),
					     S("/dir/index.html"), S(""),
					     S("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
					     S("00000001"), &b), 0);
	const char *out = sw_buf_cstr(&b);
	assert_non_null(strstr(out, "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""));
	assert_non_null(strstr(out, "algorithm=SHA-256, qop=auth, nc=00000001"));

	/* only auth-int offered: answered with auth-int over the (empty) body */
	const char *ch2 = "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\", algorithm=MD5-sess";
	assert_int_equal(sw_auth_parse(&a, S(ch2), NULL), 0);
	sw_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sw_lg_digest_answer(dc, &a, S("u"), S("p"), S("REGISTER"), S("sip:r"),
					     S(""), S("c"), S("00000001"), &b), 0);
	out = sw_buf_cstr(&b);
	assert_non_null(strstr(out, "algorithm=MD5-sess, qop=auth-int, nc=00000001, cnonce=\"c\""));
	/* cross-check the response with the engine directly */
	char ha1[SW_DIGEST_HEX_MAX + 1];
	struct sw_digest_result r;
	assert_int_equal(sw_digest_ha1(dc, SW_HASH_MD5, S("u"), S("r"), S("p"), ha1), 0);
	struct sw_digest_params p = { .alg = SW_ALG_MD5_SESS, .ha1 = sw_str_from(ha1, 32),
				      .nonce = S("n"), .cnonce = S("c"), .nc = S("00000001"),
				      .qop = SW_QOP_AUTH_INT, .method = S("REGISTER"),
				      .uri = S("sip:r"), .body = S("") };
	assert_int_equal(sw_digest_response(dc, &p, &r), 0);
	char want[80];
	snprintf(want, sizeof(want), "response=\"%s\"", r.response);
	assert_non_null(strstr(out, want));

	/* no qop: RFC 2069, no cnonce or nc */
	assert_int_equal(sw_auth_parse(&a, S("Digest realm=\"r\", nonce=\"n\""), NULL), 0);
	sw_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sw_lg_digest_answer(dc, &a, S("u"), S("p"), S("REGISTER"), S("sip:r"),
					     S(""), S("c"), S("00000001"), &b), 0);
	out = sw_buf_cstr(&b);
	assert_null(strstr(out, "qop="));
	assert_null(strstr(out, "cnonce="));

	/* refused: unknown algorithm, no nonce, not Digest */
	assert_int_equal(sw_auth_parse(&a, S("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1"), NULL), 0);
	assert_int_equal(sw_lg_digest_answer(dc, &a, S("u"), S("p"), S("REGISTER"), S("sip:r"),
					     S(""), S("c"), S("00000001"), &b), SW_EPARSE);
	assert_int_equal(sw_auth_parse(&a, S("Digest realm=\"r\""), NULL), 0);
	assert_int_equal(sw_lg_digest_answer(dc, &a, S("u"), S("p"), S("REGISTER"), S("sip:r"),
					     S(""), S("c"), S("00000001"), &b), SW_EPARSE);
	sw_digest_ctx_free(dc);
}

/* ---- requests and branches ---------------------------------------------- */

static void request_and_branch(void **state)
{
	(void)state;
	struct sw_userpat p;
	struct sw_lg_users u;
	struct sw_lg_cfg cfg = { .scenario = SW_LG_REGISTER_AUTH };
	struct sw__lg_ctx c = { .cfg = &cfg, .thread = 3, .run_id = "abcdefgh",
				.local = "127.0.0.1:5555", .contact_host = "127.0.0.1", .via_tp = "UDP", .rnd = 1 };
	struct sw__slot *s = calloc(1, sizeof(*s));
	struct sw_msg *m = malloc(sizeof(*m));
	struct sw_via via;
	uint32_t slot, gen;
	unsigned leg;
	assert_non_null(s);
	assert_non_null(m);
	assert_int_equal(sw_userpat_parse("user%05d@127.0.0.1:pw", &p, NULL, 0), 0);
	assert_int_equal(sw_lg_users_from_pattern(&u, &p, 10), 0);
	cfg.users = &u;
	s->user = 7;
	s->gen = 12;
	s->seq = 99;
	assert_int_equal(sw__lg_build_first(&c, s, 4321), 0);
	assert_int_equal(sw_msg_parse(m, s->req, s->req_len, NULL, NULL), 0);
	assert_int_equal(sw_msg_check(m, NULL), 0);
	assert_true(sw_str_eq(m->ruri, "sip:127.0.0.1"));
	assert_int_equal(sw_msg_top_via(m, &via, NULL), 0);
	assert_int_equal(sw__lg_branch_decode(&c, via.branch, &slot, &gen, &leg), 1);
	assert_int_equal(slot, 4321);
	assert_int_equal(gen, 12);
	assert_int_equal(leg, 0);
	assert_non_null(strstr(s->req, "To: <sip:user00007@127.0.0.1>\r\n"));
	assert_non_null(strstr(s->req, "Contact: <sip:user00007@127.0.0.1>\r\n"));
	/* other threads' and other runs' branches are not ours */
	c.thread = 4;
	assert_int_equal(sw__lg_branch_decode(&c, via.branch, &slot, &gen, &leg), 0);
	c.thread = 3;
	assert_int_equal(sw__lg_branch_decode(&c, S("z9hG4bKabcdefgX.3.1.1.0"), &slot, &gen, &leg), 0);
	assert_int_equal(sw__lg_branch_decode(&c, S("z9hG4bKabcdefgh.3.1.1.2"), &slot, &gen, &leg), 0);
	assert_int_equal(sw__lg_branch_decode(&c, S("z9hG4bKabcdefgh.3.1.1"), &slot, &gen, &leg), 0);
	assert_int_equal(sw__lg_branch_decode(&c, S("z9hG4bKabcdefgh.3.1.99999999999.0"), &slot, &gen, &leg), 0);
	/* a 401 turns the slot to its second leg with an Authorization */
	const char *resp = "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=x\r\n"
			   "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
			   "WWW-Authenticate: Digest realm=\"127.0.0.1\", nonce=\"abc\", qop=\"auth\", algorithm=MD5\r\n"
			   "Content-Length: 0\r\n\r\n";
	assert_int_equal(sw_msg_parse(m, resp, strlen(resp), NULL, NULL), 0);
	uint32_t retry = 0;
	assert_int_equal(sw__lg_on_response(&c, s, 4321, m, &retry), SW__LG_NEXT);
	assert_int_equal(s->leg, 1);
	assert_non_null(strstr(s->req, "CSeq: 2 REGISTER\r\n"));
	assert_non_null(strstr(s->req, "Authorization: Digest username=\"user00007\", realm=\"127.0.0.1\", nonce=\"abc\", uri=\"sip:127.0.0.1\""));
	/* a second 401 is a failure */
	assert_int_equal(sw__lg_on_response(&c, s, 4321, m, &retry), SW__LG_FAIL);
	/* 503 with Retry-After: wait and start again (RFC 3261 §21.5.4); the
	 * restart takes the next CSeq; a 503 without it is a failure */
	const char *busy = "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=x\r\n"
			   "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
			   "Retry-After: 7\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sw_msg_parse(m, busy, strlen(busy), NULL, NULL), 0);
	assert_int_equal(sw__lg_on_response(&c, s, 4321, m, &retry), SW__LG_RETRY_AFTER);
	assert_int_equal(retry, 7);
	s->attempt = 1;
	assert_int_equal(sw__lg_build_first(&c, s, 4321), 0);
	assert_non_null(strstr(s->req, "CSeq: 3 REGISTER\r\n"));
	const char *busy2 = "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=x\r\n"
			    "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 3 REGISTER\r\n"
			    "Content-Length: 0\r\n\r\n";
	assert_int_equal(sw_msg_parse(m, busy2, strlen(busy2), NULL, NULL), 0);
	assert_int_equal(sw__lg_on_response(&c, s, 4321, m, &retry), SW__LG_FAIL);
	sw_lg_users_free(&u);
	free(s);
	free(m);
}

/* The timeline: the slot width follows the run's length, events past the
 * last slot count in it, merging adds slot by slot. */
static void timeline(void **state)
{
	(void)state;
	struct sw_lg_cfg cfg = { .duration_ms = 2000 };
	assert_int_equal(sw_lg_slot_ms(&cfg), 100);          /* 2 s + F 32 s: 34 s / 600 */
	cfg.duration_ms = 0;                                 /* 60 s + 32 s */
	assert_int_equal(sw_lg_slot_ms(&cfg), 250);
	cfg.count = 600;
	cfg.rate = 300;                                      /* ends after 2 s */
	assert_int_equal(sw_lg_slot_ms(&cfg), 100);
	cfg.count = 0;
	cfg.duration_ms = 86400000;                          /* a day: 300 s slots */
	assert_int_equal(sw_lg_slot_ms(&cfg), 300000);

	struct sw_lg_stats *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	sw_lg_stats_init(a);
	sw_lg_stats_init(b);
	a->slot_ms = b->slot_ms = 100;
	sw_lg_timeline_add(a, 50000000ull, true, 1);         /* 50 ms: slot 0 */
	sw_lg_timeline_add(a, 250000000ull, false, 2);       /* 250 ms: slot 2 */
	sw_lg_timeline_add(b, 99999999ull, true, 1);         /* just below 100 ms: slot 0 */
	sw_lg_timeline_add(b, 3600000000000ull, true, 5);    /* an hour: the last slot */
	assert_int_equal(a->nslots, 3);
	assert_int_equal(b->nslots, SW_LG_SLOTS);
	sw_lg_stats_merge(a, b);
	assert_int_equal(a->nslots, SW_LG_SLOTS);
	assert_int_equal(a->done_at[0], 2);
	assert_int_equal(a->failed_at[2], 2);
	assert_int_equal(a->done_at[SW_LG_SLOTS - 1], 5);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_exact_small),
		cmocka_unit_test(hist_rank_rounding),
		cmocka_unit_test(hist_relative_error),
		cmocka_unit_test(hist_merge),
		cmocka_unit_test(pattern_expand),
		cmocka_unit_test(users_from_pattern),
		cmocka_unit_test(users_from_text),
		cmocka_unit_test(retx_schedule),
		cmocka_unit_test(timer_queues),
		cmocka_unit_test(digest_answer_rfc2617),
		cmocka_unit_test(digest_answer_rfc7616),
		cmocka_unit_test(request_and_branch),
		cmocka_unit_test(timeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
