/* Packet decoding of the analyzer: pcap files written here in memory with
 * every supported link type, VLAN tags, IPv4/IPv6 fragments, IP-in-IP, TCP
 * segments out of order / retransmitted / overlapping, garbage and
 * truncation; and the public captures of the corpus, each read without
 * error with the flows expected after reading them with tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/trace.h"

struct pcapw {
	uint8_t *b;
	size_t len, cap;
	unsigned ts;
};

static void put(struct pcapw *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2;
		w->b = realloc(w->b, w->cap);
		assert_non_null(w->b);
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void u32(struct pcapw *w, uint32_t v) { put(w, &v, 4); } /* host order, as libpcap reads both */
static void u16(struct pcapw *w, uint16_t v) { put(w, &v, 2); }

static void pcap_begin(struct pcapw *w, uint32_t dlt)
{
	memset(w, 0, sizeof(*w));
	u32(w, 0xa1b2c3d4);
	u16(w, 2);
	u16(w, 4);
	u32(w, 0);
	u32(w, 0);
	u32(w, 65535);
	u32(w, dlt);
}

static void record(struct pcapw *w, const uint8_t *d, size_t n)
{
	u32(w, 1700000000u + w->ts++);
	u32(w, 0);
	u32(w, (uint32_t)n);
	u32(w, (uint32_t)n);
	put(w, d, n);
}

