/* sipwarden causes [ID] [--json]: look up the causes table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/causes.h"
#include "commands.h"

static const char usage_text[] =
	"usage: sipwarden causes [--json] [ID]\n"
	"\n"
	"Lists every cause sipwarden can name (server, doctor and analyzer share\n"
	"one table), or explains one cause by its id (e.g. wrong-password):\n"
	"severity, who can observe it, what it means and how to fix it. Each fix\n"
	"belongs to one of five classes: verify credentials, refresh credentials,\n"
	"check the network, fix the registration interval, ask the provider.\n"
	"\n"
	"  --json     print JSON: one object for an ID, an array for the list\n"
	"             (keys: id, severity, observers, explanation, fix_class,\n"
	"             fix_class_title, fix)\n"
	"\n"
	"exit codes: 0 success, 1 unknown id, 2 usage error.\n";

static int emit(struct sw_buf *b)
{
	if (sw_buf_status(b)) {
		fprintf(stderr, "sipwarden causes: output too large\n");
		return 2;
	}
	fwrite(b->p, 1, b->len, stdout);
	return 0;
}

int cmd_causes(int argc, char **argv)
{
	bool json = false;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "sipwarden causes: unknown option '%s'\n%s", argv[i], usage_text);
			return 2;
		} else if (!id) {
			id = argv[i];
		} else {
			fprintf(stderr, "sipwarden causes: one id at a time\n%s", usage_text);
			return 2;
		}
	}
	static char mem[65536];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (id) {
		enum sw_cause c;
		if (sw_cause_find(sw_str_from(id, strlen(id)), &c)) {
			fprintf(stderr, "sipwarden causes: no cause '%s' (run 'sipwarden causes' for the list)\n", id);
			return 1;
		}
		if (json) {
			sw_cause_render_json(&b, sw_cause_get(c));
			sw_buf_addc(&b, '\n');
		} else {
			sw_cause_render_text(&b, sw_cause_get(c));
		}
		return emit(&b);
	}
	if (json) {
		sw_causes_render_json(&b);
		sw_buf_addc(&b, '\n');
		return emit(&b);
	}
	for (unsigned i = 0; i < SW_CAUSE__COUNT; i++) {
		const struct sw_cause_info *ci = sw_cause_get((enum sw_cause)i);
		if (!ci)
			continue;
		sw_buf_addf(&b, "%-27s %-8s %s\n", ci->id, sw_severity_name(ci->severity), ci->explain);
	}
	sw_buf_adds(&b, "\n'sipwarden causes ID' shows who sees a cause and how to fix it.\n");
	return emit(&b);
}
