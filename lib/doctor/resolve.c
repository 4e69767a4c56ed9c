/* Step 1 of the check: where to send (RFC 3263 §4). --proxy HOST[:PORT]
 * wins; a numeric domain or one with a port is used as is; otherwise NAPTR
 * (SIP+D2U, SIP+D2T, SIPS+D2T), else SRV (_sip._udp, _sip._tcp,
 * _sips._tcp), else A/AAAA on port 5060 (5061 for TLS). Only the
 * transports asked for are looked up: a sips: URI or --transport tls means
 * SIPS+D2T and _sips._tcp only. Without DNS records saying so, auto means
 * UDP and TCP (TLS is tried in auto only when NAPTR/SRV publish it). Every
 * target carries the name its TLS certificate must show. The resolver is
 * libc's (res_nquery, dn_expand, getaddrinfo), with short timeouts. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/doctor.h"

struct srv {
	enum sw_transport tp;
	unsigned prio;
	int port;
	char host[NS_MAXDNAME];
	char how[96];
};
#define MAX_SRV 16

static bool wanted(const struct sw_doctor_cfg *cfg, enum sw_transport tp)
{
	return cfg->transport == SW_DOCTOR_TP_AUTO || cfg->transport == (int)tp;
}

/* Without DNS records to say so, auto means UDP and TCP. */
static bool direct_wanted(const struct sw_doctor_cfg *cfg, enum sw_transport tp)
{
	return cfg->transport == SW_DOCTOR_TP_AUTO ? tp != SW_TP_TLS : cfg->transport == (int)tp;
}

/* Adds the addresses of host:port for tp. Returns how many. */
static unsigned add_host(const char *host, int port, enum sw_transport tp, const char *how,
			 struct sw_doctor_target *t, unsigned *n, unsigned cap, char *err, size_t errcap)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = tp == SW_TP_UDP ? SOCK_DGRAM : SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char ps[8];
	snprintf(ps, sizeof(ps), "%d", port);
	int rc = getaddrinfo(host, ps, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 / 127.0.0.1 on a machine without
		 * other addresses: ask again without it */
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, ps, &hints, &res);
	}
	if (rc) {
		snprintf(err, errcap, "%s: %s", host, gai_strerror(rc));
		return 0;
	}
	unsigned added = 0;
	for (struct addrinfo *ai = res; ai && *n < cap; ai = ai->ai_next) {
		bool dup = false;
		for (unsigned i = 0; i < *n; i++)
			dup |= t[i].tp == tp && sw_sockaddr_equal((struct sockaddr *)&t[i].addr, ai->ai_addr);
		if (dup || ai->ai_addrlen > sizeof(t->addr))
			continue;
		struct sw_doctor_target *x = &t[(*n)++];
		memset(x, 0, sizeof(*x));
		x->tp = tp;
		memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
		x->addrlen = ai->ai_addrlen;
		snprintf(x->how, sizeof(x->how), "%s", how);
		added++;
	}
	freeaddrinfo(res);
	return added;
}

static int query(res_state st, const char *name, int type, unsigned char *ans, int cap)
{
	return res_nquery(st, name, C_IN, type, ans, cap);
}

/* Walks the answer section: calls fn on each record of type. */
static int each_rr(const unsigned char *ans, int len, int type,
		   void (*fn)(void *arg, const unsigned char *msg, const unsigned char *end,
			      const unsigned char *rd, unsigned rdlen),
		   void *arg)
{
	if (len < NS_HFIXEDSZ)
		return SW_EPARSE;
	const unsigned char *end = ans + len, *p = ans + NS_HFIXEDSZ;
	unsigned qd = (unsigned)(ans[4] << 8 | ans[5]), an = (unsigned)(ans[6] << 8 | ans[7]);
	char name[NS_MAXDNAME];
	for (unsigned i = 0; i < qd; i++) {
		int n = dn_expand(ans, end, p, name, sizeof(name));
		if (n < 0 || p + n + 4 > end)
			return SW_EPARSE;
		p += n + 4;
	}
	for (unsigned i = 0; i < an; i++) {
		int n = dn_expand(ans, end, p, name, sizeof(name));
		if (n < 0 || p + n + 10 > end)
			return SW_EPARSE;
		p += n;
		int t = p[0] << 8 | p[1];
		unsigned rdlen = (unsigned)(p[8] << 8 | p[9]);
		p += 10;
		if (p + rdlen > end)
			return SW_EPARSE;
		if (t == type)
			fn(arg, ans, end, p, rdlen);
		p += rdlen;
	}
	return 0;
}

struct srv_acc {
	struct srv *s;
	unsigned n;
	enum sw_transport tp;
	const char *qname;
};

