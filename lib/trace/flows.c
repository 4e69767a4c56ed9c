/* Correlation. Transactions (RFC 3261 §17): the top Via branch, its sent-by
 * and the CSeq method; a request seen again is a retransmission; responses
 * join the transaction of their top Via. Flows: the transactions of one
 * Call-ID from one sent-by, chained while the answer is a challenge
 * (401/407) answered with credentials, or a 423 answered by a new attempt:
 * request -> 401/407 -> authenticated retry -> ... -> final answer. ACK and
 * CANCEL belong to no flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

#define NONE UINT32_MAX

/* ---- a small string -> index map (open addressing) ---------------------- */

struct map {
	char **keys;
	unsigned *vals;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static unsigned *map_get(struct map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = fnv(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return NULL;
		if (!strcmp(m->keys[i], key))
			return &m->vals[i];
	}
}

static int map_put(struct map *m, const char *key, unsigned val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		char **nk = calloc(nc, sizeof(*nk));
		unsigned *nv = calloc(nc, sizeof(*nv));
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return SW_ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = fnv(m->keys[i]) & (nc - 1);
			while (nk[j])
				j = (j + 1) & (nc - 1);
			nk[j] = m->keys[i];
			nv[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = nc;
	}
	unsigned *v = map_get(m, key);
	if (v) {
		*v = val;
		return 0;
	}
	size_t i = fnv(key) & (m->cap - 1);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	if (!(m->keys[i] = strdup(key)))
		return SW_ENOMEM;
	m->vals[i] = val;
	m->n++;
	return 0;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
}

/* ---- keys ------------------------------------------------------------------ */

static void slice(char *out, size_t cap, sw_str s)
{
	sw_str_cpy(out, cap, s.p ? s : SW_STR_LIT(""));
}

/* Transaction key, and the flow key (Call-ID + sent-by) when fkey is given. */
static bool keys_of(const struct sw_msg *m, char *tkey, size_t tcap, char *fkey, size_t fcap,
		    enum sw_method *method)
{
	struct sw_via v;
	struct sw_cseq cs;
	sw_str cid;
	if (sw_msg_top_via(m, &v, NULL) || sw_msg_cseq(m, &cs, NULL) || sw_msg_call_id(m, &cid, NULL))
		return false;
	char br[200], host[100], meth[32], callid[200];
	slice(br, sizeof(br), v.branch);
	slice(host, sizeof(host), v.host);
	slice(meth, sizeof(meth), cs.method);
	slice(callid, sizeof(callid), cid);
	/* "host" and "host:5060" are the same sent-by (RFC 3261 §18.2.1) */
	int port = v.port >= 0 ? v.port : sw_str_ieq(v.transport, "TLS") ? 5061 : 5060;
	snprintf(tkey, tcap, "%s|%s:%d|%s|%s", br, host, port, meth,
		 v.branch.p && v.branch.len > 7 && !memcmp(v.branch.p, "z9hG4bK", 7) ? "" : callid);
	if (fkey)
		snprintf(fkey, fcap, "%s|%s:%d", callid, host, port);
	*method = cs.method_id;
	return true;
}

static int push(unsigned **arr, unsigned *n, unsigned v)
{
	unsigned *a = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!a)
		return SW_ENOMEM;
	a[(*n)++] = v;
	*arr = a;
	return 0;
}

struct sw_trace_flow *sw__flow_new(struct sw_trace *t)
{
	if (t->nflows == t->capflows) {
		size_t nc = t->capflows ? t->capflows * 2 : 64;
		struct sw_trace_flow *n = realloc(t->flows, nc * sizeof(*n));
		if (!n)
			return NULL;
		t->flows = n;
		t->capflows = nc;
	}
	struct sw_trace_flow *f = &t->flows[t->nflows];
	memset(f, 0, sizeof(*f));
	f->id = (unsigned)++t->nflows;
	f->fail_msg = NONE;
	return f;
}

