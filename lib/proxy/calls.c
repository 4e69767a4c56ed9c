/* The recent calls: a ring of the last SW_CALLS_MAX INVITEs the proxy
 * forwarded, with their state, final status and cause, shared by the
 * workers (one lock, taken a few times per call). `sipwarden calls` reads
 * the snapshot the server writes once a second beside the database
 * (DB-calls.json, written to a temporary file and renamed). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "proxy/proxy_int.h"
#include "sipwarden/metrics.h"

#define SW_CALLS_MAX 1024u

struct call {
	int64_t seq;                   /* 0: free */
	char call_id[128];
	char caller[SW_STORE_AOR_MAX + 1], callee[SW_STORE_AOR_MAX + 1];
	char source[64];
	const char *state;             /* trying, ringing, established, ended, failed, cancelled */
	unsigned status;
	const char *cause;             /* a cause id, "" when none */
	int64_t started_ms, answered_ms, ended_ms;
};

#define CALLS_BUCKETS 4096u /* Call-ID hash -> the newest call with it, for BYE */

struct sw_calls {
	pthread_mutex_t lock;
	int64_t by_cid[CALLS_BUCKETS];
	int64_t seq;
	unsigned changes, written;  /* the snapshot is rewritten when they differ */
	struct call ring[SW_CALLS_MAX];
};

int sw_calls_new(struct sw_calls **out)
{
	struct sw_calls *c = calloc(1, sizeof(*c));
	if (!c)
		return SW_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->written = ~0u;
	*out = c;
	return 0;
}

