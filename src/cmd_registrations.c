/* sipwarden registrations: the current bindings, from the store. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "sipwarden/store.h"
#include "commands.h"
#include "store_cli.h"

static const char usage_text[] =
	"usage: sipwarden registrations [AOR] [--json] [--db PATH]\n"
	"\n"
	"Lists the current bindings (of one AOR, user@domain, or of all): contact,\n"
	"time left, q, the address the REGISTER came from, transport, user agent.\n"
	"\n"
	"  --json     a JSON array of bindings\n"
	"  --db PATH  the database (default " SW_CLI_DEFAULT_DB "). --config is not\n"
	"             supported yet.\n"
	"\n"
	"exit codes: 0 done (also when there is none), 1 the database cannot be read,\n"
	"2 usage error.\n";

struct ctx {
	bool json;
	size_t n;
	int64_t now;
};

static int show(void *arg, const struct sw_binding *bd)
{
	struct ctx *c = arg;
	char mem[4096];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (c->json) {
		sw_buf_adds(&b, c->n ? ",\n  " : "\n  ");
		sw_binding_render_json(&b, bd, c->now);
	} else {
		sw_binding_render_text(&b, bd, c->now);
	}
	c->n++;
	sw_cli_put(&b);
	return 0;
}

int cmd_registrations(int argc, char **argv)
{
	const char *db = SW_CLI_DEFAULT_DB, *aor = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		int r = sw_cli_db_option("registrations", argc, argv, &i, &db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] == '-' || aor) {
			fprintf(stderr, "sipwarden registrations: unexpected '%s'\n"
					"(see 'sipwarden registrations --help')\n", argv[i]);
			return 2;
		} else {
			aor = argv[i];
		}
	}
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	char key[SW_STORE_AOR_MAX + 2];
	if (aor) {
		if (sw_aor_split(aor, user, domain)) {
			fprintf(stderr, "sipwarden registrations: '%s' is not USER@DOMAIN\n", aor);
			return 2;
		}
		snprintf(key, sizeof(key), "%s@%s", user, domain);
	}
	struct sw_store *st = sw_cli_store_open("registrations", db, false);
	if (!st)
		return 1;
	struct ctx c = { json, 0, (int64_t)time(NULL) };
	if (json)
		fputs("[", stdout);
	int err = sw_store_binding_list(st, aor ? key : NULL, c.now, show, &c);
	if (json)
		fputs(c.n ? "\n]\n" : "]\n", stdout);
	else if (!err && !c.n)
		printf("no current registrations%s%s\n", aor ? " for " : "", aor ? key : "");
	sw_store_close(st);
	if (err) {
		fprintf(stderr, "sipwarden registrations: %s\n", sw_store_strerror(err));
		return 1;
	}
	return 0;
}
