/* Library-internal helpers shared by the lib/auth files (sw__ names). */
#ifndef SIPWARDEN_AUTH_INT_H
#define SIPWARDEN_AUTH_INT_H

#include <openssl/evp.h>
#include "sipwarden/auth.h"

/* Lower-case hex of n bytes into out (2n chars + NUL). */
void sw__hex(const unsigned char *p, size_t n, char *out);
/* True when s is exactly len hex digits (either case). */
bool sw__is_hex(sw_str s, size_t len);
/* Copies s lower-cased into out (len + NUL); s must be hex of that length. */
void sw__hex_lower(sw_str s, char *out);

/* Raw H(parts joined by ':') into out (up to SW_DIGEST_MAX_BYTES); *outlen. */
int sw__digest_raw(struct sw_digest_ctx *dc, enum sw_digest_hash h, const sw_str *parts,
		   size_t n, unsigned char *out, unsigned *outlen);

/* HMAC-SHA256 with the key schedule precomputed once (inner and outer
 * states), so that one MAC costs two copies and two short hashes. */
struct sw__hmac {
	EVP_MD *sha256;
	EVP_MD_CTX *inner, *outer, *work;
	bool keyed;
};
int sw__hmac_init(struct sw__hmac *h);
int sw__hmac_setkey(struct sw__hmac *h, const unsigned char *key, size_t len);
/* out = HMAC(key, a || b) (32 bytes). */
int sw__hmac(struct sw__hmac *h, const void *a, size_t alen, const void *b, size_t blen,
	     unsigned char out[32]);
void sw__hmac_free(struct sw__hmac *h);

/* The verifier (verify.c) and what the challenge builder (challenge.c) reads. */
#define SW__REALM_MAX 255u
struct sw_verifier {
	struct sw_auth_cfg cfg;       /* cfg.realm points at realm[] */
	char realm[SW__REALM_MAX + 1];
	size_t realm_len;
	struct sw_digest_ctx *dc;
	struct sw_nonce_ctx *nonces;
	struct sw_nc_tracker *nc;     /* not owned; NULL: no replay protection */
	char dummy_ha1[SW_HASH__COUNT][SW_DIGEST_HEX_MAX + 1];
	char opaque[33];
};

#endif
