/* The memory backend's events: a plain array, oldest first, under a lock of
 * its own, with the sqlite backend's retention (a row limit and an age
 * limit) applied in chunks as events come in and in full on prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/store_int.h"

struct sw__mem_events {
	pthread_mutex_t lock;
	struct sw_auth_event *v;
	size_t n, cap;
	uint64_t next_id;
	uint64_t dropped;            /* could not be kept (no memory) */
	uint32_t max_rows, max_age;  /* max_age in seconds */
};

int sw__mem_events_new(struct sw__mem_events **out, const struct sw_store_opts *opts)
{
	struct sw__mem_events *e = calloc(1, sizeof(*e));
	if (!e)
		return SW_ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	e->max_rows = opts->events_max_rows;
	e->max_age = opts->events_max_age;
	*out = e;
	return 0;
}

void sw__mem_events_free(struct sw__mem_events *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e->v);
	free(e);
}

uint64_t sw__mem_events_dropped(struct sw__mem_events *e)
{
	pthread_mutex_lock(&e->lock);
	uint64_t n = e->dropped;
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* Drops events older than the age limit or beyond the row limit. Lock held. */
static size_t prune(struct sw__mem_events *e, int64_t now_ms)
{
	int64_t cutoff = now_ms - (int64_t)e->max_age * 1000;
	size_t drop = 0;
	while (drop < e->n && e->v[drop].time_ms < cutoff)
		drop++;
	if (e->n - drop > e->max_rows)
		drop = e->n - e->max_rows;
	if (drop) {
		memmove(e->v, e->v + drop, (e->n - drop) * sizeof(*e->v));
		e->n -= drop;
	}
	return drop;
}

int sw__mem_event_record(struct sw_store *st, const struct sw_auth_event *ev)
{
	struct sw__mem_events *e = sw__mem_events_of(st);
	int err;
	pthread_mutex_lock(&e->lock);
	/* prune in chunks so recording stays O(1) amortised */
	if (e->n >= e->max_rows + e->max_rows / 8 + 1 ||
	    (e->n && e->v[0].time_ms + 60000 < ev->time_ms - (int64_t)e->max_age * 1000))
		prune(e, ev->time_ms);
	err = sw__mem_grow((void **)&e->v, &e->cap, e->n + 1, sizeof(*e->v));
	if (!err) {
		e->v[e->n] = *ev;
		e->v[e->n++].id = ++e->next_id;
	} else {
		e->dropped++;
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

static bool event_match(const struct sw_auth_event *e, const struct sw_event_query *q,
			const char *aor)
{
	if (q->user && strcmp(e->aor, aor) &&
	    (strcmp(e->auth_user, q->user) || strcmp(e->realm, q->domain)))
		return false;
	if (e->time_ms < q->since_ms)
		return false;
	if (q->cause && strcmp(e->cause, q->cause))
		return false;
	if (q->method && strcasecmp(e->method, q->method))
		return false;
	return !q->source_addr || !strcmp(e->source_addr, q->source_addr);
}

int sw__mem_event_query(struct sw_store *st, const struct sw_event_query *q,
			sw_store_event_fn fn, void *arg)
{
	struct sw__mem_events *e = sw__mem_events_of(st);
	char aor[SW_STORE_AOR_MAX + 2] = "";
	int rc = 0;
	uint32_t n = 0;
	if (q->user)
		snprintf(aor, sizeof(aor), "%s@%s", q->user, q->domain);
	pthread_mutex_lock(&e->lock);
	/* apply the retention limits as the sqlite writer would have */
	size_t cut = e->n > e->max_rows ? e->n - e->max_rows : 0;
	for (size_t i = e->n; i > cut && !rc && (!q->limit || n < q->limit); i--) {
		if (!event_match(&e->v[i - 1], q, aor))
			continue;
		n++;
		rc = fn(arg, &e->v[i - 1]);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int sw__mem_event_prune(struct sw_store *st, int64_t now_ms, size_t *removed)
{
	struct sw__mem_events *e = sw__mem_events_of(st);
	pthread_mutex_lock(&e->lock);
	*removed = prune(e, now_ms);
	pthread_mutex_unlock(&e->lock);
	return 0;
}
