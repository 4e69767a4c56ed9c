/* The doctor's network findings on canned answers (NAT, SIP ALG), the UDP
 * size probe against a fake path that drops large datagrams, and the
 * report: exit codes, order, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/doctor.h"

static struct sw_doctor_report *R;

static int setup(void **state)
{
	(void)state;
	R = calloc(1, sizeof(*R));
	return R ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	free(R);
	return 0;
}

#define SENT_VIA "SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKabc;rport;swc=canary1"
#define SENT_CONTACT "<sip:alice@192.168.1.10:5070;transport=udp;swc=canary1>"

static const char *resp(const char *via, const char *contacts)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
		 "To: <sip:alice@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n%s"
		 "Content-Length: 0\r\n\r\n", via, contacts);
	return buf;
}

static void test_nat(void **state)
{
	(void)state;
	const char *r = resp(SENT_VIA, "");
	assert_false(sw_doctor_check_nat(r, strlen(r), "192.168.1.10", 5070, R));
	r = resp("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKabc;rport=5070;received=192.168.1.10;swc=canary1", "");
	assert_false(sw_doctor_check_nat(r, strlen(r), "192.168.1.10", 5070, R));
	assert_int_equal(R->nfindings, 0);
	r = resp("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKabc;rport=40123;received=203.0.113.5;swc=canary1", "");
	assert_true(sw_doctor_check_nat(r, strlen(r), "192.168.1.10", 5070, R));
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_NAT_DETECTED);
	assert_non_null(f);
	assert_false(f->problem);
	assert_non_null(strstr(f->observed, "203.0.113.5:40123"));
	assert_non_null(strstr(f->evidence, "received=203.0.113.5"));
	assert_non_null(strstr(f->detail, "keep-alive"));
	/* only the port moved (a NAT that keeps the address: rare but real) */
	memset(R, 0, sizeof(*R));
	r = resp("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKabc;rport=6000;received=2001:db8::1", "");
	assert_true(sw_doctor_check_nat(r, strlen(r), "[2001:db8::1]", 5070, R));
}

static void test_alg(void **state)
{
	(void)state;
	/* as sent: no finding, with other bindings around */
	const char *r = resp(SENT_VIA ";received=203.0.113.5;rport=4000",
			     "Contact: <sip:alice@10.0.0.9:5060>;expires=20, " SENT_CONTACT ";expires=60\r\n");
	assert_false(sw_doctor_check_alg(r, strlen(r), SENT_VIA, SENT_CONTACT, "canary1", R));
	/* a registrar that drops unknown URI parameters but keeps the address */
	r = resp(SENT_VIA, "Contact: <sip:alice@192.168.1.10:5070;transport=udp>;expires=60\r\n");
	assert_false(sw_doctor_check_alg(r, strlen(r), SENT_VIA, SENT_CONTACT, "canary1", R));
	assert_int_equal(R->nfindings, 0);
	/* the Contact rewritten to the public address: an ALG */
	r = resp(SENT_VIA, "Contact: <sip:alice@203.0.113.5:4000;transport=udp;swc=canary1>;expires=60\r\n");
	assert_true(sw_doctor_check_alg(r, strlen(r), SENT_VIA, SENT_CONTACT, "canary1", R));
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_SIP_ALG_SUSPECTED);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(f->evidence, "sent   Contact: " SENT_CONTACT));
	assert_non_null(strstr(f->evidence, "answer Contact: <sip:alice@203.0.113.5:4000"));
	/* the Via sent-by rewritten */
	memset(R, 0, sizeof(*R));
	r = resp("SIP/2.0/UDP 203.0.113.5:4000;branch=z9hG4bKabc;rport;swc=canary1", "Contact: " SENT_CONTACT "\r\n");
	assert_true(sw_doctor_check_alg(r, strlen(r), SENT_VIA, SENT_CONTACT, "canary1", R));
	f = sw_doctor_find(R, SW_CAUSE_SIP_ALG_SUSPECTED);
	assert_non_null(strstr(f->observed, "Via"));
	assert_non_null(strstr(f->evidence, "answer Via: SIP/2.0/UDP 203.0.113.5:4000"));
	/* the canary stripped from the Via and the Contact replaced */
	memset(R, 0, sizeof(*R));
	r = resp("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKabc;rport",
		 "Contact: <sip:alice@203.0.113.5:4000>;expires=60\r\n");
	assert_true(sw_doctor_check_alg(r, strlen(r), SENT_VIA, SENT_CONTACT, "canary1", R));
	assert_non_null(strstr(sw_doctor_find(R, SW_CAUSE_SIP_ALG_SUSPECTED)->detail, "Contact was changed"));
}

/* A path that answers OPTIONS up to `limit` bytes and drops larger ones. */
struct path {
	size_t limit;
	unsigned sent;
};

