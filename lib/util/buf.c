/* Bounded output buffer with text and JSON helpers. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/buf.h"

void sw_buf_init(struct sw_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

void sw_buf_add(struct sw_buf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void sw_buf_adds(struct sw_buf *b, const char *s) { sw_buf_add(b, s, strlen(s)); }
void sw_buf_add_str(struct sw_buf *b, sw_str s) { sw_buf_add(b, s.p, s.len); }
void sw_buf_addc(struct sw_buf *b, char c) { sw_buf_add(b, &c, 1); }

void sw_buf_add_uint(struct sw_buf *b, uint64_t v)
{
	char d[20];
	size_t n = 0;
	do
		d[sizeof(d) - ++n] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(d));
	sw_buf_add(b, d + sizeof(d) - n, n);
}

void sw_buf_add_xint(struct sw_buf *b, uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	char d[16];
	unsigned n = 0;
	do
		d[sizeof(d) - ++n] = hex[v & 15];
	while ((v >>= 4) && n < sizeof(d));
	while (n < digits && n < sizeof(d))
		d[sizeof(d) - ++n] = '0';
	sw_buf_add(b, d + sizeof(d) - n, n);
}

const char *sw_join(char *out, size_t cap, const char *a, const char *sep, const char *b)
{
	if (!cap)
		return out;
	size_t len = 0;
	const char *part[3] = { a, sep, b };
	for (unsigned i = 0; i < 3; i++)
		for (const char *s = part[i]; *s && len + 1 < cap; s++)
			out[len++] = *s;
	out[len] = '\0';
	return out;
}

void sw_buf_vaddf(struct sw_buf *b, const char *fmt, va_list ap)
{
	if (b->overflow)
		return;
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->p + b->len, room, fmt, ap);
	if (n < 0 || (size_t)n >= room) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

void sw_buf_addf(struct sw_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sw_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void sw_buf_add_hex(struct sw_buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
		sw_buf_add(b, two, 2);
	}
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t need;
	unsigned min;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) { need = 2; min = 0x80; }
	else if ((p[0] & 0xf0) == 0xe0) { need = 3; min = 0x800; }
	else if ((p[0] & 0xf8) == 0xf0) { need = 4; min = 0x10000; }
	else return 0;
	if (n < need)
		return 0;
	unsigned cp = p[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

void sw_buf_add_json_str(struct sw_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	sw_buf_addc(b, '"');
	for (size_t i = 0; i < n;) {
		size_t run = i; /* printable ASCII that needs no escape, copied at once */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			sw_buf_add(b, p + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			sw_buf_add(b, esc, 2);
			i++;
		} else if (c == '\n') { sw_buf_adds(b, "\\n"); i++; }
		else if (c == '\r') { sw_buf_adds(b, "\\r"); i++; }
		else if (c == '\t') { sw_buf_adds(b, "\\t"); i++; }
		else if (c < 0x20 || c == 0x7f) { sw_buf_addf(b, "\\u%04x", c); i++; }
		else {
			size_t k = utf8_len(p + i, n - i);
			if (k == 0) { /* not UTF-8: keep the byte visible as U+00XX */
				sw_buf_addf(b, "\\u%04x", c);
				i++;
			} else {
				sw_buf_add(b, p + i, k);
				i += k;
			}
		}
	}
	sw_buf_addc(b, '"');
}

const char *sw_buf_cstr(struct sw_buf *b)
{
	if (b->cap == 0)
		return "";
	if (b->len < b->cap)
		b->p[b->len] = '\0';
	else
		b->p[b->cap - 1] = '\0';
	return b->p;
}
