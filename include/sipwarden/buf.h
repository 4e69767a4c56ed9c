/* sipwarden — a bounded output buffer and JSON/text writers on top of it.
 *
 * The caller owns the memory. Writes past the capacity are dropped and set
 * `overflow`, so a sequence of writes can be checked once at the end. */
#ifndef SIPWARDEN_BUF_H
#define SIPWARDEN_BUF_H

#include <stdarg.h>
#include "sipwarden/common.h"

struct sw_buf {
	char *p;
	size_t len;
	size_t cap;
	bool overflow;
};

void sw_buf_init(struct sw_buf *b, char *mem, size_t cap);
void sw_buf_add(struct sw_buf *b, const void *p, size_t n);
void sw_buf_adds(struct sw_buf *b, const char *s);
void sw_buf_add_str(struct sw_buf *b, sw_str s);
void sw_buf_addc(struct sw_buf *b, char c);
/* The decimal digits of v: what "%u" gives, without printf's machinery,
 * for the numbers of every forwarded message. */
void sw_buf_add_uint(struct sw_buf *b, uint64_t v);
/* v in lower-case hex, zero-padded to digits (what "%0*llx" gives, digits <= 16). */
void sw_buf_add_xint(struct sw_buf *b, uint64_t v, unsigned digits);
/* a, sep, b into out (NUL-terminated, cut at cap like snprintf): the
 * "user@domain" of every request, without printf's machinery. */
const char *sw_join(char *out, size_t cap, const char *a, const char *sep, const char *b);
void sw_buf_addf(struct sw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sw_buf_vaddf(struct sw_buf *b, const char *fmt, va_list ap);
/* Lower-case hex of n bytes. */
void sw_buf_add_hex(struct sw_buf *b, const unsigned char *p, size_t n);
/* A JSON string literal (with quotes) of arbitrary bytes: control
 * characters and invalid UTF-8 are escaped so the output is valid JSON. */
void sw_buf_add_json_str(struct sw_buf *b, const char *p, size_t n);
static inline void sw_buf_add_json_sw(struct sw_buf *b, sw_str s)
{
	if (s.p)
		sw_buf_add_json_str(b, s.p, s.len);
	else
		sw_buf_adds(b, "null");
}
/* NUL-terminates (within capacity) and returns the text. */
const char *sw_buf_cstr(struct sw_buf *b);
/* 0, or SW_ENOSPC when anything was dropped. */
static inline int sw_buf_status(const struct sw_buf *b) { return b->overflow ? SW_ENOSPC : 0; }

#endif
