/* Listen specs, address formatting, UDP/TCP sockets, stream framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "sipwarden/transport.h"

static void test_listen_parse(void **state)
{
	(void)state;
	struct sw_listen l;
	char why[128], text[64];
	assert_int_equal(sw_listen_parse("udp:127.0.0.1:5060", &l, why, sizeof(why)), 0);
	assert_int_equal(l.tp, SW_TP_UDP);
	assert_string_equal(sw_sockaddr_format((struct sockaddr *)&l.addr, text, sizeof(text)), "127.0.0.1:5060");
	assert_int_equal(sw_listen_parse("TCP:[::1]:5070", &l, why, sizeof(why)), 0);
	assert_int_equal(l.tp, SW_TP_TCP);
	assert_string_equal(sw_sockaddr_format((struct sockaddr *)&l.addr, text, sizeof(text)), "[::1]:5070");
	assert_string_equal(sw_sockaddr_host((struct sockaddr *)&l.addr, text, sizeof(text)), "::1");
	assert_int_equal(sw_listen_parse("tls:0.0.0.0", &l, why, sizeof(why)), 0);
	assert_int_equal(sw_sockaddr_port((struct sockaddr *)&l.addr), 5061);
	assert_int_equal(sw_listen_parse("udp:[::]", &l, why, sizeof(why)), 0);
	assert_int_equal(sw_sockaddr_port((struct sockaddr *)&l.addr), 5060);

	static const char *const bad[] = { "127.0.0.1:5060", "sctp:1.2.3.4", "udp:", "udp:host.example.com",
					   "udp:1.2.3.4:0", "udp:1.2.3.4:65536", "udp:1.2.3.4:x", "udp:[::1",
					   "udp:[::1]5060", "udp:::1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (sw_listen_parse(bad[i], &l, why, sizeof(why)) != SW_EINVAL)
			fail_msg("'%s' should be refused", bad[i]);
		assert_non_null(strstr(why, bad[i]));
	}
	struct sw_listen a, b;
	sw_listen_parse("udp:127.0.0.1:5060", &a, NULL, 0);
	sw_listen_parse("tcp:127.0.0.1:5060", &b, NULL, 0);
	assert_true(sw_sockaddr_equal((struct sockaddr *)&a.addr, (struct sockaddr *)&b.addr));
	sw_listen_parse("udp:127.0.0.1:5061", &b, NULL, 0);
	assert_false(sw_sockaddr_equal((struct sockaddr *)&a.addr, (struct sockaddr *)&b.addr));
}

/* the hand-made IPv4 formatting agrees with inet_ntop on every octet width */
static void test_host_ipv4(void **state)
{
	(void)state;
	static const char *const addrs[] = { "0.0.0.0", "255.255.255.255", "10.0.100.9", "192.168.1.10",
					     "1.22.103.99", "127.0.0.1", "100.10.1.0" };
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		assert_int_equal(inet_pton(AF_INET, addrs[i], &sin.sin_addr), 1);
		char text[INET_ADDRSTRLEN];
		assert_string_equal(sw_sockaddr_host((struct sockaddr *)&sin, text, sizeof(text)), addrs[i]);
	}
	for (unsigned v = 0; v < 256; v++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		sin.sin_addr.s_addr = htonl(v << 24 | v << 16 | (255 - v) << 8 | v);
		char mine[INET_ADDRSTRLEN], ref[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sin.sin_addr, ref, sizeof(ref));
		assert_string_equal(sw_sockaddr_host((struct sockaddr *)&sin, mine, sizeof(mine)), ref);
	}
	char small[8];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(0xC0A80101u);
	sw_sockaddr_host((struct sockaddr *)&sin, small, sizeof(small)); /* too small: never overruns */
	assert_true(strlen(small) < sizeof(small));
}

static void test_sockets(void **state)
{
	(void)state;
	struct sw_listen l;
	int u1, u2, t;
	/* an ephemeral-looking fixed port on loopback; SO_REUSEPORT lets two bind */
	assert_int_equal(sw_listen_parse("udp:127.0.0.1:35999", &l, NULL, 0), 0);
	assert_int_equal(sw_udp_open(&l, true, &u1), 0);
	assert_int_equal(sw_udp_open(&l, true, &u2), 0);
	close(u2);
	assert_int_equal(sw_udp_open(&l, false, &u2), SW_EIO); /* busy without reuseport */
	close(u1);
	assert_int_equal(sw_listen_parse("tcp:[::1]:35999", &l, NULL, 0), 0);
	int rc = sw_tcp_listen(&l, false, &t);
	if (rc == 0)
		close(t); /* IPv6 may be off in a sandbox; the IPv4 path is tested above */
}

static const char msg1[] = "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: 3\r\n\r\nabc";
static const char msg2[] = "REGISTER sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nl: 0\r\n\r\n";

/* Feeds `in` in chunks of `chunk` bytes; collects message lengths. */
static int feed(const char *in, size_t n, size_t chunk, size_t *lens, int max, unsigned *pings)
{
	char buf[512];
	struct sw_stream s;
	sw_stream_init(&s, buf, sizeof(buf));
	int got = 0;
	for (size_t off = 0; off < n; off += chunk) {
		size_t room, k = n - off < chunk ? n - off : chunk;
		char *dst = sw_stream_space(&s, &room);
		assert_true(room >= k);
		memcpy(dst, in + off, k);
		sw_stream_added(&s, k);
		const char *m;
		size_t len;
		int rc;
		while ((rc = sw_stream_next(&s, &m, &len)) == 1) {
			assert_true(got < max);
			lens[got++] = len;
		}
		assert_int_equal(rc, 0);
	}
	*pings = s.pings;
	return got;
}

static void test_stream_framing(void **state)
{
	(void)state;
	char in[1024];
	int n = snprintf(in, sizeof(in), "\r\n\r\n%s\r\n%s\r\n\r\n%s", msg1, msg2, msg1);
	for (size_t chunk = 1; chunk <= (size_t)n; chunk++) {
		size_t lens[8];
		unsigned pings;
		int got = feed(in, (size_t)n, chunk, lens, 8, &pings);
		if (got != 3)
			fail_msg("chunk %zu: %d messages", chunk, got);
		assert_int_equal(lens[0], sizeof(msg1) - 1);
		assert_int_equal(lens[1], sizeof(msg2) - 1);
		assert_int_equal(lens[2], sizeof(msg1) - 1);
		assert_int_equal(pings, 2);
	}
}

static void test_stream_limits(void **state)
{
	(void)state;
	char buf[64];
	struct sw_stream s;
	const char *m;
	size_t len, room;
	sw_stream_init(&s, buf, sizeof(buf));
	char *dst = sw_stream_space(&s, &room);
	memcpy(dst, msg1, room); /* 64 bytes of a longer message: cannot fit */
	sw_stream_added(&s, room);
	assert_int_equal(sw_stream_next(&s, &m, &len), SW_ETOOBIG);

	sw_stream_init(&s, buf, sizeof(buf));
	static const char junk[] = "GARBAGE GARBAGE\r\n\r\n";
	dst = sw_stream_space(&s, &room);
	memcpy(dst, junk, sizeof(junk) - 1);
	sw_stream_added(&s, sizeof(junk) - 1);
	assert_int_equal(sw_stream_next(&s, &m, &len), SW_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_host_ipv4),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_stream_framing),
		cmocka_unit_test(test_stream_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
