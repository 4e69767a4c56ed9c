/* The proxy's transaction layer with a fake clock and a capturing
 * transport: every timer (A, B, C, D, E, F, G, H, I, J, K, M), forking in q
 * groups, the response context (best response, 2xx at once, 6xx, 401/407
 * aggregation, 503 -> 500), CANCEL before and after a provisional,
 * retransmissions and out-of-order responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proxy/ptx.h"

#define MAXLOG 256

struct sent {
	char buf[2048];
	size_t len;
	unsigned target_port; /* downstream: the flow's port; upstream: 0 */
};

static struct sent down[MAXLOG], up[MAXLOG];
static unsigned ndown, nup, fail_port, finals, last_final;
static struct sw_px *PX;

static int cap_send(void *ctx, const struct sw_flow *to, const char *buf, size_t len, uint64_t token)
{
	(void)ctx;
	(void)token;
	unsigned port = (unsigned)sw_sockaddr_port((const struct sockaddr *)&to->addr);
	if (port == fail_port)
		return SW_EIO;
	assert_true(ndown < MAXLOG && len < sizeof(down[0].buf));
	memcpy(down[ndown].buf, buf, len);
	down[ndown].buf[len] = '\0';
	down[ndown].len = len;
	down[ndown++].target_port = port;
	return 0;
}

static void cap_reply(void *ctx, const struct sw_ptx *t, const char *buf, size_t len)
{
	(void)ctx;
	(void)t;
	assert_true(nup < MAXLOG && len < sizeof(up[0].buf));
	memcpy(up[nup].buf, buf, len);
	up[nup].buf[len] = '\0';
	up[nup++].len = len;
}

static int cap_build(void *ctx, struct sw_ptx *t, unsigned target, const char *branch, struct sw_buf *b)
{
	(void)ctx;
	struct sw_msg m;
	assert_int_equal(sw_msg_parse(&m, t->req, t->req_len, NULL, NULL), 0);
	sw_buf_addf(b, "%.*s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n", (int)m.method.len,
		    m.method.p, t->targets[target].uri, branch);
	for (unsigned i = 0; i < m.nhdrs; i++)
		if (m.hdrs[i].id != SW_HDR_CONTENT_LENGTH)
			sw_print_header(b, sw_hdr_name(m.hdrs[i].id), m.hdrs[i].value);
	return sw_print_end(b, SW_STR_NULL);
}

static int cap_local(void *ctx, struct sw_ptx *t, unsigned status, struct sw_buf *b)
{
	(void)ctx;
	struct sw_msg m;
	assert_int_equal(sw_msg_parse(&m, t->req, t->req_len, NULL, NULL), 0);
	sw_print_response_start(b, &m, status, NULL, SW_STR_LIT("localtag"));
	return sw_print_end(b, SW_STR_NULL);
}

static void cap_final(void *ctx, struct sw_ptx *t, unsigned status, const struct sw_msg *resp)
{
	(void)ctx;
	(void)t;
	(void)resp;
	finals++;
	last_final = status;
}

static int setup(void **state)
{
	(void)state;
	ndown = nup = fail_port = finals = last_final = 0;
	struct sw_px_io io = { cap_send, cap_reply, cap_build, cap_local, cap_final, NULL, NULL };
	return sw_px_new(&PX, &io, 3, 64);
}

static int teardown(void **state)
{
	(void)state;
	sw_px_free(PX);
	return 0;
}

static char REQ[4096];
static uint32_t timer_c = 10000;
static struct sw_msg RM;

