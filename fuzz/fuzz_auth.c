/* libFuzzer target: Authorization / Proxy-Authorization / WWW-Authenticate /
 * Proxy-Authenticate values. Every challenge of a value is parsed by
 * following `next` (which must shrink, so the walk ends); every parameter is
 * looked up by name; every value is unquoted into a bounded buffer. Slices
 * lie inside the input; a quoted parameter's unquoting never grows it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                            \
		}                                                                           \
	} while (0)

static char scratch[1 << 14];

static const char *const names[] = {
	"username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque",
	"qop", "nc", "stale", "domain", "userhash", "charset", "username*", "x-unknown", "",
};

static void field(sw_str s, const char *lo, const char *hi)
{
	if (!s.p)
		return;
	CHECK(s.p >= lo && s.p + s.len <= hi);
	int n = sw_str_unquote(s, scratch, sizeof(scratch));
	CHECK(n == SW_EPARSE || n == SW_ENOSPC || (n >= 0 && (size_t)n <= s.len));
	char one[1];
	n = sw_str_unquote(s, one, sizeof(one));
	CHECK(n == SW_EPARSE || n == SW_ENOSPC || (n >= 0 && n <= 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *lo = (const char *)data, *hi = lo + size;
	sw_str rest = { lo, size };
	struct sw_perr e;
	struct sw_auth a;
	for (unsigned k = 0; rest.p; k++) {
		CHECK(k <= size);
		if (sw_auth_parse(&a, rest, &e)) {
			CHECK(e.what != NULL && e.code == SW_EPARSE);
			break;
		}
		CHECK(a.scheme.p && a.scheme.len > 0);
		CHECK(a.is_digest == sw_str_ieq(a.scheme, "Digest"));
		const sw_str *all[] = { &a.scheme, &a.username, &a.username_ext, &a.realm, &a.domain,
					&a.nonce, &a.uri, &a.response, &a.algorithm, &a.cnonce,
					&a.opaque, &a.qop, &a.nc, &a.stale, &a.userhash, &a.charset,
					&a.params, &a.next, &a.raw };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			field(*all[i], lo, hi);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			sw_str v;
			if (sw_auth_param(&a, names[i], &v))
				field(v, lo, hi);
		}
		/* a named field and the generic lookup agree */
		sw_str v;
		if (a.realm.p) {
			CHECK(sw_auth_param(&a, "realm", &v));
			CHECK(v.p == a.realm.p && v.len == a.realm.len);
		}
		if (a.next.p)
			CHECK(a.next.len < rest.len);
		rest = a.next;
	}
	return 0;
}