int sw__flow_add_msg(struct sw_trace_flow *f, unsigned msg)
{
	return push(&f->msgs, &f->nmsgs, msg);
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

/* ---- building -------------------------------------------------------------- */

static int build_txns(struct sw_trace *t)
{
	struct map tx = { 0 };
	int rc = 0;
	char tkey[1024], fkey[512];
	for (size_t i = 0; i < t->nmsgs && !rc; i++) {
		const struct sw_msg *m = t->msgs[i].m;
		enum sw_method meth;
		if (!m || !keys_of(m, tkey, sizeof(tkey), fkey, sizeof(fkey), &meth))
			continue;
		unsigned *pi = map_get(&tx, tkey);
		struct sw__txn *x;
		if (!pi) {
			if (!m->is_request)
				continue; /* a response to a request not captured */
			if (t->ntxns == t->captxns) {
				size_t nc = t->captxns ? t->captxns * 2 : 128;
				struct sw__txn *n = realloc(t->txns, nc * sizeof(*n));
				if (!n) {
					rc = SW_ENOMEM;
					break;
				}
				t->txns = n;
				t->captxns = nc;
			}
			x = &t->txns[t->ntxns];
			memset(x, 0, sizeof(*x));
			x->final = x->challenge = x->replay_of = NONE;
			x->method = meth;
			snprintf(x->key, sizeof(x->key), "%s", fkey);
			x->has_creds = sw_msg_hdr(m, SW_HDR_AUTHORIZATION) ||
				       sw_msg_hdr(m, SW_HDR_PROXY_AUTHORIZATION);
			rc = map_put(&tx, tkey, (unsigned)t->ntxns);
			t->ntxns++;
		} else {
			x = &t->txns[*pi];
		}
		if (rc)
			break;
		if (m->is_request) {
			if (x->final != NONE)
				x->retrans_after_final++;
			rc = push(&x->reqs, &x->nreqs, (unsigned)i);
		} else {
			rc = push(&x->resps, &x->nresps, (unsigned)i);
			if ((m->status == 401 || m->status == 407) && x->challenge == NONE)
				x->challenge = (unsigned)i;
			if (m->status >= 200 && x->final == NONE)
				x->final = (unsigned)i;
		}
	}
	map_free(&tx);
	return rc;
}

static unsigned final_status(const struct sw_trace *t, const struct sw__txn *x)
{
	return x->final == NONE ? 0 : t->msgs[x->final].m->status;
}

/* The AOR (To user@host) of a request. */
static void aor_of(const struct sw_msg *m, char *out, size_t cap)
{
	struct sw_addr to;
	out[0] = '\0';
	if (sw_msg_to(m, &to, NULL) == 0) {
		char u[128], h[128];
		slice(u, sizeof(u), to.uri.user);
		slice(h, sizeof(h), to.uri.host);
		snprintf(out, cap, "%.70s%s%.80s", u, u[0] ? "@" : "", h);
	}
}

static int close_flow(struct sw_trace *t, const unsigned *txns, unsigned n)
{
	if (!n)
		return 0;
	const struct sw__txn *first = &t->txns[txns[0]];
	const struct sw_trace_msg *req = &t->msgs[first->reqs[0]];
	char aor[160];
	aor_of(req->m, aor, sizeof(aor));
	if (t->o.user && strcasecmp(aor, t->o.user) != 0 &&
	    !(strncasecmp(t->o.user, "sip:", 4) == 0 && !strcasecmp(aor, t->o.user + 4)))
		return 0;
	struct sw_trace_flow *f = sw__flow_new(t);
	if (!f)
		return SW_ENOMEM;
	snprintf(f->aor, sizeof(f->aor), "%s", aor);
	sw_str_cpy(f->method, sizeof(f->method), req->m->method);
	snprintf(f->client, sizeof(f->client), "%s", req->meta.src);
	snprintf(f->server, sizeof(f->server), "%s", req->meta.dst);
	sw_str cid;
	if (sw_msg_call_id(req->m, &cid, NULL) == 0)
		sw_str_cpy(f->call_id, sizeof(f->call_id), cid);
	for (unsigned i = 0; i < n; i++) {
		const struct sw__txn *x = &t->txns[txns[i]];
		for (unsigned k = 0; k < x->nreqs; k++)
			if (sw__flow_add_msg(f, x->reqs[k]))
				return SW_ENOMEM;
		for (unsigned k = 0; k < x->nresps; k++)
			if (sw__flow_add_msg(f, x->resps[k]))
				return SW_ENOMEM;
	}
	qsort(f->msgs, f->nmsgs, sizeof(f->msgs[0]), cmp_uint);
	sw__verdict(t, f, txns, n);
	t->st.flows++;
	if (f->auth)
		t->st.auth_flows++;
	if (f->failed)
		t->st.failures++;
	return 0;
}

static int cmp_flow(const void *a, const void *b)
{
	const struct sw_trace_flow *x = a, *y = b;
	unsigned fx = x->nmsgs ? x->msgs[0] : NONE, fy = y->nmsgs ? y->msgs[0] : NONE;
	return fx < fy ? -1 : fx > fy;
}

/* Flows in the order they began, numbered from 1. */
static int order_flows(struct sw_trace *t)
{
	if (t->nflows > 1)
		qsort(t->flows, t->nflows, sizeof(t->flows[0]), cmp_flow);
	for (size_t i = 0; i < t->nflows; i++)
		t->flows[i].id = (unsigned)i + 1;
	return 0;
}

/* Open flows: per flow key, the transactions chained so far. */
struct open_flow {
	unsigned *txns, n;
};

int sw__flows_build(struct sw_trace *t)
{
	int rc = build_txns(t);
	if (!rc)
		rc = sw__nonce_uses(t);
	if (rc)
		return rc;
	struct map open = { 0 };
	struct open_flow *of = NULL;
	size_t nof = 0;
	for (size_t i = 0; i < t->ntxns && !rc; i++) {
		struct sw__txn *x = &t->txns[i];
		if (x->method == SW_METHOD_ACK || x->method == SW_METHOD_CANCEL || !x->nreqs)
			continue;
		unsigned *slot = map_get(&open, x->key);
		struct open_flow *o = slot && *slot != NONE ? &of[*slot] : NULL;
		if (o && o->n) {
			const struct sw__txn *last = &t->txns[o->txns[o->n - 1]];
			unsigned st = final_status(t, last);
			bool chain = ((st == 401 || st == 407) && x->has_creds) || st == 423;
			if (!chain) {
				rc = close_flow(t, o->txns, o->n);
				o->n = 0;
			}
		} else {
			struct open_flow *n = realloc(of, (nof + 1) * sizeof(*n));
			if (!n) {
				rc = SW_ENOMEM;
				break;
			}
			of = n;
			o = &of[nof];
			memset(o, 0, sizeof(*o));
			rc = map_put(&open, x->key, (unsigned)nof);
			nof++;
		}
		if (!rc)
			rc = push(&o->txns, &o->n, (unsigned)i);
		unsigned st = final_status(t, x);
		if (!rc && !(st == 401 || st == 407 || st == 423)) {
			rc = close_flow(t, o->txns, o->n);
			o->n = 0;
		}
	}
	/* flows still waiting for an answer to a challenge */
	for (size_t i = 0; i < nof; i++) {
		if (!rc && of[i].n)
			rc = close_flow(t, of[i].txns, of[i].n);
		free(of[i].txns);
	}
	free(of);
	map_free(&open);
	if (!rc)
		rc = order_flows(t);
	return rc;
}
