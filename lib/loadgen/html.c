/* The report of a load run as one self-contained HTML page (`sipwarden
 * bench --html FILE`): inline CSS and SVG, no external resource, so it
 * opens from a mail attachment or an air-gapped machine. The numbers are
 * the JSON report's: the page embeds that object (a data block, not run),
 * the table shows its percentiles, and every bar carries its count in a
 * data-n attribute, so a script (or the test) can check the charts. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "sipwarden/transport.h"
#include "lg_int.h"

#define W 800.0  /* chart width and height in SVG units */
#define H 260.0
#define ML 60.0  /* left margin (the y labels) */
#define MB 36.0  /* bottom margin (the x labels) */
#define MT 12.0
#define PW (W - ML - 12.0)
#define PH (H - MT - MB)

/* The latency chart's bins: four per power of two of microseconds. */
#define BINS_PER_OCTAVE 4
#define MAX_BINS (BINS_PER_OCTAVE * 42)

static const double pcts[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9" };

static void add_text(struct sw_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': sw_buf_adds(b, "&lt;"); break;
		case '>': sw_buf_adds(b, "&gt;"); break;
		case '&': sw_buf_adds(b, "&amp;"); break;
		case '"': sw_buf_adds(b, "&quot;"); break;
		default: sw_buf_addc(b, *s);
		}
	}
}

static unsigned bin_of(uint64_t us)
{
	unsigned k = (unsigned)floor(BINS_PER_OCTAVE * log2((double)(us ? us : 1)));
	return k < MAX_BINS ? k : MAX_BINS - 1;
}

static double bin_edge_ms(unsigned k)
{
	return pow(2.0, (double)k / BINS_PER_OCTAVE) / 1000.0;
}

static void latency_table(struct sw_buf *b, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	static const char *const legs[4][SW_LG_LEGS] = {
		{ "REGISTER &#8594; 401", "REGISTER+auth &#8594; 200" },
		{ "REGISTER &#8594; 200", "-" },
		{ "OPTIONS &#8594; 200", "-" },
		{ "INVITE &#8594; 200 (setup)", "BYE &#8594; 200" },
	};
	unsigned sc = (unsigned)cfg->scenario < 4 ? (unsigned)cfg->scenario : 0;
	sw_buf_adds(b, "<table><tr><th>latency (ms)</th>");
	for (unsigned i = 0; i < 4; i++)
		sw_buf_addf(b, "<th>%s</th>", pct_names[i]);
	sw_buf_adds(b, "<th>max</th><th>n</th></tr>\n");
	for (unsigned l = 0; l <= SW_LG_LEGS; l++) {
		const struct sw_hist *h = l < SW_LG_LEGS ? &st->leg[l] : &st->total;
		if (!h->n)
			continue;
		char key[16] = "total";
		if (l < SW_LG_LEGS)
			snprintf(key, sizeof(key), "leg%u", l);
		sw_buf_addf(b, "<tr%s><td>%s</td>", l < SW_LG_LEGS ? "" : " class=\"total\"",
			    l < SW_LG_LEGS ? legs[sc][l] : "whole");
		for (unsigned i = 0; i < 4; i++)
			sw_buf_addf(b, "<td data-key=\"%s.%s\">%.3f</td>", key, pct_names[i],
				    (double)sw_hist_percentile(h, pcts[i]) / 1000.0);
		sw_buf_addf(b, "<td data-key=\"%s.max\">%.3f</td><td data-key=\"%s.n\">%llu</td></tr>\n", key,
			    (double)h->max / 1000.0, key, (unsigned long long)h->n);
	}
	sw_buf_adds(b, "</table>\n");
}

static void svg_open(struct sw_buf *b, const char *id, const char *label)
{
	sw_buf_addf(b, "<svg id=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n", id, W, H,
		    label);
	sw_buf_addf(b, "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
		       "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
		    ML, MT, ML, MT + PH, ML, MT + PH, ML + PW, MT + PH);
}

static void y_labels(struct sw_buf *b, double max, const char *unit)
{
	for (unsigned i = 0; i <= 4; i++) {
		double v = max * i / 4, y = MT + PH - PH * i / 4;
		sw_buf_addf(b, "<text class=\"yl\" x=\"%.0f\" y=\"%.1f\">%.4g</text>", ML - 6, y + 4, v);
		if (i)
			sw_buf_addf(b, "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", ML, y,
				    ML + PW, y);
	}
	sw_buf_addf(b, "\n<text class=\"unit\" x=\"4\" y=\"%.0f\">%s</text>\n", MT + 4, unit);
}

