/* What the server evidently accepts, remembered across flows: for each
 * nonce and client, the highest nonce-count of an answer the server
 * accepted (2xx), and each digest uri the server accepted from answers to
 * it. A verdict blames a nonce or a uri only against this memory: a server
 * that hands the same nonce to every client, or that accepts digest uris
 * other than the Request-URI, is not accusing anybody (docs/internals/
 * trace.md, "Evidence rules"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

#define NONE SW__NONE
#define NONCES_MAX 8192u /* nonce + client pairs remembered */
#define URIOK_MAX 65536u

bool sw__creds_of(const struct sw_msg *m, struct sw_auth *a)
{
	for (int k = 0; k < 2; k++) {
		enum sw_hdr_id id = k ? SW_HDR_PROXY_AUTHORIZATION : SW_HDR_AUTHORIZATION;
		for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h))
			if (sw_auth_parse(a, h->value, NULL) == 0 && a->is_digest)
				return true;
	}
	return false;
}

/* The key of a nonce used by one client: the nonce and the client's
 * address (or, when a log does not give one, its Call-ID). */
static size_t nonce_key(char *out, size_t cap, const struct sw_trace_msg *req, sw_str nonce)
{
	sw_str who = sw_str_from(req->meta.src, strlen(req->meta.src));
	sw_str cid;
	if (!who.len && sw_msg_call_id(req->m, &cid, NULL) == 0)
		who = cid;
	int n = snprintf(out, cap, "%.*s|%.*s", (int)(nonce.len > 300 ? 300 : nonce.len), nonce.p,
			 (int)(who.len > 150 ? 150 : who.len), who.p ? who.p : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static uint32_t nc_of(const struct sw_auth *a)
{
	char ncs[16];
	sw_str_cpy(ncs, sizeof(ncs), a->nc.p ? a->nc : SW_STR_LIT(""));
	return (uint32_t)strtoul(ncs, NULL, 16);
}

/* Per nonce and client: u = highest accepted nc << 32 | frame; val = input
 * << 1 | 1 once an answer was accepted. The frame is the last accepted
 * answer's, or the last use's while none was accepted. */
void sw__nonce_use(struct sw_trace *t, struct sw__txn *x, const struct sw_trace_msg *req)
{
	struct sw_auth a;
	if (!req->m || !sw__creds_of(req->m, &a))
		return;
	x->uri_differs = a.uri.p && !sw_str_eq_str(a.uri, req->m->ruri);
	if (!a.nonce.p)
		return;
	char key[512];
	size_t kl = nonce_key(key, sizeof(key), req, a.nonce);
	bool created;
	struct sw__hent *e = sw__hmap_put(&t->nonces, key, kl, &created);
	if (!e)
		return;
	bool accepted = !created && ((uintptr_t)e->val & 1u);
	if (!created) {
		uint32_t best = (uint32_t)(e->u >> 32);
		x->nonce_accepted = accepted;
		/* with qop, re-sending an nc the server already accepted is a
		 * replay; without qop there is no count, and answering the same
		 * nonce again is allowed (RFC 2069, RFC 2617 §3.2.2) */
		x->replay = accepted && a.qop.p && nc_of(&a) <= best;
		x->replay_frame = (unsigned)(e->u & 0xffffffffu);
		x->replay_input = (unsigned)((uintptr_t)e->val >> 1);
	}
	if (!accepted) {
		e->u = (e->u & ~(uint64_t)0xffffffffu) | req->meta.frame;
		e->val = (void *)((uintptr_t)req->meta.input << 1);
	}
	while (t->nonces.n > NONCES_MAX)
		sw__hmap_del(&t->nonces, t->nonces.fhead);
}

void sw__nonce_accepted(struct sw_trace *t, const struct sw__txn *x)
{
	struct sw_auth a;
	const struct sw_trace_msg *r = &t->msgs[x->reqs[0]];
	if (!r->m || !sw__creds_of(r->m, &a) || !a.nonce.p)
		return;
	char key[512];
	size_t kl = nonce_key(key, sizeof(key), r, a.nonce);
	struct sw__hent *e = sw__hmap_get(&t->nonces, key, kl);
	if (!e)
		return;
	uint32_t best = (uint32_t)(e->u >> 32), nc = nc_of(&a);
	if (nc > best)
		best = nc;
	e->u = (uint64_t)best << 32 | r->meta.frame;
	e->val = (void *)((uintptr_t)r->meta.input << 1 | 1u);
}

/* The key of the server + digest uri map. */
static size_t uri_key(char *out, size_t cap, const char *dst, sw_str uri)
{
	int n = snprintf(out, cap, "%s|%.*s", dst, (int)(uri.len > 400 ? 400 : uri.len), uri.p ? uri.p : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void sw__uri_accepted(struct sw_trace *t, const struct sw__txn *x)
{
	if (!x->has_creds || !x->uri_differs || x->final == NONE || !x->nreqs)
		return;
	unsigned st = t->msgs[x->final].m->status;
	if (st == 401 || st == 407 || st == 403 || st >= 700)
		return;
	const struct sw_trace_msg *r = &t->msgs[x->reqs[0]];
	struct sw_auth a;
	if (!r->m || !sw__creds_of(r->m, &a) || !a.uri.p || sw_str_eq_str(a.uri, r->m->ruri))
		return;
	char key[512];
	size_t n = uri_key(key, sizeof(key), r->meta.dst, a.uri);
	bool created;
	struct sw__hent *e = sw__hmap_put(&t->uriok, key, n, &created);
	if (e && created) {
		e->u = r->meta.frame;
		e->val = (void *)(uintptr_t)r->meta.input;
	}
	while (t->uriok.n > URIOK_MAX)
		sw__hmap_del(&t->uriok, t->uriok.fhead);
}

unsigned sw__uri_accepted_at(const struct sw_trace *t, const char *server, sw_str uri)
{
	char key[512];
	size_t n = uri_key(key, sizeof(key), server, uri);
	const struct sw__hent *e = sw__hmap_get(&t->uriok, key, n);
	return e ? (unsigned)e->u : NONE;
}
