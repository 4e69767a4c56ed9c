/* What the files of lib/metrics share: the shards the hooks add to. */
#ifndef SW_METRICS_INT_H
#define SW_METRICS_INT_H

#include <stdatomic.h>
#include "sipwarden/metrics.h"

#define SHARDS 16u                /* a power of two */
#define STATUS_MIN 100u
#define STATUS_SPAN 600u          /* 100..699 */

struct hist {
	_Atomic uint64_t bucket[SW_METRICS_BUCKETS + 1]; /* per bucket (not cumulative); the last: +Inf */
	_Atomic uint64_t sum_ns;
};

/* One thread's (or a few threads') share of every value; aligned so that
 * two shards never share a cache line. */
struct shard {
	_Alignas(64) _Atomic uint64_t counter[SW_M__COUNT];
	_Atomic int64_t gauge[SW_G__COUNT];
	_Atomic uint64_t requests[SW_METRICS_METHODS];
	_Atomic uint64_t responses[STATUS_SPAN];
	_Atomic uint64_t auth[SW_METRICS_METHODS][SW_CAUSE__COUNT];
	struct hist hist[SW_H__COUNT];
};

extern struct shard sw__metrics_shards[SHARDS];

/* Relaxed read of one value summed over the shards. */
#define SW__METRICS_SUM(expr)                                                            \
	({                                                                               \
		uint64_t s_ = 0;                                                         \
		for (unsigned i_ = 0; i_ < SHARDS; i_++)                                 \
			s_ += atomic_load_explicit(&sw__metrics_shards[i_].expr,         \
						   memory_order_relaxed);                \
		s_;                                                                      \
	})

/* "REGISTER", ..., "other" for SW_METHOD_OTHER. */
const char *sw__metrics_method_name(unsigned method);

#endif
