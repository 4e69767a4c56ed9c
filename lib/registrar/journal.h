/* The auth decision log in the systemd journal: one entry per decision with
 * its fields (CAUSE=, SOURCE=, USER=, METHOD=...), so that
 * `journalctl -u sipwarden CAUSE=wrong-password` finds them. Used by
 * events.c when sw_registrar_cfg.log_journal is set. */
#ifndef SW_REGISTRAR_JOURNAL_H
#define SW_REGISTRAR_JOURNAL_H

#include <sys/uio.h>
#include "sipwarden/store.h"

#define SW_JOURNAL_MAX_FIELDS 13u

/* The fields of one entry: iov[i] is "NAME=value" (no NUL, no newline)
 * inside mem. */
struct sw_journal_entry {
	char mem[4096]; /* the bounded event fields and a 2 KiB message */
	struct iovec iov[SW_JOURNAL_MAX_FIELDS];
	unsigned n;
};

/* Fills e from an event and its one-line message: MESSAGE, PRIORITY (6 info,
 * 5 notice, 4 warning for a cause of severity info, warning, error),
 * SYSLOG_IDENTIFIER=sipwarden, CAUSE, SOURCE (the address), SOURCE_PORT,
 * TRANSPORT, METHOD, USER (the AOR, else the digest username), AUTH_USER,
 * REALM, USER_AGENT, DETAIL; empty values are left out. The event's fields
 * are bounded and fit; only a MESSAGE of more than 2 KiB would be cut. */
void sw__journal_build(struct sw_journal_entry *e, const struct sw_auth_event *ev, const char *message);
/* Sends e to journald's socket (sd_journal_sendv); 0 or SW_EIO. */
int sw__journal_send(const struct sw_journal_entry *e);
/* A line of the log's own (the bounded log's summaries) as a journal entry
 * of priority notice; a trailing newline is dropped. 0 or SW_EIO. */
int sw__journal_note(const char *message, size_t len);

#endif
