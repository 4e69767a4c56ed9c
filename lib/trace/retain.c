/* What a long live run keeps of the flows it has judged. Files are read
 * once and reported at the end, so every judged flow stays in the list;
 * live input runs for days, so the caller (src/analyze_live.c) forgets the
 * oldest judged flows and summaries once they have been printed, keeping
 * only their counts by cause for the summary (sw_trace_summary()). */
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

static void count(struct sw_trace *t, bool auth, bool failed, enum sw_cause c)
{
	if (!auth) {
		t->forgot.other++;
		return;
	}
	if (c < SW_CAUSE__COUNT)
		t->forgot.by_cause[c]++;
	if (failed)
		t->forgot.failed++;
	else
		t->forgot.ok++;
}

size_t sw_trace_forget(struct sw_trace *t, size_t keep_flows, size_t keep_sums)
{
	size_t drop = t->nflows > keep_flows ? t->nflows - keep_flows : 0;
	for (size_t i = 0; i < drop; i++) {
		struct sw_trace_flow *f = &t->flows[i];
		count(t, f->auth, f->failed, f->cause);
		if (t->ftx[i].tx)
			sw__txns_free(t->ftx[i].tx, t->ftx[i].n);
		if (f->failed && !f->light && t->failed_full)
			t->failed_full--; /* a later failure may keep its messages whole */
		for (unsigned k = 0; k < f->nmsgs; k++)
			sw__msg_free(t, f->msgs[k]);
		free(f->msgs);
		sw__flow_strings_free(f);
	}
	if (drop) {
		memmove(t->flows, t->flows + drop, (t->nflows - drop) * sizeof(*t->flows));
		memmove(t->ftx, t->ftx + drop, (t->nflows - drop) * sizeof(*t->ftx));
		t->nflows -= drop;
	}
	size_t sdrop = t->nsums > keep_sums ? t->nsums - keep_sums : 0;
	for (size_t i = 0; i < sdrop; i++)
		count(t, t->sums[i].s.auth, false, t->sums[i].s.cause);
	if (sdrop) {
		memmove(t->sums, t->sums + sdrop, (t->nsums - sdrop) * sizeof(*t->sums));
		t->nsums -= sdrop;
	}
	return drop;
}

void sw_trace_summary(const struct sw_trace *t, struct sw_trace_summary *s)
{
	*s = t->forgot;
	for (size_t i = 0; i < t->nflows; i++) {
		const struct sw_trace_flow *f = &t->flows[i];
		if (!f->auth) {
			s->other++;
			continue;
		}
		if (f->cause < SW_CAUSE__COUNT)
			s->by_cause[f->cause]++;
		if (f->failed)
			s->failed++;
		else
			s->ok++;
	}
	for (size_t i = 0; i < t->nsums; i++) {
		const struct sw_trace_flow_sum *m = &t->sums[i].s;
		if (!m->auth) {
			s->other++;
			continue;
		}
		if (m->cause < SW_CAUSE__COUNT)
			s->by_cause[m->cause]++;
		s->ok++;
	}
}
