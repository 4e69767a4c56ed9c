/* The registrar's in-memory indexes: the location index (AOR -> bindings)
 * and the credential cache in front of the store, each filled well past its
 * initial buckets so that they grow while every entry stays reachable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sipwarden/registrar.h"
#include "sipwarden/store.h"
#include "registrar/reg_int.h"

#define NAORS 50000u /* 64 shards x 256 buckets x 2 = 32,768: the location grows */
#define NUSERS 20000u /* 32 shards x 256 buckets x 2 = 16,384: the cache grows */

static struct sw_binding_op put_op(unsigned i, const char *contact, int64_t expires)
{
	struct sw_binding_op op = { .kind = SW_BINDING_PUT };
	snprintf(op.b.aor, sizeof(op.b.aor), "u%u@ex.com", i);
	snprintf(op.b.contact, sizeof(op.b.contact), "%s", contact);
	snprintf(op.b.call_id, sizeof(op.b.call_id), "cid-%u", i);
	op.b.cseq = i;
	op.b.q = 500;
	op.b.expires = expires;
	return op;
}

struct seen {
	unsigned n;
	char contact[128];
	uint32_t cseq;
};

static void collect(void *arg, const struct sw_loc_binding *b)
{
	struct seen *s = arg;
	if (s->n++ == 0) {
		snprintf(s->contact, sizeof(s->contact), "%s", b->contact);
		s->cseq = b->cseq;
	}
}

static unsigned visit(struct sw_location *l, unsigned i, int64_t now, struct seen *s)
{
	char aor[64];
	snprintf(aor, sizeof(aor), "u%u@ex.com", i);
	memset(s, 0, sizeof(*s));
	return sw_location_visit(l, aor, now, collect, s);
}

static void test_location(void **state)
{
	(void)state;
	struct sw_location *l;
	assert_int_equal(sw_location_new(&l), 0);
	for (unsigned i = 0; i < NAORS; i++) {
		char c[64];
		snprintf(c, sizeof(c), "sip:u%u@10.0.0.1", i);
		/* odd AORs expire at 1000, even ones at 2000 */
		struct sw_binding_op op = put_op(i, c, i % 2 ? 1000 : 2000);
		assert_int_equal(sw_location_apply(l, &op, 1), 0);
	}
	assert_int_equal(sw_location_count(l), NAORS);
	struct seen s;
	for (unsigned i = 0; i < NAORS; i++) {
		assert_int_equal(visit(l, i, 0, &s), 1);
		char c[64];
		snprintf(c, sizeof(c), "sip:u%u@10.0.0.1", i);
		assert_string_equal(s.contact, c);
		assert_int_equal(s.cseq, i);
	}
	assert_int_equal(visit(l, NAORS + 1, 0, &s), 0);

	/* a second contact, a replacement in place, a removal, and "*" */
	struct sw_binding_op op = put_op(7, "sip:second@10.0.0.2", 2000);
	assert_int_equal(sw_location_apply(l, &op, 1), 0);
	assert_int_equal(visit(l, 7, 0, &s), 2);
	op = put_op(7, "sip:u7@10.0.0.1", 2000);
	op.b.cseq = 99;
	assert_int_equal(sw_location_apply(l, &op, 1), 0);
	assert_int_equal(visit(l, 7, 0, &s), 2);
	assert_string_equal(s.contact, "sip:u7@10.0.0.1"); /* still first */
	assert_int_equal(s.cseq, 99);
	op.kind = SW_BINDING_DEL;
	snprintf(op.b.contact, sizeof(op.b.contact), "sip:second@10.0.0.2");
	assert_int_equal(sw_location_apply(l, &op, 1), 0);
	assert_int_equal(visit(l, 7, 0, &s), 1);
	op.kind = SW_BINDING_DEL_AOR;
	snprintf(op.b.aor, sizeof(op.b.aor), "u8@ex.com");
	assert_int_equal(sw_location_apply(l, &op, 1), 0);
	assert_int_equal(visit(l, 8, 0, &s), 0);
	assert_int_equal(sw_location_count(l), NAORS - 1);

	/* a visit does not show what expired; expiry removes it */
	assert_int_equal(visit(l, 1, 1000, &s), 0);
	assert_int_equal(visit(l, 2, 1000, &s), 1);
	assert_int_equal(sw_location_expire(l, 1000), NAORS / 2 - 1); /* u7 was refreshed to 2000 */
	assert_int_equal(sw_location_count(l), NAORS / 2);
	assert_int_equal(visit(l, 7, 0, &s), 1);
	for (unsigned i = 0; i < NAORS; i += 2)
		if (i != 8)
			assert_int_equal(visit(l, i, 0, &s), 1);
	assert_int_equal(sw_location_expire(l, 5000), NAORS / 2);
	assert_int_equal(sw_location_count(l), 0);
	sw_location_free(l);
}

