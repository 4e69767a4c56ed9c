/* The configuration: defaults, the INI file, errors with file:line,
 * command-line overrides, validation, printing. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "sipwarden/config.h"

#define DATA "tests/data/config/"

static struct sw_config *new_cfg(void)
{
	struct sw_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	sw_config_defaults(c, "1.2.3");
	return c;
}

static const char *listen_at(const struct sw_config *c, unsigned i, char *out, size_t cap)
{
	static const char *const tp[] = { "udp", "tcp", "tls" };
	char a[64];
	sw_sockaddr_format((const struct sockaddr *)&c->listen[i].addr, a, sizeof(a));
	snprintf(out, cap, "%s:%s", tp[c->listen[i].tp], a);
	return out;
}

/* The printed form, for comparing whole configurations. */
static char *printed(const struct sw_config *c)
{
	size_t cap = 64 * 1024;
	char *mem = malloc(cap);
	assert_non_null(mem);
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	assert_int_equal(sw_config_print(c, &b), 0);
	sw_buf_cstr(&b);
	return mem;
}

/* Writes text (len bytes) to a temporary file; returns its path. */
static char *write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/sw_test_config_XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads text over c; returns the result and the reason in why. */
static int load_text(struct sw_config *c, const char *text, char *why, size_t cap, char **pathp)
{
	char *path = write_tmp(text, strlen(text));
	int r = sw_config_load(c, path, why, cap);
	if (pathp)
		*pathp = path;
	else {
		unlink(path);
		free(path);
	}
	return r;
}

static void test_defaults(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char a[80], why[256];
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(listen_at(c, 0, a, sizeof(a)), "udp:127.0.0.1:5060");
	assert_string_equal(listen_at(c, 1, a, sizeof(a)), "tcp:127.0.0.1:5060");
	assert_string_equal(c->db, "./var/sipwarden.db");
	assert_string_equal(c->secret_file, "");
	assert_int_equal(c->ndomains, 0);
	assert_int_equal(c->min_expires, 60);
	assert_int_equal(c->max_expires, 3600);
	assert_int_equal(c->default_expires, 3600);
	assert_int_equal(c->max_contacts, 10);
	assert_false(c->allow_register_others);
	assert_int_equal(c->nalgorithms, 1);
	assert_int_equal(c->algorithms[0], SW_ALG_MD5);
	assert_int_equal(c->qop_mask, SW_QOP_BIT(SW_QOP_AUTH));
	assert_false(c->allow_no_qop);
	assert_int_equal(c->nonce_lifetime, 300);
	assert_false(c->one_time_nonces);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->tcp_max_connections, 1024);
	assert_int_equal(c->tcp_idle_timeout, 300);
	assert_int_equal(c->max_message_size, 65536);
	assert_int_equal(c->log_format, SW_LOG_AUTO);
	assert_int_equal(c->event_retention_rows, 100000);
	assert_int_equal(c->event_retention_days, 30);
	assert_string_equal(c->user_agent, "sipwarden/1.2.3");
	sw_config_defaults(c, NULL);
	assert_string_equal(c->user_agent, "sipwarden");

	/* The defaults lack only a domain. */
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "no domain"));
	assert_int_equal(sw_config_set(c, "domain", "example.com", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), 0);
	free(c);
}

