/* Overload control for UDP (docs/internals/server.md, "Overload"): which
 * datagrams a worker sheds with 503 + Retry-After instead of letting the
 * kernel drop datagrams at random when the receive buffer overflows.
 *
 * The signal is the time a datagram waited in the socket's queue (the
 * kernel's receive timestamp), as in CoDel: a queue whose datagrams wait
 * longer than queue_delay for a whole interval is a standing queue, not a
 * burst (a CPU quota's pauses or a wake-up's batch drain within the
 * interval). While it stands, new work (a request that starts a
 * transaction without credentials) that waited longer than queue_delay is
 * shed; the rest (responses, ACK, CANCEL, in-dialog requests, answers to a
 * challenge) is always taken, since it completes work already paid for.
 * The overload ends when a read finds the socket empty. Everything here is
 * per worker, on its thread: no locks, no allocation. */
#include <string.h>
#include <strings.h>
#include <time.h>
#include "server/server_int.h"

#define INTERVAL_NS 100000000ull   /* how long the delay must stand */

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sw__ovl_init(struct sw__ovl *o, const struct sw_server_cfg *cfg, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->enabled = cfg->overload_enabled;
	o->delay_ns = (uint64_t)(cfg->overload_delay_ms ? cfg->overload_delay_ms : 50u) * 1000000ull;
	o->retry_min = cfg->retry_after ? cfg->retry_after : 5u;
	o->retry_max = cfg->retry_after_max >= o->retry_min ? cfg->retry_after_max : o->retry_min;
	o->rng = seed | 1;
}

/* Does a header line (at p, up to end) start with name + optional blanks +
 * ':'? Case-insensitive. */
static bool hdr_is(const char *p, const char *end, const char *name, size_t n)
{
	if ((size_t)(end - p) <= n || strncasecmp(p, name, n))
		return false;
	p += n;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == ':';
}

bool sw__ovl_is_new(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	if (len < 8 || !memcmp(buf, "SIP/", 4))
		return false; /* a response: always work in progress */
	if (!memcmp(buf, "ACK ", 4) || !memcmp(buf, "CANCEL ", 7))
		return false;
	const char *nl = memchr(p, '\n', len);
	while (nl && nl + 1 < end) {
		p = nl + 1;
		if (*p == '\r' || *p == '\n')
			break; /* the end of the headers */
		nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char c = (char)(*p | 0x20); /* the first letter first: most lines are none of these */
		if ((c == 'a' && hdr_is(p, le, "Authorization", 13)) ||
		    (c == 'p' && hdr_is(p, le, "Proxy-Authorization", 19)))
			return false; /* an answer to a challenge */
		if (c == 't' && (hdr_is(p, le, "To", 2) || hdr_is(p, le, "t", 1))) {
			/* a To tag: a request inside a dialog */
			for (const char *q = p; q + 4 < le; q++)
				if ((*q == ';') && !strncasecmp(q + 1, "tag", 3))
					return false;
		}
	}
	return true;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The Retry-After to give: retry_after, times one plus the ratio of shed to
 * admitted new requests over the last second (so that the retries of a
 * storm three times the capacity come back spread over a longer time than
 * those of a brief excess), capped at retry_after_max, then a random value
 * in [R, 2R) so that they do not come back together. */
static uint32_t retry_after(struct sw__ovl *o)
{
	uint64_t r = (uint64_t)o->retry_min * (16u + o->ratio_x16) / 16u;
	if (r > o->retry_max)
		r = o->retry_max;
	if (!r)
		r = 1;
	uint64_t span = r < o->retry_max ? r : 1;
	r += xorshift(&o->rng) % span;
	return (uint32_t)(r < o->retry_max ? r : o->retry_max);
}

static void roll_second(struct sw__ovl *o, uint64_t now_ns)
{
	if (now_ns - o->sec_start_ns < 1000000000ull)
		return;
	uint64_t ratio = o->sec_new ? (uint64_t)o->sec_shed * 16u / o->sec_new : o->sec_shed ? 16u * 64u : 0u;
	if (ratio > 16u * 64u)
		ratio = 16u * 64u;
	o->ratio_x16 = (uint32_t)((o->ratio_x16 + ratio) / 2u); /* smoothed over about two seconds */
	o->last_shed = o->sec_shed;
	o->last_admitted = o->sec_new;
	o->last_drops = o->sec_drops;
	o->sec_shed = o->sec_new = o->sec_drops = 0;
	o->sec_start_ns = now_ns;
}

uint64_t sw__ovl_now(void)
{
	return real_ns();
}

bool sw__ovl_judge(struct sw__ovl *o, uint64_t now, uint64_t rx_ns, uint32_t drops, const char *buf, size_t len,
		   uint32_t *retry)
{
	if (!o->enabled)
		return false;
	roll_second(o, now);
	if (drops != o->drops_seen) {
		/* the kernel dropped datagrams: the receive buffer overflowed (the
		 * socket's counter starts at 0; the kernel attaches it to a
		 * datagram once it is not 0) */
		uint32_t d = drops - o->drops_seen;
		o->drops_seen = drops;
		o->sec_drops += d;
		o->kernel_drops += d;
		o->overloaded = true;
	}
	uint64_t waited = rx_ns && now > rx_ns ? now - rx_ns : 0;
	if (waited < o->delay_ns) {
		o->above_since = 0;
	} else if (!o->above_since) {
		o->above_since = now;
	} else if (now - o->above_since >= INTERVAL_NS) {
		o->overloaded = true;
	}
	if (!o->overloaded || !sw__ovl_is_new(buf, len))
		return false;
	if (waited < o->delay_ns) {
		o->sec_new++;
		return false;
	}
	o->sec_shed++;
	o->shed++;
	*retry = retry_after(o);
	return true;
}

bool sw_worker_shed_backlog(struct sw_worker *w, uint64_t waiting_ms, uint32_t *retry)
{
	struct sw__ovl *o = &w->ovl;
	if (!o->enabled)
		return false;
	roll_second(o, real_ns());
	if (waiting_ms * 1000000ull <= 10u * o->delay_ns) {
		o->sec_new++;
		return false;
	}
	o->sec_shed++;
	o->shed++;
	*retry = retry_after(o);
	return true;
}

uint32_t sw_worker_queue_delay_ms(const struct sw_worker *w)
{
	return w->ovl.enabled ? (uint32_t)(w->ovl.delay_ns / 1000000u) : 0;
}

void sw__ovl_drained(struct sw__ovl *o)
{
	o->overloaded = false;
	o->above_since = 0;
}

void sw_worker_overload(const struct sw_worker *w, struct sw_overload_second *out)
{
	const struct sw__ovl *o = &w->ovl;
	out->overloaded = o->overloaded;
	out->shed = o->last_shed;
	out->admitted = o->last_admitted;
	out->kernel_drops = o->last_drops;
	uint64_t r = (uint64_t)o->retry_min * (16u + o->ratio_x16) / 16u;
	out->retry_after = (uint32_t)(r < o->retry_max ? r : o->retry_max);
	out->second_ns = o->sec_start_ns;
}
