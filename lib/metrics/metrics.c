/* The hooks: relaxed atomic additions on the calling thread's shard. A
 * thread takes a shard at its first hook, round robin, so up to 16 threads
 * (the workers, the housekeeping thread, a committing thread) each write
 * cache lines of their own; more threads share shards, which stays correct
 * (the additions are atomic) and only costs contention. */
#include <time.h>
#include "sipwarden/msg.h"
#include "metrics/metrics_int.h"

_Static_assert(SW_METRICS_METHODS == SW_METHOD_UPDATE + 1, "a method was added: update SW_METRICS_METHODS");

struct shard sw__metrics_shards[SHARDS];
static atomic_uint next_shard;
static _Thread_local struct shard *mine;

static struct shard *shard(void)
{
	if (__builtin_expect(!mine, 0))
		mine = &sw__metrics_shards[atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
					   SHARDS];
	return mine;
}

#define ADD(field, n) atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)

void sw_metrics_inc(enum sw_metric m)
{
	if ((unsigned)m < SW_M__COUNT)
		ADD(shard()->counter[m], 1);
}

void sw_metrics_add(enum sw_metric m, uint64_t n)
{
	if ((unsigned)m < SW_M__COUNT && n)
		ADD(shard()->counter[m], n);
}

void sw_metrics_gauge_add(enum sw_gauge g, int64_t d)
{
	if ((unsigned)g < SW_G__COUNT)
		ADD(shard()->gauge[g], d);
}

void sw_metrics_request(unsigned method)
{
	if (method < SW_METRICS_METHODS)
		ADD(shard()->requests[method], 1);
}

void sw_metrics_response(unsigned status)
{
	if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SPAN)
		ADD(shard()->responses[status - STATUS_MIN], 1);
}

void sw_metrics_response_text(const char *p, size_t len)
{
	if (len < 12 || p[0] != 'S' || p[1] != 'I' || p[2] != 'P' || p[3] != '/')
		return;
	unsigned s = 0;
	for (size_t i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return;
		s = s * 10 + (unsigned)(p[i] - '0');
	}
	sw_metrics_response(s);
}

void sw_metrics_auth(unsigned method, enum sw_cause cause)
{
	if (method < SW_METRICS_METHODS && (unsigned)cause < SW_CAUSE__COUNT)
		ADD(shard()->auth[method][cause], 1);
}

/* 10 us .. 1 s: a request takes ten to a hundred microseconds, a durable
 * commit about an fsync (0.1 to a few ms), a stall is what the tail shows. */
static const uint64_t bound_ns[SW_METRICS_BUCKETS] = {
	10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
};

double sw_metrics_bucket_bound(unsigned i)
{
	return i < SW_METRICS_BUCKETS ? (double)bound_ns[i] / 1e9 : 0;
}

void sw_metrics_observe(enum sw_histogram h, uint64_t ns)
{
	if ((unsigned)h >= SW_H__COUNT)
		return;
	unsigned i = 0;
	while (i < SW_METRICS_BUCKETS && ns > bound_ns[i])
		i++;
	struct hist *t = &shard()->hist[h];
	ADD(t->bucket[i], 1);
	ADD(t->sum_ns, ns);
}

uint64_t sw_metrics_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sw_metrics_get(enum sw_metric m)
{
	return (unsigned)m < SW_M__COUNT ? SW__METRICS_SUM(counter[m]) : 0;
}

int64_t sw_metrics_gauge_get(enum sw_gauge g)
{
	/* summed as unsigned: the wrap-around of a shard's negative share cancels */
	return (unsigned)g < SW_G__COUNT ? (int64_t)SW__METRICS_SUM(gauge[g]) : 0;
}

uint64_t sw_metrics_auth_total(enum sw_cause c)
{
	uint64_t n = 0;
	if ((unsigned)c >= SW_CAUSE__COUNT)
		return 0;
	for (unsigned m = 0; m < SW_METRICS_METHODS; m++)
		n += SW__METRICS_SUM(auth[m][c]);
	return n;
}

const char *sw__metrics_method_name(unsigned method)
{
	static const char *const names[SW_METRICS_METHODS] = {
		"other", "ACK", "BYE", "CANCEL", "INFO", "INVITE", "MESSAGE", "NOTIFY",
		"OPTIONS", "PRACK", "PUBLISH", "REFER", "REGISTER", "SUBSCRIBE", "UPDATE",
	};
	return method < SW_METRICS_METHODS ? names[method] : "other";
}
