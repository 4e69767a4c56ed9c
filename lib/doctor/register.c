/* Steps 3, 4 and 6 of the check: REGISTER without credentials and the
 * challenge it gets, the answer to that challenge and the classification of
 * the final response (with the retries a careful client makes: stale nonce,
 * 423 Min-Expires, 407, other auth usernames), and the unregistration.
 * Digests are only ever sent to the target that challenged us: the io is
 * one connection to one address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "doctor_int.h"

#define MAX_ROUNDS 12

struct flow {
	struct sw__dsess s;
	struct sw_doctor_io *io;
	const struct sw_doctor_cfg *cfg;
	struct sw_doctor_report *r;
	char *req, *resp;
	size_t reqlen, rlen;
	struct sw_msg *m;         /* the last response, parsed */
	struct sw__dcred cred;
	char username[256];       /* the digest username in use */
	uint32_t expires;
	size_t auth_size;         /* bytes of the last authenticated REGISTER */
	int rounds;
};

static void progress(struct flow *f, const char *what)
{
	if (f->cfg->progress)
		f->cfg->progress(f->cfg->progress_arg, what);
}

/* Sends one REGISTER and parses the answer into f->m. Returns an enum
 * sw_doctor_xres, or a negative code (the report says why). */
static int transact(struct flow *f, uint32_t expires, bool with_cred)
{
	if (++f->rounds > MAX_ROUNDS) {
		sw_doctor_note(f->r, "stopped after %d requests", MAX_ROUNDS);
		return SW_ETOOBIG;
	}
	struct sw_buf b;
	sw_buf_init(&b, f->req, SW__DOCTOR_MSG_CAP);
	int err = sw__dreq_build(&f->s, &b, "REGISTER", expires, with_cred ? &f->cred : NULL, 0);
	if (err) {
		sw_doctor_cannot_run(f->r, "cannot build the REGISTER: %s", sw_strerror(err));
		return err;
	}
	f->reqlen = b.len;
	f->io->last_sent = b.len;
	if (with_cred)
		f->auth_size = b.len;
	int x = f->io->exchange(f->io->self, f->req, f->reqlen, f->resp, SW__DOCTOR_MSG_CAP, &f->rlen);
	if (x < 0) {
		sw_doctor_cannot_run(f->r, "sending the REGISTER failed: %s", sw_strerror(x));
		return x;
	}
	if (x != SW_DX_ANSWER)
		return x;
	if (sw_msg_parse(f->m, f->resp, f->rlen, NULL, NULL) || f->m->is_request) {
		struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST,
							     "the server's answer to REGISTER does not parse");
		sw_doctor_detail(fd, "A SIP response is expected; the client cannot go on.");
		return SW_EPARSE;
	}
	char line[300];
	sw__dstatus_line(f->m, line, sizeof(line));
	sw_doctor_note(f->r, "REGISTER (Expires %u%s) -> %s", expires,
		       with_cred ? (f->cred.proxy ? ", Proxy-Authorization" : ", Authorization") : "",
		       line + 8);
	sw_doctor_check_nat(f->resp, f->rlen, f->io->local_host, f->io->local_port, f->r);
	return SW_DX_ANSWER;
}

/* Evidence: the status line, then the named headers that are present. */
static void evidence(struct flow *f, struct sw_doctor_finding *fd, const enum sw_hdr_id *ids, size_t n)
{
	char line[700];
	sw__dstatus_line(f->m, line, sizeof(line));
	sw_doctor_evidence(fd, "%s", line);
	for (size_t i = 0; i < n; i++)
		for (const struct sw_hdr *h = sw_msg_hdr(f->m, ids[i]); h; h = sw_msg_hdr_next(f->m, h))
			sw_doctor_evidence(fd, "%s: %.*s", sw_hdr_name(ids[i]), (int)h->value.len, h->value.p);
}

