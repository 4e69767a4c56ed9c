/* Stateless signed nonces. A nonce carries everything needed to check it:
 *
 *   version(1) key-id(2) issued(4, unix s, big endian) random(8)
 *   algorithm(1) qop-mask(1) tag(16)
 *
 * tag = HMAC-SHA256(K, first 17 bytes) truncated to 128 bits, with
 * K = HMAC-SHA256(secret key, "sipwarden nonce v1"). The 33 bytes are
 * base64url-encoded: 44 characters, no padding, safe inside a quoted string.
 * Any node holding the secret file verifies any node's nonce. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/auth_int.h"

#define PAYLOAD 17u
#define TAG 16u
#define RAW (PAYLOAD + TAG)
#define LABEL "sipwarden nonce v1"

struct sw_nonce_ctx {
	struct sw__hmac cur, prev;
	uint16_t cur_id, prev_id;
	bool has_prev;
	uint64_t prev_until;         /* prev accepted while now < prev_until */
	uint32_t lifetime, drift;
};

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	/* n is a multiple of 3 here */
	for (size_t i = 0, o = 0; i < n; i += 3, o += 4) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o] = b64[v >> 18];
		out[o + 1] = b64[(v >> 12) & 63];
		out[o + 2] = b64[(v >> 6) & 63];
		out[o + 3] = b64[v & 63];
	}
	out[n / 3 * 4] = '\0';
}

/* 0..63 for a base64url character, 0xff otherwise. */
static unsigned char b64dec[256];

static void b64dec_init(void)
{
	memset(b64dec, 0xff, sizeof(b64dec));
	for (unsigned i = 0; i < 64; i++)
		b64dec[(unsigned char)b64[i]] = (unsigned char)i;
}

static bool b64url_decode(const char *in, size_t n, unsigned char *out)
{
	unsigned bad = 0;
	for (size_t i = 0, o = 0; i < n; i += 4, o += 3) {
		unsigned a = b64dec[(unsigned char)in[i]], b = b64dec[(unsigned char)in[i + 1]];
		unsigned c = b64dec[(unsigned char)in[i + 2]], d = b64dec[(unsigned char)in[i + 3]];
		bad |= a | b | c | d;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
		out[o] = (unsigned char)(v >> 16);
		out[o + 1] = (unsigned char)(v >> 8);
		out[o + 2] = (unsigned char)v;
	}
	return bad < 64;
}

static int key_hmac(struct sw__hmac *h, const struct sw_key *k)
{
	unsigned char sub[SW_KEY_BYTES];
	int err = sw_secret_derive(k, LABEL, sub);
	if (!err)
		err = sw__hmac_setkey(h, sub, sizeof(sub));
	OPENSSL_cleanse(sub, sizeof(sub));
	return err;
}

int sw_nonce_ctx_new(struct sw_nonce_ctx **out, const struct sw_secret *s, uint32_t lifetime,
		     uint32_t drift)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, b64dec_init);
	struct sw_nonce_ctx *nc = calloc(1, sizeof(*nc));
	if (!nc)
		return SW_ENOMEM;
	nc->lifetime = lifetime ? lifetime : SW_NONCE_LIFETIME_DEFAULT;
	nc->drift = drift;
	int err = sw__hmac_init(&nc->cur);
	if (!err)
		err = sw__hmac_init(&nc->prev);
	if (!err)
		err = sw_nonce_ctx_set_secret(nc, s);
	if (err) {
		sw_nonce_ctx_free(nc);
		return err;
	}
	*out = nc;
	return 0;
}

void sw_nonce_ctx_free(struct sw_nonce_ctx *nc)
{
	if (!nc)
		return;
	sw__hmac_free(&nc->cur);
	sw__hmac_free(&nc->prev);
	free(nc);
}

int sw_nonce_ctx_set_secret(struct sw_nonce_ctx *nc, const struct sw_secret *s)
{
	int err = key_hmac(&nc->cur, &s->cur);
	if (err)
		return err;
	nc->cur_id = s->cur.id;
	nc->has_prev = false;
	if (s->has_prev && s->prev.id != s->cur.id) {
		if ((err = key_hmac(&nc->prev, &s->prev)))
			return err;
		nc->prev_id = s->prev.id;
		nc->prev_until = s->prev_retired + nc->lifetime;
		nc->has_prev = true;
	}
	return 0;
}