static size_t ipv4(uint8_t *o, const char *src, const char *dst, uint8_t proto, uint16_t id,
		   uint16_t frag, const uint8_t *pl, size_t n)
{
	unsigned a[4], b[4];
	sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(dst, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
	size_t tot = 20 + n;
	uint8_t h[20] = { 0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, (uint8_t)(id >> 8), (uint8_t)id,
			  (uint8_t)(frag >> 8), (uint8_t)frag, 64, proto, 0, 0,
			  (uint8_t)a[0], (uint8_t)a[1], (uint8_t)a[2], (uint8_t)a[3],
			  (uint8_t)b[0], (uint8_t)b[1], (uint8_t)b[2], (uint8_t)b[3] };
	memcpy(o, h, 20);
	memcpy(o + 20, pl, n);
	return tot;
}

static size_t udp(uint8_t *o, unsigned sp, unsigned dp, const char *pl, size_t n)
{
	uint8_t h[8] = { (uint8_t)(sp >> 8), (uint8_t)sp, (uint8_t)(dp >> 8), (uint8_t)dp,
			 (uint8_t)((n + 8) >> 8), (uint8_t)(n + 8), 0, 0 };
	memcpy(o, h, 8);
	memcpy(o + 8, pl, n);
	return n + 8;
}

static size_t tcp(uint8_t *o, unsigned sp, unsigned dp, uint32_t seq, uint8_t flags,
		  const char *pl, size_t n)
{
	uint8_t h[20] = { (uint8_t)(sp >> 8), (uint8_t)sp, (uint8_t)(dp >> 8), (uint8_t)dp,
			  (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq,
			  0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0 };
	memcpy(o, h, 20);
	if (n)
		memcpy(o + 20, pl, n);
	return n + 20;
}

static size_t eth(uint8_t *o, uint16_t type, bool vlan, const uint8_t *pl, size_t n)
{
	size_t k = 12;
	memset(o, 0x02, 12);
	if (vlan) {
		o[k++] = 0x81;
		o[k++] = 0x00;
		o[k++] = 0;
		o[k++] = 42;
	}
	o[k++] = (uint8_t)(type >> 8);
	o[k++] = (uint8_t)type;
	memcpy(o + k, pl, n);
	return k + n;
}

static const char REQ[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKp1\r\n"
	"From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
	"Call-ID: pc1\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@10.0.0.2>\r\nContent-Length: 0\r\n\r\n";
static const char RESP[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKp1\r\n"
	"From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n"
	"Call-ID: pc1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

static struct sw_trace *run(struct pcapw *w, int want_rc, char *why, size_t cap)
{
	struct sw_trace_opts o = { .nports = 1, .ports = { 7000 } };
	struct sw_trace *t;
	assert_int_equal(sw_trace_new(&t, &o), 0);
	assert_int_equal(sw_trace_read_mem(t, "mem.pcap", w->b, w->len, why, cap), want_rc);
	assert_int_equal(sw_trace_analyze(t), 0);
	free(w->b);
	w->b = NULL;
	return t;
}

static void test_udp_link_types(void **state)
{
	(void)state;
	uint8_t u[2048], ip[2048], fr[2048];
	char why[256];
	struct pcapw w;
	/* Ethernet with a VLAN tag; request and answer */
	pcap_begin(&w, 1);
	size_t n = udp(u, 5060, 5060, REQ, strlen(REQ));
	n = ipv4(ip, "10.0.0.2", "10.0.0.1", 17, 1, 0, u, n);
	record(&w, fr, eth(fr, 0x0800, true, ip, n));
	n = udp(u, 5060, 5060, RESP, strlen(RESP));
	n = ipv4(ip, "10.0.0.1", "10.0.0.2", 17, 2, 0, u, n);
	record(&w, fr, eth(fr, 0x0800, false, ip, n));
	record(&w, (const uint8_t *)"\x01\x02", 2); /* garbage: too short */
	struct sw_trace *t = run(&w, 0, why, sizeof(why));
	assert_int_equal(sw_trace_msg_count(t), 2);
	assert_string_equal(sw_trace_msg_get(t, 0)->meta.src, "10.0.0.2:5060");
	assert_int_equal(sw_trace_stats(t)->skipped, 1);
	assert_int_equal(sw_trace_flow_count(t), 1);
	assert_int_equal(sw_trace_flow_get(t, 0)->cause, SW_CAUSE_OK);
	sw_trace_free(t);

	/* Linux cooked v2, loopback (BSD null), raw IP, on a --port */
	static const uint32_t dlts[] = { 276, 113, 0, 101 };
	for (size_t k = 0; k < 4; k++) {
		pcap_begin(&w, dlts[k]);
		n = udp(u, 40000, 7000, REQ, strlen(REQ));
		n = ipv4(ip, "10.0.0.2", "10.0.0.1", 17, 1, 0, u, n);
		size_t hl = dlts[k] == 276 ? 20 : dlts[k] == 113 ? 16 : dlts[k] == 0 ? 4 : 0;
		memset(fr, 0, hl);
		if (dlts[k] == 276)
			fr[0] = 0x08;
		if (dlts[k] == 113)
			fr[14] = 0x08;
		if (dlts[k] == 0)
			fr[0] = 2; /* AF_INET, little endian */
		memcpy(fr + hl, ip, n);
		record(&w, fr, hl + n);
		t = run(&w, 0, why, sizeof(why));
		assert_int_equal(sw_trace_msg_count(t), 1);
		assert_string_equal(sw_trace_msg_get(t, 0)->meta.dst, "10.0.0.1:7000");
		sw_trace_free(t);
	}
}

static void test_fragments_and_tunnels(void **state)
{
	(void)state;
	uint8_t u[4096], ip[4096], fr[4096];
	char why[256];
	struct pcapw w;
	/* a large request in three IPv4 fragments, out of order, no answer */
	char big[3000];
	size_t rl = strlen(REQ);
	memcpy(big, REQ, rl - 4);
	size_t bl = rl - 4;
	bl += (size_t)snprintf(big + bl, sizeof(big) - bl, "\r\nX-Pad: ");
	while (bl < 2500)
		big[bl++] = 'x';
	memcpy(big + bl, "\r\n\r\n", 4);
	bl += 4;
	size_t un = udp(u, 5060, 5060, big, bl);
	pcap_begin(&w, 1);
	size_t offs[3] = { 0, 1000, 2000 }, order[3] = { 1, 0, 2 };
	for (size_t i = 0; i < 3; i++) {
		size_t o = offs[order[i]], len = order[i] == 2 ? un - 2000 : 1000;
		uint16_t frag = (uint16_t)((o / 8) | (order[i] == 2 ? 0 : 0x2000));
		size_t n = ipv4(ip, "10.0.0.2", "10.0.0.1", 17, 77, frag, u + o, len);
		record(&w, fr, eth(fr, 0x0800, false, ip, n));
	}
	struct sw_trace *t = run(&w, 0, why, sizeof(why));
	assert_int_equal(sw_trace_stats(t)->reassembled, 1);
	assert_int_equal(sw_trace_msg_count(t), 1);
	assert_int_equal(sw_trace_msg_get(t, 0)->meta.nfrags, 3);
	assert_int_equal(sw_trace_flow_get(t, 0)->cause, SW_CAUSE_UDP_FRAGMENTATION);
	sw_trace_free(t);

	/* IP-in-IP: the inner packet is the SIP one */
	pcap_begin(&w, 1);
	size_t n = udp(u, 5060, 5060, REQ, strlen(REQ));
	n = ipv4(ip, "10.0.0.2", "10.0.0.1", 17, 1, 0, u, n);
	uint8_t outer[4096];
	n = ipv4(outer, "192.0.2.1", "192.0.2.2", 4, 9, 0, ip, n);
	record(&w, fr, eth(fr, 0x0800, false, outer, n));
	t = run(&w, 0, why, sizeof(why));
	assert_int_equal(sw_trace_stats(t)->tunnels, 1);
	assert_int_equal(sw_trace_msg_count(t), 1);
	assert_string_equal(sw_trace_msg_get(t, 0)->meta.src, "10.0.0.2:5060");
	sw_trace_free(t);

	/* IPv6 with a fragment header: two fragments */
	pcap_begin(&w, 1);
	un = udp(u, 5060, 5060, REQ, strlen(REQ));
	size_t half = 96;
	for (int k = 0; k < 2; k++) {
		uint8_t *p = ip;
		size_t plen = k ? un - half : half;
		memset(p, 0, 48);
		p[0] = 0x60;
		p[4] = (uint8_t)((plen + 8) >> 8);
		p[5] = (uint8_t)(plen + 8);
		p[6] = 44;
		p[7] = 64;
		p[23] = 2; /* ::2 */
		p[39] = 1; /* ::1 */
		p[40] = 17;
		uint16_t fo = (uint16_t)((k ? half : 0) | (k ? 0 : 1));
		p[42] = (uint8_t)(fo >> 8);
		p[43] = (uint8_t)fo;
		p[47] = 5; /* id */
		memcpy(p + 48, u + (k ? half : 0), plen);
		record(&w, fr, eth(fr, 0x86dd, false, p, 48 + plen));
	}
	t = run(&w, 0, why, sizeof(why));
	assert_int_equal(sw_trace_msg_count(t), 1);
	assert_string_equal(sw_trace_msg_get(t, 0)->meta.src, "[::2]:5060");
	assert_int_equal(sw_trace_msg_get(t, 0)->meta.nfrags, 2);
	sw_trace_free(t);
}

static void test_tcp_reassembly(void **state)
{
	(void)state;
	uint8_t seg[4096], ip[4096], fr[4096];
	char why[256];
	struct pcapw w;
	/* stream: REQ + RESP-like second request in one buffer, cut in pieces */
	char stream[2048];
	size_t sl = 0;
	memcpy(stream, REQ, strlen(REQ));
	sl = strlen(REQ);
	memcpy(stream + sl, REQ, strlen(REQ));
	stream[sl + 40 + 10] = 'q'; /* make the second one differ in its branch */
	sl += strlen(REQ);
	pcap_begin(&w, 1);
	uint32_t isn = 1000;
	size_t n = tcp(seg, 40001, 5060, isn, 0x02, NULL, 0);
	n = ipv4(ip, "10.0.0.2", "10.0.0.1", 6, 1, 0, seg, n);
	record(&w, fr, eth(fr, 0x0800, false, ip, n));
	/* pieces: [100..sl) first (out of order), then [0..60), then a
	 * retransmission of [0..60), then [50..120) overlapping */
	struct { size_t a, b; } pieces[] = { { 100, sl }, { 0, 60 }, { 0, 60 }, { 50, 120 } };
	for (size_t i = 0; i < 4; i++) {
		n = tcp(seg, 40001, 5060, isn + 1 + (uint32_t)pieces[i].a, 0x18, stream + pieces[i].a,
			pieces[i].b - pieces[i].a);
		n = ipv4(ip, "10.0.0.2", "10.0.0.1", 6, (uint16_t)(2 + i), 0, seg, n);
		record(&w, fr, eth(fr, 0x0800, false, ip, n));
	}
	struct sw_trace *t = run(&w, 0, why, sizeof(why));
	const struct sw_trace_stats *st = sw_trace_stats(t);
	assert_int_equal(sw_trace_msg_count(t), 2);
	assert_int_equal(st->parse_errors, 0);
	assert_true(st->tcp_ooo >= 1);
	assert_true(st->tcp_retrans >= 2);
	assert_int_equal(sw_trace_msg_get(t, 0)->meta.tp, SW_TP_TCP);
	assert_int_equal(sw_trace_msg_get(t, 0)->len, strlen(REQ));
	sw_trace_free(t);
}

static void test_bad_files(void **state)
{
	(void)state;
	uint8_t u[2048], ip[2048], fr[2048];
	char why[256];
	struct pcapw w;
	/* unknown link type */
	pcap_begin(&w, 147);
	record(&w, (const uint8_t *)"abcd", 4);
	struct sw_trace *t = run(&w, SW_EPARSE, why, sizeof(why));
	assert_non_null(strstr(why, "unknown link type 147"));
	sw_trace_free(t);
	/* truncated in the middle of the second record: the first is kept */
	pcap_begin(&w, 1);
	size_t n = udp(u, 5060, 5060, REQ, strlen(REQ));
	n = ipv4(ip, "10.0.0.2", "10.0.0.1", 17, 1, 0, u, n);
	record(&w, fr, eth(fr, 0x0800, false, ip, n));
	record(&w, fr, eth(fr, 0x0800, false, ip, n));
	w.len -= 50;
	t = run(&w, SW_EPARSE, why, sizeof(why));
	assert_non_null(strstr(why, "truncated"));
	assert_int_equal(sw_trace_msg_count(t), 1);
	sw_trace_free(t);
	/* a pcap header cut short */
	pcap_begin(&w, 1);
	w.len = 10;
	t = run(&w, SW_EPARSE, why, sizeof(why));
	sw_trace_free(t);
	/* binary junk that is no capture */
	pcap_begin(&w, 1);
	memset(w.b, 0, 4);
	t = run(&w, SW_EPARSE, why, sizeof(why));
	sw_trace_free(t);
}

/* ---- the public corpus -------------------------------------------------- */

static const char *corpus(void)
{
	const char *c = getenv("SW_CORPUS");
	return c ? c : "../shared/corpus";
}

static struct sw_trace *read_corpus(const char *name, unsigned port)
{
	char path[1024], why[256];
	snprintf(path, sizeof(path), "%s/captures/%s", corpus(), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fclose(f);
	struct sw_trace_opts o = { .nports = port ? 1 : 0, .ports = { (uint16_t)port } };
	struct sw_trace *t;
	assert_int_equal(sw_trace_new(&t, &o), 0);
	if (sw_trace_read_file(t, path, why, sizeof(why)))
		fail_msg("%s: %s", name, why);
	assert_int_equal(sw_trace_analyze(t), 0);
	return t;
}

static void test_corpus(void **state)
{
	(void)state;
	/* messages as counted by tshark -Y sip (the SCTP one: SCTP is not decoded) */
	static const struct { const char *name; unsigned port; size_t msgs; } files[] = {
		{ "zeek-wireshark-register-auth-invite.pcap", 0, 81 },
		{ "sngrep-aaa.pcap", 0, 81 },
		{ "ndpi-sip_hello.pcapng", 0, 8 },
		{ "heplify-sip_ipv4_tcp_retrans.pcap", 0, 8 },
		{ "heplify-sip_ipv4_tcp.pcap", 0, 7 },
		{ "heplify-sip_ipv4_tcp_fragmented.pcap", 6060, 406 },
		{ "heplify-sip_ipv6_udp.pcap", 0, 6 },
		{ "sngrep-ipip.pcap", 0, 4 },
		{ "sngrep-ipv6frag.pcap", 0, 32 },
		{ "pcapplusplus-sip_non_default_port.pcap", 0, 2 },
		{ "heplify-sip_sctp.pcap", 0, 0 },
		{ "heplify-sip_tcp_websocket.pcap", 0, 28 },
		{ "ndpi-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", 0, 92 },
		{ "pcapplusplus-sip_resp.pcap", 0, 7 },
		{ "synthetic/zeek-sip-long-request-response-paths.pcap", 0, 2 },
		{ "synthetic/zeek-sip-junk-before-request.pcap", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct sw_trace *t = read_corpus(files[i].name, files[i].port);
		if (!t) {
			print_message("corpus missing: %s (skipped)\n", files[i].name);
			continue;
		}
		if (sw_trace_msg_count(t) != files[i].msgs)
			fail_msg("%s: %zu messages, expected %zu", files[i].name, sw_trace_msg_count(t),
				 files[i].msgs);
		sw_trace_free(t);
	}
	/* the auth flows of the REGISTER/INVITE capture, read by hand */
	struct sw_trace *t = read_corpus("zeek-wireshark-register-auth-invite.pcap", 0);
	if (!t)
		return;
	static const struct { unsigned first_frame; enum sw_cause cause; } want[] = {
		{ 1, SW_CAUSE_CREDENTIALS_REJECTED },   /* 403 "Wrong password" */
		{ 6, SW_CAUSE_STALE_WITHOUT_FLAG },     /* "401 nonce has changed", stale=false */
		{ 10, SW_CAUSE_STALE_WITHOUT_FLAG },
		{ 14, SW_CAUSE_OK },
		{ 19, SW_CAUSE_REQUEST_REFUSED },       /* INVITE without auth, 408: a final error is never ok */
		{ 37, SW_CAUSE_CREDENTIALS_REJECTED },  /* 407, answered, 403 */
		{ 45, SW_CAUSE_STALE_WITHOUT_FLAG },
		{ 49, SW_CAUSE_STALE_WITHOUT_FLAG },
		{ 53, SW_CAUSE_OK },
		{ 58, SW_CAUSE_STALE_WITHOUT_FLAG },
		{ 60, SW_CAUSE_CREDENTIALS_REJECTED },
		{ 69, SW_CAUSE_REQUEST_REFUSED },       /* authenticated, then 480 */
		{ 77, SW_CAUSE_OK },
	};
	assert_int_equal(sw_trace_flow_count(t), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct sw_trace_flow *f = sw_trace_flow_get(t, i);
		unsigned frame = sw_trace_msg_get(t, f->msgs[0])->meta.frame;
		if (frame != want[i].first_frame || f->cause != want[i].cause)
			fail_msg("flow %zu: starts at #%u with %s, wanted #%u %s", i, frame,
				 sw_cause_id(f->cause), want[i].first_frame, sw_cause_id(want[i].cause));
	}
	assert_int_equal(sw_trace_stats(t)->failures, 10);
	sw_trace_free(t);
	/* the clean pcapng: two successful registrations */
	t = read_corpus("ndpi-sip_hello.pcapng", 0);
	assert_non_null(t);
	assert_int_equal(sw_trace_flow_count(t), 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(sw_trace_flow_get(t, i)->cause, SW_CAUSE_OK);
	sw_trace_free(t);
	/* REGISTER relayed TCP -> UDP: each hop is its own successful flow */
	t = read_corpus("heplify-sip_ipv4_tcp_retrans.pcap", 0);
	assert_non_null(t);
	assert_int_equal(sw_trace_flow_count(t), 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(sw_trace_flow_get(t, i)->cause, SW_CAUSE_OK);
	sw_trace_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_link_types),
		cmocka_unit_test(test_fragments_and_tunnels),
		cmocka_unit_test(test_tcp_reassembly),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
