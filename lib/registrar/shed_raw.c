/* A 503 to a shed request from the raw datagram (docs/internals/server.md,
 * "Overload"). Under overload every new request the worker turns away
 * costs CPU that completed registrations need: the full parse (every
 * header split and looked up, the top Via parsed four times on the way to
 * an answer) was a third of a 503's cost. This reads one line at a time
 * and keeps only the five headers a response copies (RFC 3261 §8.2.6.2),
 * with the same rules as the parser for what a line is (folding, bare CR);
 * what it does not read (a bare CR, a repeated From, a Via it cannot
 * split, a To with a tag ...) it leaves to the full parse, so that the
 * answer is always the one the full path would give. */
#include <string.h>
#include <strings.h>
#include "shed_raw.h"

/* RFC 3261 token characters, by table: every byte of every header name */
static const bool token_tab[128] = {
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1, ['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1,
	['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
};

static bool is_token(unsigned char c)
{
	return c < 128 && (token_tab[c] || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'));
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static sw_str trim(const char *p, const char *end)
{
	while (p < end && is_lws(*p))
		p++;
	while (end > p && is_lws(end[-1]))
		end--;
	return (sw_str){ p, (size_t)(end - p) };
}

/* The end of the line at p (the CR of CRLF, or a bare LF), NULL when the
 * input ends first or a bare CR comes before (the parser refuses it). */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return NULL;
	const char *eol = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	return memchr(p, '\r', (size_t)(eol - p)) ? NULL : eol;
}

static const char *after_eol(const char *eol)
{
	return *eol == '\r' ? eol + 2 : eol + 1;
}

enum which { H_OTHER, H_VIA, H_FROM, H_TO, H_CALL_ID, H_CSEQ, H_CONTENT_LENGTH };

static enum which which(const char *n, size_t len)
{
	switch (len) {
	case 1:
		switch (*n | 0x20) {
		case 'v': return H_VIA;
		case 'f': return H_FROM;
		case 't': return H_TO;
		case 'i': return H_CALL_ID;
		case 'l': return H_CONTENT_LENGTH;
		}
		return H_OTHER;
	case 2: return !strncasecmp(n, "to", 2) ? H_TO : H_OTHER;
	case 3: return !strncasecmp(n, "via", 3) ? H_VIA : H_OTHER;
	case 4: return !strncasecmp(n, "from", 4) ? H_FROM : !strncasecmp(n, "cseq", 4) ? H_CSEQ : H_OTHER;
	case 7: return !strncasecmp(n, "call-id", 7) ? H_CALL_ID : H_OTHER;
	case 14: return !strncasecmp(n, "content-length", 14) ? H_CONTENT_LENGTH : H_OTHER;
	}
	return H_OTHER;
}

/* "METHOD SP Request-URI SP SIP/2.0" up to eol. */
static int request_line(struct sw_shed_raw *r, const char *p, const char *eol)
{
	const char *s = p;
	while (p < eol && is_token((unsigned char)*p))
		p++;
	if (p == s || p >= eol || *p != ' ')
		return SW_EPARSE;
	r->method = (sw_str){ s, (size_t)(p - s) };
	s = ++p;
	while (p < eol && (unsigned char)*p > 0x20 && *p != 0x7f)
		p++;
	if (p == s || eol - p != 8 || memcmp(p, " SIP/2.0", 8))
		return SW_EPARSE;
	return 0;
}

/* The first element of a Via value: up to a comma. Quotes and angle
 * brackets (which a Via does not need) are left to the full parse. */
static int top_element(sw_str value, sw_str *out)
{
	const char *p = value.p, *end = value.p + value.len;
	if (memchr(p, '"', value.len) || memchr(p, '<', value.len))
		return SW_EPARSE;
	const char *c = memchr(p, ',', value.len);
	*out = trim(p, c ? c : end);
	return out->len ? 0 : SW_EPARSE;
}

/* A value the parser takes for Content-Length, and that fits in avail. */
static bool content_length_ok(sw_str v, size_t avail)
{
	if (!v.len || v.len > 9)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	return n <= avail;
}

static int set_once(sw_str *slot, sw_str v)
{
	if (slot->p)
		return SW_EPARSE; /* repeated: the full path decides */
	*slot = v;
	return 0;
}

int sw_shed_raw_scan(struct sw_shed_raw *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	const char *p = buf, *end = buf + len;
	if (!len || len > SW_MSG_MAX_SIZE_DEFAULT)
		return SW_EPARSE;
	const char *eol = line_end(p, end);
	if (!eol || request_line(r, p, eol))
		return SW_EPARSE;
	p = after_eol(eol);
	sw_str cl[2] = { SW_STR_NULL, SW_STR_NULL };
	unsigned nhdrs = 0;
	for (;;) {
		if (p >= end)
			return SW_EPARSE; /* no empty line */
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;
			break;
		}
		const char *name = p;
		while (p < end && is_token((unsigned char)*p))
			p++;
		const char *name_end = p;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (name == name_end || p >= end || *p != ':' || ++nhdrs > SW_MSG_MAX_HEADERS)
			return SW_EPARSE;
		const char *v = ++p;
		for (;;) { /* the value runs to a line end not followed by SP/HTAB */
			eol = line_end(p, end);
			if (!eol)
				return SW_EPARSE;
			p = after_eol(eol);
			if (p < end && (*p == ' ' || *p == '\t'))
				continue;
			break;
		}
		if ((size_t)(eol - name) > SW_MSG_MAX_HEADER_LEN_DEFAULT)
			return SW_EPARSE;
		sw_str value = trim(v, eol);
		int rc = 0;
		switch (which(name, (size_t)(name_end - name))) {
		case H_VIA:
			if (r->nvia == SW_SHED_RAW_VIAS)
				return SW_EPARSE;
			r->via[r->nvia++] = value;
			break;
		case H_FROM: rc = set_once(&r->from, value); break;
		case H_TO: rc = set_once(&r->to, value); break;
		case H_CALL_ID: rc = set_once(&r->call_id, value); break;
		case H_CSEQ: rc = set_once(&r->cseq, value); break;
		case H_CONTENT_LENGTH:
			if (cl[0].p && cl[1].p)
				return SW_EPARSE;
			cl[cl[0].p ? 1 : 0] = value;
			break;
		case H_OTHER: break;
		}
		if (rc)
			return rc;
	}
	size_t avail = (size_t)(end - p);
	for (unsigned i = 0; i < 2; i++)
		if (cl[i].p && (!content_length_ok(cl[i], avail) ||
				(i && (cl[1].len != cl[0].len || memcmp(cl[0].p, cl[1].p, cl[0].len)))))
			return SW_EPARSE;
	struct sw_addr to;
	if (!r->nvia || !r->from.p || !r->to.p || !r->call_id.p || !r->cseq.p || !r->call_id.len ||
	    top_element(r->via[0], &r->top) || sw_via_parse(&r->v, r->top, NULL) ||
	    sw_cseq_parse(&r->cs, r->cseq, NULL) || sw_addr_parse(&to, r->to, false, NULL) || to.tag.p)
		return SW_EPARSE;
	return 0;
}

/* A header value on one line: folded line ends become one space. */
static void add_unfolded(struct sw_buf *b, const char *p, const char *end)
{
	const char *s = p;
	while (p < end) {
		if (*p == '\r' || *p == '\n') {
			sw_buf_add(b, s, (size_t)(p - s));
			while (p < end && is_lws(*p))
				p++;
			sw_buf_addc(b, ' ');
			s = p;
		} else {
			p++;
		}
	}
	sw_buf_add(b, s, (size_t)(p - s));
}

static void header(struct sw_buf *b, const char *name, sw_str v)
{
	sw_buf_adds(b, name);
	add_unfolded(b, v.p, v.p + v.len);
	sw_buf_adds(b, "\r\n");
}

int sw_shed_raw_print(struct sw_buf *b, const struct sw_shed_raw *r, sw_str to_tag, sw_str received,
		      int rport, sw_str server, uint32_t retry_after)
{
	sw_buf_adds(b, "SIP/2.0 503 Service Unavailable\r\n");
	unsigned i = 0;
	if (received.p || rport >= 0) {
		sw_buf_adds(b, "Via: ");
		sw_print_via_received(b, r->top, received, rport);
		add_unfolded(b, r->top.p + r->top.len, r->via[0].p + r->via[0].len);
		sw_buf_adds(b, "\r\n");
		i = 1;
	}
	for (; i < r->nvia; i++)
		header(b, "Via: ", r->via[i]);
	header(b, "From: ", r->from);
	sw_buf_adds(b, "To: ");
	add_unfolded(b, r->to.p, r->to.p + r->to.len);
	if (to_tag.len) {
		sw_buf_adds(b, ";tag=");
		sw_buf_add_str(b, to_tag);
	}
	sw_buf_adds(b, "\r\n");
	header(b, "Call-ID: ", r->call_id);
	header(b, "CSeq: ", r->cseq);
	if (server.p)
		header(b, "Server: ", server);
	sw_buf_adds(b, "Retry-After: ");
	sw_buf_add_uint(b, retry_after);
	sw_buf_adds(b, "\r\nContent-Length: 0\r\n\r\n");
	return sw_buf_status(b);
}
