/* The store: one suite run against every backend ("memory:" and
 * "sqlite:<tmp>/t.db") so both keep the same semantics; plus what only the
 * sqlite backend has (durability across reopen, schema, file mode, the
 * group-commit writer under concurrent writers) and the report rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sqlite3.h>
#include <cmocka.h>
#include "sipwarden/store.h"

static bool sqlite_mode;
static bool caller_commits; /* the sqlite store without its writer thread, as `serve` opens it */

struct fx {
	char dir[64];
	char spec[160];
	char path[128];
	struct sw_store *st;
};

static int fx_open(struct fx *f, const struct sw_store_opts *opts)
{
	struct sw_store_opts o = opts ? *opts : (struct sw_store_opts){ 0 };
	o.create = true;
	o.caller_commits |= caller_commits;
	return sw_store_open(&f->st, f->spec, &o);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	if (sqlite_mode) {
		strcpy(f->dir, "/tmp/sw_store_XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
		snprintf(f->spec, sizeof(f->spec), "sqlite:%s", f->path);
	} else {
		strcpy(f->spec, "memory:");
	}
	assert_int_equal(fx_open(f, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sw_store_close(f->st);
	if (f->dir[0]) {
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			return -1;
	}
	free(f);
	return 0;
}

/* Reopens the same store (sqlite) with other options. */
static void fx_reopen(struct fx *f, const struct sw_store_opts *o)
{
	sw_store_close(f->st);
	f->st = NULL;
	assert_int_equal(fx_open(f, o), 0);
}

static void cred(const char *user, const char *domain, const char *pw, struct sw_credentials *c)
{
	assert_int_equal(sw_credentials_compute(NULL, user, domain, sw_str_from(pw, strlen(pw)), c),
			 0);
}

/* ---- subscribers --------------------------------------------------------- */

static void test_user_crud(void **state)
{
	struct fx *f = *state;
	struct sw_credentials c, c2;
	struct sw_subscriber s;
	cred("alice", "example.com", "secret", &c);

	assert_int_equal(sw_store_user_get(f->st, "alice", "example.com", &s), SW_ENOTFOUND);
	assert_int_equal(sw_store_user_add(f->st, "alice", "Example.COM", &c, false, 1000), 0);
	assert_int_equal(sw_store_user_add(f->st, "alice", "example.com", &c, false, 1001),
			 SW_STORE_EEXIST);
	assert_string_equal(sw_store_strerror(SW_STORE_EEXIST), "already exists");
	/* user part is case-sensitive, the domain is not */
	assert_int_equal(sw_store_user_get(f->st, "Alice", "example.com", &s), SW_ENOTFOUND);
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(sw_store_user_get(f->st, "alice", "EXAMPLE.com", &s), 0);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.domain, "example.com");
	assert_false(s.disabled);
	assert_int_equal(s.created, 1000);
	assert_int_equal(s.changed, 1000);
	/* HA1 per hash is exactly H(user:realm:password), realm = domain */
	for (unsigned h = 0; h < SW_HASH__COUNT; h++) {
		char hex[SW_DIGEST_HEX_MAX + 1];
		assert_int_equal(sw_digest_ha1(NULL, (enum sw_digest_hash)h, SW_STR_LIT("alice"),
					       SW_STR_LIT("example.com"), SW_STR_LIT("secret"), hex),
				 0);
		assert_string_equal(s.cred.ha1[h], hex);
	}

	/* lookup by userhash */
	struct sw_subscriber s2;
	assert_int_equal(sw_store_user_get_by_userhash(f->st, SW_HASH_SHA256,
						       c.userhash[SW_HASH_SHA256], "example.com",
						       &s2), 0);
	assert_string_equal(s2.user, "alice");
	assert_int_equal(sw_store_user_get_by_userhash(f->st, SW_HASH_SHA256,
						       c.userhash[SW_HASH_SHA256], "other.org", &s2),
			 SW_ENOTFOUND);

	/* new password */
	cred("alice", "example.com", "other", &c2);
	assert_int_equal(sw_store_user_set_credentials(f->st, "alice", "example.com", &c2, 2000), 0);
	assert_int_equal(sw_store_user_get(f->st, "alice", "example.com", &s), 0);
	assert_string_equal(s.cred.ha1[SW_HASH_SHA512_256], c2.ha1[SW_HASH_SHA512_256]);
	assert_int_equal(s.changed, 2000);
	assert_int_equal(s.created, 1000);
	assert_int_equal(sw_store_user_set_credentials(f->st, "bob", "example.com", &c2, 2000),
			 SW_ENOTFOUND);

	/* disable / enable */
	assert_int_equal(sw_store_user_set_disabled(f->st, "alice", "example.com", true, 3000), 0);
	assert_int_equal(sw_store_user_get(f->st, "alice", "example.com", &s), 0);
	assert_true(s.disabled);
	assert_int_equal(sw_store_user_set_disabled(f->st, "alice", "example.com", false, 3001), 0);
	assert_int_equal(sw_store_user_get(f->st, "alice", "example.com", &s), 0);
	assert_false(s.disabled);
	assert_int_equal(sw_store_user_set_disabled(f->st, "nobody", "example.com", true, 1),
			 SW_ENOTFOUND);

	/* the verifier's credential source */
	struct sw_cred_source src;
	char ha1[SW_DIGEST_HEX_MAX + 1];
	sw_store_cred_source(f->st, &src);
	assert_int_equal(src.get_ha1(src.arg, SW_STR_LIT("alice"), false, SW_STR_LIT("example.com"),
				     SW_HASH_SHA256, ha1), 0);
	assert_string_equal(ha1, c2.ha1[SW_HASH_SHA256]);
	assert_int_equal(src.get_ha1(src.arg, SW_STR_LIT("mallory"), false,
				     SW_STR_LIT("example.com"), SW_HASH_MD5, ha1), SW_ENOTFOUND);
	assert_int_equal(src.get_ha1(src.arg, sw_str_from(c2.userhash[0], strlen(c2.userhash[0])),
				     true, SW_STR_LIT("example.com"), SW_HASH_MD5, ha1), 0);
	assert_string_equal(ha1, c2.ha1[SW_HASH_MD5]);

	/* delete */
	assert_int_equal(sw_store_user_del(f->st, "alice", "example.com"), 0);
	assert_int_equal(sw_store_user_del(f->st, "alice", "example.com"), SW_ENOTFOUND);
	assert_int_equal(sw_store_user_get(f->st, "alice", "example.com", &s), SW_ENOTFOUND);
}

static void test_user_names(void **state)
{
	struct fx *f = *state;
	struct sw_credentials c, bad;
	char longname[SW_STORE_USER_MAX + 2];
	cred("x", "example.com", "pw", &c);
	assert_int_equal(sw_store_user_add(f->st, "", "example.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a b", "example.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a:b", "example.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a@b", "example.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a\nb", "example.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a", "exa mple.com", &c, false, 1), SW_EINVAL);
	assert_int_equal(sw_store_user_add(f->st, "a", "", &c, false, 1), SW_EINVAL);
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sw_store_user_add(f->st, longname, "example.com", &c, false, 1),
			 SW_ETOOBIG);
	longname[SW_STORE_USER_MAX] = '\0';
	assert_int_equal(sw_store_user_add(f->st, longname, "example.com", &c, false, 1), 0);
	/* credentials must be well-formed lower-case hex */
	bad = c;
	bad.ha1[1][3] = 'G';
	assert_int_equal(sw_store_user_add(f->st, "b", "example.com", &bad, false, 1), SW_EINVAL);
	bad = c;
	bad.ha1[0][31] = '\0';
	assert_int_equal(sw_store_user_add(f->st, "b", "example.com", &bad, false, 1), SW_EINVAL);
	/* an IPv6 literal domain and a user with + and . are fine */
	assert_int_equal(sw_store_user_add(f->st, "a.b+c", "[2001:db8::1]", &c, false, 1), 0);
}

struct collect {
	char names[64][SW_STORE_AOR_MAX + 2];
	size_t n, stop_after;
};

static int collect_user(void *arg, const struct sw_subscriber *s)
{
	struct collect *c = arg;
	if (c->n < 64)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s@%s%s", s->user, s->domain,
			 s->disabled ? "!" : "");
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static void test_user_list(void **state)
{
	struct fx *f = *state;
	struct sw_credentials c;
	cred("x", "y", "pw", &c);
	const char *add[][2] = { { "bob", "b.org" }, { "alice", "b.org" }, { "zed", "a.org" },
				 { "carol", "b.org" } };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sw_store_user_add(f->st, add[i][0], add[i][1], &c, i == 3, 5), 0);
	struct collect col = { 0 };
	assert_int_equal(sw_store_user_list(f->st, collect_user, &col), 0);
	assert_int_equal(col.n, 4);
	assert_string_equal(col.names[0], "zed@a.org");
	assert_string_equal(col.names[1], "alice@b.org");
	assert_string_equal(col.names[2], "bob@b.org");
	assert_string_equal(col.names[3], "carol@b.org!");
	struct collect stop = { .stop_after = 2 };
	assert_int_equal(sw_store_user_list(f->st, collect_user, &stop), 7);
	assert_int_equal(stop.n, 2);
}

