/* The whole check, in the order of the issue: where to go, who answers,
 * REGISTER and its challenge, the network findings, unregistration. Each
 * step stops the check when later steps cannot tell more. The transport
 * used is the first that answers of UDP, TCP and TLS; a TLS target that
 * fails its handshake or certificate check is tls-failed even when another
 * transport works. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/doctor.h"

#define MAX_TRIES_PER_TP 3

struct tp_state {
	bool tried, answered, open;
	unsigned refused, silent, tls_failed;
	char tls_why[600];       /* the first TLS failure: reason, certificate */
	char tls_peer[80];
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
		snprintf(what, sizeof(what), "%s over %s to %s", tp == SW_TP_TLS ? "TLS handshake and OPTIONS"
			 : "OPTIONS", sw_transport_name(tp), a);
		progress(cfg, what);
		char why[600];
		int x = sw_doctor_conn_open(&s->io, &t[i], timeout_ms, why, sizeof(why));
		if (x == SW_DX_TLS_FAILED) {
			if (!s->tls_failed++) {
				snprintf(s->tls_why, sizeof(s->tls_why), "%s", why);
				snprintf(s->tls_peer, sizeof(s->tls_peer), "%s", a);
			}
			char *nl = strchr(why, '\n');
			sw_doctor_note(r, "TLS %s: %.*s (certificate checked for \"%s\")", a,
				       nl ? (int)(nl - why) : (int)strlen(why), why, t[i].name);
			continue;
		}
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
		if (tp == SW_TP_TLS)
			sw_doctor_note(r, "TLS %s: handshake done, %s", a, s->io.tls);
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

/* tls-failed from the first TLS failure of st; the reason is the first
 * line of what the connection said, the certificate the next. */
static void tls_failed(const struct tp_state *st, bool others_work, struct sw_doctor_report *r)
{
	char reason[300], cert[400] = "";
	const char *nl = strchr(st->tls_why, '\n');
	snprintf(reason, sizeof(reason), "%.*s", nl ? (int)(nl - st->tls_why) : (int)strlen(st->tls_why),
		 st->tls_why);
	if (nl)
		snprintf(cert, sizeof(cert), "%s", nl + 1);
	struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_TLS_FAILED, "TLS to %s: %s", st->tls_peer, reason);
	if (cert[0])
		sw_doctor_evidence(f, "%s", cert);
	for (unsigned i = 0; i < r->nnotes; i++)
		if (strncmp(r->notes[i], "TLS ", 4) == 0)
			sw_doctor_evidence(f, "%s", r->notes[i]);
	if (strstr(reason, "certificate verify failed"))
		sw_doctor_detail(f, "The check trusts the certificates of OpenSSL's default store (set "
				    "SSL_CERT_FILE or SSL_CERT_DIR to use another one), as a phone trusts its "
				    "own list; the certificate must also name the host the device connects to.");
	if (others_work)
		sw_doctor_detail(f, "The domain publishes TLS, but devices set to TLS cannot connect; the "
				    "rest of the check used another transport.");
}

static void no_response(const struct sw_doctor_cfg *cfg, struct tp_state *st, struct sw_doctor_report *r)
{
	unsigned refused = 0, silent = 0;
	for (int i = 0; i < 3; i++) {
		refused += st[i].refused;
		silent += st[i].silent;
	}
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
	unsigned timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : SW_DOCTOR_TIMEOUT_MS_DEFAULT;

	/* 1. where to go */
	progress(cfg, "resolving");
	struct sw_doctor_target t[SW_DOCTOR_MAX_TARGETS];
	int n = sw_doctor_resolve(cfg, t, SW_DOCTOR_MAX_TARGETS, r);
	if (n <= 0)
		return 0;
	/* 2. who answers */
	struct tp_state st[3];
	memset(st, 0, sizeof(st));
	probe_tp(cfg, SW_TP_UDP, t, (unsigned)n, timeout_ms, &st[SW_TP_UDP], r);
	probe_tp(cfg, SW_TP_TCP, t, (unsigned)n, timeout_ms, &st[SW_TP_TCP], r);
	probe_tp(cfg, SW_TP_TLS, t, (unsigned)n, timeout_ms, &st[SW_TP_TLS], r);
	struct tp_state *use = NULL;
	for (int i = 0; i < 3 && !use; i++)
		if (st[i].answered)
			use = &st[i];
	if (st[SW_TP_TLS].tls_failed && !st[SW_TP_TLS].answered)
		tls_failed(&st[SW_TP_TLS], use != NULL, r);
	if (!use) {
		if (!st[SW_TP_UDP].tried && !st[SW_TP_TCP].tried && !st[SW_TP_TLS].tried)
			sw_doctor_cannot_run(r, "no target to check");
		else if (!st[SW_TP_TLS].tls_failed)
			no_response(cfg, st, r);
		goto out;
	}
	if (use != &st[SW_TP_TLS] && st[SW_TP_TLS].tried && !st[SW_TP_TLS].answered &&
	    !st[SW_TP_TLS].tls_failed) {
		/* published but nothing there: as broken for a TLS phone */
		struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_TLS_FAILED, "TLS: %s",
			st[SW_TP_TLS].refused ? "connection refused" : "no answer");
		for (unsigned i = 0; i < r->nnotes; i++)
			if (strncmp(r->notes[i], "TLS ", 4) == 0)
				sw_doctor_evidence(f, "%s", r->notes[i]);
		sw_doctor_detail(f, "The domain publishes TLS, but nothing answers there; the rest of the "
				    "check used another transport.");
	}
	if (st[SW_TP_UDP].tried && !st[SW_TP_UDP].answered && st[SW_TP_TCP].answered) {
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
out:
	for (int i = 0; i < 3; i++)
		if (st[i].open)
			sw_doctor_conn_close(&st[i].io);
	return 0;
}
