/* The PROTOS c07-sip robustness suite ($SW_CORPUS/parser-suites/
 * protos-c07-sip, see its MANIFEST): 4527 INVITE cases, each mutating one
 * element of the valid case 0. The expected outcome is PROTOS's: no crash,
 * no hang, no memory error (this runs under ASan/UBSan). Every case is
 * parsed at a guard page in datagram mode, checked, put through every
 * accessor, the printer and, when it is accepted, the round trip; the INVITE
 * and its teardown request are also framed as one TCP stream.
 *
 * The cases come from cases.tar.gz, extracted with tar(1) into a temporary
 * directory that is removed at the end. Placeholders are substituted as the
 * MANIFEST says, <Content-Length> last, with the real body length. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/msg.h"
#include "helper_feed.h"
#include "corpus_check.h"

#define NCASES 4527u

static char tmpdir[64];
static struct sw_msg msg;

/* ---- extraction and substitution ---------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sw-protos-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "tar xzf '%s/parser-suites/protos-c07-sip/cases.tar.gz' -C '%s'",
		 sw_test_corpus(), tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot extract the PROTOS cases: %s\n", cmd);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

struct sub {
	const char *name;
	const char *value;
};

/* Replaces every placeholder of subs in [p, p+n) into a malloc'd string. */
static char *substitute(const char *p, size_t n, const struct sub *subs, size_t nsubs, size_t *outlen)
{
	size_t cap = n + 1024, o = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	for (size_t i = 0; i < n;) {
		const struct sub *hit = NULL;
		if (p[i] == '<')
			for (size_t k = 0; k < nsubs && !hit; k++) {
				size_t l = strlen(subs[k].name);
				if (n - i >= l && !memcmp(p + i, subs[k].name, l))
					hit = &subs[k];
			}
		const char *src = hit ? hit->value : p + i;
		size_t sl = hit ? strlen(hit->value) : 1;
		if (o + sl + 1 > cap) {
			cap = 2 * cap + sl;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + o, src, sl);
		o += sl;
		i += hit ? strlen(hit->name) : 1;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* "<N> SP <N bytes>": the next template of a case file. */
static bool next_template(const char **p, const char *end, const char **tpl, size_t *len)
{
	const char *q = *p;
	size_t n = 0;
	if (q >= end || *q < '0' || *q > '9')
		return false;
	while (q < end && *q >= '0' && *q <= '9' && n < (1u << 30))
		n = n * 10 + (size_t)(*q++ - '0');
	if (q >= end || *q != ' ' || (size_t)(end - q - 1) < n)
		return false;
	*tpl = q + 1;
	*len = n;
	*p = q + 1 + n;
	return true;
}

struct prepared {
	char *invite, *teardown;
	size_t invite_len, teardown_len;
};

static void prepare(unsigned n, struct prepared *out)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/cases/%07u", tmpdir, n);
	size_t len;
	char *raw = sw_test_read_file(path, &len);
	if (!raw)
		fail_msg("cannot read %s", path);
	const char *p = raw, *end = raw + len, *t1, *t2;
	size_t l1, l2;
	assert_true(next_template(&p, end, &t1, &l1));
	assert_true(next_template(&p, end, &t2, &l2));
	assert_ptr_equal(p, end);

	char branch[16], callid[32];
	snprintf(branch, sizeof(branch), "%07u", n);
	snprintf(callid, sizeof(callid), "protos-%07u", n);
	const struct sub subs[] = {
		{ "<To>", "sut@192.0.2.1" },
		{ "<From>", "protos@192.0.2.2" },
		{ "<From-Address>", "192.0.2.2" },
		{ "<From-IP>", "192.0.2.2" },
		{ "<Local-Port>", "5060" },
		{ "<Branch-ID>", branch },
		{ "<Call-ID>", callid },
		{ "<CSeq>", "1" },
		{ "<Teardown-Method>", "CANCEL" },
	};
	const size_t nsubs = sizeof(subs) / sizeof(subs[0]);
	size_t il;
	char *inv = substitute(t1, l1, subs, nsubs, &il);
	/* the body starts after the first empty line; no empty line: no body */
	const char *sep = memmem(inv, il, "\r\n\r\n", 4);
	size_t body = sep ? il - (size_t)(sep + 4 - inv) : 0;
	/* the placeholder is in the headers: its own substitution does not
	 * change the body length */
	char cl[32];
	snprintf(cl, sizeof(cl), "%zu", body);
	const struct sub cls[] = { { "<Content-Length>", cl } };
	out->invite = substitute(inv, il, cls, 1, &out->invite_len);
	free(inv);
	out->teardown = substitute(t2, l2, subs, nsubs, &out->teardown_len);
	free(raw);
}

static void release(struct prepared *p)
{
	free(p->invite);
	free(p->teardown);
}

/* ---- running one message ------------------------------------------------ */

struct tally {
	unsigned accepted, rejected, too_big;
};

/* Datagram parse at a guard page, check, accessors, printer. Returns the
 * result of parse + check. */
static int run_one(const char *data, size_t len, struct tally *t)
{
	struct sw_perr e;
	memset(&e, 0, sizeof(e));
	int rc = sw_test_parse_guarded(data, len, NULL, &msg, &e);
	if (rc == 0) {
		assert_true(msg.len <= len);
		assert_true(msg.nhdrs <= SW_MSG_MAX_HEADERS);
		int crc = sw_msg_check(&msg, &e);
		sw_corpus_exercise(&msg);
		if (crc == 0)
			sw_corpus_round_trip(&msg);
		else
			assert_non_null(e.what);
		rc = crc;
	} else {
		/* every refusal says why, and where when it can */
		assert_non_null(e.what);
		assert_true(rc == SW_EPARSE || rc == SW_ETOOBIG);
		if (e.line)
			assert_true(e.col >= 1);
	}
	if (t) {
		t->accepted += rc == 0;
		t->rejected += rc != 0;
		t->too_big += rc == SW_ETOOBIG;
	}
	sw_test_guard_release();
	return rc;
}

/* The INVITE and the teardown back to back, as on a TCP connection: each
 * message framed in turn until the bytes run out or framing fails. Bounded:
 * every step consumes at least one byte. */
static void run_stream(const struct prepared *p)
{
	size_t len = p->invite_len + p->teardown_len;
	char *s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, p->invite, p->invite_len);
	memcpy(s + p->invite_len, p->teardown, p->teardown_len);
	struct sw_parse_opts o = { .stream = true };
	size_t off = 0;
	for (unsigned k = 0; off < len && k < 16; k++) {
		struct sw_perr e;
		int rc = sw_msg_parse(&msg, s + off, len - off, &o, &e);
		if (rc != 0)
			break;
		assert_true(msg.len > 0 && msg.len <= len - off);
		(void)sw_msg_check(&msg, &e);
		off += msg.len;
	}
	free(s);
}

