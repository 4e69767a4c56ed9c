/* Reports of an analysis: text (summary, then the failures per AOR with
 * evidence, explanation and fix), JSON (every flow with its messages and
 * verdict) and one self-contained HTML page with SVG ladder diagrams. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "trace_int.h"

struct out {
	sw_trace_write_fn w;
	void *arg;
	struct sw_buf b;
	char mem[16384];
};

static void flush(struct out *o)
{
	if (o->b.len)
		o->w(o->arg, o->b.p, o->b.len);
	o->b.len = 0;
	o->b.overflow = false;
}

static void put(struct out *o, const char *p, size_t n)
{
	if (o->b.len + n > o->b.cap)
		flush(o);
	if (n > o->b.cap) {
		o->w(o->arg, p, n);
		return;
	}
	sw_buf_add(&o->b, p, n);
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void printf_(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct out *o, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void json_str(struct out *o, const char *p, size_t n)
{
	char tmp[2048];
	while (n) {
		/* escape in chunks; never split a UTF-8 sequence */
		size_t k = n < 300 ? n : 300;
		while (k < n && k > 1 && ((unsigned char)p[k] & 0xc0) == 0x80)
			k--;
		struct sw_buf b;
		sw_buf_init(&b, tmp, sizeof(tmp));
		sw_buf_add_json_str(&b, p, k);
		/* strip the quotes of each chunk: the caller writes them once */
		put(o, b.p + 1, b.len - 2);
		p += k;
		n -= k;
	}
}

static void jstr(struct out *o, const char *s)
{
	puts_(o, "\"");
	json_str(o, s, strlen(s));
	puts_(o, "\"");
}

static void fmt_time(uint64_t us, char *out, size_t cap)
{
	if (!us) {
		snprintf(out, cap, "-");
		return;
	}
	time_t s = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	char d[32];
	strftime(d, sizeof(d), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, cap, "%s.%06u", d, (unsigned)(us % 1000000u));
}

static void first_line(const struct sw_trace_msg *tm, char *out, size_t cap)
{
	size_t n = 0;
	while (n < tm->len && tm->data[n] && tm->data[n] != '\r' && tm->data[n] != '\n')
		n++;
	snprintf(out, cap, "%.*s", (int)n, tm->data);
}

/* The header lines that tell the auth story of a message. */
static void auth_lines(struct out *o, const struct sw_trace_msg *tm, const char *indent)
{
	if (!tm->m)
		return;
	static const enum sw_hdr_id ids[] = { SW_HDR_AUTHORIZATION, SW_HDR_PROXY_AUTHORIZATION,
					      SW_HDR_WWW_AUTHENTICATE, SW_HDR_PROXY_AUTHENTICATE,
					      SW_HDR_MIN_EXPIRES };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (const struct sw_hdr *h = sw_msg_hdr(tm->m, ids[i]); h; h = sw_msg_hdr_next(tm->m, h))
			printf_(o, "%s%s: %.*s\n", indent, sw_hdr_name(ids[i]), (int)(h->value.len > 400 ? 400 : h->value.len),
				h->value.p);
}

static void summary_counts(const struct sw_trace *t, unsigned counts[SW_CAUSE__COUNT], unsigned *ok,
			   unsigned *failed, unsigned *other)
{
	struct sw_trace_summary sm;
	sw_trace_summary(t, &sm);
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		counts[c] = (unsigned)sm.by_cause[c];
	*ok = (unsigned)sm.ok;
	*failed = (unsigned)sm.failed;
	*other = (unsigned)sm.other;
}

/* ---- text ------------------------------------------------------------------ */

