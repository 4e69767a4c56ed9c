/* The ban table (lib/ban): networks, each limit, the known-source rule
 * (50 phones behind one NAT), an IPv6 source as its /64, escalation and its
 * cap, expiry, the allowlist and a reload, the first-event bookkeeping, the
 * store round trip (a restart, `ban add/del` from another process), scanner
 * hints, and several threads at once. Times are passed in, so nothing here
 * sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/ban.h"
#include "sipwarden/store.h"

#define T0 1800000000 /* a fixed "now" */

/* A socket address by value whose bytes are an array member: sa(ip).b
 * decays to a pointer that lives to the end of the full expression. */
struct addr {
	union {
		struct sockaddr_storage ss;
		unsigned char b[sizeof(struct sockaddr_storage)];
	};
};

static struct addr sa(const char *ip)
{
	struct addr a;
	struct sockaddr_storage *sp = &a.ss, ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	*sp = ss;
	return a;
}

#define SA(ip) ((const struct sockaddr *)sa(ip).b)

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

static struct sw_ban *new_ban(struct sw_ban_cfg *c)
{
	struct sw_ban *b;
	assert_int_equal(sw_ban_new(&b, c), 0);
	return b;
}

/* n failures of user from ip at now; returns how many started a ban */
static unsigned failures(struct sw_ban *b, const char *ip, const char *user, unsigned n, int64_t now,
		     struct sw_ban_note *last)
{
	unsigned started = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sw_ban_note note;
		if (sw_ban_observe(b, SA(ip), S(user), SW_CAUSE_WRONG_PASSWORD, now, &note)) {
			started++;
			if (last)
				*last = note;
		}
	}
	return started;
}

static int count(void *arg, const struct sw_ban_record *r)
{
	(void)r;
	(*(unsigned *)arg)++;
	return 0;
}

static void test_prefix(void **state)
{
	(void)state;
	struct sw_prefix p, one;
	char t[64];
	assert_int_equal(sw_prefix_parse("192.0.2.0/24", &p), 0);
	assert_int_equal(p.bits, 24);
	assert_int_equal(sw_prefix_parse("192.0.2.77", &one), 0);
	assert_true(sw_prefix_contains(&p, &one));
	assert_int_equal(sw_prefix_parse("192.0.3.1", &one), 0);
	assert_false(sw_prefix_contains(&p, &one));
	assert_int_equal(sw_prefix_parse("192.0.2.1/24", &p), SW_EINVAL); /* host bits */
	assert_int_equal(sw_prefix_parse("192.0.2.0/33", &p), SW_EINVAL);
	assert_int_equal(sw_prefix_parse("example.com", &p), SW_EINVAL);
	assert_int_equal(sw_prefix_parse("2001:db8::/32", &p), 0);
	assert_int_equal(sw_prefix_parse("[2001:db8:0:1::5]", &one), 0);
	assert_true(sw_prefix_contains(&p, &one));
	sw_prefix_format(&p, t, sizeof(t));
	assert_string_equal(t, "2001:db8::/32");
	/* an IPv4-mapped source matches an IPv4 network */
	assert_int_equal(sw_prefix_parse("10.0.0.0/8", &p), 0);
	assert_int_equal(sw_prefix_from_sockaddr(SA("::ffff:10.1.2.3"), &one), 0);
	assert_true(sw_prefix_contains(&p, &one));
	sw_prefix_format(&one, t, sizeof(t));
	assert_string_equal(t, "10.1.2.3");
}

static void test_user_failures_unknown_source(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	assert_int_equal(failures(b, "198.51.100.9", "1000", c.user_failures - 1, T0, NULL), 0);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.9"), NULL, T0, NULL), SW_BAN_PASS);
	assert_int_equal(failures(b, "198.51.100.9", "1000", 1, T0 + 5, &note), 1);
	assert_true(note.log);
	assert_non_null(strstr(note.detail, "limit user_failures: 10 failed authentications of user '1000'"));
	assert_non_null(strstr(note.detail, "banned for 10m"));
	/* the whole address: any user, no user */
	assert_int_equal(sw_ban_check(b, SA("198.51.100.9"), NULL, T0 + 6, NULL), SW_BAN_DROP);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.9"), "other", T0 + 6, NULL), SW_BAN_DROP);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.10"), NULL, T0 + 6, NULL), SW_BAN_PASS);
	/* failures spread over more than the window never add up */
	assert_int_equal(failures(b, "198.51.100.20", "1000", 9, T0, NULL), 0);
	assert_int_equal(failures(b, "198.51.100.20", "1000", 9, T0 + c.window, NULL), 0);
	/* expiry: the ban ends on its own */
	assert_int_equal(sw_ban_check(b, SA("198.51.100.9"), NULL, T0 + 5 + 600, NULL), SW_BAN_PASS);
	sw_ban_free(b);
}

