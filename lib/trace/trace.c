/* The analysis object: inputs, the messages found in them, format detection,
 * and the order of the steps (read, correlate, judge). */
#include <errno.h>
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
	for (size_t i = 0; i < t->nmsgs; i++) {
		free(t->msgs[i].data);
		free(t->msgs[i].m);
	}
	free(t->msgs);
	for (size_t i = 0; i < t->nflows; i++)
		free(t->flows[i].msgs);
	free(t->flows);
	for (size_t i = 0; i < t->ntxns; i++) {
		free(t->txns[i].reqs);
		free(t->txns[i].resps);
	}
	free(t->txns);
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

void sw_trace_add_sip(struct sw_trace *t, const struct sw_trace_meta *meta, const char *data,
		      size_t len)
{
	if (t->nmsgs == t->capmsgs) {
		size_t nc = t->capmsgs ? t->capmsgs * 2 : 256;
		struct sw_trace_msg *n = realloc(t->msgs, nc * sizeof(*n));
		if (!n)
			return;
		t->msgs = n;
		t->capmsgs = nc;
	}
	struct sw_trace_msg *tm = &t->msgs[t->nmsgs];
	memset(tm, 0, sizeof(*tm));
	tm->meta = *meta;
	tm->seq = t->nmsgs;
	tm->data = malloc(len + 1);
	if (!tm->data)
		return;
	memcpy(tm->data, data, len);
	tm->data[len] = '\0';
	tm->len = len;
	tm->m = malloc(sizeof(*tm->m));
	if (tm->m && sw_msg_parse(tm->m, tm->data, len, NULL, NULL) != 0) {
		free(tm->m);
		tm->m = NULL;
	}
	if (!tm->m) {
		t->st.parse_errors++;
	} else {
		/* a datagram may carry bytes past the body: keep the message only */
		tm->len = tm->m->len;
	}
	t->st.sip_msgs++;
	t->nmsgs++;
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
	if (is_capture(buf, len))
		return sw__pcap_read(t, input, buf, len, why, cap);
	return sw__textlog_read(t, input, buf, len, why, cap);
}

int sw_trace_read_file(struct sw_trace *t, const char *path, char *why, size_t cap)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(why, cap, "cannot open: %s", strerror(errno));
		return SW_EIO;
	}
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

/* Messages in time order; equal times keep their reading order. */
static int cmp_msg(const void *a, const void *b)
{
	const struct sw_trace_msg *x = a, *y = b;
	if (x->meta.ts_us != y->meta.ts_us)
		return x->meta.ts_us < y->meta.ts_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sw_trace_analyze(struct sw_trace *t)
{
	if (t->analyzed)
		return 0;
	t->analyzed = true;
	if (t->nmsgs > 1)
		qsort(t->msgs, t->nmsgs, sizeof(t->msgs[0]), cmp_msg);
	return sw__flows_build(t);
}

const struct sw_trace_stats *sw_trace_stats(const struct sw_trace *t) { return &t->st; }
size_t sw_trace_msg_count(const struct sw_trace *t) { return t->nmsgs; }
const struct sw_trace_msg *sw_trace_msg_get(const struct sw_trace *t, size_t i)
{
	return i < t->nmsgs ? &t->msgs[i] : NULL;
}
size_t sw_trace_flow_count(const struct sw_trace *t) { return t->nflows; }
const struct sw_trace_flow *sw_trace_flow_get(const struct sw_trace *t, size_t i)
{
	return i < t->nflows ? &t->flows[i] : NULL;
}
