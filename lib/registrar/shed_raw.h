/* A 503 to a shed request read from the raw datagram (shed_raw.c), without
 * the full parse: only the headers the answer copies. */
#ifndef SW_SHED_RAW_H
#define SW_SHED_RAW_H

#include "sipwarden/msg.h"
#include "sipwarden/buf.h"

#define SW_SHED_RAW_VIAS 8u

struct sw_shed_raw {
	sw_str method;                  /* of the Request-Line */
	sw_str via[SW_SHED_RAW_VIAS];   /* the Via header values, in order */
	unsigned nvia;
	sw_str top;                     /* the first element of the first Via */
	struct sw_via v;                /* top, parsed */
	sw_str from, to, call_id, cseq; /* one of each */
	struct sw_cseq cs;
};

/* Reads what a 503 needs from the request in buf: the Request-Line, the
 * Via, From, To, Call-ID and CSeq headers (long or compact names, folded
 * or not; each but Via exactly once), the top Via and the CSeq parsed,
 * a To that parses and has no tag, a Content-Length that fits. 0, or
 * SW_EPARSE for anything else: the caller then takes the full parse,
 * which answers what this does not read. Slices point into buf. */
int sw_shed_raw_scan(struct sw_shed_raw *r, const char *buf, size_t len);

/* The 503 into b, as sw_print_response_start_via + Server + Retry-After +
 * Content-Length: 0 make it for the same request: the top Via with
 * received (when received.p) and rport (rport >= 0), the other Via
 * values, From, To with ;tag=to_tag, Call-ID, CSeq, then Server (when
 * server.p). Returns sw_buf_status(b). */
int sw_shed_raw_print(struct sw_buf *b, const struct sw_shed_raw *r, sw_str to_tag, sw_str received,
		      int rport, sw_str server, uint32_t retry_after);

#endif
