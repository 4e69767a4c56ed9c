/* The doctor's requests: REGISTER and OPTIONS built with the library's
 * printer, the challenge read with sw_auth_parse, and the answer computed by
 * the digest engine (sw_digest_ha1, sw_digest_response). */
#include <stdio.h>
#include <string.h>
#include "doctor_int.h"

int sw__dsess_init(struct sw__dsess *s, const struct sw_doctor_cfg *cfg, struct sw_doctor_io *io)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->io = io;
	char tok[24];
	if (sw_random_token(tok, 20))
		return SW_EIO;
	snprintf(s->call_id, sizeof(s->call_id), "%s@sipwarden-check", tok);
	if (sw_random_token(s->from_tag, 10) || sw_random_token(s->canary, 12))
		return SW_EIO;
	s->cseq = 0;
	if (cfg->domain_port > 0)
		snprintf(s->ruri, sizeof(s->ruri), "sip:%s:%d", cfg->domain, cfg->domain_port);
	else
		snprintf(s->ruri, sizeof(s->ruri), "sip:%s", cfg->domain);
	return 0;
}

/* A quoted-string of a C string (RFC 3261 §25.1: '"' and '\' escaped). */
static void add_quoted(struct sw_buf *b, const char *s)
{
	sw_buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sw_buf_addc(b, '\\');
		sw_buf_addc(b, *s);
	}
	sw_buf_addc(b, '"');
}

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

static int add_authorization(struct sw__dsess *s, struct sw_buf *b, const struct sw__dcred *c)
{
	const struct sw_doctor_cfg *cfg = s->cfg;
	char ha1[SW_DIGEST_HEX_MAX + 1];
	int err;
	if (cfg->ha1) {
		snprintf(ha1, sizeof(ha1), "%s", cfg->ha1);
	} else {
		err = sw_digest_ha1(NULL, sw_digest_alg_hash(c->alg), S(c->username), S(c->realm),
				    S(cfg->password ? cfg->password : ""), ha1);
		if (err)
			return err;
	}
	char cnonce[20], nc[12];
	if (sw_random_token(cnonce, 16))
		return SW_EIO;
	snprintf(nc, sizeof(nc), "%08x", c->nc ? c->nc : 1u);
	struct sw_digest_params p = {
		.alg = c->alg, .ha1 = S(ha1), .nonce = S(c->nonce), .cnonce = S(cnonce),
		.nc = S(nc), .qop = c->qop, .method = SW_STR_LIT("REGISTER"), .uri = S(s->ruri),
		.body = SW_STR_LIT(""),
	};
	struct sw_digest_result res;
	err = sw_digest_response(NULL, &p, &res);
	if (err)
		return err;
	sw_buf_adds(b, c->proxy ? "Proxy-Authorization: Digest username=" : "Authorization: Digest username=");
	add_quoted(b, c->username);
	sw_buf_adds(b, ", realm=");
	add_quoted(b, c->realm);
	sw_buf_adds(b, ", nonce=");
	add_quoted(b, c->nonce);
	sw_buf_addf(b, ", uri=\"%s\", response=\"%s\", algorithm=%s", s->ruri, res.response,
		    sw_digest_alg_name(c->alg));
	if (c->qop != SW_QOP_NONE)
		sw_buf_addf(b, ", qop=%s, nc=%s, cnonce=\"%s\"", sw_qop_name(c->qop), nc, cnonce);
	if (c->has_opaque) {
		sw_buf_adds(b, ", opaque=");
		add_quoted(b, c->opaque);
	}
	sw_buf_adds(b, "\r\n");
	return 0;
}

