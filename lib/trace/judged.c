/* Judged flows: what is kept of a flow once its verdict is given. A failing
 * flow keeps its messages (whole for the first SW_TRACE_KEEP_FAILED, first
 * lines after) and its transactions, to be judged again at the end; a
 * successful one keeps its messages while few are kept that way, else only
 * a summary (see trace.h). Messages that belong to no flow are kept while
 * little is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "trace_int.h"

#define NONE SW__NONE

/* The AOR (To user@host) of a request: at most 70 bytes of user, 80 of host. */
static void aor_of(const struct sw_msg *m, char *out, size_t cap)
{
	struct sw_addr to;
	out[0] = '\0';
	if (sw_msg_to(m, &to, NULL) == 0) {
		char u[128], h[128];
		sw_str_cpy(u, sizeof(u), to.uri.user.p ? to.uri.user : SW_STR_LIT(""));
		sw_str_cpy(h, sizeof(h), to.uri.host.p ? to.uri.host : SW_STR_LIT(""));
		snprintf(out, cap, "%.70s%s%.80s", u, u[0] ? "@" : "", h);
	}
}

static bool keeping(const struct sw_trace *t)
{
	return t->ok_kept < SW_TRACE_KEEP_OK;
}

/* A message that belongs to no flow: kept while little is kept. */
void sw__orphan(struct sw_trace *t, unsigned slot)
{
	if (keeping(t))
		t->ok_kept++;
	else
		sw__msg_free(t, slot);
}

static void txn_free(struct sw__txn *x)
{
	free(x->reqs);
	free(x->resps);
}

void sw__txns_free(struct sw__txn *tx, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		txn_free(&tx[i]);
	free(tx);
}

static bool msg_before(const struct sw_trace *t, unsigned a, unsigned b)
{
	const struct sw_trace_msg *x = &t->msgs[a], *y = &t->msgs[b];
	if (x->meta.ts_us != y->meta.ts_us)
		return x->meta.ts_us < y->meta.ts_us;
	return x->seq < y->seq;
}