/* ---- the tests ---------------------------------------------------------- */

/* Case 0 is the valid reference INVITE: it parses, checks, and carries what
 * the substitutions put there. */
static void test_case0_valid(void **state)
{
	(void)state;
	struct prepared p;
	prepare(0, &p);
	struct sw_perr e;
	if (sw_msg_parse(&msg, p.invite, p.invite_len, NULL, &e) || sw_msg_check(&msg, &e))
		fail_msg("case 0: %s", e.what);
	assert_int_equal(msg.method_id, SW_METHOD_INVITE);
	assert_int_equal(msg.len, p.invite_len);
	assert_true(msg.has_content_length);
	assert_true(msg.body.len > 0);
	assert_memory_equal(msg.body.p, "v=0\r\n", 5);
	struct sw_via v;
	assert_int_equal(sw_msg_top_via(&msg, &v, NULL), 0);
	assert_true(sw_str_eq(v.host, "192.0.2.2"));
	assert_int_equal(v.port, 5060);
	assert_true(sw_str_eq(v.branch, "z9hG4bK000000000000"));
	struct sw_addr a;
	assert_int_equal(sw_msg_from(&msg, &a, NULL), 0);
	assert_true(sw_str_eq(a.display, "0"));
	assert_true(sw_str_eq(a.tag, "0"));
	assert_true(sw_str_eq(a.uri.host, "192.0.2.2"));
	uint32_t x;
	assert_int_equal(sw_msg_expires(&msg, &x, NULL), 0);
	assert_int_equal(x, 1200);
	assert_int_equal(sw_msg_max_forwards(&msg, &x, NULL), 0);
	assert_int_equal(x, 70);
	sw_corpus_round_trip(&msg);
	/* the teardown (CANCEL) too */
	if (sw_msg_parse(&msg, p.teardown, p.teardown_len, NULL, &e) || sw_msg_check(&msg, &e))
		fail_msg("case 0 teardown: %s", e.what);
	assert_int_equal(msg.method_id, SW_METHOD_CANCEL);
	/* and both as one stream: two messages */
	char *s = malloc(p.invite_len + p.teardown_len);
	assert_non_null(s);
	memcpy(s, p.invite, p.invite_len);
	memcpy(s + p.invite_len, p.teardown, p.teardown_len);
	struct sw_parse_opts o = { .stream = true };
	assert_int_equal(sw_msg_parse(&msg, s, p.invite_len + p.teardown_len, &o, &e), 0);
	assert_int_equal(msg.len, p.invite_len);
	assert_int_equal(sw_msg_parse(&msg, s + p.invite_len, p.teardown_len, &o, &e), 0);
	assert_int_equal(msg.len, p.teardown_len);
	free(s);
	/* every prefix of the INVITE in stream mode */
	assert_int_equal(sw_test_feed_bytewise(p.invite, p.invite_len), 0);
	release(&p);
}