static void on_srv(void *arg, const unsigned char *msg, const unsigned char *end,
		   const unsigned char *rd, unsigned rdlen)
{
	struct srv_acc *a = arg;
	if (rdlen < 7 || a->n >= MAX_SRV)
		return;
	struct srv *s = &a->s[a->n];
	s->tp = a->tp;
	s->prio = (unsigned)(rd[0] << 8 | rd[1]);
	s->port = rd[4] << 8 | rd[5];
	if (dn_expand(msg, end, rd + 6, s->host, sizeof(s->host)) < 0 || !strcmp(s->host, "."))
		return;
	snprintf(s->how, sizeof(s->how), "SRV %s", a->qname);
	a->n++;
}

struct naptr {
	char repl[NS_MAXDNAME];
	enum sw_transport tp;
	unsigned order, pref;
};
struct naptr_acc {
	struct naptr r[MAX_SRV];
	unsigned n;
};

static void on_naptr(void *arg, const unsigned char *msg, const unsigned char *end,
		     const unsigned char *rd, unsigned rdlen)
{
	struct naptr_acc *a = arg;
	const unsigned char *p = rd, *e = rd + rdlen;
	if (rdlen < 4 || a->n >= MAX_SRV)
		return;
	struct naptr *x = &a->r[a->n];
	x->order = (unsigned)(p[0] << 8 | p[1]);
	x->pref = (unsigned)(p[2] << 8 | p[3]);
	p += 4;
	char fields[3][256];
	for (int i = 0; i < 3; i++) {
		if (p >= e || p + 1 + *p > e)
			return;
		memcpy(fields[i], p + 1, *p);
		fields[i][*p] = 0;
		p += 1 + *p;
	}
	if (strcasecmp(fields[0], "s") != 0)
		return;
	if (!strcasecmp(fields[1], "SIP+D2U"))
		x->tp = SW_TP_UDP;
	else if (!strcasecmp(fields[1], "SIP+D2T"))
		x->tp = SW_TP_TCP;
	else if (!strcasecmp(fields[1], "SIPS+D2T"))
		x->tp = SW_TP_TLS;
	else
		return;
	if (dn_expand(msg, end, p, x->repl, sizeof(x->repl)) < 0)
		return;
	a->n++;
}

static int cmp_srv(const void *a, const void *b)
{
	const struct srv *x = a, *y = b;
	return x->prio < y->prio ? -1 : x->prio > y->prio;
}

static void srv_lookup(res_state st, const char *name, enum sw_transport tp, struct srv *s, unsigned *n)
{
	unsigned char ans[NS_PACKETSZ * 4];
	int len = query(st, name, ns_t_srv, ans, sizeof(ans));
	if (len <= 0)
		return;
	struct srv_acc a = { s + *n, 0, tp, name };
	unsigned room = MAX_SRV - *n;
	if (room == 0)
		return;
	each_rr(ans, len, ns_t_srv, on_srv, &a);
	*n += a.n < room ? a.n : room;
}

static void note_targets(struct sw_doctor_report *r, const struct sw_doctor_target *t, unsigned from, unsigned n)
{
	char a[80];
	for (unsigned i = from; i < n; i++)
		sw_doctor_note(r, "target %s %s (%s)", sw_transport_name(t[i].tp),
			       sw_sockaddr_format((const struct sockaddr *)&t[i].addr, a, sizeof(a)), t[i].how);
}

/* HOST[:PORT], IPv6 in brackets. */
static int split_hostport(const char *s, char *host, size_t cap, int *port)
{
	*port = -1;
	const char *colon;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (size_t)(rb - s - 1) >= cap)
			return SW_EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return SW_EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		size_t hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl == 0 || hl >= cap)
			return SW_EINVAL;
		memcpy(host, s, hl);
		host[hl] = 0;
	}
	if (colon) {
		char *endp;
		long p = strtol(colon + 1, &endp, 10);
		if (*endp || p < 1 || p > 65535 || endp == colon + 1)
			return SW_EINVAL;
		*port = (int)p;
	}
	return 0;
}

