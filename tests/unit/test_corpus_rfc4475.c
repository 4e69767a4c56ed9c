/* RFC 4475 (SIP torture messages) and RFC 5118 (IPv6) corpus: every message
 * of $SW_CORPUS/rfc4475/index.tsv is classified as its verdict says, parsed
 * at a guard page, fed one byte at a time in stream mode, run through every
 * accessor and, when valid, printed and parsed again. Then one test per
 * case whose interest is semantic: what the registrar will need to answer it
 * (rfc4475/MANIFEST.md, "expected handling"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"
#include "corpus_check.h"

/* ---- the index --------------------------------------------------------- */

struct row {
	char file[96];
	char verdict[32];
	size_t bytes;
	char sha256[65];
};

static struct row rows[96];
static size_t nrows;

static char *corpus_path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/rfc4475/%s", sw_test_corpus(), rel);
	return out;
}

static char *load(const char *rel, size_t *len)
{
	char path[512];
	char *data = sw_test_read_file(corpus_path(path, sizeof(path), rel), len);
	if (!data)
		fail_msg("cannot read %s (set SW_CORPUS)", path);
	return data;
}

/* Outside a test: no cmocka assertions here; a short index fails
 * test_index_complete. */
static void load_index(void)
{
	size_t len;
	char path[512];
	char *text = sw_test_read_file(corpus_path(path, sizeof(path), "index.tsv"), &len);
	if (!text) {
		fprintf(stderr, "cannot read %s (set SW_CORPUS)\n", path);
		return;
	}
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		/* file rfc section title category verdict bytes sha256 */
		char *f[8];
		int n = 0;
		for (char *p = line; n < 8;) {
			f[n++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (n != 8 || nrows == sizeof(rows) / sizeof(rows[0]))
			continue;
		struct row *r = &rows[nrows++];
		snprintf(r->file, sizeof(r->file), "%s", f[0]);
		snprintf(r->verdict, sizeof(r->verdict), "%s", f[5]);
		r->bytes = strtoul(f[6], NULL, 10);
		snprintf(r->sha256, sizeof(r->sha256), "%s", f[7]);
	}
	free(text);
}

static const struct row *find_row(const char *file)
{
	for (size_t i = 0; i < nrows; i++)
		if (!strcmp(rows[i].file, file))
			return &rows[i];
	return NULL;
}

/* ---- expectations for the invalid messages ------------------------------ */

/* status: the response the parser suggests (0 = discard a response).
 * headers: '|'-separated names one of which must be blamed (the first fault
 * found decides among several), "-" for a start-line fault (line 1), NULL
 * when no header is at fault. */
struct bad {
	const char *file;
	unsigned status;
	const char *headers;
	bool at_body;
};

static const struct bad bad[] = {
	{ "badinv01.dat", 400, "Via|Contact", false },
	{ "clerr.dat", 400, "Content-Length", true },
	{ "ncl.dat", 400, "Content-Length", false },
	{ "scalar02.dat", 400, "CSeq|Max-Forwards|Expires|Contact", false },
	{ "scalarlg.dat", 0, "CSeq|Retry-After|Warning", false },
	{ "quotbal.dat", 400, "To", false },
	{ "ltgtruri.dat", 400, "-", false },
	{ "lwsruri.dat", 400, "-", false },
	{ "lwsstart.dat", 400, "-", false },
	{ "trws.dat", 400, "-", false },
	{ "escruri.dat", 400, "-", false },
	{ "baddate.dat", 400, "Date", false },
	{ "regbadct.dat", 400, "Contact", false },
	{ "badaspec.dat", 400, "To", false },
	/* the archive copy lacks the blank line ending the header section */
	{ "baddn.dat", 400, NULL, false },
	{ "badvers.dat", 505, "-", false },
	{ "mismatch01.dat", 400, "CSeq", false },
	{ "mismatch02.dat", 400, "CSeq", false },
	{ "bigcode.dat", 0, "-", false },
	{ "insuf.dat", 400, "To|From|Call-ID|Max-Forwards", false },
	{ "multi01.dat", 400, "To|From|Call-ID|CSeq|Max-Forwards", false },
	{ "mcl01.dat", 400, "Content-Length", false },
	{ "rfc5118-ipv6/wire/ipv6-bad.dat", 400, "-", false },
	{ "rfc5118-ipv6/archive/ipv6-bad", 400, "-", false },
	{ "variants/baddn-terminated.dat", 400, "From", false },
	/* not a conformance case, but malformed: no SIP-Version */
	{ "test.dat", 400, "-", false },
};

static const struct bad *find_bad(const char *file)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(bad[i].file, file))
			return &bad[i];
	return NULL;
}

