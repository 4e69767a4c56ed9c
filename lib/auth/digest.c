/* Digest math (RFC 7616, RFC 8760, RFC 2617/2069): HA1, HA2 and the
 * request-digest for every algorithm through one code path. The hash is a
 * parameter: a small table of OpenSSL names, fetched once per context. */
#include <stdlib.h>
#include <string.h>
#include "auth/auth_int.h"

struct hash_desc {
	const char *ossl;      /* OpenSSL fetch name */
	const char *name;      /* algorithm= value */
	unsigned len;          /* digest bytes */
};

static const struct hash_desc hashes[SW_HASH__COUNT] = {
	[SW_HASH_MD5] = { "MD5", "MD5", 16 },
	[SW_HASH_SHA256] = { "SHA2-256", "SHA-256", 32 },
	[SW_HASH_SHA512_256] = { "SHA2-512/256", "SHA-512-256", 32 },
};

static const char *const alg_names[SW_ALG__COUNT] = {
	"MD5", "SHA-256", "SHA-512-256", "MD5-sess", "SHA-256-sess", "SHA-512-256-sess",
};

struct sw_digest_ctx {
	EVP_MD *md[SW_HASH__COUNT];
	EVP_MD_CTX *ctx;
};

int sw_digest_ctx_new(struct sw_digest_ctx **out)
{
	struct sw_digest_ctx *dc = calloc(1, sizeof(*dc));
	if (!dc)
		return SW_ENOMEM;
	dc->ctx = EVP_MD_CTX_new();
	if (!dc->ctx)
		goto fail;
	for (unsigned i = 0; i < SW_HASH__COUNT; i++) {
		dc->md[i] = EVP_MD_fetch(NULL, hashes[i].ossl, NULL);
		if (!dc->md[i])
			goto fail;
	}
	*out = dc;
	return 0;
fail:
	sw_digest_ctx_free(dc);
	return SW_ECRYPTO;
}

void sw_digest_ctx_free(struct sw_digest_ctx *dc)
{
	if (!dc)
		return;
	for (unsigned i = 0; i < SW_HASH__COUNT; i++)
		EVP_MD_free(dc->md[i]);
	EVP_MD_CTX_free(dc->ctx);
	free(dc);
}

size_t sw_digest_hex_len(enum sw_digest_alg a)
{
	return 2u * hashes[sw_digest_alg_hash(a)].len;
}

const char *sw_digest_alg_name(enum sw_digest_alg a)
{
	return (unsigned)a < SW_ALG__COUNT ? alg_names[a] : "unknown";
}

int sw_digest_alg_parse(sw_str name, enum sw_digest_alg *out)
{
	if (!name.p) {
		*out = SW_ALG_MD5;
		return 0;
	}
	for (unsigned i = 0; i < SW_ALG__COUNT; i++) {
		if (sw_str_ieq(name, alg_names[i])) {
			*out = (enum sw_digest_alg)i;
			return 0;
		}
	}
	return SW_EPARSE;
}

int sw_qop_parse(sw_str s, enum sw_qop *out)
{
	if (sw_str_ieq(s, "auth"))
		*out = SW_QOP_AUTH;
	else if (sw_str_ieq(s, "auth-int"))
		*out = SW_QOP_AUTH_INT;
	else
		return SW_EPARSE;
	return 0;
}

const char *sw_qop_name(enum sw_qop q)
{
	switch (q) {
	case SW_QOP_AUTH: return "auth";
	case SW_QOP_AUTH_INT: return "auth-int";
	case SW_QOP_NONE: break;
	}
	return "";
}

void sw__hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* 1 for [0-9a-fA-F]. */
static const unsigned char hexchar[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

bool sw__is_hex(sw_str s, size_t len)
{
	if (!s.p || s.len != len)
		return false;
	unsigned ok = 1;
	for (size_t i = 0; i < len; i++)
		ok &= hexchar[(unsigned char)s.p[i]];
	return ok;
}

void sw__hex_lower(sw_str s, char *out)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	out[s.len] = '\0';
}

/* Runs f with dc, or with a temporary context when dc is NULL. */
#define WITH_CTX(dc, tmp)                                  \
	struct sw_digest_ctx *tmp = NULL;                   \
	if (!(dc)) {                                        \
		int e_ = sw_digest_ctx_new(&tmp);           \
		if (e_)                                     \
			return e_;                          \
		(dc) = tmp;                                 \
	}

