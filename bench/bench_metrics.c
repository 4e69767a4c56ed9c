/* What the metrics hooks cost: one counter, one auth decision, one
 * histogram observation with the two clock reads around a request, and the
 * hooks of one request together (what sw_registrar_on_message adds); on one
 * thread and on two at once (each its own shard, as two workers). Then one
 * scrape (the exposition). Nanoseconds per call.
 *
 *   build/release/bench/bench_metrics [N, default 10000000]
 *
 * Never fails on time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "sipwarden/metrics.h"
#include "sipwarden/msg.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long n = 10000000;
static int which;

static void *run(void *arg)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		switch (which) {
		case 0:
			sw_metrics_inc(SW_M_REG_MADE);
			break;
		case 1:
			sw_metrics_auth(SW_METHOD_REGISTER, SW_CAUSE_OK);
			break;
		case 2: {
			uint64_t t0 = sw_metrics_now_ns();
			sw_metrics_observe(SW_H_REQUEST, sw_metrics_now_ns() - t0);
			break;
		}
		default: { /* a request: its time, method, response, decision */
			uint64_t t0 = sw_metrics_now_ns();
			sw_metrics_request(SW_METHOD_REGISTER);
			sw_metrics_auth(SW_METHOD_REGISTER, SW_CAUSE_OK);
			sw_metrics_response(200);
			sw_metrics_observe(SW_H_REQUEST, sw_metrics_now_ns() - t0);
		}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atol(argv[1]);
	static const char *const what[] = { "counter", "auth decision", "request timing (2 clocks + histogram)",
					    "one request's hooks" };
	for (which = 0; which < 4; which++) {
		for (int threads = 1; threads <= 2; threads++) {
			pthread_t t[2];
			double s = now_s();
			for (int i = 0; i < threads; i++)
				pthread_create(&t[i], NULL, run, NULL);
			for (int i = 0; i < threads; i++)
				pthread_join(t[i], NULL);
			printf("%-40s %d thread%s  %6.1f ns per call\n", what[which], threads, threads > 1 ? "s" : " ",
			       (now_s() - s) * 1e9 / (double)n);
		}
	}
	static char mem[256 * 1024];
	struct sw_buf b;
	struct sw_metrics_live live = { .bindings = 1, .subscribers = 1, .bans_active = 0, .version = "x" };
	double s = now_s();
	for (int i = 0; i < 100; i++) {
		sw_buf_init(&b, mem, sizeof(mem));
		sw_metrics_render(&b, &live);
	}
	printf("%-40s %6.1f us per scrape (%zu bytes)\n", "exposition", (now_s() - s) * 1e6 / 100, b.len);
	return 0;
}
