/* Statistics of a load run: merging the threads' counters, and the report
 * as text for people and as one JSON object for scripts. */
#include <string.h>
#include "sipwarden/transport.h"
#include "lg_int.h"

void sw_lg_stats_init(struct sw_lg_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->server_cpu_s = -1;
	sw_hist_init(&st->total);
	for (unsigned i = 0; i < SW_LG_LEGS; i++)
		sw_hist_init(&st->leg[i]);
}

void sw_lg_stats_merge(struct sw_lg_stats *a, const struct sw_lg_stats *b)
{
	a->started += b->started;
	a->completed += b->completed;
	a->failed += b->failed;
	a->timeouts += b->timeouts;
	a->unfinished += b->unfinished;
	for (unsigned i = 0; i < 700; i++)
		a->by_status[i] += b->by_status[i];
	a->retransmissions += b->retransmissions;
	a->requests += b->requests;
	a->responses += b->responses;
	a->stray += b->stray;
	a->malformed += b->malformed;
	a->auth_errors += b->auth_errors;
	a->behind += b->behind;
	a->overloaded += b->overloaded;
	a->retries_after_503 += b->retries_after_503;
	a->completed_load += b->completed_load;
	a->retx_half[0] += b->retx_half[0];
	a->retx_half[1] += b->retx_half[1];
	sw_hist_merge(&a->total, &b->total);
	for (unsigned i = 0; i < SW_LG_LEGS; i++)
		sw_hist_merge(&a->leg[i], &b->leg[i]);
	if (!a->slot_ms)
		a->slot_ms = b->slot_ms;
	if (b->nslots > a->nslots)
		a->nslots = b->nslots;
	for (unsigned i = 0; i < b->nslots; i++) {
		a->done_at[i] += b->done_at[i];
		a->failed_at[i] += b->failed_at[i];
	}
}

uint32_t sw_lg_slot_ms(const struct sw_lg_cfg *cfg)
{
	static const uint32_t widths[] = { 100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 300000 };
	/* the drain after the last start: at most Timer F (64 T1) */
	uint64_t t1 = cfg->t1_ms ? cfg->t1_ms : 500u;
	uint64_t send = cfg->duration_ms ? cfg->duration_ms : 60000u;
	if (cfg->count && cfg->rate > 0 && (double)cfg->count * 1000.0 / cfg->rate < (double)send)
		send = (uint64_t)((double)cfg->count * 1000.0 / cfg->rate) + 1; /* ends sooner */
	uint64_t span = send + (cfg->drain_ms ? cfg->drain_ms : 64u * t1);
	for (unsigned i = 0; i < sizeof(widths) / sizeof(widths[0]); i++)
		if ((uint64_t)widths[i] * SW_LG_SLOTS >= span)
			return widths[i];
	return widths[sizeof(widths) / sizeof(widths[0]) - 1];
}

void sw_lg_timeline_add(struct sw_lg_stats *st, uint64_t since_ns, bool ok, uint64_t n)
{
	uint64_t slot = since_ns / ((uint64_t)(st->slot_ms ? st->slot_ms : 1000u) * 1000000u);
	if (slot >= SW_LG_SLOTS)
		slot = SW_LG_SLOTS - 1;
	if (ok)
		st->done_at[slot] += n;
	else
		st->failed_at[slot] += n;
	if (slot + 1 > st->nslots)
		st->nslots = (uint32_t)slot + 1;
}

