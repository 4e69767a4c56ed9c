/* IPv4 and IPv6: header checks, extension headers, fragment reassembly
 * (both versions, bounded), IP-in-IP tunnels, and UDP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "trace_int.h"

#define FRAG_MAX_PENDING 256u      /* datagrams being rebuilt at once */
#define FRAG_MAX_LEN 65535u         /* largest datagram payload */
#define FRAG_TIMEOUT_US (60u * 1000000u)
#define MAX_TUNNEL_DEPTH 4u

struct frag {
	bool used;
	uint8_t v6, proto;
	struct sw__ipaddr src, dst;
	uint32_t id;
	uint64_t first_ts;
	size_t total;               /* payload length, known when the last fragment came */
	size_t have;                /* bytes received (without overlaps) */
	unsigned count;
	uint8_t *data;              /* FRAG_MAX_LEN bytes */
	uint8_t *seen;              /* one bit per 8-byte block */
};

struct sw__frag_table {
	struct frag f[FRAG_MAX_PENDING];
};

void sw__frag_free(struct sw__frag_table *ft)
{
	if (!ft)
		return;
	for (unsigned i = 0; i < FRAG_MAX_PENDING; i++) {
		free(ft->f[i].data);
		free(ft->f[i].seen);
	}
	free(ft);
}