/* ---- shared checks ------------------------------------------------------ */

static struct sw_msg msg, msg2;

static void check_sha256(const char *data, size_t len, const char *hex)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	char got[65];
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(got, hex);
}

/* The header named on line `line` (a continuation line belongs to the
 * header above it). */
static enum sw_hdr_id header_on_line(const char *buf, size_t len, unsigned line, sw_str *name)
{
	const char *p = buf, *end = buf + len;
	const char *starts[4096];
	unsigned n = 0;
	starts[n++] = p;
	for (; p < end && n < 4096; p++)
		if (*p == '\n')
			starts[n++] = p + 1;
	if (line == 0 || line > n)
		return SW_HDR__COUNT;
	unsigned l = line - 1;
	while (l > 0 && (*starts[l] == ' ' || *starts[l] == '\t'))
		l--;
	const char *s = starts[l], *q = s;
	while (q < end && *q != ':' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
		q++;
	*name = (sw_str){ s, (size_t)(q - s) };
	return sw_hdr_lookup(s, (size_t)(q - s));
}

static bool header_in_set(sw_str name, const char *set)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", set);
	char *save = NULL;
	enum sw_hdr_id id = sw_hdr_lookup(name.p, name.len);
	for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		enum sw_hdr_id tid = sw_hdr_lookup(t, strlen(t));
		if (tid != SW_HDR_OTHER ? tid == id : sw_str_ieq(name, t))
			return true;
	}
	return false;
}

static bool is_valid_verdict(const char *v)
{
	return !strcmp(v, "valid") || !strcmp(v, "valid-syntax") || !strcmp(v, "valid (robustness)") ||
	       !strcmp(v, "tolerate");
}

/* ---- one test per index row --------------------------------------------- */

/* RFC 5118 archive copies (bare LF, the §4.10 ones unterminated, some
 * Content-Length values stale) made into wire format: CRLF line ends, the
 * header section terminated, Content-Length set to the body's length. */
static char *wireify(const char *in, size_t len, size_t *outlen)
{
	size_t cap = 2 * len + 64;
	char *out = malloc(cap);
	assert_non_null(out);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n')
			out[n++] = '\r';
		out[n++] = in[i];
	}
	char *sep = NULL;
	for (size_t i = 0; i + 3 < n && !sep; i++)
		if (!memcmp(out + i, "\r\n\r\n", 4))
			sep = out + i;
	if (!sep) {
		memcpy(out + n, "\r\n", 2);
		n += 2;
		sep = out + n - 4;
	}
	size_t hlen = (size_t)(sep - out) + 4, blen = n - hlen;
	char *cl = strstr(out, "\r\nContent-Length:");
	if (cl && cl < sep) {
		char *eol = strstr(cl + 2, "\r\n");
		char num[32];
		int k = snprintf(num, sizeof(num), "\r\nContent-Length: %zu", blen);
		char *tmp = malloc(n + 32);
		assert_non_null(tmp);
		size_t pre = (size_t)(cl - out);
		memcpy(tmp, out, pre);
		memcpy(tmp + pre, num, (size_t)k);
		memcpy(tmp + pre + (size_t)k, eol, n - (size_t)(eol - out));
		n = pre + (size_t)k + n - (size_t)(eol - out);
		free(out);
		out = tmp;
	}
	*outlen = n;
	return out;
}

