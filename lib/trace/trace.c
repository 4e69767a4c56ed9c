/* The analysis object: inputs, the messages found in them, format detection,
 * and the order of the steps (read, correlate, judge). */
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

int sw_trace_new(struct sw_trace **out, const struct sw_trace_opts *o)
{
	struct sw_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return SW_ENOMEM;
	if (o)
		t->o = *o;
	if (t->o.nports > SW_TRACE_MAX_PORTS)
		t->o.nports = SW_TRACE_MAX_PORTS;
	*out = t;
	return 0;
}

void sw_trace_free(struct sw_trace *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->ninputs; i++)
		free(t->inputs[i]);
	free(t->inputs);
	sw__flows_free(t);
	for (size_t i = 0; i < t->nmsgs; i++) {
		free(t->msgs[i].data);
		free(t->msgs[i].m);
	}
	free(t->msgs);
	free(t->freeslots);
	free(t->heap);
	free(t->scratch);
	sw__frag_free(t->frags);
	sw__tcp_free(t->tcp);
	free(t);
}

unsigned sw_trace_add_input(struct sw_trace *t, const char *name)
{
	char **n = realloc(t->inputs, (t->ninputs + 1) * sizeof(*n));
	if (!n)
		return t->ninputs ? t->ninputs - 1 : 0;
	t->inputs = n;
	t->inputs[t->ninputs] = strdup(name ? name : "-");
	return t->ninputs++;
}

const char *sw_trace_input_name(const struct sw_trace *t, unsigned input)
{
	return input < t->ninputs && t->inputs[input] ? t->inputs[input] : "-";
}

bool sw__trace_sip_port(const struct sw_trace *t, unsigned port)
{
	if (port == 5060 || port == 5061)
		return true;
	for (unsigned i = 0; i < t->o.nports; i++)
		if (t->o.ports[i] == port)
			return true;
	return false;
}

