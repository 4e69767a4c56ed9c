/* The registrar's durable writes without the network: for each of N
 * registrations, one binding PUT submitted to the sqlite store's group-commit
 * writer and the two auth events of a registration (the challenge and the
 * success), the way `serve` does it, with up to IN_FLIGHT writes outstanding.
 * Prints registrations/s and the process CPU time per registration (the
 * writer thread's work, since the submitting side does almost nothing).
 * Never fails on time.
 *   taskset -c 1 build/release/bench/bench_store [N, default 100000] [users, default 10000] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "sipwarden/store.h"

#define IN_FLIGHT 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned outstanding, failed;

static void done(void *arg, int err)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	outstanding--;
	failed += err != 0;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static double now_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void event(struct sw_auth_event *e, unsigned u, const char *cause, int64_t t)
{
	memset(e, 0, sizeof(*e));
	e->time_ms = t;
	snprintf(e->source_addr, sizeof(e->source_addr), "127.0.0.1");
	e->source_port = (uint16_t)(20000 + u % 40000);
	snprintf(e->transport, sizeof(e->transport), "udp");
	snprintf(e->method, sizeof(e->method), "REGISTER");
	snprintf(e->aor, sizeof(e->aor), "user%05u@127.0.0.1", u);
	snprintf(e->auth_user, sizeof(e->auth_user), "user%05u", u);
	snprintf(e->realm, sizeof(e->realm), "127.0.0.1");
	snprintf(e->user_agent, sizeof(e->user_agent), "Yealink SIP-T46U 108.86.0.45");
	snprintf(e->cause, sizeof(e->cause), "%s", cause);
	snprintf(e->detail, sizeof(e->detail), "%s", strcmp(cause, "ok") ? "the request has no credentials" : "registered");
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000, users = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
	if (!n || !users) {
		fprintf(stderr, "usage: bench_store [registrations] [users]\n");
		return 2;
	}
	char dir[] = "/tmp/bench_store.XXXXXX", spec[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(spec, sizeof(spec), "sqlite:%s/b.db", dir);
	struct sw_store_opts o = { .create = true };
	struct sw_store *st;
	if (sw_store_open(&st, spec, &o)) {
		fprintf(stderr, "bench_store: cannot open %s\n", spec);
		return 1;
	}
	static struct sw_binding_op op;
	struct sw_auth_event ev;
	double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	int64_t t = (int64_t)time(NULL);
	for (unsigned i = 0; i < n; i++) {
		unsigned u = i % users;
		event(&ev, u, "no-credentials", t * 1000 + i / 1000);
		sw_store_event_record(st, &ev);
		memset(&op, 0, sizeof(op));
		op.kind = SW_BINDING_PUT;
		struct sw_binding *b = &op.b;
		snprintf(b->aor, sizeof(b->aor), "user%05u@127.0.0.1", u);
		snprintf(b->contact, sizeof(b->contact), "sip:user%05u@127.0.0.1:%u;transport=udp", u, 20000 + u % 40000);
		b->expires = t + 3600;
		b->q = 1000;
		snprintf(b->call_id, sizeof(b->call_id), "%08x-%u@127.0.0.1", i * 2654435761u, i);
		b->cseq = i;
		snprintf(b->source_addr, sizeof(b->source_addr), "127.0.0.1");
		b->source_port = (uint16_t)(20000 + u % 40000);
		snprintf(b->transport, sizeof(b->transport), "udp");
		snprintf(b->user_agent, sizeof(b->user_agent), "Yealink SIP-T46U 108.86.0.45");
		b->updated = t;
		pthread_mutex_lock(&lock);
		while (outstanding >= IN_FLIGHT)
			pthread_cond_wait(&cond, &lock);
		outstanding++;
		pthread_mutex_unlock(&lock);
		if (sw_store_bindings_submit(st, &op, 1, done, NULL))
			done(NULL, 1);
		event(&ev, u, "ok", t * 1000 + i / 1000);
		sw_store_event_record(st, &ev);
	}
	pthread_mutex_lock(&lock);
	while (outstanding)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	sw_store_flush(st);
	double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	struct sw_store_stats s;
	sw_store_stats(st, &s);
	sw_store_close(st);
	printf("%u registrations (%u users), %u failed: %.0f/s, %.1f us CPU each, %llu commits (%.1f per commit)\n", n,
	       users, failed, n / (w1 - w0), (c1 - c0) * 1e6 / n, (unsigned long long)s.commits,
	       s.commits ? (double)n / (double)s.commits : 0.0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 && failed == 0 ? 0 : 1;
}