/* All cases, in blocks of 500 so that a failure names a range. */
struct block {
	unsigned first, last;
	char name[48];
};

static struct block blocks[(NCASES + 499) / 500];
static struct tally total;
static int results[NCASES]; /* parse + check of each INVITE; 1 = not run */

static void test_block(void **state)
{
	const struct block *b = *state;
	for (unsigned n = b->first; n <= b->last; n++) {
		struct prepared p;
		prepare(n, &p);
		results[n] = run_one(p.invite, p.invite_len, &total);
		(void)run_one(p.teardown, p.teardown_len, NULL);
		run_stream(&p);
		/* every prefix, one byte at a time, for the smaller cases (the
		 * big ones repeat the same scanning over overflow strings) */
		if (n % 7 == 0 && p.invite_len < 2048)
			assert_int_equal(sw_test_feed_bytewise(p.invite, p.invite_len), 0);
		release(&p);
	}
}

/* groups.tsv: group, first_case, case_count, ... */
static bool group_range(const char *name, unsigned *first, unsigned *count)
{
	char path[512];
	size_t len;
	snprintf(path, sizeof(path), "%s/parser-suites/protos-c07-sip/groups.tsv", sw_test_corpus());
	char *t = sw_test_read_file(path, &len);
	assert_non_null(t);
	bool found = false;
	char *save = NULL;
	for (char *l = strtok_r(t, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
		size_t nl = strlen(name);
		if (!strncmp(l, name, nl) && l[nl] == '\t') {
			char *e;
			*first = (unsigned)strtoul(l + nl + 1, &e, 10);
			*count = (unsigned)strtoul(e + 1, NULL, 10);
			found = true;
		}
	}
	free(t);
	return found;
}

/* Every case was run. Where RFC 3261 refuses every mutation of a group, all
 * its cases were refused: a method other than the CSeq's (§8.1.1.5; RFC 4475
 * §3.1.2.17), a version other than SIP/2.0 (§7.1, 505), a CSeq method other
 * than the request's, and an unbalanced '<' or '>' around a URI (§25.1
 * name-addr). The SDP groups (from case 2437) mutate only the body, which
 * the parser frames but does not read: accepted unless over a size limit.
 * (The groups.tsv MUST_PASS/MUST_FAIL column is rtckit's tolerant judgement
 * and is not asserted: e.g. it wants a request whose To header name is
 * garbage accepted.) */
static void test_summary(void **state)
{
	(void)state;
	fprintf(stderr, "protos: %u INVITEs accepted, %u rejected (%u over a size limit)\n",
		total.accepted, total.rejected, total.too_big);
	assert_int_equal(total.accepted + total.rejected, NCASES);
	for (unsigned n = 0; n < NCASES; n++)
		assert_int_not_equal(results[n], 1);
	assert_int_equal(results[0], 0);
	assert_true(total.too_big > 0);
	static const char *const refused[] = {
		"sip-method", "sip-version", "sip-cseq-string",
		"sip-contact-left-paranthesis", "sip-contact-right-paranthesis",
		"sip-to-left-paranthesis", "sip-to-right-paranthesis",
	};
	for (size_t g = 0; g < sizeof(refused) / sizeof(refused[0]); g++) {
		unsigned first, count;
		assert_true(group_range(refused[g], &first, &count));
		assert_true(count > 0 && first + count <= NCASES);
		for (unsigned n = first; n < first + count; n++)
			if (results[n] == 0)
				fail_msg("case %u (%s) was accepted", n, refused[g]);
	}
	unsigned sdp_first, sdp_count;
	assert_true(group_range("sdp-proto-v-identifier", &sdp_first, &sdp_count));
	assert_int_equal(sdp_first, 2437);
	for (unsigned n = sdp_first; n < NCASES; n++)
		if (results[n] != 0 && results[n] != SW_ETOOBIG)
			fail_msg("case %u (SDP) was refused: %d", n, results[n]);
}

int main(void)
{
	for (unsigned i = 0; i < NCASES; i++)
		results[i] = 1;
	static struct CMUnitTest tests[32];
	size_t n = 0;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_case0_valid);
	for (unsigned i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		struct block *b = &blocks[i];
		b->first = i * 500;
		b->last = b->first + 499 < NCASES - 1 ? b->first + 499 : NCASES - 1;
		snprintf(b->name, sizeof(b->name), "protos cases %04u-%04u", b->first, b->last);
		tests[n++] = (struct CMUnitTest){ .name = b->name, .test_func = test_block, .initial_state = b };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_summary);
	return _cmocka_run_group_tests("corpus_protos", tests, n, setup, teardown);
}
