/* TCP stream reassembly: per direction, segments are put in sequence order
 * (out-of-order ones wait, retransmitted and overlapping bytes are cut),
 * and the byte stream goes through sw_stream framing (Content-Length,
 * keep-alives). A stream is SIP when a SIP port is used or its first bytes
 * are a SIP start line. Bounded: per direction 64 waiting segments and one
 * message buffer; a hole that never fills is skipped. */
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

#define TCP_BUCKETS 4096u
#define TCP_MAX_OOO 64u
#define TCP_BUF (SW_MSG_MAX_SIZE_DEFAULT + 4096u)

struct seg {
	uint32_t seq;
	size_t len;
	uint8_t *data;
};

enum { SIP_UNKNOWN = 0, SIP_YES, SIP_NO };

struct conn {
	struct conn *next;
	struct sw__ipaddr src, dst;
	unsigned sport, dport;
	bool have_seq;
	uint32_t next_seq;
	int sip;
	bool sip_port;
	bool need_resync;           /* after a hole: skip to a start line */
	struct sw_stream s;
	char *buf;
	struct seg ooo[TCP_MAX_OOO];
	unsigned nooo;
};

struct sw__tcp_table {
	struct conn *b[TCP_BUCKETS];
};

static void conn_free(struct conn *c)
{
	for (unsigned i = 0; i < c->nooo; i++)
		free(c->ooo[i].data);
	free(c->buf);
	free(c);
}

void sw__tcp_free(struct sw__tcp_table *tt)
{
	if (!tt)
		return;
	for (unsigned i = 0; i < TCP_BUCKETS; i++)
		for (struct conn *c = tt->b[i], *n; c; c = n) {
			n = c->next;
			conn_free(c);
		}
	free(tt);
}

static unsigned hash(const struct sw__pkt *p, unsigned sport, unsigned dport)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ p->src.a[i] ^ ((uint32_t)p->dst.a[i] << 8)) * 16777619u;
	h = (h ^ sport ^ (dport << 16)) * 16777619u;
	return h % TCP_BUCKETS;
}

static struct conn *conn_get(struct sw_trace *t, const struct sw__pkt *p, unsigned sport,
			     unsigned dport, bool create, struct conn ***slot)
{
	if (!t->tcp && !(t->tcp = calloc(1, sizeof(*t->tcp))))
		return NULL;
	struct conn **pp = &t->tcp->b[hash(p, sport, dport)];
	for (; *pp; pp = &(*pp)->next) {
		struct conn *c = *pp;
		if (c->sport == sport && c->dport == dport && !memcmp(&c->src, &p->src, sizeof(c->src)) &&
		    !memcmp(&c->dst, &p->dst, sizeof(c->dst))) {
			*slot = pp;
			return c;
		}
	}
	if (!create)
		return NULL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->src = p->src;
	c->dst = p->dst;
	c->sport = sport;
	c->dport = dport;
	c->sip_port = sw__trace_sip_port(t, sport) || sw__trace_sip_port(t, dport);
	c->next = *pp;
	*pp = c;
	*slot = pp;
	return c;
}

/* Drops bytes up to the next line that starts a SIP message (after a gap or
 * when the capture began in the middle of a message). */
static void resync(struct conn *c)
{
	struct sw_stream *s = &c->s;
	size_t i = 0;
	for (; i < s->len; i++)
		if ((i == 0 || s->buf[i - 1] == '\n') && sw__looks_like_sip(s->buf + i, s->len - i))
			break;
	if (i == s->len && s->len > 1024)
		i = s->len - 1024; /* a start line may be cut at the end: keep a tail */
	else if (i == s->len && s->len <= 1024)
		return;
	memmove(s->buf, s->buf + i, s->len - i);
	s->len -= i;
}

