/* The NIST JAIN-SIP parser torture suite
 * ($SW_CORPUS/parser-suites/jain-sip-torture/torture.xml, see its MANIFEST):
 * 400 test cases, each a whole <message>, a single <sip-header> or a
 * <sip-url>, with zero or more <expect-exception-callback> naming the text
 * that JAIN-SIP reports as faulty.
 *
 * A case without an expected exception must parse and check; a case with
 * one must be rejected, with the error on (one of) the line(s) JAIN-SIP
 * names. Where RFC 3261 and JAIN-SIP's verdict disagree, the table
 * `differences` below says which case, which way, and why.
 *
 * Preparing a message: the XML holds it in CDATA with bare LF line ends and
 * the draft's <hex>HH</hex> notation for octets. The harness decodes the hex
 * octets, drops leading blank lines, turns LF into CRLF and terminates an
 * unterminated header section. Content-Length is then computed from the
 * message, as JAIN-SIP's runner does (the S/MIME case's signature lost bytes
 * in this transcription), except in the three cases whose expected exception
 * is the Content-Length itself (9999, -999, two values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"
#include "corpus_check.h"

/* ---- the suite, read from the XML ---------------------------------------- */

enum kind { K_NONE, K_MESSAGE, K_HEADER, K_URL };

#define MAX_EXC 8

struct jcase {
	unsigned index;        /* 0-based position in torture.xml */
	char name[96];         /* cmocka test name */
	char *desc;
	enum kind kind;
	char *input;           /* CDATA text as in the file */
	size_t input_len;
	unsigned nexc;
	char *exc_class[MAX_EXC];
	char *exc_text[MAX_EXC]; /* may be NULL */
};

static struct jcase cases[512];
static unsigned ncases;
static int xml_error; /* set when the reader met something it cannot handle */

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Appends n bytes to a growing string *dst (*len long). */
static void append(char **dst, size_t *len, const char *p, size_t n)
{
	char *s = realloc(*dst, *len + n + 1);
	if (!s)
		abort();
	memcpy(s + *len, p, n);
	*len += n;
	s[*len] = '\0';
	*dst = s;
}

static bool tag_is(const char *t, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n >= k && !strncmp(t, name, k) && (n == k || t[k] == ' ' || t[k] == '\t' ||
						  t[k] == '\n' || t[k] == '\r' || t[k] == '/');
}

