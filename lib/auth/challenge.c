/* Challenges: one WWW-Authenticate (or Proxy-Authenticate) value per offered
 * algorithm, in the configured order. Each carries its own nonce because a
 * nonce is bound to the algorithm it was offered with. Nothing in a
 * challenge depends on who asked, so an unknown user and a wrong password
 * are answered with the same bytes apart from the nonces. */
#include <string.h>
#include "auth/auth_int.h"

void sw_auth_cfg_default(struct sw_auth_cfg *c, const char *realm)
{
	memset(c, 0, sizeof(*c));
	c->realm = realm;
	c->algs[0] = SW_ALG_MD5;
	c->algs[1] = SW_ALG_SHA256;
	c->nalgs = 2;
	c->qop_mask = SW_QOP_BIT(SW_QOP_AUTH);
	c->nonce_lifetime = SW_NONCE_LIFETIME_DEFAULT;
	c->nonce_drift = SW_NONCE_DRIFT_DEFAULT;
}

/* realm is validated by sw_verifier_new (no CTL); quote '"' and '\'. */
static void add_quoted(struct sw_buf *b, const char *p, size_t n)
{
	sw_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			sw_buf_addc(b, '\\');
		sw_buf_addc(b, p[i]);
	}
	sw_buf_addc(b, '"');
}

void sw_challenge_value(const struct sw_verifier *v, enum sw_digest_alg alg, sw_str nonce,
			bool stale, struct sw_buf *out)
{
	sw_buf_adds(out, "Digest realm=");
	add_quoted(out, v->realm, v->realm_len);
	sw_buf_adds(out, ", nonce=\"");
	sw_buf_add_str(out, nonce);
	sw_buf_addf(out, "\", opaque=\"%s\", algorithm=%s", v->opaque, sw_digest_alg_name(alg));
	unsigned q = v->cfg.qop_mask;
	if (q & (SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT))) {
		sw_buf_adds(out, ", qop=\"");
		if (q & SW_QOP_BIT(SW_QOP_AUTH))
			sw_buf_adds(out, "auth");
		if ((q & SW_QOP_BIT(SW_QOP_AUTH)) && (q & SW_QOP_BIT(SW_QOP_AUTH_INT)))
			sw_buf_addc(out, ',');
		if (q & SW_QOP_BIT(SW_QOP_AUTH_INT))
			sw_buf_adds(out, "auth-int");
		sw_buf_addc(out, '"');
	}
	if (stale)
		sw_buf_adds(out, ", stale=true");
	if (v->cfg.userhash)
		sw_buf_adds(out, ", userhash=true");
}

int sw_challenge_build(struct sw_verifier *v, uint64_t now, bool stale, struct sw_buf *out)
{
	const char *name = v->cfg.proxy ? "Proxy-Authenticate: " : "WWW-Authenticate: ";
	for (unsigned i = 0; i < v->cfg.nalgs; i++) {
		char nonce[SW_NONCE_LEN + 1];
		int err = sw_nonce_mint(v->nonces, now, v->cfg.algs[i], v->cfg.qop_mask, nonce);
		if (err)
			return err;
		sw_buf_adds(out, name);
		sw_challenge_value(v, v->cfg.algs[i], sw_str_from(nonce, SW_NONCE_LEN), stale, out);
		sw_buf_adds(out, "\r\n");
	}
	return sw_buf_status(out);
}
