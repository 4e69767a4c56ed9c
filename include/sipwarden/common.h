/* sipwarden — shared basics: string slices and error codes. */
#ifndef SIPWARDEN_COMMON_H
#define SIPWARDEN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* A slice of someone else's buffer: never NUL-terminated, never owned.
 * An absent value has p == NULL; a present but empty one has p != NULL, len 0. */
typedef struct sw_str {
	const char *p;
	size_t len;
} sw_str;

#define SW_STR_NULL ((sw_str){ NULL, 0 })
#define SW_STR_LIT(s) ((sw_str){ (s), sizeof(s) - 1 })

static inline bool sw_str_present(sw_str s) { return s.p != NULL; }
static inline sw_str sw_str_from(const char *p, size_t len) { return (sw_str){ p, len }; }

/* ASCII case-insensitive equality of n bytes (no locale, no libc call:
 * this runs for every header and parameter name). */
static inline bool sw_mem_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x != y && ((x | 0x20) != (y | 0x20) || (unsigned char)((x | 0x20) - 'a') > 'z' - 'a'))
			return false;
	}
	return true;
}

/* Exact and ASCII case-insensitive comparisons against a C string. Inline,
 * so that the length of a literal is known at compile time. */
static inline bool sw_str_ieq(sw_str s, const char *lit)
{
	size_t n = __builtin_strlen(lit);
	return s.p && s.len == n && sw_mem_ieq(s.p, lit, n);
}
bool sw_str_eq(sw_str s, const char *lit);
bool sw_str_ieq_str(sw_str a, sw_str b);
bool sw_str_eq_str(sw_str a, sw_str b);

/* Copies s into buf as a C string; truncates to cap-1. Returns buf. */
char *sw_str_cpy(char *buf, size_t cap, sw_str s);

/* Error codes: 0 is success, failures are negative. */
enum sw_errno {
	SW_OK = 0,
	SW_EINVAL = -1,    /* bad argument */
	SW_EPARSE = -2,    /* malformed input */
	SW_EAGAIN = -3,    /* incomplete: more bytes needed (stream transports) */
	SW_ETOOBIG = -4,   /* a size limit was exceeded */
	SW_ENOSPC = -5,    /* the caller's buffer is too small */
	SW_ENOTFOUND = -6, /* the thing asked for is absent */
	SW_ENOMEM = -7,    /* allocation failed */
	SW_EIO = -8,       /* an operating system call failed */
	SW_ECRYPTO = -9,   /* the crypto library failed */
	SW_EVERSION = -10, /* unsupported protocol version */
};

/* A static, human-readable name for an error code. */
const char *sw_strerror(int err);

/* Bytes in live heap allocations (lib/util/heap.c): glibc's count, or the
 * sanitizer's in a sanitized build. */
size_t sw_heap_in_use(void);

#endif