int sw__dreq_build(struct sw__dsess *s, struct sw_buf *b, const char *method, uint32_t expires,
		   const struct sw__dcred *cred, size_t pad)
{
	const struct sw_doctor_io *io = s->io;
	const struct sw_doctor_cfg *cfg = s->cfg;
	bool reg = strcmp(method, "REGISTER") == 0;
	const char *tp = sw_transport_name(io->tp);
	char branch[24];
	if (sw_random_token(branch, 16))
		return SW_EIO;
	snprintf(s->branch, sizeof(s->branch), "z9hG4bK%s", branch);
	s->cseq++;
	snprintf(s->via, sizeof(s->via), "SIP/2.0/%s %s:%d;branch=%s;rport;swc=%s", tp, io->local_host,
		 io->local_port, s->branch, s->canary);
	char lower[8];
	size_t i = 0;
	for (; tp[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(tp[i] | 0x20);
	lower[i] = 0;
	snprintf(s->contact, sizeof(s->contact), "<sip:%s@%s:%d;transport=%s;swc=%s>", cfg->user,
		 io->local_host, io->local_port, lower, s->canary);

	sw_print_request_line(b, S(method), S(s->ruri));
	sw_print_header(b, "Via", S(s->via));
	sw_print_headerf(b, "Max-Forwards", "70");
	sw_print_headerf(b, "From", "<sip:%s@%s>;tag=%s", cfg->user, cfg->domain, s->from_tag);
	sw_print_headerf(b, "To", "<sip:%s@%s>", cfg->user, cfg->domain);
	sw_print_header(b, "Call-ID", S(s->call_id));
	sw_print_headerf(b, "CSeq", "%u %s", s->cseq, method);
	if (reg) {
		sw_print_header(b, "Contact", S(s->contact));
		sw_print_headerf(b, "Expires", "%u", expires);
	} else {
		sw_print_header(b, "Accept", SW_STR_LIT("application/sdp"));
	}
	sw_print_header(b, "User-Agent", SW_STR_LIT("sipwarden-check"));
	if (cred) {
		int err = add_authorization(s, b, cred);
		if (err)
			return err;
	}
	if (pad) {
		/* "X-Sipwarden-Padding: " + pad bytes + CRLF */
		sw_buf_adds(b, "X-Sipwarden-Padding: ");
		for (size_t k = 0; k < pad; k++)
			sw_buf_addc(b, 'x');
		sw_buf_adds(b, "\r\n");
	}
	return sw_print_end(b, SW_STR_NULL);
}

static void copy_unquoted(char *out, size_t cap, sw_str v)
{
	int n = v.p ? sw_str_unquote(v, out, cap - 1) : 0;
	out[n > 0 ? n : 0] = 0;
}

int sw__dchallenge_pick(const struct sw_msg *m, const struct sw_doctor_cfg *cfg,
			struct sw__dcred *cred, struct sw_doctor_report *r, bool record)
{
	bool proxy = m->status == 407;
	enum sw_hdr_id id = proxy ? SW_HDR_PROXY_AUTHENTICATE : SW_HDR_WWW_AUTHENTICATE;
	bool picked = false, any = false;
	char algs[128] = "";
	for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h)) {
		sw_str value = h->value;
		/* one header may hold several challenges */
		for (int k = 0; k < 8 && value.len; k++) {
			struct sw_auth a;
			if (sw_auth_parse(&a, value, NULL))
				break;
			value = a.next;
			if (!a.is_digest)
				continue;
			any = true;
			enum sw_digest_alg alg;
			bool known = sw_digest_alg_parse(a.algorithm, &alg) == 0;
			size_t al = strlen(algs);
			snprintf(algs + al, sizeof(algs) - al, "%s%.*s", al ? ", " : "",
				 a.algorithm.p ? (int)a.algorithm.len : 3, a.algorithm.p ? a.algorithm.p : "MD5");
			if (!known || picked)
				continue;
			if (cfg->ha1 && alg != SW_ALG_MD5 && alg != SW_ALG_MD5_SESS)
				continue;
			/* qop: auth preferred, then auth-int, then none (RFC 2069) */
			enum sw_qop qop = SW_QOP_NONE;
			if (a.qop.p) {
				bool has_auth = false, has_int = false;
				const char *p = a.qop.p, *end = a.qop.p + a.qop.len;
				while (p < end) {
					while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
						p++;
					const char *st = p;
					while (p < end && *p != ',' && *p != ' ' && *p != '\t')
						p++;
					enum sw_qop q;
					if (p > st && sw_qop_parse(sw_str_from(st, (size_t)(p - st)), &q) == 0) {
						has_auth |= q == SW_QOP_AUTH;
						has_int |= q == SW_QOP_AUTH_INT;
					}
				}
				if (!has_auth && !has_int)
					continue;
				qop = has_auth ? SW_QOP_AUTH : SW_QOP_AUTH_INT;
			}
			picked = true;
			cred->proxy = proxy;
			cred->alg = alg;
			cred->qop = qop;
			cred->nc = 1;
			copy_unquoted(cred->realm, sizeof(cred->realm), a.realm);
			copy_unquoted(cred->nonce, sizeof(cred->nonce), a.nonce);
			copy_unquoted(cred->opaque, sizeof(cred->opaque), a.opaque);
			cred->has_opaque = a.opaque.p != NULL;
			cred->userhash_offered = sw_str_ieq(a.userhash, "true");
			if (record) {
				r->challenged = true;
				snprintf(r->realm, sizeof(r->realm), "%s", cred->realm);
				sw_str_cpy(r->qop, sizeof(r->qop), a.qop);
				snprintf(r->opaque, sizeof(r->opaque), "%s", cred->opaque);
			}
		}
	}
	if (record && any)
		snprintf(r->algorithms, sizeof(r->algorithms), "%s", algs);
	if (!any)
		return SW_ENOTFOUND;
	return picked ? 0 : SW_EPARSE;
}

void sw__dstatus_line(const struct sw_msg *m, char *out, size_t cap)
{
	snprintf(out, cap, "SIP/2.0 %03u %.*s", m->status, (int)m->reason.len, m->reason.p ? m->reason.p : "");
}

void sw__dheader_line(const struct sw_msg *m, enum sw_hdr_id id, char *out, size_t cap)
{
	const struct sw_hdr *h = sw_msg_hdr(m, id);
	if (!h) {
		out[0] = 0;
		return;
	}
	snprintf(out, cap, "%s: %.*s", sw_hdr_name(id), (int)h->value.len, h->value.p);
}