static void text_flow(struct out *o, const struct sw_trace *t, const struct sw_trace_flow *f)
{
	const struct sw_cause_info *ci = sw_cause_get(f->cause);
	char tbuf[40], fl[200];
	printf_(o, "\n  flow %u: %s %s, %s -> %s, Call-ID %s\n", f->id, f->method, f->aor[0] ? f->aor : "-",
		f->client[0] ? f->client : "?", f->server[0] ? f->server : "?", f->call_id);
	printf_(o, "    verdict: %s%s (%s, %s)\n", ci->id, f->proved ? " [proved with credentials]" : "",
		sw_severity_name(ci->severity), sw_trace_certainty_name(f->certainty));
	if (f->detail[0])
		printf_(o, "    what happened: %s\n", f->detail);
	for (unsigned e = 0; e < f->nev; e++)
		if (f->ev[e].finding != SW_CAUSE_OK)
			printf_(o, "    finding: %s: %s\n", sw_cause_id(f->ev[e].finding), f->ev[e].note);
	printf_(o, "    explanation: %s\n", ci->explain);
	if (f->failed)
		printf_(o, "    fix: %s: %s\n", sw_fix_class_title(ci->fix_class), ci->fix);
	puts_(o, "    messages:\n");
	for (unsigned i = 0; i < f->nmsgs; i++) {
		const struct sw_trace_msg *tm = &t->msgs[f->msgs[i]];
		fmt_time(tm->meta.ts_us, tbuf, sizeof(tbuf));
		first_line(tm, fl, sizeof(fl));
		printf_(o, "    %s %s#%u %s %s -> %s %s: %s\n", f->msgs[i] == f->fail_msg ? "=>" : "  ",
			t->ninputs > 1 ? sw_trace_input_name(t, tm->meta.input) : "", tm->meta.frame, tbuf,
			tm->meta.src[0] ? tm->meta.src : "?", tm->meta.dst[0] ? tm->meta.dst : "?",
			sw_transport_name(tm->meta.tp), fl);
		for (unsigned e = 0; e < f->nev; e++)
			if (f->ev[e].msg == f->msgs[i] && f->ev[e].note[0])
				printf_(o, "           ^ %s\n", f->ev[e].note);
		if (f->failed)
			auth_lines(o, tm, "             ");
	}
	for (unsigned e = 0; e < f->nev; e++)
		if (f->ev[e].msg == UINT32_MAX)
			printf_(o, "    also %s#%u: %s\n", t->ninputs > 1 ? sw_trace_input_name(t, f->ev[e].input) : "",
				f->ev[e].frame, f->ev[e].note);
	if (f->light)
		puts_(o, "    (only the first lines of these messages were kept)\n");
}