struct changes {
	char names[16][SW_STORE_AOR_MAX + 2];
	size_t n;
};

static void collect_change(void *arg, const char *user, const char *domain)
{
	struct changes *c = arg;
	if (c->n < 16)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s@%s", user, domain);
}

static void test_user_version(void **state)
{
	struct fx *f = *state;
	struct sw_credentials c;
	uint64_t v0, v1, v2, nowv;
	bool all;
	cred("x", "y", "pw", &c);
	assert_int_equal(sw_store_user_version(f->st, &v0), 0);
	assert_int_equal(sw_store_user_add(f->st, "alice", "ex.com", &c, false, 1), 0);
	assert_int_equal(sw_store_user_add(f->st, "bob", "ex.com", &c, false, 1), 0);
	assert_int_equal(sw_store_user_version(f->st, &v1), 0);
	assert_true(v1 > v0);

	struct changes ch = { 0 };
	assert_int_equal(sw_store_user_changes(f->st, v1, collect_change, &ch, &nowv, &all), 0);
	assert_int_equal(ch.n, 0);
	assert_false(all);
	assert_int_equal(nowv, v1);

	/* a failed write changes nothing */
	assert_int_equal(sw_store_user_add(f->st, "bob", "ex.com", &c, false, 1), SW_STORE_EEXIST);
	assert_int_equal(sw_store_user_version(f->st, &v2), 0);
	assert_int_equal(v2, v1);

	assert_int_equal(sw_store_user_set_disabled(f->st, "alice", "ex.com", true, 2), 0);
	assert_int_equal(sw_store_user_del(f->st, "bob", "ex.com"), 0);
	assert_int_equal(sw_store_user_version(f->st, &v2), 0);
	assert_true(v2 > v1);
	assert_int_equal(sw_store_user_changes(f->st, v1, collect_change, &ch, &nowv, &all), 0);
	assert_false(all);
	assert_int_equal(nowv, v2);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.names[0], "alice@ex.com");
	assert_string_equal(ch.names[1], "bob@ex.com");   /* deletions are changes too */
	/* from the beginning: every change, the log still reaches back */
	ch.n = 0;
	assert_int_equal(sw_store_user_changes(f->st, v0, collect_change, &ch, &nowv, &all), 0);
	assert_false(all);
	assert_int_equal(ch.n, 4);
}

static void test_user_import(void **state)
{
	struct fx *f = *state;
	enum { N = 5000 };
	struct sw_user_import *rows = calloc(N, sizeof(*rows));
	char (*names)[16] = calloc(N, sizeof(*names));
	struct sw_credentials c;
	assert_non_null(rows);
	assert_non_null(names);
	struct sw_digest_ctx *dc;
	assert_int_equal(sw_digest_ctx_new(&dc), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "u%05zu", i);
		rows[i].user = names[i];
		rows[i].domain = "Import.Example";
		char pw[32];
		snprintf(pw, sizeof(pw), "pw-%zu", i);
		assert_int_equal(sw_credentials_compute(dc, names[i], "import.example",
							sw_str_from(pw, strlen(pw)), &rows[i].cred), 0);
	}
	sw_digest_ctx_free(dc);
	/* one existing user is updated, not duplicated; its disabled flag stays */
	cred("u00042", "import.example", "old", &c);
	assert_int_equal(sw_store_user_add(f->st, "u00042", "import.example", &c, true, 1), 0);

	struct timespec t0, t1;
	size_t added = 99, updated = 99;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sw_store_user_import(f->st, rows, N, 50, &added, &updated), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("import of %d users (%s): %.1f ms\n", N, sw_store_kind(f->st),
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(added, N - 1);
	assert_int_equal(updated, 1);

	struct sw_subscriber s;
	assert_int_equal(sw_store_user_get(f->st, "u04999", "import.example", &s), 0);
	assert_string_equal(s.cred.ha1[SW_HASH_MD5], rows[4999].cred.ha1[SW_HASH_MD5]);
	assert_int_equal(sw_store_user_get(f->st, "u00042", "import.example", &s), 0);
	assert_true(s.disabled);
	assert_string_equal(s.cred.ha1[SW_HASH_SHA256], rows[42].cred.ha1[SW_HASH_SHA256]);

	/* a bad row anywhere: nothing is imported */
	rows[0].user = "new-one";
	rows[N - 1].user = "bad user";
	assert_int_equal(sw_store_user_import(f->st, rows, N, 60, &added, &updated), SW_EINVAL);
	assert_int_equal(sw_store_user_get(f->st, "new-one", "import.example", &s), SW_ENOTFOUND);
	assert_int_equal(sw_store_user_get(f->st, "u04998", "import.example", &s), 0);
	assert_int_equal(s.changed, 50);
	free(rows);
	free(names);
}

