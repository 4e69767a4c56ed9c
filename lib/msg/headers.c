/* Typed header values: Via, name-addr/addr-spec (From, To, Contact, Route),
 * CSeq, Call-ID, numbers and Date. Each parser takes one element (already
 * split at commas where the header is a list). */
#include <string.h>
#include <strings.h>
#include "scan.h"

/* "received", "maddr": IPv4, IPv6 (bare or [bracketed], RFC 5118 §4.5) or a host. */
static bool valid_host_value(sw_str v)
{
	if (!v.p || v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (!sw__is(c, SW__C_HOST) && c != ':' && c != '[' && c != ']')
			return false;
	}
	return true;
}

int sw_via_parse(struct sw_via *v, sw_str elem, struct sw_perr *err)
{
	memset(v, 0, sizeof(*v));
	v->port = v->rport = v->ttl = -1;
	v->raw = elem;
	const char *p = elem.p, *end = sw__end(elem);
	sw_str *parts[3] = { &v->protocol, &v->version, &v->transport };
	for (int i = 0; i < 3; i++) {
		p = sw__skip_lws(p, end);
		const char *s = p;
		while (p < end && sw__is((unsigned char)*p, SW__C_TOKEN))
			p++;
		if (p == s)
			return sw__fail(err, SW_EPARSE, 400, s, i == 0 ? "expected the protocol (SIP/2.0/UDP)"
								  : i == 1 ? "expected the protocol version"
									   : "expected a transport");
		*parts[i] = (sw_str){ s, (size_t)(p - s) };
		if (i < 2) {
			p = sw__skip_lws(p, end);
			if (p >= end || *p != '/')
				return sw__fail(err, SW_EPARSE, 400, p, "expected '/' in the sent-protocol");
			p++;
		}
	}
	const char *before = p;
	p = sw__skip_lws(p, end);
	if (p == before)
		return sw__fail(err, SW_EPARSE, 400, p, "expected a space before the sent-by host");
	/* sent-by = host [ COLON port ], COLON allows LWS */
	const char *hs = p;
	p = sw__scan_hostport(p, end, &v->host, &v->port, &(bool){ false }, err);
	if (!p)
		return SW_EPARSE;
	if (v->port < 0) {
		const char *q = sw__skip_lws(p, end);
		if (q < end && *q == ':') {
			uint32_t port;
			const char *r = sw__skip_lws(q + 1, end);
			const char *e = sw__scan_uint(r, end, 65535, &port);
			if (!e)
				return sw__fail(err, SW_EPARSE, 400, r, "expected a port number (0-65535)");
			v->port = (int)port;
			p = e;
		}
	}
	(void)hs;
	v->params = (sw_str){ p, (size_t)(end - p) };
	sw_str rest = v->params, n, val;
	int rc;
	while ((rc = sw_param_next(&rest, &n, &val)) == 1) {
		if (sw_str_ieq(n, "branch")) {
			if (!val.p || val.p[0] == '"')
				return sw__fail(err, SW_EPARSE, 400, n.p, "branch needs a token value");
			v->branch = val;
		} else if (sw_str_ieq(n, "received")) {
			if (!valid_host_value(val))
				return sw__fail(err, SW_EPARSE, 400, n.p, "received needs an IP address");
			v->received = val;
		} else if (sw_str_ieq(n, "maddr")) {
			if (!valid_host_value(val))
				return sw__fail(err, SW_EPARSE, 400, n.p, "maddr needs a host");
			v->maddr = val;
		} else if (sw_str_ieq(n, "ttl")) {
			uint32_t t;
			if (!val.p || sw__scan_uint(val.p, sw__end(val), 255, &t) != sw__end(val))
				return sw__fail(err, SW_EPARSE, 400, n.p, "ttl must be 0-255");
			v->ttl = (int)t;
		} else if (sw_str_ieq(n, "rport")) {
			v->has_rport = true;
			if (val.p) {
				uint32_t port;
				if (sw__scan_uint(val.p, sw__end(val), 65535, &port) != sw__end(val))
					return sw__fail(err, SW_EPARSE, 400, n.p, "rport must be a port number");
				v->rport = (int)port;
			}
		}
	}
	if (rc < 0)
		return sw__fail(err, SW_EPARSE, 400, rest.p, "malformed Via parameter (stray ';' or ',')");
	return 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool parse_qvalue(sw_str v, uint16_t *q)
{
	if (!v.p || v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1'))
		return false;
	unsigned val = (unsigned)(v.p[0] - '0') * 1000;
	if (v.len > 1) {
		if (v.p[1] != '.')
			return false;
		unsigned scale = 100;
		for (size_t i = 2; i < v.len; i++, scale /= 10) {
			if (v.p[i] < '0' || v.p[i] > '9')
				return false;
			val += (unsigned)(v.p[i] - '0') * scale;
		}
	}
	if (val > 1000)
		return false;
	*q = (uint16_t)val;
	return true;
}

static int addr_params(struct sw_addr *a, const char *p, const char *end, struct sw_perr *err)
{
	a->params = (sw_str){ p, (size_t)(end - p) };
	sw_str rest = a->params, n, v;
	int rc;
	while ((rc = sw_param_next(&rest, &n, &v)) == 1) {
		if (sw_str_ieq(n, "tag")) {
			if (!v.p || v.p[0] == '"')
				return sw__fail(err, SW_EPARSE, 400, n.p, "tag needs a token value");
			a->tag = v;
		} else if (sw_str_ieq(n, "expires")) {
			uint32_t e;
			if (!v.p || sw__scan_uint(v.p, sw__end(v), UINT32_MAX, &e) != sw__end(v))
				return sw__fail(err, SW_EPARSE, 400, n.p, "expires must be a number of seconds below 2^32");
			a->has_expires = true;
			a->expires = e;
		} else if (sw_str_ieq(n, "q")) {
			if (!parse_qvalue(v, &a->q))
				return sw__fail(err, SW_EPARSE, 400, n.p, "q must be a value between 0 and 1 with at most 3 decimals");
			a->has_q = true;
		}
	}
	if (rc < 0)
		return sw__fail(err, SW_EPARSE, 400, rest.p, "malformed header parameter (stray ';')");
	return 0;
}

int sw_addr_parse(struct sw_addr *a, sw_str elem, bool allow_star, struct sw_perr *err)
{
	memset(a, 0, sizeof(*a));
	a->raw = elem;
	a->uri.port = -1;
	const char *p = sw__skip_lws(elem.p, sw__end(elem)), *end = sw__end(elem);
	if (p >= end)
		return sw__fail(err, SW_EPARSE, 400, p, "empty address");
	if (*p == '*' && allow_star) {
		const char *q = sw__skip_lws(p + 1, end);
		if (q != end)
			return sw__fail(err, SW_EPARSE, 400, q, "'*' must stand alone in Contact");
		a->star = true;
		return 0;
	}
	const char *lt = NULL;
	if (*p == '"') {
		const char *q = sw__scan_quoted(p, end);
		if (!q)
			return sw__fail(err, SW_EPARSE, 400, p, "the quoted display name does not end");
		a->display = (sw_str){ p, (size_t)(q - p) };
		q = sw__skip_lws(q, end);
		if (q >= end || *q != '<')
			return sw__fail(err, SW_EPARSE, 400, q, "expected '<' after the display name");
		lt = q;
	} else if (*p != '<') {
		/* display-name = *(token LWS): a run of tokens directly before '<' */
		const char *q = p;
		while (q < end && (sw__is((unsigned char)*q, SW__C_TOKEN) || *q == ' ' || *q == '\t' ||
				   *q == '\r' || *q == '\n'))
			q++;
		if (q < end && *q == '<') {
			lt = q;
			a->display = sw__trim((sw_str){ p, (size_t)(q - p) });
		} else if (q < end && memchr(q, '<', (size_t)(end - q)) && !memchr(p, ':', (size_t)(q - p))) {
			return sw__fail(err, SW_EPARSE, 400, q,
					"a display name with characters other than a token's must be quoted");
		}
	} else {
		lt = p;
	}
	if (lt) {
		const char *s = lt + 1;
		const char *gt = memchr(s, '>', (size_t)(end - s));
		if (!gt)
			return sw__fail(err, SW_EPARSE, 400, lt, "'<' without a closing '>'");
		a->bracketed = true;
		if (sw_uri_parse(&a->uri, (sw_str){ s, (size_t)(gt - s) }, err))
			return SW_EPARSE;
		return addr_params(a, gt + 1, end, err);
	}
	/* addr-spec: the URI runs to ';' or LWS; it may not hold ',' '?' ';' */
	const char *s = p;
	while (p < end && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
		p++;
	sw_str u = { s, (size_t)(p - s) };
	if (memchr(u.p, '?', u.len) || memchr(u.p, ',', u.len))
		return sw__fail(err, SW_EPARSE, 400, s, "a URI with '?' or ',' must be enclosed in <>");
	if (sw_uri_parse(&a->uri, u, err))
		return SW_EPARSE;
	return addr_params(a, p, end, err);
}

int sw_cseq_parse(struct sw_cseq *c, sw_str value, struct sw_perr *err)
{
	memset(c, 0, sizeof(*c));
	const char *p = value.p, *end = sw__end(value);
	const char *e = sw__scan_uint(p, end, 0x7fffffffu, &c->num);
	if (!e)
		return sw__fail(err, SW_EPARSE, 400, p, "CSeq must start with a number below 2^31");
	p = sw__skip_lws(e, end);
	if (p == e)
		return sw__fail(err, SW_EPARSE, 400, p, "expected a space and the method after the CSeq number");
	const char *s = p;
	while (p < end && sw__is((unsigned char)*p, SW__C_TOKEN))
		p++;
	if (p == s || p != end)
		return sw__fail(err, SW_EPARSE, 400, p, "expected the method after the CSeq number");
	c->method = (sw_str){ s, (size_t)(p - s) };
	c->method_id = sw_method_lookup(s, c->method.len);
	return 0;
}

int sw_uint_parse(uint32_t *out, sw_str value, uint32_t max, struct sw_perr *err)
{
	const char *end = sw__end(value);
	if (value.p && sw__scan_uint(value.p, end, max, out) == end)
		return 0;
	bool digits = value.len > 0;
	for (size_t i = 0; i < value.len; i++)
		digits = digits && value.p[i] >= '0' && value.p[i] <= '9';
	return sw__fail(err, SW_EPARSE, 400, value.p, digits ? "number out of range" : "expected a decimal number");
}

/* callid = word [ "@" word ] */
static int callid_check(sw_str v, struct sw_perr *err)
{
	const char *p = v.p, *end = sw__end(v);
	bool at = false;
	if (v.len == 0)
		return sw__fail(err, SW_EPARSE, 400, p, "empty Call-ID");
	for (const char *s = p; p < end; p++) {
		if (*p == '@' && !at && p > s && p + 1 < end) {
			at = true;
			continue;
		}
		if (!sw__is((unsigned char)*p, SW__C_WORD))
			return sw__fail(err, SW_EPARSE, 400, p, "character not allowed in Call-ID");
	}
	return 0;
}

int sw_date_parse(sw_str v, struct sw_perr *err)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	/* "Sat, 13 Nov 2010 23:29:00 GMT" is exactly 29 characters */
	const char *p = v.p;
	if (v.len != 29)
		return sw__fail(err, SW_EPARSE, 400, p, "Date must read like 'Sat, 13 Nov 2010 23:29:00 GMT'");
	bool ok = false;
	for (int i = 0; i < 7; i++)
		ok |= !strncmp(p, days[i], 3);
	ok = ok && p[3] == ',' && p[4] == ' ' && p[7] == ' ' && p[11] == ' ' && p[16] == ' ' &&
	     p[19] == ':' && p[22] == ':' && p[25] == ' ';
	bool mon = false;
	for (int i = 0; i < 12; i++)
		mon |= !strncmp(p + 8, months[i], 3);
	static const int digits[] = { 5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24 };
	for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
		ok = ok && p[digits[i]] >= '0' && p[digits[i]] <= '9';
	if (!ok || !mon)
		return sw__fail(err, SW_EPARSE, 400, p, "Date must read like 'Sat, 13 Nov 2010 23:29:00 GMT'");
	if (strncmp(p + 26, "GMT", 3) != 0)
		return sw__fail(err, SW_EPARSE, 400, p + 26, "Date must be in GMT");
	return 0;
}

/* ---- message-level shortcuts ---- */

static int locate(const struct sw_msg *m, const struct sw_hdr *h, struct sw_perr *err, int rc)
{
	if (rc && err) {
		if (h)
			err->header = h->name;
		sw_perr_locate(err, m->buf, m->len ? m->len : (size_t)(h ? sw__end(h->value) - m->buf : 0));
	}
	return rc;
}

static int missing(const struct sw_msg *m, enum sw_hdr_id id, struct sw_perr *err)
{
	sw__fail(err, SW_ENOTFOUND, 400, NULL, "missing header");
	if (err)
		err->header = (sw_str){ sw_hdr_name(id), strlen(sw_hdr_name(id)) };
	(void)m;
	return SW_ENOTFOUND;
}

/* The memo (msg.h) is a cache: writing it through a const message changes
 * nothing a caller sees, and messages are never const objects. NULL for a
 * message without room for it. */
static struct sw_msg *memo_of(const struct sw_msg *m)
{
	return m->memo & SW_MSG_MEMO_OFF ? NULL : (struct sw_msg *)m;
}

int sw_msg_top_via(const struct sw_msg *m, struct sw_via *v, struct sw_perr *err)
{
	if (m->memo & SW_MSG_MEMO_VIA) {
		*v = m->memo_via;
		return 0;
	}
	struct sw_hdr_iter it;
	sw_str e;
	const struct sw_hdr *h = NULL;
	sw_hdr_iter_init(&it, m, SW_HDR_VIA);
	if (!sw_hdr_iter_next(&it, &e, &h))
		return missing(m, SW_HDR_VIA, err);
	int rc = sw_via_parse(v, e, err);
	struct sw_msg *mm = memo_of(m);
	if (!rc && mm) {
		mm->memo_via = *v;
		mm->memo |= SW_MSG_MEMO_VIA;
	}
	return locate(m, h, err, rc);
}

static int one_addr(const struct sw_msg *m, enum sw_hdr_id id, struct sw_addr *a, struct sw_perr *err)
{
	unsigned bit = id == SW_HDR_FROM ? SW_MSG_MEMO_FROM : SW_MSG_MEMO_TO;
	if (m->memo & bit) {
		*a = id == SW_HDR_FROM ? m->memo_from : m->memo_to;
		return 0;
	}
	const struct sw_hdr *h = sw_msg_hdr(m, id);
	if (!h)
		return missing(m, id, err);
	int rc = sw_addr_parse(a, h->value, false, err);
	struct sw_msg *mm = memo_of(m);
	if (!rc && mm) {
		*(id == SW_HDR_FROM ? &mm->memo_from : &mm->memo_to) = *a;
		mm->memo |= bit;
	}
	return locate(m, h, err, rc);
}

int sw_msg_from(const struct sw_msg *m, struct sw_addr *a, struct sw_perr *err)
{
	return one_addr(m, SW_HDR_FROM, a, err);
}

int sw_msg_to(const struct sw_msg *m, struct sw_addr *a, struct sw_perr *err)
{
	return one_addr(m, SW_HDR_TO, a, err);
}

int sw_msg_cseq(const struct sw_msg *m, struct sw_cseq *c, struct sw_perr *err)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_CSEQ);
	if (!h)
		return missing(m, SW_HDR_CSEQ, err);
	return locate(m, h, err, sw_cseq_parse(c, h->value, err));
}

