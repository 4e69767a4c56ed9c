/* Network findings read from the answers: NAT (Via received/rport), a SIP
 * ALG (our Via or Contact rewritten on the way, spotted by a canary token
 * we put in both), and UDP fragmentation (a padded OPTIONS of growing size
 * finds where answers stop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doctor_int.h"

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

/* Host without IPv6 brackets, for comparing with a received= value. */
static sw_str unbracket(sw_str h)
{
	if (h.len >= 2 && h.p[0] == '[' && h.p[h.len - 1] == ']')
		return sw_str_from(h.p + 1, h.len - 2);
	return h;
}

bool sw_doctor_check_nat(const char *resp, size_t len, const char *sent_host, int sent_port,
			 struct sw_doctor_report *r)
{
	struct sw_msg *m = malloc(sizeof(*m));
	bool added = false;
	struct sw_via v;
	if (!m)
		return false;
	if (sw_msg_parse(m, resp, len, NULL, NULL) || sw_msg_top_via(m, &v, NULL))
		goto out;
	sw_str host = unbracket(S(sent_host));
	bool addr_differs = v.received.p && !sw_str_ieq_str(unbracket(v.received), host);
	bool port_differs = v.has_rport && v.rport > 0 && v.rport != sent_port;
	if (!addr_differs && !port_differs)
		goto out;
	char seen_host[80], seen[128];
	sw_str_cpy(seen_host, sizeof(seen_host), v.received.p ? unbracket(v.received) : host);
	snprintf(seen, sizeof(seen), "%s:%d", seen_host, v.has_rport && v.rport > 0 ? v.rport : sent_port);
	struct sw_doctor_finding *f =
		sw_doctor_add(r, SW_CAUSE_NAT_DETECTED, "the server saw this client as %s, it sent from %s:%d",
			      seen, sent_host, sent_port);
	if (f) {
		char via[600];
		sw__dheader_line(m, SW_HDR_VIA, via, sizeof(via));
		sw_doctor_evidence(f, "answer %s", via);
		sw_doctor_detail(f, "A NAT router between here and the server maps %s:%d to %s.", sent_host,
				 sent_port, seen);
		sw_doctor_detail(f, "UDP mappings are often forgotten after 30-120 s of silence: the "
				    "device must send keep-alives (CRLF or OPTIONS) about every 25 s, or "
				    "register more often than the router forgets, and the server must "
				    "answer to the rport (RFC 3581).");
		added = true;
	}
out:
	free(m);
	return added;
}

/* host:port (port -1 as absent) of a sent Via or Contact, re-parsed with
 * the library's parser so that both sides are compared the same way. */
static bool same_hostport(sw_str ha, int pa, sw_str hb, int pb)
{
	return sw_str_ieq_str(ha, hb) && (pa < 0 ? 5060 : pa) == (pb < 0 ? 5060 : pb);
}

static bool has_canary(sw_str params, const char *canary)
{
	sw_str v;
	return sw_param_get(params, "swc", &v) && sw_str_eq(v, canary);
}