uint32_t sw_nonce_ctx_lifetime(const struct sw_nonce_ctx *nc)
{
	return nc->lifetime;
}

/* The nonce's 8 random bytes, from a per-thread pool refilled 64 nonces at
 * a time: one RAND_bytes per nonce cost a getpid() system call (OpenSSL's
 * fork check) on every challenge. The bytes are public (they are in the
 * nonce); the HMAC is what makes a nonce unforgeable, and the server does
 * not fork. */
static int salt(unsigned char out[8])
{
	static _Thread_local unsigned char pool[512];
	static _Thread_local unsigned used = sizeof(pool);
	if (used + 8 > sizeof(pool)) {
		if (RAND_bytes(pool, sizeof(pool)) != 1)
			return SW_EIO;
		used = 0;
	}
	memcpy(out, pool + used, 8);
	used += 8;
	return 0;
}

int sw_nonce_mint(struct sw_nonce_ctx *nc, uint64_t now, enum sw_digest_alg alg,
		  unsigned qop_mask, char out[SW_NONCE_LEN + 1])
{
	unsigned char raw[RAW], mac[32];
	if ((unsigned)alg >= SW_ALG__COUNT || qop_mask > 7)
		return SW_EINVAL;
	uint32_t t = (uint32_t)now;
	raw[0] = SW_NONCE_VERSION;
	raw[1] = (unsigned char)(nc->cur_id >> 8);
	raw[2] = (unsigned char)nc->cur_id;
	raw[3] = (unsigned char)(t >> 24);
	raw[4] = (unsigned char)(t >> 16);
	raw[5] = (unsigned char)(t >> 8);
	raw[6] = (unsigned char)t;
	if (salt(raw + 7))
		return SW_EIO;
	raw[15] = (unsigned char)alg;
	raw[16] = (unsigned char)qop_mask;
	int err = sw__hmac(&nc->cur, raw, PAYLOAD, NULL, 0, mac);
	if (err)
		return err;
	memcpy(raw + PAYLOAD, mac, TAG);
	b64url_encode(raw, RAW, out);
	return 0;
}

enum sw_nonce_status sw_nonce_verify(struct sw_nonce_ctx *nc, sw_str nonce, uint64_t now,
				     struct sw_nonce_info *info)
{
	unsigned char raw[RAW], mac[32];
	struct sw__hmac *h;

	if (!nonce.p || nonce.len != SW_NONCE_LEN || !b64url_decode(nonce.p, nonce.len, raw))
		return SW_NONCE_INVALID;
	if (raw[0] != SW_NONCE_VERSION)
		return SW_NONCE_INVALID;
	uint16_t kid = (uint16_t)(raw[1] << 8 | raw[2]);
	if (kid == nc->cur_id)
		h = &nc->cur;
	else if (nc->has_prev && kid == nc->prev_id && now < nc->prev_until)
		h = &nc->prev;
	else
		return SW_NONCE_INVALID;
	if (sw__hmac(h, raw, PAYLOAD, NULL, 0, mac))
		return SW_NONCE_INVALID;
	if (CRYPTO_memcmp(mac, raw + PAYLOAD, TAG) != 0)
		return SW_NONCE_INVALID;
	/* Authentic from here on: the fields are ours. */
	uint64_t issued = (uint64_t)raw[3] << 24 | (uint64_t)raw[4] << 16 |
			  (uint64_t)raw[5] << 8 | raw[6];
	if (raw[15] >= SW_ALG__COUNT || raw[16] > 7)
		return SW_NONCE_INVALID;
	if (issued > now + nc->drift)
		return SW_NONCE_INVALID;
	if (info) {
		info->key_id = kid;
		info->issued = issued;
		info->alg = (enum sw_digest_alg)raw[15];
		info->qop_mask = raw[16];
	}
	if (now > issued && now - issued > nc->lifetime)
		return SW_NONCE_STALE;
	return SW_NONCE_FRESH;
}
