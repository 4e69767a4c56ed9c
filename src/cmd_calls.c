/* sipwarden calls: the calls in progress and the last ones ended, from the
 * snapshot a running server writes beside its database (DB-calls.json). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sipwarden/causes.h"
#include "commands.h"
#include "store_cli.h"

static const char usage_text[] =
	"usage: sipwarden calls [--active] [--limit N] [--json] [--db PATH]\n"
	"\n"
	"Lists the calls the proxy forwarded, newest first: caller, callee, state\n"
	"(trying, ringing, established, ended, failed, cancelled), the final status\n"
	"and, for a failed call, the cause with what it means. The server keeps the\n"
	"last 1,024 calls and writes them to DB-calls.json once a second.\n"
	"\n"
	"  --active   only the calls not ended yet\n"
	"  --limit N  at most N calls (default 100; 0: all)\n"
	"  --json     a JSON array of calls\n"
	"  --db PATH  the server's database (default " SW_CLI_DEFAULT_DB ")\n"
	"\n"
	"exit codes: 0 done (also when there is none), 1 the calls cannot be read,\n"
	"2 usage error.\n";

/* The value of "key": a JSON string (escapes kept but for \" and \\) or a
 * number, from one record line written by the server. */
static void field(const char *line, const char *key, char *out, size_t cap)
{
	char pat[40];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(line, pat);
	size_t n = 0;
	if (p) {
		p += strlen(pat);
		if (*p == '"') {
			for (p++; *p && *p != '"' && n + 1 < cap; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				out[n++] = *p;
			}
		} else {
			while ((*p == '-' || (*p >= '0' && *p <= '9')) && n + 1 < cap)
				out[n++] = *p++;
		}
	}
	out[n] = '\0';
}

static void when(long long ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

static void show_text(const char *line)
{
	char caller[600], callee[600], state[32], status[16], cause[64], started[24], answered[24], ended[24];
	field(line, "caller", caller, sizeof(caller));
	field(line, "callee", callee, sizeof(callee));
	field(line, "state", state, sizeof(state));
	field(line, "status", status, sizeof(status));
	field(line, "cause", cause, sizeof(cause));
	field(line, "started_ms", started, sizeof(started));
	field(line, "answered_ms", answered, sizeof(answered));
	field(line, "ended_ms", ended, sizeof(ended));
	char at[32];
	long long s = atoll(started), a = atoll(answered), e = atoll(ended);
	when(s, at, sizeof(at));
	printf("%s  %s -> %s  %s", at, caller, callee, state);
	if (atoi(status) >= 200)
		printf(" (%s)", status);
	if (a && e)
		printf(", talked %.1f s", (double)(e - a) / 1000.0);
	else if (a)
		printf(", talking for %.0f s", (double)time(NULL) - (double)a / 1000.0);
	printf("\n");
	enum sw_cause c;
	if (cause[0] && sw_cause_find(sw_str_from(cause, strlen(cause)), &c) == 0) {
		const struct sw_cause_info *ci = sw_cause_get(c);
		printf("    %s: %s\n    fix: %s\n", ci->id, ci->explain, ci->fix);
	}
}

int cmd_calls(int argc, char **argv)
{
	const char *db = SW_CLI_DEFAULT_DB;
	bool json = false, active = false;
	unsigned long limit = 100;
	for (int i = 1; i < argc; i++) {
		int r = sw_cli_db_option("calls", argc, argv, &i, &db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--active")) {
			active = true;
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			if (sw_cli_count(argv[++i], 100000000, &limit)) {
				fprintf(stderr, "sipwarden calls: '%s' is not a count\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "sipwarden calls: unexpected '%s'\n(see 'sipwarden calls --help')\n", argv[i]);
			return 2;
		}
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s-calls.json", db);
	FILE *f = fopen(path, "r");
	if (!f && errno != ENOENT) {
		fprintf(stderr, "sipwarden calls: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!f) {
		if (json)
			puts("[]");
		else
			printf("no calls recorded (a running server writes %s once a second)\n", path);
		return 0;
	}
	char line[8192];
	unsigned long n = 0;
	if (json)
		fputs("[", stdout);
	while (fgets(line, sizeof(line), f) && (!limit || n < limit)) {
		if (line[0] != '{')
			continue;
		char ended[24];
		field(line, "ended_ms", ended, sizeof(ended));
		if (active && atoll(ended))
			continue;
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == ','))
			line[--len] = '\0';
		if (json)
			printf("%s\n%s", n ? "," : "", line);
		else
			show_text(line);
		n++;
	}
	fclose(f);
	if (json)
		fputs(n ? "\n]\n" : "]\n", stdout);
	else if (!n)
		puts(active ? "no call in progress" : "no calls recorded");
	return 0;
}