/* A request from upstream; returns its transaction. */
static struct sw_ptx *begin(const char *method, const char *branch, bool tcp, uint64_t now)
{
	int n = snprintf(REQ, sizeof(REQ),
			 "%s sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=%s\r\n"
			 "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\n"
			 "CSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", method, branch, method);
	assert_int_equal(sw_msg_parse(&RM, REQ, (size_t)n, NULL, NULL), 0);
	struct sw_txn_key key;
	assert_int_equal(sw_px_key(&RM, false, &key), 0);
	struct sw_peer from = { .tp = tcp ? SW_TP_TCP : SW_TP_UDP };
	struct sw_ptx *t = sw_px_begin(PX, &RM, &key, &from, true, timer_c, now);
	assert_non_null(t);
	return t;
}

static void target(struct sw_ptx *t, unsigned port, uint16_t q, bool tcp)
{
	struct sw_flow f = { .tp = tcp ? SW_TP_TCP : SW_TP_UDP, .conn_id = 1 };
	assert_int_equal(sw_sockaddr_from("127.0.0.1", (int)port, &f.addr, &f.addrlen), 0);
	char uri[64];
	snprintf(uri, sizeof(uri), "sip:bob@127.0.0.1:%u", port);
	assert_int_equal(sw_px_add_target(t, uri, NULL, &f, q), 0);
}

/* A response from downstream to the request sent in down[k]. */
static int respond(unsigned k, unsigned status, const char *totag, uint64_t now)
{
	struct sw_msg m;
	assert_int_equal(sw_msg_parse(&m, down[k].buf, down[k].len, NULL, NULL), 0);
	const struct sw_hdr *via = sw_msg_hdr(&m, SW_HDR_VIA), *cseq = sw_msg_hdr(&m, SW_HDR_CSEQ);
	char buf[2048];
	int n = snprintf(buf, sizeof(buf),
			 "SIP/2.0 %u X\r\nVia: %.*s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=up\r\n"
			 "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>%s%s\r\nCall-ID: c1\r\n"
			 "CSeq: %.*s\r\n%sContent-Length: 0\r\n\r\n",
			 status, (int)via->value.len, via->value.p, totag ? ";tag=" : "", totag ? totag : "",
			 (int)cseq->value.len, cseq->value.p,
			 status == 407 ? "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n" : "");
	struct sw_msg r;
	assert_int_equal(sw_msg_parse(&r, buf, (size_t)n, NULL, NULL), 0);
	return sw_px_response(PX, &r, now);
}

static unsigned status_of(const struct sent *s)
{
	unsigned st = 0;
	sscanf(s->buf, "SIP/2.0 %u", &st);
	return st;
}

static bool starts(const struct sent *s, const char *p)
{
	return !strncmp(s->buf, p, strlen(p));
}

static void run(uint64_t from, uint64_t to)
{
	for (uint64_t t = from; t <= to; t += 10)
		sw_px_tick(PX, t);
}

static void test_invite_answered(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKa", false, 0);
	assert_int_equal(nup, 1);
	assert_int_equal(status_of(&up[0]), 100); /* 100 Trying at once */
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	assert_int_equal(ndown, 1);
	assert_true(starts(&down[0], "INVITE sip:bob@127.0.0.1:7001"));
	assert_non_null(strstr(down[0].buf, "z9hG4bKswp03"));
	run(0, 1600); /* Timer A: 500, then 1000 later */
	assert_int_equal(ndown, 3);
	sw_px_retransmission(PX, t); /* the caller retransmits: the 100 again */
	assert_int_equal(status_of(&up[nup - 1]), 100);
	assert_int_equal(respond(0, 180, "b1", 1700), 1);
	assert_int_equal(status_of(&up[nup - 1]), 180);
	assert_null(strstr(up[nup - 1].buf, "z9hG4bKswp")); /* our Via removed */
	run(1700, 10000); /* no more retransmissions after a provisional */
	assert_int_equal(ndown, 3);
	assert_int_equal(respond(0, 200, "b1", 10000), 1);
	assert_int_equal(status_of(&up[nup - 1]), 200);
	assert_int_equal(finals, 2); /* the 180 (a call rings), then the 200 */
	assert_int_equal(last_final, 200);
	unsigned n = nup;
	assert_int_equal(respond(0, 200, "b1", 10500), 1); /* a 2xx retransmission passes (RFC 6026) */
	assert_int_equal(nup, n + 1);
	assert_int_equal(respond(0, 180, "b1", 10600), 1); /* late provisional: not after a final */
	assert_int_equal(nup, n + 1);
	assert_int_equal(sw_px_count(PX), 1);
	run(10000, 10000 + 64 * SW_T1 + 100); /* Timer L and M */
	assert_int_equal(sw_px_count(PX), 0);
}

