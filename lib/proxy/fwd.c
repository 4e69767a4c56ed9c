/* Printing a forwarded request (§16.6): the new Request-URI, our Via on
 * top, Max-Forwards decremented (70 when absent), our Route values
 * removed, our Record-Route added to dialog-creating requests, and our own
 * credentials (Proxy-Authorization for one of our realms) removed, so that
 * a caller's digest never reaches the callee. Every other header line is
 * copied as received. */
#include <stdio.h>
#include <string.h>
#include "proxy/proxy_int.h"

static bool our_credentials(struct sw_proxy_worker *pw, const struct sw_msg *m, const struct sw_hdr *h)
{
	struct sw_auth a;
	if (sw_msg_auth(m, h, &a, NULL) || !a.realm.p)
		return false;
	char realm[SW_STORE_DOMAIN_MAX + 1];
	int n = sw_str_unquote(a.realm, realm, sizeof(realm) - 1);
	return n >= 0 && sw__px_domain_index(pw, sw_str_from(realm, (size_t)n)) >= 0;
}

static void copy_line(struct sw_buf *b, const struct sw_hdr *h)
{
	sw_buf_add(b, h->name.p, (size_t)(h->value.p + h->value.len - h->name.p));
	sw_buf_adds(b, "\r\n");
}

/* The upstream's top Via with received and rport (RFC 3261 §18.2.1, RFC
 * 3581 §4), then the rest of that header line as it was. */
static void top_via(const struct sw_msg *m, const struct sw_hdr *h, const struct sw_peer *from,
		    struct sw_buf *b)
{
	struct sw_hdr_iter it = { m, (unsigned)(h - m->hdrs), h->value.p };
	sw_str first;
	struct sw_via v;
	if (!from || !sw_hdr_iter_next(&it, &first, NULL) || sw_via_parse(&v, first, NULL)) {
		copy_line(b, h);
		return;
	}
	char addr[64];
	sw_sockaddr_host((const struct sockaddr *)&from->addr, addr, sizeof(addr));
	int rport = v.has_rport && v.rport < 0 ? sw_sockaddr_port((const struct sockaddr *)&from->addr) : -1;
	sw_str host = v.host;
	if (host.len >= 2 && host.p[0] == '[')
		host = sw_str_from(host.p + 1, host.len - 2);
	sw_str received = rport >= 0 || !sw_str_ieq(host, addr) ? sw_str_from(addr, strlen(addr)) : SW_STR_NULL;
	sw_buf_adds(b, "Via: ");
	sw_print_via_received(b, first, received, rport);
	const char *tail = first.p + first.len, *end = h->value.p + h->value.len;
	sw_buf_add(b, tail, (size_t)(end - tail));
	sw_buf_adds(b, "\r\n");
}

static void record_route(struct sw_proxy_worker *pw, const struct px_fwd *f, bool sips, struct sw_buf *b)
{
	/* two entries: the top one faces the callee and holds the callee's flow,
	 * the other faces the caller and holds the caller's (RFC 5658 double
	 * record-routing, always, so each direction finds its flow) */
	const struct sw_flow *side[2] = { f->to, f->caller };
	for (unsigned i = 0; i < 2; i++) {
		char tok[PX_TOKEN_MAX];
		const char *hp = sw__px_hostport(pw, side[i]->listen);
		sw__px_token_make(pw, side[i], tok);
		/* a sips: request gets sips: routes (§16.6 step 4); else the
		 * transport parameter says how that side reaches us */
		bool tls = side[i]->tp == SW_TP_TLS;
		sw_buf_adds(b, tls && sips ? "Record-Route: <sips:" : "Record-Route: <sip:");
		sw_buf_adds(b, tok);
		sw_buf_addc(b, '@');
		sw_buf_adds(b, hp);
		sw_buf_adds(b, side[i]->tp == SW_TP_TCP ? ";lr;transport=tcp>\r\n"
			       : tls && !sips ? ";lr;transport=tls>\r\n" : ";lr>\r\n");
	}
}

