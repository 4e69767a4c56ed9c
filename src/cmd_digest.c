/* sipwarden digest: a digest calculator, and a verifier that names the
 * client's mistake (--verify). Argument handling and output only; the math
 * and the diagnosis live in lib/auth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/auth.h"
#include "commands.h"
#include "util.h"

static const char usage_text[] =
	"usage: sipwarden digest --algorithm A --username U --realm R --password P\n"
	"                        --method M --uri URI --nonce N\n"
	"                        [--qop auth|auth-int --nc NC --cnonce C]\n"
	"                        [--body-file F] [--ha1 HEX] [--verbose] [--json]\n"
	"       sipwarden digest --verify FILE|- (--password P | --ha1 HEX)\n"
	"                        [--method M] [--request-uri URI]\n"
	"                        [--challenge-realm R] [--json]\n"
	"\n"
	"Calculator: prints the response= value a client must send (RFC 7616,\n"
	"RFC 8760): algorithm MD5 (default), SHA-256, SHA-512-256 or a -sess\n"
	"variant; without --qop the RFC 2069 form. --ha1 replaces username,\n"
	"realm and password with the stored HA1. auth-int hashes --body-file\n"
	"(an empty body when absent). --verbose also prints HA1 and HA2.\n"
	"\n"
	"Verifier (--verify): reads a whole SIP request, or only its Authorization\n"
	"(or Proxy-Authorization) header line (then --method is required), and\n"
	"says whether the response is right for the password or HA1. When it is\n"
	"wrong it tries the known client mistakes: other realms (the challenge\n"
	"realm, the To/From domain, the Request-URI host, \"asterisk\", empty), the\n"
	"Request-URI instead of the digest uri, the username with or without\n"
	"@domain, the qop list instead of a token and the reverse, no qop, another\n"
	"algorithm; and names the one that reproduces the response.\n"
	"\n"
	"  --json     print the result as one JSON object\n"
	"\n"
	"exit codes: 0 the response matches (calculator: computed), 1 it does not\n"
	"match, 2 usage error or unreadable input.\n";

struct opts {
	const char *algorithm, *username, *realm, *password, *method, *uri, *nonce;
	const char *qop, *nc, *cnonce, *body_file, *ha1, *verify, *request_uri, *challenge_realm;
	bool verbose, json;
};

static sw_str S(const char *s) { return s ? sw_str_from(s, strlen(s)) : SW_STR_NULL; }

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sipwarden digest: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(see 'sipwarden digest --help')\n", stderr);
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct { const char *name; size_t off; } valued[] = {
#define O(n, f) { n, offsetof(struct opts, f) }
		O("--algorithm", algorithm), O("--username", username), O("--realm", realm),
		O("--password", password), O("--method", method), O("--uri", uri),
		O("--nonce", nonce), O("--qop", qop), O("--nc", nc), O("--cnonce", cnonce),
		O("--body-file", body_file), O("--ha1", ha1), O("--verify", verify),
		O("--request-uri", request_uri), O("--challenge-realm", challenge_realm),
#undef O
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (!strcmp(a, valued[k].name))
				break;
		if (k == sizeof(valued) / sizeof(valued[0]))
			return usage_error("unknown argument '%s'", a);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", a);
		const char **slot = (const char **)((char *)o + valued[k].off);
		if (*slot)
			return usage_error("%s given twice", a);
		*slot = argv[++i];
	}
	return 0;
}

static void json_kv(struct sw_buf *b, const char *k, const char *v, bool comma)
{
	if (comma)
		sw_buf_addc(b, ',');
	sw_buf_add_json_str(b, k, strlen(k));
	sw_buf_addc(b, ':');
	if (v)
		sw_buf_add_json_str(b, v, strlen(v));
	else
		sw_buf_adds(b, "null");
}

static int print_buf(struct sw_buf *b)
{
	if (sw_buf_status(b)) {
		fprintf(stderr, "sipwarden digest: output too large\n");
		return 2;
	}
	fwrite(b->p, 1, b->len, stdout);
	return 0;
}

static bool hex_ok(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

static int calculate(const struct opts *o)
{
	enum sw_digest_alg alg;
	enum sw_qop qop = SW_QOP_NONE;
	char ha1[SW_DIGEST_HEX_MAX + 1];
	size_t blen = 0;
	char *body = NULL;
	int rc = 2;

	if (sw_digest_alg_parse(S(o->algorithm), &alg))
		return usage_error("unknown algorithm '%s' (MD5, SHA-256, SHA-512-256, and -sess)", o->algorithm);
	if (!o->method || !o->uri || !o->nonce)
		return usage_error("%s", "--method, --uri and --nonce are required");
	if (!o->ha1 && (!o->username || !o->realm || !o->password))
		return usage_error("%s", "--username, --realm and --password (or --ha1) are required");
	if (o->ha1 && o->password)
		return usage_error("%s", "give --password or --ha1, not both");
	if (o->qop && sw_qop_parse(S(o->qop), &qop))
		return usage_error("--qop must be auth or auth-int, not '%s'", o->qop);
	if (qop != SW_QOP_NONE && (!o->nc || !o->cnonce))
		return usage_error("%s", "--qop needs --nc and --cnonce");
	if (sw_digest_alg_sess(alg) && !o->cnonce)
		return usage_error("%s", "a -sess algorithm needs --cnonce");
	if (o->body_file && qop != SW_QOP_AUTH_INT)
		return usage_error("%s", "--body-file is only used with --qop auth-int");
	if (o->ha1) {
		if (!hex_ok(o->ha1, sw_digest_hex_len(alg)))
			return usage_error("--ha1 must be %s hex digits for this algorithm",
					   sw_digest_hex_len(alg) == 32 ? "32" : "64");
		snprintf(ha1, sizeof(ha1), "%s", o->ha1);
	} else if (sw_digest_ha1(NULL, sw_digest_alg_hash(alg), S(o->username), S(o->realm),
				 S(o->password), ha1)) {
		fprintf(stderr, "sipwarden digest: the crypto library failed\n");
		return 2;
	}
	if (o->body_file && !(body = sw_cli_read_file(o->body_file, 16u << 20, &blen)))
		return 2;
	struct sw_digest_params p = {
		.alg = alg, .ha1 = S(ha1), .nonce = S(o->nonce), .cnonce = S(o->cnonce),
		.nc = S(o->nc), .qop = qop, .method = S(o->method), .uri = S(o->uri),
		.body = body ? sw_str_from(body, blen) : SW_STR_LIT(""),
	};
	struct sw_digest_result r;
	if (sw_digest_response(NULL, &p, &r)) {
		fprintf(stderr, "sipwarden digest: the crypto library failed\n");
		goto out;
	}
	char mem[1024];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (o->json) {
		sw_buf_addc(&b, '{');
		json_kv(&b, "algorithm", sw_digest_alg_name(alg), false);
		json_kv(&b, "qop", qop ? sw_qop_name(qop) : NULL, true);
		json_kv(&b, "ha1", r.ha1, true);
		json_kv(&b, "ha2", r.ha2, true);
		json_kv(&b, "response", r.response, true);
		sw_buf_adds(&b, "}\n");
	} else if (o->verbose) {
		sw_buf_addf(&b, "algorithm: %s\nHA1: %s%s\nHA2: %s\nresponse: %s\n",
			    sw_digest_alg_name(alg), r.ha1, sw_digest_alg_sess(alg) ? " (session)" : "",
			    r.ha2, r.response);
	} else {
		sw_buf_addf(&b, "%s\n", r.response);
	}
	rc = print_buf(&b);
out:
	free(body);
	return rc;
}

/* "Authorization: Digest ..." or "Digest ..." alone (one line, maybe with
 * continuation lines): returns the value, or NULL when this is a message. */