/* v in decimal at p (v < 100000: an address byte or a port); returns the end. */
static char *put_dec(char *p, unsigned v)
{
	unsigned n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
	for (unsigned i = n; i--; v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

void sw__ipaddr_format(const struct sw__ipaddr *a, unsigned port, char *out, size_t cap)
{
	if (!a->v6 && cap >= 22 && port <= 65535) { /* the common case, without printf */
		char *p = out;
		for (int i = 0; i < 4; i++) {
			p = put_dec(p, a->a[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		p = put_dec(p, port);
		*p = '\0';
		return;
	}
	char ip[INET6_ADDRSTRLEN];
	if (!inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (a->v6)
		snprintf(out, cap, "[%s]:%u", ip, port);
	else
		snprintf(out, cap, "%s:%u", ip, port);
}

static void udp_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len)
{
	if (len < 8) {
		t->st.skipped++;
		return;
	}
	unsigned sport = (unsigned)d[0] << 8 | d[1], dport = (unsigned)d[2] << 8 | d[3];
	size_t ulen = (size_t)d[4] << 8 | d[5];
	if (ulen >= 8 && ulen <= len)
		len = ulen; /* drop Ethernet padding */
	const char *pl = (const char *)d + 8;
	size_t plen = len - 8;
	bool sip_port = sw__trace_sip_port(t, sport) || sw__trace_sip_port(t, dport);
	/* keep-alives: CRLF, double CRLF, a few zero bytes */
	size_t k = 0;
	while (k < plen && (pl[k] == '\r' || pl[k] == '\n' || pl[k] == '\0' || pl[k] == ' '))
		k++;
	if (k == plen)
		return;
	if (!sw__looks_like_sip(pl, plen)) {
		if (sip_port)
			t->st.skipped++;
		return;
	}
	struct sw_trace_meta m = { .input = p->input, .frame = p->frame, .ts_us = p->ts_us,
				   .tp = SW_TP_UDP, .nfrags = p->nfrags };
	sw__ipaddr_format(&p->src, sport, m.src, sizeof(m.src));
	sw__ipaddr_format(&p->dst, dport, m.dst, sizeof(m.dst));
	sw_trace_add_sip(t, &m, pl, plen);
}

static void transport_input(struct sw_trace *t, struct sw__pkt *p, unsigned proto,
			    const uint8_t *d, size_t len)
{
	switch (proto) {
	case 17:
		udp_input(t, p, d, len);
		break;
	case 6:
		sw__tcp_input(t, p, d, len);
		break;
	case 4:
	case 41:
		if (p->depth >= MAX_TUNNEL_DEPTH) {
			t->st.skipped++;
			break;
		}
		t->st.tunnels++;
		p->depth++;
		sw__ip_input(t, p, d, len, proto == 4 ? 4 : 6);
		break;
	default:
		break;
	}
}

static bool same_key(const struct frag *f, const struct sw__pkt *p, uint8_t v6, uint8_t proto,
		     uint32_t id)
{
	return f->used && f->v6 == v6 && f->id == id && f->proto == proto &&
	       !memcmp(&f->src, &p->src, sizeof(f->src)) && !memcmp(&f->dst, &p->dst, sizeof(f->dst));
}

static void frag_drop(struct frag *f)
{
	f->used = false;
	f->total = f->have = 0;
	f->count = 0;
}

/* One fragment: off and len in bytes of the payload, more = MF flag. */
static void frag_input(struct sw_trace *t, struct sw__pkt *p, uint8_t v6, uint8_t proto,
		       uint32_t id, size_t off, bool more, const uint8_t *d, size_t len)
{
	t->st.fragments++;
	if (!t->frags && !(t->frags = calloc(1, sizeof(*t->frags))))
		return;
	struct frag *f = NULL, *freeslot = NULL, *oldest = NULL;
	for (unsigned i = 0; i < FRAG_MAX_PENDING; i++) {
		struct frag *c = &t->frags->f[i];
		if (c->used && p->ts_us > c->first_ts + FRAG_TIMEOUT_US) {
			t->st.frag_dropped++;
			frag_drop(c);
		}
		if (same_key(c, p, v6, proto, id)) {
			f = c;
			break;
		}
		if (!c->used && !freeslot)
			freeslot = c;
		if (c->used && (!oldest || c->first_ts < oldest->first_ts))
			oldest = c;
	}
	if (!f) {
		if (!freeslot) {
			t->st.frag_dropped++;
			frag_drop(oldest);
			freeslot = oldest;
		}
		f = freeslot;
		if (!f->data && !(f->data = malloc(FRAG_MAX_LEN)))
			return;
		if (!f->seen && !(f->seen = malloc(FRAG_MAX_LEN / 64 + 1)))
			return;
		memset(f->seen, 0, FRAG_MAX_LEN / 64 + 1);
		f->used = true;
		f->v6 = v6;
		f->proto = proto;
		f->id = id;
		f->src = p->src;
		f->dst = p->dst;
		f->first_ts = p->ts_us;
		f->total = f->have = 0;
		f->count = 0;
	}
	if (off + len > FRAG_MAX_LEN || (more && (len % 8) != 0) ||
	    (f->total && off + len > f->total) || (!more && f->total && off + len != f->total)) {
		t->st.frag_dropped++;
		frag_drop(f);
		return;
	}
	if (!more)
		f->total = off + len;
	f->count++;
	memcpy(f->data + off, d, len);
	for (size_t b = off / 8; b * 8 < off + len; b++) {
		if (!(f->seen[b / 8] & (1u << (b % 8)))) {
			f->seen[b / 8] |= (uint8_t)(1u << (b % 8));
			size_t end = (b + 1) * 8 < off + len ? (b + 1) * 8 : off + len;
			f->have += end - b * 8;
		}
	}
	if (!f->total || f->have < f->total)
		return;
	/* complete: hand the payload up, then free the slot */
	t->st.reassembled++;
	struct sw__pkt q = *p;
	q.nfrags = f->count;
	size_t total = f->total;
	uint8_t *buf = malloc(total ? total : 1);
	if (buf) {
		memcpy(buf, f->data, total);
		frag_drop(f);
		transport_input(t, &q, proto, buf, total);
		free(buf);
	} else {
		frag_drop(f);
	}
}

static void ipv4_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len)
{
	if (len < 20 || (d[0] >> 4) != 4) {
		t->st.skipped++;
		return;
	}
	size_t hl = (size_t)(d[0] & 15) * 4, tot = (size_t)d[2] << 8 | d[3];
	if (hl < 20 || hl > len || tot < hl) {
		t->st.skipped++;
		return;
	}
	if (tot < len)
		len = tot; /* padding */
	p->src.v6 = p->dst.v6 = 0;
	memset(p->src.a, 0, 16);
	memset(p->dst.a, 0, 16);
	memcpy(p->src.a, d + 12, 4);
	memcpy(p->dst.a, d + 16, 4);
	unsigned flags_off = (unsigned)d[6] << 8 | d[7];
	bool more = flags_off & 0x2000;
	size_t off = (size_t)(flags_off & 0x1fff) * 8;
	uint8_t proto = d[9];
	if (more || off) {
		if (tot > len) { /* fragment cut by the snap length */
			t->st.skipped++;
			return;
		}
		frag_input(t, p, 0, proto, (uint32_t)d[4] << 8 | d[5], off, more, d + hl, len - hl);
		return;
	}
	transport_input(t, p, proto, d + hl, len - hl);
}

static void ipv6_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len)
{
	if (len < 40 || (d[0] >> 4) != 6) {
		t->st.skipped++;
		return;
	}
	size_t plen = (size_t)d[4] << 8 | d[5];
	if (40 + plen < len && plen)
		len = 40 + plen;
	p->src.v6 = p->dst.v6 = 1;
	memcpy(p->src.a, d + 8, 16);
	memcpy(p->dst.a, d + 24, 16);
	unsigned nh = d[6];
	size_t pos = 40;
	for (int n = 0; n < 8; n++) {
		if (nh == 0 || nh == 43 || nh == 60) { /* hop-by-hop, routing, destination */
			if (pos + 8 > len)
				goto junk;
			size_t el = ((size_t)d[pos + 1] + 1) * 8;
			nh = d[pos];
			pos += el;
			if (pos > len)
				goto junk;
			continue;
		}
		if (nh == 44) { /* fragment */
			if (pos + 8 > len)
				goto junk;
			unsigned fo = (unsigned)d[pos + 2] << 8 | d[pos + 3];
			uint32_t id = (uint32_t)d[pos + 4] << 24 | (uint32_t)d[pos + 5] << 16 |
				      (uint32_t)d[pos + 6] << 8 | d[pos + 7];
			uint8_t fnh = d[pos];
			pos += 8;
			size_t off = (size_t)(fo >> 3) * 8;
			bool more = fo & 1;
			if (!more && off == 0) { /* atomic fragment */
				nh = fnh;
				continue;
			}
			frag_input(t, p, 1, fnh, id, off, more, d + pos, len - pos);
			return;
		}
		break;
	}
	transport_input(t, p, nh, d + pos, len - pos);
	return;
junk:
	t->st.skipped++;
}

void sw__ip_input(struct sw_trace *t, struct sw__pkt *p, const uint8_t *d, size_t len, int version)
{
	if (version == 4)
		ipv4_input(t, p, d, len);
	else if (version == 6)
		ipv6_input(t, p, d, len);
	else
		t->st.skipped++;
}
