/* The verifier: checks the digest credentials of a request and returns
 * exactly one cause from the causes table. The checks run in a fixed order
 * (docs/internals/auth.md); everything that could tell an attacker whether
 * a user exists happens after the same amount of hashing for both cases. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/auth_int.h"

#define USER_MAX 512u
#define URI_MAX 2048u
#define CNONCE_MAX 512u

static int derive_secrets(struct sw_verifier *v, const struct sw_secret *s)
{
	unsigned char k[SW_KEY_BYTES];
	char hex[2 * SW_KEY_BYTES + 1];
	int err = sw_secret_derive(&s->cur, "sipwarden dummy ha1", k);
	if (err)
		return err;
	sw__hex(k, sizeof(k), hex);
	/* A dummy HA1 per hash: an unknown user is hashed like a known one. */
	for (unsigned h = 0; h < SW_HASH__COUNT && !err; h++) {
		sw_str part = sw_str_from(hex, sizeof(hex) - 1);
		err = sw_digest_hash_join(v->dc, (enum sw_digest_hash)h, &part, 1, v->dummy_ha1[h]);
	}
	if (!err)
		err = sw_secret_derive(&s->cur, "sipwarden opaque", k);
	if (!err)
		sw__hex(k, 16, v->opaque);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(hex, sizeof(hex));
	return err;
}

static bool cfg_valid(const struct sw_auth_cfg *c)
{
	if (!c->realm || strlen(c->realm) > SW__REALM_MAX)
		return false;
	for (const char *p = c->realm; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	if (c->nalgs == 0 || c->nalgs > SW_ALG__COUNT)
		return false;
	for (unsigned i = 0; i < c->nalgs; i++) {
		if ((unsigned)c->algs[i] >= SW_ALG__COUNT)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (c->algs[j] == c->algs[i])
				return false;
	}
	return !(c->qop_mask & ~(SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT)));
}

int sw_verifier_new(struct sw_verifier **out, const struct sw_auth_cfg *cfg,
		    const struct sw_secret *secret, struct sw_nc_tracker *nc)
{
	if (!cfg_valid(cfg))
		return SW_EINVAL;
	struct sw_verifier *v = calloc(1, sizeof(*v));
	if (!v)
		return SW_ENOMEM;
	v->cfg = *cfg;
	v->realm_len = strlen(cfg->realm);
	memcpy(v->realm, cfg->realm, v->realm_len + 1);
	v->cfg.realm = v->realm;
	if (!v->cfg.nonce_lifetime)
		v->cfg.nonce_lifetime = SW_NONCE_LIFETIME_DEFAULT;
	v->nc = nc;
	int err = sw_digest_ctx_new(&v->dc);
	if (!err)
		err = sw_nonce_ctx_new(&v->nonces, secret, v->cfg.nonce_lifetime, v->cfg.nonce_drift);
	if (!err)
		err = derive_secrets(v, secret);
	if (err) {
		sw_verifier_free(v);
		return err;
	}
	*out = v;
	return 0;
}

void sw_verifier_free(struct sw_verifier *v)
{
	if (!v)
		return;
	sw_digest_ctx_free(v->dc);
	sw_nonce_ctx_free(v->nonces);
	OPENSSL_cleanse(v, sizeof(*v));
	free(v);
}

int sw_verifier_set_secret(struct sw_verifier *v, const struct sw_secret *secret)
{
	int err = sw_nonce_ctx_set_secret(v->nonces, secret);
	return err ? err : derive_secrets(v, secret);
}

const struct sw_auth_cfg *sw_verifier_cfg(const struct sw_verifier *v)
{
	return &v->cfg;
}

/* A value without its backslash escapes: the slice itself when it has none
 * (the common case), else a copy in buf. p NULL when it does not fit. */
static sw_str unq(sw_str s, char *buf, size_t cap)
{
	if (!s.p || (!memchr(s.p, '\\', s.len) && !memchr(s.p, '\n', s.len)))
		return s;
	int n = sw_str_unquote(s, buf, cap);
	return n < 0 ? SW_STR_NULL : sw_str_from(buf, (size_t)n);
}