static void test_credcache(void **state)
{
	(void)state;
	struct sw_store *st;
	struct sw_store_opts o = { .create = true };
	assert_int_equal(sw_store_open(&st, "memory:", &o), 0);
	struct sw_user_import *rows = calloc(NUSERS, sizeof(*rows));
	assert_non_null(rows);
	char (*names)[32] = calloc(NUSERS, 32);
	assert_non_null(names);
	for (unsigned i = 0; i < NUSERS; i++) {
		snprintf(names[i], 32, "user%u", i);
		rows[i].user = names[i];
		rows[i].domain = i % 3 ? "ex.com" : "other.net";
		/* the password is the name */
		assert_int_equal(sw_credentials_compute(NULL, names[i], rows[i].domain,
							sw_str_from(names[i], strlen(names[i])), &rows[i].cred), 0);
	}
	size_t added = 0, updated = 0;
	assert_int_equal(sw_store_user_import(st, rows, NUSERS, 1, &added, &updated), 0);
	assert_int_equal(added, NUSERS);

	struct sw_credcache *c;
	assert_int_equal(sw_credcache_new(&c, st), 0);
	char ha1[SW_DIGEST_HEX_MAX + 1], want[SW_DIGEST_HEX_MAX + 1];
	bool found, disabled;
	for (int pass = 0; pass < 2; pass++) /* misses filling the cache, then hits */
		for (unsigned i = 0; i < NUSERS; i++) {
			const char *d = rows[i].domain;
			assert_int_equal(sw_credcache_get(c, names[i], d, SW_HASH_MD5, &found, &disabled, ha1), 0);
			assert_true(found);
			assert_false(disabled);
			assert_int_equal(sw_digest_ha1(NULL, SW_HASH_MD5, sw_str_from(names[i], strlen(names[i])),
						       sw_str_from(d, strlen(d)),
						       sw_str_from(names[i], strlen(names[i])), want), 0);
			assert_string_equal(ha1, want);
		}
	/* another hash of a cached user, and unknown users (remembered too) */
	assert_int_equal(sw_credcache_get(c, "user5", "ex.com", SW_HASH_SHA256, &found, &disabled, ha1), 0);
	assert_true(found);
	assert_int_equal(strlen(ha1), 64);
	assert_int_equal(sw_credcache_get(c, "user5", "ex.com", SW_HASH_MD5, &found, &disabled, ha1), 0);
	assert_int_equal(strlen(ha1), 32);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(sw_credcache_get(c, "nobody", "ex.com", SW_HASH_MD5, &found, &disabled, ha1), 0);
		assert_false(found);
	}

	/* a change in the store reaches the cache at the next refresh */
	assert_int_equal(sw_store_user_set_disabled(st, "user4", "ex.com", true, 2), 0);
	assert_int_equal(sw_credcache_get(c, "user4", "ex.com", SW_HASH_MD5, &found, &disabled, ha1), 0);
	assert_false(disabled); /* cached */
	sw_credcache_refresh(c);
	assert_int_equal(sw_credcache_get(c, "user4", "ex.com", SW_HASH_MD5, &found, &disabled, ha1), 0);
	assert_true(found);
	assert_true(disabled);
	assert_int_equal(sw_credcache_get(c, "user1", "ex.com", SW_HASH_MD5, &found, &disabled, ha1), 0);
	assert_true(found && !disabled);

	sw_credcache_free(c);
	sw_store_close(st);
	free(rows);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_credcache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
