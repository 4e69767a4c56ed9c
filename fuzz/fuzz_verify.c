/* libFuzzer target: the digest verifier and the offline diagnosis.
 *
 * An input with a line feed is a whole SIP request (sw_msg_parse +
 * sw_auth_verify); one without is an Authorization header value
 * (sw_auth_parse + sw_auth_verify_parts + sw_digest_diagnose), so plain
 * messages and header values from the corpus are good seeds. To get past
 * the nonce MAC, the first quoted nonce="..." value and every "@N@" are
 * replaced by a valid nonce. The clock moves with the input length, so
 * some runs see the nonce stale. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000ull
#define MAX_IN 16384u

static struct sw_verifier *verifier;
static struct sw_nc_tracker tracker;
static char nonce[SW_NONCE_LEN + 1];

static int get_ha1(void *arg, sw_str username, bool is_userhash, sw_str realm,
		   enum sw_digest_hash h, char *ha1)
{
	(void)arg;
	if (is_userhash || !sw_str_eq(username, "alice"))
		return SW_ENOTFOUND;
	return sw_digest_ha1(NULL, h, username, realm, SW_STR_LIT("s3cret"), ha1);
}

static void setup(void)
{
	struct sw_secret s;
	struct sw_auth_cfg cfg;
	memset(&s, 0, sizeof(s));
	memset(s.cur.bytes, 0x5a, sizeof(s.cur.bytes));   /* deterministic runs */
	s.cur.id = 7;
	sw_auth_cfg_default(&cfg, "example.com");
	cfg.qop_mask = SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT);
	cfg.algs[2] = SW_ALG_MD5_SESS;
	cfg.nalgs = 3;
	if (sw_nc_memory_new(&tracker, 4096) || sw_verifier_new(&verifier, &cfg, &s, &tracker))
		abort();
	struct sw_nonce_ctx *nc;
	if (sw_nonce_ctx_new(&nc, &s, 0, 10) ||
	    sw_nonce_mint(nc, NOW, SW_ALG_MD5, cfg.qop_mask, nonce))
		abort();
	sw_nonce_ctx_free(nc);
}

/* Copies in to out, replacing "@N@" and the first nonce="..." value by
 * the valid nonce. */
static size_t expand(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	bool replaced = false;
	for (size_t i = 0; i < n && o < cap; i++) {
		if (i + 3 <= n && !memcmp(in + i, "@N@", 3) && o + SW_NONCE_LEN <= cap) {
			memcpy(out + o, nonce, SW_NONCE_LEN);
			o += SW_NONCE_LEN;
			i += 2;
			continue;
		}
		if (!replaced && i + 7 <= n && !memcmp(in + i, "nonce=\"", 7) &&
		    (i == 0 || in[i - 1] != 'c') && o + 7 + SW_NONCE_LEN <= cap) {
			const uint8_t *q = memchr(in + i + 7, '"', n - i - 7);
			if (q) {
				memcpy(out + o, "nonce=\"", 7);
				memcpy(out + o + 7, nonce, SW_NONCE_LEN);
				o += 7 + SW_NONCE_LEN;
				i = (size_t)(q - in) - 1;     /* the closing quote is copied next */
				replaced = true;
				continue;
			}
		}
		out[o++] = (char)in[i];
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[MAX_IN + 64 * SW_NONCE_LEN];
	static struct sw_msg msg;
	const struct sw_cred_source creds = { get_ha1, NULL };
	struct sw_verify_result res;

	if (!verifier)
		setup();
	if (size > MAX_IN)
		return 0;
	bool header = !memchr(data, '\n', size);
	size_t n = expand(data, size, buf, sizeof(buf));
	/* heap copy of the exact length, so ASan sees reads past the end */
	char *in = malloc(n ? n : 1);
	if (!in)
		return 0;
	memcpy(in, buf, n);
	if (!header) {
		if (sw_msg_parse(&msg, in, n, NULL, NULL) == 0 && msg.is_request)
			(void)sw_auth_verify(verifier, &msg, NOW + (size & 511), &creds, &res);
	} else {
		struct sw_auth a;
		if (sw_auth_parse(&a, sw_str_from(in, n), NULL) == 0) {
			struct sw_verify_in vi = {
				.auth = &a, .method = SW_STR_LIT("REGISTER"),
				.ruri = SW_STR_LIT("sip:example.com"), .body = SW_STR_LIT("v=0\r\n"),
				.branch = SW_STR_LIT("z9hG4bK1"),
			};
			(void)sw_auth_verify_parts(verifier, &vi, NOW + (size & 511), &creds, &res);
			struct sw_diagnosis d;
			struct sw_diagnose_in di = {
				.auth = &a, .method = vi.method, .ruri = vi.ruri, .body = vi.body,
				.password = SW_STR_LIT("s3cret"), .to_host = SW_STR_LIT("example.com"),
			};
			(void)sw_digest_diagnose(NULL, &di, &d);
		}
	}
	free(in);
	return 0;
}
