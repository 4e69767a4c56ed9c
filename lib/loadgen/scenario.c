/* The scenarios: REGISTER -> 401 -> REGISTER with digest -> 200
 * (register-auth), REGISTER -> 200 (register), OPTIONS -> 200 (options);
 * the call scenario is call.c.
 * Builds each request into its slot (kept for retransmissions) and decides
 * what a response means for the registration. The digest answer goes
 * through the library's digest engine (lib/auth). */
#include <stdio.h>
#include <string.h>
#include "lg_int.h"

static const char *const names[] = { "register-auth", "register", "options", "call" };

const char *sw_lg_scenario_name(enum sw_lg_scenario s)
{
	return (unsigned)s < 4 ? names[s] : "?";
}

int sw_lg_scenario_parse(const char *name, enum sw_lg_scenario *out)
{
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(name, names[i])) {
			*out = (enum sw_lg_scenario)i;
			return 0;
		}
	return SW_EINVAL;
}

/* ---- the digest answer --------------------------------------------------- */

/* The first token of a comma-separated qop list equal to want. */
static bool qop_offered(sw_str list, const char *want)
{
	const char *p = list.p, *end = list.p + list.len;
	while (p && p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		const char *s = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (p > s && sw_str_ieq(sw_str_from(s, (size_t)(p - s)), want))
			return true;
	}
	return false;
}

int sw_lg_digest_answer(struct sw_digest_ctx *dc, const struct sw_auth *ch, sw_str username,
			sw_str password, sw_str method, sw_str uri, sw_str body, sw_str cnonce,
			sw_str nc, struct sw_buf *out)
{
	char realm[256], nonce[512], ha1[SW_DIGEST_HEX_MAX + 1];
	enum sw_digest_alg alg;
	enum sw_qop qop = SW_QOP_NONE;
	int rlen, nlen, err;

	if (!ch->is_digest || !ch->realm.p || !ch->nonce.p)
		return SW_EPARSE;
	if (sw_digest_alg_parse(ch->algorithm, &alg))
		return SW_EPARSE;
	if (ch->qop.p) {
		if (qop_offered(ch->qop, "auth"))
			qop = SW_QOP_AUTH;
		else if (qop_offered(ch->qop, "auth-int"))
			qop = SW_QOP_AUTH_INT;
		else
			return SW_EPARSE;
	}
	rlen = sw_str_unquote(ch->realm, realm, sizeof(realm));
	nlen = sw_str_unquote(ch->nonce, nonce, sizeof(nonce));
	if (rlen < 0 || nlen < 0)
		return SW_EPARSE;
	err = sw_digest_ha1(dc, sw_digest_alg_hash(alg), username, sw_str_from(realm, (size_t)rlen),
			    password, ha1);
	if (err)
		return err;
	bool with_cnonce = qop != SW_QOP_NONE || sw_digest_alg_sess(alg);
	struct sw_digest_params p = {
		.alg = alg,
		.ha1 = sw_str_from(ha1, sw_digest_hex_len(alg)),
		.nonce = sw_str_from(nonce, (size_t)nlen),
		.cnonce = with_cnonce ? cnonce : SW_STR_NULL,
		.nc = qop != SW_QOP_NONE ? nc : SW_STR_NULL,
		.qop = qop,
		.method = method,
		.uri = uri,
		.body = body,
	};
	struct sw_digest_result r;
	err = sw_digest_response(dc, &p, &r);
	if (err)
		return err;
	/* realm and nonce go back exactly as the server quoted them */
	sw_buf_adds(out, "Digest username=\"");
	sw_buf_add_str(out, username);
	sw_buf_adds(out, "\", realm=\"");
	sw_buf_add_str(out, ch->realm);
	sw_buf_adds(out, "\", nonce=\"");
	sw_buf_add_str(out, ch->nonce);
	sw_buf_adds(out, "\", uri=\"");
	sw_buf_add_str(out, uri);
	sw_buf_adds(out, "\", response=\"");
	sw_buf_adds(out, r.response);
	sw_buf_adds(out, "\", algorithm=");
	sw_buf_adds(out, sw_digest_alg_name(alg));
	if (qop != SW_QOP_NONE) {
		sw_buf_adds(out, ", qop=");
		sw_buf_adds(out, sw_qop_name(qop));
		sw_buf_adds(out, ", nc=");
		sw_buf_add_str(out, nc);
	}
	if (with_cnonce) {
		sw_buf_adds(out, ", cnonce=\"");
		sw_buf_add_str(out, cnonce);
		sw_buf_addc(out, '"');
	}
	if (ch->opaque.p) {
		sw_buf_adds(out, ", opaque=\"");
		sw_buf_add_str(out, ch->opaque);
		sw_buf_addc(out, '"');
	}
	return sw_buf_status(out);
}

