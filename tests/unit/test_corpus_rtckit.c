/* rtckit/php-sip fixtures ($SW_CORPUS/parser-suites, see its MANIFEST):
 *
 * - rtckit-streams: concatenated messages as on a TCP connection. Framed in
 *   stream mode, generic.txt yields exactly 227 messages and
 *   lioneagle-sipparser.txt 26; every message checks (except generic.txt's
 *   last 11, the RFC 5626 §9 examples without Via, see below), and is fed
 *   one byte at a time and at a guard page.
 * - rtckit-callflows: 29 YAML files (RFC 3665, 3327, 3515, 4916, 5626 call
 *   flows), one message per "- |+" literal block. Every message parses and
 *   checks, and print → parse is stable: same start line, header count,
 *   header values (modulo folding) and body.
 *
 * Two properties of the transcriptions, asserted rather than hidden: 16
 * messages lack the empty line that ends a header section (see
 * test_flows_shape), and the 11 RFC 5626 §9 messages omit Via (that RFC leaves
 * Via out of its §9 examples "for brevity"). The first is terminated by the
 * harness; the second ones must be refused for exactly that reason, and
 * accepted once a Via is added. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"
#include "corpus_check.h"

static struct sw_msg msg;

/* ---- streams ----------------------------------------------------------- */

static unsigned frame_stream(const char *file, unsigned *registers_with_auth, unsigned *no_via)
{
	char path[512];
	size_t len;
	snprintf(path, sizeof(path), "%s/parser-suites/rtckit-streams/%s", sw_test_corpus(), file);
	char *data = sw_test_read_file(path, &len);
	if (!data)
		fail_msg("cannot read %s (set SW_CORPUS)", path);
	const struct sw_parse_opts o = { .stream = true };
	size_t off = 0;
	unsigned n = 0;
	*registers_with_auth = *no_via = 0;
	for (;;) {
		struct sw_perr e;
		int rc = sw_msg_parse(&msg, data + off, len - off, &o, &e);
		if (rc == SW_EAGAIN) {
			/* only keep-alive CRLFs may remain */
			for (size_t i = off; i < len; i++)
				assert_true(data[i] == '\r' || data[i] == '\n');
			break;
		}
		if (rc)
			fail_msg("%s: message %u at offset %zu: %s", file, n + 1, off, e.what);
		assert_true(msg.len > 0);
		bool checked = sw_msg_check(&msg, &e) == 0;
		if (!checked && msg.count[SW_HDR_VIA] == 0 && sw_str_eq(e.header, "Via")) {
			(*no_via)++; /* the RFC 5626 §9 examples, see the top */
		} else if (!checked) {
			char text[256];
			fail_msg("%s: message %u (%.*s) does not check: %s", file, n + 1,
				 (int)(msg.is_request ? msg.method.len : msg.reason.len),
				 msg.is_request ? msg.method.p : msg.reason.p, sw_perr_format(&e, text, sizeof(text)));
		}
		if (msg.method_id == SW_METHOD_REGISTER && sw_msg_hdr(&msg, SW_HDR_AUTHORIZATION))
			(*registers_with_auth)++;
		sw_corpus_exercise(&msg);
		if (checked)
			sw_corpus_round_trip(&msg);
		/* this message alone: at a guard page, then every prefix */
		size_t ml = msg.len;
		assert_int_equal(sw_test_parse_guarded(data + off, ml, &o, &msg, &e), 0);
		assert_int_equal(msg.len, ml);
		sw_test_guard_release();
		assert_int_equal(sw_test_feed_bytewise(data + off, ml), 0);
		off += ml;
		n++;
	}
	/* the same framing one byte at a time would never see more than the
	 * first message: covered above per message */
	free(data);
	return n;
}

static void test_stream_generic(void **state)
{
	(void)state;
	unsigned auth, no_via;
	assert_int_equal(frame_stream("generic.txt", &auth, &no_via), 227);
	assert_int_equal(no_via, 11); /* its last 11: RFC 5626 §9 */
}