int sw_msg_call_id(const struct sw_msg *m, sw_str *call_id, struct sw_perr *err)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_CALL_ID);
	if (!h)
		return missing(m, SW_HDR_CALL_ID, err);
	int rc = callid_check(h->value, err);
	if (!rc)
		*call_id = h->value;
	return locate(m, h, err, rc);
}

static int one_uint(const struct sw_msg *m, enum sw_hdr_id id, uint32_t max, uint32_t *out,
		    struct sw_perr *err)
{
	const struct sw_hdr *h = sw_msg_hdr(m, id);
	if (!h)
		return missing(m, id, err);
	return locate(m, h, err, sw_uint_parse(out, h->value, max, err));
}

int sw_msg_expires(const struct sw_msg *m, uint32_t *out, struct sw_perr *err)
{
	return one_uint(m, SW_HDR_EXPIRES, UINT32_MAX, out, err);
}

int sw_msg_min_expires(const struct sw_msg *m, uint32_t *out, struct sw_perr *err)
{
	return one_uint(m, SW_HDR_MIN_EXPIRES, UINT32_MAX, out, err);
}

int sw_msg_max_forwards(const struct sw_msg *m, uint32_t *out, struct sw_perr *err)
{
	return one_uint(m, SW_HDR_MAX_FORWARDS, 255, out, err);
}