static void test_full_file(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char a[80], why[256] = "";
	int r = sw_config_load(c, DATA "full.conf", why, sizeof(why));
	if (r)
		fail_msg("%s", why);
	assert_int_equal(c->nlisten, 3);
	assert_string_equal(listen_at(c, 0, a, sizeof(a)), "udp:192.0.2.10:5070");
	assert_string_equal(listen_at(c, 1, a, sizeof(a)), "tcp:[2001:db8::1]:5070");
	assert_string_equal(listen_at(c, 2, a, sizeof(a)), "udp:[::1]:5060");
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->max_message_size, 4096);
	assert_string_equal(c->user_agent, "PBX (example; build 7)");
	assert_int_equal(c->ndomains, 3);
	assert_string_equal(c->domains[0], "example.com");
	assert_string_equal(c->domains[1], "sip.example.org");
	assert_string_equal(c->domains[2], "192.0.2.10");
	assert_int_equal(c->min_expires, 30);
	assert_int_equal(c->max_expires, 7200);
	assert_int_equal(c->default_expires, 600);
	assert_int_equal(c->max_contacts, 3);
	assert_true(c->allow_register_others);
	assert_int_equal(c->nalgorithms, 3);
	assert_int_equal(c->algorithms[0], SW_ALG_SHA256);
	assert_int_equal(c->algorithms[1], SW_ALG_MD5);
	assert_int_equal(c->algorithms[2], SW_ALG_SHA512_256);
	assert_int_equal(c->qop_mask, SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT));
	assert_true(c->allow_no_qop);
	assert_int_equal(c->nonce_lifetime, 120);
	assert_true(c->one_time_nonces);
	assert_string_equal(c->secret_file, "/etc/sipwarden/nonce.secret");
	assert_string_equal(c->db, "/var/lib/sipwarden/registrar.db");
	assert_int_equal(c->event_retention_rows, 5000);
	assert_int_equal(c->event_retention_days, 7);
	assert_int_equal(c->tcp_max_connections, 200);
	assert_int_equal(c->tcp_idle_timeout, 90);
	assert_string_equal(c->tls_certificate, "/etc/sipwarden/cert.pem");
	assert_string_equal(c->tls_private_key, "/etc/sipwarden/key.pem");
	assert_int_equal(c->log_format, SW_LOG_JSON);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), 0);
	free(c);
}

/* The example file holds every key with its default: loading it changes
 * nothing, and each key of the table appears in it. */
static void test_example_config(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg(), *d = new_cfg();
	char why[256] = "";
	int r = sw_config_load(c, "etc/sipwarden.conf", why, sizeof(why));
	if (r)
		fail_msg("%s", why);
	char *pc = printed(c), *pd = printed(d);
	assert_string_equal(pc, pd);
	/* Every key printed is in the example (commented or not). */
	FILE *f = fopen("etc/sipwarden.conf", "r");
	assert_non_null(f);
	static char text[64 * 1024];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	for (char *line = strtok(pd, "\n"); line; line = strtok(NULL, "\n")) {
		char key[64];
		if (sscanf(line, "%63[a-z_] =", key) != 1 || line[0] == '[')
			continue;
		char pat[80];
		snprintf(pat, sizeof(pat), "\n%s =", key);
		char pat2[80];
		snprintf(pat2, sizeof(pat2), "\n;%s =", key);
		if (!strstr(text, pat) && !strstr(text, pat2))
			fail_msg("key %s is missing from etc/sipwarden.conf", key);
	}
	free(pc);
	free(pd);
	free(c);
	free(d);
}

/* [ban]: the limits, the action, the allowlist and its errors. */
static void test_ban_keys(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char why[256] = "", a[64];
	assert_true(c->ban.enabled);
	assert_false(c->ban.reject);
	assert_int_equal(c->ban.user_failures, 10);
	assert_int_equal(load_text(c, "[ban]\naction = 403\nuser_failures = 3\n"
				   "allow = 192.0.2.0/24, 2001:db8::/32\nallow = 10.1.2.3\n", why, sizeof(why), NULL), 0);
	assert_true(c->ban.reject);
	assert_int_equal(c->ban.user_failures, 3);
	assert_int_equal(c->ban.nallow, 3);
	sw_prefix_format(&c->ban.allow[1], a, sizeof(a));
	assert_string_equal(a, "2001:db8::/32");
	/* a flag's allow replaces the file's list */
	assert_int_equal(sw_config_set(c, "--allow", "127.0.0.2", why, sizeof(why)), 0);
	assert_int_equal(c->ban.nallow, 1);
	assert_int_equal(load_text(c, "[ban]\nallow = 192.0.2.1/24\n", why, sizeof(why), NULL), SW_EINVAL);
	assert_non_null(strstr(why, "no host bits set"));
	assert_int_equal(load_text(c, "[ban]\naction = tarpit\n", why, sizeof(why), NULL), SW_EINVAL);
	assert_non_null(strstr(why, "not a ban action"));
	assert_int_equal(load_text(c, "[ban]\ndistinct_users = 33\n", why, sizeof(why), NULL), SW_EINVAL);
	assert_int_equal(load_text(c, "[ban]\nban_time = 7200\nban_max_time = 3600\n[registrar]\n"
				   "domain = ex.com\n", why, sizeof(why), NULL), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "ban_time (7200) is above ban_max_time (3600)"));
	free(c);
}

