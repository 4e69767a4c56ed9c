/* Digest math: every vector of corpus/digest/vectors.txt, plus the API's
 * edges (algorithm names, bad HA1, NULL context). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/auth.h"

#define MAXKV 40

struct vec {
	int nkv;
	char *key[MAXKV];
	char *val[MAXKV];
};

static const char *corpus(void)
{
	const char *c = getenv("SW_CORPUS");
	return c && *c ? c : "../shared/corpus";
}

static const char *get(const struct vec *v, const char *k)
{
	for (int i = 0; i < v->nkv; i++)
		if (!strcmp(v->key[i], k))
			return v->val[i];
	return NULL;
}

static sw_str S(const char *s) { return s ? sw_str_from(s, strlen(s)) : SW_STR_NULL; }

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* Checks one vector; returns the number of values compared. */
static int check_vector(struct sw_digest_ctx *dc, const struct vec *v)
{
	const char *id = get(v, "id");
	const char *algname = get(v, "algorithm");
	enum sw_digest_alg alg;
	char ha1[SW_DIGEST_HEX_MAX + 1];
	int compared = 0;

	assert_non_null(id);
	print_message("vector %s\n", id);
	assert_int_equal(sw_digest_alg_parse(S(algname), &alg), 0);
	enum sw_digest_hash h = sw_digest_alg_hash(alg);
	assert_int_equal(sw_digest_ha1(dc, h, S(get(v, "username")), S(get(v, "realm")),
				       S(get(v, "password")), ha1), 0);
	/* ha1-<ALG> lines: the plain HA1 of other hashes */
	static const struct { const char *key; enum sw_digest_hash h; } extra[] = {
		{ "ha1-SHA-256", SW_HASH_SHA256 }, { "ha1-SHA-512-256", SW_HASH_SHA512_256 },
	};
	for (size_t i = 0; i < 2; i++) {
		const char *want = get(v, extra[i].key);
		if (!want)
			continue;
		char other[SW_DIGEST_HEX_MAX + 1];
		assert_int_equal(sw_digest_ha1(dc, extra[i].h, S(get(v, "username")),
					       S(get(v, "realm")), S(get(v, "password")), other), 0);
		assert_string_equal(other, want);
		compared++;
	}
	if (get(v, "userhash")) {
		char uh[SW_DIGEST_HEX_MAX + 1];
		assert_int_equal(sw_digest_userhash(dc, h, S(get(v, "username")), S(get(v, "realm")), uh), 0);
		assert_string_equal(uh, get(v, "userhash"));
		if (get(v, "rfc-printed-userhash"))
			assert_string_not_equal(uh, get(v, "rfc-printed-userhash"));
		compared++;
	}
	if (!get(v, "response")) {
		/* "ha1 only" vectors */
		assert_non_null(strstr(get(v, "expect"), "ha1 only"));
		assert_string_equal(ha1, get(v, "ha1"));
		return compared + 1;
	}

	struct sw_digest_params p = {
		.alg = alg, .ha1 = S(ha1), .nonce = S(get(v, "nonce")), .cnonce = S(get(v, "cnonce")),
		.nc = S(get(v, "nc")), .method = S(get(v, "method")), .uri = S(get(v, "uri")),
	};
	char *body = NULL;
	if (get(v, "qop"))
		assert_int_equal(sw_qop_parse(S(get(v, "qop")), &p.qop), 0);
	if (get(v, "body")) {
		char path[1024];
		size_t blen;
		snprintf(path, sizeof(path), "%s/digest/bodies/%s", corpus(), get(v, "body"));
		body = read_file(path, &blen);
		assert_non_null(body);
		p.body = sw_str_from(body, blen);
	}
	struct sw_digest_result r;
	assert_int_equal(sw_digest_response(dc, &p, &r), 0);
	if (get(v, "ha1")) {
		assert_string_equal(r.ha1, get(v, "ha1"));
		compared++;
	}
	if (get(v, "ha2")) {
		assert_string_equal(r.ha2, get(v, "ha2"));
		compared++;
	}
	assert_string_equal(r.response, get(v, "response"));
	compared++;
	/* values a correct implementation must NOT reproduce */
	static const char *const neg[] = { "rfc-printed-response", "header-response-mismatch" };
	for (size_t i = 0; i < 2; i++) {
		if (get(v, neg[i])) {
			assert_string_not_equal(r.response, get(v, neg[i]));
			compared++;
		}
	}
	free(body);
	return compared;
}