static void test_row(void **state)
{
	const struct row *r = *state;
	size_t rawlen;
	char *raw = load(r->file, &rawlen);
	assert_int_equal(rawlen, r->bytes);
	check_sha256(raw, rawlen, r->sha256);
	const bool archive = !strncmp(r->file, "rfc5118-ipv6/archive/", 21);

	/* the exact bytes: at a guard page, every accessor, stream prefixes */
	struct sw_perr e;
	int rc = sw_test_parse_guarded(raw, rawlen, NULL, &msg, &e);
	if (!rc) {
		assert_true(msg.len <= rawlen);
		(void)sw_msg_check(&msg, &e);
		sw_corpus_exercise(&msg);
	}
	sw_test_guard_release();
	assert_int_equal(sw_test_feed_bytewise(raw, rawlen), 0);

	size_t len = rawlen;
	char *data = archive ? wireify(raw, rawlen, &len) : raw;
	memset(&e, 0, sizeof(e));
	rc = sw_test_parse_guarded(data, len, NULL, &msg, &e);
	int crc = rc ? rc : sw_msg_check(&msg, &e);

	if (is_valid_verdict(r->verdict)) {
		if (crc) {
			char text[256];
			fail_msg("%s (%s) rejected: %s", r->file, r->verdict, sw_perr_format(&e, text, sizeof(text)));
		}
		sw_corpus_round_trip(&msg);
	} else {
		assert_true(!strcmp(r->verdict, "invalid") || !strcmp(r->verdict, "unreferenced"));
		if (crc == 0)
			fail_msg("%s (%s) was accepted", r->file, r->verdict);
		const struct bad *b = find_bad(r->file);
		if (!b)
			fail_msg("%s: no expectation in the table of invalid messages", r->file);
		assert_non_null(e.what);
		assert_true(e.code < 0);
		if (e.status != b->status)
			fail_msg("%s: status %u, expected %u (%s)", r->file, e.status, b->status, e.what);
		if (b->headers && !strcmp(b->headers, "-")) {
			assert_int_equal(e.line, 1);
			assert_true(e.col >= 1);
		} else if (b->headers) {
			/* the blamed header is named, and the position lies in it
			 * (a body shorter than Content-Length: at the body) */
			assert_non_null(e.header.p);
			if (!header_in_set(e.header, b->headers))
				fail_msg("%s: blamed %.*s, expected one of %s", r->file, (int)e.header.len,
					 e.header.p, b->headers);
			if (e.line && !b->at_body) {
				sw_str n;
				enum sw_hdr_id id = header_on_line(data, len, e.line, &n);
				assert_int_not_equal(id, SW_HDR__COUNT);
				if (!header_in_set(n, b->headers))
					fail_msg("%s: line %u is %.*s, not one of %s", r->file, e.line,
						 (int)n.len, n.p, b->headers);
			} else if (b->at_body) {
				assert_int_equal(e.at - msg.buf, strstr(data, "\r\n\r\n") + 4 - data);
			}
		}
	}
	sw_test_guard_release();
	if (data != raw)
		free(data);
	free(raw);
}

/* ---- the index itself --------------------------------------------------- */

static void test_index_complete(void **state)
{
	(void)state;
	/* 49 RFC 4475 cases + test.dat, 12 RFC 5118 messages twice, 1 variant */
	assert_int_equal(nrows, 50 + 24 + 1);
	unsigned valid = 0, invalid = 0, vsyntax = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (strncmp(rows[i].file, "rfc5118", 7) && strncmp(rows[i].file, "variants", 8)) {
			valid += !strcmp(rows[i].verdict, "valid");
			invalid += !strcmp(rows[i].verdict, "invalid");
			vsyntax += !strcmp(rows[i].verdict, "valid-syntax");
		}
	}
	/* MANIFEST counts: 13 + 1 valid (3.1.1, 3.4), 19 + 3 invalid, 13 valid-syntax */
	assert_int_equal(valid, 14);
	assert_int_equal(invalid, 22);
	assert_int_equal(vsyntax, 13);
	/* every invalid message in the table is in the index */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(find_row(bad[i].file));
}

/* ---- what the registrar needs (MANIFEST "expected handling") ------------ */

/* Parses and checks a corpus file (datagram mode) into msg; returns the
 * data, which the caller frees. */
static char *parse_ok(const char *file, size_t *len)
{
	char *data = load(file, len);
	struct sw_perr e;
	if (sw_msg_parse(&msg, data, *len, NULL, &e) || sw_msg_check(&msg, &e))
		fail_msg("%s: %s", file, e.what);
	return data;
}

static void assert_str(sw_str s, const char *want)
{
	if (!s.p || s.len != strlen(want) || memcmp(s.p, want, s.len))
		fail_msg("got '%.*s', expected '%s'", s.p ? (int)s.len : 6, s.p ? s.p : "(null)", want);
}

static void test_unkscm(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("unkscm.dat", &len);
	struct sw_uri u;
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_int_equal(u.scheme, SW_URI_OTHER);
	assert_str(u.scheme_str, "nobodyKnowsThisScheme");
	assert_str(u.opaque, "totallyopaquecontent");
	free(d);
	d = parse_ok("novelsc.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_int_equal(u.scheme, SW_URI_OTHER);
	assert_str(u.scheme_str, "soap.beep");
	free(d);
}

static void test_unksm2(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("unksm2.dat", &len);
	struct sw_addr a;
	assert_int_equal(sw_msg_to(&msg, &a, NULL), 0);
	assert_int_equal(a.uri.scheme, SW_URI_OTHER); /* the registrar answers 400: AOR not SIP */
	assert_str(a.uri.scheme_str, "isbn");
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_int_equal(a.uri.scheme, SW_URI_OTHER);
	assert_str(a.uri.scheme_str, "http");
	assert_str(a.tag, "3234233");
	free(d);
}

static void test_regaut01(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("regaut01.dat", &len);
	assert_int_equal(msg.method_id, SW_METHOD_REGISTER);
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_AUTHORIZATION);
	assert_non_null(h);
	struct sw_auth au;
	assert_int_equal(sw_auth_parse(&au, h->value, NULL), 0);
	assert_false(au.is_digest); /* → challenge with Digest */
	assert_str(au.scheme, "NoOneKnowsThisScheme");
	assert_null(au.username.p);
	assert_null(au.response.p);
	assert_null(au.next.p);
	free(d);
}