int sw_doctor_resolve(const struct sw_doctor_cfg *cfg, struct sw_doctor_target *t, unsigned cap,
		      struct sw_doctor_report *r)
{
	static const enum sw_transport tps[] = { SW_TP_UDP, SW_TP_TCP, SW_TP_TLS };
	unsigned n = 0;
	char err[300] = "", host[NS_MAXDNAME];
	int port;
	if (cfg->proxy) {
		if (split_hostport(cfg->proxy, host, sizeof(host), &port)) {
			sw_doctor_cannot_run(r, "--proxy '%s' is not HOST[:PORT]", cfg->proxy);
			return 0;
		}
		for (unsigned i = 0; i < 3; i++)
			if (direct_wanted(cfg, tps[i]))
				add_host(host, port > 0 ? port : tps[i] == SW_TP_TLS ? 5061 : 5060, tps[i],
					 "--proxy", t, &n, cap, err, sizeof(err));
		goto done;
	}
	struct in6_addr a6;
	bool numeric = inet_pton(AF_INET, cfg->domain, &a6) == 1 ||
		       (cfg->domain[0] == '[' && strlen(cfg->domain) < sizeof(host));
	if (numeric || cfg->domain_port > 0) {
		/* RFC 3263 §4.2: a numeric host or an explicit port: no NAPTR/SRV */
		size_t dl = strlen(cfg->domain);
		if (cfg->domain[0] == '[' && dl >= 2) {
			memcpy(host, cfg->domain + 1, dl - 2);
			host[dl - 2] = 0;
		} else {
			snprintf(host, sizeof(host), "%s", cfg->domain);
		}
		for (unsigned i = 0; i < 3; i++)
			if (direct_wanted(cfg, tps[i]))
				add_host(host, cfg->domain_port > 0 ? cfg->domain_port : tps[i] == SW_TP_TLS ? 5061 : 5060,
					 tps[i], numeric ? "numeric address" : "A/AAAA (port given)", t, &n, cap, err,
					 sizeof(err));
		goto done;
	}
	struct __res_state st;
	memset(&st, 0, sizeof(st));
	bool have_res = res_ninit(&st) == 0;
	if (have_res) {
		st.retrans = 2;
		st.retry = 1;
		struct srv s[MAX_SRV];
		unsigned ns = 0;
		unsigned char ans[NS_PACKETSZ * 4];
		int len = query(&st, cfg->domain, ns_t_naptr, ans, sizeof(ans));
		if (len > 0) {
			struct naptr_acc na;
			na.n = 0;
			each_rr(ans, len, ns_t_naptr, on_naptr, &na);
			for (unsigned i = 0; i < na.n; i++)
				if (wanted(cfg, na.r[i].tp))
					srv_lookup(&st, na.r[i].repl, na.r[i].tp, s, &ns);
			if (na.n)
				sw_doctor_note(r, "NAPTR %s: %u SIP record(s)", cfg->domain, na.n);
		}
		if (ns == 0) {
			static const char *const pre[] = { "_sip._udp.", "_sip._tcp.", "_sips._tcp." };
			for (unsigned i = 0; i < 3; i++) {
				if (!wanted(cfg, tps[i]))
					continue;
				char q[NS_MAXDNAME + 16];
				snprintf(q, sizeof(q), "%s%s", pre[i], cfg->domain);
				srv_lookup(&st, q, tps[i], s, &ns);
			}
		}
		qsort(s, ns, sizeof(s[0]), cmp_srv);
		for (unsigned i = 0; i < ns; i++)
			add_host(s[i].host, s[i].port, s[i].tp, s[i].how, t, &n, cap, err, sizeof(err));
		res_nclose(&st);
		if (ns)
			goto done;
	}
	for (unsigned i = 0; i < 3; i++)
		if (direct_wanted(cfg, tps[i]))
			add_host(cfg->domain, tps[i] == SW_TP_TLS ? 5061 : 5060, tps[i], "A/AAAA, no SRV", t, &n,
				 cap, err, sizeof(err));
done:
	/* RFC 5922 §4: the certificate must carry the domain of the URI (or
	 * the outbound proxy's host), never a name DNS handed out on the way */
	if (!cfg->proxy) {
		size_t dl = strlen(cfg->domain);
		if (cfg->domain[0] == '[' && dl >= 2 && dl - 2 < sizeof(host)) {
			memcpy(host, cfg->domain + 1, dl - 2);
			host[dl - 2] = 0;
		} else {
			snprintf(host, sizeof(host), "%s", cfg->domain);
		}
	}
	size_t hl = strlen(host);
	if (hl >= sizeof(t->name))
		hl = sizeof(t->name) - 1;
	for (unsigned i = 0; i < n; i++) {
		memcpy(t[i].name, host, hl);
		t[i].name[hl] = 0;
	}
	note_targets(r, t, 0, n);
	if (n == 0 && !r->cannot_run) {
		struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_DNS_FAILED, "no address found for %s",
							    cfg->proxy ? cfg->proxy : cfg->domain);
		if (err[0])
			sw_doctor_evidence(f, "%s", err);
		sw_doctor_detail(f, "Tried %s.", cfg->proxy ? "the --proxy host" :
				 "NAPTR, SRV (_sip._udp, _sip._tcp, _sips._tcp) and A/AAAA records");
	}
	return (int)n;
}