/* ---- bindings ------------------------------------------------------------ */

static void mkbind(struct sw_binding *b, const char *aor, const char *contact, int64_t expires,
		   uint16_t q)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->aor, sizeof(b->aor), "%s", aor);
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	b->expires = expires;
	b->q = q;
	snprintf(b->call_id, sizeof(b->call_id), "cid-%s", contact);
	b->cseq = 7;
	snprintf(b->source_addr, sizeof(b->source_addr), "192.0.2.10");
	b->source_port = 5062;
	snprintf(b->transport, sizeof(b->transport), "udp");
	snprintf(b->user_agent, sizeof(b->user_agent), "Phone/1.0");
	b->updated = expires - 3600;
}

struct blist {
	struct sw_binding v[32];
	size_t n;
};

static int collect_binding(void *arg, const struct sw_binding *b)
{
	struct blist *l = arg;
	if (l->n < 32)
		l->v[l->n++] = *b;
	return 0;
}

static void test_bindings(void **state)
{
	struct fx *f = *state;
	struct sw_binding b;
	static struct blist l;
	mkbind(&b, "alice@ex.com", "sip:alice@192.0.2.10:5062", 5000, 500);
	assert_int_equal(sw_store_binding_put(f->st, &b), 0);
	mkbind(&b, "alice@ex.com", "sip:alice@198.51.100.7", 6000, 1000);
	assert_int_equal(sw_store_binding_put(f->st, &b), 0);
	mkbind(&b, "bob@ex.com", "sip:bob@[2001:db8::5]:5060;transport=tcp", 7000, 0);
	memcpy(b.source_addr, "2001:db8::5", 12);
	assert_int_equal(sw_store_binding_put(f->st, &b), 0);

	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "alice@ex.com", 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].contact, "sip:alice@198.51.100.7");   /* q 1.0 first */
	assert_int_equal(l.v[0].q, 1000);
	assert_int_equal(l.v[0].expires, 6000);
	assert_string_equal(l.v[0].call_id, "cid-sip:alice@198.51.100.7");
	assert_int_equal(l.v[0].cseq, 7);
	assert_int_equal(l.v[0].source_port, 5062);
	assert_string_equal(l.v[0].user_agent, "Phone/1.0");
	assert_int_equal(l.v[0].updated, 6000 - 3600);
	assert_string_equal(l.v[1].contact, "sip:alice@192.0.2.10:5062");

	/* a refresh replaces the binding (same aor + contact) */
	mkbind(&b, "alice@ex.com", "sip:alice@192.0.2.10:5062", 9000, 100);
	b.cseq = 8;
	assert_int_equal(sw_store_binding_put(f->st, &b), 0);
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, NULL, 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1].contact, "sip:alice@192.0.2.10:5062");
	assert_int_equal(l.v[1].cseq, 8);
	assert_int_equal(l.v[1].expires, 9000);
	assert_string_equal(l.v[2].aor, "bob@ex.com");
	assert_string_equal(l.v[2].source_addr, "2001:db8::5");

	/* only current ones when now is given */
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, NULL, 6000, collect_binding, &l), 0);
	assert_int_equal(l.n, 2);

	/* one REGISTER: remove one contact, add another, atomically */
	struct sw_binding_op ops[2];
	memset(ops, 0, sizeof(ops));
	ops[0].kind = SW_BINDING_DEL;
	mkbind(&ops[0].b, "alice@ex.com", "sip:alice@198.51.100.7", 0, 0);
	ops[1].kind = SW_BINDING_PUT;
	mkbind(&ops[1].b, "alice@ex.com", "sip:alice@203.0.113.9", 8000, 1000);
	assert_int_equal(sw_store_bindings_apply(f->st, ops, 2), 0);
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "alice@ex.com", 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].contact, "sip:alice@203.0.113.9");
	/* an invalid op refuses the whole request */
	ops[1].b.q = 1001;
	assert_int_equal(sw_store_bindings_apply(f->st, ops, 2), SW_EINVAL);
	ops[1].b.q = 0;
	ops[1].b.contact[0] = '\0';
	assert_int_equal(sw_store_bindings_apply(f->st, ops, 2), SW_EINVAL);

	assert_int_equal(sw_store_binding_del(f->st, "alice@ex.com", "sip:alice@203.0.113.9"), 0);
	assert_int_equal(sw_store_binding_del(f->st, "alice@ex.com", "sip:alice@203.0.113.9"),
			 SW_ENOTFOUND);
	size_t n = 99;
	assert_int_equal(sw_store_binding_del_aor(f->st, "alice@ex.com", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sw_store_binding_del_aor(f->st, "alice@ex.com", &n), 0);
	assert_int_equal(n, 0);
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, NULL, 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 1);
}

static void test_binding_expire(void **state)
{
	struct fx *f = *state;
	struct sw_binding b;
	static struct blist l;
	for (int i = 1; i <= 5; i++) {
		char c[32];
		snprintf(c, sizeof(c), "sip:a@10.0.0.%d", i);
		mkbind(&b, "a@ex.com", c, 100 * i, 0);
		assert_int_equal(sw_store_binding_put(f->st, &b), 0);
	}
	size_t n = 99;
	assert_int_equal(sw_store_binding_expire(f->st, 199, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sw_store_binding_expire(f->st, 300, &n), 0);   /* <= now */
	assert_int_equal(n, 2);
	assert_int_equal(sw_store_binding_expire(f->st, 300, &n), 0);
	assert_int_equal(n, 0);
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "a@ex.com", 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].expires + l.v[1].expires, 900);
}

/* Many threads submit without waiting; every completion must come exactly
 * once, with success, and (sqlite) only when the row is already committed:
 * the callback looks with a connection of its own. */
enum { THREADS = 8, PER_THREAD = 150 };

struct conc {
	struct fx *f;
	sqlite3 *probe;              /* sqlite: an independent connection */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t done, bad, invisible;
	unsigned char seen[THREADS * PER_THREAD];
};

struct ticket {
	struct conc *c;
	unsigned idx;
};