int sw__px_print_request(struct sw_proxy_worker *pw, const struct sw_msg *m, const struct px_fwd *f,
			 struct sw_buf *b)
{
	const char *hp = sw__px_hostport(pw, f->to->listen);
	sw_print_request_line(b, m->method, f->ruri);
	sw_buf_adds(b, "Via: SIP/2.0/");
	sw_buf_adds(b, sw_transport_name(f->to->tp));
	sw_buf_addc(b, ' ');
	sw_buf_adds(b, hp);
	sw_buf_adds(b, ";branch=");
	sw_buf_adds(b, f->branch);
	sw_buf_adds(b, "\r\n");
	uint32_t mf = 70;
	bool has_mf = sw_msg_max_forwards(m, &mf, NULL) == 0;
	if (!has_mf)
		sw_buf_adds(b, "Max-Forwards: 70\r\n");
	if (f->path) /* RFC 3327 §5.3: the binding's Path becomes the route set, first */
		sw_buf_addf(b, "Route: %s\r\n", f->path);
	bool rr_done = !f->record_route;
	struct sw_uri ru;
	bool sips = sw_msg_ruri(m, &ru, NULL) == 0 && ru.scheme == SW_URI_SIPS;
	if (!rr_done && m->first[SW_HDR_RECORD_ROUTE] == SW_HDR_NONE) {
		record_route(pw, f, sips, b);
		rr_done = true;
	}
	unsigned routes = 0, nroutes = 0;
	if (f->drop_last_route) {
		sw_str last;
		nroutes = sw__px_route_last(m, &last);
	}
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		switch (h->id) {
		case SW_HDR_VIA:
			if (h == sw_msg_hdr(m, SW_HDR_VIA))
				top_via(m, h, f->from, b);
			else
				copy_line(b, h);
			break;
		case SW_HDR_MAX_FORWARDS:
			if (h == sw_msg_hdr(m, SW_HDR_MAX_FORWARDS)) {
				sw_buf_adds(b, "Max-Forwards: ");
				sw_buf_add_uint(b, mf ? mf - 1 : 0);
				sw_buf_adds(b, "\r\n");
			}
			break;
		case SW_HDR_PROXY_AUTHORIZATION:
			if (!our_credentials(pw, m, h))
				copy_line(b, h);
			break;
		case SW_HDR_RECORD_ROUTE:
			if (!rr_done) {
				record_route(pw, f, sips, b);
				rr_done = true;
			}
			copy_line(b, h);
			break;
		case SW_HDR_ROUTE: {
			/* drop the first f->pop values, wherever they are written */
			struct sw_hdr_iter it = { m, (unsigned)(h - m->hdrs), h->value.p };
			sw_str e;
			const struct sw_hdr *in;
			while (sw_hdr_iter_next(&it, &e, &in) && in == h) {
				bool last = f->drop_last_route && routes + 1 == nroutes;
				if (routes++ >= f->pop && !last)
					sw_print_header(b, "Route", e);
			}
			break;
		}
		default:
			copy_line(b, h);
		}
	}
	if (!m->has_content_length) { /* a datagram may omit it; a stream may not */
		sw_buf_adds(b, "Content-Length: ");
		sw_buf_add_uint(b, m->body.len);
		sw_buf_adds(b, "\r\n");
	}
	sw_buf_adds(b, "\r\n");
	sw_buf_add_str(b, m->body);
	return sw_buf_status(b);
}

void sw__px_forward_stateless(struct sw_proxy_worker *pw, const struct sw_msg *m, const struct sw_peer *from,
			      unsigned pop, const struct sw_flow *to)
{
	struct sw_via v;
	if (sw_msg_top_via(m, &v, NULL))
		return;
	/* the same branch for a retransmission of the same request (§16.11) */
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < v.branch.len; i++)
		h = (h ^ (unsigned char)v.branch.p[i]) * 1099511628211ull;
	for (size_t i = 0; i < m->method.len; i++)
		h = (h ^ (unsigned char)m->method.p[i]) * 1099511628211ull;
	char branch[40];
	struct sw_buf bb;
	sw_buf_init(&bb, branch, sizeof(branch));
	sw_buf_adds(&bb, "z9hG4bKsws");
	sw_buf_add_xint(&bb, h, 16);
	sw_buf_cstr(&bb);
	struct px_fwd f = { .ruri = m->ruri, .to = to, .branch = branch, .pop = pop, .from = from };
	char buf[65536];
	struct sw_buf b;
	sw_buf_init(&b, buf, sizeof(buf));
	if (sw__px_print_request(pw, m, &f, &b) == 0)
		sw_worker_send_flow(pw->w, to, b.p, b.len, NULL, NULL);
}