/* 50 phones behind one NAT address, one with a wrong password */
static void test_nat_no_collateral(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	const char *nat = "203.0.113.5";
	for (unsigned i = 0; i < 49; i++) {
		char u[16];
		snprintf(u, sizeof(u), "%u", 2000 + i);
		assert_false(sw_ban_observe(b, SA(nat), S(u), SW_CAUSE_NO_CREDENTIALS, T0, &note));
		assert_false(sw_ban_observe(b, SA(nat), S(u), SW_CAUSE_OK, T0, &note));
	}
	assert_int_equal(failures(b, nat, "2049", 30, T0 + 1, &note), 1);
	assert_non_null(strstr(note.detail, "only this user is banned"));
	/* the 49 others pass; the bad one is refused; a request without
	 * credentials cannot be told apart, so it passes */
	assert_int_equal(sw_ban_check(b, SA(nat), NULL, T0 + 2, NULL), SW_BAN_NEED_USER);
	assert_int_equal(sw_ban_check(b, SA(nat), "2000", T0 + 2, NULL), SW_BAN_PASS);
	assert_int_equal(sw_ban_check(b, SA(nat), "2048", T0 + 2, NULL), SW_BAN_PASS);
	assert_int_equal(sw_ban_check(b, SA(nat), "2049", T0 + 2, NULL), SW_BAN_DROP);
	/* many failing users from a known source (one valid account spraying
	 * guesses): past distinct_users, each further one is banned at its first
	 * failure, the address never */
	for (unsigned i = 0; i < 20; i++) {
		char u[16];
		snprintf(u, sizeof(u), "x%u", i);
		/* 2049 counted first: x0..x3 make 5, x4 on are banned at once */
		assert_int_equal(failures(b, nat, u, 1, T0 + 3, &note), i >= c.distinct_users - 1);
	}
	assert_non_null(strstr(note.detail, "'x19' is banned at its first failure, the address is not"));
	assert_int_equal(sw_ban_check(b, SA(nat), "x3", T0 + 3, NULL), SW_BAN_PASS);
	assert_int_equal(sw_ban_check(b, SA(nat), "x4", T0 + 3, NULL), SW_BAN_DROP);
	/* ... and floods from it ban nothing */
	for (unsigned i = 0; i < 2 * c.flood_requests; i++)
		assert_false(sw_ban_observe(b, SA(nat), S(""), SW_CAUSE_NO_CREDENTIALS, T0 + 3, &note));
	assert_int_equal(sw_ban_check(b, SA(nat), "2000", T0 + 3, NULL), SW_BAN_PASS);
	/* once nobody succeeded for known_for, the address is on its own again */
	int64_t later = T0 + c.known_for + 10;
	assert_int_equal(failures(b, nat, "2049", c.user_failures, later, &note), 1);
	assert_int_equal(sw_ban_check(b, SA(nat), "2000", later, NULL), SW_BAN_DROP);
	sw_ban_free(b);
}

static void test_distinct_users_and_flood(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	for (unsigned i = 0; i + 1 < c.distinct_users; i++) {
		char u[16];
		snprintf(u, sizeof(u), "u%u", i);
		assert_int_equal(failures(b, "192.0.2.1", u, 2, T0, NULL), 0);
	}
	assert_int_equal(failures(b, "192.0.2.1", "last", 1, T0 + 1, &note), 1);
	assert_non_null(strstr(note.detail, "limit distinct_users: 5 different users"));
	assert_int_equal(sw_ban_check(b, SA("192.0.2.1"), NULL, T0 + 1, NULL), SW_BAN_DROP);
	/* flood: requests without credentials from an unknown source */
	unsigned started = 0;
	for (unsigned i = 0; i < c.flood_requests; i++)
		started += sw_ban_observe(b, SA("192.0.2.2"), S(""), SW_CAUSE_NO_CREDENTIALS, T0, &note);
	assert_int_equal(started, 1);
	assert_non_null(strstr(note.detail, "limit flood_requests: 200 requests"));
	/* decisions that do not count (another cause class) never ban */
	for (unsigned i = 0; i < 1000; i++)
		assert_false(sw_ban_observe(b, SA("192.0.2.3"), S("a"), SW_CAUSE_SERVER_ERROR, T0, &note));
	assert_int_equal(sw_ban_classify(SW_CAUSE_WRONG_PASSWORD), SW_BAN_FAILURE);
	assert_int_equal(sw_ban_classify(SW_CAUSE_OK), SW_BAN_SUCCESS);
	assert_int_equal(sw_ban_classify(SW_CAUSE_NO_CREDENTIALS), SW_BAN_UNAUTH);
	sw_ban_free(b);
}

