/* One cause per flow, with how sure it is, and the findings on the way.
 * The last transaction of a flow says how it ended: a final non-2xx is
 * always a failure with its own cause; a refused answer to a challenge is
 * judged by answer.c; a 2xx is ok, and what cost round trips before it (a
 * 423, a stale nonce, a refused first answer, a duplicate final response)
 * is listed as findings with their cause ids. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_int.h"

#define NONE SW__NONE
#define S sw__s

const char *sw_trace_certainty_name(enum sw_trace_certainty c)
{
	switch (c) {
	case SW_TRACE_PROVEN: return "proven";
	case SW_TRACE_EVIDENT: return "evident";
	default: return "likely";
	}
}

static void evidence_at(struct sw_trace *t, unsigned msg, unsigned frame, unsigned input,
			enum sw_cause finding, const char *fmt, va_list ap)
{
	if (t->jquiet || t->jnev >= SW_TRACE_MAX_EVIDENCE)
		return;
	for (unsigned i = 0; i < t->jnev; i++) /* one note per message and text */
		if (t->jev[i].msg == msg && msg != NONE && fmt[0] == '\0')
			return;
	t->jev[t->jnev].msg = msg;
	t->jev[t->jnev].frame = frame;
	t->jev[t->jnev].input = input;
	t->jev[t->jnev].finding = finding;
	vsnprintf(t->jev[t->jnev].note, sizeof(t->jev[0].note), fmt, ap);
	t->jnev++;
}

void sw__evidence(struct sw_trace *t, struct sw_trace_flow *f, unsigned msg, const char *fmt, ...)
{
	(void)f;
	va_list ap;
	va_start(ap, fmt);
	evidence_at(t, msg, t->msgs[msg].meta.frame, t->msgs[msg].meta.input, SW_CAUSE_OK, fmt, ap);
	va_end(ap);
}

void sw__finding(struct sw_trace *t, unsigned msg, enum sw_cause c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evidence_at(t, msg, t->msgs[msg].meta.frame, t->msgs[msg].meta.input, c, fmt, ap);
	va_end(ap);
}

void sw__evidence_frame(struct sw_trace *t, unsigned frame, unsigned input, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evidence_at(t, NONE, frame, input, SW_CAUSE_OK, fmt, ap);
	va_end(ap);
}

void sw__detail(struct sw_trace *t, const char *fmt, ...)
{
	if (t->jquiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->jdetail, sizeof(t->jdetail), fmt, ap);
	va_end(ap);
}

void sw__flow_strings_free(struct sw_trace_flow *f)
{
	if (f->detail && f->detail[0])
		free((char *)f->detail);
	for (unsigned i = 0; i < f->nev; i++)
		free((char *)f->ev[i].note);
	free(f->ev);
	f->detail = "";
	f->ev = NULL;
	f->nev = 0;
}

static unsigned status(const struct sw_trace *t, unsigned msg)
{
	return msg == NONE || !t->msgs[msg].m ? 0 : t->msgs[msg].m->status;
}