int sw__digest_raw(struct sw_digest_ctx *dc, enum sw_digest_hash h, const sw_str *parts,
		   size_t n, unsigned char *out, unsigned *outlen)
{
	WITH_CTX(dc, tmp);
	int err = SW_ECRYPTO;
	if (EVP_DigestInit_ex2(dc->ctx, dc->md[h], NULL) != 1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (i && EVP_DigestUpdate(dc->ctx, ":", 1) != 1)
			goto out;
		if (parts[i].len && EVP_DigestUpdate(dc->ctx, parts[i].p, parts[i].len) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(dc->ctx, out, outlen) != 1)
		goto out;
	err = 0;
out:
	sw_digest_ctx_free(tmp);
	return err;
}

int sw_digest_hash_join(struct sw_digest_ctx *dc, enum sw_digest_hash h, const sw_str *parts,
			size_t n, char *hex)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if ((unsigned)h >= SW_HASH__COUNT)
		return SW_EINVAL;
	int err = sw__digest_raw(dc, h, parts, n, raw, &len);
	if (err)
		return err;
	sw__hex(raw, len, hex);
	return 0;
}

int sw_digest_ha1(struct sw_digest_ctx *dc, enum sw_digest_hash h, sw_str username,
		  sw_str realm, sw_str password, char *hex)
{
	sw_str parts[3] = { username, realm, password };
	return sw_digest_hash_join(dc, h, parts, 3, hex);
}

int sw_digest_userhash(struct sw_digest_ctx *dc, enum sw_digest_hash h, sw_str username,
		       sw_str realm, char *hex)
{
	sw_str parts[2] = { username, realm };
	return sw_digest_hash_join(dc, h, parts, 2, hex);
}

int sw_digest_response(struct sw_digest_ctx *dc, const struct sw_digest_params *p,
		       struct sw_digest_result *out)
{
	if ((unsigned)p->alg >= SW_ALG__COUNT)
		return SW_EINVAL;
	enum sw_digest_hash h = sw_digest_alg_hash(p->alg);
	size_t hexlen = sw_digest_hex_len(p->alg);
	if (!sw__is_hex(p->ha1, hexlen))
		return SW_EINVAL;
	WITH_CTX(dc, tmp);
	struct sw_digest_result r;
	char body_hex[SW_DIGEST_HEX_MAX + 1];
	int err;

	sw__hex_lower(p->ha1, r.ha1);
	if (sw_digest_alg_sess(p->alg)) {
		/* RFC 7616 §3.4.2: HA1 = H(H(user:realm:pass) ":" nonce ":" cnonce) */
		sw_str s[3] = { sw_str_from(r.ha1, hexlen), p->nonce, p->cnonce };
		if ((err = sw_digest_hash_join(dc, h, s, 3, r.ha1)))
			goto out;
	}
	if (p->qop == SW_QOP_AUTH_INT) {
		sw_str b = p->body.p ? p->body : SW_STR_LIT("");
		if ((err = sw_digest_hash_join(dc, h, &b, 1, body_hex)))
			goto out;
		sw_str s[3] = { p->method, p->uri, sw_str_from(body_hex, hexlen) };
		err = sw_digest_hash_join(dc, h, s, 3, r.ha2);
	} else {
		sw_str s[2] = { p->method, p->uri };
		err = sw_digest_hash_join(dc, h, s, 2, r.ha2);
	}
	if (err)
		goto out;
	if (p->qop == SW_QOP_NONE && !p->qop_str.p) {
		sw_str s[3] = { sw_str_from(r.ha1, hexlen), p->nonce, sw_str_from(r.ha2, hexlen) };
		err = sw_digest_hash_join(dc, h, s, 3, r.response);
	} else {
		const char *qn = sw_qop_name(p->qop);
		sw_str q = p->qop_str.p ? p->qop_str : sw_str_from(qn, strlen(qn));
		sw_str s[6] = { sw_str_from(r.ha1, hexlen), p->nonce, p->nc, p->cnonce, q,
				sw_str_from(r.ha2, hexlen) };
		err = sw_digest_hash_join(dc, h, s, 6, r.response);
	}
	if (!err)
		*out = r;
out:
	sw_digest_ctx_free(tmp);
	return err;
}