static bool committed(sqlite3 *db, unsigned idx)
{
	char contact[64], q[160];
	snprintf(contact, sizeof(contact), "sip:t%u@10.1.0.1", idx);
	snprintf(q, sizeof(q), "SELECT count(*) FROM bindings WHERE contact = '%s'", contact);
	sqlite3_stmt *s;
	bool yes = false;
	if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
		yes = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
		sqlite3_finalize(s);
	}
	return yes;
}

static void conc_done(void *arg, int err)
{
	struct ticket *t = arg;
	struct conc *c = t->c;
	bool visible = !c->probe || committed(c->probe, t->idx);
	pthread_mutex_lock(&c->lock);
	if (err || c->seen[t->idx]++)
		c->bad++;
	if (!visible)
		c->invisible++;
	c->done++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

struct worker {
	struct conc *c;
	unsigned id;
	struct ticket tickets[PER_THREAD];
	int errs;
};

static void *conc_worker(void *arg)
{
	struct worker *w = arg;
	struct sw_binding_op *op = calloc(1, sizeof(*op));
	for (unsigned i = 0; op && i < PER_THREAD; i++) {
		unsigned idx = w->id * PER_THREAD + i;
		char aor[32], contact[64];
		snprintf(aor, sizeof(aor), "t%u@ex.com", idx % 50);
		snprintf(contact, sizeof(contact), "sip:t%u@10.1.0.1", idx);
		op->kind = SW_BINDING_PUT;
		mkbind(&op->b, aor, contact, 100000 + idx, 1000);
		w->tickets[i] = (struct ticket){ w->c, idx };
		if (i % 3 == 2) {            /* some writers wait, most do not */
			if (sw_store_bindings_apply(w->c->f->st, op, 1))
				w->errs++;
			pthread_mutex_lock(&w->c->lock);
			w->c->seen[idx]++;
			w->c->done++;
			pthread_mutex_unlock(&w->c->lock);
		} else if (sw_store_bindings_submit(w->c->f->st, op, 1, conc_done, &w->tickets[i])) {
			w->errs++;
		} else if (i % 3 == 1) {
			/* with caller_commits the submitters commit (or leave it to the
			 * thread committing now); elsewhere a no-op */
			sw_store_commit(w->c->f->st);
		}
	}
	free(op);
	return NULL;
}

static int count_binding(void *arg, const struct sw_binding *b)
{
	(void)b;
	(*(size_t *)arg)++;
	return 0;
}

static void test_concurrent_writers(void **state)
{
	struct fx *f = *state;
	struct conc *c = calloc(1, sizeof(*c));
	struct worker *w = calloc(THREADS, sizeof(*w));
	pthread_t th[THREADS];
	assert_non_null(c);
	assert_non_null(w);
	c->f = f;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (sqlite_mode)
		assert_int_equal(sqlite3_open_v2(f->path, &c->probe, SQLITE_OPEN_READONLY, NULL),
				 SQLITE_OK);
	struct sw_store_stats s0, s1;
	sw_store_stats(f->st, &s0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i].c = c;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errs, 0);
	}
	pthread_mutex_lock(&c->lock);
	while (c->done < THREADS * PER_THREAD)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sw_store_stats(f->st, &s1);
	print_message("%s: %d binding writes from %d threads in %.1f ms, %llu commits\n",
		      sw_store_kind(f->st), THREADS * PER_THREAD, THREADS,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		      (unsigned long long)(s1.commits - s0.commits));
	assert_int_equal(c->bad, 0);
	assert_int_equal(c->invisible, 0);
	for (unsigned i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(c->seen[i], 1);
	if (sqlite_mode) {
		/* group commit: far fewer commits than writes */
		assert_true(s1.jobs - s0.jobs >= THREADS * PER_THREAD);
		assert_true(s1.commits - s0.commits < THREADS * PER_THREAD);
		sqlite3_close(c->probe);
		fx_reopen(f, NULL);
	}
	size_t n = 0;
	assert_int_equal(sw_store_binding_list(f->st, NULL, 0, count_binding, &n), 0);
	assert_int_equal(n, THREADS * PER_THREAD);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
	free(w);
}

/* Async submits queued at close are committed and completed by close. */
static int closed_done_count;
static void count_done(void *arg, int err)
{
	(void)arg;
	if (!err)
		closed_done_count++;
}

static void test_close_flushes(void **state)
{
	struct fx *f = *state;
	struct sw_binding_op op = { .kind = SW_BINDING_PUT };
	closed_done_count = 0;
	for (int i = 0; i < 50; i++) {
		char c[32];
		snprintf(c, sizeof(c), "sip:x@10.2.0.%d", i);
		mkbind(&op.b, "x@ex.com", c, 99999, 0);
		assert_int_equal(sw_store_bindings_submit(f->st, &op, 1, count_done, NULL), 0);
	}
	struct sw_auth_event ev = { .time_ms = 1000 };
	strcpy(ev.cause, "ok");
	assert_int_equal(sw_store_event_record(f->st, &ev), 0);
	if (sqlite_mode)
		fx_reopen(f, NULL);
	assert_int_equal(closed_done_count, 50);
	size_t n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "x@ex.com", 0, count_binding, &n), 0);
	assert_int_equal(n, 50);
}

/* ---- nonce counts -------------------------------------------------------- */

static void test_nc_tracker(void **state)
{
	struct fx *f = *state;
	struct sw_nc_tracker t;
	assert_int_equal(sw_store_nc_tracker(f->st, &t), 0);
	struct sw_nc_use u = { .nonce = SW_STR_LIT("nonce-1"), .nc = 1,
			       .cnonce = SW_STR_LIT("c1"), .response = SW_STR_LIT("r1"),
			       .branch = SW_STR_LIT("z9hG4bK1"), .expires = 1300 };
	assert_int_equal(t.ops->check(t.self, &u, 1000), SW_NC_NEW);
	assert_int_equal(t.ops->check(t.self, &u, 1001), SW_NC_RETRANSMISSION);
	u.branch = SW_STR_LIT("z9hG4bK2");                    /* same nc, new request */
	assert_int_equal(t.ops->check(t.self, &u, 1002), SW_NC_REPLAY);
	u.nc = 2;
	assert_int_equal(t.ops->check(t.self, &u, 1003), SW_NC_NEW);
	u.nc = 1;
	assert_int_equal(t.ops->check(t.self, &u, 1004), SW_NC_REPLAY);
	/* after expiry the nonce is forgotten */
	u.nc = 1;
	assert_int_equal(t.ops->check(t.self, &u, 1301), SW_NC_NEW);
	/* one-time nonces are accepted once */
	struct sw_nc_use o = { .nonce = SW_STR_LIT("nonce-2"), .nc = 1, .cnonce = SW_STR_LIT("c"),
			       .response = SW_STR_LIT("r"), .branch = SW_STR_LIT("b"),
			       .expires = 2000, .one_time = true };
	assert_int_equal(t.ops->check(t.self, &o, 1000), SW_NC_NEW);
	o.nc = 2;
	o.branch = SW_STR_LIT("b2");
	assert_int_equal(t.ops->check(t.self, &o, 1000), SW_NC_REPLAY);
	sw_nc_tracker_destroy(&t);
}