static const char *header_only(const char *text, bool *proxy)
{
	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	*proxy = false;
	if (!strncasecmp(text, "Digest ", 7))
		return text;
	if (!strncasecmp(text, "Proxy-Authorization:", 20)) {
		*proxy = true;
		text += 20;
	} else if (!strncasecmp(text, "Authorization:", 14)) {
		text += 14;
	} else {
		return NULL;
	}
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

static sw_str trim_end(const char *p)
{
	size_t n = strlen(p);
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return sw_str_from(p, n);
}

static int verify(const struct opts *o)
{
	if (!o->password == !o->ha1)
		return usage_error("%s", "--verify needs --password or --ha1 (one of them)");
	static const char *const unused[] = { "--username", "--realm", "--uri", "--nonce", "--qop",
					      "--nc", "--cnonce", "--algorithm", "--body-file" };
	const char *given[] = { o->username, o->realm, o->uri, o->nonce, o->qop, o->nc, o->cnonce,
				o->algorithm, o->body_file };
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		if (given[i])
			return usage_error("%s is not used with --verify (the values come from the request)",
					   unused[i]);
	size_t len;
	char *text = sw_cli_read_file(o->verify, SW_MSG_MAX_SIZE_DEFAULT * 4, &len);
	if (!text)
		return 2;
	int rc = 2;
	struct sw_msg *m = NULL;
	struct sw_auth auth;
	struct sw_perr perr;
	struct sw_diagnose_in in = { .auth = &auth, .password = S(o->password), .ha1 = S(o->ha1),
				     .challenge_realm = S(o->challenge_realm) };
	bool proxy;
	const char *hv = header_only(text, &proxy);
	char where[256];
	if (hv) {
		if (!o->method) {
			usage_error("%s", "a lone header line needs --method (and --request-uri for the uri check)");
			goto out;
		}
		if (sw_auth_parse(&auth, trim_end(hv), &perr)) {
			fprintf(stderr, "sipwarden digest: the Authorization header does not parse: %s\n",
				perr.what ? perr.what : "malformed");
			goto out;
		}
	} else {
		m = malloc(sizeof(*m));
		if (!m)
			goto out;
		if (sw_msg_parse(m, text, len, NULL, &perr)) {
			sw_perr_locate(&perr, text, len);
			fprintf(stderr, "sipwarden digest: not a SIP message or Authorization line: %s\n",
				sw_perr_format(&perr, where, sizeof(where)));
			goto out;
		}
		if (!m->is_request) {
			fprintf(stderr, "sipwarden digest: this is a response; give the request that carries Authorization\n");
			goto out;
		}
		const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_AUTHORIZATION);
		if (!h)
			h = sw_msg_hdr(m, SW_HDR_PROXY_AUTHORIZATION);
		if (!h) {
			fprintf(stderr, "sipwarden digest: the request has no Authorization or Proxy-Authorization header\n");
			goto out;
		}
		if (sw_auth_parse(&auth, h->value, &perr)) {
			fprintf(stderr, "sipwarden digest: the %.*s header does not parse: %s\n",
				(int)h->name.len, h->name.p, perr.what ? perr.what : "malformed");
			goto out;
		}
		in.method = m->method;
		in.ruri = m->ruri;
		in.body = m->body;
		struct sw_addr to, from;
		if (sw_msg_to(m, &to, NULL) == 0)
			in.to_host = to.uri.host;
		if (sw_msg_from(m, &from, NULL) == 0)
			in.from_host = from.uri.host;
	}
	if (o->method)
		in.method = S(o->method);
	if (o->request_uri)
		in.ruri = S(o->request_uri);
	if (!auth.is_digest) {
		fprintf(stderr, "sipwarden digest: the credentials are not Digest\n");
		goto out;
	}
	struct sw_diagnosis d;
	int err = sw_digest_diagnose(NULL, &in, &d);
	if (err == SW_EINVAL) {
		fprintf(stderr, "sipwarden digest: %s\n", o->ha1
			? "username, realm, nonce, uri and response are required, and --ha1 must be hex of the algorithm's length"
			: "the credentials need username, realm, nonce, uri and response");
		goto out;
	}
	if (err) {
		fprintf(stderr, "sipwarden digest: cannot compute: %s (unknown algorithm or qop?)\n",
			sw_strerror(err));
		goto out;
	}
	char mem[4096];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	const struct sw_cause_info *ci = sw_cause_get(d.cause);
	if (o->json) {
		sw_buf_adds(&b, d.match ? "{\"match\":true" : "{\"match\":false");
		sw_buf_adds(&b, ",\"sent\":");
		sw_buf_add_json_sw(&b, auth.response);
		json_kv(&b, "expected", d.expected, true);
		json_kv(&b, "ha1", d.ha1, true);
		json_kv(&b, "ha2", d.ha2, true);
		json_kv(&b, "mistake", sw_mistake_id(d.mistake), true);
		json_kv(&b, "cause", ci->id, true);
		json_kv(&b, "explanation", d.what, true);
		json_kv(&b, "fix", d.match ? NULL : ci->fix, true);
		sw_buf_addf(&b, ",\"variants_tried\":%u}\n", d.tried);
	} else if (d.match) {
		sw_buf_adds(&b, "match: the response is right (algorithm ");
		if (auth.algorithm.p)
			sw_buf_add_str(&b, auth.algorithm);
		else
			sw_buf_adds(&b, "MD5");
		sw_buf_adds(&b, ", qop ");
		if (auth.qop.p)
			sw_buf_add_str(&b, auth.qop);
		else
			sw_buf_adds(&b, "none");
		sw_buf_addf(&b, ")\n  HA1: %s\n  HA2: %s\n", d.ha1, d.ha2);
	} else {
		sw_buf_adds(&b, "mismatch: the response is wrong\n  sent:     ");
		sw_buf_add_str(&b, auth.response);
		sw_buf_addf(&b, "\n  expected: %s\n", d.expected);
		sw_buf_addf(&b, "  why:      %s (after %u variants)\n", d.what, d.tried);
		sw_buf_addf(&b, "  cause:    %s: %s\n", ci->id, ci->explain);
		sw_buf_addf(&b, "  fix:      %s: %s\n", sw_fix_class_title(ci->fix_class), ci->fix);
	}
	rc = print_buf(&b);
	if (!rc)
		rc = d.match ? 0 : 1;
out:
	free(m);
	free(text);
	return rc;
}

int cmd_digest(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	int r = parse_args(argc, argv, &o);
	if (r == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (r)
		return r;
	return o.verify ? verify(&o) : calculate(&o);
}