/* Findings of a flow that ended in 2xx: what cost round trips before it. */
static void hitches(struct sw_trace *t, const struct sw__txn *tx, unsigned n)
{
	char b1[160];
	for (unsigned i = 0; i + 1 < n; i++) {
		const struct sw__txn *x = &tx[i];
		unsigned st = status(t, x->final);
		if (st == 423) {
			uint32_t min = 0;
			(void)sw_msg_min_expires(t->msgs[x->final].m, &min, NULL);
			sw__finding(t, x->final, SW_CAUSE_EXPIRES_TOO_BRIEF,
				    "423 Interval Too Brief (Min-Expires %u) before the success: a round trip each time", min);
			continue;
		}
		if (!x->has_creds || (st != 401 && st != 407))
			continue;
		struct sw_auth again[8];
		unsigned nagain = sw__challenges_of(t->msgs[x->final].m, again, 8);
		bool stale = false;
		for (unsigned k = 0; k < nagain; k++)
			stale |= sw_str_ieq(again[k].stale, "true");
		sw__first_line(&t->msgs[x->final], b1, sizeof(b1));
		if (stale)
			sw__finding(t, x->final, SW_CAUSE_STALE_NONCE,
				    "the answer's nonce had expired (stale=true); the retry with the new one worked");
		else if (x->nonce_accepted || sw__reason_says_nonce(t->msgs[x->final].m))
			sw__finding(t, x->final, SW_CAUSE_STALE_WITHOUT_FLAG,
				    "a nonce accepted before was refused (\"%s\") without stale=true; the retry with the new one worked", b1);
		else
			sw__finding(t, x->final, SW_CAUSE_CREDENTIALS_REJECTED,
				    "an answer was refused (\"%s\") before a later one was accepted", b1);
	}
}

/* A finding of any flow: more final responses than copies of the request
 * (a server or a proxy answered twice, e.g. a script that replies after
 * the registrar has already answered). */
static void duplicates(struct sw_trace *t, const struct sw__txn *tx, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct sw__txn *x = &tx[i];
		unsigned finals = 0;
		for (unsigned k = 0; k < x->nresps; k++)
			finals += status(t, x->resps[k]) >= 200;
		if (finals > x->nreqs) {
			sw__finding(t, x->resps[x->nresps - 1], SW_CAUSE_DUPLICATE_RESPONSE,
				    "%u final responses to %u cop%s of the request", finals, x->nreqs,
				    x->nreqs == 1 ? "y" : "ies");
			break;
		}
	}
}

/* A final non-2xx that is not about the credentials. */
static enum sw_cause refused(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *last)
{
	const struct sw_trace_msg *req = &t->msgs[last->reqs[0]];
	const struct sw_trace_msg *fin = &t->msgs[last->final];
	unsigned st = fin->m->status;
	bool reg = !strcmp(f->method, "REGISTER");
	const char *authd = last->has_creds ? " (after the answer to the challenge)" : "";
	char b1[256];
	sw__first_line(fin, b1, sizeof(b1));
	f->fail_msg = last->final;
	t->jcert = SW_TRACE_EVIDENT;
	if (st >= 500 && st < 600) {
		/* not a verdict on the credentials: the server (or one behind it)
		 * failed */
		uint32_t ra = 0;
		char rab[48] = "";
		if (sw_msg_retry_after(fin->m, &ra, NULL) == 0)
			snprintf(rab, sizeof(rab), "; it asks to retry after %u s", ra);
		sw__detail(t, "the server answered \"%s\"%s%s: a failure inside the server or behind it, not a verdict on the credentials",
			   b1, last->has_creds ? " to the request with credentials" : "", rab);
		sw__evidence(t, f, last->final, "%u from the server", st);
		return SW_CAUSE_SERVER_ERROR;
	}
	if (reg && (st == 404 || st == 604)) {
		struct sw_uri u;
		char dom[128] = "";
		if (sw_uri_parse(&u, req->m->ruri, NULL) == 0)
			S(u.host, dom, sizeof(dom));
		sw__detail(t, "the server answered \"%s\"%s to a registration for domain \"%s\": it does not serve that domain",
			   b1, authd, dom);
		sw__evidence(t, f, last->final, "%u to the REGISTER", st);
		return SW_CAUSE_DOMAIN_UNKNOWN;
	}
	if (st == 487) {
		sw__detail(t, "the request was cancelled (\"%s\")%s", b1,
			   last->has_creds ? "; its credentials were accepted" : "");
		sw__evidence(t, f, last->final, "487 after CANCEL");
		return SW_CAUSE_REQUEST_CANCELLED;
	}
	if (!reg && (st == 486 || st == 600 || st == 603 || st == 607)) {
		/* the request got through: the callee's side answered */
		bool busy = st == 486 || st == 600;
		sw__detail(t, "the request ended with \"%s\": the called party %s%s", b1,
			   busy ? "was busy" : "declined it",
			   last->has_creds ? "; the credentials were accepted" : "");
		sw__evidence(t, f, last->final, "%u from the callee's side", st);
		return busy ? SW_CAUSE_CALLEE_BUSY : SW_CAUSE_CALLEE_DECLINED;
	}
	if (st == 403 && reg && !last->has_creds) {
		sw__detail(t, "refused without a challenge: \"%s\"", b1);
		sw__evidence(t, f, last->final, "403 without a challenge");
		return SW_CAUSE_CREDENTIALS_REJECTED;
	}
	sw__detail(t, "the request ended with \"%s\"%s%s", b1,
		   last->has_creds ? "; its credentials were accepted, the server refused for another reason" : "",
		   last->has_creds || f->auth ? "" : "; no authentication took part");
	sw__evidence(t, f, last->final, "final %u", st);
	return SW_CAUSE_REQUEST_REFUSED;
}

