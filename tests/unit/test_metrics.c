/* lib/metrics: hooks from several threads add up exactly (a gauge's +1 and
 * -1 from two threads cancel), the exposition has the documented series
 * with HELP and TYPE, cumulative histogram buckets, and only well-formed
 * sample lines; the decisions per minute; a response's status read from its
 * text; the subscriber count of the store. The counters are process-wide,
 * so each check compares before and after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <regex.h>
#include <cmocka.h>
#include "sipwarden/metrics.h"
#include "sipwarden/msg.h"
#include "sipwarden/store.h"

#define THREADS 4
#define ROUNDS 50000

static void *hammer(void *arg)
{
	long up = (long)(intptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		sw_metrics_inc(SW_M_REG_MADE);
		sw_metrics_auth(SW_METHOD_REGISTER, SW_CAUSE_WRONG_PASSWORD);
		sw_metrics_gauge_add(SW_G_TXN_PROXY, up ? 1 : -1);
		sw_metrics_observe(SW_H_REQUEST, 30000);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	uint64_t made = sw_metrics_get(SW_M_REG_MADE);
	uint64_t wp = sw_metrics_auth_total(SW_CAUSE_WRONG_PASSWORD);
	int64_t g = sw_metrics_gauge_get(SW_G_TXN_PROXY);
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)(i % 2)), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(sw_metrics_get(SW_M_REG_MADE) - made, (uint64_t)THREADS * ROUNDS);
	assert_int_equal(sw_metrics_auth_total(SW_CAUSE_WRONG_PASSWORD) - wp, (uint64_t)THREADS * ROUNDS);
	assert_int_equal(sw_metrics_gauge_get(SW_G_TXN_PROXY), g); /* as many +1 as -1, on other threads */
}

static char *render(void)
{
	size_t cap = 256 * 1024;
	char *mem = malloc(cap);
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	struct sw_metrics_live live = { .bindings = 3, .subscribers = 7, .bans_active = 0, .store_commits = 5,
					.store_events_dropped = 0, .start_time = 1700000000.5, .version = "9.9" };
	assert_int_equal(sw_metrics_render(&b, &live), 0);
	sw_buf_addc(&b, '\0');
	return mem;
}

static uint64_t sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return UINT64_MAX;
}

static void test_exposition(void **state)
{
	(void)state;
	sw_metrics_request(SW_METHOD_INVITE);
	sw_metrics_response(407);
	sw_metrics_response_text("SIP/2.0 480 Temporarily Unavailable\r\n", 37);
	sw_metrics_response_text("INVITE sip:x SIP/2.0\r\n", 22); /* a request: nothing */
	sw_metrics_auth(SW_METHOD_INVITE, SW_CAUSE_CALLEE_OFFLINE);
	sw_metrics_inc(SW_M_CALL_FAILED);
	sw_metrics_observe(SW_H_COMMIT_WAIT, 200000);      /* 0.2 ms: bucket 0.00025 */
	sw_metrics_observe(SW_H_COMMIT_WAIT, 5000000000u); /* 5 s: only +Inf */
	char *t = render();
	assert_true(sample(t, "sipwarden_requests_total{method=\"INVITE\"}") >= 1);
	assert_true(sample(t, "sipwarden_responses_total{class=\"4xx\",code=\"407\"}") >= 1);
	assert_true(sample(t, "sipwarden_responses_total{class=\"4xx\",code=\"480\"}") >= 1);
	assert_true(sample(t, "sipwarden_auth_decisions_total{method=\"INVITE\",cause=\"callee-offline\"}") >= 1);
	assert_true(sample(t, "sipwarden_calls_total{outcome=\"failed\"}") >= 1);
	assert_int_equal(sample(t, "sipwarden_bindings"), 3);
	assert_int_equal(sample(t, "sipwarden_subscribers"), 7);
	assert_non_null(strstr(t, "sipwarden_build_info{version=\"9.9\"} 1\n"));
	assert_non_null(strstr(t, "process_start_time_seconds 1700000000.500\n"));
	assert_non_null(strstr(t, "# TYPE sipwarden_commit_wait_seconds histogram\n"));
	uint64_t b0 = sample(t, "sipwarden_commit_wait_seconds_bucket{le=\"0.00025\"}");
	uint64_t b1 = sample(t, "sipwarden_commit_wait_seconds_bucket{le=\"1\"}");
	uint64_t inf = sample(t, "sipwarden_commit_wait_seconds_bucket{le=\"+Inf\"}");
	assert_true(b0 >= 1 && b1 >= b0 && inf == b1 + 1);
	assert_int_equal(sample(t, "sipwarden_commit_wait_seconds_count"), inf);
	/* every line: a comment (HELP or TYPE) or NAME{LABELS} VALUE */
	regex_t re;
	assert_int_equal(regcomp(&re, "^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? "
				      "[0-9.e+-]+)$", REG_EXTENDED | REG_NOSUB), 0);
	unsigned lines = 0;
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"), lines++)
		if (regexec(&re, line, 0, NULL, 0))
			fail_msg("malformed line: %s", line);
	assert_true(lines > 100);
	regfree(&re);
	free(t);
}

static void test_history(void **state)
{
	(void)state;
	int64_t t0 = 1800000000 - 1800000000 % 60; /* the start of a minute */
	sw_metrics_history_tick(t0 + 1);
	for (int i = 0; i < 3; i++)
		sw_metrics_auth(SW_METHOD_REGISTER, SW_CAUSE_NONCE_REPLAY);
	sw_metrics_history_tick(t0 + 61); /* the next minute starts */
	sw_metrics_auth(SW_METHOD_REGISTER, SW_CAUSE_NONCE_REPLAY);
	char mem[65536];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_metrics_history_json(&b, t0 + 70, 3);
	sw_buf_addc(&b, '\0');
	char want[200];
	snprintf(want, sizeof(want), "{\"minutes\":[%lld,%lld,%lld],", (long long)(t0 - 60), (long long)t0,
		 (long long)(t0 + 60));
	assert_memory_equal(mem, want, strlen(want));
	/* before the first snapshot: 0; the minute that had 3; the current one 1 */
	assert_non_null(strstr(mem, "\"nonce-replay\":[0,3,1]"));
}

static int count_user(void *arg, const struct sw_subscriber *s)
{
	(void)s;
	(*(uint64_t *)arg)++;
	return 0;
}

static void test_user_count(void **state)
{
	(void)state;
	struct sw_store *st;
	assert_int_equal(sw_store_open(&st, "memory:", NULL), 0);
	struct sw_credentials c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_credentials_compute(NULL, "a", "example.com", SW_STR_LIT("x"), &c), 0);
	assert_int_equal(sw_store_user_add(st, "a", "example.com", &c, false, 1), 0);
	assert_int_equal(sw_store_user_add(st, "b", "example.com", &c, true, 1), 0);
	uint64_t n = 0, walked = 0;
	assert_int_equal(sw_store_user_count(st, &n), 0);
	assert_int_equal(sw_store_user_list(st, count_user, &walked), 0);
	assert_int_equal(n, 2);
	assert_int_equal(walked, n);
	sw_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_user_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
