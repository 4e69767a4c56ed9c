/* libFuzzer target: the whole-message parser and everything built on it.
 *
 * For each input: sw_msg_parse in datagram mode, in stream mode (framing
 * message after message) and with tight limits; sw_msg_check; every typed
 * accessor on every header; sw_msg_to_json; and, for a message that parses
 * and checks, the printer: parse(print(m)) must parse and check again with
 * the same start line, headers and body, print must be idempotent, and a
 * response built from a valid request must parse and check. Any broken
 * invariant abort()s so that libFuzzer keeps the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                            \
		}                                                                           \
	} while (0)

static struct sw_msg m, m2, m3;
static char out1[1 << 18], out2[1 << 18], json[1 << 20];

/* A slice is absent, or lies inside [lo, hi]. */
static void within(sw_str s, const char *lo, const char *hi)
{
	if (s.p)
		CHECK(s.p >= lo && s.p + s.len <= hi);
}

static void check_uri(const struct sw_uri *u, const char *lo, const char *hi)
{
	char tmp[256];
	CHECK(sw_uri_equal(u, u));
	within(u->user, lo, hi);
	within(u->host, lo, hi);
	within(u->params, lo, hi);
	within(u->headers, lo, hi);
	CHECK(u->port >= -1 && u->port <= 65535);
	int n = sw_uri_unescape(u->user, tmp, sizeof(tmp));
	CHECK(n <= (int)sizeof(tmp) && (n < 0 || (size_t)n <= u->user.len));
	sw_str rest = u->params, pn, pv;
	for (int k = 0; k < 256 && sw_param_next(&rest, &pn, &pv) == 1; k++)
		;
}

