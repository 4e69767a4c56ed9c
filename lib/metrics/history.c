/* Decisions per minute by cause for the last hour, from the counters: at
 * the start of each minute the per-cause totals are copied into a ring of
 * 61 snapshots, and a minute's count is the difference of two. Nothing is
 * added to the hot path; the history covers the time since the server
 * started (the event log in the store has the older decisions). */
#include <pthread.h>
#include <string.h>
#include "metrics/metrics_int.h"

#define SLOTS 61u                 /* 60 whole minutes and the current one */

static struct {
	pthread_mutex_t lock;
	int64_t minute[SLOTS];        /* the minute (unix seconds / 60) of each snapshot; 0: none */
	uint64_t total[SLOTS][SW_CAUSE__COUNT];
} hist = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void totals(uint64_t out[SW_CAUSE__COUNT])
{
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++)
		out[c] = sw_metrics_auth_total((enum sw_cause)c);
}

void sw_metrics_history_tick(int64_t now)
{
	int64_t m = now / 60;
	unsigned k = (unsigned)(m % SLOTS);
	pthread_mutex_lock(&hist.lock);
	if (hist.minute[k] != m) { /* the totals at the start of minute m */
		hist.minute[k] = m;
		totals(hist.total[k]);
	}
	pthread_mutex_unlock(&hist.lock);
}

void sw_metrics_history_json(struct sw_buf *b, int64_t now, unsigned minutes)
{
	if (minutes > SLOTS - 1)
		minutes = SLOTS - 1;
	if (!minutes)
		minutes = 1;
	int64_t cur = now / 60;
	uint64_t current[SW_CAUSE__COUNT];
	totals(current);
	/* counts[i][c] for the minutes cur - minutes + 1 .. cur; a minute without
	 * its start snapshot (before the server ran) counts 0 */
	static _Thread_local uint64_t counts[SLOTS][SW_CAUSE__COUNT];
	bool seen[SW_CAUSE__COUNT] = { false };
	pthread_mutex_lock(&hist.lock);
	for (unsigned i = 0; i < minutes; i++) {
		int64_t m = cur - (int64_t)(minutes - 1 - i);
		unsigned k = (unsigned)(m % SLOTS), k1 = (unsigned)((m + 1) % SLOTS);
		const uint64_t *start = hist.minute[k] == m ? hist.total[k] : NULL;
		const uint64_t *end = m == cur ? current : hist.minute[k1] == m + 1 ? hist.total[k1] : NULL;
		for (unsigned c = 0; c < SW_CAUSE__COUNT; c++) {
			counts[i][c] = start && end && end[c] > start[c] ? end[c] - start[c] : 0;
			seen[c] |= counts[i][c] != 0;
		}
	}
	pthread_mutex_unlock(&hist.lock);
	sw_buf_adds(b, "{\"minutes\":[");
	for (unsigned i = 0; i < minutes; i++)
		sw_buf_addf(b, "%s%lld", i ? "," : "", (long long)((cur - (int64_t)(minutes - 1 - i)) * 60));
	sw_buf_adds(b, "],\"causes\":{");
	bool first = true;
	for (unsigned c = 0; c < SW_CAUSE__COUNT; c++) {
		if (!seen[c])
			continue;
		sw_buf_addf(b, "%s\"%s\":[", first ? "" : ",", sw_cause_id((enum sw_cause)c));
		first = false;
		for (unsigned i = 0; i < minutes; i++)
			sw_buf_addf(b, "%s%llu", i ? "," : "", (unsigned long long)counts[i][c]);
		sw_buf_addc(b, ']');
	}
	sw_buf_adds(b, "}}");
}
