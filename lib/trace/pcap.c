/* Capture files through libpcap (pcap and pcapng), and the link layers:
 * Ethernet (with 802.1Q/802.1ad VLAN tags), Linux cooked v1 and v2, raw IP,
 * BSD loopback/null. */
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include "trace_int.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW 101 /* the file value of DLT_RAW on some systems */

static bool dlt_known(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_RAW || dlt == LINKTYPE_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 ||
	       dlt == DLT_NULL || dlt == DLT_LOOP;
}

/* An ethertype and what follows it, through VLAN tags. */
static void ethertype(struct sw_trace *t, struct sw__pkt *p, unsigned type, const uint8_t *d,
		      size_t len)
{
	for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 4; tags++) {
		if (len < 4) {
			t->st.skipped++;
			return;
		}
		type = (unsigned)d[2] << 8 | d[3];
		d += 4;
		len -= 4;
	}
	if (type == 0x0800)
		sw__ip_input(t, p, d, len, 4);
	else if (type == 0x86dd)
		sw__ip_input(t, p, d, len, 6);
	/* ARP, LLDP and the rest are not ours: not counted as garbage */
}

void sw_trace_add_frame(struct sw_trace *t, unsigned input, unsigned frame, uint64_t ts_us,
			int dlt, const uint8_t *d, size_t caplen, size_t wirelen)
{
	struct sw__pkt p = { .input = input, .frame = frame, .ts_us = ts_us, .nfrags = 1 };
	t->st.frames++;
	if (caplen < wirelen)
		t->st.truncated++;
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			goto junk;
		ethertype(t, &p, (unsigned)d[12] << 8 | d[13], d + 14, caplen - 14);
		return;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			goto junk;
		ethertype(t, &p, (unsigned)d[14] << 8 | d[15], d + 16, caplen - 16);
		return;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			goto junk;
		ethertype(t, &p, (unsigned)d[0] << 8 | d[1], d + 20, caplen - 20);
		return;
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			goto junk;
		sw__ip_input(t, &p, d, caplen, d[0] >> 4);
		return;
	case DLT_NULL:
	case DLT_LOOP: {
		if (caplen < 4)
			goto junk;
		/* the address family, in the writer's byte order (NULL) or
		 * network order (LOOP): 2 is IPv4; 24, 28, 30 are IPv6 */
		uint32_t le = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
		uint32_t be = (uint32_t)d[3] | (uint32_t)d[2] << 8 | (uint32_t)d[1] << 16 | (uint32_t)d[0] << 24;
		uint32_t af = le < 256 ? le : be;
		if (af == 2)
			sw__ip_input(t, &p, d + 4, caplen - 4, 4);
		else if (af == 24 || af == 28 || af == 30 || af == 10)
			sw__ip_input(t, &p, d + 4, caplen - 4, 6);
		return;
	}
	default:
		goto junk;
	}
junk:
	t->st.skipped++;
}

int sw__pcap_read(struct sw_trace *t, unsigned input, void *fp, uint64_t len, char *why,
		  size_t cap)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	FILE *f = fp;
	pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!pc) {
		fclose(f);
		snprintf(why, cap, "not a readable capture: %s", err[0] ? err : "unknown error");
		return SW_EPARSE;
	}
	int dlt = pcap_datalink(pc);
	int rc = 0;
	/* pcapng may mix interfaces of several link types: libpcap reports the
	 * first; a file whose first link type is unknown is refused */
	if (!dlt_known(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(why, cap, "unknown link type %d (%s): Ethernet, Linux cooked v1/v2, raw IP and loopback are supported",
			 dlt, name ? name : "unnamed");
		pcap_close(pc);
		return SW_EPARSE;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned frame = 0;
	for (;;) {
		int r = pcap_next_ex(pc, &h, &data);
		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			const char *e = pcap_geterr(pc);
			snprintf(why, cap, "truncated or damaged after frame %u: %s", frame,
				 e && *e ? e : "read error");
			rc = SW_EPARSE;
			break;
		}
		frame++;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		sw_trace_add_frame(t, input, frame, ts, dlt, data, h->caplen, h->len);
		if (t->o.progress && (frame & 4095) == 0)
			t->o.progress(t->o.progress_arg, (uint64_t)ftell(f), len);
	}
	pcap_close(pc); /* closes f */
	return rc;
}
