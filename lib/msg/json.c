/* JSON rendering of a parsed message, for `sipwarden lint --json` and the
 * analyzer's reports. Header values are parsed here on demand. */
#include <string.h>
#include "scan.h"

static void kv_str(struct sw_buf *b, const char *k, sw_str v, bool *first)
{
	if (!v.p)
		return;
	sw_buf_adds(b, *first ? "\"" : ",\"");
	*first = false;
	sw_buf_adds(b, k);
	sw_buf_adds(b, "\":");
	sw_buf_add_json_sw(b, v);
}

static void kv_int(struct sw_buf *b, const char *k, long long v, bool *first)
{
	sw_buf_addf(b, "%s\"%s\":%lld", *first ? "" : ",", k, v);
	*first = false;
}

static void params_json(struct sw_buf *b, sw_str params)
{
	sw_buf_addc(b, '{');
	sw_str rest = params, n, v;
	bool first = true;
	while (sw_param_next(&rest, &n, &v) == 1) {
		if (!first)
			sw_buf_addc(b, ',');
		first = false;
		sw_buf_add_json_sw(b, n);
		sw_buf_addc(b, ':');
		if (v.p)
			sw_buf_add_json_sw(b, v);
		else
			sw_buf_adds(b, "true");
	}
	sw_buf_addc(b, '}');
}

/* URI parameters have no LWS: split on ';' directly. */
static void uri_params_json(struct sw_buf *b, sw_str params)
{
	sw_buf_addc(b, '{');
	const char *p = params.p, *end = sw__end(params);
	bool first = true;
	while (p && p < end) {
		const char *n = ++p;
		while (p < end && *p != ';' && *p != '=')
			p++;
		if (!first)
			sw_buf_addc(b, ',');
		first = false;
		sw_buf_add_json_str(b, n, (size_t)(p - n));
		sw_buf_addc(b, ':');
		if (p < end && *p == '=') {
			const char *v = ++p;
			while (p < end && *p != ';')
				p++;
			sw_buf_add_json_str(b, v, (size_t)(p - v));
		} else {
			sw_buf_adds(b, "true");
		}
	}
	sw_buf_addc(b, '}');
}

void sw_uri_to_json(struct sw_buf *b, const struct sw_uri *u)
{
	static const char *const schemes[] = { "other", "sip", "sips", "tel" };
	bool f = true;
	sw_buf_addc(b, '{');
	kv_str(b, "scheme", sw_str_from(schemes[u->scheme], strlen(schemes[u->scheme])), &f);
	if (u->scheme == SW_URI_OTHER) {
		kv_str(b, "scheme_name", u->scheme_str, &f);
		kv_str(b, "opaque", u->opaque, &f);
	}
	kv_str(b, "user", u->user, &f);
	kv_str(b, "password", u->password, &f);
	kv_str(b, "host", u->host, &f);
	if (u->port >= 0)
		kv_int(b, "port", u->port, &f);
	if (u->params.len) {
		sw_buf_adds(b, ",\"params\":");
		uri_params_json(b, u->params);
	}
	kv_str(b, "headers", u->headers, &f);
	sw_buf_addc(b, '}');
}

static void via_json(struct sw_buf *b, const struct sw_via *v)
{
	bool f = true;
	sw_buf_addc(b, '{');
	kv_str(b, "protocol", v->protocol, &f);
	kv_str(b, "version", v->version, &f);
	kv_str(b, "transport", v->transport, &f);
	kv_str(b, "host", v->host, &f);
	if (v->port >= 0)
		kv_int(b, "port", v->port, &f);
	kv_str(b, "branch", v->branch, &f);
	kv_str(b, "received", v->received, &f);
	kv_str(b, "maddr", v->maddr, &f);
	if (v->has_rport) {
		if (v->rport >= 0)
			kv_int(b, "rport", v->rport, &f);
		else
			sw_buf_adds(b, ",\"rport\":true");
	}
	if (v->ttl >= 0)
		kv_int(b, "ttl", v->ttl, &f);
	sw_buf_adds(b, ",\"params\":");
	params_json(b, v->params);
	sw_buf_addc(b, '}');
}