static enum sw_cause finish(const struct sw_verifier *v, struct sw_verify_result *res,
			    enum sw_cause c, const char *detail)
{
	res->cause = c;
	res->detail = detail;
	switch (c) {
	case SW_CAUSE_OK: res->status = 200; break;
	case SW_CAUSE_MALFORMED_AUTHORIZATION:
	case SW_CAUSE_URI_MISMATCH: res->status = 400; break;
	case SW_CAUSE_STORE_UNAVAILABLE: res->status = 500; break;
	default: res->status = v->cfg.proxy ? 407 : 401; break;
	}
	return c;
}

static bool is_ipv4(sw_str h)
{
	unsigned dots = 0;
	if (!h.len)
		return false;
	for (size_t i = 0; i < h.len; i++) {
		if (h.p[i] == '.')
			dots++;
		else if (h.p[i] < '0' || h.p[i] > '9')
			return false;
	}
	return dots == 3;
}

static bool nc_parse(sw_str s, uint32_t *out)
{
	if (!sw__is_hex(s, 8))
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char c = s.p[i];
		unsigned d = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
		v = v << 4 | d;
	}
	*out = v;
	return v != 0;
}

static bool alg_offered(const struct sw_verifier *v, enum sw_digest_alg a)
{
	for (unsigned i = 0; i < v->cfg.nalgs; i++)
		if (v->cfg.algs[i] == a)
			return true;
	return false;
}

enum sw_cause sw_auth_verify_parts(struct sw_verifier *v, const struct sw_verify_in *in,
				   uint64_t now, const struct sw_cred_source *creds,
				   struct sw_verify_result *res)
{
	const struct sw_auth *a = in->auth;
	char ubuf[USER_MAX], rbuf[SW__REALM_MAX + 1], uribuf[URI_MAX], cbuf[CNONCE_MAX];
	char nbuf[SW_NONCE_LEN + 1], ha1[SW_DIGEST_HEX_MAX + 1], got[SW_DIGEST_HEX_MAX + 1];
	struct sw_nonce_info info;
	enum sw_digest_alg alg = SW_ALG_MD5;
	enum sw_qop qop = SW_QOP_NONE;
	uint32_t nc = 0;