static void test_lists(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char a[80], why[256] = "";
	/* A file's listen replaces the defaults; repeats and commas add up. */
	int r = load_text(c,
			  "[server]\n"
			  "listen = tcp:127.0.0.1:5080\n"
			  "listen = udp:0.0.0.0:5080 , udp:[::]:5080\n"
			  "[registrar]\n"
			  "domain = A.example.com\n"
			  "domain = b.example.com,a.example.com\n"
			  "domain = [2001:DB8::1]\n",
			  why, sizeof(why), NULL);
	if (r)
		fail_msg("%s", why);
	assert_int_equal(c->nlisten, 3);
	assert_string_equal(listen_at(c, 0, a, sizeof(a)), "tcp:127.0.0.1:5080");
	assert_string_equal(listen_at(c, 2, a, sizeof(a)), "udp:[::]:5080");
	assert_int_equal(c->ndomains, 3);   /* the duplicate is skipped */
	assert_string_equal(c->domains[0], "a.example.com");
	assert_string_equal(c->domains[1], "b.example.com");
	assert_string_equal(c->domains[2], "[2001:db8::1]");

	/* A second file replaces the lists of the first... */
	r = load_text(c, "[server]\nlisten = udp:127.0.0.2\n[registrar]\ndomain = c.example\n", why,
		      sizeof(why), NULL);
	assert_int_equal(r, 0);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "c.example");
	/* ... and one without them keeps them. */
	r = load_text(c, "[registrar]\nmax_contacts = 5\n", why, sizeof(why), NULL);
	assert_int_equal(r, 0);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(c->ndomains, 1);

	/* At most SW_CONFIG_MAX_LISTEN addresses. */
	char text[4096] = "[server]\n";
	for (int i = 0; i <= SW_CONFIG_MAX_LISTEN; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "listen = udp:127.0.0.1:%d\n",
			 6000 + i);
	r = load_text(c, text, why, sizeof(why), NULL);
	assert_int_equal(r, SW_EINVAL);
	assert_non_null(strstr(why, ":18: key 'listen': more than 16 listen addresses"));
	free(c);
}

/* Accepted syntax: comments, indentation, blanks, CRLF, a BOM, any case. */
static void test_syntax(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char why[256] = "";
	const char text[] = "\xEF\xBB\xBF# comment\r\n"
			    "; comment\r\n"
			    "\r\n"
			    "  [ Registrar ]   ; comment\r\n"
			    "    domain=example.com\r\n"
			    "\tMIN_EXPIRES = 45 ; comment\r\n"
			    "    max_contacts =7\r\n"
			    "[log]\n"
			    "format = TEXT";            /* no final newline */
	char *path = write_tmp(text, sizeof(text) - 1);
	int r = sw_config_load(c, path, why, sizeof(why));
	unlink(path);
	free(path);
	if (r)
		fail_msg("%s", why);
	assert_int_equal(c->ndomains, 1);
	assert_int_equal(c->min_expires, 45);
	assert_int_equal(c->max_contacts, 7);
	assert_int_equal(c->log_format, SW_LOG_TEXT);

	/* Booleans. */
	static const char *const yes[] = { "yes", "TRUE", "On", "1" }, *const no[] = { "no", "false", "OFF", "0" };
	for (int i = 0; i < 4; i++) {
		char t[128];
		snprintf(t, sizeof(t), "[auth]\none_time_nonces = %s\n", yes[i]);
		assert_int_equal(load_text(c, t, why, sizeof(why), NULL), 0);
		assert_true(c->one_time_nonces);
		snprintf(t, sizeof(t), "[auth]\none_time_nonces = %s\n", no[i]);
		assert_int_equal(load_text(c, t, why, sizeof(why), NULL), 0);
		assert_false(c->one_time_nonces);
	}
	/* qop forms. */
	assert_int_equal(load_text(c, "[auth]\nqop = none\n", why, sizeof(why), NULL), 0);
	assert_int_equal(c->qop_mask, 0);
	assert_int_equal(load_text(c, "[auth]\nqop = auth-int\n", why, sizeof(why), NULL), 0);
	assert_int_equal(c->qop_mask, SW_QOP_BIT(SW_QOP_AUTH_INT));
	assert_int_equal(load_text(c, "[auth]\nqop = AUTH\n", why, sizeof(why), NULL), 0);
	assert_int_equal(c->qop_mask, SW_QOP_BIT(SW_QOP_AUTH));
	/* -sess algorithms, and an empty file. */
	assert_int_equal(load_text(c, "[auth]\nalgorithms = sha-256-sess\n", why, sizeof(why), NULL), 0);
	assert_int_equal(c->nalgorithms, 1);
	assert_int_equal(c->algorithms[0], SW_ALG_SHA256_SESS);
	assert_int_equal(load_text(c, "", why, sizeof(why), NULL), 0);
	/* Empty values where allowed. */
	assert_int_equal(load_text(c, "[server]\nuser_agent =\n[auth]\nsecret_file =\n", why, sizeof(why), NULL), 0);
	assert_string_equal(c->user_agent, "");
	free(c);
}