static void accessors(const struct sw_msg *msg)
{
	const char *lo = msg->buf, *hi = msg->buf + msg->len;
	struct sw_perr e;
	struct sw_via v;
	struct sw_addr a;
	struct sw_cseq c;
	struct sw_uri u;
	struct sw_auth au;
	uint32_t n;
	sw_str s;
	char tmp[512];

	if (sw_msg_top_via(msg, &v, &e) == 0)
		within(v.host, lo, hi);
	if (sw_msg_from(msg, &a, &e) == 0)
		within(a.tag, lo, hi);
	if (sw_msg_to(msg, &a, &e) == 0)
		within(a.tag, lo, hi);
	if (sw_msg_cseq(msg, &c, &e) == 0)
		CHECK(c.num <= 0x7fffffffu);
	if (sw_msg_call_id(msg, &s, &e) == 0)
		within(s, lo, hi);
	(void)sw_msg_expires(msg, &n, &e);
	(void)sw_msg_min_expires(msg, &n, &e);
	if (sw_msg_max_forwards(msg, &n, &e) == 0)
		CHECK(n <= 255);
	if (msg->is_request && sw_msg_ruri(msg, &u, &e) == 0)
		check_uri(&u, lo, hi);

	for (unsigned id = 0; id < SW_HDR__COUNT; id++) {
		struct sw_hdr_iter it;
		sw_str el;
		const struct sw_hdr *h;
		unsigned guard = 0;
		sw_hdr_iter_init(&it, msg, (enum sw_hdr_id)id);
		while (sw_hdr_iter_next(&it, &el, &h)) {
			CHECK(++guard <= 1u << 16);
			CHECK(h->id == id);
			within(el, lo, hi);
			switch (id) {
			case SW_HDR_VIA:
				if (sw_via_parse(&v, el, &e) == 0) {
					within(v.branch, lo, hi);
					within(v.received, lo, hi);
					CHECK(v.rport >= -1 && v.rport <= 65535);
					CHECK(v.ttl >= -1 && v.ttl <= 255);
				}
				break;
			case SW_HDR_FROM: case SW_HDR_TO: case SW_HDR_CONTACT: case SW_HDR_ROUTE:
			case SW_HDR_RECORD_ROUTE: case SW_HDR_PATH: case SW_HDR_REFER_TO:
				if (sw_addr_parse(&a, el, id == SW_HDR_CONTACT, &e) == 0 && !a.star) {
					check_uri(&a.uri, lo, hi);
					within(a.display, lo, hi);
					CHECK(!a.has_q || a.q <= 1000);
					if (a.display.p)
						(void)sw_str_unquote(a.display, tmp, sizeof(tmp));
				}
				break;
			default:
				break;
			}
		}
	}
	for (unsigned i = 0; i < msg->nhdrs; i++) {
		const struct sw_hdr *h = &msg->hdrs[i];
		within(h->name, lo, hi);
		within(h->value, lo, hi);
		switch (h->id) {
		case SW_HDR_CSEQ:
			(void)sw_cseq_parse(&c, h->value, &e);
			break;
		case SW_HDR_EXPIRES: case SW_HDR_MIN_EXPIRES: case SW_HDR_CONTENT_LENGTH:
			(void)sw_uint_parse(&n, h->value, UINT32_MAX, &e);
			break;
		case SW_HDR_DATE:
			(void)sw_date_parse(h->value, &e);
			break;
		case SW_HDR_AUTHORIZATION: case SW_HDR_PROXY_AUTHORIZATION:
		case SW_HDR_WWW_AUTHENTICATE: case SW_HDR_PROXY_AUTHENTICATE: {
			sw_str rest = h->value;
			for (int k = 0; rest.p; k++) {
				CHECK(k < 4096);
				if (sw_auth_parse(&au, rest, &e))
					break;
				within(au.nonce, lo, hi);
				(void)sw_auth_param(&au, "realm", &s);
				(void)sw_auth_param(&au, "x", &s);
				if (au.next.p)
					CHECK(au.next.len < rest.len);
				rest = au.next;
			}
			break;
		}
		default:
			(void)sw_param_get(h->value, "tag", &s);
			break;
		}
		char name[64];
		if (h->name.len < sizeof(name)) {
			memcpy(name, h->name.p, h->name.len);
			name[h->name.len] = '\0';
			const struct sw_hdr *f = sw_msg_hdr_by_name(msg, name);
			CHECK(f && f->id == h->id);
		}
	}
}

/* Header values as the printer writes them: folds collapsed to one space. */
static bool same_unfolded(sw_str orig, sw_str printed)
{
	size_t j = 0;
	for (size_t i = 0; i < orig.len; i++) {
		char ch = orig.p[i];
		if (ch == '\r' || ch == '\n') {
			while (i + 1 < orig.len && (orig.p[i + 1] == '\r' || orig.p[i + 1] == '\n' ||
						    orig.p[i + 1] == ' ' || orig.p[i + 1] == '\t'))
				i++;
			ch = ' ';
		}
		if (j >= printed.len || printed.p[j] != ch)
			return false;
		j++;
	}
	return j == printed.len;
}

