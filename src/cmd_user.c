/* sipwarden user: add, change, enable/disable, delete, list and import
 * subscribers. Only HA1 per algorithm (and the userhash) is stored; the
 * password is wiped from memory once hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "sipwarden/store.h"
#include "commands.h"
#include "store_cli.h"
#include "util.h"

static const char usage_text[] =
	"usage: sipwarden user add USER@DOMAIN [--password-stdin | --password P | --generate]\n"
	"                          [--disabled] [--db PATH]\n"
	"       sipwarden user passwd USER@DOMAIN [--password-stdin | --password P | --generate]\n"
	"                          [--db PATH]\n"
	"       sipwarden user disable|enable|del USER@DOMAIN [--db PATH]\n"
	"       sipwarden user list [--json] [--db PATH]\n"
	"       sipwarden user import FILE|- [--db PATH]\n"
	"\n"
	"Manages the subscribers the server authenticates. The digest realm is the\n"
	"domain. Only HA1 per algorithm (MD5, SHA-256, SHA-512-256) is stored, never\n"
	"the password. A running server sees changes within a second.\n"
	"\n"
	"  --password-stdin  read the password from the first line of standard input\n"
	"  --password P      the password on the command line (visible to other users\n"
	"                    of this machine: prefer --password-stdin)\n"
	"  --generate        make a strong random password and print it (only it) once\n"
	"                    on standard output\n"
	"  (none)            on a terminal, ask twice without echo\n"
	"  --disabled        add the account disabled\n"
	"  --json            list as a JSON array (no credentials are shown)\n"
	"  --db PATH         the database (default " SW_CLI_DEFAULT_DB "; created with its\n"
	"                    directory when adding). --config is not supported yet.\n"
	"\n"
	"import reads CSV lines 'user@domain,password' (the password is the rest of\n"
	"the line, taken literally); '#' comments and blank lines are skipped. Every\n"
	"line is checked first: if any is bad, each is reported with its line number\n"
	"and nothing is imported. Existing users get the new password. All users are\n"
	"written in one transaction. On a terminal, the progress of a large import\n"
	"(hashing, then writing) is shown on standard error.\n"
	"\n"
	"exit codes: 0 done, 1 failed (user exists, not found, bad import file,\n"
	"database error), 2 usage error.\n";

#define PW_MAX 1024

struct opts {
	const char *action, *target, *db, *password;
	bool pw_stdin, generate, json, disabled;
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "sipwarden user: ");
	fprintf(stderr, msg, arg);
	fputs("\n(see 'sipwarden user --help')\n", stderr);
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	o->db = SW_CLI_DEFAULT_DB;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = sw_cli_db_option("user", argc, argv, &i, &o->db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(a, "--password-stdin")) {
			o->pw_stdin = true;
		} else if (!strcmp(a, "--password")) {
			if (++i >= argc)
				return usage_error("--password needs a value%s", "");
			o->password = argv[i];
		} else if (!strncmp(a, "--password=", 11)) {
			o->password = a + 11;
		} else if (!strcmp(a, "--generate")) {
			o->generate = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--disabled")) {
			o->disabled = true;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else if (!o->action) {
			o->action = a;
		} else if (!o->target) {
			o->target = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	return -1;
}

/* ---- passwords ------------------------------------------------------------ */

/* One line from f into buf (without the line end). -1 on EOF or too long. */
static int read_line(FILE *f, char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, f))
		return -1;
	size_t n = strlen(buf);
	if (n == cap - 1 && buf[n - 1] != '\n')
		return -1;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static int ask(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	fputs(prompt, stderr);
	fflush(stderr);
	bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	int r = read_line(stdin, buf, cap);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return r;
}

/* 20 characters of [A-Za-z0-9]: 119 bits. */
static int generate(char *buf, size_t cap)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;
	unsigned char r[64];
	while (n < 20 && n + 1 < cap) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(r) && n < 20; i++)
			if (r[i] < 248)          /* 248 = 4 * 62: no modulo bias */
				buf[n++] = alphabet[r[i] % 62];
	}
	buf[n] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* Gets the password the options ask for into pw. 0, 1 (failed) or 2 (usage). */
