/* Character classes (RFC 3261 §25.1) and small scanners used by the parsers. */
#include <string.h>
#include "scan.h"

#define UNRES_ALL (SW__C_UNRES | SW__C_USER | SW__C_PASS | SW__C_PARAM | SW__C_HNV | SW__C_URIC)
#define LETTER (SW__C_ALNUM | SW__C_TOKEN | UNRES_ALL | SW__C_WORD | SW__C_HOST)
#define DIGIT (LETTER | SW__C_DIGIT | SW__C_HEX)

const uint16_t sw__cclass[256] = {
	['a' ... 'f'] = LETTER | SW__C_HEX,
	['g' ... 'z'] = LETTER,
	['A' ... 'F'] = LETTER | SW__C_HEX,
	['G' ... 'Z'] = LETTER,
	['0' ... '9'] = DIGIT,
	['-'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD | SW__C_HOST,
	['.'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD | SW__C_HOST,
	['!'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD,
	['*'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD,
	['_'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD,
	['\''] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD,
	['~'] = SW__C_TOKEN | UNRES_ALL | SW__C_WORD,
	['%'] = SW__C_TOKEN | SW__C_WORD,
	['`'] = SW__C_TOKEN | SW__C_WORD,
	['+'] = SW__C_TOKEN | SW__C_USER | SW__C_PASS | SW__C_PARAM | SW__C_HNV | SW__C_WORD | SW__C_URIC,
	['('] = UNRES_ALL | SW__C_WORD,
	[')'] = UNRES_ALL | SW__C_WORD,
	['&'] = SW__C_USER | SW__C_PASS | SW__C_PARAM | SW__C_URIC,
	['='] = SW__C_USER | SW__C_PASS | SW__C_URIC,
	['$'] = SW__C_USER | SW__C_PASS | SW__C_PARAM | SW__C_HNV | SW__C_URIC,
	[','] = SW__C_USER | SW__C_PASS | SW__C_URIC,
	[';'] = SW__C_USER | SW__C_URIC,
	['?'] = SW__C_USER | SW__C_HNV | SW__C_WORD | SW__C_URIC,
	['/'] = SW__C_USER | SW__C_PARAM | SW__C_HNV | SW__C_WORD | SW__C_URIC,
	['['] = SW__C_PARAM | SW__C_HNV | SW__C_WORD,
	[']'] = SW__C_PARAM | SW__C_HNV | SW__C_WORD,
	[':'] = SW__C_PARAM | SW__C_HNV | SW__C_WORD | SW__C_URIC,
	['<'] = SW__C_WORD,
	['>'] = SW__C_WORD,
	['\\'] = SW__C_WORD,
	['"'] = SW__C_WORD,
	['{'] = SW__C_WORD,
	['}'] = SW__C_WORD,
	['@'] = SW__C_URIC,
};

sw_str sw__trim(sw_str s)
{
	if (!s.p)
		return s;
	const char *p = s.p, *end = sw__end(s);
	p = sw__skip_lws(p, end);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return (sw_str){ p, (size_t)(end - p) };
}

int sw__fail(struct sw_perr *err, int code, unsigned status, const char *at, const char *what)
{
	if (err) {
		err->code = code;
		err->status = status;
		err->at = at;
		err->what = what;
		err->line = err->col = 0;
	}
	return code;
}

const char *sw__scan_quoted(const char *p, const char *end)
{
	p++; /* opening quote */
	/* fast path: the closing quote with no escape or line end before it */
	const char *q = memchr(p, '"', (size_t)(end - p));
	if (q && !memchr(p, '\\', (size_t)(q - p)) && !memchr(p, '\n', (size_t)(q - p)) &&
	    !memchr(p, '\r', (size_t)(q - p)))
		return q + 1;
	while (p < end) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (p + 1 >= end)
				return NULL;
			/* quoted-pair excludes LF and CR (RFC 3261 §25.1) */
			if (p[1] == '\r' || p[1] == '\n')
				return NULL;
			p += 2;
			continue;
		}
		if (*p == '\r' || *p == '\n') {
			/* only a folded line may continue a quoted string */
			const char *f = sw__skip_lws(p, end);
			if (f == p)
				return NULL;
			p = f;
			continue;
		}
		p++;
	}
	return NULL;
}

const char *sw__scan_escaped(const char *p, const char *end, unsigned cls)
{
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			if (end - p < 3 || !sw__is((unsigned char)p[1], SW__C_HEX) ||
			    !sw__is((unsigned char)p[2], SW__C_HEX))
				return NULL;
			p += 3;
		} else if (sw__is(c, cls)) {
			p++;
		} else {
			break;
		}
	}
	return p;
}

const char *sw__scan_uint(const char *p, const char *end, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return NULL;
		p++;
	}
	if (p == start)
		return NULL;
	*out = (uint32_t)v;
	return p;
}

/* IPv6reference per RFC 3261 §25.1 (which, per RFC 5118 §4.10, tolerates
 * the "three colons" quirk): hex groups, colons, an optional trailing IPv4. */
static const char *scan_ipv6_ref(const char *p, const char *end)
{
	p++; /* '[' */
	const char *start = p;
	unsigned colons = 0, digits_run = 0;
	while (p < end && *p != ']') {
		unsigned char c = (unsigned char)*p;
		if (c == ':') {
			colons++;
			digits_run = 0;
		} else if (sw__is(c, SW__C_HEX) || c == '.') {
			if (++digits_run > 15)
				return NULL;
		} else {
			return NULL;
		}
		p++;
	}
	if (p >= end || p == start || colons < 2 || colons > 8)
		return NULL;
	return p + 1;
}

const char *sw__scan_hostport(const char *p, const char *end, sw_str *host, int *port,
			       bool *ipv6, struct sw_perr *err)
{
	const char *h = p;
	*ipv6 = false;
	if (p < end && *p == '[') {
		p = scan_ipv6_ref(p, end);
		if (!p) {
			sw__fail(err, SW_EPARSE, 400, h, "malformed IPv6 reference");
			return NULL;
		}
		*ipv6 = true;
	} else {
		/* hostname or IPv4address: labels of alphanum and '-', dot-separated */
		bool label_start = true;
		while (p < end && sw__is((unsigned char)*p, SW__C_HOST)) {
			if (*p == '.') {
				if (label_start)
					break;
				label_start = true;
			} else {
				label_start = false;
			}
			p++;
		}
		if (p == h) {
			sw__fail(err, SW_EPARSE, 400, h, "expected a host name or address");
			return NULL;
		}
	}
	*host = (sw_str){ h, (size_t)(p - h) };
	*port = -1;
	if (p < end && *p == ':') {
		uint32_t v;
		const char *q = sw__scan_uint(p + 1, end, 65535, &v);
		if (!q) {
			sw__fail(err, SW_EPARSE, 400, p + 1, "expected a port number (0-65535)");
			return NULL;
		}
		*port = (int)v;
		p = q;
	}
	return p;
}
