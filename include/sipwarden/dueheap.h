/* sipwarden — a min-heap of deadlines: what the proxy's transaction timers
 * and the load generator's Retry-After waits are kept in. An entry names
 * its owner by two numbers (a slot and a generation or sequence), so that
 * an entry whose owner moved on can be told stale when it comes due. */
#ifndef SIPWARDEN_DUEHEAP_H
#define SIPWARDEN_DUEHEAP_H

#include "sipwarden/common.h"

struct sw_due {
	uint64_t due;
	uint32_t id, gen;
};

struct sw_dueheap {
	struct sw_due *v;            /* earliest first: v[0] */
	size_t n, cap;
};

/* Adds e, doubling the room from 1,024 entries. 0 or SW_ENOMEM. */
int sw_dueheap_push(struct sw_dueheap *h, struct sw_due e);
/* The earliest entry if it is due by now: 1 and *e (removed), else 0. */
int sw_dueheap_pop_due(struct sw_dueheap *h, uint64_t now, struct sw_due *e);
/* Keeps only the entries keep() says yes to, then gives back room beyond
 * twice what is left (at least 1,024 entries). */
void sw_dueheap_filter(struct sw_dueheap *h, bool (*keep)(void *arg, const struct sw_due *e), void *arg);
void sw_dueheap_free(struct sw_dueheap *h);

#endif