static void test_stream_lioneagle(void **state)
{
	(void)state;
	unsigned auth, no_via;
	assert_int_equal(frame_stream("lioneagle-sipparser.txt", &auth, &no_via), 26);
	assert_int_equal(no_via, 0);
	assert_true(auth > 0); /* IMS REGISTERs with Authorization */
}

/* A stream where a message without Content-Length ends its headers and the
 * next one follows at once: the body is empty (rtckit counts 24 of these in
 * generic.txt). */
static void test_stream_no_content_length(void **state)
{
	(void)state;
	char path[512];
	size_t len;
	snprintf(path, sizeof(path), "%s/parser-suites/rtckit-streams/generic.txt", sw_test_corpus());
	char *data = sw_test_read_file(path, &len);
	assert_non_null(data);
	const struct sw_parse_opts o = { .stream = true };
	size_t off = 0;
	unsigned without = 0;
	while (sw_msg_parse(&msg, data + off, len - off, &o, NULL) == 0) {
		if (!msg.has_content_length) {
			without++;
			assert_int_equal(msg.body.len, 0);
		}
		off += msg.len;
	}
	assert_int_equal(without, 24);
	free(data);
}

/* ---- call flows ---------------------------------------------------------- */

struct flowmsg {
	char file[160];
	unsigned item;
	bool last;       /* the file's last item */
	bool terminated; /* the harness added the empty line */
	char *text;
	size_t len;
};

static struct flowmsg flows[320];
static unsigned nflows;
static unsigned unterminated;

/* "- |+" literal blocks indented by two spaces; '#' lines are comments. The
 * block keeps its line ends (the "+" chomping), each turned into CRLF. */
static void read_yaml(const char *path, const char *name)
{
	size_t len;
	char *y = sw_test_read_file(path, &len);
	if (!y)
		return;
	struct flowmsg *cur = NULL;
	size_t cap = 0;
	unsigned item = 0;
	/* by hand: strtok_r would merge the empty lines */
	for (char *p = y; p < y + len;) {
		char *nl = memchr(p, '\n', (size_t)(y + len - p));
		char *e = nl ? nl : y + len;
		size_t ll = (size_t)(e - p);
		if (ll >= 4 && !strncmp(p, "- |+", 4)) {
			if (nflows < sizeof(flows) / sizeof(flows[0])) {
				cur = &flows[nflows++];
				snprintf(cur->file, sizeof(cur->file), "%s", name);
				cur->item = ++item;
				cap = 1024;
				cur->text = malloc(cap);
				cur->len = 0;
			}
		} else if (cur && (ll == 0 || (ll >= 2 && p[0] == ' ' && p[1] == ' '))) {
			const char *s = ll ? p + 2 : p;
			size_t sl = ll ? ll - 2 : 0;
			if (cur->len + sl + 3 > cap) {
				cap = 2 * (cur->len + sl + 3);
				cur->text = realloc(cur->text, cap);
			}
			memcpy(cur->text + cur->len, s, sl);
			cur->len += sl;
			memcpy(cur->text + cur->len, "\r\n", 2);
			cur->len += 2;
		} else if (ll && p[0] != '#') {
			cur = NULL; /* not a block line: ends the block */
		}
		p = nl ? nl + 1 : y + len;
	}
	if (nflows && !strcmp(flows[nflows - 1].file, name))
		flows[nflows - 1].last = true;
	free(y);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The YAML files under rtckit-callflows/ and one subdirectory level. */
static void read_flows(void)
{
	static const char *const dirs[] = { "", "rfc3327", "rfc3515", "rfc3665", "rfc4916", "rfc5626" };
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/parser-suites/rtckit-callflows/%s", sw_test_corpus(), dirs[d]);
		DIR *dh = opendir(dir);
		if (!dh)
			continue;
		char *names[64];
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(dh)) && n < 64) {
			size_t l = strlen(de->d_name);
			if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml"))
				names[n++] = strdup(de->d_name);
		}
		closedir(dh);
		qsort(names, n, sizeof(names[0]), cmp_name);
		for (size_t i = 0; i < n; i++) {
			char path[1024], rel[160];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			snprintf(rel, sizeof(rel), "%s%s%s", dirs[d], *dirs[d] ? "/" : "", names[i]);
			read_yaml(path, rel);
			free(names[i]);
		}
	}
}

