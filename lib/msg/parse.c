/* Whole-message parsing: start line, header split, body framing.
 * One pass over the input; header values are left for the accessors. */
#include <string.h>
#include <strings.h>
#include "scan.h"

static void msg_reset(struct sw_msg *m, const char *buf)
{
	m->buf = buf;
	m->len = 0;
	m->is_request = false;
	m->method = m->ruri = m->reason = m->version = m->body = SW_STR_NULL;
	m->method_id = SW_METHOD_OTHER;
	m->status = 0;
	m->has_content_length = false;
	m->nhdrs = 0;
	m->memo = 0;
	memset(m->first, 0xff, sizeof(m->first));
	memset(m->count, 0, sizeof(m->count));
}

/* End of the line that starts at p: points at the CR of CRLF or at a bare
 * LF. NULL when the input ends first. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return NULL;
	return (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
}

static const char *after_eol(const char *eol)
{
	return *eol == '\r' ? eol + 2 : eol + 1;
}

/* "SIP/" 1*DIGIT "." 1*DIGIT; returns the end or NULL. */
static const char *scan_version(const char *p, const char *end)
{
	if (end - p < 7 || strncasecmp(p, "SIP/", 4) != 0)
		return NULL;
	p += 4;
	const char *d = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == d || p >= end || *p != '.')
		return NULL;
	d = ++p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p == d ? NULL : p;
}

static int parse_request_line(struct sw_msg *m, const char *p, const char *eol, struct sw_perr *err)
{
	const char *s = p;
	while (p < eol && sw__is((unsigned char)*p, SW__C_TOKEN))
		p++;
	if (p == s)
		return sw__fail(err, SW_EPARSE, 400, p, "expected a method or SIP-Version at the start of the message");
	if (p >= eol || *p != ' ')
		return sw__fail(err, SW_EPARSE, 400, p, "the method must be followed by one space");
	m->method = (sw_str){ s, (size_t)(p - s) };
	m->method_id = sw_method_lookup(s, (size_t)(p - s));
	s = ++p;
	while (p < eol && *p != ' ' && (unsigned char)*p > 0x20 && *p != 0x7f)
		p++;
	if (p == s)
		return sw__fail(err, SW_EPARSE, 400, p, "expected the Request-URI after one space");
	if (p >= eol || *p != ' ')
		return sw__fail(err, SW_EPARSE, 400, p, "the Request-URI contains a space or control character, or the SIP-Version is missing");
	m->ruri = (sw_str){ s, (size_t)(p - s) };
	s = ++p;
	p = scan_version(s, eol);
	if (!p)
		return sw__fail(err, SW_EPARSE, 400, s, "expected SIP-Version (SIP/2.0) after the Request-URI");
	if (p != eol)
		return sw__fail(err, SW_EPARSE, 400, p, "unexpected characters after SIP-Version at the end of the Request-Line");
	m->version = (sw_str){ s, (size_t)(p - s) };
	m->is_request = true;
	return 0;
}

static int parse_status_line(struct sw_msg *m, const char *p, const char *eol, struct sw_perr *err)
{
	const char *s = p;
	p = scan_version(p, eol);
	if (!p || p >= eol || *p != ' ')
		return sw__fail(err, SW_EPARSE, 400, p ? p : s, "expected SIP-Version and one space in the Status-Line");
	m->version = (sw_str){ s, (size_t)(p - s) };
	s = ++p;
	unsigned code = 0;
	while (p < eol && *p >= '0' && *p <= '9' && p - s < 4)
		code = code * 10 + (unsigned)(*p++ - '0');
	if (p - s != 3 || (p < eol && *p != ' '))
		return sw__fail(err, SW_EPARSE, 0, s, "the status code must be exactly three digits");
	if (code < 100 || code > 699)
		return sw__fail(err, SW_EPARSE, 0, s, "the status code must be between 100 and 699");
	m->status = code;
	if (p < eol)
		p++;
	for (const char *q = p; q < eol; q++)
		if (*q == '\r' || *q == '\n')
			return sw__fail(err, SW_EPARSE, 0, q, "control character in the Reason-Phrase");
	m->reason = (sw_str){ p, (size_t)(eol - p) };
	return 0;
}

/* Content-Length: 1*DIGIT. Repeated values must agree (RFC 4475 §3.3.9). */
static int note_content_length(struct sw_msg *m, const struct sw_hdr *h, size_t *cl, size_t max,
			       struct sw_perr *err)
{
	uint32_t v;
	const char *e = sw__scan_uint(h->value.p, sw__end(h->value), UINT32_MAX, &v);
	if (!e || e != sw__end(h->value)) {
		if (h->value.len && h->value.p[0] == '-')
			return sw__fail(err, SW_EPARSE, 400, h->value.p, "Content-Length must not be negative");
		return sw__fail(err, SW_EPARSE, 400, h->value.p, "Content-Length must be a decimal number");
	}
	if (m->has_content_length && *cl != v)
		return sw__fail(err, SW_EPARSE, 400, h->value.p, "several Content-Length headers disagree");
	if (v > max)
		return sw__fail(err, SW_ETOOBIG, 513, h->value.p, "Content-Length exceeds the message size limit");
	*cl = v;
	m->has_content_length = true;
	return 0;
}

