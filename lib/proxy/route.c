/* Which URIs are ours, Route preprocessing (§16.4), and the flow tokens we
 * put in the user part of our Record-Route: a signed copy of the flow a
 * party is reached by, so that in-dialog requests go back on the same
 * connection or NAT binding (the idea of RFC 5626 §5.3), and so that a
 * request naming our route is known to have been routed by us. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include "proxy/proxy_int.h"

int sw__px_domain_index(struct sw_proxy_worker *pw, sw_str host)
{
	const struct sw_registrar *r = pw->rw->r;
	for (unsigned i = 0; i < r->cfg.ndomains; i++)
		if (sw_str_ieq(host, r->domains[i]))
			return (int)i;
	return -1;
}

/* host (brackets stripped) and port of a URI equal a listen address? */
static bool is_listen_addr(struct sw_proxy_worker *pw, const struct sw_uri *u)
{
	sw_str host = u->host;
	if (host.len >= 2 && host.p[0] == '[')
		host = sw_str_from(host.p + 1, host.len - 2);
	unsigned n;
	const struct sw_listen *l = sw_worker_listens(pw->w, &n);
	for (unsigned i = 0; i < n; i++) {
		char h[64];
		sw_sockaddr_host((const struct sockaddr *)&l[i].addr, h, sizeof(h));
		int port = sw_sockaddr_port((const struct sockaddr *)&l[i].addr);
		int want = u->port >= 0 ? u->port : (u->scheme == SW_URI_SIPS ? 5061 : 5060);
		if (sw_str_ieq(host, h) && want == port)
			return true;
	}
	return false;
}

static bool is_listen_port(struct sw_proxy_worker *pw, int port)
{
	unsigned n;
	const struct sw_listen *l = sw_worker_listens(pw->w, &n);
	for (unsigned i = 0; i < n; i++)
		if (port < 0 || sw_sockaddr_port((const struct sockaddr *)&l[i].addr) == port)
			return true;
	return false;
}

bool sw__px_uri_is_ours(struct sw_proxy_worker *pw, const struct sw_uri *u)
{
	if (u->scheme != SW_URI_SIP && u->scheme != SW_URI_SIPS)
		return false;
	if (is_listen_addr(pw, u))
		return true;
	return sw__px_domain_index(pw, u->host) >= 0 && is_listen_port(pw, u->port);
}

int sw__px_domain_of(struct sw_proxy_worker *pw, const struct sw_uri *u)
{
	if (u->scheme != SW_URI_SIP && u->scheme != SW_URI_SIPS)
		return -1;
	int d = sw__px_domain_index(pw, u->host);
	if (d >= 0)
		return d;
	return is_listen_addr(pw, u) ? 0 : -1;
}

/* Our host:port on a listen address, made once per worker (the listen
 * addresses do not change while the server runs). */
const char *sw__px_hostport(struct sw_proxy_worker *pw, unsigned listen)
{
	unsigned n;
	const struct sw_listen *l = sw_worker_listens(pw->w, &n);
	if (listen >= n || listen >= PX_LISTEN_MAX)
		listen = 0;
	char *out = pw->hostport[listen];
	size_t cap = sizeof(pw->hostport[listen]);
	if (out[0])
		return out;
	const struct sockaddr *sa = (const struct sockaddr *)&l[listen].addr;
	char h[64];
	sw_sockaddr_host(sa, h, sizeof(h));
	int port = sw_sockaddr_port(sa);
	if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::")) /* a wildcard: our name instead */
		snprintf(out, cap, "%s:%d", pw->rw->r->domains[0], port);
	else if (sa->sa_family == AF_INET6)
		snprintf(out, cap, "[%s]:%d", h, port);
	else
		snprintf(out, cap, "%s:%d", h, port);
	return out;
}

/* tp, listen, worker, conn id, boot, family, address, port; then the MAC */
#define TOKEN_BODY 36u
#define TOKEN_MAC 8u

static int mac(struct sw_proxy_worker *pw, const unsigned char *body, unsigned char out[32])
{
	return sw_hmac_compute(pw->rr_mac, body, TOKEN_BODY, NULL, 0, out);
}