bool sw_doctor_check_alg(const char *resp, size_t len, const char *sent_via, const char *sent_contact,
			 const char *canary, struct sw_doctor_report *r)
{
	struct sw_msg *m = malloc(sizeof(*m));
	bool added = false;
	if (!m)
		return false;
	struct sw_via sv, rv;
	struct sw_addr sc;
	if (sw_msg_parse(m, resp, len, NULL, NULL) || sw_via_parse(&sv, S(sent_via), NULL) ||
	    sw_addr_parse(&sc, S(sent_contact), false, NULL))
		goto out;
	char line[700];
	struct sw_doctor_finding *f = NULL;
	/* the Via comes back as sent, plus received/rport */
	if (sw_msg_top_via(m, &rv, NULL) == 0) {
		bool ours = has_canary(rv.params, canary);
		if (!ours || !same_hostport(rv.host, rv.port, sv.host, sv.port) ||
		    !sw_str_ieq_str(rv.transport, sv.transport)) {
			f = sw_doctor_add(r, SW_CAUSE_SIP_ALG_SUSPECTED,
					  "the Via header came back changed: something on the way rewrote it");
			sw_doctor_evidence(f, "sent   Via: %s", sent_via);
			sw__dheader_line(m, SW_HDR_VIA, line, sizeof(line));
			sw_doctor_evidence(f, "answer %s", line);
		}
	}
	/* our binding: found by the canary, else by host and port */
	struct sw_hdr_iter it;
	sw_str e;
	bool any = false, found = false, moved = false;
	struct sw_addr a;
	sw_hdr_iter_init(&it, m, SW_HDR_CONTACT);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		if (sw_addr_parse(&a, e, true, NULL) || a.star)
			continue;
		any = true;
		bool canary_here = has_canary(a.uri.params, canary);
		bool same = same_hostport(a.uri.host, a.uri.port, sc.uri.host, sc.uri.port) &&
			    sw_str_eq_str(a.uri.user, sc.uri.user);
		if (canary_here && !same) {
			moved = true;
			snprintf(line, sizeof(line), "answer Contact: %.*s", (int)e.len, e.p);
		}
		found |= canary_here || same;
	}
	if (any && (moved || !found)) {
		if (!f)
			f = sw_doctor_add(r, SW_CAUSE_SIP_ALG_SUSPECTED,
					  "the Contact the server registered is not the one sent");
		else
			sw_doctor_detail(f, "The Contact was changed too.");
		sw_doctor_evidence(f, "sent   Contact: %s", sent_contact);
		if (moved) {
			sw_doctor_evidence(f, "%s", line);
		} else {
			sw__dheader_line(m, SW_HDR_CONTACT, line, sizeof(line));
			sw_doctor_evidence(f, "answer %s", line);
		}
	}
	if (f) {
		f->problem = true;
		sw_doctor_detail(f, "Routers with a SIP ALG (\"SIP helper\", \"SIP fixup\") rewrite "
				    "addresses inside SIP messages and often break registration and "
				    "calls; an SBC in front of the server can also do this.");
		added = true;
	}
out:
	free(m);
	return added;
}

size_t sw_doctor_probe_sizes(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg, size_t need,
			     struct sw_doctor_report *r)
{
	static const size_t sizes[] = { 500, 1000, 1400, 1600, 2000, 3000, SW_DOCTOR_FRAG_MAX };
	const size_t hdr = strlen("X-Sipwarden-Padding: \r\n");
	struct sw__dsess s;
	if (sw__dsess_init(&s, cfg, io))
		return 0;
	char *buf = malloc(SW__DOCTOR_MSG_CAP), *resp = malloc(SW__DOCTOR_MSG_CAP);
	size_t largest = 0, lost = 0;
	if (!buf || !resp)
		goto out;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sw_buf b;
		sw_buf_init(&b, buf, SW__DOCTOR_MSG_CAP);
		if (sw__dreq_build(&s, &b, "OPTIONS", 0, NULL, 0))
			goto out;
		size_t base = b.len;
		if (sizes[i] < base + hdr + 1)
			continue;
		sw_buf_init(&b, buf, SW__DOCTOR_MSG_CAP);
		if (sw__dreq_build(&s, &b, "OPTIONS", 0, NULL, sizes[i] - base - hdr))
			goto out;
		size_t rlen = 0;
		int x = io->exchange(io->self, b.p, b.len, resp, SW__DOCTOR_MSG_CAP, &rlen);
		if (x == SW_DX_ANSWER) {
			largest = b.len;
			continue;
		}
		lost = b.len;
		break;
	}
	if (!lost) {
		sw_doctor_note(r, "UDP size probe: padded OPTIONS answered up to %zu bytes", largest);
		goto out;
	}
	if (!largest) {
		sw_doctor_note(r, "UDP size probe: no padded OPTIONS was answered (%zu bytes lost)", lost);
		goto out;
	}
	sw_doctor_note(r, "UDP size probe: answered up to %zu bytes, lost at %zu bytes", largest, lost);
	if (need && need <= largest)
		goto out;
	struct sw_doctor_finding *f = sw_doctor_add(r, SW_CAUSE_UDP_FRAGMENTATION,
						    "UDP requests of %zu bytes and more get no answer; "
						    "%zu bytes still do", lost, largest);
	if (need)
		sw_doctor_detail(f, "The authenticated REGISTER is %zu bytes, too large to arrive.", need);
	sw_doctor_detail(f, "Messages above the path MTU (typically about 1400 bytes) are split "
			    "into IP fragments, and some routers and firewalls drop fragments.");
out:
	free(buf);
	free(resp);
	return largest;
}