static int finish(struct sw_perr *err, const char *buf, size_t len, int rc)
{
	if (rc && err)
		sw_perr_locate(err, buf, len);
	return rc;
}

static int msg_parse(struct sw_msg *m, const char *buf, size_t len, const struct sw_parse_opts *opts,
		     struct sw_perr *err)
{
	static const struct sw_parse_opts defaults = { 0 };
	if (!opts)
		opts = &defaults;
	size_t max_size = opts->max_size ? opts->max_size : SW_MSG_MAX_SIZE_DEFAULT;
	unsigned max_headers = opts->max_headers && opts->max_headers < SW_MSG_MAX_HEADERS
				       ? opts->max_headers : SW_MSG_MAX_HEADERS;
	size_t max_hlen = opts->max_header_len ? opts->max_header_len : SW_MSG_MAX_HEADER_LEN_DEFAULT;
	const bool stream = opts->stream;
	if (err) {
		memset(err, 0, sizeof(*err));
	}
	msg_reset(m, buf);
	if (!buf)
		return sw__fail(err, SW_EINVAL, 0, NULL, "no input");

	const char *p = buf;
	const char *end = buf + len;
	/* CRLFs before the start line are keep-alives (RFC 3261 §7.5). */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end)
		return finish(err, buf, len, stream ? SW_EAGAIN
					 : sw__fail(err, SW_EPARSE, 0, p, "empty message"));
	if (!stream && len > max_size)
		return finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, buf + max_size,
						      "the message exceeds the size limit"));
	/* In a stream, only the first max_size bytes may belong to this message. */
	const char *limit = end;
	if (stream && (size_t)(end - buf) > max_size)
		limit = buf + max_size;

	const char *start = p;
	const char *eol = line_end(p, limit);
	if (!eol) {
		if (stream && limit == end)
			return SW_EAGAIN;
		return finish(err, buf, len, sw__fail(err, stream ? SW_ETOOBIG : SW_EPARSE, stream ? 513 : 400,
						      p, "the start line does not end"));
	}
	int rc;
	if (eol - p >= 5 && !strncasecmp(p, "SIP/", 4) && p[4] >= '0' && p[4] <= '9')
		rc = parse_status_line(m, p, eol, err);
	else
		rc = parse_request_line(m, p, eol, err);
	if (rc)
		return finish(err, buf, len, rc);
	p = after_eol(eol);

	/* header lines are numbered from the start line (keep-alives count) */
	unsigned line = 2;
	for (const char *q = buf; q < start; q++)
		line += (*q == '\n');
	uint16_t last[SW_HDR__COUNT];
	size_t cl = 0;
	for (;;) {
		if (p >= limit) {
			if (stream && limit == end)
				return SW_EAGAIN;
			if (stream)
				return finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, p, "the header section exceeds the size limit"));
			return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, p,
							      "the header section does not end with an empty line"));
		}
		if (*p == '\n' || (*p == '\r' && p + 1 < limit && p[1] == '\n')) {
			p += (*p == '\r') ? 2 : 1;
			break;
		}
		if (*p == ' ' || *p == '\t')
			return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, p,
							      "a continuation line without a header before it"));
		const char *name = p;
		while (p < limit && sw__is((unsigned char)*p, SW__C_TOKEN))
			p++;
		if (p == name) {
			if (*p == '\r' && stream && p + 1 == limit)
				return limit == end ? SW_EAGAIN
						    : finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, p,
										     "the header section exceeds the size limit"));
			return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, p, "expected a header name"));
		}
		const char *name_end = p;
		while (p < limit && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= limit && stream)
			return limit == end ? SW_EAGAIN
					    : finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, name,
									     "the header section exceeds the size limit"));
		if (p >= limit || *p != ':') {
			if (err)
				err->header = (sw_str){ name, (size_t)(name_end - name) };
			return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, p,
							      "expected ':' after the header name"));
		}
		const char *v = ++p;
		/* The value runs to a line end not followed by SP/HTAB (folding). */
		unsigned folds = 0;
		for (;;) {
			eol = line_end(p, limit);
			if (!eol) {
				if (stream && limit == end)
					return SW_EAGAIN;
				if (err)
					err->header = (sw_str){ name, (size_t)(name_end - name) };
				return finish(err, buf, len, sw__fail(err, stream ? SW_ETOOBIG : SW_EPARSE, stream ? 513 : 400,
								      name, "the header line does not end"));
			}
			/* CR is allowed only as part of a line end (RFC 3261 §7.3.1) */
			const char *cr = memchr(p, '\r', (size_t)(eol - p));
			if (cr) {
				if (err)
					err->header = (sw_str){ name, (size_t)(name_end - name) };
				return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, cr,
								      "a bare CR (not followed by LF) in the header value"));
			}
			p = after_eol(eol);
			if (p < limit && (*p == ' ' || *p == '\t')) {
				folds++;
				continue;
			}
			if (p >= limit && stream && limit == end)
				return SW_EAGAIN; /* a folded line may follow */
			break;
		}
		if ((size_t)(eol - name) > max_hlen) {
			if (err)
				err->header = (sw_str){ name, (size_t)(name_end - name) };
			return finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, name, "the header is longer than the limit"));
		}
		if (m->nhdrs >= max_headers)
			return finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, name, "too many headers"));
		struct sw_hdr *h = &m->hdrs[m->nhdrs];
		h->name = (sw_str){ name, (size_t)(name_end - name) };
		h->value = sw__trim((sw_str){ v, (size_t)(eol - v) });
		h->id = (uint16_t)sw_hdr_lookup(name, h->name.len);
		h->next = SW_HDR_NONE;
		h->line = line;
		line += 1 + folds;
		if (m->count[h->id]++ == 0)
			m->first[h->id] = (uint16_t)m->nhdrs;
		else
			m->hdrs[last[h->id]].next = (uint16_t)m->nhdrs;
		last[h->id] = (uint16_t)m->nhdrs;
		m->nhdrs++;
		if (h->id == SW_HDR_CONTENT_LENGTH) {
			rc = note_content_length(m, h, &cl, max_size, err);
			if (rc) {
				if (err)
					err->header = h->name;
				return finish(err, buf, len, rc);
			}
		}
	}

	size_t avail = (size_t)(end - p);
	if (m->has_content_length) {
		if (cl > avail) {
			if (stream)
				return (size_t)(p - buf) + cl > max_size
					       ? finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, p, "the message exceeds the size limit"))
					       : SW_EAGAIN;
			if (err)
				err->header = SW_STR_LIT("Content-Length");
			return finish(err, buf, len, sw__fail(err, SW_EPARSE, 400, p,
							      "Content-Length is larger than the body received"));
		}
		m->body = (sw_str){ p, cl };
	} else {
		m->body = (sw_str){ p, stream ? 0 : avail };
	}
	m->len = (size_t)(sw__end(m->body) - buf);
	if (m->len > max_size)
		return finish(err, buf, len, sw__fail(err, SW_ETOOBIG, 513, buf + max_size, "the message exceeds the size limit"));
	return 0;
}