static void test_zeromf(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("zeromf.dat", &len);
	uint32_t mf = 99;
	assert_int_equal(sw_msg_max_forwards(&msg, &mf, NULL), 0);
	assert_int_equal(mf, 0);
	free(d);
	d = parse_ok("wsinv.dat", &len);
	assert_int_equal(sw_msg_max_forwards(&msg, &mf, NULL), 0);
	assert_int_equal(mf, 68); /* "0068" */
	free(d);
}

static void test_dblreq(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("dblreq.dat", &len);
	const char *second = strstr(d, "INVITE sip:joe@example.com");
	assert_non_null(second);
	assert_true(msg.len < len);
	/* the message ends after its empty body; the rest is ignored */
	assert_int_equal(msg.len, (size_t)(strstr(d, "\r\n\r\n") + 4 - d));
	assert_int_equal(msg.method_id, SW_METHOD_REGISTER);
	assert_int_equal(msg.body.len, 0);
	assert_int_equal(msg.nhdrs, 8);
	assert_int_equal(msg.count[SW_HDR_CSEQ], 1);
	struct sw_cseq c;
	assert_int_equal(sw_msg_cseq(&msg, &c, NULL), 0);
	assert_int_equal(c.method_id, SW_METHOD_REGISTER);
	assert_int_equal(c.num, 8);
	for (unsigned i = 0; i < msg.nhdrs; i++)
		assert_true(msg.hdrs[i].value.p < second);
	/* the trailing INVITE (after a CRLF keep-alive) is a message of its own */
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&msg2, d + msg.len, len - msg.len, NULL, &e), 0);
	assert_int_equal(msg2.method_id, SW_METHOD_INVITE);
	free(d);
}

static void test_cparam(void **state)
{
	(void)state;
	size_t len;
	struct sw_addr a;
	struct sw_hdr_iter it;
	sw_str el;
	sw_str v;

	char *d = parse_ok("cparam01.dat", &len);
	sw_hdr_iter_init(&it, &msg, SW_HDR_CONTACT);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_addr_parse(&a, el, true, NULL), 0);
	assert_false(a.bracketed);
	assert_str(a.uri.raw, "sip:+19725552222@gw1.example.net");
	assert_int_equal(a.uri.params.len, 0);
	assert_true(sw_param_get(a.params, "unknownparam", &v)); /* a contact parameter */
	assert_null(v.p);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 0);
	free(d);

	d = parse_ok("cparam02.dat", &len);
	sw_hdr_iter_init(&it, &msg, SW_HDR_CONTACT);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_addr_parse(&a, el, true, NULL), 0);
	assert_true(a.bracketed);
	assert_str(a.uri.raw, "sip:+19725552222@gw1.example.net;unknownparam");
	assert_str(a.uri.params, ";unknownparam"); /* part of the URI to store */
	assert_int_equal(a.params.len, 0);
	assert_false(sw_param_get(a.params, "unknownparam", NULL));
	free(d);
}

static void test_semiuri(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("semiuri.dat", &len);
	struct sw_uri u;
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_int_equal(u.scheme, SW_URI_SIP);
	assert_str(u.user, "user;par=u%40example.net");
	assert_str(u.host, "example.com");
	assert_int_equal(u.params.len, 0);
	char out[64];
	int n = sw_uri_unescape(u.user, out, sizeof(out));
	assert_int_equal(n, (int)strlen("user;par=u@example.net"));
	assert_memory_equal(out, "user;par=u@example.net", (size_t)n);
	free(d);
}