struct bad_case {
	const char *text;
	const char *expect;          /* substring of why after the path: ":LINE: ..." */
};

static void test_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "[server]\nworkers = 2\n[registrar]\nmin_expire = 30\n",
		  ":4: key 'min_expire': unknown in [registrar]" },
		{ "[server]\nworkers = 2\n\n[regstrar]\ndomain = x\n",
		  ":4: unknown section [regstrar]" },
		{ "[registrar]\nworkers = 2\n", ":2: key 'workers': belongs in [server], not [registrar]" },
		{ "workers = 2\n", ":1: key 'workers': outside a section (put it under [server])" },
		{ "nothing = 2\n", ":1: key 'nothing': outside a section" },
		{ "[server]\nworkers = 2x\n", ":2: key 'workers': '2x' is not a decimal number" },
		{ "[server]\nworkers = -1\n", ":2: key 'workers': '-1' is not a decimal number" },
		{ "[server]\nworkers = 0x10\n", ":2: key 'workers': '0x10' is not a decimal number" },
		{ "[server]\nworkers =\n", ":2: key 'workers': expected a number" },
		{ "[server]\nworkers = 2;c\n", ":2: key 'workers': '2;c' is not a decimal number" },
		{ "[server]\nworkers = 2 # c\n", ":2: key 'workers': '2 # c' is not a decimal number" },
		{ "[server]\nmax_message_size = 512\n",
		  ":2: key 'max_message_size': 512 is out of range (1024..65536)" },
		{ "[server]\nmax_message_size = 65537\n", ":2: key 'max_message_size': 65537 is out of range" },
		{ "[registrar]\nmin_expires = 99999999999999999999\n",
		  ":2: key 'min_expires': 99999999999999999999 is out of range" },
		{ "[registrar]\nmin_expires = 0\n", ":2: key 'min_expires': 0 is out of range (1..604800)" },
		{ "[server]\nlisten = udp:localhost:5060\n",
		  ":2: key 'listen': bad listen address 'udp:localhost:5060'" },
		{ "[server]\nlisten = 127.0.0.1:5060\n", ":2: key 'listen': bad listen address" },
		{ "[server]\nlisten = udp:127.0.0.1:5060,\n", ":2: key 'listen': empty item in the list" },
		{ "[registrar]\ndomain = exa mple.com\n", ":2: key 'domain': 'exa mple.com' is not a domain" },
		{ "[registrar]\ndomain = -x.com\n", ":2: key 'domain': '-x.com' is not a domain" },
		{ "[registrar]\ndomain = [::1\n", ":2: key 'domain': '[::1' is not a domain" },
		{ "[registrar]\nallow_register_others = maybe\n",
		  ":2: key 'allow_register_others': 'maybe' is not a boolean" },
		{ "[auth]\nalgorithms = MD5, SHA-1\n", ":2: key 'algorithms': unknown algorithm 'SHA-1'" },
		{ "[auth]\nalgorithms = MD5, md5\n", ":2: key 'algorithms': MD5 is listed twice" },
		{ "[auth]\nalgorithms =\n", ":2: key 'algorithms': empty item in the list" },
		{ "[auth]\nqop = auth, none\n", ":2: key 'qop': unknown qop 'none'" },
		{ "[auth]\nqop = auth-conf\n", ":2: key 'qop': unknown qop 'auth-conf'" },
		{ "[log]\nformat = xml\n", ":2: key 'format': 'xml' is not a log format" },
		{ "[store]\ndb =\n", ":2: key 'db': must not be empty" },
		{ "[server]\nuser_agent = a\x01" "b\n", ":2: key 'user_agent': 'a?b' holds a control" },
		{ "[registrar]\nmin_expires = 30\n\nmin_expires = 40\n",
		  ":4: key 'min_expires': given twice (first on line 2)" },
		{ "[server]\nworkers 2\n", ":2: expected 'key = value', '[section]' or a comment" },
		{ "[server\nworkers = 2\n", ":1: expected ']' to close the section name" },
		{ "[server] x\n", ":1: unexpected text after ']'" },
		/* The first error wins, whichever kind. */
		{ "[server]\nworkers 2\nbogus = 1\n", ":2: expected 'key = value'" },
		{ "[server]\nbogus = 1\nworkers 2\n", ":2: key 'bogus': unknown in [server]" },
	};
	struct sw_config *c = new_cfg();
	char *before = printed(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[512] = "", *path;
		int r = load_text(c, cases[i].text, why, sizeof(why), &path);
		if (r != SW_EINVAL)
			fail_msg("case %zu: got %d (%s)", i, r, why);
		if (strncmp(why, path, strlen(path)) || !strstr(why + strlen(path), cases[i].expect))
			fail_msg("case %zu: why is '%s', expected '%s'", i, why, cases[i].expect);
		unlink(path);
		free(path);
		/* A bad file changes nothing. */
		char *after = printed(c);
		assert_string_equal(before, after);
		free(after);
	}
	/* The data files. */
	char why[512];
	assert_int_equal(sw_config_load(c, DATA "unknown-key.conf", why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, DATA "unknown-key.conf:6: key 'min_expire': unknown in [registrar]");
	free(before);
	free(c);
}