void sw_trace_report_text(const struct sw_trace *t, bool verbose, sw_trace_write_fn w, void *arg)
{
	struct out *o = malloc(sizeof(*o));
	if (!o)
		return;
	o->w = w;
	o->arg = arg;
	sw_buf_init(&o->b, o->mem, sizeof(o->mem));
	unsigned counts[SW_CAUSE__COUNT], ok, failed, other;
	summary_counts(t, counts, &ok, &failed, &other);
	const struct sw_trace_stats *s = &t->st;
	puts_(o, "summary\n");
	printf_(o, "  inputs: %u, frames: %llu, SIP messages: %llu", t->ninputs,
		(unsigned long long)s->frames, (unsigned long long)s->sip_msgs);
	if (s->parse_errors)
		printf_(o, " (%llu did not parse)", (unsigned long long)s->parse_errors);
	puts_(o, "\n");
	if (s->skipped || s->truncated || s->reassembled || s->tcp_segments || s->tunnels)
		printf_(o, "  skipped: %llu undecodable, %llu cut by the snap length; %llu IP datagrams reassembled, %llu tunnelled; %llu TCP segments (%llu retransmitted, %llu out of order, %llu holes)\n",
			(unsigned long long)s->skipped, (unsigned long long)s->truncated,
			(unsigned long long)s->reassembled, (unsigned long long)s->tunnels,
			(unsigned long long)s->tcp_segments, (unsigned long long)s->tcp_retrans,
			(unsigned long long)s->tcp_ooo, (unsigned long long)s->tcp_gaps);
	printf_(o, "  auth flows: %u, succeeded: %u, failed: %u; other transactions: %u\n", ok + failed, ok,
		failed, other);
	if (s->summarised)
		printf_(o, "  (%llu successful flows summarised without their messages to bound memory)\n",
			(unsigned long long)s->summarised);
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		if (counts[c])
			printf_(o, "    %-28s %u\n", sw_cause_id((enum sw_cause)c), counts[c]);
	/* failures grouped by AOR, in order of first appearance: each failing
	 * flow is chained to the next failing flow of its AOR */
	size_t *next = malloc((t->nflows ? t->nflows : 1) * sizeof(*next));
	bool *head = calloc(t->nflows ? t->nflows : 1, sizeof(*head));
	struct sw__hmap last = { 0 }; /* AOR -> its last failing flow so far */
	for (size_t i = 0; next && head && i < t->nflows; i++) {
		next[i] = SIZE_MAX;
		if (!t->flows[i].failed)
			continue;
		bool created = true;
		struct sw__hent *e = sw__hmap_put(&last, t->flows[i].aor, strlen(t->flows[i].aor), &created);
		if (created || !e)
			head[i] = true;
		else
			next[e->u] = i;
		if (e)
			e->u = i;
	}
	sw__hmap_free(&last);
	if (failed)
		puts_(o, "\nfailures\n");
	for (size_t i = 0; next && head && i < t->nflows; i++) {
		if (!head[i])
			continue;
		printf_(o, "\n%s\n", t->flows[i].aor[0] ? t->flows[i].aor : "(no AOR)");
		for (size_t j = i; j != SIZE_MAX; j = next[j])
			text_flow(o, t, &t->flows[j]);
	}
	/* successes with a hitch: listed even when not verbose */
	bool any = false;
	for (size_t i = 0; !verbose && i < t->nflows; i++) {
		const struct sw_trace_flow *f = &t->flows[i];
		for (unsigned e = 0; !f->failed && e < f->nev; e++)
			if (f->ev[e].finding != SW_CAUSE_OK) {
				if (!any)
					puts_(o, "\nsuccesses with findings\n");
				any = true;
				printf_(o, "  flow %u: %s %s: ok; %s: %s\n", f->id, f->method, f->aor[0] ? f->aor : "-",
					sw_cause_id(f->ev[e].finding), f->ev[e].note);
			}
	}
	if (verbose) {
		puts_(o, "\nsuccesses\n");
		for (size_t i = 0; i < t->nflows; i++)
			if (t->flows[i].auth && !t->flows[i].failed)
				text_flow(o, t, &t->flows[i]);
		for (size_t i = 0; i < t->nsums; i++) {
			const struct sw_trace_flow_sum *sm = &t->sums[i].s;
			if (sm->auth)
				printf_(o, "\n  flow %u: %s %s, first message #%u, %u messages (summarised, not kept)\n    verdict: %s%s\n",
					sm->id, sm->method, sm->aor[0] ? sm->aor : "-", sm->first_frame, sm->nmsgs,
					sw_cause_id(sm->cause), sm->proved ? " [proved with credentials]" : "");
		}
	}
	free(next);
	free(head);
	flush(o);
	free(o);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_msg(struct out *o, const struct sw_trace *t, unsigned idx)
{
	const struct sw_trace_msg *tm = &t->msgs[idx];
	char tb[40], fl[512];
	fmt_time(tm->meta.ts_us, tb, sizeof(tb));
	first_line(tm, fl, sizeof(fl));
	printf_(o, "{\"index\":%u,\"input\":", idx);
	jstr(o, sw_trace_input_name(t, tm->meta.input));
	printf_(o, ",\"frame\":%u,\"time\":", tm->meta.frame);
	jstr(o, tb);
	printf_(o, ",\"ts_us\":%llu,\"src\":", (unsigned long long)tm->meta.ts_us);
	jstr(o, tm->meta.src);
	puts_(o, ",\"dst\":");
	jstr(o, tm->meta.dst);
	printf_(o, ",\"transport\":\"%s\",\"fragments\":%u,\"bytes\":%zu,\"first_line\":",
		sw_transport_name(tm->meta.tp), tm->meta.nfrags, tm->len);
	jstr(o, fl);
	puts_(o, "}");
}

void sw_trace_report_json(const struct sw_trace *t, sw_trace_write_fn w, void *arg)
{
	struct out *o = malloc(sizeof(*o));
	if (!o)
		return;
	o->w = w;
	o->arg = arg;
	sw_buf_init(&o->b, o->mem, sizeof(o->mem));
	unsigned counts[SW_CAUSE__COUNT], ok, failed, other;
	summary_counts(t, counts, &ok, &failed, &other);
	const struct sw_trace_stats *s = &t->st;
	puts_(o, "{\"inputs\":[");
	for (unsigned i = 0; i < t->ninputs; i++) {
		if (i)
			puts_(o, ",");
		jstr(o, sw_trace_input_name(t, i));
	}
	printf_(o, "],\"stats\":{\"frames\":%llu,\"sip_messages\":%llu,\"parse_errors\":%llu,\"skipped\":%llu,"
		   "\"truncated\":%llu,\"ip_fragments\":%llu,\"reassembled\":%llu,\"tunnelled\":%llu,"
		   "\"tcp_segments\":%llu,\"tcp_retransmitted\":%llu,\"tcp_out_of_order\":%llu,\"tcp_holes\":%llu},",
		(unsigned long long)s->frames, (unsigned long long)s->sip_msgs,
		(unsigned long long)s->parse_errors, (unsigned long long)s->skipped,
		(unsigned long long)s->truncated, (unsigned long long)s->fragments,
		(unsigned long long)s->reassembled, (unsigned long long)s->tunnels,
		(unsigned long long)s->tcp_segments, (unsigned long long)s->tcp_retrans,
		(unsigned long long)s->tcp_ooo, (unsigned long long)s->tcp_gaps);
	printf_(o, "\"summary\":{\"auth_flows\":%u,\"succeeded\":%u,\"failed\":%u,\"other\":%u,\"by_cause\":{",
		ok + failed, ok, failed, other);
	bool first = true;
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		if (counts[c]) {
			printf_(o, "%s\"%s\":%u", first ? "" : ",", sw_cause_id((enum sw_cause)c), counts[c]);
			first = false;
		}
	printf_(o, "},\"summarised\":%llu},\"flows\":[", (unsigned long long)s->summarised);
	size_t i = 0, j = 0;
	while (i < t->nflows || j < t->nsums) {
		if (j < t->nsums && (i == t->nflows || t->sums[j].s.id < t->flows[i].id)) {
			const struct sw_trace_flow_sum *sm = &t->sums[j].s;
			printf_(o, "%s{\"id\":%u,\"method\":", i + j ? "," : "", sm->id);
			jstr(o, sm->method);
			puts_(o, ",\"aor\":");
			jstr(o, sm->aor);
			printf_(o, ",\"auth\":%s,\"failed\":false,\"proved\":%s,\"final_status\":%u,\"verdict\":{\"cause\":\"%s\",\"certainty\":\"%s\"},"
				   "\"summarised\":true,\"first_frame\":%u,\"message_count\":%u}",
				sm->auth ? "true" : "false", sm->proved ? "true" : "false", sm->final_status,
				sw_cause_id(sm->cause), sw_trace_certainty_name(sm->certainty), sm->first_frame, sm->nmsgs);
			j++;
			continue;
		}
		const struct sw_trace_flow *f = &t->flows[i];
		const struct sw_cause_info *ci = sw_cause_get(f->cause);
		printf_(o, "%s{\"id\":%u,\"method\":", i + j ? "," : "", f->id);
		i++;
		jstr(o, f->method);
		puts_(o, ",\"aor\":");
		jstr(o, f->aor);
		puts_(o, ",\"call_id\":");
		jstr(o, f->call_id);
		puts_(o, ",\"client\":");
		jstr(o, f->client);
		puts_(o, ",\"server\":");
		jstr(o, f->server);
		printf_(o, ",\"auth\":%s,\"failed\":%s,\"proved\":%s,\"final_status\":%u,\"verdict\":{\"cause\":\"%s\",\"severity\":\"%s\",\"certainty\":\"%s\",\"detail\":",
			f->auth ? "true" : "false", f->failed ? "true" : "false", f->proved ? "true" : "false",
			f->final_status, ci->id, sw_severity_name(ci->severity), sw_trace_certainty_name(f->certainty));
		jstr(o, f->detail);
		puts_(o, ",\"explanation\":");
		jstr(o, ci->explain);
		puts_(o, ",\"fix\":");
		if (f->failed)
			jstr(o, ci->fix);
		else
			puts_(o, "null");
		puts_(o, ",\"failing_message\":");
		if (f->fail_msg != UINT32_MAX)
			printf_(o, "%u", f->fail_msg);
		else
			puts_(o, "null");
		puts_(o, "},\"evidence\":[");
		for (unsigned e = 0; e < f->nev; e++) {
			if (f->ev[e].msg == UINT32_MAX)
				printf_(o, "%s{\"message\":null,\"frame\":%u,\"note\":", e ? "," : "", f->ev[e].frame);
			else
				printf_(o, "%s{\"message\":%u,\"frame\":%u,\"note\":", e ? "," : "", f->ev[e].msg,
					f->ev[e].frame);
			jstr(o, f->ev[e].note);
			puts_(o, "}");
		}
		puts_(o, "],\"findings\":[");
		bool firstf = true;
		for (unsigned e = 0; e < f->nev; e++) {
			const struct sw_cause_info *fi = sw_cause_get(f->ev[e].finding);
			if (f->ev[e].finding == SW_CAUSE_OK || !fi)
				continue;
			printf_(o, "%s{\"cause\":\"%s\",\"severity\":\"%s\",\"frame\":%u,\"detail\":", firstf ? "" : ",",
				fi->id, sw_severity_name(fi->severity), f->ev[e].frame);
			firstf = false;
			jstr(o, f->ev[e].note);
			puts_(o, ",\"explanation\":");
			jstr(o, fi->explain);
			puts_(o, ",\"fix\":");
			jstr(o, fi->fix);
			puts_(o, "}");
		}
		puts_(o, "],\"messages\":[");
		for (unsigned m = 0; m < f->nmsgs; m++) {
			if (m)
				puts_(o, ",");
			json_msg(o, t, f->msgs[m]);
		}
		puts_(o, "]}");
	}
	puts_(o, "]}\n");
	flush(o);
	free(o);
}

/* ---- HTML ------------------------------------------------------------------- */

static void html_esc(struct out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': puts_(o, "&lt;"); break;
		case '>': puts_(o, "&gt;"); break;
		case '&': puts_(o, "&amp;"); break;
		case '"': puts_(o, "&quot;"); break;
		default: put(o, s, 1);
		}
	}
}