int sw_msg_parse(struct sw_msg *m, const char *buf, size_t len, const struct sw_parse_opts *opts,
		 struct sw_perr *err)
{
	int rc = msg_parse(m, buf, len, opts, err);
	/* past a valid Status-Line a fault is still in a response: drop it,
	 * never answer it (as sw_msg_check does) */
	if (rc && err && m->status)
		err->status = 0;
	return rc;
}

const struct sw_hdr *sw_msg_hdr(const struct sw_msg *m, enum sw_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SW_HDR_NONE ? NULL : &m->hdrs[i];
}

const struct sw_hdr *sw_msg_hdr_next(const struct sw_msg *m, const struct sw_hdr *h)
{
	if (h->id == SW_HDR_OTHER) {
		/* unknown headers are not chained: look for the same name */
		for (unsigned i = (unsigned)(h - m->hdrs) + 1; i < m->nhdrs; i++)
			if (m->hdrs[i].id == SW_HDR_OTHER && sw_str_ieq_str(m->hdrs[i].name, h->name))
				return &m->hdrs[i];
		return NULL;
	}
	return h->next == SW_HDR_NONE ? NULL : &m->hdrs[h->next];
}

const struct sw_hdr *sw_msg_hdr_by_name(const struct sw_msg *m, const char *name)
{
	size_t n = strlen(name);
	enum sw_hdr_id id = sw_hdr_lookup(name, n);
	if (id != SW_HDR_OTHER)
		return sw_msg_hdr(m, id);
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == SW_HDR_OTHER && m->hdrs[i].name.len == n &&
		    !strncasecmp(m->hdrs[i].name.p, name, n))
			return &m->hdrs[i];
	return NULL;
}

void sw_perr_locate(struct sw_perr *err, const char *buf, size_t len)
{
	if (!err || !err->at || err->at < buf || err->at > buf + len)
		return;
	unsigned line = 1;
	const char *ls = buf;
	for (const char *q = buf; q < err->at; q++)
		if (*q == '\n') {
			line++;
			ls = q + 1;
		}
	err->line = line;
	err->col = (unsigned)(err->at - ls) + 1;
}