/* The value of attr="..." inside a start tag, or NULL. */
static char *attr_value(const char *t, size_t n, const char *attr)
{
	const char *end = t + n;
	const char *a = strstr(t, attr);
	if (!a || a >= end)
		return NULL;
	a += strlen(attr);
	while (a < end && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r'))
		a++;
	if (a >= end || *a != '=')
		return NULL;
	a++;
	while (a < end && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r'))
		a++;
	if (a >= end || (*a != '"' && *a != '\''))
		return NULL;
	const char *q = memchr(a + 1, *a, (size_t)(end - a - 1));
	return q ? dup_n(a + 1, (size_t)(q - a - 1)) : NULL;
}

/* A small reader for this file's XML: comments, the prolog and DOCTYPE are
 * skipped; CDATA sections (and any non-blank plain text) are the content of
 * the innermost element of interest. No entities occur in the suite; a '&'
 * outside CDATA is reported as an error rather than guessed at. */
static void read_suite(const char *x, size_t len)
{
	const char *p = x, *end = x + len;
	struct jcase *c = NULL;
	enum { IN_NONE, IN_DESC, IN_INPUT, IN_EXC_TEXT } in = IN_NONE;
	size_t desc_len = 0, text_len = 0;
	while (p < end) {
		if (*p != '<') {
			const char *s = p;
			while (p < end && *p != '<')
				p++;
			bool blank = true;
			for (const char *q = s; q < p; q++)
				blank = blank && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n');
			if (!blank && c && in != IN_NONE) {
				if (memchr(s, '&', (size_t)(p - s)))
					xml_error = 1;
				if (in == IN_INPUT)
					append(&c->input, &c->input_len, s, (size_t)(p - s));
				else if (in == IN_DESC)
					append(&c->desc, &desc_len, s, (size_t)(p - s));
				else
					append(&c->exc_text[c->nexc - 1], &text_len, s, (size_t)(p - s));
			}
			continue;
		}
		if (!strncmp(p, "<!--", 4)) {
			const char *q = strstr(p + 4, "-->");
			p = q ? q + 3 : end;
			continue;
		}
		if (!strncmp(p, "<![CDATA[", 9)) {
			const char *s = p + 9;
			const char *q = strstr(s, "]]>");
			if (!q) {
				xml_error = 1;
				return;
			}
			if (c && in == IN_INPUT)
				append(&c->input, &c->input_len, s, (size_t)(q - s));
			else if (c && in == IN_DESC)
				append(&c->desc, &desc_len, s, (size_t)(q - s));
			else if (c && in == IN_EXC_TEXT)
				append(&c->exc_text[c->nexc - 1], &text_len, s, (size_t)(q - s));
			p = q + 3;
			continue;
		}
		if (!strncmp(p, "<?", 2) || !strncmp(p, "<!", 2)) {
			const char *q = memchr(p, '>', (size_t)(end - p));
			p = q ? q + 1 : end;
			continue;
		}
		const char *q = memchr(p, '>', (size_t)(end - p));
		if (!q) {
			xml_error = 1;
			return;
		}
		const char *t = p + 1;
		size_t tn = (size_t)(q - t);
		p = q + 1;
		bool close = tn && t[0] == '/';
		if (close) {
			t++;
			tn--;
		}
		if (tag_is(t, tn, "testcase")) {
			if (close) {
				c = NULL;
			} else if (ncases < sizeof(cases) / sizeof(cases[0])) {
				c = &cases[ncases];
				memset(c, 0, sizeof(*c));
				c->index = ncases++;
				desc_len = 0;
			} else {
				xml_error = 1;
			}
		} else if (!c) {
			continue;
		} else if (tag_is(t, tn, "description")) {
			in = close ? IN_NONE : IN_DESC;
		} else if (tag_is(t, tn, "message") || tag_is(t, tn, "sip-header") || tag_is(t, tn, "sip-url")) {
			if (!close) {
				if (c->kind != K_NONE)
					xml_error = 1; /* exactly one input per case */
				c->kind = tag_is(t, tn, "message") ? K_MESSAGE
					  : tag_is(t, tn, "sip-header") ? K_HEADER : K_URL;
				c->input = dup_n("", 0);
				c->input_len = 0;
			}
			in = close ? IN_NONE : IN_INPUT;
		} else if (tag_is(t, tn, "expect-exception-callback")) {
			if (!close && c->nexc < MAX_EXC) {
				c->exc_class[c->nexc] = attr_value(t, tn, "exception-class");
				c->exc_text[c->nexc] = NULL;
				c->nexc++;
			} else if (!close) {
				xml_error = 1;
			}
		} else if (tag_is(t, tn, "exception-text")) {
			if (!close) {
				text_len = 0;
				c->exc_text[c->nexc - 1] = dup_n("", 0);
			}
			in = close ? IN_NONE : IN_EXC_TEXT;
		}
	}
}

static void free_suite(void)
{
	for (unsigned i = 0; i < ncases; i++) {
		free(cases[i].desc);
		free(cases[i].input);
		for (unsigned k = 0; k < cases[i].nexc; k++) {
			free(cases[i].exc_class[k]);
			free(cases[i].exc_text[k]);
		}
	}
}

/* ---- preparing the input ---------------------------------------------- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* <hex>HHHH</hex> → octets, in place; returns the new length. */
static size_t decode_hex(char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (len - i >= 5 && !memcmp(s + i, "<hex>", 5)) {
			char *e = strstr(s + i + 5, "</hex>");
			if (e) {
				size_t j = i + 5;
				size_t stop = (size_t)(e - s);
				/* line breaks inside a long hex run are layout */
				while (j < stop) {
					if (strchr(" \t\r\n", s[j])) {
						j++;
						continue;
					}
					if (j + 1 >= stop || hexval(s[j]) < 0 || hexval(s[j + 1]) < 0)
						break;
					s[o++] = (char)(hexval(s[j]) * 16 + hexval(s[j + 1]));
					j += 2;
				}
				i = stop + 6;
				continue;
			}
		}
		s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

/* Rewrites the value of every Content-Length (or "l") header to the length
 * of the body; frees msg and returns the new message. */
static char *set_content_length(char *msg_text, size_t len, size_t *outlen)
{
	/* memmem: the decoded octets may include NUL, even in the headers */
	const char *hend = memmem(msg_text, len, "\r\n\r\n", 4);
	size_t body = len - (size_t)(hend + 4 - msg_text);
	char *out = NULL;
	size_t o = 0;
	const char *p = msg_text, *end = hend + 2; /* header lines, each with its CRLF */
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *q = p;
		while (q < eol && *q != ':' && *q != ' ' && *q != '\t')
			q++;
		size_t nl = (size_t)(q - p);
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		bool is_cl = q < eol && *q == ':' &&
			     ((nl == 14 && !strncasecmp(p, "Content-Length", 14)) || (nl == 1 && (*p == 'l' || *p == 'L')));
		if (is_cl) {
			char v[32];
			int k = snprintf(v, sizeof(v), " %zu\r\n", body);
			append(&out, &o, p, (size_t)(q + 1 - p));
			append(&out, &o, v, (size_t)k);
		} else {
			append(&out, &o, p, (size_t)(eol + 2 - p));
		}
		p = eol + 2;
	}
	append(&out, &o, hend + 2, len - (size_t)(hend + 2 - msg_text));
	free(msg_text);
	*outlen = o;
	return out;
}

/* The wire form of a <message> case (see the top of the file). */
static char *prepare_message(const struct jcase *c, size_t *outlen)
{
	char *t = dup_n(c->input, c->input_len);
	size_t n = c->input_len;
	size_t s = 0;
	while (s < n && (t[s] == '\r' || t[s] == '\n'))
		s++;
	char *out = malloc(2 * (n - s) + 8);
	if (!out)
		abort();
	size_t o = 0;
	for (size_t i = s; i < n; i++) {
		if (t[i] == '\r' && i + 1 < n && t[i + 1] == '\n')
			continue; /* CRLF already: keep one */
		if (t[i] == '\n')
			out[o++] = '\r';
		out[o++] = t[i];
	}
	out[o] = '\0';
	/* octets last, so that a decoded LF is not made a line end */
	o = decode_hex(out, o);
	if (!memmem(out, o, "\r\n\r\n", 4)) {
		while (o >= 2 && out[o - 1] == '\n' && out[o - 2] == '\r')
			o -= 2;
		memcpy(out + o, "\r\n\r\n", 5);
		o += 4;
	}
	free(t);
	for (unsigned k = 0; k < c->nexc; k++)
		if (c->exc_text[k] && !strncasecmp(c->exc_text[k], "Content-Length", 14)) {
			*outlen = o;
			return out;
		}
	return set_content_length(out, o, outlen);
}

/* Trimmed copy of an exception text with its hex octets decoded. */
static char *exc_line(const char *text)
{
	char *t = dup_n(text, strlen(text));
	size_t n = decode_hex(t, strlen(t));
	size_t s = 0;
	while (s < n && strchr(" \t\r\n", t[s]))
		s++;
	while (n > s && strchr(" \t\r\n", t[n - 1]))
		n--;
	memmove(t, t + s, n - s);
	t[n - s] = '\0';
	return t;
}

/* ---- deliberate differences ---------------------------------------------- */

/* JAIN-SIP's verdicts are its own (RFC 2543-era leniency, its old grammar);
 * where RFC 3261 (and RFC 4475, its torture test) says otherwise we follow
 * the RFC. Every entry flips the expected outcome of one case; the test fails
 * if the parser stops disagreeing, so the table cannot go stale. */
struct difference {
	unsigned index;
	const char *desc;  /* start of the case's description, to catch reordering */
	bool we_accept;
	const char *why;
};

static const char wrapped_uri[] =
	"line break inside a URI within <>: the call-flow draft's text was wrapped at the page "
	"margin; a URI holds no LWS (RFC 3261 §25.1, name-addr = [display-name] LAQUOT addr-spec "
	"RAQUOT; RFC 4475 §3.1.2.8/§3.1.2.14)";

static const struct difference differences[] = {
	{ 6, "6) Not understood URI in Req-URI", true,
	  "Request-URI = SIP-URI / SIPS-URI / absoluteURI (RFC 3261 §25.1): \"name:user\" is an "
	  "absoluteURI. It parses; the UAS answers 416 (as RFC 4475 §3.3.2, unkscm)" },
	{ 13, "12a) Legal message with zero max forwards", false,
	  "the line holding a single SP is LWS continuing Content-Type (RFC 3261 §7.3.1), not the "
	  "empty line; \"v=0\" then reads as a header without ':'. JAIN-SIP ends the headers at a "
	  "blank-looking line" },
	{ 14, "11) Legal REGISTER with SIP URL containing escaped Route", false,
	  "Contact \"< sip:...?Route=... >\": spaces inside <> (RFC 3261 §25.1 LAQUOT addr-spec "
	  "RAQUOT; RFC 4475 §3.1.2.14 badaspec is this fault)" },
	{ 17, "15) Legal message with confusing line breaks", false,
	  "\"CaLl-Id\" CRLF SP \":\": HCOLON = *( SP / HTAB ) \":\" SWS (RFC 3261 §25.1) allows no "
	  "line break before the colon; RFC 4475 §3.1.1.1 (wsinv), the same message revised, "
	  "dropped it" },
	{ 23, "21)This request message contains a new method, NEWMETHOD", true,
	  "CSeq = 1*DIGIT LWS Method, Method includes extension-method (RFC 3261 §25.1) and it "
	  "matches the Request-Line; JAIN-SIP's CSeq parser knew only the standard methods. "
	  "The UAS answers 501 (RFC 4475 §3.1.2.18 faults only a mismatch)" },
	{ 24, "22) Unexpected header in reply message (Subject:)", false,
	  "the 180 response has no From, To or Call-ID: mandatory in every response (RFC 3261 "
	  "§8.2.6.2, §20 table); a proxy cannot match it to a transaction" },
	{ 136, "Call-flow 12: F2 INVITE", false, wrapped_uri },
	{ 142, "Call-flow 12: F8 200 OK", false, wrapped_uri },
	{ 144, "Call-flow 12: F10 ACK", false, wrapped_uri },
	{ 146, "Call-flow 12: F12 INVITE", false, wrapped_uri },
	{ 148, "Call-flow 12: F14 200 OK", false, wrapped_uri },
	{ 152, "Call-flow 12: F18 INVITE", false, wrapped_uri },
	{ 153, "Call-flow 12: F19 200 OK", false, wrapped_uri },
	{ 154, "Call-flow 12: F20 200 OK", false, wrapped_uri },
	{ 155, "Call-flow 12: F21 ACK", false, wrapped_uri },
	{ 229, "Call-flow 18: F16 BYE", false, wrapped_uri },
	{ 336, "Call-flow 33: F3 INVITE", false, wrapped_uri },
	{ 339, "Call-flow 33: F6 INVITE", false, wrapped_uri },
	{ 343, "Call-flow 33: F14 200 OK", false, wrapped_uri },
	{ 344, "Call-flow 33: F15 200 OK", false, wrapped_uri },
	{ 358, "3.1.1.8 Extra trailing octets in a UDP datagram", false,
	  "this transcription lost the empty line after \"Content-Length: 0\", so the trailing "
	  "INVITE's Request-Line reads as a header without ':'. RFC 4475's dblreq.dat, with the "
	  "empty line, is accepted (test_corpus_rfc4475)" },
	{ 391, "3.3.8 Multiple values in single value required fields", false,
	  "several To, From, Call-ID, CSeq and Max-Forwards: RFC 4475 §3.3.8 (multi01) says "
	  "respond 400; JAIN-SIP (no exception listed) kept the first" },
};

static const struct difference *find_difference(unsigned index)
{
	for (size_t i = 0; i < sizeof(differences) / sizeof(differences[0]); i++)
		if (differences[i].index == index)
			return &differences[i];
	return NULL;
}

/* ---- the tests ---------------------------------------------------------- */

static struct sw_msg msg;

/* Compares after the description's leading blank lines and spaces. */
static bool starts_with(const char *s, const char *prefix)
{
	while (s && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* Text of line `line` (1-based) of buf, without its CRLF. */
static sw_str line_text(const char *buf, size_t len, unsigned line)
{
	const char *p = buf, *end = buf + len;
	for (unsigned l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *e = p;
	while (e < end && *e != '\r' && *e != '\n')
		e++;
	return (sw_str){ p, (size_t)(e - p) };
}

static sw_str trim(sw_str s)
{
	while (s.len && strchr(" \t", s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && strchr(" \t", s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Does our error point where JAIN-SIP's does? Yes when the error's line is
 * one of the exception texts, or the blamed header is the one a text names
 * (a Content-Length larger than the body is reported at the body), or no
 * text is a line of the message (e.g. "headers missing???"). */
static bool error_matches(const struct jcase *c, const char *data, size_t len, const struct sw_perr *e)
{
	bool any_line = false;
	for (unsigned k = 0; k < c->nexc; k++) {
		if (!c->exc_text[k])
			continue;
		char *want = exc_line(c->exc_text[k]);
		bool is_line = want[0] && memmem(data, len, want, strlen(want)) != NULL;
		any_line = any_line || is_line;
		bool ok = false;
		if (e->line) {
			sw_str got = trim(line_text(data, len, e->line));
			ok = got.len == strlen(want) && !memcmp(got.p, want, got.len);
		}
		if (!ok && e->header.p && e->header.len < strlen(want) &&
		    !strncasecmp(want, e->header.p, e->header.len) && want[e->header.len] == ':')
			ok = true;
		free(want);
		if (ok)
			return true;
	}
	return !any_line;
}

static void test_message(void **state)
{
	const struct jcase *c = *state;
	size_t len;
	char *data = prepare_message(c, &len);
	const struct difference *d = find_difference(c->index);
	if (d && !starts_with(c->desc, d->desc))
		fail_msg("case %u is not '%s': the differences table is stale", c->index, d->desc);
	bool want_accept = c->nexc == 0;
	if (d)
		want_accept = d->we_accept;

	struct sw_perr e;
	memset(&e, 0, sizeof(e));
	int rc = sw_test_parse_guarded(data, len, NULL, &msg, &e);
	if (rc == 0)
		rc = sw_msg_check(&msg, &e);
	if (want_accept && rc) {
		char text[256];
		fail_msg("case %u (%s) rejected: %s", c->index, c->desc, sw_perr_format(&e, text, sizeof(text)));
	}
	if (!want_accept && rc == 0)
		fail_msg("case %u (%s) accepted", c->index, c->desc);
	if (rc == 0) {
		sw_corpus_exercise(&msg);
		sw_corpus_round_trip(&msg);
	} else {
		assert_non_null(e.what);
		/* a request gets 400 (505 for a version), a response is dropped */
		bool response = len > 4 && !strncmp(data, "SIP/", 4);
		if (response)
			assert_int_equal(e.status, 0);
		else if (e.code == SW_EVERSION)
			assert_int_equal(e.status, 505);
		else
			assert_int_equal(e.status, 400);
		if (!d && !error_matches(c, data, len, &e)) {
			char text[256];
			sw_str got = e.line ? line_text(data, len, e.line) : SW_STR_LIT("(no line)");
			fail_msg("case %u: our error '%s' is at '%.*s', not at JAIN-SIP's '%s'", c->index,
				 sw_perr_format(&e, text, sizeof(text)), (int)got.len, got.p,
				 c->exc_text[0] ? c->exc_text[0] : "");
		}
	}
	sw_test_guard_release();
	assert_int_equal(sw_test_feed_bytewise(data, len), 0);
	free(data);
}

/* A single header: placed in a minimal valid request (replacing that
 * request's own header of the same name), which must then parse and check;
 * then the header's typed accessor. */
static void test_header(void **state)
{
	const struct jcase *c = *state;
	assert_int_equal(c->nexc, 0); /* all 16 are legal */
	char *h = dup_n(c->input, c->input_len);
	size_t hl = decode_hex(h, c->input_len);
	while (hl && strchr(" \t\r\n", h[hl - 1]))
		hl--;
	size_t s = 0;
	while (s < hl && strchr("\r\n", h[s]))
		s++;
	static const char *const base[] = {
		"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK776asdhds\r\n",
		"From: <sip:alice@example.com>;tag=1928301774\r\n",
		"To: <sip:alice@example.com>\r\n",
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n",
		"CSeq: 1 REGISTER\r\n",
		"Max-Forwards: 70\r\n",
	};
	const char *colon = memchr(h + s, ':', hl - s);
	assert_non_null(colon);
	enum sw_hdr_id id = sw_hdr_lookup(h + s, (size_t)(colon - h - s));
	char *m = NULL;
	size_t ml = 0;
	append(&m, &ml, "REGISTER sip:example.com SIP/2.0\r\n", 34);
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		const char *bc = strchr(base[i], ':');
		if (id != SW_HDR_OTHER && sw_hdr_lookup(base[i], (size_t)(bc - base[i])) == id)
			continue;
		append(&m, &ml, base[i], strlen(base[i]));
	}
	for (size_t i = s; i < hl; i++) {
		if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
			append(&m, &ml, "\r", 1);
		append(&m, &ml, h + i, 1);
	}
	append(&m, &ml, "\r\nContent-Length: 0\r\n\r\n", 23);
	free(h);

	struct sw_perr e;
	int rc = sw_test_parse_guarded(m, ml, NULL, &msg, &e);
	if (rc == 0)
		rc = sw_msg_check(&msg, &e);
	if (rc) {
		char text[256];
		fail_msg("case %u (%s): %s\n%s", c->index, c->desc, sw_perr_format(&e, text, sizeof(text)), m);
	}
	sw_corpus_exercise(&msg);
	sw_corpus_round_trip(&msg);
	struct sw_hdr_iter it;
	sw_str el;
	struct sw_addr a;
	unsigned n = 0;
	switch (id) {
	case SW_HDR_CONTACT:
	case SW_HDR_FROM:
	case SW_HDR_TO:
		sw_hdr_iter_init(&it, &msg, id);
		while (sw_hdr_iter_next(&it, &el, NULL)) {
			assert_int_equal(sw_addr_parse(&a, el, id == SW_HDR_CONTACT, NULL), 0);
			assert_non_null(a.uri.scheme_str.p);
			n++;
		}
		assert_true(n >= 1);
		if (id == SW_HDR_CONTACT) {
			/* 23) two contacts: q=0.7 with expires=3600, then a mailto: q=0.1 */
			assert_int_equal(n, 2);
			sw_hdr_iter_init(&it, &msg, id);
			sw_hdr_iter_next(&it, &el, NULL);
			assert_int_equal(sw_addr_parse(&a, el, true, NULL), 0);
			assert_true(a.has_q && a.q == 700);
			assert_true(a.has_expires && a.expires == 3600);
			sw_hdr_iter_next(&it, &el, NULL);
			assert_int_equal(sw_addr_parse(&a, el, true, NULL), 0);
			assert_int_equal(a.uri.scheme, SW_URI_OTHER);
			assert_true(a.has_q && a.q == 100);
		}
		break;
	default: {
		/* headers without a typed accessor: split as one header, value kept */
		const struct sw_hdr *last = &msg.hdrs[msg.nhdrs - 2]; /* before Content-Length */
		assert_int_equal(last->id, id);
		assert_non_null(last->value.p);
		break;
	}
	}
	sw_test_guard_release();
	assert_int_equal(sw_test_feed_bytewise(m, ml), 0);
	free(m);
}

/* Expected parts of the 10 sip-url cases, by URL. */
struct url_want {
	const char *url, *user, *password, *host;
	int port;
	const char *params, *headers;
};

static const struct url_want url_wants[] = {
	{ "sip:j.doe@big.com;lr", "j.doe", NULL, "big.com", -1, ";lr", NULL },
	{ "sip:j.SIP:secret@big.com;transport=tcp", "j.SIP", "secret", "big.com", -1, ";transport=tcp", NULL },
	{ "sip:j.doe@big.com?subject=project", "j.doe", NULL, "big.com", -1, "", "subject=project" },
	{ "sip:+1-212-555-1212:1234@gateway.com;user=phone", "+1-212-555-1212", "1234", "gateway.com", -1, ";user=phone", NULL },
	{ "sip:1-212-555-1212:1234@gateway.com;user=phone", "1-212-555-1212", "1234", "gateway.com", -1, ";user=phone", NULL },
	{ "sip:1212@gateway.com", "1212", NULL, "gateway.com", -1, "", NULL },
	{ "sip:alice@10.1.2.3", "alice", NULL, "10.1.2.3", -1, "", NULL },
	{ "sip:alice@example.com", "alice", NULL, "example.com", -1, "", NULL },
	{ "sip:SIP", NULL, NULL, "SIP", -1, "", NULL },
	{ "sip:alice@registrar.com;method=REGISTER", "alice", NULL, "registrar.com", -1, ";method=REGISTER", NULL },
};

static void assert_slice(sw_str got, const char *want)
{
	if (!want) {
		if (got.p)
			fail_msg("expected no value, got '%.*s'", (int)got.len, got.p);
		return;
	}
	if (!got.p || got.len != strlen(want) || memcmp(got.p, want, got.len))
		fail_msg("got '%.*s', expected '%s'", got.p ? (int)got.len : 6, got.p ? got.p : "(null)", want);
}

static void test_url(void **state)
{
	const struct jcase *c = *state;
	assert_int_equal(c->nexc, 0); /* all 10 are legal */
	char *u = dup_n(c->input, c->input_len);
	size_t ul = decode_hex(u, c->input_len);
	size_t s = 0;
	while (s < ul && strchr(" \t\r\n", u[s]))
		s++;
	while (ul > s && strchr(" \t\r\n", u[ul - 1]))
		ul--;
	u[ul] = '\0';
	const struct url_want *w = NULL;
	for (size_t i = 0; i < sizeof(url_wants) / sizeof(url_wants[0]); i++)
		if (!strcmp(url_wants[i].url, u + s))
			w = &url_wants[i];
	if (!w)
		fail_msg("case %u: no expectation for '%s'", c->index, u + s);
	struct sw_uri uri;
	struct sw_perr e;
	assert_int_equal(sw_uri_parse(&uri, (sw_str){ u + s, ul - s }, &e), 0);
	assert_int_equal(uri.scheme, SW_URI_SIP);
	assert_slice(uri.user, w->user);
	assert_slice(uri.password, w->password);
	assert_slice(uri.host, w->host);
	assert_int_equal(uri.port, w->port);
	assert_slice(uri.params, w->params);
	assert_slice(uri.headers, w->headers);
	assert_true(sw_uri_equal(&uri, &uri));
	/* and as the Request-URI of a request */
	char m[512];
	int n = snprintf(m, sizeof(m),
			 "OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			 "Call-ID: 1@h\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", u + s);
	assert_true(n > 0 && (size_t)n < sizeof(m));
	int rc = sw_test_parse_guarded(m, (size_t)n, NULL, &msg, &e);
	/* a URI with headers ('?') is refused as a Request-URI (RFC 4475 §3.1.2.11) */
	if (rc == 0)
		rc = sw_msg_check(&msg, &e);
	assert_int_equal(rc, w->headers ? SW_EPARSE : 0);
	sw_test_guard_release();
	free(u);
}

/* The suite as the MANIFEST describes it. */
static void test_suite_shape(void **state)
{
	(void)state;
	assert_int_equal(xml_error, 0);
	assert_int_equal(ncases, 400);
	unsigned kinds[4] = { 0 }, with_exc = 0, nexc = 0, parse_exc = 0, dup_exc = 0;
	for (unsigned i = 0; i < ncases; i++) {
		kinds[cases[i].kind]++;
		with_exc += cases[i].nexc > 0;
		nexc += cases[i].nexc;
		for (unsigned k = 0; k < cases[i].nexc; k++) {
			assert_non_null(cases[i].exc_class[k]);
			parse_exc += !strcmp(cases[i].exc_class[k], "java.text.ParseException");
			dup_exc += !strcmp(cases[i].exc_class[k], "gov.nist.javax.sip.message.SIPDuplicateHeaderException");
		}
		assert_non_null(cases[i].input);
		assert_true(cases[i].input_len > 0);
	}
	assert_int_equal(kinds[K_NONE], 0);
	assert_int_equal(kinds[K_MESSAGE], 374);
	assert_int_equal(kinds[K_HEADER], 16);
	assert_int_equal(kinds[K_URL], 10);
	assert_int_equal(with_exc, 33);
	assert_int_equal(nexc, 39);
	assert_int_equal(parse_exc, 36);
	assert_int_equal(dup_exc, 3);
	/* every difference names a message case */
	for (size_t i = 0; i < sizeof(differences) / sizeof(differences[0]); i++) {
		assert_true(differences[i].index < ncases);
		assert_int_equal(cases[differences[i].index].kind, K_MESSAGE);
	}
}

int main(void)
{
	char path[512];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/parser-suites/jain-sip-torture/torture.xml", sw_test_corpus());
	char *xml = sw_test_read_file(path, &len);
	if (xml)
		read_suite(xml, len);
	else
		fprintf(stderr, "cannot read %s (set SW_CORPUS)\n", path);
	free(xml);

	static struct CMUnitTest tests[520];
	size_t n = 0;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_suite_shape);
	for (unsigned i = 0; i < ncases; i++) {
		struct jcase *c = &cases[i];
		char d[48] = "";
		if (c->desc) {
			size_t k = 0;
			for (const char *q = c->desc; *q && k + 1 < sizeof(d); q++)
				if (*q != '\n' && *q != '\r' && (k || (*q != ' ' && *q != '\t')))
					d[k++] = *q;
			d[k] = '\0';
		}
		snprintf(c->name, sizeof(c->name), "jain %03u %s", i, d);
		void (*f)(void **) = c->kind == K_MESSAGE ? test_message : c->kind == K_HEADER ? test_header : test_url;
		tests[n++] = (struct CMUnitTest){ .name = c->name, .test_func = f, .initial_state = c };
	}
	int rc = _cmocka_run_group_tests("corpus_jain", tests, n, NULL, NULL);
	free_suite();
	return rc;
}
