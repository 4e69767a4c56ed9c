/* What the ban table costs a request: sw_ban_check() with no ban held (the
 * usual case), with 10,000 single-address bans held (a source that is not
 * banned, and one that is), and with a per-user ban on the source (the
 * office behind NAT: the answer needs the username); and sw_ban_observe()
 * for a failing decision. One thread; nanoseconds per call.
 *
 *   build/release/bench/bench_ban [N, default 2000000]
 *
 * Never fails on time. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sipwarden/ban.h"

#define NOW 1800000000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in addr(unsigned a)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(a);
	return s;
}

static void run_check(struct sw_ban *b, const char *what, unsigned ip, const char *user, long n)
{
	struct sockaddr_in s = addr(ip);
	unsigned refused = 0, ask = 0;
	double t = now_s();
	for (long i = 0; i < n; i++) {
		enum sw_ban_verdict v = sw_ban_check(b, (const struct sockaddr *)&s, user, NOW, NULL);
		refused += v == SW_BAN_DROP || v == SW_BAN_REJECT;
		ask += v == SW_BAN_NEED_USER;
	}
	t = now_s() - t;
	printf("%-52s %7.1f ns/call (%u refused, %u asked for the user)\n", what, t / (double)n * 1e9, refused,
	       ask);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	if (n <= 0 || n > 1000000000) {
		fprintf(stderr, "usage: bench_ban [N (1..1000000000), default 2000000]\n");
		return 2;
	}
	struct sw_ban_cfg c;
	sw_ban_cfg_default(&c);
	struct sw_ban *b;
	if (sw_ban_new(&b, &c))
		return 1;
	run_check(b, "check, no ban held", 0x0a000001u, NULL, n);
	struct sw_ban_note note;
	for (unsigned i = 0; i < 10000; i++) { /* 10,000 sources past user_failures */
		struct sockaddr_in s = addr(0xc6120000u + i);
		for (unsigned k = 0; k < c.user_failures; k++)
			sw_ban_observe(b, (const struct sockaddr *)&s, sw_str_from("1000", 4),
				       SW_CAUSE_WRONG_PASSWORD, NOW, &note);
	}
	run_check(b, "check, 10,000 bans held, source not banned", 0x0a000001u, NULL, n);
	run_check(b, "check, 10,000 bans held, source banned", 0xc6120007u, NULL, n);
	/* a known source with one user banned from it */
	struct sockaddr_in nat = addr(0xcb007105u);
	sw_ban_observe(b, (const struct sockaddr *)&nat, sw_str_from("good", 4), SW_CAUSE_OK, NOW, &note);
	for (unsigned k = 0; k < c.user_failures; k++)
		sw_ban_observe(b, (const struct sockaddr *)&nat, sw_str_from("bad", 3), SW_CAUSE_WRONG_PASSWORD, NOW,
			       &note);
	run_check(b, "check, per-user ban on the source, no username", 0xcb007105u, NULL, n);
	run_check(b, "check, per-user ban on the source, another user", 0xcb007105u, "good", n);
	struct sockaddr_in s = addr(0x0b000001u);
	double t = now_s();
	for (long i = 0; i < n; i++)
		sw_ban_observe(b, (const struct sockaddr *)&s, sw_str_from("alice", 5), SW_CAUSE_NO_CREDENTIALS,
			       NOW + i / 1000, &note);
	t = now_s() - t;
	printf("%-52s %7.1f ns/call\n", "observe, a request without credentials", t / (double)n * 1e9);
	sw_ban_free(b);
	return 0;
}