/* The distribution of the whole transaction's latency, log-scaled bins. */
static void latency_chart(struct sw_buf *b, const struct sw_hist *h)
{
	uint64_t bins[MAX_BINS] = { 0 };
	if (!h->n) {
		sw_buf_adds(b, "<p>No latency: nothing completed.</p>\n");
		return;
	}
	for (unsigned i = 0; i < SW_HIST_BUCKETS; i++)
		if (h->b[i])
			bins[bin_of(sw_hist_bucket_high(i))] += h->b[i];
	unsigned lo = bin_of(h->min), hi = bin_of(h->max);
	for (unsigned k = 0; k < MAX_BINS; k++) /* a bucket's high end may fall past max's bin */
		if (bins[k] && k > hi)
			hi = k;
	uint64_t top = 1;
	for (unsigned k = lo; k <= hi; k++)
		if (bins[k] > top)
			top = bins[k];
	unsigned nb = hi - lo + 1;
	double bw = PW / nb;
	svg_open(b, "latency", "latency distribution");
	y_labels(b, (double)top, "count");
	for (unsigned k = lo; k <= hi; k++) {
		double x = ML + bw * (k - lo), hgt = PH * (double)bins[k] / (double)top;
		sw_buf_addf(b, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			       "data-lo-ms=\"%.4g\" data-hi-ms=\"%.4g\" data-n=\"%llu\"><title>%.4g-%.4g ms: %llu</title></rect>\n",
			    x + 0.5, MT + PH - hgt, bw > 1.5 ? bw - 1 : bw, hgt, bin_edge_ms(k), bin_edge_ms(k + 1),
			    (unsigned long long)bins[k], bin_edge_ms(k), bin_edge_ms(k + 1),
			    (unsigned long long)bins[k]);
		if ((k - lo) % BINS_PER_OCTAVE == 0 || k == lo)
			sw_buf_addf(b, "<text class=\"xl\" x=\"%.1f\" y=\"%.0f\">%.3g</text>", x, MT + PH + 16,
				    bin_edge_ms(k));
	}
	/* the percentiles as vertical marks, at their place on the log axis */
	for (unsigned i = 0; i < 4; i += 2) {
		uint64_t v = sw_hist_percentile(h, pcts[i]);
		double pos = BINS_PER_OCTAVE * log2((double)(v ? v : 1)) - lo;
		double x = ML + bw * (pos < 0 ? 0 : pos > nb ? nb : pos);
		sw_buf_addf(b, "<line class=\"mark\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" data-p=\"%s\" "
			       "data-ms=\"%.3f\"/><text class=\"mk\" x=\"%.1f\" y=\"%.0f\">%s %.3f ms</text>\n",
			    x, MT, x, MT + PH, pct_names[i], (double)v / 1000.0, x + 3, MT + 10 + 12 * i / 2,
			    pct_names[i], (double)v / 1000.0);
	}
	sw_buf_addf(b, "<text class=\"unit\" x=\"%.0f\" y=\"%.0f\">ms (log scale)</text>\n</svg>\n", ML + PW - 90,
		    H - 4);
}

/* Completions (and failures, stacked) per second over the run. */
static void rate_chart(struct sw_buf *b, const struct sw_lg_stats *st)
{
	unsigned n = st->nslots;
	if (!n) {
		sw_buf_adds(b, "<p>Nothing ended during the run.</p>\n");
		return;
	}
	double per_s = 1000.0 / (st->slot_ms ? st->slot_ms : 1000u), top = 1;
	for (unsigned i = 0; i < n; i++)
		if ((double)(st->done_at[i] + st->failed_at[i]) * per_s > top)
			top = (double)(st->done_at[i] + st->failed_at[i]) * per_s;
	double bw = PW / n;
	svg_open(b, "rate", "completions per second over time");
	y_labels(b, top, "per s");
	for (unsigned i = 0; i < n; i++) {
		double x = ML + bw * i, hd = PH * (double)st->done_at[i] * per_s / top;
		double hf = PH * (double)st->failed_at[i] * per_s / top;
		double t = (double)i * (st->slot_ms ? st->slot_ms : 1000u) / 1000.0;
		sw_buf_addf(b, "<rect class=\"done\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" data-t=\"%.3f\" "
			       "data-n=\"%llu\"><title>%.1f s: %.0f/s completed</title></rect>",
			    x, MT + PH - hd, bw, hd, t, (unsigned long long)st->done_at[i], t,
			    (double)st->done_at[i] * per_s);
		if (st->failed_at[i])
			sw_buf_addf(b, "<rect class=\"failed\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				       "data-t=\"%.3f\" data-n=\"%llu\"><title>%.1f s: %.0f/s failed</title></rect>",
				    x, MT + PH - hd - hf, bw, hf, t, (unsigned long long)st->failed_at[i], t,
				    (double)st->failed_at[i] * per_s);
		sw_buf_addc(b, '\n');
	}
	double span = (double)n * (st->slot_ms ? st->slot_ms : 1000u) / 1000.0;
	for (unsigned i = 0; i <= 4; i++)
		sw_buf_addf(b, "<text class=\"xl\" x=\"%.1f\" y=\"%.0f\">%.3g</text>", ML + PW * i / 4, MT + PH + 16,
			    span * i / 4);
	sw_buf_addf(b, "\n<text class=\"unit\" x=\"%.0f\" y=\"%.0f\">seconds since the first start (%u ms slots)</text>\n</svg>\n",
		    ML + PW - 260, H - 4, st->slot_ms);
}

