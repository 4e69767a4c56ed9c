/* Server transactions: keys per RFC 3261 §17.2.3, retransmission answers,
 * expiry, eviction, and the hash table against a simple model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/txn.h"

static struct sw_msg M;

static void key_of(const char *via, const char *cseq, const char *from_tag, struct sw_txn_key *k)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "REGISTER sip:example.com SIP/2.0\r\nVia: %s\r\nFrom: <sip:a@example.com>;tag=%s\r\n"
			 "To: <sip:a@example.com>\r\nCall-ID: call-1\r\nCSeq: %s\r\n\r\n", via, from_tag, cseq);
	assert_int_equal(sw_msg_parse(&M, buf, (size_t)n, NULL, NULL), 0);
	assert_int_equal(sw_txn_key_make(&M, k), 0);
}

static bool key_eq(const struct sw_txn_key *a, const struct sw_txn_key *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

static void test_keys(void **state)
{
	(void)state;
	struct sw_txn_key a, b;
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1", "1 REGISTER", "x", &a);
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=1.2.3.4", "1 REGISTER", "y", &b);
	assert_true(key_eq(&a, &b)); /* RFC 3261: branch + sent-by + method only */
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2", "1 REGISTER", "x", &b);
	assert_false(key_eq(&a, &b));
	key_of("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1", "1 REGISTER", "x", &b);
	assert_false(key_eq(&a, &b));
	key_of("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", "1 REGISTER", "x", &b);
	assert_false(key_eq(&a, &b));
	/* RFC 2543 client: no magic cookie, so Call-ID, CSeq, From tag and Via decide */
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "1 REGISTER", "x", &a);
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "1 REGISTER", "x", &b);
	assert_true(key_eq(&a, &b));
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "2 REGISTER", "x", &b);
	assert_false(key_eq(&a, &b));
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "1 REGISTER", "z", &b);
	assert_false(key_eq(&a, &b));

	char huge[400];
	memset(huge, 'b', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	char via[512];
	snprintf(via, sizeof(via), "SIP/2.0/UDP h;branch=z9hG4bK%s", huge);
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "OPTIONS sip:a SIP/2.0\r\nVia: %s\r\nCSeq: 1 OPTIONS\r\n\r\n", via);
	assert_int_equal(sw_msg_parse(&M, buf, (size_t)n, NULL, NULL), 0);
	assert_int_equal(sw_txn_key_make(&M, &a), SW_ETOOBIG);
	static const char noseq[] = "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
	assert_int_equal(sw_msg_parse(&M, noseq, sizeof(noseq) - 1, NULL, NULL), 0);
	assert_int_equal(sw_txn_key_make(&M, &a), SW_EPARSE);
}

static void test_lifecycle(void **state)
{
	(void)state;
	struct sw_txn_table *t;
	assert_int_equal(sw_txn_table_new(&t, 8), 0);
	struct sw_txn_key k;
	key_of("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1", "1 REGISTER", "x", &k);
	const char *resp;
	size_t len;
	assert_int_equal(sw_txn_begin(t, &k, 1000, &resp, &len), SW_TXN_NEW);
	assert_int_equal(sw_txn_begin(t, &k, 1100, &resp, &len), SW_TXN_PENDING); /* absorbed */
	assert_int_equal(sw_txn_complete(t, &k, "SIP/2.0 200 OK\r\n\r\n", 18, 1200, 32000), 0);
	assert_int_equal(sw_txn_begin(t, &k, 1300, &resp, &len), SW_TXN_COMPLETED);
	assert_int_equal(len, 18);
	assert_memory_equal(resp, "SIP/2.0 200 OK\r\n\r\n", 18);
	assert_int_equal(sw_txn_expire(t, 33199), 0);
	assert_int_equal(sw_txn_expire(t, 33200), 1);
	assert_int_equal(sw_txn_count(t), 0);
	assert_int_equal(sw_txn_begin(t, &k, 33300, &resp, &len), SW_TXN_NEW);

	/* reliable transport: nothing lingers */
	assert_int_equal(sw_txn_complete(t, &k, "x", 1, 33400, 0), 0);
	assert_int_equal(sw_txn_count(t), 0);
	assert_int_equal(sw_txn_complete(t, &k, "x", 1, 33400, 0), SW_ENOTFOUND);

	/* a large response */
	static char big[5000];
	memset(big, 'r', sizeof(big));
	assert_int_equal(sw_txn_begin(t, &k, 40000, &resp, &len), SW_TXN_NEW);
	assert_int_equal(sw_txn_complete(t, &k, big, sizeof(big), 40000, 1000), 0);
	assert_int_equal(sw_txn_begin(t, &k, 40001, &resp, &len), SW_TXN_COMPLETED);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(resp, big, sizeof(big));
	sw_txn_forget(t, &k);
	assert_int_equal(sw_txn_count(t), 0);

	/* a PENDING entry that was never completed is dropped after a while */
	assert_int_equal(sw_txn_begin(t, &k, 50000, &resp, &len), SW_TXN_NEW);
	assert_int_equal(sw_txn_begin(t, &k, 50000 + 32000, &resp, &len), SW_TXN_NEW);
	sw_txn_table_free(t);
}

static void make_key(unsigned i, struct sw_txn_key *k)
{
	k->len = (uint16_t)snprintf(k->bytes, sizeof(k->bytes), "key-%u", i);
	/* few distinct hashes: long probe runs exercise deletion */
	k->hash = i % 7;
}

static void test_table_model(void **state)
{
	(void)state;
	enum { CAP = 64, N = 200 };
	struct sw_txn_table *t;
	assert_int_equal(sw_txn_table_new(&t, CAP), 0);
	int model[N] = { 0 }; /* 0 absent, 1 present */
	unsigned present = 0;
	srand(7);
	for (int step = 0; step < 20000; step++) {
		unsigned i = (unsigned)rand() % N;
		struct sw_txn_key k;
		make_key(i, &k);
		const char *resp;
		size_t len;
		if (rand() % 3 == 0 && model[i]) {
			sw_txn_forget(t, &k);
			model[i] = 0;
			present--;
		} else if (present < CAP - 1 || model[i]) {
			enum sw_txn_state st = sw_txn_begin(t, &k, 1, &resp, &len);
			if (model[i]) {
				assert_int_equal(st, SW_TXN_COMPLETED);
				assert_int_equal(len, k.len);
				assert_memory_equal(resp, k.bytes, len);
			} else {
				assert_int_equal(st, SW_TXN_NEW);
				assert_int_equal(sw_txn_complete(t, &k, k.bytes, k.len, 1, 1000000), 0);
				model[i] = 1;
				present++;
			}
		}
		assert_int_equal(sw_txn_count(t), present);
	}
	/* eviction under overload: the table never refuses a new transaction */
	for (unsigned i = 1000; i < 1000 + 3 * CAP; i++) {
		struct sw_txn_key k;
		const char *resp;
		size_t len;
		make_key(i, &k);
		assert_int_equal(sw_txn_begin(t, &k, 2, &resp, &len), SW_TXN_NEW);
		assert_true(sw_txn_count(t) <= CAP);
	}
	sw_txn_table_free(t);
	assert_int_equal(sw_txn_table_new(&t, 0), SW_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_table_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