static const enum sw_hdr_id auth_ids[] = { SW_HDR_WWW_AUTHENTICATE, SW_HDR_PROXY_AUTHENTICATE };
static const enum sw_hdr_id refusal_ids[] = { SW_HDR_WARNING, SW_HDR_RETRY_AFTER };

static void sent_auth_line(struct flow *f, struct sw_doctor_finding *fd)
{
	struct sw_msg *m = malloc(sizeof(*m));
	if (m && sw_msg_parse(m, f->req, f->reqlen, NULL, NULL) == 0) {
		char line[1000];
		sw__dheader_line(m, f->cred.proxy ? SW_HDR_PROXY_AUTHORIZATION : SW_HDR_AUTHORIZATION, line,
				 sizeof(line));
		if (line[0])
			sw_doctor_evidence(fd, "sent %s", line);
	}
	free(m);
}

/* The 200: granted expires and the bindings; the ALG check. */
static void on_ok(struct flow *f, bool authenticated)
{
	struct sw_doctor_report *r = f->r;
	struct sw_hdr_iter it;
	sw_str e;
	struct sw_addr a, sc;
	uint32_t hdr_exp = 0;
	bool has_hdr_exp = sw_msg_expires(f->m, &hdr_exp, NULL) == 0;
	bool parsed_sent = sw_addr_parse(&sc, sw_str_from(f->s.contact, strlen(f->s.contact)), false, NULL) == 0;
	r->registered = true;
	r->granted = has_hdr_exp ? hdr_exp : f->expires;
	r->nbindings = 0;
	sw_hdr_iter_init(&it, f->m, SW_HDR_CONTACT);
	while (sw_hdr_iter_next(&it, &e, NULL)) {
		if (r->nbindings < SW_DOCTOR_MAX_BINDINGS)
			sw_str_cpy(r->bindings[r->nbindings++], sizeof(r->bindings[0]), e);
		if (sw_addr_parse(&a, e, true, NULL) || a.star)
			continue;
		sw_str v;
		bool ours = sw_param_get(a.uri.params, "swc", &v) && sw_str_eq(v, f->s.canary);
		ours |= parsed_sent && sw_uri_equal(&a.uri, &sc.uri);
		if (ours)
			r->granted = a.has_expires ? a.expires : r->granted;
	}
	sw_doctor_note(r, "registered: %u s granted, %u binding(s) listed", r->granted, r->nbindings);
	if (!authenticated) {
		struct sw_doctor_finding *fd = sw_doctor_add(r, SW_CAUSE_OK,
			"the server accepted the REGISTER without asking for credentials");
		sw_doctor_detail(fd, "It does not authenticate registrations (or trusts this address): "
				     "anyone can register this address-of-record.");
		fd->severity = SW_SEV_WARNING;
	}
	sw_doctor_check_alg(f->resp, f->rlen, f->s.via, f->s.contact, f->s.canary, r);
}

/* 403: account disabled, source banned, or another refusal. */
static void on_403(struct flow *f, bool after_digest)
{
	char reason[200], warning[400] = "";
	sw_str_cpy(reason, sizeof(reason), f->m->reason);
	sw__dheader_line(f->m, SW_HDR_WARNING, warning, sizeof(warning));
	char text[640];
	snprintf(text, sizeof(text), "%s %s", reason, warning);
	enum sw_cause c = SW_CAUSE_REFUSED_AFTER_VALID_DIGEST;
	if (strcasestr(text, "disabled") || strcasestr(text, "suspended") || strcasestr(text, "inactive"))
		c = SW_CAUSE_ACCOUNT_DISABLED;
	else if (strcasestr(text, "ban") || strcasestr(text, "blocked") || strcasestr(text, "blacklist"))
		c = SW_CAUSE_SOURCE_BANNED;
	struct sw_doctor_finding *fd = sw_doctor_add(f->r, c, "the server answered 403 \"%s\"%s", reason,
						     after_digest ? " to the answered challenge" : " before any challenge");
	evidence(f, fd, refusal_ids, 2);
	if (c == SW_CAUSE_REFUSED_AFTER_VALID_DIGEST)
		sw_doctor_detail(fd, "The server refuses for a reason of its own: a disabled account, a "
				     "banned address, an access list, a limit. Some servers (Asterisk) also "
				     "answer 403 to a wrong password. Only the server's log says which.");
}

