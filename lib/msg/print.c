/* Building messages: responses from requests (RFC 3261 §8.2.6) and any
 * message from parts. Everything goes into a caller-owned sw_buf. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "scan.h"

/* A header value on one line: folded line ends become one space. */
static void add_unfolded(struct sw_buf *b, sw_str v)
{
	const char *p = v.p, *end = sw__end(v), *s = p;
	while (p < end) {
		if (*p == '\r' || *p == '\n') {
			sw_buf_add(b, s, (size_t)(p - s));
			while (p < end && (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t'))
				p++;
			sw_buf_addc(b, ' ');
			s = p;
		} else {
			p++;
		}
	}
	sw_buf_add(b, s, (size_t)(p - s));
}

void sw_print_request_line(struct sw_buf *b, sw_str method, sw_str ruri)
{
	sw_buf_add_str(b, method);
	sw_buf_addc(b, ' ');
	sw_buf_add_str(b, ruri);
	sw_buf_adds(b, " SIP/2.0\r\n");
}

void sw_print_status_line(struct sw_buf *b, unsigned status, const char *reason)
{
	sw_buf_adds(b, "SIP/2.0 ");
	if (status < 100 || status > 999)
		sw_buf_addf(b, "%03u", status);
	else
		sw_buf_add_uint(b, status);
	sw_buf_addc(b, ' ');
	sw_buf_adds(b, reason ? reason : sw_reason_phrase(status));
	sw_buf_adds(b, "\r\n");
}

void sw_print_header(struct sw_buf *b, const char *name, sw_str value)
{
	sw_buf_adds(b, name);
	sw_buf_adds(b, ": ");
	add_unfolded(b, value);
	sw_buf_adds(b, "\r\n");
}

void sw_print_headerf(struct sw_buf *b, const char *name, const char *fmt, ...)
{
	va_list ap;
	sw_buf_adds(b, name);
	sw_buf_adds(b, ": ");
	va_start(ap, fmt);
	sw_buf_vaddf(b, fmt, ap);
	va_end(ap);
	sw_buf_adds(b, "\r\n");
}

int sw_print_end(struct sw_buf *b, sw_str body)
{
	sw_buf_adds(b, "Content-Length: ");
	sw_buf_add_uint(b, body.len);
	sw_buf_adds(b, "\r\n\r\n");
	sw_buf_add_str(b, body);
	return sw_buf_status(b);
}

static void copy_all(struct sw_buf *b, const struct sw_msg *m, enum sw_hdr_id id)
{
	for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h))
		sw_print_header(b, sw_hdr_name(id), h->value);
}

/* The top Via element with received and rport filled in (RFC 3261 §18.2.1,
 * RFC 3581 §4); other parameters are kept as written. */
static void add_top_via(struct sw_buf *b, sw_str elem, sw_str received, int rport)
{
	struct sw_via v;
	if (sw_via_parse(&v, elem, NULL)) {
		add_unfolded(b, elem);
		return;
	}
	sw_buf_add_str(b, v.protocol);
	sw_buf_addc(b, '/');
	sw_buf_add_str(b, v.version);
	sw_buf_addc(b, '/');
	sw_buf_add_str(b, v.transport);
	sw_buf_addc(b, ' ');
	sw_buf_add_str(b, v.host);
	if (v.port >= 0) {
		sw_buf_addc(b, ':');
		sw_buf_add_uint(b, (uint64_t)v.port);
	}
	sw_str rest = v.params, n, val;
	while (sw_param_next(&rest, &n, &val) == 1) {
		if (received.p && sw_str_ieq(n, "received"))
			continue;
		if (rport >= 0 && sw_str_ieq(n, "rport")) {
			sw_buf_adds(b, ";rport=");
			sw_buf_add_uint(b, (uint64_t)rport);
			continue;
		}
		sw_buf_addc(b, ';');
		sw_buf_add_str(b, n);
		if (val.p) {
			sw_buf_addc(b, '=');
			add_unfolded(b, val);
		}
	}
	if (received.p) {
		sw_buf_adds(b, ";received=");
		sw_buf_add_str(b, received);
	}
}

