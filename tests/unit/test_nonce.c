/* Nonces (mint/verify, tampering, expiry, drift, rotation), the secret
 * file, and nonce-count tracking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/auth.h"

#define T0 1700000000ull

static sw_str S(const char *s) { return sw_str_from(s, strlen(s)); }

static struct sw_nonce_ctx *ctx_for(const struct sw_secret *s)
{
	struct sw_nonce_ctx *nc;
	assert_int_equal(sw_nonce_ctx_new(&nc, s, 300, 10), 0);
	return nc;
}

static void test_fresh_and_bound_fields(void **state)
{
	(void)state;
	struct sw_secret s;
	assert_int_equal(sw_secret_generate(&s, T0), 0);
	struct sw_nonce_ctx *nc = ctx_for(&s);
	char n[SW_NONCE_LEN + 1], n2[SW_NONCE_LEN + 1];
	unsigned q = SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT);
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG_SHA256_SESS, q, n), 0);
	assert_int_equal(strlen(n), SW_NONCE_LEN);
	for (const char *p = n; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG_SHA256_SESS, q, n2), 0);
	assert_string_not_equal(n, n2);   /* random part */

	struct sw_nonce_info info;
	memset(&info, 0, sizeof(info));
	assert_int_equal(sw_nonce_verify(nc, S(n), T0 + 5, &info), SW_NONCE_FRESH);
	assert_int_equal(info.alg, SW_ALG_SHA256_SESS);
	assert_int_equal(info.qop_mask, q);
	assert_int_equal(info.issued, T0);
	assert_int_equal(info.key_id, s.cur.id);
	/* exactly at the lifetime still fresh, one second later stale */
	assert_int_equal(sw_nonce_verify(nc, S(n), T0 + 300, NULL), SW_NONCE_FRESH);
	assert_int_equal(sw_nonce_verify(nc, S(n), T0 + 301, &info), SW_NONCE_STALE);
	assert_int_equal(info.alg, SW_ALG_SHA256_SESS);   /* stale still tells the fields */
	/* from the future: within drift ok, beyond invalid */
	assert_int_equal(sw_nonce_verify(nc, S(n), T0 - 10, NULL), SW_NONCE_FRESH);
	assert_int_equal(sw_nonce_verify(nc, S(n), T0 - 11, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG__COUNT, 0, n), SW_EINVAL);
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG_MD5, 8, n), SW_EINVAL);
	sw_nonce_ctx_free(nc);
}

