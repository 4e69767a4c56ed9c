/* Offline diagnosis of a digest response: is it right for this password (or
 * HA1)? If not, which known client mistake reproduces it? Used by
 * `sipwarden digest --verify` and by the capture analyzer. Each variant is
 * one full response computation with one input changed; the first that
 * matches names the mistake. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "auth/auth_int.h"

#define FIELD_MAX 1024u

struct ctx {
	struct sw_digest_ctx *dc;
	const struct sw_diagnose_in *in;
	enum sw_digest_alg alg;        /* declared */
	enum sw_qop qop;               /* declared (NONE when absent or a list) */
	sw_str user, realm, uri, nonce, cnonce, nc, qop_raw;
	char got[SW_DIGEST_HEX_MAX + 1];
	size_t got_len;
	unsigned tried;
};

/* One variant: everything as sent except what the arguments override.
 * Returns 1 on a match, 0 on no match, < 0 on error. */
static int try(struct ctx *c, enum sw_digest_alg alg, sw_str user, sw_str realm, sw_str uri,
	       enum sw_qop qop, sw_str qop_str, struct sw_digest_result *r)
{
	char ha1[SW_DIGEST_HEX_MAX + 1];
	size_t hexlen = sw_digest_hex_len(alg);
	enum sw_digest_hash h = sw_digest_alg_hash(alg);
	int err;
	if (c->in->password.p) {
		err = sw_digest_ha1(c->dc, h, user, realm, c->in->password, ha1);
		if (err)
			return err;
	} else {
		/* an HA1 fixes user, realm and hash */
		if (h != sw_digest_alg_hash(c->alg) || !sw_str_eq_str(user, c->user) ||
		    !sw_str_eq_str(realm, c->realm))
			return 0;
		sw__hex_lower(c->in->ha1, ha1);
	}
	struct sw_digest_params p = {
		.alg = alg, .ha1 = sw_str_from(ha1, hexlen), .nonce = c->nonce, .cnonce = c->cnonce,
		.nc = c->nc, .qop = qop, .qop_str = qop_str, .method = c->in->method, .uri = uri,
		.body = c->in->body,
	};
	err = sw_digest_response(c->dc, &p, r);
	if (err)
		return err;
	c->tried++;
	return c->got_len == hexlen && !memcmp(r->response, c->got, hexlen);
}

static sw_str unq(sw_str s, char *buf)
{
	if (!s.p)
		return s;
	int n = sw_str_unquote(s, buf, FIELD_MAX);
	return n < 0 ? SW_STR_NULL : sw_str_from(buf, (size_t)n);
}