/* ---- events -------------------------------------------------------------- */

static void mkev(struct sw_auth_event *e, int64_t t, const char *aor, const char *auth_user,
		 const char *realm, const char *cause, const char *src)
{
	memset(e, 0, sizeof(*e));
	e->time_ms = t;
	SW_STORE_SET(e->source_addr, sw_str_from(src, strlen(src)));
	e->source_port = 5060;
	strcpy(e->transport, "udp");
	strcpy(e->method, "REGISTER");
	SW_STORE_SET(e->aor, sw_str_from(aor, strlen(aor)));
	SW_STORE_SET(e->auth_user, sw_str_from(auth_user, strlen(auth_user)));
	SW_STORE_SET(e->realm, sw_str_from(realm, strlen(realm)));
	strcpy(e->user_agent, "Phone/2.0");
	SW_STORE_SET(e->cause, sw_str_from(cause, strlen(cause)));
}

struct elist {
	struct sw_auth_event v[64];
	size_t n;
};

static int collect_event(void *arg, const struct sw_auth_event *e)
{
	struct elist *l = arg;
	if (l->n < 64)
		l->v[l->n++] = *e;
	return 0;
}

static void seed_events(struct sw_store *st)
{
	struct sw_auth_event e;
	mkev(&e, 1000000, "alice@ex.com", "alice", "ex.com", "no-credentials", "192.0.2.1");
	assert_int_equal(sw_store_event_record(st, &e), 0);
	mkev(&e, 1001000, "alice@ex.com", "alice", "ex.com", "wrong-password", "192.0.2.1");
	strcpy(e.detail, "response does not match");
	assert_int_equal(sw_store_event_record(st, &e), 0);
	mkev(&e, 1002000, "bob@ex.com", "bob", "ex.com", "unknown-user", "198.51.100.2");
	assert_int_equal(sw_store_event_record(st, &e), 0);
	/* the auth user is alice but the AOR is someone else's */
	mkev(&e, 1003000, "carol@ex.com", "alice", "ex.com", "auth-user-mismatch", "192.0.2.1");
	assert_int_equal(sw_store_event_record(st, &e), 0);
	mkev(&e, 1004000, "alice@ex.com", "alice", "ex.com", "ok", "2001:db8::9");
	assert_int_equal(sw_store_event_record(st, &e), 0);
	assert_int_equal(sw_store_flush(st), 0);
}

static void test_events_query(void **state)
{
	struct fx *f = *state;
	static struct elist l;
	seed_events(f->st);

	struct sw_event_query q = { .user = "alice", .domain = "EX.com" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 4);                   /* newest first */
	assert_string_equal(l.v[0].cause, "ok");
	assert_string_equal(l.v[0].source_addr, "2001:db8::9");
	assert_string_equal(l.v[1].cause, "auth-user-mismatch");
	assert_string_equal(l.v[2].cause, "wrong-password");
	assert_string_equal(l.v[2].detail, "response does not match");
	assert_int_equal(l.v[2].time_ms, 1001000);
	assert_int_equal(l.v[2].source_port, 5060);
	assert_string_equal(l.v[2].user_agent, "Phone/2.0");
	assert_string_equal(l.v[3].cause, "no-credentials");
	assert_true(l.v[0].id > l.v[1].id);

	q.limit = 2;
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 2);

	struct sw_event_query all = { .since_ms = 1002000 };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &all, collect_event, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[2].cause, "unknown-user");

	struct sw_event_query bycause = { .cause = "wrong-password" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &bycause, collect_event, &l), 0);
	assert_int_equal(l.n, 1);

	struct sw_event_query bysrc = { .source_addr = "192.0.2.1" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &bysrc, collect_event, &l), 0);
	assert_int_equal(l.n, 3);

	struct sw_event_query none = { .user = "nobody", .domain = "ex.com" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &none, collect_event, &l), 0);
	assert_int_equal(l.n, 0);
	struct sw_event_query half = { .user = "alice" };
	assert_int_equal(sw_store_event_query(f->st, &half, collect_event, &l), SW_EINVAL);
}

static void test_events_retention(void **state)
{
	struct fx *f = *state;
	static struct elist l;
	struct sw_store_opts o = { .events_max_rows = 10, .events_max_age = 3600 };
	if (sqlite_mode) {
		fx_reopen(f, &o);
	} else {
		sw_store_close(f->st);
		assert_int_equal(fx_open(f, &o), 0);
	}
	struct sw_auth_event e;
	for (int i = 0; i < 25; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		mkev(&e, 5000000 + i, "a@ex.com", "a", "ex.com", "ok", ip);
		assert_int_equal(sw_store_event_record(f->st, &e), 0);
	}
	assert_int_equal(sw_store_flush(f->st), 0);
	struct sw_event_query q = { 0 };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 10);
	assert_string_equal(l.v[0].source_addr, "10.0.0.24");
	assert_string_equal(l.v[9].source_addr, "10.0.0.15");

	/* by age: an hour and a bit later everything above is gone */
	size_t removed = 0;
	assert_int_equal(sw_store_event_prune(f->st, 5000000 + 3601 * 1000, &removed), 0);
	assert_true(removed >= 10);
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 0);
}

/* Untrusted header content is truncated safely and control characters are
 * neutralised before they reach a record. */
static void test_field_set(void **state)
{
	(void)state;
	char small[8];
	SW_STORE_SET(small, SW_STR_LIT("ab\r\nc\x1b"));
	assert_string_equal(small, "ab??c?");
	SW_STORE_SET(small, SW_STR_LIT("abcdefghij"));
	assert_string_equal(small, "abcdefg");
	SW_STORE_SET(small, SW_STR_LIT("abcdef\xc3\xa9"));   /* é would be cut in half */
	assert_string_equal(small, "abcdef");
	SW_STORE_SET(small, SW_STR_LIT("abcde\xc3\xa9z"));   /* é fits whole */
	assert_string_equal(small, "abcde\xc3\xa9");
	SW_STORE_SET(small, SW_STR_NULL);
	assert_string_equal(small, "");
}

/* ---- sqlite only --------------------------------------------------------- */