/* A ladder: one column per address, one arrow per message. */
static void ladder(struct out *o, const struct sw_trace *t, const struct sw_trace_flow *f)
{
	const char *hosts[8];
	unsigned nh = 0;
	for (unsigned i = 0; i < f->nmsgs; i++) {
		const struct sw_trace_msg *tm = &t->msgs[f->msgs[i]];
		const char *ends[2] = { tm->meta.src, tm->meta.dst };
		for (int k = 0; k < 2; k++) {
			unsigned j = 0;
			while (j < nh && strcmp(hosts[j], ends[k]))
				j++;
			if (j == nh && nh < 8)
				hosts[nh++] = ends[k];
		}
	}
	unsigned colw = 260, w = nh * colw, h = 50 + f->nmsgs * 34 + 10;
	printf_(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\">\n",
		w, h, w, h);
	puts_(o, "<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n");
	for (unsigned j = 0; j < nh; j++) {
		unsigned x = j * colw + colw / 2;
		printf_(o, "<text x=\"%u\" y=\"20\" text-anchor=\"middle\" class=\"host\">", x);
		html_esc(o, hosts[j][0] ? hosts[j] : "?");
		printf_(o, "</text><line x1=\"%u\" y1=\"30\" x2=\"%u\" y2=\"%u\" stroke=\"#999\"/>\n", x, x, h - 5);
	}
	for (unsigned i = 0; i < f->nmsgs; i++) {
		const struct sw_trace_msg *tm = &t->msgs[f->msgs[i]];
		unsigned a = 0, b = 0;
		while (a < nh && strcmp(hosts[a], tm->meta.src))
			a++;
		while (b < nh && strcmp(hosts[b], tm->meta.dst))
			b++;
		if (a >= nh)
			a = 0;
		if (b >= nh)
			b = nh > 1 ? 1 : 0;
		unsigned y = 55 + i * 34, x1 = a * colw + colw / 2, x2 = b * colw + colw / 2;
		bool bad = f->msgs[i] == f->fail_msg;
		char fl[120];
		first_line(tm, fl, sizeof(fl));
		if (strlen(fl) > 44)
			strcpy(fl + 41, "...");
		printf_(o, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"%s\" stroke-width=\"%s\" marker-end=\"url(#arr)\"/>",
			x1, y, x2 == x1 ? x2 + 40 : x2, y, bad ? "#c00" : "#333", bad ? "3" : "1.5");
		printf_(o, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" class=\"%s\">#%u ",
			(x1 + x2) / 2, y - 5, bad ? "msg fail" : "msg", tm->meta.frame);
		html_esc(o, fl);
		puts_(o, "</text>\n");
	}
	puts_(o, "</svg>\n");
}

