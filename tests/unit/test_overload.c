/* UDP overload control (lib/server/overload.c): what counts as new work on
 * the raw bytes, and when a worker sheds it — only new work, only once the
 * queue delay has stood above the target for the interval (a burst or a CPU
 * quota's pause is not overload), never work that completes a registration,
 * until a read finds the socket empty; the kernel's drop counter; the
 * Retry-After range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/common.h"
#include "server/server_int.h"

static const char reg_new[] = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\r\n"
			      "To: <sip:alice@example.com>\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
			      "Call-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
static const char reg_auth[] = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKb\r\n"
			       "To: <sip:alice@example.com>\r\nauthorization : Digest username=\"alice\"\r\n"
			       "Call-ID: x\r\nCSeq: 2 REGISTER\r\n\r\n";
static const char invite_proxy_auth[] = "INVITE sip:bob@example.com SIP/2.0\r\nProxy-Authorization: Digest x\r\n\r\n";
static const char bye_in_dialog[] = "BYE sip:bob@1.2.3.4 SIP/2.0\r\nt: <sip:bob@example.com>;TAG=9\r\n\r\n";
static const char invite_new[] = "INVITE sip:bob@example.com SIP/2.0\r\nt: <sip:bob@example.com>\r\n"
				 "X-Tag: ;tag=after-the-headers-end\r\n";
static const char after_body[] = "OPTIONS sip:example.com SIP/2.0\r\nTo: <sip:x@y>\r\n\r\nAuthorization: in the body\r\n";

static void classify(void **state)
{
	(void)state;
	assert_true(sw__ovl_is_new(reg_new, strlen(reg_new)));
	assert_false(sw__ovl_is_new(reg_auth, strlen(reg_auth)));
	assert_false(sw__ovl_is_new(invite_proxy_auth, strlen(invite_proxy_auth)));
	assert_false(sw__ovl_is_new(bye_in_dialog, strlen(bye_in_dialog)));
	assert_true(sw__ovl_is_new(invite_new, strlen(invite_new)));
	assert_true(sw__ovl_is_new(after_body, strlen(after_body))); /* the body is not a header */
	assert_false(sw__ovl_is_new("SIP/2.0 200 OK\r\n\r\n", 17));
	assert_false(sw__ovl_is_new("ACK sip:x SIP/2.0\r\n\r\n", 21));
	assert_false(sw__ovl_is_new("CANCEL sip:x SIP/2.0\r\n\r\n", 24));
	assert_false(sw__ovl_is_new("abc", 3));
	assert_true(sw__ovl_is_new("REGISTER sip:x SIP/2.0", 22)); /* no headers at all */
}

static uint64_t real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void shed_when_standing(void **state)
{
	(void)state;
	struct sw_server_cfg cfg = { .overload_enabled = true, .overload_delay_ms = 20, .retry_after = 4,
				     .retry_after_max = 60 };
	struct sw__ovl o;
	sw__ovl_init(&o, &cfg, 42);
	uint32_t retry = 0, drops = 0;
	const size_t n = strlen(reg_new);
	/* fresh datagrams: never shed */
	for (int i = 0; i < 100; i++)
		assert_false(sw__ovl_judge(&o, real_now(), real_now(), drops, reg_new, n, &retry));
	/* a delay over the target, but not yet for the whole interval: a burst */
	uint64_t old = real_now() - 50000000ull;
	assert_false(sw__ovl_judge(&o, real_now(), old, drops, reg_new, n, &retry));
	assert_false(o.overloaded);
	usleep(120000);
	/* it stood for 100 ms: new work that waited too long is shed... */
	old = real_now() - 50000000ull;
	assert_true(sw__ovl_judge(&o, real_now(), old, drops, reg_new, n, &retry));
	assert_true(retry >= 4 && retry < 8);
	/* ...work that completes a registration never is... */
	assert_false(sw__ovl_judge(&o, real_now(), old, drops, reg_auth, strlen(reg_auth), &retry));
	assert_false(sw__ovl_judge(&o, real_now(), old, drops, "SIP/2.0 180 Ringing\r\n\r\n", 23, &retry));
	/* ...and new work that came in under the target is taken */
	assert_false(sw__ovl_judge(&o, real_now(), real_now(), drops, reg_new, n, &retry));
	assert_true(o.overloaded);
	assert_int_equal(o.shed, 1);
	/* the socket was found empty: no standing queue any more */
	sw__ovl_drained(&o);
	assert_false(sw__ovl_judge(&o, real_now(), real_now() - 50000000ull, drops, reg_new, n, &retry));
	/* the kernel dropped datagrams: overloaded at once */
	assert_false(sw__ovl_judge(&o, real_now(), real_now(), 0, reg_new, n, &retry));
	assert_false(o.overloaded);
	assert_true(sw__ovl_judge(&o, real_now(), real_now() - 30000000ull, 5, reg_new, n, &retry));
	assert_true(o.overloaded);
	assert_int_equal(o.kernel_drops, 5);
	/* switched off: nothing is shed */
	cfg.overload_enabled = false;
	sw__ovl_init(&o, &cfg, 42);
	assert_false(sw__ovl_judge(&o, real_now(), 1, 99, reg_new, n, &retry));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify),
		cmocka_unit_test(shed_when_standing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
