/* sipwarden analyze's live input (src/analyze_live.c). */
#ifndef SIPWARDEN_ANALYZE_LIVE_H
#define SIPWARDEN_ANALYZE_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "sipwarden/trace.h"
#include "sipwarden/transport.h"

struct analyze_live_opts {
	double duration;   /* seconds; 0: until SIGINT/SIGTERM */
	bool json;         /* one JSON object a line */
	const char *html;  /* the --html page, or NULL */
	double html_every; /* rewrite it this often (seconds); 0: at the end only */
	size_t keep;       /* judged flows (and summaries) kept for the final reports */
};

struct analyze_live_counts {
	uint64_t packets, malformed, bad_key, not_sip;
	uint64_t dropped; /* --live: packets the kernel dropped */
	size_t printed; /* flows already printed as they were judged */
};

/* Receives HEPv3 on the UDP address l (named name in reports) into t until
 * SIGINT/SIGTERM or lo->duration, printing each failed flow as it is
 * judged (and rewriting lo->html every lo->html_every seconds); at the end
 * the flows still open are judged and printed too. Packets without the key (when key is given),
 * malformed ones and non-SIP payloads are counted in c and dropped. 0, or
 * -1 when the socket cannot be bound (said on stderr). */
int analyze_hep(struct sw_trace *t, const struct sw_listen *l, const char *name, const char *key,
		const struct analyze_live_opts *lo, struct analyze_live_counts *c);

/* Captures on the interface iface with the BPF filter into t, the same way
 * (frames go through sw_trace_add_frame: IP reassembly, TCP streams). 0, or
 * -1 when the capture cannot start (said on stderr). */
int analyze_pcap_live(struct sw_trace *t, const char *iface, const char *filter,
		      const struct analyze_live_opts *lo, struct analyze_live_counts *c);

/* One JSON line: flows and failures by cause, and the packet counts. */
void analyze_live_summary(const struct sw_trace *t, const struct analyze_live_counts *c);

#endif