static void on_other_final(struct flow *f, bool after_digest)
{
	char reason[200];
	sw_str_cpy(reason, sizeof(reason), f->m->reason);
	unsigned st = f->m->status;
	struct sw_doctor_finding *fd;
	if (st == 404) {
		fd = sw_doctor_add(f->r, SW_CAUSE_DOMAIN_UNKNOWN, "the server answered 404 \"%s\": it does "
				   "not know the domain '%s' or the user '%s'", reason, f->cfg->domain, f->cfg->user);
	} else if (st == 403) {
		on_403(f, after_digest);
		return;
	} else if (st >= 500 && st < 600) {
		fd = sw_doctor_add(f->r, SW_CAUSE_SERVER_ERROR, "the server answered %u \"%s\"%s", st, reason,
				   after_digest ? " to the answered challenge" : " before any challenge");
		uint32_t ra = 0;
		if (sw_msg_retry_after(f->m, &ra, NULL) == 0)
			sw_doctor_detail(fd, "It asks to retry after %u s.", ra);
		sw_doctor_detail(fd, "A %u is a failure inside the server (or one behind it: its database, "
				     "the next hop), not a verdict on the credentials%s.", st,
				 after_digest ? ", which it may not even have checked" : "");
	} else {
		fd = sw_doctor_add(f->r, SW_CAUSE_REFUSED_AFTER_VALID_DIGEST, "the server answered %u \"%s\"%s",
				   st, reason, after_digest ? " to the answered challenge" : "");
	}
	evidence(f, fd, refusal_ids, 2);
}

/* 423 Interval Too Brief: retry with Min-Expires. true when retrying. */
static bool on_423(struct flow *f, bool *done)
{
	uint32_t min = 0;
	if (*done || sw_msg_min_expires(f->m, &min, NULL) || min == 0 || min <= f->expires) {
		struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_EXPIRES_TOO_BRIEF, "%s", "");
		if (!fd)
			return false;
		snprintf(fd->observed, sizeof(fd->observed), "the server answered 423 (Min-Expires %u) "
			 "and a retry with its Min-Expires did not help", min);
		fd->problem = true;
		evidence(f, fd, (const enum sw_hdr_id[]){ SW_HDR_MIN_EXPIRES }, 1);
		return false;
	}
	*done = true;
	struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_EXPIRES_TOO_BRIEF,
		"a registration interval of %u s is refused; the server wants at least %u s", f->expires, min);
	fd->problem = true;
	evidence(f, fd, (const enum sw_hdr_id[]){ SW_HDR_MIN_EXPIRES }, 1);
	sw_doctor_detail(fd, "Configure a registration interval of %u s (or more) on the device; "
			     "the check retried with %u s.", min, min);
	f->expires = min;
	return true;
}

/* Reads the challenge of the current 401/407 into f->cred. */
static int take_challenge(struct flow *f, bool record)
{
	int err = sw__dchallenge_pick(f->m, f->cfg, &f->cred, f->r, record);
	if (err) {
		struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_ALGORITHM_UNSUPPORTED,
			err == SW_ENOTFOUND ? "the %u carries no Digest challenge this client can read"
					    : "no challenge offers an algorithm this client can answer",
			f->m->status);
		evidence(f, fd, auth_ids, 2);
		if (f->cfg->ha1)
			sw_doctor_detail(fd, "With --ha1 only MD5 challenges can be answered; give --password.");
	}
	f->cred.username = f->username;
	return err;
}

