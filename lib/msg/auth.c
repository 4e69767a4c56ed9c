/* Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate
 * values (RFC 3261 §25.1, RFC 7616 §3.3-3.4): a scheme and auth-params. */
#include <string.h>
#include <strings.h>
#include "scan.h"

struct known {
	const char *name;
	uint8_t len;
	size_t off;
	uint32_t bit;
};

#define K(n, f, b) { n, sizeof(n) - 1, offsetof(struct sw_auth, f), b }
static const struct known known[] = {
	K("username", username, SW_AUTH_P_USERNAME), K("realm", realm, SW_AUTH_P_REALM),
	K("nonce", nonce, SW_AUTH_P_NONCE),          K("uri", uri, SW_AUTH_P_URI),
	K("response", response, SW_AUTH_P_RESPONSE), K("algorithm", algorithm, SW_AUTH_P_ALGORITHM),
	K("cnonce", cnonce, SW_AUTH_P_CNONCE),       K("opaque", opaque, SW_AUTH_P_OPAQUE),
	K("qop", qop, SW_AUTH_P_QOP),                K("nc", nc, SW_AUTH_P_NC),
	K("stale", stale, SW_AUTH_P_STALE),          K("domain", domain, SW_AUTH_P_DOMAIN),
	K("userhash", userhash, SW_AUTH_P_USERHASH), K("charset", charset, SW_AUTH_P_CHARSET),
	K("username*", username_ext, SW_AUTH_P_USERNAME_EXT),
};
#undef K

/* One auth-param at p: name, '=', token or quoted-string. Sets *name and
 * *value (quotes stripped; *quoted tells) and returns the end, or NULL. */
static const char *scan_param(const char *p, const char *end, sw_str *name, sw_str *value,
			      bool *quoted)
{
	const char *s = p;
	while (p < end && (sw__is((unsigned char)*p, SW__C_TOKEN) || *p == '*'))
		p++;
	if (p == s)
		return NULL;
	*name = (sw_str){ s, (size_t)(p - s) };
	p = sw__skip_lws(p, end);
	if (p >= end || *p != '=')
		return NULL;
	p = sw__skip_lws(p + 1, end);
	if (p < end && *p == '"') {
		const char *q = sw__scan_quoted(p, end);
		if (!q)
			return NULL;
		*value = (sw_str){ p + 1, (size_t)(q - p - 2) };
		*quoted = true;
		return q;
	}
	s = p;
	/* tokens, plus the characters clients put in unquoted uri/nc values */
	while (p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
	       *p != '"' && (unsigned char)*p > 0x20 && *p != 0x7f)
		p++;
	if (p == s)
		return NULL;
	*value = (sw_str){ s, (size_t)(p - s) };
	*quoted = false;
	return p;
}

/* After a comma: does "token LWS token =" start another challenge? */
static bool starts_challenge(const char *p, const char *end)
{
	const char *s = p;
	while (p < end && sw__is((unsigned char)*p, SW__C_TOKEN))
		p++;
	if (p == s)
		return false;
	const char *q = sw__skip_lws(p, end);
	if (q == p || q >= end)
		return false;
	s = q;
	while (q < end && sw__is((unsigned char)*q, SW__C_TOKEN))
		q++;
	if (q == s)
		return false;
	q = sw__skip_lws(q, end);
	return q < end && *q == '=';
}

int sw_auth_parse(struct sw_auth *a, sw_str value, struct sw_perr *err)
{
	memset(a, 0, sizeof(*a));
	a->raw = value;
	const char *p = value.p, *end = sw__end(value);
	p = sw__skip_lws(p, end);
	const char *s = p;
	while (p < end && sw__is((unsigned char)*p, SW__C_TOKEN))
		p++;
	if (p == s)
		return sw__fail(err, SW_EPARSE, 400, s, "expected an authentication scheme (Digest)");
	a->scheme = (sw_str){ s, (size_t)(p - s) };
	a->is_digest = sw_str_ieq(a->scheme, "Digest");
	const char *ps = sw__skip_lws(p, end);
	if (ps == end) {
		a->params = (sw_str){ ps, 0 };
		return 0;
	}
	if (ps == p)
		return sw__fail(err, SW_EPARSE, 400, p, "expected a space after the scheme");
	p = ps;
	uint32_t seen = 0;
	for (;;) {
		sw_str name, val;
		bool quoted;
		const char *ns = p;
		const char *e = scan_param(p, end, &name, &val, &quoted);
		if (!e) {
			if (!a->is_digest && ns == ps) {
				/* token68 or another scheme's own syntax: keep it whole */
				a->params = (sw_str){ ps, (size_t)(end - ps) };
				return 0;
			}
			return sw__fail(err, SW_EPARSE, 400, ns, "expected name=value or name=\"value\" in the auth parameters");
		}
		size_t k;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (known[k].len == name.len && !strncasecmp(known[k].name, name.p, name.len))
				break;
		if (k < sizeof(known) / sizeof(known[0])) {
			if (seen & known[k].bit)
				return sw__fail(err, SW_EPARSE, 400, ns, "duplicate auth parameter");
			seen |= known[k].bit;
			*(sw_str *)((char *)a + known[k].off) = val;
			if (quoted)
				a->quoted_mask |= known[k].bit;
		} else {
			/* an unknown parameter may not repeat either */
			sw_str prev = { ps, (size_t)(ns - ps) };
			sw_str pn, pv;
			bool pq;
			const char *q = prev.p, *qend = sw__end(prev);
			while (q < qend) {
				q = sw__skip_lws(q, qend);
				const char *qe = scan_param(q, qend, &pn, &pv, &pq);
				if (!qe)
					break;
				if (sw_str_ieq_str(pn, name))
					return sw__fail(err, SW_EPARSE, 400, ns, "duplicate auth parameter");
				q = sw__skip_lws(qe, qend);
				if (q < qend && *q == ',')
					q++;
			}
		}
		p = sw__skip_lws(e, end);
		if (p == end) {
			a->params = (sw_str){ ps, (size_t)(end - ps) };
			return 0;
		}
		if (*p != ',')
			return sw__fail(err, SW_EPARSE, 400, p, "expected ',' between auth parameters");
		const char *comma = p;
		p = sw__skip_lws(p + 1, end);
		if (starts_challenge(p, end)) {
			a->params = (sw_str){ ps, (size_t)(comma - ps) };
			a->next = (sw_str){ p, (size_t)(end - p) };
			return 0;
		}
	}
}

bool sw_auth_param(const struct sw_auth *a, const char *name, sw_str *value)
{
	const char *p = a->params.p, *end = sw__end(a->params);
	while (p && p < end) {
		sw_str n, v;
		bool q;
		p = sw__skip_lws(p, end);
		const char *e = scan_param(p, end, &n, &v, &q);
		if (!e)
			return false;
		if (sw_str_ieq(n, name)) {
			if (value)
				*value = v;
			return true;
		}
		p = sw__skip_lws(e, end);
		if (p < end && *p == ',')
			p++;
	}
	return false;
}
