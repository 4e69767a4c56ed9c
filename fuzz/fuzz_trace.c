/* libFuzzer target: the analyzer on arbitrary bytes (a capture when they
 * start with a pcap/pcapng magic, else a text log), then the flows and all
 * three reports. Also fed as one Ethernet frame, to reach the IP/TCP code
 * without the file header. */
#include <stddef.h>
#include <stdint.h>
#include "sipwarden/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_trace_opts o = { .nports = 1, .ports = { 7000 } };
	struct sw_trace *t;
	char why[256];
	if (sw_trace_new(&t, &o))
		return 0;
	(void)sw_trace_read_mem(t, "fuzz", data, size, why, sizeof(why));
	unsigned in = sw_trace_add_input(t, "frames");
	int dlts[] = { 1, 113, 276, 101, 0 };
	/* the first byte picks a link type, the rest is a frame, then the same
	 * bytes again as a second frame (fragments and TCP need two) */
	if (size > 1) {
		int dlt = dlts[data[0] % 5];
		sw_trace_add_frame(t, in, 1, 1, dlt, data + 1, size - 1, size - 1);
		sw_trace_add_frame(t, in, 2, 2, dlt, data + 1, size - 1, size);
	}
	if (sw_trace_analyze(t) == 0) {
		sw_trace_report_text(t, true, sink, NULL);
		sw_trace_report_json(t, sink, NULL);
		sw_trace_report_html(t, sink, NULL);
	}
	sw_trace_free(t);
	return 0;
}