/* IPv6: a source is its /64, where an attacker picks any address */
static void test_ipv6_unit(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	char ip[64];
	for (unsigned i = 0; i + 1 < c.user_failures; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:1:2::%x", i + 1);
		assert_int_equal(failures(b, ip, "1000", 1, T0, NULL), 0);
	}
	assert_int_equal(failures(b, "2001:db8:1:2:ffff::1", "1000", 1, T0, &note), 1);
	assert_int_equal(sw_ban_check(b, SA("2001:db8:1:2:abcd::99"), NULL, T0, NULL), SW_BAN_DROP);
	assert_int_equal(sw_ban_check(b, SA("2001:db8:1:3::1"), NULL, T0, NULL), SW_BAN_PASS);
	/* the store gets the /64; a ban on one IPv6 address (by hand) is a network */
	struct sw_store *st;
	assert_int_equal(sw_store_open(&st, "memory:", NULL), 0);
	assert_int_equal(sw_ban_sync(b, st, T0), 0);
	struct sw_ban_record r = { .addr = "2001:db8:9::7", .prefix = 128, .created = T0, .reason = "one" };
	assert_int_equal(sw_store_bans_put(st, &r, 1, NULL, NULL), 0);
	assert_int_equal(sw_ban_sync(b, st, T0), 0);
	assert_int_equal(sw_ban_check(b, SA("2001:db8:9::7"), NULL, T0, NULL), SW_BAN_DROP);
	assert_int_equal(sw_ban_check(b, SA("2001:db8:9::8"), NULL, T0, NULL), SW_BAN_PASS);
	unsigned n = 0;
	assert_int_equal(sw_store_ban_list(st, T0, count, &n), 0);
	assert_int_equal(n, 2);
	size_t del = 0;
	assert_int_equal(sw_store_ban_del(st, "2001:db8:1:2::", 64, &del), 0);
	assert_int_equal(del, 1);
	sw_store_close(st);
	sw_ban_free(b);
}

static void test_escalation(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	int64_t now = T0, len = c.ban_time;
	for (unsigned level = 0; level < 14; level++) {
		assert_int_equal(failures(b, "192.0.2.9", "1000", c.user_failures, now, &note), 1);
		assert_int_equal(sw_ban_check(b, SA("192.0.2.9"), NULL, now + len - 1, NULL), SW_BAN_DROP);
		assert_int_equal(sw_ban_check(b, SA("192.0.2.9"), NULL, now + len, NULL), SW_BAN_PASS);
		char ord[16];
		snprintf(ord, sizeof(ord), "(ban %u)", level + 1);
		assert_non_null(strstr(note.detail, ord));
		now += len;
		len = len * 2 > c.ban_max_time ? c.ban_max_time : len * 2; /* doubling, capped */
	}
	assert_int_equal(len, 7 * 86400);
	/* forgiven after a quiet ban_max_time: back to the first length */
	now += c.ban_max_time + 1;
	assert_int_equal(failures(b, "192.0.2.9", "1000", c.user_failures, now, &note), 1);
	assert_non_null(strstr(note.detail, "banned for 10m"));
	sw_ban_free(b);
}