static void test_file_limits(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char why[512];
	/* A line longer than libinih's buffer is refused, not cut. */
	char text[1024];
	snprintf(text, sizeof(text), "[store]\ndb = /%0400d\n", 0);
	assert_int_equal(load_text(c, text, why, sizeof(why), NULL), SW_EINVAL);
	assert_non_null(strstr(why, ":2: line too long"));
	assert_string_equal(c->db, "./var/sipwarden.db");
	/* The longest line that fits (198 characters, blanks in front not
	 * counted) is read whole. */
	char path198[200];
	memset(path198, 'p', sizeof(path198));
	path198[0] = '/';
	path198[198 - 5] = '\0';                  /* "db = " + 193 characters */
	snprintf(text, sizeof(text), "[store]\n    db = %s\n", path198);
	assert_int_equal(load_text(c, text, why, sizeof(why), NULL), 0);
	assert_string_equal(c->db, path198);
	snprintf(text, sizeof(text), "[store]\ndb = %sx\n", path198);
	assert_int_equal(load_text(c, text, why, sizeof(why), NULL), SW_EINVAL);
	assert_non_null(strstr(why, ":2: line too long (at most 198 characters"));
	/* Paths may be UTF-8; the Server header may not. */
	assert_int_equal(load_text(c, "[store]\ndb = /home/jos\xc3\xa9/s.db\n", why, sizeof(why), NULL), 0);
	assert_int_equal(load_text(c, "[server]\nuser_agent = jos\xc3\xa9\n", why, sizeof(why), NULL), SW_EINVAL);
	assert_non_null(strstr(why, "non-ASCII"));
	/* A NUL byte. */
	const char nul[] = "[server]\nworkers = 1\0\n";
	char *path = write_tmp(nul, sizeof(nul) - 1);
	assert_int_equal(sw_config_load(c, path, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, ":2: NUL byte"));
	unlink(path);
	free(path);
	/* Missing file, directory: SW_EIO. */
	assert_int_equal(sw_config_load(c, DATA "does-not-exist.conf", why, sizeof(why)), SW_EIO);
	assert_string_equal(why, DATA "does-not-exist.conf: cannot read: No such file or directory");
	assert_int_equal(sw_config_load(c, DATA, why, sizeof(why)), SW_EIO);
	assert_non_null(strstr(why, "Is a directory"));
	/* Too large. */
	size_t big = SW_CONFIG_FILE_MAX + 10;
	char *mem = malloc(big);
	assert_non_null(mem);
	memset(mem, '\n', big);
	path = write_tmp(mem, big);
	assert_int_equal(sw_config_load(c, path, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "larger than"));
	unlink(path);
	free(path);
	free(mem);
	/* why may be NULL. */
	assert_int_equal(sw_config_load(c, DATA "does-not-exist.conf", NULL, 0), SW_EIO);
	free(c);
}

