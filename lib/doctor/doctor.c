/* The whole check, in the order of the issue: where to go, who answers,
 * REGISTER and its challenge, the network findings, unregistration. Each
 * step stops the check when later steps cannot tell more. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/doctor.h"

#define MAX_TRIES_PER_TP 3

struct tp_state {
	bool tried, answered, open;
	unsigned refused, silent;
	struct sw_doctor_io io;
};

static void progress(const struct sw_doctor_cfg *cfg, const char *what)
{
	if (cfg->progress)
		cfg->progress(cfg->progress_arg, what);
}

/* OPTIONS to the targets of one transport until one answers. */
static void probe_tp(const struct sw_doctor_cfg *cfg, enum sw_transport tp, const struct sw_doctor_target *t,
		     unsigned n, unsigned timeout_ms, struct tp_state *s, struct sw_doctor_report *r)
{
	unsigned tries = 0;
	for (unsigned i = 0; i < n && !s->answered && tries < MAX_TRIES_PER_TP; i++) {
		if (t[i].tp != tp)
			continue;
		tries++;
		s->tried = true;
		char a[80];
		sw_sockaddr_format((const struct sockaddr *)&t[i].addr, a, sizeof(a));
		char what[120];
		snprintf(what, sizeof(what), "OPTIONS over %s to %s", sw_transport_name(tp), a);
		progress(cfg, what);
		int x = sw_doctor_conn_open(&s->io, tp, (const struct sockaddr *)&t[i].addr, t[i].addrlen, timeout_ms);
		if (x != SW_DX_ANSWER) {
			if (x == SW_DX_REFUSED)
				s->refused++;
			else
				s->silent++;
			sw_doctor_note(r, "%s %s: %s", sw_transport_name(tp), a,
				       x == SW_DX_REFUSED ? "connection refused (nothing listens there)"
				       : x == SW_DX_TIMEOUT ? "no connection within the timeout"
				       : "cannot open a socket");
			continue;
		}
		unsigned status = 0;
		x = sw_doctor_options(&s->io, cfg, 0, &status, r);
		if (x == SW_DX_ANSWER) {
			s->answered = true;
			s->open = true;
			return;
		}
		if (x == SW_DX_REFUSED)
			s->refused++;
		else
			s->silent++;
		sw_doctor_conn_close(&s->io);
	}
}

static void no_response(const struct sw_doctor_cfg *cfg, struct tp_state *st, struct sw_doctor_report *r)
{
	unsigned refused = st[SW_TP_UDP].refused + st[SW_TP_TCP].refused;
	unsigned silent = st[SW_TP_UDP].silent + st[SW_TP_TCP].silent;
	struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_NO_RESPONSE,
		"nothing answered OPTIONS (%u target(s) refused: port unreachable / connection refused; %u silent)",
		refused, silent);
	for (unsigned i = 0; i < r->nnotes; i++)
		if (strstr(r->notes[i], "OPTIONS") || strstr(r->notes[i], "connection"))
			sw_doctor_evidence(f, "%s", r->notes[i]);
	if (refused && !silent)
		sw_doctor_detail(f, "The host is reachable but refuses the port: no SIP server listens "
				     "there (wrong port, or the server is down).");
	else if (silent && !refused)
		sw_doctor_detail(f, "Silence: a firewall drops the packets, the route is broken, or the "
				     "host is down.");
	(void)cfg;
}

int sw_doctor_run(const struct sw_doctor_cfg *cfg, struct sw_doctor_report *r)
{
	memset(r, 0, sizeof(*r));
	if (!cfg->user || !cfg->domain || !cfg->user[0] || !cfg->domain[0])
		return SW_EINVAL;
	if (cfg->domain_port > 0)
		snprintf(r->aor, sizeof(r->aor), "sip:%s@%s:%d", cfg->user, cfg->domain, cfg->domain_port);
	else
		snprintf(r->aor, sizeof(r->aor), "sip:%s@%s", cfg->user, cfg->domain);
	if (cfg->transport == SW_TP_TLS) {
		struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_TLS_FAILED,
			"TLS is not supported by this version of sipwarden check");
		sw_doctor_detail(f, "The check cannot tell anything about TLS yet; use --transport udp or tcp.");
		sw_doctor_cannot_run(r, "--transport tls is not supported yet");
		return 0;
	}
	unsigned timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : SW_DOCTOR_TIMEOUT_MS_DEFAULT;

	/* 1. where to go */
	progress(cfg, "resolving");
	struct sw_doctor_target t[SW_DOCTOR_MAX_TARGETS];
	int n = sw_doctor_resolve(cfg, t, SW_DOCTOR_MAX_TARGETS, r);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (t[i].tp == SW_TP_TLS) {
			sw_doctor_note(r, "TLS targets are listed but not checked (TLS is not supported yet)");
			break;
		}

	/* 2. who answers */
	struct tp_state st[2];
	memset(st, 0, sizeof(st));
	probe_tp(cfg, SW_TP_UDP, t, (unsigned)n, timeout_ms, &st[SW_TP_UDP], r);
	probe_tp(cfg, SW_TP_TCP, t, (unsigned)n, timeout_ms, &st[SW_TP_TCP], r);
	struct tp_state *use = st[SW_TP_UDP].answered ? &st[SW_TP_UDP] : st[SW_TP_TCP].answered ? &st[SW_TP_TCP] : NULL;
	if (!use) {
		if (!st[SW_TP_UDP].tried && !st[SW_TP_TCP].tried)
			sw_doctor_cannot_run(r, "no UDP or TCP target to check");
		else
			no_response(cfg, st, r);
		return 0;
	}
	if (st[SW_TP_UDP].tried && !st[SW_TP_UDP].answered) {
		struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_UDP_BLOCKED_TCP_OK,
			"OPTIONS over UDP got no answer (%s), over TCP it did",
			st[SW_TP_UDP].refused ? "port unreachable" : "silence");
		for (unsigned i = 0; i < r->nnotes; i++)
			if (strncmp(r->notes[i], "UDP ", 4) == 0 || strncmp(r->notes[i], "TCP ", 4) == 0)
				sw_doctor_evidence(f, "%s", r->notes[i]);
		sw_doctor_detail(f, "The rest of the check used TCP.");
	}
	snprintf(r->used, sizeof(r->used), "%s %s", sw_transport_name(use->io.tp), use->io.peer);

	/* 3, 4, 5 (from the answers), 6 */
	sw_doctor_register(&use->io, cfg, r);

	/* 5. the UDP size probe */
	if (use->io.tp == SW_TP_UDP && !cfg->no_frag_probe && !r->cannot_run) {
		progress(cfg, "UDP size probe");
		bool lost = sw_doctor_find(r, SW_CAUSE_NO_RESPONSE) != NULL;
		sw_doctor_probe_sizes(&use->io, cfg, lost || r->registered ? use->io.last_sent : 0, r);
	}
	for (int i = 0; i < 2; i++)
		if (st[i].open)
			sw_doctor_conn_close(&st[i].io);
	return 0;
}