static void test_allowlist_and_reject(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	c.reject = true;
	assert_int_equal(sw_prefix_parse("10.0.0.0/8", &c.allow[0]), 0);
	c.nallow = 1;
	struct sw_ban *b = new_ban(&c);
	assert_int_equal(failures(b, "10.9.9.9", "1000", 100, T0, NULL), 0);
	assert_int_equal(sw_ban_check(b, SA("10.9.9.9"), NULL, T0, NULL), SW_BAN_PASS);
	assert_int_equal(failures(b, "11.9.9.9", "1000", 100, T0, NULL), 1);
	assert_int_equal(sw_ban_check(b, SA("11.9.9.9"), NULL, T0, NULL), SW_BAN_REJECT);
	struct sw_ban_stats st;
	sw_ban_stats(b, T0, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.rejected, 1);
	/* a reload (SIGHUP): the allowlist and the action change for the next request */
	struct sw_ban_cfg c2 = c;
	c2.reject = false;
	assert_int_equal(sw_prefix_parse("11.0.0.0/8", &c2.allow[1]), 0);
	c2.nallow = 2;
	assert_int_equal(sw_ban_reconfigure(b, &c2), 0);
	assert_int_equal(sw_ban_check(b, SA("11.9.9.9"), NULL, T0, NULL), SW_BAN_PASS);
	c2.nallow = 1;
	c2.user_failures = 3;
	assert_int_equal(sw_ban_reconfigure(b, &c2), 0);
	assert_int_equal(sw_ban_check(b, SA("11.9.9.9"), NULL, T0, NULL), SW_BAN_DROP);
	assert_int_equal(failures(b, "12.9.9.9", "1000", 3, T0, NULL), 1);
	sw_ban_free(b);
	/* disabled: nothing is ever banned */
	c.enabled = false;
	b = new_ban(&c);
	assert_int_equal(failures(b, "11.9.9.9", "1000", 100, T0, NULL), 0);
	sw_ban_free(b);
}

/* The store round trip, on both backends. */
static void store_round_trip(const char *spec)
{
	struct sw_store *st;
	struct sw_store_opts so = { .create = true };
	assert_int_equal(sw_store_open(&st, spec, &so), 0);
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	struct sw_ban_note note;
	assert_int_equal(sw_ban_sync(b, st, T0), 0);
	assert_int_equal(failures(b, "192.0.2.50", "1000", c.user_failures, T0, NULL), 1);
	assert_int_equal(sw_ban_sync(b, st, T0), 0);
	unsigned n = 0;
	assert_int_equal(sw_store_ban_list(st, T0, count, &n), 0);
	assert_int_equal(n, 1);
	/* another process adds a network ban and a single address */
	struct sw_ban_record r = { .addr = "198.51.100.0", .prefix = 24, .created = T0, .until = 0,
				   .reason = "test" };
	assert_int_equal(sw_store_bans_put(st, &r, 1, NULL, NULL), 0);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.77"), NULL, T0, NULL), SW_BAN_PASS);
	assert_int_equal(sw_ban_sync(b, st, T0), 0);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.77"), NULL, T0, &note), SW_BAN_DROP);
	assert_true(note.log); /* the first refusal of a ban is logged ... */
	assert_non_null(strstr(note.detail, "until deleted: test"));
	assert_int_equal(sw_ban_check(b, SA("198.51.100.78"), NULL, T0 + 1, &note), SW_BAN_DROP);
	assert_false(note.log); /* ... then at most one a minute, with the count */
	assert_int_equal(sw_ban_check(b, SA("198.51.100.78"), NULL, T0 + 61, &note), SW_BAN_DROP);
	assert_true(note.log);
	assert_non_null(strstr(note.detail, "2 requests refused in the last 61s"));
	/* a restart: a new table loads both from the store */
	struct sw_ban *b2 = new_ban(&c);
	assert_int_equal(sw_ban_sync(b2, st, T0 + 2), 0);
	assert_int_equal(sw_ban_check(b2, SA("192.0.2.50"), NULL, T0 + 2, NULL), SW_BAN_DROP);
	assert_int_equal(sw_ban_check(b2, SA("198.51.100.1"), NULL, T0 + 2, NULL), SW_BAN_DROP);
	/* another process deletes them: both tables let the sources in again */
	size_t del = 0;
	assert_int_equal(sw_store_ban_del(st, "198.51.100.0", 24, &del), 0);
	assert_int_equal(del, 1);
	assert_int_equal(sw_store_ban_del(st, "192.0.2.50", 32, &del), 0);
	assert_int_equal(sw_ban_sync(b, st, T0 + 3), 0);
	assert_int_equal(sw_ban_sync(b2, st, T0 + 3), 0);
	assert_int_equal(sw_ban_check(b, SA("198.51.100.77"), NULL, T0 + 3, NULL), SW_BAN_PASS);
	assert_int_equal(sw_ban_check(b2, SA("192.0.2.50"), NULL, T0 + 3, NULL), SW_BAN_PASS);
	/* bad records are refused by the store */
	struct sw_ban_record bad = { .addr = "192.0.2.1", .prefix = 24 };
	assert_int_equal(sw_store_bans_put(st, &bad, 1, NULL, NULL), SW_EINVAL);
	snprintf(bad.addr, sizeof(bad.addr), "010.0.0.1");
	bad.prefix = 32;
	assert_int_equal(sw_store_bans_put(st, &bad, 1, NULL, NULL), SW_EINVAL);
	sw_ban_free(b);
	sw_ban_free(b2);
	sw_store_close(st);
}

