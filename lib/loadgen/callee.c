/* The callee side of the call scenario: each user registers from the
 * callee socket (and removes its binding at the end), then the socket
 * answers as a UAS: 180 and 200 with Contact and SDP to an INVITE, 200 to
 * anything else but ACK. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include "call_int.h"

/* CSeq 1 and 2 register (Expires: 3600), 3 and 4 remove the binding at the
 * end of the run (Expires: 0), as a phone does when it shuts down: bindings
 * left behind would make the next run's calls fork to sockets long closed. */
static int registration(struct run *r, uint32_t u, unsigned cseq, const struct sw_auth *ch, char *out,
			size_t cap)
{
	const struct sw_lg_user *x = user(r, u);
	struct sw_buf b;
	sw_buf_init(&b, out, cap);
	sw_buf_addf(&b, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%sr%u.%u;rport\r\n"
		    "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%sr%u\r\nTo: <sip:%s@%s>\r\n"
		    "Call-ID: reg%u-%s\r\nCSeq: %u REGISTER\r\nContact: <sip:%s@%s>\r\nExpires: %u\r\n",
		    x->domain, r->eaddr, r->run_id, u, cseq, x->user, x->domain, r->run_id, u, x->user,
		    x->domain, u, r->run_id, cseq, x->user, r->eaddr, cseq > 2 ? 0u : 3600u);
	if (ch) {
		char uri[300];
		snprintf(uri, sizeof(uri), "sip:%s", x->domain);
		char cn[17];
		snprintf(cn, sizeof(cn), "%016llx", (unsigned long long)(r->rnd = r->rnd * 6364136223846793005ull + 1));
		sw_buf_adds(&b, "Authorization: ");
		if (sw_lg_digest_answer(r->dc, ch, sw_str_from(x->user, strlen(x->user)),
					sw_str_from(x->password, strlen(x->password)), SW_STR_LIT("REGISTER"),
					sw_str_from(uri, strlen(uri)), SW_STR_NULL, sw_str_from(cn, 16),
					SW_STR_LIT("00000001"), &b))
			return -1;
		sw_buf_adds(&b, "\r\n");
	}
	sw_buf_adds(&b, "Content-Length: 0\r\n\r\n");
	return b.overflow ? -1 : (int)b.len;
}

static void uas_reply(struct run *r, const struct sw_msg *m, unsigned status, bool dialog)
{
	char buf[MSG_CAP];
	struct sw_buf b;
	sw_buf_init(&b, buf, sizeof(buf));
	sw_print_status_line(&b, status, NULL);
	copy_hdrs(&b, m, SW_HDR_VIA);
	if (dialog)
		copy_hdrs(&b, m, SW_HDR_RECORD_ROUTE);
	copy_hdrs(&b, m, SW_HDR_FROM);
	const struct sw_hdr *to = sw_msg_hdr(m, SW_HDR_TO);
	struct sw_addr ta;
	if (!to || sw_addr_parse(&ta, to->value, false, NULL))
		return;
	sw_buf_adds(&b, "To: ");
	sw_buf_add_str(&b, to->value);
	if (!ta.tag.p && status > 100)
		sw_buf_adds(&b, ";tag=uas1");
	sw_buf_adds(&b, "\r\n");
	copy_hdrs(&b, m, SW_HDR_CALL_ID);
	copy_hdrs(&b, m, SW_HDR_CSEQ);
	if (dialog) {
		sw_buf_addf(&b, "Contact: <sip:%.*s@%s>\r\n", (int)ta.uri.user.len, ta.uri.user.p, r->eaddr);
		if (status == 200) {
			sw_buf_adds(&b, "Content-Type: application/sdp\r\n");
			sw_print_end(&b, SW_STR_LIT(SDP));
		} else {
			sw_print_end(&b, SW_STR_NULL);
		}
	} else {
		sw_print_end(&b, SW_STR_NULL);
	}
	if (!b.overflow)
		sw__call_send(r, r->efd, b.p, b.len);
}

static int on_callee(struct run *r, const char *buf, size_t len, uint32_t *registered, char *scratch)
{
	struct sw_msg *m = &r->m;
	if (sw_msg_parse(m, buf, len, NULL, NULL)) {
		r->st->malformed++;
		return 0;
	}
	if (m->is_request) {
		if (m->method_id == SW_METHOD_INVITE) {
			uas_reply(r, m, 180, true);
			uas_reply(r, m, 200, true);
		} else if (m->method_id != SW_METHOD_ACK) {
			uas_reply(r, m, 200, false);
		}
		return 0;
	}
	struct sw_cseq cs;
	sw_str cid;
	unsigned u;
	if (sw_msg_cseq(m, &cs, NULL) || cs.method_id != SW_METHOD_REGISTER || sw_msg_call_id(m, &cid, NULL) ||
	    sscanf(cid.p, "reg%u-", &u) != 1)
		return 0;
	if (m->status == 401 && (cs.num == 1 || cs.num == 3)) {
		const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_WWW_AUTHENTICATE);
		struct sw_auth ch;
		int n;
		if (!h || sw_auth_parse(&ch, h->value, NULL) ||
		    (n = registration(r, u, cs.num + 1, &ch, scratch, MSG_CAP)) < 0) {
			r->st->auth_errors++;
			return SW_EPARSE;
		}
		sw__call_send(r, r->efd, scratch, (size_t)n);
	} else if (m->status == 200) {
		(*registered)++;
	} else if (m->status >= 300) {
		return SW_EPARSE; /* a user the server does not know, or refuses */
	}
	return 0;
}

struct reg_arg {
	uint32_t *registered;
	char *scratch;
};

static int callee_fn(struct run *r, const char *buf, size_t len, void *arg)
{
	struct reg_arg *a = arg;
	return on_callee(r, buf, len, a->registered, a->scratch);
}

/* Registers every user from the callee socket (cseq 1), or removes their
 * bindings (cseq 3): the first alone, then 256 at a time (a burst of
 * unanswered challenges from an address no device has authenticated from
 * yet looks like a flood to a server's ban limits). */
int sw__call_register_all(struct run *r, unsigned cseq)
{
	char scratch[MSG_CAP];
	uint32_t n = (uint32_t)r->cfg->users->n, sent = 0, registered = 0;
	struct reg_arg a = { &registered, scratch };
	uint64_t deadline = now_ns() + (cseq == 1 ? 30ull : 5ull) * 1000000000u;
	while (registered < n) {
		while (sent < n && sent - registered < (registered ? 256u : 1u)) {
			int len = registration(r, sent, cseq, NULL, scratch, sizeof(scratch));
			if (len < 0)
				return SW_ENOSPC;
			sw__call_send(r, r->efd, scratch, (size_t)len);
			sent++;
		}
		struct pollfd p = { r->efd, POLLIN, 0 };
		poll(&p, 1, 100);
		if (sw__call_drain(r, r->efd, callee_fn, &a) < 0 || now_ns() > deadline)
			return SW_EIO;
	}
	return 0;
}

int sw__call_drain_callee(struct run *r, uint32_t *registered, char *scratch)
{
	struct reg_arg a = { registered, scratch };
	return sw__call_drain(r, r->efd, callee_fn, &a);
}
