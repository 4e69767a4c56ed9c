/* libFuzzer target: URIs (sip, sips, tel, any other scheme), their
 * comparison and %HH decoding; the same bytes as a From/Contact value and as
 * a ";name=value" parameter list. A URI that parses equals itself, its
 * slices lie inside the input, re-parsing its raw text gives an equal URI,
 * and decoding never writes past its buffer or grows the text. */
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

static char scratch[1 << 14], json[1 << 17];

static void within(sw_str s, const char *lo, const char *hi)
{
	if (s.p)
		CHECK(s.p >= lo && s.p + s.len <= hi);
}

static void unescape(sw_str s)
{
	int n = sw_uri_unescape(s, scratch, sizeof(scratch));
	CHECK(n == SW_EPARSE || n == SW_ENOSPC || (n >= 0 && (size_t)n <= s.len));
	/* a one-byte buffer: no overflow, a clean error when too small */
	char one[1];
	n = sw_uri_unescape(s, one, sizeof(one));
	CHECK(n == SW_EPARSE || n == SW_ENOSPC || (n >= 0 && n <= 1));
}

static void check_uri(const struct sw_uri *u, const char *lo, const char *hi)
{
	CHECK(sw_uri_equal(u, u));
	within(u->scheme_str, lo, hi);
	within(u->user, lo, hi);
	within(u->password, lo, hi);
	within(u->host, lo, hi);
	within(u->params, lo, hi);
	within(u->headers, lo, hi);
	within(u->opaque, lo, hi);
	CHECK(u->port >= -1 && u->port <= 65535);
	if (u->scheme == SW_URI_SIP || u->scheme == SW_URI_SIPS)
		CHECK(u->host.p && u->host.len > 0);
	unescape(u->user);
	unescape(u->password);
	unescape(u->headers);
	/* the same text parses to an equal URI */
	struct sw_uri again;
	CHECK(sw_uri_parse(&again, u->raw, NULL) == 0);
	CHECK(sw_uri_equal(u, &again) && sw_uri_equal(&again, u));
	struct sw_buf b;
	sw_buf_init(&b, json, sizeof(json));
	sw_uri_to_json(&b, u);
	CHECK(!b.overflow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *lo = (const char *)data, *hi = lo + size;
	sw_str in = { lo, size };
	struct sw_perr e;
	struct sw_uri u;

	if (sw_uri_parse(&u, in, &e) == 0)
		check_uri(&u, lo, hi);
	else
		CHECK(e.what != NULL && e.code == SW_EPARSE);
	unescape(in);

	/* the input split in two: comparison of two different URIs is
	 * symmetric */
	if (size >= 2) {
		size_t half = size / 2;
		struct sw_uri a, b;
		if (sw_uri_parse(&a, (sw_str){ lo, half }, NULL) == 0 &&
		    sw_uri_parse(&b, (sw_str){ lo + half, size - half }, NULL) == 0)
			CHECK(sw_uri_equal(&a, &b) == sw_uri_equal(&b, &a));
	}

	/* as a name-addr / addr-spec, with and without Contact's '*' */
	struct sw_addr a;
	for (int star = 0; star < 2; star++)
		if (sw_addr_parse(&a, in, star, &e) == 0) {
			within(a.display, lo, hi);
			within(a.params, lo, hi);
			within(a.tag, lo, hi);
			CHECK(!a.has_q || a.q <= 1000);
			if (!a.star)
				check_uri(&a.uri, lo, hi);
			else
				CHECK(star);
		}

	/* as a parameter list */
	sw_str rest = in, n, v;
	int rc, k = 0;
	while ((rc = sw_param_next(&rest, &n, &v)) == 1) {
		CHECK(++k <= (int)size + 1);
		within(n, lo, hi);
		within(v, lo, hi);
		CHECK(n.len > 0);
	}
	CHECK(rc == 0 || rc == SW_EPARSE);
	(void)sw_param_get(in, "transport", &v);
	return 0;
}