static void test_escnull(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("escnull.dat", &len);
	assert_int_equal(msg.method_id, SW_METHOD_REGISTER);
	struct sw_addr a;
	char out[64];
	assert_int_equal(sw_msg_to(&msg, &a, NULL), 0);
	assert_str(a.uri.user, "null-%00-null");
	assert_int_equal(sw_uri_unescape(a.uri.user, out, sizeof(out)), 11);
	assert_memory_equal(out, "null-\0-null", 11); /* the NUL does not truncate */
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_str(a.uri.user, "null-%00-null");
	/* two Contact headers: %00 and %00%00 */
	struct sw_hdr_iter it;
	sw_str el;
	int i = 0;
	sw_hdr_iter_init(&it, &msg, SW_HDR_CONTACT);
	while (sw_hdr_iter_next(&it, &el, NULL)) {
		assert_int_equal(sw_addr_parse(&a, el, true, NULL), 0);
		assert_int_equal(sw_uri_unescape(a.uri.user, out, sizeof(out)), i + 1);
		assert_memory_equal(out, "\0\0", (size_t)i + 1);
		i++;
	}
	assert_int_equal(i, 2);
	/* the two contacts are different URIs */
	struct sw_addr b;
	sw_hdr_iter_init(&it, &msg, SW_HDR_CONTACT);
	sw_hdr_iter_next(&it, &el, NULL);
	sw_addr_parse(&a, el, true, NULL);
	sw_hdr_iter_next(&it, &el, NULL);
	sw_addr_parse(&b, el, true, NULL);
	assert_false(sw_uri_equal(&a.uri, &b.uri));
	free(d);
}

static void test_esc02(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("esc02.dat", &len);
	assert_str(msg.method, "RE%47IST%45R");
	assert_int_equal(msg.method_id, SW_METHOD_OTHER); /* not REGISTER: 501 */
	assert_int_not_equal(sw_method_lookup(msg.method.p, msg.method.len), SW_METHOD_REGISTER);
	struct sw_cseq c;
	assert_int_equal(sw_msg_cseq(&msg, &c, NULL), 0);
	assert_str(c.method, "RE%47IST%45R");
	assert_int_equal(c.method_id, SW_METHOD_OTHER);
	free(d);
}

static void test_esc01(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("esc01.dat", &len);
	struct sw_uri u, w;
	char out[64];
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.user, "sips%3Auser%40example.com");
	assert_str(u.host, "example.net");
	int n = sw_uri_unescape(u.user, out, sizeof(out));
	assert_int_equal(n, 21);
	assert_memory_equal(out, "sips:user@example.com", 21);
	/* To: sip:%75se%72@example.com equals sip:user@example.com */
	struct sw_addr a;
	assert_int_equal(sw_msg_to(&msg, &a, NULL), 0);
	assert_int_equal(sw_uri_parse(&w, SW_STR_LIT("sip:user@example.com"), NULL), 0);
	assert_true(sw_uri_equal(&a.uri, &w));
	assert_int_equal(sw_uri_parse(&w, SW_STR_LIT("sip:User@example.com"), NULL), 0);
	assert_false(sw_uri_equal(&a.uri, &w)); /* user part is case-sensitive */
	/* Contact (folded) with escaped parameter name and value */
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_non_null(h);
	assert_int_equal(sw_addr_parse(&a, h->value, true, NULL), 0);
	assert_str(a.uri.user, "cal%6Cer");
	assert_str(a.uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
	assert_int_equal(sw_uri_parse(&w, SW_STR_LIT("sip:caller@host5.example.net;lr;name=value%2541"), NULL), 0);
	assert_true(sw_uri_equal(&a.uri, &w));
	free(d);
}

static void test_wsinv(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("wsinv.dat", &len);
	assert_int_equal(msg.method_id, SW_METHOD_INVITE);
	assert_int_equal(msg.body.len, 150);
	struct sw_cseq c;
	assert_int_equal(sw_msg_cseq(&msg, &c, NULL), 0);
	assert_int_equal(c.num, 9);
	assert_int_equal(c.method_id, SW_METHOD_INVITE);
	struct sw_addr a;
	assert_int_equal(sw_msg_to(&msg, &a, NULL), 0);
	assert_str(a.tag, "1918181833n");
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_str(a.display, "\"J Rosenberg \\\\\\\"\"");
	char out[64];
	int n = sw_str_unquote(a.display, out, sizeof(out));
	assert_int_equal(n, 14);
	assert_memory_equal(out, "J Rosenberg \\\"", 14);
	assert_str(a.tag, "98asjd8");
	/* three Via values over two headers, the first one folded */
	struct sw_hdr_iter it;
	sw_str el;
	struct sw_via v;
	static const char *const branch[] = { "390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239" };
	static const char *const transport[] = { "UDP", "TCP", "UDP" };
	static const char *const host[] = { "192.0.2.2", "spindle.example.com", "192.168.255.111" };
	int i = 0;
	sw_hdr_iter_init(&it, &msg, SW_HDR_VIA);
	while (sw_hdr_iter_next(&it, &el, NULL)) {
		assert_true(i < 3);
		assert_int_equal(sw_via_parse(&v, el, NULL), 0);
		assert_str(v.branch, branch[i]);
		assert_str(v.transport, transport[i]);
		assert_str(v.host, host[i]);
		assert_str(v.version, "2.0");
		i++;
	}
	assert_int_equal(i, 3);
	/* empty Subject (compact s) is present */
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	h = sw_msg_hdr_by_name(&msg, "UnknownHeaderWithUnusualValue");
	assert_non_null(h);
	assert_str(h->value, ";;,,;;,;");
	h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_int_equal(sw_addr_parse(&a, h->value, true, NULL), 0);
	assert_true(a.has_q);
	assert_int_equal(a.q, 330);
	sw_str pv;
	assert_true(sw_param_get(a.params, "newparam", &pv));
	assert_str(pv, "newvalue");
	assert_true(sw_param_get(a.params, "secondparam", &pv));
	assert_null(pv.p);
	free(d);
}