static void test_sqlite_persist(void **state)
{
	struct fx *f = *state;
	struct sw_credentials c;
	struct sw_binding b;
	const char *pw = "Plaintext-Never-Stored-42";
	cred("dave", "ex.com", pw, &c);
	assert_int_equal(sw_store_user_add(f->st, "dave", "ex.com", &c, false, 7), 0);
	mkbind(&b, "dave@ex.com", "sip:dave@10.9.9.9", 4242, 1000);
	assert_int_equal(sw_store_binding_put(f->st, &b), 0);
	seed_events(f->st);
	fx_reopen(f, NULL);

	struct sw_subscriber s;
	assert_int_equal(sw_store_user_get(f->st, "dave", "ex.com", &s), 0);
	assert_string_equal(s.cred.ha1[SW_HASH_SHA256], c.ha1[SW_HASH_SHA256]);
	static struct blist l;
	l.n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "dave@ex.com", 0, collect_binding, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].expires, 4242);
	static struct elist el;
	struct sw_event_query q = { .user = "alice", .domain = "ex.com" };
	el.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &el), 0);
	assert_int_equal(el.n, 4);

	/* the files are private (the state and the event log), and hold no
	 * password */
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char evp[160];
	snprintf(evp, sizeof(evp), "%s-events", f->path);
	assert_int_equal(stat(evp, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	sw_store_close(f->st);
	f->st = NULL;
	const char *suffix[] = { "", "-wal" };
	for (int i = 0; i < 2; i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		FILE *fp = fopen(p, "rb");
		if (!fp)
			continue;
		size_t cap = 1 << 22, n;
		char *buf = malloc(cap);
		assert_non_null(buf);
		n = fread(buf, 1, cap, fp);
		fclose(fp);
		assert_null(memmem(buf, n, pw, strlen(pw)));
		assert_non_null(memmem(buf, n, c.ha1[SW_HASH_MD5], 32));
		free(buf);
	}
	assert_int_equal(fx_open(f, NULL), 0);
}

static void test_sqlite_schema(void **state)
{
	struct fx *f = *state;
	sw_store_close(f->st);
	f->st = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 3);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* a database from a newer sipwarden is refused, not damaged */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version(version) VALUES (99)", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(fx_open(f, NULL), SW_EVERSION);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 99", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(fx_open(f, NULL), 0);   /* reopening migrates nothing twice */

	/* not there and not asked to create: not found */
	char missing[160];
	struct sw_store *st;
	snprintf(missing, sizeof(missing), "sqlite:%s/none.db", f->dir);
	assert_int_equal(sw_store_open(&st, missing, NULL), SW_ENOTFOUND);
	assert_int_equal(sw_store_open(&st, "nosuch:x", NULL), SW_EINVAL);
	assert_int_equal(sw_store_open(&st, "sqlite:", NULL), SW_EINVAL);
	assert_string_equal(sw_store_kind(f->st), "sqlite");
}

static int count_rows(sqlite3 *db, const char *q)
{
	sqlite3_stmt *s;
	int n = -1;
	if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The events live in the event log (PATH-events), not in the state
 * database; a database of schema 1, with its events inside, has them moved
 * there when it is opened. */
static void test_sqlite_event_log(void **state)
{
	struct fx *f = *state;
	struct sw_auth_event e;
	mkev(&e, 7000, "alice@ex.com", "alice", "ex.com", "ok", "192.0.2.9");
	assert_int_equal(sw_store_event_record(f->st, &e), 0);
	assert_int_equal(sw_store_flush(f->st), 0);
	sqlite3 *db, *ev;
	char evp[160];
	snprintf(evp, sizeof(evp), "%s-events", f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_open(evp, &ev), SQLITE_OK);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'auth_events'"), 0);
	assert_int_equal(count_rows(ev, "SELECT count(*) FROM auth_events WHERE time_ms = 7000"), 1);
	sw_store_close(f->st);
	f->st = NULL;

	/* back to schema 1: events in the state database, two of them, no bans */
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE auth_events (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
		" source_addr TEXT NOT NULL, source_port INTEGER NOT NULL, transport TEXT NOT NULL,"
		" method TEXT NOT NULL, aor TEXT NOT NULL, auth_user TEXT NOT NULL, realm TEXT NOT NULL,"
		" user_agent TEXT NOT NULL, cause TEXT NOT NULL, detail TEXT NOT NULL);"
		"INSERT INTO auth_events VALUES (100, 8000, '192.0.2.1', 5060, 'udp', 'REGISTER',"
		" 'bob@ex.com', 'bob', 'ex.com', 'UA', 'wrong-password', '');"
		"INSERT INTO auth_events VALUES (101, 9000, '192.0.2.1', 5060, 'udp', 'REGISTER',"
		" 'bob@ex.com', 'bob', 'ex.com', 'UA', 'ok', '');"
		"DROP TABLE bans; DROP TABLE ban_changes;"
		"DELETE FROM schema_version WHERE version >= 2;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	sqlite3_close(ev);
	assert_int_equal(fx_open(f, NULL), 0);
	static struct elist l;
	struct sw_event_query q = { .user = "bob", .domain = "ex.com" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].cause, "ok");          /* newest first */
	assert_int_equal(l.v[1].time_ms, 8000);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'auth_events'"), 0);
	assert_int_equal(count_rows(db, "SELECT max(version) FROM schema_version"), 3);
	sqlite3_close(db);
	/* and the event recorded before is still there, once */
	struct sw_event_query qa = { .user = "alice", .domain = "ex.com" };
	l.n = 0;
	assert_int_equal(sw_store_event_query(f->st, &qa, collect_event, &l), 0);
	assert_int_equal(l.n, 1);
}

/* The durability promise: kill -9 a process that is writing bindings; every
 * binding whose completion was signalled must be there after reopening. */
static int ack_fd;
static void ack_done(void *arg, int err)
{
	uint32_t idx = (uint32_t)(uintptr_t)arg;
	if (!err && write(ack_fd, &idx, sizeof(idx)) != sizeof(idx))
		_exit(3);
}

static void child_writer(const char *spec)
{
	struct sw_store *st;
	struct sw_store_opts o = { .create = true, .caller_commits = caller_commits };
	struct sw_binding_op *op = calloc(1, sizeof(*op));
	if (!op || sw_store_open(&st, spec, &o))
		_exit(2);
	for (uint32_t i = 0;; i++) {
		char c[48];
		snprintf(c, sizeof(c), "sip:k%u@10.3.0.1", i);
		op->kind = SW_BINDING_PUT;
		mkbind(&op->b, "k@ex.com", c, 100000 + i, 0);
		if (sw_store_bindings_submit(st, op, 1, ack_done, (void *)(uintptr_t)i))
			_exit(4);
		if (i % 4 == 3)
			sw_store_commit(st);    /* caller_commits: what a worker does */
		if (i % 16 == 15)
			sw_store_flush(st);     /* keep the queue bounded */
	}
}

static int check_kill_expiry(void *arg, const struct sw_binding *b)
{
	unsigned i;
	if (sscanf(b->contact, "sip:k%u@", &i) != 1 || b->expires != 100000 + (int64_t)i)
		(*(size_t *)arg)++;
	return 0;
}

static void test_sqlite_kill9(void **state)
{
	struct fx *f = *state;
	int p[2];
	sw_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		ack_fd = p[1];
		child_writer(f->spec);
	}
	close(p[1]);
	uint32_t idx, max = 0;
	size_t acked = 0;
	unsigned char *seen = calloc(1u << 20, 1);
	assert_non_null(seen);
	while (acked < 400 && read(p[0], &idx, sizeof(idx)) == sizeof(idx)) {
		assert_true(idx < (1u << 20));
		seen[idx] = 1;
		acked++;
	}
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (read(p[0], &idx, sizeof(idx)) == sizeof(idx)) {   /* acks sent before death */
		seen[idx] = 1;
		acked++;
	}
	close(p[0]);
	assert_true(acked >= 400);
	assert_int_equal(fx_open(f, NULL), 0);
	size_t bad_expiry = 0, missing = 0;
	assert_int_equal(sw_store_binding_list(f->st, "k@ex.com", 0, check_kill_expiry, &bad_expiry),
			 0);
	assert_int_equal(bad_expiry, 0);
	for (uint32_t i = 0; i < (1u << 20); i++) {
		if (!seen[i])
			continue;
		if (i > max)
			max = i;
		char c[48];
		snprintf(c, sizeof(c), "sip:k%u@10.3.0.1", i);
		if (sw_store_binding_del(f->st, "k@ex.com", c) != 0)
			missing++;
	}
	print_message("kill -9 after %zu acknowledged writes (highest %u): %zu missing\n", acked,
		      max, missing);
	assert_int_equal(missing, 0);
	free(seen);
}