static const double pcts[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p999" };

static double ms(uint64_t us) { return (double)us / 1000.0; }

static void text_hist(struct sw_buf *b, const char *name, const struct sw_hist *h)
{
	if (!h->n) {
		sw_buf_addf(b, "  %-22s -\n", name);
		return;
	}
	sw_buf_addf(b, "  %-22s", name);
	for (unsigned i = 0; i < 4; i++)
		sw_buf_addf(b, " %9.3f", ms(sw_hist_percentile(h, pcts[i])));
	sw_buf_addf(b, " %9.3f %9llu\n", ms(h->max), (unsigned long long)h->n);
}

static const char *const leg_names[4][SW_LG_LEGS] = {
	{ "REGISTER -> 401", "REGISTER+auth -> 200" },
	{ "REGISTER -> 200", "-" },
	{ "OPTIONS -> 200", "-" },
	{ "INVITE -> 200 (setup)", "BYE -> 200" },
};

void sw_lg_report_text(struct sw_buf *b, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	char target[80];
	sw_sockaddr_format((const struct sockaddr *)&cfg->target, target, sizeof(target));
	const char *what = cfg->scenario == SW_LG_OPTIONS ? "transactions"
			   : cfg->scenario == SW_LG_CALL ? "calls" : "registrations";
	sw_buf_addf(b, "scenario %s against %s (%s), %u thread%s\n",
		    sw_lg_scenario_name(cfg->scenario), target, cfg->tcp ? "TCP" : "UDP",
		    cfg->threads ? cfg->threads : 1,
		    cfg->threads > 1 ? "s" : "");
	sw_buf_addf(b, "%s: %llu started, %llu completed, %llu failed in %.2f s\n", what,
		    (unsigned long long)st->started, (unsigned long long)st->completed,
		    (unsigned long long)st->failed, st->elapsed_s);
	sw_buf_addf(b, "completed %s/s: %.0f", what, st->rate);
	if (st->target_rate > 0)
		sw_buf_addf(b, " (target %.0f/s, started at %.0f/s%s)", st->target_rate,
			    st->start_rate, st->rate_held ? "" : ": could NOT hold the rate");
	sw_buf_addc(b, '\n');
	if (!st->rate_held && st->behind)
		sw_buf_addf(b, "  the in-flight limit (%u per thread) held starts back %llu times\n",
			    cfg->max_inflight ? cfg->max_inflight : 16384u,
			    (unsigned long long)st->behind);
	sw_buf_addf(b, "requests sent %llu (retransmissions %llu), responses %llu",
		    (unsigned long long)st->requests, (unsigned long long)st->retransmissions,
		    (unsigned long long)st->responses);
	if (st->stray)
		sw_buf_addf(b, " (%llu late or unmatched)", (unsigned long long)st->stray);
	if (st->malformed)
		sw_buf_addf(b, ", %llu unparsable datagrams", (unsigned long long)st->malformed);
	sw_buf_addc(b, '\n');
	if (st->server_cpu_s >= 0 && st->completed)
		sw_buf_addf(b, "server CPU during the calls: %.3f s = %.1f µs per completed call\n",
			    st->server_cpu_s, st->server_cpu_s * 1e6 / (double)st->completed);
	if (st->overloaded)
		sw_buf_addf(b, "503 with Retry-After (server overloaded): %llu, honoured: waited, then started "
			    "again %llu times; not failures\n",
			    (unsigned long long)st->overloaded, (unsigned long long)st->retries_after_503);
	if (st->send_s > 0)
		sw_buf_addf(b, "goodput while starting: %llu completed in %.2f s = %.0f/s\n",
			    (unsigned long long)st->completed_load, st->send_s,
			    (double)st->completed_load / st->send_s);
	if (st->failed) {
		sw_buf_adds(b, "failures:");
		for (unsigned s = 0; s < 700; s++)
			if (st->by_status[s])
				sw_buf_addf(b, " %u: %llu,", s, (unsigned long long)st->by_status[s]);
		sw_buf_addf(b, " timeouts (Timer F): %llu, unfinished at the end: %llu",
			    (unsigned long long)st->timeouts, (unsigned long long)st->unfinished);
		if (st->auth_errors)
			sw_buf_addf(b, ", challenges not answerable: %llu",
				    (unsigned long long)st->auth_errors);
		sw_buf_addc(b, '\n');
	}
	sw_buf_addf(b, "latency (ms)           %9s %9s %9s %9s %9s %9s\n", "p50", "p90", "p99",
		    "p99.9", "max", "n");
	unsigned sc = (unsigned)cfg->scenario < 4 ? (unsigned)cfg->scenario : 0;
	for (unsigned i = 0; i < SW_LG_LEGS; i++)
		if (st->leg[i].n)
			text_hist(b, leg_names[sc][i], &st->leg[i]);
	text_hist(b, cfg->scenario == SW_LG_OPTIONS ? "whole transaction"
		     : cfg->scenario == SW_LG_CALL ? "whole call" : "whole registration",
		  &st->total);
}

static void json_hist(struct sw_buf *b, const struct sw_hist *h)
{
	sw_buf_addc(b, '{');
	for (unsigned i = 0; i < 4; i++)
		sw_buf_addf(b, "\"%s\":%.3f,", pct_names[i], ms(sw_hist_percentile(h, pcts[i])));
	sw_buf_addf(b, "\"max\":%.3f,\"mean\":%.3f,\"n\":%llu}", ms(h->max),
		    h->n ? (double)h->sum / (double)h->n / 1000.0 : 0.0, (unsigned long long)h->n);
}

void sw_lg_report_json(struct sw_buf *b, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	char target[80];
	sw_sockaddr_format((const struct sockaddr *)&cfg->target, target, sizeof(target));
	sw_buf_adds(b, "{\"scenario\":");
	sw_buf_add_json_str(b, sw_lg_scenario_name(cfg->scenario),
			    strlen(sw_lg_scenario_name(cfg->scenario)));
	sw_buf_adds(b, ",\"target\":");
	sw_buf_add_json_str(b, target, strlen(target));
	sw_buf_addf(b, ",\"transport\":\"%s\",\"threads\":%u", cfg->tcp ? "tcp" : "udp",
		    cfg->threads ? cfg->threads : 1);
	sw_buf_addf(b, ",\"started\":%llu,\"completed\":%llu,\"failed\":%llu",
		    (unsigned long long)st->started, (unsigned long long)st->completed,
		    (unsigned long long)st->failed);
	sw_buf_addf(b, ",\"timeouts\":%llu,\"unfinished\":%llu,\"auth_errors\":%llu",
		    (unsigned long long)st->timeouts, (unsigned long long)st->unfinished,
		    (unsigned long long)st->auth_errors);
	sw_buf_adds(b, ",\"failures_by_status\":{");
	bool first = true;
	for (unsigned s = 0; s < 700; s++)
		if (st->by_status[s]) {
			sw_buf_addf(b, "%s\"%u\":%llu", first ? "" : ",", s,
				    (unsigned long long)st->by_status[s]);
			first = false;
		}
	sw_buf_addf(b, "},\"retransmissions\":%llu,\"retransmissions_by_half\":[%llu,%llu]",
		    (unsigned long long)st->retransmissions, (unsigned long long)st->retx_half[0],
		    (unsigned long long)st->retx_half[1]);
	sw_buf_addf(b, ",\"requests\":%llu,\"responses\":%llu,\"stray\":%llu,\"malformed\":%llu",
		    (unsigned long long)st->requests, (unsigned long long)st->responses,
		    (unsigned long long)st->stray, (unsigned long long)st->malformed);
	sw_buf_addf(b, ",\"rate\":%.1f,\"target_rate\":%.1f,\"start_rate\":%.1f,\"rate_held\":%s",
		    st->rate, st->target_rate, st->start_rate, st->rate_held ? "true" : "false");
	sw_buf_addf(b, ",\"inflight_limit_hits\":%llu,\"elapsed_s\":%.3f",
		    (unsigned long long)st->behind, st->elapsed_s);
	sw_buf_addf(b, ",\"overloaded_503\":%llu,\"retries_after_503\":%llu,\"completed_while_starting\":%llu,"
		    "\"send_s\":%.3f,\"goodput\":%.1f",
		    (unsigned long long)st->overloaded, (unsigned long long)st->retries_after_503,
		    (unsigned long long)st->completed_load, st->send_s,
		    st->send_s > 0 ? (double)st->completed_load / st->send_s : 0.0);
	if (st->server_cpu_s >= 0)
		sw_buf_addf(b, ",\"server_cpu_s\":%.3f,\"server_cpu_us_per_call\":%.1f", st->server_cpu_s,
			    st->completed ? st->server_cpu_s * 1e6 / (double)st->completed : 0.0);
	sw_buf_adds(b, ",\"latency_ms\":");
	json_hist(b, &st->total);
	sw_buf_adds(b, ",\"legs\":[");
	for (unsigned i = 0; i < SW_LG_LEGS; i++) {
		if (i)
			sw_buf_addc(b, ',');
		json_hist(b, &st->leg[i]);
	}
	sw_buf_adds(b, "]}");
}