static void sort_msgs(const struct sw_trace *t, unsigned *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) { /* few, nearly sorted */
		unsigned x = v[i], j = i;
		while (j && msg_before(t, x, v[j - 1])) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static unsigned intern(struct sw_trace *t, const char *s)
{
	bool created;
	struct sw__hent *e = sw__hmap_put(&t->strmap, s, strlen(s), &created);
	if (!e)
		return NONE;
	if (!created)
		return (unsigned)e->u;
	if (t->nstrs == t->capstrs) {
		size_t nc = t->capstrs ? t->capstrs * 2 : 64;
		char **n = realloc(t->strs, nc * sizeof(*n));
		if (!n) {
			sw__hmap_del(&t->strmap, e);
			return NONE;
		}
		t->strs = n;
		t->capstrs = nc;
	}
	t->strs[t->nstrs] = e->key; /* the map owns the bytes */
	e->u = t->nstrs;
	return (unsigned)t->nstrs++;
}

static struct sw_trace_flow *flow_append(struct sw_trace *t, const struct sw_trace_flow *f)
{
	if (t->nflows == t->capflows) {
		size_t nc = t->capflows ? t->capflows * 2 : 64;
		struct sw_trace_flow *n = realloc(t->flows, nc * sizeof(*n));
		if (!n)
			return NULL;
		t->flows = n;
		struct sw__ftx *x = realloc(t->ftx, nc * sizeof(*x));
		if (!x)
			return NULL;
		t->ftx = x;
		t->capflows = nc;
	}
	t->flows[t->nflows] = *f;
	t->ftx[t->nflows] = (struct sw__ftx){ NULL, 0 };
	return &t->flows[t->nflows++];
}

/* Keeps the first line of a message only. */
static void lighten(struct sw_trace *t, unsigned slot)
{
	struct sw_trace_msg *tm = &t->msgs[slot];
	free(tm->m);
	tm->m = NULL;
	size_t n = 0;
	while (n < tm->len && tm->data[n] != '\r' && tm->data[n] != '\n')
		n++;
	char *d = realloc(tm->data, n + 1);
	if (d) {
		d[n] = '\0';
		tm->data = d;
	}
}

/* Keeps a judged flow in the list: its addresses, Call-ID and own copies of
 * the verdict's strings. false on ENOMEM (nothing kept). */
static bool keep(struct sw_trace *t, struct sw_trace_flow *f, const struct sw_trace_msg *req)
{
	snprintf(f->client, sizeof(f->client), "%s", req->meta.src);
	snprintf(f->server, sizeof(f->server), "%s", req->meta.dst);
	sw_str cid;
	if (sw_msg_call_id(req->m, &cid, NULL) == 0)
		sw_str_cpy(f->call_id, sizeof(f->call_id), cid);
	sw__verdict_strings(t, f);
	/* numbered in judging order (st.flows counts this one already) until
	 * the end numbers all flows in the order they began (reports written
	 * while live input goes on; late copies find their flow by it) */
	f->id = (unsigned)t->st.flows;
	if (flow_append(t, f))
		return true;
	sw__flow_strings_free(f);
	return false;
}

/* Judges the flow of transactions tx[0..n) (taken over) and keeps it,
 * summarises it or drops it. */
void sw__close_flow(struct sw_trace *t, struct sw__txn *tx, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sw__uri_accepted(t, &tx[i]);
	const struct sw_trace_msg *req = &t->msgs[tx[0].reqs[0]];
	struct sw_trace_flow f;
	memset(&f, 0, sizeof(f));
	f.fail_msg = NONE;
	f.detail = "";
	unsigned total = 0;
	for (unsigned i = 0; i < n; i++)
		total += tx[i].nreqs + tx[i].nresps;
	f.msgs = malloc((total ? total : 1) * sizeof(*f.msgs));
	if (f.msgs)
		for (unsigned i = 0; i < n; i++) {
			for (unsigned k = 0; k < tx[i].nreqs; k++)
				f.msgs[f.nmsgs++] = tx[i].reqs[k];
			for (unsigned k = 0; k < tx[i].nresps; k++)
				f.msgs[f.nmsgs++] = tx[i].resps[k];
		}
	aor_of(req->m, f.aor, sizeof(f.aor));
	bool wanted = !t->o.user || !strcasecmp(f.aor, t->o.user) ||
		      (strncasecmp(t->o.user, "sip:", 4) == 0 && !strcasecmp(f.aor, t->o.user + 4));
	if (!f.msgs || !wanted) {
		for (unsigned i = 0; f.msgs && i < f.nmsgs; i++)
			sw__orphan(t, f.msgs[i]);
		free(f.msgs);
		sw__txns_free(tx, n);
		return;
	}
	sort_msgs(t, f.msgs, f.nmsgs);
	sw_str_cpy(f.method, sizeof(f.method), req->m->method);
	const struct sw_trace_msg *first = &t->msgs[f.msgs[0]];
	f.first_ts = first->meta.ts_us;
	f.first_seq = first->seq;
	f.first_frame = first->meta.frame;
	f.first_input = first->meta.input;
	/* past the successful flows kept whole, a success is summarised and
	 * needs no detail or evidence: judged quietly, and again aloud if it
	 * turns out to fail */
	t->jquiet = t->ok_kept + f.nmsgs > SW_TRACE_KEEP_OK;
	sw__verdict(t, &f, tx, n);
	if (t->jquiet && f.failed) {
		t->jquiet = false;
		f.proved = f.auth = f.failed = false;
		f.fail_msg = NONE;
		sw__verdict(t, &f, tx, n);
	}
	t->jquiet = false;
	t->st.flows++;
	if (f.auth)
		t->st.auth_flows++;
	if (f.failed)
		t->st.failures++;
	if (f.failed) {
		bool full = t->failed_full < SW_TRACE_KEEP_FAILED;
		f.light = !full;
		if (!keep(t, &f, req)) {
			for (unsigned i = 0; i < f.nmsgs; i++)
				sw__msg_free(t, f.msgs[i]);
			free(f.msgs);
			sw__txns_free(tx, n);
			return;
		}
		if (full) {
			t->failed_full++;
			t->ftx[t->nflows - 1] = (struct sw__ftx){ tx, n }; /* judged again at the end */
		} else {
			for (unsigned i = 0; i < f.nmsgs; i++)
				lighten(t, f.msgs[i]);
			sw__txns_free(tx, n);
		}
		return;
	}
	if (t->ok_kept + f.nmsgs <= SW_TRACE_KEEP_OK && keep(t, &f, req)) {
		t->ok_kept += f.nmsgs;
		sw__txns_free(tx, n);
		return;
	}
	/* summarised: the verdict's strings are not needed */
	t->ok_kept = SW_TRACE_KEEP_OK; /* from now on successful flows are summarised */
	t->st.summarised++;
	if (t->nsums == t->capsums) {
		size_t nc = t->capsums ? t->capsums * 2 : 1024;
		struct sw__sum *ns = realloc(t->sums, nc * sizeof(*ns));
		if (ns) {
			t->sums = ns;
			t->capsums = nc;
		}
	}
	if (t->nsums < t->capsums) {
		struct sw__sum *s = &t->sums[t->nsums++];
		memset(s, 0, sizeof(*s));
		s->s.first_ts = f.first_ts;
		s->s.first_seq = f.first_seq;
		s->s.first_frame = f.first_frame;
		s->s.first_input = f.first_input;
		s->s.nmsgs = f.nmsgs;
		s->s.final_status = f.final_status;
		s->s.cause = f.cause;
		s->s.auth = f.auth;
		s->s.proved = f.proved;
		s->s.certainty = f.certainty;
		s->aor = intern(t, f.aor);
		s->method = intern(t, f.method);
	}
	for (unsigned i = 0; i < f.nmsgs; i++)
		sw__msg_free(t, f.msgs[i]);
	free(f.msgs);
	sw__txns_free(tx, n);
}