static void test_store_memory(void **state)
{
	(void)state;
	store_round_trip("memory:");
}

static void test_store_sqlite(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_ban.XXXXXX", spec[128], path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "sqlite:%s/b.db", dir);
	store_round_trip(spec);
	const char *files[] = { "b.db", "b.db-wal", "b.db-shm", "b.db-events", "b.db-events-wal",
				"b.db-events-shm" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		remove(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_scanner_hint(void **state)
{
	(void)state;
	static const char vicious[] =
		"REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1234567;rport\r\n"
		"Max-Forwards: 70\r\nTo: <sip:100@127.0.0.1>\r\nFrom: <sip:100@127.0.0.1>;tag=1\r\n"
		"User-Agent: friendly-scanner\r\nCall-ID: 1\r\nContact: sip:123@1.1.1.1\r\n"
		"CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
	static const char phone[] =
		"REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKab12cd;rport\r\n"
		"Max-Forwards: 70\r\nTo: <sip:100@127.0.0.1>\r\nFrom: <sip:100@127.0.0.1>;tag=1\r\n"
		"User-Agent: Yealink SIP-T46S\r\nCall-ID: 1\r\nContact: <sip:100@192.168.1.9:5060>\r\n"
		"CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
	struct sw_msg *m = malloc(sizeof(*m));
	char hint[128];
	assert_non_null(m);
	assert_int_equal(sw_msg_parse(m, vicious, strlen(vicious), NULL, NULL), 0);
	assert_true(sw_ban_scanner_hint(m, hint, sizeof(hint)));
	assert_string_equal(hint, "User-Agent 'friendly-scanner' is SIPVicious's");
	/* the same shape with another User-Agent still gives a hint */
	char other[sizeof(vicious) + 8];
	snprintf(other, sizeof(other), "%s", vicious);
	memcpy(strstr(other, "friendly-scanner"), "Zoiper 5.6.1    ", 16);
	assert_int_equal(sw_msg_parse(m, other, strlen(other), NULL, NULL), 0);
	assert_true(sw_ban_scanner_hint(m, hint, sizeof(hint)));
	assert_non_null(strstr(hint, "SIPVicious's default"));
	assert_int_equal(sw_msg_parse(m, phone, strlen(phone), NULL, NULL), 0);
	assert_false(sw_ban_scanner_hint(m, hint, sizeof(hint)));
	free(m);
}

/* Several threads feeding and checking at once (ThreadSanitizer in make
 * test), with more sources than the counters hold: memory stays bounded
 * and every repeated offender is banned. */
struct worker {
	struct sw_ban *b;
	unsigned id, started;
};

static void *feed(void *arg)
{
	struct worker *w = arg;
	struct sw_ban_note note;
	for (unsigned i = 0; i < 20000; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", w->id, (i / 250) % 250, i % 250);
		sw_ban_observe(w->b, SA(ip), S("u"), SW_CAUSE_NO_CREDENTIALS, T0, &note);
		sw_ban_check(w->b, SA(ip), NULL, T0, NULL);
	}
	for (unsigned i = 0; i < 50; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "172.16.%u.%u", w->id, i);
		w->started += failures(w->b, ip, "1000", 10, T0, NULL);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b = new_ban(&c);
	pthread_t t[4];
	struct worker w[4];
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ b, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, feed, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].started, 50);
	}
	struct sw_ban_stats st;
	sw_ban_stats(b, T0, &st);
	assert_int_equal(st.active, 200);
	assert_int_equal(sw_ban_check(b, SA("172.16.3.49"), NULL, T0, NULL), SW_BAN_DROP);
	sw_ban_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_user_failures_unknown_source),
		cmocka_unit_test(test_nat_no_collateral),
		cmocka_unit_test(test_distinct_users_and_flood),
		cmocka_unit_test(test_ipv6_unit),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_allowlist_and_reject),
		cmocka_unit_test(test_store_memory),
		cmocka_unit_test(test_store_sqlite),
		cmocka_unit_test(test_scanner_hint),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
