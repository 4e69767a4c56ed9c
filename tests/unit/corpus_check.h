/* Checks shared by the corpus tests (tests/unit/test_corpus_*.c): every
 * accessor on every header of a parsed message, and the print → parse round
 * trip. Include after <cmocka.h>. */
#ifndef SW_TEST_CORPUS_CHECK_H
#define SW_TEST_CORPUS_CHECK_H

#include <stdint.h>
#include <string.h>
#include "sipwarden/msg.h"

/* Every accessor on every header. Results are not asserted (an invalid
 * message may fail any of them); this is for ASan/UBSan and the guard page.
 * A URI that parses must equal itself. */
static inline void sw_corpus_exercise(const struct sw_msg *m)
{
	struct sw_perr e;
	struct sw_via v;
	struct sw_addr a;
	struct sw_cseq c;
	struct sw_uri u;
	struct sw_auth au;
	uint32_t n;
	sw_str s;
	char tmp[8192];

	(void)sw_msg_top_via(m, &v, &e);
	(void)sw_msg_from(m, &a, &e);
	(void)sw_msg_to(m, &a, &e);
	(void)sw_msg_cseq(m, &c, &e);
	(void)sw_msg_call_id(m, &s, &e);
	(void)sw_msg_expires(m, &n, &e);
	(void)sw_msg_min_expires(m, &n, &e);
	(void)sw_msg_max_forwards(m, &n, &e);
	if (m->is_request && sw_msg_ruri(m, &u, &e) == 0) {
		assert_true(sw_uri_equal(&u, &u));
		(void)sw_uri_unescape(u.user, tmp, sizeof(tmp));
	}
	for (unsigned id = 0; id < SW_HDR__COUNT; id++) {
		struct sw_hdr_iter it;
		sw_str el;
		const struct sw_hdr *h;
		sw_hdr_iter_init(&it, m, (enum sw_hdr_id)id);
		while (sw_hdr_iter_next(&it, &el, &h)) {
			assert_int_equal(h->id, id);
			switch (id) {
			case SW_HDR_VIA:
				if (sw_via_parse(&v, el, &e) == 0)
					(void)sw_param_get(v.params, "branch", &s);
				break;
			case SW_HDR_FROM: case SW_HDR_TO: case SW_HDR_CONTACT: case SW_HDR_ROUTE:
			case SW_HDR_RECORD_ROUTE: case SW_HDR_PATH: case SW_HDR_REFER_TO:
				if (sw_addr_parse(&a, el, id == SW_HDR_CONTACT, &e) == 0 && !a.star) {
					assert_true(sw_uri_equal(&a.uri, &a.uri));
					(void)sw_uri_unescape(a.uri.user, tmp, sizeof(tmp));
					if (a.display.p)
						(void)sw_str_unquote(a.display, tmp, sizeof(tmp));
				}
				break;
			default:
				break;
			}
		}
	}
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		switch (h->id) {
		case SW_HDR_CSEQ:
			(void)sw_cseq_parse(&c, h->value, &e);
			break;
		case SW_HDR_EXPIRES: case SW_HDR_MIN_EXPIRES: case SW_HDR_CONTENT_LENGTH:
			(void)sw_uint_parse(&n, h->value, UINT32_MAX, &e);
			break;
		case SW_HDR_MAX_FORWARDS:
			(void)sw_uint_parse(&n, h->value, 255, &e);
			break;
		case SW_HDR_DATE:
			(void)sw_date_parse(h->value, &e);
			break;
		case SW_HDR_AUTHORIZATION: case SW_HDR_PROXY_AUTHORIZATION:
		case SW_HDR_WWW_AUTHENTICATE: case SW_HDR_PROXY_AUTHENTICATE: {
			sw_str rest = h->value;
			for (int k = 0; rest.p && k < 64; k++) {
				if (sw_auth_parse(&au, rest, &e))
					break;
				(void)sw_auth_param(&au, "realm", &s);
				(void)sw_auth_param(&au, "x-unknown", &s);
				rest = au.next;
			}
			break;
		}
		default:
			break;
		}
		/* lookup by name agrees with the table */
		char name[256];
		if (h->name.len < sizeof(name)) {
			memcpy(name, h->name.p, h->name.len);
			name[h->name.len] = '\0';
			const struct sw_hdr *f = sw_msg_hdr_by_name(m, name);
			assert_non_null(f);
			assert_int_equal(f->id, h->id);
		}
	}
	static char json[1 << 20]; /* 64 KiB of input, every byte escaped */
	struct sw_buf b;
	sw_buf_init(&b, json, sizeof(json));
	sw_msg_to_json(&b, m, NULL);
	assert_false(b.overflow);
}

/* A header value as the printer writes it: each line break with the
 * whitespace around its start collapsed into one space. */
static inline size_t sw_corpus_unfold(sw_str v, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len && n < cap; i++) {
		if (v.p[i] == '\r' || v.p[i] == '\n') {
			while (i + 1 < v.len && strchr("\r\n \t", v.p[i + 1]))
				i++;
			out[n++] = ' ';
		} else {
			out[n++] = v.p[i];
		}
	}
	return n;
}

/* print(parse(x)) parses and checks again, with the same start line, the
 * same headers (values modulo folding; Content-Length recomputed) and the
 * same body. */
static inline void sw_corpus_round_trip(const struct sw_msg *m)
{
	static struct sw_msg msg2;
	static char out[1 << 17];
	struct sw_buf b;
	struct sw_perr e;
	sw_buf_init(&b, out, sizeof(out));
	assert_int_equal(sw_print_msg(&b, m), 0);
	int rc = sw_msg_parse(&msg2, b.p, b.len, NULL, &e);
	if (rc)
		fail_msg("reprint does not parse: %s\n%.*s", e.what, (int)b.len, b.p);
	if (sw_msg_check(&msg2, &e))
		fail_msg("reprint does not check: %s", e.what);
	assert_int_equal(msg2.len, b.len);
	assert_int_equal(msg2.is_request, m->is_request);
	if (m->is_request) {
		assert_true(sw_str_eq_str(msg2.method, m->method));
		assert_true(sw_str_eq_str(msg2.ruri, m->ruri));
	} else {
		assert_int_equal(msg2.status, m->status);
		assert_true(sw_str_eq_str(msg2.reason, m->reason));
	}
	unsigned ncl = m->count[SW_HDR_CONTENT_LENGTH];
	assert_int_equal(msg2.nhdrs, m->nhdrs - ncl + 1);
	unsigned j = 0;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		if (h->id == SW_HDR_CONTENT_LENGTH)
			continue;
		const struct sw_hdr *h2 = &msg2.hdrs[j++];
		assert_int_equal(h2->id, h->id);
		if (h->id == SW_HDR_OTHER)
			assert_true(sw_str_eq_str(h2->name, h->name));
		static char want[1 << 14];
		size_t wl = sw_corpus_unfold(h->value, want, sizeof(want));
		if (wl != h2->value.len || memcmp(want, h2->value.p, wl))
			fail_msg("header %u value changed: '%.*s' -> '%.*s'", i, (int)wl, want,
				 (int)h2->value.len, h2->value.p);
	}
	assert_int_equal(msg2.hdrs[j].id, SW_HDR_CONTENT_LENGTH);
	assert_int_equal(msg2.body.len, m->body.len);
	assert_memory_equal(msg2.body.p, m->body.p, m->body.len);
}

#endif
