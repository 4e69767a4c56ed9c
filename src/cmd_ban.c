/* sipwarden ban: list, add and delete the bans of the brute-force and
 * scanner defence, in the store; a running server picks changes up within a
 * second. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "sipwarden/ban.h"
#include "sipwarden/store.h"
#include "commands.h"
#include "store_cli.h"

static const char usage_text[] =
	"usage: sipwarden ban list [--json] [--all] [--utc] [--db PATH]\n"
	"       sipwarden ban add ADDR[/PREFIX] [--for DURATION] [--reason TEXT] [--db PATH]\n"
	"       sipwarden ban del ADDR[/PREFIX] [--db PATH]\n"
	"\n"
	"The bans of the brute-force and scanner defence ([ban] in sipwarden.conf(5)).\n"
	"A banned address gets no answer (or 403 with action = 403). The server bans\n"
	"by itself when a limit trips; these commands show and change the bans in\n"
	"the database, and a running server applies the change within a second.\n"
	"Bans survive a restart.\n"
	"\n"
	"  list             the bans in force: network, user (for a ban of one user\n"
	"                   from a shared address), until when, the ban's number for\n"
	"                   this source (repeat offenders get twice the last one), why\n"
	"  --all            also the ended bans still remembered for their level\n"
	"  --json           a JSON array\n"
	"  --utc            times in UTC (default: local time)\n"
	"  add ADDR[/PREFIX]  ban an IPv4 or IPv6 address or network (no host bits\n"
	"                   set past the prefix)\n"
	"  --for DURATION   30s, 10m, 2h, 1d, 1w or seconds (default: until deleted)\n"
	"  --reason TEXT    shown in the list and in the events (default: added by\n"
	"                   the administrator)\n"
	"  del ADDR[/PREFIX]  delete every ban on exactly that address or network\n"
	"                   (the whole address's and each user's); its level too\n"
	"  --db PATH        the database (default " SW_CLI_DEFAULT_DB "). --config is\n"
	"                   not supported yet.\n"
	"\n"
	"exit codes: 0 done, 1 failed (not found for del, database error), 2 usage error.\n";

struct ctx {
	bool json, utc;
	size_t n;
	int64_t now;
};

static int show(void *arg, const struct sw_ban_record *r)
{
	struct ctx *c = arg;
	char mem[2048];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (c->json) {
		sw_buf_adds(&b, c->n ? ",\n  " : "\n  ");
		sw_ban_render_json(&b, r, c->now);
	} else {
		sw_ban_render_text(&b, r, c->now, c->utc);
	}
	c->n++;
	sw_cli_put(&b);
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sipwarden ban: ");
	fprintf(stderr, fmt, arg);
	fputs("\n(see 'sipwarden ban --help')\n", stderr);
	return 2;
}

static int list(struct sw_store *st, bool json, bool all, bool utc)
{
	struct ctx c = { json, utc, 0, (int64_t)time(NULL) };
	if (json)
		fputs("[", stdout);
	int err = sw_store_ban_list(st, all ? 0 : c.now, show, &c);
	if (json)
		fputs(c.n ? "\n]\n" : "]\n", stdout);
	else if (!err && !c.n)
		printf("no bans in force\n");
	return err;
}

static int add(struct sw_store *st, const struct sw_prefix *net, uint64_t seconds, const char *reason)
{
	struct sw_ban_record r;
	memset(&r, 0, sizeof(r));
	sw_prefix_addr_text(net, r.addr, sizeof(r.addr));
	r.prefix = net->bits;
	r.created = (int64_t)time(NULL);
	r.until = seconds ? r.created + (int64_t)seconds : 0;
	SW_STORE_SET(r.reason, sw_str_from(reason, strlen(reason)));
	return sw_store_bans_put(st, &r, 1, NULL, NULL);
}

int cmd_ban(int argc, char **argv)
{
	const char *db = SW_CLI_DEFAULT_DB, *action = NULL, *target = NULL, *duration = NULL;
	const char *reason = "added by the administrator (sipwarden ban add)";
	bool json = false, all = false, utc = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = sw_cli_db_option("ban", argc, argv, &i, &db);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--all")) {
			all = true;
		} else if (!strcmp(a, "--utc")) {
			utc = true;
		} else if (!strcmp(a, "--for") || !strcmp(a, "--reason")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			*(a[2] == 'f' ? &duration : &reason) = argv[++i];
		} else if (a[0] == '-') {
			return usage_error("unknown option '%s'", a);
		} else if (!action) {
			action = a;
		} else if (!target) {
			target = a;
		} else {
			return usage_error("unexpected '%s'", a);
		}
	}
	bool is_list = action && !strcmp(action, "list");
	if (!action || (!is_list && strcmp(action, "add") && strcmp(action, "del")))
		return usage_error("%s", action ? "unknown action: list, add or del"
					       : "missing action: list, add or del");
	if (is_list != !target)
		return usage_error("%s", is_list ? "list takes no address" : "add and del need ADDR[/PREFIX]");
	if ((duration || strcmp(reason, "added by the administrator (sipwarden ban add)")) &&
	    strcmp(action, "add"))
		return usage_error("%s", "--for and --reason go with add");
	if ((json || all) && !is_list)
		return usage_error("%s", "--json and --all go with list");
	struct sw_prefix net;
	if (target && sw_prefix_parse(target, &net))
		return usage_error("'%s' is not an address or network (ADDR or ADDR/BITS, no host bits set)",
				   target);
	uint64_t seconds = 0;
	if (duration && (sw_duration_parse(duration, &seconds) || !seconds))
		return usage_error("'%s' is not a duration (30s, 10m, 2h, 1d, 1w, seconds)", duration);
	struct sw_store *st = sw_cli_store_open("ban", db, !strcmp(action, "add"));
	if (!st)
		return 1;
	int err = 0, rc = 0;
	char shown[80];
	if (target)
		sw_prefix_format(&net, shown, sizeof(shown));
	if (is_list) {
		err = list(st, json, all, utc);
	} else if (!strcmp(action, "add")) {
		err = add(st, &net, seconds, reason);
		if (!err)
			printf("banned %s %s%s\n", shown, duration ? "for " : "until deleted",
			       duration ? duration : "");
	} else {
		char addr[SW_STORE_ADDR_MAX + 1];
		size_t n = 0;
		sw_prefix_addr_text(&net, addr, sizeof(addr));
		err = sw_store_ban_del(st, addr, net.bits, &n);
		if (!err && !n) {
			fprintf(stderr, "sipwarden ban: no ban on %s\n", shown);
			rc = 1;
		} else if (!err) {
			printf("deleted %zu ban%s on %s\n", n, n == 1 ? "" : "s", shown);
		}
	}
	sw_store_close(st);
	if (err) {
		fprintf(stderr, "sipwarden ban: %s\n", sw_store_strerror(err));
		return 1;
	}
	return rc;
}