static void test_longreq(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("longreq.dat", &len);
	assert_int_equal(len, 3515);
	assert_int_equal(msg.count[SW_HDR_VIA], 34);
	struct sw_hdr_iter it;
	sw_str el;
	struct sw_via v;
	unsigned n = 0;
	sw_hdr_iter_init(&it, &msg, SW_HDR_VIA);
	while (sw_hdr_iter_next(&it, &el, NULL)) {
		assert_int_equal(sw_via_parse(&v, el, NULL), 0);
		n++;
	}
	assert_int_equal(n, 34);
	struct sw_addr a;
	assert_int_equal(sw_msg_to(&msg, &a, NULL), 0);
	assert_int_equal(a.uri.port, 6000);
	assert_true(a.display.len > 100);
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_true(a.tag.len > 150);
	free(d);
}

static void test_transports(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("transports.dat", &len);
	static const char *const t[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
	struct sw_hdr_iter it;
	sw_str el;
	struct sw_via v;
	int i = 0;
	sw_hdr_iter_init(&it, &msg, SW_HDR_VIA);
	while (sw_hdr_iter_next(&it, &el, NULL)) {
		assert_true(i < 5);
		assert_int_equal(sw_via_parse(&v, el, NULL), 0);
		assert_str(v.transport, t[i++]);
	}
	assert_int_equal(i, 5);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.host, "t1.example.com");
	free(d);
}

static void test_mpart01(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("mpart01.dat", &len);
	assert_int_equal(msg.body.len, 553);
	assert_int_equal(msg.len, len);
	assert_true(msg.has_content_length);
	assert_int_equal(msg.method_id, SW_METHOD_MESSAGE);
	free(d);
}

static void test_reasons(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("noreason.dat", &len);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, 100);
	assert_non_null(msg.reason.p);
	assert_int_equal(msg.reason.len, 0);
	free(d);
	d = parse_ok("unreason.dat", &len);
	assert_int_equal(msg.status, 200);
	assert_true(msg.reason.len > 10);
	assert_memory_equal(msg.reason.p, "= 2**3 * 5**2 ", 14);
	free(d);
}

static void test_lwsdisp_intmeth(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("lwsdisp.dat", &len);
	struct sw_addr a;
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_str(a.display, "caller");
	assert_true(a.bracketed);
	assert_str(a.uri.user, "caller");
	free(d);
	d = parse_ok("intmeth.dat", &len);
	assert_str(msg.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_int_equal(msg.method_id, SW_METHOD_OTHER);
	struct sw_uri u;
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "example.com");
	assert_str(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_str(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	free(d);
}

static void test_inv2543_badbranch_bcast(void **state)
{
	(void)state;
	size_t len;
	struct sw_via v;
	struct sw_addr a;
	char *d = parse_ok("inv2543.dat", &len);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_null(v.branch.p); /* RFC 2543 transaction matching */
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_null(a.tag.p);
	assert_int_equal(msg.count[SW_HDR_MAX_FORWARDS], 0);
	assert_false(msg.has_content_length);
	assert_int_equal(msg.body.len, len - (size_t)(strstr(d, "\r\n\r\n") + 4 - d));
	free(d);

	d = parse_ok("badbranch.dat", &len);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.branch, "z9hG4bK"); /* the cookie alone */
	free(d);

	d = parse_ok("bcast.dat", &len);
	assert_false(msg.is_request);
	struct sw_hdr_iter it;
	sw_str el;
	sw_hdr_iter_init(&it, &msg, SW_HDR_VIA);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_via_parse(&v, el, NULL), 0);
	assert_str(v.host, "255.255.255.255");
	free(d);
}