static void test_tampering(void **state)
{
	(void)state;
	struct sw_secret s, other;
	assert_int_equal(sw_secret_generate(&s, T0), 0);
	assert_int_equal(sw_secret_generate(&other, T0), 0);
	other.cur.id = s.cur.id;   /* same key id, different key */
	struct sw_nonce_ctx *nc = ctx_for(&s), *onc = ctx_for(&other);
	char n[SW_NONCE_LEN + 1], t[2 * SW_NONCE_LEN];
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG_MD5, SW_QOP_BIT(SW_QOP_AUTH), n), 0);
	assert_int_equal(sw_nonce_verify(nc, S(n), T0, NULL), SW_NONCE_FRESH);

	/* every byte, several flips each: never accepted */
	static const unsigned char flips[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x21 };
	int checked = 0;
	for (size_t i = 0; i < SW_NONCE_LEN; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(t, n, SW_NONCE_LEN + 1);
			t[i] = (char)(t[i] ^ flips[f]);
			assert_int_equal(sw_nonce_verify(nc, S(t), T0, NULL), SW_NONCE_INVALID);
			checked++;
		}
		/* and every other base64url character in that position */
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		for (size_t k = 0; k < 64; k++) {
			if (alpha[k] == n[i])
				continue;
			memcpy(t, n, SW_NONCE_LEN + 1);
			t[i] = alpha[k];
			assert_int_equal(sw_nonce_verify(nc, S(t), T0, NULL), SW_NONCE_INVALID);
			checked++;
		}
	}
	assert_true(checked > 44 * 70);
	/* truncation to every shorter length, and extension */
	for (size_t len = 0; len < SW_NONCE_LEN; len++)
		assert_int_equal(sw_nonce_verify(nc, sw_str_from(n, len), T0, NULL), SW_NONCE_INVALID);
	memcpy(t, n, SW_NONCE_LEN);
	memcpy(t + SW_NONCE_LEN, "AAAA", 4);
	for (size_t extra = 1; extra <= 4; extra++)
		assert_int_equal(sw_nonce_verify(nc, sw_str_from(t, SW_NONCE_LEN + extra), T0, NULL),
				 SW_NONCE_INVALID);
	/* another key (same id), and garbage */
	assert_int_equal(sw_nonce_verify(onc, S(n), T0, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_verify(nc, S("dcd98b7102dd2f0e8b11d0f600bfb0c093"), T0, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_verify(nc, S("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), T0, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_verify(nc, SW_STR_NULL, T0, NULL), SW_NONCE_INVALID);
	sw_nonce_ctx_free(nc);
	sw_nonce_ctx_free(onc);
}

static void test_rotation(void **state)
{
	(void)state;
	struct sw_secret s;
	assert_int_equal(sw_secret_generate(&s, T0), 0);
	struct sw_nonce_ctx *nc = ctx_for(&s);
	char old[SW_NONCE_LEN + 1], fresh[SW_NONCE_LEN + 1];
	assert_int_equal(sw_nonce_mint(nc, T0, SW_ALG_MD5, 2, old), 0);
	uint16_t old_id = s.cur.id;
	assert_int_equal(sw_secret_rotate(&s, T0 + 100), 0);
	assert_true(s.has_prev);
	assert_int_equal(s.prev.id, old_id);
	assert_int_not_equal(s.cur.id, old_id);
	assert_memory_not_equal(s.cur.bytes, s.prev.bytes, SW_KEY_BYTES);
	assert_int_equal(sw_nonce_ctx_set_secret(nc, &s), 0);
	/* the old nonce stays valid (until it is stale) */
	assert_int_equal(sw_nonce_verify(nc, S(old), T0 + 150, NULL), SW_NONCE_FRESH);
	assert_int_equal(sw_nonce_verify(nc, S(old), T0 + 350, NULL), SW_NONCE_STALE);
	/* one lifetime after the rotation the previous key is gone */
	assert_int_equal(sw_nonce_verify(nc, S(old), T0 + 400, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_mint(nc, T0 + 150, SW_ALG_MD5, 2, fresh), 0);
	struct sw_nonce_info info;
	assert_int_equal(sw_nonce_verify(nc, S(fresh), T0 + 150, &info), SW_NONCE_FRESH);
	assert_int_equal(info.key_id, s.cur.id);
	/* a node that only has the old key rejects the new nonce */
	struct sw_secret only_old = s;
	only_old.cur = s.prev;
	only_old.has_prev = false;
	struct sw_nonce_ctx *onc = ctx_for(&only_old);
	assert_int_equal(sw_nonce_verify(onc, S(fresh), T0 + 150, NULL), SW_NONCE_INVALID);
	assert_int_equal(sw_nonce_verify(onc, S(old), T0 + 150, NULL), SW_NONCE_FRESH);
	sw_secret_expire(&s, T0 + 399, 300);
	assert_true(s.has_prev);
	sw_secret_expire(&s, T0 + 400, 300);
	assert_false(s.has_prev);
	sw_nonce_ctx_free(nc);
	sw_nonce_ctx_free(onc);
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "/tmp/sw_test_nonce_%ld_%s", (long)getpid(), name);
	unlink(buf);
}

static void test_secret_file(void **state)
{
	(void)state;
	char path[256];
	struct sw_secret s, l;
	bool created = false;
	struct stat st;
	tmp_path(path, sizeof(path), "secret");

	assert_int_equal(sw_secret_load(path, &l), SW_ENOTFOUND);
	assert_int_equal(sw_secret_open(path, T0, &s, &created), 0);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	memset(&l, 0, sizeof(l));
	assert_int_equal(sw_secret_open(path, T0 + 5, &l, &created), 0);
	assert_false(created);
	assert_int_equal(l.cur.id, s.cur.id);
	assert_int_equal(l.cur.created, T0);
	assert_memory_equal(l.cur.bytes, s.cur.bytes, SW_KEY_BYTES);
	assert_false(l.has_prev);

	/* rotation is persisted with both keys */
	assert_int_equal(sw_secret_rotate(&s, T0 + 60), 0);
	assert_int_equal(sw_secret_save(path, &s), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	memset(&l, 0, sizeof(l));
	assert_int_equal(sw_secret_load(path, &l), 0);
	assert_true(l.has_prev);
	assert_int_equal(l.prev_retired, T0 + 60);
	assert_memory_equal(l.prev.bytes, s.prev.bytes, SW_KEY_BYTES);
	assert_memory_equal(l.cur.bytes, s.cur.bytes, SW_KEY_BYTES);
	assert_int_equal(l.cur.id, s.cur.id);

	/* a file others can read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(sw_secret_load(path, &l), SW_EINVAL);
	assert_int_equal(chmod(path, 0600), 0);
	unlink(path);

	/* malformed files */
	static const char *const bad[] = {
		"", "sipwarden-secret 2\ncur 1 2 00\n", "sipwarden-secret 1\n",
		"sipwarden-secret 1\ncur 1 2 zz00000000000000000000000000000000000000000000000000000000000000\n",
		"sipwarden-secret 1\ncur 1 2 0000\n",
		"sipwarden-secret 1\ncur 70000 2 0000000000000000000000000000000000000000000000000000000000000000\n",
		"sipwarden-secret 1\nbogus\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		assert_int_equal(chmod(path, 0600), 0);
		assert_int_equal(sw_secret_load(path, &l), SW_EPARSE);
		unlink(path);
	}
	/* two secrets generated independently differ */
	struct sw_secret a, b;
	assert_int_equal(sw_secret_generate(&a, T0), 0);
	assert_int_equal(sw_secret_generate(&b, T0), 0);
	assert_memory_not_equal(a.cur.bytes, b.cur.bytes, SW_KEY_BYTES);
	unsigned char d1[SW_KEY_BYTES], d2[SW_KEY_BYTES];
	assert_int_equal(sw_secret_derive(&a.cur, "x", d1), 0);
	assert_int_equal(sw_secret_derive(&a.cur, "y", d2), 0);
	assert_memory_not_equal(d1, d2, SW_KEY_BYTES);
	sw_secret_wipe(&a);
	unsigned char zero[SW_KEY_BYTES] = { 0 };
	assert_memory_equal(a.cur.bytes, zero, SW_KEY_BYTES);
}

static struct sw_nc_use use(const char *nonce, uint32_t nc, const char *cnonce, const char *resp,
			    const char *branch)
{
	return (struct sw_nc_use){ .nonce = S(nonce), .nc = nc, .cnonce = S(cnonce),
				   .response = S(resp), .branch = S(branch), .expires = T0 + 300 };
}

static int check(struct sw_nc_tracker *t, struct sw_nc_use u, uint64_t now)
{
	return t->ops->check(t->self, &u, now);
}

static void test_nc_tracking(void **state)
{
	(void)state;
	struct sw_nc_tracker t;
	assert_int_equal(sw_nc_memory_new(&t, 0), 0);
	assert_int_equal(check(&t, use("N1", 1, "c", "r1", "z9hG4bK1"), T0), SW_NC_NEW);
	/* retransmission: same nc, cnonce, response, branch */
	assert_int_equal(check(&t, use("N1", 1, "c", "r1", "z9hG4bK1"), T0), SW_NC_RETRANSMISSION);
	/* same nc from another transaction: replay */
	assert_int_equal(check(&t, use("N1", 1, "c", "r1", "z9hG4bK2"), T0), SW_NC_REPLAY);
	assert_int_equal(check(&t, use("N1", 1, "c2", "r1", "z9hG4bK1"), T0), SW_NC_REPLAY);
	assert_int_equal(check(&t, use("N1", 1, "c", "r2", "z9hG4bK1"), T0), SW_NC_REPLAY);
	assert_int_equal(check(&t, use("N1", 2, "c", "r3", "z9hG4bK3"), T0), SW_NC_NEW);
	assert_int_equal(check(&t, use("N1", 1, "c", "r1", "z9hG4bK1"), T0), SW_NC_REPLAY);   /* lower */
	assert_int_equal(check(&t, use("N1", 5, "c", "r5", "z9hG4bK5"), T0), SW_NC_NEW);     /* gaps ok */
	assert_int_equal(check(&t, use("N1", 3, "c", "r4", "z9hG4bK4"), T0), SW_NC_REPLAY);
	/* other nonces are independent */
	assert_int_equal(check(&t, use("N2", 1, "c", "r1", "z9hG4bK1"), T0), SW_NC_NEW);
	assert_int_equal(sw_nc_memory_count(&t), 2);
	/* after expiry the nonce is forgotten */
	assert_int_equal(check(&t, use("N1", 1, "c", "r1", "z9hG4bKx"), T0 + 301), SW_NC_NEW);

	/* one-time mode: a second use with a higher nc is a replay too */
	struct sw_nc_use u = use("N3", 1, "c", "r1", "b1");
	u.one_time = true;
	assert_int_equal(check(&t, u, T0), SW_NC_NEW);
	assert_int_equal(check(&t, u, T0), SW_NC_RETRANSMISSION);
	u.nc = 2;
	u.branch = S("b2");
	assert_int_equal(check(&t, u, T0), SW_NC_REPLAY);
	/* too long a key */
	char big[300];
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(check(&t, use(big, 1, "c", "r", "b"), T0), SW_EINVAL);
	sw_nc_tracker_destroy(&t);
}

/* A tracker full of live nonces (a sustained rate above max / lifetime)
 * forgets its oldest ones instead of failing, and answers a forgotten nonce
 * FORGOTTEN (a stale challenge), never NEW: a replay cannot slip through. */
static void test_nc_capacity(void **state)
{
	(void)state;
	struct sw_nc_tracker t;
	assert_int_equal(sw_nc_memory_new(&t, 64), 0);   /* one per shard */
	char key[32];
	for (int i = 0; i < 2000; i++) {                 /* issued one after the other */
		snprintf(key, sizeof(key), "nonce-%d", i);
		struct sw_nc_use u = use(key, 1, "c", "r", "b");
		u.expires = T0 + 300 + (uint64_t)i;
		assert_int_equal(check(&t, u, T0 + (uint64_t)i / 10), SW_NC_NEW);
	}
	assert_true(sw_nc_memory_count(&t) <= 64 + 64); /* at most one extra per shard */
	/* an early nonce was forgotten: its reuse, even with a higher nc, is
	 * not taken for new */
	struct sw_nc_use old = use("nonce-0", 2, "c", "r2", "b2");
	assert_int_equal(check(&t, old, T0 + 200), SW_NC_FORGOTTEN);
	old.nc = 1;
	old.response = S("r");
	old.branch = S("b");
	assert_int_equal(check(&t, old, T0 + 200), SW_NC_FORGOTTEN);   /* the replay */
	/* the newest one is still known */
	struct sw_nc_use last = use("nonce-1999", 1, "c", "r", "b");
	last.expires = T0 + 300 + 1999;
	assert_int_equal(check(&t, last, T0 + 200), SW_NC_RETRANSMISSION);
	last.branch = S("b-other");
	assert_int_equal(check(&t, last, T0 + 200), SW_NC_REPLAY);
	/* once everything expired there is room again, and new nonces are new */
	struct sw_nc_use late = use("late", 1, "c", "r", "b");
	late.expires = T0 + 5000;
	assert_int_equal(check(&t, late, T0 + 4000), SW_NC_NEW);
	sw_nc_tracker_destroy(&t);
}

struct thr { struct sw_nc_tracker *t; int id; int news; };

static void *worker(void *arg)
{
	struct thr *th = arg;
	char key[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "t%d-%d", th->id, i % 100);
		struct sw_nc_use u = use(key, (uint32_t)(i / 100 + 1), "c", "r", "b");
		if (th->t->ops->check(th->t->self, &u, T0) == SW_NC_NEW)
			th->news++;
	}
	return NULL;
}

static void test_nc_threads(void **state)
{
	(void)state;
	struct sw_nc_tracker t;
	assert_int_equal(sw_nc_memory_new(&t, 0), 0);
	pthread_t th[4];
	struct thr a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct thr){ &t, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].news, 2000);   /* every nc increased */
	}
	assert_int_equal(sw_nc_memory_count(&t), 400);
	sw_nc_tracker_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_and_bound_fields),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_nc_tracking),
		cmocka_unit_test(test_nc_capacity),
		cmocka_unit_test(test_nc_threads),
	};
	return cmocka_run_group_tests_name("nonce", tests, NULL, NULL);
}
