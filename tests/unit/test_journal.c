/* The journal entry of an auth decision (lib/registrar/journal.c): the
 * fields journalctl selects on, the priority by cause severity, empty values
 * left out, and JOURNAL_STREAM recognised only for the stream it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/registrar.h"
#include "registrar/journal.h"

static struct sw_auth_event event(const char *cause)
{
	struct sw_auth_event ev;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.source_addr, sizeof(ev.source_addr), "192.0.2.7");
	ev.source_port = 5062;
	snprintf(ev.transport, sizeof(ev.transport), "udp");
	snprintf(ev.method, sizeof(ev.method), "REGISTER");
	snprintf(ev.aor, sizeof(ev.aor), "alice@example.com");
	snprintf(ev.auth_user, sizeof(ev.auth_user), "alice");
	snprintf(ev.realm, sizeof(ev.realm), "example.com");
	snprintf(ev.cause, sizeof(ev.cause), "%s", cause);
	snprintf(ev.detail, sizeof(ev.detail), "the response does not match");
	return ev;
}

/* The fields as "A=1\nB=2\n", checking each is one line without a NUL. */
static void joined(const struct sw_journal_entry *e, char *out, size_t cap)
{
	size_t len = 0;
	for (unsigned i = 0; i < e->n; i++) {
		const char *p = e->iov[i].iov_base;
		size_t n = e->iov[i].iov_len;
		assert_null(memchr(p, '\n', n));
		assert_null(memchr(p, '\0', n));
		assert_true(len + n + 2 <= cap);
		memcpy(out + len, p, n);
		len += n;
		out[len++] = '\n';
	}
	out[len] = '\0';
}

static void test_fields(void **state)
{
	(void)state;
	struct sw_auth_event ev = event("wrong-password");
	struct sw_journal_entry e;
	char all[8192];
	sw__journal_build(&e, &ev, "192.0.2.7:5062 udp REGISTER alice@example.com cause=wrong-password");
	joined(&e, all, sizeof(all));
	assert_string_equal(all, "PRIORITY=4\n"
				 "SYSLOG_IDENTIFIER=sipwarden\n"
				 "CAUSE=wrong-password\n"
				 "SOURCE=192.0.2.7\n"
				 "SOURCE_PORT=5062\n"
				 "TRANSPORT=udp\n"
				 "METHOD=REGISTER\n"
				 "USER=alice@example.com\n"
				 "AUTH_USER=alice\n"
				 "REALM=example.com\n"
				 "DETAIL=the response does not match\n"
				 "MESSAGE=192.0.2.7:5062 udp REGISTER alice@example.com cause=wrong-password\n");
}

static const char *field(const struct sw_journal_entry *e, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (unsigned i = 0; i < e->n; i++) {
		const char *p = e->iov[i].iov_base;
		if (e->iov[i].iov_len > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			snprintf(out, cap, "%.*s", (int)(e->iov[i].iov_len - nl - 1), p + nl + 1);
			return out;
		}
	}
	return NULL;
}

static void test_priority_and_user(void **state)
{
	(void)state;
	char v[600];
	struct sw_journal_entry e;
	struct sw_auth_event ev = event("ok");
	sw__journal_build(&e, &ev, "m");
	assert_string_equal(field(&e, "PRIORITY", v, sizeof(v)), "6");
	ev = event("stale-without-flag"); /* severity warning */
	sw__journal_build(&e, &ev, "m");
	assert_string_equal(field(&e, "PRIORITY", v, sizeof(v)), "5");
	ev = event("no-such-cause");
	sw__journal_build(&e, &ev, "m");
	assert_string_equal(field(&e, "PRIORITY", v, sizeof(v)), "4");

	/* no AOR: USER is the digest username; empty fields are left out */
	ev = event("ok");
	ev.aor[0] = '\0';
	ev.realm[0] = '\0';
	sw__journal_build(&e, &ev, "m");
	assert_string_equal(field(&e, "USER", v, sizeof(v)), "alice");
	assert_null(field(&e, "REALM", v, sizeof(v)));
	assert_null(field(&e, "USER_AGENT", v, sizeof(v)));
	assert_int_equal(e.n, 11);
}

static void test_longest_fields_fit(void **state)
{
	(void)state;
	struct sw_auth_event ev = event("wrong-password");
	memset(ev.aor, 'a', sizeof(ev.aor) - 1);
	memset(ev.auth_user, 'u', sizeof(ev.auth_user) - 1);
	memset(ev.realm, 'r', sizeof(ev.realm) - 1);
	memset(ev.user_agent, 'g', sizeof(ev.user_agent) - 1);
	memset(ev.detail, 'd', sizeof(ev.detail) - 1);
	char msg[2048];
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	struct sw_journal_entry e;
	sw__journal_build(&e, &ev, msg);
	assert_int_equal(e.n, SW_JOURNAL_MAX_FIELDS);
	char all[8192];
	joined(&e, all, sizeof(all));
	char v[2100];
	assert_int_equal(strlen(field(&e, "MESSAGE", v, sizeof(v))), sizeof(msg) - 1);
	assert_int_equal(strlen(field(&e, "USER_AGENT", v, sizeof(v))), sizeof(ev.user_agent) - 1);
}

static void test_journal_stream(void **state)
{
	(void)state;
	const char *dir = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/sw_journal_XXXXXX", dir ? dir : "/tmp");
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char js[64];
	unsetenv("JOURNAL_STREAM");
	assert_false(sw_journal_stream_is(fd));
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	assert_true(sw_journal_stream_is(fd));
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	assert_false(sw_journal_stream_is(fd)); /* redirected elsewhere */
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_false(sw_journal_stream_is(fd));
	unsetenv("JOURNAL_STREAM");
	close(fd);
	unlink(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_priority_and_user),
		cmocka_unit_test(test_longest_fields_fit),
		cmocka_unit_test(test_journal_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