static int get_password(const struct opts *o, char pw[PW_MAX])
{
	int ways = (o->password != NULL) + o->pw_stdin + o->generate;
	if (ways > 1)
		return usage_error("give only one of --password-stdin, --password, --generate%s",
				   "");
	if (o->password) {
		if (strlen(o->password) >= PW_MAX)
			return usage_error("the password is too long%s", "");
		strcpy(pw, o->password);
	} else if (o->pw_stdin) {
		if (read_line(stdin, pw, PW_MAX))
			return usage_error("no password line on standard input%s", "");
	} else if (o->generate) {
		if (generate(pw, PW_MAX)) {
			fputs("sipwarden user: the random generator failed\n", stderr);
			return 1;
		}
	} else if (isatty(STDIN_FILENO)) {
		char again[PW_MAX];
		if (ask("Password: ", pw, PW_MAX) || ask("Retype password: ", again, PW_MAX))
			return usage_error("no password given%s", "");
		bool same = !strcmp(pw, again);
		OPENSSL_cleanse(again, sizeof(again));
		if (!same) {
			fputs("sipwarden user: the passwords differ\n", stderr);
			return 1;
		}
	} else {
		return usage_error("no password: use --password-stdin, --password P or "
				   "--generate%s", "");
	}
	if (!pw[0])
		return usage_error("the password is empty%s", "");
	return 0;
}

/* ---- actions -------------------------------------------------------------- */

static int fail(const char *what, const char *who, int err)
{
	if (err == SW_STORE_EEXIST)
		fprintf(stderr, "sipwarden user: %s already exists\n", who);
	else if (err == SW_ENOTFOUND)
		fprintf(stderr, "sipwarden user: no user %s\n", who);
	else
		fprintf(stderr, "sipwarden user: cannot %s %s: %s\n", what, who,
			sw_store_strerror(err));
	return 1;
}

static int set_password(struct sw_store *st, const struct opts *o, bool add, const char *user,
			const char *domain)
{
	char pw[PW_MAX];
	struct sw_credentials c;
	int rc = get_password(o, pw);
	if (rc)
		return rc;
	int err = sw_credentials_compute(NULL, user, domain, sw_str_from(pw, strlen(pw)), &c);
	int64_t now = (int64_t)time(NULL);
	if (!err)
		err = add ? sw_store_user_add(st, user, domain, &c, o->disabled, now)
			  : sw_store_user_set_credentials(st, user, domain, &c, now);
	if (!err && o->generate)
		printf("%s\n", pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(&c, sizeof(c));
	if (err)
		return fail(add ? "add" : "change the password of", o->target, err);
	fprintf(o->generate ? stderr : stdout, "%s %s@%s\n",
		add ? "added" : "new password for", user, domain);
	return 0;
}

struct list_ctx {
	bool json, first;
	size_t n;
};

static int list_one(void *arg, const struct sw_subscriber *s)
{
	struct list_ctx *l = arg;
	char mem[1024];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (l->json) {
		sw_buf_adds(&b, l->first ? "\n  " : ",\n  ");
		sw_subscriber_render_json(&b, s);
	} else {
		sw_subscriber_render_text(&b, s, false);
	}
	l->first = false;
	l->n++;
	sw_cli_put(&b);
	return 0;
}

static int list(struct sw_store *st, const struct opts *o)
{
	struct list_ctx l = { o->json, true, 0 };
	if (o->json)
		fputs("[", stdout);
	int err = sw_store_user_list(st, list_one, &l);
	if (o->json)
		fputs(l.n ? "\n]\n" : "]\n", stdout);
	if (err) {
		fprintf(stderr, "sipwarden user: cannot list: %s\n", sw_store_strerror(err));
		return 1;
	}
	return 0;
}

/* ---- import --------------------------------------------------------------- */

struct row {
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	size_t line;
};

static int rowcmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);
	if (!c)
		c = strcmp(x->user, y->user);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Progress of an import on a terminal (standard error), "\r"-rewritten and
 * cleared at the end; only for imports large enough to take a while. */