static void deliver(struct sw_trace *t, struct conn *c, const struct sw__pkt *p,
		    const uint8_t *d, size_t len)
{
	if (c->sip == SIP_NO)
		return;
	if (!c->buf) {
		if (!(c->buf = malloc(TCP_BUF)))
			return;
		sw_stream_init(&c->s, c->buf, TCP_BUF);
	}
	while (len) {
		size_t room;
		char *sp = sw_stream_space(&c->s, &room);
		size_t n = len < room ? len : room;
		memcpy(sp, d, n);
		sw_stream_added(&c->s, n);
		d += n;
		len -= n;
		if (c->sip == SIP_UNKNOWN) {
			size_t k = 0;
			while (k < c->s.len && (c->s.buf[k] == '\r' || c->s.buf[k] == '\n'))
				k++;
			if (c->s.len - k < 16)
				return; /* too short to decide */
			if (sw__looks_like_sip(c->s.buf + k, c->s.len - k))
				c->sip = SIP_YES;
			else if (!c->sip_port)
				c->sip = SIP_NO;
			if (c->sip == SIP_NO) {
				c->s.len = 0;
				return;
			}
			c->sip = SIP_YES;
			resync(c);
		}
		if (c->need_resync) {
			resync(c);
			if (!c->s.len || !sw__looks_like_sip(c->s.buf, c->s.len))
				continue;
			c->need_resync = false;
		}
		for (;;) {
			const char *msg;
			size_t mlen;
			int r = sw_stream_next(&c->s, &msg, &mlen);
			if (r == 1) {
				struct sw_trace_meta m = { .input = p->input, .frame = p->frame,
							   .ts_us = p->ts_us, .tp = SW_TP_TCP, .nfrags = 1 };
				sw__ipaddr_format(&c->src, c->sport, m.src, sizeof(m.src));
				sw__ipaddr_format(&c->dst, c->dport, m.dst, sizeof(m.dst));
				sw_trace_add_sip(t, &m, msg, mlen);
				continue;
			}
			if (r == 0)
				break;
			/* garbage or an oversized message: skip to the next start line */
			t->st.skipped++;
			size_t i = 1;
			for (; i < c->s.len; i++)
				if (c->s.buf[i - 1] == '\n' && sw__looks_like_sip(c->s.buf + i, c->s.len - i))
					break;
			if (i >= c->s.len) {
				c->s.len = 0;
				c->need_resync = true;
				break;
			}
			memmove(c->s.buf, c->s.buf + i, c->s.len - i);
			c->s.len -= i;
		}
	}
}

static void drain_ooo(struct sw_trace *t, struct conn *c, const struct sw__pkt *p)
{
	bool progress = true;
	while (progress && c->nooo) {
		progress = false;
		for (unsigned i = 0; i < c->nooo; i++) {
			struct seg *s = &c->ooo[i];
			int32_t d = (int32_t)(s->seq - c->next_seq);
			if (d > 0)
				continue;
			size_t skip = (size_t)(-(int64_t)d);
			if (skip < s->len) {
				deliver(t, c, p, s->data + skip, s->len - skip);
				c->next_seq = s->seq + (uint32_t)s->len;
			}
			free(s->data);
			c->ooo[i] = c->ooo[--c->nooo];
			progress = true;
			break;
		}
	}
}

void sw__tcp_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len)
{
	if (len < 20) {
		t->st.skipped++;
		return;
	}
	unsigned sport = (unsigned)d[0] << 8 | d[1], dport = (unsigned)d[2] << 8 | d[3];
	uint32_t seq = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
	size_t off = (size_t)(d[12] >> 4) * 4;
	unsigned flags = d[13];
	if (off < 20 || off > len) {
		t->st.skipped++;
		return;
	}
	const uint8_t *pl = d + off;
	size_t plen = len - off;
	struct conn **slot;
	bool syn = flags & 0x02, fin = flags & 0x01, rst = flags & 0x04;
	struct conn *c = conn_get(t, p, sport, dport, plen > 0 || syn, &slot);
	if (!c)
		return;
	if (syn) {
		c->have_seq = true;
		c->next_seq = seq + 1;
		seq++;
	}
	if (plen) {
		t->st.tcp_segments++;
		if (!c->have_seq) {
			c->have_seq = true;
			c->next_seq = seq;
		}
		int32_t delta = (int32_t)(seq - c->next_seq);
		if (delta <= 0) {
			size_t skip = (size_t)(-(int64_t)delta);
			if (skip >= plen) {
				t->st.tcp_retrans++;
			} else {
				if (skip)
					t->st.tcp_retrans++;
				deliver(t, c, p, pl + skip, plen - skip);
				c->next_seq = seq + (uint32_t)plen;
				drain_ooo(t, c, p);
			}
		} else {
			t->st.tcp_ooo++;
			if (c->nooo == TCP_MAX_OOO) {
				/* the hole is not coming: give up on it */
				t->st.tcp_gaps++;
				uint32_t lo = c->ooo[0].seq;
				for (unsigned i = 1; i < c->nooo; i++)
					if ((int32_t)(c->ooo[i].seq - lo) < 0)
						lo = c->ooo[i].seq;
				c->next_seq = lo;
				c->s.len = 0;
				c->s.msg_len = 0;
				c->need_resync = true;
				drain_ooo(t, c, p);
			}
			if (c->nooo < TCP_MAX_OOO) {
				uint8_t *copy = malloc(plen);
				if (copy) {
					memcpy(copy, pl, plen);
					c->ooo[c->nooo++] = (struct seg){ seq, plen, copy };
				}
			}
		}
	}
	if (rst || fin) {
		/* the direction is over: free it (a later SYN starts afresh) */
		*slot = c->next;
		conn_free(c);
	}
}
