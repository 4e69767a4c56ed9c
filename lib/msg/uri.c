/* URIs: sip/sips (RFC 3261 §19.1, §25.1), tel (RFC 3966), any other scheme
 * as an opaque absoluteURI. Comparison per RFC 3261 §19.1.4. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "scan.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int sw_uri_unescape(sw_str in, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == '%') {
			if (i + 2 >= in.len || hexval(in.p[i + 1]) < 0 || hexval(in.p[i + 2]) < 0)
				return SW_EPARSE;
			c = (char)(hexval(in.p[i + 1]) * 16 + hexval(in.p[i + 2]));
			i += 2;
		}
		if (n >= cap)
			return SW_ENOSPC;
		out[n++] = c;
	}
	return (int)n;
}

static bool eq_decoded(sw_str a, sw_str b, bool icase);
static bool list_next(const char **pp, const char *end, char sep, sw_str *name, sw_str *value);

/* Was the parameter name n already used in [start, n)? */
static bool param_repeated(const char *start, sw_str n)
{
	const char *q = start;
	sw_str pn, pv;
	while (q < n.p - 1 && list_next(&q, n.p - 1, ';', &pn, &pv))
		if (eq_decoded(pn, n, true))
			return true;
	return false;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), pname/pvalue 1*paramchar;
 * a name may appear only once (RFC 3261 §19.1.1). */
static const char *scan_uri_params(const char *p, const char *end, struct sw_perr *err)
{
	const char *first = p + 1;
	while (p < end && *p == ';') {
		const char *n = ++p;
		p = sw__scan_escaped(p, end, SW__C_PARAM);
		if (!p || p == n)
			return sw__fail(err, SW_EPARSE, 400, p ? p : n, "expected a URI parameter name after ';'"), NULL;
		if (param_repeated(first, (sw_str){ n, (size_t)(p - n) }))
			return sw__fail(err, SW_EPARSE, 400, n, "a URI parameter appears twice"), NULL;
		if (p < end && *p == '=') {
			const char *v = ++p;
			p = sw__scan_escaped(p, end, SW__C_PARAM);
			if (!p || p == v)
				return sw__fail(err, SW_EPARSE, 400, p ? p : v, "expected a URI parameter value after '='"), NULL;
		}
	}
	return p;
}

/* headers: "?" header *( "&" header ), header = hname "=" hvalue */
static const char *scan_uri_headers(const char *p, const char *end, struct sw_perr *err)
{
	do {
		const char *n = ++p; /* past '?' or '&' */
		p = sw__scan_escaped(p, end, SW__C_HNV);
		if (!p || p == n)
			return sw__fail(err, SW_EPARSE, 400, p ? p : n, "expected a URI header name"), NULL;
		if (p >= end || *p != '=')
			return sw__fail(err, SW_EPARSE, 400, p, "expected '=' in a URI header"), NULL;
		p = sw__scan_escaped(p + 1, end, SW__C_HNV);
		if (!p)
			return sw__fail(err, SW_EPARSE, 400, p, "broken %-escape in a URI header"), NULL;
	} while (p < end && *p == '&');
	return p;
}

static int parse_sip(struct sw_uri *u, const char *p, const char *end, struct sw_perr *err)
{
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *s = p;
		p = sw__scan_escaped(p, at, SW__C_USER);
		if (!p)
			return sw__fail(err, SW_EPARSE, 400, s, "broken %-escape in the URI user part");
		if (p == s)
			return sw__fail(err, SW_EPARSE, 400, s, "empty user part before '@'");
		u->user = (sw_str){ s, (size_t)(p - s) };
		if (p < at && *p == ':') {
			s = ++p;
			p = sw__scan_escaped(p, at, SW__C_PASS);
			if (!p)
				return sw__fail(err, SW_EPARSE, 400, s, "broken %-escape in the URI password");
			u->password = (sw_str){ s, (size_t)(p - s) };
		}
		if (p != at)
			return sw__fail(err, SW_EPARSE, 400, p, "character not allowed in the URI user part");
		p = at + 1;
	}
	p = sw__scan_hostport(p, end, &u->host, &u->port, &u->host_ipv6, err);
	if (!p)
		return SW_EPARSE;
	const char *s = p;
	p = scan_uri_params(p, end, err);
	if (!p)
		return SW_EPARSE;
	u->params = (sw_str){ s, (size_t)(p - s) };
	if (p < end && *p == '?') {
		s = p;
		p = scan_uri_headers(p, end, err);
		if (!p)
			return SW_EPARSE;
		u->headers = (sw_str){ s + 1, (size_t)(p - s - 1) };
	}
	if (p != end)
		return sw__fail(err, SW_EPARSE, 400, p, "unexpected character in the URI");
	return 0;
}