/* No final response. */
static enum sw_cause unanswered(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
				const struct sw__txn *last)
{
	const struct sw_trace_msg *req = &t->msgs[last->reqs[0]];
	f->fail_msg = last->reqs[last->nreqs - 1];
	t->jcert = SW_TRACE_EVIDENT;
	if (req->meta.nfrags > 1) {
		t->jcert = SW_TRACE_LIKELY;
		sw__detail(t, "the request was sent in %u IP fragments and nothing came back (%u copies sent); a lost fragment is likely (else: the server is down or filtered)",
			   req->meta.nfrags, last->nreqs);
		sw__evidence(t, f, last->reqs[0], "%zu bytes in %u IP fragments, no answer", req->len, req->meta.nfrags);
		return SW_CAUSE_UDP_FRAGMENTATION;
	}
	if (prev && prev->challenge != NONE && last->has_creds && sw__known_addr(t->msgs[prev->challenge].meta.src) &&
	    sw__known_addr(req->meta.dst) && strcmp(t->msgs[prev->challenge].meta.src, req->meta.dst)) {
		sw__detail(t, "the challenge came from %s but the answer went to %s, which never replied",
			   t->msgs[prev->challenge].meta.src, req->meta.dst);
		sw__evidence(t, f, last->reqs[0], "answer sent to %s", req->meta.dst);
		return SW_CAUSE_RETRY_OTHER_SERVER;
	}
	if (f->auth) {
		sw__detail(t, "no response to the request (%u copies sent)", last->nreqs);
		sw__evidence(t, f, last->reqs[0], "no response");
		return SW_CAUSE_NO_RESPONSE;
	}
	sw__detail(t, "no response captured; no authentication took part");
	f->fail_msg = NONE;
	return SW_CAUSE_OK;
}

/* A capture that ends this soon after a challenge does not prove that the
 * device never answers it (phones answer within a second): likely, not
 * evident. */
#define ANSWER_WAIT_US 4000000ull

