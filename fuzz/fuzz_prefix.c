/* libFuzzer target: addresses and networks as the [ban] allowlist and
 * `sipwarden ban add` take them (sw_prefix_parse). A network that parses
 * contains itself and every address of it tried, formats to text that
 * parses back to the same network, and its store form (address text and
 * length) gives it back too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/ban.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                            \
		}                                                                           \
	} while (0)

static bool same(const struct sw_prefix *a, const struct sw_prefix *b)
{
	return a->v6 == b->v6 && a->bits == b->bits && !memcmp(a->addr, b->addr, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128], out[96];
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct sw_prefix p, q, one;
	if (sw_prefix_parse(text, &p))
		return 0;
	CHECK(p.bits <= (p.v6 ? 128 : 32));
	CHECK(sw_prefix_contains(&p, &p));
	sw_prefix_format(&p, out, sizeof(out));
	CHECK(sw_prefix_parse(out, &q) == 0 && same(&p, &q));
	struct sw_ban_record r;
	memset(&r, 0, sizeof(r));
	sw_prefix_addr_text(&p, r.addr, sizeof(r.addr));
	r.prefix = p.bits;
	CHECK(sw_prefix_from_record(&r, &q) == 0 && same(&p, &q));
	/* the network's last address is in it; the one past it is not */
	one = p;
	one.bits = p.v6 ? 128 : 32;
	for (unsigned i = p.bits; i < one.bits; i++)
		one.addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	CHECK(sw_prefix_contains(&p, &one));
	if (p.bits > 0) {
		one.addr[(p.bits - 1) / 8] ^= (uint8_t)(0x80u >> ((p.bits - 1) % 8));
		CHECK(!sw_prefix_contains(&p, &one));
	}
	return 0;
}