/* The digest username variants worth a try after a rejection. */
static unsigned variants(const struct sw_doctor_cfg *cfg, char out[3][256])
{
	char user[256];
	int n = sw_uri_unescape(sw_str_from(cfg->user, strlen(cfg->user)), user, sizeof(user) - 1);
	user[n > 0 ? n : 0] = 0;
	unsigned k = 0;
	const char *cands[3] = { cfg->auth_user, user, NULL };
	char at[256 + 1 + 128];
	snprintf(at, sizeof(at), "%s@%s", user, cfg->domain);
	cands[2] = at;
	for (unsigned i = 0; i < 3; i++) {
		if (!cands[i])
			continue;
		bool dup = false;
		for (unsigned j = 0; j < k; j++)
			dup |= strcmp(out[j], cands[i]) == 0;
		if (!dup)
			snprintf(out[k++], 256, "%s", cands[i]);
	}
	return k;
}

enum step { ST_DONE_OK, ST_FAIL, ST_RETRY, ST_REJECTED };

/* Classifies the answer to an authenticated REGISTER. reused: the nonce was
 * used before (a refresh); stale_seen counts stale=true answers. */
static enum step classify_answered(struct flow *f, bool reused, int *stale_seen, bool *proxy_seen,
				   bool *min_done)
{
	unsigned st = f->m->status;
	if (st >= 200 && st < 300)
		return ST_DONE_OK;
	if (st == 423) {
		/* the same nonce again, with the next nonce-count */
		f->cred.nc++;
		return on_423(f, min_done) ? ST_RETRY : ST_FAIL;
	}
	if (st != 401 && st != 407) {
		on_other_final(f, true);
		return ST_FAIL;
	}
	bool was_proxy = f->cred.proxy;
	struct sw__dcred old = f->cred;
	if (take_challenge(f, false))
		return ST_FAIL;
	if (f->cred.proxy != was_proxy) {
		/* a 407 after a 401 (or the reverse): another hop wants credentials */
		if (*proxy_seen)
			return ST_REJECTED;
		*proxy_seen = true;
		sw_doctor_note(f->r, "the server now asks with %s: answering it",
			       f->cred.proxy ? "407 Proxy-Authenticate" : "401 WWW-Authenticate");
		return ST_RETRY;
	}
	struct sw_auth ch;
	const struct sw_hdr *h = sw_msg_hdr(f->m, f->cred.proxy ? SW_HDR_PROXY_AUTHENTICATE : SW_HDR_WWW_AUTHENTICATE);
	bool stale = h && sw_auth_parse(&ch, h->value, NULL) == 0 && sw_str_ieq(ch.stale, "true");
	if (stale) {
		if (++*stale_seen == 1) {
			sw_doctor_note(f->r, "the server says the nonce is stale: retrying once with the new one");
			if (reused) {
				struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_STALE_NONCE,
					"the server expired the nonce and said so (stale=true); a retry with the new nonce follows");
				fd->problem = false;
				evidence(f, fd, auth_ids, 2);
			}
			return ST_RETRY;
		}
		struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_STALE_NONCE,
			"the server calls every fresh nonce stale: a stale=true loop");
		fd->problem = true;
		fd->severity = SW_SEV_ERROR;
		evidence(f, fd, auth_ids, 2);
		sw_doctor_detail(fd, "A nonce answered at once was declared stale twice: the server's clock "
				     "or nonce lifetime is broken, or nodes of a cluster do not share the nonce secret.");
		return ST_FAIL;
	}
	if (reused && strcmp(old.nonce, f->cred.nonce) != 0) {
		struct sw_doctor_finding *fd = sw_doctor_add(f->r, SW_CAUSE_STALE_WITHOUT_FLAG,
			"the server rejected a nonce it had accepted before, without stale=true");
		evidence(f, fd, auth_ids, 2);
		sw_doctor_detail(fd, "A client that trusts the missing stale flag would ask the user for the "
				     "password again; the check retried with the new nonce.");
		fd->problem = false;
		return ST_RETRY;
	}
	return ST_REJECTED;
}

/* REGISTER without credentials, then answer challenges until a final
 * verdict. Returns true when registered. */
