/* sipwarden events: the auth event log, filtered, newest first. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "sipwarden/causes.h"
#include "sipwarden/store.h"
#include "commands.h"
#include "store_cli.h"

static const char usage_text[] =
	"usage: sipwarden events [--since DURATION] [--cause ID] [--source ADDR]\n"
	"                        [--method METHOD] [--limit N] [--json] [--db PATH]\n"
	"\n"
	"Shows the server's authentication decisions, newest first, each with its\n"
	"cause id, what it means and how to fix it.\n"
	"\n"
	"  --since DURATION  only the last 30s, 10m, 2h, 1d, 1w ... (plain number:\n"
	"                    seconds)\n"
	"  --cause ID        only this cause ('sipwarden causes' lists them)\n"
	"  --source ADDR     only requests from this IP address (any port)\n"
	"  --method METHOD   only this request method (REGISTER, INVITE, MESSAGE...)\n"
	"  --limit N         at most N events (default 100; 0: all)\n"
	"  --json            a JSON array of events\n"
	"  --db PATH         the database (default " SW_CLI_DEFAULT_DB "). --config is\n"
	"                    not supported yet.\n"
	"\n"
	"exit codes: 0 done (also when nothing matches), 1 the database cannot be\n"
	"read, 2 usage error.\n";

/* "192.0.2.1", "192.0.2.1:5060", "[2001:db8::1]:5060", "2001:db8::1" -> the
 * address alone. */
static int source_addr(const char *s, char *out, size_t cap)
{
	const char *p = s, *end;
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
		if (!end)
			return -1;
	} else {
		const char *colon = strchr(p, ':');
		end = colon && !strchr(colon + 1, ':') ? colon : p + strlen(p);
	}
	size_t n = (size_t)(end - p);
	if (!n || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int cmd_events(int argc, char **argv)
{
	const char *db = SW_CLI_DEFAULT_DB, *cause = NULL, *method = NULL;
	char src[SW_STORE_ADDR_MAX + 1] = "";
	uint64_t since = 0;
	unsigned long limit = 100;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		int r = sw_cli_db_option("events", argc, argv, &i, &db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!v || (strcmp(a, "--since") && strcmp(a, "--cause") && strcmp(a, "--source") &&
			   strcmp(a, "--limit") && strcmp(a, "--method"))) {
			fprintf(stderr, "sipwarden events: unexpected '%s'\n"
					"(see 'sipwarden events --help')\n", a);
			return 2;
		}
		i++;
		enum sw_cause c;
		if (!strcmp(a, "--since") && (sw_duration_parse(v, &since) || !since)) {
			fprintf(stderr, "sipwarden events: '%s' is not a duration like 10m, 2h, 1d\n",
				v);
			return 2;
		} else if (!strcmp(a, "--cause")) {
			if (sw_cause_find(sw_str_from(v, strlen(v)), &c)) {
				fprintf(stderr, "sipwarden events: unknown cause '%s' (see 'sipwarden "
						"causes')\n", v);
				return 2;
			}
			cause = v;
		} else if (!strcmp(a, "--method")) {
			if (!*v || strlen(v) > 32 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") != strlen(v)) {
				fprintf(stderr, "sipwarden events: '%s' is not a SIP method\n", v);
				return 2;
			}
			method = v;
		} else if (!strcmp(a, "--source") && source_addr(v, src, sizeof(src))) {
			fprintf(stderr, "sipwarden events: '%s' is not an address\n", v);
			return 2;
		} else if (!strcmp(a, "--limit") && sw_cli_count(v, 100000000, &limit)) {
			fprintf(stderr, "sipwarden events: '%s' is not a count\n", v);
			return 2;
		}
	}
	struct sw_store *st = sw_cli_store_open("events", db, false);
	if (!st)
		return 1;
	struct sw_event_query q = { .cause = cause, .source_addr = src[0] ? src : NULL, .method = method,
				    .limit = (uint32_t)limit };
	if (since)
		q.since_ms = ((int64_t)time(NULL) - (int64_t)since) * 1000;
	struct sw_cli_list c = { json, 0 };
	if (json)
		fputs("[", stdout);
	int err = sw_store_event_query(st, &q, sw_cli_event_show, &c);
	if (json)
		fputs(c.n ? "\n]\n" : "]\n", stdout);
	else if (!err && !c.n)
		puts("no matching authentication decisions");
	sw_store_close(st);
	if (err) {
		fprintf(stderr, "sipwarden events: %s\n", sw_store_strerror(err));
		return 1;
	}
	return 0;
}