/* A header section without its empty line: terminate it (counted). */
static void terminate(struct flowmsg *f)
{
	if (memmem(f->text, f->len, "\r\n\r\n", 4))
		return;
	f->text = realloc(f->text, f->len + 3);
	memcpy(f->text + f->len, "\r\n", 2);
	f->len += 2;
	f->terminated = true;
	unterminated++;
}

static void test_flows_shape(void **state)
{
	(void)state;
	unsigned files = 0;
	for (unsigned i = 0; i < nflows; i++)
		files += flows[i].item == 1;
	assert_int_equal(files, 29);
	assert_int_equal(nflows, 254);
	/* "|+" keeps one line break after a file's last item: its header
	 * section then ends at the end of the file (rtckit's parser accepts
	 * that), 15 files. And RFC 3665 §3.10's 100 Trying (F4) is transcribed
	 * without its empty line. */
	assert_int_equal(unterminated, 16);
	for (unsigned i = 0; i < nflows; i++)
		if (flows[i].terminated && !flows[i].last) {
			assert_string_equal(flows[i].file, "rfc3665/3.10_unsuccessful-no-response-from-user-agent.yaml");
			assert_memory_equal(flows[i].text, "SIP/2.0 100 Trying\r\n", 20);
		}
}

static unsigned no_via;

static void test_flow(void **state)
{
	struct flowmsg *f = *state;
	struct sw_perr e;
	memset(&e, 0, sizeof(e));
	int rc = sw_test_parse_guarded(f->text, f->len, NULL, &msg, &e);
	if (rc)
		fail_msg("%s #%u does not parse: %s", f->file, f->item, e.what);
	/* Content-Length frames the body; "|+" may keep a blank line after it */
	assert_true(msg.len <= f->len);
	for (size_t i = msg.len; i < f->len; i++)
		assert_true(f->text[i] == '\r' || f->text[i] == '\n');
	rc = sw_msg_check(&msg, &e);
	sw_corpus_exercise(&msg);
	const char *text = f->text;
	size_t len = f->len;
	char *with_via = NULL;
	if (rc && !strncmp(f->file, "rfc5626/9.", 10) && msg.count[SW_HDR_VIA] == 0) {
		/* RFC 5626 §9 leaves Via out: refused for that, fine with one */
		assert_true(sw_str_eq(e.header, "Via"));
		no_via++;
		static const char via[] = "Via: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK-harness\r\n";
		const char *eol = memchr(f->text, '\n', f->len);
		assert_non_null(eol);
		size_t first = (size_t)(eol + 1 - f->text);
		with_via = malloc(f->len + sizeof(via));
		assert_non_null(with_via);
		memcpy(with_via, f->text, first);
		memcpy(with_via + first, via, sizeof(via) - 1);
		memcpy(with_via + first + sizeof(via) - 1, f->text + first, f->len - first);
		text = with_via;
		len = f->len + sizeof(via) - 1;
		sw_test_guard_release();
		rc = sw_test_parse_guarded(text, len, NULL, &msg, &e);
		if (rc == 0)
			rc = sw_msg_check(&msg, &e);
	}
	if (rc) {
		char t[256];
		fail_msg("%s #%u does not check: %s", f->file, f->item, sw_perr_format(&e, t, sizeof(t)));
	}
	sw_corpus_round_trip(&msg);
	sw_test_guard_release();
	assert_int_equal(sw_test_feed_bytewise(text, len), 0);
	free(with_via);
}

