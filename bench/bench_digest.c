/* Verifications per second on one core: nonce check (HMAC-SHA256) + HA2 +
 * response + constant-time compare + nonce-count tracking, with the HA1
 * from memory, for MD5 and SHA-256 with qop=auth. Also the same including
 * the parse of the Authorization value. Prints figures; never fails on
 * time. Run pinned: taskset -c 1 build/release/bench/bench_digest */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sipwarden/auth.h"

#define NOW 1700000000ull
#define NREQ 1024
#define SECONDS 1.0

struct cred { char ha1[SW_HASH__COUNT][SW_DIGEST_HEX_MAX + 1]; };
static struct cred alice;

static int get_ha1(void *arg, sw_str username, bool is_userhash, sw_str realm,
		   enum sw_digest_hash h, char *ha1)
{
	(void)arg;
	(void)realm;
	if (is_userhash || !sw_str_eq(username, "alice"))
		return SW_ENOTFOUND;
	memcpy(ha1, alice.ha1[h], sizeof(alice.ha1[h]));
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct req {
	char value[512];
	size_t len;
	struct sw_auth auth;
};

static void run(enum sw_digest_alg alg, bool parse)
{
	struct sw_secret s;
	struct sw_auth_cfg cfg;
	struct sw_verifier *v;
	struct sw_nc_tracker nc;
	struct sw_nonce_ctx *nctx;
	if (sw_secret_generate(&s, NOW) || sw_nc_memory_new(&nc, 0))
		exit(1);
	sw_auth_cfg_default(&cfg, "example.com");
	if (sw_verifier_new(&v, &cfg, &s, &nc) || sw_nonce_ctx_new(&nctx, &s, 0, 10))
		exit(1);
	static struct req reqs[NREQ];
	for (int i = 0; i < NREQ; i++) {
		char nonce[SW_NONCE_LEN + 1], cnonce[32];
		struct sw_digest_result r;
		snprintf(cnonce, sizeof(cnonce), "c%08x", i);
		if (sw_nonce_mint(nctx, NOW, alg, SW_QOP_BIT(SW_QOP_AUTH), nonce))
			exit(1);
		struct sw_digest_params p = {
			.alg = alg, .ha1 = sw_str_from(alice.ha1[sw_digest_alg_hash(alg)], sw_digest_hex_len(alg)),
			.nonce = sw_str_from(nonce, SW_NONCE_LEN), .cnonce = sw_str_from(cnonce, strlen(cnonce)),
			.nc = SW_STR_LIT("00000001"), .qop = SW_QOP_AUTH, .method = SW_STR_LIT("REGISTER"),
			.uri = SW_STR_LIT("sip:example.com"),
		};
		if (sw_digest_response(NULL, &p, &r))
			exit(1);
		reqs[i].len = (size_t)snprintf(reqs[i].value, sizeof(reqs[i].value),
			"Digest username=\"alice\", realm=\"example.com\", nonce=\"%s\", "
			"uri=\"sip:example.com\", response=\"%s\", algorithm=%s, qop=auth, "
			"nc=00000001, cnonce=\"%s\"", nonce, r.response, sw_digest_alg_name(alg), cnonce);
		if (sw_auth_parse(&reqs[i].auth, sw_str_from(reqs[i].value, reqs[i].len), NULL))
			exit(1);
	}
	const struct sw_cred_source creds = { get_ha1, NULL };
	struct sw_verify_in in = {
		.method = SW_STR_LIT("REGISTER"), .ruri = SW_STR_LIT("sip:example.com"),
		.branch = SW_STR_LIT("z9hG4bK-bench"),
	};
	struct sw_verify_result res;
	unsigned long n = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (int k = 0; k < 4096; k++, n++) {
			struct req *rq = &reqs[n % NREQ];
			struct sw_auth a;
			if (parse) {
				sw_auth_parse(&a, sw_str_from(rq->value, rq->len), NULL);
				in.auth = &a;
			} else {
				in.auth = &rq->auth;
			}
			/* repeats of a request are retransmissions: accepted, tracked */
			if (sw_auth_verify_parts(v, &in, NOW + 1, &creds, &res) != SW_CAUSE_OK)
				bad++;
		}
		t = now_s() - t0;
	} while (t < SECONDS);
	printf("%-8s qop=auth %-28s %10.0f verifications/s  (%.2f us each, %lu runs, %lu failed)\n",
	       sw_digest_alg_name(alg), parse ? "parse+nonce+response" : "nonce+response",
	       (double)n / t, t * 1e6 / (double)n, n, bad);
	sw_nonce_ctx_free(nctx);
	sw_verifier_free(v);
	sw_nc_tracker_destroy(&nc);
	sw_secret_wipe(&s);
}

int main(void)
{
	for (unsigned h = 0; h < SW_HASH__COUNT; h++)
		if (sw_digest_ha1(NULL, (enum sw_digest_hash)h, SW_STR_LIT("alice"),
				  SW_STR_LIT("example.com"), SW_STR_LIT("s3cret"), alice.ha1[h]))
			return 1;
	printf("sipwarden digest verification, one thread (target >= 500000 MD5/s)\n");
	run(SW_ALG_MD5, false);
	run(SW_ALG_SHA256, false);
	run(SW_ALG_MD5, true);
	run(SW_ALG_SHA256, true);
	return 0;
}