static int path_exchange(void *self, const char *req, size_t len, char *out, size_t cap, size_t *rlen)
{
	struct path *p = self;
	p->sent++;
	assert_non_null(strstr(req, "OPTIONS "));
	if (len > p->limit)
		return SW_DX_TIMEOUT;
	const char *ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKx\r\n"
			 "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n";
	assert_true(strlen(ok) < cap);
	memcpy(out, ok, strlen(ok));
	*rlen = strlen(ok);
	return SW_DX_ANSWER;
}

static void test_sizes(void **state)
{
	(void)state;
	struct sw_doctor_cfg cfg = { .user = "alice", .domain = "example.com", .domain_port = -1 };
	struct path p = { .limit = 1450 };
	struct sw_doctor_io io = { .exchange = path_exchange, .self = &p, .tp = SW_TP_UDP,
				   .local_host = "192.0.2.10", .local_port = 5070, .peer = "192.0.2.1:5060" };
	size_t largest = sw_doctor_probe_sizes(&io, &cfg, 1500, R);
	assert_int_equal(largest, 1400);
	assert_int_equal(p.sent, 4); /* 500, 1000, 1400 answered; 1600 lost: stop */
	struct sw_doctor_finding *f = sw_doctor_find(R, SW_CAUSE_UDP_FRAGMENTATION);
	assert_non_null(f);
	assert_true(f->problem);
	assert_non_null(strstr(f->observed, "1600 bytes"));
	assert_non_null(strstr(f->detail, "1500 bytes"));
	/* the REGISTER fits: only a note */
	memset(R, 0, sizeof(*R));
	p.sent = 0;
	assert_int_equal(sw_doctor_probe_sizes(&io, &cfg, 900, R), 1400);
	assert_int_equal(R->nfindings, 0);
	assert_non_null(strstr(R->notes[0], "lost at 1600"));
	/* everything passes */
	memset(R, 0, sizeof(*R));
	p.limit = 100000;
	assert_int_equal(sw_doctor_probe_sizes(&io, &cfg, 1500, R), SW_DOCTOR_FRAG_MAX);
	assert_int_equal(R->nfindings, 0);
}

static void test_report(void **state)
{
	(void)state;
	snprintf(R->aor, sizeof(R->aor), "sip:alice@example.com");
	R->registered = true;
	R->granted = 300;
	assert_int_equal(sw_doctor_exit_code(R), 0);
	struct sw_doctor_finding *f = sw_doctor_add(R, SW_CAUSE_NAT_DETECTED, "seen as %s", "203.0.113.5:4000");
	assert_false(f->problem);
	assert_int_equal(sw_doctor_exit_code(R), 0);
	f = sw_doctor_add(R, SW_CAUSE_EXPIRES_TOO_BRIEF, "60 s refused");
	f->problem = true;
	sw_doctor_evidence(f, "SIP/2.0 423 Interval Too Brief");
	sw_doctor_evidence(f, "Min-Expires: 300 \"quoted\"\t");
	assert_ptr_equal(sw_doctor_add(R, SW_CAUSE_EXPIRES_TOO_BRIEF, "again"), f);
	assert_int_equal(R->nfindings, 2);
	assert_int_equal(sw_doctor_exit_code(R), 1);
	static char out[65536];
	struct sw_buf b;
	sw_buf_init(&b, out, sizeof(out));
	sw_doctor_render_text(&b, R);
	assert_int_equal(sw_buf_status(&b), 0);
	const char *t = sw_buf_cstr(&b);
	/* the problem first, then the warning */
	assert_non_null(strstr(t, "[problem] expires-too-brief: 60 s refused"));
	assert_true(strstr(t, "expires-too-brief") < strstr(t, "nat-detected"));
	assert_non_null(strstr(t, "    | Min-Expires: 300"));
	sw_buf_init(&b, out, sizeof(out));
	sw_doctor_render_json(&b, R);
	t = sw_buf_cstr(&b);
	assert_non_null(strstr(t, "\"verdict\":\"works-with-problems\",\"exit_code\":1"));
	assert_non_null(strstr(t, "\"evidence\":[\"SIP/2.0 423 Interval Too Brief\",\"Min-Expires: 300 \\\"quoted\\\"\\t\"]"));
	assert_true(strstr(t, "\"id\":\"expires-too-brief\"") < strstr(t, "\"id\":\"nat-detected\""));
	/* full: further findings are dropped, not overflowing */
	for (unsigned i = 0; i < SW_CAUSE__COUNT; i++)
		sw_doctor_add(R, (enum sw_cause)i, "x");
	assert_int_equal(R->nfindings, SW_DOCTOR_MAX_FINDINGS);
	sw_doctor_cannot_run(R, "no network");
	assert_int_equal(sw_doctor_exit_code(R), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	};
	return cmocka_run_group_tests_name("doctor_network", tests, NULL, NULL);
}