static void test_validate(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char why[512];
	assert_int_equal(sw_config_load(c, DATA "min-above-max.conf", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "min_expires (600) is above max_expires (300)");

	sw_config_defaults(c, NULL);
	assert_int_equal(sw_config_load(c, DATA "minimal.conf", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), 0);
	assert_int_equal(sw_config_set(c, "default-expires", "30", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "default_expires (30) must be between min_expires (60) and max_expires (3600)");
	assert_int_equal(sw_config_set(c, "default-expires", "4000", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_config_set(c, "default-expires", "3600", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(c, why, sizeof(why)), 0);

	/* Listen addresses: none, twice, TLS without certificate. */
	struct sw_config *d = new_cfg();
	*d = *c;
	d->nlisten = 0;
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "no listen address"));
	*d = *c;
	assert_int_equal(sw_config_set(d, "listen", "udp:127.0.0.1:5060, tcp:127.0.0.1, udp:127.0.0.1:5060", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "listen address udp:127.0.0.1:5060 is given twice");
	*d = *c;
	assert_int_equal(sw_config_set(d, "listen", "tls:[::1]", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "listen address tls:[::1]:5061 needs 'certificate' and 'private_key' in [tls]");
	assert_int_equal(sw_config_set(d, "certificate", "/c.pem", why, sizeof(why)), 0);
	assert_int_equal(sw_config_set(d, "tls.private-key", "/k.pem", why, sizeof(why)), 0);
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), 0);
	/* Values put in the struct by code are range-checked too. */
	*d = *c;
	d->max_message_size = 10;
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "max_message_size (10) is out of range (1024..65536)");
	*d = *c;
	d->nalgorithms = 0;
	assert_int_equal(sw_config_validate(d, why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "algorithms"));
	free(d);
	free(c);
}

static void test_overrides(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char a[80], why[512];
	assert_int_equal(sw_config_load(c, DATA "full.conf", why, sizeof(why)), 0);
	/* Names: key, --key-with-dashes, section.key. */
	assert_int_equal(sw_config_set(c, "--min-expires", "20", why, sizeof(why)), 0);
	assert_int_equal(c->min_expires, 20);
	assert_int_equal(sw_config_set(c, "max_expires", "9000", why, sizeof(why)), 0);
	assert_int_equal(c->max_expires, 9000);
	assert_int_equal(sw_config_set(c, "registrar.default-expires", "900", why, sizeof(why)), 0);
	assert_int_equal(c->default_expires, 900);
	assert_int_equal(sw_config_set(c, "--db", "/tmp/x.db", why, sizeof(why)), 0);
	assert_string_equal(c->db, "/tmp/x.db");
	assert_int_equal(sw_config_set(c, "tcp.idle-timeout", "5", why, sizeof(why)), 0);
	assert_int_equal(c->tcp_idle_timeout, 5);
	/* The first --listen replaces the file's list; later ones add. */
	assert_int_equal(sw_config_set(c, "--listen", "udp:[::1]:5999", why, sizeof(why)), 0);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(sw_config_set(c, "--listen", "tcp:[::1]:5999", why, sizeof(why)), 0);
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(listen_at(c, 0, a, sizeof(a)), "udp:[::1]:5999");
	assert_string_equal(listen_at(c, 1, a, sizeof(a)), "tcp:[::1]:5999");
	/* Same for --domain. */
	assert_int_equal(sw_config_set(c, "--domain", "one.example", why, sizeof(why)), 0);
	assert_int_equal(sw_config_set(c, "--domain", "TWO.example", why, sizeof(why)), 0);
	assert_int_equal(c->ndomains, 2);
	assert_string_equal(c->domains[1], "two.example");
	/* Errors name the setting as given and change nothing. */
	char *before = printed(c);
	assert_int_equal(sw_config_set(c, "--min-expires", "soon", why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "--min-expires: 'soon' is not a decimal number");
	assert_int_equal(sw_config_set(c, "--listen", "udp:1.2.3.4:5060,bogus", why, sizeof(why)), SW_EINVAL);
	assert_non_null(strstr(why, "--listen: bad listen address 'bogus'"));
	assert_int_equal(sw_config_set(c, "--domain", "ok.example, not ok", why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_config_set(c, "--min-expirez", "30", why, sizeof(why)), SW_EINVAL);
	assert_string_equal(why, "--min-expirez: unknown setting");
	assert_int_equal(sw_config_set(c, "tcp.min-expires", "30", why, sizeof(why)), SW_EINVAL);
	assert_int_equal(sw_config_set(c, "", "30", why, sizeof(why)), SW_EINVAL);
	char *after = printed(c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(c);
}

/* print -> load -> print gives the same text. */
static void test_print_roundtrip(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg(), *d = new_cfg();
	char why[512];
	assert_int_equal(sw_config_load(c, DATA "full.conf", why, sizeof(why)), 0);
	char *p1 = printed(c);
	assert_non_null(strstr(p1, "[server]\nlisten = udp:192.0.2.10:5070\n"));
	assert_non_null(strstr(p1, "algorithms = SHA-256, MD5, SHA-512-256\n"));
	assert_non_null(strstr(p1, "qop = auth, auth-int\n"));
	char *path = write_tmp(p1, strlen(p1));
	int r = sw_config_load(d, path, why, sizeof(why));
	unlink(path);
	free(path);
	if (r)
		fail_msg("%s\n%s", why, p1);
	char *p2 = printed(d);
	assert_string_equal(p1, p2);
	/* The defaults print the resolved secret path and no domain. */
	sw_config_defaults(d, NULL);
	char *p3 = printed(d);
	assert_non_null(strstr(p3, "secret_file = ./var/nonce.secret\n"));
	assert_non_null(strstr(p3, "; domain = (none)\n"));
	/* A small buffer reports SW_ENOSPC. */
	char small[64];
	struct sw_buf b;
	sw_buf_init(&b, small, sizeof(small));
	assert_int_equal(sw_config_print(d, &b), SW_ENOSPC);
	free(p1);
	free(p2);
	free(p3);
	free(c);
	free(d);
}

static void test_helpers(void **state)
{
	(void)state;
	struct sw_config *c = new_cfg();
	char out[SW_CONFIG_PATH_MAX + 16], why[256];
	assert_int_equal(sw_config_secret_path(c, out, sizeof(out)), 0);
	assert_string_equal(out, "./var/nonce.secret");
	assert_int_equal(sw_config_store_spec(c, out, sizeof(out)), 0);
	assert_string_equal(out, "sqlite:./var/sipwarden.db");
	sw_config_set(c, "db", "reg.db", why, sizeof(why));
	assert_int_equal(sw_config_secret_path(c, out, sizeof(out)), 0);
	assert_string_equal(out, "nonce.secret");
	sw_config_set(c, "db", "/reg.db", why, sizeof(why));
	assert_int_equal(sw_config_secret_path(c, out, sizeof(out)), 0);
	assert_string_equal(out, "/nonce.secret");
	sw_config_set(c, "db", "memory:", why, sizeof(why));
	assert_int_equal(sw_config_secret_path(c, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sw_config_store_spec(c, out, sizeof(out)), 0);
	assert_string_equal(out, "memory:");
	sw_config_set(c, "secret_file", "/s", why, sizeof(why));
	assert_int_equal(sw_config_secret_path(c, out, sizeof(out)), 0);
	assert_string_equal(out, "/s");
	assert_int_equal(sw_config_secret_path(c, out, 2), SW_ENOSPC);

	struct sw_store_opts so = { .create = true };
	sw_config_store_opts(c, &so);
	assert_true(so.create);
	assert_int_equal(so.events_max_rows, 100000);
	assert_int_equal(so.events_max_age, 30 * 86400);

	assert_int_equal(sw_config_load(c, DATA "full.conf", why, sizeof(why)), 0);
	struct sw_auth_cfg ac;
	sw_config_auth_cfg(c, "example.com", &ac);
	assert_string_equal(ac.realm, "example.com");
	assert_int_equal(ac.nalgs, 3);
	assert_int_equal(ac.algs[0], SW_ALG_SHA256);
	assert_int_equal(ac.algs[2], SW_ALG_SHA512_256);
	assert_int_equal(ac.qop_mask, SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT));
	assert_true(ac.allow_no_qop);
	assert_true(ac.one_time);
	assert_int_equal(ac.nonce_lifetime, 120);
	assert_false(ac.proxy);
	assert_string_equal(sw_log_format_name(SW_LOG_JSON), "json");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_ban_keys),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