static void test_invite_timer_b(void **state)
{
	(void)state;
	timer_c = SW_TIMER_C_DEFAULT; /* Timer B, not C, ends this one */
	struct sw_ptx *t = begin("INVITE", "z9hG4bKb", false, 0);
	timer_c = 10000;
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	run(0, 64 * SW_T1 - 10);
	/* A doubles without a cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s */
	assert_int_equal(ndown, 7);
	assert_int_equal(nup, 1);
	run(64 * SW_T1, 64 * SW_T1 + 10);
	assert_int_equal(status_of(&up[nup - 1]), 408);
	assert_int_equal(last_final, 408);
	/* Timer G re-sends the 408 until the ACK */
	unsigned n = nup;
	run(64 * SW_T1 + 20, 64 * SW_T1 + 600);
	assert_int_equal(nup, n + 1);
	struct sw_txn_key key;
	char ack[512];
	int len = snprintf(ack, sizeof(ack),
			   "ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKb\r\n"
			   "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=localtag\r\n"
			   "Call-ID: c1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
	struct sw_msg am;
	assert_int_equal(sw_msg_parse(&am, ack, (size_t)len, NULL, NULL), 0);
	assert_int_equal(sw_px_key(&am, false, &key), 0);
	assert_ptr_equal(sw_px_find(PX, &key), t); /* the ACK matches the INVITE */
	sw_px_ack(PX, t, 64 * SW_T1 + 600);
	n = nup;
	run(64 * SW_T1 + 600, 64 * SW_T1 + 600 + SW_T4 + 100); /* Timer I, then the end */
	assert_int_equal(nup, n);
	assert_int_equal(sw_px_count(PX), 0);
}

static void test_non_invite_timers(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("MESSAGE", "z9hG4bKm", false, 0);
	assert_int_equal(nup, 0); /* no 100 for a non-INVITE */
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	/* Timer E: 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s */
	run(0, 7600);
	assert_int_equal(ndown, 5);
	run(7610, 11600);
	assert_int_equal(ndown, 6);
	run(11610, 64 * SW_T1 + 10); /* Timer F */
	assert_int_equal(status_of(&up[nup - 1]), 408);
	sw_px_retransmission(PX, t); /* Timer J: the 408 again */
	assert_int_equal(status_of(&up[nup - 1]), 408);
	run(64 * SW_T1 + 20, 2 * 64 * SW_T1 + 100);
	assert_int_equal(sw_px_count(PX), 0);
}

static void test_non_invite_answered_tcp(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("MESSAGE", "z9hG4bKm2", true, 0);
	target(t, 7001, 1000, true);
	sw_px_start(PX, t, 0);
	run(0, 5000);
	assert_int_equal(ndown, 1); /* reliable: no retransmissions */
	assert_int_equal(respond(0, 202, "b", 5000), 1);
	assert_int_equal(status_of(&up[nup - 1]), 202);
	sw_px_tick(PX, 5010); /* Timer K = 0 on TCP, and no J upstream */
	assert_int_equal(sw_px_count(PX), 0);
}

static void test_busy_ack_hop_by_hop(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKc", false, 0);
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(0, 486, "b2", 100), 1);
	assert_int_equal(ndown, 2);
	assert_true(starts(&down[1], "ACK sip:bob@127.0.0.1:7001"));
	assert_non_null(strstr(down[1].buf, "tag=b2"));
	assert_non_null(strstr(down[1].buf, "CSeq: 1 ACK"));
	assert_int_equal(status_of(&up[nup - 1]), 486);
	unsigned n = nup;
	assert_int_equal(respond(0, 486, "b2", 600), 1); /* retransmitted: ACK again, not forwarded */
	assert_int_equal(ndown, 3);
	assert_true(starts(&down[2], "ACK "));
	assert_int_equal(nup, n);
	assert_int_equal(finals, 1);
}