/* ---- requests ------------------------------------------------------------ */

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static int build(struct sw__lg_ctx *c, struct sw__slot *s, uint32_t slot_idx, sw_str auth)
{
	const struct sw_lg_user *u = &c->cfg->users->v[s->user];
	bool options = c->cfg->scenario == SW_LG_OPTIONS;
	struct sw_buf b;
	sw_buf_init(&b, s->req, sizeof(s->req));
	sw_buf_addf(&b, "%s sip:%s SIP/2.0\r\n", options ? "OPTIONS" : "REGISTER", u->domain);
	sw_buf_addf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s.%u.%u.%u.%u;rport\r\n", c->via_tp,
		    c->local, c->run_id, c->thread, slot_idx, s->gen, s->leg);
	sw_buf_adds(&b, "Max-Forwards: 70\r\n");
	sw_buf_addf(&b, "From: <sip:%s@%s>;tag=%s%x.%llx\r\n", u->user, u->domain, c->run_id,
		    c->thread, (unsigned long long)s->seq);
	sw_buf_addf(&b, "To: <sip:%s@%s>\r\n", u->user, u->domain);
	sw_buf_addf(&b, "Call-ID: %s-%u-%llu@bench.sipwarden\r\n", c->run_id, c->thread,
		    (unsigned long long)s->seq);
	sw_buf_addf(&b, "CSeq: %u %s\r\n", s->attempt * 2u + s->leg + 1u, options ? "OPTIONS" : "REGISTER");
	if (!options) {
		/* no port: the same binding whoever (thread, run) registers it */
		sw_buf_addf(&b, "Contact: <sip:%s@%s>\r\n", u->user, c->contact_host);
		sw_buf_addf(&b, "Expires: %u\r\n", c->cfg->expires ? c->cfg->expires : 3600u);
	}
	if (auth.p) {
		sw_buf_adds(&b, "Authorization: ");
		sw_buf_add_str(&b, auth);
		sw_buf_adds(&b, "\r\n");
	}
	sw_buf_adds(&b, "User-Agent: sipwarden-bench\r\nContent-Length: 0\r\n\r\n");
	if (sw_buf_status(&b))
		return SW_ENOSPC;
	s->req_len = (uint16_t)b.len;
	return 0;
}

int sw__lg_build_first(struct sw__lg_ctx *c, struct sw__slot *s, uint32_t slot_idx)
{
	s->leg = 0;
	return build(c, s, slot_idx, SW_STR_NULL);
}

/* Answers the first Digest challenge of a 401/407 that we can compute. */
static int answer(struct sw__lg_ctx *c, struct sw__slot *s, const struct sw_msg *m,
		  struct sw_buf *out)
{
	const struct sw_lg_user *u = &c->cfg->users->v[s->user];
	enum sw_hdr_id id = m->status == 407 ? SW_HDR_PROXY_AUTHENTICATE : SW_HDR_WWW_AUTHENTICATE;
	char uri[300], cnonce[17];
	snprintf(uri, sizeof(uri), "sip:%s", u->domain);
	snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)xorshift(&c->rnd));
	for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h)) {
		sw_str v = h->value;
		while (v.p && v.len) {
			struct sw_auth a;
			if (sw_auth_parse(&a, v, NULL))
				break;
			size_t mark = out->len;
			if (!sw_lg_digest_answer(c->dc, &a, sw_str_from(u->user, strlen(u->user)),
						 sw_str_from(u->password, strlen(u->password)),
						 SW_STR_LIT("REGISTER"), sw_str_from(uri, strlen(uri)),
						 sw_str_from("", 0), sw_str_from(cnonce, 16),
						 SW_STR_LIT("00000001"), out))
				return 0;
			out->len = mark;
			out->overflow = false;
			v = a.next;
		}
	}
	return SW_EPARSE;
}

enum sw__lg_verdict sw__lg_on_response(struct sw__lg_ctx *c, struct sw__slot *s, uint32_t slot_idx,
				       const struct sw_msg *m, uint32_t *retry_s)
{
	if (m->status < 200) {
		s->provisional = true;
		return SW__LG_IGNORE;
	}
	if (m->status < 300)
		return SW__LG_DONE;
	/* RFC 3261 §21.5.4: as a phone, wait Retry-After and try again; a 503
	 * without it is a 500 */
	if (m->status == 503 && sw_msg_retry_after(m, retry_s, NULL) == 0)
		return SW__LG_RETRY_AFTER;
	if (c->cfg->scenario != SW_LG_REGISTER_AUTH || s->leg != 0 ||
	    (m->status != 401 && m->status != 407))
		return SW__LG_FAIL;
	char mem[1024];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (answer(c, s, m, &b))
		return SW__LG_AUTH_ERROR;
	s->leg = 1;
	if (build(c, s, slot_idx, sw_str_from(b.p, b.len)))
		return SW__LG_AUTH_ERROR;
	return SW__LG_NEXT;
}

static bool take_num(const char **p, const char *end, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	while (*p < end && **p >= '0' && **p <= '9' && v <= UINT32_MAX)
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	if (*p == s || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int sw__lg_branch_decode(const struct sw__lg_ctx *c, sw_str br, uint32_t *slot, uint32_t *gen,
			 unsigned *leg)
{
	size_t idl = strlen(c->run_id);
	if (!br.p || br.len < 7 + idl + 2 || memcmp(br.p, "z9hG4bK", 7) ||
	    memcmp(br.p + 7, c->run_id, idl))
		return 0;
	const char *p = br.p + 7 + idl, *end = br.p + br.len;
	uint32_t v[4];
	for (unsigned i = 0; i < 4; i++) {
		if (p >= end || *p++ != '.' || !take_num(&p, end, &v[i]))
			return 0;
	}
	if (p != end || v[0] != c->thread || v[3] > 1)
		return 0;
	*slot = v[1];
	*gen = v[2];
	*leg = v[3];
	return 1;
}
