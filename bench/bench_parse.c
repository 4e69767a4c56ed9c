/* Parser benchmark: messages per second and ns per message for a typical
 * REGISTER (with Authorization), an INVITE with SDP and a 401 response.
 *
 * Two columns per message:
 *   split     sw_msg_parse alone (start line, header split, body framing)
 *   registrar split + what a registrar reads: top Via, From, To (tag),
 *             Call-ID, CSeq, Contact (each element), Expires, and the
 *             Authorization (or WWW-Authenticate) digest parameters
 *
 * Each measurement runs for SW_BENCH_SECONDS (default 2) on one thread.
 * Pin it for stable figures: taskset -c 1 build/release/bench/bench_parse
 * Exit status 0; it never fails on time (figures go to docs/PERFORMANCE.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sipwarden/msg.h"

/* RFC 3665 §2.1 F3 with qop=auth answered (the RFC's own F3 omits qop). */
static const char register_msg[] =
	"REGISTER sips:ss2.biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashd92;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: Bob <sips:bob@biloxi.example.com>;tag=ja743ks76zlflH\r\n"
	"To: Bob <sips:bob@biloxi.example.com>\r\n"
	"Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\n"
	"CSeq: 2 REGISTER\r\n"
	"Contact: <sips:bob@client.biloxi.example.com>;expires=3600\r\n"
	"Authorization: Digest username=\"bob\", realm=\"atlanta.example.com\", "
	"nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", "
	"uri=\"sips:ss2.biloxi.example.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
	"response=\"dfe56131d1958046689d83306477ecc0\", algorithm=MD5\r\n"
	"User-Agent: Example/1.0\r\n"
	"Expires: 3600\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* RFC 3665 §3.1 F1 */
static const char invite_msg[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
	"Max-Forwards: 70\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 151\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.101\r\n"
	"t=0 0\r\n"
	"m=audio 49172 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

/* RFC 3665 §2.1 F2 */
static const char unauthorized_msg[] =
	"SIP/2.0 401 Unauthorized\r\n"
	"Via: SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7\r\n"
	" ;received=192.0.2.201\r\n"
	"From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl\r\n"
	"To: Bob <sips:bob@biloxi.example.com>;tag=1410948204\r\n"
	"Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com\r\n"
	"CSeq: 1 REGISTER\r\n"
	"WWW-Authenticate: Digest realm=\"atlanta.example.com\", qop=\"auth\",\r\n"
	" nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\",\r\n"
	" opaque=\"\", stale=FALSE, algorithm=MD5\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static volatile uintptr_t sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The fields a registrar needs; returns a value that depends on all of
 * them, so that nothing is optimised away. Aborts on a parse failure: the
 * benchmark measures the success path. */
static uintptr_t registrar_fields(const struct sw_msg *m)
{
	struct sw_via v;
	struct sw_addr from, to, c;
	struct sw_cseq cs;
	struct sw_auth a;
	sw_str cid;
	uint32_t expires = 0;
	uintptr_t acc = 0;
	if (sw_msg_top_via(m, &v, NULL) || sw_msg_from(m, &from, NULL) || sw_msg_to(m, &to, NULL) ||
	    sw_msg_call_id(m, &cid, NULL) || sw_msg_cseq(m, &cs, NULL))
		abort();
	acc += v.branch.len + from.tag.len + to.tag.len + cid.len + cs.num;
	struct sw_hdr_iter it;
	sw_str el;
	sw_hdr_iter_init(&it, m, SW_HDR_CONTACT);
	while (sw_hdr_iter_next(&it, &el, NULL)) {
		if (sw_addr_parse(&c, el, true, NULL))
			abort();
		acc += c.uri.host.len + c.expires;
	}
	if (sw_msg_hdr(m, SW_HDR_EXPIRES) && sw_msg_expires(m, &expires, NULL))
		abort();
	acc += expires;
	const struct sw_hdr *h = sw_msg_hdr(m, m->is_request ? SW_HDR_AUTHORIZATION : SW_HDR_WWW_AUTHENTICATE);
	if (h) {
		if (sw_auth_parse(&a, h->value, NULL))
			abort();
		acc += a.nonce.len + a.response.len + a.realm.len;
	}
	return acc;
}

struct result {
	double per_sec, ns;
};

static struct result run(const char *msg, size_t len, bool fields, double seconds)
{
	static struct sw_msg m;
	uint64_t n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 4096; i++) {
			if (sw_msg_parse(&m, msg, len, NULL, NULL))
				abort();
			sink += fields ? registrar_fields(&m) : m.nhdrs;
		}
		n += 4096;
		t = now() - t0;
	} while (t < seconds);
	return (struct result){ (double)n / t, t * 1e9 / (double)n };
}

int main(void)
{
	double seconds = 2.0;
	const char *env = getenv("SW_BENCH_SECONDS");
	if (env && atof(env) > 0)
		seconds = atof(env);
	static const struct {
		const char *name;
		const char *msg;
		size_t len;
	} cases[] = {
		{ "REGISTER + Authorization", register_msg, sizeof(register_msg) - 1 },
		{ "INVITE + SDP", invite_msg, sizeof(invite_msg) - 1 },
		{ "401 + WWW-Authenticate", unauthorized_msg, sizeof(unauthorized_msg) - 1 },
	};
	printf("parser benchmark, %.1f s per measurement, one thread\n", seconds);
	printf("%-26s %6s %14s %9s %14s %9s\n", "message", "bytes", "split msg/s", "ns/msg",
	       "registrar msg/s", "ns/msg");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* the message is valid: the benchmark measures real work */
		struct sw_msg m;
		if (sw_msg_parse(&m, cases[i].msg, cases[i].len, NULL, NULL) || sw_msg_check(&m, NULL) ||
		    m.len != cases[i].len) {
			fprintf(stderr, "bench_parse: test message '%s' is not valid\n", cases[i].name);
			return 1;
		}
		struct result s = run(cases[i].msg, cases[i].len, false, seconds);
		struct result r = run(cases[i].msg, cases[i].len, true, seconds);
		printf("%-26s %6zu %14.0f %9.1f %14.0f %9.1f\n", cases[i].name, cases[i].len, s.per_sec, s.ns,
		       r.per_sec, r.ns);
	}
	return 0;
}