void sw_trace_report_html(const struct sw_trace *t, sw_trace_write_fn w, void *arg)
{
	struct out *o = malloc(sizeof(*o));
	if (!o)
		return;
	o->w = w;
	o->arg = arg;
	sw_buf_init(&o->b, o->mem, sizeof(o->mem));
	unsigned counts[SW_CAUSE__COUNT], ok, failed, other;
	summary_counts(t, counts, &ok, &failed, &other);
	puts_(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		 "<title>sipwarden analyze</title><style>"
		 "body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px;color:#222}"
		 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
		 ".flow{display:flex;flex-wrap:wrap;gap:1.5em;border-top:1px solid #ddd;padding:1em 0}"
		 ".expl{max-width:460px}.ladder{background:#fafafa;border:1px solid #eee;max-width:100%;height:auto}"
		 ".host{font:bold 12px monospace}.msg{font:11px monospace;fill:#222}.fail{fill:#c00;font-weight:bold}"
		 ".cause{font:bold 1.1em monospace;color:#c00}code{background:#f3f3f3}"
		 "</style></head><body>\n<h1>sipwarden analyze</h1>\n<h2>Summary</h2>\n<p>Inputs: ");
	for (unsigned i = 0; i < t->ninputs; i++) {
		if (i)
			puts_(o, ", ");
		puts_(o, "<code>");
		html_esc(o, sw_trace_input_name(t, i));
		puts_(o, "</code>");
	}
	printf_(o, ". SIP messages: %llu. Authentication flows: %u, succeeded: %u, <b>failed: %u</b>. Other transactions: %u.</p>\n",
		(unsigned long long)t->st.sip_msgs, ok + failed, ok, failed, other);
	puts_(o, "<table><tr><th>cause</th><th>flows</th><th>explanation</th></tr>\n");
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		if (counts[c]) {
			const struct sw_cause_info *ci = sw_cause_get((enum sw_cause)c);
			printf_(o, "<tr><td><code>%s</code></td><td>%u</td><td>", ci->id, counts[c]);
			html_esc(o, ci->explain);
			puts_(o, "</td></tr>\n");
		}
	puts_(o, "</table>\n<h2>Failures</h2>\n");
	if (!failed)
		puts_(o, "<p>No failure found.</p>\n");
	for (size_t i = 0; i < t->nflows; i++) {
		const struct sw_trace_flow *f = &t->flows[i];
		if (!f->failed)
			continue;
		const struct sw_cause_info *ci = sw_cause_get(f->cause);
		printf_(o, "<div class=\"flow\" id=\"flow%u\"><div class=\"expl\"><h3>Flow %u: ", f->id, f->id);
		html_esc(o, f->method);
		puts_(o, " ");
		html_esc(o, f->aor);
		printf_(o, "</h3><p class=\"cause\">%s</p><p>", ci->id);
		html_esc(o, f->detail);
		puts_(o, "</p><p><b>Why:</b> ");
		html_esc(o, ci->explain);
		puts_(o, "</p><p><b>Fix:</b> ");
		html_esc(o, ci->fix);
		puts_(o, "</p><ul>");
		for (unsigned e = 0; e < f->nev; e++) {
			printf_(o, "<li>#%u: ", f->ev[e].frame);
			html_esc(o, f->ev[e].note);
			puts_(o, "</li>");
		}
		puts_(o, "</ul></div>\n");
		ladder(o, t, f);
		puts_(o, "</div>\n");
	}
	puts_(o, "</body></html>\n");
	flush(o);
	free(o);
}