static bool register_once(struct flow *f, bool first, bool *min_done)
{
	struct sw_doctor_report *r = f->r;
	int x;
	progress(f, "REGISTER without credentials");
	for (;;) {
		x = transact(f, f->expires, false);
		if (x != SW_DX_ANSWER)
			goto noanswer;
		if (f->m->status == 423 && on_423(f, min_done))
			continue;
		break;
	}
	unsigned st = f->m->status;
	if (st >= 200 && st < 300) {
		on_ok(f, false);
		return true;
	}
	if (st != 401 && st != 407) {
		if (st != 423)
			on_other_final(f, false);
		return false;
	}
	if (take_challenge(f, first))
		return false;
	if (first) {
		if (st == 407)
			sw_doctor_note(r, "the server answered REGISTER with 407: it wants Proxy-Authorization "
					  "(a proxy in front of the registrar); answering with it");
		if (strcmp(f->cred.realm, f->cfg->domain) != 0) {
			struct sw_doctor_finding *fd = sw_doctor_add(r, SW_CAUSE_REALM_MISMATCH,
				"the challenge realm \"%s\" differs from the domain \"%s\"", f->cred.realm, f->cfg->domain);
			fd->severity = SW_SEV_WARNING;
			fd->problem = false;
			evidence(f, fd, auth_ids, 2);
			sw_doctor_detail(fd, "A device that uses its domain as the realm (or has a realm "
					     "setting) must use \"%s\"; this check used the challenge's realm.",
					 f->cred.realm);
		}
		if (!f->cfg->password && !f->cfg->ha1) {
			struct sw_doctor_finding *fd = sw_doctor_add(r, SW_CAUSE_CHALLENGE_NOT_ANSWERED,
				"the server asks for credentials and none were given");
			evidence(f, fd, auth_ids, 2);
			sw_doctor_detail(fd, "Run the check again with --password, --password-stdin or --ha1.");
			return false;
		}
	}
	int stale_seen = 0;
	bool proxy_seen = false;
	progress(f, "REGISTER answering the challenge");
	for (;;) {
		x = transact(f, f->expires, true);
		if (x != SW_DX_ANSWER)
			goto noanswer;
		enum step s = classify_answered(f, false, &stale_seen, &proxy_seen, min_done);
		if (s == ST_DONE_OK) {
			on_ok(f, true);
			snprintf(r->auth_user_ok, sizeof(r->auth_user_ok), "%s", f->username);
			return true;
		}
		if (s == ST_RETRY)
			continue;
		if (s == ST_REJECTED && first) {
			struct sw_doctor_finding *fd = sw_doctor_add(r, SW_CAUSE_CREDENTIALS_REJECTED,
				"the answer to the challenge was challenged again with a fresh nonce (no stale=true)");
			sent_auth_line(f, fd);
			evidence(f, fd, auth_ids, 2);
			sw_doctor_detail(fd, "The answer was computed correctly for the challenge, so only three "
					     "explanations remain: the password, the auth username (\"%s\"), or a "
					     "refusal on the server's side.", f->username);
			if (sw_doctor_find(r, SW_CAUSE_REALM_MISMATCH)) {
				struct sw_doctor_finding *rm = sw_doctor_find(r, SW_CAUSE_REALM_MISMATCH);
				rm->problem = true;
				sw_doctor_detail(fd, "Likely cause: the realm \"%s\" differs from the domain \"%s\"; "
						     "the account may be provisioned for the other one.",
						 r->realm, f->cfg->domain);
			}
		}
		return false;
	}
noanswer:
	if (x == SW_DX_TIMEOUT || x == SW_DX_REFUSED || x == SW_DX_CLOSED) {
		struct sw_doctor_finding *fd = sw_doctor_add(r, SW_CAUSE_NO_RESPONSE,
			"the REGISTER%s to %s %s got no answer (%s)", f->auth_size ? " with credentials" : "",
			sw_transport_name(f->io->tp), f->io->peer,
			x == SW_DX_TIMEOUT ? "silence" : x == SW_DX_REFUSED ? "port unreachable" : "connection closed");
		sw_doctor_detail(fd, "The server answered before; a request that gets lost only now is "
				     "often too large for the path (see udp-fragmentation) or dropped by a filter.");
	}
	return false;
}