	memset(res, 0, sizeof(*res));
	if (!a)
		return finish(v, res, SW_CAUSE_NO_CREDENTIALS, "the request has no credentials");
	if (!a->is_digest)
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION, "the scheme is not Digest");
	if (a->username_ext.p && !a->username.p)
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION, "username* is not supported");
	if (!a->username.p || !a->realm.p || !a->nonce.p || !a->uri.p || !a->response.p)
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION,
			      "username, realm, nonce, uri and response are all required");
	sw_str user = unq(a->username, ubuf, sizeof(ubuf));
	sw_str realm = unq(a->realm, rbuf, sizeof(rbuf));
	sw_str uri = unq(a->uri, uribuf, sizeof(uribuf));
	sw_str nonce = unq(a->nonce, nbuf, sizeof(nbuf));
	if (!user.p || !realm.p || !uri.p)
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION,
			      "a quoted value is too long or badly escaped");
	res->username = a->username;
	if (realm.len != v->realm_len || memcmp(realm.p, v->realm, v->realm_len))
		return finish(v, res, SW_CAUSE_REALM_MISMATCH, "the realm is not the one challenged");
	if (sw_digest_alg_parse(a->algorithm, &alg) || !alg_offered(v, alg))
		return finish(v, res, SW_CAUSE_ALGORITHM_UNSUPPORTED, "the algorithm was not offered");
	res->alg = alg;

	/* The nonce: ours, and for this algorithm and qop? */
	enum sw_nonce_status ns = nonce.p ? sw_nonce_verify(v->nonces, nonce, now, &info)
					  : SW_NONCE_INVALID;
	if (ns == SW_NONCE_INVALID)
		return finish(v, res, SW_CAUSE_NONCE_INVALID, "the nonce was not issued by this service");
	if (info.alg != alg)
		return finish(v, res, SW_CAUSE_ALGORITHM_MISMATCH,
			      "the algorithm differs from the one the nonce was offered with");

	sw_str cnonce = unq(a->cnonce, cbuf, sizeof(cbuf));
	if (a->qop.p) {
		if (memchr(a->qop.p, ',', a->qop.len))
			return finish(v, res, SW_CAUSE_QOP_INVALID, "qop must be one token, not the offered list");
		if (sw_qop_parse(a->qop, &qop) || !(info.qop_mask & SW_QOP_BIT(qop)))
			return finish(v, res, SW_CAUSE_QOP_INVALID, "the qop value was not offered");
		if (!a->nc.p || !nc_parse(a->nc, &nc))
			return finish(v, res, SW_CAUSE_QOP_INVALID, "nc must be 8 hex digits, not zero");
		if (!cnonce.p || cnonce.len == 0)
			return finish(v, res, SW_CAUSE_QOP_INVALID, "cnonce is missing or empty");
	} else {
		if (info.qop_mask && !v->cfg.allow_no_qop)
			return finish(v, res, SW_CAUSE_QOP_INVALID, "qop is missing although it was offered");
		if (sw_digest_alg_sess(alg) && (!cnonce.p || cnonce.len == 0))
			return finish(v, res, SW_CAUSE_QOP_INVALID, "a -sess algorithm needs a cnonce");
	}
	size_t hexlen = sw_digest_hex_len(alg);
	if (!sw__is_hex(a->response, hexlen))
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION,
			      "the response is not a hex digest of the algorithm's length");

	/* digest uri vs Request-URI, compared as RFC 3261 URIs. A uri naming the
	 * same host, our realm or an address (sipp's default is the server's
	 * address; Kamailio, Asterisk and FreeSWITCH accept it) is accepted and
	 * noted: the response still covers it, and the nonce binds the rest. */
	bool uri_noted = false;
	if (in->ruri.p) {
		struct sw_uri du, ru;
		bool same, parsed = !sw_uri_parse(&du, uri, NULL) && !sw_uri_parse(&ru, in->ruri, NULL);
		same = parsed ? sw_uri_equal(&du, &ru) : sw_str_eq_str(uri, in->ruri);
		bool sip = parsed && (du.scheme == SW_URI_SIP || du.scheme == SW_URI_SIPS);
		if (!same && sip && (v->cfg.uri_is_ours ? v->cfg.uri_is_ours(v->cfg.uri_arg, &du)
					: sw_str_ieq_str(du.host, ru.host) || sw_str_ieq_str(du.host, realm) ||
					  du.host_ipv6 || is_ipv4(du.host)))
			same = uri_noted = true;
		if (!same)
			return finish(v, res, SW_CAUSE_URI_MISMATCH, "the digest uri differs from the Request-URI");
	}

	/* Credentials: a dummy HA1 for an unknown user, then the same work. */
	bool is_userhash = a->userhash.p && sw_str_ieq(a->userhash, "true");
	enum sw_digest_hash h = sw_digest_alg_hash(alg);
	int lerr = creds->get_ha1(creds->arg, user, is_userhash, realm, h, ha1);
	bool known = lerr == 0;
	if (known && !sw__is_hex(sw_str_from(ha1, strnlen(ha1, sizeof(ha1))), hexlen))
		return finish(v, res, SW_CAUSE_STORE_UNAVAILABLE, "the stored HA1 is not valid hex");
	if (lerr && lerr != SW_ENOTFOUND)
		return finish(v, res, SW_CAUSE_STORE_UNAVAILABLE, "the credential lookup failed");
	if (!known)
		memcpy(ha1, v->dummy_ha1[h], hexlen + 1);

	struct sw_digest_params p = {
		.alg = alg, .ha1 = sw_str_from(ha1, hexlen), .nonce = nonce, .cnonce = cnonce,
		.nc = a->nc, .qop = qop, .method = in->method, .uri = uri, .body = in->body,
	};
	struct sw_digest_result r;
	if (sw_digest_response(v->dc, &p, &r))
		return finish(v, res, SW_CAUSE_STORE_UNAVAILABLE, "the digest computation failed");
	sw__hex_lower(a->response, got);
	bool match = CRYPTO_memcmp(r.response, got, hexlen) == 0;
	OPENSSL_cleanse(ha1, hexlen);

	if (!known) {
		const char *at = is_userhash ? NULL : memchr(user.p, '@', user.len);
		if (at && at > user.p &&
		    creds->get_ha1(creds->arg, sw_str_from(user.p, (size_t)(at - user.p)), false,
				   realm, h, ha1) == 0) {
			OPENSSL_cleanse(ha1, sizeof(ha1));
			return finish(v, res, SW_CAUSE_USERNAME_HAS_DOMAIN,
				      "the username carries a domain; the user without it exists");
		}
		return finish(v, res, SW_CAUSE_UNKNOWN_USER, "no such user in this realm");
	}
	if (!match)
		return finish(v, res, SW_CAUSE_WRONG_PASSWORD, "the response does not match the stored credentials");
	if (ns == SW_NONCE_STALE) {
		res->stale = true;
		return finish(v, res, SW_CAUSE_STALE_NONCE, "the nonce has expired; challenge again with stale=true");
	}
	if (v->nc && (qop != SW_QOP_NONE || v->cfg.one_time)) {
		struct sw_nc_use u = {
			.nonce = nonce, .nc = nc, .cnonce = cnonce, .response = a->response,
			.branch = in->branch, .expires = info.issued + v->cfg.nonce_lifetime + 1,
			.one_time = v->cfg.one_time,
		};
		int verdict = v->nc->ops->check(v->nc->self, &u, now);
		if (verdict < 0)
			return finish(v, res, SW_CAUSE_STORE_UNAVAILABLE, "the nonce-count tracker failed");
		if (verdict == SW_NC_FORGOTTEN) {
			res->stale = true;
			return finish(v, res, SW_CAUSE_STALE_NONCE,
				      "the server had to forget this nonce under load; challenge again with stale=true");
		}
		if (verdict == SW_NC_REPLAY)
			return finish(v, res, SW_CAUSE_NONCE_REPLAY, v->cfg.one_time
				      ? "this one-time nonce was already used"
				      : "the nonce count did not increase");
	}
	return finish(v, res, SW_CAUSE_OK,
		      uri_noted ? "authenticated; the digest uri names the server, not the Request-URI (accepted, as "
				  "Kamailio, Asterisk and FreeSWITCH do)"
				: "authenticated");
}

