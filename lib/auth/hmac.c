/* HMAC-SHA256 (RFC 2104) with a precomputed key schedule: the inner and
 * outer hash states after the padded key are kept, so a MAC is two state
 * copies and two short hashes. Nonce verification is on the hot path. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/auth_int.h"

#define BLOCK 64u

int sw__hmac_init(struct sw__hmac *h)
{
	memset(h, 0, sizeof(*h));
	h->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	if (!h->sha256 || !h->inner || !h->outer || !h->work) {
		sw__hmac_free(h);
		return SW_ECRYPTO;
	}
	return 0;
}

void sw__hmac_free(struct sw__hmac *h)
{
	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->work);
	EVP_MD_free(h->sha256);
	memset(h, 0, sizeof(*h));
}

int sw__hmac_setkey(struct sw__hmac *h, const unsigned char *key, size_t len)
{
	unsigned char k[BLOCK], pad[BLOCK];
	unsigned klen = 0;
	int err = SW_ECRYPTO;

	h->keyed = false;
	memset(k, 0, sizeof(k));
	if (len > BLOCK) {
		if (EVP_Digest(key, len, k, &klen, h->sha256, NULL) != 1)
			goto out;
	} else if (len) {
		memcpy(k, key, len);
	}
	for (unsigned i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	if (EVP_DigestInit_ex2(h->inner, h->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(h->inner, pad, BLOCK) != 1)
		goto out;
	for (unsigned i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	if (EVP_DigestInit_ex2(h->outer, h->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(h->outer, pad, BLOCK) != 1)
		goto out;
	h->keyed = true;
	err = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	return err;
}

int sw__hmac(struct sw__hmac *h, const void *a, size_t alen, const void *b, size_t blen,
	     unsigned char out[32])
{
	unsigned char ih[32];
	unsigned n = 0;
	if (!h->keyed)
		return SW_EINVAL;
	if (EVP_MD_CTX_copy_ex(h->work, h->inner) != 1 ||
	    (alen && EVP_DigestUpdate(h->work, a, alen) != 1) ||
	    (blen && EVP_DigestUpdate(h->work, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->work, ih, &n) != 1)
		return SW_ECRYPTO;
	if (EVP_MD_CTX_copy_ex(h->work, h->outer) != 1 ||
	    EVP_DigestUpdate(h->work, ih, sizeof(ih)) != 1 ||
	    EVP_DigestFinal_ex(h->work, out, &n) != 1)
		return SW_ECRYPTO;
	return 0;
}

struct sw_hmac {
	struct sw__hmac h;
};

int sw_hmac_new(struct sw_hmac **out, const unsigned char *key, size_t len)
{
	struct sw_hmac *m = calloc(1, sizeof(*m));
	if (!m)
		return SW_ENOMEM;
	int rc = sw__hmac_init(&m->h);
	if (!rc)
		rc = sw__hmac_setkey(&m->h, key, len);
	if (rc) {
		sw_hmac_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int sw_hmac_compute(struct sw_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
		    unsigned char out[32])
{
	return sw__hmac(&h->h, a, alen, b, blen, out);
}

void sw_hmac_free(struct sw_hmac *h)
{
	if (!h)
		return;
	sw__hmac_free(&h->h);
	free(h);
}