static void test_vectors(void **state)
{
	(void)state;
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/digest/vectors.txt", corpus());
	char *text = read_file(path, &len);
	assert_non_null(text);

	struct sw_digest_ctx *dc;
	assert_int_equal(sw_digest_ctx_new(&dc), 0);
	struct vec v = { 0 };
	int nvec = 0, ncmp = 0, ndeclared = 0;
	/* strtok_r would merge empty lines: walk lines by hand */
	char *p = text;
	for (;;) {
		char *nl = strchr(p, '\n');
		bool last = !nl;
		if (nl)
			*nl = '\0';
		if (*p == '\0' || last) {
			if (last && *p && *p != '#') {
				char *sep = strstr(p, ": ");
				assert_non_null(sep);
				*sep = '\0';
				v.key[v.nkv] = p;
				v.val[v.nkv++] = sep + 2;
			}
			if (v.nkv) {
				ncmp += check_vector(dc, &v);
				nvec++;
				v.nkv = 0;
			}
			if (last)
				break;
		} else if (*p != '#') {
			char *sep = strstr(p, ": ");
			assert_non_null(sep);
			*sep = '\0';
			assert_true(v.nkv < MAXKV);
			v.key[v.nkv] = p;
			v.val[v.nkv++] = sep + 2;
			if (!strcmp(p, "id"))
				ndeclared++;
		}
		p = nl + 1;
	}
	print_message("%d vectors, %d values compared\n", nvec, ncmp);
	assert_int_equal(nvec, ndeclared);
	assert_true(nvec >= 35);
	assert_true(ncmp >= 2 * nvec);
	sw_digest_ctx_free(dc);
	free(text);
}

static void test_alg_names(void **state)
{
	(void)state;
	enum sw_digest_alg a;
	assert_int_equal(sw_digest_alg_parse(SW_STR_NULL, &a), 0);
	assert_int_equal(a, SW_ALG_MD5);
	assert_int_equal(sw_digest_alg_parse(S("sha-256-SESS"), &a), 0);
	assert_int_equal(a, SW_ALG_SHA256_SESS);
	assert_int_equal(sw_digest_alg_hash(a), SW_HASH_SHA256);
	assert_true(sw_digest_alg_sess(a));
	assert_int_equal(sw_digest_alg_parse(S("SHA-512-256"), &a), 0);
	assert_int_equal(a, SW_ALG_SHA512_256);
	assert_false(sw_digest_alg_sess(a));
	assert_int_equal(sw_digest_alg_parse(S("SHA-1"), &a), SW_EPARSE);
	assert_int_equal(sw_digest_alg_parse(S("MD5 "), &a), SW_EPARSE);
	assert_int_equal(sw_digest_alg_parse(S(""), &a), SW_EPARSE);
	for (unsigned i = 0; i < SW_ALG__COUNT; i++) {
		assert_int_equal(sw_digest_alg_parse(S(sw_digest_alg_name((enum sw_digest_alg)i)), &a), 0);
		assert_int_equal(a, i);
	}
	assert_int_equal(sw_digest_hex_len(SW_ALG_MD5_SESS), 32);
	assert_int_equal(sw_digest_hex_len(SW_ALG_SHA512_256), 64);
	enum sw_qop q;
	assert_int_equal(sw_qop_parse(S("AUTH-INT"), &q), 0);
	assert_int_equal(q, SW_QOP_AUTH_INT);
	assert_int_equal(sw_qop_parse(S("auth,auth-int"), &q), SW_EPARSE);
}