static void test_regescrt_bext_invut(void **state)
{
	(void)state;
	size_t len;
	char *d = parse_ok("regescrt.dat", &len);
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_non_null(h);
	assert_str(h->name, "M");
	struct sw_addr a;
	assert_int_equal(sw_addr_parse(&a, h->value, true, NULL), 0);
	assert_str(a.uri.headers, "Route=%3Csip:sip.example.com%3E");
	assert_str(a.uri.host, "example.com");
	assert_true(msg.has_content_length);
	free(d);

	d = parse_ok("bext01.dat", &len);
	assert_non_null(sw_msg_hdr(&msg, SW_HDR_REQUIRE));
	assert_non_null(sw_msg_hdr(&msg, SW_HDR_PROXY_REQUIRE));
	free(d);

	d = parse_ok("invut.dat", &len);
	h = sw_msg_hdr(&msg, SW_HDR_CONTENT_TYPE);
	assert_non_null(h);
	assert_int_equal(msg.body.len, 40);
	free(d);
}

static void test_invalid_details(void **state)
{
	(void)state;
	size_t len;
	struct sw_perr e;
	/* 505 for an unknown version: the parser frames it, check refuses */
	char *d = load("badvers.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), 0);
	assert_str(msg.version, "SIP/7.0");
	assert_int_equal(sw_msg_check(&msg, &e), SW_EVERSION);
	assert_int_equal(e.status, 505);
	free(d);

	/* Content-Length past the end: 400 on a datagram, wait on a stream */
	d = load("clerr.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), SW_EPARSE);
	assert_int_equal(e.status, 400);
	struct sw_parse_opts so = { .stream = true };
	assert_int_equal(sw_msg_parse(&msg, d, len, &so, &e), SW_EAGAIN);
	free(d);

	/* negative Content-Length never becomes a length */
	d = load("ncl.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), SW_EPARSE);
	assert_int_equal(sw_msg_parse(&msg, d, len, &so, &e), SW_EPARSE);
	assert_str(e.header, "Content-Length");
	free(d);

	/* responses are discarded, not answered */
	d = load("bigcode.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), SW_EPARSE);
	assert_int_equal(e.status, 0);
	free(d);
	d = load("scalarlg.dat", &len);
	int rc = sw_msg_parse(&msg, d, len, NULL, &e);
	if (!rc) {
		assert_false(msg.is_request);
		rc = sw_msg_check(&msg, &e);
	}
	assert_int_equal(rc, SW_EPARSE);
	assert_int_equal(e.status, 0);
	free(d);

	/* scalar02: each overlarge value is refused by its own accessor */
	d = load("scalar02.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), 0);
	uint32_t n;
	struct sw_cseq c;
	assert_int_equal(sw_msg_cseq(&msg, &c, &e), SW_EPARSE);
	assert_int_equal(sw_msg_max_forwards(&msg, &n, &e), SW_EPARSE);
	assert_int_equal(sw_msg_expires(&msg, &n, &e), SW_EPARSE);
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_non_null(h);
	struct sw_addr a;
	assert_int_equal(sw_addr_parse(&a, h->value, true, &e), SW_EPARSE);
	free(d);

	/* a missing mandatory header is named */
	d = load("insuf.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), 0);
	assert_int_equal(sw_msg_check(&msg, &e), SW_EPARSE);
	assert_int_equal(e.status, 400);
	assert_non_null(e.header.p);
	assert_null(sw_msg_hdr(&msg, e.header.p[0] == 'T' ? SW_HDR_TO : SW_HDR_FROM));
	free(d);

	/* escruri: headers in the Request-URI of a request */
	d = load("escruri.dat", &len);
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), 0);
	struct sw_uri u;
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_non_null(u.headers.p);
	assert_int_equal(sw_msg_check(&msg, &e), SW_EPARSE);
	free(d);
}

/* RFC 5118: host and port values with and without brackets. */
static void test_rfc5118(void **state)
{
	(void)state;
	size_t len;
	struct sw_uri u;
	struct sw_via v;
	struct sw_addr a;

	char *d = parse_ok("rfc5118-ipv6/wire/ipv6-good.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "[2001:db8::10]");
	assert_true(u.host_ipv6);
	assert_int_equal(u.port, -1);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.host, "[2001:db8::9:1]");
	assert_int_equal(v.port, -1);
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_int_equal(sw_addr_parse(&a, h->value, true, NULL), 0);
	assert_str(a.uri.host, "[2001:db8::1]");
	assert_str(a.display, "\"Caller\"");
	free(d);

	/* §4.3: [2001:db8::10:5070] is a host without a port */
	d = parse_ok("rfc5118-ipv6/wire/port-ambiguous.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "[2001:db8::10:5070]");
	assert_int_equal(u.port, -1);
	free(d);

	/* §4.4 */
	d = parse_ok("rfc5118-ipv6/wire/port-unambiguous.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "[2001:db8::10]");
	assert_int_equal(u.port, 5070);
	assert_true(u.host_ipv6);
	free(d);

	/* §4.5: received with and without brackets */
	d = parse_ok("rfc5118-ipv6/wire/via-received-param-with-delim.dat", &len);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.received, "[2001:db8::9:255]");
	assert_str(v.branch, "z9hG4bKas3-111");
	free(d);
	d = parse_ok("rfc5118-ipv6/wire/via-received-param-no-delim.dat", &len);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.received, "2001:db8::9:255");
	assert_str(v.host, "[2001:db8::9:1]");
	assert_str(v.branch, "z9hG4bKas3");
	free(d);

	/* §4.7: IPv6 with port, IPv4, IPv6 with received=IPv4 */
	d = parse_ok("rfc5118-ipv6/wire/mult-ip-in-header.dat", &len);
	struct sw_hdr_iter it;
	sw_str el;
	sw_hdr_iter_init(&it, &msg, SW_HDR_VIA);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_via_parse(&v, el, NULL), 0);
	assert_str(v.host, "[2001:db8::9:1]");
	assert_int_equal(v.port, 6050);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_via_parse(&v, el, NULL), 0);
	assert_str(v.host, "192.0.2.1");
	assert_int_equal(v.port, -1);
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 1);
	assert_int_equal(sw_via_parse(&v, el, NULL), 0);
	assert_str(v.host, "[2001:db8::9:255]");
	assert_str(v.transport, "TCP");
	assert_str(v.received, "192.0.2.200");
	assert_int_equal(sw_hdr_iter_next(&it, &el, NULL), 0);
	free(d);

	/* §4.9: IPv4-mapped references; Content-Length (236) is honoured and
	 * the 9 extra body bytes of the datagram ignored */
	d = parse_ok("rfc5118-ipv6/wire/ipv4-mapped-ipv6.dat", &len);
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_str(v.host, "[::ffff:192.0.2.10]");
	assert_int_equal(v.port, 19823);
	h = sw_msg_hdr(&msg, SW_HDR_CONTACT);
	assert_int_equal(sw_addr_parse(&a, h->value, true, NULL), 0);
	assert_str(a.uri.host, "[::ffff:192.0.2.2]");
	assert_int_equal(msg.body.len, 236);
	assert_int_equal(msg.len, len - 9);
	free(d);

	/* §4.10 both forms are accepted (the three-colon one is tolerated) */
	d = parse_ok("rfc5118-ipv6/wire/ipv6-bug-abnf-3-colons.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "[2001:db8:::192.0.2.1]");
	free(d);
	d = parse_ok("rfc5118-ipv6/wire/ipv6-correct-abnf-2-colons.dat", &len);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), 0);
	assert_str(u.host, "[2001:db8::192.0.2.1]");
	free(d);

	/* §4.2: no brackets → 400 */
	d = load("rfc5118-ipv6/wire/ipv6-bad.dat", &len);
	struct sw_perr e;
	assert_int_equal(sw_msg_parse(&msg, d, len, NULL, &e), 0);
	assert_int_equal(sw_msg_check(&msg, &e), SW_EPARSE);
	assert_int_equal(e.status, 400);
	assert_int_equal(sw_msg_ruri(&msg, &u, NULL), SW_EPARSE);
	free(d);
}

