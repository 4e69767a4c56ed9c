/* HEP version 3 (the Homer encapsulation protocol, as sent by Kamailio's
 * siptrace, OpenSIPS, Asterisk's res_hep, FreeSWITCH, sngrep): a packet is
 * "HEP3", its total length (16 bits, network order), then chunks of vendor
 * id (16), type id (16), chunk length (16, header included) and payload.
 * Generic chunks (vendor 0) used here: 1 IP family, 2 IP protocol, 3/4 IPv4
 * source/destination, 5/6 IPv6 source/destination, 7/8 ports, 9/10 time
 * (seconds, microseconds), 11 payload type (1 = SIP), 14 authentication key,
 * 15 payload. Other chunks and other vendors are skipped. Nothing is
 * copied: the payload points into the packet. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "trace_int.h"

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void addr_fmt(const uint8_t *a, bool v6, unsigned port, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", ip, port);
}

int sw_hep_parse(const void *buf, size_t len, const char *key, struct sw_hep *out)
{
	const uint8_t *p = buf;
	if (len < 6 || memcmp(p, "HEP3", 4) != 0)
		return SW_EPARSE;
	size_t total = be16(p + 4);
	if (total < 6 || total > len)
		return SW_EPARSE;
	struct sw_hep h;
	memset(&h, 0, sizeof(h));
	uint8_t src4[4] = { 0 }, dst4[4] = { 0 }, src6[16] = { 0 }, dst6[16] = { 0 };
	unsigned sport = 0, dport = 0, family = 0, proto = 0;
	bool have4 = false, have6 = false, key_ok = !key;
	uint32_t sec = 0, usec = 0;
	for (size_t off = 6; off < total;) {
		if (total - off < 6)
			return SW_EPARSE;
		unsigned vendor = be16(p + off), type = be16(p + off + 2), clen = be16(p + off + 4);
		if (clen < 6 || clen > total - off)
			return SW_EPARSE;
		const uint8_t *v = p + off + 6;
		size_t vl = clen - 6;
		off += clen;
		if (vendor != 0)
			continue;
		switch (type) {
		case 1: if (vl != 1) return SW_EPARSE; family = v[0]; break;
		case 2: if (vl != 1) return SW_EPARSE; proto = v[0]; break;
		case 3: if (vl != 4) return SW_EPARSE; memcpy(src4, v, 4); have4 = true; break;
		case 4: if (vl != 4) return SW_EPARSE; memcpy(dst4, v, 4); have4 = true; break;
		case 5: if (vl != 16) return SW_EPARSE; memcpy(src6, v, 16); have6 = true; break;
		case 6: if (vl != 16) return SW_EPARSE; memcpy(dst6, v, 16); have6 = true; break;
		case 7: if (vl != 2) return SW_EPARSE; sport = be16(v); break;
		case 8: if (vl != 2) return SW_EPARSE; dport = be16(v); break;
		case 9: if (vl != 4) return SW_EPARSE; sec = be32(v); break;
		case 10: if (vl != 4) return SW_EPARSE; usec = be32(v); break;
		case 11: if (vl != 1) return SW_EPARSE; h.payload_type = v[0]; break;
		case 14:
			/* the key may come with or without a terminating NUL */
			while (vl && v[vl - 1] == '\0')
				vl--;
			if (key)
				key_ok = strlen(key) == vl && memcmp(key, v, vl) == 0;
			break;
		case 15: h.payload = (const char *)v; h.len = vl; break;
		default: break; /* unknown chunks are skipped */
		}
	}
	if (!h.payload)
		return SW_EPARSE;
	if (!key_ok)
		return SW_EINVAL;
	bool v6 = family == 10 || (!have4 && have6);
	addr_fmt(v6 ? src6 : src4, v6, sport, h.src, sizeof(h.src));
	addr_fmt(v6 ? dst6 : dst4, v6, dport, h.dst, sizeof(h.dst));
	h.tp = proto == 6 ? SW_TP_TCP : SW_TP_UDP;
	h.ts_us = (uint64_t)sec * 1000000u + (usec < 1000000u ? usec : 0);
	*out = h;
	return 0;
}
