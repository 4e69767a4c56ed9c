/* String slices and error names. */
#include <string.h>
#include <strings.h>
#include "sipwarden/common.h"

bool sw_str_eq(sw_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.p && s.len == n && memcmp(s.p, lit, n) == 0;
}

bool sw_str_ieq_str(sw_str a, sw_str b)
{
	return a.len == b.len && (a.len == 0 || sw_mem_ieq(a.p, b.p, a.len));
}

bool sw_str_eq_str(sw_str a, sw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

char *sw_str_cpy(char *buf, size_t cap, sw_str s)
{
	if (cap == 0)
		return buf;
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(buf, s.p, n);
	buf[n] = '\0';
	return buf;
}

const char *sw_strerror(int err)
{
	switch (err) {
	case SW_OK: return "success";
	case SW_EINVAL: return "invalid argument";
	case SW_EPARSE: return "malformed input";
	case SW_EAGAIN: return "incomplete input";
	case SW_ETOOBIG: return "too large";
	case SW_ENOSPC: return "buffer too small";
	case SW_ENOTFOUND: return "not found";
	case SW_ENOMEM: return "out of memory";
	case SW_EIO: return "input/output error";
	case SW_ECRYPTO: return "crypto library failure";
	case SW_EVERSION: return "unsupported version";
	}
	return "unknown error";
}