void sw_print_via_received(struct sw_buf *b, sw_str elem, sw_str received, int rport)
{
	add_top_via(b, elem, received, rport);
}

int sw_print_response_start_via(struct sw_buf *b, const struct sw_msg *req, unsigned status,
				 const char *reason, sw_str to_tag, sw_str received, int rport)
{
	if (!req->is_request || status < 100 || status > 699)
		return SW_EINVAL;
	struct sw_addr to;
	const struct sw_hdr *th = sw_msg_hdr(req, SW_HDR_TO);
	if (!th || sw_addr_parse(&to, th->value, false, NULL))
		return SW_EPARSE;
	sw_print_status_line(b, status, reason);
	const struct sw_hdr *vh = sw_msg_hdr(req, SW_HDR_VIA);
	if (vh && (received.p || rport >= 0)) {
		struct sw_hdr_iter it;
		sw_str first;
		sw_hdr_iter_init(&it, req, SW_HDR_VIA);
		sw_hdr_iter_next(&it, &first, NULL);
		sw_buf_adds(b, "Via: ");
		add_top_via(b, first, received, rport);
		const char *tail = first.p + first.len, *end = vh->value.p + vh->value.len;
		add_unfolded(b, (sw_str){ tail, (size_t)(end - tail) });
		sw_buf_adds(b, "\r\n");
		for (vh = sw_msg_hdr_next(req, vh); vh; vh = sw_msg_hdr_next(req, vh))
			sw_print_header(b, "Via", vh->value);
	} else {
		copy_all(b, req, SW_HDR_VIA);
	}
	copy_all(b, req, SW_HDR_FROM);
	sw_buf_adds(b, "To: ");
	add_unfolded(b, th->value);
	/* 100 Trying carries no To tag (RFC 3261 §8.2.6.2) */
	if (!to.tag.p && to_tag.p && to_tag.len && status != 100) {
		sw_buf_adds(b, ";tag=");
		sw_buf_add_str(b, to_tag);
	}
	sw_buf_adds(b, "\r\n");
	copy_all(b, req, SW_HDR_CALL_ID);
	copy_all(b, req, SW_HDR_CSEQ);
	return sw_buf_status(b);
}

int sw_print_response_start(struct sw_buf *b, const struct sw_msg *req, unsigned status,
			    const char *reason, sw_str to_tag)
{
	return sw_print_response_start_via(b, req, status, reason, to_tag, SW_STR_NULL, -1);
}

int sw_print_msg(struct sw_buf *b, const struct sw_msg *m)
{
	if (m->is_request) {
		sw_print_request_line(b, m->method, m->ruri);
	} else {
		/* keep the received reason phrase, even an empty one */
		sw_buf_addf(b, "SIP/2.0 %03u ", m->status);
		sw_buf_add_str(b, m->reason);
		sw_buf_adds(b, "\r\n");
	}
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		if (h->id == SW_HDR_CONTENT_LENGTH)
			continue;
		const char *name = sw_hdr_name(h->id);
		if (name) {
			sw_print_header(b, name, h->value);
		} else {
			sw_buf_add_str(b, h->name);
			sw_buf_adds(b, ": ");
			add_unfolded(b, h->value);
			sw_buf_adds(b, "\r\n");
		}
	}
	return sw_print_end(b, m->body);
}

int sw_random_token(char *out, size_t n)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];
	size_t done = 0;
	while (done < n) {
		size_t want = n - done < sizeof(rnd) ? n - done : sizeof(rnd);
		ssize_t got = getrandom(rnd, want, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return SW_EIO;
		}
		/* 252 = 7 * 36: reject above it so every character is equally likely */
		for (ssize_t i = 0; i < got && done < n; i++)
			if (rnd[i] < 252)
				out[done++] = alphabet[rnd[i] % 36];
	}
	out[n] = '\0';
	return 0;
}