#define PROGRESS_MIN_ROWS 10000u

struct progress {
	const char *phase;
	int last_pct;               /* -1: nothing shown yet */
	int width;
};

static void progress_show(void *arg, size_t done, size_t total)
{
	struct progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (pct == p->last_pct)
		return;
	p->last_pct = pct;
	int n = fprintf(stderr, "\r  import: %s %3d%% (%zu of %zu)", p->phase, pct, done, total);
	if (n > p->width)
		p->width = n;
}

static void progress_phase(struct progress *p, const char *phase)
{
	p->phase = phase;
	p->last_pct = -1;
}

static void progress_clear(struct progress *p)
{
	if (p->width)
		fprintf(stderr, "\r%*s\r", p->width, "");
	p->width = 0;
}

static int import(struct sw_store *st, const struct opts *o)
{
	struct progress prog = { "", -1, 0 };
	size_t len, n = 0, cap = 0, bad = 0;
	char *text = sw_cli_read_file(o->target, 256u << 20, &len);
	if (!text)
		return 1;
	struct row *rows = NULL;
	char **pws = NULL;
	struct sw_user_import *imp = NULL;
	struct sw_digest_ctx *dc = NULL;
	int rc = 1;
	size_t line = 0;
	for (char *p = text, *next; p && *p; p = next) {
		char *eol = strchr(p, '\n');
		next = eol ? eol + 1 : NULL;
		if (eol)
			*eol = '\0';
		line++;
		size_t l = strlen(p);
		if (l && p[l - 1] == '\r')
			p[--l] = '\0';
		char *s = p;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *comma = strchr(s, ',');
		if (!comma) {
			fprintf(stderr, "%s:%zu: expected user@domain,password\n", o->target, line);
			bad++;
			continue;
		}
		char *e = comma;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct row *r2 = realloc(rows, cap * sizeof(*rows));
			char **p2 = r2 ? realloc(pws, cap * sizeof(*pws)) : NULL;
			if (r2)
				rows = r2;
			if (!r2 || !p2) {
				fputs("sipwarden user: out of memory\n", stderr);
				goto out;
			}
			pws = p2;
		}
		int err = sw_aor_split(s, rows[n].user, rows[n].domain);
		if (err) {
			fprintf(stderr, "%s:%zu: '%s' is not a valid user@domain\n", o->target, line,
				s);
			bad++;
			continue;
		}
		if (!comma[1]) {
			fprintf(stderr, "%s:%zu: empty password for %s\n", o->target, line, s);
			bad++;
			continue;
		}
		if (strlen(comma + 1) >= PW_MAX) {
			fprintf(stderr, "%s:%zu: password too long for %s\n", o->target, line, s);
			bad++;
			continue;
		}
		rows[n].line = line;
		pws[n++] = comma + 1;
	}
	/* the same user twice is ambiguous: refuse it */
	if (n) {
		struct row *sorted = malloc(n * sizeof(*sorted));
		if (!sorted) {
			fputs("sipwarden user: out of memory\n", stderr);
			goto out;
		}
		memcpy(sorted, rows, n * sizeof(*rows));
		qsort(sorted, n, sizeof(*sorted), rowcmp);
		for (size_t i = 1; i < n; i++)
			if (!strcmp(sorted[i].user, sorted[i - 1].user) &&
			    !strcmp(sorted[i].domain, sorted[i - 1].domain)) {
				fprintf(stderr, "%s:%zu: %s@%s is already on line %zu\n", o->target,
					sorted[i].line, sorted[i].user, sorted[i].domain,
					sorted[i - 1].line);
				bad++;
			}
		free(sorted);
	}
	if (bad) {
		fprintf(stderr, "sipwarden user: %zu bad line%s in %s: nothing imported\n", bad,
			bad == 1 ? "" : "s", o->target);
		goto out;
	}
	if (n && !(imp = calloc(n, sizeof(*imp)))) {
		fputs("sipwarden user: out of memory\n", stderr);
		goto out;
	}
	if (sw_digest_ctx_new(&dc)) {
		fputs("sipwarden user: the crypto library failed\n", stderr);
		goto out;
	}
	bool show = n >= PROGRESS_MIN_ROWS && isatty(STDERR_FILENO);
	progress_phase(&prog, "hashing");
	for (size_t i = 0; i < n; i++) {
		if (show && (i & 1023u) == 0)
			progress_show(&prog, i, n);
		imp[i].user = rows[i].user;
		imp[i].domain = rows[i].domain;
		if (sw_credentials_compute(dc, rows[i].user, rows[i].domain,
					   sw_str_from(pws[i], strlen(pws[i])), &imp[i].cred)) {
			fputs("sipwarden user: the crypto library failed\n", stderr);
			goto out;
		}
	}
	struct timespec t0, t1;
	size_t added = 0, updated = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	progress_phase(&prog, "writing");
	if (show)
		sw_store_set_progress(st, progress_show, &prog);
	int err = sw_store_user_import(st, imp, n, (int64_t)time(NULL), &added, &updated);
	sw_store_set_progress(st, NULL, NULL);
	progress_clear(&prog);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err) {
		fprintf(stderr, "sipwarden user: import failed, nothing imported: %s\n",
			sw_store_strerror(err));
		goto out;
	}
	printf("imported %zu user%s (%zu added, %zu updated) in %.2f s\n", n, n == 1 ? "" : "s",
	       added, updated,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
out:
	progress_clear(&prog);
	sw_digest_ctx_free(dc);
	if (imp)
		OPENSSL_cleanse(imp, n * sizeof(*imp));
	OPENSSL_cleanse(text, len);
	free(imp);
	free(rows);
	free(pws);
	free(text);
	return rc;
}