static void put_u(unsigned char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_u(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

_Static_assert(PX_TOKEN_LEN == 2 * (TOKEN_BODY + TOKEN_MAC), "PX_TOKEN_LEN is a token's hex length");

/* Both caches are two-way: a set of two entries, the most recent first,
 * so that two hot tokens (a caller's and a callee's flow) that fall in one
 * set do not evict each other at every call. */

/* The set of a token among those seen: bits of its MAC (random to anyone
 * without the key). */
static struct px_token_seen *seen_set(struct sw_proxy_worker *pw, const char *hex)
{
	unsigned v = 0;
	for (unsigned i = 0; i < 3; i++) {
		char c = hex[2 * TOKEN_BODY + i];
		v = v << 4 | (unsigned)(c >= 'a' ? c - 'a' + 10 : c - '0');
	}
	return &pw->seen[2 * (v % (PX_TOKEN_CACHE / 2))];
}

static void remember(struct sw_proxy_worker *pw, const char *hex, const unsigned char *body)
{
	struct px_token_seen *e = seen_set(pw, hex);
	e[1] = e[0];
	memcpy(e->hex, hex, PX_TOKEN_LEN);
	memcpy(e->body, body, TOKEN_BODY + TOKEN_MAC);
	e->used = true;
}

void sw__px_token_make(struct sw_proxy_worker *pw, const struct sw_flow *f, char out[PX_TOKEN_MAX])
{
	unsigned char b[TOKEN_BODY + 32] = { 0 };
	b[0] = (unsigned char)f->tp;
	put_u(b + 1, f->listen, 2);
	put_u(b + 3, f->worker, 2);
	put_u(b + 5, f->conn_id, 8);
	put_u(b + 13, sw_worker_boot(pw->w), 4);
	if (f->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&f->addr;
		b[17] = 6;
		memcpy(b + 18, &a->sin6_addr, 16);
		memcpy(b + 34, &a->sin6_port, 2);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&f->addr;
		b[17] = 4;
		memcpy(b + 18, &a->sin_addr, 4);
		memcpy(b + 34, &a->sin_port, 2);
	}
	uint32_t h = 2166136261u; /* FNV-1a of the body: its slot among the tokens made */
	for (unsigned i = 0; i < TOKEN_BODY; i++)
		h = (h ^ b[i]) * 16777619u;
	struct px_token_made *k = &pw->made[2 * (h % (PX_TOKEN_CACHE / 8))];
	for (unsigned i = 0; i < 2; i++)
		if (k[i].used && !memcmp(k[i].body, b, TOKEN_BODY)) {
			memcpy(out, k[i].hex, PX_TOKEN_LEN);
			out[PX_TOKEN_LEN] = '\0';
			return;
		}
	if (mac(pw, b, b + TOKEN_BODY)) {
		memset(b + TOKEN_BODY, 0, TOKEN_MAC); /* a token that never verifies */
		k = NULL;
	}
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < TOKEN_BODY + TOKEN_MAC; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * (TOKEN_BODY + TOKEN_MAC)] = '\0';
	if (k) {
		k[1] = k[0];
		memcpy(k->body, b, TOKEN_BODY);
		memcpy(k->hex, out, PX_TOKEN_LEN);
		k->used = true;
		remember(pw, out, b);
	}
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sw__px_token_parse(struct sw_proxy_worker *pw, sw_str tok, struct sw_flow *f)
{
	unsigned char b[TOKEN_BODY + TOKEN_MAC], want[32];
	if (tok.len != 2 * sizeof(b))
		return SW_EPARSE;
	/* the same string as a token known good is good (compared in constant
	 * time, as the MAC would be); else the MAC decides */
	struct px_token_seen *e = seen_set(pw, tok.p);
	unsigned w = e[0].used && !CRYPTO_memcmp(e[0].hex, tok.p, PX_TOKEN_LEN) ? 0
		   : e[1].used && !CRYPTO_memcmp(e[1].hex, tok.p, PX_TOKEN_LEN) ? 1 : 2;
	if (w < 2) {
		memcpy(b, e[w].body, sizeof(b));
	} else {
		for (size_t i = 0; i < sizeof(b); i++) {
			int hi = unhex(tok.p[2 * i]), lo = unhex(tok.p[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return SW_EPARSE;
			b[i] = (unsigned char)(hi << 4 | lo);
		}
		if (mac(pw, b, want) || CRYPTO_memcmp(want, b + TOKEN_BODY, TOKEN_MAC))
			return SW_EPARSE;
		remember(pw, tok.p, b);
	}
	memset(f, 0, sizeof(*f));
	f->tp = (enum sw_transport)b[0];
	f->listen = (uint16_t)get_u(b + 1, 2);
	f->worker = (uint16_t)get_u(b + 3, 2);
	f->conn_id = get_u(b + 5, 8);
	if ((uint32_t)get_u(b + 13, 4) != sw_worker_boot(pw->w))
		f->conn_id = 0; /* a connection of an earlier run: gone */
	if (b[17] == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&f->addr;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, b + 18, 16);
		memcpy(&a->sin6_port, b + 34, 2);
		f->addrlen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&f->addr;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, b + 18, 4);
		memcpy(&a->sin_port, b + 34, 2);
		f->addrlen = sizeof(*a);
	}
	return 0;
}

int sw__px_uri_flow(struct sw_proxy_worker *pw, const struct sw_uri *u, struct sw_flow *f)
{
	char host[64];
	sw_str h = u->host;
	if (h.len >= 2 && h.p[0] == '[')
		h = sw_str_from(h.p + 1, h.len - 2);
	sw_str tp;
	if (h.len >= sizeof(host) || (sw_param_get(u->params, "transport", &tp) && tp.p && !sw_str_ieq(tp, "udp")))
		return SW_ENOTFOUND; /* no outbound connections yet: UDP only */
	sw_str_cpy(host, sizeof(host), h);
	memset(f, 0, sizeof(*f));
	f->tp = SW_TP_UDP;
	if (sw_sockaddr_from(host, u->port >= 0 ? u->port : 5060, &f->addr, &f->addrlen))
		return SW_ENOTFOUND; /* a name: RFC 3263 resolution is not done yet */
	unsigned n;
	const struct sw_listen *l = sw_worker_listens(pw->w, &n);
	for (unsigned i = 0; i < n; i++)
		if (l[i].tp == SW_TP_UDP && l[i].addr.ss_family == f->addr.ss_family) {
			f->listen = (uint16_t)i;
			break;
		}
	return 0;
}

bool sw__px_routes(struct sw_proxy_worker *pw, const struct sw_msg *m, unsigned *pop, struct sw_flow *last)
{
	struct sw_hdr_iter it;
	sw_str e;
	bool trusted = false;
	*pop = 0;
	sw_hdr_iter_init(&it, m, SW_HDR_ROUTE);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		struct sw_addr a;
		if (sw_addr_parse(&a, e, false, NULL) || !sw__px_uri_is_ours(pw, &a.uri))
			break;
		(*pop)++;
		struct sw_flow f;
		if (a.uri.user.len && sw__px_token_parse(pw, a.uri.user, &f) == 0) {
			*last = f;
			trusted = true;
		}
	}
	return trusted;
}

bool sw__px_route_after(const struct sw_msg *m, unsigned skip, struct sw_uri *u)
{
	struct sw_hdr_iter it;
	sw_str e;
	unsigned i = 0;
	sw_hdr_iter_init(&it, m, SW_HDR_ROUTE);
	while (sw_hdr_iter_next(&it, &e, NULL))
		if (i++ == skip) {
			struct sw_addr a;
			if (sw_addr_parse(&a, e, false, NULL))
				return false;
			*u = a.uri;
			return true;
		}
	return false;
}

unsigned sw__px_route_last(const struct sw_msg *m, sw_str *last)
{
	struct sw_hdr_iter it;
	sw_str e;
	unsigned n = 0;
	sw_hdr_iter_init(&it, m, SW_HDR_ROUTE);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		*last = e;
		n++;
	}
	return n;
}
