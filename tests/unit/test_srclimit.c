/* The count of open TCP connections per source address (lib/server/
 * srclimit.c): the cap per address, addresses counted apart, an IPv4 address
 * and its IPv4-mapped IPv6 form counted as one, a closed connection giving
 * its place back, and threads taking and giving at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <cmocka.h>
#include "sipwarden/common.h"
#include "server/server_int.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &s->sin6_addr);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void test_cap(void **state)
{
	(void)state;
	struct sw__srclimit *l;
	assert_int_equal(sw__srclimit_new(&l), 0);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2"), am = v6("::ffff:192.0.2.1"),
				c = v6("2001:db8::1");
	for (int i = 0; i < 3; i++)
		assert_true(sw__srclimit_take(l, SA(a), 3));
	assert_false(sw__srclimit_take(l, SA(a), 3));
	assert_false(sw__srclimit_take(l, SA(am), 3)); /* the same address, mapped */
	assert_true(sw__srclimit_take(l, SA(b), 3));   /* another address has its own count */
	assert_true(sw__srclimit_take(l, SA(c), 1));
	assert_false(sw__srclimit_take(l, SA(c), 1));
	sw__srclimit_give(l, SA(a));
	assert_true(sw__srclimit_take(l, SA(am), 3));  /* a closed one gives its place back */
	for (int i = 0; i < 3; i++)
		sw__srclimit_give(l, SA(a));
	sw__srclimit_give(l, SA(b));
	sw__srclimit_give(l, SA(c));
	assert_true(sw__srclimit_take(l, SA(c), 1));
	sw__srclimit_give(l, SA(c));
	sw__srclimit_free(l); /* every node given back: nothing leaks (ASan) */
}

struct worker {
	struct sw__srclimit *l;
	unsigned taken;
};

static void *churn(void *arg)
{
	struct worker *w = arg;
	struct sockaddr_storage a = v4("198.51.100.7");
	for (int i = 0; i < 20000; i++) {
		if (sw__srclimit_take(w->l, SA(a), 8)) {
			w->taken++;
			sw__srclimit_give(w->l, SA(a));
		}
	}
	return NULL;
}

/* Four threads taking and giving back one place each: at most 4 are out at a
 * time, so with a cap of 8 every take succeeds. */
static void test_threads(void **state)
{
	(void)state;
	struct sw__srclimit *l;
	assert_int_equal(sw__srclimit_new(&l), 0);
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ l, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, churn, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].taken, 20000);
	}
	sw__srclimit_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
