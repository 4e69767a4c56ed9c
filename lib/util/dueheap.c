/* A binary min-heap of deadlines (include/sipwarden/dueheap.h): the parent
 * of i is (i - 1) / 2. */
#include <stdlib.h>
#include "sipwarden/dueheap.h"

/* Puts e at i or below, moving earlier children up. */
static void sift_down(struct sw_dueheap *h, size_t i, struct sw_due e)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].due < h->v[c].due)
			c++;
		if (e.due <= h->v[c].due)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (i < h->n)
		h->v[i] = e;
}

int sw_dueheap_push(struct sw_dueheap *h, struct sw_due e)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct sw_due *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return SW_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0 && h->v[(i - 1) / 2].due > e.due) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = e;
	return 0;
}

int sw_dueheap_pop_due(struct sw_dueheap *h, uint64_t now, struct sw_due *e)
{
	if (!h->n || h->v[0].due > now)
		return 0;
	*e = h->v[0];
	struct sw_due last = h->v[--h->n];
	sift_down(h, 0, last);
	return 1;
}

void sw_dueheap_filter(struct sw_dueheap *h, bool (*keep)(void *arg, const struct sw_due *e), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		if (keep(arg, &h->v[i]))
			h->v[n++] = h->v[i];
	h->n = n;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(h, i, h->v[i]);
	size_t cap = 1024;
	while (cap < 2 * n)
		cap *= 2;
	struct sw_due *v = cap < h->cap ? realloc(h->v, cap * sizeof(*v)) : NULL;
	if (v) {
		h->v = v;
		h->cap = cap;
	}
}

void sw_dueheap_free(struct sw_dueheap *h)
{
	free(h->v);
	*h = (struct sw_dueheap){ 0 };
}
