/* sipwarden analyze --hep / --live: receives HEPv3 on a UDP socket, or
 * captures on an interface with libpcap, and judges each flow as it ends,
 * printing one line (one JSON object with --json) per failed flow as soon
 * as it is judged. Stops on SIGINT/SIGTERM or after the duration; the
 * caller prints the summary. */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sipwarden/buf.h"
#include "analyze_live.h"

#define LIVE_DELAY_US 1000000u /* a message waits this long for earlier ones to arrive (HEP
				       * packets of one server may come out of order) */

static atomic_int stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void json_str(const char *s)
{
	char mem[1024];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_buf_add_json_str(&b, s, strlen(s));
	fwrite(b.p, 1, b.len, stdout);
}

/* One line for a failed flow. */
static void print_flow(const struct sw_trace_flow *f, bool json)
{
	const char *cause = sw_cause_id(f->cause), *cert = sw_trace_certainty_name(f->certainty);
	if (!json) {
		printf("%s %s %s -> %s: %s (%s%s): %s\n", f->method, f->aor[0] ? f->aor : "-",
		       f->client[0] ? f->client : "?", f->server[0] ? f->server : "?", cause, cert,
		       f->proved ? ", with the credentials" : "", f->detail);
	} else {
		printf("{\"method\":");
		json_str(f->method);
		printf(",\"aor\":");
		json_str(f->aor);
		printf(",\"client\":");
		json_str(f->client);
		printf(",\"server\":");
		json_str(f->server);
		printf(",\"call_id\":");
		json_str(f->call_id);
		printf(",\"final_status\":%u,\"verdict\":{\"cause\":\"%s\",\"certainty\":\"%s\",\"detail\":",
		       f->final_status, cause, cert);
		json_str(f->detail);
		printf("}}\n");
	}
	fflush(stdout);
}

/* One source of live messages: a HEP socket or a pcap handle. */
struct source {
	int fd;
	const char *key;       /* HEP */
	pcap_t *pc;            /* --live */
	int dlt;
	unsigned input;
	struct sw_trace *t;
	struct analyze_live_counts *c;
};

static void hep_batch(struct source *s)
{
	static char pkt[65536];
	for (int k = 0; k < 256; k++) { /* a bounded batch per wake-up */
		ssize_t n = recv(s->fd, pkt, sizeof(pkt), 0);
		if (n < 0)
			break;
		s->c->packets++;
		struct sw_hep h;
		int e = sw_hep_parse(pkt, (size_t)n, s->key, &h);
		if (e == SW_EINVAL) {
			s->c->bad_key++;
			continue;
		}
		if (e || (h.payload_type && h.payload_type != 1)) {
			s->c->malformed += e != 0;
			s->c->not_sip += e == 0;
			continue;
		}
		struct sw_trace_meta m;
		memset(&m, 0, sizeof(m));
		m.input = s->input;
		m.frame = (unsigned)s->c->packets;
		m.ts_us = h.ts_us ? h.ts_us : now_us();
		snprintf(m.src, sizeof(m.src), "%s", h.src);
		snprintf(m.dst, sizeof(m.dst), "%s", h.dst);
		m.tp = h.tp;
		m.nfrags = 1;
		sw_trace_add_sip(s->t, &m, h.payload, h.len);
	}
}

static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct source *s = (struct source *)arg;
	s->c->packets++;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	sw_trace_add_frame(s->t, s->input, (unsigned)s->c->packets, ts, s->dlt, data, h->caplen, h->len);
}

static void print_new(struct sw_trace *t, size_t *printed, bool json)
{
	for (; *printed < sw_trace_flow_count(t); (*printed)++) {
		const struct sw_trace_flow *f = sw_trace_flow_get(t, *printed);
		if (f->failed)
			print_flow(f, json);
	}
}

static void write_file(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, (FILE *)arg);
}

/* The HTML report of what was judged so far, replacing path at once (a
 * browser never reads half a page). */
static void html_now(const struct sw_trace *t, const char *path)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "sipwarden analyze: %s: %s\n", tmp, strerror(errno));
		return;
	}
	sw_trace_report_html(t, write_file, f);
	if (fclose(f) == 0 && rename(tmp, path) == 0)
		return;
	fprintf(stderr, "sipwarden analyze: %s: %s\n", path, strerror(errno));
	unlink(tmp);
}