void sw_calls_free(struct sw_calls *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static unsigned cid_bucket(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h & (CALLS_BUCKETS - 1);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The record of seq, or NULL when the ring has moved past it. */
static struct call *find(struct sw_calls *c, int64_t seq)
{
	struct call *k = &c->ring[(uint64_t)seq % SW_CALLS_MAX];
	return k->seq == seq ? k : NULL;
}

void sw__px_call_begin(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_req *q)
{
	struct sw_calls *c = pw->calls;
	struct px_ctx *x = t->user;
	sw_str cid = SW_STR_NULL;
	sw_msg_call_id(q->m, &cid, NULL);
	pthread_mutex_lock(&c->lock);
	struct call *k = &c->ring[(uint64_t)(++c->seq) % SW_CALLS_MAX];
	memset(k, 0, sizeof(*k));
	k->seq = x->call_id = c->seq;
	sw_str_cpy(k->call_id, sizeof(k->call_id), cid);
	c->by_cid[cid_bucket(k->call_id, strlen(k->call_id))] = k->seq;
	sw_join(k->caller, sizeof(k->caller), x->caller, "", "");
	sw_join(k->callee, sizeof(k->callee), x->callee, "", "");
	sw_sockaddr_format((const struct sockaddr *)&q->from->addr, k->source, sizeof(k->source));
	k->state = "trying";
	k->cause = "";
	k->started_ms = wall_ms();
	c->changes++;
	pthread_mutex_unlock(&c->lock);
}

void sw__px_call_refused(struct sw_proxy_worker *pw, struct sw_ptx *t, struct sw_req *q, unsigned status)
{
	struct px_ctx *x = t->user;
	if (!t->invite || !x || x->call_id || x->in_dialog || x->cause == SW_CAUSE_OK ||
	    x->cause == SW_CAUSE_NO_CREDENTIALS || x->cause == SW_CAUSE_STALE_NONCE)
		return;
	sw__px_call_begin(pw, t, q);
	struct sw_calls *c = pw->calls;
	pthread_mutex_lock(&c->lock);
	struct call *k = find(c, x->call_id);
	sw_metrics_inc(SW_M_CALL_FAILED);
	if (k) {
		k->state = "failed";
		k->status = status;
		k->cause = sw_cause_id(x->cause);
		k->ended_ms = k->started_ms;
	}
	pthread_mutex_unlock(&c->lock);
	x->call_id = 0; /* ended: nothing more to update */
}

void sw__px_call_update(struct sw_proxy_worker *pw, struct sw_ptx *t, unsigned status, const struct sw_msg *resp)
{
	(void)resp;
	struct sw_calls *c = pw->calls;
	struct px_ctx *x = t->user;
	pthread_mutex_lock(&c->lock);
	struct call *k = find(c, x->call_id);
	if (k) {
		k->status = status;
		if (status < 200) {
			k->state = "ringing";
		} else if (status < 300) {
			if (!k->answered_ms && !k->ended_ms)
				sw_metrics_inc(SW_M_CALL_ANSWERED);
			k->state = "established";
			k->answered_ms = wall_ms();
		} else {
			bool cancelled = t->cancelled || status == 487;
			if (!k->answered_ms && !k->ended_ms)
				sw_metrics_inc(cancelled ? SW_M_CALL_CANCELLED : SW_M_CALL_FAILED);
			k->state = cancelled ? "cancelled" : "failed";
			k->cause = x->outcome != SW_CAUSE_OK ? sw_cause_id(x->outcome) : "";
			k->ended_ms = wall_ms();
		}
		c->changes++;
	}
	pthread_mutex_unlock(&c->lock);
}

void sw__px_call_bye(struct sw_proxy_worker *pw, sw_str call_id)
{
	struct sw_calls *c = pw->calls;
	char cid[sizeof(((struct call *)0)->call_id)];
	sw_str_cpy(cid, sizeof(cid), call_id); /* as stored: cut to the field's size */
	pthread_mutex_lock(&c->lock);
	int64_t seq = c->by_cid[cid_bucket(cid, strlen(cid))];
	struct call *k = seq ? find(c, seq) : NULL;
	if (k && !k->ended_ms && !strcmp(k->call_id, cid)) {
		k->state = "ended";
		k->ended_ms = wall_ms();
		c->changes++;
	}
	pthread_mutex_unlock(&c->lock);
}

static void add_json(struct sw_buf *b, const char *name, const char *v)
{
	sw_buf_addc(b, '"');
	sw_buf_adds(b, name);
	sw_buf_adds(b, "\":");
	sw_buf_add_json_str(b, v, strlen(v));
}

static void add_ms(struct sw_buf *b, const char *name, int64_t ms)
{
	sw_buf_adds(b, name);
	if (ms < 0) {
		sw_buf_addc(b, '-');
		ms = -ms;
	}
	sw_buf_add_uint(b, (uint64_t)ms);
}

int sw_calls_snapshot(struct sw_calls *c, const char *path)
{
	pthread_mutex_lock(&c->lock);
	if (c->changes == c->written) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	struct sw_buf b;
	size_t cap = (size_t)SW_CALLS_MAX * 1400 + 64;
	char *mem = malloc(cap);
	if (!mem) {
		pthread_mutex_unlock(&c->lock);
		return SW_ENOMEM;
	}
	sw_buf_init(&b, mem, cap);
	sw_buf_adds(&b, "[");
	bool first = true;
	/* newest first */
	for (int64_t s = c->seq; s > 0 && s > c->seq - (int64_t)SW_CALLS_MAX; s--) {
		const struct call *k = find(c, s);
		if (!k)
			continue;
		sw_buf_adds(&b, first ? "\n" : ",\n");
		first = false;
		sw_buf_addc(&b, '{');
		add_json(&b, "call_id", k->call_id);
		sw_buf_addc(&b, ',');
		add_json(&b, "caller", k->caller);
		sw_buf_addc(&b, ',');
		add_json(&b, "callee", k->callee);
		sw_buf_addc(&b, ',');
		add_json(&b, "source", k->source);
		sw_buf_addc(&b, ',');
		add_json(&b, "state", k->state);
		sw_buf_adds(&b, ",\"status\":");
		sw_buf_add_uint(&b, k->status);
		sw_buf_addc(&b, ',');
		add_json(&b, "cause", k->cause);
		/* once a second for the whole ring: no printf */
		add_ms(&b, ",\"started_ms\":", k->started_ms);
		add_ms(&b, ",\"answered_ms\":", k->answered_ms);
		add_ms(&b, ",\"ended_ms\":", k->ended_ms);
		sw_buf_addc(&b, '}');
	}
	sw_buf_adds(&b, "\n]\n");
	c->written = c->changes;
	pthread_mutex_unlock(&c->lock);
	int rc = SW_EIO;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = b.overflow ? NULL : fopen(tmp, "w");
	if (f) {
		bool ok = fwrite(b.p, 1, b.len, f) == b.len;
		ok &= fclose(f) == 0;
		if (ok && rename(tmp, path) == 0)
			rc = 0;
	}
	free(mem);
	return rc;
}