/* Parses one credentials header; true when it is Digest for our realm. */
static bool ours(const struct sw_verifier *v, const struct sw_auth *a)
{
	char buf[SW__REALM_MAX + 1];
	if (!a->is_digest || !a->realm.p)
		return false;
	sw_str r = unq(a->realm, buf, sizeof(buf));
	return r.p && r.len == v->realm_len && !memcmp(r.p, v->realm, r.len);
}

enum sw_cause sw_auth_verify(struct sw_verifier *v, const struct sw_msg *req, uint64_t now,
			     const struct sw_cred_source *creds, struct sw_verify_result *res)
{
	enum sw_hdr_id id = v->cfg.proxy ? SW_HDR_PROXY_AUTHORIZATION : SW_HDR_AUTHORIZATION;
	struct sw_auth chosen, tmp;
	bool have = false, bad = false;

	for (const struct sw_hdr *hd = sw_msg_hdr(req, id); hd; hd = sw_msg_hdr_next(req, hd)) {
		int err = sw_msg_auth(req, hd, &tmp, NULL);
		/* credentials of another scheme are not for us: the request is
		 * challenged as if it had none (RFC 4475 §3.3.7) */
		if (!err && !tmp.is_digest)
			continue;
		if (!err && ours(v, &tmp)) {
			chosen = tmp;
			have = true;
			bad = false;
			break;
		}
		if (!have && !bad) {      /* the first one, if none is ours */
			if (err)
				bad = true;
			else {
				chosen = tmp;
				have = true;
			}
		}
	}
	if (bad) {
		memset(res, 0, sizeof(*res));
		return finish(v, res, SW_CAUSE_MALFORMED_AUTHORIZATION, "the credentials header does not parse");
	}
	struct sw_verify_in in = {
		.auth = have ? &chosen : NULL, .method = req->method, .ruri = req->ruri,
		.body = req->body,
	};
	struct sw_via via;
	if (sw_msg_top_via(req, &via, NULL) == 0)
		in.branch = via.branch;
	return sw_auth_verify_parts(v, &in, now, creds, res);
}