/* The JSON report as a data block: "<" escaped so that no "</script>" in a
 * value can end it. */
static void json_block(struct sw_buf *b, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	char mem[16 * 1024]; /* the JSON report is a few KiB */
	struct sw_buf j;
	sw_buf_init(&j, mem, sizeof(mem));
	sw_lg_report_json(&j, cfg, st);
	sw_buf_adds(b, "<script type=\"application/json\" id=\"report\">");
	for (size_t i = 0; i < j.len; i++) {
		if (j.p[i] == '<')
			sw_buf_adds(b, "\\u003c");
		else
			sw_buf_addc(b, j.p[i]);
	}
	if (j.overflow)
		b->overflow = true;
	sw_buf_adds(b, "</script>\n");
}

void sw_lg_report_html(struct sw_buf *b, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	char target[80];
	sw_sockaddr_format((const struct sockaddr *)&cfg->target, target, sizeof(target));
	const char *name = sw_lg_scenario_name(cfg->scenario);
	const char *what = cfg->scenario == SW_LG_OPTIONS ? "transactions"
			   : cfg->scenario == SW_LG_CALL ? "calls" : "registrations";
	sw_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sipwarden bench: ");
	add_text(b, name);
	sw_buf_adds(b, " against ");
	add_text(b, target);
	sw_buf_adds(b, "</title>\n<style>\n"
		       "body{font-family:sans-serif;margin:2em;max-width:60em;color:#222}\n"
		       "table{border-collapse:collapse;margin:1em 0}td,th{padding:.2em .8em;text-align:right;"
		       "border-bottom:1px solid #ddd}td:first-child,th:first-child{text-align:left}\n"
		       "tr.total{font-weight:bold}svg{width:100%;max-width:50em;display:block;margin:.5em 0 2em}\n"
		       ".axis{stroke:#444}.grid{stroke:#ddd}.bar{fill:#4a7fb5}.done{fill:#4a9b5f}.failed{fill:#c0392b}\n"
		       ".mark{stroke:#e67e22;stroke-dasharray:4 3}.mk{font-size:11px;fill:#e67e22}\n"
		       ".xl{font-size:11px;text-anchor:middle}.yl{font-size:11px;text-anchor:end}.unit{font-size:11px;fill:#666}\n"
		       "</style></head><body>\n<h1>sipwarden bench: ");
	add_text(b, name);
	sw_buf_adds(b, "</h1>\n<p>Against <b>");
	add_text(b, target);
	sw_buf_addf(b, "</b> over %s, %u thread%s.</p>\n<table>\n", cfg->tcp ? "TCP" : "UDP",
		    cfg->threads ? cfg->threads : 1, cfg->threads > 1 ? "s" : "");
	sw_buf_addf(b, "<tr><td>%s started</td><td data-key=\"started\">%llu</td></tr>\n", what,
		    (unsigned long long)st->started);
	sw_buf_addf(b, "<tr><td>completed</td><td data-key=\"completed\">%llu</td></tr>\n",
		    (unsigned long long)st->completed);
	sw_buf_addf(b, "<tr><td>failed</td><td data-key=\"failed\">%llu</td></tr>\n", (unsigned long long)st->failed);
	sw_buf_addf(b, "<tr><td>retransmissions</td><td data-key=\"retransmissions\">%llu</td></tr>\n",
		    (unsigned long long)st->retransmissions);
	sw_buf_addf(b, "<tr><td>completed per second</td><td data-key=\"rate\">%.1f</td></tr>\n", st->rate);
	if (st->target_rate > 0)
		sw_buf_addf(b, "<tr><td>target rate (started at)</td><td>%.0f/s (%.1f/s)%s</td></tr>\n",
			    st->target_rate, st->start_rate, st->rate_held ? "" : ": could not hold the rate");
	sw_buf_addf(b, "<tr><td>elapsed</td><td data-key=\"elapsed_s\">%.3f s</td></tr>\n</table>\n", st->elapsed_s);
	sw_buf_adds(b, "<h2>Latency</h2>\n");
	latency_table(b, cfg, st);
	sw_buf_addf(b, "<h2>Latency distribution (whole %s)</h2>\n",
		    cfg->scenario == SW_LG_OPTIONS ? "transaction" : cfg->scenario == SW_LG_CALL ? "call" : "registration");
	latency_chart(b, &st->total);
	sw_buf_adds(b, "<h2>Rate over time</h2>\n<p>Completed (green) and failed (red) per second.</p>\n");
	rate_chart(b, st);
	json_block(b, cfg, st);
	sw_buf_adds(b, "</body></html>\n");
}