static void addr_json(struct sw_buf *b, const struct sw_addr *a)
{
	bool f = true;
	sw_buf_addc(b, '{');
	if (a->star) {
		sw_buf_adds(b, "\"star\":true}");
		return;
	}
	kv_str(b, "display_name", a->display, &f);
	sw_buf_adds(b, f ? "\"uri\":" : ",\"uri\":");
	f = false;
	sw_uri_to_json(b, &a->uri);
	kv_str(b, "tag", a->tag, &f);
	if (a->has_expires)
		kv_int(b, "expires", a->expires, &f);
	if (a->has_q)
		sw_buf_addf(b, ",\"q\":%u.%03u", a->q / 1000, a->q % 1000);
	sw_buf_adds(b, ",\"params\":");
	params_json(b, a->params);
	sw_buf_addc(b, '}');
}

static void auth_json(struct sw_buf *b, const struct sw_auth *a)
{
	bool f = true;
	sw_buf_addc(b, '{');
	kv_str(b, "scheme", a->scheme, &f);
	sw_buf_adds(b, ",\"params\":{");
	const char *p = a->params.p, *end = sw__end(a->params);
	bool first = true;
	/* walk names through sw_auth_param so values come unquoted */
	while (p && p < end) {
		p = sw__skip_lws(p, end);
		const char *n = p;
		while (p < end && *p != '=' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		char name[64];
		sw_str nm = { n, (size_t)(p - n) };
		sw_str v;
		if (nm.len == 0 || nm.len >= sizeof(name) || !sw_auth_param(a, sw_str_cpy(name, sizeof(name), nm), &v))
			break;
		if (!first)
			sw_buf_addc(b, ',');
		first = false;
		sw_buf_add_json_sw(b, nm);
		sw_buf_addc(b, ':');
		sw_buf_add_json_sw(b, v);
		/* skip the value */
		p = sw__skip_lws(p, end);
		if (p < end && *p == '=')
			p = sw__skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			const char *q = sw__scan_quoted(p, end);
			p = q ? q : end;
		}
		while (p < end && *p != ',')
			p++;
		if (p < end)
			p++;
	}
	sw_buf_adds(b, "}}");
}

static void error_json(struct sw_buf *b, const struct sw_perr *err)
{
	bool f = true;
	sw_buf_addc(b, '{');
	if (err->line) {
		kv_int(b, "line", err->line, &f);
		kv_int(b, "column", err->col, &f);
	}
	kv_str(b, "header", err->header, &f);
	const char *what = err->what ? err->what : sw_strerror(err->code);
	kv_str(b, "message", sw_str_from(what, strlen(what)), &f);
	if (err->status)
		kv_int(b, "status", err->status, &f);
	sw_buf_addc(b, '}');
}

