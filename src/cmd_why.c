/* sipwarden why: one user's recent auth decisions with the explanation and
 * the fix of each cause, newest first. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/store.h"
#include "commands.h"
#include "store_cli.h"

static const char usage_text[] =
	"usage: sipwarden why USER@DOMAIN [--last N] [--json] [--db PATH]\n"
	"\n"
	"Shows the server's recent authentication decisions about a user, newest\n"
	"first: when, from which address, the method, the cause id, what it means\n"
	"and how to fix it. A decision belongs to the user when the registered AOR\n"
	"is USER@DOMAIN or when the digest username and realm are USER and DOMAIN.\n"
	"\n"
	"  --last N   show at most N decisions (default 10)\n"
	"  --json     a JSON array of decisions\n"
	"  --db PATH  the database (default " SW_CLI_DEFAULT_DB "). --config is not\n"
	"             supported yet.\n"
	"\n"
	"exit codes: 0 done (also when there is nothing recorded), 1 the database\n"
	"cannot be read, 2 usage error.\n";

int cmd_why(int argc, char **argv)
{
	const char *db = SW_CLI_DEFAULT_DB, *who = NULL;
	unsigned long last = 10;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		int r = sw_cli_db_option("why", argc, argv, &i, &db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--last")) {
			if (++i >= argc || sw_cli_count(argv[i], 1000000, &last) || !last) {
				fputs("sipwarden why: --last needs a count from 1 to 1000000\n", stderr);
				return 2;
			}
		} else if (a[0] == '-' || who) {
			fprintf(stderr, "sipwarden why: unexpected '%s'\n"
					"(see 'sipwarden why --help')\n", a);
			return 2;
		} else {
			who = a;
		}
	}
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	if (!who) {
		fputs("sipwarden why: which user? (sipwarden why USER@DOMAIN)\n", stderr);
		return 2;
	}
	if (sw_aor_split(who, user, domain)) {
		fprintf(stderr, "sipwarden why: '%s' is not USER@DOMAIN\n", who);
		return 2;
	}
	struct sw_store *st = sw_cli_store_open("why", db, false);
	if (!st)
		return 1;
	struct sw_event_query q = { .user = user, .domain = domain, .limit = (uint32_t)last };
	struct sw_cli_list c = { json, 0 };
	if (json)
		fputs("[", stdout);
	int err = sw_store_event_query(st, &q, sw_cli_event_show, &c);
	if (json)
		fputs(c.n ? "\n]\n" : "]\n", stdout);
	else if (!err && !c.n)
		printf("no authentication decisions recorded for %s@%s\n", user, domain);
	sw_store_close(st);
	if (err) {
		fprintf(stderr, "sipwarden why: %s\n", sw_store_strerror(err));
		return 1;
	}
	return 0;
}