/* Two handles on one file (a server and `sipwarden user`): changes by one
 * are seen by the other through the user version. */
static void test_sqlite_two_handles(void **state)
{
	struct fx *f = *state;
	struct sw_store *other;
	struct sw_credentials c;
	uint64_t v0, v1, nowv;
	bool all;
	assert_int_equal(sw_store_open(&other, f->spec, NULL), 0);
	assert_int_equal(sw_store_user_version(f->st, &v0), 0);
	cred("erin", "ex.com", "pw", &c);
	assert_int_equal(sw_store_user_add(other, "erin", "ex.com", &c, false, 1), 0);
	assert_int_equal(sw_store_user_version(f->st, &v1), 0);
	assert_true(v1 > v0);
	struct changes ch = { 0 };
	assert_int_equal(sw_store_user_changes(f->st, v0, collect_change, &ch, &nowv, &all), 0);
	assert_int_equal(ch.n, 1);
	assert_string_equal(ch.names[0], "erin@ex.com");
	struct sw_subscriber s;
	assert_int_equal(sw_store_user_get(f->st, "erin", "ex.com", &s), 0);
	sw_store_close(other);
}

/* ---- reports ------------------------------------------------------------- */

static void test_report(void **state)
{
	(void)state;
	char user[SW_STORE_USER_MAX + 1], dom[SW_STORE_DOMAIN_MAX + 1];
	assert_int_equal(sw_aor_split("alice@Example.COM", user, dom), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(dom, "example.com");
	assert_int_equal(sw_aor_split("sip:bob@ex.com", user, dom), 0);
	assert_string_equal(user, "bob");
	assert_int_equal(sw_aor_split("nobody", user, dom), SW_EINVAL);
	assert_int_equal(sw_aor_split("@ex.com", user, dom), SW_EINVAL);
	assert_int_equal(sw_aor_split("a@", user, dom), SW_EINVAL);
	assert_int_equal(sw_aor_split("a b@ex.com", user, dom), SW_EINVAL);

	uint64_t secs;
	assert_int_equal(sw_duration_parse("10m", &secs), 0);
	assert_int_equal(secs, 600);
	assert_int_equal(sw_duration_parse("2h", &secs), 0);
	assert_int_equal(secs, 7200);
	assert_int_equal(sw_duration_parse("1d", &secs), 0);
	assert_int_equal(secs, 86400);
	assert_int_equal(sw_duration_parse("45", &secs), 0);
	assert_int_equal(secs, 45);
	assert_int_equal(sw_duration_parse("10x", &secs), SW_EPARSE);
	assert_int_equal(sw_duration_parse("m", &secs), SW_EPARSE);
	assert_int_equal(sw_duration_parse("", &secs), SW_EPARSE);
	assert_int_equal(sw_duration_parse("1hh", &secs), SW_EPARSE);

	struct sw_auth_event e;
	char mem[2048];
	struct sw_buf b;
	mkev(&e, 1700000000123, "alice@ex.com", "alice", "ex.com", "wrong-password", "192.0.2.1");
	strcpy(e.detail, "digest \"response\" differs");
	e.id = 5;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_event_render_text(&b, &e, true);
	const char *t = sw_buf_cstr(&b);
	const struct sw_cause_info *ci = sw_cause_get(SW_CAUSE_WRONG_PASSWORD);
	assert_non_null(strstr(t, "2023-11-14 22:13:20  192.0.2.1:5060 udp  REGISTER  alice@ex.com\n"));
	assert_non_null(strstr(t, "wrong-password (error): "));
	assert_non_null(strstr(t, ci->explain));
	assert_non_null(strstr(t, ci->fix));
	assert_non_null(strstr(t, "detail: digest \"response\" differs"));

	sw_buf_init(&b, mem, sizeof(mem));
	sw_event_render_json(&b, &e);
	t = sw_buf_cstr(&b);
	assert_int_equal(sw_buf_status(&b), 0);
	assert_non_null(strstr(t, "\"time\":\"2023-11-14T22:13:20.123Z\""));
	assert_non_null(strstr(t, "\"cause\":\"wrong-password\""));
	assert_non_null(strstr(t, "\"detail\":\"digest \\\"response\\\" differs\""));
	assert_non_null(strstr(t, "\"severity\":\"error\""));

	/* an IPv6 source, and a cause id this version does not know */
	mkev(&e, 0, "", "x", "ex.com", "from-the-future", "2001:db8::1");
	sw_buf_init(&b, mem, sizeof(mem));
	sw_event_render_text(&b, &e, true);
	t = sw_buf_cstr(&b);
	assert_non_null(strstr(t, "[2001:db8::1]:5060"));
	assert_non_null(strstr(t, "    from-the-future\n"));
	sw_buf_init(&b, mem, sizeof(mem));
	sw_event_render_json(&b, &e);
	assert_non_null(strstr(sw_buf_cstr(&b), "\"explanation\":null"));

	struct sw_binding bd;
	mkbind(&bd, "alice@ex.com", "sip:alice@192.0.2.10", 1000 + 3725, 500);
	sw_buf_init(&b, mem, sizeof(mem));
	sw_binding_render_text(&b, &bd, 1000);
	assert_string_equal(sw_buf_cstr(&b), "alice@ex.com  sip:alice@192.0.2.10  expires in "
					     "62m05s  q=0.500  from 192.0.2.10:5062 udp  "
					     "\"Phone/1.0\"\n");
	sw_buf_init(&b, mem, sizeof(mem));
	sw_binding_render_json(&b, &bd, 1000);
	t = sw_buf_cstr(&b);
	assert_non_null(strstr(t, "\"expires_in\":3725,\"q\":0.500"));
	assert_non_null(strstr(t, "\"aor\":\"alice@ex.com\""));

	struct sw_subscriber s = { .user = "al\"ice", .domain = "ex.com", .disabled = true,
				   .created = 1, .changed = 2 };
	sw_buf_init(&b, mem, sizeof(mem));
	sw_subscriber_render_json(&b, &s);
	assert_string_equal(sw_buf_cstr(&b), "{\"user\":\"al\\\"ice\",\"domain\":\"ex.com\","
					     "\"aor\":\"al\\\"ice@ex.com\",\"disabled\":true,"
					     "\"created\":1,\"changed\":2}");
	assert_null(strstr(sw_buf_cstr(&b), "ha1"));
}

/* caller_commits: nothing is committed until a thread calls
 * sw_store_commit(); the completions run in that thread. Events need no
 * such call: the event log's thread writes them. */
struct self_done {
	pthread_t thread;
	int calls, foreign, errs;
};

static void self_done_fn(void *arg, int err)
{
	struct self_done *d = arg;
	d->calls++;
	d->foreign += !pthread_equal(pthread_self(), d->thread);
	d->errs += err != 0;
}

static int count_event(void *arg, const struct sw_auth_event *ev)
{
	(void)ev;
	(*(size_t *)arg)++;
	return 0;
}

static void test_caller_commits(void **state)
{
	struct fx *f = *state;
	struct sw_store_opts o = { .caller_commits = true, .events_linger_ms = 1 };
	fx_reopen(f, &o);
	struct self_done d = { .thread = pthread_self() };
	struct sw_binding_op op = { .kind = SW_BINDING_PUT };
	mkbind(&op.b, "cc@ex.com", "sip:cc@10.4.0.1", 99999, 0);
	assert_int_equal(sw_store_bindings_submit(f->st, &op, 1, self_done_fn, &d), 0);
	usleep(20000);
	assert_int_equal(d.calls, 0);              /* no writer thread took it */
	size_t n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "cc@ex.com", 0, count_binding, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sw_store_commit(f->st), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.foreign, 0);            /* completed in the committing thread */
	assert_int_equal(d.errs, 0);
	assert_int_equal(sw_store_binding_list(f->st, "cc@ex.com", 0, count_binding, &n), 0);
	assert_int_equal(n, 1);

	/* 200 events and a write: the events are written by the event log's
	 * own thread, with no sw_store_commit(); the write still waits for one */
	struct sw_auth_event ev = { .time_ms = 5000000 };
	strcpy(ev.cause, "ok");
	strcpy(ev.aor, "cc@ex.com");
	for (int i = 0; i < 200; i++)
		assert_int_equal(sw_store_event_record(f->st, &ev), 0);
	mkbind(&op.b, "cc@ex.com", "sip:cc@10.4.0.2", 99999, 0);
	assert_int_equal(sw_store_bindings_submit(f->st, &op, 1, self_done_fn, &d), 0);
	struct sw_event_query q = { .cause = "ok", .since_ms = 5000000 };
	for (int tries = 0; tries < 400; tries++) {       /* bounded: 2 s */
		n = 0;
		assert_int_equal(sw_store_event_query(f->st, &q, count_event, &n), 0);
		if (n == 200)
			break;
		usleep(5000);
	}
	assert_int_equal(n, 200);
	assert_int_equal(d.calls, 1);              /* the write is not committed... */
	assert_int_equal(sw_store_commit(f->st), 0);
	assert_int_equal(d.calls, 2);              /* ...until this thread commits it */
	assert_int_equal(d.foreign, 0);

	/* a synchronous call commits by itself (no writer thread to wait for) */
	mkbind(&op.b, "cc@ex.com", "sip:cc@10.4.0.3", 99999, 0);
	assert_int_equal(sw_store_bindings_apply(f->st, &op, 1), 0);
	n = 0;
	assert_int_equal(sw_store_binding_list(f->st, "cc@ex.com", 0, count_binding, &n), 0);
	assert_int_equal(n, 3);
}