static void test_parallel_fork(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKd", true, 0);
	target(t, 7001, 1000, true);
	target(t, 7002, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(ndown, 2); /* equal q: both at once */
	assert_int_equal(respond(0, 180, "x", 100), 1);
	assert_int_equal(respond(1, 180, "y", 120), 1);
	assert_int_equal(respond(1, 200, "y", 300), 1);
	assert_int_equal(status_of(&up[nup - 1]), 200);
	/* the other branch is cancelled */
	assert_int_equal(ndown, 3);
	assert_true(starts(&down[2], "CANCEL sip:bob@127.0.0.1:7001"));
	assert_int_equal(down[2].target_port, 7001);
	assert_int_equal(respond(2, 200, "x", 310), 1); /* 200 for the CANCEL */
	unsigned n = nup;
	assert_int_equal(respond(0, 487, "x", 320), 1); /* its 487: acknowledged, not forwarded */
	assert_true(starts(&down[3], "ACK "));
	assert_int_equal(nup, n);
}

/* more than ten branches: a two-digit branch index still finds its branch */
static void test_many_branches(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKmany", true, 0);
	for (unsigned i = 0; i < 12; i++)
		target(t, 7001 + i, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(ndown, 12);
	assert_non_null(strstr(down[11].buf, ".11\r\n"));
	assert_int_equal(respond(11, 200, "y", 100), 1);
	assert_int_equal(status_of(&up[nup - 1]), 200);
}

static void test_serial_fork(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKe", true, 0);
	target(t, 7002, 500, true);
	target(t, 7001, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(ndown, 1);
	assert_int_equal(down[0].target_port, 7001); /* highest q first */
	assert_int_equal(respond(0, 480, "x", 100), 1);
	assert_int_equal(ndown, 3); /* ACK, then the next group */
	assert_int_equal(down[2].target_port, 7002);
	assert_int_equal(nup, 1);  /* the 480 is not forwarded while others remain */
	assert_int_equal(respond(2, 200, "y", 200), 1);
	assert_int_equal(status_of(&up[nup - 1]), 200);
}

static void test_cancel_after_provisional(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKf", false, 0);
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(0, 180, "x", 100), 1);
	sw_px_cancel(PX, t, 200);
	assert_true(starts(&down[ndown - 1], "CANCEL "));
	assert_non_null(strstr(down[ndown - 1].buf, "CSeq: 1 CANCEL"));
	unsigned k = ndown - 1;
	run(200, 800); /* the CANCEL is retransmitted (Timer E) while unanswered */
	assert_true(starts(&down[ndown - 1], "CANCEL "));
	assert_true(ndown > k + 1);
	assert_int_equal(respond(k, 200, "x", 900), 1);
	unsigned n = ndown;
	run(900, 3000);
	assert_int_equal(ndown, n); /* answered: no more */
	assert_int_equal(respond(0, 487, "x", 3000), 1);
	assert_int_equal(status_of(&up[nup - 1]), 487);
	assert_int_equal(last_final, 487);
}

static void test_cancel_before_provisional(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKg", false, 0);
	target(t, 7001, 1000, false);
	sw_px_start(PX, t, 0);
	sw_px_cancel(PX, t, 100);
	assert_int_equal(ndown, 1); /* §9.1: no CANCEL before a provisional */
	assert_int_equal(respond(0, 100, NULL, 200), 1);
	assert_true(starts(&down[ndown - 1], "CANCEL "));
}

static void test_timer_c(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKh", true, 0); /* Timer C 10 s here */
	target(t, 7001, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(0, 180, "x", 5000), 1); /* resets Timer C */
	run(5000, 14900);
	assert_int_equal(ndown, 1);
	run(14910, 15100);
	assert_true(starts(&down[ndown - 1], "CANCEL "));
	assert_int_equal(respond(0, 487, "x", 15200), 1);
	assert_true(starts(&down[ndown - 1], "ACK ")); /* the 487 is acknowledged ... */
	assert_int_equal(status_of(&up[nup - 1]), 408); /* ... and the caller hears 408 */
}

static void test_timer_c_no_provisional(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKh2", true, 0);
	target(t, 7001, 1000, true);
	sw_px_start(PX, t, 0);
	run(0, 10100); /* no provisional on TCP within Timer C: 408 */
	assert_int_equal(status_of(&up[nup - 1]), 408);
}

static void test_6xx_cancels(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKi", true, 0);
	target(t, 7001, 1000, true);
	target(t, 7002, 1000, true);
	target(t, 7003, 500, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(1, 180, "y", 50), 1);
	assert_int_equal(respond(0, 603, "x", 100), 1);
	assert_true(starts(&down[ndown - 1], "CANCEL sip:bob@127.0.0.1:7002"));
	assert_int_equal(respond(1, 487, "y", 200), 1);
	assert_int_equal(status_of(&up[nup - 1]), 603); /* 6xx beats 487, no next group */
	for (unsigned i = 0; i < ndown; i++)
		assert_int_not_equal(down[i].target_port, 7003);
}

static void test_auth_aggregated_and_503(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKj", true, 0);
	target(t, 7001, 1000, true);
	target(t, 7002, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(0, 407, "x", 100), 1);
	assert_int_equal(respond(1, 407, "y", 100), 1);
	assert_int_equal(status_of(&up[nup - 1]), 407);
	const char *p = strstr(up[nup - 1].buf, "Proxy-Authenticate");
	assert_non_null(p);
	assert_non_null(strstr(p + 1, "Proxy-Authenticate")); /* both challenges */
	teardown(NULL);
	setup(NULL);
	t = begin("INVITE", "z9hG4bKk", true, 0);
	target(t, 7001, 1000, true);
	sw_px_start(PX, t, 0);
	assert_int_equal(respond(0, 503, "x", 100), 1);
	assert_int_equal(status_of(&up[nup - 1]), 500); /* §16.7: never a 503 upstream */
}

static void test_transport_error(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKl", false, 0);
	target(t, 7009, 1000, false);
	target(t, 7001, 500, false);
	fail_port = 7009;
	sw_px_start(PX, t, 0);
	/* the first target failed at once: the next one is tried */
	assert_int_equal(ndown, 1);
	assert_int_equal(down[0].target_port, 7001);
	assert_int_equal(t->br[0].status, 1);
	assert_int_equal(respond(0, 404, "x", 100), 1);
	assert_int_equal(status_of(&up[nup - 1]), 404);
	/* a later transport error (handed-on send) for an unknown token is ignored */
	sw_px_transport_error(PX, 0xffffffffull << 32, 200);
}

static void test_all_unreachable(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKn", false, 0);
	target(t, 7009, 1000, false);
	fail_port = 7009;
	sw_px_start(PX, t, 0);
	assert_int_equal(status_of(&up[nup - 1]), 480);
	assert_int_equal(last_final, 480);
}

static void test_stray_and_foreign(void **state)
{
	(void)state;
	char buf[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKother\r\n"
		     "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
	struct sw_msg m;
	assert_int_equal(sw_msg_parse(&m, buf, sizeof(buf) - 1, NULL, NULL), 0);
	assert_int_equal(sw_px_response(PX, &m, 0), 0);
	assert_int_equal(sw_px_branch_worker(&m), -1);
	char ours[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKswp0100000005000000ff.0-1\r\n"
		      "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
	assert_int_equal(sw_msg_parse(&m, ours, sizeof(ours) - 1, NULL, NULL), 0);
	assert_int_equal(sw_px_branch_worker(&m), 1);
	assert_int_equal(sw_px_response(PX, &m, 0), 0); /* another worker's, or gone */
}

static void test_cancel_key(void **state)
{
	(void)state;
	struct sw_ptx *t = begin("INVITE", "z9hG4bKq", false, 0);
	char c[512];
	int n = snprintf(c, sizeof(c),
			 "CANCEL sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKq\r\n"
			 "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\n"
			 "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n");
	struct sw_msg m;
	struct sw_txn_key k;
	assert_int_equal(sw_msg_parse(&m, c, (size_t)n, NULL, NULL), 0);
	assert_int_equal(sw_px_key(&m, true, &k), 0);
	assert_ptr_equal(sw_px_find(PX, &k), t);
	assert_int_equal(sw_px_key(&m, false, &k), 0);
	assert_null(sw_px_find(PX, &k));
}

static void test_table_full(void **state)
{
	(void)state;
	char br[32];
	for (unsigned i = 0; i < 64; i++) {
		snprintf(br, sizeof(br), "z9hG4bKfull%u", i);
		begin("MESSAGE", br, true, 0);
	}
	struct sw_txn_key key;
	int n = snprintf(REQ, sizeof(REQ),
			 "MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
			 "From: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: y\r\nCSeq: 1 MESSAGE\r\n\r\n");
	assert_int_equal(sw_msg_parse(&RM, REQ, (size_t)n, NULL, NULL), 0);
	assert_int_equal(sw_px_key(&RM, false, &key), 0);
	struct sw_peer from = { .tp = SW_TP_UDP };
	assert_null(sw_px_begin(PX, &RM, &key, &from, false, 0, 0));
}

/* Timer C's entries outlive the calls (3 minutes against 32 s of Timer L):
 * the heap drops them and gives the room back once the calls have ended. */
static void test_heap_follows_live(void **state)
{
	(void)state;
	sw_px_free(PX);
	struct sw_px_io io = { cap_send, cap_reply, cap_build, cap_local, cap_final, NULL, NULL };
	assert_int_equal(sw_px_new(&PX, &io, 3, 8192), 0);
	size_t idle = sw_px_memory(PX);
	uint32_t c = timer_c;
	timer_c = 180000;
	char br[32];
	for (unsigned i = 0; i < 5000; i++) {
		ndown = nup = 0;
		snprintf(br, sizeof(br), "z9hG4bKheap%u", i);
		struct sw_ptx *t = begin("INVITE", br, false, i);
		target(t, 7001, 1000, false);
		sw_px_start(PX, t, i);
		assert_int_equal(respond(0, 180, "b1", i), 1);  /* earliest timer: C */
		assert_int_equal(respond(0, 200, "b1", i), 1);  /* now L and M: C's entry is stale */
	}
	timer_c = c;
	assert_int_equal(sw_px_count(PX), 5000);
	size_t busy = sw_px_memory(PX);
	run(5000, 5000 + 64 * SW_T1 + 100); /* every call's Timer L fires */
	assert_int_equal(sw_px_count(PX), 0);
	size_t after = sw_px_memory(PX);
	/* the slots stay at their peak (8,192 of 24 bytes, from 1,024); the heap
	 * (none at the start) is back to its least, 1,024 entries of 16 bytes */
	assert_true(after < busy);
	assert_int_equal(after - idle, (8192 - 1024) * 24 + 1024 * 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invite_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_timer_b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_invite_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_invite_answered_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_ack_hop_by_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_branches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_after_provisional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_provisional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_c_no_provisional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_6xx_cancels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_aggregated_and_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_and_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heap_follows_live, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
