/* Character classes and scanning helpers shared by the lib/msg files
 * (RFC 3261 §25). Library-internal: the sw__ prefix. */
#ifndef SW_MSG_SCAN_H
#define SW_MSG_SCAN_H

#include "sipwarden/msg.h"

enum {
	SW__C_ALNUM = 1u << 0,
	SW__C_TOKEN = 1u << 1,     /* token */
	SW__C_UNRES = 1u << 2,     /* unreserved = alphanum / mark */
	SW__C_USER = 1u << 3,      /* user-unreserved, plus unreserved */
	SW__C_PASS = 1u << 4,      /* password chars (without escaped) */
	SW__C_PARAM = 1u << 5,     /* paramchar (without escaped) */
	SW__C_HNV = 1u << 6,       /* hname / hvalue chars (without escaped) */
	SW__C_WORD = 1u << 7,      /* word (Call-ID) */
	SW__C_HOST = 1u << 8,      /* hostname chars: alphanum - . */
	SW__C_DIGIT = 1u << 9,
	SW__C_HEX = 1u << 10,
	SW__C_URIC = 1u << 11,     /* uric for absoluteURI opaque parts */
};

extern const uint16_t sw__cclass[256];

static inline bool sw__is(unsigned char c, unsigned cls) { return (sw__cclass[c] & cls) != 0; }

/* Skips LWS: spaces, tabs and folded line ends (CRLF or LF followed by
 * SP/HTAB). Returns the new position (<= end). */
static inline const char *sw__skip_lws(const char *p, const char *end)
{
	for (;;) {
		if (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		} else if (p + 1 < end && *p == '\r' && p[1] == '\n' && p + 2 < end &&
			   (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
		} else if (p < end && *p == '\n' && p + 1 < end && (p[1] == ' ' || p[1] == '\t')) {
			p += 2;
		} else {
			return p;
		}
	}
}

/* One past the last byte of a slice; NULL for an absent one (NULL + 0 is
 * undefined behaviour in C). */
static inline const char *sw__end(sw_str s) { return s.p ? s.p + s.len : s.p; }

/* Trims LWS at both ends of a slice. */
sw_str sw__trim(sw_str s);

/* Sets an error (when err is non-NULL) and returns code. */
int sw__fail(struct sw_perr *err, int code, unsigned status, const char *at, const char *what);

/* Scans a quoted-string starting at p (which must point at '"'); returns a
 * pointer past the closing quote, or NULL when it does not close. */
const char *sw__scan_quoted(const char *p, const char *end);

/* Scans the %HH-aware run of chars in class cls; returns the end of the run
 * or NULL at a broken escape. */
const char *sw__scan_escaped(const char *p, const char *end, unsigned cls);

/* Parses a decimal number (1..10 digits) from [p, end) into *out, stopping at
 * the first non-digit. Returns the end pointer, NULL when no digits or the
 * value exceeds max. */
const char *sw__scan_uint(const char *p, const char *end, uint32_t max, uint32_t *out);

/* Parses host [":" port] for URIs and Via sent-by. */
const char *sw__scan_hostport(const char *p, const char *end, sw_str *host, int *port,
			       bool *ipv6, struct sw_perr *err);

#endif