/* tel:number;params (RFC 3966); the number's visual separators are kept. */
static int parse_tel(struct sw_uri *u, const char *p, const char *end, struct sw_perr *err)
{
	const char *s = p;
	while (p < end && (isxdigit((unsigned char)*p) || strchr("+*#-.()", *p)))
		p++;
	if (p == s)
		return sw__fail(err, SW_EPARSE, 400, s, "expected a telephone number in the tel URI");
	u->user = (sw_str){ s, (size_t)(p - s) };
	s = p;
	p = scan_uri_params(p, end, err);
	if (!p)
		return SW_EPARSE;
	u->params = (sw_str){ s, (size_t)(p - s) };
	if (p != end)
		return sw__fail(err, SW_EPARSE, 400, p, "unexpected character in the tel URI");
	return 0;
}

int sw_uri_parse(struct sw_uri *u, sw_str s, struct sw_perr *err)
{
	memset(u, 0, sizeof(*u));
	u->port = -1;
	u->raw = s;
	const char *p = s.p, *end = sw__end(s);
	if (!p || s.len == 0)
		return sw__fail(err, SW_EPARSE, 400, p, "expected a URI");
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!isalpha((unsigned char)*p))
		return sw__fail(err, SW_EPARSE, 400, p, "a URI must start with its scheme (sip:, sips:, tel:...)");
	while (p < end && (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
		p++;
	if (p >= end || *p != ':')
		return sw__fail(err, SW_EPARSE, 400, p, "expected ':' after the URI scheme");
	u->scheme_str = (sw_str){ s.p, (size_t)(p - s.p) };
	p++;
	u->opaque = (sw_str){ p, (size_t)(end - p) };
	if (sw_str_ieq(u->scheme_str, "sip")) {
		u->scheme = SW_URI_SIP;
		return parse_sip(u, p, end, err);
	}
	if (sw_str_ieq(u->scheme_str, "sips")) {
		u->scheme = SW_URI_SIPS;
		return parse_sip(u, p, end, err);
	}
	if (sw_str_ieq(u->scheme_str, "tel")) {
		u->scheme = SW_URI_TEL;
		return parse_tel(u, p, end, err);
	}
	u->scheme = SW_URI_OTHER;
	const char *o = p;
	p = sw__scan_escaped(p, end, SW__C_URIC);
	if (!p || p == o || p != end)
		return sw__fail(err, SW_EPARSE, 400, p ? p : o, "malformed URI after the scheme");
	return 0;
}

/* Compares two escaped strings by their decoded bytes. */
static bool eq_decoded(sw_str a, sw_str b, bool icase)
{
	size_t i = 0, j = 0;
	while (i < a.len && j < b.len) {
		int ca = (unsigned char)a.p[i], cb = (unsigned char)b.p[j];
		if (ca == '%' && i + 2 < a.len && hexval(a.p[i + 1]) >= 0 && hexval(a.p[i + 2]) >= 0) {
			ca = hexval(a.p[i + 1]) * 16 + hexval(a.p[i + 2]);
			i += 2;
		}
		if (cb == '%' && j + 2 < b.len && hexval(b.p[j + 1]) >= 0 && hexval(b.p[j + 2]) >= 0) {
			cb = hexval(b.p[j + 1]) * 16 + hexval(b.p[j + 2]);
			j += 2;
		}
		if (icase) {
			ca = tolower(ca);
			cb = tolower(cb);
		}
		if (ca != cb)
			return false;
		i++;
		j++;
	}
	return i == a.len && j == b.len;
}

/* Takes the next "name[=value]" item of a list whose items are separated
 * by sep; *pp is at the start of an item. */
static bool list_next(const char **pp, const char *end, char sep, sw_str *name, sw_str *value)
{
	const char *p = *pp;
	if (!p || p >= end)
		return false;
	const char *n = p;
	while (p < end && *p != sep && *p != '=')
		p++;
	*name = (sw_str){ n, (size_t)(p - n) };
	*value = SW_STR_NULL;
	if (p < end && *p == '=') {
		const char *v = ++p;
		while (p < end && *p != sep)
			p++;
		*value = (sw_str){ v, (size_t)(p - v) };
	}
	*pp = p < end ? p + 1 : end;
	return true;
}

/* URI parameters are ";a=b;c": skip the leading ';'. */
static const char *params_start(sw_str params)
{
	return params.len ? params.p + 1 : params.p;
}

/* Finds a URI parameter (no LWS in URIs, names case-insensitive). */
static bool uri_param(sw_str params, sw_str name, sw_str *value)
{
	const char *p = params_start(params), *end = sw__end(params);
	sw_str n, v;
	while (list_next(&p, end, ';', &n, &v))
		if (eq_decoded(n, name, true)) {
			*value = v;
			return true;
		}
	return false;
}

static bool params_match(sw_str a, sw_str b)
{
	static const char *const must[] = { "user", "ttl", "method", "maddr", "transport" };
	for (size_t k = 0; k < 5; k++) {
		sw_str n = { must[k], strlen(must[k]) }, va, vb;
		bool ina = uri_param(a, n, &va), inb = uri_param(b, n, &vb);
		if (ina != inb)
			return false;
		if (ina && !(va.p == NULL ? vb.p == NULL : vb.p && eq_decoded(va, vb, true)))
			return false;
	}
	/* any other parameter present in both must match */
	const char *p = params_start(a), *end = sw__end(a);
	sw_str nm, va, vb;
	while (list_next(&p, end, ';', &nm, &va)) {
		if (uri_param(b, nm, &vb)) {
			if ((va.p == NULL) != (vb.p == NULL))
				return false;
			if (va.p && !eq_decoded(va, vb, true))
				return false;
		}
	}
	return true;
}

/* URI headers: every header of a must be in b with an equal value. */
static bool headers_subset(sw_str a, sw_str b)
{
	/* absent headers (p == NULL): no arithmetic on a null pointer */
	if (!a.p)
		return true;
	const char *p = a.p, *end = sw__end(a);
	sw_str nm, va;
	while (list_next(&p, end, '&', &nm, &va)) {
		const char *q = b.p, *qend = b.p ? sw__end(b) : NULL;
		sw_str nm2, vb;
		bool found = false;
		while (!found && list_next(&q, qend, '&', &nm2, &vb))
			found = eq_decoded(nm, nm2, true) && eq_decoded(va, vb, false);
		if (!found)
			return false;
	}
	return true;
}

bool sw_uri_equal(const struct sw_uri *a, const struct sw_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme == SW_URI_OTHER)
		return sw_str_ieq_str(a->scheme_str, b->scheme_str) && eq_decoded(a->opaque, b->opaque, false);
	if (a->scheme == SW_URI_TEL)
		return eq_decoded(a->user, b->user, true) && params_match(a->params, b->params) &&
		       params_match(b->params, a->params);
	if ((a->user.p == NULL) != (b->user.p == NULL) || !eq_decoded(a->user, b->user, false))
		return false;
	if ((a->password.p == NULL) != (b->password.p == NULL) ||
	    !eq_decoded(a->password, b->password, false))
		return false;
	if (!sw_str_ieq_str(a->host, b->host) || a->port != b->port)
		return false;
	if (!params_match(a->params, b->params) || !params_match(b->params, a->params))
		return false;
	return headers_subset(a->headers, b->headers) && headers_subset(b->headers, a->headers);
}