#define BOTH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest common[] = {
	BOTH(test_user_crud),      BOTH(test_user_names),     BOTH(test_user_list),
	BOTH(test_user_version),   BOTH(test_user_import),    BOTH(test_bindings),
	BOTH(test_binding_expire), BOTH(test_concurrent_writers), BOTH(test_close_flushes),
	BOTH(test_nc_tracker),     BOTH(test_events_query),   BOTH(test_events_retention),
};

static const struct CMUnitTest sqlite_only[] = {
	BOTH(test_sqlite_persist),
	BOTH(test_sqlite_schema),
	BOTH(test_sqlite_event_log),
	BOTH(test_sqlite_two_handles),
	BOTH(test_sqlite_kill9),
	BOTH(test_caller_commits),
};

static const struct CMUnitTest plain[] = {
	cmocka_unit_test(test_field_set),
	cmocka_unit_test(test_report),
};

int main(void)
{
	int fails = 0;
	sqlite_mode = false;
	fails += cmocka_run_group_tests_name("store memory", common, NULL, NULL);
	sqlite_mode = true;
	fails += cmocka_run_group_tests_name("store sqlite", common, NULL, NULL);
	fails += cmocka_run_group_tests_name("store sqlite only", sqlite_only, NULL, NULL);
	caller_commits = true;      /* again, as `sipwarden serve` opens it */
	fails += cmocka_run_group_tests_name("store sqlite, caller commits", common, NULL, NULL);
	fails += cmocka_run_group_tests_name("store sqlite only, caller commits", sqlite_only, NULL, NULL);
	caller_commits = false;
	fails += cmocka_run_group_tests_name("store reports", plain, NULL, NULL);
	return fails ? 1 : 0;
}