static void printer(const struct sw_msg *msg)
{
	/* the printer adds a Content-Length: past the header cap the reprint
	 * cannot be parsed, by design */
	if (msg->nhdrs - msg->count[SW_HDR_CONTENT_LENGTH] + 1 > SW_MSG_MAX_HEADERS)
		return;
	const struct sw_parse_opts big = { .max_size = sizeof(out1), .max_header_len = sizeof(out1) };
	struct sw_buf b;
	struct sw_perr e;
	sw_buf_init(&b, out1, sizeof(out1));
	CHECK(sw_print_msg(&b, msg) == 0);
	CHECK(sw_msg_parse(&m2, b.p, b.len, &big, &e) == 0);
	CHECK(m2.len == b.len);
	CHECK(sw_msg_check(&m2, &e) == 0);
	CHECK(m2.is_request == msg->is_request);
	if (msg->is_request) {
		CHECK(sw_str_eq_str(m2.method, msg->method));
		CHECK(sw_str_eq_str(m2.ruri, msg->ruri));
	} else {
		CHECK(m2.status == msg->status);
		CHECK(sw_str_eq_str(m2.reason, msg->reason));
	}
	CHECK(m2.nhdrs == msg->nhdrs - msg->count[SW_HDR_CONTENT_LENGTH] + 1);
	unsigned j = 0;
	for (unsigned i = 0; i < msg->nhdrs; i++) {
		const struct sw_hdr *h = &msg->hdrs[i];
		if (h->id == SW_HDR_CONTENT_LENGTH)
			continue;
		const struct sw_hdr *h2 = &m2.hdrs[j++];
		CHECK(h2->id == h->id);
		CHECK(same_unfolded(h->value, h2->value));
	}
	CHECK(m2.body.len == msg->body.len && !memcmp(m2.body.p, msg->body.p, msg->body.len));
	/* printing is idempotent */
	struct sw_buf b2;
	sw_buf_init(&b2, out2, sizeof(out2));
	CHECK(sw_print_msg(&b2, &m2) == 0);
	CHECK(b2.len == b.len && !memcmp(b2.p, b.p, b.len));

	/* a response to a valid request (RFC 3261 §8.2.6) */
	if (msg->is_request) {
		sw_buf_init(&b2, out2, sizeof(out2));
		if (sw_print_response_start(&b2, msg, 200, NULL, SW_STR_LIT("fz7tag")) == 0 &&
		    sw_print_end(&b2, (sw_str){ "", 0 }) == 0) {
			CHECK(sw_msg_parse(&m3, b2.p, b2.len, &big, &e) == 0);
			CHECK(sw_msg_check(&m3, &e) == 0);
			CHECK(m3.status == 200);
			CHECK(m3.count[SW_HDR_VIA] == msg->count[SW_HDR_VIA]);
			struct sw_addr to;
			CHECK(sw_msg_to(&m3, &to, &e) == 0);
			CHECK(to.tag.p != NULL);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *end = buf + size;
	struct sw_perr e;
	struct sw_buf b;

	/* datagram */
	int rc = sw_msg_parse(&m, buf, size, NULL, &e);
	if (rc) {
		CHECK(e.what != NULL && e.code == rc);
		CHECK(rc != SW_EAGAIN);
	} else {
		CHECK(m.len <= size && m.body.p + m.body.len <= end);
		int crc = sw_msg_check(&m, &e);
		if (crc)
			CHECK(e.what != NULL);
		accessors(&m);
		sw_buf_init(&b, json, sizeof(json));
		sw_msg_to_json(&b, &m, crc ? &e : NULL);
		CHECK(!b.overflow);
		if (crc == 0)
			printer(&m);
	}

	/* stream: message after message, each one a prefix consumed */
	const struct sw_parse_opts so = { .stream = true };
	size_t off = 0;
	for (int k = 0; k < 64 && off < size; k++) {
		rc = sw_msg_parse(&m, buf + off, size - off, &so, &e);
		if (rc)
			break;
		CHECK(m.len > 0 && m.len <= size - off);
		/* the same bytes as a datagram frame the same message */
		size_t ml = m.len;
		unsigned nh = m.nhdrs;
		size_t bl = m.body.len;
		CHECK(sw_msg_parse(&m2, buf + off, ml, NULL, &e) == 0);
		CHECK(m2.len == ml && m2.nhdrs == nh && m2.body.len == bl);
		(void)sw_msg_check(&m, &e);
		off += ml;
	}

	/* tight limits: clean errors, never a crash */
	const struct sw_parse_opts tight = { .max_size = 512, .max_headers = 4, .max_header_len = 48 };
	rc = sw_msg_parse(&m, buf, size, &tight, &e);
	if (rc == 0) {
		CHECK(m.nhdrs <= 4 && m.len <= 512);
		accessors(&m);
	}
	return 0;
}
