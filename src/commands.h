/* The subcommands of the sipwarden program; one cmd_<name>.c each.
 * Each returns the process exit code documented in its --help. */
#ifndef SIPWARDEN_COMMANDS_H
#define SIPWARDEN_COMMANDS_H

int cmd_lint(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_digest(int argc, char **argv);
int cmd_causes(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_ban(int argc, char **argv);
int cmd_registrations(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_calls(int argc, char **argv);

#endif