int cmd_user(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (!o.action)
		return usage_error("which action? add, passwd, disable, enable, del, list, "
				   "import%s", "");
	static const char *const actions[] = { "add", "passwd", "disable", "enable", "del",
					       "list", "import" };
	size_t k = 0;
	while (k < sizeof(actions) / sizeof(actions[0]) && strcmp(o.action, actions[k]))
		k++;
	if (k == sizeof(actions) / sizeof(actions[0]))
		return usage_error("unknown action '%s'", o.action);
	bool is_list = k == 5, takes_pw = k <= 1;
	if (is_list && o.target)
		return usage_error("list takes no argument ('%s')", o.target);
	if (!is_list && !o.target)
		return usage_error("%s needs an argument", o.action);
	if (!takes_pw && (o.password || o.pw_stdin || o.generate))
		return usage_error("%s takes no password option", o.action);
	if (o.json && !is_list)
		return usage_error("--json is for list%s", "");
	if (o.disabled && k != 0)
		return usage_error("--disabled is for add%s", "");

	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	if (!is_list && k != 6 && sw_aor_split(o.target, user, domain))
		return usage_error("'%s' is not USER@DOMAIN", o.target);
	if (takes_pw) {
		int ways = (o.password != NULL) + o.pw_stdin + o.generate;
		if (ways == 0 && !isatty(STDIN_FILENO))
			return usage_error("no password: use --password-stdin, --password P or "
					   "--generate%s", "");
	}

	struct sw_store *st = sw_cli_store_open("user", o.db, k == 0 || k == 6);
	if (!st)
		return 1;
	int64_t now = (int64_t)time(NULL);
	int err;
	switch (k) {
	case 0:
	case 1:
		rc = set_password(st, &o, k == 0, user, domain);
		break;
	case 2:
	case 3:
		err = sw_store_user_set_disabled(st, user, domain, k == 2, now);
		rc = err ? fail(o.action, o.target, err) : 0;
		if (!err)
			printf("%s %s@%s\n", k == 2 ? "disabled" : "enabled", user, domain);
		break;
	case 4:
		err = sw_store_user_del(st, user, domain);
		rc = err ? fail("delete", o.target, err) : 0;
		if (!err)
			printf("deleted %s@%s\n", user, domain);
		break;
	case 5:
		rc = list(st, &o);
		break;
	default:
		rc = import(st, &o);
		break;
	}
	sw_store_close(st);
	return rc;
}