/* What a registrar reads from RFC 3665 §2.1: the 401 challenge and the
 * answering REGISTER (its response value has 31 hex digits, the RFC's known
 * typo: a digest validator must refuse its length; the parser keeps it). */
static void test_rfc3665_registration(void **state)
{
	(void)state;
	const struct flowmsg *chal = NULL, *reg = NULL;
	for (unsigned i = 0; i < nflows; i++)
		if (!strcmp(flows[i].file, "rfc3665/2.01_sip-client-new-registration.yaml")) {
			if (flows[i].item == 2)
				chal = &flows[i];
			if (flows[i].item == 3)
				reg = &flows[i];
		}
	assert_non_null(chal);
	assert_non_null(reg);
	struct sw_auth a;
	assert_int_equal(sw_msg_parse(&msg, chal->text, chal->len, NULL, NULL), 0);
	assert_int_equal(msg.status, 401);
	const struct sw_hdr *h = sw_msg_hdr(&msg, SW_HDR_WWW_AUTHENTICATE);
	assert_non_null(h);
	assert_int_equal(sw_auth_parse(&a, h->value, NULL), 0);
	assert_true(a.is_digest);
	assert_true(sw_str_eq(a.realm, "atlanta.example.com"));
	assert_true(sw_str_eq(a.qop, "auth"));
	assert_true(sw_str_eq(a.nonce, "ea9c8e88df84f1cec4341ae6cbe5a359"));
	assert_true(sw_str_eq(a.opaque, ""));
	assert_true(sw_str_eq(a.stale, "FALSE"));
	assert_true(sw_str_eq(a.algorithm, "MD5"));
	assert_false(a.quoted_mask & SW_AUTH_P_ALGORITHM);
	assert_true(a.quoted_mask & SW_AUTH_P_QOP);

	assert_int_equal(sw_msg_parse(&msg, reg->text, reg->len, NULL, NULL), 0);
	assert_int_equal(msg.method_id, SW_METHOD_REGISTER);
	h = sw_msg_hdr(&msg, SW_HDR_AUTHORIZATION);
	assert_non_null(h);
	assert_int_equal(sw_auth_parse(&a, h->value, NULL), 0);
	assert_true(sw_str_eq(a.username, "bob"));
	assert_true(sw_str_eq(a.uri, "sips:ss2.biloxi.example.com"));
	/* the RFC's answer omits qop, nc and cnonce although the challenge
	 * offered qop="auth" (RFC 2617 §3.2.2 says they must be sent then) */
	assert_null(a.qop.p);
	assert_null(a.nc.p);
	assert_null(a.cnonce.p);
	assert_true(sw_str_eq(a.response, "dfe56131d1958046689d83306477ecc"));
	assert_int_equal(a.response.len, 31);
	assert_null(a.next.p);
}

static void test_rfc5626_no_via(void **state)
{
	(void)state;
	assert_int_equal(no_via, 11);
}

int main(void)
{
	read_flows();
	for (unsigned i = 0; i < nflows; i++)
		terminate(&flows[i]);
	static struct CMUnitTest tests[400];
	static char names[320][200];
	size_t n = 0;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_stream_generic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_stream_lioneagle);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_stream_no_content_length);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flows_shape);
	for (unsigned i = 0; i < nflows; i++) {
		snprintf(names[i], sizeof(names[i]), "%s #%u", flows[i].file, flows[i].item);
		tests[n++] = (struct CMUnitTest){ .name = names[i], .test_func = test_flow, .initial_state = &flows[i] };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rfc5626_no_via);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rfc3665_registration);
	int rc = _cmocka_run_group_tests("corpus_rtckit", tests, n, NULL, NULL);
	for (unsigned i = 0; i < nflows; i++)
		free(flows[i].text);
	return rc;
}