/* The parsed form of one header line, or {"error": ...}. */
static void header_parsed(struct sw_buf *b, const struct sw_msg *m, const struct sw_hdr *h)
{
	struct sw_perr err = { 0 };
	int rc = 0;
	switch (h->id) {
	case SW_HDR_VIA:
	case SW_HDR_CONTACT:
	case SW_HDR_ROUTE:
	case SW_HDR_RECORD_ROUTE: {
		/* the elements of this one line */
		struct sw_msg one = { .buf = m->buf, .nhdrs = 1 };
		memset(one.first, 0xff, sizeof(one.first));
		one.hdrs[0] = *h;
		one.hdrs[0].next = SW_HDR_NONE;
		one.first[h->id] = 0;
		struct sw_hdr_iter it;
		sw_str e;
		sw_hdr_iter_init(&it, &one, h->id);
		size_t mark = b->len;
		sw_buf_addc(b, '[');
		bool first = true;
		while (sw_hdr_iter_next(&it, &e, NULL)) {
			if (!first)
				sw_buf_addc(b, ',');
			first = false;
			if (h->id == SW_HDR_VIA) {
				struct sw_via v;
				if ((rc = sw_via_parse(&v, e, &err)))
					break;
				via_json(b, &v);
			} else {
				struct sw_addr a;
				if ((rc = sw_addr_parse(&a, e, h->id == SW_HDR_CONTACT, &err)))
					break;
				addr_json(b, &a);
			}
		}
		if (rc) {
			b->len = mark;
			b->overflow = false;
			break;
		}
		sw_buf_addc(b, ']');
		return;
	}
	case SW_HDR_FROM:
	case SW_HDR_TO: {
		struct sw_addr a;
		if (!(rc = sw_addr_parse(&a, h->value, false, &err))) {
			addr_json(b, &a);
			return;
		}
		break;
	}
	case SW_HDR_CSEQ: {
		struct sw_cseq c;
		if (!(rc = sw_cseq_parse(&c, h->value, &err))) {
			sw_buf_addf(b, "{\"number\":%u,\"method\":", c.num);
			sw_buf_add_json_sw(b, c.method);
			sw_buf_addc(b, '}');
			return;
		}
		break;
	}
	case SW_HDR_EXPIRES:
	case SW_HDR_MIN_EXPIRES:
	case SW_HDR_CONTENT_LENGTH:
	case SW_HDR_MAX_FORWARDS: {
		uint32_t v;
		if (!(rc = sw_uint_parse(&v, h->value, h->id == SW_HDR_MAX_FORWARDS ? 255 : UINT32_MAX, &err))) {
			sw_buf_addf(b, "%u", v);
			return;
		}
		break;
	}
	case SW_HDR_AUTHORIZATION:
	case SW_HDR_PROXY_AUTHORIZATION:
	case SW_HDR_WWW_AUTHENTICATE:
	case SW_HDR_PROXY_AUTHENTICATE: {
		struct sw_auth a;
		if (!(rc = sw_auth_parse(&a, h->value, &err))) {
			auth_json(b, &a);
			return;
		}
		break;
	}
	default:
		sw_buf_adds(b, "null");
		return;
	}
	sw_perr_locate(&err, m->buf, m->len);
	sw_buf_adds(b, "{\"error\":");
	error_json(b, &err);
	sw_buf_addc(b, '}');
}

void sw_msg_to_json(struct sw_buf *b, const struct sw_msg *m, const struct sw_perr *err)
{
	sw_buf_addf(b, "{\"valid\":%s", err ? "false" : "true");
	if (err) {
		sw_buf_adds(b, ",\"error\":");
		error_json(b, err);
	}
	if (!m->version.p) { /* the start line did not parse */
		sw_buf_addc(b, '}');
		return;
	}
	if (m->is_request) {
		sw_buf_adds(b, ",\"type\":\"request\",\"method\":");
		sw_buf_add_json_sw(b, m->method);
		sw_buf_adds(b, ",\"request_uri\":");
		sw_buf_add_json_sw(b, m->ruri);
		struct sw_uri u;
		if (!sw_uri_parse(&u, m->ruri, NULL)) {
			sw_buf_adds(b, ",\"request_uri_parsed\":");
			sw_uri_to_json(b, &u);
		}
	} else {
		sw_buf_addf(b, ",\"type\":\"response\",\"status\":%u,\"reason\":", m->status);
		sw_buf_add_json_sw(b, m->reason);
	}
	sw_buf_adds(b, ",\"version\":");
	sw_buf_add_json_sw(b, m->version);
	if (m->len == 0) { /* framing failed: headers may be partial */
		sw_buf_addc(b, '}');
		return;
	}
	sw_buf_adds(b, ",\"headers\":[");
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		const char *canon = sw_hdr_name(h->id);
		if (i)
			sw_buf_addc(b, ',');
		sw_buf_adds(b, "{\"name\":");
		if (canon)
			sw_buf_add_json_str(b, canon, strlen(canon));
		else
			sw_buf_add_json_sw(b, h->name);
		if (canon && !sw_str_eq(h->name, canon)) {
			sw_buf_adds(b, ",\"written_as\":");
			sw_buf_add_json_sw(b, h->name);
		}
		sw_buf_addf(b, ",\"line\":%u,\"value\":", h->line);
		sw_buf_add_json_sw(b, h->value);
		sw_buf_adds(b, ",\"parsed\":");
		header_parsed(b, m, h);
		sw_buf_addc(b, '}');
	}
	sw_buf_addf(b, "],\"body_length\":%zu}", m->body.len);
}
