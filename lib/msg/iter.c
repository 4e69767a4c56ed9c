/* Comma-separated header elements and ";name=value" parameter lists. */
#include <string.h>
#include <strings.h>
#include "scan.h"

void sw_hdr_iter_init(struct sw_hdr_iter *it, const struct sw_msg *m, enum sw_hdr_id id)
{
	it->m = m;
	it->idx = m->first[id];
	it->pos = it->idx == SW_HDR_NONE ? NULL : m->hdrs[it->idx].value.p;
}

int sw_hdr_iter_next(struct sw_hdr_iter *it, sw_str *elem, const struct sw_hdr **hdr)
{
	while (it->idx != SW_HDR_NONE) {
		const struct sw_hdr *h = &it->m->hdrs[it->idx];
		const char *end = sw__end(h->value);
		const char *p = it->pos;
		if (!p) { /* this header is done */
			it->idx = h->next;
			it->pos = it->idx == SW_HDR_NONE ? NULL : it->m->hdrs[it->idx].value.p;
			continue;
		}
		const char *s = p;
		bool in_angle = false;
		if (!memchr(p, ',', (size_t)(end - p)))
			p = end; /* no comma left: the rest is one element, whatever it quotes */
		while (p < end) {
			if (*p == '"') {
				const char *q = sw__scan_quoted(p, end);
				p = q ? q : end;
				continue;
			}
			if (*p == '<')
				in_angle = true;
			else if (*p == '>')
				in_angle = false;
			else if (*p == ',' && !in_angle)
				break;
			p++;
		}
		*elem = sw__trim((sw_str){ s, (size_t)(p - s) });
		if (hdr)
			*hdr = h;
		/* past a comma another element follows, even an empty one */
		it->pos = p < end ? p + 1 : NULL;
		return 1;
	}
	return 0;
}

static bool param_name_char(unsigned char c)
{
	return sw__is(c, SW__C_TOKEN | SW__C_PARAM);
}

static bool param_value_char(unsigned char c)
{
	return sw__is(c, SW__C_TOKEN | SW__C_PARAM) || c == '[' || c == ']' || c == ':';
}

int sw_param_next(sw_str *rest, sw_str *name, sw_str *value)
{
	const char *p = rest->p;
	if (!p)
		return 0;
	const char *end = p + rest->len;
	p = sw__skip_lws(p, end);
	if (p == end) {
		*rest = (sw_str){ p, 0 };
		return 0;
	}
	if (*p != ';')
		return SW_EPARSE;
	p = sw__skip_lws(p + 1, end);
	const char *n = p;
	while (p < end && param_name_char((unsigned char)*p))
		p++;
	if (p == n)
		return SW_EPARSE;
	*name = (sw_str){ n, (size_t)(p - n) };
	*value = SW_STR_NULL;
	p = sw__skip_lws(p, end);
	if (p < end && *p == '=') {
		p = sw__skip_lws(p + 1, end);
		const char *v = p;
		if (p < end && *p == '"') {
			p = sw__scan_quoted(p, end);
			if (!p)
				return SW_EPARSE;
		} else {
			while (p < end && param_value_char((unsigned char)*p))
				p++;
			if (p == v)
				return SW_EPARSE;
		}
		*value = (sw_str){ v, (size_t)(p - v) };
		p = sw__skip_lws(p, end);
	}
	if (p < end && *p != ';')
		return SW_EPARSE;
	*rest = (sw_str){ p, (size_t)(end - p) };
	return 1;
}

bool sw_param_get(sw_str params, const char *name, sw_str *value)
{
	sw_str n, v;
	while (sw_param_next(&params, &n, &v) == 1) {
		if (sw_str_ieq(n, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

int sw_str_unquote(sw_str in, char *out, size_t cap)
{
	const char *p = in.p, *end = sw__end(in);
	size_t n = 0;
	if (in.len >= 2 && p[0] == '"' && end[-1] == '"') {
		p++;
		end--;
	}
	while (p < end) {
		char c = *p++;
		if (c == '\\') {
			if (p >= end)
				return SW_EPARSE;
			c = *p++;
		} else if (c == '\r' || c == '\n') {
			/* folded line inside a quoted string reads as one space */
			while (p < end && (*p == '\n' || *p == ' ' || *p == '\t'))
				p++;
			c = ' ';
		}
		if (n >= cap)
			return SW_ENOSPC;
		out[n++] = c;
	}
	return (int)n;
}