static void test_bad_ha1_and_null_ctx(void **state)
{
	(void)state;
	struct sw_digest_result r;
	memset(&r, 'x', sizeof(r));
	struct sw_digest_params p = {
		.alg = SW_ALG_MD5, .ha1 = S("939e7578ed9e3c518a452acee763bce"), /* 31 chars */
		.nonce = S("dcd98b7102dd2f0e8b11d0f600bfb0c093"), .method = S("GET"),
		.uri = S("/dir/index.html"),
	};
	assert_int_equal(sw_digest_response(NULL, &p, &r), SW_EINVAL);
	assert_int_equal(r.response[0], 'x');   /* untouched on failure */
	p.ha1 = S("939e7578ed9e3c518a452acee763bceg");
	assert_int_equal(sw_digest_response(NULL, &p, &r), SW_EINVAL);
	/* upper-case stored HA1 is accepted and gives the same answer */
	p.ha1 = S("939E7578ED9E3C518A452ACEE763BCE9");
	p.qop = SW_QOP_AUTH;
	p.nc = S("00000001");
	p.cnonce = S("0a4f113b");
	assert_int_equal(sw_digest_response(NULL, &p, &r), 0);
	assert_string_equal(r.response, "6629fae49393a05397450978507c4ef1");
	/* qop_str overrides the qop token that is hashed */
	p.qop_str = S("auth,auth-int");
	assert_int_equal(sw_digest_response(NULL, &p, &r), 0);
	assert_string_not_equal(r.response, "6629fae49393a05397450978507c4ef1");
	/* a SHA-256 HA1 must be 64 chars */
	p.alg = SW_ALG_SHA256;
	p.qop_str = SW_STR_NULL;
	assert_int_equal(sw_digest_response(NULL, &p, &r), SW_EINVAL);
}

static void test_hash_join(void **state)
{
	(void)state;
	char hex[SW_DIGEST_HEX_MAX + 1];
	sw_str e = S("");
	assert_int_equal(sw_digest_hash_join(NULL, SW_HASH_MD5, &e, 1, hex), 0);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(sw_digest_hash_join(NULL, SW_HASH_SHA256, &e, 1, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sw_digest_hash_join(NULL, SW_HASH_SHA512_256, &e, 1, hex), 0);
	assert_string_equal(hex, "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a");
	sw_str two[2] = { S("a"), S("b") };
	char joined[SW_DIGEST_HEX_MAX + 1];
	sw_str ab = S("a:b");
	assert_int_equal(sw_digest_hash_join(NULL, SW_HASH_MD5, two, 2, hex), 0);
	assert_int_equal(sw_digest_hash_join(NULL, SW_HASH_MD5, &ab, 1, joined), 0);
	assert_string_equal(hex, joined);
}

/* RFC 4231 test case 2, in two parts (a || b) and in one */
static void test_hmac_rfc4231(void **state)
{
	(void)state;
	struct sw_hmac *h;
	assert_int_equal(sw_hmac_new(&h, (const unsigned char *)"Jefe", 4), 0);
	unsigned char out[32], out2[32];
	const char *msg = "what do ya want for nothing?";
	assert_int_equal(sw_hmac_compute(h, msg, 10, msg + 10, strlen(msg) - 10, out), 0);
	char hex[65];
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", out[i]);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_int_equal(sw_hmac_compute(h, msg, strlen(msg), NULL, 0, out2), 0);
	assert_memory_equal(out, out2, 32);
	sw_hmac_free(h);
	sw_hmac_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_bad_ha1_and_null_ctx),
		cmocka_unit_test(test_hash_join),
		cmocka_unit_test(test_hmac_rfc4231),
	};
	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