static void say(struct sw_diagnosis *out, enum sw_mistake m, enum sw_cause cause,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void say(struct sw_diagnosis *out, enum sw_mistake m, enum sw_cause cause,
		const char *fmt, ...)
{
	va_list ap;
	out->mistake = m;
	out->cause = cause;
	va_start(ap, fmt);
	vsnprintf(out->what, sizeof(out->what), fmt, ap);
	va_end(ap);
}

#define P(s) (int)(s).len, (s).p

const char *sw_mistake_id(enum sw_mistake m)
{
	static const char *const ids[] = { "none", "realm", "uri", "username-domain", "qop-list",
					   "qop-token", "no-qop", "algorithm", "unknown" };
	return (unsigned)m < sizeof(ids) / sizeof(ids[0]) ? ids[m] : "unknown";
}

int sw_digest_diagnose(struct sw_digest_ctx *dc, const struct sw_diagnose_in *in,
		       struct sw_diagnosis *out)
{
	const struct sw_auth *a = in->auth;
	char ubuf[FIELD_MAX], rbuf[FIELD_MAX], uribuf[FIELD_MAX], nbuf[FIELD_MAX], cbuf[FIELD_MAX];
	char vbuf[FIELD_MAX];
	struct sw_diagnosis d;
	struct sw_digest_result r;
	struct ctx c = { .dc = dc, .in = in };
	int m;

	if (!a || !a->username.p || !a->realm.p || !a->nonce.p || !a->uri.p || !a->response.p)
		return SW_EINVAL;
	if (!in->password.p && !in->ha1.p)
		return SW_EINVAL;
	if (sw_digest_alg_parse(a->algorithm, &c.alg))
		return SW_EPARSE;
	if (in->ha1.p && !sw__is_hex(in->ha1, sw_digest_hex_len(c.alg)))
		return SW_EINVAL;
	c.user = unq(a->username, ubuf);
	c.realm = unq(a->realm, rbuf);
	c.uri = unq(a->uri, uribuf);
	c.nonce = unq(a->nonce, nbuf);
	c.cnonce = unq(a->cnonce, cbuf);
	c.nc = a->nc;
	c.qop_raw = a->qop;
	if (!c.user.p || !c.realm.p || !c.uri.p || !c.nonce.p || (a->cnonce.p && !c.cnonce.p))
		return SW_EINVAL;
	bool qop_list = a->qop.p && memchr(a->qop.p, ',', a->qop.len);
	if (a->qop.p && !qop_list && sw_qop_parse(a->qop, &c.qop))
		return SW_EPARSE;
	c.got_len = a->response.len < sizeof(c.got) ? a->response.len : sizeof(c.got) - 1;
	sw__hex_lower(sw_str_from(a->response.p, c.got_len), c.got);

	memset(&d, 0, sizeof(d));
	d.cause = SW_CAUSE_OK;
	/* As sent (a qop list is hashed as written). */
	sw_str qs = qop_list ? a->qop : SW_STR_NULL;
	if ((m = try(&c, c.alg, c.user, c.realm, c.uri, c.qop, qs, &r)) < 0)
		return m;
	memcpy(d.expected, r.response, sizeof(d.expected));
	memcpy(d.ha1, r.ha1, sizeof(d.ha1));
	memcpy(d.ha2, r.ha2, sizeof(d.ha2));
	if (m) {
		d.match = true;
		snprintf(d.what, sizeof(d.what), "the response is right");
		goto done;
	}

	/* Realm variants. */
	struct sw_uri ru;
	sw_str ruri_host = SW_STR_NULL;
	if (in->ruri.p && sw_uri_parse(&ru, in->ruri, NULL) == 0)
		ruri_host = ru.host;
	const sw_str realms[] = { in->challenge_realm, in->to_host, in->from_host, ruri_host,
				  SW_STR_LIT("asterisk"), SW_STR_LIT("") };
	for (size_t i = 0; i < sizeof(realms) / sizeof(realms[0]); i++) {
		if (!realms[i].p || sw_str_eq_str(realms[i], c.realm))
			continue;
		if ((m = try(&c, c.alg, c.user, realms[i], c.uri, c.qop, qs, &r)) < 0)
			return m;
		if (m) {
			say(&d, SW_MISTAKE_REALM, SW_CAUSE_REALM_MISMATCH,
			    "the phone hashed realm '%.*s', not the realm '%.*s' it sent", P(realms[i]),
			    P(c.realm));
			goto done;
		}
	}
	/* The Request-URI instead of the digest uri. */
	if (in->ruri.p && !sw_str_eq_str(in->ruri, c.uri)) {
		if ((m = try(&c, c.alg, c.user, c.realm, in->ruri, c.qop, qs, &r)) < 0)
			return m;
		if (m) {
			say(&d, SW_MISTAKE_URI, SW_CAUSE_URI_MISMATCH,
			    "the phone hashed the Request-URI '%.*s', not the digest uri '%.*s' it sent",
			    P(in->ruri), P(c.uri));
			goto done;
		}
	}
	/* Username with / without @domain. */
	const char *at = memchr(c.user.p, '@', c.user.len);
	if (at) {
		sw_str bare = sw_str_from(c.user.p, (size_t)(at - c.user.p));
		if ((m = try(&c, c.alg, bare, c.realm, c.uri, c.qop, qs, &r)) < 0)
			return m;
		if (m) {
			say(&d, SW_MISTAKE_USERNAME_DOMAIN, SW_CAUSE_USERNAME_HAS_DOMAIN,
			    "the phone hashed username '%.*s' but sent '%.*s'", P(bare), P(c.user));
			goto done;
		}
	} else {
		const sw_str doms[] = { c.realm, in->to_host, in->from_host, ruri_host };
		for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
			if (!doms[i].p || !doms[i].len || c.user.len + 1 + doms[i].len > sizeof(vbuf))
				continue;
			int n = snprintf(vbuf, sizeof(vbuf), "%.*s@%.*s", P(c.user), P(doms[i]));
			sw_str full = sw_str_from(vbuf, (size_t)n);
			if ((m = try(&c, c.alg, full, c.realm, c.uri, c.qop, qs, &r)) < 0)
				return m;
			if (m) {
				say(&d, SW_MISTAKE_USERNAME_DOMAIN, SW_CAUSE_USERNAME_HAS_DOMAIN,
				    "the phone hashed username '%.*s' but sent '%.*s'", P(full), P(c.user));
				goto done;
			}
		}
	}
	/* qop: the list instead of a token, a token instead of the sent list. */
	if (a->qop.p && !qop_list) {
		static const sw_str lists[] = { SW_STR_LIT("auth,auth-int"), SW_STR_LIT("auth-int,auth"),
						SW_STR_LIT("auth, auth-int") };
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			if ((m = try(&c, c.alg, c.user, c.realm, c.uri, c.qop, lists[i], &r)) < 0)
				return m;
			if (m) {
				say(&d, SW_MISTAKE_QOP_LIST, SW_CAUSE_QOP_INVALID,
				    "the phone hashed the offered qop list '%.*s' instead of the token '%.*s' it sent",
				    P(lists[i]), P(a->qop));
				goto done;
			}
		}
	} else if (qop_list) {
		for (enum sw_qop q = SW_QOP_AUTH; q <= SW_QOP_AUTH_INT; q++) {
			if ((m = try(&c, c.alg, c.user, c.realm, c.uri, q, SW_STR_NULL, &r)) < 0)
				return m;
			if (m) {
				say(&d, SW_MISTAKE_QOP_TOKEN, SW_CAUSE_QOP_INVALID,
				    "the phone sent the qop list '%.*s' but hashed the token '%s'", P(a->qop),
				    sw_qop_name(q));
				goto done;
			}
		}
	}
	/* An RFC 2069 response although qop was sent. */
	if (a->qop.p) {
		if ((m = try(&c, c.alg, c.user, c.realm, c.uri, SW_QOP_NONE, SW_STR_NULL, &r)) < 0)
			return m;
		if (m) {
			say(&d, SW_MISTAKE_NO_QOP, SW_CAUSE_QOP_INVALID,
			    "the phone computed the response without qop (RFC 2069) although it sent qop=%.*s",
			    P(a->qop));
			goto done;
		}
	}
	/* Another algorithm than the one declared. */
	for (unsigned i = 0; i < SW_ALG__COUNT; i++) {
		enum sw_digest_alg alt = (enum sw_digest_alg)i;
		if (alt == c.alg || (sw_digest_alg_sess(alt) && !c.cnonce.p))
			continue;
		if ((m = try(&c, alt, c.user, c.realm, c.uri, c.qop, qs, &r)) < 0)
			return m;
		if (m) {
			say(&d, SW_MISTAKE_ALGORITHM, SW_CAUSE_ALGORITHM_MISMATCH,
			    "the phone hashed with %s but declared algorithm=%s", sw_digest_alg_name(alt),
			    sw_digest_alg_name(c.alg));
			goto done;
		}
	}
	say(&d, SW_MISTAKE_UNKNOWN, SW_CAUSE_WRONG_PASSWORD,
	    "no known mistake reproduces the response: the %s differs from the phone's",
	    in->password.p ? "password" : "HA1");
done:
	d.tried = c.tried;
	*out = d;
	return 0;
}
