/* The journal sink of the auth decision log: see journal.h. The values come
 * from the event, whose fields the store setter already bounded and cleared
 * of control characters, so every field fits on one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE=journal.c would say nothing */
#include <systemd/sd-journal.h>
#include "sipwarden/causes.h"
#include "sipwarden/registrar.h"
#include "journal.h"

static void add(struct sw_journal_entry *e, size_t *used, const char *name, const char *value)
{
	if (!value[0] || e->n == SW_JOURNAL_MAX_FIELDS)
		return;
	size_t room = sizeof(e->mem) - *used;
	int n = snprintf(e->mem + *used, room, "%s=%s", name, value);
	if (n < 0 || room < strlen(name) + 2)
		return;
	size_t len = (size_t)n < room ? (size_t)n : room - 1; /* cut, without the NUL */
	e->iov[e->n].iov_base = e->mem + *used;
	e->iov[e->n].iov_len = len;
	e->n++;
	*used += len + 1;
}

static int priority(const char *cause_id)
{
	enum sw_cause c;
	if (sw_cause_find(sw_str_from(cause_id, strlen(cause_id)), &c))
		return LOG_WARNING;
	switch (sw_cause_get(c)->severity) {
	case SW_SEV_INFO: return LOG_INFO;
	case SW_SEV_WARNING: return LOG_NOTICE;
	case SW_SEV_ERROR: return LOG_WARNING;
	}
	return LOG_WARNING;
}

void sw__journal_build(struct sw_journal_entry *e, const struct sw_auth_event *ev, const char *message)
{
	size_t used = 0;
	char prio[4], port[8];
	snprintf(prio, sizeof(prio), "%d", priority(ev->cause));
	snprintf(port, sizeof(port), "%u", ev->source_port);
	e->n = 0;
	/* the bounded fields first, MESSAGE (the longest) last among what is
	 * always there, so a cut can only shorten it */
	add(e, &used, "PRIORITY", prio);
	add(e, &used, "SYSLOG_IDENTIFIER", "sipwarden");
	add(e, &used, "CAUSE", ev->cause);
	add(e, &used, "SOURCE", ev->source_addr);
	add(e, &used, "SOURCE_PORT", port);
	add(e, &used, "TRANSPORT", ev->transport);
	add(e, &used, "METHOD", ev->method);
	add(e, &used, "USER", ev->aor[0] ? ev->aor : ev->auth_user);
	add(e, &used, "AUTH_USER", ev->auth_user);
	add(e, &used, "REALM", ev->realm);
	add(e, &used, "USER_AGENT", ev->user_agent);
	add(e, &used, "DETAIL", ev->detail);
	add(e, &used, "MESSAGE", message);
}

int sw__journal_send(const struct sw_journal_entry *e)
{
	return sd_journal_sendv(e->iov, (int)e->n) < 0 ? SW_EIO : 0;
}

int sw__journal_note(const char *message, size_t len)
{
	while (len && (message[len - 1] == '\n' || message[len - 1] == '\r'))
		len--;
	return sd_journal_send("MESSAGE=%.*s", (int)len, message, "PRIORITY=5", "SYSLOG_IDENTIFIER=sipwarden",
			       NULL) < 0
		       ? SW_EIO
		       : 0;
}

bool sw_journal_stream_is(int fd)
{
	/* systemd sets JOURNAL_STREAM=<device>:<inode> of the stream it
	 * connected stdout/stderr to (systemd.exec(5)); a match means fd
	 * still goes there and was not redirected */
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
