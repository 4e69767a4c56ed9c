/* The decision log kept useful and bounded under attack (sipwarden-serve(1),
 * "LOG"): of the decisions with one cause from one source address, only the
 * first of each second gets a line, the rest are counted and summed up
 * ("N more like this from ADDR in the last second") once the second is
 * over; and at most max_bytes go to the log per second, after which lines
 * are counted and one line says how many were left out. Both tables are
 * fixed: an attacker with a million addresses evicts entries early (their
 * summaries are written then), it does not grow memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "journal.h"
#include "reg_int.h"

#define SLOTS 1024u

struct agg {
	char addr[46];
	uint16_t cause;
	int64_t sec;                 /* the second of the line written; 0: free */
	uint32_t more;               /* lines left out since */
};

struct sw__logcap {
	struct agg slot[SLOTS];
	int64_t sec;                 /* the second the byte count is for */
	uint64_t bytes;              /* written in sec */
	uint64_t over_lines, over_bytes; /* left out in sec for the ceiling */
};

int sw__logcap_new(struct sw__logcap **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : SW_ENOMEM;
}

void sw__logcap_free(struct sw__logcap *c)
{
	free(c);
}

static uint32_t max_bytes(const struct sw_registrar *r)
{
	uint32_t m = atomic_load_explicit(&r->log_max_bytes, memory_order_relaxed);
	return m ? m : 65536u;
}

static void stamp(struct sw_buf *b, bool json, int64_t sec)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)sec;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (json)
		sw_buf_addf(b, "{\"time\":\"%s.000Z\"", when);
	else
		sw_buf_adds(b, when);
}

/* Under the lock: writes one line within the ceiling, or counts it. */
/* A line of the log's own to the log, or to the journal when that is the log. */
static void emit(struct sw_registrar *r, const char *line, size_t len)
{
	if (r->cfg.log_journal)
		sw__journal_note(line, len);
	else if (r->cfg.log)
		fwrite(line, 1, len, r->cfg.log); /* flushed by sw_registrar_flush_log() */
}

/* Within the ceiling: counts len and says true; past it counts the line as
 * left out and says false. */
static bool within(struct sw_registrar *r, size_t len)
{
	if (r->logcap->bytes + len > max_bytes(r)) {
		r->logcap->over_lines++;
		r->logcap->over_bytes += len;
		r->log_suppressed++;
		return false;
	}
	r->logcap->bytes += len;
	return true;
}

static void put(struct sw_registrar *r, const char *line, size_t len)
{
	if (within(r, len))
		emit(r, line, len);
}

static void summary(struct sw_registrar *r, struct agg *a)
{
	char line[256];
	struct sw_buf b;
	sw_buf_init(&b, line, sizeof(line) - 1);
	const char *cause = sw_cause_id((enum sw_cause)a->cause);
	stamp(&b, r->cfg.log_json, a->sec);
	if (r->cfg.log_json)
		sw_buf_addf(&b, ",\"source\":\"%s\",\"cause\":\"%s\",\"repeated\":%u,\"detail\":\"%u more like "
			    "this from %s in the last second\"}", a->addr, cause, a->more, a->more, a->addr);
	else
		sw_buf_addf(&b, " %s cause=%s: %u more like this from %s in the last second", a->addr, cause,
			    a->more, a->addr);
	if (!b.overflow) {
		b.p[b.len++] = '\n';
		put(r, b.p, b.len);
	}
	a->more = 0;
}

/* Under the lock: a new second. Says what the ceiling left out of the last
 * one (always: one line a second at most), then sums up the repeats. */
static void roll(struct sw_registrar *r, int64_t now)
{
	struct sw__logcap *c = r->logcap;
	if (now == c->sec)
		return;
	if (c->over_lines) {
		char line[320];
		struct sw_buf b;
		sw_buf_init(&b, line, sizeof(line) - 1);
		stamp(&b, r->cfg.log_json, c->sec);
		if (r->cfg.log_json)
			sw_buf_addf(&b, ",\"log_suppressed\":%llu,\"bytes\":%llu,\"detail\":\"%llu log lines "
				    "(%llu bytes) over the ceiling of %u bytes per second not written\"}",
				    (unsigned long long)c->over_lines, (unsigned long long)c->over_bytes,
				    (unsigned long long)c->over_lines, (unsigned long long)c->over_bytes, max_bytes(r));
		else
			sw_buf_addf(&b, " log: %llu lines (%llu bytes) over the ceiling of %u bytes per second not "
				    "written", (unsigned long long)c->over_lines,
				    (unsigned long long)c->over_bytes, max_bytes(r));
		if (!b.overflow) {
			b.p[b.len++] = '\n';
			emit(r, b.p, b.len);
		}
	}
	c->sec = now;
	c->bytes = 0;
	c->over_lines = c->over_bytes = 0;
	for (unsigned i = 0; i < SLOTS; i++)
		if (c->slot[i].more && c->slot[i].sec < now)
			summary(r, &c->slot[i]);
}

static uint32_t hash(const char *addr, unsigned cause)
{
	uint32_t h = 2166136261u ^ cause;
	for (const char *p = addr; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

bool sw__logcap_first(struct sw_registrar *r, const char *addr, enum sw_cause cause, int64_t now)
{
	struct sw__logcap *c = r->logcap;
	pthread_mutex_lock(&r->log_lock);
	roll(r, now);
	struct agg *a = &c->slot[hash(addr, (unsigned)cause) % SLOTS];
	bool same = a->sec && a->cause == (uint16_t)cause && !strcmp(a->addr, addr);
	if (same && a->sec == now) {
		a->more++;
		r->log_suppressed++;
		pthread_mutex_unlock(&r->log_lock);
		return false;
	}
	if (a->more)
		summary(r, a); /* another key takes the slot, or an older second */
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->cause = (uint16_t)cause;
	a->sec = now;
	pthread_mutex_unlock(&r->log_lock);
	return true;
}

void sw__logcap_more(struct sw_registrar *r, const char *addr, enum sw_cause cause, int64_t sec, uint32_t n,
		     int64_t now)
{
	struct sw__logcap *c = r->logcap;
	pthread_mutex_lock(&r->log_lock);
	r->log_suppressed += n;
	struct agg *a = &c->slot[hash(addr, (unsigned)cause) % SLOTS];
	if (a->sec == sec && a->cause == (uint16_t)cause && !strcmp(a->addr, addr)) {
		a->more += n; /* before the roll, so that this second's summary has them */
	} else {
		/* the slot went to another source since: a summary of their own */
		struct agg own = { .cause = (uint16_t)cause, .sec = sec, .more = n };
		snprintf(own.addr, sizeof(own.addr), "%s", addr);
		summary(r, &own);
	}
	roll(r, now);
	pthread_mutex_unlock(&r->log_lock);
}

void sw__logcap_write(struct sw_registrar *r, const char *line, size_t len, int64_t now)
{
	pthread_mutex_lock(&r->log_lock);
	roll(r, now);
	put(r, line, len);
	pthread_mutex_unlock(&r->log_lock);
}

bool sw__logcap_admit(struct sw_registrar *r, size_t len, int64_t now)
{
	pthread_mutex_lock(&r->log_lock);
	roll(r, now);
	bool ok = within(r, len);
	pthread_mutex_unlock(&r->log_lock);
	return ok;
}

void sw__logcap_tick(struct sw_registrar *r, int64_t now)
{
	pthread_mutex_lock(&r->log_lock);
	roll(r, now);
	pthread_mutex_unlock(&r->log_lock);
}