/* A 401/407 as the last answer. */
static enum sw_cause challenged(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *prev,
				const struct sw__txn *last)
{
	const struct sw_trace_msg *req = &t->msgs[last->reqs[0]];
	unsigned st = status(t, last->final);
	f->fail_msg = last->final;
	t->jcert = SW_TRACE_EVIDENT;
	if (last->has_creds) {
		enum sw_cause c = sw__rejected(t, f, prev, last);
		sw__evidence(t, f, last->final, "challenged again");
		return c;
	}
	enum sw_cause c;
	uint64_t at = t->msgs[last->final].meta.ts_us; /* the challenge's time, 0 unknown */
	if (last->retrans_after_final) {
		struct sw_via v;
		bool rport = sw_msg_top_via(req->m, &v, NULL) == 0 && v.has_rport;
		t->jcert = SW_TRACE_LIKELY;
		sw__detail(t, "the %u challenge was sent but the client kept retransmitting the request (%u times after it): the response likely never reached it%s",
			   st, last->retrans_after_final,
			   rport ? "" : "; the request's Via has no rport, so the answer went to the Via port");
		sw__evidence(t, f, last->reqs[last->nreqs - 1], "retransmission after the %u", st);
		c = SW_CAUSE_RESPONSE_LOST_NAT;
	} else if (at && t->now >= at && t->now - at < ANSWER_WAIT_US) {
		t->jcert = SW_TRACE_LIKELY;
		sw__detail(t, "the client received %u and sent no credentials before the capture ended, %.1f s later (a device normally answers within a second)",
			   st, (double)(t->now - at) / 1e6);
		c = SW_CAUSE_CHALLENGE_NOT_ANSWERED;
	} else {
		sw__detail(t, "the client received %u and never sent credentials", st);
		c = SW_CAUSE_CHALLENGE_NOT_ANSWERED;
	}
	sw__evidence(t, f, last->final, "challenge, not answered");
	return c;
}

static enum sw_cause too_brief(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *last, unsigned n423)
{
	const struct sw_trace_msg *req = &t->msgs[last->reqs[0]];
	uint32_t exp = 0, min = 0;
	f->fail_msg = last->final;
	t->jcert = SW_TRACE_EVIDENT;
	(void)sw_msg_min_expires(t->msgs[last->final].m, &min, NULL);
	if (sw_msg_expires(req->m, &exp, NULL) != 0) {
		struct sw_addr ct;
		const struct sw_hdr *h = sw_msg_hdr(req->m, SW_HDR_CONTACT);
		if (h && sw_addr_parse(&ct, h->value, true, NULL) == 0 && ct.has_expires)
			exp = ct.expires;
	}
	if (n423 > 1)
		sw__detail(t, "423 Interval Too Brief %u times in a row: the client keeps asking for %u s, the server wants at least %u s",
			   n423, exp, min);
	else
		sw__detail(t, "the registration asked for %u s; the server wants at least %u s (Min-Expires)", exp, min);
	sw__evidence(t, f, last->final, "423, Min-Expires: %u", min);
	return SW_CAUSE_EXPIRES_TOO_BRIEF;
}

/* The last answer of a flow is proved wrong; an earlier answer of the same
 * flow proved right and refused shows that the server refuses the right
 * password (a later answer computed otherwise is the client's own doing,
 * e.g. after it dropped the password). */
static enum sw_cause right_before(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *tx,
				  unsigned n, enum sw_cause c)
{
	char keep[sizeof(t->jdetail)], b1[160];
	memcpy(keep, t->jdetail, sizeof(keep));
	for (unsigned i = 1; i + 1 < n; i++) {
		const struct sw__txn *x = &tx[i];
		unsigned st = status(t, x->final);
		enum sw_cause pc;
		if (!x->has_creds || (st != 401 && st != 407 && st != 403))
			continue;
		if (sw__answer_proof(t, f, &tx[i - 1], x, &pc) && pc == SW_CAUSE_OK) {
			sw__first_line(&t->msgs[x->final], b1, sizeof(b1));
			sw__detail(t, "an earlier answer of this flow is right for the stored credentials, yet the server answered \"%s\"; "
				   "the last answer does not verify (%s)", b1, keep);
			t->jcert = SW_TRACE_PROVEN;
			return SW_CAUSE_REFUSED_AFTER_VALID_DIGEST;
		}
	}
	memcpy(t->jdetail, keep, sizeof(keep));
	return c;
}