/* "METHOD sip:... SIP/2.0" or "SIP/2.0 NNN": checked on the first line only. */
bool sw__looks_like_sip(const char *p, size_t len)
{
	if (len >= 12 && !memcmp(p, "SIP/2.0 ", 8))
		return p[8] >= '1' && p[8] <= '6' && p[9] >= '0' && p[9] <= '9' && p[10] >= '0' &&
		       p[10] <= '9';
	size_t i = 0;
	while (i < len && i < 32 && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
		i++;
	if (i < 3 || i >= len || p[i] != ' ')
		return false;
	size_t lim = len < 1024 ? len : 1024;
	const char *nl = memchr(p, '\n', lim);
	if (!nl)
		return false;
	size_t ll = (size_t)(nl - p);
	if (ll && p[ll - 1] == '\r')
		ll--;
	return ll >= 8 + i && !memcmp(p + ll - 8, " SIP/2.0", 8);
}

/* ---- message slots and the reorder window ------------------------------- */

static bool before(const struct sw__wait *a, const struct sw__wait *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	return a->seq < b->seq;
}

static void heap_push(struct sw_trace *t, struct sw__wait w)
{
	size_t i = t->nheap++;
	while (i) {
		size_t p = (i - 1) / 2;
		if (!before(&w, &t->heap[p]))
			break;
		t->heap[i] = t->heap[p];
		i = p;
	}
	t->heap[i] = w;
}

static unsigned heap_pop(struct sw_trace *t)
{
	struct sw__wait *h = t->heap;
	unsigned top = h[0].slot;
	size_t n = --t->nheap, i = 0;
	if (!n)
		return top;
	struct sw__wait last = h[n];
	/* the hole goes down to a leaf along the earlier children, then the
	 * last entry climbs back: in a capture read in time order it is the
	 * newest message and hardly climbs (one comparison a level, not two) */
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && before(&h[c + 1], &h[c]))
			c++;
		h[i] = h[c];
	}
	while (i) {
		size_t p = (i - 1) / 2;
		if (!before(&last, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = last;
	return top;
}

void sw__msg_free(struct sw_trace *t, unsigned slot)
{
	struct sw_trace_msg *tm = &t->msgs[slot];
	free(tm->data);
	free(tm->m);
	tm->data = NULL;
	tm->m = NULL;
	tm->len = 0;
	tm->seq = (size_t)-1;
	if (t->nfree == t->capfree) {
		size_t nc = t->capfree ? t->capfree * 2 : 256;
		unsigned *n = realloc(t->freeslots, nc * sizeof(*n));
		if (!n)
			return; /* the slot is lost, not the memory of the message */
		t->freeslots = n;
		t->capfree = nc;
	}
	t->freeslots[t->nfree++] = slot;
}

/* A slot for a new message, or UINT32_MAX. */
static unsigned slot_new(struct sw_trace *t)
{
	if (t->nfree)
		return t->freeslots[--t->nfree];
	if (t->nmsgs == t->capmsgs) {
		size_t nc = t->capmsgs ? t->capmsgs * 2 : 256;
		struct sw_trace_msg *n = realloc(t->msgs, nc * sizeof(*n));
		if (!n)
			return SW__NONE;
		t->msgs = n;
		t->capmsgs = nc;
	}
	return (unsigned)t->nmsgs++;
}

/* The next message in time order leaves the window: it is parsed now, just
 * before the correlation reads it, while its bytes are in the cache. */
static void window_out(struct sw_trace *t)
{
	unsigned slot = heap_pop(t);
	if (t->nheap) {
		/* the window is larger than the cache: fetch the bytes of the next
		 * message to leave while this one is correlated */
		const struct sw__wait *w = &t->heap[0];
		for (unsigned off = 0; off < w->len && off < 2048; off += 64)
			__builtin_prefetch(w->data + off);
	}
	struct sw_trace_msg *tm = &t->msgs[slot];
	struct sw_msg *m = t->scratch;
	if (sw_msg_parse(m, tm->data, tm->len, NULL, NULL) == 0) {
		/* keep the headers in use only: the table is sized for the worst case */
		size_t sz = offsetof(struct sw_msg, hdrs) + m->nhdrs * sizeof(m->hdrs[0]);
		if ((tm->m = malloc(sz))) {
			memcpy(tm->m, m, sz);
			tm->m->memo = SW_MSG_MEMO_OFF; /* no room for it past the headers */
		}
	}
	if (!tm->m)
		t->st.parse_errors++;
	else
		tm->len = tm->m->len; /* a datagram may carry bytes past the body: keep the message only */
	sw__flow_msg(t, slot);
}

void sw_trace_add_sip(struct sw_trace *t, const struct sw_trace_meta *meta, const char *data,
		      size_t len)
{
	if (!t->heap && !(t->heap = malloc((SW_TRACE_REORDER + 1) * sizeof(*t->heap))))
		return;
	if (!t->scratch && !(t->scratch = malloc(sizeof(*t->scratch))))
		return;
	unsigned slot = slot_new(t);
	if (slot == SW__NONE)
		return;
	struct sw_trace_msg *tm = &t->msgs[slot];
	memset(tm, 0, sizeof(*tm));
	tm->meta = *meta;
	tm->seq = t->seq++;
	tm->data = malloc(len + 1);
	if (!tm->data) {
		sw__msg_free(t, slot);
		return;
	}
	memcpy(tm->data, data, len);
	tm->data[len] = '\0';
	tm->len = len;
	t->st.sip_msgs++;
	heap_push(t, (struct sw__wait){ tm->meta.ts_us, tm->seq, tm->data, slot, (unsigned)len });
	if (t->nheap > SW_TRACE_REORDER)
		window_out(t);
}

static bool is_capture(const unsigned char *b, size_t len)
{
	if (len < 4)
		return false;
	uint32_t m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 ||
	       m == 0x0a0d0d0a;
}

int sw_trace_read_mem(struct sw_trace *t, const char *name, const void *buf, size_t len,
		      char *why, size_t cap)
{
	unsigned input = sw_trace_add_input(t, name);
	t->st.bytes += len;
	if (is_capture(buf, len)) {
		FILE *f = fmemopen((void *)buf, len, "rb");
		if (!f) {
			snprintf(why, cap, "out of memory");
			return SW_ENOMEM;
		}
		return sw__pcap_read(t, input, f, len, why, cap);
	}
	return sw__textlog_read(t, input, buf, len, why, cap);
}

int sw_trace_read_file(struct sw_trace *t, const char *path, char *why, size_t cap)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(why, cap, "cannot open: %s", strerror(errno));
		return SW_EIO;
	}
	/* a capture in a regular file is streamed: never all in memory */
	struct stat sb;
	unsigned char magic[4];
	if (f != stdin && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
	    fread(magic, 1, 4, f) == 4 && is_capture(magic, 4) && fseek(f, 0, SEEK_SET) == 0) {
		unsigned input = sw_trace_add_input(t, path);
		t->st.bytes += (uint64_t)sb.st_size;
		setvbuf(f, NULL, _IOFBF, 1u << 20);
		return sw__pcap_read(t, input, f, (uint64_t)sb.st_size, why, cap);
	}
	if (f != stdin)
		rewind(f);
	size_t len = 0, alloc = 1u << 16;
	char *buf = malloc(alloc);
	int rc = 0;
	while (buf) {
		if (len == alloc) {
			char *n = alloc < ((size_t)1 << 40) ? realloc(buf, alloc * 2) : NULL;
			if (!n) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = n;
			alloc *= 2;
		}
		size_t n = fread(buf + len, 1, alloc - len, f);
		len += n;
		if (n == 0)
			break;
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		snprintf(why, cap, "out of memory");
		return SW_ENOMEM;
	}
	if (bad) {
		snprintf(why, cap, "read error");
		rc = SW_EIO;
	} else {
		rc = sw_trace_read_mem(t, path, buf, len, why, cap);
	}
	free(buf);
	return rc;
}

void sw_trace_flush(struct sw_trace *t, uint64_t now_us, uint64_t delay_us)
{
	while (t->nheap && t->heap[0].ts + delay_us <= now_us)
		window_out(t);
	sw__flows_expire(t, now_us);
}

int sw_trace_analyze(struct sw_trace *t)
{
	if (t->analyzed)
		return 0;
	t->analyzed = true;
	while (t->nheap)
		window_out(t);
	return sw__flows_finish(t);
}

const struct sw_trace_stats *sw_trace_stats(const struct sw_trace *t) { return &t->st; }
size_t sw_trace_msg_count(const struct sw_trace *t) { return t->nmsgs; }
const struct sw_trace_msg *sw_trace_msg_get(const struct sw_trace *t, size_t i)
{
	return i < t->nmsgs && t->msgs[i].seq != (size_t)-1 ? &t->msgs[i] : NULL;
}
size_t sw_trace_flow_count(const struct sw_trace *t) { return t->nflows; }
const struct sw_trace_flow *sw_trace_flow_get(const struct sw_trace *t, size_t i)
{
	return i < t->nflows ? &t->flows[i] : NULL;
}
