/* Latency histogram: log-linear buckets over microseconds (HdrHistogram's
 * layout with 6 bits of sub-bucket precision). Values below 128 µs have a
 * bucket each; above, each power of two is split into 64 buckets, so a
 * reported percentile is at most 1/64 above the true sample. */
#include <string.h>
#include "sipwarden/loadgen.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < 2 * SW_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - 6u;                 /* v >> shift is in [64, 127] */
	unsigned idx = shift * SW_HIST_SUB + (unsigned)(v >> shift);
	return idx < SW_HIST_BUCKETS ? idx : SW_HIST_BUCKETS - 1;
}

uint64_t sw_hist_bucket_high(unsigned idx)
{
	if (idx < 2 * SW_HIST_SUB)
		return idx;
	unsigned shift = idx / SW_HIST_SUB - 1u;
	uint64_t sub = idx % SW_HIST_SUB + SW_HIST_SUB;
	return ((sub + 1) << shift) - 1;
}

void sw_hist_init(struct sw_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void sw_hist_add(struct sw_hist *h, uint64_t us)
{
	if (h->n == 0 || us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->n++;
	h->sum += us;
	h->b[bucket_of(us)]++;
}

void sw_hist_merge(struct sw_hist *into, const struct sw_hist *from)
{
	if (from->n == 0)
		return;
	if (into->n == 0 || from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	into->n += from->n;
	into->sum += from->sum;
	for (unsigned i = 0; i < SW_HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
}

uint64_t sw_hist_percentile(const struct sw_hist *h, double p)
{
	if (h->n == 0)
		return 0;
	if (p < 0)
		p = 0;
	if (p >= 100)
		return h->max;
	/* rank = ceil(p/100 * n), at least 1; computed in integers of 1e-6 % to
	 * keep p = 99.9 from rounding up a whole sample */
	uint64_t ppm = (uint64_t)(p * 10000.0 + 0.5);
	uint64_t rank = (h->n * ppm + 999999u) / 1000000u;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < SW_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = sw_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}