/* The loop both sources share. */
static void run(struct source *s, const struct analyze_live_opts *lo)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	uint64_t end = lo->duration > 0 ? mono_ms() + (uint64_t)(lo->duration * 1000.0) : 0;
	uint64_t every = lo->html && lo->html_every > 0 ? (uint64_t)(lo->html_every * 1000.0) : 0;
	uint64_t next_html = every ? mono_ms() + every : 0;
	bool json = lo->json;
	size_t printed = 0;
	while (!atomic_load(&stop_flag) && (!end || mono_ms() < end)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		int pr = poll(&pfd, 1, 200);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0 && s->pc)
			pcap_dispatch(s->pc, 256, on_frame, (u_char *)s);
		else if (pr > 0)
			hep_batch(s);
		sw_trace_flush(s->t, now_us(), LIVE_DELAY_US);
		print_new(s->t, &printed, json);
		/* days of running: the flows printed and past the newest ones
		 * kept for the reports are forgotten, their counts kept */
		printed -= sw_trace_forget(s->t, lo->keep, lo->keep);
		if (every && mono_ms() >= next_html) {
			html_now(s->t, lo->html);
			next_html = mono_ms() + every;
		}
	}
	/* the flows still open are judged now, and printed */
	sw_trace_flush(s->t, UINT64_MAX, 0);
	print_new(s->t, &printed, json);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

int analyze_hep(struct sw_trace *t, const struct sw_listen *l, const char *name, const char *key,
		const struct analyze_live_opts *lo, struct analyze_live_counts *c)
{
	struct source s = { .key = key, .t = t, .c = c };
	if (sw_udp_open(l, false, &s.fd)) {
		fprintf(stderr, "sipwarden analyze: --hep %s: cannot bind: %s\n", name, strerror(errno));
		return -1;
	}
	s.input = sw_trace_add_input(t, name);
	fprintf(stderr, "sipwarden analyze: receiving HEPv3 on %s\n", name);
	run(&s, lo);
	close(s.fd);
	return 0;
}

int analyze_pcap_live(struct sw_trace *t, const char *iface, const char *filter,
		      const struct analyze_live_opts *lo, struct analyze_live_counts *c)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct source s = { .t = t, .c = c };
	struct bpf_program prog;
	s.pc = pcap_create(iface, err);
	if (!s.pc) {
		fprintf(stderr, "sipwarden analyze: --live %s: %s\n", iface, err);
		return -1;
	}
	/* immediate mode: each packet as it comes, not when a buffer fills */
	if (pcap_set_snaplen(s.pc, 65535) || pcap_set_immediate_mode(s.pc, 1) || pcap_set_timeout(s.pc, 100) ||
	    pcap_activate(s.pc) < 0 || pcap_compile(s.pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) ||
	    pcap_setfilter(s.pc, &prog) || pcap_setnonblock(s.pc, 1, err) || (s.fd = pcap_get_selectable_fd(s.pc)) < 0) {
		fprintf(stderr, "sipwarden analyze: --live %s (filter \"%s\"): %s\n", iface, filter, pcap_geterr(s.pc));
		pcap_close(s.pc);
		return -1;
	}
	pcap_freecode(&prog);
	s.dlt = pcap_datalink(s.pc);
	char name[128];
	snprintf(name, sizeof(name), "live:%s", iface);
	s.input = sw_trace_add_input(t, name);
	fprintf(stderr, "sipwarden analyze: capturing on %s (filter \"%s\")\n", iface, filter);
	run(&s, lo);
	struct pcap_stat ps;
	if (pcap_stats(s.pc, &ps) == 0)
		c->dropped = ps.ps_drop;
	pcap_close(s.pc);
	return 0;
}

void analyze_live_summary(const struct sw_trace *t, const struct analyze_live_counts *c)
{
	struct sw_trace_summary sm;
	sw_trace_summary(t, &sm);
	printf("{\"summary\":{\"auth_flows\":%llu,\"failed\":%llu,\"by_cause\":{",
	       (unsigned long long)(sm.ok + sm.failed), (unsigned long long)sm.failed);
	bool first = true;
	for (unsigned k = 0; k < SW_CAUSE__COUNT; k++)
		if (sm.by_cause[k]) {
			printf("%s\"%s\":%llu", first ? "" : ",", sw_cause_id((enum sw_cause)k),
			       (unsigned long long)sm.by_cause[k]);
			first = false;
		}
	printf("}},\"input\":{\"packets\":%llu,\"malformed\":%llu,\"bad_key\":%llu,\"not_sip\":%llu,\"dropped\":%llu}}\n",
	       (unsigned long long)c->packets, (unsigned long long)c->malformed,
	       (unsigned long long)c->bad_key, (unsigned long long)c->not_sip, (unsigned long long)c->dropped);
}