void sw__verdict(struct sw_trace *t, struct sw_trace_flow *f, const struct sw__txn *tx, unsigned n)
{
	t->jdetail[0] = '\0';
	t->jnev = 0;
	t->jcert = SW_TRACE_EVIDENT;
	const struct sw__txn *last = &tx[n - 1];
	const struct sw__txn *prev = n > 1 ? &tx[n - 2] : NULL;
	unsigned n423 = 0;
	for (unsigned i = 0; i < n; i++) {
		if (tx[i].challenge != NONE || tx[i].has_creds)
			f->auth = true;
		n423 += status(t, tx[i].final) == 423;
	}
	if (!strcmp(f->method, "REGISTER"))
		f->auth = true; /* registrations are always reported */
	f->final_status = status(t, last->final);
	unsigned st = f->final_status;
	enum sw_cause c = SW_CAUSE_OK;

	if (st == 0)
		c = unanswered(t, f, prev, last);
	else if (st == 401 || st == 407)
		c = challenged(t, f, prev, last);
	else if (st == 423)
		c = too_brief(t, f, last, n423);
	else if (st == 403 && last->has_creds) {
		f->fail_msg = last->final;
		c = sw__rejected(t, f, prev, last);
		sw__evidence(t, f, last->final, "refused");
	} else if (st >= 300) {
		c = refused(t, f, last);
	} else {
		/* success (2xx), maybe after trouble worth a finding */
		if (last->has_creds) {
			enum sw_cause pc;
			if (sw__answer_proof(t, f, prev, last, &pc)) {
				t->jcert = SW_TRACE_PROVEN;
				if (pc != SW_CAUSE_OK)
					sw__detail(t, "accepted although the response does not verify with the given credentials");
				else
					sw__detail(t, "authenticated after %u challenge%s", n - 1, n == 2 ? "" : "s");
			} else {
				sw__detail(t, "authenticated after %u challenge%s", n - 1, n == 2 ? "" : "s");
			}
		} else {
			sw__detail(t, "accepted without authentication");
		}
		hitches(t, tx, n);
	}
	if (c == SW_CAUSE_WRONG_PASSWORD && n > 2)
		c = right_before(t, f, tx, n, c);
	duplicates(t, tx, n);
	f->cause = c;
	f->certainty = t->jcert;
	/* a cancelled request is not ok, but nothing failed: the caller hung
	 * up; nor a busy or declining callee: the call got through */
	f->failed = c != SW_CAUSE_OK && c != SW_CAUSE_REQUEST_CANCELLED && c != SW_CAUSE_CALLEE_BUSY &&
		    c != SW_CAUSE_CALLEE_DECLINED;
	if (c != SW_CAUSE_OK)
		f->auth = true;
}

void sw__verdict_strings(const struct sw_trace *t, struct sw_trace_flow *f)
{
	/* the strings, sized to fit */
	f->detail = t->jdetail[0] ? strdup(t->jdetail) : NULL;
	if (!f->detail)
		f->detail = "";
	f->nev = 0;
	f->ev = t->jnev ? calloc(t->jnev, sizeof(*f->ev)) : NULL;
	for (unsigned i = 0; f->ev && i < t->jnev; i++) {
		f->ev[i].msg = t->jev[i].msg;
		f->ev[i].frame = t->jev[i].frame;
		f->ev[i].input = t->jev[i].input;
		f->ev[i].finding = t->jev[i].finding;
		if ((f->ev[i].note = strdup(t->jev[i].note)))
			f->nev++;
		else
			break;
	}
}

void sw__flow_add_finding(struct sw_trace_flow *f, const struct sw_trace_msg *tm, enum sw_cause c,
			  const char *note)
{
	if (f->nev >= SW_TRACE_MAX_EVIDENCE)
		return;
	struct sw_trace_evidence *ev = realloc(f->ev, (f->nev + 1) * sizeof(*ev));
	if (!ev)
		return;
	f->ev = ev;
	char *n = strdup(note);
	if (!n)
		return;
	ev[f->nev++] = (struct sw_trace_evidence){ .msg = NONE, .frame = tm->meta.frame,
						   .input = tm->meta.input, .note = n, .finding = c };
}
