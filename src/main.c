/* sipwarden — entry point: picks the subcommand. No protocol logic here. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/version.h"
#include "commands.h"


struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "serve", cmd_serve, "run the authenticating SIP registrar and proxy" },
	{ "user", cmd_user, "add, change, disable, delete, list and import subscribers" },
	{ "ban", cmd_ban, "list, add and delete bans of failing and scanning sources" },
	{ "registrations", cmd_registrations, "list the current bindings" },
	{ "calls", cmd_calls, "list the calls in progress and the last ones ended" },
	{ "why", cmd_why, "show why a user's registrations and calls succeed or fail" },
	{ "events", cmd_events, "show the auth decisions the server recorded" },
	{ "check", cmd_check, "register as a client and explain why it fails (the 401 doctor)" },
	{ "analyze", cmd_analyze, "explain every authentication failure in captures and logs" },
	{ "lint", cmd_lint, "check one SIP message and show how it parses" },
	{ "digest", cmd_digest, "compute or check a digest response, name the client's mistake" },
	{ "causes", cmd_causes, "list the causes sipwarden names, or explain one" },
	{ "bench", cmd_bench, "load a SIP registrar or proxy and measure it (REGISTER, OPTIONS, calls)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sipwarden COMMAND [ARGS]\n\n"
		     "Explains why SIP authentication fails.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'sipwarden COMMAND --help' describes each command.\n"
		     "exit codes: those of the command; 2 for a usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sipwarden %s\n", SIPWARDEN_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sipwarden: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