/* Unregisters the contact (Expires: 0), reusing the nonce as a phone
 * refreshing would, so that the server's stale handling shows. */
static void unregister(struct flow *f, bool authenticated)
{
	struct sw_doctor_report *r = f->r;
	int stale_seen = 0;
	bool proxy_seen = false, min_done = true;
	bool reused = authenticated;
	progress(f, "unregistering");
	f->cred.nc++;
	for (int i = 0; i < 4; i++) {
		int x = transact(f, 0, authenticated);
		if (x != SW_DX_ANSWER) {
			sw_doctor_note(r, "the unregistration got no answer: the binding expires in %u s", r->granted);
			return;
		}
		if (!authenticated && (f->m->status == 401 || f->m->status == 407)) {
			if (take_challenge(f, false))
				return;
			authenticated = true;
			continue;
		}
		enum step s = f->m->status >= 200 && f->m->status < 300 ? ST_DONE_OK
			    : authenticated ? classify_answered(f, reused, &stale_seen, &proxy_seen, &min_done)
			    : ST_FAIL;
		reused = false;
		if (s == ST_DONE_OK) {
			r->unregistered = true;
			return;
		}
		if (s != ST_RETRY) {
			sw_doctor_note(r, "the unregistration was refused: the binding expires in %u s", r->granted);
			return;
		}
	}
}

int sw_doctor_register(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg,
		       struct sw_doctor_report *r)
{
	struct flow *f = calloc(1, sizeof(*f));
	int err = SW_ENOMEM;
	if (!f)
		return err;
	f->req = malloc(SW__DOCTOR_MSG_CAP);
	f->resp = malloc(SW__DOCTOR_MSG_CAP);
	f->m = malloc(sizeof(*f->m));
	if (!f->req || !f->resp || !f->m)
		goto out;
	err = sw__dsess_init(&f->s, cfg, io);
	if (err)
		goto out;
	f->io = io;
	f->cfg = cfg;
	f->r = r;
	f->expires = cfg->expires ? cfg->expires : SW_DOCTOR_EXPIRES_DEFAULT;
	char first_user[256];
	char vars[3][256];
	unsigned nv = variants(cfg, vars);
	snprintf(first_user, sizeof(first_user), "%s", vars[0]);
	snprintf(f->username, sizeof(f->username), "%s", first_user);
	bool min_done = false;
	bool ok = register_once(f, true, &min_done);
	bool authenticated = r->challenged;
	struct sw_doctor_finding *rej = sw_doctor_find(r, SW_CAUSE_CREDENTIALS_REJECTED);
	if (!ok && rej && !r->cannot_run) {
		/* try the other auth usernames; say which passed */
		for (unsigned i = 1; i < nv && !ok; i++) {
			snprintf(f->username, sizeof(f->username), "%s", vars[i]);
			ok = register_once(f, false, &min_done);
			sw_doctor_detail(rej, "Auth username \"%s\": %s.", vars[i], ok ? "accepted" : "rejected too");
		}
		if (ok) {
			rej->problem = true;
			sw_doctor_detail(rej, "Set the device's auth username (auth ID) to \"%s\".", f->username);
		} else {
			sw_doctor_detail(rej, "No auth username variant was accepted: check the password first.");
		}
	}
	if (ok && !cfg->keep)
		unregister(f, authenticated);
	else if (ok)
		sw_doctor_note(r, "--keep: the registration stays for %u s", r->granted);
	err = r->cannot_run ? SW_EIO : 0;
out:
	free(f->req);
	free(f->resp);
	free(f->m);
	free(f);
	return err;
}
