/* Capture analysis benchmark: writes a pcap of SIP registrations (mostly
 * REGISTER -> 401 -> REGISTER with credentials -> 200; some failures: a
 * wrong password answered 403, a challenge never answered, 423 Interval Too
 * Brief) and runs the analyzer over it (lib/trace, as `sipwarden analyze
 * does by default: the text report, written to nowhere). Prints MB/s, flows/s,
 * messages/s (wall clock), the CPU time of the analysis (MB per CPU second:
 * less sensitive than the wall clock to other work on the machine), the verdicts and
 * the peak RSS of the process.
 *
 *   bench_analyze                       generate 1024 MB in $TMPDIR (/tmp), analyze, delete
 *   bench_analyze --size MB [--keep]    another size; --keep leaves the file
 *   bench_analyze --generate FILE [--size MB]   only write the capture
 *   bench_analyze FILE                  only analyze FILE
 *
 * Pin it for stable figures: taskset -c 1 build/release/bench/bench_analyze
 * Exit status 0 unless the verdicts are not the ones generated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include "sipwarden/trace.h"

/* ---- the generator ---------------------------------------------------------- */

struct gen {
	FILE *f;
	uint64_t ts_us, bytes;
	uint16_t ipid;
	unsigned flows, msgs;
	unsigned want[SW_CAUSE__COUNT];
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One Ethernet/IPv4/UDP frame carrying a SIP message. */
static void frame(struct gen *g, uint32_t src, uint32_t dst, const char *sip, size_t n)
{
	uint8_t hdr[16 + 14 + 20 + 8];
	size_t ip_len = 20 + 8 + n, cap = 14 + ip_len;
	g->ts_us += 150;
	put32(hdr, (uint32_t)(g->ts_us / 1000000u));
	put32(hdr + 4, (uint32_t)(g->ts_us % 1000000u));
	put32(hdr + 8, (uint32_t)cap);
	put32(hdr + 12, (uint32_t)cap);
	uint8_t *e = hdr + 16;
	memcpy(e, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	uint8_t *ip = e + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	g->ipid++;
	ip[4] = (uint8_t)(g->ipid >> 8);
	ip[5] = (uint8_t)g->ipid;
	ip[8] = 64;
	ip[9] = 17;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *u = ip + 20;
	u[0] = 0x13, u[1] = 0xc4, u[2] = 0x13, u[3] = 0xc4; /* 5060 -> 5060 */
	u[4] = (uint8_t)((8 + n) >> 8);
	u[5] = (uint8_t)(8 + n);
	u[6] = u[7] = 0;
	fwrite(hdr, 1, sizeof(hdr), g->f);
	fwrite(sip, 1, n, g->f);
	g->bytes += sizeof(hdr) + n;
	g->msgs++;
}

static const char SERVER_IP[] = "10.0.0.1";

static int reg(char *b, size_t cap, unsigned user, const char *cip, unsigned flow, unsigned step,
	       unsigned expires, const char *auth)
{
	return snprintf(b, cap,
			"REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%08x%02u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:u%06u@example.com>;tag=%08x\r\n"
			"To: <sip:u%06u@example.com>\r\n"
			"Call-ID: %08x-%06u@%s\r\n"
			"CSeq: %u REGISTER\r\n"
			"Contact: <sip:u%06u@%s:5060;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-%012x>\"\r\n"
			"%s"
			"User-Agent: sipwarden-bench/1.0\r\n"
			"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, MESSAGE\r\n"
			"Expires: %u\r\n"
			"Content-Length: 0\r\n\r\n",
			cip, flow, step, user, flow, user, flow, user, cip, step + 1, user, cip, user, auth,
			expires);
}

static int resp(char *b, size_t cap, const char *status, unsigned user, const char *cip,
		unsigned flow, unsigned step, const char *extra)
{
	return snprintf(b, cap,
			"SIP/2.0 %s\r\n"
			"Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%08x%02u;rport=5060;received=%s\r\n"
			"From: <sip:u%06u@example.com>;tag=%08x\r\n"
			"To: <sip:u%06u@example.com>;tag=srv%08x\r\n"
			"Call-ID: %08x-%06u@%s\r\n"
			"CSeq: %u REGISTER\r\n"
			"%s"
			"Server: sipwarden-bench\r\n"
			"Content-Length: 0\r\n\r\n",
			status, cip, flow, step, cip, user, flow, user, flow, flow, user, cip, step + 1, extra);
}

/* One registration flow of the given kind. */
static void flow(struct gen *g, unsigned n)
{
	char b[2048], auth[600], extra[400];
	unsigned user = n % 50000, kind = n % 100;
	uint32_t cli = 0x0a010000u + (n % 60000) + 2, srv = 0x0a000001u;
	char cip[32];
	snprintf(cip, sizeof(cip), "10.%u.%u.%u", (cli >> 16) & 255, (cli >> 8) & 255, cli & 255);
	unsigned expires = kind >= 97 ? 30 : 3600;
	int k = reg(b, sizeof(b), user, cip, n, 0, expires, "");
	frame(g, cli, srv, b, (size_t)k);
	if (kind >= 97) { /* 423, the client gives up */
		k = resp(b, sizeof(b), "423 Interval Too Brief", user, cip, n, 0, "Min-Expires: 60\r\n");
		frame(g, srv, cli, b, (size_t)k);
		g->want[SW_CAUSE_EXPIRES_TOO_BRIEF]++;
		return;
	}
	snprintf(extra, sizeof(extra),
		 "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"%08x%08x%016x\", opaque=\"5ccc069c403ebaf9\", algorithm=MD5, qop=\"auth\"\r\n",
		 n, n * 2654435761u, n);
	k = resp(b, sizeof(b), "401 Unauthorized", user, cip, n, 0, extra);
	frame(g, srv, cli, b, (size_t)k);
	if (kind >= 96) { /* never answered */
		g->want[SW_CAUSE_CHALLENGE_NOT_ANSWERED]++;
		return;
	}
	snprintf(auth, sizeof(auth),
		 "Authorization: Digest username=\"u%06u\", realm=\"example.com\", nonce=\"%08x%08x%016x\", uri=\"sip:example.com\", "
		 "response=\"%08x%08x%08x%08x\", algorithm=MD5, cnonce=\"%08x\", opaque=\"5ccc069c403ebaf9\", qop=auth, nc=00000001\r\n",
		 user, n, n * 2654435761u, n, n, n ^ 0x5a5a5a5au, n * 7u, n * 13u, n * 31u);
	k = reg(b, sizeof(b), user, cip, n, 1, expires, auth);
	frame(g, cli, srv, b, (size_t)k);
	if (kind >= 94) { /* wrong password */
		k = resp(b, sizeof(b), "403 Forbidden", user, cip, n, 1, "");
		g->want[SW_CAUSE_CREDENTIALS_REJECTED]++;
	} else {
		snprintf(extra, sizeof(extra), "Contact: <sip:u%06u@%s:5060;transport=udp>;expires=3600\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n", user, cip);
		k = resp(b, sizeof(b), "200 OK", user, cip, n, 1, extra);
		g->want[SW_CAUSE_OK]++;
	}
	frame(g, srv, cli, b, (size_t)k);
}

static int generate(const char *path, uint64_t bytes, struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->f = fopen(path, "wb");
	if (!g->f) {
		perror(path);
		return 1;
	}
	setvbuf(g->f, NULL, _IOFBF, 1u << 20);
	uint8_t gh[24];
	put32(gh, 0xa1b2c3d4u);
	put16(gh + 4, 2);
	put16(gh + 6, 4);
	put32(gh + 8, 0);
	put32(gh + 12, 0);
	put32(gh + 16, 65535);
	put32(gh + 20, 1);
	fwrite(gh, 1, sizeof(gh), g->f);
	g->bytes = sizeof(gh);
	g->ts_us = 1704067200ull * 1000000u;
	while (g->bytes < bytes)
		flow(g, g->flows++);
	if (fclose(g->f)) {
		perror(path);
		return 1;
	}
	(void)SERVER_IP;
	return 0;
}

/* ---- the analysis ----------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process (user + system): what the analysis costs even when
 * other work on the machine delays it. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nowhere(void *arg, const char *p, size_t n)
{
	(void)p;
	*(uint64_t *)arg += n;
}

static int analyze(const char *path, const struct gen *g)
{
	struct sw_trace_opts o;
	memset(&o, 0, sizeof(o));
	struct sw_trace *t;
	if (sw_trace_new(&t, &o))
		return 1;
	char why[256] = "";
	double c0 = cpu_s(), t0 = now_s();
	int rc = sw_trace_read_file(t, path, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "%s: %s\n", path, why);
		sw_trace_free(t);
		return 1;
	}
	double t1 = now_s();
	sw_trace_analyze(t);
	uint64_t out = 0;
	sw_trace_report_text(t, false, nowhere, &out);
	double t2 = now_s(), c2 = cpu_s();
	const struct sw_trace_stats *s = sw_trace_stats(t);
	double secs = t2 - t0, mb = (double)s->bytes / 1e6;
	unsigned counts[SW_CAUSE__COUNT] = { 0 };
	for (size_t i = 0; i < sw_trace_flow_count(t); i++)
		counts[sw_trace_flow_get(t, i)->cause]++;
	for (size_t i = 0; i < sw_trace_sum_count(t); i++)
		counts[sw_trace_sum_get(t, i)->cause]++;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("capture:   %s, %.1f MB, %llu frames, %llu SIP messages\n", path, mb,
	       (unsigned long long)s->frames, (unsigned long long)s->sip_msgs);
	printf("time:      %.2f s (read + correlate %.2f s, judge the rest + text report %.2f s, %.1f MB of report)\n",
	       secs, t1 - t0, t2 - t1, (double)out / 1e6);
	printf("speed:     %.1f MB/s, %.0f flows/s, %.0f messages/s\n", mb / secs, (double)s->flows / secs,
	       (double)s->sip_msgs / secs);
	printf("cpu:       %.2f s (user + system), %.1f MB per CPU second\n", c2 - c0, mb / (c2 - c0));
	printf("flows:     %llu (failed %llu, summarised %llu, kept %zu, most open at once %llu)\n",
	       (unsigned long long)s->flows, (unsigned long long)s->failures,
	       (unsigned long long)s->summarised, sw_trace_flow_count(t),
	       (unsigned long long)s->peak_open);
	printf("verdicts: ");
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		if (counts[c])
			printf(" %s=%u", sw_cause_id((enum sw_cause)c), counts[c]);
	printf("\npeak RSS:  %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
	int bad = 0;
	if (g)
		for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
			if (counts[c] != g->want[c]) {
				fprintf(stderr, "bench_analyze: %s: %u flows, %u generated\n",
					sw_cause_id((enum sw_cause)c), counts[c], g->want[c]);
				bad = 1;
			}
	sw_trace_free(t);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t size_mb = 1024;
	const char *gen_only = NULL, *file = NULL;
	bool keep = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size_mb = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--generate") && i + 1 < argc)
			gen_only = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = true;
		else if (argv[i][0] != '-')
			file = argv[i];
		else {
			fprintf(stderr, "usage: bench_analyze [--size MB] [--keep] | --generate FILE [--size MB] | FILE\n");
			return 2;
		}
	}
	struct gen g;
	if (gen_only) {
		if (generate(gen_only, size_mb << 20, &g))
			return 1;
		printf("wrote %s: %.1f MB, %u flows, %u messages\n", gen_only, (double)g.bytes / 1e6, g.flows, g.msgs);
		return 0;
	}
	if (file)
		return analyze(file, NULL);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512];
	snprintf(path, sizeof(path), "%s/sipwarden-bench-%d.pcap", tmp, (int)getpid());
	double t0 = now_s();
	if (generate(path, size_mb << 20, &g)) {
		unlink(path);
		return 1;
	}
	printf("generated: %.1f MB, %u flows, %u messages in %.1f s\n", (double)g.bytes / 1e6, g.flows,
	       g.msgs, now_s() - t0);
	int rc = analyze(path, &g);
	if (!keep)
		unlink(path);
	else
		printf("kept:      %s\n", path);
	return rc;
}