int main(void)
{
	load_index();
	static struct CMUnitTest tests[128];
	size_t n = 0;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_index_complete);
	for (size_t i = 0; i < nrows; i++)
		tests[n++] = (struct CMUnitTest){ .name = rows[i].file, .test_func = test_row,
						  .initial_state = &rows[i] };
	const struct CMUnitTest named[] = {
		cmocka_unit_test(test_unkscm),
		cmocka_unit_test(test_unksm2),
		cmocka_unit_test(test_regaut01),
		cmocka_unit_test(test_zeromf),
		cmocka_unit_test(test_dblreq),
		cmocka_unit_test(test_cparam),
		cmocka_unit_test(test_semiuri),
		cmocka_unit_test(test_escnull),
		cmocka_unit_test(test_esc02),
		cmocka_unit_test(test_esc01),
		cmocka_unit_test(test_wsinv),
		cmocka_unit_test(test_longreq),
		cmocka_unit_test(test_transports),
		cmocka_unit_test(test_mpart01),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_lwsdisp_intmeth),
		cmocka_unit_test(test_inv2543_badbranch_bcast),
		cmocka_unit_test(test_regescrt_bext_invut),
		cmocka_unit_test(test_invalid_details),
		cmocka_unit_test(test_rfc5118),
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		tests[n++] = named[i];
	return _cmocka_run_group_tests("corpus_rfc4475", tests, n, NULL, NULL);
}
