/* What the store's admin commands (user, registrations, why, events) share:
 * the --db option, opening the store, printing rendered records. */
#ifndef SIPWARDEN_STORE_CLI_H
#define SIPWARDEN_STORE_CLI_H

#include <stdbool.h>
#include "sipwarden/store.h"

#define SW_CLI_DEFAULT_DB "./var/sipwarden.db"

/* Opens the sqlite database at path. create: make the parent directories
 * and the file when absent (the user commands); otherwise a missing
 * database is reported. Prints the reason on stderr and returns NULL on
 * failure. cmd names the command in messages ("user"). */
struct sw_store *sw_cli_store_open(const char *cmd, const char *path, bool create);

/* Handles "--db PATH" / "--db=PATH" and "--config FILE" at argv[*i]:
 * returns 1 when consumed (advancing *i), 0 when not one of them, -1 after
 * printing a usage error. */
int sw_cli_db_option(const char *cmd, int argc, char **argv, int *i, const char **db);

/* Writes the buffer to stdout; a record too large for it is reported. */
void sw_cli_put(struct sw_buf *b);

/* Prints events one by one, as text or as the items of a JSON array. */
struct sw_cli_list {
	bool json;
	size_t n;     /* printed so far */
};
int sw_cli_event_show(void *arg, const struct sw_auth_event *ev);

/* Parses a non-negative decimal count (at most max). 0 or -1. */
int sw_cli_count(const char *s, unsigned long max, unsigned long *out);

#endif