int sw_msg_retry_after(const struct sw_msg *m, uint32_t *out, struct sw_perr *err)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_RETRY_AFTER);
	if (!h)
		return missing(m, SW_HDR_RETRY_AFTER, err);
	/* delta-seconds [ comment ] *( SEMI retry-param ): the number alone */
	size_t k = 0;
	while (k < h->value.len && h->value.p[k] >= '0' && h->value.p[k] <= '9')
		k++;
	return locate(m, h, err, sw_uint_parse(out, sw_str_from(h->value.p, k), UINT32_MAX, err));
}

int sw_msg_ruri(const struct sw_msg *m, struct sw_uri *u, struct sw_perr *err)
{
	if (!m->is_request)
		return sw__fail(err, SW_EINVAL, 0, NULL, "a response has no Request-URI");
	if (m->memo & SW_MSG_MEMO_RURI) {
		*u = m->memo_ruri;
		return 0;
	}
	int rc = sw_uri_parse(u, m->ruri, err);
	struct sw_msg *mm = memo_of(m);
	if (!rc && mm) {
		mm->memo_ruri = *u;
		mm->memo |= SW_MSG_MEMO_RURI;
	} else if (rc && err) {
		sw_perr_locate(err, m->buf, m->len);
	}
	return rc;
}

int sw_msg_auth(const struct sw_msg *m, const struct sw_hdr *h, struct sw_auth *a, struct sw_perr *err)
{
	unsigned i = h->id == SW_HDR_AUTHORIZATION ? 0 : h->id == SW_HDR_PROXY_AUTHORIZATION ? 1 : 2;
	bool first = i < 2 && h == sw_msg_hdr(m, (enum sw_hdr_id)h->id);
	unsigned bit = i == 0 ? SW_MSG_MEMO_AUTH : SW_MSG_MEMO_PAUTH;
	if (first && (m->memo & bit)) {
		*a = m->memo_auth[i];
		return 0;
	}
	int rc = sw_auth_parse(a, h->value, err);
	struct sw_msg *mm = memo_of(m);
	if (!rc && first && mm) {
		mm->memo_auth[i] = *a;
		mm->memo |= bit;
	}
	return rc;
}
