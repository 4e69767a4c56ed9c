/* libFuzzer target: HEPv3 packets (sw_hep_parse), as `analyze --hep`
 * receives them from the network. A packet that decodes has its payload
 * inside the input, NUL-terminated addresses, and decodes the same with its
 * own key check off; its payload then goes through the live path of the
 * analyzer (add, flush, analyze) like a received message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                            \
		}                                                                           \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_hep h, k;
	int e = sw_hep_parse(data, size, NULL, &h);
	int ek = sw_hep_parse(data, size, "fuzz-key", &k);
	CHECK(e == 0 || e == SW_EPARSE);
	CHECK(ek == 0 || ek == SW_EPARSE || ek == SW_EINVAL);
	if (e != 0) {
		CHECK(ek == e);
		return 0;
	}
	CHECK(ek != SW_EPARSE); /* the key check comes after a good decode */
	CHECK(h.payload >= (const char *)data && h.payload + h.len <= (const char *)data + size);
	CHECK(memchr(h.src, '\0', sizeof(h.src)) && memchr(h.dst, '\0', sizeof(h.dst)));
	struct sw_trace *t;
	struct sw_trace_opts o = { .idle_us = 1000000 };
	if (sw_trace_new(&t, &o))
		return 0;
	struct sw_trace_meta m;
	memset(&m, 0, sizeof(m));
	m.input = sw_trace_add_input(t, "hep");
	m.ts_us = h.ts_us;
	memcpy(m.src, h.src, sizeof(m.src));
	memcpy(m.dst, h.dst, sizeof(m.dst));
	m.tp = h.tp;
	m.nfrags = 1;
	sw_trace_add_sip(t, &m, h.payload, h.len);
	sw_trace_flush(t, h.ts_us + 500000, 200000);
	sw_trace_flush(t, UINT64_MAX, 0);
	CHECK(sw_trace_analyze(t) == 0);
	sw_trace_free(t);
	return 0;
}
