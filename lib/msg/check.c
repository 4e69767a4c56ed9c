/* Message validation beyond framing: what a registrar or proxy relies on
 * before it acts (RFC 3261 §8.1.1, §8.2.2, §20), with the response to send. */
#include <string.h>
#include <strings.h>
#include "scan.h"

static int fail_hdr(const struct sw_msg *m, struct sw_perr *err, int code, unsigned status,
		    const struct sw_hdr *h, const char *at, const char *what)
{
	sw__fail(err, code, m->is_request ? status : 0, at, what);
	if (err) {
		if (h)
			err->header = h->name;
		sw_perr_locate(err, m->buf, m->len);
	}
	return code;
}

/* A typed parser failed: keep its message, add the header and the position. */
static int failed(const struct sw_msg *m, struct sw_perr *err, const struct sw_hdr *h)
{
	if (err) {
		if (!m->is_request)
			err->status = 0;
		if (h)
			err->header = h->name;
		sw_perr_locate(err, m->buf, m->len);
	}
	return SW_EPARSE;
}

static int check_list(const struct sw_msg *m, enum sw_hdr_id id, struct sw_perr *err)
{
	struct sw_hdr_iter it;
	sw_str e;
	const struct sw_hdr *h;
	unsigned n = 0;
	bool star = false;
	sw_hdr_iter_init(&it, m, id);
	while (sw_hdr_iter_next(&it, &e, &h)) {
		n++;
		if (e.len == 0)
			return fail_hdr(m, err, SW_EPARSE, 400, h, e.p, "empty element in the list (stray ',')");
		if (id == SW_HDR_VIA) {
			struct sw_via v; /* the top one through the memo */
			if (n == 1 ? sw_msg_top_via(m, &v, err) : sw_via_parse(&v, e, err))
				return failed(m, err, h);
		} else {
			struct sw_addr a;
			if (sw_addr_parse(&a, e, id == SW_HDR_CONTACT, err))
				return failed(m, err, h);
			if (id != SW_HDR_CONTACT && !a.bracketed)
				return fail_hdr(m, err, SW_EPARSE, 400, h, e.p, "a route must be a name-addr in <>");
			star |= a.star;
		}
	}
	if (star && n > 1)
		return fail_hdr(m, err, SW_EPARSE, 400, sw_msg_hdr(m, id), NULL,
				"Contact '*' must be the only contact");
	return 0;
}

static const enum sw_hdr_id single[] = {
	SW_HDR_FROM, SW_HDR_TO, SW_HDR_CALL_ID, SW_HDR_CSEQ, SW_HDR_MAX_FORWARDS,
	SW_HDR_EXPIRES, SW_HDR_MIN_EXPIRES, SW_HDR_CONTENT_TYPE, SW_HDR_DATE,
};

static int check(const struct sw_msg *m, bool relay, struct sw_perr *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!sw_str_ieq(m->version, "SIP/2.0"))
		return fail_hdr(m, err, SW_EVERSION, 505, NULL, m->version.p,
				"unsupported SIP version (only SIP/2.0)");
	if (m->is_request) {
		struct sw_uri u;
		if (sw_msg_ruri(m, &u, err))
			return failed(m, err, NULL);
		if (u.headers.p && (u.scheme == SW_URI_SIP || u.scheme == SW_URI_SIPS))
			return fail_hdr(m, err, SW_EPARSE, 400, NULL, u.headers.p - 1,
					"the Request-URI must not carry URI headers ('?')");
	}
	static const enum sw_hdr_id required[] = { SW_HDR_VIA, SW_HDR_FROM, SW_HDR_TO,
						   SW_HDR_CALL_ID, SW_HDR_CSEQ };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (m->first[required[i]] == SW_HDR_NONE) {
			fail_hdr(m, err, SW_EPARSE, 400, NULL, NULL, "missing mandatory header");
			if (err)
				err->header = (sw_str){ sw_hdr_name(required[i]), strlen(sw_hdr_name(required[i])) };
			return SW_EPARSE;
		}
	}
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (m->count[single[i]] > 1) {
			const struct sw_hdr *h = sw_msg_hdr_next(m, sw_msg_hdr(m, single[i]));
			return fail_hdr(m, err, SW_EPARSE, 400, h, h->name.p,
					"this header may appear only once");
		}

	struct sw_addr a;
	if (sw_msg_from(m, &a, err) || sw_msg_to(m, &a, err))
		return failed(m, err, NULL);
	sw_str cid;
	if (sw_msg_call_id(m, &cid, err))
		return failed(m, err, NULL);
	struct sw_cseq cs;
	if (sw_msg_cseq(m, &cs, err))
		return failed(m, err, NULL);
	if (m->is_request && !sw_str_eq_str(cs.method, m->method)) {
		const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_CSEQ);
		return fail_hdr(m, err, SW_EPARSE, 400, h, cs.method.p,
				"the CSeq method does not match the request method");
	}
	if (check_list(m, SW_HDR_VIA, err) ||
	    (!relay && (check_list(m, SW_HDR_CONTACT, err) || check_list(m, SW_HDR_ROUTE, err) ||
			check_list(m, SW_HDR_RECORD_ROUTE, err))))
		return SW_EPARSE;

	uint32_t n;
	if (m->first[SW_HDR_MAX_FORWARDS] != SW_HDR_NONE && sw_msg_max_forwards(m, &n, err))
		return failed(m, err, NULL);
	if (m->first[SW_HDR_EXPIRES] != SW_HDR_NONE && sw_msg_expires(m, &n, err))
		return failed(m, err, NULL);
	if (m->first[SW_HDR_MIN_EXPIRES] != SW_HDR_NONE && sw_msg_min_expires(m, &n, err))
		return failed(m, err, NULL);
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_DATE);
	if (h && sw_date_parse(h->value, err))
		return failed(m, err, h);

	static const enum sw_hdr_id auth[] = { SW_HDR_AUTHORIZATION, SW_HDR_PROXY_AUTHORIZATION,
					       SW_HDR_WWW_AUTHENTICATE, SW_HDR_PROXY_AUTHENTICATE };
	for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++)
		for (h = sw_msg_hdr(m, auth[i]); h; h = sw_msg_hdr_next(m, h)) {
			struct sw_auth au;
			if (sw_msg_auth(m, h, &au, err))
				return failed(m, err, h);
			for (sw_str rest = au.next; rest.p; rest = au.next)
				if (sw_auth_parse(&au, rest, err))
					return failed(m, err, h);
		}
	return 0;
}

const char *sw_perr_format(const struct sw_perr *err, char *out, size_t cap)
{
	struct sw_buf b;
	sw_buf_init(&b, out, cap);
	if (err->line)
		sw_buf_addf(&b, "line %u, column %u", err->line, err->col);
	if (err->header.p) {
		sw_buf_adds(&b, err->line ? " (" : "(");
		sw_buf_add_str(&b, err->header);
		sw_buf_adds(&b, ")");
	}
	if (err->line || err->header.p)
		sw_buf_adds(&b, ": ");
	sw_buf_adds(&b, err->what ? err->what : sw_strerror(err->code));
	if (b.overflow && cap > 4)
		memcpy(out + cap - 4, "...", 4);
	else
		sw_buf_cstr(&b);
	return out;
}

int sw_msg_check(const struct sw_msg *m, struct sw_perr *err)
{
	return check(m, false, err);
}

int sw_msg_check_relay(const struct sw_msg *m, struct sw_perr *err)
{
	return check(m, !m->is_request, err);
}
