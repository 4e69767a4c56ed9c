/* Helpers shared by the subcommands (not protocol logic). */
#ifndef SIPWARDEN_CLI_UTIL_H
#define SIPWARDEN_CLI_UTIL_H

#include <stddef.h>
#include "sipwarden/msg.h"

/* Reads a whole file ("-" for standard input) of at most max bytes into a
 * malloc'd buffer (NUL-terminated, not counted in *len). On failure prints
 * the reason to stderr and returns NULL. */
char *sw_cli_read_file(const char *path, size_t max, size_t *len);

/* JSON of a parsed message (see sw_msg_to_json). */
void sw_cli_msg_json(struct sw_buf *b, const struct sw_msg *m, const struct sw_perr *err);

#endif
